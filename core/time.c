/*
 * core/time.c - RFC 3339 timestamps and ISO-8601 durations.
 *
 * Calendar arithmetic is done here on the proleptic Gregorian calendar
 * (Howard Hinnant's days-from-civil algorithms), so parsing and formatting
 * never depend on the process's TZ or on timegm(). Both parsers are
 * hand-written scanners that name the offset of the first byte they do not
 * accept.
 */
#include "core/time.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

#define NS_PER_SEC  INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)

/* ---- calendar ---- */

static bool time_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int time_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (m == 2 && time_is_leap(y))
        return 29;
    return dim[m - 1];
}

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
static int64_t time_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The civil date of day 'z' since 1970-01-01; inverse of the above. */
static void time_civil_from_days(int64_t z, int64_t *py, int *pm, int *pd)
{
    int64_t era, doe, yoe, doy, mp, y;
    int m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *pd = (int)(doy - (153 * mp + 2) / 5 + 1);
    m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *pm = m;
    *py = y + (m <= 2);
}

/* ---- diagnostics ---- */

/*
 * Record "expected <what> at offset <i>, found <the byte there>" and
 * return SL_EINVAL. 'kind' names the text being parsed.
 */
static int time_bad(struct sl_diag *diag, const char *kind, const char *s,
                    size_t i, const char *what)
{
    unsigned char c = (unsigned char)s[i];

    if (c == '\0')
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid %s: expected %s at offset %zu, found end "
                           "of input",
                           kind, what, i);
    if (c >= 0x21 && c <= 0x7e)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid %s: expected %s at offset %zu, found '%c'",
                           kind, what, i, c);
    return sl_diag_set(diag, SL_EINVAL, NULL,
                       "invalid %s: expected %s at offset %zu, found byte "
                       "0x%02X",
                       kind, what, i, c);
}

static bool time_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- RFC 3339 ---- */

/*
 * Read exactly 'n' digits at s[*i]. On failure '*i' is left at the first
 * byte that is not a digit, so the caller can name it.
 */
static bool time_num(const char *s, size_t *i, int n, int *out)
{
    int v = 0, k;

    for (k = 0; k < n; k++) {
        if (!time_isdigit(s[*i]))
            return false;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

/* Expect the byte 'c' (or 'alt' when not NUL) at s[*i]. */
static bool time_sep(const char *s, size_t *i, char c, char alt)
{
    if (s[*i] != c && (alt == '\0' || s[*i] != alt))
        return false;
    (*i)++;
    return true;
}

int sl_time_parse_rfc3339(const char *s, struct sl_timestamp *out,
                          struct sl_diag *diag)
{
    static const char kind[] = "timestamp";
    size_t i = 0, fstart;
    int year, mon, day, hour, min, sec, oh = 0, om = 0, off = 0, nd;
    int32_t nsec = 0;
    int64_t secs;

    if (!time_num(s, &i, 4, &year))
        return time_bad(diag, kind, s, i, "a digit of the year");
    if (!time_sep(s, &i, '-', '\0'))
        return time_bad(diag, kind, s, i, "'-'");
    if (!time_num(s, &i, 2, &mon))
        return time_bad(diag, kind, s, i, "a digit of the month");
    if (mon < 1 || mon > 12)
        return sl_diag_set(diag, SL_EINVAL, NULL, "invalid month %d", mon);
    if (!time_sep(s, &i, '-', '\0'))
        return time_bad(diag, kind, s, i, "'-'");
    if (!time_num(s, &i, 2, &day))
        return time_bad(diag, kind, s, i, "a digit of the day");
    if (day < 1 || day > time_days_in_month(year, mon)) {
        if (mon == 2 && day == 29)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "invalid day 29 for month 2: %04d is not a "
                               "leap year",
                               year);
        return sl_diag_set(diag, SL_EINVAL, NULL, "invalid day %d for month %d",
                           day, mon);
    }
    if (!time_sep(s, &i, 'T', 't'))
        return time_bad(diag, kind, s, i, "'T'");
    if (!time_num(s, &i, 2, &hour))
        return time_bad(diag, kind, s, i, "a digit of the hour");
    if (hour > 23)
        return sl_diag_set(diag, SL_EINVAL, NULL, "invalid hour %d", hour);
    if (!time_sep(s, &i, ':', '\0'))
        return time_bad(diag, kind, s, i, "':'");
    if (!time_num(s, &i, 2, &min))
        return time_bad(diag, kind, s, i, "a digit of the minute");
    if (min > 59)
        return sl_diag_set(diag, SL_EINVAL, NULL, "invalid minute %d", min);
    if (!time_sep(s, &i, ':', '\0'))
        return time_bad(diag, kind, s, i, "':'");
    if (!time_num(s, &i, 2, &sec))
        return time_bad(diag, kind, s, i, "a digit of the second");
    if (sec > 60)
        return sl_diag_set(diag, SL_EINVAL, NULL, "invalid second %d", sec);

    if (s[i] == '.') {
        i++;
        fstart = i;
        while (time_isdigit(s[i])) {
            if (i - fstart >= 9)
                return sl_diag_set(diag, SL_EINVAL, NULL,
                                   "invalid timestamp: fraction of second "
                                   "has more than 9 digits at offset %zu",
                                   i);
            nsec = nsec * 10 + (s[i] - '0');
            i++;
        }
        if (i == fstart)
            return time_bad(diag, kind, s, i, "a digit of the fraction");
        for (nd = (int)(i - fstart); nd < 9; nd++)
            nsec *= 10;
    }

    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        bool neg = s[i] == '-';
        i++;
        if (!time_num(s, &i, 2, &oh))
            return time_bad(diag, kind, s, i, "a digit of the offset hour");
        if (oh > 23)
            return sl_diag_set(diag, SL_EINVAL, NULL, "invalid offset hour %d",
                               oh);
        if (!time_sep(s, &i, ':', '\0'))
            return time_bad(diag, kind, s, i, "':'");
        if (!time_num(s, &i, 2, &om))
            return time_bad(diag, kind, s, i, "a digit of the offset minute");
        if (om > 59)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "invalid offset minute %d", om);
        off = oh * 60 + om;
        if (neg)
            off = -off;
    } else {
        return time_bad(diag, kind, s, i, "'Z' or a numeric offset");
    }
    if (s[i] != '\0')
        return time_bad(diag, kind, s, i, "end of input");

    /*
     * A leap second is only ever inserted as 23:59:60 UTC; anywhere else
     * :60 is a typo. Accepted ones fall into the next second by the sum.
     */
    if (sec == 60 && ((hour * 60 + min - off) % 1440 + 1440) % 1440 != 1439)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid second 60: a leap second must be at "
                           "23:59:60 UTC");

    secs = time_days_from_civil(year, mon, day) * SEC_PER_DAY + hour * 3600 +
           min * 60 + sec - (int64_t)off * 60;
    out->sec = secs;
    out->nsec = nsec;
    out->offset_min = off;
    return 0;
}

size_t sl_time_format_rfc3339(const struct sl_timestamp *ts, char *out,
                              size_t outlen)
{
    int64_t sec = ts->sec, days, rem, year;
    int64_t nsec = ts->nsec;
    int mon, day, len, nd = 9;
    char frac[16] = "";

    if (outlen == 0)
        return 0;
    /* Tolerate an unnormalised nanosecond field rather than print junk. */
    if (nsec < 0 || nsec >= NS_PER_SEC) {
        int64_t carry = nsec / NS_PER_SEC;
        nsec %= NS_PER_SEC;
        if (nsec < 0) {
            nsec += NS_PER_SEC;
            carry--;
        }
        sec += carry;
    }
    days = sec / SEC_PER_DAY;
    rem = sec % SEC_PER_DAY;
    if (rem < 0) {
        rem += SEC_PER_DAY;
        days--;
    }
    time_civil_from_days(days, &year, &mon, &day);

    if (nsec != 0) {
        while (nsec % 10 == 0) {
            nsec /= 10;
            nd--;
        }
        snprintf(frac, sizeof(frac), ".%0*d", nd, (int)nsec);
    }
    len = snprintf(out, outlen, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%sZ",
                   year, mon, day, (int)(rem / 3600), (int)(rem / 60 % 60),
                   (int)(rem % 60), frac);
    if (len < 0)
        len = 0;
    return (size_t)len < outlen ? (size_t)len : outlen - 1;
}

/* ---- clocks ---- */

struct sl_timestamp sl_time_now(void)
{
    struct timespec tp;
    struct sl_timestamp ts;

    clock_gettime(CLOCK_REALTIME, &tp);
    ts.sec = (int64_t)tp.tv_sec;
    ts.nsec = (int32_t)tp.tv_nsec;
    ts.offset_min = 0;
    return ts;
}

int64_t sl_time_mono_ns(void)
{
    struct timespec tp;

    clock_gettime(CLOCK_MONOTONIC, &tp);
    return (int64_t)tp.tv_sec * NS_PER_SEC + tp.tv_nsec;
}

/* ---- ISO-8601 durations ---- */

/*
 * Designators in the only order they may appear; 'M' is months before the
 * 'T' and minutes after it. Years and months have fixed lengths here
 * (365 and 30 days), as the header explains.
 */
enum { DUR_Y, DUR_MO, DUR_W, DUR_D, DUR_H, DUR_MI, DUR_S };

static const int64_t dur_unit[] = {
    [DUR_Y] = 365 * SEC_PER_DAY * NS_PER_SEC,
    [DUR_MO] = 30 * SEC_PER_DAY * NS_PER_SEC,
    [DUR_W] = 7 * SEC_PER_DAY * NS_PER_SEC,
    [DUR_D] = SEC_PER_DAY * NS_PER_SEC,
    [DUR_H] = 3600 * NS_PER_SEC,
    [DUR_MI] = 60 * NS_PER_SEC,
    [DUR_S] = NS_PER_SEC,
};

/* Map designator 'c' to its rank, given which part we are in; -1 if none. */
static int dur_rank(char c, bool time_part)
{
    switch (c) {
    case 'Y':
        return time_part ? -1 : DUR_Y;
    case 'M':
        return time_part ? DUR_MI : DUR_MO;
    case 'W':
        return time_part ? -1 : DUR_W;
    case 'D':
        return time_part ? -1 : DUR_D;
    case 'H':
        return time_part ? DUR_H : -1;
    case 'S':
        return time_part ? DUR_S : -1;
    default:
        return -1;
    }
}

/*
 * The nanoseconds of the fraction digits s[0..n) of one 'unit': the exact
 * floor of 0.ddd * unit, by Horner's rule from the last digit (nested
 * floor divisions by 10 equal one floor division by 10^n). Every
 * intermediate stays below 10 * unit, far from overflow.
 */
static int64_t dur_frac(const char *s, size_t n, int64_t unit)
{
    int64_t x = 0;

    while (n-- > 0)
        x = ((s[n] - '0') * unit + x) / 10;
    return x;
}

int sl_duration_parse(const char *s, int64_t *out_ns, struct sl_diag *diag)
{
    static const char kind[] = "duration";
    size_t i = 0, start, fstart = 0, flen = 0;
    int last = -1, rank, ncomp = 0;
    bool neg = false, time_part = false, had_frac = false;
    int64_t total = 0, v, part;
    uint64_t n;

    if (s[i] == '-' || s[i] == '+') {
        neg = s[i] == '-';
        i++;
    }
    if (s[i] != 'P')
        return time_bad(diag, kind, s, i, "'P'");
    i++;

    for (;;) {
        if (s[i] == '\0')
            break;
        if (s[i] == 'T' && !time_part) {
            time_part = true;
            i++;
            if (!time_isdigit(s[i]))
                return time_bad(diag, kind, s, i, "a number after 'T'");
            continue;
        }
        start = i;
        if (had_frac)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "invalid duration: only the last component "
                               "may have a fraction, found more at offset "
                               "%zu",
                               start);
        if (!time_isdigit(s[i]))
            return time_bad(diag, kind, s, i,
                            time_part ? "a digit" : "a digit or 'T'");
        n = 0;
        while (time_isdigit(s[i])) {
            if (n > (UINT64_MAX - 9) / 10)
                return sl_diag_set(diag, SL_ETOOBIG, NULL,
                                   "duration too long: number at offset "
                                   "%zu is too large",
                                   start);
            n = n * 10 + (uint64_t)(s[i] - '0');
            i++;
        }
        flen = 0;
        if (s[i] == '.' || s[i] == ',') {
            i++;
            fstart = i;
            while (time_isdigit(s[i]))
                i++;
            flen = i - fstart;
            if (flen == 0)
                return time_bad(diag, kind, s, i, "a digit of the fraction");
            had_frac = true;
        }
        rank = dur_rank(s[i], time_part);
        if (rank < 0) {
            if (!time_part && dur_rank(s[i], true) >= 0)
                return sl_diag_set(diag, SL_EINVAL, NULL,
                                   "invalid duration: '%c' at offset %zu "
                                   "must follow 'T'",
                                   s[i], i);
            return time_bad(diag, kind, s, i,
                            time_part ? "'H', 'M' or 'S'"
                                      : "'Y', 'M', 'W', 'D' or 'T'");
        }
        if (rank <= last)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "invalid duration: '%c' at offset %zu is "
                               "repeated or out of order",
                               s[i], i);
        last = rank;
        i++;
        ncomp++;

        if (n > (uint64_t)(INT64_MAX / dur_unit[rank]))
            goto too_big;
        v = (int64_t)n * dur_unit[rank];
        part = flen > 0 ? dur_frac(s + fstart, flen, dur_unit[rank]) : 0;
        if (v > INT64_MAX - part || total > INT64_MAX - v - part)
            goto too_big;
        total += v + part;
    }
    if (ncomp == 0)
        return time_bad(diag, kind, s, i,
                        time_part ? "a number" : "a number or 'T'");
    *out_ns = neg ? -total : total;
    return 0;

too_big:
    return sl_diag_set(diag, SL_ETOOBIG, NULL,
                       "duration too long: more than int64 nanoseconds "
                       "(about 292 years)");
}

size_t sl_duration_format(int64_t ns, char *out, size_t outlen)
{
    char tmp[SL_DURATION_MAX];
    uint64_t mag, days, rem, h, m, sec, frac;
    size_t len = 0;
    int nd = 9;

    if (outlen == 0)
        return 0;
    mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    days = mag / (uint64_t)dur_unit[DUR_D];
    rem = mag % (uint64_t)dur_unit[DUR_D];
    h = rem / (uint64_t)dur_unit[DUR_H];
    rem %= (uint64_t)dur_unit[DUR_H];
    m = rem / (uint64_t)dur_unit[DUR_MI];
    rem %= (uint64_t)dur_unit[DUR_MI];
    sec = rem / (uint64_t)NS_PER_SEC;
    frac = rem % (uint64_t)NS_PER_SEC;

    /* Every piece fits: the longest result is about 30 bytes. */
    if (ns < 0)
        tmp[len++] = '-';
    tmp[len++] = 'P';
    if (mag == 0) {
        memcpy(tmp + len, "T0S", 4);
        len += 3;
    }
    if (days > 0)
        len += (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%" PRIu64 "D",
                                days);
    if (h > 0 || m > 0 || sec > 0 || frac > 0)
        tmp[len++] = 'T';
    if (h > 0)
        len +=
            (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%" PRIu64 "H", h);
    if (m > 0)
        len +=
            (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%" PRIu64 "M", m);
    if (sec > 0 || frac > 0) {
        len += (size_t)snprintf(tmp + len, sizeof(tmp) - len, "%" PRIu64, sec);
        if (frac > 0) {
            while (frac % 10 == 0) {
                frac /= 10;
                nd--;
            }
            len += (size_t)snprintf(tmp + len, sizeof(tmp) - len, ".%0*" PRIu64,
                                    nd, frac);
        }
        tmp[len++] = 'S';
    }
    tmp[len] = '\0';
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, tmp, len);
    out[len] = '\0';
    return len;
}
