/*
 * triggers/filter_explain.c - why an event passes a compiled filter or not,
 * for a person (sl_filter_explain, `sluice explain trigger`).
 *
 * A second walk over the compiled tree: each node's dialect explains
 * itself through its explain slot with the helpers here, which build one
 * JSON object per element (path, dialect, verdict, reason, details,
 * children); the text form is rendered from that object, so the CLI's
 * text and -o json never disagree. A dialect without an explain slot
 * gets its match verdict and a generic reason. "No filter" nodes say why
 * they are none. Hints look for attribute names close to the ones the
 * filter asks for but the event lacks.
 *
 * Nothing here runs on the data path: sl_filter_match never calls in.
 */
#include "triggers/filter_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/utf8.h"
#include "proto/event.h"

/* Shown characters of a quoted value before it is cut. */
#define QUOTE_CHARS   60
/* Attribute names longer than this get no typo hint. */
#define HINT_NAME_MAX 64

/* The element being explained. */
struct expl_cur {
    enum sl__filter_verdict verdict;
    char *reason;                 /* NULL: none */
    struct json_object *details;  /* array, NULL until the first */
    struct json_object *elements; /* array, NULL until the first */
};

struct sl__filter_expl {
    const struct sl_event *ev;
    struct sl_res_path path;      /* of the element being explained */
    struct expl_cur *cur;         /* never NULL inside a walk */
    char last[SL_DIAG_FIELD_MAX]; /* path of the child explained last */
    struct json_object *hints;    /* array of strings */
    struct json_object *hinted;   /* names already hinted: name -> true */
};

static const char *verdict_name(enum sl__filter_verdict v)
{
    switch (v) {
    case SL__FILTER_PASS:
        return "pass";
    case SL__FILTER_FAIL:
        return "fail";
    case SL__FILTER_NONE:
        return "no filter";
    case SL__FILTER_SKIPPED:
        return "not evaluated";
    case SL__FILTER_INFO:
        break;
    }
    return "info";
}

static char *expl_vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *expl_vformat(const char *fmt, va_list ap)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_buf_vappendf(&b, fmt, ap);
    return sl_buf_steal(&b, NULL);
}

/* ---- helpers for the dialects ---- */

void sl__filter_explain_reason(struct sl__filter_expl *x, const char *fmt, ...)
{
    va_list ap;

    sl_free(x->cur->reason);
    va_start(ap, fmt);
    x->cur->reason = expl_vformat(fmt, ap);
    va_end(ap);
}

void sl__filter_explain_detail(struct sl__filter_expl *x, const char *label,
                               enum sl__filter_verdict v, const char *fmt, ...)
{
    struct json_object *d = json_object_new_object();
    char *text;
    va_list ap;

    va_start(ap, fmt);
    text = expl_vformat(fmt, ap);
    va_end(ap);
    if (label != NULL)
        json_object_object_add(d, "label", json_object_new_string(label));
    json_object_object_add(d, "result",
                           json_object_new_string(verdict_name(v)));
    json_object_object_add(d, "text", json_object_new_string(text));
    sl_free(text);
    if (x->cur->details == NULL)
        x->cur->details = json_object_new_array();
    json_object_array_add(x->cur->details, d);
}

const struct sl_event *sl__filter_explain_event(const struct sl__filter_expl *x)
{
    return x->ev;
}

const char *sl__filter_explain_last_path(const struct sl__filter_expl *x)
{
    return x->last;
}

/* The key an element is written with: its dialect's, or a none's own. */
static const char *node_key(const struct sl__filter_node *n)
{
    if (sl__filter_is_none(n))
        return ((const struct sl__filter_none *)n)->key;
    return n->dialect->name;
}

/* One element's JSON, from what its walk gathered. Takes 'c''s contents. */
static struct json_object *expl_element(const char *path, const char *key,
                                        struct expl_cur *c)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "path", json_object_new_string(path));
    if (key != NULL)
        json_object_object_add(o, "dialect", json_object_new_string(key));
    json_object_object_add(o, "result",
                           json_object_new_string(verdict_name(c->verdict)));
    if (c->reason != NULL)
        json_object_object_add(o, "reason", json_object_new_string(c->reason));
    if (c->details != NULL)
        json_object_object_add(o, "details", c->details);
    if (c->elements != NULL)
        json_object_object_add(o, "elements", c->elements);
    sl_free(c->reason);
    memset(c, 0, sizeof(*c));
    return o;
}

/* Explain 'n' into 'x->cur' (already fresh); returns match's verdict. */
static bool expl_node(struct sl__filter_expl *x,
                      const struct sl__filter_node *n)
{
    bool r;

    if (sl__filter_is_none(n)) {
        const struct sl__filter_none *z = (const struct sl__filter_none *)n;

        for (size_t i = 0; i < z->n; i++)
            sl__filter_explain_kid(x, z->kids[i], z->indexed ? i : SIZE_MAX);
        sl__filter_explain_reason(x, "%s", z->why);
        x->cur->verdict = SL__FILTER_NONE;
        return true;
    }
    if (n->dialect->explain != NULL) {
        r = n->dialect->explain(n, x->ev, x);
    } else {
        /* No explain slot: what match says, in general words. */
        r = n->dialect->match(n, x->ev);
        if (!r)
            sl__filter_explain_reason(x, "the expression is not true for "
                                         "this event");
    }
    x->cur->verdict = r ? SL__FILTER_PASS : SL__FILTER_FAIL;
    return r;
}

/* Explain 'n' at the current path as a new element object in '*out'. */
static bool expl_walk(struct sl__filter_expl *x,
                      const struct sl__filter_node *n, const char *key,
                      struct json_object **out)
{
    struct expl_cur cur, *saved = x->cur;
    bool r;

    memset(&cur, 0, sizeof(cur));
    x->cur = &cur;
    r = expl_node(x, n);
    x->cur = saved;
    *out = expl_element(x->path.buf, key, &cur);
    return r;
}

/* Push "[index]" and ".key" for child 'kid'; returns the old length. */
static size_t expl_push(struct sl__filter_expl *x,
                        const struct sl__filter_node *kid, size_t index)
{
    size_t old = x->path.len;

    if (index != SIZE_MAX)
        sl_res_path_index(&x->path, index);
    if (node_key(kid) != NULL)
        sl_res_path_field(&x->path, node_key(kid));
    return old;
}

static void expl_add_element(struct sl__filter_expl *x, struct json_object *e)
{
    if (x->cur->elements == NULL)
        x->cur->elements = json_object_new_array();
    json_object_array_add(x->cur->elements, e);
    sl_strlcpy(x->last, x->path.buf, sizeof(x->last));
}

bool sl__filter_explain_kid(struct sl__filter_expl *x,
                            const struct sl__filter_node *kid, size_t index)
{
    struct json_object *e;
    size_t old = expl_push(x, kid, index);
    bool r = expl_walk(x, kid, node_key(kid), &e);

    expl_add_element(x, e);
    sl_res_path_pop(&x->path, old);
    return r;
}

void sl__filter_explain_unevaluated(struct sl__filter_expl *x,
                                    const struct sl__filter_node *kid,
                                    size_t index, const char *fmt, ...)
{
    struct expl_cur c;
    size_t old = expl_push(x, kid, index);
    va_list ap;

    memset(&c, 0, sizeof(c));
    c.verdict = SL__FILTER_SKIPPED;
    va_start(ap, fmt);
    c.reason = expl_vformat(fmt, ap);
    va_end(ap);
    expl_add_element(x, expl_element(x->path.buf, node_key(kid), &c));
    sl_res_path_pop(&x->path, old);
}

/* ---- quoting ---- */

const char *sl__filter_quote(const char *s, size_t n, char *out, size_t outlen)
{
    struct sl_buf b;
    size_t i = 0, shown = 0;

    sl_buf_init(&b, outlen > 0 ? outlen - 1 : 0);
    sl_buf_appendc(&b, '"');
    while (i < n && shown < QUOTE_CHARS) {
        const unsigned char *p = (const unsigned char *)s + i;
        uint32_t cp;
        size_t k;

        if (*p == '"' || *p == '\\') {
            sl_buf_appendc(&b, '\\');
            sl_buf_appendc(&b, (char)*p);
            k = 1;
        } else if (*p == '\n') {
            sl_buf_appends(&b, "\\n");
            k = 1;
        } else if (*p == '\t') {
            sl_buf_appends(&b, "\\t");
            k = 1;
        } else if (*p < 0x20 || *p == 0x7f) {
            sl_buf_appendf(&b, "\\x%02x", *p);
            k = 1;
        } else if (*p < 0x80) {
            sl_buf_appendc(&b, (char)*p);
            k = 1;
        } else if ((k = sl_utf8_decode(p, n - i, &cp)) == 0) {
            sl_buf_appendf(&b, "\\x%02x", *p); /* not UTF-8 */
            k = 1;
        } else {
            sl_buf_append(&b, p, k);
        }
        i += k;
        shown++;
    }
    sl_buf_appendc(&b, '"');
    if (i < n)
        sl_buf_appendf(&b, "... (%zu bytes)", n);
    sl_strlcpy(out, sl_buf_str(&b), outlen);
    sl_buf_fini(&b);
    return out;
}

/* ---- hints ---- */

/* Edit distance between a and b (Levenshtein), both short. */
static size_t hint_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[HINT_NAME_MAX + 1];

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* The event's attribute closest to 'name' (a typo away), or NULL. */
static const struct sl_ce_attr *hint_closest(const struct sl_event *ev,
                                             const char *name)
{
    size_t len = strlen(name), most = len <= 4 ? 1 : 2, best = most + 1;
    const struct sl_ce_attr *pick = NULL;

    if (len > HINT_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < ev->nattrs; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];
        size_t d;

        if (strlen(a->name) > HINT_NAME_MAX)
            continue;
        d = hint_distance(name, a->name);
        if (d < best) {
            best = d;
            pick = a;
        }
    }
    return pick;
}

static void hint_add(struct sl__filter_expl *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void hint_add(struct sl__filter_expl *x, const char *fmt, ...)
{
    char *text;
    va_list ap;

    va_start(ap, fmt);
    text = expl_vformat(fmt, ap);
    va_end(ap);
    json_object_array_add(x->hints, json_object_new_string(text));
    sl_free(text);
}

void sl__filter_explain_missing(struct sl__filter_expl *x, const char *name)
{
    const struct sl_event *ev = x->ev;
    const struct sl_ce_attr *a;
    char lower[HINT_NAME_MAX + 1], q[SL__FILTER_QUOTE_MAX];

    if (json_object_object_get_ex(x->hinted, name, NULL))
        return;
    json_object_object_add(x->hinted, name, json_object_new_boolean(1));
    if (!sl_ce_name_valid(name, SL_CE_V10)) {
        const char *why = "CloudEvents attribute names are lower-case "
                          "letters and digits only";

        if (strlen(name) <= HINT_NAME_MAX) {
            sl_strlcpy(lower, name, sizeof(lower));
            sl_str_lower(lower);
            if (strcmp(lower, name) != 0 &&
                (a = sl_event_get(ev, lower)) != NULL) {
                hint_add(x,
                         "the filter asks for '%s', which no event can carry "
                         "(%s); this event has '%s' = %s: write the name in "
                         "lower case",
                         name, why, a->name,
                         sl__filter_quote(a->value, a->len, q, sizeof(q)));
                return;
            }
        }
        hint_add(x, "the filter asks for '%s', which no event can carry (%s)",
                 name, why);
        return;
    }
    if (strcmp(name, "datamediatype") == 0) {
        hint_add(x, "'datamediatype' is a virtual attribute of Knative's MT "
                    "broker that sluice does not provide; filter on "
                    "'datacontenttype' (with prefix) instead");
        return;
    }
    if (strcmp(name, "schemaurl") == 0 && ev->version == SL_CE_V10 &&
        sl_event_get(ev, "dataschema") != NULL) {
        hint_add(x, "'schemaurl' is the CloudEvents 0.3 name; this 1.0 event "
                    "carries 'dataschema'");
        return;
    }
    if (strcmp(name, "dataschema") == 0 && ev->version == SL_CE_V03 &&
        sl_event_get(ev, "schemaurl") != NULL) {
        hint_add(x, "'dataschema' is the CloudEvents 1.0 name; this 0.3 event "
                    "carries 'schemaurl'");
        return;
    }
    if ((a = hint_closest(ev, name)) != NULL)
        hint_add(x,
                 "the event has no '%s' but has '%s' = %s: a typo in "
                 "one of the names?",
                 name, a->name,
                 sl__filter_quote(a->value, a->len, q, sizeof(q)));
}

/* ---- the whole explanation ---- */

struct json_object *sl__filter_explain_root(const struct sl__filter_node *root,
                                            const char *path,
                                            bool filter_ignored,
                                            const struct sl_event *ev)
{
    struct json_object *o = json_object_new_object(), *notes, *elem = NULL;
    struct sl__filter_expl x;
    bool r = true;

    memset(&x, 0, sizeof(x));
    x.ev = ev;
    x.hints = json_object_new_array();
    x.hinted = json_object_new_object();
    sl_res_path_init(&x.path, path);
    notes = json_object_new_array();
    if (filter_ignored)
        json_object_array_add(
            notes, json_object_new_string(
                       "spec.filter is ignored: spec.filters is not empty, "
                       "and then Knative uses spec.filters only"));
    if (root != NULL) {
        r = expl_walk(&x, root, node_key(root), &elem);
    } else {
        struct expl_cur c;

        memset(&c, 0, sizeof(c));
        c.verdict = SL__FILTER_NONE;
        c.reason = sl_xstrdup("the Trigger sets no filter");
        elem = expl_element(path, NULL, &c);
    }
    if (root == NULL || sl__filter_is_none(root)) {
        struct json_object *why = NULL;
        struct sl_buf b;

        json_object_object_get_ex(elem, "reason", &why);
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_buf_appendf(&b, "%s, so every event passes",
                       json_object_get_string(why));
        json_object_object_add(elem, "reason",
                               json_object_new_string(sl_buf_str(&b)));
        sl_buf_fini(&b);
    }
    json_object_object_add(o, "matches", json_object_new_boolean(r));
    json_object_object_add(o, "notes", notes);
    json_object_object_add(o, "filter", elem);
    json_object_object_add(o, "hints", x.hints);
    json_object_put(x.hinted);
    return o;
}

/* ---- text ---- */

static const char *render_verdict(const char *v)
{
    if (strcmp(v, "pass") == 0)
        return "PASS";
    if (strcmp(v, "fail") == 0)
        return "FAIL";
    return v;
}

static const char *render_str(const struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    return json_object_get_string(v);
}

static void render_elem(const struct json_object *e, int depth,
                        struct sl_buf *out)
{
    struct json_object *arr = NULL;
    const char *reason = render_str(e, "reason");

    sl_buf_appendf(out, "%*s%s: %s%s%s\n", depth * 2, "", render_str(e, "path"),
                   render_verdict(render_str(e, "result")), reason ? ": " : "",
                   reason ? reason : "");
    if (json_object_object_get_ex(e, "details", &arr)) {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *d = json_object_array_get_idx(arr, i);
            const char *label = render_str(d, "label"),
                       *v = render_str(d, "result");
            bool info = strcmp(v, "info") == 0;

            sl_buf_appendf(out, "%*s%s%s%s%s%s\n", depth * 2 + 2, "",
                           label ? label : "", label ? ": " : "",
                           info ? "" : render_verdict(v), info ? "" : ": ",
                           render_str(d, "text"));
        }
    }
    if (json_object_object_get_ex(e, "elements", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++)
            render_elem(json_object_array_get_idx(arr, i), depth + 1, out);
}

bool sl__filter_explain_render(const struct json_object *x, struct sl_buf *out)
{
    struct json_object *arr = NULL, *m = NULL, *f = NULL;

    if (json_object_object_get_ex(x, "notes", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++)
            sl_buf_appendf(
                out, "note: %s\n",
                json_object_get_string(json_object_array_get_idx(arr, i)));
    if (json_object_object_get_ex(x, "filter", &f))
        render_elem(f, 0, out);
    if (json_object_object_get_ex(x, "hints", &arr))
        for (size_t i = 0; i < json_object_array_length(arr); i++)
            sl_buf_appendf(
                out, "hint: %s\n",
                json_object_get_string(json_object_array_get_idx(arr, i)));
    json_object_object_get_ex(x, "matches", &m);
    return json_object_get_boolean(m);
}
