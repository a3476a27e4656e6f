/* nano — the nanobenchmark kernel: what one sensitive operation costs.
 *
 * After Adams & Agesen, "A Comparison of Software and Hardware Techniques
 * for x86 Virtualization" (ASPLOS 2006): each benchmark runs a loop of n
 * iterations, each holding UNROLL copies of one operation, between two
 * RDTSC reads; the same loop without the operation is timed too and
 * subtracted. The best of TRIALS runs (after one warm-up run, which in a
 * translator also pays for translation) is reported as
 *
 *     nano <name> <TSC ticks per operation, one decimal>
 *
 * on COM1, then the kernel leaves through isa-debug-exit with value 0.
 * Under QEMU TCG and bt86 the guest's RDTSC reads the host's TSC, so the
 * numbers are host TSC ticks and compare directly between the two.
 *
 * Command line (Multiboot): the names of the benchmarks to run, or "all".
 * Words that are not names but look like a path (QEMU passes the kernel's
 * file name first) are skipped. With no name the kernel lists them.
 *
 * Needs: "sys" benchmarks need the IDT, rings and exceptions of issue 4;
 * "mmu" ones need paging and the shadow MMU of issue 5. They run in QEMU
 * today and will fail in bt86 until those land (the harness shows "-"). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNROLL 10
#define TRIALS 5
#define REP10(s) s s s s s s s s s s

/* boot.S */
extern const uint32_t exc_stubs[32];
void isr_unexpected(void), isr_iret(void), isr_de_skip(void), isr_pf_skip(void);
void isr_leave_user(void), nano_ret(void), sysenter_exit(void);
void enter_user(void (*fn)(void), uint32_t user_esp);

/* ---- Port I/O, COM1, exit ---------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_serial(char c)
{
    for (int i = 0; i < 100000 && !(inb(0x3F8 + 5) & 0x20); i++)   /* LSR.THRE */
        ;
    outb(0x3F8, (uint8_t)c);
}

static void puts_serial(const char *s)
{
    while (*s) {
        if (*s == '\n')
            putc_serial('\r');
        putc_serial(*s++);
    }
}

static void put_u64(uint64_t v)
{
    char buf[24];
    int i = 0;
    do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i)
        putc_serial(buf[--i]);
}

static void put_hex(uint32_t v)
{
    puts_serial("0x");
    for (int s = 28; s >= 0; s -= 4)
        putc_serial("0123456789abcdef"[(v >> s) & 15]);
}

static _Noreturn void nano_exit(uint8_t value)
{
    outb(0xF4, value);                 /* isa-debug-exit: status (value << 1) | 1 */
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- Descriptor tables ------------------------------------------------- */

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};

struct gate { uint16_t off_lo, sel; uint8_t zero, attr; uint16_t off_hi; };

enum { SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_UCODE = 0x1B, SEL_UDATA = 0x23, SEL_TSS = 0x28 };

static uint64_t gdt[6];
static struct gate idt[256];
static struct tss tss;
static uint8_t kstack[16384] __attribute__((aligned(16)));   /* ring-0 stack for ring-3 traps */
static uint8_t ustack[16384] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xFFFFull) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)access << 40)
         | ((uint64_t)((limit >> 16) & 0xF) << 48) | ((uint64_t)(flags & 0xF) << 52)
         | ((uint64_t)(base >> 24) << 56);
}

static void set_gate(int v, void (*fn)(void), int dpl)
{
    uint32_t off = (uint32_t)(uintptr_t)fn;
    idt[v] = (struct gate){ (uint16_t)off, SEL_KCODE, 0, (uint8_t)(0x8E | dpl << 5), (uint16_t)(off >> 16) };
}

/* Our own GDT (with ring-3 segments and a TSS) and IDT. Only the benchmarks
 * that need them load them, so that the others run on a monitor without
 * LGDT/LIDT/LTR: Multiboot's flat segments are all they need. */
static void setup_tables(void)
{
    gdt[0] = 0;
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9A, 0xC);      /* ring-0 code, flat */
    gdt[2] = seg_desc(0, 0xFFFFF, 0x92, 0xC);      /* ring-0 data */
    gdt[3] = seg_desc(0, 0xFFFFF, 0xFA, 0xC);      /* ring-3 code */
    gdt[4] = seg_desc(0, 0xFFFFF, 0xF2, 0xC);      /* ring-3 data */
    gdt[5] = seg_desc((uint32_t)(uintptr_t)&tss, sizeof tss - 1, 0x89, 0x0);  /* 32-bit TSS */
    tss.ss0 = SEL_KDATA;
    tss.esp0 = (uint32_t)(uintptr_t)(kstack + sizeof kstack);
    tss.iomap = sizeof tss;                        /* no I/O bitmap */

    for (int v = 0; v < 256; v++)
        set_gate(v, v < 32 ? (void (*)(void))(uintptr_t)exc_stubs[v] : isr_unexpected, 0);
    set_gate(0x30, isr_iret, 0);
    set_gate(0x80, isr_iret, 3);
    set_gate(0x81, isr_leave_user, 3);

    struct __attribute__((packed)) { uint16_t limit; uint32_t base; }
        gdtr = { sizeof gdt - 1, (uint32_t)(uintptr_t)gdt },
        idtr = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp $0x08, $1f\n"
        "1:\n\t"
        "mov $0x10, %%ax\n\t"
        "mov %%ax, %%ds\n\t" "mov %%ax, %%es\n\t" "mov %%ax, %%ss\n\t"
        "mov %%ax, %%fs\n\t" "mov %%ax, %%gs\n\t"
        "lidt %1\n\t"
        "mov $0x28, %%ax\n\t"
        "ltr %%ax"
        :: "m"(gdtr), "m"(idtr) : "eax", "memory");
}

/* Called by boot.S for any exception we did not expect. */
struct exc_frame { uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax, vector, error, eip, cs, eflags; };

void nano_exception(const struct exc_frame *f)
{
    puts_serial("nano: unexpected ");
    if (f->vector == 255) {
        puts_serial("interrupt");
    } else {
        puts_serial("exception ");
        put_u64(f->vector);
        puts_serial(" error ");
        put_hex(f->error);
    }
    puts_serial(" at eip ");
    put_hex(f->eip);
    puts_serial("\n");
    nano_exit(1);
}

/* ---- Paging (identity map of the first 8 MiB, 4 KiB pages) ------------- */

#define PG_P  0x001u
#define PG_RW 0x002u
#define PG_U  0x004u
#define FAULT_PAGE 0x00700000u      /* kept not-present: the page-fault benchmark */
#define PTE_PAGE   0x00701000u      /* its PTE is rewritten: the PTE benchmark */

static uint32_t pgdir[1024] __attribute__((aligned(4096)));
static uint32_t pgtab[2][1024] __attribute__((aligned(4096)));

static void paging_on(void)
{
    for (uint32_t i = 0; i < 2048; i++)
        pgtab[i / 1024][i % 1024] = (i << 12) | PG_P | PG_RW;
    pgtab[FAULT_PAGE >> 22][(FAULT_PAGE >> 12) & 1023] = 0;
    pgdir[0] = (uint32_t)(uintptr_t)pgtab[0] | PG_P | PG_RW;
    pgdir[1] = (uint32_t)(uintptr_t)pgtab[1] | PG_P | PG_RW;
    __asm__ volatile(
        "mov %0, %%cr3\n\t"
        "mov %%cr0, %%eax\n\t"
        "or $0x80000000, %%eax\n\t"
        "mov %%eax, %%cr0"
        :: "r"(pgdir) : "eax", "memory");
}

static void paging_off(void)
{
    __asm__ volatile(
        "mov %%cr0, %%eax\n\t"
        "and $0x7FFFFFFF, %%eax\n\t"
        "mov %%eax, %%cr0"
        ::: "eax", "memory");
}

/* ---- The benchmarks ---------------------------------------------------- */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

/* Each returns the TSC ticks of n iterations of UNROLL operations. */
typedef uint64_t (*bench_fn)(uint32_t n);

static uint64_t b_empty(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) :: "cc");
    return rdtsc() - t0;
}

static uint64_t b_regmov(uint32_t n)      /* mov ebx,eax; mov eax,ebx: a copied pair */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov %%eax, %%ebx\n\tmov %%ebx, %%eax\n\t") "dec %0\n\tjnz 1b"
                     : "+r"(n) :: "eax", "ebx", "cc");
    return rdtsc() - t0;
}

static uint64_t b_callret(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("call nano_ret\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_cli_sti(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("cli\n\tsti\n\t") "dec %0\n\tjnz 1b\n\tcli" : "+r"(n) :: "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_pushf_popf(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("pushf\n\tpopf\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_rdtsc(uint32_t n)       /* the guest's own RDTSC (CR4.TSD clear) */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("rdtsc\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "eax", "edx", "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_in80(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("inb $0x80, %%al\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "eax", "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_int_iret(uint32_t n)    /* ring 0 to ring 0 */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("int $0x30\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_div0(uint32_t n)        /* div ecx with ecx = 0; the handler skips it */
{
    uint32_t zero = 0;
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10(".byte 0xF7, 0xF1\n\t") "dec %0\n\tjnz 1b"
                     : "+r"(n) : "c"(zero) : "eax", "edx", "cc", "memory");
    return rdtsc() - t0;
}

/* The syscall benchmark runs entirely at CPL 3 (RDTSC is allowed there
 * while CR4.TSD is clear); enter_user calls this with its input and output
 * in globals. */
static volatile uint32_t user_n;
static volatile uint64_t user_ticks;

static void user_syscall_loop(void)
{
    uint32_t n = user_n;
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("int $0x80\n\t") "dec %0\n\tjnz 1b" : "+r"(n) :: "cc", "memory");
    user_ticks = rdtsc() - t0;
}

static uint64_t b_syscall(uint32_t n)
{
    user_n = n;
    enter_user(user_syscall_loop, (uint32_t)(uintptr_t)(ustack + sizeof ustack));
    return user_ticks;
}

/* SYSENTER from ring 3 to a ring-0 SYSEXIT (the fast system call Linux
 * uses through its vDSO when CPUID reports SEP): EDX and ECX carry the
 * return EIP and ESP; the MSRs name the kernel's CS (SYSEXIT derives the
 * user selectors from it: +16 and +24, RPL 3), stack and entry. */
static inline void wrmsr(uint32_t msr, uint32_t lo)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"(lo), "d"(0u));
}

static void user_sysenter_loop(void)
{
    uint32_t n = user_n;
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov $2f, %%edx\n\tmov %%esp, %%ecx\n\tsysenter\n2:\n\t")
                     "dec %0\n\tjnz 1b" : "+r"(n) :: "ecx", "edx", "cc", "memory");
    user_ticks = rdtsc() - t0;
}

static uint64_t b_sysenter(uint32_t n)
{
    wrmsr(0x174, SEL_KCODE);                                   /* IA32_SYSENTER_CS */
    wrmsr(0x175, (uint32_t)(uintptr_t)(kstack + sizeof kstack)); /* IA32_SYSENTER_ESP */
    wrmsr(0x176, (uint32_t)(uintptr_t)sysenter_exit);          /* IA32_SYSENTER_EIP */
    user_n = n;
    enter_user(user_sysenter_loop, (uint32_t)(uintptr_t)(ustack + sizeof ustack));
    return user_ticks;
}

static uint64_t b_cr3_write(uint32_t n)   /* reload the same CR3: a full (non-global) TLB flush */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov %1, %%cr3\n\t") "dec %0\n\tjnz 1b"
                     : "+r"(n) : "r"(pgdir) : "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_pgfault(uint32_t n)     /* mov eax,[ebx] on a not-present page; the handler skips it */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10(".byte 0x8B, 0x03\n\t") "dec %0\n\tjnz 1b"
                     : "+r"(n) : "b"(FAULT_PAGE) : "eax", "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_ptemod(uint32_t n)      /* store to a live PTE, alternating two frames */
{
    uint32_t *pte = &pgtab[PTE_PAGE >> 22][(PTE_PAGE >> 12) & 1023];
    uint32_t a = PTE_PAGE | PG_P | PG_RW, b = (PTE_PAGE + 0x1000) | PG_P | PG_RW;
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov %2, (%1)\n\t" "mov %3, (%1)\n\t") "dec %0\n\tjnz 1b"
                     : "+r"(n) : "r"(pte), "r"(b), "r"(a) : "cc", "memory");
    return rdtsc() - t0;
}

/* Issue 5's own list: a CR3 switch between two address spaces and a touch;
 * a PTE update + INVLPG + touch; a page-fault round trip whose handler maps
 * the page; a fork-like burst. PTEs are written with A set, as Linux's page
 * protections have it. */
#define TOUCH_PAGE 0x00702000u      /* touched after a CR3 switch */
#define MAP_PAGE   0x00703000u      /* mapped by the #PF handler, unmapped by the loop */
#define PG_A  0x020u

static uint32_t pgdir2[1024] __attribute__((aligned(4096)));
static uint32_t forktab[2][1024] __attribute__((aligned(4096)));
volatile uint32_t *pf_map_pte;      /* isr_pf_map writes it */
void isr_pf_map(void);
__asm__(".text\n"
        "isr_pf_map:\n"                /* the error code is on top */
        "    push %eax\n"
        "    mov pf_map_pte, %eax\n"
        "    movl $0x00703023, (%eax)\n"   /* MAP_PAGE | A | RW | P */
        "    pop %eax\n"
        "    add $4, %esp\n"
        "    iret\n");

static volatile uint32_t *pte_of(uint32_t lin) { return &pgtab[lin >> 22][(lin >> 12) & 1023]; }

static void spaces_on(void)
{
    paging_on();
    for (int i = 0; i < 1024; i++)
        pgdir2[i] = pgdir[i];
}

static uint64_t b_cr3_switch(uint32_t n)  /* two address spaces, a load after each switch */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov %2, %%cr3\n\tmov (%1), %%eax\n\t"
                                     "mov %3, %%cr3\n\tmov (%1), %%eax\n\t")
                     "dec %0\n\tjnz 1b"
                     : "+r"(n) : "r"(TOUCH_PAGE), "r"(pgdir2), "r"(pgdir) : "eax", "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_pte_invlpg(uint32_t n)  /* PTE store + INVLPG + load, alternating two frames */
{
    volatile uint32_t *pte = pte_of(PTE_PAGE);
    uint32_t a = PTE_PAGE | PG_P | PG_RW | PG_A, b = (PTE_PAGE + 0x1000) | PG_P | PG_RW | PG_A;
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov %2, (%1)\n\tinvlpg (%4)\n\tmov (%4), %%eax\n\t"
                                     "mov %3, (%1)\n\tinvlpg (%4)\n\tmov (%4), %%eax\n\t")
                     "dec %0\n\tjnz 1b"
                     : "+r"(n) : "r"(pte), "r"(b), "r"(a), "r"(PTE_PAGE) : "eax", "cc", "memory");
    *pte = a;
    return rdtsc() - t0;
}

static uint64_t b_pgfault_map(uint32_t n) /* load from a not-present page the handler maps; unmap */
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1:\n\t" REP10("mov (%1), %%eax\n\tmovl $0, (%2)\n\tinvlpg (%1)\n\t")
                     "dec %0\n\tjnz 1b"
                     : "+r"(n) : "r"(MAP_PAGE), "r"(pf_map_pte) : "eax", "cc", "memory");
    return rdtsc() - t0;
}

static uint64_t b_fork(uint32_t n)        /* copy a 4 MiB page table, switch to it, touch, back */
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *to = forktab[i & 1], d, s, c;
        __asm__ volatile("rep movsl" : "=D"(d), "=S"(s), "=c"(c)
                         : "0"(to), "1"(pgtab[1]), "2"(1024) : "memory");
        pgdir2[1] = (uint32_t)(uintptr_t)to | PG_P | PG_RW;
        __asm__ volatile("mov %1, %%cr3\n\tmov (%0), %%eax\n\tmov %2, %%cr3"
                         :: "r"(TOUCH_PAGE), "r"(pgdir2), "r"(pgdir) : "eax", "memory");
    }
    return rdtsc() - t0;
}

/* A hidden fault: the first touch of a page the guest's tables allow but
 * the TLB (the shadow) does not hold. Outside the timed part, the
 * Accessed bit of HIDDEN_PAGES PTEs 16 pages apart (no prefetch group
 * shares two) is cleared and the page INVLPGed, as a kernel's page aging
 * does; the touches are timed, one load each. */
#define HIDDEN_BASE  0x00408000u     /* clear of the pages at 0x700000-0x703000 */
#define HIDDEN_PAGES 64

static uint64_t b_hidden(uint32_t n)
{
    uint64_t total = 0;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t t0;
        for (uint32_t p = 0; p < HIDDEN_PAGES; p++) {
            uint32_t lin = HIDDEN_BASE + p * 0x10000u;
            *pte_of(lin) &= ~PG_A;
            __asm__ volatile("invlpg (%0)" :: "r"(lin) : "memory");
        }
        t0 = rdtsc();
        for (uint32_t p = 0; p < HIDDEN_PAGES; p++)
            __asm__ volatile("mov (%0), %%eax" :: "r"(HIDDEN_BASE + p * 0x10000u) : "eax", "memory");
        total += rdtsc() - t0;
    }
    return total;
}

static void pfmap_on(void)
{
    paging_on();
    pf_map_pte = pte_of(MAP_PAGE);
    *pf_map_pte = 0;
    set_gate(14, isr_pf_map, 0);
}

static void spaces_off(void) { pgdir2[1] = pgdir[1]; paging_off(); }

enum need { NEED_NONE, NEED_SYS, NEED_MMU };

struct bench {
    const char *name;
    bench_fn fn;
    uint32_t n;           /* iterations; each runs ops_per_iter operations */
    uint32_t ops_per_iter;
    enum need need;
    void (*setup)(void);
    void (*teardown)(void);
};

static void de_on(void)  { set_gate(0, isr_de_skip, 0); }
static void de_off(void) { set_gate(0, (void (*)(void))(uintptr_t)exc_stubs[0], 0); }
static void pf_on(void)  { paging_on(); set_gate(14, isr_pf_skip, 0); }
/* Paging on with every page user-accessible: the ring changes of the
 * system-call benchmarks then switch between the user and supervisor
 * views of one address space, as in a real kernel. */
static void paging_user_on(void)
{
    paging_on();
    for (uint32_t i = 0; i < 2048; i++)
        pgtab[i / 1024][i % 1024] |= PG_U;
    pgdir[0] |= PG_U;
    pgdir[1] |= PG_U;
    __asm__ volatile("mov %0, %%cr3" :: "r"(pgdir) : "memory");
}
static void pf_off(void) { set_gate(14, (void (*)(void))(uintptr_t)exc_stubs[14], 0); paging_off(); }

static const struct bench benches[] = {
    { "regmov",     b_regmov,     100000, UNROLL,     NEED_NONE, 0, 0 },
    { "callret",    b_callret,    20000,  UNROLL,     NEED_NONE, 0, 0 },
    { "cli_sti",    b_cli_sti,    20000,  UNROLL,     NEED_NONE, 0, 0 },
    { "pushf_popf", b_pushf_popf, 20000,  UNROLL,     NEED_NONE, 0, 0 },
    { "in80",       b_in80,       2000,   UNROLL,     NEED_NONE, 0, 0 },
    { "rdtsc",      b_rdtsc,      20000,  UNROLL,     NEED_NONE, 0, 0 },
    { "int_iret",   b_int_iret,   2000,   UNROLL,     NEED_SYS,  0, 0 },
    { "syscall",    b_syscall,    2000,   UNROLL,     NEED_SYS,  0, 0 },
    { "int_iret_pg", b_int_iret, 2000,   UNROLL,     NEED_MMU,  paging_user_on, paging_off },
    { "syscall_pg", b_syscall,    2000,   UNROLL,     NEED_MMU,  paging_user_on, paging_off },
    { "sysenter",   b_sysenter,   2000,   UNROLL,     NEED_SYS,  0, 0 },
    { "sysenter_pg", b_sysenter,  2000,   UNROLL,     NEED_MMU,  paging_user_on, paging_off },
    { "div0",       b_div0,       1000,   UNROLL,     NEED_SYS,  de_on, de_off },
    { "cr3_write",  b_cr3_write,  1000,   UNROLL,     NEED_MMU,  paging_on, paging_off },
    { "pgfault",    b_pgfault,    1000,   UNROLL,     NEED_MMU,  pf_on, pf_off },
    { "ptemod",     b_ptemod,     1000,   2 * UNROLL, NEED_MMU,  paging_on, paging_off },
    { "cr3_switch", b_cr3_switch, 1000,   2 * UNROLL, NEED_MMU,  spaces_on, spaces_off },
    { "pte_invlpg", b_pte_invlpg, 200,    2 * UNROLL, NEED_MMU,  paging_on, paging_off },
    { "pgfault_map", b_pgfault_map, 200,  UNROLL,     NEED_MMU,  pfmap_on, pf_off },
    { "fork",       b_fork,       50,     1,          NEED_MMU,  spaces_on, spaces_off },
    { "hidden",     b_hidden,     50,     HIDDEN_PAGES, NEED_MMU, paging_on, paging_off },
};
#define NBENCH ((int)(sizeof benches / sizeof benches[0]))

static uint64_t best_of(bench_fn fn, uint32_t n)
{
    uint64_t best = UINT64_MAX;
    fn(n);                              /* warm-up: translation, caches */
    for (int t = 0; t < TRIALS; t++) {
        uint64_t v = fn(n);
        if (v < best)
            best = v;
    }
    return best;
}

static void run_bench(const struct bench *b)
{
    static bool tables_loaded;
    if (b->need != NEED_NONE && !tables_loaded) {
        setup_tables();
        tables_loaded = true;
    }
    if (b->setup)
        b->setup();
    uint64_t op = best_of(b->fn, b->n);
    uint64_t empty = best_of(b_empty, b->n);
    if (b->teardown)
        b->teardown();
    uint64_t ops = (uint64_t)b->n * b->ops_per_iter;
    /* Tenths of a tick per operation, rounded; clamp at 0 (noise can make
     * a free operation come out below the empty loop). */
    uint64_t tenths = op > empty ? ((op - empty) * 10 + ops / 2) / ops : 0;
    puts_serial("nano ");
    puts_serial(b->name);
    putc_serial(' ');
    put_u64(tenths / 10);
    putc_serial('.');
    put_u64(tenths % 10);
    puts_serial("\n");
}

/* ---- Command line ------------------------------------------------------ */

struct multiboot_info { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline; };

static bool word_eq(const char *w, int len, const char *s)
{
    for (int i = 0; i < len; i++)
        if (s[i] != w[i])
            return false;
    return s[len] == 0;
}

static bool looks_like_path(const char *w, int len)
{
    for (int i = 0; i < len; i++)
        if (w[i] == '/' || w[i] == '.')
            return true;
    return false;
}

static void list_benches(void)
{
    puts_serial("nano: benchmarks:");
    for (int i = 0; i < NBENCH; i++) {
        putc_serial(' ');
        puts_serial(benches[i].name);
    }
    puts_serial("\n");
}

void nano_main(uint32_t magic, const struct multiboot_info *mbi)
{
    /* Mask both PICs: STI in the CLI/STI benchmark must not let the timer in. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    if (magic != 0x2BADB002) {
        puts_serial("nano: not started by a Multiboot loader\n");
        nano_exit(1);
    }
    const char *cmd = (mbi->flags & 4) ? (const char *)(uintptr_t)mbi->cmdline : "";
    int ran = 0;
    while (*cmd) {
        while (*cmd == ' ')
            cmd++;
        const char *w = cmd;
        while (*cmd && *cmd != ' ')
            cmd++;
        int len = (int)(cmd - w);
        if (len == 0 || looks_like_path(w, len))
            continue;
        if (word_eq(w, len, "list")) {
            list_benches();
            ran++;
            continue;
        }
        bool all = word_eq(w, len, "all"), found = false;
        for (int i = 0; i < NBENCH; i++) {
            if (all || word_eq(w, len, benches[i].name)) {
                run_bench(&benches[i]);
                found = true;
                ran++;
            }
        }
        if (!found) {
            puts_serial("nano: unknown benchmark '");
            for (int i = 0; i < len; i++)
                putc_serial(w[i]);
            puts_serial("'\n");
            list_benches();
            nano_exit(1);
        }
    }
    if (!ran)
        list_benches();
    nano_exit(0);
}
