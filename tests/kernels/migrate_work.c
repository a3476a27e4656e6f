/* migrate_work.c — the guest of the live-migration tests and benchmark
 * (tests/migrate/, bench/migrate/): a memory-writing workload paced by the
 * PIT, that runs until a 'q' arrives on COM1 and then prints how many
 * rounds it did and a checksum of its memory. The test computes the same
 * checksum for that many rounds on the host (the workload is a pure
 * function of the round count), so a migration anywhere in the run must
 * leave it right; no host time decides anything.
 *
 * One round, at each 1 kHz timer tick: 256 additions at LCG-chosen words
 * of a 4 MiB array (about 230 distinct pages). Every 16 rounds: "progress
 * N", and work_rounds always holds the count (a monitor reads it with
 * xp). -append paging: the same under 32-bit paging (pg_lib.h); idle: no
 * stores at all (the benchmark's idle guest; HLT between ticks). */
#include <stdbool.h>

#include "pg_lib.h"

#define PIT_HZ 1193182u
#define RATE 1000u
#define NWORDS (1u << 20)               /* 4 MiB */
#define STORES 256u

static uint32_t work[NWORDS] __attribute__((aligned(4096)));
static volatile uint32_t ticks;
volatile uint32_t work_rounds;          /* n, for a monitor's xp (bench/migrate) */

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x20)
        ticks++;
    outb(0x20, 0x20);
}

static void timer_init(void)
{
    pic_init_masks(0xfe, 0xff);           /* IRQ 0 only */
    pit_rate(PIT_HZ / RATE);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    const char *args = mb_args(mbi);
    bool idle = strstr(args, "idle") != NULL;
    uint32_t x = 12345, n = 0, sum = 0;

    sys_init();
    sys_irq_hook = on_irq;
    if (strstr(args, "paging"))
        pg_enable(pg_kernel_pd());
    timer_init();
    kprintf("migrate_work ready%s%s\n", idle ? " idle" : "", strstr(args, "paging") ? " paging" : "");
    __asm__ volatile("sti");
    for (;;) {
        if ((inb(0x3fd) & 1) && inb(0x3f8) == 'q')
            break;
        if (!idle)
            for (uint32_t j = 0; j < STORES; j++) {
                x = x * 1664525u + 1013904223u;
                work[(x >> 8) & (NWORDS - 1)] += x ^ n;
            }
        work_rounds = ++n;
        if (n % 16 == 0)
            kprintf("progress %u\n", n);
        __asm__ volatile("hlt");        /* until the next tick */
    }
    __asm__ volatile("cli");
    for (uint32_t k = 0; k < NWORDS; k++)
        sum = (sum << 5 | sum >> 27) ^ work[k];
    kprintf("done rounds=%u sum=%08x\n", n, sum);
    test_finish("migrate_work");
}
