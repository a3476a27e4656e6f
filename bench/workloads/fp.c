/* fp — double-precision arithmetic (SSE2 with -mfpmath=sse): a 32x32 tile
 * of the Mandelbrot set per unit (at most 64 iterations a point, the tile
 * moving with the unit) plus a smooth sum with divisions. The checksum
 * takes the iteration counts and the bit pattern of the sum, so it is
 * exact: IEEE double add/mul/div are correctly rounded everywhere. */
#include "workloads.h"
#include "wl.h"

uint32_t wl_fp(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT;
    double smooth = 0.0;
    for (uint32_t unit = 0; unit < scale; unit++) {
        double x0 = -2.0 + (double)(unit % 17) * 0.0625;
        double y0 = -1.25 + (double)(unit % 13) * 0.0625;
        double step = 1.0 / 64.0;
        uint32_t iters = 0;
        for (int py = 0; py < 32; py++) {
            double ci = y0 + py * step;
            for (int px = 0; px < 32; px++) {
                double cr = x0 + px * step, zr = 0.0, zi = 0.0;
                int n = 0;
                while (n < 64) {
                    double zr2 = zr * zr, zi2 = zi * zi;
                    if (zr2 + zi2 > 4.0)
                        break;
                    zi = 2.0 * zr * zi + ci;
                    zr = zr2 - zi2 + cr;
                    n++;
                }
                iters += (uint32_t)n;
                smooth += 1.0 / (1.0 + zr * zr + zi * zi);
            }
        }
        h = wl_mix(h, iters);
    }
    uint64_t bits;
    __builtin_memcpy(&bits, &smooth, sizeof bits);
    h = wl_mix(h, (uint32_t)bits);
    h = wl_mix(h, (uint32_t)(bits >> 32));
    return h;
}
