/* Encodings whose layout the decoder computes itself instead of asking
 * Capstone, because Capstone 4.0.2 rejects valid forms of them or mislays
 * them (probed on Debian 12's 4.0.2; test_decoder_capstone.c):
 *
 *   0F 0D /r, 0F 18-1F /r   reserved hint NOPs. The SDM's two-byte opcode
 *       map (vol. 2 table A-3) reserves 0F 19-1F as "NOP Ev", 0F 18 /4-7
 *       likewise; 0F 18 /0-3 are PREFETCHh and 0F 0D /1 PREFETCHW. Every
 *       form, register or memory, any prefix but LOCK, is a NOP of ModRM-
 *       determined length that never accesses memory. Capstone rejects
 *       0F 1F with a register operand (issue #1335), 0F 18 mod=3, register
 *       forms of 0F 1A-1E (issue #1506), 0F 0D /0 and /2-7 (issue #1259),
 *       and reports no ModRM for ENDBR32/64 (F3 0F 1E FB/FA).
 *   0F B9 /r, 0F FF /r      UD1 and UD0 take a ModRM ("UD1 r32, r/m32",
 *       "UD0 r32, r/m32", SDM UD); Capstone stops after the opcode, and
 *       rejects UD0 after any prefix.
 *   0F AE /5-/7, mod=3      LFENCE, MFENCE, SFENCE ignore the r/m field
 *       (SDM vol. 2 table A-6, group 15); Capstone only takes r/m = 0.
 *       Only without 66/F2/F3, which select other (non-i686) instructions. */
#include "decoder/decoder_impl.h"

/* b[0..n) holds at least the prefixes and two opcode bytes. */
unsigned fallback_match(const uint8_t *b, size_t n, const struct prefixes *p)
{
    const uint8_t *o = b + p->n;
    if (o[0] != 0x0f)
        return X86_INS_INVALID;
    if (o[1] == 0x0d || (o[1] >= 0x18 && o[1] <= 0x1f))
        return X86_INS_NOP;
    if (o[1] == 0xb9)
        return X86_INS_UD2B;
    if (o[1] == 0xff)
        return X86_INS_UD0;
    if (o[1] == 0xae && n > p->n + 2u && (o[2] & 0xc0) == 0xc0 && ((o[2] >> 3) & 7) >= 5 &&
        p->opsize == 4 && !p->rep) {
        static const unsigned fence[3] = { X86_INS_LFENCE, X86_INS_MFENCE, X86_INS_SFENCE };
        return fence[((o[2] >> 3) & 7) - 5];
    }
    return X86_INS_INVALID;
}

/* Length of the matched instruction (two opcode bytes and a ModRM): -2 when
 * it runs past n, 0 when it would exceed 15 bytes. */
int fallback_length(const uint8_t *b, size_t n, const struct prefixes *p)
{
    int end = layout_modrm_end(b, n, p->n + 2, p->addrsize == 2);
    if (end == -2)
        return n < X86_MAX_INSN_LEN ? -2 : 0;
    if (end > X86_MAX_INSN_LEN)
        return 0;
    return (size_t)end > n ? -2 : end;
}
