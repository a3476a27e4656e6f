/* unicorn — see unicorn.h. The engine use follows the capstone-unicorn
 * note §4.3 and tests/diff/be_unicorn.c: an INTR hook that records the
 * vector and stops, #UD as UC_ERR_INSN_INVALID, a code hook feeding the
 * differential tester's undefined-value trace (tests/diff/trace.c). The
 * run happens in a child process, so that an abort inside Unicorn ends
 * only that comparison. */
#define _GNU_SOURCE
#include "unicorn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#include "../diff/trace.h"

#define STEP_LIMIT 20000
#define RAM_END (16u << 20)     /* the fuzzer runs bt86 with -m 16 */

struct uni_run {
    bool ok;                    /* comparable */
    char why[96];
    struct diff_dump st;        /* vector 0xFF at kernel_desc.diff_end */
    struct dt_analysis an;
};

struct hookctx {
    uc_engine *uc;
    struct trace tr;
    struct uni_run *r;
    bool faulted, system;
    bool verbose;               /* BT86_FUZZ_UNICORN_TRACE set: every step to stderr */
    int vector;
    uint32_t fault_eip;
};

static const int gpr_ids[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };

static void on_intr(uc_engine *uc, uint32_t intno, void *user)
{
    struct hookctx *h = user;
    h->faulted = true;
    h->vector = (int)intno;
    uc_reg_read(uc, UC_X86_REG_EIP, &h->fault_eip);
    uc_emu_stop(uc);
}

static bool reader(void *ctx, uint32_t a, void *dst, uint32_t n)
{
    struct hookctx *h = ctx;
    return uc_mem_read(h->uc, a, dst, n) == UC_ERR_OK;
}

/* Instructions whose result depends on what differs between the two
 * machines or that Unicorn runs differently (capstone-unicorn note §3.4,
 * tests/diff/unicorn-quirks.md): I/O, system and segment instructions
 * (bt86's selectors are the prologue's), STI/POPF/IRET (the timer),
 * LOCK and F2/F3 outside strings (TZCNT), F6/F7 /1 (TEST on every CPU,
 * #UD in Unicorn), C6/C7 /1-/7 (#UD on a CPU, MOV in Unicorn), BSWAP
 * r16 (undefined; Unicorn swaps the whole register), SSE (no
 * alignment #GP in
 * Unicorn), INT n of a vector with an error code (the report cannot tell
 * it from the exception). A body reaches them only by jumping into the
 * middle of an instruction. */
static bool differs(const uint8_t *b, uint32_t len)
{
    uint32_t i = 0;
    bool rep = false, o16 = false;
    for (; i < len; i++) {
        uint8_t p = b[i];
        if (p == 0xf0) return true;
        if (p == 0x66) o16 = true;
        if (p == 0xf2 || p == 0xf3) rep = true;
        else if (p != 0x66 && p != 0x67 && p != 0x26 && p != 0x2e && p != 0x36 && p != 0x3e && p != 0x64 &&
                 p != 0x65)
            break;
    }
    if (i + 1 >= len + 1) return true;
    uint8_t op = b[i], op2 = i + 1 < len ? b[i + 1] : 0;
    bool string = (op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) || (op >= 0x6c && op <= 0x6f);
    if (rep && !string) return true;
    if ((op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef) || (op >= 0x6c && op <= 0x6f)) return true;
    switch (op) {
    case 0xf4: case 0xfa: case 0xfb: case 0x9d: case 0xcf: case 0xca: case 0xcb: case 0x9a: case 0xea:
    case 0x8c: case 0x8e: case 0x06: case 0x07: case 0x0e: case 0x16: case 0x17: case 0x1e: case 0x1f:
    case 0xc4: case 0xc5: case 0x63: case 0xf1:
        return true;
    case 0xcd:
        return op2 == 8 || (op2 >= 10 && op2 <= 14) || op2 == 17;
    case 0xf6: case 0xf7:                       /* TEST's /1 alias: #UD in Unicorn */
        return (op2 >> 3 & 7) == 1;
    case 0xc6: case 0xc7:                       /* /1-/7: #UD on a CPU, MOV in Unicorn */
        return (op2 >> 3 & 7) != 0;
    case 0x0f:
        if (op2 >= 0xc8 && op2 <= 0xcf && o16)  /* BSWAP r16: undefined (Unicorn swaps 32 bits) */
            return true;
        return op2 <= 0x09 || (op2 >= 0x10 && op2 <= 0x17) || (op2 >= 0x20 && op2 <= 0x37) ||
               (op2 >= 0x50 && op2 <= 0x7f) || op2 == 0xa0 || op2 == 0xa1 || op2 == 0xa2 || op2 == 0xa8 ||
               op2 == 0xa9 || op2 == 0xae || op2 == 0xb2 || op2 == 0xb4 || op2 == 0xb5 ||
               (op2 >= 0xc2 && op2 <= 0xc6) || op2 >= 0xd0;
    default:
        return false;
    }
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct hookctx *h = user;
    uint8_t b[16] = { 0 };
    uint32_t g[8], efl;
    if (size > 15) size = 15;
    uc_mem_read(uc, addr, b, size);
    if (differs(b, size)) {
        h->system = true;
        uc_emu_stop(uc);
        return;
    }
    for (int i = 0; i < 8; i++) uc_reg_read(uc, gpr_ids[i], &g[i]);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &efl);
    if (h->verbose) {
        fprintf(stderr, "unicorn: %08x:", (uint32_t)addr);
        for (uint32_t i = 0; i < size; i++) fprintf(stderr, " %02x", b[i]);
        fprintf(stderr, "  eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x efl=%03x\n",
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], efl);
    }
    struct dyn d = { g, efl, reader, h };
    trace_step(&h->tr, (uint32_t)addr, b, (int)size, &d);
}

static void run_in_unicorn(const struct image *im, const struct kernel_desc *d, struct uni_run *r)
{
    uc_engine *uc;
    uc_hook hi, hc;
    struct hookctx h = { 0 };
    uint32_t v;

    memset(r, 0, sizeof *r);
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK) {
        snprintf(r->why, sizeof r->why, "uc_open failed");
        return;
    }
    h.uc = uc;
    h.r = r;
    h.verbose = getenv("BT86_FUZZ_UNICORN_TRACE") != NULL;
    /* Only the RAM from the body up holds the same bytes in both (bt86
     * sets descriptor bits below it and keeps firmware tables in the low
     * MiB): a page protection ends a run that reaches below (a memory
     * hook would do, but with one Unicorn 2.0.1 computes wrong flags for
     * a shift of memory by CL). */
    uc_mem_map(uc, 0, RAM_END, UC_PROT_ALL);
    uc_mem_write(uc, IMG_BODY, img_at((struct image *)im, IMG_BODY), IMG_FILE_END - IMG_BODY);
    uc_mem_protect(uc, 0, IMG_BODY, UC_PROT_NONE);
    uc_mem_write(uc, IMG_STACK_TOP - 4, &d->eflags, 4);     /* the prologue's PUSH for POPF */
    for (int i = 0; i < 8; i++) uc_reg_write(uc, gpr_ids[i], &d->gpr[i]);
    v = d->eflags & ~0x200u;
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &v);
    trace_begin(&h.tr, &r->an);
    uc_hook_add(uc, &hi, UC_HOOK_INTR, (void *)on_intr, &h, 1, 0);
    uc_hook_add(uc, &hc, UC_HOOK_CODE, (void *)on_code, &h, 1, 0);
    uc_err e = uc_emu_start(uc, IMG_BODY, d->diff_end, 0, STEP_LIMIT);
    uint32_t eip;
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    for (int i = 0; i < 8; i++) uc_reg_read(uc, gpr_ids[i], &r->st.gpr[i]);
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &r->st.eflags);
    if (h.system) {
        snprintf(r->why, sizeof r->why, "reaches an I/O, system, segment or SSE instruction");
    } else if (e == UC_ERR_READ_PROT || e == UC_ERR_WRITE_PROT || e == UC_ERR_FETCH_PROT) {
        snprintf(r->why, sizeof r->why, "touches memory below the body");
    } else if (h.faulted && (r->st.gpr[4] < IMG_FILE_END + 16 || r->st.gpr[4] > IMG_BSS_END)) {
        snprintf(r->why, sizeof r->why, "exception frame outside the stack area");
    } else if (h.faulted) {
        r->ok = true;
        r->st.vector = (uint32_t)h.vector;
        r->st.eip = h.fault_eip;
    } else if (e == UC_ERR_INSN_INVALID) {
        r->ok = true;
        r->st.vector = 6;
        r->st.eip = eip;
        h.faulted = true;
        h.fault_eip = eip;
    } else if (e == UC_ERR_OK && eip == d->diff_end) {
        r->ok = true;
        r->st.vector = 0xff;
        r->st.eip = eip;
    } else {
        snprintf(r->why, sizeof r->why, e == UC_ERR_OK ? "step limit" : "unicorn: %s", uc_strerror(e));
    }
    uint8_t tail[DIFF_PAD + 5];
    uc_mem_read(uc, d->diff_end - DIFF_PAD, tail, sizeof tail);
    if (r->ok && memcmp(tail, img_at((struct image *)im, d->diff_end - DIFF_PAD), sizeof tail)) {
        r->ok = false;          /* the body rewrote its own end */
        snprintf(r->why, sizeof r->why, "rewrites the end of the body");
    }
    trace_end(&h.tr, h.faulted, h.fault_eip);
    if (r->ok && r->an.tainted) {
        r->ok = false;
        snprintf(r->why, sizeof r->why, "undefined value consumed");
    }
    uint8_t scratch[IMG_SCRATCH_LEN];
    uc_mem_read(uc, IMG_SCRATCH, scratch, sizeof scratch);
    r->st.hash = diff_hash(scratch);
    uc_close(uc);
}

/* In a child: Unicorn aborts on a few encodings (capstone-unicorn §3.5). */
static bool run_contained(const struct image *im, const struct kernel_desc *d, struct uni_run *r)
{
    int p[2];
    if (pipe(p) < 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]); close(p[1]);
        return false;
    }
    if (pid == 0) {
        close(p[0]);
        run_in_unicorn(im, d, r);
        ssize_t w = write(p[1], r, sizeof *r);
        _exit(w == (ssize_t)sizeof *r ? 0 : 1);
    }
    close(p[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t n = read(p[0], (char *)r + got, sizeof *r - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return got == sizeof *r;
}

static bool parse_dump(const char *text, struct diff_dump *out)
{
    const char *p = text ? strstr(text, "DMP ") : NULL;
    uint8_t *b = (uint8_t *)out;
    if (!p) return false;
    p += 4;
    for (size_t i = 0; i < sizeof *out; i++) {
        unsigned x;
        if (sscanf(p + 2 * i, "%2x", &x) != 1) return false;
        b[i] = (uint8_t)x;
    }
    return true;
}

static const char *const names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

enum uni_verdict uni_compare(const struct image *im, const struct kernel_desc *d, const char *bt86_out,
                             char *why, size_t n)
{
    struct uni_run r;
    struct diff_dump got;

    if (!run_contained(im, d, &r)) {
        snprintf(why, n, "Unicorn did not finish");
        return UNI_NOT_COMPARABLE;
    }
    if (!r.ok) {
        snprintf(why, n, "%s", r.why);
        return UNI_NOT_COMPARABLE;
    }
    if (!parse_dump(bt86_out, &got)) {
        snprintf(why, n, "bt86 gave no report (Unicorn: vector %u at %08x)", r.st.vector, r.st.eip);
        return UNI_MISMATCH;
    }
    uint32_t flags = 0x8d5u & ~r.an.eflags_unknown;     /* CF PF AF ZF SF OF */
    uint32_t gf = got.eflags;
    if (got.vector == 0xff)
        gf = (gf & 0xd5) | ((gf >> 24) & 1 ? 0x800 : 0);
    else
        flags |= 0x400;                                 /* DF: only from an exception frame */
    size_t k = 0;
    why[0] = 0;
#define ADD(...) do { if (k < n) k += (size_t)snprintf(why + k, n - k, __VA_ARGS__); } while (0)
    if (got.vector != r.st.vector || got.eip != r.st.eip)
        ADD("vector/eip %02x/%08x, Unicorn %02x/%08x; ", got.vector, got.eip, r.st.vector, r.st.eip);
    for (int i = 0; i < 8; i++) {
        uint32_t m = ~r.an.reg_unknown[i];
        if ((got.gpr[i] ^ r.st.gpr[i]) & m)
            ADD("%s %08x, Unicorn %08x; ", names[i], got.gpr[i], r.st.gpr[i]);
    }
    if ((gf ^ r.st.eflags) & flags)
        ADD("eflags %03x, Unicorn %03x (compared %03x); ", gf & flags, r.st.eflags & flags, flags);
    if (got.hash != r.st.hash)
        ADD("scratch memory hash %08x, Unicorn %08x; ", got.hash, r.st.hash);
#undef ADD
    return k ? UNI_MISMATCH : UNI_MATCH;
}
