/* profile — where the host's time goes (--profile FILE): SIGPROF samples
 * of the host, mapped to the monitor's phases and, through the code
 * cache's side tables and the kernel's ELF symbols, to guest code. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vm;

/* What the monitor is doing, for the sampler: the low byte is the phase,
 * the next one a detail (the signal number for PROF_SIGNAL). Written by
 * the dispatcher, the translator's caller and the signal handlers. */
enum prof_phase {
    PROF_MONITOR,       /* command line, loading, the monitors' commands */
    PROF_DISPATCH,      /* the dispatcher: lookups, chaining, events, delivery */
    PROF_GUEST,         /* translated code, or a callout it made */
    PROF_TRANSLATE,     /* translating a block */
    PROF_SIGNAL,        /* a host signal handler (fault, poll, trap) */
    PROF_NPHASES
};
extern volatile int prof_phase;

/* Start sampling the host's CPU time (SIGPROF). -1 with a message. */
int profile_start(struct vm *vm, char *err, size_t errlen);
/* Stop, map the samples and write the report to path, with the folded
 * stacks (flame-graph input) to path + ".folded". kernel: the guest ELF
 * whose symbols name guest functions (may be NULL or not an ELF). */
int profile_finish(struct vm *vm, const char *path, const char *kernel, char *err, size_t errlen);
/* The split by phase so far (HMP 'info jit'); nothing if not profiling. */
void profile_print_split(FILE *f);
