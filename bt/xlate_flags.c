/* xlate_flags — PUSHF and POPF translated inline (DESIGN §2: they are hot
 * in kernels, e.g. Linux's local_irq_save/restore).
 *
 * The guest's arithmetic flags and DF live in host RFLAGS; IF is the vCPU's
 * `vif` byte; TF IOPL NT AC ID are kept in cpu->eflags. Host RFLAGS cannot be
 * read or written without a stack, and the host stack pointer is the guest's
 * ESP, so RSP is pointed for one instruction at an 8-byte slot inside the
 * vCPU: `lea rsp,[r15+slot+8]; pushfq` (or `lea rsp,[r15+slot]; popfq`),
 * then the guest ESP comes back from r10. The verifier allows pushfq/popfq
 * only in that state. No fault can happen while RSP is borrowed.
 *
 *   PUSHF: capture RFLAGS; build the image (arith|DF from the capture, IF
 *          from vif, the rest from cpu->eflags, bit 1 set; VM and RF read as
 *          0, SDM "PUSHF") with flag-clobbering ALU ops; put the arithmetic
 *          flags back with `add al,0x7f` (OF) and `sahf` (SF ZF AF PF CF);
 *          then store, so a fault sees the guest's flags intact.
 *   POPF:  load the value first (a fault changes nothing); the virtual bits
 *          go to cpu->eflags and vif, the arithmetic bits and DF into RFLAGS
 *          with popfq. At CPL 0 every bit but VM/VIP/VIF may change and RF
 *          is cleared (SDM "POPF"), so no check is needed; at CPL > 0 and for
 *          16-bit POPF the monitor's callout applies the IOPL rules. A POPF
 *          that sets TF leaves the block (cpu->tf_set), so that the
 *          dispatcher single-steps what follows (SDM vol. 3B §17.3.1.4). */
#include "bt/abi_offsets.h"
#include "bt/xlate.h"

#define ARITH_DF  0xcd5u                 /* CF PF AF ZF SF OF DF */
#define VIRTUAL   0x247100u              /* TF IOPL NT AC ID */

static void and_r32_imm(struct emit *e, int r, uint32_t imm) { emit_modrm_reg(e, 0x81, 4, r); emit_u32(e, imm); }
static void or_r32_imm(struct emit *e, int r, uint32_t imm) { emit_modrm_reg(e, 0x81, 1, r); emit_u32(e, imm); }
static void or_r32_r32(struct emit *e, int dst, int src) { emit_modrm_reg(e, 0x09, src, dst); }

/* mov r10, rsp; lea rsp, [r15+disp]; <op>; mov rsp, r10 */
void xl_rflags_slot(struct emit *e, int32_t disp, uint8_t op)
{
    emit_mov_r64_r64(e, H_R10, H_RSP);
    emit_lea_r64(e, H_RSP, H_R15, -1, 0, disp);
    emit_u8(e, op);
    emit_mov_r64_r64(e, H_RSP, H_R10);
}

bool xl_pushf(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    xl_rflags_slot(e, CPU_RFLAGS_SLOT + 8, 0x9c);                   /* pushfq into the slot */
    emit_mov_r32_m32(e, H_R11, H_R15, CPU_RFLAGS_SLOT);
    and_r32_imm(e, H_R11, ARITH_DF);
    emit_mov_r32_m32(e, H_R8, H_R15, CPU_EFLAGS);
    and_r32_imm(e, H_R8, VIRTUAL);
    or_r32_r32(e, H_R11, H_R8);
    emit_modrm_mem(e, OPC_MOVZBL, H_R8, H_R15, -1, 0, CPU_VIF);      /* movzx r8d, byte [vif] */
    emit_modrm_reg(e, 0xc1, 4, H_R8);                                /* shl r8d, 9 */
    emit_u8(e, 9);
    or_r32_r32(e, H_R11, H_R8);
    or_r32_imm(e, H_R11, 2);
    /* Put the arithmetic flags back: AH = SF ZF . AF . PF . CF, AL = OF. */
    emit_mov_r64_r64(e, H_R8, H_RAX);
    emit_modrm_mem(e, 0x8a, H_RAX, H_R15, -1, 0, CPU_RFLAGS_SLOT);   /* mov al, [slot] */
    emit_bytes(e, "\x88\xc4", 2);                                    /* mov ah, al */
    emit_modrm_mem(e, 0x8a, H_RAX, H_R15, -1, 0, CPU_RFLAGS_SLOT + 1);
    emit_bytes(e, "\xc0\xe8\x03\x24\x01", 5);                        /* shr al, 3; and al, 1 */
    emit_bytes(e, "\x04\x7f\x9e", 3);                                /* add al, 0x7f; sahf */
    emit_mov_r64_r64(e, H_RAX, H_R8);
    if (in->opsize == 4)
        emit_guest_store32(e, H_RSP, xl_ss(xl) - 4, H_R11);
    else
        emit_guest_store16(e, H_RSP, xl_ss(xl) - 2, H_R11);
    emit_lea_r32(e, H_RSP, H_RSP, -1, 0, -in->opsize);
    return true;
}

bool xl_popf(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    emit_guest_load32(e, H_R11, H_RSP, xl_ss(xl));
    emit_lea_r32(e, H_RSP, H_RSP, -1, 0, 4);
    emit_mov_r32_r32(e, H_R8, H_R11);
    and_r32_imm(e, H_R8, VIRTUAL);
    or_r32_imm(e, H_R8, 2);
    emit_mov_m32_r32(e, H_R15, CPU_EFLAGS, H_R8);
    /* Host flags are free until the popfq: note a TF set for the exit test. */
    emit_modrm_reg(e, 0xba | P_EXT, 4, H_R8);                        /* bt r8d, 8 */
    emit_u8(e, 8);
    emit_modrm_mem(e, 0x92 | P_EXT, 0, H_R15, -1, 0, CPU_TF_SET);    /* setc byte [tf_set] */
    emit_modrm_reg(e, 0xba | P_EXT, 4, H_R11);                       /* bt r11d, 9 */
    emit_u8(e, 9);
    emit_modrm_mem(e, 0x92 | P_EXT, 0, H_R15, -1, 0, CPU_VIF);       /* setc byte [vif] */
    and_r32_imm(e, H_R11, ARITH_DF);
    or_r32_imm(e, H_R11, 0x202);                                     /* host bit 1 and IF */
    emit_mov_m64_r64(e, H_R15, CPU_RFLAGS_SLOT, H_R11);
    xl_rflags_slot(e, CPU_RFLAGS_SLOT, 0x9d);                       /* popfq from the slot */
    xl_check_irq_window(xl, in, true);
    return true;
}
