/* platform.c — the PC platform devices a kernel finds by probing: bus 0
 * of PCI through configuration mechanism #1 (QEMU pc's i440FX, PIIX3 ISA
 * bridge and IDE function), QEMU's fw_cfg (signature, ID, RAM size, CPU
 * count, file directory, the DMA interface) and the VGA text screen (CRTC
 * cursor registers, retrace bit, text at 0xB8000, which `--screen` dumps
 * when bt86 exits: ctest checks that file). Run with -m 64. */
#include "kernel.h"
#include "x86.h"

#define RAM_MB 64

static uint32_t pci_read(int dev, int fn, int reg)
{
    outl(0xCF8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)reg);
    return inl(0xCFC);
}

static void test_pci(void)
{
    CHECK_EQ(pci_read(0, 0, 0), 0x12378086);         /* i440FX */
    CHECK_EQ(pci_read(0, 0, 8) >> 16, 0x0600);       /* host bridge */
    CHECK_EQ(pci_read(1, 0, 0), 0x70008086);         /* PIIX3 ISA */
    CHECK_EQ(pci_read(1, 0, 8) >> 16, 0x0601);
    CHECK_EQ(pci_read(1, 0, 0x0C) >> 16 & 0x80, 0x80);   /* multi-function */
    CHECK_EQ(pci_read(1, 1, 0), 0x70108086);         /* PIIX3 IDE */
    CHECK_EQ(pci_read(1, 1, 8) >> 8, 0x010180);      /* IDE, legacy-mode prog-if */
    CHECK_EQ(pci_read(31, 0, 0), 0xFFFFFFFF);        /* nobody */
    CHECK_EQ(pci_read(1, 7, 0), 0xFFFFFFFF);
    /* byte and word accesses at any offset */
    outl(0xCF8, 0x80000000u | 1u << 11 | 1u << 8);
    CHECK_EQ(inb(0xCFE), 0x10);
    CHECK_EQ(inw(0xCFE), 0x7010);
    CHECK_EQ(inb(0xCFD), 0x80);
    /* the command register takes I/O enable */
    outl(0xCF8, 0x80000000u | 1u << 11 | 1u << 8 | 4);
    outw(0xCFC, 0x0001);
    CHECK_EQ(inw(0xCFC) & 1, 1);
}

static void fw_select(uint16_t key) { outw(0x510, key); }

static void fw_read(void *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = inb(0x511);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static struct { uint32_t control, length; uint64_t address; } __attribute__((aligned(16))) dma_req;

static void test_fw_cfg(void)
{
    uint8_t b[64];
    uint32_t id = 0;
    uint64_t ram = 0;
    uint16_t cpus = 0;
    fw_select(0x0000);
    fw_read(b, 4);
    CHECK(b[0] == 'Q' && b[1] == 'E' && b[2] == 'M' && b[3] == 'U');
    fw_select(0x0001);
    fw_read(&id, 4);
    CHECK_EQ(id & 3, 3);                             /* traditional and DMA */
    fw_select(0x0003);
    fw_read(&ram, 8);
    CHECK_EQ(ram, (uint64_t)RAM_MB << 20);
    fw_select(0x0005);
    fw_read(&cpus, 2);
    CHECK_EQ(cpus, 1);
    /* the file directory has etc/e820 */
    fw_select(0x0019);
    fw_read(b, 4);
    uint32_t files = be32(b), e820_key = 0, e820_size = 0;
    CHECK(files >= 1 && files < 1000);
    for (uint32_t i = 0; i < files; i++) {
        fw_read(b, 64);
        if (!strcmp((char *)b + 8, "etc/e820")) {
            e820_size = be32(b);
            e820_key = (uint32_t)b[4] << 8 | b[5];
        }
    }
    CHECK(e820_key >= 0x20);
    CHECK(e820_size >= 20 && e820_size % 20 == 0);
    /* the DMA interface: "QEMU CFG" at 0x514, then read RAM_SIZE by DMA */
    CHECK_EQ(inl(0x514), 0x554D4551);
    uint64_t by_dma = 0;
    dma_req.control = __builtin_bswap32(0x0003u << 16 | 0x08 | 0x02);
    dma_req.length = __builtin_bswap32(8);
    dma_req.address = __builtin_bswap64((uint32_t)&by_dma);
    outl(0x514, 0);
    outl(0x518, __builtin_bswap32((uint32_t)&dma_req));
    __asm__ volatile("" ::: "memory");               /* the device wrote memory */
    CHECK_EQ(dma_req.control, 0);                    /* done, no error */
    CHECK_EQ(by_dma, (uint64_t)RAM_MB << 20);
}

static volatile uint16_t *const text = (volatile uint16_t *)0xB8000;

static void put(int row, int col, const char *s)
{
    for (; *s; s++)
        text[row * 80 + col++] = (uint16_t)(0x0700 | (uint8_t)*s);
}

static void test_vga(void)
{
    for (int i = 0; i < 80 * 25; i++)
        text[i] = 0x0720;
    put(0, 0, "bt86 platform screen");
    put(1, 4, "second line");
    put(24, 70, "bottom");
    outb(0x3D4, 0x0E);
    outb(0x3D5, 0x00);
    outb(0x3D4, 0x0F);
    outb(0x3D5, 80 + 15);                            /* after "second line" */
    outb(0x3D4, 0x0E);
    CHECK_EQ(inb(0x3D5), 0);
    outb(0x3D4, 0x0F);
    CHECK_EQ(inb(0x3D5), 95);
    CHECK_EQ(text[80 + 4] & 0xFF, 's');              /* text memory is memory */
    CHECK_EQ(inb(0x3CC) & 1, 1);                     /* colour addressing */
    int edges = 0;
    uint8_t last = inb(0x3DA) & 8;
    for (int i = 0; i < 1000000 && edges < 4; i++) {
        uint8_t now = inb(0x3DA) & 8;
        edges += now != last;
        last = now;
    }
    CHECK_EQ(edges, 4);                              /* vertical retrace comes and goes */
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_pci();
    test_fw_cfg();
    test_vga();
    test_finish("platform");
}
