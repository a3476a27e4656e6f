/* stackop — stack and branch instructions performed in C where translated
 * code cannot run them because their stack operand runs across the 4 GiB
 * wrap or onto device memory (memfault.c): CALL, RET, JMP/CALL r/m
 * (nearbranch.c), PUSHF, POPF, ENTER (their callouts), run outside their
 * block. SDM vol. 2 under each name: every access is made before ESP or
 * EIP changes, so a fault leaves the instruction without effect. Linear
 * addresses wrap at 4 GiB in guest_access, as the CPU's do. */
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
    struct bt_handlers h = { 0 };
    struct bt_site_insn s = { .site = { .eip = in->eip, .next_eip = in->eip + in->len, .len = in->len },
                              .insn = *in };

    switch (in->kind) {
    case K_PUSHF: case K_POPF:
        callouts_fill(&h);
        return run_handler(v, h.kind[in->kind], in);
    case K_ENTER:
        callouts_fill(&h);
        return run_handler(v, h.helper[BT_HELPER_ENTER], in);
    case K_CALL: case K_CALL_IND: case K_JMP_IND: case K_RET:
        near_branch(v, &s.site);        /* cpu->next_eip: the target, or the faulting EIP */
        return BT_EXIT;
    default:
        return -1;
    }
}
