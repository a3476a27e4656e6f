/* run — one case through the reference and the backend under test, and
 * the verdict; used by the batch loop, the corpus runner and the shrinker. */
#pragma once
#include "backend.h"
#include "seq.h"

enum verdict { V_PASS, V_FAIL, V_SKIP };

struct pair {
    struct worker *ref, *got;
    const char *ref_name, *got_name;
    struct dt_result rr, gr;     /* the last results */
    uint64_t sig;                /* and their difference signature */
};

enum verdict run_pair(struct pair *p, const struct dt_case *c);

/* Shrink a failing case in place: drop items of s (if not NULL), then
 * simplify the initial state, as long as it still fails. Returns the
 * number of runs spent. */
int dt_shrink(struct pair *p, struct dt_case *c, struct seq *s);

/* Regression corpus (corpus.c). */
bool corpus_load(const char *path, struct dt_case *c, char *err, size_t errlen);
bool corpus_save(const char *path, const struct dt_case *c, const char *comment);
