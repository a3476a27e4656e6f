/* run — bt86 as a subprocess per kernel, several at a time, each under a
 * CPU-time limit (the runner watches the child's CPU time, with
 * RLIMIT_CPU behind it) and a host-time limit; the outcome is classified
 * by exit status and the first line bt86 wrote to stderr. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct outcome {
    int status;                 /* exit status, or -1 */
    int sig;                    /* terminating signal, or 0 */
    bool cpu_limit, wall_limit; /* the runner stopped it */
    char msg[512];              /* stderr's first line */
    char report[160];           /* with serial_stdout: the line starting "DMP " */
};

struct run_opts {
    const char *bt86;
    const char *const *extra;   /* extra bt86 arguments, NULL-terminated */
    int jobs;
    int cpu_ms, wall_s;
    bool serial_stdout;         /* COM1 and port 0xE9 to the captured output (diff kernels) */
};

/* Runs n kernels: make(i, path) writes kernel i to `path` (false: skip
 * it), done(i, path, outcome) sees the result before `path` is deleted.
 * SIGINT or SIGTERM ends it early, after the kernels already running. */
void run_all(const struct run_opts *o, long n, void *ctx,
             bool (*make)(void *ctx, long i, const char *path),
             void (*done)(void *ctx, long i, const char *path, const struct outcome *out));

/* The outcome's class ("halt", "exception #GP", "unsupported: ..."), and
 * whether it is a failure of the monitor. */
bool classify(const struct outcome *o, char *cls, int n);
