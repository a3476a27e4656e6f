/* boot.S — entry, exception stubs and the ring switches of the
 * nanobenchmark kernel (nano.c has the overview).
 *
 * Multiboot v1 hands over in 32-bit protected mode, paging off, with
 * EAX = 0x2BADB002 and EBX = the info block; we only add a stack. */
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00000002          /* bit 1: give us the memory fields */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    mov $stack_top, %esp
    push %ebx
    push %eax
    call nano_main
1:  cli
    hlt
    jmp 1b

/* The callee of the call/ret benchmark. */
    .globl nano_ret
nano_ret:
    ret

/* Exceptions 0-31: push a dummy error code where the CPU pushes none
 * (SDM Vol. 3 §6.13: 8, 10-14 and 17 have one), then the vector. */
    .macro EXC v
exc_\v:
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17)
    .else
    push $0
    .endif
    push $\v
    jmp exc_common
    .endm
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    EXC \v
    .endr

    .globl isr_unexpected
isr_unexpected:                         /* any other vector */
    push $0
    push $255
exc_common:                             /* frame: pusha, vector, error, eip, cs, eflags */
    pusha
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    push %esp
    call nano_exception                 /* prints and exits; never returns */
2:  hlt
    jmp 2b

    .section .rodata
    .globl exc_stubs
exc_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long exc_\v
    .endr
    .text

/* int 0x30 (ring 0) and int 0x80 (from ring 3): return at once. */
    .globl isr_iret
isr_iret:
    iret

/* IA32_SYSENTER_EIP of the sysenter benchmark: straight back (EDX, ECX). */
    .globl sysenter_exit
sysenter_exit:
    sysexit

/* #DE from `div %ecx` (F7 F1, 2 bytes): skip the instruction. */
    .globl isr_de_skip
isr_de_skip:
    addl $2, (%esp)
    iret

/* #PF from `mov (%ebx),%eax` (8B 03, 2 bytes): drop the error code, skip it. */
    .globl isr_pf_skip
isr_pf_skip:
    add $4, %esp
    addl $2, (%esp)
    iret

/* void enter_user(void (*fn)(void), uint32_t user_esp)
 * Runs fn at CPL 3 on user_esp and comes back here when fn returns: the
 * ring-3 trampoline executes int 0x81, whose handler drops the ring-0 frame
 * and returns to our caller on the saved kernel stack. */
    .globl enter_user
enter_user:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, kernel_saved_esp
    mov 20(%esp), %eax                  /* fn: survives the iret in EAX */
    mov 24(%esp), %edx                  /* user stack */
    mov $0x23, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    push $0x23                          /* SS */
    push %edx                           /* ESP */
    pushf                               /* EFLAGS */
    push $0x1b                          /* CS: ring-3 code */
    push $user_trampoline               /* EIP */
    iret
user_trampoline:
    call *%eax
    int $0x81

    .globl isr_leave_user
isr_leave_user:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov kernel_saved_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .bss
    .align 16
kernel_saved_esp:
    .long 0
    .align 16
    .space 65536
stack_top:

    .section .note.GNU-stack, "", @progbits
