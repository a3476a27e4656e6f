/* test_bt_verify — the isolation verifier on hand-made host code.
 *
 * Good blocks are the shapes the translator emits (bt/xlate_*.c) and must
 * pass; bad blocks each break one rule and must be rejected at the right
 * offset with the right reason. Bytes were assembled with `as --64`
 * (intel syntax); the listing is in the comment next to each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bt/verify.h"

/* Where the block pretends to run: direct-branch targets resolve against it. */
#define RX 0x7f1234500000ull

static void expect_ok(const uint8_t *code, size_t len)
{
    struct verify_result r;
    bool ok = bt_verify(code, len, RX, &r);
    if (!ok)
        print_error("unexpected rejection: %s\n", r.why);
    assert_true(ok);
    assert_true(r.ok);
}

static void expect_bad(const uint8_t *code, size_t len, uint32_t off, const char *why)
{
    struct verify_result r;
    bool ok = bt_verify(code, len, RX, &r);
    if (ok)
        print_error("accepted, expected a rejection at 0x%x (%s)\n", off, why);
    assert_false(ok);
    assert_false(r.ok);
    if (r.bad_off != off || !strstr(r.why, why))
        print_error("got \"%s\"\nwant offset 0x%x and \"%s\"\n", r.why, off, why);
    assert_int_equal(r.bad_off, off);
    assert_non_null(strstr(r.why, why));
}

#define GOOD(name, ...)                                             \
    static void name(void **state)                                  \
    {                                                               \
        static const uint8_t code[] = { __VA_ARGS__ };              \
        expect_ok(code, sizeof code);                               \
    }
#define BAD(name, off, why, ...)                                    \
    static void name(void **state)                                  \
    {                                                               \
        static const uint8_t code[] = { __VA_ARGS__ };              \
        expect_bad(code, sizeof code, off, why);                    \
    }

/* ---- good blocks -------------------------------------------------------- */

GOOD(good_guest_load,         /* mov eax, [rbx+r14+8] */
     0x42, 0x8b, 0x44, 0x33, 0x08)
GOOD(good_guest_indexed,      /* lea r11d, [rbx+rsi*4+8]; mov eax, [r11+r14] */
     0x44, 0x8d, 0x5c, 0xb3, 0x08, 0x43, 0x8b, 0x04, 0x33)
GOOD(good_guest_store_imm,    /* mov dword [rsp+r14-4], 0x12345678 */
     0x42, 0xc7, 0x44, 0x34, 0xfc, 0x78, 0x56, 0x34, 0x12)
GOOD(good_guest_wrap_reach,   /* mov eax, [rbx+r14-0x80000000]: a guard at worst */
     0x42, 0x8b, 0x84, 0x33, 0x00, 0x00, 0x00, 0x80)
GOOD(good_vcpu_byte,          /* mov byte [r15+0x48], 0   (CLI) */
     0x41, 0xc6, 0x47, 0x48, 0x00)
GOOD(good_poll,               /* mov r11d, [r15-0x1000] */
     0x45, 0x8b, 0x9f, 0x00, 0xf0, 0xff, 0xff)
GOOD(good_moffs,             /* mov eax, [r14+0x1000] (was A1 moffs) */
     0x41, 0x8b, 0x86, 0x00, 0x10, 0x00, 0x00)
GOOD(good_moffs_high,         /* mov r11d, 0xc0001000; mov eax, [r11+r14] */
     0x41, 0xbb, 0x00, 0x10, 0x00, 0xc0, 0x43, 0x8b, 0x04, 0x33)
GOOD(good_guest_lea,          /* lea eax, [rbx+rsi*4+8] (K_LEA: no memory access) */
     0x8d, 0x44, 0xb3, 0x08)
GOOD(good_borrowed,           /* mov [ebx+8], ah through a borrowed ESI */
     0x49, 0x89, 0xf2,                          /* mov r10, rsi */
     0x8d, 0x73, 0x08,                          /* lea esi, [rbx+8] */
     0x49, 0x8d, 0x34, 0x36,                    /* lea rsi, [r14+rsi] */
     0x88, 0x26,                                /* mov [rsi], ah */
     0x4c, 0x89, 0xd6)                          /* mov rsi, r10 */
GOOD(good_xlat,               /* XLAT: movzx r11d, al; lea r11d, [rbx+r11]; mov al, [r11+r14] */
     0x44, 0x0f, 0xb6, 0xd8, 0x46, 0x8d, 0x1c, 0x1b, 0x43, 0x8a, 0x04, 0x33)
GOOD(good_multibyte_nop,      /* nop dword [rax+rax] */
     0x0f, 0x1f, 0x44, 0x00, 0x00)

/* xl_exit_indirect_r11: the flag-free jump-cache lookup, miss path and hit. */
GOOD(good_indirect_lookup,
     0x45, 0x0f, 0xb7, 0xd3,                    /* 00 movzx r10d, r11w */
     0x4f, 0x8d, 0x14, 0x12,                    /* 04 lea r10, [r10+r10] */
     0x4f, 0x8d, 0x54, 0xd5, 0x00,              /* 08 lea r10, [r13+r10*8] */
     0x49, 0x89, 0xc8,                          /* 0d mov r8, rcx */
     0x49, 0x8b, 0x0a,                          /* 10 mov rcx, [r10] */
     0x48, 0xf7, 0xd1,                          /* 13 not rcx */
     0x4a, 0x8d, 0x4c, 0x19, 0x01,              /* 16 lea rcx, [rcx+r11+1] */
     0xe3, 0x14,                                /* 1b jrcxz 0x31 */
     0x4c, 0x89, 0xc1,                          /* 1d mov rcx, r8 */
     0x45, 0x89, 0x5f, 0x28,                    /* 20 mov [r15+0x28], r11d */
     0x49, 0xc7, 0x47, 0x30, 0, 0, 0, 0,        /* 24 mov qword [r15+0x30], 0 */
     0xe9, 0xfb, 0x0f, 0x00, 0x00,              /* 2c jmp bt_rt_exit */
     0x4c, 0x89, 0xc1,                          /* 31 mov rcx, r8 */
     0x41, 0xff, 0x62, 0x08)                    /* 34 jmp [r10+8] */

/* xl_string: rebase, run the host string instruction, truncate back. */
GOOD(good_rebased_string,
     0x49, 0x8d, 0x34, 0x36,                    /* lea rsi, [r14+rsi] */
     0x49, 0x8d, 0x3c, 0x3e,                    /* lea rdi, [r14+rdi] */
     0xf3, 0xa5,                                /* rep movsd */
     0x89, 0xf6,                                /* mov esi, esi */
     0x89, 0xff)                                /* mov edi, edi */
GOOD(good_rebased_stos_only_rdi,
     0x49, 0x8d, 0x3c, 0x3e,                    /* lea rdi, [r14+rdi] */
     0xf3, 0xab,                                /* rep stosd */
     0x89, 0xff)                                /* mov edi, edi */

/* MASKMOV* store to [rdi]: run on a rebased RDI. */
GOOD(good_maskmov,
     0x49, 0x8d, 0x3c, 0x3e,                    /* lea rdi, [r14+rdi] */
     0x0f, 0xf7, 0xc1,                          /* maskmovq mm0, mm1 */
     0x89, 0xff)                                /* mov edi, edi */

/* A callout (resumes after the jmp, entered from outside) and an exit stub. */
GOOD(good_callout_and_stub,
     0x49, 0xba, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, /* movabs r10, site */
     0x4c, 0x8d, 0x1d, 0x05, 0x00, 0x00, 0x00,  /* lea r11, [rip+5] */
     0xe9, 0xfb, 0x0f, 0x00, 0x00,              /* jmp bt_rt_callout */
     0x89, 0xd8,                                /* resume: mov eax, ebx */
     0x41, 0xc7, 0x47, 0x28, 0x34, 0x12, 0, 0,  /* mov dword [r15+0x28], 0x1234 */
     0x49, 0xbb, 0x78, 0x56, 0x34, 0x12, 0x00, 0x7f, 0x00, 0x00, /* movabs r11, &exit */
     0x4d, 0x89, 0x5f, 0x30,                    /* mov [r15+0x30], r11 */
     0xe9, 0xfb, 0x1f, 0x00, 0x00)              /* jmp bt_rt_exit */

/* Translated PUSH/POP and runtime jumps. */
GOOD(good_stack_translation,
     0x42, 0x89, 0x44, 0x34, 0xfc,              /* mov [rsp+r14-4], eax */
     0x8d, 0x64, 0x24, 0xfc,                    /* lea esp, [rsp-4] */
     0x42, 0x8b, 0x04, 0x34,                    /* mov eax, [rsp+r14] */
     0x8d, 0x64, 0x24, 0x04,                    /* lea esp, [rsp+4] */
     0x41, 0xff, 0x67, 0x50)                    /* jmp [r15+0x50] */
GOOD(good_jmp_scratch_reg,    /* jmp r11 */
     0x41, 0xff, 0xe3)

/* LOOP with 0x67 counts ECX only, so RCX stays zero-extended at the exits. */
GOOD(good_counted_branch,
     0x67, 0xe2, 0x05,                          /* loopl +5 */
     0xe9, 0xfb, 0x0f, 0x00, 0x00,              /* jmp fall-through exit */
     0xe9, 0xfb, 0x1f, 0x00, 0x00)              /* jmp taken exit */

/* A loop inside the block (back edge): the dataflow reaches a fixpoint. */
GOOD(good_backward_loop,
     0x42, 0x8a, 0x04, 0x36,                    /* 1: mov al, [rsi+r14] */
     0x8d, 0x76, 0x01,                          /* lea esi, [rsi+1] */
     0x8d, 0x49, 0xff,                          /* lea ecx, [rcx-1] */
     0xe3, 0x02,                                /* jrcxz 2f */
     0xeb, 0xf2,                                /* jmp 1b */
     0x89, 0xc3)                                /* 2: mov ebx, eax */

/* Bounded jump-cache indexing by and/shl instead of movzx/lea. */
GOOD(good_jcache_and_shl,
     0x45, 0x89, 0xda,                          /* mov r10d, r11d */
     0x41, 0x81, 0xe2, 0xff, 0xff, 0x00, 0x00,  /* and r10d, 0xffff */
     0x49, 0xc1, 0xe2, 0x04,                    /* shl r10, 4 */
     0x4f, 0x8b, 0x44, 0x15, 0x08)              /* mov r8, [r13+r10+8] */

/* Hint NOPs Capstone 4.0.2 cannot decode (copied guest prefetch / NOPs). */
GOOD(good_hint_nops,
     0x42, 0x0f, 0x0d, 0x04, 0x30,              /* prefetch [rax+r14] (0F 0D /0) */
     0x0f, 0x1f, 0xc0,                          /* nop eax (0F 1F register form) */
     0x0f, 0x1e, 0xfb,                          /* hint nop, register form */
     0x42, 0x0f, 0x0d, 0x84, 0x34, 0x00, 0x01, 0x00, 0x00, /* prefetch [rsp+r14+0x100] */
     0x89, 0xd8)                                /* mov eax, ebx */

/* LFENCE/MFENCE/SFENCE ignore their r/m field (0F AE E8-EF, F0-F7, F8-FF);
 * the hardware runs every one. */
GOOD(good_fences_any_rm,
     0x0f, 0xae, 0xe8,                          /* lfence */
     0x0f, 0xae, 0xe9,                          /* lfence, r/m = 1 */
     0x0f, 0xae, 0xef,                          /* lfence, r/m = 7 */
     0x0f, 0xae, 0xf0,                          /* mfence */
     0x0f, 0xae, 0xf3,                          /* mfence, r/m = 3 */
     0x0f, 0xae, 0xf8,                          /* sfence */
     0x0f, 0xae, 0xfe,                          /* sfence, r/m = 6 */
     0x89, 0xd8)                                /* mov eax, ebx */

/* F2/F3 0F 1A/1B: hint NOPs on an i686 (the MPX space), copied as they are. */
GOOD(good_rep_hint_nops,
     0xf3, 0x0f, 0x1b, 0xc0,                    /* register forms */
     0xf2, 0x0f, 0x1a, 0xc8,
     0xf3, 0x0f, 0x1a, 0xd3,
     0xf2, 0x0f, 0x1b, 0xc1,
     0xf3, 0x42, 0x0f, 0x1b, 0x04, 0x33,        /* [rbx+r14] */
     0xf2, 0x43, 0x0f, 0x1a, 0x04, 0x33,        /* [r11+r14] */
     0x89, 0xd8)

static void good_empty(void **state)
{
    struct verify_result r;
    assert_true(bt_verify((const uint8_t *)"", 0, RX, &r));
    assert_true(r.ok);
}

static void good_null_result(void **state)
{
    static const uint8_t ok[] = { 0x42, 0x8b, 0x04, 0x33 };   /* mov eax, [rbx+r14] */
    static const uint8_t bad[] = { 0x8b, 0x03 };              /* mov eax, [rbx] */
    assert_true(bt_verify(ok, sizeof ok, RX, NULL));
    assert_false(bt_verify(bad, sizeof bad, RX, NULL));
}

/* ---- bad blocks: memory operands ---------------------------------------- */

static void bad_rip_relative_full_text(void **state)
{
    /* 24 bytes of good code, then the mod=00 rm=101 form nobody re-encoded. */
    static const uint8_t code[] = {
        0x42, 0x8b, 0x84, 0x33, 0, 1, 0, 0,     /* 00 mov eax, [rbx+r14+0x100] */
        0x42, 0x8b, 0x84, 0x33, 0, 1, 0, 0,     /* 08 */
        0x42, 0x8b, 0x84, 0x33, 0, 1, 0, 0,     /* 10 */
        0x41, 0xc6, 0x47, 0x48, 0x00,           /* 18 mov byte [r15+0x48], 0 */
        0x90, 0x90, 0x90,                       /* 1d..1f */
        0x8b, 0x05, 0x10, 0x00, 0x00, 0x00,     /* 20 mov eax, [rip+0x10] */
    };
    struct verify_result r;
    assert_false(bt_verify(code, sizeof code, RX, &r));
    assert_int_equal(r.bad_off, 0x20);
    assert_string_equal(r.why, "offset 0x20: mov eax, dword ptr [rip + 0x10]: RIP-relative access");
}

BAD(bad_rip_relative_with_gs, 2, "RIP-relative access",
    0x89, 0xd8,                                 /* mov eax, ebx */
    0x65, 0x67, 0x8b, 0x05, 0x10, 0, 0, 0)      /* mov eax, gs:[eip+0x10] */
BAD(bad_gs, 4, "fs:/gs: override",
    0x42, 0x8b, 0x04, 0x33,                     /* mov eax, [rbx+r14] */
    0x65, 0x8b, 0x03)                           /* mov eax, gs:[rbx] */
BAD(bad_gs_67, 0, "fs:/gs: override",
    0x65, 0x67, 0x8b, 0x03)                     /* mov eax, gs:[ebx] (the old form) */
BAD(bad_67, 0, "0x67 on a memory operand",
    0x67, 0x8b, 0x03)                           /* mov eax, [ebx] */
BAD(bad_ds_67, 0, "0x67 on a memory operand",   /* a guest ds: left in place */
    0x3e, 0x67, 0x8b, 0x03)
BAD(bad_fs, 0, "fs:/gs: override",
    0x64, 0x42, 0x8b, 0x04, 0x33)               /* mov eax, fs:[rbx+r14] */
BAD(bad_two_segments, 0, "fs:/gs: override",
    0x65, 0x64, 0x67, 0x8b, 0x03)
BAD(bad_plain_host_load, 0, "host memory access outside the guest window",
    0x8b, 0x03)                                 /* mov eax, [rbx] */
BAD(bad_r15d_base, 0, "0x67 on a memory operand",
    0x67, 0x41, 0x8b, 0x07)                     /* mov eax, [r15d] */
BAD(bad_vcpu_far, 0, "vCPU access outside",
    0x41, 0x8b, 0x87, 0x00, 0x00, 0x10, 0x00)   /* mov eax, [r15+0x100000] */
BAD(bad_vcpu_below_poll, 0, "vCPU access outside",
    0x45, 0x8b, 0x9f, 0xfc, 0xef, 0xff, 0xff)   /* mov r11d, [r15-0x1004] */
BAD(bad_vcpu_straddles_end, 0, "vCPU access outside",
    0x49, 0x8b, 0x87, 0xfc, 0x1f, 0x00, 0x00)   /* mov rax, [r15+0x1ffc] */
BAD(bad_vcpu_indexed, 0, "vCPU access with an index register",
    0x41, 0x8b, 0x44, 0x07, 0x08)               /* mov eax, [r15+rax+8] */
BAD(bad_r14_scaled, 0, "guest access not provably inside the window",
    0x49, 0x8b, 0x0c, 0xc6)                     /* mov rcx, [r14+rax*8] */
BAD(bad_r14_plus_two_guest_regs, 4, "guest access not provably inside the window",
    0x4d, 0x8d, 0x14, 0x06,                     /* 0 lea r10, [r14+rax] */
    0x41, 0x8b, 0x04, 0x1a)                     /* 4 mov eax, [r10+rbx] */
BAD(bad_r14_twice, 0, "host memory access outside the guest window",
    0x43, 0x8b, 0x04, 0x36)                     /* mov eax, [r14+r14] */

/* ---- bad blocks: the jump cache ----------------------------------------- */

BAD(bad_r10_overwritten, 0x10, "[r10] is not a jump-cache pointer",
    0x45, 0x0f, 0xb7, 0xd3,                     /* 00 movzx r10d, r11w */
    0x4f, 0x8d, 0x14, 0x12,                     /* 04 lea r10, [r10+r10] */
    0x4f, 0x8d, 0x54, 0xd5, 0x00,               /* 08 lea r10, [r13+r10*8] */
    0x49, 0x89, 0xc2,                           /* 0d mov r10, rax */
    0x49, 0x8b, 0x0a)                           /* 10 mov rcx, [r10] */
/* Overwritten on one path only: the join at the label forgets the pointer. */
BAD(bad_r10_overwritten_on_a_path, 0x12, "[r10] is not a jump-cache pointer",
    0x45, 0x0f, 0xb7, 0xd3,                     /* 00 movzx r10d, r11w */
    0x4f, 0x8d, 0x14, 0x12,                     /* 04 lea r10, [r10+r10] */
    0x4f, 0x8d, 0x54, 0xd5, 0x00,               /* 08 lea r10, [r13+r10*8] */
    0x74, 0x03,                                 /* 0d je 0x12 */
    0x49, 0x89, 0xc2,                           /* 0f mov r10, rax */
    0x49, 0x8b, 0x0a)                           /* 12 mov rcx, [r10] */
BAD(bad_jcache_unbounded_index, 0, "jump-cache access not provably inside the table",
    0x49, 0x8b, 0x4c, 0xc5, 0x00)               /* mov rcx, [r13+rax*8] (eax < 2^32) */
BAD(bad_jcache_lea_unbounded, 9, "jump-cache access not provably inside the table",
    0x42, 0x8b, 0x04, 0x33,                     /* 0 mov eax, [rbx+r14] */
    0x4d, 0x8d, 0x54, 0xc5, 0x00,               /* 4 lea r10, [r13+rax*8] */
    0x49, 0x8b, 0x0a)                           /* 9 mov rcx, [r10] */
BAD(bad_jcache_past_end, 7, "jump-cache access not provably inside the table",
    0x4d, 0x8d, 0x95, 0x00, 0x00, 0x10, 0x00,   /* 0 lea r10, [r13+0x100000] */
    0x49, 0x8b, 0x0a)                           /* 7 mov rcx, [r10] */

/* ---- bad blocks: strings ------------------------------------------------ */

BAD(bad_movsd_no_rebase, 0, "string instruction without rebase (lea rdi,[r14+rdi])",
    0xf3, 0xa5)                                 /* rep movsd */
BAD(bad_movsd_rebase_cleared, 0xa, "string instruction without rebase (lea rsi,[r14+rsi])",
    0x49, 0x8d, 0x34, 0x36,                     /* 0 lea rsi, [r14+rsi] */
    0x49, 0x8d, 0x3c, 0x3e,                     /* 4 lea rdi, [r14+rdi] */
    0x89, 0xf6,                                 /* 8 mov esi, esi */
    0xf3, 0xa5)                                 /* a rep movsd */
BAD(bad_movsd_67, 0, "0x67 on a memory operand",
    0x67, 0xf3, 0xa5)
BAD(bad_movsd_gs_on_rebased, 8, "fs:/gs: override",
    0x49, 0x8d, 0x34, 0x36,                     /* 0 lea rsi, [r14+rsi] */
    0x49, 0x8d, 0x3c, 0x3e,                     /* 4 lea rdi, [r14+rdi] */
    0x65, 0xa5)                                 /* 8 movsd gs:[rsi] = base twice */
BAD(bad_double_rebase, 8, "string instruction without rebase (lea rsi,[r14+rsi])",
    0x49, 0x8d, 0x34, 0x36,                     /* 0 lea rsi, [r14+rsi] */
    0x49, 0x8d, 0x34, 0x36,                     /* 4 lea rsi, [r14+rsi] */
    0xac)                                       /* 8 lodsb */
BAD(bad_rebase_in_loop, 4, "string instruction without rebase (lea rsi,[r14+rsi])",
    0x49, 0x8d, 0x34, 0x36,                     /* 0 1: lea rsi, [r14+rsi] */
    0xac,                                       /* 4 lodsb */
    0xeb, 0xf9)                                 /* 5 jmp 1b (no mov esi,esi) */
BAD(bad_string_not_truncated, 0xa, "leaves the block with rdi still rebased onto r14",
    0x49, 0x8d, 0x34, 0x36,                     /* 0 lea rsi, [r14+rsi] */
    0x49, 0x8d, 0x3c, 0x3e,                     /* 4 lea rdi, [r14+rdi] */
    0xf3, 0xa5,                                 /* 8 rep movsd */
    0x89, 0xf6)                                 /* a mov esi, esi (mov edi,edi missing) */
BAD(bad_xlat_plain, 0, "XLAT (implicit [rbx+al]",
    0xd7)                                       /* xlat [rbx+al] */
BAD(bad_maskmovdqu, 0, "implicit [rdi] store not rebased",
    0x66, 0x0f, 0xf7, 0xc1)                     /* maskmovdqu xmm0, xmm1 ([rdi]) */
BAD(bad_maskmovq_rebase_cleared, 6, "implicit [rdi] store not rebased",
    0x49, 0x8d, 0x3c, 0x3e,                     /* 0 lea rdi, [r14+rdi] */
    0x89, 0xff,                                 /* 4 mov edi, edi */
    0x0f, 0xf7, 0xc1)                           /* 6 maskmovq mm0, mm1 */

/* ---- bad blocks: host stack, system instructions ------------------------ */

BAD(bad_push, 2, "uses the host stack", 0x89, 0xd8, 0x50)        /* push rax */
BAD(bad_pop, 0, "uses the host stack", 0x58)                     /* pop rax */
BAD(bad_call, 0, "call pushes on the host stack", 0xe8, 0, 0, 0, 0)
BAD(bad_call_r11, 0, "call pushes on the host stack", 0x41, 0xff, 0xd3)
BAD(bad_ret, 0, "ret pops the host stack", 0xc3)
/* Inline PUSHF/POPF: RSP borrowed for one pushfq/popfq at the vCPU's RFLAGS slot. */
GOOD(good_rflags_slot,
     0x49, 0x89, 0xe2, 0x49, 0x8d, 0xa7, 0x80, 0x00, 0x00, 0x00, 0x9c, 0x4c, 0x89, 0xd4,
     0x49, 0x89, 0xe2, 0x49, 0x8d, 0xa7, 0x78, 0x00, 0x00, 0x00, 0x9d, 0x4c, 0x89, 0xd4)
/* lea rsp, [r14+0x98]; pushfq: RSP points into the guest window, not the vCPU */
BAD(bad_pushfq_guest_window, 7, "uses the host stack", 0x49, 0x8d, 0xa6, 0x98, 0x00, 0x00, 0x00, 0x9c)
BAD(bad_pushfq, 0, "uses the host stack", 0x9c)
BAD(bad_popfq, 0, "uses the host stack", 0x9d)
BAD(bad_enter, 0, "uses the host stack", 0xc8, 0x10, 0x00, 0x00)
BAD(bad_leave, 0, "uses the host stack", 0xc9)
BAD(bad_int3, 0, "software interrupt", 0xcc)
BAD(bad_int80, 0, "software interrupt", 0xcd, 0x80)
BAD(bad_syscall, 0, "system call", 0x0f, 0x05)
BAD(bad_iretq, 0, "iret", 0x48, 0xcf)
BAD(bad_far_jmp, 0, "far transfer", 0xff, 0x2b)                  /* ljmp [rbx] */
BAD(bad_hlt, 0, "privileged instruction", 0xf4)
BAD(bad_cli, 0, "privileged instruction", 0xfa)
BAD(bad_in, 0, "port I/O", 0xec)                                 /* in al, dx */
BAD(bad_out, 0, "port I/O", 0xe6, 0x80)                          /* out 0x80, al */
BAD(bad_lgdt, 0, "privileged instruction", 0x42, 0x0f, 0x01, 0x14, 0x33)
BAD(bad_mov_cr0, 0, "moves a control or debug register", 0x0f, 0x20, 0xc0)  /* mov rax, cr0 */
BAD(bad_mov_to_gs, 0, "moves a segment register", 0x8e, 0xe8)    /* mov gs, eax */
BAD(bad_mov_from_ds, 0, "moves a segment register", 0x8c, 0xd8)  /* mov eax, ds */
BAD(bad_lgs, 0, "loads a segment register", 0x42, 0x0f, 0xb5, 0x04, 0x33)
BAD(bad_wrgsbase, 0, "writes the GS/FS base", 0xf3, 0x48, 0x0f, 0xae, 0xd8)
BAD(bad_rdgsbase, 0, "reads the host GS/FS base", 0xf3, 0x48, 0x0f, 0xae, 0xc8)
BAD(bad_cpuid, 0, "sensitive", 0x0f, 0xa2)
BAD(bad_rdtsc, 0, "sensitive", 0x0f, 0x31)
/* The rest of the sensitive list: each reveals host state when copied. */
BAD(bad_sgdt, 0, "sensitive", 0x42, 0x0f, 0x01, 0x04, 0x30)   /* sgdt [rax+r14] */
BAD(bad_sidt, 0, "sensitive", 0x42, 0x0f, 0x01, 0x0c, 0x30)   /* sidt [rax+r14] */
BAD(bad_sldt, 0, "sensitive", 0x0f, 0x00, 0xc0)               /* sldt eax */
BAD(bad_str, 0, "sensitive", 0x0f, 0x00, 0xc8)                /* str eax */
BAD(bad_smsw, 0, "sensitive", 0x0f, 0x01, 0xe0)               /* smsw eax */
BAD(bad_lar, 0, "sensitive", 0x0f, 0x02, 0xc3)                /* lar eax, ebx */
BAD(bad_lsl, 0, "sensitive", 0x0f, 0x03, 0xc3)                /* lsl eax, ebx */
BAD(bad_verr, 0, "sensitive", 0x0f, 0x00, 0xe0)               /* verr ax */
BAD(bad_sgdt_after_ok, 2, "sensitive", 0x89, 0xd8, 0x42, 0x0f, 0x01, 0x04, 0x30)

/* Inline RDTSC (bt/xlate_rdtsc.c): accepted only with the vCPU's offset added. */
#define RDTSC_HEAD 0x0f, 0x31,                          /* 00 rdtsc */                    \
                   0xc4, 0xe3, 0xfb, 0xf0, 0xd2, 0x20,  /* 02 rorx rdx, rdx, 32 */        \
                   0x48, 0x8d, 0x04, 0x10               /* 08 lea rax, [rax+rdx] */
#define RDTSC_TAIL 0xc4, 0xe3, 0xfb, 0xf0, 0xd0, 0x20,  /* rorx rdx, rax, 32 */           \
                   0x89, 0xc0, 0x89, 0xd2               /* mov eax, eax; mov edx, edx */
GOOD(good_inline_rdtsc,
     RDTSC_HEAD,
     0x4d, 0x8b, 0x9f, 0x80, 0x00, 0x00, 0x00,          /* 0c mov r11, [r15+0x80] */
     0x4a, 0x8d, 0x04, 0x18,                            /* 13 lea rax, [rax+r11] */
     RDTSC_TAIL)
BAD(bad_rdtsc_other_offset, 0, "sensitive",             /* the RFLAGS slot, not tsc_offset */
    RDTSC_HEAD,
    0x4d, 0x8b, 0x9f, 0x78, 0x00, 0x00, 0x00,           /* 0c mov r11, [r15+0x78] */
    0x4a, 0x8d, 0x04, 0x18, RDTSC_TAIL)
BAD(bad_rdtsc_offset_not_added, 0, "sensitive",
    RDTSC_HEAD,
    0x4d, 0x8b, 0x9f, 0x80, 0x00, 0x00, 0x00,           /* 0c mov r11, [r15+0x80] */
    0x4a, 0x8d, 0x0c, 0x18, RDTSC_TAIL)                 /* 13 lea rcx, [rax+r11] */
BAD(bad_rdtsc_cut_short, 0, "sensitive", RDTSC_HEAD)
BAD(bad_rdtsc_not_zero_extended, 0x1d, "leaves the block with rdx",
    RDTSC_HEAD,
    0x4d, 0x8b, 0x9f, 0x80, 0x00, 0x00, 0x00,           /* 0c mov r11, [r15+0x80] */
    0x4a, 0x8d, 0x04, 0x18,                             /* 13 lea rax, [rax+r11] */
    0xc4, 0xe3, 0xfb, 0xf0, 0xd0, 0x20,                 /* 17 rorx rdx, rax, 32 */
    0x89, 0xc0)                                         /* 1d mov eax, eax (falls off) */

/* ---- bad blocks: runtime registers, control flow, decoding -------------- */

BAD(bad_write_r15, 0, "writes r15 (the vCPU pointer)", 0x49, 0x89, 0xc7)   /* mov r15, rax */
BAD(bad_write_r13d, 0, "writes r13 (the jump cache)", 0x41, 0x89, 0xc5)   /* mov r13d, eax */
BAD(bad_write_r14, 0, "writes r14 (the guest window base)", 0x49, 0x83, 0xc6, 0x08) /* add r14, 8 */
BAD(bad_jmp_guest_reg, 2, "indirect jump through a guest or runtime register",
    0x89, 0xd8,                                 /* mov eax, ebx */
    0xff, 0xe0)                                 /* jmp rax: a copied guest jmp eax */
BAD(bad_jmp_guest_memory, 0, "indirect jump target not loaded from the vCPU or the jump cache",
    0x42, 0xff, 0x24, 0x30)                     /* jmp qword [rax+r14] */
BAD(bad_branch_mid_insn, 0, "branch into the middle of an instruction",
    0xeb, 0x01,                                 /* jmp +1: into the mov's immediate */
    0xb8, 0x78, 0x56, 0x34, 0x12)               /* mov eax, 0x12345678 */
BAD(bad_loop_rcx_dirty, 2, "leaves the block with rcx with its upper 32 bits possibly set",
    0xe2, 0x05,                                 /* 0 loop: 64-bit RCX, wraps past zero */
    0xe9, 0xfb, 0x0f, 0x00, 0x00,               /* 2 jmp out: the first exit */
    0xe9, 0xfb, 0x1f, 0x00, 0x00)               /* 7 jmp out */
BAD(bad_rsp_64bit, 5, "leaves the block with rsp with its upper 32 bits possibly set",
    0x48, 0x8d, 0x64, 0x24, 0xfc,               /* lea rsp, [rsp-4] (64-bit) */
    0xe9, 0xfb, 0x0f, 0x00, 0x00)               /* jmp out */
BAD(bad_undecodable, 4, "undecodable bytes 06 90",
    0x42, 0x8b, 0x04, 0x33,                     /* mov eax, [rbx+r14] */
    0x06, 0x90)                                 /* push es: invalid in 64-bit mode */
/* The hint-NOP lengths are exact: the next instruction is checked where it is. */
BAD(bad_after_hint_nop_sib_disp32, 9, "host memory access outside the guest window",
    0x42, 0x0f, 0x0d, 0x84, 0x34, 0x00, 0x01, 0x00, 0x00, /* prefetch [rsp+r14+0x100] */
    0x8b, 0x03)                                 /* a mov eax, [rbx] */
BAD(bad_after_hint_nop_disp32_only, 7, "host memory access outside the guest window",
    0x0f, 0x0d, 0x05, 0x10, 0x00, 0x00, 0x00,   /* prefetch [rip+0x10]: no access */
    0x8b, 0x03)                                 /* 7 mov eax, [rbx] */
BAD(bad_after_hint_nop_disp8, 4, "host memory access outside the guest window",
    0x0f, 0x1f, 0x40, 0x08,                     /* nop [rax+8] */
    0x8b, 0x03)                                 /* 4 mov eax, [rbx] */
BAD(bad_locked_hint_nop, 0, "undecodable bytes f0 0f 0d 00",
    0xf0, 0x0f, 0x0d, 0x00)                     /* lock prefetch: #UD */
BAD(bad_truncated_hint_nop, 0, "undecodable bytes 0f 0d 80 00 ...",
    0x0f, 0x0d, 0x80, 0x00, 0x00)               /* disp32 cut short */
/* The first bad instruction wins over the undecodable tail. */
BAD(bad_before_undecodable, 0, "host memory access outside the guest window",
    0x8b, 0x03, 0x06)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_guest_load),
        cmocka_unit_test(good_guest_store_imm),
        cmocka_unit_test(good_vcpu_byte),
        cmocka_unit_test(good_poll),
        cmocka_unit_test(good_moffs),
        cmocka_unit_test(good_moffs_high),
        cmocka_unit_test(good_borrowed),
        cmocka_unit_test(good_guest_indexed),
        cmocka_unit_test(good_guest_wrap_reach),
        cmocka_unit_test(good_guest_lea),
        cmocka_unit_test(good_xlat),
        cmocka_unit_test(good_multibyte_nop),
        cmocka_unit_test(good_indirect_lookup),
        cmocka_unit_test(good_rebased_string),
        cmocka_unit_test(good_rebased_stos_only_rdi),
        cmocka_unit_test(good_maskmov),
        cmocka_unit_test(good_callout_and_stub),
        cmocka_unit_test(good_stack_translation),
        cmocka_unit_test(good_jmp_scratch_reg),
        cmocka_unit_test(good_counted_branch),
        cmocka_unit_test(good_backward_loop),
        cmocka_unit_test(good_jcache_and_shl),
        cmocka_unit_test(good_hint_nops),
        cmocka_unit_test(good_fences_any_rm),
        cmocka_unit_test(good_rep_hint_nops),
        cmocka_unit_test(good_empty),
        cmocka_unit_test(good_null_result),

        cmocka_unit_test(bad_rip_relative_full_text),
        cmocka_unit_test(bad_rip_relative_with_gs),
        cmocka_unit_test(bad_gs),
        cmocka_unit_test(bad_gs_67),
        cmocka_unit_test(bad_67),
        cmocka_unit_test(bad_ds_67),
        cmocka_unit_test(bad_fs),
        cmocka_unit_test(bad_two_segments),
        cmocka_unit_test(bad_plain_host_load),
        cmocka_unit_test(bad_r15d_base),
        cmocka_unit_test(bad_vcpu_far),
        cmocka_unit_test(bad_vcpu_below_poll),
        cmocka_unit_test(bad_vcpu_straddles_end),
        cmocka_unit_test(bad_vcpu_indexed),
        cmocka_unit_test(bad_r14_scaled),
        cmocka_unit_test(bad_r14_plus_two_guest_regs),
        cmocka_unit_test(bad_r14_twice),

        cmocka_unit_test(bad_r10_overwritten),
        cmocka_unit_test(bad_r10_overwritten_on_a_path),
        cmocka_unit_test(bad_jcache_unbounded_index),
        cmocka_unit_test(bad_jcache_lea_unbounded),
        cmocka_unit_test(bad_jcache_past_end),

        cmocka_unit_test(bad_movsd_no_rebase),
        cmocka_unit_test(bad_movsd_rebase_cleared),
        cmocka_unit_test(bad_movsd_67),
        cmocka_unit_test(bad_movsd_gs_on_rebased),
        cmocka_unit_test(bad_double_rebase),
        cmocka_unit_test(bad_rebase_in_loop),
        cmocka_unit_test(bad_string_not_truncated),
        cmocka_unit_test(bad_xlat_plain),
        cmocka_unit_test(bad_maskmovdqu),
        cmocka_unit_test(bad_maskmovq_rebase_cleared),

        cmocka_unit_test(bad_push),
        cmocka_unit_test(bad_pop),
        cmocka_unit_test(bad_call),
        cmocka_unit_test(bad_call_r11),
        cmocka_unit_test(bad_ret),
        cmocka_unit_test(good_rflags_slot),
        cmocka_unit_test(bad_pushfq_guest_window),
        cmocka_unit_test(bad_pushfq),
        cmocka_unit_test(bad_popfq),
        cmocka_unit_test(bad_enter),
        cmocka_unit_test(bad_leave),
        cmocka_unit_test(bad_int3),
        cmocka_unit_test(bad_int80),
        cmocka_unit_test(bad_syscall),
        cmocka_unit_test(bad_iretq),
        cmocka_unit_test(bad_far_jmp),
        cmocka_unit_test(bad_hlt),
        cmocka_unit_test(bad_cli),
        cmocka_unit_test(bad_in),
        cmocka_unit_test(bad_out),
        cmocka_unit_test(bad_lgdt),
        cmocka_unit_test(bad_mov_cr0),
        cmocka_unit_test(bad_mov_to_gs),
        cmocka_unit_test(bad_mov_from_ds),
        cmocka_unit_test(bad_lgs),
        cmocka_unit_test(bad_wrgsbase),
        cmocka_unit_test(bad_rdgsbase),
        cmocka_unit_test(bad_cpuid),
        cmocka_unit_test(bad_rdtsc),
        cmocka_unit_test(bad_sgdt),
        cmocka_unit_test(bad_sidt),
        cmocka_unit_test(bad_sldt),
        cmocka_unit_test(bad_str),
        cmocka_unit_test(bad_smsw),
        cmocka_unit_test(bad_lar),
        cmocka_unit_test(bad_lsl),
        cmocka_unit_test(bad_verr),
        cmocka_unit_test(bad_sgdt_after_ok),
        cmocka_unit_test(good_inline_rdtsc),
        cmocka_unit_test(bad_rdtsc_other_offset),
        cmocka_unit_test(bad_rdtsc_offset_not_added),
        cmocka_unit_test(bad_rdtsc_cut_short),
        cmocka_unit_test(bad_rdtsc_not_zero_extended),

        cmocka_unit_test(bad_write_r15),
        cmocka_unit_test(bad_write_r13d),
        cmocka_unit_test(bad_write_r14),
        cmocka_unit_test(bad_jmp_guest_reg),
        cmocka_unit_test(bad_jmp_guest_memory),
        cmocka_unit_test(bad_branch_mid_insn),
        cmocka_unit_test(bad_loop_rcx_dirty),
        cmocka_unit_test(bad_rsp_64bit),
        cmocka_unit_test(bad_undecodable),
        cmocka_unit_test(bad_after_hint_nop_sib_disp32),
        cmocka_unit_test(bad_after_hint_nop_disp32_only),
        cmocka_unit_test(bad_after_hint_nop_disp8),
        cmocka_unit_test(bad_locked_hint_nop),
        cmocka_unit_test(bad_truncated_hint_nop),
        cmocka_unit_test(bad_before_undecodable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
