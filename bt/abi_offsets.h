/* Offsets into struct bt_cpu for runtime.S; bt/runtime.c checks each one
 * against offsetof() at compile time. */
#pragma once
#define CPU_GPR         0x00
#define CPU_EIP         0x20
#define CPU_EFLAGS      0x24
#define CPU_NEXT_EIP    0x28
#define CPU_EXIT_SLOT   0x30
#define CPU_HOST_RSP    0x38
#define CPU_RESUME      0x40
#define CPU_SITE        0x48
#define CPU_MEMBASE     0x50
#define CPU_JCACHE      0x58
#define CPU_FX_GUEST    0xc0
/* Guest-visible host RFLAGS bits: CF PF AF ZF SF OF and DF. */
#define GUEST_HOST_FLAGS 0xcd5
#define CPU_VIF         0x68
#define CPU_IRQ_PENDING 0x69
#define CPU_TF_SET      0x6b
#define CPU_MXCSR_GUEST 0x70
#define CPU_MXCSR_HOST  0x74
#define CPU_FCW_HOST    0x6e
#define CPU_XMM_GUEST   0x2c0
#define CPU_RFLAGS_SLOT 0x78
#define CPU_TSC_OFFSET  0x80
#define CPU_ENTRIES     0x88
#define CPU_RS_MISS     0x340
#define CPU_RSTACK      0x380
