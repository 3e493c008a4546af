/*
 * resource/trigger.c - eventing.knative.dev/v1 Trigger (reference section
 * 2.1; knative/eventing pkg/apis/eventing/v1 trigger_{defaults,
 * validation}.go).
 *
 * Defaults: spec.filter becomes {} when absent (Knative writes an empty
 * TriggerFilter, whose empty attributes map Go's omitempty drops, so
 * `kubectl get -o yaml` shows "filter: {}"; an empty filter matches
 * everything); the subscriber's and dead-letter sink's ref namespaces
 * default to the Trigger's; the label eventing.knative.dev/broker is set
 * to spec.broker (not for brokerRef, as in Knative).
 * Immutable: spec.broker, and spec.brokerRef likewise (it names the same
 * thing).
 */
#include <stdio.h>
#include <string.h>

#include "resource/duck.h"
#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/resource.h"

#define TRIGGER_BROKER_LABEL "eventing.knative.dev/broker"
#define TRIGGER_DEPENDENCY   "knative.dev/dependency"
#define TRIGGER_INJECTION    "eventing.knative.dev/injection"
#define TRIGGER_ORDER        "kafka.eventing.knative.dev/delivery.order"

static const struct sl_res_field trigger_filter_fields[] = {
    { .name = "attributes",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_attr_name },
    { .name = NULL },
};

static const struct sl_res_field trigger_spec_fields[] = {
    { .name = "broker", .type = SL_RES_STRING },
    { .name = "brokerRef",
      .type = SL_RES_OBJECT,
      .fields = sl_res_kref_fields },
    { .name = "filter",
      .type = SL_RES_OBJECT,
      .fields = trigger_filter_fields },
    { .name = "filters", .type = SL_RES_ARRAY, .elem = &sl_res_filter_elem },
    { .name = "subscriber",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "delivery",
      .type = SL_RES_OBJECT,
      .fields = sl_res_delivery_fields },
    { .name = NULL },
};

static const struct sl_res_field trigger_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = trigger_spec_fields },
    { .name = NULL },
};

static int trigger_defaults(struct json_object *obj,
                            const struct sl_res_env *env, struct sl_diag *d)
{
    const char *ns = sl_res_meta_namespace(obj), *broker;
    struct json_object *spec = sl_res_ensure(obj, "spec");

    (void)env;
    (void)d;
    if (sl_res_get(spec, "filter") == NULL)
        json_object_object_add(spec, "filter", json_object_new_object());
    sl_res_dest_set_defaults(sl_res_get(spec, "subscriber"), ns);
    sl_res_delivery_set_defaults(sl_res_get(spec, "delivery"), ns);
    broker = sl_res_get_str(spec, "broker");
    if (broker != NULL && broker[0] != '\0')
        sl_res_meta_set_label(obj, TRIGGER_BROKER_LABEL, broker);
    return 0;
}

/* spec.broker xor spec.brokerRef. */
static int trigger_broker(const struct json_object *spec,
                          const struct sl_res_env *env, struct sl_diag *d)
{
    const char *broker = sl_res_get_str(spec, "broker");
    const struct json_object *ref = sl_res_get(spec, "brokerRef");
    const char *rns = sl_res_get_str(ref, "namespace");
    struct sl_res_path p;
    int rc;

    if (broker != NULL && broker[0] != '\0' && ref != NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.brokerRef",
                           "expected exactly one, got both");
    if (ref == NULL) {
        if (broker == NULL || broker[0] == '\0')
            return sl_diag_set(d, SL_EINVAL, "spec.broker", "missing field(s)");
        return 0;
    }
    sl_res_path_init(&p, "spec.brokerRef");
    if ((rc = sl_res_kref_validate(ref, env, NULL, &p, d)) != 0)
        return rc;
    if (rns != NULL && rns[0] != '\0' && !env->cross_namespace_event_links)
        return sl_diag_set(d, SL_EINVAL, "spec.brokerRef.namespace",
                           "must not set the field(s): cross-namespace-"
                           "event-links is disabled");
    return 0;
}

/* One string member of a parsed ObjectReference, or a type error. */
static bool trigger_objref_str(struct json_object *o, const char *key,
                               const char **out)
{
    struct json_object *v = NULL;

    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return true;
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = json_object_get_string(v);
    return true;
}

/* The knative.dev/dependency annotation: a JSON corev1.ObjectReference. */
static int trigger_dependency(const char *val, const char *ns,
                              struct sl_diag *d)
{
    static const char *const keys[] = { "kind",       "namespace",
                                        "name",       "uid",
                                        "apiVersion", "resourceVersion",
                                        "fieldPath",  NULL };
    const char *field = "metadata.annotations[" TRIGGER_DEPENDENCY "]";
    const char *vals[7];
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o;
    size_t len = strlen(val), end;
    char sub[128];
    int i, rc = 0;
    bool ok;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, val, (int)len);
    end = json_tokener_get_parse_end(tok);
    while (end < len && strchr(" \t\r\n", val[end]) != NULL)
        end++;
    ok = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
         end == len && json_object_is_type(o, json_type_object);
    for (i = 0; ok && keys[i] != NULL; i++)
        ok = trigger_objref_str(o, keys[i], &vals[i]);
    json_tokener_free(tok);
    if (!ok) {
        rc = sl_diag_set(d, SL_EINVAL, field,
                         "the provided annotation was not a "
                         "corev1.ObjectReference: \"%s\"",
                         val);
        goto out;
    }
    /* vals: 0 kind, 1 namespace, 2 name, 4 apiVersion. */
    if (vals[1] != NULL && vals[1][0] != '\0' &&
        (ns == NULL || strcmp(vals[1], ns) != 0)) {
        snprintf(sub, sizeof(sub), "%s.namespace", field);
        rc = sl_diag_set(d, SL_EINVAL, sub,
                         "namespace must be empty or equal to the trigger "
                         "namespace \"%s\"",
                         ns != NULL ? ns : "");
    } else if (vals[0] == NULL || vals[0][0] == '\0') {
        snprintf(sub, sizeof(sub), "%s.kind", field);
        rc = sl_diag_set(d, SL_EINVAL, sub, "missing field(s)");
    } else if (vals[2] == NULL || vals[2][0] == '\0') {
        snprintf(sub, sizeof(sub), "%s.name", field);
        rc = sl_diag_set(d, SL_EINVAL, sub, "missing field(s)");
    } else if (vals[4] == NULL || vals[4][0] == '\0') {
        snprintf(sub, sizeof(sub), "%s.apiVersion", field);
        rc = sl_diag_set(d, SL_EINVAL, sub, "missing field(s)");
    }
out:
    json_object_put(o);
    return rc;
}

static int trigger_annotations(const struct json_object *obj, struct sl_diag *d)
{
    const char *dep = sl_res_meta_annotation(obj, TRIGGER_DEPENDENCY);
    const char *inj = sl_res_meta_annotation(obj, TRIGGER_INJECTION);
    const char *order = sl_res_meta_annotation(obj, TRIGGER_ORDER);
    const char *broker = sl_res_str(sl_res_dig(obj, "spec.broker"));
    int rc;

    if (dep != NULL &&
        (rc = trigger_dependency(dep, sl_res_meta_namespace(obj), d)) != 0)
        return rc;
    if (inj != NULL) {
        if (strcmp(inj, "enabled") != 0 && strcmp(inj, "disabled") != 0)
            return sl_diag_set(d, SL_EINVAL,
                               "metadata.annotations[" TRIGGER_INJECTION "]",
                               "the provided injection annotation value can "
                               "only be \"enabled\" or \"disabled\", not "
                               "\"%s\"",
                               inj);
        if (broker == NULL || strcmp(broker, "default") != 0)
            return sl_diag_set(d, SL_EINVAL,
                               "metadata.annotations[" TRIGGER_INJECTION "]",
                               "the provided injection annotation is only "
                               "used for default broker, but non-default "
                               "broker specified here: \"%s\"",
                               broker != NULL ? broker : "");
    }
    /* The Kafka broker rejects other values when it reconciles; sluice
     * honours the annotation on every backend and rejects them here. */
    if (order != NULL && strcmp(order, "ordered") != 0 &&
        strcmp(order, "unordered") != 0)
        return sl_diag_set(d, SL_EINVAL,
                           "metadata.annotations[" TRIGGER_ORDER "]",
                           "invalid value \"%s\": expected one of "
                           "\"ordered\", \"unordered\"",
                           order);
    return 0;
}

static int trigger_validate(const struct json_object *obj,
                            const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *sub = sl_res_get(spec, "subscriber");
    const struct json_object *fl = sl_res_get(spec, "filters");
    const struct json_object *dl = sl_res_get(spec, "delivery");
    struct sl_res_path p;
    int rc;

    if ((rc = trigger_broker(spec, env, d)) != 0)
        return rc;
    if (fl != NULL) {
        sl_res_path_init(&p, "spec.filters");
        if ((rc = sl_res_filters_validate(fl, &p, d)) != 0)
            return rc;
    }
    sl_res_path_init(&p, "spec.subscriber");
    if (sub == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sub, env, NULL, &p, d)) != 0)
        return rc;
    if (dl != NULL) {
        sl_res_path_init(&p, "spec.delivery");
        if ((rc = sl_res_delivery_validate(dl, env, &p, d)) != 0)
            return rc;
    }
    return trigger_annotations(obj, d);
}

static int trigger_validate_update(const struct json_object *old,
                                   const struct json_object *obj,
                                   const struct sl_res_env *env,
                                   struct sl_diag *d)
{
    int rc;

    (void)env;
    rc = sl__res_immutable(d, "spec.broker", "immutable fields",
                           sl_res_dig(old, "spec.broker"),
                           sl_res_dig(obj, "spec.broker"));
    if (rc == 0)
        rc = sl__res_immutable(d, "spec.brokerRef", "immutable fields",
                               sl_res_dig(old, "spec.brokerRef"),
                               sl_res_dig(obj, "spec.brokerRef"));
    return rc;
}

const struct sl_res_kind sl_res_kind_trigger = {
    .group = "eventing.knative.dev",
    .version = "v1",
    .kind = "Trigger",
    .plural = "triggers",
    .singular = "trigger",
    .short_names = NULL,
    .namespaced = true,
    .fields = trigger_fields,
    .set_defaults = trigger_defaults,
    .validate = trigger_validate,
    .validate_update = trigger_validate_update,
};
