/* file — reading kernel, initrd and module files whole, for the loaders. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Read the regular file at path into a fresh malloc'd buffer (one spare
 * byte past the end, zeroed). `what` names the file in messages ("kernel",
 * "initrd"). A missing file, a directory, a FIFO or a device, a file over
 * max bytes or a short read is -1 with a one-line reason in err. FIFOs and
 * devices are refused without blocking: the file is opened O_NONBLOCK and
 * checked with fstat before any read. */
int boot_read_file(const char *path, const char *what, size_t max, uint8_t **data,
                   size_t *size, char *err, size_t errlen);
