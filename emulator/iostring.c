/* iostring — bulk REP INS/OUTS (iostring.h).
 *
 * Only forward strings (DF = 0) take this path; the caller's loop handles
 * DF = 1. A chunk never leaves its guest page, so one translation covers
 * it; stores go through phys_write so traced page tables and translated
 * code stay coherent, exactly as the element loop's guest_access would. */
#include "emulator/iostring.h"

#include "emulator/paging.h"

void io_string_bulk(struct vcpu *v, uint16_t port, int size, bool in, uint32_t seg_base)
{
    struct bt_cpu *cpu = &v->bt;
    struct io_bus *io = &v->vm->io;
    bool user = v->cpl == 3;
    uint8_t tmp[4096];

    while (cpu->gpr[R_ECX] != 0 && v->exit == EXIT_NONE) {
        uint32_t lin = seg_base + cpu->gpr[in ? R_EDI : R_ESI], gpa;
        uint32_t elems = (4096 - (lin & 4095)) / (uint32_t)size;
        if (elems > cpu->gpr[R_ECX])
            elems = cpu->gpr[R_ECX];
        if (elems == 0 || !guest_xlate(v, lin, in ? MMU_WRITE : MMU_READ, user, &gpa))
            return;
        uint8_t *ram = ram_ptr(&v->vm->ram, gpa, (size_t)elems * (unsigned)size);
        if (!ram)
            return;
        size_t n = in ? io_in_block(io, port, size, tmp, elems)
                      : io_out_block(io, port, size, ram, elems);
        if (n == 0)
            return;
        if (in)
            phys_write(v, gpa, tmp, n * (unsigned)size);
        cpu->gpr[in ? R_EDI : R_ESI] += (uint32_t)(n * (unsigned)size);
        cpu->gpr[R_ECX] -= (uint32_t)n;
        if (n < elems)
            return;
    }
}
