/* dev_debugcon — the Bochs/QEMU debug console ("port 0xE9 hack").
 *
 * A write sends its low byte to out_fd; a read returns 0xE9, which is how
 * guests detect that the console is present (QEMU's debugcon readback). */
#include "emulator/hw/devices.h"

#include <errno.h>
#include <unistd.h>

#define DEBUGCON_READBACK 0xE9

static uint32_t debugcon_read(void *dev, uint16_t port, int size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct debugcon *d = dev;
    uint8_t ch = (uint8_t)val;
    if (d->out_fd < 0)
        return;
    ssize_t n;
    do
        n = write(d->out_fd, &ch, 1);
    while (n < 0 && errno == EINTR);
}

int debugcon_init(struct debugcon *d, struct io_bus *bus, uint16_t port, int out_fd)
{
    *d = (struct debugcon){ .out_fd = out_fd };
    return io_register(bus, port, 1, d, debugcon_read, debugcon_write);
}
