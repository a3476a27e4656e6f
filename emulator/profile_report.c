/* profile_report — the samples mapped to guest functions (the kernel's
 * ELF symbol table: SHT_SYMTAB, STT_FUNC, System V gABI) and the report:
 * the split by phase, callouts by kind, signals by kind, the hottest guest
 * functions and blocks (with their host/guest code size), and folded
 * stacks ("frame;frame count" lines, the input of flamegraph.pl and
 * speedscope). */
#define _GNU_SOURCE
#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/profile.h"
#include "emulator/profile_int.h"
#include "decoder/decoder.h"

#define TOP 15

struct sym {
    uint32_t addr, size;
    char name[48];
};

struct syms {
    struct sym *v;
    size_t n;
};

static int sym_cmp(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The functions of a 32-bit ELF file; none if it is something else. */
static void load_syms(const char *path, struct syms *out)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    Elf32_Ehdr eh;
    Elf32_Shdr *sh = NULL;

    out->v = NULL;
    out->n = 0;
    if (!f)
        return;
    if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
        || eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_shentsize != sizeof(Elf32_Shdr)
        || eh.e_shnum == 0 || eh.e_shnum > 4096)
        goto out;
    sh = calloc(eh.e_shnum, sizeof *sh);
    if (!sh || fseek(f, (long)eh.e_shoff, SEEK_SET) != 0 || fread(sh, sizeof *sh, eh.e_shnum, f) != eh.e_shnum)
        goto out;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf32_Shdr *st = &sh[i], *str;
        size_t nsym = st->sh_size / sizeof(Elf32_Sym);
        char *strtab;
        if (st->sh_type != SHT_SYMTAB || st->sh_link >= eh.e_shnum || nsym > (1u << 20))
            continue;
        str = &sh[st->sh_link];
        if (str->sh_size > (64u << 20) || !(strtab = calloc(1, str->sh_size + 1)))
            continue;
        if (fseek(f, (long)str->sh_offset, SEEK_SET) == 0 && fread(strtab, 1, str->sh_size, f) == str->sh_size
            && (out->v = calloc(nsym, sizeof *out->v)) && fseek(f, (long)st->sh_offset, SEEK_SET) == 0) {
            for (size_t k = 0; k < nsym; k++) {
                Elf32_Sym s;
                if (fread(&s, sizeof s, 1, f) != 1)
                    break;
                if (ELF32_ST_TYPE(s.st_info) != STT_FUNC || s.st_name >= str->sh_size)
                    continue;
                out->v[out->n].addr = s.st_value;
                out->v[out->n].size = s.st_size;
                snprintf(out->v[out->n].name, sizeof out->v[out->n].name, "%s", strtab + s.st_name);
                out->n++;
            }
        }
        free(strtab);
        break;
    }
    qsort(out->v, out->n, sizeof *out->v, sym_cmp);
out:
    free(sh);
    fclose(f);
}

/* The function holding eip, as NAME or the address. */
static const char *sym_name(const struct syms *s, uint32_t eip, char *buf, size_t len)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {           /* the last symbol at or below eip */
        size_t mid = (lo + hi) / 2;
        if (s->v[mid].addr <= eip)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && eip < s->v[lo - 1].addr + (s->v[lo - 1].size ? s->v[lo - 1].size : 1u << 20))
        return s->v[lo - 1].name;
    snprintf(buf, len, "0x%08x", eip);
    return buf;
}

const char *profile_kind_name(int kind, int sub, char *buf, size_t len)
{
    static const char *const names[] = { "monitor", "dispatcher", "callout-stub", "translation",
                                         "signal", "translated-code", "callout" };
    if (kind == PROF_SIGNAL && sub >= 0)
        snprintf(buf, len, "signal:%s", sigabbrev_np(sub) ? sigabbrev_np(sub) : "?");
    else if (kind == SAMPLE_CALLOUT && sub >= 0)
        snprintf(buf, len, "callout:%s", insn_kind_name((enum insn_kind)sub));
    else
        snprintf(buf, len, "%s", kind <= SAMPLE_CALLOUT ? names[kind] : "?");
    return buf;
}

/* ---- counting by key ---------------------------------------------------------- */

struct bucket {
    char key[96];
    size_t count;
    uint32_t eip, guest_len, host_len;
};

struct table {
    struct bucket *b;
    size_t n, cap;
};

static struct bucket *bump(struct table *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->b[i].key, key) == 0) {
            t->b[i].count++;
            return &t->b[i];
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct bucket *nb = realloc(t->b, cap * sizeof *nb);
        if (!nb)
            return NULL;
        t->b = nb;
        t->cap = cap;
    }
    memset(&t->b[t->n], 0, sizeof t->b[t->n]);
    snprintf(t->b[t->n].key, sizeof t->b[t->n].key, "%s", key);
    t->b[t->n].count = 1;
    return &t->b[t->n++];
}

static int by_count(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->key, y->key);
}

static void print_table(FILE *f, const char *title, struct table *t, size_t total, size_t top)
{
    qsort(t->b, t->n, sizeof *t->b, by_count);
    fprintf(f, "\n%s\n", title);
    for (size_t i = 0; i < t->n && i < top; i++)
        fprintf(f, "  %8zu  %5.1f%%  %s\n", t->b[i].count, 100.0 * (double)t->b[i].count / (double)total,
                t->b[i].key);
}

void profile_report(FILE *f, FILE *folded, const struct prof_run *r, const char *kernel)
{
    struct syms syms;
    struct table split = { 0 }, funcs = { 0 }, blocks = { 0 }, stacks = { 0 };
    char kind[48], fn[64], key[160];
    size_t total = r->n ? r->n : 1;

    load_syms(kernel, &syms);
    for (size_t i = 0; i < r->n; i++) {
        const struct prof_sample *s = &r->s[i];
        bool guest = s->kind == SAMPLE_CODE || s->kind == SAMPLE_CALLOUT;
        profile_kind_name(s->kind, s->sub, kind, sizeof kind);
        bump(&split, kind);
        if (guest) {
            const char *name = sym_name(&syms, s->eip, fn, sizeof fn);
            snprintf(key, sizeof key, "%s", name);
            bump(&funcs, key);
            snprintf(key, sizeof key, "bt86;guest;%s;%s", name, kind);
        } else {
            snprintf(key, sizeof key, "bt86;monitor;%s", kind);
        }
        bump(&stacks, key);
        if (s->kind == SAMPLE_CODE) {
            struct bucket *b;
            snprintf(key, sizeof key, "0x%08x", s->eip);
            if ((b = bump(&blocks, key))) {
                b->eip = s->eip;
                b->guest_len = s->guest_len;
                b->host_len = s->host_len;
            }
        }
    }
    fprintf(f, "bt86 profile: %zu samples, one per %u us of host CPU time (or per kernel tick)%s\n", r->n, r->interval_us,
            r->dropped ? " (buffer full: later samples dropped)" : "");
    fprintf(f, "wall %.3f s: host CPU %.3f s, idle in guest HLT %.3f s, other (waiting for the host"
               " CPU, monitor stops) %.3f s\n", r->wall_s, r->cpu_s, r->idle_s,
            r->wall_s > r->cpu_s + r->idle_s ? r->wall_s - r->cpu_s - r->idle_s : 0.0);
    fprintf(f, "guest symbols: %zu functions from %s\n", syms.n, kernel ? kernel : "(none)");
    print_table(f, "where the host CPU time goes (translated-code: guest blocks; callout:KIND: the monitor"
                   " serving an instruction; signal:SIG: host signal handlers):", &split, total, 64);
    print_table(f, "hottest guest functions (translated code and its callouts):", &funcs, total, TOP);
    qsort(blocks.b, blocks.n, sizeof *blocks.b, by_count);
    fprintf(f, "\nhottest guest blocks:\n  %8s  %6s  %-10s  %6s  %6s  %6s  %s\n", "samples", "share", "eip",
            "guest", "host", "ratio", "function");
    for (size_t i = 0; i < blocks.n && i < TOP; i++) {
        const struct bucket *b = &blocks.b[i];
        fprintf(f, "  %8zu  %5.1f%%  0x%08x  %6u  %6u  %6.2f  %s\n", b->count,
                100.0 * (double)b->count / (double)total, b->eip, b->guest_len, b->host_len,
                b->guest_len ? (double)b->host_len / b->guest_len : 0.0, sym_name(&syms, b->eip, fn, sizeof fn));
    }
    qsort(stacks.b, stacks.n, sizeof *stacks.b, by_count);
    for (size_t i = 0; i < stacks.n; i++)
        fprintf(folded, "%s %zu\n", stacks.b[i].key, stacks.b[i].count);
    free(split.b);
    free(funcs.b);
    free(blocks.b);
    free(stacks.b);
    free(syms.v);
}
