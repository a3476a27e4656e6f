/* Regression tests for what the decoder does that Capstone 4.0.2 does not
 * (the probes in decoder/): valid
 * encodings Capstone rejects, wrong lengths and operand sizes, immediates it
 * mislays, invalid encodings it accepts (LOCK, MOV CS, reserved mandatory
 * prefixes); then truncated input, and two properties checked on random
 * instructions from a fixed seed: every proper prefix of a valid
 * instruction is "too short" (-2), and the order of the legacy prefixes
 * does not change the result. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "decoder/decoder.h"

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

/* Decodes hex (all of it available) at EIP 0x1000. */
static int decode_hex(const char *hex, struct insn *in)
{
    uint8_t b[32];
    size_t n = parse_hex(hex, b);
    return decode_insn(dec, b, n, 0x1000, in);
}

static void expect_valid(const char *hex, int len, uint8_t kind)
{
    struct insn in;
    int rc = decode_hex(hex, &in);
    if (rc != 0 || in.len != len || in.kind != kind)
        fail_msg("\"%s\": rc %d len %d kind %s, expected rc 0 len %d kind %s", hex, rc, in.len,
                 insn_kind_name(in.kind), len, insn_kind_name(kind));
}

static void expect_invalid(const char *hex)
{
    struct insn in;
    uint8_t b[32];
    size_t n = parse_hex(hex, b);
    int rc = decode_insn(dec, b, n, 0x1000, &in);
    if (rc != -1 || in.kind != K_INVALID || in.cls != CLS_INVALID || !(in.flags & INSN_F_ENDS_BLK) ||
        in.len < 1 || in.len > n)
        fail_msg("\"%s\": rc %d kind %s len %d, expected rc -1 kind invalid", hex, rc,
                 insn_kind_name(in.kind), in.len);
}

static void expect_short(const char *hex)
{
    struct insn in;
    int rc = decode_hex(hex, &in);
    if (rc != -2)
        fail_msg("\"%s\": rc %d, expected -2 (too short)", hex, rc);
}

/* Issues #1335, #1506, #1259: the reserved hint NOPs, register and memory
 * forms, any prefix but LOCK. Lengths follow the ModRM layout. */
static void test_hint_nops(void **state)
{
    static const struct { const char *hex; int len; } t[] = {
        { "0f 1f c0", 3 },                      /* Capstone: invalid */
        { "66 0f 1f c0", 4 },
        { "0f 1f 00", 3 },
        { "0f 1f 40 00", 4 },
        { "0f 1f 44 00 00", 5 },
        { "66 0f 1f 44 00 00", 6 },
        { "0f 1f 80 00 00 00 00", 7 },
        { "0f 1f 84 00 00 00 00 00", 8 },
        { "66 2e 0f 1f 84 00 00 00 00 00", 10 },
        { "0f 18 20", 3 },                      /* 0F 18 /4: NOP */
        { "0f 18 c0", 3 },                      /* Capstone: invalid */
        { "0f 19 c0", 3 },
        { "0f 1a c0", 3 },                      /* Capstone: invalid */
        { "0f 1b 05 00 10 00 00", 7 },
        { "f3 0f 1b c0", 4 },
        { "0f 1c c0", 3 },                      /* Capstone: invalid */
        { "0f 1d c0", 3 },                      /* Capstone: invalid */
        { "0f 1e c0", 3 },
        { "f3 0f 1e fb", 4 },                   /* ENDBR32: Capstone reports no ModRM */
        { "f3 0f 1e fa", 4 },                   /* ENDBR64 */
        { "0f 0d 00", 3 },                      /* 0F 0D /0: Capstone invalid */
        { "0f 0d 10", 3 },
        { "0f 0d 38", 3 },
        { "0f 0d c0", 3 },
        { "67 0f 1f 06 34 12", 6 },             /* 16-bit addressing: disp16 */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct insn in;
        expect_valid(t[i].hex, t[i].len, K_COPY_MEM);
        decode_hex(t[i].hex, &in);
        if (!(in.flags & INSN_F_HINT_NOP) || in.modrm_off != in.npfx + 2)
            fail_msg("\"%s\": flags %#x modrm_off %d", t[i].hex, in.flags, in.modrm_off);
    }
    /* PREFETCHh and PREFETCHW are instructions, but 0F 0D /1 is a hint too. */
    struct insn in;
    assert_int_equal(decode_hex("0f 18 08", &in), 0);
    assert_int_equal(in.id, X86_INS_PREFETCHT0);
    assert_false(in.flags & INSN_F_HINT_NOP);
    assert_int_equal(decode_hex("0f 0d 08", &in), 0);
    assert_true(in.flags & INSN_F_HINT_NOP);
    expect_invalid("f0 0f 1f 00");                  /* LOCK: #UD */
}

/* 66 before F2/F3: Capstone loses the 66 (issues #356, #452). */
static void test_66_before_rep(void **state)
{
    struct insn in;
    assert_int_equal(decode_hex("66 f3 a5", &in), 0);
    assert_int_equal(in.opsize, 2);
    assert_int_equal(in.rep, 0xf3);
    assert_int_equal(in.kind, K_STRING);
    assert_int_equal(in.id, X86_INS_MOVSW);

    /* add ax, imm16 with a stray F3: 5 bytes, imm16 (Capstone: imm 4). */
    assert_int_equal(decode_hex("66 f3 05 34 12", &in), 0);
    assert_int_equal(in.len, 5);
    assert_int_equal(in.imm_off, 3);
    assert_int_equal(in.imm_size, 2);
    assert_int_equal(in.imm, 0x1234);

    /* The length bug: 66 F3 E8 rel16 is 5 bytes, target truncated to 16
     * bits (Capstone: 7 bytes, or invalid when only 5 are given). */
    assert_int_equal(decode_hex("66 f3 e8 00 10", &in), 0);
    assert_int_equal(in.len, 5);
    assert_int_equal(in.kind, K_CALL);
    assert_int_equal(in.imm_size, 2);
    assert_int_equal(in.target, (0x1000 + 5 + 0x1000) & 0xffff);
    assert_int_equal(decode_hex("66 f3 e8 00 10 90 90", &in), 0);
    assert_int_equal(in.len, 5);
    assert_int_equal(decode_hex("66 2e f2 e8 00 10", &in), 0);
    assert_int_equal(in.len, 6);
    assert_int_equal(in.target, 0x2006);

    /* 66 [..] F2|F3 A0-A3: Capstone rejects the moffs form. */
    expect_valid("66 f3 a1 78 56 34 12", 7, K_MOFFS);
    expect_valid("66 f2 a3 78 56 34 12", 7, K_MOFFS);
    assert_int_equal(decode_hex("66 f3 a1 78 56 34 12", &in), 0);
    assert_int_equal(in.disp, 0x12345678);
    assert_int_equal(in.opsize, 2);
}

/* 66|F2|F3 <seg> 0F xx: the mandatory prefix stays mandatory. */
static void test_mandatory_prefix_order(void **state)
{
    struct insn in;
    assert_int_equal(decode_hex("66 2e 0f 58 c1", &in), 0);
    assert_int_equal(in.id, X86_INS_ADDPD);
    assert_int_equal(decode_hex("f3 64 0f 58 00", &in), 0);
    assert_int_equal(in.id, X86_INS_ADDSS);
    assert_int_equal(in.seg, SEG_FS);
    assert_int_equal(decode_hex("f2 3e 0f 10 00", &in), 0);
    assert_int_equal(in.id, X86_INS_MOVSD);
    assert_int_equal(in.kind, K_COPY_MEM);
    /* F2/F3 take precedence over 66 whatever the order (SDM vol. 2 §2.1.2). */
    assert_int_equal(decode_hex("f3 66 0f 10 c1", &in), 0);
    assert_int_equal(in.id, X86_INS_MOVSS);
    assert_int_equal(decode_hex("66 f3 0f 10 c1", &in), 0);
    assert_int_equal(in.id, X86_INS_MOVSS);
}

/* The four classes where Capstone's immediate fields are wrong (note §2.2). */
static void test_immediates(void **state)
{
    struct insn in;
    assert_int_equal(decode_hex("9a 78 56 34 12 08 00", &in), 0);
    assert_int_equal(in.imm_off, 1);
    assert_int_equal(in.imm_size, 6);
    assert_int_equal(in.imm, 0x12345678);
    assert_int_equal(in.imm2, 8);
    assert_int_equal(decode_hex("66 ea 34 12 10 00", &in), 0);
    assert_int_equal(in.imm_size, 4);
    assert_int_equal(in.imm, 0x1234);
    assert_int_equal(in.imm2, 0x10);

    assert_int_equal(decode_hex("c8 00 80 1f", &in), 0);       /* enter 0x8000, 31 */
    assert_int_equal(in.imm_off, 1);
    assert_int_equal(in.imm_size, 3);
    assert_int_equal(in.imm, 0x8000);                          /* unsigned */
    assert_int_equal(in.imm2, 31);

    assert_int_equal(decode_hex("66 e7 f0", &in), 0);          /* out 0xf0, ax */
    assert_int_equal(in.imm_size, 1);
    assert_int_equal(in.imm, 0xf0);
    assert_int_equal(decode_hex("e5 ff", &in), 0);
    assert_int_equal(in.imm, 0xff);

    assert_int_equal(decode_hex("66 f2 81 c0 ff 7f", &in), 0); /* add ax, 0x7fff */
    assert_int_equal(in.len, 6);
    assert_int_equal(in.imm_size, 2);
    assert_int_equal(in.imm, 0x7fff);

    /* AAM/AAD with the default base: Capstone drops the operand. */
    assert_int_equal(decode_hex("d5 0a", &in), 0);
    assert_int_equal(in.imm, 10);
    /* Sign extension as the instruction does it. */
    assert_int_equal(decode_hex("83 c0 80", &in), 0);
    assert_int_equal(in.imm, -128);
    assert_int_equal(decode_hex("cd ff", &in), 0);
    assert_int_equal(in.imm, 255);
    assert_int_equal(decode_hex("c1 e0 ff", &in), 0);
    assert_int_equal(in.imm, 255);
}

/* UD1/UD0 take a ModRM; Capstone stops after the opcode and rejects UD0
 * after any prefix. */
static void test_ud(void **state)
{
    expect_valid("0f 0b", 2, K_UD);
    expect_valid("0f b9 c0", 3, K_UD);
    expect_valid("0f b9 84 00 00 00 00 00", 8, K_UD);
    expect_valid("0f ff 00", 3, K_UD);
    expect_valid("36 0f ff 27", 4, K_UD);
    expect_valid("66 0f ff c0", 4, K_UD);
    expect_short("0f ff");
}

/* LFENCE/MFENCE/SFENCE ignore the r/m field; Capstone only takes r/m 0. */
static void test_fences(void **state)
{
    static const struct { const char *hex; unsigned id; } t[] = {
        { "0f ae e8", X86_INS_LFENCE }, { "0f ae ef", X86_INS_LFENCE },
        { "0f ae f0", X86_INS_MFENCE }, { "0f ae f5", X86_INS_MFENCE },
        { "0f ae f8", X86_INS_SFENCE }, { "0f ae ff", X86_INS_SFENCE },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct insn in;
        expect_valid(t[i].hex, 3, K_COPY_MEM);
        decode_hex(t[i].hex, &in);
        assert_int_equal(in.id, t[i].id);
        assert_int_equal(in.cls, CLS_IDENT);
    }
}

/* LOCK (SDM LOCK): only ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B DEC INC
 * NEG NOT OR SBB SUB XOR XADD XCHG, only with a memory destination. */
static void test_lock(void **state)
{
    static const char *const ok[] = {
        "f0 00 00", "f0 01 00", "f0 08 00", "f0 09 00", "f0 10 00", "f0 11 00",
        "f0 18 00", "f0 19 00", "f0 20 00", "f0 21 00", "f0 28 00", "f0 29 00",
        "f0 30 00", "f0 31 00", "f0 80 00 01", "f0 81 08 01 00 00 00", "f0 82 10 01",
        "f0 83 30 01", "f0 fe 00", "f0 ff 08", "f0 f6 10", "f0 f7 18",
        "f0 86 00", "f0 87 00", "f0 0f ab 00", "f0 0f b3 00", "f0 0f bb 00",
        "f0 0f ba 28 01", "f0 0f ba 30 01", "f0 0f ba 38 01", "f0 0f b0 00",
        "f0 0f b1 00", "f0 0f c0 00", "f0 0f c1 00", "f0 0f c7 08",
        "f0 66 01 00", "64 f0 01 00", "f2 f0 01 00", "f3 f0 87 00",
    };
    /* Capstone accepts these: the ALU forms with a register destination and
     * a memory source. */
    static const char *const capstone_accepts[] = {
        "f0 02 00", "f0 03 00", "f0 0a 00", "f0 0b 00", "f0 12 00", "f0 13 00",
        "f0 22 00", "f0 23 00", "f0 2a 00", "f0 2b 00", "f0 32 00", "f0 33 00",
    };
    static const char *const bad[] = {
        "f0 01 c0",             /* register destination */
        "f0 87 c0", "f0 0f c1 c0", "f0 f7 d8",
        "f0 83 38 01",          /* CMP */
        "f0 38 00", "f0 39 00", /* CMP r/m, r (Unicorn aborts on these) */
        "f0 84 00",             /* TEST */
        "f0 f6 00 01",          /* TEST imm */
        "f0 0f a3 00",          /* BT */
        "f0 0f ba 20 01",       /* BT imm */
        "f0 89 00", "f0 8b 00", "f0 c7 00 01 00 00 00",
        "f0 40", "f0 90", "f0 50", "f0 a4", "f0 a6", "f0 a7",
        "f0 0f af 00", "f0 0f b6 00", "f0 ff 20", "f0 0f 0b",
        "f0 0f 20 c0",          /* AMD's alternative MOV CR8 encoding */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct insn in;
        if (decode_hex(ok[i], &in) != 0 || !(in.flags & INSN_F_LOCK) || !(in.flags & INSN_F_MEM))
            fail_msg("\"%s\" should be a valid LOCK form", ok[i]);
    }
    for (size_t i = 0; i < sizeof capstone_accepts / sizeof capstone_accepts[0]; i++)
        expect_invalid(capstone_accepts[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_invalid(bad[i]);
}

/* MOV Sreg: no Sreg 6/7, and MOV CS,r/m is #UD (Capstone accepts 8E /1). */
static void test_mov_sreg(void **state)
{
    for (int reg = 0; reg < 8; reg++) {
        char hex[16];
        struct insn in;
        snprintf(hex, sizeof hex, "8e %02x", 0xc0 | reg << 3);
        int rc = decode_hex(hex, &in);
        if (reg == SEG_CS || reg > SEG_GS)
            assert_int_equal(rc, -1);
        else
            assert_true(rc == 0 && in.kind == K_SEG);
        snprintf(hex, sizeof hex, "8c %02x", 0xc0 | reg << 3);
        rc = decode_hex(hex, &in);
        if (reg > SEG_GS)
            assert_int_equal(rc, -1);
        else
            assert_true(rc == 0 && in.kind == K_SEG);
    }
}

/* Encodings that are not i686 instructions. */
static void test_invalid(void **state)
{
    static const char *const t[] = {
        "0f 04", "0f 0a", "0f 0c", "0f 24 c0", "0f 26 c0", "0f 36", "0f 39",
        "0f a6 c0", "0f a7 c0",
        "0f 05", "0f 07", "0f 37",              /* SYSCALL SYSRET GETSEC */
        "0f 0e", "0f 0f c0 9e",                 /* 3DNow! */
        "0f 38 00 c1", "66 0f 3a 0f c1 00",     /* SSSE3 */
        "f3 0f b8 c1",                          /* POPCNT */
        "c5 f9 77", "c4 e2 79 00 c1",           /* AVX */
        "c6 f8 00", "c7 f8 00 00 00 00", "0f 01 d5", /* RTM */
        "0f 01 d0", "0f 01 f9", "0f c7 f0",     /* XGETBV RDTSCP RDRAND */
        "c6 c8 00", "fe d0", "ff f8", "8f c8",  /* undefined group members */
        "8d c0", "c4 c0", "62 c0", "ff d8", "0f b2 c0", "0f c7 c8", /* need memory */
        /* reserved mandatory prefixes: Capstone ignores the prefix */
        "f3 0f 74 c1", "f2 0f 6f 00", "f2 0f d7 c0", "66 0f 77", "66 0f c3 00",
        "0f d6 c1", "0f f0 00", "66 0f 53 c1",
        "66 0f 12 c0", "66 0f 16 c0",           /* MOVLPD/MOVHPD need memory */
        /* longer than 15 bytes */
        "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90",
        "66 66 66 66 66 66 66 66 66 66 66 66 66 05 34 12",
        "67 67 67 67 67 67 67 67 67 67 67 0f 1f 80 00 00 00 00",
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        expect_invalid(t[i]);
    expect_valid("f3 0f 58 c1", 4, K_COPY_MEM);   /* addss is fine */
    expect_valid("d6", 1, K_SALC);
    expect_valid("0f 0b", 2, K_UD);
    /* The report covers the prefixes and opcode bytes. */
    struct insn in;
    assert_int_equal(decode_hex("2e 0f 04 00 00", &in), -1);
    assert_int_equal(in.len, 3);
    assert_int_equal(in.npfx, 1);
}

/* Prefix idioms compilers and kernels emit: the prefix is ignored or a
 * hint, the instruction is what it is without it. */
static void test_idioms(void **state)
{
    expect_valid("f3 c3", 2, K_RET);                        /* rep ret (AMD tuning) */
    expect_valid("f2 c3", 2, K_RET);                        /* bnd ret */
    expect_valid("f2 e8 00 00 00 00", 6, K_CALL);           /* bnd call */
    expect_valid("f2 ff e0", 3, K_JMP_IND);                 /* bnd jmp */
    expect_valid("3e ff e0", 3, K_JMP_IND);                 /* notrack jmp */
    expect_valid("3e 74 05", 3, K_JCC);                     /* branch-taken hint */
    expect_valid("2e 0f 84 00 00 00 00", 7, K_JCC);         /* branch-not-taken hint */
    expect_valid("66 66 2e 0f 1f 84 00 00 00 00 00", 11, K_COPY_MEM);
    expect_valid("65 a1 14 00 00 00", 6, K_MOFFS);          /* mov eax, gs:[0x14] */
    expect_valid("f3 ab", 2, K_STRING);
}

/* The last segment override and the last of F2/F3 win. */
static void test_last_prefix_wins(void **state)
{
    struct insn in;
    assert_int_equal(decode_hex("26 64 65 8b 00", &in), 0);
    assert_int_equal(in.seg, SEG_GS);
    assert_int_equal(decode_hex("65 26 8b 00", &in), 0);
    assert_int_equal(in.seg, SEG_ES);
    assert_int_equal(decode_hex("f3 f2 ae", &in), 0);
    assert_int_equal(in.rep, 0xf2);
    assert_int_equal(decode_hex("f2 f3 ae", &in), 0);
    assert_int_equal(in.rep, 0xf3);
    assert_int_equal(decode_hex("8b 00", &in), 0);
    assert_int_equal(in.seg, SEG_NONE);
    assert_int_equal(in.rep, 0);
}

static void test_truncated(void **state)
{
    struct insn in;
    uint8_t b[1] = { 0x90 };
    assert_int_equal(decode_insn(dec, b, 0, 0, &in), -2);
    static const char *const t[] = {
        "66", "f0", "66 f3 2e", "0f", "0f 38", "f0 0f", "0f c7", "ff",
        "8b", "8b 04", "8b 84 24 00", "8b 05 00 00 00", "67 8b 06 00",
        "05 00 00 00", "66 05 00", "e8 00 00 00", "66 e8 00", "66 f3 e8 00",
        "0f 85 00 00", "c8 10 00", "9a 78 56 34 12 08", "66 9a 78 56 34",
        "a1 78 56 34", "67 a1 78", "0f 1f 84 00 00 00", "0f 1f", "0f ff",
        "0f b9", "f3 0f 1e", "0f ba e0", "d9", "c4", "62",
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        expect_short(t[i]);
    /* Known-invalid opcodes are invalid even at the end of the bytes. */
    expect_invalid("0f 04");
    expect_invalid("0f 0a");
    expect_invalid("f0 90");
    assert_int_equal(decode_hex("0f 0b", &in), 0);
    /* More bytes than 15 are fine. */
    uint8_t big[64] = { 0x90 };
    assert_int_equal(decode_insn(dec, big, sizeof big, 0, &in), 0);
    assert_int_equal(in.len, 1);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint8_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

/* A random instruction: 0-4 legacy prefixes, a one-byte or 0F opcode, and
 * random bytes with plenty of zeros (for ModRM/SIB variety). */
static void random_insn(uint8_t b[15], int *npfx)
{
    static const uint8_t pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65 };
    int k = 0, np = rnd() % 5;
    for (int i = 0; i < np; i++)
        b[k++] = pfx[rnd() % sizeof pfx];
    if (rnd() & 1)
        b[k++] = 0x0f;
    b[k++] = rnd();
    while (k < 15)
        b[k++] = rnd() % 3 ? rnd() : 0;
    *npfx = np;
}

/* Every proper prefix of a valid instruction says "too short"; a prefix
 * that says "invalid" never grows into a valid instruction. */
static void test_truncation_property(void **state)
{
    int valid = 0;
    for (int i = 0; i < 20000; i++) {
        uint8_t b[15];
        int np;
        struct insn full, part;
        random_insn(b, &np);
        int rc = decode_insn(dec, b, 15, 0, &full);
        valid += rc == 0;
        for (size_t n = 1; n < 15; n++) {
            int rn = decode_insn(dec, b, n, 0, &part);
            if (rc == 0 && n < full.len && rn != -2)
                fail_msg("%zu of %d bytes gave %d, not -2", n, full.len, rn);
            if (rc == 0 && n >= full.len && (rn != 0 || part.len != full.len))
                fail_msg("%zu bytes changed the decode", n);
            if (rn == -1 && rc != -1)
                fail_msg("%zu bytes were invalid but 15 are not", n);
        }
    }
    assert_true(valid > 10000);
}

static int group(uint8_t b)
{
    switch (b) {
    case 0xf0: return 0;
    case 0xf2: case 0xf3: return 1;
    case 0x66: return 2;
    case 0x67: return 3;
    default: return 4;
    }
}

/* Legacy prefix order carries no meaning (SDM vol. 2 §2.1.1): reordering
 * the groups, keeping each group's own order, changes nothing. Capstone's
 * answers depend on the order. */
static void test_prefix_order_property(void **state)
{
    int permuted = 0;
    for (int i = 0; i < 30000; i++) {
        uint8_t b[15], q[15];
        int np;
        random_insn(b, &np);
        memcpy(q, b, sizeof q);
        for (int t = 0; t < 8 && np > 1; t++) {
            int x = rnd() % np, y = rnd() % np, ok = x < y && group(q[x]) != group(q[y]);
            for (int m = x + 1; ok && m < y; m++)
                ok = group(q[m]) != group(q[x]) && group(q[m]) != group(q[y]);
            if (ok) {
                uint8_t z = q[x];
                q[x] = q[y];
                q[y] = z;
                permuted++;
            }
        }
        struct insn a, c;
        int ra = decode_insn(dec, b, 15, 0, &a), rc = decode_insn(dec, q, 15, 0, &c);
        memcpy(c.bytes, a.bytes, sizeof c.bytes);
        if (ra != rc || (ra == 0 && memcmp(&a, &c, sizeof a)))
            fail_msg("prefix order changed the decode of %02x %02x %02x %02x %02x", b[0], b[1],
                     b[2], b[3], b[4]);
    }
    assert_true(permuted > 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hint_nops),
        cmocka_unit_test(test_66_before_rep),
        cmocka_unit_test(test_mandatory_prefix_order),
        cmocka_unit_test(test_immediates),
        cmocka_unit_test(test_ud),
        cmocka_unit_test(test_fences),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_mov_sreg),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_idioms),
        cmocka_unit_test(test_last_prefix_wins),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_truncation_property),
        cmocka_unit_test(test_prefix_order_property),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
