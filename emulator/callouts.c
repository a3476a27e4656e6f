/* callouts — what translated code calls for instructions that need the
 * monitor. Each handler runs on the host stack with the guest registers and
 * EFLAGS in the bt_cpu (the trampoline stored them and reloads them after a
 * BT_RESUME), and gets the decoded instruction with its call site. */
#include <capstone/capstone.h>
#include <string.h>
#include <x86intrin.h>

#include "emulator/iostring.h"
#include "emulator/paging.h"

/* Continue in the block, unless the run must stop, an exception is
 * pending, or an interrupt became deliverable (taken after this insn). */
static int resume_or_exit(struct vcpu *v, const struct bt_site *site)
{
    if (v->exit == EXIT_NONE && !v->bt.exc_pending && !intr_deliverable(v))
        return BT_RESUME;
    if (!v->bt.exc_pending)
        v->bt.next_eip = site->next_eip;
    return BT_EXIT;
}

static void count(struct vcpu *v, int kind) { v->vm->stats.callouts[kind]++; }

static int co_invalid(struct bt_cpu *cpu, const struct bt_site *site)
{
    count(vcpu_of(cpu), K_INVALID);
    return raise_fault(vcpu_of(cpu), FAULT(EXC_UD, 0), site->eip);
}

static int co_unsupported(struct vcpu *v, const struct bt_site *site, const char *what)
{
    char text[120];
    insn_format(bt_decoder(v->vm->bt), SITE_INSN(site), text, sizeof text);
    return vcpu_stop_error(v, site->eip, "guest instruction not supported yet at EIP 0x%08x: %s (%s)",
                           site->eip, text, what);
}

/* HLT: with IF clear nothing can wake the CPU, and the run ends (exit
 * status 0); with IF set the dispatcher sleeps until an interrupt. */
static int co_hlt(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    count(v, K_HLT);
    if (v->cpl > 0)
        return raise_fault(v, GP(0), site->eip);
    cpu->next_eip = site->next_eip;
    if (!cpu->vif)
        v->exit = EXIT_HALT;
    else
        v->halted = true;
    return BT_EXIT;
}

/* ---- port I/O ---------------------------------------------------------- */

/* Between two iterations of a REP string the CPU recognizes interrupts
 * (SDM vol. 2B "REP/REPE/REPZ/REPNE/REPNZ": ECX, ESI and EDI are updated
 * and EIP still points at the instruction, which resumes after the
 * handler's IRET). The monitor stops a long repetition the same way when
 * an interrupt is deliverable, a device event is due or the run must stop,
 * and in any case after REP_CHUNK iterations so that the dispatcher looks. */
#define REP_CHUNK 65536u

bool rep_should_yield(struct vcpu *v, unsigned done)
{
    return done >= REP_CHUNK || v->exit != EXIT_NONE || v->timer_fired || v->exit_req ||
           intr_deliverable(v);
}

static void set_acc(struct bt_cpu *cpu, int size, uint32_t val)
{
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    cpu->gpr[R_EAX] = (cpu->gpr[R_EAX] & ~mask) | (val & mask);
}

/* Add `step` to the low `mask` bits of a register (16-bit addressing
 * wraps SI/DI/CX within 64 KiB and keeps the upper halves). */
static void add_masked(uint32_t *reg, uint32_t mask, uint32_t step)
{
    *reg = (*reg & ~mask) | ((*reg + step) & mask);
}

/* INS/OUTS: one element, or (E)CX of them with REP (SDM vol. 2 "INS",
 * "OUTS"). The address size (0x67) picks CX/SI/DI or ECX/ESI/EDI. OUTS
 * reads DS:(E)SI, or the override's segment; INS writes ES:(E)DI, which
 * cannot be overridden. BT_RESUME when done; BT_EXIT to stop early
 * (interrupt, fault). */
static int io_string(struct vcpu *v, const struct bt_site *site, uint16_t port, int size)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    struct io_bus *io = &v->vm->io;
    bool rep = in->rep != 0, ins = in->opcode <= 0x6d;
    uint32_t amask = (in->flags & INSN_F_ADDR16) ? 0xffffu : 0xffffffffu;
    uint32_t step = (cpu->eflags & FL_DF) ? (uint32_t)-size : (uint32_t)size;
    uint32_t base = v->seg[ins ? SEG_ES : in->seg != SEG_NONE ? in->seg : SEG_DS].base;

    if (rep && !(cpu->eflags & FL_DF) && amask == 0xffffffffu)
        io_string_bulk(v, port, size, ins, base);
    for (unsigned done = 0; !rep || (cpu->gpr[R_ECX] & amask) != 0; done++) {
        if (rep && done > 0 && rep_should_yield(v, done)) {
            cpu->next_eip = site->eip;      /* the rest after the interrupt */
            return BT_EXIT;
        }
        uint32_t val = 0;
        if (ins) {
            /* The store is checked before the port is read (SDM "INS":
             * a fault leaves the port unread). */
            uint32_t lin = base + (cpu->gpr[R_EDI] & amask);
            unsigned fl = GM_WRITE | (v->cpl == 3 ? GM_USER : 0);
            if (!guest_access(v, lin, NULL, (size_t)size, fl | GM_PROBE))
                return guest_mem_fail(v, site->eip, lin, "INS writes");
            val = io_in(io, port, size);
            guest_access(v, lin, &val, (size_t)size, fl);
            add_masked(&cpu->gpr[R_EDI], amask, step);
        } else {
            uint32_t lin = base + (cpu->gpr[R_ESI] & amask);
            if (!guest_read(v, lin, &val, (size_t)size))
                return guest_mem_fail(v, site->eip, lin, "OUTS reads");
            io_out(io, port, size, val);
            add_masked(&cpu->gpr[R_ESI], amask, step);
        }
        if (!rep)
            break;
        add_masked(&cpu->gpr[R_ECX], amask, (uint32_t)-1);
    }
    return BT_RESUME;
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

    count(v, K_IO);
    /* Virtual-8086 mode: the bitmap alone decides (SDM vol. 1 §19.5.2). */
    if (v->vm86 || v->cpl > (cpu->eflags >> 12 & 3)) {
        struct fault f = io_permission(v, port, (unsigned)size);
        if (f.vec >= 0)
            return raise_fault(v, f, site->eip);
    }
    switch (op) {
    case 0xe4: case 0xe5: case 0xec: case 0xed:
        set_acc(cpu, size, io_in(io, port, size));
        break;
    case 0xe6: case 0xe7: case 0xee: case 0xef:
        io_out(io, port, size, cpu->gpr[R_EAX]);
        break;
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: {
        int r = io_string(v, site, port, size);
        if (r != BT_RESUME)
            return r;
        break;
    }
    default:
        return co_invalid(cpu, site);
    }
    /* The PIT's and RTC's next event may have moved; an EOI may let a
     * lost timer tick be caught up. */
    if ((port & ~3u) == 0x40 || port == 0x61 || (port & ~1u) == 0x70 || port == 0x20 ||
        port == 0xA0)
        events_rearm(v);
    return resume_or_exit(v, site);
}

/* SDM vol. 1 §19.5: with CPL > IOPL each port's bit in the TSS I/O
 * permission bitmap must be clear; the bitmap's offset is at TSS+102 and
 * bits beyond the TSS limit count as set. */
struct fault io_permission(struct vcpu *v, uint16_t port, unsigned size)
{
    unsigned type = v->tr.ar >> 8 & 15;
    uint16_t base = 0, bits = 0;

    if ((type != SYS_TSS32_AVAIL && type != SYS_TSS32_BUSY) || v->tr.limit < 103 ||
        !sys_read(v, v->tr.base + 102, &base, 2))
        return GP(0);
    if ((uint32_t)base + port / 8 + 1 > v->tr.limit ||
        !sys_read(v, v->tr.base + base + port / 8, &bits, 2))
        return GP(0);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        return GP(0);
    return NO_FAULT;
}

/* ---- EFLAGS ------------------------------------------------------------ */

/* PUSHF/POPF: IOPL-sensitive in virtual-8086 mode (SDM "PUSHF", "POPF":
 * #GP(0) unless IOPL is 3; CR4.VME is not offered). */
static bool v86_iopl_fault(struct vcpu *v)
{
    return v->vm86 && (v->bt.eflags >> 12 & 3) < 3;
}

static int co_pushf(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t fl = guest_eflags(cpu);   /* the image has VM and RF clear (SDM "PUSHF") */
    uint32_t esp = cpu->gpr[R_ESP];

    count(v, K_PUSHF);
    if (v86_iopl_fault(v))
        return raise_fault(v, GP(0), site->eip);
    if (!stack_push(v, &esp, in->opsize, fl, site->eip))
        return BT_EXIT;
    cpu->gpr[R_ESP] = esp;
    return BT_RESUME;
}

static int co_popf(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t val = 0, old = guest_eflags(cpu), iopl = (old >> 12) & 3, esp = cpu->gpr[R_ESP];
    uint32_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID;

    count(v, K_POPF);
    if (v86_iopl_fault(v))
        return raise_fault(v, GP(0), site->eip);
    if (!stack_pop(v, &esp, in->opsize, &val, site->eip))
        return BT_EXIT;
    /* SDM "POPF": IOPL changes only at CPL 0, IF only when CPL <= IOPL;
     * VM, VIP, VIF are unaffected and RF is cleared. */
    if (v->cpl > 0)
        mask &= ~FL_IOPL;
    if (v->cpl > iopl)
        mask &= ~FL_IF;
    if (in->opsize == 2)
        mask &= 0xffff;
    set_guest_eflags(v, val, mask);
    cpu->gpr[R_ESP] = esp;
    /* IF was just set: take the interrupt; TF was: single-step from here. */
    if (intr_deliverable(v) || (cpu->eflags & FL_TF)) {
        cpu->next_eip = site->next_eip;
        return BT_EXIT;
    }
    return BT_RESUME;
}

static int co_ud(struct bt_cpu *cpu, const struct bt_site *site)
{
    count(vcpu_of(cpu), K_UD);
    return raise_fault(vcpu_of(cpu), FAULT(EXC_UD, 0), site->eip);
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
            return raise_fault(v, FAULT(EXC_DE, 0), site->eip);
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

/* ENTER with a nesting level, a 16-bit operand size or a 16-bit stack
 * (SDM "ENTER": the frame pointers are read at SS:[EBP] or SS:[BP]). */
static int co_enter(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    uint32_t size = (uint16_t)in->imm, level = in->bytes[in->imm_off + 2] & 31;
    uint32_t osz = in->opsize, esp = cpu->gpr[R_ESP], ebp = cpu->gpr[R_EBP], frame, val;
    uint32_t m = vcpu_stack16(v) ? 0xffffu : 0xffffffffu;

    v->vm->stats.callouts[K_COUNT]++;
    if (!stack_push(v, &esp, osz, ebp, site->eip))
        return BT_EXIT;
    frame = esp & m;
    if (level > 0) {
        for (uint32_t i = 1; i < level; i++) {
            ebp = (ebp & ~m) | ((ebp - osz) & m);
            val = 0;
            if (!seg_read(v, SEG_SS, ebp & m, &val, osz, site->eip) ||
                !stack_push(v, &esp, osz, val, site->eip))
                return BT_EXIT;
        }
        if (!stack_push(v, &esp, osz, frame, site->eip))
            return BT_EXIT;
    }
    /* SDM "ENTER": EBP or BP by the stack size, not the operand size
     * (found by the Unicorn comparison: 66 C8 on a 32-bit stack). */
    gpr_write(cpu, R_EBP, m == 0xffffu ? 2 : 4, frame);
    cpu->gpr[R_ESP] = (esp & ~m) | ((esp - size) & m);
    return BT_RESUME;
}

/* Forms the translator leaves out (16-bit addresses in string, stack and
 * branch operands, XLAT and MASKMOV through a based DS, ...): the near
 * branches and ENTER in C, memop.c the forms it knows, exactly as it does
 * for device memory, bounce.c MASKMOV. */
static int co_untranslated(struct bt_cpu *cpu, const struct bt_site *site)
{
    int r;

    switch (SITE_INSN(site)->kind) {
    case K_CALL: case K_RET: case K_CALL_IND: case K_JMP_IND:
        return near_branch(vcpu_of(cpu), site);
    case K_ENTER:
        return co_enter(cpu, site);
    default:
        break;
    }
    if (memop_performs(SITE_INSN(site)))
        return co_memop(cpu, site);
    if ((r = bounce_run(vcpu_of(cpu), SITE_INSN(site), NULL)) >= 0)
        return r;
    return co_unsupported(vcpu_of(cpu), site, "this operand form is not translated yet: TODO(#2)");
}

/* An inline STI or POPF (CPL 0) found an interrupt waiting for IF: leave
 * right after it. After STI the dispatcher first runs the one-instruction
 * shadow (SDM "STI"); POPF has no shadow, so the interrupt comes at once. */
static int co_irq_window(struct bt_cpu *cpu, const struct bt_site *site)
{
    cpu->inhibit_irq = SITE_INSN(site)->kind == K_STI;
    cpu->tf_set = 0;
    cpu->next_eip = site->next_eip;
    return BT_EXIT;
}

/* An x87/MMX/SSE instruction while CR0.TS or CR0.EM is set (the block's mode
 * has BT_MODE_FPU_TRAP). SDM vol. 3A §2.5 and table 2-2: EM makes x87
 * instructions #NM and MMX/SSE ones #UD; TS makes all of them #NM; WAIT
 * faults only when TS and MP are both set. */
static int co_fpu_trap(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    bool em = v->cr0 & 4, ts = v->cr0 & 8, mp = v->cr0 & 2;

    if (in->id == X86_INS_WAIT) {
        if (ts && mp)
            return raise_fault(v, FAULT(EXC_NM, 0), site->eip);
        return BT_RESUME;           /* no pending x87 exception is modelled */
    }
    if ((in->flags & INSN_F_SSE) && em)
        return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
    if (em || ts)
        return raise_fault(v, FAULT(EXC_NM, 0), site->eip);
    cpu->next_eip = site->eip;      /* translated under a stale mode: again */
    return BT_EXIT;
}

/* Handlers that run no floating-point instruction, whatever they meet
 * (bt_handlers.no_fp): SYSENTER and SYSEXIT, the hot system call of Linux
 * on 32-bit CPUs with SEP, down to their slow paths (transfer.c,
 * derive.c, the shadow space and the code cache). Only the --stats and
 * --profile reports compute in floating point. */
static bool callout_no_fp(const struct insn *in)
{
    return in->kind == K_SYS && (in->id == X86_INS_SYSENTER || in->id == X86_INS_SYSEXIT);
}

void callouts_fill(struct bt_handlers *h)
{
    memset(h, 0, sizeof *h);
    h->invalid = co_invalid;
    h->no_fp = callout_no_fp;
    h->kind[K_HLT] = co_hlt;
    h->kind[K_IO] = co_io;
    h->kind[K_PUSHF] = co_pushf;
    h->kind[K_POPF] = co_popf;
    h->kind[K_INT] = co_int;
    h->kind[K_UD] = co_ud;
    h->kind[K_SYS] = co_sys;
    h->kind[K_IRET] = co_iret;
    h->kind[K_FAR] = co_far;
    h->kind[K_SEG] = co_seg;
    h->kind[K_CLI] = co_cli;      /* used where the translator emits a callout (CPL > 0) */
    h->kind[K_STI] = co_sti;
    h->helper[BT_HELPER_BCD] = co_bcd;
    h->helper[BT_HELPER_ENTER] = co_enter;
    h->helper[BT_HELPER_UNTRANSLATED] = co_untranslated;
    h->helper[BT_HELPER_IRQ_WINDOW] = co_irq_window;
    h->helper[BT_HELPER_FPU_TRAP] = co_fpu_trap;
    h->helper[BT_HELPER_MEMOP] = co_memop;
    h->helper[BT_HELPER_SEGLIMIT] = co_seglimit;
    h->helper[BT_HELPER_DIVIDE_ERROR] = co_divide_error;
}
