/* monitor_migrate — `migrate` and `info migrate` in the HMP, `migrate` and
 * `query-migrate` in QMP, with QEMU's spellings and field names
 * (migration.h does the work). A migration runs in the background in both
 * monitors (QEMU's HMP `migrate -d`); the monitor loop calls
 * mon_migration_step when its wake fd is readable. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "emulator/migration.h"
#include "emulator/monitor_int.h"

bool mon_migrate(struct monitor *m, const char *uri, char *err, size_t errlen)
{
    struct mig_params p = { .downtime_ms = m->mig_downtime_ms, .min_rounds = m->mig_min_rounds };
    struct migration *mg;

    if (m->mig_active) {
        snprintf(err, errlen, "There's a migration process in progress");
        return false;
    }
    if (!(mg = migration_start(m->vm, uri, &p, err, errlen)))
        return false;
    migration_free(m->mig);
    m->mig = mg;
    m->mig_active = true;
    m->postmigrate = false;
    qmp_event(m, "MIGRATION", "{\"status\": \"active\"}");
    return true;
}

void mon_migration_step(struct monitor *m)
{
    enum mig_status st;

    if (!m->mig_active)
        return;
    st = migration_step(m->mig);
    if (st == MIG_ACTIVE)
        return;
    m->mig_active = false;
    if (st == MIG_COMPLETED) {
        mon_stop(m);            /* the guest now runs on the destination */
        m->postmigrate = true;
        qmp_event(m, "MIGRATION", "{\"status\": \"completed\"}");
    } else {
        qmp_event(m, "MIGRATION", "{\"status\": \"failed\"}");
    }
}

void hmp_migrate_cancel(struct monitor *m, const char *args, FILE *out)
{
    (void)args, (void)out;
    if (!m->mig_active)
        return;
    migration_cancel(m->mig);
    m->mig_active = false;
    qmp_event(m, "MIGRATION", "{\"status\": \"cancelled\"}");
}

/* migrate_set_parameter downtime-limit MS (QEMU's name and unit), and
 * bt86's x-min-rounds N (tests: that many pre-copy rounds at least, so
 * re-protection under a running guest is exercised whatever the timing);
 * the other parameters QEMU has (max-bandwidth, ...) are accepted and have
 * no effect here: bt86 never caps the bandwidth. */
void hmp_migrate_set_parameter(struct monitor *m, const char *args, FILE *out)
{
    char name[64];
    unsigned long v;
    int used = 0;

    if (sscanf(args, " %63s %n", name, &used) != 1 || !args[used]) {
        fprintf(out, "migrate_set_parameter: needs a parameter and a value\n");
        return;
    }
    v = strtoul(args + used, NULL, 10);
    if (strcmp(name, "x-min-rounds") == 0) {
        m->mig_min_rounds = v > MIG_MAX_ROUNDS ? MIG_MAX_ROUNDS : (unsigned)v;
        return;
    }
    if (strcmp(name, "downtime-limit") != 0)
        return;
    if (v < 1 || v > 2000000) {
        fprintf(out, "Error: Parameter 'downtime_limit' expects an integer in the range of 1 to 2000000 milliseconds\n");
        return;
    }
    m->mig_downtime_ms = (unsigned)v;
}

/* migrate [-d] URI */
void hmp_migrate(struct monitor *m, const char *args, FILE *out)
{
    char uri[1024], err[300];
    const char *p = args;

    while (*p == ' ' || *p == '\t')
        p++;
    while (p[0] == '-' && (p[1] == 'd' || p[1] == 'b' || p[1] == 'i') && (p[2] == ' ' || p[2] == '\t')) {
        p += 2;                 /* detach (always), block/incremental (no disks to copy) */
        while (*p == ' ' || *p == '\t')
            p++;
    }
    snprintf(uri, sizeof uri, "%s", p);
    for (size_t n = strlen(uri); n && (uri[n - 1] == ' ' || uri[n - 1] == '\t'); n--)
        uri[n - 1] = 0;
    if (uri[0] == '"' && strlen(uri) > 1 && uri[strlen(uri) - 1] == '"') {
        memmove(uri, uri + 1, strlen(uri));
        uri[strlen(uri) - 1] = 0;
    }
    if (!uri[0]) {
        fprintf(out, "migrate: needs a URI (tcp:HOST:PORT, unix:PATH, exec:CMD)\n");
        return;
    }
    if (!mon_migrate(m, uri, err, sizeof err))
        fprintf(out, "Error: %s\n", err);
}

void hmp_info_migrate(struct monitor *m, FILE *out)
{
    struct mig_info in;

    if (!m->mig)
        return;                 /* QEMU prints nothing before the first migration */
    migration_get_info(m->mig, &in);
    fprintf(out, "Migration status: %s\n", mig_status_name(in.status));
    if (in.status == MIG_FAILED)
        fprintf(out, "error description: %s\n", in.error);
    fprintf(out, "total time: %llu ms\n", (unsigned long long)in.total_ms);
    if (in.status == MIG_COMPLETED)
        fprintf(out, "downtime: %llu ms\n", (unsigned long long)in.downtime_ms);
    fprintf(out, "setup: %llu ms\n", (unsigned long long)in.setup_ms);
    fprintf(out, "transferred ram: %llu kbytes\n", (unsigned long long)(in.bytes >> 10));
    fprintf(out, "throughput: %.2f mbps\n", in.mbps);
    fprintf(out, "remaining ram: %llu kbytes\n", (unsigned long long)(in.remaining >> 10));
    fprintf(out, "total ram: %llu kbytes\n", (unsigned long long)(in.ram_total >> 10));
    fprintf(out, "normal: %llu pages\n", (unsigned long long)in.pages_sent);
    fprintf(out, "dirty sync count: %u\n", in.syncs);
    fprintf(out, "rounds: %u\n", in.rounds);
}

void qmp_query_migrate(struct monitor *m, FILE *out)
{
    struct mig_info in;

    if (!m->mig) {
        fputs("{}", out);
        return;
    }
    migration_get_info(m->mig, &in);
    fprintf(out, "{\"status\": \"%s\", \"total-time\": %llu, \"setup-time\": %llu",
            mig_status_name(in.status), (unsigned long long)in.total_ms,
            (unsigned long long)in.setup_ms);
    if (in.status == MIG_COMPLETED)
        fprintf(out, ", \"downtime\": %llu", (unsigned long long)in.downtime_ms);
    fprintf(out, ", \"ram\": {\"transferred\": %llu, \"remaining\": %llu, \"total\": %llu, "
            "\"normal\": %llu, \"normal-bytes\": %llu, \"dirty-sync-count\": %u, \"mbps\": %.3f}, "
            "\"bt86-rounds\": %u",
            (unsigned long long)in.bytes, (unsigned long long)in.remaining,
            (unsigned long long)in.ram_total, (unsigned long long)in.pages_sent,
            (unsigned long long)in.pages_sent << 12, in.syncs, in.mbps, in.rounds);
    if (in.status == MIG_FAILED) {
        fputs(", \"error-desc\": \"", out);
        for (const char *c = in.error; *c; c++)
            fprintf(out, *c == '"' || *c == '\\' ? "\\%c" : (unsigned char)*c < 0x20 ? "\\u%04x" : "%c", *c);
        fputs("\"", out);
    }
    fputs("}", out);
}
