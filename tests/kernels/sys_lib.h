/* sys_lib.h — descriptor tables, trap recording and ring 3 for the system
 * test kernels (sys_*.c, issue #4).
 *
 * sys_init() loads a GDT (below), an IDT whose 256 gates all lead to
 * trap_common (sys_entry.S) and a TSS, and reloads every segment register.
 * A trap is recorded in `last_trap`; then, if the test armed a resume point
 * (TRY_BEGIN ... TRY_END), the handler returns there, else an unexpected
 * trap fails the test. Vector 0x80 is a system call (EAX = EBX + ECX,
 * and it counts), 0x81 returns from run_user(); sys_irq_hook handles
 * vectors 0x20-0x2F when set.
 *
 *   GDT   0x08 ring-0 code   0x10 ring-0 data   0x1B ring-3 code
 *         0x23 ring-3 data   0x28 TSS           0x30.. free slots for tests
 *         (gdt[6..GDT_SLOTS-1]); the LDT is ldt[] at LDT_SEL. */
#pragma once
#include <stdint.h>
#include "kernel.h"
#include "x86.h"

enum { SEL_KCODE = 0x08, SEL_KDATA = 0x10, SEL_UCODE = 0x1b, SEL_UDATA = 0x23, SEL_TSS = 0x28,
       SEL_LDT = 0x30, GDT_SLOTS = 24, LDT_SLOTS = 4 };

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
    uint8_t iobitmap[8192 + 1];
} __attribute__((packed));

/* A TSS without the I/O bitmap (limit 0x67), for the tests' own tasks. */
struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
} __attribute__((packed));

struct trap_frame {
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;   /* pusha */
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;                                    /* only from ring 3 */
};

struct trap_record {
    int vector;              /* -1: none since trap_reset() */
    uint32_t error, eip, cs, eflags, esp, ss, count;
    uint32_t handler_esp;    /* ESP inside the handler (the frame's address) */
    uint32_t handler_eflags; /* EFLAGS inside the handler */
};

extern uint64_t gdt[GDT_SLOTS];
extern uint64_t ldt[LDT_SLOTS];
extern uint64_t idt[256];
extern struct tss tss;
extern volatile struct trap_record last_trap;
extern volatile uint32_t resume_eip, expect_eip, syscall_count;
extern void (*volatile sys_irq_hook)(struct trap_frame *f);
extern const uint32_t trap_stubs[256];                /* sys_entry.S */

uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void set_gate(int vec, uint32_t handler, uint16_t sel, int type, int dpl);  /* type 0xE int, 0xF trap */
void set_trap_gate_default(int vec);     /* restore vector vec's stub, interrupt gate, DPL 0 */
void sys_init(void);
void trap_reset(void);
void lgdt(void *base, uint16_t limit);
void lidt(void *base, uint16_t limit);
/* Run fn at CPL 3 on a user stack with EFLAGS.IOPL = iopl; returns when it does. */
void run_user(void (*fn)(void), unsigned iopl);
uint32_t user_stack_top(void);

/* TRY_BEGIN "insn" TRY_END: if `insn` traps, the handler resumes after it;
 * expect_eip holds its address. Use inside an asm statement. */
#define TRY_BEGIN "movl $1f, resume_eip\n\tmovl $2f, expect_eip\n2:\t"
#define TRY_END   "\n1:\n\tmovl $0, resume_eip\n\t"

/* Check that the last trap was `vec` with error code `err` at expect_eip. */
#define CHECK_TRAP(vec, err)                                            \
    do {                                                                \
        CHECK_EQ(last_trap.vector, (vec));                              \
        CHECK_EQ(last_trap.error, (err));                               \
        CHECK_EQ(last_trap.eip, expect_eip);                            \
    } while (0)
#define CHECK_NO_TRAP() CHECK_EQ(last_trap.vector, -1)

static inline uint16_t read_seg_ds(void) { uint16_t s; __asm__ volatile("mov %%ds, %0" : "=r"(s)); return s; }
static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }

/* The 8259 pair as firmware leaves it for protected mode: IRQ 0-7 at
 * vectors 0x20-0x27, IRQ 8-15 at 0x28-0x2F, the slave on IRQ 2; then the
 * masks (a set bit masks the line). */
void pic_init_masks(uint8_t master, uint8_t slave);
/* PIT channel 0 as a rate generator (mode 2) with that reload count. */
void pit_rate(uint16_t count);
