/*
 * triggers/cesql_internal.h - the CESQL engine's insides, shared by the
 * cesql_*.c files of triggers/ only (sl__cesql_ prefix).
 *
 * cesql_lex.c turns text into tokens, cesql_parse.c tokens into a tree of
 * nodes kept in an arena (one block list per compiled expression),
 * cesql_eval.c walks the tree for one event, cesql_func.c holds the
 * built-in functions and cesql_text.c the Unicode helpers they need.
 *
 * Values during evaluation are small structs passed by pointer; strings
 * are (pointer, length) views into the event, the tree or the result's
 * scratch space, never copies on the heap.
 */
#ifndef SL_TRIGGERS_CESQL_INTERNAL_H
#define SL_TRIGGERS_CESQL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triggers/cesql.h"

/* ---- tokens (cesql_lex.c) ---- */

enum sl__cesql_tok_kind {
    SL__CQ_T_EOF,
    SL__CQ_T_ERROR, /* the lexer's message is in the lexer */
    SL__CQ_T_LPAREN,
    SL__CQ_T_RPAREN,
    SL__CQ_T_COMMA,
    SL__CQ_T_INT,    /* digits only; the sign is an operator */
    SL__CQ_T_STRING, /* raw text, quotes included */
    SL__CQ_T_IDENT,  /* [A-Za-z0-9]+ that is not all digits nor a keyword */
    SL__CQ_T_FUNC,   /* [A-Za-z][A-Za-z_]* followed by '(' */
    SL__CQ_T_AND,
    SL__CQ_T_OR,
    SL__CQ_T_XOR,
    SL__CQ_T_NOT,
    SL__CQ_T_LIKE,
    SL__CQ_T_IN,
    SL__CQ_T_EXISTS,
    SL__CQ_T_TRUE,
    SL__CQ_T_FALSE,
    SL__CQ_T_PLUS,
    SL__CQ_T_MINUS,
    SL__CQ_T_STAR,
    SL__CQ_T_SLASH,
    SL__CQ_T_PERCENT,
    SL__CQ_T_EQ,
    SL__CQ_T_NE,   /* != */
    SL__CQ_T_LTGT, /* <> */
    SL__CQ_T_LT,
    SL__CQ_T_LE,
    SL__CQ_T_GT,
    SL__CQ_T_GE,
};

struct sl__cesql_tok {
    enum sl__cesql_tok_kind kind;
    const char *p; /* raw text in the expression */
    size_t len;
    uint32_t pos;  /* 1-based character position */
    uint64_t ival; /* SL__CQ_T_INT: the value, saturated above 2^32 */
};

struct sl__cesql_lexer {
    const char *s;
    size_t n;
    size_t i;      /* byte offset of the next token */
    uint32_t cpos; /* character position of s[i], 1-based */
    char err[120]; /* SL__CQ_T_ERROR: what is wrong (no position) */
};

/* Start lexing s[0..n) (valid UTF-8; the parser checks first). */
void sl__cesql_lex_init(struct sl__cesql_lexer *lx, const char *s, size_t n);

/*
 * The next token into '*t'. A lexical error gives SL__CQ_T_ERROR with
 * the message in lx->err and t->pos at the offending character. At the
 * end of the text every call gives SL__CQ_T_EOF.
 */
void sl__cesql_lex_next(struct sl__cesql_lexer *lx, struct sl__cesql_tok *t);

/*
 * The value of the string token 't' into 'out' (room for t->len bytes):
 * the quotes dropped, \' (in '...') or \" (in "...") and a doubled quote
 * turned into the quote, every other backslash kept. Returns the length.
 */
size_t sl__cesql_unquote(const struct sl__cesql_tok *t, char *out);

/* ---- values ---- */

/* Static types of nodes: the three value types and "known at run time". */
enum {
    SL__CQ_BOOL = SL_CESQL_BOOL,
    SL__CQ_INT = SL_CESQL_INT,
    SL__CQ_STRING = SL_CESQL_STRING,
    SL__CQ_ANY,
};

struct sl__cesql_val {
    uint8_t type; /* SL__CQ_BOOL, _INT or _STRING */
    bool missing; /* an absent attribute: Boolean false plus an error */
    bool b;
    int32_t i;
    const char *s; /* never NULL for strings */
    size_t n;
};

/* ---- the tree (cesql_parse.c builds it) ---- */

enum sl__cesql_kind {
    SL__CQ_LIT,    /* 'lit' */
    SL__CQ_ATTR,   /* attribute 'name' */
    SL__CQ_EXISTS, /* EXISTS 'name' */
    SL__CQ_NOT,    /* NOT kids[0] */
    SL__CQ_NEG,    /* - kids[0] */
    SL__CQ_ARITH,  /* kids[0] op kids[1], op one of * / % + - */
    SL__CQ_CMP,    /* kids[0] op kids[1], op one of = != < <= > >= */
    SL__CQ_LIKE,   /* kids[0] [NOT] LIKE 'pat' */
    SL__CQ_IN,     /* kids[0] [NOT] IN (kids[1..n)) */
    SL__CQ_LOGIC,  /* kids[0] ops[0] kids[1] ops[1] ... right-assoc. */
    SL__CQ_CALL,   /* fn(kids[0..n)) */
};

/* Operators of SL__CQ_ARITH, SL__CQ_CMP and SL__CQ_LOGIC. */
enum {
    SL__CQ_OP_MUL,
    SL__CQ_OP_DIV,
    SL__CQ_OP_MOD,
    SL__CQ_OP_ADD,
    SL__CQ_OP_SUB,
    SL__CQ_OP_EQ,
    SL__CQ_OP_NE,
    SL__CQ_OP_LT,
    SL__CQ_OP_LE,
    SL__CQ_OP_GT,
    SL__CQ_OP_GE,
    SL__CQ_OP_AND,
    SL__CQ_OP_OR,
    SL__CQ_OP_XOR,
};

struct sl__cesql_func;

struct sl__cesql_node {
    uint8_t kind;    /* enum sl__cesql_kind */
    uint8_t op;      /* ARITH, CMP */
    uint8_t type;    /* static result type, SL__CQ_ANY for ATTR */
    bool neg;        /* NOT LIKE, NOT IN */
    uint16_t height; /* 1 + the highest child */
    uint32_t pos;    /* 1-based character position, for messages */
    uint32_t n;      /* number of kids */
    struct sl__cesql_node **kids;
    const uint8_t *ops; /* LOGIC: n - 1 operators */
    struct sl__cesql_val lit;
    const char *name; /* ATTR, EXISTS: lower-case; CALL: as written */
    size_t nlen;
    const char *pat; /* LIKE: the pattern, escapes kept */
    size_t plen;
    const struct sl__cesql_func *fn; /* CALL: NULL when unknown */
};

/* The root of a compiled expression (never NULL). */
const struct sl__cesql_node *sl__cesql_root(const struct sl_cesql *q);

/* ---- built-in functions (cesql_func.c) ---- */

struct sl__cesql_ctx;

/*
 * A function body. For a 'raw' function 'args' is NULL and the body
 * evaluates call->kids itself (sl__cesql_arg); otherwise 'args' holds the
 * call->n arguments, evaluated, present and cast to the parameter types.
 * The body sets '*out' (of type ret) and records its own errors.
 */
typedef void sl__cesql_fn(struct sl__cesql_ctx *c,
                          const struct sl__cesql_node *call,
                          struct sl__cesql_val *args,
                          struct sl__cesql_val *out);

#define SL__CQ_MAX_FIXED_ARGS 3

struct sl__cesql_func {
    const char *name;                     /* upper case */
    int min, max;                         /* arity; max < 0: variadic */
    uint8_t ret;                          /* SL__CQ_BOOL, _INT, _STRING */
    uint8_t param[SL__CQ_MAX_FIXED_ARGS]; /* SL__CQ_ANY: no implicit cast */
    bool raw;
    sl__cesql_fn *call;
};

/*
 * The built-in function called 'name' (n bytes, any case) taking 'nargs'
 * arguments, or NULL.
 */
const struct sl__cesql_func *sl__cesql_func_find(const char *name, size_t n,
                                                 size_t nargs);

/* ---- evaluation (cesql_eval.c) ---- */

struct sl__cesql_ctx {
    const struct sl_event *ev;
    struct sl_cesql_result *res; /* errors and scratch */
    bool fail_fast;
    bool want_msg; /* format error messages (not needed by match) */
    bool stop;     /* fail-fast and an error happened: unwind */
};

/* Evaluate 'n' into '*out' (see the scratch discipline in cesql_eval.c). */
void sl__cesql_eval_node(struct sl__cesql_ctx *c,
                         const struct sl__cesql_node *n,
                         struct sl__cesql_val *out);

/*
 * Evaluate argument i of 'call' and cast it to 'type'. Returns true with
 * '*v' set, or false when the caller must give up: the argument was a
 * missing attribute ('*out' is then the zero value of the function's
 * type) or a fail-fast evaluation stopped.
 */
bool sl__cesql_arg(struct sl__cesql_ctx *c, const struct sl__cesql_node *call,
                   uint32_t i, uint8_t type, struct sl__cesql_val *v,
                   struct sl__cesql_val *out);

/*
 * Record error 'e' against node 'at' (the first error of an evaluation
 * is kept; fail-fast evaluation stops). The message is printf-formatted
 * and prefixed with the node's position.
 */
void sl__cesql_error(struct sl__cesql_ctx *c, enum sl_cesql_err e,
                     const struct sl__cesql_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Cast '*v' in place to 'type' (SL__CQ_ANY: no change) with the spec's
 * rules; a failed cast records a CastError against 'at' and gives the
 * target's zero value. Integer to String writes into the scratch space.
 */
void sl__cesql_cast(struct sl__cesql_ctx *c, const struct sl__cesql_node *at,
                    struct sl__cesql_val *v, uint8_t type);

/* Would casting '*v' to 'type' succeed? (No error is recorded.) */
bool sl__cesql_castable(const struct sl__cesql_val *v, uint8_t type);

/* The zero value of 'type' (SL__CQ_ANY: Boolean false). */
void sl__cesql_zero(struct sl__cesql_val *v, uint8_t type);

/*
 * 'n' bytes of scratch space, or NULL after recording a GenericError
 * against 'at' when the space is used up.
 */
char *sl__cesql_scratch(struct sl__cesql_ctx *c,
                        const struct sl__cesql_node *at, size_t n);

/* Is 's' inside the scratch space of 'r'? */
bool sl__cesql_in_scratch(const struct sl_cesql_result *r, const char *s);

/* ---- text (cesql_text.c) ---- */

/* Characters (code points; each invalid byte counts as one) in s[0..n). */
size_t sl__cesql_utf8_len(const char *s, size_t n);

/* Byte offset of character 'k' of s[0..n) (n when k is past the end). */
size_t sl__cesql_utf8_off(const char *s, size_t n, size_t k);

/* Byte length of the character at s[0] (1..4; 1 for an invalid byte). */
size_t sl__cesql_utf8_step(const char *s, size_t n);

/*
 * Write s[0..n) with every character lower-cased (upper when 'upper')
 * into 'out' (room for 'cap' bytes). Simple case mapping for Latin, Greek,
 * Cyrillic, Armenian and fullwidth Latin letters; everything else is
 * copied. Every mapping keeps the character's UTF-8 length, so the result
 * is n bytes and 'out' may be 's' itself. Returns the length written, or
 * (size_t)-1 when 'cap' is short.
 */
size_t sl__cesql_case_map(const char *s, size_t n, bool upper, char *out,
                          size_t cap);

/* Bytes of Unicode white space (White_Space property) at the start of
 * s[0..n) / at its end. */
size_t sl__cesql_space_lead(const char *s, size_t n);
size_t sl__cesql_space_trail(const char *s, size_t n);

/*
 * LIKE: does s[0..n) match the pattern p[0..m)? '%' matches any run of
 * characters, '_' exactly one, '\%' and '\_' the character itself, every
 * other byte itself (case-sensitive).
 */
bool sl__cesql_like(const char *s, size_t n, const char *p, size_t m);

#endif
