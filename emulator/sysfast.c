/* sysfast — SYSENTER/SYSEXIT round trips without deriving the state again
 * (issue #13; README "SYSENTER/SYSEXIT fast path").
 *
 * A system call through SYSENTER flips between two states: the user's
 * (U, made by SYSEXIT) and the kernel's (K, made by SYSENTER from U). Both
 * instructions load fixed flat CS and SS from IA32_SYSENTER_CS (SDM vol. 2
 * "SYSENTER", "SYSEXIT") and leave the data segments, the control
 * registers and EFER alone, so K depends only on U and the MSR, and U only
 * on K. The derive memo (derive.c) answers each transfer exactly, but has
 * to compare some 40 fields of the vCPU to know it is in a remembered
 * state: about half a round trip's cost.
 *
 * Here the proof that the vCPU is still in the state the last instruction
 * made is cheaper: nothing but translated code ran since. Everything that
 * changes segments, CPL, control registers or MSRs is monitor code, which
 * is reached through a callout or runs in the dispatcher before bt_enter;
 * both bump bt_cpu.entries (bt/runtime.S). So if the last SYSEXIT made U
 * at entries = n and this SYSENTER's callout is entry n + 1, the vCPU is
 * in U but for registers, flags and memory, and SYSENTER makes the K it
 * made from U before. Host signals that return to translated code (hidden
 * faults, traced stores) change only shadow mappings, and the space's key
 * generation is compared; wholesale rewrites (reset, snapshot load) move
 * the derive generation, also compared, as is the MSR itself.
 *
 * A side is used only when it was made from the other one (linked); its
 * shadow space is the same one (one view for both rings) or the other
 * view of the same CR3, installed by derive_install as a memo hit would
 * be (since guest memory is R14-relative that is a few stores). Anything unusual takes
 * the full path: a fault, a pending event, --no-sysfast. */
#include <string.h>

#include "emulator/paging.h"

/* The generations a side was made under still hold. */
static bool side_valid(const struct vcpu *v, const struct sysfast_side *s)
{
    return s->derive_gen == v->derive.gen && s->msr_cs == v->sysenter_cs &&
           s->mmu_gen == mmu_key_gen(v->vm->mmu);
}

int sysfast_run(struct vcpu *v, int dir)
{
    struct sysfast *f = &v->sysfast;
    const struct sysfast_side *s = &f->side[dir], *from = &f->side[!dir];
    struct bt_cpu *cpu = &v->bt;
    struct vm *vm = v->vm;
    unsigned old = v->cpl;

    if (f->last != !dir || cpu->entries != f->entries + 1 || !f->linked[dir] ||
        from->r.space != vm->cur_space || old != from->cpl || v->seg[SEG_CS].sel != from->cs_sel ||
        !side_valid(v, s) || vm->cfg.no_sysfast)
        return -1;
    if (dir == SF_ENTER) {
        /* SDM "SYSENTER": VM, IF and RF cleared. */
        v->vm86 = false;
        set_guest_eflags(v, 0, FL_VM | FL_IF | FL_RF);
        v->dbx.rf = false;
        cpu->gpr[R_ESP] = v->sysenter_esp;
        cpu->next_eip = v->sysenter_eip;
    } else {
        cpu->gpr[R_ESP] = cpu->gpr[R_ECX];
        cpu->next_eip = cpu->gpr[R_EDX];
    }
    v->seg[SEG_CS] = (struct segreg){ .sel = s->cs_sel, .limit = 0xffffffffu, .ar = s->cs_ar };
    v->seg[SEG_SS] = (struct segreg){ .sel = s->ss_sel, .limit = 0xffffffffu, .ar = s->ss_ar };
    v->cpl = s->cpl;
    derive_install(v, &s->r, old);
    vm->stats.sysfast_hits++;
    f->last = dir;
    f->entries = cpu->entries;
    return callout_continue(v);
}

/* The state vcpu_derive left is the whole of it, and CS and SS are the
 * flat ones the instruction loads. */
static bool derived_whole(const struct vcpu *v)
{
    const struct segreg *cs = &v->seg[SEG_CS], *ss = &v->seg[SEG_SS];

    return derive_whole(v) && !v->bt.exc_pending && !v->vm86 && cs->base == 0 &&
           cs->limit == 0xffffffffu && ss->base == 0 && ss->limit == 0xffffffffu;
}

void sysfast_record(struct vcpu *v, int dir)
{
    struct sysfast *f = &v->sysfast;
    struct sysfast_side s;
    bool from_other = f->last == !dir && v->bt.entries == f->entries + 1 &&
                      side_valid(v, &f->side[!dir]);

    f->last = -1;
    if (v->vm->cfg.no_sysfast || !derived_whole(v))
        return;
    memset(&s, 0, sizeof s);
    s.cs_sel = v->seg[SEG_CS].sel;
    s.ss_sel = v->seg[SEG_SS].sel;
    s.cs_ar = v->seg[SEG_CS].ar;
    s.ss_ar = v->seg[SEG_SS].ar;
    s.cpl = v->cpl;
    derive_capture(v, &s.r);
    s.derive_gen = v->derive.gen;
    s.msr_cs = v->sysenter_cs;
    s.mmu_gen = mmu_key_gen(v->vm->mmu);
    if (memcmp(&s, &f->side[dir], sizeof s) != 0) {
        f->side[dir] = s;
        f->linked[!dir] = false;    /* made from the side just replaced */
    }
    f->linked[dir] = from_other;
    f->last = dir;
    f->entries = v->bt.entries;
}
