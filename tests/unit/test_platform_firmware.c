/* The firmware data, parsed back the way kernels find it: the BDA fields,
 * the MP floating pointer by xv6's and Linux's search (EBDA, last KiB of
 * base memory, 0xF0000-0xFFFFF), the MP table's entries; the RSDP by the
 * ACPI search (16-byte boundaries in 0xE0000-0xFFFFF), every ACPI table
 * reached from the RSDT with its checksum, and their contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "emulator/hw/apic.h"
#include "emulator/hw/firmware.h"

static uint8_t *mem;

static int setup(void **state)
{
    mem = test_calloc(1, FW_LOW_END);
    fw_build(mem, true, 0x683, 0x0383F9FF);
    return 0;
}

static int teardown(void **state)
{
    test_free(mem);
    return 0;
}

static uint16_t r16(uint32_t a) { return (uint16_t)(mem[a] | mem[a + 1] << 8); }
static uint32_t r32(uint32_t a) { return r16(a) | (uint32_t)r16(a + 2) << 16; }

static uint8_t sum(uint32_t a, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + mem[a + i]);
    return s;
}

static void bda(void **state)
{
    assert_int_equal(r16(0x400), 0x3F8);
    assert_int_equal(r16(0x40E), 0x9FC0);
    assert_int_equal(r16(0x413), 639);
    assert_int_equal(mem[0x9FC00], 1);                  /* EBDA size in KiB */
}

/* MP spec §4: search a range on 16-byte boundaries for a valid "_MP_". */
static uint32_t mp_search(uint32_t a, uint32_t len)
{
    for (uint32_t p = a; p + 16 <= a + len; p += 16)
        if (memcmp(mem + p, "_MP_", 4) == 0 && sum(p, 16) == 0)
            return p;
    return 0;
}

static void mp_tables(void **state)
{
    uint32_t ebda = (uint32_t)r16(0x40E) << 4, base = (uint32_t)r16(0x413) * 1024;
    uint32_t fp = mp_search(ebda, 1024);
    if (!fp)
        fp = mp_search(base - 1024, 1024);
    if (!fp)
        fp = mp_search(0xF0000, 0x10000);
    assert_int_not_equal(fp, 0);
    assert_int_equal(mem[fp + 8], 1);                   /* length in paragraphs */
    assert_int_equal(mem[fp + 9], 4);                   /* revision 1.4 */
    assert_int_equal(mem[fp + 11], 0);                  /* a table follows */
    assert_int_equal(mem[fp + 12] & 0x80, 0);           /* virtual wire */

    uint32_t t = r32(fp + 4);
    assert_memory_equal(mem + t, "PCMP", 4);
    assert_int_equal(sum(t, r16(t + 4)), 0);
    assert_int_equal(mem[t + 6], 4);
    assert_int_equal(r32(t + 36), LAPIC_BASE);
    int count = r16(t + 34), cpus = 0, buses = 0, ioapics = 0, lints = 0;
    int pin_of_irq[16];
    for (int i = 0; i < 16; i++)
        pin_of_irq[i] = -1;
    uint32_t e = t + 44;
    for (int i = 0; i < count; i++) {
        switch (mem[e]) {
        case 0:
            cpus++;
            assert_int_equal(mem[e + 1], 0);            /* APIC ID = the LAPIC's */
            assert_int_equal(mem[e + 3], 3);            /* enabled, BSP */
            assert_int_equal(r32(e + 4), 0x683);
            e += 20;
            continue;
        case 1:
            buses++;
            assert_memory_equal(mem + e + 2, "ISA   ", 6);
            break;
        case 2:
            ioapics++;
            assert_int_equal(mem[e + 1], IOAPIC_ID);
            assert_int_equal(mem[e + 3], 1);
            assert_int_equal(r32(e + 4), IOAPIC_BASE);
            break;
        case 3:
            assert_int_equal(mem[e + 1], 0);            /* INT */
            assert_int_equal(mem[e + 6], IOAPIC_ID);
            pin_of_irq[mem[e + 5]] = mem[e + 7];
            if (mem[e + 5] == 9)
                assert_int_equal(r16(e + 2), 0xD);      /* SCI: level, active high */
            break;
        case 4:
            lints++;
            assert_int_equal(mem[e + 1], mem[e + 7] == 0 ? 3 : 1);   /* ExtINT, NMI */
            assert_int_equal(mem[e + 6], 0xFF);
            break;
        default:
            fail_msg("MP entry type %d", mem[e]);
        }
        e += 8;
    }
    assert_int_equal(e - t, r16(t + 4));
    assert_int_equal(cpus, 1);
    assert_int_equal(buses, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(lints, 2);
    assert_int_equal(pin_of_irq[0], 2);
    assert_int_equal(pin_of_irq[2], -1);                /* the cascade */
    for (int irq = 1; irq < 16; irq++)
        if (irq != 2)
            assert_int_equal(pin_of_irq[irq], irq);
}

static uint32_t find_table(uint32_t rsdt, const char *sig)
{
    uint32_t n = (r32(rsdt + 4) - 36) / 4;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = r32(rsdt + 36 + 4 * i);
        if (memcmp(mem + t, sig, 4) == 0)
            return t;
    }
    return 0;
}

static void acpi_tables(void **state)
{
    uint32_t rsdp = 0;
    for (uint32_t p = 0xE0000; p < 0x100000; p += 16)
        if (memcmp(mem + p, "RSD PTR ", 8) == 0 && sum(p, 20) == 0) {
            rsdp = p;
            break;
        }
    assert_int_not_equal(rsdp, 0);
    assert_int_equal(mem[rsdp + 15], 0);                /* ACPI 1.0 */
    uint32_t rsdt = r32(rsdp + 16);
    assert_memory_equal(mem + rsdt, "RSDT", 4);
    assert_int_equal(sum(rsdt, r32(rsdt + 4)), 0);
    assert_int_equal((r32(rsdt + 4) - 36) / 4, 3);
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t t = r32(rsdt + 36 + 4 * i);
        assert_in_range(t, 0xE0000, 0xFFFFF);
        assert_int_equal(sum(t, r32(t + 4)), 0);
    }

    uint32_t fadt = find_table(rsdt, "FACP");
    assert_int_not_equal(fadt, 0);
    assert_int_equal(r32(fadt + 4), 116);
    assert_int_equal(r16(fadt + 46), 9);                /* SCI_INT */
    assert_int_equal(r32(fadt + 76), 0x608);            /* PM_TMR_BLK */
    assert_int_equal(mem[fadt + 91], 4);
    assert_int_equal(r32(fadt + 56), 0x600);
    assert_int_equal(r32(fadt + 64), 0x604);
    assert_int_equal(r32(fadt + 112) & (1u << 8), 0);   /* TMR_VAL_EXT: 24 bits */
    uint32_t facs = r32(fadt + 36), dsdt = r32(fadt + 40);
    assert_memory_equal(mem + facs, "FACS", 4);
    assert_int_equal(facs % 64, 0);
    assert_int_equal(r32(facs + 4), 64);
    assert_memory_equal(mem + dsdt, "DSDT", 4);
    assert_true(r32(dsdt + 4) > 36);                    /* some AML */
    assert_int_equal(sum(dsdt, r32(dsdt + 4)), 0);
    assert_int_equal(mem[dsdt + 36], 0x08);             /* NameOp */

    uint32_t madt = find_table(rsdt, "APIC");
    assert_int_not_equal(madt, 0);
    assert_int_equal(r32(madt + 36), LAPIC_BASE);
    assert_int_equal(r32(madt + 40), 1);                /* PCAT_COMPAT */
    int lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
    for (uint32_t e = madt + 44; e < madt + r32(madt + 4); e += mem[e + 1]) {
        assert_true(mem[e + 1] >= 2);
        switch (mem[e]) {
        case 0:
            lapics++;
            assert_int_equal(mem[e + 3], 0);
            assert_int_equal(r32(e + 4), 1);
            break;
        case 1:
            ioapics++;
            assert_int_equal(mem[e + 2], IOAPIC_ID);
            assert_int_equal(r32(e + 4), IOAPIC_BASE);
            assert_int_equal(r32(e + 8), 0);
            break;
        case 2:
            overrides++;
            if (mem[e + 3] == 0) {
                assert_int_equal(r32(e + 4), 2);
            } else {
                assert_int_equal(mem[e + 3], 9);
                assert_int_equal(r32(e + 4), 9);
                assert_int_equal(r16(e + 8), 0xD);
            }
            break;
        case 4:
            nmis++;
            assert_int_equal(mem[e + 5], 1);
            break;
        default:
            fail_msg("MADT entry type %d", mem[e]);
        }
    }
    assert_int_equal(lapics, 1);
    assert_int_equal(ioapics, 1);
    assert_int_equal(overrides, 2);
    assert_int_equal(nmis, 1);

    uint32_t hpet = find_table(rsdt, "HPET");
    assert_int_not_equal(hpet, 0);
    assert_int_equal(r32(hpet + 4), 56);
    assert_int_equal(r32(hpet + 36), 0x8086A201);
    assert_int_equal(r32(hpet + 44), HPET_BASE);
    assert_int_equal(r32(hpet + 48), 0);
}

/* Machine isapc: BIOS data only, no MP or ACPI tables. */
static void isapc(void **state)
{
    uint8_t *m = test_calloc(1, FW_LOW_END);
    fw_build(m, false, 0x683, 0);
    assert_int_equal(m[0x413] | m[0x414] << 8, 639);
    for (uint32_t p = 0xE0000; p < 0x100000; p += 16) {
        assert_memory_not_equal(m + p, "_MP_", 4);
        assert_memory_not_equal(m + p, "RSD PTR ", 8);
    }
    test_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bda),
        cmocka_unit_test(mp_tables),
        cmocka_unit_test(acpi_tables),
        cmocka_unit_test(isapc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
