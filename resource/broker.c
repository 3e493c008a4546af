/*
 * resource/broker.c - eventing.knative.dev/v1 Broker (reference section
 * 1; knative/eventing pkg/apis/eventing/v1 broker_{defaults,validation}.go
 * and the Kafka broker's webhook for its classes).
 *
 * Defaults: the class annotation from the env when absent or empty;
 * spec.delivery from the env only when the Broker has none; the
 * namespaces of spec.config and of a dead-letter ref default to the
 * Broker's. spec.config itself is not defaulted: Knative fills in its
 * channel-template ConfigMap, which means nothing to sluice (the daemon
 * picks the backend).
 * Immutable: the class annotation and everything in spec but delivery.
 */
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "resource/duck.h"
#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/resource.h"

#define BROKER_CLASS     "eventing.knative.dev/broker.class"
#define BROKER_CLASS_FLD "metadata.annotations[" BROKER_CLASS "]"

static const struct sl_res_field broker_spec_fields[] = {
    { .name = "config", .type = SL_RES_OBJECT, .fields = sl_res_kref_fields },
    { .name = "delivery",
      .type = SL_RES_OBJECT,
      .fields = sl_res_delivery_fields },
    { .name = NULL },
};

static const struct sl_res_field broker_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = broker_spec_fields },
    { .name = NULL },
};

/* The env's default delivery as a new object, or NULL when it has none. */
static struct json_object *broker_env_delivery(const struct sl_res_env *env)
{
    struct json_object *dl;

    if (env->broker_retry < 0 && env->broker_backoff_policy == NULL &&
        env->broker_backoff_delay == NULL &&
        env->broker_dead_letter_uri == NULL)
        return NULL;
    dl = json_object_new_object();
    if (env->broker_dead_letter_uri != NULL) {
        struct json_object *dls = json_object_new_object();
        sl_res_set_str(dls, "uri", env->broker_dead_letter_uri);
        json_object_object_add(dl, "deadLetterSink", dls);
    }
    if (env->broker_retry >= 0)
        json_object_object_add(dl, "retry",
                               json_object_new_int(env->broker_retry));
    if (env->broker_backoff_policy != NULL)
        sl_res_set_str(dl, "backoffPolicy", env->broker_backoff_policy);
    if (env->broker_backoff_delay != NULL)
        sl_res_set_str(dl, "backoffDelay", env->broker_backoff_delay);
    return dl;
}

static int broker_defaults(struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    const char *ns = sl_res_meta_namespace(obj);
    const char *cls = sl_res_meta_annotation(obj, BROKER_CLASS);
    struct json_object *spec = sl_res_ensure(obj, "spec"), *dl;

    (void)d;
    if ((cls == NULL || cls[0] == '\0') && env->broker_class != NULL)
        sl_res_meta_set_annotation(obj, BROKER_CLASS, env->broker_class);
    sl_res_kref_set_defaults(sl_res_get(spec, "config"), ns);
    dl = sl_res_get(spec, "delivery");
    if (dl == NULL && (dl = broker_env_delivery(env)) != NULL)
        json_object_object_add(spec, "delivery", dl);
    sl_res_delivery_set_defaults(dl, ns);
    return 0;
}

/* The Kafka broker's webhook (and sluice's Redis class): a ConfigMap. */
static int broker_class_config(const struct json_object *obj, const char *cls,
                               const struct json_object *cfg,
                               struct sl_res_path *p, struct sl_diag *d)
{
    const char *kind = sl_res_get_str(cfg, "kind");
    const char *cns = sl_res_get_str(cfg, "namespace");
    const char *ns = sl_res_meta_namespace(obj);

    if (strcmp(cls, "Kafka") != 0 && strcmp(cls, "KafkaNamespaced") != 0 &&
        strcmp(cls, "Redis") != 0)
        return 0;
    if (kind == NULL || !sl_str_eq_ci(kind, "ConfigMap"))
        return sl_res_fail_at(d, p, "kind",
                              "invalid value \"%s\": expected ConfigMap",
                              kind != NULL ? kind : "");
    if (strcmp(cls, "KafkaNamespaced") == 0 && cns != NULL && ns != NULL &&
        cns[0] != '\0' && strcmp(cns, ns) != 0)
        return sl_res_fail_at(d, p, "namespace",
                              "invalid value \"%s\": expected ConfigMap in "
                              "same namespace with broker resource",
                              cns);
    return 0;
}

static int broker_validate(const struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    const char *cls = sl_res_meta_annotation(obj, BROKER_CLASS);
    const struct json_object *cfg = sl_res_dig(obj, "spec.config");
    const struct json_object *dl = sl_res_dig(obj, "spec.delivery");
    struct sl_res_path p;
    int rc;

    if (cls == NULL || cls[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, BROKER_CLASS_FLD, "missing field(s)");
    if (cfg != NULL) {
        /* Knative allows a config in another namespace. */
        sl_res_path_init(&p, "spec.config");
        if ((rc = sl_res_kref_validate(cfg, env, NULL, &p, d)) != 0)
            return rc;
        if ((rc = broker_class_config(obj, cls, cfg, &p, d)) != 0)
            return rc;
    }
    if (dl != NULL) {
        sl_res_path_init(&p, "spec.delivery");
        if ((rc = sl_res_delivery_validate(dl, env, &p, d)) != 0)
            return rc;
    }
    return 0;
}

static int broker_validate_update(const struct json_object *old,
                                  const struct json_object *obj,
                                  const struct sl_res_env *env,
                                  struct sl_diag *d)
{
    const struct json_object *ospec = sl_res_get(old, "spec");
    const struct json_object *nspec = sl_res_get(obj, "spec");
    struct lh_entry *e;
    int rc;

    (void)env;
    /* Everything in spec but delivery, in either object. */
    if (ospec != NULL)
        for (e = lh_table_head(json_object_get_object(ospec)); e != NULL;
             e = lh_entry_next(e)) {
            const char *key = (const char *)lh_entry_k(e);
            char field[96];
            if (strcmp(key, "delivery") == 0)
                continue;
            snprintf(field, sizeof(field), "spec.%s", key);
            rc = sl__res_immutable(d, field, "immutable fields",
                                   sl_res_get(ospec, key),
                                   sl_res_get(nspec, key));
            if (rc != 0)
                return rc;
        }
    if (nspec != NULL)
        for (e = lh_table_head(json_object_get_object(nspec)); e != NULL;
             e = lh_entry_next(e)) {
            const char *key = (const char *)lh_entry_k(e);
            char field[96];
            if (strcmp(key, "delivery") == 0 || sl_res_get(ospec, key) != NULL)
                continue;
            snprintf(field, sizeof(field), "spec.%s", key);
            rc = sl__res_immutable(d, field, "immutable fields", NULL,
                                   sl_res_get(nspec, key));
            if (rc != 0)
                return rc;
        }
    return sl__res_immutable(
        d, BROKER_CLASS_FLD, "immutable annotations",
        sl_res_get(sl_res_dig(old, "metadata.annotations"), BROKER_CLASS),
        sl_res_get(sl_res_dig(obj, "metadata.annotations"), BROKER_CLASS));
}

const struct sl_res_kind sl_res_kind_broker = {
    .group = "eventing.knative.dev",
    .version = "v1",
    .kind = "Broker",
    .plural = "brokers",
    .singular = "broker",
    .short_names = NULL,
    .namespaced = true,
    .fields = broker_fields,
    .set_defaults = broker_defaults,
    .validate = broker_validate,
    .validate_update = broker_validate_update,
};
