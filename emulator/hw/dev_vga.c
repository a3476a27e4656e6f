/* dev_vga — VGA text mode as kernels program it (IBM VGA Technical
 * Reference; register names as in it).
 *
 * Text goes straight to guest RAM at 0xB8000 (character, attribute pairs),
 * so the only state here is the register file: the CRT controller at
 * 0x3D4/0x3D5 (index/data; a 16-bit write is both), whose cursor location
 * (0Eh/0Fh) and start address (0Ch/0Dh) kernels read and write; the
 * sequencer (0x3C4/5), graphics controller (0x3CE/F), attribute controller
 * (0x3C0/1, with its index/data flip-flop), DAC (0x3C6-0x3C9), and the
 * miscellaneous output register (write 0x3C2, read 0x3CC). Registers are
 * stored and read back; none changes what --screen shows but the start
 * address.
 *
 * Miscellaneous output bit 0 selects the colour (0x3Dx) or monochrome
 * (0x3Bx) addresses for the CRTC and input status 1; the other set does
 * not decode (reads all-ones), as in QEMU. The default is colour text,
 * misc = 67h, with the CRTC as the BIOS sets it for mode 3.
 *
 * Input status 1 (0x3DA) toggles its vertical retrace and display enable
 * bits on every read, so code that waits for a retrace edge sees one
 * within two reads; reading it also resets the attribute flip-flop. */
#include "emulator/hw/vga.h"

#include <stdbool.h>
#include <string.h>

#define MISC_COLOR    0x01
#define ST01_DISP_EN  0x01
#define ST01_VRETRACE 0x08
#define CRTC_PROTECT  0x80          /* register 11h bit 7: 00h-07h read-only */

/* CRTC registers 00h-18h for mode 3 (80x25, 9x16 cells). */
static const uint8_t crtc_mode3[25] = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
};

static bool port_decoded(const struct vga *v, uint16_t port)
{
    bool mono = port >= 0x3B0 && port <= 0x3BF, color = port >= 0x3D0 && port <= 0x3DF;
    return (v->misc & MISC_COLOR) ? !mono : !color;
}

static void crtc_write(struct vga *v, uint8_t val)
{
    uint8_t i = v->crtc_index & 0x3F;
    if (i <= 7 && (v->crtc[0x11] & CRTC_PROTECT)) {
        if (i == 7)                 /* only the line-compare bit 8 stays writable */
            v->crtc[7] = (uint8_t)((v->crtc[7] & ~0x10) | (val & 0x10));
        return;
    }
    v->crtc[i] = val;
}

static uint8_t status1_read(struct vga *v)
{
    v->st01 ^= ST01_VRETRACE | ST01_DISP_EN;
    v->attr_data = false;
    return v->st01;
}

static uint8_t read8(struct vga *v, uint16_t port)
{
    switch (port) {
    case 0x3B4: case 0x3D4: return v->crtc_index;
    case 0x3B5: case 0x3D5: return v->crtc[v->crtc_index & 0x3F];
    case 0x3BA: case 0x3DA: return status1_read(v);
    case 0x3C0: return v->attr_index;
    case 0x3C1: return v->attr[v->attr_index & 0x1F];
    case 0x3C2: return 0;                           /* input status 0 */
    case 0x3C4: return v->seq_index;
    case 0x3C5: return v->seq[v->seq_index & 7];
    case 0x3C6: return v->pel_mask;
    case 0x3C7: return v->dac_state;
    case 0x3C8: return v->dac_write;
    case 0x3C9: {
        uint8_t c = v->dac[v->dac_read][v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read++;
        }
        return c;
    }
    case 0x3CA: return v->feature;
    case 0x3CC: return v->misc;
    case 0x3CE: return v->gc_index;
    case 0x3CF: return v->gc[v->gc_index & 0x0F];
    default: return 0xFF;
    }
}

static void write8(struct vga *v, uint16_t port, uint8_t val)
{
    switch (port) {
    case 0x3B4: case 0x3D4: v->crtc_index = val; break;
    case 0x3B5: case 0x3D5: crtc_write(v, val); break;
    case 0x3BA: case 0x3DA: v->feature = val; break;   /* feature control (write) */
    case 0x3C0:
        if (v->attr_data)
            v->attr[v->attr_index & 0x1F] = val;
        else
            v->attr_index = val & 0x3F;
        v->attr_data = !v->attr_data;
        break;
    case 0x3C2: v->misc = val; break;
    case 0x3C4: v->seq_index = val; break;
    case 0x3C5: v->seq[v->seq_index & 7] = val; break;
    case 0x3C6: v->pel_mask = val; break;
    case 0x3C7: v->dac_read = val; v->dac_sub = 0; v->dac_state = 0x00; break;
    case 0x3C8: v->dac_write = val; v->dac_sub = 0; v->dac_state = 0x03; break;
    case 0x3C9:
        v->dac[v->dac_write][v->dac_sub] = val & 0x3F;
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_write++;
        }
        break;
    case 0x3CE: v->gc_index = val; break;
    case 0x3CF: v->gc[v->gc_index & 0x0F] = val; break;
    default: break;
    }
}

/* A wider access is consecutive byte accesses (outw 0x3D4 = index, then
 * data at 0x3D5: the usual way to set one CRTC register). */
static uint32_t vga_read(void *dev, uint16_t port, int size)
{
    struct vga *v = dev;
    uint32_t val = 0;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        val |= (uint32_t)(port_decoded(v, p) ? read8(v, p) : 0xFF) << (8 * i);
    }
    return val;
}

static void vga_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct vga *v = dev;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        if (port_decoded(v, p))
            write8(v, p, (uint8_t)(val >> (8 * i)));
    }
}

int vga_init(struct vga *v, struct io_bus *bus)
{
    memset(v, 0, sizeof *v);
    v->misc = 0x67;
    memcpy(v->crtc, crtc_mode3, sizeof crtc_mode3);
    v->pel_mask = 0xFF;
    if (io_register(bus, 0x3B4, 2, v, vga_read, vga_write) < 0 ||
        io_register(bus, 0x3BA, 1, v, vga_read, vga_write) < 0 ||
        io_register(bus, 0x3C0, 16, v, vga_read, vga_write) < 0 ||
        io_register(bus, 0x3D4, 2, v, vga_read, vga_write) < 0)
        return -1;
    return io_register(bus, 0x3DA, 1, v, vga_read, vga_write);
}

uint16_t vga_cursor(const struct vga *v) { return (uint16_t)(v->crtc[0x0E] << 8 | v->crtc[0x0F]); }
uint16_t vga_start(const struct vga *v) { return (uint16_t)(v->crtc[0x0C] << 8 | v->crtc[0x0D]); }

size_t vga_screen_text(const struct vga *v, const uint8_t *text, char *out)
{
    size_t n = 0;
    uint32_t cell = vga_start(v);
    for (int row = 0; row < VGA_ROWS; row++) {
        size_t end = n;
        for (int col = 0; col < VGA_COLS; col++, cell++) {
            uint8_t c = text[(cell * 2) % VGA_TEXT_SIZE];
            char ch = c == 0 ? ' ' : (c >= 0x20 && c < 0x7F) ? (char)c : '.';
            out[n++] = ch;
            if (ch != ' ')
                end = n;
        }
        n = end;
        out[n++] = '\n';
    }
    out[n] = 0;
    return n;
}
