/* runtime.S — the code that enters and leaves translated code (bt/abi.h).
 * Position-independent: bt_runtime_init copies it into the code cache's
 * runtime area so that blocks reach it with jmp rel32. */
#include "bt/abi_offsets.h"

        .intel_syntax noprefix
        .text
        .globl bt_rt_begin, bt_rt_enter, bt_rt_exit, bt_rt_callout, bt_rt_callout_nofp
        .globl bt_rt_signal_exit, bt_rt_rs_miss
        .globl bt_rt_end

bt_rt_begin:

/* Load guest RFLAGS bits, GPRs and ESP from the bt_cpu at r15, then jump to
 * r11. Only CF PF AF ZF SF OF DF come from the guest (IF, TF, AC... are
 * virtual and never reach the host), and they are set without POPFQ,
 * which cost about 12 cycles of every callout: DF with CLD or STD, OF
 * with an ADD that overflows exactly when it is set (0x7f + 1), then the
 * other five from the low byte with SAHF, which leaves OF alone. */
.macro LOAD_GUEST_AND_JMP target
        mov     eax, [r15 + CPU_EFLAGS]
        test    eax, 0x400
        jz      .Lcld\@
        std
        jmp     .Ldf\@
.Lcld\@:
        cld
.Ldf\@:
        mov     ecx, eax
        shr     ecx, 11
        and     ecx, 1
        add     cl, 0x7f
        mov     ah, al
        sahf
        mov     eax, [r15 + CPU_GPR + 0]
        mov     ecx, [r15 + CPU_GPR + 4]
        mov     edx, [r15 + CPU_GPR + 8]
        mov     ebx, [r15 + CPU_GPR + 12]
        mov     ebp, [r15 + CPU_GPR + 20]
        mov     esi, [r15 + CPU_GPR + 24]
        mov     edi, [r15 + CPU_GPR + 28]
        mov     esp, [r15 + CPU_GPR + 16]
        jmp     \target
.endm

/* Store guest GPRs, switch to the host stack, merge host RFLAGS into the
 * guest's EFLAGS (keeping its virtual bits), and clear DF for C.
 * Clobbers rax, rcx. */
.macro SAVE_GUEST
        mov     [r15 + CPU_GPR + 0], eax
        mov     [r15 + CPU_GPR + 4], ecx
        mov     [r15 + CPU_GPR + 8], edx
        mov     [r15 + CPU_GPR + 12], ebx
        mov     [r15 + CPU_GPR + 16], esp
        mov     [r15 + CPU_GPR + 20], ebp
        mov     [r15 + CPU_GPR + 24], esi
        mov     [r15 + CPU_GPR + 28], edi
        mov     rsp, [r15 + CPU_HOST_RSP]
        pushfq
        pop     rax
        and     eax, GUEST_HOST_FLAGS
        mov     ecx, [r15 + CPU_EFLAGS]
        and     ecx, ~GUEST_HOST_FLAGS
        or      eax, ecx
        mov     [r15 + CPU_EFLAGS], eax
        cld                             /* the C ABI wants DF clear; the guest's is saved */
.endm

/* void enter(struct bt_cpu *cpu, const void *code) */
bt_rt_enter:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        sub     rsp, 8                  /* host_rsp 16-byte aligned for calls */
        mov     r15, rdi
        mov     [r15 + CPU_HOST_RSP], rsp
        /* Of the monitor's FPU state the C ABI keeps only the x87 control
         * word and MXCSR's control bits across a call (SysV x86-64 psABI
         * §3.2.1); the rest is the caller's to lose. */
        stmxcsr [r15 + CPU_MXCSR_HOST]
        fnstcw  [r15 + CPU_FCW_HOST]
        fxrstor64 [r15 + CPU_FX_GUEST]
        mov     r14, [r15 + CPU_MEMBASE]
        mov     r13, [r15 + CPU_JCACHE]
        mov     r11, rsi
        inc     qword ptr [r15 + CPU_ENTRIES]   /* the monitor ran: see bt_cpu.entries */
        LOAD_GUEST_AND_JMP r11

/* Block exit: cpu->next_eip and cpu->exit_slot are already set. */
bt_rt_exit:
        SAVE_GUEST
/* Signal exit: the handler stored the guest state and set rsp = host_rsp.
 * Also the tail of a callout that leaves translated code. */
bt_rt_signal_exit:
        cld                             /* sigreturn restored the guest's DF */
        fxsave64 [r15 + CPU_FX_GUEST]
        /* The ABI's state for the monitor: an empty x87 stack, its control
         * word and MXCSR (the guest's XMM values may stay in the registers). */
        fninit
        fldcw   [r15 + CPU_FCW_HOST]
        ldmxcsr [r15 + CPU_MXCSR_HOST]
        add     rsp, 8
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret

/* XMM0-7 and MXCSR of the guest, set aside while C runs in a callout;
 * with mxcsr=0 (bt_rt_callout_nofp) MXCSR is not touched. (Loading MXCSR
 * only when the guest's differs from the monitor's measured no faster:
 * the compare waits for the STMXCSR.) */
.macro SAVE_XMM mxcsr
        movaps  [r15 + CPU_XMM_GUEST + 0x00], xmm0
        movaps  [r15 + CPU_XMM_GUEST + 0x10], xmm1
        movaps  [r15 + CPU_XMM_GUEST + 0x20], xmm2
        movaps  [r15 + CPU_XMM_GUEST + 0x30], xmm3
        movaps  [r15 + CPU_XMM_GUEST + 0x40], xmm4
        movaps  [r15 + CPU_XMM_GUEST + 0x50], xmm5
        movaps  [r15 + CPU_XMM_GUEST + 0x60], xmm6
        movaps  [r15 + CPU_XMM_GUEST + 0x70], xmm7
.if \mxcsr
        stmxcsr [r15 + CPU_MXCSR_GUEST]
        ldmxcsr [r15 + CPU_MXCSR_HOST]
.endif
.endm
.macro RESTORE_XMM mxcsr
.if \mxcsr
        ldmxcsr [r15 + CPU_MXCSR_GUEST]
.endif
        movaps  xmm0, [r15 + CPU_XMM_GUEST + 0x00]
        movaps  xmm1, [r15 + CPU_XMM_GUEST + 0x10]
        movaps  xmm2, [r15 + CPU_XMM_GUEST + 0x20]
        movaps  xmm3, [r15 + CPU_XMM_GUEST + 0x30]
        movaps  xmm4, [r15 + CPU_XMM_GUEST + 0x40]
        movaps  xmm5, [r15 + CPU_XMM_GUEST + 0x50]
        movaps  xmm6, [r15 + CPU_XMM_GUEST + 0x60]
        movaps  xmm7, [r15 + CPU_XMM_GUEST + 0x70]
.endm

/* Callout: r10 = struct bt_site *, r11 = resume address. C runs on the host
 * stack. The guest's x87 state stays in the FPU (the monitor's C code uses
 * no x87/MMX); its XMM0-7 and MXCSR are set aside, since libc uses vector
 * registers and the guest may have unmasked SSE exceptions. A full FXSAVE
 * happens only if the callout leaves translated code.
 *
 * bt_rt_callout_nofp is the same for handlers that run no floating-point
 * instruction (bt_handlers.no_fp): MXCSR only governs those, so the C code
 * may run under the guest's, and the STMXCSR/LDMXCSR pair each way is left
 * out (STMXCSR alone takes up to 29 cycles on this AMD host; a SYSENTER/
 * SYSEXIT round trip measured 7-8% faster). If such a callout leaves
 * translated code, the FXSAVE in bt_rt_signal_exit takes the guest's
 * MXCSR straight from the FPU. */
.macro CALLOUT mxcsr
        mov     [r15 + CPU_RESUME], r11
        mov     [r15 + CPU_SITE], r10
        SAVE_GUEST
        inc     qword ptr [r15 + CPU_ENTRIES]   /* after SAVE_GUEST: the guest's flags are kept */
        SAVE_XMM \mxcsr
        mov     rdi, r15
        mov     rsi, [r15 + CPU_SITE]
        call    [rsi]                   /* site->fn(cpu, site) */
        RESTORE_XMM \mxcsr
        test    eax, eax
        jnz     1f
        mov     r14, [r15 + CPU_MEMBASE]        /* the callout may switch spaces */
        mov     r13, [r15 + CPU_JCACHE]         /* ... or privilege level */
        mov     r11, [r15 + CPU_RESUME]
        LOAD_GUEST_AND_JMP r11
1:      mov     qword ptr [r15 + CPU_EXIT_SLOT], 0     /* BT_EXIT: not chainable */
        jmp     bt_rt_signal_exit       /* guest state is stored: leave bt_enter */
.endm

bt_rt_callout:
        CALLOUT 1
bt_rt_callout_nofp:
        CALLOUT 0

/* Shadow return stack miss (bt/xlate_rstack.c): a translated RET jumped
 * through a slot that the monitor reset, or a landing pad found that the
 * guest returns elsewhere than its CALL's next instruction. r11 = the
 * guest's return EIP (zero-extended). Look it up in the jump
 * cache without touching the guest's flags (RCX parked in r8, jrcxz), else
 * leave to the dispatcher (not chainable). */
bt_rt_rs_miss:
        mov     r8, rcx
        movzx   r10d, r11w
        lea     r10, [r10 + r10]
        lea     r10, [r13 + r10 * 8]
        mov     rcx, [r10]
        not     rcx
        lea     rcx, [rcx + r11 + 1]
        jrcxz   2f
        mov     rcx, r8
        mov     [r15 + CPU_NEXT_EIP], r11d
        mov     qword ptr [r15 + CPU_EXIT_SLOT], 0
        jmp     bt_rt_exit
2:      mov     rcx, r8
        jmp     [r10 + 8]

bt_rt_end:
        .section .note.GNU-stack,"",@progbits
