#define _GNU_SOURCE
#include "emulator/boot/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int boot_read_file(const char *path, const char *what, size_t max, uint8_t **data,
                   size_t *size, char *err, size_t errlen)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    /* O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        /* QEMU's words ("could not open kernel file"), which test runners match. */
        snprintf(err, errlen, "could not open %s file '%s': %s", what, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s '%s' is not a regular file", what, path);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errlen, "%s '%s' is larger than %zu MiB", what, path, max >> 20);
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read %s '%s'", what, path);
        free(buf);
        return -1;
    }
    buf[got] = 0;
    *data = buf;
    *size = got;
    return 0;
}
