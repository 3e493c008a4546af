/*
 * resource/cron.c - the cron parser of cron.h, written from robfig/cron
 * v3's documented behaviour (parser.go: Parse, normalizeFields, getField,
 * getRange, parseDescriptor) and its messages.
 *
 * Where robfig accepts input that can only be a mistake, sluice refuses
 * it (docs/resource.md, Sources): an empty list element ("1,,2" or ","
 * would compile to a field that never matches), a '*' followed by a
 * range ("*-5" is silently read as "*"), '?' outside the two day fields,
 * and an empty CRON_TZ= zone (robfig reads it as UTC). Blanks around the
 * whole spec are ignored even before a descriptor.
 *
 * No allocation: the spec is walked as slices of the caller's string.
 */
#include "resource/cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One of the six fields. */
struct cron_def {
    const char *name;         /* for messages */
    unsigned min, max;        /* bounds */
    const char *const *names; /* 3-letter names for min.., or NULL */
    bool question;            /* '?' allowed */
};

static const char *const cron_months[] = { "jan", "feb", "mar", "apr", "may",
                                           "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec", NULL };
static const char *const cron_days[] = { "sun", "mon", "tue", "wed",
                                         "thu", "fri", "sat", NULL };

/* Fields kept for the "expected 5 to 6 fields" message. */
#define CRON_SHOWN 8

enum { CRON_SEC, CRON_MIN, CRON_HOUR, CRON_DOM, CRON_MONTH, CRON_DOW };

static const struct cron_def cron_defs[6] = {
    { "second", 0, 59, NULL, false },
    { "minute", 0, 59, NULL, false },
    { "hour", 0, 23, NULL, false },
    { "day-of-month", 1, 31, NULL, true },
    { "month", 1, 12, cron_months, false },
    { "day-of-week", 0, 6, cron_days, true },
};

/* A slice of the spec. */
struct cron_str {
    const char *p;
    size_t n;
};

static bool cron_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

static bool cron_eq(struct cron_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

/* Case-insensitive comparison of a slice with a lower-case literal. */
static bool cron_eq_ci(struct cron_str s, const char *lit)
{
    size_t i;

    if (s.n != strlen(lit))
        return false;
    for (i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

/* Record a failure for field 'f' (NULL: the whole spec). */
static int cron_fail(struct sl_diag *d, const struct cron_def *f,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cron_fail(struct sl_diag *d, const struct cron_def *f,
                     const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (f != NULL)
        return sl_diag_set(d, SL_EINVAL, NULL, "%s: %s", f->name, msg);
    return sl_diag_set(d, SL_EINVAL, NULL, "%s", msg);
}

/*
 * A number as Go's strconv.Atoi reads it (optional sign, digits), or
 * a name of the field when 'f' has names. 'expr' is the range
 * expression for messages. Returns 0 with '*out' set, or SL_EINVAL.
 */
static int cron_number(struct cron_str s, const struct cron_def *f, bool names,
                       struct cron_str expr, unsigned *out, struct sl_diag *d)
{
    size_t i = 0;
    bool neg = false;
    unsigned long v = 0;

    if (names && f->names != NULL)
        for (i = 0; f->names[i] != NULL; i++)
            if (cron_eq_ci(s, f->names[i])) {
                *out = f->min + (unsigned)i;
                return 0;
            }
    i = 0;
    if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
        neg = s.p[0] == '-';
        i = 1;
    }
    if (i == s.n)
        return cron_fail(d, f, "failed to parse int from %.*s: invalid syntax",
                         (int)s.n, s.p);
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return cron_fail(d, f,
                             "failed to parse int from %.*s: invalid syntax",
                             (int)s.n, s.p);
        v = v * 10 + (unsigned long)(s.p[i] - '0');
        if (v > 1000000000UL)
            return cron_fail(d, f,
                             "failed to parse int from %.*s: value out of "
                             "range",
                             (int)s.n, s.p);
    }
    if (neg && v > 0)
        return cron_fail(d, f, "negative number (-%lu) not allowed: %.*s", v,
                         (int)expr.n, expr.p);
    *out = (unsigned)v;
    return 0;
}

/* Split 's' at the first 'c': head in '*a', rest after it in '*b'.
 * Returns false (and 's' whole in '*a') when there is no 'c'. */
static bool cron_split(struct cron_str s, char c, struct cron_str *a,
                       struct cron_str *b)
{
    const char *at = s.n > 0 ? memchr(s.p, c, s.n) : NULL;

    if (at == NULL) {
        *a = s;
        b->p = s.p + s.n;
        b->n = 0;
        return false;
    }
    a->p = s.p;
    a->n = (size_t)(at - s.p);
    b->p = at + 1;
    b->n = s.n - a->n - 1;
    return true;
}

/*
 * One range expression: '*', '?', N, N-M, each with an optional /STEP.
 * ORs its bits into '*bits'; sets '*any' for an unstepped '*' or '?'.
 */
static int cron_range(struct cron_str expr, const struct cron_def *f,
                      uint64_t *bits, bool *any, struct sl_diag *d)
{
    struct cron_str range, step_s, lo_s, hi_s;
    unsigned start, end, step = 1, v;
    bool has_step, star = false;
    int rc;

    has_step = cron_split(expr, '/', &range, &step_s);
    if (has_step && memchr(step_s.p, '/', step_s.n) != NULL)
        return cron_fail(d, f, "too many slashes: %.*s", (int)expr.n, expr.p);
    if (cron_split(range, '-', &lo_s, &hi_s) &&
        memchr(hi_s.p, '-', hi_s.n) != NULL)
        return cron_fail(d, f, "too many hyphens: %.*s", (int)expr.n, expr.p);
    if (cron_eq(lo_s, "*") || cron_eq(lo_s, "?")) {
        if (lo_s.p[0] == '?' && !f->question)
            return cron_fail(d, f,
                             "'?' is only allowed in day-of-month and "
                             "day-of-week: %.*s",
                             (int)expr.n, expr.p);
        if (lo_s.n != range.n)
            return cron_fail(d, f, "'%c' cannot start a range: %.*s", lo_s.p[0],
                             (int)expr.n, expr.p);
        start = f->min;
        end = f->max;
        star = true;
    } else {
        if ((rc = cron_number(lo_s, f, true, expr, &start, d)) != 0)
            return rc;
        end = start;
        if (lo_s.n != range.n &&
            (rc = cron_number(hi_s, f, true, expr, &end, d)) != 0)
            return rc;
    }
    if (has_step) {
        if ((rc = cron_number(step_s, f, false, expr, &step, d)) != 0)
            return rc;
        /* "N/step" means "N-max/step". */
        if (!star && lo_s.n == range.n)
            end = f->max;
        if (step > 1)
            star = false;
    }
    if (start < f->min)
        return cron_fail(d, f,
                         "beginning of range (%u) below minimum (%u): %.*s",
                         start, f->min, (int)expr.n, expr.p);
    if (end > f->max)
        return cron_fail(d, f, "end of range (%u) above maximum (%u): %.*s",
                         end, f->max, (int)expr.n, expr.p);
    if (start > end)
        return cron_fail(d, f,
                         "beginning of range (%u) beyond end of range (%u): "
                         "%.*s",
                         start, end, (int)expr.n, expr.p);
    if (step == 0)
        return cron_fail(d, f,
                         "step of range should be a positive number: %.*s",
                         (int)expr.n, expr.p);
    for (v = start; v <= end; v += step)
        *bits |= (uint64_t)1 << v;
    if (star)
        *any = true;
    return 0;
}

/* One field: a comma list of range expressions. */
static int cron_field(struct cron_str s, const struct cron_def *f,
                      uint64_t *bits, bool *any, struct sl_diag *d)
{
    struct cron_str expr, rest = s;
    bool more;
    int rc;

    *bits = 0;
    *any = false;
    do {
        more = cron_split(rest, ',', &expr, &rest);
        if (expr.n == 0)
            return cron_fail(d, f, "empty element in list: %.*s", (int)s.n,
                             s.p);
        if ((rc = cron_range(expr, f, bits, any, d)) != 0)
            return rc;
    } while (more);
    return 0;
}

/* "expected 5 to 6 fields, found N: [a b c]" with the list cut short. */
static int cron_count_fail(const struct cron_str *fv, size_t stored, size_t nf,
                           struct sl_diag *d)
{
    char list[200];
    size_t used = 0, i;

    for (i = 0; i < stored && used < sizeof(list); i++) {
        int k = snprintf(list + used, sizeof(list) - used, "%s%.*s",
                         i > 0 ? " " : "", (int)fv[i].n, fv[i].p);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return cron_fail(d, NULL, "expected 5 to 6 fields, found %zu: [%s%s]", nf,
                     list, nf > stored || used >= sizeof(list) ? " ..." : "");
}

/* The descriptors robfig knows, minus @every. */
static int cron_descriptor(struct cron_str s, struct sl_cron *c,
                           struct sl_diag *d)
{
    const uint64_t all_dom = 0xfffffffeULL, all_month = 0x1ffeULL;
    const uint64_t all_dow = 0x7fULL, all_hour = 0xffffffULL;

    c->second = 1;
    c->minute = 1;
    c->hour = 1;
    c->dom = (uint32_t)all_dom;
    c->month = (uint16_t)all_month;
    c->dow = (uint8_t)all_dow;
    c->dom_any = true;
    c->dow_any = true;
    if (cron_eq(s, "@yearly") || cron_eq(s, "@annually")) {
        c->dom = 1u << 1;
        c->dom_any = false;
        c->month = 1u << 1;
    } else if (cron_eq(s, "@monthly")) {
        c->dom = 1u << 1;
        c->dom_any = false;
    } else if (cron_eq(s, "@weekly")) {
        c->dow = 1u << 0;
        c->dow_any = false;
    } else if (cron_eq(s, "@daily") || cron_eq(s, "@midnight")) {
        /* every day at 00:00:00 */
    } else if (cron_eq(s, "@hourly")) {
        c->hour = (uint32_t)all_hour;
    } else if (s.n >= 6 && memcmp(s.p, "@every", 6) == 0) {
        return cron_fail(d, NULL, "unsupported descriptor @every");
    } else {
        return cron_fail(d, NULL, "unrecognized descriptor: %.*s", (int)s.n,
                         s.p);
    }
    return 0;
}

int sl_cron_tz_check(const char *name, struct sl_diag *d)
{
    return sl_tz_name_check(name, d);
}

/* A CRON_TZ=/TZ= prefix: the zone into c->tz, the rest into '*s'. */
static int cron_tz_prefix(struct cron_str *s, struct sl_cron *c,
                          struct sl_diag *d)
{
    struct sl_diag tmp;
    size_t skip, i;

    if (s->n >= 8 && memcmp(s->p, "CRON_TZ=", 8) == 0)
        skip = 8;
    else if (s->n >= 3 && memcmp(s->p, "TZ=", 3) == 0)
        skip = 3;
    else
        return 0;
    for (i = skip; i < s->n && !cron_blank(s->p[i]); i++)
        ;
    if (i == s->n)
        return cron_fail(d, NULL, "missing schedule after time zone: %.*s",
                         (int)s->n, s->p);
    if (i == skip)
        return cron_fail(d, NULL, "empty time zone: %.*s", (int)s->n, s->p);
    if (i - skip >= SL_CRON_TZ_MAX)
        return cron_fail(d, NULL,
                         "provided bad location %.*s: invalid location "
                         "name",
                         (int)(i - skip), s->p + skip);
    memcpy(c->tz, s->p + skip, i - skip);
    c->tz[i - skip] = '\0';
    sl_diag_clear(&tmp);
    if (sl_cron_tz_check(c->tz, &tmp) != 0)
        return cron_fail(d, NULL, "provided bad location %s: %s", c->tz,
                         tmp.msg);
    while (i < s->n && cron_blank(s->p[i]))
        i++;
    s->p += i;
    s->n -= i;
    return 0;
}

int sl_cron_parse(const char *spec, struct sl_cron *out, struct sl_diag *d)
{
    struct cron_str s = { spec, strlen(spec) }, fv[CRON_SHOWN];
    struct sl_cron c;
    uint64_t bits[6];
    bool any[6];
    size_t nf = 0, i, first;
    int rc;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    while (s.n > 0 && cron_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && cron_blank(s.p[s.n - 1]))
        s.n--;
    if (s.n == 0)
        return cron_fail(d, NULL, "empty spec string");
    if ((rc = cron_tz_prefix(&s, &c, d)) != 0)
        return rc;
    if (s.p[0] == '@') {
        if ((rc = cron_descriptor(s, &c, d)) != 0)
            return rc;
        *out = c;
        return 0;
    }
    for (i = 0; i < s.n;) {
        size_t start;
        while (i < s.n && cron_blank(s.p[i]))
            i++;
        if (i == s.n)
            break;
        start = i;
        while (i < s.n && !cron_blank(s.p[i]))
            i++;
        if (nf < CRON_SHOWN) {
            fv[nf].p = s.p + start;
            fv[nf].n = i - start;
        }
        nf++;
    }
    if (nf < 5 || nf > 6)
        return cron_count_fail(fv, nf < CRON_SHOWN ? nf : CRON_SHOWN, nf, d);
    /* Without a seconds field the schedule fires at second 0. */
    first = nf == 6 ? 0 : 1;
    bits[CRON_SEC] = 1;
    any[CRON_SEC] = false;
    for (i = first; i < 6; i++)
        if ((rc = cron_field(fv[i - first], &cron_defs[i], &bits[i], &any[i],
                             d)) != 0)
            return rc;
    c.second = bits[CRON_SEC];
    c.minute = bits[CRON_MIN];
    c.hour = (uint32_t)bits[CRON_HOUR];
    c.dom = (uint32_t)bits[CRON_DOM];
    c.month = (uint16_t)bits[CRON_MONTH];
    c.dow = (uint8_t)bits[CRON_DOW];
    c.dom_any = any[CRON_DOM];
    c.dow_any = any[CRON_DOW];
    *out = c;
    return 0;
}

/* ---- next fire time ---- */

/* Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define CRON_AFTER_MIN INT64_C(-62135596800)
#define CRON_AFTER_MAX INT64_C(253402300799)

/* Steps of the search before giving up. A real zone needs a few hundred
 * (five years of "0 0 30 2 *" is about 200); a hostile TZif file whose
 * clock changes keep the search from advancing is cut off here. */
#define CRON_STEPS_MAX 200000

/* Go's t.AddDate(0, months, days) in zone 'z'. */
static int64_t cron_add_date(const struct sl_tz *z, int64_t t, int months,
                             int days)
{
    struct sl_tz_tm tm;

    sl_tz_local(z, t, &tm);
    return sl_tz_mktime(z, tm.year, (int64_t)tm.month + months,
                        (int64_t)tm.day + days, tm.hour, tm.minute, tm.second);
}

static bool cron_day_matches(const struct sl_cron *c, const struct sl_tz_tm *tm)
{
    bool dom = (c->dom >> tm->day & 1u) != 0;
    bool dow = (c->dow >> tm->wday & 1u) != 0;

    if (c->dom_any || c->dow_any)
        return dom && dow;
    return dom || dow;
}

/*
 * robfig/cron v3 SpecSchedule.Next(), step for step, on Unix seconds with
 * the zone arithmetic of Go's time package (sl_tz_mktime() is
 * time.Date()). Each field is advanced until it matches; the first
 * advance resets the smaller fields; a field wrapping around restarts
 * from the month. The wall-clock steps (AddDate) and the absolute ones
 * (Add of an hour or minute) are kept apart exactly as robfig has them,
 * because that is what decides the behaviour at clock changes.
 */
int64_t sl_cron_next(const struct sl_cron *c, const struct sl_tz *z,
                     int64_t after)
{
    struct sl_tz_tm tm;
    int64_t t, year_limit;
    bool added = false;
    long steps = 0;

    if (after < CRON_AFTER_MIN || after > CRON_AFTER_MAX)
        return -1;
    /* Start at the next whole second: strictly after 'after'. */
    t = after + 1;
    sl_tz_local(z, t, &tm);
    year_limit = (int64_t)tm.year + 5;
wrap:
    sl_tz_local(z, t, &tm);
    if (tm.year > year_limit)
        return -1;
    while ((c->month >> tm.month & 1u) == 0) {
        if (++steps > CRON_STEPS_MAX)
            return -1;
        if (!added) {
            added = true;
            t = sl_tz_mktime(z, tm.year, tm.month, 1, 0, 0, 0);
        }
        t = cron_add_date(z, t, 1, 0);
        sl_tz_local(z, t, &tm);
        if (tm.month == 1)
            goto wrap;
    }
    while (!cron_day_matches(c, &tm)) {
        if (++steps > CRON_STEPS_MAX)
            return -1;
        if (!added) {
            added = true;
            t = sl_tz_mktime(z, tm.year, tm.month, tm.day, 0, 0, 0);
        }
        t = cron_add_date(z, t, 0, 1);
        sl_tz_local(z, t, &tm);
        /* Where midnight does not exist the day starts at 01:00 (or the
         * normalisation lands on 23:00 the day before): back to the
         * hour that starts the day, as robfig does. */
        if (tm.hour != 0) {
            if (tm.hour > 12)
                t += (int64_t)(24 - tm.hour) * 3600;
            else
                t -= (int64_t)tm.hour * 3600;
            sl_tz_local(z, t, &tm);
        }
        if (tm.day == 1)
            goto wrap;
    }
    while ((c->hour >> tm.hour & 1u) == 0) {
        if (++steps > CRON_STEPS_MAX)
            return -1;
        if (!added) {
            added = true;
            t = sl_tz_mktime(z, tm.year, tm.month, tm.day, tm.hour, 0, 0);
        }
        t += 3600;
        sl_tz_local(z, t, &tm);
        if (tm.hour == 0)
            goto wrap;
    }
    while ((c->minute >> tm.minute & 1u) == 0) {
        if (++steps > CRON_STEPS_MAX)
            return -1;
        if (!added) {
            added = true;
            /* Go's Truncate(time.Minute) works on absolute time. */
            t -= (t % 60 + 60) % 60;
        }
        t += 60;
        sl_tz_local(z, t, &tm);
        if (tm.minute == 0)
            goto wrap;
    }
    while ((c->second >> tm.second & 1u) == 0) {
        if (++steps > CRON_STEPS_MAX)
            return -1;
        added = true;
        t += 1;
        sl_tz_local(z, t, &tm);
        if (tm.second == 0)
            goto wrap;
    }
    /* robfig's steps keep t after 'after' in every real zone; a zone file
     * whose offsets jump far back (fuzzed ones) can take it behind, and a
     * caller arming a timer on it would fire at once, again and again. */
    return t > after ? t : -1;
}
