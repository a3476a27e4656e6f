/* pci_bars — where the PCI bus's decoded BARs land: an I/O BAR becomes a
 * range on the I/O-port bus, a memory BAR a device-memory range
 * (mmio.c), each handled by the bus's per-BAR handlers (hw/dev_pci.c).
 * A BAR the guest moves onto RAM or onto another device's range is left
 * undecoded, as a PC's chipset gives RAM and the first claimant priority.
 * Also the -device pci-testdev wiring. */
#include <stdio.h>
#include <stdlib.h>

#include "emulator/hw/pcitestdev.h"
#include "emulator/paging.h"

static int map_bar(void *opaque, struct pci_bar *b, bool map)
{
    static const struct vm_mmio_ops ops = { pci_bar_mem_read, pci_bar_mem_write };
    struct vm *vm = opaque;
    char err[160];

    if (b->io)
        return map ? io_register(&vm->io, (uint16_t)b->addr, (uint16_t)b->size, b,
                                 pci_bar_io_read, pci_bar_io_write)
                   : io_unregister(&vm->io, (uint16_t)b->addr);
    return map ? vm_mmio_register(vm, b->addr, b->size, &ops, b, err, sizeof err)
               : vm_mmio_unregister(vm, b->addr);
}

int pci_bars_init(struct vm *vm, char *err, size_t errlen)
{
    pci_set_mapper(&vm->pci, map_bar, vm);
    if (!vm->cfg.pci_testdev)
        return 0;
    vm->pci_testdev = calloc(1, sizeof *vm->pci_testdev);
    if (!vm->pci_testdev || pci_testdev_init(vm->pci_testdev, &vm->pci) < 0) {
        snprintf(err, errlen, "cannot attach pci-testdev");
        return -1;
    }
    return 0;
}
