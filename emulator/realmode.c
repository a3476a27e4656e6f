/* realmode — real-address mode and virtual-8086 mode (SDM vol. 3A ch. 20).
 *
 * Both run 16-bit code (translated like any other: bt/ decodes it with
 * decode_insn16 and the block mode carries BT_MODE_CODE16/STACK16) with
 * segments whose base is selector << 4 and no descriptor behind them.
 * What differs is here:
 *
 *   real mode (CR0.PE = 0, CPL 0): far JMP/CALL/RET and IRET load CS as a
 *     selector << 4; INT n, exceptions and hardware interrupts go through
 *     the interrupt vector table at the IDTR base, 4-byte CS:IP entries,
 *     pushing FLAGS, CS, IP on SS:SP (SDM vol. 3A §20.1.4). Segment limits
 *     and access rights stay what they were (a data segment loaded in
 *     protected mode keeps its limit: "unreal mode"); CS gets 16-bit code
 *     attributes.
 *   virtual-8086 mode (EFLAGS.VM = 1, CPL 3): entered by an IRET at CPL 0
 *     whose EFLAGS image has VM set (a 32-bit frame that also holds ESP,
 *     SS, ES, DS, FS, GS); every segment is 64 KiB, DPL 3. CLI, STI,
 *     PUSHF, POPF, INT n and IRET are IOPL-sensitive: #GP(0) unless IOPL
 *     is 3 (CR4.VME is not offered); IN/OUT consult the TSS I/O bitmap
 *     only. Interrupts and exceptions leave through a 32-bit gate to a
 *     ring-0 handler (exceptions.c), which returns by IRET with VM set. */
#include "emulator/paging.h"

void seg_load_real(struct vcpu *v, int sreg, uint16_t sel, struct segreg *out)
{
    *out = v->seg[sreg];
    out->sel = sel;
    out->base = (uint32_t)sel << 4;
    if (v->vm86) {
        out->limit = 0xffff;
        out->ar = sreg == SEG_CS ? 0xfb00u : 0xf300u;   /* DPL 3, present, 16-bit */
    } else if (sreg == SEG_CS) {
        out->ar = 0x9b00u;                              /* 16-bit code, present */
    } else if (!out->ar) {
        out->limit = 0xffff;                            /* null in protected mode */
        out->ar = 0x9300u;
    }
}

void cs_load_real(struct vcpu *v, uint16_t sel)
{
    unsigned old = v->cpl;

    seg_load_real(v, SEG_CS, sel, &v->seg[SEG_CS]);
    v->cpl = v->vm86 ? 3 : 0;
    if (v->cpl != old)
        vcpu_mode_changed(v);
    segset_update(v);
}

void cr0_pe_changed(struct vcpu *v)
{
    /* CS and the data segments keep their hidden parts (vol. 3A §9.9.1,
     * §9.9.2: the far jump that follows loads CS); what changes is how the
     * next loads go, and the limit checks (seglimit.c). */
    if (vcpu_real(v))
        v->cpl = 0;
    segset_update(v);
    vcpu_mode_changed(v);
}

/* ---- far JMP/CALL/RET and IRET ----------------------------------------- */

int far_real(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t esp = cpu->gpr[R_ESP], off = 0, sel = 0, limit = v->vm86 ? 0xffff : v->seg[SEG_CS].limit;
    bool call = in->opcode == 0x9a || (in->opcode == 0xff && in->reg == 3);

    switch (in->opcode) {
    case 0xea: case 0x9a:
        off = (uint32_t)in->imm;
        sel = in->imm2;
        break;
    case 0xff: {
        uint32_t ea;
        int seg;
        if (in->mod == 3)
            return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
        seg = op_ea(v, in, &ea);
        if (!seg_read(v, seg, ea, &off, n, site->eip) || !seg_read(v, seg, ea + n, &sel, 2, site->eip))
            return BT_EXIT;
        break;
    }
    default: /* CA, CB: RET far */
        if (!stack_pop(v, &esp, n, &off, site->eip) || !stack_pop(v, &esp, n, &sel, site->eip))
            return BT_EXIT;
        if (in->opcode == 0xca)
            esp = vcpu_stack16(v) ? (esp & ~0xffffu) | ((esp + (uint16_t)in->imm) & 0xffff)
                                  : esp + (uint16_t)in->imm;
        break;
    }
    if (n == 2)
        off &= 0xffff;
    if (off > limit)
        return raise_fault(v, GP(0), site->eip);
    if (call && (!stack_push(v, &esp, n, v->seg[SEG_CS].sel, site->eip) ||
                 !stack_push(v, &esp, n, site->next_eip, site->eip)))
        return BT_EXIT;
    cs_load_real(v, (uint16_t)sel);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = off;
    return callout_continue(v);
}

/* IRET in real mode, and in virtual-8086 mode with IOPL 3 (SDM "IRET":
 * REAL-ADDRESS-MODE, RETURN-FROM-VIRTUAL-8086-MODE): IP, CS, FLAGS from
 * the stack; virtual-8086 mode cannot change IOPL (nor VM). */
int iret_real(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t esp = cpu->gpr[R_ESP], eip = 0, cs = 0, fl = 0;
    uint32_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID;

    if (v->vm86 && (cpu->eflags >> 12 & 3) < 3)
        return raise_fault(v, GP(0), site->eip);
    if (!stack_pop(v, &esp, n, &eip, site->eip) || !stack_pop(v, &esp, n, &cs, site->eip) ||
        !stack_pop(v, &esp, n, &fl, site->eip))
        return BT_EXIT;
    if (n == 2) {
        eip &= 0xffff;
        mask &= 0xffff;
    }
    if (v->vm86)
        mask &= ~FL_IOPL;
    if (eip > (v->vm86 ? 0xffffu : v->seg[SEG_CS].limit))
        return raise_fault(v, GP(0), site->eip);
    cs_load_real(v, (uint16_t)cs);
    set_guest_eflags(v, fl, mask);
    cpu->gpr[R_ESP] = esp;
    cpu->next_eip = eip;
    return callout_continue(v);
}

/* IRET at CPL 0 to a frame with VM set (SDM "IRET": RETURN-TO-VIRTUAL-8086-
 * MODE): after EIP, CS and EFLAGS come ESP, SS, ES, DS, FS, GS, 32 bits
 * each; all of them are loaded as selector << 4. esp is past EFLAGS. */
int iret_to_v86(struct vcpu *v, const struct bt_site *site, uint32_t esp, uint32_t eip, uint32_t cs,
                uint32_t fl)
{
    static const int order[5] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    struct bt_cpu *cpu = &v->bt;
    uint32_t new_esp = 0, sel[5];

    if (!stack_pop(v, &esp, 4, &new_esp, site->eip))
        return BT_EXIT;
    for (int i = 0; i < 5; i++)
        if (!stack_pop(v, &esp, 4, &sel[i], site->eip))
            return BT_EXIT;
    if ((eip & 0xffff) != eip)
        return raise_fault(v, GP(0), site->eip);
    v->vm86 = true;
    for (int i = 0; i < 5; i++)
        seg_load_real(v, order[i], (uint16_t)sel[i], &v->seg[order[i]]);
    set_guest_eflags(v, fl, FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID);
    cpu->gpr[R_ESP] = new_esp;
    cpu->next_eip = eip;
    cs_load_real(v, (uint16_t)cs);
    v->vm->stats.v86_entries++;
    if (v->pf_return.pending)
        paging_pf_return(v, eip);
    return callout_continue(v);
}

/* ---- interrupts in real mode ------------------------------------------- */

/* SDM vol. 3A §20.1.4: the vector's 4-byte entry (IP, then CS) at IDTR.base
 * + 4 * vector; FLAGS, CS and IP pushed as words; IF, TF and AC cleared. A
 * vector beyond the IDTR limit is #GP(0) (SDM "INT n": REAL-ADDRESS-MODE). */
struct fault deliver_real(struct vcpu *v, int vector, uint32_t eip, bool *stopped)
{
    struct bt_cpu *cpu = &v->bt;
    uint32_t ent = 0xffffffffu, esp = cpu->gpr[R_ESP], sp = esp & 0xffff;
    uint16_t frame[3] = { (uint16_t)eip, v->seg[SEG_CS].sel, (uint16_t)guest_eflags(cpu) };
    uint32_t base = v->seg[SEG_SS].base;
    bool big = !vcpu_stack16(v);

    if ((uint32_t)vector * 4 + 3 > v->idtr.limit)
        return GP(0);
    if (!sys_read(v, v->idtr.base + (uint32_t)vector * 4, &ent, 4))
        ent = 0xffffffffu;                          /* open bus */
    if (big)
        sp = esp;
    for (int i = 2; i >= 0; i--) {
        sp = big ? sp - 2 : (sp - 2) & 0xffff;
        if (!guest_write(v, base + sp, &frame[i], 2)) {
            *stopped = true;
            vcpu_stop_error(v, eip, "delivering vector 0x%02x in real mode: the stack at 0x%08x is "
                            "outside RAM", vector & 0xff, base + sp);
            return NO_FAULT;
        }
    }
    cpu->gpr[R_ESP] = big ? sp : (esp & ~0xffffu) | sp;
    cs_load_real(v, (uint16_t)(ent >> 16));
    set_guest_eflags(v, 0, FL_IF | FL_TF | FL_AC);
    cpu->inhibit_irq = 0;
    v->dbx.rf = false;
    cpu->eip = cpu->next_eip = ent & 0xffff;
    return NO_FAULT;
}

void vm_set_real_mode(struct vm *vm, const uint16_t sel[6])
{
    struct vcpu *v = vm->vcpu;
    uint32_t old = v->cr0;

    v->cr0 &= ~(CR0_PE | CR0_PG);
    v->vm86 = false;
    for (int s = 0; s < 6; s++) {
        v->seg[s] = (struct segreg){ .sel = sel[s], .base = (uint32_t)sel[s] << 4, .limit = 0xffff,
                                     .ar = s == SEG_CS ? 0x9b00u : 0x9300u };
    }
    paging_cr_written(v, 0, old);
    cr0_pe_changed(v);
}
