/* interrupts — from the devices to the guest's IDT, and the host clock.
 *
 *   PIT/RTC/UART/HPET --ISA IRQ--+--> PIC --INTR--> LAPIC LINT0 (ExtINT) --+
 *                                +--> I/O APIC --message--> LAPIC IRR ------+--> irq_pending
 *                                          LAPIC timer ---> LAPIC IRR ------+
 *   irq_pending --(IF=1, no shadow)--> INTA (LAPIC; the PIC's for ExtINT) --> IDT
 *
 * (machine isapc: no APICs, the PIC's INTR is irq_pending.)
 *
 * Devices run on the host clock, lazily: they are brought up to date when
 * the monitor looks (events_service). A POSIX timer on CLOCK_MONOTONIC is
 * armed for the earliest device event (pit_, rtc_, lapic_, hpet_next_event_ns);
 * its signal handler only asks translated code to stop at the next block
 * entry (vcpu_request_exit: the poll page), so a guest spinning in chained
 * blocks still sees its timer interrupt. The dispatcher then updates the
 * devices, and if the PIC raises INTR while the virtual IF is set, it
 * acknowledges the PIC and delivers the vector (exceptions.c).
 *
 * Interrupts are taken only at block boundaries (TinyEMU and QEMU do the
 * same): the poll at every block entry bounds the latency by one block.
 * An inline STI or POPF that sets IF tests irq_pending and leaves for the
 * dispatcher when an interrupt waits (after STI's one-instruction shadow);
 * while one waits with IF=0 the timer is also armed a short interval
 * ahead, a safety net for IF being set by a path that does not look.
 *
 * HLT with IF=1 sleeps in ppoll() until the next device event, host input,
 * or a signal (the run's time budget): no busy loop.
 *
 * UART input: with -serial stdio (console fd 1) the monitor reads stdin
 * into the UART's receive FIFO, when it has room, each time it services
 * the devices (at least every INPUT_POLL_NS while stdin is open). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emulator/chardev.h"
#include "emulator/system.h"

#define INPUT_POLL_NS   10000000ull     /* 10 ms */
#define IRQ_RECHECK_NS  250000ull       /* an interrupt waits for IF: look again after 250 us */
#define MIN_TIMER_NS    20000ull        /* no host timer closer than 20 us apart */
#define CATCHUP_NS      100000ull       /* lost timer ticks: one every 100 us */
#define MAX_LOST_TICKS  1000u

struct events {
    timer_t timer;
    bool have_timer;
    uint64_t armed;             /* CLOCK_MONOTONIC deadline the timer is set for, 0 if none */
    int in_fd;                  /* UART input, or -1 */
    uint64_t next_input;
    unsigned lost_ticks;        /* PIT edges that merged while the host was late */
};

int events_timer_signal(void) { return SIGRTMIN + 1; }

static uint64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int events_create(struct vm *vm, char *err, size_t errlen)
{
    struct events *e = calloc(1, sizeof *e);
    struct sigevent sev;

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = events_timer_signal();
    if (timer_create(CLOCK_MONOTONIC, &sev, &e->timer) < 0) {
        snprintf(err, errlen, "cannot create a host timer: %s", strerror(errno));
        free(e);
        return -1;
    }
    e->have_timer = true;
    e->in_fd = vm->cfg.console ? chardev_poll_fd(vm->cfg.console)
                               : vm->cfg.console_fd == 1 ? 0 : -1;
    vm->events = e;
    return 0;
}

void vm_set_console_input(struct vm *vm, int fd)
{
    if (vm->cfg.console && vm->cfg.console->spec.kind != CHARDEV_STDIO)
        return;                 /* COM1 is not on stdin: a monitor there changes nothing */
    if (vm->events)
        vm->events->in_fd = fd;
}

void events_destroy(struct vm *vm)
{
    if (!vm->events)
        return;
    if (vm->events->have_timer)
        timer_delete(vm->events->timer);
    free(vm->events);
    vm->events = NULL;
}

/* at: on the guest clock (vm_clock_ns); the host timer counts CLOCK_MONOTONIC. */
static void arm(struct vm *vm, struct events *e, uint64_t at)
{
    struct itimerspec its = { 0 };
    uint64_t host = at - vm->clock_shift;
    its.it_value.tv_sec = (time_t)(host / 1000000000u);
    its.it_value.tv_nsec = (long)(host % 1000000000u);
    if (timer_settime(e->timer, TIMER_ABSTIME, &its, NULL) == 0)
        e->armed = at;
}

/* The earliest device event, on the guest clock; UINT64_MAX if none. */
static uint64_t next_deadline(struct vcpu *v, uint64_t now)
{
    struct vm *vm = v->vm;
    struct events *e = vm->events;
    uint64_t next = pit_next_event_ns(&vm->pit), rtc = rtc_next_event_ns(&vm->rtc);

    if (vm->has_apic && lapic_next_event_ns(&vm->lapic) < next)
        next = lapic_next_event_ns(&vm->lapic);
    if (vm->has_apic && hpet_next_event_ns(&vm->hpet) < next)
        next = hpet_next_event_ns(&vm->hpet);
    if (rtc != UINT64_MAX) {
        uint64_t real = now_ns(CLOCK_REALTIME);
        uint64_t mono = rtc > real ? now + (rtc - real) : now;
        if (mono < next)
            next = mono;
    }
    if (e->in_fd >= 0 && e->next_input < next)
        next = e->next_input;
    if (v->bt.irq_pending && !v->bt.vif && now + IRQ_RECHECK_NS < next)
        next = now + IRQ_RECHECK_NS;
    if (e->lost_ticks && !isa_irq_busy(&vm->isa, 0) && now + CATCHUP_NS < next)
        next = now + CATCHUP_NS;
    return next;
}

void events_rearm(struct vcpu *v)
{
    struct events *e = v->vm->events;
    uint64_t now = vm_clock_ns(v->vm), next = next_deadline(v, now);

    if (next == UINT64_MAX || (e->armed && e->armed <= next))
        return;
    if (next < now + MIN_TIMER_NS)
        next = now + MIN_TIMER_NS;
    arm(v->vm, e, next);
}

static void read_input(struct vcpu *v, uint64_t now)
{
    struct vm *vm = v->vm;
    struct events *e = vm->events;
    struct pollfd pfd = { .fd = e->in_fd, .events = POLLIN };
    uint8_t buf[64];
    int room = uart_rx_space(&vm->uart);
    ssize_t n;

    e->next_input = now + INPUT_POLL_NS;
    if (room <= 0 || poll(&pfd, 1, 0) <= 0)
        return;
    if (vm->cfg.console && e->in_fd == chardev_poll_fd(vm->cfg.console)) {
        /* a socket or pty back-end: a client may come, go or come back */
        n = chardev_read(vm->cfg.console, buf, (size_t)room < sizeof buf ? (size_t)room : sizeof buf);
        if (n > 0)
            uart_receive(&vm->uart, buf, (int)n);
        vm->uart.out_fd = vm->cfg.console->out_fd;
        e->in_fd = n < 0 ? -1 : chardev_poll_fd(vm->cfg.console);
        return;
    }
    n = read(e->in_fd, buf, (size_t)room < sizeof buf ? (size_t)room : sizeof buf);
    if (n > 0)
        uart_receive(&vm->uart, buf, (int)n);
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        e->in_fd = -1;          /* end of input */
}

/* Timer ticks the guest missed because the host ran the monitor late (a
 * loaded machine) are handed in later, one at a time once IRQ 0 is neither
 * requested nor in service — on the 8259, or on the I/O APIC's pin 2 and
 * the local APIC, whichever the guest has unmasked — so that the guest's
 * tick count keeps time (QEMU's "catch-up" policy for lost ticks); at most
 * MAX_LOST_TICKS. */
static void pit_catch_up(struct vm *vm)
{
    struct events *e = vm->events;
    bool was_busy = isa_irq_busy(&vm->isa, 0);
    int edges = pit_update(&vm->pit);
    bool masked = isa_irq_masked(&vm->isa, 0);

    /* Every edge merged into a request already waiting, but the first. */
    if (edges > 0)
        e->lost_ticks += (unsigned)edges - (was_busy ? 0 : 1);
    if (e->lost_ticks > MAX_LOST_TICKS)
        e->lost_ticks = MAX_LOST_TICKS;
    if (masked)
        e->lost_ticks = 0;      /* they would have been lost anyway */
    if (e->lost_ticks && !isa_irq_busy(&vm->isa, 0)) {
        e->lost_ticks--;
        isa_irq_line(&vm->isa, 0, 1);
        isa_irq_line(&vm->isa, 0, 0);
    }
}

static void service(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct events *e = vm->events;
    uint64_t now = vm_clock_ns(v->vm);

    v->timer_fired = 0;
    e->armed = 0;
    pit_catch_up(vm);
    rtc_update(&vm->rtc);
    if (vm->has_apic) {
        lapic_update(&vm->lapic);
        hpet_update(&vm->hpet);
    }
    if (e->in_fd >= 0 && now >= e->next_input)
        read_input(v, now);
    events_rearm(v);
}

void events_service(struct vcpu *v)
{
    if (v->timer_fired)
        service(v);
}

void events_start(struct vcpu *v)
{
    v->timer_fired = 1;         /* bring the devices up to date and arm the timer */
}

void events_stop(struct vcpu *v)
{
    struct events *e = v->vm->events;
    struct itimerspec off = { 0 };
    timer_settime(e->timer, 0, &off, NULL);
    e->armed = 0;
}

void events_wait(struct vcpu *v)
{
    struct vm *vm = v->vm;
    struct events *e = vm->events;
    struct pollfd pfd = { .fd = e->in_fd, .events = POLLIN };
    sigset_t block, old;
    uint64_t now = vm_clock_ns(v->vm), next = next_deadline(v, now);
    struct timespec ts, *tsp = NULL;
    nfds_t nfds = e->in_fd >= 0 && uart_rx_space(&vm->uart) > 0 ? 1 : 0;

    vm->stats.halt_sleeps++;
    if (nfds && next == e->next_input)
        next = UINT64_MAX;      /* ppoll watches the input itself */
    if (next != UINT64_MAX) {
        uint64_t d = next > now ? next - now : 0;
        ts.tv_sec = (time_t)(d / 1000000000u);
        ts.tv_nsec = (long)(d % 1000000000u);
        tsp = &ts;
    }
    /* Block the signals that end the wait, check, and let ppoll unblock
     * them atomically: a signal between the check and the sleep is not lost. */
    sigemptyset(&block);
    sigaddset(&block, SIGVTALRM);
    sigaddset(&block, events_timer_signal());
    sigprocmask(SIG_BLOCK, &block, &old);
    if (v->exit == EXIT_NONE && !v->timer_fired) {
        ppoll(nfds ? &pfd : NULL, nfds, tsp, &old);
        vm->stats.halt_sleep_us += (vm_clock_ns(v->vm) - now) / 1000;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (nfds)
        e->next_input = 0;      /* read it now */
    service(v);
}

/* ---- the PIC's output and delivery ------------------------------------ */

void intr_line(struct vcpu *v, int level)
{
    v->bt.irq_pending = (uint8_t)level;
    /* Callers look for a deliverable interrupt right after a device
     * update (dispatcher, I/O callouts); with IF clear nobody delivers
     * it now, so make sure the dispatcher looks again soon. */
    if (level && !v->bt.vif && v->vm->events)
        events_rearm(v);
}

bool intr_deliver(struct vcpu *v)
{
    struct vm *vm = v->vm;
    int vector = vm->has_apic ? lapic_acknowledge(&vm->lapic) : LAPIC_EXTINT;

    if (vector == LAPIC_EXTINT)
        vector = pic_acknowledge(&vm->pic);     /* the 8259's INTA cycle */

    vm->stats.interrupts++;
    return event_deliver(v, vector, EV_EXTINT, false, 0, v->bt.eip, v->bt.eip);
}
