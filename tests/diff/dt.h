/* dt — the differential tester's shared vocabulary.
 *
 * A *case* is a complete initial guest state (GPRs, EFLAGS, the FXSAVE image
 * and the contents of every mapped region) plus the code, which lives in the
 * code region at DT_CODE and runs until EIP reaches the stop address
 * (DT_CODE + main_len). Code placed after the stop address (local function
 * bodies) is reached only through calls. A *result* is the final state one
 * backend produced, how the run ended, and — from the reference backend only —
 * the analysis of the executed trace: which flags, register bytes and x87
 * condition codes the SDM leaves undefined at the end (flags.c, trace.c).
 *
 * Guest memory is the same set of regions in every backend (layout.c): a page
 * pair near 0, the code, a data area, the stack and the last page below
 * 4 GiB, so wraparound can be exercised. Ring 0, flat segments, paging off,
 * or with --paging on through page tables that map each region at its own
 * address (Unicorn 2.0.1 uses the linear address as the physical one even
 * with paging on: capstone-unicorn note §3.3), everything else not present. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* EFLAGS bits (SDM vol. 1 §3.4.3). */
#define F_CF 0x0001u
#define F_PF 0x0004u
#define F_AF 0x0010u
#define F_ZF 0x0040u
#define F_SF 0x0080u
#define F_TF 0x0100u
#define F_IF 0x0200u
#define F_DF 0x0400u
#define F_OF 0x0800u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_COMPARED (F_ARITH | F_DF)   /* IF and the system flags are virtual in bt86 */

/* Memory layout (guest physical = linear). */
#define DT_LOW    0x00000000u   /* 2 pages: 0 page and the wrap target */
#define DT_CODE   0x00010000u   /* 2 pages of code */
#define DT_DATA   0x00020000u   /* 2 pages the pointer registers aim into */
#define DT_STACK  0x00030000u   /* 2 pages; ESP starts near DT_STACK+0x1000 */
#define DT_HIGH   0xfffff000u   /* the last page below 4 GiB */
#define DT_CODE_SIZE 0x2000u
#define DT_RAM_SIZE  0x00040000u /* bt86 RAM at 0: holds the low regions */
#define DT_NREGIONS 5
#define DT_MEM_BYTES 0x9000u

struct dt_region { uint32_t base, size, off; const char *name; };
extern const struct dt_region dt_regions[DT_NREGIONS];

/* Index into dt_state.mem of guest address a, or -1 if a is not mapped. */
long dt_mem_index(uint32_t a);
/* Are all n bytes from a (wrapping at 4 GiB) mapped? */
bool dt_range_mapped(uint32_t a, uint32_t n);

struct dt_state {
    uint32_t gpr[8];
    uint32_t eip;
    uint32_t eflags;
    uint8_t fx[512] __attribute__((aligned(16)));   /* FXSAVE image */
    uint8_t mem[DT_MEM_BYTES];                      /* the regions, in order */
};

struct dt_case {
    struct dt_state in;
    uint32_t main_len;     /* bytes of code before the stop address */
    uint32_t code_len;     /* all code bytes, incl. bodies after the stop address */
    uint64_t fill_seed;    /* dt_fill() seed of the memory and FPU background */
};

static inline uint32_t dt_stop_eip(const struct dt_case *c) { return DT_CODE + c->main_len; }

enum dt_exit {
    DT_EXIT_STOP,          /* reached the stop address */
    DT_EXIT_EXCEPTION,     /* vector/eip valid */
    DT_EXIT_LIMIT,         /* instruction or time budget ran out */
    DT_EXIT_UNMAPPED,      /* reference: touched memory outside the regions */
    DT_EXIT_ERROR,         /* the backend could not run the case (message) */
    DT_EXIT_CRASH,         /* the worker process died (signal in vector) */
};

/* What the reference's trace says about the final state (trace.c). */
struct dt_analysis {
    uint32_t eflags_unknown;   /* undefined arithmetic flags at the end */
    uint32_t reg_unknown[8];   /* bit mask of undefined register bits */
    uint16_t fsw_unknown;      /* undefined x87 condition codes (C0-C3) */
    bool x87_approx;           /* a transcendental ran: low mantissa bits unknown */
    uint8_t xmm_nan32;         /* U17: XMM registers written by single-precision SSE arithmetic */
    uint8_t xmm_nan64;         /* U17: ... by double-precision SSE arithmetic */
    bool tainted;              /* an undefined value was consumed: case unusable */
    uint32_t steps;            /* instructions executed */
    char why[96];
};

struct dt_result {
    struct dt_state out;
    enum dt_exit exit;
    int vector;                /* DT_EXIT_EXCEPTION; signal for DT_EXIT_CRASH */
    uint32_t fault_eip;
    struct dt_analysis an;     /* filled by the reference backend */
    char msg[160];
};

/* Deterministic background for memory and the FPU (layout.c): every region
 * filled from seed (0: zeros) and a valid, varied FXSAVE image. */
void dt_fill(struct dt_state *s, uint64_t seed);

/* --paging: both backends run each case with CR0.PG|WP set and CR3 =
 * DT_PT, whose three pages (a page directory and the page tables of the
 * first and the last 4 MiB) dt_page_tables() fills: present, writable
 * PTEs for exactly the regions' pages, Accessed and Dirty clear (so every
 * case walks and sets them again). Nothing compares the tables. */
#define DT_PT 0x00100000u
extern bool dt_paging;
/* --poll-storm N: bt86 runs every case with one-instruction blocks, no
 * chaining, and the poll page armed before about 1 in N block entries
 * (emulator/poll_storm.c), so that the state recovered at an entry poll is
 * checked at every kind of instruction (DESIGN §8). 0: off. */
extern unsigned dt_poll_storm;
/* --adapt-first: bt86 turns an instruction into a monitor callout at its
 * first traced, device or page fault instead of the fourth (vm_config
 * adapt_first_fault), so the callouts run wherever a case faults. */
extern bool dt_adapt_first;
void dt_page_tables(uint32_t pt[3][1024]);
/* --paging-pae: the same with PAE paging (CR4.PAE): the six pages at DT_PT
 * are the PDPT, the page directories of the first and the last GiB and the
 * page tables of the first and the last 2 MiB, 64-bit entries. No NX:
 * Unicorn 2.0.1 drops every write of EFER.NXE (uc_reg_write of the MSR
 * and a guest WRMSR alike, whatever the CPU model), so XD would be a
 * reserved bit there; pg_pae and the walker's tests cover NX. */
#define DT_PT_PAGES 6
extern bool dt_pae;
void dt_page_tables_pae(uint64_t pt[DT_PT_PAGES][512]);
void dt_fx_default(uint8_t fx[512]);   /* the FNINIT/reset image */
/* --real: both backends run 16-bit real-mode code (gen16.c) with CS =
 * DT_CODE >> 4 (IP 0), DS = ES = FS = DT_DATA >> 4, SS = GS = DT_STACK >> 4
 * and SP = DT16_SP; EIPs are offsets in CS; no x87/SSE state is moved. */
extern bool dt_real;
#define DT16_SP 0x1c00u
bool gen16_case(uint64_t seed, struct dt_case *c);
