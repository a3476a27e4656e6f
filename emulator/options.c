/* options — the command line.
 *
 * One table drives both the parser and --help, so the help text lists
 * exactly the options that exist. Every option is accepted with one dash or
 * two (QEMU does the same), and an option's value is always the next
 * argument. Later occurrences of an option override earlier ones, as in
 * QEMU, except that a kernel may be named only once. */
#include "emulator/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef BT86_VERSION
#define BT86_VERSION "0.1"
#endif

#define RAM_MIN_MB 2
#define RAM_MAX_MB 3072
#define RAM_DEFAULT_MB 128
#define DEBUG_EXIT_BASE 0xf4
#define DEBUG_EXIT_SIZE 4
#define SHADOW_SPACES_MAX 256     /* shadowmmu/mmu.h MMU_MAX_SPACES */

struct parse {
    struct options *o;
    char *err;
    size_t errlen;
    bool done;           /* --help or --version printed */
};

static int fail(struct parse *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int set_kernel(struct parse *p, const char *v)
{
    if (p->o->kernel && strcmp(p->o->kernel, v) != 0)
        return fail(p, "two kernels given ('%s' and '%s')", p->o->kernel, v);
    p->o->kernel = v;
    return 0;
}

static int opt_append(struct parse *p, const char *v) { p->o->append = v; return 0; }
static int opt_initrd(struct parse *p, const char *v) { p->o->initrd = v; return 0; }

/* -m [size=]N[K|M|G]: no suffix means MiB, as in QEMU. */
static int opt_memory(struct parse *p, const char *v)
{
    const char *s = strncmp(v, "size=", 5) == 0 ? v + 5 : v;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (end == s || *s == '-' || *s == '+' || errno == ERANGE)
        return fail(p, "-m '%s': expected a size such as 128, 128M or 1G", v);
    unsigned long long unit = 1ull << 20;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': unit = 1ull << 10; break;
        case 'm': case 'M': unit = 1ull << 20; break;
        case 'g': case 'G': unit = 1ull << 30; break;
        default: return fail(p, "-m '%s': expected a size such as 128, 128M or 1G", v);
        }
        if (end[1])
            return fail(p, "-m '%s': expected a size such as 128, 128M or 1G", v);
    }
    unsigned long long max = (unsigned long long)RAM_MAX_MB << 20;
    if (n > max / unit || n * unit < (unsigned long long)RAM_MIN_MB << 20)
        return fail(p, "-m '%s': guest RAM must be %d to %d MiB", v, RAM_MIN_MB, RAM_MAX_MB);
    unsigned long long bytes = n * unit;
    if (bytes % (1ull << 20))
        return fail(p, "-m '%s': guest RAM must be a whole number of MiB", v);
    p->o->ram_mb = (uint32_t)(bytes >> 20);
    return 0;
}

/* "mon:stdio" is stdio: bt86 has no monitor to multiplex. "none" (no port)
 * is taken as "null": the guest still sees a UART, which goes nowhere. */
static int opt_serial(struct parse *p, const char *v)
{
    if (strcmp(v, "stdio") == 0 || strcmp(v, "mon:stdio") == 0)
        p->o->serial = "stdio";
    else if (strcmp(v, "null") == 0 || strcmp(v, "none") == 0)
        p->o->serial = "null";
    else if (strncmp(v, "file:", 5) == 0 && v[5])
        p->o->serial = v;
    else
        return fail(p, "-serial '%s': supported are stdio, null and file:PATH", v);
    return 0;
}

static int opt_display(struct parse *p, const char *v)
{
    if (strcmp(v, "none") != 0)
        return fail(p, "-display '%s': bt86 has no display; use -display none", v);
    return 0;
}

static int opt_nographic(struct parse *p, const char *v) { return 0; }
static int opt_no_reboot(struct parse *p, const char *v) { p->o->no_reboot = true; return 0; }

static int parse_port(struct parse *p, const char *prop, const char *v, size_t len,
                      unsigned long max, unsigned long *out)
{
    char buf[32], *end;
    if (len == 0 || len >= sizeof buf)
        return fail(p, "-device isa-debug-exit: bad %s value '%.*s'", prop, (int)len, v);
    memcpy(buf, v, len);
    buf[len] = 0;
    errno = 0;
    unsigned long n = strtoul(buf, &end, 0);
    if (*end || buf[0] == '-' || errno == ERANGE || n > max)
        return fail(p, "-device isa-debug-exit: bad %s value '%s'", prop, buf);
    *out = n;
    return 0;
}

/* -device isa-debug-exit[,iobase=N][,iosize=N] */
static int opt_device(struct parse *p, const char *v)
{
    static const char name[] = "isa-debug-exit";
    size_t nl = strlen(name);
    if (strncmp(v, name, nl) != 0 || (v[nl] && v[nl] != ','))
        return fail(p, "-device '%s': unsupported device (bt86 has isa-debug-exit)", v);
    unsigned long base = DEBUG_EXIT_BASE, size = DEBUG_EXIT_SIZE;
    for (const char *s = v + nl; *s == ',';) {
        const char *prop = s + 1, *eq = strchr(prop, '='), *next = strchr(prop, ',');
        if (!next)
            next = prop + strlen(prop);
        if (!eq || eq > next)
            return fail(p, "-device isa-debug-exit: expected property=value, got '%.*s'",
                        (int)(next - prop), prop);
        size_t klen = (size_t)(eq - prop), vlen = (size_t)(next - eq - 1);
        int r;
        if (klen == 6 && strncmp(prop, "iobase", 6) == 0)
            r = parse_port(p, "iobase", eq + 1, vlen, 0xFFFF, &base);
        else if (klen == 6 && strncmp(prop, "iosize", 6) == 0)
            r = parse_port(p, "iosize", eq + 1, vlen, 0x10000, &size);
        else
            return fail(p, "-device isa-debug-exit: unknown property '%.*s' (iobase, iosize)",
                        (int)klen, prop);
        if (r < 0)
            return -1;
        s = next;
    }
    if (size == 0 || base + size > 0x10000)
        return fail(p, "-device isa-debug-exit: ports 0x%lx+0x%lx outside the I/O space",
                    base, size);
    p->o->debug_exit = true;
    p->o->debug_exit_base = (uint16_t)base;
    p->o->debug_exit_size = (uint16_t)size;
    return 0;
}

/* bt86 is its own accelerator: accept what QEMU scripts say for plain
 * emulation, refuse requests for hardware virtualization. */
static int opt_accel(struct parse *p, const char *v)
{
    size_t n = strcspn(v, ",");
    if ((n == 3 && strncmp(v, "tcg", 3) == 0) || (n == 4 && strncmp(v, "bt86", 4) == 0))
        return 0;
    return fail(p, "-accel '%.*s': bt86 is its own accelerator (only tcg is accepted, "
                "and ignored)", (int)n, v);
}

/* --shadow-spaces N: cached shadow address spaces (DESIGN §4), each a
 * 40 GiB reservation of host address space (shadowmmu/mmu.h). */
static int opt_shadow_spaces(struct parse *p, const char *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end || *v == '-' || errno == ERANGE || n < 1 || n > SHADOW_SPACES_MAX)
        return fail(p, "--shadow-spaces '%s': expected 1 to %d", v, SHADOW_SPACES_MAX);
    p->o->shadow_spaces = (unsigned)n;
    return 0;
}

static int opt_drive(struct parse *p, const char *v)
{
    return options_drive(p->o, v, -1, p->err, p->errlen);
}

/* -hda..-hdd FILE: QEMU's shorthand for -drive file=FILE,index=0..3. */
static int opt_hd(struct parse *p, const char *v, int index)
{
    char spec[1100];
    if (strchr(v, ','))
        return fail(p, "-hd%c '%s': use -drive for file names with commas", 'a' + index, v);
    snprintf(spec, sizeof spec, "file=%s", v);
    if (options_drive(p->o, spec, index, p->err, p->errlen) < 0)
        return -1;
    p->o->drive[index].spec = v;
    p->o->drive[index].hd = (char)('a' + index);
    return 0;
}

static int opt_hda(struct parse *p, const char *v) { return opt_hd(p, v, 0); }
static int opt_hdb(struct parse *p, const char *v) { return opt_hd(p, v, 1); }
static int opt_hdc(struct parse *p, const char *v) { return opt_hd(p, v, 2); }
static int opt_hdd(struct parse *p, const char *v) { return opt_hd(p, v, 3); }
static int opt_snapshot(struct parse *p, const char *v) { p->o->snapshot = true; return 0; }
static int opt_screen(struct parse *p, const char *v) { p->o->screen = v; return 0; }

/* --poll-storm N: a testing aid (emulator/poll_storm.c). */
static int opt_poll_storm(struct parse *p, const char *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end || *v == '-' || errno == ERANGE || n < 1 || n > 1000000)
        return fail(p, "--poll-storm '%s': expected 1 to 1000000", v);
    p->o->poll_storm = (unsigned)n;
    return 0;
}

static int opt_stats(struct parse *p, const char *v) { p->o->stats = true; return 0; }
static int opt_no_chain(struct parse *p, const char *v) { p->o->no_chain = true; return 0; }
static int opt_verify(struct parse *p, const char *v) { p->o->verify = true; return 0; }
static int opt_trace(struct parse *p, const char *v) { p->o->trace = true; return 0; }

static int opt_help(struct parse *p, const char *v)
{
    options_usage(stdout);
    p->done = true;
    return 0;
}

static int opt_version(struct parse *p, const char *v)
{
    printf("bt86 %s\n", BT86_VERSION);
    p->done = true;
    return 0;
}

struct opt {
    const char *dashes;    /* how --help spells it: "-" (QEMU's) or "--" (bt86's) */
    const char *name;      /* without dashes */
    const char *alias;     /* another spelling, or NULL */
    const char *arg;       /* the value's name in --help, or NULL for a flag */
    int (*fn)(struct parse *p, const char *v);
    const char *help;
};

static const struct opt opts[] = {
    { "-", "kernel", NULL, "FILE", set_kernel, "the Multiboot kernel to run (same as KERNEL)" },
    { "-", "append", NULL, "STRING", opt_append, "the kernel command line" },
    { "-", "initrd", NULL, "FILE", opt_initrd, "a file to pass as a Multiboot module" },
    { "-", "m", NULL, "SIZE", opt_memory, "guest RAM, 2M to 3G: MiB or K/M/G (default 128)" },
    { "-", "serial", NULL, "DEV", opt_serial, "COM1 to stdio (default), null or file:PATH" },
    { "-", "display", NULL, "none", opt_display, "accepted; bt86 has no display" },
    { "-", "nographic", NULL, NULL, opt_nographic, "accepted (COM1 is on stdio by default)" },
    { "-", "no-reboot", NULL, NULL, opt_no_reboot,
      "accepted; a triple fault always ends the run" },
    { "-", "device", NULL, "isa-debug-exit[,iobase=0xf4][,iosize=0x04]", opt_device,
      "writing v to iobase ends the run with status (v<<1)|1" },
    { "-", "drive", NULL, "file=F[,index=0-3][,format=raw][,media=disk][,readonly=on]",
      opt_drive, "an IDE disk: a raw image (index 0,1 primary, 2,3 secondary)" },
    { "-", "hda", NULL, "FILE", opt_hda, "IDE primary master (-hdb slave, -hdc/-hdd secondary)" },
    { "-", "hdb", NULL, "FILE", opt_hdb, NULL },
    { "-", "hdc", NULL, "FILE", opt_hdc, NULL },
    { "-", "hdd", NULL, "FILE", opt_hdd, NULL },
    { "-", "snapshot", NULL, NULL, opt_snapshot, "disk writes stay in memory; image files untouched" },
    { "--", "screen", NULL, "FILE", opt_screen,
      "on exit, write the 80x25 VGA text screen to FILE" },
    { "-", "accel", NULL, "tcg", opt_accel, "accepted and ignored: bt86 is the accelerator" },
    { "--", "stats", NULL, NULL, opt_stats, "print translation and paging counters on exit" },
    { "--", "shadow-spaces", NULL, "N", opt_shadow_spaces,
      "shadow address spaces kept mapped, 1-256 (default 8)" },
    { "--", "no-chain", NULL, NULL, opt_no_chain,
      "never chain translated blocks (slow path, for tests)" },
    { "--", "poll-storm", NULL, "N", opt_poll_storm,
      "stop at about 1 in N block entries as an interrupt would (for tests)" },
    { "--", "verify", NULL, NULL, opt_verify, "check every translated block for isolation" },
    { "--", "trace", NULL, NULL, opt_trace, "log each block, guest and host code, to stderr" },
    { "--", "help", "h", NULL, opt_help, "print this help and exit" },
    { "--", "version", NULL, NULL, opt_version, "print the version and exit" },
};

static const struct opt *find_opt(const char *arg)
{
    const char *name = arg + 1 + (arg[1] == '-');
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(name, opts[i].name) == 0 || (opts[i].alias && strcmp(name, opts[i].alias) == 0))
            return &opts[i];
    return NULL;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    *o = (struct options){
        .append = "", .ram_mb = RAM_DEFAULT_MB, .serial = "stdio",
        .debug_exit_base = DEBUG_EXIT_BASE, .debug_exit_size = DEBUG_EXIT_SIZE,
    };
    struct parse p = { .o = o, .err = err, .errlen = errlen };
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_end || a[0] != '-' || a[1] == 0) {
            if (set_kernel(&p, a) < 0)
                return -1;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_end = true;
            continue;
        }
        const struct opt *op = find_opt(a);
        if (!op)
            return fail(&p, "unknown option '%s' (try --help)", a);
        const char *val = NULL;
        if (op->arg) {
            if (i + 1 >= argc)
                return fail(&p, "option '%s' needs a value: %s", a, op->arg);
            val = argv[++i];
        }
        if (op->fn(&p, val) < 0)
            return -1;
        if (p.done)
            return 1;
    }
    if (!o->kernel)
        return fail(&p, "no kernel given (bt86 [options] KERNEL; try --help)");
    return 0;
}

void options_usage(FILE *f)
{
    fprintf(f,
            "Usage: bt86 [options] KERNEL\n"
            "Run a 32-bit x86 Multiboot kernel in a binary-translating virtual machine.\n"
            "Every option may be written with one dash or two; QEMU's spellings work.\n"
            "\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const struct opt *op = &opts[i];
        char left[96];
        if (!op->help)
            continue;
        if (op->alias)
            snprintf(left, sizeof left, "-%s, %s%s", op->alias, op->dashes, op->name);
        else
            snprintf(left, sizeof left, "%s%s%s%s", op->dashes, op->name, op->arg ? " " : "",
                     op->arg ? op->arg : "");
        if (strlen(left) > 22)
            fprintf(f, "  %s\n  %-22s  %s\n", left, "", op->help);
        else
            fprintf(f, "  %-22s  %s\n", left, op->help);
    }
    fprintf(f,
            "\n"
            "Exit status:\n"
            "  0         the guest halted with interrupts disabled, or pulsed the\n"
            "            reset line (8042 command 0xFE, port 0x92), as with -no-reboot\n"
            "  (v<<1)|1  the guest wrote v to isa-debug-exit\n"
            "  2         bad command line\n"
            "  3         bad kernel file\n"
            "  4         triple fault (e.g. any exception before the guest loaded an IDT)\n"
            "  5         internal monitor error, or a guest state bt86 does not support\n"
            "            yet (the message says which)\n"
            "Statuses 3 and 5 are also what isa-debug-exit gives for v = 1 and 2.\n");
}
