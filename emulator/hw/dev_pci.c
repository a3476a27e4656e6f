/* dev_pci — PCI configuration mechanism #1 and bus 0 of QEMU's `pc`.
 *
 * PCI Local Bus spec 3.0 §3.2.2.3.2: a 32-bit write to 0xCF8 sets
 * CONFIG_ADDRESS (bit 31 enable, bus 23-16, device 15-11, function 10-8,
 * register 7-2), which reads back with the reserved bits 30-24 and 1-0
 * zero; accesses of 1, 2 or 4 bytes to 0xCFC-0xCFF then reach the
 * register's bytes (0xCFC + n is byte n of the dword). Byte and word
 * accesses to 0xCF8 are not CONFIG_ADDRESS (that keeps mechanism #2 probes
 * harmless). With the enable bit clear, on another bus, or at a
 * device/function nobody implements, reads return all-ones (a master
 * abort), which is how a scan finds vendor ID 0xFFFF, and writes vanish.
 *
 * Every function's header follows §6.1 (type 00h): vendor/device IDs,
 * command (the bits QEMU lets a guest set), class code, header type, and
 * BARs whose writable bits are the size mask, so the usual sizing (write
 * all-ones, read back, invert) works for the BARs a function has and
 * reads 0 for those it does not. A function with BAR handlers decodes its
 * BARs as QEMU's pci_bar_address does: an I/O BAR while command bit 0 is
 * set, a memory BAR while bit 1 is, never at address 0 or where the range
 * would wrap (a BAR holding all-ones during sizing decodes nothing), and
 * I/O only inside the 64 KiB port space. As in QEMU, the device-specific area
 * 40h-FFh is plain read/write storage, with the PIIX registers that
 * drivers check set as firmware leaves them.
 *
 * 0xCF9 is the PIIX3's reset control register (82371SB datasheet §4.1.4):
 * bit 1 selects a hard reset, setting bit 2 resets the system. */
#include "emulator/bytes.h"
#include "emulator/hw/pci.h"

#include <string.h>

#define ADDR_ENABLE   0x80000000u
#define ADDR_MASK     0x80FFFFFCu
#define RCR_SYS_RESET 0x02
#define RCR_RESET_CPU 0x04

enum {
    CFG_VENDOR = 0x00, CFG_DEVICE = 0x02, CFG_COMMAND = 0x04, CFG_STATUS = 0x06,
    CFG_REVISION = 0x08, CFG_PROG_IF = 0x09, CFG_SUBCLASS = 0x0A, CFG_CLASS = 0x0B,
    CFG_CACHE_LINE = 0x0C, CFG_HEADER_TYPE = 0x0E, CFG_BAR0 = 0x10,
    CFG_SUBSYS_VENDOR = 0x2C, CFG_SUBSYS_ID = 0x2E, CFG_INT_LINE = 0x3C,
};

/* Command bits a guest may set (QEMU's pci_init_wmask): I/O, memory, bus
 * master, parity and SERR response, INTx disable. */
#define COMMAND_WMASK 0x0547

/* QEMU's subsystem IDs on every emulated PCI device (Red Hat, QEMU). */
#define SUBSYS_VENDOR 0x1AF4
#define SUBSYS_ID     0x1100

/* Where BAR b decodes now, or 0 for nowhere (QEMU's PCI_BAR_UNMAPPED). */
static uint32_t bar_address(const struct pci_function *f, const struct pci_bar *b)
{
    uint16_t cmd = (uint16_t)(f->cfg[CFG_COMMAND] | f->cfg[CFG_COMMAND + 1] << 8);
    uint32_t addr = rd32(f->cfg + CFG_BAR0 + 4 * b->index) & ~(b->size - 1) &
                    (b->io ? 0xFFFFFFFCu : 0xFFFFFFF0u);
    uint32_t last = addr + (b->size - 1);

    if (!(cmd & (b->io ? 0x1 : 0x2)) || addr == 0 || last <= addr || last == 0xFFFFFFFFu)
        return 0;
    if (b->io && last > 0xFFFF)
        return 0;
    return addr;
}

static void update_mappings(struct pci_bus *p, struct pci_function *f)
{
    if (!f->bar_read || !p->map)
        return;
    for (int i = 0; i < 6; i++) {
        struct pci_bar *b = &f->bar[i];
        if (!b->size)
            continue;
        uint32_t addr = bar_address(f, b);
        if (b->mapped && addr != b->addr) {
            p->map(p->map_opaque, b, false);
            b->mapped = false;
        }
        if (!b->mapped && addr) {
            b->addr = addr;
            b->mapped = p->map(p->map_opaque, b, true) == 0;
        }
    }
}

struct pci_function *pci_add_function(struct pci_bus *p, const struct pci_function_info *info)
{
    if (p->nfn >= PCI_MAX_FUNCTIONS)
        return NULL;
    for (int i = 0; i < p->nfn; i++)
        if (p->fn[i].devfn == info->devfn)
            return NULL;
    struct pci_function *f = &p->fn[p->nfn++];
    memset(f, 0, sizeof *f);
    f->devfn = info->devfn;
    wr16(f->cfg + CFG_VENDOR, info->vendor);
    wr16(f->cfg + CFG_DEVICE, info->device);
    wr16(f->cfg + CFG_COMMAND, info->command);
    f->cfg[CFG_REVISION] = info->revision;
    f->cfg[CFG_PROG_IF] = info->prog_if;
    f->cfg[CFG_SUBCLASS] = info->subclass;
    f->cfg[CFG_CLASS] = info->class_code;
    f->cfg[CFG_HEADER_TYPE] = info->header_type;
    wr16(f->cfg + CFG_SUBSYS_VENDOR, SUBSYS_VENDOR);
    wr16(f->cfg + CFG_SUBSYS_ID, SUBSYS_ID);
    wr16(f->wmask + CFG_COMMAND, COMMAND_WMASK);
    f->wmask[CFG_CACHE_LINE] = 0xFF;
    f->wmask[CFG_INT_LINE] = 0xFF;
    for (int i = 0; i < 6; i++) {
        uint32_t size = info->bar_size[i];
        if (!size)
            continue;
        /* §6.2.5.1: bit 0 says I/O; the address bits below the size are
         * hard-wired to zero, which is what sizing reads back. */
        uint32_t mask = ~(size - 1) & (info->bar_io[i] ? 0xFFFFFFFCu : 0xFFFFFFF0u);
        wr32(f->wmask + CFG_BAR0 + 4 * i, mask);
        wr32(f->cfg + CFG_BAR0 + 4 * i, (info->bar_addr[i] & mask) | (info->bar_io[i] ? 1 : 0));
        f->bar[i] = (struct pci_bar){ .fn = f, .index = i, .io = info->bar_io[i], .size = size };
    }
    memset(f->wmask + 0x40, 0xFF, 256 - 0x40);
    f->bar_read = info->bar_read;
    f->bar_write = info->bar_write;
    f->dev = info->dev;
    update_mappings(p, f);
    return f;
}

void pci_set_mapper(struct pci_bus *p, pci_bar_mapper map, void *opaque)
{
    p->map = map;
    p->map_opaque = opaque;
}

void pci_update_mappings(struct pci_bus *p)
{
    for (int i = 0; i < p->nfn; i++)
        update_mappings(p, &p->fn[i]);
}

uint32_t pci_bar_io_read(void *bar, uint16_t port, int size)
{
    struct pci_bar *b = bar;
    return b->fn->bar_read(b->fn->dev, b->index, port - b->addr, (unsigned)size);
}

void pci_bar_io_write(void *bar, uint16_t port, int size, uint32_t val)
{
    struct pci_bar *b = bar;
    b->fn->bar_write(b->fn->dev, b->index, port - b->addr, (unsigned)size, val);
}

uint32_t pci_bar_mem_read(void *bar, uint32_t off, unsigned size)
{
    struct pci_bar *b = bar;
    return b->fn->bar_read(b->fn->dev, b->index, off, size);
}

void pci_bar_mem_write(void *bar, uint32_t off, unsigned size, uint32_t val)
{
    struct pci_bar *b = bar;
    b->fn->bar_write(b->fn->dev, b->index, off, size, val);
}

static struct pci_function *find(struct pci_bus *p)
{
    if (!(p->address & ADDR_ENABLE) || (p->address >> 16 & 0xFF) != 0)
        return NULL;
    uint8_t devfn = (uint8_t)(p->address >> 8);
    for (int i = 0; i < p->nfn; i++)
        if (p->fn[i].devfn == devfn)
            return &p->fn[i];
    return NULL;
}

/* An access at 0xCFC + n covers bytes n .. n+size-1 of the dword; a wider
 * access running past 0xCFF is cut there, as the bus cannot carry it. */
static int span(uint16_t port, int size)
{
    int off = port & 3;
    return size > 4 - off ? 4 - off : size;
}

static uint32_t data_read(void *dev, uint16_t port, int size)
{
    struct pci_bus *p = dev;
    struct pci_function *f = find(p);
    uint32_t val = 0;
    if (!f)
        return 0xFFFFFFFF;
    unsigned reg = (p->address & 0xFC) + (port & 3u);
    for (int i = span(port, size) - 1; i >= 0; i--)
        val = val << 8 | f->cfg[reg + (unsigned)i];
    return val;
}

static void data_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pci_bus *p = dev;
    struct pci_function *f = find(p);
    if (!f)
        return;
    unsigned reg = (p->address & 0xFC) + (port & 3u);
    for (int i = 0; i < span(port, size); i++, val >>= 8) {
        uint8_t m = f->wmask[reg + (unsigned)i];
        f->cfg[reg + (unsigned)i] = (uint8_t)((f->cfg[reg + (unsigned)i] & ~m) | (val & m));
    }
    if (reg < CFG_BAR0 + 24 && reg + (unsigned)span(port, size) > CFG_COMMAND)
        update_mappings(p, f);
}

static uint32_t address_read(void *dev, uint16_t port, int size)
{
    struct pci_bus *p = dev;
    if (port == 0xCF8 && size == 4)
        return p->address;
    if (port == 0xCF9 && size == 1)
        return p->rcr;
    return 0xFFFFFFFF;
}

static void address_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pci_bus *p = dev;
    if (port == 0xCF8 && size == 4) {
        p->address = val & ADDR_MASK;
    } else if (port == 0xCF9 && size == 1) {
        p->rcr = (uint8_t)(val & RCR_SYS_RESET);
        if ((val & RCR_RESET_CPU) && p->on_reset)
            p->on_reset(p->reset_opaque);
    }
}

int pci_init(struct pci_bus *p, struct io_bus *io, void (*on_reset)(void *opaque),
             void *reset_opaque)
{
    /* QEMU pc: i440FX host bridge, PIIX3 PCI-to-ISA bridge (multi-function,
     * so scans look at its other functions), PIIX3 IDE in ISA-compatible
     * mode (prog-if 80h: legacy ports and IRQ 14/15, bus mastering capable
     * but no bus-master BAR here, so drivers fall back to PIO). */
    static const struct pci_function_info host = {
        .devfn = 0 << 3 | 0, .vendor = 0x8086, .device = 0x1237, .revision = 0x02,
        .subclass = 0x00, .class_code = 0x06, .command = 0x0006 };
    static const struct pci_function_info isa = {
        .devfn = 1 << 3 | 0, .vendor = 0x8086, .device = 0x7000, .subclass = 0x01,
        .class_code = 0x06, .header_type = 0x80, .command = 0x0007 };
    static const struct pci_function_info ide = {
        .devfn = 1 << 3 | 1, .vendor = 0x8086, .device = 0x7010, .prog_if = 0x80,
        .subclass = 0x01, .class_code = 0x01, .command = 0x0001 };
    struct pci_function *f;

    *p = (struct pci_bus){ .on_reset = on_reset, .reset_opaque = reset_opaque };
    pci_add_function(p, &host);
    f = pci_add_function(p, &isa);
    /* PIRQRC[A:D] (60h-63h): routing disabled (bit 7), the reset value. */
    memset(f->cfg + 0x60, 0x80, 4);
    f = pci_add_function(p, &ide);
    /* IDETIM (40h-43h), bit 15 of each: the channel's decode is enabled,
     * as firmware leaves it; Linux's ata_piix ignores a channel without it. */
    f->cfg[0x41] = 0x80;
    f->cfg[0x43] = 0x80;
    if (io_register(io, 0xCF8, 4, p, address_read, address_write) < 0)
        return -1;
    return io_register(io, 0xCFC, 4, p, data_read, data_write);
}
