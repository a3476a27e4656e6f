/* EFLAGS read and written, as flag liveness will use them:
 * live_in = flags_read | (live_out & ~flags_written). Conditions per SDM
 * vol. 1 appendix B; written sets (undefined included) per the instruction
 * pages of vol. 2; the pass-through cases (shift by CL = 0, REP CMPS with
 * ECX = 0, POPF at CPL > 0) count as reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "decoder/decoder.h"

#define CF FL_CF
#define PF FL_PF
#define AF FL_AF
#define ZF FL_ZF
#define SF FL_SF
#define OF FL_OF
#define DF FL_DF
#define A  FL_ARITH
#define ALL16 (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT)

static size_t parse_hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (sscanf(s, " %2x%n", &v, &used) == 1) {
        out[n++] = (uint8_t)v;
        s += used;
    }
    return n;
}

static struct decoder *dec;

static int setup(void **state)
{
    dec = decoder_create();
    return dec ? 0 : -1;
}

static int teardown(void **state)
{
    decoder_destroy(dec);
    return 0;
}

static void expect_flags(const char *hex, unsigned fr, unsigned fw)
{
    uint8_t b[16];
    size_t n = parse_hex(hex, b);
    struct insn in;
    if (decode_insn(dec, b, n, 0, &in) != 0)
        fail_msg("\"%s\" did not decode", hex);
    if (in.flags_read != fr || in.flags_written != fw)
        fail_msg("\"%s\": read %#x written %#x, expected read %#x written %#x", hex,
                 in.flags_read, in.flags_written, fr, fw);
}

/* tttn: O NO B AE E NE BE A S NS P NP L GE LE G. */
static const unsigned cc_flags[16] = {
    OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF,
    ZF | SF | OF, ZF | SF | OF,
};

static void test_conditions(void **state)
{
    for (int cc = 0; cc < 16; cc++) {
        char hex[32];
        snprintf(hex, sizeof hex, "%02x 10", 0x70 + cc);            /* Jcc rel8 */
        expect_flags(hex, cc_flags[cc], 0);
        snprintf(hex, sizeof hex, "0f %02x 00 01 00 00", 0x80 + cc); /* Jcc rel32 */
        expect_flags(hex, cc_flags[cc], 0);
        snprintf(hex, sizeof hex, "0f %02x c0", 0x90 + cc);         /* SETcc al */
        expect_flags(hex, cc_flags[cc], 0);
        snprintf(hex, sizeof hex, "0f %02x 00", 0x90 + cc);         /* SETcc [eax] */
        expect_flags(hex, cc_flags[cc], 0);
        snprintf(hex, sizeof hex, "0f %02x c1", 0x40 + cc);         /* CMOVcc eax, ecx */
        expect_flags(hex, cc_flags[cc], 0);
    }
    /* FCMOVcc: B E BE U (DA C0-DF) and NB NE NBE NU (DB C0-DF). */
    static const unsigned fcc[4] = { CF, ZF, CF | ZF, PF };
    for (int i = 0; i < 4; i++) {
        char hex[16];
        snprintf(hex, sizeof hex, "da %02x", 0xc1 + 8 * i);
        expect_flags(hex, fcc[i], 0);
        snprintf(hex, sizeof hex, "db %02x", 0xc1 + 8 * i);
        expect_flags(hex, fcc[i], 0);
    }
    expect_flags("e2 fe", 0, 0);          /* LOOP */
    expect_flags("e1 fe", ZF, 0);         /* LOOPE */
    expect_flags("e0 fe", ZF, 0);         /* LOOPNE */
    expect_flags("e3 fe", 0, 0);          /* JECXZ */
}

static void test_carry_readers(void **state)
{
    expect_flags("11 c8", CF, A);         /* adc eax, ecx */
    expect_flags("83 d0 01", CF, A);      /* adc eax, 1 */
    expect_flags("19 c8", CF, A);         /* sbb */
    expect_flags("1c 01", CF, A);         /* sbb al, 1 */
    expect_flags("d1 d0", CF, CF | OF);   /* rcl eax, 1 */
    expect_flags("c1 d8 03", CF, CF | OF); /* rcr eax, 3 */
    expect_flags("d1 c0", 0, CF | OF);    /* rol eax, 1 */
    expect_flags("c0 c8 03", 0, CF | OF); /* ror al, 3 */
    expect_flags("f5", CF, CF);           /* cmc */
    expect_flags("d6", CF, 0);            /* salc */
    expect_flags("27", CF | AF, A);       /* daa */
    expect_flags("2f", CF | AF, A);       /* das */
    expect_flags("37", AF, A);            /* aaa */
    expect_flags("3f", AF, A);            /* aas */
}

static void test_strings(void **state)
{
    expect_flags("a4", DF, 0);
    expect_flags("f3 a5", DF, 0);
    expect_flags("aa", DF, 0);
    expect_flags("66 ab", DF, 0);
    expect_flags("ac", DF, 0);
    expect_flags("a6", DF, A);
    expect_flags("af", DF, A);
    /* REPE/REPNE with ECX = 0 compare nothing: the flags pass through. */
    expect_flags("f3 a6", DF | A, A);
    expect_flags("f2 ae", DF | A, A);
    expect_flags("6c", DF, 0);            /* insb */
    expect_flags("f3 6f", DF, 0);         /* rep outsd */
}

static void test_flag_instructions(void **state)
{
    expect_flags("9c", ALL16, 0);         /* pushfd */
    expect_flags("66 9c", ALL16, 0);      /* pushf */
    /* POPF at CPL > 0 keeps IOPL, and IF unless CPL <= IOPL. */
    expect_flags("9d", FL_IF | FL_IOPL, ALL16);
    expect_flags("9e", 0, SF | ZF | AF | PF | CF);   /* sahf */
    expect_flags("9f", SF | ZF | AF | PF | CF, 0);   /* lahf */
    expect_flags("f8", 0, CF);
    expect_flags("f9", 0, CF);
    expect_flags("fc", 0, DF);
    expect_flags("fd", 0, DF);
    expect_flags("fa", 0, FL_IF);
    expect_flags("fb", 0, FL_IF);
    expect_flags("cf", FL_NT | FL_IF | FL_IOPL, ALL16);  /* iretd */
    expect_flags("cd 80", ALL16, FL_TF | FL_NT | FL_IF);
}

/* The written set of every ALU, shift, multiply, divide, bit and BCD
 * instruction, undefined flags included. */
static void test_written(void **state)
{
    static const struct { const char *hex; unsigned fw; } t[] = {
        { "01 c8", A }, { "09 c8", A }, { "21 c8", A }, { "29 c8", A }, { "31 c8", A },
        { "39 c8", A }, { "85 c8", A }, { "a8 01", A }, { "f7 d8", A }, { "80 38 01", A },
        { "f7 d0", 0 },                                 /* not */
        { "40", A & ~CF }, { "48", A & ~CF }, { "fe c0", A & ~CF }, { "ff 08", A & ~CF },
        { "f7 e1", A }, { "f7 e9", A }, { "0f af c1", A }, { "6b c0 03", A },
        { "69 c0 00 01 00 00", A }, { "f7 f1", A }, { "f7 f9", A }, { "f6 f1", A },
        { "c1 e0 04", A }, { "c1 e8 04", A }, { "c1 f8 04", A }, { "d0 e0", A },
        { "0f a4 c2 04", A }, { "0f ac c2 04", A },
        { "0f a3 c8", CF | OF | SF | AF | PF },          /* bt: ZF unchanged */
        { "0f ab c8", CF | OF | SF | AF | PF }, { "0f b3 c8", CF | OF | SF | AF | PF },
        { "0f bb c8", CF | OF | SF | AF | PF }, { "0f ba e0 04", CF | OF | SF | AF | PF },
        { "0f bc c1", A }, { "0f bd c1", A }, { "f3 0f bc c1", A },
        { "d4 0a", A }, { "d5 0a", A },
        { "0f b1 0a", A }, { "0f c1 c8", A }, { "0f c7 0e", ZF },
        { "0f 02 c1", ZF }, { "0f 03 c1", ZF }, { "0f 00 e0", ZF }, { "0f 00 e8", ZF },
        { "63 c1", ZF },                                /* arpl */
        { "0f 22 c0", A },                              /* mov cr0: flags undefined */
        { "0f 2f c1", A }, { "66 0f 2e c1", A },        /* (u)comis[sd] */
        { "db f1", A }, { "df e9", A },                 /* fcomi, fucomip */
        /* no flags */
        { "89 c8", 0 }, { "8d 04 40", 0 }, { "90", 0 }, { "50", 0 }, { "0f b6 c1", 0 },
        { "0f c8", 0 }, { "87 c8", 0 }, { "98", 0 }, { "99", 0 }, { "0f 1f 00", 0 },
        { "d9 e8", 0 }, { "0f 58 c1", 0 }, { "0f c2 c1 00", 0 }, { "e8 00 00 00 00", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[16];
        size_t n = parse_hex(t[i].hex, b);
        struct insn in;
        if (decode_insn(dec, b, n, 0, &in) != 0 || in.flags_written != t[i].fw)
            fail_msg("\"%s\": written %#x, expected %#x", t[i].hex, in.flags_written, t[i].fw);
    }
}

/* "If the masked count is 0, the flags are not affected": an immediate
 * count that masks to 0 writes nothing; a CL count may pass everything
 * through, so what it writes it also reads. */
static void test_shift_counts(void **state)
{
    expect_flags("d1 e0", 0, A);          /* shl eax, 1 */
    expect_flags("c1 e0 00", 0, 0);       /* shl eax, 0 */
    expect_flags("c1 e0 20", 0, 0);       /* shl eax, 32: masked to 0 */
    expect_flags("c0 e0 21", 0, A);       /* shl al, 33: masked to 1 */
    expect_flags("d3 e0", A, A);          /* shl eax, cl */
    expect_flags("d2 f8", A, A);          /* sar al, cl */
    expect_flags("d3 c0", CF | OF, CF | OF);  /* rol eax, cl */
    expect_flags("d3 d0", CF | OF, CF | OF);  /* rcl eax, cl: reads CF anyway */
    expect_flags("c1 d0 00", CF, 0);      /* rcl eax, 0 */
    expect_flags("0f a4 c2 00", 0, 0);    /* shld edx, eax, 0 */
    expect_flags("0f a5 c2", A, A);       /* shld edx, eax, cl */
    expect_flags("0f ad c2", A, A);       /* shrd edx, eax, cl */
}

/* The liveness rule on a sequence: after "cmp; shl eax, cl; jz" the ZF of
 * the CMP is still live across the shift (CL may be 0), while after
 * "cmp; shl eax, 1; jz" it is not. */
static unsigned live_before(const char *const *seq, int n, unsigned live_out)
{
    unsigned live = live_out;
    for (int i = n - 1; i >= 0; i--) {
        uint8_t b[16];
        size_t len = parse_hex(seq[i], b);
        struct insn in;
        assert_int_equal(decode_insn(dec, b, len, 0, &in), 0);
        live = in.flags_read | (live & ~in.flags_written);
    }
    return live;
}

static void test_liveness(void **state)
{
    static const char *const by_cl[] = { "d3 e0", "74 00" };
    static const char *const by_one[] = { "d1 e0", "74 00" };
    static const char *const adc[] = { "01 c8", "11 d3" };  /* add; adc: CF flows */
    assert_true(live_before(by_cl, 2, 0) & ZF);
    assert_false(live_before(by_one, 2, 0) & ZF);
    assert_int_equal(live_before(adc, 2, 0), 0);
    assert_int_equal(live_before(adc + 1, 1, 0), CF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_carry_readers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_flag_instructions),
        cmocka_unit_test(test_written),
        cmocka_unit_test(test_shift_counts),
        cmocka_unit_test(test_liveness),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
