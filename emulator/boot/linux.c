/* linux — the Linux/x86 32-bit boot protocol (linux.h).
 *
 * 1. Read the setup header (boot.rst, "The Real-Mode Kernel Header"):
 *    protocol 2.06 or later (cmdline_size exists from 2.06), LOADED_HIGH,
 *    the file as long as setup sectors + syssize paragraphs.
 * 2. Work out where everything goes and check it all before writing:
 *    payload at code32_start, the decompression region, the initrd at the
 *    top of RAM below initrd_addr_max (as QEMU places it), the low area.
 * 3. Write: payload, initrd, GDT, command line, boot_params. */
#include "emulator/boot/linux.h"
#include "emulator/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Offsets in the image file, which are also the offsets in boot_params
 * (the setup header sits at 0x1F1 in both). */
enum {
    H_SETUP_SECTS = 0x1F1, H_SYSSIZE = 0x1F4, H_BOOT_FLAG = 0x1FE, H_JUMP = 0x200,
    H_MAGIC = 0x202, H_VERSION = 0x206, H_TYPE_OF_LOADER = 0x210, H_LOADFLAGS = 0x211,
    H_CODE32_START = 0x214, H_RAMDISK_IMAGE = 0x218, H_RAMDISK_SIZE = 0x21C,
    H_HEAP_END_PTR = 0x224, H_CMD_LINE_PTR = 0x228, H_INITRD_ADDR_MAX = 0x22C,
    H_KERNEL_ALIGNMENT = 0x230, H_RELOCATABLE = 0x234, H_CMDLINE_SIZE = 0x238,
    H_HARDWARE_SUBARCH = 0x23C, H_SETUP_DATA = 0x250, H_PREF_ADDRESS = 0x258,
    H_INIT_SIZE = 0x260,
    H_END_MAX = 0x290,          /* struct setup_header ends here in boot_params */
    /* boot_params (zero-page.rst) */
    BP_ALT_MEM_K = 0x1E0, BP_E820_ENTRIES = 0x1E8, BP_E820_TABLE = 0x2D0,
    BP_SIZE = 0x1000,
};

#define LOADED_HIGH   0x01u
#define CAN_USE_HEAP  0x80u
#define LOADER_UNDEFINED 0xFFu   /* type_of_loader: "no assigned ID" */
#define HEAP_END      0xFE00u    /* setup stack/heap end - 0x200, as boot.rst suggests */

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ENTRY    20

#define KIB 1024u
#define MIB (1024u * 1024u)
#define PAGE_SIZE   4096u
#define LOW_RAM_END 0x9FC00u     /* 639 KiB: conventional memory below the EBDA */

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}


bool linux_is_bzimage(const uint8_t *file, size_t size)
{
    return size >= H_MAGIC + 4 && rd16(file + H_BOOT_FLAG) == 0xAA55 &&
           memcmp(file + H_MAGIC, "HdrS", 4) == 0;
}

/* Where the kernel decompresses itself (arch/x86/boot/compressed/head_32.S):
 * a relocatable kernel runs at code32_start rounded up to kernel_alignment,
 * but never below LOAD_PHYSICAL_ADDR, which pref_address reports; others at
 * pref_address. Before protocol 2.10 there is no init_size: assume the
 * payload at least quadruples. */
static void kernel_extent(const uint8_t *f, uint32_t code32, uint64_t payload,
                          uint64_t *lo, uint64_t *hi)
{
    uint16_t version = rd16(f + H_VERSION);
    uint64_t dest = code32, size = payload * 4;
    if (version >= 0x20A) {
        uint64_t pref = rd64(f + H_PREF_ADDRESS);
        dest = pref;
        if (f[H_RELOCATABLE]) {
            uint64_t aligned = align_up(code32, rd32(f + H_KERNEL_ALIGNMENT));
            if (aligned > pref)
                dest = aligned;
        }
        size = rd32(f + H_INIT_SIZE);
    }
    *lo = code32 < dest ? code32 : dest;
    *hi = dest + size > code32 + payload ? dest + size : code32 + payload;
}

static void put_e820(uint8_t *bp, int i, uint64_t base, uint64_t len, uint32_t type)
{
    uint8_t *e = bp + BP_E820_TABLE + i * E820_ENTRY;
    wr64(e, base);
    wr64(e + 8, len);
    wr32(e + 16, type);
}

/* Flat 4 GiB segments, accessed bit already set so the CPU need not write
 * the table (SDM vol. 3A §3.4.5). */
static void put_gdt(uint8_t *g)
{
    memset(g, 0, 32);
    wr32(g + LINUX_BOOT_CS, 0x0000FFFFu);
    wr32(g + LINUX_BOOT_CS + 4, 0x00CF9B00u);   /* code, execute/read */
    wr32(g + LINUX_BOOT_DS, 0x0000FFFFu);
    wr32(g + LINUX_BOOT_DS + 4, 0x00CF9300u);   /* data, read/write */
}

int linux_load(const uint8_t *f, size_t size, uint8_t *ram, size_t ram_size,
               const char *cmdline, const uint8_t *initrd, size_t initrd_size,
               struct linux_boot *out, char *err, size_t errlen)
{
    if (!cmdline)
        cmdline = "";
    if (!linux_is_bzimage(f, size))
        return fail(err, errlen, "not a Linux bzImage (no \"HdrS\" setup header)");
    uint16_t version = rd16(f + H_VERSION);
    if (version < 0x206)
        return fail(err, errlen, "Linux boot protocol %u.%02u is too old (bt86 needs 2.06 "
                    "or later)", version >> 8, version & 0xFF);
    if (size < H_INIT_SIZE + 4)
        return fail(err, errlen, "Linux kernel image is truncated (%zu bytes)", size);
    if (!(f[H_LOADFLAGS] & LOADED_HIGH))
        return fail(err, errlen, "Linux zImage (not LOADED_HIGH) is not supported");
    if (ram_size < 2 * MIB || (uint64_t)ram_size > 0xFFFFFFFFull)
        return fail(err, errlen, "guest RAM of %zu bytes is outside 2 MiB to 4 GiB", ram_size);

    unsigned setup_sects = f[H_SETUP_SECTS] ? f[H_SETUP_SECTS] : 4;
    uint64_t payload_off = (uint64_t)(setup_sects + 1) * 512;
    uint64_t syssize = (uint64_t)rd32(f + H_SYSSIZE) * 16;
    if (payload_off > size || syssize == 0 || size - payload_off < syssize)
        return fail(err, errlen, "Linux kernel image is truncated: %zu bytes, the header "
                    "promises %llu", size, (unsigned long long)(payload_off + syssize));
    uint64_t payload = size - payload_off;
    uint32_t code32 = rd32(f + H_CODE32_START);
    if (code32 < MIB)
        return fail(err, errlen, "Linux code32_start 0x%x is below 1 MiB", code32);

    uint64_t klo, khi;
    kernel_extent(f, code32, payload, &klo, &khi);
    if (klo < MIB)      /* it would overwrite the loader's low area */
        return fail(err, errlen, "Linux kernel would decompress at 0x%llx, below 1 MiB",
                    (unsigned long long)klo);
    if (khi > ram_size)
        return fail(err, errlen, "guest RAM (%zu MiB) is too small for this kernel: it "
                    "needs 0x%llx-0x%llx, use -m %llu or more", ram_size / MIB,
                    (unsigned long long)klo, (unsigned long long)khi,
                    (unsigned long long)((khi + MIB - 1) / MIB + 8));

    uint32_t cmdline_size = rd32(f + H_CMDLINE_SIZE);
    size_t cmdlen = strlen(cmdline);
    if (cmdlen > cmdline_size || LINUX_CMDLINE_ADDR + cmdlen + 1 > LINUX_LOW_LIMIT)
        return fail(err, errlen, "kernel command line is %zu bytes; this kernel takes at "
                    "most %u", cmdlen, cmdline_size);

    /* The initrd: as high as possible, page-aligned, below initrd_addr_max
     * and the end of RAM, and above everything the kernel occupies. */
    uint64_t rd_lo = 0;
    if (initrd_size) {
        uint64_t top = (uint64_t)rd32(f + H_INITRD_ADDR_MAX) + 1;
        if (top > ram_size)
            top = ram_size;
        if (initrd_size > top || ((top - initrd_size) & ~(uint64_t)(PAGE_SIZE - 1)) < khi)
            return fail(err, errlen, "initrd (%zu bytes) does not fit in guest RAM "
                        "(%zu MiB) between the kernel (up to 0x%llx) and 0x%llx",
                        initrd_size, ram_size / MIB, (unsigned long long)khi,
                        (unsigned long long)top);
        rd_lo = (top - initrd_size) & ~(uint64_t)(PAGE_SIZE - 1);
    }

    /* Everything checked: write. */
    memcpy(ram + code32, f + payload_off, payload);
    if (initrd_size)
        memcpy(ram + rd_lo, initrd, initrd_size);
    put_gdt(ram + LINUX_GDT_ADDR);
    memcpy(ram + LINUX_CMDLINE_ADDR, cmdline, cmdlen + 1);

    uint8_t *bp = ram + LINUX_PARAMS_ADDR;
    unsigned hdr_end = H_MAGIC + f[H_JUMP + 1];
    if (hdr_end > H_END_MAX)
        hdr_end = H_END_MAX;
    memset(bp, 0, BP_SIZE);
    memcpy(bp + H_SETUP_SECTS, f + H_SETUP_SECTS, hdr_end - H_SETUP_SECTS);
    bp[H_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    bp[H_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
    wr16(bp + H_HEAP_END_PTR, HEAP_END);
    wr32(bp + H_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
    wr32(bp + H_RAMDISK_IMAGE, (uint32_t)rd_lo);
    wr32(bp + H_RAMDISK_SIZE, (uint32_t)initrd_size);
    wr32(bp + H_HARDWARE_SUBARCH, 0);               /* a normal PC */
    wr64(bp + H_SETUP_DATA, 0);
    wr32(bp + BP_ALT_MEM_K, (uint32_t)((ram_size - MIB) / KIB));
    /* e820 as the Multiboot map and QEMU's: conventional memory, the EBDA,
     * VGA and BIOS hole reserved up to 1 MiB, then the rest of RAM. */
    put_e820(bp, 0, 0, LOW_RAM_END, E820_RAM);
    put_e820(bp, 1, LOW_RAM_END, MIB - LOW_RAM_END, E820_RESERVED);
    put_e820(bp, 2, MIB, ram_size - MIB, E820_RAM);
    bp[BP_E820_ENTRIES] = 3;

    *out = (struct linux_boot){
        .entry = code32, .esi = LINUX_PARAMS_ADDR,
        .gdt_base = LINUX_GDT_ADDR, .gdt_limit = 4 * 8 - 1,
        .kernel_lo = (uint32_t)klo, .kernel_hi = (uint32_t)khi,
        .initrd_lo = (uint32_t)rd_lo, .initrd_hi = (uint32_t)(rd_lo + initrd_size),
    };
    return 0;
}
