/* dev_ide — ATA hard disks on the PIIX IDE legacy channels, PIO only.
 *
 * References: ATA/ATAPI-6 (T13/1410D) for the register protocol, the
 * command set and the IDENTIFY DEVICE words; QEMU's hw/ide for what a
 * guest on the `pc` machine sees where the standard leaves room.
 *
 * Command block (base + n)          Control block (ctl)
 *   0 data (16/32-bit)                read: alternate status (no IRQ ack)
 *   1 R error    / W features         write: device control
 *   2 sector count                          bit 1 nIEN, bit 2 SRST
 *   3 sector number (LBA 7:0)
 *   4 cylinder low  (LBA 15:8)
 *   5 cylinder high (LBA 23:16)
 *   6 device/head: bit 4 DEV, bit 6 LBA, bits 3-0 head (LBA 27:24)
 *   7 R status   / W command
 *
 * Commands complete synchronously: BSY is never seen by the guest (except
 * while SRST is held), data-in commands have the first block ready when
 * the command write returns. PIO protocol (ATA-6 §9.7, §9.8): data-in
 * raises INTRQ as each DRQ block becomes ready; data-out sets DRQ for the
 * first block without an interrupt and raises INTRQ after each block is
 * written (the last one included). Non-data commands raise INTRQ when done.
 *
 * A drive that is not attached is not there: as in QEMU, with no drive on
 * a channel every register reads 0 (the bus has pull-downs on a PIIX, so
 * status 0 = "not busy, not ready"), and a selected slave that does not
 * exist reads 0 too, so drivers probing for it see nothing and commands
 * sent to it are ignored. There is no 8-bit PIO: a byte read of the data
 * port gives 0 and moves nothing (QEMU's answer).
 *
 * Like QEMU, a command written while BSY or DRQ is set is ignored (ATA-6
 * §7.15 leaves it undefined); a driver that abandons a transfer resets the
 * channel with SRST. A transfer that runs past the last sector moves the
 * blocks before it and fails at the first block that does not fit (IDNF
 * with ABRT), as the standard has it and QEMU does. */
#include "emulator/hw/ide.h"

#include <stdio.h>
#include <string.h>

#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DSC  0x10
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80

#define ER_AMNF 0x01     /* after reset/diagnostics: 0x01 = "no error" code */
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC  0x40

#define DC_NIEN 0x02
#define DC_SRST 0x04

#define SEL_DEV 0x10
#define SEL_LBA 0x40

enum {
    CMD_RECALIBRATE = 0x10, CMD_READ = 0x20, CMD_READ_NORETRY = 0x21,
    CMD_WRITE = 0x30, CMD_WRITE_NORETRY = 0x31, CMD_VERIFY = 0x40, CMD_VERIFY_NORETRY = 0x41,
    CMD_SEEK = 0x70, CMD_DIAGNOSE = 0x90, CMD_INIT_PARAMS = 0x91,
    CMD_READ_MULTIPLE = 0xC4, CMD_WRITE_MULTIPLE = 0xC5, CMD_SET_MULTIPLE = 0xC6,
    CMD_STANDBY_NOW = 0xE0, CMD_IDLE_NOW = 0xE1, CMD_STANDBY = 0xE2, CMD_IDLE = 0xE3,
    CMD_CHECK_POWER = 0xE5, CMD_FLUSH = 0xE7, CMD_IDENTIFY = 0xEC, CMD_SET_FEATURES = 0xEF,
};

#define LBA28_MAX 0x0FFFFFFFu

/* ---- interrupts ---------------------------------------------------------- */

static void irq_update(struct ide_channel *ch)
{
    int level = ch->irq_pending && !(ch->control & DC_NIEN);
    if (level != ch->irq_level) {
        ch->irq_level = level;
        if (ch->irq)
            ch->irq(ch->irq_opaque, ch->irq_line, level);
    }
}

static void irq_raise(struct ide_channel *ch)
{
    ch->irq_pending = true;
    irq_update(ch);
}

static void irq_ack(struct ide_channel *ch)
{
    ch->irq_pending = false;
    irq_update(ch);
}

/* ---- drive state ----------------------------------------------------------- */

static struct ide_drive *selected(struct ide_channel *ch)
{
    return &ch->drive[(ch->select & SEL_DEV) ? 1 : 0];
}

/* QEMU's rule for reads of the command block: nothing on the channel, or
 * the slave selected and absent, reads 0. */
static bool reads_zero(struct ide_channel *ch)
{
    if (!ch->drive[0].disk && !ch->drive[1].disk)
        return true;
    return (ch->select & SEL_DEV) && !ch->drive[1].disk;
}

/* ATA's signature for a non-packet device (ATA-6 §9.12). */
static void set_signature(struct ide_channel *ch)
{
    ch->nsector = 1;
    ch->sector = 1;
    ch->lcyl = 0;
    ch->hcyl = 0;
}

static void end_transfer(struct ide_channel *ch)
{
    ch->cmd = 0;
    ch->buf_pos = ch->buf_len = 0;
    ch->remaining = 0;
}

static void complete(struct ide_channel *ch, struct ide_drive *d)
{
    d->status = ST_DRDY | ST_DSC;
    d->error = 0;
    irq_raise(ch);
}

static void fail(struct ide_channel *ch, struct ide_drive *d, uint8_t error)
{
    end_transfer(ch);
    d->status = ST_DRDY | ST_ERR;
    d->error = error;
    irq_raise(ch);
}

/* The geometry QEMU gives an unpartitioned disk: 16 heads, 63 sectors per
 * track, as many cylinders as fit (2..16383). */
static void drive_attach(struct ide_drive *d, struct disk *disk, int index)
{
    uint64_t n = disk ? disk->size / DISK_SECTOR : 0;
    *d = (struct ide_drive){ .disk = disk, .index = index, .write_cache = true,
                             .look_ahead = true };
    d->sectors = n > LBA28_MAX ? LBA28_MAX : (uint32_t)n;
    uint64_t cyls = n / (16 * 63);
    d->cyls = cyls > 16383 ? 16383 : cyls < 2 ? 2 : (uint16_t)cyls;
    d->heads = d->cur_heads = 16;
    d->spt = d->cur_spt = 63;
    d->status = ST_DRDY | ST_DSC;
    d->error = ER_AMNF;
}

/* ---- IDENTIFY DEVICE (ATA-6 §8.15, table 27) ------------------------------- */

/* ATA strings: two characters per word, the first in the high byte, padded
 * with spaces. */
static void put_string(uint16_t *w, int words, const char *s)
{
    size_t len = strlen(s);
    for (int i = 0; i < 2 * words; i++) {
        uint8_t c = (size_t)i < len ? (uint8_t)s[i] : ' ';
        if (i & 1)
            w[i / 2] |= c;
        else
            w[i / 2] = (uint16_t)(c << 8);
    }
}

static uint32_t chs_capacity(const struct ide_drive *d)
{
    uint32_t track = (uint32_t)d->cur_heads * d->cur_spt;
    uint32_t cyls = track ? d->sectors / track : 0;
    if (cyls > 65535)
        cyls = 65535;
    return cyls * track;
}

static void identify(const struct ide_drive *d, uint16_t w[256])
{
    char serial[21];
    memset(w, 0, 512);
    w[0] = 0x0040;                               /* fixed device, not removable */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[4] = (uint16_t)(DISK_SECTOR * d->spt);     /* obsolete, as QEMU fills them */
    w[5] = DISK_SECTOR;
    w[6] = d->spt;
    snprintf(serial, sizeof serial, "BT86-%04d", d->index + 1);
    put_string(&w[10], 10, serial);              /* 10-19 serial number */
    w[20] = 3;                                   /* buffer type: dual ported, cache */
    w[21] = 512;                                 /* buffer size in sectors */
    put_string(&w[23], 4, "0.1");                /* 23-26 firmware revision */
    put_string(&w[27], 20, "BT86 HARDDISK");     /* 27-46 model number */
    w[47] = 0x8000 | IDE_MAX_MULT;               /* READ/WRITE MULTIPLE: max sectors */
    w[48] = 1;                                   /* 32-bit PIO (QEMU's, pre-ATA-3 meaning) */
    w[49] = (1u << 11) | (1u << 9);              /* IORDY supported, LBA supported; no DMA */
    w[51] = 0x200;                               /* PIO timing mode 2 (obsolete) */
    w[53] = 0x0003;                              /* words 54-58 and 64-70 are valid */
    uint32_t cap = chs_capacity(d);
    uint32_t track = (uint32_t)d->cur_heads * d->cur_spt;
    w[54] = (uint16_t)(track ? cap / track : 0);
    w[55] = d->cur_heads;
    w[56] = d->cur_spt;
    w[57] = (uint16_t)cap;
    w[58] = (uint16_t)(cap >> 16);
    if (d->mult)
        w[59] = 0x100 | d->mult;                 /* multiple-sector setting valid */
    w[60] = (uint16_t)d->sectors;                /* 60-61 LBA28 sectors */
    w[61] = (uint16_t)(d->sectors >> 16);
    w[64] = 0x0003;                              /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;         /* cycle times, ns */
    w[80] = 0x007E;                              /* ATA-1 .. ATA-6 */
    w[81] = 0x0019;                              /* ATA/ATAPI-6 T13 1410D revision 3a */
    w[82] = (1u << 6) | (1u << 5);               /* look-ahead, write cache */
    w[83] = (1u << 14) | (1u << 12);             /* FLUSH CACHE; no 48-bit addressing */
    w[84] = 1u << 14;
    w[85] = (d->look_ahead ? 1u << 6 : 0) | (d->write_cache ? 1u << 5 : 0);
    w[86] = 1u << 12;
    w[87] = 1u << 14;
    w[93] = (1u << 14) | (1u << 13) | 1;         /* reset result, as QEMU's master */
    /* Word 255: signature A5h and a checksum making all 512 bytes sum to 0. */
    w[255] = 0xA5;
    uint8_t sum = 0;
    const uint8_t *b = (const uint8_t *)w;
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + b[i]);
    w[255] |= (uint16_t)((uint8_t)-sum << 8);
}

/* ---- addressing ------------------------------------------------------------ */

/* The starting sector of a command, from LBA28 or CHS (ATA-6 §6.2); false
 * if the CHS address is outside the current translation. */
static bool start_sector(struct ide_channel *ch, const struct ide_drive *d, uint32_t *lba)
{
    if (ch->select & SEL_LBA) {
        *lba = (uint32_t)(ch->select & 0x0F) << 24 | (uint32_t)ch->hcyl << 16 |
               (uint32_t)ch->lcyl << 8 | ch->sector;
        return true;
    }
    uint32_t cyl = (uint32_t)ch->hcyl << 8 | ch->lcyl, head = ch->select & 0x0F;
    if (ch->sector == 0 || ch->sector > d->cur_spt || head >= d->cur_heads)
        return false;
    *lba = (cyl * d->cur_heads + head) * d->cur_spt + ch->sector - 1;
    return true;
}

/* The command block after a transfer stops at sector lba (QEMU's
 * convention: the address of the next sector, the count still to go). */
static void set_sector(struct ide_channel *ch, const struct ide_drive *d, uint32_t lba)
{
    if (ch->select & SEL_LBA) {
        ch->sector = (uint8_t)lba;
        ch->lcyl = (uint8_t)(lba >> 8);
        ch->hcyl = (uint8_t)(lba >> 16);
        ch->select = (uint8_t)((ch->select & 0xF0) | (lba >> 24 & 0x0F));
    } else if (d->cur_heads && d->cur_spt) {
        uint32_t track = lba / d->cur_spt;
        uint32_t cyl = track / d->cur_heads;
        ch->sector = (uint8_t)(lba % d->cur_spt + 1);
        ch->lcyl = (uint8_t)cyl;
        ch->hcyl = (uint8_t)(cyl >> 8);
        ch->select = (uint8_t)((ch->select & 0xF0) | (track % d->cur_heads));
    }
    ch->nsector = (uint8_t)ch->remaining;
}

/* ---- PIO transfers ----------------------------------------------------------- */

static bool block_fits(const struct ide_drive *d, uint32_t lba, uint32_t n)
{
    return lba < d->sectors && n <= d->sectors - lba;
}

static void load_read_block(struct ide_channel *ch, struct ide_drive *d)
{
    uint32_t n = ch->remaining < ch->block ? ch->remaining : ch->block;
    if (!block_fits(d, ch->lba, n)) {
        set_sector(ch, d, ch->lba);
        fail(ch, d, ER_IDNF | ER_ABRT);
        return;
    }
    if (disk_read(d->disk, ch->lba, ch->buf, n) < 0) {
        set_sector(ch, d, ch->lba);
        fail(ch, d, ER_UNC);                     /* host read error: uncorrectable */
        return;
    }
    ch->buf_pos = 0;
    ch->buf_len = n * DISK_SECTOR;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    irq_raise(ch);
}

static void start_write_block(struct ide_channel *ch, struct ide_drive *d)
{
    uint32_t n = ch->remaining < ch->block ? ch->remaining : ch->block;
    ch->buf_pos = 0;
    ch->buf_len = n * DISK_SECTOR;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* The guest has read or written the whole DRQ block. */
static void block_done(struct ide_channel *ch)
{
    struct ide_drive *d = selected(ch);
    uint32_t n = ch->buf_len / DISK_SECTOR;

    if (ch->cmd == CMD_IDENTIFY) {
        end_transfer(ch);
        d->status = ST_DRDY | ST_DSC;
        return;
    }
    if (ch->writing && !block_fits(d, ch->lba, n)) {
        set_sector(ch, d, ch->lba);
        fail(ch, d, ER_IDNF | ER_ABRT);
        return;
    }
    if (ch->writing && disk_write(d->disk, ch->lba, ch->buf, n) < 0) {
        set_sector(ch, d, ch->lba);
        fail(ch, d, ER_ABRT);                    /* host write error */
        return;
    }
    ch->remaining -= n;
    ch->lba += n;
    set_sector(ch, d, ch->lba);
    if (ch->remaining == 0) {
        bool wrote = ch->writing;
        end_transfer(ch);
        d->status = ST_DRDY | ST_DSC;
        if (wrote)
            irq_raise(ch);                       /* data-out: INTRQ after the last block */
        return;
    }
    if (ch->writing) {
        start_write_block(ch, d);
        irq_raise(ch);
    } else {
        load_read_block(ch, d);
    }
}

static void start_transfer(struct ide_channel *ch, struct ide_drive *d, uint8_t cmd,
                           bool writing, uint32_t block)
{
    uint32_t lba, count = ch->nsector ? ch->nsector : 256;
    if (!start_sector(ch, d, &lba)) {
        fail(ch, d, ER_IDNF | ER_ABRT);          /* no such CHS address */
        return;
    }
    ch->cmd = cmd;
    ch->writing = writing;
    ch->remaining = count;
    ch->block = block;
    ch->lba = lba;
    if (writing)
        start_write_block(ch, d);
    else
        load_read_block(ch, d);
}

/* ---- commands ---------------------------------------------------------------- */

static void set_features(struct ide_channel *ch, struct ide_drive *d)
{
    switch (ch->feature) {
    case 0x02: d->write_cache = true; break;
    case 0x82: d->write_cache = false; break;
    case 0xAA: d->look_ahead = true; break;
    case 0x55: d->look_ahead = false; break;
    case 0x66: case 0xCC: break;                 /* keep / revert to power-on defaults */
    case 0x03:                                   /* set transfer mode: PIO only */
        if (ch->nsector <= 0x01 || (ch->nsector >= 0x08 && ch->nsector <= 0x0C))
            break;
        fail(ch, d, ER_ABRT);                    /* a DMA mode: there is no DMA */
        return;
    default:
        fail(ch, d, ER_ABRT);
        return;
    }
    complete(ch, d);
}

static void execute_diagnostic(struct ide_channel *ch)
{
    for (int i = 0; i < 2; i++) {
        ch->drive[i].status = ST_DRDY | ST_DSC;
        ch->drive[i].error = ER_AMNF;            /* 01h: device 0 passed, device 1 passed or absent */
    }
    set_signature(ch);
    ch->select &= (uint8_t)~SEL_DEV;
    irq_raise(ch);
}

static void command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = selected(ch);
    uint32_t lba;

    if (!d->disk || (ch->control & DC_SRST) || (d->status & (ST_BSY | ST_DRQ)))
        return;                                  /* nobody there, or busy: ignored */
    irq_ack(ch);
    end_transfer(ch);
    switch (cmd) {
    case CMD_IDENTIFY:
        identify(d, (uint16_t *)ch->buf);
        ch->cmd = cmd;
        ch->writing = false;
        ch->remaining = 1;
        ch->block = 1;
        ch->buf_pos = 0;
        ch->buf_len = DISK_SECTOR;
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        irq_raise(ch);
        return;
    case CMD_READ: case CMD_READ_NORETRY:
        start_transfer(ch, d, cmd, false, 1);
        return;
    case CMD_WRITE: case CMD_WRITE_NORETRY:
        start_transfer(ch, d, cmd, true, 1);
        return;
    case CMD_READ_MULTIPLE: case CMD_WRITE_MULTIPLE:
        if (!d->mult) {
            fail(ch, d, ER_ABRT);                /* multiple mode not enabled */
            return;
        }
        start_transfer(ch, d, cmd, cmd == CMD_WRITE_MULTIPLE, d->mult);
        return;
    case CMD_SET_MULTIPLE:
        /* A power of two up to the maximum; 0 disables (as QEMU). */
        if (ch->nsector > IDE_MAX_MULT || (ch->nsector & (ch->nsector - 1))) {
            fail(ch, d, ER_ABRT);
            return;
        }
        d->mult = ch->nsector;
        complete(ch, d);
        return;
    case CMD_VERIFY: case CMD_VERIFY_NORETRY: {
        uint32_t count = ch->nsector ? ch->nsector : 256;
        if (!start_sector(ch, d, &lba) || lba >= d->sectors || count > d->sectors - lba) {
            fail(ch, d, ER_IDNF | ER_ABRT);
            return;
        }
        ch->remaining = 0;
        set_sector(ch, d, lba + count);
        complete(ch, d);
        return;
    }
    case CMD_INIT_PARAMS:
        if (ch->nsector == 0) {
            fail(ch, d, ER_ABRT);
            return;
        }
        d->cur_spt = ch->nsector;
        d->cur_heads = (uint16_t)((ch->select & 0x0F) + 1);
        complete(ch, d);
        return;
    case CMD_SET_FEATURES:
        set_features(ch, d);
        return;
    case CMD_FLUSH:
        if (disk_flush(d->disk) < 0) {
            fail(ch, d, ER_ABRT);
            return;
        }
        complete(ch, d);
        return;
    case CMD_DIAGNOSE:
        execute_diagnostic(ch);
        return;
    case CMD_CHECK_POWER:
        ch->nsector = 0xFF;                      /* active or idle */
        complete(ch, d);
        return;
    case CMD_STANDBY_NOW: case CMD_IDLE_NOW: case CMD_STANDBY: case CMD_IDLE:
    case CMD_SEEK:
        complete(ch, d);
        return;
    default:
        if ((cmd & 0xF0) == CMD_RECALIBRATE) {   /* 10h-1Fh, obsolete but harmless */
            complete(ch, d);
            return;
        }
        fail(ch, d, ER_ABRT);                    /* ATAPI, 48-bit, DMA, unknown */
        return;
    }
}

/* SRST (ATA-6 §9.2): while the bit is set both devices are busy and any
 * transfer is abandoned; when it clears they come back ready with the
 * diagnostic code in the error register and their signature, device 0
 * selected. Multiple mode and the CHS translation are kept. */
static void device_control(struct ide_channel *ch, uint8_t val)
{
    bool was_reset = ch->control & DC_SRST;
    ch->control = val;
    if (val & DC_SRST) {
        if (!was_reset) {
            end_transfer(ch);
            ch->irq_pending = false;
            for (int i = 0; i < 2; i++)
                ch->drive[i].status = ST_BSY;
        }
    } else if (was_reset) {
        for (int i = 0; i < 2; i++) {
            ch->drive[i].status = ST_DRDY | ST_DSC;
            ch->drive[i].error = ER_AMNF;
        }
        set_signature(ch);
        ch->select = 0xA0;
    }
    irq_update(ch);
}

/* ---- data port --------------------------------------------------------------- */

static bool data_ready(struct ide_channel *ch, bool write)
{
    struct ide_drive *d = selected(ch);
    return d->disk && (d->status & ST_DRQ) && ch->writing == write && ch->buf_pos < ch->buf_len;
}

static uint32_t data_read(struct ide_channel *ch, int size)
{
    uint32_t val = 0;
    if (!data_ready(ch, false))
        return 0;                                /* no transfer: nothing on the bus */
    uint32_t n = ch->buf_len - ch->buf_pos < (uint32_t)size ? ch->buf_len - ch->buf_pos
                                                             : (uint32_t)size;
    memcpy(&val, ch->buf + ch->buf_pos, n);
    ch->buf_pos += n;
    if (ch->buf_pos == ch->buf_len)
        block_done(ch);
    return val;
}

static void data_write(struct ide_channel *ch, int size, uint32_t val)
{
    if (!data_ready(ch, true))
        return;
    uint32_t n = ch->buf_len - ch->buf_pos < (uint32_t)size ? ch->buf_len - ch->buf_pos
                                                             : (uint32_t)size;
    memcpy(ch->buf + ch->buf_pos, &val, n);
    ch->buf_pos += n;
    if (ch->buf_pos == ch->buf_len)
        block_done(ch);
}

/* REP INSW/INSD and OUTSW/OUTSD: whole elements straight between the
 * guest's buffer and the sector buffer, across DRQ blocks, until the
 * transfer ends or the guest's count runs out. */
static size_t data_block(struct ide_channel *ch, uint16_t port, int size, uint8_t *in,
                         const uint8_t *out, size_t count)
{
    size_t done = 0, elem = (size_t)size;
    if (size < 2 || (port & 7) != 0)
        return 0;
    while (done < count && data_ready(ch, out != NULL)) {
        size_t avail = (ch->buf_len - ch->buf_pos) / elem, n = count - done;
        if (avail == 0)
            break;                               /* a partial element: the slow path */
        if (n > avail)
            n = avail;
        if (out)
            memcpy(ch->buf + ch->buf_pos, out + done * elem, n * elem);
        else
            memcpy(in + done * elem, ch->buf + ch->buf_pos, n * elem);
        ch->buf_pos += (uint32_t)(n * elem);
        done += n;
        if (ch->buf_pos == ch->buf_len)
            block_done(ch);
    }
    return done;
}

static size_t data_in_block(void *dev, uint16_t port, int size, void *buf, size_t count)
{
    return data_block(dev, port, size, buf, NULL, count);
}

static size_t data_out_block(void *dev, uint16_t port, int size, const void *buf, size_t count)
{
    return data_block(dev, port, size, NULL, buf, count);
}

/* ---- port handlers ------------------------------------------------------------ */

static uint32_t cmd_read(void *dev, uint16_t port, int size)
{
    struct ide_channel *ch = dev;
    unsigned reg = port & 7;
    if (reg == 0)
        return size == 1 ? 0 : data_read(ch, size);
    if (reg == 6)
        return (!ch->drive[0].disk && !ch->drive[1].disk) ? 0 : ch->select;
    if (reads_zero(ch)) {
        if (reg == 7)
            irq_ack(ch);
        return 0;
    }
    struct ide_drive *d = selected(ch);
    switch (reg) {
    case 1: return d->error;
    case 2: return ch->nsector;
    case 3: return ch->sector;
    case 4: return ch->lcyl;
    case 5: return ch->hcyl;
    default:
        irq_ack(ch);                             /* reading status acknowledges INTRQ */
        return d->status;
    }
}

static void cmd_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct ide_channel *ch = dev;
    uint8_t b = (uint8_t)val;
    switch (port & 7) {
    case 0:
        if (size > 1)
            data_write(ch, size, val);
        return;
    case 1: ch->feature = b; return;
    case 2: ch->nsector = b; return;
    case 3: ch->sector = b; return;
    case 4: ch->lcyl = b; return;
    case 5: ch->hcyl = b; return;
    case 6: ch->select = b | 0xA0; return;      /* bits 7 and 5 are obsolete ones */
    default: command(ch, b); return;
    }
}

static uint32_t ctl_read(void *dev, uint16_t port, int size)
{
    struct ide_channel *ch = dev;
    return reads_zero(ch) ? 0 : selected(ch)->status;
}

static void ctl_write(void *dev, uint16_t port, int size, uint32_t val)
{
    device_control(dev, (uint8_t)val);
}

static int channel_init(struct ide_channel *ch, struct io_bus *bus, uint16_t base, uint16_t ctl,
                        struct disk *master, struct disk *slave, int first, irq_fn irq,
                        void *irq_opaque, int line)
{
    memset(ch, 0, sizeof *ch);
    drive_attach(&ch->drive[0], master, first);
    drive_attach(&ch->drive[1], slave, first + 1);
    set_signature(ch);
    ch->select = 0xA0;
    ch->irq = irq;
    ch->irq_opaque = irq_opaque;
    ch->irq_line = line;
    if (io_register(bus, base, 8, ch, cmd_read, cmd_write) < 0 ||
        io_register(bus, ctl, 1, ch, ctl_read, ctl_write) < 0)
        return -1;
    return io_set_block(bus, base, data_in_block, data_out_block);
}

int ide_init(struct ide *ide, struct io_bus *bus, struct disk *const disks[4], irq_fn irq,
             void *irq_opaque)
{
    struct disk *const none[4] = { 0 };
    if (!disks)
        disks = none;
    if (channel_init(&ide->ch[0], bus, 0x1F0, 0x3F6, disks[0], disks[1], 0, irq, irq_opaque, 14) < 0)
        return -1;
    return channel_init(&ide->ch[1], bus, 0x170, 0x376, disks[2], disks[3], 2, irq, irq_opaque, 15);
}
