/* operand — the operands of instructions the monitor emulates in C: the
 * ModRM effective address (SDM vol. 2 §2.1.5, tables 2-2 and 2-3), reads
 * and writes through a segment, the stack, and the EFLAGS image.
 *
 * Linear = segment base + offset, then the guest's page tables
 * (guestmem.c): a page fault is raised as #PF at the instruction. Segment
 * limits are not checked here, as translated code does not check them
 * either (README). */
#include <string.h>

#include "emulator/paging.h"

int op_ea(const struct vcpu *v, const struct insn *in, uint32_t *off)
{
    int seg;
    *off = insn_ea(in, v->bt.gpr, &seg);
    return seg;
}

static bool mem_fail(struct vcpu *v, uint32_t lin, uint32_t eip, const char *what)
{
    guest_mem_fail(v, eip, lin, what);
    return false;
}

bool seg_read(struct vcpu *v, int sreg, uint32_t off, void *dst, unsigned n, uint32_t eip)
{
    uint32_t lin = v->seg[sreg].base + off;
    return guest_read(v, lin, dst, n) || mem_fail(v, lin, eip, "reads");
}

bool seg_write(struct vcpu *v, int sreg, uint32_t off, const void *src, unsigned n, uint32_t eip)
{
    uint32_t lin = v->seg[sreg].base + off;
    return guest_write(v, lin, src, n) || mem_fail(v, lin, eip, "writes");
}

void gpr_write(struct bt_cpu *cpu, int r, unsigned n, uint32_t val)
{
    if (n == 2)
        cpu->gpr[r] = (cpu->gpr[r] & 0xffff0000u) | (val & 0xffff);
    else
        cpu->gpr[r] = val;
}

bool op_read_rm(struct vcpu *v, const struct insn *in, unsigned n, uint32_t *val, uint32_t eip)
{
    uint32_t off;
    int seg;

    *val = 0;
    if (in->mod == 3) {
        *val = n == 2 ? v->bt.gpr[in->rm] & 0xffff : v->bt.gpr[in->rm];
        return true;
    }
    seg = op_ea(v, in, &off);
    return seg_read(v, seg, off, val, n, eip);
}

bool op_write_rm(struct vcpu *v, const struct insn *in, unsigned n, uint32_t val, uint32_t eip)
{
    uint32_t off;
    int seg;

    if (in->mod == 3) {
        gpr_write(&v->bt, in->rm, n, val);
        return true;
    }
    seg = op_ea(v, in, &off);
    return seg_write(v, seg, off, &val, n, eip);
}

static uint32_t sp_mask(const struct vcpu *v) { return vcpu_stack16(v) ? 0xffffu : 0xffffffffu; }

bool stack_push(struct vcpu *v, uint32_t *esp, unsigned n, uint32_t val, uint32_t eip)
{
    uint32_t m = sp_mask(v), sp = (*esp - n) & m;

    if (!seg_write(v, SEG_SS, sp, &val, n, eip))
        return false;
    *esp = (*esp & ~m) | sp;
    return true;
}

bool stack_pop(struct vcpu *v, uint32_t *esp, unsigned n, uint32_t *val, uint32_t eip)
{
    uint32_t m = sp_mask(v);

    *val = 0;
    if (!seg_read(v, SEG_SS, *esp & m, val, n, eip))
        return false;
    *esp = (*esp & ~m) | ((*esp + n) & m);
    return true;
}

bool stack_pop_n(struct vcpu *v, uint32_t *esp, unsigned n, unsigned count, uint32_t *vals, uint32_t eip)
{
    uint32_t m = sp_mask(v), sp = *esp & m;
    uint8_t buf[4 * 4];

    if (count > 4 || (uint64_t)sp + n * count - 1 > m) {
        for (unsigned i = 0; i < count; i++)        /* SP wraps on the way */
            if (!stack_pop(v, esp, n, &vals[i], eip))
                return false;
        return true;
    }
    if (!seg_read(v, SEG_SS, sp, buf, n * count, eip))
        return false;
    for (unsigned i = 0; i < count; i++) {
        uint16_t w;
        if (n == 4) {
            memcpy(&vals[i], buf + i * 4, 4);
        } else {
            memcpy(&w, buf + i * 2, 2);
            vals[i] = w;
        }
    }
    *esp = (*esp & ~m) | ((sp + n * count) & m);
    return true;
}

uint32_t guest_eflags(const struct bt_cpu *cpu)
{
    return (cpu->eflags & ~(FL_IF | FL_RF | FL_VM)) | (cpu->vif ? FL_IF : 0) | 2;
}

void set_guest_eflags(struct vcpu *v, uint32_t val, uint32_t mask)
{
    struct bt_cpu *cpu = &v->bt;
    uint32_t fl = (guest_eflags(cpu) & ~mask) | (val & mask);

    cpu->vif = (fl & FL_IF) != 0;
    /* RF and VM are never kept: no debug faults, no virtual-8086 mode. */
    cpu->eflags = (fl & ~(FL_IF | FL_RF | FL_VM | 0xffc00000u | 0x8028u)) | 2;
}
