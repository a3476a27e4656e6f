/* chardev — QEMU's character back-ends, for the serial port and the
 * monitors: where bytes go to and come from.
 *
 *   null | none                      nothing
 *   stdio                            stdin and stdout
 *   file:PATH                        output to PATH (truncated)
 *   pty                              a new pseudo-terminal; its name is
 *                                    printed as QEMU prints it
 *   tcp:[HOST]:PORT[,server][,nowait|,wait=off]
 *   unix:PATH[,server][,nowait|,wait=off]
 *                                    a stream socket: listen (server; one
 *                                    client at a time, the next may come
 *                                    after a hang-up; unless nowait the run
 *                                    starts only once a client came, as in
 *                                    QEMU) or connect
 *
 * The spec parser (options_chardev.c) is part of the command line; the
 * rest (chardev.c) opens and serves the back-end. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum chardev_kind { CHARDEV_NULL, CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_PTY, CHARDEV_TCP,
                    CHARDEV_UNIX };

struct chardev_spec {
    enum chardev_kind kind;
    char path[108];             /* file or Unix socket path; TCP host ("" = any/localhost) */
    uint16_t port;              /* TCP */
    bool server, wait;          /* sockets: listen; and wait for a client before running */
};

/* "tcp::4444,server,nowait" and the others above; -1 and a one-line
 * message naming what is wrong. */
int chardev_parse(const char *spec, struct chardev_spec *cs, char *err, size_t errlen);
/* A -chardev value (BACKEND,id=ID,...: stdio, null, file path=, pty,
 * socket host= port= | path=, server=on|off, wait=on|off, or QEMU's old
 * bare server/nowait) as the -serial form above, in buf. -1 and a message
 * if the backend is unknown or incomplete. */
int chardev_opts_to_spec(const char *opts, char *buf, size_t len, char *err, size_t errlen);

/* An open back-end. in_fd/out_fd: the connection (the same socket or pty
 * for both), -1 when there is none; listen_fd: a server socket, or -1. */
struct chardev {
    struct chardev_spec spec;
    int in_fd, out_fd, listen_fd;
    char pty_name[64];
    int pty_slave;              /* kept open, so the master never reads as hung up */
};

/* Open it; label names it in QEMU's messages ("serial0",
 * "compat_monitor0"). A waiting server blocks here until its client
 * comes. -1 and a message. */
int chardev_open(struct chardev *c, const struct chardev_spec *s, const char *label, char *err,
                 size_t errlen);
void chardev_close(struct chardev *c);
/* What to poll for input: the connection, else the listening socket; -1
 * if neither (no more input). */
int chardev_poll_fd(const struct chardev *c);
/* After chardev_poll_fd was readable: accept a waiting client (0 bytes,
 * in_fd/out_fd change), or read up to n bytes. A socket client that hangs
 * up leaves the server listening again (0); a pty nobody has open gives 0.
 * -1: the end of input for good. */
ssize_t chardev_read(struct chardev *c, void *buf, size_t n);
