/*
 * resource/service.c - serving.knative.dev/v1 Service (reference 9.1,
 * 9.3; knative/serving pkg/apis/serving/v1/service_{defaults,
 * validation}.go).
 *
 * A Service's spec is a ConfigurationSpec (template) and a RouteSpec
 * (traffic) side by side; the controller makes one Configuration and one
 * Route of the same name from them. Its traffic targets name revisions or
 * nothing (the Service's own configuration), never a configuration.
 *
 * Defaults: the template's (serving_podspec.c) and traffic [{percent: 100,
 * latestRevision: true}] when there is none.
 * Immutable: nothing, but a template that keeps a user-chosen revision
 * name must not change (Knative's VerifyNameChange).
 */
#include "resource/serving_internal.h"

static const struct sl_res_field service_spec_fields[] = {
    { .name = "template",
      .type = SL_RES_OBJECT,
      .fields = sl__res_revtemplate_fields },
    { .name = "traffic", .type = SL_RES_ARRAY, .elem = &sl__res_traffic_elem },
    { .name = NULL },
};

static const struct sl_res_field service_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = service_spec_fields },
    { .name = NULL },
};

static int service_defaults(struct json_object *obj,
                            const struct sl_res_env *env, struct sl_diag *d)
{
    struct json_object *spec = sl_res_ensure(obj, "spec");

    (void)env;
    (void)d;
    sl__res_revtemplate_set_defaults(sl_res_ensure(spec, "template"));
    sl__res_traffic_set_defaults(spec, true);
    return 0;
}

static int service_validate(const struct json_object *obj,
                            const struct sl_res_env *env, struct sl_diag *d)
{
    int rc;

    (void)env;
    if ((rc = sl__res_sv_meta_validate(obj, true, d)) != 0 ||
        (rc = sl__res_revtemplate_validate(obj, d)) != 0)
        return rc;
    return sl__res_traffic_validate(sl_res_get(obj, "spec"), true, d);
}

static int service_validate_update(const struct json_object *old,
                                   const struct json_object *obj,
                                   const struct sl_res_env *env,
                                   struct sl_diag *d)
{
    (void)env;
    return sl__res_revtemplate_verify_name(old, obj, d);
}

static const char *const service_short_names[] = { "ksvc", "kservice", NULL };

const struct sl_res_kind sl_res_kind_service = {
    .group = "serving.knative.dev",
    .version = "v1",
    .kind = "Service",
    .plural = "services",
    .singular = "service",
    .short_names = service_short_names,
    .namespaced = true,
    .fields = service_fields,
    .name_check = sl_res_check_dns1035_label,
    .set_defaults = service_defaults,
    .validate = service_validate,
    .validate_update = service_validate_update,
};
