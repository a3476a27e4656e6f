/* mode16 — decoding 16-bit code (decode_insn16, decoder.h).
 *
 * In a 16-bit code segment the default operand and address sizes are 16
 * bits and the 0x66/0x67 prefixes select 32 (SDM vol. 1 §3.6, vol. 2
 * §2.1.1); nothing else about an instruction depends on CS.D. So a 16-bit
 * instruction with both prefixes toggled is the 32-bit-mode instruction
 * with the same meaning, and everything downstream (layout, table,
 * translator, memop) already knows that one. The exception is 0x66 as a
 * mandatory prefix of the SSE/MMX maps, which means the same in both modes
 * and stays as it is. */
#include <string.h>

#include "decoder/decoder_impl.h"

static bool is_prefix(uint8_t b)
{
    switch (b) {
    case 0xf0: case 0xf2: case 0xf3: case 0x66: case 0x67:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        return true;
    default:
        return false;
    }
}

/* 0F-map opcodes where 0x66 selects an instruction (MMX vs SSE2, PS vs PD)
 * rather than an operand size: 0F 10-17, 28-2F, 38/3A maps, 50-7F, AE,
 * C2-C6, D0-FF (SDM vol. 2D table A-3). */
static bool sse_0f(uint8_t op)
{
    return (op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || op == 0x38 || op == 0x3a ||
           (op >= 0x50 && op <= 0x7f) || op == 0xae || (op >= 0xc2 && op <= 0xc6) || op >= 0xd0;
}

int decode_insn16(struct decoder *d, const uint8_t *code, size_t avail, uint32_t eip,
                  struct insn *out)
{
    size_t n = avail < X86_MAX_INSN_LEN ? avail : X86_MAX_INSN_LEN, i = 0, k = 0, rest;
    uint8_t buf[X86_MAX_INSN_LEN + 2];
    bool keep66;
    int r, delta;

    while (i < n && is_prefix(code[i]))
        i++;
    if (i == n)
        return decode_insn(d, code, n, eip, out);   /* nothing but prefixes: as in 32-bit code */
    keep66 = code[i] == 0x0f && (i + 1 >= n || sse_0f(code[i + 1]));
    bool had66 = memchr(code, 0x66, i) != NULL, had67 = memchr(code, 0x67, i) != NULL;
    if (!had66 && !keep66)
        buf[k++] = 0x66;
    if (!had67)
        buf[k++] = 0x67;
    for (size_t j = 0; j < i; j++)
        if (!(code[j] == 0x67 || (code[j] == 0x66 && !keep66)))
            buf[k++] = code[j];
    delta = (int)k - (int)i;
    rest = n - i;
    if (k + rest > X86_MAX_INSN_LEN)
        rest = X86_MAX_INSN_LEN - k;
    memcpy(buf + k, code + i, rest);
    r = decode_insn(d, buf, k + rest, eip, out);
    if (r == -2 && n == X86_MAX_INSN_LEN)
        r = -1;         /* longer than 15 bytes once rewritten: too long for us, #UD */
    if (r == -2)
        return r;
    if (out->len <= delta) {            /* cannot happen for a valid instruction */
        out->glen = 1;
        out->kind = K_INVALID;
        return -1;
    }
    out->glen = (uint8_t)(out->len - delta);
    if (r == 0 && (out->kind == K_JCC || out->kind == K_JMP || out->kind == K_CALL ||
                   out->kind == K_LOOP || out->kind == K_JCXZ)) {
        uint32_t t = out->target - (uint32_t)delta;
        out->target = out->opsize == 2 ? (t & 0xffff) : t;
    }
    return r;
}
