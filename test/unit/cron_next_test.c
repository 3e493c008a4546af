/*
 * test/unit/cron_next_test.c - sl_cron_next(): robfig/cron v3's
 * SpecSchedule.Next() in UTC and across clock changes.
 *
 * Every expected instant is a literal computed once, offline, while
 * writing the test:
 *   - UTC cases by a brute-force search (every second after 'after'
 *     until the fields match, Vixie's day-of-month/day-of-week rule),
 *     an algorithm unlike robfig's, and each checked by hand with
 *     date -u -d @N;
 *   - clock-change cases by tracing robfig's Next() by hand (the traces
 *     are in docs/sources.md, "Schedules and time zones") and checking
 *     the instants with GNU date against tzdata 2025b, e.g.
 *     TZ=America/New_York date -d @1773037800 '+%F %T %Z'
 *     -> 2026-03-09 02:30:00 EDT.
 * Zones come from test/data/zoneinfo, not from the machine.
 */
#include "test/unit/check.h"

#include "core/tz.h"
#include "resource/cron.h"

#define ZDIR "test/data/zoneinfo"

/* Load 'name' from the test zoneinfo (must succeed). */
static struct sl_tz *load(const char *name)
{
    char dir[4096];
    struct sl_tz *z = NULL;
    struct sl_diag d;

    snprintf(dir, sizeof(dir), "%s", check_path(ZDIR));
    sl_diag_clear(&d);
    if (sl_tz_load(dir, name, &z, &d) != 0)
        CHECK_FAIL("cannot load %s: %s", name, d.msg);
    return z;
}

static void compile(const char *spec, struct sl_cron *c)
{
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_cron_parse(spec, c, &d) != 0)
        CHECK_FAIL("'%s' rejected: %s", spec, d.msg);
}

/*
 * From 'after', 'spec' in 'z' fires at want[0], then (each next computed
 * after the previous fire) at want[1] ... want[n-1].
 */
static void check_fires(const char *spec, const struct sl_tz *z, int64_t after,
                        const int64_t *want, size_t n)
{
    struct sl_cron c;
    int64_t got;
    size_t i;

    compile(spec, &c);
    for (i = 0; i < n; i++) {
        got = sl_cron_next(&c, z, after);
        if (got != want[i])
            CHECK_FAIL("'%s' in %s after %" PRId64 ": %" PRId64
                       ", want %" PRId64 " (fire %zu)",
                       spec, sl_tz_name(z), after, got, want[i], i);
        after = got;
    }
}

#define FIRES(spec, z, after, ...)                                            \
    do {                                                                      \
        const int64_t want_[] = { __VA_ARGS__ };                              \
        check_fires(spec, z, after, want_, sizeof(want_) / sizeof(want_[0])); \
    } while (0)

/* 2026-11-27T10:15:30Z, a Friday. */
#define T0 1795774530

/* ---- UTC ---- */

TEST(utc_fields)
{
    struct sl_tz *utc = load("UTC");

    FIRES("* * * * *", NULL, T0, 1795774560, 1795774620);
    FIRES("* * * * *", utc, T0, 1795774560, 1795774620);
    /* Six fields: seconds. */
    FIRES("*/15 * * * * *", NULL, T0, 1795774545, 1795774560, 1795774575);
    FIRES("15,45 30 12 * * 1-5", NULL, T0, 1795782615, 1795782645);
    FIRES("59 59 23 31 12 *", NULL, T0, 1798761599);
    /* Steps, ranges, lists, names. */
    FIRES("0 0 * * *", NULL, T0, 1795824000);
    FIRES("0 9-17/4 * * MON,WED", NULL, T0, 1796029200);
    FIRES("30 5/20 * 1,15 jan,JUL ?", NULL, T0, 1798761930);
    FIRES("0 0 12 ? * SAT,sun", NULL, T0, 1795867200);
    sl_tz_free(utc);
}

TEST(strictly_after)
{
    /* 'after' is itself a fire time: the next one, not it. */
    FIRES("* * * * *", NULL, 1795774560, 1795774620);
    FIRES("*/15 * * * * *", NULL, 1795774545, 1795774560);
    FIRES("0 0 * * *", NULL, 1795824000, 1795910400);
    /* One second before a fire time: that fire time. */
    FIRES("0 0 * * *", NULL, 1795823999, 1795824000);
}

TEST(descriptors)
{
    FIRES("@hourly", NULL, T0, 1795777200, 1795780800);
    FIRES("@daily", NULL, T0, 1795824000, 1795910400);
    FIRES("@midnight", NULL, T0, 1795824000);
    /* Sunday 2026-11-29, then 2026-12-06. */
    FIRES("@weekly", NULL, T0, 1795910400, 1796515200);
    FIRES("@monthly", NULL, T0, 1796083200, 1798761600);
    FIRES("@yearly", NULL, T0, 1798761600, 1830297600);
    FIRES("@annually", NULL, T0, 1798761600);
}

TEST(day_of_month_or_day_of_week)
{
    /* Both restricted: either suffices (Friday 2026-12-04 before the
     * 13th), even from a midnight that is itself no match. */
    FIRES("0 0 13 * FRI", NULL, T0, 1796342400);
    FIRES("0 0 13 * FRI", NULL, 1795737600, 1796342400);
    FIRES("0 0 1 * MON", NULL, T0, 1795996800, 1796083200);
    /* A stepped '*' counts as restricted: odd days or Mondays (Sunday
     * the 29th is odd). */
    FIRES("0 0 */2 * MON", NULL, T0, 1795910400, 1795996800);
    /* One of them '*': the other decides. */
    FIRES("0 0 * * FRI", NULL, T0, 1796342400);
    FIRES("0 0 13 * *", NULL, T0, 1797120000);
}

TEST(never)
{
    struct sl_cron c;

    compile("0 0 30 2 *", &c);
    ASSERT_EQ(sl_cron_next(&c, NULL, T0), -1);
    compile("0 0 31 4,6,9,11 *", &c);
    ASSERT_EQ(sl_cron_next(&c, NULL, T0), -1);
    /* Feb 29: 2028 is within five years; from 2097-03-06 the next is in
     * 2104 (2100 is no leap year), beyond robfig's five-year limit. */
    FIRES("0 0 29 2 *", NULL, T0, 1835395200);
    compile("0 0 29 2 *", &c);
    ASSERT_EQ(sl_cron_next(&c, NULL, 4013366400), -1);
    /* Outside years 1..9999. */
    compile("* * * * *", &c);
    ASSERT_EQ(sl_cron_next(&c, NULL, INT64_MAX), -1);
    ASSERT_EQ(sl_cron_next(&c, NULL, INT64_MIN), -1);
    ASSERT_EQ(sl_cron_next(&c, NULL, -62135596801), -1);
    ASSERT_EQ(sl_cron_next(&c, NULL, -62135596800), -62135596740);
}

TEST(cron_tz_prefix_is_the_callers)
{
    struct sl_cron c;
    struct sl_tz *z;

    compile("CRON_TZ=Asia/Kolkata 0 9 * * MON-FRI", &c);
    ASSERT_STR_EQ(c.tz, "Asia/Kolkata");
    /* The prefix alone changes nothing: UTC unless a zone is given. */
    ASSERT_EQ(sl_cron_next(&c, NULL, 1795737600), 1795770000);
    z = load(c.tz);
    FIRES("CRON_TZ=Asia/Kolkata 0 9 * * MON-FRI", z, 1795737600, 1795750200,
          1796009400, 1796095800);
    sl_tz_free(z);
}

/* ---- clock changes ---- */

TEST(new_york_spring_forward_skips)
{
    struct sl_tz *z = load("America/New_York");
    struct sl_tz *slim = load("Test/Slim_New_York");

    /* 02:30 does not exist on 2026-03-08: Mar 7 02:30 EST, then Mar 9
     * 02:30 EDT. Same in 2040 from the footer. */
    FIRES("30 2 * * *", z, 1772798400, 1772868600, 1773037800, 1773124200);
    FIRES("30 2 * * *", slim, 1772798400, 1772868600, 1773037800);
    FIRES("30 2 * * *", z, 2214950400, 2214977400, 2215146600);
    /* Hourly: 01:00 EST, then 03:00 EDT (one hour later). */
    FIRES("0 * * * *", z, 1772946000, 1772949600, 1772953200, 1772956800);
    sl_tz_free(z);
    sl_tz_free(slim);
}

TEST(new_york_fall_back_fires_twice)
{
    struct sl_tz *z = load("America/New_York");
    struct sl_tz *slim = load("Test/Slim_New_York");

    /* 01:30 EDT and 01:30 EST on 2026-11-01, an hour apart. */
    FIRES("30 1 * * *", z, 1793448000, 1793511000, 1793514600, 1793601000);
    FIRES("30 1 * * *", slim, 1793448000, 1793511000, 1793514600, 1793601000);
    FIRES("30 1 * * *", z, 2235556800, 2235619800, 2235623400, 2235709800);
    /* Hourly: 01:00 EDT, 01:00 EST, 02:00 EST. */
    FIRES("0 * * * *", z, 1793507400, 1793509200, 1793512800, 1793516400,
          1793520000);
    /* Every 20 minutes in hour 1: six fires that day. */
    FIRES("*/20 1 * * *", z, 1793507400, 1793509200, 1793510400, 1793511600,
          1793512800, 1793514000, 1793515200, 1793599200);
    sl_tz_free(z);
    sl_tz_free(slim);
}

TEST(hourly_and_every_minute_count_real_time)
{
    struct sl_tz *z = load("America/New_York");
    struct sl_cron c;
    int64_t t, next;
    int n;

    /* "0 * * * *" fires 23 times on the local day 2026-03-08 and 25
     * times on 2026-11-01 (local midnights: Mar 8 00:00 EST 1772946000,
     * Mar 9 00:00 EDT 1773028800, Nov 1 00:00 EDT 1793505600, Nov 2
     * 00:00 EST 1793595600). */
    compile("0 * * * *", &c);
    for (n = 0, t = 1772946000 - 1; (t = sl_cron_next(&c, z, t)) < 1773028800;)
        n++;
    ASSERT_EQ(n, 23);
    for (n = 0, t = 1793505600 - 1; (t = sl_cron_next(&c, z, t)) < 1793595600;)
        n++;
    ASSERT_EQ(n, 25);
    /* Every minute, every minute: never a gap, never a repeat. */
    compile("* * * * *", &c);
    for (t = 1772946000; t < 1772960400; t = next) {
        next = sl_cron_next(&c, z, t);
        ASSERT_EQ(next - t, 60);
    }
    for (t = 1793505600; t < 1793523600; t = next) {
        next = sl_cron_next(&c, z, t);
        ASSERT_EQ(next - t, 60);
    }
    sl_tz_free(z);
}

TEST(berlin)
{
    struct sl_tz *z = load("Europe/Berlin");

    /* 2026-03-29 has no 02:30; 2026-10-25 has two (CEST, then CET). */
    FIRES("30 2 * * *", z, 1774612800, 1774661400, 1774830600);
    FIRES("30 2 * * *", z, 1792843200, 1792888200, 1792891800, 1792978200);
    /* 2040 from the footer. */
    FIRES("30 2 * * *", z, 2216203200, 2216334600);
    FIRES("0 * * * *", z, 2234993400, 2234995200, 2234998800, 2235002400);
    sl_tz_free(z);
}

TEST(lord_howe_half_hour_dst)
{
    struct sl_tz *z = load("Australia/Lord_Howe");

    /* 2026-10-04 02:00 +1030 -> 02:30 +11: 02:15 is skipped. */
    FIRES("15 2 * * *", z, 1790942400, 1790955900, 1791126900);
    /* 2026-04-05 02:00 +11 -> 01:30 +1030: 01:45 fires twice. */
    FIRES("45 1 * * *", z, 1775217600, 1775227500, 1775313900, 1775315700,
          1775402100);
    /* robfig's quirk: counting minutes from 01:59 +1030 lands on 02:30
     * +11, which matches minute 30 without the hour being checked again,
     * so "30 1" also fires at 02:30 that day. */
    FIRES("30 1 * * *", z, 1790942400, 1790953200, 1791039600, 1791041400,
          1791124200);
    sl_tz_free(z);
}

TEST(southern_hemisphere)
{
    struct sl_tz *syd = load("Australia/Sydney");
    struct sl_tz *scl = load("America/Santiago");
    struct sl_tz *sao = load("America/Sao_Paulo");

    /* Sydney: 02:30 twice on 2026-04-05, none on 2026-10-04. */
    FIRES("30 2 * * *", syd, 1775260800, 1775316600, 1775320200, 1775406600);
    FIRES("30 2 * * *", syd, 1790985600, 1791127800);
    /* Santiago changes at 24:00: no midnight on 2026-09-06, so a daily
     * midnight schedule skips that day, and one for Sep 6 only skips the
     * year; 23:00 twice on 2026-04-04. */
    FIRES("0 0 * * *", scl, 1788523200, 1788580800, 1788750000);
    FIRES("0 0 6 9 *", scl, 1788264000, 1820199600);
    FIRES("0 23 * * *", scl, 1775304000, 1775354400, 1775358000, 1775444400);
    /* robfig's quirk: the hour after 23:00 on Sep 5 is 01:00 on Sep 6,
     * which matches hour 1 without the day being checked again. */
    FIRES("0 1 5 9 *", scl, 1788523200, 1788584400, 1788667200, 1820116800);
    /* Sao Paulo 2018-11-04 started at 01:00 (table years). */
    FIRES("0 0 * * *", sao, 1541160000, 1541214000, 1541383200);
    FIRES("0 0 4 11 *", sao, 1541073600, 1572836400);
    sl_tz_free(syd);
    sl_tz_free(scl);
    sl_tz_free(sao);
}

TEST(kolkata)
{
    struct sl_tz *z = load("Asia/Kolkata");

    FIRES("0 9 * * MON-FRI", z, 1795737600, 1795750200, 1796009400);
    /* Minutes of a +05:30 zone: "0 * * * *" is on the local hour. */
    FIRES("0 * * * *", z, 1795737600, 1795739400, 1795743000);
    sl_tz_free(z);
}

TEST_MAIN()
