/*
 * triggers/filter.c - compile a Trigger's spec.filters / spec.filter into
 * a tree of nodes and evaluate it (semantics in triggers/filter.h and
 * docs/triggers.md).
 *
 * This file picks the dialect of each filters element from the table in
 * filter_dialects.c and knows the two top-level forms; the dialects know
 * their own nodes.
 */
#include "triggers/filter.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "triggers/filter_internal.h"

struct sl_filter {
    struct sl__filter_node *root; /* NULL: everything matches */
};

/*
 * Is the value of a dialect key "set"? Knative counts a dialect when its
 * map or list is non-empty, 'not' is present, or cesql is non-empty
 * (admission's rule too). A present but empty 'not' object compiles to
 * "no filter" either way, so one rule serves all keys: present, not null,
 * and not an empty map, list or string. Other types count as set, so
 * their compile reports the wrong type.
 */
static bool elem_key_set(const struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return false;
    case json_type_object:
        return json_object_object_length(v) > 0;
    case json_type_array:
        return json_object_array_length(v) > 0;
    case json_type_string:
        return json_object_get_string_len(v) > 0;
    default:
        return true;
    }
}

int sl__filter_compile_elem(const struct json_object *v, struct sl_res_path *p,
                            struct sl__filter_node **out, struct sl_diag *d)
{
    const struct sl__filter_dialect *dl, *pick = NULL;
    struct json_object *val = NULL, *x;
    size_t old;
    int rc, n = 0;

    *out = NULL;
    if (!json_object_is_type(v, json_type_object))
        return sl_res_fail(d, p, "must be an object");
    for (dl = sl__filter_dialects; dl->name; dl++) {
        if (!json_object_object_get_ex(v, dl->name, &x) || !elem_key_set(x))
            continue;
        if (n++ == 0) {
            pick = dl;
            val = x;
        }
    }
    if (n > 1)
        return sl_res_fail(d, p,
                           "multiple dialects found, filters can have only "
                           "one dialect set");
    if (!pick)
        return 0; /* no dialect: "no filter" */
    old = sl_res_path_field(p, pick->name);
    rc = pick->compile(pick, val, p, out, d);
    sl_res_path_pop(p, old);
    return rc;
}

bool sl__filter_node_match(const struct sl__filter_node *n,
                           const struct sl_event *ev)
{
    return n == NULL || n->dialect->match(n, ev);
}

void sl__filter_node_free(struct sl__filter_node *n)
{
    if (n)
        n->dialect->free_node(n);
}

/* spec.filters: an implicit 'all' over the list. */
static int filter_compile_list(const struct json_object *fl,
                               struct sl_res_path *p,
                               struct sl__filter_node **out, struct sl_diag *d)
{
    const struct sl__filter_dialect *dl;

    for (dl = sl__filter_dialects; dl->name; dl++)
        if (strcmp(dl->name, "all") == 0)
            return dl->compile(dl, fl, p, out, d);
    return sl_res_fail(d, p, "no 'all' dialect"); /* not reached */
}

int sl_filter_compile(const struct json_object *spec, struct sl_filter **out,
                      struct sl_diag *d)
{
    struct sl__filter_node *root = NULL;
    struct json_object *fl = NULL, *f = NULL, *attrs = NULL;
    struct sl_res_path p;
    int rc = 0;

    *out = NULL;
    if (spec != NULL && !json_object_is_type(spec, json_type_object))
        return sl_diag_set(d, SL_EINVAL, "spec", "must be an object");
    if (spec != NULL && json_object_object_get_ex(spec, "filters", &fl) &&
        fl != NULL) {
        sl_res_path_init(&p, "spec.filters");
        if (!json_object_is_type(fl, json_type_array))
            return sl_res_fail(d, &p, "must be a list of filters");
        if (json_object_array_length(fl) == 0)
            fl = NULL; /* empty: spec.filter applies */
    }
    if (fl != NULL) {
        rc = filter_compile_list(fl, &p, &root, d);
    } else if (spec != NULL && json_object_object_get_ex(spec, "filter", &f) &&
               f != NULL) {
        sl_res_path_init(&p, "spec.filter");
        if (!json_object_is_type(f, json_type_object))
            return sl_res_fail(d, &p, "must be an object");
        if (json_object_object_get_ex(f, "attributes", &attrs) &&
            attrs != NULL) {
            sl_res_path_field(&p, "attributes");
            rc = sl__filter_compile_attributes(attrs, &p, &root, d);
        }
    }
    if (rc != 0)
        return rc;
    *out = sl_xcalloc(1, sizeof(**out));
    (*out)->root = root;
    return 0;
}

bool sl_filter_match(const struct sl_filter *f, const struct sl_event *ev)
{
    return sl__filter_node_match(f->root, ev);
}

void sl_filter_free(struct sl_filter *f)
{
    if (!f)
        return;
    sl__filter_node_free(f->root);
    sl_free(f);
}
