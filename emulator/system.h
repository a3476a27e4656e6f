/* system — the internal interface of the system-virtualization half of the
 * monitor (issue #4): descriptor tables and segment registers (desc.c),
 * operands of emulated instructions (operand.c), delivery of exceptions and
 * interrupts through the guest IDT (exceptions.c), the interrupt and timer
 * plumbing (interrupts.c), and the callouts for sensitive instructions
 * (sysinsn.c: K_SYS; seginsn.c: K_SEG, LAR/LSL/VERR/VERW/ARPL; transfer.c:
 * K_FAR, K_IRET, K_INT, SYSENTER/SYSEXIT).
 *
 * Conventions. A check that may fault returns a `struct fault`; vec < 0
 * means none. Handlers check everything before they change any guest state,
 * so a fault leaves the instruction without effect (SDM vol. 3 §6.5: faults
 * are restartable). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/vcpu.h"

#define SITE_INSN(site) (&((const struct bt_site_insn *)(const void *)(site))->insn)

/* The block-key mode word of the vCPU's current state (bits: bt/abi.h). */
static inline uint32_t vcpu_mode(const struct vcpu *v)
{
    return (v->cpl & BT_MODE_CPL_MASK) | ((v->cr0 & CR0_PG) ? BT_MODE_PG : 0) |
           ((v->cr0 & CR0_FPU_TRAP_BITS) ? BT_MODE_FPU_TRAP : 0) |
           ((v->cr4 & CR4_TSD) && v->cpl ? BT_MODE_TSC_TRAP : 0) |
           v->segset << BT_MODE_SEGSET_SHIFT | v->seglim << BT_MODE_SEGLIM_SHIFT | v->bits16;
}

/* Real-address mode (CR0.PE = 0) and virtual-8086 mode: segment registers
 * are loaded as selector << 4, with no descriptor (SDM vol. 3A §20.1.1,
 * §20.2.1). */
static inline bool vcpu_real(const struct vcpu *v) { return !(v->cr0 & CR0_PE); }
static inline bool vcpu_seg_real(const struct vcpu *v) { return vcpu_real(v) || v->vm86; }
/* SS.B = 0: implicit stack accesses use SP (vol. 1 §6.2.3). A null SS
 * (only ever met while a faulting task switch is reported) counts as 32-bit. */
static inline bool vcpu_stack16(const struct vcpu *v)
{
    return v->seg[SEG_SS].ar && !(v->seg[SEG_SS].ar >> 22 & 1);
}
/* The linear address of code offset eip in CS. */
static inline uint32_t vcpu_code_lin(const struct vcpu *v, uint32_t eip) { return v->seg[SEG_CS].base + eip; }

/* CS, SS, CPL or other segment registers changed together (a control
 * transfer; CPL was old_cpl before it): the block mode, jump cache and
 * shadow space that follow, from the memo when it has them (derive.c). */
void vcpu_derive(struct vcpu *v, unsigned old_cpl);
/* Something the memo's entries depend on changed wholesale: drop them. */
void derive_forget(struct vcpu *v);
/* The vCPU's derived state is the whole of it (no error stopped the work
 * half way), so derive_capture may remember it. */
bool derive_whole(const struct vcpu *v);
/* Remember what was derived / put it back (after CPL was old_cpl). */
void derive_capture(const struct vcpu *v, struct derived *r);
void derive_install(struct vcpu *v, const struct derived *r, unsigned old_cpl);
/* Segment bases changed (segsets.c): recompute the base set in the mode. */
void segset_update(struct vcpu *v);
/* The key of a block translated in `mode` (vcpu_mode) that folds in no FS
 * base (any = BT_MODE_ANY_FS), no GS base (BT_MODE_ANY_GS), neither
 * (BT_MODE_ANY_FSGS) or both (0): one block then serves every such base. */
uint32_t segset_key(const struct vcpu *v, uint32_t mode, uint32_t any);
/* bt_config.seg_bases (opaque: struct vm *). */
void segset_bases(void *opaque, uint32_t set, uint32_t base[6]);
/* Segment limits changed: recompute the non-flat set in the mode (seglimit.c). */
void seglim_update(struct vcpu *v);
int co_seglimit(struct bt_cpu *cpu, const struct bt_site *site);

/* ---- faults ------------------------------------------------------------ */

/* struct fault, NO_FAULT, FAULT, GP, raise_fault: emulator/fault.h. */
const char *exc_name(int vec);

/* ---- descriptors (desc.c; SDM vol. 3 §3.4-3.5, §5) ----------------------- */

struct desc {
    uint32_t lo, hi;
};
static inline uint32_t desc_base(struct desc d)
{
    return (d.lo >> 16) | (d.hi & 0xffu) << 16 | (d.hi & 0xff000000u);
}
static inline uint32_t desc_limit(struct desc d)
{
    uint32_t l = (d.lo & 0xffffu) | (d.hi & 0x000f0000u);
    return (d.hi & (1u << 23)) ? l << 12 | 0xfffu : l;      /* G: 4 KiB units */
}
static inline unsigned desc_type(struct desc d) { return d.hi >> 8 & 15; }
static inline bool desc_s(struct desc d) { return d.hi >> 12 & 1; }       /* code/data */
static inline unsigned desc_dpl(struct desc d) { return d.hi >> 13 & 3; }
static inline bool desc_present(struct desc d) { return d.hi >> 15 & 1; }
/* D/B: a 32-bit code segment, or a 32-bit stack (ESP) for SS. */
static inline bool desc_db(struct desc d) { return d.hi >> 22 & 1; }
static inline uint32_t desc_ar(struct desc d) { return d.hi & 0x00f0ff00u; }

/* Code/data type bits (S=1): bit 3 code; code: 2 conforming, 1 readable;
 * data: 2 expand-down, 1 writable; bit 0 accessed. */
static inline bool desc_is_code(struct desc d) { return desc_s(d) && (desc_type(d) & 8); }
static inline bool desc_is_data(struct desc d) { return desc_s(d) && !(desc_type(d) & 8); }
static inline bool ar_code(uint32_t ar) { return (ar >> 8 & 0x18) == 0x18; }
static inline bool ar_conforming(uint32_t ar) { return ar_code(ar) && (ar >> 8 & 4); }
static inline unsigned ar_dpl(uint32_t ar) { return ar >> 13 & 3; }
static inline bool ar_big(uint32_t ar) { return ar >> 22 & 1; }            /* D/B */

/* System descriptor types (S=0). */
enum {
    SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALLGATE16 = 4, SYS_TASKGATE = 5,
    SYS_INTGATE16 = 6, SYS_TRAPGATE16 = 7, SYS_TSS32_AVAIL = 9, SYS_TSS32_BUSY = 11,
    SYS_CALLGATE32 = 12, SYS_INTGATE32 = 14, SYS_TRAPGATE32 = 15,
};

/* Read the descriptor of selector sel (its GDT or LDT entry). false when the
 * index is beyond the table's limit, or TI=1 with no LDT. */
bool desc_read(struct vcpu *v, uint16_t sel, struct desc *d);
/* Set the accessed bit of a code/data descriptor in memory, as a load does. */
void desc_set_accessed(struct vcpu *v, uint16_t sel, struct desc *d);
void seg_from_desc(struct segreg *s, uint16_t sel, struct desc d);

/* The checks of a segment-register load (SDM vol. 2 MOV, POP, LDS/LES/LFS/
 * LGS/LSS "Protected Mode Exceptions"), into *out without committing it.
 * sreg: SEG_DS/ES/FS/GS/SS (CS loads go through the far transfers). */
struct fault seg_check_load(struct vcpu *v, int sreg, uint16_t sel, struct segreg *out);
/* Make it the register's value (sets the accessed bit in the descriptor).
 * Loading SS starts the one-instruction interrupt shadow. */
void seg_commit(struct vcpu *v, int sreg, const struct segreg *s);
/* Checks of a code segment for a far JMP/CALL to it (same privilege), or
 * of the CS (rpl = the new CPL) of a RET/IRET: SDM "JMP", "RET", "IRET". */
struct fault seg_check_code_jump(struct vcpu *v, uint16_t sel, struct desc *d);
struct fault seg_check_code_return(struct vcpu *v, uint16_t sel, struct desc *d);
/* The SS of a stack switch to privilege level `cpl` (selector from a TSS or
 * a return frame). err_vec is #TS for TSS stacks, #GP for return frames.
 * *d: the descriptor, for desc_set_accessed at the commit. */
struct fault seg_check_stack(struct vcpu *v, uint16_t sel, unsigned cpl, int err_vec, uint32_t ext,
                             struct segreg *out, struct desc *d);
/* Switch CS to sel/d at privilege level cpl: the hidden part, CPL and the
 * block-key mode (the caller sets the descriptor's accessed bit). Every
 * code segment runs (16-bit ones as 16-bit code, any base); the result is
 * kept for callers that stop the run on false. */
bool seg_set_cs(struct vcpu *v, uint16_t sel, struct desc d, unsigned cpl, uint32_t eip);
/* The same without the block mode: for a transfer that changes more
 * segment registers and then calls vcpu_derive once. */
void seg_load_cs(struct vcpu *v, uint16_t sel, struct desc d, unsigned cpl);
/* After a return to an outer ring: null ES, DS, FS, GS if they are data or
 * non-conforming code segments more privileged than the new CPL (the
 * caller calls vcpu_derive). */
void seg_clear_inner(struct vcpu *v);
/* Power-on state for a Multiboot kernel: flat 4 GiB segments, ring 0. */
void sys_reset(struct vcpu *v);
/* A far transfer or event changed CPL: select the jump cache for the mode. */
void vcpu_mode_changed(struct vcpu *v);

/* ---- real-address and virtual-8086 mode (realmode.c) ------------------- */

/* A segment-register load there: base = sel << 4 (CS also gets 16-bit code
 * attributes; in virtual-8086 mode every segment is 64 KiB, DPL 3). */
void seg_load_real(struct vcpu *v, int sreg, uint16_t sel, struct segreg *out);
/* Load CS that way (CPL 0, or 3 in virtual-8086 mode) and update the mode. */
void cs_load_real(struct vcpu *v, uint16_t sel);
/* MOV CR0 or LMSW changed CR0.PE. */
void cr0_pe_changed(struct vcpu *v);
int far_real(struct vcpu *v, const struct bt_site *site);       /* far JMP/CALL/RET */
int iret_real(struct vcpu *v, const struct bt_site *site);
/* IRET at CPL 0 with VM in the EFLAGS image; esp points past EFLAGS. */
int iret_to_v86(struct vcpu *v, const struct bt_site *site, uint32_t esp, uint32_t eip, uint32_t cs,
                uint32_t fl);
/* Deliver vector through the interrupt vector table (CR0.PE = 0). */
struct fault deliver_real(struct vcpu *v, int vector, uint32_t eip, bool *stopped);

/* Near CALL/RET/JMP on a 16-bit stack or through a 16-bit address
 * (nearbranch.c). */
int near_branch(struct vcpu *v, const struct bt_site *site);

/* ---- operands (operand.c) ----------------------------------------------- */

/* Segment register and offset of the ModRM memory operand of `in`
 * (32- or 16-bit addressing). */
int op_ea(const struct vcpu *v, const struct insn *in, uint32_t *off);
/* Guest memory through a segment: the base is added; limits are not
 * checked (README). false if the memory is not RAM: the run has been
 * stopped with a message. */
bool seg_read(struct vcpu *v, int sreg, uint32_t off, void *dst, unsigned n, uint32_t eip);
bool seg_write(struct vcpu *v, int sreg, uint32_t off, const void *src, unsigned n, uint32_t eip);
/* The r/m operand of `in` (register or memory), n = 2 or 4 bytes. */
bool op_read_rm(struct vcpu *v, const struct insn *in, unsigned n, uint32_t *val, uint32_t eip);
bool op_write_rm(struct vcpu *v, const struct insn *in, unsigned n, uint32_t val, uint32_t eip);
/* Write n bytes of val into GPR r (n = 2 keeps the upper half). */
void gpr_write(struct bt_cpu *cpu, int r, unsigned n, uint32_t val);
/* Stack helpers on SS:ESP, or SS:SP for a 16-bit stack (the upper half of
 * *esp kept). push updates *esp. */
bool stack_push(struct vcpu *v, uint32_t *esp, unsigned n, uint32_t val, uint32_t eip);
bool stack_pop(struct vcpu *v, uint32_t *esp, unsigned n, uint32_t *val, uint32_t eip);
/* `count` (up to 4) pops in one guest access (a return frame: each access
 * through the guest's tables costs tens of cycles); as many stack_pop
 * calls where SP would wrap. */
bool stack_pop_n(struct vcpu *v, uint32_t *esp, unsigned n, unsigned count, uint32_t *vals, uint32_t eip);
/* EFLAGS as the guest sees it (IF from the virtual IF; RF and VM clear). */
uint32_t guest_eflags(const struct bt_cpu *cpu);
/* Load EFLAGS bits `mask` from val (IF into the virtual IF). */
void set_guest_eflags(struct vcpu *v, uint32_t val, uint32_t mask);

/* ---- events (exceptions.c; SDM vol. 3 §6.12-6.15) ----------------------- */

enum event_src {
    EV_EXC,                     /* exception: EXT=1 in error codes, no gate-DPL check */
    EV_SOFT,                    /* INT n, INT3, INTO: gate DPL >= CPL, EXT=0 */
    EV_EXTINT,                  /* hardware interrupt: EXT=1 */
    EV_ICEBP,                   /* INT1: like a hardware event, no DPL check */
};
/* Deliver vector through the guest IDT with `eip` as the return address,
 * applying the double-fault rules to faults during delivery, which report
 * fault_eip (a software interrupt's own EIP: the INT faults). Returns false
 * if the run must stop (triple fault, or a state bt86 cannot run). */
bool event_deliver(struct vcpu *v, int vector, enum event_src src, bool has_err, uint32_t err,
                   uint32_t eip, uint32_t fault_eip);
/* The dispatcher's half: deliver v->exc (raised by a callout or a signal). */
void exc_deliver_pending(struct vcpu *v);

/* ---- task switches (taskswitch.c; SDM vol. 3A §7.3) ---------------------- */

enum task_src { TASK_JMP, TASK_CALL, TASK_INT, TASK_IRET };
struct task_result {
    bool committed;             /* the new task's state is loaded: a fault is its */
    bool stopped;               /* the run was stopped with a message */
};
/* Switch to the task of TSS selector sel (descriptor d, from the GDT),
 * saving ret_eip as the old task's EIP; TASK_INT pushes err on the new
 * task's stack if has_err. The caller has done its own checks (gate DPL,
 * gate present). ext: the EXT bit of error codes. */
struct fault task_switch(struct vcpu *v, uint16_t sel, struct desc d, enum task_src src, uint32_t ret_eip,
                         bool has_err, uint32_t err, uint32_t ext, struct task_result *res);

/* ---- interrupts and timers (interrupts.c) -------------------------------- */

/* A maskable interrupt can be taken now (IF=1, no shadow). */
static inline bool intr_deliverable(const struct vcpu *v)
{
    return v->bt.irq_pending && v->bt.vif && !v->bt.inhibit_irq;
}
/* Acknowledge the PIC and deliver its vector (false: the run must stop). */
bool intr_deliver(struct vcpu *v);

int events_create(struct vm *vm, char *err, size_t errlen);
void events_destroy(struct vm *vm);
void events_start(struct vcpu *v);     /* vm_run begins */
void events_stop(struct vcpu *v);      /* vm_run ends: no stray host timer */
/* The guest clock was set anew (a snapshot was loaded): forget deadlines
 * and ticks owed on the old one. */
void events_clock_changed(struct vcpu *v);
/* Device timing may have changed (a port write): arm the host timer for
 * the next device event if it is earlier than the one armed. */
void events_rearm(struct vcpu *v);
/* Bring the devices up to date (PIT, RTC, UART input) if the timer fired. */
void events_service(struct vcpu *v);
/* HLT: sleep on the host until a device event or a signal. */
void events_wait(struct vcpu *v);
/* vm_config.poll_storm: maybe protect the poll page before entering the
 * block at eip (poll_storm.c). */
void poll_storm(struct vcpu *v, uint32_t eip);
/* The host signal of the event timer; its handler (signals.c) sets
 * timer_fired and requests an exit through the poll page. */
int events_timer_signal(void);

/* ---- callouts ---------------------------------------------------------- */

int co_sys(struct bt_cpu *cpu, const struct bt_site *site);      /* sysinsn.c */
int co_seg(struct bt_cpu *cpu, const struct bt_site *site);      /* seginsn.c */
int seg_insn_lar(struct vcpu *v, const struct bt_site *site);    /* LAR LSL VERR VERW ARPL */
int co_far(struct bt_cpu *cpu, const struct bt_site *site);      /* transfer.c */
int co_iret(struct bt_cpu *cpu, const struct bt_site *site);
int co_int(struct bt_cpu *cpu, const struct bt_site *site);
int co_cli(struct bt_cpu *cpu, const struct bt_site *site);
int co_sti(struct bt_cpu *cpu, const struct bt_site *site);
/* CPUID.1 EAX (signature) and EDX (features), for the MP table. */
void cpuid_signature(struct vcpu *v, uint32_t *signature, uint32_t *features);
int sys_sysenter(struct vcpu *v, const struct bt_site *site);
/* The MSRs' power-on values (sysinsn.c). */
void msr_reset(struct vcpu *v);
int sys_sysexit(struct vcpu *v, const struct bt_site *site);
/* #GP(0) unless CPL <= IOPL or the TSS I/O bitmap allows ports
 * [port, port+size) (SDM vol. 1 §19.5.2). */
struct fault io_permission(struct vcpu *v, uint16_t port, unsigned size);
/* A REP string that has done `done` iterations stops here, EIP at the
 * instruction, so that an interrupt or device event is taken (callouts.c). */
bool rep_should_yield(struct vcpu *v, unsigned done);
/* One-line note on stderr, once per vCPU and topic (bit). */
void sys_warn_once(struct vcpu *v, unsigned bit, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* For a callout that moved EIP (INT, IRET, far transfers, SYSENTER/SYSEXIT):
 * continue straight into the block at cpu->next_eip if the jump cache has it
 * and nothing waits for the dispatcher, saving the round trip through
 * bt_enter's full FPU save and restore. Returns BT_RESUME or BT_EXIT. */
int callout_continue(struct vcpu *v);
