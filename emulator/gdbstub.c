/* gdbstub — GDB's remote serial protocol ("Debugging with GDB", appendix E)
 * over a TCP or Unix socket: packet framing and the commands.
 *
 * The VM stops only between runs of vm_debug_run (debug.c), so every
 * command is served with the guest stopped. While it runs, the socket wakes
 * the dispatcher when GDB sends something, which is the Ctrl-C byte (0x03):
 * that stop is reported as SIGINT, a breakpoint or finished step as
 * SIGTRAP. One thread ("thread 1"); registers and memory as in
 * gdbstub_regs.c and vm_debug_read/write; software and hardware
 * breakpoints (Z0, Z1) are the same translated breakpoints; write, read
 * and access watchpoints (Z2, Z3, Z4) are checked around every instruction
 * (debug.c) and reported as watch:, rwatch:, awatch:. When the
 * guest ends the run, GDB gets W (exit status); D detaches and lets the
 * guest run on; k ends the run. */
#define _GNU_SOURCE
#include "emulator/gdbstub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PACKET_MAX 4096
#define SIGTRAP_NUM 5
#define SIGINT_NUM 2

struct gdb {
    struct vm *vm;
    int lfd, fd;
    bool no_ack;
    uint8_t in[PACKET_MAX];
    size_t in_len, in_pos;
    char pkt[PACKET_MAX * 2 + 8];
    size_t pkt_len;
};

/* ---- sockets -------------------------------------------------------------- */

static int listen_tcp(const char *hostport, char *err, size_t errlen)
{
    const char *colon = strrchr(hostport, ':');
    char host[256];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res, *ai;
    int fd = -1, one = 1, rc;

    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res)) != 0) {
        snprintf(err, errlen, "-gdb tcp:%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "-gdb tcp:%s: cannot listen: %s", hostport, strerror(errno));
    return fd;
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "-gdb unix:%s: path too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);               /* a stale socket from an earlier run */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
        snprintf(err, errlen, "-gdb unix:%s: cannot listen: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* false: the listening socket failed (the caller runs on without GDB). */
static bool gdb_accept(struct gdb *g)
{
    int one = 1;
    do
        g->fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
    while (g->fd < 0 && (errno == EINTR || errno == ECONNABORTED));
    if (g->fd < 0)
        return false;
    setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails on Unix: fine */
    g->no_ack = false;
    g->in_len = g->in_pos = 0;
    return true;
}

static void gdb_hangup(struct gdb *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    vm_debug_clear_breakpoints(g->vm);
}

/* ---- packets -------------------------------------------------------------- */

/* The next byte from GDB, or -1 at the end of the connection. */
static int gdb_getc(struct gdb *g)
{
    while (g->in_pos == g->in_len) {
        ssize_t n = read(g->fd, g->in, sizeof g->in);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        g->in_len = (size_t)n;
        g->in_pos = 0;
    }
    return g->in[g->in_pos++];
}

static void gdb_write(struct gdb *g, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0 && g->fd >= 0) {
        ssize_t w = send(g->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Read one packet into g->pkt (unescaped, NUL-terminated). -1: hung up. */
static int gdb_recv(struct gdb *g)
{
    for (;;) {
        int c, sum = 0, h1, h2;
        size_t n = 0;
        bool esc = false;

        while ((c = gdb_getc(g)) != '$')
            if (c < 0)
                return -1;          /* '+', '-' and a stray Ctrl-C are skipped */
        while ((c = gdb_getc(g)) != '#') {
            if (c < 0)
                return -1;
            sum += c;
            if (esc) {
                c ^= 0x20;
                esc = false;
            } else if (c == '}') {
                esc = true;
                continue;
            }
            if (n < sizeof g->pkt - 1)
                g->pkt[n++] = (char)c;
        }
        if ((h1 = gdb_getc(g)) < 0 || (h2 = gdb_getc(g)) < 0)
            return -1;
        if (hexval(h1) != (sum >> 4 & 0xf) || hexval(h2) != (sum & 0xf)) {
            if (!g->no_ack)
                gdb_write(g, "-", 1);
            continue;
        }
        if (!g->no_ack)
            gdb_write(g, "+", 1);
        g->pkt[n] = 0;
        g->pkt_len = n;
        return 0;
    }
}

static void gdb_send_bin(struct gdb *g, const char *data, size_t len)
{
    static char out[PACKET_MAX * 2 + 8];
    size_t n = 0;
    unsigned sum = 0;

    out[n++] = '$';
    for (size_t i = 0; i < len && n < sizeof out - 6; i++) {
        char c = data[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            out[n++] = '}';
            sum += '}';
            c ^= 0x20;
        }
        out[n++] = c;
        sum += (uint8_t)c;
    }
    n += (size_t)sprintf(out + n, "#%02x", sum & 0xff);
    for (int tries = 0; tries < 3; tries++) {
        int c;
        gdb_write(g, out, n);
        if (g->no_ack)
            return;
        while ((c = gdb_getc(g)) != '+' && c != '-')
            if (c < 0)
                return;
        if (c == '+')
            return;
    }
}

static void gdb_send(struct gdb *g, const char *s) { gdb_send_bin(g, s, strlen(s)); }

static void to_hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static bool from_hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int h = hexval(s[2 * i]), l = h < 0 ? -1 : hexval(s[2 * i + 1]);
        if (h < 0 || l < 0)
            return false;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

/* "ADDR,LEN" (hex); *rest after it. */
static bool parse_addr_len(const char *s, uint32_t *addr, uint32_t *len, const char **rest)
{
    char *end;
    unsigned long a = strtoul(s, &end, 16), l;
    if (end == s || *end != ',')
        return false;
    s = end + 1;
    l = strtoul(s, &end, 16);
    if (end == s)
        return false;
    *addr = (uint32_t)a;
    *len = (uint32_t)l;
    *rest = end;
    return true;
}

/* ---- commands ------------------------------------------------------------- */

static void cmd_read_memory(struct gdb *g, const char *args)
{
    static uint8_t buf[PACKET_MAX / 2];
    static char hex[PACKET_MAX + 1];
    uint32_t addr, len;
    const char *rest;
    size_t got;

    if (!parse_addr_len(args, &addr, &len, &rest)) {
        gdb_send(g, "E22");
        return;
    }
    if (len > sizeof buf)
        len = sizeof buf;
    got = vm_debug_read(g->vm, addr, buf, len);
    if (got == 0 && len > 0) {
        gdb_send(g, "E14");
        return;
    }
    to_hex(hex, buf, got);
    gdb_send(g, hex);
}

static void cmd_write_memory(struct gdb *g, const char *args, bool binary)
{
    static uint8_t buf[PACKET_MAX];
    uint32_t addr, len;
    const char *rest;

    if (!parse_addr_len(args, &addr, &len, &rest) || *rest != ':' || len > sizeof buf) {
        gdb_send(g, "E22");
        return;
    }
    rest++;
    if (binary) {
        if ((size_t)(rest - g->pkt) + len > g->pkt_len) {
            gdb_send(g, "E22");
            return;
        }
        memcpy(buf, rest, len);
    } else if (strlen(rest) < 2 * (size_t)len || !from_hex(rest, buf, len)) {
        gdb_send(g, "E22");
        return;
    }
    gdb_send(g, vm_debug_write(g->vm, addr, buf, len) == len ? "OK" : "E14");
}

static void cmd_registers(struct gdb *g, char kind, const char *args)
{
    static uint8_t regs[512];
    static char hex[1024 + 1];
    size_t n;

    if (kind == 'g') {
        n = vm_gdb_get_regs(g->vm, regs);
        to_hex(hex, regs, n);
        gdb_send(g, hex);
    } else if (kind == 'G') {
        n = vm_gdb_get_regs(g->vm, regs);
        if (strlen(args) < 2 * n || !from_hex(args, regs, n)) {
            gdb_send(g, "E22");
            return;
        }
        vm_gdb_set_regs(g->vm, regs);
        gdb_send(g, "OK");
    } else {
        char *end;
        long r = strtol(args, &end, 16);
        uint8_t val[16];
        n = vm_gdb_reg(g->vm, (int)r, val, NULL);
        if (end == args || n == 0) {
            gdb_send(g, kind == 'p' ? "E45" : "E22");
            return;
        }
        if (kind == 'P') {
            if (*end != '=' || strlen(end + 1) < 2 * n || !from_hex(end + 1, val, n)) {
                gdb_send(g, "E22");
                return;
            }
            vm_gdb_reg(g->vm, (int)r, regs, val);
            gdb_send(g, "OK");
            return;
        }
        to_hex(hex, val, n);
        gdb_send(g, hex);
    }
}

/* Z0/Z1 (software, hardware breakpoint), Z2/Z3/Z4 (write, read, access
 * watchpoint), and z:
 * "TYPE,ADDR,KIND" (KIND: the watched length). */
static void cmd_breakpoint(struct gdb *g, bool insert, const char *args)
{
    uint32_t addr, kind;
    const char *rest;
    int rc;

    if (args[0] < '0' || args[0] > '4' || args[1] != ',') {
        gdb_send(g, "");            /* not a kind there is */
        return;
    }
    if (!parse_addr_len(args + 2, &addr, &kind, &rest)) {
        gdb_send(g, "E22");
        return;
    }
    rc = args[0] >= '2' ? vm_debug_watchpoint_type(g->vm, args[0] - '0', addr, kind, insert)
                        : vm_debug_breakpoint(g->vm, addr, insert);
    gdb_send(g, rc == 0 || !insert ? "OK" : "E28");
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static void cmd_xfer_features(struct gdb *g, const char *args)
{
    static const char annex[] = "target.xml:";
    static char out[PACKET_MAX + 2];
    size_t total = strlen(vm_gdb_target_xml);
    uint32_t off, len;
    const char *rest;

    if (strncmp(args, annex, sizeof annex - 1) != 0) {
        gdb_send(g, "E00");
        return;
    }
    if (!parse_addr_len(args + sizeof annex - 1, &off, &len, &rest)) {
        gdb_send(g, "E22");
        return;
    }
    if (len > PACKET_MAX)
        len = PACKET_MAX;
    if (off >= total) {
        gdb_send(g, "l");
        return;
    }
    if (len > total - off)
        len = (uint32_t)(total - off);
    out[0] = off + len >= total ? 'l' : 'm';
    memcpy(out + 1, vm_gdb_target_xml + off, len);
    gdb_send_bin(g, out, len + 1);
}

enum action { STAY, CONTINUE, STEP, DETACH, KILL };

static enum action cmd_query(struct gdb *g, const char *p)
{
    if (strncmp(p, "qSupported", 10) == 0)
        gdb_send(g, "PacketSize=1000;qXfer:features:read+;QStartNoAckMode+;vContSupported+");
    else if (strcmp(p, "QStartNoAckMode") == 0) {
        gdb_send(g, "OK");
        g->no_ack = true;
    } else if (strncmp(p, "qXfer:features:read:", 20) == 0)
        cmd_xfer_features(g, p + 20);
    else if (strncmp(p, "qAttached", 9) == 0)
        gdb_send(g, "1");
    else if (strcmp(p, "qC") == 0)
        gdb_send(g, "QC1");
    else if (strcmp(p, "qfThreadInfo") == 0)
        gdb_send(g, "m1");
    else if (strcmp(p, "qsThreadInfo") == 0)
        gdb_send(g, "l");
    else if (strcmp(p, "qOffsets") == 0)
        gdb_send(g, "Text=0;Data=0;Bss=0");
    else if (strncmp(p, "qSymbol", 7) == 0)
        gdb_send(g, "OK");
    else
        gdb_send(g, "");
    return STAY;
}

/* vCont;ACTION[:THREAD][;ACTION...]: one thread, so the first action is it. */
static enum action cmd_vcont(struct gdb *g, const char *p)
{
    if (strcmp(p, "vCont?") == 0) {
        gdb_send(g, "vCont;c;C;s;S");
        return STAY;
    }
    if (strncmp(p, "vCont;", 6) == 0) {
        char a = p[6];
        if (a == 's' || a == 'S')
            return STEP;
        if (a == 'c' || a == 'C')
            return CONTINUE;
    }
    gdb_send(g, "");
    return STAY;
}

/* c [ADDR] / s [ADDR]: resume (at ADDR if given). */
static enum action resume_at(struct gdb *g, const char *addr, enum action a)
{
    if (*addr) {
        struct vm_regs r;
        vm_get_regs(g->vm, &r);
        r.eip = (uint32_t)strtoul(addr, NULL, 16);
        vm_set_regs(g->vm, &r);
    }
    return a;
}

static enum action gdb_command(struct gdb *g)
{
    char *p = g->pkt;
    switch (p[0]) {
    case '?':
        gdb_send(g, "T05thread:01;");
        return STAY;
    case 'g': case 'G': case 'p': case 'P':
        cmd_registers(g, p[0], p + 1);
        return STAY;
    case 'm':
        cmd_read_memory(g, p + 1);
        return STAY;
    case 'M':
        cmd_write_memory(g, p + 1, false);
        return STAY;
    case 'X':
        cmd_write_memory(g, p + 1, true);
        return STAY;
    case 'Z': case 'z':
        cmd_breakpoint(g, p[0] == 'Z', p + 1);
        return STAY;
    case 'c':
        return resume_at(g, p + 1, CONTINUE);
    case 's':
        return resume_at(g, p + 1, STEP);
    case 'C': case 'S':             /* with a signal: there is none to pass to a kernel */
        return p[0] == 'C' ? CONTINUE : STEP;
    case 'v':
        if (strncmp(p, "vCont", 5) == 0)
            return cmd_vcont(g, p);
        gdb_send(g, "");
        return STAY;
    case 'q': case 'Q':
        return cmd_query(g, p);
    case 'H': case 'T':
        gdb_send(g, "OK");
        return STAY;
    case 'D':
        gdb_send(g, "OK");
        return DETACH;
    case 'k':
        return KILL;
    default:
        gdb_send(g, "");
        return STAY;
    }
}

/* After a debug stop: was it GDB's Ctrl-C (then eat the byte)? */
static bool took_interrupt(struct gdb *g)
{
    uint8_t c;
    if (g->in_pos < g->in_len) {
        if (g->in[g->in_pos] != 0x03)
            return false;
        g->in_pos++;
        return true;
    }
    if (recv(g->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1 || c != 0x03)
        return false;
    return recv(g->fd, &c, 1, 0) == 1;
}

/* The stop reply after a c/s: a watchpoint, GDB's Ctrl-C, or a trap. */
static void send_stop(struct gdb *g)
{
    char msg[48];
    uint32_t watched;

    static const char *const kinds[] = { [VM_WATCH_WRITE] = "watch", [VM_WATCH_READ] = "rwatch",
                                         [VM_WATCH_ACCESS] = "awatch" };

    if (vm_debug_watch_hit(g->vm, &watched))
        snprintf(msg, sizeof msg, "T%02x%s:%08x;thread:01;", SIGTRAP_NUM,
                 kinds[vm_debug_watch_hit_type(g->vm)], watched);
    else
        snprintf(msg, sizeof msg, "T%02xthread:01;", took_interrupt(g) ? SIGINT_NUM : SIGTRAP_NUM);
    gdb_send(g, msg);
}

int gdbstub_run(struct vm *vm, const char *spec, bool start_stopped, enum vm_exit *end, char *err,
                size_t errlen)
{
    struct gdb *g = calloc(1, sizeof *g);
    bool running = !start_stopped, step = false, reply = false;
    enum action a;
    char msg[8];

    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    g->vm = vm;
    g->fd = -1;
    g->lfd = strncmp(spec, "unix:", 5) == 0 ? listen_unix(spec + 5, err, errlen)
                                            : listen_tcp(spec + 4, err, errlen);
    if (g->lfd < 0) {
        free(g);
        return -1;
    }
    if (start_stopped && !gdb_accept(g))
        goto no_debugger;
    for (;;) {
        if (running) {
            enum vm_exit x = vm_debug_run(vm, step, g->fd >= 0 ? g->fd : g->lfd);
            if (x != VM_EXIT_DEBUG) {
                /* The guest ended the run: GDB sees the process exit. */
                snprintf(msg, sizeof msg, "W%02x",
                         x == VM_EXIT_DEBUG_EXIT ? vm_exit_status(vm) & 0xff : 0);
                if (g->fd >= 0)
                    gdb_send(g, msg);
                *end = x;
                break;
            }
            running = false;
            if (g->fd < 0) {        /* a debugger attaches to the running guest */
                if (!gdb_accept(g))
                    goto no_debugger;
                continue;
            }
            if (reply)
                send_stop(g);
            reply = false;
        }
        if (g->fd < 0) {
            if (!running && !gdb_accept(g))
                goto no_debugger;
            continue;
        }
        if (gdb_recv(g) < 0) {      /* GDB went away: the guest runs on */
            gdb_hangup(g);
            running = true;
            step = false;
            continue;
        }
        switch (a = gdb_command(g)) {
        case STAY:
            break;
        case CONTINUE: case STEP:
            step = a == STEP;
            running = reply = true;
            break;
        case DETACH:
            gdb_hangup(g);
            running = true;
            step = false;
            break;
        case KILL:
            gdb_hangup(g);
            *end = VM_EXIT_DEBUG;
            goto out;
        }
    }
    goto out;
no_debugger:
    fprintf(stderr, "bt86: -gdb: cannot accept a connection: %s; running on\n", strerror(errno));
    *end = vm_run(vm, UINT64_MAX, 0);
out:
    if (g->fd >= 0)
        close(g->fd);
    close(g->lfd);
    if (strncmp(spec, "unix:", 5) == 0)
        unlink(spec + 5);
    free(g);
    return 0;
}
