/* corpus — the regression case file format (tests/diff/cases/NAME.txt):
 *
 *   # comment lines (the assembly, the bug)
 *   regs eax=00000000 ecx=... edi=... eflags=00000202
 *   fill 1f2e3d4c5b6a7988        dt_fill() seed of memory and FPU (0: zeros)
 *   code 0f a3 03 ...            the bytes before the stop address
 *   tail c3 ...                  bytes after the stop address's HLT (functions)
 *   mem 00020010 01 02 03        patches over the fill (any number)
 *   fx 0020 00 00 ...            patches of the FXSAVE image
 *
 * The expected result is not stored: Unicorn recomputes it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "run.h"

static const char *const gpr_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

static int hexbytes(const char *p, uint8_t *out, int max) {
    int n = 0;
    while (*p && n < max) {
        while (isspace((unsigned char)*p)) p++;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) break;
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = v;
        p += 2;
    }
    return n;
}

/* The background a file's patches apply to. */
static void base_image(struct dt_case *c, const uint8_t *code, int ncode, const uint8_t *tail, int ntail) {
    dt_fill(&c->in, c->fill_seed);
    uint8_t *cr = c->in.mem + dt_mem_index(DT_CODE);
    memcpy(cr, code, ncode);
    cr[ncode] = 0xf4;
    memcpy(cr + ncode + 1, tail, ntail);
    c->main_len = ncode;
    c->code_len = ncode + 1 + ntail;
}

bool corpus_load(const char *path, struct dt_case *c, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "cannot open %s", path); return false; }
    static uint8_t code[DT_CODE_SIZE], tail[DT_CODE_SIZE], buf[DT_CODE_SIZE];
    int ncode = 0, ntail = 0;
    char line[16384];
    memset(c, 0, sizeof *c);
    c->in.eflags = 2;
    /* Pass 1: regs, fill, code, tail; pass 2: patches. */
    for (int pass = 0; pass < 2; pass++) {
        rewind(f);
        if (pass == 1) base_image(c, code, ncode, tail, ntail);
        while (fgets(line, sizeof line, f)) {
            if (line[0] == '#' || line[0] == '\n') continue;
            if (pass == 0 && !strncmp(line, "regs ", 5)) {
                for (int i = 0; i < 8; i++) {
                    char key[8]; snprintf(key, sizeof key, "%s=", gpr_names[i]);
                    char *p = strstr(line, key);
                    if (p) c->in.gpr[i] = strtoul(p + 4, NULL, 16);
                }
                char *p = strstr(line, "eflags=");
                if (p) c->in.eflags = strtoul(p + 7, NULL, 16);
            } else if (pass == 0 && !strncmp(line, "fill ", 5)) {
                c->fill_seed = strtoull(line + 5, NULL, 16);
            } else if (pass == 0 && !strncmp(line, "code ", 5)) {
                ncode = hexbytes(line + 5, code, sizeof code);
            } else if (pass == 0 && !strncmp(line, "tail ", 5)) {
                ntail = hexbytes(line + 5, tail, sizeof tail);
            } else if (pass == 1 && (!strncmp(line, "mem ", 4) || !strncmp(line, "fx ", 3))) {
                bool fx = line[0] == 'f';
                char *p;
                uint32_t a = strtoul(line + (fx ? 3 : 4), &p, 16);
                int n = hexbytes(p, buf, sizeof buf);
                for (int i = 0; i < n; i++) {
                    if (fx) { if (a + i < 512) c->in.fx[a + i] = buf[i]; continue; }
                    long k = dt_mem_index(a + i);
                    if (k < 0) { snprintf(err, errlen, "%s: mem %08x not mapped", path, a + i); fclose(f); return false; }
                    c->in.mem[k] = buf[i];
                }
            }
        }
    }
    fclose(f);
    if (!ncode) { snprintf(err, errlen, "%s: no code", path); return false; }
    if (ncode + 1 + ntail > (int)DT_CODE_SIZE) { snprintf(err, errlen, "%s: code too long", path); return false; }
    return true;
}

static void put_hex(FILE *f, const uint8_t *b, int n) {
    for (int i = 0; i < n; i++) fprintf(f, " %02x", b[i]);
    fputc('\n', f);
}

bool corpus_save(const char *path, const struct dt_case *c, const char *comment) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f, "# bt86-difftest case\n");
    for (const char *p = comment; p && *p;) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        fprintf(f, "#%s%.*s\n", n ? " " : "", n, p);
        p = e ? e + 1 : p + n;
    }
    fprintf(f, "regs");
    for (int i = 0; i < 8; i++) fprintf(f, " %s=%08x", gpr_names[i], c->in.gpr[i]);
    fprintf(f, " eflags=%08x\n", c->in.eflags);
    const uint8_t *cr = c->in.mem + dt_mem_index(DT_CODE);
    int ntail = c->code_len > c->main_len + 1 ? c->code_len - c->main_len - 1 : 0;
    /* Patches against the case's own fill, or against zeros if the shrinker
     * cleared most of it: whichever is shorter. */
    static struct dt_case base;
    size_t best = SIZE_MAX;
    uint64_t seed = c->fill_seed;
    for (int k = 0; k < 2; k++) {
        base = *c;
        base.fill_seed = k ? 0 : c->fill_seed;
        base_image(&base, cr, c->main_len, cr + c->main_len + 1, ntail);
        size_t d = 0;
        for (size_t i = 0; i < DT_MEM_BYTES; i++) d += base.in.mem[i] != c->in.mem[i];
        for (size_t i = 0; i < 512; i++) d += base.in.fx[i] != c->in.fx[i];
        if (d < best) { best = d; seed = base.fill_seed; }
    }
    base = *c;
    base.fill_seed = seed;
    base_image(&base, cr, c->main_len, cr + c->main_len + 1, ntail);
    fprintf(f, "fill %016llx\n", (unsigned long long)seed);
    fprintf(f, "code"); put_hex(f, cr, c->main_len);
    if (ntail) { fprintf(f, "tail"); put_hex(f, cr + c->main_len + 1, ntail); }
    for (int r = 0; r < DT_NREGIONS; r++) {
        const struct dt_region *g = &dt_regions[r];
        for (uint32_t i = 0; i < g->size;) {
            if (c->in.mem[g->off + i] == base.in.mem[g->off + i]) { i++; continue; }
            uint32_t j = i;
            while (j < g->size && j - i < 32 && c->in.mem[g->off + j] != base.in.mem[g->off + j]) j++;
            fprintf(f, "mem %08x", g->base + i);
            put_hex(f, c->in.mem + g->off + i, j - i);
            i = j;
        }
    }
    for (int i = 0; i < 512;) {
        if (c->in.fx[i] == base.in.fx[i]) { i++; continue; }
        int j = i;
        while (j < 512 && j - i < 32 && c->in.fx[j] != base.in.fx[j]) j++;
        fprintf(f, "fx %04x", i);
        put_hex(f, c->in.fx + i, j - i);
        i = j;
    }
    fclose(f);
    return true;
}
