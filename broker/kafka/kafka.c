/*
 * broker/kafka/kafka.c - the Kafka broker log: one topic per broker
 * (knative-broker-<ns>-<name>, or the external topic its annotation
 * names), each event a record in CloudEvents binary mode with key =
 * partitionkey, appended through an idempotent producer (acks=all); one
 * consumer group per trigger (consumer.c). The same instance, built by
 * sl_kafka_reader_new, reads existing topics for KafkaSource.
 *
 * This file holds the configuration (the Broker's ConfigMap and the keys
 * the data plane adds, mapped onto librdkafka properties), the life cycle
 * (open = producer + topic ensure/check + the partitions' ends; close =
 * pending appends first; drop = delete the topic in the background),
 * appends, health, and the record decoder both faces share.
 * docs/kafka.md "Broker class Kafka" has the decisions.
 */
#include "broker/kafka/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/str.h"
#include "proto/http.h"

#define KB_CHECK_PERIOD_MS 10000
#define KB_CLOSE_TIMEOUT   15000

static struct sl__kafka *kb_of(struct sl_backend *b)
{
    return sl_container_of(b, struct sl__kafka, base);
}

int64_t sl__kafka_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sl__kafka_cluster(const struct sl__kafka *k, char *out, size_t n)
{
    struct json_object *v = NULL;

    json_object_object_get_ex(k->props, "bootstrap.servers", &v);
    snprintf(out, n, "%s", v ? json_object_get_string(v) : "");
}

/* ---- configuration ---- */

static const char *cfg_str(const struct json_object *config, const char *key)
{
    struct json_object *v;

    if (!config || !json_object_is_type(config, json_type_object) ||
        !json_object_object_get_ex((struct json_object *)config, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* A positive integer setting; 'out' keeps its value when absent. */
static int cfg_pos(const struct json_object *config, const char *key, int *out,
                   struct sl_diag *d)
{
    const char *s = cfg_str(config, key);
    int64_t v;

    if (!s)
        return 0;
    if (sl_str_to_i64(s, strlen(s), false, 1, 100000, &v) < 0)
        return sl_diag_set(d, SL_EINVAL, "spec.config",
                           "%s: want a positive integer, got '%s'", key, s);
    *out = (int)v;
    return 0;
}

static bool topic_name_ok(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > SL__KAFKA_TOPIC_MAX || strcmp(t, ".") == 0 ||
        strcmp(t, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int sl_kafka_broker_topic(const char *ns, const char *name,
                          const struct json_object *config, char *out, size_t n)
{
    const char *ext = cfg_str(config, SL_KAFKA_CFG_EXTERNAL_TOPIC);
    int w;

    if (ext && *ext)
        w = snprintf(out, n, "%s", ext);
    else
        w = snprintf(out, n, "knative-broker-%s-%s", ns, name);
    if (w < 0 || (size_t)w >= n)
        return SL_ETOOBIG;
    return topic_name_ok(out) ? 0 : SL_EINVAL;
}

/* The Secret keys of Knative's Kafka broker and their librdkafka names. */
static const struct {
    const char *key;  /* after SL_KAFKA_CFG_SECRET_PREFIX */
    const char *prop; /* librdkafka property */
} kb_secret_map[] = {
    { "protocol", "security.protocol" }, { "sasl.mechanism", "sasl.mechanism" },
    { "user", "sasl.username" },         { "password", "sasl.password" },
    { "ca.crt", "ssl.ca.pem" },          { "user.crt", "ssl.certificate.pem" },
    { "user.key", "ssl.key.pem" },
};

static const char *secret_val(const struct json_object *config, const char *key)
{
    char k[96];

    snprintf(k, sizeof(k), "%s%s", SL_KAFKA_CFG_SECRET_PREFIX, key);
    return cfg_str(config, k);
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/*
 * Check 'config' (the strings the data plane hands over) and, when 'k' is
 * not NULL, fill its topic settings and properties.
 */
static int kb_config(const char *ns, const char *name,
                     const struct json_object *config, struct sl__kafka *k,
                     struct sl_diag *d)
{
    static const char *const protocols[] = { "PLAINTEXT", "SSL",
                                             "SASL_PLAINTEXT", "SASL_SSL",
                                             NULL };
    static const char *const mechanisms[] = { "PLAIN", "SCRAM-SHA-256",
                                              "SCRAM-SHA-512", NULL };
    const char *bs = cfg_str(config, "bootstrap.servers");
    const char *proto = secret_val(config, "protocol");
    const char *mech = secret_val(config, "sasl.mechanism");
    int partitions = 10, replication = 0, rc;
    char topic[SL__KAFKA_TOPIC_MAX + 64];

    if (!bs || !*bs)
        return sl_diag_set(d, SL_EINVAL, "spec.config",
                           "bootstrap.servers is required (in the Broker's "
                           "config ConfigMap, or sluice serve "
                           "--kafka-bootstrap)");
    if ((rc = cfg_pos(config, "default.topic.partitions", &partitions, d)) <
            0 ||
        (rc = cfg_pos(config, "default.topic.replication.factor", &replication,
                      d)) < 0)
        return rc;
    rc = sl_kafka_broker_topic(ns, name, config, topic, sizeof(topic));
    if (rc < 0) {
        const char *ext = cfg_str(config, SL_KAFKA_CFG_EXTERNAL_TOPIC);
        if (ext && *ext)
            return sl_diag_set(d, SL_EINVAL,
                               "metadata.annotations." SL_KAFKA_EXTERNAL_TOPIC,
                               "'%s' is not a Kafka topic name (1..249 of "
                               "a-z A-Z 0-9 . _ -)",
                               ext);
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "the topic name knative-broker-%s-%s is longer "
                           "than Kafka's 249 characters",
                           ns, name);
    }
    if (proto && !one_of(proto, protocols))
        return sl_diag_set(d, SL_EINVAL, "spec.config",
                           "auth.secret.ref.name: the Secret's protocol '%s' "
                           "is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
                           "SASL_SSL",
                           proto);
    if (mech && !one_of(mech, mechanisms))
        return sl_diag_set(d, SL_EINVAL, "spec.config",
                           "auth.secret.ref.name: the Secret's sasl.mechanism "
                           "'%s' is not one of PLAIN, SCRAM-SHA-256, "
                           "SCRAM-SHA-512",
                           mech);
    if (!k)
        return 0;
    k->partitions = partitions;
    k->replication = replication;
    k->topics = sl_xcalloc(1, sizeof(*k->topics));
    k->topics[0] = sl_xstrdup(topic);
    k->ntopics = 1;
    k->external = cfg_str(config, SL_KAFKA_CFG_EXTERNAL_TOPIC) != NULL &&
                  *cfg_str(config, SL_KAFKA_CFG_EXTERNAL_TOPIC);
    k->topic_config = json_object_new_object();
    json_object_object_foreach((struct json_object *)config, key, val)
    {
        static const char pfx[] = "default.topic.config.";
        if (strncmp(key, pfx, sizeof(pfx) - 1) == 0 &&
            key[sizeof(pfx) - 1] != '\0' &&
            json_object_is_type(val, json_type_string))
            json_object_object_add(k->topic_config, key + sizeof(pfx) - 1,
                                   json_object_get(val));
    }
    k->props = json_object_new_object();
    json_object_object_add(k->props, "bootstrap.servers",
                           json_object_new_string(bs));
    for (size_t i = 0; i < sizeof(kb_secret_map) / sizeof(kb_secret_map[0]);
         i++) {
        const char *v = secret_val(config, kb_secret_map[i].key);
        if (v && *v)
            json_object_object_add(k->props, kb_secret_map[i].prop,
                                   json_object_new_string(v));
    }
    /* Knative's default when a SASL protocol names no mechanism. */
    if (proto && strncmp(proto, "SASL_", 5) == 0 && !mech)
        json_object_object_add(k->props, "sasl.mechanism",
                               json_object_new_string("PLAIN"));
    return 0;
}

static int kb_validate(struct json_object *broker, struct json_object *config,
                       struct sl_diag *d)
{
    struct json_object *meta = NULL, *v = NULL;
    const char *ns = "default", *name = "";

    if (json_object_object_get_ex(broker, "metadata", &meta)) {
        if (json_object_object_get_ex(meta, "namespace", &v))
            ns = json_object_get_string(v);
        if (json_object_object_get_ex(meta, "name", &v))
            name = json_object_get_string(v);
    }
    return kb_config(ns, name, config, NULL, d);
}

/* ---- decoding (both faces) ---- */

struct sl_event *sl__kafka_decode(struct sl__kafka *k,
                                  const struct sl_kafka_origin *o,
                                  const struct sl_kafka_record *rec)
{
    struct sl_ce_opts opts = { .max_event_size =
                                   k->base.limits.max_event_size };
    struct sl_event *ev = NULL;

    if (k->decode)
        return k->decode(k->decode_arg, o, rec);
    if (sl_ce_kafka_decode(rec, &opts, &ev, NULL, NULL) < 0)
        return NULL;
    /* The pass-through headers stored beside the event (kb_produce). A
     * value that breaks a rule of sl_event_header_add is left out. */
    for (size_t i = 0; i < rec->nheaders; i++) {
        const struct sl_kafka_header *h = &rec->headers[i];
        char val[1024];
        if (!h->value || h->len >= sizeof(val) ||
            (!sl_ce_http_header_passes(h->name) &&
             !sl_ce_http_header_is_trace(h->name)))
            continue;
        memcpy(val, h->value, h->len);
        val[h->len] = '\0';
        if (strlen(val) == h->len)
            (void)sl_event_header_add(ev, h->name, val);
    }
    return ev;
}

/* ---- life cycle ---- */

static void kb_check_fire(void *arg);

static int kb_init(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                   struct sl_diag *d)
{
    struct sl__kafka *k = kb_of(b);
    int rc;

    sl_log_ctx_init(&k->log, "broker", b->ns, b->name);
    k->check = sl_timer_new(b->loop, kb_check_fire, k);
    rc = kb_config(b->ns, b->name, cfg->config, k, d);
    if (rc < 0) {
        sl_timer_free(k->check);
        k->check = NULL;
        json_object_put(k->props);
        json_object_put(k->topic_config);
        if (k->topics)
            sl_free(k->topics[0]);
        sl_free(k->topics);
        k->props = k->topic_config = NULL;
        k->topics = NULL;
    }
    return rc;
}

/* A completion run from the loop, never from inside the caller. */
struct kb_posted {
    sl_backend_done_fn *done;
    void *arg;
    int rc;
};

static void kb_posted_run(void *p)
{
    struct kb_posted *x = p;

    x->done(x->arg, x->rc);
    sl_free(x);
}

static void kb_post(struct sl__kafka *k, sl_backend_done_fn *done, void *arg,
                    int rc)
{
    struct kb_posted *x = sl_xmalloc(sizeof(*x));

    *x = (struct kb_posted){ done, arg, rc };
    sl_loop_post(k->base.loop, kb_posted_run, x);
}

static void kb_finish_pending(struct sl__kafka *k, int rc)
{
    sl_backend_done_fn *done = k->pending_done;

    k->pending_done = NULL;
    if (done)
        done(k->pending_arg, rc);
}

static void kb_set_known_end(struct sl__kafka *k, int32_t p, int64_t end)
{
    if (p < 0 || p > 100000)
        return;
    if (p >= k->nknown) {
        int n = p + 1;
        k->known_end = sl_xrealloc(k->known_end, (size_t)n * sizeof(int64_t));
        for (int i = k->nknown; i < n; i++)
            k->known_end[i] = -1;
        k->nknown = n;
    }
    if (end > k->known_end[p])
        k->known_end[p] = end;
}

int64_t sl__kafka_known_end(const struct sl__kafka *k, int32_t partition)
{
    if (partition < 0 || partition >= k->nknown)
        return -1;
    return k->known_end[partition];
}

/* The high watermarks of the topic's partitions, read once at open. */
struct kb_ends {
    struct sl__kafka *k;
    rd_kafka_t *rk; /* the producer's handle (borrowed) */
    char *topic;
    int n;
    int64_t *hi; /* -1: unknown */
};

static void kb_ends_work(void *arg)
{
    struct kb_ends *e = arg;

    for (int i = 0; i < e->n; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(e->rk, e->topic, i, &lo, &hi,
                                             SL__KAFKA_JOB_TIMEOUT_MS) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
            break; /* unknown ends: new groups then read them themselves */
        e->hi[i] = hi;
    }
}

static void kb_ends_after(void *arg)
{
    struct kb_ends *e = arg;
    struct sl__kafka *k = e->k;

    for (int i = 0; i < e->n; i++)
        if (e->hi[i] >= 0)
            kb_set_known_end(k, i, e->hi[i]);
    sl_free(e->hi);
    sl_free(e->topic);
    sl_free(e);
    if (k->base.state == SL_BACKEND_OPENING) {
        k->base.state = SL_BACKEND_OPEN;
        k->opened_once = true;
        sl_timer_start(k->check, KB_CHECK_PERIOD_MS, KB_CHECK_PERIOD_MS);
        kb_finish_pending(k, 0);
    }
}

static void kb_checked(void *arg, int rc, int partitions, const char *msg)
{
    struct sl__kafka *k = arg;

    k->admin = NULL;
    if (rc != k->topic_rc || !k->checked) {
        if (rc == 0)
            SL_LOG(SL_LOG_INFO, &k->log, "topic %s: %d partitions%s",
                   k->topics[0], partitions, k->external ? " (external)" : "");
        else
            SL_LOG(SL_LOG_WARN, &k->log, "topic %s: %s", k->topics[0], msg);
    }
    k->checked = true;
    k->topic_rc = rc;
    snprintf(k->topic_msg, sizeof(k->topic_msg), "%s", msg ? msg : "");
    if (k->base.state != SL_BACKEND_OPENING)
        return;
    if (rc == 0 && partitions > 0) {
        struct kb_ends *e = sl_xcalloc(1, sizeof(*e));
        e->k = k;
        e->rk = sl_kafka_producer_handle(k->prod);
        e->topic = sl_xstrdup(k->topics[0]);
        e->n = partitions;
        e->hi = sl_xmalloc((size_t)partitions * sizeof(int64_t));
        for (int i = 0; i < partitions; i++)
            e->hi[i] = -1;
        sl_kafka_call(k->base.loop, kb_ends_work, kb_ends_after, e, NULL);
        return;
    }
    /* Open anyway: health says what is wrong, and the periodic check
     * (or the cluster coming back) makes it right without a reopen. */
    k->base.state = SL_BACKEND_OPEN;
    k->opened_once = true;
    sl_timer_start(k->check, KB_CHECK_PERIOD_MS, KB_CHECK_PERIOD_MS);
    kb_finish_pending(k, 0);
}

/* Start a topic ensure (managed) or check (external). */
static int kb_check_start(struct sl__kafka *k, struct sl_diag *d)
{
    struct sl_kafka_topic_spec spec = {
        .name = k->topics[0],
        .partitions = k->partitions,
        .replication = k->replication,
        .config = k->topic_config,
    };

    return sl_kafka_topic_admin(k->base.loop, k->props, &spec,
                                k->external ? SL_KAFKA_TOPIC_CHECK
                                            : SL_KAFKA_TOPIC_ENSURE,
                                0, kb_checked, k, &k->admin, d);
}

static void kb_check_fire(void *arg)
{
    struct sl__kafka *k = arg;
    struct sl_diag d;

    if (k->reader || k->admin || k->base.state != SL_BACKEND_OPEN)
        return;
    sl_diag_clear(&d);
    if (kb_check_start(k, &d) < 0)
        SL_LOG(SL_LOG_WARN, &k->log, "cannot check topic %s: %s", k->topics[0],
               d.msg);
}

static void kb_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct sl__kafka *k = kb_of(b);
    char cid[300];
    struct sl_diag d;
    int rc;

    k->pending_done = done;
    k->pending_arg = arg;
    if (k->reader) {
        /* Consumers connect when they subscribe; health tells the rest. */
        b->state = SL_BACKEND_OPEN;
        k->opened_once = true;
        kb_post(k, done, arg, 0);
        k->pending_done = NULL;
        return;
    }
    sl_diag_clear(&d);
    snprintf(cid, sizeof(cid), "sluice-broker-%s-%s", b->ns, b->name);
    rc = sl_kafka_producer_new(b->loop, k->props, cid, &k->prod, &d);
    if (rc == 0)
        rc = kb_check_start(k, &d);
    if (rc < 0) {
        SL_LOG(SL_LOG_ERROR, &k->log, "cannot open: %s", d.msg);
        b->state = SL_BACKEND_FAILED;
        k->pending_done = NULL;
        kb_post(k, done, arg, rc);
    }
}

static void kb_prod_closed(void *arg)
{
    struct sl__kafka *k = arg;

    k->prod = NULL;
    k->base.state = SL_BACKEND_CLOSED;
    kb_finish_pending(k, 0);
}

static void kb_close(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct sl__kafka *k = kb_of(b);

    sl_timer_stop(k->check);
    sl_kafka_admin_cancel(k->admin);
    k->admin = NULL;
    if (!k->prod) {
        b->state = SL_BACKEND_CLOSED;
        kb_post(k, done, arg, 0);
        return;
    }
    k->pending_done = done;
    k->pending_arg = arg;
    sl_kafka_producer_close(k->prod, KB_CLOSE_TIMEOUT, kb_prod_closed, k);
}

static void kb_fini(struct sl_backend *b)
{
    struct sl__kafka *k = kb_of(b);

    sl_kafka_admin_cancel(k->admin);
    sl_timer_free(k->check);
    json_object_put(k->props);
    json_object_put(k->topic_config);
    for (size_t i = 0; i < k->ntopics; i++)
        sl_free(k->topics[i]);
    sl_free(k->topics);
    for (size_t i = 0; i < k->ngroups; i++)
        sl_free(k->groups[i]);
    sl_free(k->groups);
    sl_free(k->known_end);
}

static void kb_stats(struct sl_backend *b, struct sl_backend_stats *out)
{
    *out = kb_of(b)->stats;
}

/* ---- drop: delete the topic in the background ---- */

struct kb_drop {
    char topic[SL__KAFKA_TOPIC_MAX + 1];
    struct sl_log_ctx log;
};

static void kb_dropped(void *arg, int rc, int partitions, const char *msg)
{
    struct kb_drop *x = arg;

    (void)partitions;
    if (rc == 0)
        SL_LOG(SL_LOG_INFO, &x->log, "topic %s deleted", x->topic);
    else
        SL_LOG(SL_LOG_WARN, &x->log, "cannot delete topic %s: %s", x->topic,
               msg);
    sl_free(x);
}

static int kb_drop(struct sl_backend *b, struct sl_diag *d)
{
    struct sl__kafka *k = kb_of(b);
    struct sl_kafka_topic_spec spec = { 0 };
    struct kb_drop *x;
    int rc;

    if (k->reader || k->external || !k->topics)
        return 0;
    /* The groups go to the end first: should the delete fail or lag, a
     * Broker made again under this name still starts empty for them. */
    sl__kafka_forget_all(k);
    x = sl_xcalloc(1, sizeof(*x));
    snprintf(x->topic, sizeof(x->topic), "%s", k->topics[0]);
    x->log = k->log;
    spec.name = x->topic;
    rc = sl_kafka_topic_admin(b->loop, k->props, &spec, SL_KAFKA_TOPIC_DELETE,
                              0, kb_dropped, x, NULL, d);
    if (rc < 0)
        sl_free(x);
    return rc;
}

/* ---- health ---- */

/* The producer's view: 0, or SL_EIO with 'why'. */
static int kb_reach_health(const struct sl_kafka_reach *r, struct sl_diag *why)
{
    if (r && r->fatal)
        return sl_diag_set(why, SL_EIO, "bootstrap.servers",
                           "Kafka producer failed for good (%s); change the "
                           "Broker or restart sluice to make a new one",
                           r->why);
    if (!r || r->updated_ms == 0 || r->brokers_up > 0)
        return 0;
    return sl_diag_set(why, SL_EIO, "bootstrap.servers",
                       "Kafka cluster unreachable: %s",
                       r->why[0] ? r->why : "no broker is up");
}

static int kb_topic_health(struct sl__kafka *k, struct sl_diag *why)
{
    const char *t = k->topics[0];

    if (k->err_ms != 0 && k->err_rc == SL_EPERM)
        return sl_diag_set(why, SL_EIO, "auth.secret.ref.name",
                           "not authorized to write to Kafka topic %s: %s", t,
                           k->err_msg);
    if (!k->checked || k->topic_rc == 0) {
        if (k->err_ms != 0 && k->err_rc == SL_ENOENT)
            return sl_diag_set(why, SL_EIO, "topic",
                               "Kafka topic %s does not exist: %s", t,
                               k->err_msg);
        return 0;
    }
    switch (k->topic_rc) {
    case SL_ENOENT:
        return sl_diag_set(why, SL_EIO, "topic",
                           "Kafka topic %s does not exist%s", t,
                           k->external ? " (external topic: sluice does not "
                                         "create it)"
                                       : "");
    case SL_EPERM:
        return sl_diag_set(why, SL_EIO, "auth.secret.ref.name",
                           "Kafka topic %s: %s", t, k->topic_msg);
    default:
        return sl_diag_set(why, SL_EIO, "topic",
                           "Kafka topic %s is not ready: %s", t, k->topic_msg);
    }
}

static int kb_health(struct sl_backend *b, struct sl_diag *why)
{
    struct sl__kafka *k = kb_of(b);
    int rc;

    if (k->reader)
        return sl__kafka_subs_health(k, why);
    rc =
        kb_reach_health(k->prod ? sl_kafka_producer_reach(k->prod) : NULL, why);
    if (rc == 0)
        rc = kb_topic_health(k, why);
    return rc;
}

/* ---- append ---- */

struct kb_append {
    struct sl__kafka *k;
    sl_backend_done_fn *done;
    void *arg;
    size_t left; /* produced, not reported */
    size_t n;
    int rc;
};

static void kb_append_finish(struct kb_append *a)
{
    if (a->rc == 0) {
        a->k->stats.appends++;
        a->k->stats.events += a->n;
        a->k->stats.transactions++;
    }
    a->done(a->arg, a->rc);
    sl_free(a);
}

static void kb_produced(void *arg, int rc, int32_t partition, int64_t offset,
                        const char *msg)
{
    struct kb_append *a = arg;
    struct sl__kafka *k = a->k;

    if (rc == 0) {
        kb_set_known_end(k, partition, offset + 1);
        k->err_ms = 0;
    } else {
        if (a->rc == 0)
            a->rc = rc;
        if (k->err_ms == 0 || k->err_rc != rc)
            SL_LOG(SL_LOG_WARN, &k->log, "append to topic %s failed: %s",
                   k->topics[0], msg && *msg ? msg : sl_strerror(rc));
        k->err_ms = sl__kafka_wall_ms();
        k->err_rc = rc;
        snprintf(k->err_msg, sizeof(k->err_msg), "%s",
                 msg && *msg ? msg : sl_strerror(rc));
    }
    if (--a->left == 0)
        kb_append_finish(a);
}

/*
 * Produce one event: the binding's binary-mode record (key = partitionkey)
 * plus its transport headers as Kafka headers of their own names, which
 * the binding's decoder skips and sl__kafka_decode reads back.
 */
static int kb_produce(struct sl__kafka *k, const struct sl_event *ev,
                      struct kb_append *a)
{
    static const struct sl_kafka_encode_opts opts = { .partitionkey_key =
                                                          true };
    struct sl_kafka_header *hs = NULL;
    struct sl_kafka_record rec;
    struct sl_kafka_out out;
    int rc;

    sl_kafka_out_init(&out);
    rc = sl_ce_kafka_encode(ev, &opts, &out);
    if (rc < 0)
        goto out;
    rec = out.rec;
    if (ev->nhdrs > 0) {
        hs = sl_xcalloc(out.rec.nheaders + ev->nhdrs, sizeof(*hs));
        memcpy(hs, out.rec.headers, out.rec.nheaders * sizeof(*hs));
        for (size_t i = 0; i < ev->nhdrs; i++)
            hs[out.rec.nheaders + i] =
                (struct sl_kafka_header){ ev->hdrs[i].name, ev->hdrs[i].value,
                                          strlen(ev->hdrs[i].value) };
        rec.headers = hs;
        rec.nheaders = out.rec.nheaders + ev->nhdrs;
    }
    rc = sl_kafka_produce(k->prod, k->topics[0], RD_KAFKA_PARTITION_UA, &rec,
                          kb_produced, a);
out:
    sl_free(hs);
    sl_kafka_out_fini(&out);
    return rc;
}

/*
 * Kafka has no atomic multi-record append outside transactions: the
 * records of one append are produced one by one and done reports the
 * first failure once every record is reported (some may then be in the
 * log: a client that retries after a 503 may add duplicates, which
 * at-least-once delivery allows).
 */
static int kb_append(struct sl_backend *b, struct sl_event *const *events,
                     size_t n, sl_backend_done_fn *done, void *arg)
{
    struct sl__kafka *k = kb_of(b);
    struct kb_append *a;
    struct sl_diag why;

    if (k->reader)
        return SL_ENOTSUP;
    if (!k->prod)
        return SL_EAGAIN;
    for (size_t i = 0; i < n; i++)
        if (sl_event_size(events[i]) > b->limits.max_event_size)
            return SL_ETOOBIG;
    /* Fail fast while the cluster is known to be unreachable or the
     * topic missing, rather than after message.timeout.ms. */
    sl_diag_clear(&why);
    if (kb_reach_health(sl_kafka_producer_reach(k->prod), &why) < 0 ||
        (k->checked && k->topic_rc == SL_ENOENT))
        return SL_EAGAIN;
    a = sl_xcalloc(1, sizeof(*a));
    *a = (struct kb_append){ .k = k, .done = done, .arg = arg, .n = n };
    for (size_t i = 0; i < n; i++) {
        int rc = kb_produce(k, events[i], a);
        if (rc < 0) {
            if (i == 0) {
                sl_free(a);
                return rc == SL_EBUSY ? SL_EAGAIN : rc;
            }
            a->rc = rc;
            break;
        }
        a->left++;
    }
    /* left >= 1 here: the first record was taken, and reports come
     * later, never from inside sl_kafka_produce */
    return 0;
}

/* ---- the reader ---- */

/* Its settings are filled in by sl_kafka_reader_new after this. */
static int kb_reader_init(struct sl_backend *b,
                          const struct sl_backend_cfg *cfg, struct sl_diag *d)
{
    struct sl__kafka *k = kb_of(b);

    (void)cfg;
    (void)d;
    k->reader = true;
    k->check = sl_timer_new(b->loop, kb_check_fire, k);
    return 0;
}

static int kb_reader_append(struct sl_backend *b,
                            struct sl_event *const *events, size_t n,
                            sl_backend_done_fn *done, void *arg)
{
    (void)b;
    (void)events;
    (void)n;
    (void)done;
    (void)arg;
    return SL_ENOTSUP;
}

static const struct sl_backend_ops kb_reader_ops = {
    .cls = "KafkaReader",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct sl__kafka),
    .init = kb_reader_init,
    .open = kb_open,
    .append = kb_reader_append,
    .subscribe = sl__kafka_subscribe,
    .settle = sl__kafka_settle,
    .unsubscribe = sl__kafka_unsubscribe,
    .close = kb_close,
    .forget = sl__kafka_forget,
    .stats = kb_stats,
    .health = kb_health,
    .fini = kb_fini,
};

int sl_kafka_reader_new(const struct sl_kafka_reader_cfg *cfg,
                        struct sl_backend **out, struct sl_diag *d)
{
    struct sl_backend_cfg bc = { 0 };
    struct sl_backend *b = NULL;
    struct sl__kafka *k;
    const char *bs;
    int rc;

    *out = NULL;
    if (!cfg || !cfg->loop)
        return sl_diag_set(d, SL_EINVAL, "", "a reader needs a loop");
    if (!cfg->topics || cfg->ntopics == 0)
        return sl_diag_set(d, SL_EINVAL, "topics", "no topic to read");
    for (size_t i = 0; i < cfg->ntopics; i++)
        if (!cfg->topics[i] || !topic_name_ok(cfg->topics[i]))
            return sl_diag_set(d, SL_EINVAL, "topics",
                               "'%s' is not a Kafka topic name",
                               cfg->topics[i] ? cfg->topics[i] : "");
    bs = cfg_str(cfg->props, "bootstrap.servers");
    if (!bs || !*bs)
        return sl_diag_set(d, SL_EINVAL, "bootstrap.servers",
                           "bootstrap.servers is required");
    bc.loop = cfg->loop;
    bc.ns = "";
    bc.name = cfg->log_name ? cfg->log_name : "";
    bc.data_dir = "";
    bc.limits.max_event_size = cfg->max_event_size;
    rc = sl_backend_new(&kb_reader_ops, &bc, &b, d);
    if (rc < 0)
        return rc;
    k = kb_of(b);
    sl_log_ctx_init(&k->log, "reader", NULL, cfg->log_name);
    k->props = json_object_new_object();
    json_object_object_foreach((struct json_object *)cfg->props, key, val)
    {
        if (json_object_is_type(val, json_type_string))
            json_object_object_add(k->props, key, json_object_get(val));
    }
    k->topics = sl_xcalloc(cfg->ntopics, sizeof(*k->topics));
    for (size_t i = 0; i < cfg->ntopics; i++)
        k->topics[i] = sl_xstrdup(cfg->topics[i]);
    k->ntopics = cfg->ntopics;
    k->external = true;
    k->earliest = cfg->earliest;
    k->decode = cfg->decode;
    k->decode_arg = cfg->decode_arg;
    *out = b;
    return 0;
}

/* ---- the broker class ---- */

const struct sl_backend_ops sl_backend_kafka = {
    .cls = "Kafka",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct sl__kafka),
    .validate = kb_validate,
    .init = kb_init,
    .open = kb_open,
    .append = kb_append,
    .subscribe = sl__kafka_subscribe,
    .settle = sl__kafka_settle,
    .unsubscribe = sl__kafka_unsubscribe,
    .close = kb_close,
    .drop = kb_drop,
    .forget = sl__kafka_forget,
    .stats = kb_stats,
    .health = kb_health,
    .fini = kb_fini,
};
