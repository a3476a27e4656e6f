/* sys_openbus.c — instructions on the open bus, across the 4 GiB wrap and
 * with forms the translator leaves to the monitor (issue #15 item 7; found
 * by tests/fuzz). Physical addresses that are neither RAM nor a device
 * read all-ones and drop writes (as on a PC), whatever instruction
 * touches them: x87, MMX, MUL, PUSH/POP with ESP there; a fetch from there
 * reads FF FF, a reserved encoding, so it is #UD at that EIP (SDM vol. 2D
 * table A-6). A PUSH with ESP = 2 writes two bytes below 4 GiB (open bus)
 * and two at 0 (SDM vol. 3A §6.5: the stack wraps like any address).
 * 16-bit addresses in string operands use SI/DI/CX and keep the upper
 * halves; XLAT adds DS's base. Paging stays off. */
#include "sys_lib.h"

#define OB 0x80000000u          /* open bus: above RAM, no device */

static uint8_t buf[16] __attribute__((aligned(16)));
static volatile uintptr_t low_page = 0;     /* physical 0, hidden from the compiler */

static void x87_mmx_mul(void)
{
    uint32_t lo, hi;
    double d;
    int32_t i;

    __asm__ volatile("fldl (%1)\n\tfstpl %0" : "=m"(d) : "r"(OB) : "memory");
    uint64_t bits;
    __builtin_memcpy(&bits, &d, 8);
    CHECK_EQ(bits, 0xffffffffffffffffull);                 /* the all-ones NaN, unchanged */
    __asm__ volatile("fildl (%1)\n\tfistpl %0" : "=m"(i) : "r"(OB + 8) : "memory");
    CHECK_EQ(i, -1);
    __asm__ volatile("fld1\n\tfstpl (%0)" : : "r"(OB + 16) : "memory");    /* lost */
    CHECK_EQ(*(volatile uint32_t *)(OB + 16), 0xffffffffu);
    __asm__ volatile("movq (%0), %%mm0\n\tmovq %%mm0, (%1)\n\temms" : : "r"(OB + 24), "r"(buf) : "memory");
    CHECK_EQ(*(uint32_t *)buf, 0xffffffffu);
    CHECK_EQ(*(uint32_t *)(buf + 4), 0xffffffffu);
    lo = 2;
    __asm__ volatile("mull (%2)" : "+a"(lo), "=d"(hi) : "r"(OB + 32) : "cc", "memory");
    CHECK_EQ(lo, 0xfffffffeu);
    CHECK_EQ(hi, 1);
}

static void exec_open_bus(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "jmp *%0" TRY_END : : "r"(OB + 0x100) : "memory");
    CHECK_EQ(last_trap.vector, 6);
    CHECK_EQ(last_trap.eip, OB + 0x100);
}

static void stack_on_open_bus_and_wrap(void)
{
    uint32_t got, low;
    volatile uint8_t *zero = (volatile uint8_t *)low_page;

    __asm__ volatile("mov %%esp, %%ebx\n\tmov %1, %%esp\n\tpushl $5\n\tpopl %0\n\tmov %%ebx, %%esp"
                     : "=r"(got) : "r"(OB + 0x208) : "ebx", "memory");
    CHECK_EQ(got, 0xffffffffu);
    zero[0] = 0; zero[1] = 0; zero[2] = 0x77;
    __asm__ volatile("mov %%esp, %%ebx\n\tmov $2, %%esp\n\tpushl $0x11223344\n\tmov %%esp, %1\n\t"
                     "popl %0\n\tmov %%ebx, %%esp"
                     : "=r"(got), "=r"(low) : : "ebx", "memory");
    CHECK_EQ(low, 0xfffffffeu);
    CHECK_EQ(got, 0x1122ffffu);                            /* two bytes lost above, two kept at 0 */
    CHECK_EQ(zero[0], 0x22);
    CHECK_EQ(zero[1], 0x11);
    CHECK_EQ(zero[2], 0x77);
}

static void addr16_string_and_xlat(void)
{
    volatile uint8_t *lo = (volatile uint8_t *)0x7000;
    uint32_t esi = 0xabcd7000, edi = 0x12347100, ecx = 0x55550010, eax;

    for (int k = 0; k < 16; k++) { lo[k] = (uint8_t)(k + 1); lo[0x100 + k] = 0; }
    __asm__ volatile("cld\n\taddr16 rep movsb" : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
    CHECK_EQ(esi, 0xabcd7010u);
    CHECK_EQ(edi, 0x12347110u);
    CHECK_EQ(ecx, 0x55550000u);
    CHECK_EQ(lo[0x100], 1);
    CHECK_EQ(lo[0x10f], 16);
    /* XLAT through a DS based at 0x7000: AL = [0x7000 + EBX + AL]. */
    gdt[7] = seg_desc(0x7000, 0xffff, 0x92, 0x4);
    __asm__ volatile("mov $0x38, %%ax\n\tmov %%ax, %%ds\n\tmov $0x12345603, %%eax\n\tmov $8, %%ebx\n\txlat\n\t"
                     "mov $0x10, %%bx\n\tmov %%bx, %%ds" : "=a"(eax) : : "ebx", "memory");
    CHECK_EQ(eax, 0x1234560cu);                            /* lo[11] = 12 */
}

/* A REP STOS that overwrites the next instruction of its own block, a load
 * from the open bus, with NOPs: the CPU runs the NOPs (the store retired
 * before the fetch), so EAX keeps its value; bt86's block still holds the
 * old load, whose open-bus fault must not perform it nor stop the run
 * (found by tests/fuzz: "cannot decode the instruction"). */
/* rep stosb of five NOPs over `next`, the instruction right after it;
 * EAX is as before unless `next` runs. */
#define STOS_OVER(next)                                                                          \
    do {                                                                                         \
        uint32_t eax = 0x1234, edi, ecx = 5;                                                     \
        __asm__ volatile("lea 1f, %1\n\tmov %%eax, %%edx\n\tmov $0x90, %%al\n\tcld\n\trep stosb\n\t" \
                         "mov %%edx, %%eax\n1:\t" next                                           \
                         : "+a"(eax), "=&D"(edi), "+c"(ecx) : : "edx", "memory");                \
        CHECK_EQ(eax, 0x1234);                                                                   \
    } while (0)

static void stale_code_on_open_bus(void)
{
    STOS_OVER("movl 0x80000000, %%eax");
}

/* Forms translated code cannot run across the wrap and memop.c does not
 * perform (issue #15 item 7): x87, SSE, MMX's MASKMOVQ, CMPXCHG8B, DIV,
 * BSR run on a bounce buffer (emulator/bounce.c); CALL, RET, PUSHFD,
 * POPF, ENTER in C (emulator/stackop.c). The bytes below 4 GiB are open
 * bus (all-ones, writes lost), the ones from 0 up are RAM. */
static volatile uint32_t saved_esp, saved_ebp, esp_after, got_eax;

static void wrap_forms(void)
{
    volatile uint8_t *zero = (volatile uint8_t *)low_page;
    volatile uint32_t *zero32 = (volatile uint32_t *)low_page;
    uint64_t bits = 0x0102030405060708ull, out;
    uint32_t eax, edx, ecx, ebx;

    *zero32 = 0x44332211;
    __asm__ volatile("fldl 0xfffffffc\n\tfstpl %0" : "=m"(out) : : "memory");
    CHECK_EQ(out, 0x44332211ffffffffull);
    __asm__ volatile("fldl %0\n\tfstpl 0xfffffffc" : : "m"(bits) : "memory");
    CHECK_EQ(*zero32, 0x01020304u);

    for (int k = 0; k < 16; k++) buf[k] = (uint8_t)(0xa0 + k);
    __asm__ volatile("movups %0, %%xmm0\n\tmovups %%xmm0, 0xfffffff8\n\t"
                     "movups 0xfffffff8, %%xmm1\n\tmovups %%xmm1, %0" : "+m"(buf) : : "memory");
    CHECK_EQ(zero[0], 0xa8);
    CHECK_EQ(zero[7], 0xaf);
    CHECK_EQ(buf[0], 0xff);
    CHECK_EQ(buf[7], 0xff);
    CHECK_EQ(buf[8], 0xa8);

    /* MASKMOVQ: only the bytes whose mask byte has bit 7 set (4-7). */
    *zero32 = 0;
    uint64_t data = 0x8877665544332211ull, mask = 0x8080808000000000ull;
    __asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\tmov $0xfffffffc, %%edi\n\tmaskmovq %%mm1, %%mm0\n\temms"
                     : : "m"(data), "m"(mask) : "edi", "memory");
    CHECK_EQ(*zero32, 0x88776655u);
    /* ... and through a DS based at 0x7000 (a callout: the translator
     * folds no base into MASKMOV's implicit operand). */
    volatile uint32_t *based = (volatile uint32_t *)0x7104;
    *based = 0;
    gdt[7] = seg_desc(0x7000, 0xffff, 0x92, 0x4);
    __asm__ volatile("movq %0, %%mm0\n\tmovq %1, %%mm1\n\tmov $0x38, %%ax\n\tmov %%ax, %%ds\n\t"
                     "mov $0x100, %%edi\n\tmaskmovq %%mm1, %%mm0\n\tmov $0x10, %%ax\n\tmov %%ax, %%ds\n\temms"
                     : : "m"(data), "m"(mask) : "eax", "edi", "memory");
    CHECK_EQ(*based, 0x88776655u);

    /* CMPXCHG8B: equal, so ECX:EBX is written (its low half is lost). */
    *zero32 = 0x55667788;
    eax = 0xffffffff; edx = 0x55667788; ebx = 0x9abcdef0; ecx = 0x12345678;
    uint8_t zf;
    __asm__ volatile("cmpxchg8b 0xfffffffc\n\tsetz %2" : "+a"(eax), "+d"(edx), "=q"(zf) : "b"(ebx), "c"(ecx) : "memory", "cc");
    CHECK_EQ(zf, 1);
    CHECK_EQ(*zero32, 0x12345678u);

    /* DIV by the dword at 0xfffffffe = 0x0000ffff; BSR of it. */
    *zero32 = 0;
    eax = 0x12345678; edx = 0;
    __asm__ volatile("divl 0xfffffffe" : "+a"(eax), "+d"(edx) : : "cc", "memory");
    CHECK_EQ(eax, 0x12345678u / 0xffffu);
    CHECK_EQ(edx, 0x12345678u % 0xffffu);
    __asm__ volatile("bsrl 0xfffffffe, %0" : "=r"(eax) : : "cc", "memory");
    CHECK_EQ(eax, 15);

    /* LDMXCSR of 0x0001ffff (bit 16 is reserved): #GP(0), MXCSR kept. */
    uint32_t mx_before, mx_after;
    *zero32 = 1;
    __asm__ volatile("stmxcsr %0" : "=m"(mx_before));
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ldmxcsr 0xfffffffe" TRY_END ::: "memory");
    CHECK_TRAP(13, 0);
    __asm__ volatile("stmxcsr %0" : "=m"(mx_after));
    CHECK_EQ(mx_after, mx_before);

    /* CALL with ESP = 2: the return address's high half lands at 0. */
    __asm__ volatile("movl %%esp, saved_esp\n\tmovl $2, %%esp\n\tcall 1f\n1:\tmovl %%esp, esp_after\n\t"
                     "popl got_eax\n\tmovl saved_esp, %%esp" : : : "memory");
    CHECK_EQ(esp_after, 0xfffffffeu);
    CHECK_EQ(got_eax & 0xffff, 0xffff);
    CHECK_EQ(zero[0] | zero[1] << 8, (got_eax >> 16));

    /* RET with ESP = 0xfffffffe: target 0x0002ffff, where jmp *%ecx waits. */
    zero[0] = 0x02; zero[1] = 0x00;
    *(volatile uint8_t *)0x2ffff = 0xff;
    *(volatile uint8_t *)0x30000 = 0xe1;
    __asm__ volatile("movl $1f, %%ecx\n\tmovl %%esp, saved_esp\n\tmovl $0xfffffffe, %%esp\n\tret\n"
                     "1:\tmovl %%esp, esp_after\n\tmovl saved_esp, %%esp" : : : "ecx", "memory");
    CHECK_EQ(esp_after, 2);

    /* PUSHFD with ESP = 2 (EFLAGS bits 16-31 are 0 here), POPF (16-bit)
     * with ESP = 0xffffffff: FLAGS = zero[0] << 8 | 0xff. */
    zero[0] = 0x5a; zero[1] = 0x5a;
    __asm__ volatile("movl %%esp, saved_esp\n\tmovl $2, %%esp\n\tpushfl\n\tmovl %%esp, esp_after\n\t"
                     "movl saved_esp, %%esp" : : : "memory");
    CHECK_EQ(esp_after, 0xfffffffeu);
    CHECK_EQ(zero[0], 0);
    CHECK_EQ(zero[1], 0);
    uint32_t fl;
    __asm__ volatile("pushfl\n\tmovl %%esp, saved_esp\n\tmovl $0xffffffff, %%esp\n\tpopfw\n\t"
                     "movl %%esp, esp_after\n\tmovl saved_esp, %%esp\n\tpushfl\n\tpopl %0\n\tpopfl"
                     : "=r"(fl) : : "memory", "cc");
    CHECK_EQ(esp_after, 1);
    CHECK_EQ(fl & 0xfd5, 0xd5);                             /* CF PF AF ZF SF; TF IF DF OF clear */

    /* ENTER with ESP = 2: EBP's high half at 0, EBP = 0xfffffffe. */
    __asm__ volatile("movl %%ebp, saved_ebp\n\tmovl %%esp, saved_esp\n\tmovl $0x12345678, %%ebp\n\t"
                     "movl $2, %%esp\n\tenter $8, $0\n\tmovl %%esp, esp_after\n\tmovl %%ebp, got_eax\n\t"
                     "movl saved_esp, %%esp\n\tmovl saved_ebp, %%ebp" : : : "memory");
    CHECK_EQ(esp_after, 0xfffffff6u);
    CHECK_EQ(got_eax, 0xfffffffeu);
    /* A 16-bit ENTER on a 32-bit stack sets all of EBP (SDM "ENTER"). */
    __asm__ volatile("movl %%ebp, saved_ebp\n\tmovl %%esp, saved_esp\n\tmovl $0x12345678, %%ebp\n\t"
                     "enterw $4, $1\n\tmovl %%ebp, got_eax\n\tmovl %%esp, esp_after\n\t"
                     "movl saved_esp, %%esp\n\tmovl saved_ebp, %%ebp" : : : "memory");
    CHECK_EQ(got_eax, esp_after + 4 + 2);
    CHECK_EQ(zero[0], 0x34);
    CHECK_EQ(zero[1], 0x12);
}

/* 16-bit addresses in branch and system-instruction operands (0x67):
 * JMP/CALL through [BX], SIDT [DI], LES r, [SI]; far branches to a
 * system descriptor that is no gate or TSS (found by tests/fuzz). */
static void addr16_branch_and_system(void)
{
    volatile uint32_t *lo = (volatile uint32_t *)0x7000;
    uint32_t ret = 0, lim;
    uint8_t idtr[6], idtr16[6];

    extern const char a16_jmp_target[], a16_call_after[];
    lo[0] = (uint32_t)a16_jmp_target;
    __asm__ volatile("movl $0x7000, %%ebx\n\taddr16 jmp *(%%bx)\n\tud2\n"
                     ".globl a16_jmp_target\na16_jmp_target:" : : : "ebx", "memory");
    lo[1] = (uint32_t)a16_call_after + 2;
    __asm__ volatile("movl $0x7004, %%ebx\n\taddr16 call *(%%bx)\n"
                     ".globl a16_call_after\na16_call_after:\n\tud2\n\tpopl %0" : "=r"(ret) : : "ebx", "memory");
    CHECK_EQ(ret, (uint32_t)a16_call_after);

    __asm__ volatile("sidt %0" : "=m"(idtr));
    __asm__ volatile("movl $0x12347100, %%edi\n\taddr16 sidt (%%di)" : : : "edi", "memory");
    __builtin_memcpy(idtr16, (const void *)0x7100, 6);
    CHECK_EQ(__builtin_memcmp(idtr, idtr16, 6), 0);

    lo[0x80] = 0xdeadbeef;
    *(volatile uint16_t *)0x7204 = 0x10;
    __asm__ volatile("movl $0x7200, %%esi\n\taddr16 les (%%si), %0\n\tmovw %%ds, %%si\n\tmovw %%si, %%es"
                     : "=r"(lim) : : "esi", "memory");
    CHECK_EQ(lim, 0xdeadbeefu);

    /* A far JMP/CALL to an LDT descriptor is #GP(selector) (SDM "JMP"). */
    gdt[7] = seg_desc(0x7000, 0x1f, 0x82, 0);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x38, $0" TRY_END ::: "memory");
    CHECK_TRAP(13, 0x38);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "lcall $0x38, $0" TRY_END ::: "memory");
    CHECK_TRAP(13, 0x38);
}

/* The same with a plain instruction after the REP STOS, and with a
 * CMPXCHG8B (a bounce-buffer form) as the store: the CPU runs the bytes
 * stored, so EAX keeps its value (before, bt86 ran the old MOV). */
static void stale_code_own_block(void)
{
    uint32_t eax, lo = 0x90909090, hi = 0x90909090, edi, ecx = 8;

    STOS_OVER("movl $1, %%eax");
    /* A backward REP STOS whose first byte lies just past the block's last
     * instruction and whose later ones overwrite the MOV and the JMP. */
    eax = 0x4321;
    __asm__ volatile("lea 4f, %1\n\tmov %%eax, %%edx\n\tmov $0x90, %%al\n\tstd\n\trep stosb\n\tcld\n\t"
                     "mov %%edx, %%eax\n\tmovl $1, %%eax\n\tjmp 5f\n4:\t.byte 0\n5:"
                     : "+a"(eax), "=&D"(edi), "+c"(ecx) : : "edx", "memory", "cc");
    CHECK_EQ(eax, 0x4321);
    __asm__ volatile("lea 1f, %%esi\n\tmov (%%esi), %%eax\n\tmov 4(%%esi), %%edx\n\t"
                     "cmpxchg8b (%%esi)\n\tmov $0x5678, %%eax\n"
                     "1:\tmovl $1, %%eax\n\tnop\n\tnop\n\tnop"
                     : "=&a"(eax), "+b"(lo), "+c"(hi) : : "edx", "esi", "memory", "cc");
    CHECK_EQ(eax, 0x5678);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    /* Twice: the second round runs on translations already made. */
    for (int round = 0; round < 2; round++) {
        x87_mmx_mul();
        exec_open_bus();
        stack_on_open_bus_and_wrap();
        addr16_string_and_xlat();
        stale_code_on_open_bus();
        wrap_forms();
        stale_code_own_block();
        addr16_branch_and_system();
    }
    test_finish("sys_openbus");
}
