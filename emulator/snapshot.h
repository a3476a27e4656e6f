/* snapshot — the whole machine as a byte stream, and back (issue #14 item 5).
 *
 * The stream (format version SNAP_FORMAT_VERSION):
 *
 *   header   "BT86SNAP" (8 bytes), u32 format version, u32 0
 *   section  u32 id (four characters, SNAP_ID), u32 section version,
 *            u64 payload length, payload, u64 XXH3-64 of the 16 header bytes
 *            and the payload
 *   ...      any number of sections, RAM sections any number of times
 *   END      the section SNAP_ID_END with an empty payload closes the stream
 *
 * All integers are little-endian. Sections: CONF (what the machine must be:
 * RAM size, machine type, devices, disks), CLCK (the guest's clock and TSC),
 * CPU (every vCPU field), one per device (UART, PIC, PIT, RTC, ...), DISK
 * (a -snapshot overlay's written sectors), RAM (pages: u32 frame, then 4 KiB
 * of data; frame | SNAP_RAM_ZERO has no data and means an all-zero page).
 * Translations are never saved: the code cache, jump caches and shadow
 * spaces are rebuilt after a load.
 *
 * Writing (savevm; a migration source sends the same pieces over a socket):
 *
 *   struct snap_out *o = snap_out_new(&io);       // io: snap_io_fd(&fd) or your own
 *   snap_put_config(o, vm);
 *   snap_put_ram(o, vm, NULL, 0);                 // every non-zero page
 *   snap_put_ram(o, vm, frames, n);               // or: these frames (zero ones flagged)
 *   snap_put_state(o, vm);                        // CPU, clock, devices, disk overlays
 *   int rc = snap_out_finish(o, err, errlen);     // END; 0 or -1 and the first error
 *
 * The VM must be stopped (between vm_run calls) while the state is put.
 *
 * Reading: everything is read and checked into staging memory first; the
 * VM is changed only by snap_in_apply, which cannot fail half-way (all it
 * checks is done before it changes anything):
 *
 *   struct snap_in *in = snap_in_new(vm);
 *   int r;
 *   while ((r = snap_in_next(in, &io, err, errlen)) > 0 && r != SNAP_ID_END)
 *       ;                                         // one section per call
 *   if (r == SNAP_ID_END) r = snap_in_apply(in, vm, err, errlen);
 *   snap_in_free(in);
 *
 * snap_in_next reads the header first if it has not been read. An error
 * (another format version, a truncated stream, a bad checksum, an unknown
 * section, a machine that does not match) is one line in err, without a
 * trailing newline, and the VM is untouched.
 *
 * A RAM-only stream (migration's iterations) is fine: apply then changes
 * only what the stream held (RAM pages; the CPU and devices if it had
 * them). A stream with a CONF section is a full snapshot: pages it does
 * not list become zero.
 *
 * Disks: a drive opened with -snapshot saves its overlay (every sector
 * written since start) and a load puts it back. For a writable image the
 * image itself is the state, as with QEMU's migration on shared storage:
 * it is not copied, only its identity (size, file name) is checked. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm;

#define SNAP_MAGIC          "BT86SNAP"
#define SNAP_FORMAT_VERSION 1u
#define SNAP_ID(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
                             (uint32_t)(d) << 24)
#define SNAP_ID_END         SNAP_ID('E', 'N', 'D', ' ')
#define SNAP_RAM_ZERO       0x80000000u    /* RAM record: an all-zero page, no data */
#define SNAP_PAGE           4096u

/* Where bytes go or come from. write: all n bytes, 0 or -1 (errno).
 * read: up to n bytes, the count (0 at end of stream) or -1 (errno). */
struct snap_io {
    int (*write)(void *opaque, const void *buf, size_t n);
    ssize_t (*read)(void *opaque, void *buf, size_t n);
    void *opaque;
};
/* An fd (file, pipe, socket): opaque points at the int. */
struct snap_io snap_io_fd(int *fd);

/* ---- writing ---------------------------------------------------------- */
struct snap_out;
struct snap_out *snap_out_new(const struct snap_io *io);   /* writes the header */
int snap_put_config(struct snap_out *o, struct vm *vm);
/* frames NULL: every page of RAM that is not all zero. Otherwise those n
 * page frames (guest physical address / 4096), zero ones as SNAP_RAM_ZERO. */
int snap_put_ram(struct snap_out *o, struct vm *vm, const uint32_t *frames, size_t n);
int snap_put_state(struct snap_out *o, struct vm *vm);
/* Writes END, frees o; 0, or -1 with the first error of any put. */
int snap_out_finish(struct snap_out *o, char *err, size_t errlen);
uint64_t snap_out_bytes(const struct snap_out *o);          /* written so far */

/* ---- reading ---------------------------------------------------------- */
struct snap_in;
struct snap_in *snap_in_new(struct vm *vm);
/* Reads and checks one section into staging: its id (SNAP_ID_END at the
 * end), or -1 with one line in err. */
int snap_in_next(struct snap_in *in, const struct snap_io *io, char *err, size_t errlen);
/* RAM pages go straight into guest RAM instead of staging (a migration
 * target that is not running yet: no copy of the RAM is held). */
void snap_in_direct_ram(struct snap_in *in, bool direct);
int snap_in_apply(struct snap_in *in, struct vm *vm, char *err, size_t errlen);
void snap_in_free(struct snap_in *in);

/* ---- files (savevm FILE, loadvm FILE, -loadvm FILE) ------------------- */
int vm_snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen);
int vm_snapshot_load(struct vm *vm, const char *path, char *err, size_t errlen);
/* -loadvm: a VM that has not run and is given up on a failure (bt86 exits
 * 3) takes RAM straight from the file, without staging a copy of it. */
int vm_snapshot_load_new(struct vm *vm, const char *path, char *err, size_t errlen);
