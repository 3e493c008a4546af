/*
 * resource/source.c - shared pieces of the source kinds: CloudEventOverrides
 * (knative.dev/pkg apis/duck/v1 source_types.go), LabelSelector (Kubernetes
 * apimachinery metav1 validation), apiVersion/kind rules, and the
 * KafkaSource consumer group reconcilers read.
 */
#include "resource/source.h"

#include <stdio.h>
#include <string.h>

/* ---- CloudEventOverrides ---- */

int sl_res_check_extension_name(const char *s, struct sl_diag *d)
{
    size_t i;

    if (s[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key name \"\": keys MUST NOT be empty");
    for (i = 0; s[i] != '\0'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "invalid key name \"%s\": keys are expected "
                               "to be alphanumeric",
                               s);
    return 0;
}

const struct sl_res_field sl_res_ceoverrides_fields[] = {
    { .name = "extensions",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_extension_name },
    { .name = NULL },
};

/* ---- LabelSelector ---- */

static const char *const source_operators[] = { "In", "NotIn", "Exists",
                                                "DoesNotExist", NULL };

static const struct sl_res_field source_label_value = {
    .name = "",
    .type = SL_RES_STRING,
    .check = sl_res_check_label_value,
};

static const struct sl_res_field source_requirement_fields[] = {
    { .name = "key",
      .type = SL_RES_STRING,
      .flags = SL_RES_REQUIRED,
      .check = sl_res_check_qualified_name },
    { .name = "operator",
      .type = SL_RES_STRING,
      .flags = SL_RES_REQUIRED,
      .enums = source_operators },
    { .name = "values", .type = SL_RES_ARRAY, .elem = &source_label_value },
    { .name = NULL },
};

static const struct sl_res_field source_requirement = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = source_requirement_fields,
};

const struct sl_res_field sl_res_label_selector_fields[] = {
    { .name = "matchLabels",
      .type = SL_RES_MAP,
      .elem = &source_label_value,
      .key_check = sl_res_check_qualified_name },
    { .name = "matchExpressions",
      .type = SL_RES_ARRAY,
      .elem = &source_requirement },
    { .name = NULL },
};

int sl_res_label_selector_validate(const struct json_object *sel,
                                   struct sl_res_path *p, struct sl_diag *d)
{
    struct json_object *exprs = sl_res_get(sel, "matchExpressions");
    size_t i, n, old;
    int rc = 0;

    if (!json_object_is_type(exprs, json_type_array))
        return 0;
    n = json_object_array_length(exprs);
    for (i = 0; i < n && rc == 0; i++) {
        struct json_object *e = json_object_array_get_idx(exprs, i);
        const char *op = sl_res_get_str(e, "operator");
        struct json_object *vals = sl_res_get(e, "values");
        size_t nv = json_object_is_type(vals, json_type_array)
                        ? json_object_array_length(vals)
                        : 0;
        if (op == NULL)
            continue;
        old = sl_res_path_field(p, "matchExpressions");
        sl_res_path_index(p, i);
        if ((strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) && nv == 0)
            rc = sl_res_fail_at(d, p, "values",
                                "must be specified when `operator` is 'In' "
                                "or 'NotIn'");
        else if ((strcmp(op, "Exists") == 0 ||
                  strcmp(op, "DoesNotExist") == 0) &&
                 nv > 0)
            rc = sl_res_fail_at(d, p, "values",
                                "may not be specified when `operator` is "
                                "'Exists' or 'DoesNotExist'");
        sl_res_path_pop(p, old);
    }
    return rc;
}

/* ---- apiVersion and kind ---- */

int sl_res_check_group_version(const char *s, struct sl_diag *d)
{
    const char *slash = strchr(s, '/');

    if (s[0] == '\0' || (slash != NULL && (slash == s || slash[1] == '\0' ||
                                           strchr(slash + 1, '/') != NULL)))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": unexpected GroupVersion "
                           "string",
                           s);
    return 0;
}

int sl_res_check_c_identifier(const char *s, struct sl_diag *d)
{
    size_t i;
    bool ok = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
              s[0] == '_';

    for (i = 1; ok && s[i] != '\0'; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (!ok)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a valid C identifier must "
                           "start with alphabetic character or '_', followed "
                           "by a string of alphanumeric characters or '_'",
                           s);
    return 0;
}

/* ---- KafkaSource ---- */

int sl_res_kafka_source_group(const struct json_object *obj, char *out,
                              size_t outlen)
{
    const char *group = sl_res_str(sl_res_dig(obj, "spec.consumerGroup"));
    const char *uid = sl_res_str(sl_res_dig(obj, "metadata.uid"));
    int n;

    if (group != NULL && group[0] != '\0')
        n = snprintf(out, outlen, "%s", group);
    else if (uid != NULL && uid[0] != '\0')
        n = snprintf(out, outlen, "%s%s", SL_RES_KAFKA_GROUP_PREFIX, uid);
    else
        return SL_ENOENT;
    return n < 0 || (size_t)n >= outlen ? SL_ETOOBIG : 0;
}
