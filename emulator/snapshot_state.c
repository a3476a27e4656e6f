/* snapshot_state — the machine's sections of a snapshot (snapshot.h):
 * CONF (what must match), CLCK (guest time), CPU, the devices, DISK
 * (-snapshot overlays), and what a load rebuilds afterwards.
 *
 * Time: the devices' clock is the VM's guest clock (vm_clock_ns: host
 * CLOCK_MONOTONIC plus vm->clock_shift), so every device deadline and
 * count (PIT, LAPIC timer, HPET, ACPI PM timer) continues from the saved
 * point when the shift is set anew; the TSC likewise through its offset.
 * The CMOS clock follows the host's wall clock, as QEMU's default
 * -rtc clock=host does. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
#include <xxhash.h>

#include "emulator/hw/dev_state.h"
#include "emulator/paging.h"
#include "emulator/snapshot_int.h"
#include "emulator/system.h"

#define SECT(a, b, c, d) SNAP_ID(a, b, c, d)
#define ID_CONF SECT('C', 'O', 'N', 'F')
#define ID_CLCK SECT('C', 'L', 'C', 'K')
#define ID_CPU  SECT('C', 'P', 'U', ' ')
#define ID_DISK SECT('D', 'I', 'S', 'K')

/* ---- CONF: the machine a snapshot fits ---------------------------------- */

struct conf {
    uint64_t ram_size;
    uint32_t nregions;
    struct { uint32_t gpa; uint32_t pad; uint64_t size; } region[RAM_MAX_REGIONS];
    uint8_t isapc, has_apic, pc_testdev, pci_testdev;
    uint16_t debug_exit_base, debug_exit_size;
    uint32_t cpuid_edx_clear, cpuid_ext_edx_clear;
    struct { uint8_t present, readonly, overlay, pad[5]; uint64_t size, base_hash; } disk[4];
};

/* A read-only or -snapshot drive's image is never written: the XXH3 of
 * its first MiB tells whether a snapshot's overlay and IDE state belong
 * over it. A writable image changes with the guest (it is its own state,
 * see snapshot.h): only its size is compared. */
#define BASE_HASH_BYTES (1u << 20)
static uint64_t base_hash(const struct disk *d)
{
    size_t n = d->size < BASE_HASH_BYTES ? (size_t)d->size : BASE_HASH_BYTES;
    uint8_t *buf = malloc(n ? n : 1);
    uint64_t h = 0;
    if (buf && d->ops->read(d->be, 0, buf, n) == 0)
        h = XXH3_64bits(buf, n);
    free(buf);
    return h;
}

static void conf_of(struct vm *vm, struct conf *c)
{
    memset(c, 0, sizeof *c);
    c->ram_size = vm->cfg.ram_size;
    c->nregions = (uint32_t)vm->ram.n;
    for (int i = 0; i < vm->ram.n; i++) {
        c->region[i].gpa = vm->ram.r[i].gpa;
        c->region[i].size = vm->ram.r[i].size;
    }
    c->isapc = vm->cfg.isapc;
    c->has_apic = vm->has_apic;
    c->pc_testdev = vm->pc_testdev != NULL;
    c->pci_testdev = vm->pci_testdev != NULL;
    c->debug_exit_base = vm->cfg.debug_exit_base;
    c->debug_exit_size = vm->cfg.debug_exit_size;
    c->cpuid_edx_clear = vm->cfg.cpuid_edx_clear;
    c->cpuid_ext_edx_clear = vm->cfg.cpuid_ext_edx_clear;
    for (int i = 0; i < 4; i++) {
        const struct disk *d = vm->ide.ch[i / 2].drive[i % 2].disk;
        if (!d)
            continue;
        c->disk[i].present = 1;
        c->disk[i].readonly = d->readonly;
        c->disk[i].overlay = d->overlay != NULL;
        c->disk[i].size = d->size;
        if (d->readonly || d->overlay)
            c->disk[i].base_hash = base_hash(d);
    }
}

int snap_config_put(struct snap_out *o, struct vm *vm)
{
    struct conf c;
    conf_of(vm, &c);
    return snap_put_section(o, ID_CONF, 1, &c, sizeof c);
}

static const char *drive_mode(uint8_t present, uint8_t readonly, uint8_t overlay)
{
    return !present ? "no drive" : readonly ? "read-only" : overlay ? "-snapshot" : "writable";
}

static int conf_check(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    struct conf want, have;

    (void)s;

    if (n != sizeof want) {
        snprintf(err, errlen, "the snapshot's machine description has %zu bytes, not %zu", n,
                 sizeof want);
        return -1;
    }
    memcpy(&want, p, sizeof want);
    conf_of(vm, &have);
    if (want.ram_size != have.ram_size) {
        snprintf(err, errlen, "the snapshot is of a machine with %llu MiB of RAM, this one has %llu "
                 "(-m)", (unsigned long long)(want.ram_size >> 20),
                 (unsigned long long)(have.ram_size >> 20));
        return -1;
    }
    if (memcmp(&want.nregions, &have.nregions, sizeof want.nregions + sizeof want.region)) {
        snprintf(err, errlen, "the snapshot's RAM regions differ from this machine's");
        return -1;
    }
    if (want.isapc != have.isapc || want.has_apic != have.has_apic) {
        snprintf(err, errlen, "the snapshot is of machine %s, this one is %s (-M)",
                 want.isapc ? "isapc" : "pc", have.isapc ? "isapc" : "pc");
        return -1;
    }
    if (want.pc_testdev != have.pc_testdev || want.pci_testdev != have.pci_testdev ||
        want.debug_exit_base != have.debug_exit_base ||
        want.debug_exit_size != have.debug_exit_size) {
        snprintf(err, errlen, "the snapshot's devices differ from this machine's (-device)");
        return -1;
    }
    if (want.cpuid_edx_clear != have.cpuid_edx_clear ||
        want.cpuid_ext_edx_clear != have.cpuid_ext_edx_clear) {
        snprintf(err, errlen, "the snapshot's CPU features differ from this machine's (-cpu)");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        if (want.disk[i].present != have.disk[i].present ||
            want.disk[i].readonly != have.disk[i].readonly ||
            want.disk[i].overlay != have.disk[i].overlay) {
            snprintf(err, errlen, "drive %d: the snapshot has %s, this machine %s", i,
                     drive_mode(want.disk[i].present, want.disk[i].readonly, want.disk[i].overlay),
                     drive_mode(have.disk[i].present, have.disk[i].readonly, have.disk[i].overlay));
            return -1;
        }
        if (want.disk[i].size != have.disk[i].size) {
            snprintf(err, errlen, "drive %d: the snapshot's disk has %llu bytes, this one %llu "
                     "(another image)", i, (unsigned long long)want.disk[i].size,
                     (unsigned long long)have.disk[i].size);
            return -1;
        }
        if (want.disk[i].base_hash != have.disk[i].base_hash) {
            snprintf(err, errlen, "drive %d: the snapshot was taken over another image (its "
                     "contents differ)", i);
            return -1;
        }
    }
    return 0;
}

static void conf_apply(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n)
{
    (void)s, (void)vm, (void)p, (void)n;
}

/* ---- CLCK: guest time ----------------------------------------------------- */

struct clck {
    uint64_t guest_ns;          /* the devices' clock */
    uint64_t guest_tsc;
};

static int clck_put(struct snap_out *o, struct vm *vm)
{
    struct clck c = { vm_clock_ns(vm), __rdtsc() + vm->vcpu->bt.tsc_offset };
    return snap_put_section(o, ID_CLCK, 1, &c, sizeof c);
}

static int clck_check(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n, char *err, size_t errlen)
{
    (void)s, (void)vm, (void)p;
    if (n != sizeof(struct clck)) {
        snprintf(err, errlen, "the snapshot's CLCK section has %zu bytes, not %zu", n,
                 sizeof(struct clck));
        return -1;
    }
    return 0;
}

static void clck_apply(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n)
{
    struct clck c;
    (void)s, (void)n;
    memcpy(&c, p, sizeof c);
    vm->clock_shift += c.guest_ns - vm_clock_ns(vm);
    vm->vcpu->bt.tsc_offset = c.guest_tsc - __rdtsc();
}

/* ---- CPU ------------------------------------------------------------------ */

#define CPUF(member) { offsetof(struct vcpu, member), sizeof(((struct vcpu *)0)->member) }
/* Everything the guest can see or that decides what it sees next: the
 * registers, the hidden parts of the segment registers, the x87/SSE image
 * (FXSAVE layout, MXCSR inside), the virtual IF, a waiting interrupt and
 * the interrupt shadow, HLT, the MSRs, the PAE PDPTE registers, the debug
 * registers and a pending RF/MOV SS #DB hold, virtual-8086 mode (EFLAGS.VM
 * is kept apart from the EFLAGS image). */
static const struct dev_field cpu_f[] = {
    CPUF(bt.gpr), CPUF(bt.eip), CPUF(bt.eflags), CPUF(bt.vif), CPUF(bt.irq_pending),
    CPUF(bt.inhibit_irq), CPUF(bt.fx_guest),
    CPUF(cr0), CPUF(cr2), CPUF(cr3), CPUF(cr4), CPUF(cpl),
    CPUF(seg), CPUF(ldtr), CPUF(tr), CPUF(gdtr), CPUF(idtr), CPUF(idt_loaded),
    CPUF(dr), CPUF(dbx.rf), CPUF(dbx.rf_loaded), CPUF(dbx.ss_shadow),
    CPUF(sysenter_cs), CPUF(sysenter_esp), CPUF(sysenter_eip),
    CPUF(pat), CPUF(misc_enable), CPUF(bios_sign_id), CPUF(halted),
    CPUF(efer), CPUF(pdpte), CPUF(pf_return), CPUF(vm86),
};
static const struct dev_desc cpu_state = { "CPU ", 2, cpu_f, sizeof cpu_f / sizeof cpu_f[0],
                                           0, NULL, NULL, NULL };

/* ---- devices -------------------------------------------------------------- */

static void *dev_uart(struct vm *vm) { return &vm->uart; }
static void *dev_pic(struct vm *vm) { return &vm->pic; }
static void *dev_pit(struct vm *vm) { return &vm->pit; }
static void *dev_rtc(struct vm *vm) { return &vm->rtc; }
static void *dev_ps2(struct vm *vm) { return &vm->ps2; }
static void *dev_misc(struct vm *vm) { return &vm->misc; }
static void *dev_ide(struct vm *vm) { return &vm->ide; }
static void *dev_pci(struct vm *vm) { return &vm->pci; }
static void *dev_vga(struct vm *vm) { return &vm->vga; }
static void *dev_fw_cfg(struct vm *vm) { return &vm->fw_cfg; }
static void *dev_lapic(struct vm *vm) { return vm->has_apic ? &vm->lapic : NULL; }
static void *dev_ioapic(struct vm *vm) { return vm->has_apic ? &vm->ioapic : NULL; }
static void *dev_acpi_pm(struct vm *vm) { return vm->has_apic ? &vm->acpi_pm : NULL; }
static void *dev_hpet(struct vm *vm) { return vm->has_apic ? &vm->hpet : NULL; }
static void *dev_pc_testdev(struct vm *vm) { return vm->pc_testdev; }
static void *dev_pci_testdev(struct vm *vm) { return vm->pci_testdev; }
static void *dev_cpu(struct vm *vm) { return vm->vcpu; }

static const struct { const struct dev_desc *d; void *(*dev)(struct vm *); } devs[] = {
    { &cpu_state, dev_cpu },
    { &dev_uart_state, dev_uart }, { &dev_pic_state, dev_pic }, { &dev_pit_state, dev_pit },
    { &dev_rtc_state, dev_rtc }, { &dev_ps2_state, dev_ps2 }, { &dev_misc_state, dev_misc },
    { &dev_ide_state, dev_ide }, { &dev_pci_state, dev_pci }, { &dev_vga_state, dev_vga },
    { &dev_fw_cfg_state, dev_fw_cfg }, { &dev_lapic_state, dev_lapic },
    { &dev_ioapic_state, dev_ioapic }, { &dev_acpi_pm_state, dev_acpi_pm },
    { &dev_hpet_state, dev_hpet }, { &dev_pc_testdev_state, dev_pc_testdev },
    { &dev_pci_testdev_state, dev_pci_testdev },
};
#define NDEVS (sizeof devs / sizeof devs[0])

static uint32_t dev_id(const struct dev_desc *d)
{
    return SNAP_ID(d->name[0], d->name[1], d->name[2], d->name[3]);
}

static int dev_put(struct snap_out *o, struct vm *vm, size_t i)
{
    void *dev = devs[i].dev(vm);
    size_t n = dev_state_len(devs[i].d);
    uint8_t *p;
    int rc;

    if (!dev)
        return 0;
    p = malloc(n);
    if (!p)
        return snap_put_section(o, dev_id(devs[i].d), devs[i].d->version, NULL, 0);
    dev_state_save(devs[i].d, dev, p);
    rc = snap_put_section(o, dev_id(devs[i].d), devs[i].d->version, p, n);
    free(p);
    return rc;
}

static int dev_check(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n,
                     char *err, size_t errlen)
{
    const struct dev_desc *d = devs[s->dev].d;
    void *dev = devs[s->dev].dev(vm);
    char name[8];

    snap_id_name(s->id, name);
    if (!dev) {
        snprintf(err, errlen, "the snapshot has a %s device, which this machine does not have", name);
        return -1;
    }
    if (n != dev_state_len(d)) {
        snprintf(err, errlen, "the snapshot's %s section has %zu bytes, not %zu (another bt86 build?)",
                 name, n, dev_state_len(d));
        return -1;
    }
    if (dev_state_check(d, dev, p) < 0) {
        snprintf(err, errlen, "the snapshot's %s state is invalid (corrupt)", name);
        return -1;
    }
    return 0;
}

static void dev_apply(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n)
{
    (void)n;
    dev_state_load(devs[s->dev].d, devs[s->dev].dev(vm), p);
}

/* ---- DISK: the -snapshot overlays ------------------------------------------ */

/* Payload: for each drive with an overlay, u32 drive index, u64 sector
 * count, then (u64 sector, 512 bytes) per sector. */
static void disk_put_sector(void *opaque, uint64_t sector, const uint8_t *data)
{
    struct snap_buf *b = opaque;
    sb_u64(b, sector);
    sb_put(b, data, DISK_SECTOR);
}

static struct disk *drive(struct vm *vm, uint32_t i)
{
    return i < 4 ? vm->ide.ch[i / 2].drive[i % 2].disk : NULL;
}

static int disk_put(struct snap_out *o, struct vm *vm)
{
    struct snap_buf b = { 0 };
    for (uint32_t i = 0; i < 4; i++) {
        struct disk *d = drive(vm, i);
        if (!d || !d->overlay)
            continue;
        sb_u32(&b, i);
        sb_u64(&b, disk_overlay_sectors(d));
        disk_overlay_each(d, disk_put_sector, &b);
    }
    return snap_put_buf(o, ID_DISK, 1, &b);
}

static int disk_check(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n,
                      char *err, size_t errlen)
{
    (void)s;
    for (size_t i = 0; i < n;) {
        uint32_t idx;
        uint64_t count, sector;
        struct disk *d;
        if (n - i < 12)
            goto bad;
        memcpy(&idx, p + i, 4);
        memcpy(&count, p + i + 4, 8);
        i += 12;
        d = drive(vm, idx);
        if (!d || !d->overlay) {
            snprintf(err, errlen, "the snapshot has written sectors of drive %u, which is not a "
                     "-snapshot drive here", idx);
            return -1;
        }
        if (count > (n - i) / (8 + DISK_SECTOR))
            goto bad;
        for (uint64_t k = 0; k < count; k++, i += 8 + DISK_SECTOR) {
            memcpy(&sector, p + i, 8);
            if (sector >= d->size / DISK_SECTOR)
                goto bad;
        }
    }
    return 0;
bad:
    snprintf(err, errlen, "corrupt DISK section in the snapshot");
    return -1;
}

static void disk_apply(const struct snap_section *s, struct vm *vm, const uint8_t *p, size_t n)
{
    (void)s;
    for (uint32_t i = 0; i < 4; i++)
        if (drive(vm, i) && drive(vm, i)->overlay)
            disk_overlay_drop(drive(vm, i));
    for (size_t i = 0; i < n;) {
        uint32_t idx;
        uint64_t count, sector;
        memcpy(&idx, p + i, 4);
        memcpy(&count, p + i + 4, 8);
        i += 12;
        for (uint64_t k = 0; k < count; k++, i += 8 + DISK_SECTOR) {
            memcpy(&sector, p + i, 8);
            disk_write(drive(vm, idx), sector, p + i + 8, 1);
        }
    }
}

/* ---- the table -------------------------------------------------------------- */

/* Devices: the id is the dev_desc's name (a mismatch fails every round
 * trip), the version the dev_desc's (snap_section_version). */
#define DEV(a, b, c, d, i) { SNAP_ID(a, b, c, d), 0, dev_check, dev_apply, i }
const struct snap_section snap_sections[] = {
    { ID_CONF, 1, conf_check, conf_apply, -1 },     /* first: snapshot.c relies on it */
    DEV('U', 'A', 'R', 'T', 1), DEV('P', 'I', 'C', ' ', 2), DEV('P', 'I', 'T', ' ', 3),
    DEV('R', 'T', 'C', ' ', 4), DEV('P', 'S', '2', ' ', 5), DEV('M', 'I', 'S', 'C', 6),
    DEV('I', 'D', 'E', ' ', 7), DEV('P', 'C', 'I', ' ', 8), DEV('V', 'G', 'A', ' ', 9),
    DEV('F', 'W', 'C', 'F', 10), DEV('L', 'A', 'P', 'C', 11), DEV('I', 'O', 'A', 'P', 12),
    DEV('A', 'C', 'P', 'I', 13), DEV('H', 'P', 'E', 'T', 14), DEV('T', 'D', 'E', 'V', 15),
    DEV('P', 'T', 'D', 'V', 16),
    DEV('C', 'P', 'U', ' ', 0),
    { ID_DISK, 1, disk_check, disk_apply, -1 },
    { ID_CLCK, 1, clck_check, clck_apply, -1 },
    { 0, 0, NULL, NULL, -1 },
};

const struct snap_section *snap_section_find(uint32_t id)
{
    for (const struct snap_section *s = snap_sections; s->id; s++)
        if (s->id == id)
            return s;
    return NULL;
}

uint32_t snap_section_version(const struct snap_section *s)
{
    return s->dev < 0 ? s->version : devs[s->dev].d->version;
}

bool snap_section_required(const struct snap_section *s, struct vm *vm)
{
    return s->dev < 0 || devs[s->dev].dev(vm) != NULL;
}

int snap_state_put(struct snap_out *o, struct vm *vm)
{
    int rc = 0;
    for (size_t i = 0; i < NDEVS; i++)
        rc |= dev_put(o, vm, i);
    rc |= disk_put(o, vm);
    rc |= clck_put(o, vm);
    return rc ? -1 : 0;
}

void snap_state_loaded(struct vm *vm)
{
    struct vcpu *v = vm->vcpu;

    /* Translations are not saved: drop them, the jump caches, the shadow
     * spaces and their tracing, and what adaptive translation learnt. */
    mmu_flush_all(vm->mmu);
    vm_flush_code(vm);
    memset(vm->adapt, 0, ADAPT_SLOTS * sizeof *vm->adapt);
    v->pf = (struct pf_note){ 0 };
    v->step = (struct step_state){ 0 };
    v->smc_cur = NULL;
    v->bt.exc_pending = 0;
    v->bt.tf_set = 0;
    v->pg = paging_on(v);
    jc_reset_modes(v);
    v->bt.membase = 0;
    vm->cur_space = NULL;
    v->nsegsets = 0;
    v->segset = 0;
    v->segset_any[0] = ~0u;     /* recompute every key below */
    memset(v->segset_memo, 0, sizeof v->segset_memo);
    derive_forget(v);
    v->dbx.ncovered = 0;
    v->dbx.tf_step = v->dbx.unrun = v->dbx.delivered = v->dbx.completed = false;
    v->dbx.nacc = 0;
    segset_update(v);           /* also the segment-limit set and the jump cache's mode */
    vcpu_mode_changed(v);
    dbx_rearm(v);
    events_clock_changed(v);
}
