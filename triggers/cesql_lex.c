/*
 * triggers/cesql_lex.c - the CESQL lexer: text to tokens.
 *
 * Rules (reference cloudevents.md 6.2, the grammar's CESQLLexer.g4):
 * white space is space, tab, CR and LF; a word is a run of letters,
 * digits and '_': all digits is an integer literal (the sign is an
 * operator; the parser folds a leading '-' or '+' into the literal so
 * -2147483648 is valid), a keyword in any case is that keyword, a name
 * of letters and '_' directly followed (after white space) by '(' is a
 * function name, letters and digits make an attribute name. Strings are
 * quoted with ' or " and may contain the other quote; a backslash and
 * the character after it are always taken together (so \' does not end a
 * '...' string).
 */
#include "triggers/cesql_internal.h"

#include <stdio.h>
#include <string.h>

void sl__cesql_lex_init(struct sl__cesql_lexer *lx, const char *s, size_t n)
{
    lx->s = s;
    lx->n = n;
    lx->i = 0;
    lx->cpos = 1;
    lx->err[0] = '\0';
}

/* Advance over k bytes of ASCII (one character each). */
static void lex_skip(struct sl__cesql_lexer *lx, size_t k)
{
    lx->i += k;
    lx->cpos += (uint32_t)k;
}

/* Advance over s[i..to) counting characters. */
static void lex_skip_to(struct sl__cesql_lexer *lx, size_t to)
{
    lx->cpos += (uint32_t)sl__cesql_utf8_len(lx->s + lx->i, to - lx->i);
    lx->i = to;
}

static bool lex_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool lex_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool lex_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const struct {
    const char *word;
    enum sl__cesql_tok_kind kind;
} lex_keywords[] = {
    { "AND", SL__CQ_T_AND },       { "OR", SL__CQ_T_OR },
    { "XOR", SL__CQ_T_XOR },       { "NOT", SL__CQ_T_NOT },
    { "LIKE", SL__CQ_T_LIKE },     { "IN", SL__CQ_T_IN },
    { "EXISTS", SL__CQ_T_EXISTS }, { "TRUE", SL__CQ_T_TRUE },
    { "FALSE", SL__CQ_T_FALSE },
};

/* The keyword spelt p[0..n) in any case, or SL__CQ_T_EOF. */
static enum sl__cesql_tok_kind lex_keyword(const char *p, size_t n)
{
    size_t k, j;

    for (k = 0; k < sizeof(lex_keywords) / sizeof(lex_keywords[0]); k++) {
        const char *w = lex_keywords[k].word;
        if (strlen(w) != n)
            continue;
        for (j = 0; j < n; j++)
            if ((p[j] & ~0x20) != w[j])
                break;
        if (j == n)
            return lex_keywords[k].kind;
    }
    return SL__CQ_T_EOF;
}

/* A word at t->p: integer, keyword, function name or attribute name. */
static void lex_word(struct sl__cesql_lexer *lx, struct sl__cesql_tok *t)
{
    const char *s = lx->s;
    size_t i = lx->i, end = i, j;
    bool digits = true, letters = true, underscore = false;

    while (end < lx->n &&
           (lex_alpha(s[end]) || lex_digit(s[end]) || s[end] == '_')) {
        if (!lex_digit(s[end]))
            digits = false;
        if (lex_digit(s[end]))
            letters = false;
        if (s[end] == '_')
            underscore = true;
        end++;
    }
    t->len = end - i;
    lex_skip(lx, t->len);
    if (digits) {
        t->kind = SL__CQ_T_INT;
        t->ival = 0;
        for (j = i; j < end; j++) {
            t->ival = t->ival * 10 + (uint64_t)(s[j] - '0');
            if (t->ival > ((uint64_t)1 << 32))
                t->ival = ((uint64_t)1 << 32) + 1; /* saturate */
        }
        return;
    }
    if (!underscore && letters &&
        (t->kind = lex_keyword(t->p, t->len)) != SL__CQ_T_EOF)
        return;
    for (j = end; j < lx->n && lex_space(s[j]); j++)
        ;
    if (j < lx->n && s[j] == '(' && letters && lex_alpha(s[i])) {
        t->kind = SL__CQ_T_FUNC;
        return;
    }
    if (underscore) {
        t->kind = SL__CQ_T_ERROR;
        snprintf(lx->err, sizeof(lx->err),
                 "invalid attribute name '%.*s' (attribute names are "
                 "letters and digits)",
                 (int)(t->len > 40 ? 40 : t->len), t->p);
        return;
    }
    t->kind = SL__CQ_T_IDENT;
}

/* A string literal at t->p (its opening quote). */
static void lex_string(struct sl__cesql_lexer *lx, struct sl__cesql_tok *t)
{
    const char *s = lx->s;
    char q = s[lx->i];
    size_t i = lx->i + 1;

    for (;;) {
        if (i >= lx->n) {
            t->kind = SL__CQ_T_ERROR;
            snprintf(lx->err, sizeof(lx->err), "unterminated string literal");
            return;
        }
        if (s[i] == '\\' && i + 1 < lx->n) {
            i += 2;
        } else if (s[i] == q) {
            if (i + 1 < lx->n && s[i + 1] == q) {
                i += 2; /* a doubled quote */
                continue;
            }
            i++;
            break;
        } else {
            i++;
        }
    }
    t->kind = SL__CQ_T_STRING;
    t->len = i - lx->i;
    lex_skip_to(lx, i);
}

void sl__cesql_lex_next(struct sl__cesql_lexer *lx, struct sl__cesql_tok *t)
{
    const char *s = lx->s;
    char c, d;

    while (lx->i < lx->n && lex_space(s[lx->i]))
        lex_skip(lx, 1);
    t->p = s + lx->i;
    t->pos = lx->cpos;
    t->len = 1;
    t->ival = 0;
    if (lx->i >= lx->n) {
        t->kind = SL__CQ_T_EOF;
        t->len = 0;
        return;
    }
    c = s[lx->i];
    d = lx->i + 1 < lx->n ? s[lx->i + 1] : '\0';
    if (lex_alpha(c) || lex_digit(c) || c == '_') {
        lex_word(lx, t);
        return;
    }
    if (c == '\'' || c == '"') {
        lex_string(lx, t);
        return;
    }
    switch (c) {
    case '(':
        t->kind = SL__CQ_T_LPAREN;
        break;
    case ')':
        t->kind = SL__CQ_T_RPAREN;
        break;
    case ',':
        t->kind = SL__CQ_T_COMMA;
        break;
    case '+':
        t->kind = SL__CQ_T_PLUS;
        break;
    case '-':
        t->kind = SL__CQ_T_MINUS;
        break;
    case '*':
        t->kind = SL__CQ_T_STAR;
        break;
    case '/':
        t->kind = SL__CQ_T_SLASH;
        break;
    case '%':
        t->kind = SL__CQ_T_PERCENT;
        break;
    case '=':
        t->kind = SL__CQ_T_EQ;
        break;
    case '!':
        if (d != '=')
            goto bad;
        t->kind = SL__CQ_T_NE;
        t->len = 2;
        break;
    case '<':
        t->kind = d == '='   ? SL__CQ_T_LE
                  : d == '>' ? SL__CQ_T_LTGT
                             : SL__CQ_T_LT;
        t->len = t->kind == SL__CQ_T_LT ? 1 : 2;
        break;
    case '>':
        t->kind = d == '=' ? SL__CQ_T_GE : SL__CQ_T_GT;
        t->len = t->kind == SL__CQ_T_GT ? 1 : 2;
        break;
    default:
        goto bad;
    }
    lex_skip(lx, t->len);
    return;
bad:
    t->kind = SL__CQ_T_ERROR;
    t->len = sl__cesql_utf8_step(t->p, lx->n - lx->i);
    snprintf(lx->err, sizeof(lx->err), "unexpected character '%.*s'",
             (int)t->len, t->p);
}

size_t sl__cesql_unquote(const struct sl__cesql_tok *t, char *out)
{
    const char *p = t->p;
    char q = p[0];
    size_t i = 1, end = t->len - 1, o = 0;

    while (i < end) {
        if (p[i] == '\\' && i + 1 < end && p[i + 1] == q) {
            out[o++] = q;
            i += 2;
        } else if (p[i] == '\\' && i + 1 < end) {
            out[o++] = p[i++]; /* kept, as sdk-go does */
            out[o++] = p[i++];
        } else if (p[i] == q) {
            out[o++] = q; /* a doubled quote (the lexer checked) */
            i += 2;
        } else {
            out[o++] = p[i++];
        }
    }
    return o;
}
