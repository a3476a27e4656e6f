/* timers — the clocks an ACPI PC adds to the PIT: the ACPI power
 * management timer (in the PIIX4 PM's I/O block) and the HPET. Both count
 * the injected clock; nothing ticks between accesses. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/hw/devices.h"

/* ACPI PM I/O block at `base` (firmware.h ACPI_PM_BASE): PM1a status
 * (+0) and enable (+2), PM1a control (+4), PM timer (+8). The timer counts
 * at 3.579545 MHz, 24 bits wide (the FADT's TMR_VAL_EXT is clear). */
#define ACPI_PM_TIMER_HZ 3579545ull
#define ACPI_PM_BASE     0x600u           /* the PIIX4 PM's, as QEMU places it */
struct acpi_pm {
    uint16_t base;
    uint16_t sts, en, cnt;
    uint32_t tmr_epoch;           /* timer bit 23 transitions seen when TMR_STS was cleared */
    clock_fn now_ns; void *clock_opaque;
    /* SLP_EN written with SLP_TYP (PM1_CNT bits 12:10): enter that sleep
     * state; the DSDT's \_S5 names type 0, soft-off. */
    void (*on_sleep)(void *opaque, int slp_typ); void *sleep_opaque;
};
int acpi_pm_init(struct acpi_pm *pm, struct io_bus *bus, uint16_t base, clock_fn now_ns,
                 void *clock_opaque, void (*on_sleep)(void *opaque, int slp_typ),
                 void *sleep_opaque);

/* HPET (IA-PC HPET specification 1.0a) with a 100 MHz main counter
 * (period 10^7 fs, QEMU's) and three comparators, all periodic-capable,
 * 64-bit, with the legacy replacement route (timer 0 → IRQ 0, timer 1 →
 * IRQ 8). The window is hpet_mmio_* (struct vm_mmio_ops's shape); the irq
 * callback takes ISA IRQ/GSI numbers (isa_irq.c). */
#define HPET_BASE    0xFED00000u
#define HPET_SIZE    0x400u
#define HPET_TIMERS  3
#define HPET_HZ      100000000ull
struct hpet_timer {
    uint64_t config;              /* Tn_CONF_CAP */
    uint64_t cmp, period;
    int level;                    /* the line it drives, for level-triggered mode */
    unsigned backlog;             /* edge interrupts due but not yet sent */
};
struct hpet {
    uint64_t config, isr;
    uint64_t counter;             /* main counter value when halted / at enable_ns */
    uint64_t enable_ns;           /* clock time the counter was (re)started */
    uint64_t checked;             /* counter value up to which comparators were checked */
    struct hpet_timer t[HPET_TIMERS];
    clock_fn now_ns; void *clock_opaque;
    irq_fn irq; void *irq_opaque;
    /* Would an edge on this line merge with one still waiting (NULL: never)? */
    bool (*irq_busy)(void *irq_opaque, int irq);
    uint64_t backlog_ns;          /* clock time of the last interrupt sent from a backlog */
};
void hpet_init(struct hpet *h, clock_fn now_ns, void *clock_opaque, irq_fn irq, void *irq_opaque,
               bool (*irq_busy)(void *irq_opaque, int irq));
uint32_t hpet_mmio_read(void *hpet, uint32_t off, unsigned size);
void hpet_mmio_write(void *hpet, uint32_t off, unsigned size, uint32_t val);
void hpet_update(struct hpet *h);
uint64_t hpet_next_event_ns(const struct hpet *h);
