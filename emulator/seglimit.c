/* seglimit — segment-limit checks where a data segment is not flat
 * (SDM vol. 3A §5.3 "Limit Checking", §3.4.5.1 expand-down segments).
 *
 * Translated code computes addresses in 32 bits and never looks at a
 * limit: with every data segment flat (base 0 does not matter here; limit
 * 4 GiB - 1, expand-up, usable) no access can be out of limit, and that is
 * the common case. When one is not, its bit is in the block mode
 * (BT_MODE_SEGLIM, kept in v->seglim), and each instruction that accesses
 * memory through it is preceded by this callout, which works out the bytes
 * the instruction will touch in each segment and raises #GP(0) — #SS(0)
 * for SS — if one is outside: beyond the limit of an expand-up segment,
 * at or below it in an expand-down one (whose top is 0xFFFF unless B is
 * set), or wrapping past 4 GiB.
 *
 * The sizes are what the instruction architecturally accesses, from the
 * memop table (memop_store_size: the operand size for most forms, 16 for
 * SSE, 512 for FXSAVE) and MOVZX/MOVSX's source size; BT's bit-string
 * reach beyond the operand is not modelled. A REP string is checked for all its iterations at
 * once, so an out-of-limit one faults before the first iteration instead
 * of at the failing one. Not checked: system instructions' operands
 * (LGDT, SGDT...), INS/OUTS, the stack accesses of far transfers, INT and
 * IRET, ENTER's nested frame pointers, and CS (code fetches and CS:
 * overrides). */
#include <string.h>

#include "emulator/memop.h"
#include "emulator/system.h"

static bool expand_down(uint32_t ar) { return (ar >> 8 & 0xc) == 0x4; }   /* data, E = 1 */

/* A null segment is not checked: QEMU lets accesses through one pass, and
 * so do tests and guests written against it. */
static unsigned checked(const struct segreg *s)
{
    return s->ar && (s->limit != 0xffffffffu || expand_down(s->ar));
}

void seglim_update(struct vcpu *v)
{
    static const int data[5] = { SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS };
    uint32_t mask = 0;

    /* Real and virtual-8086 mode: 64 KiB segments that 16-bit addresses
     * cannot leave; not checked (README: a 32-bit address beyond the
     * limit there does not fault). */
    for (int i = 0; i < 5 && !vcpu_seg_real(v); i++)
        if (checked(&v->seg[data[i]]))
            mask |= 1u << data[i];
    if (mask != v->seglim) {
        v->seglim = mask;
        vcpu_mode_changed(v);
    }
}

/* Are bytes [off, off + n) inside segment s? n may be 0 (no access). */
static bool within(const struct segreg *s, uint32_t off, uint64_t n)
{
    uint64_t last = (uint64_t)off + n - 1;

    if (n == 0 || !s->ar)
        return true;
    if (expand_down(s->ar))
        return off > s->limit && last <= (ar_big(s->ar) ? 0xffffffffu : 0xffffu);
    return last <= s->limit;
}

struct access {
    int seg;
    uint32_t off;
    uint64_t n;
};

/* The string operand at p, `count` elements of `size` bytes, DF-wise. */
static struct access string_range(int seg, uint32_t p, uint64_t count, unsigned size, bool down)
{
    uint64_t span = count * size;
    if (down && count)
        return (struct access){ seg, p - (uint32_t)(span - size), span };
    return (struct access){ seg, p, span };
}

/* Bytes the ModRM operand covers: MOVZX/MOVSX read 1 or 2, whatever the
 * destination; the rest as memop has them. */
static unsigned access_size(const struct insn *in)
{
    bool esc = in->opc_len == 2 && in->bytes[in->npfx] == 0x0f;
    if (esc && (in->opcode == 0xb6 || in->opcode == 0xbe))
        return 1;
    if (esc && (in->opcode == 0xb7 || in->opcode == 0xbf))
        return 2;
    return memop_store_size(in) ? memop_store_size(in) : in->opsize;
}

static int accesses(const struct vcpu *v, const struct insn *in, struct access a[3])
{
    const struct bt_cpu *cpu = &v->bt;
    uint32_t spm = vcpu_stack16(v) ? 0xffffu : 0xffffffffu;      /* SP on a 16-bit stack */
    uint32_t am = in->addrsize == 2 ? 0xffffu : 0xffffffffu;       /* SI DI CX BX */
    uint32_t esp = cpu->gpr[R_ESP] & spm, os = in->opsize;
    int n = 0, dflt = in->seg != SEG_NONE ? in->seg : SEG_DS;

    if (in->modrm_off >= 0 && in->mod != 3 && in->kind != K_LEA && in->kind != K_STRING &&
        !(in->flags & INSN_F_HINT_NOP)) {
        unsigned size = access_size(in);
        int seg;
        uint32_t off = insn_ea(in, cpu->gpr, &seg);
        a[n++] = (struct access){ seg, off, size };
    }
    switch (in->kind) {
    case K_PUSH: case K_PUSHF: case K_CALL: case K_CALL_IND: case K_ENTER:
        a[n++] = (struct access){ SEG_SS, (esp - os) & spm, os };
        break;
    case K_PUSHA:
        a[n++] = (struct access){ SEG_SS, (esp - 8 * os) & spm, 8 * os };
        break;
    case K_POP: case K_POPF: case K_RET:
        a[n++] = (struct access){ SEG_SS, esp, os };
        break;
    case K_POPA:
        a[n++] = (struct access){ SEG_SS, esp, 8 * os };
        break;
    case K_LEAVE:
        a[n++] = (struct access){ SEG_SS, cpu->gpr[R_EBP] & spm, os };
        break;
    case K_MOFFS: {
        uint32_t off = 0;
        memcpy(&off, in->bytes + in->npfx + 1, in->addrsize);
        a[n++] = (struct access){ dflt, off, (in->opcode & 1) ? os : 1 };
        break;
    }
    case K_XLAT:
        a[n++] = (struct access){ dflt, (cpu->gpr[R_EBX] + (cpu->gpr[R_EAX] & 0xff)) & am, 1 };
        break;
    case K_STRING: {
        unsigned size = (in->opcode & 1) ? os : 1;
        uint64_t count = in->rep ? cpu->gpr[R_ECX] & am : 1;
        bool down = cpu->eflags & FL_DF;
        if (bt_string_reads_esi(in->opcode))
            a[n++] = string_range(dflt, cpu->gpr[R_ESI] & am, count, size, down);
        if (bt_string_uses_edi(in->opcode))
            a[n++] = string_range(SEG_ES, cpu->gpr[R_EDI] & am, count, size, down);
        break;
    }
    default:
        break;
    }
    return n;
}

int co_seglimit(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    struct access a[3];
    int n = accesses(v, in, a);

    v->vm->stats.seglimit_checks++;
    for (int i = 0; i < n; i++)
        if (!within(&v->seg[a[i].seg], a[i].off, a[i].n))
            return raise_fault(v, FAULT(a[i].seg == SEG_SS ? EXC_SS : EXC_GP, 0), site->eip);
    return BT_RESUME;
}
