/* backend — one way to run a case: Unicorn (the reference) or bt86.
 * Backends run inside a worker process (worker.c) so that a crash or an
 * abort ends only the case that caused it. */
#pragma once
#include <stddef.h>
#include "dt.h"

struct backend {
    const char *name;
    /* Set up once per worker process; NULL on failure (message in err). */
    void *(*open)(char *err, size_t errlen);
    void (*run)(void *ctx, const struct dt_case *c, struct dt_result *r);
};

extern const struct backend be_unicorn;
extern const struct backend be_mutant;   /* Unicorn with a planted bug (be_mutant.c) */
extern const struct backend be_mutant_flag, be_mutant_mem, be_mutant_x87;
#ifdef DT_HAVE_BT86
extern const struct backend be_bt86;
#endif

/* dt_result.vector of a DT_EXIT_ERROR when the backend could not start. */
#define DT_VECTOR_OPEN_FAILED (-1000)

/* A worker process running one backend. */
struct worker;
struct worker *worker_new(const struct backend *b);
void worker_free(struct worker *w);
/* Start c; worker_wait collects the result (DT_EXIT_CRASH if the process
 * died, DT_EXIT_LIMIT if it hung for timeout_ms). */
void worker_submit(struct worker *w, const struct dt_case *c);
void worker_wait(struct worker *w, struct dt_result *r, int timeout_ms);
