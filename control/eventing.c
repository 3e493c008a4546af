/*
 * control/eventing.c - reconcilers for Broker, Trigger and KafkaSink.
 *
 * They do the control-plane half (addresses, destination resolution,
 * conditions) and drive the data plane (control/dataplane.h): a Broker's
 * log, a Trigger's dispatcher, whose state becomes IngressReady /
 * SubscriptionReady. Without a data plane (the controller's unit tests,
 * a process that does not dispatch) those conditions say so (False,
 * DataPlaneNotAvailable), so Ready never claims what is not there. A
 * KafkaSink drives the running KafkaSinks (control/kafkasinks.h) the same
 * way: its TopicReady is the state of its producer.
 * Condition types and reasons follow Knative's broker_lifecycle.go and
 * trigger_lifecycle.go.
 */
#include <stdio.h>
#include <string.h>

#include "broker/kafka/kafka.h"
#include "control/control.h"
#include "control/dataplane.h"
#include "control/internal.h"
#include "control/kafkasinks.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "resource/schema.h"

#define DATAPLANE_REASON "DataPlaneNotAvailable"
#define DATAPLANE_MSG    "no data plane serves this %s yet"

/* An address object {name?, url}. */
static struct json_object *ev_address(const char *url)
{
    struct json_object *a = json_object_new_object();

    json_object_object_add(a, "name", json_object_new_string("http"));
    json_object_object_add(a, "url", json_object_new_string(url));
    return a;
}

static void ev_set_address(struct sl_rec *r, const char *url)
{
    struct json_object *list = json_object_new_array();

    json_object_array_add(list, ev_address(url));
    sl_rec_set(r, "address", ev_address(url));
    sl_rec_set(r, "addresses", list);
    sl_rec_cond(r, "Addressable", "True", NULL, NULL);
}

/* <ingress>/<ns>/<name> */
static char *ev_ingress_url(struct sl_rec *r)
{
    const char *base = sl_rec_opts(r)->ingress_url;
    size_t n = strlen(base) + strlen(r->ns) + strlen(r->name) + 3;
    char *u = sl_xmalloc(n);

    snprintf(u, n, "%s/%s/%s", base, r->ns, r->name);
    return u;
}

/*
 * Resolve delivery.deadLetterSink of 'delivery' (may be NULL) into
 * status.deadLetterSinkUri and the DeadLetterSinkResolved condition.
 */
static int ev_dls(struct sl_rec *r, const struct json_object *delivery,
                  const char *ns)
{
    struct json_object *dls = sl_res_get(delivery, "deadLetterSink");
    struct sl_diag why;
    char *url = NULL;
    int rc;

    if (dls == NULL) {
        sl_rec_set(r, "deadLetterSinkUri", NULL);
        sl_rec_cond(r, "DeadLetterSinkResolved", "True",
                    "DeadLetterSinkNotConfigured",
                    "No dead letter sink is configured.");
        return 0;
    }
    sl_diag_clear(&why);
    rc = sl_rec_resolve(r, dls, ns, &url, &why);
    if (rc != 0) {
        sl_rec_set(r, "deadLetterSinkUri", NULL);
        sl_rec_cond(r, "DeadLetterSinkResolved", "False",
                    "Unable to get the dead letter sink's URI", "%s", why.msg);
        /* A store failure is worth a retry; a missing target is not (its
         * creation wakes us through the dependency). */
        return rc == SL_EAGAIN ? SL_EAGAIN : 0;
    }
    sl_rec_set(r, "deadLetterSinkUri", json_object_new_string(url));
    sl_rec_cond(r, "DeadLetterSinkResolved", "True", NULL, NULL);
    sl_free(url);
    return 0;
}

/* Set condition 'type' from a data-plane state. */
static void ev_dp_cond(struct sl_rec *r, const char *type, enum sl_dp_state st,
                       const struct sl_diag *why)
{
    if (st == SL_DP_READY)
        sl_rec_cond(r, type, "True", NULL, NULL);
    else
        sl_rec_cond(r, type, st == SL_DP_PENDING ? "Unknown" : "False",
                    why->field, "%s", why->msg);
}

/* ---- Broker ---- */

#define BROKER_CLASS_ANNOTATION   "eventing.knative.dev/broker.class"
#define BROKER_BACKEND_ANNOTATION "sluice.dev/backend"

/* The Secret keys of Knative's Kafka broker auth (auth.secret.ref.name). */
static const char *const broker_secret_keys[] = {
    "protocol", "sasl.mechanism", "user",     "password",
    "ca.crt",   "user.crt",       "user.key", NULL,
};

/*
 * The config handed to the data plane: the ConfigMap's data (its own
 * "sluice." keys left out: those are the data plane's), the external topic
 * the Broker's annotation names, and the data of the Secret
 * auth.secret.ref.name names (in the ConfigMap's namespace, as Knative
 * reads it), decoded, under SL_KAFKA_CFG_SECRET_PREFIX. Returns 0 with
 * '*out' (NULL when there is nothing at all), or -1 with IngressReady set.
 */
static int broker_config(struct sl_rec *r, const struct json_object *data,
                         const char *cm_ns, struct json_object **out)
{
    const struct json_object *ann = sl_res_dig(r->obj, "metadata.annotations");
    const char *ext = sl_res_get_str(ann, SL_KAFKA_EXTERNAL_TOPIC);
    const char *sname = sl_res_get_str(data, "auth.secret.ref.name");
    struct json_object *c = json_object_new_object(), *sec = NULL;

    *out = NULL;
    if (data != NULL && json_object_is_type(data, json_type_object)) {
        json_object_object_foreach((struct json_object *)data, k, v)
        {
            if (strncmp(k, "sluice.", 7) != 0)
                json_object_object_add(c, k, json_object_get(v));
        }
    }
    if (ext != NULL)
        json_object_object_add(c, SL_KAFKA_CFG_EXTERNAL_TOPIC,
                               json_object_new_string(ext));
    if (sname != NULL && sname[0] != '\0') {
        const struct json_object *sd;

        if (sl_rec_get(r, "", "Secret", cm_ns, sname, &sec) != 0) {
            sl_rec_cond(r, "IngressReady", "False", "SecretNotFound",
                        "Secret \"%s\" (auth.secret.ref.name) does not "
                        "exist in namespace \"%s\"",
                        sname, cm_ns);
            json_object_put(c);
            return -1;
        }
        sd = sl_res_get(sec, "data");
        for (size_t i = 0; broker_secret_keys[i] != NULL; i++) {
            const char *b64 = sl_res_get_str(sd, broker_secret_keys[i]);
            char key[96];
            struct sl_buf b;

            if (b64 == NULL)
                continue;
            sl_buf_init(&b, 1 << 20);
            if (sl_base64_decode(b64, strlen(b64), &b, NULL) != 0 ||
                memchr(sl_buf_str(&b), '\0', b.len) != NULL) {
                sl_buf_fini(&b);
                sl_rec_cond(r, "IngressReady", "False", "SecretInvalid",
                            "Secret \"%s\": key %s is not text", sname,
                            broker_secret_keys[i]);
                json_object_put(sec);
                json_object_put(c);
                return -1;
            }
            snprintf(key, sizeof(key), "%s%s", SL_KAFKA_CFG_SECRET_PREFIX,
                     broker_secret_keys[i]);
            json_object_object_add(c, key,
                                   json_object_new_string(sl_buf_str(&b)));
            sl_buf_fini(&b);
        }
        json_object_put(sec);
    }
    if (json_object_object_length(c) == 0)
        json_object_put(c);
    else
        *out = c;
    return 0;
}

/* Hand the Broker to the data plane; IngressReady says how it went. */
static void broker_dataplane(struct sl_rec *r, struct sl_dataplane *dp)
{
    const struct json_object *ref = sl_res_dig(r->obj, "spec.config");
    struct json_object *cm = NULL, *cfg = NULL;
    const char *cls = sl_res_get_str(sl_res_dig(r->obj, "metadata.annotations"),
                                     BROKER_CLASS_ANNOTATION);
    const char *cm_ns = r->ns;
    enum sl_dp_state st;
    struct sl_diag why;

    if (ref != NULL) {
        const char *kind = sl_res_get_str(ref, "kind"),
                   *name = sl_res_get_str(ref, "name"),
                   *ns = sl_res_get_str(ref, "namespace");

        if (kind == NULL || strcmp(kind, "ConfigMap") != 0 || name == NULL) {
            sl_rec_cond(r, "IngressReady", "False", "BrokerConfigInvalid",
                        "spec.config must name a ConfigMap");
            return;
        }
        if (ns != NULL)
            cm_ns = ns;
        if (sl_rec_get(r, "", "ConfigMap", cm_ns, name, &cm) != 0) {
            sl_rec_cond(r, "IngressReady", "False", "BrokerConfigNotFound",
                        "ConfigMap \"%s\" does not exist", name);
            return;
        }
    }
    if (broker_config(r, sl_res_get(cm, "data"), cm_ns, &cfg) != 0) {
        json_object_put(cm);
        return;
    }
    sl_diag_clear(&why);
    st = sl_dp_broker_sync(dp, r->ns, r->name, r->obj, cls, cfg, &why);
    json_object_put(cfg);
    ev_dp_cond(r, "IngressReady", st, &why);
    /* Say which backend serves it, as Knative's Kafka broker puts its
     * topic into status.annotations. */
    {
        const char *run = sl_dp_broker_class(dp, r->ns, r->name);
        struct json_object *ann = NULL;

        if (run != NULL && st != SL_DP_UNSUPPORTED) {
            ann = json_object_new_object();
            json_object_object_add(ann, BROKER_BACKEND_ANNOTATION,
                                   json_object_new_string(run));
        }
        sl_rec_set(r, "annotations", ann);
    }
    json_object_put(cm);
}

static int broker_reconcile(struct sl_rec *r)
{
    /* Knative's order (broker_lifecycle.go): the first False one names
     * Ready's reason. */
    static const char *const ready[] = { "IngressReady", "Addressable",
                                         "DeadLetterSinkResolved", NULL };
    char *url = ev_ingress_url(r);
    int rc;

    ev_set_address(r, url);
    sl_free(url);
    rc = ev_dls(r, sl_res_dig(r->obj, "spec.delivery"), r->ns);
    if (sl_rec_opts(r)->dataplane != NULL)
        broker_dataplane(r, sl_rec_opts(r)->dataplane);
    else
        sl_rec_cond(r, "IngressReady", "False", DATAPLANE_REASON, DATAPLANE_MSG,
                    "broker");
    sl_rec_ready(r, ready);
    return rc;
}

/* The metadata.namespace and .name of 'obj'. */
static void ev_ns_name(const struct json_object *obj, const char **ns,
                       const char **name)
{
    const struct json_object *meta = sl_res_get(obj, "metadata");

    *ns = sl_res_get_str(meta, "namespace");
    *name = sl_res_get_str(meta, "name");
}

static void broker_finalize(struct sl_ctl *ctl, const struct json_object *obj)
{
    struct sl_dataplane *dp = sl__ctl_opts(ctl)->dataplane;
    const char *ns, *name;

    ev_ns_name(obj, &ns, &name);
    if (dp != NULL && ns != NULL && name != NULL)
        sl_dp_broker_remove(dp, ns, name);
}

const struct sl_reconciler sl__ctl_broker = {
    .group = "eventing.knative.dev",
    .kind = "Broker",
    .reconcile = broker_reconcile,
    .finalize = broker_finalize,
};

/* ---- Trigger ---- */

/* Mirror the Ready condition of 'obj' into condition 'type'. */
static void ev_mirror_ready(struct sl_rec *r, const char *type,
                            const struct json_object *obj, const char *what)
{
    struct json_object *c =
        sl__ctl_cond_find(sl_res_dig(obj, "status.conditions"), "Ready");
    const char *st = sl_res_get_str(c, "status");

    if (st != NULL && strcmp(st, "True") == 0)
        sl_rec_cond(r, type, "True", NULL, NULL);
    else if (st != NULL && strcmp(st, "False") == 0)
        sl_rec_cond(r, type, "False", sl_res_get_str(c, "reason"), "%s",
                    sl_res_get_str(c, "message") ? sl_res_get_str(c, "message")
                                                 : "");
    else
        sl_rec_cond(r, type, "Unknown", "NotReady", "%s is not ready yet",
                    what);
}

static void trigger_broker(struct sl_rec *r, const struct json_object *spec,
                           struct json_object **pbroker,
                           struct sl_dp_trigger_in *in)
{
    const char *name = sl_res_get_str(spec, "broker"), *ns = r->ns;
    struct json_object *ref = sl_res_get(spec, "brokerRef");
    char what[300];

    *pbroker = NULL;
    if (name == NULL && ref != NULL) {
        name = sl_res_get_str(ref, "name");
        if (sl_res_get_str(ref, "namespace") != NULL)
            ns = sl_res_get_str(ref, "namespace");
    }
    if (name == NULL) {
        sl_rec_cond(r, "BrokerReady", "False", "BrokerDoesNotExist",
                    "no broker named");
        return;
    }
    in->broker_ns = ns;
    in->broker_name = name;
    if (sl_rec_get(r, "eventing.knative.dev", "Broker", ns, name, pbroker) !=
        0) {
        sl_rec_cond(r, "BrokerReady", "False", "BrokerDoesNotExist",
                    "Broker \"%s\" does not exist", name);
        return;
    }
    snprintf(what, sizeof(what), "Broker \"%s\"", name);
    ev_mirror_ready(r, "BrokerReady", *pbroker, what);
}

/* The knative.dev/dependency annotation: {kind, name, apiVersion}. */
static void trigger_dependency(struct sl_rec *r)
{
    const char *dep = sl_res_get_str(sl_res_dig(r->obj, "metadata.annotations"),
                                     "knative.dev/dependency");
    struct json_object *ref, *target = NULL;
    const char *av, *kind, *name;
    char group[128], what[300];

    if (dep == NULL) {
        sl_rec_cond(r, "DependencyReady", "True", NULL, NULL);
        return;
    }
    ref = json_tokener_parse(dep);
    av = sl_res_get_str(ref, "apiVersion");
    kind = sl_res_get_str(ref, "kind");
    name = sl_res_get_str(ref, "name");
    if (av == NULL || kind == NULL || name == NULL) {
        sl_rec_cond(r, "DependencyReady", "False", "DependencyInvalid",
                    "the knative.dev/dependency annotation is not a valid "
                    "object reference");
        json_object_put(ref);
        return;
    }
    snprintf(group, sizeof(group), "%.*s",
             strchr(av, '/') ? (int)(strchr(av, '/') - av) : 0, av);
    if (sl_rec_get(r, group, kind, r->ns, name, &target) != 0) {
        sl_rec_cond(r, "DependencyReady", "False", "DependencyDoesNotExist",
                    "%s \"%s\" does not exist", kind, name);
    } else {
        snprintf(what, sizeof(what), "%s \"%s\"", kind, name);
        ev_mirror_ready(r, "DependencyReady", target, what);
    }
    json_object_put(target);
    json_object_put(ref);
}

static int trigger_reconcile(struct sl_rec *r)
{
    static const char *const ready[] = {
        "BrokerReady",        "SubscriptionReady",      "DependencyReady",
        "SubscriberResolved", "DeadLetterSinkResolved", NULL
    };
    struct json_object *spec = sl_res_get(r->obj, "spec"), *broker = NULL,
                       *delivery;
    struct sl_dataplane *dp = sl_rec_opts(r)->dataplane;
    struct sl_dp_trigger_in in;
    struct sl_diag why;
    char *url = NULL;
    int rc, ret = 0;

    memset(&in, 0, sizeof(in));
    trigger_broker(r, spec, &broker, &in);
    sl_diag_clear(&why);
    rc = sl_rec_resolve(r, sl_res_get(spec, "subscriber"), r->ns, &url, &why);
    if (rc == 0) {
        sl_rec_set(r, "subscriberUri", json_object_new_string(url));
        sl_rec_cond(r, "SubscriberResolved", "True", NULL, NULL);
    } else {
        if (rc == SL_EAGAIN)
            ret = SL_EAGAIN;
        sl_rec_set(r, "subscriberUri", NULL);
        sl_rec_cond(r, "SubscriberResolved", "False",
                    "Unable to get the Subscriber's URI", "%s", why.msg);
    }
    /* The Trigger's own dead-letter sink, else its Broker's. */
    delivery = sl_res_get(spec, "delivery");
    if (sl_res_get(delivery, "deadLetterSink") != NULL || broker == NULL)
        rc = ev_dls(r, delivery, r->ns);
    else
        rc = ev_dls(
            r, sl_res_dig(broker, "spec.delivery"),
            sl_res_get_str(sl_res_get(broker, "metadata"), "namespace")
                ? sl_res_get_str(sl_res_get(broker, "metadata"), "namespace")
                : r->ns);
    trigger_dependency(r);
    if (dp != NULL) {
        enum sl_dp_state st;

        in.trigger = r->obj;
        in.broker = broker;
        in.subscriber_url = url;
        in.dls_url = sl_res_get_str(r->status, "deadLetterSinkUri");
        sl_diag_clear(&why);
        st = sl_dp_trigger_sync(dp, r->ns, r->name, &in, &why);
        ev_dp_cond(r, "SubscriptionReady", st, &why);
    } else {
        sl_rec_cond(r, "SubscriptionReady", "False", DATAPLANE_REASON,
                    DATAPLANE_MSG, "trigger");
    }
    sl_rec_ready(r, ready);
    sl_free(url);
    json_object_put(broker);
    return ret != 0 ? ret : rc;
}

static void trigger_finalize(struct sl_ctl *ctl, const struct json_object *obj)
{
    struct sl_dataplane *dp = sl__ctl_opts(ctl)->dataplane;
    const char *ns, *name;

    ev_ns_name(obj, &ns, &name);
    if (dp != NULL && ns != NULL && name != NULL)
        sl_dp_trigger_remove(dp, ns, name);
}

const struct sl_reconciler sl__ctl_trigger = {
    .group = "eventing.knative.dev",
    .kind = "Trigger",
    .reconcile = trigger_reconcile,
    .finalize = trigger_finalize,
};

/* ---- KafkaSink ---- */

/*
 * The KafkaSink's address is the ingress' /<ns>/<name>, which a Broker of
 * the same namespace and name also has: the Broker keeps it (the
 * ingress looks Brokers up first), and the KafkaSink is not Addressable
 * (AddressConflict) until that Broker is gone. Reading the Broker tracks
 * it, so its creation or deletion reconciles the KafkaSink again.
 */
static void kafkasink_address(struct sl_rec *r)
{
    struct json_object *broker = NULL;
    char *url = ev_ingress_url(r);

    if (sl_rec_get(r, "eventing.knative.dev", "Broker", r->ns, r->name,
                   &broker) == 0) {
        sl_rec_set(r, "address", NULL);
        sl_rec_set(r, "addresses", NULL);
        sl_rec_cond(r, "Addressable", "False", "AddressConflict",
                    "Broker \"%s\" in namespace \"%s\" has the same address "
                    "%s: the ingress gives it to the Broker; rename one of "
                    "them",
                    r->name, r->ns, url);
    } else {
        ev_set_address(r, url);
    }
    json_object_put(broker);
    sl_free(url);
}

/*
 * ConfigParsed: the configuration of the producer, with the security
 * properties of spec.auth.secret.ref.name (a Secret of the KafkaSink's
 * namespace, tracked). '*cfg' is NULL when it cannot be made.
 */
static int kafkasink_config(struct sl_rec *r, struct json_object **cfg)
{
    const char *sname =
        sl_res_get_str(sl_res_dig(r->obj, "spec.auth.secret.ref"), "name");
    struct json_object *secret = NULL;
    struct sl_diag why;
    int rc;

    *cfg = NULL;
    if (sname != NULL) {
        rc = sl_rec_get(r, "", "Secret", r->ns, sname, &secret);
        if (rc != 0) {
            sl_rec_cond(r, "ConfigParsed", "False", "SecretNotFound",
                        "%s: Secret \"%s\" in namespace \"%s\"",
                        rc == SL_ENOENT ? "not found" : "cannot be read", sname,
                        r->ns);
            return rc == SL_ENOENT ? 0 : SL_EAGAIN;
        }
    }
    sl_diag_clear(&why);
    rc = sl_kafkasink_config(r->obj, secret, cfg, &why);
    json_object_put(secret);
    if (rc != 0) {
        sl_rec_cond(r, "ConfigParsed", "False", "InvalidSecret",
                    "Secret \"%s\": %s%s%s", sname ? sname : "", why.field,
                    why.field[0] ? ": " : "", why.msg);
        return 0;
    }
    sl_rec_cond(r, "ConfigParsed", "True", NULL, NULL);
    return 0;
}

static int kafkasink_reconcile(struct sl_rec *r)
{
    /* Knative's IngressConditionSet, minus what has no meaning without
     * Kubernetes (DataPlaneAvailable, ConfigMapUpdated, ProbeSucceeded). */
    static const char *const ready[] = { "Addressable", "TopicReady",
                                         "ConfigParsed", NULL };
    struct sl_kafkasinks *ks = sl_rec_opts(r)->kafkasinks;
    struct json_object *cfg = NULL;
    enum sl_dp_state st;
    struct sl_diag why;
    int rc;

    kafkasink_address(r);
    rc = kafkasink_config(r, &cfg);
    if (ks == NULL) {
        sl_rec_cond(r, "TopicReady", "False", DATAPLANE_REASON, DATAPLANE_MSG,
                    "sink");
    } else if (cfg == NULL) {
        /* Nothing may run with a configuration the object no longer
         * gives. */
        sl_kafkasinks_remove(ks, r->ns, r->name);
        sl_rec_cond(r, "TopicReady", "Unknown", "ConfigNotParsed",
                    "the topic is checked once the configuration is parsed");
    } else {
        sl_diag_clear(&why);
        st = sl_kafkasinks_sync(ks, r->ns, r->name, cfg, &why);
        ev_dp_cond(r, "TopicReady", st, &why);
    }
    json_object_put(cfg);
    sl_rec_ready(r, ready);
    return rc;
}

static void kafkasink_finalize(struct sl_ctl *ctl,
                               const struct json_object *obj)
{
    struct sl_kafkasinks *ks = sl__ctl_opts(ctl)->kafkasinks;
    const char *ns, *name;

    ev_ns_name(obj, &ns, &name);
    if (ks != NULL && ns != NULL && name != NULL)
        sl_kafkasinks_remove(ks, ns, name);
}

const struct sl_reconciler sl__ctl_kafkasink = {
    .group = "eventing.knative.dev",
    .kind = "KafkaSink",
    .reconcile = kafkasink_reconcile,
    .finalize = kafkasink_finalize,
};
