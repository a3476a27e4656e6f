/* diffk — the guest side of the Unicorn comparison (BODY_DIFF kernels):
 * every exception vector's stub and the end of the body jump to one
 * routine that stores the registers, EFLAGS, the EIP and a hash of the
 * scratch area (struct diff_dump) without using the stack beyond the
 * exception frame, writes "DMP <hex>" to port 0xE9 and ends the run as
 * the ordinary handlers do (isa-debug-exit with the vector, or HLT).
 * Encodings: SDM vol. 2 appendix A. */
#include "kernel.h"

#include <stddef.h>
#include <string.h>
#include "../diff/rng.h"

#define D(field) (IMG_DUMP_DATA + (uint32_t)offsetof(struct diff_dump, field))
#define D_GPR(r) (D(gpr) + 4u * (r))
#define ENTRY_EXC IMG_DUMP_CODE
#define SCRATCH_WORDS (IMG_SCRATCH_LEN / 4)

uint32_t diff_value(uint64_t *rng)
{
    switch (rng_below(rng, 20)) {
    case 0: case 1: return rng_below(rng, 16);
    case 2: return (uint32_t)rng_next(rng);
    default: return IMG_SCRATCH + rng_below(rng, IMG_SCRATCH_LEN);
    }
}

/* The same as the guest's loop: rol 5, xor each dword. */
uint32_t diff_hash(const uint8_t *scratch)
{
    uint32_t h = 0;
    for (uint32_t i = 0; i < SCRATCH_WORDS; i++) {
        uint32_t w;
        memcpy(&w, scratch + 4 * i, 4);
        h = (h << 5 | h >> 27) ^ w;
    }
    return h;
}

/* "push eax; mov al, v; jmp ENTRY_EXC" for every vector (8 bytes). */
void diff_stubs(struct image *im)
{
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t at = IMG_STUBS + v * STUB_BYTES;
        struct code c = { img_at(im, at), 0, STUB_BYTES, at };
        code_byte(&c, 0x50);
        code_byte(&c, 0xb0); code_byte(&c, (uint8_t)v);
        code_byte(&c, 0xe9); code_u32(&c, ENTRY_EXC - (code_here(&c) + 4));
    }
}

static void st_eax(struct code *c, uint32_t a) { code_byte(c, 0xa3); code_u32(c, a); }
static void out_e9(struct code *c) { code_byte(c, 0xe6); code_byte(c, 0xe9); }
static uint32_t jcc8(struct code *c, uint8_t op) { code_byte(c, op); code_byte(c, 0); return c->len - 1; }
static void land(struct code *c, uint32_t at) { c->p[at] = (uint8_t)(c->len - (at + 1)); }

/* AL (0..15) as an ASCII hex digit: cmp al, 10; sbb al, 0x69; das. */
static void hex_digit(struct code *c) { code_bytes(c, "\x3c\x0a\x1c\x69\x2f", 5); out_e9(c); }

static uint32_t dump_code(struct image *im, uint32_t diff_end)
{
    struct code c = { img_at(im, IMG_DUMP_CODE), 0, IMG_DUMP_DATA - IMG_DUMP_CODE, IMG_DUMP_CODE };
    uint32_t j;

    /* Exception: [esp] = EAX, then the frame (error code for 8, 10-14, 17). */
    code_byte(&c, 0xa2); code_u32(&c, D(vector));        /* mov [vector], al */
    code_byte(&c, 0x58);                                  /* pop eax */
    st_eax(&c, D_GPR(0));
    code_byte(&c, 0xa0); code_u32(&c, D(vector));        /* mov al, [vector] */
    code_bytes(&c, "\x3c\x08", 2); uint32_t e1 = jcc8(&c, 0x74);   /* je has_err */
    code_bytes(&c, "\x3c\x0a", 2); uint32_t n1 = jcc8(&c, 0x72);   /* jb no_err */
    code_bytes(&c, "\x3c\x0e", 2); uint32_t e2 = jcc8(&c, 0x76);   /* jbe has_err */
    code_bytes(&c, "\x3c\x11", 2); uint32_t n2 = jcc8(&c, 0x75);   /* jne no_err */
    land(&c, e1); land(&c, e2);
    code_bytes(&c, "\x83\xc4\x04", 3);                    /* add esp, 4 */
    land(&c, n1); land(&c, n2);
    code_byte(&c, 0x58); st_eax(&c, D(eip));              /* pop eax: EIP */
    code_byte(&c, 0x58);                                  /* CS */
    code_byte(&c, 0x58); st_eax(&c, D(eflags));
    code_bytes(&c, "\x89\x25", 2); code_u32(&c, D_GPR(4)); /* mov [esp slot], esp */
    code_byte(&c, 0xe9); j = c.len; code_u32(&c, 0);      /* jmp common */

    /* The end of the body (diff_end jumps here): no stack, so the flags
     * through LAHF (byte 0) and SETO (byte 3); DF is not reported. */
    uint32_t entry_end = code_here(&c);
    st_eax(&c, D_GPR(0));
    code_byte(&c, 0x9f);                                  /* lahf */
    code_bytes(&c, "\x88\x25", 2); code_u32(&c, D(eflags));       /* mov [eflags], ah */
    code_bytes(&c, "\x0f\x90\x05", 3); code_u32(&c, D(eflags) + 3); /* seto [eflags+3] */
    code_bytes(&c, "\x89\x25", 2); code_u32(&c, D_GPR(4));
    code_byte(&c, 0xb8); code_u32(&c, 0xff); st_eax(&c, D(vector));
    code_byte(&c, 0xb8); code_u32(&c, diff_end); st_eax(&c, D(eip));
    uint32_t rel = c.len - (j + 4);
    memcpy(c.p + j, &rel, 4);

    /* common: the other registers, the hash, the report, the exit. */
    static const uint8_t modrm[] = { 0x0d, 0x15, 0x1d, 0, 0x2d, 0x35, 0x3d };   /* ecx edx ebx - ebp esi edi */
    for (int r = 1; r < 8; r++) {
        if (r == 4) continue;
        code_byte(&c, 0x89); code_byte(&c, modrm[r - 1]); code_u32(&c, D_GPR(r));
    }
    code_bytes(&c, "\x31\xc0", 2);                        /* xor eax, eax */
    code_byte(&c, 0xbe); code_u32(&c, IMG_SCRATCH);
    code_byte(&c, 0xb9); code_u32(&c, SCRATCH_WORDS);
    code_bytes(&c, "\xc1\xc0\x05\x33\x06\x83\xc6\x04\xe2\xf6", 10);   /* rol; xor [esi]; add esi,4; loop */
    st_eax(&c, D(hash));
    code_byte(&c, 0xfc);                                  /* cld */
    for (const char *p = "DMP "; *p; p++) { code_byte(&c, 0xb0); code_byte(&c, (uint8_t)*p); out_e9(&c); }
    code_byte(&c, 0xbe); code_u32(&c, IMG_DUMP_DATA);
    code_byte(&c, 0xb9); code_u32(&c, sizeof(struct diff_dump));
    uint32_t loop = c.len;
    code_bytes(&c, "\xac\x88\xc4\xc0\xe8\x04", 6);        /* lodsb; mov ah, al; shr al, 4 */
    hex_digit(&c);
    code_bytes(&c, "\x88\xe0\x24\x0f", 4);                /* mov al, ah; and al, 15 */
    hex_digit(&c);
    code_byte(&c, 0xe2); code_byte(&c, (uint8_t)(loop - (c.len + 1)));
    code_bytes(&c, "\xb0\x0a", 2); out_e9(&c);
    /* Exit as the ordinary handlers: 0x10 + vector, 0x30, or halt. */
    code_byte(&c, 0xa0); code_u32(&c, D(vector));
    code_bytes(&c, "\x3c\xff", 2); uint32_t h = jcc8(&c, 0x74);
    code_bytes(&c, "\x3c\x20", 2); uint32_t i = jcc8(&c, 0x73);
    code_bytes(&c, "\x04\x10\xe6\xf4", 4);                /* add al, 0x10; out 0xf4, al */
    land(&c, i);
    code_bytes(&c, "\xb0\x30\xe6\xf4", 4);
    land(&c, h);
    code_bytes(&c, "\xfa\xf4\xeb\xfd", 4);                /* cli; hlt */
    return entry_end;
}

/* After the body: DIFF_PAD NOPs, then the jump to the end report. */
void diff_tail(struct image *im, struct code *b, struct kernel_desc *d)
{
    uint32_t here = code_here(b);
    d->diff_end = here + DIFF_PAD;
    uint32_t entry_end = dump_code(im, d->diff_end);
    struct code t = { img_at(im, d->diff_end), 0, 8, d->diff_end };

    memset(img_at(im, here), 0x90, DIFF_PAD);
    code_byte(&t, 0xe9); code_u32(&t, entry_end - (code_here(&t) + 4));
}
