/* bt86 — run a 32-bit x86 kernel by binary translation.
 *
 * Exit status: 0 the guest halted with interrupts disabled, or requested a
 * reset; (v<<1)|1 the guest wrote v to isa-debug-exit; 2 bad command line;
 * 3 bad kernel file; 4 triple fault; 5 internal monitor error, or a guest
 * state bt86 does not support yet; 124 the --cpu-limit budget ran out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emulator/chardev.h"
#include "emulator/hw/disk.h"
#include "emulator/gdbstub.h"
#include "emulator/migration.h"
#include "emulator/monitor.h"
#include "emulator/options.h"
#include "emulator/profile.h"
#include "emulator/snapshot.h"
#include "emulator/vm.h"

/* -serial: COM1's back-end (chardev.h); the VM polls it for input. */
static int open_serial(const char *spec, struct chardev *cd, char *err, size_t errlen)
{
    struct chardev_spec cs;
    char why[300];

    if (chardev_parse(spec ? spec : "stdio", &cs, why, sizeof why) < 0 ||
        chardev_open(cd, &cs, "serial0", why, sizeof why) < 0) {
        snprintf(err, errlen, "-serial %s", why);
        return -1;
    }
    return 0;
}

/* --screen: the text screen as the run left it. */
static void write_screen(struct vm *vm, FILE *f)
{
    char text[25 * 81 + 1];
    fwrite(text, 1, vm_screen_text(vm, text), f);
    if (fclose(f) != 0)
        fprintf(stderr, "bt86: --screen: %s\n", strerror(errno));
}

static void close_disks(struct disk *disks[OPT_DRIVES])
{
    for (int i = 0; i < OPT_DRIVES; i++)
        disk_close(disks[i]);
}

/* -rtc base= and -D: what the options mean for the VM's configuration. */
static int compat_config(const struct options *o, struct vm_config *cfg, char *err, size_t errlen)
{
    time_t now = time(NULL);
    struct tm tm;

    if (o->rtc_base == OPT_RTC_LOCAL && localtime_r(&now, &tm))
        cfg->rtc_offset_s = tm.tm_gmtoff;
    else if (o->rtc_base == OPT_RTC_DATE)
        cfg->rtc_offset_s = o->rtc_date - (int64_t)now;
    if (o->log_file && !(cfg->trace_file = fopen(o->log_file, "w"))) {
        snprintf(err, errlen, "-D '%s': %s", o->log_file, strerror(errno));
        return -1;
    }
    return 0;
}

static void dump_regs(struct vm *vm)
{
    struct vm_regs r;
    vm_get_regs(vm, &r);
    fprintf(stderr, "  EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n  ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
                    "  EIP=%08x EFLAGS=%08x\n",
            r.gpr[0], r.gpr[3], r.gpr[1], r.gpr[2], r.gpr[6], r.gpr[7], r.gpr[5], r.gpr[4], r.eip, r.eflags);
}

int main(int argc, char **argv)
{
    struct options o;
    struct vm_config cfg = { 0 };
    struct vm *vm;
    struct disk *disks[OPT_DRIVES];
    struct chardev serial;
    FILE *screen = NULL;
    char err[1400] = "";
    int rc, status;
    enum vm_exit end;
    bool monitored, quit = false;

    rc = options_parse(argc, argv, &o, err, sizeof err);
    if (rc > 0)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    monitored = o.monitor || o.qmp || o.serial_mux;
    if (o.gdb_wait && !o.gdb && !monitored) {
        fprintf(stderr, "bt86: -S waits for a debugger: give -gdb DEV or -s too\n");
        return 2;
    }
    if (o.gdb && monitored) {
        fprintf(stderr, "bt86: -gdb and a monitor (-monitor, -qmp, mon:stdio) cannot be combined yet\n");
        return 2;
    }
    cfg.ram_size = (uint64_t)o.ram_mb << 20;
    cfg.no_chain = o.no_chain;
    cfg.rstack = o.rstack;
    cfg.no_superblocks = o.no_superblocks;
    cfg.no_inline_calls = o.no_inline_calls;
    cfg.no_lazy_esp = o.no_lazy_esp;
    cfg.no_derive_memo = o.no_derive_memo;
    cfg.no_sysfast = o.no_sysfast;
    cfg.two_views = o.two_views;
    cfg.no_access_tlb = o.no_access_tlb;
    cfg.ic_ways = o.ic_ways;
    cfg.verify = o.verify;
    cfg.trace = o.trace;
    cfg.shadow_spaces = o.shadow_spaces;
    cfg.soft_pages = o.soft_pages;
    cfg.shared_fills = o.shared_fills;
    cfg.no_retarget = o.no_retarget;
    cfg.unsync_tables = o.unsync_tables;
    cfg.sticky_memops = o.sticky_memops;
    cfg.poll_storm = o.poll_storm;
    cfg.debug_exit_base = o.debug_exit_base;
    cfg.debug_exit_size = o.debug_exit_size;
    cfg.isapc = o.isapc;
    cfg.cpuid_edx_clear = ~o.cpuid_edx;
    cfg.cpuid_ext_edx_clear = ~o.cpuid_ext_edx;
    cfg.pc_testdev = o.pc_testdev;
    cfg.pci_testdev = o.pci_testdev;
    if (compat_config(&o, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    if (open_serial(o.serial, &serial, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    cfg.console = &serial;
    cfg.console_fd = serial.out_fd;
    if (o.screen && !(screen = fopen(o.screen, "w"))) {
        fprintf(stderr, "bt86: --screen: cannot write '%s': %s\n", o.screen, strerror(errno));
        return 2;
    }
    if (options_open_drives(&o, disks, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    memcpy(cfg.disks, disks, sizeof cfg.disks);
    vm = vm_create(&cfg, err, sizeof err);
    if (!vm) {
        fprintf(stderr, "bt86: %s\n", err);
        close_disks(disks);
        return 5;
    }
    if ((o.kernel && vm_load_kernel(vm, o.kernel, o.append, o.initrd, err, sizeof err) < 0) ||
        (o.loadvm && vm_snapshot_load_new(vm, o.loadvm, err, sizeof err) < 0)) {
        fprintf(stderr, "bt86: %s\n", err);
        vm_destroy(vm);
        close_disks(disks);
        return 3;
    }
    if (o.incoming && migration_incoming(vm, o.incoming, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        vm_destroy(vm);
        close_disks(disks);
        return 3;
    }
    if (o.profile && profile_start(vm, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        vm_destroy(vm);
        close_disks(disks);
        return 2;
    }
    if (o.gdb) {
        if (gdbstub_run(vm, o.gdb, o.gdb_wait, &end, err, sizeof err) < 0) {
            fprintf(stderr, "bt86: %s\n", err);
            vm_destroy(vm);
            close_disks(disks);
            return 2;
        }
    } else if (monitored) {
        struct monitor_config mc = { .hmp = o.monitor, .qmp = o.qmp, .mux_stdio = o.serial_mux,
                                     .start_stopped = o.gdb_wait };
        if (monitor_run(vm, &mc, &end, &quit, err, sizeof err) < 0) {
            fprintf(stderr, "bt86: %s\n", err);
            vm_destroy(vm);
            close_disks(disks);
            return 2;
        }
    } else {
        end = vm_run(vm, UINT64_MAX, o.cpu_limit_ms);
    }
    switch (end) {
    case VM_EXIT_HALT:
        fprintf(stderr, "bt86: guest halted with interrupts disabled\n");
        status = 0;
        break;
    case VM_EXIT_RESET:
        fprintf(stderr, "bt86: guest requested a reset\n");
        status = 0;
        break;
    case VM_EXIT_TIMEOUT:
        fprintf(stderr, "bt86: CPU-time limit (--cpu-limit) reached\n");
        dump_regs(vm);
        status = 124;
        break;
    case VM_EXIT_POWEROFF:
        fprintf(stderr, "bt86: guest powered off (ACPI S5)\n");
        status = 0;
        break;
    case VM_EXIT_DEBUG_EXIT:
        status = vm_exit_status(vm);
        break;
    case VM_EXIT_DEBUG:
        if (!quit)
            fprintf(stderr, "bt86: killed by the debugger\n");
        status = 0;
        break;
    case VM_EXIT_EXCEPTION:
    case VM_EXIT_TRIPLE_FAULT:
        fprintf(stderr, "bt86: %s\n", vm_error(vm));
        dump_regs(vm);
        status = 4;
        break;
    default:
        fprintf(stderr, "bt86: %s\n", vm_error(vm));
        dump_regs(vm);
        status = 5;
        break;
    }
    if (o.stats)
        vm_print_stats(vm, stderr);
    if (o.profile && profile_finish(vm, o.profile, o.kernel, err, sizeof err) < 0)
        fprintf(stderr, "bt86: %s\n", err);
    if (screen)
        write_screen(vm, screen);
    vm_destroy(vm);
    close_disks(disks);
    return status;
}
