/* transfer — control transfers that change CS or the privilege level: far
 * JMP/CALL/RET, IRET, INT n/INT3/INTO/INT1, CLI/STI at CPL > 0, and
 * SYSENTER/SYSEXIT (SDM vol. 2 under each name; vol. 3 §5.8, §6.12).
 *
 * Each handler reads its operands and the return frame, checks the new CS
 * (and SS for a return to an outer ring), and only then commits: a fault
 * leaves the guest state as it was before the instruction. They end the
 * block (BT_EXIT at cpu->next_eip), or continue into the next one
 * (callout_continue). CS, SS, CPL and the data segments are changed
 * together, then vcpu_derive works out the block mode, jump cache and
 * shadow space once (derive.c). */
#include "emulator/paging.h"

static void count(struct vcpu *v, int kind) { v->vm->stats.callouts[kind]++; }

/* ---- far JMP, CALL, RET ------------------------------------------------ */

/* The end of a task switch started by an instruction: a fault before the
 * commit is the instruction's, one after it the new task's (SDM vol. 3A
 * §7.3 step 13); EIP is the new task's. */
static int task_switch_done(struct vcpu *v, const struct bt_site *site, struct fault f,
                            const struct task_result *res)
{
    if (res->stopped)
        return BT_EXIT;
    if (f.vec >= 0)
        return raise_fault(v, f, res->committed ? v->bt.next_eip : site->eip);
    return BT_EXIT;
}

/* Far JMP/CALL to a TSS descriptor or a task gate (SDM "JMP", "CALL":
 * task switch; vol. 3A §7.3): the TSS's or gate's DPL must be at least CPL
 * and the selector's RPL; a gate must be present and name an available
 * TSS in the GDT. */
static int far_task(struct vcpu *v, const struct bt_site *site, uint16_t sel, struct desc d, bool call)
{
    struct task_result res;
    struct fault f;

    if (desc_dpl(d) < v->cpl || desc_dpl(d) < (sel & 3u))
        return raise_fault(v, GP(sel & 0xfffcu), site->eip);
    if (desc_type(d) == SYS_TASKGATE) {
        if (!desc_present(d))
            return raise_fault(v, FAULT(EXC_NP, sel & 0xfffcu), site->eip);
        sel = (uint16_t)(d.lo >> 16);
        if ((sel & 4) || !desc_read(v, sel, &d))
            return raise_fault(v, GP(sel & 0xfffcu), site->eip);
        if (desc_s(d) || (desc_type(d) != SYS_TSS32_AVAIL && desc_type(d) != SYS_TSS16_AVAIL))
            return raise_fault(v, GP(sel & 0xfffcu), site->eip);
    }
    f = task_switch(v, sel, d, call ? TASK_CALL : TASK_JMP, site->next_eip, false, 0, 0, &res);
    return task_switch_done(v, site, f, &res);
}

static int far_jmp_call(struct vcpu *v, const struct bt_site *site, bool call)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t off, sel32 = 0, esp = cpu->gpr[R_ESP];
    uint16_t sel;
    struct desc d;
    struct fault f;

    if (in->opcode == 0xea || in->opcode == 0x9a) {
        off = (uint32_t)in->imm;
        sel = in->imm2;
    } else {
        uint32_t ea;
        int seg;
        if (in->mod == 3)
            return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
        seg = op_ea(v, in, &ea);
        off = 0;
        if (!seg_read(v, seg, ea, &off, n, site->eip) || !seg_read(v, seg, ea + n, &sel32, 2, site->eip))
            return BT_EXIT;
        sel = (uint16_t)sel32;
    }
    if (n == 2)
        off &= 0xffff;
    if ((sel & 0xfffc) && desc_read(v, sel, &d) && !desc_s(d)) {
        unsigned t = desc_type(d);
        if (t == SYS_TASKGATE || t == SYS_TSS32_AVAIL || t == SYS_TSS32_BUSY || t == SYS_TSS16_AVAIL ||
            t == SYS_TSS16_BUSY)
            return far_task(v, site, sel, d, call);
        /* SDM "JMP"/"CALL": any other system descriptor (an LDT, an
         * interrupt or trap gate, a reserved type) is #GP(selector). */
        if (t != SYS_CALLGATE16 && t != SYS_CALLGATE32)
            return raise_fault(v, GP(sel & 0xfffc), site->eip);
        /* Call gates. TODO(#4). */
        return vcpu_stop_error(v, site->eip, "guest far %s through a call gate (selector 0x%04x): not "
                               "supported yet (TODO(#4))", call ? "CALL" : "JMP", sel);
    }
    f = seg_check_code_jump(v, sel, &d);
    if (f.vec >= 0)
        return raise_fault(v, f, site->eip);
    if (off > desc_limit(d))
        return raise_fault(v, GP(0), site->eip);
    if (call && (!stack_push(v, &esp, n, v->seg[SEG_CS].sel, site->eip) ||
                 !stack_push(v, &esp, n, site->next_eip, site->eip)))
        return BT_EXIT;
    if (!seg_set_cs(v, sel, d, v->cpl, site->eip))
        return BT_EXIT;
    desc_set_accessed(v, sel, &d);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = off;
    return callout_continue(v);
}

/* The outer-ring part of RET/IRET: SS:ESP popped from the old stack. */
static struct fault pop_outer_stack(struct vcpu *v, uint32_t *esp, unsigned n, unsigned rpl,
                                    uint32_t eip, uint32_t *new_esp, struct segreg *ss, struct desc *ssd,
                                    bool *ok)
{
    uint32_t f[2];
    *ok = stack_pop_n(v, esp, n, 2, f, eip);
    if (!*ok)
        return NO_FAULT;
    *new_esp = f[0];
    return seg_check_stack(v, (uint16_t)f[1], rpl, EXC_GP, 0, ss, ssd);
}

static void commit_outer_stack(struct vcpu *v, const struct segreg *ss, struct desc *ssd)
{
    desc_set_accessed(v, ss->sel, ssd);
    v->seg[SEG_SS] = *ss;
}

static int far_ret(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize, rpl;
    uint32_t imm = in->opcode == 0xca ? (uint16_t)in->imm : 0;
    uint32_t esp = cpu->gpr[R_ESP], eip, cs, new_esp = 0, old_cpl = v->cpl, fr[2];
    struct segreg ss;
    struct desc d, ssd;
    struct fault f;
    bool ok, outer;

    if (!stack_pop_n(v, &esp, n, 2, fr, site->eip))
        return BT_EXIT;
    eip = fr[0];
    cs = fr[1];
    f = seg_check_code_return(v, (uint16_t)cs, &d);
    if (f.vec >= 0)
        return raise_fault(v, f, site->eip);
    rpl = cs & 3;
    outer = rpl > v->cpl;
    esp += imm;
    if (outer) {
        f = pop_outer_stack(v, &esp, n, rpl, site->eip, &new_esp, &ss, &ssd, &ok);
        if (!ok)
            return BT_EXIT;
        if (f.vec >= 0)
            return raise_fault(v, f, site->eip);
        esp = new_esp + imm;
    }
    if (n == 2)
        eip &= 0xffff;
    if (eip > desc_limit(d))
        return raise_fault(v, GP(0), site->eip);
    seg_load_cs(v, (uint16_t)cs, d, rpl);
    desc_set_accessed(v, (uint16_t)cs, &d);
    if (outer) {
        commit_outer_stack(v, &ss, &ssd);
        seg_clear_inner(v);
    }
    vcpu_derive(v, old_cpl);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = eip;
    return callout_continue(v);
}

int co_far(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);

    count(v, K_FAR);
    if (vcpu_seg_real(v))
        return far_real(v, site);
    switch (in->opcode) {
    case 0xea: return far_jmp_call(v, site, false);
    case 0x9a: return far_jmp_call(v, site, true);
    case 0xff: return far_jmp_call(v, site, in->reg == 3);
    case 0xca: case 0xcb: return far_ret(v, site);
    default: return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
    }
}

/* ---- IRET (SDM "IRET", protected mode) --------------------------------- */

/* IRET with NT set: back to the task in the current TSS's link field, which
 * must name a busy TSS in the GDT (SDM "IRET": TASK-RETURN). */
static int iret_task(struct vcpu *v, const struct bt_site *site)
{
    struct task_result res;
    struct fault f;
    struct desc d;
    uint16_t link = 0;

    if (!sys_read(v, v->tr.base, &link, 2))
        return raise_fault(v, pf_take(v, FAULT(EXC_TS, v->tr.sel & 0xfffcu)), site->eip);
    if ((link & 4) || !desc_read(v, link, &d) || desc_s(d) ||
        (desc_type(d) != SYS_TSS32_BUSY && desc_type(d) != SYS_TSS16_BUSY))
        return raise_fault(v, FAULT(EXC_TS, link & 0xfffcu), site->eip);
    f = task_switch(v, link, d, TASK_IRET, site->next_eip, false, 0, 0, &res);
    /* A #PF handler that is a task returns here, as a plain one through
     * the IRET below: map the page it fixed at once. */
    if (f.vec < 0 && !res.stopped && v->pf_return.pending)
        paging_pf_return(v, v->bt.next_eip);
    return task_switch_done(v, site, f, &res);
}

int co_iret(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize, rpl, iopl = cpu->eflags >> 12 & 3, old_cpl;
    uint32_t esp = cpu->gpr[R_ESP], eip, cs, fl, new_esp = 0, mask, fr[3];
    struct segreg ss;
    struct desc d, ssd;
    struct fault f;
    bool ok, outer;

    count(v, K_IRET);
    if (vcpu_seg_real(v))
        return iret_real(v, site);
    if (cpu->eflags & FL_NT)
        return iret_task(v, site);
    if (!stack_pop_n(v, &esp, n, 3, fr, site->eip))
        return BT_EXIT;
    eip = fr[0];
    cs = fr[1];
    fl = fr[2];
    if (n == 2) {
        eip &= 0xffff;
        fl = (guest_eflags(cpu) & 0xffff0000u) | (fl & 0xffff);
    }
    if ((fl & FL_VM) && v->cpl == 0 && n == 4)
        return iret_to_v86(v, site, esp, eip, cs, fl);
    f = seg_check_code_return(v, (uint16_t)cs, &d);
    if (f.vec >= 0)
        return raise_fault(v, f, site->eip);
    rpl = cs & 3;
    outer = rpl > v->cpl;
    if (outer) {
        f = pop_outer_stack(v, &esp, n, rpl, site->eip, &new_esp, &ss, &ssd, &ok);
        if (!ok)
            return BT_EXIT;
        if (f.vec >= 0)
            return raise_fault(v, f, site->eip);
        esp = new_esp;
    }
    if (eip > desc_limit(d))
        return raise_fault(v, GP(0), site->eip);
    /* What the old CPL may change: IOPL only at CPL 0, IF only at CPL <= IOPL. */
    mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    if (v->cpl <= iopl)
        mask |= FL_IF;
    if (v->cpl == 0)
        mask |= FL_IOPL;
    if (n == 2)
        mask &= 0xffff;
    old_cpl = v->cpl;
    seg_load_cs(v, (uint16_t)cs, d, rpl);
    desc_set_accessed(v, (uint16_t)cs, &d);
    set_guest_eflags(v, fl, mask);
    v->dbx.rf = n == 4 && (fl & FL_RF);     /* SDM "IRET": RF comes from the frame */
    v->dbx.rf_loaded = true;
    if (outer) {
        commit_outer_stack(v, &ss, &ssd);
        seg_clear_inner(v);
    }
    vcpu_derive(v, old_cpl);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = eip;
    if (v->pf_return.pending)
        paging_pf_return(v, eip);
    return callout_continue(v);
}

/* ---- INT n, INT3, INTO, INT1 ------------------------------------------ */

int co_int(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    enum event_src src = EV_SOFT;
    int vec;

    count(v, K_INT);
    switch (in->opcode) {
    case 0xcc: vec = EXC_BP; break;
    case 0xcd:
        /* SDM "INT n": IOPL-sensitive in virtual-8086 mode (no CR4.VME). */
        if (v->vm86 && (cpu->eflags >> 12 & 3) < 3)
            return raise_fault(v, GP(0), site->eip);
        vec = in->bytes[in->imm_off];
        break;
    case 0xf1: vec = EXC_DB; src = EV_ICEBP; break;
    case 0xce:
        if (!(cpu->eflags & FL_OF)) {
            cpu->next_eip = site->next_eip;
            return BT_EXIT;
        }
        vec = EXC_OF;
        break;
    default:
        return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
    }
    /* Traps: the frame holds the next instruction's EIP. */
    if (v->vm->cfg.stop_on_exception)
        return raise_fault(v, SOFT_INT(vec), site->next_eip);
    v->vm->stats.soft_interrupts++;
    event_deliver(v, vec, src, false, 0, site->next_eip, src == EV_SOFT ? site->eip : site->next_eip);
    return callout_continue(v);
}

/* ---- CLI, STI where CPL > 0 (translated inline at CPL 0) --------------- */

int co_cli(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);

    count(v, K_CLI);
    if (v->cpl > (cpu->eflags >> 12 & 3))
        return raise_fault(v, GP(0), site->eip);
    cpu->vif = 0;
    return BT_RESUME;
}

int co_sti(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);

    count(v, K_STI);
    if (v->cpl > (cpu->eflags >> 12 & 3))
        return raise_fault(v, GP(0), site->eip);
    if (!cpu->vif) {
        cpu->vif = 1;
        cpu->inhibit_irq = 1;   /* SDM "STI": the next instruction runs first */
    }
    if (!cpu->irq_pending)
        return BT_RESUME;
    cpu->next_eip = site->next_eip;
    return callout_continue(v);
}

/* ---- SYSENTER, SYSEXIT (SDM vol. 2; flat segments from IA32_SYSENTER_CS) */

static struct desc flat_desc(bool code, unsigned dpl)
{
    return (struct desc){ 0x0000ffffu, 0x00cf9000u | (code ? 0xb00u : 0x300u) | dpl << 13 };
}

/* CS and SS are loaded with fixed flat descriptors, not from the GDT, and
 * the derived state follows once for both. */
static void set_flat_cs_ss(struct vcpu *v, uint16_t cs, uint16_t ss, unsigned cpl)
{
    unsigned old = v->cpl;

    seg_load_cs(v, cs, flat_desc(true, cpl), cpl);
    seg_from_desc(&v->seg[SEG_SS], ss, flat_desc(false, cpl));
    vcpu_derive(v, old);
}

/* SDM "SYSENTER": #GP(0) in real mode or with IA32_SYSENTER_CS[15:2] = 0;
 * VM, IF and RF are cleared (from virtual-8086 mode too). */
int sys_sysenter(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    uint16_t cs = (uint16_t)(v->sysenter_cs & 0xfffc);
    int r = sysfast_run(v, SF_ENTER);

    if (r >= 0)
        return r;
    if (cs == 0 || vcpu_real(v))
        return raise_fault(v, GP(0), site->eip);
    v->vm86 = false;
    set_guest_eflags(v, 0, FL_VM | FL_IF | FL_RF);
    v->dbx.rf = false;
    set_flat_cs_ss(v, cs, (uint16_t)(cs + 8), 0);
    cpu->gpr[R_ESP] = v->sysenter_esp;
    cpu->next_eip = v->sysenter_eip;
    sysfast_record(v, SF_ENTER);
    return callout_continue(v);
}

/* SDM "SYSEXIT": #GP(0) in real mode, at CPL > 0 (virtual-8086 mode
 * included) or with IA32_SYSENTER_CS[15:2] = 0. */
int sys_sysexit(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    uint16_t cs = (uint16_t)(v->sysenter_cs & 0xfffc);
    int r = sysfast_run(v, SF_EXIT);

    if (r >= 0)
        return r;
    if (cs == 0 || vcpu_real(v) || v->cpl != 0)
        return raise_fault(v, GP(0), site->eip);
    set_flat_cs_ss(v, (uint16_t)((cs + 16) | 3), (uint16_t)((cs + 24) | 3), 3);
    cpu->gpr[R_ESP] = cpu->gpr[R_ECX];
    cpu->next_eip = cpu->gpr[R_EDX];
    sysfast_record(v, SF_EXIT);
    return callout_continue(v);
}
