/* flags — what one instruction does to the arithmetic flags and the x87
 * condition codes, per the Intel SDM vol. 2 "Flags Affected" sections.
 *
 * The effect is computed from the instruction bytes (opcode maps, not
 * Capstone's approximate eflags masks — see the capstone-unicorn note §2.1),
 * either statically (dyn == NULL: the worst case over all runtime values,
 * used by the generator) or for one execution (dyn != NULL: the registers
 * before the instruction, used on the reference trace). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* x87 status word condition codes. */
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
/* Exception flags, SF, ES and B: architecturally defined, but Unicorn 2.0.1
 * does not set them (unicorn-quirks.md U6), so they are tracked like the
 * undefined condition codes: unknown after any x87 instruction that may
 * raise an exception, known again after FNCLEX/FNINIT. */
#define FSW_EXC 0x80ffu

struct pfx {
    int n;                  /* number of legacy prefix bytes */
    bool p66, p67, rep, repne, lock;
    int seg;                /* last segment override byte, 0 if none */
};

/* Runtime values the effect can depend on. */
struct dyn {
    const uint32_t *gpr;
    uint32_t eflags;
    /* Reads n bytes of guest memory at a; returns false if unmapped. */
    bool (*read)(void *ctx, uint32_t a, void *dst, uint32_t n);
    void *ctx;
};

struct effect {
    uint32_t reads;         /* flags whose value the instruction consumes */
    uint32_t defined;       /* flags certainly written with a defined value */
    uint32_t undef;         /* flags possibly left undefined */
    uint16_t fsw_reads, fsw_defined, fsw_undef;
    bool x87;               /* an x87 instruction (touches the FSW) */
    bool x87_approx;        /* transcendental: the SDM allows ulp differences */
    int undef_reg;          /* register (R_*) whose value is undefined, or -1 */
    uint32_t undef_reg_mask;/* which bits of it */
};

void pfx_scan(const uint8_t *b, int len, struct pfx *p);
/* The condition-code flags read by condition cc (the low nibble of Jcc). */
uint32_t cc_reads(int cc);
/* Effective address of the ModRM memory operand at m (flat segments). */
uint32_t insn_mem_ea(const uint8_t *m, bool a16, const uint32_t *g);
/* Fill e for the instruction at b (len bytes). */
void insn_effect(const uint8_t *b, int len, const struct dyn *dyn, struct effect *e);
