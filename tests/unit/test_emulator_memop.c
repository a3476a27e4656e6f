/* memop (emulator/memop.c): the memory instructions the monitor performs
 * itself for device memory, traced page-table stores, adaptive callouts
 * and the 4 GiB wrap. Each case decodes real bytes with the project's
 * decoder and runs them against a flat 64 KiB bus whose page 0xF000 is
 * read-only and page 0xE000 absent, then compares registers, flags and
 * memory with what the SDM (and the host CPU, for flags) says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/memop.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

#define RO_PAGE 0xf000u
#define NO_PAGE 0xe000u

static uint8_t mem[0x10000];
static unsigned reads, writes, fault_lin;
static struct decoder *dec;

static bool ok(uint32_t lin, unsigned n, bool write)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t a = lin + i;
        if (a >= sizeof mem || (a & ~0xfffu) == NO_PAGE || (write && (a & ~0xfffu) == RO_PAGE)) {
            fault_lin = a;
            return false;
        }
    }
    return true;
}

static bool bus_check(void *o, uint32_t lin, unsigned n, bool write) { return ok(lin, n, write); }
static bool bus_read(void *o, uint32_t lin, void *dst, unsigned n)
{
    if (!ok(lin, n, false))
        return false;
    memcpy(dst, mem + lin, n);
    reads++;
    return true;
}
static bool bus_write(void *o, uint32_t lin, const void *src, unsigned n)
{
    if (!ok(lin, n, true))
        return false;
    memcpy(mem + lin, src, n);
    writes++;
    return true;
}
/* An interrupt becomes deliverable once `yield_after` iterations are done. */
static unsigned yield_after;
static bool bus_yield(void *o, unsigned done) { return yield_after && done >= yield_after; }
static const struct memop_bus bus = { NULL, bus_check, bus_read, bus_write, bus_yield };

static int setup(void **s)
{
    dec = decoder_create();
    return dec ? 0 : -1;
}

static int teardown(void **s)
{
    decoder_destroy(dec);
    return 0;
}

static struct memop_regs regs;

static void reset(void)
{
    memset(mem, 0, sizeof mem);
    memset(&regs, 0, sizeof regs);
    regs.eflags = 2;
    reads = writes = 0;
    fault_lin = 0;
    yield_after = 0;
}

static enum memop_result run(const char *bytes, size_t len)
{
    struct insn in;
    assert_int_equal(decode_insn(dec, (const uint8_t *)bytes, len, 0x1000, &in), 0);
    assert_int_equal(in.len, len);
    return memop_exec(&in, &regs, &bus);
}
#define RUN(b) run(b, sizeof(b) - 1)

static uint32_t m32(uint32_t a) { uint32_t v; memcpy(&v, mem + a, 4); return v; }
static void s32(uint32_t a, uint32_t v) { memcpy(mem + a, &v, 4); }

static void test_mov(void **s)
{
    reset();
    regs.gpr[EBX] = 0x100;
    regs.gpr[EAX] = 0x11223344;
    assert_int_equal(RUN("\x89\x43\x08"), MEMOP_DONE);                 /* mov [ebx+8], eax */
    assert_int_equal(m32(0x108), 0x11223344);
    assert_int_equal(RUN("\x88\x63\x10"), MEMOP_DONE);                 /* mov [ebx+0x10], ah */
    assert_int_equal(mem[0x110], 0x33);
    assert_int_equal(RUN("\x66\x89\x43\x20"), MEMOP_DONE);             /* mov [ebx+0x20], ax */
    assert_int_equal(m32(0x120), 0x3344);
    s32(0x200, 0xcafebabe);
    regs.gpr[ECX] = 0xffffffff;
    assert_int_equal(RUN("\x8b\x0d\x00\x02\x00\x00"), MEMOP_DONE);     /* mov ecx, [0x200] */
    assert_int_equal(regs.gpr[ECX], 0xcafebabe);
    regs.gpr[EDX] = 0x55555555;
    assert_int_equal(RUN("\x8a\x35\x00\x02\x00\x00"), MEMOP_DONE);     /* mov dh, [0x200] */
    assert_int_equal(regs.gpr[EDX], 0x5555be55);
    assert_int_equal(RUN("\xc7\x43\x30\x78\x56\x34\x12"), MEMOP_DONE); /* mov dword [ebx+0x30], imm */
    assert_int_equal(m32(0x130), 0x12345678);
    assert_int_equal(RUN("\xc6\x43\x31\xaa"), MEMOP_DONE);             /* mov byte [ebx+0x31], 0xaa */
    assert_int_equal(m32(0x130), 0x1234aa78);
    assert_int_equal(RUN("\xa1\x00\x02\x00\x00"), MEMOP_DONE);         /* mov eax, [moffs] */
    assert_int_equal(regs.gpr[EAX], 0xcafebabe);
    assert_int_equal(RUN("\xa2\x40\x02\x00\x00"), MEMOP_DONE);         /* mov [moffs], al */
    assert_int_equal(mem[0x240], 0xbe);
    /* MOVZX / MOVSX */
    mem[0x300] = 0x80;
    mem[0x301] = 0xff;
    assert_int_equal(RUN("\x0f\xb6\x05\x00\x03\x00\x00"), MEMOP_DONE); /* movzx eax, byte [0x300] */
    assert_int_equal(regs.gpr[EAX], 0x80);
    assert_int_equal(RUN("\x0f\xbe\x05\x00\x03\x00\x00"), MEMOP_DONE); /* movsx eax, byte [0x300] */
    assert_int_equal(regs.gpr[EAX], 0xffffff80);
    assert_int_equal(RUN("\x0f\xbf\x05\x00\x03\x00\x00"), MEMOP_DONE); /* movsx eax, word [0x300] */
    assert_int_equal(regs.gpr[EAX], 0xffffff80);
    assert_int_equal(RUN("\x0f\xb7\x05\x00\x03\x00\x00"), MEMOP_DONE); /* movzx eax, word [0x300] */
    assert_int_equal(regs.gpr[EAX], 0xff80);
    /* SIB, a segment base, an SS default through EBP. */
    regs.gpr[ESI] = 0x10;
    regs.gpr[EBP] = 0x400;
    regs.seg_base[2] = 0x1000;      /* SS */
    regs.gpr[EAX] = 7;
    assert_int_equal(RUN("\x89\x44\xb5\x04"), MEMOP_DONE);             /* mov [ebp+esi*4+4], eax */
    assert_int_equal(m32(0x1000 + 0x400 + 0x40 + 4), 7);
}

static void test_alu_flags(void **s)
{
    reset();
    s32(0x100, 0x7fffffff);
    regs.gpr[EAX] = 1;
    assert_int_equal(RUN("\x01\x05\x00\x01\x00\x00"), MEMOP_DONE);     /* add [0x100], eax */
    assert_int_equal(m32(0x100), 0x80000000);
    assert_int_equal(regs.eflags & FL_ARITH, FL_OF | FL_SF | FL_AF | FL_PF);
    /* INC keeps CF; DEC to zero sets ZF. */
    regs.eflags |= FL_CF;
    s32(0x104, 0);
    assert_int_equal(RUN("\xff\x05\x04\x01\x00\x00"), MEMOP_DONE);     /* inc dword [0x104] */
    assert_int_equal(m32(0x104), 1);
    assert_true(regs.eflags & FL_CF);
    assert_int_equal(RUN("\xfe\x0d\x04\x01\x00\x00"), MEMOP_DONE);     /* dec byte [0x104] */
    assert_int_equal(mem[0x104], 0);
    assert_true(regs.eflags & FL_ZF);
    assert_true(regs.eflags & FL_CF);
    /* or/and/xor/sub/cmp with imm8 and imm32 forms; ADC/SBB read CF. */
    s32(0x108, 0xf0);
    assert_int_equal(RUN("\x83\x0d\x08\x01\x00\x00\x0f"), MEMOP_DONE); /* or dword [0x108], 0xf */
    assert_int_equal(m32(0x108), 0xff);
    assert_int_equal(RUN("\x81\x25\x08\x01\x00\x00\x3c\x00\x00\x00"), MEMOP_DONE);  /* and , 0x3c */
    assert_int_equal(m32(0x108), 0x3c);
    assert_int_equal(RUN("\x80\x35\x08\x01\x00\x00\xff"), MEMOP_DONE); /* xor byte, 0xff */
    assert_int_equal(m32(0x108), 0xc3);
    assert_true(regs.eflags & FL_SF);
    assert_int_equal(RUN("\x83\x2d\x08\x01\x00\x00\x01"), MEMOP_DONE); /* sub dword, 1 */
    assert_int_equal(m32(0x108), 0xc2);
    regs.eflags |= FL_CF;
    assert_int_equal(RUN("\x83\x15\x08\x01\x00\x00\x01"), MEMOP_DONE); /* adc dword, 1 */
    assert_int_equal(m32(0x108), 0xc4);
    regs.eflags |= FL_CF;
    assert_int_equal(RUN("\x83\x1d\x08\x01\x00\x00\x01"), MEMOP_DONE); /* sbb dword, 1 */
    assert_int_equal(m32(0x108), 0xc2);
    writes = 0;
    assert_int_equal(RUN("\x83\x3d\x08\x01\x00\x00\x7f"), MEMOP_DONE); /* cmp dword, 0x7f */
    assert_int_equal(writes, 0);
    assert_false(regs.eflags & FL_ZF);
    assert_false(regs.eflags & FL_CF);
    regs.gpr[EDX] = 0xc2;
    assert_int_equal(RUN("\x3b\x15\x08\x01\x00\x00"), MEMOP_DONE);     /* cmp edx, [0x108] */
    assert_true(regs.eflags & FL_ZF);
    regs.gpr[EDX] = 0x10;
    assert_int_equal(RUN("\x2b\x15\x08\x01\x00\x00"), MEMOP_DONE);     /* sub edx, [0x108] */
    assert_int_equal(regs.gpr[EDX], 0x10u - 0xc2u);
    assert_true(regs.eflags & FL_CF);
    assert_int_equal(RUN("\x85\x15\x08\x01\x00\x00"), MEMOP_DONE);     /* test [0x108], edx */
    assert_int_equal(RUN("\xf6\x05\x08\x01\x00\x00\x01"), MEMOP_DONE); /* test byte, 1 */
    assert_true(regs.eflags & FL_ZF);
    assert_int_equal(RUN("\xf7\x1d\x08\x01\x00\x00"), MEMOP_DONE);     /* neg dword */
    assert_int_equal(m32(0x108), (uint32_t)-0xc2);
    assert_true(regs.eflags & FL_CF);
    assert_int_equal(RUN("\xf7\x15\x08\x01\x00\x00"), MEMOP_DONE);     /* not dword */
    assert_int_equal(m32(0x108), 0xc1);
    /* 16-bit operand size. */
    s32(0x10c, 0x0001ffff);
    assert_int_equal(RUN("\x66\x83\x05\x0c\x01\x00\x00\x01"), MEMOP_DONE);  /* add word, 1 */
    assert_int_equal(m32(0x10c), 0x00010000);
    assert_true(regs.eflags & FL_CF);
    assert_true(regs.eflags & FL_ZF);
}

static void test_atomics_and_bits(void **s)
{
    reset();
    /* CMPXCHG: equal stores the source, unequal loads the accumulator. */
    s32(0x100, 5);
    regs.gpr[EAX] = 5;
    regs.gpr[ECX] = 9;
    assert_int_equal(RUN("\xf0\x0f\xb1\x0d\x00\x01\x00\x00"), MEMOP_DONE);
    assert_int_equal(m32(0x100), 9);
    assert_true(regs.eflags & FL_ZF);
    regs.gpr[EAX] = 5;
    assert_int_equal(RUN("\x0f\xb1\x0d\x00\x01\x00\x00"), MEMOP_DONE);
    assert_int_equal(regs.gpr[EAX], 9);
    assert_false(regs.eflags & FL_ZF);
    /* XADD, XCHG */
    regs.gpr[EDX] = 1;
    assert_int_equal(RUN("\x0f\xc1\x15\x00\x01\x00\x00"), MEMOP_DONE);  /* xadd [0x100], edx */
    assert_int_equal(m32(0x100), 10);
    assert_int_equal(regs.gpr[EDX], 9);
    assert_int_equal(RUN("\x87\x15\x00\x01\x00\x00"), MEMOP_DONE);      /* xchg [0x100], edx */
    assert_int_equal(m32(0x100), 9);
    assert_int_equal(regs.gpr[EDX], 10);
    /* BTS with a register offset reaches past the operand (bit string):
     * bit 37 of [0x200] is bit 5 of [0x204]; -1 is bit 31 of [0x1fc]. */
    regs.gpr[ECX] = 37;
    assert_int_equal(RUN("\x0f\xab\x0d\x00\x02\x00\x00"), MEMOP_DONE);  /* bts [0x200], ecx */
    assert_int_equal(m32(0x204), 1u << 5);
    assert_false(regs.eflags & FL_CF);
    assert_int_equal(RUN("\x0f\xab\x0d\x00\x02\x00\x00"), MEMOP_DONE);
    assert_true(regs.eflags & FL_CF);
    regs.gpr[ECX] = (uint32_t)-1;
    assert_int_equal(RUN("\x0f\xab\x0d\x00\x02\x00\x00"), MEMOP_DONE);
    assert_int_equal(m32(0x1fc), 0x80000000);
    assert_int_equal(RUN("\x0f\xba\x35\x04\x02\x00\x00\x25"), MEMOP_DONE);   /* btr [0x204], 37&31 */
    assert_int_equal(m32(0x204), 0);
    assert_true(regs.eflags & FL_CF);
    assert_int_equal(RUN("\x0f\xba\x3d\x04\x02\x00\x00\x03"), MEMOP_DONE);   /* btc [0x204], 3 */
    assert_int_equal(m32(0x204), 8);
    /* SETcc */
    regs.eflags |= FL_ZF;
    assert_int_equal(RUN("\x0f\x94\x05\x10\x02\x00\x00"), MEMOP_DONE);  /* sete [0x210] */
    assert_int_equal(mem[0x210], 1);
    assert_int_equal(RUN("\x0f\x9f\x05\x10\x02\x00\x00"), MEMOP_DONE);  /* setg: ZF=1 -> 0 */
    assert_int_equal(mem[0x210], 0);
}

/* Interrupts are recognized between REP iterations (SDM vol. 2B "REP"):
 * the string stops with ECX/ESI/EDI advanced and resumes when run again. */
static void test_string_yield(void **s)
{
    reset();
    for (int i = 0; i < 64; i++)
        mem[0x100 + i] = (uint8_t)(i + 1);
    regs.gpr[ESI] = 0x100;
    regs.gpr[EDI] = 0x400;
    regs.gpr[ECX] = 64;
    yield_after = 5;
    assert_int_equal(RUN("\xf3\xa4"), MEMOP_PARTIAL);                   /* rep movsb */
    assert_int_equal(regs.gpr[ECX], 59);
    assert_int_equal(regs.gpr[ESI], 0x105);
    assert_int_equal(regs.gpr[EDI], 0x405);
    assert_int_equal(mem[0x404], 5);
    assert_int_equal(mem[0x405], 0);
    yield_after = 0;
    assert_int_equal(RUN("\xf3\xa4"), MEMOP_DONE);
    assert_int_equal(regs.gpr[ECX], 0);
    assert_int_equal(memcmp(mem + 0x100, mem + 0x400, 64), 0);
    /* Each run makes progress even when an interrupt is already waiting. */
    regs.gpr[EDI] = 0x500;
    regs.gpr[ECX] = 3;
    yield_after = 1;
    assert_int_equal(RUN("\xf3\xaa"), MEMOP_PARTIAL);                   /* rep stosb */
    assert_int_equal(regs.gpr[ECX], 2);
    assert_int_equal(regs.gpr[EDI], 0x501);
}

static void test_strings(void **s)
{
    reset();
    for (int i = 0; i < 16; i++)
        mem[0x100 + i] = (uint8_t)(i + 1);
    regs.gpr[ESI] = 0x100;
    regs.gpr[EDI] = 0x200;
    regs.gpr[ECX] = 4;
    assert_int_equal(RUN("\xf3\xa5"), MEMOP_DONE);                      /* rep movsd */
    assert_int_equal(memcmp(mem + 0x100, mem + 0x200, 16), 0);
    assert_int_equal(regs.gpr[ECX], 0);
    assert_int_equal(regs.gpr[ESI], 0x110);
    assert_int_equal(regs.gpr[EDI], 0x210);
    /* DF=1, STOSB backwards. */
    regs.eflags |= FL_DF;
    regs.gpr[EAX] = 0xee;
    regs.gpr[EDI] = 0x30f;
    regs.gpr[ECX] = 16;
    assert_int_equal(RUN("\xf3\xaa"), MEMOP_DONE);
    assert_int_equal(mem[0x300], 0xee);
    assert_int_equal(mem[0x30f], 0xee);
    assert_int_equal(mem[0x2ff], 0);
    assert_int_equal(regs.gpr[EDI], 0x2ff);
    regs.eflags &= ~FL_DF;
    /* REPE CMPSB stops at the first difference. */
    mem[0x205] = 0x77;
    regs.gpr[ESI] = 0x100;
    regs.gpr[EDI] = 0x200;
    regs.gpr[ECX] = 16;
    assert_int_equal(RUN("\xf3\xa6"), MEMOP_DONE);
    assert_int_equal(regs.gpr[ECX], 10);
    assert_int_equal(regs.gpr[ESI], 0x106);
    assert_false(regs.eflags & FL_ZF);
    /* REPNE SCASB finds a byte. */
    regs.gpr[EAX] = 0x77;
    regs.gpr[EDI] = 0x200;
    regs.gpr[ECX] = 16;
    assert_int_equal(RUN("\xf2\xae"), MEMOP_DONE);
    assert_int_equal(regs.gpr[EDI], 0x206);
    assert_true(regs.eflags & FL_ZF);
    /* LODSW */
    regs.gpr[ESI] = 0x100;
    assert_int_equal(RUN("\x66\xad"), MEMOP_DONE);
    assert_int_equal(regs.gpr[EAX] & 0xffff, 0x0201);
    /* A REP that runs into an absent page stops after the last element it
     * completed, registers advanced: restartable. */
    regs.gpr[EDI] = NO_PAGE - 8;
    regs.gpr[ECX] = 5;
    regs.gpr[EAX] = 0x01010101;
    assert_int_equal(RUN("\xf3\xab"), MEMOP_FAULT);
    assert_int_equal(regs.gpr[ECX], 3);
    assert_int_equal(regs.gpr[EDI], NO_PAGE);
    assert_int_equal(m32(NO_PAGE - 4), 0x01010101);
}

static void test_faults_change_nothing(void **s)
{
    reset();
    s32(RO_PAGE + 8, 41);
    /* RMW on a read-only page: the write is probed before the read. */
    assert_int_equal(RUN("\xff\x05\x08\xf0\x00\x00"), MEMOP_FAULT);     /* inc dword [0xf008] */
    assert_int_equal(reads, 0);
    assert_int_equal(fault_lin, RO_PAGE + 8);
    assert_int_equal(m32(RO_PAGE + 8), 41);
    /* A store crossing into an absent page writes nothing. */
    regs.gpr[EAX] = 0xffffffff;
    assert_int_equal(RUN("\xa3\xfe\xdf\x00\x00"), MEMOP_FAULT);         /* mov [0xdffe], eax */
    assert_int_equal(m32(0xdffc), 0);
    /* CMPXCHG against a read-only page faults even when unequal. */
    regs.gpr[EAX] = 0;
    assert_int_equal(RUN("\x0f\xb1\x0d\x08\xf0\x00\x00"), MEMOP_FAULT);
    assert_int_equal(regs.gpr[EAX], 0);
    /* Loads from it are fine. */
    assert_int_equal(RUN("\x8b\x05\x08\xf0\x00\x00"), MEMOP_DONE);
    assert_int_equal(regs.gpr[EAX], 41);
}

static void test_unsupported_and_sizes(void **s)
{
    struct insn in;
    static const struct { const char *b; size_t n; bool sup; unsigned store; } t[] = {
        { "\x89\x03", 2, true, 4 },                     /* mov [ebx], eax */
        { "\x66\x89\x03", 3, true, 2 },
        { "\x88\x03", 2, true, 1 },
        { "\xf0\x0f\xb1\x0b", 4, true, 4 },             /* lock cmpxchg */
        { "\x0f\x90\x03", 3, true, 1 },                 /* seto [ebx] */
        { "\xf3\xab", 2, false, 4 },                    /* rep stosd: never adaptive */
        { "\xff\x33", 2, true, 4 },                     /* push [ebx] */
        { "\x66\x6a\xff", 3, true, 2 },                /* push word -1 */
        { "\xd3\x23", 2, true, 4 },                     /* shl dword [ebx], cl */
        { "\x0f\x29\x03", 3, false, 16 },               /* movaps [ebx], xmm0 */
        { "\x0f\xae\x03", 3, false, 512 },              /* fxsave [ebx] */
        { "\xf7\x33", 2, false, 4 },                    /* div dword [ebx] (#DE: not here) */
        { "\x89\xc3", 2, false, 4 },                    /* mov ebx, eax: no memory */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(decode_insn(dec, (const uint8_t *)t[i].b, t[i].n, 0, &in), 0);
        assert_int_equal(memop_supported(&in), t[i].sup);
        assert_int_equal(memop_store_size(&in), t[i].store);
    }
    reset();
    assert_int_equal(RUN("\xf7\x33"), MEMOP_UNSUPPORTED);
    assert_int_equal(reads + writes, 0);
}

/* PUSH/POP (SDM vol. 2B): ESP moves only when every access succeeded;
 * PUSH ESP pushes the old value, POP [ESP+d] addresses with the new ESP,
 * POP ESP keeps the popped value. Found by the random-kernel fuzzer: a
 * stack on open bus or across 4 GiB stopped the run. */
static void test_stack(void **s)
{
    reset();
    regs.gpr[ESP] = 0x800;
    regs.gpr[EAX] = 0x11223344;
    assert_int_equal(RUN("\x50"), MEMOP_DONE);                          /* push eax */
    assert_int_equal(regs.gpr[ESP], 0x7fc);
    assert_int_equal(m32(0x7fc), 0x11223344);
    assert_int_equal(RUN("\x54"), MEMOP_DONE);                          /* push esp */
    assert_int_equal(m32(0x7f8), 0x7fc);
    assert_int_equal(RUN("\x66\x6a\xfe"), MEMOP_DONE);                  /* push word -2 */
    assert_int_equal(regs.gpr[ESP], 0x7f6);
    assert_int_equal(m32(0x7f6) & 0xffff, 0xfffe);
    assert_int_equal(RUN("\x66\x5b"), MEMOP_DONE);                      /* pop bx */
    assert_int_equal(regs.gpr[EBX], 0xfffe);
    s32(0x900, 0xabcd);
    assert_int_equal(RUN("\xff\x35\x00\x09\x00\x00"), MEMOP_DONE);      /* push dword [0x900] */
    assert_int_equal(m32(0x7f4), 0xabcd);
    assert_int_equal(RUN("\x8f\x44\x24\x04"), MEMOP_DONE);              /* pop dword [esp+4] */
    assert_int_equal(regs.gpr[ESP], 0x7f8);
    assert_int_equal(m32(0x7fc), 0xabcd);                               /* new ESP + 4 */
    assert_int_equal(RUN("\x68\x00\x02\x00\x00"), MEMOP_DONE);          /* push 0x200 */
    assert_int_equal(RUN("\x5c"), MEMOP_DONE);                          /* pop esp */
    assert_int_equal(regs.gpr[ESP], 0x200);
    /* A push into an absent page, a pop to a read-only one: nothing moves. */
    regs.gpr[ESP] = NO_PAGE + 2;
    assert_int_equal(RUN("\x50"), MEMOP_FAULT);
    assert_int_equal(regs.gpr[ESP], NO_PAGE + 2);
    regs.gpr[ESP] = 0x200;
    assert_int_equal(RUN("\x8f\x05\x00\xf0\x00\x00"), MEMOP_FAULT);      /* pop dword [0xf000] */
    assert_int_equal(regs.gpr[ESP], 0x200);
    /* The SS base applies. */
    regs.seg_base[2] = 0x1000;
    assert_int_equal(RUN("\x6a\x07"), MEMOP_DONE);
    assert_int_equal(m32(0x11fc), 7);
}

/* 16-bit addressing (0x67): BX/BP + SI/DI + disp modulo 64 KiB, BP-based
 * forms on SS; strings on SI/DI/CX, the upper halves untouched; XLAT,
 * through a based DS too (these stopped the run before). */
static void test_addr16(void **s)
{
    reset();
    regs.gpr[EBX] = 0xabcd0100;                     /* only BX counts */
    regs.gpr[ESI] = 0x0000fff0;
    regs.gpr[EAX] = 0x55;
    assert_int_equal(RUN("\x67\x88\x40\x20"), MEMOP_DONE);          /* mov [bx+si+0x20], al */
    assert_int_equal(mem[0x110], 0x55);                               /* 0x100+0xfff0+0x20 mod 64K */
    regs.gpr[EBP] = 0x200;
    regs.seg_base[2] = 0x1000;                                       /* SS */
    assert_int_equal(RUN("\x67\x66\xff\x46\x02"), MEMOP_DONE);      /* inc word [bp+2] */
    assert_int_equal(m32(0x1202), 1);
    s32(0x300, 0x1234);
    assert_int_equal(RUN("\x67\xff\x36\x00\x03"), MEMOP_DONE);      /* push dword [0x300] */
    regs.seg_base[2] = 0;
    /* rep movsb with SI/DI/CX: SI wraps at 64 KiB, upper halves stay. */
    memcpy(mem + 0xfffe, "\x01\x02", 2);
    mem[0] = 3;
    regs.gpr[ESI] = 0x7777fffe;
    regs.gpr[EDI] = 0x88880400;
    regs.gpr[ECX] = 0x99990003;
    assert_int_equal(RUN("\x67\xf3\xa4"), MEMOP_DONE);
    assert_int_equal(memcmp(mem + 0x400, "\x01\x02\x03", 3), 0);
    assert_int_equal(regs.gpr[ESI], 0x77770001);
    assert_int_equal(regs.gpr[EDI], 0x88880403);
    assert_int_equal(regs.gpr[ECX], 0x99990000);
    /* XLAT: AL = [DS:EBX + AL], with a DS base. */
    regs.seg_base[3] = 0x2000;
    regs.gpr[EBX] = 0x10;
    regs.gpr[EAX] = 0x12345605;
    mem[0x2015] = 0xee;
    assert_int_equal(RUN("\xd7"), MEMOP_DONE);
    assert_int_equal(regs.gpr[EAX], 0x123456ee);
    regs.gpr[EBX] = 0xffff0010;
    regs.gpr[EAX] = 5;
    assert_int_equal(RUN("\x67\xd7"), MEMOP_DONE);                    /* xlat with BX */
    assert_int_equal(regs.gpr[EAX], 0xee);
}

/* MUL/IMUL from memory, PUSHA/POPA, LEAVE (they stopped the run at the
 * 4 GiB wrap before; found by tests/fuzz). */
static void test_mul_pusha_leave(void **s)
{
    reset();
    s32(0x100, 0xffffffff);
    regs.gpr[EAX] = 2;
    assert_int_equal(RUN("\xf7\x25\x00\x01\x00\x00"), MEMOP_DONE);      /* mul dword [0x100] */
    assert_int_equal(regs.gpr[EAX], 0xfffffffe);
    assert_int_equal(regs.gpr[EDX], 1);
    assert_int_equal(regs.eflags & (FL_CF | FL_OF), FL_CF | FL_OF);
    regs.gpr[EAX] = 0x12340003;
    assert_int_equal(RUN("\xf6\x2d\x00\x01\x00\x00"), MEMOP_DONE);      /* imul byte [0x100] (-1) */
    assert_int_equal(regs.gpr[EAX], 0x1234fffd);
    assert_int_equal(regs.eflags & (FL_CF | FL_OF), 0);
    s32(0x104, 7);
    regs.gpr[ECX] = 6;
    assert_int_equal(RUN("\x0f\xaf\x0d\x04\x01\x00\x00"), MEMOP_DONE);  /* imul ecx, [0x104] */
    assert_int_equal(regs.gpr[ECX], 42);
    assert_int_equal(RUN("\x6b\x15\x04\x01\x00\x00\xfd"), MEMOP_DONE);  /* imul edx, [0x104], -3 */
    assert_int_equal(regs.gpr[EDX], (uint32_t)-21);
    /* PUSHA then POPA with other values in between; ESP's slot is skipped. */
    for (int i = 0; i < 8; i++) regs.gpr[i] = 0x1000 * (i + 1) + i;
    regs.gpr[ESP] = 0x800;
    assert_int_equal(RUN("\x60"), MEMOP_DONE);
    assert_int_equal(regs.gpr[ESP], 0x7e0);
    assert_int_equal(m32(0x7fc), 0x1000);                          /* EAX highest */
    assert_int_equal(m32(0x7ec), 0x800);                           /* the old ESP */
    assert_int_equal(m32(0x7e0), 0x8007);                          /* EDI lowest */
    for (int i = 0; i < 8; i++) if (i != ESP) regs.gpr[i] = 0;
    s32(0x7ec, 0xdead);
    assert_int_equal(RUN("\x61"), MEMOP_DONE);
    assert_int_equal(regs.gpr[ESP], 0x800);
    assert_int_equal(regs.gpr[EAX], 0x1000);
    assert_int_equal(regs.gpr[EDI], 0x8007);
    regs.gpr[ESP] = NO_PAGE + 8;                                   /* a fault moves nothing */
    assert_int_equal(RUN("\x60"), MEMOP_FAULT);
    assert_int_equal(regs.gpr[ESP], NO_PAGE + 8);
    /* LEAVE */
    regs.gpr[EBP] = 0x900;
    s32(0x900, 0x1234);
    assert_int_equal(RUN("\xc9"), MEMOP_DONE);
    assert_int_equal(regs.gpr[ESP], 0x904);
    assert_int_equal(regs.gpr[EBP], 0x1234);
}

/* Shifts and rotates on memory: results and flags from the host CPU
 * running the same operation; a zero count changes no flag. */
static void test_shifts(void **s)
{
    reset();
    s32(0x100, 0x80000001);
    regs.eflags = 2;
    assert_int_equal(RUN("\xd1\x05\x00\x01\x00\x00"), MEMOP_DONE);      /* rol dword [0x100], 1 */
    assert_int_equal(m32(0x100), 3);
    assert_int_equal(regs.eflags & (FL_CF | FL_OF), FL_CF | FL_OF);
    regs.gpr[ECX] = 0x21;                                              /* count masked to 1 */
    assert_int_equal(RUN("\xd3\x2d\x00\x01\x00\x00"), MEMOP_DONE);      /* shr dword [0x100], cl */
    assert_int_equal(m32(0x100), 1);
    assert_true(regs.eflags & FL_CF);
    mem[0x104] = 0x81;
    assert_int_equal(RUN("\xc0\x3d\x04\x01\x00\x00\x07"), MEMOP_DONE);  /* sar byte [0x104], 7 */
    assert_int_equal(mem[0x104], 0xff);
    regs.eflags = 2 | FL_CF | FL_ZF;
    assert_int_equal(RUN("\xc1\x25\x00\x01\x00\x00\x00"), MEMOP_DONE);  /* shl dword [0x100], 0 */
    assert_int_equal(regs.eflags, 2 | FL_CF | FL_ZF);
    mem[0x108] = 0x01;
    regs.eflags = 2 | FL_CF;
    assert_int_equal(RUN("\xd0\x1d\x08\x01\x00\x00"), MEMOP_DONE);      /* rcr byte [0x108], 1 */
    assert_int_equal(mem[0x108], 0x80);
    assert_true(regs.eflags & FL_CF);
    assert_int_equal(RUN("\xd1\x25\x00\xf0\x00\x00"), MEMOP_FAULT);     /* shl [read-only] */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov),
        cmocka_unit_test(test_alu_flags),
        cmocka_unit_test(test_atomics_and_bits),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_yield),
        cmocka_unit_test(test_faults_change_nothing),
        cmocka_unit_test(test_unsupported_and_sizes),
        cmocka_unit_test(test_stack),
        cmocka_unit_test(test_addr16),
        cmocka_unit_test(test_mul_pusha_leave),
        cmocka_unit_test(test_shifts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
