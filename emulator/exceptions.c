/* exceptions — delivery of exceptions and interrupts through the guest IDT
 * (SDM vol. 3 §6.10-6.15).
 *
 * An IDT entry (interrupt/trap gate, 32-bit; 16-bit gates push words):
 *
 *   63          48 47 46 45 44   40 39     32 31       16 15          0
 *  +--------------+--+-----+--------+--------+-----------+-------------+
 *  | offset 31:16 |P | DPL |0 D 1 1 T|   0    | selector  | offset 15:0 |
 *  +--------------+--+-----+--------+--------+-----------+-------------+
 *                                 T: 0 interrupt gate (clears IF), 1 trap gate
 *
 * Delivery (§6.12.1): check the gate (type, DPL for software interrupts,
 * present), then its code segment; a non-conforming handler segment more
 * privileged than CPL switches to the stack that the TSS holds for its
 * level and pushes the old SS:ESP there first. Then EFLAGS, CS, EIP and the
 * error code if the vector has one; TF, NT, RF, VM are cleared, and IF too
 * through an interrupt gate.
 *
 * A fault while delivering is handled per table 6-5: two contributory
 * faults (or a page fault then a contributory fault or page fault) make a
 * double fault (#DF, error code 0); a fault while delivering #DF is a
 * triple fault, which ends the run (a PC would reset; QEMU's -no-reboot
 * stops). Everything else is handled serially: the new fault is delivered
 * instead. Each attempt checks everything before it changes any state. */
#include <stdio.h>
#include <string.h>

#include "emulator/paging.h"

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *exc_name(int vec)
{
    static char buf[16];
    if (vec >= 0 && vec < 32 && names[vec])
        return names[vec];
    snprintf(buf, sizeof buf, "vector 0x%02x", vec & 0xff);
    return buf;
}

int raise_fault(struct vcpu *v, struct fault f, uint32_t eip)
{
    /* A page fault met while reading a descriptor or the TSS for this
     * instruction comes first: the fault derived from the failed read
     * (#GP, #TS) would not have happened (SDM vol. 3A §6.15, #PF). */
    if (v->pf.pending && v->pf.site == v->bt.site)
        f = pf_take(v, f);
    if (f.vec == EXC_PF)
        v->cr2 = f.cr2;
    v->exc.vector = f.vec;
    v->exc.eip = eip;
    v->exc.has_error_code = f.has_err;
    v->exc.error_code = f.has_err ? f.err : 0;
    v->bt.exc_pending = 1;
    v->bt.next_eip = eip;
    return BT_EXIT;
}

enum { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static int exc_class(int vec)
{
    if (vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP))
        return CONTRIBUTORY;
    return vec == EXC_PF ? PAGE_FAULT : BENIGN;
}

/* The stack for privilege level `dpl` from the current TSS (§7.2.1). */
static struct fault tss_stack(struct vcpu *v, unsigned dpl, uint32_t ext, uint16_t *ss, uint32_t *esp)
{
    unsigned type = v->tr.ar >> 8 & 15;
    bool tss32 = type == SYS_TSS32_AVAIL || type == SYS_TSS32_BUSY;
    uint32_t at = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl, size = tss32 ? 4 : 2, val = 0;
    uint16_t sel = 0;
    struct fault ts = FAULT(EXC_TS, (v->tr.sel & 0xfffcu) | ext);

    if (!v->tr.ar || at + size + 1 > v->tr.limit)
        return ts;
    uint8_t buf[6];                     /* ESPn, then SSn: one access */
    if (!sys_read(v, v->tr.base + at, buf, size + 2))
        return pf_take(v, ts);
    if (tss32)
        memcpy(&val, buf, 4);
    else
        memcpy(&val, buf, 2);
    memcpy(&sel, buf + size, 2);
    *ss = sel;
    *esp = val;
    return NO_FAULT;
}

/* One delivery attempt. *stopped: the run was stopped with a message;
 * *switched: a task gate switched tasks, so a fault it returns belongs to
 * the new task (its EIP). */
static struct fault deliver_once(struct vcpu *v, int vector, enum event_src src, bool has_err,
                                 uint32_t err, uint32_t eip, bool *stopped, bool *switched)
{
    struct bt_cpu *cpu = &v->bt;
    uint32_t ext = src == EV_SOFT ? 0 : 1, idt_err = (uint32_t)vector * 8 + 2 + ext;
    uint32_t off, frame[10], esp, eflags = guest_eflags(cpu) | (v->dbx.rf ? FL_RF : 0) |
                                           (v->vm86 ? FL_VM : 0);
    unsigned type, new_cpl, size, n = 0, old_cpl = v->cpl;
    struct segreg new_ss = v->seg[SEG_SS];
    struct desc gate, cs, ssd;
    uint16_t sel;
    uint8_t raw[8];

    if (vcpu_real(v))
        return deliver_real(v, vector, eip, stopped);
    if ((uint32_t)vector * 8 + 7 > v->idtr.limit)
        return GP(idt_err);
    if (!sys_read(v, v->idtr.base + (uint32_t)vector * 8, raw, 8)) {
        if (v->pf.pending)
            return pf_take(v, NO_FAULT);
        memset(raw, 0xff, 8);                   /* open bus */
    }
    memcpy(&gate.lo, raw, 4);
    memcpy(&gate.hi, raw + 4, 4);
    type = desc_type(gate);
    if (desc_s(gate) || !(type == SYS_TASKGATE || type == SYS_INTGATE16 || type == SYS_TRAPGATE16 ||
                          type == SYS_INTGATE32 || type == SYS_TRAPGATE32))
        return GP(idt_err);
    if (src == EV_SOFT && desc_dpl(gate) < v->cpl)
        return GP(idt_err);                     /* §6.12.1.1: INT n, INT3, INTO only */
    if (!desc_present(gate))
        return FAULT(EXC_NP, idt_err);
    if (type == SYS_TASKGATE) {
        /* A task switch (SDM vol. 3 §6.11.1, §7.3): the gate names an
         * available TSS in the GDT. */
        struct desc tssd;
        struct task_result res;
        struct fault f;
        uint16_t tsel = (uint16_t)(gate.lo >> 16);
        unsigned tt;
        if ((tsel & 4) || !desc_read(v, tsel, &tssd))
            return pf_take(v, GP((tsel & 0xfffcu) | ext));
        tt = desc_type(tssd);
        if (desc_s(tssd) || (tt != SYS_TSS32_AVAIL && tt != SYS_TSS16_AVAIL))
            return GP((tsel & 0xfffcu) | ext);
        if (!desc_present(tssd))
            return FAULT(EXC_NP, (tsel & 0xfffcu) | ext);
        if (desc_limit(tssd) < (tt == SYS_TSS32_AVAIL ? 0x67u : 0x2bu))
            return FAULT(EXC_TS, (tsel & 0xfffcu) | ext);
        f = task_switch(v, tsel, tssd, TASK_INT, eip, has_err, err, ext, &res);
        *stopped = res.stopped;
        *switched = res.committed;
        return f;
    }

    sel = (uint16_t)(gate.lo >> 16);
    off = (gate.lo & 0xffffu) | (gate.hi & 0xffff0000u);
    size = type >= SYS_INTGATE32 ? 4 : 2;
    if (size == 2)
        off &= 0xffff;
    if ((sel & 0xfffc) == 0)
        return GP(ext);
    if (!desc_read(v, sel, &cs))
        return pf_take(v, GP((sel & 0xfffcu) | ext));
    if (!desc_is_code(cs) || desc_dpl(cs) > v->cpl)
        return GP((sel & 0xfffcu) | ext);
    if (!desc_present(cs))
        return FAULT(EXC_NP, (sel & 0xfffcu) | ext);
    new_cpl = (desc_type(cs) & 4) ? v->cpl : desc_dpl(cs);
    /* From virtual-8086 mode only to a ring-0 handler (SDM "INT n":
     * INTERRUPT-FROM-VIRTUAL-8086-MODE; vol. 3A §20.3.1.1). */
    if (v->vm86 && new_cpl != 0)
        return GP((sel & 0xfffcu) | ext);
    if (off > desc_limit(cs))
        return GP(ext);

    esp = cpu->gpr[R_ESP];
    if (new_cpl < v->cpl) {
        uint16_t ss_sel = 0;
        struct fault f = tss_stack(v, new_cpl, ext, &ss_sel, &esp);
        if (f.vec >= 0)
            return f;
        f = seg_check_stack(v, ss_sel, new_cpl, EXC_TS, ext, &new_ss, &ssd);
        if (f.vec >= 0)
            return pf_take(v, f);
        if (v->vm86) {      /* GS, FS, DS, ES first, then the usual frame */
            frame[n++] = v->seg[SEG_GS].sel;
            frame[n++] = v->seg[SEG_FS].sel;
            frame[n++] = v->seg[SEG_DS].sel;
            frame[n++] = v->seg[SEG_ES].sel;
        }
        frame[n++] = v->seg[SEG_SS].sel;
        frame[n++] = cpu->gpr[R_ESP];
    }
    frame[n++] = eflags;
    frame[n++] = v->seg[SEG_CS].sel;
    frame[n++] = eip;
    if (has_err)
        frame[n++] = err;
    /* Push on the new stack (its base, not the old SS's), as the new CPL,
     * in one store: the first word pushed is the highest. Every page is
     * checked first, so a #PF leaves nothing half written (a store within
     * one page is translated before anything is written: no probe). */
    {
        uint8_t img[sizeof frame];
        unsigned fl = GM_WRITE | (new_cpl == 3 ? GM_USER : 0);
        for (unsigned i = 0; i < n; i++) {
            if (size == 4)          /* constant sizes: a store, not a byte loop */
                memcpy(img + (n - 1 - i) * 4, &frame[i], 4);
            else
                memcpy(img + (n - 1 - i) * 2, &frame[i], 2);
        }
        uint32_t spm = !new_ss.ar || ar_big(new_ss.ar) ? 0xffffffffu : 0xffffu;  /* 16-bit: SP */
        uint32_t lin;
        esp = (esp & ~spm) | ((esp - n * size) & spm);
        lin = new_ss.base + (esp & spm);
        if (((lin & 4095) + n * size > 4096 && !guest_access(v, lin, NULL, n * size, fl | GM_PROBE)) ||
            !guest_access(v, lin, img, n * size, fl)) {
            if (v->pf.pending)
                return pf_take(v, NO_FAULT);
            *stopped = true;
            vcpu_stop_error(v, eip, "delivering %s: the stack at 0x%08x is outside RAM",
                            exc_name(vector), new_ss.base + (esp & spm));
            return NO_FAULT;
        }
    }

    /* Commit. Leaving virtual-8086 mode nulls the data segments, whose
     * selector << 4 values mean nothing in protected mode. */
    if (v->vm86) {
        v->vm86 = false;
        v->seg[SEG_ES] = v->seg[SEG_DS] = v->seg[SEG_FS] = v->seg[SEG_GS] = (struct segreg){ 0 };
    }
    if (new_cpl < v->cpl) {
        desc_set_accessed(v, new_ss.sel, &ssd);
        v->seg[SEG_SS] = new_ss;
    }
    desc_set_accessed(v, sel, &cs);
    seg_load_cs(v, sel, cs, new_cpl);
    vcpu_derive(v, old_cpl);
    cpu->gpr[R_ESP] = esp;
    eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (type == SYS_INTGATE16 || type == SYS_INTGATE32)
        eflags &= ~FL_IF;
    set_guest_eflags(v, eflags, ~0u);
    cpu->inhibit_irq = 0;
    v->dbx.rf = false;
    cpu->eip = cpu->next_eip = off;
    return NO_FAULT;
}

static void triple_fault(struct vcpu *v, int first, enum event_src src, uint32_t eip, const char *chain)
{
    struct bt_cpu *cpu = &v->bt;
    char what[40];

    if (src == EV_EXTINT)
        snprintf(what, sizeof what, "interrupt 0x%02x", first & 0xff);
    else if (src == EV_SOFT)
        snprintf(what, sizeof what, "INT 0x%02x", first & 0xff);
    else
        snprintf(what, sizeof what, "%s", exc_name(first));
    snprintf(v->error, sizeof v->error,
             "guest %s at EIP 0x%08x ended in a triple fault (then %s)%s\n"
             "  CS=%04x SS=%04x CPL=%u CR0=%08x GDT=%08x+%04x IDT=%08x+%04x TR=%04x",
             what, eip, chain, v->idt_loaded ? "" : "; no IDT was loaded",
             v->seg[SEG_CS].sel, v->seg[SEG_SS].sel, v->cpl, v->cr0, v->gdtr.base,
             v->gdtr.limit, v->idtr.base, v->idtr.limit, v->tr.sel);
    v->exit = EXIT_TRIPLE_FAULT;
    cpu->eip = cpu->next_eip = eip;
}

bool event_deliver(struct vcpu *v, int vector, enum event_src src, bool has_err, uint32_t err,
                   uint32_t eip, uint32_t fault_eip)
{
    int first = vector, cur = vector;
    enum event_src first_src = src;
    char chain[64] = "";
    size_t len = 0;

    for (;;) {
        bool stopped = false, switched = false;
        struct fault f = deliver_once(v, cur, src, has_err, err, eip, &stopped, &switched);
        if (stopped)
            return false;
        if (f.vec < 0) {
            v->halted = false;
            v->dbx.delivered = true;    /* no single-step trap for the INT (debugexc.c) */
            return true;
        }
        if (src == EV_EXC && cur == EXC_DF) {
            triple_fault(v, first, first_src, eip, len ? chain : "#DF");
            return false;
        }
        int c1 = src == EV_EXC ? exc_class(cur) : BENIGN, c2 = exc_class(f.vec);
        if ((c1 == CONTRIBUTORY && c2 == CONTRIBUTORY) || (c1 == PAGE_FAULT && c2 != BENIGN)) {
            cur = EXC_DF;
            err = 0;
        } else {
            cur = f.vec;
            err = f.err;
        }
        if (len < sizeof chain - 8)
            len += (size_t)snprintf(chain + len, sizeof chain - len, "%s%s", len ? ", " : "",
                                    exc_name(cur));
        has_err = exc_has_error(cur);
        src = EV_EXC;
        eip = switched ? v->bt.eip : fault_eip;
        fault_eip = eip;
    }
}

void exc_deliver_pending(struct vcpu *v)
{
    struct vm_exception *e = &v->exc;

    v->bt.exc_pending = 0;
    v->vm->stats.exceptions++;
    if (e->vector == EXC_PF)
        v->pf_return = (struct pf_return){ .pending = true, .eip = e->eip, .lin = v->cr2 };
    event_deliver(v, e->vector, EV_EXC, e->has_error_code, e->error_code, e->eip, e->eip);
}
