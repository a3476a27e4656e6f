/* snapshot — the stream: header, checksummed sections, RAM pages, END
 * (snapshot.h describes the format and how to use it), and the files of
 * savevm/loadvm/-loadvm. The machine's own sections are snapshot_state.c.
 *
 * Reading never changes the VM: sections are checked (length, version,
 * XXH3 checksum, what the section says against this machine) and staged;
 * snap_in_apply changes the VM only once the whole stream was read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "emulator/snapshot_int.h"
#include "emulator/vcpu.h"

#define SNAP_ID_RAM       SNAP_ID('R', 'A', 'M', ' ')
#define SNAP_RAM_VERSION  1u
#define RAM_BATCH         256u                  /* pages per RAM section (1 MiB) */
#define SECTION_MAX       (64ull << 20)          /* no state section is longer */
#define STAGED_MAX        64

/* ---- buffers and fds ---------------------------------------------------- */

void sb_put(struct snap_buf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static int fd_write(void *opaque, const void *buf, size_t n)
{
    int fd = *(int *)opaque;
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t fd_read(void *opaque, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(*(int *)opaque, buf, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

struct snap_io snap_io_fd(int *fd) { return (struct snap_io){ fd_write, fd_read, fd }; }

const char *snap_id_name(uint32_t id, char buf[8])
{
    int n = 0;
    for (int i = 0; i < 4; i++) {
        char c = (char)(id >> (8 * i));
        buf[n++] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    while (n > 1 && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    return buf;
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    uint64_t acc = 0;
    for (unsigned i = 0; i < SNAP_PAGE / 8; i += 8)
        acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
    return acc == 0;
}

/* The monitor's view of guest frame `frame`, or NULL if it is not RAM. */
static uint8_t *frame_host(struct vm *vm, uint32_t frame, int *region)
{
    uint64_t gpa = (uint64_t)frame * SNAP_PAGE;
    for (int i = 0; i < vm->ram.n; i++) {
        const struct ram_region *r = &vm->ram.r[i];
        if (gpa >= r->gpa && gpa < r->gpa + r->size) {
            if (region)
                *region = i;
            return r->host + (gpa - r->gpa);
        }
    }
    return NULL;
}

/* ---- writing ------------------------------------------------------------ */

struct snap_out {
    struct snap_io io;
    uint64_t bytes;
    int failed;                 /* errno of the first failure, or -1 for out of memory */
    char what[120];
};

static int out_fail(struct snap_out *o, int e, const char *what)
{
    if (!o->failed) {
        o->failed = e ? e : -1;
        snprintf(o->what, sizeof o->what, "%s", what);
    }
    return -1;
}

static int out_write(struct snap_out *o, const void *p, size_t n)
{
    if (o->failed)
        return -1;
    if (o->io.write(o->io.opaque, p, n) < 0)
        return out_fail(o, errno ? errno : EIO, "write");
    o->bytes += n;
    return 0;
}

struct snap_out *snap_out_new(const struct snap_io *io)
{
    struct snap_out *o = calloc(1, sizeof *o);
    uint8_t hdr[16] = SNAP_MAGIC;
    uint32_t version = SNAP_FORMAT_VERSION;

    if (!o)
        return NULL;
    o->io = *io;
    memcpy(hdr + 8, &version, 4);
    out_write(o, hdr, sizeof hdr);
    return o;
}

int snap_put_section(struct snap_out *o, uint32_t id, uint32_t version, const void *payload,
                     size_t len)
{
    uint8_t hdr[16];
    uint64_t len64 = len, sum;
    XXH3_state_t *st = XXH3_createState();

    if (!st)
        return out_fail(o, ENOMEM, "checksum");
    memcpy(hdr, &id, 4);
    memcpy(hdr + 4, &version, 4);
    memcpy(hdr + 8, &len64, 8);
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, hdr, sizeof hdr);
    XXH3_64bits_update(st, payload, len);
    sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    if (out_write(o, hdr, sizeof hdr) < 0 || out_write(o, payload, len) < 0 ||
        out_write(o, &sum, sizeof sum) < 0)
        return -1;
    return 0;
}

int snap_put_buf(struct snap_out *o, uint32_t id, uint32_t version, struct snap_buf *b)
{
    int rc = b->oom ? out_fail(o, ENOMEM, "state") : snap_put_section(o, id, version, b->p, b->len);
    free(b->p);
    *b = (struct snap_buf){ 0 };
    return rc;
}

/* A RAM section is built in b, whose memory is kept for the next one. */
static int put_ram_section(struct snap_out *o, struct snap_buf *b)
{
    int rc = b->oom ? out_fail(o, ENOMEM, "RAM") :
                      snap_put_section(o, SNAP_ID_RAM, SNAP_RAM_VERSION, b->p, b->len);
    b->len = 0;
    return rc;
}

static int put_page(struct snap_out *o, struct snap_buf *b, unsigned *npages, uint32_t frame,
                    const uint8_t *host)
{
    if (page_is_zero(host)) {
        sb_u32(b, frame | SNAP_RAM_ZERO);
    } else {
        sb_u32(b, frame);
        sb_put(b, host, SNAP_PAGE);
    }
    if (++*npages == RAM_BATCH) {
        *npages = 0;
        return put_ram_section(o, b);
    }
    return 0;
}

int snap_put_ram(struct snap_out *o, struct vm *vm, const uint32_t *frames, size_t n)
{
    struct snap_buf b = { 0 };
    unsigned npages = 0;
    int rc = 0;

    b.p = malloc(b.cap = RAM_BATCH * (4 + SNAP_PAGE));
    if (!b.p)
        return out_fail(o, ENOMEM, "RAM");
    if (frames) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            const uint8_t *host = frame_host(vm, frames[i], NULL);
            if (!host) {
                free(b.p);
                return out_fail(o, EINVAL, "a frame outside RAM");
            }
            rc = put_page(o, &b, &npages, frames[i], host);
        }
    } else {
        for (int r = 0; r < vm->ram.n && rc == 0; r++) {
            const struct ram_region *reg = &vm->ram.r[r];
            for (uint64_t off = 0; off < reg->size && rc == 0; off += SNAP_PAGE) {
                if (page_is_zero(reg->host + off))
                    continue;   /* a full snapshot: unlisted pages are zero */
                rc = put_page(o, &b, &npages, (uint32_t)((reg->gpa + off) / SNAP_PAGE),
                              reg->host + off);
            }
        }
    }
    if (rc == 0 && npages)
        rc = put_ram_section(o, &b);
    free(b.p);
    return rc;
}

int snap_put_config(struct snap_out *o, struct vm *vm) { return snap_config_put(o, vm); }
int snap_put_state(struct snap_out *o, struct vm *vm) { return snap_state_put(o, vm); }

uint64_t snap_out_bytes(const struct snap_out *o) { return o->bytes; }

int snap_out_finish(struct snap_out *o, char *err, size_t errlen)
{
    int rc;
    snap_put_section(o, SNAP_ID_END, 1, NULL, 0);
    rc = o->failed ? -1 : 0;
    if (rc)
        snprintf(err, errlen, "snapshot %s failed: %s", o->what,
                 o->failed > 0 ? strerror(o->failed) : "out of memory");
    free(o);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

/* A region's pages as staged: in a memfd of their own, written with
 * pwritev (a shmem page written whole is never cleared first, and fresh
 * memory's first touch is what costs most), read into RAM with pread. */
struct staged_ram {
    int fd;                     /* -1: nothing staged */
    uint8_t *state;             /* per frame: 0 not in the stream, 1 data, 2 zero */
    size_t size;
};

/* Consecutive pages for one fd, written with one pwritev. */
struct page_run {
    int fd, n;
    off_t start;
    struct iovec iov[RAM_BATCH];
};

static int run_flush(struct page_run *w)
{
    struct iovec *iov = w->iov;
    int n = w->n;
    off_t at = w->start;

    w->n = 0;
    while (n > 0) {
        ssize_t done = pwritev(w->fd, iov, n, at);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return -1;
        at += done;
        while (n > 0 && (size_t)done >= iov->iov_len) {
            done -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= (size_t)done;
        }
    }
    return 0;
}

static int run_add(struct page_run *w, int fd, off_t off, const void *page)
{
    if (w->n && (w->fd != fd || w->start + (off_t)w->n * SNAP_PAGE != off || w->n == RAM_BATCH) &&
        run_flush(w) < 0)
        return -1;
    if (!w->n) {
        w->fd = fd;
        w->start = off;
    }
    w->iov[w->n++] = (struct iovec){ (void *)page, SNAP_PAGE };
    return 0;
}

struct snap_in {
    struct vm *vm;
    bool header, direct, full, ended;
    bool cleared;               /* direct: RAM zeroed before the first page of a full stream */
    struct { const struct snap_section *s; uint8_t *p; size_t n; } st[STAGED_MAX];
    int nst;
    struct staged_ram ram[RAM_MAX_REGIONS];
    uint8_t *rbuf;              /* RAM sections' payloads, one after the other */
};

struct snap_in *snap_in_new(struct vm *vm)
{
    struct snap_in *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->vm = vm;
    for (int i = 0; i < RAM_MAX_REGIONS; i++)
        in->ram[i].fd = -1;
    return in;
}

void snap_in_direct_ram(struct snap_in *in, bool direct) { in->direct = direct; }

void snap_in_free(struct snap_in *in)
{
    if (!in)
        return;
    for (int i = 0; i < in->nst; i++)
        free(in->st[i].p);
    for (int i = 0; i < RAM_MAX_REGIONS; i++) {
        if (in->ram[i].fd >= 0)
            close(in->ram[i].fd);
        free(in->ram[i].state);
    }
    free(in->rbuf);
    free(in);
}

/* Exactly n bytes; 0, or -1 with "truncated" / the read error in err. */
static int read_full(const struct snap_io *io, void *buf, size_t n, const char *what, char *err,
                     size_t errlen)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = io->read(io->opaque, p, n);
        if (r < 0) {
            snprintf(err, errlen, "cannot read the snapshot (%s): %s", what, strerror(errno));
            return -1;
        }
        if (r == 0) {
            snprintf(err, errlen, "the snapshot is truncated (in %s)", what);
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int read_header(struct snap_in *in, const struct snap_io *io, char *err, size_t errlen)
{
    uint8_t hdr[16];
    uint32_t version;

    if (read_full(io, hdr, sizeof hdr, "the file header", err, errlen) < 0)
        return -1;
    if (memcmp(hdr, SNAP_MAGIC, 8)) {
        snprintf(err, errlen, "not a bt86 snapshot (no %s magic)", SNAP_MAGIC);
        return -1;
    }
    memcpy(&version, hdr + 8, 4);
    if (version != SNAP_FORMAT_VERSION) {
        snprintf(err, errlen, "snapshot format version %u, this bt86 reads version %u", version,
                 SNAP_FORMAT_VERSION);
        return -1;
    }
    if (memcmp(hdr + 12, "\0\0\0\0", 4)) {
        snprintf(err, errlen, "corrupt snapshot header");
        return -1;
    }
    in->header = true;
    return 0;
}

static struct staged_ram *ram_stage(struct snap_in *in, int region)
{
    struct staged_ram *s = &in->ram[region];
    const struct ram_region *r = &in->vm->ram.r[region];
    if (s->fd >= 0)
        return s;
    s->size = r->size;
    s->fd = memfd_create("bt86-snapshot-staging", MFD_CLOEXEC);
    s->state = calloc(s->size / SNAP_PAGE, 1);
    if (s->fd < 0 || !s->state || ftruncate(s->fd, (off_t)s->size) < 0) {
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        free(s->state);
        s->state = NULL;
        return NULL;
    }
    return s;
}

/* Guest RAM [off, off+len) of region r becomes zero, its memory freed. */
static void ram_zero(struct vm *vm, const struct ram_region *r, size_t off, size_t len)
{
    if (fallocate(vm->ram.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)(r->fd_off + off), (off_t)len) < 0)
        memset(r->host + off, 0, len);
}

/* Check a RAM section's records, then stage them (or write them, direct). */
static int ram_section(struct snap_in *in, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    struct vm *vm = in->vm;

    for (size_t i = 0; i < n;) {
        uint32_t rec;
        if (n - i < 4)
            goto bad;
        memcpy(&rec, p + i, 4);
        if (!frame_host(vm, rec & ~SNAP_RAM_ZERO, NULL)) {
            snprintf(err, errlen, "the snapshot has a RAM page at 0x%llx, outside this machine's RAM "
                     "(another -m?)", (unsigned long long)(rec & ~SNAP_RAM_ZERO) * SNAP_PAGE);
            return -1;
        }
        i += 4 + (rec & SNAP_RAM_ZERO ? 0 : SNAP_PAGE);
        if (i > n)
            goto bad;
    }
    if (in->direct && in->full && !in->cleared) {
        for (int r = 0; r < vm->ram.n; r++)
            ram_zero(vm, &vm->ram.r[r], 0, vm->ram.r[r].size);
        in->cleared = true;
    }
    struct page_run w = { .n = 0 };
    for (size_t i = 0; i < n;) {
        uint32_t rec;
        int region = 0;
        memcpy(&rec, p + i, 4);
        uint8_t *host = frame_host(vm, rec & ~SNAP_RAM_ZERO, &region);
        const struct ram_region *r = &vm->ram.r[region];
        const uint8_t *data = rec & SNAP_RAM_ZERO ? NULL : p + i + 4;
        size_t off = (size_t)(host - r->host);
        i += 4 + (data ? SNAP_PAGE : 0);
        if (in->direct) {
            if (data ? run_add(&w, vm->ram.fd, (off_t)(r->fd_off + off), data) < 0 : 0)
                goto nomem;
            if (!data)
                ram_zero(vm, r, off, SNAP_PAGE);
            continue;
        }
        struct staged_ram *s = ram_stage(in, region);
        if (!s || (data && run_add(&w, s->fd, (off_t)off, data) < 0))
            goto nomem;
        s->state[off / SNAP_PAGE] = data ? 1 : 2;
    }
    if (w.n && run_flush(&w) < 0)
        goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory for the snapshot's RAM: %s", strerror(errno));
    return -1;
bad:
    snprintf(err, errlen, "corrupt RAM section in the snapshot");
    return -1;
}

static int stage(struct snap_in *in, const struct snap_section *s, uint8_t *p, size_t n)
{
    for (int i = 0; i < in->nst; i++)
        if (in->st[i].s == s) {     /* a later copy replaces an earlier one */
            free(in->st[i].p);
            in->st[i].p = p;
            in->st[i].n = n;
            return 0;
        }
    if (in->nst == STAGED_MAX)
        return -1;
    in->st[in->nst].s = s;
    in->st[in->nst].p = p;
    in->st[in->nst++].n = n;
    return 0;
}

int snap_in_next(struct snap_in *in, const struct snap_io *io, char *err, size_t errlen)
{
    uint8_t hdr[16];
    uint32_t id, version;
    uint64_t len, sum;
    const struct snap_section *s = NULL;
    uint8_t *payload = NULL;
    char name[8];
    XXH3_state_t *st;

    if (in->ended) {
        snprintf(err, errlen, "the snapshot stream already ended");
        return -1;
    }
    if (!in->header && read_header(in, io, err, errlen) < 0)
        return -1;
    if (read_full(io, hdr, sizeof hdr, "a section header", err, errlen) < 0)
        return -1;
    memcpy(&id, hdr, 4);
    memcpy(&version, hdr + 4, 4);
    memcpy(&len, hdr + 8, 8);
    snap_id_name(id, name);
    if (id == SNAP_ID_RAM || id == SNAP_ID_END) {
        uint32_t want = id == SNAP_ID_RAM ? SNAP_RAM_VERSION : 1;
        if (version != want) {
            snprintf(err, errlen, "snapshot section %s has version %u, this bt86 reads %u", name,
                     version, want);
            return -1;
        }
        if (len > (id == SNAP_ID_RAM ? RAM_BATCH * (4 + SNAP_PAGE) : 0))
            goto too_long;
    } else {
        s = snap_section_find(id);
        if (!s) {
            snprintf(err, errlen, "unknown section '%s' in the snapshot (corrupt, or from another "
                     "bt86)", name);
            return -1;
        }
        if (version != snap_section_version(s)) {
            snprintf(err, errlen, "snapshot section %s has version %u, this bt86 reads %u", name,
                     version, snap_section_version(s));
            return -1;
        }
        if (len > SECTION_MAX)
            goto too_long;
    }
    if (id == SNAP_ID_RAM && !in->rbuf)
        in->rbuf = malloc(RAM_BATCH * (4 + SNAP_PAGE));
    payload = id == SNAP_ID_RAM ? in->rbuf : malloc(len ? len : 1);
    if (!payload) {
        snprintf(err, errlen, "out of memory reading the snapshot");
        return -1;
    }
    if (read_full(io, payload, len, name, err, errlen) < 0 ||
        read_full(io, &sum, sizeof sum, name, err, errlen) < 0) {
        if (payload != in->rbuf)
            free(payload);
        return -1;
    }
    st = XXH3_createState();
    if (!st) {
        if (payload != in->rbuf)
            free(payload);
        snprintf(err, errlen, "out of memory reading the snapshot");
        return -1;
    }
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, hdr, sizeof hdr);
    XXH3_64bits_update(st, payload, len);
    if (XXH3_64bits_digest(st) != sum) {
        XXH3_freeState(st);
        if (payload != in->rbuf)
            free(payload);
        snprintf(err, errlen, "checksum mismatch in snapshot section %s (the file is corrupt)", name);
        return -1;
    }
    XXH3_freeState(st);
    if (id == SNAP_ID_END) {
        free(payload);
        in->ended = true;
        return (int)id;
    }
    if (id == SNAP_ID_RAM)
        return ram_section(in, payload, len, err, errlen) < 0 ? -1 : (int)id;
    if (s->check(s, in->vm, payload, len, err, errlen) < 0 || stage(in, s, payload, len) < 0) {
        if (!*err)
            snprintf(err, errlen, "too many sections in the snapshot");
        free(payload);
        return -1;
    }
    if (id == snap_sections[0].id)
        in->full = true;        /* CONF comes first: a whole machine */
    return (int)id;
too_long:
    snprintf(err, errlen, "snapshot section %s is %llu bytes long: corrupt", name,
             (unsigned long long)len);
    return -1;
}

/* Staged frames [f, f+n) into RAM. Only a host failure could stop it,
 * and a memfd read has none. */
static void copy_staged(const struct staged_ram *s, const struct ram_region *r, size_t f, size_t n)
{
    size_t done = 0, len = n * SNAP_PAGE;
    while (done < len) {
        ssize_t got = pread(s->fd, r->host + f * SNAP_PAGE + done, len - done,
                            (off_t)(f * SNAP_PAGE + done));
        if (got <= 0 && errno != EINTR)
            break;
        if (got > 0)
            done += (size_t)got;
    }
}

/* Staged pages into RAM. A full snapshot zeroes what it does not hold
 * (runs of frames punched out of the memfd, so they cost no memory); a
 * page it holds is copied over the old one, which in a running VM is
 * already there (no fault). */
static void ram_apply(struct snap_in *in)
{
    struct vm *vm = in->vm;
    for (int i = 0; i < vm->ram.n; i++) {
        const struct ram_region *r = &vm->ram.r[i];
        const struct staged_ram *s = &in->ram[i];
        size_t frames = r->size / SNAP_PAGE, run = 0;
        int kind = 0;           /* of the run: 1 staged data, 2 zero */

        if (s->fd < 0) {
            if (in->full && !in->direct)
                ram_zero(vm, r, 0, r->size);
            continue;
        }
        for (size_t f = 0; f <= frames; f++) {
            int k = f == frames ? 0 : s->state[f] == 1 ? 1 : in->full || s->state[f] == 2 ? 2 : 0;
            if (k == kind && k) {
                run++;
                continue;
            }
            if (kind == 1)
                copy_staged(s, r, f - run, run);
            else if (kind == 2)
                ram_zero(vm, r, (f - run) * SNAP_PAGE, run * SNAP_PAGE);
            kind = k;
            run = 1;
        }
    }
}

int snap_in_apply(struct snap_in *in, struct vm *vm, char *err, size_t errlen)
{
    char name[8];

    if (vm != in->vm) {
        snprintf(err, errlen, "snapshot staged for another VM");
        return -1;
    }
    if (in->full) {
        for (const struct snap_section *s = snap_sections; s->id; s++) {
            bool seen = false;
            for (int i = 0; i < in->nst; i++)
                seen |= in->st[i].s == s;
            if (snap_section_required(s, vm) && !seen) {
                snprintf(err, errlen, "the snapshot has no %s section (incomplete)",
                         snap_id_name(s->id, name));
                return -1;
            }
        }
    }
    /* Nothing below fails: every section was checked when it was read. */
    ram_apply(in);
    for (const struct snap_section *s = snap_sections; s->id; s++)
        for (int i = 0; i < in->nst; i++)
            if (in->st[i].s == s)
                s->apply(s, vm, in->st[i].p, in->st[i].n);
    snap_state_loaded(vm);
    return 0;
}

/* ---- files -------------------------------------------------------------- */

int vm_snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    int fd, rc;
    struct snap_io io;
    struct snap_out *o;

    /* Written beside the target and renamed: a failed save leaves no half
     * file under the name (and an old snapshot there intact). */
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    io = snap_io_fd(&fd);
    o = snap_out_new(&io);
    if (!o) {
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snap_put_config(o, vm);
    snap_put_state(o, vm);
    snap_put_ram(o, vm, NULL, 0);
    rc = snap_out_finish(o, err, errlen);
    if (close(fd) < 0 && rc == 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int load(struct vm *vm, const char *path, bool direct, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), r;
    struct snap_io io = snap_io_fd(&fd);
    struct snap_in *in;
    char extra, msg[300] = "";

    if (fd < 0) {
        snprintf(err, errlen, "cannot open snapshot '%s': %s", path, strerror(errno));
        return -1;
    }
    in = snap_in_new(vm);
    if (!in) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snap_in_direct_ram(in, direct);
    while ((r = snap_in_next(in, &io, msg, sizeof msg)) > 0 && r != (int)SNAP_ID_END)
        ;
    if (r == (int)SNAP_ID_END && !in->full) {
        snprintf(msg, sizeof msg, "the snapshot has no machine configuration (a migration stream?)");
        r = -1;
    }
    if (r == (int)SNAP_ID_END && read(fd, &extra, 1) != 0) {
        snprintf(msg, sizeof msg, "data after the end of the snapshot (corrupt)");
        r = -1;
    }
    if (r == (int)SNAP_ID_END)
        r = snap_in_apply(in, vm, msg, sizeof msg);
    snap_in_free(in);
    close(fd);
    if (r < 0) {
        snprintf(err, errlen, "'%s': %s", path, msg);
        return -1;
    }
    return 0;
}

int vm_snapshot_load(struct vm *vm, const char *path, char *err, size_t errlen)
{
    return load(vm, path, false, err, errlen);
}

int vm_snapshot_load_new(struct vm *vm, const char *path, char *err, size_t errlen)
{
    return load(vm, path, true, err, errlen);
}
