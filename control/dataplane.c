/*
 * control/dataplane.c - brokers' logs and triggers' dispatchers, kept in
 * line with what the reconcilers sync (control/dataplane.h).
 *
 * A broker entry lives from its first sync to the end of the close that
 * follows its removal. Its log goes
 *   (none) -create+open-> OPENING -ok-> OPEN
 *                                 \-error-> FAILED (retry timer)
 *   OPEN/FAILED -changed input, retry due, removal-> CLOSING -> (none)
 * and every trigger on it is torn down before its log closes (a
 * dispatcher must not outlive the subscription's log, nor a delivery the
 * log its replies go to). A trigger entry holds its compiled filter,
 * policy, delivery and dispatcher, rebuilt whenever the fingerprint of
 * its inputs changes.
 */
#include "control/dataplane.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/backend.h"
#include "broker/kafka/kafka.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/metrics_kn.h"
#include "core/time.h"
#include "proto/event.h"
#include "resource/schema.h"
#include "sinks/delivery.h"
#include "sinks/http_sender.h"
#include "sinks/retry.h"
#include "triggers/dispatch.h"
#include "triggers/filter.h"

#define DP_DEFAULT_CLASS      "Embedded"
#define DP_MT_CLASS           "MTChannelBasedBroker"
#define DP_RETRY_MIN_MS       100
#define DP_RETRY_MAX_MS       30000
#define DP_DEFAULT_RETENTION  (7LL * 24 * 3600 * 1000)
#define DP_DEFAULT_RET_PERIOD 60000

enum dp_bstate {
    B_NONE = 0, /* no log (new, or closed for a rebuild) */
    B_OPENING,
    B_OPEN,
    B_FAILED, /* open failed or init refused; retry at retry_at */
    B_CLOSING,
    B_UNSUPPORTED, /* no backend for the class */
};

struct dp_broker {
    struct sl_dataplane *dp;
    char *ns, *name, *key;
    char *fp;  /* class + config the log was made with */
    char *cls; /* the class it runs as (default applied) */
    struct sl_backend *b;
    enum dp_bstate st;
    char reason[64];
    char msg[SL_DIAG_MSG_MAX];
    int64_t retry_at;   /* B_FAILED: monotonic ms */
    int64_t backoff_ms; /* next failure's wait */
    struct sl_timer *retry;
    unsigned gen;          /* bumped for every new log */
    bool removed;          /* drop data and forget the entry once closed */
    bool retaining;        /* a retention pass is running */
    bool dead;             /* closed and removed, freed by the retention done */
    bool close_after_open; /* closed while opening */
    bool drop_on_close;    /* removed: drop the data once closed */
    bool unhealthy; /* open, but the backend says it cannot take appends */
    char hreason[64];
    char hmsg[SL_DIAG_MSG_MAX];
    char *topic; /* class Kafka: the topic it claims (dp->topics) */
};

struct dp_trigger {
    char *ns, *name, *key;
    char *broker_key;
    char *group; /* the consumer group it claims (dp->groups), or NULL */
    char *fp;    /* inputs of the running (or failed) build */
    enum sl_dp_state st;
    char reason[64];
    char msg[SL_DIAG_MSG_MAX];
    struct sl_filter *filter;
    struct sl_retry_policy policy;
    struct sl_delivery *dl;
    struct sl_dispatch *dispatch;
    struct sl_metrics_trigger *metrics; /* the delivery's; NULL: none */
};

struct sl_dataplane {
    struct sl_loop *loop;
    struct sl_dataplane_opts o;
    char *data_dir, *default_class, *redis_url, *kafka_bootstrap, *ingress_url;
    struct sl_sender *sender;
    struct sl_map brokers;  /* "ns/name" -> dp_broker */
    struct sl_map triggers; /* "ns/name" -> dp_trigger */
    /* Kafka names are global to a cluster and Knative's are ambiguous
     * (ns a-b/name c and ns a/name b-c make the same): the first Broker
     * (Trigger) to claim a topic (consumer group) keeps it. */
    struct sl_map topics; /* topic -> "ns/name" of the Broker (owned) */
    struct sl_map groups; /* group -> "ns/name" of the Trigger (owned) */
    struct sl_timer *retention;
    struct sl_timer *health; /* polls open logs' health every second */
    sl_dp_notify_fn *notify;
    void *notify_arg;
    bool shutting_down;
    bool freeing;   /* sl_dataplane_free: entries are going away */
    size_t closing; /* closes in flight during shutdown */
    void (*shutdown_done)(void *);
    void *shutdown_arg;
    struct sl_log_ctx log;
};

static char *dp_key(const char *ns, const char *name)
{
    size_t n = strlen(ns) + strlen(name) + 2;
    char *k = sl_xmalloc(n);

    snprintf(k, n, "%s/%s", ns, name);
    return k;
}

static void dp_notify(struct sl_dataplane *dp, const char *kind, const char *ns,
                      const char *name)
{
    if (dp->notify != NULL && !dp->shutting_down)
        dp->notify(dp->notify_arg, kind, ns, name);
}

/* ---- triggers ---- */

/* The consumer group of trigger ns/name (Knative's Kafka naming). */
static void dp_group(char *out, size_t n, const char *ns, const char *name)
{
    snprintf(out, n, "knative-trigger-%s-%s", ns, name);
}

static void dp_trigger_teardown(struct dp_trigger *t)
{
    sl_dispatch_free(t->dispatch);
    t->dispatch = NULL;
    sl_delivery_free(t->dl);
    t->dl = NULL;
    sl_metrics_trigger_free(t->metrics);
    t->metrics = NULL;
    sl_filter_free(t->filter);
    t->filter = NULL;
    sl_retry_policy_fini(&t->policy);
    sl_free(t->fp);
    t->fp = NULL;
}

/* Let go of t's consumer group; Triggers that wanted it try again. */
static void dp_group_release(struct sl_dataplane *dp, struct dp_trigger *t)
{
    const char *owner;
    size_t it = 0;
    const char *k;
    void *v;

    if (t->group == NULL)
        return;
    owner = sl_map_get(&dp->groups, t->group);
    if (owner != NULL && strcmp(owner, t->key) == 0)
        sl_map_del(&dp->groups, t->group, NULL);
    sl_free(t->group);
    t->group = NULL;
    while (!dp->freeing && sl_map_next(&dp->triggers, &it, &k, &v)) {
        struct dp_trigger *o = v;

        if (o != t && strcmp(o->reason, "ConsumerGroupConflict") == 0) {
            sl_free(o->fp); /* rebuild at the next sync */
            o->fp = NULL;
            dp_notify(dp, "Trigger", o->ns, o->name);
        }
    }
}

static void dp_trigger_free(struct sl_dataplane *dp, struct dp_trigger *t)
{
    dp_group_release(dp, t);
    dp_trigger_teardown(t);
    sl_free(t->ns);
    sl_free(t->name);
    sl_free(t->key);
    sl_free(t->broker_key);
    sl_free(t);
}

/* Tear down every trigger on broker 'key' and ask for their re-sync. */
static void dp_triggers_of_broker_stop(struct sl_dataplane *dp, const char *key)
{
    size_t it = 0;
    const char *k;
    void *v;

    while (sl_map_next(&dp->triggers, &it, &k, &v)) {
        struct dp_trigger *t = v;

        if (t->broker_key == NULL || strcmp(t->broker_key, key) != 0)
            continue;
        if (t->dispatch == NULL && t->fp == NULL)
            continue;
        dp_trigger_teardown(t);
        dp_notify(dp, "Trigger", t->ns, t->name);
    }
}

/* ---- brokers ---- */

/* Let go of e's topic; Brokers that wanted it try again. */
static void dp_topic_release(struct dp_broker *e)
{
    struct sl_dataplane *dp = e->dp;
    const char *owner;
    size_t it = 0;
    const char *k;
    void *v;

    if (e->topic == NULL)
        return;
    owner = sl_map_get(&dp->topics, e->topic);
    if (owner != NULL && strcmp(owner, e->key) == 0)
        sl_map_del(&dp->topics, e->topic, NULL);
    sl_free(e->topic);
    e->topic = NULL;
    while (!dp->freeing && sl_map_next(&dp->brokers, &it, &k, &v)) {
        struct dp_broker *o = v;

        if (o != e && o->st == B_FAILED &&
            strcmp(o->reason, "TopicConflict") == 0) {
            o->retry_at = 0;
            dp_notify(dp, "Broker", o->ns, o->name);
        }
    }
}

static void dp_broker_free(void *v)
{
    struct dp_broker *e = v;

    dp_topic_release(e);
    sl_timer_free(e->retry);
    if (e->b != NULL)
        sl_backend_free(e->b);
    sl_free(e->ns);
    sl_free(e->name);
    sl_free(e->key);
    sl_free(e->fp);
    sl_free(e->cls);
    sl_free(e);
}

/* Free an entry already out of the map, or leave it to the retention
 * pass still running on it. */
static void dp_broker_forget(struct dp_broker *e)
{
    if (e->retaining)
        e->dead = true; /* the retention done frees it */
    else
        dp_broker_free(e);
}

static void dp_set_why(char *reason, size_t rn, char *msg, size_t mn,
                       const char *r, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void dp_set_why(char *reason, size_t rn, char *msg, size_t mn,
                       const char *r, const char *fmt, ...)
{
    va_list ap;

    snprintf(reason, rn, "%s", r);
    va_start(ap, fmt);
    vsnprintf(msg, mn, fmt, ap);
    va_end(ap);
}

#define B_WHY(e, r, ...)                                                     \
    dp_set_why((e)->reason, sizeof((e)->reason), (e)->msg, sizeof((e)->msg), \
               r, __VA_ARGS__)

static void dp_shutdown_step(struct sl_dataplane *dp);

static void dp_broker_closed(void *arg, int rc)
{
    struct dp_broker *e = arg;
    struct sl_dataplane *dp = e->dp;

    if (rc != 0)
        SL_LOG(SL_LOG_WARN, &dp->log, "closing the log of broker %s: %s",
               e->key, sl_strerror(rc));
    if (e->drop_on_close) {
        struct sl_diag d;

        e->drop_on_close = false;
        sl_diag_clear(&d);
        if (sl_backend_drop(e->b, &d) != 0 && d.msg[0])
            SL_LOG(SL_LOG_WARN, &dp->log, "dropping broker %s: %s", e->key,
                   d.msg);
    }
    sl_backend_free(e->b);
    e->b = NULL;
    e->st = B_NONE;
    if (dp->shutting_down) {
        dp->closing--;
        dp_shutdown_step(dp);
        return;
    }
    if (e->removed) {
        char *ns = sl_xstrdup(e->ns), *name = sl_xstrdup(e->name);
        void *old = NULL;

        sl_map_del(&dp->brokers, e->key, &old);
        dp_broker_forget(e);
        /* Again: while it closed, the ingress answered 503 (and finished
         * appends) under its name, which made its series anew. */
        sl_metrics_forget_broker(dp->o.metrics, ns, name);
        /* The Broker may have come back meanwhile. */
        dp_notify(dp, "Broker", ns, name);
        sl_free(ns);
        sl_free(name);
        return;
    }
    dp_notify(dp, "Broker", e->ns, e->name);
}

/* Stop the triggers on 'e' and close its log (async). A log still
 * opening is closed as soon as its open completes. */
static void dp_broker_close(struct dp_broker *e)
{
    struct sl_dataplane *dp = e->dp;

    dp_triggers_of_broker_stop(dp, e->key);
    sl_timer_stop(e->retry);
    if (e->b == NULL) {
        e->st = B_NONE;
        return;
    }
    if (e->st == B_CLOSING)
        return;
    e->st = B_CLOSING;
    if (dp->shutting_down)
        dp->closing++;
    if (e->b->state == SL_BACKEND_OPENING) {
        e->close_after_open = true;
        return;
    }
    sl_backend_close(e->b, dp_broker_closed, e);
}

static bool dp_health_read(struct sl_dataplane *dp, struct dp_broker *e);

static void dp_broker_retry_fire(void *arg)
{
    struct dp_broker *e = arg;

    dp_notify(e->dp, "Broker", e->ns, e->name);
}

static void dp_broker_opened(void *arg, int rc)
{
    struct dp_broker *e = arg;
    struct sl_dataplane *dp = e->dp;

    if (e->close_after_open) {
        e->close_after_open = false;
        sl_backend_close(e->b, dp_broker_closed, e);
        return;
    }
    if (e->st != B_OPENING)
        return;
    if (rc == 0) {
        e->st = B_OPEN;
        e->unhealthy = false;
        e->backoff_ms = DP_RETRY_MIN_MS;
        SL_LOG(SL_LOG_INFO, &dp->log, "broker %s: log open (%s)", e->key,
               e->b->ops->cls);
        /* Open is not healthy yet for every backend (a Kafka topic that
         * is missing): say so now rather than at the next poll. */
        (void)dp_health_read(dp, e);
    } else {
        e->st = B_FAILED;
        B_WHY(e, "BackendUnavailable", "the %s log cannot be opened: %s",
              e->b->ops->cls, sl_strerror(rc));
        SL_LOG(SL_LOG_WARN, &dp->log, "broker %s: %s; retrying in %lld ms",
               e->key, e->msg, (long long)e->backoff_ms);
        e->retry_at = sl_loop_now_ms(dp->loop) + e->backoff_ms;
        sl_timer_start(e->retry, (uint64_t)e->backoff_ms, 0);
        e->backoff_ms = e->backoff_ms * 2 > DP_RETRY_MAX_MS ? DP_RETRY_MAX_MS
                                                            : e->backoff_ms * 2;
    }
    dp_notify(dp, "Broker", e->ns, e->name);
}

static int dp_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The config object handed to the backend: the ConfigMap data's strings
 * plus the daemon's defaults, keys sorted (it is also the fingerprint). */
static struct json_object *dp_config(struct sl_dataplane *dp,
                                     const struct json_object *config)
{
    struct json_object *all = json_object_new_object(), *c;
    const char **keys;
    size_t n = 0, i;

    if (config != NULL && json_object_is_type(config, json_type_object)) {
        json_object_object_foreach((struct json_object *)config, k, v)
        {
            if (json_object_is_type(v, json_type_string))
                json_object_object_add(all, k, json_object_get(v));
        }
    }
    if (dp->redis_url != NULL &&
        !json_object_object_get_ex(all, "redis.url", NULL))
        json_object_object_add(all, "redis.url",
                               json_object_new_string(dp->redis_url));
    if (dp->kafka_bootstrap != NULL &&
        !json_object_object_get_ex(all, "bootstrap.servers", NULL))
        json_object_object_add(all, "bootstrap.servers",
                               json_object_new_string(dp->kafka_bootstrap));
    keys =
        sl_xcalloc((size_t)json_object_object_length(all) + 1, sizeof(*keys));
    {
        json_object_object_foreach(all, k, v)
        {
            (void)v;
            keys[n++] = k;
        }
    }
    qsort(keys, n, sizeof(*keys), dp_strcmp);
    c = json_object_new_object();
    for (i = 0; i < n; i++) {
        struct json_object *v = NULL;

        json_object_object_get_ex(all, keys[i], &v);
        json_object_object_add(c, keys[i], json_object_get(v));
    }
    sl_free(keys);
    json_object_put(all);
    return c;
}

static enum sl_dp_state dp_broker_state(const struct dp_broker *e,
                                        struct sl_diag *why)
{
    switch (e->st) {
    case B_OPEN:
        if (!e->unhealthy)
            return SL_DP_READY;
        sl_diag_set(why, SL_EIO, e->hreason, "%s", e->hmsg);
        return SL_DP_FAILED;
    case B_FAILED:
        sl_diag_set(why, SL_EIO, e->reason, "%s", e->msg);
        return SL_DP_FAILED;
    case B_UNSUPPORTED:
        sl_diag_set(why, SL_ENOTSUP, e->reason, "%s", e->msg);
        return SL_DP_UNSUPPORTED;
    case B_CLOSING:
        sl_diag_set(why, SL_EAGAIN, "BackendClosing",
                    "the log is being closed");
        return SL_DP_PENDING;
    default:
        sl_diag_set(why, SL_EAGAIN, "BackendOpening",
                    "the log is being opened");
        return SL_DP_PENDING;
    }
}

enum sl_dp_state
sl_dp_broker_sync(struct sl_dataplane *dp, const char *ns, const char *name,
                  const struct json_object *broker, const char *cls,
                  const struct json_object *config, struct sl_diag *why)
{
    char *key = dp_key(ns, name), *fp;
    struct dp_broker *e = sl_map_get(&dp->brokers, key);
    const struct sl_backend_ops *ops;
    struct json_object *cfg;
    struct sl_backend_cfg bc;
    struct sl_diag d;
    size_t n;
    int rc;

    if (dp->shutting_down) {
        sl_free(key);
        sl_diag_set(why, SL_EAGAIN, "ShuttingDown", "sluice is stopping");
        return SL_DP_PENDING;
    }
    if (e == NULL) {
        e = sl_xcalloc(1, sizeof(*e));
        e->dp = dp;
        e->ns = sl_xstrdup(ns);
        e->name = sl_xstrdup(name);
        e->key = sl_xstrdup(key);
        e->backoff_ms = DP_RETRY_MIN_MS;
        e->retry = sl_timer_new(dp->loop, dp_broker_retry_fire, e);
        sl_map_put(&dp->brokers, key, e, NULL);
    }
    sl_free(key);
    e->removed = false;
    if (cls == NULL || cls[0] == '\0' || strcmp(cls, DP_MT_CLASS) == 0)
        cls = dp->default_class;
    cfg = dp_config(dp, config);
    {
        const char *js =
            json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);

        n = strlen(cls) + strlen(js) + 2;
        fp = sl_xmalloc(n);
        snprintf(fp, n, "%s\n%s", cls, js);
    }
    if (e->st == B_CLOSING) {
        json_object_put(cfg);
        sl_free(fp);
        return dp_broker_state(e, why);
    }
    if (e->fp != NULL && strcmp(e->fp, fp) != 0 && e->st != B_NONE) {
        /* Class or config changed: rebuild the log. */
        SL_LOG(SL_LOG_INFO, &dp->log,
               "broker %s: class or config changed, reopening", e->key);
        dp_broker_close(e);
        json_object_put(cfg);
        sl_free(fp);
        if (e->st == B_NONE)
            return sl_dp_broker_sync(dp, ns, name, broker, cls, config, why);
        return dp_broker_state(e, why);
    }
    if (e->st == B_FAILED) {
        if (sl_loop_now_ms(dp->loop) < e->retry_at) {
            json_object_put(cfg);
            sl_free(fp);
            return dp_broker_state(e, why);
        }
        dp_broker_close(e);
        if (e->st != B_NONE) {
            json_object_put(cfg);
            sl_free(fp);
            return dp_broker_state(e, why);
        }
    }
    if (e->st != B_NONE) {
        json_object_put(cfg);
        sl_free(fp);
        return dp_broker_state(e, why);
    }
    /* Make a new log. */
    sl_free(e->fp);
    e->fp = fp;
    sl_free(e->cls);
    e->cls = sl_xstrdup(cls);
    ops = sl_backend_find(cls);
    if (ops == NULL) {
        json_object_put(cfg);
        e->st = B_UNSUPPORTED;
        B_WHY(e, "BrokerClassNotSupported",
              "broker class \"%s\" is not served by this sluice "
              "(--default-backend picks the class of brokers without one)",
              cls);
        return dp_broker_state(e, why);
    }
    sl_diag_clear(&d);
    if (ops->validate != NULL &&
        ops->validate((struct json_object *)broker, cfg, &d) != 0) {
        json_object_put(cfg);
        e->st = B_FAILED;
        B_WHY(e, "InvalidConfig", "%s%s%s", d.field, d.field[0] ? ": " : "",
              d.msg);
        e->retry_at = sl_loop_now_ms(dp->loop) + DP_RETRY_MAX_MS;
        return dp_broker_state(e, why);
    }
    if (strcmp(cls, "Kafka") == 0) {
        char topic[512];
        const char *owner;

        if (sl_kafka_broker_topic(ns, name, cfg, topic, sizeof(topic)) != 0)
            topic[0] = '\0'; /* validate said it is fine */
        if (e->topic != NULL && strcmp(e->topic, topic) != 0)
            dp_topic_release(e);
        owner = topic[0] ? sl_map_get(&dp->topics, topic) : NULL;
        if (owner != NULL && strcmp(owner, e->key) != 0) {
            json_object_put(cfg);
            e->st = B_FAILED;
            B_WHY(e, "TopicConflict",
                  "topic %s is already the topic of Broker %s (Knative's "
                  "topic names knative-broker-<namespace>-<name> collide); "
                  "give one of them another name or the annotation %s",
                  topic, owner, SL_KAFKA_EXTERNAL_TOPIC);
            /* Tried again when the other one lets go of it. */
            e->retry_at = INT64_MAX;
            return dp_broker_state(e, why);
        }
        if (topic[0] && owner == NULL) {
            sl_map_put(&dp->topics, topic, sl_xstrdup(e->key), NULL);
            e->topic = sl_xstrdup(topic);
        }
    } else {
        dp_topic_release(e);
    }
    memset(&bc, 0, sizeof(bc));
    bc.loop = dp->loop;
    bc.ns = ns;
    bc.name = name;
    bc.data_dir = dp->data_dir;
    bc.limits.max_event_size = dp->o.max_event_size;
    bc.config = cfg;
    rc = sl_backend_new(ops, &bc, &e->b, &d);
    json_object_put(cfg);
    if (rc != 0) {
        e->st = B_FAILED;
        B_WHY(e, "BackendUnavailable", "%s",
              d.msg[0] ? d.msg : sl_strerror(rc));
        e->retry_at = sl_loop_now_ms(dp->loop) + e->backoff_ms;
        sl_timer_start(e->retry, (uint64_t)e->backoff_ms, 0);
        return dp_broker_state(e, why);
    }
    e->gen++;
    e->st = B_OPENING;
    sl_backend_open(e->b, dp_broker_opened, e);
    return dp_broker_state(e, why);
}

void sl_dp_broker_remove(struct sl_dataplane *dp, const char *ns,
                         const char *name)
{
    char *key = dp_key(ns, name);
    struct dp_broker *e = sl_map_get(&dp->brokers, key);

    sl_free(key);
    sl_metrics_forget_broker(dp->o.metrics, ns, name);
    if (e == NULL)
        return;
    e->removed = true;
    if (e->st == B_CLOSING) {
        /* Its data goes with it even if the Broker comes back before the
         * close completes (a new Broker starts empty, as in Knative). */
        e->drop_on_close = true;
        return;
    }
    e->drop_on_close = true;
    dp_broker_close(e);
    if (e->st == B_NONE) {
        /* Nothing was open: forget it now. */
        void *old = NULL;

        sl_map_del(&dp->brokers, e->key, &old);
        dp_broker_forget(e);
    }
}

const char *sl_dp_broker_class(struct sl_dataplane *dp, const char *ns,
                               const char *name)
{
    char key[512];
    struct dp_broker *e;

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    e = sl_map_get(&dp->brokers, key);
    return e != NULL ? e->cls : NULL;
}

struct sl_backend *sl_dataplane_lookup(void *arg, const char *ns,
                                       const char *name, int *why)
{
    struct sl_dataplane *dp = arg;
    char key[512];
    struct dp_broker *e;

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    e = sl_map_get(&dp->brokers, key);
    if (e == NULL || (e->removed && e->st != B_CLOSING)) {
        *why = SL_ENOENT;
        return NULL;
    }
    if (dp->shutting_down) {
        *why = SL_EAGAIN;
        return NULL;
    }
    switch (e->st) {
    case B_OPEN:
        return e->b;
    case B_UNSUPPORTED:
        *why = SL_ENOTSUP;
        return NULL;
    case B_FAILED:
        *why = SL_EIO;
        return NULL;
    default:
        *why = SL_EAGAIN;
        return NULL;
    }
}

/* ---- retention ---- */

static void dp_retention_done(void *arg, int rc)
{
    struct dp_broker *e = arg;

    e->retaining = false;
    if (e->dead) {
        dp_broker_free(e);
        return;
    }
    if (rc != 0 && rc != SL_ENOTSUP)
        SL_LOG(SL_LOG_WARN, &e->dp->log, "retention on broker %s: %s", e->key,
               sl_strerror(rc));
}

static void dp_retention_fire(void *arg)
{
    struct sl_dataplane *dp = arg;
    size_t it = 0;
    const char *k;
    void *v;

    if (dp->shutting_down)
        return;
    while (sl_map_next(&dp->brokers, &it, &k, &v)) {
        struct dp_broker *e = v;

        if (e->st != B_OPEN || e->retaining)
            continue;
        e->retaining = true;
        sl_backend_retention(e->b, dp->o.retention_max_age_ms,
                             dp->o.retention_max_bytes, dp_retention_done, e);
    }
}

/* ---- health ---- */

/*
 * Read the health of e's open log into the entry; true when it changed.
 * The reason follows the field the backend names: a missing topic is
 * Knative's TopicNotPresentOrInvalid, an authorization failure
 * NotAuthorized, anything else (an unreachable server) BackendUnavailable.
 */
static bool dp_health_read(struct sl_dataplane *dp, struct dp_broker *e)
{
    struct sl_diag why;
    const char *reason = "BackendUnavailable";
    bool bad;

    sl_diag_clear(&why);
    bad = sl_backend_health(e->b, &why) != 0;
    if (bad && strcmp(why.field, "topic") == 0)
        reason = "TopicNotPresentOrInvalid";
    else if (bad && strcmp(why.field, "auth.secret.ref.name") == 0)
        reason = "NotAuthorized";
    if (bad == e->unhealthy && (!bad || (strcmp(why.msg, e->hmsg) == 0 &&
                                         strcmp(reason, e->hreason) == 0)))
        return false;
    e->unhealthy = bad;
    snprintf(e->hreason, sizeof(e->hreason), "%s", bad ? reason : "");
    snprintf(e->hmsg, sizeof(e->hmsg), "%s", bad ? why.msg : "");
    SL_LOG(bad ? SL_LOG_WARN : SL_LOG_INFO, &dp->log, "broker %s: %s", e->key,
           bad ? e->hmsg : "log available again");
    return true;
}

static void dp_health_fire(void *arg)
{
    struct sl_dataplane *dp = arg;
    size_t it = 0;
    const char *k;
    void *v;

    while (sl_map_next(&dp->brokers, &it, &k, &v)) {
        struct dp_broker *e = v;

        if (e->st == B_OPEN && dp_health_read(dp, e))
            dp_notify(dp, "Broker", e->ns, e->name);
    }
}

/* ---- triggers: sync ---- */

static enum sl_dp_state
dp_trigger_state(struct sl_dataplane *dp, struct dp_trigger *t,
                 enum sl_dp_state st, struct sl_diag *why, const char *reason,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static enum sl_dp_state
dp_trigger_state(struct sl_dataplane *dp, struct dp_trigger *t,
                 enum sl_dp_state st, struct sl_diag *why, const char *reason,
                 const char *fmt, ...)
{
    char r[sizeof(t->reason)], m[sizeof(t->msg)];
    va_list ap;

    /* Format into locals first: 'reason' and the arguments may be
     * t->reason and t->msg themselves (a state reported again). */
    snprintf(r, sizeof(r), "%s", reason);
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    if ((st == SL_DP_FAILED || st == SL_DP_UNSUPPORTED) &&
        (t->st != st || strcmp(t->reason, r) != 0 || strcmp(t->msg, m) != 0))
        SL_LOG(SL_LOG_WARN, &dp->log, "trigger %s cannot dispatch: %s: %s",
               t->key, r, m);
    t->st = st;
    memcpy(t->reason, r, sizeof(r));
    memcpy(t->msg, m, sizeof(m));
    sl_diag_set(why, st == SL_DP_PENDING ? SL_EAGAIN : SL_EINVAL, t->reason,
                "%s", t->msg);
    return st;
}

/* Everything the running build depends on, as one string. */
static char *dp_trigger_fp(const struct sl_dp_trigger_in *in, unsigned gen)
{
    struct json_object *o = json_object_new_object();
    char *s;

#define FP_ADD(k, v) \
    json_object_object_add(o, k, (v) ? json_object_get((v)) : NULL)
    FP_ADD("spec", sl_res_get(in->trigger, "spec"));
    FP_ADD("annotations", sl_res_dig(in->trigger, "metadata.annotations"));
    FP_ADD("bdelivery", sl_res_dig(in->broker, "spec.delivery"));
    FP_ADD("bannotations", sl_res_dig(in->broker, "metadata.annotations"));
#undef FP_ADD
    json_object_object_add(o, "sub",
                           json_object_new_string(in->subscriber_url));
    if (in->dls_url != NULL)
        json_object_object_add(o, "dls", json_object_new_string(in->dls_url));
    json_object_object_add(o, "gen", json_object_new_int64(gen));
    s = sl_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

enum sl_dp_state sl_dp_trigger_sync(struct sl_dataplane *dp, const char *ns,
                                    const char *name,
                                    const struct sl_dp_trigger_in *in,
                                    struct sl_diag *why)
{
    char *key = dp_key(ns, name), *bkey, *fp, group[600], logname[520],
         reply_url[1024];
    struct dp_trigger *t = sl_map_get(&dp->triggers, key);
    struct dp_broker *e;
    struct sl_dispatch_opts o;
    struct sl_delivery_cfg dc;
    struct sl_deliverer dl;
    struct sl_diag d;
    int rc;

    if (t == NULL) {
        t = sl_xcalloc(1, sizeof(*t));
        t->ns = sl_xstrdup(ns);
        t->name = sl_xstrdup(name);
        t->key = sl_xstrdup(key);
        sl_retry_policy_init(&t->policy);
        sl_map_put(&dp->triggers, key, t, NULL);
    }
    sl_free(key);
    if (dp->shutting_down)
        return dp_trigger_state(dp, t, SL_DP_PENDING, why, "ShuttingDown",
                                "sluice is stopping");
    bkey = in->broker_name ? dp_key(in->broker_ns, in->broker_name) : NULL;
    if (t->broker_key == NULL || bkey == NULL ||
        strcmp(t->broker_key, bkey) != 0) {
        dp_trigger_teardown(t);
        sl_free(t->broker_key);
        t->broker_key = bkey;
    } else {
        sl_free(bkey);
    }
    e = t->broker_key ? sl_map_get(&dp->brokers, t->broker_key) : NULL;
    if (e == NULL || e->st != B_OPEN) {
        dp_trigger_teardown(t);
        return dp_trigger_state(dp, t, SL_DP_PENDING, why, "BrokerNotReady",
                                "the broker's log is not open");
    }
    if (in->subscriber_url == NULL) {
        dp_trigger_teardown(t);
        /* Unknown: SubscriberResolved (False) says why, and so Ready. */
        return dp_trigger_state(dp, t, SL_DP_PENDING, why,
                                "SubscriberNotResolved",
                                "the subscriber has no address");
    }
    fp = dp_trigger_fp(in, e->gen);
    if (t->fp != NULL && strcmp(t->fp, fp) == 0) {
        sl_free(fp);
        if (t->st == SL_DP_READY)
            return SL_DP_READY;
        return dp_trigger_state(dp, t, t->st, why, t->reason, "%s", t->msg);
    }
    /* (Re)build. */
    dp_trigger_teardown(t);
    t->fp = fp;
    sl_diag_clear(&d);
    rc = sl_filter_compile(sl_res_get(in->trigger, "spec"), &t->filter, &d);
    if (rc == SL_ENOTSUP)
        return dp_trigger_state(dp, t, SL_DP_UNSUPPORTED, why,
                                "FilterNotSupported", "%s: %s", d.field, d.msg);
    if (rc != 0)
        return dp_trigger_state(dp, t, SL_DP_FAILED, why, "InvalidFilter",
                                "%s: %s", d.field, d.msg);
    memset(&o, 0, sizeof(o));
    if (sl_dispatch_opts_from_annotations(
            &o, sl_res_dig(in->trigger, "metadata.annotations"), &d) != 0)
        return dp_trigger_state(dp, t, SL_DP_FAILED, why, "InvalidAnnotation",
                                "%s: %s", d.field, d.msg);
    rc = sl_retry_policy_build(
        &t->policy, sl_res_dig(in->trigger, "spec.delivery"),
        sl_res_dig(in->trigger, "metadata.annotations"),
        sl_res_dig(in->broker, "spec.delivery"),
        sl_res_dig(in->broker, "metadata.annotations"), in->dls_url, &d);
    if (rc == SL_ENOENT)
        return dp_trigger_state(dp, t, SL_DP_PENDING, why,
                                "DeadLetterSinkNotResolved", "%s: %s", d.field,
                                d.msg);
    if (rc != 0)
        return dp_trigger_state(dp, t, SL_DP_FAILED, why, "InvalidDelivery",
                                "%s: %s", d.field, d.msg);
    snprintf(reply_url, sizeof(reply_url), "%s/%s", dp->ingress_url,
             t->broker_key);
    snprintf(logname, sizeof(logname), "%s", t->key);
    memset(&dc, 0, sizeof(dc));
    dc.sender = dp->sender;
    dc.subscriber_url = in->subscriber_url;
    dc.policy = &t->policy;
    dc.ns = ns;
    dc.reply_to = e->b;
    dc.reply_url = reply_url;
    dc.max_ttl = dp->o.max_ttl;
    dc.log_name = logname;
    /* filter_type: the legacy filter's "type" attribute, as Knative's
     * filter reports it (also when spec.filters decides). */
    t->metrics = sl_metrics_trigger_new(
        dp->o.metrics, ns, in->broker_name, name,
        json_object_get_string(
            sl_res_dig(in->trigger, "spec.filter.attributes.type")));
    dc.metrics = t->metrics;
    rc = sl_delivery_new(dp->loop, &dc, &t->dl, &d);
    if (rc != 0)
        return dp_trigger_state(dp, t, SL_DP_FAILED, why, "InvalidDelivery",
                                "%s", d.msg);
    sl_delivery_deliverer(t->dl, &dl);
    dp_group(group, sizeof(group), ns, name);
    if (e->cls != NULL && strcmp(e->cls, "Kafka") == 0) {
        const char *owner = sl_map_get(&dp->groups, group);

        if (owner != NULL && strcmp(owner, t->key) != 0) {
            /* Keep the fingerprint out so that the next sync tries again. */
            dp_trigger_teardown(t);
            return dp_trigger_state(
                dp, t, SL_DP_FAILED, why, "ConsumerGroupConflict",
                "consumer group %s is already the group of Trigger %s "
                "(Knative's names knative-trigger-<namespace>-<name> "
                "collide); give one of them another name",
                group, owner);
        }
        if (owner == NULL) {
            sl_map_put(&dp->groups, group, sl_xstrdup(t->key), NULL);
            sl_free(t->group);
            t->group = sl_xstrdup(group);
        }
    } else {
        dp_group_release(dp, t);
    }
    o.group = group;
    rc = sl_dispatch_new(dp->loop, e->b, &o, t->filter, &dl, &t->dispatch, &d);
    if (rc != 0) {
        /* Keep the fingerprint out so that the next sync tries again. */
        enum sl_dp_state st = rc == SL_EAGAIN ? SL_DP_PENDING : SL_DP_FAILED;

        dp_trigger_teardown(t);
        return dp_trigger_state(dp, t, st, why, "SubscriptionFailed", "%s",
                                d.msg[0] ? d.msg : sl_strerror(rc));
    }
    t->st = SL_DP_READY;
    SL_LOG(SL_LOG_INFO, &dp->log,
           "trigger %s: dispatching from broker %s to %s", t->key,
           t->broker_key, in->subscriber_url);
    return SL_DP_READY;
}

static void dp_forgotten(void *arg, int rc)
{
    char *group = arg;

    if (rc != 0 && rc != SL_ENOTSUP)
        SL_LOG(SL_LOG_WARN, NULL, "cannot forget consumer group %s: %s", group,
               sl_strerror(rc));
    sl_free(group);
}

void sl_dp_trigger_remove(struct sl_dataplane *dp, const char *ns,
                          const char *name)
{
    char *key = dp_key(ns, name);
    struct dp_trigger *t = NULL;
    struct dp_broker *e;

    if (sl_map_del(&dp->triggers, key, (void **)&t) != 0 || t == NULL) {
        sl_free(key);
        return;
    }
    dp_group_release(dp, t);
    sl_free(key);
    dp_trigger_teardown(t);
    sl_metrics_forget_trigger(dp->o.metrics, ns, name);
    /* The Trigger is gone: so is its consumer group, as Knative deletes
     * a trigger's Kafka consumer group. A Trigger of the same name made
     * later starts at the end of the log. */
    e = t->broker_key ? sl_map_get(&dp->brokers, t->broker_key) : NULL;
    if (e != NULL && e->st == B_OPEN) {
        char group[600];

        dp_group(group, sizeof(group), ns, name);
        sl_backend_forget(e->b, group, dp_forgotten, sl_xstrdup(group));
    }
    dp_trigger_free(dp, t);
}

/* ---- life cycle ---- */

void sl_dp_set_notify(struct sl_dataplane *dp, sl_dp_notify_fn *fn, void *arg)
{
    dp->notify = fn;
    dp->notify_arg = arg;
}

int sl_dataplane_new(struct sl_loop *loop, const struct sl_dataplane_opts *o,
                     struct sl_dataplane **out, struct sl_diag *d)
{
    struct sl_dataplane *dp;
    struct sl_sender_opts so;

    *out = NULL;
    if (o->data_dir == NULL || o->ingress_url == NULL)
        return sl_diag_set(d, SL_EINVAL, "", "data plane: missing options");
    dp = sl_xcalloc(1, sizeof(*dp));
    dp->loop = loop;
    dp->o = *o;
    dp->data_dir = sl_xstrdup(o->data_dir);
    dp->default_class =
        sl_xstrdup(o->default_class ? o->default_class : DP_DEFAULT_CLASS);
    dp->redis_url = o->redis_url ? sl_xstrdup(o->redis_url) : NULL;
    dp->kafka_bootstrap =
        o->kafka_bootstrap ? sl_xstrdup(o->kafka_bootstrap) : NULL;
    dp->ingress_url = sl_xstrdup(o->ingress_url);
    if (dp->o.max_ttl <= 0)
        dp->o.max_ttl = 255;
    if (dp->o.retention_interval_ms <= 0)
        dp->o.retention_interval_ms = DP_DEFAULT_RET_PERIOD;
    if (dp->o.retention_max_age_ms < 0)
        dp->o.retention_max_age_ms = 0;
    else if (dp->o.retention_max_age_ms == 0)
        dp->o.retention_max_age_ms = DP_DEFAULT_RETENTION;
    sl_map_init(&dp->brokers, NULL);
    sl_map_init(&dp->triggers, NULL);
    sl_map_init(&dp->topics, sl_free);
    sl_map_init(&dp->groups, sl_free);
    sl_log_ctx_init(&dp->log, "dataplane", NULL, NULL);
    memset(&so, 0, sizeof(so));
    so.max_in_flight = 100000;
    so.max_body = dp->o.max_event_size;
    so.max_total_conns = dp->o.max_sink_conns;
    if (sl_sender_new(loop, &so, &dp->sender) != 0) {
        sl_dataplane_free(dp);
        return sl_diag_set(d, SL_EIO, "", "cannot set up the HTTP sender");
    }
    dp->health = sl_timer_new(loop, dp_health_fire, dp);
    sl_timer_start(dp->health, 1000, 1000);
    dp->retention = sl_timer_new(loop, dp_retention_fire, dp);
    sl_timer_start(dp->retention, (uint64_t)dp->o.retention_interval_ms,
                   (uint64_t)dp->o.retention_interval_ms);
    *out = dp;
    return 0;
}

static void dp_shutdown_step(struct sl_dataplane *dp)
{
    void (*done)(void *) = dp->shutdown_done;

    if (dp->closing > 0 || done == NULL)
        return;
    dp->shutdown_done = NULL;
    done(dp->shutdown_arg);
}

void sl_dataplane_shutdown(struct sl_dataplane *dp, void (*done)(void *),
                           void *arg)
{
    size_t it = 0;
    const char *k;
    void *v;

    dp->shutting_down = true;
    dp->shutdown_done = done;
    dp->shutdown_arg = arg;
    sl_timer_stop(dp->retention);
    sl_timer_stop(dp->health);
    while (sl_map_next(&dp->triggers, &it, &k, &v))
        dp_trigger_teardown(v);
    it = 0;
    while (sl_map_next(&dp->brokers, &it, &k, &v)) {
        struct dp_broker *e = v;

        if (e->st != B_CLOSING && e->b != NULL)
            dp_broker_close(e);
        else if (e->st == B_CLOSING)
            dp->closing++;
    }
    dp_shutdown_step(dp);
}

void sl_dataplane_free(struct sl_dataplane *dp)
{
    size_t it = 0;
    const char *k;
    void *v;

    if (dp == NULL)
        return;
    dp->freeing = true;
    while (sl_map_next(&dp->triggers, &it, &k, &v))
        dp_trigger_free(dp, v);
    it = 0;
    while (sl_map_next(&dp->brokers, &it, &k, &v)) {
        struct dp_broker *e = v;

        /* Closed by sl_dataplane_shutdown (or never opened). */
        if (e->b != NULL && e->st != B_NONE && e->st != B_FAILED)
            SL_LOG(SL_LOG_ERROR, &dp->log,
                   "broker %s freed while its log is open", e->key);
        else
            dp_broker_free(e);
    }
    sl_map_fini(&dp->triggers);
    sl_map_fini(&dp->brokers);
    sl_map_fini(&dp->topics);
    sl_map_fini(&dp->groups);
    sl_timer_free(dp->retention);
    sl_timer_free(dp->health);
    sl_sender_free(dp->sender);
    sl_free(dp->data_dir);
    sl_free(dp->default_class);
    sl_free(dp->redis_url);
    sl_free(dp->kafka_bootstrap);
    sl_free(dp->ingress_url);
    sl_free(dp);
}
