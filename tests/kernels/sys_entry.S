/* sys_entry.S — trap stubs and the ring-3 trampoline of the system test
 * kernels (sys_lib.h). Each of the 256 stubs pushes a dummy error code
 * where the CPU pushes none (SDM vol. 3 §6.13: 8, 10-14 and 17 have one),
 * then its vector, and joins trap_common, which calls trap_handler(frame). */

        .text
        .macro STUB v
stub_\v:
        .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17)
        .else
        pushl $0
        .endif
        pushl $\v
        jmp trap_common
        .endm

        .altmacro
        .set i, 0
        .rept 256
        STUB %i
        .set i, i + 1
        .endr

trap_common:
        cmpl $0x81, (%esp)
        je leave_user
        pusha
        push %ds
        push %es
        mov $0x10, %ax                  /* the handler's own data segments */
        mov %ax, %ds
        mov %ax, %es
        cld
        lea 8(%esp), %eax
        push %eax
        call trap_handler
        add $4, %esp
        pop %es
        pop %ds
        popa
        add $8, %esp
        iret

/* void run_user_asm(void (*fn)(void), uint32_t user_esp, uint32_t eflags) */
        .globl run_user_asm
run_user_asm:
        push %ebp
        push %ebx
        push %esi
        push %edi
        mov %esp, kernel_saved_esp
        mov 20(%esp), %eax
        mov 24(%esp), %edx
        mov 28(%esp), %ecx
        mov $0x23, %bx
        mov %bx, %ds
        mov %bx, %es
        mov %bx, %fs
        mov %bx, %gs
        push $0x23
        push %edx
        push %ecx
        push $0x1b
        push $user_trampoline
        iret
user_trampoline:
        call *%eax
        int $0x81

leave_user:                             /* int 0x81 from ring 3: back to run_user's caller */
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

        .section .rodata
        .globl trap_stubs
        .align 4
        .macro STUBADDR v
        .long stub_\v
        .endm
trap_stubs:
        .set i, 0
        .rept 256
        STUBADDR %i
        .set i, i + 1
        .endr

        .bss
        .align 4
kernel_saved_esp:
        .long 0

        .section .note.GNU-stack, "", @progbits
