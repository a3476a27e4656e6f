/* fw_tables — the BIOS data area and the EBDA (firmware.h), then the MP
 * and ACPI tables on machine pc.
 *
 * BDA (IBM PC/AT Technical Reference; Ralf Brown's "BIOS data area"):
 * 0x400 COM1-4 base ports, 0x40E the EBDA segment, 0x410 the equipment
 * word, 0x413 the base memory size in KiB, which ends where the EBDA
 * starts. Kernels look for the MP floating pointer through these two
 * (MP spec §4: the EBDA's first KiB, the last KiB of base memory). */
#include "emulator/hw/firmware.h"

#define BDA_COM1       0x400
#define BDA_EBDA_SEG   0x40E
#define BDA_EQUIPMENT  0x410
#define BDA_BASE_KIB   0x413
/* Equipment word: x87 present (bit 1), 80x25 colour (bits 5:4 = 2), one
 * serial port (bits 11:9). */
#define EQUIPMENT      (0x0002u | 0x0020u | 1u << 9)

void fw_build(uint8_t *low_mem, bool apic, uint32_t cpu_signature, uint32_t cpu_features)
{
    memset(low_mem + FW_EBDA_BASE, 0, FW_EBDA_KIB * 1024);
    wr16(low_mem + BDA_COM1, 0x3F8);
    wr16(low_mem + BDA_EBDA_SEG, (uint16_t)(FW_EBDA_BASE >> 4));
    wr16(low_mem + BDA_EQUIPMENT, EQUIPMENT);
    wr16(low_mem + BDA_BASE_KIB, (uint16_t)FW_BASE_MEM_KIB);
    fw_w8(low_mem + FW_EBDA_BASE, FW_EBDA_KIB);
    if (!apic)
        return;
    fw_mptable_build(low_mem, cpu_signature, cpu_features);
    fw_acpi_build(low_mem);
}
