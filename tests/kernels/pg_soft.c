/* pg_soft — a page whose mapping churns (issue #13): its PTE is rewritten
 * again and again through every store form a kernel uses (MOV of the
 * whole entry or of one byte or word, XCHG, LOCK CMPXCHG, LOCK OR/AND,
 * BTS/BTR, ADD/SUB of the frame, REP STOSD, MOVSD), each change followed
 * by INVLPG and by accesses that must see exactly what a fresh walk of
 * the tables says: the frame's contents for loads, the frame written by
 * stores, #PF with the right error code and CR2 where the entry is not
 * present or read-only. bt86 stops mapping such a page in the host after
 * a few changes and performs its accesses in the monitor
 * (shadowmmu/mmu_soft.c), then turns the instructions that touch it into
 * callouts (emulator/adaptive.c); instructions the monitor cannot perform
 * (a string copy, an x87 load) get the page mapped after all; a page
 * that stops churning is mapped again. Every one of those paths must be
 * invisible to the guest. Runs under QEMU too. */
#include "pg_lib.h"

#define SITE   0x50000000u      /* the churning page */
#define NFRAME 4
#define ROUNDS 12               /* changes per store form: > the monitor's 4 */

static uint32_t *pd;
static uint32_t *frame[NFRAME];
static volatile uint32_t *pte;
static uint32_t cur;            /* the frame index the PTE names now */

static uint32_t entry(uint32_t k, uint32_t flags) { return (uint32_t)frame[k] | PG_P | PG_A | flags; }

/* The access sites: one instruction each (not inlined), so that each is
 * one site for adaptive translation. */
static __attribute__((noinline)) uint32_t load_mov(void)
{
    uint32_t v;
    __asm__ volatile("mov (%1), %0" : "=r"(v) : "r"(SITE) : "memory");
    return v;
}

static __attribute__((noinline)) uint32_t load_movzx(void)
{
    uint32_t v;
    __asm__ volatile("movzbl 4(%1), %0" : "=r"(v) : "r"(SITE) : "memory");
    return v;
}

static __attribute__((noinline)) uint32_t load_add(uint32_t v)
{
    __asm__ volatile("add 8(%1), %0" : "+r"(v) : "r"(SITE) : "cc", "memory");
    return v;
}

static __attribute__((noinline)) void store_mov(uint32_t v)
{
    __asm__ volatile("mov %0, 16(%1)" : : "r"(v), "r"(SITE) : "memory");
}

static __attribute__((noinline)) void store_inc(void)
{
    __asm__ volatile("incl 20(%0)" : : "r"(SITE) : "cc", "memory");
}

/* Not performed by the monitor's callouts: the page is mapped for them. */
static __attribute__((noinline)) uint32_t load_string(void)
{
    uint32_t buf[4], d, s, c;
    __asm__ volatile("cld\n\trep movsl" : "=D"(d), "=S"(s), "=c"(c)
                     : "0"(buf), "1"(SITE), "2"(4) : "memory");
    return buf[0] + buf[2];
}

static __attribute__((noinline)) uint32_t load_x87(void)
{
    uint32_t v;
    __asm__ volatile("fildl (%1)\n\tfistpl %0" : "=m"(v) : "r"(SITE) : "memory");
    return v;
}

static uint32_t marker(uint32_t k) { return 0x50f00000u + k * 0x111u; }

/* Everything a fresh walk says about SITE, for frame k present and
 * writable: loads see frame k, stores land in frame k. */
static void check_mapped(uint32_t k, uint32_t tag)
{
    CHECK_EQ(load_mov(), marker(k));
    CHECK_EQ(load_movzx(), k + 1);
    CHECK_EQ(load_add(tag), tag + marker(k) * 3);      /* word 2 */
    store_mov(tag);
    CHECK_EQ(frame[k][4], tag);
    frame[k][5] = tag;
    store_inc();
    CHECK_EQ(frame[k][5], tag + 1);
}

static void check_not_present(void)
{
    TRY_READ(SITE + 12);
    CHECK_PF(0, SITE + 12);
    TRY_WRITE(SITE + 12);
    CHECK_PF(PFE_W, SITE + 12);
}

static void check_read_only(uint32_t k)
{
    CHECK_EQ(load_mov(), marker(k));
    TRY_WRITE(SITE + 12);
    CHECK_PF(PFE_P | PFE_W, SITE + 12);
    CHECK_EQ(frame[k][3], marker(k) * 3);   /* the faulting store wrote nothing */
}

/* One form: ROUNDS changes among the frames, each checked. */
enum form { F_MOV, F_XCHG, F_CMPXCHG, F_MOVW, F_STOS, F_MOVS, F_ADD, F_NFORMS };

static void store_entry(enum form f, uint32_t v)
{
    uint32_t old = *pte, d, c;

    switch (f) {
    case F_MOV:
        __asm__ volatile("movl %1, %0" : "=m"(*pte) : "r"(v) : "memory");
        break;
    case F_XCHG:
        __asm__ volatile("xchg %1, %0" : "+m"(*pte), "+r"(v) : : "memory");
        break;
    case F_CMPXCHG:
        __asm__ volatile("lock cmpxchg %2, %0" : "+m"(*pte), "+a"(old) : "r"(v) : "cc", "memory");
        break;
    case F_MOVW:
        if ((old ^ v) >> 16)
            *pte = v;
        else
            __asm__ volatile("movw %w1, %0" : "=m"(*(volatile uint16_t *)pte) : "r"(v) : "memory");
        break;
    case F_STOS:
        __asm__ volatile("cld\n\trep stosl" : "=D"(d), "=c"(c) : "0"(pte), "1"(1), "a"(v) : "memory");
        break;
    case F_MOVS: {
        uint32_t src = v, s;
        __asm__ volatile("cld\n\tmovsl" : "=D"(d), "=S"(s) : "0"(pte), "1"(&src) : "memory");
        break;
    }
    case F_ADD:
        __asm__ volatile("addl %1, %0" : "+m"(*pte) : "r"(v - old) : "cc", "memory");
        break;
    default:
        break;
    }
}

static void churn_form(enum form f)
{
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t k = (cur + 1 + i % 3) % NFRAME;
        store_entry(f, entry(k, PG_RW | PG_D));
        invlpg((void *)SITE);
        cur = k;
        CHECK_EQ(*pte, entry(k, PG_RW | PG_D));
        check_mapped(k, 0x1000u * f + i);
    }
}

/* Bits of the entry alone: one byte of flags (R/W), LOCK AND/OR, BTR/BTS
 * of P. */
static void churn_bits(void)
{
    for (uint32_t i = 0; i < ROUNDS; i++) {
        __asm__ volatile("andb $~2, %0" : "+m"(*(volatile uint8_t *)pte) : : "cc", "memory");
        invlpg((void *)SITE);
        check_read_only(cur);
        __asm__ volatile("lock orl $2, %0" : "+m"(*pte) : : "cc", "memory");
        invlpg((void *)SITE);
        check_mapped(cur, 0x9000u + i);
        __asm__ volatile("lock btrl $0, %0" : "+m"(*pte) : : "cc", "memory");
        invlpg((void *)SITE);
        check_not_present();
        __asm__ volatile("btsl $0, %0" : "+m"(*pte) : : "cc", "memory");
        invlpg((void *)SITE);
        check_mapped(cur, 0xa000u + i);
        __asm__ volatile("lock andl $~2, %0" : "+m"(*pte) : : "cc", "memory");
        invlpg((void *)SITE);
        check_read_only(cur);
        *pte |= PG_RW;
        invlpg((void *)SITE);
    }
}

/* The forms the monitor does not perform in a callout, on the churning
 * page, while it keeps churning. */
static void churn_hard(void)
{
    for (uint32_t i = 0; i < ROUNDS; i++) {
        uint32_t k = (cur + 1) % NFRAME;
        *pte = entry(k, PG_RW | PG_D);
        invlpg((void *)SITE);
        cur = k;
        CHECK_EQ(load_string(), marker(k) * 4);
        CHECK_EQ(load_x87(), marker(k));
        check_mapped(k, 0xb000u + i);
    }
}

/* It stops churning: many accesses (it is mapped again on the way), then
 * it changes again, and again stops. */
static void quiet_then_churn(void)
{
    uint32_t bad = 0;

    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 600; i++)
            bad += load_mov() != marker(cur);
        for (uint32_t i = 0; i < ROUNDS; i++) {
            cur = (cur + 1) % NFRAME;
            *pte = entry(cur, PG_RW | PG_D);
            invlpg((void *)SITE);
            bad += load_mov() != marker(cur);
        }
    }
    CHECK_EQ(bad, 0);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    sys_init();
    pg_install_pf();
    pd = pg_kernel_pd();
    for (uint32_t k = 0; k < NFRAME; k++) {
        frame[k] = pg_alloc();
        frame[k][0] = marker(k);
        frame[k][1] = k + 1;
        frame[k][2] = marker(k) * 3;
        frame[k][3] = marker(k) * 3;
    }
    pg_map(pd, SITE, (uint32_t)frame[0], PG_RW);
    pte = pg_pte(pd, SITE);
    pg_enable(pd);
    cur = 0;
    check_mapped(0, 1);

    for (enum form f = 0; f < F_NFORMS; f++)
        churn_form(f);
    churn_bits();
    churn_hard();
    quiet_then_churn();
    for (enum form f = 0; f < F_NFORMS; f++)
        churn_form(f);
    test_finish("pg_soft");
}
