/* Code cache: finding blocks by key, by host address (the signal path) and
 * host PC → guest instruction; taking invalidated blocks back by hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache/cache.h"

static int setup(void **state)
{
    char err[200];
    *state = cache_create(1 << 20, 16 << 20, err, sizeof err);
    if (!*state)
        fail_msg("cache_create: %s", err);
    return 0;
}

static int teardown(void **state)
{
    cache_destroy(*state);
    return 0;
}

/* A block of n host bytes (int3 filler: never run here). */
static struct tb *emit(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode, size_t n)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    assert_true(avail >= n);
    memset(rw, 0xcc, n);
    cache_commit(c, n);
    struct tb *tb = cache_new_tb(c);
    assert_non_null(tb);
    tb->phys = phys;
    tb->eip = eip;
    tb->mode = mode;
    tb->guest_len = 10;
    tb->host = rx;
    tb->host_len = (uint32_t)n;
    cache_insert(c, tb);
    return tb;
}

static void test_lookup_by_key(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x1000, 0xc0001000, 0, 20);
    struct tb *b = emit(c, 0x1000, 0xc0001000, 3, 20);   /* same place, other mode */
    struct tb *d = emit(c, 0x1000, 0x00001000, 0, 20);   /* same phys, other EIP */
    assert_ptr_equal(cache_lookup(c, 0x1000, 0xc0001000, 0), a);
    assert_ptr_equal(cache_lookup(c, 0x1000, 0xc0001000, 3), b);
    assert_ptr_equal(cache_lookup(c, 0x1000, 0x00001000, 0), d);
    assert_null(cache_lookup(c, 0x2000, 0xc0001000, 0));
    assert_null(cache_lookup(c, 0x1000, 0xc0001001, 0));
    assert_null(cache_lookup(c, 0x1000, 0xc0001000, 1));

    cache_invalidate(c, a);
    assert_null(cache_lookup(c, 0x1000, 0xc0001000, 0));
    assert_ptr_equal(cache_lookup(c, 0x1000, 0xc0001000, 3), b);

    uint64_t e = cache_epoch(c);
    cache_flush(c);
    assert_int_equal(cache_epoch(c), e + 1);
    assert_null(cache_lookup(c, 0x1000, 0xc0001000, 3));
    assert_null(cache_lookup(c, 0x1000, 0x00001000, 0));
    assert_null(cache_lookup_stale(c, 0x1000, 0xc0001000, 0));
}

/* Enough blocks that every bucket chain has several entries. */
static void test_lookup_many(void **state)
{
    struct code_cache *c = *state;
    enum { N = 20000 };
    struct tb **v = calloc(N, sizeof *v);
    for (uint32_t i = 0; i < N; i++)
        v[i] = emit(c, i * 7, 0x80000000 + i * 7, i % 5, 16);
    for (uint32_t i = 0; i < N; i++)
        assert_ptr_equal(cache_lookup(c, i * 7, 0x80000000 + i * 7, i % 5), v[i]);
    for (uint32_t i = 0; i < N; i += 2)
        cache_invalidate(c, v[i]);
    for (uint32_t i = 0; i < N; i++) {
        struct tb *t = cache_lookup(c, i * 7, 0x80000000 + i * 7, i % 5);
        assert_ptr_equal(t, i % 2 ? v[i] : NULL);
    }
    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.blocks, N);
    assert_int_equal(s.live_blocks, N / 2);
    assert_int_equal(s.invalidations, N / 2);
    free(v);
}

static void test_find_by_host(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x1000, 0x1000, 0, 20);    /* [0, 20), padded to 32 */
    struct tb *b = emit(c, 0x2000, 0x2000, 0, 32);    /* [32, 64), no padding */
    struct tb *d = emit(c, 0x3000, 0x3000, 0, 1);     /* [64, 65) */
    assert_ptr_equal(b->host, a->host + 32);
    assert_ptr_equal(d->host, b->host + 32);

    assert_ptr_equal(cache_find_by_host(c, a->host), a);
    assert_ptr_equal(cache_find_by_host(c, a->host + 19), a);
    assert_null(cache_find_by_host(c, a->host + 20));         /* padding */
    assert_null(cache_find_by_host(c, a->host + 31));
    assert_ptr_equal(cache_find_by_host(c, b->host), b);
    assert_ptr_equal(cache_find_by_host(c, b->host + 31), b);
    assert_ptr_equal(cache_find_by_host(c, d->host), d);
    assert_null(cache_find_by_host(c, d->host + 1));           /* free space */
    assert_null(cache_find_by_host(c, a->host - 1));           /* before the cache */
    assert_null(cache_find_by_host(c, &c));                    /* not code at all */
    assert_null(cache_find_by_host(c, NULL));

    /* An invalidated block's code is still there, and still found. */
    cache_invalidate(c, b);
    assert_ptr_equal(cache_find_by_host(c, b->host + 5), b);
    assert_false(b->valid);

    /* Runtime code is nobody's block. */
    void *rt = cache_alloc_runtime(c, 64, NULL);
    assert_null(cache_find_by_host(c, rt));

    cache_flush(c);
    assert_null(cache_find_by_host(c, a->host));
    assert_null(cache_find_by_host(c, b->host));
    struct tb *e = emit(c, 0x4000, 0x4000, 0, 8);
    assert_ptr_equal(e->host, a->host);
    assert_ptr_equal(cache_find_by_host(c, a->host + 7), e);
    assert_null(cache_find_by_host(c, a->host + 8));
}

static void test_find_by_host_many(void **state)
{
    struct code_cache *c = *state;
    enum { N = 1000 };
    struct tb *v[N];
    for (uint32_t i = 0; i < N; i++)
        v[i] = emit(c, i << 4, i << 4, 0, 1 + (i * 37) % 100);
    for (uint32_t i = 0; i < N; i++) {
        assert_ptr_equal(cache_find_by_host(c, v[i]->host), v[i]);
        assert_ptr_equal(cache_find_by_host(c, v[i]->host + v[i]->host_len - 1), v[i]);
        const uint8_t *after = v[i]->host + v[i]->host_len;
        if (i + 1 < N && after != v[i + 1]->host)
            assert_null(cache_find_by_host(c, after));
    }
}

static void test_pc_lookup(void **state)
{
    struct code_cache *c = *state;
    struct tb *tb = emit(c, 0x1000, 0x1000, 0, 40);
    static struct tb_pcmap map[] = {
        { .host_off = 4, .guest_off = 0 },
        { .host_off = 10, .guest_off = 2 },
        { .host_off = 11, .guest_off = 5, .flags = 2 },
        { .host_off = 30, .guest_off = 7 },
    };
    tb->pcmap = map;
    tb->npcmap = 4;
    assert_null(tb_pc_lookup(tb, tb->host));           /* the entry poll, before row 0 */
    assert_null(tb_pc_lookup(tb, tb->host + 3));
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 4), &map[0]);
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 9), &map[0]);
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 10), &map[1]);
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 11), &map[2]);
    assert_int_equal(tb_pc_lookup(tb, tb->host + 29)->flags, 2);
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 30), &map[3]);
    assert_ptr_equal(tb_pc_lookup(tb, tb->host + 39), &map[3]);
    assert_null(tb_pc_lookup(tb, tb->host + 40));
    assert_null(tb_pc_lookup(tb, tb->host - 1));

    tb->npcmap = 0;
    assert_null(tb_pc_lookup(tb, tb->host + 5));
}

static void test_revalidate(void **state)
{
    struct code_cache *c = *state;
    uint8_t guest[10] = "0123456789";
    assert_true(cache_hash_guest(guest, sizeof guest) == XXH3_64bits(guest, sizeof guest));

    struct tb *a = emit(c, 0x1000, 0x1000, 0, 16);
    a->hash = cache_hash_guest(guest, sizeof guest);
    assert_true(cache_revalidate(c, a, guest));        /* valid: nothing to do */

    /* Data written next to the code: same bytes, the block comes back. */
    assert_int_equal(cache_invalidate_phys(c, 0x1000, 4), 1);
    assert_null(cache_lookup(c, 0x1000, 0x1000, 0));
    assert_ptr_equal(cache_lookup_stale(c, 0x1000, 0x1000, 0), a);
    assert_true(cache_revalidate(c, a, guest));
    assert_true(a->valid);
    assert_ptr_equal(cache_lookup(c, 0x1000, 0x1000, 0), a);
    assert_null(cache_lookup_stale(c, 0x1000, 0x1000, 0));
    assert_int_equal(cache_invalidate_phys(c, 0x1009, 1), 1);   /* on the page lists again */

    /* Changed bytes: dropped for good. */
    guest[3] = 'x';
    assert_false(cache_revalidate(c, a, guest));
    assert_false(a->valid);
    assert_null(cache_lookup_stale(c, 0x1000, 0x1000, 0));
    guest[3] = '3';
    assert_false(cache_revalidate(c, a, guest));
    assert_null(cache_lookup(c, 0x1000, 0x1000, 0));

    /* No guest memory: counts as changed. */
    struct tb *b = emit(c, 0x2000, 0x2000, 0, 16);
    b->hash = cache_hash_guest(guest, sizeof guest);
    cache_invalidate(c, b);
    assert_false(cache_revalidate(c, b, NULL));

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.revalidations, 1);
    assert_int_equal(s.live_blocks, 0);
}

/* A new translation with the same key supersedes the invalidated one. */
static void test_stale_superseded(void **state)
{
    struct code_cache *c = *state;
    uint8_t guest[10] = "abcdefghij";
    struct tb *old = emit(c, 0x1000, 0x1000, 0, 16);
    old->hash = cache_hash_guest(guest, sizeof guest);
    struct tb *other = emit(c, 0x1000, 0x1000, 1, 16);   /* other mode */
    other->hash = old->hash;
    cache_invalidate_phys(c, 0x1000, 1);
    assert_ptr_equal(cache_lookup_stale(c, 0x1000, 0x1000, 0), old);
    assert_ptr_equal(cache_lookup_stale(c, 0x1000, 0x1000, 1), other);

    struct tb *fresh = emit(c, 0x1000, 0x1000, 0, 16);
    assert_null(cache_lookup_stale(c, 0x1000, 0x1000, 0));
    assert_false(cache_revalidate(c, old, guest));
    assert_ptr_equal(cache_lookup(c, 0x1000, 0x1000, 0), fresh);
    assert_ptr_equal(cache_lookup_stale(c, 0x1000, 0x1000, 1), other);
    assert_true(cache_revalidate(c, other, guest));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_by_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_host_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pc_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revalidate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_superseded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
