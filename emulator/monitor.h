/* monitor — QEMU's human monitor (HMP) and machine protocol (QMP) for a
 * running bt86: -monitor, -qmp, -serial mon:stdio (monitor.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "emulator/vm.h"

struct monitor_config {
    const char *hmp;          /* -monitor: "stdio", "unix:PATH[,server][,nowait]" or NULL */
    const char *qmp;          /* -qmp: "unix:PATH[,...]" or NULL */
    bool mux_stdio;           /* -serial mon:stdio: stdin is shared, Ctrl-A c switches */
    bool start_stopped;       /* -S: wait for 'cont' */
};

/* Run the VM under the monitors' control until the guest ends the run or
 * a monitor quits (*quit set, *end VM_EXIT_DEBUG) or resets the machine
 * (*end VM_EXIT_RESET: bt86 ends the run on a reset, as -no-reboot does).
 * Returns 0, or -1 with a message if a socket cannot be set up. */
int monitor_run(struct vm *vm, const struct monitor_config *mc, enum vm_exit *end, bool *quit,
                char *err, size_t errlen);
