/* codemem — the executable memory of the code cache.
 *
 * W^X without mprotect traffic: one memfd is mapped twice, MAP_SHARED, once
 * read-write (the emitter and the chain patcher write there) and once
 * read-execute (translated code runs there). The two views alias the same
 * physical pages, and x86 keeps instruction fetch coherent with stores by
 * physical address, so a patched rel32 is seen by the next execution without
 * any flush instruction.
 *
 * Blocks are bump-allocated upwards from offset 0; runtime code (emitted once
 * per vCPU, must outlive flushes) is taken downwards from the top, so it can
 * be requested at any time and a flush only has to reset `cur`. The whole
 * area is at most 2 GiB, which keeps every rel32 between two of its bytes in
 * range. */
#define _GNU_SOURCE
#include "cache/internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U     /* Linux 6.3+: vm.memfd_noexec may require it */
#endif

#define CODE_MAX ((size_t)1 << 31)
#define INT3 0xcc

static int memfd_exec(void)
{
    int fd = memfd_create("bt86-code", MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)   /* kernels before 6.3 reject MFD_EXEC */
        fd = memfd_create("bt86-code", MFD_CLOEXEC);
    return fd;
}

int codemem_init(struct code_cache *c, size_t size, char *err, size_t errlen)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size = align_up(size, pg);
    if (size == 0 || size > CODE_MAX) {
        snprintf(err, errlen, "code cache size must be between 1 byte and 2 GiB");
        return -1;
    }
    int fd = memfd_exec();
    if (fd < 0) {
        snprintf(err, errlen, "code cache: memfd_create: %s", strerror(errno));
        return -1;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        snprintf(err, errlen, "code cache: ftruncate %zu bytes: %s", size, strerror(errno));
        close(fd);
        return -1;
    }
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *rx = rw == MAP_FAILED ? MAP_FAILED
                                : mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);      /* the mappings keep the memory alive */
    if (rx == MAP_FAILED) {
        if (rw != MAP_FAILED)
            munmap(rw, size);
        snprintf(err, errlen, "code cache: mmap %zu bytes: %s", size, strerror(e));
        return -1;
    }
    c->rw = rw;
    c->rx = rx;
    c->size = size;
    c->cur = 0;
    c->rt_low = size;
    return 0;
}

void codemem_fini(struct code_cache *c)
{
    if (c->rw)
        munmap(c->rw, c->size);
    if (c->rx)
        munmap(c->rx, c->size);
}

void cache_begin(struct code_cache *c, uint8_t **rw, uint8_t **rx, size_t *avail)
{
    *rw = c->rw + c->cur;
    *rx = c->rx + c->cur;
    *avail = c->rt_low - c->cur;
}

void cache_commit(struct code_cache *c, size_t n)
{
    /* More than avail means the translator wrote over runtime code. */
    assert(n <= c->rt_low - c->cur);
    if (n > c->rt_low - c->cur)
        n = c->rt_low - c->cur;
    c->cur += n;
}

/* End the current block: pad to the next 16-byte boundary with int3, so that
 * the next block starts aligned and a stray jump into padding traps. */
void codemem_close_block(struct code_cache *c)
{
    size_t next = align_up(c->cur, CACHE_ALIGN);
    if (next > c->rt_low)
        next = c->rt_low;
    memset(c->rw + c->cur, INT3, next - c->cur);
    c->cur = next;
}

void codemem_reset(struct code_cache *c)
{
    c->cur = 0;
}

uint8_t *cache_rw(struct code_cache *c, const void *rx)
{
    const uint8_t *p = rx;
    if (p < c->rx || p >= c->rx + c->size)
        return NULL;
    return c->rw + (p - c->rx);
}

void *cache_alloc_runtime(struct code_cache *c, size_t size, uint8_t **rw)
{
    size = align_up(size ? size : 1, CACHE_ALIGN);
    if (size > c->rt_low - align_up(c->cur, CACHE_ALIGN))
        return NULL;
    c->rt_low -= size;
    memset(c->rw + c->rt_low, INT3, size);
    c->st.runtime_bytes += size;
    if (rw)
        *rw = c->rw + c->rt_low;
    return c->rx + c->rt_low;
}
