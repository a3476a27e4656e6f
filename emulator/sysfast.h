/* sysfast — SYSENTER/SYSEXIT round trips that reuse the state the last
 * pair of them derived, without working it out or checking it field by
 * field (sysfast.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/derive.h"

enum { SF_ENTER, SF_EXIT };

/* What a SYSENTER (side SF_ENTER) or SYSEXIT (SF_EXIT) left in the vCPU
 * besides ESP, EIP and EFLAGS: CS, SS, CPL and what vcpu_derive worked
 * out from them, with the generations it is valid under. */
struct sysfast_side {
    uint16_t cs_sel, ss_sel;
    uint32_t cs_ar, ss_ar;      /* both flat: base 0, limit 4 GiB - 1 */
    uint32_t cpl;
    struct derived r;           /* what vcpu_derive worked out (derive.c) */
    uint32_t derive_gen, msr_cs;
    uint64_t mmu_gen;
};

struct sysfast {
    struct sysfast_side side[2];
    /* linked[d]: side[d] is what instruction d makes of side[!d]. */
    bool linked[2];
    int last;                   /* the side the last SYSENTER/SYSEXIT made, -1: none */
    uint64_t entries;           /* bt_cpu.entries at that instruction */
};

struct vcpu;
/* The instruction's effect from the remembered side, when the state it
 * runs in is exactly the other side: BT_RESUME or BT_EXIT; -1 if not. */
int sysfast_run(struct vcpu *v, int dir);
/* After the full SYSENTER (SF_ENTER) or SYSEXIT (SF_EXIT) succeeded:
 * remember the side it made, and whether it was made from the other one. */
void sysfast_record(struct vcpu *v, int dir);
