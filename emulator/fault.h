/* fault — a guest exception as the monitor raises it (KVM's struct
 * x86_exception): vector, error code and, for #PF, the address for CR2.
 *
 * Every exception an instruction raises — from a callout, the signal path
 * (a host fault in translated code), a descriptor or TSS read, a fetch —
 * goes through raise_fault, which records it for the dispatcher to deliver
 * through the guest IDT (exceptions.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Architectural exception vectors (SDM vol. 3 §6.3.1). */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
    EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* SDM vol. 3 §6.13 / table 6-1: the vectors that push an error code. */
static inline bool exc_has_error(int vec)
{
    return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

struct fault {
    int vec;                    /* exception vector, or -1 for none */
    bool has_err;               /* an error code is pushed */
    uint32_t err;               /* error code, if has_err */
    uint32_t cr2;               /* #PF: the linear address for CR2 */
};
#define NO_FAULT         ((struct fault){ .vec = -1 })
#define FAULT(v, e)      ((struct fault){ .vec = (v), .has_err = exc_has_error(v), .err = (e) })
#define GP(e)            FAULT(EXC_GP, (e))
#define PF(e, lin)       ((struct fault){ .vec = EXC_PF, .has_err = true, .err = (e), .cr2 = (lin) })
/* INT n / INT3 / INTO reported as an exception (stop_on_exception): a
 * software interrupt pushes no error code, whatever its vector. */
#define SOFT_INT(v)      ((struct fault){ .vec = (v) })

/* Record f, raised by the instruction at `eip` (a fault's own EIP, a
 * trap's next one), for the dispatcher to deliver; a #PF loads CR2 now.
 * A page fault met while reading a descriptor or the TSS for the same
 * instruction takes precedence (guestmem.c pf_take). Returns BT_EXIT, so a
 * callout can `return raise_fault(...)`. */
int raise_fault(struct vcpu *v, struct fault f, uint32_t eip);
