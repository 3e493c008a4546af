/*
 * resource/containersource.c - sources.knative.dev/v1 ContainerSource
 * (reference section 8; knative/eventing pkg/apis/sources/v1
 * container_{types,defaults,validation}.go).
 *
 * Fields: spec.template (a PodTemplateSpec, resource/podspec.h),
 * spec.sink, spec.ceOverrides.
 * Defaults: a container without a name is named "<source>-<index>"
 * (Knative's rule); when the source has only a generateName, its prefix
 * without the trailing '-' stands for the name (Knative sees an empty
 * name there and writes "-<index>", which Kubernetes then refuses). The
 * sink's ref.namespace becomes the source's.
 * Validation: the sink is a required Destination; the template's PodSpec
 * has at least one container, each with a unique DNS-1123 name and an
 * image (podspec.c); ceOverrides extension names ASCII alphanumeric.
 */
#include <stdio.h>
#include <string.h>

#include "resource/duck.h"
#include "resource/meta.h"
#include "resource/podspec.h"
#include "resource/resource.h"
#include "resource/source.h"

static const struct sl_res_field cs_spec_fields[] = {
    { .name = "template",
      .type = SL_RES_OBJECT,
      .fields = sl__res_pod_template_fields },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "ceOverrides",
      .type = SL_RES_OBJECT,
      .fields = sl_res_ceoverrides_fields },
    { .name = NULL },
};

static const struct sl_res_field cs_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = cs_spec_fields },
    { .name = NULL },
};

static int cs_defaults(struct json_object *obj, const struct sl_res_env *env,
                       struct sl_diag *d)
{
    struct json_object *spec = sl_res_ensure(obj, "spec");
    struct json_object *cs = sl_res_dig(spec, "template.spec.containers");
    const char *name = sl_res_meta_name(obj);
    size_t i, n, blen;
    char cname[320];

    (void)env;
    (void)d;
    if (spec == NULL)
        return 0;
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"),
                             sl_res_meta_namespace(obj));
    if (name == NULL || name[0] == '\0')
        name = sl_res_str(sl_res_dig(obj, "metadata.generateName"));
    if (name == NULL || !json_object_is_type(cs, json_type_array))
        return 0;
    blen = strlen(name);
    if (blen > 0 && name[blen - 1] == '-')
        blen--;
    if (blen > 256)
        blen = 256;
    n = json_object_array_length(cs);
    for (i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cs, i);
        const char *cur = sl_res_get_str(c, "name");
        if (!json_object_is_type(c, json_type_object) ||
            (cur != NULL && cur[0] != '\0'))
            continue;
        snprintf(cname, sizeof(cname), "%.*s-%zu", (int)blen, name, i);
        sl_res_set_str(c, "name", cname);
    }
    return 0;
}

static int cs_validate(const struct json_object *obj,
                       const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *sink = sl_res_get(spec, "sink");
    struct sl_res_path p;
    int rc;

    sl_res_path_init(&p, "spec.sink");
    if (sink == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sink, env, NULL, &p, d)) != 0)
        return rc;
    sl_res_path_init(&p, "spec.template.spec");
    return sl__res_podspec_validate(sl_res_dig(spec, "template.spec"), &p, d);
}

const struct sl_res_kind sl_res_kind_containersource = {
    .group = "sources.knative.dev",
    .version = "v1",
    .kind = "ContainerSource",
    .plural = "containersources",
    .singular = "containersource",
    .short_names = NULL,
    .namespaced = true,
    .fields = cs_fields,
    .set_defaults = cs_defaults,
    .validate = cs_validate,
    .validate_update = NULL,
};
