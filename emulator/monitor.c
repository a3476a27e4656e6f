/* monitor — the connections of QEMU's monitors and the run loop they steer.
 *
 *   -monitor stdio | BACKEND                    HMP (monitor_hmp.c)
 *   -qmp BACKEND                                QMP (qmp.c)
 *       BACKEND: tcp:[HOST]:PORT or unix:PATH, listening (server[,nowait])
 *       or connecting, or pty (chardev.h)
 *   -serial mon:stdio                           stdin shared by the guest's
 *       COM1 and the HMP: Ctrl-A c switches, Ctrl-A x quits, Ctrl-A Ctrl-A
 *       sends a Ctrl-A (QEMU's character-device multiplexer); the guest's
 *       bytes reach the UART through a pipe.
 *
 * One client per socket at a time. Commands are served between runs of
 * vm_debug_run (debug.c), as the GDB stub's are: every monitor fd raises
 * the event-timer signal when input arrives (F_SETSIG), which brings the
 * guest back through the poll page, also out of a HLT; the wake fd the
 * dispatcher looks at is an epoll set of all of them. A stopped guest
 * waits in epoll_wait: nothing busy-polls. */
#define _GNU_SOURCE
#include "emulator/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "emulator/chardev.h"
#include "emulator/debug.h"
#include "emulator/migration.h"
#include "emulator/monitor_int.h"

#define CTRL_A 0x01

struct listener {
    int fd;                     /* listening socket, or -1 */
    struct chardev cd;
    struct mon_client client;
};

struct mon_state {
    struct monitor m;
    int epfd;
    struct listener hmp, qmp;
    struct mon_client stdio;    /* HMP on stdin/stdout (-monitor stdio, mon:stdio) */
    bool stdin_open;
    bool mux, mux_monitor, mux_escape;
    int serial_w;               /* mon:stdio: the guest's input pipe, or -1 */
    int mig_fd;                 /* a migration's wake fd in the wake set, or -1 */
};

/* ---- output ---------------------------------------------------------------- */

void mon_send(struct mon_client *c, const char *s, size_t n)
{
    while (n > 0 && c->fd_out >= 0) {
        ssize_t w = c->fd_out == 1 ? write(1, s, n) : send(c->fd_out, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)     /* a pty */
            w = write(c->fd_out, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            /* A client that does not read for a second loses the rest:
             * it must not hold the guest up. */
            struct pollfd p = { .fd = c->fd_out, .events = POLLOUT };
            if (poll(&p, 1, 1000) > 0)
                continue;
            return;
        }
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void mon_stop(struct monitor *m)
{
    if (m->running)
        qmp_event(m, "STOP", NULL);
    m->running = false;
}

void mon_cont(struct monitor *m)
{
    if (!m->running)
        qmp_event(m, "RESUME", NULL);
    m->running = true;
}

/* ---- sockets --------------------------------------------------------------- */

static void watch(struct mon_state *s, int fd, bool on)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(s->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev);
}

static bool readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return fd >= 0 && poll(&p, 1, 0) > 0;
}

static void hmp_prompt(struct mon_client *c) { mon_send(c, "(qemu) ", 7); }

static void client_open(struct mon_client *c, int fd_in, int fd_out, bool qmp)
{
    static const char banner[] = "QEMU " "7.2.0" " monitor (bt86) - type 'help' for more information\n";
    *c = (struct mon_client){ .fd_in = fd_in, .fd_out = fd_out, .qmp = qmp };
    if (qmp) {
        qmp_greet(c);
    } else {
        mon_send(c, banner, sizeof banner - 1);
        hmp_prompt(c);
    }
}

static void accept_client(struct mon_state *s, struct listener *l)
{
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    watch(s, l->fd, false);     /* one client at a time: the next waits */
    l->cd.in_fd = l->cd.out_fd = fd;
    watch(s, fd, true);
    client_open(&l->client, fd, fd, l == &s->qmp);
    if (l == &s->qmp)
        s->m.qmp = &l->client;
}

/* The client left: a server waits for the next one; a connection that
 * was made outward is gone for good. */
static void hangup(struct mon_state *s, struct listener *l)
{
    watch(s, l->client.fd_in, false);
    close(l->client.fd_in);
    l->cd.in_fd = l->cd.out_fd = -1;
    l->client.fd_in = l->client.fd_out = -1;
    if (l == &s->qmp)
        s->m.qmp = NULL;
    if (l->fd >= 0)
        watch(s, l->fd, true);
}

/* -monitor/-qmp BACKEND: listen, connect, or open a pty. */
static int open_listener(struct mon_state *s, struct listener *l, const char *opt, const char *spec,
                         char *err, size_t errlen)
{
    struct chardev_spec cs;
    char why[300];

    if (chardev_parse(spec, &cs, why, sizeof why) < 0 ||
        chardev_open(&l->cd, &cs, l == &s->qmp ? "compat_monitor1" : "compat_monitor0", why,
                     sizeof why) < 0) {
        snprintf(err, errlen, "-%s %s", opt, why);
        return -1;
    }
    l->fd = l->cd.listen_fd;
    if (l->cd.in_fd >= 0) {     /* connected already: a pty, a client socket, a waited-for client */
        watch(s, l->cd.in_fd, true);
        client_open(&l->client, l->cd.in_fd, l->cd.out_fd, l == &s->qmp);
        if (l == &s->qmp)
            s->m.qmp = &l->client;
    } else if (l->fd >= 0) {
        watch(s, l->fd, true);
    }
    return 0;
}

/* ---- HMP lines ------------------------------------------------------------- */

static void run_hmp_line(struct mon_state *s, struct mon_client *c, const char *line)
{
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);

    if (!out)
        return;
    hmp_command(&s->m, line, out);
    fclose(out);
    mon_send(c, text, n);
    free(text);
    if (!s->m.quit)
        hmp_prompt(c);
}

/* Complete lines in c->buf are commands; a line longer than the buffer is
 * dropped with an error. */
static void hmp_input(struct mon_state *s, struct mon_client *c)
{
    char *nl;
    while (!s->m.quit && (nl = memchr(c->buf, '\n', c->len))) {
        size_t used = (size_t)(nl - c->buf) + 1;
        *nl = 0;
        if (nl > c->buf && nl[-1] == '\r')
            nl[-1] = 0;
        if (c->overflow) {
            static const char msg[] = "Error: command line too long\n";
            mon_send(c, msg, sizeof msg - 1);
            hmp_prompt(c);
            c->overflow = false;
        } else {
            run_hmp_line(s, c, c->buf);
        }
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    if (c->len == sizeof c->buf) {
        c->overflow = true;
        c->len = 0;
    }
}

static void client_input(struct mon_state *s, struct mon_client *c, const char *data, size_t n)
{
    while (n > 0) {
        size_t room = sizeof c->buf - c->len, k = n < room ? n : room;
        memcpy(c->buf + c->len, data, k);
        c->len += k;
        data += k;
        n -= k;
        if (c->qmp)
            qmp_input(&s->m, c);
        else
            hmp_input(s, c);
    }
}

static void read_client(struct mon_state *s, struct listener *l)
{
    char buf[4096];
    ssize_t n = read(l->client.fd_in, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EIO))
        hangup(s, l);
    else if (n > 0)
        client_input(s, &l->client, buf, (size_t)n);
}

/* ---- stdin: the monitor, or the multiplexer ---------------------------------- */

/* mon:stdio on a terminal: raw input, as QEMU's stdio backend sets it, so
 * that Ctrl-A and Ctrl-C reach bt86 and the guest at once; the monitor
 * then echoes and edits its line itself. Per process: one terminal. */
static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
    if (tty_raw)
        tcsetattr(0, TCSANOW, &saved_tty);
    tty_raw = false;
}

static void tty_make_raw(void)
{
    static bool registered;
    struct termios t;

    if (!isatty(0) || tcgetattr(0, &saved_tty) < 0)
        return;
    t = saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IGNCR | IXON);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(0, TCSANOW, &t) == 0) {
        tty_raw = true;
        if (!registered)
            atexit(tty_restore);
        registered = true;
    }
}

/* Monitor input from a raw terminal: echo, Enter, Backspace. */
static void monitor_keys(struct mon_state *s, const char *p, size_t n)
{
    struct mon_client *c = &s->stdio;
    if (!tty_raw) {
        client_input(s, c, p, n);
        return;
    }
    for (size_t i = 0; i < n && !s->m.quit; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            mon_send(c, "\r\n", 2);
            client_input(s, c, "\n", 1);
        } else if (p[i] == 0x7f || p[i] == '\b') {
            if (c->len > 0) {
                c->len--;
                mon_send(c, "\b \b", 3);
            }
        } else {
            mon_send(c, p + i, 1);
            client_input(s, c, p + i, 1);
        }
    }
}

static void to_guest(struct mon_state *s, const char *p, size_t n)
{
    if (n && s->serial_w >= 0 && write(s->serial_w, p, n) < 0) {
        /* the pipe is full: the guest is not reading; drop the input */
    }
}

static void mux_input(struct mon_state *s, const char *p, size_t n)
{
    static const char help[] = "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\n"
                               "C-a c    switch between console and monitor\r\n"
                               "C-a C-a  sends C-a\r\n";
    size_t start = 0;
    for (size_t i = 0; i < n && !s->m.quit; i++) {
        char ch = p[i];
        if (!s->mux_escape && ch != CTRL_A)
            continue;
        if (!s->mux_monitor)
            to_guest(s, p + start, i - start);
        else
            monitor_keys(s, p + start, i - start);
        start = i + 1;
        if (!s->mux_escape) {
            s->mux_escape = true;
            continue;
        }
        s->mux_escape = false;
        if (ch == 'c') {
            s->mux_monitor = !s->mux_monitor;
            if (s->mux_monitor)
                client_open(&s->stdio, 0, 1, false);
        } else if (ch == 'x') {
            mon_send(&s->stdio, "QEMU: Terminated\n", 17);
            s->m.quit = true;
        } else if (ch == 'h') {
            int fd = s->stdio.fd_out;
            s->stdio.fd_out = 1;
            mon_send(&s->stdio, help, sizeof help - 1);
            s->stdio.fd_out = fd;
        } else if (ch == CTRL_A) {
            start = i;          /* the Ctrl-A itself goes through */
        }
    }
    if (start < n && !s->m.quit) {
        if (!s->mux_monitor)
            to_guest(s, p + start, n - start);
        else
            monitor_keys(s, p + start, n - start);
    }
}

static void read_stdin(struct mon_state *s)
{
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {               /* end of input: stop watching it */
        watch(s, 0, false);
        s->stdin_open = false;
        return;
    }
    if (s->mux)
        mux_input(s, buf, (size_t)n);
    else
        client_input(s, &s->stdio, buf, (size_t)n);
}

/* ---- the loop ---------------------------------------------------------------- */

static void service(struct mon_state *s)
{
    struct listener *ls[2] = { &s->hmp, &s->qmp };
    for (int i = 0; i < 2 && !s->m.quit; i++) {
        struct listener *l = ls[i];
        if (l->fd < 0 && l->client.fd_in < 0)
            continue;
        if (l->client.fd_in < 0 && readable(l->fd))
            accept_client(s, l);
        if (l->client.fd_in >= 0 && readable(l->client.fd_in))
            read_client(s, l);
    }
    if (s->stdin_open && !s->m.quit && readable(0))
        read_stdin(s);
}

/* O_ASYNC on every fd that can bring a command, while the guest runs. */
static void wake_on_input(struct mon_state *s, bool on)
{
    struct listener *ls[2] = { &s->hmp, &s->qmp };
    for (int i = 0; i < 2; i++) {
        int fd = ls[i]->client.fd_in >= 0 ? ls[i]->client.fd_in : ls[i]->fd;
        if (fd >= 0)
            dbg_wake_on_input(fd, on);
    }
    if (s->stdin_open)
        dbg_wake_on_input(0, on);
    if (s->mig_fd >= 0)
        dbg_wake_on_input(s->mig_fd, on);
}

/* A migration's rounds end by making its wake fd readable: the step runs
 * here, between runs, on the vCPU thread. */
static void migration_service(struct mon_state *s)
{
    int fd = s->m.mig_active ? migration_wake_fd(s->m.mig) : -1;

    if (fd != s->mig_fd) {
        if (s->mig_fd >= 0)
            watch(s, s->mig_fd, false);
        if (fd >= 0)
            watch(s, fd, true);
        s->mig_fd = fd;
    }
    if (fd >= 0 && readable(fd)) {
        mon_migration_step(&s->m);
        if (!s->m.mig_active) {
            watch(s, fd, false);
            s->mig_fd = -1;
        }
    }
}

static int setup(struct mon_state *s, const struct monitor_config *mc, char *err, size_t errlen)
{
    int pipefd[2];

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        snprintf(err, errlen, "monitor: epoll: %s", strerror(errno));
        return -1;
    }
    if (mc->hmp && strcmp(mc->hmp, "stdio") != 0 &&
        open_listener(s, &s->hmp, "monitor", mc->hmp, err, errlen) < 0)
        return -1;
    if (mc->qmp && open_listener(s, &s->qmp, "qmp", mc->qmp, err, errlen) < 0)
        return -1;
    s->mux = mc->mux_stdio;
    if (s->mux || (mc->hmp && strcmp(mc->hmp, "stdio") == 0)) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = 0 };
        /* stdin that epoll cannot watch (a regular file) is not read */
        s->stdin_open = epoll_ctl(s->epfd, EPOLL_CTL_ADD, 0, &ev) == 0;
        vm_set_console_input(s->m.vm, -1);
        if (s->mux)
            tty_make_raw();
        if (s->mux && pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == 0) {
            vm_set_console_input(s->m.vm, pipefd[0]);
            s->serial_w = pipefd[1];
        }
        if (!s->mux)
            client_open(&s->stdio, 0, 1, false);
    }
    return 0;
}

static void teardown(struct mon_state *s)
{
    struct listener *ls[2] = { &s->hmp, &s->qmp };
    for (int i = 0; i < 2; i++)
        chardev_close(&ls[i]->cd);
    if (s->serial_w >= 0)
        close(s->serial_w);
    tty_restore();
    if (s->epfd >= 0)
        close(s->epfd);
    migration_free(s->m.mig);
}

int monitor_run(struct vm *vm, const struct monitor_config *mc, enum vm_exit *end, bool *quit,
                char *err, size_t errlen)
{
    struct mon_state *s = calloc(1, sizeof *s);
    int rc = 0;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->m.vm = vm;
    s->m.running = !mc->start_stopped;
    s->hmp.fd = s->qmp.fd = s->serial_w = s->epfd = s->mig_fd = -1;
    s->hmp.cd.in_fd = s->hmp.cd.out_fd = s->hmp.cd.listen_fd = s->hmp.cd.pty_slave = -1;
    s->qmp.cd.in_fd = s->qmp.cd.out_fd = s->qmp.cd.listen_fd = s->qmp.cd.pty_slave = -1;
    s->hmp.client.fd_in = s->hmp.client.fd_out = -1;
    s->qmp.client.fd_in = s->qmp.client.fd_out = -1;
    s->stdio.fd_in = s->stdio.fd_out = -1;
    if (setup(s, mc, err, errlen) < 0) {
        rc = -1;
        goto out;
    }
    *end = VM_EXIT_DEBUG;
    for (;;) {
        if (s->m.running) {
            enum vm_exit x;
            wake_on_input(s, true);
            x = vm_debug_run(vm, false, s->epfd);
            wake_on_input(s, false);
            if (x != VM_EXIT_DEBUG) {
                *end = x;
                qmp_event(&s->m, "SHUTDOWN", x == VM_EXIT_RESET
                          ? "{\"guest\": true, \"reason\": \"guest-reset\"}"
                          : "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
                break;
            }
        } else {
            struct epoll_event ev;
            epoll_wait(s->epfd, &ev, 1, -1);
        }
        service(s);
        migration_service(s);
        if (s->m.quit || s->m.reset) {
            *end = s->m.reset ? VM_EXIT_RESET : VM_EXIT_DEBUG;
            break;
        }
    }
out:
    *quit = s->m.quit;
    teardown(s);
    free(s);
    return rc;
}
