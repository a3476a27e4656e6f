/* sysinsn — K_SYS: the system instructions (SDM vol. 2 under each name).
 *
 * Descriptor-table registers (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR),
 * control and debug registers (MOV CRn/DRn, CLTS, LMSW, SMSW), the
 * processor identity and counters (CPUID, RDTSC, RDMSR, WRMSR, RDPMC),
 * cache and TLB control (INVD, WBINVD, INVLPG), BOUND, and the selector
 * probes and SYSENTER/SYSEXIT, which live in seginsn.c and transfer.c.
 *
 * Privilege: the decoder marks with INSN_F_PRIV what needs CPL 0 outright
 * (#GP(0) otherwise); RDTSC and RDPMC depend on CR4.TSD/PCE. */
#include <capstone/capstone.h>
#include <string.h>
#include <x86intrin.h>

#include "emulator/cpuid_ext.h"
#include "emulator/paging.h"

/* What a CR4 write may set: DE TSD PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT.
 * VME/PVI (no virtual-8086 mode) and bits 11+ are reserved: #GP. */
#define CR4_VALID 0x7fcu

/* CPUID.1:EDX — a plain i686 with what bt86 emulates: FPU, PSE (4 MiB
 * pages), TSC, MSR, PAE (with NX: cpuid_ext.c), CX8, SEP, PGE (CR4.PGE
 * and G are accepted; the required flushes are done, and every TLB entry
 * is treated as non-global, walk.h), CMOV, PAT (its bits are honoured as
 * not reserved, walk.h), MMX, FXSR, SSE, SSE2. */
#define CPUID1_EDX ((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | \
                    (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 23) | (1u << 24) | \
                    (1u << 25) | (1u << 26))

static int gp0(struct vcpu *v, const struct bt_site *site) { return raise_fault(v, GP(0), site->eip); }
static int ud(struct vcpu *v, const struct bt_site *site)
{
    return raise_fault(v, FAULT(EXC_UD, 0), site->eip);
}

/* ---- descriptor-table registers --------------------------------------- */

static int load_dtable(struct vcpu *v, const struct bt_site *site, struct dtable *t)
{
    const struct insn *in = SITE_INSN(site);
    uint32_t off, limit = 0, base = 0;
    int seg;

    if (in->mod == 3)
        return ud(v, site);
    seg = op_ea(v, in, &off);
    if (!seg_read(v, seg, off, &limit, 2, site->eip) || !seg_read(v, seg, off + 2, &base, 4, site->eip))
        return BT_EXIT;
    t->limit = (uint16_t)limit;
    t->base = in->opsize == 2 ? base & 0xffffff : base;   /* SDM "LGDT/LIDT": 24-bit base */
    if (t == &v->idtr)
        v->idt_loaded = true;
    return BT_EXIT;
}

static int store_dtable(struct vcpu *v, const struct bt_site *site, const struct dtable *t)
{
    const struct insn *in = SITE_INSN(site);
    uint8_t img[6];
    uint32_t off;
    int seg;

    if (in->mod == 3)
        return ud(v, site);
    memcpy(img, &t->limit, 2);
    memcpy(img + 2, &t->base, 4);
    seg = op_ea(v, in, &off);
    seg_write(v, seg, off, img, 6, site->eip);
    return BT_EXIT;
}

/* LLDT (SDM "LLDT"): a null selector leaves LDTR unusable. */
static int lldt(struct vcpu *v, const struct bt_site *site)
{
    uint32_t sel = 0;
    struct desc d;

    if (!op_read_rm(v, SITE_INSN(site), 2, &sel, site->eip))
        return BT_EXIT;
    if ((sel & 0xfffc) == 0) {
        v->ldtr = (struct segreg){ .sel = (uint16_t)sel };
        return BT_EXIT;
    }
    if ((sel & 4) || !desc_read(v, (uint16_t)sel, &d) || desc_s(d) || desc_type(d) != SYS_LDT)
        return raise_fault(v, GP(sel & 0xfffc), site->eip);
    if (!desc_present(d))
        return raise_fault(v, FAULT(EXC_NP, sel & 0xfffc), site->eip);
    seg_from_desc(&v->ldtr, (uint16_t)sel, d);
    return BT_EXIT;
}

/* LTR (SDM "LTR"): an available TSS, which the load marks busy. */
static int ltr(struct vcpu *v, const struct bt_site *site)
{
    uint32_t sel = 0;
    struct desc d;
    uint8_t type_byte;

    if (!op_read_rm(v, SITE_INSN(site), 2, &sel, site->eip))
        return BT_EXIT;
    if ((sel & 0xfffc) == 0)
        return gp0(v, site);
    if ((sel & 4) || !desc_read(v, (uint16_t)sel, &d) || desc_s(d) ||
        (desc_type(d) != SYS_TSS32_AVAIL && desc_type(d) != SYS_TSS16_AVAIL))
        return raise_fault(v, GP(sel & 0xfffc), site->eip);
    if (!desc_present(d))
        return raise_fault(v, FAULT(EXC_NP, sel & 0xfffc), site->eip);
    d.hi |= 0x200;                                          /* busy */
    type_byte = (uint8_t)(d.hi >> 8);
    if (!sys_write(v, v->gdtr.base + (sel & 0xfff8) + 5, &type_byte, 1) && v->pf.pending)
        return raise_fault(v, pf_take(v, NO_FAULT), site->eip);
    seg_from_desc(&v->tr, (uint16_t)sel, d);
    return BT_EXIT;
}

/* ---- control and debug registers -------------------------------------- */

static int write_cr0(struct vcpu *v, const struct bt_site *site, uint32_t val)
{
    uint32_t old = v->cr0;

    /* Reserved bits are ignored on a write; ET is hardwired (P6). */
    val = (val & (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |
                  CR0_PG)) | CR0_ET;
    if (((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
        return gp0(v, site);
    /* SDM vol. 3A §4.1.2: PG (with PE) turns 32-bit paging on or off (PAE:
     * CR4.PAE, refused by paging_sync); WP changes what supervisor writes
     * may do. The callout ends the block, so the next instruction is
     * fetched under the new mode; with TS or EM set, x87/MMX/SSE
     * instructions are translated as callouts that raise #NM or #UD
     * (fpu_trap in callouts.c). */
    /* §4.4.1: turning PAE paging on (or changing CD/NW under it) loads
     * the PDPTE registers; a reserved bit in one is #GP(0), CR0 kept. */
    if (paging_pae(val, v->cr4) && ((old ^ val) & (CR0_PG | CR0_CD | CR0_NW)) &&
        !paging_load_pdptes(v, v->cr3))
        return gp0(v, site);
    v->cr0 = val;
    paging_cr_written(v, 0, old);
    if ((old ^ val) & CR0_PE)
        cr0_pe_changed(v);          /* real mode (realmode.c), or back */
    if ((old ^ val) & CR0_FPU_TRAP_BITS)
        vcpu_mode_changed(v);       /* x87/SSE trap to the monitor, or stop trapping */
    return BT_EXIT;
}

static int mov_cr(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned cr = in->reg;
    uint32_t val = cpu->gpr[in->rm];

    if (cr == 1 || cr > 4)
        return ud(v, site);
    if (in->opcode == 0x20) {
        static const size_t at[5] = { offsetof(struct vcpu, cr0), 0, offsetof(struct vcpu, cr2),
                                      offsetof(struct vcpu, cr3), offsetof(struct vcpu, cr4) };
        cpu->gpr[in->rm] = *(const uint32_t *)(const void *)((const char *)v + at[cr]);
        return BT_EXIT;
    }
    switch (cr) {
    case 0: return write_cr0(v, site, val);
    case 2: v->cr2 = val; return BT_EXIT;
    case 3: {
        /* SDM vol. 3A §4.3: the page-directory base, PWT, PCD; §4.4.1: with
         * PAE paging the PDPT base in bits 31:5, whose four PDPTEs are
         * loaded now (#GP(0), CR3 kept, if one has reserved bits). The load
         * flushes the guest's TLB (here: the jump caches). */
        uint32_t old = v->cr3;
        if (paging_pae(v->cr0, v->cr4) && !paging_load_pdptes(v, val))
            return gp0(v, site);
        v->cr3 = val & 0xfffffff8u;
        if (!paging_cr_written(v, 3, old))
            return BT_EXIT;
        return callout_continue(v);     /* hot in kernels: no round trip */
    }
    default: {
        uint32_t old = v->cr4;
        if (val & ~CR4_VALID)
            return gp0(v, site);
        /* §4.4.1: PAE paging turned on, or PGE/PSE changed under it. */
        if (paging_pae(v->cr0, val) && ((old ^ val) & (CR4_PAE | CR4_PGE | CR4_PSE)) &&
            !paging_load_pdptes(v, v->cr3))
            return gp0(v, site);
        v->cr4 = val;
        paging_cr_written(v, 4, old);
        if ((old ^ val) & CR4_TSD)
            vcpu_mode_changed(v);   /* RDTSC at CPL > 0: inline, or a callout that checks TSD */
        return BT_EXIT;
    }
    }
}

/* MOV DRn (SDM "MOV-Move to/from Debug Registers"; vol. 3B §17.2). CPL 0
 * only (co_sys); with DR7.GD set any access is a #DB fault with DR6.BD;
 * DR4/DR5 alias DR6/DR7 unless CR4.DE, which makes them #UD. DR6 and DR7
 * read back with their fixed bits (P6: DR6 bits 4-11 and 16-31 set, bit
 * 12 clear; DR7 bit 10 set, 11-12 and 14-15 clear). Execution breakpoints
 * are armed at once (debugexc.c); data and I/O breakpoints are kept but
 * never fire. */
static int mov_dr(struct vcpu *v, const struct bt_site *site)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = SITE_INSN(site);
    unsigned dr = in->reg;
    uint32_t val = cpu->gpr[in->rm];

    if (v->dr[7] & DR7_GD)
        return dbx_raise(v, DR6_BD, site->eip);
    if (dr == 4 || dr == 5) {
        if (v->cr4 & CR4_DE)
            return ud(v, site);
        dr += 2;
    }
    if (in->opcode == 0x21) {
        cpu->gpr[in->rm] = v->dr[dr];
        return BT_EXIT;
    }
    if (dr == 6)
        v->dr[6] = (val & 0x0000e00fu) | DR6_FIXED;
    else if (dr == 7)
        v->dr[7] = (val & 0xffff23ffu) | DR7_FIXED;
    else
        v->dr[dr] = val;
    if (dr != 6)
        dbx_rearm(v);
    return BT_EXIT;
}

static int smsw_lmsw(struct vcpu *v, const struct bt_site *site, bool load)
{
    const struct insn *in = SITE_INSN(site);
    uint32_t val = 0;

    if (!load) {
        /* SMSW r32 stores all of CR0 on P6 and later; memory gets 16 bits. */
        op_write_rm(v, in, in->mod == 3 ? in->opsize : 2, v->cr0, site->eip);
        return BT_EXIT;
    }
    if (!op_read_rm(v, in, 2, &val, site->eip))
        return BT_EXIT;
    /* LMSW: PE MP EM TS only, and it cannot clear PE. */
    uint32_t old = v->cr0;
    v->cr0 = (v->cr0 & ~0xeu) | (val & 0xfu);
    if ((old ^ v->cr0) & CR0_PE)
        cr0_pe_changed(v);
    if ((old ^ v->cr0) & CR0_FPU_TRAP_BITS)
        vcpu_mode_changed(v);
    return BT_EXIT;
}

/* ---- identity and counters -------------------------------------------- */

/* CPUID.1:ECX[31] is reserved (0) on real CPUs and set by hypervisors, which
 * then name themselves at leaf 0x40000000 (max hypervisor leaf in EAX, a
 * 12-byte signature in EBX ECX EDX), as KVM, VMware, Hyper-V and Xen do.
 * Guests use it to stop doing what only makes sense on hardware: Linux, for
 * one, keeps its microcode loader off (check_loader_disabled_bsp). */
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_END  0x4fffffffu
#define CPUID_HV_SIGNATURE "bt86bt86bt86"
/* What IA32_BIOS_SIGN_ID reports after CPUID(1): no microcode update loaded. */
#define MICROCODE_REVISION 0u

/* CPUID.1:EDX.APIC (bit 9): the machine has a local APIC and
 * IA32_APIC_BASE has it enabled (SDM vol. 3A §10.4.3). */
#define CPUID1_EDX_APIC (1u << 9)

static void cpuid(struct vcpu *v)
{
    struct bt_cpu *cpu = &v->bt;
    uint32_t leaf = cpu->gpr[R_EAX], a = 0, b = 0, c = 0, d = 0;

    if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_END) {
        if (leaf == CPUID_HV_BASE) {
            a = CPUID_HV_BASE;   /* the only hypervisor leaf */
            memcpy(&b, CPUID_HV_SIGNATURE, 4);
            memcpy(&c, CPUID_HV_SIGNATURE + 4, 4);
            memcpy(&d, CPUID_HV_SIGNATURE + 8, 4);
        }
        cpu->gpr[R_EAX] = a; cpu->gpr[R_EBX] = b; cpu->gpr[R_ECX] = c; cpu->gpr[R_EDX] = d;
        return;
    }
    if ((leaf > 2 && leaf < 0x80000000u) || leaf > CPUID_EXT_MAX)
        leaf = 2;                /* beyond the last basic or extended leaf: Intel repeats it */
    switch (leaf) {
    case 0:
        a = 2;
        memcpy(&b, "Genu", 4); memcpy(&d, "ineI", 4); memcpy(&c, "ntel", 4);
        break;
    case 1:
        a = 0x0683;              /* family 6, model 8, stepping 3 */
        c = CPUID1_ECX_HYPERVISOR;
        d = CPUID1_EDX & ~v->vm->cfg.cpuid_edx_clear;     /* -cpu */
        if (v->vm->has_apic && lapic_hw_enabled(&v->vm->lapic) &&
            !(v->vm->cfg.cpuid_edx_clear & CPUID1_EDX_APIC))    /* -cpu ...,-apic */
            d |= CPUID1_EDX_APIC;
        /* SDM vol. 3A §10.11.7.1: CPUID(1) loads the microcode revision
         * into IA32_BIOS_SIGN_ID[63:32]. */
        v->bios_sign_id = (uint64_t)MICROCODE_REVISION << 32;
        break;
    case 2:
        a = 0x03020101u;         /* cache and TLB descriptors of a P6 */
        d = 0x0c040843u;
        break;
    default:
        if (leaf >= 0x80000000u)
            cpuid_ext(leaf, &a, &b, &c, &d);
        if (leaf == 0x80000001u)
            d &= ~v->vm->cfg.cpuid_ext_edx_clear;       /* -cpu */
        break;
    }
    cpu->gpr[R_EAX] = a; cpu->gpr[R_EBX] = b; cpu->gpr[R_ECX] = c; cpu->gpr[R_EDX] = d;
}

void cpuid_signature(struct vcpu *v, uint32_t *signature, uint32_t *features)
{
    uint32_t saved[8];
    memcpy(saved, v->bt.gpr, sizeof saved);
    v->bt.gpr[R_EAX] = 1;
    cpuid(v);
    *signature = v->bt.gpr[R_EAX];
    *features = v->bt.gpr[R_EDX];
    memcpy(v->bt.gpr, saved, sizeof saved);
}

static uint64_t guest_tsc(const struct vcpu *v) { return __rdtsc() + v->bt.tsc_offset; }

enum { MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b, MSR_BIOS_UPDT_TRIG = 0x79,
       MSR_BIOS_SIGN_ID = 0x8b, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
       MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0, MSR_PAT = 0x277 };

/* IA32_MISC_ENABLE: fast strings on (bit 0), branch trace store and PEBS
 * unavailable (bits 11, 12); bit 7 (performance monitoring available)
 * clear. Software may toggle fast strings and the CPUID limit (bit 22, a
 * no-op here: the last basic leaf is 2 anyway). */
#define MISC_ENABLE_RESET    0x1801ull
#define MISC_ENABLE_WRITABLE ((1ull << 0) | (1ull << 22))
/* IA32_PAT power-on value: WB WT UC- UC, twice (SDM vol. 3A §11.12.4). */
#define PAT_RESET 0x0007040600070406ull

void msr_reset(struct vcpu *v)
{
    v->pat = PAT_RESET;
    v->misc_enable = MISC_ENABLE_RESET;
    v->bios_sign_id = 0;
}

/* SDM vol. 3A §11.12.2: memory types 2, 3 and 8-255 are reserved; a WRMSR
 * putting one in any PAT entry is #GP(0). */
static bool pat_valid(uint64_t val)
{
    for (int i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(val >> (8 * i));
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

static int msr(struct vcpu *v, const struct bt_site *site, bool write)
{
    struct bt_cpu *cpu = &v->bt;
    uint64_t val = (uint64_t)cpu->gpr[R_EDX] << 32 | cpu->gpr[R_EAX];

    switch (cpu->gpr[R_ECX]) {
    case MSR_TSC:
        if (write)
            v->bt.tsc_offset = val - __rdtsc();
        else
            val = guest_tsc(v);
        break;
    case MSR_APIC_BASE:         /* isapc: no APIC, the MSR reads 0 */
        if (!v->vm->has_apic)
            val = 0;
        else if (!write)
            val = lapic_get_base(&v->vm->lapic);
        else if (!lapic_set_base(&v->vm->lapic, val))
            return gp0(v, site);
        break;
    case MSR_PLATFORM_ID:       /* read-only; platform ID 0 in bits 52:50 */
        if (write)
            return gp0(v, site);
        val = 0;
        break;
    case MSR_BIOS_UPDT_TRIG:    /* write-only: a microcode update is never accepted */
        if (!write)
            return gp0(v, site);
        break;
    case MSR_BIOS_SIGN_ID:      /* software writes 0, runs CPUID(1), reads (cpuid) */
        if (write)
            v->bios_sign_id = val;
        else
            val = v->bios_sign_id;
        break;
    case MSR_MISC_ENABLE:
        if (write && ((val ^ v->misc_enable) & ~MISC_ENABLE_WRITABLE))
            return gp0(v, site);
        if (write)
            v->misc_enable = val;
        else
            val = v->misc_enable;
        break;
    case MSR_PAT:               /* memory types are not emulated: stored, checked */
        if (write && !pat_valid(val))
            return gp0(v, site);
        if (write)
            v->pat = val;
        else
            val = v->pat;
        break;
    case MSR_SYSENTER_CS:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP: {
        uint32_t *r = cpu->gpr[R_ECX] == MSR_SYSENTER_CS ? &v->sysenter_cs
                    : cpu->gpr[R_ECX] == MSR_SYSENTER_ESP ? &v->sysenter_esp : &v->sysenter_eip;
        if (write)
            *r = (uint32_t)val;
        else
            val = *r;
        break;
    }
    case MSR_EFER:
        if (!write) {
            val = v->efer;
            break;
        }
        if (val & ~EFER_WRITABLE)
            return gp0(v, site);
        {
            uint64_t old = v->efer;
            v->efer = val;
            paging_efer_written(v, old);
        }
        break;
    default:
        return gp0(v, site);
    }
    if (!write) {
        cpu->gpr[R_EAX] = (uint32_t)val;
        cpu->gpr[R_EDX] = (uint32_t)(val >> 32);
    }
    return BT_EXIT;
}

/* BOUND r, m (SDM "BOUND"): #BR unless lower <= r <= upper, signed. */
static int bound(struct vcpu *v, const struct bt_site *site)
{
    const struct insn *in = SITE_INSN(site);
    unsigned n = in->opsize;
    uint32_t off, lo = 0, hi = 0;
    int32_t idx = (int32_t)v->bt.gpr[in->reg];
    int seg;

    if (in->mod == 3)
        return ud(v, site);
    seg = op_ea(v, in, &off);
    if (!seg_read(v, seg, off, &lo, n, site->eip) || !seg_read(v, seg, off + n, &hi, n, site->eip))
        return BT_EXIT;
    if (n == 2) {
        idx = (int16_t)idx;
        lo = (uint32_t)(int32_t)(int16_t)lo;
        hi = (uint32_t)(int32_t)(int16_t)hi;
    }
    if (idx < (int32_t)lo || idx > (int32_t)hi)
        return raise_fault(v, FAULT(EXC_BR, 0), site->eip);
    return BT_EXIT;
}

int co_sys(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);

    v->vm->stats.callouts[K_SYS]++;
    cpu->next_eip = site->next_eip;
    /* Protected-mode-only instructions are #UD in real and virtual-8086
     * mode (SDM "LLDT", "LTR", "SLDT", "STR", "LAR", "LSL", "VERR", "ARPL"). */
    if (vcpu_seg_real(v) &&
        (in->id == X86_INS_LLDT || in->id == X86_INS_LTR || in->id == X86_INS_SLDT ||
         in->id == X86_INS_STR || in->id == X86_INS_LAR || in->id == X86_INS_LSL ||
         in->id == X86_INS_VERR || in->id == X86_INS_VERW || in->id == X86_INS_ARPL))
        return ud(v, site);
    if ((in->flags & INSN_F_PRIV) && v->cpl > 0)
        return gp0(v, site);
    switch (in->id) {
    case X86_INS_LGDT: return load_dtable(v, site, &v->gdtr);
    case X86_INS_LIDT: return load_dtable(v, site, &v->idtr);
    case X86_INS_SGDT: return store_dtable(v, site, &v->gdtr);
    case X86_INS_SIDT: return store_dtable(v, site, &v->idtr);
    case X86_INS_LLDT: return lldt(v, site);
    case X86_INS_LTR: return ltr(v, site);
    case X86_INS_SLDT:
    case X86_INS_STR:
        op_write_rm(v, in, in->mod == 3 ? in->opsize : 2,
                    in->id == X86_INS_STR ? v->tr.sel : v->ldtr.sel, site->eip);
        return BT_EXIT;
    case X86_INS_LAR: case X86_INS_LSL: case X86_INS_VERR: case X86_INS_VERW: case X86_INS_ARPL:
        return seg_insn_lar(v, site);
    case X86_INS_SMSW: return smsw_lmsw(v, site, false);
    case X86_INS_LMSW: return smsw_lmsw(v, site, true);
    case X86_INS_CLTS:
        if (v->cr0 & CR0_TS) {
            v->cr0 &= ~CR0_TS;
            vcpu_mode_changed(v);
        }
        return BT_EXIT;
    case X86_INS_MOV:
        return (in->opcode & ~2u) == 0x20 ? mov_cr(v, site) : mov_dr(v, site);
    case X86_INS_INVD:
    case X86_INS_WBINVD:
        return BT_EXIT;
    case X86_INS_INVLPG: {      /* SDM "INVLPG": no fault, whatever the page's state */
        uint32_t off;
        int seg;
        if (in->mod == 3)
            return ud(v, site);
        seg = op_ea(v, in, &off);
        paging_invlpg(v, v->seg[seg].base + off);
        return callout_continue(v);
    }
    case X86_INS_CPUID:
        cpuid(v);
        return BT_EXIT;
    case X86_INS_RDTSC: {
        uint64_t t;
        if ((v->cr4 & CR4_TSD) && v->cpl > 0)
            return gp0(v, site);
        t = guest_tsc(v);
        cpu->gpr[R_EAX] = (uint32_t)t;
        cpu->gpr[R_EDX] = (uint32_t)(t >> 32);
        return BT_EXIT;
    }
    case X86_INS_RDPMC:         /* two counters that count nothing */
        if (cpu->gpr[R_ECX] > 1 || ((v->cr4 & CR4_PCE) == 0 && v->cpl > 0))
            return gp0(v, site);
        cpu->gpr[R_EAX] = cpu->gpr[R_EDX] = 0;
        return BT_EXIT;
    case X86_INS_RDMSR: return msr(v, site, false);
    case X86_INS_WRMSR: return msr(v, site, true);
    case X86_INS_BOUND: return bound(v, site);
    case X86_INS_SYSENTER: return sys_sysenter(v, site);
    case X86_INS_SYSEXIT: return sys_sysexit(v, site);
    default:                    /* MONITOR, MWAIT: not advertised */
        return ud(v, site);
    }
}
