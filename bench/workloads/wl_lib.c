/* wl_lib.c — the few library functions the workloads need. */
#include "wl.h"

void *wl_memcpy(void *d, const void *s, size_t n)
{
    void *r = d;
    size_t words = n >> 2, tail = n & 3;
    __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(tail) : : "memory");
    return r;
}

void *wl_memset(void *d, int c, size_t n)
{
    void *r = d;
    size_t words = n >> 2, tail = n & 3;
    uint32_t v = (uint8_t)c * 0x01010101u;
    __asm__ volatile("rep stosl" : "+D"(d), "+c"(words) : "a"(v) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(v) : "memory");
    return r;
}

int wl_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t wl_strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}
