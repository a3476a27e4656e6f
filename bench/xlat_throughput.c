/* xlat_throughput — how fast bt/ translates real 32-bit code.
 *
 * The .text section of a 32-bit ELF file (by default Debian's 32-bit libc
 * from gcc-multilib, about 1.5 MB of gcc-compiled code) is translated block
 * by block in a linear sweep without running anything: a block starts where
 * the previous one ended, so every byte of .text is translated once per
 * pass, padding and all. Each pass starts on an empty code cache, the same
 * memory emptied as the monitor's flush does; the best of several passes is
 * reported, because the first one also pays for page faults on the cache's
 * fresh memory (printed apart: on a VM where page faults are slow it is a
 * third of the steady rate). Before 2026-12-04 every pass made a new cache,
 * so every pass paid for those faults.
 *
 * A second sweep only decodes (the decoder's share of the cost).
 *
 * Times are the process's CPU time, not wall time: the work is single-
 * threaded and CPU-bound, and on a shared machine wall time mostly measures
 * how long the process waited for a CPU (on the 2-vCPU development VM at
 * load 15, wall time gave 0.2-0.6 M instructions/s for what CPU time
 * measures at 4-5 M).
 *
 * Output: a human summary, then one line of key=value pairs starting with
 * "xlat " for bench/run. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/xlat_adapter.h"

static const char *const default_inputs[] = {
    "/usr/lib32/libc.so.6",
    "/lib32/libc.so.6",
    "/usr/lib/i386-linux-gnu/libc.so.6",
};

struct text {
    uint8_t *file;        /* the whole file */
    const uint8_t *code;  /* .text inside it */
    uint32_t addr;        /* .text's link address */
    uint32_t size;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Find .text in a little-endian ELF32 i386 file. */
static int load_text(const char *path, struct text *t, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    t->file = malloc(size > 0 ? (size_t)size : 1);
    if (!t->file || size < 52 || fread(t->file, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    fclose(f);
    const uint8_t *h = t->file;
    if (memcmp(h, "\177ELF", 4) || h[4] != 1 || h[5] != 1 || rd16(h + 18) != 3) {
        snprintf(err, errlen, "%s: not a little-endian ELF32 i386 file", path);
        return -1;
    }
    uint32_t shoff = rd32(h + 32);
    uint16_t shentsize = rd16(h + 46), shnum = rd16(h + 48), shstrndx = rd16(h + 50);
    if (shentsize < 40 || shstrndx >= shnum || shoff + (uint64_t)shnum * shentsize > (uint64_t)size) {
        snprintf(err, errlen, "%s: bad section headers", path);
        return -1;
    }
    const uint8_t *strsh = h + shoff + (size_t)shstrndx * shentsize;
    uint32_t stroff = rd32(strsh + 16), strsize = rd32(strsh + 20);
    if (stroff + (uint64_t)strsize > (uint64_t)size) {
        snprintf(err, errlen, "%s: bad section name table", path);
        return -1;
    }
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = h + shoff + (size_t)i * shentsize;
        uint32_t name = rd32(sh);
        if (name >= strsize || strncmp((const char *)h + stroff + name, ".text", strsize - name) != 0)
            continue;
        uint32_t off = rd32(sh + 16), len = rd32(sh + 20);
        if (off + (uint64_t)len > (uint64_t)size || len == 0) {
            snprintf(err, errlen, "%s: .text lies outside the file", path);
            return -1;
        }
        t->code = h + off;
        t->addr = rd32(sh + 12);
        t->size = len;
        return 0;
    }
    snprintf(err, errlen, "%s: no .text section", path);
    return -1;
}

struct pass {
    double seconds;
    uint64_t blocks, insns, guest_bytes, host_bytes;
};

static bool capstone_only;

static struct xa *make_xa(const struct text *t, char *err, size_t errlen)
{
    struct xa *x = xa_create(t->size, err, errlen);
    if (x && capstone_only)
        xa_capstone_only(x);
    return x;
}

static int translate_pass(struct xa *x, const struct text *t, struct pass *p, unsigned *flushes,
                          char *err, size_t errlen)
{
    xa_empty(x);
    memset(p, 0, sizeof *p);
    double t0 = now();
    for (uint32_t off = 0; off < t->size;) {
        struct xa_block b;
        if (xa_translate(x, t->addr + off, t->code + off, t->size - off, &b, err, errlen) < 0)
            return -1;
        p->blocks++;
        p->insns += b.ninsn;
        p->host_bytes += b.host_len;
        off += b.guest_len ? b.guest_len : 1;
    }
    p->seconds = now() - t0;
    p->guest_bytes = t->size;
    *flushes = xa_flushes(x);
    return 0;
}

static void decode_pass(struct xa *x, const struct text *t, struct pass *p)
{
    memset(p, 0, sizeof *p);
    double t0 = now();
    for (uint32_t off = 0; off < t->size;) {
        unsigned len = xa_decode(x, t->addr + off, t->code + off, t->size - off);
        p->insns++;
        off += len ? len : 1;
    }
    p->seconds = now() - t0;
    p->guest_bytes = t->size;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: xlat-throughput [--passes N] [--capstone-only] [ELF32-FILE]\n"
               "Translates the .text of ELF32-FILE (default: the 32-bit libc) block by block\n"
               "without running it; prints guest instructions per second and host bytes per\n"
               "guest byte. --capstone-only: decode every instruction with Capstone (the\n"
               "decoder's fast path off).\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int passes = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--passes") && i + 1 < argc) {
            passes = atoi(argv[++i]);
            if (passes < 1 || passes > 1000) {
                fprintf(stderr, "xlat-throughput: --passes wants 1..1000\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--capstone-only")) {
            capstone_only = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        for (size_t i = 0; i < sizeof default_inputs / sizeof *default_inputs && !path; i++) {
            FILE *f = fopen(default_inputs[i], "rb");
            if (f) {
                fclose(f);
                path = default_inputs[i];
            }
        }
        if (!path) {
            fprintf(stderr, "xlat-throughput: no 32-bit libc found (install gcc-multilib) "
                            "and no file given\n");
            return 1;
        }
    }

    char err[256];
    struct text t;
    if (load_text(path, &t, err, sizeof err) < 0) {
        fprintf(stderr, "xlat-throughput: %s\n", err);
        return 1;
    }

    struct pass best = { .seconds = 1e30 }, dec = { .seconds = 1e30 }, first = { .seconds = 1e30 }, p;
    unsigned flushes = 0;
    /* One cache for every pass, emptied before each as the monitor's flush
     * does, so only the first pass pays for faults on its fresh memory. */
    struct xa *x = make_xa(&t, err, sizeof err);
    if (!x) {
        fprintf(stderr, "xlat-throughput: %s\n", err);
        return 1;
    }
    for (int i = 0; i < passes; i++) {
        if (translate_pass(x, &t, &p, &flushes, err, sizeof err) < 0) {
            fprintf(stderr, "xlat-throughput: %s\n", err);
            xa_destroy(x);
            return 1;
        }
        if (i == 0)
            first = p;
        if (p.seconds < best.seconds)
            best = p;
        decode_pass(x, &t, &p);
        if (p.seconds < dec.seconds)
            dec = p;
    }

    double ips = best.insns / best.seconds;
    double ratio = (double)best.host_bytes / best.guest_bytes;
    printf("%s: .text %u bytes at %#x, best of %d passes\n", path, t.size, t.addr, passes);
    printf("  translated   %llu blocks, %llu guest instructions in %.3f s (%u cache flushes)\n",
           (unsigned long long)best.blocks, (unsigned long long)best.insns, best.seconds, flushes);
    printf("  throughput   %.2f M guest instructions/s, %.2f MB guest code/s, %.0f ns/block\n",
           ips / 1e6, best.guest_bytes / best.seconds / 1e6, best.seconds / best.blocks * 1e9);
    printf("  first pass   %.2f M guest instructions/s (it also faults in the cache's fresh memory)\n",
           first.insns / first.seconds / 1e6);
    printf("  expansion    %.2f host bytes per guest byte (%llu -> %llu), %.1f guest insns/block\n",
           ratio, (unsigned long long)best.guest_bytes, (unsigned long long)best.host_bytes,
           (double)best.insns / best.blocks);
    printf("  decode only  %.2f M instructions/s (%.0f%% of translation time)\n",
           dec.insns / dec.seconds / 1e6, 100.0 * (dec.seconds / dec.insns) / (best.seconds / best.insns));
    printf("xlat file=%s text_bytes=%u blocks=%llu insns=%llu host_bytes=%llu seconds=%.6f "
           "insns_per_sec=%.0f host_per_guest=%.3f decode_insns_per_sec=%.0f flushes=%u\n",
           path, t.size, (unsigned long long)best.blocks, (unsigned long long)best.insns,
           (unsigned long long)best.host_bytes, best.seconds, ips, ratio,
           dec.insns / dec.seconds, flushes);
    xa_destroy(x);
    free(t.file);
    return 0;
}
