/* vga — the VGA's text-mode registers (ports 0x3B4/0x3B5, 0x3BA,
 * 0x3C0-0x3CF, 0x3D4/0x3D5, 0x3DA). The text memory at 0xB8000 is plain
 * guest RAM; the device only needs it to render the screen for --screen. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulator/hw/io.h"

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_TEXT_BASE 0xB8000u
#define VGA_TEXT_SIZE 0x8000u       /* 0xB8000-0xBFFFF */
/* vga_screen_text's output at most: 25 rows of 80 characters and '\n'. */
#define VGA_SCREEN_TEXT_MAX (VGA_ROWS * (VGA_COLS + 1) + 1)

struct vga {
    uint8_t misc;                   /* miscellaneous output (bit 0: colour ports) */
    uint8_t crtc_index, crtc[64];
    uint8_t seq_index, seq[8];
    uint8_t gc_index, gc[16];
    uint8_t attr_index, attr[32];
    bool attr_data;                 /* the 0x3C0 flip-flop: next write is data */
    uint8_t feature;
    uint8_t st01;                   /* input status 1: retrace bits toggled per read */
    uint8_t pel_mask, dac_read, dac_write, dac_state, dac_sub;
    uint8_t dac[256][3];
};

int vga_init(struct vga *v, struct io_bus *bus);
/* CRTC registers 0Eh/0Fh and 0Ch/0Dh: cursor and display start, in cells. */
uint16_t vga_cursor(const struct vga *v);
uint16_t vga_start(const struct vga *v);
/* The characters of the 80x25 screen that start at the CRTC's start
 * address in text (VGA_TEXT_SIZE bytes from 0xB8000): one line per row,
 * trailing spaces trimmed, NUL cells as spaces and other bytes outside
 * printable ASCII as '.'. out must hold VGA_SCREEN_TEXT_MAX; returns the
 * length. */
size_t vga_screen_text(const struct vga *v, const uint8_t *text, char *out);
