/*
 * triggers/cesql_func.c - the built-in CESQL functions (spec section 3.5,
 * reference cloudevents.md 6.7).
 *
 * LENGTH CONCAT CONCAT_WS LOWER UPPER TRIM LEFT RIGHT SUBSTRING ABS, the
 * explicit casts INT BOOL STRING, and two extensions outside CESQL v1
 * that sdk-go (and so Knative's Go broker) still provides: IS_INT and
 * IS_BOOL, true when the argument can be cast without an error.
 *
 * Lengths and positions count Unicode characters, not bytes. Results that
 * are a part of an argument (LEFT, RIGHT, SUBSTRING, TRIM) are views of
 * it; new text (LOWER, UPPER, CONCAT, CONCAT_WS) goes into the
 * evaluation's scratch space.
 */
#include "triggers/cesql_internal.h"

#include <string.h>

typedef struct sl__cesql_ctx ctx_t;
typedef struct sl__cesql_node node_t;
typedef struct sl__cesql_val val_t;

/* A view s[off..off+len) of string value 'v' into '*out'. */
static void fn_view(const val_t *v, size_t off, size_t len, val_t *out)
{
    out->type = SL__CQ_STRING;
    out->s = v->s + off;
    out->n = len;
}

static void fn_length(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    (void)c;
    (void)call;
    out->i = (int32_t)sl__cesql_utf8_len(a[0].s, a[0].n);
}

/*
 * CONCAT(x...) and CONCAT_WS(d, x...): every argument is evaluated in
 * turn and appended at 'base', the end of the scratch space in use when
 * the first one started; an argument's own scratch use begins after what
 * was appended so far, so its value can be moved into place.
 */
static void fn_concat_any(ctx_t *c, const node_t *call, bool ws, val_t *out)
{
    struct sl_cesql_result *r = c->res;
    val_t d, v;
    size_t base, len = 0, need, dl;
    uint32_t k = 0;
    char *dst;

    sl__cesql_zero(&d, SL__CQ_STRING);
    if (ws) {
        if (!sl__cesql_arg(c, call, 0, SL__CQ_STRING, &d, out))
            return;
        k = 1;
    }
    base = r->scratch_used;
    for (; k < call->n; k++) {
        if (!sl__cesql_arg(c, call, k, SL__CQ_STRING, &v, out))
            return;
        dl = ws && len > 0 ? d.n : 0;
        need = dl + v.n;
        /* The value sits in the event, the tree, or scratch at/after
         * base + len; make room and move it behind the delimiter. */
        r->scratch_used = base + len;
        if ((dst = sl__cesql_scratch(c, call, need)) == NULL) {
            sl__cesql_zero(out, SL__CQ_STRING);
            return;
        }
        memmove(dst + dl, v.s, v.n);
        if (dl > 0)
            memcpy(dst, d.s, dl);
        len += need;
    }
    out->type = SL__CQ_STRING;
    out->s = len > 0 ? r->scratch + base : "";
    out->n = len;
}

static void fn_concat(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    (void)a;
    fn_concat_any(c, call, false, out);
}

static void fn_concat_ws(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    (void)a;
    fn_concat_any(c, call, true, out);
}

static void fn_case(ctx_t *c, const node_t *call, val_t *a, val_t *out,
                    bool upper)
{
    char *p;
    size_t n;

    if (a[0].n == 0)
        return; /* "" */
    /* Text this evaluation built (LOWER(UPPER(x)), casts) is ours to
     * overwrite: map it in place instead of taking more space. */
    if (sl__cesql_in_scratch(c->res, a[0].s))
        p = c->res->scratch + (a[0].s - c->res->scratch);
    else if ((p = sl__cesql_scratch(c, call, a[0].n)) == NULL)
        return; /* "" and a GenericError */
    n = sl__cesql_case_map(a[0].s, a[0].n, upper, p, a[0].n);
    if (n == (size_t)-1) {
        sl__cesql_error(c, SL_CESQL_ERR_GENERIC, call,
                        "case mapping changed the length of the text");
        return;
    }
    out->s = p;
    out->n = n;
}

static void fn_lower(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    fn_case(c, call, a, out, false);
}

static void fn_upper(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    fn_case(c, call, a, out, true);
}

static void fn_trim(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    size_t lead = sl__cesql_space_lead(a[0].s, a[0].n), trail;

    (void)c;
    (void)call;
    trail = sl__cesql_space_trail(a[0].s + lead, a[0].n - lead);
    fn_view(&a[0], lead, a[0].n - lead - trail, out);
}

/* LEFT and RIGHT: a negative length returns x and an error. */
static void fn_side(ctx_t *c, const node_t *call, val_t *a, val_t *out,
                    bool right)
{
    size_t len, off;

    if (a[1].i < 0) {
        sl__cesql_error(c, SL_CESQL_ERR_FUNCTION_EVALUATION, call,
                        "%s: negative length %d", right ? "RIGHT" : "LEFT",
                        (int)a[1].i);
        *out = a[0];
        return;
    }
    if (!right) {
        fn_view(&a[0], 0, sl__cesql_utf8_off(a[0].s, a[0].n, (size_t)a[1].i),
                out);
        return;
    }
    len = sl__cesql_utf8_len(a[0].s, a[0].n);
    off = (size_t)a[1].i >= len
              ? 0
              : sl__cesql_utf8_off(a[0].s, a[0].n, len - (size_t)a[1].i);
    fn_view(&a[0], off, a[0].n - off, out);
}

static void fn_left(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    fn_side(c, call, a, out, false);
}

static void fn_right(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    fn_side(c, call, a, out, true);
}

/*
 * SUBSTRING(x, pos [, len]): pos is 1-based, negative counts from the
 * end, 0 gives "". |pos| beyond the length or a negative len give "" and
 * a FunctionEvaluationError; a len past the end is cut.
 */
static void fn_substring(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    int64_t len = (int64_t)sl__cesql_utf8_len(a[0].s, a[0].n);
    int64_t pos = a[1].i, start, count;
    size_t b0, b1;

    if (call->n == 3 && a[2].i < 0) {
        sl__cesql_error(c, SL_CESQL_ERR_FUNCTION_EVALUATION, call,
                        "SUBSTRING: negative length %d", (int)a[2].i);
        return;
    }
    if (pos > len || pos < -len) {
        sl__cesql_error(c, SL_CESQL_ERR_FUNCTION_EVALUATION, call,
                        "SUBSTRING: position %lld is out of range for %lld "
                        "characters",
                        (long long)pos, (long long)len);
        return;
    }
    if (pos == 0)
        return;
    start = pos > 0 ? pos - 1 : len + pos;
    count = len - start;
    if (call->n == 3 && a[2].i < count)
        count = a[2].i;
    b0 = sl__cesql_utf8_off(a[0].s, a[0].n, (size_t)start);
    b1 = b0 + sl__cesql_utf8_off(a[0].s + b0, a[0].n - b0, (size_t)count);
    fn_view(&a[0], b0, b1 - b0, out);
}

static void fn_abs(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    if (a[0].i == INT32_MIN) {
        sl__cesql_error(c, SL_CESQL_ERR_MATH, call,
                        "ABS(-2147483648) does not fit in 32 bits");
        out->i = INT32_MAX;
        return;
    }
    out->i = a[0].i < 0 ? -a[0].i : a[0].i;
}

/* INT, BOOL, STRING: the argument (not cast implicitly) cast to ret. */
static void fn_cast(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    *out = a[0];
    sl__cesql_cast(c, call->kids[0], out, call->fn->ret);
}

static void fn_is_int(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    (void)c;
    (void)call;
    out->b = sl__cesql_castable(&a[0], SL__CQ_INT);
}

static void fn_is_bool(ctx_t *c, const node_t *call, val_t *a, val_t *out)
{
    (void)c;
    (void)call;
    out->b = sl__cesql_castable(&a[0], SL__CQ_BOOL);
}

#define S SL__CQ_STRING
#define I SL__CQ_INT
#define B SL__CQ_BOOL
#define A SL__CQ_ANY

static const struct sl__cesql_func fn_table[] = {
    { "LENGTH", 1, 1, I, { S }, false, fn_length },
    { "CONCAT", 0, -1, S, { S }, true, fn_concat },
    { "CONCAT_WS", 1, -1, S, { S }, true, fn_concat_ws },
    { "LOWER", 1, 1, S, { S }, false, fn_lower },
    { "UPPER", 1, 1, S, { S }, false, fn_upper },
    { "TRIM", 1, 1, S, { S }, false, fn_trim },
    { "LEFT", 2, 2, S, { S, I }, false, fn_left },
    { "RIGHT", 2, 2, S, { S, I }, false, fn_right },
    { "SUBSTRING", 2, 3, S, { S, I, I }, false, fn_substring },
    { "ABS", 1, 1, I, { I }, false, fn_abs },
    { "INT", 1, 1, I, { A }, false, fn_cast },
    { "BOOL", 1, 1, B, { A }, false, fn_cast },
    { "STRING", 1, 1, S, { A }, false, fn_cast },
    { "IS_INT", 1, 1, B, { A }, false, fn_is_int },
    { "IS_BOOL", 1, 1, B, { A }, false, fn_is_bool },
};

#undef S
#undef I
#undef B
#undef A

const struct sl__cesql_func *sl__cesql_func_find(const char *name, size_t n,
                                                 size_t nargs)
{
    size_t k, j;

    for (k = 0; k < sizeof(fn_table) / sizeof(fn_table[0]); k++) {
        const struct sl__cesql_func *f = &fn_table[k];
        if (strlen(f->name) != n)
            continue;
        for (j = 0; j < n; j++)
            if ((name[j] >= 'a' && name[j] <= 'z' ? name[j] - 32 : name[j]) !=
                f->name[j])
                break;
        if (j < n)
            continue;
        if (nargs < (size_t)f->min || (f->max >= 0 && nargs > (size_t)f->max))
            return NULL;
        return f;
    }
    return NULL;
}
