/* debugexc — #DB from EFLAGS.TF and from the DR0-DR3 instruction
 * breakpoints (SDM vol. 3B §17.2, §17.3.1), done in translation like the
 * debugger's (debug.c): no guest byte is patched, no host trap flag is set.
 *
 *   TF      at an instruction boundary with TF set the dispatcher runs a
 *           one-instruction step block (BT_MODE_STEP) and, once the
 *           instruction has completed, raises the single-step trap: #DB
 *           with DR6.BS, EIP after the instruction (§17.3.1.4). TF is
 *           sampled before the instruction, so the POPF or IRET that sets
 *           it is not trapped but the next instruction is, and the one that
 *           clears it is; translated code leaves after a POPF that sets TF
 *           (cpu->tf_set) and callouts do not chain on with TF set. An
 *           instruction that delivers an event (INT n, INT3, INTO, INT1, a
 *           faulting one) is not trapped: the handler runs with TF clear,
 *           and the TF it saved comes back with its IRET. After MOV SS or
 *           POP SS the trap waits one instruction (§6.8.3). STI's shadow
 *           holds interrupts only.
 *   DR0-3   an execution breakpoint (DR7 Ln or Gn set, R/Wn = 00) is an
 *           address translated blocks end before (bt_config.stop_at, shared
 *           with the debugger's breakpoints); the dispatcher, before the
 *           block at that address, raises #DB as a fault with DR6.Bn set
 *           unless EFLAGS.RF is set, which IRET loads from its frame and
 *           which lets the instruction run once, as a step block (§17.3.1.1:
 *           the handler sets RF in the frame to go on). Arming a breakpoint
 *           at an address cached code might run through flushes the cache.
 *   data    a data breakpoint (R/W 01: writes, 11: reads or writes; LEN
 *           00/01/11/10: 1, 2, 4, 8 bytes, the address aligned down to
 *           it, §17.2.5) or an I/O breakpoint (R/W 10 with CR4.DE: IN,
 *           OUT, INS, OUTS on those ports) makes every block a
 *           one-instruction block while it is armed; before each, the
 *           instruction's accesses are worked out (insn_access.c), and
 *           once it completed without an event, a match raises #DB as a
 *           trap: EIP after the instruction, DR6.Bn set (§17.3.1.2). An
 *           instruction that faults raises nothing; a MOV SS or POP SS
 *           holds the trap one instruction, as it does TF's.
 *   RF      kept in struct dbx_state, not in EFLAGS: it only matters here.
 *           It is pushed by an event delivered before the instruction it
 *           covers and cleared once an instruction completes.
 *
 * Not done: a REP string instruction is one step, not one per iteration
 * (its data breakpoint fires after the last). */
#include <string.h>

#include "emulator/system.h"

/* DR0-DR3 hold linear addresses; EIP is an offset in CS. */
static uint32_t bp_hits(const struct vcpu *v, uint32_t eip)
{
    uint32_t hits = 0, lin = vcpu_code_lin(v, eip);
    for (int i = 0; i < v->dbx.nexec; i++)
        if (v->dbx.exec[i] == lin)
            hits |= v->dbx.exec_bit[i];
    return hits;
}

bool dbx_bp_at(const struct vcpu *v, uint32_t eip)
{
    return v->dbx.nexec && bp_hits(v, eip) != 0;
}

static bool in_list(const uint32_t *list, int n, uint32_t a)
{
    for (int i = 0; i < n; i++)
        if (list[i] == a)
            return true;
    return false;
}

void dbx_rearm(struct vcpu *v)
{
    struct dbx_state *x = &v->dbx;
    uint32_t dr7 = v->dr[7];
    bool flush = false;
    int kept = 0;

    x->nexec = x->ndata = 0;
    for (int i = 0; i < 4; i++) {
        static const uint32_t lens[4] = { 1, 2, 8, 4 };
        unsigned rw = (dr7 >> (16 + 4 * i)) & 3, len = lens[(dr7 >> (18 + 4 * i)) & 3];
        if (!((dr7 >> (2 * i)) & 3))
            continue;
        if (rw == 0) {
            x->exec[x->nexec] = v->dr[i];
            x->exec_bit[x->nexec++] = 1u << i;
        } else if (rw != 2 || (v->cr4 & CR4_DE)) {
            x->data[x->ndata].addr = v->dr[i] & ~(len - 1) & (rw == 2 ? 0xFFFFu : ~0u);
            x->data[x->ndata].len = len;
            x->data[x->ndata].bit = 1u << i;
            x->data[x->ndata].rw = rw == 1 ? ACC_WRITE : ACC_READ | ACC_WRITE;
            x->data[x->ndata++].io = rw == 2;
        }
    }
    /* The covered set: addresses every block cached since the last flush
     * ends before (those armed all along). */
    for (int i = 0; i < x->ncovered; i++)
        if (in_list(x->exec, x->nexec, x->covered[i]))
            x->covered[kept++] = x->covered[i];
    x->ncovered = kept;
    for (int i = 0; i < x->nexec; i++)
        flush = flush || !in_list(x->covered, x->ncovered, x->exec[i]);
    if (flush) {
        vm_flush_code(v->vm);
        memcpy(x->covered, x->exec, sizeof x->exec);
        x->ncovered = x->nexec;
    }
}

int dbx_raise(struct vcpu *v, uint32_t dr6, uint32_t eip)
{
    v->dr[6] |= dr6 | DR6_FIXED;
    /* §17.2.4: GD is cleared on entry to the handler, so it may use the
     * debug registers. */
    if (v->dr[7] & DR7_GD) {
        v->dr[7] &= ~DR7_GD;
        dbx_rearm(v);
    }
    return raise_fault(v, FAULT(EXC_DB, 0), eip);
}

bool dbx_before(struct vcpu *v, uint32_t eip, bool *step)
{
    struct dbx_state *x = &v->dbx;

    x->tf_step = (v->bt.eflags & FL_TF) != 0;
    if (x->tf_step)
        *step = true;
    if (x->nexec) {
        uint32_t hits = bp_hits(v, eip);
        if (hits && !x->rf) {
            v->dr[6] &= ~0xfu;              /* B0-B3 say which matched */
            dbx_raise(v, hits, eip);
            return true;
        }
        if (hits)
            *step = true;                   /* RF: this instruction runs */
    }
    if (x->ndata) {
        *step = true;
        dbx_track_access(v, eip);
    }
    x->unrun = x->delivered = x->rf_loaded = x->ss_shadow = false;
    v->bt.tf_set = 0;
    return false;
}

void dbx_track_access(struct vcpu *v, uint32_t eip)
{
    v->dbx.nacc = insn_accesses(v, eip, v->dbx.acc, ACC_MAX);
}

/* The data and I/O breakpoints the completed instruction matched. */
static uint32_t data_hits(const struct vcpu *v)
{
    const struct dbx_state *x = &v->dbx;
    uint32_t hits = 0;
    for (int i = 0; i < x->ndata; i++)
        if (insn_access_hits(x->acc, x->nacc, x->data[i].addr, x->data[i].len, x->data[i].rw,
                             x->data[i].io))
            hits |= x->data[i].bit;
    return hits;
}

void dbx_after(struct vcpu *v, uint8_t shadow)
{
    struct dbx_state *x = &v->dbx;
    struct bt_cpu *cpu = &v->bt;

    x->completed = false;
    if (x->unrun) {                 /* left at the entry poll: as before */
        cpu->inhibit_irq = shadow;
        return;
    }
    if (!x->rf_loaded)
        x->rf = false;
    x->completed = !x->delivered && !cpu->exc_pending && v->exit == EXIT_NONE;
    if (x->completed && !x->ss_shadow) {
        uint32_t hits = x->ndata ? data_hits(v) : 0;
        if (hits)
            v->dr[6] &= ~0xfu;      /* B0-B3 say which matched */
        if (x->tf_step)
            hits |= DR6_BS;
        if (hits)
            dbx_raise(v, hits, cpu->eip);
    }
    x->tf_step = false;
}

bool dbx_hold(const struct vcpu *v, uint32_t eip)
{
    const struct dbx_state *x = &v->dbx;
    return x->tf_step || x->rf || x->ndata || (v->bt.eflags & FL_TF) || dbx_bp_at(v, eip);
}
