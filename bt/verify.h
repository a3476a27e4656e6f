/* bt/verify.h — the isolation verifier (DESIGN §2, "The verifier").
 *
 * Disassembles a translated block (Capstone, 64-bit mode) and checks that it
 * can touch host memory only relative to R14 (the guest window and its
 * guards), through R15 (the vCPU and the poll page below it) or
 * through the jump cache at R13, that it never uses the host stack, and that
 * it contains no privileged, I/O, segment-loading or system-call instruction.
 * The rules are listed at the top of verify.c.
 *
 * Run it on translated blocks only: the runtime trampolines emitted by
 * bt_runtime_init legitimately write R13-R15 and use the host stack. It is
 * meant for tests and --verify (debug builds), not for the fast path. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verify_result {
    bool     ok;
    uint32_t bad_off;   /* host-code offset of the first bad instruction */
    char     why[160];  /* "offset 0x1c: mov eax, dword ptr [rip + 0x10]: RIP-relative access" */
};

/* Check host code[0..len), which will run at runtime_addr (branch targets
 * and RIP-relative operands are resolved against it). Returns res->ok.
 * res may be NULL when only the verdict is wanted. */
bool bt_verify(const uint8_t *code, size_t len, uint64_t runtime_addr,
               struct verify_result *res);
