/* modules — QEMU's -initrd list for Multiboot kernels.
 *
 * "a.bin arg1,b.bin": modules separated by commas (",," is a comma inside a
 * name, as in QEMU's option syntax); each entry is the module's string as
 * the kernel sees it, and the file to load is that string up to its first
 * space. */
#pragma once
#include <stddef.h>

/* Split spec into at most max malloc'd entry strings. Returns the count, or
 * -1 with a one-line reason in err (an empty entry, more than max). */
int boot_module_list(const char *spec, char **entries, int max, char *err, size_t errlen);

/* The file name of an entry: a malloc'd copy of entry up to its first space. */
char *boot_module_path(const char *entry);
