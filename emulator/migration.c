/* migration — the source side of live pre-copy migration (migration.h).
 *
 * Threads. The vCPU thread owns the VM, the shadow MMU and its dirty log;
 * the sender thread only reads guest RAM through the monitor's linear
 * mapping of it and writes the stream. Each round is one sender thread
 * given a list of frames; the guest runs meanwhile. A page the guest
 * writes while it is being copied was write-protected by the sync that
 * listed it, so the write marks it dirty again and the next round (or the
 * final copy) sends it once more: a torn copy is always overwritten. The
 * sender blocks every signal, so the monitor's wake signal and the host
 * timers reach the vCPU thread; its last act is one byte on a pipe that is
 * in the monitor's wake set, which brings the guest back to the monitor
 * loop through the poll page (debug.c).
 *
 * Convergence: after round k the dirty set is taken; if its bytes fit
 * the downtime target (MIG_DOWNTIME_MS, or `migrate_set_parameter
 * downtime-limit`) at the bandwidth measured over the rounds so far, or
 * after MIG_MAX_ROUNDS, or when nothing is dirty, the final stop-and-copy
 * runs on the vCPU thread with the guest stopped (the downtime): the
 * dirty frames, the CPU and device state (snap_put_state), END, then the
 * destination's acknowledgement (sockets) or the command's exit (exec:).
 * Downtime is measured from that stop to the acknowledgement — the
 * destination has loaded everything and runs — or, for exec:, to the
 * close of the pipe after the last byte (as QEMU measures it; the wait for
 * the command's exit counts in the total time only). */
#define _GNU_SOURCE
#include "emulator/migration.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emulator/snapshot.h"
#include "emulator/vcpu.h"
#include "shadowmmu/mmu.h"

#define CHUNK_FRAMES 256u           /* frames per RAM section: 1 MiB, so rounds stream */
#define ACK_TIMEOUT_MS 60000        /* the destination applies everything before it answers */

struct migration {
    struct vm *vm;
    int fd;
    pid_t child;
    bool ack;                       /* a socket: the destination answers */
    struct snap_io fdio, io;        /* io: fdio counting into `written` */
    uint64_t written;               /* stream bytes sent (atomic: the sender adds) */
    struct snap_out *out;
    enum mig_status status;
    /* The round being sent. */
    pthread_t thread;
    bool thread_live;
    int wake[2];                    /* sender -> vCPU thread */
    uint32_t *frames;               /* the round's frames (all of RAM in round 0) */
    size_t nframes;
    int send_rc;                    /* the sender's result */
    uint64_t *bitmap;               /* MMU_DIRTY_WORDS: the last sync */
    /* Figures. */
    uint64_t t_start, t_setup, t_round, t_stop, t_end;   /* CLOCK_MONOTONIC ns */
    uint64_t t_handed;              /* the destination has it all (see complete()) */
    uint64_t sent_rounds_bytes, sent_rounds_ns;
    uint64_t remaining, pages;
    unsigned rounds, syncs;
    unsigned downtime_ms;           /* the target */
    unsigned min_rounds;            /* testing: rounds before the stop at least */
    char error[256];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *mig_status_name(enum mig_status s)
{
    static const char *const names[] = { "none", "setup", "active", "completed", "failed", "cancelled" };
    return names[s];
}

static uint64_t ram_bytes(const struct vm *vm)
{
    uint64_t n = 0;
    for (int i = 0; i < vm->ram.n; i++)
        n += vm->ram.r[i].size;
    return n;
}

/* ---- the sender thread ------------------------------------------------- */

static int counting_write(void *opaque, const void *buf, size_t n)
{
    struct migration *mg = opaque;
    if (mg->fdio.write(mg->fdio.opaque, buf, n) < 0)
        return -1;
    __atomic_fetch_add(&mg->written, n, __ATOMIC_RELAXED);
    return 0;
}

static int send_frames(struct migration *mg, const uint32_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i += CHUNK_FRAMES) {
        size_t k = n - i < CHUNK_FRAMES ? n - i : CHUNK_FRAMES;
        if (snap_put_ram(mg->out, mg->vm, frames + i, k) < 0)
            return -1;
    }
    mg->pages += n;
    return 0;
}

static void *sender(void *arg)
{
    struct migration *mg = arg;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    mg->send_rc = send_frames(mg, mg->frames, mg->nframes);
    if (write(mg->wake[1], "r", 1) < 0) {
        /* the pipe cannot be full: one byte per round */
    }
    return NULL;
}

static int start_round(struct migration *mg)
{
    int rc;

    mg->t_round = now_ns();
    mg->rounds++;
    if ((rc = pthread_create(&mg->thread, NULL, sender, mg)) != 0) {
        snprintf(mg->error, sizeof mg->error, "cannot start the sender thread: %s", strerror(rc));
        return -1;
    }
    mg->thread_live = true;
    return 0;
}

static void join_round(struct migration *mg)
{
    char b;
    if (!mg->thread_live)
        return;
    pthread_join(mg->thread, NULL);
    mg->thread_live = false;
    while (read(mg->wake[0], &b, 1) == 1)
        ;
}

/* ---- set-up and the end ----------------------------------------------- */

/* The frames set in the last sync's bitmap, in mg->frames. */
static void frames_of_bitmap(struct migration *mg)
{
    mg->nframes = 0;
    for (uint32_t w = 0; w < MMU_DIRTY_WORDS; w++)
        for (uint64_t b = mg->bitmap[w]; b; b &= b - 1)
            mg->frames[mg->nframes++] = w * 64 + (uint32_t)__builtin_ctzll(b);
}

static void finish(struct migration *mg, enum mig_status st)
{
    struct mig_info in;

    join_round(mg);
    mmu_dirty_log_stop(mg->vm->mmu);
    if (mg->out) {
        char e[200];
        if (snap_out_finish(mg->out, e, sizeof e) < 0 && mg->send_rc < 0) {
            size_t n = strlen(mg->error);
            snprintf(mg->error + n, sizeof mg->error - n, " (%s)", e);
        }
        mg->out = NULL;
    }
    mg->status = st;
    mg->t_end = now_ns();
    migration_get_info(mg, &in);
    if (st == MIG_CANCELLED)
        fprintf(stderr, "bt86: migration cancelled; the guest runs on\n");
    else if (st == MIG_COMPLETED)
        fprintf(stderr, "bt86: migration completed: total %llu ms, downtime %llu ms, "
                "%llu kbytes sent, %u rounds\n", (unsigned long long)in.total_ms,
                (unsigned long long)in.downtime_ms, (unsigned long long)(in.bytes >> 10), in.rounds);
    else
        fprintf(stderr, "bt86: migration failed: %s; the guest runs on\n", mg->error);
}

static enum mig_status fail(struct migration *mg, const char *why)
{
    if (why)
        snprintf(mg->error, sizeof mg->error, "%s", why);
    if (mg->fd >= 0)
        shutdown(mg->fd, SHUT_RDWR);
    finish(mg, MIG_FAILED);
    return MIG_FAILED;
}

static void close_transport(struct migration *mg)
{
    if (mg->fd >= 0)
        close(mg->fd);
    mg->fd = -1;
}

/* Round 0: the frames of RAM that hold data. Frames the RAM memfd still
 * has as holes were never written and read as zero: they are left out
 * (the destination punches its RAM to zero first, migration_in.c), which
 * spares reading — and so allocating — untouched guest memory. A store
 * into one during the round marks it for the next. Without SEEK_DATA:
 * every frame. */
static uint32_t ram_data_frames(struct vm *vm, uint32_t *frames)
{
    uint32_t n = 0;

    for (int i = 0; i < vm->ram.n; i++) {
        const struct ram_region *r = &vm->ram.r[i];
        uint64_t off = 0;
        while (off < r->size) {
            off_t d = lseek(vm->ram.fd, (off_t)(r->fd_off + off), SEEK_DATA), h;
            if (d < 0 && errno != ENXIO)
                d = (off_t)(r->fd_off + off), h = (off_t)(r->fd_off + r->size);
            else if (d < 0 || (uint64_t)d >= r->fd_off + r->size)
                break;
            else if ((h = lseek(vm->ram.fd, d, SEEK_HOLE)) < 0 || (uint64_t)h > r->fd_off + r->size)
                h = (off_t)(r->fd_off + r->size);
            for (uint64_t a = ((uint64_t)d - r->fd_off) & ~4095ull; a < (uint64_t)h - r->fd_off; a += 4096)
                frames[n++] = (uint32_t)((r->gpa + a) >> 12);
            off = (((uint64_t)h - r->fd_off) + 4095) & ~4095ull;
        }
    }
    return n;
}

struct migration *migration_start(struct vm *vm, const char *uri, const struct mig_params *p,
                                  char *err, size_t errlen)
{
    struct migration *mg = calloc(1, sizeof *mg);
    uint32_t n = 0;

    if (!mg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mg->vm = vm;
    mg->downtime_ms = p->downtime_ms ? p->downtime_ms : MIG_DOWNTIME_MS;
    mg->min_rounds = p->min_rounds > MIG_MAX_ROUNDS ? MIG_MAX_ROUNDS : p->min_rounds;
    mg->t_start = now_ns();
    mg->wake[0] = mg->wake[1] = -1;
    /* A dropped connection is an error from write, not a SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    mg->fd = mig_uri_connect(uri, &mg->child, &mg->ack, err, errlen);
    if (mg->fd < 0)
        goto fail;
    mg->frames = malloc((size_t)(ram_bytes(vm) >> 12) * sizeof *mg->frames);
    mg->bitmap = malloc(MMU_DIRTY_WORDS * sizeof *mg->bitmap);
    if (!mg->frames || !mg->bitmap || pipe2(mg->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "migration: out of memory");
        goto fail;
    }
    mg->fdio = snap_io_fd(&mg->fd);
    mg->io = (struct snap_io){ .write = counting_write, .read = mg->fdio.read, .opaque = mg };
    if (!(mg->out = snap_out_new(&mg->io)) || snap_put_config(mg->out, vm) < 0) {
        snprintf(err, errlen, "migration: cannot send the machine configuration");
        goto fail;
    }
    if (!mmu_dirty_log_start(vm->mmu)) {
        snprintf(err, errlen, "migration: no memory for the dirty log");
        goto fail;
    }
    n = ram_data_frames(vm, mg->frames);
    mg->nframes = n;
    mg->remaining = (uint64_t)n << 12;
    mg->status = MIG_ACTIVE;
    mg->t_setup = now_ns();
    if (start_round(mg) < 0) {
        snprintf(err, errlen, "migration: %s", mg->error);
        mmu_dirty_log_stop(vm->mmu);
        goto fail;
    }
    return mg;
fail:
    if (mg->out) {
        char e[8];
        snap_out_finish(mg->out, e, sizeof e);
    }
    mg->out = NULL;
    close_transport(mg);
    if (mg->child > 0) {
        char e[8];
        mig_uri_wait(mg->child, e, sizeof e);
    }
    migration_free(mg);
    return NULL;
}

int migration_wake_fd(const struct migration *mg) { return mg->wake[0]; }

/* Stop-and-copy, the guest stopped: the last dirty frames (already synced
 * into mg->frames), the machine state, END, the acknowledgement. */
static enum mig_status complete(struct migration *mg)
{
    char e[200], reply = 0;

    mg->t_stop = now_ns();
    if (send_frames(mg, mg->frames, mg->nframes) < 0 || snap_put_state(mg->out, mg->vm) < 0) {
        mg->send_rc = -1;
        return fail(mg, "the connection failed while sending the final state");
    }
    mg->remaining = 0;
    if (snap_out_finish(mg->out, e, sizeof e) < 0) {
        mg->out = NULL;
        return fail(mg, e);
    }
    mg->out = NULL;
    if (mg->ack) {
        struct pollfd p = { .fd = mg->fd, .events = POLLIN };
        shutdown(mg->fd, SHUT_WR);
        if (poll(&p, 1, ACK_TIMEOUT_MS) <= 0 || read(mg->fd, &reply, 1) != 1 || reply != MIG_ACK)
            return fail(mg, "the destination did not accept the stream");
        mg->t_handed = now_ns();
    } else {
        close_transport(mg);
        mg->t_handed = now_ns();
        if (mig_uri_wait(mg->child, e, sizeof e) < 0) {
            mg->child = -1;
            return fail(mg, e);
        }
        mg->child = -1;
    }
    finish(mg, MIG_COMPLETED);
    return MIG_COMPLETED;
}

enum mig_status migration_step(struct migration *mg)
{
    char b;
    uint64_t t = now_ns(), bw, budget;
    uint32_t dirty;

    if (mg->status != MIG_ACTIVE)
        return mg->status;
    if (read(mg->wake[0], &b, 1) != 1)
        return mg->status;          /* a spurious wake: the round goes on */
    join_round(mg);
    if (mg->send_rc < 0)
        return fail(mg, "the connection failed");
    mg->sent_rounds_ns += t - mg->t_round;
    mg->sent_rounds_bytes = __atomic_load_n(&mg->written, __ATOMIC_RELAXED);
    dirty = mmu_dirty_log_sync(mg->vm->mmu, mg->bitmap);
    mg->syncs++;
    mg->remaining = (uint64_t)dirty << 12;
    frames_of_bitmap(mg);
    /* Bytes per second over all rounds so far; what fits the downtime. */
    bw = mg->sent_rounds_ns ? mg->sent_rounds_bytes * 1000000000u / mg->sent_rounds_ns : 0;
    budget = bw * mg->downtime_ms / 1000;
    if (((dirty == 0 || mg->remaining <= budget) && mg->rounds >= mg->min_rounds) ||
        mg->rounds >= MIG_MAX_ROUNDS)
        return complete(mg);
    if (start_round(mg) < 0)
        return fail(mg, NULL);
    return MIG_ACTIVE;
}

void migration_get_info(const struct migration *mg, struct mig_info *out)
{
    uint64_t end = mg->status == MIG_ACTIVE ? now_ns() : mg->t_end;

    memset(out, 0, sizeof *out);
    out->status = mg->status;
    out->total_ms = (end - mg->t_start) / 1000000u;
    out->setup_ms = (mg->t_setup - mg->t_start) / 1000000u;
    out->downtime_ms = mg->status == MIG_COMPLETED ? (mg->t_handed - mg->t_stop) / 1000000u : 0;
    out->bytes = __atomic_load_n(&mg->written, __ATOMIC_RELAXED);
    out->ram_total = ram_bytes(mg->vm);
    out->remaining = mg->remaining;
    out->pages_sent = mg->pages;
    out->rounds = mg->rounds;
    out->syncs = mg->syncs;
    out->mbps = mg->sent_rounds_ns ? (double)mg->sent_rounds_bytes * 8e3 / (double)mg->sent_rounds_ns : 0;
    snprintf(out->error, sizeof out->error, "%s", mg->error);
}

void migration_cancel(struct migration *mg)
{
    if (mg->status != MIG_ACTIVE)
        return;
    /* Unblock a sender stuck in write, then stop. */
    if (mg->fd >= 0)
        shutdown(mg->fd, SHUT_RDWR);
    if (mg->child > 0)
        kill(mg->child, SIGTERM);
    snprintf(mg->error, sizeof mg->error, "cancelled");
    finish(mg, MIG_CANCELLED);
}

void migration_free(struct migration *mg)
{
    if (!mg)
        return;
    migration_cancel(mg);
    join_round(mg);
    if (mg->out) {
        char e[8];
        snap_out_finish(mg->out, e, sizeof e);
    }
    close_transport(mg);
    if (mg->child > 0) {
        char e[8];
        mig_uri_wait(mg->child, e, sizeof e);
    }
    if (mg->wake[0] >= 0)
        close(mg->wake[0]);
    if (mg->wake[1] >= 0)
        close(mg->wake[1]);
    free(mg->frames);
    free(mg->bitmap);
    free(mg);
}
