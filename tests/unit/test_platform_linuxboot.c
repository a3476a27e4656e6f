/* The Linux boot protocol loader (boot/linux.c) on synthetic bzImages: the
 * boot_params it builds (setup header, loader fields, e820, command line,
 * initrd placement), the GDT, the payload, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/boot/linux.h"

#define MIB (1024u * 1024u)
#define RAM_SIZE (8 * MIB)
#define SETUP_SECTS 2
#define PAYLOAD_OFF ((SETUP_SECTS + 1) * 512)
#define PAYLOAD 0x3000
#define IMG_SIZE (PAYLOAD_OFF + PAYLOAD)
#define PREF 0x200000u
#define INIT_SIZE 0x200000u

struct fix {
    uint8_t img[IMG_SIZE];
    uint8_t *ram;
    uint8_t initrd[0x1800];
    struct linux_boot lb;
    char err[256];
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* A protocol 2.15 bzImage like Debian's: relocatable, LOADED_HIGH, header
 * ending at 0x26C, one byte past it (0x270) that must not be copied. */
static void make_bzimage(uint8_t *b)
{
    memset(b, 0, IMG_SIZE);
    b[0x1F1] = SETUP_SECTS;
    put32(b + 0x1F4, PAYLOAD / 16);
    put16(b + 0x1FE, 0xAA55);
    b[0x200] = 0xEB;
    b[0x201] = 0x6A;                     /* header ends at 0x202 + 0x6A */
    memcpy(b + 0x202, "HdrS", 4);
    put16(b + 0x206, 0x020F);
    b[0x211] = 0x01;                     /* LOADED_HIGH */
    put32(b + 0x214, 0x100000);          /* code32_start */
    put32(b + 0x22C, 0x7FFFFFFF);        /* initrd_addr_max */
    put32(b + 0x230, 0x200000);          /* kernel_alignment */
    b[0x234] = 1;                        /* relocatable */
    put32(b + 0x238, 0x7FF);             /* cmdline_size */
    put32(b + 0x258, PREF);              /* pref_address */
    put32(b + 0x260, INIT_SIZE);
    b[0x270] = 0x5A;
    for (int i = 0; i < PAYLOAD; i++)
        b[PAYLOAD_OFF + i] = (uint8_t)(i * 7 + 1);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof *f);
    f->ram = calloc(1, RAM_SIZE);
    make_bzimage(f->img);
    for (size_t i = 0; i < sizeof f->initrd; i++)
        f->initrd[i] = (uint8_t)(i ^ 0x33);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    free(f->ram);
    free(f);
    return 0;
}

static int load(struct fix *f, size_t size, size_t ram, const char *cmdline, size_t rd)
{
    return linux_load(f->img, size, f->ram, ram, cmdline, rd ? f->initrd : NULL, rd, &f->lb,
                      f->err, sizeof f->err);
}

static void assert_ram_untouched(struct fix *f)
{
    for (size_t i = 0; i < RAM_SIZE; i += 512)
        if (f->ram[i])
            fail_msg("RAM written at 0x%zx by a refused load", i);
}

static void loads_params(void **state)
{
    struct fix *f = *state;
    assert_int_equal(load(f, IMG_SIZE, RAM_SIZE, "console=ttyS0 quiet", sizeof f->initrd), 0);
    const uint8_t *bp = f->ram + LINUX_PARAMS_ADDR;
    /* Entry state. */
    assert_int_equal(f->lb.entry, 0x100000);
    assert_int_equal(f->lb.esi, LINUX_PARAMS_ADDR);
    /* The payload at code32_start. */
    assert_memory_equal(f->ram + 0x100000, f->img + PAYLOAD_OFF, PAYLOAD);
    /* The setup header is copied up to its end, and nothing after it. */
    assert_memory_equal(bp + 0x202, "HdrS", 4);
    assert_int_equal(get16(bp + 0x206), 0x020F);
    assert_int_equal(get32(bp + 0x260), INIT_SIZE);
    assert_int_equal(bp[0x270], 0);
    assert_int_equal(bp[0x1F1], SETUP_SECTS);
    /* Loader fields. */
    assert_int_equal(bp[0x210], 0xFF);                       /* type_of_loader */
    assert_int_equal(bp[0x211], 0x81);                       /* LOADED_HIGH|CAN_USE_HEAP */
    assert_int_equal(get16(bp + 0x224), 0xFE00);             /* heap_end_ptr */
    assert_int_equal(get32(bp + 0x23C), 0);                  /* hardware_subarch */
    assert_int_equal(get32(bp + 0x228), LINUX_CMDLINE_ADDR);
    assert_string_equal((char *)f->ram + LINUX_CMDLINE_ADDR, "console=ttyS0 quiet");
    /* The initrd: page-aligned at the top of RAM, clear of the kernel. */
    uint32_t rd = get32(bp + 0x218);
    assert_int_equal(get32(bp + 0x21C), sizeof f->initrd);
    assert_int_equal(rd % 4096, 0);
    assert_true(rd + sizeof f->initrd <= RAM_SIZE);
    assert_true(rd + sizeof f->initrd > RAM_SIZE - 4096);
    assert_true(rd >= PREF + INIT_SIZE);
    assert_int_equal(rd, f->lb.initrd_lo);
    assert_memory_equal(f->ram + rd, f->initrd, sizeof f->initrd);
    assert_int_equal(f->lb.kernel_lo, 0x100000);
    assert_int_equal(f->lb.kernel_hi, PREF + INIT_SIZE);
    /* e820: conventional memory, the reserved PC hole to 1 MiB, the rest. */
    assert_int_equal(bp[0x1E8], 3);
    const uint8_t *e = bp + 0x2D0;
    assert_int_equal(get64(e), 0);
    assert_int_equal(get64(e + 8), 0x9FC00);
    assert_int_equal(get32(e + 16), 1);
    assert_int_equal(get64(e + 20), 0x9FC00);
    assert_int_equal(get64(e + 28), 0x100000 - 0x9FC00);
    assert_int_equal(get32(e + 36), 2);
    assert_int_equal(get64(e + 40), 0x100000);
    assert_int_equal(get64(e + 48), RAM_SIZE - 0x100000);
    assert_int_equal(get32(e + 56), 1);
    assert_int_equal(get32(bp + 0x1E0), (RAM_SIZE - MIB) / 1024);   /* alt_mem_k */
    /* GDT: flat __BOOT_CS (execute/read) and __BOOT_DS (read/write). */
    assert_int_equal(f->lb.gdt_base, LINUX_GDT_ADDR);
    assert_true(f->lb.gdt_limit >= LINUX_BOOT_DS + 7);
    const uint8_t *g = f->ram + LINUX_GDT_ADDR;
    assert_int_equal(get64(g + LINUX_BOOT_CS), 0x00CF9B000000FFFFull);
    assert_int_equal(get64(g + LINUX_BOOT_DS), 0x00CF93000000FFFFull);
    assert_int_equal(get64(g), 0);
    /* The loader's low area stays below the EBDA and clear of the kernel. */
    assert_true(LINUX_CMDLINE_ADDR + 0x800 <= LINUX_LOW_LIMIT);
    assert_true(LINUX_GDT_ADDR + 32 <= LINUX_PARAMS_ADDR);
    assert_true(LINUX_PARAMS_ADDR + 4096 <= LINUX_CMDLINE_ADDR);
}

static void no_initrd(void **state)
{
    struct fix *f = *state;
    assert_int_equal(load(f, IMG_SIZE, RAM_SIZE, NULL, 0), 0);
    const uint8_t *bp = f->ram + LINUX_PARAMS_ADDR;
    assert_int_equal(get32(bp + 0x218), 0);
    assert_int_equal(get32(bp + 0x21C), 0);
    assert_string_equal((char *)f->ram + LINUX_CMDLINE_ADDR, "");
}

/* initrd_addr_max is the highest address the initrd may occupy. */
static void initrd_below_addr_max(void **state)
{
    struct fix *f = *state;
    put32(f->img + 0x22C, 0x5FFFFF);
    assert_int_equal(load(f, IMG_SIZE, RAM_SIZE, "", sizeof f->initrd), 0);
    uint32_t rd = get32(f->ram + LINUX_PARAMS_ADDR + 0x218);
    assert_true(rd + sizeof f->initrd <= 0x600000);
    assert_true(rd >= 0x600000 - 0x2000);
    assert_int_equal(rd % 4096, 0);
}

/* A kernel loaded above pref_address decompresses where it was put. */
static void relocatable_above_pref(void **state)
{
    struct fix *f = *state;
    put32(f->img + 0x214, 0x400000);
    assert_int_equal(load(f, IMG_SIZE, RAM_SIZE, "", 0), 0);
    assert_int_equal(f->lb.entry, 0x400000);
    assert_int_equal(f->lb.kernel_hi, 0x400000 + INIT_SIZE);
}

static void refuse(struct fix *f, size_t size, size_t ram, const char *cmdline, size_t rd,
                   const char *what)
{
    assert_int_equal(load(f, size, ram, cmdline, rd), -1);
    if (!strstr(f->err, what))
        fail_msg("error '%s' does not mention '%s'", f->err, what);
    assert_null(strchr(f->err, '\n'));
    assert_ram_untouched(f);
}

static void refuses_truncated(void **state)
{
    struct fix *f = *state;
    refuse(f, IMG_SIZE - 16, RAM_SIZE, "", 0, "truncated");
    refuse(f, 0x300, RAM_SIZE, "", 0, "truncated");
    refuse(f, PAYLOAD_OFF, RAM_SIZE, "", 0, "truncated");
    refuse(f, 0x100, RAM_SIZE, "", 0, "not a Linux bzImage");
}

static void refuses_old_protocol(void **state)
{
    struct fix *f = *state;
    put16(f->img + 0x206, 0x0205);
    refuse(f, IMG_SIZE, RAM_SIZE, "", 0, "2.05 is too old");
}

static void refuses_zimage(void **state)
{
    struct fix *f = *state;
    f->img[0x211] = 0;
    refuse(f, IMG_SIZE, RAM_SIZE, "", 0, "zImage");
}

static void refuses_long_cmdline(void **state)
{
    struct fix *f = *state;
    put32(f->img + 0x238, 10);
    assert_int_equal(load(f, IMG_SIZE, RAM_SIZE, "0123456789", 0), 0);   /* exactly fits */
    memset(f->ram, 0, RAM_SIZE);
    refuse(f, IMG_SIZE, RAM_SIZE, "0123456789a", 0, "at most 10");
}

static void refuses_big_initrd(void **state)
{
    struct fix *f = *state;
    /* 8 MiB of RAM, the kernel up to 4 MiB: 4 MiB is free for the initrd. */
    size_t big = 4 * MIB + 1;
    uint8_t *rd = calloc(1, big);
    assert_int_equal(linux_load(f->img, IMG_SIZE, f->ram, RAM_SIZE, "", rd, big, &f->lb,
                                f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "initrd"));
    assert_ram_untouched(f);
    assert_int_equal(linux_load(f->img, IMG_SIZE, f->ram, RAM_SIZE, "", rd, 4 * MIB, &f->lb,
                                f->err, sizeof f->err), 0);
    free(rd);
}

static void refuses_small_ram(void **state)
{
    struct fix *f = *state;
    refuse(f, IMG_SIZE, PREF + INIT_SIZE - 4096, "", 0, "too small for this kernel");
    refuse(f, IMG_SIZE, MIB, "", 0, "outside 2 MiB to 4 GiB");
}

static void refuses_low_code32(void **state)
{
    struct fix *f = *state;
    put32(f->img + 0x214, 0x10000);
    refuse(f, IMG_SIZE, RAM_SIZE, "", 0, "below 1 MiB");
    make_bzimage(f->img);
    put32(f->img + 0x258, 0x8000);       /* not relocatable, pref_address in the low area */
    f->img[0x234] = 0;
    refuse(f, IMG_SIZE, RAM_SIZE, "", 0, "decompress at 0x8000, below 1 MiB");
}

static void detects_bzimage(void **state)
{
    struct fix *f = *state;
    assert_true(linux_is_bzimage(f->img, IMG_SIZE));
    assert_false(linux_is_bzimage(f->img, 0x205));
    f->img[0x1FE] = 0;
    assert_false(linux_is_bzimage(f->img, IMG_SIZE));
}

/* Every truncation and single-byte corruption of the header: a clean
 * success or a one-line error, never a crash or a write past RAM. */
static void fuzz_header(void **state)
{
    struct fix *f = *state;
    uint8_t copy[IMG_SIZE];
    for (size_t n = 0; n <= IMG_SIZE; n += 61)
        load(f, n, RAM_SIZE, "x", sizeof f->initrd);
    srand(86);
    for (int i = 0; i < 4000; i++) {
        memcpy(copy, f->img, IMG_SIZE);
        copy[0x1F1 + rand() % (0x270 - 0x1F1)] = (uint8_t)rand();
        copy[0x1F1 + rand() % (0x270 - 0x1F1)] = (uint8_t)rand();
        if (linux_load(copy, IMG_SIZE, f->ram, RAM_SIZE, "x", f->initrd, sizeof f->initrd,
                       &f->lb, f->err, sizeof f->err) < 0)
            assert_null(strchr(f->err, '\n'));
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(loads_params), T(no_initrd), T(initrd_below_addr_max), T(relocatable_above_pref),
        T(refuses_truncated), T(refuses_old_protocol), T(refuses_zimage),
        T(refuses_long_cmdline), T(refuses_big_initrd), T(refuses_small_ram),
        T(refuses_low_code32), T(detects_bzimage), T(fuzz_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
