/* klib.c — console, printf subset, string functions, checks and exit for
 * the test kernels. Everything goes to COM1 only, one byte at a time after
 * polling LSR.THRE (bit 5), as a driver for a real 16550 must. */
#include "kernel.h"
#include "x86.h"

/* --- console and exit ------------------------------------------------- */

#ifndef KERNEL_HOSTED
void kputc(char c)
{
    while (!(inb(UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1, (uint8_t)c);
}

void kexit(int v)
{
    outb(DEBUG_EXIT_PORT, (uint8_t)v);   /* isa-debug-exit: status (v << 1) | 1 */
    khalt();                             /* no debug-exit device: stop here */
}
#endif

void kputs(const char *s)
{
    while (*s)
        kputc(*s++);
}

/* --- printf ------------------------------------------------------------ */

struct sink {
    char *buf;          /* NULL: console */
    size_t n, len;      /* capacity (incl. NUL) and characters produced */
};

static void sink_put(struct sink *k, char c)
{
    if (!k->buf)
        kputc(c);
    else if (k->len + 1 < k->n)
        k->buf[k->len] = c;
    k->len++;
}

static void put_field(struct sink *k, const char *s, int len, int width, int left, char pad)
{
    if (!left && pad == '0' && len < width && (*s == '-')) {   /* -0005, not 000-5 */
        sink_put(k, *s++);
        len--;
        width--;
    }
    if (!left)
        for (int i = len; i < width; i++)
            sink_put(k, pad);
    for (int i = 0; i < len; i++)
        sink_put(k, s[i]);
    if (left)
        for (int i = len; i < width; i++)
            sink_put(k, ' ');
}

/* Unsigned 64-bit to text without 64-bit division (no libgcc needed). */
static int utoa64(uint64_t v, unsigned base, int upper, char *out)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    if (base == 16) {
        do { tmp[n++] = digits[v & 15]; v >>= 4; } while (v);
    } else {
        do {
            /* v / 10 by shift-subtract, bit by bit */
            uint64_t q = 0, r = 0;
            for (int b = 63; b >= 0; b--) {
                r = (r << 1) | ((v >> b) & 1);
                if (r >= base) { r -= base; q |= 1ull << b; }
            }
            tmp[n++] = digits[r];
            v = q;
        } while (v);
    }
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static int format(struct sink *k, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink_put(k, *fmt);
            continue;
        }
        fmt++;
        int left = 0, width = 0, lng = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') left = 1;
            else if (*fmt == '0') pad = '0';
            else break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h' || *fmt == 'z') continue;
            else break;
        }
        char num[24];
        int len;
        uint64_t u;
        switch (*fmt) {
        case 'd': case 'i': {
            int64_t v = lng >= 2 ? va_arg(ap, long long) : (int64_t)va_arg(ap, int);
            if (v < 0) {
                num[0] = '-';
                len = 1 + utoa64(-(uint64_t)v, 10, 0, num + 1);
            } else {
                len = utoa64((uint64_t)v, 10, 0, num);
            }
            put_field(k, num, len, width, left, pad);
            break;
        }
        case 'u': case 'x': case 'X':
            u = lng >= 2 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            len = utoa64(u, *fmt == 'u' ? 10 : 16, *fmt == 'X', num);
            put_field(k, num, len, width, left, pad);
            break;
        case 'p':
            num[0] = '0';
            num[1] = 'x';
            len = 2 + utoa64((uintptr_t)va_arg(ap, void *), 16, 0, num + 2);
            put_field(k, num, len, width, left, ' ');
            break;
        case 'c':
            num[0] = (char)va_arg(ap, int);
            put_field(k, num, 1, width, left, ' ');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            put_field(k, s, (int)strlen(s), width, left, ' ');
            break;
        }
        case '%':
            sink_put(k, '%');
            break;
        default:                        /* unknown: print it verbatim */
            sink_put(k, '%');
            if (!*fmt) return (int)k->len;
            sink_put(k, *fmt);
            break;
        }
    }
    return (int)k->len;
}

int kvprintf(const char *fmt, va_list ap)
{
    struct sink k = { 0, 0, 0 };
    return format(&k, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
    struct sink k = { buf, n, 0 };
    va_list ap;
    va_start(ap, fmt);
    format(&k, fmt, ap);
    va_end(ap);
    if (n)
        buf[k.len < n ? k.len : n - 1] = 0;
    return (int)k.len;
}

/* --- string functions (plain C loops; the string test uses the instructions) --- */

#ifndef KERNEL_HOSTED
/* gcc may turn a copy or fill loop into a call to memcpy/memset, which
 * inside memcpy/memset would be endless recursion. */
#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALLS void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

NO_LIBCALLS void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

NO_LIBCALLS void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n--)
            *dp++ = *sp++;
    } else {
        while (n--)
            dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (uint8_t)*a - (uint8_t)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strcpy(char *d, const char *s)
{
    char *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}

char *strstr(const char *h, const char *n)
{
    size_t ln = strlen(n);
    for (; *h; h++)
        if (!strncmp(h, n, ln))
            return (char *)h;
    return ln ? NULL : (char *)h;
}
#endif

uint32_t katou(const char *s)
{
    uint32_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (s += 2;; s++) {
            unsigned d;
            if (*s >= '0' && *s <= '9') d = *s - '0';
            else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
            else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
            else return v;
            v = v * 16 + d;
        }
    }
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

/* --- Multiboot --------------------------------------------------------- */

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && !strncmp(s + n - m, suffix, m);
}

const char *mb_args(const struct mb_info *mbi)
{
    if (!mbi || !(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
        return "";
    const char *s = (const char *)(uintptr_t)mbi->cmdline;
    size_t n = 0;
    int slash = 0;
    while (s[n] && s[n] != ' ')
        slash |= s[n++] == '/';
    if (slash || ends_with(s, n, ".elf") || ends_with(s, n, ".bin")) {
        s += n;
        while (*s == ' ')
            s++;
    }
    return s;
}

/* --- checks ------------------------------------------------------------ */

int check_count, check_failures;
enum { MAX_PRINTED = 20 };

static const char *basename_of(const char *path)
{
    const char *b = path;
    for (; *path; path++)
        if (*path == '/')
            b = path + 1;
    return b;
}

void check_fail(const char *file, int line, const char *expr)
{
    if (++check_failures <= MAX_PRINTED)
        kprintf("%s:%d: CHECK(%s) failed\n", basename_of(file), line, expr);
}

void check_fail_eq(const char *file, int line, const char *a, const char *b,
                   uint64_t va, uint64_t vb)
{
    if (++check_failures <= MAX_PRINTED)
        kprintf("%s:%d: CHECK_EQ(%s, %s) failed: 0x%llx != 0x%llx\n",
                basename_of(file), line, a, b, va, vb);
}

void check_note(const char *fmt, ...)
{
    if (check_failures > MAX_PRINTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    kputs("    (");
    kvprintf(fmt, ap);
    kputs(")\n");
    va_end(ap);
}

void test_finish(const char *name)
{
    if (check_failures) {
        kprintf("FAIL %s (%d failures of %d checks)\n", name, check_failures, check_count);
        kexit(EXIT_FAIL);
    }
    kprintf("PASS %s (%d checks)\n", name, check_count);
    kexit(EXIT_PASS);
}

/* setjmp/longjmp (kernel.h): the callee-saved registers, ESP after the
 * return and the return address. */
__asm__(".text\n"
        ".globl my_setjmp, my_longjmp\n"
        "my_setjmp:\n"
        "    movl 4(%esp), %eax\n"
        "    movl %ebx, 0(%eax); movl %esi, 4(%eax); movl %edi, 8(%eax); movl %ebp, 12(%eax)\n"
        "    leal 4(%esp), %ecx; movl %ecx, 16(%eax)\n"
        "    movl (%esp), %ecx; movl %ecx, 20(%eax)\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        "my_longjmp:\n"
        "    movl 4(%esp), %edx\n"
        "    movl 8(%esp), %eax\n"
        "    movl 0(%edx), %ebx; movl 4(%edx), %esi; movl 8(%edx), %edi; movl 12(%edx), %ebp\n"
        "    movl 16(%edx), %esp\n"
        "    jmp *20(%edx)\n");
