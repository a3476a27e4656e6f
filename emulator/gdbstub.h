/* gdbstub — a GDB remote stub (-gdb tcp::PORT | unix:PATH, -s, -S). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "emulator/vm.h"

/* Listen at spec ("tcp::1234", "tcp:HOST:PORT", "unix:PATH") and run the
 * VM under the debugger's control until the guest ends the run or GDB kills
 * it. start_stopped (-S): wait for GDB before the first instruction;
 * otherwise the guest runs and GDB may attach at any time. Returns 0 with
 * the run's end in *end (VM_EXIT_DEBUG: GDB killed it), or -1 with a
 * message if the socket cannot be set up. */
int gdbstub_run(struct vm *vm, const char *spec, bool start_stopped, enum vm_exit *end, char *err,
                size_t errlen);
