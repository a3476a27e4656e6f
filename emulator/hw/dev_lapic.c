/* dev_lapic — the local APIC in xAPIC mode (Intel SDM vol. 3A ch. 10
 * "Advanced Programmable Interrupt Controller"), one CPU's worth.
 *
 * Interrupt acceptance (§10.8): a fixed interrupt sets its vector's IRR bit
 * (TMR records level triggering). The core is interrupted when the highest
 * IRR vector's priority class (bits 7:4) is above the processor priority
 * class: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV & 0xF0, ISRV being
 * the highest vector in service. The INTA moves that vector from IRR to
 * ISR; an EOI write clears the highest ISR bit and, for a level-triggered
 * vector, is broadcast to the I/O APIC (which clears remote IRR).
 *
 * LINT0 carries the 8259's INTR. In ExtINT mode and unmasked, the core takes
 * the 8259's vector through an INTA on the PIC (§10.5.1 "ExtINT"), ahead of
 * fixed interrupts; with the APIC disabled in IA32_APIC_BASE, INTR goes
 * straight to the core (§10.4.3). NMI and SMI messages have no source on
 * this machine and are dropped; INIT and STARTUP IPIs name CPUs that do not
 * exist and are ignored, and the delivery-status bit always reads idle,
 * since every message is delivered at once.
 *
 * The timer (§10.5.4) counts down at LAPIC_BUS_HZ divided by TDCR, in
 * one-shot or periodic mode (no TSC-deadline mode: CPUID does not offer
 * it). Nothing ticks: the current count is worked out from the clock time
 * the initial count was written, as in the PIT. Expirations would merge
 * when the host runs the monitor late, so they queue (at most MAX_BACKLOG)
 * and are handed in one at a time whenever the vector is neither requested
 * nor in service, looking again every CATCHUP_NS: the guest's tick count
 * keeps time. */
#include "emulator/hw/apic.h"

#define NS_PER_S     1000000000ull
#define CATCHUP_NS   100000ull
#define MAX_BACKLOG  1000u

#define APIC_BASE_BSP    (1u << 8)
#define APIC_BASE_EN     (1u << 11)
#define APIC_BASE_RESERVED (~0xFFFFFF900ull)   /* beyond 36 address bits, bits 0-7, 9, 10 */

#define SVR_ENABLE   (1u << 8)
#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define ICR_LOGICAL  (1u << 11)
#define ICR_LEVEL    (1u << 15)

#define ESR_SEND_ILLEGAL    0x20
#define ESR_RECEIVE_ILLEGAL 0x40
#define ESR_ILLEGAL_ADDRESS 0x80

/* Writable bits of each LVT entry (§10.5.1 figure 10-8). */
static const uint32_t lvt_writable[LVT_N] = {
    [LVT_TIMER] = 0x300FF, [LVT_THERMAL] = 0x107FF, [LVT_PERF] = 0x107FF,
    [LVT_LINT0] = 0x1A7FF, [LVT_LINT1] = 0x1A7FF, [LVT_ERROR] = 0x100FF,
};

enum {
    REG_ID = 0x02, REG_VERSION = 0x03, REG_TPR = 0x08, REG_APR = 0x09, REG_PPR = 0x0A,
    REG_EOI = 0x0B, REG_RRD = 0x0C, REG_LDR = 0x0D, REG_DFR = 0x0E, REG_SVR = 0x0F,
    REG_ISR = 0x10, REG_TMR = 0x18, REG_IRR = 0x20, REG_ESR = 0x28, REG_ICR_LO = 0x30,
    REG_ICR_HI = 0x31, REG_LVT = 0x32, REG_TICR = 0x38, REG_TCCR = 0x39, REG_TDCR = 0x3E,
};

/* Version 0x14 (an integrated APIC), six LVT entries: QEMU's 0x50014. */
#define LAPIC_VERSION 0x50014u

static uint64_t now(const struct lapic *l) { return l->now_ns(l->clock_opaque); }

static bool sw_enabled(const struct lapic *l) { return l->svr & SVR_ENABLE; }

bool lapic_hw_enabled(const struct lapic *l) { return l->base_msr & APIC_BASE_EN; }

/* Highest vector set in a 256-bit register, or -1. */
static int highest(const uint32_t r[8])
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

static void set_bit(uint32_t r[8], int v) { r[v >> 5] |= 1u << (v & 31); }
static void clear_bit(uint32_t r[8], int v) { r[v >> 5] &= ~(1u << (v & 31)); }
static bool test_bit(const uint32_t r[8], int v) { return r[v >> 5] >> (v & 31) & 1; }

static uint32_t ppr(const struct lapic *l)
{
    int isrv = highest(l->isr);
    uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (l->tpr & 0xF0) >= cls ? l->tpr & 0xFF : cls;
}

/* The fixed vector the core would take now, or -1. */
static int fixed_pending(const struct lapic *l)
{
    int irrv = highest(l->irr);
    if (irrv < 0 || !sw_enabled(l))
        return -1;
    return ((uint32_t)irrv & 0xF0) > (ppr(l) & 0xF0) ? irrv : -1;
}

static bool extint_pending(const struct lapic *l)
{
    uint32_t lvt = l->lvt[LVT_LINT0];
    if (!lapic_hw_enabled(l))
        return l->lint0;
    return l->lint0 && !(lvt & LVT_MASKED) && (lvt >> 8 & 7) == APIC_DM_EXTINT;
}

static void update_intr(struct lapic *l)
{
    int level = extint_pending(l) || (lapic_hw_enabled(l) && fixed_pending(l) >= 0);
    if (level != l->intr_level) {
        l->intr_level = level;
        if (l->intr)
            l->intr(l->intr_opaque, level);
    }
}

/* A vector arrives in the IRR (§10.5.2: vectors 0-15 are illegal). */
static void accept(struct lapic *l, int vector, bool level_trig)
{
    if (vector < 16) {
        l->esr_pending |= ESR_RECEIVE_ILLEGAL;
        return;
    }
    set_bit(l->irr, vector);
    if (level_trig)
        set_bit(l->tmr, vector);
    else
        clear_bit(l->tmr, vector);
    update_intr(l);
}

/* Power-up and INIT state (§10.4.7.1). */
static void lapic_reset(struct lapic *l)
{
    for (int i = 0; i < 8; i++)
        l->irr[i] = l->isr[i] = l->tmr[i] = 0;
    for (int i = 0; i < LVT_N; i++)
        l->lvt[i] = LVT_MASKED;
    l->tpr = l->ldr = l->esr = l->esr_pending = l->icr_lo = l->icr_hi = 0;
    l->dfr = 0xFFFFFFFFu;
    l->svr = 0xFF;
    l->tdcr = l->ticr = 0;
    l->timer_seen = 0;
    l->timer_backlog = 0;
}

void lapic_init(struct lapic *l, clock_fn now_ns, void *clock_opaque,
                void (*intr)(void *opaque, int level), void *intr_opaque,
                void (*eoi)(void *opaque, uint8_t vector), void *eoi_opaque)
{
    *l = (struct lapic){
        .base_msr = LAPIC_BASE | APIC_BASE_EN | APIC_BASE_BSP,
        .now_ns = now_ns, .clock_opaque = clock_opaque, .intr = intr, .intr_opaque = intr_opaque,
        .eoi = eoi, .eoi_opaque = eoi_opaque,
    };
    lapic_reset(l);
    /* What SeaBIOS's smp_setup leaves: APIC software-enabled, LINT0 ExtINT
     * and LINT1 NMI, both level-triggered and unmasked. */
    l->svr = 0x1FF;
    l->lvt[LVT_LINT0] = 0x8700;
    l->lvt[LVT_LINT1] = 0x8400;
}

/* ---- timer ---------------------------------------------------------------- */

static uint32_t divisor(const struct lapic *l)
{
    uint32_t v = (l->tdcr & 3) | (l->tdcr >> 1 & 4);   /* TDCR bits 3, 1:0 */
    return 1u << ((v + 1) & 7);
}

static bool periodic(const struct lapic *l) { return l->lvt[LVT_TIMER] & LVT_PERIODIC; }

/* Counts (decrements) since the initial count was written. */
static uint64_t counts_elapsed(const struct lapic *l, uint64_t t)
{
    uint64_t ns = t > l->timer_start_ns ? t - l->timer_start_ns : 0;
    return (uint64_t)((unsigned __int128)ns * LAPIC_BUS_HZ / NS_PER_S / divisor(l));
}

/* The first clock time at which counts_elapsed reaches c. */
static uint64_t counts_to_ns(const struct lapic *l, uint64_t c)
{
    unsigned __int128 cycles = (unsigned __int128)c * divisor(l);
    return l->timer_start_ns + (uint64_t)((cycles * NS_PER_S + LAPIC_BUS_HZ - 1) / LAPIC_BUS_HZ);
}

static uint64_t expirations(const struct lapic *l, uint64_t c)
{
    if (!l->ticr)
        return 0;
    if (periodic(l))
        return c / l->ticr;
    return c >= l->ticr;
}

static uint32_t current_count(const struct lapic *l)
{
    uint64_t c = counts_elapsed(l, now(l));
    if (!l->ticr)
        return 0;
    if (periodic(l))
        return l->ticr - (uint32_t)(c % l->ticr);
    return c >= l->ticr ? 0 : l->ticr - (uint32_t)c;
}

static bool timer_deliverable(const struct lapic *l)
{
    return !(l->lvt[LVT_TIMER] & LVT_MASKED) && lapic_hw_enabled(l);
}

static void timer_fire(struct lapic *l)
{
    accept(l, l->lvt[LVT_TIMER] & 0xFF, false);
}

bool lapic_vector_busy(const struct lapic *l, int vector)
{
    return test_bit(l->irr, vector) || test_bit(l->isr, vector);
}

/* Expirations join the backlog; one is handed to the IRR whenever the
 * vector is neither requested nor in service (else it would merge). */
void lapic_update(struct lapic *l)
{
    uint64_t t = now(l), e = expirations(l, counts_elapsed(l, t));
    int vector = l->lvt[LVT_TIMER] & 0xFF;

    if (e > l->timer_seen) {
        uint64_t n = e - l->timer_seen;
        l->timer_seen = e;
        if (timer_deliverable(l))
            l->timer_backlog = (unsigned)(l->timer_backlog + n > MAX_BACKLOG
                                          ? MAX_BACKLOG : l->timer_backlog + n);
    }
    if (l->timer_backlog && timer_deliverable(l) && !lapic_vector_busy(l, vector)) {
        l->timer_backlog--;
        l->backlog_ns = t;
        timer_fire(l);
    }
}

uint64_t lapic_next_event_ns(const struct lapic *l)
{
    uint64_t next = UINT64_MAX;
    if (!l->ticr || !timer_deliverable(l))
        return UINT64_MAX;
    if (periodic(l))
        next = counts_to_ns(l, (l->timer_seen + 1) * (uint64_t)l->ticr);
    else if (l->timer_seen == 0)
        next = counts_to_ns(l, l->ticr);
    /* Look again for the vector to be free; while it is busy, the EOI that
     * frees it comes first (and a guest that never sends one costs nothing). */
    if (l->timer_backlog && !lapic_vector_busy(l, l->lvt[LVT_TIMER] & 0xFF) &&
        l->backlog_ns + CATCHUP_NS < next)
        next = l->backlog_ns + CATCHUP_NS;
    return next;
}

/* Start counting from the initial count now. */
static void timer_restart(struct lapic *l)
{
    l->timer_start_ns = now(l);
    l->timer_seen = 0;
    l->timer_backlog = 0;
}

/* ---- interprocessor and self interrupts (§10.6) -------------------------- */

static bool names_me(const struct lapic *l, uint8_t dest, bool logical)
{
    if (!logical)
        return dest == 0xFF || dest == l->id;
    if (l->dfr >> 28 == 0xF)                       /* flat model */
        return (l->ldr >> 24) & dest;
    /* cluster model: high nibble is the cluster, low nibble a bit mask */
    return (dest >> 4 == l->ldr >> 28 || dest >> 4 == 0xF) && (dest & l->ldr >> 24 & 0xF);
}

void lapic_deliver(struct lapic *l, uint8_t vector, int mode, bool level_trig, uint8_t dest,
                   bool logical)
{
    if (!lapic_hw_enabled(l) || !names_me(l, dest, logical))
        return;
    if (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST)
        accept(l, vector, level_trig);
}

static void send_ipi(struct lapic *l)
{
    int mode = l->icr_lo >> 8 & 7, shorthand = l->icr_lo >> 18 & 3;
    uint8_t vector = (uint8_t)l->icr_lo;
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        l->esr_pending |= ESR_SEND_ILLEGAL;
        return;
    }
    switch (shorthand) {
    case 0:                                          /* the destination field */
        lapic_deliver(l, vector, mode, false, (uint8_t)(l->icr_hi >> 24),
                      l->icr_lo & ICR_LOGICAL);
        break;
    case 1:                                          /* self */
    case 2:                                          /* all including self */
        if (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST)
            accept(l, vector, false);
        break;
    default:                                         /* all excluding self: nobody */
        break;
    }
}

/* ---- registers -------------------------------------------------------------- */

static void eoi(struct lapic *l)
{
    int v = highest(l->isr);
    if (v < 0)
        return;
    clear_bit(l->isr, v);
    if (test_bit(l->tmr, v) && l->eoi)
        l->eoi(l->eoi_opaque, (uint8_t)v);
    update_intr(l);
}

static uint32_t reg_read(struct lapic *l, unsigned reg)
{
    switch (reg) {
    case REG_ID: return (uint32_t)l->id << 24;
    case REG_VERSION: return LAPIC_VERSION;
    case REG_TPR: return l->tpr;
    case REG_APR: return 0;
    case REG_PPR: return ppr(l);
    case REG_LDR: return l->ldr;
    case REG_DFR: return l->dfr;
    case REG_SVR: return l->svr;
    case REG_ESR: return l->esr;
    case REG_ICR_LO: return l->icr_lo;           /* delivery status: idle */
    case REG_ICR_HI: return l->icr_hi;
    case REG_TICR: return l->ticr;
    case REG_TCCR: return current_count(l);
    case REG_TDCR: return l->tdcr;
    }
    if (reg >= REG_ISR && reg < REG_ISR + 8)
        return l->isr[reg - REG_ISR];
    if (reg >= REG_TMR && reg < REG_TMR + 8)
        return l->tmr[reg - REG_TMR];
    if (reg >= REG_IRR && reg < REG_IRR + 8)
        return l->irr[reg - REG_IRR];
    if (reg >= REG_LVT && reg < REG_LVT + LVT_N) {
        lapic_update(l);
        uint32_t v = l->lvt[reg - REG_LVT];
        /* The timer's delivery status: an interrupt in the IRR not yet taken. */
        if (reg == REG_LVT + LVT_TIMER && test_bit(l->irr, v & 0xFF))
            v |= 1u << 12;
        return v;
    }
    return 0;
}

static void lvt_write(struct lapic *l, int i, uint32_t val)
{
    if (i == LVT_TIMER)
        lapic_update(l);                /* expirations so far belong to the old setting */
    val &= lvt_writable[i];
    if (!sw_enabled(l))
        val |= LVT_MASKED;              /* §10.4.7.2: masks cannot be cleared */
    if (i == LVT_LINT0 || i == LVT_LINT1)
        val |= l->lvt[i] & (1u << 14);  /* remote IRR is read-only */
    if (i == LVT_TIMER && (val ^ l->lvt[i]) & LVT_PERIODIC) {
        l->lvt[i] = val;
        timer_restart(l);               /* a mode change starts a new count */
    }
    l->lvt[i] = val;
    if (i == LVT_TIMER && (val & LVT_MASKED))
        l->timer_backlog = 0;           /* masked ticks are lost, queued ones too */
    update_intr(l);
}

static void reg_write(struct lapic *l, unsigned reg, uint32_t val)
{
    switch (reg) {
    case REG_ID: l->id = (uint8_t)(val >> 24); return;
    case REG_TPR: l->tpr = val & 0xFF; update_intr(l); return;
    case REG_EOI: eoi(l); return;
    case REG_LDR: l->ldr = val & 0xFF000000u; return;
    case REG_DFR: l->dfr = val | 0x0FFFFFFFu; return;
    case REG_SVR:
        l->svr = val & 0x3FF;
        if (!sw_enabled(l)) {
            for (int i = 0; i < LVT_N; i++)
                l->lvt[i] |= LVT_MASKED;
            l->timer_backlog = 0;
        }
        update_intr(l);
        return;
    case REG_ESR: l->esr = l->esr_pending; l->esr_pending = 0; return;
    case REG_ICR_LO: l->icr_lo = val & 0x000CDFFFu; send_ipi(l); return;
    case REG_ICR_HI: l->icr_hi = val & 0xFF000000u; return;
    case REG_TICR: l->ticr = val; timer_restart(l); return;
    case REG_TDCR: {
        /* The count goes on from where it is, at the new rate. */
        lapic_update(l);
        uint32_t cur = current_count(l);
        l->tdcr = val & 0xB;
        if (l->ticr && cur) {
            uint64_t t = now(l);
            l->timer_start_ns = t;
            uint64_t back = counts_to_ns(l, l->ticr - cur) - t;
            l->timer_start_ns = back < t ? t - back : 0;
            l->timer_seen = 0;
        }
        return;
    }
    }
    if (reg >= REG_LVT && reg < REG_LVT + LVT_N)
        lvt_write(l, (int)(reg - REG_LVT), val);
}

/* Registers are 32 bits wide at 16-byte boundaries (§10.4.1); narrower
 * reads see part of one, and writes that are not whole registers are
 * dropped. With the APIC disabled, nothing answers at its address. */
uint32_t lapic_mmio_read(void *opaque, uint32_t off, unsigned size)
{
    struct lapic *l = opaque;
    if (!lapic_hw_enabled(l))
        return size >= 4 ? ~0u : (1u << (8 * size)) - 1;
    if (off & 0xC)
        return 0;
    return reg_read(l, off >> 4) >> (8 * (off & 3));
}

void lapic_mmio_write(void *opaque, uint32_t off, unsigned size, uint32_t val)
{
    struct lapic *l = opaque;
    if (!lapic_hw_enabled(l) || size != 4 || (off & 0xF))
        return;
    reg_write(l, off >> 4, val);
}

/* ---- pins, MSR, INTA ------------------------------------------------------- */

void lapic_set_lint(struct lapic *l, int pin, int level)
{
    if (pin == 0)
        l->lint0 = level;
    else
        l->lint1 = level;           /* NMI: nothing drives it on this machine */
    update_intr(l);
}

uint64_t lapic_get_base(const struct lapic *l) { return l->base_msr; }

bool lapic_set_base(struct lapic *l, uint64_t val)
{
    if (val & APIC_BASE_RESERVED)
        return false;
    bool was = lapic_hw_enabled(l);
    l->base_msr = (val & ~(uint64_t)APIC_BASE_BSP) | (l->base_msr & APIC_BASE_BSP);
    if (was && !lapic_hw_enabled(l))
        lapic_reset(l);
    update_intr(l);
    return true;
}

int lapic_acknowledge(struct lapic *l)
{
    int v;
    if (extint_pending(l))
        return LAPIC_EXTINT;
    if (!lapic_hw_enabled(l))
        return LAPIC_EXTINT;        /* the 8259 answers with its spurious vector */
    v = fixed_pending(l);
    if (v < 0)
        return l->svr & 0xFF;       /* §10.9: spurious, nothing goes in service */
    clear_bit(l->irr, v);
    set_bit(l->isr, v);
    update_intr(l);
    return v;
}
