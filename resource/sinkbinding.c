/*
 * resource/sinkbinding.c - sources.knative.dev/v1 SinkBinding (reference
 * section 8; knative/eventing pkg/apis/sources/v1 sinkbinding_{types,
 * defaults,validation}.go, knative.dev/pkg tracker.Reference.Validate).
 *
 * Fields: spec.subject {apiVersion, kind, namespace, name, selector},
 * spec.sink, spec.ceOverrides.
 * Defaults: subject.namespace and the sink's ref.namespace become the
 * binding's namespace.
 * Validation, in Knative's order: subject.apiVersion required and a
 * qualified name ("apps/v1"); kind required and a C identifier;
 * namespace a DNS-1123 label; exactly one of name (a DNS-1123 label) and
 * selector (a valid LabelSelector); the sink is a required Destination;
 * the subject's namespace must be the binding's own.
 */
#include <stdio.h>
#include <string.h>

#include "resource/duck.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/source.h"

static const struct sl_res_field sb_subject_fields[] = {
    { .name = "apiVersion", .type = SL_RES_STRING },
    { .name = "kind", .type = SL_RES_STRING },
    { .name = "namespace", .type = SL_RES_STRING },
    { .name = "name", .type = SL_RES_STRING },
    { .name = "selector",
      .type = SL_RES_OBJECT,
      .fields = sl_res_label_selector_fields },
    { .name = NULL },
};

static const struct sl_res_field sb_spec_fields[] = {
    { .name = "subject", .type = SL_RES_OBJECT, .fields = sb_subject_fields },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "ceOverrides",
      .type = SL_RES_OBJECT,
      .fields = sl_res_ceoverrides_fields },
    { .name = NULL },
};

static const struct sl_res_field sb_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = sb_spec_fields },
    { .name = NULL },
};

static int sb_defaults(struct json_object *obj, const struct sl_res_env *env,
                       struct sl_diag *d)
{
    const char *ns = sl_res_meta_namespace(obj);
    struct json_object *spec = sl_res_ensure(obj, "spec");
    struct json_object *subject = sl_res_ensure(spec, "subject");
    const char *sns = sl_res_get_str(subject, "namespace");

    (void)env;
    (void)d;
    if (subject != NULL && ns != NULL && (sns == NULL || sns[0] == '\0'))
        sl_res_set_str(subject, "namespace", ns);
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"), ns);
    return 0;
}

/* Run 'check' on the string member 'key' of 'o'; its message at p.key. */
static int sb_check(const struct json_object *o, const char *key,
                    sl_res_check_fn *check, struct sl_res_path *p,
                    struct sl_diag *d)
{
    const char *v = sl_res_get_str(o, key);
    struct sl_diag tmp;

    if (v == NULL || v[0] == '\0')
        return sl_res_fail_at(d, p, key, "missing field(s)");
    sl_diag_clear(&tmp);
    if (check(v, &tmp) != 0)
        return sl_res_fail_at(d, p, key, "%s", tmp.msg);
    return 0;
}

/* The qualified-name check words its failure for keys; reword it. */
static int sb_check_api_version(const char *s, struct sl_diag *d)
{
    struct sl_diag tmp;
    const char *why;

    sl_diag_clear(&tmp);
    if (sl_res_check_qualified_name(s, &tmp) == 0)
        return 0;
    why = strstr(tmp.msg, "\": ");
    return sl_diag_set(d, SL_EINVAL, NULL, "invalid value \"%s\": %s", s,
                       why != NULL ? why + 3 : tmp.msg);
}

/* tracker.Reference.Validate. */
static int sb_subject(const struct json_object *subject, struct sl_diag *d)
{
    const char *name = sl_res_get_str(subject, "name");
    const struct json_object *sel = sl_res_get(subject, "selector");
    bool has_name = name != NULL && name[0] != '\0';
    struct sl_res_path p;
    size_t old;
    int rc;

    sl_res_path_init(&p, "spec.subject");
    if ((rc = sb_check(subject, "apiVersion", sb_check_api_version, &p, d)) !=
            0 ||
        (rc = sb_check(subject, "kind", sl_res_check_c_identifier, &p, d)) !=
            0 ||
        (rc = sb_check(subject, "namespace", sl_res_check_dns1123_label, &p,
                       d)) != 0)
        return rc;
    if (sel != NULL && has_name)
        return sl_res_fail_at(d, &p, "selector",
                              "expected exactly one, got both");
    if (has_name)
        return sb_check(subject, "name", sl_res_check_dns1123_label, &p, d);
    if (sel == NULL)
        return sl_res_fail(d, &p, "expected exactly one, got neither");
    old = sl_res_path_field(&p, "selector");
    rc = sl_res_label_selector_validate(sel, &p, d);
    sl_res_path_pop(&p, old);
    return rc;
}

static int sb_validate(const struct json_object *obj,
                       const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *subject = sl_res_get(spec, "subject");
    const struct json_object *sink = sl_res_get(spec, "sink");
    const char *ns = sl_res_meta_namespace(obj);
    const char *sns = sl_res_get_str(subject, "namespace");
    struct sl_res_path p;
    int rc;

    if ((rc = sb_subject(subject, d)) != 0)
        return rc;
    sl_res_path_init(&p, "spec.sink");
    if (sink == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sink, env, NULL, &p, d)) != 0)
        return rc;
    if (ns != NULL && sns != NULL && strcmp(ns, sns) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.subject.namespace",
                           "invalid value \"%s\": must be the SinkBinding's "
                           "namespace \"%s\"",
                           sns, ns);
    return 0;
}

const struct sl_res_kind sl_res_kind_sinkbinding = {
    .group = "sources.knative.dev",
    .version = "v1",
    .kind = "SinkBinding",
    .plural = "sinkbindings",
    .singular = "sinkbinding",
    .short_names = NULL,
    .namespaced = true,
    .fields = sb_fields,
    .set_defaults = sb_defaults,
    .validate = sb_validate,
    .validate_update = NULL,
};
