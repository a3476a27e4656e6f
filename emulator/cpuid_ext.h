/* cpuid_ext — the extended CPUID leaves and IA32_EFER of the CPU bt86
 * presents (sysinsn.c has the basic leaves): what PAE paging with
 * execute-disable needs a 32-bit kernel to see (Linux's 686-pae flavour
 * reads NX from 80000001H and then sets EFER.NXE). */
#pragma once
#include <stdint.h>

#include "decoder/x86.h"

#define CPUID_EXT_MAX 0x80000008u   /* CPUID.80000000H:EAX */
/* IA32_EFER bits a CPU without long mode or SYSCALL has (SDM vol. 4,
 * "IA32_EFER"): NXE alone; setting any other bit is #GP(0). */
#define EFER_WRITABLE EFER_NXE

/* CPUID leaf 80000000H..CPUID_EXT_MAX. */
void cpuid_ext(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
