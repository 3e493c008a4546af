/*
 * triggers/filter_cesql.c - CESQL as a Trigger filter: the cesql row of
 * the dialect table (filter_dialects.c) and the admission hook.
 *
 * A filter element {cesql: "expr"} compiles once per Trigger; it matches
 * when the expression evaluates, fail-fast, to Boolean true without an
 * error (spec 1.2, Subscriptions API sql dialect, reference 6.8-6.9). An
 * empty string never reaches this file: it is "no filter"
 * (sl__filter_compile_elem).
 */
#include "triggers/filter_internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "proto/event.h"
#include "resource/duck.h"
#include "triggers/cesql.h"

struct cesql_node {
    struct sl__filter_node base;
    struct sl_cesql *q;
    char *src; /* the expression as written, for explanations */
};

int sl__filter_cesql_compile(const struct sl__filter_dialect *self,
                             const struct json_object *v, struct sl_res_path *p,
                             struct sl__filter_node **out, struct sl_diag *d)
{
    struct sl_cesql *q = NULL;
    struct cesql_node *x;
    struct sl_diag why;

    *out = NULL;
    if (!json_object_is_type(v, json_type_string))
        return sl_res_fail(d, p, "must be a string");
    sl_diag_clear(&why);
    if (sl_cesql_compile(json_object_get_string((struct json_object *)v), &q,
                         &why) != 0)
        return sl_res_fail(d, p, "%s", why.msg);
    x = sl_xcalloc(1, sizeof(*x));
    x->base.dialect = self;
    x->q = q;
    x->src = sl_xstrdup(json_object_get_string((struct json_object *)v));
    *out = &x->base;
    return 0;
}

bool sl__filter_cesql_match(const struct sl__filter_node *n,
                            const struct sl_event *ev)
{
    return sl_cesql_match(((const struct cesql_node *)n)->q, ev);
}

void sl__filter_cesql_free(struct sl__filter_node *n)
{
    struct cesql_node *x = (struct cesql_node *)n;

    sl_cesql_free(x->q);
    sl_free(x->src);
    sl_free(x);
}

/* The attributes an expression reads, each once, for its explanation
 * (longer names and more of them are left out of the explanation). */
#define CESQL_EXPLAIN_ATTRS 32
#define CESQL_EXPLAIN_NAME  64

struct cesql_attrs {
    char names[CESQL_EXPLAIN_ATTRS][CESQL_EXPLAIN_NAME + 1];
    size_t n;
};

static void cesql_attr_add(void *arg, const char *name, size_t n)
{
    struct cesql_attrs *a = arg;

    if (n > CESQL_EXPLAIN_NAME || a->n == CESQL_EXPLAIN_ATTRS)
        return;
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->names[i]) == n && memcmp(a->names[i], name, n) == 0)
            return;
    memcpy(a->names[a->n], name, n);
    a->names[a->n][n] = '\0';
    a->n++;
}

/*
 * Evaluated fail-fast, as match does: the verdict is the same by
 * construction (Boolean true and no error). The reason names the first
 * error, or the value that is not TRUE.
 */
bool sl__filter_cesql_explain(const struct sl__filter_node *n,
                              const struct sl_event *ev,
                              struct sl__filter_expl *x)
{
    const struct cesql_node *c = (const struct cesql_node *)n;
    struct sl_cesql_result res;
    struct cesql_attrs a;
    char q[SL__FILTER_QUOTE_MAX];

    sl__filter_explain_detail(x, "expression", SL__FILTER_INFO, "%s", c->src);
    /* What it looked at: each attribute's value, or that it is not set
     * (which may give a hint: a typo, or a string missing its quotes). */
    a.n = 0;
    sl_cesql_attrs(c->q, cesql_attr_add, &a);
    for (size_t i = 0; i < a.n; i++) {
        const char *v = sl_event_value(ev, a.names[i]);

        if (v != NULL) {
            sl__filter_explain_detail(
                x, a.names[i], SL__FILTER_INFO, "is %s",
                sl__filter_quote(v, strlen(v), q, sizeof(q)));
        } else {
            sl__filter_explain_detail(x, a.names[i], SL__FILTER_INFO,
                                      "is not set");
            sl__filter_explain_missing(x, a.names[i]);
        }
    }
    sl_cesql_eval(c->q, ev, true, &res);
    if (res.err != SL_CESQL_ERR_NONE) {
        sl__filter_explain_reason(x, "evaluation failed with %s: %s",
                                  sl_cesql_err_name(res.err), res.msg);
        return false;
    }
    switch (res.type) {
    case SL_CESQL_BOOL:
        sl__filter_explain_reason(x, "the expression is %s",
                                  res.b ? "TRUE" : "FALSE");
        return res.b;
    case SL_CESQL_INT:
        sl__filter_explain_reason(
            x, "the result is the Integer %d, not a Boolean (only TRUE passes)",
            (int)res.i);
        return false;
    case SL_CESQL_STRING:
        sl__filter_explain_reason(
            x, "the result is the String %s, not a Boolean (only TRUE passes)",
            sl__filter_quote(res.s, res.slen, q, sizeof(q)));
        return false;
    }
    return false;
}

int sl_cesql_check(const char *expr, struct sl_diag *d)
{
    struct sl_cesql *q = NULL;
    int rc = sl_cesql_compile(expr, &q, d);

    sl_cesql_free(q);
    return rc;
}

void sl_cesql_install(void)
{
    sl_res_cesql_check = sl_cesql_check;
}
