/* cpuid_ext — see cpuid_ext.h. Leaf numbers and fields: SDM vol. 2A,
 * "CPUID", table 3-8. */
#include <string.h>

#include "emulator/cpuid_ext.h"
#include "shadowmmu/walk.h"

#define CPUID_EXT_NX (1u << 20)     /* 80000001H:EDX: execute-disable (EFER.NXE) */

/* 80000002H..80000004H: 48 bytes, NUL-terminated (Intel right-justifies
 * with spaces in front; left-justified works the same for every reader). */
static const char brand[48] = "bt86 virtual i686 CPU";

void cpuid_ext(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    *a = *b = *c = *d = 0;
    switch (leaf) {
    case 0x80000000u:
        *a = CPUID_EXT_MAX;
        break;
    case 0x80000001u:
        /* No LAHF-SAHF-in-64-bit, SYSCALL or LM: a 32-bit CPU. */
        *d = CPUID_EXT_NX;
        break;
    case 0x80000002u:
    case 0x80000003u:
    case 0x80000004u: {
        const char *p = brand + (leaf - 0x80000002u) * 16;
        memcpy(a, p, 4);
        memcpy(b, p + 4, 4);
        memcpy(c, p + 8, 4);
        memcpy(d, p + 12, 4);
        break;
    }
    case 0x80000008u:
        /* Physical and linear address bits: MAXPHYADDR, which the walker's
         * reserved-bit checks use (walk.h), and 32 linear bits. */
        *a = (32u << 8) | WALK_MAXPHYADDR;
        break;
    default:                /* 80000005H..80000007H: reserved on Intel, zeros */
        break;
    }
}
