/* board — what QEMU's `pc` machine has around the CPU and the ISA devices,
 * and `isapc` has not: a local APIC, an I/O APIC, the ACPI PM block with
 * its timer and an HPET, and the wires between them (emulator/hw/ holds
 * the devices; this file is their board). The 8259's INTR goes to LINT0
 * (vm.c on_intr); every ISA IRQ goes to the 8259s and the I/O APIC
 * (hw/isa_irq.c); the I/O APIC's messages go to the local APIC, whose EOIs
 * of level-triggered vectors go back to the I/O APIC. */
#include "emulator/hw/firmware.h"
#include "emulator/paging.h"

/* ACPI sleep: the DSDT offers only S5 (SLP_TYP 0), soft-off; other types
 * are ignored, as by a chipset with nothing wired to them. */
static void on_acpi_sleep(void *opaque, int slp_typ)
{
    struct vm *vm = opaque;
    if (slp_typ == 0)
        vm->vcpu->exit = EXIT_POWEROFF;
}

static void on_lapic_intr(void *opaque, int level)
{
    struct vm *vm = opaque;
    intr_line(vm->vcpu, level);
}

static void on_lapic_eoi(void *opaque, uint8_t vector)
{
    struct vm *vm = opaque;
    ioapic_eoi(&vm->ioapic, vector);
}

static void on_ioapic_message(void *opaque, uint8_t vector, int mode, bool level_trig,
                              uint8_t dest, bool logical)
{
    struct vm *vm = opaque;
    lapic_deliver(&vm->lapic, vector, mode, level_trig, dest, logical);
}

void pc_firmware_init(struct vm *vm)
{
    uint32_t signature, features;
    cpuid_signature(vm->vcpu, &signature, &features);
    fw_build(vm->ram.r[0].host, vm->has_apic, signature, features);
}

static const struct vm_mmio_ops lapic_ops = { lapic_mmio_read, lapic_mmio_write };
static const struct vm_mmio_ops ioapic_ops = { ioapic_mmio_read, ioapic_mmio_write };
static const struct vm_mmio_ops hpet_ops = { hpet_mmio_read, hpet_mmio_write };

int pc_board_init(struct vm *vm, clock_fn monotonic_ns, char *err, size_t errlen)
{
    vm->isa.pic = &vm->pic;
    if (vm->cfg.isapc)
        return 0;
    vm->has_apic = true;
    lapic_init(&vm->lapic, monotonic_ns, vm, on_lapic_intr, vm, on_lapic_eoi, vm);
    ioapic_init(&vm->ioapic, on_ioapic_message, vm);
    vm->isa.ioapic = &vm->ioapic;
    vm->isa.lapic = &vm->lapic;
    acpi_pm_init(&vm->acpi_pm, &vm->io, ACPI_PM_BASE, monotonic_ns, vm, on_acpi_sleep, vm);
    hpet_init(&vm->hpet, monotonic_ns, vm, isa_irq_line, &vm->isa, isa_irq_busy);
    if (vm_mmio_register(vm, LAPIC_BASE, LAPIC_SIZE, &lapic_ops, &vm->lapic, err, errlen) < 0 ||
        vm_mmio_register(vm, IOAPIC_BASE, IOAPIC_SIZE, &ioapic_ops, &vm->ioapic, err, errlen) < 0 ||
        vm_mmio_register(vm, HPET_BASE, HPET_SIZE, &hpet_ops, &vm->hpet, err, errlen) < 0)
        return -1;
    return 0;
}

