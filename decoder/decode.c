/* decode_insn: Capstone plus what the translator needs and Capstone 4.0.2
 * gets wrong.
 *
 *   1. Scan the legacy prefixes: operand size, address size, segment, REP
 *      and LOCK come from the bytes, never from Capstone (prefix.c).
 *   2. Hand Capstone the bytes with the prefixes in an order it decodes
 *      right (prefix.c explains the bugs this avoids). A few encodings
 *      Capstone rejects or mislays are measured without it (fallback.c).
 *   3. If Capstone rejects the bytes, tell "invalid" (-1) from "the bytes
 *      end too early to tell" (-2) by padding them out.
 *   4. Lay the instruction out from the bytes (layout.c), look its id up in
 *      the table (table.c), refine by opcode and operands and reject what
 *      an i686 rejects but Capstone accepts (refine.c).
 *
 * Capstone formats the text of every instruction it decodes (about 280 ns
 * each, measured with bench/xlat_throughput, and no option turns that off),
 * so step 2 is skipped for the common opcodes: fast.c gives the length, id
 * and ModRM offset Capstone would (checked against it in the tests), and
 * steps 1 and 4 are the same for both routes. One cs_insn, allocated with
 * cs_malloc(), is reused for every Capstone call. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "decoder/decoder_impl.h"

struct decoder *decoder_create(void)
{
    struct decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &d->cs) != CS_ERR_OK) {
        free(d);
        return NULL;
    }
    cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
    d->ci = cs_malloc(d->cs);
    if (!d->ci) {
        cs_close(&d->cs);
        free(d);
        return NULL;
    }
    return d;
}

void decoder_destroy(struct decoder *d)
{
    if (!d)
        return;
    cs_free(d->ci, 1);
    cs_close(&d->cs);
    free(d);
}

static bool cs_decode(struct decoder *d, const uint8_t *b, size_t n, uint32_t eip)
{
    const uint8_t *p = b;
    size_t size = n;
    uint64_t addr = eip;
    return cs_disasm_iter(d->cs, &p, &size, &addr, d->ci);
}

/* Capstone rejected canon[0..n), n < 15. Would more bytes make it valid?
 * Yes if the opcode itself is incomplete, or if padding the bytes out gives
 * a longer valid instruction. When the ModRM byte is the first one missing,
 * its reg and mod fields decide validity for group opcodes (0F C7 /1, FF /x,
 * C6 /0, ...), so each reg value is tried with a memory and a register mod. */
static bool truncated(struct decoder *d, const uint8_t *canon, size_t n, const struct prefixes *p)
{
    size_t need = p->n + 1;
    if (canon[p->n] == 0x0f) {
        need++;
        if (n > p->n + 1u && (canon[p->n + 1] == 0x38 || canon[p->n + 1] == 0x3a))
            need++;
    }
    if (n < need)
        return true;

    uint8_t buf[X86_MAX_INSN_LEN] = { 0 };
    memcpy(buf, canon, n);
    if (cs_decode(d, buf, sizeof buf, 0) && d->ci->size > n)
        return true;
    if (n == need) {
        for (unsigned m = 0; m < 16; m++) {
            buf[n] = (uint8_t)((m & 8 ? 0xc0 : 0x00) | (m & 7) << 3);
            if (cs_decode(d, buf, sizeof buf, 0) && d->ci->size > n)
                return true;
        }
    }
    return false;
}

/* The prefixes and the opcode bytes (0F, 0F 38/3A escapes included) of
 * rejected bytes, as far as they go: what an error report shows. */
static size_t opcode_end(const uint8_t *b, size_t n, const struct prefixes *p)
{
    size_t end = p->n + 1u;
    if (b[p->n] == 0x0f && end < n)
        end += 1u + (b[end] == 0x38 || b[end] == 0x3a);
    return end < n ? end : n;
}

/* Turns *out into a K_INVALID report of len bytes (at least 1). */
static int reject(struct insn *out, const uint8_t *code, size_t len)
{
    if (len == 0)
        len = 1;
    if (out->len == 0) {
        out->len = (uint8_t)len;
        memcpy(out->bytes, code, len);
    }
    out->glen = out->len;
    out->kind = K_INVALID;
    out->cls = CLS_INVALID;
    out->flags = INSN_F_ENDS_BLK | (out->flags & (INSN_F_MEM | INSN_F_ADDR16 | INSN_F_DISP32_ONLY));
    out->flags_read = out->flags_written = 0;
    return -1;
}

/* An explicit ESP/SP destination operand (not the implicit ESP of PUSH). */
static bool writes_sp(const cs_insn *ci)
{
    const cs_x86 *x = &ci->detail->x86;
    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type == X86_OP_REG && (op->access & CS_AC_WRITE) &&
            (op->reg == X86_REG_ESP || op->reg == X86_REG_SP))
            return true;
    }
    return false;
}

int decode_insn(struct decoder *d, const uint8_t *code, size_t avail, uint32_t eip,
                struct insn *out)
{
    size_t n = avail < X86_MAX_INSN_LEN ? avail : X86_MAX_INSN_LEN;
    uint8_t canon[X86_MAX_INSN_LEN];
    struct prefixes p;
    int len, modrm_off = -1;
    unsigned id, fallback;
    bool have_detail;

    memset(out, 0, sizeof *out);
    out->eip = eip;
    out->seg = SEG_NONE;
    if (n == 0)
        return -2;

    prefixes_scan(code, n, &p);
    out->npfx = p.n;
    out->opsize = p.opsize;
    out->addrsize = p.addrsize;
    out->rep = p.rep;
    out->seg = p.seg;
    if (p.lock)
        out->flags |= INSN_F_LOCK;
    if (p.n == n)                                   /* nothing but prefixes */
        return n < X86_MAX_INSN_LEN ? -2 : reject(out, code, n);

    struct fast_result fr;
    bool wsp = false;
    if (!d->no_fast && fast_match(code, n, &p, &fr)) {
        len = fr.len;
        id = fr.id;
        modrm_off = fr.modrm_off;
        wsp = fr.writes_sp;
        have_detail = false;
        goto classify;
    }
    prefixes_canonical(code, n, &p, canon);

    fallback = n >= p.n + 2u ? fallback_match(canon, n, &p) : X86_INS_INVALID;
    if (fallback != X86_INS_INVALID) {
        len = fallback_length(canon, n, &p);
        if (len == -2)
            return -2;
        if (len == 0)
            return reject(out, code, n);
        modrm_off = p.n + 2;
        /* Capstone's id (PREFETCHh, ENDBR32, ...) when it agrees on the
         * length and names an instruction of the table. */
        have_detail = cs_decode(d, canon, (size_t)len, eip) && d->ci->size == len &&
                      table_row(d->ci->id)->kind != K_INVALID;
        id = have_detail ? d->ci->id : fallback;
    } else if (cs_decode(d, canon, n, eip)) {
        len = d->ci->size;
        id = d->ci->id;
        have_detail = true;
        if (d->ci->detail->x86.encoding.modrm_offset)
            modrm_off = d->ci->detail->x86.encoding.modrm_offset;
    } else {
        if (n < X86_MAX_INSN_LEN && truncated(d, canon, n, &p))
            return -2;
        return reject(out, code, opcode_end(canon, n, &p));
    }

    if (have_detail)
        wsp = writes_sp(d->ci);
classify:
    out->len = (uint8_t)len;
    out->glen = (uint8_t)len;
    out->id = (uint16_t)id;
    memcpy(out->bytes, code, (size_t)len);
    enum opmap map = layout_fill(out, modrm_off);

    const struct insn_row *row = table_row(id);
    if (row->flags & R_REFINE)
        row = refine_row(row, out, map);
    out->kind = row->kind;
    out->cls = row->cls;
    out->flags |= row->flags & ~R_INTERNAL;
    out->flags_read = row->fr;
    out->flags_written = row->fw;
    if (!refine_valid(out, map, row->flags))
        return reject(out, code, (size_t)len);
    refine_insn(out, map, row->flags);
    if (wsp)
        out->flags |= INSN_F_WRITES_SP;
    return 0;
}

void decoder_use_fast(struct decoder *d, bool on)
{
    d->no_fast = !on;
}

void insn_format(struct decoder *d, const struct insn *in, char *buf, size_t len)
{
    uint8_t canon[X86_MAX_INSN_LEN];
    struct prefixes p;
    bool ok = false;

    if (len == 0)
        return;
    if (in->len > 0 && in->len <= X86_MAX_INSN_LEN) {
        prefixes_scan(in->bytes, in->len, &p);
        prefixes_canonical(in->bytes, in->len, &p, canon);
        ok = cs_decode(d, canon, in->len, in->eip) && d->ci->size == in->len;
    }
    const char *bad = in->kind == K_INVALID ? "(bad)" : "";
    if (ok)
        snprintf(buf, len, "%s%s%s%s%s", bad, *bad ? " " : "", d->ci->mnemonic,
                 d->ci->op_str[0] ? " " : "", d->ci->op_str);
    else if (in->kind == K_INVALID)
        snprintf(buf, len, "(bad)");
    else
        snprintf(buf, len, "%s", cs_insn_name(d->cs, in->id)); /* hint NOPs, UD1/UD0 */
}
