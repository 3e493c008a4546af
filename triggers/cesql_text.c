/*
 * triggers/cesql_text.c - the Unicode the CESQL functions need: counting
 * and indexing characters of UTF-8 text, simple case mapping, white
 * space, and LIKE matching.
 *
 * Strings come from events (valid UTF-8 as the bindings check it) or from
 * the expression (checked by the parser), but nothing here relies on it:
 * an invalid byte counts as one character and is copied as it is.
 *
 * Case mapping is the simple (one-to-one) Unicode mapping for the
 * alphabets people put in event attributes: Latin (ASCII, Latin-1,
 * Latin Extended-A, Latin Extended Additional), Greek, Cyrillic,
 * Armenian and fullwidth Latin. Other characters stay as they are
 * (documented in docs/cesql.md); no table of the whole of Unicode is
 * carried for a filter language.
 */
#include "triggers/cesql_internal.h"

#include <string.h>

#include "core/utf8.h"

/* ---- characters ---- */

static bool text_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t sl__cesql_utf8_step(const char *s, size_t n)
{
    uint32_t cp;
    size_t k;

    if (n > 0 && (unsigned char)s[0] < 0x80)
        return 1;
    k = n ? sl_utf8_decode((const unsigned char *)s, n, &cp) : 0;
    return k ? k : 1;
}

size_t sl__cesql_utf8_len(const char *s, size_t n)
{
    size_t i = 0, k = 0;

    while (i < n) {
        i += (unsigned char)s[i] < 0x80 ? 1 : sl__cesql_utf8_step(s + i, n - i);
        k++;
    }
    return k;
}

size_t sl__cesql_utf8_off(const char *s, size_t n, size_t k)
{
    size_t i = 0;

    while (k > 0 && i < n) {
        i += sl__cesql_utf8_step(s + i, n - i);
        k--;
    }
    return i < n ? i : n;
}

/* ---- case mapping ---- */

/*
 * One row: upper-case letters lo..hi map to lower case by adding 'delta'.
 * 'alt' rows hold alternating pairs (upper at even offsets from lo, its
 * lower case right after), the shape of the Latin Extended blocks.
 */
struct case_row {
    uint32_t lo, hi;
    int32_t delta;
    bool alt;
};

static const struct case_row case_rows[] = {
    { 0x0041, 0x005A, 32, false },   /* A-Z */
    { 0x00C0, 0x00D6, 32, false },   /* Latin-1 */
    { 0x00D8, 0x00DE, 32, false },   /* (U+00D7 is the multiplication sign) */
    { 0x0100, 0x012F, 1, true },     /* Latin Extended-A */
    { 0x0132, 0x0137, 1, true },     /* */
    { 0x0139, 0x0148, 1, true },     /* odd/even pairs from U+0139 */
    { 0x014A, 0x0177, 1, true },     /* */
    { 0x0179, 0x017E, 1, true },     /* */
    { 0x0178, 0x0178, -121, false }, /* Y with diaeresis -> U+00FF */
    { 0x0386, 0x0386, 38, false },   /* Greek tonos letters */
    { 0x0388, 0x038A, 37, false },   /* */
    { 0x038C, 0x038C, 64, false },   /* */
    { 0x038E, 0x038F, 63, false },   /* */
    { 0x0391, 0x03A1, 32, false },   /* Greek */
    { 0x03A3, 0x03AB, 32, false },   /* (U+03A2 is unassigned) */
    { 0x0400, 0x040F, 80, false },   /* Cyrillic */
    { 0x0410, 0x042F, 32, false },   /* */
    { 0x0460, 0x0481, 1, true },     /* */
    { 0x048A, 0x04BF, 1, true },     /* */
    { 0x0531, 0x0556, 48, false },   /* Armenian */
    { 0x1E00, 0x1E95, 1, true },     /* Latin Extended Additional */
    { 0x1EA0, 0x1EFF, 1, true },     /* */
    { 0xFF21, 0xFF3A, 32, false },   /* fullwidth A-Z */
};

static uint32_t case_lower(uint32_t c)
{
    size_t k;

    for (k = 0; k < sizeof(case_rows) / sizeof(case_rows[0]); k++) {
        const struct case_row *r = &case_rows[k];
        if (c < r->lo || c > r->hi)
            continue;
        if (r->alt && ((c - r->lo) & 1) != 0)
            return c; /* already the lower half of a pair */
        return (uint32_t)((int32_t)c + r->delta);
    }
    return c;
}

static uint32_t case_upper(uint32_t c)
{
    size_t k;

    for (k = 0; k < sizeof(case_rows) / sizeof(case_rows[0]); k++) {
        const struct case_row *r = &case_rows[k];
        uint32_t lo = (uint32_t)((int32_t)r->lo + r->delta);
        uint32_t hi = (uint32_t)((int32_t)r->hi + r->delta);
        if (r->alt) {
            /* Lower halves sit at odd offsets from r->lo. */
            if (c > r->lo && c <= r->hi + 1 && ((c - r->lo) & 1) != 0 &&
                c - 1 <= r->hi)
                return c - 1;
            continue;
        }
        if (c >= lo && c <= hi)
            return (uint32_t)((int32_t)c - r->delta);
    }
    return c;
}

/* Encode 'c' into out[0..4); returns its length. */
static size_t case_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

size_t sl__cesql_case_map(const char *s, size_t n, bool upper, char *out,
                          size_t cap)
{
    size_t i = 0, o = 0, k, w;
    uint32_t cp;
    char buf[4];

    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) { /* the common case, byte by byte */
            if (o >= cap)
                return (size_t)-1;
            if (upper && b >= 'a' && b <= 'z')
                b = (unsigned char)(b - 32);
            else if (!upper && b >= 'A' && b <= 'Z')
                b = (unsigned char)(b + 32);
            out[o++] = (char)b;
            i++;
            continue;
        }
        k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0) { /* an invalid byte: copied */
            if (o >= cap)
                return (size_t)-1;
            out[o++] = s[i++];
            continue;
        }
        cp = upper ? case_upper(cp) : case_lower(cp);
        w = case_encode(cp, buf);
        if (w != k || cap - o < w)
            return (size_t)-1; /* (no row of the table changes lengths) */
        memcpy(out + o, buf, w);
        o += w;
        i += k;
    }
    return o;
}

/* ---- white space ---- */

/* The White_Space property of Unicode. */
static bool text_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

size_t sl__cesql_space_lead(const char *s, size_t n)
{
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0 || !text_space(cp))
            break;
        i += k;
    }
    return i;
}

size_t sl__cesql_space_trail(const char *s, size_t n)
{
    size_t end = n, start, k;
    uint32_t cp;

    while (end > 0) {
        start = end - 1;
        while (start > 0 && end - start < 4 &&
               text_cont((unsigned char)s[start]))
            start--;
        k = sl_utf8_decode((const unsigned char *)s + start, end - start, &cp);
        if (k != end - start || !text_space(cp))
            break;
        end = start;
    }
    return n - end;
}

/* ---- LIKE ---- */

bool sl__cesql_like(const char *s, size_t n, const char *p, size_t m)
{
    size_t si = 0, pi = 0, star_p = 0, star_s = 0;
    bool star = false;

    while (si < n) {
        if (pi < m) {
            char c = p[pi];
            size_t step = 1;
            if (c == '%') {
                star = true;
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '_') {
                si += sl__cesql_utf8_step(s + si, n - si);
                pi++;
                continue;
            }
            if (c == '\\' && pi + 1 < m &&
                (p[pi + 1] == '%' || p[pi + 1] == '_')) {
                c = p[pi + 1];
                step = 2;
            }
            if (s[si] == c) {
                si++;
                pi += step;
                continue;
            }
        }
        if (!star)
            return false;
        /* Let the last '%' take one more character and try again. */
        star_s += sl__cesql_utf8_step(s + star_s, n - star_s);
        si = star_s;
        pi = star_p;
    }
    while (pi < m && p[pi] == '%')
        pi++;
    return pi == m;
}
