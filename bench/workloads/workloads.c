/* workloads.c — the registry. bench_scale: about 0.7 s natively (gcc 12
 * -m32 -O2 -march=i686 -msse2 -mfpmath=sse, on the development machine's
 * Xeon, unloaded); demo_scale: about 1-10 ms. The demo kernel checks the
 * checksums at demo_scale: change tests/kernels/demo.c's table with it. */
#include "workloads.h"

const struct workload workloads[] = {
    /* name     function    bench_scale  demo_scale */
    { "sieve",  wl_sieve,   700,         1 },
    { "matmul", wl_matmul,  7000,        10 },
    { "fib",    wl_fib,     27000,       40 },
    { "interp", wl_interp,  8500,        12 },
    { "string", wl_string,  7000,        10 },
    { "qsort",  wl_qsort,   2100,        3 },
    { "fp",     wl_fp,      30000,       40 },
    { "crc32",  wl_crc32,   12500,       20 },
    { "calls",  wl_calls,   140000,      200 },
};
const int nworkloads = sizeof workloads / sizeof workloads[0];
