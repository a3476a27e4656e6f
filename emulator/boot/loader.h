/* loader — Multiboot v1 kernels (ELF32 and the a.out kludge) into guest RAM.
 *
 * The kernel is placed at its physical load addresses (ELF p_paddr, which may
 * differ from the link addresses; or the header's load_addr..load_end_addr
 * with bss zeroed up to bss_end_addr). The Multiboot information structure
 * (flags: MEM, CMDLINE, MMAP; plus MODS when modules are given) and the
 * strings it points to are placed in low memory below 0x9F000, away from the
 * kernel. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct boot_info {
    uint32_t entry;       /* initial EIP */
    uint32_t eax, ebx;    /* 0x2BADB002 and the info structure's address */
    uint32_t kernel_lo, kernel_hi;  /* physical range the kernel occupies: [lo, hi) */
};

/* The information structure lives at MB_INFO_ADDR; it, the memory map, the
 * module list and the strings (loader name, command line, module strings)
 * follow it, all below MB_INFO_LIMIT. A kernel that loads over the bytes in
 * use gets them page-aligned after itself and its modules instead (QEMU's
 * place for them); boot_info.ebx says where. */
#define MB_INFO_ADDR  0x9000u
#define MB_INFO_LIMIT 0x9F000u

/* A Multiboot module (e.g. -initrd): placed page-aligned above the kernel. */
struct multiboot_module {
    const uint8_t *data;
    size_t size;
    const char *cmdline;   /* the module's string; NULL = "" */
};

/* Load the Multiboot kernel image file[0..size) into ram[0..ram_size).
 * Returns 0, or -1 with a one-line reason in err ("not an ELF32 or Multiboot
 * kernel", "segment 0x... outside guest RAM (N MiB)", ...). Never crashes on
 * malformed input. */
int multiboot_load(const uint8_t *file, size_t size, uint8_t *ram, size_t ram_size,
                   const char *cmdline, struct boot_info *out, char *err, size_t errlen);
/* The same, with nmods modules (info flag MODS). cmdline is passed verbatim:
 * QEMU and GRUB put the kernel's path first ("path args"). RAM is written
 * only if the load succeeds. */
int multiboot_load_modules(const uint8_t *file, size_t size, uint8_t *ram, size_t ram_size,
                           const char *cmdline, const struct multiboot_module *mods,
                           int nmods, struct boot_info *out, char *err, size_t errlen);
