/*
 * resource/admit.c - sl_res_admit: the one entry point the API and store
 * layers call on every create and update, and the env's defaults.
 *
 * The steps and their order are in resource.h; each one stops at its
 * first failure, so one call reports one error.
 */
#include "resource/resource.h"

#include <string.h>

#include "resource/internal.h"
#include "resource/meta.h"

void sl_res_env_init(struct sl_res_env *env)
{
    memset(env, 0, sizeof(*env));
    env->default_namespace = "default";
    env->broker_class = "MTChannelBasedBroker";
    env->broker_retry = 10;
    env->broker_backoff_policy = "exponential";
    env->broker_backoff_delay = "PT0.2S";
    env->broker_dead_letter_uri = NULL;
    env->delivery_timeout = true;
    env->delivery_retryafter = false;
    env->cross_namespace_event_links = false;
    env->kreference_group = false;
    env->new_apiserversource_filters = false;
    env->zoneinfo_dir = "/usr/share/zoneinfo";
}

/* Step 2: every top-level member against the kind's table. */
static int admit_top(struct json_object *obj, const struct sl_res_kind *k,
                     struct sl_diag *d)
{
    const struct sl_res_field *f;
    struct sl_res_path path;
    struct lh_entry *e, *next;
    int rc = 0;

    sl_res_path_init(&path, NULL);
    for (e = lh_table_head(json_object_get_object(obj)); e != NULL && rc == 0;
         e = next) {
        const char *key = (const char *)lh_entry_k(e);
        struct json_object *val = (struct json_object *)lh_entry_v(e);
        size_t old;

        next = lh_entry_next(e);
        if (strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0 ||
            strcmp(key, "status") == 0)
            continue; /* checked already, or the store's business */
        f = strcmp(key, "metadata") == 0 ? &sl_res_meta_field
                                         : sl_res_schema_find(k->fields, key);
        old = sl_res_path_field(&path, key);
        if (f == NULL)
            rc = sl_res_fail(d, &path, "unknown field \"%s\"", path.buf);
        else if (val == NULL)
            json_object_object_del(obj, key);
        else
            rc = sl_res_schema_check_value(val, f, &path, d);
        sl_res_path_pop(&path, old);
    }
    for (f = k->fields; rc == 0 && f != NULL && f->name != NULL; f++)
        if ((f->flags & SL_RES_REQUIRED) && sl_res_get(obj, f->name) == NULL)
            rc = sl_diag_set(d, SL_EINVAL, f->name, "missing field(s)");
    return rc;
}

/* A top-level string member, or a type error. */
static int admit_type_string(const struct json_object *obj, const char *key,
                             const char **out, struct sl_diag *d)
{
    struct json_object *v = sl_res_get(obj, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, key, "expected string, got %s",
                           sl_res_json_type_name(v));
    *out = sl_res_str(v);
    return 0;
}

/* On update, what Kubernetes itself keeps fixed: kind, name, namespace. */
static int admit_update_meta(const struct json_object *old,
                             const struct json_object *obj, struct sl_diag *d)
{
    int rc;

    rc = sl__res_immutable(d, "kind", "immutable field",
                           sl_res_get(old, "kind"), sl_res_get(obj, "kind"));
    if (rc == 0)
        rc = sl__res_immutable(d, "metadata.name", "immutable field",
                               sl_res_dig(old, "metadata.name"),
                               sl_res_dig(obj, "metadata.name"));
    if (rc == 0)
        rc = sl__res_immutable(d, "metadata.namespace", "immutable field",
                               sl_res_dig(old, "metadata.namespace"),
                               sl_res_dig(obj, "metadata.namespace"));
    return rc;
}

int sl_res_admit(struct json_object *obj, const struct json_object *old,
                 const struct sl_res_env *env, const struct sl_res_kind **pkind,
                 struct sl_diag *d)
{
    const struct sl_res_kind *k;
    struct sl_res_env defenv;
    const char *av, *kind;
    int rc;

    sl_diag_clear(d);
    if (pkind != NULL)
        *pkind = NULL;
    if (env == NULL) {
        sl_res_env_init(&defenv);
        env = &defenv;
    }
    if (!json_object_is_type(obj, json_type_object))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "expected a resource object, got %s",
                           sl_res_json_type_name(obj));
    if ((rc = admit_type_string(obj, "apiVersion", &av, d)) != 0 ||
        (rc = admit_type_string(obj, "kind", &kind, d)) != 0)
        return rc;
    if (av == NULL || av[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "apiVersion", "apiVersion not set");
    if (kind == NULL || kind[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "kind", "kind not set");
    k = sl_res_kind_find(av, kind);
    if (k == NULL)
        return sl_diag_set(d, SL_EINVAL, "kind",
                           "no matches for kind \"%s\" in version \"%s\"", kind,
                           av);
    if (pkind != NULL)
        *pkind = k;
    if ((rc = admit_top(obj, k, d)) != 0)
        return rc;
    if ((rc = sl__res_meta_admit(obj, k, env, d)) != 0)
        return rc;
    if (old != NULL && (rc = admit_update_meta(old, obj, d)) != 0)
        return rc;
    if (k->set_defaults != NULL) {
        if ((rc = k->set_defaults(obj, env, d)) != 0)
            return rc;
        /* The API server validates the object the webhook mutated: what
         * defaulting wrote (a label from spec.broker, say) must pass the
         * schema too, so an admitted object is a fixed point. */
        if ((rc = admit_top(obj, k, d)) != 0 ||
            (rc = sl__res_meta_admit(obj, k, env, d)) != 0)
            return rc;
    }
    if (k->validate != NULL && (rc = k->validate(obj, env, d)) != 0)
        return rc;
    if (old != NULL && k->validate_update != NULL)
        rc = k->validate_update(old, obj, env, d);
    return rc;
}
