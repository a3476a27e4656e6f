/* gdbstub_regs — the guest's registers in GDB's i386 layout, described to
 * GDB by the target.xml below (GDB's features org.gnu.gdb.i386.core and
 * .sse; the register order is the 'g' packet's):
 *
 *   0-15   eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs  (4 bytes)
 *   16-23  st0-st7                                                      (10 bytes)
 *   24-31  fctrl fstat ftag fiseg fioff foseg fooff fop                 (4 bytes)
 *   32-39  xmm0-xmm7                                                    (16 bytes)
 *   40     mxcsr                                                        (4 bytes)
 *
 * The x87/SSE values come from the FXSAVE image (SDM vol. 1 §10.5.1, table
 * 10-2); its abridged tag byte is widened to the full tag word GDB shows
 * (SDM vol. 1 §8.1.7). Segment selectors are read-only here: loading one
 * needs the descriptor checks of a real load, so a write is ignored. */
#include <string.h>

#include "emulator/system.h"

const char vm_gdb_target_xml[] =
    "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\"><architecture>i386</architecture>"
    "<feature name=\"org.gnu.gdb.i386.core\">"
    "<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>"
    "<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>"
    "<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>"
    "<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>"
    "</feature><feature name=\"org.gnu.gdb.i386.sse\">"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
    "<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
    "<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
    "<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
    "<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
    "</union>"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"32\"/>"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>"
    "</feature></target>";

enum { R_EIP_G = 8, R_EFLAGS_G, R_CS_G, R_GS_G = 15, R_ST0 = 16, R_FCTRL = 24, R_FTAG = 26,
       R_FOP = 31, R_XMM0 = 32, R_MXCSR = 40, NREGS };

/* GDB's segment order (cs ss ds es fs gs) in the vCPU's (ES CS SS DS FS GS). */
static const int seg_of[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
/* fctrl fstat ftag fiseg fioff foseg fooff fop: offset and size in FXSAVE. */
static const struct { uint8_t off, size; } fx_field[8] = {
    { 0, 2 }, { 2, 2 }, { 4, 1 }, { 12, 2 }, { 8, 4 }, { 20, 2 }, { 16, 4 }, { 6, 2 },
};

static size_t reg_size(int r)
{
    if (r < 0 || r >= NREGS)
        return 0;
    return r >= R_ST0 && r < R_FCTRL ? 10 : r >= R_XMM0 && r < R_MXCSR ? 16 : 4;
}

/* The full tag word from FXSAVE's abridged one: per physical register,
 * 11 empty, else 01 zero, 10 special (NaN, infinity, denormal,
 * unsupported) or 00 valid, from the register's contents. */
static uint32_t full_tag(const uint8_t *fx)
{
    unsigned top = fx[2 + 1] >> 3 & 7, tag = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        const uint8_t *st = fx + 32 + 16 * ((phys - top) & 7);
        uint64_t mant;
        unsigned exp = (st[8] | st[9] << 8) & 0x7fff, t;
        memcpy(&mant, st, 8);
        if (!(fx[4] >> phys & 1))
            t = 3;
        else if (exp == 0 && mant == 0)
            t = 1;
        else if (exp == 0x7fff || exp == 0 || !(mant >> 63))
            t = 2;
        else
            t = 0;
        tag |= t << (2 * phys);
    }
    return tag;
}

size_t vm_gdb_reg(struct vm *vm, int r, uint8_t *buf, const uint8_t *set)
{
    struct vcpu *v = vm->vcpu;
    uint8_t *fx = v->bt.fx_guest;
    size_t n = reg_size(r);
    uint32_t val = 0;
    struct vm_regs g;

    if (n == 0)
        return 0;
    if (r < R_CS_G) {
        vm_get_regs(vm, &g);
        uint32_t *p = r < R_EIP_G ? &g.gpr[r] : r == R_EIP_G ? &g.eip : &g.eflags;
        if (set) {
            memcpy(p, set, 4);
            vm_set_regs(vm, &g);
        }
        val = *p;
    } else if (r <= R_GS_G) {
        val = v->seg[seg_of[r - R_CS_G]].sel;
    } else if (r < R_FCTRL) {
        if (set)
            memcpy(fx + 32 + 16 * (r - R_ST0), set, 10);
        memcpy(buf, fx + 32 + 16 * (r - R_ST0), 10);
        return n;
    } else if (r <= R_FOP) {
        int k = r - R_FCTRL;
        if (set && r != R_FTAG) {
            memcpy(&val, set, 4);
            memcpy(fx + fx_field[k].off, &val, fx_field[k].size);
        } else if (set) {           /* back to the abridged form: 11 = empty */
            memcpy(&val, set, 4);
            fx[4] = 0;
            for (int i = 0; i < 8; i++)
                fx[4] |= (uint8_t)(((val >> (2 * i) & 3) != 3) << i);
        }
        val = 0;
        if (r == R_FTAG)
            val = full_tag(fx);
        else
            memcpy(&val, fx + fx_field[k].off, fx_field[k].size);
    } else if (r < R_MXCSR) {
        if (set)
            memcpy(fx + 160 + 16 * (r - R_XMM0), set, 16);
        memcpy(buf, fx + 160 + 16 * (r - R_XMM0), 16);
        return n;
    } else {
        if (set)
            memcpy(fx + 24, set, 4);
        memcpy(&val, fx + 24, 4);
    }
    memcpy(buf, &val, 4);
    return n;
}

size_t vm_gdb_get_regs(struct vm *vm, uint8_t *buf)
{
    size_t off = 0;
    for (int r = 0; r < NREGS; r++)
        off += vm_gdb_reg(vm, r, buf + off, NULL);
    return off;
}

void vm_gdb_set_regs(struct vm *vm, const uint8_t *buf)
{
    uint8_t tmp[16];
    size_t off = 0;
    for (int r = 0; r < NREGS; r++)
        off += vm_gdb_reg(vm, r, tmp, buf + off);
}
