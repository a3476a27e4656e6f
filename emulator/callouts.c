/* callouts — what translated code calls for instructions that need the
 * monitor. Each handler runs on the host stack with the guest registers and
 * EFLAGS in the bt_cpu (the trampoline stored them and reloads them after a
 * BT_RESUME), and gets the decoded instruction with its call site. */
#include <capstone/capstone.h>
#include <string.h>
#include <x86intrin.h>

#include "emulator/vcpu.h"

#define SITE_INSN(site) (&((const struct bt_site_insn *)(const void *)(site))->insn)

static int resume_or_exit(struct vcpu *v, const struct bt_site *site)
{
    if (v->exit == EXIT_NONE && !v->bt.exc_pending)
        return BT_RESUME;
    if (!v->bt.exc_pending)
        v->bt.next_eip = site->next_eip;
    return BT_EXIT;
}

static void count(struct vcpu *v, int kind) { v->vm->stats.callouts[kind]++; }

static int co_invalid(struct bt_cpu *cpu, const struct bt_site *site)
{
    count(vcpu_of(cpu), K_INVALID);
    return raise_exception(vcpu_of(cpu), EXC_UD, site->eip, false, 0);
}

static int co_unsupported(struct vcpu *v, const struct bt_site *site, const char *what)
{
    char text[120];
    insn_format(bt_decoder(v->vm->bt), SITE_INSN(site), text, sizeof text);
    return vcpu_stop_error(v, site->eip, "guest instruction not supported yet at EIP 0x%08x: %s (%s)",
                           site->eip, text, what);
}

static int co_hlt(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    count(v, K_HLT);
    cpu->next_eip = site->next_eip;
    if (!cpu->vif) {
        v->exit = EXIT_HALT;
        return BT_EXIT;
    }
    /* TODO(#4): sleep until the next interrupt; there is no interrupt source yet. */
    return vcpu_stop_error(v, site->next_eip,
                           "guest halted with interrupts enabled at EIP 0x%08x, and bt86 has no interrupt sources yet",
                           site->eip);
}

/* ---- port I/O ---------------------------------------------------------- */

static void set_acc(struct bt_cpu *cpu, int size, uint32_t val)
{
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    cpu->gpr[R_EAX] = (cpu->gpr[R_EAX] & ~mask) | (val & mask);
}

static int co_io(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    struct io_bus *io = &v->vm->io;
    uint8_t op = in->opcode;
    int size = (op & 1) ? in->opsize : 1;
    uint16_t port = (op == 0xe4 || op == 0xe5 || op == 0xe6 || op == 0xe7)
                        ? in->bytes[in->imm_off] : (uint16_t)cpu->gpr[R_EDX];
    int32_t step = (cpu->eflags & FL_DF) ? -size : size;

    count(v, K_IO);
    /* TODO(#4): #GP(0) when CPL > IOPL and the TSS I/O bitmap denies the port. */
    switch (op) {
    case 0xe4: case 0xe5: case 0xec: case 0xed:
        set_acc(cpu, size, io_in(io, port, size));
        break;
    case 0xe6: case 0xe7: case 0xee: case 0xef:
        io_out(io, port, size, cpu->gpr[R_EAX]);
        break;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: {
        /* INS/OUTS: one element, or ECX of them with REP (SDM "INS"). */
        bool rep = in->rep != 0;
        while (!rep || cpu->gpr[R_ECX] != 0) {
            uint32_t val = 0;
            if (op <= 0x6d) {
                val = io_in(io, port, size);
                if (!guest_write(v, cpu->gpr[R_EDI], &val, (size_t)size))
                    return vcpu_stop_error(v, site->eip, "INS to unbacked memory at 0x%08x", cpu->gpr[R_EDI]);
                cpu->gpr[R_EDI] += (uint32_t)step;
            } else {
                if (!guest_read(v, cpu->gpr[R_ESI], &val, (size_t)size))
                    return vcpu_stop_error(v, site->eip, "OUTS from unbacked memory at 0x%08x", cpu->gpr[R_ESI]);
                io_out(io, port, size, val);
                cpu->gpr[R_ESI] += (uint32_t)step;
            }
            if (!rep)
                break;
            cpu->gpr[R_ECX]--;
            if (v->exit != EXIT_NONE)
                break;
        }
        break;
    }
    default:
        return co_invalid(cpu, site);
    }
    return resume_or_exit(v, site);
}

/* ---- EFLAGS ------------------------------------------------------------ */

static uint32_t guest_eflags(const struct bt_cpu *cpu)
{
    return (cpu->eflags & ~(FL_IF | FL_RF | FL_VM)) | (cpu->vif ? FL_IF : 0) | 2;
}

static int co_pushf(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t fl = guest_eflags(cpu);   /* the image has VM and RF clear (SDM "PUSHF") */
    uint32_t esp = cpu->gpr[R_ESP] - in->opsize;

    count(v, K_PUSHF);
    if (!guest_write(v, esp, &fl, in->opsize))
        return vcpu_stop_error(v, site->eip, "PUSHF to unbacked memory at 0x%08x", esp);
    cpu->gpr[R_ESP] = esp;
    return BT_RESUME;
}

static int co_popf(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t val = 0, old = guest_eflags(cpu), iopl = (old >> 12) & 3;
    uint32_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID;

    count(v, K_POPF);
    if (!guest_read(v, cpu->gpr[R_ESP], &val, in->opsize))
        return vcpu_stop_error(v, site->eip, "POPF from unbacked memory at 0x%08x", cpu->gpr[R_ESP]);
    /* SDM "POPF": IOPL changes only at CPL 0, IF only when CPL <= IOPL;
     * VM, VIP, VIF are unaffected and RF is cleared. */
    if (v->cpl > 0)
        mask &= ~FL_IOPL;
    if (v->cpl > iopl)
        mask &= ~FL_IF;
    if (in->opsize == 2)
        mask &= 0xffff;
    val = (old & ~mask) | (val & mask);
    cpu->vif = (val & FL_IF) != 0;
    cpu->eflags = (val & ~(FL_IF | FL_RF)) | 2;
    cpu->gpr[R_ESP] += in->opsize;
    /* TODO(#4): TF single-stepping; a pending interrupt once IF is set. */
    return BT_RESUME;
}

/* ---- INT n, INT3, INTO, INT1, UD2 -------------------------------------- */

static int co_int(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);

    count(v, K_INT);
    switch (in->opcode) {
    case 0xcc: return raise_exception(v, EXC_BP, site->next_eip, false, 0);
    case 0xcd: return raise_exception(v, in->bytes[in->imm_off], site->next_eip, false, 0);
    case 0xf1: return raise_exception(v, EXC_DB, site->next_eip, false, 0);
    case 0xce:
        if (cpu->eflags & FL_OF)
            return raise_exception(v, EXC_OF, site->next_eip, false, 0);
        cpu->next_eip = site->next_eip;
        return BT_EXIT;
    default:
        return co_invalid(cpu, site);
    }
}

static int co_ud(struct bt_cpu *cpu, const struct bt_site *site)
{
    count(vcpu_of(cpu), K_UD);
    return raise_exception(vcpu_of(cpu), EXC_UD, site->eip, false, 0);
}

/* ---- system instructions (the subset the foundation needs) ------------- */

static int co_sys(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);

    count(v, K_SYS);
    cpu->next_eip = site->next_eip;
    switch (in->id) {
    case X86_INS_CPUID: {
        /* A plain i686 (family 6): FPU TSC CX8 CMOV MMX FXSR SSE SSE2. */
        uint32_t leaf = cpu->gpr[R_EAX];
        uint32_t a = 0, b = 0, c = 0, d = 0;
        if (leaf == 0) {
            a = 1;
            memcpy(&b, "Genu", 4); memcpy(&d, "ineI", 4); memcpy(&c, "ntel", 4);
        } else if (leaf == 1) {
            a = 0x0683;   /* family 6, model 8, stepping 3 */
            d = (1u << 0) | (1u << 4) | (1u << 8) | (1u << 15) | (1u << 23) | (1u << 24) |
                (1u << 25) | (1u << 26);
        } else if (leaf == 0x80000000u) {
            a = 0x80000000u;
        }
        cpu->gpr[R_EAX] = a; cpu->gpr[R_EBX] = b; cpu->gpr[R_ECX] = c; cpu->gpr[R_EDX] = d;
        return BT_EXIT;
    }
    case X86_INS_RDTSC: {
        uint64_t t = __rdtsc();
        cpu->gpr[R_EAX] = (uint32_t)t;
        cpu->gpr[R_EDX] = (uint32_t)(t >> 32);
        return BT_EXIT;
    }
    case X86_INS_WBINVD:
    case X86_INS_INVD:
        return BT_EXIT;
    case X86_INS_CLTS:
        v->cr0 &= ~8u;
        return BT_EXIT;
    case X86_INS_MOV: {
        uint32_t *cr[5] = { &v->cr0, NULL, &v->cr2, &v->cr3, &v->cr4 };
        uint8_t op = in->opcode;
        if ((op == 0x20 || op == 0x22) && in->reg < 5 && cr[in->reg]) {
            if (op == 0x20) {
                cpu->gpr[in->rm] = *cr[in->reg];
                return BT_EXIT;
            }
            if (in->reg == 0 && (cpu->gpr[in->rm] & 0x80000000u))
                return co_unsupported(v, site, "paging: TODO(#5)");
            *cr[in->reg] = cpu->gpr[in->rm] | (in->reg == 0 ? 0x10u : 0);   /* CR0.ET is hardwired */
            return BT_EXIT;
        }
        break;
    }
    default:
        break;
    }
    return co_unsupported(v, site, "TODO(#4)");
}

static int co_todo4(struct bt_cpu *cpu, const struct bt_site *site)
{
    return co_unsupported(vcpu_of(cpu), site, "TODO(#4)");
}

/* ---- helpers: instructions emulated in C ------------------------------- */

static uint32_t szp_flags(uint8_t r)
{
    return (r == 0 ? FL_ZF : 0) | (r & 0x80 ? FL_SF : 0) |
           (__builtin_parity(r) ? 0 : FL_PF);
}

/* DAA DAS AAA AAS AAM AAD, from the SDM pseudo-code. Flags the SDM leaves
 * undefined are left as they were (as QEMU does). */
static int co_bcd(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t eax = cpu->gpr[R_EAX], fl = cpu->eflags;
    uint8_t al = (uint8_t)eax, ah = (uint8_t)(eax >> 8), old_al = al;
    bool cf = fl & FL_CF, af = fl & FL_AF;
    uint8_t base = in->bytes[in->npfx + 1];

    v->vm->stats.callouts[K_COUNT]++;
    switch (in->opcode) {
    case 0x27:   /* DAA */
    case 0x2f: { /* DAS */
        bool sub = in->opcode == 0x2f, ncf = false;
        if ((al & 0x0f) > 9 || af) {
            ncf = cf || (sub ? al < 6 : al > 0xf9);
            al = (uint8_t)(sub ? al - 6 : al + 6);
            af = true;
        } else {
            af = false;
        }
        /* DAA clears CF in the else branch; DAS keeps the first step's borrow. */
        if (old_al > 0x99 || cf) {
            al = (uint8_t)(sub ? al - 0x60 : al + 0x60);
            ncf = true;
        } else if (!sub) {
            ncf = false;
        }
        fl = (fl & ~(FL_CF | FL_AF | FL_ZF | FL_SF | FL_PF)) | szp_flags(al) |
             (ncf ? FL_CF : 0) | (af ? FL_AF : 0);
        eax = (eax & ~0xffu) | al;
        break;
    }
    case 0x37:   /* AAA: AX += 0x106 */
    case 0x3f: { /* AAS: AX -= 6, AH -= 1 */
        if ((al & 0x0f) > 9 || af) {
            uint16_t ax = (uint16_t)(eax & 0xffff);
            ax = in->opcode == 0x37 ? (uint16_t)(ax + 0x106) : (uint16_t)(ax - 6 - 0x100);
            al = (uint8_t)ax;
            ah = (uint8_t)(ax >> 8);
            fl |= FL_AF | FL_CF;
        } else {
            fl &= ~(FL_AF | FL_CF);
        }
        al &= 0x0f;
        eax = (eax & ~0xffffu) | (uint32_t)ah << 8 | al;
        cpu->eflags = fl;
        cpu->gpr[R_EAX] = eax;
        return BT_RESUME;
    }
    case 0xd4:   /* AAM: #DE on a zero base */
        if (base == 0)
            return raise_exception(v, EXC_DE, site->eip, false, 0);
        ah = al / base;
        al = al % base;
        eax = (eax & ~0xffffu) | (uint32_t)ah << 8 | al;
        fl = (fl & ~(FL_ZF | FL_SF | FL_PF)) | szp_flags(al);
        break;
    case 0xd5:   /* AAD */
        al = (uint8_t)(al + ah * base);
        eax = (eax & ~0xffffu) | al;
        fl = (fl & ~(FL_ZF | FL_SF | FL_PF)) | szp_flags(al);
        break;
    default:
        return co_invalid(cpu, site);
    }
    cpu->eflags = fl;
    cpu->gpr[R_EAX] = eax;
    return BT_RESUME;
}

/* ENTER with a nesting level or a 16-bit operand size (SDM "ENTER"). */
static int co_enter(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t size = (uint16_t)in->imm, level = in->bytes[in->imm_off + 2] & 31;
    uint32_t osz = in->opsize, esp = cpu->gpr[R_ESP], ebp = cpu->gpr[R_EBP], frame, val;

    v->vm->stats.callouts[K_COUNT]++;
#define PUSH(x) do { esp -= osz; val = (x); \
        if (!guest_write(v, esp, &val, osz)) goto bad; } while (0)
    PUSH(ebp);
    frame = esp;
    if (level > 0) {
        for (uint32_t i = 1; i < level; i++) {
            ebp -= osz;
            val = 0;
            if (!guest_read(v, ebp, &val, osz))
                goto bad;
            PUSH(val);
        }
        PUSH(frame);
    }
#undef PUSH
    if (osz == 4)
        cpu->gpr[R_EBP] = frame;
    else
        cpu->gpr[R_EBP] = (cpu->gpr[R_EBP] & ~0xffffu) | (frame & 0xffff);
    cpu->gpr[R_ESP] = esp - size;
    return BT_RESUME;
bad:
    return vcpu_stop_error(v, site->eip, "ENTER touches unbacked memory near 0x%08x", esp);
}

static int co_addr16(struct bt_cpu *cpu, const struct bt_site *site)
{
    return co_unsupported(vcpu_of(cpu), site, "16-bit addressing: TODO(#2)");
}

void callouts_fill(struct bt_handlers *h)
{
    memset(h, 0, sizeof *h);
    h->invalid = co_invalid;
    h->kind[K_HLT] = co_hlt;
    h->kind[K_IO] = co_io;
    h->kind[K_PUSHF] = co_pushf;
    h->kind[K_POPF] = co_popf;
    h->kind[K_INT] = co_int;
    h->kind[K_UD] = co_ud;
    h->kind[K_SYS] = co_sys;
    h->kind[K_IRET] = co_todo4;
    h->kind[K_FAR] = co_todo4;
    h->kind[K_SEG] = co_todo4;
    h->helper[BT_HELPER_BCD] = co_bcd;
    h->helper[BT_HELPER_ENTER] = co_enter;
    h->helper[BT_HELPER_ADDR16] = co_addr16;
}
