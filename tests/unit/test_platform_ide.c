/* The IDE controller: ATA register protocol, commands, errors, interrupts
 * (ATA/ATAPI-6), over an in-memory disk that can be told to fail. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "emulator/hw/ide.h"

#define SECTORS 2000u
enum { DATA = 0x1F0, ERROR = 0x1F1, FEATURE = 0x1F1, NSECT = 0x1F2, SECT = 0x1F3, LCYL = 0x1F4,
       HCYL = 0x1F5, SELECT = 0x1F6, STATUS = 0x1F7, CMD = 0x1F7, CTL = 0x3F6 };
enum { BSY = 0x80, DRDY = 0x40, DSC = 0x10, DRQ = 0x08, ERR = 0x01, ABRT = 0x04, IDNF = 0x10,
       UNC = 0x40 };

struct mem_be {
    uint8_t *data;
    bool fail_read, fail_write;
    int flushes;
};

static int mem_read(void *be, uint64_t off, void *buf, size_t n)
{
    struct mem_be *m = be;
    if (m->fail_read) {
        errno = EIO;
        return -1;
    }
    memcpy(buf, m->data + off, n);
    return 0;
}

static int mem_write(void *be, uint64_t off, const void *buf, size_t n)
{
    struct mem_be *m = be;
    if (m->fail_write) {
        errno = EIO;
        return -1;
    }
    memcpy(m->data + off, buf, n);
    return 0;
}

static int mem_flush(void *be) { ((struct mem_be *)be)->flushes++; return 0; }

static const struct disk_ops mem_ops = { mem_read, mem_write, mem_flush, NULL };

struct fixture {
    struct io_bus bus;
    struct ide ide;
    struct mem_be be;
    struct disk *disk;
    int level, raises, line;
};

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    f->line = irq;
    if (level && !f->level)
        f->raises++;
    f->level = level;
}

/* Sector s, byte i: a pattern that differs in every sector and word. */
static uint8_t pattern(uint32_t s, uint32_t i) { return (uint8_t)(s * 7 + i * 13 + (i >> 8)); }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->be.data = test_malloc(SECTORS * 512);
    for (uint32_t s = 0; s < SECTORS; s++)
        for (uint32_t i = 0; i < 512; i++)
            f->be.data[s * 512 + i] = pattern(s, i);
    f->disk = disk_new(&mem_ops, &f->be, SECTORS * 512, false, false);
    struct disk *disks[4] = { f->disk, NULL, NULL, NULL };
    if (ide_init(&f->ide, &f->bus, disks, on_irq, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    disk_close(f->disk);
    test_free(f->be.data);
    test_free(f);
    return 0;
}

static uint8_t in8(struct fixture *f, uint16_t p) { return (uint8_t)io_in(&f->bus, p, 1); }
static void out8(struct fixture *f, uint16_t p, uint8_t v) { io_out(&f->bus, p, 1, v); }

static void lba28(struct fixture *f, uint32_t lba, uint8_t count)
{
    out8(f, SELECT, (uint8_t)(0xE0 | (lba >> 24 & 0x0F)));
    out8(f, NSECT, count);
    out8(f, SECT, (uint8_t)lba);
    out8(f, LCYL, (uint8_t)(lba >> 8));
    out8(f, HCYL, (uint8_t)(lba >> 16));
}

static void read_words(struct fixture *f, uint16_t *w, int n)
{
    for (int i = 0; i < n; i++)
        w[i] = (uint16_t)io_in(&f->bus, DATA, 2);
}

static void check_sector(const uint8_t *buf, uint32_t s)
{
    for (uint32_t i = 0; i < 512; i++)
        if (buf[i] != pattern(s, i))
            fail_msg("sector %u byte %u: %02x, expected %02x", s, i, buf[i], pattern(s, i));
}

static void absent_drives_read_zero(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in8(f, STATUS), DRDY | DSC);          /* the master */
    assert_int_equal(in8(f, ERROR), 0x01);                  /* power-on diagnostic code */
    assert_int_equal(in8(f, NSECT), 1);                     /* ATA signature */
    assert_int_equal(in8(f, SECT), 1);
    assert_int_equal(in8(f, LCYL), 0);
    assert_int_equal(in8(f, HCYL), 0);
    out8(f, SELECT, 0xB0);                                  /* the slave: not there */
    assert_int_equal(in8(f, STATUS), 0);
    assert_int_equal(in8(f, CTL), 0);
    assert_int_equal(in8(f, SELECT), 0xB0);
    out8(f, CMD, 0xEC);                                     /* ignored */
    assert_int_equal(in8(f, STATUS), 0);
    assert_int_equal(f->raises, 0);
    assert_int_equal(io_in(&f->bus, 0x177, 1), 0);          /* secondary: empty channel */
    assert_int_equal(io_in(&f->bus, 0x376, 1), 0);
    assert_int_equal(io_in(&f->bus, 0x176, 1), 0);
    assert_int_equal(io_in(&f->bus, 0x3F7, 1), 0xFF);      /* not ours (floppy DIR) */
}

static void identify_device(void **state)
{
    struct fixture *f = *state;
    uint16_t w[256];
    out8(f, SELECT, 0xA0);
    out8(f, CMD, 0xEC);
    assert_int_equal(f->raises, 1);
    assert_int_equal(f->line, 14);
    assert_int_equal(in8(f, CTL), DRDY | DSC | DRQ);        /* alternate status: IRQ stays */
    assert_int_equal(f->level, 1);
    assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
    assert_int_equal(f->level, 0);                          /* status read acknowledged it */
    read_words(f, w, 256);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(io_in(&f->bus, DATA, 2), 0);           /* nothing more to read */
    assert_int_equal(w[0], 0x0040);
    assert_int_equal(w[1], 2);                              /* 2000 sectors: 2 cylinders minimum */
    assert_int_equal(w[3], 16);
    assert_int_equal(w[6], 63);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    assert_string_equal(model, "BT86 HARDDISK                           ");
    assert_int_equal(w[10] >> 8, 'B');
    assert_int_equal(w[47], 0x8000 | IDE_MAX_MULT);
    assert_int_equal(w[49] & (1 << 9), 1 << 9);             /* LBA */
    assert_int_equal(w[49] & (1 << 8), 0);                  /* no DMA */
    assert_int_equal(w[53] & 1, 1);
    assert_int_equal(w[59], 0);                             /* multiple mode off */
    assert_int_equal(w[60] | (uint32_t)w[61] << 16, SECTORS);
    assert_int_equal(w[83] & (1 << 10), 0);                 /* no LBA48 */
    assert_int_equal(w[83] & (1 << 12), 1 << 12);           /* FLUSH CACHE */
    assert_int_equal(w[255] & 0xFF, 0xA5);
    uint8_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    assert_int_equal(sum, 0);
    /* The command block is untouched by IDENTIFY. */
    assert_int_equal(in8(f, NSECT), 1);
    /* SET MULTIPLE shows in word 59 */
    out8(f, NSECT, 8);
    out8(f, CMD, 0xC6);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    out8(f, CMD, 0xEC);
    read_words(f, w, 256);
    assert_int_equal(w[59], 0x108);
}

static void read_sectors_lba(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    lba28(f, 1000, 3);
    out8(f, CMD, 0x20);
    for (uint32_t s = 1000; s < 1003; s++) {
        assert_int_equal(f->raises, (int)(s - 999));        /* one INTRQ per DRQ block */
        assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
        read_words(f, (uint16_t *)buf, 256);
        check_sector(buf, s);
    }
    assert_int_equal(f->raises, 3);                          /* none after the last block */
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(in8(f, NSECT), 0);
    assert_int_equal(in8(f, SECT) | in8(f, LCYL) << 8, 1003);   /* the next sector */
    /* No-retry variant, 32-bit port accesses. */
    lba28(f, 5, 1);
    out8(f, CMD, 0x21);
    for (int i = 0; i < 128; i++) {
        uint32_t d = io_in(&f->bus, DATA, 4);
        memcpy(buf + 4 * i, &d, 4);
    }
    check_sector(buf, 5);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
}

static void read_bulk_path(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[4 * 512];
    lba28(f, 17, 4);
    out8(f, CMD, 0x20);
    /* REP INSD over all four sectors at once: crosses DRQ blocks. */
    assert_int_equal(io_in_block(&f->bus, DATA, 4, buf, 512), 512);
    for (int s = 0; s < 4; s++)
        check_sector(buf + 512 * s, 17 + (uint32_t)s);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(io_in_block(&f->bus, DATA, 4, buf, 1), 0);  /* transfer over */
    assert_int_equal(io_in_block(&f->bus, 0x1F1, 1, buf, 1), 0);
    /* write in bulk with 16-bit elements */
    memset(buf, 0x5A, sizeof buf);
    lba28(f, 30, 2);
    out8(f, CMD, 0x30);
    assert_int_equal(io_out_block(&f->bus, DATA, 2, buf, 600), 512);
    assert_int_equal(f->be.data[30 * 512], 0x5A);
    assert_int_equal(f->be.data[32 * 512 - 1], 0x5A);
    assert_int_equal(f->be.data[32 * 512], pattern(32, 0));
}

static void write_sectors(void **state)
{
    struct fixture *f = *state;
    lba28(f, 100, 2);
    out8(f, CMD, 0x30);
    assert_int_equal(f->raises, 0);                          /* data-out: no INTRQ for block 1 */
    assert_int_equal(in8(f, CTL), DRDY | DSC | DRQ);
    for (int i = 0; i < 256; i++)
        io_out(&f->bus, DATA, 2, 0x1100u + (unsigned)i);
    assert_int_equal(f->raises, 1);
    assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
    assert_int_equal(f->be.data[100 * 512 + 2], 0x01);      /* word 1 = 0x1101, little-endian */
    assert_int_equal(f->be.data[100 * 512 + 3], 0x11);
    for (int i = 0; i < 128; i++)
        io_out(&f->bus, DATA, 4, 0xDEADBEEF);
    assert_int_equal(f->raises, 2);                          /* and after the last */
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(f->be.data[101 * 512], 0xEF);
    assert_int_equal(f->be.data[102 * 512], pattern(102, 0));
    /* no-retry variant */
    lba28(f, 7, 1);
    out8(f, CMD, 0x31);
    for (int i = 0; i < 256; i++)
        io_out(&f->bus, DATA, 2, 0);
    assert_int_equal(f->be.data[7 * 512 + 100], 0);
    out8(f, CMD, 0xE7);                                      /* FLUSH CACHE */
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(f->be.flushes, 1);
}

static void chs_addressing(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    /* Default translation 16 heads x 63 sectors: C0 H1 S1 is LBA 63. */
    out8(f, SELECT, 0xA1);
    out8(f, NSECT, 1);
    out8(f, SECT, 1);
    out8(f, LCYL, 0);
    out8(f, HCYL, 0);
    out8(f, CMD, 0x20);
    read_words(f, (uint16_t *)buf, 256);
    check_sector(buf, 63);
    assert_int_equal(in8(f, SECT), 2);                       /* next sector, in CHS */
    /* C1 H2 S5 = (1*16+2)*63+4 = 1138 */
    out8(f, SELECT, 0xA2);
    out8(f, SECT, 5);
    out8(f, LCYL, 1);
    out8(f, NSECT, 1);
    out8(f, CMD, 0x20);
    read_words(f, (uint16_t *)buf, 256);
    check_sector(buf, 1138);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors: C2 H3 S1 = (2*4+3)*17 = 187 */
    out8(f, SELECT, 0xA3);
    out8(f, NSECT, 17);
    out8(f, CMD, 0x91);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    out8(f, SELECT, 0xA3);
    out8(f, NSECT, 1);
    out8(f, SECT, 1);
    out8(f, LCYL, 2);
    out8(f, CMD, 0x20);
    read_words(f, (uint16_t *)buf, 256);
    check_sector(buf, 187);
    /* Sector 0 and sectors beyond the track do not exist. */
    out8(f, SECT, 0);
    out8(f, NSECT, 1);
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR) & IDNF, IDNF);
    out8(f, SECT, 18);
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS) & (ERR | DRQ), ERR);
    out8(f, SELECT, 0xA4);                                   /* head 4 of 4 */
    out8(f, SECT, 1);
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS) & (ERR | DRQ), ERR);
}

static void multiple_mode(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    lba28(f, 0, 10);
    out8(f, CMD, 0xC4);                                      /* not enabled yet */
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR), ABRT);
    out8(f, NSECT, 3);
    out8(f, CMD, 0xC6);                                      /* not a power of two */
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    out8(f, NSECT, 32);
    out8(f, CMD, 0xC6);                                      /* above the maximum */
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    out8(f, NSECT, 4);
    out8(f, CMD, 0xC6);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    f->raises = 0;
    lba28(f, 40, 10);
    out8(f, CMD, 0xC4);                                      /* blocks of 4, 4, 2 */
    for (uint32_t s = 40; s < 50; s++) {
        if ((s - 40) % 4 == 0) {
            assert_int_equal(f->raises, (int)(s - 40) / 4 + 1);
            assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);   /* acknowledge */
        }
        read_words(f, (uint16_t *)buf, 256);
        check_sector(buf, s);
    }
    assert_int_equal(f->raises, 3);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    f->raises = 0;
    lba28(f, 60, 6);
    out8(f, CMD, 0xC5);                                      /* WRITE MULTIPLE: 4, 2 */
    for (int i = 0; i < 6 * 128; i++) {
        io_out(&f->bus, DATA, 4, 0x01020304);
        if (i == 4 * 128 - 2)
            assert_int_equal(f->raises, 0);
        if (i == 4 * 128 - 1) {
            assert_int_equal(f->raises, 1);                  /* after the first block */
            assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
        }
    }
    assert_int_equal(f->raises, 2);
    assert_int_equal(f->be.data[65 * 512 + 508], 0x04);
    assert_int_equal(f->be.data[66 * 512], pattern(66, 0));
}

static void errors(void **state)
{
    struct fixture *f = *state;
    f->raises = 0;
    out8(f, CMD, 0x24);                                      /* READ SECTORS EXT: no LBA48 */
    assert_int_equal(f->raises, 1);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR), ABRT);
    out8(f, CMD, 0xA1);                                      /* IDENTIFY PACKET: not ATAPI */
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    out8(f, CMD, 0xC8);                                      /* READ DMA: no DMA */
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    lba28(f, SECTORS - 1, 2);                                /* runs off the end */
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);      /* the last sector comes */
    out8(f, CMD, 0xE5);                                      /* ignored while DRQ is set */
    uint16_t w[256];
    read_words(f, w, 256);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);            /* then the error */
    assert_int_equal(in8(f, ERROR) & IDNF, IDNF);
    assert_int_equal(in8(f, SECT) | in8(f, LCYL) << 8, SECTORS);
    lba28(f, SECTORS, 1);
    out8(f, CMD, 0x30);                                      /* write: fails after the data */
    assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
    for (int i = 0; i < 256; i++)
        io_out(&f->bus, DATA, 2, 0);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR) & IDNF, IDNF);
    out8(f, CMD, 0xE5);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(in8(f, NSECT), 0xFF);                   /* CHECK POWER MODE: active */
    out8(f, FEATURE, 0x03);                                  /* SET FEATURES transfer mode */
    out8(f, NSECT, 0x0C);                                    /* PIO 4 */
    out8(f, CMD, 0xEF);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    out8(f, NSECT, 0x42);                                    /* UDMA 2 */
    out8(f, CMD, 0xEF);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    out8(f, FEATURE, 0x82);                                  /* write cache off */
    out8(f, CMD, 0xEF);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    out8(f, FEATURE, 0x77);
    out8(f, CMD, 0xEF);
    assert_int_equal(in8(f, ERROR), ABRT);
    out8(f, CMD, 0x90);                                      /* EXECUTE DEVICE DIAGNOSTIC */
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(in8(f, ERROR), 0x01);
}

static void host_failures(void **state)
{
    struct fixture *f = *state;
    f->be.fail_write = true;
    lba28(f, 10, 2);
    out8(f, CMD, 0x30);
    f->raises = 0;
    for (int i = 0; i < 256; i++)
        io_out(&f->bus, DATA, 2, 0xFFFF);
    assert_int_equal(f->raises, 1);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);            /* no DRQ: the transfer ended */
    assert_int_equal(in8(f, ERROR), ABRT);
    assert_int_equal(in8(f, SECT), 10);                      /* the failing sector */
    assert_int_equal(f->be.data[10 * 512], pattern(10, 0));
    io_out(&f->bus, DATA, 2, 0xFFFF);                        /* ignored */
    f->be.fail_write = false;
    f->be.fail_read = true;
    lba28(f, 3, 1);
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR), UNC);
    f->be.fail_read = false;
    /* a read-only disk refuses writes the same way */
    f->disk->readonly = true;
    lba28(f, 3, 1);
    out8(f, CMD, 0x30);
    for (int i = 0; i < 256; i++)
        io_out(&f->bus, DATA, 2, 0);
    assert_int_equal(in8(f, STATUS), DRDY | ERR);
    assert_int_equal(in8(f, ERROR), ABRT);
    assert_int_equal(f->be.data[3 * 512], pattern(3, 0));
}

static void nien_and_interrupts(void **state)
{
    struct fixture *f = *state;
    out8(f, CTL, 0x02);                                      /* nIEN */
    out8(f, NSECT, 1);
    out8(f, CMD, 0x91);
    assert_int_equal(f->raises, 0);
    assert_int_equal(f->level, 0);
    out8(f, CTL, 0x00);                                      /* pending interrupt shows now */
    assert_int_equal(f->level, 1);
    assert_int_equal(in8(f, CTL), DRDY | DSC);
    assert_int_equal(f->level, 1);
    in8(f, STATUS);
    assert_int_equal(f->level, 0);
    out8(f, CMD, 0x91);
    assert_int_equal(f->level, 1);
    out8(f, CTL, 0x02);                                      /* masked again: line drops */
    assert_int_equal(f->level, 0);
    out8(f, CTL, 0x00);
    assert_int_equal(f->level, 1);
    out8(f, CMD, 0xE1);                 /* a command write acknowledges, completion raises */
    assert_int_equal(f->raises, 4);
    assert_int_equal(f->level, 1);
}

static void soft_reset(void **state)
{
    struct fixture *f = *state;
    lba28(f, 50, 4);
    out8(f, CMD, 0x20);
    assert_int_equal(in8(f, STATUS), DRDY | DSC | DRQ);
    out8(f, CTL, 0x04);                                      /* SRST */
    assert_int_equal(in8(f, CTL), BSY);
    assert_int_equal(f->level, 0);
    out8(f, CTL, 0x00);
    assert_int_equal(in8(f, STATUS), DRDY | DSC);
    assert_int_equal(in8(f, ERROR), 0x01);
    assert_int_equal(in8(f, NSECT), 1);
    assert_int_equal(in8(f, SECT), 1);
    assert_int_equal(in8(f, LCYL), 0);
    assert_int_equal(in8(f, HCYL), 0);
    assert_int_equal(in8(f, SELECT), 0xA0);
    assert_int_equal(io_in(&f->bus, DATA, 2), 0);            /* the transfer is gone */
    assert_int_equal(io_in(&f->bus, DATA, 1), 0);
    assert_int_equal(f->raises, 1);                          /* only the command's */
}

/* -snapshot: the guest's writes come back, the file never changes. */
static void snapshot_keeps_file(void **state)
{
    char path[] = "/tmp/bt86-ide-XXXXXX", err[256];
    int fd = mkstemp(path);
    uint8_t sec[512], back[512];
    assert_true(fd >= 0);
    for (int s = 0; s < 300; s++) {
        for (int i = 0; i < 512; i++)
            sec[i] = pattern((uint32_t)s, (uint32_t)i);
        assert_int_equal(write(fd, sec, 512), 512);
    }
    struct disk *d = disk_open_file(path, false, true, err, sizeof err);
    assert_non_null(d);
    struct io_bus bus = { 0 };
    struct ide *ide = test_calloc(1, sizeof *ide);
    struct disk *disks[4] = { NULL, NULL, NULL, d };         /* secondary slave */
    assert_int_equal(ide_init(ide, &bus, disks, NULL, NULL), 0);
    io_out(&bus, 0x176, 1, 0xF0);
    io_out(&bus, 0x172, 1, 1);
    io_out(&bus, 0x173, 1, 200);
    io_out(&bus, 0x174, 1, 0);
    io_out(&bus, 0x175, 1, 0);
    io_out(&bus, 0x177, 1, 0x30);
    for (int i = 0; i < 256; i++)
        io_out(&bus, 0x170, 2, 0xABCD);
    assert_int_equal(io_in(&bus, 0x177, 1), DRDY | DSC);
    io_out(&bus, 0x173, 1, 199);
    io_out(&bus, 0x172, 1, 3);
    io_out(&bus, 0x177, 1, 0x20);
    for (uint32_t s = 199; s < 202; s++) {
        for (int i = 0; i < 256; i++)
            ((uint16_t *)back)[i] = (uint16_t)io_in(&bus, 0x170, 2);
        if (s == 199 || s == 201)
            check_sector(back, s);
        else
            assert_int_equal(back[0] | back[511] << 8, 0xABCD);
    }
    io_out(&bus, 0x177, 1, 0xE7);                            /* flush: still nothing on file */
    assert_int_equal(io_in(&bus, 0x177, 1), DRDY | DSC);
    disk_close(d);
    test_free(ide);
    assert_int_equal(pread(fd, back, 512, 200 * 512), 512);
    check_sector(back, 200);
    close(fd);
    /* without -snapshot the write reaches the file */
    d = disk_open_file(path, false, false, err, sizeof err);
    memset(sec, 0x77, sizeof sec);
    assert_int_equal(disk_write(d, 5, sec, 1), 0);
    assert_int_equal(disk_flush(d), 0);
    disk_close(d);
    fd = open(path, O_RDONLY);
    assert_int_equal(pread(fd, back, 512, 5 * 512), 512);
    assert_memory_equal(back, sec, 512);
    close(fd);
    unlink(path);
    assert_null(disk_open_file(path, false, false, err, sizeof err));
    assert_non_null(strstr(err, "Could not open"));
    assert_non_null(strstr(err, "No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(absent_drives_read_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(identify_device, setup, teardown),
        cmocka_unit_test_setup_teardown(read_sectors_lba, setup, teardown),
        cmocka_unit_test_setup_teardown(read_bulk_path, setup, teardown),
        cmocka_unit_test_setup_teardown(write_sectors, setup, teardown),
        cmocka_unit_test_setup_teardown(chs_addressing, setup, teardown),
        cmocka_unit_test_setup_teardown(multiple_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(errors, setup, teardown),
        cmocka_unit_test_setup_teardown(host_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(nien_and_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(soft_reset, setup, teardown),
        cmocka_unit_test(snapshot_keeps_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
