/* insn_access — the memory and ports one instruction is about to touch
 * (insn_access.h), from Capstone's operand details (each memory operand's
 * address parts, size and read/write access) and the guest's registers
 * and segment bases before the instruction runs.
 *
 * Capstone lists no operand for the stack of PUSH, POP, CALL, RET and
 * their kin, so those are added here (SDM vol. 2: PUSH writes below ESP,
 * POP reads at ESP, ...). A REP string instruction is one step in bt86
 * (its iterations run as one), so its access is the whole span ECX
 * elements cover, downwards when DF is set. The decoder handle is one
 * per process, opened on first use: only debugging paths come here. */
#include "emulator/insn_access.h"

#include <capstone/capstone.h>
#include <string.h>

#include "emulator/system.h"

static csh cs_handle;
static bool cs_ready;

static bool decoder(void)
{
    if (!cs_ready && cs_open(CS_ARCH_X86, CS_MODE_32, &cs_handle) == CS_ERR_OK) {
        cs_option(cs_handle, CS_OPT_DETAIL, CS_OPT_ON);
        cs_ready = true;
    }
    return cs_ready;
}

/* A general register's value (32-, 16- or 8-bit names), 0 for none. */
static uint32_t reg_value(const struct bt_cpu *cpu, x86_reg r)
{
    static const x86_reg r32[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                    X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
    static const x86_reg r16[8] = { X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                    X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI };
    for (int i = 0; i < 8; i++) {
        if (r == r32[i])
            return cpu->gpr[i];
        if (r == r16[i])
            return cpu->gpr[i] & 0xFFFF;
    }
    return 0;
}

static int seg_index(x86_reg r)
{
    switch (r) {
    case X86_REG_ES: return SEG_ES;
    case X86_REG_CS: return SEG_CS;
    case X86_REG_SS: return SEG_SS;
    case X86_REG_FS: return SEG_FS;
    case X86_REG_GS: return SEG_GS;
    default: return SEG_DS;
    }
}

static uint32_t mem_linear(const struct vcpu *v, const cs_x86 *x, const cs_x86_op *op)
{
    const struct bt_cpu *cpu = &v->bt;
    uint32_t ea = reg_value(cpu, op->mem.base) + reg_value(cpu, op->mem.index) * (uint32_t)op->mem.scale +
                  (uint32_t)op->mem.disp;
    int seg;

    if (x->addr_size == 2)
        ea &= 0xFFFF;
    if (op->mem.segment != X86_REG_INVALID)
        seg = seg_index(op->mem.segment);
    else if (op->mem.base == X86_REG_ESP || op->mem.base == X86_REG_EBP ||
             op->mem.base == X86_REG_SP || op->mem.base == X86_REG_BP)
        seg = SEG_SS;
    else
        seg = SEG_DS;
    return v->seg[seg].base + ea;
}

static bool is_string(unsigned id)
{
    switch (id) {
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
    case X86_INS_LODSB: case X86_INS_LODSW: case X86_INS_LODSD:
    case X86_INS_CMPSB: case X86_INS_CMPSW: case X86_INS_CMPSD:
    case X86_INS_SCASB: case X86_INS_SCASW: case X86_INS_SCASD:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return true;
    default:
        return false;
    }
}

/* Instructions with a memory operand that is not accessed. */
static bool no_access(unsigned id)
{
    switch (id) {
    case X86_INS_LEA: case X86_INS_NOP: case X86_INS_PREFETCH: case X86_INS_PREFETCHW:
    case X86_INS_PREFETCHNTA: case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1:
    case X86_INS_PREFETCHT2: case X86_INS_CLFLUSH: case X86_INS_INVLPG:
        return true;
    default:
        return false;
    }
}

struct acc_list {
    struct insn_access *a;
    int n, max;
};

static void add(struct acc_list *l, uint32_t addr, uint32_t len, unsigned rw, bool io)
{
    if (l->n < l->max && len)
        l->a[l->n++] = (struct insn_access){ .addr = addr, .len = len, .rw = (uint8_t)rw, .io = io };
}

/* The implicit stack accesses (SDM vol. 2, each instruction's operation). */
static void stack_accesses(const struct vcpu *v, const cs_insn *ci, struct acc_list *l)
{
    const struct bt_cpu *cpu = &v->bt;
    uint32_t ss = v->seg[SEG_SS].base, esp = cpu->gpr[4];
    uint32_t osz = ci->detail->x86.prefix[2] == 0x66 ? 2 : 4;

    switch (ci->id) {
    case X86_INS_PUSH: case X86_INS_PUSHFD: case X86_INS_PUSHF: case X86_INS_CALL:
        if (ci->id == X86_INS_PUSHF)
            osz = 2;
        add(l, ss + esp - osz, osz, ACC_WRITE, false);
        break;
    case X86_INS_LCALL:
        add(l, ss + esp - 2 * osz, 2 * osz, ACC_WRITE, false);
        break;
    case X86_INS_ENTER:
        add(l, ss + esp - osz, osz, ACC_WRITE, false);
        break;
    case X86_INS_PUSHAL: case X86_INS_PUSHAW:
        osz = ci->id == X86_INS_PUSHAW ? 2 : 4;
        add(l, ss + esp - 8 * osz, 8 * osz, ACC_WRITE, false);
        break;
    case X86_INS_POP: case X86_INS_POPFD: case X86_INS_POPF: case X86_INS_RET:
        if (ci->id == X86_INS_POPF)
            osz = 2;
        add(l, ss + esp, osz, ACC_READ, false);
        break;
    case X86_INS_RETF:
        add(l, ss + esp, 2 * osz, ACC_READ, false);
        break;
    case X86_INS_POPAL: case X86_INS_POPAW:
        osz = ci->id == X86_INS_POPAW ? 2 : 4;
        add(l, ss + esp, 8 * osz, ACC_READ, false);
        break;
    case X86_INS_LEAVE:
        add(l, ss + cpu->gpr[5], osz, ACC_READ, false);
        break;
    default:
        break;
    }
}

static void port_accesses(const struct vcpu *v, const cs_insn *ci, struct acc_list *l)
{
    const cs_x86 *x = &ci->detail->x86;
    uint32_t port = v->bt.gpr[2] & 0xFFFF, size = 0;
    bool in = ci->id == X86_INS_IN || ci->id == X86_INS_INSB || ci->id == X86_INS_INSW ||
              ci->id == X86_INS_INSD;

    switch (ci->id) {
    case X86_INS_IN: case X86_INS_OUT:
        for (int i = 0; i < x->op_count; i++) {
            if (x->operands[i].type == X86_OP_IMM)
                port = (uint32_t)x->operands[i].imm & 0xFF;
            else if (x->operands[i].type == X86_OP_REG && x->operands[i].reg != X86_REG_DX)
                size = x->operands[i].size;
        }
        break;
    case X86_INS_INSB: case X86_INS_OUTSB: size = 1; break;
    case X86_INS_INSW: case X86_INS_OUTSW: size = 2; break;
    case X86_INS_INSD: case X86_INS_OUTSD: size = 4; break;
    default: return;
    }
    add(l, port, size, in ? ACC_READ : ACC_WRITE, true);
}

int insn_accesses(struct vcpu *v, uint32_t eip, struct insn_access *out, int max)
{
    struct acc_list l = { out, 0, max };
    uint8_t code[15];
    size_t n = vm_debug_read(v->vm, vcpu_code_lin(v, eip), code, sizeof code);
    cs_insn *ci;

    if (!n || !decoder())
        return 0;
    /* CS.D = 0 (real mode, virtual-8086, 16-bit segments) changes the
     * default operand and address sizes the accesses follow. */
    cs_option(cs_handle, CS_OPT_MODE, (v->bits16 & BT_MODE_CODE16) ? CS_MODE_16 : CS_MODE_32);
    if (cs_disasm(cs_handle, code, n, eip, 1, &ci) != 1)
        return 0;
    const cs_x86 *x = &ci->detail->x86;
    bool rep = x->prefix[0] == 0xF3 || x->prefix[0] == 0xF2;
    uint32_t count = rep ? (x->addr_size == 2 ? v->bt.gpr[1] & 0xFFFF : v->bt.gpr[1]) : 1;
    bool down = (v->bt.eflags & FL_DF) != 0;

    for (int i = 0; i < x->op_count && !no_access(ci->id); i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type != X86_OP_MEM)
            continue;
        unsigned rw = op->access & (CS_AC_READ | CS_AC_WRITE);
        uint32_t lin = mem_linear(v, x, op), len = op->size ? op->size : 4;
        if (!rw)
            rw = ACC_READ;
        if (is_string(ci->id)) {
            if (count == 0)
                continue;
            if (down)
                lin -= (count - 1) * len;
            len = count > (1u << 28) / len ? 1u << 28 : count * len;
        }
        add(&l, lin, len, rw, false);
    }
    stack_accesses(v, ci, &l);
    if (!rep || count)
        port_accesses(v, ci, &l);
    cs_free(ci, 1);
    return l.n;
}

bool insn_access_hits(const struct insn_access *a, int n, uint32_t addr, uint32_t len,
                      unsigned rw, bool io)
{
    for (int i = 0; i < n; i++)
        if (a[i].io == io && (a[i].rw & rw) &&
            (uint64_t)addr < (uint64_t)a[i].addr + a[i].len && (uint64_t)a[i].addr < (uint64_t)addr + len)
            return true;
    return false;
}
