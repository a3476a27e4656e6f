/* seq — item list, labels and the two-part layout (see seq.h). */
#include <string.h>
#include "seq.h"

void seq_init(struct seq *s) {
    s->n = 0; s->nlab = 0; s->nptr = 0;
}

int seq_label(struct seq *s, int part) {
    if (s->nlab >= SEQ_LABELS) return -1;
    s->lab[s->nlab] = (struct label){ -1, (uint8_t)part };
    return s->nlab++;
}

int seq_label_new(struct seq *s) {
    int l = seq_label(s, 0);
    if (l >= 0) s->lab[l].item = -3;
    return l;
}

int seq_label_end(struct seq *s, int part) {
    int l = seq_label(s, part);
    if (l >= 0) s->lab[l].item = -2;
    return l;
}

void seq_bind(struct seq *s, int l, int part) {
    s->lab[l] = (struct label){ -1, (uint8_t)part };
}

struct item *seq_add(struct seq *s, int part, const uint8_t *b, int len) {
    if (s->n >= SEQ_MAX) return NULL;
    struct item *it = &s->it[s->n];
    memset(it, 0, sizeof *it);
    memcpy(it->b, b, len);
    it->len = len;
    it->part = part;
    it->target = -1;
    it->abs_target = -1;
    /* Labels waiting at the end of this part now point here. */
    for (int l = 0; l < s->nlab; l++)
        if (s->lab[l].item == -1 && s->lab[l].part == part) s->lab[l].item = s->n;
    s->n++;
    return it;
}

void seq_delete(struct seq *s, int i) {
    int part = s->it[i].part, next = -1;
    for (int j = i + 1; j < s->n; j++)
        if (s->it[j].part == part) { next = j; break; }
    for (int l = 0; l < s->nlab; l++) {
        if (s->lab[l].item == i) s->lab[l].item = next < 0 ? -2 : next;
        if (s->lab[l].item > i) s->lab[l].item--;
    }
    memmove(&s->it[i], &s->it[i + 1], (s->n - i - 1) * sizeof s->it[0]);
    s->n--;
}

bool seq_assemble(const struct seq *s, struct dt_case *c) {
    uint32_t addr[SEQ_MAX], end[SEQ_PARTS], pc = DT_CODE;
    for (int part = 0; part < SEQ_PARTS; part++) {
        for (int i = 0; i < s->n; i++)
            if (s->it[i].part == part) { addr[i] = pc; pc += s->it[i].len; }
        end[part] = pc;
        if (part == 0) pc += 1;                       /* the HLT at the stop address */
    }
    if (pc > SEQ_PTR_AREA) return false;
    uint32_t lab[SEQ_LABELS];
    for (int l = 0; l < s->nlab; l++) {
        if (s->lab[l].item == -3) return false;
        lab[l] = s->lab[l].item < 0 ? end[s->lab[l].part] : addr[s->lab[l].item];
    }

    uint8_t *code = c->in.mem + dt_mem_index(DT_CODE);
    for (int i = 0; i < s->n; i++) {
        const struct item *it = &s->it[i];
        uint8_t b[15];
        memcpy(b, it->b, it->len);
        if (it->rel_size) {
            if (it->target < 0 || it->target >= s->nlab) return false;
            int64_t d = (int64_t)lab[it->target] - (addr[i] + it->len);
            uint8_t *p = b + it->len - it->rel_size;
            if (it->rel_size == 1) {
                if (d < -128 || d > 127) return false;
                p[0] = (uint8_t)d;
            } else {
                int32_t d32 = (int32_t)d;
                memcpy(p, &d32, 4);
            }
        }
        if (it->abs_target >= 0) memcpy(b + it->abs_off, &lab[it->abs_target], 4);
        memcpy(code + (addr[i] - DT_CODE), b, it->len);
    }
    code[end[0] - DT_CODE] = 0xf4;                    /* HLT: ran past the stop address */
    for (int k = 0; k < s->nptr; k++)
        memcpy(code + (SEQ_PTR_AREA - DT_CODE) + 4 * k, &lab[s->ptr_label[k]], 4);
    c->main_len = end[0] - DT_CODE;
    c->code_len = pc - DT_CODE;
    return true;
}
