/* options_chardev — the spellings of QEMU's character back-ends
 * (chardev.h): -serial/-monitor/-qmp DEV and -chardev BACKEND,id=...
 * Parsing only; chardev.c opens them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/chardev.h"

static int bad(char *err, size_t errlen, const char *spec, const char *why)
{
    snprintf(err, errlen, "'%s': %s", spec, why);
    return -1;
}

/* The socket flags after the address: server, nowait, server=on|off,
 * wait=on|off; QEMU's other socket flags change nothing here. */
static int socket_flags(const char *spec, const char *s, struct chardev_spec *cs, char *err,
                        size_t errlen)
{
    cs->wait = true;
    while (*s == ',') {
        const char *f = s + 1;
        size_t n = strcspn(f, ",");
        if ((n == 6 && !strncmp(f, "server", 6)) || (n == 9 && !strncmp(f, "server=on", 9)))
            cs->server = true;
        else if (n == 10 && !strncmp(f, "server=off", 10))
            cs->server = false;
        else if ((n == 6 && !strncmp(f, "nowait", 6)) || (n == 8 && !strncmp(f, "wait=off", 8)))
            cs->wait = false;
        else if (n == 7 && !strncmp(f, "wait=on", 7))
            cs->wait = true;
        else if (!((n == 7 && !strncmp(f, "nodelay", 7)) || (n > 7 && !strncmp(f, "nodelay=", 8)) ||
                   (n > 5 && !strncmp(f, "ipv4=", 5)) || (n > 5 && !strncmp(f, "ipv6=", 5))))
            return bad(err, errlen, spec, "unknown socket flag (server, nowait, wait=off)");
        s = f + n;
    }
    if (*s)
        return bad(err, errlen, spec, "bad socket address");
    return 0;
}

int chardev_parse(const char *spec, struct chardev_spec *cs, char *err, size_t errlen)
{
    *cs = (struct chardev_spec){ .kind = CHARDEV_NULL };
    if (!strcmp(spec, "null") || !strcmp(spec, "none"))
        return 0;
    if (!strcmp(spec, "stdio")) {
        cs->kind = CHARDEV_STDIO;
        return 0;
    }
    if (!strcmp(spec, "pty")) {
        cs->kind = CHARDEV_PTY;
        return 0;
    }
    if (!strncmp(spec, "file:", 5)) {
        cs->kind = CHARDEV_FILE;
        if (!spec[5] || strlen(spec + 5) >= sizeof cs->path)
            return bad(err, errlen, spec, "file: needs a path");
        strcpy(cs->path, spec + 5);
        return 0;
    }
    if (!strncmp(spec, "unix:", 5)) {
        size_t n = strcspn(spec + 5, ",");
        cs->kind = CHARDEV_UNIX;
        if (n == 0 || n >= sizeof cs->path)
            return bad(err, errlen, spec, "unix: needs a socket path (at most 107 bytes)");
        memcpy(cs->path, spec + 5, n);
        return socket_flags(spec, spec + 5 + n, cs, err, errlen);
    }
    if (!strncmp(spec, "tcp:", 4)) {
        const char *host = spec + 4, *colon;
        size_t n = strcspn(host, ",");
        char *end;
        cs->kind = CHARDEV_TCP;
        /* [HOST]:PORT, the port after the last colon of the address */
        for (colon = host + n; colon > host && colon[-1] != ':'; colon--)
            ;
        if (colon == host || colon - 1 - host >= (long)sizeof cs->path)
            return bad(err, errlen, spec, "expected tcp:[HOST]:PORT");
        memcpy(cs->path, host, (size_t)(colon - 1 - host));
        unsigned long port = strtoul(colon, &end, 10);
        if (end == colon || end != host + n || port == 0 || port > 65535)
            return bad(err, errlen, spec, "expected tcp:[HOST]:PORT with a port of 1-65535");
        cs->port = (uint16_t)port;
        return socket_flags(spec, host + n, cs, err, errlen);
    }
    return bad(err, errlen, spec,
               "supported are null, stdio, pty, file:PATH, tcp:[HOST]:PORT[,server][,nowait], "
               "unix:PATH[,server][,nowait]");
}

/* key=VALUE in a comma list (not the first item, the backend); NULL. */
static const char *opt_value(const char *opts, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *s = strchr(opts, ','); s; s = strchr(s + 1, ',')) {
        const char *f = s + 1;
        size_t n = strcspn(f, ",");
        if (n > kl && f[kl] == '=' && !strncmp(f, key, kl)) {
            snprintf(buf, len, "%.*s", (int)(n - kl - 1), f + kl + 1);
            return buf;
        }
    }
    return NULL;
}

static bool opt_flag(const char *opts, const char *key, bool dflt)
{
    char v[8];
    size_t kl = strlen(key);
    for (const char *s = strchr(opts, ','); s; s = strchr(s + 1, ','))
        if (!strncmp(s + 1, key, kl) && (s[1 + kl] == ',' || !s[1 + kl]))
            return true;        /* QEMU's old bare "server" */
    if (opt_value(opts, key, v, sizeof v))
        return !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true");
    return dflt;
}

int chardev_opts_to_spec(const char *opts, char *buf, size_t len, char *err, size_t errlen)
{
    size_t bl = strcspn(opts, ",");
    char path[4096], host[128], port[16];

    if ((bl == 5 && !strncmp(opts, "stdio", 5)) || (bl == 4 && !strncmp(opts, "null", 4)) ||
        (bl == 3 && !strncmp(opts, "pty", 3))) {
        snprintf(buf, len, "%.*s", (int)bl, opts);
        return 0;
    }
    if (bl == 4 && !strncmp(opts, "file", 4)) {
        if (!opt_value(opts, "path", path, sizeof path) || !path[0])
            return bad(err, errlen, opts, "the file backend needs path=PATH");
        snprintf(buf, len, "file:%s", path);
        return 0;
    }
    if (bl == 6 && !strncmp(opts, "socket", 6)) {
        bool server = opt_flag(opts, "server", false);
        bool wait = !opt_flag(opts, "nowait", false) && opt_flag(opts, "wait", true);
        const char *flags = server ? (wait ? ",server" : ",server,nowait") : "";
        if (opt_value(opts, "path", path, sizeof path))
            snprintf(buf, len, "unix:%s%s", path, flags);
        else if (opt_value(opts, "port", port, sizeof port))
            snprintf(buf, len, "tcp:%s:%s%s", opt_value(opts, "host", host, sizeof host) ? host : "",
                     port, flags);
        else
            return bad(err, errlen, opts, "the socket backend needs port=PORT or path=PATH");
        return 0;
    }
    snprintf(err, errlen, "'%s': backend '%.*s' not supported (stdio, null, file, pty, socket)",
             opts, (int)bl, opts);
    return -1;
}
