/*
 * resource/revision.c - serving.knative.dev/v1 Revision, and the
 * RevisionTemplateSpec that Service and Configuration carry (reference
 * 9.1, 9.2; knative/serving pkg/apis/serving/v1/revision_{defaults,
 * validation}.go, pkg/apis/serving/metadata_validation.go).
 *
 * A Revision's spec is a RevisionSpec (serving_podspec.c); its metadata carries
 * the autoscaling annotations. Knative rejects any change of a Revision's
 * spec: a revision is an immutable snapshot, new code means a new
 * revision.
 *
 * Names of all four Serving kinds are DNS-1035 labels (knative.dev/pkg
 * ValidateObjectMetadata), not the DNS-1123 subdomains of Kubernetes:
 * they become host names.
 */
#include <stdio.h>
#include <string.h>

#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/serving.h"
#include "resource/serving_internal.h"

#define SV_VISIBILITY_LABEL "networking.knative.dev/visibility"

/* ---- RevisionTemplateSpec ---- */

/* The template's metadata is a whole ObjectMeta, as Go decodes it: kn
 * and kubectl write "creationTimestamp: null" into it. */
const struct sl_res_field sl__res_revtemplate_fields[] = {
    { .name = "metadata", .type = SL_RES_OBJECT, .fields = sl_res_meta_fields },
    { .name = "spec", .type = SL_RES_OBJECT, .fields = sl__res_revspec_fields },
    { .name = NULL },
};

void sl__res_revtemplate_set_defaults(struct json_object *tmpl)
{
    sl__res_revspec_set_defaults(sl_res_ensure(tmpl, "spec"));
}

/* Re-record the message of a failed check 'rc' at 'field'. */
static int sv_at(int rc, struct sl_diag *d, const char *field)
{
    if (rc != 0 && d != NULL)
        snprintf(d->field, sizeof(d->field), "%s", field);
    return rc;
}

/* Template name and generateName (ValidateRevisionName). */
static int sv_template_name(const struct json_object *obj,
                            const struct json_object *tmeta, struct sl_diag *d)
{
    const char *name = sl_res_get_str(tmeta, "name");
    const char *gen = sl_res_get_str(tmeta, "generateName");
    const char *pname = sl_res_meta_name(obj);
    const char *pgen =
        sl_res_get_str(sl_res_get(obj, "metadata"), "generateName");
    char buf[320];
    size_t n;
    int rc;

    if (gen != NULL && gen[0] != '\0') {
        /* A prefix: a trailing '-' is fine. */
        n = strlen(gen);
        snprintf(buf, sizeof(buf), "%s", gen);
        if (n > 1 && n < sizeof(buf) && buf[n - 1] == '-')
            buf[n - 1] = 'a';
        rc = sl_res_check_dns1035_label(buf, d);
        if (rc != 0)
            return sv_at(rc, d, "spec.template.metadata.generateName");
    }
    if (name == NULL || name[0] == '\0')
        return 0;
    rc = sl_res_check_dns1035_label(name, d);
    if (rc != 0)
        return sv_at(rc, d, "spec.template.metadata.name");
    if (pname == NULL || pname[0] == '\0') {
        /* The revision's name could not be related to a name the store
         * has not made yet. */
        if (pgen != NULL && pgen[0] != '\0')
            return sl_diag_set(d, SL_EINVAL, "spec.template.metadata.name",
                               "must not set the field(s): the parent uses "
                               "generateName");
        return 0;
    }
    n = strlen(pname);
    if (strncmp(name, pname, n) != 0 || name[n] != '-')
        return sl_diag_set(d, SL_EINVAL, "spec.template.metadata.name",
                           "invalid value \"%s\": must have prefix \"%s-\"",
                           name, pname);
    return 0;
}

int sl__res_revtemplate_validate(const struct json_object *obj,
                                 struct sl_diag *d)
{
    const struct json_object *tmpl = sl_res_dig(obj, "spec.template");
    const struct json_object *tmeta = sl_res_get(tmpl, "metadata");
    struct sl_res_path p;
    int rc;

    if ((rc = sv_template_name(obj, tmeta, d)) != 0)
        return rc;
    sl_res_path_init(&p, "spec.template.metadata.annotations");
    rc =
        sl_res_sv_autoscaling_validate(sl_res_get(tmeta, "annotations"), &p, d);
    if (rc != 0)
        return rc;
    sl_res_path_init(&p, "spec.template.spec");
    return sl__res_revspec_validate(sl_res_get(tmpl, "spec"), &p, d);
}

int sl__res_revtemplate_verify_name(const struct json_object *old,
                                    const struct json_object *obj,
                                    struct sl_diag *d)
{
    const struct json_object *ot = sl_res_dig(old, "spec.template");
    const struct json_object *nt = sl_res_dig(obj, "spec.template");
    const char *on = sl_res_str(sl_res_dig(ot, "metadata.name"));
    const char *nn = sl_res_str(sl_res_dig(nt, "metadata.name"));
    char msg[SL_DIAG_MSG_MAX];
    int rc;

    if (nn == NULL || nn[0] == '\0' || on == NULL || strcmp(on, nn) != 0)
        return 0;
    rc =
        sl__res_immutable(d, "spec.template.metadata.name", "template", ot, nt);
    if (rc != 0 && d != NULL) {
        snprintf(msg, sizeof(msg),
                 "saw changes to the template without a name change: "
                 "revision \"%.63s\" exists already; %.360s",
                 nn, d->msg);
        snprintf(d->msg, sizeof(d->msg), "%s", msg);
    }
    return rc;
}

int sl__res_sv_meta_validate(const struct json_object *obj, bool no_autoscaling,
                             struct sl_diag *d)
{
    const char *vis = sl_res_meta_label(obj, SV_VISIBILITY_LABEL);
    const struct json_object *anns = sl_res_dig(obj, "metadata.annotations");
    struct lh_entry *e;

    if (vis != NULL && strcmp(vis, "cluster-local") != 0)
        return sl_diag_set(
            d, SL_EINVAL, "metadata.labels[" SV_VISIBILITY_LABEL "]",
            "invalid value \"%s\": expected \"cluster-local\"", vis);
    if (!no_autoscaling || anns == NULL)
        return 0;
    for (e = lh_table_head(json_object_get_object(anns)); e != NULL;
         e = lh_entry_next(e)) {
        const char *key = (const char *)lh_entry_k(e);
        char field[SL_DIAG_FIELD_MAX];

        if (strncmp(key, SL_RES_AS_PREFIX, strlen(SL_RES_AS_PREFIX)) != 0)
            continue;
        snprintf(field, sizeof(field), "metadata.annotations[%s]", key);
        return sl_diag_set(d, SL_EINVAL, field,
                           "invalid key name \"%s\": autoscaling annotations "
                           "must be put under "
                           "\"spec.template.metadata.annotations\" to work",
                           key);
    }
    return 0;
}

/* ---- Revision ---- */

static const struct sl_res_field revision_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = sl__res_revspec_fields },
    { .name = NULL },
};

static int revision_defaults(struct json_object *obj,
                             const struct sl_res_env *env, struct sl_diag *d)
{
    (void)env;
    (void)d;
    sl__res_revspec_set_defaults(sl_res_ensure(obj, "spec"));
    return 0;
}

static int revision_validate(const struct json_object *obj,
                             const struct sl_res_env *env, struct sl_diag *d)
{
    struct sl_res_path p;
    int rc;

    (void)env;
    sl_res_path_init(&p, "metadata.annotations");
    rc = sl_res_sv_autoscaling_validate(sl_res_dig(obj, "metadata.annotations"),
                                        &p, d);
    if (rc != 0)
        return rc;
    sl_res_path_init(&p, "spec");
    return sl__res_revspec_validate(sl_res_get(obj, "spec"), &p, d);
}

static int revision_validate_update(const struct json_object *old,
                                    const struct json_object *obj,
                                    const struct sl_res_env *env,
                                    struct sl_diag *d)
{
    (void)env;
    return sl__res_immutable(d, "spec", "immutable fields",
                             sl_res_get(old, "spec"), sl_res_get(obj, "spec"));
}

static const char *const revision_short_names[] = { "rev", NULL };

const struct sl_res_kind sl_res_kind_revision = {
    .group = "serving.knative.dev",
    .version = "v1",
    .kind = "Revision",
    .plural = "revisions",
    .singular = "revision",
    .short_names = revision_short_names,
    .namespaced = true,
    .fields = revision_fields,
    .name_check = sl_res_check_dns1035_label,
    .set_defaults = revision_defaults,
    .validate = revision_validate,
    .validate_update = revision_validate_update,
};
