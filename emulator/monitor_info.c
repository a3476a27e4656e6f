/* monitor_info — HMP 'info' items: registers, cpus, status, mem, tlb, jit.
 * The formats follow QEMU's (target/i386 x86_cpu_dump_state, mem_info and
 * tlb_info), so scripts that read them work. */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "emulator/monitor_int.h"
#include "emulator/paging.h"
#include "emulator/profile.h"

static void info_registers(struct monitor *m, FILE *out)
{
    static const char *const seg_names[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    struct vcpu *v = m->vm->vcpu;
    struct vm_regs r;
    char fl[8];

    vm_get_regs(m->vm, &r);
    snprintf(fl, sizeof fl, "%c%c%c%c%c%c%c", r.eflags & 0x800 ? 'O' : '-',
             r.eflags & 0x400 ? 'D' : '-', r.eflags & 0x80 ? 'S' : '-', r.eflags & 0x40 ? 'Z' : '-',
             r.eflags & 0x10 ? 'A' : '-', r.eflags & 0x4 ? 'P' : '-', r.eflags & 0x1 ? 'C' : '-');
    fprintf(out, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", r.gpr[0], r.gpr[3], r.gpr[1], r.gpr[2]);
    fprintf(out, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", r.gpr[6], r.gpr[7], r.gpr[5], r.gpr[4]);
    fprintf(out, "EIP=%08x EFL=%08x [%s] CPL=%u II=0 A20=1 SMM=0 HLT=%d\n", r.eip, r.eflags, fl,
            v->cpl, v->halted);
    for (int i = 0; i < 6; i++)
        fprintf(out, "%-3s=%04x %08x %08x %08x\n", seg_names[i], v->seg[i].sel, v->seg[i].base,
                v->seg[i].limit, v->seg[i].ar);
    fprintf(out, "LDT=%04x %08x %08x %08x\n", v->ldtr.sel, v->ldtr.base, v->ldtr.limit, v->ldtr.ar);
    fprintf(out, "TR =%04x %08x %08x %08x\n", v->tr.sel, v->tr.base, v->tr.limit, v->tr.ar);
    fprintf(out, "GDT=     %08x %08x\nIDT=     %08x %08x\n", v->gdtr.base, v->gdtr.limit,
            v->idtr.base, v->idtr.limit);
    fprintf(out, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", v->cr0, v->cr2, v->cr3, v->cr4);
    fprintf(out, "DR0=%08x DR1=%08x DR2=%08x DR3=%08x\nDR6=%08x DR7=%08x\n", v->dr[0], v->dr[1],
            v->dr[2], v->dr[3], v->dr[6], v->dr[7]);
}

/* ---- the guest's page tables (SDM vol. 3A §4.3 32-bit, §4.4 PAE) ------------ */

#define PTE_P 1u
#define PTE_W 2u
#define PTE_U 4u
#define PTE_PS 0x80u
#define PTE_NX (1ull << 63)

typedef void page_fn(void *ctx, uint32_t va, uint64_t pa, uint64_t size, uint64_t pte);

static uint64_t read_entry(struct vcpu *v, uint64_t gpa, bool wide)
{
    uint64_t e = 0;
    if (gpa >= (1ull << 32) || !phys_read(v, (uint32_t)gpa, &e, wide ? 8 : 4))
        return 0;
    return e;
}

/* The leaf entry's flags with W and U as the whole walk grants them. */
static uint64_t combine(uint64_t upper, uint64_t leaf)
{
    return leaf & (upper | ~(uint64_t)(PTE_W | PTE_U));
}

/* Every present page of the table at gpa covering va (level 1: PT). */
static void walk_table(struct vcpu *v, uint64_t gpa, uint32_t va, int level, bool pae, uint64_t up,
                       page_fn *fn, void *ctx)
{
    unsigned n = pae ? 512 : 1024, shift = level == 1 ? 12 : pae ? 21 : 22;
    uint64_t addr_mask = pae ? 0x000ffffffffff000ull : 0xfffff000ull;

    for (unsigned i = 0; i < n; i++) {
        uint64_t e = read_entry(v, gpa + (uint64_t)i * (pae ? 8 : 4), pae);
        uint32_t a = va + ((uint32_t)i << shift);
        if (!(e & PTE_P))
            continue;
        if (level == 1)
            fn(ctx, a, e & addr_mask, 4096, combine(up, e));
        else if ((e & PTE_PS) && (pae || (v->cr4 & CR4_PSE)))
            fn(ctx, a, e & (pae ? 0x000fffffffe00000ull : 0xffc00000ull), 1ull << shift, combine(up, e));
        else
            walk_table(v, e & addr_mask, a, 1, pae, combine(up, e) | (e & PTE_NX), fn, ctx);
    }
}

static bool walk_pages(struct vcpu *v, page_fn *fn, void *ctx, FILE *out)
{
    if (!(v->cr0 & CR0_PG)) {
        fprintf(out, "PG disabled\n");
        return false;
    }
    if (v->cr4 & CR4_PAE) {
        for (uint32_t k = 0; k < 4; k++) {      /* PDPTEs have no R/W or U/S bits */
            uint64_t e = read_entry(v, (v->cr3 & ~0x1fu) + k * 8, true);
            if (e & PTE_P)
                walk_table(v, e & 0x000ffffffffff000ull, k << 30, 2, true, PTE_W | PTE_U, fn, ctx);
        }
    } else {
        walk_table(v, v->cr3 & ~0xfffu, 0, 2, false, PTE_W | PTE_U, fn, ctx);
    }
    return true;
}

static void print_tlb(void *ctx, uint32_t va, uint64_t pa, uint64_t size, uint64_t e)
{
    (void)size;
    fprintf(ctx, "%08x: %08llx %c%c%c%c%c%c%c%c%c\n", va, (unsigned long long)pa,
            e & PTE_NX ? 'X' : '-', e & 0x100 ? 'G' : '-', size > 4096 ? 'P' : '-',
            e & 0x40 ? 'D' : '-', e & 0x20 ? 'A' : '-', e & 0x10 ? 'C' : '-', e & 0x8 ? 'T' : '-',
            e & PTE_U ? 'U' : '-', e & PTE_W ? 'W' : '-');
}

/* info mem: runs of pages with the same protection, merged. */
struct mem_run {
    FILE *out;
    uint64_t start, end;
    unsigned prot;              /* U W, or ~0u: none yet */
};

static void mem_flush(struct mem_run *r)
{
    if (r->prot != ~0u)
        fprintf(r->out, "%08llx-%08llx %08llx %c%c%c\n", (unsigned long long)r->start,
                (unsigned long long)r->end, (unsigned long long)(r->end - r->start),
                r->prot & PTE_U ? 'u' : '-', 'r', r->prot & PTE_W ? 'w' : '-');
    r->prot = ~0u;
}

static void mem_page(void *ctx, uint32_t va, uint64_t pa, uint64_t size, uint64_t e)
{
    struct mem_run *r = ctx;
    unsigned prot = (unsigned)(e & (PTE_U | PTE_W));
    (void)pa;
    if (r->prot != prot || r->end != va) {
        mem_flush(r);
        r->start = va;
        r->prot = prot;
    }
    r->end = (uint64_t)va + size;
}

static void info_jit(struct monitor *m, FILE *out)
{
    vm_print_stats(m->vm, out);
    profile_print_split(out);
}

bool hmp_info(struct monitor *m, const char *item, FILE *out)
{
    struct vcpu *v = m->vm->vcpu;

    if (strcmp(item, "registers") == 0) {
        info_registers(m, out);
    } else if (strcmp(item, "cpus") == 0) {
        fprintf(out, "* CPU #0: thread_id=%d\n", (int)getpid());
    } else if (strcmp(item, "status") == 0) {
        fprintf(out, "VM status: %s\n", m->running ? "running" : m->postmigrate ? "paused (postmigrate)" : "paused");
    } else if (strcmp(item, "tlb") == 0) {
        walk_pages(v, print_tlb, out, out);
    } else if (strcmp(item, "mem") == 0) {
        struct mem_run r = { .out = out, .prot = ~0u };
        if (walk_pages(v, mem_page, &r, out))
            mem_flush(&r);
    } else if (strcmp(item, "migrate") == 0) {
        hmp_info_migrate(m, out);
    } else if (strcmp(item, "jit") == 0) {
        info_jit(m, out);
    } else if (strcmp(item, "snapshots") == 0) {
        fprintf(out, "not supported: snapshots are files (savevm FILE, loadvm FILE, -loadvm FILE)\n");
    } else {
        return false;
    }
    return true;
}
