/* mmio — device memory (DESIGN §4, §6): guest physical ranges that belong
 * to a device. The shadow MMU never maps a frame that is not RAM, so a
 * guest access there faults and is emulated (memfault.c, memop.c), and the
 * monitor's own accesses land here too (guestmem.c). The LAPIC and IOAPIC
 * register here. */
#include <stdio.h>
#include <string.h>

#include "emulator/paging.h"

int vm_mmio_register(struct vm *vm, uint32_t gpa, uint32_t size, const struct vm_mmio_ops *ops,
                     void *opaque, char *err, size_t errlen)
{
    uint64_t end = (uint64_t)gpa + size;

    if (size == 0 || end > (1ull << 32) || !ops || !ops->read || !ops->write) {
        snprintf(err, errlen, "device range 0x%x+0x%x is empty, passes 4 GiB or has no handlers",
                 gpa, size);
        return -1;
    }
    for (uint64_t a = gpa & ~4095u; a < end; a += 4096)
        if (ram_region_of(&vm->ram, (uint32_t)a)) {
            snprintf(err, errlen, "device range 0x%x+0x%x overlaps RAM", gpa, size);
            return -1;
        }
    for (int i = 0; i < vm->nmmio; i++)
        if (gpa < (uint64_t)vm->mmio[i].gpa + vm->mmio[i].size && vm->mmio[i].gpa < end) {
            snprintf(err, errlen, "device range 0x%x+0x%x overlaps another device", gpa, size);
            return -1;
        }
    if (vm->nmmio == MMIO_MAX) {
        snprintf(err, errlen, "too many device ranges");
        return -1;
    }
    vm->mmio[vm->nmmio++] = (struct mmio_region){ gpa, size, ops, opaque };
    return 0;
}

int vm_mmio_unregister(struct vm *vm, uint32_t gpa)
{
    for (int i = 0; i < vm->nmmio; i++)
        if (vm->mmio[i].gpa == gpa) {
            vm->mmio[i] = vm->mmio[--vm->nmmio];
            return 0;
        }
    return -1;
}

/* Physical addresses that are neither RAM nor a device: an ISA/PCI bus with
 * nobody decoding the address floats high, so reads return all-ones and
 * writes are lost (what a PC and QEMU do), rather than stopping the run. */
static uint32_t open_bus_read(void *opaque, uint32_t off, unsigned size)
{
    return size >= 4 ? ~0u : (1u << (8 * size)) - 1;
}

static void open_bus_write(void *opaque, uint32_t off, unsigned size, uint32_t val) {}

static const struct vm_mmio_ops open_bus_ops = { open_bus_read, open_bus_write };
static const struct mmio_region open_bus = { 0, 0, &open_bus_ops, NULL };

const struct mmio_region *mmio_find(const struct vm *vm, uint32_t gpa)
{
    for (int i = 0; i < vm->nmmio; i++)
        if (gpa - vm->mmio[i].gpa < vm->mmio[i].size)
            return &vm->mmio[i];
    return &open_bus;
}

bool mmio_is_open_bus(const struct vm *vm, uint32_t gpa)
{
    return mmio_find(vm, gpa) == &open_bus;
}

/* The widest aligned access that fits: devices see 1, 2 or 4 bytes. */
static unsigned chunk(uint32_t gpa, size_t n)
{
    if (n >= 4 && !(gpa & 3))
        return 4;
    if (n >= 2 && !(gpa & 1))
        return 2;
    return 1;
}

/* Bytes outside the device (an access straddling its end) read as ones
 * and are dropped on writes, as on an ISA bus. */
void mmio_read(const struct mmio_region *d, uint32_t gpa, void *dst, size_t n)
{
    uint8_t *p = dst;

    while (n) {
        unsigned k = chunk(gpa, n);
        uint32_t v = 0xffffffffu;
        if (gpa - d->gpa < d->size && gpa - d->gpa + k <= d->size)
            v = d->ops->read(d->opaque, gpa - d->gpa, k);
        else
            k = 1;
        memcpy(p, &v, k);
        p += k;
        gpa += k;
        n -= k;
    }
}

void mmio_write(const struct mmio_region *d, uint32_t gpa, const void *src, size_t n)
{
    const uint8_t *p = src;

    while (n) {
        unsigned k = chunk(gpa, n);
        uint32_t v = 0;
        if (gpa - d->gpa < d->size && gpa - d->gpa + k <= d->size) {
            memcpy(&v, p, k);
            d->ops->write(d->opaque, gpa - d->gpa, k, v);
        } else {
            k = 1;
        }
        p += k;
        gpa += k;
        n -= k;
    }
}
