/*
 * test/unit/time_test.c - RFC 3339 timestamps and ISO-8601 durations.
 */
#include "test/unit/check.h"

#include <time.h>

#include "core/err.h"
#include "core/time.h"

/* Parse 's', which must succeed, and check the fields. */
static void ok_ts(const char *s, int64_t sec, int32_t nsec, int32_t off)
{
    struct sl_timestamp ts;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_time_parse_rfc3339(s, &ts, &d) != 0)
        CHECK_FAIL("'%s' rejected: %s", s, d.msg);
    if (ts.sec != sec || ts.nsec != nsec || ts.offset_min != off)
        CHECK_FAIL("'%s': got %" PRId64 ".%09d%+d, want %" PRId64 ".%09d%+d", s,
                   ts.sec, (int)ts.nsec, (int)ts.offset_min, sec, (int)nsec,
                   (int)off);
}

/* Parse 's', which must fail with a message containing 'msg'. */
static void bad_ts(const char *s, const char *msg)
{
    struct sl_timestamp ts;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_time_parse_rfc3339(s, &ts, &d);
    if (rc != SL_EINVAL)
        CHECK_FAIL("'%s': want SL_EINVAL, got %d", s, rc);
    if (strstr(d.msg, msg) == NULL)
        CHECK_FAIL("'%s': message \"%s\" lacks \"%s\"", s, d.msg, msg);
}

static void ok_dur(const char *s, int64_t want)
{
    struct sl_diag d;
    int64_t ns = -1;

    sl_diag_clear(&d);
    if (sl_duration_parse(s, &ns, &d) != 0)
        CHECK_FAIL("'%s' rejected: %s", s, d.msg);
    if (ns != want)
        CHECK_FAIL("'%s': got %" PRId64 " ns, want %" PRId64, s, ns, want);
}

static void bad_dur(const char *s, int want_rc, const char *msg)
{
    struct sl_diag d;
    int64_t ns = 12345;
    int rc;

    sl_diag_clear(&d);
    rc = sl_duration_parse(s, &ns, &d);
    if (rc != want_rc)
        CHECK_FAIL("'%s': want %d, got %d (%s)", s, want_rc, rc, d.msg);
    if (strstr(d.msg, msg) == NULL)
        CHECK_FAIL("'%s': message \"%s\" lacks \"%s\"", s, d.msg, msg);
    ASSERT_EQ(ns, 12345); /* untouched on failure */
}

static void fmt_ts(int64_t sec, int32_t nsec, const char *want)
{
    struct sl_timestamp ts = { sec, nsec, 0 };
    char buf[SL_TIME_RFC3339_MAX];
    size_t n = sl_time_format_rfc3339(&ts, buf, sizeof(buf));

    ASSERT_STR_EQ(buf, want);
    ASSERT_EQ(n, strlen(want));
}

static void fmt_dur(int64_t ns, const char *want)
{
    char buf[SL_DURATION_MAX];
    size_t n = sl_duration_format(ns, buf, sizeof(buf));

    ASSERT_STR_EQ(buf, want);
    ASSERT_EQ(n, strlen(want));
}

#define SEC INT64_C(1000000000)

TEST(rfc3339_basic)
{
    ok_ts("1970-01-01T00:00:00Z", 0, 0, 0);
    ok_ts("2018-04-05T17:31:00Z", 1522949460, 0, 0);
    ok_ts("2000-03-01T00:00:00Z", 951868800, 0, 0);
    ok_ts("1969-12-31T23:59:59Z", -1, 0, 0);
    ok_ts("0000-01-01T00:00:00Z", INT64_C(-62167219200), 0, 0);
    ok_ts("9999-12-31T23:59:59Z", INT64_C(253402300799), 0, 0);
    ok_ts("2038-01-19T03:14:08Z", INT64_C(2147483648), 0, 0);
}

TEST(rfc3339_lower_case_separators)
{
    ok_ts("2018-04-05t17:31:00z", 1522949460, 0, 0);
    ok_ts("2018-04-05t17:31:00Z", 1522949460, 0, 0);
}

TEST(rfc3339_offsets)
{
    ok_ts("2018-04-05T17:31:00+02:00", 1522949460 - 7200, 0, 120);
    ok_ts("2018-04-05T17:31:00-05:30", 1522949460 + 19800, 0, -330);
    ok_ts("2018-04-05T17:31:00+00:00", 1522949460, 0, 0);
    ok_ts("2018-04-05T17:31:00-00:00", 1522949460, 0, 0);
    ok_ts("2018-04-05T17:31:00+23:59", 1522949460 - 86340, 0, 1439);
    ok_ts("2018-04-05T17:31:00-23:59", 1522949460 + 86340, 0, -1439);
    /* The offset crosses a day boundary. */
    ok_ts("2018-01-01T00:30:00+01:00", 1514764800 + 1800 - 3600, 0, 60);
}

TEST(rfc3339_fractions)
{
    ok_ts("2018-04-05T17:31:00.1Z", 1522949460, 100000000, 0);
    ok_ts("2018-04-05T17:31:00.12Z", 1522949460, 120000000, 0);
    ok_ts("2018-04-05T17:31:00.000001Z", 1522949460, 1000, 0);
    ok_ts("2018-04-05T17:31:00.123456789+02:00", 1522949460 - 7200, 123456789,
          120);
    ok_ts("2018-04-05T17:31:00.000000001Z", 1522949460, 1, 0);
    ok_ts("2018-04-05T17:31:00.999999999Z", 1522949460, 999999999, 0);
    ok_ts("2018-04-05T17:31:00.0Z", 1522949460, 0, 0);
    bad_ts("2018-04-05T17:31:00.1234567891Z", "more than 9 digits");
    bad_ts("2018-04-05T17:31:00.Z", "digit of the fraction at offset 20");
    bad_ts("2018-04-05T17:31:00,5Z", "offset 19");
}

TEST(rfc3339_leap_years)
{
    ok_ts("2024-02-29T00:00:00Z", 1709164800, 0, 0);
    ok_ts("2000-02-29T00:00:00Z", 951782400, 0, 0);
    ok_ts("1600-02-29T12:00:00Z", INT64_C(-11670955200), 0, 0);
    bad_ts("2023-02-29T00:00:00Z", "invalid day 29 for month 2");
    bad_ts("2023-02-29T00:00:00Z", "2023 is not a leap year");
    bad_ts("1900-02-29T00:00:00Z", "1900 is not a leap year");
    bad_ts("2100-02-29T00:00:00Z", "invalid day 29");
    bad_ts("2024-02-30T00:00:00Z", "invalid day 30 for month 2");
}

TEST(rfc3339_days_in_month)
{
    static const int dim[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    char buf[64], want[64];
    int m;

    for (m = 1; m <= 12; m++) {
        struct sl_timestamp ts;
        snprintf(buf, sizeof(buf), "2023-%02d-%02dT00:00:00Z", m, dim[m - 1]);
        ASSERT_OK(sl_time_parse_rfc3339(buf, &ts, NULL));
        snprintf(buf, sizeof(buf), "2023-%02d-%02dT00:00:00Z", m,
                 dim[m - 1] + 1);
        snprintf(want, sizeof(want), "invalid day %d for month %d",
                 dim[m - 1] + 1, m);
        bad_ts(buf, want);
    }
    bad_ts("2023-01-00T00:00:00Z", "invalid day 0 for month 1");
    bad_ts("2023-04-31T00:00:00Z", "invalid day 31 for month 4");
}

TEST(rfc3339_field_ranges)
{
    bad_ts("2023-13-01T00:00:00Z", "invalid month 13");
    bad_ts("2023-00-01T00:00:00Z", "invalid month 0");
    bad_ts("2023-01-01T24:00:00Z", "invalid hour 24");
    bad_ts("2023-01-01T23:60:00Z", "invalid minute 60");
    bad_ts("2023-01-01T23:59:61Z", "invalid second 61");
    bad_ts("2023-01-01T00:00:00+24:00", "invalid offset hour 24");
    bad_ts("2023-01-01T00:00:00+01:60", "invalid offset minute 60");
}

TEST(rfc3339_leap_second)
{
    /* 23:59:60 UTC is normalised into the next second. */
    ok_ts("2016-12-31T23:59:60Z", 1483228800, 0, 0);
    ok_ts("2016-12-31T23:59:60.5Z", 1483228800, 500000000, 0);
    /* The same instant written with an offset. */
    ok_ts("2017-01-01T00:59:60+01:00", 1483228800, 0, 60);
    bad_ts("2016-12-31T12:00:60Z", "leap second");
    bad_ts("2016-12-31T23:59:60+01:00", "leap second");
}

TEST(rfc3339_syntax_errors_name_offset)
{
    bad_ts("", "at offset 0, found end of input");
    bad_ts("2018", "expected '-' at offset 4, found end of input");
    bad_ts("2018/04-05T17:31:00Z", "expected '-' at offset 4, found '/'");
    bad_ts("18-04-05T17:31:00Z", "offset 2, found '-'");
    bad_ts("2018-4-05T17:31:00Z", "offset 6, found '-'");
    bad_ts("2018-04-05 17:31:00Z", "expected 'T' at offset 10, found byte "
                                   "0x20");
    bad_ts("2018-04-05T17:31Z", "expected ':' at offset 16, found 'Z'");
    bad_ts("2018-04-05T17:31:00", "'Z' or a numeric offset at offset 19");
    bad_ts("2018-04-05T17:31:00+0200", "expected ':' at offset 22");
    bad_ts("2018-04-05T17:31:00+02", "offset 22, found end of input");
    bad_ts("2018-04-05T17:31:00ZZ", "expected end of input at offset 20");
    bad_ts("2018-04-05T17:31:00Z ", "offset 20");
    bad_ts("2018-04-05T17:31:00GMT", "offset 19, found 'G'");
    bad_ts("+2018-04-05T17:31:00Z", "offset 0, found '+'");
    bad_ts("2018-04-05T17:31:00\x01Z", "byte 0x01");
}

TEST(rfc3339_format)
{
    fmt_ts(0, 0, "1970-01-01T00:00:00Z");
    fmt_ts(1522949460, 0, "2018-04-05T17:31:00Z");
    fmt_ts(1522949460, 100000000, "2018-04-05T17:31:00.1Z");
    fmt_ts(1522949460, 123456789, "2018-04-05T17:31:00.123456789Z");
    fmt_ts(1522949460, 1000, "2018-04-05T17:31:00.000001Z");
    fmt_ts(1522949460, 1, "2018-04-05T17:31:00.000000001Z");
    fmt_ts(-1, 0, "1969-12-31T23:59:59Z");
    fmt_ts(1709164800, 0, "2024-02-29T00:00:00Z");
    fmt_ts(INT64_C(253402300799), 999999999, "9999-12-31T23:59:59.999999999Z");
    fmt_ts(INT64_C(-62167219200), 0, "0000-01-01T00:00:00Z");
}

TEST(rfc3339_format_small_buffer)
{
    struct sl_timestamp ts = { 1522949460, 0, 0 };
    char buf[8];

    ASSERT_EQ(sl_time_format_rfc3339(&ts, buf, sizeof(buf)), 7);
    ASSERT_STR_EQ(buf, "2018-04");
}

/* Parse and format agree over a wide spread of instants. */
TEST(rfc3339_round_trip)
{
    static const char *const texts[] = {
        "2018-04-05T17:31:00Z",           "2018-04-05T17:31:00.5Z",
        "2024-02-29T23:59:59.999999999Z", "1999-12-31T23:59:59Z",
        "2000-01-01T00:00:00Z",           "1900-03-01T00:00:00.000000001Z",
        "0001-01-01T00:00:00Z",           "2400-02-29T12:34:56.789Z",
    };
    char buf[SL_TIME_RFC3339_MAX];
    struct sl_timestamp ts, back;
    int64_t sec;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        ASSERT_OK(sl_time_parse_rfc3339(texts[i], &ts, NULL));
        sl_time_format_rfc3339(&ts, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, texts[i]);
    }
    /* About every 10 days over 800 years, across 1600, 1900, 2000, 2100. */
    for (sec = INT64_C(-12000000000); sec < INT64_C(13000000000);
         sec += 864007) {
        ts.sec = sec;
        ts.nsec = (int32_t)(sec % 1000 < 0 ? -(sec % 1000) : sec % 1000);
        ts.offset_min = 0;
        sl_time_format_rfc3339(&ts, buf, sizeof(buf));
        ASSERT_OK(sl_time_parse_rfc3339(buf, &back, NULL));
        ASSERT_EQ(back.sec, ts.sec);
        ASSERT_EQ(back.nsec, ts.nsec);
    }
}

TEST(rfc3339_matches_libc_gmtime)
{
    int64_t sec;
    char buf[SL_TIME_RFC3339_MAX], want[64];

    for (sec = 0; sec < INT64_C(4102444800); sec += 86400 * 37 + 3601) {
        struct sl_timestamp ts = { sec, 0, 0 };
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        sl_time_format_rfc3339(&ts, buf, sizeof(buf));
        ASSERT_STR_EQ(buf, want);
    }
}

TEST(clocks)
{
    struct sl_timestamp now = sl_time_now();
    int64_t a = sl_time_mono_ns(), b = sl_time_mono_ns();

    ASSERT(now.sec > 1600000000);
    ASSERT(now.nsec >= 0 && now.nsec < 1000000000);
    ASSERT_EQ(now.offset_min, 0);
    ASSERT(b >= a);
}

TEST(duration_parse)
{
    ok_dur("PT0.2S", 200 * INT64_C(1000000));
    ok_dur("PT1M30S", 90 * SEC);
    ok_dur("P1DT2H", 26 * 3600 * SEC);
    ok_dur("PT0S", 0);
    ok_dur("P0D", 0);
    ok_dur("PT1S", SEC);
    ok_dur("PT10S", 10 * SEC);
    ok_dur("PT1H", 3600 * SEC);
    ok_dur("PT36H", 36 * 3600 * SEC);
    ok_dur("P1W", 7 * 86400 * SEC);
    ok_dur("P1M", 30 * 86400 * SEC);
    ok_dur("P1Y", 365 * 86400 * SEC);
    ok_dur("P1Y2M3W4DT5H6M7S",
           ((365 + 60 + 21 + 4) * INT64_C(86400) + 5 * 3600 + 6 * 60 + 7) *
               SEC);
    ok_dur("P2DT3H4M", (2 * 86400 + 3 * 3600 + 4 * 60) * SEC);
    ok_dur("PT001S", SEC);
    ok_dur("-PT1S", -SEC);
    ok_dur("+PT1S", SEC);
}

TEST(duration_fractions)
{
    ok_dur("PT0.5S", SEC / 2);
    ok_dur("PT0,5S", SEC / 2);
    ok_dur("PT1.000000001S", SEC + 1);
    ok_dur("PT0.123456789S", 123456789);
    /* Below a nanosecond truncates. */
    ok_dur("PT0.1234567899S", 123456789);
    ok_dur("PT1.5M", 90 * SEC);
    ok_dur("PT0.5H", 1800 * SEC);
    ok_dur("P1.5D", 36 * 3600 * SEC);
    ok_dur("PT1H0.25M", 3615 * SEC);
    ok_dur("PT0.0000000001H", 360);
    ok_dur("-PT0.2S", -200 * INT64_C(1000000));
    bad_dur("PT1.5M30S", SL_EINVAL, "only the last component");
    bad_dur("P1.5DT1H", SL_EINVAL, "only the last component");
    bad_dur("PT.5S", SL_EINVAL, "expected a number after 'T' at offset 2");
}

TEST(duration_malformed)
{
    bad_dur("", SL_EINVAL, "expected 'P' at offset 0, found end of input");
    bad_dur("P", SL_EINVAL, "at offset 1, found end of input");
    bad_dur("PT", SL_EINVAL, "at offset 2, found end of input");
    bad_dur("1S", SL_EINVAL, "expected 'P' at offset 0, found '1'");
    bad_dur("PT1.S", SL_EINVAL, "fraction at offset 4, found 'S'");
    bad_dur("PTS", SL_EINVAL, "offset 2, found 'S'");
    bad_dur("PT1H2H", SL_EINVAL,
            "'H' at offset 5 is repeated or out of "
            "order");
    bad_dur("PT1S1M", SL_EINVAL, "'M' at offset 5 is repeated");
    bad_dur("P1D1Y", SL_EINVAL,
            "'Y' at offset 4 is repeated or out of "
            "order");
    bad_dur("P1H", SL_EINVAL, "'H' at offset 2 must follow 'T'");
    bad_dur("P1S", SL_EINVAL, "'S' at offset 2 must follow 'T'");
    bad_dur("PT1D", SL_EINVAL, "expected 'H', 'M' or 'S' at offset 3");
    bad_dur("PT1", SL_EINVAL, "offset 3, found end of input");
    bad_dur("P1DT", SL_EINVAL, "offset 4, found end of input");
    bad_dur("P1DT1HT1M", SL_EINVAL, "offset 6, found 'T'");
    bad_dur("pt1s", SL_EINVAL, "offset 0, found 'p'");
    bad_dur("PT1s", SL_EINVAL, "offset 3, found 's'");
    bad_dur("PT1S ", SL_EINVAL, "offset 4, found byte 0x20");
    bad_dur(" PT1S", SL_EINVAL, "offset 0");
    bad_dur("--PT1S", SL_EINVAL, "offset 1, found '-'");
    bad_dur("PT-1S", SL_EINVAL, "offset 2, found '-'");
    bad_dur("P0", SL_EINVAL, "offset 2, found end of input");
    bad_dur("PT1..5S", SL_EINVAL, "offset 4");
}

TEST(duration_overflow)
{
    /* INT64_MAX ns is PT2562047H47M16.854775807S. */
    ok_dur("PT9223372036.854775807S", INT64_MAX);
    ok_dur("PT2562047H47M16.854775807S", INT64_MAX);
    ok_dur("-PT9223372036.854775807S", -INT64_MAX);
    bad_dur("PT9223372036.854775808S", SL_ETOOBIG, "too long");
    bad_dur("PT9223372037S", SL_ETOOBIG, "too long");
    bad_dur("P293Y", SL_ETOOBIG, "too long");
    bad_dur("P106752D", SL_ETOOBIG, "too long");
    bad_dur("P106751DT24H", SL_ETOOBIG, "too long");
    bad_dur("PT99999999999999999999999999S", SL_ETOOBIG, "too large");
    bad_dur("P200YT9223372036S", SL_ETOOBIG, "too long");
}

TEST(duration_format)
{
    fmt_dur(0, "PT0S");
    fmt_dur(200 * INT64_C(1000000), "PT0.2S");
    fmt_dur(90 * SEC, "PT1M30S");
    fmt_dur(26 * 3600 * SEC, "P1DT2H");
    fmt_dur(86400 * SEC, "P1D");
    fmt_dur(SEC, "PT1S");
    fmt_dur(1, "PT0.000000001S");
    fmt_dur(3600 * SEC + 1, "PT1H0.000000001S");
    fmt_dur(-SEC / 2, "-PT0.5S");
    fmt_dur(INT64_MAX, "P106751DT23H47M16.854775807S");
    fmt_dur(INT64_MIN, "-P106751DT23H47M16.854775808S");
}

TEST(duration_round_trip)
{
    static const int64_t values[] = {
        0,
        1,
        999,
        SEC / 10,
        SEC,
        59 * SEC,
        61 * SEC + 7,
        3600 * SEC,
        86399 * SEC,
        86400 * SEC,
        86401 * SEC + 1,
        INT64_MAX,
        -SEC,
        -1,
    };
    char buf[SL_DURATION_MAX];
    int64_t back;
    size_t i;

    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        sl_duration_format(values[i], buf, sizeof(buf));
        ASSERT_OK(sl_duration_parse(buf, &back, NULL));
        ASSERT_EQ(back, values[i]);
    }
}

TEST_MAIN()
