/* sys_seg.c — GDT/LDT, segment-register loads and their faults, far
 * transfers, and the selector probes (SDM vol. 2 MOV, POP, LDS/LSS, JMP,
 * CALL, RET, LAR, LSL, VERR, VERW, ARPL; vol. 3 §5). Self-checking. */
#include "sys_lib.h"

enum { S_DATA = 7, S_CODE = 8, S_NP = 9, S_RO = 10, S_XO = 11, S_DPL3 = 12, S_CONF = 13,
       S_BIGLIM = 14, S_SYS = 15 };
#define SEL(slot) ((slot) * 8)

static uint16_t load_ds_try(uint16_t sel)
{
    uint16_t out;
    trap_reset();
    /* DS = kernel data; a load that faults leaves it so. */
    __asm__ volatile("mov %2, %%ds\n\t" TRY_BEGIN "mov %1, %%ds" TRY_END "mov %%ds, %0\n\tmov %2, %%ds"
                     : "=&r"(out) : "r"(sel), "r"((uint16_t)SEL_KDATA) : "memory");
    return out;
}

static void test_data_loads(void)
{
    /* A good load: selector visible, accessed bit set in the descriptor. */
    gdt[S_DATA] = seg_desc(0, 0xfffff, 0x92, 0xc);
    CHECK_EQ(load_ds_try(SEL(S_DATA)), SEL(S_DATA));
    CHECK_NO_TRAP();
    CHECK(gdt[S_DATA] & (1ull << 40));
    /* Null selectors load into DS (RPL ignored). */
    CHECK_EQ(load_ds_try(3), 3);
    CHECK_NO_TRAP();
    /* Beyond the GDT limit: #GP(selector). */
    CHECK_EQ(load_ds_try(GDT_SLOTS * 8), SEL_KDATA);
    CHECK_TRAP(13, GDT_SLOTS * 8);
    /* Not present: #NP(selector). */
    gdt[S_NP] = seg_desc(0, 0xfffff, 0x12, 0xc);
    load_ds_try(SEL(S_NP));
    CHECK_TRAP(11, SEL(S_NP));
    /* Execute-only code: #GP; readable code is fine. */
    gdt[S_XO] = seg_desc(0, 0xfffff, 0x98, 0xc);
    load_ds_try(SEL(S_XO));
    CHECK_TRAP(13, SEL(S_XO));
    CHECK_EQ(load_ds_try(SEL_KCODE), SEL_KCODE);
    CHECK_NO_TRAP();
    /* A system descriptor: #GP. */
    load_ds_try(SEL_TSS);
    CHECK_TRAP(13, SEL_TSS);
    /* RPL > DPL: #GP; DPL 3 data with RPL 3 is fine at CPL 0. */
    load_ds_try(SEL_KDATA | 3);
    CHECK_TRAP(13, SEL_KDATA);
    CHECK_EQ(load_ds_try(SEL_UDATA), SEL_UDATA);
    CHECK_NO_TRAP();
    /* LDT selector (TI=1). */
    ldt[1] = seg_desc(0, 0xfffff, 0x92, 0xc);
    __asm__ volatile("lldt %0" : : "r"((uint16_t)SEL_LDT));
    CHECK_EQ(load_ds_try(8 | 4), 8 | 4);
    CHECK_NO_TRAP();
    load_ds_try(LDT_SLOTS * 8 | 4);
    CHECK_TRAP(13, LDT_SLOTS * 8 | 4);
    __asm__ volatile("lldt %0" : : "r"((uint16_t)0));
    load_ds_try(8 | 4);                         /* no LDT: #GP */
    CHECK_TRAP(13, 8 | 4);
}

static void test_ss_loads(void)
{
    uint16_t ss;
    /* Null SS: #GP(0). Read-only data: #GP(sel). Not present: #SS(sel). */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%ss" TRY_END : : "r"((uint16_t)0) : "memory");
    CHECK_TRAP(13, 0);
    gdt[S_RO] = seg_desc(0, 0xfffff, 0x90, 0xc);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%ss" TRY_END : : "r"((uint16_t)SEL(S_RO)) : "memory");
    CHECK_TRAP(13, SEL(S_RO));
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%ss" TRY_END : : "r"((uint16_t)SEL(S_NP)) : "memory");
    CHECK_TRAP(12, SEL(S_NP));
    /* DPL 3 stack at CPL 0: #GP. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%ss" TRY_END : : "r"((uint16_t)SEL_UDATA) : "memory");
    CHECK_TRAP(13, SEL_UDATA & ~3);
    /* A good one, then back. */
    trap_reset();
    __asm__ volatile("mov %1, %%ss\n\tmov %%ss, %0\n\tmov %2, %%ss"
                     : "=r"(ss) : "r"((uint16_t)SEL(S_DATA)), "r"((uint16_t)SEL_KDATA));
    CHECK_EQ(ss, SEL(S_DATA));
    CHECK_NO_TRAP();
}

static void test_push_pop_lxs(void)
{
    uint32_t a, b, c;
    struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp = { 0x12345678, SEL(S_DATA) };
    /* push ds; pop eax: the selector zero-extended; pop fs. */
    __asm__ volatile("push %%ds\n\tpop %0\n\tpushl %2\n\tpop %%fs\n\tmov %%fs, %1\n\tmov %3, %%fs"
                     : "=r"(a), "=r"(b) : "i"(SEL(S_DATA)), "r"((uint16_t)SEL_KDATA));
    CHECK_EQ(a, SEL_KDATA);
    CHECK_EQ(b, SEL(S_DATA));
    /* mov eax, ds (32-bit register: zero-extended); mov word [mem], ss. */
    a = 0xffffffff;
    __asm__ volatile("movl %%ds, %0" : "+r"(a));
    CHECK_EQ(a, SEL_KDATA);
    uint32_t mem = 0xaaaaaaaa;
    __asm__ volatile("movw %%ss, %0" : "+m"(mem));
    CHECK_EQ(mem, 0xaaaa0000u | SEL_KDATA);
    /* lgs/les: selector and offset. */
    __asm__ volatile("lgs %2, %0\n\tmov %%gs, %1\n\tmov %3, %%gs" : "=&r"(a), "=&r"(b) : "m"(fp),
                     "r"((uint16_t)SEL_KDATA));
    CHECK_EQ(a, 0x12345678);
    CHECK_EQ(b, SEL(S_DATA));
    /* A faulting lds leaves the destination register alone. */
    fp.sel = SEL(S_NP);
    c = 0x55;
    trap_reset();
    __asm__ volatile(TRY_BEGIN "lds %1, %0" TRY_END : "+r"(c) : "m"(fp) : "memory");
    CHECK_TRAP(11, SEL(S_NP));
    CHECK_EQ(c, 0x55);
    CHECK_EQ(read_seg_ds(), SEL_KDATA);
    /* pop into a bad selector: #GP, ESP unchanged. */
    trap_reset();
    __asm__ volatile("mov %%esp, %0\n\tpushl $0x7ff8\n\t" TRY_BEGIN "pop %%es" TRY_END
                     "mov %%esp, %1\n\tadd $4, %%esp" : "=&r"(a), "=&r"(b) : : "memory");
    CHECK_TRAP(13, 0x7ff8);
    CHECK_EQ(b, a - 4);
}

static volatile uint32_t far_hits;
void far_target(void);
void far_callee(void);
__asm__(".globl far_target\nfar_target:\n\tincl far_hits\n\tret\n"
        ".globl far_callee\nfar_callee:\n\tincl far_hits\n\tmov %cs, %eax\n\tlret\n");

static void test_far(void)
{
    uint32_t cs;
    struct __attribute__((packed)) { uint32_t off; uint16_t sel; } fp;
    gdt[S_CODE] = seg_desc(0, 0xfffff, 0x9a, 0xc);
    far_hits = 0;
    /* ljmp to another code selector and back. */
    __asm__ volatile("ljmp %1, $1f\n1:\n\tmov %%cs, %0\n\tljmp $0x08, $2f\n2:"
                     : "=r"(cs) : "i"(SEL(S_CODE)));
    CHECK_EQ(cs, SEL(S_CODE));
    /* lcall through memory, lret: CS is pushed, the callee sees its own. */
    fp.off = (uint32_t)far_callee;
    fp.sel = SEL(S_CODE);
    __asm__ volatile("lcall *%1" : "=a"(cs) : "m"(fp) : "memory");
    CHECK_EQ(cs, SEL(S_CODE));
    CHECK_EQ(far_hits, 1);
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    CHECK_EQ(cs, SEL_KCODE);
    /* lcall ptr16:32 direct. */
    __asm__ volatile("lcall $0x40, $far_callee" : "=a"(cs) : : "memory");
    CHECK_EQ(cs, SEL(S_CODE));
    /* lret $8: pops the extra bytes. */
    uint32_t before, after;
    __asm__ volatile("mov %%esp, %0\n\tpush $0\n\tpush $0\n\tpush %%cs\n\tpush $1f\n\tlret $8\n1:\n\tmov %%esp, %1"
                     : "=&r"(before), "=&r"(after));
    CHECK_EQ(after, before);
    /* Faults: to a data segment, to a DPL 3 code segment, to a not-present one. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x10, $0" TRY_END ::: "memory");
    CHECK_TRAP(13, SEL_KDATA);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x1b, $0" TRY_END ::: "memory");
    CHECK_TRAP(13, SEL_UCODE & ~3);
    gdt[S_NP] = seg_desc(0, 0xfffff, 0x1a, 0xc);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp %0, $0" TRY_END : : "i"(SEL(S_NP)) : "memory");
    CHECK_TRAP(11, SEL(S_NP));
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0, $0" TRY_END ::: "memory");
    CHECK_TRAP(13, 0);
    /* A conforming DPL 3 code segment may be jumped to from CPL 0... no:
     * conforming needs DPL <= CPL; DPL 0 conforming is fine, CS.RPL = CPL. */
    gdt[S_CONF] = seg_desc(0, 0xfffff, 0x9e, 0xc);
    __asm__ volatile("ljmp %1, $1f\n1:\n\tmov %%cs, %0\n\tljmp $0x08, $2f\n2:" : "=r"(cs) : "i"(SEL(S_CONF) | 3));
    CHECK_EQ(cs, SEL(S_CONF));
    /* Beyond the limit: #GP(0). */
    gdt[S_CODE] = seg_desc(0, 0x10, 0x9a, 0x4);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp %0, $0x20000" TRY_END : : "i"(SEL(S_CODE)) : "memory");
    CHECK_TRAP(13, 0);
}

static void test_probes(void)
{
    uint32_t v;
    uint8_t zf;
    gdt[S_DATA] = seg_desc(0x123456, 0x5678, 0x92, 0x4);        /* byte granular */
    gdt[S_BIGLIM] = seg_desc(0, 0x12, 0x9a, 0xc);               /* 4 KiB granular */
    __asm__ volatile("lar %2, %0\n\tsetz %1" : "=r"(v), "=q"(zf) : "r"((uint32_t)SEL(S_DATA)));
    CHECK_EQ(zf, 1);
    CHECK_EQ(v, 0x00409200u);           /* D=1, P, DPL 0, data r/w, not accessed */
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "=r"(v), "=q"(zf) : "r"((uint32_t)SEL(S_DATA)));
    CHECK_EQ(zf, 1);
    CHECK_EQ(v, 0x5678);
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "=r"(v), "=q"(zf) : "r"((uint32_t)SEL(S_BIGLIM)));
    CHECK_EQ(v, 0x12fff);
    __asm__ volatile("lar %2, %0\n\tsetz %1" : "=r"(v), "=q"(zf) : "r"((uint32_t)SEL_TSS));
    CHECK_EQ(zf, 1);
    CHECK_EQ(v & 0xff00, 0x8b00);       /* busy 32-bit TSS */
    v = 0x77;
    __asm__ volatile("lar %2, %0\n\tsetz %1" : "+r"(v), "=q"(zf) : "r"((uint32_t)0));
    CHECK_EQ(zf, 0);
    CHECK_EQ(v, 0x77);
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "=r"(v), "=q"(zf) : "r"((uint32_t)GDT_SLOTS * 8));
    CHECK_EQ(zf, 0);
    /* VERR/VERW */
    __asm__ volatile("verr %1\n\tsetz %0" : "=q"(zf) : "r"((uint16_t)SEL_KCODE));
    CHECK_EQ(zf, 1);
    __asm__ volatile("verw %1\n\tsetz %0" : "=q"(zf) : "r"((uint16_t)SEL_KCODE));
    CHECK_EQ(zf, 0);
    __asm__ volatile("verw %1\n\tsetz %0" : "=q"(zf) : "r"((uint16_t)SEL_KDATA));
    CHECK_EQ(zf, 1);
    __asm__ volatile("verr %1\n\tsetz %0" : "=q"(zf) : "r"((uint16_t)SEL(S_XO)));
    CHECK_EQ(zf, 0);
    /* ARPL: raises the RPL of the destination. */
    uint16_t d = 0x10;
    __asm__ volatile("arpl %2, %0\n\tsetz %1" : "+r"(d), "=q"(zf) : "r"((uint16_t)3));
    CHECK_EQ(d, 0x13);
    CHECK_EQ(zf, 1);
    __asm__ volatile("arpl %2, %0\n\tsetz %1" : "+r"(d), "=q"(zf) : "r"((uint16_t)1));
    CHECK_EQ(d, 0x13);
    CHECK_EQ(zf, 0);
}

static void test_tables(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } g, i;
    uint32_t tr = 0xffffffff, ldtr = 0xffffffff;
    __asm__ volatile("sgdt %0\n\tsidt %1" : "=m"(g), "=m"(i));
    CHECK_EQ(g.base, (uint32_t)gdt);
    CHECK_EQ(g.limit, sizeof gdt - 1);
    CHECK_EQ(i.base, (uint32_t)idt);
    CHECK_EQ(i.limit, sizeof idt - 1);
    __asm__ volatile("str %0\n\tsldt %1" : "+r"(tr), "+r"(ldtr));
    CHECK_EQ(tr, SEL_TSS);
    CHECK_EQ(ldtr, 0);
    /* LTR of a busy TSS: #GP; LLDT of a non-LDT: #GP. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ltr %0" TRY_END : : "r"((uint16_t)SEL_TSS) : "memory");
    CHECK_TRAP(13, SEL_TSS);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "lldt %0" TRY_END : : "r"((uint16_t)SEL_KDATA) : "memory");
    CHECK_TRAP(13, SEL_KDATA);
    /* The TSS descriptor was marked busy by LTR. */
    CHECK_EQ((gdt[5] >> 40) & 0xf, 0xb);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_data_loads();
    test_ss_loads();
    test_push_pop_lxs();
    test_far();
    test_probes();
    test_tables();
    test_finish("sys_seg");
}
