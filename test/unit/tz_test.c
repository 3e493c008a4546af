/*
 * test/unit/tz_test.c - core/tz: TZif files, POSIX TZ footer rules, the
 * calendar helpers and Go's time.Date() resolution of local times.
 *
 * Zones come from test/data/zoneinfo (tzdata 2025b, see its README), so
 * nothing here depends on the machine's /usr/share/zoneinfo. The expected
 * instants were computed once, offline, while writing the test, with GNU
 * date against Debian's tzdata 2025b, e.g.
 *   TZ=America/New_York date -d '2026-03-08 03:00' +%s   -> 1772953200
 *   TZ=Australia/Lord_Howe date -d @2216818800 '+%F %T %z'
 * and the transition instants by scanning Python's zoneinfo (which reads
 * the same files) for offset changes; they are literals here, never
 * computed at test time.
 */
#include "test/unit/check.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tz.h"

#define ZDIR "test/data/zoneinfo"

/* ---- helpers ---- */

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
    ASSERT_STR_EQ(sl_tz_name(z), name);
    return z;
}

/* The offset changes from 'before' to 'after' exactly at 't'. */
static void check_change(const struct sl_tz *z, int64_t t, int32_t before,
                         int32_t after)
{
    int32_t b = sl_tz_offset(z, t - 1), a = sl_tz_offset(z, t);

    if (b != before || a != after)
        CHECK_FAIL("%s at %" PRId64 ": %d -> %d, want %d -> %d", sl_tz_name(z),
                   t, (int)b, (int)a, (int)before, (int)after);
}

/* The local fields of 't' in 'z'. */
static void check_local(const struct sl_tz *z, int64_t t, int year, int month,
                        int day, int hour, int minute, int second, int wday)
{
    struct sl_tz_tm tm;

    sl_tz_local(z, t, &tm);
    if (tm.year != year || tm.month != month || tm.day != day ||
        tm.hour != hour || tm.minute != minute || tm.second != second ||
        tm.wday != wday)
        CHECK_FAIL("%s at %" PRId64 ": %04d-%02d-%02d %02d:%02d:%02d wday %d, "
                   "want %04d-%02d-%02d %02d:%02d:%02d wday %d",
                   sl_tz_name(z), t, (int)tm.year, tm.month, tm.day, tm.hour,
                   tm.minute, tm.second, tm.wday, year, month, day, hour,
                   minute, second, wday);
    ASSERT_EQ(tm.offset, sl_tz_offset(z, t));
}

/* A TZif file built in memory. */
struct blob {
    uint8_t b[8192];
    size_t n;
};

static void put(struct blob *x, const void *p, size_t n)
{
    ASSERT(x->n + n <= sizeof(x->b));
    if (n > 0)
        memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void put32(struct blob *x, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                     (uint8_t)v };
    put(x, b, 4);
}

static void put64(struct blob *x, int64_t v)
{
    put32(x, (uint32_t)((uint64_t)v >> 32));
    put32(x, (uint32_t)v);
}

static void header(struct blob *x, char version, uint32_t timecnt,
                   uint32_t typecnt, uint32_t charcnt)
{
    static const uint8_t zero[15];

    put(x, "TZif", 4);
    put(x, &version, 1);
    put(x, zero, 15);
    put32(x, 0); /* isutcnt */
    put32(x, 0); /* isstdcnt */
    put32(x, 0); /* leapcnt */
    put32(x, timecnt);
    put32(x, typecnt);
    put32(x, charcnt);
}

/*
 * A version 2 file: local time types 'offs' (n types, named "ZZZ"), the
 * transitions 'trans' to types 'idx', and the footer 'footer' (NULL: no
 * footer at all). The version 1 block holds just the first type.
 */
static void tzif(struct blob *x, const int32_t *offs, size_t ntypes,
                 const int64_t *trans, const uint8_t *idx, size_t ntrans,
                 const char *footer)
{
    size_t i;

    x->n = 0;
    header(x, '2', 0, 1, 4);
    put32(x, (uint32_t)offs[0]);
    put(x, "\0\0", 2);
    put(x, "ZZZ", 4);
    header(x, '2', (uint32_t)ntrans, (uint32_t)ntypes, 4);
    for (i = 0; i < ntrans; i++)
        put64(x, trans[i]);
    put(x, idx, ntrans);
    for (i = 0; i < ntypes; i++) {
        put32(x, (uint32_t)offs[i]);
        put(x, "\0\0", 2);
    }
    put(x, "ZZZ", 4);
    if (footer != NULL) {
        put(x, "\n", 1);
        put(x, footer, strlen(footer));
        put(x, "\n", 1);
    }
}

/* A zone with one type of offset 'off' and footer 'footer'. */
static struct sl_tz *footer_zone(int32_t off, const char *footer)
{
    struct blob x;
    struct sl_tz *z = NULL;
    struct sl_diag d;

    tzif(&x, &off, 1, NULL, NULL, 0, footer);
    sl_diag_clear(&d);
    if (sl_tz_parse(x.b, x.n, "Footer", &z, &d) != 0)
        CHECK_FAIL("footer %s: %s", footer, d.msg);
    return z;
}

/* Parsing 'x' fails with SL_EINVAL and a message naming the zone and
 * containing 'why'. */
static void check_bad(const struct blob *x, const char *why)
{
    struct sl_tz *z = (struct sl_tz *)1;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_tz_parse(x->b, x->n, "Bad/Zone", &z, &d) != SL_EINVAL)
        CHECK_FAIL("accepted, want \"%s\"", why);
    ASSERT(z == NULL);
    if (strstr(d.msg, "Bad/Zone") == NULL || strstr(d.msg, why) == NULL)
        CHECK_FAIL("message \"%s\" lacks \"%s\"", d.msg, why);
}

/* A scratch directory under /tmp, removed by rmtree(). */
static void scratch(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/sl-tz-test-XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* ---- UTC, names, loading ---- */

TEST(utc_without_a_file)
{
    struct sl_tz *z = NULL;
    int64_t s, e;

    ASSERT_OK(sl_tz_load("/nonexistent", "UTC", &z, NULL));
    ASSERT_STR_EQ(sl_tz_name(z), "UTC");
    ASSERT_EQ(sl_tz_offset(z, 0), 0);
    ASSERT_EQ(sl_tz_offset(z, 1793512800), 0);
    ASSERT_EQ(sl_tz_lookup(z, 42, &s, &e), 0);
    ASSERT(s == INT64_MIN && e == INT64_MAX);
    sl_tz_free(z);
    ASSERT_OK(sl_tz_load("/nonexistent", "", &z, NULL));
    ASSERT_STR_EQ(sl_tz_name(z), "UTC");
    ASSERT_EQ(sl_tz_offset(z, -5000000000), 0);
    sl_tz_free(z);
    /* NULL is UTC everywhere. */
    ASSERT_EQ(sl_tz_offset(NULL, 1772953200), 0);
    ASSERT_STR_EQ(sl_tz_name(NULL), "UTC");
    check_local(NULL, 0, 1970, 1, 1, 0, 0, 0, 4);
    sl_tz_free(NULL);
}

/* 64 bytes: one over SL_TZ_NAME_MAX - 1. */
#define LONG_NAME \
    "0123456789012345678901234567890123456789012345678901234567890123"

TEST(name_syntax)
{
    static const char *const ok[] = { "America/New_York", "Etc/GMT+5",
                                      "Etc/GMT-14", "EST5EDT", "a_b/c-d/e" };
    static const char *const bad[] = {
        "",       "/etc/passwd", "../etc/passwd", "America//New_York",
        "a/",     "a/../b",      "a/./b",         "Europe/Ber lin",
        "Euro\\", "a.b",         LONG_NAME
    };
    struct sl_diag d;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ASSERT_OK(sl_tz_name_check(ok[i], NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_diag_clear(&d);
        if (sl_tz_name_check(bad[i], &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i]);
        ASSERT_STR_EQ(d.msg, "invalid location name");
    }
}

TEST(unknown_and_invalid_zones)
{
    char dir[4096];
    struct sl_tz *z = (struct sl_tz *)1;
    struct sl_diag d;

    snprintf(dir, sizeof(dir), "%s", check_path(ZDIR));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "Europe/Nowhere", &z, &d), SL_ENOENT);
    ASSERT(z == NULL);
    ASSERT_STR_EQ(d.msg, "unknown time zone Europe/Nowhere");
    /* A directory is no zone. */
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "America", &z, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.msg, "unknown time zone America");
    /* A path through a file. */
    ASSERT_EQ(sl_tz_load(dir, "README/x", &z, &d), SL_ENOENT);
    /* Names that could leave the directory never reach the file system. */
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "../zoneinfo/Europe/Berlin", &z, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "invalid location name");
    ASSERT_EQ(sl_tz_load(dir, "/etc/localtime", &z, NULL), SL_EINVAL);
    /* Not a TZif file. */
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "README", &z, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg,
                  "malformed time zone information for README: bad magic");
    ASSERT(z == NULL);
}

TEST(local_from_a_test_owned_file)
{
    char dir[64], path[128];
    char *data;
    size_t n;
    struct sl_tz *z = NULL;
    struct sl_diag d;

    /* "Local" is SL_TZ_LOCALTIME read by sl_tz_load_file(); the test
     * gives that function its own file instead of the machine's. */
    scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/localtime", dir);
    data = check_read_file(ZDIR "/Asia/Kolkata", &n);
    write_file(path, data, n);
    sl_free(data);
    ASSERT_OK(sl_tz_load_file(path, "Local", &z, NULL));
    ASSERT_STR_EQ(sl_tz_name(z), "Local");
    ASSERT_EQ(sl_tz_offset(z, 1793512800), 19800);
    sl_tz_free(z);
    unlink(path);
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load_file(path, "Local", &z, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.msg, "unknown time zone Local");
    rmdir(dir);
    /* The machine's own: whatever it is (UTC when it has none), it
     * loads, under the name "Local". */
    ASSERT_OK(sl_tz_load(NULL, "Local", &z, NULL));
    ASSERT_STR_EQ(sl_tz_name(z), "Local");
    sl_tz_free(z);
}

/* ---- real zones: clock changes in the table (2026) and in the footer
 * (2040, after the fat files' last transition in 2037) ---- */

TEST(new_york)
{
    struct sl_tz *z = load("America/New_York");
    struct sl_tz *slim = load("Test/Slim_New_York");
    const struct sl_tz *zs[2] = { z, slim };
    int64_t s, e;
    int i;

    for (i = 0; i < 2; i++) {
        /* 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT ->
         * 01:00 EST; the same in 2040 from the footer. */
        check_change(zs[i], 1772953200, -18000, -14400);
        check_change(zs[i], 1793512800, -14400, -18000);
        check_change(zs[i], 2215062000, -18000, -14400);
        check_change(zs[i], 2235621600, -14400, -18000);
        check_local(zs[i], 1772953199, 2026, 3, 8, 1, 59, 59, 0);
        check_local(zs[i], 1772953200, 2026, 3, 8, 3, 0, 0, 0);
        /* 01:30 twice on 2026-11-01: 05:30Z (EDT) and 06:30Z (EST). */
        check_local(zs[i], 1793511000, 2026, 11, 1, 1, 30, 0, 0);
        check_local(zs[i], 1793514600, 2026, 11, 1, 1, 30, 0, 0);
        /* The span of summer time 2026 and of 2040. */
        ASSERT_EQ(sl_tz_lookup(zs[i], 1782000000, &s, &e), -14400);
        ASSERT_EQ(s, 1772953200);
        ASSERT_EQ(e, 1793512800);
        ASSERT_EQ(sl_tz_lookup(zs[i], 2225000000, &s, &e), -14400);
        ASSERT_EQ(s, 2215062000);
        ASSERT_EQ(e, 2235621600);
    }
    /* History from the table: 1883-11-18 17:00 LMT -> EST, and EWT in
     * 1942 (TZ=America/New_York date -d @-2717650800, -d @-880218000). */
    check_change(z, -2717650800, -17762, -18000);
    check_change(z, -880218000, -18000, -14400);
    /* Before the first transition: type 0 (LMT, -4:56:02). */
    ASSERT_EQ(sl_tz_offset(z, -3000000000), -17762);
    ASSERT_EQ(sl_tz_lookup(z, -3000000000, &s, &e), -17762);
    ASSERT(s == INT64_MIN && e == -2717650800);
    /* Far ends stay defined. */
    ASSERT(sl_tz_offset(z, INT64_MAX) == -18000 ||
           sl_tz_offset(z, INT64_MAX) == -14400);
    ASSERT_EQ(sl_tz_offset(z, INT64_MAX), sl_tz_offset(z, INT64_C(1) << 56));
    ASSERT_EQ(sl_tz_offset(z, INT64_MIN), -17762);
    sl_tz_free(z);
    sl_tz_free(slim);
}

TEST(berlin)
{
    struct sl_tz *z = load("Europe/Berlin");

    /* Last Sunday of March and of October, 01:00 UTC. */
    check_change(z, 1774746000, 3600, 7200);
    check_change(z, 1792890000, 7200, 3600);
    check_change(z, 2216250000, 3600, 7200);
    check_change(z, 2234998800, 7200, 3600);
    check_local(z, 1774746000, 2026, 3, 29, 3, 0, 0, 0);
    check_local(z, 1792889999, 2026, 10, 25, 2, 59, 59, 0);
    check_local(z, 1792890000, 2026, 10, 25, 2, 0, 0, 0);
    check_local(z, 2234998800, 2040, 10, 28, 2, 0, 0, 0);
    sl_tz_free(z);
}

TEST(lord_howe_half_hour_dst)
{
    struct sl_tz *z = load("Australia/Lord_Howe");
    struct sl_tz *slim = load("Test/Slim_Lord_Howe");
    const struct sl_tz *zs[2] = { z, slim };
    int i;

    for (i = 0; i < 2; i++) {
        /* 2026-04-05 02:00 +11 -> 01:30 +1030; 2026-10-04 02:00 +1030 ->
         * 02:30 +11; 2040 from the footer. */
        check_change(zs[i], 1775314800, 39600, 37800);
        check_change(zs[i], 1791041400, 37800, 39600);
        check_change(zs[i], 2216818800, 39600, 37800);
        check_change(zs[i], 2233150200, 37800, 39600);
        check_local(zs[i], 1775314799, 2026, 4, 5, 1, 59, 59, 0);
        check_local(zs[i], 1775314800, 2026, 4, 5, 1, 30, 0, 0);
        check_local(zs[i], 1791041399, 2026, 10, 4, 1, 59, 59, 0);
        check_local(zs[i], 1791041400, 2026, 10, 4, 2, 30, 0, 0);
        check_local(zs[i], 2216818800, 2040, 4, 1, 1, 30, 0, 0);
    }
    sl_tz_free(z);
    sl_tz_free(slim);
}

TEST(kolkata_no_dst)
{
    struct sl_tz *z = load("Asia/Kolkata");
    int64_t s, e;

    ASSERT_EQ(sl_tz_offset(z, 1772953200), 19800);
    ASSERT_EQ(sl_tz_offset(z, 2235621600), 19800);
    /* The footer "IST-5:30" holds from the last transition (1945-10-14
     * 17:30Z: TZ=Asia/Kolkata date -d @-764145000) for ever. */
    ASSERT_EQ(sl_tz_lookup(z, 2235621600, &s, &e), 19800);
    ASSERT_EQ(s, -764145000);
    ASSERT(e == INT64_MAX);
    check_local(z, 1795750200, 2026, 11, 27, 9, 0, 0, 5);
    sl_tz_free(z);
}

TEST(southern_hemisphere)
{
    struct sl_tz *syd = load("Australia/Sydney");
    struct sl_tz *scl = load("America/Santiago");
    struct sl_tz *sao = load("America/Sao_Paulo");

    /* Sydney: DST from October to April, across the new year. */
    check_change(syd, 1775318400, 39600, 36000);
    check_change(syd, 1791043200, 36000, 39600);
    check_change(syd, 2216822400, 39600, 36000);
    check_change(syd, 2233152000, 36000, 39600);
    check_local(syd, 1798718400, 2026, 12, 31, 23, 0, 0, 4);
    ASSERT_EQ(sl_tz_offset(syd, 1798718400), 39600);
    /* Santiago changes at 24:00 ("M9.1.6/24,M4.1.6/24"): midnight of
     * 2026-09-06 does not exist, 23:00 of 2026-04-04 happens twice. */
    check_change(scl, 1775358000, -10800, -14400);
    check_change(scl, 1788667200, -14400, -10800);
    check_change(scl, 2217466800, -10800, -14400);
    check_change(scl, 2230171200, -14400, -10800);
    check_local(scl, 1788667199, 2026, 9, 5, 23, 59, 59, 6);
    check_local(scl, 1788667200, 2026, 9, 6, 1, 0, 0, 0);
    check_local(scl, 2230171200, 2040, 9, 2, 1, 0, 0, 0);
    /* Sao Paulo: midnight skipped on 2018-11-04 (table), no DST since
     * 2019 (footer "<-03>3"). */
    check_change(sao, 1541300400, -10800, -7200);
    check_local(sao, 1541300400, 2018, 11, 4, 1, 0, 0, 0);
    ASSERT_EQ(sl_tz_offset(sao, 2230171200), -10800);
    sl_tz_free(syd);
    sl_tz_free(scl);
    sl_tz_free(sao);
}

/* ---- Go's time.Date() ---- */

TEST(mktime_resolves_like_go)
{
    struct sl_tz *ny = load("America/New_York");
    struct sl_tz *be = load("Europe/Berlin");

    /* Ordinary times. */
    ASSERT_EQ(sl_tz_mktime(ny, 2026, 3, 9, 2, 30, 0), 1773037800);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, 11, 27, 0, 0, 0), 1795737600);
    /* In the gap: the offset after the change applied to the wall time
     * (New York: 01:30 EST; Berlin: 03:30 CEST). */
    ASSERT_EQ(sl_tz_mktime(ny, 2026, 3, 8, 2, 30, 0), 1772951400);
    ASSERT_EQ(sl_tz_mktime(be, 2026, 3, 29, 2, 30, 0), 1774747800);
    /* In the overlap: New York the first (EDT), Berlin the second (CET). */
    ASSERT_EQ(sl_tz_mktime(ny, 2026, 11, 1, 1, 30, 0), 1793511000);
    ASSERT_EQ(sl_tz_mktime(be, 2026, 10, 25, 2, 30, 0), 1792891800);
    /* And in the footer years. */
    ASSERT_EQ(sl_tz_mktime(ny, 2040, 11, 4, 1, 30, 0), 2235619800);
    ASSERT_EQ(sl_tz_mktime(be, 2040, 10, 28, 2, 30, 0), 2235000600);
    /* Normalisation: month 13, day 0, hour -1, Feb 30, second 60. */
    ASSERT_EQ(sl_tz_mktime(NULL, 2025, 13, 1, 0, 0, 0), 1767225600);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, 3, 0, 0, 0, 0), 1772236800);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, 1, 1, -1, 0, 0), 1767222000);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, 2, 30, 0, 0, 0), 1772409600);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, 1, 1, 0, 0, 60), 1767225660);
    ASSERT_EQ(sl_tz_mktime(NULL, 2026, -11, 1, 0, 0, 0), 1735689600);
    /* Huge fields: defined, not undefined behaviour. */
    (void)sl_tz_mktime(ny, INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN,
                       INT64_MAX, INT64_MIN);
    sl_tz_free(ny);
    sl_tz_free(be);
}

/* ---- calendar ---- */

TEST(calendar)
{
    int64_t d, y;
    int m, day;

    ASSERT_EQ(sl_tz_days_from_civil(1970, 1, 1), 0);
    ASSERT_EQ(sl_tz_days_from_civil(1969, 12, 31), -1);
    ASSERT_EQ(sl_tz_days_from_civil(2000, 3, 1), 11017);
    ASSERT_EQ(sl_tz_days_from_civil(1, 1, 1), -719162);
    ASSERT_EQ(sl_tz_days_from_civil(2026, 4, 31), 20574); /* May 1 */
    /* Every day from 1600 to 2400 round-trips and counts up by one. */
    for (d = sl_tz_days_from_civil(1600, 1, 1);
         d < sl_tz_days_from_civil(2400, 12, 31); d++) {
        sl_tz_civil_from_days(d, &y, &m, &day);
        if (sl_tz_days_from_civil(y, m, day) != d)
            CHECK_FAIL("day %" PRId64 " does not round-trip", d);
    }
    sl_tz_civil_from_days(-719163, &y, &m, &day);
    ASSERT(y == 0 && m == 12 && day == 31);
    sl_tz_civil_from_days(sl_tz_days_from_civil(2100, 3, 1) - 1, &y, &m, &day);
    ASSERT(y == 2100 && m == 2 && day == 28);
    /* Local fields before 1970. */
    check_local(NULL, -1, 1969, 12, 31, 23, 59, 59, 3);
    check_local(NULL, -62135596800, 1, 1, 1, 0, 0, 0, 1);
}

/* ---- footer rules ---- */

TEST(footer_rules)
{
    struct sl_tz *z;
    int64_t s, e;

    /* No transitions: the footer rules from the beginning of time. */
    z = footer_zone(-18000, "EST5EDT,M3.2.0,M11.1.0");
    check_change(z, 1772953200, -18000, -14400);
    check_change(z, 1793512800, -14400, -18000);
    /* 1990: the same rule, applied backwards (2nd Sunday of March 1990 is
     * the 11th: TZ=EST5EDT,M3.2.0,M11.1.0 date -d '1990-03-11 03:00'). */
    check_change(z, 637138800, -18000, -14400);
    sl_tz_free(z);
    /* Rules omitted: the US default, as Go and tzcode do. */
    z = footer_zone(-18000, "EST5EDT");
    check_change(z, 1772953200, -18000, -14400);
    sl_tz_free(z);
    /* Quoted names, minutes, no DST. */
    z = footer_zone(0, "<+0330>-3:30");
    ASSERT_EQ(sl_tz_lookup(z, 1772953200, &s, &e), 12600);
    ASSERT(s == INT64_MIN && e == INT64_MAX);
    sl_tz_free(z);
    /* Negative rule times (America/Nuuk 2023-2024: "<-02>2<-01>,
     * M3.5.0/-1,M10.5.0/0"): both changes at 01:00 UTC. */
    z = footer_zone(-7200, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    check_change(z, 1774746000, -7200, -3600);
    check_change(z, 1792890000, -3600, -7200);
    sl_tz_free(z);
    /* RFC 8536 section 3.3.1: DST all year, "EST5EDT,0/0,J365/25". */
    z = footer_zone(-18000, "EST5EDT,0/0,J365/25");
    ASSERT_EQ(sl_tz_offset(z, 1767225600), -14400); /* 2026-01-01 */
    ASSERT_EQ(sl_tz_offset(z, 1782000000), -14400);
    ASSERT_EQ(sl_tz_offset(z, 1798761599), -14400); /* 2026-12-31 */
    ASSERT_EQ(sl_tz_offset(z, 2235621600), -14400);
    sl_tz_free(z);
    /* Julian days without Feb 29: J60 is March 1 even in a leap year,
     * J300 October 27; both at 02:00 local. */
    z = footer_zone(-10800, "AAA3BBB,J60/2,J300/2");
    /* 2028-03-01 05:00Z and 2028-10-27 04:00Z (a leap year). */
    check_change(z, 1835499600, -10800, -7200);
    check_change(z, 1856232000, -7200, -10800);
    sl_tz_free(z);
    /* Zero-based days count February 29: day 59 is Feb 29 in 2028, Mar 1
     * in 2026. Hours beyond 24 move the change into the next days. */
    z = footer_zone(-10800, "AAA3BBB,59/0,299/49");
    check_change(z, 1835406000, -10800, -7200); /* 2028-02-29 03:00Z */
    check_change(z, 1772334000, -10800, -7200); /* 2026-03-01 03:00Z */
    /* Day 299 of 2026 is Oct 27; +49 h is Oct 29 01:00 local DST. */
    check_change(z, 1793242800, -7200, -10800); /* 2026-10-29 03:00Z */
    sl_tz_free(z);
    /* The fifth week means the last: 2026-05 has five Sundays (M5.5.0
     * is May 31), 2026-02 has four (M2.5.0 is Feb 22). */
    z = footer_zone(0, "AAA0BBB,M2.5.0/0,M5.5.0/0");
    check_change(z, 1771718400, 0, 3600); /* 2026-02-22 00:00Z */
    check_change(z, 1780182000, 3600, 0); /* 2026-05-30 23:00Z */
    sl_tz_free(z);
}

TEST(invalid_footers_are_ignored)
{
    static const char *const bad[] = {
        "EST",
        "ES5",
        "EST5EDT,M13.1.0,M11.1.0",
        "EST5EDT,M3.2.0",
        "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,J0,J365",
        "EST5EDT,366,0",
        "EST5EDT,M3.2.0/168,M11.1.0",
        "EST25",
        "<>5",
        "<EST5",
        "EST5EDT,M3.2.0,M11.1.0,",
        "EST5EDT;M3.2.0;M11.1.0",
        "EST5:60",
        "",
    };
    const int32_t offs[2] = { -18000, -14400 };
    const int64_t trans[1] = { 1772953200 };
    const uint8_t idx[1] = { 1 };
    struct blob x;
    struct sl_tz *z;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tzif(&x, offs, 2, trans, idx, 1, bad[i]);
        z = NULL;
        ASSERT_OK(sl_tz_parse(x.b, x.n, "Footer", &z, NULL));
        /* The last transition's type holds for ever. */
        if (sl_tz_offset(z, 2235621600) != -14400)
            CHECK_FAIL("footer '%s' was not ignored", bad[i]);
        ASSERT_EQ(sl_tz_offset(z, 1772953199), -18000);
        sl_tz_free(z);
    }
    /* No footer at all (a truncated version 2 file still has its data). */
    tzif(&x, offs, 2, trans, idx, 1, NULL);
    ASSERT_OK(sl_tz_parse(x.b, x.n, "Footer", &z, NULL));
    ASSERT_EQ(sl_tz_offset(z, 2235621600), -14400);
    sl_tz_free(z);
}

/* ---- malformed files ---- */

TEST(truncated_files_fail_cleanly)
{
    static const char *const zones[] = { "America/New_York",
                                         "Test/Slim_Lord_Howe",
                                         "Asia/Kolkata" };
    char path[256];
    char *data;
    size_t n, cut, i, want_ok;
    struct sl_tz *z;
    struct sl_diag d;
    int rc;

    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        snprintf(path, sizeof(path), ZDIR "/%s", zones[i]);
        data = check_read_file(path, &n);
        /* Every prefix up to the footer is malformed; once the 64-bit
         * data is complete the file loads (without its footer). */
        want_ok = 0;
        for (cut = 0; cut <= n; cut++) {
            sl_diag_clear(&d);
            z = NULL;
            rc = sl_tz_parse(data, cut, zones[i], &z, &d);
            if (rc == 0) {
                if (want_ok == 0)
                    want_ok = cut;
                sl_tz_free(z);
                continue;
            }
            ASSERT_EQ(rc, SL_EINVAL);
            ASSERT(z == NULL);
            if (want_ok != 0)
                CHECK_FAIL("%s: prefix %zu fails after %zu loaded", zones[i],
                           cut, want_ok);
            if (strstr(d.msg, zones[i]) == NULL ||
                strstr(d.msg, "malformed time zone information") == NULL)
                CHECK_FAIL("%s: message \"%s\"", zones[i], d.msg);
        }
        /* Complete data, footer cut: loads at the last newline less. */
        ASSERT(want_ok > 0 && want_ok < n);
        sl_free(data);
    }
}

TEST(corrupt_files)
{
    const int32_t offs[2] = { -18000, -14400 };
    const int64_t trans[2] = { 1772953200, 1793512800 };
    const uint8_t idx[2] = { 1, 0 };
    const uint8_t bad_idx[2] = { 1, 2 };
    const int64_t desc[2] = { 1793512800, 1772953200 };
    const int32_t big[1] = { 93600 };
    const int32_t min[1] = { INT32_MIN };
    struct blob x;
    struct sl_tz *z = NULL;

    tzif(&x, offs, 2, trans, idx, 2, "EST5EDT,M3.2.0,M11.1.0");
    ASSERT_OK(sl_tz_parse(x.b, x.n, "Bad/Zone", &z, NULL));
    sl_tz_free(z);
    x.b[0] = 'X';
    check_bad(&x, "bad magic");
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    x.b[4] = '1';
    check_bad(&x, "unsupported version");
    tzif(&x, offs, 2, trans, bad_idx, 2, NULL);
    check_bad(&x, "bad transition type");
    tzif(&x, offs, 2, desc, idx, 2, NULL);
    check_bad(&x, "not ascending");
    tzif(&x, big, 1, NULL, NULL, 0, NULL);
    check_bad(&x, "UT offset out of range");
    tzif(&x, min, 1, NULL, NULL, 0, NULL);
    check_bad(&x, "UT offset out of range");
    /* typecnt 0 in the version 2 header (bytes 36..39 of it). */
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    memset(x.b + 44 + 6 + 4 + 36, 0, 4);
    check_bad(&x, "bad type or abbreviation count");
    /* A count too large for the file. */
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    memset(x.b + 44 + 6 + 4 + 32, 0xff, 4);
    check_bad(&x, "truncated data");
    /* isdst 2. */
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    x.b[x.n - 4 - 2] = 2;
    check_bad(&x, "bad local time type");
    /* Abbreviation index beyond the characters. */
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    x.b[x.n - 4 - 1] = 4;
    check_bad(&x, "bad local time type");
    /* The second header must be a version 2+ one. */
    tzif(&x, offs, 2, trans, idx, 2, NULL);
    x.b[44 + 6 + 4 + 4] = 0;
    check_bad(&x, "second header");
    /* Empty input. */
    x.n = 0;
    check_bad(&x, "truncated header");
}

TEST(version_1_file)
{
    char *data;
    size_t n;
    struct blob x;
    struct sl_tz *z = NULL;

    /* New York's version 1 header and 32-bit block alone, as version 0:
     * the table runs to 2037, no footer, so the last type stays. */
    data = check_read_file(ZDIR "/America/New_York", &n);
    x.n = 0;
    put(&x, data, n < sizeof(x.b) ? n : sizeof(x.b));
    x.b[4] = 0;
    ASSERT_OK(sl_tz_parse(x.b, x.n, "V1", &z, NULL));
    check_change(z, 1772953200, -18000, -14400);
    check_change(z, 1793512800, -14400, -18000);
    ASSERT_EQ(sl_tz_offset(z, 2225000000), -18000);
    sl_tz_free(z);
    sl_free(data);
}

TEST(oversized_file)
{
    char dir[64], path[128];
    uint8_t *big;
    struct sl_tz *z = NULL;
    struct sl_diag d;

    scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/Big", dir);
    big = sl_xcalloc(1, SL_TZ_FILE_MAX + 10);
    memcpy(big, "TZif2", 5);
    write_file(path, big, SL_TZ_FILE_MAX + 10);
    sl_free(big);
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "Big", &z, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "malformed time zone information for Big") != NULL);
    ASSERT(z == NULL);
    unlink(path);
    rmdir(dir);
}

TEST(fifo_is_no_zone)
{
    char dir[64], path[128];
    struct sl_tz *z = NULL;
    struct sl_diag d;

    /* Opening a FIFO for reading would block until a writer came. */
    scratch(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/Fifo", dir);
    ASSERT_OK(mkfifo(path, 0600));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_tz_load(dir, "Fifo", &z, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.msg, "unknown time zone Fifo");
    unlink(path);
    rmdir(dir);
}

TEST_MAIN()
