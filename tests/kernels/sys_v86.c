/* sys_v86.c — virtual-8086 mode (SDM vol. 3A ch. 20): entered by IRET from
 * ring 0 with EFLAGS.VM in the frame; 16-bit code at CPL 3 with segments
 * as selector << 4; CLI, STI, INT n and IRET with IOPL 0 raise #GP(0) into
 * a ring-0 handler that emulates them (INT n reflected through the v86
 * IVT, as a v86 monitor does); IN/OUT through the TSS I/O bitmap; a timer
 * interrupt taken in v86 mode goes through a 32-bit gate to ring 0 with
 * the GS/FS/DS/ES pushes and the data segments nulled, and returns by
 * IRET; HLT (#GP) leaves. */
#include "sys_lib.h"

#define V86_BASE 0x8000u
#define V86_SEG  0x0800u
#define FL_VM    0x20000u

struct v86_gp_frame {
    uint32_t es, ds;                                     /* as the handler found them */
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;    /* pusha */
    uint32_t error;
    uint32_t eip, cs, eflags, esp, ss, v_es, v_ds, v_fs, v_gs;
};

extern char v86_start[], v86_end[];
extern uint16_t r_call, r_int, r_io, v_ticks, r_ss, r_sp_low;
void enter_v86(const uint32_t frame[9]);
void v86_gp_entry(void);

#define LOW(sym) ((volatile void *)(V86_BASE + ((char *)&(sym) - v86_start)))
#define W(sym) (*(volatile uint16_t *)LOW(sym))

static volatile unsigned cli_traps, sti_traps, int_traps, iret_traps, io_traps, vif = 1;
static volatile uint32_t gp_ds_at_entry = 0xffff, gp_err, exit_es, exit_ds, exit_fs, exit_gs;
static volatile uint32_t irq_in_v86, irq_frame_es, irq_frame_gs;
static int paging, in_task;
static volatile uint32_t task_gp_cs, task_tr;
static uint32_t pd[1024] __attribute__((aligned(4096)));

/* The v86 IVT at linear 0 (hidden from the compiler, which would call a
 * null-pointer access undefined). */
static volatile uint16_t *ivt(void)
{
    uintptr_t a = 0;
    __asm__("" : "+r"(a));
    return (volatile uint16_t *)a;
}

static uint16_t *v86_stack(struct v86_gp_frame *f) { return (uint16_t *)((f->ss << 4) + (f->esp & 0xffff)); }

/* 1: leave virtual-8086 mode (HLT). */
int v86_gp(struct v86_gp_frame *f)
{
    const uint8_t *ip = (const uint8_t *)((f->cs << 4) + (f->eip & 0xffff));
    uint16_t *stk;

    if (!(f->eflags & FL_VM)) {
        kprintf("FAIL: #GP(0x%x) outside virtual-8086 mode at %x:%x\n", f->error, f->cs, f->eip);
        kexit(EXIT_FAIL);
    }
    gp_ds_at_entry = f->ds;
    gp_err = f->error;
    if (paging)     /* the v86 code's page: its translations must survive or be redone */
        __asm__ volatile("invlpg (%0)" : : "r"(V86_BASE) : "memory");
    switch (ip[0]) {
    case 0xfa: cli_traps++; vif = 0; f->eip += 1; return 0;
    case 0xfb: sti_traps++; vif = 1; f->eip += 1; return 0;
    case 0xcd:                          /* INT n: reflect through the v86 IVT */
        int_traps++;
        f->esp = (f->esp - 6) & 0xffff;
        stk = v86_stack(f);
        stk[0] = (uint16_t)(f->eip + 2);
        stk[1] = (uint16_t)f->cs;
        stk[2] = (uint16_t)((f->eflags & ~0x200u) | (vif ? 0x200 : 0));
        f->eip = ivt()[ip[1] * 2];
        f->cs = ivt()[ip[1] * 2 + 1];
        vif = 0;
        return 0;
    case 0xcf:                          /* IRET */
        iret_traps++;
        stk = v86_stack(f);
        f->eip = stk[0];
        f->cs = stk[1];
        vif = stk[2] >> 9 & 1;
        f->esp = (f->esp + 6) & 0xffff;
        return 0;
    case 0xe4:                          /* IN AL, imm8 denied by the bitmap */
        io_traps++;
        f->eip += 2;
        return 0;
    case 0xf4:
        if (in_task) {              /* the v86 task: back to the kernel's task */
            uint16_t tr;
            __asm__ volatile("str %0" : "=r"(tr));
            task_tr = tr;
            task_gp_cs = f->cs;
            __asm__ volatile("ljmp $0x28, $0" ::: "memory");
            return 0;               /* not reached: the kernel task resumes */
        }
        exit_es = f->v_es; exit_ds = f->v_ds; exit_fs = f->v_fs; exit_gs = f->v_gs;
        return 1;
    default:
        kprintf("FAIL: unexpected #GP in v86 mode at %x:%x (opcode %x)\n", f->cs, f->eip, ip[0]);
        kexit(EXIT_FAIL);
        return 1;
    }
}

static void irq_hook(struct trap_frame *f)
{
    if (f->vector == 0x20) {
        if (f->eflags & FL_VM) {
            irq_in_v86++;
            irq_frame_es = (&f->ss)[1];
            irq_frame_gs = (&f->ss)[4];
            (*(volatile uint16_t *)LOW(v_ticks))++;
        }
        outb(0x20, 0x20);
    }
}

__asm__(".text\n"
        "v86_gp_entry:\n"
        "    pusha\n    push %ds\n    push %es\n"
        "    mov $0x10, %ax\n    mov %ax, %ds\n    mov %ax, %es\n    cld\n"
        "    push %esp\n    call v86_gp\n    add $4, %esp\n"
        "    test %eax, %eax\n    jnz 1f\n"
        "    pop %es\n    pop %ds\n    popa\n    add $4, %esp\n    iret\n"
        "1:  mov $0x10, %ax\n    mov %ax, %ds\n    mov %ax, %es\n    mov %ax, %fs\n    mov %ax, %gs\n"
        "    mov v86_saved_esp, %esp\n"
        "    pop %edi\n    pop %esi\n    pop %ebx\n    pop %ebp\n    ret\n"
        "enter_v86:\n"
        "    push %ebp\n    push %ebx\n    push %esi\n    push %edi\n"
        "    mov %esp, v86_saved_esp\n"
        "    mov 20(%esp), %eax\n"
        "    pushl 32(%eax)\n    pushl 28(%eax)\n    pushl 24(%eax)\n    pushl 20(%eax)\n"
        "    pushl 16(%eax)\n    pushl 12(%eax)\n    pushl 8(%eax)\n    pushl 4(%eax)\n    pushl (%eax)\n"
        "    iret\n"
        ".data\nv86_saved_esp: .long 0\n"
        /* The virtual-8086 code, run at V86_BASE with CS = DS = 0x0800, SS = 0x0900. */
        ".code16\n"
        "v86_start:\n"
        "    mov $0x1234, %ax\n    call v_fn\n    mov %ax, r_call - v86_start\n"
        "    cli\n    sti\n"
        "    mov $0x1111, %bx\n    int $0x30\n    mov %bx, r_int - v86_start\n"
        "    mov $0x5a, %al\n    out %al, $0x80\n"
        "    in $0x61, %al\n    incw r_io - v86_start\n"
        "1:  cmpw $3, v_ticks - v86_start\n    jb 1b\n"
        "    mov %ss, r_ss - v86_start\n    mov %sp, r_sp_low - v86_start\n"
        "    hlt\n"
        "v_fn: add $0x1111, %ax\n    ret\n"
        "v_int30: mov $0x5555, %bx\n    iret\n"
        "v_task: mov $0x4242, %ax\n    mov %ax, r_task - v86_start\n    hlt\n"
        "r_call: .word 0\nr_int: .word 0\nr_io: .word 0\nv_ticks: .word 0\nr_ss: .word 0\nr_sp_low: .word 0\nr_task: .word 0\n"
        "v86_end:\n"
        ".code32\n.text\n");
extern char v_int30[], v_task[];
extern uint16_t r_task;

/* A virtual-8086 task: a 32-bit TSS whose EFLAGS has VM (SDM vol. 3A
 * §20.2.5), entered by a far JMP and left by a far JMP back from its
 * ring-0 #GP handler. */
static struct tss32 v86_tss;
static uint8_t v86_task_kstack[4096] __attribute__((aligned(16)));

static void run_v86_task(void)
{
    memset(&v86_tss, 0, sizeof v86_tss);
    v86_tss.eip = (uint32_t)(v_task - v86_start);
    v86_tss.cs = V86_SEG;
    v86_tss.eflags = FL_VM | 0x2;
    v86_tss.esp = 0x1000;
    v86_tss.ss = 0x0900;
    v86_tss.ds = v86_tss.es = V86_SEG;
    v86_tss.ss0 = SEL_KDATA;
    v86_tss.esp0 = (uint32_t)(v86_task_kstack + sizeof v86_task_kstack);
    v86_tss.iomap = sizeof v86_tss;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v86_tss.cr3));
    tss.cr3 = v86_tss.cr3;          /* loaded (never saved) when the kernel's task resumes */
    gdt[7] = seg_desc((uint32_t)&v86_tss, sizeof v86_tss - 1, 0x89, 0);
    in_task = 1;
    __asm__ volatile("ljmp $0x38, $0" ::: "memory", "cc");
    in_task = 0;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    /* A TSS with an I/O bitmap: port 0x80 allowed, the rest denied. */
    memset(tss.iobitmap, 0xff, sizeof tss.iobitmap);
    tss.iobitmap[0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));
    gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x89, 0);
    __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
    set_gate(13, (uint32_t)v86_gp_entry, SEL_KCODE, 0xe, 0);
    memcpy((void *)V86_BASE, v86_start, (size_t)(v86_end - v86_start));
    ivt()[0x30 * 2] = (uint16_t)(v_int30 - v86_start);
    ivt()[0x30 * 2 + 1] = V86_SEG;
    /* 8259 at 0x20, IRQ 0 only; 8254 at 1 kHz. */
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, 0xfe); outb(0xa1, 0xff);
    outb(0x43, 0x34); outb(0x40, 0xa9); outb(0x40, 0x04);
    sys_irq_hook = irq_hook;
    /* -append paging: the same under paging, a 4 MiB user page at 0. */
    const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)mbi->cmdline : "";
    if (strstr(cmd, " paging")) {
        paging = 1;
        pd[0] = 0x87;                                    /* P RW US PS */
        __asm__ volatile("mov %%cr4, %%eax\n\tor $0x10, %%eax\n\tmov %%eax, %%cr4\n\t"
                         "mov %0, %%cr3\n\tmov %%cr0, %%eax\n\tor $0x80000000, %%eax\n\tmov %%eax, %%cr0"
                         : : "r"(pd) : "eax", "memory");
    }

    /* EIP CS EFLAGS(VM IF, IOPL 0) ESP SS ES DS FS GS */
    const uint32_t frame[9] = { 0, V86_SEG, FL_VM | 0x202, 0x1000, 0x0900, V86_SEG, V86_SEG, 0x0a00, 0x0b00 };
    enter_v86(frame);
    __asm__ volatile("cli");
    outb(0x21, 0xff);
    sys_irq_hook = 0;
    kprintf("back from virtual-8086 mode\n");

    CHECK_EQ(W(r_call), 0x2345);            /* CALL/RET on the v86 stack */
    CHECK_EQ(cli_traps, 1);                 /* IOPL 0: CLI and STI trap */
    CHECK_EQ(sti_traps, 1);
    CHECK_EQ(int_traps, 1);                 /* INT n traps, reflected */
    CHECK_EQ(iret_traps, 1);                /* the handler's IRET traps */
    CHECK_EQ(W(r_int), 0x5555);
    CHECK_EQ(gp_err, 0);                    /* #GP(0) */
    CHECK_EQ(gp_ds_at_entry, 0);            /* data segments nulled on the way out */
    CHECK_EQ(io_traps, 1);                  /* IN 0x61 denied, OUT 0x80 allowed */
    CHECK_EQ(W(r_io), 1);
    CHECK(W(v_ticks) >= 3);                 /* timer interrupts from v86 mode */
    CHECK(irq_in_v86 >= 3);
    CHECK_EQ(irq_frame_es, V86_SEG);        /* the frame's ES and GS */
    CHECK_EQ(irq_frame_gs, 0x0b00);
    CHECK_EQ(W(r_ss), 0x0900);
    CHECK_EQ(W(r_sp_low), 0x1000);
    CHECK_EQ(exit_es, V86_SEG);
    CHECK_EQ(exit_ds, V86_SEG);
    CHECK_EQ(exit_fs, 0x0a00);
    CHECK_EQ(exit_gs, 0x0b00);

    run_v86_task();
    CHECK_EQ(W(r_task), 0x4242);            /* the v86 task ran */
    CHECK_EQ(task_gp_cs, V86_SEG);          /* and trapped to ring 0 from v86 mode */
    CHECK_EQ(task_tr, 0x38);
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    CHECK_EQ(tr, SEL_TSS);                  /* back in the kernel's task */
    test_finish("sys_v86");
}
