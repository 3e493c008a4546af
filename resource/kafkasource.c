/*
 * resource/kafkasource.c - sources.knative.dev/v1 KafkaSource (reference
 * section 6.1; eventing-kafka-broker control-plane/pkg/apis/sources/v1
 * kafka_{types,defaults,validation}.go, bindings/v1 kafka_types.go).
 *
 * Defaults: consumers 1, initialOffset "latest" (also when empty),
 * ordering "ordered", the sink's and dead-letter sink's ref.namespace the
 * source's, and consumerGroup "knative-kafka-source-<metadata.uid>" when
 * the object has a uid. Knative writes "knative-kafka-source-<random
 * UUID>"; admission here is pure, so the default comes from the object:
 * the uid is just as unique per incarnation (a re-created source starts a
 * new group, as in Knative) and never changes. An object admitted before
 * the store gave it a uid keeps no consumerGroup; reconcilers read the
 * group with sl_res_kafka_source_group() (source.h), which derives the
 * same name, and the next admission with the uid writes it.
 * Validation, in the Kafka webhook's order: the sink is a required
 * Destination; topics and bootstrapServers are required, non-empty, with
 * non-empty elements; initialOffset earliest|latest; ordering
 * ordered|unordered (schema); plus consumers >= 1, the delivery spec, and
 * the label kafkasources.sources.knative.dev/key-type in string|int|
 * float|byte-array.
 * Immutable: the consumer group, compared as sl_res_kafka_source_group()
 * reads it (an update without a uid is taken to carry the stored one).
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "resource/duck.h"
#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/source.h"

#define KSRC_KEY_TYPE "kafkasources.sources.knative.dev/key-type"

static const char *const ksrc_orderings[] = { "ordered", "unordered", NULL };
static const char *const ksrc_key_types[] = { "string", "int", "float",
                                              "byte-array", NULL };

static const struct sl_res_field ksrc_nonempty = {
    .name = "",
    .type = SL_RES_STRING,
    .flags = SL_RES_NONEMPTY,
};

/* corev1.SecretKeySelector {name, key, optional}. */
static const struct sl_res_field ksrc_secret_key_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "key", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "optional", .type = SL_RES_BOOL },
    { .name = NULL },
};

/* SecretValueFromSource {secretKeyRef}. */
static const struct sl_res_field ksrc_secret_value_fields[] = {
    { .name = "secretKeyRef",
      .type = SL_RES_OBJECT,
      .fields = ksrc_secret_key_fields },
    { .name = NULL },
};

#define KSRC_SECRET(n)                                                       \
    {                                                                        \
        .name = n, .type = SL_RES_OBJECT, .fields = ksrc_secret_value_fields \
    }

static const struct sl_res_field ksrc_sasl_fields[] = {
    { .name = "enable", .type = SL_RES_BOOL },
    KSRC_SECRET("user"),
    KSRC_SECRET("password"),
    KSRC_SECRET("type"),
    KSRC_SECRET("roleARN"),
    KSRC_SECRET("tokenProvider"),
    { .name = NULL },
};

static const struct sl_res_field ksrc_tls_fields[] = {
    { .name = "enable", .type = SL_RES_BOOL },
    KSRC_SECRET("cert"),
    KSRC_SECRET("key"),
    KSRC_SECRET("caCert"),
    { .name = NULL },
};

static const struct sl_res_field ksrc_net_fields[] = {
    { .name = "sasl", .type = SL_RES_OBJECT, .fields = ksrc_sasl_fields },
    { .name = "tls", .type = SL_RES_OBJECT, .fields = ksrc_tls_fields },
    { .name = NULL },
};

static const struct sl_res_field ksrc_spec_fields[] = {
    { .name = "bootstrapServers",
      .type = SL_RES_ARRAY,
      .elem = &ksrc_nonempty },
    { .name = "topics", .type = SL_RES_ARRAY, .elem = &ksrc_nonempty },
    { .name = "consumerGroup", .type = SL_RES_STRING },
    { .name = "initialOffset", .type = SL_RES_STRING },
    { .name = "consumers", .type = SL_RES_INT32 },
    { .name = "ordering", .type = SL_RES_STRING, .enums = ksrc_orderings },
    { .name = "delivery",
      .type = SL_RES_OBJECT,
      .fields = sl_res_delivery_fields },
    { .name = "net", .type = SL_RES_OBJECT, .fields = ksrc_net_fields },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "ceOverrides",
      .type = SL_RES_OBJECT,
      .fields = sl_res_ceoverrides_fields },
    { .name = NULL },
};

static const struct sl_res_field ksrc_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = ksrc_spec_fields },
    { .name = NULL },
};

/*
 * The group as sl_res_kafka_source_group() reads it, as a new JSON string;
 * NULL when unknown. Without a uid of its own, 'obj' borrows that of
 * 'uid_from' (may be NULL).
 */
static struct json_object *ksrc_group_of(const struct json_object *obj,
                                         const struct json_object *uid_from)
{
    const char *group = sl_res_str(sl_res_dig(obj, "spec.consumerGroup"));
    const char *uid = sl_res_str(sl_res_dig(obj, "metadata.uid"));
    struct json_object *out;
    struct sl_buf b;

    if (group != NULL && group[0] != '\0')
        return json_object_new_string(group);
    if (uid == NULL || uid[0] == '\0')
        uid = sl_res_str(sl_res_dig(uid_from, "metadata.uid"));
    if (uid == NULL || uid[0] == '\0')
        return NULL;
    sl_buf_init(&b, strlen(SL_RES_KAFKA_GROUP_PREFIX) + strlen(uid));
    sl_buf_appends(&b, SL_RES_KAFKA_GROUP_PREFIX);
    sl_buf_appends(&b, uid);
    out = json_object_new_string_len(sl_buf_str(&b), (int)b.len);
    sl_buf_fini(&b);
    return out;
}

static int ksrc_defaults(struct json_object *obj, const struct sl_res_env *env,
                         struct sl_diag *d)
{
    const char *ns = sl_res_meta_namespace(obj);
    struct json_object *spec = sl_res_ensure(obj, "spec");
    struct json_object *group;
    const char *offset;

    (void)env;
    (void)d;
    if (spec == NULL)
        return 0;
    if ((group = ksrc_group_of(obj, NULL)) != NULL)
        json_object_object_add(spec, "consumerGroup", group);
    if (sl_res_get(spec, "consumers") == NULL)
        json_object_object_add(spec, "consumers", json_object_new_int(1));
    offset = sl_res_get_str(spec, "initialOffset");
    if (offset == NULL || offset[0] == '\0')
        sl_res_set_str(spec, "initialOffset", "latest");
    if (sl_res_get(spec, "ordering") == NULL)
        sl_res_set_str(spec, "ordering", "ordered");
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"), ns);
    sl_res_delivery_set_defaults(sl_res_get(spec, "delivery"), ns);
    return 0;
}

/* A required list with at least one element. */
static int ksrc_required_list(const struct json_object *spec, const char *key,
                              struct sl_diag *d)
{
    struct json_object *v = sl_res_get(spec, key);
    char field[64];

    if (json_object_is_type(v, json_type_array) &&
        json_object_array_length(v) > 0)
        return 0;
    snprintf(field, sizeof(field), "spec.%s", key);
    return sl_diag_set(d, SL_EINVAL, field, "missing field(s)");
}

static int ksrc_validate(const struct json_object *obj,
                         const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *sink = sl_res_get(spec, "sink");
    const struct json_object *dl = sl_res_get(spec, "delivery");
    struct json_object *consumers = sl_res_get(spec, "consumers");
    const char *offset = sl_res_get_str(spec, "initialOffset");
    const char *key_type = sl_res_meta_label(obj, KSRC_KEY_TYPE);
    const char *const *k;
    struct sl_res_path p;
    int rc;

    sl_res_path_init(&p, "spec.sink");
    if (sink == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sink, env, NULL, &p, d)) != 0)
        return rc;
    if ((rc = ksrc_required_list(spec, "topics", d)) != 0 ||
        (rc = ksrc_required_list(spec, "bootstrapServers", d)) != 0)
        return rc;
    if (offset == NULL ||
        (strcmp(offset, "earliest") != 0 && strcmp(offset, "latest") != 0))
        return sl_diag_set(d, SL_EINVAL, "spec.initialOffset",
                           "invalid value \"%s\": expected one of "
                           "\"earliest\", \"latest\"",
                           offset != NULL ? offset : "");
    if (consumers != NULL && json_object_get_int64(consumers) < 1)
        return sl_diag_set(d, SL_EINVAL, "spec.consumers",
                           "invalid value %lld: must be >= 1",
                           (long long)json_object_get_int64(consumers));
    if (dl != NULL) {
        sl_res_path_init(&p, "spec.delivery");
        if ((rc = sl_res_delivery_validate(dl, env, &p, d)) != 0)
            return rc;
    }
    if (key_type != NULL) {
        for (k = ksrc_key_types; *k != NULL; k++)
            if (strcmp(*k, key_type) == 0)
                break;
        if (*k == NULL)
            return sl_diag_set(d, SL_EINVAL,
                               "metadata.labels[" KSRC_KEY_TYPE "]",
                               "invalid value \"%s\": expected one of "
                               "\"string\", \"int\", \"float\", "
                               "\"byte-array\"",
                               key_type);
    }
    return 0;
}

static int ksrc_validate_update(const struct json_object *old,
                                const struct json_object *obj,
                                const struct sl_res_env *env, struct sl_diag *d)
{
    struct json_object *a = ksrc_group_of(old, NULL);
    struct json_object *b = ksrc_group_of(obj, old);
    int rc;

    (void)env;
    rc = sl__res_immutable(d, "spec.consumerGroup", "immutable field", a, b);
    json_object_put(b);
    json_object_put(a);
    return rc;
}

const struct sl_res_kind sl_res_kind_kafkasource = {
    .group = "sources.knative.dev",
    .version = "v1",
    .kind = "KafkaSource",
    .plural = "kafkasources",
    .singular = "kafkasource",
    .short_names = NULL,
    .namespaced = true,
    .fields = ksrc_fields,
    .set_defaults = ksrc_defaults,
    .validate = ksrc_validate,
    .validate_update = ksrc_validate_update,
};
