/* matmul — 64x64 integer matrix product (32-bit wrap-around arithmetic):
 * loads, multiply-adds, nested loops. Each unit uses new operands. */
#include "workloads.h"
#include "wl.h"

#define N 64
static uint32_t a[N][N], b[N][N], c[N][N];

uint32_t wl_matmul(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT, seed = 1;
    for (uint32_t unit = 0; unit < scale; unit++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                a[i][j] = wl_rand(&seed) & 0xFFFF;
                b[i][j] = wl_rand(&seed) & 0xFFFF;
            }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                uint32_t s = 0;
                for (int k = 0; k < N; k++)
                    s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        for (int i = 0; i < N; i++)
            h = wl_mix(h, c[i][i] ^ c[i][N - 1 - i]);
    }
    return h;
}
