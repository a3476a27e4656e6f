/* monitor_hmp — the human monitor's commands, spelled as QEMU's HMP spells
 * them (QEMU's hmp-commands.hx): one table drives dispatch and 'help'. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/monitor_int.h"
#include "emulator/snapshot.h"

struct hmp_cmd {
    const char *name, *alias, *args, *help;
    void (*fn)(struct monitor *m, const char *args, FILE *out);
};

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* ---- expressions: numbers, $registers, + and - --------------------------- */

static const char *const reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

static bool term(struct monitor *m, const char **pp, uint64_t *val)
{
    const char *p = skip_space(*pp);
    char *end;

    if (*p == '$') {
        struct vm_regs r;
        size_t n = 0;
        p++;
        while (isalnum((unsigned char)p[n]))
            n++;
        vm_get_regs(m->vm, &r);
        for (int i = 0; i < 8; i++)
            if (n == 3 && strncasecmp(p, reg_names[i], 3) == 0)
                *val = r.gpr[i], *pp = p + n;
        if (n == 3 && strncasecmp(p, "eip", 3) == 0)
            *val = r.eip, *pp = p + n;
        if (n == 2 && strncasecmp(p, "pc", 2) == 0)
            *val = r.eip, *pp = p + n;
        return *pp == p + n;
    }
    if (!isdigit((unsigned char)*p))
        return false;
    *val = strtoull(p, &end, 0);
    *pp = end;
    return true;
}

static bool expr(struct monitor *m, const char *p, uint64_t *val)
{
    uint64_t t;
    if (!term(m, &p, val))
        return false;
    for (;;) {
        p = skip_space(p);
        if (*p == 0)
            return true;
        if ((*p != '+' && *p != '-'))
            return false;
        char op = *p++;
        if (!term(m, &p, &t))
            return false;
        *val = op == '+' ? *val + t : *val - t;
    }
}

/* ---- x / xp ---------------------------------------------------------------- */

/* x /NFU ADDR: N units of U bytes (b h w g) in format F (x d u o c). */
static void memory_dump(struct monitor *m, const char *args, FILE *out, bool phys)
{
    unsigned count = 1, size = 4, per_line;
    char fmt = 'x';
    uint64_t addr;
    const char *p = skip_space(args);

    if (*p == '/') {
        char *end;
        p++;
        if (isdigit((unsigned char)*p)) {
            count = (unsigned)strtoul(p, &end, 10);
            p = end;
        }
        for (; *p && *p != ' ' && *p != '\t'; p++) {
            switch (*p) {
            case 'x': case 'd': case 'u': case 'o': case 'c': fmt = *p; break;
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            default:
                fprintf(out, "invalid char in format: '%c'\n", *p);
                return;
            }
        }
        if (fmt == 'c' && !strchr(args, 'b') && !strchr(args, 'h') && !strchr(args, 'g'))
            size = 1;
    }
    if (!expr(m, p, &addr)) {
        fprintf(out, "invalid address expression: '%s'\n", skip_space(p));
        return;
    }
    if (count > 4096)
        count = 4096;
    per_line = fmt == 'c' ? 16 : 16 / size;
    for (unsigned i = 0; i < count; i++) {
        uint32_t a = (uint32_t)addr + i * size;
        uint8_t b[8] = { 0 };
        uint64_t v = 0;
        bool ok = phys ? vm_read_phys(m->vm, a, b, size) == 0 : vm_debug_read(m->vm, a, b, size) == size;
        if (i % per_line == 0)
            fprintf(out, "%s%08x:", i ? "\n" : "", a);
        if (!ok) {
            fprintf(out, "\nCannot access memory\n");
            return;
        }
        memcpy(&v, b, size);
        switch (fmt) {
        case 'x': fprintf(out, " 0x%0*llx", (int)size * 2, (unsigned long long)v); break;
        case 'o': fprintf(out, " %#llo", (unsigned long long)v); break;
        case 'u': fprintf(out, " %llu", (unsigned long long)v); break;
        case 'd': {
            int64_t sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            fprintf(out, " %lld", (long long)sv);
            break;
        }
        case 'c': fprintf(out, isprint((int)(v & 0xff)) ? " '%c'" : " '\\x%02x'", (int)(v & 0xff)); break;
        }
    }
    fprintf(out, "\n");
}

static void cmd_x(struct monitor *m, const char *a, FILE *out) { memory_dump(m, a, out, false); }
static void cmd_xp(struct monitor *m, const char *a, FILE *out) { memory_dump(m, a, out, true); }

/* ---- the rest --------------------------------------------------------------- */

static void cmd_info(struct monitor *m, const char *a, FILE *out);
static void cmd_help(struct monitor *m, const char *a, FILE *out);

static void cmd_stop(struct monitor *m, const char *a, FILE *out) { (void)a, (void)out; mon_stop(m); }
static void cmd_cont(struct monitor *m, const char *a, FILE *out) { (void)a, (void)out; mon_cont(m); }

static void cmd_quit(struct monitor *m, const char *a, FILE *out)
{
    (void)a, (void)out;
    qmp_event(m, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
    m->quit = true;
}

/* bt86 ends the run on a reset, as QEMU does with -no-reboot. */
static void cmd_system_reset(struct monitor *m, const char *a, FILE *out)
{
    (void)a, (void)out;
    qmp_event(m, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
    m->reset = true;
}

/* QEMU's savevm/loadvm name a snapshot inside a qcow2 image; bt86's name a
 * file (snapshot.h). The guest is stopped while a command runs; a failed
 * loadvm leaves it as it was. */
static bool snapshot_path(const char *a, char *path, size_t n, const char *cmd, FILE *out)
{
    a = skip_space(a);
    size_t len = strlen(a);
    while (len && (a[len - 1] == ' ' || a[len - 1] == '\t'))
        len--;
    if (!len || len >= n) {
        fprintf(out, "Error: %s needs a file name (bt86 snapshots are files)\n", cmd);
        return false;
    }
    memcpy(path, a, len);
    path[len] = 0;
    return true;
}

static void cmd_savevm(struct monitor *m, const char *a, FILE *out)
{
    char path[4096], err[512];
    if (snapshot_path(a, path, sizeof path, "savevm", out) &&
        vm_snapshot_save(m->vm, path, err, sizeof err) < 0)
        fprintf(out, "Error: %s\n", err);
}

static void cmd_loadvm(struct monitor *m, const char *a, FILE *out)
{
    char path[4096], err[512];
    if (snapshot_path(a, path, sizeof path, "loadvm", out) &&
        vm_snapshot_load(m->vm, path, err, sizeof err) < 0)
        fprintf(out, "Error: %s\n", err);
}

static const struct hmp_cmd commands[] = {
    { "help", "?", "[cmd]", "show the help", cmd_help },
    { "info", NULL, "[subcommand]", "show various information about the system state", cmd_info },
    { "x", NULL, "/fmt addr", "virtual memory dump starting at 'addr'", cmd_x },
    { "xp", NULL, "/fmt addr", "physical memory dump starting at 'addr'", cmd_xp },
    { "stop", "s", "", "stop emulation", cmd_stop },
    { "cont", "c", "", "resume emulation", cmd_cont },
    { "system_reset", NULL, "", "reset the system (bt86: ends the run, as -no-reboot)",
      cmd_system_reset },
    { "quit", "q", "", "quit the emulator", cmd_quit },
    { "savevm", NULL, "FILE", "save the whole machine to FILE (bt86: a file, not a qcow2 tag)",
      cmd_savevm },
    { "loadvm", NULL, "FILE", "restore the machine from FILE (bt86: a file, not a qcow2 tag)",
      cmd_loadvm },
    { "migrate", NULL, "[-d] uri", "migrate to URI (tcp:HOST:PORT, unix:PATH, exec:CMD), in the background",
      hmp_migrate },
    { "migrate_cancel", NULL, "", "cancel the current migration (the guest runs on)", hmp_migrate_cancel },
    { "migrate_set_parameter", NULL, "name value",
      "set a migration parameter (downtime-limit MS; others are accepted)", hmp_migrate_set_parameter },
};

static const char *const info_items[][2] = {
    { "registers", "show the cpu registers" },
    { "cpus", "show infos for each CPU" },
    { "status", "show the current VM status (running|paused)" },
    { "mem", "show the active virtual memory mappings" },
    { "tlb", "show virtual to physical memory mappings" },
    { "jit", "show dynamic compiler info (bt86's translation statistics)" },
    { "snapshots", "show the currently saved VM snapshots (bt86: none, snapshots are files)" },
    { "migrate", "show migration status" },
};

static void cmd_info(struct monitor *m, const char *a, FILE *out)
{
    a = skip_space(a);
    if (*a && hmp_info(m, a, out))
        return;
    if (*a)
        fprintf(out, "info: unknown item '%s'\n", a);
    for (size_t i = 0; i < sizeof info_items / sizeof info_items[0]; i++)
        fprintf(out, "info %s  -- %s\n", info_items[i][0], info_items[i][1]);
}

static void cmd_help(struct monitor *m, const char *a, FILE *out)
{
    (void)m;
    a = skip_space(a);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct hmp_cmd *c = &commands[i];
        if (*a && strcmp(a, c->name) != 0 && !(c->alias && strcmp(a, c->alias) == 0))
            continue;
        fprintf(out, "%s%s%s %s -- %s\n", c->name, c->alias ? "|" : "", c->alias ? c->alias : "",
                c->args, c->help);
    }
}

void hmp_command(struct monitor *m, const char *line, FILE *out)
{
    const char *p = skip_space(line), *args;
    size_t n = 0;

    while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '/')
        n++;
    if (n == 0)
        return;
    args = p + n;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const struct hmp_cmd *c = &commands[i];
        if ((strlen(c->name) == n && strncmp(p, c->name, n) == 0)
            || (c->alias && strlen(c->alias) == n && strncmp(p, c->alias, n) == 0)) {
            c->fn(m, args, out);
            return;
        }
    }
    fprintf(out, "unknown command: '%.*s'\n", (int)n, p);
}
