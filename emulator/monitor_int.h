/* monitor_int — what the monitor's parts share: the connections (monitor.c),
 * the HMP commands (monitor_hmp.c, monitor_info.c) and QMP (qmp.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "emulator/vm.h"

#define MON_LINE_MAX 8192

/* One client: a socket, or stdin/stdout. */
struct mon_client {
    int fd_in, fd_out;          /* -1: not connected */
    bool qmp;
    bool caps;                  /* QMP: qmp_capabilities done */
    bool overflow;              /* the current input line/object is too long: dropped */
    size_t len;
    char buf[MON_LINE_MAX];
};

struct monitor {
    struct vm *vm;
    bool running;               /* the guest runs (else stopped by 'stop' or -S) */
    bool quit;                  /* 'quit': end the run */
    bool reset;                 /* 'system_reset': end the run as a guest reset */
    struct mon_client *qmp;     /* the QMP client for events, or NULL */
    struct migration *mig;      /* the last migration started here, or NULL */
    bool mig_active;            /* ...and it is in progress */
    bool postmigrate;           /* stopped because a migration completed */
    unsigned mig_downtime_ms;   /* migrate_set_parameter downtime-limit (0: the default) */
    unsigned mig_min_rounds;    /* migrate_set_parameter x-min-rounds (testing) */
};

/* Send bytes to a client (dropped if it went away). */
void mon_send(struct mon_client *c, const char *s, size_t n);
/* stop / cont, with their QMP events. */
void mon_stop(struct monitor *m);
void mon_cont(struct monitor *m);

/* One HMP command line; the reply text goes to out. */
void hmp_command(struct monitor *m, const char *line, FILE *out);
/* info registers/cpus/mem/tlb (monitor_info.c); false: unknown item. */
bool hmp_info(struct monitor *m, const char *item, FILE *out);

/* Migration (monitor_migrate.c): start one to uri (false and one line in
 * err); its status as HMP 'info migrate' and as QMP's query-migrate
 * object; the step to run when its wake fd is readable. */
bool mon_migrate(struct monitor *m, const char *uri, char *err, size_t errlen);
void hmp_migrate(struct monitor *m, const char *args, FILE *out);
void hmp_migrate_cancel(struct monitor *m, const char *args, FILE *out);
void hmp_migrate_set_parameter(struct monitor *m, const char *args, FILE *out);
void hmp_info_migrate(struct monitor *m, FILE *out);
void qmp_query_migrate(struct monitor *m, FILE *out);
void mon_migration_step(struct monitor *m);

/* QMP: the greeting; the client's buffered input (complete objects are
 * executed, the rest kept); an event to the QMP client. data: a JSON
 * object's text or NULL. */
void qmp_greet(struct mon_client *c);
void qmp_input(struct monitor *m, struct mon_client *c);
void qmp_event(struct monitor *m, const char *name, const char *data);
