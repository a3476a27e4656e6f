/* memop — one guest instruction with a memory operand, performed in C
 * against a bus of linear-address callbacks (DESIGN §4: device memory,
 * traced page-table stores, adaptive translation, the 4 GiB wrap).
 *
 * The forms are the ones kernels use on device registers and page-table
 * entries, plus string moves (a REP string that runs into the guard above
 * 4 GiB ends here):
 *
 *   MOV r/m<->r (8/16/32), MOV r/m,imm, MOV moffs, MOVZX/MOVSX loads,
 *   XCHG, CMPXCHG, XADD, ADD/OR/ADC/SBB/AND/SUB/XOR/CMP in every r/m form,
 *   TEST, NOT, NEG, INC, DEC, BT/BTS/BTR/BTC (register and imm8 offsets),
 *   SETcc m8, MOVS/STOS/LODS/CMPS/SCAS with any REP prefix, the shifts and
 *   rotates on memory, MUL/IMUL m, IMUL r, m[, imm], XLAT, and (on a
 *   32- or 16-bit stack) PUSH r/imm/m, POP r/m, PUSHA, POPA, LEAVE; 16-bit
 *   addressing (0x67) in all of them, SI/DI/CX for strings.
 *
 * Anything else is MEMOP_UNSUPPORTED and changes nothing. Flags come from
 * the host ALU executing the same operation, so they are exact (undefined
 * flags are whatever this host leaves, as for copied instructions). A LOCK
 * prefix needs nothing more: the vCPU is the only writer of guest RAM.
 *
 * Faults: every access is checked before anything is written (an RMW
 * destination is probed for writing before it is read), so a fault leaves
 * the instruction without effect (SDM vol. 3A §6.5), except for REP
 * strings, which stop after the last completed element as the CPU does. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "decoder/decoder.h"

struct memop_regs {
    uint32_t gpr[8];            /* EAX..EDI */
    uint32_t eflags;            /* arithmetic flags and DF are read; the arithmetic ones written */
    uint32_t seg_base[6];       /* ES CS SS DS FS GS bases, added to every offset */
    bool stack16;               /* SS.B = 0: the stack is SP, wrapping at 64 KiB */
};

/* Guest memory by linear address. Each returns false on a fault, which the
 * bus's owner records (CR2, error code) and raises; memop stops there. */
struct memop_bus {
    void *opaque;
    bool (*check)(void *opaque, uint32_t lin, unsigned n, bool write);  /* no side effect */
    bool (*read)(void *opaque, uint32_t lin, void *dst, unsigned n);
    bool (*write)(void *opaque, uint32_t lin, const void *src, unsigned n);
    /* Optional: asked between two iterations of a REP string (with
     * `done` of them performed); true stops it there with MEMOP_PARTIAL,
     * registers advanced and ECX non-zero, so that an interrupt can be
     * taken before the instruction runs again (SDM vol. 2B "REP"). */
    bool (*yield)(void *opaque, unsigned done);
};

enum memop_result { MEMOP_DONE, MEMOP_FAULT, MEMOP_UNSUPPORTED, MEMOP_PARTIAL };

enum memop_result memop_exec(const struct insn *in, struct memop_regs *r, const struct memop_bus *bus);
/* Would memop_exec perform `in` (and is it worth a callout: not a string)? */
bool memop_supported(const struct insn *in);
/* Would memop_exec perform `in` at all (strings and XLAT included)? */
bool memop_performs(const struct insn *in);
/* Bytes `in` stores to its memory operand per access (a REP string: one
 * element), for single-stepping a traced store. Unknown forms: a bound
 * from the operand size (16 for SSE, 512 for FXSAVE). */
unsigned memop_store_size(const struct insn *in);
