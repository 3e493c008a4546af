/*
 * resource/route.c - serving.knative.dev/v1 Route and the traffic targets
 * it shares with Service (reference 9.3; knative/serving
 * pkg/apis/serving/v1/route_{defaults,validation}.go).
 *
 * A target sends 'percent' of the traffic to a revision (revisionName) or
 * to the latest ready revision of a configuration (configurationName, or
 * in a Service its own configuration). latestRevision says which of the
 * two a target means and defaults accordingly; url and the resolved
 * revision names are the controller's, in status.
 *
 * Defaults: in a Service, no traffic means all of it to the latest
 * revision; a Route gets no traffic default (and then fails: the targets
 * must sum to 100). Percent is not defaulted: absent counts as 0, as in
 * Knative.
 * Immutable: nothing.
 */
#include <stdio.h>
#include <string.h>

#include "resource/meta.h"
#include "resource/serving_internal.h"

static const struct sl_res_field traffic_fields[] = {
    { .name = "tag", .type = SL_RES_STRING },
    { .name = "revisionName", .type = SL_RES_STRING },
    { .name = "configurationName", .type = SL_RES_STRING },
    { .name = "latestRevision", .type = SL_RES_BOOL },
    { .name = "percent", .type = SL_RES_INT64 },
    { .name = "url", .type = SL_RES_STRING },
    { .name = NULL },
};

const struct sl_res_field sl__res_traffic_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = traffic_fields,
};

/* A non-empty string member, or NULL. */
static const char *rt_str(const struct json_object *o, const char *key)
{
    const char *s = sl_res_get_str(o, key);

    return s != NULL && s[0] != '\0' ? s : NULL;
}

static size_t rt_len(const struct json_object *arr)
{
    return json_object_is_type(arr, json_type_array)
               ? json_object_array_length(arr)
               : 0;
}

void sl__res_traffic_set_defaults(struct json_object *spec, bool in_service)
{
    struct json_object *tr = sl_res_get(spec, "traffic");
    size_t i;

    if (!json_object_is_type(spec, json_type_object))
        return;
    if (in_service && rt_len(tr) == 0) {
        struct json_object *t = json_object_new_object();

        json_object_object_add(t, "percent", json_object_new_int64(100));
        json_object_object_add(t, "latestRevision", json_object_new_boolean(1));
        tr = json_object_new_array();
        json_object_array_add(tr, t);
        json_object_object_add(spec, "traffic", tr);
    }
    for (i = 0; i < rt_len(tr); i++) {
        struct json_object *t = json_object_array_get_idx(tr, i);
        if (sl_res_get(t, "latestRevision") == NULL)
            json_object_object_add(
                t, "latestRevision",
                json_object_new_boolean(rt_str(t, "revisionName") == NULL));
    }
}

/* Run 'check' on 'value'; a failure is reported at p + field. */
static int rt_check(sl_res_check_fn *check, const char *value,
                    struct sl_res_path *p, const char *field, struct sl_diag *d)
{
    char msg[SL_DIAG_MSG_MAX];

    if (check(value, d) == 0)
        return 0;
    snprintf(msg, sizeof(msg), "%s", d != NULL ? d->msg : "");
    return sl_res_fail_at(d, p, field, "%s", msg);
}

/* One target (TrafficTarget.Validate in spec context). */
static int rt_target(const struct json_object *t, bool in_service,
                     struct sl_res_path *p, struct sl_diag *d)
{
    const char *rev = rt_str(t, "revisionName");
    const char *cfg = rt_str(t, "configurationName");
    struct json_object *lr = sl_res_get(t, "latestRevision");
    struct json_object *pct = sl_res_get(t, "percent");
    int rc;

    /* The two senses must agree: follow the latest, or pin a revision. */
    if (lr != NULL && json_object_get_boolean(lr) == (rev != NULL))
        return sl_res_fail_at(d, p, "latestRevision",
                              "may not set revisionName \"%s\" when "
                              "latestRevision is %s",
                              rev != NULL ? rev : "",
                              json_object_get_boolean(lr) ? "true" : "false");
    if (in_service && cfg != NULL)
        return sl_res_fail_at(d, p, "configurationName",
                              "must not set the field(s): a Service's "
                              "traffic goes to its own configuration");
    if (rev != NULL && cfg != NULL)
        return sl_res_fail_at(d, p, "configurationName",
                              "expected exactly one, got both: "
                              "\"revisionName\" and \"configurationName\"");
    /* Kubernetes' IsQualifiedName, as Knative checks them. */
    if (rev != NULL && (rc = rt_check(sl_res_check_qualified_name, rev, p,
                                      "revisionName", d)) != 0)
        return rc;
    if (cfg != NULL && (rc = rt_check(sl_res_check_qualified_name, cfg, p,
                                      "configurationName", d)) != 0)
        return rc;
    if (rev == NULL && cfg == NULL && !in_service)
        return sl_res_fail(d, p,
                           "expected exactly one, got neither: "
                           "\"revisionName\" or \"configurationName\"");
    if (pct != NULL &&
        (json_object_get_int64(pct) < 0 || json_object_get_int64(pct) > 100))
        return sl_res_fail_at(d, p, "percent", "expected 0 <= %lld <= 100",
                              (long long)json_object_get_int64(pct));
    if (rt_str(t, "url") != NULL)
        return sl_res_fail_at(d, p, "url",
                              "must not set the field(s): url is status "
                              "only");
    return 0;
}

int sl__res_traffic_validate(const struct json_object *spec, bool in_service,
                             struct sl_diag *d)
{
    const struct json_object *tr = sl_res_get(spec, "traffic");
    struct sl_res_path p;
    int64_t sum = 0;
    size_t i, j, old;
    int rc = 0;

    sl_res_path_init(&p, "spec.traffic");
    for (i = 0; i < rt_len(tr) && rc == 0; i++) {
        const struct json_object *t = json_object_array_get_idx(tr, i);
        const char *tag = rt_str(t, "tag");

        old = sl_res_path_index(&p, i);
        rc = rt_target(t, in_service, &p, d);
        if (rc == 0 && tag != NULL)
            rc = rt_check(sl_res_check_dns1035_label, tag, &p, "tag", d);
        for (j = 0; rc == 0 && tag != NULL && j < i; j++) {
            const char *other = rt_str(json_object_array_get_idx(tr, j), "tag");
            if (other != NULL && strcmp(other, tag) == 0)
                rc = sl_res_fail_at(d, &p, "tag",
                                    "multiple definitions for \"%s\": "
                                    "spec.traffic[%zu].tag has it already",
                                    tag, j);
        }
        /* Each percent is 0..100 once checked: the sum cannot overflow. */
        if (rc == 0)
            sum += json_object_get_int64(sl_res_get(t, "percent"));
        sl_res_path_pop(&p, old);
    }
    if (rc == 0 && sum != 100)
        rc = sl_res_fail(d, &p, "traffic targets sum to %lld, want 100",
                         (long long)sum);
    return rc;
}

/* ---- Route ---- */

static const struct sl_res_field route_spec_fields[] = {
    { .name = "traffic", .type = SL_RES_ARRAY, .elem = &sl__res_traffic_elem },
    { .name = NULL },
};

static const struct sl_res_field route_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = route_spec_fields },
    { .name = NULL },
};

static int route_defaults(struct json_object *obj, const struct sl_res_env *env,
                          struct sl_diag *d)
{
    (void)env;
    (void)d;
    sl__res_traffic_set_defaults(sl_res_ensure(obj, "spec"), false);
    return 0;
}

static int route_validate(const struct json_object *obj,
                          const struct sl_res_env *env, struct sl_diag *d)
{
    int rc;

    (void)env;
    if ((rc = sl__res_sv_meta_validate(obj, false, d)) != 0)
        return rc;
    return sl__res_traffic_validate(sl_res_get(obj, "spec"), false, d);
}

static const char *const route_short_names[] = { "rt", NULL };

const struct sl_res_kind sl_res_kind_route = {
    .group = "serving.knative.dev",
    .version = "v1",
    .kind = "Route",
    .plural = "routes",
    .singular = "route",
    .short_names = route_short_names,
    .namespaced = true,
    .fields = route_fields,
    .name_check = sl_res_check_dns1035_label,
    .set_defaults = route_defaults,
    .validate = route_validate,
    .validate_update = NULL,
};
