/* test_bt_emit — the host-code encoder, checked by disassembling it.
 *
 * Every emit_* function in bt/emit.h is called over the register and
 * displacement combinations where x86-64 encodings differ: low registers and
 * r8-r15 (REX.R/X/B), rsp/r12 as a base (SIB required), rbp/r13 as a base
 * with displacement 0 (mod=01 with disp8 0: mod=00 would mean RIP-relative or
 * no base), disp8/disp32 boundaries (-128, 127, -129, 128), no-base SIB forms,
 * every index and scale. Each result must decode (Capstone, 64-bit mode) as
 * exactly one instruction covering every emitted byte, and its text must be
 * the one computed here independently of the encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>
#include <cmocka.h>

#include "bt/emit.h"

#define RX 0x7f0000400000ull   /* pretend RX address of the buffer */

static const char *const r64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                     "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const r32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                     "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" };
static const char *const r16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                     "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" };
static const char *const r8n[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                     "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" };

/* Displacements around every encoding boundary. */
static const int32_t disps[] = { 0, 1, -1, 9, 10, 127, -128, 128, -129, -4096,
                                 0x7fffffff, INT32_MIN };
#define NDISP (sizeof disps / sizeof disps[0])

static csh cs;
static int mismatches;

static int setup(void **state)
{
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    cs_close(&cs);
    return 0;
}

static int reset(void **state)
{
    mismatches = 0;
    return 0;
}

/* Capstone prints numbers up to 9 in decimal, larger ones in hex. */
static void fmt_num(char *s, size_t n, uint64_t v)
{
    snprintf(s, n, v <= 9 ? "%llu" : "0x%llx", (unsigned long long)v);
}

/* The text of a memory operand as Capstone prints it: `size ptr [...]`.
 * size "" is LEA's (no size). guest: P_GUEST's form, r14 added as the index
 * (or as the base when there is none). */
static void fmt_mem(char *s, size_t n, const char *size, bool guest, int base, int index,
                    int shift, int32_t disp)
{
    const char *const *names = r64;
    char in[96] = "", num[32];
    size_t k = 0;

    if (guest && base < 0)
        base = H_R14;
    else if (guest)
        index = H_R14, shift = 0;

    if (base >= 0)
        k += (size_t)snprintf(in + k, sizeof in - k, "%s", names[base]);
    if (index >= 0) {
        k += (size_t)snprintf(in + k, sizeof in - k, "%s%s", base >= 0 ? " + " : "", names[index]);
        if (shift)
            k += (size_t)snprintf(in + k, sizeof in - k, "*%d", 1 << shift);
    }
    if (base < 0 && index < 0) {
        fmt_num(num, sizeof num, (uint32_t)disp);
        snprintf(in + k, sizeof in - k, "%s", num);
    } else if (disp) {
        fmt_num(num, sizeof num, disp < 0 ? (uint64_t)-(int64_t)disp : (uint64_t)disp);
        snprintf(in + k, sizeof in - k, " %c %s", disp < 0 ? '-' : '+', num);
    }
    snprintf(s, n, "%s%s[%s]", size, size[0] ? " ptr " : "", in);
}

/* Disassemble the emitted bytes; they must be exactly one instruction. */
static void disasm_one(const struct emit *e, uint64_t addr, char *text, size_t n)
{
    size_t len = emit_off(e);
    cs_insn *insn;
    size_t count = cs_disasm(cs, e->start, len, addr, 0, &insn);

    if (count != 1 || insn[0].size != len)
        snprintf(text, n, "<%zu instruction(s) in %zu bytes>", count, len);
    else
        snprintf(text, n, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "", insn[0].op_str);
    if (count)
        cs_free(insn, count);
}

/* An absolute [disp32] is sign-extended in 64-bit mode; Capstone prints it
 * as 64 bits after some opcodes and as 32 after others (mov eax,[disp]).
 * Fold the 64-bit spelling to the 32-bit one: "[0xffffffff8xxxxxxx]". */
static void fold_abs_disp(char *s)
{
    char *p = strstr(s, "[0xffffffff");
    if (p && strlen(p) >= 20 && p[19] == ']' && p[11] >= '8')
        memmove(p + 3, p + 11, strlen(p + 11) + 1);
}

static void expect_text(const struct emit *e, const char *want, const char *call)
{
    char got[192];

    if (e->overflow) {
        snprintf(got, sizeof got, "<overflow>");
    } else {
        disasm_one(e, RX, got, sizeof got);
        fold_abs_disp(got);
    }
    if (strcmp(got, want) == 0)
        return;
    if (mismatches++ < 12) {
        char hex[64] = "";
        for (size_t i = 0; i < emit_off(e) && i < 20; i++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%02x ", e->start[i]);
        print_error("%s\n  emitted %s\n  got  \"%s\"\n  want \"%s\"\n", call, hex, got, want);
    }
}

/* Run `stmt` on a fresh emitter `e`, then compare with the text in `want`. */
#define CHECK(want, ...)                                                      \
    do {                                                                      \
        uint8_t buf_[64];                                                     \
        struct emit e_, *e = &e_;                                             \
        emit_init(e, buf_, (uint8_t *)(uintptr_t)RX, sizeof buf_);            \
        __VA_ARGS__;                                                          \
        expect_text(e, want, #__VA_ARGS__);                                   \
    } while (0)

#define DONE() assert_int_equal(mismatches, 0)

/* ---- register forms ----------------------------------------------------- */

static void mov_r_r(void **state)
{
    char w[64];
    for (int d = 0; d < 16; d++)
        for (int s = 0; s < 16; s++) {
            snprintf(w, sizeof w, "mov %s, %s", r32[d], r32[s]);
            CHECK(w, emit_mov_r32_r32(e, d, s));
            snprintf(w, sizeof w, "mov %s, %s", r64[d], r64[s]);
            CHECK(w, emit_mov_r64_r64(e, d, s));
            snprintf(w, sizeof w, "movzx %s, %s", r32[d], r16[s]);
            CHECK(w, emit_movzx_r32_r16(e, d, s));
        }
    DONE();
}

static void not_and_jmp_r64(void **state)
{
    char w[64];
    for (int r = 0; r < 16; r++) {
        snprintf(w, sizeof w, "not %s", r64[r]);
        CHECK(w, emit_not_r64(e, r));
        snprintf(w, sizeof w, "jmp %s", r64[r]);
        CHECK(w, emit_jmp_r64(e, r));
    }
    DONE();
}

static void mov_r_imm(void **state)
{
    static const uint32_t imm32[] = { 0, 9, 10, 0x12345678, 0x80000000, 0xffffffff };
    static const uint64_t imm64[] = { 0, 9, 0xffffffff, 0x100000000ull, 0x7f0012345678ull,
                                      0x8000000000000000ull, 0xffffffffffffffffull };
    char w[64], num[32];
    for (int r = 0; r < 16; r++) {
        for (size_t i = 0; i < sizeof imm32 / sizeof imm32[0]; i++) {
            fmt_num(num, sizeof num, imm32[i]);
            snprintf(w, sizeof w, "mov %s, %s", r32[r], num);
            CHECK(w, emit_mov_r32_imm32(e, r, imm32[i]));
        }
        for (size_t i = 0; i < sizeof imm64 / sizeof imm64[0]; i++) {
            fmt_num(num, sizeof num, imm64[i]);
            snprintf(w, sizeof w, "movabs %s, %s", r64[r], num);
            CHECK(w, emit_mov_r64_imm64(e, r, imm64[i]));
        }
    }
    DONE();
}

/* ---- [base + disp] forms ------------------------------------------------ */

/* Every register in the reg field, every base (and none), every disp. */
static void mov_mem(void **state)
{
    char w[128], m[96];
    for (int base = -1; base < 16; base++)
        for (size_t k = 0; k < NDISP; k++)
            for (int r = 0; r < 16; r++) {
                int32_t d = disps[k];
                fmt_mem(m, sizeof m, "dword", false, base, -1, 0, d);
                snprintf(w, sizeof w, "mov %s, %s", r32[r], m);
                CHECK(w, emit_mov_r32_m32(e, r, base, d));
                snprintf(w, sizeof w, "mov %s, %s", m, r32[r]);
                CHECK(w, emit_mov_m32_r32(e, base, d, r));
                fmt_mem(m, sizeof m, "qword", false, base, -1, 0, d);
                snprintf(w, sizeof w, "mov %s, %s", r64[r], m);
                CHECK(w, emit_mov_r64_m64(e, r, base, d));
                snprintf(w, sizeof w, "mov %s, %s", m, r64[r]);
                CHECK(w, emit_mov_m64_r64(e, base, d, r));
            }
    DONE();
}

static void mov_mem_imm(void **state)
{
    char w[128], m[96];
    for (int base = -1; base < 16; base++)
        for (size_t k = 0; k < NDISP; k++) {
            int32_t d = disps[k];
            fmt_mem(m, sizeof m, "dword", false, base, -1, 0, d);
            snprintf(w, sizeof w, "mov %s, 0x12345678", m);
            CHECK(w, emit_mov_m32_imm32(e, base, d, 0x12345678));
            snprintf(w, sizeof w, "mov %s, 0", m);
            CHECK(w, emit_mov_m32_imm32(e, base, d, 0));
            fmt_mem(m, sizeof m, "byte", false, base, -1, 0, d);
            snprintf(w, sizeof w, "mov %s, 0xff", m);
            CHECK(w, emit_mov_m8_imm8(e, base, d, 0xff));
            snprintf(w, sizeof w, "mov %s, 1", m);
            CHECK(w, emit_mov_m8_imm8(e, base, d, 1));
            fmt_mem(m, sizeof m, "qword", false, base, -1, 0, d);
            snprintf(w, sizeof w, "jmp %s", m);
            CHECK(w, emit_jmp_m64(e, base, d));
        }
    DONE();
}

/* ---- [base + index*scale + disp] ---------------------------------------- */

static void lea(void **state)
{
    static const int regs[] = { H_RAX, H_RSP, H_RBP, H_RDI, H_R8, H_R12, H_R13, H_R15 };
    char w[128], m[96];
    for (size_t ri = 0; ri < sizeof regs / sizeof regs[0]; ri++)
        for (int base = -1; base < 16; base++)
            for (int index = -1; index < 16; index++) {
                if (index == H_RSP)   /* SIB index 100 means "none": rsp cannot be an index */
                    continue;
                for (int shift = 0; shift < 4; shift++)
                    for (size_t k = 0; k < NDISP; k++) {
                        int r = regs[ri];
                        int32_t d = disps[k];
                        if (index < 0 && shift)
                            continue;
                        fmt_mem(m, sizeof m, "", false, base, index, shift, d);
                        snprintf(w, sizeof w, "lea %s, %s", r32[r], m);
                        CHECK(w, emit_lea_r32(e, r, base, index, shift, d));
                        snprintf(w, sizeof w, "lea %s, %s", r64[r], m);
                        CHECK(w, emit_lea_r64(e, r, base, index, shift, d));
                    }
            }
    DONE();
}

/* ---- guest memory: [base + r14 + disp] ----------------------------------- */

static void guest_access(void **state)
{
    char w[128], m[96];
    for (int base = -1; base < 16; base++)
        for (size_t k = 0; k < NDISP; k++)
            for (int r = 0; r < 16; r++) {
                int32_t d = disps[k];
                if (base < 0 && d < 0)
                    continue;   /* [r14 + disp] needs disp < 2^31 (emit.h) */
                fmt_mem(m, sizeof m, "dword", true, base, -1, 0, d);
                snprintf(w, sizeof w, "mov %s, %s", r32[r], m);
                CHECK(w, emit_guest_load32(e, r, base, d));
                snprintf(w, sizeof w, "mov %s, %s", m, r32[r]);
                CHECK(w, emit_guest_store32(e, base, d, r));
                fmt_mem(m, sizeof m, "word", true, base, -1, 0, d);
                snprintf(w, sizeof w, "movzx %s, %s", r32[r], m);
                CHECK(w, emit_guest_load16z(e, r, base, d));
                snprintf(w, sizeof w, "mov %s, %s", m, r16[r]);
                CHECK(w, emit_guest_store16(e, base, d, r));
            }
    DONE();
}

static void guest_store_imm(void **state)
{
    char w[128], m[96];
    for (int base = -1; base < 16; base++)
        for (size_t k = 0; k < NDISP; k++) {
            int32_t d = disps[k];
            if (base < 0 && d < 0)
                continue;
            fmt_mem(m, sizeof m, "dword", true, base, -1, 0, d);
            snprintf(w, sizeof w, "mov %s, 0x87654321", m);
            CHECK(w, emit_guest_store32_imm(e, base, d, 0x87654321));
            fmt_mem(m, sizeof m, "word", true, base, -1, 0, d);
            snprintf(w, sizeof w, "mov %s, 0xbeef", m);
            CHECK(w, emit_guest_store16_imm(e, base, d, 0xbeef));
            snprintf(w, sizeof w, "mov %s, 7", m);
            CHECK(w, emit_guest_store16_imm(e, base, d, 7));
        }
    DONE();
}

/* A few encodings spelled out byte for byte, so that the formatter above is
 * not the only witness. */
static void known_bytes(void **state)
{
    static const struct { const char *what; uint8_t len, b[12]; } t[] = {
        { "mov eax, [rbx+r14+8]",      5, { 0x42, 0x8b, 0x44, 0x33, 0x08 } },
        { "mov r11d, [r15-0x1000]",    7, { 0x45, 0x8b, 0x9f, 0x00, 0xf0, 0xff, 0xff } },
        { "lea r10, [r13+r10*8]",      5, { 0x4f, 0x8d, 0x54, 0xd5, 0x00 } },
        { "lea r10, [r10+r10]",        4, { 0x4f, 0x8d, 0x14, 0x12 } },
        { "mov byte [r15+0x48], 0",    5, { 0x41, 0xc6, 0x47, 0x48, 0x00 } },
        { "mov dword [rsp+r14-4], imm", 9, { 0x42, 0xc7, 0x44, 0x34, 0xfc, 0x78, 0x56, 0x34, 0x12 } },
        { "jmp [r10+8]",               4, { 0x41, 0xff, 0x62, 0x08 } },
        { "movzx r10d, r11w",          4, { 0x45, 0x0f, 0xb7, 0xd3 } },
        { "mov eax, [0x1000]",         7, { 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00 } },
    };
    uint8_t buf[12][16];
    struct emit e[12];
    for (int i = 0; i < 9; i++)
        emit_init(&e[i], buf[i], (uint8_t *)(uintptr_t)RX, sizeof buf[i]);
    emit_guest_load32(&e[0], H_RAX, H_RBX, 8);
    emit_mov_r32_m32(&e[1], H_R11, H_R15, -4096);
    emit_lea_r64(&e[2], H_R10, H_R13, H_R10, 3, 0);
    emit_lea_r64(&e[3], H_R10, H_R10, H_R10, 0, 0);
    emit_mov_m8_imm8(&e[4], H_R15, 0x48, 0);
    emit_guest_store32_imm(&e[5], H_RSP, -4, 0x12345678);
    emit_jmp_m64(&e[6], H_R10, 8);
    emit_movzx_r32_r16(&e[7], H_R10, H_R11);
    emit_mov_r32_m32(&e[8], H_RAX, -1, 0x1000);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(emit_off(&e[i]), t[i].len);
        if (memcmp(buf[i], t[i].b, t[i].len))
            fail_msg("%s: bytes differ", t[i].what);
    }
}

/* ---- the low-level encoder ---------------------------------------------- */

static void prefix_flags(void **state)
{
    char w[128];
    for (int r = 0; r < 16; r++) {
        /* P_BYTER: the reg field is a byte register; 4..7 need a bare REX
         * to mean spl..dil rather than ah..bh. */
        snprintf(w, sizeof w, "mov byte ptr [rax], %s", r8n[r]);
        CHECK(w, emit_modrm_mem(e, OPC_MOVB_EbGb, r, H_RAX, -1, 0, 0));
        snprintf(w, sizeof w, "mov %s, byte ptr [rbx + 1]", r8n[r]);
        CHECK(w, emit_modrm_mem(e, OPC_MOVB_GbEb, r, H_RBX, -1, 0, 1));
        /* P_BYTERM: the r/m field is a byte register. */
        snprintf(w, sizeof w, "mov %s, al", r8n[r]);
        CHECK(w, emit_modrm_reg(e, OPC_MOVB_EbGb | P_BYTERM, H_RAX, r));
        snprintf(w, sizeof w, "movzx eax, %s", r8n[r]);
        CHECK(w, emit_modrm_reg(e, OPC_MOVZBL | P_BYTERM, H_RAX, r));
        /* P_DATA16 (as xlate_stack uses it: mov r16, r11w). */
        snprintf(w, sizeof w, "mov %s, r11w", r16[r]);
        CHECK(w, emit_modrm_reg(e, OPC_MOVL_EvGv | P_DATA16, H_R11, r));
        /* P_GUEST | P_DATA16 together: 66 before the REX. */
        snprintf(w, sizeof w, "mov word ptr [r10 + r14], %s", r16[r]);
        CHECK(w, emit_modrm_mem(e, OPC_MOVL_EvGv | P_GUEST | P_DATA16, r, H_R10, -1, 0, 0));
        /* P_EXT38: movbe r32, m32 (0F 38 F0). */
        snprintf(w, sizeof w, "movbe %s, dword ptr [rsi]", r32[r]);
        CHECK(w, emit_modrm_mem(e, 0xf0 | P_EXT38, r, H_RSI, -1, 0, 0));
        /* P_REXW with an immediate (xlate_block: mov qword [r15+exit_slot], 0). */
        CHECK("mov qword ptr [r15 + 0x30], 0",
              emit_modrm_mem(e, OPC_MOVL_EvIz | P_REXW, 0, H_R15, -1, 0, 0x30); emit_u32(e, 0));
    }
    /* emit_opc alone: prefixes, REX.W/R/X/B and escapes; the caller adds ModRM. */
    CHECK("mov r9, r12", emit_opc(e, OPC_MOVL_GvEv | P_REXW, H_R9, H_R12, -1); emit_u8(e, 0xcc));
    CHECK("lea eax, [rbx + r9]", emit_opc(e, OPC_LEA, H_RAX, H_RBX, H_R9);
          emit_u8(e, 0x04); emit_u8(e, 0x0b));
    CHECK("lea r8d, [r13 + r14*4]", emit_opc(e, OPC_LEA, H_R8, H_R13, H_R14);
          emit_u8(e, 0x44); emit_u8(e, 0xb5); emit_u8(e, 0));
    CHECK("cpuid", emit_opc(e, 0xa2 | P_EXT, 0, 0, -1));
    /* Without P_BYTER a byte opcode with reg 4..7 means ah..bh. */
    CHECK("mov byte ptr [rax], ah", emit_modrm_mem(e, 0x88, H_RSP, H_RAX, -1, 0, 0));
    DONE();
}

static void raw_bytes_and_positions(void **state)
{
    uint8_t buf[32];
    struct emit e;
    emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
    assert_int_equal(emit_off(&e), 0);
    assert_true(emit_rx_here(&e) == RX);
    emit_u8(&e, 0x11);
    emit_u16(&e, 0x2233);
    emit_u32(&e, 0x44556677);
    emit_u64(&e, 0x8899aabbccddeeffull);
    emit_bytes(&e, "\x01\x02\x03", 3);
    static const uint8_t want[] = { 0x11, 0x33, 0x22, 0x77, 0x66, 0x55, 0x44,
                                    0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 1, 2, 3 };
    assert_int_equal(emit_off(&e), sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_true(emit_rx_here(&e) == RX + sizeof want);
    assert_false(e.overflow);
}

static void overflow_stops_writing(void **state)
{
    uint8_t buf[16];
    struct emit e;
    memset(buf, 0xcc, sizeof buf);
    emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, 5);
    emit_mov_r32_imm32(&e, H_RAX, 0x12345678);   /* 5 bytes: fits exactly */
    assert_false(e.overflow);
    emit_u8(&e, 0x90);
    assert_true(e.overflow);
    emit_mov_r64_imm64(&e, H_R10, 0);
    assert_true(e.overflow);
    for (size_t i = 5; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xcc);
    assert_int_equal(emit_off(&e), 5);
}

/* ---- control flow ------------------------------------------------------- */

static void jmp_jcc_rel32(void **state)
{
    static const char *const cc[16] = { "jo", "jno", "jb", "jae", "je", "jne", "jbe", "ja",
                                        "js", "jns", "jp", "jnp", "jl", "jge", "jle", "jg" };
    static const int64_t delta[] = { 0, 5, 6, -1, 0x1000, -0x1000, 0x7fff0000, -0x7fff0000 };
    char w[64];
    for (size_t k = 0; k < sizeof delta / sizeof delta[0]; k++) {
        uint64_t t = RX + 0x100 + (uint64_t)delta[k];
        uint8_t buf[0x120];
        struct emit e;
        size_t off;

        /* Emitted 0x100 bytes into the unit, so rel32 is taken from there. */
        emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
        e.p += 0x100;
        off = emit_jmp_rel32(&e, t);
        assert_int_equal(off, 0x101);
        {
            cs_insn *in;
            size_t n = cs_disasm(cs, buf + 0x100, 5, RX + 0x100, 0, &in);
            assert_int_equal(n, 1);
            snprintf(w, sizeof w, "0x%llx", (unsigned long long)t);
            assert_string_equal(in[0].mnemonic, "jmp");
            assert_string_equal(in[0].op_str, w);
            cs_free(in, n);
        }
        for (int c = 0; c < 16; c++) {
            emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
            e.p += 0x100;
            off = emit_jcc_rel32(&e, c, t);
            assert_int_equal(off, 0x102);
            cs_insn *in;
            size_t n = cs_disasm(cs, buf + 0x100, 6, RX + 0x100, 0, &in);
            assert_int_equal(n, 1);
            snprintf(w, sizeof w, "0x%llx", (unsigned long long)t);
            assert_string_equal(in[0].mnemonic, cc[c]);
            assert_string_equal(in[0].op_str, w);
            cs_free(in, n);
        }
    }
}

static void patch_rel32(void **state)
{
    uint8_t buf[64];
    struct emit e;
    char w[64], got[128];
    emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
    size_t off = emit_jmp_rel32(&e, emit_rx_here(&e));       /* jmp to itself */
    emit_patch_rel32(&e, off, RX + 0x12345);
    disasm_one(&e, RX, got, sizeof got);
    snprintf(w, sizeof w, "jmp 0x%llx", (unsigned long long)(RX + 0x12345));
    assert_string_equal(got, w);

    emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
    off = emit_jcc_rel32(&e, CC_NE, emit_rx_here(&e));
    emit_patch_rel32(&e, off, RX - 0x777);
    disasm_one(&e, RX, got, sizeof got);
    snprintf(w, sizeof w, "jne 0x%llx", (unsigned long long)(RX - 0x777));
    assert_string_equal(got, w);
}

static void jrcxz_patch_rel8(void **state)
{
    for (int gap = 0; gap <= 127; gap++) {
        uint8_t buf[256];
        struct emit e;
        char w[64];
        emit_init(&e, buf, (uint8_t *)(uintptr_t)RX, sizeof buf);
        size_t off = emit_jrcxz_rel8(&e);
        assert_int_equal(off, 1);
        for (int i = 0; i < gap; i++)
            emit_u8(&e, 0x90);
        emit_patch_rel8_here(&e, off);
        cs_insn *in;
        size_t n = cs_disasm(cs, buf, 2, RX, 0, &in);
        assert_int_equal(n, 1);
        assert_string_equal(in[0].mnemonic, "jrcxz");
        snprintf(w, sizeof w, "0x%llx", (unsigned long long)(RX + 2 + gap));
        assert_string_equal(in[0].op_str, w);
        cs_free(in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(mov_r_r, reset),
        cmocka_unit_test_setup(not_and_jmp_r64, reset),
        cmocka_unit_test_setup(mov_r_imm, reset),
        cmocka_unit_test_setup(mov_mem, reset),
        cmocka_unit_test_setup(mov_mem_imm, reset),
        cmocka_unit_test_setup(lea, reset),
        cmocka_unit_test_setup(guest_access, reset),
        cmocka_unit_test_setup(guest_store_imm, reset),
        cmocka_unit_test(known_bytes),
        cmocka_unit_test_setup(prefix_flags, reset),
        cmocka_unit_test(raw_bytes_and_positions),
        cmocka_unit_test(overflow_stops_writing),
        cmocka_unit_test(jmp_jcc_rel32),
        cmocka_unit_test(patch_rel32),
        cmocka_unit_test(jrcxz_patch_rel8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
