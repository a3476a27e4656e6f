/* stats — the monitor's counters: one X-macro list, each with its
 * description, printed by --stats (DynamoRIO's statsx.h pattern). */
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "decoder/decoder.h"

#define VM_STATS(X)                                                                 \
    X(dispatches,      "returns to the dispatcher")                                 \
    X(seglimit_checks, "segment-limit checks of non-flat segments")                 \
    X(exits_indirect,  "indirect-branch lookups that missed the jump cache")        \
    X(exits_callout,   "callouts that left translated code")                        \
    X(exits_signal,    "host signals taken in translated code")                     \
    X(polls,           "exits requested through the poll page")                     \
    X(lookups_hit,     "dispatcher lookups found in the code cache")                \
    X(soft_interrupts, "INT n, INT3, INTO, INT1 delivered")                        \
    X(derive_hits,     "control transfers whose mode and space were remembered")   \
    X(derive_misses,   "control transfers whose mode and space were worked out")   \
    X(sysfast_hits,    "SYSENTER/SYSEXIT that reused the state the last pair made") \
    X(v86_entries,     "entries into virtual-8086 mode (IRET with VM)")              \
    X(halt_sleeps,     "host sleeps in HLT")                                       \
    X(halt_sleep_us,   "microseconds slept in HLT")                                \
    X(exceptions,      "exceptions delivered through the guest IDT")               \
    X(interrupts,      "external interrupts delivered")                            \
    X(cr3_writes,      "CR3 writes")                                               \
    X(traced_steps,    "stores to traced page tables single-stepped (host TF)")    \
    X(smc_blocks,      "blocks invalidated by stores to their bytes")             \
    X(memop_emulated,  "faulting instructions emulated (device memory, 4 GiB wrap)") \
    X(open_bus_steps,  "instructions single-stepped on a lent open-bus page") \
    X(adaptive,        "instructions re-translated to call the monitor (adaptive)") \
    X(memop_callouts,  "monitor calls made by re-translated instructions")         \
    X(adapt_unmarks,   "marked instructions translated natively again after clean runs") \
    X(memop_page_faults, "#PF raised by re-translated instructions without a host signal") \
    X(mmio_accesses,   "device-memory accesses emulated by the monitor")               \
    X(acctlb_hits,     "monitor guest accesses answered by the access TLB")        \
    X(acctlb_misses,   "monitor guest accesses with paging on that missed it")     \
    X(divide_errors,   "#DE raised by checked DIV/IDIV without a host signal (adaptive)")

/* One counter list printed by --stats: `prefix` before each name. */
void stats_print(FILE *f, const char *prefix, int n, const char *const names[],
                 const char *const descs[], const uint64_t values[]);

struct vm_stats {
#define X(name, desc) uint64_t name;
    VM_STATS(X)
#undef X
    uint64_t callouts[K_COUNT + 1];   /* by instruction kind; [K_COUNT] = helpers */
};
