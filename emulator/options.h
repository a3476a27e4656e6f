/* options — bt86's command line, with QEMU's spellings for the same things
 * so that scripts written for qemu-system-i386 work with bt86 substituted. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct options {
    const char *kernel;       /* KERNEL or -kernel K */
    const char *append;       /* -append S (kernel command line), "" if none */
    const char *initrd;       /* -initrd F (accepted, loaded as a Multiboot module later) */
    uint32_t ram_mb;          /* -m MB (default 128; 2..3072) */
    bool stats;               /* --stats: counters on exit, to stderr */
    bool debug_exit;          /* -device isa-debug-exit[,iobase=..,iosize=..] given */
    uint16_t debug_exit_base, debug_exit_size;   /* default 0xf4, 4 */
    bool no_chain;            /* --no-chain: never patch exits (slow path for tests) */
    bool rstack;              /* --rstack: CALL/RET through the shadow return stack */
    bool no_superblocks;      /* --no-superblocks: end blocks at every Jcc */
    bool verify;              /* --verify: run the isolation verifier on every block */
    bool trace;               /* --trace: log each block, guest insns and host code, to stderr */
    const char *serial;       /* -serial stdio|null|file:PATH (default stdio) */
    bool no_reboot;           /* -no-reboot (accepted; a triple fault always ends the run) */
    unsigned shadow_spaces;   /* --shadow-spaces N (0: the default) */
    unsigned poll_storm;      /* --poll-storm N (0: off) */

    /* qemu-system-i386 compatibility (issue #14) */
    bool nodefaults;          /* -nodefaults: no COM1 output unless -serial names one */
    bool serial_given;        /* a -serial option was seen */
    uint32_t cpuid_edx;       /* -cpu: CPUID.1:EDX features to offer (OPT_CPU_ALL: all) */
    uint32_t cpuid_ext_edx;   /* -cpu: CPUID.80000001H:EDX features (NX) to offer */
    int rtc_base;             /* -rtc base=: OPT_RTC_UTC, OPT_RTC_LOCAL or OPT_RTC_DATE */
    int64_t rtc_date;         /* base=DATE: seconds since the epoch, UTC */
    const char *log_file;     /* -D FILE: where -d in_asm's trace goes (NULL: stderr) */
    bool pc_testdev;          /* -device pc-testdev */
    const char *gdb;          /* -gdb DEV (-s: tcp::1234), NULL for no GDB stub */
    bool gdb_wait;            /* -S: do not start the CPU until the debugger says so */
    const char *chardev[8];   /* -chardev values, resolved by -serial chardev:ID */
    int nchardev;
    const char *serial_chardev; /* -serial chardev:ID, resolved after parsing */
};

#define OPT_CPU_ALL 0xffffffffu
enum { OPT_RTC_UTC, OPT_RTC_LOCAL, OPT_RTC_DATE };

/* Parse argv. Returns 0 to run, 1 if --help/--version was printed (exit 0),
 * -1 on a bad option with a one-line message in err (exit 2), without the
 * "bt86: " prefix, which the caller prints: "unknown option '-x' (try --help)". */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_usage(FILE *f);
