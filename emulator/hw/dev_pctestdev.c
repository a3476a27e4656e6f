/* dev_pctestdev — QEMU's ISA test device "pc-testdev" (hw/misc/pc-testdev.c),
 * which test suites written for QEMU (kvm-unit-tests) talk to:
 *
 *   0xe0-0xe3   a 32-bit scratch register; any access size, at any byte
 *               offset, reads or writes those byte lanes
 *   0xe4-0xe7   "flush page": a 32-bit write names a guest physical page that
 *               QEMU mprotects away and back on the host. Nothing the guest
 *               can observe changes, so the write is accepted and dropped.
 *   0xe8-0xeb   the same scratch register (QEMU splits these into bytes)
 *   0x2000-0x2017  byte writes drive ISA interrupt line (port - 0x2000) to
 *               (value != 0); lines 16-23 exist only on an IOAPIC and are
 *               dropped here
 *   0xff000000  64 KiB of device memory (MMIO) that reads back what was
 *               written (pc_testdev_mem_read/write, registered by the VM)
 *
 * Ports the device does not answer read all-ones, like the rest of the bus. */
#include <string.h>

#include "emulator/hw/devices.h"

#define IRQ_LINES 24
#define PIC_LINES 16

static uint32_t lanes_mask(uint16_t port, int size, int *shift)
{
    *shift = (port & 3) * 8;
    return (size >= 4 ? ~0u : (1u << (8 * size)) - 1) << *shift;
}

static uint32_t scratch_read(void *dev, uint16_t port, int size)
{
    struct pc_testdev *t = dev;
    int shift;
    uint32_t mask = lanes_mask(port, size, &shift);
    return (t->data & mask) >> shift;
}

static void scratch_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pc_testdev *t = dev;
    int shift;
    uint32_t mask = lanes_mask(port, size, &shift);
    t->data = (t->data & ~mask) | ((val << shift) & mask);
}

static void flush_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pc_testdev *t = dev;
    if (size == 4)
        t->flushes++;
}

static void irq_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pc_testdev *t = dev;
    int line = port - PC_TESTDEV_IRQ_PORT;
    if (size == 1 && line < PIC_LINES && t->irq)
        t->irq(t->irq_opaque, line, val != 0);
}

int pc_testdev_init(struct pc_testdev *t, struct io_bus *bus, irq_fn irq, void *irq_opaque)
{
    memset(t, 0, sizeof *t);
    t->irq = irq;
    t->irq_opaque = irq_opaque;
    if (io_register(bus, 0xe0, 4, t, scratch_read, scratch_write) < 0 ||
        io_register(bus, 0xe4, 4, t, NULL, flush_write) < 0 ||
        io_register(bus, 0xe8, 4, t, scratch_read, scratch_write) < 0)
        return -1;
    return io_register(bus, PC_TESTDEV_IRQ_PORT, IRQ_LINES, t, NULL, irq_write);
}

uint32_t pc_testdev_mem_read(void *dev, uint32_t off, unsigned size)
{
    struct pc_testdev *t = dev;
    uint32_t v = 0;
    if (off < PC_TESTDEV_MEM_SIZE && size <= PC_TESTDEV_MEM_SIZE - off)
        memcpy(&v, t->mem + off, size);
    return v;
}

void pc_testdev_mem_write(void *dev, uint32_t off, unsigned size, uint32_t val)
{
    struct pc_testdev *t = dev;
    if (off < PC_TESTDEV_MEM_SIZE && size <= PC_TESTDEV_MEM_SIZE - off)
        memcpy(t->mem + off, &val, size);
}
