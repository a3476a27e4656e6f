/* sieve — sieve of Eratosthenes: byte stores with strides, a linear scan.
 * One unit sieves up to 256K (the bound varies a little per unit). */
#include "workloads.h"
#include "wl.h"

#define SIEVE_MAX (1u << 18)
static uint8_t composite[SIEVE_MAX];

uint32_t wl_sieve(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT;
    for (uint32_t unit = 0; unit < scale; unit++) {
        uint32_t n = SIEVE_MAX - (unit & 1023);
        wl_memset(composite, 0, n);
        for (uint32_t i = 2; i * i < n; i++)
            if (!composite[i])
                for (uint32_t j = i * i; j < n; j += i)
                    composite[j] = 1;
        uint32_t count = 0, last = 0;
        for (uint32_t i = 2; i < n; i++)
            if (!composite[i]) {
                count++;
                last = i;
            }
        h = wl_mix(h, count);
        h = wl_mix(h, last);
    }
    return h;
}
