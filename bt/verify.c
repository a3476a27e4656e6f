/* bt/verify.c — the isolation verifier.
 *
 * A translated block runs natively with the monitor in the same address
 * space, so nothing but this check stands between a translator bug and a
 * guest that reads or writes the monitor's memory. The verifier disassembles
 * the block (Capstone, 64-bit mode) and rejects anything outside these rules:
 *
 *  1. Explicit memory operands. Each must be one of
 *     (a) r14 + [lo, hi] with the whole access inside the guest window and
 *         the guards the monitor keeps below and above it (BT_GUARD_BELOW,
 *         BT_GUARD_ABOVE in bt/abi.h): [base + r14 + disp] with base a
 *         zero-extended 32-bit register, [r14 + disp], or [reg] where reg
 *         was computed by `lea reg,[r14 + ...]` (see "values");
 *     (b) [r15 + disp], no index, the access inside [-4096, 8192): the
 *         struct bt_cpu and the poll page just below it;
 *     (c) the jump cache: [r13 + ...], or [reg + disp] where reg was computed
 *         by `lea reg,[r13 + ...]` (the inline lookup loads [r10], [r10+8]),
 *         with the whole access provably inside the table (see "values");
 *     (d) a string instruction's [rsi]/[rdi] holding r14 + a value below
 *         2^32, i.e. after `lea rsi,[r14 + rsi]` rebased the zero-extended
 *         guest ESI into the guest window (DESIGN §2, strings (b)); the
 *         string instruction moves the pointer, so the next one needs
 *         `mov esi,esi` and a fresh lea (the guards cover one operation).
 *     LEA and multi-byte NOP do not access memory and may use any form,
 *     RIP-relative included (LEA computes resume addresses). Every other
 *     RIP-relative operand is rejected: it is what a copied mod=00 rm=101
 *     operand that nobody re-encoded looks like. Also rejected: fs: and gs:
 *     (the host's segment bases), 0x67 on a memory operand (a 32-bit
 *     address is not r14-relative).
 *  2. Implicit memory. Anything that uses the host stack (PUSH POP CALL RET
 *     PUSHF POPF ENTER LEAVE, and any instruction Capstone says reads or
 *     writes RSP implicitly); XLAT; MASKMOV* (a store to [rdi]) unless RDI
 *     is rebased as in 1d. The exception: pushfq/popfq while RSP = r15 +
 *     offset, the vCPU's RFLAGS slot used by the inline PUSHF/POPF
 *     translations.
 *  3. System instructions: INT/INT3/INTO/SYSCALL/SYSENTER, IRET, far
 *     transfers, IN/OUT/INS/OUTS, HLT CLI STI, MOV to or from a segment,
 *     control or debug register, LxS, WRGSBASE/WRFSBASE (and the reads),
 *     SWAPGS, LGDT.. and SGDT.., CPUID RDTSC RDMSR..., everything Capstone
 *     files under "privilege", "int", "iret" or "vm". The exception: an
 *     RDTSC followed by exactly the inline translation's offset add
 *     (bt/xlate_rdtsc.c), so the guest sees host TSC + the vCPU's offset.
 *  4. Control flow. Direct branches whose target lies inside the block must
 *     land on an instruction boundary. Indirect jumps only through a
 *     translator scratch register (r8-r12) or a memory operand of form 1b/1c:
 *     never through a guest register or guest memory (a copied `jmp eax` or
 *     `jmp [eax]` would hand the guest the host's program counter).
 *  5. R13, R14, R15 are never written.
 *  6. Every exit from the block (a branch out, an indirect jump, falling off
 *     the end) leaves guest RAX..RDI with the upper 32 bits zero: the next
 *     block relies on it (bt/abi.h) when it rebases RSI/RDI or computes with
 *     64-bit registers. This catches a missing `mov esi,esi` after a string.
 *  7. Bytes Capstone cannot decode are rejected — except the hint NOPs that
 *     Capstone 4.0.2 cannot decode (0F 0D /0, register forms of 0F 18-1F),
 *     which are recognised exactly and touch neither memory nor registers.
 *
 * Values. To decide 1c, 1d and 6 the verifier tracks, per general-purpose
 * register, an abstract value: a number in [0, hi], or r13 / r14 / r15 plus
 * an offset in [lo, hi]. The block entry state is the ABI's (guest registers
 * below 2^32, scratch registers unknown). A fixpoint over the block's
 * control-flow graph (direct branches inside the block, back edges
 * included) gives the state before every instruction; code that nothing in
 * the block reaches (a callout's resume point) starts from the entry state.
 * A few instructions are understood precisely (mov, movzx, and/shl/shr by an
 * immediate, lea, jrcxz's taken edge, string instructions); any other write
 * forgets what was known: 64-bit writes make the register unknown, 32-bit
 * writes leave a number below 2^32. So the inline lookup's
 *     movzx r10d,r11w; lea r10,[r10+r10]; lea r10,[r13+r10*8]
 * gives r10 = r13 + [0, 0xffff0], and [r10+8] is checked against the size of
 * the table — a hash that could index past the table is rejected.
 *
 * Performance: this runs in tests and under --verify (debug builds), never on
 * the fast path, so clarity wins over speed. It decodes the whole block once
 * (Capstone with detail on; one handle per thread, kept), then sweeps the
 * dataflow over all instructions until nothing changes — two or three sweeps
 * for straight-line blocks. Measured on blocks of i386 libc translated by
 * bt_translate (5 guest instructions, 88 host bytes on average) on the
 * shared development VM: 25-45 us per block, a third of it in Capstone, so
 * --verify adds seconds, not minutes, to a boot that translates ~100k blocks. */
#include "bt/verify.h"

#include <capstone/capstone.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/abi.h"

/* Host memory reachable outside the guest window, relative to the
 * register that holds its base. The vCPU bound is the monitor's struct vcpu (struct bt_cpu is
 * its first member), generously; the poll page is the 4 KiB below it. */
#define CPU_LO    (-4096)
#define CPU_HI    8192
#define JC_BYTES  ((int64_t)BT_JCACHE_SIZE * (int64_t)sizeof(struct bt_jcache_entry))
#define GUEST32   0xffffffffll
#define VAL_LIMIT (1ll << 40)   /* bounds beyond this mean "unknown" */
#define WIDEN_AFTER 16          /* fixpoint passes before changing values go unknown */

/* ---- abstract values ---------------------------------------------------- */

enum vkind {
    V_NUM,  /* a number in [0, hi]; hi == INT64_MAX: unknown */
    V_JC,   /* r13 + [lo, hi]: inside or near the jump cache */
    V_MEM,  /* r14 + [lo, hi]: inside or near the guest window */
    V_CPU,  /* r15 + [lo, hi]: the vCPU */
};

struct val {
    uint8_t kind;
    int64_t lo, hi;
};

struct state {
    bool reached;
    struct val r[16];   /* by x86 register number: rax=0 ... r15=15 */
};

static struct val top(void) { return (struct val){ V_NUM, 0, INT64_MAX }; }
static bool is_top(struct val v) { return v.kind == V_NUM && v.hi > VAL_LIMIT; }

static struct val num(uint64_t max)
{
    return max > (uint64_t)VAL_LIMIT ? top() : (struct val){ V_NUM, 0, (int64_t)max };
}

static struct val ptr(enum vkind k, int64_t lo, int64_t hi)
{
    if (lo < -VAL_LIMIT || hi > VAL_LIMIT)
        return top();
    return (struct val){ k, lo, hi };
}

static struct val v_add(struct val a, struct val b)
{
    if (a.kind != V_NUM)        /* make a the number */
        { struct val t = a; a = b; b = t; }
    if (a.kind != V_NUM || is_top(a))
        return top();
    if (b.kind == V_NUM)
        return is_top(b) ? top() : num((uint64_t)(a.hi + b.hi));
    return ptr(b.kind, b.lo, b.hi + a.hi);
}

static struct val v_scale(struct val a, int scale)
{
    if (scale <= 1)
        return a;
    if (a.kind != V_NUM || is_top(a))
        return top();
    return num((uint64_t)a.hi * (uint64_t)scale);
}

static struct val v_disp(struct val a, int64_t d)
{
    if (a.kind != V_NUM)
        return ptr(a.kind, a.lo + d, a.hi + d);
    if (is_top(a) || d < 0)     /* a number minus something may wrap */
        return top();
    return num((uint64_t)(a.hi + d));
}

static struct val v_join(struct val a, struct val b)
{
    if (a.kind != b.kind)
        return top();
    return (struct val){ a.kind, a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi };
}

static bool v_eq(struct val a, struct val b)
{
    return a.kind == b.kind && a.lo == b.lo && a.hi == b.hi;
}

/* The state every block starts in (bt/abi.h). */
static void entry_state(struct state *s)
{
    s->reached = true;
    for (int i = 0; i < 8; i++)
        s->r[i] = num(GUEST32);
    for (int i = 8; i < 13; i++)
        s->r[i] = top();
    s->r[13] = (struct val){ V_JC, 0, 0 };
    s->r[14] = (struct val){ V_MEM, 0, 0 };
    s->r[15] = (struct val){ V_CPU, 0, 0 };
}

/* ---- registers ---------------------------------------------------------- */

static const x86_reg gpr_names[16][4] = {  /* 64, 32, 16, 8-bit names */
    { X86_REG_RAX, X86_REG_EAX,  X86_REG_AX,   X86_REG_AL },
    { X86_REG_RCX, X86_REG_ECX,  X86_REG_CX,   X86_REG_CL },
    { X86_REG_RDX, X86_REG_EDX,  X86_REG_DX,   X86_REG_DL },
    { X86_REG_RBX, X86_REG_EBX,  X86_REG_BX,   X86_REG_BL },
    { X86_REG_RSP, X86_REG_ESP,  X86_REG_SP,   X86_REG_SPL },
    { X86_REG_RBP, X86_REG_EBP,  X86_REG_BP,   X86_REG_BPL },
    { X86_REG_RSI, X86_REG_ESI,  X86_REG_SI,   X86_REG_SIL },
    { X86_REG_RDI, X86_REG_EDI,  X86_REG_DI,   X86_REG_DIL },
    { X86_REG_R8,  X86_REG_R8D,  X86_REG_R8W,  X86_REG_R8B },
    { X86_REG_R9,  X86_REG_R9D,  X86_REG_R9W,  X86_REG_R9B },
    { X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
    { X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
    { X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
    { X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
    { X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
    { X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
};
static const int gpr_bits[4] = { 64, 32, 16, 8 };

/* The register number of a general-purpose register and the width written
 * through that name (AH..BH count as 16 for the bits they may change), or
 * -1 for any other register. */
static int gpr_of(x86_reg r, int *bits)
{
    switch (r) {
    case X86_REG_AH: *bits = 16; return 0;
    case X86_REG_CH: *bits = 16; return 1;
    case X86_REG_DH: *bits = 16; return 2;
    case X86_REG_BH: *bits = 16; return 3;
    default: break;
    }
    for (int g = 0; g < 16; g++)
        for (int w = 0; w < 4; w++)
            if (gpr_names[g][w] == r) {
                *bits = gpr_bits[w];
                return g;
            }
    return -1;
}

static uint64_t width_max(int bits)
{
    return bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
}

/* The value read through register name r. */
static struct val reg_get(const struct state *s, x86_reg r)
{
    int bits, g = gpr_of(r, &bits);
    if (g < 0)
        return top();
    if (bits == 64)
        return s->r[g];
    if (r == X86_REG_AH || r == X86_REG_CH || r == X86_REG_DH || r == X86_REG_BH)
        return num(0xff);
    struct val v = s->r[g];
    uint64_t m = width_max(bits);
    return v.kind == V_NUM && (uint64_t)v.hi < m ? v : num(m);
}

/* Write v (the result, at the register's width) through register name r:
 * 32-bit writes zero-extend, 8- and 16-bit writes keep the upper bits. */
static void reg_set(struct state *s, x86_reg r, struct val v)
{
    int bits, g = gpr_of(r, &bits);
    if (g < 0)
        return;
    if (bits == 64) {
        s->r[g] = v;
    } else if (bits == 32) {
        s->r[g] = v.kind == V_NUM && v.hi < GUEST32 ? v : num(GUEST32);
    } else {
        struct val old = s->r[g];
        s->r[g] = old.kind == V_NUM && !is_top(old)
                ? num((uint64_t)old.hi | width_max(bits)) : top();
    }
}

static bool is_index_none(x86_reg r)
{
    return r == X86_REG_INVALID || r == X86_REG_EIZ || r == X86_REG_RIZ;
}

/* The value of a memory operand's address (what LEA would compute). */
static struct val addr_of(const struct state *s, const x86_op_mem *m, bool a32)
{
    struct val v = num(0);
    if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
        return top();
    if (m->base != X86_REG_INVALID)
        v = reg_get(s, m->base);
    if (!is_index_none(m->index))
        v = v_add(v, v_scale(reg_get(s, m->index), m->scale));
    v = v_disp(v, m->disp);
    if (a32)
        v = v.kind == V_NUM && v.hi <= GUEST32 ? v : num(GUEST32);
    return v;
}

/* ---- the decoded block -------------------------------------------------- */

struct vinsn {
    cs_insn *ci;
    uint32_t off;
    uint8_t  nseg;     /* segment-override prefix bytes */
    uint8_t  seg;      /* the last one (0x26 0x2e 0x36 0x3e 0x64 0x65), or 0 */
    bool     a32;      /* 0x67: 32-bit addressing */
    bool     string;   /* MOVS CMPS STOS LODS SCAS (A4-A7, AA-AF) */
    bool     direct;   /* direct branch (jmp/jcc/jrcxz/loop rel) */
    bool     falls;    /* control can reach the next instruction */
    bool     leaves;   /* a direct branch out of the block, or an indirect jump */
    int      target;   /* in-block index of a direct target, -1 if none */
    bool     mid;      /* direct target inside the block but not on a boundary */
    bool     synthetic;/* a hint NOP Capstone cannot decode (see hint_nop_len) */
    uint8_t  nwr;      /* registers written, explicitly or implicitly */
    cs_regs  wr;
};

struct block {
    csh h;
    size_t len;           /* bytes decoded */
    bool truncated;       /* Capstone stopped before the end */
    uint64_t addr;
    struct vinsn *in;
    size_t n;
    struct state *st;     /* state before each instruction */
};

static bool has_group(const cs_insn *ci, uint8_t grp)
{
    for (int i = 0; i < ci->detail->groups_count; i++)
        if (ci->detail->groups[i] == grp)
            return true;
    return false;
}

static void scan_prefixes(struct vinsn *v)
{
    const uint8_t *b = v->ci->bytes;
    for (int i = 0; i < v->ci->size; i++) {
        switch (b[i]) {
        case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
            v->nseg++;
            v->seg = b[i];
            continue;
        case 0x67:
            v->a32 = true;
            continue;
        case 0x66: case 0xf0: case 0xf2: case 0xf3:
            continue;
        default:
            break;
        }
        break;
    }
}

static int index_at(const struct block *b, uint64_t off)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->in[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n && b->in[lo].off == off ? (int)lo : -1;
}

static void classify(struct block *b, size_t i)
{
    struct vinsn *v = &b->in[i];
    const cs_insn *ci = v->ci;
    const cs_x86 *x = &ci->detail->x86;
    unsigned id = ci->id;

    scan_prefixes(v);
    v->target = -1;
    if (!v->synthetic) {
        cs_regs rd;
        uint8_t nrd = 0;
        if (cs_regs_access(b->h, ci, rd, &nrd, v->wr, &v->nwr) != CS_ERR_OK)
            v->nwr = 0;
    }
    v->string = x->opcode[1] == 0 && x->opcode[0] >= 0xa4 && x->opcode[0] <= 0xaf &&
                x->opcode[0] != 0xa8 && x->opcode[0] != 0xa9;
    v->falls = !(id == X86_INS_JMP || id == X86_INS_LJMP || has_group(ci, X86_GRP_RET) ||
                 has_group(ci, X86_GRP_IRET));

    if (has_group(ci, X86_GRP_BRANCH_RELATIVE) && !has_group(ci, X86_GRP_CALL) &&
        x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
        uint64_t t = (uint64_t)x->operands[0].imm;
        v->direct = true;
        if (t >= b->addr && t < b->addr + b->len) {
            v->target = index_at(b, t - b->addr);
            v->mid = v->target < 0;
        } else {
            v->leaves = true;
        }
    } else if (id == X86_INS_JMP) {
        v->leaves = true;   /* indirect */
    }
}

/* ---- dataflow ----------------------------------------------------------- */

static bool is_string_reg(x86_reg r) { return r == X86_REG_RSI || r == X86_REG_RDI; }

/* The state after instruction i on its fall-through edge (*out) and on its
 * taken edge (*taken; the same except for jrcxz/jecxz). */
static void transfer(const struct block *b, size_t i, const struct state *in,
                     struct state *out, struct state *taken)
{
    const struct vinsn *v = &b->in[i];
    const cs_insn *ci = v->ci;
    const cs_x86 *x = &ci->detail->x86;
    const cs_x86_op *op = x->operands;

    *out = *in;

    /* Every register written forgets what was known... */
    for (int k = 0; k < v->nwr; k++)
        reg_set(out, v->wr[k], top());

    /* ...except where the result is understood. */
    bool dst = x->op_count >= 1 && op[0].type == X86_OP_REG;
    struct val nv;
    int bits = 0;
    if (dst)
        gpr_of(op[0].reg, &bits);
    switch (ci->id) {
    case X86_INS_MOV:
        if (dst && x->op_count == 2 && op[1].type == X86_OP_IMM)
            reg_set(out, op[0].reg, num((uint64_t)op[1].imm & width_max(bits)));
        else if (dst && x->op_count == 2 && op[1].type == X86_OP_REG)
            reg_set(out, op[0].reg, reg_get(in, op[1].reg));
        break;
    case X86_INS_MOVZX:
        if (dst && x->op_count == 2)
            reg_set(out, op[0].reg, op[1].type == X86_OP_REG ? reg_get(in, op[1].reg)
                                                              : num(width_max(op[1].size * 8)));
        break;
    case X86_INS_AND:
        if (dst && x->op_count == 2 && op[1].type == X86_OP_IMM) {
            /* x & m <= min(x, m) */
            uint64_t m = (uint64_t)op[1].imm & width_max(bits);
            struct val old = reg_get(in, op[0].reg);
            reg_set(out, op[0].reg, num(old.kind == V_NUM && (uint64_t)old.hi < m ? (uint64_t)old.hi : m));
        }
        break;
    case X86_INS_SHL:
    case X86_INS_SHR:
        if (dst && x->op_count == 2 && op[1].type == X86_OP_IMM) {
            struct val old = reg_get(in, op[0].reg);
            unsigned c = (unsigned)op[1].imm & (bits == 64 ? 63 : 31);
            uint64_t hi = old.kind == V_NUM && !is_top(old) ? (uint64_t)old.hi : width_max(bits);
            if (ci->id == X86_INS_SHR)
                nv = num(hi >> c);
            else
                nv = c < 40 && hi <= (width_max(bits) >> c) ? num(hi << c) : num(width_max(bits));
            reg_set(out, op[0].reg, nv);
        }
        break;
    case X86_INS_LEA:
        if (dst && x->op_count == 2 && op[1].type == X86_OP_MEM)
            reg_set(out, op[0].reg, addr_of(in, &op[1].mem, v->a32));
        break;
    case X86_INS_LOOP:
    case X86_INS_LOOPE:
    case X86_INS_LOOPNE:
        /* With 0x67 only ECX counts (Capstone says RCX either way); a
         * zero-extended RCX stays so, whether or not the write extends. */
        if (v->a32)
            out->r[1] = in->r[1].kind == V_NUM && in->r[1].hi <= GUEST32 ? num(GUEST32) : top();
        break;
    default:
        break;
    }

    /* A string instruction moves its pointers by at most count * size in
     * either direction (DF), and counts RCX down, never below zero. */
    if (v->string) {
        out->r[1] = in->r[1];
        struct val cnt = x->prefix[0] == X86_PREFIX_REP || x->prefix[0] == X86_PREFIX_REPNE
                       ? in->r[1] : num(1);
        for (int k = 0; k < x->op_count; k++) {
            if (op[k].type != X86_OP_MEM || !is_string_reg(op[k].mem.base))
                continue;
            int g = op[k].mem.base == X86_REG_RSI ? 6 : 7;
            struct val p = in->r[g];
            if (cnt.kind != V_NUM || is_top(cnt) || p.kind != V_MEM)
                out->r[g] = top();
            else
                out->r[g] = ptr(V_MEM, p.lo - cnt.hi * op[k].size, p.hi + cnt.hi * op[k].size);
        }
    }

    *taken = *out;
    if (ci->id == X86_INS_JRCXZ)
        taken->r[1] = num(0);
    else if (ci->id == X86_INS_JECXZ && out->r[1].kind == V_NUM && out->r[1].hi <= GUEST32)
        taken->r[1] = num(0);
}

/* Merge `s` into the state before instruction j; true if it changed. */
static bool merge(struct block *b, size_t j, const struct state *s, bool widen)
{
    struct state *d = &b->st[j];
    if (!d->reached) {
        *d = *s;
        return true;
    }
    bool changed = false;
    for (int g = 0; g < 16; g++) {
        struct val m = v_join(d->r[g], s->r[g]);
        if (!v_eq(m, d->r[g])) {
            d->r[g] = widen ? top() : m;
            changed = true;
        }
    }
    return changed;
}

static void fixpoint(struct block *b)
{
    struct state out, taken;
    for (;;) {
        bool changed = true;
        for (int pass = 0; changed; pass++) {
            changed = false;
            for (size_t i = 0; i < b->n; i++) {
                if (!b->st[i].reached)
                    continue;
                transfer(b, i, &b->st[i], &out, &taken);
                if (b->in[i].falls && i + 1 < b->n)
                    changed |= merge(b, i + 1, &out, pass >= WIDEN_AFTER);
                if (b->in[i].target >= 0)
                    changed |= merge(b, (size_t)b->in[i].target, &taken, pass >= WIDEN_AFTER);
            }
        }
        /* Code nothing here reaches is entered from outside: ABI state. */
        size_t i = 0;
        while (i < b->n && b->st[i].reached)
            i++;
        if (i == b->n)
            return;
        entry_state(&b->st[i]);
    }
}

/* ---- the rules ---------------------------------------------------------- */

struct rule {
    unsigned id;
    const char *why;
};

static const struct rule forbidden[] = {
    { X86_INS_PUSH, "uses the host stack" },    { X86_INS_POP, "uses the host stack" },
    { X86_INS_PUSHF, "uses the host stack" },   { X86_INS_PUSHFD, "uses the host stack" },
    { X86_INS_POPF, "uses the host stack" },    { X86_INS_POPFD, "uses the host stack" },
    { X86_INS_PUSHAL, "uses the host stack" },  { X86_INS_POPAL, "uses the host stack" },
    { X86_INS_ENTER, "uses the host stack" },   { X86_INS_LEAVE, "uses the host stack" },
    { X86_INS_CALL, "call pushes on the host stack" },
    { X86_INS_RET, "ret pops the host stack" },
    { X86_INS_LCALL, "far transfer" },          { X86_INS_LJMP, "far transfer" },
    { X86_INS_RETF, "far transfer" },           { X86_INS_RETFQ, "far transfer" },
    { X86_INS_IRET, "iret" },                   { X86_INS_IRETD, "iret" },
    { X86_INS_IRETQ, "iret" },
    { X86_INS_INT, "software interrupt" },      { X86_INS_INT1, "software interrupt" },
    { X86_INS_INT3, "software interrupt" },     { X86_INS_INTO, "software interrupt" },
    { X86_INS_SYSCALL, "system call" },         { X86_INS_SYSENTER, "system call" },
    { X86_INS_SYSEXIT, "system call" },         { X86_INS_SYSRET, "system call" },
    { X86_INS_IN, "port I/O" },                 { X86_INS_OUT, "port I/O" },
    { X86_INS_INSB, "port I/O" },               { X86_INS_INSW, "port I/O" },
    { X86_INS_INSD, "port I/O" },               { X86_INS_OUTSB, "port I/O" },
    { X86_INS_OUTSW, "port I/O" },              { X86_INS_OUTSD, "port I/O" },
    { X86_INS_HLT, "privileged instruction" },  { X86_INS_CLI, "privileged instruction" },
    { X86_INS_STI, "privileged instruction" },  { X86_INS_CLTS, "privileged instruction" },
    { X86_INS_LGDT, "privileged instruction" }, { X86_INS_LIDT, "privileged instruction" },
    { X86_INS_LLDT, "privileged instruction" }, { X86_INS_LTR, "privileged instruction" },
    { X86_INS_LMSW, "privileged instruction" }, { X86_INS_INVD, "privileged instruction" },
    { X86_INS_WBINVD, "privileged instruction" }, { X86_INS_INVLPG, "privileged instruction" },
    { X86_INS_INVLPGA, "privileged instruction" }, { X86_INS_INVPCID, "privileged instruction" },
    { X86_INS_RDMSR, "privileged instruction" }, { X86_INS_WRMSR, "privileged instruction" },
    { X86_INS_SWAPGS, "privileged instruction" }, { X86_INS_XSETBV, "privileged instruction" },
    { X86_INS_MONITOR, "privileged instruction" }, { X86_INS_MWAIT, "privileged instruction" },
    { X86_INS_RSM, "privileged instruction" },
    { X86_INS_SGDT, "sensitive: reveals host state" }, { X86_INS_SIDT, "sensitive: reveals host state" },
    { X86_INS_SLDT, "sensitive: reveals host state" }, { X86_INS_STR, "sensitive: reveals host state" },
    { X86_INS_SMSW, "sensitive: reveals host state" }, { X86_INS_LAR, "sensitive: reveals host state" },
    { X86_INS_LSL, "sensitive: reveals host state" },  { X86_INS_VERR, "sensitive: reveals host state" },
    { X86_INS_VERW, "sensitive: reveals host state" }, { X86_INS_CPUID, "sensitive: reveals host state" },
    { X86_INS_RDTSC, "sensitive: reveals host state" }, { X86_INS_RDTSCP, "sensitive: reveals host state" },
    { X86_INS_RDPMC, "sensitive: reveals host state" },
    { X86_INS_RDGSBASE, "reads the host GS/FS base" }, { X86_INS_RDFSBASE, "reads the host GS/FS base" },
    { X86_INS_WRGSBASE, "writes the GS/FS base" },     { X86_INS_WRFSBASE, "writes the GS/FS base" },
    { X86_INS_LDS, "loads a segment register" },  { X86_INS_LES, "loads a segment register" },
    { X86_INS_LSS, "loads a segment register" },  { X86_INS_LFS, "loads a segment register" },
    { X86_INS_LGS, "loads a segment register" },
};

static const char *forbidden_why(const cs_insn *ci)
{
    const cs_x86 *x = &ci->detail->x86;
    for (size_t k = 0; k < sizeof forbidden / sizeof forbidden[0]; k++)
        if (forbidden[k].id == ci->id)
            return forbidden[k].why;
    for (int k = 0; k < x->op_count; k++) {
        if (x->operands[k].type != X86_OP_REG)
            continue;
        x86_reg r = x->operands[k].reg;
        if (r == X86_REG_ES || r == X86_REG_CS || r == X86_REG_SS || r == X86_REG_DS ||
            r == X86_REG_FS || r == X86_REG_GS)
            return "moves a segment register";
        if ((r >= X86_REG_CR0 && r <= X86_REG_CR15) || (r >= X86_REG_DR0 && r <= X86_REG_DR15))
            return "moves a control or debug register";
    }
    if (has_group(ci, X86_GRP_CALL))
        return "call pushes on the host stack";
    if (has_group(ci, X86_GRP_RET))
        return "ret pops the host stack";
    if (has_group(ci, X86_GRP_INT))
        return "software interrupt or system call";
    if (has_group(ci, X86_GRP_IRET))
        return "iret";
    if (has_group(ci, X86_GRP_PRIVILEGE))
        return "privileged instruction";
    if (has_group(ci, X86_GRP_VM))
        return "virtualization instruction";
    return NULL;
}

/* Bytes an explicit memory operand may touch. Capstone gives the FXSAVE
 * area as 8 bytes; the XSAVE area is as large as the host says. */
static int64_t access_size(const cs_insn *ci, const cs_x86_op *op)
{
    switch (ci->id) {
    case X86_INS_FXSAVE: case X86_INS_FXSAVE64: case X86_INS_FXRSTOR: case X86_INS_FXRSTOR64:
        return 512;
    case X86_INS_XSAVE: case X86_INS_XSAVE64: case X86_INS_XRSTOR: case X86_INS_XRSTOR64:
    case X86_INS_XSAVEOPT: case X86_INS_XSAVEOPT64: case X86_INS_XSAVEC: case X86_INS_XSAVEC64:
    case X86_INS_XSAVES: case X86_INS_XSAVES64: case X86_INS_XRSTORS: case X86_INS_XRSTORS64:
        return VAL_LIMIT;
    default:
        return op->size ? op->size : 1;
    }
}

static const char *reg_name(const struct block *b, int g)
{
    return cs_reg_name(b->h, gpr_names[g][0]);
}

/* Why an explicit memory operand is not allowed, or NULL. `why` is scratch
 * space for a composed reason. */
static const char *check_mem(const struct block *b, size_t i, const cs_x86_op *op,
                             char *why, size_t whylen)
{
    const struct vinsn *v = &b->in[i];
    const x86_op_mem *m = &op->mem;

    if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
        return "RIP-relative access";
    /* A string instruction's [rdi] ignores segment prefixes; Capstone puts
     * the override on the operand it applies to. */
    if (m->segment == X86_REG_GS || m->segment == X86_REG_FS ||
        ((v->seg == 0x64 || v->seg == 0x65) && !v->string))
        return "fs:/gs: override (the host's segment bases are not the guest's)";
    if (v->a32)
        return "0x67 on a memory operand (the guest window is reached through r14)";

    struct val a = addr_of(&b->st[i], m, false);
    int64_t size = access_size(v->ci, op);
    int bits;
    switch (a.kind) {
    case V_CPU:
        if (!is_index_none(m->index))
            return "vCPU access with an index register";
        if (a.lo < CPU_LO || a.hi + size > CPU_HI)
            return "vCPU access outside [r15-0x1000, r15+0x2000)";
        return NULL;
    case V_JC:
        if (a.lo < 0 || a.hi + size > JC_BYTES) {
            snprintf(why, whylen, "jump-cache access not provably inside the table"
                     " (offset %lld..%lld of 0x%llx)", (long long)a.lo,
                     (long long)(a.hi + size), (long long)JC_BYTES);
            return why;
        }
        return NULL;
    case V_MEM:
        if (v->string && (a.lo < 0 || a.hi > GUEST32)) {
            snprintf(why, whylen, "%s not freshly rebased (lea %s,[r14+%s] before each string instruction)",
                     cs_reg_name(b->h, m->base), cs_reg_name(b->h, m->base), cs_reg_name(b->h, m->base));
            return why;
        }
        if (a.lo < -(int64_t)BT_GUARD_BELOW || a.hi + size > (int64_t)(BT_WINDOW + BT_GUARD_ABOVE)) {
            snprintf(why, whylen, "guest access not provably inside the window and its guards"
                     " (r14%+lld..r14%+lld)", (long long)a.lo, (long long)(a.hi + size));
            return why;
        }
        return NULL;
    default:
        break;
    }
    if (v->string && is_string_reg(m->base)) {
        snprintf(why, whylen, "string instruction without rebase (lea %s,[r14+%s])",
                 cs_reg_name(b->h, m->base), cs_reg_name(b->h, m->base));
        return why;
    }
    int g = m->base == X86_REG_INVALID ? -1 : gpr_of(m->base, &bits);
    if (g >= 8 && g <= 12 && is_index_none(m->index)) {
        snprintf(why, whylen, "[%s] is not a jump-cache pointer (last written by something"
                 " other than lea %s,[r13+...])", reg_name(b, g), reg_name(b, g));
        return why;
    }
    return "host memory access outside the guest window (not r14-relative)";
}

/* Registers that leave the block holding anything but a zero-extended
 * 32-bit value (rule 6). */
static const char *check_exit(const struct block *b, const struct state *s, char *why, size_t whylen)
{
    for (int g = 0; g < 8; g++) {
        struct val r = s->r[g];
        if (r.kind == V_NUM && r.hi <= GUEST32)
            continue;
        const char *what = r.kind == V_MEM ? "still rebased onto r14"
                         : r.kind == V_JC  ? "holding a jump-cache pointer"
                         : r.kind == V_CPU ? "holding the vCPU pointer"
                                           : "with its upper 32 bits possibly set";
        snprintf(why, whylen, "leaves the block with %s %s", reg_name(b, g), what);
        return why;
    }
    return NULL;
}

static bool writes_runtime_reg(const struct vinsn *v, int *which)
{
    int bits;
    for (int k = 0; k < v->nwr; k++) {
        int g = gpr_of(v->wr[k], &bits);
        if (g >= 13) {
            *which = g;
            return true;
        }
    }
    return false;
}

static bool implicit_stack(const cs_insn *ci)
{
    const cs_detail *d = ci->detail;
    for (int k = 0; k < d->regs_read_count; k++)
        if (d->regs_read[k] == X86_REG_RSP || d->regs_read[k] == X86_REG_ESP)
            return true;
    for (int k = 0; k < d->regs_write_count; k++)
        if (d->regs_write[k] == X86_REG_RSP || d->regs_write[k] == X86_REG_ESP)
            return true;
    return false;
}

static bool is_reg(const cs_x86_op *op, x86_reg r) { return op->type == X86_OP_REG && op->reg == r; }

static bool is_mem(const cs_x86_op *op, x86_reg base, x86_reg index, int64_t disp)
{
    return op->type == X86_OP_MEM && op->mem.segment == X86_REG_INVALID && op->mem.base == base &&
           op->mem.index == index && (index == X86_REG_INVALID || op->mem.scale == 1) &&
           op->mem.disp == disp;
}

/* RDTSC at b->in[i] heads the inline translation: rorx rdx,rdx,32;
 * lea rax,[rax+rdx]; mov r11,[r15+tsc_offset]; lea rax,[rax+r11] — the
 * guest TSC is the host's plus the vCPU's offset before anything else can
 * see RAX/RDX (rule 6 then checks the zero-extension). */
static bool rdtsc_offset_added(const struct block *b, size_t i)
{
    if (i + 4 >= b->n)
        return false;
    const cs_x86 *x[4];
    for (int k = 0; k < 4; k++) {
        if (b->in[i + 1 + k].synthetic)
            return false;
        x[k] = &b->in[i + 1 + k].ci->detail->x86;
    }
    unsigned id[4] = { b->in[i + 1].ci->id, b->in[i + 2].ci->id, b->in[i + 3].ci->id,
                       b->in[i + 4].ci->id };
    return id[0] == X86_INS_RORX && x[0]->op_count == 3 && is_reg(&x[0]->operands[0], X86_REG_RDX) &&
           is_reg(&x[0]->operands[1], X86_REG_RDX) && x[0]->operands[2].type == X86_OP_IMM &&
           x[0]->operands[2].imm == 32 &&
           id[1] == X86_INS_LEA && is_reg(&x[1]->operands[0], X86_REG_RAX) &&
           is_mem(&x[1]->operands[1], X86_REG_RAX, X86_REG_RDX, 0) &&
           id[2] == X86_INS_MOV && is_reg(&x[2]->operands[0], X86_REG_R11) &&
           is_mem(&x[2]->operands[1], X86_REG_R15, X86_REG_INVALID,
                  (int64_t)offsetof(struct bt_cpu, tsc_offset)) &&
           x[2]->operands[1].size == 8 &&
           id[3] == X86_INS_LEA && is_reg(&x[3]->operands[0], X86_REG_RAX) &&
           is_mem(&x[3]->operands[1], X86_REG_RAX, X86_REG_R11, 0);
}

/* Why instruction i breaks a rule, or NULL. */
static const char *check(const struct block *b, size_t i, char *why, size_t whylen)
{
    const struct vinsn *v = &b->in[i];
    const cs_insn *ci = v->ci;
    const cs_x86 *x = &ci->detail->x86;
    const char *r;
    int g;

    if (!(ci->id == X86_INS_RDTSC && rdtsc_offset_added(b, i)) && (r = forbidden_why(ci)))
        return r;
    if (writes_runtime_reg(v, &g)) {
        static const char *const role[3] = { "the jump cache", "the guest window base",
                                             "the vCPU pointer" };
        snprintf(why, whylen, "writes %s (%s)", reg_name(b, g), role[g - 13]);
        return why;
    }
    /* The inline PUSHF/POPF translations capture and set RFLAGS through an
     * 8-byte slot of the vCPU: pushfq/popfq are allowed only while RSP was
     * last set to r15 + an offset that keeps the slot inside the vCPU. */
    if (ci->id == X86_INS_PUSHFQ || ci->id == X86_INS_POPFQ) {
        struct val sp = b->st[i].r[4];
        if (sp.kind != V_CPU || sp.lo < 8 || sp.hi > 8192 - 8)
            return "uses the host stack (pushfq/popfq only with RSP pointing into the vCPU)";
    } else if (implicit_stack(ci)) {
        return "uses the host stack";
    }

    /* Implicit operands Capstone does not list: XLAT reads [rbx+al],
     * MASKMOV* store to [rdi]. XLAT cannot be made r14-relative; MASKMOV*
     * runs on a rebased RDI, like a string. */
    switch (ci->id) {
    case X86_INS_XLATB:
        return "XLAT (implicit [rbx+al], not r14-relative)";
    case X86_INS_MASKMOVQ:
    case X86_INS_MASKMOVDQU:
    case X86_INS_VMASKMOVDQU: {
        struct val rdi = b->st[i].r[7];
        bool rebased = !v->a32 && v->seg != 0x64 && v->seg != 0x65 && v->nseg <= 1 &&
                       rdi.kind == V_MEM && rdi.lo >= 0 && rdi.hi <= GUEST32;
        if (!rebased)
            return "implicit [rdi] store not rebased (lea rdi,[r14+rdi])";
        break;
    }
    default:
        break;
    }

    if (ci->id != X86_INS_LEA && ci->id != X86_INS_NOP)
        for (int k = 0; k < x->op_count; k++)
            if (x->operands[k].type == X86_OP_MEM &&
                (r = check_mem(b, i, &x->operands[k], why, whylen)))
                return r;

    if (ci->id == X86_INS_JMP && !v->direct) {
        const cs_x86_op *t = &x->operands[0];
        int bits;
        if (t->type == X86_OP_REG) {
            g = gpr_of(t->reg, &bits);
            if (g < 8 || g > 12 || bits != 64)
                return "indirect jump through a guest or runtime register (only r8-r12)";
        } else if (t->type == X86_OP_MEM) {
            struct val a = addr_of(&b->st[i], &t->mem, v->a32);   /* gs: forms give V_NUM */
            if (a.kind != V_CPU && a.kind != V_JC)
                return "indirect jump target not loaded from the vCPU or the jump cache";
        }
    }
    if (v->mid)
        return "branch into the middle of an instruction";

    /* An indirect jump or a taken branch out leaves with the taken state;
     * falling off the end (of a block that decoded whole) with the other. */
    bool off_end = v->falls && i + 1 == b->n && !b->truncated;
    if (v->leaves || off_end) {
        struct state out, taken;
        transfer(b, i, &b->st[i], &out, &taken);
        if (v->leaves && (r = check_exit(b, &taken, why, whylen)))
            return r;
        if (off_end && (r = check_exit(b, &out, why, whylen)))
            return r;
    }
    return NULL;
}

/* ---- entry point -------------------------------------------------------- */

static bool fail(struct verify_result *res, uint32_t off, const char *fmt, ...)
{
    if (res) {
        va_list ap;
        res->ok = false;
        res->bad_off = off;
        va_start(ap, fmt);
        vsnprintf(res->why, sizeof res->why, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Capstone 4.0.2 cannot decode some encodings of the hint-NOP space
 * (0F 0D /0 `prefetch`, the register forms of 0F 18-1F; pinned by
 * test_decoder_capstone.c; F2/F3 0F 1A/1B; fences with a non-zero r/m
 * field) that guest code contains and the translator copies. They neither
 * access memory nor write a register, so they are
 * taken as NOPs — recognised exactly (no LOCK, no VEX, REP/REPNE only on
 * 0F 1A/1B), with the
 * length the hardware gives them (SDM vol. 2 §2.1: prefixes, REX, opcode,
 * ModRM, SIB, displacement; no immediate). 0 if `b` is not one. */
static size_t hint_nop_len(const uint8_t *b, size_t left)
{
    size_t i = 0, disp = 0;
    bool rep = false, opsize = false;

    while (i < left && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0x26 || b[i] == 0x2e ||
                        b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x64 || b[i] == 0x65 ||
                        b[i] == 0xf2 || b[i] == 0xf3)) {
        rep |= b[i] == 0xf2 || b[i] == 0xf3;
        opsize |= b[i] == 0x66;
        i++;
    }
    if (i < left && (b[i] & 0xf0) == 0x40)      /* REX */
        i++;
    if (i + 3 > left || b[i] != 0x0f)
        return 0;
    uint8_t op = b[i + 1], modrm = b[i + 2], mod = modrm >> 6, rm = modrm & 7, reg = modrm >> 3 & 7;
    /* LFENCE/MFENCE/SFENCE (NP 0F AE /5 /6 /7, register form) with any
     * r/m: the same fences (SDM vol. 2 "LFENCE"); with 66/F2/F3 these are
     * other instructions (TPAUSE, UMWAIT, INCSSP...), not accepted. */
    if (op == 0xae)
        return !rep && !opsize && mod == 3 && reg >= 5 ? i + 3 : 0;
    /* F2/F3 0F 1A/1B (the MPX space) are hint NOPs too; F2/F3 before any
     * other hint NOP make it something else. */
    if (rep && op != 0x1a && op != 0x1b)
        return 0;
    if (op != 0x0d && (op < 0x18 || op > 0x1f))
        return 0;
    i += 3;
    if (mod != 3) {
        if (rm == 4) {
            if (i >= left)
                return 0;
            if (mod == 0 && (b[i] & 7) == 5)
                disp = 4;
            i++;
        } else if (mod == 0 && rm == 5) {
            disp = 4;
        }
        if (mod == 1)
            disp = 1;
        else if (mod == 2)
            disp = 4;
    }
    return i + disp <= left ? i + disp : 0;
}

/* Decode code[0..len) one instruction at a time into b->in (b->ci owns the
 * cs_insns), stopping at the first byte neither Capstone nor hint_nop_len
 * understands. */
static bool decode(struct block *b, const uint8_t *code, size_t len)
{
    size_t cap = 0;
    const uint8_t *p = code;
    size_t left = len;
    uint64_t addr = b->addr;

    while (left) {
        if (b->n == cap) {
            cap = cap ? 2 * cap : 64;
            struct vinsn *in = realloc(b->in, cap * sizeof *in);
            if (!in)
                return false;
            b->in = in;
        }
        cs_insn *ci = cs_malloc(b->h);
        if (!ci)
            return false;
        b->in[b->n] = (struct vinsn){ .ci = ci, .off = (uint32_t)(p - code) };
        if (!cs_disasm_iter(b->h, &p, &left, &addr, ci)) {
            size_t n = hint_nop_len(p, left);
            if (!n) {
                cs_free(ci, 1);
                break;
            }
            cs_detail *d = ci->detail;
            memset(ci, 0, sizeof *ci);
            memset(d, 0, sizeof *d);
            ci->detail = d;
            ci->id = X86_INS_NOP;
            ci->address = addr;
            ci->size = (uint16_t)n;
            memcpy(ci->bytes, p, n);
            snprintf(ci->mnemonic, sizeof ci->mnemonic, "nop");
            snprintf(ci->op_str, sizeof ci->op_str, "(hint, %zu bytes)", n);
            b->in[b->n].synthetic = true;
            p += n;
            left -= n;
            addr += n;
        }
        b->len += ci->size;
        b->n++;
    }
    b->truncated = b->len < len;
    return true;
}

/* One Capstone handle per thread, opened on first use and closed when the
 * thread exits. Handles must not be shared between threads (one vCPU thread
 * each may verify), and a fresh handle rebuilds Capstone's instruction index
 * on first use: about a fifth of a call. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_close(void *p)
{
    csh h = (csh)(uintptr_t)p;
    cs_close(&h);
}

static void handle_key_init(void)
{
    pthread_key_create(&handle_key, handle_close);
}

static bool handle_get(csh *h)
{
    pthread_once(&handle_once, handle_key_init);
    void *p = pthread_getspecific(handle_key);
    if (p) {
        *h = (csh)(uintptr_t)p;
        return true;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
        return false;
    cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
    pthread_setspecific(handle_key, (void *)(uintptr_t)*h);
    return true;
}

bool bt_verify(const uint8_t *code, size_t len, uint64_t runtime_addr, struct verify_result *res)
{
    struct block b = { .addr = runtime_addr };
    char why[160];
    bool ok = true;

    if (res) {
        res->ok = true;
        res->bad_off = 0;
        res->why[0] = 0;
    }
    if (len == 0)
        return true;
    if (!handle_get(&b.h))
        return fail(res, 0, "offset 0x0: cannot open Capstone");

    /* Decode everything up to the first undecodable byte. The analysis runs
     * on what decoded; the undecodable tail is reported only if nothing
     * before it is bad (first bad instruction wins). */
    if (!decode(&b, code, len) || !(b.st = calloc(b.n ? b.n : 1, sizeof *b.st))) {
        ok = fail(res, 0, "offset 0x0: out of memory");
        goto out;
    }
    for (size_t i = 0; i < b.n; i++)
        classify(&b, i);
    if (b.n) {
        entry_state(&b.st[0]);
        fixpoint(&b);
    }
    for (size_t i = 0; i < b.n && ok; i++) {
        const cs_insn *ci = b.in[i].ci;
        const char *r = check(&b, i, why, sizeof why);
        if (r)
            ok = fail(res, b.in[i].off, "offset 0x%x: %s%s%s: %s", b.in[i].off, ci->mnemonic,
                      ci->op_str[0] ? " " : "", ci->op_str, r);
    }
    if (ok && b.truncated) {
        char hex[3 * 4 + 4] = "";
        for (size_t k = b.len; k < len && k < b.len + 4; k++)
            snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%s%02x", k > b.len ? " " : "", code[k]);
        ok = fail(res, (uint32_t)b.len, "offset 0x%zx: undecodable bytes %s%s", b.len, hex,
                  len - b.len > 4 ? " ..." : "");
    }
out:
    for (size_t i = 0; i < b.n; i++)
        cs_free(b.in[i].ci, 1);
    free(b.in);
    free(b.st);
    return ok;
}
