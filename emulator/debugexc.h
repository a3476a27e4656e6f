/* debugexc — the guest's own debug exceptions (#DB, SDM vol. 3B §17.2-17.3):
 * EFLAGS.TF single-stepping, the DR0-DR3 instruction, data and I/O breakpoints, built
 * on the debugger's machinery (debug.c): one-instruction step blocks and
 * blocks that end before a breakpoint address. Internal to emulator/. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/insn_access.h"

struct vcpu;

#define DR6_BS    (1u << 14)      /* single step */
#define DR6_BD    (1u << 13)      /* debug-register access (DR7.GD) */
#define DR6_FIXED 0xffff0ff0u     /* bits that read as 1 (P6) */
#define DR7_GD    (1u << 13)
#define DR7_FIXED 0x400u

struct dbx_state {
    bool rf;            /* EFLAGS.RF: the next instruction's breakpoint is not taken */
    bool rf_loaded;     /* ... and the block that just ran loaded it (IRET) */
    bool ss_shadow;     /* MOV SS / POP SS ran: #DB held for one instruction */
    bool tf_step;       /* the block being run is a TF single step */
    bool unrun;         /* that step block left at its entry poll: nothing ran */
    bool delivered;     /* the block delivered an event (INT n, INT3, a gate...) */
    int nexec;          /* enabled DR0-DR3 execution breakpoints */
    uint32_t exec[4], exec_bit[4];
    int ncovered;       /* breakpoints every cached block ends before */
    uint32_t covered[4];
    int ndata;          /* enabled data (R/W 01, 11) and I/O (10 with CR4.DE) breakpoints */
    struct { uint32_t addr, len, bit; uint8_t rw; bool io; } data[4];
    bool completed;     /* the block that just ran finished its instruction */
    int nacc;           /* what the step block's instruction touches (insn_access.h) */
    struct insn_access acc[ACC_MAX];
};

/* MOV to a debug register changed DR0-DR3 or DR7: re-arm the execution
 * breakpoints (flushes translations that could run through a new one). */
void dbx_rearm(struct vcpu *v);
/* Is there an armed execution breakpoint at eip (bt_config.stop_at)? */
bool dbx_bp_at(const struct vcpu *v, uint32_t eip);
/* Dispatcher, before the block at eip: true when an instruction
 * breakpoint raised #DB (a fault); *step is set when the block must be a
 * one-instruction one (TF, or RF lets a breakpoint's instruction run). */
bool dbx_before(struct vcpu *v, uint32_t eip, bool *step);
/* Dispatcher, after the block ran: the single-step trap. shadow: the
 * interrupt shadow the block was entered with. */
void dbx_after(struct vcpu *v, uint8_t shadow);
/* Work out what the instruction at eip touches (the data and I/O
 * breakpoints, the debugger's read and access watchpoints). */
void dbx_track_access(struct vcpu *v, uint32_t eip);
/* May a callout continue into the block at eip without the dispatcher? */
bool dbx_hold(const struct vcpu *v, uint32_t eip);
/* Raise #DB as a fault at eip with DR6 bits `dr6` (MOV DR with DR7.GD). */
int dbx_raise(struct vcpu *v, uint32_t dr6, uint32_t eip);
