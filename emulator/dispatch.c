/* dispatch — the loop between blocks (the shape of QEMU's cpu_exec):
 *
 *   for (;;) {
 *       an exit reason (halt, debug-exit, error, timeout)?  -> return it
 *       an exception pending?        -> report it (or, later, deliver it)
 *       find the block for EIP (jump cache, code cache, else translate)
 *       chain the exit we came from to it
 *       run translated code until it exits
 *   }
 *
 * Translated code only comes back here on an unchained exit, a jump-cache
 * miss, a callout that leaves, or a host signal. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "emulator/vcpu.h"

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF-09", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void vm_flush_code(struct vm *vm)
{
    cache_flush(vm->cache);
    for (uint32_t i = 0; i < BT_JCACHE_SIZE; i++)
        vm->vcpu->jcache[i].eip = BT_JCACHE_EMPTY;
    vm->vcpu->bt.exit_slot = 0;
    vm->stats.cache_flushes++;
}

/* The block for the current EIP: code cache, or a new translation. */
static struct tb *find_block(struct vm *vm, struct vcpu *v, uint32_t eip, uint64_t stop_eip)
{
    uint32_t phys = eip, mode = 0;   /* TODO(#5): walk the guest page tables */
    struct tb *tb = cache_lookup(vm->cache, phys, eip, mode);
    const uint8_t *code;
    uint64_t avail;

    if (tb) {
        vm->stats.lookups_hit++;
        return tb;
    }
    avail = ram_avail(&vm->ram, phys);
    code = ram_ptr(&vm->ram, phys, 1);
    if (!code || avail == 0) {
        vcpu_stop_error(v, eip, "guest executes outside RAM at EIP 0x%08x", eip);
        return NULL;
    }
    if (avail > 4096 + 16)
        avail = 4096 + 16;
    /* A block never runs into the stop address: the caller owns the bytes there. */
    if (stop_eip > eip && stop_eip - eip < avail)
        avail = stop_eip - eip;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t before = cache_epoch(vm->cache);
        tb = bt_translate(vm->bt, eip, phys, mode, code, avail);
        if (tb) {
            vm->stats.translations++;
            if (cache_epoch(vm->cache) != before)
                v->bt.exit_slot = 0;
            return tb;
        }
        vm_flush_code(vm);
    }
    vcpu_stop_error(v, eip, "cannot translate the block at EIP 0x%08x", eip);
    return NULL;
}

/* Point GS at the active guest address space. WRGSBASE is a few cycles
 * where the kernel enables it (Linux >= 5.9 sets CR4.FSGSBASE and reports
 * HWCAP2_FSGSBASE); otherwise arch_prctl. */
static void set_gs_base(uint64_t base)
{
    if (getauxval(AT_HWCAP2) & 2)
        __asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
    else
        syscall(SYS_arch_prctl, ARCH_SET_GS, base);
}

static void arm_timeout(uint32_t ms)
{
    struct itimerval it = { 0 };
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static enum vm_exit report_exception(struct vm *vm, struct vcpu *v)
{
    v->bt.exc_pending = 0;
    if (vm->cfg.stop_on_exception)
        return VM_EXIT_EXCEPTION;
    /* TODO(#4): deliver through the guest IDT. */
    snprintf(v->error, sizeof v->error, "guest %s at EIP 0x%08x%s (exceptions are not yet delivered through the IDT)",
             v->exc.vector < 32 && exc_names[v->exc.vector] ? exc_names[v->exc.vector] : "exception",
             v->exc.eip, "");
    return VM_EXIT_EXCEPTION;
}

enum vm_exit vm_run(struct vm *vm, uint64_t stop_eip, uint32_t timeout_ms)
{
    struct vcpu *v = vm->vcpu;
    struct bt_cpu *cpu = &v->bt;
    enum vm_exit result;
    char err[200];

    if (!vm->ram_mapped) {
        if (space_map_identity(&vm->space, &vm->ram, err, sizeof err) < 0) {
            snprintf(v->error, sizeof v->error, "%s", err);
            return VM_EXIT_ERROR;
        }
        vm->ram_mapped = true;
    }
    if (signals_install(err, sizeof err) < 0) {
        snprintf(v->error, sizeof v->error, "%s", err);
        return VM_EXIT_ERROR;
    }
    signals_set_current(v);
    set_gs_base((uint64_t)(uintptr_t)vm->space.base);
    v->exit = EXIT_NONE;
    v->exc.vector = -1;
    cpu->exc_pending = 0;
    cpu->exit_slot = 0;
    if (timeout_ms)
        arm_timeout(timeout_ms);

    for (;;) {
        struct tb *tb;
        uint32_t eip = cpu->eip;

        if (v->exit != EXIT_NONE)
            break;
        if (cpu->exc_pending) {
            result = report_exception(vm, v);
            goto out;
        }
        if (eip == stop_eip) {
            result = VM_EXIT_STOP_EIP;
            goto out;
        }
        tb = find_block(vm, v, eip, stop_eip);
        if (!tb)
            break;
        if (cpu->exit_slot) {
            struct tb_exit *ex = (struct tb_exit *)(uintptr_t)cpu->exit_slot;
            if (!vm->cfg.no_chain && ex->patch_off && ex->target_eip == eip) {
                cache_chain(vm->cache, ex, tb);
                vm->stats.chain_patches++;
            }
        }
        v->jcache[eip & (BT_JCACHE_SIZE - 1)].eip = eip;
        v->jcache[eip & (BT_JCACHE_SIZE - 1)].host = (uint64_t)(uintptr_t)tb->host;
        cpu->exit_slot = 0;
        v->enter(cpu, tb->host);
        cpu->eip = cpu->next_eip;
        vm->stats.dispatches++;
    }

    switch (v->exit) {
    case EXIT_HALT: result = VM_EXIT_HALT; break;
    case EXIT_DEBUG_EXIT: result = VM_EXIT_DEBUG_EXIT; break;
    case EXIT_TRIPLE_FAULT: result = VM_EXIT_TRIPLE_FAULT; break;
    case EXIT_TIMEOUT: result = VM_EXIT_TIMEOUT; break;
    case EXIT_RESET: result = VM_EXIT_RESET; break;
    case EXIT_EXCEPTION: result = report_exception(vm, v); break;
    default: result = VM_EXIT_ERROR; break;
    }
out:
    if (timeout_ms)
        arm_timeout(0);
    vcpu_clear_exit_request(v);
    return result;
}
