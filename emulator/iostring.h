/* iostring — REP INS/OUTS in bulk for ports that stream a buffer (the IDE
 * data port), so a 512-byte sector is one memcpy rather than 128 calls. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Move as many elements of a REP INS (in) or REP OUTS with 32-bit
 * addressing as the device takes in bulk, page by page of guest RAM at
 * seg_base + EDI/ESI, updating ECX and EDI/ESI; whatever is left (a fault,
 * a page that is not RAM, an element crossing a page, a device without a
 * bulk path) is for the one-element-at-a-time loop. */
void io_string_bulk(struct vcpu *v, uint16_t port, int size, bool in, uint32_t seg_base);
