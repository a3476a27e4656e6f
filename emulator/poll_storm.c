/* poll_storm — a testing aid (vm_config.poll_storm, --poll-storm N): the
 * dispatcher protects the poll page before about one in N of the blocks it
 * enters, so the block leaves at its entry poll as if the host timer had
 * fired just then. The guest must not notice: the state recovered at an
 * entry poll is the state before the block's first instruction (the side
 * table's TB_PC_ENTRY row), an interrupt shadow included (DESIGN §8: the
 * differential tester arms the poll page at random points).
 *
 * The same entry is never armed twice in a row, so N = 1 (every entry)
 * still makes progress. The generator is seeded per VM, so a run is
 * repeatable as far as the guest's own events are. */
#include "emulator/system.h"

void poll_storm(struct vcpu *v, uint32_t eip)
{
    uint32_t x = v->storm_rng ? v->storm_rng : 0x9e3779b9u;

    if (eip == v->storm_eip) {
        v->storm_eip = ~eip;       /* armed here last time: let it run now */
        return;
    }
    x ^= x << 13;                  /* xorshift32 */
    x ^= x >> 17;
    x ^= x << 5;
    v->storm_rng = x;
    if (x % v->vm->cfg.poll_storm)
        return;
    v->storm_eip = eip;
    vcpu_request_exit(v);
}
