/* options — the command line.
 *
 * One table drives both the parser and --help, so the help text lists
 * exactly the options that exist. Every option is accepted with one dash or
 * two (QEMU does the same), and an option's value is always the next
 * argument. Later occurrences of an option override earlier ones, as in
 * QEMU, except that a kernel may be named only once. */
#include "emulator/options.h"
#include "emulator/chardev.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef BT86_VERSION
#define BT86_VERSION "0.1"
#endif

/* The QEMU release whose qemu-system-i386 command line bt86 follows. */
#define QEMU_COMPAT_VERSION "7.2.0"
#define RAM_MIN_MB 2
#define RAM_MAX_MB 3072
#define RAM_DEFAULT_MB 128
#define DEBUG_EXIT_BASE 0xf4
#define DEBUG_EXIT_SIZE 4
#define SHADOW_SPACES_MAX 256     /* shadowmmu/mmu.h MMU_MAX_SPACES */
#define UNSYNC_MAX 64             /* shadowmmu/mmu.h MMU_MAX_UNSYNC */

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

/* A back-end spec (chardev.h) for -OPT; checked now, opened at start. */
static int chardev_check(struct parse *p, const char *opt, const char *v, const char **out)
{
    struct chardev_spec cs;
    char why[300];
    if (chardev_parse(v, &cs, why, sizeof why) < 0)
        return fail(p, "-%s %s", opt, why);
    *out = v;
    return 0;
}

/* "mon:stdio" is stdio shared with the monitor (Ctrl-A c). "none" (no port)
 * is taken as "null": the guest still sees a UART, which goes nowhere. */
static int opt_serial(struct parse *p, const char *v)
{
    p->o->serial_given = true;
    p->o->serial_chardev = NULL;
    p->o->serial_mux = strcmp(v, "mon:stdio") == 0;
    if (strncmp(v, "chardev:", 8) == 0 && v[8])
        p->o->serial_chardev = v + 8;
    else if (strcmp(v, "stdio") == 0 || strcmp(v, "mon:stdio") == 0)
        p->o->serial = "stdio";
    else if (strcmp(v, "null") == 0 || strcmp(v, "none") == 0)
        p->o->serial = "null";
    else
        return chardev_check(p, "serial", v, &p->o->serial);
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

/* ---- qemu-system-i386 compatibility (issue #14) ----------------------------
 * What test runners written for QEMU pass: accepted with QEMU's meaning
 * where bt86 has the thing, with a one-line notice where it is harmless
 * that bt86 does not, and a one-line error where ignoring it would change
 * what the guest sees. */

/* The value of property `key` in a "a=1,key=v,..." list, copied to buf;
 * false if absent. `first` skips the list's first item (a backend name). */
static bool prop_value(const char *list, const char *key, bool first, char *buf, size_t len)
{
    size_t kl = strlen(key);
    for (const char *s = list; s && *s;) {
        const char *next = strchr(s, ',');
        size_t n = next ? (size_t)(next - s) : strlen(s);
        if (!first && n > kl && s[kl] == '=' && strncmp(s, key, kl) == 0) {
            snprintf(buf, len, "%.*s", (int)(n - kl - 1), s + kl + 1);
            return true;
        }
        first = false;
        s = next ? next + 1 : NULL;
    }
    return false;
}

static int opt_nodefaults(struct parse *p, const char *v) { p->o->nodefaults = true; return 0; }
static int opt_ignored(struct parse *p, const char *v) { return 0; }

/* -global DRIVER.PROP=VALUE: bt86's devices have no such tunables, so the
 * setting is accepted with a notice (QEMU test runners pass kvm-pit ones). */
static int opt_global(struct parse *p, const char *v)
{
    const char *dot = strchr(v, '.'), *eq = strchr(v, '=');
    if (!dot || !eq || dot > eq || dot == v || eq == dot + 1)
        return fail(p, "-global '%s': expected DRIVER.PROPERTY=VALUE", v);
    fprintf(stderr, "bt86: -global %s: bt86 has no property '%.*s', ignored\n", v,
            (int)(eq - v), v);
    return 0;
}

static int opt_vnc(struct parse *p, const char *v)
{
    if (strcmp(v, "none") != 0)
        return fail(p, "-vnc '%s': bt86 has no display; use -vnc none", v);
    return 0;
}

/* CPUID features bt86 emulates: CPUID.1:EDX bits, and 32 + the bit for
 * CPUID.80000001H:EDX (SDM vol. 2A, CPUID, tables 3-11 and 3-8); then
 * QEMU's names for the ones it does not: "-x" of those is already true,
 * "+x" is an error. */
static const struct { const char *name; int bit; } cpu_features[] = {
    { "fpu", 0 }, { "pse", 3 }, { "tsc", 4 }, { "msr", 5 }, { "pae", 6 }, { "cx8", 8 },
    { "apic", 9 }, { "sep", 11 }, { "pge", 13 }, { "cmov", 15 }, { "pat", 16 }, { "mmx", 23 }, { "fxsr", 24 },
    { "sse", 25 }, { "sse2", 26 }, { "nx", 32 + 20 },
};
static const char *const cpu_absent[] = {
    "vme", "de", "mce", "mtrr", "mca", "pse36", "clflush", "ds", "acpi",
    "ss", "ht", "tm", "pbe", "pni", "sse3", "ssse3", "sse4.1", "sse4_1", "sse4.2", "sse4_2",
    "popcnt", "cx16", "x2apic", "monitor", "movbe", "aes", "xsave", "avx", "avx2", "f16c",
    "rdrand", "hypervisor", "lm", "syscall", "pdpe1gb", "rdtscp", "fma", "bmi1",
    "bmi2", "vmx", "svm", "smep", "smap", "kvmclock", "kvm-pv-eoi", "tsc-deadline",
};
#define FEAT(n) (1u << (n))
#define CPU_P5 (FEAT(0) | FEAT(3) | FEAT(4) | FEAT(5) | FEAT(8))
/* APIC (bit 9) is offered when the machine has one (-M pc, not isapc). */
#define CPU_P6 (CPU_P5 | FEAT(6) | FEAT(9) | FEAT(11) | FEAT(13) | FEAT(15) | FEAT(16) | FEAT(23) | \
                FEAT(24))
#define CPU_EMULATED (CPU_P6 | FEAT(25) | FEAT(26))
#define NX FEAT(20)
/* QEMU's models, cut down to what bt86 emulates (edx: leaf 1, ext: 80000001H). */
static const struct { const char *name; uint32_t edx, ext; } cpu_models[] = {
    { "486", FEAT(0) | FEAT(3), 0 }, { "pentium", CPU_P5, 0 }, { "pentium2", CPU_P6, 0 },
    { "pentium3", CPU_P6 | FEAT(25), 0 }, { "qemu32", OPT_CPU_ALL, 0 }, { "kvm32", OPT_CPU_ALL, 0 },
    { "coreduo", OPT_CPU_ALL, NX }, { "core2duo", OPT_CPU_ALL, NX }, { "host", OPT_CPU_ALL, NX },
    { "max", OPT_CPU_ALL, NX }, { "base", 0, 0 },
};

/* One "+feat", "-feat" or "feat=on|off" item of -cpu. */
static int cpu_feature(struct parse *p, const char *item, size_t n, uint32_t *edx, uint32_t *ext)
{
    char name[32];
    bool on;
    const char *eq = memchr(item, '=', n);
    size_t nl = eq ? (size_t)(eq - item) : n - 1;
    const char *start = eq ? item : item + 1;

    if (eq && (strncmp(eq + 1, "on", n - nl - 1) == 0 && n - nl - 1 == 2))
        on = true;
    else if (eq && (strncmp(eq + 1, "off", n - nl - 1) == 0 && n - nl - 1 == 3))
        on = false;
    else if (!eq && (item[0] == '+' || item[0] == '-'))
        on = item[0] == '+';
    else
        return fail(p, "-cpu: bad feature '%.*s' (expected +name, -name or name=on|off)", (int)n,
                    item);
    if (nl == 0 || nl >= sizeof name)
        return fail(p, "-cpu: bad feature '%.*s'", (int)n, item);
    memcpy(name, start, nl);
    name[nl] = 0;
    for (size_t i = 0; i < sizeof cpu_features / sizeof cpu_features[0]; i++)
        if (strcmp(name, cpu_features[i].name) == 0) {
            int bit = cpu_features[i].bit;
            uint32_t *word = bit >= 32 ? ext : edx;
            *word = on ? *word | FEAT(bit & 31) : *word & ~FEAT(bit & 31);
            return 0;
        }
    for (size_t i = 0; i < sizeof cpu_absent / sizeof cpu_absent[0]; i++)
        if (strcmp(name, cpu_absent[i]) == 0)
            return on ? fail(p, "-cpu: bt86 does not emulate feature '%s'", name) : 0;
    return fail(p, "-cpu: unknown CPU feature '%s'", name);
}

/* -cpu MODEL[,+feat|-feat|feat=on|off...] */
static int opt_cpu(struct parse *p, const char *v)
{
    size_t n = strcspn(v, ",");
    uint32_t edx = 0, ext = 0;
    bool found = false;

    if ((n == 4 && strncmp(v, "help", 4) == 0) || (n == 1 && v[0] == '?')) {
        printf("Available CPUs:\n");
        for (size_t i = 0; i < sizeof cpu_models / sizeof cpu_models[0]; i++)
            printf("x86 %s\n", cpu_models[i].name);
        printf("\nRecognized CPUID flags:\n ");
        for (size_t i = 0; i < sizeof cpu_features / sizeof cpu_features[0]; i++)
            printf(" %s", cpu_features[i].name);
        printf("\n");
        p->done = true;
        return 0;
    }
    for (size_t i = 0; i < sizeof cpu_models / sizeof cpu_models[0]; i++)
        if (strlen(cpu_models[i].name) == n && strncmp(v, cpu_models[i].name, n) == 0) {
            edx = cpu_models[i].edx;
            ext = cpu_models[i].ext;
            found = true;
        }
    if (!found)
        return fail(p, "-cpu '%.*s': unknown CPU model (try -cpu help)", (int)n, v);
    edx &= CPU_EMULATED;
    for (const char *s = v + n; *s == ',';) {
        const char *item = s + 1;
        size_t len = strcspn(item, ",");
        if (cpu_feature(p, item, len, &edx, &ext) < 0)
            return -1;
        s = item + len;
    }
    p->o->cpuid_edx = edx;
    p->o->cpuid_ext_edx = ext & NX;
    return 0;
}

/* Seconds since the epoch of "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS", UTC. */
static bool parse_date(const char *s, size_t n, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
    char buf[32];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
        (size_t)used != n) {
        h = mi = se = used = 0;
        if (sscanf(buf, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || (size_t)used != n)
            return false;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
        return false;
    /* Days from the civil date (proleptic Gregorian calendar). */
    int64_t yy = mo <= 2 ? y - 1 : y, era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    *out = days * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

/* -rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew] */
static int opt_rtc(struct parse *p, const char *v)
{
    for (const char *s = v; *s;) {
        size_t n = strcspn(s, ",");
        if (n > 5 && strncmp(s, "base=", 5) == 0) {
            if (n == 8 && strncmp(s + 5, "utc", 3) == 0)
                p->o->rtc_base = OPT_RTC_UTC;
            else if (n == 14 && strncmp(s + 5, "localtime", 9) == 0)
                p->o->rtc_base = OPT_RTC_LOCAL;
            else if (parse_date(s + 5, n - 5, &p->o->rtc_date))
                p->o->rtc_base = OPT_RTC_DATE;
            else
                return fail(p, "-rtc: bad base '%.*s' (utc, localtime or 2006-06-17T16:01:21)",
                            (int)(n - 5), s + 5);
        } else if (!(n == 10 && strncmp(s, "clock=host", 10) == 0) &&
                   !(n == 8 && strncmp(s, "clock=rt", 8) == 0) &&
                   !(n == 8 && strncmp(s, "clock=vm", 8) == 0) &&
                   !(n == 13 && strncmp(s, "driftfix=none", 13) == 0) &&
                   !(n == 13 && strncmp(s, "driftfix=slew", 13) == 0)) {
            return fail(p, "-rtc: unknown setting '%.*s' (base=, clock=, driftfix=)", (int)n, s);
        }
        s += n + (s[n] == ',');
    }
    return 0;
}

/* -chardev BACKEND,id=ID[,path=PATH]...: kept until -serial chardev:ID
 * asks for it (QEMU lets either come first). */
static int opt_chardev(struct parse *p, const char *v)
{
    char id[64];
    if (!prop_value(v, "id", true, id, sizeof id) || !id[0])
        return fail(p, "-chardev '%s': needs id=NAME", v);
    if (p->o->nchardev == (int)(sizeof p->o->chardev / sizeof p->o->chardev[0]))
        return fail(p, "-chardev '%s': too many character devices", v);
    p->o->chardev[p->o->nchardev++] = v;
    return 0;
}

static int monitor_spec(struct parse *p, const char *opt, const char *v, bool stdio_ok,
                        const char **out, const char **chardev_id);

/* -serial/-monitor/-qmp chardev:ID: the back-end becomes what the
 * option would have said itself ("tcp::4444,server,nowait"). */
static int resolve_chardev(struct parse *p, const char *opt, const char *id, const char **out)
{
    char buf[64], why[300];
    for (int i = p->o->nchardev - 1; i >= 0; i--) {
        const char *cd = p->o->chardev[i];
        if (!prop_value(cd, "id", true, buf, sizeof buf) || strcmp(buf, id) != 0)
            continue;
        /* Lives as long as the process, like argv. */
        size_t len = strlen(cd) + 32;
        char *spec = malloc(len);
        if (!spec)
            return fail(p, "out of memory");
        if (chardev_opts_to_spec(cd, spec, len, why, sizeof why) < 0) {
            free(spec);
            return fail(p, "-chardev %s", why);
        }
        if (strcmp(opt, "serial") == 0)
            return chardev_check(p, opt, spec, out);
        const char *again;
        return monitor_spec(p, opt, spec, strcmp(opt, "monitor") == 0, out, &again);
    }
    return fail(p, "-%s chardev:%s: no -chardev with id=%s", opt, id, id);
}

/* -d ITEM[,ITEM...]: QEMU's log items. in_asm/out_asm are bt86's --trace
 * (every block, guest and host code); the others are accepted and log
 * nothing. */
static int opt_log_items(struct parse *p, const char *v)
{
    static const char *const items[] = {
        "out_asm", "in_asm", "op", "op_opt", "op_ind", "int", "exec", "cpu", "fpu", "mmu",
        "pcall", "cpu_reset", "unimp", "guest_errors", "page", "nochain", "plugin", "strace",
        "tid", "trace:", "dfilter",
    };
    if (strcmp(v, "help") == 0) {
        printf("Log items (comma separated):\n"
               "in_asm    bt86's --trace: each translated block, guest and host code\n"
               "out_asm   the same\n"
               "(QEMU's other items are accepted and log nothing)\n");
        p->done = true;
        return 0;
    }
    for (const char *s = v; *s;) {
        size_t n = strcspn(s, ",");
        bool known = false;
        for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
            size_t il = strlen(items[i]);
            known |= items[i][il - 1] == ':' ? n >= il && strncmp(s, items[i], il) == 0
                                             : n == il && strncmp(s, items[i], n) == 0;
        }
        if (!known)
            return fail(p, "-d: unknown log item '%.*s' (try -d help)", (int)n, s);
        if ((n == 6 && strncmp(s, "in_asm", 6) == 0) || (n == 7 && strncmp(s, "out_asm", 7) == 0))
            p->o->trace = true;
        s += n + (s[n] == ',');
    }
    return 0;
}

static int opt_log_file(struct parse *p, const char *v) { p->o->log_file = v; return 0; }

/* -gdb tcp::PORT | tcp:HOST:PORT | unix:PATH; -s is -gdb tcp::1234. */
static int opt_gdb(struct parse *p, const char *v)
{
    if (strncmp(v, "tcp:", 4) == 0 && strchr(v + 4, ':')) {
        const char *port = strrchr(v, ':') + 1;
        char *end;
        unsigned long n = strtoul(port, &end, 10);
        if (end == port || *end || n == 0 || n > 65535)
            return fail(p, "-gdb '%s': bad TCP port", v);
    } else if (strncmp(v, "unix:", 5) != 0 || !v[5]) {
        return fail(p, "-gdb '%s': supported are tcp::PORT, tcp:HOST:PORT and unix:PATH", v);
    }
    p->o->gdb = v;
    return 0;
}
/* -monitor / -qmp: none, stdio (HMP only), chardev:ID (resolved after
 * parsing), or a socket or pty back-end (chardev.h). */
static int monitor_spec(struct parse *p, const char *opt, const char *v, bool stdio_ok,
                        const char **out, const char **chardev_id)
{
    *chardev_id = NULL;
    if (strcmp(v, "none") == 0) {
        *out = NULL;
        return 0;
    }
    if (strncmp(v, "chardev:", 8) == 0 && v[8]) {
        *chardev_id = v + 8;
        return 0;
    }
    if (stdio_ok && strcmp(v, "stdio") == 0) {
        *out = v;
        return 0;
    }
    if (!strncmp(v, "unix:", 4) || !strncmp(v, "tcp:", 4) || !strcmp(v, "pty"))
        return chardev_check(p, opt, v, out);
    return fail(p, "-%s '%s': supported are %stcp:[HOST]:PORT,server[,nowait], "
                "unix:PATH,server[,nowait], pty, chardev:ID and none", opt, v,
                stdio_ok ? "stdio, " : "");
}
static int opt_monitor(struct parse *p, const char *v)
{
    return monitor_spec(p, "monitor", v, true, &p->o->monitor, &p->o->monitor_chardev);
}
static int opt_qmp(struct parse *p, const char *v)
{
    return monitor_spec(p, "qmp", v, false, &p->o->qmp, &p->o->qmp_chardev);
}
static int opt_incoming(struct parse *p, const char *v)
{
    if (strncmp(v, "tcp:", 4) && strncmp(v, "unix:", 5) && strncmp(v, "exec:", 5))
        return fail(p, "-incoming '%s': supported are tcp:[HOST]:PORT, unix:PATH and exec:CMD", v);
    p->o->incoming = v;
    return 0;
}
static int opt_gdb_default(struct parse *p, const char *v) { p->o->gdb = "tcp::1234"; return 0; }
static int opt_gdb_wait(struct parse *p, const char *v) { p->o->gdb_wait = true; return 0; }

/* The devices -device knows, for -device help (QEMU's format, so that a
 * runner's `-device '?' | grep '"pc-testdev"'` finds them). */
static const struct { const char *name, *bus, *desc; } devices[] = {
    { "isa-debug-exit", "ISA", NULL },
    { "pc-testdev", "ISA", NULL },
    { "piix3-ide", "PCI", "(built in: -drive, -hda..-hdd)" },
    { "isa-serial", "ISA", "(built in: COM1, -serial)" },
    { "VGA", "PCI", "(built in: text mode, --screen)" },
    { "pci-testdev", "PCI", "PCI Test Device" },
};

/* -device help, pc-testdev, pci-testdev; 0 if handled, 1 if not one of them. */
static int device_compat(struct parse *p, const char *v)
{
    if (strcmp(v, "help") == 0 || strcmp(v, "?") == 0) {
        printf("Misc devices:\n");
        for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
            printf("name \"%s\", bus %s", devices[i].name, devices[i].bus);
            if (devices[i].desc)
                printf(", desc \"%s\"", devices[i].desc);
            printf("\n");
        }
        p->done = true;
        return 0;
    }
    if (strcmp(v, "pc-testdev") == 0) {
        p->o->pc_testdev = true;
        return 0;
    }
    if (strcmp(v, "pci-testdev") == 0) {
        p->o->pci_testdev = true;
        return 0;
    }
    if (strncmp(v, "pci-testdev,", 12) == 0)
        return fail(p, "-device '%s': pci-testdev takes no properties here", v);
    return 1;
}

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
    int r0 = device_compat(p, v);
    if (r0 <= 0)
        return r0;
    if (strncmp(v, name, nl) != 0 || (v[nl] && v[nl] != ','))
        return fail(p, "-device '%s': unsupported device (try -device help)", v);
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
    const char *prop = type + n;
    if (type == v && memchr(v, '=', n))
        prop = v;               /* "-machine accel=tcg": properties only, pc stays */
    else if ((n == 2 && strncmp(type, "pc", 2) == 0) || (n > 9 && strncmp(type, "pc-i440fx", 9) == 0))
        p->o->isapc = false;
    else if (n == 5 && strncmp(type, "isapc", 5) == 0)
        p->o->isapc = true;
    else
        return fail(p, "-machine '%.*s': supported are pc and isapc", (int)n, type);
    for (prop += *prop == ','; *prop; prop += *prop == ',') {
        size_t len = strcspn(prop, ",");
        if (len > 6 && strncmp(prop, "accel=", 6) == 0) {
            char accel[16];
            snprintf(accel, sizeof accel, "%.*s", (int)(len - 6), prop + 6);
            if (opt_accel(p, accel) < 0)
                return -1;
        } else {
            return fail(p, "-machine: unsupported property '%.*s' (accel=tcg)", (int)len, prop);
        }
        prop += len;
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

/* --soft-pages N|off|all: after how many changes of its PTE a linear page
 * stays out of the host mappings (shadowmmu/mmu_soft.c); `all`: every
 * page, which runs every guest access through the monitor (testing). */
static int opt_soft_pages(struct parse *p, const char *v)
{
    char *end;
    unsigned long n;

    if (!strcmp(v, "off") || !strcmp(v, "all")) {
        p->o->soft_pages = v[0] == 'o' ? -1 : -2;
        return 0;
    }
    errno = 0;
    n = strtoul(v, &end, 10);
    if (end == v || *end || *v == '-' || errno == ERANGE || n < 1 || n > 255)
        return fail(p, "--soft-pages '%s': expected 1 to 255, off or all", v);
    p->o->soft_pages = (int)n;
    return 0;
}

/* --unsync-tables N|off: how many traced page tables may stay writable,
 * diffed at TLB flushes instead (shadowmmu/mmu_unsync.c). */
static int opt_unsync_tables(struct parse *p, const char *v)
{
    char *end;
    unsigned long n;

    if (!strcmp(v, "off")) {
        p->o->unsync_tables = -1;
        return 0;
    }
    errno = 0;
    n = strtoul(v, &end, 10);
    if (end == v || *end || *v == '-' || errno == ERANGE || n < 1 || n > UNSYNC_MAX)
        return fail(p, "--unsync-tables '%s': expected 1 to %d or off", v, UNSYNC_MAX);
    p->o->unsync_tables = (int)n;
    return 0;
}

static int opt_shared_fills(struct parse *p, const char *v) { (void)v; p->o->shared_fills = true; return 0; }
static int opt_no_retarget(struct parse *p, const char *v) { (void)v; p->o->no_retarget = true; return 0; }
static int opt_sticky_memops(struct parse *p, const char *v) { (void)v; p->o->sticky_memops = true; return 0; }

/* --cpu-limit SECONDS: the run's CPU-time budget (vm_run's timeout), so
 * tests bound a guest by the work it does, not by wall time on a loaded
 * host. Fractions allowed: 0.5 is 500 ms. */
static int opt_cpu_limit(struct parse *p, const char *v)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end == v || *end || errno == ERANGE || !(s >= 0.001 && s <= 4000000.0))
        return fail(p, "--cpu-limit '%s': expected seconds of CPU time, 0.001 to 4000000", v);
    p->o->cpu_limit_ms = (uint32_t)(s * 1000.0 + 0.5);
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
static int opt_loadvm(struct parse *p, const char *v) { p->o->loadvm = v; return 0; }

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
static int opt_profile(struct parse *p, const char *v) { p->o->profile = v; return 0; }
static int opt_no_chain(struct parse *p, const char *v) { p->o->no_chain = true; return 0; }
static int opt_rstack(struct parse *p, const char *v) { p->o->rstack = true; return 0; }
static int opt_no_superblocks(struct parse *p, const char *v) { p->o->no_superblocks = true; return 0; }
static int opt_no_inline_calls(struct parse *p, const char *v) { p->o->no_inline_calls = true; return 0; }
static int opt_no_lazy_esp(struct parse *p, const char *v) { p->o->no_lazy_esp = true; return 0; }
static int opt_no_derive_memo(struct parse *p, const char *v) { p->o->no_derive_memo = true; return 0; }
static int opt_no_sysfast(struct parse *p, const char *v) { (void)v; p->o->no_sysfast = true; return 0; }
static int opt_two_views(struct parse *p, const char *v) { (void)v; p->o->two_views = true; return 0; }
static int opt_no_access_tlb(struct parse *p, const char *v) { (void)v; p->o->no_access_tlb = true; return 0; }
static int opt_verify(struct parse *p, const char *v) { p->o->verify = true; return 0; }
static int opt_ic_ways(struct parse *p, const char *v)
{
    if (v[0] < '1' || v[0] > '4' || v[1])
        return fail(p, "--ic-ways '%s': expected 1 to 4", v);
    p->o->ic_ways = (uint8_t)(v[0] - '0');
    return 0;
}
static int opt_trace(struct parse *p, const char *v) { p->o->trace = true; return 0; }

static int opt_help(struct parse *p, const char *v)
{
    options_usage(stdout);
    p->done = true;
    return 0;
}

static int opt_version(struct parse *p, const char *v)
{
    /* QEMU's first line, for scripts that sniff the version, then bt86's. */
    printf("QEMU emulator version %s (bt86 %s)\n", QEMU_COMPAT_VERSION, BT86_VERSION);
    printf("bt86 %s: a binary-translating VM monitor that takes qemu-system-i386's options\n",
           BT86_VERSION);
    p->done = true;
    return 0;
}

/* A help text's line break, indented to the help column. */
#define HELP_NL "\n                          "

struct opt {
    const char *dashes;    /* how --help spells it: "-" (QEMU's) or "--" (bt86's) */
    const char *name;      /* without dashes */
    const char *alias;     /* another spelling, or NULL */
    const char *arg;       /* the value's name in --help, or NULL for a flag */
    int (*fn)(struct parse *p, const char *v);
    const char *help;
};

static const struct opt opts[] = {
    { "-", "kernel", NULL, "FILE", set_kernel, "the Multiboot or Linux bzImage kernel to run (same as KERNEL)" },
    { "-", "append", NULL, "STRING", opt_append, "the kernel command line" },
    { "-", "initrd", NULL, "FILE", opt_initrd, "Linux: the initial ramdisk; Multiboot: modules \"F ARGS,F2\"" },
    { "-", "m", NULL, "SIZE", opt_memory, "guest RAM, 2M to 3G: MiB or K/M/G (default 128)" },
    { "-", "serial", NULL, "DEV", opt_serial, "COM1 to stdio (default), null, none, file:PATH,"
      HELP_NL "pty, tcp:[HOST]:PORT[,server][,nowait]," HELP_NL "unix:PATH[,server][,nowait], chardev:ID or"
      HELP_NL "mon:stdio (stdio shared with the monitor: Ctrl-A c" HELP_NL "switches, Ctrl-A x quits)" },
    { "-", "display", NULL, "none", opt_display, "accepted; bt86 has no display" },
    { "-", "nographic", NULL, NULL, opt_nographic, "accepted (COM1 is on stdio by default)" },
    { "-", "no-reboot", NULL, NULL, opt_no_reboot,
      "accepted; a triple fault always ends the run" },
    { "-", "device", NULL, "isa-debug-exit[,iobase=0xf4][,iosize=0x04]", opt_device,
      "writing v to iobase ends the run with status (v<<1)|1;"
      HELP_NL "also pc-testdev and pci-testdev (QEMU's test"
      HELP_NL "devices), help (lists them)" },
    { "-", "drive", NULL, "file=F[,index=0-3][,format=raw][,media=disk][,readonly=on]",
      opt_drive, "an IDE disk: a raw image (index 0,1 primary, 2,3 secondary)" },
    { "-", "hda", NULL, "FILE", opt_hda, "IDE primary master (-hdb slave, -hdc/-hdd secondary)" },
    { "-", "hdb", NULL, "FILE", opt_hdb, NULL },
    { "-", "hdc", NULL, "FILE", opt_hdc, NULL },
    { "-", "hdd", NULL, "FILE", opt_hdd, NULL },
    { "-", "snapshot", NULL, NULL, opt_snapshot, "disk writes stay in memory; image files untouched" },
    { "-", "loadvm", NULL, "FILE", opt_loadvm, "start from a snapshot file that the monitor's savevm"
      HELP_NL "wrote (same -m, -M, -device and drives; KERNEL may" HELP_NL "be left out)" },
    { "--", "screen", NULL, "FILE", opt_screen,
      "on exit, write the 80x25 VGA text screen to FILE" },
    { "-", "accel", NULL, "tcg", opt_accel, "accepted and ignored: bt86 is the accelerator" },
    { "-", "machine", "M", "pc|isapc[,accel=tcg]", opt_machine,
      "pc (default: APICs, ACPI, HPET) or isapc (8259 only)" },
    { "-", "smp", NULL, "1", opt_smp, "CPUs: only 1 (SMP is not supported yet)" },
    { "-", "nodefaults", NULL, NULL, opt_nodefaults,
      "no default devices: COM1 output goes nowhere" HELP_NL "unless -serial is given" },
    { "-", "no-user-config", NULL, NULL, opt_ignored, "accepted; bt86 reads no config files" },
    { "-", "global", NULL, "DRIVER.PROP=VALUE", opt_global,
      "accepted and ignored with a notice" HELP_NL "(bt86 has no such properties)" },
    { "-", "cpu", NULL, "MODEL[,+feat|-feat...]", opt_cpu,
      "the CPUID features offered: a model (qemu32, pentium3,"
      HELP_NL "host, max, ...; -cpu help) and +/- fpu pse tsc msr pae"
      HELP_NL "cx8 apic sep pge cmov pat mmx fxsr sse sse2 nx" },
    { "-", "vnc", NULL, "none", opt_vnc, "accepted; bt86 has no display" },
    { "-", "name", NULL, "NAME", opt_ignored, "accepted and ignored" },
    { "-", "rtc", NULL, "base=utc|localtime|DATE[,clock=host|vm]", opt_rtc,
      "the CMOS clock's start time (default utc)" },
    { "-", "chardev", NULL, "BACKEND,id=ID[,...]", opt_chardev,
      "a character device for -serial, -monitor or -qmp" HELP_NL "chardev:ID: stdio, null, file,path=P, pty,"
      HELP_NL "socket,host=H,port=P|path=P[,server=on][,wait=off]" },
    { "-", "d", NULL, "ITEMS", opt_log_items,
      "QEMU log items: in_asm, out_asm = --trace;" HELP_NL "others accepted (-d help)" },
    { "-", "D", NULL, "FILE", opt_log_file, "write the -d log (the trace) to FILE" },
    { "-", "gdb", NULL, "tcp::PORT|unix:PATH", opt_gdb, "a GDB stub listening there; the guest runs"
      HELP_NL "until GDB attaches (or -S)" },
    { "-", "s", NULL, NULL, opt_gdb_default, "same as -gdb tcp::1234" },
    { "-", "S", NULL, NULL, opt_gdb_wait, "start stopped, until GDB or the monitor continues" },
    { "-", "monitor", NULL, "DEV", opt_monitor,
      "QEMU's human monitor (HMP) there (try 'help'): stdio," HELP_NL "tcp:[HOST]:PORT,server[,nowait],"
      HELP_NL "unix:PATH,server[,nowait], pty or chardev:ID" },
    { "-", "qmp", NULL, "DEV", opt_qmp, "QEMU's machine protocol (QMP, JSON) there: as" HELP_NL "-monitor, without stdio" },
    { "-", "incoming", NULL, "tcp:[HOST]:PORT|unix:PATH|exec:CMD", opt_incoming,
      "wait for a live migration there, then run it" },
    { "--", "stats", NULL, NULL, opt_stats, "print translation and paging counters on exit" },
    { "--", "profile", NULL, "FILE", opt_profile, "sample the host: where the time goes (phases,"
      HELP_NL "callouts, signals, hottest guest functions and blocks)"
      HELP_NL "to FILE, folded stacks for flame graphs to FILE.folded" },
    { "--", "shadow-spaces", NULL, "N", opt_shadow_spaces,
      "shadow address spaces kept mapped, 1-256 (default 8)" },
    { "--", "soft-pages", NULL, "N|off|all", opt_soft_pages,
      "PTE changes after which a page is accessed through the"
      HELP_NL "monitor instead of the host MMU (default 4)" },
    { "--", "shared-fills", NULL, NULL, opt_shared_fills,
      "fill a new address space from those sharing its page"
      HELP_NL "directory entries (off: it multiplies write-protections)" },
    { "--", "unsync-tables", NULL, "N|off", opt_unsync_tables,
      "page tables left writable when traced, diffed at CR3" HELP_NL "loads and INVLPG instead (default 8)" },
    { "--", "no-retarget", NULL, NULL, opt_no_retarget,
      "empty the address spaces of a page directory that stops"
      HELP_NL "being traced, instead of keeping them to retarget" },
    { "--", "sticky-memops", NULL, NULL, opt_sticky_memops,
      "instructions turned into memory callouts stay so (no" HELP_NL "expiry after clean executions)" },
    { "--", "cpu-limit", NULL, "SECONDS", opt_cpu_limit,
      "end the run (status 124) after this much CPU time" },
    { "--", "no-chain", NULL, NULL, opt_no_chain,
      "never chain translated blocks (slow path, for tests)" },
    { "--", "rstack", NULL, NULL, opt_rstack,
      "pair guest CALL/RET through a shadow return stack (experimental)" },
    { "--", "no-superblocks", NULL, NULL, opt_no_superblocks,
      "end translations at every conditional branch (slow path, for tests)" },
    { "--", "no-inline-calls", NULL, NULL, opt_no_inline_calls,
      "end translations at every CALL and RET instead of continuing"
      HELP_NL "into callees on the same page (and never defer ESP's moves)" },
    { "--", "no-lazy-esp", NULL, NULL, opt_no_lazy_esp,
      "inline calls, but move ESP at every push, pop, CALL and RET" },
    { "--", "no-derive-memo", NULL, NULL, opt_no_derive_memo,
      "work out the mode and address space after every privilege"
      HELP_NL "change instead of remembering them (slow path, for tests)" },
    { "--", "no-sysfast", NULL, NULL, opt_no_sysfast,
      "SYSENTER/SYSEXIT always derive their state instead of reusing"
      HELP_NL "what the last pair made, and switch MXCSR like every other"
      HELP_NL "callout (slow path, for tests)" },
    { "--", "two-views", NULL, NULL, opt_two_views,
      "always switch between the user and supervisor views of an"
      HELP_NL "address space on ring changes (slow path, for tests)" },
    { "--", "no-access-tlb", NULL, NULL, opt_no_access_tlb,
      "translate every monitor access to guest memory instead of"
      HELP_NL "using the access TLB (slow path, for tests)" },
    { "--", "ic-ways", NULL, "N", opt_ic_ways,
      "targets remembered inline per indirect branch site, 1-4 (default 4)" },
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
        .cpuid_edx = OPT_CPU_ALL, .cpuid_ext_edx = OPT_CPU_ALL,
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
    if (!o->kernel && !o->loadvm && !o->incoming)
        return fail(&p, "no kernel given (bt86 [options] KERNEL; try --help)");
    if ((o->serial_chardev && resolve_chardev(&p, "serial", o->serial_chardev, &o->serial) < 0) ||
        (o->monitor_chardev && resolve_chardev(&p, "monitor", o->monitor_chardev, &o->monitor) < 0) ||
        (o->qmp_chardev && resolve_chardev(&p, "qmp", o->qmp_chardev, &o->qmp) < 0))
        return -1;
    if (o->nodefaults && !o->serial_given)
        o->serial = "null";
    return 0;
}

void options_usage(FILE *f)
{
    fprintf(f,
            "Usage: bt86 [options] KERNEL\n"
            "Run a 32-bit x86 Multiboot or Linux kernel in a binary-translating virtual machine.\n"
            "Every option may be written with one dash or two; QEMU's spellings work.\n"
            "\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const struct opt *op = &opts[i];
        char left[96];
        if (!op->help)
            continue;
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
            "            reset line (8042 command 0xFE, port 0x92), as with -no-reboot,\n"
            "            or powered off (ACPI S5), or the debugger killed it\n"
            "  (v<<1)|1  the guest wrote v to isa-debug-exit\n"
            "  2         bad command line\n"
            "  3         bad kernel file, or a -loadvm snapshot or -incoming migration\n"
            "            stream that cannot be loaded\n"
            "  4         triple fault (e.g. any exception before the guest loaded an IDT)\n"
            "  5         internal monitor error, or a guest state bt86 does not support\n"
            "            yet (the message says which)\n"
            "  124       the --cpu-limit budget ran out\n"
            "Statuses 3 and 5 are also what isa-debug-exit gives for v = 1 and 2.\n");
}
