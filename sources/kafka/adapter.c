/*
 * sources/kafka/adapter.c - the KafkaSource adapter (reference section
 * 6; docs/kafka-source.md).
 *
 * A KafkaSource runs spec.consumers consumers of consumer group
 * spec.consumerGroup over spec.topics. Each consumer is a Kafka reader
 * (broker/kafka/kafka.h: a subscribe-only backend whose decode hook is
 * the record mapping of sources/kafka/map.c) driven by a dispatcher
 * (triggers/dispatch.h; ordered or unordered per spec.ordering, no
 * filter) with a delivery (sinks/delivery.h) to the sink: the spec's
 * retry policy, the dead-letter sink, no reply forwarding. So retries,
 * dead-lettering and at-least-once offset commits are the machinery
 * triggers use: a record's offset is committed once its outcome is final
 * (delivered, dead-lettered or given up), never before.
 *
 * States of one consumer:
 *
 *   NONE -start-> OPENING -open ok-> OPEN (dispatching)
 *                         -open failed-> FAILED
 *   OPEN, FAILED -stop-> CLOSING -close done-> NONE (reader freed)
 *   OPENING -stop-> (open completes) -> CLOSING -> NONE
 *
 * The source is STOPPED once every consumer is back to NONE. A timer
 * polls each open reader's health every second; whenever the report
 * (sl_source_report) changes, the core is told (sl_source_changed), so
 * that the status follows the cluster: unreachable, not authorized,
 * consumers joining.
 *
 * There is no update slot: a changed spec, sink or Secret re-creates the
 * source (the consumers leave the group and new ones join it, resuming
 * from the committed offsets).
 */
#include "sources/kafka/kafka.h"

#include <stdio.h>
#include <string.h>

#include "broker/backend.h"
#include "broker/kafka/kafka.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "resource/schema.h"
#include "sinks/delivery.h"
#include "sinks/retry.h"
#include "sources/source.h"
#include "triggers/dispatch.h"

/* Knative's delivery of a KafkaSource without spec.delivery
 * (eventing-kafka-broker's source reconciler). */
#define KSRC_DEFAULT_DELIVERY                                           \
    "{\"retry\":10,\"backoffPolicy\":\"exponential\",\"backoffDelay\":" \
    "\"PT10S\",\"timeout\":\"PT600S\"}"
/* Per-attempt timeout when the delivery gives none (Knative's Kafka
 * dispatcher: 600 000 ms). */
#define KSRC_DEFAULT_TIMEOUT_MS 600000
#define KSRC_HEALTH_MS          1000

enum ksrc_cstate {
    KC_NONE = 0,
    KC_OPENING,
    KC_OPEN,
    KC_FAILED,
    KC_CLOSING,
};

struct kafka_source;

struct ksrc_consumer {
    struct kafka_source *ks;
    unsigned idx;
    enum ksrc_cstate st;
    struct sl_backend *reader;
    struct sl_delivery *dl;
    struct sl_dispatch *dp;
    char why[SL_DIAG_MSG_MAX]; /* FAILED: what went wrong */
    int health_rc;             /* OPEN: the reader's last health, 0 = fine */
    char health[SL_DIAG_MSG_MAX];
};

struct kafka_source {
    struct sl_source base;
    struct sl_ksrc_spec spec;
    struct sl_ksrc_map map;
    struct sl_ce_opts ce;
    struct sl_retry_policy policy;
    struct ksrc_consumer *c;
    size_t nc;
    struct sl_timer *health;
    bool stopping;
    size_t closing; /* consumers whose reader is not closed yet */
    sl_source_done_fn *stop_done;
    void *stop_arg;
    uint32_t max_in_flight;       /* sluice.dev/max-in-flight, 0: default */
    double max_rate;              /* sluice.dev/max-rate, 0: none */
    struct sl_source_report last; /* what the core was last told */
    uint64_t skipped;             /* records the mapping refused */
};

#define KSRC(src) sl_container_of((src), struct kafka_source, base)

/* ---- records ---- */

/* The reader's decode hook: a record as an event, or NULL to skip it. */
static struct sl_event *ksrc_decode(void *arg, const struct sl_kafka_origin *o,
                                    const struct sl_kafka_record *rec)
{
    struct kafka_source *ks = arg;
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ksrc_map_record(&ks->map, o, rec, &ev, &info, &d);
    if (rc != 0) {
        ks->skipped++;
        SL_LOG(SL_LOG_WARN, &ks->base.log,
               "record %s/%d/%lld skipped (%llu so far): %s%s%s", o->topic,
               (int)o->partition, (long long)o->offset,
               (unsigned long long)ks->skipped, d.field, d.field[0] ? ": " : "",
               d.msg);
        return NULL;
    }
    if (info.kind == SL_KSRC_WRAPPED && info.decode_rc != SL_ENOENT)
        SL_LOG(SL_LOG_DEBUG, &ks->base.log,
               "record %s/%d/%lld is not a valid CloudEvent (%s%s%s): sent "
               "as %s",
               o->topic, (int)o->partition, (long long)o->offset,
               info.why.field, info.why.field[0] ? ": " : "", info.why.msg,
               SL_KSRC_EVENT_TYPE);
    if (info.dropped_content_type)
        SL_LOG(SL_LOG_DEBUG, &ks->base.log,
               "record %s/%d/%lld: its content-type is not a media type; "
               "no datacontenttype",
               o->topic, (int)o->partition, (long long)o->offset);
    return ev;
}

/* ---- reporting ---- */

static void ksrc_report(struct sl_source *src, struct sl_source_report *out)
{
    struct kafka_source *ks = KSRC(src);
    size_t open = 0, opening = 0;
    const struct ksrc_consumer *bad = NULL, *sick = NULL;

    for (size_t i = 0; i < ks->nc; i++) {
        const struct ksrc_consumer *c = &ks->c[i];

        if (c->st == KC_FAILED && bad == NULL)
            bad = c;
        else if (c->st == KC_OPENING)
            opening++;
        else if (c->st == KC_OPEN) {
            open++;
            if (c->health_rc != 0 && sick == NULL)
                sick = c;
        }
    }
    out->consumers = (int32_t)open;
    if (bad != NULL) {
        out->health = SL_SOURCE_BROKEN;
        snprintf(out->reason, sizeof(out->reason), "ConsumerFailed");
        snprintf(out->msg, sizeof(out->msg), "%s", bad->why);
    } else if (sick != NULL) {
        out->health = SL_SOURCE_DEGRADED;
        snprintf(out->reason, sizeof(out->reason), "%s",
                 sick->health_rc == SL_EPERM    ? "NotAuthorized"
                 : sick->health_rc == SL_ENOENT ? "TopicNotFound"
                                                : "ClusterUnreachable");
        snprintf(out->msg, sizeof(out->msg), "%s", sick->health);
    } else if (opening > 0 || open < ks->nc) {
        out->health = SL_SOURCE_STARTING;
        snprintf(out->reason, sizeof(out->reason), "ConsumersStarting");
        snprintf(out->msg, sizeof(out->msg),
                 "%zu of %zu consumers of group %s are running", open, ks->nc,
                 ks->spec.group);
    }
}

/* Tell the core when the report is not what it was last told. */
static void ksrc_maybe_changed(struct kafka_source *ks)
{
    struct sl_source_report now;

    if (ks->stopping)
        return;
    memset(&now, 0, sizeof(now));
    ksrc_report(&ks->base, &now);
    if (now.health == ks->last.health && now.consumers == ks->last.consumers &&
        strcmp(now.reason, ks->last.reason) == 0 &&
        strcmp(now.msg, ks->last.msg) == 0)
        return;
    if (now.health != SL_SOURCE_OK && now.health != SL_SOURCE_STARTING)
        SL_LOG(SL_LOG_WARN, &ks->base.log, "%s: %s", now.reason, now.msg);
    else if (ks->last.health == SL_SOURCE_DEGRADED &&
             now.health == SL_SOURCE_OK)
        SL_LOG(SL_LOG_INFO, &ks->base.log, "the cluster is reachable again");
    ks->last = now;
    sl_source_changed(&ks->base);
}

static void ksrc_health_fire(void *arg)
{
    struct kafka_source *ks = arg;

    for (size_t i = 0; i < ks->nc; i++) {
        struct ksrc_consumer *c = &ks->c[i];
        struct sl_diag why;

        if (c->st != KC_OPEN)
            continue;
        sl_diag_clear(&why);
        c->health_rc = sl_backend_health(c->reader, &why);
        /* The reader says what is wrong by the field (broker/kafka's
         * health answers SL_EIO for all of it). */
        if (c->health_rc != 0 && strcmp(why.field, "auth.secret.ref.name") == 0)
            c->health_rc = SL_EPERM;
        else if (c->health_rc != 0 && strcmp(why.field, "topic") == 0)
            c->health_rc = SL_ENOENT;
        snprintf(c->health, sizeof(c->health), "%s",
                 c->health_rc == 0    ? ""
                 : why.msg[0] != '\0' ? why.msg
                                      : sl_strerror(c->health_rc));
    }
    ksrc_maybe_changed(ks);
}

/* ---- consumers ---- */

static void ksrc_stop_step(struct kafka_source *ks)
{
    sl_source_done_fn *done = ks->stop_done;

    if (ks->closing > 0 || done == NULL)
        return;
    ks->stop_done = NULL;
    done(ks->stop_arg, 0);
}

static void ksrc_closed(void *arg, int rc)
{
    struct ksrc_consumer *c = arg;
    struct kafka_source *ks = c->ks;

    if (rc != 0)
        SL_LOG(SL_LOG_WARN, &ks->base.log, "consumer %u: closing: %s", c->idx,
               sl_strerror(rc));
    sl_backend_free(c->reader);
    c->reader = NULL;
    c->st = KC_NONE;
    ks->closing--;
    ksrc_stop_step(ks);
}

/* Stop dispatching on 'c' and close its reader (if it has one open). */
static void ksrc_consumer_stop(struct ksrc_consumer *c)
{
    struct kafka_source *ks = c->ks;

    sl_dispatch_free(c->dp);
    c->dp = NULL;
    sl_delivery_free(c->dl);
    c->dl = NULL;
    switch (c->st) {
    case KC_OPEN:
    case KC_FAILED:
        c->st = KC_CLOSING;
        ks->closing++;
        sl_backend_close(c->reader, ksrc_closed, c);
        break;
    case KC_OPENING:
        /* Closed when its open completes (ksrc_opened). */
        ks->closing++;
        break;
    case KC_NONE:
        sl_backend_free(c->reader);
        c->reader = NULL;
        break;
    case KC_CLOSING:
        break;
    }
}

/* Set up the delivery and the dispatcher of an open consumer. */
static int ksrc_dispatch(struct ksrc_consumer *c, struct sl_diag *d)
{
    struct kafka_source *ks = c->ks;
    struct sl_delivery_cfg dc;
    struct sl_dispatch_opts o;
    struct sl_deliverer dl;
    char logname[600];
    int rc;

    snprintf(logname, sizeof(logname), "%s/%s", ks->spec.ns, ks->spec.name);
    memset(&dc, 0, sizeof(dc));
    dc.sender = ks->base.sender;
    dc.subscriber_url = ks->base.sink_url;
    dc.policy = &ks->policy;
    dc.ns = ks->spec.ns;
    dc.reply_to = NULL; /* a KafkaSource forwards no reply */
    dc.default_timeout_ms = KSRC_DEFAULT_TIMEOUT_MS;
    dc.log_name = logname;
    if ((rc = sl_delivery_new(ks->base.loop, &dc, &c->dl, d)) != 0)
        return rc;
    sl_delivery_deliverer(c->dl, &dl);
    memset(&o, 0, sizeof(o));
    o.group = ks->spec.group;
    o.ordered = ks->spec.ordered;
    o.max_in_flight = ks->max_in_flight;
    o.max_rate = ks->max_rate;
    rc = sl_dispatch_new(ks->base.loop, c->reader, &o, NULL, &dl, &c->dp, d);
    if (rc != 0) {
        sl_delivery_free(c->dl);
        c->dl = NULL;
    }
    return rc;
}

static void ksrc_opened(void *arg, int rc)
{
    struct ksrc_consumer *c = arg;
    struct kafka_source *ks = c->ks;
    struct sl_diag d;

    if (ks->stopping) {
        /* Stopped while opening: close it now (counted in closing). */
        c->st = KC_CLOSING;
        sl_backend_close(c->reader, ksrc_closed, c);
        return;
    }
    sl_diag_clear(&d);
    if (rc == 0)
        rc = ksrc_dispatch(c, &d);
    else
        sl_diag_set(&d, rc, "", "cannot open the consumer: %s",
                    sl_strerror(rc));
    if (rc != 0) {
        c->st = KC_FAILED;
        snprintf(c->why, sizeof(c->why), "consumer %u: %.480s", c->idx,
                 d.msg[0] ? d.msg : sl_strerror(rc));
    } else {
        c->st = KC_OPEN;
        c->health_rc = 0;
        SL_LOG(SL_LOG_DEBUG, &ks->base.log,
               "consumer %u joins group %s on %zu topics", c->idx,
               ks->spec.group, ks->spec.ntopics);
    }
    ksrc_maybe_changed(ks);
}

/* Create the reader of consumer 'c' (not opened yet). */
static int ksrc_consumer_new(struct ksrc_consumer *c, struct sl_diag *d)
{
    struct kafka_source *ks = c->ks;
    struct sl_kafka_reader_cfg rc_cfg;
    struct json_object *fallback = NULL;
    char logname[600];
    int rc;

    snprintf(logname, sizeof(logname), "%s/%s#%u", ks->spec.ns, ks->spec.name,
             c->idx);
    memset(&rc_cfg, 0, sizeof(rc_cfg));
    rc_cfg.loop = ks->base.loop;
    rc_cfg.props = ks->base.conn;
    if (rc_cfg.props == NULL) {
        /* No resolved settings: the bootstrap servers alone. */
        fallback = json_object_new_object();
        json_object_object_add(fallback, "bootstrap.servers",
                               json_object_new_string(ks->spec.bootstrap));
        rc_cfg.props = fallback;
    }
    rc_cfg.topics = (const char *const *)ks->spec.topics;
    rc_cfg.ntopics = ks->spec.ntopics;
    rc_cfg.earliest = ks->spec.earliest;
    rc_cfg.decode = ksrc_decode;
    rc_cfg.decode_arg = ks;
    rc_cfg.max_event_size = ks->ce.max_event_size;
    rc_cfg.log_name = logname;
    rc = sl_kafka_reader_new(&rc_cfg, &c->reader, d);
    if (fallback != NULL)
        json_object_put(fallback);
    return rc;
}

/* ---- the adapter ---- */

/* Parse 'obj' and build the retry policy into 'ks'. */
static int ksrc_load(struct kafka_source *ks, const struct json_object *obj,
                     struct sl_diag *d)
{
    struct json_object *dflt = NULL;
    const struct json_object *delivery;
    struct sl_dispatch_opts o;
    int rc;

    if ((rc = sl_ksrc_spec_parse(obj, &ks->spec, d)) != 0)
        return rc;
    /* The dispatcher annotations of a Trigger (max-in-flight, max-rate)
     * apply here too; spec.ordering decides the order. */
    memset(&o, 0, sizeof(o));
    if ((rc = sl_dispatch_opts_from_annotations(
             &o, sl_res_dig(obj, "metadata.annotations"), d)) != 0)
        return rc;
    ks->max_in_flight = o.max_in_flight;
    ks->max_rate = o.max_rate;
    sl_ksrc_spec_map(&ks->spec, &ks->map);
    ks->ce.max_event_size = SL_CE_DEFAULT_MAX_EVENT_SIZE;
    ks->map.ce = &ks->ce;
    delivery = ks->spec.delivery;
    if (delivery == NULL)
        delivery = dflt = json_tokener_parse(KSRC_DEFAULT_DELIVERY);
    rc = sl_retry_policy_build(&ks->policy, delivery,
                               sl_res_dig(obj, "metadata.annotations"), NULL,
                               NULL, ks->base.dls_url, d);
    if (dflt != NULL)
        json_object_put(dflt);
    if (rc == SL_ENOENT)
        return sl_diag_set(d, SL_EINVAL, "spec.delivery.deadLetterSink",
                           "the dead-letter sink has no address yet");
    if (rc != 0)
        return rc;
    if (ks->spec.ignored != NULL)
        SL_LOG(SL_LOG_WARN, &ks->base.log,
               "ceOverrides.extensions %s ignored: an extension cannot "
               "overwrite a core attribute",
               ks->spec.ignored);
    return 0;
}

static int ksrc_validate(const struct json_object *obj, struct sl_diag *d)
{
    struct sl_ksrc_spec spec;
    int rc = sl_ksrc_spec_parse(obj, &spec, d);

    sl_ksrc_spec_fini(&spec);
    return rc;
}

static int ksrc_init(struct sl_source *src, const struct json_object *obj,
                     struct sl_diag *d)
{
    struct kafka_source *ks = KSRC(src);
    int rc;

    sl_retry_policy_init(&ks->policy);
    if ((rc = ksrc_load(ks, obj, d)) != 0)
        return rc;
    ks->nc = (size_t)ks->spec.consumers;
    ks->c = sl_xcalloc(ks->nc, sizeof(*ks->c));
    for (size_t i = 0; i < ks->nc; i++) {
        ks->c[i].ks = ks;
        ks->c[i].idx = (unsigned)i;
    }
    ks->health = sl_timer_new(src->loop, ksrc_health_fire, ks);
    return 0;
}

static int ksrc_start(struct sl_source *src, struct sl_diag *d)
{
    struct kafka_source *ks = KSRC(src);
    int rc = 0;

    ks->stopping = false;
    memset(&ks->last, 0, sizeof(ks->last));
    /* Every reader first, so that a refusal leaves nothing running (a
     * reader that was never opened is freed at once). */
    for (size_t i = 0; i < ks->nc && rc == 0; i++)
        rc = ksrc_consumer_new(&ks->c[i], d);
    if (rc != 0) {
        for (size_t i = 0; i < ks->nc; i++) {
            sl_backend_free(ks->c[i].reader);
            ks->c[i].reader = NULL;
        }
        return rc;
    }
    for (size_t i = 0; i < ks->nc; i++) {
        ks->c[i].st = KC_OPENING;
        sl_backend_open(ks->c[i].reader, ksrc_opened, &ks->c[i]);
    }
    sl_timer_start(ks->health, KSRC_HEALTH_MS, KSRC_HEALTH_MS);
    SL_LOG(SL_LOG_DEBUG, &src->log, "%zu consumers of group %s on %s (%s, %s)",
           ks->nc, ks->spec.group, ks->spec.bootstrap,
           ks->spec.earliest ? "earliest" : "latest",
           ks->spec.ordered ? "ordered" : "unordered");
    return 0;
}

static void ksrc_stop(struct sl_source *src, sl_source_done_fn *done, void *arg)
{
    struct kafka_source *ks = KSRC(src);

    ks->stopping = true;
    sl_timer_stop(ks->health);
    ks->stop_done = done;
    ks->stop_arg = arg;
    for (size_t i = 0; i < ks->nc; i++)
        ksrc_consumer_stop(&ks->c[i]);
    ksrc_stop_step(ks);
}

static void ksrc_fini(struct sl_source *src)
{
    struct kafka_source *ks = KSRC(src);

    /* NEW, STOPPED, or a refused start whose closes have all ended. */
    for (size_t i = 0; ks->c != NULL && i < ks->nc; i++) {
        if (ks->c[i].reader != NULL && ks->c[i].st != KC_NONE)
            SL_LOG(SL_LOG_ERROR, &src->log,
                   "consumer %zu freed while its reader is open: left "
                   "alone",
                   i);
        else
            sl_backend_free(ks->c[i].reader);
    }
    sl_free(ks->c);
    ks->c = NULL;
    sl_timer_free(ks->health);
    ks->health = NULL;
    sl_retry_policy_fini(&ks->policy);
    sl_ksrc_spec_fini(&ks->spec);
}

const struct sl_source_ops sl_source_kafka = {
    .kind = "KafkaSource",
    .abi = SL_SOURCE_ABI,
    .size = sizeof(struct kafka_source),
    .flags = SL_SOURCE_DELIVERS,
    .validate = ksrc_validate,
    .init = ksrc_init,
    .start = ksrc_start,
    .stop = ksrc_stop,
    .fini = ksrc_fini,
    .report = ksrc_report,
};
