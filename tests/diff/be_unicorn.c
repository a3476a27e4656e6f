/* be_unicorn — the reference: Unicorn 2.0.1 in 32-bit mode, one engine
 * per worker, reused across cases as the capstone-unicorn note §4.3
 * recommends: context restore per case (which also clears QEMU's pending
 * exception state, §3.4), cache removal after writing code (§3.5), and an
 * INTR hook that records the vector and stops.
 *
 * The FPU/SSE state goes in and out through FXRSTOR/FXSAVE executed from a
 * scratch page only Unicorn maps (CR4.OSFXSR set so they include the XMM
 * registers and SSE is enabled).
 *
 * Where Unicorn 2.0.1 contradicts the SDM and the right value is cheap to
 * compute, the reference is corrected right after the instruction (at the
 * next instruction's hook, or at the end of the run): see fixups below and
 * unicorn-quirks.md. Only x87/MMX state is corrected this way: EFLAGS written
 * from a hook in the middle of a translation block is not reliable (QEMU
 * tracks the flags lazily at translation time), so flag quirks are masked.
 * Everything else it gets wrong is masked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "backend.h"
#include "trace.h"

#define SCRATCH 0x00050000u
#define STEP_LIMIT 20000

/* A correction to apply once the instruction has executed. */
enum fix_kind { FIX_NONE, FIX_EMMS, FIX_MMX_EXP, FIX_FLDCONST, FIX_FLD_QUIET, FIX_FLDCW };
struct fix { enum fix_kind kind; int reg; uint32_t ea; unsigned size; };

struct uctx {
    uc_engine *uc;
    struct fix fix;
    uc_context *ctx;
    const struct dt_case *c;
    struct dt_result *r;
    struct trace tr;
    bool faulted;
    int vector;
    uint32_t fault_eip;
};

static const int gpr_ids[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };

static void on_intr(uc_engine *uc, uint32_t intno, void *user) {
    struct uctx *u = user;
    u->faulted = true;
    u->vector = intno;
    uc_reg_read(uc, UC_X86_REG_EIP, &u->fault_eip);
    uc_emu_stop(uc);
}

static bool mem_reader(void *ctx, uint32_t a, void *dst, uint32_t n) {
    struct uctx *u = ctx;
    return uc_mem_read(u->uc, a, dst, n) == UC_ERR_OK;
}

static void apply_fix(struct uctx *u) {
    uc_engine *uc = u->uc;
    struct fix *f = &u->fix;
    switch (f->kind) {
    case FIX_NONE: break;
    case FIX_EMMS: {           /* U2: EMMS sets TOP to 0 (SDM vol. 1 §9.5.1, Table 9-2) */
        uint16_t fsw;
        uc_reg_read(uc, UC_X86_REG_FPSW, &fsw);
        fsw &= ~0x3800;
        uc_reg_write(uc, UC_X86_REG_FPSW, &fsw);
        break;
    }
    case FIX_MMX_EXP: {        /* U3: an MMX register write sets bits 64-79 to 1s (SDM vol. 1 §9.5.1) */
        uint8_t v[16] = { 0 };
        uc_reg_read(uc, UC_X86_REG_FP0 + f->reg, v);
        v[8] = v[9] = 0xff;
        uc_reg_write(uc, UC_X86_REG_FP0 + f->reg, v);
        break;
    }
    case FIX_FLDCONST: {       /* U10: FLDL2T..FLDLN2 round per FCW.RC (SDM vol. 1 §8.3.9) */
        static const uint64_t trunc[5] = { 0xd49a784bcd1b8afeull, 0xb8aa3b295c17f0bbull, 0xc90fdaa22168c234ull,
                                           0x9a209a84fbcff798ull, 0xb17217f7d1cf79abull };
        static const uint8_t nearest_up[5] = { 0, 1, 1, 1, 1 };
        uint16_t fcw, fsw;
        uc_reg_read(uc, UC_X86_REG_FPCW, &fcw);
        uc_reg_read(uc, UC_X86_REG_FPSW, &fsw);
        int rc = (fcw >> 10) & 3, top = (fsw >> 11) & 7;
        uint8_t v[16] = { 0 };
        uc_reg_read(uc, UC_X86_REG_FP0 + top, v);
        uint64_t m = trunc[f->reg] + (rc == 2 ? 1 : rc == 0 ? nearest_up[f->reg] : 0);
        memcpy(v, &m, 8);
        uc_reg_write(uc, UC_X86_REG_FP0 + top, v);
        break;
    }
    case FIX_FLD_QUIET: {      /* U16: FLD m32/m64 of an SNaN loads it quieted (SDM FLD) */
        uint16_t fsw;
        uc_reg_read(uc, UC_X86_REG_FPSW, &fsw);
        int top = (fsw >> 11) & 7;
        uint8_t v[16] = { 0 };
        uc_reg_read(uc, UC_X86_REG_FP0 + top, v);
        uint64_t m;
        memcpy(&m, v, 8);
        if ((v[8] | (v[9] & 0x7f) << 8) == 0x7fff && (m << 1) && !(m >> 62 & 1)) {
            m |= 1ull << 62;
            memcpy(v, &m, 8);
            uc_reg_write(uc, UC_X86_REG_FP0 + top, v);
        }
        break;
    }
    case FIX_FLDCW: {          /* U15: FCW bits 13-15 read as 0, bit 6 as 1 */
        uint16_t fcw;
        uc_reg_read(uc, UC_X86_REG_FPCW, &fcw);
        fcw = (fcw & 0x1f3f) | 0x40;
        uc_reg_write(uc, UC_X86_REG_FPCW, &fcw);
        break;
    }
    }
    f->kind = FIX_NONE;
}

/* Which correction the instruction at b needs, if any. */
static void plan_fix(struct uctx *u, const uint8_t *b, int len, const uint32_t *g) {
    struct pfx p;
    pfx_scan(b, len, &p);
    const uint8_t *o = b + p.n;
    struct fix *f = &u->fix;
    f->kind = FIX_NONE;
    if (o[0] == 0x0f && !p.p66 && !p.rep && !p.repne) {
        uint8_t op = o[1], m = o[2];
        if (op == 0x77) { f->kind = FIX_EMMS; return; }
        bool to_reg = (op >= 0x60 && op <= 0x6b) || op == 0x6e || op == 0x6f || (op >= 0x74 && op <= 0x76) ||
                      (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xdf) || (op >= 0xe0 && op <= 0xe5) ||
                      (op >= 0xe8 && op <= 0xef) || (op >= 0xf1 && op <= 0xf6) || (op >= 0xf8 && op <= 0xfe) ||
                      op == 0xc4;
        bool to_rm = (op >= 0x71 && op <= 0x73) || (op == 0x7f && (m >> 6) == 3);
        if (to_reg) { f->kind = FIX_MMX_EXP; f->reg = (m >> 3) & 7; }
        if (to_rm) { f->kind = FIX_MMX_EXP; f->reg = m & 7; }
        return;
    }
    if (o[0] == 0xd9 && o[1] >= 0xe9 && o[1] <= 0xed) { f->kind = FIX_FLDCONST; f->reg = o[1] - 0xe9; return; }
    if ((o[1] >> 6) != 3 && (o[0] == 0xd9 || o[0] == 0xdd) && ((o[1] >> 3) & 7) == 0) f->kind = FIX_FLD_QUIET;
    if ((o[1] >> 6) != 3 && o[0] == 0xd9 && ((o[1] >> 3) & 7) == 5) f->kind = FIX_FLDCW;
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *user) {
    struct uctx *u = user;
    apply_fix(u);
    uint32_t g[8], fl;
    void *ptrs[8];
    for (int i = 0; i < 8; i++) ptrs[i] = &g[i];
    uc_reg_read_batch(uc, (int *)gpr_ids, ptrs, 8);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &fl);
    uint8_t b[16];
    if (size > 15 || uc_mem_read(uc, addr, b, size) != UC_ERR_OK) return;
    struct dyn d = { g, fl, mem_reader, u };
    trace_step(&u->tr, (uint32_t)addr, b, size, &d);
    plan_fix(u, b, size, g);
}

/* How a run that did not reach the stop address ended: an exception
 * (the INTR hook, or an invalid opcode), unmapped memory, another error.
 * false: it did not end that way. */
static bool stopped_by(struct uctx *u, uc_err e, uint32_t eip, struct dt_result *r) {
    if (u->faulted) {
        r->exit = DT_EXIT_EXCEPTION; r->vector = u->vector; r->fault_eip = u->fault_eip;
    } else if (e == UC_ERR_INSN_INVALID) {
        r->exit = DT_EXIT_EXCEPTION; r->vector = 6; r->fault_eip = eip;
    } else if (e == UC_ERR_READ_UNMAPPED || e == UC_ERR_WRITE_UNMAPPED || e == UC_ERR_FETCH_UNMAPPED) {
        r->exit = DT_EXIT_UNMAPPED;
        snprintf(r->msg, sizeof r->msg, "%s at eip %08x", uc_strerror(e), eip);
    } else if (e) {
        r->exit = DT_EXIT_ERROR;
        snprintf(r->msg, sizeof r->msg, "%s at eip %08x", uc_strerror(e), eip);
    } else {
        return false;
    }
    return true;
}

/* --real: the segment registers as dt.h says (CS ES SS DS FS GS order of
 * the ids below does not matter: real mode loads sel << 4). */
static void real_segments(uc_engine *uc) {
    static const int ids[6] = { UC_X86_REG_CS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS,
                                UC_X86_REG_SS, UC_X86_REG_GS };
    static const uint32_t sel[6] = { DT_CODE >> 4, DT_DATA >> 4, DT_DATA >> 4, DT_DATA >> 4,
                                     DT_STACK >> 4, DT_STACK >> 4 };
    for (int i = 0; i < 6; i++) uc_reg_write(uc, ids[i], &sel[i]);
}

/* A 16-bit real-mode case: no FPU transfer, no trace analysis (gen16.c
 * defines every flag it leaves), EIP as an offset in CS. */
static void uni_run_real(struct uctx *u, const struct dt_case *c, struct dt_result *r) {
    uc_engine *uc = u->uc;
    uc_context_restore(uc, u->ctx);
    for (int i = 0; i < DT_NREGIONS; i++)
        uc_mem_write(uc, dt_regions[i].base, c->in.mem + dt_regions[i].off, dt_regions[i].size);
    uc_ctl_remove_cache(uc, DT_CODE, DT_CODE + DT_CODE_SIZE);
    real_segments(uc);
    for (int i = 0; i < 8; i++) uc_reg_write(uc, gpr_ids[i], &c->in.gpr[i]);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &c->in.eflags);
    uc_err e = uc_emu_start(uc, DT_CODE, dt_stop_eip(c), 0, STEP_LIMIT);
    uint32_t eip;
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    if (!stopped_by(u, e, eip, r))
        r->exit = eip == c->main_len ? DT_EXIT_STOP : DT_EXIT_LIMIT;
    for (int i = 0; i < 8; i++) uc_reg_read(uc, gpr_ids[i], &r->out.gpr[i]);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &r->out.eflags);
    r->out.eip = r->exit == DT_EXIT_EXCEPTION ? r->fault_eip : eip;
    memcpy(r->out.fx, c->in.fx, sizeof r->out.fx);
    for (int i = 0; i < DT_NREGIONS; i++)
        uc_mem_read(uc, dt_regions[i].base, r->out.mem + dt_regions[i].off, dt_regions[i].size);
}

static void *uni_open(char *err, size_t errlen) {
    struct uctx *u = calloc(1, sizeof *u);
    uc_err e = uc_open(UC_ARCH_X86, dt_real ? UC_MODE_16 : UC_MODE_32, &u->uc);
    if (e) { snprintf(err, errlen, "uc_open: %s", uc_strerror(e)); return NULL; }
    for (int i = 0; i < DT_NREGIONS; i++) {
        e = uc_mem_map(u->uc, dt_regions[i].base, dt_regions[i].size, UC_PROT_ALL);
        if (e) { snprintf(err, errlen, "uc_mem_map %08x: %s", dt_regions[i].base, uc_strerror(e)); return NULL; }
    }
    uc_mem_map(u->uc, SCRATCH, 0x1000, UC_PROT_ALL);
    uc_mem_map(u->uc, DT_PT, DT_PT_PAGES * 0x1000, UC_PROT_ALL);
    static const uint8_t stubs[] = {
        0x0f, 0xae, 0x0d, 0x00, 0x01, 0x05, 0x00,   /* 0x50000: fxrstor [0x50100] */
        0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
        0x0f, 0xae, 0x05, 0x00, 0x01, 0x05, 0x00,   /* 0x50010: fxsave [0x50100] */
    };
    uc_mem_write(u->uc, SCRATCH, stubs, sizeof stubs);
    uint32_t cr0 = 0x33, cr4 = 0x600;               /* PE MP ET NE; OSFXSR OSXMMEXCPT */
    if (!dt_real) {
        uc_reg_write(u->uc, UC_X86_REG_CR0, &cr0);
        uc_reg_write(u->uc, UC_X86_REG_CR4, &cr4);
    }
    uc_hook h;
    uc_hook_add(u->uc, &h, UC_HOOK_INTR, (void *)on_intr, u, 1, 0);
    if (!dt_real)
        uc_hook_add(u->uc, &h, UC_HOOK_CODE, (void *)on_code, u, DT_CODE, DT_CODE + DT_CODE_SIZE - 1);
    uc_context_alloc(u->uc, &u->ctx);
    uc_context_save(u->uc, u->ctx);
    return u;
}

static void uni_run(void *ctx, const struct dt_case *c, struct dt_result *r) {
    struct uctx *u = ctx;
    uc_engine *uc = u->uc;
    memset(r, 0, sizeof *r);
    u->c = c; u->r = r; u->faulted = false;
    u->fix.kind = FIX_NONE;
    if (dt_real) {
        uni_run_real(u, c, r);
        return;
    }
    uc_context_restore(uc, u->ctx);
    for (int i = 0; i < DT_NREGIONS; i++)
        uc_mem_write(uc, dt_regions[i].base, c->in.mem + dt_regions[i].off, dt_regions[i].size);
    uc_ctl_remove_cache(uc, DT_CODE, DT_CODE + DT_CODE_SIZE);
    uc_mem_write(uc, SCRATCH + 0x100, c->in.fx, 512);
    uc_err e = uc_emu_start(uc, SCRATCH, SCRATCH + 7, 0, 1);
    if (e || u->faulted) {
        r->exit = DT_EXIT_ERROR;
        snprintf(r->msg, sizeof r->msg, "fxrstor: %s", e ? uc_strerror(e) : "fault");
        return;
    }
    for (int i = 0; i < 8; i++) uc_reg_write(uc, gpr_ids[i], &c->in.gpr[i]);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &c->in.eflags);

    trace_begin(&u->tr, &r->an);
    uint32_t stop = dt_stop_eip(c);
    if (dt_paging && dt_pae) {
        static uint64_t pt[DT_PT_PAGES][512];
        uint32_t cr3 = DT_PT, cr4 = 0x620, cr0 = 0x80010033;  /* + PAE; PG WP NE ET MP PE */
        dt_page_tables_pae(pt);
        uc_mem_write(uc, DT_PT, pt, sizeof pt);
        uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    } else if (dt_paging) {    /* the FXRSTOR/FXSAVE stubs run with paging off */
        static uint32_t pt[3][1024];
        uint32_t cr3 = DT_PT, cr0 = 0x80010033;     /* PG WP NE ET MP PE */
        dt_page_tables(pt);
        uc_mem_write(uc, DT_PT, pt, sizeof pt);
        uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    }
    e = uc_emu_start(uc, DT_CODE, stop, 0, STEP_LIMIT);
    uint32_t eip;
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    if (stopped_by(u, e, eip, r)) {
        /* classified */
    } else if (eip == stop) {
        r->exit = DT_EXIT_STOP;
    } else if (r->an.steps >= STEP_LIMIT) {
        r->exit = DT_EXIT_LIMIT;
    } else {
        r->exit = DT_EXIT_ERROR;
        snprintf(r->msg, sizeof r->msg, "stopped at eip %08x (HLT?)", eip);
    }
    trace_end(&u->tr, r->exit != DT_EXIT_STOP, r->fault_eip);
    if (r->exit == DT_EXIT_STOP || (r->exit == DT_EXIT_EXCEPTION && r->fault_eip != u->tr.pending_eip))
        apply_fix(u);
    u->fix.kind = FIX_NONE;

    for (int i = 0; i < 8; i++) uc_reg_read(uc, gpr_ids[i], &r->out.gpr[i]);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &r->out.eflags);
    r->out.eip = r->exit == DT_EXIT_EXCEPTION ? r->fault_eip : eip;
    /* FXSAVE from the stub; it touches neither GPRs nor EFLAGS. */
    u->faulted = false;
    if (dt_paging) {
        uint32_t cr0 = 0x33, cr4 = 0x600;
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
    }
    e = uc_emu_start(uc, SCRATCH + 0x10, SCRATCH + 0x17, 0, 1);
    uc_mem_read(uc, SCRATCH + 0x100, r->out.fx, 512);
    for (int i = 0; i < DT_NREGIONS; i++)
        uc_mem_read(uc, dt_regions[i].base, r->out.mem + dt_regions[i].off, dt_regions[i].size);
}

const struct backend be_unicorn = { "unicorn", uni_open, uni_run };
