/* disk — block storage behind the IDE drives: a raw image file, optionally
 * with an in-memory overlay that keeps every write (-snapshot), so the file
 * is never modified.
 *
 * The backend is a small table of functions, so tests can put a failing
 * disk under a drive and watch the guest get an ATA error. All offsets and
 * sizes are in bytes; the IDE device only asks for whole 512-byte sectors. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR 512

/* Each returns 0, or -1 with errno set (a host I/O error). */
struct disk_ops {
    int (*read)(void *be, uint64_t off, void *buf, size_t n);
    int (*write)(void *be, uint64_t off, const void *buf, size_t n);
    int (*flush)(void *be);
    void (*close)(void *be);
};

struct disk_overlay;

struct disk {
    const struct disk_ops *ops;
    void *be;
    uint64_t size;             /* bytes; the guest sees size / 512 sectors */
    bool readonly;             /* writes fail (the guest gets ABRT) */
    struct disk_overlay *overlay;   /* -snapshot: writes kept here, NULL if none */
};

/* Open a raw image. readonly: O_RDONLY and every write refused; snapshot:
 * writes go to memory. NULL and a one-line message (QEMU's wording: "Could
 * not open 'F': No such file or directory") on failure. */
struct disk *disk_open_file(const char *path, bool readonly, bool snapshot, char *err,
                            size_t errlen);
/* A disk over any backend (tests); takes ownership of be (ops->close). */
struct disk *disk_new(const struct disk_ops *ops, void *be, uint64_t size, bool readonly,
                      bool snapshot);
void disk_close(struct disk *d);

/* Whole sectors; 0, or -1 with errno (EIO-like host failure, EROFS for a
 * read-only disk, EINVAL past the end). */
int disk_read(struct disk *d, uint64_t sector, void *buf, uint32_t count);
int disk_write(struct disk *d, uint64_t sector, const void *buf, uint32_t count);
int disk_flush(struct disk *d);

/* The -snapshot overlay, for VM snapshots: how many sectors it holds, each
 * of them in sector order, and forgetting them all (reads then see the
 * image again). Nothing for a disk without an overlay. */
uint64_t disk_overlay_sectors(const struct disk *d);
void disk_overlay_each(const struct disk *d,
                       void (*fn)(void *opaque, uint64_t sector, const uint8_t *data), void *opaque);
void disk_overlay_drop(struct disk *d);

/* True if the image starts with qcow2's magic "QFI\xfb" (a format bt86
 * would otherwise show the guest as raw bytes). */
bool disk_is_qcow2(struct disk *d);
