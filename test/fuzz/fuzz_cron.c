/*
 * test/fuzz/fuzz_cron.c - libFuzzer target for cron schedules and their
 * next fire times.
 *
 * The input is a schedule (resource/cron.h). A rejected one must carry
 * SL_EINVAL and a message. An accepted one gets a few chained
 * sl_cron_next() calls from instants around 2026's clock changes (and
 * one derived from the input), in UTC and in four zones built in memory
 * from POSIX TZ rules (so the machine's zoneinfo is never read): New
 * York, Lord Howe (30-minute DST), Santiago (changes at 24:00) and
 * Kolkata. Every result must be -1 or later than its 'after' and within
 * the five-year search; its second and minute must match the schedule;
 * in UTC, where no clock changes, every field must match. Nothing may
 * leak.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/tz.h"
#include "resource/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

#define FZ_ZONES 4

static const struct {
    int32_t off; /* the one local time type of the file */
    const char *rule;
} fz_rules[FZ_ZONES] = {
    { -18000, "EST5EDT,M3.2.0,M11.1.0" },
    { 37800, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0" },
    { -14400, "<-04>4<-03>,M9.1.6/24,M4.1.6/24" },
    { 19800, "IST-5:30" },
};

static struct sl_tz *fz_zone[FZ_ZONES];

static void fz_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A version 2 TZif file with no transitions, one type and 'rule'. */
static struct sl_tz *fz_build(int32_t off, const char *rule)
{
    uint8_t b[256];
    size_t n = 0, i, len = strlen(rule);
    struct sl_tz *z = NULL;

    for (i = 0; i < 2; i++) {
        memset(b + n, 0, 44);
        memcpy(b + n, "TZif2", 5);
        fz_put32(b + n + 36, 1); /* typecnt */
        fz_put32(b + n + 40, 4); /* charcnt */
        n += 44;
        fz_put32(b + n, (uint32_t)off);
        b[n + 4] = 0;
        b[n + 5] = 0;
        memcpy(b + n + 6, "ZZZ", 4);
        n += 10;
    }
    b[n++] = '\n';
    memcpy(b + n, rule, len);
    n += len;
    b[n++] = '\n';
    if (sl_tz_parse(b, n, rule, &z, NULL) != 0)
        abort();
    return z;
}

static bool fz_day(const struct sl_cron *c, const struct sl_tz_tm *tm)
{
    bool dom = (c->dom >> tm->day & 1u) != 0;
    bool dow = (c->dow >> tm->wday & 1u) != 0;

    return c->dom_any || c->dow_any ? dom && dow : dom || dow;
}

static void fz_chain(const struct sl_cron *c, const struct sl_tz *z,
                     int64_t after)
{
    const int64_t limit = INT64_C(6) * 366 * 86400;
    struct sl_tz_tm tm;
    int64_t next;
    int i;

    for (i = 0; i < 3; i++) {
        next = sl_cron_next(c, z, after);
        if (next == -1)
            return;
        if (next <= after || next - after > limit)
            abort();
        sl_tz_local(z, next, &tm);
        if ((c->second >> tm.second & 1u) == 0 ||
            (c->minute >> tm.minute & 1u) == 0)
            abort();
        if (z == NULL && ((c->hour >> tm.hour & 1u) == 0 ||
                          (c->month >> tm.month & 1u) == 0 || !fz_day(c, &tm)))
            abort();
        after = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    /* Around the 2026 changes of the four zones, and the year 2040. */
    static const int64_t starts[] = { 1772940000, 1793500000, 1775300000,
                                      1791030000, 1788600000, 2235556800 };
    char spec[512];
    struct sl_cron c;
    struct sl_diag d;
    uint64_t h = 1469598103934665603ULL;
    long live;
    size_t i, k;
    int rc;

    for (i = 0; i < FZ_ZONES; i++)
        if (fz_zone[i] == NULL)
            fz_zone[i] = fz_build(fz_rules[i].off, fz_rules[i].rule);
    live = sl_alloc_live();
    if (n >= sizeof(spec))
        n = sizeof(spec) - 1;
    memcpy(spec, p, n);
    spec[n] = '\0';
    sl_diag_clear(&d);
    rc = sl_cron_parse(spec, &c, &d);
    if (rc != 0) {
        if (rc != SL_EINVAL || d.msg[0] == '\0')
            abort();
        return 0;
    }
    /* An instant from the input itself, anywhere in 1970..2300. */
    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        fz_chain(&c, NULL, starts[i]);
        for (k = 0; k < FZ_ZONES; k++)
            fz_chain(&c, fz_zone[k], starts[i]);
    }
    fz_chain(&c, NULL, (int64_t)(h % 10413792000ULL));
    fz_chain(&c, fz_zone[h % FZ_ZONES], (int64_t)(h % 10413792000ULL));
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
