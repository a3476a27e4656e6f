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

/* -smp [cpus=]N[,...]: one CPU is all bt86 has. */
static int opt_smp(struct parse *p, const char *v)
{
    const char *s = strncmp(v, "cpus=", 5) == 0 ? v + 5 : v;
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 10);
    if (end == s || *s == '-' || *s == '+' || errno == ERANGE || (*end && *end != ','))
        return fail(p, "-smp '%s': expected a CPU count such as 1", v);
    if (n != 1)
        return fail(p, "-smp '%s': SMP is not supported yet", v);
    return 0;
}

/* -machine/-M TYPE[,accel=tcg]: QEMU's `pc` (i440FX, the default) or
 * `isapc` (no local APIC, I/O APIC, ACPI, HPET or PCI). */
static int opt_machine(struct parse *p, const char *v)
{
    size_t n = strcspn(v, ",");
    const char *type = v;
    if (n > 5 && strncmp(v, "type=", 5) == 0) {
        type += 5;
        n -= 5;
    }
    if ((n == 2 && strncmp(type, "pc", 2) == 0) || (n > 9 && strncmp(type, "pc-i440fx", 9) == 0))
        p->o->isapc = false;
    else if (n == 5 && strncmp(type, "isapc", 5) == 0)
        p->o->isapc = true;
    else
        return fail(p, "-machine '%.*s': supported are pc and isapc", (int)n, type);
    for (const char *s = type + n; *s == ',';) {
        const char *prop = s + 1;
        size_t len = strcspn(prop, ",");
        if (len > 6 && strncmp(prop, "accel=", 6) == 0) {
            char accel[16];
            snprintf(accel, sizeof accel, "%.*s", (int)(len - 6), prop + 6);
            if (opt_accel(p, accel) < 0)
                return -1;
        } else {
            return fail(p, "-machine: unsupported property '%.*s' (accel=tcg)", (int)len, prop);
        }
        s = prop + len;
    }
    return 0;
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
    { "-", "accel", NULL, "tcg", opt_accel, "accepted and ignored: bt86 is the accelerator" },
    { "-", "machine", "M", "pc|isapc[,accel=tcg]", opt_machine,
      "pc (default: APICs, ACPI, HPET) or isapc (8259 only)" },
    { "-", "smp", NULL, "1", opt_smp, "CPUs: only 1 (SMP is not supported yet)" },
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
        if (op->alias)
            snprintf(left, sizeof left, "-%s, %s%s%s%s", op->alias, op->dashes, op->name,
                     op->arg ? " " : "", op->arg ? op->arg : "");
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
