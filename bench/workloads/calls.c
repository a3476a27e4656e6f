/* calls — many small functions: chains of direct calls 8 deep, functions
 * with five arguments, and a recursion 64 deep; about 3k calls and returns
 * per unit, each doing almost no work. What a shadow return stack is for. */
#include "workloads.h"
#include "wl.h"

WL_NOINLINE static uint32_t leaf(uint32_t x) { return x * 2654435761u + 1; }
WL_NOINLINE static uint32_t c1(uint32_t x) { return leaf(x) ^ (x >> 3); }
WL_NOINLINE static uint32_t c2(uint32_t x) { return c1(x + 1) + 7; }
WL_NOINLINE static uint32_t c3(uint32_t x) { return c2(x ^ 0x55) - x; }
WL_NOINLINE static uint32_t c4(uint32_t x) { return c3(x) ^ c1(x); }
WL_NOINLINE static uint32_t c5(uint32_t x) { return c4(x >> 1) + 3; }
WL_NOINLINE static uint32_t c6(uint32_t x) { return c5(x) * 5; }
WL_NOINLINE static uint32_t c7(uint32_t x) { return c6(x + 2) ^ leaf(x); }

WL_NOINLINE static uint32_t args5(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
    return (a + b * 3) ^ (c - d) ^ (e << 2);
}

WL_NOINLINE static uint32_t down(uint32_t x, uint32_t depth)
{
    if (depth == 0)
        return leaf(x);
    return down(x * 3 + depth, depth - 1) + 1;
}

uint32_t wl_calls(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT;
    for (uint32_t unit = 0; unit < scale; unit++) {
        uint32_t acc = unit;
        for (uint32_t i = 0; i < 256; i++) {
            acc += c7(acc + i);
            acc ^= args5(acc, i, unit, acc >> 7, i * i);
        }
        acc += down(acc, 64);
        h = wl_mix(h, acc);
    }
    return h;
}
