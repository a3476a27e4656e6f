/* profile — the sampler. An interval timer on the process's CPU time
 * (ITIMER_PROF) raises SIGPROF; the handler, on the alternate signal stack
 * like every handler here (translated code runs on the guest's stack),
 * only classifies the interrupted host PC and appends a record to a
 * preallocated buffer: async-signal-safe, no allocation, no locks.
 *
 *   PC inside the code cache   the block (cache_find_by_host is safe in a
 *                              signal handler: the fault handler uses it)
 *   phase PROF_GUEST elsewhere a callout of translated code: the site
 *                              being served gives the guest instruction
 *   otherwise                  the phase the monitor announced
 *
 * Mapping to guest functions and the report happen at the end
 * (profile_report.c). Idle time (HLT sleeps) uses no CPU and so takes no
 * samples: the report gives it as wall time minus CPU time. */
#define _GNU_SOURCE
#include "emulator/profile.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

#include "emulator/system.h"
#include "emulator/profile_int.h"

#define INTERVAL_US 1000
#define MAX_SAMPLES (1u << 22)      /* 64 MiB of address space, touched as used */

volatile int prof_phase;

/* Per process: one VM is profiled, and the signal handler finds it here. */
static struct {
    struct prof_sample *buf;
    volatile size_t n, dropped;
    struct code_cache *cache;
    struct vcpu *vcpu;
    struct timespec wall0, cpu0;
    bool active;
} prof;

static void on_sigprof(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    const void *pc = (const void *)uc->uc_mcontext.gregs[REG_RIP];
    int ph = prof_phase;
    struct prof_sample s = { .kind = (uint8_t)(ph & 0xff), .sub = (uint8_t)(ph >> 8) };
    struct tb *tb;
    (void)sig, (void)si;

    if (prof.n >= MAX_SAMPLES) {
        prof.dropped++;
        return;
    }
    if ((tb = cache_find_by_host(prof.cache, pc))) {
        s.kind = SAMPLE_CODE;
        s.eip = tb->eip;
        s.guest_len = (uint16_t)tb->guest_len;
        s.host_len = tb->host_len;
    } else if (s.kind == PROF_GUEST && prof.vcpu->bt.site) {
        const struct bt_site *site = (const struct bt_site *)(uintptr_t)prof.vcpu->bt.site;
        s.kind = SAMPLE_CALLOUT;
        s.eip = site->eip;
        s.sub = SITE_INSN(site)->kind;
    }
    prof.buf[prof.n] = s;
    prof.n = prof.n + 1;
}

static double vm_halt_sleep_seconds(struct vm *vm) { return (double)vm->stats.halt_sleep_us * 1e-6; }

static double elapsed(clockid_t id, const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

int profile_start(struct vm *vm, char *err, size_t errlen)
{
    struct sigaction sa;
    struct itimerval it = { { 0, INTERVAL_US }, { 0, INTERVAL_US } };

    prof.buf = mmap(NULL, MAX_SAMPLES * sizeof *prof.buf, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (prof.buf == MAP_FAILED) {
        snprintf(err, errlen, "--profile: %s", strerror(errno));
        return -1;
    }
    prof.cache = vm->cache;
    prof.vcpu = vm->vcpu;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) < 0 || setitimer(ITIMER_PROF, &it, NULL) < 0) {
        snprintf(err, errlen, "--profile: cannot start the sampler: %s", strerror(errno));
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &prof.wall0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &prof.cpu0);
    prof.active = true;
    return 0;
}

static void stop(void)
{
    struct itimerval off = { 0 };
    setitimer(ITIMER_PROF, &off, NULL);
    signal(SIGPROF, SIG_IGN);
    prof.active = false;
}

int profile_finish(struct vm *vm, const char *path, const char *kernel, char *err, size_t errlen)
{
    struct prof_run r = { .s = prof.buf, .interval_us = INTERVAL_US };
    char folded_path[4096];
    FILE *f, *ff;
    r.idle_s = vm_halt_sleep_seconds(vm);
    r.cpu_s = elapsed(CLOCK_PROCESS_CPUTIME_ID, &prof.cpu0);
    r.wall_s = elapsed(CLOCK_MONOTONIC, &prof.wall0);
    stop();
    r.n = prof.n;
    r.dropped = prof.dropped;
    snprintf(folded_path, sizeof folded_path, "%s.folded", path);
    if (!(f = fopen(path, "w")) || !(ff = fopen(folded_path, "w"))) {
        snprintf(err, errlen, "--profile '%s': %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    profile_report(f, ff, &r, kernel);
    fclose(ff);
    fclose(f);
    munmap(prof.buf, MAX_SAMPLES * sizeof *prof.buf);
    return 0;
}

void profile_print_split(FILE *f)
{
    size_t count[SAMPLE_CALLOUT + 1] = { 0 }, n = prof.n;
    char name[64];

    if (!prof.active)
        return;
    for (size_t i = 0; i < n; i++)
        count[prof.buf[i].kind]++;
    fprintf(f, "profile: %zu samples of host CPU time so far\n", n);
    for (int k = 0; k <= SAMPLE_CALLOUT; k++)
        if (count[k])
            fprintf(f, "  %-20s %12zu  %5.1f%%\n", profile_kind_name(k, -1, name, sizeof name), count[k],
                    100.0 * (double)count[k] / (double)n);
}
