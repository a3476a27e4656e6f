/* dev_pic — two cascaded 8259A programmable interrupt controllers
 * (Intel 8259A datasheet), as wired in a PC: the slave's INT drives the
 * master's IR2, and the ELCR (PIIX, ports 0x4D0/0x4D1) picks edge or level
 * triggering per line.
 *
 * Priority: with rotation offset priority_add, line (priority_add + k) & 7
 * has priority k, 0 being the highest. A request is passed to the CPU only
 * if it is unmasked and of higher priority than everything in service; in
 * special fully nested mode the master lets the slave's line through while
 * it is in service, so the slave can nest its own priorities; in special
 * mask mode, masked lines do not block lower-priority ones.
 *
 * Port A0=0 (0x20/0xA0): ICW1 (bit 4), OCW3 (bit 3), else OCW2.
 * Port A0=1 (0x21/0xA1): ICW2..ICW4 during initialisation, else OCW1 (IMR). */
#include "emulator/hw/devices.h"

#define MASTER 0
#define SLAVE  1
#define CASCADE_IRQ 2

#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define ICW1       0x10
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define OCW3       0x08
#define OCW3_RIS   0x01
#define OCW3_RR    0x02
#define OCW3_POLL  0x04
#define OCW3_SMM   0x20
#define OCW3_ESMM  0x40

/* OCW2 commands: bits 7-5 (R, SL, EOI). */
enum {
    OCW2_ROTATE_AEOI_CLEAR = 0, OCW2_EOI = 1, OCW2_NOP = 2, OCW2_SPECIFIC_EOI = 3,
    OCW2_ROTATE_AEOI_SET = 4, OCW2_ROTATE_EOI = 5, OCW2_SET_PRIORITY = 6,
    OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* Priority (0 highest) of the best line in mask, or 8 if mask is empty. */
static int best_priority(const struct pic_chip *c, uint8_t mask)
{
    if (mask == 0)
        return 8;
    int prio = 0;
    while (!(mask & (1 << ((prio + c->priority_add) & 7))))
        prio++;
    return prio;
}

/* The line this chip would interrupt with, or -1. */
static int chip_pending(const struct pic_chip *c)
{
    int prio = best_priority(c, c->irr & ~c->imr);
    if (prio == 8)
        return -1;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr;
    if (c->special_fully_nested && c->is_master)
        in_service &= ~(1 << CASCADE_IRQ);
    if (prio < best_priority(c, in_service))
        return (prio + c->priority_add) & 7;
    return -1;
}

static bool level_triggered(const struct pic_chip *c, uint8_t bit)
{
    return c->ltim || (c->elcr & bit);
}

static void chip_set_line(struct pic_chip *c, int line, int level)
{
    uint8_t bit = 1 << line;
    if (level_triggered(c, bit)) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit;
    }
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
}

/* Propagate: slave INT → master IR2, master INT → the CPU. */
static void pic_update(struct pic *p)
{
    chip_set_line(&p->chip[MASTER], CASCADE_IRQ, chip_pending(&p->chip[SLAVE]) >= 0);
    int level = chip_pending(&p->chip[MASTER]) >= 0;
    if (level != p->intr_level) {
        p->intr_level = level;
        if (p->intr)
            p->intr(p->intr_opaque, 0, level);
    }
}

/* The INTA pulses: the request moves from IRR to ISR (not in auto-EOI
 * mode). A level-triggered request stays in IRR while its line is high. */
static void chip_ack(struct pic_chip *c, int line)
{
    uint8_t bit = 1 << line;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->priority_add = (line + 1) & 7;
    } else {
        c->isr |= bit;
    }
    if (!level_triggered(c, bit))
        c->irr &= ~bit;
}

/* ICW1 (datasheet "Initialization Command Words"): clears IMR and ISR, makes
 * IR7 lowest priority, clears special mask mode, selects IRR for reading
 * and, without IC4, all ICW4 functions. The edge detectors are reset, so a
 * line already high must go low and high again to be seen. */
static void chip_icw1(struct pic_chip *c, uint8_t v)
{
    c->irr &= c->elcr;
    c->lines &= c->elcr;
    c->isr = c->imr = 0;
    c->priority_add = 0;
    c->vector_base = 0;
    c->special_mask = c->special_fully_nested = false;
    c->auto_eoi = c->rotate_on_aeoi = false;
    c->read_isr = c->poll = false;
    c->icw4 = v & ICW1_IC4;
    c->single = v & ICW1_SNGL;
    c->ltim = v & ICW1_LTIM;
    c->init_step = 2;
}

static void chip_ocw2(struct pic_chip *c, uint8_t v)
{
    int cmd = v >> 5, line = v & 7;
    switch (cmd) {
    case OCW2_ROTATE_AEOI_CLEAR:
    case OCW2_ROTATE_AEOI_SET:
        c->rotate_on_aeoi = cmd == OCW2_ROTATE_AEOI_SET;
        break;
    case OCW2_EOI:
    case OCW2_ROTATE_EOI: {
        /* Non-specific EOI: the highest-priority level in service. */
        int prio = best_priority(c, c->isr);
        if (prio == 8)
            break;
        line = (prio + c->priority_add) & 7;
        c->isr &= ~(1 << line);
        if (cmd == OCW2_ROTATE_EOI)
            c->priority_add = (line + 1) & 7;
        break;
    }
    case OCW2_SPECIFIC_EOI:
        c->isr &= ~(1 << line);
        break;
    case OCW2_SET_PRIORITY:
        c->priority_add = (line + 1) & 7;
        break;
    case OCW2_ROTATE_SPECIFIC_EOI:
        c->isr &= ~(1 << line);
        c->priority_add = (line + 1) & 7;
        break;
    case OCW2_NOP:
        break;
    }
}

static void chip_ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & OCW3_POLL)
        c->poll = true;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    if (v & OCW3_ESMM)
        c->special_mask = v & OCW3_SMM;
}

static void chip_data_write(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 0:
        c->imr = v;
        break;
    case 2:
        c->vector_base = v & 0xF8;
        c->init_step = !c->single ? 3 : c->icw4 ? 4 : 0;
        break;
    case 3:
        /* ICW3: the cascade wiring is fixed (slave on IR2, ID 2). */
        c->init_step = c->icw4 ? 4 : 0;
        break;
    case 4:
        c->special_fully_nested = v & ICW4_SFNM;
        c->auto_eoi = v & ICW4_AEOI;
        c->init_step = 0;
        break;
    }
}

static int chip_index(uint16_t port)
{
    return port >= 0xA0 && port <= 0xA1 ? SLAVE : MASTER;
}

/* Poll command: the next read is an INTA of its own, giving 0x80 | line, or
 * 0 with nothing pending. */
static uint8_t pic_poll(struct pic *p, int which)
{
    struct pic_chip *c = &p->chip[which];
    c->poll = false;
    int line = chip_pending(c);
    if (line < 0)
        return 0;
    chip_ack(c, line);
    pic_update(p);
    return 0x80 | line;
}

static uint32_t pic_read(void *dev, uint16_t port, int size)
{
    struct pic *p = dev;
    int which = chip_index(port);
    struct pic_chip *c = &p->chip[which];
    if (c->poll)
        return pic_poll(p, which);
    if (port & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pic *p = dev;
    struct pic_chip *c = &p->chip[chip_index(port)];
    uint8_t v = (uint8_t)val;
    if (port & 1)
        chip_data_write(c, v);
    else if (v & ICW1)
        chip_icw1(c, v);
    else if (v & OCW3)
        chip_ocw3(c, v);
    else
        chip_ocw2(c, v);
    pic_update(p);
}

static uint32_t elcr_read(void *dev, uint16_t port, int size)
{
    struct pic *p = dev;
    return p->chip[port & 1].elcr;
}

static void elcr_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct pic *p = dev;
    struct pic_chip *c = &p->chip[port & 1];
    c->elcr = (uint8_t)val & c->elcr_mask;
    pic_update(p);
}

int pic_init(struct pic *p, struct io_bus *bus, irq_fn intr, void *opaque)
{
    *p = (struct pic){ .intr = intr, .intr_opaque = opaque };
    /* IRQ 0, 1, 2, 8 and 13 are edge-only on the PIIX ELCR. */
    p->chip[MASTER] = (struct pic_chip){ .is_master = true, .elcr_mask = 0xF8 };
    p->chip[SLAVE] = (struct pic_chip){ .elcr_mask = 0xDE };
    if (io_register(bus, 0x20, 2, p, pic_read, pic_write) < 0 ||
        io_register(bus, 0xA0, 2, p, pic_read, pic_write) < 0)
        return -1;
    return io_register(bus, 0x4D0, 2, p, elcr_read, elcr_write);
}

void pic_set_irq(struct pic *p, int irq, int level)
{
    if (irq < 0 || irq > 15)
        return;
    if (irq == CASCADE_IRQ)
        irq = 9;            /* the AT bus routes its IRQ 2 pin to the slave's IR1 */
    chip_set_line(&p->chip[irq >> 3], irq & 7, level);
    pic_update(p);
}

void pic_irq_line(void *pic, int irq, int level)
{
    pic_set_irq(pic, irq, level);
}

int pic_has_interrupt(struct pic *p)
{
    return chip_pending(&p->chip[MASTER]) >= 0;
}

int pic_acknowledge(struct pic *p)
{
    struct pic_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    int vector, line = chip_pending(m);
    if (line < 0) {
        vector = m->vector_base + 7;       /* spurious IRQ 7 */
    } else if (line == CASCADE_IRQ) {
        chip_ack(m, line);
        int sline = chip_pending(s);
        if (sline < 0) {
            vector = s->vector_base + 7;   /* spurious IRQ 15; master's IR2 is in service */
        } else {
            chip_ack(s, sline);
            vector = s->vector_base + sline;
        }
    } else {
        chip_ack(m, line);
        vector = m->vector_base + line;
    }
    pic_update(p);
    return vector;
}
