/* migration_uri — the transports of a migration stream (migration.h):
 * tcp:HOST:PORT, unix:PATH and exec:CMD, QEMU's spellings. */
#define _GNU_SOURCE
#include "emulator/migration.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* "HOST:PORT" (HOST may be empty: any address when listening). */
static int tcp_parse(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(spec, ':');
    size_t n;

    if (!colon || !colon[1] || strlen(colon + 1) >= portlen)
        return -1;
    n = (size_t)(colon - spec);
    if (n >= hostlen)
        return -1;
    if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {   /* [v6 address] */
        spec++;
        n -= 2;
    }
    memcpy(host, spec, n);
    host[n] = 0;
    strcpy(port, colon + 1);
    return 0;
}

static int tcp_socket(const char *spec, bool listening, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = listening ? AI_PASSIVE : 0 }, *res, *ai;
    char host[256], port[32];
    int fd = -1, rc, one = 1, e = 0;

    if (tcp_parse(spec, host, sizeof host, port, sizeof port) < 0) {
        snprintf(err, errlen, "bad migration address 'tcp:%s' (tcp:HOST:PORT)", spec);
        return -1;
    }
    if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
        snprintf(err, errlen, "tcp:%s: %s", spec, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (listening) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            rc = bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0 ? -1 : 0;
        } else {
            rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        }
        if (rc < 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "tcp:%s: cannot %s: %s", spec, listening ? "listen" : "connect",
                 strerror(e ? e : EADDRNOTAVAIL));
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int unix_socket(const char *path, bool listening, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (!path[0] || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "bad migration address 'unix:%s'", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        return -1;
    }
    if (listening && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);           /* a stale socket from an earlier run */
    if (listening ? bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0
                  : connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errlen, "unix:%s: cannot %s: %s", path, listening ? "listen" : "connect",
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* sh -c CMD with its stdin (to_child) or stdout on a pipe; our end. */
static int exec_command(const char *cmd, bool to_child, pid_t *child, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    int p[2], rc;
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };

    if (!cmd[0]) {
        snprintf(err, errlen, "exec: needs a command");
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "exec:%s: %s", cmd, strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child ? p[0] : p[1], to_child ? 0 : 1);
    /* The command starts with default signal handling and nothing blocked,
     * whatever bt86 does with its signals. */
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigfillset(&dfl);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(child, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(to_child ? p[0] : p[1]);
    if (rc != 0) {
        close(to_child ? p[1] : p[0]);
        snprintf(err, errlen, "exec:%s: %s", cmd, strerror(rc));
        return -1;
    }
    return to_child ? p[1] : p[0];
}

int mig_uri_connect(const char *uri, pid_t *child, bool *ack, char *err, size_t errlen)
{
    *child = -1;
    *ack = true;
    if (strncmp(uri, "tcp:", 4) == 0)
        return tcp_socket(uri + 4, false, err, errlen);
    if (strncmp(uri, "unix:", 5) == 0)
        return unix_socket(uri + 5, false, err, errlen);
    if (strncmp(uri, "exec:", 5) == 0) {
        *ack = false;
        return exec_command(uri + 5, true, child, err, errlen);
    }
    snprintf(err, errlen, "unsupported migration URI '%s' (tcp:HOST:PORT, unix:PATH, exec:CMD)", uri);
    return -1;
}

int mig_uri_accept(const char *uri, pid_t *child, bool *ack, char *err, size_t errlen)
{
    int lfd, fd;

    *child = -1;
    *ack = true;
    if (strncmp(uri, "exec:", 5) == 0) {
        *ack = false;
        return exec_command(uri + 5, false, child, err, errlen);
    }
    if (strncmp(uri, "tcp:", 4) == 0)
        lfd = tcp_socket(uri + 4, true, err, errlen);
    else if (strncmp(uri, "unix:", 5) == 0)
        lfd = unix_socket(uri + 5, true, err, errlen);
    else {
        snprintf(err, errlen, "-incoming '%s': supported are tcp:[HOST]:PORT, unix:PATH and exec:CMD",
                 uri);
        return -1;
    }
    if (lfd < 0)
        return -1;
    while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (fd < 0)
        snprintf(err, errlen, "-incoming %s: accept: %s", uri, strerror(errno));
    close(lfd);
    if (strncmp(uri, "unix:", 5) == 0)
        unlink(uri + 5);
    return fd;
}

int mig_uri_wait(pid_t child, char *err, size_t errlen)
{
    int st;

    if (child < 0)
        return 0;
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "exec: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (WIFEXITED(st))
        snprintf(err, errlen, "the exec: command exited with status %d", WEXITSTATUS(st));
    else
        snprintf(err, errlen, "the exec: command was killed by signal %d", WTERMSIG(st));
    return -1;
}
