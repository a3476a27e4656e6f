/* decoder internals shared by the decoder's .c files (not a public header).
 *
 * The pipeline, one file per step:
 *   prefix.c   scan the legacy prefixes; reorder them so that Capstone 4.0.2
 *              decodes them right (its prefix bugs all depend on the order)
 *   decode.c   drive Capstone, detect truncation, put the steps together
 *   fast.c     the common opcodes measured without Capstone (its text
 *              formatting is most of a decode's cost)
 *   fallback.c encodings Capstone rejects or mislays (hint NOPs, UD0/UD1,
 *              fences), measured here from the ModRM layout
 *   layout.c   the byte layout and the decoded fields, from the bytes
 *   table.c    the classification table keyed by Capstone instruction id
 *   refine.c   the per-opcode refinement of ids that cover several
 *              translations, and the validity checks Capstone misses (LOCK)
 *   names.c    names for logs and statistics */
#pragma once
#include <capstone/capstone.h>

#include "decoder/decoder.h"

#define X86_MAX_INSN_LEN 15

/* The legacy prefixes of one instruction (SDM vol. 2 §2.1.1). */
struct prefixes {
    uint8_t n;          /* prefix bytes before the opcode */
    uint8_t opsize;     /* 2 with any 0x66, else 4 */
    uint8_t addrsize;   /* 2 with any 0x67, else 4 */
    uint8_t rep;        /* last of F2/F3, 0 if none */
    int8_t  seg;        /* last segment override, SEG_NONE if none */
    bool    lock;       /* F0 present */
};

/* Which opcode map the opcode byte comes from. */
enum opmap { MAP_1B = 1, MAP_0F = 2, MAP_0F38 = 3, MAP_0F3A = 4 };

struct decoder {
    csh      cs;
    cs_insn *ci;       /* reused by every decode (cs_malloc) */
    bool     no_fast;  /* every instruction through Capstone (decoder_use_fast) */
};

/* prefix.c */
void prefixes_scan(const uint8_t *b, size_t n, struct prefixes *p);
void prefixes_canonical(const uint8_t *b, size_t n, const struct prefixes *p, uint8_t *out);

/* fallback.c: the Capstone id of an encoding measured here rather than by
 * Capstone (X86_INS_INVALID if b is none), and its length. */
unsigned fallback_match(const uint8_t *b, size_t n, const struct prefixes *p);
int      fallback_length(const uint8_t *b, size_t n, const struct prefixes *p);

/* fast.c: what decode_insn otherwise asks Capstone for, for the common
 * opcodes; false when b is not one of them (or is cut short). */
struct fast_result {
    int len, modrm_off;     /* modrm_off -1: none */
    unsigned id;            /* Capstone id */
    bool writes_sp;         /* an explicit operand written is ESP/SP */
};
bool fast_match(const uint8_t *b, size_t n, const struct prefixes *p, struct fast_result *r);

/* layout.c */
enum opmap layout_opmap(const uint8_t *b, const struct prefixes *p, uint8_t *opc_len);
int  layout_modrm_end(const uint8_t *b, size_t n, int modrm_off, bool addr16);
enum opmap layout_fill(struct insn *in, int modrm_off);

/* table.c: one row per Capstone id. Rows hold public INSN_F_* bits plus
 * the R_* bits below, which only the decoder reads. */
enum {
    R_LOCKABLE = 1u << 24, /* LOCK allowed with a memory destination (SDM LOCK) */
    R_REFINE   = 1u << 25, /* look in refine.c's list by opcode */
    R_COUNT    = 1u << 26, /* shift/rotate: no flag changes when the masked count is 0 */
    R_REPCMP   = 1u << 27, /* CMPS/SCAS: REPx with ECX = 0 leaves the flags unchanged */
    R_INTERNAL = R_LOCKABLE | R_REFINE | R_COUNT | R_REPCMP,
};

struct insn_row {
    uint8_t  kind, cls;
    uint16_t fr, fw;     /* flags read (or possibly passed through) / written */
    uint32_t flags;      /* INSN_F_* | R_* */
};

#define INSN_ROW(k, c, f, r, w) { .kind = (k), .cls = (c), .fr = (r), .fw = (w), .flags = (f) }

const struct insn_row *table_row(unsigned id);

/* refine.c */
const struct insn_row *refine_row(const struct insn_row *row, const struct insn *in,
                                  enum opmap map);
void refine_insn(struct insn *in, enum opmap map, uint32_t row_flags);
bool refine_valid(const struct insn *in, enum opmap map, uint32_t row_flags);
