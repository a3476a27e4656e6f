/* disk — raw image files and the -snapshot overlay (disk.h).
 *
 * The overlay is a sparse table of 64 KiB chunks (128 sectors), allocated
 * on the first write into them, each with a bitmap of the sectors it holds.
 * Reads take overlay sectors where present and the file elsewhere; flush
 * has nothing to do. This is what QEMU's -snapshot gives (a temporary
 * qcow2 over the image) without a temporary file. */
#define _GNU_SOURCE
#include "emulator/hw/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_SECTORS 128

struct chunk {
    uint64_t present[CHUNK_SECTORS / 64];
    uint8_t data[CHUNK_SECTORS * DISK_SECTOR];
};

struct disk_overlay {
    struct chunk **chunks;
    uint64_t nchunks;
};

/* ---- raw file backend ---------------------------------------------------- */

struct file_be { int fd; };

static int file_read(void *be, uint64_t off, void *buf, size_t n)
{
    int fd = ((struct file_be *)be)->fd;
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0) {            /* the file shrank under us: the rest reads as zeros */
            memset(p, 0, n);
            return 0;
        }
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return 0;
}

static int file_write(void *be, uint64_t off, const void *buf, size_t n)
{
    int fd = ((struct file_be *)be)->fd;
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t put = pwrite(fd, p, n, (off_t)off);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            if (put == 0)
                errno = ENOSPC;
            return -1;
        }
        p += put;
        off += (uint64_t)put;
        n -= (size_t)put;
    }
    return 0;
}

static int file_flush(void *be) { return fdatasync(((struct file_be *)be)->fd); }

static void file_close(void *be)
{
    close(((struct file_be *)be)->fd);
    free(be);
}

static const struct disk_ops file_ops = { file_read, file_write, file_flush, file_close };

struct disk *disk_open_file(const char *path, bool readonly, bool snapshot, char *err,
                            size_t errlen)
{
    int fd = open(path, (readonly || snapshot ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "Could not open '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        size = end > 0 ? (uint64_t)end : 0;
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "Could not open '%s': not a regular file or block device", path);
        close(fd);
        return NULL;
    }
    struct file_be *be = malloc(sizeof *be);
    struct disk *d = be ? disk_new(&file_ops, be, size, readonly, snapshot) : NULL;
    if (!d) {
        snprintf(err, errlen, "Could not open '%s': out of memory", path);
        free(be);
        close(fd);
        return NULL;
    }
    be->fd = fd;
    return d;
}

struct disk *disk_new(const struct disk_ops *ops, void *be, uint64_t size, bool readonly,
                      bool snapshot)
{
    struct disk *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    *d = (struct disk){ .ops = ops, .be = be, .size = size, .readonly = readonly };
    if (snapshot && !readonly) {
        d->overlay = calloc(1, sizeof *d->overlay);
        uint64_t n = (size / DISK_SECTOR + CHUNK_SECTORS - 1) / CHUNK_SECTORS;
        if (d->overlay)
            d->overlay->chunks = calloc(n ? n : 1, sizeof *d->overlay->chunks);
        if (!d->overlay || !d->overlay->chunks) {
            free(d->overlay);
            free(d);
            return NULL;
        }
        d->overlay->nchunks = n;
    }
    return d;
}

void disk_close(struct disk *d)
{
    if (!d)
        return;
    if (d->overlay) {
        for (uint64_t i = 0; i < d->overlay->nchunks; i++)
            free(d->overlay->chunks[i]);
        free(d->overlay->chunks);
        free(d->overlay);
    }
    if (d->ops->close)
        d->ops->close(d->be);
    free(d);
}

static bool in_range(const struct disk *d, uint64_t sector, uint32_t count)
{
    uint64_t n = d->size / DISK_SECTOR;
    return sector <= n && count <= n - sector;
}

static bool overlay_has(const struct disk_overlay *o, uint64_t s)
{
    const struct chunk *c = o->chunks[s / CHUNK_SECTORS];
    unsigned i = (unsigned)(s % CHUNK_SECTORS);
    return c && (c->present[i / 64] >> (i % 64) & 1);
}

int disk_read(struct disk *d, uint64_t sector, void *buf, uint32_t count)
{
    uint8_t *p = buf;
    if (!in_range(d, sector, count)) {
        errno = EINVAL;
        return -1;
    }
    if (!d->overlay)
        return d->ops->read(d->be, sector * DISK_SECTOR, buf, (size_t)count * DISK_SECTOR);
    /* Runs of sectors from the file, single sectors from the overlay. */
    for (uint32_t i = 0; i < count;) {
        uint64_t s = sector + i;
        if (overlay_has(d->overlay, s)) {
            const struct chunk *c = d->overlay->chunks[s / CHUNK_SECTORS];
            memcpy(p + (size_t)i * DISK_SECTOR, c->data + (s % CHUNK_SECTORS) * DISK_SECTOR,
                   DISK_SECTOR);
            i++;
            continue;
        }
        uint32_t run = 1;
        while (i + run < count && !overlay_has(d->overlay, s + run))
            run++;
        if (d->ops->read(d->be, s * DISK_SECTOR, p + (size_t)i * DISK_SECTOR,
                         (size_t)run * DISK_SECTOR) < 0)
            return -1;
        i += run;
    }
    return 0;
}

int disk_write(struct disk *d, uint64_t sector, const void *buf, uint32_t count)
{
    const uint8_t *p = buf;
    if (d->readonly) {
        errno = EROFS;
        return -1;
    }
    if (!in_range(d, sector, count)) {
        errno = EINVAL;
        return -1;
    }
    if (!d->overlay)
        return d->ops->write(d->be, sector * DISK_SECTOR, buf, (size_t)count * DISK_SECTOR);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t s = sector + i;
        struct chunk **cp = &d->overlay->chunks[s / CHUNK_SECTORS];
        if (!*cp && !(*cp = calloc(1, sizeof **cp))) {
            errno = ENOMEM;
            return -1;
        }
        unsigned k = (unsigned)(s % CHUNK_SECTORS);
        memcpy((*cp)->data + (size_t)k * DISK_SECTOR, p + (size_t)i * DISK_SECTOR, DISK_SECTOR);
        (*cp)->present[k / 64] |= 1ull << (k % 64);
    }
    return 0;
}

uint64_t disk_overlay_sectors(const struct disk *d)
{
    uint64_t n = 0;
    for (uint64_t c = 0; d->overlay && c < d->overlay->nchunks; c++)
        for (int w = 0; d->overlay->chunks[c] && w < CHUNK_SECTORS / 64; w++)
            n += (uint64_t)__builtin_popcountll(d->overlay->chunks[c]->present[w]);
    return n;
}

void disk_overlay_each(const struct disk *d,
                       void (*fn)(void *opaque, uint64_t sector, const uint8_t *data), void *opaque)
{
    for (uint64_t c = 0; d->overlay && c < d->overlay->nchunks; c++) {
        const struct chunk *ch = d->overlay->chunks[c];
        for (unsigned k = 0; ch && k < CHUNK_SECTORS; k++)
            if (ch->present[k / 64] >> (k % 64) & 1)
                fn(opaque, c * CHUNK_SECTORS + k, ch->data + (size_t)k * DISK_SECTOR);
    }
}

void disk_overlay_drop(struct disk *d)
{
    for (uint64_t c = 0; d->overlay && c < d->overlay->nchunks; c++) {
        free(d->overlay->chunks[c]);
        d->overlay->chunks[c] = NULL;
    }
}

int disk_flush(struct disk *d)
{
    if (d->overlay || d->readonly || !d->ops->flush)
        return 0;
    return d->ops->flush(d->be);
}

bool disk_is_qcow2(struct disk *d)
{
    uint8_t magic[4];
    if (d->size < sizeof magic || d->ops->read(d->be, 0, magic, sizeof magic) < 0)
        return false;
    return memcmp(magic, "QFI\xfb", 4) == 0;
}
