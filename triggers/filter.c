/*
 * triggers/filter.c - compile a Trigger's spec.filters / spec.filter into
 * a tree of nodes and evaluate it (semantics in triggers/filter.h and
 * docs/triggers.md).
 *
 * This file picks the dialect of each filters element from the table in
 * filter_dialects.c, knows the two top-level forms and the "no filter"
 * nodes; the dialects know their own nodes.
 */
#include "triggers/filter.h"

#include <stdarg.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "triggers/filter_internal.h"

struct sl_filter {
    struct sl__filter_node *root; /* what match walks; NULL: all match */
    /* What explanations walk: 'root', or the none node that says why
     * there is no root. Owns the tree. */
    struct sl__filter_node *expl;
    const char *path;    /* of 'expl': "spec.filters", "spec.filter"... */
    bool filter_ignored; /* spec.filters applies and spec.filter is set */
};

/* ---- "no filter" nodes ---- */

static void none_free(struct sl__filter_node *n)
{
    struct sl__filter_none *x = (struct sl__filter_none *)n;

    for (size_t i = 0; i < x->n; i++)
        sl__filter_node_free(x->kids[i]);
    sl_free(x->kids);
    sl_free(x->why);
    sl_free(x);
}

static bool none_match(const struct sl__filter_node *n,
                       const struct sl_event *ev)
{
    (void)n;
    (void)ev;
    return true;
}

/* Not a row of the table; explanations know it (explain slot unused). */
const struct sl__filter_dialect sl__filter_none_dialect = {
    .name = "none",
    .compile = NULL,
    .match = none_match,
    .free_node = none_free,
    .explain = NULL,
};

struct sl__filter_node *sl__filter_none_new(const char *key,
                                            struct sl__filter_node **kids,
                                            size_t n, bool indexed,
                                            const char *fmt, ...)
{
    struct sl__filter_none *x = sl_xcalloc(1, sizeof(*x));
    struct sl_buf b;
    va_list ap;

    x->base.dialect = &sl__filter_none_dialect;
    x->key = key;
    x->kids = kids;
    x->n = n;
    x->indexed = indexed;
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    va_start(ap, fmt);
    sl_buf_vappendf(&b, fmt, ap);
    va_end(ap);
    x->why = sl_buf_steal(&b, NULL);
    return &x->base;
}

bool sl__filter_is_none(const struct sl__filter_node *n)
{
    return n != NULL && n->dialect == &sl__filter_none_dialect;
}

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
    if (!pick) {
        *out = sl__filter_none_new(
            NULL, NULL, 0, false,
            "it sets no dialect (an empty exact, prefix, suffix, all, any, "
            "not or cesql does not count), so Knative skips it");
        return 0;
    }
    old = sl_res_path_field(p, pick->name);
    rc = pick->compile(pick, val, p, out, d);
    sl_res_path_pop(p, old);
    if (rc == 0 && *out == NULL)
        *out = sl__filter_none_new(pick->name, NULL, 0, false,
                                   "Knative treats this %s element as no "
                                   "filter",
                                   pick->name);
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

/*
 * Is spec.filter "set" for the note that spec.filters overrides it? The
 * API server defaults an absent spec.filter to {}, so an empty one (or
 * one with an empty or null attributes map) is not worth a word.
 */
static bool filter_is_set(const struct json_object *f)
{
    struct json_object *attrs = NULL;

    if (f == NULL)
        return false;
    if (!json_object_is_type(f, json_type_object))
        return true;
    if (json_object_object_length(f) == 0)
        return false;
    if (json_object_object_length(f) == 1 &&
        json_object_object_get_ex(f, "attributes", &attrs))
        return attrs != NULL &&
               !(json_object_is_type(attrs, json_type_object) &&
                 json_object_object_length(attrs) == 0);
    return true;
}

int sl_filter_compile(const struct json_object *spec, struct sl_filter **out,
                      struct sl_diag *d)
{
    struct sl__filter_node *root = NULL;
    struct json_object *fl = NULL, *f = NULL, *attrs = NULL;
    const char *path = "spec";
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
    if (spec != NULL)
        json_object_object_get_ex(spec, "filter", &f);
    if (fl != NULL) {
        path = "spec.filters";
        rc = filter_compile_list(fl, &p, &root, d);
    } else if (f != NULL) {
        path = "spec.filter";
        sl_res_path_init(&p, "spec.filter");
        if (!json_object_is_type(f, json_type_object))
            return sl_res_fail(d, &p, "must be an object");
        if (json_object_object_get_ex(f, "attributes", &attrs) &&
            attrs != NULL) {
            path = "spec.filter.attributes";
            sl_res_path_field(&p, "attributes");
            rc = sl__filter_compile_attributes(attrs, &p, &root, d);
        } else {
            root = sl__filter_none_new(NULL, NULL, 0, false,
                                       "it has no attributes");
        }
    } else {
        root = sl__filter_none_new(NULL, NULL, 0, false,
                                   "the Trigger sets neither spec.filters "
                                   "nor spec.filter");
    }
    if (rc != 0)
        return rc;
    *out = sl_xcalloc(1, sizeof(**out));
    (*out)->expl = root;
    (*out)->root = sl__filter_is_none(root) ? NULL : root;
    (*out)->path = path;
    (*out)->filter_ignored = fl != NULL && filter_is_set(f);
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
    sl__filter_node_free(f->expl);
    sl_free(f);
}

struct json_object *sl_filter_explain_json(const struct sl_filter *f,
                                           const struct sl_event *ev)
{
    return sl__filter_explain_root(f->expl, f->path, f->filter_ignored, ev);
}

bool sl_filter_explain(const struct sl_filter *f, const struct sl_event *ev,
                       struct sl_buf *out)
{
    struct json_object *x = sl_filter_explain_json(f, ev);
    bool m = sl__filter_explain_render(x, out);

    json_object_put(x);
    return m;
}
