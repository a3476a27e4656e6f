/* Legacy prefixes: what they say, and the order Capstone needs to see them in.
 *
 * The order of legacy prefixes carries no meaning (SDM vol. 2 §2.1.1: "the
 * prefixes may be placed in any order"); within one group the last one wins
 * (segment overrides, F2 vs F3). Capstone 4.0.2 gets the order wrong in
 * several ways (probed on Debian 12's 4.0.2; test_decoder_capstone.c):
 *
 *   66 F3 A5        decodes as rep movsd: a 66 before F2/F3 is lost
 *   66 F3 E8 rel16  decodes as call rel32 (2 bytes too long) or fails
 *   66 F3 A0-A3     rejected (moffs)
 *   66 2E 0F 10     decodes as movups: a segment prefix between the
 *                   mandatory prefix and 0F hides the mandatory prefix
 *   66 F3 67 0F 10  decodes as movups: so does a 67
 *   F3 66 0F 10     decodes as movupd: the prefix next to 0F wins, but the
 *                   CPU gives F2/F3 precedence over 66 (§2.1.2 and e.g.
 *                   POPCNT r16 = 66 F3 0F B8)
 *   F0 F3 66 01 00  loses the LOCK; F0 66 F3 0F C1 garbles the operands
 *
 * Every one of these decodes right once the prefixes are reordered, keeping
 * the relative order inside each group:
 *
 *   segment overrides, 67, then
 *     with LOCK:                F2/F3, 66, F0
 *     0F map without LOCK:      66, F2/F3   (mandatory prefix next to 0F)
 *     one-byte map without LOCK: F2/F3, 66
 *
 * Reordering keeps the length of the prefix run, so every offset Capstone
 * reports is valid for the original bytes too. LOCK and the mandatory
 * prefixes never meet in a valid instruction (no SSE instruction is
 * lockable), so putting F0 last loses nothing. */
#include "decoder/decoder_impl.h"

static int seg_of(uint8_t b)
{
    switch (b) {
    case 0x26: return SEG_ES;
    case 0x2e: return SEG_CS;
    case 0x36: return SEG_SS;
    case 0x3e: return SEG_DS;
    case 0x64: return SEG_FS;
    case 0x65: return SEG_GS;
    default:   return SEG_NONE;
    }
}

static bool is_prefix(uint8_t b)
{
    return b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x66 || b == 0x67 || seg_of(b) != SEG_NONE;
}

void prefixes_scan(const uint8_t *b, size_t n, struct prefixes *p)
{
    *p = (struct prefixes){ .opsize = 4, .addrsize = 4, .seg = SEG_NONE };
    size_t i = 0;
    for (; i < n && is_prefix(b[i]); i++) {
        switch (b[i]) {
        case 0x66: p->opsize = 2; break;
        case 0x67: p->addrsize = 2; break;
        case 0xf0: p->lock = true; break;
        case 0xf2: case 0xf3: p->rep = b[i]; break;
        default: p->seg = (int8_t)seg_of(b[i]); break;
        }
    }
    p->n = (uint8_t)i;
}

/* Append the prefixes of b[0..n) accepted by `want` to out, in their order. */
static size_t copy_group(const uint8_t *b, size_t n, uint8_t *out, size_t k, bool (*want)(uint8_t))
{
    for (size_t i = 0; i < n; i++)
        if (want(b[i]))
            out[k++] = b[i];
    return k;
}

static bool g_seg(uint8_t b) { return seg_of(b) != SEG_NONE; }
static bool g_67(uint8_t b) { return b == 0x67; }
static bool g_66(uint8_t b) { return b == 0x66; }
static bool g_rep(uint8_t b) { return b == 0xf2 || b == 0xf3; }
static bool g_lock(uint8_t b) { return b == 0xf0; }

/* out receives all n bytes: the p->n prefixes reordered, then the rest. */
void prefixes_canonical(const uint8_t *b, size_t n, const struct prefixes *p, uint8_t *out)
{
    size_t np = p->n, k = 0;
    bool map0f = np < n && b[np] == 0x0f;

    k = copy_group(b, np, out, k, g_seg);
    k = copy_group(b, np, out, k, g_67);
    if (p->lock) {
        k = copy_group(b, np, out, k, g_rep);
        k = copy_group(b, np, out, k, g_66);
        k = copy_group(b, np, out, k, g_lock);
    } else if (map0f) {
        k = copy_group(b, np, out, k, g_66);
        k = copy_group(b, np, out, k, g_rep);
    } else {
        k = copy_group(b, np, out, k, g_rep);
        k = copy_group(b, np, out, k, g_66);
    }
    for (size_t i = np; i < n; i++)
        out[k++] = b[i];
}
