/* xlate_rstack — the shadow return stack: a guest RET goes straight back to
 * its CALL's continuation through a per-vCPU table of landing pads, instead
 * of hashing the return EIP into the jump cache (DESIGN §3, returns).
 *
 * The slot is chosen by the guest ESP that holds the return address: CALL
 * writes it there and RET reads it from there, so both compute the same slot
 * from a register they already have, with no stack-top index to keep (a
 * memory index costs two store-forwarding delays per call/ret pair, a
 * register index a loop-carried dependency; both measured slower than the
 * jump-cache lookup this replaces). Nested frames lie at different ESPs, so
 * they take different slots (256 slots of 4-byte stack words: a 1 KiB
 * window, then they alias, which costs a miss). A translated CALL with
 * return address R, after the guest push:
 *
 *           rorx r10d, esp, 2                  slot = (ESP >> 2) mod 256
 *           movzx r10d, r10b
 *           lea r10, [r15 + r10*8]
 *           lea r9, [rip + land]
 *           mov [r10 + rstack], r9
 *           ...the exit to the callee...
 *   land:   mov r8, rcx                        (a RET comes here)
 *           lea ecx, [r11 - R]                 flag-free: the guest returns to R?
 *           jrcxz hit
 *           mov rcx, r8
 *           jmp bt_rt_rs_miss                  no: jump-cache lookup of r11
 *   hit:    mov rcx, r8
 *           jmp rel32 -> R's block             a chainable exit
 *
 * and a translated RET, with the return EIP loaded into r11d:
 *
 *           rorx r10d, esp, 2                  the same slot, ESP not yet moved
 *           movzx r10d, r10b
 *           lea r10, [r15 + r10*8]
 *           lea esp, [rsp + 4 + imm16]
 *           jmp [r10 + rstack]
 *
 * The host predicts that last jump per RET site from its branch history,
 * like the jump-cache lookup's, but reaches it with fewer instructions and
 * no hashing, and the landing pad's check is a branch the host predicts per
 * call site.
 *
 * Every popped entry is validated against the guest's actual return EIP
 * before anything uses it, so stack switches, longjmp, hand-built return
 * addresses, RET imm16 and unbalanced CALL/RET only cost a miss. What
 * validation cannot catch is an entry whose landing pad no longer exists or
 * was translated for another mapping or mode: the monitor resets the table
 * (bt_rstack_reset) whenever that can happen. A block invalidated by
 * self-modifying code needs no reset: its memory lives until the next flush,
 * and its landing pad only names R, whose block is reached through a chain
 * that invalidation unlinks. */
#include <string.h>

#include "bt/abi_offsets.h"
#include "bt/xlate.h"

bool xl_rstack_on(const struct xl *xl)
{
    /* RORX is BMI2: a shift that leaves the guest's flags alone. */
    return xl->bt->cfg.rstack && !xl->bt->cfg.no_chain && !(xl->mode & BT_MODE_STEP) &&
           __builtin_cpu_supports("bmi2");
}

/* r10 = &rstack[(ESP >> 2) mod 256] - rstack, i.e. r15 + slot * 8. */
static void slot_of_esp(struct emit *e)
{
    static const uint8_t rorx[6] = { 0xc4, 0x63, 0x7b, 0xf0, 0xd4, 0x02 };  /* rorx r10d, esp, 2 */

    emit_bytes(e, rorx, sizeof rorx);
    emit_modrm_reg(e, OPC_MOVZBL | P_BYTERM, H_R10, H_R10);  /* movzx r10d, r10b */
    emit_lea_r64(e, H_R10, H_R15, H_R10, 3, 0);               /* lea r10, [r15 + r10*8] */
}

void xl_rstack_call(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    (void)in;
    slot_of_esp(e);
    emit_bytes(e, "\x4c\x8d\x0d", 3);                   /* lea r9, [rip + land] */
    xl->rs_land_rel = emit_off(e);
    emit_u32(e, 0);
    emit_mov_m64_r64(e, H_R10, CPU_RSTACK, H_R9);       /* mov [r10 + rstack], r9 */
    xl->bt->stats.rstack_calls++;
}

void xl_rstack_land(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    uint32_t ret_eip = in->eip + in->glen;
    int32_t rel = (int32_t)(emit_off(e) - (xl->rs_land_rel + 4));
    size_t hit;

    if (!e->overflow)
        memcpy(e->start + xl->rs_land_rel, &rel, 4);
    emit_mov_r64_r64(e, H_R8, H_RCX);
    emit_lea_r32(e, H_RCX, H_R11, -1, 0, (int32_t)(0u - ret_eip));
    hit = emit_jrcxz_rel8(e);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    emit_jmp_rel32(e, xl->bt->rt_rs_miss);
    emit_patch_rel8_here(e, hit);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    xl_exit_direct(xl, -1, ret_eip);
}

void xl_rstack_ret(struct xl *xl, int32_t pop)
{
    struct emit *e = &xl->e;

    slot_of_esp(e);
    emit_lea_r32(e, H_RSP, H_RSP, -1, 0, pop);
    emit_jmp_m64(e, H_R10, CPU_RSTACK);                 /* jmp [r10 + rstack] */
    xl->ended = true;
}
