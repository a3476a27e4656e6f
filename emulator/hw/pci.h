/* pci — PCI configuration mechanism #1 (0xCF8/0xCFC) with bus 0 of QEMU's
 * `pc` machine: the i440FX host bridge (00:00.0), the PIIX3 ISA bridge
 * (00:01.0) and the PIIX3 IDE function in legacy mode (00:01.1), and
 * functions added for -device (pci-testdev). A function with BAR handlers
 * has its BARs decoded: whenever the guest moves a BAR or flips the
 * command register's I/O or memory enable, the bus tells its mapper, which
 * puts the range on the I/O-port bus or in device memory. Port 0xCF9 is
 * the PIIX3 reset control register. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/hw/io.h"

#define PCI_MAX_FUNCTIONS 8

/* What a function looks like at power-on. bar_size[i] = 0: BAR i does
 * not exist (reads 0, ignores writes); else a power of two, I/O space if
 * bar_io[i]. */
struct pci_function_info {
    uint8_t devfn;                  /* device << 3 | function, on bus 0 */
    uint16_t vendor, device;
    uint8_t revision, prog_if, subclass, class_code;
    uint8_t header_type;            /* bit 7: multi-function device */
    uint16_t command;               /* as firmware leaves it */
    uint32_t bar_size[6];
    bool bar_io[6];
    uint32_t bar_addr[6];           /* where firmware placed it (0: nowhere) */
    /* Accesses to a decoded BAR: off is from the BAR's start, size 1, 2
     * or 4. NULL: the BARs are configuration space only. */
    uint32_t (*bar_read)(void *dev, int bar, uint32_t off, unsigned size);
    void (*bar_write)(void *dev, int bar, uint32_t off, unsigned size, uint32_t val);
    void *dev;
};

struct pci_function;

/* One decoded BAR, as the mapper sees it: mapped at addr while mapped. */
struct pci_bar {
    struct pci_function *fn;
    int index;
    bool io, mapped;
    uint32_t addr, size;
};

struct pci_function {
    uint8_t devfn;
    uint8_t cfg[256];
    uint8_t wmask[256];             /* bits the guest may change */
    struct pci_bar bar[6];
    uint32_t (*bar_read)(void *dev, int bar, uint32_t off, unsigned size);
    void (*bar_write)(void *dev, int bar, uint32_t off, unsigned size, uint32_t val);
    void *dev;
};

/* Called when a BAR leaves its place (map false: b->addr is the old
 * place) or takes a new one (map true: b->addr is the new place). Returns
 * -1 if the range cannot be decoded there (it then stays unmapped). */
typedef int (*pci_bar_mapper)(void *opaque, struct pci_bar *b, bool map);

struct pci_bus {
    uint32_t address;               /* CONFIG_ADDRESS */
    uint8_t rcr;                    /* reset control register, 0xCF9 */
    struct pci_function fn[PCI_MAX_FUNCTIONS];
    int nfn;
    void (*on_reset)(void *opaque); void *reset_opaque;
    pci_bar_mapper map; void *map_opaque;
};

/* Registers the ports and QEMU pc's functions. */
int pci_init(struct pci_bus *p, struct io_bus *io, void (*on_reset)(void *opaque),
             void *reset_opaque);
/* Another function (tests, later devices); NULL if the bus is full or the
 * slot taken. */
struct pci_function *pci_add_function(struct pci_bus *p, const struct pci_function_info *info);

/* Who places decoded BARs (the board); set before the first function
 * with BAR handlers is added, which is mapped at once where its info says. */
void pci_set_mapper(struct pci_bus *p, pci_bar_mapper map, void *opaque);
/* Map every decoded BAR as the configuration space now says (after the
 * configuration bytes were restored from elsewhere). */
void pci_update_mappings(struct pci_bus *p);
/* The mapper's handlers: dev is the struct pci_bar; I/O ports are
 * absolute, memory offsets are from the BAR's start. */
uint32_t pci_bar_io_read(void *bar, uint16_t port, int size);
void pci_bar_io_write(void *bar, uint16_t port, int size, uint32_t val);
uint32_t pci_bar_mem_read(void *bar, uint32_t off, unsigned size);
void pci_bar_mem_write(void *bar, uint32_t off, unsigned size, uint32_t val);
