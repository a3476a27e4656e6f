/* dev_state — each device's guest-visible state as bytes, for snapshots
 * (emulator/snapshot_state.c puts them in a stream). A device's state is
 * the list of its fields (offset, size) that hold state, in a fixed order;
 * function pointers, fds and wiring stay as the running machine set them
 * up. Change a device's fields: change its list and bump its version. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct dev_field { uint32_t off, size; };

struct dev_desc {
    const char *name;               /* four characters: the section id */
    uint32_t version;
    const struct dev_field *fields;
    size_t nfields;
    /* State that is not a plain field (a pointer kept as an index): extra
     * bytes after the fields. */
    size_t extra;
    void (*save_extra)(const void *dev, uint8_t *out);
    /* 0, or -1 if the state bytes (all of them) are not valid for this
     * device: indexes out of range, another set of PCI functions. NULL: any. */
    int (*check)(const void *dev, const uint8_t *in);
    void (*load_extra)(void *dev, const uint8_t *in);
};

extern const struct dev_desc dev_uart_state, dev_pic_state, dev_pit_state, dev_rtc_state,
    dev_ps2_state, dev_misc_state, dev_ide_state, dev_pci_state, dev_vga_state,
    dev_fw_cfg_state, dev_lapic_state, dev_ioapic_state, dev_acpi_pm_state, dev_hpet_state,
    dev_pc_testdev_state;

size_t dev_state_len(const struct dev_desc *d);
void dev_state_save(const struct dev_desc *d, const void *dev, uint8_t *out);
/* in holds dev_state_len bytes: 0 if they fit the device, else -1. */
int dev_state_check(const struct dev_desc *d, const void *dev, const uint8_t *in);
void dev_state_load(const struct dev_desc *d, void *dev, const uint8_t *in);
