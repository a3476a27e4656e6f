/* crt0.S — Multiboot v1 header and entry of every test kernel.
 *
 * The loader enters _start in 32-bit protected mode, paging off, flat
 * segments, EAX = 0x2BADB002, EBX = the information structure, IF = 0
 * (Multiboot 0.6.96 section 3.2). There is no stack: set one up in .bss,
 * record EFLAGS as the loader left them, clear DF, and call
 * kmain(magic, info). If kmain returns: cli; hlt.
 *
 * The loader (not crt0) must zero .bss: for ELF it is the p_memsz > p_filesz
 * tail of the segment, for the a.out kludge the range up to bss_end_addr.
 *
 * Build-time variants:
 *   -DMB_AOUT     header flag bit 16 with the address fields (a.out kludge)
 *   -DCRT0_SSE    enable x87+SSE before kmain (CR0.EM=0 TS=0 MP=1,
 *                 CR4.OSFXSR|OSXMMEXCPT; SDM Vol. 3A 13.1.3) for kernels
 *                 whose C code gcc may compile to SSE2 instructions. */

#define MB_MAGIC 0x1BADB002
#ifdef MB_AOUT
#define MB_FLAGS 0x00010003   /* page-align modules, mem info, a.out kludge */
#else
#define MB_FLAGS 0x00000003   /* page-align modules, mem info */
#endif

        .section .multiboot, "a"
        .align 4
        .globl mb_header
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT
        .long mb_header         /* header_addr */
        .long _kernel_start     /* load_addr: file offset of the header - (header_addr - load_addr) */
        .long _load_end         /* load_end_addr: end of .data */
        .long _kernel_end       /* bss_end_addr: the loader zeroes up to here */
        .long _start            /* entry_addr */
#endif

        .text
        .globl _start
        .type _start, @function
_start:
        movl $stack_top, %esp   /* mov does not touch flags: record them first */
        pushfl
        popl boot_eflags
        cld
#ifdef CRT0_SSE
        movl %cr0, %ecx
        andl $~0x0C, %ecx       /* EM=0 (bit 2), TS=0 (bit 3) */
        orl $0x02, %ecx         /* MP=1 (bit 1) */
        movl %ecx, %cr0
        movl %cr4, %ecx
        orl $0x600, %ecx        /* OSFXSR (bit 9) | OSXMMEXCPT (bit 10) */
        movl %ecx, %cr4
        fninit
#endif
        subl $8, %esp           /* 16-byte aligned at the call, as gcc assumes */
        pushl %ebx
        pushl %eax
        call kmain
        .globl khalt
khalt:
1:      cli
        hlt
        jmp 1b

        .data
        .globl boot_eflags
        .align 4
boot_eflags:
        .long 0

        .bss
        .align 16
stack_bottom:
        .skip 65536
        .globl stack_top
stack_top:

        .section .note.GNU-stack, "", @progbits
