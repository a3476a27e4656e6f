/* bt86-fuzz — the random-kernel fuzzer (DESIGN §8).
 *
 *   bt86-fuzz --bt86 PATH --seed S --count N [--kind insns|bytes|io|diff|mixed]
 *             [--jobs J] [--cpu-ms MS] [--wall-s S] [--save DIR] [--verbose]
 *   bt86-fuzz --bt86 PATH --malformed FILE... [--seed S --count N]
 *   bt86-fuzz --write SEED FILE [--kind K]      one kernel, to reproduce
 *
 * Every kernel runs as `bt86 --verify -m 16 -serial null KERNEL` under a
 * CPU-time limit. A monitor crash (signal), an internal error, a verifier
 * rejection, a host-time timeout, a bad-option status, and for generated
 * kernels a refusal to load, are failures: each is printed with the seed
 * and the command that reproduces it. With --kind diff every kernel that
 * Unicorn can run the same way is also compared against it (unicorn.h);
 * a mismatch is a failure. "Not supported" stops are counted in
 * their own classes. Ends with the table of outcome classes (also when
 * stopped early by SIGINT/SIGTERM); exit status 1 iff anything failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "malformed.h"
#include "run.h"
#include "unicorn.h"

#define MAX_CLASSES 256

struct tally {
    char name[MAX_CLASSES][96];
    long count[MAX_CLASSES];
    bool fail[MAX_CLASSES];
    int n;
    long total, failures, unsupported;
    long uni_match, uni_mismatch, uni_nc;   /* diff kernels against Unicorn */
};

struct fuzz {
    uint64_t seed;
    int kind;                   /* -1 mixed */
    const char *save, *bt86;
    bool verbose;
    /* --malformed */
    const char *const *files;
    int nfiles;
    uint8_t *src[32], *dst;
    size_t srclen[32];
    char what[160];
    struct tally t;
    struct image im;
};

static void tally_add(struct tally *t, const char *cls, bool fail)
{
    if (++t->total % 1000 == 0) {   /* soak progress */
        fprintf(stderr, "bt86-fuzz: %ld kernels, %ld failures\n", t->total, t->failures);
    }
    t->failures += fail;
    t->unsupported += !strncmp(cls, "unsupported", 11);
    for (int k = 0; k < t->n; k++)
        if (!strcmp(t->name[k], cls)) { t->count[k]++; return; }
    if (t->n == MAX_CLASSES) return;
    snprintf(t->name[t->n], sizeof t->name[0], "%s", cls);
    t->count[t->n] = 1;
    t->fail[t->n++] = fail;
}

static void tally_print(struct tally *t)
{
    int ord[MAX_CLASSES];
    for (int k = 0; k < t->n; k++) ord[k] = k;
    for (int i = 1; i < t->n; i++)            /* by count, descending */
        for (int j = i; j > 0 && t->count[ord[j]] > t->count[ord[j - 1]]; j--) {
            int x = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = x;
        }
    printf("%8s %7s  outcome class\n", "kernels", "share");
    for (int i = 0; i < t->n; i++) {
        int k = ord[i];
        printf("%8ld %6.2f%%  %s%s\n", t->count[k], 100.0 * t->count[k] / (double)t->total, t->name[k],
               t->fail[k] ? "   <<< FAILURE" : "");
    }
    printf("%ld kernels, %ld failures, %ld stopped on \"not supported\" (%.2f%%)\n", t->total, t->failures,
           t->unsupported, t->total ? 100.0 * t->unsupported / (double)t->total : 0.0);
    if (t->uni_match + t->uni_mismatch + t->uni_nc)
        printf("Unicorn: %ld compared, %ld matched, %ld mismatched; %ld not comparable\n",
               t->uni_match + t->uni_mismatch, t->uni_match, t->uni_mismatch, t->uni_nc);
}

static bool make_kernel(void *ctx, long i, const char *path)
{
    struct fuzz *f = ctx;
    struct kernel_desc d;
    kernel_build(f->seed + (uint64_t)i, f->kind, &f->im, &d);
    return img_write(&f->im, d.elf, path);
}

static bool make_malformed(void *ctx, long i, const char *path)
{
    struct fuzz *f = ctx;
    int k = (int)(i % f->nfiles);
    size_t n = malformed_make(f->src[k], f->srclen[k], f->seed, i / f->nfiles, f->dst, f->what, sizeof f->what);
    FILE *o = fopen(path, "wb");
    if (!o) return false;
    bool ok = fwrite(f->dst, 1, n, o) == n;
    return (fclose(o) == 0) && ok;
}

static void save_copy(const struct fuzz *f, const char *path, const char *name)
{
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", f->save, name);
    FILE *a = fopen(path, "rb"), *b = fopen(dst, "wb");
    if (a && b) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
        printf("  saved %s\n", dst);
    }
    if (a) fclose(a);
    if (b) fclose(b);
}

static void done_kernel(void *ctx, long i, const char *path, const struct outcome *o)
{
    struct fuzz *f = ctx;
    char cls[160];
    bool fail = classify(o, cls, sizeof cls);
    char uni[400] = "";
    if (!strcmp(cls, "bad kernel file")) fail = true;        /* the generator's own files load */
    uint64_t seed = f->seed + (uint64_t)i;
    if (f->kind == BODY_DIFF && !fail && strncmp(cls, "unsupported", 11) && strcmp(cls, "cpu limit (guest loops)")) {
        struct kernel_desc d;
        kernel_build(seed, f->kind, &f->im, &d);
        switch (uni_compare(&f->im, &d, o->report, uni, sizeof uni)) {
        case UNI_MATCH: f->t.uni_match++; break;
        case UNI_NOT_COMPARABLE:
            f->t.uni_nc++;
            if (f->verbose) {
                char why[400];
                snprintf(why, sizeof why, " [Unicorn: not comparable: %s]", uni);
                snprintf(uni, sizeof uni, "%s", why);
            } else {
                uni[0] = 0;
            }
            break;
        default:
            f->t.uni_mismatch++;
            snprintf(cls, sizeof cls, "UNICORN MISMATCH");
            fail = true;
            break;
        }
    }
    tally_add(&f->t, cls, fail);
    if (fail || f->verbose) {
        printf("%s seed %llu (%s): %s: %s%s\n", fail ? "FAIL" : "   ", (unsigned long long)seed,
               f->kind < 0 ? "mixed" : kernel_kind_name((enum body_kind)f->kind), cls, o->msg, uni);
        if (fail)
            printf("  reproduce: bt86-fuzz --write %llu k.bin%s%s && %s --verify -m 16 -serial null k.bin\n",
                   (unsigned long long)seed, f->kind < 0 ? "" : " --kind ",
                   f->kind < 0 ? "" : kernel_kind_name((enum body_kind)f->kind), f->bt86);
        fflush(stdout);
    }
    if (fail && f->save) {
        char name[64];
        snprintf(name, sizeof name, "seed-%llu.bin", (unsigned long long)seed);
        save_copy(f, path, name);
    }
}

static void done_malformed(void *ctx, long i, const char *path, const struct outcome *o)
{
    struct fuzz *f = ctx;
    char cls[160];
    bool fail = classify(o, cls, sizeof cls);
    tally_add(&f->t, cls, fail);
    if (fail || f->verbose) {
        /* Rebuild the description (the buffer holds the last one made). */
        int k = (int)(i % f->nfiles);
        malformed_make(f->src[k], f->srclen[k], f->seed, i / f->nfiles, f->dst, f->what, sizeof f->what);
        printf("%s %s mutation %ld (%s): %s: %s\n", fail ? "FAIL" : "   ", f->files[k], i / f->nfiles, f->what, cls, o->msg);
        fflush(stdout);
    }
    if (fail && f->save) {
        char name[64];
        snprintf(name, sizeof name, "malformed-%ld.bin", i);
        save_copy(f, path, name);
    }
}

static bool slurp(const char *path, uint8_t **buf, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    fseek(fp, 0, SEEK_END);
    long l = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *buf = malloc(l > 0 ? (size_t)l : 1);
    *n = l > 0 && fread(*buf, 1, (size_t)l, fp) == (size_t)l ? (size_t)l : 0;
    fclose(fp);
    return *n > 0;
}

static int kind_of(const char *s)
{
    for (int k = 0; k < BODY_KINDS; k++)
        if (!strcmp(s, kernel_kind_name((enum body_kind)k))) return k;
    if (!strcmp(s, "mixed")) return -1;
    fprintf(stderr, "bt86-fuzz: unknown kind %s (insns, bytes, io, diff, mixed)\n", s);
    exit(2);
}

static void usage(void)
{
    fprintf(stderr, "usage: bt86-fuzz --bt86 PATH [--seed S] [--count N] [--kind insns|bytes|io|diff|mixed] [--jobs J]\n"
                    "                 [--cpu-ms MS] [--wall-s S] [--save DIR] [--verbose] [--malformed FILE...]\n"
                    "       bt86-fuzz --write SEED FILE [--kind K]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static struct fuzz f = { .seed = 1, .kind = -1 };
    long count = 100;
    struct run_opts ro = { .jobs = 2, .cpu_ms = 400, .wall_s = 60 };
    const char *write_file = NULL;
    bool write_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--bt86") && v) { ro.bt86 = v; i++; }
        else if (!strcmp(a, "--seed") && v) { f.seed = strtoull(v, NULL, 0); i++; }
        else if (!strcmp(a, "--count") && v) { count = strtol(v, NULL, 0); i++; }
        else if (!strcmp(a, "--kind") && v) { f.kind = kind_of(v); i++; }
        else if (!strcmp(a, "--jobs") && v) { ro.jobs = atoi(v); i++; }
        else if (!strcmp(a, "--cpu-ms") && v) { ro.cpu_ms = atoi(v); i++; }
        else if (!strcmp(a, "--wall-s") && v) { ro.wall_s = atoi(v); i++; }
        else if (!strcmp(a, "--save") && v) { f.save = v; i++; }
        else if (!strcmp(a, "--verbose")) f.verbose = true;
        else if (!strcmp(a, "--write") && v && i + 2 < argc) { f.seed = strtoull(v, NULL, 0); write_file = argv[i + 2]; write_only = true; i += 2; }
        else if (!strcmp(a, "--malformed")) { f.files = (const char *const *)argv + i + 1; f.nfiles = argc - i - 1; break; }
        else usage();
    }
    if (write_only) {
        struct kernel_desc d;
        kernel_build(f.seed, f.kind, &f.im, &d);
        if (!img_write(&f.im, d.elf, write_file)) { fprintf(stderr, "bt86-fuzz: %s: %s\n", write_file, strerror(errno)); return 1; }
        printf("seed %llu: %s body, %d %s, paging %s, SSE %s, IF %d, %s\n", (unsigned long long)f.seed,
               kernel_kind_name(d.body), d.ninsn, d.body == BODY_BYTES ? "bytes" : "instructions",
               d.paging ? "on" : "off", d.sse ? "on" : "off", d.irq, d.elf ? "ELF" : "a.out kludge");
        return 0;
    }
    if (!ro.bt86) usage();
    f.bt86 = ro.bt86;
    ro.serial_stdout = f.kind == BODY_DIFF;
    if (f.nfiles) {
        if (f.nfiles > 32) f.nfiles = 32;
        size_t max = 0;
        for (int k = 0; k < f.nfiles; k++) {
            if (!slurp(f.files[k], &f.src[k], &f.srclen[k])) { fprintf(stderr, "bt86-fuzz: cannot read %s\n", f.files[k]); return 2; }
            if (f.srclen[k] > max) max = f.srclen[k];
        }
        f.dst = malloc(max);
        run_all(&ro, count, &f, make_malformed, done_malformed);
    } else {
        run_all(&ro, count, &f, make_kernel, done_kernel);
    }
    tally_print(&f.t);
    if (f.kind == BODY_DIFF && count >= 50 && f.t.uni_match + f.t.uni_mismatch == 0) {
        printf("no kernel could be compared against Unicorn\n");      /* the harness itself broke */
        return 1;
    }
    return f.t.failures ? 1 : 0;
}
