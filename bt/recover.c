/* recover — guest state from a host signal's machine context, for a host
 * PC inside a translated block (DESIGN §5; what QEMU's cpu_restore_state
 * and DynamoRIO's translate.c do). Translated code keeps guest EAX..EDI in
 * host RAX..RDI and the arithmetic flags in host RFLAGS, so most of the
 * state is read straight out of the context; the side-table row of the host
 * PC (sidetable.h) says what the block's own code had changed there:
 *
 *   TB_PC_ENTRY      the entry poll: nothing ran, nothing to undo
 *   TB_PC_SPILL(r)   guest register r is borrowed; its value is in R10
 *   TB_PC_STR_*      a string instruction added segment bases to ESI/EDI
 *   TB_PC_ESP        ESP's moves since an inlined CALL are pending: add them
 *
 * RSI/RDI rebased into the guest window (r14 + ESI, xlate_string.c) need no
 * row: the window's base is 4 GiB aligned, so truncating to 32 bits undoes
 * it. Runs in a signal handler: no allocation, no locks. */
#define _GNU_SOURCE
#include <ucontext.h>

#include "bt/xlate.h"

static const int reg_of[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };

void bt_recover(const struct bt *bt, const struct tb *tb, const void *ucontext, struct bt_recovered *r)
{
    const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
    const struct tb_pcmap *pm = tb_pc_lookup(tb, (const void *)g[REG_RIP]);
    uint16_t flags = pm ? pm->flags : 0;

    r->guest_off = pm ? pm->guest_off : 0;
    r->eip = tb->eip + (uint32_t)r->guest_off;
    r->at_entry = (flags & TB_PC_ENTRY) != 0;
    for (int k = 0; k < 8; k++)
        r->gpr[k] = (uint32_t)g[reg_of[k]];
    if (TB_PC_SPILLED_REG(flags) >= 0)
        r->gpr[TB_PC_SPILLED_REG(flags)] = (uint32_t)g[REG_R10];
    r->gpr[R_ESP] += (uint32_t)TB_PC_ESP_OF(flags);
    if ((TB_PC_STR_SRC_SEG(flags) >= 0 || (flags & TB_PC_STR_ES)) && BT_MODE_SEGSET(tb->mode) &&
        bt->cfg.seg_bases) {
        uint32_t base[6];
        bt->cfg.seg_bases(bt->cfg.seg_bases_opaque, BT_MODE_SEGSET(tb->mode), base);
        if (TB_PC_STR_SRC_SEG(flags) >= 0)
            r->gpr[R_ESI] -= base[TB_PC_STR_SRC_SEG(flags)];
        if (flags & TB_PC_STR_ES)
            r->gpr[R_EDI] -= base[SEG_ES];
    }
    r->arith = (uint32_t)g[REG_EFL] & BT_ARITH_FLAGS;
}
