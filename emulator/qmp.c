/* qmp — QEMU's machine protocol (docs/interop/qmp-spec): JSON objects in
 * and out over a socket. The greeting {"QMP": ...}; commands
 * {"execute": NAME, "arguments": {...}, "id": ANY} answered with
 * {"return": ...} or {"error": {"class", "desc"}}, the id echoed; events
 * {"event", "data", "timestamp"}. Until qmp_capabilities only it is
 * accepted (capabilities negotiation mode).
 *
 * The JSON reader is a small validating recursive-descent parser that only
 * remembers where the top-level members' values are: bad JSON, a value
 * nested too deep or an object too long is an error reply, never more. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "emulator/monitor_int.h"

#define JSON_MAX_DEPTH 32

/* ---- reading ------------------------------------------------------------------ */

struct span {
    const char *p;
    size_t n;                   /* 0: absent */
};

struct jp {
    const char *p, *end;
    int depth;
};

static void ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool lit(struct jp *j, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
        return false;
    j->p += n;
    return true;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string; decoded into out (NUL-terminated, truncated) if out. Escapes
 * \uXXXX are kept to one byte: the commands are ASCII. */
static bool jstring(struct jp *j, char *out, size_t outlen)
{
    size_t n = 0;
    if (j->p >= j->end || *j->p != '"')
        return false;
    j->p++;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p++;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (j->p >= j->end)
                return false;
            c = (unsigned char)*j->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned u = 0;
                for (int i = 0; i < 4; i++) {
                    int h = j->p < j->end ? hexval(*j->p++) : -1;
                    if (h < 0)
                        return false;
                    u = u << 4 | (unsigned)h;
                }
                c = u < 0x80 ? (unsigned char)u : '?';
                break;
            }
            default:
                return false;
            }
        }
        if (out && n + 1 < outlen)
            out[n++] = (char)c;
    }
    if (out && outlen)
        out[n] = 0;
    if (j->p >= j->end)
        return false;
    j->p++;
    return true;
}

static bool jnumber(struct jp *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e'
                             || *j->p == 'E' || *j->p == '+' || *j->p == '-'))
        j->p++;
    return j->p > s && (j->p[-1] >= '0' && j->p[-1] <= '9');
}

static bool jvalue(struct jp *j);

/* An object or array; with members, the values of the keys asked for. */
static bool jcontainer(struct jp *j, const char *const keys[], struct span vals[], int nkeys)
{
    bool obj = *j->p == '{';
    char close = obj ? '}' : ']';

    if (++j->depth > JSON_MAX_DEPTH)
        return false;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        char key[64] = "";
        const char *v;
        ws(j);
        if (obj) {
            if (!jstring(j, key, sizeof key))
                return false;
            ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return false;
            ws(j);
        }
        v = j->p;
        if (!jvalue(j))
            return false;
        for (int i = 0; obj && i < nkeys; i++)
            if (strcmp(key, keys[i]) == 0)
                vals[i] = (struct span){ v, (size_t)(j->p - v) };
        ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == close) {
            j->p++;
            j->depth--;
            return true;
        }
        if (*j->p++ != ',')
            return false;
    }
}

static bool jvalue(struct jp *j)
{
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{': case '[': return jcontainer(j, NULL, NULL, 0);
    case '"': return jstring(j, NULL, 0);
    case 't': return lit(j, "true");
    case 'f': return lit(j, "false");
    case 'n': return lit(j, "null");
    default: return jnumber(j);
    }
}

/* The members of the object in s the keys name; false if s is not one
 * valid JSON object. */
static bool jobject(struct span s, const char *const keys[], struct span vals[], int nkeys)
{
    struct jp j = { s.p, s.p + s.n, 0 };
    memset(vals, 0, sizeof *vals * (size_t)nkeys);
    ws(&j);
    if (j.p >= j.end || *j.p != '{' || !jcontainer(&j, keys, vals, nkeys))
        return false;
    ws(&j);
    return j.p == j.end;
}

static bool span_string(struct span s, char *out, size_t outlen)
{
    struct jp j = { s.p, s.p + s.n, 0 };
    return s.n && jstring(&j, out, outlen) && j.p == j.end;
}

/* ---- writing ------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Send what was written to f (an open_memstream), then a CRLF. */
static void send_stream(struct mon_client *c, FILE *f, char **text, size_t *n)
{
    fputs("\r\n", f);
    fclose(f);
    mon_send(c, *text, *n);
    free(*text);
}

static void reply(struct mon_client *c, struct span id, const char *ret, const char *err_class,
                  const char *desc)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (!f)
        return;
    if (err_class) {
        fprintf(f, "{\"error\": {\"class\": \"%s\", \"desc\": ", err_class);
        json_string(f, desc);
        fputs("}", f);
    } else {
        fprintf(f, "{\"return\": %s", ret);
    }
    if (id.n)
        fprintf(f, ", \"id\": %.*s", (int)id.n, id.p);
    fputs("}", f);
    send_stream(c, f, &text, &n);
}

void qmp_greet(struct mon_client *c)
{
    static const char greeting[] =
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
        "\"package\": \"bt86\"}, \"capabilities\": []}}\r\n";
    mon_send(c, greeting, sizeof greeting - 1);
}

void qmp_event(struct monitor *m, const char *name, const char *data)
{
    struct timeval tv;
    char *text = NULL;
    size_t n = 0;
    FILE *f;

    if (!m->qmp || !m->qmp->caps || !(f = open_memstream(&text, &n)))
        return;
    gettimeofday(&tv, NULL);
    fprintf(f, "{\"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}, \"event\": \"%s\"",
            (long long)tv.tv_sec, (long)tv.tv_usec, name);
    if (data)
        fprintf(f, ", \"data\": %s", data);
    fputs("}", f);
    send_stream(m->qmp, f, &text, &n);
}

/* ---- commands ----------------------------------------------------------------- */

static void human_monitor_command(struct monitor *m, struct mon_client *c, struct span args,
                                  struct span id)
{
    static const char *const keys[] = { "command-line" };
    struct span v;
    char line[1024], *text = NULL, *out = NULL;
    size_t n = 0, on = 0;
    FILE *f;

    if (!args.n || !jobject(args, keys, &v, 1) || !span_string(v, line, sizeof line)) {
        reply(c, id, NULL, "GenericError", "Parameter 'command-line' is missing");
        return;
    }
    if (!(f = open_memstream(&text, &n)))
        return;
    hmp_command(m, line, f);
    fclose(f);
    if ((f = open_memstream(&out, &on))) {
        json_string(f, text);
        fclose(f);
        reply(c, id, out, NULL, NULL);
        free(out);
    }
    free(text);
}

static void qmp_migrate(struct monitor *m, struct mon_client *c, struct span args, struct span id)
{
    static const char *const keys[] = { "uri" };
    struct span v;
    char uri[1024], err[300];

    if (!args.n || !jobject(args, keys, &v, 1) || !span_string(v, uri, sizeof uri)) {
        reply(c, id, NULL, "GenericError", "Parameter 'uri' is missing");
        return;
    }
    if (mon_migrate(m, uri, err, sizeof err))
        reply(c, id, "{}", NULL, NULL);
    else
        reply(c, id, NULL, "GenericError", err);
}

static void execute(struct monitor *m, struct mon_client *c, const char *cmd, struct span args,
                    struct span id)
{
    char desc[160];

    if (strcmp(cmd, "qmp_capabilities") == 0) {
        if (c->caps) {
            reply(c, id, NULL, "CommandNotFound",
                  "Capabilities negotiation is already complete, command ignored");
            return;
        }
        c->caps = true;
        reply(c, id, "{}", NULL, NULL);
        return;
    }
    if (!c->caps) {
        reply(c, id, NULL, "CommandNotFound",
              "Expecting capabilities negotiation with 'qmp_capabilities'");
        return;
    }
    if (strcmp(cmd, "query-status") == 0) {
        reply(c, id, m->running ? "{\"status\": \"running\", \"singlestep\": false, \"running\": true}"
                                : "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}",
              NULL, NULL);
    } else if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "cont") == 0) {
        reply(c, id, "{}", NULL, NULL);
        if (cmd[0] == 's')
            mon_stop(m);
        else
            mon_cont(m);
    } else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "system_reset") == 0) {
        reply(c, id, "{}", NULL, NULL);
        hmp_command(m, cmd, stderr);        /* both print nothing */
    } else if (strcmp(cmd, "query-version") == 0) {
        reply(c, id, "{\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"bt86\"}",
              NULL, NULL);
    } else if (strcmp(cmd, "human-monitor-command") == 0) {
        human_monitor_command(m, c, args, id);
    } else if (strcmp(cmd, "migrate") == 0) {
        qmp_migrate(m, c, args, id);
    } else if (strcmp(cmd, "migrate-set-parameters") == 0) {
        static const char *const keys[] = { "downtime-limit" };
        struct span v = { 0 };
        char line[96];
        if (args.n && jobject(args, keys, &v, 1) && v.n && v.n < 24) {
            snprintf(line, sizeof line, "downtime-limit %.*s", (int)v.n, v.p);
            hmp_migrate_set_parameter(m, line, stderr);
        }
        reply(c, id, "{}", NULL, NULL);
    } else if (strcmp(cmd, "migrate_cancel") == 0) {
        reply(c, id, "{}", NULL, NULL);
        hmp_migrate_cancel(m, "", stderr);
    } else if (strcmp(cmd, "query-migrate") == 0) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        if (f) {
            qmp_query_migrate(m, f);
            fclose(f);
            reply(c, id, text, NULL, NULL);
            free(text);
        }
    } else {
        snprintf(desc, sizeof desc, "The command %s has not been found", cmd);
        reply(c, id, NULL, "CommandNotFound", desc);
    }
}

static void request(struct monitor *m, struct mon_client *c, struct span s)
{
    static const char *const keys[] = { "execute", "arguments", "id" };
    struct span v[3];
    char cmd[64];

    if (!jobject(s, keys, v, 3)) {
        reply(c, (struct span){ 0 }, NULL, "GenericError", "JSON parse error");
        return;
    }
    if (!v[0].n || !span_string(v[0], cmd, sizeof cmd)) {
        reply(c, v[2], NULL, "GenericError", "QMP input lacks member 'execute'");
        return;
    }
    if (v[1].n && v[1].p[0] != '{') {
        reply(c, v[2], NULL, "GenericError", "QMP input member 'arguments' must be an object");
        return;
    }
    execute(m, c, cmd, v[1], v[2]);
}

/* Split the input into top-level JSON values by bracket depth (outside
 * strings), as QEMU's JSON streamer does; each complete one is a request.
 * Anything else up to a line end is a parse error. */
void qmp_input(struct monitor *m, struct mon_client *c)
{
    size_t i = 0, start = 0;
    int depth = 0;
    bool in_str = false, esc = false;

    while (i < c->len && !m->quit) {
        char ch = c->buf[i++];
        if (depth == 0) {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
                start = i;
                continue;
            }
            if (ch != '{' && ch != '[') {
                char *nl = memchr(c->buf + i - 1, '\n', c->len - (i - 1));
                if (!nl)
                    break;      /* wait for the line's end */
                reply(c, (struct span){ 0 }, NULL, "GenericError", "JSON parse error, invalid token");
                i = start = (size_t)(nl - c->buf) + 1;
                continue;
            }
        }
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (--depth == 0) {
                request(m, c, (struct span){ c->buf + start, i - start });
                start = i;
            }
        }
    }
    if (start < c->len && start == 0 && c->len == sizeof c->buf) {
        reply(c, (struct span){ 0 }, NULL, "GenericError", "JSON parse error, input too long");
        start = c->len;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
}
