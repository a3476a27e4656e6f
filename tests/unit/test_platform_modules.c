/* QEMU's -initrd module list for Multiboot kernels (boot/modules.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/boot/modules.h"

static int split(const char *spec, char **e, int max, char *err)
{
    return boot_module_list(spec, e, max, err, 128);
}

static void free_all(char **e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i]);
}

static void splits_entries(void **state)
{
    char *e[8], err[128];
    assert_int_equal(split("a.bin arg1,b.bin", e, 8, err), 2);
    assert_string_equal(e[0], "a.bin arg1");
    assert_string_equal(e[1], "b.bin");
    char *p = boot_module_path(e[0]);
    assert_string_equal(p, "a.bin");
    free(p);
    p = boot_module_path(e[1]);
    assert_string_equal(p, "b.bin");
    free(p);
    free_all(e, 2);
    assert_int_equal(split("one", e, 8, err), 1);
    assert_string_equal(e[0], "one");
    free_all(e, 1);
}

/* ",," is a comma inside an entry (QEMU's option syntax). */
static void double_comma_escapes(void **state)
{
    char *e[8], err[128];
    assert_int_equal(split("x,,y.bin a,,b,z", e, 8, err), 2);
    assert_string_equal(e[0], "x,y.bin a,b");
    assert_string_equal(e[1], "z");
    free_all(e, 2);
}

static void refuses_empty_and_too_many(void **state)
{
    char *e[8], err[128];
    assert_int_equal(split("a,", e, 8, err), -1);
    assert_non_null(strstr(err, "module 2 has no file name"));
    assert_int_equal(split(",a", e, 8, err), -1);
    assert_int_equal(split("", e, 8, err), -1);
    assert_int_equal(split(" arg", e, 8, err), -1);
    assert_int_equal(split("a,b,c", e, 2, err), -1);
    assert_non_null(strstr(err, "more than 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_entries),
        cmocka_unit_test(double_comma_escapes),
        cmocka_unit_test(refuses_empty_and_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
