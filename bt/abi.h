/* bt/abi.h — the contract between translated code and the monitor.
 *
 * While translated code runs (DESIGN §2):
 *
 *   host RAX..RDI  guest EAX..EDI (same register numbers), upper 32 bits zero
 *   host RSP       guest ESP, upper 32 bits zero; never used as a host stack
 *   host RFLAGS    guest CF PF AF ZF SF OF and DF; IF/IOPL/TF/AC... are virtual
 *   R15            struct bt_cpu * (first member of the monitor's struct vcpu)
 *   R14            the active guest address space: a 4 GiB window, 4 GiB
 *                  aligned, with at least BT_GUARD_BELOW / BT_GUARD_ABOVE
 *                  bytes of PROT_NONE reservation around it. Guest memory
 *                  is [base + r14 + disp] (bt/xlate_copy.c); loading R14
 *                  is all a space switch costs translated code
 *   R13            the per-vCPU jump cache (struct bt_jcache_entry[BT_JCACHE_SIZE])
 *   R8..R12        translator scratch, dead at every guest instruction boundary
 *   x87/MMX/SSE    the guest's own state, live in the host FPU
 *
 * Translated code leaves it three ways, always through code that bt/ emits
 * once per vCPU (bt_runtime_init):
 *
 *   exit      the block ends with target EIP in cpu->next_eip and the taken
 *             exit slot in cpu->exit_slot (struct tb_exit *, or 0 if not
 *             chainable); guest state is stored into the bt_cpu, the host
 *             callee-saved registers and FPU state are restored, and
 *             bt_enter() returns to the dispatcher.
 *   callout   r10 = struct bt_site *, r11 = host resume address; guest state is
 *             stored, C runs on the host stack: site->fn(cpu, site). It returns
 *             BT_RESUME to continue at cpu->resume (preset to r11; a handler may
 *             point it at another block's entry) with the (possibly changed)
 *             guest registers, or BT_EXIT to leave to the dispatcher at
 *             cpu->next_eip. Only XMM0-7 and MXCSR are set aside around the
 *             call (the guest cannot name XMM8-15, having no REX prefix), so
 *             callout handlers must not execute x87 or MMX instructions.
 *   signal    a host fault inside translated code; the monitor's handler
 *             copies guest state out of the ucontext (the block's side table
 *             gives the EIP) and resumes at cpu->tramp_signal_exit on the host
 *             stack, which finishes like 'exit' without storing registers.
 *
 * Polling: each block starts with a load from the poll page (the page just
 * below the bt_cpu). The monitor mprotects it PROT_NONE to make translated
 * code stop at the next block entry; the load touches no flags. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define BT_JCACHE_BITS 16
#define BT_JCACHE_SIZE (1u << BT_JCACHE_BITS)
/* An empty jump-cache entry: no zero-extended guest EIP equals it. */
#define BT_JCACHE_EMPTY (1ull << 32)

struct bt_jcache_entry {
    uint64_t eip;   /* zero-extended guest linear EIP, or BT_JCACHE_EMPTY */
    uint64_t host;  /* RX address of the block's entry */
};

/* The guest window and its guards (see R14 above). An operand
 * [base + r14 + disp32], base a zero-extended 32-bit register, reaches
 * r14 - 2 GiB .. r14 + 6 GiB: a guest address that wraps at 4 GiB lands in
 * a guard, where the monitor's fault handler emulates the access. */
#define BT_WINDOW      (1ull << 32)
#define BT_GUARD_BELOW (4ull << 30)
#define BT_GUARD_ABOVE (4ull << 30)

/* Shadow return stack slots: (ESP >> 2) mod 256. */
#define BT_RSTACK_SIZE 256

struct bt_cpu;
struct bt_site;
enum { BT_RESUME = 0, BT_EXIT = 1 };
typedef int (*bt_callout_fn)(struct bt_cpu *cpu, const struct bt_site *site);

/* One call site of a callout, allocated with the block (cache metadata). */
struct bt_site {
    bt_callout_fn fn;
    uint32_t eip;        /* guest EIP of the instruction */
    uint32_t next_eip;   /* guest EIP after it */
    uint8_t  len;
    uint8_t  bytes[15];  /* the guest instruction, for handlers that decode it */
    uint32_t arg;        /* handler-specific */
};

/* GPR indexes: x86 register numbers. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* The asm-visible part of the vCPU. Offsets are read by bt/ with offsetof. */
struct bt_cpu {
    uint32_t gpr[8];        /* valid while not in translated code */
    uint32_t eip;           /* current guest EIP (dispatcher's view) */
    uint32_t eflags;        /* guest EFLAGS: arith+DF from the host, the rest virtual */
    uint32_t next_eip;      /* set by exits */
    uint32_t exc_pending;   /* set by monitor code: exception to deliver, see emulator */
    uint64_t exit_slot;     /* struct tb_exit * of the exit taken, 0 if none */
    uint64_t host_rsp;      /* host stack pointer inside bt_enter */
    uint64_t resume;        /* callout: host address to resume at */
    uint64_t site;          /* callout: struct bt_site * being served */
    uint64_t membase;       /* active address-space base (loaded into R14) */
    uint64_t jcache;        /* struct bt_jcache_entry * (loaded into R13) */
    uint64_t tramp_signal_exit; /* where the signal path resumes (bt_runtime_init) */
    uint8_t  vif;           /* virtual EFLAGS.IF */
    uint8_t  irq_pending;   /* an interrupt is waiting for VIF (checked by STI) */
    uint8_t  inhibit_irq;   /* STI / MOV SS interrupt shadow */
    uint8_t  tf_set;        /* the inline POPF just set EFLAGS.TF: leave the block */
    uint8_t  rstack_on;     /* blocks use the shadow return stack (bt_config.rstack) */
    uint8_t  pad0;
    uint16_t fcw_host;      /* the monitor's x87 control word, saved at enter */
    uint32_t mxcsr_guest;   /* callout: the guest's MXCSR while C runs */
    uint32_t mxcsr_host;    /* the monitor's MXCSR, saved at enter */
    uint64_t rflags_slot;   /* inline PUSHF/POPF: pushfq/popfq go through here */
    uint64_t tsc_offset;    /* guest TSC = host TSC + tsc_offset (WRMSR 0x10); read by the
                               inline RDTSC */
    uint64_t entries;       /* bumped by every callout and every enter: translated code
                               alone ran between two equal readings (emulator/sysfast.c) */
    _Alignas(64) uint8_t fx_guest[512];  /* FXSAVE area: guest x87/SSE while in C */
    _Alignas(16) uint8_t xmm_guest[128]; /* callout: guest XMM0-7 while C runs */
    /* The shadow return stack (bt/xlate_rstack.c): landing pads of
     * translated CALLs, indexed by the guest ESP holding the return address;
     * each is a pad in a live block that checks the guest's actual return
     * EIP, or bt_rt_rs_miss (bt_rstack_reset). */
    uint64_t rs_miss;       /* RX address of bt_rt_rs_miss (bt_runtime_init) */
    _Alignas(64) uint64_t rstack[BT_RSTACK_SIZE];
};

/* The block mode word: what a translation depends on besides its bytes.
 * Blocks are keyed on it; the monitor computes it from the vCPU (every bit
 * is defined here). IOPL is not part of it: at CPL > 0 CLI/STI always go
 * to the monitor, which applies the SDM's CPL <= IOPL rule, so a POPF or
 * IRET that changes IOPL needs no retranslation. */
#define BT_MODE_CPL(m)      ((m) & 3u)
#define BT_MODE_CPL_MASK    3u
/* A 16-bit code segment (CS.D = 0: real mode, virtual-8086 mode, 16-bit
 * protected mode): instructions are decoded with decode_insn16, EIPs are
 * offsets in CS (the block's linear address is CS.base + EIP, CS.base being
 * part of the segment-base set), and a block never runs past offset
 * 0xFFFF. */
#define BT_MODE_CODE16      (1u << 2)
/* A 16-bit stack (SS.B = 0): implicit stack accesses use SP and wrap at
 * 64 KiB; the translator leaves them to the monitor (memop, callouts). */
#define BT_MODE_STACK16     (1u << 3)
/* Paging is on: a block's linear page may map elsewhere after a CR3 write or
 * INVLPG, so exits only chain to blocks on the same linear page (QEMU's rule
 * for system mode); other targets go through the jump cache, which is
 * flushed on such changes. */
#define BT_MODE_PG          (1u << 4)
/* Segment-base set: 0 when ES CS SS DS FS GS all have base 0; otherwise the
 * monitor's index for the tuple of bases, which the translator reads back
 * through bt_config.seg_bases (DESIGN §2: folded in with lea, block keyed on
 * the bases). */
/* CR0.TS or CR0.EM is set: every x87/MMX/SSE instruction (and FWAIT) goes
 * to the monitor, which raises #NM or #UD as CR0 says (SDM vol. 3A §2.5,
 * table 2-2). */
#define BT_MODE_FPU_TRAP    (1u << 5)
/* CR4.TSD is set and CPL > 0: RDTSC raises #GP(0) (SDM "RDTSC"), so it goes
 * to the monitor; otherwise it is translated inline. */
#define BT_MODE_TSC_TRAP    (1u << 6)
#define BT_MODE_SEGSET(m)   (((m) >> 8) & 0xffu)
#define BT_MODE_SEGSET_SHIFT 8
/* Segment-limit checks (SDM vol. 3A §5.3): bit s (SEG_* order) is set for
 * each data segment register (ES SS DS FS GS) that is not flat — a limit
 * below 4 GiB - 1, or expand-down. An instruction that accesses
 * memory through one of them first calls BT_HELPER_SEGLIMIT, which raises
 * #GP(0) or #SS(0) when the access is outside the segment. All flat (the
 * common case): 0, and translations carry no check. */
#define BT_MODE_SEGLIM(m)   (((m) >> 16) & 0x3fu)
#define BT_MODE_SEGLIM_SHIFT 16
/* Key bits only, never in the vCPU's mode: the block folds in no FS (GS)
 * base, and its segment-base set has that base zeroed, so one translation
 * serves every FS (GS) base (a kernel's blocks keep working when the user's
 * TLS base in GS changes with the process; emulator/segsets.c). */
#define BT_MODE_ANY_FS      (1u << 22)
#define BT_MODE_ANY_GS      (1u << 23)
#define BT_MODE_ANY_FSGS    (BT_MODE_ANY_FS | BT_MODE_ANY_GS)
/* A one-instruction block the dispatcher runs inside an interrupt shadow
 * (STI, MOV SS): its exit never chains, so exactly one
 * instruction runs before the dispatcher looks at interrupts again. */
#define BT_MODE_STEP        (1u << 31)

/* Enter translated code at host address `code` with the guest state in cpu.
 * Returns when translated code exits (exit or signal path). Emitted code. */
typedef void (*bt_enter_fn)(struct bt_cpu *cpu, const void *code);
