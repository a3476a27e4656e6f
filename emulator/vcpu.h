/* vcpu — the monitor's internal machine state (struct vm, struct vcpu).
 * Internal to emulator/; other folders see only vm.h and bt/abi.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "bt/bt.h"
#include "cache/cache.h"
#include "emulator/hw/apic.h"
#include "decoder/x86.h"
#include "emulator/acctlb.h"
#include "emulator/debug.h"
#include "emulator/debugexc.h"
#include "emulator/derive.h"
#include "emulator/fault.h"
#include "emulator/hw/devices.h"
#include "emulator/hw/fw_cfg.h"
#include "emulator/hw/ide.h"
#include "emulator/hw/pci.h"
#include "emulator/hw/vga.h"
#include "emulator/hw/io.h"
#include "emulator/hw/timers.h"
#include "emulator/jcache.h"
#include "emulator/stats.h"
#include "emulator/sysfast.h"
#include "emulator/vm.h"
#include "shadowmmu/mmu.h"

enum exit_reason {
    EXIT_NONE,
    EXIT_HALT,
    EXIT_DEBUG_EXIT,
    EXIT_EXCEPTION,
    EXIT_TRIPLE_FAULT,
    EXIT_TIMEOUT,
    EXIT_RESET,
    EXIT_ERROR,
    EXIT_POWEROFF,
};

/* A segment register and its hidden part (SDM vol. 3 §3.4.3): what the
 * last load took from the descriptor. `ar` holds the access rights as LAR
 * returns them (descriptor dword 1 & 0x00f0ff00: type, S, DPL, P in bits
 * 8-15; AVL, D/B, G in bits 20-23); ar == 0 marks a null (unusable) one. */
struct segreg {
    uint16_t sel;
    uint32_t base;
    uint32_t limit;             /* in bytes, granularity applied */
    uint32_t ar;
};

struct dtable {                 /* GDTR, IDTR */
    uint32_t base;
    uint16_t limit;
};

#define CR0_FPU_TRAP_BITS (CR0_EM | CR0_TS)
#define SEGSET_MAX 255

/* A page fault met by one of the monitor's own guest accesses
 * (guestmem.c): the caller raises it. `site` is the callout being served,
 * so a note left by an access whose failure was tolerated is not taken
 * for another instruction's. */
struct pf_note {
    bool pending;
    struct fault pf;
    uint64_t site;
};

/* What the SIGSEGV handler decided (memfault.c), for after the guest state
 * is copied out of the signal context. */
struct mf_note {
    struct fault pf;            /* MF_PF */
    struct insn insn;           /* MF_EMULATE: the faulting instruction */
    uint32_t fail_lin;          /* memop_run: the linear address an access failed at */
    void *uc;                   /* MF_EMULATE: the signal context (its FPU state, bounce.c) */
};

/* The last #PF delivered, until the handler returns to the instruction
 * (paging_pf_return). */
struct pf_return {
    bool pending;
    uint32_t eip, lin;
};

/* Traced stores being single-stepped with the host trap flag (mmu.h:
 * mmu_unprotect_for_store ... mmu_store_done). A store crossing two traced
 * pages has two. */
struct step_state {
    uint8_t n;
    struct { uint32_t gpa; uint16_t len; } st[2];
    uint8_t nb;                 /* open-bus pages lent for this step (memfault.c) */
    struct { struct space *s; uint32_t lin; } bounce[2];
};

struct vcpu {
    struct bt_cpu bt;           /* first: R15 points here; the poll page is just below */
    struct vm *vm;
    bt_enter_fn enter;
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t cpl;
    uint32_t segset;            /* index of the current segment bases (segsets.c), 0: flat */
    uint32_t seglim;            /* data segments that are not flat (BT_MODE_SEGLIM, seglimit.c) */
    uint32_t bits16;            /* BT_MODE_CODE16 | BT_MODE_STACK16 as CS and SS say (segsets.c) */
    bool vm86;                  /* EFLAGS.VM: virtual-8086 mode (realmode.c) */
    /* segset with FS, GS, both bases zeroed (index BT_MODE_ANY_* >> 22;
     * [0] is segset itself): the keys of blocks that ignore them. */
    uint32_t segset_any[4];
    uint8_t segset_memo[64];    /* tuple hash -> a likely index (segsets.c) */
    unsigned nsegsets;
    uint32_t segsets[SEGSET_MAX + 1][6];
    struct derive_state derive; /* the last transfers' derived states (derive.c) */
    struct sysfast sysfast;     /* the last SYSENTER/SYSEXIT pair's states (sysfast.c) */
    struct vm_exception exc;    /* the pending/last exception */
    enum exit_reason exit;
    char error[200];

    /* Issue #4: system state (emulator/system.h). */
    struct segreg seg[6];       /* ES CS SS DS FS GS (SEG_* order) */
    struct segreg ldtr, tr;
    struct dtable gdtr, idtr;
    bool idt_loaded;            /* LIDT ran: else a fault says "no IDT" */
    uint32_t dr[8];
    struct dbx_state dbx;       /* TF single steps, DR0-DR3 breakpoints (debugexc.c) */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat, misc_enable, bios_sign_id;   /* IA32_PAT, IA32_MISC_ENABLE, 0x8B */
    bool halted;                /* HLT with IF=1: waiting for an interrupt */
    volatile int exit_req;      /* the poll page is (being) protected */
    volatile int timer_fired;   /* the host event timer expired */
    volatile unsigned timer_signals;  /* event-timer signals taken (timer_fired is cleared
                                         by the device service; this only counts) */
    bool left_by_signal;        /* the last run of translated code ended in a host signal */
    uint32_t storm_rng, storm_eip;  /* poll_storm.c */
    uint8_t base_warned;        /* segment registers warned about a non-zero base */
    /* The jump cache in use (bt.jcache) belongs to one mode; translated code
     * of another CPL must not be found through it (jcache.h). */
    struct jcache jc[JC_SLOTS];
    int jc_cur, jc_prev;            /* slots in use now and before */
    uint64_t jc_tick;           /* jc_select's clock for jcache.used */

    /* Issue #5: shadow paging (paging.h). */
    bool pg;                    /* CR0.PG the jump caches were set up for */
    bool fetch_global;          /* the last block fetched lies on global pages (CR4.PGE) */
    uint64_t efer;              /* IA32_EFER: NXE (bit 11) is all a 32-bit CPU has */
    uint64_t pdpte[4];          /* PAE: the PDPTE registers, loaded with CR3 (SDM vol. 3A §4.4.1) */
    struct pf_note pf;
    struct pf_return pf_return;
    struct mf_note mf;
    struct step_state step;
    const struct tb *smc_cur;   /* the block an emulated store runs in (smc.c) */
    bool smc_cur_hit;           /* ... and a store invalidated it */
    struct acctlb acctlb;       /* the monitor's access TLB (acctlb.h) */
};

/* A device's guest-physical range (mmio.c, vm_mmio_register). */
#define MMIO_MAX 16
struct mmio_region {
    uint32_t gpa, size;
    const struct vm_mmio_ops *ops;
    void *opaque;
};


/* Adaptive translation (adaptive.c): faults per guest instruction. */
struct adapt_slot {
    uint32_t phys;
    uint8_t used, faults, slow;
    uint8_t divide_error;       /* a DIV/IDIV here raised #DE: translate it checked */
    uint8_t page_faults;        /* marked slow for guest #PFs (adaptive.c): unmarked again
                                   once it stops faulting */
    uint16_t clean;             /* its executions without a #PF since the last one; for
                                   other marks, without a special access (adaptive.c) */
    uint8_t level;              /* k: a mark expires after MEMOP_CLEAN << k clean runs */
};
#define ADAPT_SLOTS 4096

struct vm {
    struct vm_config cfg;
    struct guest_ram ram;
    struct mmu *mmu;            /* every guest address space (shadowmmu/mmu.h) */
    struct space *cur_space;    /* the one translated code runs in (paging_sync) */
    struct code_cache *cache;
    struct bt *bt;
    struct vcpu *vcpu;
    uint8_t *vcpu_map;          /* poll page + vcpu pages */
    size_t vcpu_map_len;
    struct io_bus io;
    struct uart uart;
    struct debugcon debugcon;
    struct debug_exit debug_exit;
    struct pic pic;
    struct pit pit;
    struct rtc rtc;
    struct ps2 ps2;
    struct misc_ports misc;
    struct ide ide;
    struct pci_bus pci;
    struct vga vga;
    struct fw_cfg fw_cfg;
    struct isa_irq isa;         /* ISA IRQ lines: the 8259s and the I/O APIC */
    bool has_apic;              /* machine pc: LAPIC, I/O APIC (cfg.isapc: neither) */
    struct lapic lapic;
    struct ioapic ioapic;
    struct acpi_pm acpi_pm;
    struct hpet hpet;
    struct pc_testdev *pc_testdev; /* -device pc-testdev, or NULL */
    struct pci_testdev *pci_testdev; /* -device pci-testdev, or NULL */
    struct bt *bt_step;         /* one-instruction blocks (interrupt shadow) */
    struct events *events;      /* host timer, input (interrupts.c) */
    int exit_status;
    uint64_t stop_eip;          /* vm_run's stop address (UINT64_MAX: none) */
    bool ram_mapped;
    struct vm_stats stats;
    struct mmio_region mmio[MMIO_MAX];
    int nmmio;
    struct adapt_slot *adapt;   /* ADAPT_SLOTS */
    uint8_t *code_buf;          /* fetch.c: a block's bytes stitched from two frames */
    struct vm_debug dbg;        /* breakpoints, single steps (debug.c) */
    uint64_t clock_shift;       /* guest clock = host CLOCK_MONOTONIC + this (vm_clock_ns) */
};

/* The clock the devices and their host timer run on (vm.c). */
uint64_t vm_clock_ns(const struct vm *vm);

static inline struct vcpu *vcpu_of(struct bt_cpu *cpu) { return (struct vcpu *)cpu; }
static inline uint8_t *vcpu_poll_page(struct vcpu *v) { return (uint8_t *)v - 4096; }

/* Stop the run with a one-line message (monitor cannot continue). */
int vcpu_stop_error(struct vcpu *v, uint32_t eip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Guest linear memory for callouts, as an explicit access at the current
 * CPL (guestmem.c; paging.h has the implicit supervisor kind). false: a
 * page fault (v->pf.pending, the caller raises it) or memory that is
 * neither RAM nor a device (the caller stops the run). */
bool guest_read(struct vcpu *v, uint32_t lin, void *dst, size_t n);
bool guest_write(struct vcpu *v, uint32_t lin, const void *src, size_t n);

/* The system half (issue #4, system.h): set up and torn down with the VM;
 * intr_line is the PIC's INTR output. */
int system_init(struct vm *vm, char *err, size_t errlen);
/* The pc board (board.c): APICs, ACPI PM, HPET on machine pc (none on
 * isapc; vm->isa is wired either way); then, once the devices are there,
 * the firmware data in RAM as the BIOS leaves it at power-on. */
int pc_board_init(struct vm *vm, clock_fn monotonic_ns, char *err, size_t errlen);
void pc_firmware_init(struct vm *vm);
/* The PCI bus's BAR mapper and -device pci-testdev (pci_bars.c). */
int pci_bars_init(struct vm *vm, char *err, size_t errlen);
void system_fini(struct vm *vm);
void intr_line(struct vcpu *v, int level);

/* Callout handlers (callouts.c) and signals (signals.c). */
void callouts_fill(struct bt_handlers *h);
int signals_install(char *err, size_t errlen);
void signals_set_current(struct vcpu *v);
void vcpu_request_exit(struct vcpu *v);      /* async: make translated code stop at the next block */
void vcpu_clear_exit_request(struct vcpu *v);
