/* fw_cfg — QEMU's firmware configuration device on I/O ports: selector
 * 0x510 (16-bit write), data 0x511 (byte reads), DMA address 0x514/0x518
 * (big-endian halves; writing the low half starts the transfer). Kernels
 * written for QEMU read their RAM size and CPU count here.
 *
 * DMA reaches guest memory only through the mem callback the device is
 * given, which returns 0, or -1 for an address that is not RAM. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulator/hw/io.h"

typedef int (*fw_cfg_mem_fn)(void *opaque, uint64_t gpa, void *buf, size_t n, bool write);

#define FW_CFG_MAX_ITEMS 16
#define FW_CFG_MAX_FILES 8
#define FW_CFG_NAME_SIZE 56

enum {
    FW_CFG_SIGNATURE = 0x0000, FW_CFG_ID = 0x0001, FW_CFG_UUID = 0x0002,
    FW_CFG_RAM_SIZE = 0x0003, FW_CFG_NB_CPUS = 0x0005, FW_CFG_MAX_CPUS = 0x000F,
    FW_CFG_FILE_DIR = 0x0019, FW_CFG_FILE_FIRST = 0x0020,
};

struct fw_cfg_item {
    uint16_t key;
    const uint8_t *data;            /* not owned; lives as long as the device */
    uint32_t len;
};

struct fw_cfg {
    struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
    int nitems;
    const struct fw_cfg_item *cur;  /* selected item, NULL if none */
    uint32_t offset;                /* next byte of it */
    uint64_t dma_addr;
    fw_cfg_mem_fn mem; void *mem_opaque;
    /* Backing for the built-in items. */
    uint8_t signature[4], id[4], uuid[16], ram_size[8], nb_cpus[2], max_cpus[2];
    uint8_t dir[4 + 64 * FW_CFG_MAX_FILES];
    int nfiles;
    uint8_t e820[20];
};

int fw_cfg_init(struct fw_cfg *f, struct io_bus *bus, uint64_t ram_size, unsigned ncpus,
                fw_cfg_mem_fn mem, void *mem_opaque);
/* Add a named file (etc/...) to the directory; data must outlive f. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);
