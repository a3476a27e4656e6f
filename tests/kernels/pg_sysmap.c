/* pg_sysmap — the monitor's own guest accesses with paging on (exception
 * frames, TSS and descriptor reads, descriptor Accessed-bit stores) while
 * the mappings they go through change between them. bt86 answers them from
 * an access TLB filled from its shadow (emulator/acctlb.h); every change
 * below must reach it.
 *
 *  1. The ring-0 stack (TSS.ESP0) lies at KSTK, remapped to another frame
 *     before each round by a PTE store and INVLPG, or by a PTE store and a
 *     CR3 reload: each ring-3 INT 0x80 pushes its frame into the frame now
 *     mapped, none into the one before; the PTE gets A and D (SDM vol. 3A
 *     §4.8).
 *  2. The GDT is read through an alias, GALIAS, remapped the same way to
 *     copies that differ in one data descriptor's base: each segment load
 *     sees the copy mapped now. A load of a descriptor with Accessed clear
 *     sets it (a monitor store, in that copy only) and the alias PTE's D;
 *     with Accessed already set the PTE gets A only.
 *  3. The ring-0 stack lies on a page holding translated code: the frame
 *     push overwrites a function's bytes (with the pushed EIP 0x00C39090,
 *     bytes 90 90 C3: nop; nop; ret), and the next call runs the new bytes;
 *     then once more with no kernel store in between (EIP 0x00C39190:
 *     nop; xchg %eax, %ecx; ret).
 *  4. The ring-0 stack lies on a page table that a second address space
 *     also uses: the pushed SS (0x23) lands in a PTE; after INVLPG, and in
 *     the other space after a CR3 switch, the page it names is the one the
 *     new PTE says.
 *
 * bt86 only (as the other paging tests that rely on exact shadow tracing);
 * registered with the TLB, without it (--no-access-tlb), on the slow paths
 * and with one shadow space. */
#include <stdbool.h>
#include <string.h>

#include "pg_lib.h"

#define KSTK    0x50000000u     /* the ring-0 stack's page, remapped */
#define GALIAS  0x50100000u     /* the GDT's alias, remapped */
#define CPAGE   0x50200000u     /* a code page the stack moves onto */
#define XREG    0x50400000u     /* 4 MiB mapped by PTX, shared by two spaces */
#define SEL_X   0x38u           /* gdt[7]: a data segment whose base differs per copy */
#define UINT_EIP 0x00c3908eu    /* where ring 3 runs its INT 0x80 in step 3 */

static uint32_t *pd, *pd_b;
static volatile uint32_t u_calls;

static void user_int80(void)
{
    uint32_t a;
    __asm__ volatile("int $0x80" : "=a"(a) : "b"(20), "c"(22) : "memory");
    u_calls += a == 42;
}

static void set_esp0(uint32_t esp0) { tss.esp0 = esp0; }

/* INT 0x83: a handler that touches no stack but its frame (IRET), so the
 * frame push is the only store to the page ESP0 points into; it moves
 * ESP0 to a stack of its own, so run_user's INT 0x81 pushes there. */
void int83(void);
uint32_t int83_stack[1024] __attribute__((aligned(4096)));
__asm__(".globl int83\nint83:\n\tmovl $int83_stack+4096, tss+4\n\tiret\n");
static void user_int83(void) { __asm__ volatile("int $0x83" : : : "memory"); u_calls++; }
static uint32_t kernel_esp0;

/* ---- 1. the ring-0 stack moves ---------------------------------------------- */

static void test_stack_moves(void)
{
    volatile uint32_t *pte = pg_pte(pd, KSTK);
    uint32_t *frames[6];

    for (int i = 0; i < 6; i++)
        frames[i] = pg_alloc();
    for (int round = 0; round < 24; round++) {
        uint32_t *now = frames[round % 6], *before = frames[(round + 5) % 6];
        memset(now, 0, 4096);
        memset(before, 0, 4096);
        *pte = (uint32_t)now | PG_P | PG_RW;
        if (round & 1)
            write_cr3(read_cr3());
        else
            invlpg((void *)KSTK);
        set_esp0(KSTK + 4096);
        u_calls = 0;
        run_user(user_int80, 0);
        CHECK_EQ(u_calls, 1);
        CHECK_EQ_CTX(now[1023], SEL_UDATA, "round %d", round);     /* SS */
        CHECK_EQ_CTX(now[1020] & 0xffff, SEL_UCODE, "round %d", round);    /* CS */
        CHECK_EQ_CTX(before[1023], 0, "round %d", round);
        CHECK_EQ_CTX(before[1020], 0, "round %d", round);
        CHECK_EQ_CTX(*pte & (PG_A | PG_D), PG_A | PG_D, "round %d", round);
    }
    set_esp0(kernel_esp0);
}

/* ---- 2. the GDT behind an alias --------------------------------------------- */

static uint32_t read_x0(void)
{
    uint32_t v;
    __asm__ volatile("mov %1, %%fs\n\tmov %%fs:0, %0\n\tmov %2, %%fs"
                     : "=&r"(v) : "r"(SEL_X), "r"((uint32_t)SEL_KDATA) : "memory");
    return v;
}

static void test_gdt_alias(void)
{
    volatile uint32_t *pte = pg_pte(pd, GALIAS);
    uint64_t *copy[4];
    uint32_t *data[4];

    for (int i = 0; i < 4; i++) {
        copy[i] = (uint64_t *)pg_alloc();
        data[i] = pg_alloc();
        data[i][0] = 0xd0d0d000u + (uint32_t)i;
        memcpy(copy[i], gdt, sizeof gdt);
        copy[i][SEL_X >> 3] = seg_desc((uint32_t)data[i], 0xfffff, 0x92, 0xc);   /* A clear */
    }
    *pte = (uint32_t)copy[0] | PG_P | PG_RW;
    invlpg((void *)GALIAS);
    lgdt((void *)GALIAS, sizeof gdt - 1);
    for (int round = 0; round < 16; round++) {
        int c = round % 4;
        bool accessed = round >= 4;     /* the first pass set each copy's A */
        *pte = (uint32_t)copy[c] | PG_P | PG_RW;
        if (round & 1)
            write_cr3(read_cr3());
        else
            invlpg((void *)GALIAS);
        CHECK_EQ_CTX(read_x0(), 0xd0d0d000u + (uint32_t)c, "round %d", round);
        CHECK_EQ_CTX((uint32_t)(copy[c][SEL_X >> 3] >> 40) & 1, 1, "round %d", round);
        CHECK_EQ_CTX(*pte & (PG_A | PG_D), accessed ? PG_A : PG_A | PG_D, "round %d", round);
        if (!accessed && c < 3)       /* the next copy, not loaded yet */
            CHECK_EQ_CTX((uint32_t)(copy[(c + 1) % 4][SEL_X >> 3] >> 40) & 1, 0, "round %d", round);
    }
    lgdt(gdt, sizeof gdt - 1);
}

/* ---- 3. an exception frame over translated code ----------------------------- */

static uint32_t call_with_eax(uint32_t fn, uint32_t eax)
{
    uint32_t ecx = 5;
    __asm__ volatile("call *%2" : "+a"(eax), "+c"(ecx) : "r"(fn) : "edx", "memory", "cc");
    return eax;
}

static void test_frame_over_code(void)
{
    static const uint8_t mov1_ret[6] = { 0xb8, 1, 0, 0, 0, 0xc3 };  /* mov $1, %eax; ret */
    static const uint8_t user_stub[3] = { 0xcd, 0x83, 0xc3 };      /* int $0x83; ret */
    uint8_t *code = (uint8_t *)pg_alloc();
    uint32_t off = 4096 - 64, fn = CPAGE + off;

    pg_map(pd, CPAGE, (uint32_t)code, PG_RW);
    memcpy((void *)UINT_EIP, user_stub, sizeof user_stub);
    memcpy((void *)(UINT_EIP + 0x100), user_stub, sizeof user_stub);
    for (int round = 0; round < 8; round++) {
        memcpy(code + off, mov1_ret, sizeof mov1_ret);
        CHECK_EQ_CTX(call_with_eax(fn, 2), 1, "round %d", round);      /* translated */
        CHECK_EQ_CTX(call_with_eax(fn, 3), 1, "round %d", round);
        /* The pushed EIP (after the INT at UINT_EIP) lands on the MOV. */
        set_esp0(fn + 20);
        run_user((void (*)(void))UINT_EIP, 0);      /* run_user's INT 0x81 comes after */
        set_esp0(kernel_esp0);
        CHECK_EQ_CTX(*(uint32_t *)(code + off), UINT_EIP + 2, "round %d", round);
        CHECK_EQ_CTX(call_with_eax(fn, 7), 7, "round %d", round);      /* nop; nop; ret */
        /* Again from UINT_EIP + 0x100, with no store of the kernel's in
         * between: 90 91 C3 is nop; xchg %eax, %ecx; ret. */
        set_esp0(fn + 20);
        run_user((void (*)(void))(UINT_EIP + 0x100), 0);
        set_esp0(kernel_esp0);
        CHECK_EQ_CTX(call_with_eax(fn, 7), 5, "round %d", round);
    }
}

/* ---- 4. an exception frame over a shared page table ------------------------- */

static void test_frame_over_page_table(void)
{
    uint32_t *ptx = pg_alloc(), *f1 = pg_alloc();
    uint32_t cr3 = read_cr3();
    uint32_t last = XREG + 1023 * 4096u;

    /* PTX maps XREG in both spaces; frame 0 is seen at XREG + 1023 pages
     * once the pushed SS (0x23: P|RW|A, frame 0) is its last entry. */
    pd[XREG >> 22] = (uint32_t)ptx | PG_P | PG_RW;
    pd_b[XREG >> 22] = (uint32_t)ptx | PG_P | PG_RW;
    pg_map(pd, KSTK + 0x1000, (uint32_t)ptx, PG_RW);
    pg_map(pd, XREG, 0, PG_RW);                 /* frame 0's word, for comparison */
    for (int round = 0; round < 6; round++) {
        uint32_t zero_word = peek32(XREG);
        f1[0] = 0xf1f1f100u + (uint32_t)round;
        ptx[1023] = (uint32_t)f1 | PG_P | PG_RW | PG_A | PG_D;
        invlpg((void *)last);
        write_cr3((uint32_t)pd_b);
        CHECK_EQ_CTX(peek32(last), f1[0], "round %d", round);       /* space B maps f1 */
        write_cr3(cr3);
        CHECK_EQ_CTX(peek32(last), f1[0], "round %d", round);
        set_esp0(KSTK + 0x2000);                /* the frame's SS is ptx[1023] */
        u_calls = 0;
        run_user(user_int83, 0);
        set_esp0(kernel_esp0);
        CHECK_EQ(u_calls, 1);
        CHECK_EQ_CTX(ptx[1023], SEL_UDATA, "round %d", round);
        invlpg((void *)last);
        CHECK_EQ_CTX(peek32(last), zero_word, "round %d", round);
        write_cr3((uint32_t)pd_b);
        CHECK_EQ_CTX(peek32(last), zero_word, "round %d", round);
        write_cr3(cr3);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    pd = pg_setup();
    kernel_esp0 = tss.esp0;
    pd_b = pg_kernel_pd();
    pg_map(pd, KSTK, (uint32_t)pg_alloc(), PG_RW);
    pg_map(pd, GALIAS, (uint32_t)pg_alloc(), PG_RW);
    set_gate(0x83, (uint32_t)int83, SEL_KCODE, 0xe, 3);
    pg_enable(pd);
    test_stack_moves();
    test_gdt_alias();
    test_frame_over_code();
    test_frame_over_page_table();
    test_finish("pg_sysmap");
}
