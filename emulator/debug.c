/* debug — breakpoints, single steps and stop requests for a debugger,
 * done in translation: no guest byte is ever patched.
 *
 *   breakpoint  a translated block ends before every inserted breakpoint
 *               (bt_config.stop_at), and the dispatcher stops before it
 *               looks up a block at a breakpoint's address; so no block
 *               starts at one, and none can be chained or entered through
 *               the jump cache there. A breakpoint inserted where existing
 *               translations may run through it flushes the code cache
 *               (once per new address: GDB removes and re-inserts all its
 *               breakpoints at every stop, which changes nothing here).
 *   step        one-instruction blocks (BT_MODE_STEP, the interrupt-shadow
 *               mechanism), which never chain; interrupts are held off while
 *               stepping, as QEMU's gdbstub does by default, so a step does
 *               not land in a timer handler. An exception the instruction
 *               raises is delivered, and the step ends at the handler.
 *   watch       while any watchpoint is set every block is a
 *               one-instruction block (interrupts are taken as usual). A
 *               write watchpoint compares the watched bytes after each; a
 *               read or access watchpoint checks the accesses the
 *               instruction was about to make (insn_access.c, worked out
 *               before it ran) once it completed. The run stops after the
 *               instruction, as a data breakpoint does (SDM vol. 3B
 *               §17.3.1.2: a trap).
 *   resume      the instruction at a breakpoint the run resumes from runs as
 *               a step block, without hitting its breakpoint.
 *   stop        the debugger's socket, set to raise the event-timer signal
 *               when data arrives (F_SETSIG), brings translated code back
 *               through the poll page like any device event; the dispatcher
 *               then looks at the socket (a Ctrl-C is a 0x03 byte). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "emulator/paging.h"

bool dbg_bp_at(const struct vm_debug *d, uint32_t eip)
{
    for (int i = 0; i < d->nbp; i++)
        if (d->bp[i] == eip)
            return true;
    return false;
}

static bool covered(const struct vm_debug *d, uint32_t eip)
{
    for (int i = 0; i < d->ncovered; i++)
        if (d->covered[i] == eip)
            return true;
    return false;
}

bool dbg_translate_stop(void *opaque, uint32_t eip)
{
    const struct vm *vm = opaque;
    /* The debugger's breakpoints are linear addresses, EIP a CS offset. */
    return (vm->dbg.nbp && dbg_bp_at(&vm->dbg, vcpu_code_lin(vm->vcpu, eip))) || dbx_bp_at(vm->vcpu, eip);
}

int vm_debug_breakpoint(struct vm *vm, uint32_t lin, bool insert)
{
    struct vm_debug *d = &vm->dbg;
    for (int i = 0; i < d->nbp; i++)
        if (d->bp[i] == lin) {
            if (!insert)
                d->bp[i] = d->bp[--d->nbp];
            return 0;
        }
    if (!insert)
        return -1;
    if (d->nbp == DBG_MAX_BP)
        return -1;
    d->bp[d->nbp++] = lin;
    return 0;
}

void vm_debug_clear_breakpoints(struct vm *vm)
{
    vm->dbg.nbp = 0;
    vm->dbg.nwatch = 0;
    vm->dbg.naccess_watch = 0;
}

static bool dbg_wake_pending(struct vcpu *v)
{
    struct vm_debug *d = &v->vm->dbg;
    struct pollfd pfd = { .fd = d->wake_fd, .events = POLLIN };
    return d->wake_fd >= 0 && poll(&pfd, 1, 0) > 0;
}

bool dbg_stop_now(struct vcpu *v)
{
    struct vm_debug *d = &v->vm->dbg;

    /* The debugger's socket raises the timer signal, which also ends a
     * HLT's sleep; a run starts with timer_fired set, which covers input
     * that came while the guest was stopped. The device service may clear
     * timer_fired before this looks, so a count of the signals also says
     * whether one came since the socket was last polled. */
    if (v->timer_fired || v->halted || v->timer_signals != d->signals_seen) {
        d->signals_seen = v->timer_signals;
        if (dbg_wake_pending(v))
            return true;
    }
    if (d->watch_hit)
        return true;
    /* A step ends once its instruction ran (and an exception it raised was
     * delivered), or at once in HLT: interrupts wait while stepping. */
    return d->step && (d->stepped || v->halted) && !v->bt.exc_pending;
}

bool dbg_stop_before(struct vcpu *v, uint32_t eip, bool *step)
{
    struct vm_debug *d = &v->vm->dbg;
    bool skip = d->skip_bp && eip == d->skip_eip;

    d->skip_bp = false;
    if (d->step || d->nwatch) {
        *step = true;
        if (d->step && d->naccess_watch)
            dbx_track_access(v, eip);
        if (d->step)
            return false;
    }
    if (d->naccess_watch && !d->step)
        dbx_track_access(v, eip);
    if (!d->nbp || !dbg_bp_at(d, vcpu_code_lin(v, eip)))
        return false;
    if (skip)
        *step = true;               /* resuming from this breakpoint */
    return !skip;
}

static bool watch_read(struct vm *vm, struct dbg_watch *w, uint8_t *now)
{
    return vm_debug_read(vm, w->lin, now, w->len) == w->len;
}

void dbg_after_block(struct vcpu *v)
{
    struct vm_debug *d = &v->vm->dbg;
    uint8_t now[DBG_WATCH_LEN];

    for (int i = 0; i < d->nwatch && !d->watch_hit; i++) {
        struct dbg_watch *w = &d->watch[i];
        if (w->type != VM_WATCH_WRITE) {
            unsigned rw = w->type == VM_WATCH_READ ? ACC_READ : ACC_READ | ACC_WRITE;
            if (v->dbx.completed && insn_access_hits(v->dbx.acc, v->dbx.nacc, w->lin, w->len, rw, false))
                d->watch_hit = i + 1;
            continue;
        }
        bool ok = watch_read(v->vm, w, now);
        if (ok != w->readable || (ok && memcmp(now, w->old, w->len) != 0))
            d->watch_hit = i + 1;
        if (ok)
            memcpy(w->old, now, w->len);
        w->readable = ok;
    }
}

int vm_debug_watchpoint_type(struct vm *vm, int type, uint32_t lin, uint32_t len, bool insert)
{
    struct vm_debug *d = &vm->dbg;
    if (len == 0 || len > DBG_WATCH_LEN || type < VM_WATCH_WRITE || type > VM_WATCH_ACCESS)
        return -1;
    for (int i = 0; i < d->nwatch; i++)
        if (d->watch[i].lin == lin && d->watch[i].len == len && d->watch[i].type == type) {
            if (!insert) {
                d->naccess_watch -= type != VM_WATCH_WRITE;
                d->watch[i] = d->watch[--d->nwatch];
            }
            return 0;
        }
    if (!insert || d->nwatch == DBG_MAX_WATCH)
        return -1;
    d->watch[d->nwatch] = (struct dbg_watch){ .lin = lin, .len = len, .type = (uint8_t)type };
    d->nwatch++;
    d->naccess_watch += type != VM_WATCH_WRITE;
    return 0;
}

int vm_debug_watchpoint(struct vm *vm, uint32_t lin, uint32_t len, bool insert)
{
    return vm_debug_watchpoint_type(vm, VM_WATCH_WRITE, lin, len, insert);
}

int vm_debug_watch_hit_type(struct vm *vm)
{
    return vm->dbg.watch_hit ? vm->dbg.watch[vm->dbg.watch_hit - 1].type : 0;
}

bool vm_debug_watch_hit(struct vm *vm, uint32_t *lin)
{
    struct vm_debug *d = &vm->dbg;
    if (!d->watch_hit)
        return false;
    *lin = d->watch[d->watch_hit - 1].lin;
    return true;
}

/* The event-timer signal when the fd becomes readable (fcntl(2) F_SETSIG). */
void dbg_wake_on_input(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return;
    if (on) {
        fcntl(fd, F_SETOWN, getpid());
        fcntl(fd, F_SETSIG, events_timer_signal());
    }
    fcntl(fd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC);
}

enum vm_exit vm_debug_run(struct vm *vm, bool step, int wake_fd)
{
    struct vm_debug *d = &vm->dbg;
    enum vm_exit x;
    bool all = true;

    for (int i = 0; i < d->nbp; i++)
        all = all && covered(d, d->bp[i]);
    if (!all) {
        vm_flush_code(vm);
        memcpy(d->covered, d->bp, sizeof d->bp);
        d->ncovered = d->nbp;
    }
    if (!step) {                    /* normal blocks may now start at removed ones */
        memcpy(d->covered, d->bp, sizeof d->bp);
        d->ncovered = d->nbp;
    }
    d->step = step;
    d->stepped = false;
    d->skip_bp = true;
    d->skip_eip = vm->vcpu->bt.eip;
    d->wake_fd = wake_fd;
    d->watch_hit = 0;
    for (int i = 0; i < d->nwatch; i++)     /* the values the run starts from */
        if (d->watch[i].type == VM_WATCH_WRITE)
            d->watch[i].readable = watch_read(vm, &d->watch[i], d->watch[i].old);
    d->active = true;
    if (wake_fd >= 0)
        dbg_wake_on_input(wake_fd, true);
    x = vm_run(vm, UINT64_MAX, 0);
    if (wake_fd >= 0)
        dbg_wake_on_input(wake_fd, false);
    d->active = false;
    d->step = false;
    d->wake_fd = -1;
    return x;
}

/* Debugger memory accesses: through the guest's current page tables as a
 * supervisor access; RAM only (no device side effects). Stores keep
 * traced page tables and translated code coherent (phys_write). Returns
 * the bytes done before the first unmapped page. */
static size_t debug_access(struct vm *vm, uint32_t lin, void *buf, size_t n, bool write)
{
    struct vcpu *v = vm->vcpu;
    size_t done = 0;

    while (done < n) {
        uint32_t a = lin + (uint32_t)done, gpa;
        size_t chunk = 4096 - (a & 4095);
        if (chunk > n - done)
            chunk = n - done;
        if (!guest_xlate(v, a, MMU_READ, false, &gpa) || !ram_ptr(&vm->ram, gpa, chunk))
            break;
        if (write)
            phys_write(v, gpa, (const uint8_t *)buf + done, chunk);
        else
            phys_read(v, gpa, (uint8_t *)buf + done, chunk);
        done += chunk;
    }
    v->pf.pending = false;
    return done;
}

size_t vm_debug_read(struct vm *vm, uint32_t lin, void *dst, size_t n)
{
    return debug_access(vm, lin, dst, n, false);
}

size_t vm_debug_write(struct vm *vm, uint32_t lin, const void *src, size_t n)
{
    return debug_access(vm, lin, (void *)src, n, true);
}
