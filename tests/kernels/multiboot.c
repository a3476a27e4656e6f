/* multiboot.c — the machine state and information structure a Multiboot v1
 * loader hands over (Multiboot Specification 0.6.96, sections 3.2 and 3.3).
 *
 * The ctest boots it with `-m 64 -append "hello world"`. The same source
 * builds three more kernels that differ only in how they are loaded:
 *   multiboot-aout.bin      flat image, header flag bit 16 (a.out kludge)
 *   multiboot-aout-elf.elf  ELF file with the a.out kludge: bit 16 wins, so
 *                           the loader must enter at entry_addr; e_entry
 *                           points at a decoy that reports failure
 *   multiboot-split.elf     ELF with a segment whose p_vaddr != p_paddr
 *                           (link-split.ld): loaded at p_paddr, and e_entry,
 *                           a virtual address, translated to physical */
#include "kernel.h"
#include "x86.h"

#ifndef KERNEL_NAME
#define KERNEL_NAME "multiboot"
#endif
#define RAM_MB 64          /* the ctest's -m */

extern char _kernel_start[], _kernel_end[], _load_end[];

static uint32_t bss_words[1024];               /* the loader zeroes .bss */
static volatile uint32_t data_word = 0x600DDA7A; /* the loader copies .data */
static volatile uint32_t a20_probe[4];

static int overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

static int in_kernel(uint32_t addr, uint32_t len)
{
    return overlaps(addr, len, (uint32_t)_kernel_start, (uint32_t)(_kernel_end - _kernel_start));
}

static void check_machine_state(void)
{
    /* 3.2: EFLAGS.VM (bit 17) and IF (bit 9) clear; bit 1 always reads 1. */
    CHECK_EQ(boot_eflags & ((1u << 17) | FL_IF), 0);
    CHECK_EQ(boot_eflags & FL_FIXED, FL_FIXED);
    /* 3.2: CR0.PE set, CR0.PG clear. */
    uint32_t cr0 = read_cr0();
    CHECK_EQ(cr0 & CR0_PE, CR0_PE);
    CHECK_EQ(cr0 & CR0_PG, 0);

    /* 3.2: CS, DS, ES, FS, GS, SS have base 0 and limit 4 GiB: the same
     * offset reads the same byte through every segment. */
    static volatile uint32_t probe = 0x5E6A0B1E;
    uint32_t via_cs, via_ss, via_es, via_fs, via_gs;
    __asm__ volatile("movl %%cs:%c1, %0" : "=r"(via_cs) : "i"(&probe));
    __asm__ volatile("movl %%ss:%c1, %0" : "=r"(via_ss) : "i"(&probe));
    __asm__ volatile("movl %%es:%c1, %0" : "=r"(via_es) : "i"(&probe));
    __asm__ volatile("movl %%fs:%c1, %0" : "=r"(via_fs) : "i"(&probe));
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(via_gs) : "i"(&probe));
    CHECK_EQ(via_cs, 0x5E6A0B1E);
    CHECK_EQ(via_ss, 0x5E6A0B1E);
    CHECK_EQ(via_es, 0x5E6A0B1E);
    CHECK_EQ(via_fs, 0x5E6A0B1E);
    CHECK_EQ(via_gs, 0x5E6A0B1E);

    /* 3.2: A20 is enabled: an address >= 1 MiB does not alias the one
     * 1 MiB below it. Only read low memory (it holds the info structure). */
    a20_probe[0] = 0xA20A20A2;
    a20_probe[1] = 0x13579BDF;
    a20_probe[2] = (uint32_t)a20_probe;
    a20_probe[3] = ~(uint32_t)a20_probe;
    const volatile uint32_t *low = (const uint32_t *)((uint32_t)a20_probe - 0x100000);
    CHECK(low[0] != a20_probe[0] || low[1] != a20_probe[1] ||
          low[2] != a20_probe[2] || low[3] != a20_probe[3]);
}

static void check_image(void)
{
    CHECK_EQ(data_word, 0x600DDA7A);
    uint32_t nonzero = 0;
    for (unsigned i = 0; i < sizeof bss_words / 4; i++)
        nonzero |= bss_words[i];
    CHECK_EQ(nonzero, 0);
}

static void check_info(const struct mb_info *mbi)
{
    kprintf("info at %p: flags 0x%x mem_lower %u KiB mem_upper %u KiB\n",
            (void *)mbi, mbi->flags, mbi->mem_lower, mbi->mem_upper);
    CHECK(!in_kernel((uint32_t)mbi, sizeof *mbi));

    /* 3.3 flags: we asked for memory information (header flag bit 1), and a
     * loader with a command line and a memory map passes both. */
    CHECK_EQ(mbi->flags & MB_INFO_MEM, MB_INFO_MEM);
    CHECK_EQ(mbi->flags & MB_INFO_CMDLINE, MB_INFO_CMDLINE);
    CHECK_EQ(mbi->flags & MB_INFO_MMAP, MB_INFO_MMAP);

    /* mem_lower: conventional memory, at most 640 KiB (QEMU: 639).
     * mem_upper: from 1 MiB to the first hole; QEMU reports a little less
     * than RAM - 1 MiB (64 MiB -> 64384), so allow 2 MiB of slack. */
    CHECK(mbi->mem_lower >= 512 && mbi->mem_lower <= 640);
    CHECK(mbi->mem_upper <= RAM_MB * 1024 - 1024);
    CHECK(mbi->mem_upper >= RAM_MB * 1024 - 1024 - 2048);

    if (mbi->flags & MB_INFO_CMDLINE) {
        const char *cmd = (const char *)mbi->cmdline;
        size_t n = strlen(cmd);
        kprintf("cmdline \"%s\"\n", cmd);
        CHECK(!in_kernel(mbi->cmdline, n + 1));
        /* QEMU, like GRUB, puts the kernel's path first: "k.elf hello world". */
        CHECK(!strcmp(cmd, "hello world") ||
              (n > 12 && !strcmp(cmd + n - 12, " hello world")));
        CHECK(!strcmp(mb_args(mbi), "hello world"));
    }

    if (mbi->flags & MB_INFO_LOADER)
        kprintf("boot loader \"%s\"\n", (const char *)mbi->boot_loader_name);

    if (mbi->flags & MB_INFO_MMAP) {
        uint64_t avail = 0;
        int n = 0, kernel_covered = 0, low_avail = 0;
        uint64_t prev_end = 0;
        CHECK(!in_kernel(mbi->mmap_addr, mbi->mmap_length));
        CHECK(mbi->mmap_length >= 24);
        for (uint32_t off = 0; off < mbi->mmap_length && n < 64; n++) {
            const struct mb_mmap *e = (const struct mb_mmap *)(mbi->mmap_addr + off);
            kprintf("  mmap %016llx-%016llx type %u\n", e->addr, e->addr + e->len - 1, e->type);
            CHECK(e->size >= 20);
            /* the entries we get are sorted and disjoint */
            CHECK(e->addr >= prev_end);
            prev_end = e->addr + e->len;
            if (e->type == 1) {
                avail += e->len;
                if (e->addr <= (uint32_t)_kernel_start && e->addr + e->len >= (uint32_t)_kernel_end)
                    kernel_covered = 1;
                if (e->addr == 0 && e->len >= 512 * 1024)
                    low_avail = 1;
            }
            off += e->size + 4;
        }
        CHECK(n >= 2 && n < 64);
        CHECK(kernel_covered);
        CHECK(low_avail);
        CHECK(avail >= (uint64_t)(RAM_MB - 3) << 20);
        CHECK(avail <= (uint64_t)RAM_MB << 20);
    }
}

#ifdef VARIANT_SPLIT
/* Linked at 0xC0000000 + load address; see link-split.ld. */
__asm__(".section .high.text, \"ax\"\n"
        ".globl _start_high\n"
        "_start_high:\n"
        "    movl $_start, %ecx\n"   /* absolute: runs at any address */
        "    jmp *%ecx\n"
        ".previous");
__attribute__((section(".high.data"), used))
static const char high_pattern[32] = "p_paddr != p_vaddr, loaded";
extern char _high_phys[], _high_phys_end[];

static void check_split(void)
{
    uint32_t phys = (uint32_t)high_pattern - 0xC0000000u;
    kprintf("high segment: vaddr %p paddr 0x%x-0x%x\n", (void *)high_pattern,
            (uint32_t)_high_phys, (uint32_t)_high_phys_end);
    CHECK(phys >= (uint32_t)_high_phys && phys < (uint32_t)_high_phys_end);
    CHECK(!strcmp((const char *)phys, "p_paddr != p_vaddr, loaded"));
}
#endif

#ifdef VARIANT_AOUT_ELF
/* The ELF e_entry (-e decoy_entry); a loader that honours the a.out kludge
 * (header flag bit 16) enters at the header's entry_addr, _start, instead. */
__attribute__((noreturn, used)) static void decoy_main(void)
{
    kputs("FAIL " KERNEL_NAME ": entered at the ELF e_entry, not the a.out kludge entry_addr\n");
    kexit(EXIT_FAIL);
}
__asm__(".text\n"
        ".globl decoy_entry\n"
        "decoy_entry:\n"
        "    movl $stack_top, %esp\n"
        "    call decoy_main\n");
#endif

/* 3.3 mods: with -initrd "mod-a.txt arg1,mod-b.txt" (the modules ctest)
 * each module is page-aligned, clear of the kernel and the information
 * structure, and carries its whole -initrd entry as its string. The files
 * hold "module A" / "module B" plus a newline. */
static void check_modules(const struct mb_info *mbi)
{
    if (!(mbi->flags & MB_INFO_MODS))
        return;
    const uint32_t *m = (const uint32_t *)mbi->mods_addr;
    CHECK(mbi->mods_count >= 1 && mbi->mods_count <= 16);
    CHECK(!in_kernel(mbi->mods_addr, mbi->mods_count * 16));
    for (uint32_t i = 0; i < mbi->mods_count && i < 16; i++, m += 4) {
        uint32_t start = m[0], end = m[1];
        const char *str = (const char *)m[2];
        kprintf("module %u: 0x%x-0x%x '%s' '%c%c%c%c%c%c%c%c'\n", i, start, end, str,
                ((char *)start)[0], ((char *)start)[1], ((char *)start)[2],
                ((char *)start)[3], ((char *)start)[4], ((char *)start)[5],
                ((char *)start)[6], ((char *)start)[7]);
        static const char *const want[2] = { "mod-a.txt arg1", "mod-b.txt" };
        size_t n = strlen(str), w = strlen(want[i & 1]);
        CHECK(n >= w && !strcmp(str + n - w, want[i & 1]));
        CHECK(!memcmp((const char *)start, i & 1 ? "module B\n" : "module A\n", 9));
        CHECK_EQ(start & 0xfff, 0);
        CHECK(end - start == 9);
        CHECK(!in_kernel(start, end - start));
        CHECK(!overlaps(start, end - start, (uint32_t)mbi, sizeof *mbi));
        CHECK(end <= (uint32_t)RAM_MB << 20);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    kprintf(KERNEL_NAME ": kernel 0x%x-0x%x\n", (uint32_t)_kernel_start, (uint32_t)_kernel_end);
    CHECK_EQ(magic, MB_BOOT_MAGIC);
    check_machine_state();
    check_image();
    if (magic == MB_BOOT_MAGIC) {
        check_info(mbi);
        check_modules(mbi);
    }
#ifdef VARIANT_SPLIT
    check_split();
#endif
    test_finish(KERNEL_NAME);
}
