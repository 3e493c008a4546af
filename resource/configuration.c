/*
 * resource/configuration.c - serving.knative.dev/v1 Configuration
 * (reference 9.1; knative/serving pkg/apis/serving/v1/configuration_
 * {defaults,validation}.go).
 *
 * spec.template is a RevisionTemplateSpec: every change of it stamps a
 * new Revision "<name>-<generation, 5 digits>" unless the template names
 * its revision itself (then the name must start with "<name>-", and a
 * changed template needs a new name). Autoscaling annotations belong on
 * the template, not on the Configuration.
 */
#include "resource/serving_internal.h"

static const struct sl_res_field config_spec_fields[] = {
    { .name = "template",
      .type = SL_RES_OBJECT,
      .fields = sl__res_revtemplate_fields },
    { .name = NULL },
};

static const struct sl_res_field config_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = config_spec_fields },
    { .name = NULL },
};

static int config_defaults(struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    (void)env;
    (void)d;
    sl__res_revtemplate_set_defaults(
        sl_res_ensure(sl_res_ensure(obj, "spec"), "template"));
    return 0;
}

static int config_validate(const struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    int rc;

    (void)env;
    if ((rc = sl__res_sv_meta_validate(obj, true, d)) != 0)
        return rc;
    return sl__res_revtemplate_validate(obj, d);
}

static int config_validate_update(const struct json_object *old,
                                  const struct json_object *obj,
                                  const struct sl_res_env *env,
                                  struct sl_diag *d)
{
    (void)env;
    return sl__res_revtemplate_verify_name(old, obj, d);
}

static const char *const config_short_names[] = { "config", "cfg", NULL };

const struct sl_res_kind sl_res_kind_configuration = {
    .group = "serving.knative.dev",
    .version = "v1",
    .kind = "Configuration",
    .plural = "configurations",
    .singular = "configuration",
    .short_names = config_short_names,
    .namespaced = true,
    .fields = config_fields,
    .name_check = sl_res_check_dns1035_label,
    .set_defaults = config_defaults,
    .validate = config_validate,
    .validate_update = config_validate_update,
};
