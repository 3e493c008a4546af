/*
 * store/store.c - the resource store's object rules and operations.
 *
 * Each write builds the complete object it will store (system metadata
 * from the store, user metadata and spec part from the input, status from
 * the stored object or the status call), checks it, compares it with the
 * stored one where that matters (unchanged, generation, label change), and
 * hands it to db.c as one change; watch.c delivers the change afterwards.
 * The rules themselves are listed in store.h and explained in
 * docs/store.md.
 */
#include "store/store.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json_object_iterator.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/uuid.h"
#include "store/internal.h"
#include "store/selector.h"

/* Longest kind key accepted. */
#define STORE_MAX_KIND            256
/* Longest uid or resourceVersion precondition looked at. */
#define STORE_MAX_TOKEN           64
/* Kubernetes: generateName is cut so the name stays a DNS label. */
#define STORE_GENERATE_PREFIX_MAX 58
#define STORE_GENERATE_SUFFIX     5
#define STORE_GENERATE_TRIES      8

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

    if (o == NULL)
        return NULL;
    if (json_object_deep_copy(o, &c, NULL) != 0) {
        fputs("sluice: out of memory copying a JSON object\n", stderr);
        abort();
    }
    return c;
}

/* Member 'key' of 'o', NULL when absent, null or 'o' is no object. */
static struct json_object *jget(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* metadata.<key> of a stored object as a string, "" when absent. */
static const char *obj_meta_str(struct json_object *o, const char *key)
{
    struct json_object *v = jget(jget(o, "metadata"), key);

    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : "";
}

/* metadata.resourceVersion of a stored object (0 when unreadable). */
static uint64_t obj_rv(struct json_object *o)
{
    uint64_t rv = 0;

    if (sl_store_rv_parse(obj_meta_str(o, "resourceVersion"), "", &rv, NULL) <
        0)
        return 0;
    return rv;
}

void sl__store_set_rv(struct json_object *o, uint64_t rv)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
    json_object_object_add(jget(o, "metadata"), "resourceVersion",
                           json_object_new_string(buf));
}

/* True when the spec parts (see store_not_spec) of 'a' and 'b' are equal. */
static bool obj_spec_equal(struct json_object *a, struct json_object *b)
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

/* What a write takes from the input's metadata (borrowed from it). */
struct obj_meta {
    const char *name;          /* NULL when absent or "" */
    const char *generate_name; /* NULL when absent or "" */
    const char *ns;            /* NULL when absent or "" */
    const char *rv;            /* precondition, NULL when absent or "" */
    const char *uid;           /* precondition, NULL when absent or "" */
    struct json_object *labels, *annotations, *owner_refs, *finalizers;
};

/* A metadata string member: type, no NUL, length; "" reads as NULL. */
static int meta_str(struct json_object *meta, const char *key, size_t max,
                    const char **out, struct sl_diag *d)
{
    struct json_object *v = jget(meta, key);
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
    struct json_object *v = jget(meta, key);
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
static int obj_read(struct json_object *obj, bool create, struct obj_meta *m,
                    struct sl_diag *d)
{
    struct json_object *meta, *v;
    int rc;

    memset(m, 0, sizeof(*m));
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return sl_diag_set(d, SL_EINVAL, "", "object must be a JSON object");
    if ((v = jget(obj, "apiVersion")) != NULL &&
        !json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, "apiVersion", "must be a string");
    if ((v = jget(obj, "kind")) != NULL &&
        !json_object_is_type(v, json_type_string))
        return sl_diag_set(d, SL_EINVAL, "kind", "must be a string");
    meta = jget(obj, "metadata");
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

static int obj_check(struct json_object *o, struct sl_diag *d)
{
    char path[SL_DIAG_FIELD_MAX] = "";

    return obj_walk(o, 1, path, sizeof(path), 0, d);
}

/* ---- building stored objects ---- */

/* System metadata of a stored object. */
struct obj_sys {
    const char *name;
    const char *generate_name; /* NULL: none */
    const char *ns;            /* "" for cluster-scoped */
    const char *uid;
    uint64_t rv;
    int64_t generation;
    const char *created;
};

/*
 * The object to store: apiVersion and kind of 'in', metadata from 'sys'
 * and 'm', every other top-level member of 'in' except status, then a copy
 * of 'status' (NULL: none). Members keep the input's order.
 */
static struct json_object *obj_build(struct json_object *in,
                                     const struct obj_meta *m,
                                     const struct obj_sys *sys,
                                     struct json_object *status)
{
    struct json_object *o = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    struct json_object_iterator it, end;
    struct json_object *v;
    char rv[24];

    if ((v = jget(in, "apiVersion")) != NULL)
        json_object_object_add(o, "apiVersion", sl__store_jcopy(v));
    if ((v = jget(in, "kind")) != NULL)
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
static int store_generate_name(const char *prefix, char *out, size_t outlen,
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

/* ---- shared checks and messages ---- */

static int store_busy(struct sl_store *s, struct sl_diag *d)
{
    if (s->delivering == 0)
        return 0;
    return sl_diag_set(d, SL_EBUSY, "",
                       "cannot write to the store from a watch callback");
}

static int store_kind_ok(const char *kind, struct sl_diag *d)
{
    if (kind == NULL || kind[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "", "kind must not be empty");
    if (strlen(kind) > STORE_MAX_KIND)
        return sl_diag_set(d, SL_EINVAL, "", "kind is longer than %d bytes",
                           STORE_MAX_KIND);
    return 0;
}

static int store_not_found(struct sl_diag *d, const char *kind, const char *ns,
                           const char *name)
{
    return sl_diag_set(d, SL_ENOENT, "", "%s \"%s%s%s\" not found", kind,
                       ns != NULL ? ns : "", ns != NULL && ns[0] ? "/" : "",
                       name);
}

/* Precondition: 'expected' (0: none) against the stored object 'old'. */
static int store_check_rv(struct json_object *old, uint64_t expected,
                          const char *kind, const char *ns, const char *name,
                          struct sl_diag *d)
{
    if (expected == 0 || expected == obj_rv(old))
        return 0;
    return sl_diag_set(d, SL_ECONFLICT, "metadata.resourceVersion",
                       "cannot change %s \"%s%s%s\": the object has been "
                       "modified (resourceVersion %llu, now %s); apply the "
                       "change to the latest version and try again",
                       kind, ns, ns[0] ? "/" : "", name,
                       (unsigned long long)expected,
                       obj_meta_str(old, "resourceVersion"));
}

/*
 * Serialise, size-check and commit a change, then deliver it. On success
 * '*out' (when not NULL) gets a copy of the stored object.
 */
static int store_apply(struct sl_store *s, struct store_change *c,
                       struct json_object **out, struct sl_diag *d)
{
    int rc;

    c->body = json_object_to_json_string_length(
        c->obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
        &c->body_len);
    if ((c->type != SL_STORE_DELETED &&
         c->body_len > s->opts.max_object_bytes) ||
        c->body_len > (size_t)INT_MAX)
        return sl_diag_set(d, SL_ETOOBIG, "",
                           "object is %zu bytes, more than the limit of %zu",
                           c->body_len, s->opts.max_object_bytes);
    if ((rc = sl__store_db_commit(s, c, d)) < 0)
        return rc;
    if (out != NULL)
        *out = sl__store_jcopy(c->obj);
    sl__store_dispatch(s, c);
    return 0;
}

/* ---- opening and closing ---- */

static int64_t store_real_clock(void *arg)
{
    (void)arg;
    return sl_time_now().sec;
}

void sl_store_opts_init(struct sl_store_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->history_max = SL_STORE_HISTORY_MAX;
    o->history_max_age = SL_STORE_HISTORY_MAX_AGE;
    o->max_object_bytes = SL_STORE_MAX_OBJECT_BYTES;
}

int sl_store_open(const char *dir, const struct sl_store_opts *opts,
                  struct sl_store **out, struct sl_diag *d)
{
    struct sl_store *s;
    int rc;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "", "data directory must be given");
    s = sl_xcalloc(1, sizeof(*s));
    if (opts != NULL)
        s->opts = *opts;
    else
        sl_store_opts_init(&s->opts);
    if (s->opts.clock == NULL)
        s->opts.clock = store_real_clock;
    if (s->opts.max_object_bytes == 0 || s->opts.history_max_age < 0) {
        rc = sl_diag_set(d, SL_EINVAL, "",
                         "store options out of range (max_object_bytes "
                         "%zu, history_max_age %lld)",
                         s->opts.max_object_bytes,
                         (long long)s->opts.history_max_age);
        sl_free(s);
        return rc;
    }
    if ((rc = sl__store_db_open(s, dir, d)) < 0) {
        sl__store_db_close(s);
        sl_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sl_store_close(struct sl_store *s)
{
    if (s == NULL)
        return;
    sl__store_watch_free_all(s);
    sl__store_db_close(s);
    sl_free(s);
}

uint64_t sl_store_rv(const struct sl_store *s)
{
    return s->rv;
}

uint64_t sl_store_oldest_rv(const struct sl_store *s)
{
    return s->compacted;
}

int sl_store_rv_parse(const char *s, const char *what, uint64_t *out,
                      struct sl_diag *d)
{
    int64_t v;
    size_t n = strlen(s), i;

    *out = 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            break;
    if (n == 0 || i < n || sl_str_to_i64(s, n, false, 0, INT64_MAX, &v) < 0)
        return sl_diag_set(d, SL_EINVAL, what,
                           "invalid resourceVersion '%.40s': must be a "
                           "decimal number",
                           s);
    *out = (uint64_t)v;
    return 0;
}

/* ---- reading ---- */

int sl_store_get(struct sl_store *s, const char *kind, const char *ns,
                 const char *name, struct json_object **out, struct sl_diag *d)
{
    int rc;

    *out = NULL;
    if ((rc = store_kind_ok(kind, d)) < 0)
        return rc;
    if (name == NULL || name[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "name must not be empty");
    rc = sl__store_db_get(s, kind, ns, name, out, d);
    if (rc == SL_ENOENT)
        return store_not_found(d, kind, ns, name);
    return rc;
}

int sl_store_list(struct sl_store *s, const char *kind, const char *ns,
                  const char *selector, struct json_object **out, uint64_t *prv,
                  struct sl_diag *d)
{
    struct sl_selector *sel = NULL;
    struct json_object *items;
    int rc;

    *out = NULL;
    if (kind != NULL && (rc = store_kind_ok(kind, d)) < 0)
        return rc;
    if ((rc = sl_selector_parse(selector, &sel, d)) < 0)
        return rc;
    items = json_object_new_array();
    rc = sl__store_db_list(s, kind, ns, sel, items, d);
    sl_selector_free(sel);
    if (rc < 0) {
        json_object_put(items);
        return rc;
    }
    *out = items;
    if (prv != NULL)
        *prv = s->rv;
    return 0;
}

/* ---- writing ---- */

int sl_store_create(struct sl_store *s, const char *kind, bool namespaced,
                    struct json_object *obj, struct json_object **out,
                    struct sl_diag *d)
{
    char uid[SL_UUID_STR_LEN + 1], created[SL_TIME_RFC3339_MAX];
    char gen[STORE_GENERATE_PREFIX_MAX + STORE_GENERATE_SUFFIX + 1];
    struct sl_timestamp now = { 0 };
    struct store_change c = { 0 };
    struct obj_meta m;
    struct obj_sys sys = { 0 };
    int rc, tries = 0;

    if (out != NULL)
        *out = NULL;
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0 ||
        (rc = obj_read(obj, true, &m, d)) < 0)
        return rc;
    if (sl_uuid_v4(uid) < 0)
        return sl_diag_set(d, SL_EIO, "metadata.uid",
                           "cannot generate a uid: no randomness");
    now.sec = s->opts.clock(s->opts.clock_arg);
    sl_time_format_rfc3339(&now, created, sizeof(created));
    sys.name = m.name != NULL ? m.name : "";
    sys.generate_name = m.generate_name;
    sys.ns = !namespaced ? "" : m.ns != NULL ? m.ns : "default";
    sys.uid = uid;
    sys.rv = s->rv + 1;
    sys.generation = 1;
    sys.created = created;
    c.type = SL_STORE_ADDED;
    c.rv = sys.rv;
    c.kind = kind;
    c.ns = sys.ns;
    c.obj = obj_build(obj, &m, &sys, NULL);
    if ((rc = obj_check(c.obj, d)) < 0)
        goto out;
    for (;;) {
        if (m.name == NULL) {
            if ((rc = store_generate_name(m.generate_name, gen, sizeof(gen),
                                          d)) < 0)
                goto out;
            json_object_object_add(jget(c.obj, "metadata"), "name",
                                   json_object_new_string(gen));
        }
        c.name = obj_meta_str(c.obj, "name");
        rc = store_apply(s, &c, out, d);
        if (rc != SL_EEXIST || m.name != NULL ||
            ++tries == STORE_GENERATE_TRIES)
            break;
    }
    if (rc == SL_EEXIST)
        rc = sl_diag_set(d, SL_EEXIST, "metadata.name",
                         "%s \"%s%s%s\" already exists", kind, sys.ns,
                         sys.ns[0] ? "/" : "", c.name);
out:
    json_object_put(c.obj);
    return rc;
}

int sl_store_update(struct sl_store *s, const char *kind, bool namespaced,
                    struct json_object *obj, struct json_object **out,
                    bool *punchanged, struct sl_diag *d)
{
    struct store_change c = { 0 };
    struct json_object *old = NULL;
    struct obj_meta m;
    struct obj_sys sys = { 0 };
    uint64_t expected = 0;
    const char *ns;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (punchanged != NULL)
        *punchanged = false;
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0 ||
        (rc = obj_read(obj, false, &m, d)) < 0)
        return rc;
    if (m.rv != NULL &&
        (rc = sl_store_rv_parse(m.rv, "metadata.resourceVersion", &expected,
                                d)) < 0)
        return rc;
    ns = !namespaced ? "" : m.ns != NULL ? m.ns : "default";
    rc = sl__store_db_get(s, kind, ns, m.name, &old, d);
    if (rc == SL_ENOENT)
        return store_not_found(d, kind, ns, m.name);
    if (rc < 0)
        return rc;
    if ((rc = store_check_rv(old, expected, kind, ns, m.name, d)) < 0)
        goto out;
    if (m.uid != NULL && strcmp(m.uid, obj_meta_str(old, "uid")) != 0) {
        rc = sl_diag_set(d, SL_ECONFLICT, "metadata.uid",
                         "cannot change %s \"%s%s%s\": uid %s does not match "
                         "the stored object's %s",
                         kind, ns, ns[0] ? "/" : "", m.name, m.uid,
                         obj_meta_str(old, "uid"));
        goto out;
    }
    sys.name = m.name;
    sys.generate_name = obj_meta_str(old, "generateName");
    sys.ns = ns;
    sys.uid = obj_meta_str(old, "uid");
    sys.rv = obj_rv(old);
    sys.generation =
        json_object_get_int64(jget(jget(old, "metadata"), "generation"));
    sys.created = obj_meta_str(old, "creationTimestamp");
    c.obj = obj_build(obj, &m, &sys, jget(old, "status"));
    if ((rc = obj_check(c.obj, d)) < 0)
        goto out;
    if (json_object_equal(c.obj, old)) {
        if (punchanged != NULL)
            *punchanged = true;
        if (out != NULL) {
            *out = old;
            old = NULL;
        }
        goto out;
    }
    if (!obj_spec_equal(c.obj, old))
        json_object_object_add(jget(c.obj, "metadata"), "generation",
                               json_object_new_int64(sys.generation + 1));
    c.type = SL_STORE_MODIFIED;
    c.rv = s->rv + 1;
    c.kind = kind;
    c.ns = ns;
    c.name = m.name;
    sl__store_set_rv(c.obj, c.rv);
    /* Watchers with a selector need the old labels to see it leave. */
    if (!json_object_equal(jget(jget(c.obj, "metadata"), "labels"),
                           jget(jget(old, "metadata"), "labels")))
        c.prev = old;
    rc = store_apply(s, &c, out, d);
out:
    json_object_put(c.obj);
    json_object_put(old);
    return rc;
}

int sl_store_update_status(struct sl_store *s, const char *kind, const char *ns,
                           const char *name, struct json_object *status,
                           uint64_t expected_rv, struct json_object **out,
                           bool *punchanged, struct sl_diag *d)
{
    struct store_change c = { 0 };
    int rc;

    if (out != NULL)
        *out = NULL;
    if (punchanged != NULL)
        *punchanged = false;
    if (ns == NULL)
        ns = "";
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0)
        return rc;
    if (name == NULL || name[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "name must not be empty");
    rc = sl__store_db_get(s, kind, ns, name, &c.obj, d);
    if (rc == SL_ENOENT)
        return store_not_found(d, kind, ns, name);
    if (rc < 0)
        return rc;
    if ((rc = store_check_rv(c.obj, expected_rv, kind, ns, name, d)) < 0)
        goto out;
    if (json_object_equal(jget(c.obj, "status"), status)) {
        if (punchanged != NULL)
            *punchanged = true;
        if (out != NULL) {
            *out = c.obj;
            c.obj = NULL;
        }
        goto out;
    }
    if (status != NULL)
        json_object_object_add(c.obj, "status", sl__store_jcopy(status));
    else
        json_object_object_del(c.obj, "status");
    if ((rc = obj_check(c.obj, d)) < 0)
        goto out;
    c.type = SL_STORE_MODIFIED;
    c.rv = s->rv + 1;
    c.kind = kind;
    c.ns = ns;
    c.name = name;
    sl__store_set_rv(c.obj, c.rv);
    rc = store_apply(s, &c, out, d);
out:
    json_object_put(c.obj);
    return rc;
}

int sl_store_delete(struct sl_store *s, const char *kind, const char *ns,
                    const char *name, uint64_t expected_rv,
                    struct json_object **out, struct sl_diag *d)
{
    struct store_change c = { 0 };
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ns == NULL)
        ns = "";
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0)
        return rc;
    if (name == NULL || name[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "name must not be empty");
    rc = sl__store_db_get(s, kind, ns, name, &c.obj, d);
    if (rc == SL_ENOENT)
        return store_not_found(d, kind, ns, name);
    if (rc < 0)
        return rc;
    if ((rc = store_check_rv(c.obj, expected_rv, kind, ns, name, d)) < 0)
        goto out;
    c.type = SL_STORE_DELETED;
    c.rv = s->rv + 1;
    c.kind = kind;
    c.ns = ns;
    c.name = name;
    sl__store_set_rv(c.obj, c.rv);
    rc = store_apply(s, &c, out, d);
out:
    json_object_put(c.obj);
    return rc;
}
