/* profile_int — the raw samples profile.c records and profile_report.c
 * maps to guest code at the end. */
#pragma once
#include <stdint.h>
#include <stdio.h>

enum { SAMPLE_CODE = PROF_NPHASES, SAMPLE_CALLOUT };   /* kinds beyond the phases */

struct prof_sample {
    uint8_t kind;               /* enum prof_phase, SAMPLE_CODE or SAMPLE_CALLOUT */
    uint8_t sub;                /* PROF_SIGNAL: signal number; SAMPLE_CALLOUT: insn kind */
    uint16_t guest_len;         /* SAMPLE_CODE: the block's guest bytes */
    uint32_t eip;               /* SAMPLE_CODE: block start; SAMPLE_CALLOUT: the instruction */
    uint32_t host_len;          /* SAMPLE_CODE: the block's host bytes */
};

struct prof_run {
    const struct prof_sample *s;
    size_t n, dropped;
    double cpu_s, wall_s, idle_s;
    unsigned interval_us;
};

void profile_report(FILE *f, FILE *folded, const struct prof_run *r, const char *kernel);
const char *profile_kind_name(int kind, int sub, char *buf, size_t len);
