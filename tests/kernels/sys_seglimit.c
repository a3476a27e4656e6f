/* sys_seglimit.c — segment-limit checks (SDM vol. 3A §5.3): #GP(0) for an
 * access beyond a data segment's limit, #SS(0) through SS, expand-down
 * segments (valid offsets above the limit, up to 0xFFFF or 4 GiB - 1 by
 * the B flag), REP strings. Self-checking. */
#include "sys_lib.h"

enum { S_TEST = 16, S_STACK = 17 };
#define SEL(slot) ((slot) * 8)

static uint8_t buf[0x400] __attribute__((aligned(16)));
static uint8_t sstack[4096] __attribute__((aligned(4096)));

/* Load FS = the test segment, read a dword (or a byte) at off through it. */
static void fs_read(uint32_t off, int bytes)
{
    trap_reset();
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL(S_TEST)));
    if (bytes == 4)
        __asm__ volatile(TRY_BEGIN "movl %%fs:(%0), %%eax" TRY_END : : "r"(off) : "eax", "memory");
    else
        __asm__ volatile(TRY_BEGIN "movb %%fs:(%0), %%al" TRY_END : : "r"(off) : "eax", "memory");
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL_KDATA));
}

static void test_expand_up(void)
{
    gdt[S_TEST] = seg_desc((uint32_t)buf, 0xff, 0x92, 0x4);     /* 256 bytes, byte granular */
    fs_read(0xfc, 4);
    CHECK_NO_TRAP();
    fs_read(0xfd, 4);                           /* last byte at 0x100 */
    CHECK_TRAP(13, 0);
    fs_read(0xff, 1);
    CHECK_NO_TRAP();
    fs_read(0x100, 1);
    CHECK_TRAP(13, 0);
    fs_read(0xfffffffe, 4);                     /* wraps */
    CHECK_TRAP(13, 0);
    /* Stores fault too, and leave memory as it was. */
    buf[0xfe] = 0x11;
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL(S_TEST)));
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl $0x22222222, %%fs:0xfe" TRY_END : : : "memory");
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL_KDATA));
    CHECK_TRAP(13, 0);
    CHECK_EQ(buf[0xfe], 0x11);
    /* A page-granular limit: 0x1fff. */
    gdt[S_TEST] = seg_desc((uint32_t)buf, 1, 0x92, 0xc);
    fs_read(0x1ffc, 4);
    CHECK_NO_TRAP();
    fs_read(0x2000, 1);
    CHECK_TRAP(13, 0);
}

static void test_expand_down(void)
{
    /* Expand-down, B = 1: offsets 0x100 .. 0xffffffff. */
    gdt[S_TEST] = seg_desc((uint32_t)buf - 0x100, 0xff, 0x96, 0x4);
    fs_read(0x100, 4);
    CHECK_NO_TRAP();
    fs_read(0xff, 1);
    CHECK_TRAP(13, 0);
    fs_read(0xfe, 4);                           /* straddles the limit */
    CHECK_TRAP(13, 0);
    fs_read(0x10000, 4);
    CHECK_NO_TRAP();
    /* B = 0: the top is 0xffff. */
    gdt[S_TEST] = seg_desc((uint32_t)buf - 0xfc00, 0xfbff, 0x96, 0x0);
    fs_read(0xfc00, 4);
    CHECK_NO_TRAP();
    fs_read(0xfffc, 4);
    CHECK_NO_TRAP();
    fs_read(0xfffd, 4);
    CHECK_TRAP(13, 0);
    fs_read(0xfbff, 1);
    CHECK_TRAP(13, 0);
}

/* REP STOSB through ES: checked for every iteration it would do. */
static void test_string(void)
{
    uint32_t left;
    gdt[S_TEST] = seg_desc((uint32_t)buf, 0xff, 0x92, 0x4);
    for (int i = 0; i < 0x110; i++)
        buf[i] = 0;
    trap_reset();
    __asm__ volatile("push %%es\n\tmovw %w2, %%es\n\t" TRY_BEGIN "rep stosb" TRY_END "pop %%es"
                     : "=c"(left), "+D"((uint32_t){ 0xf0 }) : "r"(SEL(S_TEST)), "0"(0x10), "a"(0x33) : "memory");
    CHECK_NO_TRAP();
    CHECK_EQ(left, 0);
    CHECK_EQ(buf[0xff], 0x33);
    trap_reset();
    __asm__ volatile("push %%es\n\tmovw %w2, %%es\n\t" TRY_BEGIN "rep stosb" TRY_END "pop %%es"
                     : "=c"(left), "+D"((uint32_t){ 0xf0 }) : "r"(SEL(S_TEST)), "0"(0x11), "a"(0x44) : "memory");
    CHECK_TRAP(13, 0);
    CHECK_EQ(buf[0x100], 0);
}

/* #SS handler for the stack tests: the faulting stack may not be usable
 * (nor its base zero, which C code needs), so it records the error code,
 * goes back to the kernel stack and jumps to ss_resume. */
volatile uint32_t ss_hits, ss_err, ss_saved_esp, ss_resume;
__asm__(".text\nss_stub:\n\t"
        "movl (%esp), %eax\n\tmovl %eax, ss_err\n\tincl ss_hits\n\t"
        "movl $0x10, %eax\n\tmovl %eax, %ss\n\tmovl ss_saved_esp, %esp\n\tjmp *ss_resume\n");
extern char ss_stub[];

/* Run `body` on a stack: ESP = esp, SS = sel; back to the kernel stack
 * after it or through ss_stub. */
#define ON_STACK(body, esp, sel)                                                     \
    __asm__ volatile("movl %%esp, ss_saved_esp\n\tmovl $1f, ss_resume\n\t"         \
                     "movl %0, %%esp\n\tmovw %w1, %%ss\n\t" body "\n\t"            \
                     "movl $0x10, %%eax\n\tmovl %%eax, %%ss\n\tmovl ss_saved_esp, %%esp\n1:" \
                     : : "r"(esp), "r"(sel) : "eax", "memory")

/* Stack segments: a pop beyond an expand-up SS's limit, and an expand-down
 * SS's lower bound and top (4 GiB - 1 with B = 1) are #SS(0). */
static void test_stack(void)
{
    uint32_t top = (uint32_t)sstack + sizeof sstack, base;

    set_gate(12, (uint32_t)ss_stub, SEL_KCODE, 0xe, 0);
    gdt[S_STACK] = seg_desc(0, (top >> 12) - 1, 0x92, 0xc);   /* limit top - 1 */
    ss_hits = 0;
    ON_STACK("pushl $5\n\tpopl %%eax\n\tpopl %%eax", top - 4, SEL(S_STACK));
    CHECK_EQ(ss_hits, 0);
    ON_STACK("popl %%eax\n\tpopl %%eax", top - 4, SEL(S_STACK));
    CHECK_EQ(ss_hits, 1);
    CHECK_EQ(ss_err, 0);

    /* Expand-down, B = 1, valid offsets 0xfff01000 .. 0xffffffff; offset
     * 0xfffffffe is at sstack + 4092. */
    base = (uint32_t)sstack + 4094;
    gdt[S_STACK] = seg_desc(base, 0xfff00, 0x96, 0xc);
    ss_hits = 0;
    ON_STACK("pushl $1\n\tpopl %%eax\n\tmovl %%ss:0xfff01000, %%eax", 0xfffffffeu, SEL(S_STACK));
    CHECK_EQ(ss_hits, 0);
    ON_STACK("popl %%eax", 0xfffffffeu, SEL(S_STACK));     /* runs past the top */
    CHECK_EQ(ss_hits, 1);
    ON_STACK("movl %%ss:0xfff00fff, %%eax", 0xfffffffeu, SEL(S_STACK));    /* at the limit */
    CHECK_EQ(ss_hits, 2);
    /* An ESP-based address goes through SS too (here it wraps to 0xe). */
    ON_STACK("movl 0x10(%%esp), %%eax", 0xfffffffeu, SEL(S_STACK));
    CHECK_EQ(ss_hits, 3);
    set_trap_gate_default(12);
}

/* A loop through a limited segment (chained blocks) and then flat again. */
static void test_loop(void)
{
    uint32_t sum = 0;
    gdt[S_TEST] = seg_desc((uint32_t)buf, 0x3ff, 0x92, 0x4);
    for (int i = 0; i < 0x400; i++)
        buf[i] = 1;
    __asm__ volatile("movw %w1, %%gs\n\txorl %%ecx, %%ecx\n"
                     "1:\tmovzbl %%gs:(%%ecx), %%edx\n\taddl %%edx, %0\n\tincl %%ecx\n\t"
                     "cmpl $0x400, %%ecx\n\tjne 1b\n\tmovw %w2, %%gs"
                     : "+r"(sum) : "r"(SEL(S_TEST)), "r"(SEL_KDATA) : "ecx", "edx", "memory", "cc");
    CHECK_EQ(sum, 0x400);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    sys_init();
    test_expand_up();
    test_expand_down();
    test_string();
    test_stack();
    test_loop();
    test_finish("sys_seglimit");
}
