/*
 * core/str.c - small string helpers.
 */
#include "core/str.h"

#include <string.h>

#include "core/err.h"

static int str_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

bool sl_str_eq_ci(const char *a, const char *b)
{
    while (*a && str_lc((unsigned char)*a) == str_lc((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

bool sl_str_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sl_str_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        if (*s == '\0' ||
            str_lc((unsigned char)*s) != str_lc((unsigned char)*prefix))
            return false;
    }
    return true;
}

bool sl_str_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

char *sl_str_lower(char *s)
{
    char *p;

    for (p = s; *p; p++)
        *p = (char)str_lc((unsigned char)*p);
    return s;
}

size_t sl_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

int sl_str_to_i64(const char *s, size_t n, bool allow_plus, int64_t min,
                  int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0, lim;

    if (n > 0 && (s[0] == '-' || (allow_plus && s[0] == '+'))) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return SL_EINVAL;
    /* Accumulate as unsigned so INT64_MIN stays representable. */
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return SL_EINVAL;
        d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10) {
            /* Keep scanning so syntax errors win over range errors. */
            for (i++; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                    return SL_EINVAL;
            return SL_ETOOBIG;
        }
        v = v * 10 + d;
    }
    {
        int64_t r = neg ? (int64_t)(0 - v) : (int64_t)v;
        if (neg && v == (uint64_t)INT64_MAX + 1)
            r = INT64_MIN;
        if (r < min || r > max)
            return SL_ETOOBIG;
        *out = r;
    }
    return 0;
}
