/*
 * test/fuzz/fuzz_tzif.c - libFuzzer target for the TZif parser.
 *
 * The input is a TZif file (untrusted bytes). sl_tz_parse() must accept
 * it or say SL_EINVAL with a message. An accepted zone is looked up at
 * instants from the input and from fixed years: every offset must lie in
 * RFC 8536's range, every span [start, end) must contain its instant and
 * have the same offset at both ends (sl_tz_mktime() relies on that);
 * local fields, sl_tz_mktime() and a few cron schedules must run without
 * undefined behaviour and end (sl_cron_next() is -1 or later than its
 * start). Nothing may leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/tz.h"
#include "resource/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static void fz_span(const struct sl_tz *z, int64_t t)
{
    struct sl_tz_tm tm;
    int64_t s, e;
    int32_t off = sl_tz_lookup(z, t, &s, &e);

    if (off < -89999 || off > 93599)
        abort();
    if (s > t || (e != INT64_MAX && e <= t))
        abort();
    if (sl_tz_offset(z, s) != off)
        abort();
    if (e != INT64_MAX && sl_tz_offset(z, e - 1) != off)
        abort();
    sl_tz_local(z, t, &tm);
    if (tm.month < 1 || tm.month > 12 || tm.day < 1 || tm.day > 31 ||
        tm.hour < 0 || tm.hour > 23 || tm.minute < 0 || tm.minute > 59 ||
        tm.second < 0 || tm.second > 59 || tm.wday < 0 || tm.wday > 6 ||
        tm.offset != off)
        abort();
}

static int64_t fz_i64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    static const char *const specs[] = { "0 * * * *", "30 2 * * *",
                                         "0 0 29 2 *", "*/7 * * * * *" };
    static const int64_t fixed[] = {
        INT64_MIN,  INT64_MIN + 1, -62135596800, -2208988800,  0,
        1772953200, 1793512800,    2235621600,   253402300799, INT64_MAX - 1,
        INT64_MAX
    };
    struct sl_tz *z = NULL;
    struct sl_diag d;
    struct sl_cron c;
    long live = sl_alloc_live();
    int64_t t, r;
    size_t i;
    int rc;

    sl_diag_clear(&d);
    rc = sl_tz_parse(p, n, "Fuzz/Zone", &z, &d);
    if (rc != 0) {
        if (rc != SL_EINVAL || z != NULL || d.msg[0] == '\0')
            abort();
        goto out;
    }
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        fz_span(z, fixed[i]);
    /* Instants from the input: every 8 bytes, and one per year
     * 1900..2100 in a stride. */
    for (i = 0; i + 8 <= n && i < 8 * 64; i += 8)
        fz_span(z, fz_i64(p + i));
    for (t = -2208988800; t < 4102444800; t += 86400 * 97 + 3607)
        fz_span(z, t);
    (void)sl_tz_mktime(z, 2026, 3, 8, 2, 30, 0);
    (void)sl_tz_mktime(z, 2040, 11, 4, 1, 30, 0);
    (void)sl_tz_mktime(z, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN,
                       INT64_MAX);
    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        if (sl_cron_parse(specs[i], &c, NULL) != 0)
            abort();
        r = sl_cron_next(&c, z, 1772900000);
        if (r != -1 && r <= 1772900000)
            abort();
        r = sl_cron_next(&c, z, 2235500000);
        if (r != -1 && r <= 2235500000)
            abort();
    }
out:
    sl_tz_free(z);
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
