/* segsets — the segment-base sets that key translations (DESIGN §2).
 *
 * Translated code folds a non-zero segment base into an operand's address
 * with lea (bt/xlate_copy.c). A block is translated for one tuple of bases
 * (ES CS SS DS FS GS); the block mode carries its index in this per-vCPU
 * table (0: every base is zero), and the translator reads the tuple back
 * through bt_config.seg_bases. A kernel has few distinct tuples (Linux i386:
 * a per-CPU FS base in the kernel, a TLS GS base per user thread); when the
 * table fills, every translation is dropped and it starts again. */
#include <string.h>

#include "emulator/system.h"

static uint32_t intern(struct vcpu *v, const uint32_t base[6])
{
    uint32_t h = 0;

    for (int s = 0; s < 6; s++)
        h = (h ^ base[s]) * 0x9e3779b1u;
    h >>= 26;
    /* Every segment load lands here (Linux: several per system call), and
     * the table holds a tuple per process (its TLS base): look in the memo
     * before scanning. */
    uint32_t m = v->segset_memo[h];
    if (m && m <= v->nsegsets && !memcmp(v->segsets[m], base, sizeof v->segsets[m]))
        return m;
    for (unsigned i = 1; i <= v->nsegsets; i++)
        if (!memcmp(v->segsets[i], base, sizeof v->segsets[i]))
            return v->segset_memo[h] = (uint8_t)i;
    if (v->nsegsets == SEGSET_MAX) {
        vm_flush_code(v->vm);     /* blocks keyed on the old indexes go too */
        v->nsegsets = 0;
        derive_forget(v);         /* ... and remembered ones */
    }
    v->nsegsets++;
    memcpy(v->segsets[v->nsegsets], base, sizeof v->segsets[v->nsegsets]);
    v->segset_memo[h] = (uint8_t)v->nsegsets;
    return v->nsegsets;
}

/* The code and stack sizes are keyed with the bases: a 16-bit CS is
 * decoded as 16-bit code, a 16-bit SS has its stack accesses done by the
 * monitor (bt/abi.h). */
static uint32_t bits16(const struct vcpu *v)
{
    bool code16 = v->vm86 || !(v->seg[SEG_CS].ar >> 22 & 1);
    return (code16 ? BT_MODE_CODE16 : 0) | (vcpu_stack16(v) ? BT_MODE_STACK16 : 0);
}

static uint32_t set_of(struct vcpu *v, const uint32_t base[6])
{
    for (int s = 0; s < 6; s++)
        if (base[s])
            return intern(v, base);
    return 0;
}

/* The set of the current bases, and of the same with FS, GS or both taken
 * as zero (segset_key). */
static void sets_of(struct vcpu *v, uint32_t set[4])
{
    uint32_t base[6];

    for (int s = 0; s < 6; s++)
        base[s] = v->seg[s].base;
    for (int a = 0; a < 4; a++) {
        uint32_t b[6];
        memcpy(b, base, sizeof b);
        if (a & 1)
            b[SEG_FS] = 0;
        if (a & 2)
            b[SEG_GS] = 0;
        set[a] = set_of(v, b);
    }
}

/* Do the bases still make the current set? (Most segment loads change none.) */
static bool unchanged(const struct vcpu *v)
{
    const uint32_t *cur = v->segset && v->segset <= v->nsegsets ? v->segsets[v->segset] : NULL;

    for (int s = 0; s < 6; s++)
        if (v->seg[s].base != (cur ? cur[s] : 0))
            return false;
    return v->segset_any[0] == v->segset;
}

void segset_update(struct vcpu *v)
{
    uint32_t set[4], n = v->nsegsets, b16 = bits16(v);

    seglim_update(v);
    if (unchanged(v) && b16 == v->bits16)
        return;
    sets_of(v, set);
    if (v->nsegsets < n || set[0] > v->nsegsets)
        sets_of(v, set);          /* the table filled and started again on the way */
    memcpy(v->segset_any, set, sizeof set);
    if (set[0] != v->segset || b16 != v->bits16) {
        v->segset = set[0];
        v->bits16 = b16;
        vcpu_mode_changed(v);
    }
}

uint32_t segset_key(const struct vcpu *v, uint32_t mode, uint32_t any)
{
    uint32_t a = (any & BT_MODE_ANY_FSGS) / BT_MODE_ANY_FS;

    if (!a || v->segset_any[0] != v->segset)
        return mode;
    return (mode & ~(0xffu << BT_MODE_SEGSET_SHIFT)) | v->segset_any[a] << BT_MODE_SEGSET_SHIFT | any;
}

void segset_bases(void *opaque, uint32_t set, uint32_t base[6])
{
    struct vm *vm = opaque;
    struct vcpu *v = vm->vcpu;

    for (int k = 0; k < 6; k++)
        base[k] = set && set <= v->nsegsets ? v->segsets[set][k] : 0;
}
