/* dev_pit — the 8254 programmable interval timer (Intel 8254 datasheet) and
 * the PC's port 0x61, which gates channel 2 and reads its output back.
 *
 * Nothing ticks: a channel remembers the clock time its count was loaded,
 * and its counter and OUT are worked out from the ticks of the 1.193182 MHz
 * input clock elapsed since then. With N the count and d the elapsed ticks:
 *
 *   mode 0  interrupt on terminal count   OUT = d >= N, once
 *   mode 1  hardware one-shot             OUT = d >= N (counts from load,
 *                                         retriggered by a gate rising edge)
 *   mode 2  rate generator                counter N..1; OUT low while it is 1
 *   mode 3  square wave                   OUT high for ceil(N/2), low N/2
 *   mode 4  software strobe               OUT low for the one tick d = N
 *   mode 5  hardware strobe               as 4, retriggered by the gate
 *
 * Gate low stops modes 0, 2, 3 and 4 (2 and 3 also force OUT high and
 * reload on the rising edge). A count written while a periodic mode runs
 * takes effect at once, not at the end of the period as on the chip.
 * Channel 0's OUT drives IRQ 0: each rising edge becomes a pulse on the
 * line (the PIC latches IRQ 0 on edges), delivered by pit_update(). */
#include "emulator/hw/devices.h"

#define PIT_HZ 1193182ull
#define NS_PER_S 1000000000ull

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

#define CW_BCD 0x01
#define READBACK_NO_COUNT  0x20
#define READBACK_NO_STATUS 0x10

#define P61_GATE2   0x01
#define P61_SPEAKER 0x02
#define P61_WRITABLE 0x0F
#define P61_REFRESH 0x10
#define P61_OUT2    0x20

static uint64_t ns_to_ticks(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PIT_HZ / NS_PER_S);
}

/* The first clock time at which ns_to_ticks reaches t. */
static uint64_t ticks_to_ns(uint64_t t)
{
    return (uint64_t)(((unsigned __int128)t * NS_PER_S + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t pit_now(const struct pit *p) { return p->now_ns(p->clock_opaque); }

static bool gate_triggered(uint8_t mode) { return mode == 1 || mode == 5; }
static bool periodic(uint8_t mode) { return mode == 2 || mode == 3; }

static uint64_t elapsed_ticks(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded)
        return 0;
    if (!c->counting)
        return ns_to_ticks(c->frozen_ns);
    return now > c->load_ns ? ns_to_ticks(now - c->load_ns) : 0;
}

static bool channel_out(const struct pit_channel *c, uint64_t d)
{
    uint64_t n = c->count;
    if (!c->loaded)
        return c->mode != 0;
    if (periodic(c->mode) && !c->gate)
        return true;
    switch (c->mode) {
    case 0: case 1: return d >= n;
    case 2: return d % n != n - 1;
    case 3: return d % n < (n + 1) / 2;
    default: return d != n;
    }
}

/* Rising edges of OUT with a < d <= b. */
static uint64_t rising_edges(const struct pit_channel *c, uint64_t a, uint64_t b)
{
    uint64_t n = c->count;
    switch (c->mode) {
    case 0: case 1: return a < n && n <= b;
    case 2: case 3: return b / n - a / n;
    default: return a < n + 1 && n + 1 <= b;
    }
}

/* Next tick after a at which OUT rises, or 0 if none will. */
static uint64_t next_edge_tick(const struct pit_channel *c, uint64_t a)
{
    uint64_t n = c->count;
    switch (c->mode) {
    case 0: case 1: return a < n ? n : 0;
    case 2: case 3: return (a / n + 1) * n;
    default: return a < n + 1 ? n + 1 : 0;
    }
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)(v % 10 | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

static uint32_t from_bcd(uint16_t v)
{
    return (v & 0xF) + (v >> 4 & 0xF) * 10 + (v >> 8 & 0xF) * 100 + (v >> 12 & 0xF) * 1000;
}

static uint16_t channel_counter(const struct pit_channel *c, uint64_t now)
{
    uint32_t modulus = c->bcd ? 10000 : 0x10000;
    uint64_t d = elapsed_ticks(c, now), n = c->count;
    uint32_t v;
    if (!c->loaded)
        v = (uint32_t)(n % modulus);
    else if (c->mode == 2)
        v = (uint32_t)((n - d % n) % modulus);
    else if (c->mode == 3)
        v = (uint32_t)((n - (2 * d) % n) % modulus);
    else
        v = (uint32_t)((n + modulus - d % modulus) % modulus);
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static void channel_restart(struct pit_channel *c, uint64_t now)
{
    c->load_ns = now;
    c->frozen_ns = 0;
    c->seen_ticks = 0;
    c->counting = c->gate || gate_triggered(c->mode);
}

static void channel_load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
    uint32_t v = c->bcd ? from_bcd(raw) : raw;
    c->count = v ? v : (c->bcd ? 10000 : 0x10000);
    c->loaded = true;
    c->null_count = false;
    channel_restart(c, now);
}

static void channel_set_gate(struct pit_channel *c, bool gate, uint64_t now)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    if (!c->loaded)
        return;
    if (gate && (gate_triggered(c->mode) || periodic(c->mode))) {
        channel_restart(c, now);
    } else if (gate_triggered(c->mode)) {
        return;                            /* gate low does not stop modes 1, 5 */
    } else if (!gate) {
        c->frozen_ns = now > c->load_ns ? now - c->load_ns : 0;
        c->counting = false;
    } else {
        c->load_ns = now - c->frozen_ns;
        c->counting = true;
    }
}

static void channel_latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return;                            /* a second latch is ignored until read */
    c->latch = channel_counter(c, now);
    c->count_latched = true;
    c->latch_msb = false;
}

static void channel_latch_status(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)(channel_out(c, elapsed_ticks(c, now)) << 7 | c->null_count << 6 |
                          c->rw << 4 | c->mode << 1 | c->bcd);
    c->status_latched = true;
}

/* The byte of a 16-bit value that a read sequence is at. */
static uint8_t read_byte(uint8_t rw, uint16_t v, bool *msb, bool *done)
{
    bool high = rw == RW_MSB || (rw == RW_WORD && *msb);
    *done = rw != RW_WORD || *msb;
    if (rw == RW_WORD)
        *msb = !*msb;
    return high ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static uint8_t channel_read(struct pit_channel *c, uint64_t now)
{
    bool done;
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->count_latched) {
        uint8_t b = read_byte(c->rw, c->latch, &c->latch_msb, &done);
        if (done)
            c->count_latched = false;
        return b;
    }
    return read_byte(c->rw, channel_counter(c, now), &c->read_msb, &done);
}

static void channel_write(struct pit_channel *c, uint8_t v, uint64_t now)
{
    switch (c->rw) {
    case RW_LSB:
        channel_load(c, v, now);
        break;
    case RW_MSB:
        channel_load(c, (uint16_t)(v << 8), now);
        break;
    case RW_WORD:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = true;
            /* Mode 0: the first byte stops the count and drops OUT. */
            if (c->mode == 0)
                c->loaded = false;
        } else {
            c->write_msb = false;
            channel_load(c, (uint16_t)(c->write_lsb | v << 8), now);
        }
        break;
    }
}

static void pit_control(struct pit *p, uint8_t v, uint64_t now)
{
    int sc = v >> 6, rw = (v >> 4) & 3;
    if (sc == 3) {
        for (int i = 0; i < 3; i++) {
            if (!(v & (2 << i)))
                continue;
            if (!(v & READBACK_NO_STATUS))
                channel_latch_status(&p->ch[i], now);
            if (!(v & READBACK_NO_COUNT))
                channel_latch_count(&p->ch[i], now);
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    if (rw == RW_LATCH) {
        channel_latch_count(c, now);
        return;
    }
    int mode = (v >> 1) & 7;
    c->rw = (uint8_t)rw;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);   /* 6, 7 are 2, 3 */
    c->bcd = v & CW_BCD;
    c->loaded = false;
    c->null_count = true;
    c->read_msb = c->write_msb = false;
    c->count_latched = false;
}

static uint32_t pit_read(void *dev, uint16_t port, int size)
{
    struct pit *p = dev;
    if (port == 0x43)
        return 0xFF;                       /* the control word is write-only */
    return channel_read(&p->ch[port - 0x40], pit_now(p));
}

static void pit_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pit *p = dev;
    pit_update(p);                         /* deliver a due tick before reprogramming */
    uint64_t now = pit_now(p);
    if (port == 0x43)
        pit_control(p, (uint8_t)val, now);
    else
        channel_write(&p->ch[port - 0x40], (uint8_t)val, now);
}

/* Port 0x61, system control port B. Bit 4 toggles on every read: the real
 * bit follows DRAM refresh every 15 us, and firmware-style delay loops wait
 * for it to change. */
static uint32_t port61_read(void *dev, uint16_t port, int size)
{
    struct pit *p = dev;
    struct pit_channel *c = &p->ch[2];
    uint8_t v = p->port61 | (p->refresh ? P61_REFRESH : 0);
    if (channel_out(c, elapsed_ticks(c, pit_now(p))))
        v |= P61_OUT2;
    p->refresh = !p->refresh;
    return v;
}

static void port61_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pit *p = dev;
    p->port61 = (uint8_t)val & P61_WRITABLE;
    channel_set_gate(&p->ch[2], val & P61_GATE2, pit_now(p));
}

int pit_init(struct pit *p, struct io_bus *bus, clock_fn now_ns, void *clock_opaque,
             irq_fn irq, void *irq_opaque)
{
    *p = (struct pit){
        .now_ns = now_ns, .clock_opaque = clock_opaque, .irq = irq, .irq_opaque = irq_opaque,
    };
    /* Channels 0 and 1 have their gates tied high; channel 2's is port 0x61
     * bit 0, low at reset. */
    for (int i = 0; i < 3; i++)
        p->ch[i] = (struct pit_channel){ .gate = i < 2, .count = 0x10000, .rw = RW_WORD };
    if (io_register(bus, 0x40, 4, p, pit_read, pit_write) < 0)
        return -1;
    return io_register(bus, 0x61, 1, p, port61_read, port61_write);
}

int pit_update(struct pit *p)
{
    struct pit_channel *c = &p->ch[0];
    if (!c->loaded || !c->counting)
        return 0;
    uint64_t d = elapsed_ticks(c, pit_now(p));
    uint64_t edges = rising_edges(c, c->seen_ticks, d);
    c->seen_ticks = d;
    if (edges && p->irq) {
        p->irq(p->irq_opaque, 0, 1);
        p->irq(p->irq_opaque, 0, 0);
    }
    return edges > INT32_MAX ? INT32_MAX : (int)edges;
}

uint64_t pit_next_event_ns(struct pit *p)
{
    const struct pit_channel *c = &p->ch[0];
    if (!c->loaded || !c->counting)
        return UINT64_MAX;
    uint64_t t = next_edge_tick(c, c->seen_ticks);
    return t ? c->load_ns + ticks_to_ns(t) : UINT64_MAX;
}
