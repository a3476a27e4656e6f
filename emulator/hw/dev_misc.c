/* dev_misc — two small PC ports.
 *
 * 0x80: the POST diagnostic port. Kernels write to it as a short delay
 * (Linux's outb_p); the last value is kept for debugging, reads give 0xFF
 * as on QEMU.
 *
 * 0x92: system control port A ("fast A20"). Bit 1 is the A20 gate, kept
 * (guest memory never wraps at 1 MiB); bit 0 going 0→1 resets the
 * machine, as QEMU does. */
#include "emulator/hw/devices.h"

#define P92_RESET 0x01
#define P92_A20   0x02

static uint32_t post_read(void *dev, uint16_t port, int size)
{
    return 0xFFFFFFFF;
}

static void post_write(void *dev, uint16_t port, int size, uint32_t val)
{
    ((struct misc_ports *)dev)->post_code = (uint8_t)val;
}

static uint32_t port92_read(void *dev, uint16_t port, int size)
{
    return ((struct misc_ports *)dev)->port92;
}

static void port92_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct misc_ports *m = dev;
    uint8_t old = m->port92;
    m->port92 = (uint8_t)val;
    if ((val & P92_RESET) && !(old & P92_RESET) && m->on_reset)
        m->on_reset(m->reset_opaque);
}

int misc_init(struct misc_ports *m, struct io_bus *bus, void (*on_reset)(void *opaque),
              void *reset_opaque)
{
    *m = (struct misc_ports){
        .port92 = P92_A20, .on_reset = on_reset, .reset_opaque = reset_opaque,
    };
    if (io_register(bus, 0x80, 1, m, post_read, post_write) < 0)
        return -1;
    return io_register(bus, 0x92, 1, m, port92_read, port92_write);
}
