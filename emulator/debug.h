/* debug — what a debugger (the GDB stub) needs from the dispatcher:
 * breakpoints, single steps and stop requests (debug.c). Internal to
 * emulator/; the stub uses the vm_debug_* functions of vm.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define DBG_MAX_BP 64
#define DBG_MAX_WATCH 8
#define DBG_WATCH_LEN 8

/* A watchpoint: a write watchpoint (GDB's Z2) compares the bytes last
 * seen there; read and access ones (Z3, Z4) check the accesses of each
 * instruction (insn_access.c). */
struct dbg_watch {
    uint32_t lin, len;
    uint8_t type;               /* VM_WATCH_WRITE, VM_WATCH_READ, VM_WATCH_ACCESS */
    uint8_t old[DBG_WATCH_LEN];
    bool readable;              /* old[] holds the memory's value */
};

struct vm_debug {
    uint32_t bp[DBG_MAX_BP];      /* inserted breakpoints (guest linear addresses) */
    int nbp;
    /* Breakpoints no normal (non-step) translated block can run through or
     * start at: present whenever blocks were translated since the last
     * cache flush. Inserting one outside this set flushes the cache. */
    uint32_t covered[DBG_MAX_BP];
    int ncovered;
    bool active;                  /* inside vm_debug_run */
    bool step, stepped;           /* single-stepping; the instruction ran */
    bool skip_bp;                 /* resuming at skip_eip: its breakpoint is not hit */
    uint32_t skip_eip;
    int wake_fd;                  /* readable: stop (the debugger's socket), or -1 */
    unsigned signals_seen;        /* vcpu.timer_signals when the socket was last polled */
    struct dbg_watch watch[DBG_MAX_WATCH];
    int nwatch;
    int naccess_watch;            /* those of them that are read or access watchpoints */
    int watch_hit;                /* index + 1 of the watchpoint that changed, or 0 */
};

/* Dispatcher hooks (dispatch.c), only called while dbg.active. */
/* At the top of the loop: stop now (the wake fd became readable, a
 * watchpoint changed, a single step is done)? */
bool dbg_stop_now(struct vcpu *v);
/* Before the block at eip: true = stop here (a breakpoint); *step is set
 * when the block must be a one-instruction one. */
bool dbg_stop_before(struct vcpu *v, uint32_t eip, bool *step);
/* After a block: with watchpoints set, did the instruction change one? */
void dbg_after_block(struct vcpu *v);
/* Is there a breakpoint at eip (callouts that chain on their own ask)? */
bool dbg_bp_at(const struct vm_debug *d, uint32_t eip);
/* bt_config.stop_at: end translated blocks before breakpoints. */
bool dbg_translate_stop(void *vm, uint32_t eip);
/* Raise the event-timer signal when fd becomes readable (on), or stop. */
void dbg_wake_on_input(int fd, bool on);
