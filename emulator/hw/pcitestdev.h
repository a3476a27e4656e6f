/* pcitestdev — QEMU's "pci-testdev" (docs/specs/pci-testdev.rst in QEMU):
 * PCI 1b36:0005 with a 4 KiB memory BAR 0 and a 256-byte I/O BAR 1. Each
 * BAR starts with the header of the selected test (test, width, offset,
 * data, count, name); the guest starts a test by writing its number to
 * byte 0 of a BAR, then writes `data` at `offset` and reads `count` back.
 * Placed where SeaBIOS puts it on QEMU's pc: 00:02.0, BAR 0 at 0xfebff000,
 * BAR 1 at port 0xc000, I/O and memory decoding on. */
#pragma once
#include <stdint.h>

#include "emulator/hw/pci.h"

#define PCI_TESTDEV_DEVFN    (2 << 3)
#define PCI_TESTDEV_MEM_BASE 0xfebff000u
#define PCI_TESTDEV_IO_BASE  0xc000u

#define PCI_TESTDEV_TESTS 6         /* 3 on the memory BAR, 3 on the I/O BAR */

struct pci_testdev {
    int current;                    /* the running test, or -1 */
    uint32_t count[PCI_TESTDEV_TESTS];
};

/* Adds the function to bus 0 (mapped by the bus's mapper); -1 if its slot
 * is taken. */
int pci_testdev_init(struct pci_testdev *t, struct pci_bus *bus);
