/* seginsn — segment-register instructions (K_SEG: MOV Sreg, PUSH/POP Sreg,
 * LDS/LES/LSS/LFS/LGS) and the selector probes LAR, LSL, VERR, VERW, ARPL
 * (SDM vol. 2 under each name). Loads go through seg_check_load (desc.c)
 * and commit only when every check and memory access has succeeded; the
 * vCPU then goes on into the next instruction's block of the mode the
 * load made (callout_continue) rather than through the dispatcher: Linux
 * loads DS, ES, FS and GS on every system call. */
#include <capstone/capstone.h>

#include "emulator/paging.h"

static void count(struct vcpu *v, int kind) { v->vm->stats.callouts[kind]++; }

static int load(struct vcpu *v, const struct bt_site *site, int sreg, uint16_t sel)
{
    struct segreg s;
    struct fault f = seg_check_load(v, sreg, sel, &s);
    if (f.vec >= 0)
        return raise_fault(v, f, site->eip);
    seg_commit(v, sreg, &s);
    return -1;
}

/* PUSH/POP Sreg opcodes: 06/07 ES, 0E CS, 16/17 SS, 1E/1F DS; 0F A0/A1 FS, 0F A8/A9 GS. */
static int push_pop_sreg(const struct insn *in, bool *pop)
{
    uint8_t op = in->opcode;
    *pop = op & 1;
    if (in->opc_len == 2)
        return op < 0xa8 ? SEG_FS : SEG_GS;
    return op >> 3 & 3;
}

static int far_pointer_sreg(const struct insn *in)
{
    if (in->opc_len == 1)
        return in->opcode == 0xc4 ? SEG_ES : SEG_DS;
    return in->opcode == 0xb2 ? SEG_SS : in->opcode == 0xb4 ? SEG_FS : SEG_GS;
}

int co_seg(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t val = 0, esp = cpu->gpr[R_ESP];
    int r;

    count(v, K_SEG);
    cpu->next_eip = site->next_eip;
    if (in->opc_len == 1 && in->opcode == 0x8e) {              /* MOV Sreg, r/m16 */
        if (!op_read_rm(v, in, 2, &val, site->eip))
            return BT_EXIT;
        r = load(v, site, in->reg, (uint16_t)val);
        return r >= 0 ? r : callout_continue(v);
    }
    if (in->opc_len == 1 && in->opcode == 0x8c) {              /* MOV r/m, Sreg */
        /* To a register with a 32-bit operand size P6 and later zero-extend. */
        op_write_rm(v, in, in->mod == 3 ? n : 2, v->seg[in->reg].sel, site->eip);
        return callout_continue(v);
    }
    if ((in->opc_len == 1 && in->opcode < 0x20) || (in->opc_len == 2 && in->opcode < 0xb0 &&
                                                    (in->opcode & 0xf6) == 0xa0)) {
        bool pop;
        int sreg = push_pop_sreg(in, &pop);
        if (!pop) {
            /* 32-bit: the selector zero-extended (as QEMU and P6 do). */
            if (stack_push(v, &esp, n, v->seg[sreg].sel, site->eip))
                cpu->gpr[R_ESP] = esp;
            return callout_continue(v);
        }
        if (!stack_pop(v, &esp, n, &val, site->eip))
            return BT_EXIT;
        r = load(v, site, sreg, (uint16_t)val);
        if (r >= 0)
            return r;
        cpu->gpr[R_ESP] = esp;
        return callout_continue(v);
    }
    /* LDS LES LSS LFS LGS r, m16:16/32 */
    {
        uint32_t off, sel = 0;
        int seg, sreg = far_pointer_sreg(in);
        if (in->mod == 3)
            return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
        seg = op_ea(v, in, &off);
        if (!seg_read(v, seg, off, &val, n, site->eip) || !seg_read(v, seg, off + n, &sel, 2, site->eip))
            return BT_EXIT;
        r = load(v, site, sreg, (uint16_t)sel);
        if (r >= 0)
            return r;
        if (sreg == SEG_SS)
            cpu->inhibit_irq = 0;      /* only MOV SS and POP SS inhibit interrupts */
        gpr_write(cpu, in->reg, n, val);
        return callout_continue(v);
    }
}

/* ---- LAR LSL VERR VERW ARPL ------------------------------------------- */

/* Whether sel names a descriptor the probe may look at (SDM "LAR": type
 * table, and DPL >= CPL and RPL unless conforming code). */
static bool probe(struct vcpu *v, uint16_t sel, struct desc *d, bool lsl)
{
    if ((sel & 0xfffc) == 0 || !desc_read(v, sel, d))
        return false;
    if (!desc_s(*d)) {
        static const uint16_t lar_types = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 |
                                          1u << 9 | 1u << 11 | 1u << 12;
        static const uint16_t lsl_types = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 9 | 1u << 11;
        if (!((lsl ? lsl_types : lar_types) >> desc_type(*d) & 1))
            return false;
    } else if ((desc_type(*d) & 0xc) == 0xc) {
        return true;                    /* conforming code: no privilege check */
    }
    return desc_dpl(*d) >= v->cpl && desc_dpl(*d) >= (sel & 3u);
}

static void set_zf(struct bt_cpu *cpu, bool z)
{
    cpu->eflags = z ? cpu->eflags | FL_ZF : cpu->eflags & ~FL_ZF;
}

int seg_insn_lar(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t sel = 0;
    struct desc d;
    bool ok;

    if (!op_read_rm(v, in, 2, &sel, site->eip))
        return BT_EXIT;
    switch (in->id) {
    case X86_INS_LAR:
        ok = probe(v, (uint16_t)sel, &d, false);
        if (ok)
            gpr_write(cpu, in->reg, n, n == 2 ? d.hi & 0xff00u : d.hi & 0x00f0ff00u);
        break;
    case X86_INS_LSL:
        ok = probe(v, (uint16_t)sel, &d, true);
        if (ok)
            gpr_write(cpu, in->reg, n, desc_limit(d));
        break;
    case X86_INS_VERR:
    case X86_INS_VERW:
        ok = (sel & 0xfffc) && desc_read(v, (uint16_t)sel, &d) && desc_s(d);
        if (ok && in->id == X86_INS_VERR)
            ok = !desc_is_code(d) || (desc_type(d) & 2);       /* data, or readable code */
        else if (ok)
            ok = desc_is_data(d) && (desc_type(d) & 2);         /* writable data */
        if (ok && !(desc_is_code(d) && (desc_type(d) & 4)))
            ok = desc_dpl(d) >= v->cpl && desc_dpl(d) >= (sel & 3u);
        break;
    case X86_INS_ARPL: {
        uint32_t src = cpu->gpr[in->reg] & 3;
        ok = (sel & 3) < src;
        if (ok && !op_write_rm(v, in, 2, (sel & ~3u) | src, site->eip))
            return BT_EXIT;
        break;
    }
    default:
        return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
    }
    if (!ok && v->pf.pending)   /* the descriptor table's page is not present */
        return raise_fault(v, pf_take(v, NO_FAULT), site->eip);
    set_zf(cpu, ok);
    return BT_EXIT;
}
