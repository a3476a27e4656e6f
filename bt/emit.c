/* emit — x86-64 encoder (see emit.h). SDM vol. 2 §2.1-2.2: legacy prefixes,
 * then REX, then opcode, ModRM, SIB, displacement, immediate. */
#include "bt/emit.h"

#include <string.h>

void emit_init(struct emit *e, uint8_t *rw, uint8_t *rx, size_t size)
{
    e->p = e->start = rw;
    e->end = rw + size;
    e->rx = rx;
    e->overflow = false;
}

void emit_bytes(struct emit *e, const void *b, size_t n)
{
    if ((size_t)(e->end - e->p) < n) {
        e->overflow = true;
        return;
    }
    memcpy(e->p, b, n);
    e->p += n;
}

void emit_u8(struct emit *e, uint8_t b) { emit_bytes(e, &b, 1); }
void emit_u16(struct emit *e, uint16_t v) { emit_bytes(e, &v, 2); }
void emit_u32(struct emit *e, uint32_t v) { emit_bytes(e, &v, 4); }
void emit_u64(struct emit *e, uint64_t v) { emit_bytes(e, &v, 8); }

void emit_rex(struct emit *e, bool w, int r, int rm, int index, bool bare)
{
    int rex = (w ? 8 : 0) | (r >= 8 ? 4 : 0) | (index >= 8 ? 2 : 0) | (rm >= 8 ? 1 : 0);

    if (rex || bare)
        emit_u8(e, (uint8_t)(0x40 | rex));
}

void emit_opc(struct emit *e, int opc, int r, int rm, int index)
{
    if (opc & P_DATA16)
        emit_u8(e, 0x66);
    /* Byte registers 4..7 mean SPL..DIL only with a REX prefix (§2.2.1.2). */
    emit_rex(e, (opc & P_REXW) != 0, r, rm, index,
             ((opc & P_BYTER) && r >= 4 && r < 8) || ((opc & P_BYTERM) && rm >= 4 && rm < 8));
    if (opc & (P_EXT | P_EXT38))
        emit_u8(e, 0x0f);
    if (opc & P_EXT38)
        emit_u8(e, 0x38);
    emit_u8(e, (uint8_t)opc);
}

void emit_modrm_reg(struct emit *e, int opc, int r, int rm)
{
    emit_opc(e, opc, r, rm, -1);
    emit_u8(e, (uint8_t)(0xc0 | (r & 7) << 3 | (rm & 7)));
}

static bool fits8(int32_t d) { return d >= -128 && d <= 127; }

void emit_modrm_mem(struct emit *e, int opc, int r, int base, int index, int shift, int32_t disp)
{
    if (opc & P_GUEST) {
        /* R14 as the index (scale 1): RSP can be the base, never an index. */
        if (base < 0)
            base = H_R14;
        else
            index = H_R14, shift = 0;
    }
    emit_opc(e, opc, r, base < 0 ? 0 : base, index);
    emit_mem_operand(e, r, base, index, shift, disp);
}

void emit_mem_operand(struct emit *e, int r, int base, int index, int shift, int32_t disp)
{
    int mod, rr = (r & 7) << 3;

    if (base < 0) {
        /* No base: SIB with base=101 and mod=00 means disp32 only. Never
         * mod=00 rm=101, which is RIP-relative in 64-bit mode (§2.2.1.6). */
        emit_u8(e, (uint8_t)(0x04 | rr));
        emit_u8(e, (uint8_t)(shift << 6 | (index < 0 ? 4 : index & 7) << 3 | 5));
        emit_u32(e, (uint32_t)disp);
        return;
    }
    /* [rbp]/[r13] have no mod=00 form: use disp8 0. */
    if (disp == 0 && (base & 7) != 5)
        mod = 0x00;
    else if (fits8(disp))
        mod = 0x40;
    else
        mod = 0x80;
    if (index < 0 && (base & 7) != 4) {
        emit_u8(e, (uint8_t)(mod | rr | (base & 7)));
    } else {
        /* rsp/r12 as base, or any index, need a SIB byte; index 100 = none. */
        emit_u8(e, (uint8_t)(mod | rr | 4));
        emit_u8(e, (uint8_t)(shift << 6 | (index < 0 ? 4 : index & 7) << 3 | (base & 7)));
    }
    if (mod == 0x40)
        emit_u8(e, (uint8_t)disp);
    else if (mod == 0x80)
        emit_u32(e, (uint32_t)disp);
}

void emit_mov_r32_r32(struct emit *e, int dst, int src) { emit_modrm_reg(e, OPC_MOVL_GvEv, dst, src); }
void emit_mov_r64_r64(struct emit *e, int dst, int src) { emit_modrm_reg(e, OPC_MOVL_GvEv | P_REXW, dst, src); }

void emit_mov_r32_imm32(struct emit *e, int r, uint32_t imm)
{
    emit_opc(e, 0xb8 + (r & 7), 0, r, -1);
    emit_u32(e, imm);
}

void emit_mov_r64_imm64(struct emit *e, int r, uint64_t imm)
{
    emit_opc(e, (0xb8 + (r & 7)) | P_REXW, 0, r, -1);
    emit_u64(e, imm);
}

void emit_mov_r32_m32(struct emit *e, int r, int base, int32_t disp) { emit_modrm_mem(e, OPC_MOVL_GvEv, r, base, -1, 0, disp); }
void emit_mov_m32_r32(struct emit *e, int base, int32_t disp, int r) { emit_modrm_mem(e, OPC_MOVL_EvGv, r, base, -1, 0, disp); }
void emit_mov_r64_m64(struct emit *e, int r, int base, int32_t disp) { emit_modrm_mem(e, OPC_MOVL_GvEv | P_REXW, r, base, -1, 0, disp); }
void emit_mov_m64_r64(struct emit *e, int base, int32_t disp, int r) { emit_modrm_mem(e, OPC_MOVL_EvGv | P_REXW, r, base, -1, 0, disp); }

void emit_mov_m32_imm32(struct emit *e, int base, int32_t disp, uint32_t imm)
{
    emit_modrm_mem(e, OPC_MOVL_EvIz, 0, base, -1, 0, disp);
    emit_u32(e, imm);
}

void emit_mov_m8_imm8(struct emit *e, int base, int32_t disp, uint8_t imm)
{
    emit_modrm_mem(e, OPC_MOVB_EbIb, 0, base, -1, 0, disp);
    emit_u8(e, imm);
}

void emit_lea_r32(struct emit *e, int r, int base, int index, int shift, int32_t disp)
{
    emit_modrm_mem(e, OPC_LEA, r, base, index, shift, disp);
}

void emit_lea_r64(struct emit *e, int r, int base, int index, int shift, int32_t disp)
{
    emit_modrm_mem(e, OPC_LEA | P_REXW, r, base, index, shift, disp);
}

void emit_movzx_r32_r16(struct emit *e, int dst, int src) { emit_modrm_reg(e, OPC_MOVZWL, dst, src); }
void emit_not_r64(struct emit *e, int r) { emit_modrm_reg(e, OPC_GRP3_Ev | P_REXW, 2, r); }

void emit_guest_load32(struct emit *e, int r, int base, int32_t disp)
{
    emit_modrm_mem(e, OPC_MOVL_GvEv | P_GUEST, r, base, -1, 0, disp);
}

void emit_guest_load16z(struct emit *e, int r, int base, int32_t disp)
{
    emit_modrm_mem(e, OPC_MOVZWL | P_GUEST, r, base, -1, 0, disp);
}

void emit_guest_store32(struct emit *e, int base, int32_t disp, int r)
{
    emit_modrm_mem(e, OPC_MOVL_EvGv | P_GUEST, r, base, -1, 0, disp);
}

void emit_guest_store16(struct emit *e, int base, int32_t disp, int r)
{
    emit_modrm_mem(e, OPC_MOVL_EvGv | P_GUEST | P_DATA16, r, base, -1, 0, disp);
}

void emit_guest_store32_imm(struct emit *e, int base, int32_t disp, uint32_t imm)
{
    emit_modrm_mem(e, OPC_MOVL_EvIz | P_GUEST, 0, base, -1, 0, disp);
    emit_u32(e, imm);
}

void emit_guest_store16_imm(struct emit *e, int base, int32_t disp, uint16_t imm)
{
    emit_modrm_mem(e, OPC_MOVL_EvIz | P_GUEST | P_DATA16, 0, base, -1, 0, disp);
    emit_u16(e, imm);
}

static int32_t rel32_to(const struct emit *e, size_t field_off, uint64_t target_rx)
{
    return (int32_t)(target_rx - ((uint64_t)e->rx + field_off + 4));
}

size_t emit_jmp_rel32(struct emit *e, uint64_t target_rx)
{
    size_t off;
    emit_u8(e, 0xe9);
    off = emit_off(e);
    emit_u32(e, (uint32_t)rel32_to(e, off, target_rx));
    return off;
}

size_t emit_jcc_rel32(struct emit *e, int cc, uint64_t target_rx)
{
    size_t off;
    emit_u8(e, 0x0f);
    emit_u8(e, (uint8_t)(0x80 | cc));
    off = emit_off(e);
    emit_u32(e, (uint32_t)rel32_to(e, off, target_rx));
    return off;
}

size_t emit_jcc_rel8(struct emit *e, int cc)
{
    emit_u8(e, (uint8_t)(0x70 | cc));
    emit_u8(e, 0);
    return emit_off(e) - 1;
}

size_t emit_jrcxz_rel8(struct emit *e)
{
    emit_u8(e, 0xe3);
    emit_u8(e, 0);
    return emit_off(e) - 1;
}

void emit_jmp_r64(struct emit *e, int r) { emit_modrm_reg(e, OPC_GRP5, 4, r); }
void emit_jmp_m64(struct emit *e, int base, int32_t disp) { emit_modrm_mem(e, OPC_GRP5, 4, base, -1, 0, disp); }

void emit_patch_rel8_here(struct emit *e, size_t off)
{
    if (e->overflow)
        return;
    e->start[off] = (uint8_t)(int8_t)(emit_off(e) - (off + 1));
}

void emit_patch_rel32(struct emit *e, size_t off, uint64_t target_rx)
{
    int32_t rel = rel32_to(e, off, target_rx);
    if (!e->overflow)
        memcpy(e->start + off, &rel, 4);
}
