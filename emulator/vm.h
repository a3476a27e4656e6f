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
struct disk;
struct chardev;

struct vm_config {
    uint64_t ram_size;        /* bytes of RAM at guest physical 0 */
    bool no_chain;            /* never chain blocks (slow path) */
    bool rstack;              /* CALL/RET through the shadow return stack (bt/xlate_rstack.c) */
    bool no_superblocks;      /* end blocks at every conditional branch (slow path) */
    bool no_inline_calls;     /* CALL/RET end blocks (bt/xlate_inline.c off) */
    bool no_lazy_esp;         /* ESP moved at every push and pop (bt/xlate_espdelta.c off) */
    bool no_derive_memo;      /* work out every transfer's mode and space (slow path) */
    bool no_sysfast;          /* SYSENTER/SYSEXIT always take the full path (sysfast.c off) */
    bool two_views;           /* CPL 3 never in the supervisor view (shadowmmu/mmu_view.c) */
    bool no_access_tlb;       /* no monitor access TLB (emulator/acctlb.h) */
    uint8_t ic_ways;          /* ways per indirect site's inline cache (0: bt's default) */
    bool verify;              /* isolation verifier on every block */
    bool trace;               /* per-block log to stderr */
    bool stop_on_exception;   /* report guest exceptions to the caller instead of
                                 delivering them (used when there is no IDT) */
    int  console_fd;          /* UART/debugcon output; -1 for none */
    struct chardev *console;  /* COM1's back-end (chardev.h), or NULL: console_fd, stdin */
    unsigned shadow_spaces;   /* cached shadow address spaces (0: the default, 8) */
    int soft_pages;           /* PTE changes that make a page soft (shadowmmu/mmu_soft.c;
                                 0: the default, 4; -1: never; -2: every page, testing) */
    bool shared_fills;        /* new spaces filled from their siblings (shadowmmu/mmu_share.c) */
    bool no_retarget;         /* a directory no longer traced empties its spaces (mmu_retarget.c) */
    int unsync_tables;        /* page tables traced without write protection (shadowmmu/
                                 mmu_unsync.c; 0: the default, 8; -1: none) */
    bool sticky_memops;       /* adaptive MEMOP marks never expire (adaptive.c) */
    struct disk *disks[4];    /* IDE drives by QEMU index (hw/disk.h); the caller's */
    unsigned poll_storm;      /* testing: arm the poll page before about 1 in N block
                                 entries from the dispatcher (0: never; poll_storm.c) */
    unsigned max_block_insns; /* testing: guest instructions per block at most (0: 64) */
    bool adapt_first_fault;   /* testing: adaptive translation at an instruction's first
                                 fault, not its fourth (emulator/adaptive.c) */
    uint16_t debug_exit_base, debug_exit_size;  /* isa-debug-exit ports (size 0: 0xf4, 4) */
    bool isapc;               /* -M isapc: no LAPIC, I/O APIC, ACPI or HPET */
    /* qemu-system-i386 compatibility (issue #14) */
    uint32_t cpuid_edx_clear;  /* -cpu: CPUID.1:EDX feature bits not to offer */
    uint32_t cpuid_ext_edx_clear;  /* -cpu: CPUID.80000001H:EDX ones (NX) */
    int64_t rtc_offset_s;      /* -rtc base=: CMOS time minus host UTC, in seconds */
    FILE *trace_file;          /* --trace output (NULL: stderr) */
    bool pc_testdev;           /* QEMU's pc-testdev (ports 0xe0-0xef, 0x2000; MMIO 0xe0000000) */
    bool pci_testdev;          /* QEMU's pci-testdev at 00:02.0 */
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
    VM_EXIT_DEBUG,            /* vm_debug_run: a breakpoint, a step done, or the wake fd */
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

/* Load a kernel file — Multiboot (the command line becomes "PATH CMDLINE",
 * initrd QEMU's comma-separated module list) or a Linux bzImage (initrd one
 * file) — and set the boot state its protocol asks for (kernel_load.c).
 * initrd may be NULL. */
int vm_load_kernel(struct vm *vm, const char *path, const char *cmdline, const char *initrd,
                   char *err, size_t errlen);

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
/* Remove the range that starts at gpa (a PCI BAR moving); -1 if none. */
int vm_mmio_unregister(struct vm *vm, uint32_t gpa);

/* Control registers for the next run, as MOV CRn would set them (the
 * differential tester turns paging on this way). */
void vm_set_control(struct vm *vm, uint32_t cr0, uint32_t cr3, uint32_t cr4);
/* Real-address mode (CR0.PE and PG clear, CPL 0) with segment registers
 * sel[] (ES CS SS DS FS GS) loaded as selector << 4, 64 KiB, 16-bit. */
void vm_set_real_mode(struct vm *vm, const uint16_t sel[6]);

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

/* --screen: the VGA text screen's characters, one line per row (out holds
 * at least 25 * 81 + 1 bytes, hw/vga.h VGA_SCREEN_TEXT_MAX); the length. */
size_t vm_screen_text(struct vm *vm, char *out);
/* Debugger support (debug.c; the GDB stub drives it). Breakpoints are guest
 * linear addresses, done in translation (no guest byte is patched):
 * insert/remove returns 0, or -1 (table full, or not there). */
int vm_debug_breakpoint(struct vm *vm, uint32_t lin, bool insert);
/* Write watchpoints of 1 to 8 bytes: the run stops after an instruction
 * that changed them. vm_debug_clear_breakpoints clears them too. */
int vm_debug_watchpoint(struct vm *vm, uint32_t lin, uint32_t len, bool insert);
/* After VM_EXIT_DEBUG: was it a watchpoint (its address in *lin)? */
bool vm_debug_watch_hit(struct vm *vm, uint32_t *lin);
/* Watchpoints of any type (GDB's Z2, Z3, Z4): WRITE stops after an
 * instruction that changed the bytes, READ after one that read any of
 * them, ACCESS after one that read or wrote any; and the type of the one
 * that stopped the run (0 if none). */
enum { VM_WATCH_WRITE = 2, VM_WATCH_READ = 3, VM_WATCH_ACCESS = 4 };
int vm_debug_watchpoint_type(struct vm *vm, int type, uint32_t lin, uint32_t len, bool insert);
int vm_debug_watch_hit_type(struct vm *vm);
void vm_debug_clear_breakpoints(struct vm *vm);
/* vm_run until an exit, or VM_EXIT_DEBUG: at an inserted breakpoint (not
 * the one the run resumes from), after one instruction if step, after an
 * instruction that changed a watchpoint's bytes, or when
 * wake_fd (>= 0) becomes readable. */
enum vm_exit vm_debug_run(struct vm *vm, bool step, int wake_fd);
/* Guest linear memory as a supervisor access through the current page
 * tables, RAM only: the bytes done before the first unmapped page. */
size_t vm_debug_read(struct vm *vm, uint32_t lin, void *dst, size_t n);
size_t vm_debug_write(struct vm *vm, uint32_t lin, const void *src, size_t n);
/* Registers in GDB's i386 layout (gdbstub_regs.c, its target.xml): the
 * whole image ('g'/'G') or one register ('p'/'P'); sizes in bytes, 0 for
 * no such register. */
size_t vm_gdb_get_regs(struct vm *vm, uint8_t *buf);
void vm_gdb_set_regs(struct vm *vm, const uint8_t *buf);
size_t vm_gdb_reg(struct vm *vm, int regno, uint8_t *buf, const uint8_t *set);
extern const char vm_gdb_target_xml[];

/* Where the UART reads its input from (-serial stdio: stdin; the monitor
 * puts a pipe there when it shares stdin, -1: none). */
void vm_set_console_input(struct vm *vm, int fd);

/* --stats: print the counters. */
void vm_print_stats(struct vm *vm, FILE *f);
