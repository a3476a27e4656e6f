/* pci — PCI configuration mechanism #1 (0xCF8/0xCFC) with bus 0 of QEMU's
 * `pc` machine: the i440FX host bridge (00:00.0), the PIIX3 ISA bridge
 * (00:01.0) and the PIIX3 IDE function in legacy mode (00:01.1). Devices
 * are configuration space only: nothing here decodes BARs. Port 0xCF9 is
 * the PIIX3 reset control register. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/hw/io.h"

#define PCI_MAX_FUNCTIONS 8

/* What a function looks like at power-on. bar_size[i] = 0: BAR i does
 * not exist (reads 0, ignores writes); else a power of two, I/O space if
 * bar_io[i]. */
struct pci_function_info {
    uint8_t devfn;                  /* device << 3 | function, on bus 0 */
    uint16_t vendor, device;
    uint8_t revision, prog_if, subclass, class_code;
    uint8_t header_type;            /* bit 7: multi-function device */
    uint16_t command;               /* as firmware leaves it */
    uint32_t bar_size[6];
    bool bar_io[6];
};

struct pci_function {
    uint8_t devfn;
    uint8_t cfg[256];
    uint8_t wmask[256];             /* bits the guest may change */
};

struct pci_bus {
    uint32_t address;               /* CONFIG_ADDRESS */
    uint8_t rcr;                    /* reset control register, 0xCF9 */
    struct pci_function fn[PCI_MAX_FUNCTIONS];
    int nfn;
    void (*on_reset)(void *opaque); void *reset_opaque;
};

/* Registers the ports and QEMU pc's functions. */
int pci_init(struct pci_bus *p, struct io_bus *io, void (*on_reset)(void *opaque),
             void *reset_opaque);
/* Another function (tests, later devices); NULL if the bus is full or the
 * slot taken. */
struct pci_function *pci_add_function(struct pci_bus *p, const struct pci_function_info *info);
