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
static void stale_code_on_open_bus(void)
{
    uint32_t eax = 0x1234, edi, ecx = 5;

    __asm__ volatile("lea 1f, %1\n\tmov %%eax, %%edx\n\tmov $0x90, %%al\n\tcld\n\trep stosb\n\t"
                     "mov %%edx, %%eax\n"
                     "1:\tmovl 0x80000000, %%eax"
                     : "+a"(eax), "=&D"(edi), "+c"(ecx) : : "edx", "memory");
    CHECK_EQ(eax, 0x1234);
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
    }
    test_finish("sys_openbus");
}
