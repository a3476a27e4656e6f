/* insn_access — what one guest instruction is about to touch: the linear
 * ranges it reads and writes and the I/O ports it uses, worked out from
 * its decoding and the registers before it runs. The access check behind
 * the debugger's read/access watchpoints and the guest's DR0-DR3 data and
 * I/O breakpoints (debug.c, debugexc.c), which run such instructions as
 * one-instruction blocks and look after each. Internal to emulator/. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define ACC_READ  1u
#define ACC_WRITE 2u
#define ACC_MAX   8

struct insn_access {
    uint32_t addr, len;         /* linear address, or I/O port */
    uint8_t rw;                 /* ACC_READ | ACC_WRITE */
    bool io;
};

/* The accesses of the instruction at linear eip (read through the
 * current paging; none if its bytes cannot be read). Memory operands,
 * the stack of PUSH/POP/CALL/RET/ENTER/LEAVE/PUSHA/POPA/PUSHF/POPF, the
 * whole span of a REP string instruction, IN/OUT/INS/OUTS ports. */
int insn_accesses(struct vcpu *v, uint32_t eip, struct insn_access *out, int max);
/* Does any of them touch [addr, addr+len) in one of the rw ways? */
bool insn_access_hits(const struct insn_access *a, int n, uint32_t addr, uint32_t len,
                      unsigned rw, bool io);
