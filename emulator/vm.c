/* vm — machine creation, guest memory and register access (vm.h). The
 * dispatcher loop is in dispatch.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emulator/paging.h"

#define CODE_CACHE_SIZE (64u << 20)
#define META_SIZE       (32u << 20)

static void on_debug_exit(void *opaque, int status)
{
    struct vm *vm = opaque;
    vm->exit_status = status;
    vm->vcpu->exit = EXIT_DEBUG_EXIT;
}

/* A reset request ends the run, as QEMU's -no-reboot does. */
static void on_reset(void *opaque)
{
    struct vm *vm = opaque;
    vm->vcpu->exit = EXIT_RESET;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The devices' clock: the host's, shifted so that a restored snapshot's
 * guest time continues where it was saved (snapshot_state.c). */
uint64_t vm_clock_ns(const struct vm *vm) { return clock_ns(CLOCK_MONOTONIC) + vm->clock_shift; }
static uint64_t monotonic_ns(void *opaque) { return vm_clock_ns(opaque); }
static uint64_t realtime_ns(void *opaque) { return clock_ns(CLOCK_REALTIME); }

/* fw_cfg's DMA: guest RAM only, through the same path as the monitor's
 * own writes (traced pages and translated code stay coherent). */
static int fw_cfg_mem(void *opaque, uint64_t gpa, void *buf, size_t n, bool write)
{
    struct vm *vm = opaque;
    if (gpa > UINT32_MAX || n > UINT32_MAX - gpa + 1)
        return -1;
    return write ? vm_write_phys(vm, (uint32_t)gpa, buf, n) : vm_read_phys(vm, (uint32_t)gpa, buf, n);
}

/* The PIC's INTR output: to the LAPIC's LINT0, or with no APIC straight to
 * the core; interrupts.c delivers through the guest IDT. */
static void on_intr(void *opaque, int irq, int level)
{
    struct vm *vm = opaque;
    if (vm->has_apic)
        lapic_set_lint(&vm->lapic, 0, level);
    else
        intr_line(vm->vcpu, level);
}

/* Default FXSAVE image of a CPU after reset/FNINIT: FCW 0x37F, MXCSR 0x1F80. */
static void fx_reset(uint8_t fx[512])
{
    memset(fx, 0, 512);
    fx[0] = 0x7f;
    fx[1] = 0x03;
    fx[24] = 0x80;
    fx[25] = 0x1f;
    fx[28] = 0xff;   /* MXCSR_MASK */
    fx[29] = 0xff;
}

static struct vcpu *vcpu_create(struct vm *vm, char *err, size_t errlen)
{
    size_t len = 4096 + ((sizeof(struct vcpu) + 4095) & ~(size_t)4095);
    uint8_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vcpu *v;

    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot allocate the vCPU: %s", strerror(errno));
        return NULL;
    }
    mprotect(map, 4096, PROT_READ);          /* the poll page */
    v = (struct vcpu *)(map + 4096);
    vm->vcpu_map = map;
    vm->vcpu_map_len = len;
    v->vm = vm;
    if (!vm->cfg.no_access_tlb) {
        v->acctlb.genp = mmu_xlate_gen(vm->mmu);      /* paging_init made the MMU */
        acctlb_flush(&v->acctlb);
    }
    if (!jc_init(v)) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->bt.membase = 0;                        /* vm_run activates an address space */
    v->bt.eflags = 0x2;
    v->cr0 = 0x11;                            /* PE|ET: Multiboot starts in protected mode */
    v->exc.vector = -1;
    fx_reset(v->bt.fx_guest);
    return v;
}

/* -device pc-testdev: its ports and its device memory. */
static int pc_testdev_attach(struct vm *vm, char *err, size_t errlen)
{
    static const struct vm_mmio_ops ops = { pc_testdev_mem_read, pc_testdev_mem_write };

    vm->pc_testdev = calloc(1, sizeof *vm->pc_testdev);
    if (!vm->pc_testdev || pc_testdev_init(vm->pc_testdev, &vm->io, isa_irq_line, &vm->isa) < 0) {
        snprintf(err, errlen, "cannot attach pc-testdev");
        return -1;
    }
    return vm_mmio_register(vm, PC_TESTDEV_MEM_BASE, PC_TESTDEV_MEM_SIZE, &ops, vm->pc_testdev,
                            err, errlen);
}

struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
    struct vm *vm = calloc(1, sizeof *vm);
    struct bt_handlers h = { 0 };
    struct bt_config btc = { 0 };

    if (!vm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    vm->cfg = *cfg;
    vm->ram.fd = -1;
    vm->stop_eip = UINT64_MAX;
    vm->dbg.wake_fd = -1;
    if (cfg->ram_size < (2u << 20) || cfg->ram_size > (3072ull << 20)) {
        snprintf(err, errlen, "RAM size %llu MiB out of range (2..3072)",
                 (unsigned long long)(cfg->ram_size >> 20));
        goto fail;
    }
    if (signals_install(err, errlen) < 0 || ram_init(&vm->ram, err, errlen) < 0 ||
        ram_add(&vm->ram, 0, cfg->ram_size & ~4095ull, err, errlen) < 0 ||
        paging_init(vm, err, errlen) < 0)
        goto fail;
    vm->cache = cache_create(CODE_CACHE_SIZE, META_SIZE, err, errlen);
    if (!vm->cache)
        goto fail;
    /* One translation, filed under the segment bases it uses (fetch.c). */
    cache_set_variant_bits(vm->cache, 0xffu << BT_MODE_SEGSET_SHIFT | BT_MODE_ANY_FSGS);
    callouts_fill(&h);
    if (cfg->no_sysfast)
        h.no_fp = NULL;         /* every callout switches MXCSR, as before */
    btc.no_chain = cfg->no_chain;
    btc.rstack = cfg->rstack;
    btc.no_superblocks = cfg->no_superblocks;
    btc.inline_calls = !cfg->no_inline_calls;
    btc.no_lazy_esp = cfg->no_lazy_esp;
    btc.ic_ways = cfg->ic_ways;
    btc.max_insns = cfg->max_block_insns;
    btc.verify = cfg->verify;
    btc.trace = cfg->trace ? (cfg->trace_file ? cfg->trace_file : stderr) : NULL;
    btc.slow_mem = adapt_slow_mem;          /* adaptive translation (adaptive.c) */
    btc.slow_mem_opaque = vm;
    btc.checked_div = adapt_checked_div;    /* #DE without a host signal (adaptive.c) */
    btc.checked_div_opaque = vm;
    btc.seg_bases = segset_bases;           /* non-zero segment bases (segsets.c) */
    btc.seg_bases_opaque = vm;
    btc.stop_at = dbg_translate_stop;       /* debugger breakpoints (debug.c) */
    btc.stop_at_opaque = vm;
    vm->bt = bt_create(vm->cache, &btc, &h, err, errlen);
    if (!vm->bt)
        goto fail;
    vm->vcpu = vcpu_create(vm, err, errlen);
    if (!vm->vcpu)
        goto fail;
    vm->vcpu->enter = bt_runtime_init(vm->bt, &vm->vcpu->bt);

    uart_init(&vm->uart, &vm->io, 0x3f8, cfg->console_fd, NULL, NULL, 4);
    if (!cfg->pc_testdev)       /* pc-testdev's scratch register covers 0xe8-0xeb */
        debugcon_init(&vm->debugcon, &vm->io, 0xe9, cfg->console_fd);
    debug_exit_init(&vm->debug_exit, &vm->io, cfg->debug_exit_size ? cfg->debug_exit_base : 0xf4,
                    cfg->debug_exit_size ? cfg->debug_exit_size : 4, on_debug_exit, vm);
    pic_init(&vm->pic, &vm->io, on_intr, vm);
    if (pc_board_init(vm, monotonic_ns, err, errlen) < 0)
        goto fail;
    vm->uart.irq = isa_irq_line;
    vm->uart.irq_opaque = &vm->isa;
    pit_init(&vm->pit, &vm->io, monotonic_ns, vm, isa_irq_line, &vm->isa);
    rtc_init(&vm->rtc, &vm->io, cfg->ram_size, realtime_ns, vm, isa_irq_line, &vm->isa);
    vm->rtc.offset_s = cfg->rtc_offset_s;
    ps2_init(&vm->ps2, &vm->io, isa_irq_line, &vm->isa, on_reset, vm);
    misc_init(&vm->misc, &vm->io, on_reset, vm);
    ide_init(&vm->ide, &vm->io, cfg->disks, isa_irq_line, &vm->isa);
    pci_init(&vm->pci, &vm->io, on_reset, vm);
    if (pci_bars_init(vm, err, errlen) < 0)
        goto fail;
    vga_init(&vm->vga, &vm->io);
    fw_cfg_init(&vm->fw_cfg, &vm->io, cfg->ram_size, 1, fw_cfg_mem, vm);
    if (cfg->pc_testdev && pc_testdev_attach(vm, err, errlen) < 0)
        goto fail;
    if (system_init(vm, err, errlen) < 0)
        goto fail;
    pc_firmware_init(vm);
    return vm;
fail:
    vm_destroy(vm);
    return NULL;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    system_fini(vm);
    if (vm->vcpu) {
        signals_set_current(NULL);
        jc_fini(vm->vcpu);
    }
    if (vm->vcpu_map)
        munmap(vm->vcpu_map, vm->vcpu_map_len);
    bt_destroy(vm->bt);
    if (vm->cache)
        cache_destroy(vm->cache);
    paging_fini(vm);
    ram_destroy(&vm->ram);
    free(vm->pc_testdev);
    free(vm->pci_testdev);
    free(vm);
}

int vm_add_ram(struct vm *vm, uint32_t gpa, uint32_t size, char *err, size_t errlen)
{
    if (vm->ram_mapped) {
        snprintf(err, errlen, "RAM can only be added before the first run");
        return -1;
    }
    return ram_add(&vm->ram, gpa, size, err, errlen);
}

size_t vm_screen_text(struct vm *vm, char *out)
{
    const uint8_t *text = vm_phys_ptr(vm, VGA_TEXT_BASE, VGA_TEXT_SIZE);
    static const uint8_t blank[VGA_TEXT_SIZE];
    return vga_screen_text(&vm->vga, text ? text : blank, out);
}

void *vm_phys_ptr(struct vm *vm, uint32_t gpa, size_t n) { return ram_ptr(&vm->ram, gpa, n); }

void vm_get_regs(struct vm *vm, struct vm_regs *r)
{
    struct vcpu *v = vm->vcpu;
    memcpy(r->gpr, v->bt.gpr, sizeof r->gpr);
    r->eip = v->bt.eip;
    r->eflags = (v->bt.eflags & ~FL_IF) | (v->bt.vif ? FL_IF : 0) | 2;
}

void vm_set_regs(struct vm *vm, const struct vm_regs *r)
{
    struct vcpu *v = vm->vcpu;
    memcpy(v->bt.gpr, r->gpr, sizeof r->gpr);
    v->bt.eip = r->eip;
    v->bt.eflags = (r->eflags & ~(FL_IF | FL_TF | FL_RF | FL_VM)) | 2;
    v->bt.vif = (r->eflags & FL_IF) != 0;
}

void vm_get_fxsave(struct vm *vm, uint8_t out[512]) { memcpy(out, vm->vcpu->bt.fx_guest, 512); }
void vm_set_fxsave(struct vm *vm, const uint8_t in[512]) { memcpy(vm->vcpu->bt.fx_guest, in, 512); }

int vm_exit_status(struct vm *vm) { return vm->exit_status; }
const struct vm_exception *vm_last_exception(struct vm *vm) { return &vm->vcpu->exc; }
const char *vm_error(struct vm *vm) { return vm->vcpu->error; }

int vcpu_stop_error(struct vcpu *v, uint32_t eip, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->error, sizeof v->error, fmt, ap);
    va_end(ap);
    v->exit = EXIT_ERROR;
    v->bt.next_eip = eip;
    return BT_EXIT;
}

void stats_print(FILE *f, const char *prefix, int n, const char *const names[],
                 const char *const descs[], const uint64_t values[])
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", prefix, names[i]);
        fprintf(f, "  %-20s %12llu  %s\n", name, (unsigned long long)values[i], descs[i]);
    }
}

/* Print one X-macro list: its names, descriptions and the matching fields
 * of the struct `st` (all uint64_t, in list order). */
#define PRINT_LIST(f, prefix, LIST, st)                                       \
    do {                                                                      \
        static const char *const names_[] = { LIST(NAME_) };                  \
        static const char *const descs_[] = { LIST(DESC_) };                  \
        const uint64_t vals_[] = { LIST(VAL_) };                              \
        stats_print(f, prefix, (int)(sizeof vals_ / sizeof vals_[0]), names_, \
                    descs_, vals_);                                           \
    } while (0)
#define NAME_(name, desc) #name,
#define DESC_(name, desc) desc,

void vm_print_stats(struct vm *vm, FILE *f)
{
    const struct bt_stats *b1 = bt_get_stats(vm->bt), *b2 = bt_get_stats(vm->bt_step);
    struct bt_stats bs;
    struct cache_stats cs;
    struct mmu_stats ms;

    /* Two translators share the cache: blocks and one-instruction steps. */
#define X(name, desc) bs.name = b1->name + b2->name;
    BT_STATS(X)
#undef X
    cache_get_stats(vm->cache, &cs);
    mmu_get_stats(vm->mmu, &ms);
    fprintf(f, "bt86 statistics\n");
#define VAL_(name, desc) vm->stats.name,
    PRINT_LIST(f, "", VM_STATS, vm->stats);
#undef VAL_
#define VAL_(name, desc) bs.name,
    PRINT_LIST(f, "bt_", BT_STATS, bs);
#undef VAL_
    fprintf(f, "  %-20s %12.2f  %s\n", "bt_expansion",
            bs.guest_bytes ? (double)bs.host_bytes / (double)bs.guest_bytes : 0.0,
            "host code bytes per guest byte");
#define VAL_(name, desc) cs.name,
    PRINT_LIST(f, "cache_", CACHE_STATS, cs);
#undef VAL_
#define VAL_(name, desc) ms.name,
    PRINT_LIST(f, "mmu_", MMU_STATS, ms);
#undef VAL_
    fprintf(f, "  %-20s %12u  %s (peak %u, budget %u)\n", "mmu_maps", ms.maps_in_use,
            "host mappings of the shadow spaces", ms.maps_peak, ms.maps_budget);
    fprintf(f, "  %-20s %12u  %s\n", "mmu_traced", ms.traced_pages, "page-table pages traced");
    for (int k = 0; k <= K_COUNT; k++)
        if (vm->stats.callouts[k])
            fprintf(f, "  callouts_%-11s %12llu\n", k == K_COUNT ? "helpers" : insn_kind_name(k),
                    (unsigned long long)vm->stats.callouts[k]);
    {
        /* The costly events per second of CPU time the process used (the
         * guest's time on a shared host, where wall time is not). */
        double sec = (double)clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e9;
        uint64_t callouts = vm->stats.memop_callouts;
        for (int k = 0; k <= K_COUNT; k++)
            callouts += vm->stats.callouts[k];
        fprintf(f, "  %-20s %12.0f  %s\n", "rate_signals", (double)vm->stats.exits_signal / sec,
                "host signals per CPU second");
        fprintf(f, "  %-20s %12.0f  %s\n", "rate_host_calls", (double)ms.host_calls / sec,
                "host mapping calls (mmu_host_calls) per CPU second");
        fprintf(f, "  %-20s %12.0f  %s\n", "rate_callouts", (double)callouts / sec,
                "callouts (all kinds, memop included) per CPU second");
    }
}
