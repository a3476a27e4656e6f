/* compare — field-by-field comparison and the side-by-side report. */
#include <string.h>
#include <xxhash.h>
#include "compare.h"
#include "flags.h"

/* FXSAVE fields never compared: FOP, FIP, FCS, FDP, FDS (offsets 6-23:
 * bt86 runs the guest's x87 code at host addresses and QEMU does not
 * maintain them), MXCSR_MASK (28-31: a property of the CPU), the reserved
 * bytes after each ST register and everything after XMM7. MXCSR bits 0-5:
 * Unicorn never sets them (unicorn-quirks.md). */
#define MXCSR_IGNORED 0x3fu

const char *dt_ref_unusable(const struct dt_result *ref) {
    switch (ref->exit) {
    case DT_EXIT_UNMAPPED: return "reference touched unmapped memory (generator bug)";
    case DT_EXIT_LIMIT: return "reference ran out of steps (loop?)";
    case DT_EXIT_ERROR: return ref->msg[0] ? ref->msg : "reference error";
    case DT_EXIT_CRASH: return "reference worker crashed";
    default: break;
    }
    if (ref->an.tainted) return ref->an.why;
    return NULL;
}

static bool f32_nan(uint32_t v) { return (v & 0x7f800000u) == 0x7f800000u && (v & 0x7fffffu); }
static bool f64_nan(uint64_t v) { return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0xfffffffffffffull); }

/* U17: in an XMM register written by SSE arithmetic, lanes that are NaN in
 * both results count as equal — Intel hardware returns the first operand's
 * NaN when both are NaN (SDM vol. 1 §4.8.3.5, table 4-7), Unicorn the second. */
static bool xmm_nan_equal(const struct dt_result *ref, int i, const uint8_t *a, const uint8_t *b) {
    bool n32 = ref->an.xmm_nan32 >> i & 1, n64 = ref->an.xmm_nan64 >> i & 1;
    if (!n32 && !n64) return false;
    for (int k = 0; k < 16; k += 8) {
        uint64_t x, y;
        memcpy(&x, a + k, 8); memcpy(&y, b + k, 8);
        if (x == y) continue;
        if (n64 && f64_nan(x) && f64_nan(y)) continue;
        for (int h = 0; h < 2; h++) {
            uint32_t u = (uint32_t)(x >> 32 * h), w = (uint32_t)(y >> 32 * h);
            if (u != w && !(n32 && f32_nan(u) && f32_nan(w))) return false;
        }
    }
    return true;
}

static const char *exit_str(const struct dt_result *r, char *buf, size_t n) {
    switch (r->exit) {
    case DT_EXIT_STOP: snprintf(buf, n, "stop"); break;
    case DT_EXIT_EXCEPTION: snprintf(buf, n, "exc %d @%08x", r->vector, r->fault_eip); break;
    case DT_EXIT_LIMIT: snprintf(buf, n, "limit"); break;
    case DT_EXIT_UNMAPPED: snprintf(buf, n, "unmapped"); break;
    case DT_EXIT_ERROR: snprintf(buf, n, "error"); break;
    case DT_EXIT_CRASH: snprintf(buf, n, "crash sig %d", r->vector); break;
    }
    return buf;
}

static void flags_str(uint32_t f, char *b) {
    static const struct { uint32_t bit; char c; } t[] = {
        { F_OF, 'O' }, { F_DF, 'D' }, { F_SF, 'S' }, { F_ZF, 'Z' }, { F_AF, 'A' }, { F_PF, 'P' }, { F_CF, 'C' } };
    for (int i = 0; i < 7; i++) b[i] = (f & t[i].bit) ? t[i].c : '-';
    b[7] = 0;
}

static const char *const gpr_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

/* Bit of a field in the difference signature (memory is bit 63). */
static uint64_t field_bit(const char *name) {
    static const char *const names[] = { "exit", "eip", "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "eflags", "fcw", "fsw", "ftw", "mxcsr", "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7",
        "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i])) return 1ull << i;
    return 1ull << 62;
}

int dt_compare(const struct dt_case *c, const struct dt_result *ref, const struct dt_result *got,
               const char *rn, const char *gn, FILE *f, uint64_t *sig) {
    int nd = 0;
    uint64_t sg = 0;
    char b1[48], b2[48];
    if (f) fprintf(f, "  %-10s %-22s %-22s\n", "", rn, gn);
#define ROW(name, fmt_a, fmt_b, differs, note) do { \
        if (differs) { nd++; sg |= field_bit(name); } \
        if (f) fprintf(f, "  %-10s %-22s %-22s%s%s\n", name, fmt_a, fmt_b, (differs) ? " <<<" : "", note); \
    } while (0)

    bool ex_diff = ref->exit != got->exit ||
                   (ref->exit == DT_EXIT_EXCEPTION && (ref->vector != got->vector || ref->fault_eip != got->fault_eip));
    ROW("exit", exit_str(ref, b1, sizeof b1), exit_str(got, b2, sizeof b2), ex_diff, "");
    if (got->msg[0] && f) fprintf(f, "  %-10s %s\n", "", got->msg);
    if (got->exit == DT_EXIT_CRASH || got->exit == DT_EXIT_ERROR || got->exit == DT_EXIT_LIMIT) {
        if (sig) *sig = sg;
        return nd;
    }

    snprintf(b1, sizeof b1, "%08x", ref->out.eip); snprintf(b2, sizeof b2, "%08x", got->out.eip);
    ROW("eip", b1, b2, ref->out.eip != got->out.eip, "");
    for (int i = 0; i < 8; i++) {
        uint32_t m = ~ref->an.reg_unknown[i];
        snprintf(b1, sizeof b1, "%08x", ref->out.gpr[i]); snprintf(b2, sizeof b2, "%08x", got->out.gpr[i]);
        ROW(gpr_names[i], b1, b2, (ref->out.gpr[i] ^ got->out.gpr[i]) & m, m != ~0u ? "  (undefined bits masked)" : "");
    }
    uint32_t fm = F_COMPARED & ~ref->an.eflags_unknown;
    char fa[8], fb[8], fu[8], note[48] = "";
    flags_str(ref->out.eflags, fa); flags_str(got->out.eflags, fb);
    if (ref->an.eflags_unknown) { flags_str(ref->an.eflags_unknown, fu); snprintf(note, sizeof note, "  (undefined: %s)", fu); }
    snprintf(b1, sizeof b1, "%08x %s", ref->out.eflags, fa); snprintf(b2, sizeof b2, "%08x %s", got->out.eflags, fb);
    ROW("eflags", b1, b2, (ref->out.eflags ^ got->out.eflags) & fm, note);

    /* FXSAVE image: print only differing fields. */
    const uint8_t *fa8 = ref->out.fx, *fb8 = got->out.fx;
    uint16_t u1, u2;
    memcpy(&u1, fa8, 2); memcpy(&u2, fb8, 2);
    if (u1 != u2) { snprintf(b1, sizeof b1, "%04x", u1); snprintf(b2, sizeof b2, "%04x", u2); ROW("fcw", b1, b2, 1, ""); }
    memcpy(&u1, fa8 + 2, 2); memcpy(&u2, fb8 + 2, 2);
    uint16_t fswm = (uint16_t)~ref->an.fsw_unknown;
    if (ref->an.x87_approx) fswm = 0;                  /* U1: see the ST registers below */
    if ((u1 ^ u2) & fswm) { snprintf(b1, sizeof b1, "%04x", u1); snprintf(b2, sizeof b2, "%04x", u2); ROW("fsw", b1, b2, 1, ""); }
    if (fa8[4] != fb8[4] && !ref->an.x87_approx) { snprintf(b1, sizeof b1, "%02x", fa8[4]); snprintf(b2, sizeof b2, "%02x", fb8[4]); ROW("ftw", b1, b2, 1, ""); }
    uint32_t m1, m2;
    memcpy(&m1, fa8 + 24, 4); memcpy(&m2, fb8 + 24, 4);
    if ((m1 ^ m2) & ~MXCSR_IGNORED) { snprintf(b1, sizeof b1, "%08x", m1); snprintf(b2, sizeof b2, "%08x", m2); ROW("mxcsr", b1, b2, 1, ""); }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = fa8 + 32 + 16 * i, *b = fb8 + 32 + 16 * i;
        /* After a transcendental the register values are not compared at
         * all: QEMU 5 computes them through host doubles, with its own
         * argument reduction (unicorn-quirks.md U1). */
        if (ref->an.x87_approx || !memcmp(a, b, 10)) continue;
        char nm[8]; snprintf(nm, sizeof nm, "st%d", i);
        uint64_t ma, mb; uint16_t ea, eb;
        memcpy(&ma, a, 8); memcpy(&mb, b, 8); memcpy(&ea, a + 8, 2); memcpy(&eb, b + 8, 2);
        snprintf(b1, sizeof b1, "%04x:%016llx", ea, (unsigned long long)ma);
        snprintf(b2, sizeof b2, "%04x:%016llx", eb, (unsigned long long)mb);
        ROW(nm, b1, b2, 1, "");
    }
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = fa8 + 160 + 16 * i, *b = fb8 + 160 + 16 * i;
        if (!memcmp(a, b, 16) || xmm_nan_equal(ref, i, a, b)) continue;
        char nm[8]; snprintf(nm, sizeof nm, "xmm%d", i);
        uint64_t a0, a1, c0, c1;
        memcpy(&a0, a, 8); memcpy(&a1, a + 8, 8); memcpy(&c0, b, 8); memcpy(&c1, b + 8, 8);
        snprintf(b1, sizeof b1, "%016llx%016llx", (unsigned long long)a1, (unsigned long long)a0);
        snprintf(b2, sizeof b2, "%016llx%016llx", (unsigned long long)c1, (unsigned long long)c0);
        ROW(nm, b1, b2, 1, "");
    }

    /* Memory: hash, then list the differing runs. */
    if (XXH3_64bits(ref->out.mem, DT_MEM_BYTES) != XXH3_64bits(got->out.mem, DT_MEM_BYTES) ||
        memcmp(ref->out.mem, got->out.mem, DT_MEM_BYTES)) {
        int runs = 0;
        for (int r = 0; r < DT_NREGIONS; r++) {
            const struct dt_region *g = &dt_regions[r];
            for (uint32_t i = 0; i < g->size; i++) {
                if (ref->out.mem[g->off + i] == got->out.mem[g->off + i]) continue;
                uint32_t s = i & ~7u;
                nd++;
                sg |= 1ull << 63;
                if (f && runs++ < 12) {
                    char a[40] = "", b[40] = "";
                    for (uint32_t k = s; k < s + 8 && k < g->size; k++) {
                        snprintf(a + strlen(a), sizeof a - strlen(a), "%02x ", ref->out.mem[g->off + k]);
                        snprintf(b + strlen(b), sizeof b - strlen(b), "%02x ", got->out.mem[g->off + k]);
                    }
                    fprintf(f, "  m%08x  %-22s %-22s <<<\n", g->base + s, a, b);
                }
                i = s + 7;
            }
        }
    }
    (void)c;
    if (sig) *sig = sg;
    return nd;
#undef ROW
}
