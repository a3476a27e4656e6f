/* dev_state — the devices' state lists (dev_state.h). Whole arrays of
 * plain structs (PIT channels, 8259 chips, HPET comparators) are one field
 * each; the byte layout is the host's (x86-64, little-endian), which the
 * section version and the length check pin down. */
#include "emulator/hw/dev_state.h"

#include <string.h>

#include "emulator/hw/apic.h"
#include "emulator/hw/devices.h"
#include "emulator/hw/fw_cfg.h"
#include "emulator/hw/ide.h"
#include "emulator/hw/pci.h"
#include "emulator/hw/timers.h"
#include "emulator/hw/vga.h"

/* The state in `in` as the device would hold it, for checks of indexes. */
#define LOADED(type, var, desc) \
    type var;                   \
    memcpy(&var, dev, sizeof var); \
    dev_state_load(&desc, &var, in)

#define F(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }
#define DESC(var, nm, ver, list) \
    const struct dev_desc var = { nm, ver, list, sizeof list / sizeof list[0], 0, NULL, NULL, NULL }

static const struct dev_field uart_f[] = {
    F(struct uart, ier), F(struct uart, lcr), F(struct uart, mcr), F(struct uart, scr),
    F(struct uart, dll), F(struct uart, dlm), F(struct uart, fcr), F(struct uart, rx),
    F(struct uart, rx_head), F(struct uart, rx_count), F(struct uart, thr_irq_pending),
    F(struct uart, rbr), F(struct uart, lsr_err), F(struct uart, msr), F(struct uart, irq_level),
};
static int uart_check(const void *dev, const uint8_t *in)
{
    LOADED(struct uart, u, dev_uart_state);
    return u.rx_head >= 0 && u.rx_head < (int)sizeof u.rx && u.rx_count >= 0 &&
           u.rx_count <= (int)sizeof u.rx ? 0 : -1;
}
const struct dev_desc dev_uart_state = { "UART", 1, uart_f, sizeof uart_f / sizeof uart_f[0],
                                         0, NULL, uart_check, NULL };

static const struct dev_field pic_f[] = { F(struct pic, chip), F(struct pic, intr_level) };
DESC(dev_pic_state, "PIC ", 1, pic_f);

/* Channel times are on the VM's guest clock, which a restore continues. */
static const struct dev_field pit_f[] = {
    F(struct pit, ch), F(struct pit, port61), F(struct pit, refresh),
};
DESC(dev_pit_state, "PIT ", 1, pit_f);

static const struct dev_field rtc_f[] = {
    F(struct rtc, cmos), F(struct rtc, index), F(struct rtc, offset_s), F(struct rtc, set_time),
    F(struct rtc, set_century), F(struct rtc, checked_ns), F(struct rtc, irq_level),
};
DESC(dev_rtc_state, "RTC ", 1, rtc_f);

static const struct dev_field ps2_f[] = {
    F(struct ps2, ram), F(struct ps2, out), F(struct ps2, out_flags), F(struct ps2, out_head),
    F(struct ps2, out_count), F(struct ps2, last_out), F(struct ps2, scancode_set),
    F(struct ps2, status), F(struct ps2, outport), F(struct ps2, pending),
    F(struct ps2, kbd_pending), F(struct ps2, irq1_level), F(struct ps2, irq12_level),
};
static int ps2_check(const void *dev, const uint8_t *in)
{
    LOADED(struct ps2, k, dev_ps2_state);
    return k.out_head >= 0 && k.out_head < (int)sizeof k.out && k.out_count >= 0 &&
           k.out_count <= (int)sizeof k.out ? 0 : -1;
}
const struct dev_desc dev_ps2_state = { "PS2 ", 1, ps2_f, sizeof ps2_f / sizeof ps2_f[0],
                                        0, NULL, ps2_check, NULL };

static const struct dev_field misc_f[] = { F(struct misc_ports, post_code), F(struct misc_ports, port92) };
DESC(dev_misc_state, "MISC", 1, misc_f);

/* The channels' registers and the PIO transfer in progress (its buffer
 * included); of the drives what the guest set (geometry, multiple mode,
 * status, features). What the disk is stays the running machine's. */
#define IDE_DRIVE_F(c, d)                                                               \
    F(struct ide, ch[c].drive[d].cur_heads), F(struct ide, ch[c].drive[d].cur_spt),     \
    F(struct ide, ch[c].drive[d].mult), F(struct ide, ch[c].drive[d].status),           \
    F(struct ide, ch[c].drive[d].error), F(struct ide, ch[c].drive[d].write_cache),     \
    F(struct ide, ch[c].drive[d].look_ahead)
#define IDE_CH_F(c)                                                                     \
    IDE_DRIVE_F(c, 0), IDE_DRIVE_F(c, 1),                                               \
    F(struct ide, ch[c].feature), F(struct ide, ch[c].nsector), F(struct ide, ch[c].sector), \
    F(struct ide, ch[c].lcyl), F(struct ide, ch[c].hcyl), F(struct ide, ch[c].select),  \
    F(struct ide, ch[c].control), F(struct ide, ch[c].cmd), F(struct ide, ch[c].writing), \
    F(struct ide, ch[c].remaining), F(struct ide, ch[c].block), F(struct ide, ch[c].lba), \
    F(struct ide, ch[c].buf_pos), F(struct ide, ch[c].buf_len), F(struct ide, ch[c].buf), \
    F(struct ide, ch[c].irq_pending), F(struct ide, ch[c].irq_level)
static const struct dev_field ide_f[] = { IDE_CH_F(0), IDE_CH_F(1) };

static int ide_check(const void *dev, const uint8_t *in)
{
    /* buf_pos <= buf_len <= sizeof buf: the PIO path indexes buf with them. */
    LOADED(struct ide, tmp, dev_ide_state);
    for (int c = 0; c < 2; c++)
        if (tmp.ch[c].buf_len > sizeof tmp.ch[c].buf || tmp.ch[c].buf_pos > tmp.ch[c].buf_len ||
            tmp.ch[c].block > IDE_MAX_MULT ||
            tmp.ch[c].drive[0].mult > IDE_MAX_MULT || tmp.ch[c].drive[1].mult > IDE_MAX_MULT)
            return -1;
    return 0;
}
const struct dev_desc dev_ide_state = { "IDE ", 1, ide_f, sizeof ide_f / sizeof ide_f[0],
                                        0, NULL, ide_check, NULL };

/* Of each function only its number and configuration bytes: the BAR
 * records, handlers and device pointers are the running machine's wiring
 * (host pointers must never come from a file); the BARs are decoded again
 * from the restored configuration bytes after loading. */
#define PCI_FN_F(i) F(struct pci_bus, fn[i].devfn), F(struct pci_bus, fn[i].cfg)
static const struct dev_field pci_f[] = { F(struct pci_bus, address), F(struct pci_bus, rcr),
                                          F(struct pci_bus, nfn),
                                          PCI_FN_F(0), PCI_FN_F(1), PCI_FN_F(2), PCI_FN_F(3),
                                          PCI_FN_F(4), PCI_FN_F(5), PCI_FN_F(6), PCI_FN_F(7) };
_Static_assert(PCI_MAX_FUNCTIONS == 8, "pci_f lists eight functions");
static void pci_remap(void *dev, const uint8_t *in)
{
    (void)in;
    pci_update_mappings(dev);
}
static int pci_check(const void *dev, const uint8_t *in)
{
    const struct pci_bus *live = dev;
    LOADED(struct pci_bus, p, dev_pci_state);
    if (p.nfn != live->nfn)
        return -1;      /* another set of PCI functions */
    for (int i = 0; i < p.nfn; i++)
        if (p.fn[i].devfn != live->fn[i].devfn)
            return -1;
    return 0;
}
const struct dev_desc dev_pci_state = { "PCI ", 2, pci_f, sizeof pci_f / sizeof pci_f[0],
                                        0, NULL, pci_check, pci_remap };

static const struct dev_field vga_f[] = { { 0, sizeof(struct vga) } };
DESC(dev_vga_state, "VGA ", 1, vga_f);

/* fw_cfg: the selected item is a pointer, kept as its index (-1: none). */
static const struct dev_field fw_cfg_f[] = { F(struct fw_cfg, offset), F(struct fw_cfg, dma_addr) };
static void fw_cfg_save(const void *dev, uint8_t *out)
{
    const struct fw_cfg *f = dev;
    int32_t i = f->cur ? (int32_t)(f->cur - f->items) : -1;
    memcpy(out, &i, 4);
}
static int fw_cfg_check(const void *dev, const uint8_t *in)
{
    const struct fw_cfg *f = dev;
    int32_t i;
    memcpy(&i, in + dev_state_len(&dev_fw_cfg_state) - 4, 4);
    return i >= -1 && i < f->nitems ? 0 : -1;
}
static void fw_cfg_load(void *dev, const uint8_t *in)
{
    struct fw_cfg *f = dev;
    int32_t i;
    memcpy(&i, in, 4);
    f->cur = i < 0 ? NULL : &f->items[i];
}
const struct dev_desc dev_fw_cfg_state = { "FWCF", 1, fw_cfg_f, sizeof fw_cfg_f / sizeof fw_cfg_f[0],
                                           4, fw_cfg_save, fw_cfg_check, fw_cfg_load };

static const struct dev_field lapic_f[] = {
    F(struct lapic, base_msr), F(struct lapic, id), F(struct lapic, tpr), F(struct lapic, ldr),
    F(struct lapic, dfr), F(struct lapic, svr), F(struct lapic, esr), F(struct lapic, esr_pending),
    F(struct lapic, icr_lo), F(struct lapic, icr_hi), F(struct lapic, irr), F(struct lapic, isr),
    F(struct lapic, tmr), F(struct lapic, lvt), F(struct lapic, tdcr), F(struct lapic, ticr),
    F(struct lapic, timer_start_ns), F(struct lapic, timer_seen), F(struct lapic, timer_backlog),
    F(struct lapic, backlog_ns), F(struct lapic, lint0), F(struct lapic, lint1),
    F(struct lapic, intr_level),
};
DESC(dev_lapic_state, "LAPC", 1, lapic_f);

static const struct dev_field ioapic_f[] = { F(struct ioapic, id), F(struct ioapic, regsel),
                                             F(struct ioapic, redir), F(struct ioapic, lines) };
DESC(dev_ioapic_state, "IOAP", 1, ioapic_f);

static const struct dev_field acpi_pm_f[] = { F(struct acpi_pm, sts), F(struct acpi_pm, en),
                                              F(struct acpi_pm, cnt), F(struct acpi_pm, tmr_epoch) };
DESC(dev_acpi_pm_state, "ACPI", 1, acpi_pm_f);

static const struct dev_field hpet_f[] = {
    F(struct hpet, config), F(struct hpet, isr), F(struct hpet, counter), F(struct hpet, enable_ns),
    F(struct hpet, checked), F(struct hpet, t), F(struct hpet, backlog_ns),
};
DESC(dev_hpet_state, "HPET", 1, hpet_f);

static const struct dev_field pc_testdev_f[] = { F(struct pc_testdev, data),
                                                 F(struct pc_testdev, flushes),
                                                 F(struct pc_testdev, mem) };
DESC(dev_pc_testdev_state, "TDEV", 1, pc_testdev_f);

size_t dev_state_len(const struct dev_desc *d)
{
    size_t n = d->extra;
    for (size_t i = 0; i < d->nfields; i++)
        n += d->fields[i].size;
    return n;
}

void dev_state_save(const struct dev_desc *d, const void *dev, uint8_t *out)
{
    for (size_t i = 0; i < d->nfields; i++) {
        memcpy(out, (const uint8_t *)dev + d->fields[i].off, d->fields[i].size);
        out += d->fields[i].size;
    }
    if (d->save_extra)
        d->save_extra(dev, out);
}

int dev_state_check(const struct dev_desc *d, const void *dev, const uint8_t *in)
{
    return d->check ? d->check(dev, in) : 0;
}

void dev_state_load(const struct dev_desc *d, void *dev, const uint8_t *in)
{
    for (size_t i = 0; i < d->nfields; i++) {
        memcpy((uint8_t *)dev + d->fields[i].off, in, d->fields[i].size);
        in += d->fields[i].size;
    }
    if (d->load_extra)
        d->load_extra(dev, in);
}
