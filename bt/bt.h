/* bt — the translator: guest basic blocks in, host x86-64 blocks out.
 *
 * bt_translate decodes guest instructions from a byte buffer until a block
 * end (control transfer, an instruction that must leave translated code, a
 * page boundary or the size cap) and emits one host block into the code
 * cache: a poll load, the instructions copied or rewritten per DESIGN §2,
 * and numbered exits that the dispatcher can chain. Sensitive instructions
 * become callouts to the handlers the monitor registers per kind. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bt/abi.h"
#include "cache/cache.h"
#include "decoder/decoder.h"

/* BT_HELPER_IRQ_WINDOW: STI found an interrupt waiting for IF (cpu->irq_pending);
 * the handler arranges for it to be taken at the next block boundary. */
/* BT_HELPER_MEMOP: adaptive translation (DESIGN §4) — an instruction with a
 * memory operand that bt_config.slow_mem named is emitted as a callout that
 * performs the whole instruction in the monitor (a traced page-table store,
 * device memory) instead of taking a host fault each time. The callout
 * continues in the block (BT_RESUME) unless it raises an exception. */
/* BT_HELPER_FPU_TRAP: an x87/MMX/SSE instruction in a BT_MODE_FPU_TRAP block;
 * the handler raises #NM/#UD, or returns BT_RESUME to skip it (FWAIT with
 * CR0.MP clear). */
/* BT_HELPER_UNTRANSLATED: an operand form the translator does not handle
 * (16-bit addresses in stack, branch and string operands; XLAT and MASKMOV
 * through a based DS); the monitor stops with a message naming it. */
/* BT_HELPER_DIVIDE_ERROR: a checked DIV/IDIV (bt_config.checked_div) found
 * its divisor 0 or its quotient too large; the guest state is as before the
 * instruction and the handler raises #DE. */
/* BT_HELPER_SEGLIMIT: before an instruction that accesses memory through a
 * segment named in BT_MODE_SEGLIM (bt_insn_segments); the handler raises
 * #GP/#SS when the access is outside the limit, else returns BT_RESUME and
 * the instruction runs as translated. */
enum { BT_HELPER_BCD, BT_HELPER_ENTER, BT_HELPER_UNTRANSLATED, BT_HELPER_IRQ_WINDOW, BT_HELPER_MEMOP,
       BT_HELPER_FPU_TRAP, BT_HELPER_DIVIDE_ERROR, BT_HELPER_SEGLIMIT, BT_HELPER_COUNT };

/* Handler for each instruction kind that needs the monitor. The site carries
 * the decoded instruction. Kinds without a handler raise #UD. */
struct bt_handlers {
    bt_callout_fn kind[K_COUNT];
    bt_callout_fn invalid;    /* undecodable bytes: raise #UD */
    bt_callout_fn helper[BT_HELPER_COUNT];  /* instructions emulated in C (BCD, ...) */
    /* Optional: true if the kind's handler runs no floating-point
     * instruction for `in`; its callout then keeps the guest's MXCSR
     * (bt_rt_callout_nofp). */
    bool (*no_fp)(const struct insn *in);
};


/* A callout site: struct bt_site plus the decoded instruction. */
struct bt_site_insn {
    struct bt_site site;
    struct insn insn;
};

struct bt_config {
    bool no_chain;       /* never chain (the dispatcher reads this too) */
    bool rstack;         /* pair guest CALL/RET through the shadow return stack */
    bool no_superblocks; /* end every block at its first conditional branch */
    /* Continue a translation into the callee of a direct CALL on the same
     * page, and keep ESP's moves as a pending displacement from there on
     * (bt/xlate_inline.c, bt/xlate_espdelta.c). */
    bool inline_calls;
    bool no_lazy_esp;    /* inline calls, but move ESP at every push and pop */
    uint8_t ic_ways;     /* ways of each indirect site's inline cache, 1-4 (0: 4) */
    bool verify;         /* run the isolation verifier on every block */
    FILE *trace;         /* per-block log, or NULL */
    uint32_t max_insns;  /* block size cap in guest instructions (default 64) */
    bool callout_flags;  /* POPF always through the monitor (slow path, for tests) */
    /* Adaptive translation: should the memory instruction at guest linear eip
     * (physical phys) be a BT_HELPER_MEMOP callout? NULL: never. */
    bool (*slow_mem)(void *opaque, uint32_t eip, uint32_t phys);
    void *slow_mem_opaque;
    /* Adaptive translation: has the DIV/IDIV at eip (physical phys) raised
     * #DE before? Then it is translated to check first and raise #DE through
     * BT_HELPER_DIVIDE_ERROR, without a host signal. NULL: never. */
    bool (*checked_div)(void *opaque, uint32_t eip, uint32_t phys);
    void *checked_div_opaque;
    /* The segment bases (ES CS SS DS FS GS) of segment-base set `set` (see
     * BT_MODE_SEGSET); NULL: every set is flat. */
    void (*seg_bases)(void *opaque, uint32_t set, uint32_t base[6]);
    void *seg_bases_opaque;
    /* Debugger breakpoints: a block ends before an instruction at a guest
     * linear eip for which this says true (never before its first). */
    bool (*stop_at)(void *opaque, uint32_t eip);
    void *stop_at_opaque;
};

/* The translator's counters, each with its --stats description. */
#define BT_STATS(X)                                                                  \
    X(blocks,          "blocks translated")                                          \
    X(guest_insns,     "guest instructions translated")                              \
    X(guest_bytes,     "guest code bytes translated")                                \
    X(host_bytes,      "host code bytes emitted")                                    \
    X(callout_sites,   "instructions translated into callouts")                      \
    X(nofp_callout_sites, "callouts that keep the guest's MXCSR (handler runs no FP)") \
    X(memop_sites,     "instructions translated into monitor memory accesses")       \
    X(rstack_calls,    "CALLs translated through the shadow return stack")          \
    X(superblock_jccs, "conditional branches a translation continued past")         \
    X(superblock_jmps, "direct JMPs a translation continued at the target of")       \
    X(inlined_calls,   "direct CALLs a translation continued into the callee of")   \
    X(inlined_rets,    "RETs of inlined callees translated as a checked fall-through") \
    X(ic_ways_filled,  "indirect-site inline-cache ways filled with a target")      \
    X(verify_failures, "blocks the verifier rejected")

struct bt_stats {
#define X(name, desc) uint64_t name;
    BT_STATS(X)
#undef X
};

struct bt;

struct bt *bt_create(struct code_cache *cache, const struct bt_config *cfg,
                     const struct bt_handlers *h, char *err, size_t errlen);
void bt_destroy(struct bt *bt);

/* Emit the runtime trampolines into the cache (once) and fill the
 * tramp_* fields of cpu. Returns the enter function. */
bt_enter_fn bt_runtime_init(struct bt *bt, struct bt_cpu *cpu);
/* Point every shadow return stack entry at the miss path. The monitor calls
 * it whenever a landing pad could become wrong: the code cache is flushed
 * (its memory is reused), the jump cache is flushed (a linear page maps
 * elsewhere) or switched (another mode). */
void bt_rstack_reset(struct bt_cpu *cpu);

/* Translate the block at guest linear eip whose bytes are code[0..avail)
 * (avail may run past the page end so that an instruction crossing it can be
 * decoded; the block stops at the first page boundary); code[-before..0)
 * are the page's bytes below eip, readable too (a callee there may be
 * inlined; 0: none). phys is the guest
 * physical address of code[0]; frame2 the frame the bytes past the page end
 * come from (TB_NO_FRAME2: the physically next one); mode the block-key
 * mode bits. Returns the new, inserted block, or NULL if the cache is full
 * (the caller flushes and retries). */
struct tb *bt_translate(struct bt *bt, uint32_t eip, uint32_t phys, uint32_t frame2,
                        uint32_t mode, const uint8_t *code, size_t before, size_t avail);

/* May translated code enter block `to` without the dispatcher's checks?
 * Not a one-instruction step block (BT_MODE_STEP: the dispatcher runs
 * those itself, inside an interrupt shadow), and, with paging on, not a
 * block whose bytes cross a page end (the second page's mapping is
 * re-checked on every lookup). */
bool bt_enterable(const struct tb *to);

/* The dispatcher reached block `to` (at guest EIP eip) through exit `ex`:
 * chain a direct exit to it, or point an indirect site's inline cache at it.
 * The one link policy: never with --no-chain, never from a step block or
 * to a block that is not bt_enterable, and with paging on only within the exit's own
 * linear page (its mapping may change on a CR3 write or INVLPG; other
 * targets go through the jump cache, which is flushed then: QEMU's rule).
 * Returns true if something was patched. */
bool bt_link(struct bt *bt, struct tb_exit *ex, struct tb *to, uint32_t eip);

/* Guest state at a host signal raised inside block tb (DESIGN §5): the
 * side-table row of the host PC names the guest instruction and what the
 * block's code had done to the guest registers there (a register borrowed
 * into R10, string pointers rebased by segment bases), which is undone.
 * Async-signal-safe; ucontext is the handler's ucontext_t. */
struct bt_recovered {
    uint32_t eip;          /* the guest instruction the host PC belongs to */
    int32_t guest_off;     /* eip - tb->eip (negative in a callee inlined from below) */
    bool at_entry;         /* the block's entry poll: nothing of it ran yet */
    uint32_t gpr[8];       /* guest EAX..EDI (ESP with a pending displacement added) */
    uint32_t arith;        /* guest CF PF AF ZF SF OF DF (BT_ARITH_FLAGS bits) */
};
#define BT_ARITH_FLAGS 0xcd5u
void bt_recover(const struct bt *bt, const struct tb *tb, const void *ucontext, struct bt_recovered *r);

const struct bt_stats *bt_get_stats(const struct bt *bt);
/* The segment registers (bit per SEG_*) through which `in` accesses memory:
 * its ModRM or moffs operand, the stack, string source and destination.
 * Not the system instructions' (K_SYS) nor I/O strings'. */
unsigned bt_insn_segments(const struct insn *in);
/* For string instructions: does opcode op read [ESI] / use [EDI]? */
bool bt_string_reads_esi(uint8_t op);
bool bt_string_uses_edi(uint8_t op);
struct decoder *bt_decoder(struct bt *bt);
