/* desc — descriptor tables and segment registers (SDM vol. 3 §3.4-3.5 and
 * the protection checks of §5.5-5.8).
 *
 * A selector:   15            3  2  1 0
 *              +---------------+----+---+
 *              |     index     | TI |RPL|     TI: 0 GDT, 1 LDT
 *              +---------------+----+---+
 *
 * Every segment-register load reads the descriptor from guest memory,
 * checks it, and caches base, limit and access rights in the vCPU, as the
 * processor's hidden part does. Translated code folds non-zero bases in
 * with `lea` (DESIGN §2), keyed on the set of bases (segsets.c). Limits are
 * cached but not enforced on translated accesses (README). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/paging.h"

void sys_warn_once(struct vcpu *v, unsigned bit, const char *fmt, ...)
{
    va_list ap;
    if (v->base_warned & (1u << bit))
        return;
    v->base_warned |= (uint8_t)(1u << bit);
    fprintf(stderr, "bt86: note: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool desc_read(struct vcpu *v, uint16_t sel, struct desc *d)
{
    uint32_t base, limit, idx = sel & 0xfff8u;
    uint8_t raw[8];

    if (sel & 4) {
        if (!v->ldtr.ar)
            return false;
        base = v->ldtr.base;
        limit = v->ldtr.limit;
    } else {
        base = v->gdtr.base;
        limit = v->gdtr.limit;
    }
    if (idx + 7 > limit)
        return false;
    /* An implicit supervisor read (SDM vol. 3A §4.6). A page fault is left
     * in v->pf for the caller's fault to become (raise_fault, pf_take);
     * outside RAM reads float high, as on a PC's bus: not a valid
     * descriptor. */
    if (!sys_read(v, base + idx, raw, 8)) {
        if (v->pf.pending)
            return false;
        memset(raw, 0xff, 8);
    }
    memcpy(&d->lo, raw, 4);
    memcpy(&d->hi, raw + 4, 4);
    return true;
}

void desc_set_accessed(struct vcpu *v, uint16_t sel, struct desc *d)
{
    uint32_t base = (sel & 4) ? v->ldtr.base : v->gdtr.base;
    uint8_t type_byte;

    if (!desc_s(*d) || (d->hi & 0x100))
        return;
    d->hi |= 0x100;
    type_byte = (uint8_t)(d->hi >> 8);
    if (!sys_write(v, base + (sel & 0xfff8u) + 5, &type_byte, 1))
        v->pf.pending = false;  /* TODO(#5): a #PF setting the accessed bit */
}

void seg_from_desc(struct segreg *s, uint16_t sel, struct desc d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->ar = desc_ar(d) | (desc_s(d) ? 0x100 : 0);   /* a load sets a segment's accessed bit */
}

static uint32_t sel_err(uint16_t sel) { return sel & 0xfffcu; }

struct fault seg_check_load(struct vcpu *v, int sreg, uint16_t sel, struct segreg *out)
{
    struct desc d;
    unsigned rpl = sel & 3, dpl;

    if (vcpu_seg_real(v)) {
        seg_load_real(v, sreg, sel, out);
        return NO_FAULT;
    }
    if ((sel & 0xfffc) == 0) {
        if (sreg == SEG_SS)
            return GP(0);                       /* SS may not be null */
        *out = (struct segreg){ .sel = sel };   /* null: usable until used */
        return NO_FAULT;
    }
    if (!desc_read(v, sel, &d))
        return GP(sel_err(sel));
    dpl = desc_dpl(d);
    if (sreg == SEG_SS) {
        /* Writable data, RPL = DPL = CPL (SDM "MOV": "If the SS register is being loaded"). */
        if (!desc_is_data(d) || !(desc_type(d) & 2) || rpl != v->cpl || dpl != v->cpl)
            return GP(sel_err(sel));
        if (!desc_present(d))
            return FAULT(EXC_SS, sel_err(sel));
    } else {
        /* Data or readable code; unless conforming code, DPL >= max(CPL, RPL). */
        bool code = desc_is_code(d);
        if (!desc_s(d) || (code && !(desc_type(d) & 2)))
            return GP(sel_err(sel));
        if (!(code && (desc_type(d) & 4)) && (rpl > dpl || v->cpl > dpl))
            return GP(sel_err(sel));
        if (!desc_present(d))
            return FAULT(EXC_NP, sel_err(sel));
    }
    seg_from_desc(out, sel, d);
    return NO_FAULT;
}

void seg_commit(struct vcpu *v, int sreg, const struct segreg *s)
{
    if (s->ar && !vcpu_seg_real(v)) {
        struct desc d;
        if (desc_read(v, s->sel, &d))
            desc_set_accessed(v, s->sel, &d);
    }
    v->seg[sreg] = *s;
    vcpu_derive(v, v->cpl);
    if (sreg == SEG_SS) {
        v->bt.inhibit_irq = 1;  /* SDM "MOV": interrupts are inhibited until after the next instruction */
        v->dbx.ss_shadow = true;    /* ... and debug exceptions (single step) too */
    }
}

struct fault seg_check_code_jump(struct vcpu *v, uint16_t sel, struct desc *d)
{
    if ((sel & 0xfffc) == 0)
        return GP(0);
    if (!desc_read(v, sel, d))
        return GP(sel_err(sel));
    if (!desc_is_code(*d))
        return GP(sel_err(sel));    /* call gates, TSS and task gates: the caller checks first */
    if (desc_type(*d) & 4) {        /* conforming: DPL <= CPL */
        if (desc_dpl(*d) > v->cpl)
            return GP(sel_err(sel));
    } else if ((sel & 3) > v->cpl || desc_dpl(*d) != v->cpl) {
        return GP(sel_err(sel));
    }
    if (!desc_present(*d))
        return FAULT(EXC_NP, sel_err(sel));
    return NO_FAULT;
}

struct fault seg_check_code_return(struct vcpu *v, uint16_t sel, struct desc *d)
{
    unsigned rpl = sel & 3;

    if ((sel & 0xfffc) == 0)
        return GP(0);
    if (!desc_read(v, sel, d) || !desc_is_code(*d) || rpl < v->cpl)
        return GP(sel_err(sel));
    if ((desc_type(*d) & 4) ? desc_dpl(*d) > rpl : desc_dpl(*d) != rpl)
        return GP(sel_err(sel));
    if (!desc_present(*d))
        return FAULT(EXC_NP, sel_err(sel));
    return NO_FAULT;
}

struct fault seg_check_stack(struct vcpu *v, uint16_t sel, unsigned cpl, int err_vec, uint32_t ext,
                             struct segreg *out, struct desc *d)
{
    if ((sel & 0xfffc) == 0)
        return FAULT(err_vec, ext);
    if (!desc_read(v, sel, d) || (sel & 3) != cpl || !desc_is_data(*d) || !(desc_type(*d) & 2) ||
        desc_dpl(*d) != cpl)
        return FAULT(err_vec, sel_err(sel) | ext);
    if (!desc_present(*d))
        return FAULT(EXC_SS, sel_err(sel) | ext);
    seg_from_desc(out, sel, *d);
    return NO_FAULT;
}

void seg_load_cs(struct vcpu *v, uint16_t sel, struct desc d, unsigned cpl)
{
    seg_from_desc(&v->seg[SEG_CS], (uint16_t)((sel & ~3u) | cpl), d);
    v->cpl = cpl;
}

bool seg_set_cs(struct vcpu *v, uint16_t sel, struct desc d, unsigned cpl, uint32_t eip)
{
    unsigned old = v->cpl;

    (void)eip;
    seg_load_cs(v, sel, d, cpl);
    vcpu_derive(v, old);        /* the CS base and size are in the block mode */
    return true;
}

void seg_clear_inner(struct vcpu *v)
{
    static const int regs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    for (int i = 0; i < 4; i++) {
        struct segreg *s = &v->seg[regs[i]];
        /* SDM "RET"/"IRET": a data or non-conforming code segment with DPL < CPL. */
        if (s->ar && !ar_conforming(s->ar) && ar_dpl(s->ar) < v->cpl)
            *s = (struct segreg){ 0 };
    }
}

void vcpu_mode_changed(struct vcpu *v)
{
    v->bt.exit_slot = 0;        /* never chain across a mode change */
    if (jc_select(v, vcpu_mode(v)))
        paging_sync(v);         /* the user or the supervisor view of the space */
}

void sys_reset(struct vcpu *v)
{
    /* Multiboot 0.6.96 §3.2: CS a flat 32-bit read/execute code segment,
     * the data segments flat read/write; GDTR and IDTR are the OS's to set.
     * Selectors as QEMU's loader leaves them. */
    struct desc code = { 0x0000ffffu, 0x00cf9b00u }, data = { 0x0000ffffu, 0x00cf9300u };

    for (int s = 0; s < 6; s++)
        seg_from_desc(&v->seg[s], 0x10, data);
    seg_from_desc(&v->seg[SEG_CS], 0x08, code);
    v->ldtr = (struct segreg){ 0 };
    /* TR: what reset leaves (SDM vol. 3 table 10-1), usable but empty. */
    v->tr = (struct segreg){ .sel = 0, .base = 0, .limit = 0xffff, .ar = 0x8b00 };
    v->gdtr = (struct dtable){ 0, 0 };
    v->idtr = (struct dtable){ 0, 0 };
    v->idt_loaded = false;
    v->cpl = 0;
    memset(v->dr, 0, sizeof v->dr);
    v->dr[6] = 0xffff0ff0u;
    v->dr[7] = 0x400;
    msr_reset(v);
    v->segset = 0;                  /* every base is zero */
    memset(v->segset_any, 0, sizeof v->segset_any);
    derive_forget(v);
}
