/* ide.c — the IDE controller as a driver sees it: a 256-sector scratch
 * disk on the primary master (made by diskimg with pattern A), read and
 * written sector by sector with 16-bit (rep insw/outsw) and 32-bit (rep
 * insl/outsl, as xv6 does) transfers, polled and interrupt-driven (IRQ 14
 * through the 8259s), READ/WRITE MULTIPLE, LBA28 and CHS addressing, and
 * the error, absent-drive and soft-reset behaviour. Sectors 100..127 end
 * up holding pattern B; the ctest script checks the file afterwards.
 *
 * Interrupts are waited for with a bounded loop at IF=1 (the controller
 * raises its line before the command's OUT completes, so the interrupt is
 * taken at once), never with HLT: a missing interrupt fails a check
 * instead of hanging the run. */
#include "disk_pattern.h"
#include "sys_lib.h"

#define BASE 0x1F0
#define CTL  0x3F6
enum { R_DATA = 0, R_ERROR = 1, R_FEATURE = 1, R_NSECT = 2, R_SECT = 3, R_LCYL = 4,
       R_HCYL = 5, R_SELECT = 6, R_STATUS = 7, R_CMD = 7 };
enum { BSY = 0x80, DRDY = 0x40, DSC = 0x10, DRQ = 0x08, ERR = 0x01, ABRT = 0x04, IDNF = 0x10 };
enum { NIEN = 0x02, SRST = 0x04 };

static volatile uint32_t irqs14, irqs_other;
static uint8_t buf[16 * 512];

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x2E)
        irqs14++;
    else
        irqs_other++;
    if (f->vector >= 0x28)
        outb(0xA0, 0x20);
    outb(0x20, 0x20);
}

static void pic_init(void)
{
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xA0, 0x11); outb(0xA1, 0x28); outb(0xA1, 0x02); outb(0xA1, 0x01);
    outb(0x21, 0xFB);                    /* the cascade only */
    outb(0xA1, 0x3F);                    /* IRQ 14 and 15 */
}

static uint8_t reg(int r) { return inb((uint16_t)(BASE + r)); }
static void set(int r, uint8_t v) { outb((uint16_t)(BASE + r), v); }

static uint8_t wait_ready(void)
{
    uint8_t st = 0;
    /* bounded; long enough for QEMU, whose FLUSH CACHE runs in the background */
    for (int i = 0; i < 10000000; i++) {
        st = inb(CTL);
        if (!(st & BSY))
            break;
    }
    return st;
}

/* Wait until IRQ 14 has fired `n` times in all. */
static void wait_irq(uint32_t n)
{
    for (int i = 0; i < 100000 && irqs14 < n; i++)
        __asm__ volatile("pause" ::: "memory");
    CHECK_EQ(irqs14, n);
}

static void lba28(uint32_t lba, uint8_t count)
{
    set(R_SELECT, (uint8_t)(0xE0 | (lba >> 24 & 0x0F)));
    set(R_NSECT, count);
    set(R_SECT, (uint8_t)lba);
    set(R_LCYL, (uint8_t)(lba >> 8));
    set(R_HCYL, (uint8_t)(lba >> 16));
}

static void insw(void *dst, uint32_t words)
{
    __asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(words) : "d"(BASE) : "memory");
}

static void insl(void *dst, uint32_t dwords)
{
    __asm__ volatile("cld; rep insl" : "+D"(dst), "+c"(dwords) : "d"(BASE) : "memory");
}

static void outsw(const void *src, uint32_t words)
{
    __asm__ volatile("cld; rep outsw" : "+S"(src), "+c"(words) : "d"(BASE) : "memory");
}

static void outsl(const void *src, uint32_t dwords)
{
    __asm__ volatile("cld; rep outsl" : "+S"(src), "+c"(dwords) : "d"(BASE) : "memory");
}

static int check_sector(const uint8_t *p, uint32_t s, int b)
{
    for (uint32_t i = 0; i < 512; i++) {
        uint8_t want = b ? disk_pattern_b(s, i) : disk_pattern_a(s, i);
        if (p[i] != want) {
            CHECK_EQ_CTX(p[i], want, "sector %u byte %u", s, i);
            return 0;
        }
    }
    return 1;
}

static void fill_b(uint8_t *p, uint32_t s)
{
    for (uint32_t i = 0; i < 512; i++)
        p[i] = disk_pattern_b(s, i);
}

static void identify(void)
{
    uint16_t w[256];
    set(R_SELECT, 0xA0);
    set(R_CMD, 0xEC);
    CHECK_EQ(wait_ready() & (BSY | DRQ | ERR), DRQ);
    insw(w, 256);
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), 0);
    CHECK_EQ(irqs14, 1);                             /* when the data became ready */
    CHECK_EQ(w[0] & 0x8080, 0x0000);                 /* ATA, fixed */
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, DISK_SECTORS);
    CHECK_EQ(w[49] & (1 << 9), 1 << 9);              /* LBA */
    CHECK_EQ(w[47] & 0xFF, 16);                      /* READ MULTIPLE up to 16 */
    CHECK_EQ(w[3], 16);                              /* 16 heads, 63 sectors */
    CHECK_EQ(w[6], 63);
    CHECK(w[27] != 0 && w[27] != 0x2020);            /* a model name */
}

static void absent_drives(void)
{
    set(R_SELECT, 0xB0);                             /* primary slave: none */
    CHECK_EQ(reg(R_STATUS), 0);
    CHECK_EQ(inb(0x177), 0);                         /* secondary channel: empty */
    CHECK_EQ(inb(0x376), 0);
    set(R_SELECT, 0xA0);
    CHECK_EQ(reg(R_STATUS) & (DRDY | BSY), DRDY);
}

/* All 256 sectors in one command (count 0), polled, 16-bit. */
static void read_all_polled(void)
{
    uint32_t base = irqs14;
    outb(CTL, NIEN);
    lba28(0, 0);
    set(R_CMD, 0x20);
    int good = 0;
    for (uint32_t s = 0; s < DISK_SECTORS; s++) {
        CHECK_EQ_CTX(wait_ready() & (DRQ | ERR), DRQ, "sector %u", s);
        insw(buf, 256);
        good += check_sector(buf, s, 0);
    }
    CHECK_EQ(good, (int)DISK_SECTORS);
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR | BSY), 0);
    CHECK_EQ(irqs14, base);                          /* nIEN held them back */
    CHECK_EQ(inb(BASE), 0);                          /* no 8-bit PIO: nothing moves */
    outb(CTL, 0);
    CHECK_EQ(irqs14, base);                          /* the status read acknowledged it */
}

/* 32 sectors, interrupt per sector, 32-bit transfers. */
static void read_irq_32(void)
{
    uint32_t base = irqs14;
    lba28(0, 32);
    set(R_CMD, 0x21);
    for (uint32_t s = 0; s < 32; s++) {
        wait_irq(base + s + 1);
        CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), DRQ);  /* acknowledges the interrupt */
        insl(buf, 128);
        check_sector(buf, s, 0);
    }
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR | BSY), 0);
    CHECK_EQ(irqs14, base + 32);
}

static void read_multiple(void)
{
    uint32_t base = irqs14;
    set(R_NSECT, 8);
    set(R_CMD, 0xC6);                                /* SET MULTIPLE MODE 8 */
    wait_irq(base + 1);
    CHECK_EQ(reg(R_STATUS) & (ERR | DRQ), 0);
    lba28(32, 64);
    set(R_CMD, 0xC4);
    for (uint32_t blk = 0; blk < 8; blk++) {
        wait_irq(base + 2 + blk);
        CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), DRQ);
        insl(buf, 8 * 128);                          /* a whole block in one rep insl */
        for (uint32_t k = 0; k < 8; k++)
            check_sector(buf + 512 * k, 32 + 8 * blk + k, 0);
    }
    CHECK_EQ(irqs14, base + 9);
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), 0);
}

/* REP INSL into ES:EDI with a non-zero ES base: the data lands at base + EDI. */
static void read_es_based(void)
{
    enum { SLOT = 8, SEL = SLOT << 3, ES_BASE = 0x1000 };
    gdt[SLOT] = seg_desc(ES_BASE, 0xfffff, 0x92, 0xc);
    outb(CTL, NIEN);
    lba28(77, 2);
    set(R_CMD, 0x20);
    for (uint32_t s = 77; s < 79; s++) {
        uint32_t edi = (uint32_t)buf - ES_BASE, n = 128;
        CHECK_EQ(wait_ready() & (DRQ | ERR), DRQ);
        __asm__ volatile("push %%es; mov %w3, %%es; cld; rep insl; pop %%es"
                         : "+D"(edi), "+c"(n) : "d"(BASE), "r"(SEL) : "memory");
        CHECK_EQ(edi, (uint32_t)buf - ES_BASE + 512);
        check_sector(buf, s, 0);
    }
    CHECK_EQ(wait_ready() & (DRQ | ERR), 0);
    outb(CTL, 0);
    reg(R_STATUS);
}

static void read_chs(void)
{
    outb(CTL, NIEN);
    set(R_SELECT, 0xA1);                             /* CHS, head 1 */
    set(R_NSECT, 1);
    set(R_SECT, 1);
    set(R_LCYL, 0);
    set(R_HCYL, 0);
    set(R_CMD, 0x20);
    CHECK_EQ(wait_ready() & (DRQ | ERR), DRQ);
    insw(buf, 256);
    check_sector(buf, 63, 0);                        /* (0 * 16 + 1) * 63 + 0 */
    outb(CTL, 0);
}

static void writes(void)
{
    /* 100..107: WRITE SECTORS, polled, 16-bit */
    outb(CTL, NIEN);
    lba28(100, 8);
    set(R_CMD, 0x30);
    for (uint32_t s = 100; s < 108; s++) {
        CHECK_EQ_CTX(wait_ready() & (DRQ | ERR), DRQ, "sector %u", s);
        fill_b(buf, s);
        outsw(buf, 256);
    }
    CHECK_EQ(wait_ready() & (DRQ | ERR), 0);
    outb(CTL, 0);
    reg(R_STATUS);

    /* 108..115: no-retry variant, interrupt after each sector, 32-bit */
    uint32_t base = irqs14;
    lba28(108, 8);
    set(R_CMD, 0x31);
    for (uint32_t s = 108; s < 116; s++) {
        CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), DRQ);  /* first block: DRQ, no interrupt */
        CHECK_EQ(irqs14, base + (s - 108));
        fill_b(buf, s);
        outsl(buf, 128);
        wait_irq(base + (s - 108) + 1);
    }
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), 0);

    /* 116..123: WRITE MULTIPLE in blocks of 4 */
    base = irqs14;
    set(R_NSECT, 4);
    set(R_CMD, 0xC6);
    wait_irq(base + 1);
    CHECK_EQ(reg(R_STATUS) & ERR, 0);
    lba28(116, 8);
    set(R_CMD, 0xC5);
    for (uint32_t blk = 0; blk < 2; blk++) {
        CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), DRQ);
        for (uint32_t k = 0; k < 4; k++)
            fill_b(buf + 512 * k, 116 + 4 * blk + k);
        outsl(buf, 4 * 128);
        wait_irq(base + 2 + blk);
    }
    CHECK_EQ(reg(R_STATUS) & (DRQ | ERR), 0);

    /* 124..127 by CHS: C0 H1 S62 onwards, crossing into head 2 */
    outb(CTL, NIEN);
    set(R_SELECT, 0xA1);
    set(R_NSECT, 4);
    set(R_SECT, 62);
    set(R_LCYL, 0);
    set(R_HCYL, 0);
    set(R_CMD, 0x30);
    for (uint32_t s = 124; s < 128; s++) {
        CHECK_EQ(wait_ready() & (DRQ | ERR), DRQ);
        fill_b(buf, s);
        outsw(buf, 256);
    }
    CHECK_EQ(wait_ready() & (DRQ | ERR), 0);
    CHECK_EQ(reg(R_SELECT) & 0x0F, 2);               /* next sector: C0 H2 S3 */
    CHECK_EQ(reg(R_SECT), 3);
    set(R_CMD, 0xE7);                                /* FLUSH CACHE */
    CHECK_EQ(wait_ready() & (ERR | DRQ), 0);
    outb(CTL, 0);
    reg(R_STATUS);

    /* read them back */
    outb(CTL, NIEN);
    lba28(96, 36);
    set(R_CMD, 0x20);
    for (uint32_t s = 96; s < 132; s++) {
        CHECK_EQ(wait_ready() & (DRQ | ERR), DRQ);
        insl(buf, 128);
        check_sector(buf, s, s >= DISK_WRITE_LO && s <= DISK_WRITE_HI);
    }
    outb(CTL, 0);
    reg(R_STATUS);
}

static void errors_and_reset(void)
{
    uint32_t base = irqs14;
    lba28(DISK_SECTORS - 2, 4);                      /* runs off the end */
    set(R_CMD, 0x20);
    for (uint32_t s = DISK_SECTORS - 2; s < DISK_SECTORS; s++) {
        wait_irq(++base);
        CHECK_EQ(reg(R_STATUS) & (ERR | DRQ), DRQ);  /* the sectors that exist come */
        insl(buf, 128);
        check_sector(buf, s, 0);
    }
    wait_irq(++base);
    CHECK_EQ(inb(CTL) & (ERR | DRQ), ERR);           /* then the error */
    CHECK(reg(R_ERROR) & (IDNF | ABRT));
    CHECK_EQ(reg(R_STATUS) & ERR, ERR);
    set(R_CMD, 0xF7);                                /* not a command: aborted */
    wait_irq(++base);
    CHECK_EQ(reg(R_STATUS) & ERR, ERR);
    CHECK_EQ(reg(R_ERROR) & ABRT, ABRT);
    /* soft reset in the middle of a read */
    lba28(0, 4);
    set(R_CMD, 0x20);
    wait_irq(++base);
    outb(CTL, SRST | NIEN);
    outb(CTL, NIEN);
    CHECK_EQ(wait_ready() & (BSY | DRDY | DRQ | ERR), DRDY);
    CHECK_EQ(reg(R_NSECT), 1);                       /* the ATA signature */
    CHECK_EQ(reg(R_SECT), 1);
    CHECK_EQ(reg(R_LCYL), 0);
    CHECK_EQ(reg(R_HCYL), 0);
    CHECK_EQ(reg(R_ERROR), 0x01);
    outb(CTL, 0);
    CHECK_EQ(irqs14, base);
    CHECK_EQ(irqs_other, 0);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    sys_irq_hook = on_irq;
    pic_init();
    /* the controller is on the PCI bus where QEMU puts it: 00:01.1 */
    outl(0xCF8, 0x80000000u | 1u << 11 | 1u << 8);
    CHECK_EQ(inl(0xCFC), 0x70108086);
    sti();
    identify();
    absent_drives();
    read_all_polled();
    read_irq_32();
    read_multiple();
    read_es_based();
    read_chs();
    writes();
    errors_and_reset();
    cli();
    test_finish("ide");
}
