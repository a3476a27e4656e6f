/* options_drive — QEMU's disk options: -drive, -hda..-hdd (options.h).
 *
 * -drive takes QEMU's comma-separated properties; ",," is a literal comma
 * in a value, as in QEMU. bt86 has four IDE hard disks (index 0..3 =
 * primary master, primary slave, secondary master, secondary slave; or
 * bus=0..1 with unit=0..1) of raw images. Only what describes such a disk
 * is accepted; anything else (another format, a CD-ROM, another interface)
 * is one line naming what is unsupported, never silently ignored. */
#include "emulator/options.h"
#include "emulator/hw/disk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int drive_fail(char *err, size_t errlen, const char *spec, const char *fmt, const char *a)
{
    char what[160];
    snprintf(what, sizeof what, fmt, a);
    snprintf(err, errlen, "-drive %s: %s", spec, what);
    return -1;
}

/* Next value up to an unescaped comma, ",," unescaped into out. */
static const char *take_value(const char *s, char *out, size_t outlen, bool *too_long)
{
    size_t n = 0;
    *too_long = false;
    while (*s && !(s[0] == ',' && s[1] != ',')) {
        char c = *s;
        s += (s[0] == ',' ? 2 : 1);
        if (n + 1 < outlen)
            out[n++] = c;
        else
            *too_long = true;
    }
    out[n] = 0;
    return s;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return 0;
    }
    return -1;
}

static int parse_small(const char *v, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 0 || n > max)
        return -1;
    *out = n;
    return 0;
}

int options_drive(struct options *o, const char *spec, int forced_index, char *err, size_t errlen)
{
    struct drive_opt d = { .spec = spec };
    long index = forced_index, bus = -1, unit = -1;
    char key[32], val[sizeof d.file];
    bool too_long;

    for (const char *s = spec; *s;) {
        size_t kl = strcspn(s, "=,");
        if (s[kl] != '=') {
            /* QEMU takes a bare first word as file=...; be explicit instead. */
            snprintf(key, sizeof key, "%.*s", (int)(kl < 31 ? kl : 31), s);
            return drive_fail(err, errlen, spec, "expected property=value, got '%s'", key);
        }
        snprintf(key, sizeof key, "%.*s", (int)(kl < 31 ? kl : 31), s);
        s = take_value(s + kl + 1, val, sizeof val, &too_long);
        if (*s == ',')
            s++;
        if (too_long)
            return drive_fail(err, errlen, spec, "value of '%s' too long", key);
        if (!strcmp(key, "file")) {
            if (!val[0])
                return drive_fail(err, errlen, spec, "%sempty file name", "");
            memcpy(d.file, val, sizeof d.file);
        } else if (!strcmp(key, "index")) {
            if (parse_small(val, 3, &index) < 0)
                return drive_fail(err, errlen, spec,
                                  "index '%s': bt86 has four IDE disks, index 0 to 3", val);
        } else if (!strcmp(key, "bus")) {
            if (parse_small(val, 1, &bus) < 0)
                return drive_fail(err, errlen, spec, "bus '%s': IDE buses are 0 and 1", val);
        } else if (!strcmp(key, "unit")) {
            if (parse_small(val, 1, &unit) < 0)
                return drive_fail(err, errlen, spec, "unit '%s': IDE units are 0 and 1", val);
        } else if (!strcmp(key, "format")) {
            if (strcmp(val, "raw") != 0)
                return drive_fail(err, errlen, spec,
                                  "image format '%s' is not supported (bt86 reads raw images)", val);
            d.format_raw = true;
        } else if (!strcmp(key, "media")) {
            if (strcmp(val, "disk") != 0)
                return drive_fail(err, errlen, spec,
                                  "media '%s' is not supported (bt86 has hard disks only)", val);
        } else if (!strcmp(key, "if")) {
            if (strcmp(val, "ide") != 0)
                return drive_fail(err, errlen, spec,
                                  "interface '%s' is not supported (bt86 has IDE only)", val);
        } else if (!strcmp(key, "readonly") || !strcmp(key, "read-only")) {
            if (parse_bool(val, &d.readonly) < 0)
                return drive_fail(err, errlen, spec, "readonly '%s': expected on or off", val);
        } else if (!strcmp(key, "snapshot")) {
            if (parse_bool(val, &d.snapshot) < 0)
                return drive_fail(err, errlen, spec, "snapshot '%s': expected on or off", val);
        } else if (!strcmp(key, "cache") || !strcmp(key, "id") || !strcmp(key, "aio")) {
            /* host-side tuning and names: nothing the guest can see */
        } else {
            return drive_fail(err, errlen, spec,
                              "unknown property '%s' (file, index, bus, unit, format, media, "
                              "if, readonly, snapshot)", key);
        }
    }
    if (!d.file[0])
        return drive_fail(err, errlen, spec, "%sno file= given (bt86 has no empty drives)", "");
    if (bus >= 0 || unit >= 0) {
        long i = (bus < 0 ? 0 : bus) * 2 + (unit < 0 ? 0 : unit);
        if (index >= 0 && index != i)
            return drive_fail(err, errlen, spec, "%sindex contradicts bus and unit", "");
        index = i;
    }
    if (index < 0) {                       /* QEMU: the first free index */
        for (index = 0; index < OPT_DRIVES && o->drive[index].file[0]; index++)
            ;
        if (index == OPT_DRIVES)
            return drive_fail(err, errlen, spec, "%sall four IDE drives are taken", "");
    }
    if (o->drive[index].file[0]) {
        char n[8];
        snprintf(n, sizeof n, "%ld", index);
        return drive_fail(err, errlen, spec, "drive index %s is already in use", n);
    }
    o->drive[index] = d;
    return 0;
}

int options_open_drives(const struct options *o, struct disk *out[OPT_DRIVES], char *err,
                        size_t errlen)
{
    for (int i = 0; i < OPT_DRIVES; i++)
        out[i] = NULL;
    for (int i = 0; i < OPT_DRIVES; i++) {
        const struct drive_opt *d = &o->drive[i];
        char why[1200], what[1100];
        if (!d->file[0])
            continue;
        if (d->hd)
            snprintf(what, sizeof what, "-hd%c %s", d->hd, d->spec);
        else
            snprintf(what, sizeof what, "-drive %s", d->spec);
        out[i] = disk_open_file(d->file, d->readonly, d->snapshot || o->snapshot, why, sizeof why);
        if (out[i] && !d->format_raw && disk_is_qcow2(out[i]))
            snprintf(why, sizeof why, "'%s' is a qcow2 image; bt86 reads raw images only "
                     "(qemu-img convert -O raw)", d->file);
        if (!out[i] || (!d->format_raw && disk_is_qcow2(out[i]))) {
            snprintf(err, errlen, "%s: %s", what, why);
            for (int j = 0; j <= i; j++) {
                disk_close(out[j]);
                out[j] = NULL;
            }
            return -1;
        }
    }
    return 0;
}
