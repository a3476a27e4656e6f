/* vm — the monitor's public face: create a machine, load it, run it.
 *
 * Used by main() (the bt86 command), by the unit tests and by the Unicorn
 * differential tester, which drives a bare VM in-process: set registers,
 * write code and data into guest memory, run until a stop address, read the
 * state back. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct vcpu;

struct vm_config {
    uint64_t ram_size;        /* bytes of RAM at guest physical 0 */
    bool no_chain;            /* never chain blocks (slow path) */
    bool verify;              /* isolation verifier on every block */
    bool trace;               /* per-block log to stderr */
    bool stop_on_exception;   /* report guest exceptions to the caller instead of
                                 delivering them (used when there is no IDT) */
    int  console_fd;          /* UART/debugcon output; -1 for none */
    unsigned shadow_spaces;   /* cached shadow address spaces (0: the default, 8) */
    unsigned poll_storm;      /* testing: arm the poll page before about 1 in N block
                                 entries from the dispatcher (0: never; poll_storm.c) */
    unsigned max_block_insns; /* testing: guest instructions per block at most (0: 64) */
    uint16_t debug_exit_base, debug_exit_size;  /* isa-debug-exit ports (size 0: 0xf4, 4) */
    bool isapc;               /* -M isapc: no LAPIC, I/O APIC, ACPI or HPET */
};

enum vm_exit {
    VM_EXIT_STOP_EIP,         /* EIP reached vm_run's stop address */
    VM_EXIT_HALT,             /* HLT with virtual IF clear */
    VM_EXIT_DEBUG_EXIT,       /* isa-debug-exit: status in vm_state.exit_status */
    VM_EXIT_EXCEPTION,        /* stop_on_exception: vector/error/eip in vm_state */
    VM_EXIT_TRIPLE_FAULT,
    VM_EXIT_TIMEOUT,          /* the CPU-time budget of vm_run ran out */
    VM_EXIT_RESET,            /* the guest pulsed the reset line (8042 0xFE, port 0x92) */
    VM_EXIT_ERROR,            /* the monitor could not continue: message in vm_error() */
    VM_EXIT_POWEROFF,         /* ACPI soft-off (S5: SLP_EN in PM1_CNT) */
};

/* Guest-visible state the caller may read and write between runs. */
struct vm_regs {
    uint32_t gpr[8];          /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;          /* full EFLAGS incl. IF */
};

struct vm_exception {
    int vector;               /* -1 if none */
    uint32_t error_code;
    bool has_error_code;
    uint32_t eip;             /* EIP of the faulting instruction (or next, for traps/INT n) */
};

struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen);
void vm_destroy(struct vm *vm);

/* Extra RAM at a guest physical address (e.g. just below 4 GiB for wraparound
 * tests, like a PC's boot ROM). Page-aligned. Before the first vm_run. */
int vm_add_ram(struct vm *vm, uint32_t gpa, uint32_t size, char *err, size_t errlen);

/* Load a Multiboot kernel file and set the boot state (EAX, EBX, EIP). */
int vm_load_kernel(struct vm *vm, const char *path, const char *cmdline, char *err, size_t errlen);

/* Device memory (DESIGN §4): guest physical [gpa, gpa+size) belongs to a
 * device and is never mapped; every guest access to it is emulated and
 * calls these with the offset into the range and a size of 1, 2 or 4
 * (wider accesses are split). The range must not overlap RAM or another
 * device. Returns 0, or -1 with a message. */
struct vm_mmio_ops {
    uint32_t (*read)(void *opaque, uint32_t off, unsigned size);
    void (*write)(void *opaque, uint32_t off, unsigned size, uint32_t val);
};
int vm_mmio_register(struct vm *vm, uint32_t gpa, uint32_t size, const struct vm_mmio_ops *ops,
                     void *opaque, char *err, size_t errlen);

/* Control registers for the next run, as MOV CRn would set them (the
 * differential tester turns paging on this way). */
void vm_set_control(struct vm *vm, uint32_t cr0, uint32_t cr3, uint32_t cr4);

/* Guest physical memory access for the caller (not for device MMIO).
 * Writes keep traced page tables and translated code coherent. */
int vm_write_phys(struct vm *vm, uint32_t gpa, const void *src, size_t n);
int vm_read_phys(struct vm *vm, uint32_t gpa, void *dst, size_t n);
/* Monitor's pointer to guest physical gpa, valid for n bytes, or NULL. */
void *vm_phys_ptr(struct vm *vm, uint32_t gpa, size_t n);

void vm_get_regs(struct vm *vm, struct vm_regs *r);
void vm_set_regs(struct vm *vm, const struct vm_regs *r);

/* x87/SSE state as FXSAVE lays it out (512 bytes). */
void vm_get_fxsave(struct vm *vm, uint8_t out[512]);
void vm_set_fxsave(struct vm *vm, const uint8_t in[512]);

/* Run until an exit. stop_eip: stop when the guest is about to execute at
 * that address (UINT64_MAX: never). timeout_ms: 0 = unlimited; otherwise the
 * run is interrupted (through the poll page) once it has used that much CPU
 * time — CPU, not wall time, so a loaded host does not cut a run short (a
 * guest sleeping in HLT uses none). */
enum vm_exit vm_run(struct vm *vm, uint64_t stop_eip, uint32_t timeout_ms);

int vm_exit_status(struct vm *vm);                 /* for VM_EXIT_DEBUG_EXIT */
const struct vm_exception *vm_last_exception(struct vm *vm);
const char *vm_error(struct vm *vm);               /* for VM_EXIT_ERROR */

/* Forget every translation (the tester rewrites code between cases). */
void vm_flush_code(struct vm *vm);

/* --stats: print the counters. */
void vm_print_stats(struct vm *vm, FILE *f);
