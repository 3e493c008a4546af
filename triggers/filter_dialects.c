/*
 * triggers/filter_dialects.c - the filter dialects: attribute maps
 * (exact, prefix, suffix and the legacy spec.filter.attributes), the
 * combinators (all, any, not), and the table that lists them (the cesql
 * row's functions are in filter_cesql.c).
 *
 * Attribute values are the canonical strings the event model keeps
 * (sl_event_get), so an Integer extension 42 is "42" and a Boolean is
 * "true"; matching never allocates.
 */
#include "triggers/filter_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "proto/event.h"

/* ---- attribute maps ---- */

struct kv_entry {
    char *name;
    char *val;
    size_t len;
};

struct kv_node {
    struct sl__filter_node base;
    size_t n;
    struct kv_entry *e;
};

static void kv_free(struct sl__filter_node *n)
{
    struct kv_node *k = (struct kv_node *)n;

    for (size_t i = 0; i < k->n; i++) {
        sl_free(k->e[i].name);
        sl_free(k->e[i].val);
    }
    sl_free(k->e);
    sl_free(k);
}

/*
 * Build a map node of dialect 'dl' from the object of strings 'v'. With
 * 'legacy' false an entry with an empty key or value makes the whole
 * element "no filter" (Knative cannot materialise it and skips it).
 */
static int kv_build(const struct sl__filter_dialect *dl, bool legacy,
                    const struct json_object *v, struct sl_res_path *p,
                    struct sl__filter_node **out, struct sl_diag *d)
{
    struct kv_node *k;
    size_t i = 0, old;
    bool skip = false;

    *out = NULL;
    if (!json_object_is_type(v, json_type_object))
        return sl_res_fail(d, p, "must be an object of strings");
    json_object_object_foreach((struct json_object *)v, key, val)
    {
        if (!json_object_is_type(val, json_type_string)) {
            old = sl_res_path_key(p, key);
            sl_res_fail(d, p, "must be a string");
            sl_res_path_pop(p, old);
            return SL_EINVAL;
        }
        if (key[0] == '\0' || (!legacy && json_object_get_string_len(val) == 0))
            skip = true;
    }
    if (skip || json_object_object_length(v) == 0)
        return 0;
    k = sl_xcalloc(1, sizeof(*k));
    k->base.dialect = dl;
    k->n = (size_t)json_object_object_length(v);
    k->e = sl_xcalloc(k->n, sizeof(*k->e));
    json_object_object_foreach((struct json_object *)v, key2, val2)
    {
        k->e[i].name = sl_xstrdup(key2);
        k->e[i].len = (size_t)json_object_get_string_len(val2);
        k->e[i].val = sl_xmemdup(json_object_get_string(val2), k->e[i].len);
        i++;
    }
    *out = &k->base;
    return 0;
}

static bool exact_match(const struct sl__filter_node *n,
                        const struct sl_event *ev)
{
    const struct kv_node *k = (const struct kv_node *)n;

    for (size_t i = 0; i < k->n; i++) {
        const struct sl_ce_attr *a = sl_event_get(ev, k->e[i].name);
        if (!a || a->len != k->e[i].len ||
            memcmp(a->value, k->e[i].val, a->len) != 0)
            return false;
    }
    return true;
}

static bool prefix_match(const struct sl__filter_node *n,
                         const struct sl_event *ev)
{
    const struct kv_node *k = (const struct kv_node *)n;

    for (size_t i = 0; i < k->n; i++) {
        const struct sl_ce_attr *a = sl_event_get(ev, k->e[i].name);
        if (!a || a->len < k->e[i].len ||
            memcmp(a->value, k->e[i].val, k->e[i].len) != 0)
            return false;
    }
    return true;
}

static bool suffix_match(const struct sl__filter_node *n,
                         const struct sl_event *ev)
{
    const struct kv_node *k = (const struct kv_node *)n;

    for (size_t i = 0; i < k->n; i++) {
        const struct sl_ce_attr *a = sl_event_get(ev, k->e[i].name);
        if (!a || a->len < k->e[i].len ||
            memcmp(a->value + a->len - k->e[i].len, k->e[i].val, k->e[i].len) !=
                0)
            return false;
    }
    return true;
}

/* Legacy: "" means present and non-empty, anything else exact. */
static bool attributes_match(const struct sl__filter_node *n,
                             const struct sl_event *ev)
{
    const struct kv_node *k = (const struct kv_node *)n;

    for (size_t i = 0; i < k->n; i++) {
        const struct sl_ce_attr *a = sl_event_get(ev, k->e[i].name);
        if (!a)
            return false;
        if (k->e[i].len == 0) {
            if (a->len == 0)
                return false;
        } else if (a->len != k->e[i].len ||
                   memcmp(a->value, k->e[i].val, a->len) != 0) {
            return false;
        }
    }
    return true;
}

/* Not a row of the table: spec.filter.attributes is no filters element. */
static const struct sl__filter_dialect attributes_dialect = {
    .name = "attributes",
    .compile = NULL,
    .match = attributes_match,
    .free_node = kv_free,
};

int sl__filter_compile_attributes(const struct json_object *v,
                                  struct sl_res_path *p,
                                  struct sl__filter_node **out,
                                  struct sl_diag *d)
{
    return kv_build(&attributes_dialect, true, v, p, out, d);
}

/* The compile slot of exact, prefix and suffix. */
static int kv_compile(const struct sl__filter_dialect *self,
                      const struct json_object *v, struct sl_res_path *p,
                      struct sl__filter_node **out, struct sl_diag *d)
{
    return kv_build(self, false, v, p, out, d);
}

/* ---- all, any ---- */

struct list_node {
    struct sl__filter_node base;
    size_t n;
    struct sl__filter_node **kids;
};

static void list_free(struct sl__filter_node *n)
{
    struct list_node *l = (struct list_node *)n;

    for (size_t i = 0; i < l->n; i++)
        sl__filter_node_free(l->kids[i]);
    sl_free(l->kids);
    sl_free(l);
}

/* Children that are "no filter" are left out; none left is "no filter". */
static int list_compile(const struct sl__filter_dialect *self,
                        const struct json_object *v, struct sl_res_path *p,
                        struct sl__filter_node **out, struct sl_diag *d)
{
    struct list_node *l;
    size_t n, i, old;
    int rc = 0;

    *out = NULL;
    if (!json_object_is_type(v, json_type_array))
        return sl_res_fail(d, p, "must be a list of filters");
    n = json_object_array_length(v);
    l = sl_xcalloc(1, sizeof(*l));
    l->base.dialect = self;
    l->kids = sl_xcalloc(n ? n : 1, sizeof(*l->kids));
    for (i = 0; i < n; i++) {
        struct sl__filter_node *kid = NULL;
        old = sl_res_path_index(p, i);
        rc = sl__filter_compile_elem(json_object_array_get_idx(v, i), p, &kid,
                                     d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            break;
        if (kid)
            l->kids[l->n++] = kid;
    }
    if (rc != 0 || l->n == 0) {
        list_free(&l->base);
        return rc;
    }
    *out = &l->base;
    return 0;
}

static bool all_match(const struct sl__filter_node *n,
                      const struct sl_event *ev)
{
    const struct list_node *l = (const struct list_node *)n;

    for (size_t i = 0; i < l->n; i++)
        if (!sl__filter_node_match(l->kids[i], ev))
            return false;
    return true;
}

static bool any_match(const struct sl__filter_node *n,
                      const struct sl_event *ev)
{
    const struct list_node *l = (const struct list_node *)n;

    for (size_t i = 0; i < l->n; i++)
        if (sl__filter_node_match(l->kids[i], ev))
            return true;
    return false;
}

/* ---- not ---- */

struct not_node {
    struct sl__filter_node base;
    struct sl__filter_node *kid;
};

static void not_free(struct sl__filter_node *n)
{
    struct not_node *x = (struct not_node *)n;

    sl__filter_node_free(x->kid);
    sl_free(x);
}

/* The negation of "no filter" stays "no filter" (Knative). */
static int not_compile(const struct sl__filter_dialect *self,
                       const struct json_object *v, struct sl_res_path *p,
                       struct sl__filter_node **out, struct sl_diag *d)
{
    struct sl__filter_node *kid = NULL;
    struct not_node *x;
    int rc;

    *out = NULL;
    rc = sl__filter_compile_elem(v, p, &kid, d);
    if (rc != 0 || kid == NULL)
        return rc;
    x = sl_xcalloc(1, sizeof(*x));
    x->base.dialect = self;
    x->kid = kid;
    *out = &x->base;
    return 0;
}

static bool not_match(const struct sl__filter_node *n,
                      const struct sl_event *ev)
{
    return !sl__filter_node_match(((const struct not_node *)n)->kid, ev);
}

/* ---- the table ---- */

/* Knative's precedence order (materializeSubscriptionsAPIFilter). */
const struct sl__filter_dialect sl__filter_dialects[] = {
    { "exact", kv_compile, exact_match, kv_free },
    { "prefix", kv_compile, prefix_match, kv_free },
    { "suffix", kv_compile, suffix_match, kv_free },
    { "all", list_compile, all_match, list_free },
    { "any", list_compile, any_match, list_free },
    { "not", not_compile, not_match, not_free },
    { "cesql", sl__filter_cesql_compile, sl__filter_cesql_match,
      sl__filter_cesql_free },
    { NULL, NULL, NULL, NULL },
};
