/* space — guest address spaces in host virtual memory (DESIGN §2, §4).
 *
 * A space is a 4 GiB window of host address space, 4 GiB aligned, flanked by
 * 16 GiB PROT_NONE guards on each side, all reserved with MAP_NORESERVE so it
 * costs nothing until mapped. Guest memory operands are [base + r14 + disp32]
 * with a 32-bit base, so they land in the window or at most 2 GiB below or
 * 2 GiB above it, where a guest address that wrapped at 4 GiB faults into
 * a guard; rebased string instructions can run at most ECX*4 = 16 GiB past
 * either end, into a guard.
 * Guest RAM is one memfd; its regions are mapped into the window at their
 * guest physical addresses (paging off: the identity space) and once more,
 * linearly, for the monitor's own use. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPACE_WINDOW (1ull << 32)
#define SPACE_GUARD  (16ull << 30)
#define RAM_MAX_REGIONS 8

struct ram_region {
    uint32_t gpa;
    uint64_t size;
    uint64_t fd_off;      /* offset in the memfd */
    uint8_t *host;        /* the monitor's linear view */
};

struct guest_ram {
    int fd;
    uint64_t fd_size;
    struct ram_region r[RAM_MAX_REGIONS];
    int n;
};

struct space {
    uint8_t *reserve;     /* start of the whole reservation (lower guard) */
    size_t reserve_len;
    uint8_t *base;        /* guest address 0 */
};

int ram_init(struct guest_ram *ram, char *err, size_t errlen);
/* Add RAM at guest physical [gpa, gpa+size) (page aligned, not overlapping). */
int ram_add(struct guest_ram *ram, uint32_t gpa, uint64_t size, char *err, size_t errlen);
void ram_destroy(struct guest_ram *ram);
/* Monitor pointer for [gpa, gpa+n) if it lies in one region, else NULL. */
void *ram_ptr(const struct guest_ram *ram, uint32_t gpa, size_t n);
/* Bytes from gpa to the end of its region (0 if unbacked). */
uint64_t ram_avail(const struct guest_ram *ram, uint32_t gpa);
/* The region holding gpa, or NULL (device memory or nothing). Signal-safe. */
const struct ram_region *ram_region_of(const struct guest_ram *ram, uint32_t gpa);

int space_init(struct space *s, char *err, size_t errlen);
void space_destroy(struct space *s);
/* Map every RAM region at its guest physical address, read-write. */
int space_map_identity(struct space *s, const struct guest_ram *ram, char *err, size_t errlen);
/* Range operations on the window, for the shadow MMU (mmu.c). All are one
 * system call, signal-safe, and return 0 or -errno (errno is clobbered).
 * Every mapping uses the same flags, so the kernel merges neighbours that
 * are contiguous in the memfd and share a protection into one VMA, and an
 * unmapped range merges back into the PROT_NONE reservation.
 *
 * space_map: map memfd bytes [fd_off, fd_off + len) at guest linear address
 *   `linear` with `prot` (PROT_READ, PROT_READ | PROT_WRITE), replacing
 *   whatever was there.
 * space_unmap: make [linear, linear + len) PROT_NONE again, as reserved
 *   (len up to SPACE_WINDOW: the whole window).
 * space_protect: change the protection of mapped pages. */
int space_map(struct space *s, uint32_t linear, size_t len, int fd, uint64_t fd_off, int prot);
/* space_remap: space_map of one page over a mapped one, populated. */
int space_remap(struct space *s, uint32_t linear, int fd, uint64_t fd_off, int prot);
int space_unmap(struct space *s, uint32_t linear, uint64_t len);
int space_protect(struct space *s, uint32_t linear, size_t len, int prot);
/* Is host address a inside the reservation (window or guards)? Signal-safe. */
static inline bool space_contains(const struct space *s, uintptr_t a)
{
    return a >= (uintptr_t)s->reserve && a < (uintptr_t)s->reserve + s->reserve_len;
}
