/* trace — the reference run's instruction-by-instruction bookkeeping of
 * undefined values (flags.c gives each instruction's effect for the actual
 * register values). An effect is committed when the next instruction
 * starts, or when the run reaches the stop address: a faulting instruction
 * does not complete. Consuming an undefined value taints the case. */
#pragma once
#include "dt.h"
#include "flags.h"

struct trace {
    struct dt_analysis *an;
    struct effect pending;
    bool has_pending;
    uint32_t pending_eip;
};

void trace_begin(struct trace *t, struct dt_analysis *an);
/* Before the instruction at eip (bytes b, len) executes with registers
 * gpr/eflags. */
void trace_step(struct trace *t, uint32_t eip, const uint8_t *b, int len, const struct dyn *d);
/* The run ended. The last instruction seen completed unless the run
 * faulted on it (fault_eip == its EIP); Unicorn does not call the code hook
 * for an instruction it cannot decode (#UD), so a #UD leaves the previous
 * instruction pending, and it did complete. */
void trace_end(struct trace *t, bool faulted, uint32_t fault_eip);
