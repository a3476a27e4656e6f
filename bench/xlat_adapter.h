/* xlat_adapter — the one place where the translation-throughput benchmark
 * touches the translator's API (bt/bt.h), so that xlat_throughput.c only
 * knows about bytes in and counts out. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct xa;

struct xa_block {
    uint32_t guest_len;   /* guest bytes the block covers */
    uint32_t ninsn;       /* guest instructions in it */
    uint32_t host_len;    /* host code bytes emitted for it */
};

/* A translator with an empty code cache large enough for code_bytes of
 * guest code. NULL and a message in err on failure. */
struct xa *xa_create(size_t guest_bytes, char *err, size_t errlen);
/* Decode every instruction with Capstone (the decoder's fast path off), to
 * measure what the fast path saves. */
void xa_capstone_only(struct xa *x);
void xa_destroy(struct xa *x);

/* Translate (without running) the block at guest address eip whose bytes
 * are code[0..avail). Returns 0 and fills *out, or -1 with a message in err. */
int xa_translate(struct xa *x, uint32_t eip, const uint8_t *code, size_t avail,
                 struct xa_block *out, char *err, size_t errlen);

/* Decode one instruction only (the decoder's share of the cost). Returns its
 * length, or 0 for bytes that are not an instruction. */
unsigned xa_decode(struct xa *x, uint32_t eip, const uint8_t *code, size_t avail);

/* Cache flushes the translations needed (a full cache mid-run). */
/* Empty the code cache (as the monitor's flush does) and zero the flush
 * count: the next pass reuses memory the previous one touched. */
void xa_empty(struct xa *x);
unsigned xa_flushes(const struct xa *x);
