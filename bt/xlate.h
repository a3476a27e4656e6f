/* xlate — internal to bt/: the state of one block being translated, and the
 * per-kind translation functions (xlate_*.c) that the block loop calls. */
#pragma once
#include "bt/bt.h"
#include "bt/emit.h"
#include "bt/sidetable.h"

#define XL_MAX_INSNS 128
/* Side-table rows: the entry poll's, one per instruction, and one more at
 * each point inside an instruction where the recovery recipe changes (a
 * register borrowed, a string's segment bases added). */
#define XL_MAX_ROWS (4 * XL_MAX_INSNS + 1)
/* Exits a superblock may leave behind through Jccs, its last instruction's
 * included; the rest of TB_MAX_EXITS is for an indirect site's ways. */
#define XL_JCC_EXITS 6
/* Callees inlined into one another at most (xlate_inline.c). */
#define XL_INLINE_DEPTH 8

struct bt {
    struct code_cache *cache;
    struct decoder *dec;
    struct bt_config cfg;
    struct bt_handlers h;
    struct bt_stats stats;
    uint64_t rt_enter, rt_exit, rt_callout, rt_signal_exit, rt_rs_miss;  /* RX addresses */
    uint64_t rt_callout_nofp;   /* for sites whose handler runs no floating point (no_fp) */
};

struct xl {
    struct bt *bt;
    struct emit e;
    struct tb *tb;
    uint32_t mode;                       /* BT_MODE_* of the block */
    uint32_t tb_eip, tb_phys;            /* the block's first byte, linear and physical */
    uint32_t seg_base[6];                /* ES CS SS DS FS GS bases (BT_MODE_SEGSET != 0) */
    int nexits;
    uint32_t exit_target[TB_MAX_EXITS];
    size_t exit_patch[TB_MAX_EXITS];     /* offsets of rel32 fields jumping to the stubs */
    size_t exit_stub[TB_MAX_EXITS];      /* indirect sites: where the unchained jump goes */
    size_t exit_ic[TB_MAX_EXITS];        /* indirect sites: offset of the cached -EIP, else 0 */
    bool ended;                          /* a control transfer closed the block */
    struct tb_pcmap pc[XL_MAX_ROWS];
    int npc;                             /* rows in pc */
    int ninsn;                           /* guest instructions translated */
    size_t rs_land_rel;                  /* xl_rstack_call's rel32 to the landing pad */
    bool redirect;                       /* a JMP, inlined CALL or RET continues the */
    int32_t next_off;                    /* translation at this guest offset */
    /* Call inlining (xlate_inline.c): the guest bytes usable around the
     * block's first one, [-below_max, page_left) (never past the page);
     * the return EIPs of the callees being translated, innermost last. */
    int32_t below_max, page_left;
    int inl_depth;
    uint32_t inl_ret[XL_INLINE_DEPTH];
    int inlined;                         /* CALLs inlined in this block */
    /* Lazy ESP (xlate_espdelta.c): on after the first inlined CALL; guest
     * ESP = host ESP + esp_delta. */
    bool esp_lazy;
    int32_t esp_delta;
};

/* From the current host offset on, the instruction being translated is in
 * the state `flags` (TB_PC_*) describes: a new side-table row. Call it right
 * after the host instruction that makes the state true (the one that parks
 * a register in r10, say), never before, so that a fault or poll at any
 * host PC is recovered with the recipe in force there. */
void xl_pc_state(struct xl *xl, uint16_t flags);

/* Call inlining (xlate_inline.c). At a direct CALL: continue the
 * translation in its callee (after the guest push)? At a RET: is it an
 * inlined callee's, translated as a checked fall-through? Each emits the
 * instruction if it says true. */
bool xl_inline_call(struct xl *xl, const struct insn *in);
bool xl_inline_ret(struct xl *xl, const struct insn *in);

/* Lazy ESP (xlate_espdelta.c). Before translating `in` (memop: it becomes
 * a monitor callout): translate it with ESP's pending displacement (true),
 * or materialise ESP so that the ordinary translation applies (false). */
bool xl_esp_lazy_insn(struct xl *xl, const struct insn *in, bool memop);
/* lea esp, [rsp + delta]; no displacement pending from here on. */
void xl_esp_materialise(struct xl *xl);
/* Move the pending displacement by d, or materialise ESP moved by d when
 * the result does not fit the side table's field. */
void xl_esp_move(struct xl *xl, int32_t d);

/* Decode one instruction as the block's code size says (CODE16). */
int xl_decode(struct xl *xl, const uint8_t *code, size_t avail, uint32_t eip, struct insn *in);

/* Block exits (xlate_block.c). */
/* After a Jcc's taken exit: may the translation go on with its fall-through
 * (a superblock) instead of ending with a second exit? */
bool xl_superblock_continues(const struct xl *xl);
/* At a direct JMP from guest offset off: may the translation go on at its
 * target instead of ending (the target a little further on, same page)? */
bool xl_superblock_jumps(const struct xl *xl, const struct insn *in);
/* The jump-cache probe of the EIP in r11d (RCX parked in r8): r10 = the
 * entry, RCX = 0 on a hit. */
void xl_emit_jc_probe(struct emit *e);
void xl_exit_direct(struct xl *xl, int cc, uint32_t target);   /* cc -1: jmp */
void xl_exit_indirect_r11(struct xl *xl);                       /* target EIP in r11d */
void xl_exit_return_r11(struct xl *xl);                         /* the same, for RET */
/* bt_link for an indirect site's miss exit ex (its first way): fill a free
 * way with eip -> to (NULL: the target may not be chained to), and stop
 * learning once the ways are full or learning stopped paying (xlate_icache.c). */
bool xl_ic_link(struct bt *bt, struct tb_exit *ex, struct tb *to, uint32_t eip);
/* After verification: aim every site's jump-cache hit at its miss exit, so
 * the dispatcher sees the first targets (rw: the block's writable view). */
void xl_ic_start_learning(struct xl *xl, uint8_t *rw);
/* Emit a callout to fn for instruction `in`; returns the site. */
struct bt_site_insn *xl_callout(struct xl *xl, bt_callout_fn fn, const struct insn *in, uint32_t arg);

/* Link an exit taken to the block it reached: chain a direct exit, or fill an
 * indirect site's inline cache (xlate_block.c; the dispatcher calls it). */
/* (declared in bt.h as bt_link) */

/* Copying guest instructions (xlate_copy.c). */
void xl_copy(struct xl *xl, const struct insn *in);
/* A memory operand reached through a borrowed register: 16-bit addressing,
 * or a segment with a non-zero base (seg_base, added to the address). */
void xl_copy_borrowed(struct xl *xl, const struct insn *in, uint32_t seg_base);
/* The segment (SEG_*) the instruction's ModRM operand goes through. */
int xl_operand_seg(const struct insn *in);
/* That segment's base in this block's mode (0 when flat). The block then
 * depends on it (tb->seg_bases_read). */
static inline uint32_t xl_seg_base(const struct xl *xl, int seg)
{
    xl->tb->seg_bases_read |= (uint8_t)(1u << seg);
    return BT_MODE_SEGSET(xl->mode) ? xl->seg_base[seg] : 0;
}
/* The SS base as a displacement: stack accesses are [rsp + r14 + d]; a sum
 * that wraps at 4 GiB lands in a guard of the window and is emulated. */
static inline int32_t xl_ss(const struct xl *xl) { return (int32_t)xl_seg_base(xl, SEG_SS); }
/* Emit `in` with its ModRM reg field replaced by host register reg (REX as
 * needed), its opcode replaced by opc[0..opc_len), operand size prefix kept;
 * the memory operand (if any) rewritten for guest memory (xlate_copy.c), or
 * for LEA (opc 8D) kept as the guest's 32-bit address. reg is written, never
 * read: it may be the scratch (r11) the operand's address goes through. */
void xl_reencode(struct xl *xl, const struct insn *in, const uint8_t *opc, int opc_len,
                 int reg, bool rexw, bool copy_imm);
/* Load the r/m operand (32 or 16 bits zero-extended, per opsize) into host reg. */
void xl_load_rm(struct xl *xl, const struct insn *in, int reg);

/* Per-kind translations. Each returns false if it cannot translate `in`
 * (the caller then emits a callout that stops with a clear message). */
bool xl_stack(struct xl *xl, const struct insn *in);     /* PUSH POP PUSHA POPA ENTER LEAVE */
bool xl_stack16(struct xl *xl, const struct insn *in);   /* PUSH r, POP r, CALL, RET on a 16-bit stack */
bool xl_branch(struct xl *xl, const struct insn *in);    /* JCC JMP CALL RET LOOP JCXZ JMP_IND CALL_IND */
/* The shadow return stack (xlate_rstack.c): is it used in this block? After
 * CALL's guest push: record a landing pad for in's next EIP in ESP's slot;
 * then the caller emits the exit to the callee, then the landing pad
 * (xl_rstack_land). At RET, with the return EIP in r11d and ESP not yet
 * moved: move ESP by `pop` and jump through ESP's slot. */
bool xl_rstack_on(const struct xl *xl);
void xl_rstack_call(struct xl *xl, const struct insn *in);
void xl_rstack_land(struct xl *xl, const struct insn *in);
void xl_rstack_ret(struct xl *xl, int32_t pop);
bool xl_string(struct xl *xl, const struct insn *in);
bool xl_misc(struct xl *xl, const struct insn *in);      /* INCDEC_SHORT MOFFS XLAT SALC CLI STI */
bool xl_pushf(struct xl *xl, const struct insn *in);     /* inline PUSHF (xlate_flags.c) */
bool xl_popf(struct xl *xl, const struct insn *in);      /* inline POPF at CPL 0, 32-bit */
/* pushfq (op 0x9c, disp = slot + 8) or popfq (0x9d, disp = slot) through the
 * vCPU's RFLAGS slot, RSP borrowed for that one instruction (xlate_flags.c). */
void xl_rflags_slot(struct emit *e, int32_t disp, uint8_t op);
/* DIV/IDIV that raises #DE through a callout instead of a host SIGFPE
 * (xlate_div.c); false: the form is copied as it is. */
bool xl_div_checked(struct xl *xl, const struct insn *in);
/* Inline RDTSC (xlate_rdtsc.c); false: the block needs the callout. */
bool xl_rdtsc(struct xl *xl, const struct insn *in);
/* After an instruction that may set IF: hand a waiting interrupt to the
 * monitor; with tf (POPF), also leave when it set EFLAGS.TF. */
void xl_check_irq_window(struct xl *xl, const struct insn *in, bool tf);
