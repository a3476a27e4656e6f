/* signals — host signals raised by translated code (DESIGN §5).
 *
 * Handlers run on a sigaltstack: the host RSP is the guest's ESP, so the
 * kernel must never push a signal frame there. A fault inside a block is
 * mapped back to the guest instruction and registers by the translator
 * (bt_recover, bt/recover.c), which knows what its code had borrowed or
 * rebased at that host PC. The handler then resumes at bt_rt_signal_exit on
 * the host stack, which returns to the dispatcher as a normal exit would.
 *
 * Faults in a shadow address space go to memfault.c first: a hidden fault,
 * a traced store (which comes back here as SIGTRAP after the single step)
 * and a write to a code page resume translated code where it was.
 *
 * The one piece of per-process state is the vCPU the signal belongs to. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "emulator/paging.h"
#include "emulator/profile.h"

static struct vcpu *volatile current;

void signals_set_current(struct vcpu *v) { current = v; }

/* exit_req tells the dispatcher that the page may be protected; it clears
 * the flag before it unprotects (dispatch.c poll_rearm), so a request that
 * races with the clearing is seen the next time round. */
void vcpu_request_exit(struct vcpu *v)
{
    v->exit_req = 1;
    mprotect(vcpu_poll_page(v), 4096, PROT_NONE);
}

void vcpu_clear_exit_request(struct vcpu *v)
{
    v->exit_req = 0;
    mprotect(vcpu_poll_page(v), 4096, PROT_READ);
}

static void die(const char *what, int sig, void *pc, void *addr)
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "bt86: internal error: %s (signal %d at host pc %p, address %p)\n",
                     what, sig, pc, addr);
    if (write(2, msg, (size_t)n) < 0) { /* nothing more to do */ }
    _exit(5);
}

static void on_fault_body(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    struct vcpu *v = current;
    void *pc = (void *)g[REG_RIP];
    struct tb *tb;
    struct bt_recovered st;
    struct bt_cpu *cpu;
    uint32_t eip;
    uintptr_t addr = (uintptr_t)si->si_addr;
    enum mf_action act = MF_OUTSIDE;

    if (sig == SIGTRAP && v && (v->step.n || v->step.nb)) {
        int saved = errno;
        memfault_trap(v, uc);   /* a traced store was single-stepped */
        errno = saved;
        return;
    }
    if (!v || !(tb = cache_find_by_host(v->vm->cache, pc)))
        die("fault outside translated code", sig, pc, si->si_addr);
    cpu = &v->bt;
    bt_recover(v->vm->bt, tb, uc, &st);
    eip = st.eip;
    /* A host #GP (SIGSEGV with SI_KERNEL, no address): in translated code
     * only a misaligned 16-byte SSE operand causes one (addresses are
     * r14-relative, within the window's reservation, always canonical),
     * which is #GP(0) for the guest too (SDM vol. 1 §11.6.7). */
    bool gp = sig == SIGSEGV && si->si_code == SI_KERNEL;
    if ((sig == SIGSEGV || sig == SIGBUS) && !gp &&
        !(addr >= (uintptr_t)vcpu_poll_page(v) && addr < (uintptr_t)v)) {
        int saved = errno;
        act = memfault_segv(v, uc, addr, tb, eip, st.guest_off);
        errno = saved;
        if (act == MF_RESUME)
            return;             /* hidden fault, traced store, code write */
    }
    memcpy(cpu->gpr, st.gpr, sizeof cpu->gpr);
    /* Left at the entry poll of a one-instruction block: the instruction in
     * the STI / MOV SS shadow has not run, so the shadow still holds (the
     * dispatcher cleared it on entering; SDM vol. 3A §6.8.3). */
    if (st.at_entry && (tb->mode & BT_MODE_STEP)) {
        cpu->inhibit_irq = 1;
        v->dbx.unrun = true;            /* nor a TF step's (debugexc.c) */
    }
    cpu->eflags = (cpu->eflags & ~BT_ARITH_FLAGS) | st.arith;
    cpu->next_eip = eip;
    cpu->exit_slot = 0;
    cpu->site = 0;      /* no callout is being served: an old one's #PF note is not ours */
    v->vm->stats.exits_signal++;
    v->left_by_signal = true;
    if (v->step.n || v->step.nb)
        memfault_abort_step(v, uc);     /* the step ended in another fault */

    switch (sig) {
    case SIGSEGV:
    case SIGBUS:
        if (gp) {
            raise_fault(v, FAULT(EXC_GP, 0), eip);
            break;
        }
        if (act != MF_OUTSIDE) {
            memfault_finish(v, act, tb, eip);
            break;
        }
        if (addr >= (uintptr_t)vcpu_poll_page(v) && addr < (uintptr_t)v) {
            v->vm->stats.polls++;   /* the monitor asked us to stop */
            break;
        }
        die("host memory fault in translated code", sig, pc, si->si_addr);
        break;
    case SIGFPE:
        /* The host's vector tells integer divide (#DE) from x87 (#MF) and
         * SIMD (#XM) exceptions, which the guest's unmasked FPU raised. */
        if (g[REG_TRAPNO] == EXC_MF)
            raise_fault(v, FAULT(EXC_MF, 0), eip);
        else if (g[REG_TRAPNO] == EXC_XM)
            raise_fault(v, FAULT((v->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0), eip);
        else {
            adapt_divide_error(v, tb, tb->phys + st.guest_off);  /* next time without a signal */
            raise_fault(v, FAULT(EXC_DE, 0), eip);
        }
        break;
    case SIGILL:
        raise_fault(v, FAULT(EXC_UD, 0), eip);
        break;
    default:
        die("unexpected signal in translated code", sig, pc, si->si_addr);
    }
    g[REG_RSP] = (greg_t)cpu->host_rsp;
    g[REG_RIP] = (greg_t)cpu->tramp_signal_exit;
    g[REG_R15] = (greg_t)(uintptr_t)cpu;
}

/* The profiler (--profile) counts the time spent here by signal. */
static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    int phase = prof_phase;
    prof_phase = PROF_SIGNAL | sig << 8;
    on_fault_body(sig, si, ucv);
    prof_phase = phase;
}

/* The event timer (interrupts.c): look at the devices. */
static void on_timer(int sig)
{
    struct vcpu *v = current;
    int phase = prof_phase;
    prof_phase = PROF_SIGNAL | sig << 8;
    if (v) {
        v->timer_fired = 1;
        v->timer_signals++;
        vcpu_request_exit(v);
    }
    prof_phase = phase;
}

static void on_alarm(int sig)
{
    struct vcpu *v = current;
    (void)sig;
    if (v) {
        v->exit = EXIT_TIMEOUT;
        vcpu_request_exit(v);
    }
}

/* Claimed at every vm_run, not once: a host program embedding the monitor
 * (CMocka does, around each test) may have replaced them in between. */
int signals_install(char *err, size_t errlen)
{
    static uint8_t altstack[64 * 1024];
    static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    struct sigaction sa;

    if (sigaltstack(&ss, NULL) < 0) {
        snprintf(err, errlen, "sigaltstack failed");
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigaction(faults[i], &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    sigaction(SIGVTALRM, &sa, NULL);      /* vm_run's CPU-time budget */
    /* Translated code runs on the guest's stack: every handler takes the
     * alternate stack. */
    sa.sa_handler = on_timer;
    sigaction(events_timer_signal(), &sa, NULL);
    return 0;
}
