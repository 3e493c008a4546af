/*
 * api/objects.c - list, get, create, replace, merge-patch and delete of
 * objects and their status subresource.
 *
 * Writes go through resource/ admission (strict decoding, defaults,
 * validation, immutable fields) and then the store, whose errors map to
 * Kubernetes codes: SL_ENOENT 404 NotFound, SL_EEXIST 409 AlreadyExists,
 * SL_ECONFLICT 409 Conflict, SL_EINVAL from admission 422 Invalid,
 * SL_ETOOBIG 413, anything else 500.
 */
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/merge_patch.h"
#include "core/str.h"
#include "core/uuid.h"
#include "core/yaml.h"
#include "net/server.h"
#include "resource/resource.h"
#include "store/selector.h"
#include "store/store.h"

#define OBJ_JSON_DEPTH 64

/* ---- small helpers ---- */

static struct json_object *obj_get(const struct json_object *o, const char *k)
{
    struct json_object *v = NULL;

    if (o != NULL && json_object_is_type(o, json_type_object))
        json_object_object_get_ex(o, k, &v);
    return v;
}

static const char *obj_str(const struct json_object *o, const char *k)
{
    struct json_object *v = obj_get(o, k);

    return v != NULL && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static struct json_object *obj_meta(struct json_object *o)
{
    struct json_object *m = obj_get(o, "metadata");

    if (m == NULL || !json_object_is_type(m, json_type_object)) {
        m = json_object_new_object();
        json_object_object_add(o, "metadata", m);
    }
    return m;
}

static const char *obj_kind_key(const struct sl_res_kind *k, char *buf,
                                size_t len)
{
    return sl_res_kind_key(k, buf, len);
}

/* Map a store or admission error to a Status answer. */
static void obj_error(struct sl_http_req *req, int rc,
                      const struct sl_res_kind *k, const char *name,
                      const struct sl_diag *d)
{
    char res[200];

    sl__api_resource(k, res, sizeof(res));
    switch (rc) {
    case SL_ENOENT:
        sl__api_fail(req, 404, "NotFound", k, name, NULL, "%s \"%s\" not found",
                     res, name ? name : "");
        break;
    case SL_EEXIST:
        sl__api_fail(req, 409, "AlreadyExists", k, name, NULL,
                     "%s \"%s\" already exists", res, name ? name : "");
        break;
    case SL_ECONFLICT:
        sl__api_fail(req, 409, "Conflict", k, name, NULL,
                     "Operation cannot be fulfilled on %s \"%s\": the object "
                     "has been modified; please apply your changes to the "
                     "latest version and try again",
                     res, name ? name : "");
        break;
    case SL_EINVAL: {
        char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        sl_diag_format(d, msg, sizeof(msg));
        sl__api_fail(req, 422, "Invalid", k, name, d->field[0] ? d->field : "",
                     "%s \"%s\" is invalid: %s", k->kind, name ? name : "",
                     msg);
        break;
    }
    case SL_ETOOBIG:
        sl__api_fail(req, 413, "RequestEntityTooLarge", k, name, NULL, "%s",
                     d->msg[0] ? d->msg : "object too large");
        break;
    default:
        sl__api_fail(req, 500, "InternalError", k, name, NULL,
                     "store error: %s", d->msg[0] ? d->msg : sl_strerror(rc));
    }
}

/*
 * Parse the request body by its Content-Type: JSON, YAML (one document)
 * or, when 'patch' is set, a merge patch. Answers 400/415 itself and
 * returns NULL on failure.
 */
static struct json_object *obj_body(struct sl_http_req *req, bool patch)
{
    const char *ct = sl_http_req_header(req, "Content-Type");
    size_t len;
    const char *body = sl_http_req_body(req, &len);
    struct json_object *out = NULL;
    char type[128];
    size_t n;

    if (ct == NULL)
        ct = patch ? "" : "application/json";
    n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    snprintf(type, sizeof(type), "%.*s", (int)n, ct);
    if (patch ? sl_str_eq_ci(type, "application/merge-patch+json")
              : sl_str_eq_ci(type, "application/json")) {
        struct json_tokener *tok = json_tokener_new_ex(OBJ_JSON_DEPTH);
        enum json_tokener_error err;

        json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                        JSON_TOKENER_VALIDATE_UTF8);
        out = json_tokener_parse_ex(tok, body ? body : "", (int)len);
        err = json_tokener_get_error(tok);
        if (out != NULL && json_tokener_get_parse_end(tok) != len) {
            json_object_put(out);
            out = NULL;
            err = json_tokener_error_parse_unexpected;
        }
        if (out == NULL) {
            /* json_tokener_continue: the body ended inside a value. */
            sl__api_fail(req, 400, "BadRequest", NULL, NULL, NULL,
                         "the body is not valid JSON: %s at byte %zu",
                         err == json_tokener_continue
                             ? "unexpected end of data"
                             : json_tokener_error_desc(err),
                         json_tokener_get_parse_end(tok));
            json_tokener_free(tok);
            return NULL;
        }
        json_tokener_free(tok);
    } else if (!patch && (sl_str_eq_ci(type, "application/yaml") ||
                          sl_str_eq_ci(type, "application/x-yaml") ||
                          sl_str_eq_ci(type, "text/yaml"))) {
        struct json_object *docs = NULL;
        struct sl_diag d;
        char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        sl_diag_clear(&d);
        if (sl_yaml_to_json(body ? body : "", len, &docs, &d) != 0) {
            sl__api_fail(req, 400, "BadRequest", NULL, NULL, NULL,
                         "the body is not valid YAML: %s",
                         sl_diag_format(&d, msg, sizeof(msg)));
            return NULL;
        }
        if (json_object_array_length(docs) != 1) {
            sl__api_fail(req, 400, "BadRequest", NULL, NULL, NULL,
                         "the body must hold exactly one YAML document, "
                         "not %zu",
                         json_object_array_length(docs));
            json_object_put(docs);
            return NULL;
        }
        out = json_object_get(json_object_array_get_idx(docs, 0));
        json_object_put(docs);
    } else {
        sl__api_fail(req, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                     "the body's media type '%s' is not supported%s", type,
                     patch ? " (use application/merge-patch+json)" : "");
        return NULL;
    }
    if (!json_object_is_type(out, json_type_object)) {
        sl__api_fail(req, 400, "BadRequest", NULL, NULL, NULL,
                     "the body must be a JSON object");
        json_object_put(out);
        return NULL;
    }
    return out;
}

/*
 * Check apiVersion/kind against the path (filling them in when absent)
 * and the namespace against the path's. Answers 400 and returns -1 on a
 * mismatch.
 */
static int obj_check_identity(struct sl_http_req *req,
                              const struct sl__api_target *t,
                              struct json_object *o)
{
    const struct sl_res_kind *k = t->kind;
    const char *av = obj_str(o, "apiVersion"), *kind = obj_str(o, "kind");
    struct json_object *meta, *m = obj_get(o, "metadata");
    const char *ns;
    char want[200];

    if (json_object_object_get_ex(o, "metadata", &m) &&
        !json_object_is_type(m, json_type_object)) {
        sl__api_fail(req, 400, "BadRequest", k, NULL, "metadata",
                     "metadata: expected object, got %s",
                     sl_res_json_type_name(m));
        return -1;
    }
    meta = obj_meta(o);
    ns = obj_str(meta, "namespace");

    sl_res_kind_api_version(k, want, sizeof(want));
    if (av == NULL && obj_get(o, "apiVersion") == NULL)
        json_object_object_add(o, "apiVersion", json_object_new_string(want));
    else if (av == NULL || strcmp(av, want) != 0)
        goto mismatch;
    if (kind == NULL && obj_get(o, "kind") == NULL)
        json_object_object_add(o, "kind", json_object_new_string(k->kind));
    else if (kind == NULL || strcmp(kind, k->kind) != 0)
        goto mismatch;
    if (!k->namespaced)
        return 0;
    if (ns != NULL && *ns != '\0' && t->ns != NULL && strcmp(ns, t->ns) != 0) {
        sl__api_fail(req, 400, "BadRequest", k, NULL, NULL,
                     "the namespace of the provided object does not match "
                     "the namespace sent on the request");
        return -1;
    }
    if (t->ns != NULL)
        json_object_object_add(meta, "namespace",
                               json_object_new_string(t->ns));
    return 0;
mismatch:
    sl__api_fail(req, 400, "BadRequest", k, NULL, NULL,
                 "the body's apiVersion/kind (%s/%s) does not match the "
                 "path (%s %s)",
                 av ? av : "?", kind ? kind : "?", want, k->kind);
    return -1;
}

/* Namespaced writes need an existing namespace, as in Kubernetes. */
static int obj_check_namespace(struct sl_api *api, struct sl_http_req *req,
                               const struct sl__api_target *t)
{
    struct json_object *ns = NULL;
    int rc;

    if (!t->kind->namespaced)
        return 0;
    rc = sl_store_get(api->store, "Namespace", "", t->ns, &ns, NULL);
    json_object_put(ns);
    if (rc == 0)
        return 0;
    sl__api_fail(req, 404, "NotFound",
                 sl_res_kind_by_resource("", "v1", "namespaces"), t->ns, NULL,
                 "namespaces \"%s\" not found", t->ns);
    return -1;
}

int sl__api_selectors(struct sl_http_req *req, const struct sl_res_kind *k,
                      struct sl__api_fieldsel *fs)
{
    const char *ls = sl_http_req_query(req, "labelSelector");
    struct sl_selector *sel = NULL;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (ls != NULL && sl_selector_parse(ls, &sel, &d) != 0) {
        sl__api_fail(req, 400, "BadRequest", k, NULL, NULL,
                     "unable to parse requirement: %s", d.msg);
        return -1;
    }
    sl_selector_free(sel);
    if (sl__api_fieldsel_parse(sl_http_req_query(req, "fieldSelector"), fs,
                               &d) != 0) {
        sl__api_fieldsel_fini(fs);
        sl__api_fail(req, 400, "BadRequest", k, NULL, NULL, "%s", d.msg);
        return -1;
    }
    return 0;
}

/*
 * The admission settings for one write: the API's (or the built-in ones)
 * with the feature flags of ConfigMap knative-eventing/config-features
 * applied when it exists, as Knative's webhook reads them ("enabled" /
 * "disabled"; "allowed" counts as enabled). Read per write: a changed
 * ConfigMap takes effect at once. The strings of '*out' are borrowed
 * from the API's settings or are literals.
 */
static const struct sl_res_env *obj_env(struct sl_api *api,
                                        struct sl_res_env *out)
{
    static const struct {
        const char *key;
        size_t off;
    } flags[] = {
        { "delivery-timeout", offsetof(struct sl_res_env, delivery_timeout) },
        { "delivery-retryafter",
          offsetof(struct sl_res_env, delivery_retryafter) },
        { "cross-namespace-event-links",
          offsetof(struct sl_res_env, cross_namespace_event_links) },
        { "kreference-group", offsetof(struct sl_res_env, kreference_group) },
        { "new-apiserversource-filters",
          offsetof(struct sl_res_env, new_apiserversource_filters) },
    };
    struct json_object *cm = NULL, *data;
    size_t i;

    if (api->env != NULL)
        *out = *api->env;
    else
        sl_res_env_init(out);
    if (sl_store_get(api->store, "ConfigMap", "knative-eventing",
                     "config-features", &cm, NULL) != 0)
        return out;
    data = obj_get(cm, "data");
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct json_object *v = data ? obj_get(data, flags[i].key) : NULL;
        const char *s = v && json_object_is_type(v, json_type_string)
                            ? json_object_get_string(v)
                            : NULL;

        if (s == NULL)
            continue;
        *(bool *)((char *)out + flags[i].off) =
            strcmp(s, "enabled") == 0 || strcmp(s, "allowed") == 0;
    }
    json_object_put(cm);
    return out;
}

/*
 * Admission for a create. Defaults that Knative's webhook derives from a
 * random UUID (KafkaSource's consumerGroup) are derived from
 * metadata.uid, which admission may not invent (it is pure): give the
 * object a fresh one first. The store assigns the real uid and ignores
 * this one, so the defaulted value is as random as Knative's.
 */
static int obj_admit_create(struct sl_api *api, struct json_object *o,
                            const struct sl_res_kind **pk, struct sl_diag *d)
{
    struct json_object *meta = obj_get(o, "metadata");
    char uid[SL_UUID_STR_LEN + 1];
    struct sl_res_env env;

    if (meta != NULL && json_object_is_type(meta, json_type_object) &&
        obj_get(meta, "uid") == NULL && sl_uuid_v4(uid) == 0)
        json_object_object_add(meta, "uid", json_object_new_string(uid));
    return sl_res_admit(o, NULL, obj_env(api, &env), pk, d);
}

/* ---- verbs ---- */

static void obj_list(struct sl_api *api, struct sl_http_req *req,
                     const struct sl__api_target *t)
{
    struct json_object *items = NULL, *all = NULL, *list;
    struct sl__api_fieldsel fs;
    struct sl_diag d;
    uint64_t rv = 0;
    char kk[256], buf[200];
    size_t i;
    int rc;

    if (sl__api_selectors(req, t->kind, &fs) != 0)
        return;
    sl_diag_clear(&d);
    rc = sl_store_list(api->store, obj_kind_key(t->kind, kk, sizeof(kk)), t->ns,
                       sl_http_req_query(req, "labelSelector"), &all, &rv, &d);
    if (rc != 0) {
        sl__api_fieldsel_fini(&fs);
        obj_error(req, rc, t->kind, NULL, &d);
        return;
    }
    items = json_object_new_array();
    for (i = 0; i < json_object_array_length(all); i++) {
        struct json_object *o = json_object_array_get_idx(all, i);

        if (sl__api_fieldsel_match(&fs, o))
            json_object_array_add(items, json_object_get(o));
    }
    json_object_put(all);
    sl__api_fieldsel_fini(&fs);
    list = json_object_new_object();
    json_object_object_add(list, "apiVersion",
                           json_object_new_string(sl_res_kind_api_version(
                               t->kind, buf, sizeof(buf))));
    snprintf(buf, sizeof(buf), "%sList", t->kind->kind);
    json_object_object_add(list, "kind", json_object_new_string(buf));
    {
        struct json_object *m = json_object_new_object();

        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
        json_object_object_add(m, "resourceVersion",
                               json_object_new_string(buf));
        json_object_object_add(list, "metadata", m);
    }
    json_object_object_add(list, "items", items);
    sl__api_json(req, 200, list);
    json_object_put(list);
}

static void obj_create(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t)
{
    struct json_object *o = obj_body(req, false), *stored = NULL;
    const struct sl_res_kind *k = NULL;
    struct sl_diag d;
    char kk[256];
    int rc;

    if (o == NULL)
        return;
    if (obj_check_identity(req, t, o) != 0 ||
        obj_check_namespace(api, req, t) != 0)
        goto out;
    sl_diag_clear(&d);
    rc = obj_admit_create(api, o, &k, &d);
    if (rc == 0)
        rc = sl_store_create(api->store, obj_kind_key(t->kind, kk, sizeof(kk)),
                             t->kind->namespaced, o, &stored, &d);
    if (rc != 0)
        obj_error(req, rc, t->kind, obj_str(obj_meta(o), "name"), &d);
    else
        sl__api_json(req, 201, stored);
out:
    json_object_put(stored);
    json_object_put(o);
}

/*
 * Replace the stored object by 'o' (taken). Shared by PUT and PATCH.
 */
static void obj_replace(struct sl_api *api, struct sl_http_req *req,
                        const struct sl__api_target *t, struct json_object *o,
                        const struct json_object *old)
{
    const struct sl_res_kind *k = NULL;
    struct json_object *stored = NULL;
    struct sl_res_env env;
    struct sl_diag d;
    bool unchanged = false;
    char kk[256];
    int rc;

    sl_diag_clear(&d);
    rc = sl_res_admit(o, old, obj_env(api, &env), &k, &d);
    if (rc == 0)
        rc = sl_store_update(api->store, obj_kind_key(t->kind, kk, sizeof(kk)),
                             t->kind->namespaced, o, &stored, &unchanged, &d);
    if (rc != 0)
        obj_error(req, rc, t->kind, t->name, &d);
    else
        sl__api_json(req, 200, stored);
    json_object_put(stored);
    json_object_put(o);
}

static int obj_load(struct sl_api *api, struct sl_http_req *req,
                    const struct sl__api_target *t, struct json_object **out)
{
    struct sl_diag d;
    char kk[256];
    int rc;

    sl_diag_clear(&d);
    rc = sl_store_get(api->store, obj_kind_key(t->kind, kk, sizeof(kk)),
                      t->ns ? t->ns : "", t->name, out, &d);
    if (rc != 0)
        obj_error(req, rc, t->kind, t->name, &d);
    return rc;
}

static void obj_update(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t, bool patch)
{
    struct json_object *old = NULL, *body = obj_body(req, patch), *o;
    const char *name;

    if (body == NULL)
        return;
    if (obj_load(api, req, t, &old) != 0)
        goto out;
    if (patch) {
        struct json_object *copy = NULL;

        json_object_deep_copy(old, &copy, NULL);
        o = sl_merge_patch(copy, body);
    } else {
        o = json_object_get(body);
    }
    if (!json_object_is_type(o, json_type_object)) {
        sl__api_fail(req, 400, "BadRequest", t->kind, t->name, NULL,
                     "the patched object is not a JSON object");
        json_object_put(o);
        goto out;
    }
    if (obj_check_identity(req, t, o) != 0) {
        json_object_put(o);
        goto out;
    }
    name = obj_str(obj_meta(o), "name");
    if (name == NULL || strcmp(name, t->name) != 0) {
        sl__api_fail(req, 400, "BadRequest", t->kind, t->name, NULL,
                     "the name of the object (%s) does not match the name "
                     "on the URL (%s)",
                     name ? name : "", t->name);
        json_object_put(o);
        goto out;
    }
    obj_replace(api, req, t, o, old);
out:
    json_object_put(old);
    json_object_put(body);
}

static void obj_status(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t, bool patch)
{
    struct json_object *old = NULL, *body = obj_body(req, patch), *st = NULL,
                       *stored = NULL;
    const char *rv_text;
    uint64_t rv = 0;
    struct sl_diag d;
    char kk[256];
    int rc;

    if (body == NULL)
        return;
    if (obj_load(api, req, t, &old) != 0)
        goto out;
    /* The body is the object (or a patch of it): same identity rules. */
    if (!patch && obj_check_identity(req, t, body) != 0)
        goto out;
    if (!patch && obj_str(obj_get(body, "metadata"), "name") != NULL &&
        strcmp(obj_str(obj_get(body, "metadata"), "name"), t->name) != 0) {
        sl__api_fail(req, 400, "BadRequest", t->kind, t->name, NULL,
                     "the name of the object (%s) does not match the name "
                     "on the URL (%s)",
                     obj_str(obj_get(body, "metadata"), "name"), t->name);
        goto out;
    }
    if (patch) {
        struct json_object *cur = NULL, *p;

        if (obj_get(old, "status") != NULL)
            json_object_deep_copy(obj_get(old, "status"), &cur, NULL);
        if (!json_object_object_get_ex(body, "status", &p))
            st = cur; /* the patch does not touch status */
        else if (p == NULL) {
            json_object_put(cur); /* "status": null removes it */
            st = json_object_new_object();
        } else
            st = sl_merge_patch(cur, p);
    } else {
        st = json_object_get(obj_get(body, "status"));
    }
    if (st == NULL)
        st = json_object_new_object();
    if (!json_object_is_type(st, json_type_object)) {
        sl__api_fail(req, 422, "Invalid", t->kind, t->name, "status",
                     "%s \"%s\" is invalid: status: must be an object",
                     t->kind->kind, t->name);
        goto out;
    }
    sl_diag_clear(&d);
    rv_text = obj_str(obj_get(body, "metadata"), "resourceVersion");
    rc = 0;
    if (rv_text != NULL && *rv_text != '\0')
        rc = sl_store_rv_parse(rv_text, "metadata.resourceVersion", &rv, &d);
    if (rc == 0)
        rc = sl_store_update_status(
            api->store, obj_kind_key(t->kind, kk, sizeof(kk)),
            t->ns ? t->ns : "", t->name, st, rv, &stored, NULL, &d);
    if (rc != 0)
        obj_error(req, rc, t->kind, t->name, &d);
    else
        sl__api_json(req, 200, stored);
out:
    json_object_put(st);
    json_object_put(stored);
    json_object_put(old);
    json_object_put(body);
}

/* Delete everything in namespace 'ns' (before the Namespace itself). */
static int obj_delete_namespace_content(struct sl_api *api, const char *ns,
                                        struct sl_diag *d)
{
    size_t i, n = sl_res_kind_count();
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);
        struct json_object *items = NULL;
        uint64_t rv;
        char kk[256];
        size_t j;

        if (!k->namespaced)
            continue;
        sl_res_kind_key(k, kk, sizeof(kk));
        rc = sl_store_list(api->store, kk, ns, NULL, &items, &rv, d);
        for (j = 0; rc == 0 && j < json_object_array_length(items); j++) {
            const char *name = obj_str(
                obj_get(json_object_array_get_idx(items, j), "metadata"),
                "name");

            rc = sl_store_delete(api->store, kk, ns, name, 0, NULL, d);
            if (rc == SL_ENOENT)
                rc = 0;
        }
        json_object_put(items);
    }
    return rc;
}

static void obj_delete(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t)
{
    struct json_object *gone = NULL;
    struct sl_diag d;
    char kk[256];
    int rc = 0;

    sl_diag_clear(&d);
    obj_kind_key(t->kind, kk, sizeof(kk));
    if (strcmp(kk, "Namespace") == 0) {
        if (strcmp(t->name, "default") == 0) {
            sl__api_fail(req, 403, "Forbidden", t->kind, t->name, NULL,
                         "namespaces \"default\" is forbidden: this "
                         "namespace may not be deleted");
            return;
        }
        rc = sl_store_get(api->store, kk, "", t->name, &gone, &d);
        json_object_put(gone);
        gone = NULL;
        if (rc == 0)
            rc = obj_delete_namespace_content(api, t->name, &d);
    }
    if (rc == 0)
        rc = sl_store_delete(api->store, kk, t->ns ? t->ns : "", t->name, 0,
                             &gone, &d);
    if (rc != 0)
        obj_error(req, rc, t->kind, t->name, &d);
    else
        sl__api_json(req, 200, gone);
    json_object_put(gone);
}

void sl__api_objects(struct sl_api *api, struct sl_http_req *req,
                     const struct sl__api_target *t)
{
    const char *m = sl_http_req_method(req);
    const char *watch = sl_http_req_query(req, "watch");

    /* Refuse what would otherwise be silently ignored. */
    if (sl_http_req_query(req, "dryRun") != NULL) {
        sl__api_fail(req, 400, "BadRequest", t->kind, t->name, NULL,
                     "dryRun is not supported");
        return;
    }
    if (t->status && t->name != NULL && !sl__api_has_status(t->kind)) {
        sl__api_fail(req, 404, "NotFound", t->kind, t->name, NULL,
                     "the server could not find the requested resource");
        return;
    }
    if (t->status && t->name != NULL) {
        if (strcmp(m, "GET") == 0) {
            struct json_object *o = NULL;

            if (obj_load(api, req, t, &o) == 0)
                sl__api_json(req, 200, o);
            json_object_put(o);
        } else if (strcmp(m, "PUT") == 0) {
            obj_status(api, req, t, false);
        } else if (strcmp(m, "PATCH") == 0) {
            obj_status(api, req, t, true);
        } else {
            goto not_allowed;
        }
        return;
    }
    if (t->name == NULL) {
        if (strcmp(m, "GET") == 0 && watch != NULL &&
            (strcmp(watch, "true") == 0 || strcmp(watch, "1") == 0))
            sl__api_watch(api, req, t);
        else if (strcmp(m, "GET") == 0 && watch != NULL &&
                 strcmp(watch, "false") != 0 && strcmp(watch, "0") != 0)
            sl__api_fail(req, 400, "BadRequest", t->kind, NULL, NULL,
                         "invalid value for watch: '%s'", watch);
        else if (strcmp(m, "GET") == 0)
            obj_list(api, req, t);
        else if (strcmp(m, "POST") == 0 &&
                 (t->ns != NULL || !t->kind->namespaced))
            obj_create(api, req, t);
        else
            goto not_allowed;
        return;
    }
    if (strcmp(m, "GET") == 0) {
        struct json_object *o = NULL;

        if (obj_load(api, req, t, &o) == 0)
            sl__api_json(req, 200, o);
        json_object_put(o);
    } else if (strcmp(m, "PUT") == 0) {
        obj_update(api, req, t, false);
    } else if (strcmp(m, "PATCH") == 0) {
        obj_update(api, req, t, true);
    } else if (strcmp(m, "DELETE") == 0) {
        obj_delete(api, req, t);
    } else {
        goto not_allowed;
    }
    return;
not_allowed:
    sl__api_fail(req, 405, "MethodNotAllowed", t->kind, t->name, NULL,
                 "method %s is not allowed on this path", m);
}

/* ---- serve -f ---- */

int sl_api_apply(struct sl_api *api, const struct json_object *obj,
                 enum sl_api_applied *what, struct sl_diag *d)
{
    struct json_object *o = NULL, *old = NULL, *stored = NULL;
    const struct sl_res_kind *k = NULL;
    const char *name, *ns;
    struct sl_res_env env;
    bool unchanged = false;
    char kk[256];
    int rc;

    json_object_deep_copy((struct json_object *)obj, &o, NULL);
    k = sl_res_kind_of(o);
    if (k == NULL) {
        rc = sl_diag_set(d, SL_EINVAL, "kind",
                         "no matches for kind \"%s\" in version \"%s\"",
                         obj_str(o, "kind") ? obj_str(o, "kind") : "",
                         obj_str(o, "apiVersion") ? obj_str(o, "apiVersion")
                                                  : "");
        goto out;
    }
    sl_res_kind_key(k, kk, sizeof(kk));
    name = obj_str(obj_meta(o), "name");
    ns = obj_str(obj_meta(o), "namespace");
    if (k->namespaced && (ns == NULL || *ns == '\0')) {
        ns = api->env && api->env->default_namespace
                 ? api->env->default_namespace
                 : "default";
        json_object_object_add(obj_meta(o), "namespace",
                               json_object_new_string(ns));
        ns = obj_str(obj_meta(o), "namespace");
    }
    if (name == NULL) {
        rc = sl_diag_set(d, SL_EINVAL, "metadata.name", "is required");
        goto out;
    }
    if (k->namespaced) {
        struct json_object *nsobj = NULL;

        rc = sl_store_get(api->store, "Namespace", "", ns, &nsobj, d);
        json_object_put(nsobj);
        if (rc == SL_ENOENT)
            rc = sl_diag_set(d, SL_ENOENT, "metadata.namespace",
                             "namespaces \"%s\" not found", ns);
        if (rc != 0)
            goto out;
    }
    rc = sl_store_get(api->store, kk, k->namespaced ? ns : "", name, &old, d);
    if (rc == SL_ENOENT) {
        rc = obj_admit_create(api, o, &k, d);
        if (rc == 0)
            rc = sl_store_create(api->store, kk, k->namespaced, o, &stored, d);
        *what = SL_API_CREATED;
    } else if (rc == 0) {
        struct json_object *copy = NULL, *merged;

        json_object_deep_copy(old, &copy, NULL);
        merged = sl_merge_patch(copy, o);
        rc = sl_res_admit(merged, old, obj_env(api, &env), &k, d);
        if (rc == 0)
            rc = sl_store_update(api->store, kk, k->namespaced, merged, &stored,
                                 &unchanged, d);
        json_object_put(merged);
        *what = unchanged ? SL_API_UNCHANGED : SL_API_CONFIGURED;
    }
out:
    json_object_put(stored);
    json_object_put(old);
    json_object_put(o);
    return rc;
}
