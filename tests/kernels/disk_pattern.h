/* disk_pattern.h — the scratch disk of the ide kernel test, shared by the
 * kernel (ide.c) and the host tool that makes and checks the image
 * (diskimg.c). Every sector starts with its number, so a sector read from
 * the wrong place says where it came from. Pattern A is what the image
 * holds at first; pattern B is what the kernel writes. */
#pragma once
#include <stdint.h>

#define DISK_SECTORS   256u
#define DISK_WRITE_LO  100u           /* the kernel writes sectors 100..127 */
#define DISK_WRITE_HI  127u

static inline uint8_t disk_pattern_a(uint32_t s, uint32_t i)
{
    return i < 4 ? (uint8_t)(s >> (8 * i)) : (uint8_t)(s * 7 + i * 13 + (i >> 8));
}

static inline uint8_t disk_pattern_b(uint32_t s, uint32_t i)
{
    return i < 4 ? (uint8_t)((s ^ 0xB0B0B0B0u) >> (8 * i)) : (uint8_t)(s * 3 + i * 5 + 0x5A);
}
