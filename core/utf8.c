/*
 * core/utf8.c - UTF-8 validation and code point iteration.
 *
 * The decoder follows the well-formed byte sequences table of Unicode
 * (chapter 3, table 3-7): after the lead byte, the first continuation
 * byte has a narrowed range that excludes overlong forms (E0, F0),
 * surrogates (ED) and code points above U+10FFFF (F4); C0, C1 and F5..FF
 * never start a sequence.
 */
#include "core/utf8.h"

size_t sl_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char b, lo = 0x80, hi = 0xbf;
    size_t len, i;
    uint32_t c;

    if (n == 0)
        return 0;
    b = p[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b < 0xc2) {
        return 0; /* continuation byte or overlong C0/C1 lead */
    } else if (b < 0xe0) {
        len = 2;
        c = b & 0x1f;
    } else if (b < 0xf0) {
        len = 3;
        c = b & 0x0f;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b < 0xf5) {
        len = 4;
        c = b & 0x07;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if (p[i] < lo || p[i] > hi)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *cp = c;
    return len;
}

bool sl_utf8_valid(const void *p, size_t n, size_t *bad_at)
{
    const unsigned char *s = p;
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        k = sl_utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            if (bad_at != NULL)
                *bad_at = i;
            return false;
        }
        i += k;
    }
    return true;
}

size_t sl_utf8_count(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i, count = 0;

    /* In valid UTF-8 every code point has exactly one non-continuation
     * byte. */
    for (i = 0; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            count++;
    return count;
}
