/* loader — Multiboot v1 kernels into guest RAM (Multiboot Specification 0.6.96).
 *
 * 1. Find the header: magic 0x1BADB002, 4-byte aligned, in the first 8192
 *    bytes, with magic + flags + checksum == 0 (spec 3.1.1).
 * 2. Describe the image as load segments {file offset, physical address,
 *    file size, memory size}: from the header's address fields when flag 16
 *    (the "a.out kludge") is set, otherwise from the ELF32 program headers,
 *    placed at p_paddr as GRUB and QEMU do.
 * 3. Check every segment before writing anything, so a bad file leaves RAM
 *    untouched; then copy and zero the tails (bss).
 * 4. Write the information structure (spec 3.3) and everything it points to
 *    into the low info area, which starts at MB_INFO_ADDR:
 *
 *      MB_INFO_ADDR  struct multiboot_info (116 bytes, flags MEM CMDLINE
 *                    MMAP BOOT_LOADER_NAME, +MODS)
 *      next          memory map, 3 entries of 24 bytes (size field = 20)
 *      next          module list, 16 bytes per module
 *      next          "bt86", the command line, the module strings
 *
 *    The area ends below MB_INFO_LIMIT. A kernel that loads over the bytes
 *    it would use (kernels linked below 1 MiB) gets it page-aligned after
 *    the kernel and the modules instead, where QEMU puts it. Modules go
 *    page-aligned above the kernel. */
#include "emulator/boot/loader.h"
#include "emulator/bytes.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MB_HEADER_MAGIC  0x1BADB002u
#define MB_BOOT_MAGIC    0x2BADB002u
#define MB_SEARCH_BYTES  8192
#define MB_HF_PAGE_ALIGN  (1u << 0)
#define MB_HF_MEMORY_INFO (1u << 1)
#define MB_HF_VIDEO_MODE  (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16)
/* Bits 0-15 are requirements: a loader must refuse any it does not know.
 * Video mode (bit 2) is known: we decline it by leaving info bits 11/12
 * clear, which the spec allows. */
#define MB_HF_KNOWN_REQUIRED (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE)

#define MBI_MEM         (1u << 0)
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* Offsets in struct multiboot_info. */
enum {
    MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE_PTR = 16,
    MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44,
    MBI_MMAP_ADDR = 48, MBI_LOADER_NAME_PTR = 64, MBI_SIZE = 116,
};

#define MMAP_ENTRY_SIZE 24    /* size field (4) + base (8) + length (8) + type (4) */
#define MMAP_ENTRIES    3
#define MOD_ENTRY_SIZE  16    /* mod_start, mod_end, string, reserved */
#define MMAP_AVAILABLE  1
#define MMAP_RESERVED   2

#define KIB 1024u
#define MIB (1024u * 1024u)
#define LOW_RAM_END 0x9FC00u  /* 639 KiB: conventional memory below the EBDA */
#define PAGE_SIZE   4096u

#define PT_LOAD 1
#define EHDR_SIZE 52
#define PHDR_SIZE 32

struct seg {
    uint64_t off, addr, filesz, memsz;
};

struct ld {
    const uint8_t *file;
    size_t size;
    uint8_t *ram;
    uint64_t ram_size;
    uint32_t info_lo, info_hi;   /* bytes of the info area in use */
    bool info_collides;          /* a segment overlaps them: the area moves */
    uint64_t lo, hi;             /* kernel extent so far */
    char *err;
    size_t errlen;
};

static int fail(struct ld *l, const char *fmt, ...)
{
    if (l->err && l->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->err, l->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}


/* Offset of a valid header, or -1. */
static long find_header(const uint8_t *file, size_t size)
{
    size_t limit = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = rd32(file + off), flags = rd32(file + off + 4);
        if (magic == MB_HEADER_MAGIC && magic + flags + rd32(file + off + 8) == 0)
            return (long)off;
    }
    return -1;
}

static int check_seg(struct ld *l, const struct seg *s)
{
    uint64_t end = s->addr + s->memsz;
    if (s->filesz > s->memsz)
        return fail(l, "segment at 0x%llx: file size 0x%llx exceeds memory size 0x%llx",
                    (unsigned long long)s->addr, (unsigned long long)s->filesz,
                    (unsigned long long)s->memsz);
    if (s->off > l->size || s->filesz > l->size - s->off)
        return fail(l, "segment at 0x%llx: data at file offset 0x%llx+0x%llx is past the end "
                    "of the file (%zu bytes)", (unsigned long long)s->addr,
                    (unsigned long long)s->off, (unsigned long long)s->filesz, l->size);
    if (end > l->ram_size)
        return fail(l, "segment 0x%llx-0x%llx outside guest RAM (%llu MiB)",
                    (unsigned long long)s->addr, (unsigned long long)end,
                    (unsigned long long)(l->ram_size / MIB));
    if (s->addr < l->info_hi && end > l->info_lo)
        l->info_collides = true;
    if (s->addr < l->lo)
        l->lo = s->addr;
    if (end > l->hi)
        l->hi = end;
    return 0;
}

static void load_seg(struct ld *l, const struct seg *s)
{
    memcpy(l->ram + s->addr, l->file + s->off, s->filesz);
    memset(l->ram + s->addr + s->filesz, 0, s->memsz - s->filesz);
}

/* Flag 16: the header gives the addresses (spec 3.1.3). The header sits at
 * header_addr in memory, so the file maps to memory from header offset
 * minus (header_addr - load_addr). */
static int aout_seg(struct ld *l, long hdr, struct seg *s, uint32_t *entry)
{
    if ((size_t)hdr + 32 > l->size)
        return fail(l, "Multiboot header with address fields (flag 16) is truncated");
    const uint8_t *h = l->file + hdr;
    uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
    uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24);
    if (header_addr < load_addr || header_addr - load_addr > (uint64_t)hdr)
        return fail(l, "Multiboot header_addr 0x%x and load_addr 0x%x put the load "
                    "before the start of the file", header_addr, load_addr);
    s->off = (uint64_t)hdr - (header_addr - load_addr);
    s->addr = load_addr;
    if (load_end == 0) {
        s->filesz = l->size - s->off;
    } else {
        if (load_end < load_addr)
            return fail(l, "Multiboot load_end_addr 0x%x is below load_addr 0x%x",
                        load_end, load_addr);
        s->filesz = load_end - load_addr;
    }
    s->memsz = s->filesz;
    if (bss_end != 0) {
        if (bss_end < load_addr + s->filesz)
            return fail(l, "Multiboot bss_end_addr 0x%x is below the end of the loaded "
                        "data 0x%llx", bss_end, (unsigned long long)(load_addr + s->filesz));
        s->memsz = bss_end - load_addr;
    }
    *entry = rd32(h + 28);
    return check_seg(l, s);
}

static int elf_check_headers(struct ld *l)
{
    const uint8_t *f = l->file;
    uint32_t phoff = rd32(f + 28);
    uint16_t phentsize = rd16(f + 42), phnum = rd16(f + 44);
    if (f[4] != 1)
        return fail(l, "ELF file is not 32-bit (EI_CLASS %u)", f[4]);
    if (f[5] != 1)
        return fail(l, "ELF file is not little-endian (EI_DATA %u)", f[5]);
    if (rd16(f + 18) != 3)
        return fail(l, "ELF file is not for i386 (e_machine %u)", rd16(f + 18));
    if (rd16(f + 16) != 2)
        return fail(l, "ELF file is not an executable (e_type %u)", rd16(f + 16));
    if (phnum == 0 || phnum == 0xFFFF || phentsize < PHDR_SIZE)
        return fail(l, "ELF program header table is invalid (e_phnum %u, e_phentsize %u)",
                    phnum, phentsize);
    if (phoff > l->size || (uint64_t)phnum * phentsize > l->size - phoff)
        return fail(l, "ELF program headers (e_phoff 0x%x) are past the end of the file",
                    phoff);
    return 0;
}

/* Walks the PT_LOAD segments of a checked ELF32 file: without load, checks
 * them and works out the entry point; with load, copies them. */
static int elf_segs(struct ld *l, bool load, uint32_t *entry)
{
    const uint8_t *f = l->file;
    uint32_t phoff = rd32(f + 28), e_entry = rd32(f + 24);
    uint16_t phentsize = rd16(f + 42), phnum = rd16(f + 44);
    int loaded = 0;
    bool translated = false;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = f + phoff + (size_t)i * phentsize;
        if (rd32(ph) != PT_LOAD || rd32(ph + 20) == 0)
            continue;
        uint32_t vaddr = rd32(ph + 8);
        struct seg s = {
            .off = rd32(ph + 4), .addr = rd32(ph + 12),
            .filesz = rd32(ph + 16), .memsz = rd32(ph + 20),
        };
        if (load) {
            load_seg(l, &s);
            continue;
        }
        if (check_seg(l, &s) < 0)
            return -1;
        loaded++;
        /* A kernel linked high but loaded low has a virtual entry address:
         * translate it through its segment, as GRUB and QEMU do. */
        if (!translated && vaddr != s.addr && e_entry >= vaddr && e_entry - vaddr < s.memsz) {
            *entry = e_entry - vaddr + (uint32_t)s.addr;
            translated = true;
        }
    }
    if (load)
        return 0;
    if (loaded == 0)
        return fail(l, "ELF file has no loadable segments");
    if (!translated)
        *entry = e_entry;
    return 0;
}

static bool is_elf(const uint8_t *f, size_t size)
{
    return size >= EHDR_SIZE && f[0] == 0x7F && f[1] == 'E' && f[2] == 'L' && f[3] == 'F';
}

/* Lays out the info area from base; returns its end or 0 if it passes limit. */
static uint32_t info_layout(uint32_t base, uint64_t limit, const char *cmdline,
                            const struct multiboot_module *mods, int nmods, uint32_t *mmap,
                            uint32_t *modlist, uint32_t *name, uint32_t *cmd, uint32_t *strings)
{
    uint64_t p = base + align_up(MBI_SIZE, 8);
    *mmap = (uint32_t)p;
    p += MMAP_ENTRIES * MMAP_ENTRY_SIZE;
    *modlist = (uint32_t)p;
    p += (uint64_t)nmods * MOD_ENTRY_SIZE;
    *name = (uint32_t)p;
    p += sizeof "bt86";
    *cmd = (uint32_t)p;
    p += strlen(cmdline) + 1;
    *strings = (uint32_t)p;
    for (int i = 0; i < nmods && p <= limit; i++)
        p += strlen(mods[i].cmdline ? mods[i].cmdline : "") + 1;
    return p <= limit ? (uint32_t)p : 0;
}

static void put_mmap_entry(uint8_t *p, uint64_t base, uint64_t len, uint32_t type)
{
    wr32(p, MMAP_ENTRY_SIZE - 4);
    wr64(p + 4, base);
    wr64(p + 12, len);
    wr32(p + 20, type);
}

static uint32_t put_string(uint8_t *ram, uint32_t at, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(ram + at, s, n);
    return at + (uint32_t)n;
}

int multiboot_load_modules(const uint8_t *file, size_t size, uint8_t *ram, size_t ram_size,
                           const char *cmdline, const struct multiboot_module *mods,
                           int nmods, struct boot_info *out, char *err, size_t errlen)
{
    struct ld l = {
        .file = file, .size = size, .ram = ram, .ram_size = ram_size,
        .lo = UINT64_MAX, .hi = 0, .err = err, .errlen = errlen,
    };
    if (!cmdline)
        cmdline = "";
    if (ram_size < MIB || (uint64_t)ram_size >= 0x100000000ull)
        return fail(&l, "guest RAM of %zu bytes is outside what Multiboot can describe "
                    "(1 MiB to 4 GiB)", ram_size);
    if (nmods < 0)
        nmods = 0;
    uint32_t mmap, modlist, name, cmd, strings;
    l.info_lo = MB_INFO_ADDR;
    l.info_hi = info_layout(MB_INFO_ADDR, MB_INFO_LIMIT, cmdline, mods, nmods, &mmap, &modlist,
                            &name, &cmd, &strings);
    if (l.info_hi == 0)
        return fail(&l, "command line and module strings too long for the Multiboot "
                    "information area (0x%x-0x%x)", MB_INFO_ADDR, MB_INFO_LIMIT);

    long hdr = find_header(file, size);
    if (hdr < 0) {
        if (size >= 0x206 && memcmp(file + 0x202, "HdrS", 4) == 0)
            return fail(&l, "this is a Linux bzImage; only Multiboot kernels are supported");
        return fail(&l, "not a Multiboot kernel: no valid header in the first 8192 bytes");
    }
    uint32_t flags = rd32(file + hdr + 4);
    if (flags & 0xFFFF & ~MB_HF_KNOWN_REQUIRED)
        return fail(&l, "Multiboot header requires features bt86 lacks (flags 0x%x)", flags);

    struct seg aout;
    uint32_t entry = 0;
    bool kludge = flags & MB_HF_AOUT_KLUDGE;
    if (kludge) {
        if (aout_seg(&l, hdr, &aout, &entry) < 0)
            return -1;
    } else if (!is_elf(file, size)) {
        return fail(&l, "not an ELF32 file, and the Multiboot header has no load "
                    "addresses (flag 16)");
    } else if (elf_check_headers(&l) < 0 || elf_segs(&l, false, &entry) < 0) {
        return -1;
    }
    if (entry >= ram_size)
        return fail(&l, "entry point 0x%x outside guest RAM (%zu MiB)", entry, ram_size / MIB);

    /* Modules: page-aligned above the kernel (spec flag 0 asks for page
     * alignment; we always give it). */
    uint64_t mods_at = align_up(l.hi > MIB ? l.hi : MIB, PAGE_SIZE);
    uint64_t at = mods_at;
    for (int i = 0; i < nmods; i++) {
        if (mods[i].size > ram_size || at > ram_size - mods[i].size)
            return fail(&l, "module %d (%zu bytes at 0x%llx) does not fit in guest RAM "
                        "(%zu MiB)", i + 1, mods[i].size, (unsigned long long)at,
                        ram_size / MIB);
        at = align_up(at + mods[i].size, PAGE_SIZE);
    }
    if (l.info_collides) {
        l.info_lo = (uint32_t)at;
        l.info_hi = info_layout(l.info_lo, ram_size, cmdline, mods, nmods, &mmap, &modlist,
                                &name, &cmd, &strings);
        if (l.info_hi == 0)
            return fail(&l, "no room in guest RAM (%zu MiB) for the Multiboot information "
                        "after the kernel and its modules", ram_size / MIB);
    }

    /* Everything checked: write. */
    if (kludge)
        load_seg(&l, &aout);
    else
        elf_segs(&l, true, &entry);
    at = mods_at;
    for (int i = 0; i < nmods; i++) {
        if (mods[i].size)
            memcpy(ram + at, mods[i].data, mods[i].size);
        at = align_up(at + mods[i].size, PAGE_SIZE);
    }

    uint8_t *mbi = ram + l.info_lo;
    memset(mbi, 0, l.info_hi - l.info_lo);
    uint32_t info_flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
    wr32(mbi + MBI_MEM_LOWER, LOW_RAM_END / KIB);
    wr32(mbi + MBI_MEM_UPPER, (uint32_t)((ram_size - MIB) / KIB));
    wr32(mbi + MBI_CMDLINE_PTR, cmd);
    put_string(ram, cmd, cmdline);
    wr32(mbi + MBI_LOADER_NAME_PTR, name);
    put_string(ram, name, "bt86");

    /* Spec 3.3: mmap_addr points at the first entry's size field, and the
     * size field does not count itself. */
    uint8_t *m = ram + mmap;
    put_mmap_entry(m, 0, LOW_RAM_END, MMAP_AVAILABLE);
    put_mmap_entry(m + MMAP_ENTRY_SIZE, LOW_RAM_END, MIB - LOW_RAM_END, MMAP_RESERVED);
    int entries = 2;
    if (ram_size > MIB)
        put_mmap_entry(m + MMAP_ENTRY_SIZE * entries++, MIB, ram_size - MIB, MMAP_AVAILABLE);
    wr32(mbi + MBI_MMAP_ADDR, mmap);
    wr32(mbi + MBI_MMAP_LENGTH, (uint32_t)(entries * MMAP_ENTRY_SIZE));

    if (nmods > 0) {
        info_flags |= MBI_MODS;
        wr32(mbi + MBI_MODS_COUNT, (uint32_t)nmods);
        wr32(mbi + MBI_MODS_ADDR, modlist);
        at = mods_at;
        for (int i = 0; i < nmods; i++) {
            uint8_t *e = ram + modlist + i * MOD_ENTRY_SIZE;
            wr32(e, (uint32_t)at);
            wr32(e + 4, (uint32_t)(at + mods[i].size));
            at = align_up(at + mods[i].size, PAGE_SIZE);
            wr32(e + 8, strings);
            strings = put_string(ram, strings, mods[i].cmdline ? mods[i].cmdline : "");
        }
    }
    wr32(mbi + MBI_FLAGS, info_flags);

    *out = (struct boot_info){
        .entry = entry, .eax = MB_BOOT_MAGIC, .ebx = l.info_lo,
        .kernel_lo = (uint32_t)l.lo, .kernel_hi = (uint32_t)l.hi,
    };
    return 0;
}

int multiboot_load(const uint8_t *file, size_t size, uint8_t *ram, size_t ram_size,
                   const char *cmdline, struct boot_info *out, char *err, size_t errlen)
{
    return multiboot_load_modules(file, size, ram, ram_size, cmdline, NULL, 0, out, err,
                                  errlen);
}
