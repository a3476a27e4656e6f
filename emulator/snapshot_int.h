/* snapshot_int — what the stream (snapshot.c) and the machine's sections
 * (snapshot_state.c) share. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emulator/snapshot.h"

/* A growing payload; oom set if an append failed (the put then fails). */
struct snap_buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};
void sb_put(struct snap_buf *b, const void *src, size_t n);
static inline void sb_u32(struct snap_buf *b, uint32_t v) { sb_put(b, &v, 4); }
static inline void sb_u64(struct snap_buf *b, uint64_t v) { sb_put(b, &v, 8); }

/* Write one section; 0 or -1 (the error is kept in o). Frees nothing. */
int snap_put_section(struct snap_out *o, uint32_t id, uint32_t version, const void *payload,
                     size_t len);
/* Put b as a section and free it. */
int snap_put_buf(struct snap_out *o, uint32_t id, uint32_t version, struct snap_buf *b);

/* The machine's state sections (not RAM, not END). */
struct snap_section {
    uint32_t id, version;           /* version: see snap_section_version */
    /* Is the payload right for this VM? 0, or -1 with one line in err.
     * Must check everything apply relies on. */
    int (*check)(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n,
                 char *err, size_t errlen);
    void (*apply)(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n);
    int dev;                        /* devices: the index in snapshot_state.c's table */
};
/* The version this bt86 writes and reads. */
uint32_t snap_section_version(const struct snap_section *s);
/* A full snapshot must have the section: this machine has the device. */
bool snap_section_required(const struct snap_section *s, struct vm *vm);
/* NULL-terminated by id 0, in the order they are applied. */
extern const struct snap_section snap_sections[];
const struct snap_section *snap_section_find(uint32_t id);
/* After a load: rebuild what is derived (translations, jump caches,
 * shadow spaces, segment sets), keep the device timers' deadlines. */
void snap_state_loaded(struct vm *vm);
int snap_state_put(struct snap_out *o, struct vm *vm);
int snap_config_put(struct snap_out *o, struct vm *vm);

/* "CPU " -> "CPU" for messages. */
const char *snap_id_name(uint32_t id, char buf[8]);
