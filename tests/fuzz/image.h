/* image — a guest kernel image under construction: bytes at fixed guest
 * physical addresses, written out as a flat Multiboot image (the "a.out
 * kludge", Multiboot spec 3.1.3) or as an ELF32 file with one PT_LOAD.
 * No compiler runs per case: everything is emitted as machine code here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest physical layout (paging, when on, is an identity map). */
#define IMG_BASE     0x100000u   /* load address; the Multiboot header is first */
#define IMG_ENTRY    0x100040u   /* the fixed prologue */
#define IMG_GDT      0x101000u   /* GDT_ENTRIES descriptors */
#define IMG_GDTR     0x101800u   /* pseudo-descriptors: GDTR, then IDTR at +8 */
#define IMG_IDTR     0x101808u
#define IMG_IDT      0x102000u   /* 256 gates */
#define IMG_STUBS    0x103000u   /* handler stubs, STUB_BYTES each */
#define IMG_TSS      0x104000u
#define IMG_TICKS    0x104800u   /* timer interrupts left before the run ends */
#define IMG_LDT      0x104900u
#define IMG_PD       0x105000u   /* page directory (paging on) */
#define IMG_PT       0x106000u   /* page table for 0-4 MiB */
#define IMG_BODY     0x108000u   /* the random part */
#define IMG_BODY_MAX 0x6000u
#define IMG_SCRATCH  0x110000u   /* random data the body's memory operands hit */
#define IMG_SCRATCH_LEN 0x4000u
#define IMG_FILE_END 0x114000u   /* end of the file's bytes */
#define IMG_STACK_TOP 0x120000u  /* ring-0 stack (bss) */
#define IMG_BSS_END  0x130000u
#define STUB_BYTES   8u
#define GDT_ENTRIES  16u

struct image {
    uint8_t b[IMG_FILE_END - IMG_BASE];
};

static inline uint8_t *img_at(struct image *im, uint32_t gpa) { return im->b + (gpa - IMG_BASE); }
void img_put32(struct image *im, uint32_t gpa, uint32_t v);
void img_put16(struct image *im, uint32_t gpa, uint16_t v);

/* The file: a.out kludge (flat) or ELF32. False with errno set on failure. */
bool img_write(const struct image *im, bool elf, const char *path);

/* A code emitter over a byte buffer at a guest address. */
struct code {
    uint8_t *p;
    uint32_t len, cap, gpa;     /* gpa: guest address of p[0] */
};
static inline uint32_t code_here(const struct code *c) { return c->gpa + c->len; }
void code_byte(struct code *c, uint8_t v);
void code_bytes(struct code *c, const void *v, uint32_t n);
void code_u16(struct code *c, uint16_t v);
void code_u32(struct code *c, uint32_t v);
static inline bool code_room(const struct code *c, uint32_t n) { return c->len + n <= c->cap; }
