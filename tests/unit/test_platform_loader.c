/* The Multiboot loader: ELF32 and a.out-kludge images built here, the
 * information structure it writes, its refusals, and a fuzz run over
 * truncated and corrupted images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/boot/loader.h"

#define MIB (1024u * 1024u)
#define RAM_SIZE (4 * MIB)
#define IMG_SIZE 0x2000
#define MB_MAGIC 0x1BADB002u

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put_mb_header(uint8_t *p, uint32_t flags)
{
    put32(p, MB_MAGIC);
    put32(p + 4, flags);
    put32(p + 8, 0u - MB_MAGIC - flags);
}

/* An ELF32 executable: one PT_LOAD (file 0x1000..0x2000, 0x3000 in memory),
 * one PT_NOTE to skip. The Multiboot header opens the segment; code bytes
 * 0x00 0x01 ... follow it. */
static void make_elf(uint8_t *b, uint32_t paddr, uint32_t vaddr, uint32_t entry)
{
    memset(b, 0, IMG_SIZE);
    memcpy(b, "\x7f" "ELF\x01\x01\x01", 7);
    put16(b + 16, 2);            /* ET_EXEC */
    put16(b + 18, 3);            /* EM_386 */
    put32(b + 20, 1);
    put32(b + 24, entry);
    put32(b + 28, 52);           /* e_phoff */
    put16(b + 40, 52);
    put16(b + 42, 32);
    put16(b + 44, 2);
    uint8_t *ph = b + 52;
    put32(ph, 1);                /* PT_LOAD */
    put32(ph + 4, 0x1000);
    put32(ph + 8, vaddr);
    put32(ph + 12, paddr);
    put32(ph + 16, 0x1000);
    put32(ph + 20, 0x3000);
    put32(ph + 24, 5);
    put32(ph + 28, 0x1000);
    put32(ph + 32, 4);           /* PT_NOTE */
    put32(ph + 36, 0x10);
    put32(ph + 48, 0x10);
    put_mb_header(b + 0x1000, 0x3);
    for (int i = 12; i < 0x1000; i++)
        b[0x1000 + i] = (uint8_t)i;
}

/* A flat binary with the address fields (flag 16): header at file offset
 * 0x40, loaded at 0x100000 with bss to 0x105000, entry 0x100080. */
static void make_aout(uint8_t *b)
{
    memset(b, 0, IMG_SIZE);
    for (int i = 0; i < IMG_SIZE; i++)
        b[i] = (uint8_t)(i * 7);
    uint8_t *h = b + 0x40;
    put_mb_header(h, 0x10003);
    put32(h + 12, 0x100040);     /* header_addr */
    put32(h + 16, 0x100000);     /* load_addr */
    put32(h + 20, 0);            /* load_end_addr: whole file */
    put32(h + 24, 0x105000);     /* bss_end_addr */
    put32(h + 28, 0x100080);     /* entry_addr */
}

struct fixture {
    uint8_t *ram;
    uint8_t img[IMG_SIZE];
    char err[200];
    struct boot_info bi;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->ram = malloc(RAM_SIZE);
    memset(f->ram, 0xCC, RAM_SIZE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->ram);
    free(f);
    return 0;
}

static int load(struct fixture *f, const char *cmdline)
{
    f->err[0] = 0;
    return multiboot_load(f->img, IMG_SIZE, f->ram, RAM_SIZE, cmdline, &f->bi, f->err,
                          sizeof f->err);
}

static void expect_error(struct fixture *f, const char *fragment)
{
    assert_int_equal(load(f, ""), -1);
    if (!strstr(f->err, fragment))
        fail_msg("error '%s' does not mention '%s'", f->err, fragment);
    assert_null(strchr(f->err, '\n'));
    for (uint32_t a = 0x9000; a < 0x9100; a++)        /* nothing written */
        assert_int_equal(f->ram[a], 0xCC);
    assert_int_equal(f->ram[0x100000], 0xCC);
}

/* A kernel linked below 1 MiB over the low information area: the
 * information moves after the kernel (and its modules), as QEMU places it,
 * and the kernel's bytes stay as loaded. */
static void info_moves_past_a_low_kernel(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x8000, 0x8000, 0x8000);
    assert_int_equal(load(f, "low kernel"), 0);
    assert_int_equal(f->bi.kernel_lo, 0x8000);
    assert_int_equal(f->bi.kernel_hi, 0xB000);
    assert_memory_equal(f->ram + 0x8000, f->img + 0x1000, 0x1000);
    for (uint32_t a = 0x9000; a < 0xB000; a++)                /* bss, not the info */
        assert_int_equal(f->ram[a], 0);
    assert_int_equal(f->bi.ebx, 0x100000);                     /* 1 MiB: after everything */
    assert_int_equal(get32(f->ram + f->bi.ebx) & (1u << 2), 1u << 2);   /* CMDLINE */
    assert_string_equal((const char *)f->ram + get32(f->ram + f->bi.ebx + 16), "low kernel");
}

static void elf_loads_at_paddr(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    assert_int_equal(load(f, "/boot/kernel console=ttyS0"), 0);
    assert_int_equal(f->bi.entry, 0x100020);
    assert_int_equal(f->bi.eax, 0x2BADB002);
    assert_int_equal(f->bi.ebx, MB_INFO_ADDR);
    assert_int_equal(f->bi.kernel_lo, 0x100000);
    assert_int_equal(f->bi.kernel_hi, 0x103000);
    assert_memory_equal(f->ram + 0x100000, f->img + 0x1000, 0x1000);
    for (uint32_t a = 0x101000; a < 0x103000; a++)
        assert_int_equal(f->ram[a], 0);
    assert_int_equal(f->ram[0x103000], 0xCC);
}

static void info_structure(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    assert_int_equal(load(f, "hello world"), 0);
    const uint8_t *mbi = f->ram + f->bi.ebx;
    assert_int_equal(get32(mbi), 1 | 4 | 64 | 512);   /* MEM CMDLINE MMAP LOADER_NAME */
    assert_int_equal(get32(mbi + 4), 639);
    assert_int_equal(get32(mbi + 8), (RAM_SIZE - MIB) / 1024);
    assert_string_equal((const char *)f->ram + get32(mbi + 16), "hello world");
    assert_string_equal((const char *)f->ram + get32(mbi + 64), "bt86");
    assert_int_equal(get32(mbi + 20), 0);              /* no modules */
    uint32_t len = get32(mbi + 44), addr = get32(mbi + 48);
    assert_int_equal(len, 72);
    static const uint64_t want[3][3] = {
        { 0, 0x9FC00, 1 }, { 0x9FC00, 0x100000 - 0x9FC00, 2 }, { 0x100000, RAM_SIZE - MIB, 1 },
    };
    for (int i = 0; i < 3; i++) {
        const uint8_t *e = f->ram + addr + 24 * i;
        assert_int_equal(get32(e), 20);
        assert_int_equal(get64(e + 4), want[i][0]);
        assert_int_equal(get64(e + 12), want[i][1]);
        assert_int_equal(get32(e + 20), want[i][2]);
    }
    assert_true(addr + len <= MB_INFO_LIMIT);
    assert_int_equal(load(f, NULL), 0);
    assert_string_equal((const char *)f->ram + get32(mbi + 16), "");
}

static void elf_higher_half_entry_translated(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0xC0100000, 0xC0100020);
    assert_int_equal(load(f, ""), 0);
    assert_int_equal(f->bi.entry, 0x100020);
    assert_int_equal(f->bi.kernel_lo, 0x100000);
    /* An entry already physical (outside the segment's link range) stays. */
    make_elf(f->img, 0x100000, 0xC0100000, 0x100040);
    assert_int_equal(load(f, ""), 0);
    assert_int_equal(f->bi.entry, 0x100040);
}

static void aout_kludge(void **state)
{
    struct fixture *f = *state;
    make_aout(f->img);
    assert_int_equal(load(f, ""), 0);
    assert_int_equal(f->bi.entry, 0x100080);
    assert_int_equal(f->bi.kernel_lo, 0x100000);
    assert_int_equal(f->bi.kernel_hi, 0x105000);
    assert_memory_equal(f->ram + 0x100000, f->img, IMG_SIZE);
    for (uint32_t a = 0x100000 + IMG_SIZE; a < 0x105000; a++)
        assert_int_equal(f->ram[a], 0);
    assert_int_equal(f->ram[0x105000], 0xCC);

    /* load_end_addr cuts the file; header_addr past load_addr skips a prefix. */
    memset(f->ram, 0xCC, RAM_SIZE);
    put32(f->img + 0x40 + 12, 0x200010);
    put32(f->img + 0x40 + 16, 0x200000);
    put32(f->img + 0x40 + 20, 0x200100);
    put32(f->img + 0x40 + 24, 0);
    put32(f->img + 0x40 + 28, 0x200000);
    assert_int_equal(load(f, ""), 0);
    assert_memory_equal(f->ram + 0x200000, f->img + 0x30, 0x100);
    assert_int_equal(f->ram[0x200100], 0xCC);
    assert_int_equal(f->bi.kernel_hi, 0x200100);
}

static void aout_kludge_wins_over_elf(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    uint8_t *h = f->img + 0x1000;
    put_mb_header(h, 0x10000);
    put32(h + 12, 0x300000);
    put32(h + 16, 0x300000);
    put32(h + 20, 0);
    put32(h + 24, 0);
    put32(h + 28, 0x300000);
    assert_int_equal(load(f, ""), 0);
    assert_int_equal(f->bi.entry, 0x300000);
    assert_memory_equal(f->ram + 0x300000, f->img + 0x1000, 0x1000);
}

static void modules(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    static const uint8_t one[5] = "abcde", two[0x1800] = { 1, 2, 3 };
    struct multiboot_module mods[2] = {
        { one, sizeof one, "initrd" }, { two, sizeof two, NULL },
    };
    assert_int_equal(multiboot_load_modules(f->img, IMG_SIZE, f->ram, RAM_SIZE, "k", mods, 2,
                                            &f->bi, f->err, sizeof f->err), 0);
    const uint8_t *mbi = f->ram + f->bi.ebx;
    assert_int_equal(get32(mbi) & 8, 8);
    assert_int_equal(get32(mbi + 20), 2);
    const uint8_t *m = f->ram + get32(mbi + 24);
    assert_int_equal(get32(m), 0x103000);
    assert_int_equal(get32(m + 4), 0x103005);
    assert_string_equal((const char *)f->ram + get32(m + 8), "initrd");
    assert_int_equal(get32(m + 16), 0x104000);
    assert_int_equal(get32(m + 20), 0x105800);
    assert_string_equal((const char *)f->ram + get32(m + 24), "");
    assert_memory_equal(f->ram + 0x103000, one, sizeof one);
    assert_memory_equal(f->ram + 0x104000, two, sizeof two);

    struct multiboot_module big = { two, RAM_SIZE, "big" };
    assert_int_equal(multiboot_load_modules(f->img, IMG_SIZE, f->ram, RAM_SIZE, "k", &big, 1,
                                            &f->bi, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "module 1"));
}

static void refusals_header(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(f->img + 0x1008, 0);                        /* bad checksum */
    expect_error(f, "no valid header");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put_mb_header(f->img + 0x1000, 0x0B);             /* bit 3: unknown requirement */
    expect_error(f, "flags 0xb");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    f->img[0] = 0;                                    /* not ELF, no flag 16 */
    expect_error(f, "not an ELF32 file");
    memset(f->img, 0, IMG_SIZE);
    memcpy(f->img + 0x202, "HdrS", 4);
    expect_error(f, "bzImage");
    /* A header past the first 8192 bytes is not found. */
    uint8_t *big = calloc(1, 0x3000);
    put_mb_header(big + 0x2000, 0x10000);
    assert_int_equal(multiboot_load(big, 0x3000, f->ram, RAM_SIZE, "", &f->bi, f->err,
                                    sizeof f->err), -1);
    memset(big + 0x2000, 0, 12);
    put_mb_header(big + 0x1FF4, 0x10000);             /* last slot that fits */
    put32(big + 0x1FF4 + 12, 0x101FF4);
    put32(big + 0x1FF4 + 16, 0x100000);
    put32(big + 0x1FF4 + 28, 0x100000);
    int r = multiboot_load(big, 0x3000, f->ram, RAM_SIZE, "", &f->bi, f->err, sizeof f->err);
    if (r != 0)
        fail_msg("%s", f->err);
    free(big);
}

static void refusals_elf(void **state)
{
    struct fixture *f = *state;
    uint8_t *ph = f->img + 52;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    f->img[4] = 2;
    expect_error(f, "not 32-bit");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put16(f->img + 18, 62);
    expect_error(f, "not for i386");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put16(f->img + 16, 3);
    expect_error(f, "not an executable");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(f->img + 28, IMG_SIZE - 40);
    expect_error(f, "program headers");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put16(f->img + 44, 0);
    expect_error(f, "program header table");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(ph, 6);
    expect_error(f, "no loadable segments");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(ph + 16, 0x4000);
    expect_error(f, "exceeds memory size");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(ph + 4, 0x1800);
    expect_error(f, "past the end of the file");
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    put32(ph + 4, 0xFFFFF000);
    expect_error(f, "past the end of the file");
    make_elf(f->img, RAM_SIZE - 0x2000, RAM_SIZE - 0x2000, RAM_SIZE - 0x2000);
    expect_error(f, "outside guest RAM (4 MiB)");
    make_elf(f->img, 0xFFFFF000, 0xFFFFF000, 0x100000);
    expect_error(f, "outside guest RAM");
    make_elf(f->img, 0x100000, 0x100000, 0x500000);
    expect_error(f, "entry point 0x500000 outside guest RAM");
}

static void refusals_aout(void **state)
{
    struct fixture *f = *state;
    uint8_t *h = f->img + 0x40;
    make_aout(f->img);
    put32(h + 12, 0x0FFFFF);                          /* header_addr < load_addr */
    expect_error(f, "before the start of the file");
    make_aout(f->img);
    put32(h + 16, 0x100000 - 0x100);                  /* would start before the file */
    expect_error(f, "before the start of the file");
    make_aout(f->img);
    put32(h + 20, 0x100000 + IMG_SIZE + 1);
    expect_error(f, "past the end of the file");
    make_aout(f->img);
    put32(h + 20, 0xFFFFF);
    expect_error(f, "below load_addr");
    make_aout(f->img);
    put32(h + 24, 0x100010);
    expect_error(f, "bss_end_addr");
    make_aout(f->img);
    put32(h + 24, RAM_SIZE + 1);
    expect_error(f, "outside guest RAM");
    assert_int_equal(multiboot_load(f->img, 0x50, f->ram, RAM_SIZE, "", &f->bi, f->err,
                                    sizeof f->err), -1);
    assert_non_null(strstr(f->err, "truncated"));
}

static void refusals_environment(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    assert_int_equal(multiboot_load(f->img, IMG_SIZE, f->ram, MIB / 2, "", &f->bi, f->err,
                                    sizeof f->err), -1);
    assert_non_null(strstr(f->err, "1 MiB to 4 GiB"));
    size_t n = MB_INFO_LIMIT - MB_INFO_ADDR;
    char *huge = malloc(n + 1);
    memset(huge, 'a', n);
    huge[n] = 0;
    assert_int_equal(load(f, huge), -1);
    assert_non_null(strstr(f->err, "too long"));
    free(huge);
    char tiny[8];
    assert_int_equal(multiboot_load(f->img, 10, f->ram, RAM_SIZE, "", &f->bi, tiny,
                                    sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);  /* truncated, terminated */
    assert_int_equal(multiboot_load(f->img, 10, f->ram, RAM_SIZE, "", &f->bi, NULL, 0), -1);
}

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Every outcome must be a clean accept or a one-line refusal; an accepted
 * kernel must lie inside RAM. Exact-size heap copies let ASan see over-reads. */
static void check_one(struct fixture *f, const uint8_t *img, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, img, size);
    f->err[0] = 0;
    int r = multiboot_load(copy, size, f->ram, 2 * MIB, "fuzz", &f->bi, f->err, sizeof f->err);
    free(copy);
    if (r == 0) {
        assert_true(f->bi.entry < 2 * MIB);
        assert_true(f->bi.kernel_lo <= f->bi.kernel_hi);
        assert_true(f->bi.kernel_hi <= 2 * MIB);
    } else {
        assert_int_equal(r, -1);
        assert_true(f->err[0] != 0);
        assert_null(strchr(f->err, '\n'));
    }
}

static void fuzz_truncated(void **state)
{
    struct fixture *f = *state;
    make_elf(f->img, 0x100000, 0x100000, 0x100020);
    for (size_t n = 0; n <= IMG_SIZE; n++)
        check_one(f, f->img, n);
    make_aout(f->img);
    for (size_t n = 0; n <= IMG_SIZE; n++)
        check_one(f, f->img, n);
}

static void fuzz_corrupted(void **state)
{
    struct fixture *f = *state;
    uint32_t seed = 0x12345678;
    uint8_t img[IMG_SIZE];
    for (int iter = 0; iter < 20000; iter++) {
        if (iter & 1)
            make_aout(img);
        else
            make_elf(img, 0x100000, 0xC0100000, 0xC0100020);
        /* Mutate the bytes that matter most: the ELF header and program
         * headers, and the Multiboot header. */
        int flips = 1 + xorshift(&seed) % 6;
        for (int i = 0; i < flips; i++) {
            uint32_t r = xorshift(&seed);
            size_t at = (r & 1) ? (r >> 8) % 128 : ((iter & 1) ? 0x40 : 0x1000) + (r >> 8) % 32;
            img[at] = (r >> 1 & 3) == 0 ? 0xFF : (uint8_t)(r >> 16);
        }
        /* Re-seal the checksum half the time, so the deeper checks run. */
        if (xorshift(&seed) & 1) {
            uint8_t *h = img + ((iter & 1) ? 0x40 : 0x1000);
            put32(h, MB_MAGIC);
            put32(h + 8, 0u - MB_MAGIC - get32(h + 4));
        }
        check_one(f, img, IMG_SIZE);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(elf_loads_at_paddr), T(info_moves_past_a_low_kernel), T(info_structure), T(elf_higher_half_entry_translated),
        T(aout_kludge), T(aout_kludge_wins_over_elf), T(modules), T(refusals_header),
        T(refusals_elf), T(refusals_aout), T(refusals_environment), T(fuzz_truncated),
        T(fuzz_corrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
