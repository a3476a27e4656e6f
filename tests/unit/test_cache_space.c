/* Code cache: running out of code space and metadata, and flushing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "cache/cache.h"

static struct code_cache *new_cache(size_t code, size_t meta)
{
    char err[200];
    struct code_cache *c = cache_create(code, meta, err, sizeof err);
    if (!c)
        fail_msg("cache_create: %s", err);
    return c;
}

static void test_create_errors(void **state)
{
    char err[200] = "";
    assert_null(cache_create(0, 4096, err, sizeof err));
    assert_true(strlen(err) > 0);
    err[0] = 0;
    assert_null(cache_create(((size_t)1 << 31) + 1, 4096, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(cache_create(0, 4096, NULL, 0));
}

static void test_meta_arena(void **state)
{
    struct code_cache *c = new_cache(1 << 16, 4096);
    uint8_t *p = cache_meta_alloc(c, 1);
    uint8_t *q = cache_meta_alloc(c, 17);
    uint8_t *r = cache_meta_alloc(c, 0);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_ptr_equal(q, p + 16);
    assert_ptr_equal(r, q + 32);
    memset(p, 0xab, 64);

    size_t used = 64;
    while (cache_meta_alloc(c, 16))
        used += 16;
    assert_int_equal(used, 4096);
    assert_null(cache_meta_alloc(c, 1));
    assert_null(cache_new_tb(c));
    assert_null(cache_meta_alloc(c, (size_t)-1));

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.meta_bytes, 4096);

    /* After a flush the same memory is handed out again, zeroed. */
    cache_flush(c);
    uint8_t *z = cache_meta_alloc(c, 64);
    assert_ptr_equal(z, p);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    assert_null(cache_meta_alloc(c, 4096));
    cache_destroy(c);
}

static void test_new_tb_is_zeroed(void **state)
{
    struct code_cache *c = new_cache(1 << 16, 1 << 16);
    struct tb *tb = cache_new_tb(c);
    assert_non_null(tb);
    assert_int_equal((uintptr_t)tb % 16, 0);
    static const struct tb zero;
    assert_memory_equal(tb, &zero, sizeof zero);
    memset(tb, 0x5a, sizeof *tb);
    cache_flush(c);
    tb = cache_new_tb(c);
    assert_memory_equal(tb, &zero, sizeof zero);
    cache_destroy(c);
}

static void emit_block(struct code_cache *c, size_t n, uint32_t phys)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    assert_true(avail >= n);
    memset(rw, 0xc3, n);
    cache_commit(c, n);
    struct tb *tb = cache_new_tb(c);
    assert_non_null(tb);
    tb->phys = tb->eip = phys;
    tb->guest_len = 1;
    tb->host = rx;
    cache_insert(c, tb);
}

static size_t avail_now(struct code_cache *c)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    return avail;
}

static void test_code_space_and_flush(void **state)
{
    struct code_cache *c = new_cache(1 << 16, 1 << 20);
    size_t full = avail_now(c);
    assert_int_equal(full, 1 << 16);

    emit_block(c, 100, 0x1000);                 /* 100 bytes, padded to 112 */
    assert_int_equal(avail_now(c), full - 112);
    emit_block(c, 32, 0x2000);                  /* already aligned */
    assert_int_equal(avail_now(c), full - 144);

    uint32_t phys = 0x3000;
    while (avail_now(c) >= 1000)
        emit_block(c, 1000, phys += 0x10);
    size_t left = avail_now(c);
    assert_true(left < 1000);
    emit_block(c, left, 0x9999);                /* exactly the rest */
    assert_int_equal(avail_now(c), 0);

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.code_bytes, 1 << 16);
    uint64_t blocks = s.blocks;
    assert_int_equal(s.live_blocks, blocks);
    uint64_t epoch = cache_epoch(c);

    cache_flush(c);
    assert_int_equal(avail_now(c), full);
    assert_int_equal(cache_epoch(c), epoch + 1);
    assert_null(cache_lookup(c, 0x1000, 0x1000, 0));
    cache_get_stats(c, &s);
    assert_int_equal(s.flushes, 1);
    assert_int_equal(s.code_bytes, 0);
    assert_int_equal(s.meta_bytes, 0);
    assert_int_equal(s.live_blocks, 0);
    assert_int_equal(s.blocks, blocks);         /* a running total */

    cache_flush(c);
    assert_int_equal(cache_epoch(c), epoch + 2);
    cache_destroy(c);
}

/* Runtime code takes its space from the same pool, and keeps it. */
static void test_runtime_space(void **state)
{
    struct code_cache *c = new_cache(1 << 16, 1 << 16);
    assert_non_null(cache_alloc_runtime(c, 4096, NULL));
    assert_int_equal(avail_now(c), (1 << 16) - 4096);
    emit_block(c, 1, 0x1000);
    assert_null(cache_alloc_runtime(c, (1 << 16) - 4096, NULL));   /* the block is in the way */
    assert_non_null(cache_alloc_runtime(c, (1 << 16) - 4096 - 16, NULL));
    assert_int_equal(avail_now(c), 0);
    cache_flush(c);
    assert_int_equal(avail_now(c), 16);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_meta_arena),
        cmocka_unit_test(test_new_tb_is_zeroed),
        cmocka_unit_test(test_code_space_and_flush),
        cmocka_unit_test(test_runtime_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
