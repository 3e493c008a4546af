/*
 * test/unit/metrics_test.c - core/metrics and core/metrics_kn: the text
 * exposition (help, type, labels, escaping, histograms), the cardinality
 * cap, removal and dead handles, increments from several threads, the
 * process metrics, and the Knative families with their caches.
 */
#include "test/unit/check.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/metrics.h"
#include "core/metrics_kn.h"

/* ---- helpers ---- */

static char *scrape(struct sl_metrics *m)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_metrics_write(m, &b));
    return sl_buf_steal(&b, NULL);
}

/* The value of the sample line that starts with 'series' + ' ', or -1. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    const char *p = text;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static int count_lines(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *p = text;
    int c = 0;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, prefix, n) == 0)
            c++;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return c;
}

static const char *const two_labels[] = { "broker", "code" };

static struct sl_metrics_family *counter(struct sl_metrics *m, const char *name,
                                         int fold, size_t max)
{
    struct sl_metrics_family_def def = {
        .name = name,
        .help = "Requests.",
        .type = SL_METRICS_COUNTER,
        .labels = two_labels,
        .nlabels = 2,
        .fold_label = fold,
        .max_series = max,
    };

    return sl_metrics_family(m, &def);
}

/* ---- the generic registry ---- */

TEST(counter_exposition)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family *f = counter(m, "requests", -1, 0);
    struct sl_metrics_family_def plain = {
        .name = "plain_total",
        .help = "No labels.",
        .type = SL_METRICS_COUNTER,
        .fold_label = -1,
    };
    struct sl_metrics_family *g = sl_metrics_family(m, &plain);
    const char *v1[] = { "b", "202" }, *v2[] = { "b", "404" };
    struct sl_metrics_series *a = sl_metrics_series_get(f, v1, NULL);
    struct sl_metrics_series *b = sl_metrics_series_get(f, v2, NULL);
    struct sl_metrics_series *a2 = sl_metrics_series_get(f, v1, NULL);
    struct sl_metrics_series *p = sl_metrics_series_get(g, NULL, NULL);
    char *out;

    ASSERT(a == a2);
    ASSERT(a != b);
    /* Registering again gives the same family. */
    ASSERT(counter(m, "requests", -1, 0) == f);
    sl_metrics_inc(a);
    sl_metrics_inc(a2);
    sl_metrics_add(b, 40);
    sl_metrics_add(p, 7);
    ASSERT_EQ(sl_metrics_series_count(a), 2);
    out = scrape(m);
    ASSERT_STR_EQ(out, "# HELP requests Requests.\n"
                       "# TYPE requests counter\n"
                       "requests{broker=\"b\",code=\"202\"} 2\n"
                       "requests{broker=\"b\",code=\"404\"} 40\n"
                       "# HELP plain_total No labels.\n"
                       "# TYPE plain_total counter\n"
                       "plain_total 7\n");
    sl_free(out);
    sl_metrics_series_release(a);
    sl_metrics_series_release(a2);
    sl_metrics_series_release(b);
    sl_metrics_series_release(p);
    /* Released series stay in the registry and in scrapes. */
    out = scrape(m);
    ASSERT(sample(out, "requests{broker=\"b\",code=\"202\"}") == 2);
    sl_free(out);
    sl_metrics_free(m);
}

TEST(empty_family_names_its_labels)
{
    struct sl_metrics *m = sl_metrics_new();
    char *out;

    (void)counter(m, "nothing_yet", -1, 0);
    out = scrape(m);
    ASSERT_STR_EQ(out, "# HELP nothing_yet Requests.\n"
                       "# TYPE nothing_yet counter\n"
                       "# sluice: no series yet; labels: broker,code\n");
    sl_free(out);
    sl_metrics_free(m);
}

TEST(escaping)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family_def def = {
        .name = "esc",
        .help = "back\\slash and\nnewline \"quoted\"",
        .type = SL_METRICS_COUNTER,
        .labels = two_labels,
        .nlabels = 2,
        .fold_label = -1,
    };
    struct sl_metrics_family *f = sl_metrics_family(m, &def);
    const char *v[] = { "a\\b\"c\nd", "bad\xff\xfe-utf8" };
    const char *again[] = { "a\\b\"c\nd", "bad\xef\xbf\xbd\xef\xbf\xbd-utf8" };
    struct sl_metrics_series *s = sl_metrics_series_get(f, v, NULL);
    struct sl_metrics_series *s2;
    char *out;

    sl_metrics_inc(s);
    /* The sanitised spelling is the same series; so is the raw one. */
    s2 = sl_metrics_series_get(f, again, NULL);
    ASSERT(s2 == s);
    sl_metrics_series_release(s2);
    s2 = sl_metrics_series_get(f, v, NULL);
    ASSERT(s2 == s);
    sl_metrics_series_release(s2);
    ASSERT_EQ(sl_metrics_family_series(f), 1);
    out = scrape(m);
    ASSERT_STR_EQ(out, "# HELP esc back\\\\slash and\\nnewline \"quoted\"\n"
                       "# TYPE esc counter\n"
                       "esc{broker=\"a\\\\b\\\"c\\nd\",code=\"bad\xef\xbf\xbd"
                       "\xef\xbf\xbd-utf8\"} 1\n");
    sl_free(out);
    sl_metrics_series_release(s);
    sl_metrics_free(m);
}

TEST(histogram_buckets_sum_count)
{
    static const double bounds[] = { 0.005, 1, 2.5, 10 };
    static const char *const l[] = { "op" };
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family_def def = {
        .name = "lat_ms",
        .help = "Latency.",
        .type = SL_METRICS_HISTOGRAM,
        .labels = l,
        .nlabels = 1,
        .bounds = bounds,
        .nbounds = 4,
        .fold_label = -1,
    };
    struct sl_metrics_family *f = sl_metrics_family(m, &def);
    const char *v[] = { "x" };
    struct sl_metrics_series *s = sl_metrics_series_get(f, v, NULL);
    char *out;

    sl_metrics_observe(s, 0.001); /* le 0.005 */
    sl_metrics_observe(s, 1);     /* le 1: bounds are inclusive */
    sl_metrics_observe(s, 1.5);   /* le 2.5 */
    sl_metrics_observe(s, 2.5);   /* le 2.5 */
    sl_metrics_observe(s, 20000); /* +Inf */
    sl_metrics_observe(s, NAN);   /* ignored */
    ASSERT_EQ(sl_metrics_series_count(s), 5);
    out = scrape(m);
    ASSERT_STR_EQ(out, "# HELP lat_ms Latency.\n"
                       "# TYPE lat_ms histogram\n"
                       "lat_ms_bucket{op=\"x\",le=\"0.005\"} 1\n"
                       "lat_ms_bucket{op=\"x\",le=\"1\"} 2\n"
                       "lat_ms_bucket{op=\"x\",le=\"2.5\"} 4\n"
                       "lat_ms_bucket{op=\"x\",le=\"10\"} 4\n"
                       "lat_ms_bucket{op=\"x\",le=\"+Inf\"} 5\n"
                       "lat_ms_sum{op=\"x\"} 20005.001\n"
                       "lat_ms_count{op=\"x\"} 5\n");
    sl_free(out);
    sl_metrics_series_release(s);
    sl_metrics_free(m);
}

TEST(number_format_like_go)
{
    static const double bounds[] = { 0.00001, 0.0001,  0.1,      99999.5,
                                     100000,  1000000, 123456789 };
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family_def def = {
        .name = "fmt",
        .help = "",
        .type = SL_METRICS_HISTOGRAM,
        .bounds = bounds,
        .nbounds = 7,
        .fold_label = -1,
    };
    struct sl_metrics_series *s =
        sl_metrics_series_get(sl_metrics_family(m, &def), NULL, NULL);
    char *out;

    sl_metrics_observe(s, 0.1);
    sl_metrics_observe(s, 0.2); /* sum 0.30000000000000004 */
    out = scrape(m);
    ASSERT(strstr(out, "fmt_bucket{le=\"1e-05\"} 0\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"0.0001\"} 0\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"0.1\"} 1\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"99999.5\"} 2\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"100000\"} 2\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"1e+06\"} 2\n"));
    ASSERT(strstr(out, "fmt_bucket{le=\"1.23456789e+08\"} 2\n"));
    ASSERT(strstr(out, "fmt_sum 0.30000000000000004\n"));
    ASSERT(strstr(out, "fmt_count 2\n"));
    sl_free(out);
    sl_metrics_series_release(s);
    sl_metrics_free(m);
}

TEST(cardinality_cap_folds)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family *f = counter(m, "capped", 0, 3);
    struct sl_metrics_series *s[8];
    const char *v[2];
    char name[16], *out;
    bool folded;
    int i;

    v[1] = "202";
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        v[0] = name;
        s[i] = sl_metrics_series_get(f, v, &folded);
        ASSERT(!folded);
        sl_metrics_inc(s[i]);
    }
    ASSERT_EQ(sl_metrics_family_series(f), 3);
    /* Full: new values go to "other" (created beyond the cap)... */
    v[0] = "t3";
    s[3] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    v[0] = "t4";
    s[4] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    ASSERT(s[3] == s[4]);
    sl_metrics_inc(s[3]);
    sl_metrics_inc(s[4]);
    /* ...the other labels stay: a new code folds to its own "other"... */
    v[1] = "500";
    s[5] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    ASSERT(s[5] != s[3]);
    sl_metrics_inc(s[5]);
    /* ...and series that exist are still found as themselves. */
    v[0] = "t1";
    v[1] = "202";
    s[6] = sl_metrics_series_get(f, v, &folded);
    ASSERT(!folded);
    ASSERT(s[6] == s[1]);
    ASSERT_EQ(sl_metrics_family_series(f), 5);
    ASSERT_EQ(sl_metrics_family_folds(f), 3);
    out = scrape(m);
    ASSERT(sample(out, "capped{broker=\"other\",code=\"202\"}") == 2);
    ASSERT(sample(out, "capped{broker=\"other\",code=\"500\"}") == 1);
    ASSERT(sample(out, "capped{broker=\"t3\",code=\"202\"}") == -1);
    ASSERT(sample(out, "sluice_metrics_folded_total{metric=\"capped\"}") == 3);
    ASSERT(sample(out, "sluice_metrics_series{metric=\"capped\"}") == 5);
    ASSERT(strstr(out, "# TYPE sluice_metrics_folded_total counter\n"));
    sl_free(out);
    for (i = 0; i < 7; i++)
        sl_metrics_series_release(s[i]);
    sl_metrics_free(m);
}

/* A producer's value that is too long or not printable ASCII never
 * becomes a label value: it is folded at once, cap or not. */
TEST(fold_label_values_must_be_short_printable_ascii)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family *f = counter(m, "types", 0, 1000);
    struct sl_metrics_series *s[4];
    char longv[SL_METRICS_MAX_FOLD_VALUE + 2], *out;
    const char *v[2] = { NULL, "202" };
    bool folded;

    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    v[0] = longv; /* 256 bytes */
    s[0] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    longv[SL_METRICS_MAX_FOLD_VALUE] = '\0'; /* 255 bytes: kept */
    s[1] = sl_metrics_series_get(f, v, &folded);
    ASSERT(!folded);
    v[0] = "caf\xc3\xa9";
    s[2] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    v[0] = "a\tb";
    s[3] = sl_metrics_series_get(f, v, &folded);
    ASSERT(folded);
    ASSERT(s[0] == s[2] && s[2] == s[3]);
    for (int i = 0; i < 4; i++)
        sl_metrics_inc(s[i]);
    out = scrape(m);
    ASSERT(sample(out, "types{broker=\"other\",code=\"202\"}") == 3);
    ASSERT(sample(out, "sluice_metrics_folded_total{metric=\"types\"}") == 3);
    ASSERT_EQ(sl_metrics_family_series(f), 2);
    sl_free(out);
    for (int i = 0; i < 4; i++)
        sl_metrics_series_release(s[i]);
    sl_metrics_free(m);
}

TEST(remove_and_dead_handles)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family *f = counter(m, "a", -1, 0);
    static const char *const other[] = { "code" };
    struct sl_metrics_family_def def = {
        .name = "b",
        .help = "No broker label.",
        .type = SL_METRICS_COUNTER,
        .labels = other,
        .nlabels = 1,
        .fold_label = -1,
    };
    struct sl_metrics_family *g = sl_metrics_family(m, &def);
    const char *v1[] = { "x", "1" }, *v2[] = { "y", "1" }, *v3[] = { "x", "2" };
    const char *w[] = { "x" };
    const char *match[] = { "broker", "x" };
    struct sl_metrics_series *held = sl_metrics_series_get(f, v1, NULL);
    struct sl_metrics_series *s, *fresh;
    char *out;

    s = sl_metrics_series_get(f, v2, NULL);
    sl_metrics_series_release(s);
    s = sl_metrics_series_get(f, v3, NULL);
    sl_metrics_series_release(s);
    s = sl_metrics_series_get(g, w, NULL);
    sl_metrics_series_release(s);
    sl_metrics_inc(held);
    /* Both x series go (one held, one not); y and family b stay. */
    ASSERT_EQ(sl_metrics_remove(m, match, 1), 2);
    ASSERT(sl_metrics_series_dead(held));
    sl_metrics_inc(held); /* lost, harmless */
    ASSERT_EQ(sl_metrics_family_series(f), 1);
    ASSERT_EQ(sl_metrics_family_series(g), 1);
    out = scrape(m);
    ASSERT(strstr(out, "broker=\"x\"") == NULL);
    ASSERT(strstr(out, "a{broker=\"y\",code=\"1\"} 0\n") != NULL);
    ASSERT(strstr(out, "b{code=\"x\"} 0\n") != NULL);
    sl_free(out);
    /* The same labels again: a new series from zero. */
    fresh = sl_metrics_series_get(f, v1, NULL);
    ASSERT(fresh != held);
    ASSERT(!sl_metrics_series_dead(fresh));
    ASSERT_EQ(sl_metrics_series_count(fresh), 0);
    sl_metrics_series_release(fresh);
    sl_metrics_series_release(held); /* frees the dead one */
    ASSERT_EQ(sl_metrics_remove(m, match, 1), 1);
    sl_metrics_free(m);
}

struct hammer {
    struct sl_metrics_family *c, *h;
    int id;
};

#define HAMMER_THREADS 4
#define HAMMER_N       50000

static void *hammer_run(void *arg)
{
    struct hammer *hm = arg;
    const char *shared[] = { "shared", "202" };
    char own[16];
    const char *mine[] = { own, "202" };
    struct sl_metrics_series *c, *h, *o;
    int i;

    snprintf(own, sizeof(own), "t%d", hm->id);
    c = sl_metrics_series_get(hm->c, shared, NULL);
    h = sl_metrics_series_get(hm->h, shared, NULL);
    for (i = 0; i < HAMMER_N; i++) {
        sl_metrics_inc(c);
        sl_metrics_observe(h, (double)(i % 7));
        if (i % 1000 == 0) {
            /* Lookups and releases race with the increments too. */
            o = sl_metrics_series_get(hm->c, mine, NULL);
            sl_metrics_inc(o);
            sl_metrics_series_release(o);
        }
    }
    sl_metrics_series_release(c);
    sl_metrics_series_release(h);
    return NULL;
}

TEST(concurrent_increments)
{
    static const double bounds[] = { 1, 2, 5 };
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_family_def hdef = {
        .name = "h",
        .help = "h",
        .type = SL_METRICS_HISTOGRAM,
        .labels = two_labels,
        .nlabels = 2,
        .bounds = bounds,
        .nbounds = 3,
        .fold_label = -1,
    };
    struct hammer hm[HAMMER_THREADS];
    pthread_t th[HAMMER_THREADS];
    const char *shared[] = { "shared", "202" };
    struct sl_metrics_series *c, *h;
    char *out;
    int i, scrapes = 0;

    for (i = 0; i < HAMMER_THREADS; i++) {
        hm[i].c = counter(m, "c", -1, 0);
        hm[i].h = sl_metrics_family(m, &hdef);
        hm[i].id = i;
        ASSERT_EQ(pthread_create(&th[i], NULL, hammer_run, &hm[i]), 0);
    }
    /* Scrape meanwhile: every scrape is self-consistent (+Inf = count). */
    for (scrapes = 0; scrapes < 20; scrapes++) {
        double inf, cnt;

        out = scrape(m);
        inf =
            sample(out, "h_bucket{broker=\"shared\",code=\"202\",le=\"+Inf\"}");
        cnt = sample(out, "h_count{broker=\"shared\",code=\"202\"}");
        ASSERT(inf == cnt);
        sl_free(out);
    }
    for (i = 0; i < HAMMER_THREADS; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    c = sl_metrics_series_get(hm[0].c, shared, NULL);
    h = sl_metrics_series_get(hm[0].h, shared, NULL);
    ASSERT_EQ(sl_metrics_series_count(c), HAMMER_THREADS * HAMMER_N);
    ASSERT_EQ(sl_metrics_series_count(h), HAMMER_THREADS * HAMMER_N);
    /* Sum of i % 7 over 0..N-1, per thread: exact in a double. */
    {
        double per = 0;

        for (i = 0; i < HAMMER_N; i++)
            per += i % 7;
        ASSERT(sl_metrics_series_sum(h) == per * HAMMER_THREADS);
    }
    out = scrape(m);
    for (i = 0; i < HAMMER_THREADS; i++) {
        char line[64];

        snprintf(line, sizeof(line), "c{broker=\"t%d\",code=\"202\"}", i);
        ASSERT(sample(out, line) == HAMMER_N / 1000);
    }
    sl_free(out);
    sl_metrics_series_release(c);
    sl_metrics_series_release(h);
    sl_metrics_free(m);
}

TEST(process_metrics)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_metrics_write_process(&b));
    ASSERT(sample(b.data, "process_resident_memory_bytes") > 0);
    ASSERT(sample(b.data, "process_cpu_seconds_total") >= 0);
    ASSERT(sample(b.data, "process_open_fds") >= 3);
    ASSERT(sample(b.data, "process_start_time_seconds") > 1.5e9);
    ASSERT(strstr(b.data, "# TYPE process_cpu_seconds_total counter\n"));
    sl_buf_fini(&b);
}

TEST(write_fails_when_full)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_buf b;

    (void)counter(m, "some_name", -1, 0);
    sl_buf_init(&b, 10);
    ASSERT_EQ(sl_metrics_write(m, &b), SL_ETOOBIG);
    sl_buf_fini(&b);
    sl_metrics_free(m);
}

/* ---- the Knative families ---- */

TEST(kn_null_registry_is_off)
{
    struct sl_metrics_send r = { .event_type = "t", .code = 202 };

    ASSERT(sl_metrics_ingress_new(NULL) == NULL);
    ASSERT(sl_metrics_trigger_new(NULL, "n", "b", "t", NULL) == NULL);
    ASSERT(sl_metrics_source_new(NULL, NULL, "n", "s", "g") == NULL);
    sl_metrics_ingress_record(NULL, "n", "b", "t", "http", 202, 1);
    sl_metrics_trigger_count(NULL, SL_METRICS_REQ_FILTER, "http://x", 200);
    sl_metrics_trigger_latency(NULL, SL_METRICS_REQ_FILTER, "http://x", 200, 1);
    sl_metrics_trigger_processing(NULL, "http://x", 1);
    sl_metrics_source_event(NULL, &r);
    sl_metrics_source_retry(NULL, &r);
    sl_metrics_ingress_free(NULL);
    sl_metrics_trigger_free(NULL);
    sl_metrics_source_free(NULL);
    sl_metrics_kn_register(NULL);
    sl_metrics_forget_broker(NULL, "n", "b");
    sl_metrics_forget_trigger(NULL, "n", "t");
    sl_metrics_forget_source(NULL, "n", "s", "g");
}

TEST(kn_register_declares_every_family)
{
    struct sl_metrics *m = sl_metrics_new();
    char *out;

    sl_metrics_kn_register(m);
    sl_metrics_kn_register(m);
    out = scrape(m);
    ASSERT(strstr(out, "# TYPE mt_broker_ingress_event_count counter\n"));
    ASSERT(strstr(out, "# TYPE mt_broker_ingress_event_dispatch_latencies "
                       "histogram\n"));
    ASSERT(strstr(out, "# TYPE mt_broker_filter_event_count counter\n"));
    ASSERT(strstr(out, "# TYPE mt_broker_filter_event_dispatch_latencies "
                       "histogram\n"));
    ASSERT(strstr(out, "# TYPE mt_broker_filter_event_processing_latencies "
                       "histogram\n"));
    ASSERT(strstr(out, "# TYPE pingsource_mt_adapter_event_count counter\n"));
    ASSERT(strstr(out,
                  "# TYPE pingsource_mt_adapter_retry_event_count counter\n"));
    ASSERT(strstr(out, "# sluice: no series yet; labels: namespace_name,"
                       "event_source,event_type,event_scheme,name,"
                       "resource_group,response_code,response_code_class,"
                       "response_error,response_timeout\n"));
    sl_free(out);
    sl_metrics_free(m);
}

/* The label block of an ingress series of this host. */
static void ingress_labels(char *out, size_t n, const char *ns,
                           const char *broker, const char *type,
                           const char *code)
{
    char host[256];

    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(out, n,
             "{namespace_name=\"%s\",broker_name=\"%s\",event_type=\"%s\","
             "event_scheme=\"http\",response_code=\"%s\","
             "response_code_class=\"%cxx\",unique_name=\"%s\","
             "container_name=\"ingress\"}",
             ns, broker, type, code, code[0], host);
}

TEST(kn_ingress_records_and_forgets)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_ingress *mi = sl_metrics_ingress_new(m);
    char lab[1024], line[1200], *out;
    int i;

    for (i = 0; i < 3; i++)
        sl_metrics_ingress_record(mi, "ns", "b", "t.a", "http", 202,
                                  1500000); /* 1.5 ms */
    sl_metrics_ingress_record(mi, "ns", "b", "t.b", "http", 400, 100000);
    sl_metrics_ingress_record(mi, "", "", "", "http", 404, 50000);
    sl_metrics_ingress_record(mi, "ns", "c", "t.a", "http", 202, 3000000);
    out = scrape(m);
    ingress_labels(lab, sizeof(lab), "ns", "b", "t.a", "202");
    snprintf(line, sizeof(line), "mt_broker_ingress_event_count%s", lab);
    ASSERT(sample(out, line) == 3);
    ingress_labels(lab, sizeof(lab), "ns", "b", "t.a", "202");
    /* 1.5 ms is in le=2, not in le=1. */
    lab[strlen(lab) - 1] = '\0';
    snprintf(line, sizeof(line),
             "mt_broker_ingress_event_dispatch_latencies_bucket%s,le=\"1\"}",
             lab);
    ASSERT(sample(out, line) == 0);
    snprintf(line, sizeof(line),
             "mt_broker_ingress_event_dispatch_latencies_bucket%s,le=\"2\"}",
             lab);
    ASSERT(sample(out, line) == 3);
    snprintf(line, sizeof(line),
             "mt_broker_ingress_event_dispatch_latencies_bucket%s,"
             "le=\"10000\"}",
             lab);
    ASSERT(sample(out, line) == 3);
    ingress_labels(lab, sizeof(lab), "ns", "b", "t.a", "202");
    snprintf(line, sizeof(line),
             "mt_broker_ingress_event_dispatch_latencies_sum%s", lab);
    ASSERT(sample(out, line) == 4.5);
    ingress_labels(lab, sizeof(lab), "", "", "", "404");
    snprintf(line, sizeof(line), "mt_broker_ingress_event_count%s", lab);
    ASSERT(sample(out, line) == 1);
    sl_free(out);

    /* Broker ns/b deleted: its series go, ns/c and the 404 stay. */
    sl_metrics_forget_broker(m, "ns", "b");
    out = scrape(m);
    ASSERT(strstr(out, "broker_name=\"b\"") == NULL);
    ASSERT(strstr(out, "broker_name=\"c\"") != NULL);
    ASSERT_EQ(count_lines(out, "mt_broker_ingress_event_count{"), 2);
    sl_free(out);
    /* A Broker of the same name again: the cached handles were dead, so
     * recording starts fresh series. */
    sl_metrics_ingress_record(mi, "ns", "b", "t.a", "http", 202, 1000000);
    out = scrape(m);
    ingress_labels(lab, sizeof(lab), "ns", "b", "t.a", "202");
    snprintf(line, sizeof(line), "mt_broker_ingress_event_count%s", lab);
    ASSERT(sample(out, line) == 1);
    sl_free(out);
    sl_metrics_ingress_free(mi);
    sl_metrics_free(m);
}

TEST(kn_ingress_event_type_cap)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_ingress *mi = sl_metrics_ingress_new(m);
    char type[32], lab[1024], line[1200], *out;
    int i, extra = 25;

    for (i = 0; i < SL_METRICS_DEFAULT_MAX_SERIES + extra; i++) {
        snprintf(type, sizeof(type), "type.%d", i);
        sl_metrics_ingress_record(mi, "ns", "b", type, "http", 202, 1);
        sl_metrics_ingress_record(mi, "ns", "b", type, "http", 202, 1);
    }
    out = scrape(m);
    ASSERT_EQ(count_lines(out, "mt_broker_ingress_event_count{"),
              SL_METRICS_DEFAULT_MAX_SERIES + 1);
    ingress_labels(lab, sizeof(lab), "ns", "b", "other", "202");
    snprintf(line, sizeof(line), "mt_broker_ingress_event_count%s", lab);
    ASSERT(sample(out, line) == 2 * extra);
    ASSERT(
        sample(out,
               "sluice_metrics_folded_total{metric=\"" SL_METRICS_INGRESS_COUNT
               "\"}") == 2 * extra);
    ASSERT(sample(out,
                  "sluice_metrics_series{metric=\"" SL_METRICS_INGRESS_COUNT
                  "\"}") == SL_METRICS_DEFAULT_MAX_SERIES + 1);
    sl_free(out);
    sl_metrics_ingress_free(mi);
    sl_metrics_free(m);
}

TEST(kn_ingress_sweeps_dead_entries)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_ingress *mi = sl_metrics_ingress_new(m);
    char broker[32], *out;
    int i;

    /* 100 brokers, deleted; then 200 others: the cache drops the dead
     * entries on the way (the harness checks nothing leaks). */
    for (i = 0; i < 100; i++) {
        snprintf(broker, sizeof(broker), "old%d", i);
        sl_metrics_ingress_record(mi, "ns", broker, "t", "http", 202, 1);
        sl_metrics_forget_broker(m, "ns", broker);
    }
    for (i = 0; i < 200; i++) {
        snprintf(broker, sizeof(broker), "new%d", i);
        sl_metrics_ingress_record(mi, "ns", broker, "t", "http", 202, 1);
    }
    out = scrape(m);
    ASSERT_EQ(count_lines(out, "mt_broker_ingress_event_count{"), 200);
    ASSERT(strstr(out, "broker_name=\"old") == NULL);
    sl_free(out);
    sl_metrics_ingress_free(mi);
    sl_metrics_free(m);
}

TEST(kn_trigger_families)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_trigger *mt =
        sl_metrics_trigger_new(m, "ns", "b", "t", NULL);
    struct sl_metrics_trigger *other =
        sl_metrics_trigger_new(m, "ns", "b", "u", "dev.x");
    char host[256], pre[512], line[1024], *out;

    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    sl_metrics_trigger_processing(mt, "http://sub", 3000000);
    sl_metrics_trigger_latency(mt, SL_METRICS_REQ_FILTER, "http://sub", 500,
                               4000000);
    sl_metrics_trigger_count(mt, SL_METRICS_REQ_FILTER, "http://sub", 500);
    sl_metrics_trigger_count(mt, SL_METRICS_REQ_FILTER, "http://sub", 500);
    sl_metrics_trigger_count(mt, SL_METRICS_REQ_DLS, "HTTPS://dls", 200);
    sl_metrics_trigger_count(other, SL_METRICS_REQ_FILTER, "http://sub", 202);
    out = scrape(m);
    snprintf(pre, sizeof(pre),
             "{namespace_name=\"ns\",broker_name=\"b\",trigger_name=\"t\","
             "filter_type=\"any\",filter_request_type=\"filter\","
             "event_scheme=\"http\",unique_name=\"%s\","
             "container_name=\"filter\"",
             host);
    snprintf(line, sizeof(line),
             "mt_broker_filter_event_count%s,response_code=\"500\","
             "response_code_class=\"5xx\"}",
             pre);
    ASSERT(sample(out, line) == 2);
    snprintf(line, sizeof(line),
             "mt_broker_filter_event_dispatch_latencies_count%s,"
             "response_code=\"500\",response_code_class=\"5xx\"}",
             pre);
    ASSERT(sample(out, line) == 1);
    snprintf(line, sizeof(line),
             "mt_broker_filter_event_processing_latencies_bucket%s,"
             "le=\"5\"}",
             pre);
    ASSERT(sample(out, line) == 1);
    snprintf(line, sizeof(line),
             "mt_broker_filter_event_processing_latencies_sum%s}", pre);
    ASSERT(sample(out, line) == 3);
    /* The dead-letter path: filter_type any, dls_forward, its scheme. */
    snprintf(line, sizeof(line),
             "mt_broker_filter_event_count{namespace_name=\"ns\","
             "broker_name=\"b\",trigger_name=\"t\",filter_type=\"any\","
             "filter_request_type=\"dls_forward\",event_scheme=\"https\","
             "unique_name=\"%s\",container_name=\"filter\","
             "response_code=\"200\",response_code_class=\"2xx\"}",
             host);
    ASSERT(sample(out, line) == 1);
    ASSERT(strstr(out, "trigger_name=\"u\",filter_type=\"dev.x\","
                       "filter_request_type=\"filter\"") != NULL);
    sl_free(out);
    /* Trigger t deleted: only u's series remain. */
    sl_metrics_trigger_free(mt);
    sl_metrics_forget_trigger(m, "ns", "t");
    out = scrape(m);
    ASSERT(strstr(out, "trigger_name=\"t\"") == NULL);
    ASSERT(strstr(out, "trigger_name=\"u\"") != NULL);
    sl_free(out);
    /* The broker deleted: u's go too (filter series carry broker_name). */
    sl_metrics_trigger_free(other);
    sl_metrics_forget_broker(m, "ns", "b");
    out = scrape(m);
    ASSERT(strstr(out, "trigger_name=") == NULL);
    sl_free(out);
    sl_metrics_free(m);
}

TEST(kn_source_families)
{
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_source *ms = sl_metrics_source_new(
        m, SL_METRICS_PINGSOURCE, "ns", "ping", SL_METRICS_PINGSOURCE_GROUP);
    struct sl_metrics_send r = {
        .event_source = "/apis/v1/namespaces/ns/pingsources/ping",
        .event_type = "dev.knative.sources.ping",
        .sink_url = "http://127.0.0.1:1/",
    };
    const char *pre = "{namespace_name=\"ns\","
                      "event_source=\"/apis/v1/namespaces/ns/pingsources/"
                      "ping\",event_type=\"dev.knative.sources.ping\","
                      "event_scheme=\"http\",name=\"ping\","
                      "resource_group=\"pingsources.sources.knative.dev\",";
    char line[1024], *out;

    r.code = 503;
    sl_metrics_source_retry(ms, &r);
    sl_metrics_source_retry(ms, &r);
    r.code = 202;
    sl_metrics_source_event(ms, &r);
    r.code = 0;
    r.error = "connection refused";
    sl_metrics_source_event(ms, &r);
    r.error = "timed out";
    r.timeout = true;
    sl_metrics_source_event(ms, &r);
    sl_metrics_source_event(ms, &r);
    out = scrape(m);
    snprintf(line, sizeof(line),
             "pingsource_mt_adapter_retry_event_count%sresponse_code=\"503\","
             "response_code_class=\"5xx\",response_error=\"\","
             "response_timeout=\"\"}",
             pre);
    ASSERT(sample(out, line) == 2);
    snprintf(line, sizeof(line),
             "pingsource_mt_adapter_event_count%sresponse_code=\"202\","
             "response_code_class=\"2xx\",response_error=\"\","
             "response_timeout=\"\"}",
             pre);
    ASSERT(sample(out, line) == 1);
    snprintf(line, sizeof(line),
             "pingsource_mt_adapter_event_count%sresponse_code=\"\","
             "response_code_class=\"\",response_error=\"connection "
             "refused\",response_timeout=\"false\"}",
             pre);
    ASSERT(sample(out, line) == 1);
    snprintf(line, sizeof(line),
             "pingsource_mt_adapter_event_count%sresponse_code=\"\","
             "response_code_class=\"\",response_error=\"timed out\","
             "response_timeout=\"true\"}",
             pre);
    ASSERT(sample(out, line) == 2);
    sl_free(out);
    sl_metrics_source_free(ms);
    sl_metrics_forget_source(m, "ns", "ping", SL_METRICS_PINGSOURCE_GROUP);
    out = scrape(m);
    ASSERT(strstr(out, "name=\"ping\"") == NULL);
    ASSERT(strstr(out, "# TYPE pingsource_mt_adapter_event_count counter\n"));
    sl_free(out);
    sl_metrics_free(m);
}

TEST_MAIN()
