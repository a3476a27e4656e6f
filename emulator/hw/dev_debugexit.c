/* dev_debugexit — QEMU's isa-debug-exit.
 *
 * Any write to the device's ports, of any size, ends the VM with status
 * (value << 1) | 1, so a guest can report success or failure while status 0
 * stays free for the monitor. Like QEMU, the port offset is not decoded and
 * reads return 0. */
#include "emulator/hw/devices.h"

static uint32_t debug_exit_read(void *dev, uint16_t port, int size)
{
    return 0;
}

static void debug_exit_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct debug_exit *d = dev;
    if (d->on_exit)
        d->on_exit(d->opaque, (int)((val << 1) | 1));
}

int debug_exit_init(struct debug_exit *d, struct io_bus *bus, uint16_t base, uint16_t size,
                    void (*on_exit)(void *opaque, int status), void *opaque)
{
    *d = (struct debug_exit){ .on_exit = on_exit, .opaque = opaque };
    return io_register(bus, base, size, d, debug_exit_read, debug_exit_write);
}
