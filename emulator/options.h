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
    bool verify;              /* --verify: run the isolation verifier on every block */
    bool trace;               /* --trace: log each block, guest insns and host code, to stderr */
    const char *serial;       /* -serial stdio|null|file:PATH (default stdio) */
    bool no_reboot;           /* -no-reboot (accepted; a triple fault always ends the run) */
    unsigned shadow_spaces;   /* --shadow-spaces N (0: the default) */
    bool isapc;               /* -M isapc: no LAPIC, I/O APIC, ACPI, HPET */
    unsigned poll_storm;      /* --poll-storm N (0: off) */
};

/* Parse argv. Returns 0 to run, 1 if --help/--version was printed (exit 0),
 * -1 on a bad option with a one-line message in err (exit 2), without the
 * "bt86: " prefix, which the caller prints: "unknown option '-x' (try --help)". */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_usage(FILE *f);
