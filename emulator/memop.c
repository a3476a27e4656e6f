/* memop — see memop.h. Operands come from the decoder's byte layout
 * (struct insn: ModRM, SIB, displacement, immediate); the opcode tables
 * are SDM vol. 2 appendix A (one-byte map and the 0F map). */
#include <string.h>

#include "emulator/memop.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

#define ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* ---- the host ALU --------------------------------------------------------
 * The operation runs on host registers between a POPFQ of the guest's
 * arithmetic flags and a PUSHFQ, so every flag is what the hardware makes
 * of it. The pushes go below the red zone. DF stays clear (C's ABI). */

enum alu_op { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP,
              A_TEST, A_INC, A_DEC, A_NEG, A_NOT, A_BT, A_BTS, A_BTR, A_BTC };

#define PRE  "lea -128(%%rsp), %%rsp\n\tpushq %q[f]\n\tpopfq\n\t"
#define POST "\n\tpushfq\n\tpopq %q[f]\n\tlea 128(%%rsp), %%rsp"
/* Host instruction m on the operands a (and b) of constraint class c, with
 * the flags word f loaded before it and stored after it. */
#define ALU_BIN(m, c, a, b, f)                                                      \
    __asm__ volatile(PRE m " %[b], %[a]" POST : [a] "+" c(a), [f] "+r"(f)          \
                     : [b] c(b) : "cc", "memory")
#define ALU_UN(m, c, a, f)                                                          \
    __asm__ volatile(PRE m " %[a]" POST : [a] "+" c(a), [f] "+r"(f) : : "cc", "memory")

/* The BT family has no 8-bit form. */
#define ALU_BITOPS(c, a, b, f)                                                      \
    case A_BT:  ALU_BIN("bt", c, a, b, f); break;                                   \
    case A_BTS: ALU_BIN("bts", c, a, b, f); break;                                  \
    case A_BTR: ALU_BIN("btr", c, a, b, f); break;                                  \
    case A_BTC: ALU_BIN("btc", c, a, b, f); break;
#define ALU_NO_BITOPS(c, a, b, f)

/* name(op, a, b, &flags): the operation at one operand size. */
#define DEFINE_ALU(name, type, c, BITOPS)                                           \
    static type name(int op, type a, type b, uint64_t *fp)                          \
    {                                                                               \
        uint64_t f = *fp;                                                           \
        switch (op) {                                                               \
        case A_ADD: ALU_BIN("add", c, a, b, f); break;                              \
        case A_OR:  ALU_BIN("or", c, a, b, f); break;                               \
        case A_ADC: ALU_BIN("adc", c, a, b, f); break;                              \
        case A_SBB: ALU_BIN("sbb", c, a, b, f); break;                              \
        case A_AND: ALU_BIN("and", c, a, b, f); break;                              \
        case A_SUB: ALU_BIN("sub", c, a, b, f); break;                              \
        case A_XOR: ALU_BIN("xor", c, a, b, f); break;                              \
        case A_CMP: ALU_BIN("cmp", c, a, b, f); break;                              \
        case A_TEST: ALU_BIN("test", c, a, b, f); break;                            \
        case A_INC: ALU_UN("inc", c, a, f); break;                                  \
        case A_DEC: ALU_UN("dec", c, a, f); break;                                  \
        case A_NEG: ALU_UN("neg", c, a, f); break;                                  \
        case A_NOT: a = (type)~a; break;                                            \
        BITOPS(c, a, b, f)                                                          \
        default: break;                                                             \
        }                                                                           \
        *fp = f;                                                                    \
        return a;                                                                   \
    }

DEFINE_ALU(alu8, uint8_t, "q", ALU_NO_BITOPS)
DEFINE_ALU(alu16, uint16_t, "r", ALU_BITOPS)
DEFINE_ALU(alu32, uint32_t, "r", ALU_BITOPS)

/* Shifts and rotates by CL, on the host too: the count masking, RCL/RCR's
 * modulo 9/17 and the flags left alone for a zero count are the CPU's. */
enum shift_op { S_ROL, S_ROR, S_RCL, S_RCR, S_SHL, S_SHR, S_SAL, S_SAR };

#define SH(m, c) __asm__ volatile(PRE m " %%cl, %[a]" POST : [a] "+" c(a), [f] "+r"(f) \
                                  : "c"(cnt) : "cc", "memory")
#define SHIFT_BODY(c)                                                  \
    switch (op) {                                                      \
    case S_ROL: SH("rol", c); break;                                   \
    case S_ROR: SH("ror", c); break;                                   \
    case S_RCL: SH("rcl", c); break;                                   \
    case S_RCR: SH("rcr", c); break;                                   \
    case S_SHR: SH("shr", c); break;                                   \
    case S_SAR: SH("sar", c); break;                                   \
    default: SH("shl", c); break;       /* SAL (/6) is SHL */          \
    }

static uint32_t shift(int op, unsigned size, uint32_t v, uint8_t cnt, uint32_t *eflags)
{
    uint64_t f = (*eflags & ARITH) | 2;

    if (size == 1) {
        uint8_t a = (uint8_t)v;
        SHIFT_BODY("q")
        v = a;
    } else if (size == 2) {
        uint16_t a = (uint16_t)v;
        SHIFT_BODY("r")
        v = a;
    } else {
        uint32_t a = v;
        SHIFT_BODY("r")
        v = a;
    }
    *eflags = (*eflags & ~ARITH) | ((uint32_t)f & ARITH);
    return v;
}

/* MUL/IMUL with one operand: EDX:EAX (DX:AX, AX) = eAX * v, on the host. */
static void mul1(bool sign, unsigned size, uint32_t v, uint32_t *eax, uint32_t *edx, uint32_t *eflags)
{
    uint64_t f = (*eflags & ARITH) | 2;
    uint32_t a = *eax, d = *edx;

    if (size == 1) {
        uint8_t b = (uint8_t)v;
        if (sign) __asm__ volatile(PRE "imulb %[b]" POST : "+a"(a), [f] "+r"(f) : [b] "q"(b) : "cc", "memory");
        else      __asm__ volatile(PRE "mulb %[b]" POST : "+a"(a), [f] "+r"(f) : [b] "q"(b) : "cc", "memory");
    } else if (size == 2) {
        uint16_t b = (uint16_t)v;
        if (sign) __asm__ volatile(PRE "imulw %[b]" POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");
        else      __asm__ volatile(PRE "mulw %[b]" POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");
    } else {
        if (sign) __asm__ volatile(PRE "imull %[b]" POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(v) : "cc", "memory");
        else      __asm__ volatile(PRE "mull %[b]" POST : "+a"(a), "+d"(d), [f] "+r"(f) : [b] "r"(v) : "cc", "memory");
    }
    *eax = a;
    *edx = d;
    *eflags = (*eflags & ~ARITH) | ((uint32_t)f & ARITH);
}

/* IMUL with two or three operands: a * b truncated to 16 or 32 bits. */
static uint32_t imul2(unsigned size, uint32_t a, uint32_t b, uint32_t *eflags)
{
    uint64_t f = (*eflags & ARITH) | 2;

    if (size == 2) {
        uint16_t x = (uint16_t)a, y = (uint16_t)b;
        __asm__ volatile(PRE "imulw %[b], %[a]" POST : [a] "+r"(x), [f] "+r"(f) : [b] "r"(y) : "cc", "memory");
        a = x;
    } else {
        __asm__ volatile(PRE "imull %[b], %[a]" POST : [a] "+r"(a), [f] "+r"(f) : [b] "r"(b) : "cc", "memory");
    }
    *eflags = (*eflags & ~ARITH) | ((uint32_t)f & ARITH);
    return a;
}

/* a op b at `size` bytes; the guest's arithmetic flags in and out. */
static uint32_t alu(int op, unsigned size, uint32_t a, uint32_t b, uint32_t *eflags)
{
    uint64_t f = (*eflags & ARITH) | 2;
    uint32_t r;

    if (size == 1)
        r = alu8(op, (uint8_t)a, (uint8_t)b, &f);
    else if (size == 2)
        r = alu16(op, (uint16_t)a, (uint16_t)b, &f);
    else
        r = alu32(op, a, b, &f);
    *eflags = (*eflags & ~ARITH) | ((uint32_t)f & ARITH);
    return r;
}

/* ---- operands ----------------------------------------------------------- */

struct mo {
    const struct insn *in;
    struct memop_regs *r;
    const struct memop_bus *bus;
    unsigned size;              /* operand size of the ModRM/moffs operand: 1, 2 or 4 */
    uint32_t lin;               /* its linear address */
};

static uint32_t mask_of(unsigned size) { return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }

static uint32_t reg_get(const struct memop_regs *r, unsigned reg, unsigned size)
{
    if (size == 1)
        return reg < 4 ? r->gpr[reg] & 0xff : r->gpr[reg - 4] >> 8 & 0xff;
    return r->gpr[reg] & mask_of(size);
}

static void reg_set(struct memop_regs *r, unsigned reg, unsigned size, uint32_t v)
{
    if (size == 1) {
        if (reg < 4)
            r->gpr[reg] = (r->gpr[reg] & ~0xffu) | (v & 0xff);
        else
            r->gpr[reg - 4] = (r->gpr[reg - 4] & ~0xff00u) | (v & 0xff) << 8;
    } else if (size == 2) {
        r->gpr[reg] = (r->gpr[reg] & ~0xffffu) | (v & 0xffff);
    } else {
        r->gpr[reg] = v;
    }
}

static bool addr16(const struct insn *in) { return (in->flags & INSN_F_ADDR16) != 0; }

/* The linear address of the ModRM operand: its offset plus its segment's base. */
static uint32_t modrm_lin(const struct insn *in, const struct memop_regs *r)
{
    int seg;
    uint32_t ea = insn_ea(in, r->gpr, &seg);
    return r->seg_base[seg] + ea;
}

static bool ld(struct mo *m, uint32_t lin, unsigned n, uint32_t *v)
{
    *v = 0;
    return m->bus->read(m->bus->opaque, lin, v, n);
}

static bool st(struct mo *m, uint32_t lin, unsigned n, uint32_t v)
{
    return m->bus->write(m->bus->opaque, lin, &v, n);
}

static bool probe_w(struct mo *m, uint32_t lin, unsigned n)
{
    return m->bus->check(m->bus->opaque, lin, n, true);
}

/* ---- conditions (SETcc) ------------------------------------------------- */

static bool cond(unsigned cc, uint32_t fl)
{
    bool cf = fl & FL_CF, zf = fl & FL_ZF, sf = fl & FL_SF, of = fl & FL_OF, pf = fl & FL_PF, t;
    switch (cc >> 1) {
    case 0: t = of; break;
    case 1: t = cf; break;
    case 2: t = zf; break;
    case 3: t = cf || zf; break;
    case 4: t = sf; break;
    case 5: t = pf; break;
    case 6: t = sf != of; break;
    default: t = zf || sf != of; break;
    }
    return (cc & 1) ? !t : t;
}

/* ---- the forms ---------------------------------------------------------- */

/* ALU r/m,r / r,r/m / r/m,imm: result to memory unless CMP/TEST or a
 * register destination. */
static enum memop_result op_alu(struct mo *m, int op, bool to_reg, bool imm, uint32_t src_imm)
{
    const struct insn *in = m->in;
    struct memop_regs *r = m->r;
    bool writes = !to_reg && op != A_CMP && op != A_TEST;
    uint32_t mem, other, res;

    if (writes && !probe_w(m, m->lin, m->size))
        return MEMOP_FAULT;
    if (!ld(m, m->lin, m->size, &mem))
        return MEMOP_FAULT;
    other = imm ? src_imm & mask_of(m->size) : reg_get(r, in->reg, m->size);
    if (to_reg) {
        res = alu(op, m->size, other, mem, &r->eflags);
        if (op != A_CMP && op != A_TEST)
            reg_set(r, in->reg, m->size, res);
        return MEMOP_DONE;
    }
    res = alu(op, m->size, mem, other, &r->eflags);
    if (writes && !st(m, m->lin, m->size, res))
        return MEMOP_FAULT;
    return MEMOP_DONE;
}

static enum memop_result op_unary(struct mo *m, int op)
{
    uint32_t v;

    if (!probe_w(m, m->lin, m->size) || !ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    v = alu(op, m->size, v, 0, &m->r->eflags);
    return st(m, m->lin, m->size, v) ? MEMOP_DONE : MEMOP_FAULT;
}

/* BT/BTS/BTR/BTC m, r/imm8: a register offset addresses a bit string
 * (SDM "BT": EA + size * (offset DIV bits), signed). */
static enum memop_result op_bit(struct mo *m, int op, bool imm)
{
    unsigned bits = m->size * 8;
    uint32_t lin = m->lin, v, off;

    if (imm) {
        off = (uint32_t)m->in->imm & (bits - 1);
    } else {
        int32_t o = m->size == 2 ? (int16_t)m->r->gpr[m->in->reg] : (int32_t)m->r->gpr[m->in->reg];
        lin += (uint32_t)((o >> (m->size == 2 ? 4 : 5)) * (int32_t)m->size);
        off = (uint32_t)o & (bits - 1);
    }
    if (op != A_BT && !probe_w(m, lin, m->size))
        return MEMOP_FAULT;
    if (!ld(m, lin, m->size, &v))
        return MEMOP_FAULT;
    v = alu(op, m->size, v, off, &m->r->eflags);
    if (op != A_BT && !st(m, lin, m->size, v))
        return MEMOP_FAULT;
    return MEMOP_DONE;
}

static enum memop_result op_xchg(struct mo *m)
{
    uint32_t v;

    if (!probe_w(m, m->lin, m->size) || !ld(m, m->lin, m->size, &v) ||
        !st(m, m->lin, m->size, reg_get(m->r, m->in->reg, m->size)))
        return MEMOP_FAULT;
    reg_set(m->r, m->in->reg, m->size, v);
    return MEMOP_DONE;
}

/* ROL ROR RCL RCR SHL SHR SAL SAR m, 1/CL/imm8. */
static enum memop_result op_shift(struct mo *m)
{
    uint8_t op = m->in->opcode, cnt = op <= 0xc1 ? (uint8_t)m->in->imm : op <= 0xd1 ? 1 : (uint8_t)m->r->gpr[ECX];
    uint32_t v;

    if (!probe_w(m, m->lin, m->size) || !ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    v = shift(m->in->reg, m->size, v, cnt, &m->r->eflags);
    return st(m, m->lin, m->size, v) ? MEMOP_DONE : MEMOP_FAULT;
}

/* ---- the stack (SDM vol. 2B "PUSH", "POP"): ESP moves only once every
 * access has succeeded, so a fault leaves it unchanged, and the addresses
 * wrap at 4 GiB as SS:ESP does; on a 16-bit stack (SS.B = 0) SP wraps at
 * 64 KiB and the upper half of ESP is kept (vol. 1 §6.2.3). */

static uint32_t sp_mask(const struct memop_regs *r) { return r->stack16 ? 0xffffu : 0xffffffffu; }
static uint32_t sp_get(const struct memop_regs *r) { return r->gpr[ESP] & sp_mask(r); }
static void sp_set(struct memop_regs *r, uint32_t sp)
{
    r->gpr[ESP] = (r->gpr[ESP] & ~sp_mask(r)) | (sp & sp_mask(r));
}
static uint32_t ss_lin(const struct memop_regs *r, uint32_t sp)
{
    return r->seg_base[SEG_SS] + (sp & sp_mask(r));
}

static enum memop_result push(struct mo *m, uint32_t v, unsigned n)
{
    struct memop_regs *r = m->r;
    uint32_t esp = sp_get(r) - n;

    if (!st(m, ss_lin(r, esp), n, v))
        return MEMOP_FAULT;
    sp_set(r, esp);
    return MEMOP_DONE;
}

/* PUSH r/imm/m: the value (PUSH ESP: the old ESP; PUSH m: an address
 * computed with the old ESP) is read before ESP moves. */
static enum memop_result op_push(struct mo *m)
{
    const struct insn *in = m->in;
    unsigned n = in->opsize;
    uint32_t v;

    if (in->opcode >= 0x50 && in->opcode <= 0x57)
        v = reg_get(m->r, in->opcode - 0x50, n);
    else if (in->opcode == 0x68 || in->opcode == 0x6a)
        v = (uint32_t)in->imm & mask_of(n);
    else if (in->mod == 3)
        v = reg_get(m->r, in->rm, n);
    else if (!ld(m, m->lin, n, &v))
        return MEMOP_FAULT;
    return push(m, v, n);
}

/* POP r/m: a memory destination based on ESP is addressed with ESP
 * already incremented; POP ESP leaves the popped value in ESP. */
static enum memop_result op_pop(struct mo *m)
{
    const struct insn *in = m->in;
    struct memop_regs *r = m->r;
    unsigned n = in->opsize;
    uint32_t v, esp = r->gpr[ESP];

    if (!ld(m, ss_lin(r, esp), n, &v))
        return MEMOP_FAULT;
    if (in->opcode != 0x8f || in->mod == 3) {
        sp_set(r, esp + n);
        reg_set(r, in->opcode != 0x8f ? in->opcode - 0x58u : in->rm, n, v);
        return MEMOP_DONE;
    }
    sp_set(r, esp + n);
    uint32_t lin = modrm_lin(in, r);
    if (!st(m, lin, n, v)) {
        r->gpr[ESP] = esp;
        return MEMOP_FAULT;
    }
    return MEMOP_DONE;
}

/* PUSHA/POPA (SDM vol. 2B): eight registers, every access checked before
 * anything changes; POPA skips the ESP slot. One access when the frame
 * does not wrap around a 16-bit stack, else one per register. */
static enum memop_result op_pusha(struct mo *m, bool pop)
{
    struct memop_regs *r = m->r;
    unsigned n = m->in->opsize;
    uint8_t buf[32];
    uint32_t sp = sp_get(r), lo = pop ? sp : sp - 8 * n;
    bool wraps = r->stack16 && (lo & 0xffff) + 8 * n > 0x10000;

    if (!pop) {
        for (int i = 0; i < 8; i++)     /* EDI at the lowest address, EAX at the highest */
            memcpy(buf + (7 - i) * n, &r->gpr[i], n);
        if (wraps) {
            for (unsigned i = 0; i < 8; i++)
                if (!m->bus->check(m->bus->opaque, ss_lin(r, lo + i * n), n, true))
                    return MEMOP_FAULT;
            for (unsigned i = 0; i < 8; i++)
                if (!m->bus->write(m->bus->opaque, ss_lin(r, lo + i * n), buf + i * n, n))
                    return MEMOP_FAULT;
        } else if (!m->bus->write(m->bus->opaque, ss_lin(r, lo), buf, 8 * n)) {
            return MEMOP_FAULT;
        }
        sp_set(r, lo);
        return MEMOP_DONE;
    }
    if (wraps) {
        for (unsigned i = 0; i < 8; i++)
            if (!m->bus->read(m->bus->opaque, ss_lin(r, lo + i * n), buf + i * n, n))
                return MEMOP_FAULT;
    } else if (!m->bus->read(m->bus->opaque, ss_lin(r, lo), buf, 8 * n)) {
        return MEMOP_FAULT;
    }
    for (int i = 0; i < 8; i++) {
        uint32_t v = 0;
        memcpy(&v, buf + (7 - i) * n, n);
        if (i != ESP)
            reg_set(r, (unsigned)i, n, v);
    }
    sp_set(r, sp + 8 * n);
    return MEMOP_DONE;
}

/* LEAVE: ESP = EBP (SP = BP on a 16-bit stack), then POP EBP. */
static enum memop_result op_leave(struct mo *m)
{
    struct memop_regs *r = m->r;
    unsigned n = m->in->opsize;
    uint32_t v;

    if (!ld(m, ss_lin(r, r->gpr[EBP]), n, &v))
        return MEMOP_FAULT;
    sp_set(r, r->gpr[EBP] + n);
    reg_set(r, EBP, n, v);
    return MEMOP_DONE;
}

/* MUL/IMUL m (F6/F7 /4 /5), IMUL r, m (0F AF), IMUL r, m, imm (69, 6B). */
static enum memop_result op_mul(struct mo *m)
{
    const struct insn *in = m->in;
    struct memop_regs *r = m->r;
    uint32_t v;

    if (!ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    if (in->opcode == 0xf6 || in->opcode == 0xf7) {
        mul1(in->reg == 5, m->size, v, &r->gpr[EAX], &r->gpr[EDX], &r->eflags);
        return MEMOP_DONE;
    }
    uint32_t other = in->opcode == 0xaf ? reg_get(r, in->reg, m->size) : (uint32_t)in->imm;
    reg_set(r, in->reg, m->size, imul2(m->size, v, other, &r->eflags));
    return MEMOP_DONE;
}

/* CMPXCHG (SDM: the destination is written back even when unequal). */
static enum memop_result op_cmpxchg(struct mo *m)
{
    struct memop_regs *r = m->r;
    uint32_t v, acc = reg_get(r, EAX, m->size);

    if (!probe_w(m, m->lin, m->size) || !ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    alu(A_CMP, m->size, acc, v, &r->eflags);
    if (r->eflags & FL_ZF)
        return st(m, m->lin, m->size, reg_get(r, m->in->reg, m->size)) ? MEMOP_DONE : MEMOP_FAULT;
    if (!st(m, m->lin, m->size, v))
        return MEMOP_FAULT;
    reg_set(r, EAX, m->size, v);
    return MEMOP_DONE;
}

static enum memop_result op_xadd(struct mo *m)
{
    struct memop_regs *r = m->r;
    uint32_t v, sum;

    if (!probe_w(m, m->lin, m->size) || !ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    sum = alu(A_ADD, m->size, v, reg_get(r, m->in->reg, m->size), &r->eflags);
    if (!st(m, m->lin, m->size, sum))
        return MEMOP_FAULT;
    reg_set(r, m->in->reg, m->size, v);
    return MEMOP_DONE;
}

static enum memop_result op_load(struct mo *m, unsigned dst_size, bool sign)
{
    uint32_t v;

    if (!ld(m, m->lin, m->size, &v))
        return MEMOP_FAULT;
    if (sign)
        v = m->size == 1 ? (uint32_t)(int32_t)(int8_t)v : (uint32_t)(int32_t)(int16_t)v;
    reg_set(m->r, m->in->reg, dst_size, v);
    return MEMOP_DONE;
}

/* MOVS CMPS STOS LODS SCAS, one element or REP (SDM "REP/REPE/REPNE"):
 * registers advance per completed element, so a fault mid-way restarts. */
static enum memop_result op_string(struct mo *m)
{
    const struct insn *in = m->in;
    struct memop_regs *r = m->r;
    uint8_t op = in->opcode & 0xfe;
    unsigned n = (in->opcode & 1) ? in->opsize : 1;
    uint32_t step = (r->eflags & FL_DF) ? (uint32_t)-(int32_t)n : n;
    int sseg = in->seg != SEG_NONE ? in->seg : SEG_DS;
    bool rep = in->rep != 0;
    /* With a 0x67 prefix SI, DI and CX count, wrapping at 64 KiB, and
     * the upper halves of ESI, EDI and ECX stay (SDM vol. 2B "MOVS"). */
    uint32_t am = addr16(in) ? 0xffff : 0xffffffff;
#define ADVANCE(reg) (r->gpr[reg] = (r->gpr[reg] & ~am) | ((r->gpr[reg] + step) & am))

    for (unsigned done = 0; !rep || (r->gpr[ECX] & am) != 0; done++) {
        uint32_t src = r->seg_base[sseg] + (r->gpr[ESI] & am), dst = r->seg_base[SEG_ES] + (r->gpr[EDI] & am);
        uint32_t a, b;
        bool stop = false;

        if (rep && done > 0 && m->bus->yield && m->bus->yield(m->bus->opaque, done))
            return MEMOP_PARTIAL;

        switch (op) {
        case 0xa4:      /* MOVS */
            if (!m->bus->check(m->bus->opaque, src, n, false) || !probe_w(m, dst, n) ||
                !ld(m, src, n, &a) || !st(m, dst, n, a))
                return MEMOP_FAULT;
            ADVANCE(ESI);
            ADVANCE(EDI);
            break;
        case 0xaa:      /* STOS */
            if (!st(m, dst, n, reg_get(r, EAX, n)))
                return MEMOP_FAULT;
            ADVANCE(EDI);
            break;
        case 0xac:      /* LODS */
            if (!ld(m, src, n, &a))
                return MEMOP_FAULT;
            reg_set(r, EAX, n, a);
            ADVANCE(ESI);
            break;
        case 0xa6:      /* CMPS: [ESI] - [EDI] */
            if (!m->bus->check(m->bus->opaque, dst, n, false) || !ld(m, src, n, &a) ||
                !ld(m, dst, n, &b))
                return MEMOP_FAULT;
            alu(A_CMP, n, a, b, &r->eflags);
            ADVANCE(ESI);
            ADVANCE(EDI);
            stop = true;
            break;
        default:        /* 0xae SCAS: eAX - [EDI] */
            if (!ld(m, dst, n, &b))
                return MEMOP_FAULT;
            alu(A_CMP, n, reg_get(r, EAX, n), b, &r->eflags);
            ADVANCE(EDI);
            stop = true;
            break;
        }
        if (!rep)
            break;
        r->gpr[ECX] = (r->gpr[ECX] & ~am) | ((r->gpr[ECX] - 1) & am);
        if (stop && ((in->rep == 0xf3) != ((r->eflags & FL_ZF) != 0)))
            break;      /* REPE ends on ZF=0, REPNE on ZF=1 */
    }
    return MEMOP_DONE;
#undef ADVANCE
}

/* XLAT: AL = [seg:(E)BX + AL], DS unless overridden. */
static enum memop_result op_xlat(struct mo *m)
{
    struct memop_regs *r = m->r;
    uint32_t off = r->gpr[EBX] + (r->gpr[EAX] & 0xff), v;

    if (addr16(m->in))
        off &= 0xffff;
    if (!ld(m, r->seg_base[m->in->seg != SEG_NONE ? m->in->seg : SEG_DS] + off, 1, &v))
        return MEMOP_FAULT;
    reg_set(r, EAX, 1, v);
    return MEMOP_DONE;
}

/* ---- dispatch ----------------------------------------------------------- */

static bool is_0f(const struct insn *in) { return in->opc_len == 2 && in->bytes[in->npfx] == 0x0f; }
static bool is_1b(const struct insn *in) { return in->opc_len == 1; }
static bool is_string(uint8_t op) { return op >= 0xa4 && op <= 0xaf && op != 0xa8 && op != 0xa9; }
static bool is_alu(uint8_t op) { return op < 0x40 && (op & 7) <= 3; }
static bool is_push_pop(const struct insn *in)
{
    uint8_t op = in->opcode;
    return (op >= 0x50 && op <= 0x5f) || op == 0x68 || op == 0x6a ||
           (op == 0xff && in->reg == 6) || (op == 0x8f && in->reg == 0);   /* mod=3 too: FF F4 */
}
static bool is_shift(const struct insn *in)
{
    return (in->opcode == 0xc0 || in->opcode == 0xc1 || (in->opcode >= 0xd0 && in->opcode <= 0xd3)) &&
           in->modrm_off >= 0 && in->mod != 3;
}

/* 1: a form this file performs; 0: not one. */
static int classify(const struct insn *in)
{
    uint8_t op = in->opcode;

    if (is_1b(in)) {
        if (is_string(op) || op == 0xd7)
            return 1;
        if (op >= 0xa0 && op <= 0xa3)
            return 1;
        if (is_push_pop(in) || is_shift(in) || op == 0x60 || op == 0x61 || op == 0xc9)
            return 1;
        if (in->modrm_off < 0 || in->mod == 3)
            return 0;
        if (is_alu(op) || (op >= 0x80 && op <= 0x8b) || ((op == 0xc6 || op == 0xc7) && in->reg == 0))
            return 1;
        if ((op == 0xf6 || op == 0xf7) && in->reg <= 5)     /* /1: the TEST alias */
            return 1;
        if (op == 0x69 || op == 0x6b)
            return 1;
        if ((op == 0xfe || op == 0xff) && in->reg <= 1)
            return 1;
        return 0;
    }
    if (!is_0f(in) || in->modrm_off < 0 || in->mod == 3)
        return 0;
    if ((op >= 0x90 && op <= 0x9f) || op == 0xa3 || op == 0xab || op == 0xb3 || op == 0xbb ||
        op == 0xb0 || op == 0xb1 || op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf ||
        op == 0xc0 || op == 0xc1 || op == 0xaf)
        return 1;
    if (op == 0xba && in->reg >= 4)
        return 1;
    return 0;
}

bool memop_supported(const struct insn *in)
{
    return classify(in) && !(is_1b(in) && is_string(in->opcode));
}

bool memop_performs(const struct insn *in)
{
    return classify(in);
}

enum memop_result memop_exec(const struct insn *in, struct memop_regs *r, const struct memop_bus *bus)
{
    struct mo m = { .in = in, .r = r, .bus = bus };
    uint8_t op = in->opcode;
    bool w = op & 1;

    if (!classify(in))
        return MEMOP_UNSUPPORTED;
    if (is_1b(in) && is_string(op))
        return op_string(&m);
    if (is_1b(in) && op == 0xd7)
        return op_xlat(&m);
    m.size = w ? in->opsize : 1;
    if (is_1b(in) && op >= 0xa0 && op <= 0xa3) {
        uint32_t v;
        m.lin = r->seg_base[in->seg != SEG_NONE ? in->seg : SEG_DS] +
                ((uint32_t)in->disp & (addr16(in) ? 0xffff : 0xffffffff));
        if (op >= 0xa2)
            return st(&m, m.lin, m.size, reg_get(r, EAX, m.size)) ? MEMOP_DONE : MEMOP_FAULT;
        if (!ld(&m, m.lin, m.size, &v))
            return MEMOP_FAULT;
        reg_set(r, EAX, m.size, v);
        return MEMOP_DONE;
    }
    if (is_1b(in) && (op == 0x60 || op == 0x61))
        return op_pusha(&m, op == 0x61);
    if (is_1b(in) && op == 0xc9)
        return op_leave(&m);
    if (is_1b(in) && is_push_pop(in)) {
        if (op == 0xff && in->mod != 3)
            m.lin = modrm_lin(in, r);
        return (op >= 0x58 && op <= 0x5f) || op == 0x8f ? op_pop(&m) : op_push(&m);
    }
    m.lin = modrm_lin(in, r);

    if (is_1b(in)) {
        if (is_shift(in))
            return op_shift(&m);
        if (is_alu(op))
            return op_alu(&m, op >> 3, (op & 2) != 0, false, 0);
        switch (op) {
        case 0x80: case 0x81: case 0x82: case 0x83:
            m.size = op == 0x81 || op == 0x83 ? in->opsize : 1;
            return op_alu(&m, in->reg, false, true, (uint32_t)in->imm);
        case 0x84: case 0x85:
            return op_alu(&m, A_TEST, false, false, 0);
        case 0x86: case 0x87:
            return op_xchg(&m);
        case 0x88: case 0x89:
            return st(&m, m.lin, m.size, reg_get(r, in->reg, m.size)) ? MEMOP_DONE : MEMOP_FAULT;
        case 0x8a: case 0x8b:
            return op_load(&m, m.size, false);
        case 0xc6: case 0xc7:
            return st(&m, m.lin, m.size, (uint32_t)in->imm & mask_of(m.size)) ? MEMOP_DONE : MEMOP_FAULT;
        case 0x69: case 0x6b:
            m.size = in->opsize;
            return op_mul(&m);
        case 0xf6: case 0xf7:
            if (in->reg <= 1)
                return op_alu(&m, A_TEST, false, true, (uint32_t)in->imm);
            if (in->reg >= 4)
                return op_mul(&m);
            return op_unary(&m, in->reg == 2 ? A_NOT : A_NEG);
        default:    /* FE, FF /0 /1 */
            return op_unary(&m, in->reg == 0 ? A_INC : A_DEC);
        }
    }
    m.size = in->opsize;
    switch (op) {
    case 0xa3: return op_bit(&m, A_BT, false);
    case 0xab: return op_bit(&m, A_BTS, false);
    case 0xb3: return op_bit(&m, A_BTR, false);
    case 0xbb: return op_bit(&m, A_BTC, false);
    case 0xba: return op_bit(&m, A_BT + (in->reg - 4), true);
    case 0xaf: return op_mul(&m);
    case 0xb0: case 0xb1:
        m.size = w ? in->opsize : 1;
        return op_cmpxchg(&m);
    case 0xc0: case 0xc1:
        m.size = w ? in->opsize : 1;
        return op_xadd(&m);
    case 0xb6: case 0xbe:
        m.size = 1;
        return op_load(&m, in->opsize, op == 0xbe);
    case 0xb7: case 0xbf:
        m.size = 2;
        return op_load(&m, in->opsize, op == 0xbf);
    default:        /* 0F 90-9F SETcc m8 */
        m.size = 1;
        return st(&m, m.lin, 1, cond(op & 15, r->eflags)) ? MEMOP_DONE : MEMOP_FAULT;
    }
}

unsigned memop_store_size(const struct insn *in)
{
    uint8_t op = in->opcode;
    unsigned size = (op & 1) ? in->opsize : 1;

    if (classify(in)) {
        if (is_1b(in)) {
            if (is_string(op))
                return (op & 0xfe) == 0xa4 || (op & 0xfe) == 0xaa ? size : 0;
            if (op == 0xd7 || op == 0x61 || op == 0xc9 || op == 0x69 || op == 0x6b ||
                ((op == 0xf6 || op == 0xf7) && in->reg >= 4))
                return 0;
            if (op == 0x60)
                return 8 * in->opsize;
            if (is_push_pop(in))
                return in->opsize;
            if (op == 0x81 || op == 0x83)
                return in->opsize;
            return size;
        }
        if (op >= 0x90 && op <= 0x9f)
            return 1;
        if (op == 0xb0 || op == 0xb1 || op == 0xc0 || op == 0xc1)
            return size;
        return in->opsize;
    }
    if (is_0f(in) && op == 0xae && in->reg == 0)
        return 512;                                     /* FXSAVE */
    if (is_0f(in) && op == 0xc7)
        return 8;                                       /* CMPXCHG8B */
    if (in->flags & INSN_F_SSE)
        return 16;
    if (in->flags & INSN_F_FPU)
        return in->opcode == 0xdd && in->reg == 6 ? 108 : in->opcode == 0xd9 && in->reg == 6 ? 28 : 10;
    return in->opsize;
}
