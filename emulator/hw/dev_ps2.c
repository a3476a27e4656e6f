/* dev_ps2 — an 8042 keyboard controller (the IBM AT / PS/2 "i8042") with an
 * idle keyboard and an empty mouse port.
 *
 *   0x60 read   output buffer (OBF clears)     write  data: a command's
 *                                                     argument, or a byte
 *                                                     for the keyboard
 *   0x64 read   status                          write  controller command
 *
 * Status: OBF (0), IBF (1, never: commands complete at once), SYS (2),
 * CMD/DATA (3: last write was to 0x64), unlocked (4), AUXDATA (5: the byte
 * in the output buffer is the mouse's), TIMEOUT (6).
 *
 * Bytes for the CPU wait in a small queue; the head is the output buffer.
 * Each byte that reaches the output buffer raises IRQ 1 (keyboard) or 12
 * (mouse) when the command byte enables it, lowered when it is read, so
 * every byte is a fresh edge. The keyboard answers the commands Linux's
 * atkbd sends during its probe; nothing is ever typed. The mouse port is
 * there but nothing is plugged in: a byte sent to it comes back as 0xFE
 * with TIMEOUT, as from a real controller with an empty socket. The
 * keyboard/mouse disable bits of the command byte are kept but do not hold
 * bytes back. Output port bit 0 is the CPU reset line (active low). */
#include "emulator/hw/devices.h"

#define STAT_OBF      0x01
#define STAT_SYS      0x04
#define STAT_CMD      0x08
#define STAT_UNLOCKED 0x10
#define STAT_AUXDATA  0x20
#define STAT_TIMEOUT  0x40

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

#define OUT_RESET 0x01   /* output port: CPU reset, active low */
#define OUT_A20   0x02

#define FROM_AUX     0x01  /* out_flags */
#define FROM_TIMEOUT 0x02

enum {
    CMD_READ_RAM = 0x20, CMD_WRITE_RAM = 0x60, CMD_AUX_DISABLE = 0xA7,
    CMD_AUX_ENABLE = 0xA8, CMD_AUX_TEST = 0xA9, CMD_SELF_TEST = 0xAA, CMD_KBD_TEST = 0xAB,
    CMD_KBD_DISABLE = 0xAD, CMD_KBD_ENABLE = 0xAE, CMD_READ_OUTPORT = 0xD0,
    CMD_WRITE_OUTPORT = 0xD1, CMD_WRITE_KBD_OUT = 0xD2, CMD_WRITE_AUX_OUT = 0xD3,
    CMD_WRITE_AUX = 0xD4, CMD_A20_OFF = 0xDD, CMD_A20_ON = 0xDF, CMD_PULSE = 0xF0,
};

enum {
    KBD_SET_LEDS = 0xED, KBD_ECHO = 0xEE, KBD_SCANCODE_SET = 0xF0, KBD_GET_ID = 0xF2,
    KBD_TYPEMATIC = 0xF3, KBD_ENABLE = 0xF4, KBD_DISABLE = 0xF5, KBD_DEFAULTS = 0xF6,
    KBD_RESEND = 0xFE, KBD_RESET = 0xFF,
};

#define KBD_ACK       0xFA
#define KBD_NAK       0xFE
#define KBD_BAT_OK    0xAA
#define SELF_TEST_OK  0x55
#define PORT_TEST_OK  0x00

#define QUEUE ((int)sizeof(((struct ps2 *)0)->out))

/* Scancode-set numbers as the controller's translation reports them. */
static const uint8_t translated_set[4] = { 0, 0x43, 0x41, 0x3F };

static void set_line(struct ps2 *k, int *state, int irq, int level)
{
    if (*state != level) {
        *state = level;
        if (k->irq)
            k->irq(k->irq_opaque, irq, level);
    }
}

static void ps2_update_irq(struct ps2 *k)
{
    int kbd = 0, aux = 0;
    if (k->out_count > 0) {
        if (k->out_flags[k->out_head] & FROM_AUX)
            aux = (k->ram[0] & CTR_AUXINT) != 0;
        else
            kbd = (k->ram[0] & CTR_KBDINT) != 0;
    }
    set_line(k, &k->irq1_level, 1, kbd);
    set_line(k, &k->irq12_level, 12, aux);
}

static void push(struct ps2 *k, uint8_t byte, uint8_t flags)
{
    if (k->out_count == QUEUE)
        return;
    int i = (k->out_head + k->out_count++) % QUEUE;
    k->out[i] = byte;
    k->out_flags[i] = flags;
}

static void reset_cpu(struct ps2 *k)
{
    if (k->on_reset)
        k->on_reset(k->reset_opaque);
}

static void write_outport(struct ps2 *k, uint8_t v)
{
    k->outport = v;
    if (!(v & OUT_RESET))
        reset_cpu(k);
}

static void keyboard_argument(struct ps2 *k, uint8_t cmd, uint8_t v)
{
    if (cmd != KBD_SCANCODE_SET) {
        push(k, KBD_ACK, 0);                 /* LED state, typematic rate */
    } else if (v == 0) {
        push(k, KBD_ACK, 0);
        push(k, k->ram[0] & CTR_XLATE ? translated_set[k->scancode_set] : k->scancode_set, 0);
    } else if (v <= 3) {
        k->scancode_set = v;
        push(k, KBD_ACK, 0);
    } else {
        push(k, KBD_NAK, 0);
    }
}

static void keyboard_write(struct ps2 *k, uint8_t v)
{
    if (k->kbd_pending) {
        uint8_t cmd = k->kbd_pending;
        k->kbd_pending = 0;
        keyboard_argument(k, cmd, v);
        return;
    }
    switch (v) {
    case KBD_SET_LEDS:
    case KBD_SCANCODE_SET:
    case KBD_TYPEMATIC:
        push(k, KBD_ACK, 0);
        k->kbd_pending = v;
        break;
    case KBD_ECHO:
        push(k, KBD_ECHO, 0);
        break;
    case KBD_GET_ID:
        /* An MF2 keyboard: 0xAB 0x83, which the controller translates. */
        push(k, KBD_ACK, 0);
        push(k, 0xAB, 0);
        push(k, k->ram[0] & CTR_XLATE ? 0x41 : 0x83, 0);
        break;
    case KBD_ENABLE:
    case KBD_DISABLE:
    case KBD_DEFAULTS:
    case KBD_RESEND:
        push(k, KBD_ACK, 0);
        break;
    case KBD_RESET:
        k->scancode_set = 2;
        push(k, KBD_ACK, 0);
        push(k, KBD_BAT_OK, 0);
        break;
    default:
        push(k, KBD_NAK, 0);
        break;
    }
}

static void controller_argument(struct ps2 *k, uint8_t cmd, uint8_t v)
{
    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
        k->ram[cmd & 0x1F] = v;
        if (cmd == CMD_WRITE_RAM)
            k->status = (k->status & ~STAT_SYS) | (v & CTR_SYS ? STAT_SYS : 0);
        return;
    }
    switch (cmd) {
    case CMD_WRITE_OUTPORT:
        write_outport(k, v);
        break;
    case CMD_WRITE_KBD_OUT:
        push(k, v, 0);
        break;
    case CMD_WRITE_AUX_OUT:
        push(k, v, FROM_AUX);
        break;
    case CMD_WRITE_AUX:
        push(k, KBD_NAK, FROM_AUX | FROM_TIMEOUT);    /* no mouse answers */
        break;
    }
}

static void controller_command(struct ps2 *k, uint8_t cmd)
{
    if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
        push(k, k->ram[cmd & 0x1F], 0);
        return;
    }
    if ((cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) || cmd == CMD_WRITE_OUTPORT ||
        cmd == CMD_WRITE_KBD_OUT || cmd == CMD_WRITE_AUX_OUT || cmd == CMD_WRITE_AUX) {
        k->pending = cmd;
        return;
    }
    if (cmd >= CMD_PULSE) {
        /* Pulse output port bits 0-3 low for 6 us: bit 0 is reset. */
        if (!(cmd & OUT_RESET))
            reset_cpu(k);
        return;
    }
    switch (cmd) {
    case CMD_AUX_DISABLE: k->ram[0] |= CTR_AUXDIS; break;
    case CMD_AUX_ENABLE: k->ram[0] &= ~CTR_AUXDIS; break;
    case CMD_KBD_DISABLE: k->ram[0] |= CTR_KBDDIS; break;
    case CMD_KBD_ENABLE: k->ram[0] &= ~CTR_KBDDIS; break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:
        push(k, PORT_TEST_OK, 0);
        break;
    case CMD_SELF_TEST:
        k->status |= STAT_SYS;
        push(k, SELF_TEST_OK, 0);
        break;
    case CMD_READ_OUTPORT:
        push(k, k->outport, 0);
        break;
    case CMD_A20_OFF: k->outport &= ~OUT_A20; break;
    case CMD_A20_ON: k->outport |= OUT_A20; break;
    default: break;                          /* unknown commands are ignored */
    }
}

static uint32_t ps2_read(void *dev, uint16_t port, int size)
{
    struct ps2 *k = dev;
    if (port == 0x64) {
        uint8_t v = k->status;
        if (k->out_count > 0) {
            uint8_t flags = k->out_flags[k->out_head];
            v |= STAT_OBF;
            if (flags & FROM_AUX)
                v |= STAT_AUXDATA;
            if (flags & FROM_TIMEOUT)
                v |= STAT_TIMEOUT;
        }
        return v;
    }
    if (k->out_count == 0)
        return k->last_out;                  /* the buffer keeps its last byte */
    k->last_out = k->out[k->out_head];
    k->out_head = (k->out_head + 1) % QUEUE;
    k->out_count--;
    /* Drop the line so that the next byte is a new edge. */
    set_line(k, &k->irq1_level, 1, 0);
    set_line(k, &k->irq12_level, 12, 0);
    ps2_update_irq(k);
    return k->last_out;
}

static void ps2_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct ps2 *k = dev;
    uint8_t v = (uint8_t)val;
    if (port == 0x64) {
        k->status |= STAT_CMD;
        k->pending = 0;
        controller_command(k, v);
    } else {
        k->status &= ~STAT_CMD;
        if (k->pending) {
            uint8_t cmd = k->pending;
            k->pending = 0;
            controller_argument(k, cmd, v);
        } else {
            keyboard_write(k, v);
        }
    }
    ps2_update_irq(k);
}

int ps2_init(struct ps2 *k, struct io_bus *bus, irq_fn irq, void *irq_opaque,
             void (*on_reset)(void *opaque), void *reset_opaque)
{
    *k = (struct ps2){
        .status = STAT_SYS | STAT_UNLOCKED, .outport = OUT_RESET | OUT_A20,
        .scancode_set = 2, .irq = irq, .irq_opaque = irq_opaque,
        .on_reset = on_reset, .reset_opaque = reset_opaque,
    };
    /* As firmware leaves it: keyboard interrupt on, translation on, mouse
     * port disabled, POST passed. */
    k->ram[0] = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
    if (io_register(bus, 0x60, 1, k, ps2_read, ps2_write) < 0)
        return -1;
    return io_register(bus, 0x64, 1, k, ps2_read, ps2_write);
}
