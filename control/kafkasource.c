/*
 * control/kafkasource.c - the KafkaSource reconciler (reference section
 * 6.1; docs/kafka-source.md).
 *
 * Conditions, as eventing-kafka-broker's source reconciler sets them:
 * SinkProvided (spec.sink resolved into status.sinkUri) and ConsumerGroup
 * (the consumers run), and Ready from both. What ConsumerGroup says:
 *
 *   True                       every consumer runs and reaches the cluster
 *   Unknown ConsumersStarting  consumers are joining
 *   Unknown SinkNotProvided    nothing runs until the sink resolves
 *   False DeadLetterSinkNotResolved, SecretNotFound, InvalidNetSpec
 *                              nothing runs; the message names the field
 *   False ClusterUnreachable, NotAuthorized, TopicNotFound
 *                              running, but the consumers cannot read
 *   False ConsumerFailed, AdapterFailed
 *                              the consumers cannot run with this spec
 *   False DataPlaneNotAvailable  this process runs no sources
 *
 * The Secrets named by spec.net are read with sl_rec_get, so a Secret
 * created or changed later reconciles the source again; their values go
 * to the adapter as librdkafka properties (sources/kafka/kafka.h
 * sl_ksrc_props), never into the status. status.consumers counts the
 * consumers running, status.ceAttributes lists the type and source of
 * the events made from plain records, one per topic.
 */
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "control/internal.h"
#include "control/sources.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "resource/resource.h"
#include "resource/schema.h"
#include "sources/kafka/kafka.h"

/* status.ceAttributes: the events made from plain records, per topic. */
static void ksrc_ce_attributes(struct sl_rec *r)
{
    struct json_object *topics = sl_res_dig(r->obj, "spec.topics");
    struct json_object *attrs = json_object_new_array();
    size_t n = json_object_is_type(topics, json_type_array)
                   ? json_object_array_length(topics)
                   : 0;

    for (size_t i = 0; i < n; i++) {
        const char *t = sl_res_str(json_object_array_get_idx(topics, i));
        struct json_object *a;
        struct sl_buf b;

        if (t == NULL || t[0] == '\0')
            continue;
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_buf_appendf(&b, "/apis/v1/namespaces/%s/kafkasources/%s#%s", r->ns,
                       r->name, t);
        a = json_object_new_object();
        json_object_object_add(a, "source",
                               json_object_new_string(sl_buf_str(&b)));
        json_object_object_add(a, "type",
                               json_object_new_string(SL_KSRC_EVENT_TYPE));
        json_object_array_add(attrs, a);
        sl_buf_fini(&b);
    }
    sl_rec_set(r, "ceAttributes", attrs);
}

/* sl_ksrc_secret_fn over the store: key 'key' of Secret r->ns/'name'. */
static int ksrc_secret(void *arg, const char *name, const char *key, char **out,
                       struct sl_diag *why)
{
    struct sl_rec *r = arg;
    struct json_object *sec = NULL;
    const char *b64;
    struct sl_buf b;
    int rc;

    *out = NULL;
    rc = sl_rec_get(r, "", "Secret", r->ns, name, &sec);
    if (rc == SL_ENOENT)
        return sl_diag_set(why, SL_ENOENT, "", "secret %s/%s not found", r->ns,
                           name);
    if (rc != 0)
        return sl_diag_set(why, rc, "", "cannot read secret %s/%s: %s", r->ns,
                           name, sl_strerror(rc));
    /* Admission keeps data in canonical Base64 (stringData merged in). */
    b64 = sl_res_get_str(sl_res_get(sec, "data"), key);
    if (b64 == NULL) {
        json_object_put(sec);
        return sl_diag_set(why, SL_ENOENT, "",
                           "key '%s' not found in secret %s/%s", key, r->ns,
                           name);
    }
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    rc = sl_base64_decode(b64, strlen(b64), &b, NULL);
    json_object_put(sec);
    if (rc == 0 && b.len > 0 && memchr(b.data, '\0', b.len) != NULL)
        rc = SL_EINVAL;
    if (rc != 0) {
        sl_buf_fini(&b);
        return sl_diag_set(why, SL_EINVAL, "",
                           "key '%s' of secret %s/%s is not text", key, r->ns,
                           name);
    }
    *out = sl_buf_steal(&b, NULL);
    sl_buf_fini(&b);
    return 0;
}

/*
 * spec.delivery.deadLetterSink resolved into '*purl' (NULL when none is
 * given). Returns 0, or the resolver's code with 'why'.
 */
static int ksrc_dls(struct sl_rec *r, char **purl, struct sl_diag *why)
{
    struct json_object *dls =
        sl_res_dig(r->obj, "spec.delivery.deadLetterSink");

    *purl = NULL;
    if (dls == NULL)
        return 0;
    return sl_rec_resolve(r, dls, r->ns, purl, why);
}

/* ConsumerGroup from what the running source reports. */
static void ksrc_report_cond(struct sl_rec *r)
{
    struct sl_source_report rep;

    if (sl_sources_report(sl_rec_opts(r)->sources, "KafkaSource", r->ns,
                          r->name, &rep) != 0) {
        sl_rec_cond(r, "ConsumerGroup", "Unknown", "ConsumersStarting",
                    "the consumers are not running yet");
        sl_rec_set(r, "consumers", json_object_new_int(0));
        return;
    }
    sl_rec_set(r, "consumers", json_object_new_int(rep.consumers));
    switch (rep.health) {
    case SL_SOURCE_OK:
        sl_rec_cond(r, "ConsumerGroup", "True", NULL, NULL);
        break;
    case SL_SOURCE_STARTING:
        sl_rec_cond(r, "ConsumerGroup", "Unknown", rep.reason, "%s", rep.msg);
        break;
    default:
        sl_rec_cond(r, "ConsumerGroup", "False", rep.reason, "%s", rep.msg);
        break;
    }
}

/* Nothing runs: stop what may, and say why. */
static void ksrc_not_running(struct sl_rec *r, const char *status,
                             const char *reason, const char *msg)
{
    struct sl_sources *ss = sl_rec_opts(r)->sources;

    if (ss != NULL)
        sl_sources_remove(ss, "KafkaSource", r->ns, r->name);
    sl_rec_set(r, "consumers", json_object_new_int(0));
    sl_rec_cond(r, "ConsumerGroup", status, reason, "%s", msg);
}

static int ksrc_reconcile(struct sl_rec *r)
{
    static const char *const ready[] = { "ConsumerGroup", "SinkProvided",
                                         NULL };
    struct sl_sources *ss = sl_rec_opts(r)->sources;
    struct json_object *props = NULL;
    char *sink = NULL, *dls = NULL,
         msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];
    struct sl_sources_in in;
    struct sl_diag why;
    enum sl_dp_state st;
    int rc, ret;

    ksrc_ce_attributes(r);
    ret = sl__ctl_source_sink(r, &sink);
    if (ss == NULL) {
        ksrc_not_running(r, "False", "DataPlaneNotAvailable",
                         "no adapter runs KafkaSources in this process");
        goto out;
    }
    if (sink == NULL) {
        ksrc_not_running(r, "Unknown", "SinkNotProvided",
                         "the consumers run once the sink resolves");
        goto out;
    }
    sl_diag_clear(&why);
    if ((rc = ksrc_dls(r, &dls, &why)) != 0) {
        snprintf(msg, sizeof(msg), "spec.delivery.deadLetterSink: %s", why.msg);
        ksrc_not_running(r, "False", "DeadLetterSinkNotResolved", msg);
        if (rc == SL_EAGAIN)
            ret = SL_EAGAIN;
        goto out;
    }
    sl_diag_clear(&why);
    if ((rc = sl_ksrc_props(r->obj, ksrc_secret, r, &props, &why)) != 0) {
        snprintf(msg, sizeof(msg), "%s%s%s", why.field,
                 why.field[0] ? ": " : "", why.msg);
        ksrc_not_running(r, "False",
                         rc == SL_ENOENT ? "SecretNotFound" : "InvalidNetSpec",
                         msg);
        if (rc == SL_EAGAIN)
            ret = SL_EAGAIN;
        goto out;
    }
    memset(&in, 0, sizeof(in));
    in.sink_url = sink;
    in.dls_url = dls;
    in.conn = props;
    sl_diag_clear(&why);
    st = sl_sources_sync_in(ss, "KafkaSource", r->ns, r->name, r->obj, &in,
                            &why);
    switch (st) {
    case SL_DP_READY:
        ksrc_report_cond(r);
        break;
    case SL_DP_PENDING:
        sl_rec_set(r, "consumers", json_object_new_int(0));
        sl_rec_cond(r, "ConsumerGroup", "Unknown", why.field, "%s", why.msg);
        break;
    default:
        sl_rec_set(r, "consumers", json_object_new_int(0));
        sl_rec_cond(r, "ConsumerGroup", "False", why.field, "%s", why.msg);
        break;
    }
out:
    if (props != NULL)
        json_object_put(props);
    sl_free(dls);
    sl_free(sink);
    sl_rec_ready(r, ready);
    return ret;
}

const struct sl_reconciler sl__ctl_kafkasource = {
    .group = "sources.knative.dev",
    .kind = "KafkaSource",
    .reconcile = ksrc_reconcile,
    .finalize = sl__ctl_source_finalize,
};
