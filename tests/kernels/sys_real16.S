/* sys_real16.S — the 16-bit code of sys_real.c: what Linux's
 * machine_real_restart and an SMP start-up trampoline do. enter_real()
 * (32-bit) saves its registers and far-jumps into a 16-bit protected-mode
 * code segment (GDT 0x38, base REAL_BASE), which loads 16-bit data
 * segments, calls a function on its 16-bit stack, clears CR0.PE and
 * far-jumps to real mode. The real-mode code installs its own IVT entries,
 * calls and recurses on the stack, takes INT 0x60, a #DE and timer
 * interrupts (8259 and 8254 programmed as a BIOS does), copies and compares
 * strings with segment overrides, makes a far call to another CS, uses
 * 32-bit operands and addresses, then returns to 32-bit protected mode
 * with LMSW and a far jump to pm32_back.
 *
 * The blob runs where sys_real.c copies it (REAL_BASE = 0x7000, CS = 0x0700
 * in real mode), so every address in it is an offset O(label) from
 * rm_start; the results are words at fixed labels that sys_real.c reads. */
#define REAL_BASE 0x7000
#define REAL_SEG  0x0700
#define O(x) x - rm_start

        .data
        .globl rm_start, rm_end, saved_esp
        .globl res_pm16, res_fib, res_int, res_int_flags, res_de, ticks, res_copy_cx
        .globl res_lods, res_far_cs, res_32, res_32b, res_ind, res_enter, res_pusha, res_popf
        .globl dr_test, res_db, res_sp, rm_dst, res_real_cr0, res_ss_sp, bench_n, bench_ticks

        .code16
rm_start:
/* ---- 16-bit protected mode: CS = 0x38 (base REAL_BASE), D = 0 ---------- */
pm16:
        mov $0x40, %ax                  /* 16-bit data segments, base 0 */
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x6ff0, %sp
        mov $0x1234, %ax
        push %ax
        call pm16_fn
        pop %bx
        mov %ax, REAL_BASE + O(res_pm16)        /* ds base 0 */
        mov %cr0, %eax                  /* leave protected mode */
        and $0xfffffffe, %eax
        mov %eax, %cr0
        ljmp $REAL_SEG, $O(real)
pm16_fn:
        mov %sp, %bp
        mov 2(%bp), %ax
        add $0x1111, %ax
        ret

/* ---- real mode ---------------------------------------------------------- */
real:
        mov %cs, %ax
        mov %ax, %ds
        mov %ax, %es
        xor %ax, %ax
        mov %ax, %ss
        mov $0x6ff0, %sp
        lidt O(rm_idtr)
        mov %cr0, %eax
        mov %eax, O(res_real_cr0)
        xor %ax, %ax                    /* fs = 0: the IVT */
        mov %ax, %fs
        movw $O(int60), %fs:0x180
        movw $REAL_SEG, %fs:0x182
        movw $O(irq0), %fs:0x20         /* IRQ 0 at vector 8, as a BIOS sets the 8259 */
        mov %cs, %fs:0x22
        movw $O(de_handler), %fs:0x0
        mov %cs, %fs:0x2
        mov $0x3f8, %dx                 /* "R" on COM1 */
        mov $'R', %al
        out %al, %dx

        mov $10, %ax                    /* stack and near calls: fib(10) */
        call fib
        mov %ax, O(res_fib)

        mov O(bench_n), %cx             /* -append bench: fib(20) bench_n times, timed */
        jcxz 3f
        rdtsc
        mov %eax, O(bench_t0)
4:      push %cx
        mov $20, %ax
        call fib
        pop %cx
        loop 4b
        rdtsc
        sub O(bench_t0), %eax
        mov %eax, O(bench_ticks)
3:

        mov $7, %ax                     /* INT n through the IVT */
        sti
        int $0x60
        cli
        mov %ax, O(res_int)

        xor %bl, %bl                    /* #DE: the handler skips the DIV */
        mov $100, %ax
        div %bl
        incw O(res_de)

        mov $0x11, %al                  /* 8259: ICW1-4, vectors 8-15 */
        out %al, $0x20
        mov $0x08, %al
        out %al, $0x21
        mov $0x04, %al
        out %al, $0x21
        mov $0x01, %al
        out %al, $0x21
        mov $0xfe, %al                  /* IRQ 0 only */
        out %al, $0x21
        mov $0x34, %al                  /* 8254 channel 0, mode 2, 1 kHz */
        out %al, $0x43
        mov $0xa9, %al
        out %al, $0x40
        mov $0x04, %al
        out %al, $0x40
        sti
1:      hlt
        cmpw $3, O(ticks)
        jb 1b
        cli
        mov $0xff, %al
        out %al, $0x21

        cld                             /* strings: ds:si -> es:di, es = 0x0710 */
        mov $0x0710, %ax
        mov %ax, %es
        mov $O(rm_src), %si
        mov $O(rm_dst) - 0x100, %di
        mov $10, %cx
        rep movsb
        mov $O(rm_src), %si
        mov $O(rm_dst) - 0x100, %di
        mov $10, %cx
        .byte 0x2e                      /* cs: */
        repe cmpsb
        mov %cx, O(res_copy_cx)
        mov $REAL_SEG, %ax
        mov %ax, %fs
        mov $O(rm_src) + 5, %si
        .byte 0x64                      /* fs: */
        lodsw
        mov %ax, O(res_lods)
        mov %ds, %ax
        mov %ax, %es

        lcall $0x0710, $O(farfn) - 0x100       /* far call to another CS */

        movl $0x12345678, %eax          /* 32-bit operands and addresses */
        addl $0x11111111, %eax
        movl %eax, O(res_32)
        xor %esi, %esi
        mov $O(res_32), %si
        movl (%esi), %edx
        addl $1, %edx
        movl %edx, O(res_32b)

        call *O(fnptr)                  /* near indirect call through memory */
        mov %ax, O(res_ind)

        enter $4, $0                    /* ENTER/LEAVE on the 16-bit stack */
        movw $0xbeef, -2(%bp)
        mov -2(%bp), %ax
        leave
        mov %ax, O(res_enter)

        mov $0x1111, %ax                /* PUSHA/POPA */
        mov $0x2222, %cx
        mov $0x3333, %dx
        mov $0x4444, %bx
        pusha
        xor %ax, %ax
        xor %cx, %cx
        xor %dx, %dx
        xor %bx, %bx
        popa
        add %cx, %ax
        add %dx, %ax
        add %bx, %ax
        mov %ax, O(res_pusha)

        stc                             /* PUSHF/POPF */
        pushf
        clc
        popf
        mov $0, %ax
        adc $0, %ax
        mov %ax, O(res_popf)
        cmpw $0, O(dr_test)             /* -append dr0: DR0 execution breakpoint, a linear address */
        je 5f
        xor %ax, %ax
        mov %ax, %fs
        movw $O(db_handler), %fs:0x4
        mov %cs, %fs:0x6
        mov $REAL_BASE + O(bp_here), %eax
        mov %eax, %dr0
        mov $0x1, %eax                  /* L0, execute */
        mov %eax, %dr7
        nop
bp_here:
        nop
5:      mov %sp, O(res_sp)              /* back where it started: 0x6ff0 */
        mov %ss, O(res_ss_sp)

        cli                             /* back to 32-bit protected mode */
        smsw %ax
        or $1, %ax
        lmsw %ax
        ljmpl $0x08, $pm32_back

fib:                                    /* ax = fib(ax) */
        cmp $2, %ax
        jb 2f
        push %ax
        dec %ax
        call fib
        pop %bx
        push %ax
        mov %bx, %ax
        sub $2, %ax
        call fib
        pop %bx
        add %bx, %ax
2:      ret

int60:                                  /* ax *= 3; records FLAGS inside */
        pushf
        popw %cs:O(res_int_flags)
        imul $3, %ax, %ax
        iret

de_handler:                             /* skip the 2-byte DIV */
        push %bp
        mov %sp, %bp
        addw $2, 2(%bp)
        incw %cs:O(res_de)
        pop %bp
        iret

db_handler:                             /* #DB: count it, disarm DR7 (no RF in 16 bits) */
        incw %cs:O(res_db)
        push %eax
        xor %eax, %eax
        mov %eax, %dr7
        pop %eax
        iret

irq0:
        push %ax
        incw %cs:O(ticks)
        mov $0x20, %al
        out %al, $0x20
        pop %ax
        iret

farfn:                                  /* runs with CS = 0x0710 */
        mov %cs, %ax
        mov %ax, %cs:O(res_far_cs) - 0x100
        lret

fn_ind:
        mov $0x4242, %ax
        ret

        .balign 4
rm_idtr: .word 0x3ff
        .long 0
fnptr:  .word O(fn_ind)
res_pm16: .word 0
res_fib: .word 0
res_int: .word 0
res_int_flags: .word 0
res_de: .word 0
ticks:  .word 0
res_copy_cx: .word 0xffff
res_lods: .word 0
res_far_cs: .word 0
res_ind: .word 0
res_enter: .word 0
res_pusha: .word 0
res_popf: .word 0
res_sp: .word 0
res_ss_sp: .word 0xffff
res_db: .word 0
dr_test: .word 0
        .balign 4
res_32: .long 0
bench_t0: .long 0
bench_ticks: .long 0
bench_n: .word 0
res_32b: .long 0
res_real_cr0: .long 0xffffffff
rm_src: .ascii "real mode!"
rm_dst: .fill 10, 1, 0
rm_end:

/* ---- 32-bit: in and out --------------------------------------------------- */
        .code32
        .text
        .globl enter_real
enter_real:
        push %ebp
        push %ebx
        push %esi
        push %edi
        mov %esp, saved_esp
        ljmp $0x38, $0

pm32_back:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %fs
        mov %ax, %gs
        mov %ax, %ss
        mov saved_esp, %esp
        pop %edi
        pop %esi
        pop %ebx
        pop %ebp
        ret

        .data
saved_esp: .long 0
