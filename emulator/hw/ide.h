/* ide — the PIIX IDE controller's two legacy channels, PIO only: primary
 * 0x1F0-0x1F7 / 0x3F6, IRQ 14; secondary 0x170-0x177 / 0x376, IRQ 15; a
 * master and a slave drive on each. Drives are ATA hard disks over struct
 * disk (disk.h). The IRQ output follows ATA's INTRQ: asserted while an
 * interrupt is pending and nIEN is clear, dropped by a read of the status
 * register (not the alternate status) or a new command. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/hw/devices.h"
#include "emulator/hw/disk.h"

#define IDE_MAX_MULT 16         /* sectors per DRQ block in READ/WRITE MULTIPLE */

struct ide_drive {
    struct disk *disk;          /* NULL: nothing attached */
    uint32_t sectors;           /* LBA28-addressable sectors */
    uint16_t cyls, heads, spt;  /* default CHS geometry (IDENTIFY words 1, 3, 6) */
    uint16_t cur_heads, cur_spt;/* INITIALIZE DEVICE PARAMETERS */
    uint8_t mult;               /* SET MULTIPLE MODE block size, 0 = disabled */
    uint8_t status, error;
    bool write_cache, look_ahead;
    int index;                  /* 0..3, for the serial number */
};

struct ide_channel {
    struct ide_drive drive[2];
    /* The command block registers; ATA writes them to both devices, so one
     * copy serves both here. */
    uint8_t feature, nsector, sector, lcyl, hcyl, select;
    uint8_t control;            /* device control: nIEN, SRST */
    /* The PIO transfer in progress (DRQ set while buf_pos < buf_len). */
    uint8_t cmd;
    bool writing;
    uint32_t remaining;         /* sectors left, counting those in buf */
    uint32_t block;             /* sectors per DRQ block */
    uint32_t lba;               /* first sector of the block in buf */
    uint32_t buf_pos, buf_len;
    uint8_t buf[IDE_MAX_MULT * DISK_SECTOR];
    bool irq_pending;
    int irq_level;
    irq_fn irq; void *irq_opaque; int irq_line;
};

struct ide {
    struct ide_channel ch[2];
};

/* disks[0..3]: primary master, primary slave, secondary master, secondary
 * slave (QEMU's -drive index); NULL entries are absent drives. The disks
 * stay the caller's. Registers both channels' ports. */
int ide_init(struct ide *ide, struct io_bus *bus, struct disk *const disks[4], irq_fn irq,
             void *irq_opaque);
