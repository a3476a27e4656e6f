/* string — block memory operations: REP MOVSD/STOSD (wl_memcpy,
 * wl_memset) and byte loops in C (strlen, memcmp, a copy, a search), over a
 * 16 KiB text of NUL-terminated words. */
#include "workloads.h"
#include "wl.h"

#define TEXT 16384
static char text[TEXT], copy[TEXT], work[TEXT];

WL_NOINLINE static void copy_bytes(char *d, const char *s, size_t n)
{
    while (n--)
        *d++ = *s++;
}

WL_NOINLINE static const char *find_char(const char *s, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == c)
            return s + i;
    return 0;
}

uint32_t wl_string(uint32_t scale)
{
    uint32_t h = WL_HASH_INIT, seed = 7;
    for (uint32_t unit = 0; unit < scale; unit++) {
        /* words of 1..47 letters, each followed by a NUL */
        for (size_t i = 0; i < TEXT - 1;) {
            uint32_t len = 1 + wl_rand(&seed) % 47;
            for (uint32_t k = 0; k < len && i < TEXT - 1; k++)
                text[i++] = (char)('a' + wl_rand(&seed) % 26);
            text[i++] = 0;
        }
        text[TEXT - 1] = 0;
        wl_memcpy(copy, text, TEXT);
        uint32_t words = 0, total = 0, same = 0;
        for (size_t i = 0; i < TEXT; words++) {
            size_t n = wl_strlen(text + i);
            total += (uint32_t)n;
            same += wl_memcmp(text + i, copy + i, n + 1) == 0;
            i += n + 1;
        }
        wl_memset(work, 'x', TEXT);
        copy_bytes(work + 1, text + 3, TEXT - 7);     /* misaligned byte loop */
        wl_memcpy(work + 5, work + 2001, 3001);       /* unaligned, odd length */
        const char *q = find_char(work, TEXT, 'q');
        int cmp = wl_memcmp(work, copy, TEXT);
        h = wl_mix(h, words);
        h = wl_mix(h, total);
        h = wl_mix(h, same);
        h = wl_mix(h, q ? (uint32_t)(q - work) : 0xFFFFFFFF);
        h = wl_mix(h, (uint32_t)cmp);
        h = wl_mix(h, (uint8_t)work[unit % TEXT] | (uint8_t)work[TEXT - 1 - unit % 4096] << 8);
    }
    return h;
}
