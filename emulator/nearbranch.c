/* nearbranch — near CALL, RET and indirect JMP/CALL performed by the
 * monitor: on a 16-bit stack (SS.B = 0, where SP wraps at 64 KiB and the
 * upper half of ESP stays, which no host addressing mode expresses) and
 * through a 16-bit address (BT_MODE_STACK16, bt/xlate_block.c). SDM vol. 2
 * "CALL", "RET", "JMP": the target is read first, the return address
 * pushed, and nothing changes if an access faults; a target beyond the CS
 * limit is #GP(0). */
#include "emulator/paging.h"

int near_branch(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t esp = cpu->gpr[R_ESP], target = 0;

    v->vm->stats.callouts[K_COUNT]++;
    switch (in->kind) {
    case K_CALL:
        target = in->target;
        break;
    case K_JMP_IND: case K_CALL_IND:
        if (!op_read_rm(v, in, n, &target, site->eip))
            return BT_EXIT;
        break;
    default: /* K_RET */
        if (!stack_pop(v, &esp, n, &target, site->eip))
            return BT_EXIT;
        if (in->opcode == 0xc2) {
            uint32_t m = vcpu_stack16(v) ? 0xffffu : 0xffffffffu;
            esp = (esp & ~m) | ((esp + (uint16_t)in->imm) & m);
        }
        break;
    }
    if (n == 2)
        target &= 0xffff;
    if (target > v->seg[SEG_CS].limit)
        return raise_fault(v, GP(0), site->eip);
    if ((in->kind == K_CALL || in->kind == K_CALL_IND) &&
        !stack_push(v, &esp, n, site->next_eip, site->eip))
        return BT_EXIT;
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = target;
    return callout_continue(v);
}
