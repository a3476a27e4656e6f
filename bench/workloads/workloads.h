/* workloads.h — the compute workloads shared by bench/ (run natively, in
 * bt86 and in QEMU) and by the demo and bench kernels (tests/kernels/).
 *
 * Each wl_<name>(scale) does work proportional to scale and returns a
 * checksum that depends only on scale: the same on every machine, natively
 * and in a VM. bench_scale runs for roughly 0.5-1 s natively at -O2 on the
 * development machine; demo_scale for a few milliseconds. The bench kernel
 * prints "<name> <checksum as 8 lowercase hex digits>". */
#pragma once
#include <stdint.h>

struct workload {
    const char *name;
    uint32_t (*fn)(uint32_t scale);
    uint32_t bench_scale;
    uint32_t demo_scale;
};

extern const struct workload workloads[];
extern const int nworkloads;

uint32_t wl_sieve(uint32_t scale);   /* sieve of Eratosthenes over 256K bytes, per unit */
uint32_t wl_matmul(uint32_t scale);  /* 64x64 integer matrix product, per unit */
uint32_t wl_fib(uint32_t scale);     /* recursive fib(18..22): ~7k calls, per unit */
uint32_t wl_interp(uint32_t scale);  /* switch-dispatch bytecode: 1000 loop trips, per unit */
uint32_t wl_string(uint32_t scale);  /* memcpy/memset/strlen/memcmp over 16 KiB, per unit */
uint32_t wl_qsort(uint32_t scale);   /* qsort of 2000 words with a comparator pointer, per unit */
uint32_t wl_fp(uint32_t scale);      /* SSE2 doubles: a 32x32 Mandelbrot tile, per unit */
uint32_t wl_crc32(uint32_t scale);   /* table-driven CRC-32 of 16 KiB, per unit */
uint32_t wl_calls(uint32_t scale);   /* small-function call chains: ~3k calls, per unit */
