/*
 * core/metrics_kn.c - Knative Eventing's metric families and the caches
 * of series handles that record into them (core/metrics_kn.h).
 *
 * Ingress: one map per recorder from the label values that vary
 * (namespace, broker, event type, scheme, code; length-prefixed into one
 * key) to the counter and histogram handles. A cached handle whose series
 * was removed (its Broker deleted) is dropped and looked up again; dead
 * entries of Brokers that receive nothing more are swept whenever the map
 * has doubled since the last sweep. Folded label sets are not cached, so
 * the map stays within the families' caps.
 *
 * Trigger and source: a short list per handle, searched linearly (a
 * Trigger sees a handful of status codes; a source a handful of event
 * types); their series live as long as their object, whose deletion
 * removes them, so no dead check is needed.
 */
#include "core/metrics_kn.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/map.h"
#include "core/metrics.h"

#define KN_ANY       "any"
#define KN_MIN_SWEEP 64

static const double kn_buckets[] = { 1,   2,   5,    10,   20,   50,   100,
                                     200, 500, 1000, 2000, 5000, 10000 };
#define KN_NBUCKETS (sizeof(kn_buckets) / sizeof(kn_buckets[0]))

static const char *const kn_ingress_labels[] = {
    "namespace_name", "broker_name",         "event_type",  "event_scheme",
    "response_code",  "response_code_class", "unique_name", "container_name",
};
#define KN_INGRESS_NLABELS 8
#define KN_INGRESS_FOLD    2 /* event_type */

static const char *const kn_filter_labels[] = {
    "namespace_name",      "broker_name",         "trigger_name",
    "filter_type",         "filter_request_type", "event_scheme",
    "unique_name",         "container_name",      "response_code",
    "response_code_class",
};
#define KN_FILTER_NLABELS     10
/* The processing family: the same minus the response labels (last two). */
#define KN_PROCESSING_NLABELS 8

static const char *const kn_source_labels[] = {
    "namespace_name", "event_source",
    "event_type",     "event_scheme",
    "name",           "resource_group",
    "response_code",  "response_code_class",
    "response_error", "response_timeout",
};
#define KN_SOURCE_NLABELS 10
#define KN_SOURCE_FOLD    2 /* event_type */

static const char *const kn_request_types[] = { "filter", "dls_forward" };

/* ---- shared bits ---- */

static pthread_once_t kn_host_once = PTHREAD_ONCE_INIT;
static char kn_host[256];

static void kn_host_init(void)
{
    if (gethostname(kn_host, sizeof(kn_host) - 1) != 0 || kn_host[0] == '\0')
        snprintf(kn_host, sizeof(kn_host), "sluice");
    kn_host[sizeof(kn_host) - 1] = '\0';
}

/* unique_name: the host name (Knative: the pod's name plus a UUID). */
static const char *kn_unique_name(void)
{
    pthread_once(&kn_host_once, kn_host_init);
    return kn_host;
}

static const char *kn_scheme(const char *url)
{
    return url != NULL && strncasecmp(url, "https:", 6) == 0 ? "https" : "http";
}

/* "202" and "2xx" for 'code' (Knative's ResponseCodeClass). */
static void kn_code(int code, char num[16], char cls[16])
{
    snprintf(num, 16, "%d", code);
    snprintf(cls, 16, "%dxx", code / 100);
}

static struct sl_metrics_family *kn_family(struct sl_metrics *m,
                                           const char *name, const char *help,
                                           enum sl_metrics_type type,
                                           const char *const *labels,
                                           size_t nlabels, int fold)
{
    struct sl_metrics_family_def def = {
        .name = name,
        .help = help,
        .type = type,
        .labels = labels,
        .nlabels = nlabels,
        .bounds = type == SL_METRICS_HISTOGRAM ? kn_buckets : NULL,
        .nbounds = type == SL_METRICS_HISTOGRAM ? KN_NBUCKETS : 0,
        .fold_label = fold,
    };

    return sl_metrics_family(m, &def);
}

static struct sl_metrics_family *kn_ingress_count(struct sl_metrics *m)
{
    return kn_family(m, SL_METRICS_INGRESS_COUNT,
                     "Number of events received by a Broker",
                     SL_METRICS_COUNTER, kn_ingress_labels, KN_INGRESS_NLABELS,
                     KN_INGRESS_FOLD);
}

static struct sl_metrics_family *kn_ingress_latency(struct sl_metrics *m)
{
    return kn_family(m, SL_METRICS_INGRESS_LATENCY,
                     "The time spent dispatching an event to a Channel",
                     SL_METRICS_HISTOGRAM, kn_ingress_labels,
                     KN_INGRESS_NLABELS, KN_INGRESS_FOLD);
}

static struct sl_metrics_family *kn_filter_count(struct sl_metrics *m)
{
    return kn_family(
        m, SL_METRICS_FILTER_COUNT, "Number of events received by a Trigger",
        SL_METRICS_COUNTER, kn_filter_labels, KN_FILTER_NLABELS, -1);
}

static struct sl_metrics_family *kn_filter_latency(struct sl_metrics *m)
{
    return kn_family(m, SL_METRICS_FILTER_LATENCY,
                     "The time spent dispatching an event to a Trigger "
                     "subscriber",
                     SL_METRICS_HISTOGRAM, kn_filter_labels, KN_FILTER_NLABELS,
                     -1);
}

static struct sl_metrics_family *kn_filter_processing(struct sl_metrics *m)
{
    return kn_family(m, SL_METRICS_FILTER_PROCESSING,
                     "The time spent processing an event before it is "
                     "dispatched to a Trigger subscriber",
                     SL_METRICS_HISTOGRAM, kn_filter_labels,
                     KN_PROCESSING_NLABELS, -1);
}

static void kn_source_families(struct sl_metrics *m, const char *component,
                               struct sl_metrics_family **ev,
                               struct sl_metrics_family **retry)
{
    char name[256];

    snprintf(name, sizeof(name), "%s_event_count", component);
    *ev = kn_family(m, name, "Number of events sent", SL_METRICS_COUNTER,
                    kn_source_labels, KN_SOURCE_NLABELS, KN_SOURCE_FOLD);
    snprintf(name, sizeof(name), "%s_retry_event_count", component);
    *retry =
        kn_family(m, name, "Number of retry events sent", SL_METRICS_COUNTER,
                  kn_source_labels, KN_SOURCE_NLABELS, KN_SOURCE_FOLD);
}

void sl_metrics_kn_register(struct sl_metrics *m)
{
    struct sl_metrics_family *a, *b;

    if (m == NULL)
        return;
    (void)kn_ingress_count(m);
    (void)kn_ingress_latency(m);
    (void)kn_filter_count(m);
    (void)kn_filter_latency(m);
    (void)kn_filter_processing(m);
    kn_source_families(m, SL_METRICS_PINGSOURCE, &a, &b);
}

/* ---- ingress ---- */

struct kn_ientry {
    struct sl_metrics_series *count, *latency;
    size_t klen;
    char key[]; /* the map's key, for the last-hit check */
};

struct sl_metrics_ingress {
    struct sl_metrics_family *fcount, *flatency;
    struct sl_map cache;    /* key -> struct kn_ientry * */
    struct kn_ientry *last; /* the entry used last (events come in runs) */
    size_t sweep_at;
};

#define KN_KEY_MAX 512

/*
 * Append "<len>:<s>" to key[*n..KN_KEY_MAX); false when it does not fit.
 * (Length prefixes keep keys unambiguous whatever the values hold.)
 */
static bool kn_key_add(char *key, size_t *n, const char *s)
{
    size_t len = strlen(s), d = 0;
    char digits[20];

    do {
        digits[d++] = (char)('0' + len % 10);
        len /= 10;
    } while (len > 0);
    len = strlen(s);
    if (*n + d + 1 + len >= KN_KEY_MAX)
        return false;
    while (d > 0)
        key[(*n)++] = digits[--d];
    key[(*n)++] = ':';
    memcpy(key + *n, s, len);
    *n += len;
    return true;
}

static void kn_ientry_free(void *v)
{
    struct kn_ientry *e = v;

    sl_metrics_series_release(e->count);
    sl_metrics_series_release(e->latency);
    sl_free(e);
}

struct sl_metrics_ingress *sl_metrics_ingress_new(struct sl_metrics *m)
{
    struct sl_metrics_ingress *mi;

    if (m == NULL)
        return NULL;
    mi = sl_xcalloc(1, sizeof(*mi));
    mi->fcount = kn_ingress_count(m);
    mi->flatency = kn_ingress_latency(m);
    sl_map_init(&mi->cache, kn_ientry_free);
    mi->sweep_at = KN_MIN_SWEEP;
    return mi;
}

void sl_metrics_ingress_free(struct sl_metrics_ingress *mi)
{
    if (mi == NULL)
        return;
    sl_map_fini(&mi->cache);
    sl_free(mi);
}

/* Drop the entries whose series were removed (their Broker is gone). */
static void kn_ingress_sweep(struct sl_metrics_ingress *mi)
{
    size_t it = 0, n = 0, i;
    const char *k;
    void *v;
    char **dead = sl_xcalloc(sl_map_len(&mi->cache) + 1, sizeof(char *));

    while (sl_map_next(&mi->cache, &it, &k, &v)) {
        struct kn_ientry *e = v;

        if (sl_metrics_series_dead(e->count) ||
            sl_metrics_series_dead(e->latency))
            dead[n++] = sl_xstrdup(k);
    }
    mi->last = NULL;
    for (i = 0; i < n; i++) {
        (void)sl_map_del(&mi->cache, dead[i], NULL);
        sl_free(dead[i]);
    }
    sl_free(dead);
    mi->sweep_at = 2 * sl_map_len(&mi->cache);
    if (mi->sweep_at < KN_MIN_SWEEP)
        mi->sweep_at = KN_MIN_SWEEP;
}

static void kn_ingress_observe(struct kn_ientry *e, int64_t latency_ns)
{
    sl_metrics_inc(e->count);
    sl_metrics_observe(e->latency, (double)latency_ns / 1e6);
}

void sl_metrics_ingress_record(struct sl_metrics_ingress *mi, const char *ns,
                               const char *broker, const char *event_type,
                               const char *scheme, unsigned code,
                               int64_t latency_ns)
{
    char key[KN_KEY_MAX], num[16], cls[16];
    const char *values[KN_INGRESS_NLABELS];
    struct kn_ientry *e = NULL, tmp;
    bool f1 = false, f2 = false, fits;
    size_t n = 0;

    if (mi == NULL)
        return;
    ns = ns ? ns : "";
    broker = broker ? broker : "";
    event_type = event_type ? event_type : "";
    scheme = scheme ? scheme : "http";
    {
        /* The status as text, without printf on the hot path. */
        char rev[16];
        size_t d = 0, k = 0;
        unsigned c = code;

        do {
            rev[d++] = (char)('0' + c % 10);
            c /= 10;
        } while (c > 0);
        while (d > 0)
            num[k++] = rev[--d];
        num[k] = '\0';
    }
    fits = kn_key_add(key, &n, ns) && kn_key_add(key, &n, broker) &&
           kn_key_add(key, &n, event_type) && kn_key_add(key, &n, scheme) &&
           kn_key_add(key, &n, num);
    if (fits) {
        key[n] = '\0';
        if (mi->last != NULL && mi->last->klen == n &&
            memcmp(mi->last->key, key, n) == 0)
            e = mi->last;
        else
            e = sl_map_get(&mi->cache, key);
    }
    if (e != NULL && (sl_metrics_series_dead(e->count) ||
                      sl_metrics_series_dead(e->latency))) {
        mi->last = NULL;
        (void)sl_map_del(&mi->cache, key, NULL);
        e = NULL;
    }
    if (e != NULL) {
        mi->last = e;
        kn_ingress_observe(e, latency_ns);
        return;
    }
    kn_code((int)code, num, cls);
    values[0] = ns;
    values[1] = broker;
    values[2] = event_type;
    values[3] = scheme;
    values[4] = num;
    values[5] = cls;
    values[6] = kn_unique_name();
    values[7] = "ingress";
    tmp.count = sl_metrics_series_get(mi->fcount, values, &f1);
    tmp.latency = sl_metrics_series_get(mi->flatency, values, &f2);
    kn_ingress_observe(&tmp, latency_ns);
    if (f1 || f2 || !fits) {
        /* Folded or a key too long to cache: looked up every time. */
        sl_metrics_series_release(tmp.count);
        sl_metrics_series_release(tmp.latency);
        return;
    }
    if (sl_map_len(&mi->cache) >= mi->sweep_at)
        kn_ingress_sweep(mi);
    e = sl_xmalloc(sizeof(*e) + n + 1);
    e->count = tmp.count;
    e->latency = tmp.latency;
    e->klen = n;
    memcpy(e->key, key, n + 1);
    (void)sl_map_put(&mi->cache, key, e, NULL);
    mi->last = e;
}

/* ---- trigger ---- */

struct kn_tentry {
    enum sl_metrics_request req;
    bool tls;
    int code;
    struct sl_metrics_series *count;   /* NULL until counted */
    struct sl_metrics_series *latency; /* NULL until observed */
};

struct sl_metrics_trigger {
    struct sl_metrics_family *fcount, *flatency, *fprocessing;
    char *ns, *broker, *trigger, *filter_type;
    struct kn_tentry *v;
    size_t n, cap;
    struct sl_metrics_series *processing[2]; /* by tls */
};

struct sl_metrics_trigger *
sl_metrics_trigger_new(struct sl_metrics *m, const char *ns, const char *broker,
                       const char *trigger, const char *filter_type)
{
    struct sl_metrics_trigger *mt;

    if (m == NULL)
        return NULL;
    mt = sl_xcalloc(1, sizeof(*mt));
    mt->fcount = kn_filter_count(m);
    mt->flatency = kn_filter_latency(m);
    mt->fprocessing = kn_filter_processing(m);
    mt->ns = sl_xstrdup(ns ? ns : "");
    mt->broker = sl_xstrdup(broker ? broker : "");
    mt->trigger = sl_xstrdup(trigger ? trigger : "");
    mt->filter_type = sl_xstrdup(
        filter_type != NULL && filter_type[0] != '\0' ? filter_type : KN_ANY);
    return mt;
}

void sl_metrics_trigger_free(struct sl_metrics_trigger *mt)
{
    size_t i;

    if (mt == NULL)
        return;
    for (i = 0; i < mt->n; i++) {
        sl_metrics_series_release(mt->v[i].count);
        sl_metrics_series_release(mt->v[i].latency);
    }
    sl_metrics_series_release(mt->processing[0]);
    sl_metrics_series_release(mt->processing[1]);
    sl_free(mt->v);
    sl_free(mt->ns);
    sl_free(mt->broker);
    sl_free(mt->trigger);
    sl_free(mt->filter_type);
    sl_free(mt);
}

/* The trigger's label values for 'req' over 'tls', and 'code' (< 0: the
 * processing family, without response labels). */
static void kn_trigger_values(const struct sl_metrics_trigger *mt,
                              enum sl_metrics_request req, bool tls, int code,
                              const char *values[KN_FILTER_NLABELS],
                              char num[16], char cls[16])
{
    values[0] = mt->ns;
    values[1] = mt->broker;
    values[2] = mt->trigger;
    /* Knative fills filter_type on the subscriber path only. */
    values[3] = req == SL_METRICS_REQ_FILTER ? mt->filter_type : KN_ANY;
    values[4] = kn_request_types[req];
    values[5] = tls ? "https" : "http";
    values[6] = kn_unique_name();
    values[7] = "filter";
    if (code >= 0) {
        kn_code(code, num, cls);
        values[8] = num;
        values[9] = cls;
    }
}

static struct kn_tentry *kn_trigger_entry(struct sl_metrics_trigger *mt,
                                          enum sl_metrics_request req, bool tls,
                                          int code)
{
    struct kn_tentry *e;
    size_t i;

    for (i = 0; i < mt->n; i++) {
        e = &mt->v[i];
        if (e->req == req && e->tls == tls && e->code == code)
            return e;
    }
    if (mt->n == mt->cap) {
        mt->cap = mt->cap ? mt->cap * 2 : 4;
        mt->v = sl_xrealloc(mt->v, mt->cap * sizeof(*mt->v));
    }
    e = &mt->v[mt->n++];
    memset(e, 0, sizeof(*e));
    e->req = req;
    e->tls = tls;
    e->code = code;
    return e;
}

void sl_metrics_trigger_count(struct sl_metrics_trigger *mt,
                              enum sl_metrics_request req, const char *url,
                              int code)
{
    const char *values[KN_FILTER_NLABELS];
    char num[16], cls[16];
    struct kn_tentry *e;
    bool tls;

    if (mt == NULL)
        return;
    tls = strcmp(kn_scheme(url), "https") == 0;
    e = kn_trigger_entry(mt, req, tls, code);
    if (e->count == NULL) {
        kn_trigger_values(mt, req, tls, code, values, num, cls);
        e->count = sl_metrics_series_get(mt->fcount, values, NULL);
    }
    sl_metrics_inc(e->count);
}

void sl_metrics_trigger_latency(struct sl_metrics_trigger *mt,
                                enum sl_metrics_request req, const char *url,
                                int status, int64_t latency_ns)
{
    const char *values[KN_FILTER_NLABELS];
    char num[16], cls[16];
    struct kn_tentry *e;
    bool tls;

    if (mt == NULL)
        return;
    tls = strcmp(kn_scheme(url), "https") == 0;
    e = kn_trigger_entry(mt, req, tls, status);
    if (e->latency == NULL) {
        kn_trigger_values(mt, req, tls, status, values, num, cls);
        e->latency = sl_metrics_series_get(mt->flatency, values, NULL);
    }
    sl_metrics_observe(e->latency, (double)latency_ns / 1e6);
}

void sl_metrics_trigger_processing(struct sl_metrics_trigger *mt,
                                   const char *url, int64_t latency_ns)
{
    const char *values[KN_FILTER_NLABELS];
    char num[16], cls[16];
    int tls;

    if (mt == NULL)
        return;
    tls = strcmp(kn_scheme(url), "https") == 0;
    if (mt->processing[tls] == NULL) {
        kn_trigger_values(mt, SL_METRICS_REQ_FILTER, tls, -1, values, num, cls);
        mt->processing[tls] =
            sl_metrics_series_get(mt->fprocessing, values, NULL);
    }
    sl_metrics_observe(mt->processing[tls], (double)latency_ns / 1e6);
}

/* ---- sources ---- */

struct kn_sentry {
    bool retry;
    struct sl_metrics_series *s;
    char *values[KN_SOURCE_NLABELS];
};

struct sl_metrics_source {
    struct sl_metrics_family *fevent, *fretry;
    char *ns, *name, *group;
    struct kn_sentry *v;
    size_t n, cap;
};

struct sl_metrics_source *sl_metrics_source_new(struct sl_metrics *m,
                                                const char *component,
                                                const char *ns,
                                                const char *name,
                                                const char *resource_group)
{
    struct sl_metrics_source *ms;

    if (m == NULL)
        return NULL;
    ms = sl_xcalloc(1, sizeof(*ms));
    kn_source_families(m, component ? component : SL_METRICS_PINGSOURCE,
                       &ms->fevent, &ms->fretry);
    ms->ns = sl_xstrdup(ns ? ns : "");
    ms->name = sl_xstrdup(name ? name : "");
    ms->group = sl_xstrdup(resource_group ? resource_group : "");
    return ms;
}

static void kn_sentry_fini(struct kn_sentry *e)
{
    size_t i;

    sl_metrics_series_release(e->s);
    for (i = 0; i < KN_SOURCE_NLABELS; i++)
        sl_free(e->values[i]);
}

void sl_metrics_source_free(struct sl_metrics_source *ms)
{
    size_t i;

    if (ms == NULL)
        return;
    for (i = 0; i < ms->n; i++)
        kn_sentry_fini(&ms->v[i]);
    sl_free(ms->v);
    sl_free(ms->ns);
    sl_free(ms->name);
    sl_free(ms->group);
    sl_free(ms);
}

static void kn_source_record(struct sl_metrics_source *ms, bool retry,
                             const struct sl_metrics_send *r)
{
    const char *values[KN_SOURCE_NLABELS];
    char num[16] = "", cls[16] = "";
    bool err = r->error != NULL && r->error[0] != '\0', folded = false;
    struct sl_metrics_series *s;
    struct kn_sentry *e;
    size_t i, j;

    if (r->code > 0)
        kn_code(r->code, num, cls);
    values[0] = ms->ns;
    values[1] = r->event_source ? r->event_source : "";
    values[2] = r->event_type ? r->event_type : "";
    values[3] = kn_scheme(r->sink_url);
    values[4] = ms->name;
    values[5] = ms->group;
    values[6] = num;
    values[7] = cls;
    values[8] = err ? r->error : "";
    values[9] = err ? (r->timeout ? "true" : "false") : "";
    for (i = 0; i < ms->n; i++) {
        e = &ms->v[i];
        if (e->retry != retry)
            continue;
        for (j = 0; j < KN_SOURCE_NLABELS; j++)
            if (strcmp(e->values[j], values[j]) != 0)
                break;
        if (j == KN_SOURCE_NLABELS) {
            sl_metrics_inc(e->s);
            return;
        }
    }
    s = sl_metrics_series_get(retry ? ms->fretry : ms->fevent, values, &folded);
    sl_metrics_inc(s);
    if (folded) {
        sl_metrics_series_release(s);
        return;
    }
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? ms->cap * 2 : 4;
        ms->v = sl_xrealloc(ms->v, ms->cap * sizeof(*ms->v));
    }
    e = &ms->v[ms->n++];
    e->retry = retry;
    e->s = s;
    for (j = 0; j < KN_SOURCE_NLABELS; j++)
        e->values[j] = sl_xstrdup(values[j]);
}

void sl_metrics_source_event(struct sl_metrics_source *ms,
                             const struct sl_metrics_send *r)
{
    if (ms != NULL && r != NULL)
        kn_source_record(ms, false, r);
}

void sl_metrics_source_retry(struct sl_metrics_source *ms,
                             const struct sl_metrics_send *r)
{
    if (ms != NULL && r != NULL)
        kn_source_record(ms, true, r);
}

/* ---- removal ---- */

void sl_metrics_forget_broker(struct sl_metrics *m, const char *ns,
                              const char *broker)
{
    const char *match[] = { "namespace_name", ns, "broker_name", broker };

    if (m != NULL)
        (void)sl_metrics_remove(m, match, 2);
}

void sl_metrics_forget_trigger(struct sl_metrics *m, const char *ns,
                               const char *trigger)
{
    const char *match[] = { "namespace_name", ns, "trigger_name", trigger };

    if (m != NULL)
        (void)sl_metrics_remove(m, match, 2);
}

void sl_metrics_forget_source(struct sl_metrics *m, const char *ns,
                              const char *name, const char *resource_group)
{
    const char *match[] = { "namespace_name", ns,
                            "name",           name,
                            "resource_group", resource_group };

    if (m != NULL)
        (void)sl_metrics_remove(m, match, 3);
}
