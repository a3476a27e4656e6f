/* dev_fw_cfg — QEMU's fw_cfg, as QEMU's docs/specs/fw_cfg.rst describes it.
 *
 * Items are byte strings selected by a 16-bit key. The traditional
 * interface: a 16-bit write of the key to 0x510 selects the item and
 * rewinds it; each byte read of 0x511 (or 0x510) returns its next byte,
 * and 0 past its end or for a key with no item. Writes to the data port do
 * nothing (QEMU removed them in 2.4).
 *
 * The DMA interface: the guest writes the guest-physical address of a
 * FWCfgDmaAccess { be32 control; be32 length; be64 address; } as two
 * big-endian 32-bit halves, high to 0x514, low to 0x518; the second write
 * runs the request. control may select a key (bit 3, key in bits 31-16),
 * then read (bit 1) copies up to length bytes to address, zero-filling
 * past the item's end, or skip (bit 2) advances; write (bit 4) fails, as
 * every item here is read-only. When done the device stores control back
 * as 0, or with the error bit (0) set. Reading 0x514-0x51B gives the
 * signature "QEMU CFG". The ID item's bit 1 advertises DMA.
 *
 * Items: signature "QEMU", ID, UUID (zero), RAM size (le64), CPU count
 * and maximum (le16), the file directory (be32 count, then per file be32
 * size, be16 key, be16 reserved, 56-byte name) and etc/e820 (QEMU's table
 * for the firmware: one RAM entry covering guest RAM). */
#include "emulator/hw/fw_cfg.h"

#include <string.h>

#define ID_TRADITIONAL 0x01
#define ID_DMA         0x02

#define DMA_CTL_ERROR  0x01
#define DMA_CTL_READ   0x02
#define DMA_CTL_SKIP   0x04
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE  0x10

#define E820_RAM 1

static const uint8_t dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static int add_item(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
    if (f->nitems >= FW_CFG_MAX_ITEMS)
        return -1;
    f->items[f->nitems++] = (struct fw_cfg_item){ .key = key, .data = data, .len = len };
    return 0;
}

static void fw_select(struct fw_cfg *f, uint16_t key)
{
    f->cur = NULL;
    f->offset = 0;
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            f->cur = &f->items[i];
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
    size_t nl = strlen(name);
    if (f->nfiles >= FW_CFG_MAX_FILES || nl >= FW_CFG_NAME_SIZE)
        return -1;
    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
    if (add_item(f, key, data, len) < 0)
        return -1;
    uint8_t *e = f->dir + 4 + 64 * f->nfiles;
    put_be(e, len, 4);
    put_be(e + 4, key, 2);
    memcpy(e + 8, name, nl);
    f->nfiles++;
    put_be(f->dir, (uint32_t)f->nfiles, 4);
    /* the directory item grows with its entries */
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i].key == FW_CFG_FILE_DIR)
            f->items[i].len = 4 + 64u * (uint32_t)f->nfiles;
    return 0;
}

static uint8_t data_byte(struct fw_cfg *f)
{
    if (!f->cur || f->offset >= f->cur->len)
        return 0;
    return f->cur->data[f->offset++];
}

static uint32_t ctl_read(void *dev, uint16_t port, int size)
{
    struct fw_cfg *f = dev;
    return size == 1 ? data_byte(f) : 0xFFFFFFFF;
}

static void ctl_write(void *dev, uint16_t port, int size, uint32_t val)
{
    if (port == 0x510 && size == 2)
        fw_select(dev, (uint16_t)val);
}

static int write_control(struct fw_cfg *f, uint64_t at, uint32_t control)
{
    uint8_t be[4];
    put_be(be, control, 4);
    return f->mem(f->mem_opaque, at, be, 4, true);
}

static void dma_transfer(struct fw_cfg *f)
{
    uint64_t at = f->dma_addr;
    uint8_t req[16], chunk[512];

    f->dma_addr = 0;
    if (!f->mem || f->mem(f->mem_opaque, at, req, sizeof req, false) < 0) {
        if (f->mem)
            write_control(f, at, DMA_CTL_ERROR);
        return;
    }
    uint32_t control = (uint32_t)get_be(req, 4), length = (uint32_t)get_be(req + 4, 4);
    uint64_t addr = get_be(req + 8, 8);
    uint32_t result = 0;
    bool read = false;

    if (control & DMA_CTL_SELECT)
        fw_select(f, (uint16_t)(control >> 16));
    if (control & DMA_CTL_READ)
        read = true;
    else if (control & DMA_CTL_WRITE)
        result = length ? DMA_CTL_ERROR : 0;         /* every item is read-only */
    else if (!(control & DMA_CTL_SKIP))
        length = 0;
    while (length > 0 && !result) {
        uint32_t avail = f->cur && f->offset < f->cur->len ? f->cur->len - f->offset : 0;
        uint32_t n = length < sizeof chunk ? length : (uint32_t)sizeof chunk;
        if (avail && n > avail)
            n = avail;
        if (read) {
            if (avail)
                memcpy(chunk, f->cur->data + f->offset, n);
            else
                memset(chunk, 0, n);                 /* past the end: zeros */
            if (f->mem(f->mem_opaque, addr, chunk, n, true) < 0)
                result = DMA_CTL_ERROR;
        }
        if (avail)
            f->offset += n;
        addr += n;
        length -= n;
    }
    write_control(f, at, result);
}

static uint32_t dma_read(void *dev, uint16_t port, int size)
{
    uint32_t val = 0;
    for (int i = 0; i < size && (port - 0x514) + i < 8; i++)
        val |= (uint32_t)dma_signature[(port - 0x514) + i] << (8 * i);
    return val;
}

/* The register is big-endian: the guest stores cpu_to_be32(half), which
 * arrives here byte-swapped. */
static void dma_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct fw_cfg *f = dev;
    if (size != 4)
        return;
    uint32_t half = __builtin_bswap32(val);
    if (port == 0x514) {
        f->dma_addr = (uint64_t)half << 32;
    } else if (port == 0x518) {
        f->dma_addr |= half;
        dma_transfer(f);
    }
}

int fw_cfg_init(struct fw_cfg *f, struct io_bus *bus, uint64_t ram_size, unsigned ncpus,
                fw_cfg_mem_fn mem, void *mem_opaque)
{
    memset(f, 0, sizeof *f);
    f->mem = mem;
    f->mem_opaque = mem_opaque;
    memcpy(f->signature, "QEMU", 4);
    put_le(f->id, ID_TRADITIONAL | ID_DMA, 4);
    put_le(f->ram_size, ram_size, 8);
    put_le(f->nb_cpus, ncpus, 2);
    put_le(f->max_cpus, ncpus, 2);
    put_le(f->e820, 0, 8);                           /* struct e820_entry, packed, LE */
    put_le(f->e820 + 8, ram_size, 8);
    put_le(f->e820 + 16, E820_RAM, 4);
    add_item(f, FW_CFG_SIGNATURE, f->signature, sizeof f->signature);
    add_item(f, FW_CFG_ID, f->id, sizeof f->id);
    add_item(f, FW_CFG_UUID, f->uuid, sizeof f->uuid);
    add_item(f, FW_CFG_RAM_SIZE, f->ram_size, sizeof f->ram_size);
    add_item(f, FW_CFG_NB_CPUS, f->nb_cpus, sizeof f->nb_cpus);
    add_item(f, FW_CFG_MAX_CPUS, f->max_cpus, sizeof f->max_cpus);
    add_item(f, FW_CFG_FILE_DIR, f->dir, 4);
    fw_cfg_add_file(f, "etc/e820", f->e820, sizeof f->e820);
    fw_select(f, FW_CFG_SIGNATURE);
    if (io_register(bus, 0x510, 2, f, ctl_read, ctl_write) < 0)
        return -1;
    return io_register(bus, 0x514, 8, f, dma_read, dma_write);
}
