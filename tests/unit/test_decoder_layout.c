/* Layout and classification of one encoding per row: every kind, every
 * class, every addressing form, the prefix fields, immediates, displacements
 * and branch targets. Expected values follow the SDM (vol. 2 ch. 2 and the
 * instruction pages); the decode is at EIP 0x1000.
 *
 * Columns: bytes, len, npfx, opc_len, opcode, modrm_off, sib_off,
 * disp_off, disp_size, imm_off, imm_size, opsize, addrsize, seg, rep, kind,
 * class, imm, imm2, disp, target, flags (exact). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "decoder/decoder.h"

#define NONE SEG_NONE
#define ES SEG_ES
#define CS SEG_CS
#define SS SEG_SS
#define DS SEG_DS
#define FS SEG_FS
#define GS SEG_GS
#define MEM  INSN_F_MEM
#define END  INSN_F_ENDS_BLK
#define PRIV INSN_F_PRIV
#define IOPL INSN_F_IOPL
#define D32  INSN_F_DISP32_ONLY
#define A16  INSN_F_ADDR16
#define LOCK INSN_F_LOCK
#define FPU  INSN_F_FPU
#define SSE  INSN_F_SSE
#define ENV  INSN_F_FPU_ENV
#define WSP  INSN_F_WRITES_SP
#define OP82 INSN_F_OP82
#define HINT INSN_F_HINT_NOP
#define BSF  INSN_F_F3_BSF

struct row {
    const char *hex;
    uint8_t len, npfx, opc_len, opcode;
    int8_t modrm_off, sib_off, disp_off;
    uint8_t disp_size;
    int8_t imm_off;
    uint8_t imm_size, opsize, addrsize;
    int8_t seg;
    uint8_t rep, kind, cls;
    int64_t imm;
    uint16_t imm2;
    int32_t disp;
    uint32_t target, flags;
};

static const struct row rows[] = {
    /* K_COPY_MEM */
    { "01 d8", 2, 0, 1, 0x01, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* add eax, ebx */
    { "03 44 b3 08", 4, 0, 1, 0x03, 1, 2, 3, 1, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 8, 0x0, MEM }, /* add eax, dword ptr [ebx + esi*4 + 8] */
    { "8b 05 78 56 34 12", 6, 0, 1, 0x8b, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x12345678, 0x0, MEM|D32 }, /* mov eax, dword ptr [0x12345678] */
    { "8b 04 25 78 56 34 12", 7, 0, 1, 0x8b, 1, 2, 3, 4, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x12345678, 0x0, MEM }, /* mov eax, dword ptr [0x12345678] */
    { "8b 04 24", 3, 0, 1, 0x8b, 1, 2, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* mov eax, dword ptr [esp] */
    { "8b 45 fc", 3, 0, 1, 0x8b, 1, -1, 2, 1, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, -4, 0x0, MEM }, /* mov eax, dword ptr [ebp - 4] */
    { "89 84 24 00 01 00 00", 7, 0, 1, 0x89, 1, 2, 3, 4, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x100, 0x0, MEM }, /* mov dword ptr [esp + 0x100], eax */
    { "67 8b 47 10", 4, 1, 1, 0x8b, 2, -1, 3, 1, -1, 0, 4, 2, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 16, 0x0, MEM|A16 }, /* mov eax, dword ptr [bx + 0x10] */
    { "67 8b 06 34 12", 5, 1, 1, 0x8b, 2, -1, 3, 2, -1, 0, 4, 2, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x1234, 0x0, MEM|A16 }, /* mov eax, dword ptr [0x1234] */
    { "64 8b 00", 3, 1, 1, 0x8b, 2, -1, -1, 0, -1, 0, 4, 4, FS, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* mov eax, dword ptr fs:[eax] */
    { "26 64 8b 00", 4, 2, 1, 0x8b, 3, -1, -1, 0, -1, 0, 4, 4, FS, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* mov eax, dword ptr fs:[eax] */
    { "83 c4 10", 3, 0, 1, 0x83, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 16, 0, 0, 0x0, WSP }, /* add esp, 0x10 */
    { "80 30 ff", 3, 0, 1, 0x80, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, -1, 0, 0, 0x0, MEM }, /* xor byte ptr [eax], 0xff */
    { "82 c0 01", 3, 0, 1, 0x82, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_NO64, 1, 0, 0, 0x0, OP82 }, /* add al, 1 */
    { "81 e4 00 ff ff ff", 6, 0, 1, 0x81, 1, -1, -1, 0, 2, 4, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, -256, 0, 0, 0x0, WSP }, /* and esp, 0xffffff00 */
    { "6b c0 fb", 3, 0, 1, 0x6b, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, -5, 0, 0, 0x0, 0 }, /* imul eax, eax, -5 */
    { "69 c0 00 01 00 00", 6, 0, 1, 0x69, 1, -1, -1, 0, 2, 4, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0x100, 0, 0, 0x0, 0 }, /* imul eax, eax, 0x100 */
    { "f6 00 ff", 3, 0, 1, 0xf6, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, -1, 0, 0, 0x0, MEM }, /* test byte ptr [eax], 0xff */
    { "f7 00 00 00 01 00", 6, 0, 1, 0xf7, 1, -1, -1, 0, 2, 4, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0x10000, 0, 0, 0x0, MEM }, /* test dword ptr [eax], 0x10000 */
    { "c1 e0 00", 3, 0, 1, 0xc1, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* shl eax, 0 */
    { "c1 e0 20", 3, 0, 1, 0xc1, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 32, 0, 0, 0x0, 0 }, /* shl eax, 0x20 */
    { "c1 e0 03", 3, 0, 1, 0xc1, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 3, 0, 0, 0x0, 0 }, /* shl eax, 3 */
    { "d3 e0", 2, 0, 1, 0xd3, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* shl eax, cl */
    { "d1 e0", 2, 0, 1, 0xd1, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* shl eax, 1 */
    { "c0 d0 01", 3, 0, 1, 0xc0, 1, -1, -1, 0, 2, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 1, 0, 0, 0x0, 0 }, /* rcl al, 1 */
    { "0f a4 c2 05", 4, 0, 2, 0xa4, 2, -1, -1, 0, 3, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 5, 0, 0, 0x0, 0 }, /* shld edx, eax, 5 */
    { "0f a5 c2", 3, 0, 2, 0xa5, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* shld edx, eax, cl */
    { "fe c0", 2, 0, 1, 0xfe, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* inc al */
    { "ff 00", 2, 0, 1, 0xff, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* inc dword ptr [eax] */
    { "0f af c1", 3, 0, 2, 0xaf, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* imul eax, ecx */
    { "0f b6 c1", 3, 0, 2, 0xb6, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* movzx eax, cl */
    { "0f be 00", 3, 0, 2, 0xbe, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* movsx eax, byte ptr [eax] */
    { "0f 44 c1", 3, 0, 2, 0x44, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* cmove eax, ecx */
    { "0f 94 c0", 3, 0, 2, 0x94, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* sete al */
    { "0f a3 c8", 3, 0, 2, 0xa3, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* bt eax, ecx */
    { "0f ba e0 04", 4, 0, 2, 0xba, 2, -1, -1, 0, 3, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 4, 0, 0, 0x0, 0 }, /* bt eax, 4 */
    { "0f bc c1", 3, 0, 2, 0xbc, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* bsf eax, ecx */
    { "f3 0f bc c1", 4, 1, 2, 0xbc, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, BSF }, /* tzcnt eax, ecx */
    { "0f c1 c8", 3, 0, 2, 0xc1, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* xadd eax, ecx */
    { "0f b1 0a", 3, 0, 2, 0xb1, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* cmpxchg dword ptr [edx], ecx */
    { "0f c7 0e", 3, 0, 2, 0xc7, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* cmpxchg8b qword ptr [esi] */
    { "86 00", 2, 0, 1, 0x86, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* xchg byte ptr [eax], al */
    { "87 c4", 2, 0, 1, 0x87, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, WSP }, /* xchg esp, eax */
    { "d9 e8", 2, 0, 1, 0xd9, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, FPU }, /* fld1 */
    { "dd 05 00 10 00 00", 6, 0, 1, 0xdd, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x1000, 0x0, MEM|D32|FPU }, /* fld qword ptr [0x1000] */
    { "d9 30", 2, 0, 1, 0xd9, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|FPU|ENV }, /* fnstenv [eax] */
    { "dd 30", 2, 0, 1, 0xdd, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|FPU|ENV }, /* fnsave dword ptr [eax] */
    { "db f1", 2, 0, 1, 0xdb, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, FPU }, /* fcomi st(1) */
    { "da c1", 2, 0, 1, 0xda, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, FPU }, /* fcmovb st(0), st(1) */
    { "0f ae 00", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|FPU|SSE|ENV }, /* fxsave [eax] */
    { "0f ae 08", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|FPU|SSE }, /* fxrstor [eax] */
    { "0f ae 10", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* ldmxcsr dword ptr [eax] */
    { "0f ae e8", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* lfence */
    { "0f ae ef", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* lfence */
    { "0f ae 38", 3, 0, 2, 0xae, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* clflush byte ptr [eax] */
    { "0f 18 00", 3, 0, 2, 0x18, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* prefetchnta byte ptr [eax] */
    { "0f 6f c1", 3, 0, 2, 0x6f, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* movq mm0, mm1 */
    { "66 0f 6f 00", 4, 1, 2, 0x6f, 3, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* movdqa xmm0, xmmword ptr [eax] */
    { "f3 0f 6f 00", 4, 1, 2, 0x6f, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* movdqu xmm0, xmmword ptr [eax] */
    { "f3 0f 10 05 00 10 00 00", 8, 1, 2, 0x10, 3, -1, 4, 4, -1, 0, 4, 4, NONE, 0xf3, K_COPY_MEM, CLS_MEMORY, 0, 0, 0x1000, 0x0, MEM|D32|SSE }, /* movss xmm0, dword ptr [0x1000] */
    { "f2 0f 10 00", 4, 1, 2, 0x10, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf2, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* movsd xmm0, qword ptr [eax] */
    { "f2 0f c2 c1 01", 5, 1, 2, 0xc2, 3, -1, -1, 0, 4, 1, 4, 4, NONE, 0xf2, K_COPY_MEM, CLS_IDENT, 1, 0, 0, 0x0, SSE }, /* cmpltsd xmm0, xmm1 */
    { "f2 0f c2 c1 08", 5, 1, 2, 0xc2, 3, -1, -1, 0, 4, 1, 4, 4, NONE, 0xf2, K_COPY_MEM, CLS_IDENT, 8, 0, 0, 0x0, SSE }, /* cmpsd xmm0, xmm1, 8 */
    { "66 0f 2f c1", 4, 1, 2, 0x2f, 3, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* comisd xmm0, xmm1 */
    { "0f c3 00", 3, 0, 2, 0xc3, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* movnti dword ptr [eax], eax */
    { "66 0f 58 c1", 4, 1, 2, 0x58, 3, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* addpd xmm0, xmm1 */
    { "0f 7e e4", 3, 0, 2, 0x7e, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE|WSP }, /* movd esp, mm4 */
    { "0f 70 c1 1b", 4, 0, 2, 0x70, 2, -1, -1, 0, 3, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 27, 0, 0, 0x0, SSE }, /* pshufw mm0, mm1, 0x1b */
    { "f2 0f f0 00", 4, 1, 2, 0xf0, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf2, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* lddqu xmm0, xmmword ptr [eax] */
    { "f3 0f 16 c1", 4, 1, 2, 0x16, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* movshdup xmm0, xmm1 */
    { "0f 1f 00", 3, 0, 2, 0x1f, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|HINT }, /* nop dword ptr [eax] */
    { "0f 1f c0", 3, 0, 2, 0x1f, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, HINT }, /* nop */
    { "66 0f 1f 44 00 00", 6, 1, 2, 0x1f, 3, 4, 5, 1, -1, 0, 2, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|HINT }, /* nop word ptr [eax + eax] */
    { "0f 1f 84 00 00 00 00 00", 8, 0, 2, 0x1f, 2, 3, 4, 4, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|HINT }, /* nop dword ptr [eax + eax] */
    { "f3 0f 1e fb", 4, 1, 2, 0x1e, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, HINT }, /* endbr32 */
    { "0f 0d 08", 3, 0, 2, 0x0d, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|HINT }, /* prefetchw byte ptr [eax] */
    { "0f 0d c8", 3, 0, 2, 0x0d, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, HINT }, /* nop */
    { "0f 18 e0", 3, 0, 2, 0x18, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, HINT }, /* nop eax */
    { "0f 1a c0", 3, 0, 2, 0x1a, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, HINT }, /* nop */
    { "2e 0f 1f 00", 4, 1, 2, 0x1f, 3, -1, -1, 0, -1, 0, 4, 4, CS, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|HINT }, /* nop dword ptr cs:[eax] */
    { "f0 01 00", 3, 1, 1, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock add dword ptr [eax], eax */
    { "f0 83 00 01", 4, 1, 1, 0x83, 2, -1, -1, 0, 3, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 1, 0, 0, 0x0, MEM|LOCK }, /* lock add dword ptr [eax], 1 */
    { "f0 0f b1 0a", 4, 1, 2, 0xb1, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock cmpxchg dword ptr [edx], ecx */
    { "f0 0f c7 0e", 4, 1, 2, 0xc7, 3, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock cmpxchg8b qword ptr [esi] */
    { "f0 87 00", 3, 1, 1, 0x87, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock xchg dword ptr [eax], eax */
    { "f0 0f ba 28 01", 5, 1, 2, 0xba, 3, -1, -1, 0, 4, 1, 4, 4, NONE, 0x00, K_COPY_MEM, CLS_MEMORY, 1, 0, 0, 0x0, MEM|LOCK }, /* lock bts dword ptr [eax], 1 */
    { "f3 f0 66 01 00", 5, 3, 1, 0x01, 4, -1, -1, 0, -1, 0, 2, 4, NONE, 0xf3, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock add word ptr [eax], ax */
    { "f0 f3 66 01 00", 5, 3, 1, 0x01, 4, -1, -1, 0, -1, 0, 2, 4, NONE, 0xf3, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|LOCK }, /* lock add word ptr [eax], ax */
    { "66 2e 0f 10 c1", 5, 2, 2, 0x10, 4, -1, -1, 0, -1, 0, 2, 4, CS, 0x00, K_COPY_MEM, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* movupd xmm0, xmm1 */
    { "f3 2e 0f 10 00", 5, 2, 2, 0x10, 4, -1, -1, 0, -1, 0, 4, 4, CS, 0xf3, K_COPY_MEM, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* movss xmm0, dword ptr cs:[eax] */
    /* K_COPY */
    { "05 78 56 34 12", 5, 0, 1, 0x05, -1, -1, -1, 0, 1, 4, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0x12345678, 0, 0, 0x0, 0 }, /* add eax, 0x12345678 */
    { "66 05 34 12", 4, 1, 1, 0x05, -1, -1, -1, 0, 2, 2, 2, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0x1234, 0, 0, 0x0, 0 }, /* add ax, 0x1234 */
    { "b8 78 56 34 12", 5, 0, 1, 0xb8, -1, -1, -1, 0, 1, 4, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0x12345678, 0, 0, 0x0, 0 }, /* mov eax, 0x12345678 */
    { "66 b8 34 12", 4, 1, 1, 0xb8, -1, -1, -1, 0, 2, 2, 2, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0x1234, 0, 0, 0x0, 0 }, /* mov ax, 0x1234 */
    { "90", 1, 0, 1, 0x90, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* nop */
    { "66 90", 2, 1, 1, 0x90, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* nop */
    { "f3 90", 2, 1, 1, 0x90, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* pause */
    { "98", 1, 0, 1, 0x98, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* cwde */
    { "99", 1, 0, 1, 0x99, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* cdq */
    { "f8", 1, 0, 1, 0xf8, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* clc */
    { "9e", 1, 0, 1, 0x9e, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* sahf */
    { "9f", 1, 0, 1, 0x9f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* lahf */
    { "0f c8", 2, 0, 2, 0xc8, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, 0 }, /* bswap eax */
    { "9b", 1, 0, 1, 0x9b, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, FPU }, /* wait */
    { "0f 77", 2, 0, 2, 0x77, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_COPY, CLS_IDENT, 0, 0, 0, 0x0, SSE }, /* emms */
    { "66 f3 05 34 12", 5, 2, 1, 0x05, -1, -1, -1, 0, 3, 2, 2, 4, NONE, 0xf3, K_COPY, CLS_IDENT, 0x1234, 0, 0, 0x0, 0 }, /* add ax, 0x1234 */
    /* K_MASKMOV */
    { "0f f7 c1", 3, 0, 2, 0xf7, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_MASKMOV, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* maskmovq mm0, mm1 */
    { "66 0f f7 c1", 4, 1, 2, 0xf7, 3, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_MASKMOV, CLS_MEMORY, 0, 0, 0, 0x0, MEM|SSE }, /* maskmovdqu xmm0, xmm1 */
    /* K_LEA */
    { "8d 04 40", 3, 0, 1, 0x8d, 1, 2, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_LEA, CLS_IDENT, 0, 0, 0, 0x0, MEM }, /* lea eax, [eax + eax*2] */
    { "8d 05 00 10 00 00", 6, 0, 1, 0x8d, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_LEA, CLS_IDENT, 0, 0, 0x1000, 0x0, MEM|D32 }, /* lea eax, [0x1000] */
    { "8d 65 fc", 3, 0, 1, 0x8d, 1, -1, 2, 1, -1, 0, 4, 4, NONE, 0x00, K_LEA, CLS_IDENT, 0, 0, -4, 0x0, MEM|WSP }, /* lea esp, [ebp - 4] */
    { "67 8d 00", 3, 1, 1, 0x8d, 2, -1, -1, 0, -1, 0, 4, 2, NONE, 0x00, K_LEA, CLS_IDENT, 0, 0, 0, 0x0, MEM|A16 }, /* lea eax, [bx + si] */
    /* K_INCDEC_SHORT */
    { "40", 1, 0, 1, 0x40, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INCDEC_SHORT, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* inc eax */
    { "4f", 1, 0, 1, 0x4f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INCDEC_SHORT, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* dec edi */
    { "66 40", 2, 1, 1, 0x40, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_INCDEC_SHORT, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* inc ax */
    { "44", 1, 0, 1, 0x44, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INCDEC_SHORT, CLS_NO64, 0, 0, 0, 0x0, WSP }, /* inc esp */
    /* K_MOFFS */
    { "a1 78 56 34 12", 5, 0, 1, 0xa1, -1, -1, 1, 4, -1, 0, 4, 4, NONE, 0x00, K_MOFFS, CLS_NO64, 0, 0, 0x12345678, 0x0, MEM }, /* mov eax, dword ptr [0x12345678] */
    { "67 a1 34 12", 4, 1, 1, 0xa1, -1, -1, 2, 2, -1, 0, 4, 2, NONE, 0x00, K_MOFFS, CLS_NO64, 0, 0, 0x1234, 0x0, MEM|A16 }, /* mov eax, dword ptr [0x1234] */
    { "66 a3 78 56 34 12", 6, 1, 1, 0xa3, -1, -1, 2, 4, -1, 0, 2, 4, NONE, 0x00, K_MOFFS, CLS_NO64, 0, 0, 0x12345678, 0x0, MEM }, /* mov word ptr [0x12345678], ax */
    { "65 a0 00 00 00 00", 6, 1, 1, 0xa0, -1, -1, 2, 4, -1, 0, 4, 4, GS, 0x00, K_MOFFS, CLS_NO64, 0, 0, 0, 0x0, MEM }, /* mov al, byte ptr gs:[0] */
    { "f3 66 a0 78 56 34 12", 7, 2, 1, 0xa0, -1, -1, 3, 4, -1, 0, 2, 4, NONE, 0xf3, K_MOFFS, CLS_NO64, 0, 0, 0x12345678, 0x0, MEM }, /* mov al, byte ptr [0x12345678] */
    { "66 f3 a0 78 56 34 12", 7, 2, 1, 0xa0, -1, -1, 3, 4, -1, 0, 2, 4, NONE, 0xf3, K_MOFFS, CLS_NO64, 0, 0, 0x12345678, 0x0, MEM }, /* mov al, byte ptr [0x12345678] */
    /* K_XLAT */
    { "d7", 1, 0, 1, 0xd7, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_XLAT, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* xlatb */
    { "2e d7", 2, 1, 1, 0xd7, -1, -1, -1, 0, -1, 0, 4, 4, CS, 0x00, K_XLAT, CLS_MEMORY, 0, 0, 0, 0x0, MEM }, /* xlatb */
    /* K_PUSH */
    { "50", 1, 0, 1, 0x50, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_PUSH, CLS_STACK, 0, 0, 0, 0x0, 0 }, /* push eax */
    { "54", 1, 0, 1, 0x54, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_PUSH, CLS_STACK, 0, 0, 0, 0x0, 0 }, /* push esp */
    { "6a ff", 2, 0, 1, 0x6a, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_PUSH, CLS_STACK, -1, 0, 0, 0x0, 0 }, /* push -1 */
    { "66 6a ff", 3, 1, 1, 0x6a, -1, -1, -1, 0, 2, 1, 2, 4, NONE, 0x00, K_PUSH, CLS_STACK, -1, 0, 0, 0x0, 0 }, /* push -1 */
    { "68 00 00 00 80", 5, 0, 1, 0x68, -1, -1, -1, 0, 1, 4, 4, 4, NONE, 0x00, K_PUSH, CLS_STACK, -2147483648, 0, 0, 0x0, 0 }, /* push 0x80000000 */
    { "ff 35 00 10 00 00", 6, 0, 1, 0xff, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_PUSH, CLS_STACK, 0, 0, 0x1000, 0x0, MEM|D32 }, /* push dword ptr [0x1000] */
    /* K_POP */
    { "58", 1, 0, 1, 0x58, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_POP, CLS_STACK, 0, 0, 0, 0x0, 0 }, /* pop eax */
    { "5c", 1, 0, 1, 0x5c, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_POP, CLS_STACK, 0, 0, 0, 0x0, WSP }, /* pop esp */
    { "8f 00", 2, 0, 1, 0x8f, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_POP, CLS_STACK, 0, 0, 0, 0x0, MEM }, /* pop dword ptr [eax] */
    /* K_PUSHA */
    { "60", 1, 0, 1, 0x60, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_PUSHA, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* pushal */
    { "66 60", 2, 1, 1, 0x60, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_PUSHA, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* pushaw */
    /* K_POPA */
    { "61", 1, 0, 1, 0x61, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_POPA, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* popal */
    /* K_ENTER */
    { "c8 10 00 01", 4, 0, 1, 0xc8, -1, -1, -1, 0, 1, 3, 4, 4, NONE, 0x00, K_ENTER, CLS_STACK, 16, 1, 0, 0x0, 0 }, /* enter 0x10, 1 */
    /* K_LEAVE */
    { "c9", 1, 0, 1, 0xc9, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_LEAVE, CLS_STACK, 0, 0, 0, 0x0, 0 }, /* leave */
    /* K_BCD */
    { "27", 1, 0, 1, 0x27, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* daa */
    { "2f", 1, 0, 1, 0x2f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* das */
    { "37", 1, 0, 1, 0x37, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* aaa */
    { "3f", 1, 0, 1, 0x3f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* aas */
    { "d4 0a", 2, 0, 1, 0xd4, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 10, 0, 0, 0x0, 0 }, /* aam */
    { "d5 07", 2, 0, 1, 0xd5, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_BCD, CLS_NO64, 7, 0, 0, 0x0, 0 }, /* aad 7 */
    /* K_SALC */
    { "d6", 1, 0, 1, 0xd6, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SALC, CLS_NO64, 0, 0, 0, 0x0, 0 }, /* salc */
    /* K_STRING */
    { "a4", 1, 0, 1, 0xa4, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* movsb byte ptr es:[edi], byte ptr [esi] */
    { "f3 a5", 2, 1, 1, 0xa5, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* rep movsd dword ptr es:[edi], dword ptr [esi] */
    { "66 f3 a5", 3, 2, 1, 0xa5, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0xf3, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* rep movsw word ptr es:[edi], word ptr [esi] */
    { "f3 66 a5", 3, 2, 1, 0xa5, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0xf3, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* rep movsw word ptr es:[edi], word ptr [esi] */
    { "f2 ae", 2, 1, 1, 0xae, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf2, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* repne scasb al, byte ptr es:[edi] */
    { "ac", 1, 0, 1, 0xac, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* lodsb al, byte ptr [esi] */
    { "aa", 1, 0, 1, 0xaa, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* stosb byte ptr es:[edi], al */
    { "a6", 1, 0, 1, 0xa6, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* cmpsb byte ptr [esi], byte ptr es:[edi] */
    { "f3 a7", 2, 1, 1, 0xa7, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* repe cmpsd dword ptr [esi], dword ptr es:[edi] */
    { "67 a4", 2, 1, 1, 0xa4, -1, -1, -1, 0, -1, 0, 4, 2, NONE, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, A16 }, /* movsb byte ptr es:[di], byte ptr [si] */
    { "26 a4", 2, 1, 1, 0xa4, -1, -1, -1, 0, -1, 0, 4, 4, ES, 0x00, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* movsb byte ptr es:[edi], byte ptr es:[esi] */
    { "f2 f3 a4", 3, 2, 1, 0xa4, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* rep movsb byte ptr es:[edi], byte ptr [esi] */
    { "f3 f2 a4", 3, 2, 1, 0xa4, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf2, K_STRING, CLS_STRING, 0, 0, 0, 0x0, 0 }, /* repne movsb byte ptr es:[edi], byte ptr [esi] */
    /* K_JCC */
    { "74 fe", 2, 0, 1, 0x74, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_JCC, CLS_BRANCH, -2, 0, 0, 0x1000, END }, /* je 0x1000 */
    { "7f 10", 2, 0, 1, 0x7f, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_JCC, CLS_BRANCH, 16, 0, 0, 0x1012, END }, /* jg 0x1012 */
    { "0f 85 00 01 00 00", 6, 0, 2, 0x85, -1, -1, -1, 0, 2, 4, 4, 4, NONE, 0x00, K_JCC, CLS_BRANCH, 0x100, 0, 0, 0x1106, END }, /* jne 0x1106 */
    { "66 0f 85 00 01", 5, 1, 2, 0x85, -1, -1, -1, 0, 3, 2, 2, 4, NONE, 0x00, K_JCC, CLS_BRANCH, 0x100, 0, 0, 0x1105, END }, /* jne 0x1105 */
    /* K_JMP */
    { "eb 10", 2, 0, 1, 0xeb, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_JMP, CLS_BRANCH, 16, 0, 0, 0x1012, END }, /* jmp 0x1012 */
    { "e9 fb ff ff ff", 5, 0, 1, 0xe9, -1, -1, -1, 0, 1, 4, 4, 4, NONE, 0x00, K_JMP, CLS_BRANCH, -5, 0, 0, 0x1000, END }, /* jmp 0x1000 */
    { "66 e9 fa ef", 4, 1, 1, 0xe9, -1, -1, -1, 0, 2, 2, 2, 4, NONE, 0x00, K_JMP, CLS_BRANCH, -4102, 0, 0, 0xfffe, END }, /* jmp 0xfffe */
    /* K_CALL */
    { "e8 00 00 00 00", 5, 0, 1, 0xe8, -1, -1, -1, 0, 1, 4, 4, 4, NONE, 0x00, K_CALL, CLS_BRANCH, 0, 0, 0, 0x1005, END }, /* call 0x1005 */
    { "66 e8 fa ef", 4, 1, 1, 0xe8, -1, -1, -1, 0, 2, 2, 2, 4, NONE, 0x00, K_CALL, CLS_BRANCH, -4102, 0, 0, 0xfffe, END }, /* call 0xfffe */
    { "66 f3 e8 fa ef", 5, 2, 1, 0xe8, -1, -1, -1, 0, 3, 2, 2, 4, NONE, 0xf3, K_CALL, CLS_BRANCH, -4102, 0, 0, 0xffff, END }, /* call 0xffff */
    { "f3 66 e8 fa ef", 5, 2, 1, 0xe8, -1, -1, -1, 0, 3, 2, 2, 4, NONE, 0xf3, K_CALL, CLS_BRANCH, -4102, 0, 0, 0xffff, END }, /* call 0xffff */
    { "66 f2 e8 fa ef", 5, 2, 1, 0xe8, -1, -1, -1, 0, 3, 2, 2, 4, NONE, 0xf2, K_CALL, CLS_BRANCH, -4102, 0, 0, 0xffff, END }, /* bnd call 0xffff */
    /* K_RET */
    { "c3", 1, 0, 1, 0xc3, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_RET, CLS_BRANCH, 0, 0, 0, 0x0, END }, /* ret */
    { "c2 08 00", 3, 0, 1, 0xc2, -1, -1, -1, 0, 1, 2, 4, 4, NONE, 0x00, K_RET, CLS_BRANCH, 8, 0, 0, 0x0, END }, /* ret 8 */
    { "66 c3", 2, 1, 1, 0xc3, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_RET, CLS_BRANCH, 0, 0, 0, 0x0, END }, /* ret */
    /* K_LOOP */
    { "e2 fe", 2, 0, 1, 0xe2, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_LOOP, CLS_BRANCH, -2, 0, 0, 0x1000, END }, /* loop 0x1000 */
    { "e1 fe", 2, 0, 1, 0xe1, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_LOOP, CLS_BRANCH, -2, 0, 0, 0x1000, END }, /* loope 0x1000 */
    { "e0 fe", 2, 0, 1, 0xe0, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_LOOP, CLS_BRANCH, -2, 0, 0, 0x1000, END }, /* loopne 0x1000 */
    { "66 e2 f0", 3, 1, 1, 0xe2, -1, -1, -1, 0, 2, 1, 2, 4, NONE, 0x00, K_LOOP, CLS_BRANCH, -16, 0, 0, 0xff3, END }, /* loop 0xff3 */
    /* K_JCXZ */
    { "e3 05", 2, 0, 1, 0xe3, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_JCXZ, CLS_BRANCH, 5, 0, 0, 0x1007, END }, /* jecxz 0x1007 */
    { "67 e3 05", 3, 1, 1, 0xe3, -1, -1, -1, 0, 2, 1, 4, 2, NONE, 0x00, K_JCXZ, CLS_BRANCH, 5, 0, 0, 0x1008, END|A16 }, /* jcxz 0x1008 */
    /* K_JMP_IND */
    { "ff e0", 2, 0, 1, 0xff, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_JMP_IND, CLS_BRANCH, 0, 0, 0, 0x0, END }, /* jmp eax */
    { "ff 24 85 00 10 00 00", 7, 0, 1, 0xff, 1, 2, 3, 4, -1, 0, 4, 4, NONE, 0x00, K_JMP_IND, CLS_BRANCH, 0, 0, 0x1000, 0x0, MEM|END }, /* jmp dword ptr [eax*4 + 0x1000] */
    /* K_CALL_IND */
    { "ff d0", 2, 0, 1, 0xff, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_CALL_IND, CLS_BRANCH, 0, 0, 0, 0x0, END }, /* call eax */
    { "ff 15 00 20 00 00", 6, 0, 1, 0xff, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_CALL_IND, CLS_BRANCH, 0, 0, 0x2000, 0x0, MEM|END|D32 }, /* call dword ptr [0x2000] */
    /* K_CLI */
    { "fa", 1, 0, 1, 0xfa, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_CLI, CLS_SENSITIVE, 0, 0, 0, 0x0, IOPL }, /* cli */
    /* K_STI */
    { "fb", 1, 0, 1, 0xfb, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_STI, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* sti */
    /* K_PUSHF */
    { "9c", 1, 0, 1, 0x9c, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_PUSHF, CLS_SENSITIVE, 0, 0, 0, 0x0, 0 }, /* pushfd */
    { "66 9c", 2, 1, 1, 0x9c, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_PUSHF, CLS_SENSITIVE, 0, 0, 0, 0x0, 0 }, /* pushf */
    /* K_POPF */
    { "9d", 1, 0, 1, 0x9d, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_POPF, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* popfd */
    { "66 9d", 2, 1, 1, 0x9d, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_POPF, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* popf */
    /* K_HLT */
    { "f4", 1, 0, 1, 0xf4, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_HLT, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* hlt */
    /* K_IO */
    { "e4 60", 2, 0, 1, 0xe4, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 96, 0, 0, 0x0, END|IOPL }, /* in al, 0x60 */
    { "66 e5 60", 3, 1, 1, 0xe5, -1, -1, -1, 0, 2, 1, 2, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 96, 0, 0, 0x0, END|IOPL }, /* in ax, 0x60 */
    { "e6 80", 2, 0, 1, 0xe6, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 128, 0, 0, 0x0, END|IOPL }, /* out 0x80, al */
    { "ec", 1, 0, 1, 0xec, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* in al, dx */
    { "ee", 1, 0, 1, 0xee, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* out dx, al */
    { "6c", 1, 0, 1, 0x6c, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* insb byte ptr es:[edi], dx */
    { "66 6d", 2, 1, 1, 0x6d, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_IO, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* insw word ptr es:[edi], dx */
    { "f3 6f", 2, 1, 1, 0x6f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0xf3, K_IO, CLS_SENSITIVE, 0, 0, 0, 0x0, END|IOPL }, /* rep outsd dx, dword ptr [esi] */
    /* K_INT */
    { "cc", 1, 0, 1, 0xcc, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INT, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* int3 */
    { "cd 80", 2, 0, 1, 0xcd, -1, -1, -1, 0, 1, 1, 4, 4, NONE, 0x00, K_INT, CLS_SENSITIVE, 128, 0, 0, 0x0, END }, /* int 0x80 */
    { "ce", 1, 0, 1, 0xce, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INT, CLS_NO64, 0, 0, 0, 0x0, END }, /* into */
    { "f1", 1, 0, 1, 0xf1, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_INT, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* int1 */
    /* K_IRET */
    { "cf", 1, 0, 1, 0xcf, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_IRET, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* iretd */
    { "66 cf", 2, 1, 1, 0xcf, -1, -1, -1, 0, -1, 0, 2, 4, NONE, 0x00, K_IRET, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* iret */
    /* K_FAR */
    { "ea 78 56 34 12 08 00", 7, 0, 1, 0xea, -1, -1, -1, 0, 1, 6, 4, 4, NONE, 0x00, K_FAR, CLS_NO64, 0x12345678, 8, 0, 0x0, END }, /* ljmp 8:0x12345678 */
    { "66 ea 34 12 08 00", 6, 1, 1, 0xea, -1, -1, -1, 0, 2, 4, 2, 4, NONE, 0x00, K_FAR, CLS_NO64, 0x1234, 8, 0, 0x0, END }, /* ljmp 8:0x1234 */
    { "9a 78 56 34 12 08 00", 7, 0, 1, 0x9a, -1, -1, -1, 0, 1, 6, 4, 4, NONE, 0x00, K_FAR, CLS_NO64, 0x12345678, 8, 0, 0x0, END }, /* lcall 8:0x12345678 */
    { "ff 28", 2, 0, 1, 0xff, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_FAR, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* ljmp [eax] */
    { "ff 18", 2, 0, 1, 0xff, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_FAR, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* lcall [eax] */
    { "cb", 1, 0, 1, 0xcb, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_FAR, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* retf */
    { "ca 04 00", 3, 0, 1, 0xca, -1, -1, -1, 0, 1, 2, 4, 4, NONE, 0x00, K_FAR, CLS_SENSITIVE, 4, 0, 0, 0x0, END }, /* retf 4 */
    /* K_SEG */
    { "8e d8", 2, 0, 1, 0x8e, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* mov ds, eax */
    { "8e d0", 2, 0, 1, 0x8e, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* mov ss, eax */
    { "8c c8", 2, 0, 1, 0x8c, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* mov eax, cs */
    { "8c 00", 2, 0, 1, 0x8c, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* mov word ptr [eax], es */
    { "06", 1, 0, 1, 0x06, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* push es */
    { "07", 1, 0, 1, 0x07, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* pop es */
    { "0e", 1, 0, 1, 0x0e, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* push cs */
    { "16", 1, 0, 1, 0x16, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* push ss */
    { "17", 1, 0, 1, 0x17, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* pop ss */
    { "1e", 1, 0, 1, 0x1e, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* push ds */
    { "1f", 1, 0, 1, 0x1f, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, END }, /* pop ds */
    { "0f a0", 2, 0, 2, 0xa0, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* push fs */
    { "0f a1", 2, 0, 2, 0xa1, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* pop fs */
    { "0f a8", 2, 0, 2, 0xa8, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* push gs */
    { "0f a9", 2, 0, 2, 0xa9, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* pop gs */
    { "c4 00", 2, 0, 1, 0xc4, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, MEM|END }, /* les eax, ptr [eax] */
    { "c5 18", 2, 0, 1, 0xc5, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_NO64, 0, 0, 0, 0x0, MEM|END }, /* lds ebx, ptr [eax] */
    { "0f b2 00", 3, 0, 2, 0xb2, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* lss eax, ptr [eax] */
    { "0f b4 00", 3, 0, 2, 0xb4, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* lfs eax, ptr [eax] */
    { "0f b5 00", 3, 0, 2, 0xb5, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SEG, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* lgs eax, ptr [eax] */
    /* K_SYS */
    { "0f 20 c0", 3, 0, 2, 0x20, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* mov eax, cr0 */
    { "0f 22 d8", 3, 0, 2, 0x22, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* mov cr3, eax */
    { "0f 21 f8", 3, 0, 2, 0x21, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* mov eax, dr7 */
    { "0f 23 c0", 3, 0, 2, 0x23, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* mov dr0, eax */
    { "0f 06", 2, 0, 2, 0x06, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* clts */
    { "0f 01 15 00 10 00 00", 7, 0, 2, 0x01, 2, -1, 3, 4, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0x1000, 0x0, MEM|END|PRIV|D32 }, /* lgdt [0x1000] */
    { "0f 01 00", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* sgdt [eax] */
    { "0f 01 08", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END }, /* sidt [eax] */
    { "0f 01 18", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END|PRIV }, /* lidt [eax] */
    { "0f 00 10", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END|PRIV }, /* lldt word ptr [eax] */
    { "0f 00 d8", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* ltr ax */
    { "0f 00 c0", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* sldt eax */
    { "0f 00 c8", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* str eax */
    { "0f 01 38", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, MEM|END|PRIV }, /* invlpg byte ptr [eax] */
    { "0f 01 f0", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* lmsw ax */
    { "0f 01 e0", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* smsw eax */
    { "0f a2", 2, 0, 2, 0xa2, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* cpuid */
    { "0f 31", 2, 0, 2, 0x31, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* rdtsc */
    { "0f 32", 2, 0, 2, 0x32, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* rdmsr */
    { "0f 30", 2, 0, 2, 0x30, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* wrmsr */
    { "0f 33", 2, 0, 2, 0x33, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* rdpmc */
    { "0f 08", 2, 0, 2, 0x08, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* invd */
    { "0f 09", 2, 0, 2, 0x09, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* wbinvd */
    { "0f 02 c1", 3, 0, 2, 0x02, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* lar eax, ecx */
    { "0f 03 c1", 3, 0, 2, 0x03, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* lsl eax, ecx */
    { "0f 00 e0", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* verr ax */
    { "0f 00 e8", 3, 0, 2, 0x00, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* verw ax */
    { "63 c1", 2, 0, 1, 0x63, 1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_NO64, 0, 0, 0, 0x0, END }, /* arpl cx, ax */
    { "62 05 00 10 00 00", 6, 0, 1, 0x62, 1, -1, 2, 4, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_NO64, 0, 0, 0x1000, 0x0, MEM|END|D32 }, /* bound eax, qword ptr [0x1000] */
    { "0f 34", 2, 0, 2, 0x34, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* sysenter */
    { "0f 35", 2, 0, 2, 0x35, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END|PRIV }, /* sysexit */
    { "0f 01 c8", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* monitor */
    { "0f 01 c9", 3, 0, 2, 0x01, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_SYS, CLS_SENSITIVE, 0, 0, 0, 0x0, END }, /* mwait */
    /* K_UD */
    { "0f 0b", 2, 0, 2, 0x0b, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_UD, CLS_INVALID, 0, 0, 0, 0x0, END }, /* ud2 */
    { "0f b9 c0", 3, 0, 2, 0xb9, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_UD, CLS_INVALID, 0, 0, 0, 0x0, END }, /* ud2b */
    { "0f ff 00", 3, 0, 2, 0xff, 2, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_UD, CLS_INVALID, 0, 0, 0, 0x0, MEM|END }, /* ud0 */
    { "36 0f ff 27", 4, 1, 2, 0xff, 3, -1, -1, 0, -1, 0, 4, 4, SS, 0x00, K_UD, CLS_INVALID, 0, 0, 0, 0x0, MEM|END }, /* ud0 */
    { "0f aa", 2, 0, 2, 0xaa, -1, -1, -1, 0, -1, 0, 4, 4, NONE, 0x00, K_UD, CLS_INVALID, 0, 0, 0, 0x0, END }, /* rsm */
};

#define NROWS (sizeof rows / sizeof rows[0])

static size_t parse_hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    unsigned v;
    int used;
    while (sscanf(s, " %2x%n", &v, &used) == 1) {
        out[n++] = (uint8_t)v;
        s += used;
    }
    return n;
}

static struct decoder *dec;

static int setup(void **state)
{
    dec = decoder_create();
    return dec ? 0 : -1;
}

static int teardown(void **state)
{
    decoder_destroy(dec);
    return 0;
}

/* Fails naming the row and the field, which assert_int_equal cannot. */
#define CHECK(r, field, want, got)                                                       \
    do {                                                                                 \
        long long w_ = (long long)(want), g_ = (long long)(got);                         \
        if (w_ != g_)                                                                    \
            fail_msg("\"%s\": %s is %lld (0x%llx), expected %lld (0x%llx)", (r)->hex,    \
                     field, g_, (unsigned long long)g_, w_, (unsigned long long)w_);     \
    } while (0)

static void test_rows(void **state)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct row *r = &rows[i];
        uint8_t b[16];
        size_t n = parse_hex(r->hex, b);
        struct insn in;
        int rc = decode_insn(dec, b, n, 0x1000, &in);
        CHECK(r, "rc", 0, rc);
        CHECK(r, "len", r->len, in.len);
        CHECK(r, "npfx", r->npfx, in.npfx);
        CHECK(r, "opc_len", r->opc_len, in.opc_len);
        CHECK(r, "opcode", r->opcode, in.opcode);
        CHECK(r, "modrm_off", r->modrm_off, in.modrm_off);
        CHECK(r, "sib_off", r->sib_off, in.sib_off);
        CHECK(r, "disp_off", r->disp_off, in.disp_off);
        CHECK(r, "disp_size", r->disp_size, in.disp_size);
        CHECK(r, "imm_off", r->imm_off, in.imm_off);
        CHECK(r, "imm_size", r->imm_size, in.imm_size);
        CHECK(r, "opsize", r->opsize, in.opsize);
        CHECK(r, "addrsize", r->addrsize, in.addrsize);
        CHECK(r, "seg", r->seg, in.seg);
        CHECK(r, "rep", r->rep, in.rep);
        CHECK(r, "kind", r->kind, in.kind);
        CHECK(r, "cls", r->cls, in.cls);
        CHECK(r, "imm", r->imm, in.imm);
        CHECK(r, "imm2", r->imm2, in.imm2);
        CHECK(r, "disp", r->disp, in.disp);
        CHECK(r, "target", r->target, in.target);
        CHECK(r, "flags", r->flags, in.flags);
        CHECK(r, "eip", 0x1000, in.eip);
        if (memcmp(in.bytes, b, in.len))
            fail_msg("\"%s\": bytes not copied", r->hex);
    }
}

/* The table above reaches every kind a valid instruction can have and
 * every class. */
static void test_rows_cover_every_kind_and_class(void **state)
{
    bool kind[K_COUNT] = { false }, cls[CLS_COUNT] = { false };
    for (size_t i = 0; i < NROWS; i++) {
        kind[rows[i].kind] = true;
        cls[rows[i].cls] = true;
    }
    for (int k = K_COPY; k < K_COUNT; k++)
        if (!kind[k])
            fail_msg("no row of kind %s", insn_kind_name(k));
    for (int c = 0; c < CLS_COUNT; c++)
        if (!cls[c])
            fail_msg("no row of class %s", insn_class_name(c));
}

static void test_modrm_fields(void **state)
{
    static const struct { const char *hex; uint8_t mod, reg, rm; bool mem; } t[] = {
        { "8b 45 fc", 1, 0, 5, true },      /* mov eax,[ebp-4] */
        { "89 84 24 00 01 00 00", 2, 0, 4, true },
        { "01 d8", 3, 3, 0, false },        /* add eax,ebx: reg=ebx rm=eax */
        { "8e d0", 3, 2, 0, false },        /* mov ss,eax: reg = Sreg */
        /* MOV CRn/DRn ignore mod: 0F 20 00 is mov eax,cr0, not a memory operand. */
        { "0f 20 00", 3, 0, 0, false },
        { "0f 22 58", 3, 3, 0, false },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[16];
        size_t n = parse_hex(t[i].hex, b);
        struct insn in;
        assert_int_equal(decode_insn(dec, b, n, 0, &in), 0);
        assert_int_equal(in.mod, t[i].mod);
        assert_int_equal(in.reg, t[i].reg);
        assert_int_equal(in.rm, t[i].rm);
        assert_int_equal(!!(in.flags & INSN_F_MEM), t[i].mem);
    }
}

/* Ids Capstone shares between translations, and ids it gets wrong without
 * the prefix reordering. */
static void test_capstone_ids(void **state)
{
    static const struct { const char *hex; unsigned id; uint8_t kind; } t[] = {
        { "a5", X86_INS_MOVSD, K_STRING },
        { "f2 0f 10 c1", X86_INS_MOVSD, K_COPY_MEM },
        { "a7", X86_INS_CMPSD, K_STRING },
        { "f2 0f c2 c1 08", X86_INS_CMPSD, K_COPY_MEM },
        { "66 f3 a5", X86_INS_MOVSW, K_STRING },
        { "f3 66 0f 10 c1", X86_INS_MOVSS, K_COPY_MEM },  /* F3 wins over 66 */
        { "66 2e 0f 10 c1", X86_INS_MOVUPD, K_COPY_MEM },
        { "66 f3 67 0f 10 00", X86_INS_MOVSS, K_COPY_MEM },
        { "66 f3 0f b8 c1", X86_INS_POPCNT, K_INVALID },  /* not an i686 instruction */
        { "0f 1f c0", X86_INS_NOP, K_COPY_MEM },
        { "0f b9 c0", X86_INS_UD2B, K_UD },
        { "0f ff c0", X86_INS_UD0, K_UD },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[16];
        size_t n = parse_hex(t[i].hex, b);
        struct insn in;
        decode_insn(dec, b, n, 0, &in);
        if (in.kind != t[i].kind || (t[i].kind != K_INVALID && in.id != t[i].id))
            fail_msg("\"%s\": id %u kind %s, expected id %u kind %s", t[i].hex, in.id,
                     insn_kind_name(in.kind), t[i].id, insn_kind_name(t[i].kind));
    }
}

static void test_names(void **state)
{
    for (int k = 0; k < K_COUNT; k++) {
        assert_string_not_equal(insn_kind_name(k), "?");
        for (int j = 0; j < k; j++)
            assert_string_not_equal(insn_kind_name(k), insn_kind_name(j));
    }
    for (int c = 0; c < CLS_COUNT; c++)
        assert_string_not_equal(insn_class_name(c), "?");
    assert_string_equal(insn_kind_name(K_COUNT), "?");
    assert_string_equal(insn_class_name(CLS_COUNT), "?");
    assert_string_equal(insn_kind_name(K_COPY_MEM), "copy_mem");
    assert_string_equal(insn_class_name(CLS_NO64), "no64");
}

static void format(const char *hex, char *buf, size_t len)
{
    uint8_t b[16];
    size_t n = parse_hex(hex, b);
    struct insn in;
    decode_insn(dec, b, n, 0x1000, &in);
    insn_format(dec, &in, buf, len);
}

static void test_format(void **state)
{
    char buf[96];
    format("03 44 b3 08", buf, sizeof buf);
    assert_string_equal(buf, "add eax, dword ptr [ebx + esi*4 + 8]");
    format("e8 fb ff ff ff", buf, sizeof buf);
    assert_string_equal(buf, "call 0x1000");
    format("66 f3 a5", buf, sizeof buf);
    assert_string_equal(buf, "rep movsw word ptr es:[edi], word ptr [esi]");
    format("c3", buf, sizeof buf);
    assert_string_equal(buf, "ret");
    format("0f 1f c0", buf, sizeof buf);         /* Capstone cannot decode it */
    assert_string_equal(buf, "nop");
    format("0f 04", buf, sizeof buf);
    assert_string_equal(buf, "(bad)");
    format("f0 03 00", buf, sizeof buf);         /* Capstone accepts it, the CPU does not */
    assert_string_equal(buf, "(bad) lock add eax, dword ptr [eax]");
    format("03 44 b3 08", buf, 8);
    assert_string_equal(buf, "add eax");
    buf[0] = 'x';
    format("90", buf, 0);
    assert_int_equal(buf[0], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_rows_cover_every_kind_and_class),
        cmocka_unit_test(test_modrm_fields),
        cmocka_unit_test(test_capstone_ids),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
