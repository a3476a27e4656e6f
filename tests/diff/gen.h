/* gen — the sequence generator: deterministic from a seed.
 *
 * Soundness rules (why every generated case has one correct answer):
 *  - Memory: every address an instruction touches is computed from
 *    *pointer registers* whose possible values the generator tracks as an
 *    interval (exact in straight-line code; string instructions with REPE/
 *    REPNE widen it). Pointer registers are never written by generated
 *    instructions except by the pointer-moving templates that update the
 *    interval. All other registers are *data*: any value, never used to form
 *    an address (except right after the template itself loads them, e.g. the
 *    bit offset of BT m,r). Writes never touch the code region (where the
 *    indirect-branch table lives) nor the live part of the stack (return
 *    addresses, ENTER and PUSHA frames).
 *  - Regions that run 0..n times (loop bodies, skipped blocks) are *neutral*:
 *    no template that moves a pointer register or ESP may appear in them, so
 *    the intervals hold on every path.
 *  - Flags: the generator tracks which arithmetic flags may be undefined
 *    (flags.c, worst case over runtime counts) along the generation order,
 *    merging at branch joins, and emits a flag-defining CMP before any
 *    instruction that reads one. x87 condition codes likewise (FXAM).
 *  - Undefined results: BSF/BSR are always followed by CMOVZ of the same
 *    destination (BSF sets ZF exactly when the destination is undefined);
 *    16-bit SHLD/SHRD counts are kept <= 16. BSWAP r16 is never generated.
 *  - The reference trace re-checks all of this dynamically (trace.c); a case
 *    that consumes an undefined value anyway is reported as skipped.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "dt.h"
#include "seq.h"

struct gen {
    uint64_t r;
    struct seq *s;
    struct dt_case *c;
    int cls;                 /* class index, or -1: any */
    int part, next_part;
    uint32_t ptr;            /* pointer registers (bit per R_*); ESP always */
    uint32_t lo[8], hi[8];   /* their possible values */
    uint32_t locked;         /* registers no template may write */
    int neutral;             /* inside a region that runs 0..n times */
    uint32_t unk;            /* possibly-undefined arithmetic flags */
    uint16_t fsw_unk;        /* possibly-undefined x87 condition codes */
    uint32_t live_lo;        /* stack bytes at and above hold live data */
    int df;                  /* DF: 0, 1, or -1 unknown */
    int fpu_depth;           /* valid x87 registers ST0..ST(depth-1) */
    bool x87_done;           /* a transcendental ran: no more x87 */
    bool mmx_dirty;          /* MMX in use: EMMS before x87 */
    bool fpu_unknown;        /* a region run 0..n times changed the x87 depth or MMX state:
                                no more x87/MMX items (Unicorn quirk U11 would decide) */
    int depth;               /* nesting of structures */
    int budget;              /* templates left at top level */
    int items_cap;
    bool wrap;               /* class wants addresses near and across 4 GiB */
    bool a16;                /* class wants 16-bit addressing */
};

/* Generate case number `seed` of class cls (-1: all classes mixed). */
bool gen_case(uint64_t seed, int cls, struct dt_case *c, struct seq *s, int *chosen);

int gen_class_count(void);
const char *gen_class_name(int cls);
int gen_class_find(const char *name);   /* -1 if unknown */
bool gen_class_in_all(int cls);
