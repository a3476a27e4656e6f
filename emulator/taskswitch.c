/* taskswitch — hardware task switches (SDM vol. 3A §7.3 "Task Switching").
 *
 * A task switch is started by a far JMP or CALL to a TSS descriptor or a
 * task gate (transfer.c), by an exception or interrupt whose IDT entry is a
 * task gate (exceptions.c), or by IRET with EFLAGS.NT set, which returns to
 * the task in the current TSS's back link (transfer.c). 32-bit TSS:
 *
 *   0x00 back link   0x1c CR3   0x20 EIP   0x24 EFLAGS   0x28-0x44 EAX..EDI
 *   0x48-0x5c ES CS SS DS FS GS   0x60 LDT selector   0x66 I/O map base
 *
 * The order is the SDM's (§7.3, steps 1-13, and table 7-1): everything that
 * can fault in the old task's context is checked first (the new TSS's
 * descriptor, present, limit >= 0x67, busy bit; the old TSS's limit; the new
 * TSS readable) and then the switch commits: the old task's dynamic state is
 * saved, busy bits and the back link are updated, TR, CR0.TS, CR3, the
 * registers and EIP are loaded. Segment and LDT selectors are checked after
 * that; a fault there is raised in the new task's context (its EIP). */
#include <string.h>

#include "emulator/paging.h"

enum {
    TSS_LINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_GPR = 0x28,
    TSS_SEG = 0x48, TSS_LDT = 0x60, TSS32_SIZE = 0x68,
};

static uint32_t sel_err(uint16_t sel) { return sel & 0xfffcu; }

static uint32_t rd32(const uint8_t *img, unsigned at)
{
    uint32_t x;
    memcpy(&x, img + at, 4);
    return x;
}

/* The busy bit (type bit 1) of the GDT's TSS descriptor for sel. The GDT
 * was just read through the same mapping, so the access succeeds. */
static void set_busy(struct vcpu *v, uint16_t sel, bool busy)
{
    uint32_t at = v->gdtr.base + (sel & 0xfff8u) + 5;
    uint8_t b = 0;

    if (sys_read(v, at, &b, 1)) {
        b = (uint8_t)(busy ? b | 2 : b & ~2);
        sys_write(v, at, &b, 1);
    }
    v->pf.pending = false;
}

/* Save the outgoing task's dynamic fields (step 8). */
static bool save_state(struct vcpu *v, uint32_t base, uint32_t eip, uint32_t eflags)
{
    struct bt_cpu *cpu = &v->bt;
    uint8_t img[TSS_LDT - TSS_EIP];

    memcpy(img, &eip, 4);
    memcpy(img + 4, &eflags, 4);
    memcpy(img + 8, cpu->gpr, 32);
    for (int s = 0; s < 6; s++) {
        uint32_t sel = v->seg[s].sel;
        memcpy(img + TSS_SEG - TSS_EIP + 4 * s, &sel, 2);
        /* the upper half of each selector slot is reserved: keep it */
        if (!sys_read(v, base + TSS_SEG + 4 * s + 2, img + TSS_SEG - TSS_EIP + 4 * s + 2, 2))
            return false;
    }
    return sys_write(v, base + TSS_EIP, img, sizeof img);
}

/* LDTR from the new TSS: null, or a present LDT descriptor in the GDT. */
static struct fault load_ldt(struct vcpu *v, uint16_t sel, uint32_t ext)
{
    struct desc d;

    if ((sel & 0xfffc) == 0) {
        v->ldtr = (struct segreg){ .sel = sel };
        return NO_FAULT;
    }
    if ((sel & 4) || !desc_read(v, sel, &d) || desc_s(d) || desc_type(d) != SYS_LDT ||
        !desc_present(d))
        return pf_take(v, FAULT(EXC_TS, sel_err(sel) | ext));
    seg_from_desc(&v->ldtr, sel, d);
    return NO_FAULT;
}

/* CS of the new task: its RPL becomes CPL. */
static struct fault load_cs(struct vcpu *v, uint16_t sel, uint32_t eip, uint32_t ext, bool *stopped)
{
    struct desc d;
    unsigned rpl = sel & 3;

    if ((sel & 0xfffc) == 0 || !desc_read(v, sel, &d) || !desc_is_code(d))
        return pf_take(v, FAULT(EXC_TS, sel_err(sel) | ext));
    if ((desc_type(d) & 4) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
        return FAULT(EXC_TS, sel_err(sel) | ext);
    if (!desc_present(d))
        return FAULT(EXC_NP, sel_err(sel) | ext);
    if (!seg_set_cs(v, sel, d, rpl, eip)) {
        *stopped = true;
        return NO_FAULT;
    }
    desc_set_accessed(v, sel, &d);
    return NO_FAULT;
}

/* DS, ES, FS, GS of the new task (SS through seg_check_stack): the checks
 * of a segment load, with #TS instead of #GP (table 7-1). */
static struct fault load_data(struct vcpu *v, int sreg, uint16_t sel, uint32_t ext)
{
    struct desc d;
    unsigned rpl = sel & 3;
    bool code;

    if ((sel & 0xfffc) == 0) {
        v->seg[sreg] = (struct segreg){ .sel = sel };
        return NO_FAULT;
    }
    if (!desc_read(v, sel, &d))
        return pf_take(v, FAULT(EXC_TS, sel_err(sel) | ext));
    code = desc_is_code(d);
    if (!desc_s(d) || (code && !(desc_type(d) & 2)))
        return FAULT(EXC_TS, sel_err(sel) | ext);
    if (!(code && (desc_type(d) & 4)) && (rpl > desc_dpl(d) || v->cpl > desc_dpl(d)))
        return FAULT(EXC_TS, sel_err(sel) | ext);
    if (!desc_present(d))
        return FAULT(EXC_NP, sel_err(sel) | ext);
    desc_set_accessed(v, sel, &d);
    seg_from_desc(&v->seg[sreg], sel, d);
    return NO_FAULT;
}

/* Steps 12-13: the segment registers and LDTR of the new task, checked
 * in the new task's context. Until its load each register holds just its
 * selector (unusable), as after a fault in the middle on hardware. */
static struct fault load_segments(struct vcpu *v, const uint8_t *img, uint32_t ext, bool *stopped)
{
    static const int data[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    uint16_t sel[6], ldt;
    struct segreg ss;
    struct desc ssd;
    struct fault f;

    for (int s = 0; s < 6; s++)
        memcpy(&sel[s], img + TSS_SEG + 4 * s, 2);
    memcpy(&ldt, img + TSS_LDT, 2);
    if (v->vm86) {
        /* A virtual-8086 task (EFLAGS.VM in its TSS): every segment is
         * selector << 4 at CPL 3, no descriptor checked (SDM vol. 3A
         * §20.2.5, §7.3 step 12). */
        for (int s = 0; s < 6; s++)
            if (s != SEG_CS)
                seg_load_real(v, s, sel[s], &v->seg[s]);
        cs_load_real(v, sel[SEG_CS]);
        return load_ldt(v, ldt, ext);
    }
    for (int i = 0; i < 4; i++)
        v->seg[data[i]] = (struct segreg){ .sel = sel[data[i]] };
    v->seg[SEG_SS] = (struct segreg){ .sel = sel[SEG_SS] };
    if ((f = load_ldt(v, ldt, ext)).vec >= 0)
        return f;
    if ((f = load_cs(v, sel[SEG_CS], rd32(img, TSS_EIP), ext, stopped)).vec >= 0 || *stopped)
        return f;
    f = seg_check_stack(v, sel[SEG_SS], v->cpl, EXC_TS, ext, &ss, &ssd);
    if (f.vec >= 0)
        return pf_take(v, f);
    desc_set_accessed(v, ss.sel, &ssd);
    v->seg[SEG_SS] = ss;
    for (int i = 0; i < 4; i++)
        if ((f = load_data(v, data[i], sel[data[i]], ext)).vec >= 0)
            return f;
    return NO_FAULT;
}

struct fault task_switch(struct vcpu *v, uint16_t sel, struct desc d, enum task_src src, uint32_t ret_eip,
                         bool has_err, uint32_t err, uint32_t ext, struct task_result *res)
{
    struct bt_cpu *cpu = &v->bt;
    unsigned type = desc_type(d);
    uint32_t nb = desc_base(d), fl = guest_eflags(cpu), new_fl, esp;
    uint16_t old_sel = v->tr.sel, link = old_sel;
    uint8_t img[TSS32_SIZE];
    struct desc now;
    struct fault f;

    res->stopped = res->committed = false;
    /* Checks in the old task's context (step 3-5, table 7-1). */
    if (type == SYS_TSS16_AVAIL || type == SYS_TSS16_BUSY) {
        res->stopped = true;
        vcpu_stop_error(v, ret_eip, "guest switches to a 16-bit TSS (selector 0x%04x): not supported "
                        "(TODO(#10))", sel);
        return NO_FAULT;
    }
    if (!desc_present(d))
        return FAULT(EXC_NP, sel_err(sel) | ext);
    if (desc_limit(d) < TSS32_SIZE - 1)
        return FAULT(EXC_TS, sel_err(sel) | ext);
    if ((type == SYS_TSS32_BUSY) != (src == TASK_IRET))
        return src == TASK_IRET ? FAULT(EXC_TS, sel_err(sel) | ext) : GP(sel_err(sel) | ext);
    if (!v->tr.ar || v->tr.limit < TSS32_SIZE - 1 ||
        (((v->tr.ar >> 8) & 15) != SYS_TSS32_BUSY && ((v->tr.ar >> 8) & 15) != SYS_TSS32_AVAIL))
        return FAULT(EXC_TS, sel_err(old_sel) | ext);
    if (!sys_read(v, nb, img, sizeof img))
        return pf_take(v, FAULT(EXC_TS, sel_err(sel) | ext));
    new_fl = rd32(img, TSS_EFLAGS);
    if (v->vm86)
        fl |= FL_VM;                            /* the old task's image keeps VM */

    /* Steps 6-10: the old task's state and busy bit, the back link. The
     * state is saved first, so that a page fault on the old TSS leaves
     * everything else as it was. */
    if (src == TASK_IRET)
        fl &= ~FL_NT;
    if (!save_state(v, v->tr.base, ret_eip, fl))
        return pf_take(v, FAULT(EXC_TS, sel_err(old_sel) | ext));
    if (src == TASK_JMP || src == TASK_IRET)
        set_busy(v, old_sel, false);
    if (src == TASK_CALL || src == TASK_INT) {
        new_fl |= FL_NT;
        sys_write(v, nb + TSS_LINK, &link, 2);
        v->pf.pending = false;
    }
    if (src != TASK_IRET)
        set_busy(v, sel, true);
    res->committed = true;

    /* Step 11: TR (with the busy type now in the descriptor), CR0.TS. */
    if (!desc_read(v, sel, &now))
        now = d;
    now.hi |= 2u << 8;
    seg_from_desc(&v->tr, sel, now);
    v->cr0 |= 8;                                /* CR0.TS: the FPU state is the old task's */
    /* Step 12: CR3 (paging on), EFLAGS, EIP, the general registers. */
    if (v->cr0 & CR0_PG) {
        uint32_t old = v->cr3, cr3 = rd32(img, TSS_CR3);
        /* As MOV CR3: with PAE paging the PDPTEs load too (SDM vol. 3A
         * §4.4.1), a reserved bit is #GP(0) and CR3 stays. */
        if (paging_pae(v->cr0, v->cr4) && !paging_load_pdptes(v, cr3))
            return GP(0);
        v->cr3 = cr3 & 0xfffffff8u;
        if (!paging_cr_written(v, 3, old)) {
            res->stopped = true;
            return NO_FAULT;
        }
    }
    memcpy(cpu->gpr, img + TSS_GPR, 32);
    set_guest_eflags(v, new_fl, ~0u);
    v->vm86 = (new_fl & FL_VM) != 0;
    cpu->inhibit_irq = 0;
    cpu->eip = cpu->next_eip = rd32(img, TSS_EIP);
    f = load_segments(v, img, ext, &res->stopped);
    segset_update(v);
    vcpu_mode_changed(v);                       /* CPL, CR0.TS and the bases are the new task's */
    if (f.vec >= 0 || res->stopped)
        return f;
    if (cpu->eip > v->seg[SEG_CS].limit)
        return GP(ext);
    /* An exception's error code goes on the new task's stack (§6.12.2). */
    if (has_err) {
        esp = cpu->gpr[R_ESP] - 4;
        if (!guest_access(v, v->seg[SEG_SS].base + esp, &err, 4, GM_WRITE | (v->cpl == 3 ? GM_USER : 0)))
            return pf_take(v, FAULT(EXC_SS, ext));
        cpu->gpr[R_ESP] = esp;
    }
    return NO_FAULT;
}
