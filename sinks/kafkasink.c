/*
 * sinks/kafkasink.c - a KafkaSink's producer as a struct sl_backend
 * (sinks/kafkasink.h).
 *
 * States (base.state): NEW -open-> OPENING (admin check/ensure of the
 * topic on its thread) -ok-> OPEN (the producer exists) or -error->
 * FAILED (reason kept for sl_kafkasink_status); OPEN/FAILED -close->
 * CLOSING (the producer flushes: every record produced gets its delivery
 * report, or SL_ECANCELED after the timeout) -> CLOSED.
 *
 * One append is a 'struct ks_append' counting the records still waiting
 * for their delivery report; the last report runs the append's done with
 * the first failure seen (or 0).
 */
#include "sinks/kafkasink.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/str.h"
#include "net/kafka.h"
#include "proto/event.h"
#include "proto/kafka.h"

#define KS_PREFIX        "kafkasink."
#define KS_ADMIN_TIMEOUT 10000
#define KS_CLOSE_TIMEOUT 15000 /* > message.timeout.ms (10 s by default) */
#define KS_REASON_MAX    64

struct ks {
    struct sl_backend base;
    struct json_object *props; /* librdkafka properties (owned) */
    char *topic;
    char *bootstrap; /* for messages */
    bool structured;
    int partitions, replication; /* 0: not given */
    int admin_timeout_ms;
    struct sl_kafka_admin *admin; /* the open's check, in flight */
    struct sl_kafka_producer *p;  /* OPEN and CLOSING */
    rd_kafka_topic_t *rkt;        /* the topic known to the producer */
    sl_backend_done_fn *done;     /* open's or close's */
    void *done_arg;
    int err; /* the open's failure, 0 when none */
    char reason[KS_REASON_MAX];
    char msg[SL_DIAG_MSG_MAX];
    struct sl_backend_stats stats;
    struct sl_log_ctx log;
};

/* One append: the records still waiting for their report. */
struct ks_append {
    struct ks *k;
    sl_backend_done_fn *done;
    void *arg;
    size_t left; /* reports still to come */
    size_t n;    /* events of the append */
    int rc;      /* the first failure */
};

static struct ks *ks_of(struct sl_backend *b)
{
    return (struct ks *)b;
}

/* ---- a completion on a later loop iteration ---- */

struct ks_later {
    sl_backend_done_fn *done;
    void *arg;
    int rc;
};

static void ks_later_run(void *p)
{
    struct ks_later *l = p;

    l->done(l->arg, l->rc);
    sl_free(l);
}

static void ks_later(struct ks *k, sl_backend_done_fn *done, void *arg, int rc)
{
    struct ks_later *l = sl_xmalloc(sizeof(*l));

    *l = (struct ks_later){ done, arg, rc };
    sl_loop_post(k->base.loop, ks_later_run, l);
}

/* ---- init ---- */

/* A positive int from config key 'key' into '*out' (0 when absent). */
static int ks_positive(const struct json_object *cfg, const char *key, int *out,
                       struct sl_diag *d)
{
    struct json_object *v = NULL;
    const char *s;
    int64_t n;

    *out = 0;
    if (!json_object_object_get_ex(cfg, key, &v) || v == NULL)
        return 0;
    s = json_object_get_string(v);
    if (sl_str_to_i64(s, strlen(s), false, 1, INT32_MAX, &n) != 0)
        return sl_diag_set(d, SL_EINVAL, key,
                           "must be an integer > 0, got '%s'", s);
    *out = (int)n;
    return 0;
}

/* Free what init set (a failed init is not followed by fini). */
static void ks_init_undo(struct ks *k)
{
    json_object_put(k->props);
    k->props = NULL;
    sl_free(k->topic);
    k->topic = NULL;
    sl_free(k->bootstrap);
    k->bootstrap = NULL;
}

static int ks_init(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                   struct sl_diag *d)
{
    struct ks *k = ks_of(b);
    const struct json_object *c = cfg->config;
    struct json_object *v = NULL;
    rd_kafka_conf_t *conf = NULL;
    const char *mode = NULL, *s = NULL;
    char client[300];
    int rc;

    sl_log_ctx_init(&k->log, "kafkasink", b->ns, b->name);
    if (c == NULL || !json_object_is_type(c, json_type_object))
        return sl_diag_set(d, SL_EINVAL, SL_KAFKASINK_TOPIC,
                           "a KafkaSink needs its configuration");
    if (json_object_object_get_ex(c, SL_KAFKASINK_TOPIC, &v))
        s = json_object_get_string(v);
    if (s == NULL || s[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, SL_KAFKASINK_TOPIC,
                           "a KafkaSink needs a topic");
    if (json_object_object_get_ex(c, SL_KAFKASINK_CONTENT_MODE, &v))
        mode = json_object_get_string(v);
    if (mode != NULL && strcmp(mode, "structured") == 0)
        k->structured = true;
    else if (mode != NULL && strcmp(mode, "binary") != 0)
        return sl_diag_set(d, SL_EINVAL, SL_KAFKASINK_CONTENT_MODE,
                           "must be binary or structured, got '%s'", mode);
    if ((rc = ks_positive(c, SL_KAFKASINK_PARTITIONS, &k->partitions, d)) !=
            0 ||
        (rc = ks_positive(c, SL_KAFKASINK_REPLICATION, &k->replication, d)) !=
            0 ||
        (rc = ks_positive(c, SL_KAFKASINK_ADMIN_TIMEOUT, &k->admin_timeout_ms,
                          d)) != 0)
        return rc;
    if (k->admin_timeout_ms == 0)
        k->admin_timeout_ms = KS_ADMIN_TIMEOUT;
    k->topic = sl_xstrdup(s);
    /* Every other key is a librdkafka property. */
    k->props = json_object_new_object();
    json_object_object_foreach((struct json_object *)c, key, val)
    {
        if (strncmp(key, KS_PREFIX, strlen(KS_PREFIX)) != 0)
            json_object_object_add(k->props, key, json_object_get(val));
    }
    s = NULL;
    if (json_object_object_get_ex(k->props, "bootstrap.servers", &v))
        s = json_object_get_string(v);
    if (s == NULL || s[0] == '\0') {
        rc = sl_diag_set(d, SL_EINVAL, "bootstrap.servers",
                         "a KafkaSink needs bootstrap servers");
        goto out;
    }
    k->bootstrap = sl_xstrdup(s);
    /* Refuse properties librdkafka refuses now, not at open. */
    snprintf(client, sizeof(client), "sluice-kafkasink-%s-%s", b->ns, b->name);
    if ((rc = sl_kafka_conf_new(k->props, client, &conf, d)) != 0)
        goto out;
    rd_kafka_conf_destroy(conf);
out:
    if (rc != 0)
        ks_init_undo(k);
    return rc;
}

/* ---- open ---- */

static void ks_fail(struct ks *k, int rc, const char *reason, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void ks_fail(struct ks *k, int rc, const char *reason, const char *fmt,
                    ...)
{
    va_list ap;

    k->err = rc;
    snprintf(k->reason, sizeof(k->reason), "%s", reason);
    va_start(ap, fmt);
    vsnprintf(k->msg, sizeof(k->msg), fmt, ap);
    va_end(ap);
}

/* The reason of an admin failure 'rc' of the open. */
static const char *ks_admin_reason(const struct ks *k, int rc)
{
    switch (rc) {
    case SL_ENOENT:
        return SL_KAFKASINK_R_MISSING;
    case SL_EPERM:
        return SL_KAFKASINK_R_AUTH;
    case SL_ETIMEDOUT:
    case SL_EIO:
        return SL_KAFKASINK_R_UNREACHABLE;
    default:
        return k->partitions > 0 && k->replication > 0 ? SL_KAFKASINK_R_CREATE
                                                       : SL_KAFKASINK_R_MISSING;
    }
}

static void ks_opened(struct ks *k, int rc)
{
    sl_backend_done_fn *done = k->done;
    void *arg = k->done_arg;

    k->done = NULL;
    k->done_arg = NULL;
    k->base.state = rc == 0 ? SL_BACKEND_OPEN : SL_BACKEND_FAILED;
    if (rc == 0)
        SL_LOG(SL_LOG_INFO, &k->log, "producing to topic %s (%s mode) on %s",
               k->topic, k->structured ? "structured" : "binary", k->bootstrap);
    else /* control/kafkasinks.c says it at WARN when it changes */
        SL_LOG(SL_LOG_DEBUG, &k->log, "cannot open: %s: %s", k->reason, k->msg);
    done(arg, rc);
}

/* The topic check/ensure finished (loop thread). */
static void ks_admin_done(void *arg, int rc, int partitions, const char *msg)
{
    struct ks *k = arg;
    char client[300];
    struct sl_diag d;

    k->admin = NULL;
    if (rc != 0) {
        if (rc == SL_ENOENT)
            ks_fail(k, rc, ks_admin_reason(k, rc),
                    "topic %s does not exist on %s (create it, or give "
                    "spec.numPartitions and spec.replicationFactor to have "
                    "it created)",
                    k->topic, k->bootstrap);
        else
            ks_fail(k, rc, ks_admin_reason(k, rc), "topic %s on %s: %s",
                    k->topic, k->bootstrap, msg[0] ? msg : sl_strerror(rc));
        ks_opened(k, rc);
        return;
    }
    SL_LOG(SL_LOG_DEBUG, &k->log, "topic %s has %d partitions", k->topic,
           partitions);
    snprintf(client, sizeof(client), "sluice-kafkasink-%s-%s", k->base.ns,
             k->base.name);
    sl_diag_clear(&d);
    rc = sl_kafka_producer_new(k->base.loop, k->props, client, &k->p, &d);
    if (rc != 0)
        ks_fail(k, rc, SL_KAFKASINK_R_CONFIG, "%s%s%s", d.field,
                d.field[0] ? ": " : "", d.msg);
    else
        /* Make the topic known now: its metadata is fetched at once,
         * not when the first event waits for it. */
        k->rkt =
            rd_kafka_topic_new(sl_kafka_producer_handle(k->p), k->topic, NULL);
    ks_opened(k, rc);
}

static void ks_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct ks *k = ks_of(b);
    struct sl_kafka_topic_spec spec = { .name = k->topic,
                                        .partitions = k->partitions,
                                        .replication = k->replication };
    bool ensure = k->partitions > 0 && k->replication > 0;
    struct sl_diag d;
    int rc;

    k->done = done;
    k->done_arg = arg;
    sl_diag_clear(&d);
    rc = sl_kafka_topic_admin(
        b->loop, k->props, &spec,
        ensure ? SL_KAFKA_TOPIC_ENSURE : SL_KAFKA_TOPIC_CHECK,
        k->admin_timeout_ms, ks_admin_done, k, &k->admin, &d);
    if (rc != 0) {
        k->done = NULL;
        k->done_arg = NULL;
        ks_fail(k, rc, SL_KAFKASINK_R_CONFIG, "%s%s%s", d.field,
                d.field[0] ? ": " : "", d.msg[0] ? d.msg : sl_strerror(rc));
        b->state = SL_BACKEND_FAILED;
        SL_LOG(SL_LOG_WARN, &k->log, "cannot open: %s", k->msg);
        ks_later(k, done, arg, rc);
    }
}

/* ---- append ---- */

/* No broker up, as the producer's last statistics say. */
static bool ks_unreachable(const struct ks *k, char *why, size_t n)
{
    const struct sl_kafka_reach *r;

    if (k->p == NULL)
        return false;
    r = sl_kafka_producer_reach(k->p);
    if (r->fatal) {
        snprintf(why, n, "the producer failed for good: %s", r->why);
        return true;
    }
    /* Before the first statistics nothing is known: assume reachable
     * (librdkafka's "all brokers down" error zeroes brokers_up later). */
    if (r->updated_ms == 0 || r->brokers_up > 0)
        return false;
    snprintf(why, n, "no broker of %s is up (%d known)%s%s", k->bootstrap,
             r->brokers_known, r->why[0] ? ": " : "", r->why);
    return true;
}

/* A delivery report (loop thread). */
static void ks_produced(void *arg, int rc, int32_t partition, int64_t offset,
                        const char *msg)
{
    struct ks_append *a = arg;
    struct ks *k = a->k;

    (void)partition;
    (void)offset;
    if (rc != 0 && a->rc == 0) {
        a->rc = rc;
        SL_LOG(SL_LOG_WARN, &k->log, "record to topic %s not delivered: %s",
               k->topic, msg && msg[0] ? msg : sl_strerror(rc));
    }
    if (--a->left > 0)
        return;
    if (a->rc == 0) {
        k->stats.appends++;
        k->stats.events += a->n;
    }
    a->done(a->arg, a->rc);
    sl_free(a);
}

static int ks_append(struct sl_backend *b, struct sl_event *const *events,
                     size_t n, sl_backend_done_fn *done, void *arg)
{
    struct ks *k = ks_of(b);
    struct sl_kafka_encode_opts eo = { .structured = k->structured,
                                       .partitionkey_key = true };
    struct sl_kafka_out out;
    struct ks_append *a;
    char why[256];
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++)
        if (sl_event_size(events[i]) > b->limits.max_event_size)
            return SL_ETOOBIG;
    if (ks_unreachable(k, why, sizeof(why))) {
        SL_LOG(SL_LOG_DEBUG, &k->log, "append refused: %s", why);
        ks_later(k, done, arg, SL_EIO);
        return 0;
    }
    a = sl_xcalloc(1, sizeof(*a));
    a->k = k;
    a->done = done;
    a->arg = arg;
    a->n = n;
    /* One more than the records, dropped after the loop, so that no
     * report can finish the append while records are still produced. */
    a->left = n + 1;
    sl_kafka_out_init(&out);
    for (i = 0; i < n; i++) {
        rc = sl_ce_kafka_encode(events[i], &eo, &out);
        if (rc == 0)
            rc = sl_kafka_produce(k->p, k->topic, RD_KAFKA_PARTITION_UA,
                                  &out.rec, ks_produced, a);
        if (rc != 0)
            break;
    }
    sl_kafka_out_fini(&out);
    if (rc != 0 && i == 0) {
        /* Nothing produced: refused now, done will not run. */
        sl_free(a);
        return rc;
    }
    if (rc != 0) {
        /* Some records are on their way: the append fails with 'rc'
         * once their reports are in. */
        SL_LOG(SL_LOG_WARN, &k->log,
               "%zu of %zu records to topic %s not produced: %s", n - i, n,
               k->topic, sl_strerror(rc));
        a->rc = rc;
        a->left -= n - i;
    }
    if (--a->left == 0) {
        /* Cannot happen (reports come later), but would finish here. */
        ks_later(k, a->done, a->arg, a->rc);
        sl_free(a);
    }
    return 0;
}

/* ---- subscriptions: none ---- */

static int ks_subscribe(struct sl_backend *b, const char *group,
                        const struct sl_backend_sub_opts *opts,
                        sl_backend_record_fn *on_record, void *arg,
                        struct sl_backend_sub **out)
{
    (void)b;
    (void)group;
    (void)opts;
    (void)on_record;
    (void)arg;
    *out = NULL;
    return SL_ENOTSUP;
}

static int ks_settle(struct sl_backend_sub *sub, const struct sl_record *rec,
                     const struct sl_settle *how)
{
    (void)sub;
    (void)rec;
    (void)how;
    return SL_EINVAL;
}

static void ks_unsubscribe(struct sl_backend_sub *sub)
{
    (void)sub;
}

/* ---- close ---- */

static void ks_closed(void *arg)
{
    struct ks *k = arg;
    sl_backend_done_fn *done = k->done;
    void *darg = k->done_arg;

    k->p = NULL;
    k->done = NULL;
    k->done_arg = NULL;
    k->base.state = SL_BACKEND_CLOSED;
    done(darg, 0);
}

static void ks_close(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct ks *k = ks_of(b);

    if (k->p == NULL) {
        b->state = SL_BACKEND_CLOSED;
        ks_later(k, done, arg, 0);
        return;
    }
    k->done = done;
    k->done_arg = arg;
    if (k->rkt != NULL) {
        rd_kafka_topic_destroy(k->rkt);
        k->rkt = NULL;
    }
    sl_kafka_producer_close(k->p, KS_CLOSE_TIMEOUT, ks_closed, k);
}

static void ks_fini(struct sl_backend *b)
{
    struct ks *k = ks_of(b);

    /* Opening never completed (freed with the check in flight). */
    sl_kafka_admin_cancel(k->admin);
    k->admin = NULL;
    ks_init_undo(k);
}

/* ---- health, status, stats ---- */

static int ks_health(struct sl_backend *b, struct sl_diag *why)
{
    struct ks *k = ks_of(b);
    char msg[256];

    if (ks_unreachable(k, msg, sizeof(msg)))
        return sl_diag_set(why, SL_EIO, SL_KAFKASINK_R_UNREACHABLE, "%s", msg);
    return 0;
}

int sl_kafkasink_status(struct sl_backend *b, struct sl_diag *why)
{
    struct ks *k = ks_of(b);

    switch (b->state) {
    case SL_BACKEND_OPEN:
        return ks_health(b, why);
    case SL_BACKEND_FAILED:
        return sl_diag_set(why, k->err ? k->err : SL_EIO, k->reason, "%s",
                           k->msg);
    default:
        return sl_diag_set(why, SL_EAGAIN, "", "the producer is %s",
                           b->state == SL_BACKEND_CLOSING ||
                                   b->state == SL_BACKEND_CLOSED
                               ? "closing"
                               : "being set up");
    }
}

static void ks_stats(struct sl_backend *b, struct sl_backend_stats *out)
{
    *out = ks_of(b)->stats;
}

const struct sl_backend_ops sl_kafkasink_ops = {
    .cls = "KafkaSink",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct ks),
    .flags = SL_BACKEND_F_PLAIN,
    .init = ks_init,
    .open = ks_open,
    .append = ks_append,
    .subscribe = ks_subscribe,
    .settle = ks_settle,
    .unsubscribe = ks_unsubscribe,
    .close = ks_close,
    .stats = ks_stats,
    .health = ks_health,
    .fini = ks_fini,
};
