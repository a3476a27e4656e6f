/* dev_pcitestdev — QEMU's pci-testdev (hw/misc/pci-testdev.c), which
 * kvm-unit-tests' pci-testdev test drives: through either BAR, select a
 * test by writing its number (0-2) to byte 0, read the header
 *
 *   0  test    the test's number (6 tests: 0-2 memory, 3-5 I/O)
 *   1  width   1: the test writes bytes
 *   4  offset  where in this BAR to write (memory 2048 + n, I/O 128 + n)
 *   8  data    what to write (0xFA, or 0xCE for the "wildcard" test)
 *   12 count   writes seen since the test started
 *   16 name    e.g. "mmio-no-eventfd", NUL-terminated
 *
 * then write data at offset and read count back. In QEMU two of the three
 * tests of each BAR can be served by an ioeventfd (the "datamatch" test
 * counts only byte writes of data, the "wildcard" test any write); here
 * every test counts in the device, as QEMU does without KVM.
 *
 * As QEMU's device takes byte accesses only (its memory core splits wider
 * ones), a wider access here is handled byte by byte: a read gathers the
 * header's bytes, a write is one byte write per lane. Reads without a
 * running test, and past the name, are 0. */
#include "emulator/hw/pcitestdev.h"

#include <string.h>

enum { HDR_TEST = 0, HDR_WIDTH = 1, HDR_OFFSET = 4, HDR_DATA = 8, HDR_COUNT = 12, HDR_NAME = 16 };

#define TESTS_PER_BAR 3
#define DATA_MATCH    0xFA
#define DATA_NOMATCH  0xCE

static const char *const test_names[PCI_TESTDEV_TESTS] = {
    "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
    "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
};

static bool is_wildcard(int t) { return t % TESTS_PER_BAR == 1; }

/* The BAR's size (2 x QEMU's IOTEST_MEMSIZE / IOTEST_IOSIZE); a test's
 * offset is half of it plus its number. */
static uint32_t test_offset(int t)
{
    return (t < TESTS_PER_BAR ? 2048u : 128u) + (uint32_t)t;
}

static uint8_t header_byte(const struct pci_testdev *d, uint32_t addr)
{
    if (d->current < 0)
        return 0;
    int t = d->current;
    const char *name = test_names[t];
    uint32_t bufsize = HDR_NAME + (uint32_t)strlen(name) + 1;
    uint32_t v;

    if (addr + 1 >= bufsize)
        return 0;
    if (addr >= HDR_NAME)
        return (uint8_t)name[addr - HDR_NAME];
    switch (addr & ~3u) {
    case HDR_TEST:
        return addr == HDR_TEST ? (uint8_t)t : addr == HDR_WIDTH ? 1 : 0;
    case HDR_OFFSET: v = test_offset(t); break;
    case HDR_DATA: v = is_wildcard(t) ? DATA_NOMATCH : DATA_MATCH; break;
    default: v = d->count[t]; break;
    }
    return (uint8_t)(v >> 8 * (addr & 3));
}

static void byte_write(struct pci_testdev *d, int bar, uint32_t addr, uint8_t val)
{
    if (addr == HDR_TEST) {
        d->current = -1;
        if (val >= TESTS_PER_BAR)
            return;
        d->current = bar * TESTS_PER_BAR + val;
        d->count[d->current] = 0;
        return;
    }
    if (d->current < 0 || addr != test_offset(d->current))
        return;
    if (!is_wildcard(d->current) && val != DATA_MATCH)
        return;
    d->count[d->current]++;
}

static uint32_t bar_read(void *dev, int bar, uint32_t off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)header_byte(dev, off + i) << 8 * i;
    return v;
}

static void bar_write(void *dev, int bar, uint32_t off, unsigned size, uint32_t val)
{
    for (unsigned i = 0; i < size; i++)
        byte_write(dev, bar, off + i, (uint8_t)(val >> 8 * i));
}

int pci_testdev_init(struct pci_testdev *t, struct pci_bus *bus)
{
    const struct pci_function_info info = {
        .devfn = PCI_TESTDEV_DEVFN, .vendor = 0x1b36, .device = 0x0005,
        .subclass = 0xFF, .class_code = 0x00,       /* QEMU's PCI_CLASS_OTHERS, 0x00ff */
        .command = 0x0003,                          /* I/O and memory, as SeaBIOS */
        .bar_size = { 4096, 256 }, .bar_io = { false, true },
        .bar_addr = { PCI_TESTDEV_MEM_BASE, PCI_TESTDEV_IO_BASE },
        .bar_read = bar_read, .bar_write = bar_write, .dev = t,
    };
    *t = (struct pci_testdev){ .current = -1 };
    return pci_add_function(bus, &info) ? 0 : -1;
}
