/*
 * resource/goduration.c - Go duration syntax (see goduration.h).
 *
 * Written from the behaviour of Go's time.ParseDuration: the value is
 * accumulated as an unsigned magnitude so that -2^63 ns is reachable, each
 * step is checked for overflow, and a fraction is scaled by the unit in
 * double precision and truncated, which gives Go's results for every
 * fraction short enough to matter ("1.5s", "0.001s", "2.25h").
 */
#include "resource/goduration.h"

#include <stdbool.h>
#include <string.h>

#define GODUR_LIMIT (UINT64_C(1) << 63)

struct godur_unit {
    const char *name;
    uint64_t ns;
};

static const struct godur_unit godur_units[] = {
    { "ns", 1 },
    { "us", 1000 },
    { "\xc2\xb5s", 1000 }, /* U+00B5 MICRO SIGN */
    { "\xce\xbcs", 1000 }, /* U+03BC GREEK SMALL LETTER MU */
    { "ms", 1000 * 1000 },
    { "s", UINT64_C(1000) * 1000 * 1000 },
    { "m", UINT64_C(60) * 1000 * 1000 * 1000 },
    { "h", UINT64_C(3600) * 1000 * 1000 * 1000 },
};

static bool godur_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The unit spelled s[0..n), or 0 when there is none. */
static uint64_t godur_unit(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < sizeof(godur_units) / sizeof(godur_units[0]); i++)
        if (strlen(godur_units[i].name) == n &&
            memcmp(godur_units[i].name, s, n) == 0)
            return godur_units[i].ns;
    return 0;
}

int sl_res_goduration_parse(const char *s, int64_t *pns, struct sl_diag *d)
{
    uint64_t total = 0;
    bool neg = false;

    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *pns = 0;
        return 0;
    }
    if (*s == '\0')
        return sl_diag_set(d, SL_EINVAL, NULL, "invalid duration");
    while (*s != '\0') {
        uint64_t v = 0, f = 0, unit;
        double scale = 1;
        bool pre = false, post = false, overflow = false;
        const char *u;

        if (*s != '.' && !godur_digit(*s))
            return sl_diag_set(d, SL_EINVAL, NULL, "invalid duration");
        for (; godur_digit(*s); s++, pre = true) {
            if (v > (GODUR_LIMIT - 1) / 10)
                return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > GODUR_LIMIT)
                return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
        }
        if (*s == '.') {
            /* Digits past what fits are consumed and ignored (Go too). */
            for (s++; godur_digit(*s); s++, post = true) {
                uint64_t y;

                if (overflow || f > (GODUR_LIMIT - 1) / 10) {
                    overflow = true;
                    continue;
                }
                y = f * 10 + (uint64_t)(*s - '0');
                if (y > GODUR_LIMIT) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
        }
        if (!pre && !post)
            return sl_diag_set(d, SL_EINVAL, NULL, "invalid duration");
        for (u = s; *s != '\0' && *s != '.' && !godur_digit(*s); s++)
            ;
        if (u == s)
            return sl_diag_set(d, SL_EINVAL, NULL, "missing unit in duration");
        unit = godur_unit(u, (size_t)(s - u));
        if (unit == 0)
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "unknown unit \"%.*s\" in duration",
                               (int)(s - u), u);
        if (v > GODUR_LIMIT / unit)
            return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > GODUR_LIMIT)
                return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
        }
        /* Checked before adding: both terms may be 2^63. */
        if (v > GODUR_LIMIT - total)
            return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
        total += v;
    }
    if (neg) {
        *pns = total == GODUR_LIMIT ? INT64_MIN : -(int64_t)total;
        return 0;
    }
    if (total > GODUR_LIMIT - 1)
        return sl_diag_set(d, SL_EINVAL, NULL, "duration out of range");
    *pns = (int64_t)total;
    return 0;
}
