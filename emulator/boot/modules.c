#define _GNU_SOURCE
#include "emulator/boot/modules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int boot_module_list(const char *spec, char **entries, int max, char *err, size_t errlen)
{
    int n = 0;
    const char *s = spec;
    for (;;) {
        size_t len = strlen(s) + 1;
        char *e = malloc(len), *d = e;
        if (!e) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (; *s && !(s[0] == ',' && s[1] != ','); s++) {
            if (s[0] == ',')
                s++;              /* ",," */
            *d++ = *s;
        }
        *d = 0;
        if (!e[0] || e[0] == ' ') {
            snprintf(err, errlen, "-initrd '%s': module %d has no file name", spec, n + 1);
            free(e);
            goto fail;
        }
        if (n == max) {
            snprintf(err, errlen, "-initrd '%s': more than %d modules", spec, max);
            free(e);
            goto fail;
        }
        entries[n++] = e;
        if (!*s)
            return n;
        s++;                      /* the separating comma */
    }
fail:
    while (n > 0)
        free(entries[--n]);
    return -1;
}

char *boot_module_path(const char *entry)
{
    return strndup(entry, strcspn(entry, " "));
}
