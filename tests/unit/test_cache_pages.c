/* Code cache: the physical-page index behind self-modifying-code handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "cache/cache.h"

static int setup(void **state)
{
    char err[200];
    *state = cache_create(1 << 20, 1 << 20, err, sizeof err);
    if (!*state)
        fail_msg("cache_create: %s", err);
    return 0;
}

static int teardown(void **state)
{
    cache_destroy(*state);
    return 0;
}

/* A block of guest_len bytes at phys; a crossing one continues on frame2
 * (TB_NO_FRAME2: the physically next frame). */
static struct tb *emit_split(struct code_cache *c, uint32_t phys, uint32_t len, uint32_t frame2)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    memset(rw, 0xcc, 16);
    cache_commit(c, 16);
    struct tb *tb = cache_new_tb(c);
    assert_non_null(tb);
    *tb = (struct tb){ .phys = phys, .eip = phys, .guest_len = len, .frame2 = frame2, .host = rx };
    cache_insert(c, tb);
    return tb;
}

static struct tb *emit(struct code_cache *c, uint32_t phys, uint32_t guest_len)
{
    return emit_split(c, phys, guest_len, TB_NO_FRAME2);
}

struct seen {
    struct tb *tb[16];
    int n;
};

static void collect(struct tb *tb, void *arg)
{
    struct seen *s = arg;
    assert_true(s->n < 16);
    s->tb[s->n++] = tb;
}

static bool saw(const struct seen *s, const struct tb *tb)
{
    for (int i = 0; i < s->n; i++)
        if (s->tb[i] == tb)
            return true;
    return false;
}

static struct seen on_page(struct code_cache *c, uint32_t page)
{
    struct seen s = { .n = 0 };
    cache_for_page(c, page, collect, &s);
    return s;
}

static void test_block_spanning_two_pages(void **state)
{
    struct code_cache *c = *state;
    struct tb *lo = emit(c, 0x5100, 0x20);         /* page 5 only */
    struct tb *span = emit(c, 0x5ff0, 0x20);       /* pages 5 and 6 */
    struct tb *hi = emit(c, 0x6100, 0x20);         /* page 6 only */

    struct seen p5 = on_page(c, 5), p6 = on_page(c, 6), p7 = on_page(c, 7);
    assert_int_equal(p5.n, 2);
    assert_true(saw(&p5, lo) && saw(&p5, span));
    assert_int_equal(p6.n, 2);
    assert_true(saw(&p6, hi) && saw(&p6, span));
    assert_int_equal(p7.n, 0);

    /* A write to the second page reaches the spanning block. */
    assert_int_equal(cache_invalidate_phys(c, 0x6000, 4), 1);
    assert_false(span->valid);
    assert_true(lo->valid && hi->valid);
    p5 = on_page(c, 5);
    p6 = on_page(c, 6);
    assert_int_equal(p5.n, 1);
    assert_ptr_equal(p5.tb[0], lo);
    assert_int_equal(p6.n, 1);
    assert_ptr_equal(p6.tb[0], hi);

    /* And one to the first page of another spanning block. */
    struct tb *span2 = emit(c, 0x6ffc, 8);
    assert_int_equal(cache_invalidate_phys(c, 0x6ffc, 1), 1);
    assert_false(span2->valid);
    assert_int_equal(on_page(c, 7).n, 0);
    assert_int_equal(on_page(c, 6).n, 1);
}

/* With paging on, a block's second page may map any frame (tb->frame2): the
 * index finds it there, and only there, also when that frame shares the
 * first frame's bucket. */
static void test_block_with_a_distant_second_frame(void **state)
{
    struct code_cache *c = *state;
    struct tb *far = emit_split(c, 0x5ffc, 8, 0x90);            /* bytes on frames 5 and 0x90 */
    struct tb *same = emit_split(c, 0x7ffe, 4, 0x7 + 0x10000);  /* frames 7 and 0x10007: one bucket */

    assert_int_equal(on_page(c, 6).n, 0);                       /* not the next frame */
    assert_int_equal(on_page(c, 0x90).n, 1);
    assert_int_equal(cache_invalidate_phys(c, 0x6000, 0x10), 0);
    assert_int_equal(cache_invalidate_phys(c, 0x90004, 4), 0);  /* past its 4 bytes there */
    assert_int_equal(cache_invalidate_phys(c, 0x90003, 1), 1);
    assert_false(far->valid);
    assert_int_equal(on_page(c, 5).n, 0);

    assert_int_equal(on_page(c, 7).n, 1);
    assert_int_equal(on_page(c, 0x10007).n, 1);
    assert_int_equal(cache_invalidate_phys(c, 0x10007000 + 2, 1), 0);
    assert_int_equal(cache_invalidate_phys(c, 0x10007000 + 1, 1), 1);
    assert_false(same->valid);
    assert_int_equal(on_page(c, 7).n, 0);
}

static void test_range_is_exact(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x1100, 0x10);   /* [0x1100, 0x1110) */
    struct tb *b = emit(c, 0x1110, 0x10);   /* [0x1110, 0x1120) */
    assert_int_equal(cache_invalidate_phys(c, 0x10f0, 0x10), 0);   /* ends just before a */
    assert_int_equal(cache_invalidate_phys(c, 0x1120, 0x100), 0);  /* starts just after b */
    assert_int_equal(cache_invalidate_phys(c, 0x1100, 0), 0);
    assert_int_equal(cache_invalidate_phys(c, 0x110f, 1), 1);      /* a's last byte */
    assert_false(a->valid);
    assert_true(b->valid);
    assert_int_equal(cache_invalidate_phys(c, 0x110f, 1), 0);      /* already gone */
    assert_int_equal(cache_invalidate_phys(c, 0x10ff, 0x12), 1);   /* straddles into b */
    assert_false(b->valid);
}

static void test_many_blocks_on_a_page(void **state)
{
    struct code_cache *c = *state;
    struct tb *v[200];
    for (int i = 0; i < 200; i++)
        v[i] = emit(c, 0x8000 + i * 20, 20);       /* pages 8 and 9 */
    struct tb *other = emit(c, 0xa000, 16);
    assert_int_equal(cache_invalidate_phys(c, 0x8000, 0x2000), 200);
    for (int i = 0; i < 200; i++)
        assert_false(v[i]->valid);
    assert_true(other->valid);
    assert_int_equal(on_page(c, 8).n, 0);
    assert_int_equal(on_page(c, 9).n, 0);
    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.invalidations, 200);
    assert_int_equal(s.live_blocks, 1);
}

/* Frames 2^16 apart share a bucket of the page index; they must not mix. */
static void test_bucket_sharing_frames(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x00003000, 16);
    struct tb *b = emit(c, 0x10003000, 16);
    struct tb *span = emit(c, 0x10002ff8, 16);     /* frames 0x10002 and 0x10003 */
    struct seen s = on_page(c, 0x3);
    assert_int_equal(s.n, 1);
    assert_ptr_equal(s.tb[0], a);
    s = on_page(c, 0x10003);
    assert_int_equal(s.n, 2);
    assert_true(saw(&s, b) && saw(&s, span));
    assert_int_equal(cache_invalidate_phys(c, 0x00003000, 0x1000), 1);
    assert_false(a->valid);
    assert_true(b->valid && span->valid);
    assert_int_equal(cache_invalidate_phys(c, 0x10002000, 0x1000), 1);
    assert_false(span->valid);
    assert_true(b->valid);
}

static void test_huge_range(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x0, 16);
    struct tb *b = emit(c, 0x12345678, 16);
    struct tb *d = emit(c, 0xfffff000, 0xfff);    /* the top of physical space */
    assert_int_equal(on_page(c, 0xfffff).n, 1);
    assert_int_equal(cache_invalidate_phys(c, 0, 0xffffffff), 3);
    assert_false(a->valid || b->valid || d->valid);
}

static void invalidate_it(struct tb *tb, void *arg)
{
    cache_invalidate(arg, tb);
}

/* The callback may invalidate the block it is given. */
static void test_for_page_callback_invalidates(void **state)
{
    struct code_cache *c = *state;
    struct tb *v[5];
    for (int i = 0; i < 5; i++)
        v[i] = emit(c, 0x4000 + i * 0x300, 0x300);  /* the last spills into page 5 */
    cache_for_page(c, 4, invalidate_it, c);
    for (int i = 0; i < 5; i++)
        assert_false(v[i]->valid);
    assert_int_equal(on_page(c, 4).n, 0);
    assert_int_equal(on_page(c, 5).n, 0);
}

static void test_invalidate_leaves_page_lists(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit(c, 0x7ff8, 0x10);
    struct tb *b = emit(c, 0x7000, 0x10);
    cache_invalidate(c, a);
    struct seen s = on_page(c, 7);
    assert_int_equal(s.n, 1);
    assert_ptr_equal(s.tb[0], b);
    assert_int_equal(on_page(c, 8).n, 0);
    cache_flush(c);
    assert_int_equal(on_page(c, 7).n, 0);
    assert_int_equal(cache_invalidate_phys(c, 0x7000, 0x2000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_block_spanning_two_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_with_a_distant_second_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_is_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_blocks_on_a_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bucket_sharing_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_page_callback_invalidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_leaves_page_lists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
