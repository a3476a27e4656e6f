/* seq — a generated sequence as a list of instructions with symbolic
 * branch targets, so that it can be shrunk (items dropped) and reassembled.
 *
 * Items belong to parts: part 0 runs from DT_CODE up to the stop address;
 * parts 1.. (one per local function body, reached only through calls) follow
 * it in order, after one HLT byte that catches a translator running past the
 * stop address. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "dt.h"

#define SEQ_MAX 160
#define SEQ_LABELS 48
#define SEQ_PTRS 8
#define SEQ_PARTS 8
#define SEQ_PTR_AREA (DT_CODE + DT_CODE_SIZE - 0x100)   /* label-address table (never written) */

struct item {
    uint8_t b[15];
    uint8_t len;
    uint8_t part;          /* 0 main, 1.. function bodies */
    uint8_t rel_size;      /* rel8/rel32 displacement in the last bytes, or 0 */
    uint8_t abs_off;       /* imm32 at this offset := address of abs_target */
    int8_t target;         /* label of the relative branch */
    int8_t abs_target;     /* label whose address goes into the bytes, or -1 */
    uint8_t group;         /* items emitted by one template share a group id */
};

struct label { int16_t item; uint8_t part; };   /* item -1: pending (next item or end), -2: end, -3: unbound */

struct seq {
    struct item it[SEQ_MAX];
    int n;
    struct label lab[SEQ_LABELS];
    int nlab;
    int8_t ptr_label[SEQ_PTRS];  /* SEQ_PTR_AREA[i] := address of this label */
    int nptr;
};

void seq_init(struct seq *s);
/* A new label bound to the next item appended to part (or its end). */
int seq_label(struct seq *s, int part);
/* Rebind label l to the next item appended to part. */
void seq_bind(struct seq *s, int l, int part);
/* A label bound later with seq_bind. */
int seq_label_new(struct seq *s);
/* A label that stays at the end of part (the stop address for part 0). */
int seq_label_end(struct seq *s, int part);
struct item *seq_add(struct seq *s, int part, const uint8_t *b, int len);
void seq_delete(struct seq *s, int i);
/* Lay the sequence out into c's code region; false if a branch no longer
 * reaches or the code does not fit. */
bool seq_assemble(const struct seq *s, struct dt_case *c);
