/* worker — a backend in a forked child, talking through shared memory and
 * a pipe pair: one byte per case each way. A dead or hung child yields a
 * result of its own kind and is replaced on the next submit. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend.h"

struct shm { struct dt_case c; struct dt_result r; };

struct worker {
    const struct backend *be;
    pid_t pid;
    int to, from;
    struct shm *shm;
    bool busy;
    char err[160];
};

static void child(const struct backend *be, struct shm *shm, int in, int out) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char err[160] = "";
    void *ctx = be->open(err, sizeof err);
    uint8_t cmd;
    while (read(in, &cmd, 1) == 1) {
        if (!ctx) {
            memset(&shm->r, 0, sizeof shm->r);
            shm->r.exit = DT_EXIT_ERROR;
            shm->r.vector = DT_VECTOR_OPEN_FAILED;
            snprintf(shm->r.msg, sizeof shm->r.msg, "%s: %s", be->name, err);
        } else {
            be->run(ctx, &shm->c, &shm->r);
        }
        if (write(out, &cmd, 1) != 1) break;
    }
    _exit(0);
}

static bool spawn(struct worker *w) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) return false;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        close(a[1]); close(b[0]);
        child(w->be, w->shm, a[0], b[1]);
    }
    close(a[0]); close(b[1]);
    w->pid = pid; w->to = a[1]; w->from = b[0];
    return true;
}

static void reap(struct worker *w, int *status) {
    if (w->pid <= 0) return;
    close(w->to); close(w->from);
    kill(w->pid, SIGKILL);
    waitpid(w->pid, status, 0);
    w->pid = 0;
}

struct worker *worker_new(const struct backend *b) {
    struct worker *w = calloc(1, sizeof *w);
    w->be = b;
    w->shm = mmap(NULL, sizeof *w->shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w->shm == MAP_FAILED) { free(w); return NULL; }
    signal(SIGPIPE, SIG_IGN);
    return w;
}

void worker_free(struct worker *w) {
    if (!w) return;
    int st;
    reap(w, &st);
    munmap(w->shm, sizeof *w->shm);
    free(w);
}

void worker_submit(struct worker *w, const struct dt_case *c) {
    w->shm->c = *c;
    w->busy = false;
    if (w->pid <= 0 && !spawn(w)) return;
    uint8_t cmd = 1;
    w->busy = write(w->to, &cmd, 1) == 1;
}

void worker_wait(struct worker *w, struct dt_result *r, int timeout_ms) {
    if (!w->busy) {
        memset(r, 0, sizeof *r);
        r->exit = DT_EXIT_ERROR;
        snprintf(r->msg, sizeof r->msg, "%s worker could not start", w->be->name);
        return;
    }
    w->busy = false;
    struct pollfd p = { w->from, POLLIN, 0 };
    int n;
    do n = poll(&p, 1, timeout_ms); while (n < 0 && errno == EINTR);
    uint8_t cmd;
    if (n == 1 && read(w->from, &cmd, 1) == 1) {
        *r = w->shm->r;
        return;
    }
    int st = 0;
    reap(w, &st);
    memset(r, 0, sizeof *r);
    if (n == 0) {
        r->exit = DT_EXIT_LIMIT;
        snprintf(r->msg, sizeof r->msg, "%s worker hung for %d ms", w->be->name, timeout_ms);
    } else {
        r->exit = DT_EXIT_CRASH;
        r->vector = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        snprintf(r->msg, sizeof r->msg, "%s worker died (%s)", w->be->name,
                 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit");
    }
}
