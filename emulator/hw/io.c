/* io — the guest's I/O port space.
 *
 * A flat table of claimed ranges, searched linearly: a PC has a few dozen
 * ranges and port I/O already costs a callout, so a scan of at most
 * IO_MAX_RANGES entries is noise next to it.
 *
 * A 2- or 4-byte access is decoded on its first port and handed to the
 * device owning that port as one access of that size; the device decides what
 * the wider access means (the UART, like most ISA parts, only looks at the
 * low byte). Nothing decodes an unclaimed port, so the data lines float high:
 * reads are all-ones and writes vanish. */
#include "emulator/hw/io.h"

#include <stddef.h>

static uint32_t size_mask(int size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static const struct io_range *io_find(const struct io_bus *bus, uint16_t port)
{
    for (int i = 0; i < bus->n; i++) {
        const struct io_range *r = &bus->r[i];
        if (port >= r->base && (uint32_t)port < (uint32_t)r->base + r->count)
            return r;
    }
    return NULL;
}

int io_register(struct io_bus *bus, uint16_t base, uint16_t count, void *dev,
                io_read_fn read, io_write_fn write)
{
    uint32_t end = (uint32_t)base + count;
    if (count == 0 || end > 0x10000 || bus->n >= IO_MAX_RANGES)
        return -1;
    for (int i = 0; i < bus->n; i++) {
        const struct io_range *r = &bus->r[i];
        if (base < (uint32_t)r->base + r->count && r->base < end)
            return -1;
    }
    bus->r[bus->n++] = (struct io_range){
        .base = base, .count = count, .dev = dev, .read = read, .write = write,
    };
    return 0;
}

int io_unregister(struct io_bus *bus, uint16_t base)
{
    for (int i = 0; i < bus->n; i++)
        if (bus->r[i].base == base) {
            bus->r[i] = bus->r[--bus->n];
            return 0;
        }
    return -1;
}

uint32_t io_in(struct io_bus *bus, uint16_t port, int size)
{
    const struct io_range *r = io_find(bus, port);
    if (!r || !r->read)
        return size_mask(size);
    return r->read(r->dev, port, size) & size_mask(size);
}

void io_out(struct io_bus *bus, uint16_t port, int size, uint32_t val)
{
    const struct io_range *r = io_find(bus, port);
    if (r && r->write)
        r->write(r->dev, port, size, val & size_mask(size));
}

int io_set_block(struct io_bus *bus, uint16_t port, io_in_block_fn in, io_out_block_fn out)
{
    struct io_range *r = (struct io_range *)io_find(bus, port);
    if (!r)
        return -1;
    r->in_block = in;
    r->out_block = out;
    return 0;
}

size_t io_in_block(struct io_bus *bus, uint16_t port, int size, void *buf, size_t count)
{
    const struct io_range *r = io_find(bus, port);
    return r && r->in_block ? r->in_block(r->dev, port, size, buf, count) : 0;
}

size_t io_out_block(struct io_bus *bus, uint16_t port, int size, const void *buf, size_t count)
{
    const struct io_range *r = io_find(bus, port);
    return r && r->out_block ? r->out_block(r->dev, port, size, buf, count) : 0;
}
