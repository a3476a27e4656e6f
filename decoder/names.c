/* Names of classes and kinds, for logs and --stats. */
#include "decoder/decoder_impl.h"

static const char *const class_names[CLS_COUNT] = {
    [CLS_INVALID] = "invalid",
    [CLS_IDENT] = "ident",
    [CLS_MEMORY] = "memory",
    [CLS_STACK] = "stack",
    [CLS_BRANCH] = "branch",
    [CLS_STRING] = "string",
    [CLS_SENSITIVE] = "sensitive",
    [CLS_NO64] = "no64",
};

static const char *const kind_names[K_COUNT] = {
    [K_INVALID] = "invalid",
    [K_COPY] = "copy",
    [K_COPY_MEM] = "copy_mem",
    [K_LEA] = "lea",
    [K_INCDEC_SHORT] = "incdec_short",
    [K_MOFFS] = "moffs",
    [K_XLAT] = "xlat",
    [K_PUSH] = "push",
    [K_POP] = "pop",
    [K_PUSHA] = "pusha",
    [K_POPA] = "popa",
    [K_ENTER] = "enter",
    [K_LEAVE] = "leave",
    [K_BCD] = "bcd",
    [K_SALC] = "salc",
    [K_STRING] = "string",
    [K_JCC] = "jcc",
    [K_JMP] = "jmp",
    [K_CALL] = "call",
    [K_RET] = "ret",
    [K_LOOP] = "loop",
    [K_JCXZ] = "jcxz",
    [K_JMP_IND] = "jmp_ind",
    [K_CALL_IND] = "call_ind",
    [K_CLI] = "cli",
    [K_STI] = "sti",
    [K_PUSHF] = "pushf",
    [K_POPF] = "popf",
    [K_HLT] = "hlt",
    [K_IO] = "io",
    [K_INT] = "int",
    [K_IRET] = "iret",
    [K_FAR] = "far",
    [K_SEG] = "seg",
    [K_SYS] = "sys",
    [K_UD] = "ud",
    [K_MASKMOV] = "maskmov",
};

const char *insn_class_name(enum insn_class c)
{
    return (unsigned)c < CLS_COUNT && class_names[c] ? class_names[c] : "?";
}

const char *insn_kind_name(enum insn_kind k)
{
    return (unsigned)k < K_COUNT && kind_names[k] ? kind_names[k] : "?";
}
