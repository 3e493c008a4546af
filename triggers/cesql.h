/*
 * triggers/cesql.h - CloudEvents SQL (CESQL v1.0.0): compile an
 * expression once, evaluate it against many events.
 *
 * The language (docs/cesql.md, reference cloudevents.md section 6): Boolean,
 * Integer (int32) and String values; context attributes and extensions
 * by name; NOT AND OR XOR, = != <> < <= > >=, + - * / %, unary -, [NOT]
 * LIKE, [NOT] IN, EXISTS; the built-in functions of the spec plus INT,
 * BOOL, STRING and the extensions IS_INT and IS_BOOL. Every evaluation
 * gives a value plus the first error it met (if any).
 *
 * A compiled expression is immutable and may be shared by threads.
 * Evaluation never allocates on the heap and does no I/O: strings an
 * evaluation builds (LOWER, CONCAT, casts of integers to strings) live in
 * the bounded scratch space of the caller's sl_cesql_result.
 */
#ifndef SL_TRIGGERS_CESQL_H
#define SL_TRIGGERS_CESQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_diag;
struct sl_event;

/* A compiled expression (opaque). */
struct sl_cesql;

/*
 * Limits. Nesting deeper than SL_CESQL_MAX_DEPTH (parentheses, unary
 * operators, function arguments, and each link of a chain of the
 * left-associative binary operators * / % + - = != <> < <= > >=) is a
 * parse error; chains of AND/OR/XOR do not count per link. Strings one
 * evaluation builds share SL_CESQL_SCRATCH bytes; more is a GenericError.
 */
#define SL_CESQL_MAX_DEPTH 256
#define SL_CESQL_SCRATCH   4096
#define SL_CESQL_MSG_MAX   160

/* The value types of CESQL. */
enum sl_cesql_type {
    SL_CESQL_BOOL,
    SL_CESQL_INT,
    SL_CESQL_STRING,
};

/* The error kinds of CESQL (spec section 4.1; names: sl_cesql_err_name). */
enum sl_cesql_err {
    SL_CESQL_ERR_NONE,
    SL_CESQL_ERR_PARSE,
    SL_CESQL_ERR_MATH,
    SL_CESQL_ERR_CAST,
    SL_CESQL_ERR_MISSING_ATTRIBUTE,
    SL_CESQL_ERR_MISSING_FUNCTION,
    SL_CESQL_ERR_FUNCTION_EVALUATION,
    SL_CESQL_ERR_GENERIC,
};

/*
 * The outcome of one evaluation. The caller provides the storage (the
 * stack is fine; nothing needs initialising); sl_cesql_eval fills it.
 *
 * 's' (String results; never NULL then) points into the event, into the
 * compiled expression or into 'scratch': it stays valid while all three
 * do and the result is not reused.
 */
struct sl_cesql_result {
    enum sl_cesql_type type;
    bool b;        /* SL_CESQL_BOOL */
    int32_t i;     /* SL_CESQL_INT */
    const char *s; /* SL_CESQL_STRING: s[0..slen), not NUL-terminated */
    size_t slen;
    enum sl_cesql_err err;      /* the first error, NONE if none */
    char msg[SL_CESQL_MSG_MAX]; /* its text ("at position 5: division by
                                   zero"), "" when err is NONE */
    /* Private: string space of the evaluation. */
    size_t scratch_used;
    char scratch[SL_CESQL_SCRATCH];
};

/*
 * Compile 'expr' (a NUL-terminated UTF-8 string, borrowed). Returns 0
 * with '*out' (free with sl_cesql_free), or SL_EINVAL with '*out' NULL
 * and the reason in 'd': "at position 7: expected ')' but found end of
 * expression" (the 1-based character position of the offending token,
 * and what was found there). Keywords and function names are
 * case-insensitive; attribute names are lower-cased. An unknown function,
 * or a known one with the wrong number of arguments, is not a parse error:
 * evaluating it gives false and a MissingFunctionError (as the TCK wants).
 */
int sl_cesql_compile(const char *expr, struct sl_cesql **out,
                     struct sl_diag *d);

/* Free 'q'. NULL is a no-op. */
void sl_cesql_free(struct sl_cesql *q);

/*
 * Evaluate 'q' against 'ev' (both borrowed) into 'res'.
 *
 * Complete mode (fail_fast false, the TCK's mode): evaluation goes on
 * after an error with the value the failing operator defines (a failed
 * cast gives the zero value of its target type, 1 / 0 gives 0, ...) and
 * 'res' holds the value and the first error. Fail-fast mode stops at the
 * first error; the value is then the zero value of the expression's type
 * (false, 0 or ""; false when the type is not known statically, as for a
 * bare attribute). In both modes AND and OR short-circuit.
 *
 * No heap allocation, no I/O; thread-safe for a shared 'q'.
 */
void sl_cesql_eval(const struct sl_cesql *q, const struct sl_event *ev,
                   bool fail_fast, struct sl_cesql_result *res);

/*
 * The filter verdict: true only when 'q' evaluates (fail-fast) to Boolean
 * true without any error. No heap allocation.
 */
bool sl_cesql_match(const struct sl_cesql *q, const struct sl_event *ev);

/*
 * Call 'fn(arg, name, n)' for every attribute 'q' reads (a reference or
 * EXISTS), in the order they are written, repeats included; 'name' is
 * lower-case, n bytes, not NUL-terminated, borrowed from 'q'. For
 * explanations (which attributes an expression looked at).
 */
typedef void sl_cesql_attr_fn(void *arg, const char *name, size_t n);
void sl_cesql_attrs(const struct sl_cesql *q, sl_cesql_attr_fn *fn, void *arg);

/*
 * The spec's name of an error kind: "ParseError", "MathError",
 * "CastError", "MissingAttributeError", "MissingFunctionError",
 * "FunctionEvaluationError", "GenericError"; "" for NONE. Never NULL.
 */
const char *sl_cesql_err_name(enum sl_cesql_err e);

/* "Boolean", "Integer" or "String". Never NULL. */
const char *sl_cesql_type_name(enum sl_cesql_type t);

/*
 * Check that 'expr' compiles. Returns 0, or SL_EINVAL with the parser's
 * message in 'd'. Pure and thread-safe: the admission hook of
 * resource/duck.h (sl_res_cesql_check).
 */
int sl_cesql_check(const char *expr, struct sl_diag *d);

/*
 * Install sl_cesql_check as the admission hook sl_res_cesql_check, so
 * Triggers whose cesql does not compile are rejected with the position
 * of the error. Call once at process start, before any thread admits
 * resources.
 */
void sl_cesql_install(void);

#endif
