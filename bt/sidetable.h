/* sidetable — internal to bt/: what a side-table row's flags say about
 * the host state from its host offset on (struct tb_pcmap, cache.h), so
 * that bt_recover (recover.c) can rebuild the guest state at any host PC
 * that can fault or poll. The translator (xlate_*.c) records them with
 * xl_pc_state right after the host instruction that makes them true. */
#pragma once

/* Row 0 of every block: its entry poll, before the first instruction ran
 * (guest_off 0, nothing to undo). */
#define TB_PC_ENTRY             1
/* A string instruction here added segment bases to ESI (the source's
 * segment, SEG_*) and/or EDI (ES): a fault mid-REP subtracts them again. */
#define TB_PC_STR_ES            2
#define TB_PC_STR_SRC(seg)      ((uint16_t)(((seg) + 1) << 12))
#define TB_PC_STR_SRC_SEG(flags) ((int)((flags) >> 12 & 7) - 1)
/* The guest register reg (0..7) is borrowed here; its value is in host R10. */
#define TB_PC_SPILL(reg) (((reg) + 1) << 8)
#define TB_PC_SPILLED_REG(flags) ((int)((flags) >> 8 & 15) - 1)
/* ESP is behind by a pending displacement here (bt/xlate_espdelta.c): the
 * guest's ESP is host ESP + delta, delta a multiple of 4 in [-128, 124],
 * kept as delta / 4 in bits 2..7. */
#define TB_PC_ESP               0x8000
#define TB_PC_ESP_MASK          (TB_PC_ESP | 0xfc)
#define TB_PC_ESP_DELTA(d)      ((uint16_t)(TB_PC_ESP | ((((d) / 4) & 63) << 2)))
#define TB_PC_ESP_OF(flags)     (((flags) & TB_PC_ESP) ? ((((int)(flags) >> 2 & 63) ^ 32) - 32) * 4 : 0)
#define TB_PC_ESP_MIN           (-128)
#define TB_PC_ESP_MAX           124
