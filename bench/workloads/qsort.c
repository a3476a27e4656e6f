/* qsort — a generic quicksort (median of three, insertion sort below 12
 * elements) whose every comparison is a call through a function pointer.
 * One unit sorts 2000 random words, then 1000 (key, value) records by key. */
#include "workloads.h"
#include "wl.h"

typedef int (*cmp_fn)(const void *, const void *);

static void swap_bytes(char *a, char *b, size_t size)
{
    while (size--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sort(char *base, size_t n, size_t size, cmp_fn cmp)
{
    while (n > 12) {
        char *lo = base, *hi = base + (n - 1) * size, *mid = base + (n / 2) * size;
        if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
        if (cmp(hi, mid) < 0) {
            swap_bytes(hi, mid, size);
            if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
        }
        swap_bytes(mid, base, size);             /* pivot to the front */
        char *i = base, *j = base + n * size;
        for (;;) {
            do i += size; while (i < base + n * size && cmp(i, base) < 0);
            do j -= size; while (cmp(base, j) < 0);
            if (i >= j) break;
            swap_bytes(i, j, size);
        }
        swap_bytes(base, j, size);
        size_t left = (size_t)(j - base) / size, right = n - left - 1;
        /* recurse into the smaller side, loop on the larger */
        if (left < right) {
            sort(base, left, size, cmp);
            base = j + size;
            n = right;
        } else {
            sort(j + size, right, size, cmp);
            n = left;
        }
    }
    for (size_t k = 1; k < n; k++)
        for (char *p = base + k * size; p > base && cmp(p, p - size) < 0; p -= size)
            swap_bytes(p, p - size, size);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

struct rec { uint16_t key; uint16_t pad; uint32_t value; };

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

#define NWORDS 2000
#define NRECS 1000
static uint32_t words[NWORDS];
static struct rec recs[NRECS];
static cmp_fn volatile comparators[2] = { cmp_u32, cmp_rec };

uint32_t wl_qsort(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT, seed = 12345;
    for (uint32_t unit = 0; unit < scale; unit++) {
        for (int i = 0; i < NWORDS; i++)
            words[i] = wl_rand(&seed);
        for (int i = 0; i < NRECS; i++) {
            recs[i].key = (uint16_t)(wl_rand(&seed) % 500);
            recs[i].pad = 0;
            recs[i].value = wl_rand(&seed);
        }
        sort((char *)words, NWORDS, sizeof words[0], comparators[0]);
        sort((char *)recs, NRECS, sizeof recs[0], comparators[1]);
        uint32_t bad = 0;
        for (int i = 1; i < NWORDS; i++)
            bad += words[i - 1] > words[i];
        for (int i = 1; i < NRECS; i++)
            bad += cmp_rec(&recs[i - 1], &recs[i]) > 0;
        h = wl_mix(h, bad);
        h = wl_mix(h, words[unit % NWORDS]);
        h = wl_mix(h, recs[unit % NRECS].value);
    }
    return h;
}
