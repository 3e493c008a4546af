/*
 * triggers/cesql_parse.c - the CESQL parser: tokens to a tree of nodes.
 *
 * Precedence climbing over the grammar of CESQLParser.g4, whose order of
 * alternatives is the precedence (high to low):
 *
 *   function call, NOT x, -x, x [NOT] LIKE 'p', EXISTS a, x [NOT] IN (..),
 *   * / %, + -, = != <> < <= > >=, AND OR XOR, ( x ), literal, attribute
 *
 * As in ANTLR's left-recursion rewrite, a unary operator's operand is a
 * primary (so NOT a = b is (NOT a) = b), binary operators are
 * left-associative, and AND/OR/XOR share one right-associative level: a
 * chain "a op b op c" means a op (b op c). Chains of them become one
 * LOGIC node whose evaluation is a loop, so long OR lists cost no depth.
 *
 * Every node lives in the expression's arena: compiling allocates a few
 * blocks, freeing releases them without walking the tree.
 */
#include "triggers/cesql_internal.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/utf8.h"

/* ---- the arena ---- */

struct cq_block {
    struct cq_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct sl_cesql {
    struct cq_block *blocks;
    struct sl__cesql_node *root;
};

#define CQ_BLOCK_MIN 2048

static void *cq_alloc(struct sl_cesql *q, size_t n)
{
    struct cq_block *b = q->blocks;
    size_t a = alignof(max_align_t);
    void *p;

    n = (n + a - 1) / a * a;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > CQ_BLOCK_MIN ? n : CQ_BLOCK_MIN;
        b = sl_xmalloc(sizeof(*b) + cap);
        b->next = q->blocks;
        b->used = 0;
        b->cap = cap;
        q->blocks = b;
    }
    p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void sl_cesql_free(struct sl_cesql *q)
{
    struct cq_block *b, *next;

    if (q == NULL)
        return;
    for (b = q->blocks; b != NULL; b = next) {
        next = b->next;
        sl_free(b);
    }
    sl_free(q);
}

/* ---- the parser ---- */

/* Binding powers, from CESQLParser.g4's order of alternatives. */
enum {
    PREC_LOGIC = 3,
    PREC_CMP = 4,
    PREC_ADD = 5,
    PREC_MUL = 6,
    PREC_IN = 7,
    PREC_LIKE = 9,
    PREC_NEG = 10,
    PREC_NOT = 11,
};

struct parser {
    struct sl_cesql *q;
    struct sl__cesql_lexer lx;
    struct sl__cesql_tok tok; /* the current token */
    unsigned depth;
    struct sl_diag *d;
    bool failed;
};

/* A growable list of node pointers while a list is being parsed. */
struct nodevec {
    struct sl__cesql_node **v;
    uint8_t *ops;
    size_t n, cap;
};

static void vec_push(struct nodevec *vec, struct sl__cesql_node *x, uint8_t op)
{
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 8;
        vec->v = sl_xrealloc(vec->v, vec->cap * sizeof(*vec->v));
        vec->ops = sl_xrealloc(vec->ops, vec->cap);
    }
    vec->v[vec->n] = x;
    vec->ops[vec->n] = op;
    vec->n++;
}

static void vec_fini(struct nodevec *vec)
{
    sl_free(vec->v);
    sl_free(vec->ops);
}

__attribute__((format(printf, 3, 4))) static struct sl__cesql_node *
p_fail(struct parser *ps, uint32_t pos, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX];
    va_list ap;

    if (ps->failed)
        return NULL;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_diag_set(ps->d, SL_EINVAL, NULL, "at position %u: %s", (unsigned)pos,
                msg);
    return NULL;
}

/* What a token is, for "but found ...": at most ~40 bytes of it. */
static const char *p_what(const struct sl__cesql_tok *t, char *buf, size_t n)
{
    size_t len = t->len, cut = 0;

    if (t->kind == SL__CQ_T_EOF)
        return "end of expression";
    while (cut < len && cut < 40)
        cut += sl__cesql_utf8_step(t->p + cut, len - cut);
    if (t->kind == SL__CQ_T_STRING)
        snprintf(buf, n, "string literal %.*s%s", (int)cut, t->p,
                 cut < len ? "..." : "");
    else if (t->kind == SL__CQ_T_INT)
        snprintf(buf, n, "integer %.*s%s", (int)cut, t->p,
                 cut < len ? "..." : "");
    else
        snprintf(buf, n, "'%.*s%s'", (int)cut, t->p, cut < len ? "..." : "");
    return buf;
}

/* Fail with "expected X but found <current token>". */
static struct sl__cesql_node *p_expected(struct parser *ps, const char *what)
{
    char buf[80];

    if (ps->tok.kind == SL__CQ_T_ERROR)
        return p_fail(ps, ps->tok.pos, "%s", ps->lx.err);
    return p_fail(ps, ps->tok.pos, "expected %s but found %s", what,
                  p_what(&ps->tok, buf, sizeof(buf)));
}

static void p_next(struct parser *ps)
{
    sl__cesql_lex_next(&ps->lx, &ps->tok);
}

/* The kind of the token after the current one. */
static enum sl__cesql_tok_kind p_peek(struct parser *ps)
{
    struct sl__cesql_lexer save = ps->lx;
    struct sl__cesql_tok t;

    sl__cesql_lex_next(&save, &t);
    return t.kind;
}

static struct sl__cesql_node *p_node(struct parser *ps, uint8_t kind,
                                     uint8_t type, uint32_t pos)
{
    struct sl__cesql_node *x = cq_alloc(ps->q, sizeof(*x));

    x->kind = kind;
    x->type = type;
    x->pos = pos;
    x->height = 1;
    return x;
}

/* Give 'x' the children v[0..n) (copied into the arena); checks depth. */
static struct sl__cesql_node *p_kids(struct parser *ps,
                                     struct sl__cesql_node *x,
                                     struct sl__cesql_node *const *v, size_t n)
{
    unsigned h = 0;
    size_t i;

    x->n = (uint32_t)n;
    x->kids = cq_alloc(ps->q, (n ? n : 1) * sizeof(*x->kids));
    for (i = 0; i < n; i++) {
        x->kids[i] = v[i];
        if (v[i]->height > h)
            h = v[i]->height;
    }
    if (h + 1 > SL_CESQL_MAX_DEPTH)
        return p_fail(ps, x->pos,
                      "expression nested too deeply (more than %d levels)",
                      SL_CESQL_MAX_DEPTH);
    x->height = (uint16_t)(h + 1);
    return x;
}

static struct sl__cesql_node *p_binary(struct parser *ps, uint8_t kind,
                                       uint8_t op, uint8_t type, uint32_t pos,
                                       struct sl__cesql_node *l,
                                       struct sl__cesql_node *r)
{
    struct sl__cesql_node *v[2] = { l, r };
    struct sl__cesql_node *x = p_node(ps, kind, type, pos);

    x->op = op;
    return p_kids(ps, x, v, 2);
}

static struct sl__cesql_node *p_expr(struct parser *ps, int minprec);

/* An integer literal of value 'v' (already negated) at 'pos'. */
static struct sl__cesql_node *p_int(struct parser *ps, int64_t v, uint32_t pos,
                                    const struct sl__cesql_tok *t)
{
    struct sl__cesql_node *x;

    if (v > INT32_MAX || v < INT32_MIN)
        return p_fail(ps, pos,
                      "integer literal %s%.*s is out of range (32-bit signed)",
                      v < 0 ? "-" : "", (int)(t->len > 40 ? 40 : t->len), t->p);
    x = p_node(ps, SL__CQ_LIT, SL__CQ_INT, pos);
    x->lit.type = SL__CQ_INT;
    x->lit.i = (int32_t)v;
    return x;
}

/* '(' args ')' of a call or an IN set, into 'vec'. */
static bool p_list(struct parser *ps, struct nodevec *vec, bool empty_ok)
{
    struct sl__cesql_node *e;

    if (ps->tok.kind != SL__CQ_T_LPAREN) {
        p_expected(ps, "'('");
        return false;
    }
    p_next(ps);
    if (empty_ok && ps->tok.kind == SL__CQ_T_RPAREN) {
        p_next(ps);
        return true;
    }
    for (;;) {
        if ((e = p_expr(ps, 0)) == NULL)
            return false;
        vec_push(vec, e, 0);
        if (ps->tok.kind == SL__CQ_T_COMMA) {
            p_next(ps);
            continue;
        }
        if (ps->tok.kind == SL__CQ_T_RPAREN) {
            p_next(ps);
            return true;
        }
        p_expected(ps, "',' or ')'");
        return false;
    }
}

static struct sl__cesql_node *p_call(struct parser *ps)
{
    struct sl__cesql_tok name = ps->tok;
    struct nodevec args = { 0 };
    struct sl__cesql_node *x = NULL;
    char *s;
    size_t i;

    p_next(ps);
    if (!p_list(ps, &args, true))
        goto out;
    x = p_node(ps, SL__CQ_CALL, SL__CQ_BOOL, name.pos);
    s = cq_alloc(ps->q, name.len + 1);
    for (i = 0; i < name.len; i++)
        s[i] = (char)(name.p[i] >= 'a' && name.p[i] <= 'z' ? name.p[i] - 32
                                                           : name.p[i]);
    x->name = s;
    x->nlen = name.len;
    x->fn = sl__cesql_func_find(s, name.len, args.n);
    if (x->fn != NULL)
        x->type = x->fn->ret;
    x = p_kids(ps, x, args.v, args.n);
out:
    vec_fini(&args);
    return x;
}

/* A primary: literal, attribute, call, EXISTS, unary operator, ( x ). */
static struct sl__cesql_node *p_primary(struct parser *ps)
{
    struct sl__cesql_tok t = ps->tok;
    struct sl__cesql_node *x, *e;
    char *s;
    size_t i;

    switch (t.kind) {
    case SL__CQ_T_INT:
        p_next(ps);
        return p_int(ps, (int64_t)t.ival, t.pos, &t);
    case SL__CQ_T_MINUS:
    case SL__CQ_T_PLUS:
        p_next(ps);
        if (ps->tok.kind == SL__CQ_T_INT) {
            /* A signed literal, as the grammar's lexer reads -5 and +5. */
            struct sl__cesql_tok lit = ps->tok;
            int64_t v = (int64_t)lit.ival;
            p_next(ps);
            return p_int(ps, t.kind == SL__CQ_T_MINUS ? -v : v, t.pos, &lit);
        }
        if (t.kind == SL__CQ_T_PLUS)
            return p_expected(ps, "an integer after '+'");
        if ((e = p_expr(ps, PREC_NEG)) == NULL)
            return NULL;
        x = p_node(ps, SL__CQ_NEG, SL__CQ_INT, t.pos);
        return p_kids(ps, x, &e, 1);
    case SL__CQ_T_NOT:
        p_next(ps);
        if ((e = p_expr(ps, PREC_NOT)) == NULL)
            return NULL;
        x = p_node(ps, SL__CQ_NOT, SL__CQ_BOOL, t.pos);
        return p_kids(ps, x, &e, 1);
    case SL__CQ_T_TRUE:
    case SL__CQ_T_FALSE:
        p_next(ps);
        x = p_node(ps, SL__CQ_LIT, SL__CQ_BOOL, t.pos);
        x->lit.type = SL__CQ_BOOL;
        x->lit.b = t.kind == SL__CQ_T_TRUE;
        return x;
    case SL__CQ_T_STRING:
        p_next(ps);
        x = p_node(ps, SL__CQ_LIT, SL__CQ_STRING, t.pos);
        s = cq_alloc(ps->q, t.len + 1);
        x->lit.type = SL__CQ_STRING;
        x->lit.n = sl__cesql_unquote(&t, s);
        x->lit.s = s;
        return x;
    case SL__CQ_T_IDENT:
    case SL__CQ_T_EXISTS:
        if (t.kind == SL__CQ_T_EXISTS) {
            p_next(ps);
            if (ps->tok.kind != SL__CQ_T_IDENT)
                return p_expected(ps, "an attribute name after EXISTS");
        }
        x = p_node(ps, t.kind == SL__CQ_T_EXISTS ? SL__CQ_EXISTS : SL__CQ_ATTR,
                   t.kind == SL__CQ_T_EXISTS ? SL__CQ_BOOL : SL__CQ_ANY, t.pos);
        s = cq_alloc(ps->q, ps->tok.len + 1);
        for (i = 0; i < ps->tok.len; i++)
            s[i] = (char)(ps->tok.p[i] >= 'A' && ps->tok.p[i] <= 'Z'
                              ? ps->tok.p[i] + 32
                              : ps->tok.p[i]);
        x->name = s;
        x->nlen = ps->tok.len;
        p_next(ps);
        return x;
    case SL__CQ_T_FUNC:
        return p_call(ps);
    case SL__CQ_T_LPAREN:
        p_next(ps);
        if ((e = p_expr(ps, 0)) == NULL)
            return NULL;
        if (ps->tok.kind != SL__CQ_T_RPAREN)
            return p_expected(ps, "')'");
        p_next(ps);
        return e;
    default:
        return p_expected(ps, "an expression");
    }
}

/* [NOT] LIKE 'pattern' after 'l'; the current token is LIKE or NOT. */
static struct sl__cesql_node *p_like(struct parser *ps,
                                     struct sl__cesql_node *l)
{
    uint32_t pos = ps->tok.pos;
    bool neg = ps->tok.kind == SL__CQ_T_NOT;
    struct sl__cesql_node *x;
    char *s;

    if (neg)
        p_next(ps);
    p_next(ps);
    if (ps->tok.kind != SL__CQ_T_STRING)
        return p_expected(ps, "a string literal after LIKE");
    x = p_node(ps, SL__CQ_LIKE, SL__CQ_BOOL, pos);
    x->neg = neg;
    s = cq_alloc(ps->q, ps->tok.len + 1);
    x->plen = sl__cesql_unquote(&ps->tok, s);
    x->pat = s;
    p_next(ps);
    return p_kids(ps, x, &l, 1);
}

/* [NOT] IN (set) after 'l'; the current token is IN or NOT. */
static struct sl__cesql_node *p_in(struct parser *ps, struct sl__cesql_node *l)
{
    uint32_t pos = ps->tok.pos;
    bool neg = ps->tok.kind == SL__CQ_T_NOT;
    struct nodevec set = { 0 };
    struct sl__cesql_node *x = NULL;

    if (neg)
        p_next(ps);
    p_next(ps);
    vec_push(&set, l, 0);
    if (p_list(ps, &set, false)) {
        x = p_node(ps, SL__CQ_IN, SL__CQ_BOOL, pos);
        x->neg = neg;
        x = p_kids(ps, x, set.v, set.n);
    }
    vec_fini(&set);
    return x;
}

static bool p_logic_op(enum sl__cesql_tok_kind k, uint8_t *op)
{
    switch (k) {
    case SL__CQ_T_AND:
        *op = SL__CQ_OP_AND;
        return true;
    case SL__CQ_T_OR:
        *op = SL__CQ_OP_OR;
        return true;
    case SL__CQ_T_XOR:
        *op = SL__CQ_OP_XOR;
        return true;
    default:
        return false;
    }
}

/* 'l' AND/OR/XOR ... as one LOGIC node; the current token is the first
 * operator. */
static struct sl__cesql_node *p_logic(struct parser *ps,
                                      struct sl__cesql_node *l)
{
    struct nodevec chain = { 0 };
    struct sl__cesql_node *x = NULL, *e;
    uint32_t pos = ps->tok.pos;
    uint8_t op;
    uint8_t *ops;

    vec_push(&chain, l, 0);
    while (p_logic_op(ps->tok.kind, &op)) {
        chain.ops[chain.n - 1] = op;
        p_next(ps);
        if ((e = p_expr(ps, PREC_LOGIC + 1)) == NULL)
            goto out;
        vec_push(&chain, e, 0);
    }
    x = p_node(ps, SL__CQ_LOGIC, SL__CQ_BOOL, pos);
    ops = cq_alloc(ps->q, chain.n);
    memcpy(ops, chain.ops, chain.n);
    x->ops = ops;
    x = p_kids(ps, x, chain.v, chain.n);
out:
    vec_fini(&chain);
    return x;
}

/* An expression whose operators bind at least as tight as 'minprec'. */
static struct sl__cesql_node *p_expr(struct parser *ps, int minprec)
{
    struct sl__cesql_node *l, *r;
    enum sl__cesql_tok_kind k, after;
    uint8_t op, type, kind;
    uint32_t pos;
    int prec;

    if (++ps->depth > SL_CESQL_MAX_DEPTH) {
        l = p_fail(ps, ps->tok.pos,
                   "expression nested too deeply (more than %d levels)",
                   SL_CESQL_MAX_DEPTH);
        goto out;
    }
    if ((l = p_primary(ps)) == NULL)
        goto out;
    for (;;) {
        k = ps->tok.kind;
        pos = ps->tok.pos;
        after = k == SL__CQ_T_NOT ? p_peek(ps) : SL__CQ_T_EOF;
        if (k == SL__CQ_T_LIKE || after == SL__CQ_T_LIKE) {
            if (PREC_LIKE < minprec)
                break;
            l = p_like(ps, l);
        } else if (k == SL__CQ_T_IN || after == SL__CQ_T_IN) {
            if (PREC_IN < minprec)
                break;
            l = p_in(ps, l);
        } else if (p_logic_op(k, &op)) {
            if (PREC_LOGIC < minprec)
                break;
            l = p_logic(ps, l);
        } else {
            switch (k) {
            case SL__CQ_T_STAR:
            case SL__CQ_T_SLASH:
            case SL__CQ_T_PERCENT:
                prec = PREC_MUL;
                kind = SL__CQ_ARITH;
                type = SL__CQ_INT;
                op = k == SL__CQ_T_STAR    ? SL__CQ_OP_MUL
                     : k == SL__CQ_T_SLASH ? SL__CQ_OP_DIV
                                           : SL__CQ_OP_MOD;
                break;
            case SL__CQ_T_PLUS:
            case SL__CQ_T_MINUS:
                prec = PREC_ADD;
                kind = SL__CQ_ARITH;
                type = SL__CQ_INT;
                op = k == SL__CQ_T_PLUS ? SL__CQ_OP_ADD : SL__CQ_OP_SUB;
                break;
            case SL__CQ_T_EQ:
            case SL__CQ_T_NE:
            case SL__CQ_T_LTGT:
            case SL__CQ_T_LT:
            case SL__CQ_T_LE:
            case SL__CQ_T_GT:
            case SL__CQ_T_GE:
                prec = PREC_CMP;
                kind = SL__CQ_CMP;
                type = SL__CQ_BOOL;
                op = k == SL__CQ_T_EQ   ? SL__CQ_OP_EQ
                     : k == SL__CQ_T_LT ? SL__CQ_OP_LT
                     : k == SL__CQ_T_LE ? SL__CQ_OP_LE
                     : k == SL__CQ_T_GT ? SL__CQ_OP_GT
                     : k == SL__CQ_T_GE ? SL__CQ_OP_GE
                                        : SL__CQ_OP_NE;
                break;
            default:
                goto out; /* not an operator: the caller decides */
            }
            if (prec < minprec)
                break;
            p_next(ps);
            if ((r = p_expr(ps, prec + 1)) == NULL) {
                l = NULL;
                goto out;
            }
            l = p_binary(ps, kind, op, type, pos, l, r);
        }
        if (l == NULL)
            goto out;
    }
out:
    ps->depth--;
    return l;
}

int sl_cesql_compile(const char *expr, struct sl_cesql **out, struct sl_diag *d)
{
    struct parser ps;
    size_t n = strlen(expr), bad;
    struct sl_cesql *q;

    *out = NULL;
    if (!sl_utf8_valid(expr, n, &bad))
        return sl_diag_set(d, SL_EINVAL, NULL, "at position %u: invalid UTF-8",
                           (unsigned)(sl__cesql_utf8_len(expr, bad) + 1));
    q = sl_xcalloc(1, sizeof(*q));
    memset(&ps, 0, sizeof(ps));
    ps.q = q;
    ps.d = d;
    sl__cesql_lex_init(&ps.lx, expr, n);
    p_next(&ps);
    q->root = p_expr(&ps, 0);
    if (q->root != NULL && ps.tok.kind != SL__CQ_T_EOF) {
        if (ps.tok.kind == SL__CQ_T_NOT) {
            p_next(&ps);
            p_expected(&ps, "LIKE or IN after NOT");
        } else {
            p_expected(&ps, "an operator or the end of the expression");
        }
        q->root = NULL;
    }
    if (q->root == NULL) {
        sl_cesql_free(q);
        return SL_EINVAL;
    }
    *out = q;
    return 0;
}

const struct sl__cesql_node *sl__cesql_root(const struct sl_cesql *q)
{
    return q->root;
}

/* Depth-first, left to right: the order the attributes are written in.
 * The recursion is bounded by the tree's height (SL_CESQL_MAX_DEPTH). */
static void cq_attrs(const struct sl__cesql_node *n, sl_cesql_attr_fn *fn,
                     void *arg)
{
    if (n->kind == SL__CQ_ATTR || n->kind == SL__CQ_EXISTS) {
        fn(arg, n->name, n->nlen);
        return;
    }
    for (uint32_t i = 0; i < n->n; i++)
        cq_attrs(n->kids[i], fn, arg);
}

void sl_cesql_attrs(const struct sl_cesql *q, sl_cesql_attr_fn *fn, void *arg)
{
    cq_attrs(sl__cesql_root(q), fn, arg);
}
