/* fib — doubly recursive Fibonacci, call/ret bound. One unit is one of
 * fib(18..22); gcc -O2 turns one of the two calls into a loop, leaving
 * about fib(n) real calls: ~7k calls and returns per unit on average. */
#include "workloads.h"
#include "wl.h"

WL_NOINLINE static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint32_t wl_fib(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT;
    for (uint32_t unit = 0; unit < scale; unit++)
        h = wl_mix(h, fib(18 + unit % 5) + unit);   /* fib(18..22), about fib(20) on average */
    return h;
}
