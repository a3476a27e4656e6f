/* crc32 — table-driven CRC-32 (IEEE 802.3, reflected, polynomial
 * 0xEDB88320): a load, a table lookup and shifts per byte. One unit is one
 * pass over a 16 KiB buffer whose bytes change between passes. */
#include "workloads.h"
#include "wl.h"

#define BUF 16384
static uint32_t table[256];
static uint8_t buf[BUF];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint32_t wl_crc32(uint32_t scale)
{
    uint32_t seed = 99, crc = 0;
    make_table();
    for (uint32_t i = 0; i < BUF; i++)
        buf[i] = (uint8_t)wl_rand(&seed);
    for (uint32_t unit = 0; unit < scale; unit++) {
        buf[unit % BUF] ^= (uint8_t)unit;
        crc = crc32(crc, buf, BUF);
    }
    return crc;
}
