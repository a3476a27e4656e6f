/* dispatch — the loop between blocks (the shape of QEMU's cpu_exec):
 *
 *   for (;;) {
 *       re-open the poll page if an exit was requested
 *       an exit reason (halt, debug-exit, error, timeout)?  -> return it
 *       an exception pending?        -> deliver it through the IDT
 *                                       (or report it: stop_on_exception)
 *       the event timer fired?       -> bring the devices up to date
 *       an interrupt deliverable?    -> deliver it
 *       halted?                      -> sleep until an event
 *       find the block for EIP (code cache, else translate)
 *       chain the exit we came from to it
 *       run translated code until it exits
 *   }
 *
 * Translated code only comes back here on an unchained exit, a jump-cache
 * miss, a callout that leaves, or a host signal (a fault, or the poll page
 * that the timer or the time budget protected).
 *
 * Inside an interrupt shadow (after MOV SS, POP SS, or an STI callout) the
 * next block is a one-instruction block from a second translator (key mode
 * BT_MODE_STEP), so that exactly one instruction runs before an interrupt.
 * The guest's EFLAGS.TF and DR0-DR3 breakpoints use the same blocks and
 * raise #DB around them (debugexc.c).
 *
 * Under a debugger (vm_debug_run, debug.c) the loop also stops with
 * VM_EXIT_DEBUG before a block at a breakpoint, after a single step, after
 * an instruction that changed a watched location, and when the debugger's
 * socket has something to say. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "emulator/paging.h"
#include "emulator/profile.h"

void vm_flush_code(struct vm *vm)
{
    struct vcpu *v = vm->vcpu;
    cache_flush(vm->cache);
    jc_flush_all(v);
    v->bt.exit_slot = 0;
}

/* Wiring of the system half (vm.c calls these from vm_create/vm_destroy). */
int system_init(struct vm *vm, char *err, size_t errlen)
{
    struct bt_handlers h;
    FILE *trace = vm->cfg.trace_file ? vm->cfg.trace_file : stderr;
    struct bt_config btc = { .verify = vm->cfg.verify, .max_insns = 1,
                             .trace = vm->cfg.trace ? trace : NULL,
                             .seg_bases = segset_bases, .seg_bases_opaque = vm };

    sys_reset(vm->vcpu);
    callouts_fill(&h);
    vm->bt_step = bt_create(vm->cache, &btc, &h, err, errlen);
    if (!vm->bt_step)
        return -1;
    return events_create(vm, err, errlen);
}

void system_fini(struct vm *vm)
{
    events_destroy(vm);
    bt_destroy(vm->bt_step);
    vm->bt_step = NULL;
}

/* The run's budget is CPU time (ITIMER_VIRTUAL, SIGVTALRM), not wall time: a
 * guest stuck in a loop burns CPU, but a monitor descheduled on a loaded
 * host (CI, a throttled cgroup) must not be mistaken for one. */
static void arm_timeout(uint32_t ms)
{
    struct itimerval it = { 0 };
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_VIRTUAL, &it, NULL);
}

/* stop_on_exception: the caller (the Unicorn tester) gets the exception. */
static enum vm_exit report_exception(struct vm *vm, struct vcpu *v)
{
    v->bt.exc_pending = 0;
    snprintf(v->error, sizeof v->error, "guest %s at EIP 0x%08x", exc_name(v->exc.vector), v->exc.eip);
    return VM_EXIT_EXCEPTION;
}

/* After an exit request: unprotect the poll page. The flag is cleared
 * first, so a request that arrives meanwhile is seen on the next round. */
static void poll_rearm(struct vcpu *v)
{
    while (v->exit_req) {
        v->exit_req = 0;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        mprotect(vcpu_poll_page(v), 4096, PROT_READ);
    }
}

int callout_continue(struct vcpu *v)
{
    struct bt_cpu *cpu = &v->bt;
    uint32_t eip = cpu->next_eip;
    const struct bt_jcache_entry *e =
        (const struct bt_jcache_entry *)(uintptr_t)cpu->jcache + (eip & (BT_JCACHE_SIZE - 1));

    if (v->exit != EXIT_NONE || cpu->exc_pending || cpu->inhibit_irq || v->halted ||
        v->timer_fired || intr_deliverable(v) || eip == v->vm->stop_eip ||
        (v->vm->dbg.active &&
         (v->vm->dbg.step || v->vm->dbg.nwatch || dbg_bp_at(&v->vm->dbg, vcpu_code_lin(v, eip)))) ||
        dbx_hold(v, eip))
        return BT_EXIT;
    if (e->eip != eip) {
        /* Not in the jump cache (just flushed by a CR3 write or INVLPG, say):
         * a block already translated will do, without the round trip. */
        struct tb *tb = find_cached_block(v->vm, v, eip);
        if (!tb)
            return BT_EXIT;
        jc_fill(v, eip, tb->host, v->fetch_global);
    }
    cpu->eip = eip;
    cpu->resume = e->host;
    return BT_RESUME;
}

/* Why translated code came back, for --stats: through an exit stub (an
 * indirect one when the stub belongs to an inline-cache site), through a
 * host signal, or from a callout that left. */
static void count_exit(struct vm *vm, struct vcpu *v)
{
    const struct tb_exit *ex = (const struct tb_exit *)(uintptr_t)v->bt.exit_slot;

    if (v->left_by_signal)
        return;                 /* counted by the signal path */
    if (!ex)
        vm->stats.exits_callout++;
    else if (ex->ic_off)
        vm->stats.exits_indirect++;
}

/* Events that come before the next block, in QEMU's order: a pending
 * exception, then device time, then an interrupt, then HLT. Returns true
 * when one was handled and the loop must look again. */
static bool handle_events(struct vcpu *v)
{
    if (v->bt.exc_pending) {
        exc_deliver_pending(v);
        return true;
    }
    if (v->timer_fired)
        events_service(v);
    if (!v->vm->dbg.step && intr_deliverable(v)) {     /* held while a debugger steps */
        intr_deliver(v);
        return true;
    }
    if (v->halted) {
        events_wait(v);
        return true;
    }
    return false;
}

/* Chain the exit translated code left through to tb, and remember tb in
 * the jump cache (not a step block: those run only from here). */
static void link_block(struct vm *vm, struct vcpu *v, struct tb *tb, uint32_t eip, bool step)
{
    struct bt_cpu *cpu = &v->bt;

    if (cpu->exit_slot)
        bt_link(vm->bt, (struct tb_exit *)(uintptr_t)cpu->exit_slot, tb, eip);
    if (!step)
        jc_fill(v, eip, tb->host, v->fetch_global);
    cpu->exit_slot = 0;
}

/* Run translated code from tb until it exits to the dispatcher. */
static void execute_block(struct vm *vm, struct vcpu *v, struct tb *tb, uint32_t eip)
{
    struct bt_cpu *cpu = &v->bt;
    uint64_t epoch = cache_epoch(vm->cache);
    uint8_t shadow = cpu->inhibit_irq;

    cpu->inhibit_irq = 0;       /* the step block's own MOV SS may set it again */
    if (vm->cfg.poll_storm)
        poll_storm(v, eip);
    v->left_by_signal = false;
    prof_phase = PROF_GUEST;
    v->enter(cpu, tb->host);
    prof_phase = PROF_DISPATCH;
    if (cache_epoch(vm->cache) != epoch)
        cpu->exit_slot = 0;     /* a callout flushed the cache: the slot is gone */
    count_exit(vm, v);
    cpu->eip = cpu->next_eip;
    dbx_after(v, shadow);
    vm->stats.dispatches++;
    vm->dbg.stepped = vm->dbg.step;
    if (vm->dbg.active && vm->dbg.nwatch)
        dbg_after_block(v);
}

static enum vm_exit exit_result(struct vm *vm, struct vcpu *v)
{
    switch (v->exit) {
    case EXIT_HALT: return VM_EXIT_HALT;
    case EXIT_DEBUG_EXIT: return VM_EXIT_DEBUG_EXIT;
    case EXIT_TRIPLE_FAULT: return VM_EXIT_TRIPLE_FAULT;
    case EXIT_TIMEOUT: return VM_EXIT_TIMEOUT;
    case EXIT_RESET: return VM_EXIT_RESET;
    case EXIT_POWEROFF: return VM_EXIT_POWEROFF;
    case EXIT_EXCEPTION: return report_exception(vm, v);
    default: return VM_EXIT_ERROR;
    }
}

enum vm_exit vm_run(struct vm *vm, uint64_t stop_eip, uint32_t timeout_ms)
{
    struct vcpu *v = vm->vcpu;
    struct bt_cpu *cpu = &v->bt;
    enum vm_exit result;
    char err[200];

    if (signals_install(err, sizeof err) < 0) {
        snprintf(v->error, sizeof v->error, "%s", err);
        return VM_EXIT_ERROR;
    }
    signals_set_current(v);
    v->exit = EXIT_NONE;
    v->bt.membase = 0;          /* paging_sync picks the space anew */
    if (!paging_sync(v))
        return VM_EXIT_ERROR;
    v->exc.vector = -1;
    vm->stop_eip = stop_eip;
    cpu->exc_pending = 0;
    cpu->exit_slot = 0;
    events_start(v);
    if (timeout_ms)
        arm_timeout(timeout_ms);

    for (;;) {
        struct tb *tb;
        uint32_t eip;
        bool step;

        if (v->exit_req)
            poll_rearm(v);
        v->pf.pending = false;
        if (v->exit != EXIT_NONE) {
            result = exit_result(vm, v);
            break;
        }
        if (cpu->exc_pending && vm->cfg.stop_on_exception) {
            result = report_exception(vm, v);
            break;
        }
        if (vm->dbg.active && dbg_stop_now(v)) {
            result = VM_EXIT_DEBUG;
            break;
        }
        if (handle_events(v))
            continue;
        eip = cpu->eip;
        if (eip == stop_eip) {
            result = VM_EXIT_STOP_EIP;
            break;
        }
        step = cpu->inhibit_irq;
        if (vm->dbg.active && dbg_stop_before(v, eip, &step)) {
            result = VM_EXIT_DEBUG;
            break;
        }
        if (dbx_before(v, eip, &step))
            continue;               /* an instruction breakpoint: #DB */
        tb = find_block(vm, v, eip, stop_eip, step);
        if (!tb) {
            if (cpu->exc_pending && v->exit == EXIT_NONE)
                continue;           /* a #PF on the fetch */
            result = exit_result(vm, v);
            break;
        }
        link_block(vm, v, tb, eip, step);
        execute_block(vm, v, tb, eip);
    }

    if (timeout_ms)
        arm_timeout(0);
    events_stop(v);
    vcpu_clear_exit_request(v);
    prof_phase = PROF_MONITOR;
    return result;
}
