/*
 * resource/kafkasink.c - eventing.knative.dev/v1alpha1 KafkaSink
 * (reference section 6.4; eventing-kafka-broker control-plane/pkg/apis/
 * eventing/v1alpha1 kafka_sink_{types,defaults,validation}.go).
 *
 * Defaults: spec.contentMode "binary". Required: topic and at least one
 * bootstrap server. numPartitions and replicationFactor (an int16) must be
 * > 0 when given. Immutable: topic, numPartitions, replicationFactor.
 */
#include <stdio.h>
#include <string.h>

#include "resource/internal.h"
#include "resource/resource.h"

static const char *const ks_modes[] = { "binary", "structured", NULL };

static const struct sl_res_field ks_server = {
    .name = "",
    .type = SL_RES_STRING,
    .flags = SL_RES_NONEMPTY,
};

static const struct sl_res_field ks_secret_ref_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field ks_secret_fields[] = {
    { .name = "ref", .type = SL_RES_OBJECT, .fields = ks_secret_ref_fields },
    { .name = NULL },
};

static const struct sl_res_field ks_auth_fields[] = {
    { .name = "secret", .type = SL_RES_OBJECT, .fields = ks_secret_fields },
    { .name = NULL },
};

static const struct sl_res_field ks_spec_fields[] = {
    { .name = "topic", .type = SL_RES_STRING },
    { .name = "numPartitions", .type = SL_RES_INT32 },
    { .name = "replicationFactor",
      .type = SL_RES_INT32,
      .flags = SL_RES_RANGE,
      .min = -32768,
      .max = 32767 },
    { .name = "bootstrapServers", .type = SL_RES_ARRAY, .elem = &ks_server },
    { .name = "contentMode", .type = SL_RES_STRING, .enums = ks_modes },
    { .name = "auth", .type = SL_RES_OBJECT, .fields = ks_auth_fields },
    { .name = NULL },
};

static const struct sl_res_field ks_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = ks_spec_fields },
    { .name = NULL },
};

static int ks_defaults(struct json_object *obj, const struct sl_res_env *env,
                       struct sl_diag *d)
{
    struct json_object *spec = sl_res_ensure(obj, "spec");

    (void)env;
    (void)d;
    if (spec != NULL && sl_res_get(spec, "contentMode") == NULL)
        sl_res_set_str(spec, "contentMode", "binary");
    return 0;
}

static int ks_positive(const struct json_object *spec, const char *key,
                       struct sl_diag *d)
{
    struct json_object *v = sl_res_get(spec, key);
    char field[64];

    if (v == NULL || json_object_get_int64(v) > 0)
        return 0;
    snprintf(field, sizeof(field), "spec.%s", key);
    return sl_diag_set(d, SL_EINVAL, field, "invalid value %lld: must be > 0",
                       (long long)json_object_get_int64(v));
}

static int ks_validate(const struct json_object *obj,
                       const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const char *topic = sl_res_get_str(spec, "topic");
    struct json_object *servers = sl_res_get(spec, "bootstrapServers");
    int rc;

    (void)env;
    if (topic == NULL || topic[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "spec.topic", "missing field(s)");
    if (servers == NULL || json_object_array_length(servers) == 0)
        return sl_diag_set(d, SL_EINVAL, "spec.bootstrapServers",
                           "missing field(s)");
    if ((rc = ks_positive(spec, "numPartitions", d)) != 0)
        return rc;
    return ks_positive(spec, "replicationFactor", d);
}

static int ks_validate_update(const struct json_object *old,
                              const struct json_object *obj,
                              const struct sl_res_env *env, struct sl_diag *d)
{
    static const char *const fixed[] = { "topic", "numPartitions",
                                         "replicationFactor", NULL };
    const char *const *f;
    char field[64];
    int rc;

    (void)env;
    for (f = fixed; *f != NULL; f++) {
        snprintf(field, sizeof(field), "spec.%s", *f);
        rc = sl__res_immutable(d, field, "immutable field",
                               sl_res_get(sl_res_get(old, "spec"), *f),
                               sl_res_get(sl_res_get(obj, "spec"), *f));
        if (rc != 0)
            return rc;
    }
    return 0;
}

const struct sl_res_kind sl_res_kind_kafkasink = {
    .group = "eventing.knative.dev",
    .version = "v1alpha1",
    .kind = "KafkaSink",
    .plural = "kafkasinks",
    .singular = "kafkasink",
    .short_names = NULL,
    .namespaced = true,
    .fields = ks_fields,
    .set_defaults = ks_defaults,
    .validate = ks_validate,
    .validate_update = ks_validate_update,
};
