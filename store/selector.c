/*
 * store/selector.c - Kubernetes label selectors: parse and match.
 *
 * A small hand-written lexer and recursive-descent parser after the
 * grammar of k8s.io/apimachinery/pkg/labels (selector.go): identifiers are
 * runs of anything that is neither white space nor one of "!=(),<>"; the
 * words "in" and "notin" are keywords where an operator may stand and
 * plain identifiers where a value may stand. Equality operators are stored
 * as one-value sets, so matching knows only in/notin/exists/!exists.
 */
#include "store/selector.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"

enum sel_op { SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOT_EXISTS };

struct sel_req {
    char *key;
    enum sel_op op;
    char **values;
    size_t nvalues;
};

struct sl_selector {
    struct sel_req *reqs;
    size_t n;
    size_t cap;
};

/* ---- lexer ---- */

enum sel_tok {
    TOK_END,
    TOK_IDENT,
    TOK_NOT,   /* ! */
    TOK_EQ,    /* = or == */
    TOK_NEQ,   /* != */
    TOK_LPAR,  /* ( */
    TOK_RPAR,  /* ) */
    TOK_COMMA, /* , */
    TOK_IN,    /* in */
    TOK_NOTIN, /* notin */
    TOK_CMP,   /* < or > (unsupported) */
};

struct sel_lex {
    const char *s;
    size_t len;
    size_t pos; /* next byte to read */
    /* The token last read: */
    enum sel_tok tok;
    size_t start; /* its first byte */
    size_t tlen;  /* its length */
};

static bool sel_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static bool sel_special(char c)
{
    return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' ||
           c == '<' || c == '>';
}

/*
 * Read the next token. In 'values' context the keywords are identifiers
 * (so `a=in` has the value "in").
 */
static enum sel_tok sel_next(struct sel_lex *lx, bool values)
{
    const char *s = lx->s;
    char c;

    while (lx->pos < lx->len && sel_space(s[lx->pos]))
        lx->pos++;
    lx->start = lx->pos;
    lx->tlen = 0;
    if (lx->pos >= lx->len)
        return lx->tok = TOK_END;
    c = s[lx->pos++];
    lx->tlen = 1;
    switch (c) {
    case '!':
        if (lx->pos < lx->len && s[lx->pos] == '=') {
            lx->pos++;
            lx->tlen = 2;
            return lx->tok = TOK_NEQ;
        }
        return lx->tok = TOK_NOT;
    case '=':
        if (lx->pos < lx->len && s[lx->pos] == '=') {
            lx->pos++;
            lx->tlen = 2;
        }
        return lx->tok = TOK_EQ;
    case '(':
        return lx->tok = TOK_LPAR;
    case ')':
        return lx->tok = TOK_RPAR;
    case ',':
        return lx->tok = TOK_COMMA;
    case '<':
    case '>':
        return lx->tok = TOK_CMP;
    default:
        break;
    }
    while (lx->pos < lx->len && !sel_space(s[lx->pos]) &&
           !sel_special(s[lx->pos]))
        lx->pos++;
    lx->tlen = lx->pos - lx->start;
    if (!values && lx->tlen == 2 && memcmp(s + lx->start, "in", 2) == 0)
        return lx->tok = TOK_IN;
    if (!values && lx->tlen == 5 && memcmp(s + lx->start, "notin", 5) == 0)
        return lx->tok = TOK_NOTIN;
    return lx->tok = TOK_IDENT;
}

/* Look at the next token without consuming it. */
static enum sel_tok sel_peek(struct sel_lex *lx, bool values)
{
    struct sel_lex save = *lx;
    enum sel_tok t = sel_next(lx, values);

    *lx = save;
    return t;
}

/* Fail at the current token: "position N: <msg>, found '<token>'". */
static int sel_fail(const struct sel_lex *lx, struct sl_diag *d,
                    const char *what)
{
    char field[32];
    int n = lx->tlen > 40 ? 40 : (int)lx->tlen;

    snprintf(field, sizeof(field), "position %zu", lx->start + 1);
    if (lx->tok == TOK_END)
        return sl_diag_set(d, SL_EINVAL, field,
                           "position %zu: %s, found end of selector",
                           lx->start + 1, what);
    return sl_diag_set(d, SL_EINVAL, field, "position %zu: %s, found '%.*s'",
                       lx->start + 1, what, n, lx->s + lx->start);
}

/* ---- label key and value syntax ---- */

static bool sel_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* A label name or value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?. */
static bool sel_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 63 || !sel_alnum(s[0]) || !sel_alnum(s[n - 1]))
        return false;
    for (i = 1; i + 1 < n; i++)
        if (!sel_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* A DNS-1123 subdomain: lower-case alphanumerics, '-' and '.', <= 253. */
static bool sel_subdomain_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 253)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!an && c != '-' && c != '.')
            return false;
        if ((i == 0 || i == n - 1) && !an)
            return false;
    }
    return true;
}

static int sel_check_key(const struct sel_lex *lx, struct sl_diag *d)
{
    const char *k = lx->s + lx->start;
    const char *slash = memchr(k, '/', lx->tlen);
    char field[32];

    if (slash == NULL
            ? sel_name_ok(k, lx->tlen)
            : sel_subdomain_ok(k, (size_t)(slash - k)) &&
                  sel_name_ok(slash + 1, lx->tlen - (size_t)(slash - k) - 1))
        return 0;
    snprintf(field, sizeof(field), "position %zu", lx->start + 1);
    return sl_diag_set(
        d, SL_EINVAL, field,
        "position %zu: invalid label key '%.*s': a key is an optional DNS "
        "subdomain prefix and '/', then 1-63 characters of [A-Za-z0-9-_.] "
        "starting and ending with an alphanumeric character",
        lx->start + 1, lx->tlen > 80 ? 80 : (int)lx->tlen, k);
}

static int sel_check_value(const struct sel_lex *lx, struct sl_diag *d)
{
    const char *v = lx->s + lx->start;
    char field[32];

    if (sel_name_ok(v, lx->tlen))
        return 0;
    snprintf(field, sizeof(field), "position %zu", lx->start + 1);
    return sl_diag_set(d, SL_EINVAL, field,
                       "position %zu: invalid label value '%.*s': at most 63 "
                       "characters of [A-Za-z0-9-_.] starting and ending "
                       "with an alphanumeric character",
                       lx->start + 1, lx->tlen > 80 ? 80 : (int)lx->tlen, v);
}

/* ---- parser ---- */

static void sel_req_fini(struct sel_req *r)
{
    size_t i;

    for (i = 0; i < r->nvalues; i++)
        sl_free(r->values[i]);
    sl_free(r->values);
    sl_free(r->key);
}

static void sel_add_value(struct sel_req *r, const char *s, size_t n)
{
    r->values = sl_xrealloc(r->values, (r->nvalues + 1) * sizeof(char *));
    r->values[r->nvalues++] = sl_xstrndup(s, n);
}

/* Parse the values of `in`/`notin` after '(' up to and including ')'. */
static int sel_parse_set(struct sel_lex *lx, struct sel_req *r,
                         struct sl_diag *d)
{
    int rc;

    if (sel_next(lx, false) != TOK_LPAR)
        return sel_fail(lx, d, "expected '(' after 'in' or 'notin'");
    if (sel_peek(lx, true) == TOK_RPAR) {
        sel_next(lx, true);
        return sel_fail(lx, d, "expected at least one value in the set");
    }
    for (;;) {
        /* One item: a value, or nothing (an empty value) before ',' / ')'. */
        if (sel_next(lx, true) == TOK_IDENT) {
            if ((rc = sel_check_value(lx, d)) < 0)
                return rc;
            sel_add_value(r, lx->s + lx->start, lx->tlen);
            sel_next(lx, true);
        } else {
            sel_add_value(r, "", 0);
        }
        if (lx->tok == TOK_COMMA)
            continue;
        if (lx->tok == TOK_RPAR)
            return 0;
        return sel_fail(lx, d, "expected ',' or ')' in the value set");
    }
}

/* Parse one requirement into 'r' (zeroed by the caller). */
static int sel_parse_req(struct sel_lex *lx, struct sel_req *r,
                         struct sl_diag *d)
{
    enum sel_tok t = sel_next(lx, false);
    int rc;

    if (t == TOK_NOT) {
        if (sel_next(lx, false) != TOK_IDENT)
            return sel_fail(lx, d, "expected a label key after '!'");
        if ((rc = sel_check_key(lx, d)) < 0)
            return rc;
        r->key = sl_xstrndup(lx->s + lx->start, lx->tlen);
        r->op = SEL_NOT_EXISTS;
        return 0;
    }
    if (t != TOK_IDENT)
        return sel_fail(lx, d, "expected a label key");
    if ((rc = sel_check_key(lx, d)) < 0)
        return rc;
    r->key = sl_xstrndup(lx->s + lx->start, lx->tlen);
    switch (sel_peek(lx, false)) {
    case TOK_END:
    case TOK_COMMA:
        r->op = SEL_EXISTS;
        return 0;
    case TOK_EQ:
    case TOK_NEQ:
        r->op = sel_next(lx, false) == TOK_EQ ? SEL_IN : SEL_NOTIN;
        t = sel_peek(lx, true);
        if (t == TOK_END || t == TOK_COMMA) {
            sel_add_value(r, "", 0);
            return 0;
        }
        if (sel_next(lx, true) != TOK_IDENT)
            return sel_fail(lx, d, "expected a label value");
        if ((rc = sel_check_value(lx, d)) < 0)
            return rc;
        sel_add_value(r, lx->s + lx->start, lx->tlen);
        return 0;
    case TOK_IN:
    case TOK_NOTIN:
        r->op = sel_next(lx, false) == TOK_IN ? SEL_IN : SEL_NOTIN;
        return sel_parse_set(lx, r, d);
    case TOK_CMP:
        sel_next(lx, false);
        return sel_fail(lx, d, "the operators '<' and '>' are not supported");
    default:
        sel_next(lx, false);
        return sel_fail(lx, d,
                        "expected '=', '==', '!=', 'in', 'notin', ',' or end "
                        "of selector after a label key");
    }
}

int sl_selector_parse(const char *s, struct sl_selector **out,
                      struct sl_diag *d)
{
    struct sl_selector *sel = sl_xcalloc(1, sizeof(*sel));
    struct sel_lex lx = { 0 };
    int rc = 0;

    *out = NULL;
    lx.s = s != NULL ? s : "";
    lx.len = strlen(lx.s);
    if (lx.len > SL_SELECTOR_MAX_LEN) {
        rc = sl_diag_set(d, SL_ETOOBIG, "",
                         "label selector is %zu bytes, more than %d", lx.len,
                         SL_SELECTOR_MAX_LEN);
        goto out;
    }
    if (sel_peek(&lx, false) == TOK_END)
        goto out;
    for (;;) {
        if (sel->n == sel->cap) {
            sel->cap = sel->cap ? sel->cap * 2 : 4;
            sel->reqs = sl_xrealloc(sel->reqs, sel->cap * sizeof(*sel->reqs));
        }
        memset(&sel->reqs[sel->n], 0, sizeof(sel->reqs[0]));
        /* Count it before parsing so a half-built one is freed on error. */
        sel->n++;
        if ((rc = sel_parse_req(&lx, &sel->reqs[sel->n - 1], d)) < 0)
            goto out;
        sel_next(&lx, false);
        if (lx.tok == TOK_END)
            break;
        if (lx.tok != TOK_COMMA) {
            rc = sel_fail(&lx, d, "expected ',' or end of selector");
            goto out;
        }
    }
out:
    if (rc < 0) {
        sl_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

void sl_selector_free(struct sl_selector *sel)
{
    size_t i;

    if (sel == NULL)
        return;
    for (i = 0; i < sel->n; i++)
        sel_req_fini(&sel->reqs[i]);
    sl_free(sel->reqs);
    sl_free(sel);
}

bool sl_selector_empty(const struct sl_selector *sel)
{
    return sel == NULL || sel->n == 0;
}

/* ---- matching ---- */

bool sl_selector_match(const struct sl_selector *sel,
                       struct json_object *labels)
{
    size_t i, j;

    if (sel == NULL)
        return true;
    if (labels != NULL && !json_object_is_type(labels, json_type_object))
        labels = NULL;
    for (i = 0; i < sel->n; i++) {
        const struct sel_req *r = &sel->reqs[i];
        struct json_object *v = NULL;
        const char *val = NULL;
        bool in = false;

        if (labels != NULL && json_object_object_get_ex(labels, r->key, &v) &&
            json_object_is_type(v, json_type_string))
            val = json_object_get_string(v);
        switch (r->op) {
        case SEL_EXISTS:
            if (val == NULL)
                return false;
            break;
        case SEL_NOT_EXISTS:
            if (val != NULL)
                return false;
            break;
        case SEL_IN:
        case SEL_NOTIN:
            for (j = 0; val != NULL && j < r->nvalues; j++)
                if (strcmp(val, r->values[j]) == 0)
                    in = true;
            if ((r->op == SEL_IN) != in)
                return false;
            break;
        }
    }
    return true;
}
