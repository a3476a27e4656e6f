/* xlate_block — the block loop: decode, translate each instruction, close
 * the block with numbered exits, and record the side table.
 *
 * Layout of a block:
 *
 *   entry:  mov r11d, [r15-4096]        poll: faults when the monitor wants us out
 *           ...translated instructions...
 *           jmp/jcc rel32 -> stubN      exit N: patched to the target block on chaining
 *   stubN:  mov dword [r15+next_eip], target
 *           mov r11, &tb->exit[N]
 *           mov [r15+exit_slot], r11
 *           jmp bt_rt_exit
 *
 * Indirect branches end in an inline, flag-preserving jump-cache lookup.
 *
 * The side table's row 0 covers the entry poll alone (TB_PC_ENTRY): a poll
 * fault there is taken before anything of the block ran, so the guest state
 * is the block's entry state, whatever the first instruction does to its
 * registers later (a borrowed ESI/EDI, rebased string pointers). */
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "bt/abi_offsets.h"
#include "bt/verify.h"
#include "bt/xlate.h"

#define POLL_DISP (-4096)

/* The instruction kinds whose callout may resume inside the block. */
static bool callout_continues(int kind)
{
    return kind == K_IO || kind == K_PUSHF || kind == K_POPF || kind == K_BCD;
}

void xl_exit_direct(struct xl *xl, int cc, uint32_t target)
{
    size_t off;
    uint64_t here;

    if (xl->nexits == TB_MAX_EXITS) {   /* cannot happen: every kind uses at most two */
        xl->e.overflow = true;
        return;
    }
    if (xl->esp_delta && cc >= 0) {
        /* ESP made real on the taken path only (xlate_espdelta.c). */
        size_t over = emit_jcc_rel8(&xl->e, cc ^ 1);
        emit_lea_r32(&xl->e, H_RSP, H_RSP, -1, 0, xl->esp_delta);
        int32_t d = xl->esp_delta;
        xl->esp_delta = 0;
        xl_exit_direct(xl, -1, target);
        xl->esp_delta = d;
        xl->ended = false;
        emit_patch_rel8_here(&xl->e, over);
        return;
    }
    if (cc < 0)
        xl_esp_materialise(xl);
    here = emit_rx_here(&xl->e);
    off = cc < 0 ? emit_jmp_rel32(&xl->e, here) : emit_jcc_rel32(&xl->e, cc, here);
    xl->exit_patch[xl->nexits] = off;
    xl->exit_target[xl->nexits] = target;
    xl->nexits++;
    if (cc < 0)
        xl->ended = true;
}

/* Superblocks: a Jcc's fall-through continues in the same translation, so
 * a block runs on to the next unconditional transfer (or page end, size cap,
 * sensitive instruction) and pays one entry poll and no chained jump per
 * not-taken branch. The guest bytes stay one contiguous run on one page, so
 * SMC invalidation, revalidation by hash and the side table (one row per
 * instruction: faults in the middle are precise) work unchanged; the taken
 * exits are ordinary chainable exits. Room is kept for the last
 * instruction's two exits. */
bool xl_superblock_continues(const struct xl *xl)
{
    return !xl->bt->cfg.no_superblocks && !(xl->mode & BT_MODE_STEP) &&
           xl->nexits <= XL_JCC_EXITS - 2;
}

/* A direct JMP forward by at most XL_JMP_SKIP bytes on the same page
 * continues the translation at its target: the block's guest bytes stay one
 * run from its first byte on (the skipped ones included, so a store there
 * invalidates the block as if it ran them: conservative, never stale), its
 * side table stays one row per instruction in increasing guest order, and
 * faults stay precise. Backward jumps (loops) still end the block: the run
 * would no longer start at the block's first byte. Only flat 32-bit code
 * (no segment bases or limits: the target EIP is the linear offset, and a
 * CS limit check on the target stays with the next block's fetch). */
#define XL_JMP_SKIP 256

bool xl_superblock_jumps(const struct xl *xl, const struct insn *in)
{
    uint32_t next = in->eip + in->glen - xl->tb_eip, to = in->target - xl->tb_eip;
    uint32_t page_left = 4096 - (xl->tb_phys & 4095);

    return !xl->bt->cfg.no_superblocks && !(xl->mode & (BT_MODE_STEP | BT_MODE_CODE16)) &&
           in->opsize == 4 && BT_MODE_SEGSET(xl->mode) == 0 && BT_MODE_SEGLIM(xl->mode) == 0 &&
           in->target >= in->eip + in->glen && to - next <= XL_JMP_SKIP && to < page_left;
}

/* The jump-cache probe of the EIP in r11d, RCX parked in r8, flag-free:
 * r10 = the entry for the low 16 bits of the EIP, RCX = 0 on a hit (the
 * key compare is not/lea on a 64-bit key that an empty entry, 1<<32, never
 * matches). Shared by indirect sites and cross-page direct exits. */
void xl_emit_jc_probe(struct emit *e)
{
    emit_movzx_r32_r16(e, H_R10, H_R11);                 /* movzx r10d, r11w */
    emit_lea_r64(e, H_R10, H_R10, H_R10, 0, 0);          /* lea r10, [r10+r10] */
    emit_lea_r64(e, H_R10, H_R13, H_R10, 3, 0);          /* lea r10, [r13+r10*8] */
    emit_mov_r64_m64(e, H_RCX, H_R10, 0);                /* mov rcx, [r10] */
    emit_not_r64(e, H_RCX);                              /* not rcx */
    emit_lea_r64(e, H_RCX, H_RCX, H_R11, 0, 1);          /* lea rcx, [rcx+r11+1] */
}

/* The jump-cache lookup of the EIP in r11d, RCX parked in r8: a hit jumps to
 * the block, a miss exits to the dispatcher naming exit k. */
static void emit_jc_lookup(struct xl *xl, size_t k)
{
    struct emit *e = &xl->e;
    size_t jc_hit;

    xl_emit_jc_probe(e);
    jc_hit = emit_jrcxz_rel8(e);                         /* jrcxz jc_hit */
    emit_mov_r64_r64(e, H_RCX, H_R8);                    /* mov rcx, r8 */
    emit_mov_m32_r32(e, H_R15, CPU_NEXT_EIP, H_R11);     /* mov [r15+next_eip], r11d */
    emit_mov_r64_imm64(e, H_R10, (uint64_t)(uintptr_t)&xl->tb->exit[k]);
    emit_mov_m64_r64(e, H_R15, CPU_EXIT_SLOT, H_R10);    /* mov [r15+exit_slot], &exit[k] */
    emit_jmp_rel32(e, xl->bt->rt_exit);
    emit_patch_rel8_here(e, jc_hit);
    emit_mov_r64_r64(e, H_RCX, H_R8);                    /* jc_hit: mov rcx, r8 */
    emit_jmp_m64(e, H_R10, 8);                           /* jmp [r10+8] */
}

struct bt_site_insn *xl_callout(struct xl *xl, bt_callout_fn fn, const struct insn *in, uint32_t arg)
{
    struct bt_site_insn *s = cache_meta_alloc(xl->bt->cache, sizeof *s);
    struct emit *e = &xl->e;

    if (!s) {
        e->overflow = true;
        return NULL;
    }
    s->site.fn = fn;
    s->site.eip = in->eip;
    s->site.next_eip = in->eip + in->glen;
    s->site.len = in->len;
    memcpy(s->site.bytes, in->bytes, in->len);
    s->site.arg = arg;
    s->insn = *in;
    emit_mov_r64_imm64(e, H_R10, (uint64_t)(uintptr_t)s);   /* mov r10, site */
    emit_bytes(e, "\x4c\x8d\x1d\x05\x00\x00\x00", 7);        /* lea r11, [rip+5] */
    if (fn == xl->bt->h.kind[in->kind] && xl->bt->h.no_fp && xl->bt->h.no_fp(in)) {
        emit_jmp_rel32(e, xl->bt->rt_callout_nofp);          /* jmp bt_rt_callout_nofp */
        xl->bt->stats.nofp_callout_sites++;
    } else {
        emit_jmp_rel32(e, xl->bt->rt_callout);               /* jmp bt_rt_callout */
    }
    xl->bt->stats.callout_sites++;
    return s;
}

static void xl_unsupported(struct xl *xl, const struct insn *in)
{
    bt_callout_fn fn = xl->bt->h.helper[BT_HELPER_UNTRANSLATED];
    xl_callout(xl, fn ? fn : xl->bt->h.invalid, in, 0);
    xl_exit_direct(xl, -1, in->eip + in->glen);
}

/* Kinds whose implicit segment must be flat in this translation: MASKMOV
 * and XLAT operands (DS or the override). TODO(#4): fold those bases too;
 * the ModRM path, the stack (xl_ss) and strings handle theirs. */
static bool segments_supported(const struct xl *xl, const struct insn *in)
{
    if (!BT_MODE_SEGSET(xl->mode))
        return true;
    switch (in->kind) {
    case K_MASKMOV:
        return xl_seg_base(xl, in->seg != SEG_NONE ? in->seg : SEG_DS) == 0;
    case K_XLAT:
        return xl_seg_base(xl, in->seg != SEG_NONE ? in->seg : SEG_DS) == 0;
    default:
        return true;
    }
}

/* What the monitor performs for 16-bit code (BT_HELPER_UNTRANSLATED: memop
 * and the near branches in C): every implicit stack access on a 16-bit
 * stack (SP wraps at 64 KiB and the upper half of ESP is kept, which no
 * host addressing mode does), and indirect branches through a 16-bit
 * address. Measured real-mode code is dominated by plain moves and
 * arithmetic, which stay translated. */
static bool monitor16(const struct xl *xl, const struct insn *in)
{
    if (xl->mode & BT_MODE_STACK16) {
        switch (in->kind) {
        case K_PUSH: case K_POP: case K_PUSHA: case K_POPA: case K_ENTER: case K_LEAVE:
        case K_CALL: case K_RET: case K_CALL_IND:
            return true;
        default:
            break;
        }
    }
    return (in->kind == K_JMP_IND || in->kind == K_CALL_IND) && in->mod != 3 &&
           (in->flags & INSN_F_ADDR16);
}

static void translate_one(struct xl *xl, const struct insn *in)
{
    bool mem = in->modrm_off >= 0 && in->mod != 3;
    bool ok = true;
    struct bt *bt = xl->bt;

    /* A segment that is not flat: check the limit first (BT_MODE_SEGLIM). */
    if (BT_MODE_SEGLIM(xl->mode) && bt->h.helper[BT_HELPER_SEGLIMIT] &&
        (bt_insn_segments(in) & BT_MODE_SEGLIM(xl->mode)))
        xl_callout(xl, bt->h.helper[BT_HELPER_SEGLIMIT], in, 0);
    /* Adaptive translation: the monitor asked for this one to be emulated. */
    bool memop = (mem || in->kind == K_MOFFS || in->kind == K_STRING) && bt->cfg.slow_mem &&
                 bt->h.helper[BT_HELPER_MEMOP] &&
                 bt->cfg.slow_mem(bt->cfg.slow_mem_opaque, in->eip, xl->tb_phys + (in->eip - xl->tb_eip));
    if (xl_esp_lazy_insn(xl, in, memop))
        return;
    if (memop) {
        xl_callout(xl, bt->h.helper[BT_HELPER_MEMOP], in, 0);
        bt->stats.memop_sites++;
        return;
    }

    if ((xl->mode & BT_MODE_FPU_TRAP) && (in->flags & (INSN_F_FPU | INSN_F_SSE))) {
        xl_callout(xl, bt->h.helper[BT_HELPER_FPU_TRAP] ? bt->h.helper[BT_HELPER_FPU_TRAP]
                                                       : bt->h.invalid, in, 0);
        return;
    }
    if ((xl->mode & BT_MODE_STACK16) && xl_stack16(xl, in))
        return;
    if (!segments_supported(xl, in) || monitor16(xl, in)) {
        xl_unsupported(xl, in);
        return;
    }
    if (mem) {
        /* LEA computes an offset: segment bases do not apply to it. */
        uint32_t base = in->kind == K_LEA ? 0 : xl_seg_base(xl, xl_operand_seg(in));
        bool loads_rm = in->kind == K_PUSH || in->kind == K_POP || in->kind == K_JMP_IND ||
                        in->kind == K_CALL_IND;
        /* System instructions read their operands in C (op_ea), which
         * knows 16-bit addresses and segment bases. */
        bool in_c = in->kind == K_SYS || in->kind == K_SEG || in->kind == K_FAR || in->kind == K_UD;
        if ((in->flags & INSN_F_ADDR16 || (base && !loads_rm)) && !in_c) {
            if (in->kind == K_COPY_MEM || in->kind == K_LEA)
                xl_copy_borrowed(xl, in, base);
            else    /* TODO(#2): stack and branch operands with 16-bit addresses */
                xl_unsupported(xl, in);
            return;
        }
    }
    if (in->kind == K_SYS && in->id == X86_INS_RDTSC && xl_rdtsc(xl, in))
        return;
    if ((in->id == X86_INS_DIV || in->id == X86_INS_IDIV) && bt->cfg.checked_div &&
        bt->cfg.checked_div(bt->cfg.checked_div_opaque, in->eip, xl->tb_phys + (in->eip - xl->tb_eip)) &&
        xl_div_checked(xl, in))
        return;
    switch (in->kind) {
    case K_COPY:
    case K_COPY_MEM:
    case K_LEA:      /* a 32-bit LEA keeps the low 32 bits of the sum: the guest's */
        xl_copy(xl, in);
        break;
    case K_INCDEC_SHORT: case K_MOFFS: case K_XLAT: case K_SALC: case K_CLI: case K_STI:
    case K_MASKMOV:
        ok = xl_misc(xl, in);
        break;
    case K_PUSH: case K_POP: case K_PUSHA: case K_POPA: case K_ENTER: case K_LEAVE:
        ok = xl_stack(xl, in);
        break;
    case K_STRING:
        ok = xl_string(xl, in);
        break;
    case K_JCC: case K_JMP: case K_CALL: case K_RET: case K_LOOP: case K_JCXZ:
    case K_JMP_IND: case K_CALL_IND:
        ok = xl_branch(xl, in);
        break;
    case K_PUSHF:
        if (xl->mode & BT_MODE_STACK16)
            xl_callout(xl, xl->bt->h.kind[K_PUSHF] ? xl->bt->h.kind[K_PUSHF] : xl->bt->h.invalid, in, 0);
        else
            ok = xl_pushf(xl, in);
        break;
    case K_POPF:
        if (BT_MODE_CPL(xl->mode) == 0 && in->opsize == 4 && !xl->bt->cfg.callout_flags &&
            !(xl->mode & BT_MODE_STACK16))
            ok = xl_popf(xl, in);
        else
            xl_callout(xl, xl->bt->h.kind[K_POPF] ? xl->bt->h.kind[K_POPF] : xl->bt->h.invalid, in, 0);
        break;
    case K_BCD:
        xl_callout(xl, xl->bt->h.helper[BT_HELPER_BCD] ? xl->bt->h.helper[BT_HELPER_BCD]
                                                       : xl->bt->h.invalid, in, 0);
        break;
    default: {
        bt_callout_fn fn = xl->bt->h.kind[in->kind];
        xl_callout(xl, fn ? fn : xl->bt->h.invalid, in, 0);
        if (!callout_continues(in->kind))
            xl_exit_direct(xl, -1, in->eip + in->glen);
        break;
    }
    }
    if (!ok)
        xl_unsupported(xl, in);
}

/* A direct exit that bt_link will never chain because paging is on and its
 * target is on another linear page (QEMU's rule) looks the target up in
 * the jump cache before it returns to the dispatcher, as an indirect
 * branch does (QEMU: lookup_and_goto_ptr): the jump cache is emptied
 * whenever the mapping may change, so a hit is the block the dispatcher
 * would find. Not in step blocks (one instruction, then the dispatcher)
 * nor with chaining off. */
static bool jc_stub(const struct xl *xl, uint32_t target)
{
    return (xl->mode & BT_MODE_PG) && !(xl->mode & BT_MODE_STEP) && !xl->bt->cfg.no_chain &&
           (target >> 12) != (xl->tb_eip >> 12);
}

static void emit_stubs(struct xl *xl)
{
    struct emit *e = &xl->e;
    struct tb *tb = xl->tb;

    for (int k = 0; k < xl->nexits; k++) {
        size_t stub = emit_off(e);
        if (xl->exit_ic[k]) {
            /* An indirect site: unchained, its jump goes to the slow lookup. */
            emit_patch_rel32(e, xl->exit_patch[k], (uint64_t)xl->e.rx + xl->exit_stub[k]);
            tb->exit[k].from = tb;
            tb->exit[k].patch_off = (uint32_t)xl->exit_patch[k];
            tb->exit[k].stub_off = (uint32_t)xl->exit_stub[k];
            tb->exit[k].ic_off = (uint32_t)xl->exit_ic[k];
            continue;
        }
        if (jc_stub(xl, xl->exit_target[k])) {
            emit_mov_r32_imm32(e, H_R11, xl->exit_target[k]);
            emit_mov_r64_r64(e, H_R8, H_RCX);            /* mov r8, rcx */
            emit_jc_lookup(xl, (size_t)k);
        } else {
            emit_mov_m32_imm32(e, H_R15, CPU_NEXT_EIP, xl->exit_target[k]);
            emit_mov_r64_imm64(e, H_R11, (uint64_t)(uintptr_t)&tb->exit[k]);
            emit_mov_m64_r64(e, H_R15, CPU_EXIT_SLOT, H_R11);
            emit_jmp_rel32(e, xl->bt->rt_exit);
        }
        emit_patch_rel32(e, xl->exit_patch[k], (uint64_t)xl->e.rx + stub);
        tb->exit[k].from = tb;
        tb->exit[k].target_eip = xl->exit_target[k];
        tb->exit[k].patch_off = (uint32_t)xl->exit_patch[k];
        tb->exit[k].stub_off = (uint32_t)stub;
    }
}

/* A row for the instruction at guest offset guest_off, from here on, with
 * the ESP displacement pending now. An earlier row at the same host offset
 * has no host code of its own (nothing can fault in it) and is replaced. */
static void pc_row(struct xl *xl, int16_t guest_off, uint16_t flags)
{
    uint32_t here = (uint32_t)emit_off(&xl->e);
    struct tb_pcmap *last = xl->npc ? &xl->pc[xl->npc - 1] : NULL;

    flags = (uint16_t)((flags & ~TB_PC_ESP_MASK) | (xl->esp_delta ? TB_PC_ESP_DELTA(xl->esp_delta) : 0));

    if (last && last->host_off == here && !(last->flags & TB_PC_ENTRY)) {
        *last = (struct tb_pcmap){ here, guest_off, flags };
        return;
    }
    if (xl->npc == XL_MAX_ROWS) {
        xl->e.overflow = true;
        return;
    }
    xl->pc[xl->npc++] = (struct tb_pcmap){ here, guest_off, flags };
}

void xl_pc_state(struct xl *xl, uint16_t flags)
{
    pc_row(xl, xl->pc[xl->npc - 1].guest_off, flags);
}

int xl_decode(struct xl *xl, const uint8_t *code, size_t avail, uint32_t eip, struct insn *in)
{
    if (xl->mode & BT_MODE_CODE16)
        return decode_insn16(xl->bt->dec, code, avail, eip, in);
    return decode_insn(xl->bt->dec, code, avail, eip, in);
}

static void trace_block(struct xl *xl, const uint8_t *code)
{
    FILE *f = xl->bt->cfg.trace;
    struct tb *tb = xl->tb;
    char text[160];

    fprintf(f, "block %08x phys %08x: %u insns, %u guest bytes -> %u host bytes at %p\n",
            tb->eip, tb->phys, tb->ninsn, tb->guest_len, tb->host_len, (void *)tb->host);
    if (tb->below)
        fprintf(f, "  (and %u guest bytes below: inlined callees)\n", tb->below);
    for (uint32_t i = 0, next; i < tb->npcmap; i = next) {
        struct insn in;
        int32_t goff = tb->pcmap[i].guest_off;
        for (next = i + 1; next < tb->npcmap && tb->pcmap[next].guest_off == goff &&
                           !(tb->pcmap[i].flags & TB_PC_ENTRY); next++)
            ;   /* one line per instruction, over all its rows */
        uint32_t hend = next < tb->npcmap ? tb->pcmap[next].host_off : tb->host_len;
        if (tb->pcmap[i].flags & TB_PC_ENTRY)
            snprintf(text, sizeof text, "(entry poll)");
        else if (xl_decode(xl, code + goff, 15, tb->eip + goff, &in) == 0)
            insn_format(xl->bt->dec, &in, text, sizeof text);
        else
            snprintf(text, sizeof text, "(bad)");
        fprintf(f, "  %08x  %-40s  host +%04x..+%04x\n", tb->eip + goff, text,
                tb->pcmap[i].host_off, hend);
    }
}

struct tb *bt_translate(struct bt *bt, uint32_t eip, uint32_t phys, uint32_t frame2,
                        uint32_t mode, const uint8_t *code, size_t before, size_t avail)
{
    uint8_t *rw, *rx;
    size_t room;
    /* off: the next instruction's guest offset from eip, negative in a
     * callee inlined from below; [lo, hi): the guest bytes covered. */
    int32_t off = 0, lo = 0, hi = 0, page_left = (int32_t)(4096 - (phys & 4095));
    uint32_t max = bt->cfg.max_insns ? bt->cfg.max_insns : 64;
    struct xl xl;
    struct tb *tb;

    if (max > XL_MAX_INSNS - 1)
        max = XL_MAX_INSNS - 1;
    cache_begin(bt->cache, &rw, &rx, &room);
    if (room < 8192)
        return NULL;
    tb = cache_new_tb(bt->cache);
    if (!tb)
        return NULL;
    memset(&xl, 0, sizeof xl);
    xl.bt = bt;
    xl.tb = tb;
    xl.mode = mode;
    xl.tb_eip = eip;
    xl.tb_phys = phys;
    xl.below_max = (int32_t)(before < (phys & 4095) ? before : (phys & 4095));
    xl.page_left = avail < (size_t)page_left ? (int32_t)avail : page_left;
    if (BT_MODE_SEGSET(mode) && bt->cfg.seg_bases)
        bt->cfg.seg_bases(bt->cfg.seg_bases_opaque, BT_MODE_SEGSET(mode), xl.seg_base);
    emit_init(&xl.e, rw, rx, room > 65536 ? 65536 : room);
    pc_row(&xl, 0, TB_PC_ENTRY);
    emit_mov_r32_m32(&xl.e, H_R11, H_R15, POLL_DISP);

    while (!xl.ended) {
        struct insn in;
        int r;

        bool breakpoint = xl.ninsn > 0 && bt->cfg.stop_at &&
                          bt->cfg.stop_at(bt->cfg.stop_at_opaque, eip + (uint32_t)off);
        /* A translation that inlined a call may grow to the table's size:
         * the rest of a call tree cut off costs unpaired returns. */
        int cap = xl.inlined && !bt->cfg.max_insns ? XL_MAX_INSNS - 1 : (int)max;
        if (xl.ninsn >= cap || off >= page_left || (off >= (int64_t)avail && xl.ninsn > 0) ||
            breakpoint || xl.nexits > XL_JCC_EXITS - 2) {
            xl_exit_direct(&xl, -1, eip + (uint32_t)off);
            break;
        }
        if ((mode & BT_MODE_CODE16) && eip + off > 0xffff) {
            xl_exit_direct(&xl, -1, eip + (uint32_t)off);   /* past CS's 64 KiB: the dispatcher's #GP */
            break;
        }
        r = xl_decode(&xl, code + off, avail - (size_t)(int64_t)off, eip + (uint32_t)off, &in);
        /* A translation with inlined callees stays on its page. */
        if ((r == -2 || (xl.inlined && r == 0 && off + in.glen > page_left)) && xl.ninsn > 0) {
            xl_exit_direct(&xl, -1, eip + (uint32_t)off);
            break;
        }
        pc_row(&xl, (int16_t)off, 0);
        xl.ninsn++;
        if (r != 0) {
            in.eip = eip + (uint32_t)off;
            if (in.glen == 0)
                in.len = in.glen = 1;
            xl_callout(&xl, bt->h.invalid, &in, 0);
            xl_exit_direct(&xl, -1, eip + (uint32_t)off);
            off += in.glen;
            hi = off > hi ? off : hi;
            break;
        }
        translate_one(&xl, &in);
        lo = off < lo ? off : lo;
        off += in.glen;
        hi = off > hi ? off : hi;
        if (xl.redirect) {          /* a JMP, inlined CALL or RET continues elsewhere */
            off = xl.next_off;
            xl.redirect = false;
        }
        if (xl.e.overflow)
            return NULL;
    }
    emit_stubs(&xl);
    if (xl.e.overflow)
        return NULL;
    if (off > hi)
        hi = off;

    tb->pcmap = cache_meta_alloc(bt->cache, sizeof(struct tb_pcmap) * (size_t)xl.npc);
    if (!tb->pcmap)
        return NULL;
    memcpy(tb->pcmap, xl.pc, sizeof(struct tb_pcmap) * (size_t)xl.npc);
    tb->npcmap = (uint32_t)xl.npc;
    tb->eip = eip;
    tb->phys = phys;
    tb->mode = mode;
    tb->guest_len = (uint32_t)hi;
    tb->below = (uint16_t)-lo;
    tb->hash = cache_hash_guest(code + lo, (size_t)(hi - lo));
    tb->ninsn = (uint32_t)xl.ninsn;
    tb->host = rx;
    tb->host_len = (uint32_t)emit_off(&xl.e);
    /* The isolation guarantee (DESIGN §2): a block the verifier rejects never runs. */
    if (bt->cfg.verify) {
        struct verify_result vr;
        if (!bt_verify(rw, tb->host_len, (uint64_t)(uintptr_t)rx, &vr)) {
            bt->stats.verify_failures++;
            fprintf(stderr, "bt86: verifier rejects the block at %08x: %s\n", eip, vr.why);
            return NULL;
        }
    }
    xl_ic_start_learning(&xl, rw);
    tb->valid = true;
    tb->frame2 = frame2;
    cache_commit(bt->cache, tb->host_len);
    cache_insert(bt->cache, tb);

    bt->stats.blocks++;
    bt->stats.guest_insns += tb->ninsn;
    bt->stats.guest_bytes += (uint64_t)(hi - lo);
    bt->stats.host_bytes += tb->host_len;
    if (bt->cfg.trace)
        trace_block(&xl, code);
    return tb;
}

bool bt_enterable(const struct tb *to)
{
    return !(to->mode & BT_MODE_STEP) && !((to->mode & BT_MODE_PG) && tb_crosses(to));
}

bool bt_link(struct bt *bt, struct tb_exit *ex, struct tb *to, uint32_t eip)
{
    bool same_page = true;
    if (ex->from->mode & BT_MODE_PG) {
        /* The same linear page: EIPs are offsets from the CS base. */
        uint32_t base[6] = { 0 };
        if (BT_MODE_SEGSET(ex->from->mode) && bt->cfg.seg_bases)
            bt->cfg.seg_bases(bt->cfg.seg_bases_opaque, BT_MODE_SEGSET(ex->from->mode), base);
        same_page = ((eip + base[SEG_CS]) >> 12) == ((ex->from->eip + base[SEG_CS]) >> 12);
    }
    /* A block that serves any FS (GS) base may only lead to one that does
     * too: it is reached again under other bases. */
    bool ok = !bt->cfg.no_chain && ex->patch_off && !(ex->from->mode & BT_MODE_STEP) &&
              bt_enterable(to) && same_page && !(ex->from->mode & ~to->mode & BT_MODE_ANY_FSGS);

    if (ex->ic_off)
        return xl_ic_link(bt, ex, ok ? to : NULL, eip);
    if (!ok || ex->to || ex->target_eip != eip)
        return false;
    cache_chain(bt->cache, ex, to);
    return ex->to == to;
}
