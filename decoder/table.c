/* The classification table: one row per Capstone instruction id.
 *
 * A row gives the kind (how bt/ translates the instruction), the class (the
 * coarse category for statistics), the INSN_F_* flags that depend on the
 * instruction alone, and the EFLAGS bits it reads and writes. Ids that
 * cover several translations (MOV covers moffs, Sreg and CRn forms) carry
 * R_REFINE and are split by opcode in refine.c; what depends on the operands
 * (no ModRM, register vs memory, 64-bit-invalid opcodes, shift counts) is
 * settled there too.
 *
 * The table lists the i686 integer and system instructions, x87, MMX, SSE,
 * SSE2 and SSE3 (the CPU bt86 presents, DESIGN §6). An id with no row is
 * K_INVALID: it is an extension an i686 does not have (SSSE3 and later, AVX,
 * 3DNow!, VMX, RTM, ...), and such a CPU raises #UD for it.
 *
 * Flags (SDM vol. 1 §3.4.3, vol. 2 per instruction, and appendix A of
 * vol. 1, "EFLAGS Cross-Reference"):
 *   fw = written or left undefined; undefined is written for liveness.
 *   fr = read, or possibly passed through unchanged. The pass-through cases
 *        are what make live_in = fr | (live_out & ~fw) exact: a shift by CL
 *        with CL = 0 changes no flag, REP CMPS/SCAS with ECX = 0 compares
 *        nothing, POPF at CPL > 0 keeps IOPL (and IF unless CPL <= IOPL).
 *        Only 16 bits are kept: AC, VIF, VIP and ID are above them. */
#include "decoder/decoder_impl.h"

#define A      FL_ARITH
#define A_NOCF (FL_ARITH & ~FL_CF)                                 /* INC, DEC */
#define BT_W   (FL_CF | FL_OF | FL_SF | FL_AF | FL_PF)             /* BT*: ZF kept */
#define AHF    (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)             /* LAHF/SAHF */
#define ALL16  (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT) /* PUSHF/POPF */

/* Condition codes (SDM vol. 1 appendix B): the flags each one tests. */
#define CC_O   FL_OF
#define CC_B   FL_CF
#define CC_Z   FL_ZF
#define CC_BE  (FL_CF | FL_ZF)
#define CC_S   FL_SF
#define CC_P   FL_PF
#define CC_L   (FL_SF | FL_OF)
#define CC_LE  (FL_ZF | FL_SF | FL_OF)

#define ROW INSN_ROW

/* Integer instruction copied as is (K_COPY when it turns out to have no ModRM). */
#define INT(r, w)      ROW(K_COPY_MEM, CLS_MEMORY, 0, r, w)
#define LOCKABLE(r, w) ROW(K_COPY_MEM, CLS_MEMORY, R_LOCKABLE, r, w)
#define SHIFT(r, w)    ROW(K_COPY_MEM, CLS_MEMORY, R_COUNT, r, w)
#define HINT           ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_HINT_NOP, 0, 0)
#define X87(r, w)      ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_FPU, r, w)
#define X87_ENV        ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_FPU | INSN_F_FPU_ENV, 0, 0)
/* MMX, SSE, SSE2, SSE3: they use MMX/XMM/MXCSR state, so CR0.TS/EM and
 * CR4.OSFXSR apply. PREFETCHh, the fences, MOVNTI, CLFLUSH and PAUSE do not
 * touch that state (no #NM) and are plain INT rows. */
#define SIMD           ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_SSE, 0, 0)
#define SIMD_CMPF      ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_SSE, 0, A)  /* (U)COMISx: ZF PF CF, OF SF AF cleared */
#define STR(r, w, f)   ROW(K_STRING, CLS_STRING, f, r, w)
#define BRANCH(k, r)   ROW(k, CLS_BRANCH, INSN_F_ENDS_BLK, r, 0)
#define SENS(k, f, r, w) ROW(k, CLS_SENSITIVE, (f), r, w)
#define SYS(f, r, w)   ROW(K_SYS, CLS_SENSITIVE, INSN_F_ENDS_BLK | (f), r, w)
#define UD             ROW(K_UD, CLS_INVALID, INSN_F_ENDS_BLK, 0, 0)

static const struct insn_row rows[X86_INS_ENDING] = {
    /* ALU. LOCK is allowed with a memory destination (SDM LOCK). */
    [X86_INS_ADD] = LOCKABLE(0, A),
    [X86_INS_OR]  = LOCKABLE(0, A),
    [X86_INS_ADC] = LOCKABLE(FL_CF, A),
    [X86_INS_SBB] = LOCKABLE(FL_CF, A),
    [X86_INS_AND] = LOCKABLE(0, A),                 /* AF undefined */
    [X86_INS_SUB] = LOCKABLE(0, A),
    [X86_INS_XOR] = LOCKABLE(0, A),
    [X86_INS_CMP] = INT(0, A),
    [X86_INS_TEST] = INT(0, A),
    [X86_INS_INC] = ROW(K_COPY_MEM, CLS_MEMORY, R_LOCKABLE | R_REFINE, 0, A_NOCF),
    [X86_INS_DEC] = ROW(K_COPY_MEM, CLS_MEMORY, R_LOCKABLE | R_REFINE, 0, A_NOCF),
    [X86_INS_NEG] = LOCKABLE(0, A),
    [X86_INS_NOT] = LOCKABLE(0, 0),
    [X86_INS_MUL]  = INT(0, A),                     /* SF ZF AF PF undefined */
    [X86_INS_IMUL] = INT(0, A),
    [X86_INS_DIV]  = INT(0, A),                     /* all six undefined */
    [X86_INS_IDIV] = INT(0, A),

    /* Shifts and rotates: SDM SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD.
     * ROL/ROR write CF and OF only; RCL/RCR also read CF. */
    [X86_INS_SHL]  = SHIFT(0, A),
    [X86_INS_SAL]  = SHIFT(0, A),                   /* C0-D3 /6: SHL alias */
    [X86_INS_SHR]  = SHIFT(0, A),
    [X86_INS_SAR]  = SHIFT(0, A),
    [X86_INS_ROL]  = SHIFT(0, FL_CF | FL_OF),
    [X86_INS_ROR]  = SHIFT(0, FL_CF | FL_OF),
    [X86_INS_RCL]  = SHIFT(FL_CF, FL_CF | FL_OF),
    [X86_INS_RCR]  = SHIFT(FL_CF, FL_CF | FL_OF),
    [X86_INS_SHLD] = SHIFT(0, A),
    [X86_INS_SHRD] = SHIFT(0, A),

    /* Bit operations. */
    [X86_INS_BT]  = INT(0, BT_W),
    [X86_INS_BTS] = LOCKABLE(0, BT_W),
    [X86_INS_BTR] = LOCKABLE(0, BT_W),
    [X86_INS_BTC] = LOCKABLE(0, BT_W),
    [X86_INS_BSF] = INT(0, A),                      /* ZF defined, the rest undefined */
    [X86_INS_BSR] = INT(0, A),
    /* F3 0F BC/BD: Capstone says TZCNT/LZCNT; an i686 ignores the F3. */
    [X86_INS_TZCNT] = ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_F3_BSF, 0, A),
    [X86_INS_LZCNT] = ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_F3_BSF, 0, A),
    [X86_INS_BSWAP] = INT(0, 0),

    /* Exchanges. CMPXCHG8B writes ZF only. */
    [X86_INS_XCHG]      = LOCKABLE(0, 0),
    [X86_INS_XADD]      = LOCKABLE(0, A),
    [X86_INS_CMPXCHG]   = LOCKABLE(0, A),
    [X86_INS_CMPXCHG8B] = LOCKABLE(0, FL_ZF),

    /* Moves and conversions. */
    [X86_INS_MOV]   = ROW(K_COPY_MEM, CLS_MEMORY, R_REFINE, 0, 0),
    [X86_INS_MOVZX] = INT(0, 0),
    [X86_INS_MOVSX] = INT(0, 0),
    [X86_INS_CBW]   = INT(0, 0),
    [X86_INS_CWDE]  = INT(0, 0),
    [X86_INS_CWD]   = INT(0, 0),
    [X86_INS_CDQ]   = INT(0, 0),
    [X86_INS_LEA]   = ROW(K_LEA, CLS_IDENT, 0, 0, 0),
    [X86_INS_XLATB] = ROW(K_XLAT, CLS_MEMORY, 0, 0, 0),

    /* Flag instructions. */
    [X86_INS_LAHF] = INT(AHF, 0),
    [X86_INS_SAHF] = INT(0, AHF),
    [X86_INS_CLC]  = INT(0, FL_CF),
    [X86_INS_STC]  = INT(0, FL_CF),
    [X86_INS_CMC]  = INT(FL_CF, FL_CF),
    [X86_INS_CLD]  = INT(0, FL_DF),
    [X86_INS_STD]  = INT(0, FL_DF),

    /* NOPs and hints. */
    [X86_INS_NOP]         = ROW(K_COPY_MEM, CLS_MEMORY, R_REFINE, 0, 0),
    [X86_INS_PAUSE]       = INT(0, 0),
    [X86_INS_ENDBR32]     = HINT,
    [X86_INS_ENDBR64]     = HINT,
    [X86_INS_PREFETCHW]   = HINT,                   /* 0F 0D /1 */
    [X86_INS_PREFETCHNTA] = INT(0, 0),
    [X86_INS_PREFETCHT0]  = INT(0, 0),
    [X86_INS_PREFETCHT1]  = INT(0, 0),
    [X86_INS_PREFETCHT2]  = INT(0, 0),
    [X86_INS_LFENCE]      = INT(0, 0),
    [X86_INS_MFENCE]      = INT(0, 0),
    [X86_INS_SFENCE]      = INT(0, 0),
    [X86_INS_CLFLUSH]     = INT(0, 0),
    [X86_INS_MOVNTI]      = INT(0, 0),

    /* SETcc and CMOVcc: the condition's flags. */
    [X86_INS_SETO]  = INT(CC_O, 0),  [X86_INS_SETNO] = INT(CC_O, 0),
    [X86_INS_SETB]  = INT(CC_B, 0),  [X86_INS_SETAE] = INT(CC_B, 0),
    [X86_INS_SETE]  = INT(CC_Z, 0),  [X86_INS_SETNE] = INT(CC_Z, 0),
    [X86_INS_SETBE] = INT(CC_BE, 0), [X86_INS_SETA]  = INT(CC_BE, 0),
    [X86_INS_SETS]  = INT(CC_S, 0),  [X86_INS_SETNS] = INT(CC_S, 0),
    [X86_INS_SETP]  = INT(CC_P, 0),  [X86_INS_SETNP] = INT(CC_P, 0),
    [X86_INS_SETL]  = INT(CC_L, 0),  [X86_INS_SETGE] = INT(CC_L, 0),
    [X86_INS_SETLE] = INT(CC_LE, 0), [X86_INS_SETG]  = INT(CC_LE, 0),
    [X86_INS_CMOVO]  = INT(CC_O, 0),  [X86_INS_CMOVNO] = INT(CC_O, 0),
    [X86_INS_CMOVB]  = INT(CC_B, 0),  [X86_INS_CMOVAE] = INT(CC_B, 0),
    [X86_INS_CMOVE]  = INT(CC_Z, 0),  [X86_INS_CMOVNE] = INT(CC_Z, 0),
    [X86_INS_CMOVBE] = INT(CC_BE, 0), [X86_INS_CMOVA]  = INT(CC_BE, 0),
    [X86_INS_CMOVS]  = INT(CC_S, 0),  [X86_INS_CMOVNS] = INT(CC_S, 0),
    [X86_INS_CMOVP]  = INT(CC_P, 0),  [X86_INS_CMOVNP] = INT(CC_P, 0),
    [X86_INS_CMOVL]  = INT(CC_L, 0),  [X86_INS_CMOVGE] = INT(CC_L, 0),
    [X86_INS_CMOVLE] = INT(CC_LE, 0), [X86_INS_CMOVG]  = INT(CC_LE, 0),

    /* Stack. PUSH/POP of segment registers are split off in refine.c. */
    [X86_INS_PUSH]   = ROW(K_PUSH, CLS_STACK, R_REFINE, 0, 0),
    [X86_INS_POP]    = ROW(K_POP, CLS_STACK, R_REFINE, 0, 0),
    [X86_INS_PUSHAW] = ROW(K_PUSHA, CLS_NO64, 0, 0, 0),
    [X86_INS_PUSHAL] = ROW(K_PUSHA, CLS_NO64, 0, 0, 0),
    [X86_INS_POPAW]  = ROW(K_POPA, CLS_NO64, 0, 0, 0),
    [X86_INS_POPAL]  = ROW(K_POPA, CLS_NO64, 0, 0, 0),
    [X86_INS_ENTER]  = ROW(K_ENTER, CLS_STACK, 0, 0, 0),
    [X86_INS_LEAVE]  = ROW(K_LEAVE, CLS_STACK, 0, 0, 0),

    /* BCD (SDM DAA DAS AAA AAS AAM AAD). DAA/DAS read CF and AF, AAA/AAS
     * read AF; all six write the arithmetic flags, some left undefined. */
    [X86_INS_DAA] = ROW(K_BCD, CLS_NO64, 0, FL_CF | FL_AF, A),
    [X86_INS_DAS] = ROW(K_BCD, CLS_NO64, 0, FL_CF | FL_AF, A),
    [X86_INS_AAA] = ROW(K_BCD, CLS_NO64, 0, FL_AF, A),
    [X86_INS_AAS] = ROW(K_BCD, CLS_NO64, 0, FL_AF, A),
    [X86_INS_AAM] = ROW(K_BCD, CLS_NO64, 0, 0, A),
    [X86_INS_AAD] = ROW(K_BCD, CLS_NO64, 0, 0, A),
    [X86_INS_SALC] = ROW(K_SALC, CLS_NO64, 0, FL_CF, 0),

    /* Strings: DF always; CMPS/SCAS write the arithmetic flags. MOVSD and
     * CMPSD are also SSE2 ids; refine.c tells them apart by opcode. */
    [X86_INS_MOVSB] = STR(FL_DF, 0, 0),
    [X86_INS_MOVSW] = STR(FL_DF, 0, 0),
    [X86_INS_MOVSD] = STR(FL_DF, 0, R_REFINE),
    [X86_INS_STOSB] = STR(FL_DF, 0, 0),
    [X86_INS_STOSW] = STR(FL_DF, 0, 0),
    [X86_INS_STOSD] = STR(FL_DF, 0, 0),
    [X86_INS_LODSB] = STR(FL_DF, 0, 0),
    [X86_INS_LODSW] = STR(FL_DF, 0, 0),
    [X86_INS_LODSD] = STR(FL_DF, 0, 0),
    [X86_INS_CMPSB] = STR(FL_DF, A, R_REPCMP),
    [X86_INS_CMPSW] = STR(FL_DF, A, R_REPCMP),
    [X86_INS_CMPSD] = STR(FL_DF, A, R_REPCMP | R_REFINE),
    [X86_INS_SCASB] = STR(FL_DF, A, R_REPCMP),
    [X86_INS_SCASW] = STR(FL_DF, A, R_REPCMP),
    [X86_INS_SCASD] = STR(FL_DF, A, R_REPCMP),

    /* Near control transfers. */
    [X86_INS_JO]  = BRANCH(K_JCC, CC_O),  [X86_INS_JNO] = BRANCH(K_JCC, CC_O),
    [X86_INS_JB]  = BRANCH(K_JCC, CC_B),  [X86_INS_JAE] = BRANCH(K_JCC, CC_B),
    [X86_INS_JE]  = BRANCH(K_JCC, CC_Z),  [X86_INS_JNE] = BRANCH(K_JCC, CC_Z),
    [X86_INS_JBE] = BRANCH(K_JCC, CC_BE), [X86_INS_JA]  = BRANCH(K_JCC, CC_BE),
    [X86_INS_JS]  = BRANCH(K_JCC, CC_S),  [X86_INS_JNS] = BRANCH(K_JCC, CC_S),
    [X86_INS_JP]  = BRANCH(K_JCC, CC_P),  [X86_INS_JNP] = BRANCH(K_JCC, CC_P),
    [X86_INS_JL]  = BRANCH(K_JCC, CC_L),  [X86_INS_JGE] = BRANCH(K_JCC, CC_L),
    [X86_INS_JLE] = BRANCH(K_JCC, CC_LE), [X86_INS_JG]  = BRANCH(K_JCC, CC_LE),
    [X86_INS_JMP]    = ROW(K_JMP, CLS_BRANCH, INSN_F_ENDS_BLK | R_REFINE, 0, 0),
    [X86_INS_CALL]   = ROW(K_CALL, CLS_BRANCH, INSN_F_ENDS_BLK | R_REFINE, 0, 0),
    [X86_INS_RET]    = BRANCH(K_RET, 0),
    [X86_INS_LOOP]   = BRANCH(K_LOOP, 0),
    [X86_INS_LOOPE]  = BRANCH(K_LOOP, FL_ZF),
    [X86_INS_LOOPNE] = BRANCH(K_LOOP, FL_ZF),
    [X86_INS_JCXZ]   = BRANCH(K_JCXZ, 0),
    [X86_INS_JECXZ]  = BRANCH(K_JCXZ, 0),

    /* Far transfers (EA, 9A, FF /3, FF /5, CA, CB): CS changes. */
    [X86_INS_LJMP]  = SENS(K_FAR, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_LCALL] = SENS(K_FAR, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_RETF]  = SENS(K_FAR, INSN_F_ENDS_BLK, 0, 0),
    /* IRET loads EFLAGS; at CPL > 0 IOPL (and IF unless CPL <= IOPL) are
     * kept, and NT selects a task return (SDM IRET). */
    [X86_INS_IRET]  = SENS(K_IRET, INSN_F_ENDS_BLK, FL_NT | FL_IF | FL_IOPL, ALL16),
    [X86_INS_IRETD] = SENS(K_IRET, INSN_F_ENDS_BLK, FL_NT | FL_IF | FL_IOPL, ALL16),
    /* Software interrupts push EFLAGS and clear TF, NT (and IF through an
     * interrupt gate) (SDM INT n/INTO/INT3/INT1). */
    [X86_INS_INT]   = SENS(K_INT, INSN_F_ENDS_BLK, ALL16, FL_TF | FL_NT | FL_IF),
    [X86_INS_INT3]  = SENS(K_INT, INSN_F_ENDS_BLK, ALL16, FL_TF | FL_NT | FL_IF),
    [X86_INS_INTO]  = SENS(K_INT, INSN_F_ENDS_BLK, ALL16, FL_TF | FL_NT | FL_IF),
    [X86_INS_INT1]  = SENS(K_INT, INSN_F_ENDS_BLK, ALL16, FL_TF | FL_NT | FL_IF),

    /* Virtualised EFLAGS state. POPF at CPL > 0 keeps IOPL, and IF unless
     * CPL <= IOPL (SDM POPF); STI ends the block for its interrupt shadow. */
    [X86_INS_CLI]   = SENS(K_CLI, INSN_F_IOPL, 0, FL_IF),
    [X86_INS_STI]   = SENS(K_STI, INSN_F_IOPL | INSN_F_ENDS_BLK, 0, FL_IF),
    [X86_INS_PUSHF]  = SENS(K_PUSHF, 0, ALL16, 0),
    [X86_INS_PUSHFD] = SENS(K_PUSHF, 0, ALL16, 0),
    [X86_INS_POPF]   = SENS(K_POPF, INSN_F_ENDS_BLK, FL_IF | FL_IOPL, ALL16),
    [X86_INS_POPFD]  = SENS(K_POPF, INSN_F_ENDS_BLK, FL_IF | FL_IOPL, ALL16),
    [X86_INS_HLT]    = SENS(K_HLT, INSN_F_ENDS_BLK | INSN_F_PRIV, 0, 0),

    /* I/O: CPL <= IOPL or the TSS bitmap (SDM vol. 1 §19.5). */
    [X86_INS_IN]    = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, 0, 0),
    [X86_INS_OUT]   = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, 0, 0),
    [X86_INS_INSB]  = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),
    [X86_INS_INSW]  = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),
    [X86_INS_INSD]  = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),
    [X86_INS_OUTSB] = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),
    [X86_INS_OUTSW] = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),
    [X86_INS_OUTSD] = SENS(K_IO, INSN_F_ENDS_BLK | INSN_F_IOPL, FL_DF, 0),

    /* Far pointer loads. */
    [X86_INS_LDS] = SENS(K_SEG, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_LES] = SENS(K_SEG, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_LSS] = SENS(K_SEG, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_LFS] = SENS(K_SEG, INSN_F_ENDS_BLK, 0, 0),
    [X86_INS_LGS] = SENS(K_SEG, INSN_F_ENDS_BLK, 0, 0),

    /* System instructions. PRIV only where CPL 0 is required outright;
     * RDTSC, RDPMC, SMSW, SGDT.. depend on CR4/UMIP bits the monitor checks. */
    [X86_INS_LGDT]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_LIDT]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_LLDT]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_LTR]    = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_LMSW]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_CLTS]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_INVD]   = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_WBINVD] = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_INVLPG] = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_RDMSR]  = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_WRMSR]  = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_SYSEXIT] = SYS(INSN_F_PRIV, 0, 0),
    [X86_INS_SYSENTER] = SYS(0, 0, FL_IF),          /* clears VM, IF, RF */
    [X86_INS_SGDT]   = SYS(0, 0, 0),
    [X86_INS_SIDT]   = SYS(0, 0, 0),
    [X86_INS_SLDT]   = SYS(0, 0, 0),
    [X86_INS_STR]    = SYS(0, 0, 0),
    [X86_INS_SMSW]   = SYS(0, 0, 0),
    [X86_INS_LAR]    = SYS(0, 0, FL_ZF),
    [X86_INS_LSL]    = SYS(0, 0, FL_ZF),
    [X86_INS_VERR]   = SYS(0, 0, FL_ZF),
    [X86_INS_VERW]   = SYS(0, 0, FL_ZF),
    [X86_INS_ARPL]   = SYS(0, 0, FL_ZF),
    [X86_INS_BOUND]  = SYS(0, 0, 0),
    [X86_INS_CPUID]  = SYS(0, 0, 0),
    [X86_INS_RDTSC]  = SYS(0, 0, 0),
    [X86_INS_RDPMC]  = SYS(0, 0, 0),
    [X86_INS_MONITOR] = SYS(0, 0, 0),
    [X86_INS_MWAIT]  = SYS(0, 0, 0),

    /* Architectural #UD. bt86 has no SMM, and RSM outside SMM is #UD. */
    [X86_INS_UD2]  = UD,
    [X86_INS_UD2B] = UD,                            /* 0F B9: UD1 */
    [X86_INS_UD0]  = UD,
    [X86_INS_RSM]  = UD,

    /* x87. FCOMI and friends set ZF PF CF and clear OF SF AF; FCMOVcc
     * read their condition. */
    [X86_INS_F2XM1] = X87(0, 0),   [X86_INS_FABS] = X87(0, 0),
    [X86_INS_FADD] = X87(0, 0),    [X86_INS_FADDP] = X87(0, 0),   [X86_INS_FIADD] = X87(0, 0),
    [X86_INS_FBLD] = X87(0, 0),    [X86_INS_FBSTP] = X87(0, 0),   [X86_INS_FCHS] = X87(0, 0),
    [X86_INS_FCMOVB] = X87(CC_B, 0),   [X86_INS_FCMOVNB] = X87(CC_B, 0),
    [X86_INS_FCMOVE] = X87(CC_Z, 0),   [X86_INS_FCMOVNE] = X87(CC_Z, 0),
    [X86_INS_FCMOVBE] = X87(CC_BE, 0), [X86_INS_FCMOVNBE] = X87(CC_BE, 0),
    [X86_INS_FCMOVU] = X87(CC_P, 0),   [X86_INS_FCMOVNU] = X87(CC_P, 0),
    [X86_INS_FCOM] = X87(0, 0),    [X86_INS_FCOMP] = X87(0, 0),   [X86_INS_FCOMPP] = X87(0, 0),
    [X86_INS_FCOMI] = X87(0, A),   [X86_INS_FCOMIP] = X87(0, A),
    [X86_INS_FUCOMI] = X87(0, A),  [X86_INS_FUCOMIP] = X87(0, A),
    [X86_INS_FUCOM] = X87(0, 0),   [X86_INS_FUCOMP] = X87(0, 0),  [X86_INS_FUCOMPP] = X87(0, 0),
    [X86_INS_FCOS] = X87(0, 0),    [X86_INS_FDECSTP] = X87(0, 0),
    [X86_INS_FDIV] = X87(0, 0),    [X86_INS_FDIVP] = X87(0, 0),   [X86_INS_FIDIV] = X87(0, 0),
    [X86_INS_FDIVR] = X87(0, 0),   [X86_INS_FDIVRP] = X87(0, 0),  [X86_INS_FIDIVR] = X87(0, 0),
    [X86_INS_FFREE] = X87(0, 0),   [X86_INS_FFREEP] = X87(0, 0),
    [X86_INS_FICOM] = X87(0, 0),   [X86_INS_FICOMP] = X87(0, 0),
    [X86_INS_FILD] = X87(0, 0),    [X86_INS_FINCSTP] = X87(0, 0),
    [X86_INS_FIST] = X87(0, 0),    [X86_INS_FISTP] = X87(0, 0),   [X86_INS_FISTTP] = X87(0, 0),
    [X86_INS_FLD] = X87(0, 0),     [X86_INS_FLD1] = X87(0, 0),    [X86_INS_FLDZ] = X87(0, 0),
    [X86_INS_FLDL2E] = X87(0, 0),  [X86_INS_FLDL2T] = X87(0, 0),  [X86_INS_FLDLG2] = X87(0, 0),
    [X86_INS_FLDLN2] = X87(0, 0),  [X86_INS_FLDPI] = X87(0, 0),
    [X86_INS_FLDCW] = X87(0, 0),   [X86_INS_FLDENV] = X87(0, 0),  [X86_INS_FRSTOR] = X87(0, 0),
    [X86_INS_FMUL] = X87(0, 0),    [X86_INS_FMULP] = X87(0, 0),   [X86_INS_FIMUL] = X87(0, 0),
    [X86_INS_FNCLEX] = X87(0, 0),  [X86_INS_FNINIT] = X87(0, 0),  [X86_INS_FNOP] = X87(0, 0),
    [X86_INS_FNSTCW] = X87(0, 0),  [X86_INS_FNSTSW] = X87(0, 0),
    [X86_INS_FNSTENV] = X87_ENV,   [X86_INS_FNSAVE] = X87_ENV,
    [X86_INS_FPATAN] = X87(0, 0),  [X86_INS_FPREM] = X87(0, 0),   [X86_INS_FPREM1] = X87(0, 0),
    [X86_INS_FPTAN] = X87(0, 0),   [X86_INS_FRNDINT] = X87(0, 0), [X86_INS_FSCALE] = X87(0, 0),
    [X86_INS_FSIN] = X87(0, 0),    [X86_INS_FSINCOS] = X87(0, 0), [X86_INS_FSQRT] = X87(0, 0),
    [X86_INS_FST] = X87(0, 0),     [X86_INS_FSTP] = X87(0, 0),    [X86_INS_FSTPNCE] = X87(0, 0),
    [X86_INS_FSUB] = X87(0, 0),    [X86_INS_FSUBP] = X87(0, 0),   [X86_INS_FISUB] = X87(0, 0),
    [X86_INS_FSUBR] = X87(0, 0),   [X86_INS_FSUBRP] = X87(0, 0),  [X86_INS_FISUBR] = X87(0, 0),
    [X86_INS_FTST] = X87(0, 0),    [X86_INS_FXAM] = X87(0, 0),    [X86_INS_FXCH] = X87(0, 0),
    [X86_INS_FXTRACT] = X87(0, 0), [X86_INS_FYL2X] = X87(0, 0),   [X86_INS_FYL2XP1] = X87(0, 0),
    /* FENI/FDISI/FSETPM: 8087/287 controls, NOPs since the 387. */
    [X86_INS_FENI8087_NOP] = X87(0, 0), [X86_INS_FDISI8087_NOP] = X87(0, 0),
    [X86_INS_FSETPM] = X87(0, 0),
    [X86_INS_WAIT] = X87(0, 0),
    [X86_INS_FXSAVE]  = ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_FPU | INSN_F_SSE | INSN_F_FPU_ENV, 0, 0),
    [X86_INS_FXRSTOR] = ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_FPU | INSN_F_SSE, 0, 0),

    /* MMX (and their SSE2 66-prefixed XMM forms, which share the ids). */
    [X86_INS_EMMS] = SIMD,
    [X86_INS_MOVD] = SIMD, [X86_INS_MOVQ] = SIMD, [X86_INS_MOVNTQ] = SIMD,
    [X86_INS_PACKSSDW] = SIMD, [X86_INS_PACKSSWB] = SIMD, [X86_INS_PACKUSWB] = SIMD,
    [X86_INS_PADDB] = SIMD, [X86_INS_PADDW] = SIMD, [X86_INS_PADDD] = SIMD, [X86_INS_PADDQ] = SIMD,
    [X86_INS_PADDSB] = SIMD, [X86_INS_PADDSW] = SIMD, [X86_INS_PADDUSB] = SIMD, [X86_INS_PADDUSW] = SIMD,
    [X86_INS_PAND] = SIMD, [X86_INS_PANDN] = SIMD, [X86_INS_POR] = SIMD, [X86_INS_PXOR] = SIMD,
    [X86_INS_PAVGB] = SIMD, [X86_INS_PAVGW] = SIMD,
    [X86_INS_PCMPEQB] = SIMD, [X86_INS_PCMPEQW] = SIMD, [X86_INS_PCMPEQD] = SIMD,
    [X86_INS_PCMPGTB] = SIMD, [X86_INS_PCMPGTW] = SIMD, [X86_INS_PCMPGTD] = SIMD,
    [X86_INS_PEXTRW] = SIMD, [X86_INS_PINSRW] = SIMD, [X86_INS_PMADDWD] = SIMD,
    [X86_INS_PMAXSW] = SIMD, [X86_INS_PMAXUB] = SIMD, [X86_INS_PMINSW] = SIMD, [X86_INS_PMINUB] = SIMD,
    [X86_INS_PMOVMSKB] = SIMD, [X86_INS_PMULHUW] = SIMD, [X86_INS_PMULHW] = SIMD,
    [X86_INS_PMULLW] = SIMD, [X86_INS_PMULUDQ] = SIMD, [X86_INS_PSADBW] = SIMD, [X86_INS_PSHUFW] = SIMD,
    [X86_INS_PSLLW] = SIMD, [X86_INS_PSLLD] = SIMD, [X86_INS_PSLLQ] = SIMD,
    [X86_INS_PSRAW] = SIMD, [X86_INS_PSRAD] = SIMD,
    [X86_INS_PSRLW] = SIMD, [X86_INS_PSRLD] = SIMD, [X86_INS_PSRLQ] = SIMD,
    [X86_INS_PSUBB] = SIMD, [X86_INS_PSUBW] = SIMD, [X86_INS_PSUBD] = SIMD, [X86_INS_PSUBQ] = SIMD,
    [X86_INS_PSUBSB] = SIMD, [X86_INS_PSUBSW] = SIMD, [X86_INS_PSUBUSB] = SIMD, [X86_INS_PSUBUSW] = SIMD,
    [X86_INS_PUNPCKHBW] = SIMD, [X86_INS_PUNPCKHWD] = SIMD, [X86_INS_PUNPCKHDQ] = SIMD,
    [X86_INS_PUNPCKLBW] = SIMD, [X86_INS_PUNPCKLWD] = SIMD, [X86_INS_PUNPCKLDQ] = SIMD,
    [X86_INS_MASKMOVQ] = ROW(K_MASKMOV, CLS_MEMORY, INSN_F_SSE, 0, 0),

    /* SSE. Capstone gives CMPPS/CMPSS one id per predicate. */
    [X86_INS_ADDPS] = SIMD, [X86_INS_ADDSS] = SIMD, [X86_INS_ANDNPS] = SIMD, [X86_INS_ANDPS] = SIMD,
    [X86_INS_COMISS] = SIMD_CMPF, [X86_INS_UCOMISS] = SIMD_CMPF,
    [X86_INS_CVTPI2PS] = SIMD, [X86_INS_CVTPS2PI] = SIMD, [X86_INS_CVTSI2SS] = SIMD,
    [X86_INS_CVTSS2SI] = SIMD, [X86_INS_CVTTPS2PI] = SIMD, [X86_INS_CVTTSS2SI] = SIMD,
    [X86_INS_DIVPS] = SIMD, [X86_INS_DIVSS] = SIMD, [X86_INS_LDMXCSR] = SIMD, [X86_INS_STMXCSR] = SIMD,
    [X86_INS_MAXPS] = SIMD, [X86_INS_MAXSS] = SIMD, [X86_INS_MINPS] = SIMD, [X86_INS_MINSS] = SIMD,
    [X86_INS_MOVAPS] = SIMD, [X86_INS_MOVUPS] = SIMD, [X86_INS_MOVSS] = SIMD,
    [X86_INS_MOVHLPS] = SIMD, [X86_INS_MOVLHPS] = SIMD, [X86_INS_MOVHPS] = SIMD, [X86_INS_MOVLPS] = SIMD,
    [X86_INS_MOVMSKPS] = SIMD, [X86_INS_MOVNTPS] = SIMD,
    [X86_INS_MULPS] = SIMD, [X86_INS_MULSS] = SIMD, [X86_INS_ORPS] = SIMD, [X86_INS_XORPS] = SIMD,
    [X86_INS_RCPPS] = SIMD, [X86_INS_RCPSS] = SIMD, [X86_INS_RSQRTPS] = SIMD, [X86_INS_RSQRTSS] = SIMD,
    [X86_INS_SHUFPS] = SIMD, [X86_INS_SQRTPS] = SIMD, [X86_INS_SQRTSS] = SIMD,
    [X86_INS_SUBPS] = SIMD, [X86_INS_SUBSS] = SIMD, [X86_INS_UNPCKHPS] = SIMD, [X86_INS_UNPCKLPS] = SIMD,
    [X86_INS_CMPPS] = SIMD, [X86_INS_CMPEQPS] = SIMD, [X86_INS_CMPLTPS] = SIMD, [X86_INS_CMPLEPS] = SIMD,
    [X86_INS_CMPUNORDPS] = SIMD, [X86_INS_CMPNEQPS] = SIMD, [X86_INS_CMPNLTPS] = SIMD,
    [X86_INS_CMPNLEPS] = SIMD, [X86_INS_CMPORDPS] = SIMD,
    [X86_INS_CMPSS] = SIMD, [X86_INS_CMPEQSS] = SIMD, [X86_INS_CMPLTSS] = SIMD, [X86_INS_CMPLESS] = SIMD,
    [X86_INS_CMPUNORDSS] = SIMD, [X86_INS_CMPNEQSS] = SIMD, [X86_INS_CMPNLTSS] = SIMD,
    [X86_INS_CMPNLESS] = SIMD, [X86_INS_CMPORDSS] = SIMD,

    /* SSE2 (CMPSD xmm and MOVSD xmm come through refine.c). */
    [X86_INS_ADDPD] = SIMD, [X86_INS_ADDSD] = SIMD, [X86_INS_ANDNPD] = SIMD, [X86_INS_ANDPD] = SIMD,
    [X86_INS_COMISD] = SIMD_CMPF, [X86_INS_UCOMISD] = SIMD_CMPF,
    [X86_INS_CVTDQ2PD] = SIMD, [X86_INS_CVTDQ2PS] = SIMD, [X86_INS_CVTPD2DQ] = SIMD,
    [X86_INS_CVTPD2PS] = SIMD, [X86_INS_CVTPS2DQ] = SIMD, [X86_INS_CVTPS2PD] = SIMD,
    [X86_INS_CVTSD2SI] = SIMD, [X86_INS_CVTSD2SS] = SIMD, [X86_INS_CVTSI2SD] = SIMD,
    [X86_INS_CVTSS2SD] = SIMD, [X86_INS_CVTTPD2DQ] = SIMD, [X86_INS_CVTTPS2DQ] = SIMD,
    [X86_INS_CVTTSD2SI] = SIMD, [X86_INS_CVTPD2PI] = SIMD, [X86_INS_CVTPI2PD] = SIMD,
    [X86_INS_CVTTPD2PI] = SIMD,
    [X86_INS_DIVPD] = SIMD, [X86_INS_DIVSD] = SIMD, [X86_INS_MAXPD] = SIMD, [X86_INS_MAXSD] = SIMD,
    [X86_INS_MINPD] = SIMD, [X86_INS_MINSD] = SIMD,
    [X86_INS_MOVAPD] = SIMD, [X86_INS_MOVUPD] = SIMD, [X86_INS_MOVHPD] = SIMD, [X86_INS_MOVLPD] = SIMD,
    [X86_INS_MOVMSKPD] = SIMD, [X86_INS_MOVNTPD] = SIMD, [X86_INS_MOVNTDQ] = SIMD,
    [X86_INS_MOVDQA] = SIMD, [X86_INS_MOVDQU] = SIMD, [X86_INS_MOVDQ2Q] = SIMD, [X86_INS_MOVQ2DQ] = SIMD,
    [X86_INS_MULPD] = SIMD, [X86_INS_MULSD] = SIMD, [X86_INS_ORPD] = SIMD, [X86_INS_XORPD] = SIMD,
    [X86_INS_PSHUFD] = SIMD, [X86_INS_PSHUFHW] = SIMD, [X86_INS_PSHUFLW] = SIMD,
    [X86_INS_PSLLDQ] = SIMD, [X86_INS_PSRLDQ] = SIMD,
    [X86_INS_PUNPCKHQDQ] = SIMD, [X86_INS_PUNPCKLQDQ] = SIMD,
    [X86_INS_SHUFPD] = SIMD, [X86_INS_SQRTPD] = SIMD, [X86_INS_SQRTSD] = SIMD,
    [X86_INS_SUBPD] = SIMD, [X86_INS_SUBSD] = SIMD, [X86_INS_UNPCKHPD] = SIMD, [X86_INS_UNPCKLPD] = SIMD,
    [X86_INS_CMPPD] = SIMD, [X86_INS_CMPEQPD] = SIMD, [X86_INS_CMPLTPD] = SIMD, [X86_INS_CMPLEPD] = SIMD,
    [X86_INS_CMPUNORDPD] = SIMD, [X86_INS_CMPNEQPD] = SIMD, [X86_INS_CMPNLTPD] = SIMD,
    [X86_INS_CMPNLEPD] = SIMD, [X86_INS_CMPORDPD] = SIMD,
    [X86_INS_CMPEQSD] = SIMD, [X86_INS_CMPLTSD] = SIMD, [X86_INS_CMPLESD] = SIMD,
    [X86_INS_CMPUNORDSD] = SIMD, [X86_INS_CMPNEQSD] = SIMD, [X86_INS_CMPNLTSD] = SIMD,
    [X86_INS_CMPNLESD] = SIMD, [X86_INS_CMPORDSD] = SIMD,
    [X86_INS_MASKMOVDQU] = ROW(K_MASKMOV, CLS_MEMORY, INSN_F_SSE, 0, 0),

    /* SSE3 (MONITOR and MWAIT are system rows above). */
    [X86_INS_ADDSUBPD] = SIMD, [X86_INS_ADDSUBPS] = SIMD,
    [X86_INS_HADDPD] = SIMD, [X86_INS_HADDPS] = SIMD, [X86_INS_HSUBPD] = SIMD, [X86_INS_HSUBPS] = SIMD,
    [X86_INS_LDDQU] = SIMD, [X86_INS_MOVDDUP] = SIMD, [X86_INS_MOVSHDUP] = SIMD, [X86_INS_MOVSLDUP] = SIMD,
};

const struct insn_row *table_row(unsigned id)
{
    static const struct insn_row invalid = ROW(K_INVALID, CLS_INVALID, INSN_F_ENDS_BLK, 0, 0);
    if (id >= X86_INS_ENDING || rows[id].kind == K_INVALID)
        return &invalid;
    return &rows[id];
}
