/* migration — live pre-copy migration of a running VM (DESIGN §6a).
 *
 * Source (`migrate URI` in the HMP, `migrate` in QMP): migration_start
 * connects and switches the shadow MMU's dirty logging on; a sender thread
 * writes the snapshot stream (snapshot.h: header, CONF, RAM sections) while
 * the guest keeps running; each time it finishes a round it wakes the vCPU
 * thread (migration_wake_fd), whose migration_step takes the frames written
 * meanwhile (get and clear) and either hands them to a new round or, when
 * they fit the downtime target at the bandwidth measured so far (or after
 * MIG_MAX_ROUNDS), keeps the guest stopped and sends them, the CPU and
 * device state and END, then waits for the destination's acknowledgement.
 * A failure anywhere (refused connection, dropped connection, a destination
 * that rejects the stream) ends the migration with one line, dirty logging
 * off, and the guest running on. After a completed migration the source
 * stays stopped, as QEMU's does ("postmigrate").
 *
 * Destination (`-incoming URI`): migration_incoming waits for the stream,
 * reads it into the VM (snap_in_* with RAM written in place), acknowledges,
 * and returns; the caller then runs the VM.
 *
 * URIs: tcp:HOST:PORT, unix:PATH, exec:CMD (source: a shell command that
 * reads the stream on its stdin, e.g. exec:cat > FILE; destination: one
 * that writes it on its stdout, e.g. exec:cat FILE). Sockets carry a
 * one-byte acknowledgement back; exec: succeeds when the command exits 0. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm;

#define MIG_MAX_ROUNDS 30            /* pre-copy rounds before the guest is stopped anyway */
#define MIG_DOWNTIME_MS 300          /* QEMU's default downtime limit */
#define MIG_ACK 'K'                  /* destination: stream applied */

enum mig_status { MIG_NONE, MIG_SETUP, MIG_ACTIVE, MIG_COMPLETED, MIG_FAILED, MIG_CANCELLED };

struct mig_info {
    enum mig_status status;
    uint64_t total_ms;               /* start to completion (or to now) */
    uint64_t downtime_ms;            /* guest stopped to destination acknowledged */
    uint64_t setup_ms;               /* connecting and switching logging on */
    uint64_t bytes;                  /* stream bytes sent */
    uint64_t ram_total;              /* guest RAM bytes */
    uint64_t remaining;              /* bytes of RAM dirty at the last sync */
    uint64_t pages_sent;             /* RAM records sent, all rounds */
    unsigned rounds;                 /* pre-copy rounds (the first sends all of RAM) */
    unsigned syncs;                  /* dirty-log get-and-clear passes */
    double mbps;                     /* measured bandwidth, megabits per second */
    char error[256];                 /* MIG_FAILED: why */
};

struct migration;

/* Connect to uri and start round 0 (all of RAM) in the sender thread;
 * NULL and one line in err if the URI is bad or the connection fails;
 * the VM is untouched then. */
struct mig_params {
    unsigned downtime_ms;            /* the last copy's target (0: MIG_DOWNTIME_MS) */
    unsigned min_rounds;             /* testing: pre-copy rounds before the stop, even
                                        when the dirty set is small (0: 1) */
};
struct migration *migration_start(struct vm *vm, const char *uri, const struct mig_params *p,
                                  char *err, size_t errlen);
/* Readable when the sender thread needs the vCPU thread (a round done). */
int migration_wake_fd(const struct migration *mg);
/* On the vCPU thread, the guest between runs, when the wake fd is
 * readable: the next round, or the final stop-and-copy (the guest stays
 * stopped meanwhile: the downtime). The status afterwards: MIG_ACTIVE
 * (call again on the next wake), MIG_COMPLETED or MIG_FAILED (done: the
 * stderr line is printed; free it whenever). */
enum mig_status migration_step(struct migration *mg);
void migration_get_info(const struct migration *mg, struct mig_info *out);
/* migrate_cancel: an active migration ends (MIG_CANCELLED), dirty logging
 * off, the guest runs on. */
void migration_cancel(struct migration *mg);
/* Cancels an active migration (the guest ended the run meanwhile). */
void migration_free(struct migration *mg);
const char *mig_status_name(enum mig_status s);

/* -incoming: wait for a migration stream at uri and load it into vm (the
 * RAM in place, then the CPU and devices), acknowledge. 0, or -1 and one
 * line in err (the VM must not be run then). */
int migration_incoming(struct vm *vm, const char *uri, char *err, size_t errlen);

/* Transports (migration_uri.c). Source: a fd to write the stream to;
 * *child is the exec: command's pid (else -1), *ack whether an
 * acknowledgement byte comes back on the fd. Destination: a fd to read the
 * stream from (after accepting the one connection). -1 and err. */
int mig_uri_connect(const char *uri, pid_t *child, bool *ack, char *err, size_t errlen);
int mig_uri_accept(const char *uri, pid_t *child, bool *ack, char *err, size_t errlen);
/* exec: wait for the command; 0 if it exited 0, else -1 and err. */
int mig_uri_wait(pid_t child, char *err, size_t errlen);
