/*
 * control/dataplane.c - brokers' logs and triggers' dispatchers, kept in
 * line with what the reconcilers sync (control/dataplane.h).
 *
 * A broker's log is an entry of a log set (control/logset.h: open, retry
 * with backoff, health poll, rebuild on a changed class or config, close
 * on removal) with what only a broker adds: its class, its Kafka topic
 * claim, its data dropped once closed after a removal, retention, and
 * every trigger on it torn down before its log closes (a dispatcher must
 * not outlive the subscription's log, nor a delivery the log its replies
 * go to). A trigger entry holds its compiled filter, policy, delivery and
 * dispatcher, rebuilt whenever the fingerprint of its inputs changes.
 */
#include "control/dataplane.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/backend.h"
#include "broker/kafka/kafka.h"
#include "control/logset.h"
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
#define DP_DEFAULT_RETENTION  (7LL * 24 * 3600 * 1000)
#define DP_DEFAULT_RET_PERIOD 60000

/* A Broker's log: the shared life cycle (control/logset.h) and what only
 * a broker has. */
struct dp_broker {
    struct sl_logset_entry le; /* first: the set allocates dp_broker */
    struct sl_dataplane *dp;
    char *cls;          /* the class it runs as (default applied) */
    unsigned gen;       /* bumped for every new log */
    bool retaining;     /* a retention pass is running */
    bool dead;          /* closed and removed, freed by the retention done */
    bool drop_on_close; /* removed: drop the data once closed */
    char *topic;        /* class Kafka: the topic it claims (dp->topics) */
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
    struct sl_logset *brokers; /* "ns/name" -> dp_broker */
    struct sl_map triggers;    /* "ns/name" -> dp_trigger */
    /* Kafka names are global to a cluster and Knative's are ambiguous
     * (ns a-b/name c and ns a/name b-c make the same): the first Broker
     * (Trigger) to claim a topic (consumer group) keeps it. */
    struct sl_map topics; /* topic -> "ns/name" of the Broker (owned) */
    struct sl_map groups; /* group -> "ns/name" of the Trigger (owned) */
    struct sl_timer *retention;
    sl_dp_notify_fn *notify;
    void *notify_arg;
    bool shutting_down;
    bool freeing; /* sl_dataplane_free: entries are going away */
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

static struct dp_broker *dp_broker_of(struct sl_logset_entry *le)
{
    return (struct dp_broker *)le;
}

/* The broker entry "ns/name", or NULL. */
static struct dp_broker *dp_broker_get(struct sl_dataplane *dp, const char *key)
{
    return dp_broker_of(sl_logset_get(dp->brokers, key));
}

/* Let go of e's topic; Brokers that wanted it try again. */
static void dp_topic_release(struct dp_broker *e)
{
    struct sl_dataplane *dp = e->dp;
    struct sl_logset_entry *o;
    const char *owner;
    size_t it = 0;

    if (e->topic == NULL)
        return;
    owner = sl_map_get(&dp->topics, e->topic);
    if (owner != NULL && strcmp(owner, e->le.key) == 0)
        sl_map_del(&dp->topics, e->topic, NULL);
    sl_free(e->topic);
    e->topic = NULL;
    while (!dp->freeing && (o = sl_logset_next(dp->brokers, &it)) != NULL) {
        if (o != &e->le && o->st == SL_LS_FAILED &&
            strcmp(o->reason, "TopicConflict") == 0) {
            o->retry_at = 0;
            dp_notify(dp, "Broker", o->ns, o->name);
        }
    }
}

static void dp_broker_fini(struct sl_logset_entry *le)
{
    struct dp_broker *e = dp_broker_of(le);

    dp_topic_release(e);
    sl_free(e->cls);
}

/* Out of the set: free it, or leave it to the retention pass still
 * running on it. */
static void dp_broker_forget(struct sl_logset_entry *le)
{
    struct dp_broker *e = dp_broker_of(le);

    if (e->retaining)
        e->dead = true; /* the retention done frees it */
    else
        sl_logset_entry_free(le);
}

/* Every trigger on it is torn down before its log closes. */
static void dp_broker_closing(struct sl_logset_entry *le)
{
    dp_triggers_of_broker_stop(dp_broker_of(le)->dp, le->key);
}

static void dp_broker_closed(struct sl_logset_entry *le)
{
    struct dp_broker *e = dp_broker_of(le);
    struct sl_diag d;

    if (!e->drop_on_close)
        return;
    e->drop_on_close = false;
    sl_diag_clear(&d);
    if (sl_backend_drop(le->b, &d) != 0 && d.msg[0])
        SL_LOG(SL_LOG_WARN, &e->dp->log, "dropping broker %s: %s", le->key,
               d.msg);
}

static void dp_broker_open_failed(struct sl_logset_entry *le, int rc)
{
    sl_logset_why(le, "BackendUnavailable", "the %s log cannot be opened: %s",
                  le->b->ops->cls, sl_strerror(rc));
}

static void dp_broker_opened(struct sl_logset_entry *le)
{
    SL_LOG(SL_LOG_INFO, &dp_broker_of(le)->dp->log, "broker %s: log open (%s)",
           le->key, le->b->ops->cls);
    /* Open is not healthy yet for every backend (a Kafka topic that is
     * missing): say so now rather than at the next poll. */
    (void)sl_logset_health_read(le);
}

/*
 * The health of an open log. The reason follows the field the backend
 * names: a missing topic is Knative's TopicNotPresentOrInvalid, an
 * authorization failure NotAuthorized, anything else (an unreachable
 * server) BackendUnavailable.
 */
static int dp_broker_health(struct sl_logset_entry *le, struct sl_diag *why)
{
    const char *reason = "BackendUnavailable";

    if (sl_backend_health(le->b, why) == 0)
        return 0;
    if (strcmp(why->field, "topic") == 0)
        reason = "TopicNotPresentOrInvalid";
    else if (strcmp(why->field, "auth.secret.ref.name") == 0)
        reason = "NotAuthorized";
    snprintf(why->field, sizeof(why->field), "%s", reason);
    return 1;
}

static const struct sl_logset_kind dp_broker_kind = {
    .kind = "Broker",
    .what = "broker",
    .entry_size = sizeof(struct dp_broker),
    .opening_reason = "BackendOpening",
    .opening_msg = "the log is being opened",
    .closing_reason = "BackendClosing",
    .closing_msg = "the log is being closed",
    .healthy_msg = "log available again",
    .gone_while_closing = false,
    .health = dp_broker_health,
    .open_failed = dp_broker_open_failed,
    .opened = dp_broker_opened,
    .closing = dp_broker_closing,
    .closed = dp_broker_closed,
    .fini = dp_broker_fini,
    .forget = dp_broker_forget,
};

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

enum sl_dp_state
sl_dp_broker_sync(struct sl_dataplane *dp, const char *ns, const char *name,
                  const struct json_object *broker, const char *cls,
                  const struct json_object *config, struct sl_diag *why)
{
    const struct sl_backend_ops *ops;
    struct sl_logset_entry *le;
    struct json_object *cfg;
    struct dp_broker *e;
    enum sl_dp_state st;
    struct sl_diag d;
    char *fp;
    size_t n;
    int rc;

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
    if (!sl_logset_sync(dp->brokers, ns, name, fp, &le, &st, why)) {
        json_object_put(cfg);
        return st;
    }
    /* Make a new log. */
    e = dp_broker_of(le);
    e->dp = dp;
    sl_free(e->cls);
    e->cls = sl_xstrdup(cls);
    ops = sl_backend_find(cls);
    if (ops == NULL) {
        json_object_put(cfg);
        le->st = SL_LS_UNSUPPORTED;
        sl_logset_why(le, "BrokerClassNotSupported",
                      "broker class \"%s\" is not served by this sluice "
                      "(--default-backend picks the class of brokers without "
                      "one)",
                      cls);
        return sl_logset_state(le, why);
    }
    sl_diag_clear(&d);
    if (ops->validate != NULL &&
        ops->validate((struct json_object *)broker, cfg, &d) != 0) {
        json_object_put(cfg);
        le->st = SL_LS_FAILED;
        sl_logset_why(le, "InvalidConfig", "%s%s%s", d.field,
                      d.field[0] ? ": " : "", d.msg);
        le->retry_at = sl_loop_now_ms(dp->loop) + SL_LOGSET_RETRY_MAX_MS;
        return sl_logset_state(le, why);
    }
    if (strcmp(cls, "Kafka") == 0) {
        char topic[512];
        const char *owner;

        if (sl_kafka_broker_topic(ns, name, cfg, topic, sizeof(topic)) != 0)
            topic[0] = '\0'; /* validate said it is fine */
        if (e->topic != NULL && strcmp(e->topic, topic) != 0)
            dp_topic_release(e);
        owner = topic[0] ? sl_map_get(&dp->topics, topic) : NULL;
        if (owner != NULL && strcmp(owner, le->key) != 0) {
            json_object_put(cfg);
            le->st = SL_LS_FAILED;
            sl_logset_why(
                le, "TopicConflict",
                "topic %s is already the topic of Broker %s (Knative's "
                "topic names knative-broker-<namespace>-<name> collide); "
                "give one of them another name or the annotation %s",
                topic, owner, SL_KAFKA_EXTERNAL_TOPIC);
            /* Tried again when the other one lets go of it. */
            le->retry_at = INT64_MAX;
            return sl_logset_state(le, why);
        }
        if (topic[0] && owner == NULL) {
            sl_map_put(&dp->topics, topic, sl_xstrdup(le->key), NULL);
            e->topic = sl_xstrdup(topic);
        }
    } else {
        dp_topic_release(e);
    }
    e->gen++;
    rc = sl_logset_open(le, ops, dp->data_dir, dp->o.max_event_size, cfg, &d);
    json_object_put(cfg);
    if (rc != 0) {
        sl_logset_why(le, "BackendUnavailable", "%s",
                      d.msg[0] ? d.msg : sl_strerror(rc));
        sl_logset_failed(le);
    }
    return sl_logset_state(le, why);
}

void sl_dp_broker_remove(struct sl_dataplane *dp, const char *ns,
                         const char *name)
{
    char *key = dp_key(ns, name);
    struct dp_broker *e = dp_broker_get(dp, key);

    sl_free(key);
    /* Its data goes with it, even if the Broker comes back before the
     * close completes (a new Broker starts empty, as in Knative). */
    if (e != NULL)
        e->drop_on_close = true;
    sl_logset_remove(dp->brokers, ns, name);
}

const char *sl_dp_broker_class(struct sl_dataplane *dp, const char *ns,
                               const char *name)
{
    char key[512];
    struct dp_broker *e;

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    e = dp_broker_get(dp, key);
    return e != NULL ? e->cls : NULL;
}

struct sl_backend *sl_dataplane_lookup(void *arg, const char *ns,
                                       const char *name, int *why)
{
    struct sl_dataplane *dp = arg;

    return sl_logset_lookup(dp->brokers, ns, name, why);
}

/* ---- retention ---- */

static void dp_retention_done(void *arg, int rc)
{
    struct dp_broker *e = arg;

    e->retaining = false;
    if (e->dead) {
        sl_logset_entry_free(&e->le);
        return;
    }
    if (rc != 0 && rc != SL_ENOTSUP)
        SL_LOG(SL_LOG_WARN, &e->dp->log, "retention on broker %s: %s",
               e->le.key, sl_strerror(rc));
}

static void dp_retention_fire(void *arg)
{
    struct sl_dataplane *dp = arg;
    struct sl_logset_entry *le;
    size_t it = 0;

    if (dp->shutting_down)
        return;
    while ((le = sl_logset_next(dp->brokers, &it)) != NULL) {
        struct dp_broker *e = dp_broker_of(le);

        if (le->st != SL_LS_OPEN || e->retaining)
            continue;
        e->retaining = true;
        sl_backend_retention(le->b, dp->o.retention_max_age_ms,
                             dp->o.retention_max_bytes, dp_retention_done, e);
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
    e = t->broker_key ? dp_broker_get(dp, t->broker_key) : NULL;
    if (e == NULL || e->le.st != SL_LS_OPEN) {
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
    dc.reply_to = e->le.b;
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
    rc = sl_dispatch_new(dp->loop, e->le.b, &o, t->filter, &dl, &t->dispatch,
                         &d);
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
    e = t->broker_key ? dp_broker_get(dp, t->broker_key) : NULL;
    if (e != NULL && e->le.st == SL_LS_OPEN) {
        char group[600];

        dp_group(group, sizeof(group), ns, name);
        sl_backend_forget(e->le.b, group, dp_forgotten, sl_xstrdup(group));
    }
    dp_trigger_free(dp, t);
}

/* ---- life cycle ---- */

void sl_dp_set_notify(struct sl_dataplane *dp, sl_dp_notify_fn *fn, void *arg)
{
    dp->notify = fn;
    dp->notify_arg = arg;
    sl_logset_set_notify(dp->brokers, fn, arg);
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
    sl_map_init(&dp->triggers, NULL);
    sl_map_init(&dp->topics, sl_free);
    sl_map_init(&dp->groups, sl_free);
    sl_log_ctx_init(&dp->log, "dataplane", NULL, NULL);
    dp->brokers = sl_logset_new(loop, &dp_broker_kind, o->metrics, &dp->log);
    memset(&so, 0, sizeof(so));
    so.max_in_flight = 100000;
    so.max_body = dp->o.max_event_size;
    so.max_total_conns = dp->o.max_sink_conns;
    if (sl_sender_new(loop, &so, &dp->sender) != 0) {
        sl_dataplane_free(dp);
        return sl_diag_set(d, SL_EIO, "", "cannot set up the HTTP sender");
    }
    dp->retention = sl_timer_new(loop, dp_retention_fire, dp);
    sl_timer_start(dp->retention, (uint64_t)dp->o.retention_interval_ms,
                   (uint64_t)dp->o.retention_interval_ms);
    *out = dp;
    return 0;
}

void sl_dataplane_shutdown(struct sl_dataplane *dp, void (*done)(void *),
                           void *arg)
{
    size_t it = 0;
    const char *k;
    void *v;

    dp->shutting_down = true;
    sl_timer_stop(dp->retention);
    while (sl_map_next(&dp->triggers, &it, &k, &v))
        dp_trigger_teardown(v);
    sl_logset_shutdown(dp->brokers, done, arg);
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
    /* Closed by sl_dataplane_shutdown (or never opened). */
    sl_logset_free(dp->brokers);
    sl_map_fini(&dp->triggers);
    sl_map_fini(&dp->topics);
    sl_map_fini(&dp->groups);
    sl_timer_free(dp->retention);
    sl_sender_free(dp->sender);
    sl_free(dp->data_dir);
    sl_free(dp->default_class);
    sl_free(dp->redis_url);
    sl_free(dp->kafka_bootstrap);
    sl_free(dp->ingress_url);
    sl_free(dp);
}
