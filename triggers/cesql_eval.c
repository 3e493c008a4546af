/*
 * triggers/cesql_eval.c - evaluate a compiled CESQL expression against
 * one event: operators, implicit casts, missing attributes, errors.
 *
 * Semantics (reference cloudevents.md 6.4-6.8, docs/cesql.md):
 *   - an operator or function whose operand is an absent attribute gives
 *     the zero value of its own type (false, 0, "") plus a
 *     MissingAttributeError, without computing anything else (so
 *     1 / missing is 0, not a MathError); one level only, as sdk-java;
 *   - a failed cast gives the target's zero value plus a CastError and
 *     evaluation goes on (complete mode) or stops (fail-fast);
 *   - = != <> cast the left operand to the right operand's type; < <= >
 *     >= and arithmetic cast both to Integer; IN casts each element to the
 *     left operand's type and stops at the first match;
 *   - arithmetic wraps around on 32-bit overflow (as Java and Go do);
 *     x / 0 and x % 0 give 0 plus a MathError;
 *   - AND and OR short-circuit; a chain of AND/OR/XOR is right-associative
 *     (see cesql_parse.c) and evaluated left to right in one loop.
 *
 * Scratch discipline: a node may put strings into the result's scratch
 * space while it runs; when it returns, only its own value may still be
 * there. sl__cesql_eval_node moves that value down to where the node
 * started and releases the rest, so the space in use at any moment is
 * the live values on the path from the root, not everything ever built.
 */
#include "triggers/cesql_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/event.h"

/* ---- values, scratch and errors ---- */

void sl__cesql_zero(struct sl__cesql_val *v, uint8_t type)
{
    memset(v, 0, sizeof(*v));
    v->type = type == SL__CQ_ANY ? SL__CQ_BOOL : type;
    v->s = "";
}

void sl__cesql_error(struct sl__cesql_ctx *c, enum sl_cesql_err e,
                     const struct sl__cesql_node *at, const char *fmt, ...)
{
    struct sl_cesql_result *r = c->res;
    va_list ap;
    int k;

    if (c->fail_fast)
        c->stop = true;
    if (r->err != SL_CESQL_ERR_NONE)
        return;
    r->err = e;
    if (!c->want_msg)
        return;
    k = snprintf(r->msg, sizeof(r->msg), "at position %u: ", (unsigned)at->pos);
    if (k < 0 || (size_t)k >= sizeof(r->msg))
        return;
    va_start(ap, fmt);
    vsnprintf(r->msg + k, sizeof(r->msg) - (size_t)k, fmt, ap);
    va_end(ap);
}

char *sl__cesql_scratch(struct sl__cesql_ctx *c,
                        const struct sl__cesql_node *at, size_t n)
{
    struct sl_cesql_result *r = c->res;
    char *p;

    if (n > sizeof(r->scratch) - r->scratch_used) {
        sl__cesql_error(c, SL_CESQL_ERR_GENERIC, at,
                        "string values need more than the %zu bytes of "
                        "evaluation space",
                        sizeof(r->scratch));
        return NULL;
    }
    p = r->scratch + r->scratch_used;
    r->scratch_used += n;
    return p;
}

bool sl__cesql_in_scratch(const struct sl_cesql_result *r, const char *s)
{
    /* Compared as integers: the pointers may point into different
     * objects. */
    uintptr_t p = (uintptr_t)s, lo = (uintptr_t)r->scratch;

    return p >= lo && p < lo + sizeof(r->scratch);
}

/* Show at most 32 bytes of a value in a message (whole characters). */
static int eval_cut(const char *s, size_t n)
{
    size_t k = 0;

    while (k < n && k < 32)
        k += sl__cesql_utf8_step(s + k, n - k);
    return (int)(k < n ? k : n);
}

/* ---- casts ---- */

/* Parse s[0..n) as [+-]digits within int32. */
static bool eval_parse_int(const char *s, size_t n, int32_t *out)
{
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return false;
    }
    if (neg)
        v = -v;
    if (v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

/* "true" / "false" in any case. */
static bool eval_parse_bool(const char *s, size_t n, bool *out)
{
    static const char t[] = "true", f[] = "false";
    size_t i;

    if (n == 4) {
        for (i = 0; i < 4; i++)
            if ((s[i] | 0x20) != t[i])
                return false;
        *out = true;
        return true;
    }
    if (n == 5) {
        for (i = 0; i < 5; i++)
            if ((s[i] | 0x20) != f[i])
                return false;
        *out = false;
        return true;
    }
    return false;
}

bool sl__cesql_castable(const struct sl__cesql_val *v, uint8_t type)
{
    int32_t i;
    bool b;

    if (v->type == type || type == SL__CQ_ANY || type == SL__CQ_STRING)
        return true;
    if (v->type != SL__CQ_STRING)
        return true; /* Integer <-> Boolean always works */
    return type == SL__CQ_INT ? eval_parse_int(v->s, v->n, &i)
                              : eval_parse_bool(v->s, v->n, &b);
}

/* Decimal text of 'i' into scratch. */
static void eval_int_to_str(struct sl__cesql_ctx *c,
                            const struct sl__cesql_node *at, int32_t i,
                            struct sl__cesql_val *v)
{
    char buf[12];
    size_t k = sizeof(buf);
    uint32_t u = i < 0 ? 0u - (uint32_t)i : (uint32_t)i;
    char *p;

    do {
        buf[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (i < 0)
        buf[--k] = '-';
    sl__cesql_zero(v, SL__CQ_STRING);
    if ((p = sl__cesql_scratch(c, at, sizeof(buf) - k)) == NULL)
        return;
    memcpy(p, buf + k, sizeof(buf) - k);
    v->s = p;
    v->n = sizeof(buf) - k;
}

void sl__cesql_cast(struct sl__cesql_ctx *c, const struct sl__cesql_node *at,
                    struct sl__cesql_val *v, uint8_t type)
{
    const char *s = v->s;
    size_t n = v->n;
    int32_t i;
    bool b;

    if (type == SL__CQ_ANY || v->type == type)
        return;
    switch (type) {
    case SL__CQ_STRING:
        if (v->type == SL__CQ_BOOL) {
            b = v->b;
            sl__cesql_zero(v, SL__CQ_STRING);
            v->s = b ? "true" : "false";
            v->n = b ? 4 : 5;
        } else {
            eval_int_to_str(c, at, v->i, v);
        }
        return;
    case SL__CQ_INT:
        if (v->type == SL__CQ_BOOL) {
            i = v->b ? 1 : 0;
        } else if (!eval_parse_int(s, n, &i)) {
            sl__cesql_error(c, SL_CESQL_ERR_CAST, at,
                            "cannot cast '%.*s%s' to Integer", eval_cut(s, n),
                            s, (size_t)eval_cut(s, n) < n ? "..." : "");
            i = 0;
        }
        sl__cesql_zero(v, SL__CQ_INT);
        v->i = i;
        return;
    default: /* SL__CQ_BOOL */
        if (v->type == SL__CQ_INT) {
            b = v->i != 0;
        } else if (!eval_parse_bool(s, n, &b)) {
            sl__cesql_error(c, SL_CESQL_ERR_CAST, at,
                            "cannot cast '%.*s%s' to Boolean", eval_cut(s, n),
                            s, (size_t)eval_cut(s, n) < n ? "..." : "");
            b = false;
        }
        sl__cesql_zero(v, SL__CQ_BOOL);
        v->b = b;
        return;
    }
}

/* Same type (after the caller's cast) and same value. */
static bool eval_equal(const struct sl__cesql_val *a,
                       const struct sl__cesql_val *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SL__CQ_BOOL:
        return a->b == b->b;
    case SL__CQ_INT:
        return a->i == b->i;
    default:
        return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
    }
}

/* ---- the nodes ---- */

static void eval_attr(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                      struct sl__cesql_val *out)
{
    const struct sl_ce_attr *a = sl_event_get(c->ev, n->name);

    if (a == NULL) {
        sl__cesql_error(c, SL_CESQL_ERR_MISSING_ATTRIBUTE, n,
                        "missing attribute '%s'", n->name);
        out->missing = true;
        return;
    }
    /* Integer and Boolean attributes keep their type (JSON-format events
     * and typed extensions); everything else is a String. */
    if (a->type == SL_CE_INT && eval_parse_int(a->value, a->len, &out->i)) {
        out->type = SL__CQ_INT;
        return;
    }
    if (a->type == SL_CE_BOOL && eval_parse_bool(a->value, a->len, &out->b)) {
        out->type = SL__CQ_BOOL;
        return;
    }
    out->type = SL__CQ_STRING;
    out->s = a->value;
    out->n = a->len;
}

static void eval_arith(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                       struct sl__cesql_val *out)
{
    struct sl__cesql_val l, r;
    int32_t x, y;

    out->type = SL__CQ_INT;
    sl__cesql_eval_node(c, n->kids[0], &l);
    if (c->stop || l.missing)
        return;
    sl__cesql_eval_node(c, n->kids[1], &r);
    if (c->stop || r.missing)
        return;
    sl__cesql_cast(c, n->kids[0], &l, SL__CQ_INT);
    sl__cesql_cast(c, n->kids[1], &r, SL__CQ_INT);
    if (c->stop)
        return;
    x = l.i;
    y = r.i;
    switch (n->op) {
    case SL__CQ_OP_ADD:
        out->i = (int32_t)((uint32_t)x + (uint32_t)y);
        break;
    case SL__CQ_OP_SUB:
        out->i = (int32_t)((uint32_t)x - (uint32_t)y);
        break;
    case SL__CQ_OP_MUL:
        out->i = (int32_t)(uint32_t)((uint64_t)((int64_t)x * y));
        break;
    default: /* DIV, MOD */
        if (y == 0) {
            sl__cesql_error(c, SL_CESQL_ERR_MATH, n, "%s by zero",
                            n->op == SL__CQ_OP_DIV ? "division" : "modulo");
            out->i = 0;
        } else if (y == -1) {
            /* INT32_MIN / -1 wraps to INT32_MIN (C leaves it undefined). */
            out->i = n->op == SL__CQ_OP_DIV ? (int32_t)(0u - (uint32_t)x) : 0;
        } else {
            out->i = n->op == SL__CQ_OP_DIV ? x / y : x % y;
        }
        break;
    }
}

static void eval_cmp(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                     struct sl__cesql_val *out)
{
    struct sl__cesql_val l, r;

    out->type = SL__CQ_BOOL;
    sl__cesql_eval_node(c, n->kids[0], &l);
    if (c->stop || l.missing)
        return;
    sl__cesql_eval_node(c, n->kids[1], &r);
    if (c->stop || r.missing)
        return;
    if (n->op == SL__CQ_OP_EQ || n->op == SL__CQ_OP_NE) {
        /* Overloaded: the right operand's type picks the overload. */
        sl__cesql_cast(c, n->kids[0], &l, r.type);
        if (c->stop)
            return;
        out->b = eval_equal(&l, &r) == (n->op == SL__CQ_OP_EQ);
        return;
    }
    sl__cesql_cast(c, n->kids[0], &l, SL__CQ_INT);
    sl__cesql_cast(c, n->kids[1], &r, SL__CQ_INT);
    if (c->stop)
        return;
    switch (n->op) {
    case SL__CQ_OP_LT:
        out->b = l.i < r.i;
        break;
    case SL__CQ_OP_LE:
        out->b = l.i <= r.i;
        break;
    case SL__CQ_OP_GT:
        out->b = l.i > r.i;
        break;
    default:
        out->b = l.i >= r.i;
        break;
    }
}

static void eval_in(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                    struct sl__cesql_val *out)
{
    struct sl__cesql_val l, e;
    size_t mark;
    uint32_t k;

    out->type = SL__CQ_BOOL;
    sl__cesql_eval_node(c, n->kids[0], &l);
    if (c->stop || l.missing)
        return;
    mark = c->res->scratch_used; /* above l's value */
    for (k = 1; k < n->n; k++) {
        sl__cesql_eval_node(c, n->kids[k], &e);
        if (c->stop || e.missing)
            return;
        sl__cesql_cast(c, n->kids[k], &e, l.type);
        if (c->stop)
            return;
        if (eval_equal(&l, &e))
            break;
        c->res->scratch_used = mark; /* e is done with */
    }
    out->b = (k < n->n) != n->neg;
}

/*
 * kids[0] ops[0] kids[1] ops[1] ... kids[n-1], right-associative:
 * a op0 (b op1 (c ...)). Walking left to right, the value of the whole
 * is 'neg' XOR the value of the rest: AND with a true left side and OR
 * with a false one pass the rest through, XOR folds its left side into
 * 'neg', and AND-false / OR-true settle it without evaluating the rest.
 * A missing operand makes the operator that references it false: an
 * inner operand the operator right after it, the last one the operator
 * right before it.
 */
static void eval_logic(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                       struct sl__cesql_val *out)
{
    struct sl__cesql_val v;
    bool neg = false, neg_prev = false;
    size_t mark = c->res->scratch_used;
    uint32_t k;

    out->type = SL__CQ_BOOL;
    for (k = 0; k < n->n; k++) {
        c->res->scratch_used = mark; /* the last operand is done with */
        sl__cesql_eval_node(c, n->kids[k], &v);
        if (c->stop)
            return;
        if (v.missing) {
            out->b = k + 1 < n->n ? neg : neg_prev;
            return;
        }
        sl__cesql_cast(c, n->kids[k], &v, SL__CQ_BOOL);
        if (c->stop)
            return;
        if (k + 1 == n->n) {
            out->b = neg != v.b;
            return;
        }
        neg_prev = neg;
        switch (n->ops[k]) {
        case SL__CQ_OP_AND:
            if (!v.b) {
                out->b = neg;
                return;
            }
            break;
        case SL__CQ_OP_OR:
            if (v.b) {
                out->b = !neg;
                return;
            }
            break;
        default: /* XOR */
            neg = neg != v.b;
            break;
        }
    }
}

static void eval_call(struct sl__cesql_ctx *c, const struct sl__cesql_node *n,
                      struct sl__cesql_val *out)
{
    const struct sl__cesql_func *f = n->fn;
    struct sl__cesql_val a[SL__CQ_MAX_FIXED_ARGS];
    uint32_t k;

    if (f == NULL) {
        sl__cesql_error(c, SL_CESQL_ERR_MISSING_FUNCTION, n,
                        "no function %.*s taking %u argument%s",
                        (int)(n->nlen > 40 ? 40 : n->nlen), n->name,
                        (unsigned)n->n, n->n == 1 ? "" : "s");
        out->type = SL__CQ_BOOL;
        return;
    }
    sl__cesql_zero(out, f->ret);
    if (f->raw) {
        f->call(c, n, NULL, out);
        return;
    }
    for (k = 0; k < n->n; k++)
        if (!sl__cesql_arg(c, n, k, f->param[k], &a[k], out))
            return;
    f->call(c, n, a, out);
}

bool sl__cesql_arg(struct sl__cesql_ctx *c, const struct sl__cesql_node *call,
                   uint32_t i, uint8_t type, struct sl__cesql_val *v,
                   struct sl__cesql_val *out)
{
    sl__cesql_eval_node(c, call->kids[i], v);
    if (c->stop)
        return false;
    if (v->missing) {
        sl__cesql_zero(out, call->type);
        return false;
    }
    sl__cesql_cast(c, call->kids[i], v, type);
    return !c->stop;
}

void sl__cesql_eval_node(struct sl__cesql_ctx *c,
                         const struct sl__cesql_node *n,
                         struct sl__cesql_val *out)
{
    struct sl_cesql_result *r = c->res;
    size_t mark = r->scratch_used;
    struct sl__cesql_val v;

    sl__cesql_zero(out, n->type);
    switch (n->kind) {
    case SL__CQ_LIT:
        *out = n->lit;
        return;
    case SL__CQ_ATTR:
        eval_attr(c, n, out);
        return;
    case SL__CQ_EXISTS:
        out->b = sl_event_get(c->ev, n->name) != NULL;
        return;
    case SL__CQ_NOT:
    case SL__CQ_NEG:
        sl__cesql_eval_node(c, n->kids[0], &v);
        if (c->stop || v.missing)
            break;
        sl__cesql_cast(c, n->kids[0], &v, n->type);
        if (n->kind == SL__CQ_NOT)
            out->b = !v.b;
        else
            out->i = (int32_t)(0u - (uint32_t)v.i);
        break;
    case SL__CQ_ARITH:
        eval_arith(c, n, out);
        break;
    case SL__CQ_CMP:
        eval_cmp(c, n, out);
        break;
    case SL__CQ_LIKE:
        sl__cesql_eval_node(c, n->kids[0], &v);
        if (c->stop || v.missing)
            break;
        sl__cesql_cast(c, n->kids[0], &v, SL__CQ_STRING);
        out->b = sl__cesql_like(v.s, v.n, n->pat, n->plen) != n->neg;
        break;
    case SL__CQ_IN:
        eval_in(c, n, out);
        break;
    case SL__CQ_LOGIC:
        eval_logic(c, n, out);
        break;
    default: /* SL__CQ_CALL */
        eval_call(c, n, out);
        break;
    }
    /* Keep only this node's value in scratch, moved down to 'mark'. */
    if (out->type == SL__CQ_STRING && sl__cesql_in_scratch(r, out->s)) {
        size_t off = (size_t)((uintptr_t)out->s - (uintptr_t)r->scratch);
        if (off != mark)
            memmove(r->scratch + mark, out->s, out->n);
        out->s = r->scratch + mark;
        r->scratch_used = mark + out->n;
    } else {
        r->scratch_used = mark;
    }
}

/* ---- the API ---- */

static void eval_run(const struct sl_cesql *q, const struct sl_event *ev,
                     bool fail_fast, bool want_msg, struct sl_cesql_result *res)
{
    const struct sl__cesql_node *root = sl__cesql_root(q);
    struct sl__cesql_ctx c;
    struct sl__cesql_val v;

    c.ev = ev;
    c.res = res;
    c.fail_fast = fail_fast;
    c.want_msg = want_msg;
    c.stop = false;
    res->err = SL_CESQL_ERR_NONE;
    res->msg[0] = '\0';
    res->scratch_used = 0;
    sl__cesql_eval_node(&c, root, &v);
    if (fail_fast && res->err != SL_CESQL_ERR_NONE)
        sl__cesql_zero(&v, root->type);
    res->type = (enum sl_cesql_type)v.type;
    res->b = v.type == SL__CQ_BOOL && v.b;
    res->i = v.type == SL__CQ_INT ? v.i : 0;
    res->s = v.type == SL__CQ_STRING ? v.s : NULL;
    res->slen = v.type == SL__CQ_STRING ? v.n : 0;
}

void sl_cesql_eval(const struct sl_cesql *q, const struct sl_event *ev,
                   bool fail_fast, struct sl_cesql_result *res)
{
    eval_run(q, ev, fail_fast, true, res);
}

bool sl_cesql_match(const struct sl_cesql *q, const struct sl_event *ev)
{
    struct sl_cesql_result res;

    eval_run(q, ev, true, false, &res);
    return res.err == SL_CESQL_ERR_NONE && res.type == SL_CESQL_BOOL && res.b;
}

const char *sl_cesql_err_name(enum sl_cesql_err e)
{
    switch (e) {
    case SL_CESQL_ERR_PARSE:
        return "ParseError";
    case SL_CESQL_ERR_MATH:
        return "MathError";
    case SL_CESQL_ERR_CAST:
        return "CastError";
    case SL_CESQL_ERR_MISSING_ATTRIBUTE:
        return "MissingAttributeError";
    case SL_CESQL_ERR_MISSING_FUNCTION:
        return "MissingFunctionError";
    case SL_CESQL_ERR_FUNCTION_EVALUATION:
        return "FunctionEvaluationError";
    case SL_CESQL_ERR_GENERIC:
        return "GenericError";
    default:
        return "";
    }
}

const char *sl_cesql_type_name(enum sl_cesql_type t)
{
    switch (t) {
    case SL_CESQL_BOOL:
        return "Boolean";
    case SL_CESQL_INT:
        return "Integer";
    default:
        return "String";
    }
}
