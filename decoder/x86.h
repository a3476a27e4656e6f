/* x86 — architectural constants of IA-32 that several libraries use: the
 * control-register bits (Intel SDM vol. 3A §2.5), IA32_EFER, and the
 * Fibonacci hash the monitor's tables index with. One definition each;
 * the decoder is the lowest library, so everything above may include it. */
#pragma once
#include <stdint.h>

/* CR0 (SDM vol. 3A §2.5, figure 2-7). */
#define CR0_PE (1u << 0)       /* protection enable */
#define CR0_MP (1u << 1)       /* monitor coprocessor: WAIT faults with TS */
#define CR0_EM (1u << 2)       /* x87 emulation: #NM, and #UD for MMX/SSE */
#define CR0_TS (1u << 3)       /* task switched: #NM on the next FPU use */
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)      /* supervisor writes honour read-only pages */
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

/* CR4 (SDM vol. 3A §2.5, figure 2-7). */
#define CR4_TSD (1u << 2)      /* RDTSC at CPL > 0 raises #GP(0) */
#define CR4_DE  (1u << 3)
#define CR4_PSE (1u << 4)      /* 4 MiB pages in 32-bit paging */
#define CR4_PAE (1u << 5)      /* 3-level paging with 64-bit entries */
#define CR4_PGE (1u << 7)      /* global pages */
#define CR4_PCE (1u << 8)
#define CR4_OSXMMEXCPT (1u << 10)  /* unmasked SIMD exceptions are #XM, else #UD */

/* IA32_EFER (SDM vol. 4): a CPU without long mode or SYSCALL has NXE alone. */
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)

/* Fibonacci hashing (Knuth, TAOCP vol. 3 §6.4): the top `bits` bits of
 * key * 2^32/phi spread consecutive keys (frame numbers, addresses). */
static inline uint32_t fib_hash32(uint32_t key, unsigned bits)
{
    return (key * 0x9e3779b1u) >> (32 - bits);
}
