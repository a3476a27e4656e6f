/* pci_testdev.c — QEMU's pci-testdev (-device pci-testdev), found and used
 * the way kvm-unit-tests' pci-testdev test does: scan bus 0 through
 * configuration mechanism #1 for 1b36:0005, size its BARs (write
 * all-ones, read back), take the addresses firmware gave them, then run
 * every test of each BAR (select it at byte 0, read width, offset and
 * data, write data at offset N times, read count) and check the counts.
 * On the way: BARs moved by the guest decode at their new place and not
 * at the old one, and the command register's enables turn decoding off.
 *
 * -append exact: the counts must be exactly N (bt86 counts every write in
 * the device; QEMU may serve two tests per BAR with an ioeventfd and count
 * 0, which kvm-unit-tests accepts too; and where nothing decodes, reads
 * must be all-ones). -append absent: run without the device, which must
 * then not be on the bus. */
#include <stdbool.h>

#include "kernel.h"
#include "x86.h"

#define VENDOR_REDHAT 0x1b36
#define DEVICE_TEST   0x0005
#define NR_WRITES     16

enum { HDR_TEST = 0, HDR_WIDTH = 1, HDR_OFFSET = 4, HDR_DATA = 8, HDR_COUNT = 12, HDR_NAME = 16 };

static uint32_t cfg_addr(int dev, int reg) { return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg; }
static uint32_t cfg_read(int dev, int reg) { outl(0xCF8, cfg_addr(dev, reg)); return inl(0xCFC); }
static void cfg_write(int dev, int reg, uint32_t v) { outl(0xCF8, cfg_addr(dev, reg)); outl(0xCFC, v); }
static void cfg_write16(int dev, int reg, uint16_t v) { outl(0xCF8, cfg_addr(dev, reg)); outw(0xCFC, v); }

/* One BAR's accessors: memory through a pointer, I/O through ports. */
struct bar_ops {
    uint8_t (*readb)(uint32_t a);
    uint32_t (*readl)(uint32_t a);
    void (*writeb)(uint32_t a, uint8_t v);
    void (*writew)(uint32_t a, uint16_t v);
};

static uint8_t mem_readb(uint32_t a) { return *(volatile uint8_t *)a; }
static uint32_t mem_readl(uint32_t a) { return *(volatile uint32_t *)a; }
static void mem_writeb(uint32_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void mem_writew(uint32_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static uint8_t io_readb(uint32_t a) { return inb((uint16_t)a); }
static uint32_t io_readl(uint32_t a) { return inl((uint16_t)a); }
static void io_writeb(uint32_t a, uint8_t v) { outb((uint16_t)a, v); }
static void io_writew(uint32_t a, uint16_t v) { outw((uint16_t)a, v); }

static const struct bar_ops mem_ops = { mem_readb, mem_readl, mem_writeb, mem_writew };
static const struct bar_ops io_ops = { io_readb, io_readl, io_writeb, io_writew };

static bool exact;

/* What a read where nothing decodes gives: all-ones on bt86 (and a PC's
 * floating bus); QEMU answers 0, so elsewhere only "not the device". */
static void check_undecoded(uint32_t v, uint32_t device_value, int line)
{
    if (exact)
        CHECK_EQ_CTX(v, 0xFFFFFFFF, "line %d", line);
    else
        CHECK_EQ_CTX(v != device_value, 1, "line %d", line);
}
#define CHECK_UNDECODED(v, dv) check_undecoded(v, dv, __LINE__)

static int find_testdev(void)
{
    for (int dev = 0; dev < 32; dev++)
        if (cfg_read(dev, 0) == ((uint32_t)DEVICE_TEST << 16 | VENDOR_REDHAT))
            return dev;
    return -1;
}

/* The usual sizing: all-ones in, the size mask out, the old value back. */
static uint32_t bar_size(int dev, int bar)
{
    int reg = 0x10 + 4 * bar;
    uint32_t old = cfg_read(dev, reg);
    cfg_write(dev, reg, 0xFFFFFFFFu);
    uint32_t mask = cfg_read(dev, reg);
    cfg_write(dev, reg, old);
    CHECK_EQ(cfg_read(dev, reg), old);
    if (!mask)
        return 0;
    return ~(mask & ((mask & 1) ? 0xFFFFFFFCu : 0xFFFFFFF0u)) + 1;
}

static void read_name(const struct bar_ops *ops, uint32_t base, char *buf, int n)
{
    int i = 0;
    for (; i < n - 1; i++)
        if (!(buf[i] = (char)ops->readb(base + HDR_NAME + (uint32_t)i)))
            break;
    buf[i] = 0;
}

/* kvm-unit-tests' pci_testdev_one: false when test_nr is past the last. */
static bool run_one(const struct bar_ops *ops, uint32_t base, int test_nr, const char *expect)
{
    ops->writeb(base + HDR_TEST, (uint8_t)test_nr);
    uint32_t count = ops->readl(base + HDR_COUNT);
    if (count != 0)
        return false;
    uint8_t width = ops->readb(base + HDR_WIDTH);
    if (width != 1 && width != 2 && width != 4)
        return false;
    CHECK_EQ(width, 1);
    uint32_t off = ops->readl(base + HDR_OFFSET);
    uint32_t data = ops->readl(base + HDR_DATA);
    char name[40];
    read_name(ops, base, name, sizeof name);
    CHECK_EQ_CTX(strcmp(name, expect), 0, "test %d is '%s', expected '%s'", test_nr, name, expect);
    CHECK_EQ(ops->readb(base + HDR_TEST), test_nr + (ops == &io_ops ? 3 : 0));
    for (int i = 0; i < NR_WRITES; i++)
        ops->writeb(base + off, (uint8_t)data);
    count = ops->readl(base + HDR_COUNT);
    if (exact) {
        CHECK_EQ_CTX(count, NR_WRITES, "%s", name);
        /* other data: the datamatch tests ignore it, the wildcard test counts it */
        ops->writeb(base + off, (uint8_t)~data);
        bool wildcard = strstr(name, "wildcard") != NULL;
        CHECK_EQ_CTX(ops->readl(base + HDR_COUNT), NR_WRITES + (wildcard ? 1 : 0), "%s", name);
        /* a word write is two byte writes: only its low byte hits offset */
        ops->writew(base + off, (uint16_t)(0xFA00 | data));
        CHECK_EQ_CTX(ops->readl(base + HDR_COUNT), NR_WRITES + (wildcard ? 2 : 1), "%s", name);
    } else {
        CHECK_EQ_CTX(count == NR_WRITES || count == 0, 1, "%s: count %u", name, count);
    }
    return true;
}

static int run_all(const struct bar_ops *ops, uint32_t base, const char *const *names)
{
    int i = 0;
    while (run_one(ops, base, i, names[i < 3 ? i : 2]))
        i++;
    return i;
}

static const char *const mem_names[] = {
    "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd" };
static const char *const io_names[] = {
    "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd" };

void kmain(uint32_t magic, struct mb_info *mbi)
{
    const char *args = mb_args(mbi);
    exact = strstr(args, "exact") != NULL;
    int dev = find_testdev();

    if (strstr(args, "absent")) {
        CHECK_EQ(dev, -1);
        CHECK_UNDECODED(inl(0xC000), 0x12345678);         /* any value but all-ones here */
        CHECK_UNDECODED(*(volatile uint32_t *)0xfebff000u, 0x12345678);
        test_finish("pci_testdev absent");
    }
    CHECK(dev > 0);
    if (dev < 0)
        test_finish("pci_testdev");
    kprintf("pci-testdev at 00:%02x.0\n", dev);
    CHECK_EQ(cfg_read(dev, 0x08) >> 8, 0x00FF00);          /* class 00h, subclass FFh */
    CHECK_EQ(cfg_read(dev, 0x0C) >> 16 & 0x7F, 0);         /* header type 0 */
    CHECK_EQ(cfg_read(dev, 0x04) & 3, 3);                  /* firmware enabled I/O and memory */

    /* BAR 0 memory, BAR 1 I/O, nothing else */
    uint32_t bar0 = cfg_read(dev, 0x10), bar1 = cfg_read(dev, 0x14);
    CHECK_EQ(bar0 & 1, 0);
    CHECK_EQ(bar1 & 1, 1);
    CHECK_EQ(bar_size(dev, 0), 4096);
    CHECK_EQ(bar_size(dev, 1), 256);
    for (int b = 2; b < 6; b++)
        CHECK_EQ(bar_size(dev, b), 0);
    uint32_t mem = bar0 & ~0xFu, io = bar1 & ~3u;
    kprintf("BAR0 memory at 0x%x, BAR1 I/O at 0x%x\n", mem, io);
    CHECK(mem != 0 && io != 0);

    int n = run_all(&mem_ops, mem, mem_names);
    n += run_all(&io_ops, io, io_names);
    CHECK_EQ(n, 6);

    /* Move both BARs: the new places decode, the old ones are open bus. */
    uint32_t mem2 = mem - 0x10000, io2 = io + 0x100;
    cfg_write(dev, 0x10, mem2);
    cfg_write(dev, 0x14, io2);
    CHECK_EQ(cfg_read(dev, 0x10), mem2);
    CHECK_EQ(cfg_read(dev, 0x14), io2 | 1);
    mem_writeb(mem2 + HDR_TEST, 2);
    CHECK_EQ(mem_readl(mem2 + HDR_OFFSET), 2048 + 2);
    CHECK_UNDECODED(mem_readl(mem + HDR_OFFSET), 2048 + 2);
    io_writeb(io2 + HDR_TEST, 0);
    CHECK_EQ(io_readl(io2 + HDR_OFFSET), 128 + 3);
    CHECK_UNDECODED(io_readl(io + HDR_OFFSET), 128 + 3);
    CHECK_EQ(run_all(&mem_ops, mem2, mem_names) + run_all(&io_ops, io2, io_names), 6);

    /* Command bits: I/O decoding only, then memory decoding only; both
     * BARs show the one running test. */
    cfg_write16(dev, 0x04, 0x0001);
    io_writeb(io2 + HDR_TEST, 1);
    CHECK_EQ(io_readl(io2 + HDR_OFFSET), 128 + 4);
    CHECK_UNDECODED(mem_readl(mem2 + HDR_OFFSET), 128 + 4);
    cfg_write16(dev, 0x04, 0x0002);
    CHECK_EQ(mem_readl(mem2 + HDR_OFFSET), 128 + 4);
    CHECK_UNDECODED(io_readl(io2 + HDR_OFFSET), 128 + 4);
    mem_writeb(mem2 + HDR_TEST, 0);
    CHECK_EQ(mem_readl(mem2 + HDR_OFFSET), 2048);
    cfg_write16(dev, 0x04, 0x0003);
    CHECK_EQ(io_readl(io2 + HDR_OFFSET), 2048);

    /* back where firmware put them */
    cfg_write(dev, 0x10, mem);
    cfg_write(dev, 0x14, io);
    CHECK_EQ(run_all(&mem_ops, mem, mem_names) + run_all(&io_ops, io, io_names), 6);
    test_finish("pci_testdev");
}
