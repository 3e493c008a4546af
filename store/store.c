/*
 * store/store.c - the resource store's public operations.
 *
 * Each write builds the complete object it will store with object.c
 * (system metadata from the store, user metadata and spec part from the
 * input, status from the stored object or the status call), compares it
 * with the stored one where that matters (unchanged, generation, label
 * change), and hands it to db.c as one change; watch.c delivers the
 * change afterwards. The rules are listed in store.h and explained in
 * docs/store.md.
 */
#include "store/store.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/uuid.h"
#include "store/internal.h"
#include "store/selector.h"

/* Longest kind key accepted. */
#define STORE_MAX_KIND       256
/* generateName clashes retried before SL_EEXIST. */
#define STORE_GENERATE_TRIES 8

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
    if (expected == 0 || expected == sl__store_obj_rv(old))
        return 0;
    return sl_diag_set(d, SL_ECONFLICT, "metadata.resourceVersion",
                       "cannot change %s \"%s%s%s\": the object has been "
                       "modified (resourceVersion %llu, now %s); apply the "
                       "change to the latest version and try again",
                       kind, ns, ns[0] ? "/" : "", name,
                       (unsigned long long)expected,
                       sl__store_meta_str(old, "resourceVersion"));
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
    char gen[STORE_GENERATED_NAME_MAX];
    struct sl_timestamp now = { 0 };
    struct store_change c = { 0 };
    struct store_meta m;
    struct store_sys sys = { 0 };
    int rc, tries = 0;

    if (out != NULL)
        *out = NULL;
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0 ||
        (rc = sl__store_obj_read(obj, true, &m, d)) < 0)
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
    c.obj = sl__store_obj_build(obj, &m, &sys, NULL);
    if ((rc = sl__store_obj_check(c.obj, d)) < 0)
        goto out;
    for (;;) {
        if (m.name == NULL) {
            if ((rc = sl__store_generate_name(m.generate_name, gen, sizeof(gen),
                                              d)) < 0)
                goto out;
            json_object_object_add(sl__store_jget(c.obj, "metadata"), "name",
                                   json_object_new_string(gen));
        }
        c.name = sl__store_meta_str(c.obj, "name");
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
    struct store_meta m;
    struct store_sys sys = { 0 };
    uint64_t expected = 0;
    const char *ns;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (punchanged != NULL)
        *punchanged = false;
    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0 ||
        (rc = sl__store_obj_read(obj, false, &m, d)) < 0)
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
    if (m.uid != NULL && strcmp(m.uid, sl__store_meta_str(old, "uid")) != 0) {
        rc = sl_diag_set(d, SL_ECONFLICT, "metadata.uid",
                         "cannot change %s \"%s%s%s\": uid %s does not match "
                         "the stored object's %s",
                         kind, ns, ns[0] ? "/" : "", m.name, m.uid,
                         sl__store_meta_str(old, "uid"));
        goto out;
    }
    sys.name = m.name;
    sys.generate_name = sl__store_meta_str(old, "generateName");
    sys.ns = ns;
    sys.uid = sl__store_meta_str(old, "uid");
    sys.rv = sl__store_obj_rv(old);
    sys.generation = json_object_get_int64(
        sl__store_jget(sl__store_jget(old, "metadata"), "generation"));
    sys.created = sl__store_meta_str(old, "creationTimestamp");
    c.obj = sl__store_obj_build(obj, &m, &sys, sl__store_jget(old, "status"));
    if ((rc = sl__store_obj_check(c.obj, d)) < 0)
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
    if (!sl__store_spec_equal(c.obj, old))
        json_object_object_add(sl__store_jget(c.obj, "metadata"), "generation",
                               json_object_new_int64(sys.generation + 1));
    c.type = SL_STORE_MODIFIED;
    c.rv = s->rv + 1;
    c.kind = kind;
    c.ns = ns;
    c.name = m.name;
    sl__store_set_rv(c.obj, c.rv);
    /* Watchers with a selector need the old labels to see it leave. */
    if (!json_object_equal(
            sl__store_jget(sl__store_jget(c.obj, "metadata"), "labels"),
            sl__store_jget(sl__store_jget(old, "metadata"), "labels")))
        c.prev = old;
    rc = store_apply(s, &c, out, d);
out:
    json_object_put(c.obj);
    json_object_put(old);
    return rc;
}

/*
 * The stored object (kind, ns, name) for a status write or a delete, with
 * the checks both share: not inside a callback, a known kind, a name, the
 * object exists, and 'expected_rv' (0: any) is its resourceVersion.
 * '*pobj' receives the object (caller puts, also on a failed rv check).
 */
static int store_load(struct sl_store *s, const char *kind, const char *ns,
                      const char *name, uint64_t expected_rv,
                      struct json_object **pobj, struct sl_diag *d)
{
    int rc;

    if ((rc = store_busy(s, d)) < 0 || (rc = store_kind_ok(kind, d)) < 0)
        return rc;
    if (name == NULL || name[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata.name",
                           "name must not be empty");
    rc = sl__store_db_get(s, kind, ns, name, pobj, d);
    if (rc == SL_ENOENT)
        return store_not_found(d, kind, ns, name);
    if (rc < 0)
        return rc;
    return store_check_rv(*pobj, expected_rv, kind, ns, name, d);
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
    if ((rc = store_load(s, kind, ns, name, expected_rv, &c.obj, d)) < 0)
        goto out;
    if (json_object_equal(sl__store_jget(c.obj, "status"), status)) {
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
    if ((rc = sl__store_obj_check(c.obj, d)) < 0)
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
    if ((rc = store_load(s, kind, ns, name, expected_rv, &c.obj, d)) < 0)
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
