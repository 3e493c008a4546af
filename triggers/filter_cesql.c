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

#include "core/alloc.h"
#include "core/err.h"
#include "resource/duck.h"
#include "triggers/cesql.h"

struct cesql_node {
    struct sl__filter_node base;
    struct sl_cesql *q;
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
    sl_free(x);
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
