/* bounce — an instruction that translated code could not run because its
 * memory operand runs across the 4 GiB wrap or lies on device memory or
 * the open bus, and that memop.c does not perform (x87, MMX, SSE,
 * CMPXCHG8B, DIV, BSF/BSR, CMOVcc, SHLD/SHRD, ...): the host runs the
 * instruction itself against a bounce buffer.
 *
 *   1. The operand's bytes are gathered from guest memory (both sides of
 *      the wrap, the device, all-ones from the open bus) through the
 *      guest's page tables; a store form is checked for writing too. A
 *      #PF on either page is raised here, before anything changed.
 *   2. The instruction is re-encoded with its memory operand RIP-relative
 *      to the buffer (MASKMOVQ/MASKMOVDQU: EDI points at it) and run on
 *      the host with the guest's registers, arithmetic flags and x87/SSE
 *      state (the signal frame's FXSAVE image).
 *   3. The bytes a store form wrote are scattered back in one access
 *      (MASKMOV: the bytes its mask selects), then the registers, flags
 *      and FPU state are committed.
 *
 * Exceptions the instruction itself raises are decided before or after
 * the run, never inside it: #DE from the dividend and divisor, #MF from a
 * pending x87 exception (x87 and MMX forms that wait, SDM vol. 1 §8.6),
 * #XM by running with SIMD exceptions masked and looking at the flags it
 * set (vol. 1 §11.5.2); then nothing is committed. Alignment #GP and #UD
 * were raised by the native run already. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "emulator/paging.h"

struct bounce_cpu {
    uint32_t gpr[8];                    /* 0 */
    uint32_t eflags;                    /* 32 */
    uint32_t pad;
    uint64_t host_rsp;                  /* 40 */
    uint64_t code;                      /* 48 */
    uint64_t back;                      /* 56 */
    _Alignas(16) uint8_t fx_guest[512]; /* 64 */
    _Alignas(16) uint8_t fx_host[512];  /* 576 */
};

/* void bounce_exec(struct bounce_cpu *b, const void *code): load the guest
 * state, jump to the snippet, which ends with jmp [r15 + 56]; R15 is not
 * nameable by a guest instruction (no REX), so it survives. */
void bounce_exec(struct bounce_cpu *b, const void *code);
__asm__(".text\n"
        ".type bounce_exec, @function\n"
        "bounce_exec:\n"
        "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rdi, %r15\n"
        "  mov %rsi, 48(%r15)\n"
        "  lea 1f(%rip), %rax\n"
        "  mov %rax, 56(%r15)\n"
        "  fxsave64 576(%r15)\n"
        "  fxrstor64 64(%r15)\n"
        "  mov %rsp, 40(%r15)\n"
        "  pushfq\n  pop %rax\n  and $~0xcd5, %eax\n  mov 32(%r15), %ecx\n  and $0xcd5, %ecx\n"
        "  or %ecx, %eax\n  push %rax\n  popfq\n"
        "  mov 0(%r15), %eax\n  mov 4(%r15), %ecx\n  mov 8(%r15), %edx\n  mov 12(%r15), %ebx\n"
        "  mov 20(%r15), %ebp\n  mov 24(%r15), %esi\n  mov 28(%r15), %edi\n  mov 16(%r15), %esp\n"
        "  jmp *48(%r15)\n"
        "1:\n"
        "  mov %eax, 0(%r15)\n  mov %ecx, 4(%r15)\n  mov %edx, 8(%r15)\n  mov %ebx, 12(%r15)\n"
        "  mov %esp, 16(%r15)\n  mov %ebp, 20(%r15)\n  mov %esi, 24(%r15)\n  mov %edi, 28(%r15)\n"
        "  mov 40(%r15), %rsp\n"
        "  pushfq\n  pop %rax\n  mov %eax, 32(%r15)\n"
        "  fxsave64 64(%r15)\n"
        "  fxrstor64 576(%r15)\n"
        "  cld\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
        "  ret\n"
        ".size bounce_exec, .-bounce_exec\n");

enum { ACC_R = 1, ACC_W = 2 };

static bool is_0f(const struct insn *in) { return in->opc_len == 2 && in->bytes[in->npfx] == 0x0f; }

/* x87 memory forms (SDM vol. 2 appendix A.4): bytes and access; 0 none. */
static unsigned x87_operand(const struct insn *in, unsigned *acc)
{
    static const uint8_t size[8][8] = {
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 4, 4, 0xe, 2, 0xe, 2 },
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 4, 4, 4, 0, 10, 0, 10 },
        { 8, 8, 8, 8, 8, 8, 8, 8 }, { 8, 8, 8, 8, 0xb, 0, 0xb, 2 },
        { 2, 2, 2, 2, 2, 2, 2, 2 }, { 2, 2, 2, 2, 10, 8, 10, 8 },
    };
    /* Stores: FST/FSTP m32 m64, FISTTP/FIST/FISTP, FSTP m80, FNSTENV,
     * FNSTCW, FNSAVE, FNSTSW, FBSTP, FISTP m64. */
    static const uint8_t store[8] = { 0, 0xcc, 0, 0x8e, 0, 0xce, 0, 0xce };
    unsigned op = in->opcode - 0xd8, n = size[op][in->reg];

    if (n == 0xe)
        n = in->opsize == 2 ? 14 : 28;          /* FLDENV, FNSTENV */
    else if (n == 0xb)
        n = in->opsize == 2 ? 94 : 108;         /* FRSTOR, FNSAVE */
    *acc = (store[op] >> in->reg & 1) ? ACC_W : ACC_R;
    return n;
}

/* 0F-map MMX/SSE/SSE2/SSE3 memory forms (SDM vol. 2 appendix A.3) and the
 * integer ones memop.c leaves: bytes and access; 0 none. */
static unsigned map0f_operand(const struct insn *in, unsigned *acc)
{
    uint8_t op = in->opcode;
    int p = in->rep == 0xf3 ? 3 : in->rep == 0xf2 ? 2 : in->opsize == 2 ? 1 : 0;   /* -, 66, F2, F3 */
    unsigned mmx = p == 1 ? 16 : 8;

    *acc = ACC_R;
    switch (op) {
    case 0x10: return (unsigned[]){ 16, 16, 8, 4 }[p];
    case 0x11: *acc = ACC_W; return (unsigned[]){ 16, 16, 8, 4 }[p];
    case 0x12: return p == 3 ? 16 : 8;
    case 0x13: case 0x17: *acc = ACC_W; return 8;
    case 0x14: case 0x15: case 0x28: return 16;
    case 0x16: return p == 3 ? 16 : 8;
    case 0x29: case 0x2b: *acc = ACC_W; return 16;
    case 0x2a: return p >= 2 ? 4 : 8;
    case 0x2c: case 0x2d: return (unsigned[]){ 8, 16, 8, 4 }[p];
    case 0x2e: case 0x2f: return p == 1 ? 8 : 4;
    case 0x5a: return (unsigned[]){ 8, 16, 8, 4 }[p];
    case 0x5b: return 16;
    case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58:
    case 0x59: case 0x5c: case 0x5d: case 0x5e: case 0x5f: case 0xc2:
        return (unsigned[]){ 16, 16, 8, 4 }[p];
    case 0x60: case 0x61: case 0x62: return p == 1 ? 16 : 4;
    case 0x6c: case 0x6d: case 0x7c: case 0x7d: case 0xc6: case 0xd0: case 0xf0: return 16;
    case 0x6e: return 4;
    case 0x6f: return p == 0 ? 8 : 16;
    case 0x70: return p == 0 ? 8 : 16;
    case 0x7e: if (p == 3) return 8; *acc = ACC_W; return 4;
    case 0x7f: *acc = ACC_W; return p == 0 ? 8 : 16;
    case 0xae:
        switch (in->reg) {
        case 0: *acc = ACC_W; return 512;       /* FXSAVE */
        case 1: return 512;                     /* FXRSTOR */
        case 2: return 4;                       /* LDMXCSR */
        case 3: *acc = ACC_W; return 4;         /* STMXCSR */
        default: return 0;
        }
    case 0xc3: *acc = ACC_W; return 4;          /* MOVNTI */
    case 0xc4: return 2;                        /* PINSRW */
    case 0xd6: *acc = ACC_W; return 8;          /* MOVQ xmm/m64, xmm */
    case 0xe6: return p == 3 ? 8 : 16;
    case 0xe7: *acc = ACC_W; return mmx;        /* MOVNTQ, MOVNTDQ */
    case 0xbc: case 0xbd: return in->opsize;    /* BSF BSR */
    case 0xa4: case 0xa5: case 0xac: case 0xad: /* SHLD SHRD */
        *acc = ACC_R | ACC_W;
        return in->opsize;
    case 0xc7: *acc = ACC_R | ACC_W; return in->reg == 1 ? 8 : 0;   /* CMPXCHG8B writes either way */
    default:
        if (op >= 0x40 && op <= 0x4f)           /* CMOVcc reads whatever the condition */
            return in->opsize;
        if ((op >= 0x63 && op <= 0x6b) || (op >= 0x74 && op <= 0x76) || (op >= 0xd1 && op <= 0xfe &&
            op != 0xd7 && op != 0xf7))
            return mmx;
        return 0;
    }
}

static unsigned operand(const struct insn *in, unsigned *acc)
{
    if (in->kind == K_MASKMOV) {
        *acc = ACC_R | ACC_W;
        return in->opsize == 2 ? 16 : 8;
    }
    if (in->modrm_off < 0 || in->mod == 3)
        return 0;
    if (in->opc_len == 1 && in->opcode >= 0xd8 && in->opcode <= 0xdf)
        return x87_operand(in, acc);
    if (in->opc_len == 1 && (in->opcode == 0xf6 || in->opcode == 0xf7) && in->reg >= 6) {
        *acc = ACC_R;                           /* DIV IDIV */
        return in->opcode == 0xf6 ? 1 : in->opsize;
    }
    return is_0f(in) ? map0f_operand(in, acc) : 0;
}

/* SDM "DIV"/"IDIV": #DE for a zero divisor or a quotient out of range. */
static bool divide_error(const struct insn *in, const uint32_t gpr[8], uint32_t d, unsigned n)
{
    bool sign = in->reg == 7;
    __int128 q;

    if (n == 1) {
        if ((uint8_t)d == 0)
            return true;
        q = sign ? (__int128)(int16_t)gpr[0] / (int8_t)d : (__int128)(uint16_t)gpr[0] / (uint8_t)d;
        return sign ? q < -128 || q > 127 : q > 0xff;
    }
    if (n == 2) {
        uint32_t x = (gpr[2] & 0xffff) << 16 | (gpr[0] & 0xffff);
        if ((uint16_t)d == 0)
            return true;
        q = sign ? (__int128)(int32_t)x / (int16_t)d : (__int128)x / (uint16_t)d;
        return sign ? q < -32768 || q > 32767 : q > 0xffff;
    }
    uint64_t x = (uint64_t)gpr[2] << 32 | gpr[0];
    if (d == 0)
        return true;
    q = sign ? (__int128)(int64_t)x / (int32_t)d : (__int128)x / d;
    return sign ? q < INT32_MIN || q > INT32_MAX : q > 0xffffffffu;
}

/* x87 forms and MMX forms check for a pending x87 exception first (the
 * FN* stores do not); SSE forms do not. */
static bool waits_for_x87(const struct insn *in)
{
    if (in->flags & INSN_F_FPU)
        return !((in->opcode == 0xd9 || in->opcode == 0xdd) && in->reg >= 6);
    if (!(in->flags & INSN_F_SSE) || in->rep || in->opsize == 2)
        return false;
    uint8_t op = in->opcode;
    return op == 0x2a || op == 0x2c || op == 0x2d || (op >= 0x60 && op <= 0x7f) || op == 0xc4 ||
           op >= 0xd0;
}

/* The MXCSR bits this CPU implements (FXSAVE's MXCSR_MASK, 0 meaning
 * 0xFFBF: SDM vol. 1 §11.6.6); setting another one is #GP(0). */
static uint32_t host_mxcsr_mask(void)
{
    static uint32_t mask;
    if (!mask) {
        static _Alignas(16) uint8_t img[512];
        __asm__ volatile("fxsave64 %0" : "=m"(img));
        memcpy(&mask, img + 28, 4);
        if (!mask)
            mask = 0xffbf;
    }
    return mask;
}

/* FXRSTOR and LDMXCSR load MXCSR. */
static bool mxcsr_load(const struct insn *in)
{
    return is_0f(in) && in->opcode == 0xae && (in->reg == 1 || in->reg == 2);
}

/* Code page, then the buffer pages, below 2 GiB so that MASKMOV's EDI
 * can point there. Per process, like the signal stack it is used on. */
static uint8_t *area;
#define AREA_PAGES 4

static uint8_t *snippet(const struct insn *in, uint8_t *buf)
{
    uint8_t *c = area, *p = c;

    if (in->flags & INSN_F_LOCK)
        *p++ = 0xf0;
    if (in->opsize == 2)
        *p++ = 0x66;
    if (in->rep && (in->flags & INSN_F_SSE))   /* a mandatory prefix; elsewhere ignored (F3 BSF) */
        *p++ = in->rep;
    memcpy(p, in->bytes + in->npfx, in->opc_len);
    p += in->opc_len;
    if (in->kind == K_MASKMOV) {
        *p++ = in->bytes[in->modrm_off];
    } else {
        unsigned imm = in->imm_off >= 0 ? in->imm_size : 0;
        *p++ = (uint8_t)(in->reg << 3 | 5);     /* [rip + disp32] */
        int32_t rel = (int32_t)(buf - (p + 4 + imm));
        memcpy(p, &rel, 4);
        p += 4;
        if (imm)
            memcpy(p, in->bytes + in->imm_off, imm);
        p += imm;
    }
    memcpy(p, "\x41\xff\x67\x38", 4);           /* jmp [r15 + 56] */
    return c;
}

/* The FXSAVE image of the interrupted context (XSAVE format when the
 * kernel used XSAVE: then the x87 and SSE components are marked present,
 * so that sigreturn loads what is written here). */
static uint8_t *frame_fx(void *ucv)
{
    ucontext_t *uc = ucv;
    return (uint8_t *)uc->uc_mcontext.fpregs;
}

static void frame_fx_written(uint8_t *fx)
{
    uint32_t magic;
    memcpy(&magic, fx + 464, 4);
    if (magic == 0x46505853u) {                 /* FP_XSTATE_MAGIC1 */
        uint64_t bv;
        memcpy(&bv, fx + 512, 8);
        bv |= 3;
        memcpy(fx + 512, &bv, 8);
    }
}

bool bounce_performs(const struct insn *in)
{
    unsigned acc;
    return operand(in, &acc) != 0;
}

/* In a callout the guest's x87 state is in the FPU and its XMM0-7 and
 * MXCSR are set aside in the bt_cpu (bt/runtime.S): the image is put
 * together from both, and taken apart again after the run, the FPU
 * keeping the monitor's MXCSR. */
static void callout_fx(const struct bt_cpu *cpu, uint8_t img[512])
{
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])img));
    memcpy(img + 24, &cpu->mxcsr_guest, 4);
    memcpy(img + 160, cpu->xmm_guest, 128);
}

static void callout_fx_commit(struct bt_cpu *cpu, uint8_t img[512])
{
    memcpy(&cpu->mxcsr_guest, img + 24, 4);
    memcpy(cpu->xmm_guest, img + 160, 128);
    memcpy(img + 24, &cpu->mxcsr_host, 4);
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t(*)[512])img));
}

#define MXCSR_FLAGS 0x3fu
#define MXCSR_MASKS 0x1f80u

int bounce_run(struct vcpu *v, const struct insn *in, void *uc)
{
    struct bt_cpu *cpu = &v->bt;
    static struct bounce_cpu b;         /* signal context: not on the small stack */
    unsigned acc = 0, n = operand(in, &acc), user = v->cpl == 3 ? GM_USER : 0;
    static _Alignas(16) uint8_t live[512];
    uint8_t *fx = uc ? frame_fx(uc) : live, data[512];
    uint32_t lin, mxcsr = 0;
    int seg;
    /* SIMD arithmetic; not the forms that load or store MXCSR itself. */
    bool simd = (in->flags & INSN_F_SSE) && !(is_0f(in) && in->opcode == 0xae);

    if (!n || !fx)
        return -1;
    if (!uc)
        callout_fx(cpu, live);
    if (!area) {
        void *a = mmap(NULL, AREA_PAGES * 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (a == MAP_FAILED)
            return -1;
        area = a;
    }
    if (in->kind == K_MASKMOV) {
        uint32_t am = in->addrsize == 2 ? 0xffff : 0xffffffff;
        lin = v->seg[in->seg != SEG_NONE ? in->seg : SEG_DS].base + (cpu->gpr[R_EDI] & am);
    } else {
        uint32_t off = insn_ea(in, cpu->gpr, &seg);
        lin = v->seg[seg].base + off;
    }
    /* 1. Gather, and check a store's pages for writing. */
    if (!guest_access(v, lin, data, n, user) ||
        ((acc & ACC_W) && !guest_access(v, lin, NULL, n, user | GM_WRITE | GM_PROBE)))
        return guest_mem_fail(v, in->eip, lin, "touches");
    if (in->opc_len == 1 && (in->opcode == 0xf6 || in->opcode == 0xf7) && in->reg >= 6) {
        uint32_t d = 0;
        memcpy(&d, data, n);
        if (divide_error(in, cpu->gpr, d, n))
            return raise_fault(v, FAULT(EXC_DE, 0), in->eip);
    }
    if (waits_for_x87(in) && (fx[2] & 0x80))    /* FSW.ES */
        return raise_fault(v, FAULT(EXC_MF, 0), in->eip);
    if (mxcsr_load(in)) {                       /* unimplemented MXCSR bits: #GP(0) */
        uint32_t m;
        memcpy(&m, data + (in->reg == 1 ? 24 : 0), 4);
        if (m & ~host_mxcsr_mask())
            return raise_fault(v, GP(0), in->eip);
    }

    /* 2. Run. */
    uint8_t *buf = area + 4096 + (lin & 4095);
    memcpy(buf, data, n);
    memcpy(b.gpr, cpu->gpr, sizeof b.gpr);
    b.eflags = cpu->eflags;
    if (in->kind == K_MASKMOV)
        b.gpr[R_EDI] = (uint32_t)(uintptr_t)buf;
    memcpy(b.fx_guest, fx, 512);
    if (simd) {                                 /* every SIMD exception masked, flags from zero */
        memcpy(&mxcsr, b.fx_guest + 24, 4);
        uint32_t run = (mxcsr & ~MXCSR_FLAGS) | MXCSR_MASKS;
        memcpy(b.fx_guest + 24, &run, 4);
    }
    snippet(in, buf);
    if (mprotect(area, 4096, PROT_READ | PROT_EXEC) != 0)
        return -1;
    bounce_exec(&b, area);
    mprotect(area, 4096, PROT_READ | PROT_WRITE);
    if (simd) {
        uint32_t after, raised;
        memcpy(&after, b.fx_guest + 24, 4);
        raised = after & MXCSR_FLAGS;
        if (raised & ~(mxcsr >> 7) & MXCSR_FLAGS)
            return raise_fault(v, FAULT((v->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0), in->eip);
        after = (after & ~(MXCSR_FLAGS | MXCSR_MASKS)) | (mxcsr & (MXCSR_FLAGS | MXCSR_MASKS)) | raised;
        memcpy(b.fx_guest + 24, &after, 4);
    }

    /* 3. Scatter and commit. */
    if (in->kind == K_MASKMOV) {
        /* The mask register is the ModRM r/m one; MMX instructions leave
         * TOP = 0, so MMn is the image's slot n. */
        const uint8_t *mask = b.fx_guest + (in->opsize == 2 ? 160 : 32) + 16 * in->rm;
        for (unsigned i = 0; i < n; i++)
            if ((mask[i] & 0x80) && !guest_access(v, lin + i, buf + i, 1, user | GM_WRITE))
                return guest_mem_fail(v, in->eip, lin + i, "touches");
        b.gpr[R_EDI] = cpu->gpr[R_EDI];
    } else if ((acc & ACC_W) && !guest_access(v, lin, buf, n, user | GM_WRITE)) {
        return guest_mem_fail(v, in->eip, lin, "touches");
    }
    memcpy(cpu->gpr, b.gpr, sizeof cpu->gpr);
    cpu->eflags = (cpu->eflags & ~(FL_ARITH | FL_DF)) | (b.eflags & (FL_ARITH | FL_DF));
    if (uc) {
        memcpy(fx, b.fx_guest, 512);
        frame_fx_written(fx);
    } else {
        callout_fx_commit(cpu, b.fx_guest);
    }
    cpu->next_eip = in->eip + in->len;
    v->vm->stats.memop_emulated++;
    return BT_EXIT;
}
