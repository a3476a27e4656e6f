/* bt86-difftest — runs generated instruction sequences in bt86 and in
 * Unicorn and compares everything the guest can observe (issue 3).
 *
 *   bt86-difftest --seed S --count N [--class NAME] [--verbose]
 *   bt86-difftest --corpus DIR           run every DIR/NAME.txt case
 *   options: --against unicorn|mutant|bt86  backend under test (default bt86;
 *                                        unicorn: harness self-check; mutant,
 *                                        mutant-flag, mutant-mem, mutant-x87:
 *                                        Unicorn with a planted bug, be_mutant.c)
 *            --save DIR                  write each shrunk failure there
 *            --no-shrink, --list-classes, --print SEED (show one case)
 *            --paging                    run every case with paging on (dt.h)
 *            --poll-storm N              bt86 stops at about 1 in N instructions'
 *                                        entry polls (dt.h)
 *            --paging-pae                ... with PAE paging and EFER.NXE
 *            --adapt-first               adaptive callouts at the first fault (dt.h)
 *            --real                      16-bit real-mode sequences (gen16.c, dt.h)
 *
 * Ends with "N passed, N failed, N skipped"; exit status 0 iff none failed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "compare.h"
#include "gen.h"
#include "run.h"

#define TIMEOUT_MS 10000

static bool verbose;

/* bt86's own "not supported yet" messages, grouped by instruction. */
static struct { char what[64]; int n; } unsup[64];
static int n_unsup, unsupported;

static void note_unsupported(const char *msg) {
    const char *p = strstr(msg, ": ");
    p = p ? strstr(p + 2, ": ") : NULL;          /* "bt86: ... at EIP x: insn (...)" */
    char what[160];
    snprintf(what, sizeof what, "%s", p ? p + 2 : msg);
    what[63] = 0;
    char *sp = strchr(what, ' '), *paren = strstr(what, " (");   /* "mnemonic operands (reason)" */
    if (sp && paren && paren >= sp) memmove(sp + 1, paren + 1, strlen(paren + 1) + 1);
    else if (sp) *sp = 0;
    for (int k = 0; k < n_unsup; k++)
        if (!strcmp(unsup[k].what, what)) { unsup[k].n++; return; }
    if (n_unsup < 64) {
        what[sizeof unsup[0].what - 1] = 0;
        memcpy(unsup[n_unsup].what, what, sizeof unsup[0].what);
        unsup[n_unsup++].n = 1;
    }
}

enum verdict run_pair(struct pair *p, const struct dt_case *c) {
    worker_submit(p->ref, c);
    worker_submit(p->got, c);
    worker_wait(p->ref, &p->rr, TIMEOUT_MS);
    worker_wait(p->got, &p->gr, TIMEOUT_MS);
    if (dt_ref_unusable(&p->rr)) return V_SKIP;
    return dt_compare(c, &p->rr, &p->gr, p->ref_name, p->got_name, NULL, &p->sig) ? V_FAIL : V_PASS;
}

static void report(struct pair *p, const struct dt_case *c, const char *title) {
    printf("MISMATCH %s\n", title);
    dt_print_case(c, stdout);
    dt_compare(c, &p->rr, &p->gr, p->ref_name, p->got_name, stdout, NULL);
    fflush(stdout);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_corpus(struct pair *p, const char *dir, int *pass, int *fail, int *skip) {
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "bt86-difftest: cannot open %s\n", dir); return -1; }
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".txt")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    static struct dt_case c;
    for (int i = 0; i < n; i++) {
        char path[4096], err[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!corpus_load(path, &c, err, sizeof err)) {
            printf("FAIL %s: %s\n", names[i], err);
            (*fail)++;
            continue;
        }
        enum verdict v = run_pair(p, &c);
        if (v == V_PASS) { (*pass)++; if (verbose) printf("pass %s\n", names[i]); }
        else if (v == V_SKIP) { (*skip)++; printf("skip %s: %s\n", names[i], dt_ref_unusable(&p->rr)); }
        else { (*fail)++; report(p, &c, names[i]); }
        free(names[i]);
    }
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: bt86-difftest --seed S --count N [--class NAME] [--verbose] [--against unicorn|bt86|mutant[-flag|-mem|-x87]]\n"
                    "                     [--save DIR] [--no-shrink] [--paging[-pae]] [--adapt-first] [--poll-storm N] [--real] | --corpus DIR | --print SEED | --list-classes\n");
    exit(2);
}

int main(int argc, char **argv) {
    uint64_t seed = 1;
    long count = 1000;
    int cls = -1;
    const char *corpus = NULL, *save = NULL, *against = NULL;
    bool shrink = true, print_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed") && v) { seed = strtoull(v, NULL, 0); i++; }
        else if (!strcmp(a, "--count") && v) { count = strtol(v, NULL, 0); i++; }
        else if (!strcmp(a, "--class") && v) {
            cls = !strcmp(v, "all") ? -1 : gen_class_find(v);
            if (cls < -1 || (cls == -1 && strcmp(v, "all"))) { fprintf(stderr, "unknown class %s\n", v); return 2; }
            i++;
        }
        else if (!strcmp(a, "--corpus") && v) { corpus = v; i++; }
        else if (!strcmp(a, "--save") && v) { save = v; i++; }
        else if (!strcmp(a, "--against") && v) { against = v; i++; }
        else if (!strcmp(a, "--print") && v) { seed = strtoull(v, NULL, 0); print_only = true; i++; }
        else if (!strcmp(a, "--verbose")) verbose = true;
        else if (!strcmp(a, "--no-shrink")) shrink = false;
        else if (!strcmp(a, "--paging")) dt_paging = true;
        else if (!strcmp(a, "--poll-storm") && v) { dt_poll_storm = (unsigned)strtoul(v, NULL, 0); i++; }
        else if (!strcmp(a, "--paging-pae")) dt_paging = dt_pae = true;
        else if (!strcmp(a, "--adapt-first")) dt_adapt_first = true;
        else if (!strcmp(a, "--real")) dt_real = true;
        else if (!strcmp(a, "--list-classes")) {
            for (int c = 0; c < gen_class_count(); c++)
                printf("%s%s\n", gen_class_name(c), gen_class_in_all(c) ? "" : " (not in all)");
            return 0;
        } else usage();
    }

    static struct dt_case c;
    static struct seq s;
    if (print_only) {
        int chosen;
        if (!gen_case(seed, cls, &c, &s, &chosen)) { fprintf(stderr, "generation failed\n"); return 1; }
        printf("case %llu (class %s)\n", (unsigned long long)seed, gen_class_name(chosen));
        dt_print_case(&c, stdout);
        struct worker *w = worker_new(&be_unicorn);
        static struct dt_result r;
        worker_submit(w, &c);
        worker_wait(w, &r, TIMEOUT_MS);
        const char *why = dt_ref_unusable(&r);
        printf("  unicorn: exit %d vector %d eip %08x steps %u eflags %08x undefined flags %03x fsw %04x%s%s %s\n",
               r.exit, r.vector, r.out.eip, r.an.steps, r.out.eflags, r.an.eflags_unknown, r.an.fsw_unknown,
               r.an.x87_approx ? " approx" : "", why ? " UNUSABLE:" : "", why ? why : "");
        worker_free(w);
        return 0;
    }

    const struct backend *test = NULL;
#ifdef DT_HAVE_BT86
    test = &be_bt86;
#endif
    if (against && !strcmp(against, "unicorn")) test = &be_unicorn;
    else if (against && !strcmp(against, "mutant")) test = &be_mutant;
    else if (against && !strcmp(against, "mutant-flag")) test = &be_mutant_flag;
    else if (against && !strcmp(against, "mutant-mem")) test = &be_mutant_mem;
    else if (against && !strcmp(against, "mutant-x87")) test = &be_mutant_x87;
    else if (against && strcmp(against, "bt86")) usage();
    if (!test) {
        fprintf(stderr, "bt86-difftest: built without the bt86 backend (no emulator library); "
                        "use --against unicorn for a harness self-check\n");
        return 2;
    }
    struct pair p = { .ref = worker_new(&be_unicorn), .got = worker_new(test), .ref_name = "unicorn", .got_name = test->name };
    int pass = 0, fail = 0, skip = 0;
    double t0 = now();
    {   /* A backend that cannot even start is a setup error, not N failures. */
        static struct dt_case probe;
        memset(&probe, 0, sizeof probe);
        probe.main_len = 1; probe.code_len = 2;
        probe.in.mem[dt_mem_index(DT_CODE)] = 0x90;
        probe.in.mem[dt_mem_index(DT_CODE) + 1] = 0xf4;
        probe.in.eflags = 2;
        probe.in.gpr[R_ESP] = DT_STACK + 0x1000;
        dt_fx_default(probe.in.fx);
        run_pair(&p, &probe);
        for (int k = 0; k < 2; k++) {
            const struct dt_result *r = k ? &p.gr : &p.rr;
            if (r->exit == DT_EXIT_ERROR && r->vector == DT_VECTOR_OPEN_FAILED) {
                fprintf(stderr, "bt86-difftest: %s\n", r->msg);
                return 2;
            }
        }
    }

    if (corpus) {
        if (run_corpus(&p, corpus, &pass, &fail, &skip) < 0) return 2;
    } else {
        int ncls = gen_class_count();
        int cp[64] = { 0 }, cf[64] = { 0 }, cs[64] = { 0 };
        for (long i = 0; i < count; i++) {
            uint64_t cseed = seed + i;
            int chosen = -1;
            if (dt_real ? !gen16_case(cseed, &c) : !gen_case(cseed, cls, &c, &s, &chosen)) { skip++; continue; }
            int slot = chosen < 0 ? ncls : chosen;
            enum verdict v = run_pair(&p, &c);
            if (v == V_PASS) { pass++; cp[slot]++; continue; }
            if (v == V_SKIP) {
                skip++; cs[slot]++;
                if (verbose) printf("skip case %llu (%s): %s\n", (unsigned long long)cseed,
                                    gen_class_name(chosen), dt_ref_unusable(&p.rr));
                continue;
            }
            if (p.gr.exit == DT_EXIT_ERROR && strstr(p.gr.msg, "not supported yet")) {
                /* bt86 says so itself (a TODO in the monitor): counted
                 * apart, listed below, not shrunk. */
                unsupported++; skip++; cs[slot]++;
                note_unsupported(p.gr.msg);
                if (verbose) printf("unsupported case %llu: %s\n", (unsigned long long)cseed, p.gr.msg);
                continue;
            }
            fail++; cf[slot]++;
            char title[128];
            snprintf(title, sizeof title, "case %llu (class %s)", (unsigned long long)cseed, gen_class_name(chosen));
            if (verbose || !shrink || dt_real) report(&p, &c, title);
            if (shrink && !dt_real) {     /* 16-bit cases have no item list to shrink */
                int runs = dt_shrink(&p, &c, &s);
                char t2[160];
                snprintf(t2, sizeof t2, "%s, shrunk in %d runs", title, runs);
                report(&p, &c, t2);
                if (save) {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/seed-%llu.txt", save, (unsigned long long)cseed);
                    corpus_save(path, &c, title);
                    printf("saved %s\n", path);
                }
            }
        }
        if (unsupported) {
            printf("not supported by bt86 yet (counted as skipped): %d cases:", unsupported);
            for (int k = 0; k < n_unsup; k++) printf(" [%s] x%d", unsup[k].what, unsup[k].n);
            printf("\n");
        }
        printf("per class (passed/failed/skipped):");
        for (int k = 0; k <= ncls; k++)
            if (cp[k] + cf[k] + cs[k])
                printf(" %s %d/%d/%d", k == ncls ? "mixed" : gen_class_name(k), cp[k], cf[k], cs[k]);
        printf("\n");
    }
    printf("time %.1f s\n", now() - t0);
    printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
    worker_free(p.ref);
    worker_free(p.got);
    return fail ? 1 : 0;
}
