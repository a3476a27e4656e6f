/* chardev — opening and serving QEMU's character back-ends (chardev.h).
 *
 * Every fd is non-blocking once the run starts: the UART drops a byte it
 * cannot write at once (a pty nobody reads, a client that stalls or left)
 * rather than stopping the guest. A pty is put in raw mode, as QEMU's pty
 * back-end does, so the guest's bytes pass unchanged. */
#define _GNU_SOURCE
#include "emulator/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void nonblock(int fd)
{
    if (fd > 2)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int open_pty(struct chardev *c, const char *label, char *err, size_t errlen)
{
    struct termios t;
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, c->pty_name, sizeof c->pty_name)) {
        snprintf(err, errlen, "cannot open a pty: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    nonblock(fd);
    c->in_fd = c->out_fd = fd;
    /* QEMU polls a pty whose other side nobody has open; here the other
     * side stays open once, so epoll never wakes for a hang-up (what the
     * guest sends meanwhile waits in the pty, up to its buffer). */
    c->pty_slave = open(c->pty_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    fprintf(stderr, "char device redirected to %s (label %s)\n", c->pty_name, label);
    return 0;
}

/* The socket's address; a TCP host of "" listens on every address and
 * connects to localhost, as QEMU. */
static int address(const struct chardev_spec *s, struct sockaddr_storage *sa, socklen_t *len,
                   char *err, size_t errlen)
{
    if (s->kind == CHARDEV_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)sa;
        memset(un, 0, sizeof *un);
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, s->path);
        *len = sizeof *un;
        return 0;
    }
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                              .ai_flags = s->path[0] ? 0 : (s->server ? AI_PASSIVE : 0) }, *res;
    char port[8];
    snprintf(port, sizeof port, "%u", s->port);
    int rc = getaddrinfo(s->path[0] ? s->path : (s->server ? NULL : "localhost"), port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "tcp:%s:%u: %s", s->path, s->port, gai_strerror(rc));
        return -1;
    }
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void describe(const struct chardev_spec *s, char *buf, size_t len)
{
    if (s->kind == CHARDEV_UNIX)
        snprintf(buf, len, "unix:%s", s->path);
    else
        snprintf(buf, len, "tcp:%s:%u", s->path[0] ? s->path : "0.0.0.0", s->port);
}

static int open_socket(struct chardev *c, char *err, size_t errlen)
{
    const struct chardev_spec *s = &c->spec;
    struct sockaddr_storage sa;
    socklen_t len;
    char where[160];
    int one = 1;

    describe(s, where, sizeof where);
    if (address(s, &sa, &len, err, errlen) < 0)
        return -1;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", where, strerror(errno));
        return -1;
    }
    if (!s->server) {
        if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
            snprintf(err, errlen, "%s: cannot connect: %s", where, strerror(errno));
            close(fd);
            return -1;
        }
        nonblock(fd);
        c->in_fd = c->out_fd = fd;
        return 0;
    }
    struct stat st;
    if (s->kind == CHARDEV_UNIX && lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(s->path);        /* a stale socket from an earlier run */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0) {
        snprintf(err, errlen, "%s: cannot listen: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    c->listen_fd = fd;
    if (s->wait) {
        fprintf(stderr, "QEMU waiting for connection on: disconnected:%s,server=on\n", where);
        int cfd;
        do
            cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        while (cfd < 0 && errno == EINTR);
        if (cfd < 0) {
            snprintf(err, errlen, "%s: accept: %s", where, strerror(errno));
            return -1;
        }
        nonblock(cfd);
        c->in_fd = c->out_fd = cfd;
    }
    nonblock(fd);
    return 0;
}

int chardev_open(struct chardev *c, const struct chardev_spec *s, const char *label, char *err,
                 size_t errlen)
{
    *c = (struct chardev){ .spec = *s, .in_fd = -1, .out_fd = -1, .listen_fd = -1, .pty_slave = -1 };
    switch (s->kind) {
    case CHARDEV_NULL:
        return 0;
    case CHARDEV_STDIO:
        c->in_fd = 0;
        c->out_fd = 1;
        return 0;
    case CHARDEV_FILE:
        c->out_fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->out_fd < 0) {
            snprintf(err, errlen, "cannot open '%s': %s", s->path, strerror(errno));
            return -1;
        }
        return 0;
    case CHARDEV_PTY:
        return open_pty(c, label, err, errlen);
    case CHARDEV_TCP:
    case CHARDEV_UNIX:
        /* A client that leaves makes the next write EPIPE, which the UART
         * drops; as in QEMU, SIGPIPE must not end the process. */
        signal(SIGPIPE, SIG_IGN);
        if (open_socket(c, err, errlen) < 0) {
            chardev_close(c);
            return -1;
        }
        return 0;
    }
    return 0;
}

void chardev_close(struct chardev *c)
{
    if (c->in_fd > 2)
        close(c->in_fd);
    else if (c->out_fd > 2)
        close(c->out_fd);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        if (c->spec.kind == CHARDEV_UNIX)
            unlink(c->spec.path);
    }
    if (c->pty_slave >= 0)
        close(c->pty_slave);
    c->in_fd = c->out_fd = c->listen_fd = c->pty_slave = -1;
}

int chardev_poll_fd(const struct chardev *c)
{
    return c->in_fd >= 0 ? c->in_fd : c->listen_fd;
}

ssize_t chardev_read(struct chardev *c, void *buf, size_t n)
{
    if (c->in_fd < 0) {
        if (c->listen_fd < 0)
            return -1;
        int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0)
            c->in_fd = c->out_fd = fd;
        return 0;
    }
    ssize_t r = read(c->in_fd, buf, n);
    if (r > 0)
        return r;
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (c->spec.kind == CHARDEV_PTY)
        return 0;               /* EIO: nobody has the other side open yet */
    if (c->listen_fd >= 0) {    /* the client left: wait for the next */
        close(c->in_fd);
        c->in_fd = c->out_fd = -1;
        return 0;
    }
    return -1;
}
