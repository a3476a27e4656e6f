/* bt86 — run a 32-bit x86 kernel by binary translation.
 *
 * Exit status: 0 the guest halted with interrupts disabled, or requested a
 * reset; (v<<1)|1 the guest wrote v to isa-debug-exit; 2 bad command line;
 * 3 bad kernel file; 4 triple fault; 5 internal monitor error, or a guest
 * state bt86 does not support yet. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "emulator/options.h"
#include "emulator/vm.h"

static int open_serial(const char *spec, char *err, size_t errlen)
{
    if (!spec || !strcmp(spec, "stdio"))
        return 1;
    if (!strcmp(spec, "null") || !strcmp(spec, "none"))
        return -1;
    if (!strncmp(spec, "file:", 5)) {
        int fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            snprintf(err, errlen, "cannot open serial output '%s'", spec + 5);
        return fd < 0 ? -2 : fd;
    }
    snprintf(err, errlen, "unsupported -serial '%s' (stdio, null or file:PATH)", spec);
    return -2;
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
    char err[256] = "";
    int rc, status;

    rc = options_parse(argc, argv, &o, err, sizeof err);
    if (rc > 0)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    cfg.ram_size = (uint64_t)o.ram_mb << 20;
    cfg.no_chain = o.no_chain;
    cfg.verify = o.verify;
    cfg.trace = o.trace;
    cfg.shadow_spaces = o.shadow_spaces;
    cfg.poll_storm = o.poll_storm;
    cfg.debug_exit_base = o.debug_exit_base;
    cfg.debug_exit_size = o.debug_exit_size;
    cfg.isapc = o.isapc;
    cfg.console_fd = open_serial(o.serial, err, sizeof err);
    if (cfg.console_fd == -2) {
        fprintf(stderr, "bt86: %s\n", err);
        return 2;
    }
    vm = vm_create(&cfg, err, sizeof err);
    if (!vm) {
        fprintf(stderr, "bt86: %s\n", err);
        return 5;
    }
    if (vm_load_kernel(vm, o.kernel, o.append, err, sizeof err) < 0) {
        fprintf(stderr, "bt86: %s\n", err);
        vm_destroy(vm);
        return 3;
    }
    switch (vm_run(vm, UINT64_MAX, 0)) {
    case VM_EXIT_HALT:
        fprintf(stderr, "bt86: guest halted with interrupts disabled\n");
        status = 0;
        break;
    case VM_EXIT_RESET:
        fprintf(stderr, "bt86: guest requested a reset\n");
        status = 0;
        break;
    case VM_EXIT_POWEROFF:
        fprintf(stderr, "bt86: guest powered off (ACPI S5)\n");
        status = 0;
        break;
    case VM_EXIT_DEBUG_EXIT:
        status = vm_exit_status(vm);
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
    vm_destroy(vm);
    return status;
}
