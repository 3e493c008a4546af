/*
 * triggers/filter_dialects.c - the filter dialects: attribute maps
 * (exact, prefix, suffix and the legacy spec.filter.attributes), the
 * combinators (all, any, not), and the table that lists them (the cesql
 * row's functions are in filter_cesql.c).
 *
 * Attribute values are the canonical strings the event model keeps
 * (sl_event_get), so an Integer extension 42 is "42" and a Boolean is
 * "true"; matching never allocates.
 *
 * Each dialect's explain slot re-evaluates its node the way its match
 * does and says why with the helpers of filter_explain.c; match itself
 * stays as it is.
 */
#include "triggers/filter_internal.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"
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
    const char *skip_key = NULL;
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
        if (!skip && (key[0] == '\0' ||
                      (!legacy && json_object_get_string_len(val) == 0))) {
            skip = true;
            skip_key = key;
        }
    }
    if (skip && skip_key[0] == '\0') {
        *out = sl__filter_none_new(dl->name, NULL, 0, false,
                                   "an entry has an empty attribute name, so "
                                   "Knative cannot build this filter and "
                                   "skips it");
        return 0;
    }
    if (skip) {
        *out = sl__filter_none_new(dl->name, NULL, 0, false,
                                   "the entry '%s' has an empty value, so "
                                   "Knative cannot build this %s filter and "
                                   "skips it",
                                   skip_key, dl->name);
        return 0;
    }
    if (json_object_object_length(v) == 0) {
        *out =
            sl__filter_none_new(dl->name, NULL, 0, false, "the map is empty");
        return 0;
    }
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

/* ---- explaining attribute maps ---- */

enum kv_mode { KV_EXACT, KV_PREFIX, KV_SUFFIX, KV_LEGACY };

/* Does 'a' (NULL: absent) satisfy entry 'e'? As the match functions. */
static bool kv_holds(enum kv_mode m, const struct sl_ce_attr *a,
                     const struct kv_entry *e)
{
    if (!a)
        return false;
    switch (m) {
    case KV_PREFIX:
        return a->len >= e->len && memcmp(a->value, e->val, e->len) == 0;
    case KV_SUFFIX:
        return a->len >= e->len &&
               memcmp(a->value + a->len - e->len, e->val, e->len) == 0;
    case KV_LEGACY:
        if (e->len == 0)
            return a->len > 0;
        break;
    case KV_EXACT:
        break;
    }
    return a->len == e->len && memcmp(a->value, e->val, a->len) == 0;
}

/* p[0..n) and q[0..n) equal ignoring ASCII case. */
static bool kv_eq_ci(const char *p, const char *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)p[i], b = (unsigned char)q[i];

        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

/* s[0..*n) without leading and trailing blanks. */
static const char *kv_trim(const char *s, size_t *n)
{
    while (*n > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* Why a near miss missed, for a person, or "". */
static const char *kv_near_miss(enum kv_mode m, const struct sl_ce_attr *a,
                                const struct kv_entry *e)
{
    const char *p, *q;
    size_t pn = a->len, qn = e->len;

    if (m == KV_PREFIX && a->len >= e->len && kv_eq_ci(a->value, e->val, qn))
        return " (only letter case differs: values are compared "
               "case-sensitively)";
    if (m == KV_SUFFIX && a->len >= e->len &&
        kv_eq_ci(a->value + a->len - qn, e->val, qn))
        return " (only letter case differs: values are compared "
               "case-sensitively)";
    if (m != KV_EXACT && m != KV_LEGACY)
        return "";
    if (a->len == e->len && kv_eq_ci(a->value, e->val, qn))
        return " (only letter case differs: values are compared "
               "case-sensitively)";
    p = kv_trim(a->value, &pn);
    q = kv_trim(e->val, &qn);
    if (pn == qn && memcmp(p, q, pn) == 0)
        return " (only leading or trailing spaces differ)";
    return "";
}

static void kv_explain_entry(enum kv_mode m, const struct kv_entry *e,
                             const struct sl_ce_attr *a, bool ok,
                             struct sl__filter_expl *x)
{
    static const char *const verb[] = { "", "start with", "end with", "" };
    static const char *const verbs[] = { "", "starts with", "ends with", "" };
    char qa[SL__FILTER_QUOTE_MAX], qw[SL__FILTER_QUOTE_MAX];
    enum sl__filter_verdict v = ok ? SL__FILTER_PASS : SL__FILTER_FAIL;

    if (!a) {
        sl__filter_explain_detail(
            x, e->name, v, "attribute '%s' is not set%s", e->name,
            m == KV_LEGACY && e->len == 0
                ? " (the value \"\" asks for it to be present and non-empty)"
                : "");
        sl__filter_explain_missing(x, e->name);
        return;
    }
    sl__filter_quote(a->value, a->len, qa, sizeof(qa));
    sl__filter_quote(e->val, e->len, qw, sizeof(qw));
    if (m == KV_LEGACY && e->len == 0) {
        if (ok)
            sl__filter_explain_detail(x, e->name, v,
                                      "is %s: present and non-empty, as the "
                                      "value \"\" asks",
                                      qa);
        else
            sl__filter_explain_detail(x, e->name, v,
                                      "is empty, but the value \"\" asks for "
                                      "a non-empty value");
    } else if (m == KV_EXACT || m == KV_LEGACY) {
        if (ok)
            sl__filter_explain_detail(x, e->name, v, "is %s, as wanted", qa);
        else
            sl__filter_explain_detail(x, e->name, v,
                                      "is %s, wanted exactly %s%s", qa, qw,
                                      kv_near_miss(m, a, e));
    } else if (ok) {
        sl__filter_explain_detail(x, e->name, v, "%s %s %s", qa, verbs[m], qw);
    } else {
        sl__filter_explain_detail(x, e->name, v, "%s does not %s %s%s", qa,
                                  verb[m], qw, kv_near_miss(m, a, e));
    }
}

/* Every entry is explained (the verdict is the same as match's early
 * exit, and a person wants to see every mismatch at once). */
static bool kv_explain(enum kv_mode m, const struct sl__filter_node *n,
                       const struct sl_event *ev, struct sl__filter_expl *x)
{
    const struct kv_node *k = (const struct kv_node *)n;
    size_t bad = 0;

    for (size_t i = 0; i < k->n; i++) {
        const struct sl_ce_attr *a = sl_event_get(ev, k->e[i].name);
        bool ok = kv_holds(m, a, &k->e[i]);

        kv_explain_entry(m, &k->e[i], a, ok, x);
        if (!ok)
            bad++;
    }
    if (k->n > 1 && bad == k->n)
        sl__filter_explain_reason(x, "none of its %zu attributes match", k->n);
    else if (k->n > 1 && bad > 0)
        sl__filter_explain_reason(x, "%zu of its %zu attributes %s not match",
                                  bad, k->n, bad == 1 ? "does" : "do");
    else if (k->n > 1)
        sl__filter_explain_reason(x, "all %zu attributes match", k->n);
    return bad == 0;
}

static bool exact_explain(const struct sl__filter_node *n,
                          const struct sl_event *ev, struct sl__filter_expl *x)
{
    return kv_explain(KV_EXACT, n, ev, x);
}

static bool prefix_explain(const struct sl__filter_node *n,
                           const struct sl_event *ev, struct sl__filter_expl *x)
{
    return kv_explain(KV_PREFIX, n, ev, x);
}

static bool suffix_explain(const struct sl__filter_node *n,
                           const struct sl_event *ev, struct sl__filter_expl *x)
{
    return kv_explain(KV_SUFFIX, n, ev, x);
}

static bool attributes_explain(const struct sl__filter_node *n,
                               const struct sl_event *ev,
                               struct sl__filter_expl *x)
{
    return kv_explain(KV_LEGACY, n, ev, x);
}

/* Not a row of the table: spec.filter.attributes is no filters element. */
static const struct sl__filter_dialect attributes_dialect = {
    .name = "attributes",
    .compile = NULL,
    .match = attributes_match,
    .free_node = kv_free,
    .explain = attributes_explain,
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

/*
 * 'kids' are what match evaluates; 'elems' every element in list order,
 * "no filter" ones included, for explanations (and ownership).
 */
struct list_node {
    struct sl__filter_node base;
    size_t n;
    struct sl__filter_node **kids;
    size_t nelems;
    struct sl__filter_node **elems;
};

static void list_free(struct sl__filter_node *n)
{
    struct list_node *l = (struct list_node *)n;

    for (size_t i = 0; i < l->nelems; i++)
        sl__filter_node_free(l->elems[i]);
    sl_free(l->elems);
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
    l->elems = sl_xcalloc(n ? n : 1, sizeof(*l->elems));
    for (i = 0; i < n; i++) {
        struct sl__filter_node *kid = NULL;
        old = sl_res_path_index(p, i);
        rc = sl__filter_compile_elem(json_object_array_get_idx(v, i), p, &kid,
                                     d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            break;
        l->elems[l->nelems++] = kid;
        if (kid && !sl__filter_is_none(kid))
            l->kids[l->n++] = kid;
    }
    if (rc != 0) {
        list_free(&l->base);
        return rc;
    }
    if (l->n == 0) {
        /* Only "no filter" elements: the list is one, made of them. */
        *out = sl__filter_none_new(self->name, l->elems, l->nelems, true,
                                   "none of its elements is a filter");
        l->elems = NULL;
        l->nelems = 0;
        list_free(&l->base);
        return 0;
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

/*
 * all and any explained: every element in order, "no filter" ones said as
 * such, the ones after the deciding element as not evaluated.
 */
static bool list_explain(bool is_all, const struct sl__filter_node *n,
                         struct sl__filter_expl *x)
{
    const struct list_node *l = (const struct list_node *)n;
    char decider[SL_DIAG_FIELD_MAX] = "";
    size_t nones = l->nelems - l->n;
    bool decided = false;

    for (size_t i = 0; i < l->nelems; i++) {
        const struct sl__filter_node *e = l->elems[i];

        if (sl__filter_is_none(e)) {
            sl__filter_explain_kid(x, e, i);
        } else if (decided) {
            sl__filter_explain_unevaluated(
                x, e, i, "%s already %s, so the '%s' %s", decider,
                is_all ? "failed" : "passed", is_all ? "all" : "any",
                is_all ? "fails" : "passes");
        } else if (sl__filter_explain_kid(x, e, i) != is_all) {
            decided = true;
            sl_strlcpy(decider, sl__filter_explain_last_path(x),
                       sizeof(decider));
        }
    }
    if (is_all && decided)
        sl__filter_explain_reason(x, "every element must pass, and %s did not",
                                  decider);
    else if (!is_all && decided)
        sl__filter_explain_reason(x, "%s passed", decider);
    else if (is_all)
        sl__filter_explain_reason(
            x, "%s%s",
            l->n == 1 ? "its element passed" : "all its elements passed",
            nones > 0 ? " (no-filter elements left out)" : "");
    else
        sl__filter_explain_reason(x, "%s%s",
                                  l->n == 1 ? "its element did not pass"
                                            : "none of its elements passed",
                                  nones > 0 ? " (no-filter elements left out)"
                                            : "");
    /* all: no element decided (failed); any: one decided (passed). */
    return is_all ? !decided : decided;
}

static bool all_explain(const struct sl__filter_node *n,
                        const struct sl_event *ev, struct sl__filter_expl *x)
{
    (void)ev;
    return list_explain(true, n, x);
}

static bool any_explain(const struct sl__filter_node *n,
                        const struct sl_event *ev, struct sl__filter_expl *x)
{
    (void)ev;
    return list_explain(false, n, x);
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
    if (rc != 0)
        return rc;
    if (sl__filter_is_none(kid)) {
        struct sl__filter_node **kids = sl_xcalloc(1, sizeof(*kids));

        kids[0] = kid;
        *out = sl__filter_none_new(self->name, kids, 1, false,
                                   "it negates an element that is no filter, "
                                   "and Knative keeps that as no filter");
        return 0;
    }
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

static bool not_explain(const struct sl__filter_node *n,
                        const struct sl_event *ev, struct sl__filter_expl *x)
{
    bool kid =
        sl__filter_explain_kid(x, ((const struct not_node *)n)->kid, SIZE_MAX);

    (void)ev;
    sl__filter_explain_reason(
        x, "%s %s, so 'not' %s", sl__filter_explain_last_path(x),
        kid ? "passed" : "did not pass", kid ? "fails" : "passes");
    return !kid;
}

/* ---- the table ---- */

/* Knative's precedence order (materializeSubscriptionsAPIFilter). */
const struct sl__filter_dialect sl__filter_dialects[] = {
    { "exact", kv_compile, exact_match, kv_free, exact_explain },
    { "prefix", kv_compile, prefix_match, kv_free, prefix_explain },
    { "suffix", kv_compile, suffix_match, kv_free, suffix_explain },
    { "all", list_compile, all_match, list_free, all_explain },
    { "any", list_compile, any_match, list_free, any_explain },
    { "not", not_compile, not_match, not_free, not_explain },
    { "cesql", sl__filter_cesql_compile, sl__filter_cesql_match,
      sl__filter_cesql_free, sl__filter_cesql_explain },
    { NULL, NULL, NULL, NULL, NULL },
};
