/* hosted.c — the test-kernel runtime as a 32-bit Linux program, so that the
 * unprivileged parts of the kernel tests (alu, bcd, string, branch, fpu)
 * check their expected values on the host CPU: `kernel-native.<name>`.
 * The kernels' libc functions come from the host's libc here. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "kernel.h"

uint32_t boot_eflags = 0x2;

void kputc(char c)
{
    if (write(1, &c, 1) < 0)
        abort();
}

void kexit(int v)
{
    exit(v == EXIT_PASS ? 0 : 1);
}

void khalt(void)
{
    exit(0);
}

int main(void)
{
    kmain(0, NULL);
    return 0;
}
