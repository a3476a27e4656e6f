/* interp — a stack-machine bytecode interpreter with switch dispatch: an
 * indirect jump through a table per bytecode, hard on an indirect-branch
 * lookup. The program runs an LCG-driven loop of 1000 trips per unit. */
#include "workloads.h"
#include "wl.h"

enum {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_AND,
    OP_SHR, OP_SHL, OP_DUP, OP_SWAP, OP_DROP, OP_DEC, OP_JNZ, OP_JMP, OP_LT, OP_NOT,
};

/* r0 = trips left, r1 = x, r2 = sum, r3 = odd count. Each trip:
 *   x = x * 1103515245 + 12345; x ^= x >> 7; sum += x & 255;
 *   odd += !((x & 1) < 1); (sum - (odd << 3)) computed and dropped;
 *   r0--; loop while r0 != 0.                   51 bytecodes per trip */
static const int32_t program[] = {
    /* 0 */ OP_LOAD, 1, OP_PUSH, 1103515245, OP_MUL, OP_PUSH, 12345, OP_ADD, OP_STORE, 1,
    /* 10 */ OP_LOAD, 1, OP_DUP, OP_PUSH, 7, OP_SHR, OP_XOR, OP_STORE, 1,
    /* 19 */ OP_LOAD, 2, OP_LOAD, 1, OP_PUSH, 255, OP_AND, OP_ADD, OP_STORE, 2,
    /* 29 */ OP_LOAD, 1, OP_PUSH, 1, OP_AND, OP_PUSH, 1, OP_LT, OP_NOT, OP_LOAD, 3, OP_ADD, OP_STORE, 3,
    /* 43 */ OP_LOAD, 3, OP_PUSH, 3, OP_SHL, OP_LOAD, 2, OP_SWAP, OP_SUB, OP_DROP,
    /* 53 */ OP_DEC, 0, OP_LOAD, 0, OP_JNZ, 0,
    /* 59 */ OP_HALT,
};

WL_NOINLINE static void run(const int32_t *code, uint32_t *reg)
{
    uint32_t stack[16];
    int sp = 0, pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case OP_HALT: return;
        case OP_PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case OP_LOAD: stack[sp++] = reg[code[pc++]]; break;
        case OP_STORE: reg[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_SHR: sp--; stack[sp - 1] >>= stack[sp] & 31; break;
        case OP_SHL: sp--; stack[sp - 1] <<= stack[sp] & 31; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP: { uint32_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
        case OP_DROP: sp--; break;
        case OP_DEC: reg[code[pc++]]--; break;
        case OP_JNZ: { int32_t target = code[pc++]; if (stack[--sp]) pc = target; break; }
        case OP_JMP: pc = code[pc]; break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_NOT: stack[sp - 1] = !stack[sp - 1]; break;
        default: return;
        }
    }
}

uint32_t wl_interp(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT;
    for (uint32_t unit = 0; unit < scale; unit++) {
        uint32_t reg[4] = { 1000, unit, 0, 0 };
        run(program, reg);
        h = wl_mix(h, reg[1]);
        h = wl_mix(h, reg[2]);
        h = wl_mix(h, reg[3]);
    }
    return h;
}
