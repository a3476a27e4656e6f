/* migration_in — the destination of a live migration (-incoming URI,
 * migration.h): accept the one stream, read it section by section with
 * the RAM written in place (the VM has not run; all of it zero first),
 * apply the CPU and device state, acknowledge with one byte. Any error leaves no acknowledgement,
 * so the source fails its migration and runs on. */
#define _GNU_SOURCE
#include "emulator/migration.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emulator/snapshot.h"
#include "emulator/vcpu.h"

/* The source leaves out the frames it never wrote (migration.c): they must
 * read as zero here, whatever the kernel loader put there. Punching the
 * memfd zeroes every mapping of it and frees the memory. */
static void ram_zero_all(struct vm *vm)
{
    for (int i = 0; i < vm->ram.n; i++) {
        const struct ram_region *r = &vm->ram.r[i];
        if (fallocate(vm->ram.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->fd_off,
                      (off_t)r->size) < 0)
            memset(r->host, 0, r->size);
    }
}

int migration_incoming(struct vm *vm, const char *uri, char *err, size_t errlen)
{
    pid_t child;
    bool ack;
    char werr[160];
    int fd = mig_uri_accept(uri, &child, &ack, err, errlen), r;
    struct snap_io io;
    struct snap_in *in;
    char msg[300] = "";

    if (fd < 0)
        return -1;
    io = snap_io_fd(&fd);
    if (!(in = snap_in_new(vm))) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snap_in_direct_ram(in, true);
    ram_zero_all(vm);
    while ((r = snap_in_next(in, &io, msg, sizeof msg)) > 0 && r != (int)SNAP_ID_END)
        ;
    if (r == (int)SNAP_ID_END)
        r = snap_in_apply(in, vm, msg, sizeof msg) < 0 ? -1 : 0;
    snap_in_free(in);
    if (r == 0 && ack && send(fd, &(char){ MIG_ACK }, 1, MSG_NOSIGNAL) != 1)
        r = -1, snprintf(msg, sizeof msg, "the source went away before the acknowledgement");
    close(fd);
    if (mig_uri_wait(child, werr, sizeof werr) < 0 && r == 0) {
        r = -1;
        snprintf(msg, sizeof msg, "%s", werr);
    }
    if (r < 0)
        snprintf(err, errlen, "-incoming %s: %s", uri, msg);
    return r < 0 ? -1 : 0;
}
