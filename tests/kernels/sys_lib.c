/* sys_lib.c — see sys_lib.h. */
#include "sys_lib.h"

uint64_t gdt[GDT_SLOTS] __attribute__((aligned(8)));
uint64_t ldt[LDT_SLOTS] __attribute__((aligned(8)));
uint64_t idt[256] __attribute__((aligned(8)));
struct tss tss __attribute__((aligned(16)));
volatile struct trap_record last_trap;
volatile uint32_t resume_eip, expect_eip, syscall_count;
void (*volatile sys_irq_hook)(struct trap_frame *f);

static uint8_t kstack[16384] __attribute__((aligned(16)));   /* ring-0 stack for traps from ring 3 */
static uint8_t ustack[16384] __attribute__((aligned(16)));

void run_user_asm(void (*fn)(void), uint32_t user_esp, uint32_t eflags);

uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(flags & 0xf) << 52) |
           ((uint64_t)(base >> 24) << 56);
}

void set_gate(int vec, uint32_t handler, uint16_t sel, int type, int dpl)
{
    idt[vec] = (handler & 0xffffull) | (uint64_t)sel << 16 |
               (uint64_t)(0x80 | dpl << 5 | type) << 40 | (uint64_t)(handler >> 16) << 48;
}

void set_trap_gate_default(int vec)
{
    set_gate(vec, trap_stubs[vec], SEL_KCODE, 0xe, vec == 0x80 || vec == 0x81 ? 3 : 0);
}

void lgdt(void *base, uint16_t limit)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } r = { limit, (uint32_t)base };
    __asm__ volatile("lgdt %0" : : "m"(r) : "memory");
}

void lidt(void *base, uint16_t limit)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } r = { limit, (uint32_t)base };
    __asm__ volatile("lidt %0" : : "m"(r) : "memory");
}

void trap_reset(void)
{
    last_trap.vector = -1;
    last_trap.error = last_trap.eip = last_trap.cs = 0;
    last_trap.count = 0;
}

void trap_handler(struct trap_frame *f)
{
    last_trap.vector = (int)f->vector;
    last_trap.error = f->error;
    last_trap.eip = f->eip;
    last_trap.cs = f->cs;
    last_trap.eflags = f->eflags;
    last_trap.esp = (f->cs & 3) ? f->esp : 0;
    last_trap.ss = (f->cs & 3) ? f->ss : 0;
    last_trap.handler_esp = (uint32_t)f;
    last_trap.handler_eflags = read_eflags();
    last_trap.count++;
    if (f->vector == 0x80) {
        syscall_count++;
        f->eax = f->ebx + f->ecx;
        return;
    }
    if (f->vector >= 0x20 && f->vector < 0x30 && sys_irq_hook) {
        sys_irq_hook(f);
        return;
    }
    if (resume_eip) {
        f->eip = resume_eip;
        resume_eip = 0;
        return;
    }
    /* Traps (INT1, INT3, INTO, INT n) return to the next instruction. */
    if (f->vector == 1 || f->vector == 3 || f->vector == 4 || f->vector >= 32)
        return;
    kprintf("FAIL: unexpected trap %u error 0x%x at %02x:%08x eflags %08x\n", f->vector, f->error,
            f->cs, f->eip, f->eflags);
    kexit(EXIT_FAIL);
}

void sys_init(void)
{
    gdt[0] = 0;
    gdt[1] = seg_desc(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = seg_desc(0, 0xfffff, 0x92, 0xc);
    gdt[3] = seg_desc(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = seg_desc(0, 0xfffff, 0xf2, 0xc);
    gdt[5] = seg_desc((uint32_t)&tss, 103, 0x89, 0);
    gdt[6] = seg_desc((uint32_t)ldt, sizeof ldt - 1, 0x82, 0);
    tss.ss0 = SEL_KDATA;
    tss.esp0 = (uint32_t)(kstack + sizeof kstack);
    tss.iomap = 104;
    for (int v = 0; v < 256; v++)
        set_trap_gate_default(v);
    lgdt(gdt, sizeof gdt - 1);
    lidt(idt, sizeof idt - 1);
    __asm__ volatile("ljmp $0x08, $1f\n1:\n\t"
                     "mov $0x10, %%ax\n\tmov %%ax, %%ds\n\tmov %%ax, %%es\n\tmov %%ax, %%ss\n\t"
                     "mov %%ax, %%fs\n\tmov %%ax, %%gs\n\tmov $0x28, %%ax\n\tltr %%ax"
                     ::: "eax", "memory");
    trap_reset();
}

uint32_t user_stack_top(void) { return (uint32_t)(ustack + sizeof ustack); }

void run_user(void (*fn)(void), unsigned iopl)
{
    run_user_asm(fn, user_stack_top(), 0x2 | (iopl & 3) << 12);
}

void pic_init_masks(uint8_t master, uint8_t slave)
{
    /* ICW1 (edge, cascade, ICW4), ICW2 (vector base), ICW3 (cascade on
     * IRQ 2), ICW4 (8086 mode): 8259A datasheet, initialization sequence. */
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, master);
    outb(0xa1, slave);
}

void pit_rate(uint16_t count)
{
    outb(0x43, 0x34);                    /* channel 0, lo/hi, mode 2 */
    outb(0x40, (uint8_t)count);
    outb(0x40, (uint8_t)(count >> 8));
}
