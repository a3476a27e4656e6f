/* io — the guest's I/O port space: devices register port ranges.
 * An access to a port nobody claims reads all-ones and drops writes, as on
 * an ISA bus with nothing decoding the address. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef uint32_t (*io_read_fn)(void *dev, uint16_t port, int size);
typedef void (*io_write_fn)(void *dev, uint16_t port, int size, uint32_t val);
/* String I/O (REP INS/OUTS) in bulk: move up to count elements of size
 * bytes between the port and buf, return how many were moved; the caller
 * does the rest one access at a time. For data ports that stream a buffer. */
typedef size_t (*io_in_block_fn)(void *dev, uint16_t port, int size, void *buf, size_t count);
typedef size_t (*io_out_block_fn)(void *dev, uint16_t port, int size, const void *buf,
                                  size_t count);

#define IO_MAX_RANGES 64

struct io_range {
    uint16_t base, count;
    void *dev;
    io_read_fn read;     /* NULL: reads all-ones */
    io_write_fn write;   /* NULL: writes dropped */
    io_in_block_fn in_block;     /* NULL: none (io_set_block) */
    io_out_block_fn out_block;
};

struct io_bus {
    struct io_range r[IO_MAX_RANGES];
    int n;
};

/* Returns 0, or -1 if the table is full or the range overlaps another. */
int io_register(struct io_bus *bus, uint16_t base, uint16_t count, void *dev,
                io_read_fn read, io_write_fn write);
/* Remove the range that starts at base (a PCI BAR moving); -1 if none. */
int io_unregister(struct io_bus *bus, uint16_t base);
/* size is 1, 2 or 4; the result is masked to size. */
uint32_t io_in(struct io_bus *bus, uint16_t port, int size);
void io_out(struct io_bus *bus, uint16_t port, int size, uint32_t val);

/* Give the range holding port bulk string-I/O functions; -1 if unclaimed. */
int io_set_block(struct io_bus *bus, uint16_t port, io_in_block_fn in, io_out_block_fn out);
/* Elements moved in bulk (0: the port has no bulk path; use io_in/io_out). */
size_t io_in_block(struct io_bus *bus, uint16_t port, int size, void *buf, size_t count);
size_t io_out_block(struct io_bus *bus, uint16_t port, int size, const void *buf, size_t count);
