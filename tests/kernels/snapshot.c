/* snapshot.c — a kernel whose result depends on every piece of machine
 * state a snapshot must carry, for the savevm/loadvm round trips
 * (snapshot-test.py, issue #14 item 5).
 *
 * ROUNDS rounds, each: mix a 256 KiB slice of a 4 MiB buffer that paging
 * maps at 0x80000000 (guest RAM, CR3 and the shadow spaces), fold the
 * x87 stack top and XMM7 (held in registers across rounds: the FXSAVE
 * image), write one sector of a -snapshot disk and read back another
 * (the IDE overlay, PIO), and every 8th round sleep in HLT until the
 * PIT's next IRQ 0 (PIC, PIT, halted state, interrupts after a restore). Each round prints
 * "progress R SUM"; the end prints "final SUM" and exits through
 * isa-debug-exit. SUM never depends on timing, so an uninterrupted run
 * and one saved and restored anywhere must print the same final line.
 *
 * -append "rounds=N" changes the number of rounds (default 300).
 * -append "fill" (bench/snapshot): fill all RAM above 4 MiB with
 * pseudo-random words, print "filled N MiB", then sleep in HLT with the
 * PIT running, for ever: a guest that has touched most of its RAM. */
#include <stdbool.h>

#include "pg_lib.h"

#define WINDOW      0x80000000u
#define BUF_PHYS    0x02000000u     /* 32 MiB: needs -m 64 */
#define BUF_SIZE    (4u << 20)
#define SLICE       (256u << 10)
#define IDE         0x1F0
#define IDE_CTL     0x3F6
#define DISK_FIRST  64u             /* sectors 64..127 are written */

static volatile uint32_t ticks;
static uint32_t sector_buf[128];

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x20)
        ticks++;
    outb(0x20, 0x20);
}

static uint32_t rotl(uint32_t x, int k) { return x << k | x >> (32 - k); }

static uint32_t mix_slice(uint32_t r, uint32_t seed)
{
    volatile uint32_t *p = (volatile uint32_t *)(WINDOW + (r * 37u % (BUF_SIZE / SLICE)) * SLICE);
    uint32_t h = seed;
    for (uint32_t i = 0; i < SLICE / 4; i++) {
        uint32_t x = p[i] ^ (h + i * 0x9e3779b9u);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = x;
        h = rotl(h ^ x, 7) * 0x01000193u;
    }
    return h;
}

static uint8_t ide_wait(void)
{
    uint8_t st = 0;
    for (int i = 0; i < 1000000; i++)
        if (!((st = inb(IDE_CTL)) & 0x80))
            break;
    return st;
}

static void ide_cmd(uint32_t lba, uint8_t cmd)
{
    ide_wait();
    outb(IDE + 6, (uint8_t)(0xE0 | (lba >> 24 & 0x0F)));
    outb(IDE + 2, 1);
    outb(IDE + 3, (uint8_t)lba);
    outb(IDE + 4, (uint8_t)(lba >> 8));
    outb(IDE + 5, (uint8_t)(lba >> 16));
    outb(IDE + 7, cmd);
}

/* One sector by PIO, polled (nIEN set). 0 if the drive said an error. */
static int ide_rw(uint32_t lba, bool write)
{
    ide_cmd(lba, write ? 0x30 : 0x20);
    for (int i = 0; i < 1000000 && !(inb(IDE_CTL) & 0x08); i++)
        ;
    for (int i = 0; i < 128; i++) {
        if (write)
            outl(IDE, sector_buf[i]);
        else
            sector_buf[i] = inl(IDE);
    }
    return !(ide_wait() & 0x01);
}

static uint32_t disk_round(uint32_t r, uint32_t sum)
{
    uint32_t h = 0;
    for (int i = 0; i < 128; i++)
        sector_buf[i] = sum ^ (r * 131u + (uint32_t)i);
    if (!ide_rw(DISK_FIRST + r % 64, true))
        return 0xdead0001u;
    if (!ide_rw(DISK_FIRST + (r * 7u + 3) % 64, false))
        return 0xdead0002u;
    for (int i = 0; i < 128; i++)
        h = (h ^ sector_buf[i]) * 0x01000193u;
    return h;
}

/* x87: st(0) = st(0) * 1.000001 + (r & 15), kept on the stack between rounds. */
static uint32_t fpu_round(uint32_t r)
{
    static const double k = 1.000001;
    int32_t add = (int32_t)(r & 15);
    uint32_t bits[2];
    double v;
    __asm__ volatile("fmull %1\n\tfiaddl %2\n\tfstl %0" : "=m"(v) : "m"(k), "m"(add) : "memory");
    memcpy(bits, &v, 8);
    return bits[0] ^ bits[1];
}

/* XMM7 += broadcast(h), rotated one lane; kept in XMM7 between rounds. */
static uint32_t sse_round(uint32_t h)
{
    uint32_t out[4] __attribute__((aligned(16)));
    __asm__ volatile("movd %1, %%xmm6\n\tpshufd $0, %%xmm6, %%xmm6\n\tpaddd %%xmm6, %%xmm7\n\t"
                     "pshufd $0x39, %%xmm7, %%xmm7\n\tmovdqa %%xmm7, %0"
                     : "=m"(out) : "r"(h) : "memory");  /* gcc uses no XMM register here (no -msse) */
    return out[0] ^ rotl(out[1], 8) ^ rotl(out[2], 16) ^ rotl(out[3], 24);
}

static void wait_tick(void)
{
    uint32_t t = ticks;
    while (ticks == t)
        __asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
}

static void fill(struct mb_info *mbi)
{
    uint32_t end = 0x100000u + mbi->mem_upper * 1024u, x = 2463534242u;
    for (volatile uint32_t *p = (uint32_t *)0x400000u; (uint32_t)p < end; p++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *p = x;
    }
    kprintf("filled %u MiB\n", (end - 0x400000u) >> 20);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t rounds = 300, sum = 0x12345678u;
    const char *cmd = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
    const char *arg = strstr(cmd, "rounds=");
    uint32_t *pd;

    if (arg)
        rounds = katou(arg + 7);
    sys_init();
    if (strstr(cmd, "fill"))
        fill(mbi);
    pd = pg_kernel_pd();
    for (uint32_t off = 0; off < BUF_SIZE; off += 4096)
        pg_map(pd, WINDOW + off, BUF_PHYS + off, PG_P | PG_RW);
    pg_enable(pd);

    /* SSE on (CR4.OSFXSR, OSXMMEXCPT; CR0.EM clear, MP set), the x87 and
     * XMM7 seeded. */
    write_cr0((read_cr0() & ~4u) | 2u);
    write_cr4(read_cr4() | (3u << 9));
    __asm__ volatile("fninit\n\tfld1\n\tpxor %%xmm7, %%xmm7" ::: "memory");

    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xA0, 0x11); outb(0xA1, 0x28); outb(0xA1, 0x02); outb(0xA1, 0x01);
    outb(0x21, 0xFE);                    /* IRQ 0 only */
    outb(0xA1, 0xFF);
    outb(IDE_CTL, 0x02);                 /* nIEN: the disk is polled */
    sys_irq_hook = on_irq;
    outb(0x43, 0x34);                    /* PIT channel 0, mode 2, 1 kHz */
    outb(0x40, (uint8_t)1193);
    outb(0x40, (uint8_t)(1193 >> 8));

    if (strstr(cmd, "fill"))
        for (;;)
            wait_tick();
    for (uint32_t r = 0; r < rounds; r++) {
        sum = rotl(sum, 5) ^ mix_slice(r, sum);
        sum = rotl(sum, 5) ^ fpu_round(r);
        sum = rotl(sum, 5) ^ sse_round(sum);
        sum = rotl(sum, 5) ^ disk_round(r, sum);
        kprintf("progress %u %08x\n", r, sum);
        if (r % 8 == 7)
            wait_tick();        /* mostly computing: saves land anywhere */
    }
    kprintf("final %08x\n", sum);
    kexit(EXIT_PASS);
}
