/* options — bt86's command line, with QEMU's spellings for the same things
 * so that scripts written for qemu-system-i386 work with bt86 substituted. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OPT_DRIVES 4

/* One IDE disk from -drive or -hda..-hdd (options_drive.c). */
struct drive_opt {
    char file[1024];          /* "" = no drive at this index */
    const char *spec;         /* the option's text, for messages */
    bool readonly;            /* readonly=on */
    bool snapshot;            /* snapshot=on (or -snapshot for all) */
    bool format_raw;          /* format=raw was given (else the image is checked) */
    char hd;                  /* 'a'..'d' if it came from -hda..-hdd */
};

struct options {
    const char *kernel;       /* KERNEL or -kernel K */
    const char *append;       /* -append S (kernel command line), "" if none */
    const char *initrd;       /* -initrd F: Linux initrd, or Multiboot modules */
    uint32_t ram_mb;          /* -m MB (default 128; 2..3072) */
    bool stats;               /* --stats: counters on exit, to stderr */
    bool debug_exit;          /* -device isa-debug-exit[,iobase=..,iosize=..] given */
    uint16_t debug_exit_base, debug_exit_size;   /* default 0xf4, 4 */
    bool no_chain;            /* --no-chain: never patch exits (slow path for tests) */
    bool rstack;              /* --rstack: CALL/RET through the shadow return stack */
    bool no_derive_memo;      /* --no-derive-memo */
    bool no_sysfast;          /* --no-sysfast */
    bool two_views;           /* --two-views */
    bool no_access_tlb;       /* --no-access-tlb */
    bool no_superblocks;      /* --no-superblocks: end blocks at every Jcc */
    bool no_inline_calls;     /* --no-inline-calls: CALL/RET end blocks (and ESP is never lazy) */
    bool no_lazy_esp;         /* --no-lazy-esp: inline calls, move ESP at every push and pop */
    uint8_t ic_ways;          /* --ic-ways N: ways per indirect site (0: default) */
    bool verify;              /* --verify: run the isolation verifier on every block */
    bool trace;               /* --trace: log each block, guest insns and host code, to stderr */
    const char *serial;       /* -serial: a chardev.h spec (default stdio) */
    bool no_reboot;           /* -no-reboot (accepted; a triple fault always ends the run) */
    unsigned shadow_spaces;   /* --shadow-spaces N (0: the default) */
    int soft_pages;           /* --soft-pages N|off|all (vm.h; 0: the default) */
    bool shared_fills;        /* --shared-fills */
    bool no_retarget;         /* --no-retarget */
    int unsync_tables;        /* --unsync-tables N|off (vm.h; 0: the default) */
    bool sticky_memops;       /* --sticky-memops */
    uint32_t cpu_limit_ms;    /* --cpu-limit SECONDS: CPU-time budget (0: none) */
    struct drive_opt drive[OPT_DRIVES];  /* by index: primary master, slave, secondary ... */
    bool snapshot;            /* -snapshot: disk writes stay in memory */
    const char *screen;       /* --screen FILE: the final 80x25 text screen */
    bool isapc;               /* -M isapc: no LAPIC, I/O APIC, ACPI, HPET */
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
    bool pci_testdev;         /* -device pci-testdev */
    const char *gdb;          /* -gdb DEV (-s: tcp::1234), NULL for no GDB stub */
    bool gdb_wait;            /* -S: do not start the CPU until the debugger says so */
    const char *chardev[8];   /* -chardev values, resolved by -serial chardev:ID */
    int nchardev;
    const char *serial_chardev; /* -serial chardev:ID, resolved after parsing */
    bool serial_mux;          /* -serial mon:stdio: Ctrl-A c switches to the monitor */
    const char *monitor;      /* -monitor stdio or a chardev.h socket/pty spec, NULL: none */
    const char *qmp;          /* -qmp: a chardev.h socket/pty spec, NULL: none */
    const char *monitor_chardev, *qmp_chardev;  /* chardev:ID, resolved after parsing */
    const char *profile;      /* --profile FILE: where the host time goes, NULL: off */
    const char *loadvm;       /* -loadvm FILE: start from this snapshot (emulator/snapshot.h) */
    const char *incoming;     /* -incoming tcp:[HOST]:PORT|unix:PATH|exec:CMD, NULL: none */
};

/* Add one -drive (forced_index -1) or -hdX (0..3) to o; -1 and a message. */
int options_drive(struct options *o, const char *spec, int forced_index, char *err, size_t errlen);

/* Open the images the options name (disk.h), NULL where there is none. On
 * failure: -1, a one-line message in QEMU's words ("-drive file=x: Could not
 * open 'x': No such file or directory"), nothing left open. */
struct disk;
int options_open_drives(const struct options *o, struct disk *out[OPT_DRIVES], char *err,
                        size_t errlen);
#define OPT_CPU_ALL 0xffffffffu
enum { OPT_RTC_UTC, OPT_RTC_LOCAL, OPT_RTC_DATE };

/* Parse argv. Returns 0 to run, 1 if --help/--version was printed (exit 0),
 * -1 on a bad option with a one-line message in err (exit 2), without the
 * "bt86: " prefix, which the caller prints: "unknown option '-x' (try --help)". */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_usage(FILE *f);
