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

static bool flat(const struct vcpu *v)
{
    for (int s = 0; s < 6; s++)
        if (v->seg[s].base)
            return false;
    return true;
}

static uint32_t intern(struct vcpu *v)
{
    for (unsigned i = 1; i <= v->nsegsets; i++) {
        unsigned k = 0;
        while (k < 6 && v->segsets[i][k] == v->seg[k].base)
            k++;
        if (k == 6)
            return i;
    }
    if (v->nsegsets == SEGSET_MAX) {
        vm_flush_code(v->vm);     /* blocks keyed on the old indexes go too */
        v->nsegsets = 0;
    }
    v->nsegsets++;
    for (int k = 0; k < 6; k++)
        v->segsets[v->nsegsets][k] = v->seg[k].base;
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

void segset_update(struct vcpu *v)
{
    uint32_t set = flat(v) ? 0 : intern(v), b16 = bits16(v);

    seglim_update(v);
    if (set != v->segset || b16 != v->bits16) {
        v->segset = set;
        v->bits16 = b16;
        vcpu_mode_changed(v);
    }
}

void segset_bases(void *opaque, uint32_t set, uint32_t base[6])
{
    struct vm *vm = opaque;
    struct vcpu *v = vm->vcpu;

    for (int k = 0; k < 6; k++)
        base[k] = set && set <= v->nsegsets ? v->segsets[set][k] : 0;
}
