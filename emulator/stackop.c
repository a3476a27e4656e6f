/* stackop — stack and branch instructions performed in C where translated
 * code cannot run them: a stack operand that runs across the 4 GiB wrap
 * or onto device memory (memfault.c), a branch operand with a 16-bit
 * address (callouts.c). SDM vol. 2 "CALL", "RET", "JMP", "PUSHF", "POPF",
 * "ENTER": every access is made before ESP or EIP changes, so a fault
 * leaves the instruction without effect. Linear addresses wrap at 4 GiB
 * in guest_access, as the CPU's do. */
#include "emulator/paging.h"

/* A callout handler run outside its block: a site made for the occasion. */
static int run_handler(struct vcpu *v, bt_callout_fn fn, const struct insn *in)
{
    struct bt_site_insn s = { .site = { .fn = fn, .eip = in->eip, .next_eip = in->eip + in->len,
                                        .len = in->len }, .insn = *in };
    int r = fn(&v->bt, &s.site);

    if (r == BT_RESUME)
        v->bt.next_eip = s.site.next_eip;
    return BT_EXIT;
}

bool stackop_performs(const struct insn *in)
{
    switch (in->kind) {
    case K_PUSHF: case K_POPF: case K_ENTER: case K_CALL: case K_CALL_IND: case K_JMP_IND: case K_RET:
        return true;
    default:
        return false;
    }
}

int stackop_run(struct vcpu *v, const struct insn *in)
{
    struct bt_cpu *cpu = &v->bt;
    struct bt_handlers h = { 0 };
    unsigned n = in->opsize;
    uint32_t esp = cpu->gpr[R_ESP], next = in->eip + in->len, target = 0;

    switch (in->kind) {
    case K_PUSHF: case K_POPF:
        callouts_fill(&h);
        return run_handler(v, h.kind[in->kind], in);
    case K_ENTER:
        callouts_fill(&h);
        return run_handler(v, h.helper[BT_HELPER_ENTER], in);
    case K_CALL:
        target = in->target;
        break;
    case K_CALL_IND: case K_JMP_IND:
        if (!op_read_rm(v, in, n, &target, in->eip))
            return BT_EXIT;
        break;
    case K_RET:
        if (!stack_pop(v, &esp, n, &target, in->eip))
            return BT_EXIT;
        if (in->opcode == 0xc2)
            esp += (uint16_t)in->imm;
        break;
    default:
        return -1;
    }
    if ((in->kind == K_CALL || in->kind == K_CALL_IND) && !stack_push(v, &esp, n, next, in->eip))
        return BT_EXIT;
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = n == 2 ? target & 0xffff : target;
    return BT_EXIT;
}
