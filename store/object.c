/*
 * store/object.c - the store's object rules: reading the input's metadata,
 * checking what will be stored, and building the stored object.
 *
 * A write never stores its input as is. It reads the user-settable
 * metadata (name, generateName, namespace, labels, annotations,
 * ownerReferences, finalizers, and the uid/resourceVersion preconditions),
 * builds a new object from that, the system metadata the store owns and
 * the input's spec part, and checks the result (finite numbers, nesting
 * depth) so that whatever is stored can be read back.
 */
#include "store/internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json_object_iterator.h>

#include "core/err.h"

/* Longest uid or resourceVersion precondition looked at. */
#define STORE_MAX_TOKEN           64
/* Kubernetes: generateName is cut so the name stays a DNS label. */
#define STORE_GENERATE_PREFIX_MAX 58
#define STORE_GENERATE_SUFFIX     5
/* Nesting the text fallback of sl__store_jcopy can copy (above any input). */
#define STORE_COPY_MAX_DEPTH      1024

/* Top-level members that are not part of the "spec part". */
static bool store_not_spec(const char *key)
{
    return strcmp(key, "apiVersion") == 0 || strcmp(key, "kind") == 0 ||
           strcmp(key, "metadata") == 0 || strcmp(key, "status") == 0;
}

/* ---- json-c helpers ---- */

struct json_object *sl__store_jcopy(struct json_object *o)
{
    struct json_object *c = NULL;
    struct json_tokener *tok;
    const char *text;
    size_t len = 0;

    if (o == NULL)
        return NULL;
    if (json_object_deep_copy(o, &c, NULL) == 0)
        return c;
    /*
     * json-c cannot deep-copy a value with a custom serializer (its
     * userdata is opaque); the JSON text it prints is what the store
     * keeps anyway, so copy through that.
     */
    text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    tok = json_tokener_new_ex(STORE_COPY_MAX_DEPTH);
    if (text != NULL && tok != NULL && len < (size_t)INT_MAX) {
        c = json_tokener_parse_ex(tok, text, (int)len);
        if (json_tokener_get_error(tok) == json_tokener_continue)
            c = json_tokener_parse_ex(tok, "", 1); /* a bare number */
        if (json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(c);
            c = NULL;
        }
    }
    json_tokener_free(tok);
    if (c == NULL && json_object_get_type(o) != json_type_null) {
        fputs("sluice: cannot copy a JSON object\n", stderr);
        abort();
    }
    return c;
}

/* Member 'key' of 'o', NULL when absent, null or 'o' is no object. */
struct json_object *sl__store_jget(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* metadata.<key> of a stored object as a string, "" when absent. */
const char *sl__store_meta_str(struct json_object *o, const char *key)
{
    struct json_object *v = sl__store_jget(sl__store_jget(o, "metadata"), key);

    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : "";
}

/* metadata.resourceVersion of a stored object (0 when unreadable). */
uint64_t sl__store_obj_rv(struct json_object *o)
{
    uint64_t rv = 0;

    if (sl_store_rv_parse(sl__store_meta_str(o, "resourceVersion"), "", &rv,
                          NULL) < 0)
        return 0;
    return rv;
}

void sl__store_set_rv(struct json_object *o, uint64_t rv)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
    json_object_object_add(sl__store_jget(o, "metadata"), "resourceVersion",
                           json_object_new_string(buf));
}

/* True when the spec parts (see store_not_spec) of 'a' and 'b' are equal. */
bool sl__store_spec_equal(struct json_object *a, struct json_object *b)
{
    struct json_object_iterator it, end;
    size_t na = 0, nb = 0;
    struct json_object *bv;

    it = json_object_iter_begin(a);
    end = json_object_iter_end(a);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        if (store_not_spec(k))
            continue;
        na++;
        if (!json_object_object_get_ex(b, k, &bv) ||
            !json_object_equal(json_object_iter_peek_value(&it), bv))
            return false;
    }
    it = json_object_iter_begin(b);
    end = json_object_iter_end(b);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
        if (!store_not_spec(json_object_iter_peek_name(&it)))
            nb++;
    return na == nb;
}

/* ---- input checks ---- */

/* A metadata string member: type, no NUL, length; "" reads as NULL. */
static int meta_str(struct json_object *meta, const char *key, size_t max,
                    const char **out, struct sl_diag *d)
{
    struct json_object *v = sl__store_jget(meta, key);
    char field[64];
    size_t len;

    *out = NULL;
    if (v == NULL)
        return 0;
    snprintf(field, sizeof(field), "metadata.%s", key);
    if (!json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, field, "must be a string");
    len = (size_t)json_object_get_string_len(v);
    if (strlen(json_object_get_string(v)) != len)
        return sl_diag_set(d, SL_EINVAL, field, "must not contain NUL");
    if (len > max)
        return sl_diag_set(d, SL_EINVAL, field,
                           "must be at most %zu bytes, not %zu", max, len);
    if (len > 0)
        *out = json_object_get_string(v);
    return 0;
}

/*
 * A metadata member that is an object of strings (labels, annotations),
 * an array of objects (ownerReferences) or of strings (finalizers),
 * according to 'member'. Empty reads as NULL (Kubernetes omits empty
 * ones, so {} and absent are the same object).
 */
static int meta_coll(struct json_object *meta, const char *key,
                     enum json_type coll, enum json_type member,
                     struct json_object **out, struct sl_diag *d)
{
    struct json_object *v = sl__store_jget(meta, key);
    char field[SL_DIAG_FIELD_MAX];
    size_t i, n;

    *out = NULL;
    if (v == NULL)
        return 0;
    snprintf(field, sizeof(field), "metadata.%s", key);
    if (!json_object_is_type(v, coll))
        return sl_diag_set(d, SL_EINVAL, field, "must be %s",
                           coll == json_type_object ? "an object" : "an array");
    if (coll == json_type_object) {
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        n = 0;
        for (; !json_object_iter_equal(&it, &end);
             json_object_iter_next(&it), n++) {
            if (!json_object_is_type(json_object_iter_peek_value(&it),
                                     member)) {
                snprintf(field, sizeof(field), "metadata.%s.%s", key,
                         json_object_iter_peek_name(&it));
                return sl_diag_set(d, SL_EINVAL, field, "must be a string");
            }
        }
    } else {
        n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            if (!json_object_is_type(json_object_array_get_idx(v, i), member)) {
                snprintf(field, sizeof(field), "metadata.%s[%zu]", key, i);
                return sl_diag_set(d, SL_EINVAL, field, "must be %s",
                                   member == json_type_string ? "a string"
                                                              : "an object");
            }
        }
    }
    if (n > 0)
        *out = v;
    return 0;
}

/* Check the input object and read its metadata into 'm'. */
int sl__store_obj_read(struct json_object *obj, bool create,
                       struct store_meta *m, struct sl_diag *d)
{
    struct json_object *meta, *v;
    int rc;

    memset(m, 0, sizeof(*m));
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return sl_diag_set(d, SL_EINVAL, "", "object must be a JSON object");
    if ((v = sl__store_jget(obj, "apiVersion")) != NULL &&
        !json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, "apiVersion", "must be a string");
    if ((v = sl__store_jget(obj, "kind")) != NULL &&
        !json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, "kind", "must be a string");
    meta = sl__store_jget(obj, "metadata");
    if (meta != NULL && !json_object_is_type(meta, json_type_object))
        return sl_diag_set(d, SL_EINVAL, "metadata", "must be an object");
    if ((rc = meta_str(meta, "name", SL_STORE_MAX_NAME, &m->name, d)) < 0 ||
        (rc = meta_str(meta, "generateName", SL_STORE_MAX_NAME,
                       &m->generate_name, d)) < 0 ||
        (rc = meta_str(meta, "namespace", SL_STORE_MAX_NAME, &m->ns, d)) < 0 ||
        (rc = meta_str(meta, "resourceVersion", STORE_MAX_TOKEN, &m->rv, d)) <
            0 ||
        (rc = meta_str(meta, "uid", STORE_MAX_TOKEN, &m->uid, d)) < 0 ||
        (rc = meta_coll(meta, "labels", json_type_object, json_type_string,
                        &m->labels, d)) < 0 ||
        (rc = meta_coll(meta, "annotations", json_type_object, json_type_string,
                        &m->annotations, d)) < 0 ||
        (rc = meta_coll(meta, "ownerReferences", json_type_array,
                        json_type_object, &m->owner_refs, d)) < 0 ||
        (rc = meta_coll(meta, "finalizers", json_type_array, json_type_string,
                        &m->finalizers, d)) < 0)
        return rc;
    if (m->name == NULL && !(create && m->generate_name != NULL))
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           create ? "name or generateName is required"
                                  : "name is required");
    return 0;
}

/*
 * Check what will be stored: no non-finite number, nesting at most
 * SL_STORE_MAX_DEPTH (top-level object = 1). 'path' (of 'cap' bytes, 'len'
 * used) names the value for the message.
 */
static int obj_walk(struct json_object *v, int depth, char *path, size_t cap,
                    size_t len, struct sl_diag *d)
{
    struct json_object_iterator it, end;
    size_t i, n, l;
    int rc;

    switch (json_object_get_type(v)) {
    case json_type_double:
        if (!isfinite(json_object_get_double(v)))
            return sl_diag_set(d, SL_EINVAL, path, "must be a finite number");
        return 0;
    case json_type_object:
        if (depth > SL_STORE_MAX_DEPTH)
            return sl_diag_set(d, SL_EINVAL, path,
                               "nests deeper than %d levels",
                               SL_STORE_MAX_DEPTH);
        it = json_object_iter_begin(v);
        end = json_object_iter_end(v);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            l = len + (size_t)snprintf(path + len, cap - len, "%s%s",
                                       len > 0 ? "." : "",
                                       json_object_iter_peek_name(&it));
            if ((rc = obj_walk(json_object_iter_peek_value(&it), depth + 1,
                               path, cap, l < cap ? l : cap - 1, d)) < 0)
                return rc;
            path[len] = '\0';
        }
        return 0;
    case json_type_array:
        if (depth > SL_STORE_MAX_DEPTH)
            return sl_diag_set(d, SL_EINVAL, path,
                               "nests deeper than %d levels",
                               SL_STORE_MAX_DEPTH);
        n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            l = len + (size_t)snprintf(path + len, cap - len, "[%zu]", i);
            if ((rc = obj_walk(json_object_array_get_idx(v, i), depth + 1, path,
                               cap, l < cap ? l : cap - 1, d)) < 0)
                return rc;
            path[len] = '\0';
        }
        return 0;
    default:
        return 0;
    }
}

int sl__store_obj_check(struct json_object *o, struct sl_diag *d)
{
    char path[SL_DIAG_FIELD_MAX] = "";

    return obj_walk(o, 1, path, sizeof(path), 0, d);
}

/* ---- building stored objects ---- */

/*
 * The object to store: apiVersion and kind of 'in', metadata from 'sys'
 * and 'm', every other top-level member of 'in' except status, then a copy
 * of 'status' (NULL: none). Members keep the input's order.
 */
struct json_object *sl__store_obj_build(struct json_object *in,
                                        const struct store_meta *m,
                                        const struct store_sys *sys,
                                        struct json_object *status)
{
    struct json_object *o = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    struct json_object_iterator it, end;
    struct json_object *v;
    char rv[24];

    if ((v = sl__store_jget(in, "apiVersion")) != NULL)
        json_object_object_add(o, "apiVersion", sl__store_jcopy(v));
    if ((v = sl__store_jget(in, "kind")) != NULL)
        json_object_object_add(o, "kind", sl__store_jcopy(v));
    json_object_object_add(meta, "name", json_object_new_string(sys->name));
    if (sys->generate_name != NULL && sys->generate_name[0] != '\0')
        json_object_object_add(meta, "generateName",
                               json_object_new_string(sys->generate_name));
    if (sys->ns[0] != '\0')
        json_object_object_add(meta, "namespace",
                               json_object_new_string(sys->ns));
    json_object_object_add(meta, "uid", json_object_new_string(sys->uid));
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)sys->rv);
    json_object_object_add(meta, "resourceVersion", json_object_new_string(rv));
    json_object_object_add(meta, "generation",
                           json_object_new_int64(sys->generation));
    json_object_object_add(meta, "creationTimestamp",
                           json_object_new_string(sys->created));
    if (m->labels != NULL)
        json_object_object_add(meta, "labels", sl__store_jcopy(m->labels));
    if (m->annotations != NULL)
        json_object_object_add(meta, "annotations",
                               sl__store_jcopy(m->annotations));
    if (m->owner_refs != NULL)
        json_object_object_add(meta, "ownerReferences",
                               sl__store_jcopy(m->owner_refs));
    if (m->finalizers != NULL)
        json_object_object_add(meta, "finalizers",
                               sl__store_jcopy(m->finalizers));
    json_object_object_add(o, "metadata", meta);
    it = json_object_iter_begin(in);
    end = json_object_iter_end(in);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        if (!store_not_spec(k))
            json_object_object_add(
                o, k, sl__store_jcopy(json_object_iter_peek_value(&it)));
    }
    if (status != NULL)
        json_object_object_add(o, "status", sl__store_jcopy(status));
    return o;
}

/* name = prefix (cut to 58 bytes) + 5 random characters, as Kubernetes. */
int sl__store_generate_name(const char *prefix, char *out, size_t outlen,
                            struct sl_diag *d)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    const size_t na = sizeof(alphabet) - 1; /* 27 */
    unsigned char rnd[32];
    size_t len = strlen(prefix), i, k = 0;

    if (len > STORE_GENERATE_PREFIX_MAX)
        len = STORE_GENERATE_PREFIX_MAX;
    snprintf(out, outlen, "%.*s", (int)len, prefix);
    for (i = 0; i < STORE_GENERATE_SUFFIX;) {
        if (k == 0 || k == sizeof(rnd)) {
            if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return sl_diag_set(d, SL_EIO, "metadata.generateName",
                                   "cannot generate a name: no randomness");
            k = 0;
        }
        /* Rejection sampling keeps every character equally likely. */
        if (rnd[k] < 256 - 256 % na)
            out[len + i++] = alphabet[rnd[k] % na];
        k++;
    }
    out[len + i] = '\0';
    return 0;
}
