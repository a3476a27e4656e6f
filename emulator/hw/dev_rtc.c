/* dev_rtc — the MC146818 real-time clock and CMOS RAM (Motorola MC146818A
 * datasheet), with the IBM AT's use of the RAM bytes.
 *
 * Port 0x70 selects a register (bit 7 is the NMI mask on a PC, not part of
 * the index); port 0x71 reads or writes it.
 *
 *   0-9   seconds, alarm s, minutes, alarm m, hours, alarm h, weekday
 *         (1 = Sunday), day, month, year (two digits)
 *   A     UIP (7, read-only), divider (6-4), periodic rate (3-0)
 *   B     SET (7), PIE (6), AIE (5), UIE (4), SQWE (3), DM binary (2),
 *         24-hour (1), DSE (0)
 *   C     IRQF PF AF UF (7-4): read-only, cleared by reading
 *   D     VRT (7): the battery is good
 *   0x32  century (IBM); 0x15-0x18, 0x30-0x31, 0x34-0x35 memory sizes
 *
 * The time registers are not stored: they are computed from the host clock
 * plus offset_s, the difference the guest set. While B.SET is 1 updates
 * stop and the registers read and write a held copy, which becomes the new
 * time when SET is cleared. Updates happen on whole seconds of the host
 * clock, and UIP reads 1 during the 244 us before each one, so a guest that
 * waits for UIP to clear has at least 244 us to read a consistent time.
 *
 * Status C's flags are worked out lazily from the clock time last examined
 * (checked_ns); IRQ 8 is IRQF, which stays up until C is read. The divider
 * bits are kept but not modelled: the time base is always 32.768 kHz. */
#include "emulator/hw/devices.h"

#include <time.h>

#define NS_PER_S 1000000000ull

enum {
    REG_SEC = 0, REG_SEC_ALARM = 1, REG_MIN = 2, REG_MIN_ALARM = 3, REG_HOUR = 4,
    REG_HOUR_ALARM = 5, REG_WDAY = 6, REG_MDAY = 7, REG_MONTH = 8, REG_YEAR = 9,
    REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C, REG_D = 0x0D, REG_CENTURY = 0x32,
};

#define A_UIP  0x80
#define A_RS   0x0F
#define B_SET  0x80
#define B_PIE  0x40
#define B_AIE  0x20
#define B_UIE  0x10
#define B_DM   0x04
#define B_24H  0x02
#define C_IRQF 0x80
#define C_PF   0x40
#define C_AF   0x20
#define C_UF   0x10
#define D_VRT  0x80
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xC0

#define UIP_WINDOW_NS 244000ull
/* Alarms are checked at each update; after a long sleep, one day's worth of
 * updates covers every combination of alarm fields. */
#define ALARM_LOOKBACK_S 86400

static uint64_t rtc_now(const struct rtc *r) { return r->now_ns(r->clock_opaque); }

static bool binary(const struct rtc *r) { return r->cmos[REG_B] & B_DM; }

static uint8_t enc(const struct rtc *r, int v)
{
    return binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int dec(const struct rtc *r, uint8_t v)
{
    return binary(r) ? v : (v >> 4) * 10 + (v & 0xF);
}

static uint8_t enc_hour(const struct rtc *r, int h)
{
    if (r->cmos[REG_B] & B_24H)
        return enc(r, h);
    return enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0);
}

static int dec_hour(const struct rtc *r, uint8_t v)
{
    if (r->cmos[REG_B] & B_24H)
        return dec(r, v);
    return dec(r, v & ~HOUR_PM) % 12 + (v & HOUR_PM ? 12 : 0);
}

static int64_t guest_seconds(const struct rtc *r, uint64_t host_ns)
{
    return (int64_t)(host_ns / NS_PER_S) + r->offset_s;
}

/* The ten time registers and the century for Unix time t. */
static void time_to_regs(const struct rtc *r, int64_t t, uint8_t regs[10], uint8_t *century)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    regs[REG_SEC] = enc(r, tm.tm_sec);
    regs[REG_MIN] = enc(r, tm.tm_min);
    regs[REG_HOUR] = enc_hour(r, tm.tm_hour);
    regs[REG_WDAY] = enc(r, tm.tm_wday + 1);
    regs[REG_MDAY] = enc(r, tm.tm_mday);
    regs[REG_MONTH] = enc(r, tm.tm_mon + 1);
    regs[REG_YEAR] = enc(r, (tm.tm_year + 1900) % 100);
    *century = enc(r, (tm.tm_year + 1900) / 100);
}

static bool is_time_reg(uint8_t i)
{
    return i == REG_SEC || i == REG_MIN || i == REG_HOUR || (i >= REG_WDAY && i <= REG_YEAR) ||
           i == REG_CENTURY;
}

/* Makes the held registers the current time (timegm normalises
 * out-of-range fields, as the chip would eventually roll them over). */
static void commit_held_time(struct rtc *r, uint64_t now)
{
    struct tm tm = {
        .tm_sec = dec(r, r->set_time[REG_SEC]),
        .tm_min = dec(r, r->set_time[REG_MIN]),
        .tm_hour = dec_hour(r, r->set_time[REG_HOUR]),
        .tm_mday = dec(r, r->set_time[REG_MDAY]),
        .tm_mon = dec(r, r->set_time[REG_MONTH]) - 1,
        .tm_year = dec(r, r->set_century) * 100 + dec(r, r->set_time[REG_YEAR]) - 1900,
    };
    time_t t = timegm(&tm);
    if (t != (time_t)-1)
        r->offset_s = (int64_t)t - (int64_t)(now / NS_PER_S);
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == now;
}

static bool alarm_matches(const struct rtc *r, int64_t t)
{
    uint8_t regs[10], century;
    time_to_regs(r, t, regs, &century);
    return alarm_field_matches(r->cmos[REG_SEC_ALARM], regs[REG_SEC]) &&
           alarm_field_matches(r->cmos[REG_MIN_ALARM], regs[REG_MIN]) &&
           alarm_field_matches(r->cmos[REG_HOUR_ALARM], regs[REG_HOUR]);
}

/* The periodic interrupt's period is 2^(RS-1) cycles of 32.768 kHz; RS 1
 * and 2 repeat RS 8 and 9, RS 0 is off. Returns the cycle divisor or 0. */
static uint64_t periodic_divisor(uint8_t a)
{
    int rs = a & A_RS;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;
    return 1ull << (rs - 1);
}

static uint64_t periodic_index(uint64_t ns, uint64_t div)
{
    return (uint64_t)((unsigned __int128)ns * 32768 / ((unsigned __int128)NS_PER_S * div));
}

static uint64_t periodic_time(uint64_t index, uint64_t div)
{
    unsigned __int128 den = 32768, num = (unsigned __int128)index * NS_PER_S * div;
    return (uint64_t)((num + den - 1) / den);
}

static void rtc_update_irq(struct rtc *r)
{
    uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C] & ~C_IRQF;
    if (((c & C_PF) && (b & B_PIE)) || ((c & C_AF) && (b & B_AIE)) ||
        ((c & C_UF) && (b & B_UIE)))
        c |= C_IRQF;
    r->cmos[REG_C] = c;
    int level = (c & C_IRQF) != 0;
    if (level != r->irq_level) {
        r->irq_level = level;
        if (r->irq)
            r->irq(r->irq_opaque, 8, level);
    }
}

/* Sets status C's flags for what happened between checked_ns and now. */
static void rtc_catch_up(struct rtc *r, uint64_t now)
{
    uint64_t from = r->checked_ns;
    if (now <= from)
        return;
    r->checked_ns = now;
    uint64_t div = periodic_divisor(r->cmos[REG_A]);
    if (div && periodic_index(now, div) > periodic_index(from, div))
        r->cmos[REG_C] |= C_PF;
    if (r->cmos[REG_B] & B_SET)
        return;
    uint64_t first = from / NS_PER_S + 1, last = now / NS_PER_S;
    if (first > last)
        return;
    r->cmos[REG_C] |= C_UF;
    if (r->cmos[REG_C] & C_AF)
        return;
    if (last - first >= ALARM_LOOKBACK_S)
        first = last - ALARM_LOOKBACK_S + 1;
    for (uint64_t s = first; s <= last; s++) {
        if (alarm_matches(r, (int64_t)s + r->offset_s)) {
            r->cmos[REG_C] |= C_AF;
            break;
        }
    }
}

static uint8_t read_time_reg(struct rtc *r, uint8_t i, uint64_t now)
{
    if (r->cmos[REG_B] & B_SET)
        return i == REG_CENTURY ? r->set_century : r->set_time[i];
    uint8_t regs[10], century;
    time_to_regs(r, guest_seconds(r, now), regs, &century);
    return i == REG_CENTURY ? century : regs[i];
}

static void write_time_reg(struct rtc *r, uint8_t i, uint8_t v, uint64_t now)
{
    bool held = r->cmos[REG_B] & B_SET;
    if (!held)
        time_to_regs(r, guest_seconds(r, now), r->set_time, &r->set_century);
    if (i == REG_CENTURY)
        r->set_century = v;
    else
        r->set_time[i] = v;
    if (!held)
        commit_held_time(r, now);
}

static void write_b(struct rtc *r, uint8_t v, uint64_t now)
{
    uint8_t old = r->cmos[REG_B];
    if (!(old & B_SET) && (v & B_SET))
        time_to_regs(r, guest_seconds(r, now), r->set_time, &r->set_century);
    if (v & B_SET)
        v &= ~B_UIE;                 /* datasheet: SET clears UIE */
    if ((old & B_SET) && !(v & B_SET))
        commit_held_time(r, now);    /* in the format the registers were written in */
    r->cmos[REG_B] = v;
}

static uint32_t rtc_read(void *dev, uint16_t port, int size)
{
    struct rtc *r = dev;
    if (port == 0x70)
        return 0xFF;                 /* the index register is write-only */
    uint64_t now = rtc_now(r);
    uint8_t i = r->index, v;
    rtc_catch_up(r, now);
    if (is_time_reg(i))
        return read_time_reg(r, i, now);
    switch (i) {
    case REG_A: {
        bool updating = !(r->cmos[REG_B] & B_SET) &&
                        now % NS_PER_S >= NS_PER_S - UIP_WINDOW_NS;
        return (r->cmos[REG_A] & ~A_UIP) | (updating ? A_UIP : 0);
    }
    case REG_C:
        rtc_update_irq(r);
        v = r->cmos[REG_C];
        r->cmos[REG_C] = 0;
        rtc_update_irq(r);
        return v;
    default:
        return r->cmos[i];
    }
}

static void rtc_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct rtc *r = dev;
    uint8_t v = (uint8_t)val;
    if (port == 0x70) {
        r->index = v & 0x7F;         /* bit 7 masks NMI; we have no NMI sources */
        return;
    }
    uint64_t now = rtc_now(r);
    uint8_t i = r->index;
    rtc_catch_up(r, now);            /* flags up to now follow the old settings */
    if (is_time_reg(i))
        write_time_reg(r, i, v, now);
    else if (i == REG_A)
        r->cmos[REG_A] = v & ~A_UIP;
    else if (i == REG_B)
        write_b(r, v, now);
    else if (i != REG_C && i != REG_D)
        r->cmos[i] = v;
    rtc_update_irq(r);
}

static void put16(uint8_t *cmos, int at, uint32_t v)
{
    if (v > 0xFFFF)
        v = 0xFFFF;
    cmos[at] = (uint8_t)v;
    cmos[at + 1] = (uint8_t)(v >> 8);
}

/* IBM AT layout: base memory, extended memory above 1 MiB in KiB (twice:
 * 0x17 is the configured size, 0x30 what POST found), memory above 16 MiB
 * in 64 KiB units (0x34), and the checksum of 0x10-0x2D at 0x2E. */
static void fill_nvram(uint8_t *cmos, uint64_t ram_size)
{
    const uint64_t mib = 1024 * 1024;
    uint64_t ext_kib = ram_size > mib ? (ram_size - mib) / 1024 : 0;
    uint64_t above16 = ram_size > 16 * mib ? (ram_size - 16 * mib) / 65536 : 0;
    cmos[0x14] = 0x02;               /* equipment: math coprocessor, no floppy */
    put16(cmos, 0x15, 640);
    put16(cmos, 0x17, (uint32_t)(ext_kib > 0xFFFF ? 0xFFFF : ext_kib));
    put16(cmos, 0x30, (uint32_t)(ext_kib > 0xFFFF ? 0xFFFF : ext_kib));
    put16(cmos, 0x34, (uint32_t)(above16 > 0xFFFF ? 0xFFFF : above16));
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += cmos[i];
    cmos[0x2E] = (uint8_t)(sum >> 8);
    cmos[0x2F] = (uint8_t)sum;
}

int rtc_init(struct rtc *r, struct io_bus *bus, uint64_t ram_size, clock_fn now_ns,
             void *clock_opaque, irq_fn irq, void *irq_opaque)
{
    *r = (struct rtc){
        .now_ns = now_ns, .clock_opaque = clock_opaque, .irq = irq, .irq_opaque = irq_opaque,
    };
    r->cmos[REG_A] = 0x26;           /* 32.768 kHz, 1024 Hz periodic rate */
    r->cmos[REG_B] = B_24H;          /* BCD, 24-hour, no interrupts */
    r->cmos[REG_D] = D_VRT;
    fill_nvram(r->cmos, ram_size);
    r->checked_ns = rtc_now(r);
    return io_register(bus, 0x70, 2, r, rtc_read, rtc_write);
}

void rtc_update(struct rtc *r)
{
    rtc_catch_up(r, rtc_now(r));
    rtc_update_irq(r);
}

uint64_t rtc_next_event_ns(struct rtc *r)
{
    if (r->irq_level)
        return UINT64_MAX;           /* nothing changes IRQ 8 until C is read */
    uint8_t b = r->cmos[REG_B];
    uint64_t next = UINT64_MAX, div = periodic_divisor(r->cmos[REG_A]);
    if ((b & B_PIE) && div)
        next = periodic_time(periodic_index(r->checked_ns, div) + 1, div);
    if ((b & (B_UIE | B_AIE)) && !(b & B_SET)) {
        uint64_t second = (r->checked_ns / NS_PER_S + 1) * NS_PER_S;
        if (second < next)
            next = second;
    }
    return next;
}
