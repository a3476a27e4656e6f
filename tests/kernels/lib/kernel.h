/* kernel.h — the runtime of bt86's ring-0 test kernels: UART output, a
 * printf subset, a few string functions, exit through isa-debug-exit, and
 * the CHECK macros.
 *
 * A test kernel defines kmain(), runs its checks, and ends with
 * test_finish("name"), which prints "PASS name (N checks)" or
 * "FAIL name (n failures)" and writes 0 (pass) or 1 (fail) to the
 * isa-debug-exit port 0xF4; QEMU and bt86 then exit with status 1 or 3.
 *
 * The same sources also build as 32-bit Linux programs (lib/hosted.c,
 * -DKERNEL_HOSTED) so that every expected value is checked on the host CPU. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "multiboot.h"

/* Entry point, called by crt0 with EAX and EBX as the loader left them. */
void kmain(uint32_t magic, struct mb_info *mbi);
extern uint32_t boot_eflags;            /* EFLAGS at the kernel's first instruction */

/* --- console (COM1 16550 at 0x3F8) --- */
void kputc(char c);
void kputs(const char *s);              /* no newline added */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Supported: %d %i %u %x %X %c %s %p %% with flags '-' '0', a width, and the
 * length modifiers l, ll (%lld %llu %llx) and h/hh (accepted, ignored). */

/* --- exit --- */
#define EXIT_PASS 0                     /* debug-exit value: status (0<<1)|1 = 1 */
#define EXIT_FAIL 1                     /* status 3 */
__attribute__((noreturn)) void kexit(int v);
__attribute__((noreturn)) void khalt(void);   /* cli; hlt forever */

/* --- C library subset (gcc may also call memcpy/memset/memmove/memcmp itself) --- */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *d, const char *s);
char *strstr(const char *h, const char *n);
uint32_t katou(const char *s);          /* decimal or 0x-hex prefix; stops at a non-digit */

/* --- checks --- */
extern int check_count, check_failures;
void check_fail(const char *file, int line, const char *expr);
void check_fail_eq(const char *file, int line, const char *a, const char *b,
                   uint64_t va, uint64_t vb);
/* Print extra context for the last failure (only while failures are printed). */
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void test_finish(const char *name);

#define CHECK(e)                                                        \
    do {                                                                \
        check_count++;                                                  \
        if (!(e)) check_fail(__FILE__, __LINE__, #e);                   \
    } while (0)
/* Both sides are converted to uint64_t: compare values of the same width. */
#define CHECK_EQ(a, b)                                                  \
    do {                                                                \
        uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);              \
        check_count++;                                                  \
        if (va_ != vb_) check_fail_eq(__FILE__, __LINE__, #a, #b, va_, vb_); \
    } while (0)
/* CHECK_EQ that also prints a context line when it fails. */
#define CHECK_EQ_CTX(a, b, ...)                                         \
    do {                                                                \
        uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);              \
        check_count++;                                                  \
        if (va_ != vb_) {                                               \
            check_fail_eq(__FILE__, __LINE__, #a, #b, va_, vb_);        \
            check_note(__VA_ARGS__);                                    \
        }                                                               \
    } while (0)

/* setjmp/longjmp (klib.c): the longjmp "returns" from setjmp's call site a
 * second time with v, abandoning the frames in between. */
struct jbuf { uint32_t ebx, esi, edi, ebp, esp, eip; };
int my_setjmp(struct jbuf *j);
void my_longjmp(struct jbuf *j, int v);      /* does not return */

/* EFLAGS bits (SDM Vol. 1, 3.4.3). */
#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_TF 0x0100u
#define FL_IF 0x0200u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_IOPL 0x3000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_FIXED 0x0002u                /* bit 1 always reads as 1 */
