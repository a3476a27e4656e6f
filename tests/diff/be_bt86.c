/* be_bt86 — the backend under test: a bare bt86 VM driven in-process
 * through emulator/vm.h (ring 0, flat segments, paging off or, with
 * --paging, on through dt_page_tables(); guest exceptions reported to the
 * caller). One VM per worker, reused across cases: the regions are
 * rewritten and the translations flushed per case.
 *
 * RAM is BT86_RAM at 0 (it holds the low regions; bt86's minimum is 2 MiB)
 * plus one page at 0xFFFFF000. The first DT_RAM_SIZE bytes outside the
 * regions must stay zero: a write there is a stray write and fails the case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "backend.h"
#include "emulator/vm.h"

#define BT86_RAM (2u << 20)

struct bctx {
    struct vm *vm;
    uint64_t zero_hash;        /* XXH3 of DT_RAM_SIZE zero bytes outside the regions */
    uint8_t *scratch;
};

/* Hash the RAM below DT_RAM_SIZE that no region covers. */
static uint64_t outside_hash(struct bctx *b) {
    const uint8_t *ram = vm_phys_ptr(b->vm, 0, DT_RAM_SIZE);
    if (!ram) {
        vm_read_phys(b->vm, 0, b->scratch, DT_RAM_SIZE);
        ram = b->scratch;
    }
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    uint32_t a = 0;
    for (int i = 0; i < DT_NREGIONS; i++) {
        const struct dt_region *g = &dt_regions[i];
        if (g->base >= DT_RAM_SIZE) continue;
        XXH3_64bits_update(st, ram + a, g->base - a);
        a = g->base + g->size;
    }
    XXH3_64bits_update(st, ram + a, DT_RAM_SIZE - a);
    uint64_t h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

static void *bt_open(char *err, size_t errlen) {
    struct bctx *b = calloc(1, sizeof *b);
    struct vm_config cfg = { .ram_size = BT86_RAM, .stop_on_exception = true, .console_fd = -1,
                             .poll_storm = dt_poll_storm, .adapt_first_fault = dt_adapt_first,
                             .rstack = true };
    if (dt_poll_storm) {
        cfg.no_chain = true;            /* every block entry through the dispatcher */
        cfg.max_block_insns = 1;        /* and a block entry at every instruction */
    }
    b->vm = vm_create(&cfg, err, errlen);
    if (!b->vm) return NULL;
    if (vm_add_ram(b->vm, DT_HIGH, 0x1000, err, errlen)) return NULL;
    b->scratch = calloc(1, DT_RAM_SIZE);
    b->zero_hash = outside_hash(b);
    return b;
}

static void bt_run(void *ctx, const struct dt_case *c, struct dt_result *r) {
    struct bctx *b = ctx;
    struct vm *vm = b->vm;
    memset(r, 0, sizeof *r);
    for (int i = 0; i < DT_NREGIONS; i++)
        vm_write_phys(vm, dt_regions[i].base, c->in.mem + dt_regions[i].off, dt_regions[i].size);
    vm_flush_code(vm);
    if (dt_paging && dt_pae) {
        static uint64_t pt[DT_PT_PAGES][512];
        dt_page_tables_pae(pt);
        vm_write_phys(vm, DT_PT, pt, sizeof pt);
        vm_set_control(vm, 0x80010011, DT_PT, 0x20);    /* PG WP ET PE; PAE */
    } else if (dt_paging) {
        /* Rewritten each case: the traced tables' A/D bits go back to clear
         * and the shadow follows. */
        static uint32_t pt[3][1024];
        dt_page_tables(pt);
        vm_write_phys(vm, DT_PT, pt, sizeof pt);
        vm_set_control(vm, 0x80010011, DT_PT, 0);   /* PG WP ET PE */
    }
    if (dt_real) {
        static const uint16_t sel[6] = { DT_DATA >> 4, DT_CODE >> 4, DT_STACK >> 4, DT_DATA >> 4,
                                         DT_DATA >> 4, DT_STACK >> 4 };   /* ES CS SS DS FS GS */
        vm_set_real_mode(vm, sel);
    }
    struct vm_regs regs;
    memcpy(regs.gpr, c->in.gpr, sizeof regs.gpr);
    regs.eip = dt_real ? 0 : DT_CODE;
    regs.eflags = c->in.eflags;
    vm_set_regs(vm, &regs);
    vm_set_fxsave(vm, c->in.fx);

    enum vm_exit e = vm_run(vm, dt_real ? c->main_len : dt_stop_eip(c), 2000);
    vm_get_regs(vm, &regs);
    memcpy(r->out.gpr, regs.gpr, sizeof regs.gpr);
    r->out.eflags = regs.eflags;
    r->out.eip = regs.eip;
    vm_get_fxsave(vm, r->out.fx);
    for (int i = 0; i < DT_NREGIONS; i++)
        vm_read_phys(vm, dt_regions[i].base, r->out.mem + dt_regions[i].off, dt_regions[i].size);

    const struct vm_exception *x;
    switch (e) {
    case VM_EXIT_STOP_EIP: r->exit = DT_EXIT_STOP; break;
    case VM_EXIT_EXCEPTION:
        x = vm_last_exception(vm);
        r->exit = DT_EXIT_EXCEPTION;
        r->vector = x->vector;
        r->fault_eip = x->eip;
        r->out.eip = x->eip;
        break;
    case VM_EXIT_TIMEOUT: r->exit = DT_EXIT_LIMIT; snprintf(r->msg, sizeof r->msg, "bt86: timeout"); break;
    case VM_EXIT_HALT: r->exit = DT_EXIT_ERROR; snprintf(r->msg, sizeof r->msg, "bt86: HLT at %08x", regs.eip); break;
    case VM_EXIT_ERROR: r->exit = DT_EXIT_ERROR; snprintf(r->msg, sizeof r->msg, "bt86: %s", vm_error(vm)); break;
    default: r->exit = DT_EXIT_ERROR; snprintf(r->msg, sizeof r->msg, "bt86: exit %d at %08x", e, regs.eip); break;
    }
    if (outside_hash(b) != b->zero_hash) {
        /* Find and report the stray write, then clean RAM for the next case. */
        const uint8_t *ram = vm_phys_ptr(vm, 0, DT_RAM_SIZE);
        if (!ram) { vm_read_phys(vm, 0, b->scratch, DT_RAM_SIZE); ram = b->scratch; }
        for (uint32_t a = 0; a < DT_RAM_SIZE; a++) {
            if (!ram[a] || dt_mem_index(a) >= 0) continue;
            r->exit = DT_EXIT_ERROR;
            snprintf(r->msg, sizeof r->msg, "bt86: stray write to RAM at %08x", a);
            break;
        }
        static const uint8_t zero[4096];
        for (uint32_t a = 0; a < DT_RAM_SIZE; a += 4096)
            if (dt_mem_index(a) < 0) vm_write_phys(vm, a, zero, 4096);
    }
}

const struct backend be_bt86 = { "bt86", bt_open, bt_run };
