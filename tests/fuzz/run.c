/* run — see run.h. */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"

#define MAX_JOBS 16

struct slot {
    pid_t pid;
    int fd;                     /* stderr pipe, -1 at EOF */
    long i;
    double start;
    struct outcome out;
    size_t got;
    char err[8192];             /* stderr */
    char path[256];
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* utime + stime of a child in ms, from /proc (proc(5) fields 14 and 15). */
static long cpu_ms_of(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *s = strrchr(buf, ')');
    if (!s) return 0;
    unsigned long ut = 0, st = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static bool start(const struct run_opts *o, struct slot *s)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) return false;
    const char *argv[32];
    int a = 0;
    argv[a++] = o->bt86;
    argv[a++] = "--verify";
    argv[a++] = "-m";
    argv[a++] = "16";
    argv[a++] = "-serial";
    argv[a++] = o->serial_stdout ? "stdio" : "null";
    for (int k = 0; o->extra && o->extra[k] && a < 30; k++) argv[a++] = o->extra[k];
    argv[a++] = s->path;
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid < 0) { close(pfd[0]); close(pfd[1]); return false; }
    if (pid == 0) {
        struct rlimit cpu = { (rlim_t)(o->cpu_ms / 1000 + 2), (rlim_t)(o->cpu_ms / 1000 + 3) }, core = { 0, 0 };
        setrlimit(RLIMIT_CPU, &cpu);
        setrlimit(RLIMIT_CORE, &core);
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0); dup2(o->serial_stdout ? pfd[1] : nul, 1); dup2(pfd[1], 2);
        execv(o->bt86, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    s->pid = pid;
    s->fd = pfd[0];
    s->start = now();
    s->got = 0;
    memset(&s->out, 0, sizeof s->out);
    s->out.status = -1;
    return true;
}

/* Reads what is there; false at EOF. */
static bool drain(struct slot *s)
{
    char buf[4096];
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    for (ssize_t k = 0; k < n && s->got < sizeof s->err - 1; k++)
        s->err[s->got++] = buf[k];
    return true;
}

/* The message: a verifier rejection anywhere, else the first "bt86:" line
 * that is not a note. */
static void pick_message(struct slot *s)
{
    s->err[s->got] = 0;
    const char *v = strstr(s->err, "verifier rejects"), *p = s->err;
    while (!v && p && *p && (strncmp(p, "bt86: ", 6) || !strncmp(p, "bt86: note:", 11))) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    const char *m = v ? v : p && *p ? p : "";
    size_t l = strcspn(m, "\n");
    if (l >= sizeof s->out.msg) l = sizeof s->out.msg - 1;
    memcpy(s->out.msg, m, l);
    s->out.msg[l] = 0;
    const char *r = strstr(s->err, "DMP ");
    l = r ? strcspn(r, "\n") : 0;
    if (l >= sizeof s->out.report) l = sizeof s->out.report - 1;
    if (r) memcpy(s->out.report, r, l);
    s->out.report[l] = 0;
}

static void finish(struct slot *s)
{
    int st;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st)) s->out.status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) {
        s->out.sig = WTERMSIG(st);
        if (s->out.sig == SIGXCPU) s->out.cpu_limit = true;
    }
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->pid = 0;
    pick_message(s);
}

static volatile sig_atomic_t stop_requested;
static void on_stop(int sig) { (void)sig; stop_requested = 1; }

void run_all(const struct run_opts *o, long n, void *ctx,
             bool (*make)(void *ctx, long i, const char *path),
             void (*done)(void *ctx, long i, const char *path, const struct outcome *out))
{
    struct slot slots[MAX_JOBS] = { 0 };
    int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    long next = 0, running = 0;

    /* SIGINT/SIGTERM: start nothing new, finish what runs, return (the
     * caller prints what was seen so far). */
    struct sigaction sa = { .sa_handler = on_stop };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (;;) {
        if (stop_requested)
            n = next;
        for (int k = 0; k < jobs && next < n; k++) {
            struct slot *s = &slots[k];
            if (s->pid) continue;
            while (next < n) {
                long i = next++;
                snprintf(s->path, sizeof s->path, "%s/bt86-fuzz-%d-%d.k", tmp, (int)getpid(), k);
                if (!make(ctx, i, s->path)) continue;
                s->i = i;
                if (start(o, s)) { running++; break; }
                struct outcome fail = { .status = -1 };
                snprintf(fail.msg, sizeof fail.msg, "runner: cannot start %s: %s", o->bt86, strerror(errno));
                done(ctx, i, s->path, &fail);
                unlink(s->path);
            }
        }
        if (!running) break;
        struct pollfd pf[MAX_JOBS];
        int np = 0;
        for (int k = 0; k < jobs; k++)
            if (slots[k].pid && slots[k].fd >= 0) pf[np++] = (struct pollfd){ slots[k].fd, POLLIN, 0 };
        if (np) poll(pf, (nfds_t)np, 20);
        else usleep(2000);
        for (int k = 0; k < jobs; k++) {
            struct slot *s = &slots[k];
            if (!s->pid) continue;
            bool eof = s->fd < 0;
            if (!eof) {
                struct pollfd one = { s->fd, POLLIN, 0 };
                if (poll(&one, 1, 0) > 0 && !drain(s)) { close(s->fd); s->fd = -1; eof = true; }
            }
            if (!eof) {
                bool over_cpu = cpu_ms_of(s->pid) > o->cpu_ms, over_wall = now() - s->start > o->wall_s;
                if (!over_cpu && !over_wall) continue;
                kill(s->pid, SIGKILL);
                finish(s);
                s->out.sig = 0;
                s->out.cpu_limit = over_cpu;
                s->out.wall_limit = !over_cpu;
            } else {
                finish(s);
            }
            running--;
            done(ctx, s->i, s->path, &s->out);
            unlink(s->path);
        }
    }
}

static const char *const exc_names[32] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "9",
    "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "21", "22", "23", "24",
    "25", "26", "27", "28", "29", "30", "31" };

/* "... at EIP 0x...: insn ops (why)" -> "insn (why)": the mnemonic and the
 * reason, without addresses, so equal forms count together. */
static void insn_of(const char *msg, const char *after, char *out, int n)
{
    const char *p = strstr(msg, after);
    p = p ? p + strlen(after) : msg;
    const char *colon = strstr(p, ": ");
    if (colon) p = colon + 2;
    char mn[32] = "";
    sscanf(p, "%31[a-z0-9]", mn);
    const char *why = strrchr(p, '(');
    snprintf(out, (size_t)n, "%s%s%s", mn, why ? " " : "", why ? why : "");
}

bool classify(const struct outcome *o, char *cls, int n)
{
    const char *m = o->msg;
    size_t len = (size_t)n;
    if (o->cpu_limit) { snprintf(cls, len, "cpu limit (guest loops)"); return false; }
    if (o->wall_limit) { snprintf(cls, len, "TIMEOUT (host time)"); return true; }
    if (o->sig) { snprintf(cls, len, "CRASH (signal %d)", o->sig); return true; }
    if (strstr(m, "verifier rejects")) { snprintf(cls, len, "VERIFIER REJECTS"); return true; }
    int st = o->status;
    if (st == 0) { snprintf(cls, len, strstr(m, "reset") ? "reset" : "halt"); return false; }
    if (st == 4) { snprintf(cls, len, "triple fault"); return false; }
    if (st == 5 && m[0]) {
        char what[512];
        if (strstr(m, "not supported yet at EIP")) { insn_of(m, "EIP", what, sizeof what); snprintf(cls, len, "unsupported: %s", what); return false; }
        if (strstr(m, "touches device memory or wraps")) { insn_of(m, "4 GiB", what, sizeof what); snprintf(cls, len, "unsupported: wrap/device %s", what); return false; }
        if (strstr(m, "cannot emulate the instruction")) { insn_of(m, "EIP", what, sizeof what); snprintf(cls, len, "unsupported: emulate %s", what); return false; }
        if (strstr(m, "is outside RAM")) { snprintf(cls, len, "unsupported: exception frame on open bus"); return false; }
        if (strstr(m, "executes outside RAM") || strstr(m, "executes device memory")) { snprintf(cls, len, "unsupported: executes open bus"); return false; }
        if (strstr(m, "unbacked physical memory")) { snprintf(cls, len, "unsupported: monitor access to open bus"); return false; }
        if (strstr(m, "not supported")) {
            const char *g = strstr(m, "guest ");
            snprintf(what, sizeof what, "%s", g ? g + 6 : m);
            char *cut = strpbrk(what, "(:0123456789");
            if (cut) *cut = 0;
            snprintf(cls, len, "unsupported: %s", what);
            return false;
        }
        snprintf(cls, len, "INTERNAL ERROR");
        return true;
    }
    if (st == 3 && m[0]) { snprintf(cls, len, "bad kernel file"); return false; }
    if (st & 1) {   /* isa-debug-exit: 3 and 5 without a message too */
        int v = st >> 1;
        if (v >= DX_EXC_BASE && v < DX_EXC_BASE + 32) { snprintf(cls, len, "exception %s", exc_names[v - DX_EXC_BASE]); return false; }
        if (v == DX_INT) { snprintf(cls, len, "interrupt vector >= 32"); return false; }
        if (v == DX_TICKS) { snprintf(cls, len, "tick budget"); return false; }
        snprintf(cls, len, "guest wrote isa-debug-exit");
        return false;
    }
    snprintf(cls, len, "EXIT STATUS %d", st);
    return true;
}
