/* demo.c — bt86's demo kernel (`make run`).
 *
 * Prints a banner and what the Multiboot loader passed, runs each of the
 * benchmark workloads (bench/workloads) at its small demo scale plus an x87
 * check, compares each checksum with the value measured natively on real
 * hardware, and prints a summary line: "all N checks passed". Then it stops
 * with CLI; HLT, which bt86 reports as "guest halted" (exit status 0).
 *
 * QEMU never leaves CLI; HLT, so with "exit" among the command-line words
 * (-append exit) the demo ends through isa-debug-exit instead: value 0 if
 * every check passed (QEMU exits with status 1), 1 otherwise (status 3). */
#include "kernel.h"
#include "x86.h"
#include "workloads.h"

/* Checksums at workloads[].demo_scale, from a native run (gcc 12 -m32 -O2
 * -march=i686 -msse2 -mfpmath=sse). */
static const struct {
    const char *name;
    uint32_t checksum;
} expected[] = {
    { "sieve", 0x80cd664f },  { "matmul", 0x6348d053 }, { "fib", 0x1604abfd },
    { "interp", 0x47f14354 }, { "string", 0xdafe1075 }, { "qsort", 0x5164c138 },
    { "fp", 0xba3a5413 },     { "crc32", 0xc0061127 },  { "calls", 0x4fe5f39b },
};
#define X87_EXPECTED 0x8c8f7965u

/* The x87 unit on its own (the workloads use SSE2 for doubles): sums and
 * products of square roots in 64-bit precision (long double is the x87's
 * 80-bit format), rounded to double at the end. FSQRT, FADD, FMUL, FDIV
 * are correctly rounded, so the bits are the same everywhere. */
static uint32_t x87_check(void)
{
    long double sum = 0, mix = 1;
    for (int i = 1; i <= 100; i++) {
        long double x = i;
        __asm__("fsqrt" : "+t"(x));
        sum += x;
        mix = mix * 1.0009765625L + x / 1024;
    }
    double s = (double)sum, m = (double)mix;
    uint32_t w[4];
    memcpy(w, &s, 8);
    memcpy(w + 2, &m, 8);
    uint32_t h = 2166136261u;
    for (int i = 0; i < 4; i++)
        h = (h ^ w[i]) * 16777619u;
    return h;
}

static void banner(uint32_t magic, const struct mb_info *mbi)
{
    uint32_t r[4];
    char vendor[13];
    kputs("\nbt86 demo kernel\n");
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0), "c"(0));
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(1), "c"(0));
    kprintf("  cpu: %s family %u model %u stepping %u\n", vendor,
            (r[0] >> 8) & 0xF, (r[0] >> 4) & 0xF, r[0] & 0xF);
    if (magic != MB_BOOT_MAGIC || !mbi) {
        kprintf("  not booted by a Multiboot loader (EAX 0x%08x)\n", magic);
        return;
    }
    if (mbi->flags & MB_INFO_MEM)
        kprintf("  memory: %u KiB low, %u KiB above 1 MiB\n", mbi->mem_lower, mbi->mem_upper);
    if (mbi->flags & MB_INFO_CMDLINE)
        kprintf("  command line: \"%s\"\n", (const char *)mbi->cmdline);
    if (mbi->flags & MB_INFO_MMAP) {
        uint64_t avail = 0;
        int n = 0;
        for (uint32_t off = 0; off < mbi->mmap_length; n++) {
            const struct mb_mmap *e = (const struct mb_mmap *)(mbi->mmap_addr + off);
            if (e->type == 1)
                avail += e->len;
            off += e->size + 4;
        }
        kprintf("  memory map: %d entries, %u KiB available\n", n, (uint32_t)(avail >> 10));
    }
}

/* "exit" as a whole word of the command line */
static int wants_exit(const char *args)
{
    for (const char *p = args; (p = strstr(p, "exit")); p += 4)
        if ((p == args || p[-1] == ' ') && (p[4] == 0 || p[4] == ' '))
            return 1;
    return 0;
}

static int report(const char *name, uint32_t scale, uint32_t got, uint32_t want)
{
    int ok = got == want;
    kprintf("  %-8s scale %-4u checksum %08x expected %08x %s\n", name, scale, got, want,
            ok ? "OK" : "MISMATCH");
    return ok;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    banner(magic, mbi);
    int checks = 0, passed = 0;
    for (int i = 0; i < nworkloads; i++) {
        const struct workload *w = &workloads[i];
        uint32_t want = 0;
        for (unsigned k = 0; k < sizeof expected / sizeof expected[0]; k++)
            if (!strcmp(expected[k].name, w->name))
                want = expected[k].checksum;
        checks++;
        passed += report(w->name, w->demo_scale, w->fn(w->demo_scale), want);
    }
    checks++;
    passed += report("x87", 100, x87_check(), X87_EXPECTED);

    if (passed == checks)
        kprintf("all %d checks passed\n", checks);
    else
        kprintf("%d of %d checks passed, %d MISMATCH\n", passed, checks, checks - passed);
    if (wants_exit(mb_args(magic == MB_BOOT_MAGIC ? mbi : NULL)))
        kexit(passed == checks ? EXIT_PASS : EXIT_FAIL);
    kputs("halting (cli; hlt)\n");
    khalt();
}
