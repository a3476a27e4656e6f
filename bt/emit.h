/* emit — the x86-64 host-code encoder.
 *
 * As in QEMU's tcg/i386 backend: opcode constants carry their prefix needs as
 * flag bits (P_*), one function works out prefixes, REX and the opcode bytes
 * (emit_opc) and one works out ModRM/SIB/displacement for every addressing
 * form (emit_modrm_mem). The thin emit_* functions below are named after the
 * host instruction they encode and carry it in a comment.
 *
 * Registers are host numbers 0..15 (H_RAX..H_R15). In memory operands
 * base = -1 means "no base" (SIB form with disp32), index = -1 means none. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI,
    H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15,
};

/* Prefix flags or'ed into opcode constants. */
#define P_EXT    0x00100  /* 0F escape */
#define P_EXT38  0x00200  /* 0F 38 escape */
#define P_DATA16 0x00400  /* 66 */
#define P_REXW   0x00800  /* REX.W: 64-bit operand */
#define P_BYTER  0x01000  /* reg field is a byte register: REX for SPL..DIL */
#define P_BYTERM 0x02000  /* r/m field is a byte register */
/* Guest memory: the operand [base + disp] becomes [base + r14 + disp], R14
 * holding the active guest window (bt/abi.h). base holds a zero-extended
 * 32-bit address; with no base, disp must be below 2^31. */
#define P_GUEST  0x04000

/* Opcodes (low byte), named after their operand forms. */
enum {
    OPC_MOVB_EbGb = 0x88 | P_BYTER,
    OPC_MOVL_EvGv = 0x89,
    OPC_MOVB_GbEb = 0x8a | P_BYTER,
    OPC_MOVL_GvEv = 0x8b,
    OPC_LEA       = 0x8d,
    OPC_MOVL_EvIz = 0xc7,
    OPC_MOVB_EbIb = 0xc6,
    OPC_MOVZBL    = 0xb6 | P_EXT,
    OPC_MOVZWL    = 0xb7 | P_EXT,
    OPC_GRP5      = 0xff,          /* /4 jmp r/m64 */
    OPC_GRP3_Ev   = 0xf7,          /* /2 not */
    OPC_JCC_long  = 0x80 | P_EXT,
    OPC_JMP_long  = 0xe9,
};

/* Condition codes (low nibble of Jcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
       CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

struct emit {
    uint8_t *p;       /* next byte (RW view) */
    uint8_t *start;   /* RW start of the current unit */
    uint8_t *end;
    uint8_t *rx;      /* RX address corresponding to start (for rel32/rip math) */
    bool overflow;    /* set instead of writing past end */
};

void emit_init(struct emit *e, uint8_t *rw, uint8_t *rx, size_t size);
static inline size_t emit_off(const struct emit *e) { return (size_t)(e->p - e->start); }
/* RX address of the next byte. */
static inline uint64_t emit_rx_here(const struct emit *e) { return (uint64_t)(e->rx + (e->p - e->start)); }

void emit_u8(struct emit *e, uint8_t b);
void emit_u16(struct emit *e, uint16_t v);
void emit_u32(struct emit *e, uint32_t v);
void emit_u64(struct emit *e, uint64_t v);
void emit_bytes(struct emit *e, const void *b, size_t n);

/* Prefixes, REX and opcode for `opc` whose ModRM reg field is r, r/m field
 * rm and SIB index field index (-1 if none). */
void emit_opc(struct emit *e, int opc, int r, int rm, int index);
/* The REX prefix for these registers (R, B, X extensions), if one is
 * needed; `bare` forces it (SPL..DIL rather than AH..BH). */
void emit_rex(struct emit *e, bool w, int r, int rm, int index, bool bare);
/* opc with register-direct ModRM (mod=3). */
void emit_modrm_reg(struct emit *e, int opc, int r, int rm);
/* opc with a memory operand [base + index<<shift + disp]. */
void emit_modrm_mem(struct emit *e, int opc, int r, int base, int index, int shift, int32_t disp);
/* Its ModRM/SIB/displacement alone, for an opcode emitted by the caller. */
void emit_mem_operand(struct emit *e, int r, int base, int index, int shift, int32_t disp);

/* mov r32, r32 */            void emit_mov_r32_r32(struct emit *e, int dst, int src);
/* mov r64, r64 */            void emit_mov_r64_r64(struct emit *e, int dst, int src);
/* mov r32, imm32 */          void emit_mov_r32_imm32(struct emit *e, int r, uint32_t imm);
/* mov r64, imm64 (movabs) */ void emit_mov_r64_imm64(struct emit *e, int r, uint64_t imm);
/* mov r32, [base+disp] */    void emit_mov_r32_m32(struct emit *e, int r, int base, int32_t disp);
/* mov [base+disp], r32 */    void emit_mov_m32_r32(struct emit *e, int base, int32_t disp, int r);
/* mov r64, [base+disp] */    void emit_mov_r64_m64(struct emit *e, int r, int base, int32_t disp);
/* mov [base+disp], r64 */    void emit_mov_m64_r64(struct emit *e, int base, int32_t disp, int r);
/* mov dword [base+disp], imm32 */ void emit_mov_m32_imm32(struct emit *e, int base, int32_t disp, uint32_t imm);
/* mov byte [base+disp], imm8 */   void emit_mov_m8_imm8(struct emit *e, int base, int32_t disp, uint8_t imm);
/* lea r32, [base+index<<shift+disp] */ void emit_lea_r32(struct emit *e, int r, int base, int index, int shift, int32_t disp);
/* lea r64, [base+index<<shift+disp] */ void emit_lea_r64(struct emit *e, int r, int base, int index, int shift, int32_t disp);
/* movzx r32, r16 */          void emit_movzx_r32_r16(struct emit *e, int dst, int src);
/* not r64 */                 void emit_not_r64(struct emit *e, int r);

/* Guest memory: [base + r14 + disp] (P_GUEST). */
/* mov r32, [base+r14+disp] */ void emit_guest_load32(struct emit *e, int r, int base, int32_t disp);
/* movzx r32, word [base+r14+disp] */ void emit_guest_load16z(struct emit *e, int r, int base, int32_t disp);
/* mov [base+r14+disp], r32 */ void emit_guest_store32(struct emit *e, int base, int32_t disp, int r);
/* mov [base+r14+disp], r16 */ void emit_guest_store16(struct emit *e, int base, int32_t disp, int r);
/* mov dword [base+r14+disp], imm32 */ void emit_guest_store32_imm(struct emit *e, int base, int32_t disp, uint32_t imm);
/* mov word [base+r14+disp], imm16 */  void emit_guest_store16_imm(struct emit *e, int base, int32_t disp, uint16_t imm);

/* Control flow. Each returns the offset (emit_off) of its rel32/rel8 field. */
/* jmp rel32 */               size_t emit_jmp_rel32(struct emit *e, uint64_t target_rx);
/* jcc rel32 */               size_t emit_jcc_rel32(struct emit *e, int cc, uint64_t target_rx);
/* jrcxz rel8 (target set later with emit_patch_rel8) */ size_t emit_jrcxz_rel8(struct emit *e);
/* jcc rel8, cc the condition's low nibble (target set later with emit_patch_rel8) */
size_t emit_jcc_rel8(struct emit *e, int cc);
/* jmp r64 */                 void emit_jmp_r64(struct emit *e, int r);
/* jmp qword [base+disp] */   void emit_jmp_m64(struct emit *e, int base, int32_t disp);
/* Point the rel8 at offset off to the current position. */
void emit_patch_rel8_here(struct emit *e, size_t off);
/* Point the rel32 at offset off (of this unit) to target_rx. */
void emit_patch_rel32(struct emit *e, size_t off, uint64_t target_rx);
