/* The decoder's fast path (decoder/fast.c) against Capstone: with the fast
 * path on and off, every input must give the same return code and the same
 * struct insn, byte for byte. Checked on random encodings of every one- and
 * two-byte opcode under the prefix combinations that the fast path takes or
 * must refuse, cut short at every length, and on every instruction of the
 * 32-bit libc's .text when gcc-multilib installed one (the translation-
 * throughput benchmark's input). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/decoder.h"

static struct decoder *fast, *slow;

static int setup(void **state)
{
    fast = decoder_create();
    slow = decoder_create();
    if (!fast || !slow)
        return -1;
    decoder_use_fast(slow, false);
    return 0;
}

static int teardown(void **state)
{
    decoder_destroy(fast);
    decoder_destroy(slow);
    return 0;
}

static uint32_t rng = 0x2545f491u;

static uint8_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint8_t)rng;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n && i < 15; i++)
        out += sprintf(out, "%02x ", b[i]);
}

/* Both routes on b[0..n): same result. Returns the return code. */
static int agree(const uint8_t *b, size_t n, uint32_t eip)
{
    struct insn a, c;
    int ra = decode_insn(fast, b, n, eip, &a);
    int rc = decode_insn(slow, b, n, eip, &c);
    if (ra != rc || (ra != -2 && memcmp(&a, &c, sizeof a))) {
        char h[64] = "";
        hex(b, n, h);
        fail_msg("%s(%zu bytes): fast rc %d len %d id %u kind %s flags %#x, "
                 "Capstone rc %d len %d id %u kind %s flags %#x", h, n, ra, a.len, a.id,
                 insn_kind_name(a.kind), a.flags, rc, c.len, c.id, insn_kind_name(c.kind), c.flags);
    }
    return ra;
}

/* Every opcode, under prefixes the fast path takes (none, 66, segment
 * overrides) and refuses (LOCK, REP, 67), with random ModRM/SIB/disp/imm
 * bytes (zeros and ESP-ish values favoured, to reach SIB, disp32-only and
 * ESP-destination forms); and each cut short at every length. */
static void test_random_encodings(void **state)
{
    static const uint8_t pfx[][3] = {
        { 0 }, { 1, 0x66 }, { 1, 0x65 }, { 1, 0x2e }, { 2, 0x66, 0x64 }, { 2, 0x3e, 0x66 },
        { 1, 0xf0 }, { 1, 0xf3 }, { 1, 0xf2 }, { 1, 0x67 }, { 2, 0x66, 0xf3 },
    };
    static const uint8_t favour[] = { 0x00, 0x04, 0x05, 0x24, 0x25, 0x44, 0x84, 0xc4, 0xe4, 0xff };
    int valid = 0, total = 0;

    for (int map = 0; map < 2; map++) {
        for (int op = 0; op < 256; op++) {
            for (size_t p = 0; p < sizeof pfx / sizeof pfx[0]; p++) {
                for (int k = 0; k < 24; k++) {
                    uint8_t b[16];
                    size_t n = 0;
                    for (int i = 0; i < pfx[p][0]; i++)
                        b[n++] = pfx[p][1 + i];
                    if (map)
                        b[n++] = 0x0f;
                    b[n++] = (uint8_t)op;
                    while (n < 15)
                        b[n++] = rnd() & 1 ? favour[rnd() % sizeof favour] : rnd();
                    int rc = agree(b, 15, 0x1000);
                    valid += rc == 0;
                    total++;
                    if (k < 3)
                        for (size_t cut = 1; cut < 15; cut++)
                            agree(b, cut, 0x1000);
                }
            }
        }
    }
    print_message("%d of %d random encodings valid\n", valid, total);
    assert_true(valid > total / 4);
}

/* Explicit-ESP destinations: INSN_F_WRITES_SP must be the same both ways
 * (Capstone's operand access flags decide it on the slow route). */
static void test_esp_destinations(void **state)
{
    static const char *const cases[] = {
        "8b e5", "89 c4", "01 c4", "03 e0", "83 c4 10", "81 ec 00 01 00 00", "83 fc 10",
        "8d 64 24 04", "5c", "44", "4c", "bc 00 10 00 00", "87 e0", "87 c4", "0f c1 c4",
        "0f b6 e0", "0f 44 e0", "0f af e0", "6b e4 03", "f7 d4", "f7 dc", "f7 e4", "ff c4",
        "ff cc", "d1 e4", "c1 ec 02", "0f cc", "66 8b e5", "66 83 c4 02", "0f a4 c4 03",
        "0f ba ec 03", "0f ba e4 03", "85 e4", "c7 c4 00 00 00 00", "0f bc e0", "0f b1 c4",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[15] = { 0 };
        size_t n = 0;
        unsigned v;
        int used;
        for (const char *s = cases[i]; sscanf(s, " %2x%n", &v, &used) == 1; s += used)
            b[n++] = (uint8_t)v;
        assert_int_equal(agree(b, n, 0x1000), 0);
    }
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* .text of an ELF32 file, or NULL. */
static const uint8_t *elf_text(const uint8_t *h, size_t size, uint32_t *addr, uint32_t *len)
{
    if (size < 52 || memcmp(h, "\177ELF", 4) || h[4] != 1)
        return NULL;
    uint32_t shoff = rd32(h + 32);
    uint16_t shentsize = rd16(h + 46), shnum = rd16(h + 48), shstrndx = rd16(h + 50);
    if (shentsize < 40 || shstrndx >= shnum || shoff + (uint64_t)shnum * shentsize > size)
        return NULL;
    const uint8_t *strsh = h + shoff + (size_t)shstrndx * shentsize;
    uint32_t stroff = rd32(strsh + 16);
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = h + shoff + (size_t)i * shentsize;
        uint32_t off = rd32(sh + 16);
        *len = rd32(sh + 20);
        *addr = rd32(sh + 12);
        if (stroff + rd32(sh) + 6u <= size && !memcmp(h + stroff + rd32(sh), ".text", 6) &&
            off + (uint64_t)*len <= size)
            return h + off;
    }
    return NULL;
}

/* Real compiler output: every instruction of a linear sweep of libc. */
static void test_libc_text(void **state)
{
    FILE *f = fopen("/usr/lib32/libc.so.6", "rb");
    if (!f) {
        print_message("no /usr/lib32/libc.so.6 (gcc-multilib): skipped\n");
        skip();
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = malloc((size_t)size);
    assert_non_null(file);
    assert_int_equal(fread(file, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    uint32_t addr = 0, len = 0, count = 0;
    const uint8_t *text = elf_text(file, (size_t)size, &addr, &len);
    assert_non_null(text);
    for (uint32_t off = 0; off < len; count++) {
        struct insn in;
        agree(text + off, len - off, addr + off);
        off += decode_insn(fast, text + off, len - off, addr + off, &in) == 0 ? in.len : 1;
    }
    print_message("%u instructions agree\n", count);
    assert_true(count > 100000);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp_destinations),
        cmocka_unit_test(test_random_encodings),
        cmocka_unit_test(test_libc_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
