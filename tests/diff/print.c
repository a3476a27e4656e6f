/* print — a case as the initial state plus Capstone (32-bit) assembly. */
#include <capstone/capstone.h>
#include <string.h>
#include "compare.h"

static void disasm(csh h, const uint8_t *code, uint32_t from, uint32_t to, FILE *f) {
    uint32_t a = from;
    while (a < to) {
        cs_insn *insn;
        const uint8_t *p = code + (a - DT_CODE);
        if (cs_disasm(h, p, to - a, a, 1, &insn) != 1) {
            fprintf(f, "    %08x  %02x                      (bad)\n", a, p[0]);
            a++;
            continue;
        }
        char hex[48] = "";
        for (int i = 0; i < insn->size && i < 15; i++) snprintf(hex + 2 * i, 3, "%02x", insn->bytes[i]);
        fprintf(f, "    %08x  %-24s %s %s\n", a, hex, insn->mnemonic, insn->op_str);
        a += insn->size;
        cs_free(insn, 1);
    }
}

void dt_print_case(const struct dt_case *c, FILE *f) {
    static const char *const n[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    fprintf(f, "  initial:");
    for (int i = 0; i < 8; i++) fprintf(f, " %s=%08x", n[i], c->in.gpr[i]);
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    memcpy(&fcw, c->in.fx, 2); memcpy(&fsw, c->in.fx + 2, 2); memcpy(&mxcsr, c->in.fx + 24, 4);
    fprintf(f, " eflags=%08x\n           fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x\n", c->in.eflags, fcw, fsw, c->in.fx[4], mxcsr);
    csh h;
    if (cs_open(CS_ARCH_X86, dt_real ? CS_MODE_16 : CS_MODE_32, &h) != CS_ERR_OK) return;
    const uint8_t *code = c->in.mem + dt_mem_index(DT_CODE);
    disasm(h, code, DT_CODE, dt_stop_eip(c), f);
    fprintf(f, "    %08x  (stop)\n", dt_stop_eip(c));
    if (c->code_len > c->main_len + 1) {
        fprintf(f, "    -- local functions --\n");
        disasm(h, code, dt_stop_eip(c) + 1, DT_CODE + c->code_len, f);
    }
    cs_close(&h);
}
