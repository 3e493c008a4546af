/*
 * core/tz_posix.c - POSIX TZ rules (RFC 8536 section 3.3) and the
 * proleptic Gregorian calendar of core/tz.h.
 *
 * A rule string gives a standard offset and, with daylight saving time,
 * the yearly days and local times at which DST starts and ends. Its
 * offset at an instant is found by listing the changes of the five years
 * around it in time order.
 */
#include "core/tz.h"
#include "core/tz_posix.h"

#include <string.h>

/* ---- calendar ---- */

static bool tz_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int tz_days_in_month(int64_t y, int m)
{
    static const int dim[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    return m == 2 && tz_leap(y) ? 29 : dim[m - 1];
}

/* Floor division and modulo for a positive divisor. */
int64_t sl__tz_fdiv(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a - 1) / b) - 1;
}

int64_t sl__tz_fmod(int64_t a, int64_t b)
{
    return a - sl__tz_fdiv(a, b) * b;
}

int64_t sl_tz_days_from_civil(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2), era, yoe, doy, doe;

    /* Count in 400-year eras starting on March 1, so the leap day is the
     * last day of each counted year. */
    era = sl__tz_fdiv(y, 400);
    yoe = y - era * 400;
    doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sl_tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468, era, doe, yoe, doy, mp;

    era = sl__tz_fdiv(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

/* ---- footer rules ---- */

/* Parse 1..maxd decimal digits into '*v' (at most 'max'). */
static bool tz_num(const char **s, const char *e, int maxd, int max, int *v)
{
    int n = 0, k = 0;

    while (*s < e && **s >= '0' && **s <= '9' && k < maxd) {
        n = n * 10 + (**s - '0');
        (*s)++;
        k++;
    }
    if (k == 0 || n > max)
        return false;
    *v = n;
    return true;
}

/* A zone abbreviation: 3+ letters, or <...> of [A-Za-z0-9+-]. */
static bool tz_abbr(const char **s, const char *e)
{
    const char *p = *s;

    if (p < e && *p == '<') {
        for (p++; p < e && *p != '>'; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
                return false;
        if (p == e || p - *s < 2)
            return false;
        *s = p + 1;
        return true;
    }
    while (p < e && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
        p++;
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh at most 'maxh'; seconds into '*out'. */
static bool tz_hms(const char **s, const char *e, int maxh, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;

    if (*s < e && (**s == '+' || **s == '-')) {
        sign = **s == '-' ? -1 : 1;
        (*s)++;
    }
    if (!tz_num(s, e, 3, maxh, &h))
        return false;
    if (*s < e && **s == ':') {
        (*s)++;
        if (!tz_num(s, e, 2, 59, &m))
            return false;
        if (*s < e && **s == ':') {
            (*s)++;
            if (!tz_num(s, e, 2, 59, &sec))
                return false;
        }
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return true;
}

/* A date rule with an optional /time (default 02:00:00). */
static bool tz_rule_parse(const char **s, const char *e, struct sl__tz_rule *r)
{
    memset(r, 0, sizeof(*r));
    r->time = 2 * 3600;
    if (*s < e && **s == 'J') {
        (*s)++;
        r->kind = 'J';
        if (!tz_num(s, e, 3, 365, &r->n) || r->n < 1)
            return false;
    } else if (*s < e && **s == 'M') {
        (*s)++;
        r->kind = 'M';
        if (!tz_num(s, e, 2, 12, &r->m) || r->m < 1 || *s == e || **s != '.')
            return false;
        (*s)++;
        if (!tz_num(s, e, 1, 5, &r->w) || r->w < 1 || *s == e || **s != '.')
            return false;
        (*s)++;
        if (!tz_num(s, e, 1, 6, &r->d))
            return false;
    } else {
        r->kind = 'D';
        if (!tz_num(s, e, 3, 365, &r->n))
            return false;
    }
    if (*s < e && **s == '/') {
        (*s)++;
        if (!tz_hms(s, e, 167, &r->time))
            return false;
    }
    return true;
}

/*
 * Parse a POSIX TZ string as RFC 8536 section 3.3 extends it:
 * std offset [dst [offset] [,rule,rule]]. A dst part without rules gets
 * the US rules (",M3.2.0,M11.1.0"), as Go and tzcode's default do.
 */
bool sl__tz_footer_parse(const char *s, const char *e, struct sl__tz_footer *f)
{
    int32_t off;

    memset(f, 0, sizeof(*f));
    if (!tz_abbr(&s, e) || !tz_hms(&s, e, 24, &off))
        return false;
    /* POSIX offsets are west of UTC; ours are east. */
    f->stdoff = -off;
    if (s == e) {
        f->valid = true;
        return true;
    }
    if (!tz_abbr(&s, e))
        return false;
    f->dstoff = f->stdoff + 3600;
    if (s < e && *s != ',') {
        if (!tz_hms(&s, e, 24, &off))
            return false;
        f->dstoff = -off;
    }
    if (s == e) {
        f->start = (struct sl__tz_rule){
            .kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200
        };
        f->end = (struct sl__tz_rule){
            .kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200
        };
    } else {
        if (*s != ',')
            return false;
        s++;
        if (!tz_rule_parse(&s, e, &f->start) || s == e || *s != ',')
            return false;
        s++;
        if (!tz_rule_parse(&s, e, &f->end) || s != e)
            return false;
    }
    f->valid = true;
    f->dst = true;
    return true;
}

/* The day of year (0-based) rule 'r' falls on in year 'y'. */
static int64_t tz_rule_yday(const struct sl__tz_rule *r, int64_t y)
{
    int64_t first, wd;
    int day;

    switch (r->kind) {
    case 'J':
        return r->n - 1 + (tz_leap(y) && r->n >= 60);
    case 'D':
        return r->n;
    default:
        first = sl_tz_days_from_civil(y, r->m, 1);
        /* 1970-01-01 was a Thursday (4). */
        wd = sl__tz_fmod(first + 4, 7);
        day = 1 + (int)sl__tz_fmod(r->d - wd, 7) + 7 * (r->w - 1);
        while (day > tz_days_in_month(y, r->m))
            day -= 7;
        return first + day - 1 - sl_tz_days_from_civil(y, 1, 1);
    }
}

/* The UTC instant of rule 'r' in year 'y', its time read at 'off'. */
static int64_t tz_rule_at(const struct sl__tz_rule *r, int64_t y, int32_t off)
{
    return (sl_tz_days_from_civil(y, 1, 1) + tz_rule_yday(r, y)) *
               SL__TZ_SEC_PER_DAY +
           r->time - off;
}

/*
 * The footer's offset at 't' and the span of it around 't'. Events of
 * five years around t's year are enough: a rule moves its change by at
 * most a week (167 hours) plus a day of offset from its own year. Beyond
 * +-SL__TZ_T_LIMIT the offset at the limit holds forever.
 */
int32_t sl__tz_footer_lookup(const struct sl__tz_footer *f, int64_t t,
                             int64_t *start, int64_t *end)
{
    struct tz_ev {
        int64_t at;
        bool dst;
    } ev[10], tmp;
    int64_t y;
    int nev = 0, i, j, last = -1;
    int month, day;
    int32_t off;

    *start = INT64_MIN;
    *end = INT64_MAX;
    if (!f->dst)
        return f->stdoff;
    if (t >= SL__TZ_T_LIMIT || t < -SL__TZ_T_LIMIT) {
        off = sl__tz_footer_lookup(
            f, t < 0 ? -SL__TZ_T_LIMIT : SL__TZ_T_LIMIT - 1, start, end);
        *start = t < 0 ? INT64_MIN : SL__TZ_T_LIMIT;
        *end = t < 0 ? -SL__TZ_T_LIMIT : INT64_MAX;
        return off;
    }
    sl_tz_civil_from_days(sl__tz_fdiv(t, SL__TZ_SEC_PER_DAY), &y, &month, &day);
    /* Within one year the start comes before the end at equal instants
     * (so an empty DST period means no DST); across years the events are
     * kept in year order (so "0/0,J365/25" is DST all year). */
    for (y -= 2, i = 0; i < 5; i++, y++) {
        ev[nev].at = tz_rule_at(&f->start, y, f->stdoff);
        ev[nev++].dst = true;
        ev[nev].at = tz_rule_at(&f->end, y, f->dstoff);
        ev[nev++].dst = false;
    }
    /* A stable insertion sort by instant keeps that order for ties. */
    for (i = 1; i < nev; i++)
        for (j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) {
            tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    for (i = 0; i < nev && ev[i].at <= t; i++)
        last = i;
    /* The window always holds events on both sides of t; this only
     * guards the arithmetic. */
    if (last < 0) {
        *end = ev[0].at;
        return ev[0].dst ? f->stdoff : f->dstoff;
    }
    *start = ev[last].at;
    if (last + 1 < nev)
        *end = ev[last + 1].at;
    return ev[last].dst ? f->dstoff : f->stdoff;
}
