/* multiboot.h — the Multiboot v1 information structure (Multiboot
 * Specification 0.6.96, section 3.3) as the loader hands it to the kernel. */
#pragma once
#include <stdint.h>

#define MB_BOOT_MAGIC 0x2BADB002u   /* in EAX at entry */

/* info.flags */
#define MB_INFO_MEM     (1u << 0)   /* mem_lower, mem_upper */
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_LOADER  (1u << 9)   /* boot_loader_name */

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;  /* KiB below 640K / above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;               /* physical address of a C string */
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe[6];
} __attribute__((packed));

/* One memory-map entry. `size` does not count itself: the next entry is
 * at (char *)e + e->size + 4. */
struct mb_mmap {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;                  /* 1 = available RAM */
} __attribute__((packed));

/* The kernel's own command line, without the kernel path that QEMU (like
 * GRUB) puts in front of it: "path/k.elf hello world" -> "hello world".
 * The first word is dropped only when it looks like a file name (contains
 * '/' or ends in ".elf"/".bin"), so a loader that passes just the -append
 * string works too. Returns "" when there is no command line. */
const char *mb_args(const struct mb_info *mbi);
