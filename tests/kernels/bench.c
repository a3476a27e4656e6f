/* bench.c — runs one benchmark workload (bench/workloads) inside a VM.
 *
 *   -append "NAME"        run NAME at its bench_scale
 *   -append "NAME SCALE"  run it at SCALE (decimal or 0x-hex)
 *   -append "empty"       do nothing: measures VM start-up and shutdown
 *   -append "all"         every workload at its bench_scale, one line each
 *
 * Prints "NAME CHECKSUM" (8 lowercase hex digits, as the native side of the
 * benchmark prints it) on COM1 and exits through isa-debug-exit with 0
 * (VM exit status 1); an unknown name prints the list and exits with 1. */
#include "kernel.h"
#include "workloads.h"

static const struct workload *find(const char *name, size_t len)
{
    for (int i = 0; i < nworkloads; i++)
        if (strlen(workloads[i].name) == len && !strncmp(workloads[i].name, name, len))
            return &workloads[i];
    return NULL;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    const char *args = mb_args(magic == MB_BOOT_MAGIC ? mbi : NULL);
    size_t len = 0;
    while (args[len] && args[len] != ' ')
        len++;
    const char *rest = args + len;
    while (*rest == ' ')
        rest++;

    if (len == 5 && !strncmp(args, "empty", 5)) {
        kputs("empty 00000000\n");
        kexit(EXIT_PASS);
    }
    if (len == 3 && !strncmp(args, "all", 3)) {
        for (int i = 0; i < nworkloads; i++)
            kprintf("%s %08x\n", workloads[i].name, workloads[i].fn(workloads[i].bench_scale));
        kexit(EXIT_PASS);
    }
    const struct workload *w = find(args, len);
    if (!w) {
        kprintf("bench: unknown workload \"%s\"; use -append \"NAME [SCALE]\" with NAME one of: empty all", args);
        for (int i = 0; i < nworkloads; i++)
            kprintf(" %s", workloads[i].name);
        kputs("\n");
        kexit(EXIT_FAIL);
    }
    uint32_t scale = *rest ? katou(rest) : w->bench_scale;
    kprintf("%s %08x\n", w->name, w->fn(scale));
    kexit(EXIT_PASS);
}
