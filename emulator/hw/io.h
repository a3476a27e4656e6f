/* io — the guest's I/O port space: devices register port ranges.
 * An access to a port nobody claims reads all-ones and drops writes, as on
 * an ISA bus with nothing decoding the address. */
#pragma once
#include <stdint.h>

typedef uint32_t (*io_read_fn)(void *dev, uint16_t port, int size);
typedef void (*io_write_fn)(void *dev, uint16_t port, int size, uint32_t val);

#define IO_MAX_RANGES 64

struct io_range {
    uint16_t base, count;
    void *dev;
    io_read_fn read;     /* NULL: reads all-ones */
    io_write_fn write;   /* NULL: writes dropped */
};

struct io_bus {
    struct io_range r[IO_MAX_RANGES];
    int n;
};

/* Returns 0, or -1 if the table is full or the range overlaps another. */
int io_register(struct io_bus *bus, uint16_t base, uint16_t count, void *dev,
                io_read_fn read, io_write_fn write);
/* size is 1, 2 or 4; the result is masked to size. */
uint32_t io_in(struct io_bus *bus, uint16_t port, int size);
void io_out(struct io_bus *bus, uint16_t port, int size, uint32_t val);
