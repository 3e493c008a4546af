/*
 * resource/rabbitmqsource.c - sources.knative.dev/v1alpha1 RabbitmqSource
 * (reference section 7; eventing-rabbitmq pkg/apis/sources/v1alpha1
 * rabbitmq_{types,defaults,validation}.go, pkg/utils
 * ValidateRabbitMQClusterReference).
 *
 * Fields: rabbitmqClusterReference {name, namespace, connectionSecret
 * {name}}, rabbitmqResourcesConfig {vhost, queueName, exchangeName,
 * parallelism, predeclared}, delivery {retry, backoffPolicy, backoffDelay}
 * (no deadLetterSink: RabbitMQ sources have none, so the strict schema
 * refuses it), sink, serviceAccountName, adapterContainerName.
 * Defaults: rabbitmqClusterReference.namespace becomes the source's;
 * parallelism 1 (the CRD's default); the sink's ref.namespace the
 * source's.
 * Validation, in the webhook's order: rabbitmqResourcesConfig required;
 * exchangeName required unless predeclared; rabbitmqClusterReference
 * required, with a name or a connectionSecret but not both; plus
 * queueName required, parallelism 1-1000 (schema), retry >= 0, and the
 * sink a Destination (required by the CRD).
 * Immutable: the whole spec (the webhook diffs it).
 * Not modelled: the rabbitmq.eventing.knative.dev/{cpu,memory}-{request,
 * limit} annotations, which size the adapter Deployment sluice does not
 * run.
 */
#include <stdio.h>
#include <string.h>

#include "resource/duck.h"
#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/source.h"

static const char *const rmq_policies[] = { "linear", "exponential", NULL };

static const struct sl_res_field rmq_secret_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field rmq_cluster_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "namespace", .type = SL_RES_STRING },
    { .name = "connectionSecret",
      .type = SL_RES_OBJECT,
      .fields = rmq_secret_fields },
    { .name = NULL },
};

static const struct sl_res_field rmq_resources_fields[] = {
    { .name = "vhost", .type = SL_RES_STRING },
    { .name = "queueName", .type = SL_RES_STRING },
    { .name = "exchangeName", .type = SL_RES_STRING },
    { .name = "parallelism",
      .type = SL_RES_INT64,
      .flags = SL_RES_RANGE,
      .min = 1,
      .max = 1000 },
    { .name = "predeclared", .type = SL_RES_BOOL },
    { .name = NULL },
};

static const struct sl_res_field rmq_delivery_fields[] = {
    { .name = "retry", .type = SL_RES_INT32 },
    { .name = "backoffPolicy", .type = SL_RES_STRING, .enums = rmq_policies },
    { .name = "backoffDelay",
      .type = SL_RES_STRING,
      .check = sl_res_check_duration },
    { .name = NULL },
};

static const struct sl_res_field rmq_spec_fields[] = {
    { .name = "rabbitmqClusterReference",
      .type = SL_RES_OBJECT,
      .fields = rmq_cluster_fields },
    { .name = "rabbitmqResourcesConfig",
      .type = SL_RES_OBJECT,
      .fields = rmq_resources_fields },
    { .name = "delivery",
      .type = SL_RES_OBJECT,
      .fields = rmq_delivery_fields },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .flags = SL_RES_REQUIRED,
      .fields = sl_res_destination_fields },
    { .name = "serviceAccountName", .type = SL_RES_STRING },
    { .name = "adapterContainerName", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field rmq_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = rmq_spec_fields },
    { .name = NULL },
};

static bool rmq_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static int rmq_defaults(struct json_object *obj, const struct sl_res_env *env,
                        struct sl_diag *d)
{
    const char *ns = sl_res_meta_namespace(obj);
    struct json_object *spec = sl_res_ensure(obj, "spec");
    struct json_object *cref = sl_res_get(spec, "rabbitmqClusterReference");
    struct json_object *res = sl_res_get(spec, "rabbitmqResourcesConfig");

    (void)env;
    (void)d;
    if (spec == NULL)
        return 0;
    if (cref != NULL && ns != NULL &&
        rmq_empty(sl_res_get_str(cref, "namespace")))
        sl_res_set_str(cref, "namespace", ns);
    if (res != NULL && sl_res_get(res, "parallelism") == NULL)
        json_object_object_add(res, "parallelism", json_object_new_int(1));
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"), ns);
    return 0;
}

static int rmq_validate(const struct json_object *obj,
                        const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *res = sl_res_get(spec, "rabbitmqResourcesConfig");
    const struct json_object *cref =
        sl_res_get(spec, "rabbitmqClusterReference");
    const struct json_object *secret = sl_res_get(cref, "connectionSecret");
    struct json_object *predeclared = sl_res_get(res, "predeclared");
    struct json_object *retry = sl_res_dig(spec, "delivery.retry");
    struct sl_res_path p;

    if (res == NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.rabbitmqResourcesConfig",
                           "missing field(s)");
    if ((predeclared == NULL || !json_object_get_boolean(predeclared)) &&
        rmq_empty(sl_res_get_str(res, "exchangeName")))
        return sl_diag_set(d, SL_EINVAL,
                           "spec.rabbitmqResourcesConfig.exchangeName",
                           "name of exchange must be provided when "
                           "spec.predeclared is false");
    if (cref == NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.rabbitmqClusterReference",
                           "missing field(s)");
    if (rmq_empty(sl_res_get_str(cref, "name"))) {
        if (secret == NULL)
            return sl_diag_set(d, SL_EINVAL,
                               "spec.rabbitmqClusterReference.name",
                               "missing field(s)");
        if (rmq_empty(sl_res_get_str(secret, "name")))
            return sl_diag_set(d, SL_EINVAL,
                               "spec.rabbitmqClusterReference.connectionSecret."
                               "name",
                               "missing field(s)");
    } else if (secret != NULL) {
        return sl_diag_set(d, SL_EINVAL,
                           "spec.rabbitmqClusterReference.connectionSecret",
                           "rabbitmqClusterReference.name and "
                           "rabbitmqClusterReference.connectionSecret must "
                           "not be set simultaneously");
    }
    if (rmq_empty(sl_res_get_str(res, "queueName")))
        return sl_diag_set(d, SL_EINVAL,
                           "spec.rabbitmqResourcesConfig.queueName",
                           "missing field(s)");
    if (retry != NULL && json_object_get_int64(retry) < 0)
        return sl_diag_set(d, SL_EINVAL, "spec.delivery.retry",
                           "invalid value %lld: must be >= 0",
                           (long long)json_object_get_int64(retry));
    sl_res_path_init(&p, "spec.sink");
    return sl_res_dest_validate(sl_res_get(spec, "sink"), env, NULL, &p, d);
}

static int rmq_validate_update(const struct json_object *old,
                               const struct json_object *obj,
                               const struct sl_res_env *env, struct sl_diag *d)
{
    (void)env;
    return sl__res_immutable(d, "spec", "immutable fields",
                             sl_res_get(old, "spec"), sl_res_get(obj, "spec"));
}

static const char *const rmq_short_names[] = { "rmqsource", NULL };

const struct sl_res_kind sl_res_kind_rabbitmqsource = {
    .group = "sources.knative.dev",
    .version = "v1alpha1",
    .kind = "RabbitmqSource",
    .plural = "rabbitmqsources",
    .singular = "rabbitmqsource",
    .short_names = rmq_short_names,
    .namespaced = true,
    .fields = rmq_fields,
    .set_defaults = rmq_defaults,
    .validate = rmq_validate,
    .validate_update = rmq_validate_update,
};
