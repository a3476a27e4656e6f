/* dev_hpet — the High Precision Event Timer (IA-PC HPET specification
 * 1.0a), as QEMU's `pc` has it: a 64-bit main counter at 100 MHz and three
 * comparators, each 64-bit and periodic-capable, routable to I/O APIC pins
 * 2, 8 and 16-23, or by the legacy replacement route (GEN_CONF bit 1) timer
 * 0 to IRQ 0 and timer 1 to IRQ 8.
 *
 * Registers (§2.3) are 64 bits, read and written as 32-bit halves:
 * 0x000 capabilities, 0x010 general configuration (ENABLE_CNF, LEG_RT_CNF),
 * 0x020 general interrupt status (level-triggered timers; write 1 to
 * clear, which drops the line), 0x0F0 main counter, and per timer n at
 * 0x100 + 0x20n its configuration, comparator and FSB route (no FSB).
 *
 * A comparator fires when the main counter passes its value — modulo 2^32
 * in 32-bit mode (Tn_32MODE_CNF), which Linux uses. In periodic mode it then
 * advances by the period: a comparator write sets the period, and the
 * comparator too if Tn_VAL_SET_CNF is set (which the write clears).
 * Nothing ticks: the counter is worked out from the clock. */
#include "emulator/hw/timers.h"

#define NS_PER_S      1000000000ull
#define CATCHUP_NS    100000ull
#define MAX_BACKLOG   1000u
#define FS_PER_TICK   (1000000000000000ull / HPET_HZ)
/* Capabilities: revision 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 8086. */
#define CAPS_LO       (0x01u | (HPET_TIMERS - 1) << 8 | 1u << 13 | 1u << 15 | 0x8086u << 16)
#define CONF_ENABLE   1u
#define CONF_LEGACY   2u
#define TN_LEVEL      (1u << 1)
#define TN_ENABLE     (1u << 2)
#define TN_PERIODIC   (1u << 3)
#define TN_PER_CAP    (1u << 4)
#define TN_SIZE_CAP   (1u << 5)
#define TN_VAL_SET    (1u << 6)
#define TN_32BIT      (1u << 8)
#define TN_WRITABLE   (TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_VAL_SET | TN_32BIT | 0x1Fu << 9)
#define TN_ROUTE_CAP  0x00FF0104ull     /* pins 2, 8, 16-23 */

static uint64_t now(const struct hpet *h) { return h->now_ns(h->clock_opaque); }
static bool enabled(const struct hpet *h) { return h->config & CONF_ENABLE; }

static uint64_t counter_at(const struct hpet *h, uint64_t t)
{
    if (!enabled(h))
        return h->counter;
    uint64_t ns = t > h->enable_ns ? t - h->enable_ns : 0;
    return h->counter + (uint64_t)((unsigned __int128)ns * HPET_HZ / NS_PER_S);
}

static uint64_t mask_of(const struct hpet_timer *t)
{
    return t->config & TN_32BIT ? 0xFFFFFFFFull : ~0ull;
}

static int route(const struct hpet *h, int i)
{
    if ((h->config & CONF_LEGACY) && i < 2)
        return i == 0 ? 0 : 8;
    return (int)(h->t[i].config >> 9 & 0x1F);
}

static void set_level(struct hpet *h, int i, int level)
{
    struct hpet_timer *t = &h->t[i];
    if (t->level != level && h->irq)
        h->irq(h->irq_opaque, route(h, i), level);
    t->level = level;
}

static void fire(struct hpet *h, int i)
{
    if (h->t[i].config & TN_LEVEL) {
        h->isr |= 1u << i;
        set_level(h, i, 1);
    } else if (h->irq) {
        h->irq(h->irq_opaque, route(h, i), 1);
        h->irq(h->irq_opaque, route(h, i), 0);
    }
}

/* Does the comparator lie in (from, to] (modulo the timer's width)? */
static bool passed(const struct hpet_timer *t, uint64_t from, uint64_t to)
{
    uint64_t span = to - from, m = mask_of(t);
    if (span == 0)
        return false;
    if (m != ~0ull && span > m)
        return true;
    return ((t->cmp - from - 1) & m) < span;
}

/* Edge interrupts queue (at most MAX_BACKLOG per timer) and go out one at
 * a time whenever the line is free: when the host runs the monitor late,
 * periods pass unseen, and their interrupts come later instead of merging. */
static void send_backlog(struct hpet *h, int i, uint64_t t)
{
    struct hpet_timer *tm = &h->t[i];
    if (!tm->backlog || (h->irq_busy && h->irq_busy(h->irq_opaque, route(h, i))))
        return;
    tm->backlog--;
    h->backlog_ns = t;
    fire(h, i);
}

void hpet_update(struct hpet *h)
{
    if (!enabled(h))
        return;
    uint64_t t = now(h), c = counter_at(h, t);
    for (int i = 0; i < HPET_TIMERS; i++) {
        struct hpet_timer *tm = &h->t[i];
        if (passed(tm, h->checked, c)) {
            uint64_t n = 1;
            if ((tm->config & TN_PERIODIC) && tm->period) {
                uint64_t m = mask_of(tm), behind = (c - tm->cmp) & m;
                n = behind / tm->period + 1;
                tm->cmp = (tm->cmp + n * tm->period) & m;
            }
            if (!(tm->config & TN_ENABLE))
                tm->backlog = 0;
            else if (tm->config & TN_LEVEL)
                fire(h, i);
            else
                tm->backlog = (unsigned)(tm->backlog + n > MAX_BACKLOG ? MAX_BACKLOG
                                                                       : tm->backlog + n);
        }
        send_backlog(h, i, t);
    }
    h->checked = c;
}

uint64_t hpet_next_event_ns(const struct hpet *h)
{
    uint64_t next = UINT64_MAX;
    if (!enabled(h))
        return next;
    for (int i = 0; i < HPET_TIMERS; i++) {
        const struct hpet_timer *t = &h->t[i];
        uint64_t d = (t->cmp - h->checked) & mask_of(t);
        if (!(t->config & TN_ENABLE))
            continue;
        if (d == 0)
            d = mask_of(t) == ~0ull ? 0 : mask_of(t) + 1;
        if (d == 0 || d > (1ull << 40))
            continue;
        uint64_t ticks = h->checked + d - h->counter;
        uint64_t at = h->enable_ns +
                      (uint64_t)(((unsigned __int128)ticks * NS_PER_S + HPET_HZ - 1) / HPET_HZ);
        if (at < next)
            next = at;
    }
    /* Look again for a free line (not while it is busy: its EOI comes first). */
    for (int i = 0; i < HPET_TIMERS; i++)
        if (h->t[i].backlog && !(h->irq_busy && h->irq_busy(h->irq_opaque, route(h, i))) &&
            h->backlog_ns + CATCHUP_NS < next)
            next = h->backlog_ns + CATCHUP_NS;
    return next;
}

void hpet_init(struct hpet *h, clock_fn now_ns, void *clock_opaque, irq_fn irq, void *irq_opaque,
               bool (*irq_busy)(void *irq_opaque, int irq))
{
    *h = (struct hpet){ .now_ns = now_ns, .clock_opaque = clock_opaque, .irq = irq,
                        .irq_opaque = irq_opaque, .irq_busy = irq_busy };
    for (int i = 0; i < HPET_TIMERS; i++)
        h->t[i] = (struct hpet_timer){ .config = TN_ROUTE_CAP << 32 | TN_PER_CAP | TN_SIZE_CAP,
                                       .cmp = ~0ull, .period = 0 };
}

static uint64_t reg_read(struct hpet *h, uint32_t reg)
{
    switch (reg) {
    case 0x000: return (uint64_t)FS_PER_TICK << 32 | CAPS_LO;
    case 0x010: return h->config;
    case 0x020: return h->isr;
    case 0x0F0: return counter_at(h, now(h));
    }
    if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_TIMERS) {
        const struct hpet_timer *t = &h->t[(reg - 0x100) / 0x20];
        switch (reg & 0x1F) {
        case 0x00: return t->config;
        case 0x08: return t->cmp;
        }
    }
    return 0;
}

/* Merge a 32-bit write into half of a 64-bit register. */
static uint64_t merge(uint64_t old, uint32_t off, uint32_t val)
{
    return off & 4 ? (old & 0xFFFFFFFFull) | (uint64_t)val << 32
                   : (old & ~0xFFFFFFFFull) | val;
}

static void timer_write(struct hpet *h, int i, uint32_t off, uint32_t val)
{
    struct hpet_timer *t = &h->t[i];
    if ((off & 0x18) == 0x00) {
        uint64_t v = merge(t->config, off, val);
        t->config = (t->config & ~(uint64_t)TN_WRITABLE) | (v & TN_WRITABLE);
        if (!(t->config & TN_ENABLE))
            t->backlog = 0;
        if (!(t->config & TN_LEVEL) || !(t->config & TN_ENABLE)) {
            h->isr &= ~(1ull << i);
            set_level(h, i, 0);
        }
        if (t->config & TN_32BIT) {
            t->cmp &= 0xFFFFFFFFull;
            t->period &= 0xFFFFFFFFull;
        }
    } else if ((off & 0x18) == 0x08) {
        uint64_t v = merge(t->cmp, off, val) & mask_of(t);
        if (!(t->config & TN_PERIODIC) || (t->config & TN_VAL_SET))
            t->cmp = v;
        t->period = merge(t->period, off, val) & mask_of(t);
        t->config &= ~(uint64_t)TN_VAL_SET;
    }
}

static void reg_write(struct hpet *h, uint32_t off, uint32_t val)
{
    uint32_t reg = off & ~7u;
    uint64_t t = now(h);
    if (reg == 0x010) {
        bool was = enabled(h);
        if (was)
            hpet_update(h);
        uint64_t c = counter_at(h, t);
        h->config = merge(h->config, off, val) & (CONF_ENABLE | CONF_LEGACY);
        if (was != enabled(h)) {
            h->counter = c;
            h->enable_ns = t;
            h->checked = c;
        }
    } else if (reg == 0x020) {
        uint64_t clear = merge(0, off, val) & h->isr;
        h->isr &= ~clear;
        for (int i = 0; i < HPET_TIMERS; i++)
            if (clear >> i & 1)
                set_level(h, i, 0);
    } else if (reg == 0x0F0) {
        h->counter = merge(counter_at(h, t), off, val);
        h->enable_ns = t;
        h->checked = h->counter;
    } else if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_TIMERS) {
        hpet_update(h);
        timer_write(h, (int)(reg - 0x100) / 0x20, off & 0x1F, val);
    }
}

uint32_t hpet_mmio_read(void *opaque, uint32_t off, unsigned size)
{
    struct hpet *h = opaque;
    uint64_t v = reg_read(h, off & ~7u);
    return (uint32_t)(v >> (8 * (off & 7)));
}

void hpet_mmio_write(void *opaque, uint32_t off, unsigned size, uint32_t val)
{
    struct hpet *h = opaque;
    if (size == 4 && !(off & 3))
        reg_write(h, off, val);
}
