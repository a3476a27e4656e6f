/* pg_lib.c — see pg_lib.h. */
#include "pg_lib.h"

#define POOL_FRAMES 512                 /* 2 MiB */

static uint8_t pool[POOL_FRAMES][4096] __attribute__((aligned(4096)));
static uint32_t pool_used;
static uint32_t *kernel_pts;            /* 4 page tables: [0, 16 MiB) */

int (*volatile pg_fault_hook)(struct trap_frame *f, uint32_t cr2);
volatile uint32_t pg_last_cr2, pg_faults;

uint32_t *pg_alloc(void)
{
    uint32_t *p;
    if (pool_used == POOL_FRAMES) {
        kprintf("FAIL: page pool exhausted\n");
        kexit(EXIT_FAIL);
    }
    p = (uint32_t *)pool[pool_used++];
    memset(p, 0, 4096);
    return p;
}

uint32_t pg_frames_left(void) { return POOL_FRAMES - pool_used; }

uint32_t *pg_kernel_pd(void)
{
    uint32_t *pd = pg_alloc();
    if (!kernel_pts) {
        kernel_pts = pg_alloc();
        for (int i = 1; i < 4; i++)
            pg_alloc();                 /* consecutive: the pool is contiguous */
        for (uint32_t f = 0; f < PG_KERNEL_END >> 12; f++)
            kernel_pts[f] = f << 12 | PG_P | PG_RW | PG_US;
    }
    for (uint32_t i = 0; i < PG_KERNEL_END >> 22; i++)
        pd[i] = ((uint32_t)kernel_pts + i * 4096) | PG_P | PG_RW | PG_US;
    return pd;
}

void pg_map(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags)
{
    uint32_t *pde = &pd[lin >> 22], *pt;
    if (!(*pde & PG_P) || (*pde & PG_PS))
        *pde = (uint32_t)pg_alloc() | PG_P | PG_RW | PG_US;
    pt = (uint32_t *)(*pde & PG_FRAME);
    pt[(lin >> 12) & 1023] = (phys & PG_FRAME) | flags | PG_P;
}

void pg_map4m(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags)
{
    pd[lin >> 22] = (phys & 0xffc00000u) | flags | PG_P | PG_PS;
}

volatile uint32_t *pg_pte(uint32_t *pd, uint32_t lin)
{
    uint32_t pde = pd[lin >> 22];
    if (!(pde & PG_P) || (pde & PG_PS))
        return 0;
    return (volatile uint32_t *)(pde & PG_FRAME) + ((lin >> 12) & 1023);
}

void pg_enable(uint32_t *pd)
{
    write_cr3((uint32_t)pd);
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

void pg_disable(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
}

void pg_check_pf(uint32_t err, uint32_t cr2, int line)
{
    CHECK_EQ_CTX(last_trap.vector, 14, "line %d", line);
    CHECK_EQ_CTX(last_trap.error, err, "line %d", line);
    CHECK_EQ_CTX(last_trap.eip, expect_eip, "line %d", line);
    CHECK_EQ_CTX(pg_last_cr2, cr2, "line %d", line);
}

/* The #PF gate: the hook decides, else sys_lib's stub 14 records it. */
int pg_fault_c(struct trap_frame *f);
int pg_fault_c(struct trap_frame *f)
{
    pg_last_cr2 = read_cr2();
    pg_faults++;
    return pg_fault_hook && pg_fault_hook(f, pg_last_cr2);
}

/* On entry: the CPU's frame with the error code on top. The frame built
 * here has trap_frame's layout (pusha, vector, error, eip...). */
__asm__(".text\n"
        "pg_pf_entry:\n"
        "    pushl $14\n"
        "    pusha\n"
        "    push %esp\n"
        "    call pg_fault_c\n"
        "    add $4, %esp\n"
        "    test %eax, %eax\n"
        "    popa\n"
        "    jz 1f\n"
        "    add $8, %esp\n"           /* vector and error code */
        "    iret\n"
        "1:  add $4, %esp\n"           /* the vector: stub 14 pushes it again */
        "    jmp *trap_stubs + 14 * 4\n");

void pg_pf_entry(void);

void pg_install_pf(void)
{
    set_gate(14, (uint32_t)pg_pf_entry, SEL_KCODE, 0xe, 0);
}

uint32_t *pg_setup(void)
{
    sys_init();
    pg_install_pf();
    return pg_kernel_pd();
}
