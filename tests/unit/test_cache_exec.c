/* Code cache: real x86-64 code written through the RW view and run through
 * the RX view — W^X, chaining, unchaining on invalidation, runtime code. */
#define _GNU_SOURCE   /* REG_RIP */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <ucontext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"

#define MOV_EAX(v) 0xb8, (v) & 0xff, ((v) >> 8) & 0xff, ((v) >> 16) & 0xff, ((v) >> 24) & 0xff
#define RET 0xc3

static struct code_cache *new_cache(size_t code, size_t meta)
{
    char err[200];
    struct code_cache *c = cache_create(code, meta, err, sizeof err);
    if (!c)
        fail_msg("cache_create: %s", err);
    return c;
}

static int setup(void **state)
{
    *state = new_cache(1 << 20, 1 << 20);
    return 0;
}

static int teardown(void **state)
{
    cache_destroy(*state);
    return 0;
}

/* Emit code as one block with key (phys, phys, 0) and insert it. */
static struct tb *emit(struct code_cache *c, uint32_t phys, const uint8_t *code, size_t n)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    assert_true(avail >= n);
    memcpy(rw, code, n);
    cache_commit(c, n);
    struct tb *tb = cache_new_tb(c);
    assert_non_null(tb);
    tb->phys = tb->eip = phys;
    tb->guest_len = 8;
    tb->host = rx;
    tb->host_len = (uint32_t)n;
    cache_insert(c, tb);
    return tb;
}

/* `mov eax, v; jmp stub; stub: ret` — exit 0 returns v unless chained. */
static struct tb *emit_exit_block(struct code_cache *c, uint32_t phys, uint32_t v)
{
    const uint8_t code[] = { MOV_EAX(v), 0xe9, 0, 0, 0, 0, RET };
    struct tb *tb = emit(c, phys, code, sizeof code);
    tb->exit[0].patch_off = 6;
    tb->exit[0].stub_off = 10;
    tb->exit[0].target_eip = phys + 8;
    return tb;
}

/* `mov eax, v; ret` */
static struct tb *emit_ret_block(struct code_cache *c, uint32_t phys, uint32_t v)
{
    const uint8_t code[] = { MOV_EAX(v), RET };
    return emit(c, phys, code, sizeof code);
}

static int run(const void *host)
{
    int (*fn)(void) = (int (*)(void))(uintptr_t)host;
    return fn();
}

static int run1(const void *host, int arg)
{
    int (*fn)(int) = (int (*)(int))(uintptr_t)host;
    return fn(arg);
}

/* Permissions column of the /proc/self/maps line that contains p. */
static void map_perms(const void *p, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    perms[0] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 &&
            (uintptr_t)p >= lo && (uintptr_t)p < hi) {
            memcpy(perms, pr, 5);
            break;
        }
    }
    fclose(f);
    assert_true(perms[0] != 0);
}

static void test_views_are_wx(void **state)
{
    struct code_cache *c = *state;
    struct tb *tb = emit_ret_block(c, 0x1000, 7);
    uint8_t *rw = cache_rw(c, tb->host);
    assert_non_null(rw);
    assert_ptr_not_equal(rw, tb->host);
    assert_memory_equal(rw, tb->host, tb->host_len);

    char p[5];
    map_perms(tb->host, p);
    assert_string_equal(p, "r-xs");
    map_perms(rw, p);
    assert_string_equal(p, "rw-s");

    /* A store through the RX view must fault. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);   /* CMocka's handler would carry on testing in the child */
        *(volatile uint8_t *)tb->host = 0x90;
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);

    assert_null(cache_rw(c, &st));   /* not in the code area */
}

static void test_runs_and_aligns_blocks(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit_ret_block(c, 0x1000, 11);
    struct tb *b = emit_exit_block(c, 0x2000, 22);
    struct tb *d = emit_ret_block(c, 0x3000, 33);
    assert_int_equal(run(a->host), 11);
    assert_int_equal(run(b->host), 22);
    assert_int_equal(run(d->host), 33);
    assert_int_equal((uintptr_t)a->host % 16, 0);
    assert_int_equal((uintptr_t)b->host % 16, 0);
    assert_int_equal((uintptr_t)d->host % 16, 0);
    assert_ptr_equal(b->host, a->host + 16);
    /* The padding after a block is int3. */
    for (unsigned i = a->host_len; i < 16; i++)
        assert_int_equal(a->host[i], 0xcc);
    assert_true(a->valid && b->valid && d->valid);
    assert_ptr_equal(b->exit[0].from, b);
}

static void test_chain_then_invalidate_target(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit_exit_block(c, 0x1000, 1);
    struct tb *b = emit_ret_block(c, 0x2000, 2);
    assert_int_equal(run(a->host), 1);

    cache_chain(c, &a->exit[0], b);
    assert_ptr_equal(a->exit[0].to, b);
    assert_ptr_equal(b->incoming, &a->exit[0]);
    assert_int_equal(run(a->host), 2);

    cache_invalidate(c, b);
    assert_false(b->valid);
    assert_null(a->exit[0].to);
    assert_null(b->incoming);
    assert_int_equal(run(a->host), 1);

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.chains, 1);
    assert_int_equal(s.unchains, 1);
    assert_int_equal(s.invalidations, 1);
}

static void test_chain_refused(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit_exit_block(c, 0x1000, 1);
    struct tb *b = emit_ret_block(c, 0x2000, 2);

    /* Not chainable: slot 1 has no patch offset. */
    cache_chain(c, &a->exit[1], b);
    assert_null(a->exit[1].to);
    assert_null(b->incoming);

    /* Invalid target. */
    cache_invalidate(c, b);
    cache_chain(c, &a->exit[0], b);
    assert_null(a->exit[0].to);
    assert_int_equal(run(a->host), 1);

    /* Invalid source. */
    struct tb *d = emit_ret_block(c, 0x3000, 3);
    cache_invalidate(c, a);
    cache_chain(c, &a->exit[0], d);
    assert_null(a->exit[0].to);
    assert_null(d->incoming);
}

static void test_rechain_moves_exit(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit_exit_block(c, 0x1000, 1);
    struct tb *b = emit_ret_block(c, 0x2000, 2);
    struct tb *d = emit_ret_block(c, 0x3000, 3);
    cache_chain(c, &a->exit[0], b);
    cache_chain(c, &a->exit[0], b);   /* no-op */
    cache_chain(c, &a->exit[0], d);
    assert_null(b->incoming);
    assert_ptr_equal(d->incoming, &a->exit[0]);
    assert_int_equal(run(a->host), 3);

    cache_unchain(c, &a->exit[0]);
    assert_null(d->incoming);
    assert_int_equal(run(a->host), 1);
    cache_unchain(c, &a->exit[0]);    /* no-op */

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.chains, 2);
    assert_int_equal(s.unchains, 2);
}

/* Several blocks chained into one; one of them also into itself. */
static void test_many_incoming(void **state)
{
    struct code_cache *c = *state;
    struct tb *t = emit_ret_block(c, 0x9000, 9);
    struct tb *src[4];
    for (int i = 0; i < 4; i++) {
        src[i] = emit_exit_block(c, 0x1000 * (i + 1), i + 1);
        cache_chain(c, &src[i]->exit[0], t);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(run(src[i]->host), 9);
    cache_unchain(c, &src[2]->exit[0]);   /* from the middle of the list */
    assert_int_equal(run(src[2]->host), 3);
    assert_int_equal(run(src[1]->host), 9);

    cache_invalidate(c, t);
    for (int i = 0; i < 4; i++) {
        assert_null(src[i]->exit[0].to);
        assert_int_equal(run(src[i]->host), i + 1);
    }

    /* A self loop is undone too (the block is not run: it would spin). */
    struct tb *s = emit_exit_block(c, 0x7000, 7);
    cache_chain(c, &s->exit[0], s);
    assert_ptr_equal(s->incoming, &s->exit[0]);
    cache_invalidate(c, s);
    assert_null(s->incoming);
    assert_null(s->exit[0].to);
    assert_int_equal(run(s->host), 7);
}

/* Invalidating the source re-aims its own exits at its stubs, so its code
 * (still in place, maybe running) no longer reaches the old target. */
static void test_invalidate_source(void **state)
{
    struct code_cache *c = *state;
    struct tb *a = emit_exit_block(c, 0x1000, 1);
    struct tb *b = emit_ret_block(c, 0x2000, 2);
    cache_chain(c, &a->exit[0], b);
    cache_invalidate(c, a);
    assert_null(b->incoming);
    assert_null(a->exit[0].to);
    assert_int_equal(run(a->host), 1);
    cache_invalidate(c, a);           /* twice is harmless */
    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.invalidations, 1);
}

/* `test edi,edi; je stub0; jmp stub1; stub0: mov eax,10; ret; stub1: mov eax,11; ret` */
static void test_conditional_exits(void **state)
{
    struct code_cache *c = *state;
    const uint8_t code[] = {
        0x85, 0xff,
        0x0f, 0x84, 5, 0, 0, 0,
        0xe9, 6, 0, 0, 0,
        MOV_EAX(10), RET,
        MOV_EAX(11), RET,
    };
    struct tb *a = emit(c, 0x1000, code, sizeof code);
    a->exit[0].patch_off = 4;
    a->exit[0].stub_off = 13;
    a->exit[1].patch_off = 9;
    a->exit[1].stub_off = 19;
    struct tb *taken = emit_ret_block(c, 0x2000, 2);
    struct tb *fall = emit_ret_block(c, 0x3000, 3);
    assert_int_equal(run1(a->host, 0), 10);
    assert_int_equal(run1(a->host, 1), 11);

    cache_chain(c, &a->exit[0], taken);
    assert_int_equal(run1(a->host, 0), 2);
    assert_int_equal(run1(a->host, 1), 11);
    cache_chain(c, &a->exit[1], fall);
    assert_int_equal(run1(a->host, 1), 3);

    cache_invalidate(c, taken);
    assert_int_equal(run1(a->host, 0), 10);
    assert_int_equal(run1(a->host, 1), 3);
    assert_ptr_equal(fall->incoming, &a->exit[1]);
}

/* A revalidated block comes back unchained and can be chained again. */
static void test_revalidated_block_chains_again(void **state)
{
    struct code_cache *c = *state;
    const uint8_t guest[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct tb *a = emit_exit_block(c, 0x1000, 1);
    struct tb *b = emit_ret_block(c, 0x2000, 2);
    a->hash = cache_hash_guest(guest, sizeof guest);
    cache_chain(c, &a->exit[0], b);
    cache_invalidate_phys(c, 0x1000, 1);
    assert_false(a->valid);
    assert_true(cache_revalidate(c, a, guest));
    assert_true(a->valid);
    assert_null(a->exit[0].to);
    assert_int_equal(run(a->host), 1);
    cache_chain(c, &a->exit[0], b);
    assert_int_equal(run(a->host), 2);
}

/* The signal path: a fault inside a block, located from the handler. */
static struct {
    struct code_cache *c;
    struct tb *tb;
    const struct tb_pcmap *row;
} fault;

static void on_sigill(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    uint8_t *pc = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    fault.tb = cache_find_by_host(fault.c, pc);
    fault.row = fault.tb ? tb_pc_lookup(fault.tb, pc) : NULL;
    /* As a write fault on the block's own code page would. */
    if (fault.tb)
        cache_invalidate_phys(fault.c, fault.tb->phys, 1);
    uc->uc_mcontext.gregs[REG_RIP] += 2;   /* over the ud2 */
}

static void test_fault_in_block(void **state)
{
    struct code_cache *c = *state;
    emit_ret_block(c, 0x1000, 1);
    /* mov eax,1; ud2; mov eax,2; ret */
    const uint8_t code[] = { MOV_EAX(1), 0x0f, 0x0b, MOV_EAX(2), RET };
    struct tb *tb = emit(c, 0x2000, code, sizeof code);
    static struct tb_pcmap map[] = {
        { .host_off = 0, .guest_off = 0 },
        { .host_off = 5, .guest_off = 5 },
        { .host_off = 7, .guest_off = 7 },
        { .host_off = 12, .guest_off = 12 },
    };
    tb->pcmap = map;
    tb->npcmap = 4;
    emit_ret_block(c, 0x3000, 3);

    struct sigaction sa = { .sa_sigaction = on_sigill, .sa_flags = SA_SIGINFO }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGILL, &sa, &old), 0);
    fault.c = c;
    int r = run(tb->host);
    sigaction(SIGILL, &old, NULL);

    assert_int_equal(r, 2);
    assert_ptr_equal(fault.tb, tb);
    assert_ptr_equal(fault.row, &map[1]);
    assert_false(tb->valid);
    assert_ptr_equal(cache_find_by_host(c, tb->host + 5), tb);   /* still there */
    assert_null(cache_lookup(c, 0x2000, 0x2000, 0));
}

/* `mov eax, v; jmp target` as a block; returns its RX entry. */
static uint8_t *emit_jmp_to(struct code_cache *c, const uint8_t *target, uint32_t v)
{
    uint8_t *rw, *rx;
    size_t avail;
    cache_begin(c, &rw, &rx, &avail);
    const uint8_t code[] = { MOV_EAX(v), 0xe9, 0, 0, 0, 0 };
    assert_true(avail >= sizeof code);
    memcpy(rw, code, sizeof code);
    int32_t rel = (int32_t)(target - (rx + sizeof code));
    memcpy(rw + 6, &rel, 4);
    cache_commit(c, sizeof code);
    struct tb *tb = cache_new_tb(c);
    tb->host = rx;
    cache_insert(c, tb);
    assert_int_equal(tb->host_len, sizeof code);   /* taken from the commits */
    return rx;
}

static const uint8_t add1_ret[] = { 0x83, 0xc0, 0x01, RET };   /* add eax, 1; ret */

static void test_runtime_code(void **state)
{
    struct code_cache *c = *state;
    uint8_t *rw0, *rx0;
    size_t before;
    cache_begin(c, &rw0, &rx0, &before);

    uint8_t *rw;
    uint8_t *rt = cache_alloc_runtime(c, 5, &rw);
    assert_non_null(rt);
    assert_int_equal((uintptr_t)rt % 16, 0);
    assert_ptr_equal(cache_rw(c, rt), rw);
    for (int i = 0; i < 16; i++)
        assert_int_equal(rt[i], 0xcc);
    memcpy(rw, add1_ret, sizeof add1_ret);

    uint8_t *rw1, *rx1;
    size_t after;
    cache_begin(c, &rw1, &rx1, &after);
    assert_int_equal(after, before - 16);
    assert_ptr_equal(rx1, rx0);
    assert_int_equal(run(emit_jmp_to(c, rt, 5)), 6);

    /* More runtime code once blocks exist. */
    uint8_t *rt2 = cache_alloc_runtime(c, 100, &rw);
    assert_non_null(rt2);
    assert_ptr_equal(rt2 + 112, rt);
    memcpy(rw, add1_ret, sizeof add1_ret);

    /* Runtime code outlives a flush, and blocks then fill all space below it. */
    cache_flush(c);
    size_t avail;
    cache_begin(c, &rw1, &rx1, &avail);
    assert_ptr_equal(rx1, rx0);
    assert_int_equal(avail, before - 128);
    memset(rw1, 0x90, avail - 16);
    cache_commit(c, avail - 16);
    uint8_t *last = emit_jmp_to(c, rt, 9);
    assert_ptr_equal(last + 16, rt2);
    assert_int_equal(run(last), 10);
    cache_begin(c, &rw1, &rx1, &avail);
    assert_int_equal(avail, 0);
    assert_null(cache_alloc_runtime(c, 1, NULL));

    struct cache_stats s;
    cache_get_stats(c, &s);
    assert_int_equal(s.runtime_bytes, 128);
}

/* The largest cache: a block at the bottom reaches runtime code at the top. */
static void test_rel32_reach_2gib(void **state)
{
    struct code_cache *c = new_cache((size_t)1 << 31, 1 << 16);
    uint8_t *rw;
    uint8_t *rt = cache_alloc_runtime(c, 16, &rw);
    memcpy(rw, add1_ret, sizeof add1_ret);
    uint8_t *rwb, *rxb;
    size_t avail;
    cache_begin(c, &rwb, &rxb, &avail);
    assert_int_equal(avail, ((size_t)1 << 31) - 16);
    assert_int_equal(run(emit_jmp_to(c, rt, 41)), 42);
    cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_views_are_wx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_and_aligns_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_then_invalidate_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rechain_moves_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_incoming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidate_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revalidated_block_chains_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_in_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_code, setup, teardown),
        cmocka_unit_test(test_rel32_reach_2gib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
