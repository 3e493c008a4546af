/*
 * resource/apiserversource.c - sources.knative.dev/v1 ApiServerSource
 * (reference section 5.1; knative/eventing pkg/apis/sources/v1
 * apiserver_{types,defaults,validation}.go).
 *
 * Defaults: spec.mode "Reference" and spec.serviceAccountName "default"
 * when absent or empty; the sink's ref.namespace becomes the source's.
 * Validation: mode Reference or Resource; serviceAccountName a DNS-1123
 * subdomain (Kubernetes' rule for ServiceAccount names); the sink is a required
 * Destination; resources[] is required and non-empty, each with an
 * apiVersion that is "version" or "group/version" (required: Go's parser
 * would take "" too) and a non-blank kind, and a valid LabelSelector;
 * owner {apiVersion, kind}: kind non-blank, apiVersion empty (a wildcard,
 * reference 5.1) or a group/version; namespaceSelector a valid
 * LabelSelector ({} means all namespaces); filters only with the
 * new-apiserversource-filters feature, validated as Trigger filters;
 * ceOverrides extension names ASCII alphanumeric.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "resource/duck.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/source.h"

static const struct sl_res_field apis_resource_fields[] = {
    { .name = "apiVersion", .type = SL_RES_STRING },
    { .name = "kind", .type = SL_RES_STRING },
    { .name = "selector",
      .type = SL_RES_OBJECT,
      .fields = sl_res_label_selector_fields },
    { .name = NULL },
};

static const struct sl_res_field apis_resource = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = apis_resource_fields,
};

static const struct sl_res_field apis_owner_fields[] = {
    { .name = "apiVersion", .type = SL_RES_STRING },
    { .name = "kind", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field apis_spec_fields[] = {
    { .name = "resources", .type = SL_RES_ARRAY, .elem = &apis_resource },
    { .name = "owner", .type = SL_RES_OBJECT, .fields = apis_owner_fields },
    { .name = "mode", .type = SL_RES_STRING },
    { .name = "serviceAccountName", .type = SL_RES_STRING },
    { .name = "namespaceSelector",
      .type = SL_RES_OBJECT,
      .fields = sl_res_label_selector_fields },
    { .name = "filters", .type = SL_RES_ARRAY, .elem = &sl_res_filter_elem },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "ceOverrides",
      .type = SL_RES_OBJECT,
      .fields = sl_res_ceoverrides_fields },
    { .name = NULL },
};

static const struct sl_res_field apis_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = apis_spec_fields },
    { .name = NULL },
};

/* Write 'value' into spec[key] when it is absent or empty. */
static void apis_default_str(struct json_object *spec, const char *key,
                             const char *value)
{
    const char *cur = sl_res_get_str(spec, key);

    if (cur == NULL || cur[0] == '\0')
        sl_res_set_str(spec, key, value);
}

static int apis_defaults(struct json_object *obj, const struct sl_res_env *env,
                         struct sl_diag *d)
{
    struct json_object *spec = sl_res_ensure(obj, "spec");

    (void)env;
    (void)d;
    if (spec == NULL)
        return 0;
    apis_default_str(spec, "mode", "Reference");
    apis_default_str(spec, "serviceAccountName", "default");
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"),
                             sl_res_meta_namespace(obj));
    return 0;
}

/* Go's strings.TrimSpace(s) == "" for ASCII input. */
static bool apis_blank(const char *s)
{
    if (s == NULL)
        return true;
    for (; *s != '\0'; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* {apiVersion, kind[, selector]} at 'p'; 'empty_av' allows "" as a
 * wildcard apiVersion (owner). */
static int apis_avk(const struct json_object *o, bool empty_av,
                    struct sl_res_path *p, struct sl_diag *d)
{
    const char *av = sl_res_get_str(o, "apiVersion");
    const struct json_object *sel = sl_res_get(o, "selector");
    struct sl_diag tmp;
    size_t old;
    int rc;

    if (av == NULL || av[0] == '\0') {
        if (!empty_av)
            return sl_res_fail_at(d, p, "apiVersion", "missing field(s)");
    } else {
        sl_diag_clear(&tmp);
        if (sl_res_check_group_version(av, &tmp) != 0)
            return sl_res_fail_at(d, p, "apiVersion", "%s", tmp.msg);
    }
    if (apis_blank(sl_res_get_str(o, "kind")))
        return sl_res_fail_at(d, p, "kind", "missing field(s)");
    if (sel != NULL) {
        old = sl_res_path_field(p, "selector");
        rc = sl_res_label_selector_validate(sel, p, d);
        sl_res_path_pop(p, old);
        return rc;
    }
    return 0;
}

static int apis_resources(const struct json_object *spec, struct sl_diag *d)
{
    struct json_object *res = sl_res_get(spec, "resources");
    struct sl_res_path p;
    size_t i, n, old;
    int rc = 0;

    sl_res_path_init(&p, "spec.resources");
    n = json_object_is_type(res, json_type_array)
            ? json_object_array_length(res)
            : 0;
    if (n == 0)
        return sl_res_fail(d, &p, "missing field(s)");
    for (i = 0; i < n && rc == 0; i++) {
        old = sl_res_path_index(&p, i);
        rc = apis_avk(json_object_array_get_idx(res, i), false, &p, d);
        sl_res_path_pop(&p, old);
    }
    return rc;
}

static int apis_validate(const struct json_object *obj,
                         const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *sink = sl_res_get(spec, "sink");
    const struct json_object *owner = sl_res_get(spec, "owner");
    const struct json_object *nssel = sl_res_get(spec, "namespaceSelector");
    struct json_object *filters = sl_res_get(spec, "filters");
    const char *mode = sl_res_get_str(spec, "mode");
    const char *sa = sl_res_get_str(spec, "serviceAccountName");
    struct sl_res_path p;
    struct sl_diag tmp;
    int rc;

    if (mode == NULL ||
        (strcmp(mode, "Reference") != 0 && strcmp(mode, "Resource") != 0))
        return sl_diag_set(d, SL_EINVAL, "spec.mode",
                           "invalid value \"%s\": expected one of "
                           "\"Reference\", \"Resource\"",
                           mode != NULL ? mode : "");
    sl_diag_clear(&tmp);
    if (sa != NULL && sl_res_check_dns1123_subdomain(sa, &tmp) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.serviceAccountName", "%s",
                           tmp.msg);
    sl_res_path_init(&p, "spec.sink");
    if (sink == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sink, env, NULL, &p, d)) != 0)
        return rc;
    if ((rc = apis_resources(spec, d)) != 0)
        return rc;
    if (owner != NULL) {
        sl_res_path_init(&p, "spec.owner");
        if ((rc = apis_avk(owner, true, &p, d)) != 0)
            return rc;
    }
    if (nssel != NULL) {
        sl_res_path_init(&p, "spec.namespaceSelector");
        if ((rc = sl_res_label_selector_validate(nssel, &p, d)) != 0)
            return rc;
    }
    if (filters != NULL && json_object_array_length(filters) > 0) {
        if (!env->new_apiserversource_filters)
            return sl_diag_set(d, SL_EINVAL, "spec.filters",
                               "must not set the field(s): "
                               "new-apiserversource-filters is disabled");
        sl_res_path_init(&p, "spec.filters");
        if ((rc = sl_res_filters_validate(filters, &p, d)) != 0)
            return rc;
    }
    return 0;
}

const struct sl_res_kind sl_res_kind_apiserversource = {
    .group = "sources.knative.dev",
    .version = "v1",
    .kind = "ApiServerSource",
    .plural = "apiserversources",
    .singular = "apiserversource",
    .short_names = NULL,
    .namespaced = true,
    .fields = apis_fields,
    .set_defaults = apis_defaults,
    .validate = apis_validate,
    .validate_update = NULL,
};
