/* decoder — one guest IA-32 instruction in, one compact struct insn out.
 *
 * Capstone (CS_MODE_32, detail on) does the decoding; this library adds
 * what the translator needs and Capstone 4.0.2 gets wrong (each case is
 * pinned by tests/unit/test_decoder_capstone.c): the byte layout (prefixes, opcode,
 * ModRM/SIB/disp/imm offsets) recomputed from the bytes, the operand size
 * taken from the prefix bytes, valid hint-NOPs that Capstone calls invalid.
 *
 * One table, keyed by Capstone instruction id (plus opcode for the few ids
 * that cover several rewrites), gives every instruction its `kind` (how bt/
 * translates it) and its `class` (the coarse category for statistics). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Coarse category (DESIGN §1). */
enum insn_class {
    CLS_INVALID = 0, /* not a valid i686 instruction: #UD */
    CLS_IDENT,       /* copied byte for byte */
    CLS_MEMORY,      /* copied with gs: + 0x67 on its memory operand */
    CLS_STACK,       /* implicit stack access: rewritten */
    CLS_BRANCH,      /* control transfer: ends the block */
    CLS_STRING,      /* MOVS CMPS STOS LODS SCAS */
    CLS_SENSITIVE,   /* needs the monitor (privileged or sensitive) */
    CLS_NO64,        /* valid in 32-bit mode, invalid or different in 64-bit mode */
    CLS_COUNT
};

/* How bt/ translates it. One row of the decoder's table each. */
enum insn_kind {
    K_INVALID = 0,   /* #UD */
    K_COPY,          /* no memory operand, same meaning in 64-bit mode: copy */
    K_COPY_MEM,      /* has a ModRM memory operand: copy, prefix gs:/0x67, re-encode
                        mod=00 rm=101; for mod=3 behaves as K_COPY */
    K_LEA,           /* LEA: ModRM re-encoded like K_COPY_MEM, but no gs: */
    K_INCDEC_SHORT,  /* 40-4F: INC/DEC r16/r32, REX in 64-bit mode -> FF /0, FF /1 */
    K_MOFFS,         /* A0-A3: MOV AL/AX/EAX <-> moffs32 */
    K_XLAT,          /* D7: AL = [EBX+AL] */
    K_PUSH,          /* 50+r, 68, 6A, FF /6 (16- and 32-bit) */
    K_POP,           /* 58+r, 8F /0 */
    K_PUSHA, K_POPA,
    K_ENTER, K_LEAVE,
    K_BCD,           /* DAA DAS AAA AAS AAM AAD */
    K_SALC,          /* D6 (undocumented; AL = CF ? 0xFF : 0) */
    K_STRING,        /* MOVS CMPS STOS LODS SCAS, any REP prefix */
    K_JCC,           /* 70-7F, 0F 80-8F */
    K_JMP,           /* EB, E9 */
    K_CALL,          /* E8 */
    K_RET,           /* C3, C2 iw */
    K_LOOP,          /* E0 E1 E2: LOOPNE LOOPE LOOP */
    K_JCXZ,          /* E3 */
    K_JMP_IND,       /* FF /4 */
    K_CALL_IND,      /* FF /2 */
    K_CLI, K_STI,
    K_PUSHF, K_POPF,
    K_HLT,
    K_IO,            /* IN OUT INS OUTS */
    K_INT,           /* INT n, INT3, INTO, INT1 (F1) */
    K_IRET,
    K_FAR,           /* far JMP/CALL (ptr16:32 and m16:32), far RET */
    K_SEG,           /* MOV Sreg,r/m / MOV r/m,Sreg / PUSH Sreg / POP Sreg / LDS LES LSS LFS LGS */
    K_SYS,           /* every other sensitive instruction (MOV CRn/DRn, LGDT.., CPUID,
                        RDTSC, RDMSR, WRMSR, INVLPG, CLTS, LMSW, SMSW, SGDT.., LAR, LSL,
                        VERR, VERW, ARPL, BOUND, INVD, WBINVD, RDPMC, SYSENTER, SYSEXIT) */
    K_UD,            /* UD2, UD1, UD0: architectural #UD */
    K_MASKMOV,       /* MASKMOVQ, MASKMOVDQU: implicit store to ds:[edi] (the segment can be
                        overridden): copy with gs: + 0x67 although mod=3 */
    K_COUNT
};

/* insn.flags */
enum {
    INSN_F_MEM       = 1u << 0,  /* has a ModRM memory operand (mod != 3) */
    INSN_F_ENDS_BLK  = 1u << 1,  /* translation must end the block after it */
    INSN_F_PRIV      = 1u << 2,  /* #GP(0) unless CPL 0 */
    INSN_F_IOPL      = 1u << 3,  /* #GP(0) unless CPL <= IOPL (CLI STI IN OUT INS OUTS) */
    INSN_F_DISP32_ONLY = 1u << 4,/* ModRM mod=00 rm=101 with 32-bit addressing: RIP-relative in
                                    64-bit mode. Not set for SIB base=101 mod=00, which still
                                    means disp32 with no base in 64-bit mode (SDM vol. 2 §2.2.1.6) */
    INSN_F_ADDR16    = 1u << 5,  /* 0x67 prefix: 16-bit addressing */
    INSN_F_LOCK      = 1u << 6,
    INSN_F_FPU       = 1u << 7,  /* x87 instruction */
    INSN_F_SSE       = 1u << 8,  /* MMX/SSE/SSE2 instruction */
    INSN_F_FPU_ENV   = 1u << 9,  /* stores an FPU instruction pointer: FNSTENV FNSAVE FXSAVE */
    INSN_F_WRITES_SP = 1u << 10, /* explicitly writes ESP (mov esp,..; add esp,..) */
    INSN_F_OP82      = 1u << 11, /* opcode 0x82: alias of 0x80, #UD in 64-bit mode: re-encode as 0x80 */
    INSN_F_HINT_NOP  = 1u << 12, /* reserved hint NOP (0F 0D, 0F 18-1F except PREFETCHh): no
                                    architectural effect and no memory access; the host may give it
                                    a meaning (MPX, CET), so it may be emitted as a plain NOP */
    INSN_F_F3_BSF    = 1u << 13, /* F3 0F BC/BD: an i686 ignores the F3 and runs BSF/BSR; a host with
                                    BMI1/ABM runs TZCNT/LZCNT. Drop the F3 to keep i686 semantics */
};

/* EFLAGS bits, as in the SDM. */
enum {
    FL_CF = 1u << 0, FL_PF = 1u << 2, FL_AF = 1u << 4, FL_ZF = 1u << 6,
    FL_SF = 1u << 7, FL_TF = 1u << 8, FL_IF = 1u << 9, FL_DF = 1u << 10,
    FL_OF = 1u << 11, FL_IOPL = 3u << 12, FL_NT = 1u << 14, FL_RF = 1u << 16,
    FL_VM = 1u << 17, FL_AC = 1u << 18, FL_VIF = 1u << 19, FL_VIP = 1u << 20,
    FL_ID = 1u << 21,
    FL_ARITH = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF,
};

/* Segment registers in hardware order (Sreg field of ModRM). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = -1 };

struct insn {
    uint32_t eip;           /* guest linear address of the first byte */
    uint8_t  len;           /* 1..15: bytes[] */
    uint8_t  glen;          /* guest bytes the instruction takes: len, except for 16-bit code
                               (decode_insn16), where bytes[] is the 32-bit-mode equivalent */
    uint8_t  bytes[15];
    uint8_t  npfx;          /* legacy prefix bytes before the opcode */
    uint8_t  opc_len;       /* opcode bytes incl. 0F / 0F 38 / 0F 3A escapes; 0F 0F = 2 */
    int8_t   modrm_off;     /* offsets into bytes[], -1 when absent */
    int8_t   sib_off;
    int8_t   disp_off;
    int8_t   imm_off;
    uint8_t  disp_size;     /* 0, 1, 2 or 4 */
    uint8_t  imm_size;      /* total immediate bytes (ENTER: 3; far ptr: 6 or 4) */
    uint8_t  opsize;        /* 2 or 4 (from the prefixes, not from Capstone) */
    uint8_t  addrsize;      /* 2 or 4 */
    uint8_t  rep;           /* 0, 0xF2 or 0xF3: the last of F2/F3 among the prefixes */
    int8_t   seg;           /* last segment override, SEG_NONE if none */
    uint16_t id;            /* Capstone x86_insn id */
    uint8_t  cls;           /* enum insn_class */
    uint8_t  kind;          /* enum insn_kind */
    uint32_t flags;         /* INSN_F_* */
    /* Decoded fields the translator uses directly. */
    uint8_t  opcode;        /* the last opcode byte (after any 0F escapes) */
    uint8_t  mod, reg, rm;  /* ModRM fields (valid when modrm_off >= 0) */
    int32_t  disp;          /* sign-extended displacement */
    int64_t  imm;           /* first immediate, sign-extended as the instruction does */
    uint32_t target;        /* relative branches: guest target, truncated to 16 bits for opsize 2 */
    uint16_t flags_read;    /* EFLAGS bits read (FL_*), from the table; includes the bits the
                               instruction may pass through unchanged (shift by CL = 0, REP CMPS
                               with ECX = 0, POPF's IF/IOPL at CPL > 0), so that
                               live_in = flags_read | (live_out & ~flags_written) is exact */
    uint16_t flags_written; /* EFLAGS bits written or undefined */
    uint16_t imm2;          /* second immediate: ENTER's nesting level, a far pointer's selector */
};

struct decoder;

/* One decoder per translator; not thread-safe. NULL on failure. */
struct decoder *decoder_create(void);
void decoder_destroy(struct decoder *d);

/* Decode the instruction at code[0..avail) whose first byte is at guest
 * address eip. Returns 0 and fills *out; returns -1 when the bytes are not a
 * valid instruction (out->kind = K_INVALID, out->len = bytes consumed for
 * the error report, at least 1) and -2 when avail is too short to tell
 * (the instruction continues past the bytes given). */
int decode_insn(struct decoder *d, const uint8_t *code, size_t avail, uint32_t eip,
                struct insn *out);

/* The same for 16-bit code (CS.D = 0: real mode, virtual-8086 mode, 16-bit
 * protected mode). The instruction is rewritten into its 32-bit-mode
 * equivalent — the operand-size (0x66) and address-size (0x67) prefixes
 * toggled, which is exact because the default sizes are all that CS.D
 * changes (SDM vol. 1 §3.6; vol. 2 §2.1.1), except where 0x66 is an SSE
 * mandatory prefix — and decoded as such: out->bytes, len and the layout
 * describe the rewritten instruction, out->glen the guest bytes and
 * out->target the 16-bit code's branch target. */
int decode_insn16(struct decoder *d, const uint8_t *code, size_t avail, uint32_t eip,
                  struct insn *out);

/* On by default: the common opcodes are decoded without Capstone (same
 * result, several times faster). Off: every instruction goes through
 * Capstone (tests compare the two). */
void decoder_use_fast(struct decoder *d, bool on);

/* The offset of in's ModRM memory operand (32-bit addressing) given the
 * guest registers EAX..EDI; *seg gets the segment it goes through. */
uint32_t insn_ea32(const struct insn *in, const uint32_t gpr[8], int *seg);
/* The same with 16-bit addressing when the instruction has it (ADDR16). */
uint32_t insn_ea(const struct insn *in, const uint32_t gpr[8], int *seg);

/* Names for logs and statistics. */
const char *insn_class_name(enum insn_class c);
const char *insn_kind_name(enum insn_kind k);
/* Capstone's text for the instruction ("add eax, dword ptr [ebx + 4]") into buf. */
void insn_format(struct decoder *d, const struct insn *in, char *buf, size_t len);
