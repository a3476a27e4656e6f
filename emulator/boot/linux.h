/* linux — the Linux/x86 32-bit boot protocol for bzImage kernels
 * (Documentation/arch/x86/boot.rst, "32-bit Boot Protocol"; the boot_params
 * layout is Documentation/arch/x86/zero-page.rst).
 *
 * What lands in guest RAM:
 *
 *   LINUX_GDT_ADDR     a GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18)
 *   LINUX_PARAMS_ADDR  boot_params ("zero page", 4 KiB): zeroed, the image's
 *                      setup header copied in, the loader's fields and e820
 *   LINUX_CMDLINE_ADDR the -append string, at most the header's cmdline_size
 *   code32_start       the protected-mode payload (the file after the
 *                      real-mode setup sectors), normally 1 MiB
 *   top of RAM         the initrd, page-aligned, below initrd_addr_max
 *
 * The kernel decompresses itself into [dest, dest + init_size), where dest
 * is pref_address (or code32_start aligned up to kernel_alignment when
 * higher); the initrd must stay clear of that and of the payload. The low
 * area lies below 0x9F000 (the EBDA) and above the real-mode IVT/BDA. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINUX_GDT_ADDR     0x8000u
#define LINUX_PARAMS_ADDR  0x9000u
#define LINUX_CMDLINE_ADDR 0xA000u
#define LINUX_LOW_LIMIT    0x9F000u

#define LINUX_BOOT_CS 0x10u
#define LINUX_BOOT_DS 0x18u

struct linux_boot {
    uint32_t entry;              /* EIP: code32_start */
    uint32_t esi;                /* boot_params */
    uint32_t gdt_base;
    uint16_t gdt_limit;
    uint32_t kernel_lo, kernel_hi;   /* [payload, decompression end) */
    uint32_t initrd_lo, initrd_hi;   /* [lo, hi), 0/0 without an initrd */
};

/* A bzImage: boot sector signature 0xAA55 and "HdrS" in the setup header. */
bool linux_is_bzimage(const uint8_t *file, size_t size);

/* Load the bzImage file[0..size) into ram[0..ram_size) with the command line
 * and the initrd (NULL/0 for none). Returns 0, or -1 with a one-line reason
 * in err: truncated image, protocol older than 2.06, not loaded high,
 * command line longer than cmdline_size, RAM too small for the kernel, an
 * initrd that does not fit. Nothing is written unless the load succeeds. */
int linux_load(const uint8_t *file, size_t size, uint8_t *ram, size_t ram_size,
               const char *cmdline, const uint8_t *initrd, size_t initrd_size,
               struct linux_boot *out, char *err, size_t errlen);
