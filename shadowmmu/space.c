/* space — see space.h. */
#define _GNU_SOURCE
#include "shadowmmu/space.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ram_init(struct guest_ram *ram, char *err, size_t errlen)
{
    memset(ram, 0, sizeof *ram);
    ram->fd = memfd_create("bt86-ram", MFD_CLOEXEC);
    if (ram->fd < 0) {
        snprintf(err, errlen, "memfd_create: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int ram_add(struct guest_ram *ram, uint32_t gpa, uint64_t size, char *err, size_t errlen)
{
    struct ram_region *r;

    if ((gpa & 4095) || (size & 4095) || size == 0 || (uint64_t)gpa + size > SPACE_WINDOW) {
        snprintf(err, errlen, "RAM region 0x%x+0x%llx is not page aligned or passes 4 GiB",
                 gpa, (unsigned long long)size);
        return -1;
    }
    for (int i = 0; i < ram->n; i++)
        if (gpa < ram->r[i].gpa + ram->r[i].size && ram->r[i].gpa < gpa + size) {
            snprintf(err, errlen, "RAM region at 0x%x overlaps another", gpa);
            return -1;
        }
    if (ram->n == RAM_MAX_REGIONS) {
        snprintf(err, errlen, "too many RAM regions");
        return -1;
    }
    if (ftruncate(ram->fd, (off_t)(ram->fd_size + size)) < 0) {
        snprintf(err, errlen, "cannot size guest RAM: %s", strerror(errno));
        return -1;
    }
    r = &ram->r[ram->n];
    r->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, ram->fd,
                   (off_t)ram->fd_size);
    if (r->host == MAP_FAILED) {
        snprintf(err, errlen, "cannot map guest RAM: %s", strerror(errno));
        return -1;
    }
    r->gpa = gpa;
    r->size = size;
    r->fd_off = ram->fd_size;
    ram->fd_size += size;
    ram->n++;
    return 0;
}

void ram_destroy(struct guest_ram *ram)
{
    for (int i = 0; i < ram->n; i++)
        munmap(ram->r[i].host, ram->r[i].size);
    if (ram->fd >= 0)
        close(ram->fd);
    ram->n = 0;
    ram->fd = -1;
}

void *ram_ptr(const struct guest_ram *ram, uint32_t gpa, size_t n)
{
    for (int i = 0; i < ram->n; i++) {
        const struct ram_region *r = &ram->r[i];
        if (gpa >= r->gpa && (uint64_t)gpa - r->gpa + n <= r->size)
            return r->host + (gpa - r->gpa);
    }
    return NULL;
}

uint64_t ram_avail(const struct guest_ram *ram, uint32_t gpa)
{
    for (int i = 0; i < ram->n; i++) {
        const struct ram_region *r = &ram->r[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return r->size - (gpa - r->gpa);
    }
    return 0;
}

const struct ram_region *ram_region_of(const struct guest_ram *ram, uint32_t gpa)
{
    for (int i = 0; i < ram->n; i++) {
        const struct ram_region *r = &ram->r[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

int space_init(struct space *s, char *err, size_t errlen)
{
    /* Over-reserve by one window so the guest window can be 4 GiB aligned:
     * then the low 32 bits of a rebased RSI/RDI are the guest's address. */
    size_t len = 2 * SPACE_GUARD + 2 * SPACE_WINDOW;
    uint8_t *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uintptr_t base;

    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot reserve a guest address space: %s", strerror(errno));
        return -1;
    }
    base = ((uintptr_t)p + SPACE_GUARD + SPACE_WINDOW - 1) & ~(uintptr_t)(SPACE_WINDOW - 1);
    s->reserve = p;
    s->reserve_len = len;
    s->base = (uint8_t *)base;
    return 0;
}

void space_destroy(struct space *s)
{
    if (s->reserve)
        munmap(s->reserve, s->reserve_len);
    s->reserve = NULL;
}

int space_map_identity(struct space *s, const struct guest_ram *ram, char *err, size_t errlen)
{
    for (int i = 0; i < ram->n; i++) {
        const struct ram_region *r = &ram->r[i];
        void *p = mmap(s->base + r->gpa, r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                       ram->fd, (off_t)r->fd_off);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "cannot map guest RAM into its address space: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

int space_map(struct space *s, uint32_t linear, size_t len, int fd, uint64_t fd_off, int prot)
{
    void *p = mmap(s->base + linear, len, prot, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd,
                   (off_t)fd_off);
    return p == MAP_FAILED ? -errno : 0;
}

int space_remap(struct space *s, uint32_t linear, int fd, uint64_t fd_off, int prot)
{
    /* A page that was mapped is in use: populate it in the same call
     * rather than take a host page fault on the next access. */
    void *p = mmap(s->base + linear, 4096, prot, MAP_SHARED | MAP_FIXED | MAP_NORESERVE | MAP_POPULATE,
                   fd, (off_t)fd_off);
    return p == MAP_FAILED ? -errno : 0;
}

int space_unmap(struct space *s, uint32_t linear, uint64_t len)
{
    /* The flags of the reservation (space_init), so the range merges back
     * into it; MAP_FIXED replaces the old pages in one step, leaving no
     * hole another mmap could take. */
    void *p = mmap(s->base + linear, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? -errno : 0;
}

int space_protect(struct space *s, uint32_t linear, size_t len, int prot)
{
    return mprotect(s->base + linear, len, prot) < 0 ? -errno : 0;
}
