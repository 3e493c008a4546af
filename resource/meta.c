/*
 * resource/meta.c - ObjectMeta schema, admission checks (names,
 * namespace, annotation size) and accessors.
 *
 * Kubernetes' rules (apimachinery ValidateObjectMeta): a name or a
 * generateName is required; names follow the kind's rule (DNS-1123
 * subdomain unless the kind says otherwise); a generateName is checked as
 * a name prefix (a trailing '-' is fine); namespaces are DNS-1123 labels
 * and only namespaced kinds have one; label keys are qualified names and
 * values label values; annotation keys are qualified names once
 * lower-cased, and keys plus values total at most 256 KiB.
 */
#include "resource/meta.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "resource/internal.h"

/* Annotation keys: Kubernetes lower-cases them before checking. */
static int meta_annotation_key(const char *s, struct sl_diag *d)
{
    char low[320];

    if (sl_strlcpy(low, s, sizeof(low)) >= sizeof(low))
        return sl_res_check_qualified_name(s, d);
    return sl_res_check_qualified_name(sl_str_lower(low), d);
}

static const struct sl_res_field meta_string = { .name = "",
                                                 .type = SL_RES_STRING };

static const struct sl_res_field meta_any = { .name = "", .type = SL_RES_ANY };

static const struct sl_res_field meta_label_value = {
    .name = "",
    .type = SL_RES_STRING,
    .check = sl_res_check_label_value,
};

static const struct sl_res_field meta_owner_fields[] = {
    { .name = "apiVersion", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "kind", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "name", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "uid", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "controller", .type = SL_RES_BOOL },
    { .name = "blockOwnerDeletion", .type = SL_RES_BOOL },
    { .name = NULL },
};

static const struct sl_res_field meta_owner = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = meta_owner_fields,
};

const struct sl_res_field sl_res_meta_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "generateName", .type = SL_RES_STRING },
    { .name = "namespace", .type = SL_RES_STRING },
    { .name = "labels",
      .type = SL_RES_MAP,
      .elem = &meta_label_value,
      .key_check = sl_res_check_qualified_name },
    { .name = "annotations",
      .type = SL_RES_STRING_MAP,
      .key_check = meta_annotation_key },
    /* System fields: accepted as the server writes them, left alone. */
    { .name = "uid", .type = SL_RES_STRING },
    { .name = "resourceVersion", .type = SL_RES_STRING },
    { .name = "generation", .type = SL_RES_INT64 },
    { .name = "creationTimestamp",
      .type = SL_RES_STRING,
      .check = sl_res_check_rfc3339 },
    { .name = "deletionTimestamp",
      .type = SL_RES_STRING,
      .check = sl_res_check_rfc3339 },
    { .name = "deletionGracePeriodSeconds", .type = SL_RES_INT64 },
    { .name = "ownerReferences", .type = SL_RES_ARRAY, .elem = &meta_owner },
    { .name = "finalizers", .type = SL_RES_ARRAY, .elem = &meta_string },
    { .name = "managedFields", .type = SL_RES_ARRAY, .elem = &meta_any },
    { .name = "selfLink", .type = SL_RES_STRING },
    { .name = NULL },
};

const struct sl_res_field sl_res_meta_field = {
    .name = "metadata",
    .type = SL_RES_OBJECT,
    .fields = sl_res_meta_fields,
};

/* ---- admission ---- */

/* Record the result of a check 'rc' at 'field'. */
static int meta_at(int rc, struct sl_diag *d, const char *field)
{
    if (rc != 0 && d != NULL)
        snprintf(d->field, sizeof(d->field), "%s", field);
    return rc;
}

static int meta_names(struct json_object *meta, const struct sl_res_kind *k,
                      struct sl_diag *d)
{
    sl_res_check_fn *check =
        k->name_check != NULL ? k->name_check : sl_res_check_dns1123_subdomain;
    const char *name = sl_res_get_str(meta, "name");
    const char *gen = sl_res_get_str(meta, "generateName");
    char masked[256];
    size_t n;

    if (name != NULL && name[0] != '\0')
        return meta_at(check(name, d), d, "metadata.name");
    if (gen == NULL || gen[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "name or generateName is required");
    /* A prefix: the store appends random characters, so a trailing '-'
     * is checked as if it were a letter. */
    n = strlen(gen);
    if (n >= sizeof(masked))
        return meta_at(check(gen, d), d, "metadata.generateName");
    memcpy(masked, gen, n + 1);
    if (n > 1 && masked[n - 1] == '-')
        masked[n - 1] = 'a';
    return meta_at(check(masked, d), d, "metadata.generateName");
}

static int meta_namespace(struct json_object *meta, const struct sl_res_kind *k,
                          const struct sl_res_env *env, struct sl_diag *d)
{
    const char *ns = sl_res_get_str(meta, "namespace");

    if (!k->namespaced) {
        if (ns != NULL && ns[0] != '\0')
            return sl_diag_set(d, SL_EINVAL, "metadata.namespace",
                               "not allowed on this type: %s is "
                               "cluster-scoped",
                               k->kind);
        return 0;
    }
    if (ns == NULL || ns[0] == '\0') {
        if (env->default_namespace == NULL)
            return sl_diag_set(d, SL_EINVAL, "metadata.namespace",
                               "missing field(s)");
        sl_res_set_str(meta, "namespace", env->default_namespace);
        ns = env->default_namespace;
    }
    return meta_at(sl_res_check_dns1123_label(ns, d), d, "metadata.namespace");
}

static int meta_annotation_size(struct json_object *meta, struct sl_diag *d)
{
    struct json_object *ann = sl_res_get(meta, "annotations");
    struct lh_entry *e;
    size_t total = 0;

    if (ann == NULL)
        return 0;
    for (e = lh_table_head(json_object_get_object(ann)); e != NULL;
         e = lh_entry_next(e)) {
        total += strlen((const char *)lh_entry_k(e));
        total += (size_t)json_object_get_string_len(
            (struct json_object *)lh_entry_v(e));
    }
    if (total > SL_RES_ANNOTATIONS_MAX)
        return sl_diag_set(d, SL_EINVAL, "metadata.annotations",
                           "too long: must have at most %d bytes",
                           SL_RES_ANNOTATIONS_MAX);
    return 0;
}

int sl__res_meta_admit(struct json_object *obj, const struct sl_res_kind *k,
                       const struct sl_res_env *env, struct sl_diag *d)
{
    struct json_object *meta = sl_res_ensure(obj, "metadata");
    int rc;

    if (meta == NULL)
        return sl_diag_set(d, SL_EINVAL, "metadata", "expected object");
    if ((rc = meta_names(meta, k, d)) != 0)
        return rc;
    if ((rc = meta_namespace(meta, k, env, d)) != 0)
        return rc;
    return meta_annotation_size(meta, d);
}

int sl__res_immutable(struct sl_diag *d, const char *field, const char *what,
                      const struct json_object *old,
                      const struct json_object *cur)
{
    const char *a, *b;
    char olds[200], curs[200];

    if (sl_res_equal(old, cur))
        return 0;
    a = old != NULL
            ? json_object_to_json_string_ext((struct json_object *)old,
                                             JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE)
            : "<absent>";
    snprintf(olds, sizeof(olds), "%s", a);
    b = cur != NULL
            ? json_object_to_json_string_ext((struct json_object *)cur,
                                             JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE)
            : "<absent>";
    snprintf(curs, sizeof(curs), "%s", b);
    return sl_diag_set(d, SL_EINVAL, field, "%s changed (-old +new): -%s +%s",
                       what, olds, curs);
}

/* ---- accessors ---- */

const char *sl_res_meta_name(const struct json_object *obj)
{
    return sl_res_get_str(sl_res_get(obj, "metadata"), "name");
}

const char *sl_res_meta_namespace(const struct json_object *obj)
{
    return sl_res_get_str(sl_res_get(obj, "metadata"), "namespace");
}

const char *sl_res_meta_label(const struct json_object *obj, const char *key)
{
    return sl_res_get_str(sl_res_dig(obj, "metadata.labels"), key);
}

const char *sl_res_meta_annotation(const struct json_object *obj,
                                   const char *key)
{
    return sl_res_get_str(sl_res_dig(obj, "metadata.annotations"), key);
}

int64_t sl_res_meta_generation(const struct json_object *obj)
{
    struct json_object *g = sl_res_dig(obj, "metadata.generation");

    return json_object_is_type(g, json_type_int) ? json_object_get_int64(g) : 0;
}

static void meta_set(struct json_object *obj, const char *map, const char *key,
                     const char *value)
{
    struct json_object *m = sl_res_ensure(sl_res_ensure(obj, "metadata"), map);

    if (m != NULL)
        sl_res_set_str(m, key, value);
}

void sl_res_meta_set_label(struct json_object *obj, const char *key,
                           const char *value)
{
    meta_set(obj, "labels", key, value);
}

void sl_res_meta_set_annotation(struct json_object *obj, const char *key,
                                const char *value)
{
    meta_set(obj, "annotations", key, value);
}
