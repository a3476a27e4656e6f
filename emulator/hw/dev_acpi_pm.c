/* dev_acpi_pm — the ACPI fixed hardware of the PIIX4 PM function that the
 * FADT points at (ACPI 6.x §4.8): PM1a event block (PM1_STS, PM1_EN), PM1a
 * control block, and the power management timer.
 *
 * The timer (§4.8.3.3) is a free-running 24-bit counter at 3.579545 MHz,
 * worked out from the clock. TMR_STS (PM1_STS bit 0) is set each time bit
 * 23 changes; it raises no SCI here (nothing is wired to IRQ 9). Status
 * bits are cleared by writing ones. There is no SMI command port, so the
 * machine is always in ACPI mode: SCI_EN (PM1_CNT bit 0) reads 1. Writing
 * SLP_EN asks the board for the sleep state SLP_TYP selects. */
#include "emulator/hw/timers.h"

#define NS_PER_S    1000000000ull
#define TMR_STS     0x0001u
#define SCI_EN      0x0001u
#define CNT_WRITABLE 0x1C06u            /* BM_RLD, GBL_RLS, SLP_TYP */
#define SLP_EN      0x2000u             /* write-only: enter the SLP_TYP state */

static uint64_t ticks(const struct acpi_pm *pm)
{
    uint64_t ns = pm->now_ns(pm->clock_opaque);
    return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / NS_PER_S);
}

static uint16_t status(const struct acpi_pm *pm)
{
    uint16_t s = pm->sts;
    if ((uint32_t)(ticks(pm) >> 23) != pm->tmr_epoch)
        s |= TMR_STS;
    return s;
}

static uint32_t pm_read(void *dev, uint16_t port, int size)
{
    struct acpi_pm *pm = dev;
    unsigned off = port - pm->base;
    uint32_t v;
    if (off >= 8)
        return (uint32_t)(ticks(pm) & 0xFFFFFF) >> (8 * (off - 8));
    if (off >= 4)
        v = (uint32_t)(pm->cnt | SCI_EN);
    else
        v = status(pm) | (uint32_t)pm->en << 16;
    return v >> (8 * (off & 3));
}

static void pm_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct acpi_pm *pm = dev;
    unsigned off = port - pm->base;
    /* Bytes of the 32-bit register at (off & ~3), as the access lays them. */
    uint32_t reg = val << (8 * (off & 3)), mask = (size >= 4 ? ~0u : (1u << (8 * size)) - 1)
                                                  << (8 * (off & 3));
    if (off >= 8)
        return;                         /* the timer is read-only */
    if (off >= 4) {
        if (mask & 0xFFFF)
            pm->cnt = (uint16_t)((pm->cnt & ~mask) | (reg & mask & CNT_WRITABLE));
        if ((reg & mask & SLP_EN) && pm->on_sleep)
            pm->on_sleep(pm->sleep_opaque, pm->cnt >> 10 & 7);
        return;
    }
    if (mask & 0xFFFF) {
        uint16_t clear = (uint16_t)(reg & mask);
        if (clear & TMR_STS)
            pm->tmr_epoch = (uint32_t)(ticks(pm) >> 23);
        pm->sts &= (uint16_t)~clear;
    }
    if (mask >> 16)
        pm->en = (uint16_t)((pm->en & ~(mask >> 16)) | (reg >> 16 & mask >> 16));
}

int acpi_pm_init(struct acpi_pm *pm, struct io_bus *bus, uint16_t base, clock_fn now_ns,
                 void *clock_opaque, void (*on_sleep)(void *opaque, int slp_typ),
                 void *sleep_opaque)
{
    *pm = (struct acpi_pm){ .base = base, .now_ns = now_ns, .clock_opaque = clock_opaque,
                            .on_sleep = on_sleep, .sleep_opaque = sleep_opaque };
    pm->tmr_epoch = (uint32_t)(ticks(pm) >> 23);
    return io_register(bus, base, 12, pm, pm_read, pm_write);
}
