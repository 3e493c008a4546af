/*
 * test/unit/retry_test.c - sinks/retry: backoff tables for both policies
 * with the ceiling and overflow, the retry classes of every status class,
 * Retry-After (seconds, the three HTTP-date forms, invalid and past
 * values) and the wait it yields, the Trigger-over-Broker merge of
 * spec.delivery with the backoff-max annotation and the dead-letter URL,
 * and the dead-letter extensions.
 */
#include "test/unit/check.h"

#include <json-c/json.h>

#include "core/base64.h"
#include "core/buf.h"
#include "proto/event.h"
#include "sinks/retry.h"

#define MS  1000000LL
#define SEC 1000000000LL

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994 784111777LL

static struct sl_retry_policy policy(enum sl_backoff b, int64_t delay_ns)
{
    struct sl_retry_policy p;

    sl_retry_policy_init(&p);
    p.retry = 10;
    p.backoff = b;
    p.delay_ns = delay_ns;
    return p;
}

/* ---- backoff ---- */

TEST(backoff_exponential_table)
{
    struct sl_retry_policy p = policy(SL_BACKOFF_EXPONENTIAL, 200 * MS);
    static const int64_t want_ms[] = { 0,    200,   400,   800,   1600,  3200,
                                       6400, 12800, 25600, 51200, 102400 };
    int64_t k, total = 0;

    for (k = 0; k <= 10; k++) {
        ASSERT_EQ(sl_retry_backoff(&p, k), want_ms[k] * MS);
        total += sl_retry_backoff(&p, k);
    }
    /* Knative's shipped default waits about 204.6 s over 10 retries. */
    ASSERT_EQ(total, 204600 * MS);
    /* 0.2 s * 2^14 = 3276.8 s is under the hour; 2^15 is over it. */
    ASSERT_EQ(sl_retry_backoff(&p, 15), 3276800 * MS);
    ASSERT_EQ(sl_retry_backoff(&p, 16), 3600 * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, -1), 0);
}

TEST(backoff_exponential_overflow)
{
    struct sl_retry_policy p = policy(SL_BACKOFF_EXPONENTIAL, 200 * MS);
    static const int64_t big[] = { 40, 62,   63,        64,
                                   65, 1000, INT32_MAX, INT64_MAX };
    size_t i;

    for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        ASSERT_EQ(sl_retry_backoff(&p, big[i]), 3600 * SEC);
    /* No ceiling to speak of: still saturates instead of wrapping. */
    p.backoff_max_ns = INT64_MAX;
    for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        ASSERT_EQ(sl_retry_backoff(&p, big[i]), INT64_MAX);
    ASSERT_EQ(sl_retry_backoff(&p, 35), 200 * MS * (1LL << 34));
    p.delay_ns = INT64_MAX;
    ASSERT_EQ(sl_retry_backoff(&p, 1), INT64_MAX);
    ASSERT_EQ(sl_retry_backoff(&p, 2), INT64_MAX);
    p.delay_ns = 1;
    ASSERT_EQ(sl_retry_backoff(&p, 63), 1LL << 62);
    ASSERT_EQ(sl_retry_backoff(&p, 64), INT64_MAX);
}

TEST(backoff_linear_table)
{
    struct sl_retry_policy p = policy(SL_BACKOFF_LINEAR, 1 * SEC);
    int64_t k;

    /* DESIGN 4.1: delay*k, so the first retry waits one delay (Knative's
     * Go dispatcher would wait delay*(k-1)). */
    ASSERT_EQ(sl_retry_backoff(&p, 0), 0);
    for (k = 1; k <= 10; k++)
        ASSERT_EQ(sl_retry_backoff(&p, k), k * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, 3600), 3600 * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, 3601), 3600 * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, INT64_MAX), 3600 * SEC);
    p.backoff_max_ns = INT64_MAX;
    ASSERT_EQ(sl_retry_backoff(&p, INT64_MAX), INT64_MAX);
    ASSERT_EQ(sl_retry_backoff(&p, 9223372036LL), 9223372036LL * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, 9223372037LL), INT64_MAX);
    p.backoff_max_ns = 2500 * MS;
    ASSERT_EQ(sl_retry_backoff(&p, 2), 2 * SEC);
    ASSERT_EQ(sl_retry_backoff(&p, 3), 2500 * MS);
}

TEST(backoff_none_and_zero)
{
    struct sl_retry_policy p = policy(SL_BACKOFF_NONE, 1 * SEC);
    int64_t k;

    for (k = 0; k < 70; k++)
        ASSERT_EQ(sl_retry_backoff(&p, k), 0);
    p = policy(SL_BACKOFF_EXPONENTIAL, 0);
    ASSERT_EQ(sl_retry_backoff(&p, 3), 0);
    p = policy(SL_BACKOFF_EXPONENTIAL, 1 * SEC);
    p.backoff_max_ns = 0;
    ASSERT_EQ(sl_retry_backoff(&p, 3), 0);
}

/* ---- retry classes ---- */

TEST(classify_every_status_class)
{
    static const struct {
        int status;
        enum sl_retry_class want;
    } t[] = {
        { 0, SL_RETRY_AGAIN },     { 100, SL_RETRY_FAIL },
        { 101, SL_RETRY_FAIL },    { 199, SL_RETRY_FAIL },
        { 200, SL_RETRY_SUCCESS }, { 201, SL_RETRY_SUCCESS },
        { 202, SL_RETRY_SUCCESS }, { 204, SL_RETRY_SUCCESS },
        { 299, SL_RETRY_SUCCESS }, { 300, SL_RETRY_FAIL },
        { 301, SL_RETRY_FAIL },    { 302, SL_RETRY_FAIL },
        { 304, SL_RETRY_FAIL },    { 307, SL_RETRY_FAIL },
        { 399, SL_RETRY_FAIL },    { 400, SL_RETRY_FAIL },
        { 401, SL_RETRY_FAIL },    { 403, SL_RETRY_FAIL },
        { 404, SL_RETRY_AGAIN },   { 405, SL_RETRY_FAIL },
        { 406, SL_RETRY_FAIL },    { 407, SL_RETRY_FAIL },
        { 408, SL_RETRY_AGAIN },   { 409, SL_RETRY_AGAIN },
        { 410, SL_RETRY_FAIL },    { 413, SL_RETRY_FAIL },
        { 415, SL_RETRY_FAIL },    { 422, SL_RETRY_FAIL },
        { 425, SL_RETRY_FAIL },    { 428, SL_RETRY_FAIL },
        { 429, SL_RETRY_AGAIN },   { 431, SL_RETRY_FAIL },
        { 499, SL_RETRY_FAIL },    { 500, SL_RETRY_AGAIN },
        { 501, SL_RETRY_AGAIN },   { 502, SL_RETRY_AGAIN },
        { 503, SL_RETRY_AGAIN },   { 504, SL_RETRY_AGAIN },
        { 505, SL_RETRY_AGAIN },   { 511, SL_RETRY_AGAIN },
        { 599, SL_RETRY_AGAIN },   { 600, SL_RETRY_FAIL },
        { 99, SL_RETRY_FAIL },     { -1, SL_RETRY_FAIL },
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enum sl_retry_class got = sl_retry_classify(t[i].status, SL_REPLY_NONE);
        if (got != t[i].want)
            CHECK_FAIL("status %d: class %d, want %d", t[i].status, got,
                       t[i].want);
    }
}

TEST(classify_reply_kinds)
{
    /* A 2xx carrying something that is not an event is a retried failure
     * (DESIGN 4.5); 202 with an event is a reply like any 2xx. */
    ASSERT_EQ(sl_retry_classify(200, SL_REPLY_EVENT), SL_RETRY_SUCCESS);
    ASSERT_EQ(sl_retry_classify(202, SL_REPLY_EVENT), SL_RETRY_SUCCESS);
    ASSERT_EQ(sl_retry_classify(200, SL_REPLY_NOT_EVENT), SL_RETRY_AGAIN);
    ASSERT_EQ(sl_retry_classify(204, SL_REPLY_NOT_EVENT), SL_RETRY_AGAIN);
    /* Outside 2xx the body does not change the verdict. */
    ASSERT_EQ(sl_retry_classify(400, SL_REPLY_NOT_EVENT), SL_RETRY_FAIL);
    ASSERT_EQ(sl_retry_classify(500, SL_REPLY_EVENT), SL_RETRY_AGAIN);
    ASSERT_EQ(sl_retry_classify(302, SL_REPLY_EVENT), SL_RETRY_FAIL);
    ASSERT_EQ(sl_retry_classify(0, SL_REPLY_NONE), SL_RETRY_AGAIN);
}

/* ---- Retry-After ---- */

static int64_t ra(const char *v, int64_t now)
{
    int64_t ns = -12345;

    if (sl_retry_after_parse(v, now, &ns) != 0)
        CHECK_FAIL("Retry-After '%s' did not parse", v);
    return ns;
}

TEST(retry_after_seconds)
{
    ASSERT_EQ(ra("120", 0), 120 * SEC);
    ASSERT_EQ(ra("0", 0), 0);
    ASSERT_EQ(ra(" \t5 ", 0), 5 * SEC);
    ASSERT_EQ(ra("007", 0), 7 * SEC);
    ASSERT_EQ(ra("9223372035", 0), 9223372035LL * SEC);
    ASSERT_EQ(ra("9223372037", 0), INT64_MAX);
    ASSERT_EQ(ra("99999999999999999999999999999999999999999999999999999999"
                 "9999999999999999999999",
                 0),
              INT64_MAX);
}

TEST(retry_after_dates)
{
    /* The three forms of RFC 9110 5.6.7, 30 s ahead of 'now'. */
    ASSERT_EQ(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 30), 30 * SEC);
    ASSERT_EQ(ra("Sunday, 06-Nov-94 08:49:37 GMT", T1994 - 30), 30 * SEC);
    ASSERT_EQ(ra("Sun Nov  6 08:49:37 1994", T1994 - 30), 30 * SEC);
    ASSERT_EQ(ra("Sun Nov 06 08:49:37 1994", T1994 - 30), 30 * SEC);
    ASSERT_EQ(ra("Sun Nov 16 08:49:37 1994", T1994), 10 * 86400 * SEC);
    /* Names in any case; the weekday is not checked against the date. */
    ASSERT_EQ(ra("sun, 06 NOV 1994 08:49:37 GMT", T1994 - 1), 1 * SEC);
    ASSERT_EQ(ra("Wed, 06 Nov 1994 08:49:37 GMT", T1994 - 1), 1 * SEC);
    /* Past or present dates mean no wait. */
    ASSERT_EQ(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994), 0);
    ASSERT_EQ(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 3600), 0);
    ASSERT_EQ(ra("Thu, 01 Jan 1970 00:00:00 GMT", T1994), 0);
    /* Calendar: leap days, month ends, second 60. */
    ASSERT_EQ(ra("Thu, 29 Feb 2024 00:00:00 GMT", 1709164800LL - 2), 2 * SEC);
    ASSERT_EQ(ra("Fri, 01 Mar 2024 00:00:00 GMT", 1709164800LL), 86400 * SEC);
    ASSERT_EQ(ra("Wed, 01 Mar 2000 00:00:00 GMT", 951782400LL), 86400 * SEC);
    ASSERT_EQ(ra("Fri, 31 Dec 2027 23:59:60 GMT", 1830297600LL - 1), 1 * SEC);
    ASSERT_EQ(ra("Fri, 31 Dec 9999 23:59:59 GMT", 253402300798LL), 1 * SEC);
}

TEST(retry_after_two_digit_years)
{
    /* 2026-01-01: a year up to 50 ahead stays in this century. */
    int64_t now = 1767225600LL;

    ASSERT_EQ(ra("Thursday, 01-Jan-26 00:00:10 GMT", now), 10 * SEC);
    ASSERT_EQ(ra("Tuesday, 01-Jan-70 00:00:00 GMT", now),
              (3155760000LL - now) * SEC);
    /* 2099 would be 73 years ahead: it is 1999, in the past. */
    ASSERT_EQ(ra("Friday, 01-Jan-99 00:00:00 GMT", now), 0);
    ASSERT_EQ(ra("Saturday, 01-Jan-00 00:00:00 GMT", now), 0);
}

TEST(retry_after_invalid)
{
    static const char *const bad[] = {
        "",
        "   ",
        "-5",
        "+5",
        "5s",
        "5 s",
        "1.5",
        "0x10",
        "soon",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Foo, 06 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov   6 08:49:37 1994",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMT, and then much more text after it",
    };
    size_t i;
    int64_t ns = 42;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sl_retry_after_parse(bad[i], T1994, &ns) != SL_EINVAL)
            CHECK_FAIL("Retry-After '%s' was accepted", bad[i]);
    ASSERT_EQ(sl_retry_after_parse(NULL, 0, &ns), SL_EINVAL);
    ASSERT_EQ(ns, 42);
}

TEST(retry_wait_rules)
{
    struct sl_retry_policy p = policy(SL_BACKOFF_EXPONENTIAL, 200 * MS);

    /* Without retryAfterMax the header is ignored (reference 3.4). */
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, "10", 0), 200 * MS);
    p.retry_after_max_ns = 5 * SEC;
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, "10", 0), 5 * SEC);
    ASSERT_EQ(sl_retry_wait(&p, 1, 503, "3", 0), 3 * SEC);
    ASSERT_EQ(sl_retry_wait(&p, 1, 503, "Sun, 06 Nov 1994 08:49:39 GMT", T1994),
              2 * SEC);
    /* Only 429 and 503. */
    ASSERT_EQ(sl_retry_wait(&p, 1, 500, "3", 0), 200 * MS);
    ASSERT_EQ(sl_retry_wait(&p, 1, 502, "3", 0), 200 * MS);
    ASSERT_EQ(sl_retry_wait(&p, 1, 0, "3", 0), 200 * MS);
    /* The longer of the two wins; absent, invalid or past: the backoff. */
    ASSERT_EQ(sl_retry_wait(&p, 6, 429, "1", 0), 6400 * MS);
    ASSERT_EQ(sl_retry_wait(&p, 2, 429, NULL, 0), 400 * MS);
    ASSERT_EQ(sl_retry_wait(&p, 2, 429, "later", 0), 400 * MS);
    ASSERT_EQ(sl_retry_wait(&p, 2, 429, "0", 0), 400 * MS);
    ASSERT_EQ(
        sl_retry_wait(&p, 2, 429, "Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 5),
        400 * MS);
    /* retryAfterMax PT0S switches it off; a huge header is capped. */
    p.retry_after_max_ns = 0;
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, "10", 0), 200 * MS);
    p.retry_after_max_ns = 2 * 3600 * SEC;
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, "999999999999999999999", 0),
              2 * 3600 * SEC);
    /* No backoff policy: Retry-After alone. */
    p = policy(SL_BACKOFF_NONE, 0);
    p.retry_after_max_ns = 60 * SEC;
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, "7", 0), 7 * SEC);
    ASSERT_EQ(sl_retry_wait(&p, 1, 429, NULL, 0), 0);
}

/* ---- the Trigger-over-Broker merge ---- */

static struct json_object *js(const char *s)
{
    struct json_object *o;

    if (s == NULL)
        return NULL;
    o = json_tokener_parse(s);
    if (o == NULL)
        CHECK_FAIL("bad JSON in test: %s", s);
    return o;
}

struct built {
    int rc;
    struct sl_retry_policy p;
    struct sl_diag d;
};

static struct built build(const char *td, const char *ta, const char *bd,
                          const char *ba, const char *dls_url)
{
    struct json_object *a = js(td), *b = js(ta), *c = js(bd), *e = js(ba);
    struct built r;

    sl_diag_clear(&r.d);
    r.rc = sl_retry_policy_build(&r.p, a, b, c, e, dls_url, &r.d);
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
    json_object_put(e);
    return r;
}

#define BROKER_DEFAULTS                                                       \
    "{\"retry\":10,\"backoffPolicy\":\"exponential\",\"backoffDelay\":\"PT0." \
    "2S\"}"

TEST(merge_empty)
{
    struct built r = build(NULL, NULL, NULL, NULL, NULL);

    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 0);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_NONE);
    ASSERT_EQ(r.p.delay_ns, 0);
    ASSERT_EQ(r.p.timeout_ns, 0);
    ASSERT_EQ(r.p.retry_after_max_ns, SL_RETRY_UNSET);
    ASSERT_EQ(r.p.format, SL_FORMAT_BINARY);
    ASSERT(r.p.dead_letter_url == NULL);
    ASSERT_EQ(r.p.backoff_max_ns, 3600 * SEC);
    sl_retry_policy_fini(&r.p);
    r = build("{}", "{}", "{}", "{}", NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 0);
    sl_retry_policy_fini(&r.p);
}

TEST(merge_broker_only)
{
    struct built r = build(NULL, NULL, BROKER_DEFAULTS, NULL, NULL);

    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 10);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_EXPONENTIAL);
    ASSERT_EQ(r.p.delay_ns, 200 * MS);
    sl_retry_policy_fini(&r.p);
}

TEST(merge_field_by_field)
{
    /* Trigger sets retry (even 0) and format; the rest is the Broker's. */
    struct built r = build("{\"retry\":3,\"format\":\"json\"}", NULL,
                           BROKER_DEFAULTS, NULL, NULL);

    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 3);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_EXPONENTIAL);
    ASSERT_EQ(r.p.delay_ns, 200 * MS);
    ASSERT_EQ(r.p.format, SL_FORMAT_JSON);
    sl_retry_policy_fini(&r.p);

    r = build("{\"retry\":0}", NULL, BROKER_DEFAULTS, NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 0);
    sl_retry_policy_fini(&r.p);

    r = build("{\"backoffPolicy\":\"linear\",\"timeout\":\"PT5S\","
              "\"retryAfterMax\":\"PT2M\"}",
              NULL, BROKER_DEFAULTS, NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 10);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_LINEAR);
    ASSERT_EQ(r.p.delay_ns, 200 * MS);
    ASSERT_EQ(r.p.timeout_ns, 5 * SEC);
    ASSERT_EQ(r.p.retry_after_max_ns, 120 * SEC);
    sl_retry_policy_fini(&r.p);

    /* Broker's timeout and format; the Trigger's delay. A JSON null in
     * the Trigger counts as unset. */
    r = build("{\"backoffDelay\":\"PT1S\",\"timeout\":null}", NULL,
              "{\"retry\":2,\"backoffPolicy\":\"exponential\","
              "\"backoffDelay\":\"PT0.2S\",\"timeout\":\"PT30S\","
              "\"format\":\"binary\",\"retryAfterMax\":\"PT0S\"}",
              NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.retry, 2);
    ASSERT_EQ(r.p.delay_ns, 1 * SEC);
    ASSERT_EQ(r.p.timeout_ns, 30 * SEC);
    ASSERT_EQ(r.p.format, SL_FORMAT_BINARY);
    ASSERT_EQ(r.p.retry_after_max_ns, 0);
    ASSERT_EQ(sl_retry_backoff(&r.p, 2), 2 * SEC);
    sl_retry_policy_fini(&r.p);
}

TEST(merge_backoff_needs_policy_and_delay)
{
    /* As Knative's Go dispatcher: no policy or no delay, no waiting. */
    struct built r = build("{\"retry\":3,\"backoffDelay\":\"PT1S\"}", NULL,
                           NULL, NULL, NULL);

    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_NONE);
    ASSERT_EQ(sl_retry_backoff(&r.p, 1), 0);
    sl_retry_policy_fini(&r.p);
    r = build("{\"retry\":3,\"backoffPolicy\":\"linear\"}", NULL, NULL, NULL,
              NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_NONE);
    sl_retry_policy_fini(&r.p);
    /* A negative delay or timeout (Knative admits them) means none. */
    r = build("{\"backoffPolicy\":\"linear\",\"backoffDelay\":\"-PT1S\","
              "\"timeout\":\"-PT1S\"}",
              NULL, NULL, NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff, SL_BACKOFF_NONE);
    ASSERT_EQ(r.p.delay_ns, 0);
    ASSERT_EQ(r.p.timeout_ns, 0);
    sl_retry_policy_fini(&r.p);
}

TEST(merge_backoff_max_annotation)
{
    struct built r;

    r = build(BROKER_DEFAULTS, "{\"sluice.dev/backoff-max\":\"PT10S\"}", NULL,
              "{\"sluice.dev/backoff-max\":\"PT1M\"}", NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff_max_ns, 10 * SEC);
    ASSERT_EQ(sl_retry_backoff(&r.p, 6), 6400 * MS);
    ASSERT_EQ(sl_retry_backoff(&r.p, 7), 10 * SEC);
    sl_retry_policy_fini(&r.p);

    r = build(BROKER_DEFAULTS, "{\"other\":\"x\"}", NULL,
              "{\"sluice.dev/backoff-max\":\"PT1M\"}", NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff_max_ns, 60 * SEC);
    sl_retry_policy_fini(&r.p);

    r = build(NULL, NULL, NULL, "{\"sluice.dev/backoff-max\":\"P1D\"}", NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff_max_ns, 86400 * SEC);
    sl_retry_policy_fini(&r.p);

    r = build(NULL, "{\"sluice.dev/backoff-max\":\"PT0S\"}", NULL, NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_EQ(r.p.backoff_max_ns, 0);
    sl_retry_policy_fini(&r.p);

    r = build(NULL, "{\"sluice.dev/backoff-max\":\"an hour\"}", NULL, NULL,
              NULL);
    ASSERT_EQ(r.rc, SL_EINVAL);
    ASSERT_STR_EQ(r.d.field, "metadata.annotations.sluice.dev/backoff-max");
    ASSERT(strstr(r.d.msg, "an hour") != NULL);
    ASSERT(r.p.dead_letter_url == NULL);

    r = build(NULL, NULL, NULL, "{\"sluice.dev/backoff-max\":\"-PT1S\"}", NULL);
    ASSERT_EQ(r.rc, SL_EINVAL);
    ASSERT(strstr(r.d.msg, "broker: ") == r.d.msg);
    ASSERT(strstr(r.d.msg, "negative") != NULL);
}

TEST(merge_dead_letter)
{
    struct built r;

    /* The resolved address wins. */
    r = build("{\"deadLetterSink\":{\"ref\":{\"kind\":\"Service\"}}}", NULL,
              NULL, NULL, "http://dls.example/x");
    ASSERT_OK(r.rc);
    ASSERT_STR_EQ(r.p.dead_letter_url, "http://dls.example/x");
    sl_retry_policy_fini(&r.p);
    /* A plain uri needs no resolution; the Trigger's over the Broker's. */
    r = build("{\"deadLetterSink\":{\"uri\":\"http://t/\"}}", NULL,
              "{\"deadLetterSink\":{\"uri\":\"http://b/\"}}", NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_STR_EQ(r.p.dead_letter_url, "http://t/");
    sl_retry_policy_fini(&r.p);
    r = build("{\"retry\":1}", NULL,
              "{\"deadLetterSink\":{\"uri\":\"http://b/\"}}", NULL, NULL);
    ASSERT_OK(r.rc);
    ASSERT_STR_EQ(r.p.dead_letter_url, "http://b/");
    sl_retry_policy_fini(&r.p);
    /* A ref nobody resolved yet. */
    r = build(NULL, NULL,
              "{\"deadLetterSink\":{\"ref\":{\"kind\":\"Service\"},"
              "\"uri\":\"/p\"}}",
              NULL, NULL);
    ASSERT_EQ(r.rc, SL_ENOENT);
    ASSERT_STR_EQ(r.d.field, "spec.delivery.deadLetterSink");
    ASSERT(strstr(r.d.msg, "broker: ") == r.d.msg);
}

TEST(merge_invalid_fields)
{
    static const struct {
        const char *trig, *brok, *field, *msg;
    } t[] = {
        { "{\"backoffDelay\":\"soon\"}", NULL, "spec.delivery.backoffDelay",
          "invalid value \"soon\"" },
        { NULL, "{\"timeout\":\"PT\"}", "spec.delivery.timeout", "broker: " },
        { "{\"retryAfterMax\":\"-PT1S\"}", NULL, "spec.delivery.retryAfterMax",
          "negative" },
        { "{\"retryAfterMax\":5}", NULL, "spec.delivery.retryAfterMax",
          "not a string" },
        { "{\"backoffPolicy\":\"fibonacci\"}", BROKER_DEFAULTS,
          "spec.delivery.backoffPolicy", "unknown value" },
        { "{\"format\":\"xml\"}", NULL, "spec.delivery.format",
          "unknown value" },
        { "{\"retry\":-1}", NULL, "spec.delivery.retry", ">= 0" },
        { "{\"retry\":4294967296}", NULL, "spec.delivery.retry", ">= 0" },
        { NULL, "{\"retry\":\"3\"}", "spec.delivery.retry", "not an integer" },
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct built r = build(t[i].trig, NULL, t[i].brok, NULL, NULL);
        if (r.rc != SL_EINVAL)
            CHECK_FAIL("case %zu: rc %d", i, r.rc);
        ASSERT_STR_EQ(r.d.field, t[i].field);
        if (strstr(r.d.msg, t[i].msg) == NULL)
            CHECK_FAIL("case %zu: message '%s' lacks '%s'", i, r.d.msg,
                       t[i].msg);
        ASSERT_EQ(r.p.retry, 0);
        ASSERT(r.p.dead_letter_url == NULL);
    }
}

TEST(merge_from_objects)
{
    struct json_object *trig = js(
        "{\"metadata\":{\"name\":\"t\",\"annotations\":{"
        "\"sluice.dev/backoff-max\":\"PT30S\"}},"
        "\"spec\":{\"broker\":\"b\",\"delivery\":{\"retry\":5,"
        "\"deadLetterSink\":{\"ref\":{\"kind\":\"Service\",\"name\":\"d\"}}}},"
        "\"status\":{\"deadLetterSinkUri\":\"http://"
        "d.ns.svc.cluster.local\"}}");
    struct json_object *brok =
        js("{\"metadata\":{\"name\":\"b\",\"annotations\":{"
           "\"sluice.dev/backoff-max\":\"PT1M\"}},"
           "\"spec\":{\"delivery\":" BROKER_DEFAULTS "}}");
    struct sl_retry_policy p;

    ASSERT_OK(sl_retry_policy_from_objects(&p, trig, brok, NULL));
    ASSERT_EQ(p.retry, 5);
    ASSERT_EQ(p.backoff, SL_BACKOFF_EXPONENTIAL);
    ASSERT_EQ(p.delay_ns, 200 * MS);
    ASSERT_EQ(p.backoff_max_ns, 30 * SEC);
    ASSERT_STR_EQ(p.dead_letter_url, "http://d.ns.svc.cluster.local");
    sl_retry_policy_fini(&p);
    /* Without the Trigger's status the ref is unresolved. */
    json_object_object_del(trig, "status");
    ASSERT_EQ(sl_retry_policy_from_objects(&p, trig, brok, NULL), SL_ENOENT);
    ASSERT_OK(sl_retry_policy_from_objects(&p, NULL, brok, NULL));
    ASSERT_EQ(p.retry, 10);
    ASSERT_EQ(p.backoff_max_ns, 60 * SEC);
    sl_retry_policy_fini(&p);
    json_object_put(trig);
    json_object_put(brok);
}

/* ---- dead letter ---- */

static struct sl_event *event(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "e1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/src", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t.x", NULL));
    ASSERT_OK(sl_event_set_str(ev, "knativearrivaltime", "2026-01-01T00:00:00Z",
                               NULL));
    sl_event_set_data(ev, "{\"a\":1}", 7);
    return ev;
}

/* The decoded knativeerrordata of 'ev' into 'out'. */
static void errordata(const struct sl_event *ev, struct sl_buf *out)
{
    const struct sl_ce_attr *a = sl_event_get(ev, "knativeerrordata");

    ASSERT(a != NULL);
    ASSERT_EQ(a->type, SL_CE_STRING);
    sl_buf_init(out, 4096);
    ASSERT_OK(sl_base64_decode(a->value, a->len, out, NULL));
}

TEST(dead_letter_extensions)
{
    struct sl_event *ev = event(), *dl = NULL;
    struct sl_buf b;
    const struct sl_ce_attr *code;

    ASSERT_OK(sl_retry_dead_letter(ev, "http://sub.example/x", 503,
                                   "overloaded", 10, &dl, NULL));
    ASSERT(dl != NULL && dl != ev);
    ASSERT_STR_EQ(sl_event_value(dl, "knativeerrordest"),
                  "http://sub.example/x");
    code = sl_event_get(dl, "knativeerrorcode");
    ASSERT(code != NULL);
    ASSERT_EQ(code->type, SL_CE_INT);
    ASSERT_STR_EQ(code->value, "503");
    ASSERT_STR_EQ(sl_event_value(dl, "knativeerrordata"), "b3ZlcmxvYWRlZA==");
    /* The original event, data and other extensions are kept as they were. */
    ASSERT_STR_EQ(sl_event_id(dl), "e1");
    ASSERT_STR_EQ(sl_event_value(dl, "knativearrivaltime"),
                  "2026-01-01T00:00:00Z");
    ASSERT_MEM_EQ(dl->data, dl->data_len, "{\"a\":1}", 7);
    ASSERT(sl_event_get(ev, "knativeerrordest") == NULL);
    ASSERT_EQ(ev->nattrs + 3, dl->nattrs);
    ASSERT_OK(sl_event_validate(dl, NULL));
    errordata(dl, &b);
    ASSERT_MEM_EQ(b.data, b.len, "overloaded", 10);
    sl_buf_fini(&b);
    sl_event_unref(dl);
    sl_event_unref(ev);
}

TEST(dead_letter_body_cut_at_1024)
{
    struct sl_event *ev = event(), *dl;
    static char body[3000];
    size_t sizes[] = { 0, 1, 767, 768, 1023, 1024, 1025, 3000 };
    size_t i, j;
    struct sl_buf b;

    for (j = 0; j < sizeof(body); j++)
        body[j] = (char)('a' + j % 26);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t want = sizes[i] < 1024 ? sizes[i] : 1024;
        ASSERT_OK(sl_retry_dead_letter(
            ev, "http://s/", 500, sizes[i] ? body : NULL, sizes[i], &dl, NULL));
        ASSERT_EQ(strlen(sl_event_value(dl, "knativeerrordata")),
                  sl_base64_encoded_len(want));
        errordata(dl, &b);
        ASSERT_MEM_EQ(b.data, b.len, body, want);
        sl_buf_fini(&b);
        sl_event_unref(dl);
    }
    /* 1024 bytes encode to 1368 characters. */
    ASSERT_EQ(sl_base64_encoded_len(1024), 1368);
    sl_event_unref(ev);
}

TEST(dead_letter_no_response)
{
    struct sl_event *ev = event(), *dl, *dl2;

    /* A status from an earlier dead-lettering must not survive. */
    ASSERT_OK(sl_event_set_int(ev, "knativeerrorcode", 404, NULL));
    ASSERT_OK(sl_retry_dead_letter(ev, "http://gone/", 0, NULL, 0, &dl, NULL));
    ASSERT(sl_event_get(dl, "knativeerrorcode") == NULL);
    ASSERT_STR_EQ(sl_event_value(dl, "knativeerrordest"), "http://gone/");
    ASSERT_STR_EQ(sl_event_value(dl, "knativeerrordata"), "");
    /* Dead-lettered again: values replaced, not duplicated. */
    ASSERT_OK(sl_retry_dead_letter(dl, "http://dls2/", 0, "connection refused",
                                   18, &dl2, NULL));
    ASSERT_STR_EQ(sl_event_value(dl2, "knativeerrordest"), "http://dls2/");
    ASSERT_STR_EQ(sl_event_value(dl2, "knativeerrordata"),
                  "Y29ubmVjdGlvbiByZWZ1c2Vk");
    ASSERT_EQ(dl2->nattrs, dl->nattrs);
    sl_event_unref(dl2);
    sl_event_unref(dl);
    sl_event_unref(ev);
}

TEST(dead_letter_invalid_dest)
{
    struct sl_event *ev = event(), *dl = (struct sl_event *)&dl;
    struct sl_diag d;

    sl_diag_clear(&d);
    ASSERT_EQ(sl_retry_dead_letter(ev, "http://\xff/", 500, "x", 1, &dl, &d),
              SL_EINVAL);
    ASSERT(dl == NULL);
    ASSERT_STR_EQ(d.field, "knativeerrordest");
    sl_event_unref(ev);
}

TEST_MAIN()
