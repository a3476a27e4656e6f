/* kernel — one random test kernel per seed: a fixed prologue (GDT, IDT
 * whose handlers report the vector through isa-debug-exit, TSS, PIC and
 * PIT with a tick budget, optional paging and SSE, random registers and
 * flags), then a random body (body.c) ending in CLI; HLT. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "image.h"

/* isa-debug-exit values the handlers write; bt86 exits with (v << 1) | 1. */
#define DX_EXC_BASE 0x10        /* exception vector v < 32: 0x10 + v */
#define DX_INT      0x30        /* a vector >= 32 other than the timer's */
#define DX_TICKS    0x31        /* the tick budget ran out */
#define TICK_BUDGET 100         /* timer interrupts (1 kHz PIT) per run */

/* GDT selectors (kernel.c's table). */
#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS   0x40
#define SEL_LDT   0x60

/* BODY_DIFF: instructions Unicorn can run the same way (diffk.c), no
 * paging, no interrupts, ESP at the stack top; every handler and the end
 * of the body report the state through port 0xE9 (the Unicorn comparison,
 * unicorn.c). */
enum body_kind { BODY_INSNS, BODY_BYTES, BODY_IO, BODY_DIFF, BODY_KINDS };

struct kernel_desc {
    enum body_kind body;
    bool paging, sse, irq, elf;
    int mode16;         /* the body runs as 16-bit code: 0 no, 1 virtual-8086 mode, 2 real mode */
    int ninsn;
    uint32_t gpr[8], eflags;    /* the state the body starts with */
    uint32_t diff_end;          /* BODY_DIFF: the address of the final jump */
};

/* Build the kernel for `seed` into *im (kind -1: chosen by the seed). */
void kernel_build(uint64_t seed, int kind, struct image *im, struct kernel_desc *d);
const char *kernel_kind_name(enum body_kind k);

/* body.c: the random part, emitted at c (which the caller ends). */
struct body_ctx {
    uint64_t *rng;
    struct code *c;
    const struct kernel_desc *d;
};
int body_insns(struct body_ctx *b, int n);
void body_bytes(struct body_ctx *b, int n);
void body_io(struct body_ctx *b, int n);
/* diffk.c: the BODY_DIFF body and the code that reports the state. */
int body_diff(struct body_ctx *b, int n);
void diff_stubs(struct image *im);
void diff_tail(struct image *im, struct code *b, struct kernel_desc *d);
/* A diff body ends with DIFF_PAD NOPs (a last forward branch lands
 * there) and a jump to the report at kernel_desc.diff_end (vector 0xFF). */
#define DIFF_PAD 16u
/* The report: "DMP " and the hex of struct diff_dump. */
#define IMG_DUMP_CODE 0x104a00u
#define IMG_DUMP_DATA 0x104f00u
struct diff_dump {
    uint32_t vector;            /* 0xFF: the body ended */
    uint32_t gpr[8];
    uint32_t eip, eflags, hash; /* hash: diff_hash of the scratch area */
};
uint32_t diff_hash(const uint8_t *scratch);
/* Values worth putting in a register: pointers into the scratch area,
 * near 0 and 4 GiB, RAM, open bus. */
uint32_t body_value(uint64_t *rng);
/* The same for diff kernels: mostly the scratch area. */
uint32_t diff_value(uint64_t *rng);
