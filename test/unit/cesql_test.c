/*
 * test/unit/cesql_test.c - triggers/cesql.h beyond the TCK
 * (cesql_tck_test.c): int32 limits and wrap-around, parse errors with
 * their positions, the nesting limit (100000 '(' fail cleanly), long
 * AND/OR chains, the scratch limit, evaluation without heap allocation,
 * Unicode in the string functions and LIKE, typed attributes, complete
 * versus fail-fast, the right-associative AND/OR level, the extensions
 * IS_INT/IS_BOOL, the admission hook, and sharing a compiled expression
 * between threads.
 */
#include "test/unit/check.h"

#include <pthread.h>

#include "core/utf8.h"
#include "proto/event.h"
#include "resource/duck.h"
#include "triggers/cesql.h"

#if defined(__SANITIZE_ADDRESS__)
#define CQ_MALLOC_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CQ_MALLOC_HOOKS 1
#endif
#endif
#ifdef CQ_MALLOC_HOOKS
/* From the sanitizer runtime (sanitizer/allocator_interface.h, which
 * gcc's packages do not always ship): hooks called on every malloc/free
 * of the process. */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));
#endif

/* ---- helpers ---- */

static struct sl_event *mk_event(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "e-1", NULL));
    ASSERT_OK(
        sl_event_set_str(ev, "source", "https://example.com/orders", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.order", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "  Grüße  ", NULL));
    ASSERT_OK(sl_event_set_str(ev, "time", "2018-04-26T14:48:09+02:00", NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", 42, NULL));
    ASSERT_OK(sl_event_set_int(ev, "big", INT32_MAX, NULL));
    ASSERT_OK(sl_event_set_int(ev, "small", INT32_MIN, NULL));
    ASSERT_OK(sl_event_set_bool(ev, "flag", true, NULL));
    ASSERT_OK(sl_event_set_str(ev, "text", "42", NULL));
    ASSERT_OK(sl_event_set(ev, "bin", SL_CE_BINARY, "AQID", 4, NULL));
    ASSERT_OK(sl_event_set_str(ev, "greek", "Ωμέγα", NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

struct want {
    const char *expr;
    enum sl_cesql_type type;
    const char *value; /* "true", "-3", or the string */
    enum sl_cesql_err err;
};

/* Evaluate w->expr (complete mode) and compare; 'ff' fail-fast instead. */
static void check_one(const struct want *w, const struct sl_event *ev, bool ff)
{
    struct sl_cesql_result r;
    struct sl_cesql *q = NULL;
    struct sl_diag d;
    char got[256];

    sl_diag_clear(&d);
    if (sl_cesql_compile(w->expr, &q, &d) != 0)
        CHECK_FAIL("'%s': %s", w->expr, d.msg);
    sl_cesql_eval(q, ev, ff, &r);
    if (r.type == SL_CESQL_BOOL)
        snprintf(got, sizeof(got), "%s", r.b ? "true" : "false");
    else if (r.type == SL_CESQL_INT)
        snprintf(got, sizeof(got), "%d", (int)r.i);
    else
        snprintf(got, sizeof(got), "%.*s", (int)r.slen, r.s);
    if (r.type != w->type || strcmp(got, w->value) != 0 || r.err != w->err)
        CHECK_FAIL("'%s'%s: %s %s [%s %s], want %s %s [%s]", w->expr,
                   ff ? " (fail-fast)" : "", sl_cesql_type_name(r.type), got,
                   sl_cesql_err_name(r.err), r.msg, sl_cesql_type_name(w->type),
                   w->value, sl_cesql_err_name(w->err));
    sl_cesql_free(q);
}

static void check_table(const struct want *t, size_t n, bool ff)
{
    struct sl_event *ev = mk_event();
    size_t i;

    for (i = 0; i < n; i++)
        check_one(&t[i], ev, ff);
    sl_event_unref(ev);
}

#define B     SL_CESQL_BOOL
#define I     SL_CESQL_INT
#define S     SL_CESQL_STRING
#define NONE  SL_CESQL_ERR_NONE
#define MATH  SL_CESQL_ERR_MATH
#define CAST  SL_CESQL_ERR_CAST
#define MISS  SL_CESQL_ERR_MISSING_ATTRIBUTE
#define NOFN  SL_CESQL_ERR_MISSING_FUNCTION
#define FEVAL SL_CESQL_ERR_FUNCTION_EVALUATION
#define GEN   SL_CESQL_ERR_GENERIC
#define N(t)  (sizeof(t) / sizeof((t)[0]))

/* ---- integers ---- */

TEST(cesql_int32_limits)
{
    static const struct want t[] = {
        { "2147483647", I, "2147483647", NONE },
        { "-2147483648", I, "-2147483648", NONE },
        { "- 2147483648", I, "-2147483648", NONE },
        { "+7", I, "7", NONE },
        { "007", I, "7", NONE },
        /* Wrap-around, as Java and Go int32 arithmetic. */
        { "2147483647 + 1", I, "-2147483648", NONE },
        { "-2147483648 - 1", I, "2147483647", NONE },
        { "65536 * 65536", I, "0", NONE },
        { "-(-2147483648)", I, "-2147483648", NONE },
        { "-2147483648 / -1", I, "-2147483648", NONE },
        { "-2147483648 % -1", I, "0", NONE },
        { "-7 / 2", I, "-3", NONE },
        { "-7 % 2", I, "-1", NONE },
        { "7 % -2", I, "1", NONE },
        { "big + 1 = small", B, "true", NONE },
        { "ABS(small)", I, "2147483647", MATH },
        { "ABS(-5) + ABS(5)", I, "10", NONE },
        { "INT('2147483647')", I, "2147483647", NONE },
        { "INT('-2147483648')", I, "-2147483648", NONE },
        { "INT('2147483648')", I, "0", CAST },
        { "INT('-2147483649')", I, "0", CAST },
        { "INT('99999999999999999999')", I, "0", CAST },
        { "INT('+12')", I, "12", NONE },
        { "INT(' 12')", I, "0", CAST },
        { "INT('')", I, "0", CAST },
        { "INT('-')", I, "0", CAST },
        { "STRING(small)", S, "-2147483648", NONE },
        { "small < big", B, "true", NONE },
        { "1 / 0", I, "0", MATH },
        { "1 % 0", I, "0", MATH },
    };
    static const char *const bad[] = { "2147483648", "-2147483649",
                                       "99999999999999999999999",
                                       "1 + 4294967296" };
    struct sl_cesql *q = NULL;
    struct sl_diag d;
    size_t i;

    check_table(t, N(t), false);
    for (i = 0; i < N(bad); i++) {
        ASSERT_EQ(sl_cesql_compile(bad[i], &q, &d), SL_EINVAL);
        ASSERT(q == NULL);
        ASSERT(strstr(d.msg, "is out of range (32-bit signed)") != NULL);
    }
}

/* ---- parse errors ---- */

TEST(cesql_parse_error_positions)
{
    static const struct {
        const char *expr, *msg;
    } t[] = {
        { "type = 'a' AND",
          "at position 15: expected an expression but found end of "
          "expression" },
        { "(a = 1", "at position 7: expected ')' but found end of expression" },
        { "a = = 1", "at position 5: expected an expression but found '='" },
        { "", "at position 1: expected an expression but found end of "
              "expression" },
        { "   ", "at position 4: expected an expression but found end of "
                 "expression" },
        { "ABC(", "at position 5: expected an expression but found end of "
                  "expression" },
        { "a b", "at position 3: expected an operator or the end of the "
                 "expression but found 'b'" },
        { "a NOT b", "at position 7: expected LIKE or IN after NOT but found "
                     "'b'" },
        { "x LIKE 123", "at position 8: expected a string literal after LIKE "
                        "but found integer 123" },
        { "x LIKE y", "at position 8: expected a string literal after LIKE "
                      "but found 'y'" },
        { "EXISTS 1", "at position 8: expected an attribute name after EXISTS "
                      "but found integer 1" },
        { "a IN 1", "at position 6: expected '(' but found integer 1" },
        { "a IN ()", "at position 7: expected an expression but found ')'" },
        { "f(1 2)", "at position 5: expected ',' or ')' but found integer 2" },
        { "+'5'", "at position 2: expected an integer after '+' but found "
                  "string literal '5'" },
        { "'ab", "at position 1: unterminated string literal" },
        { "'a\\'", "at position 1: unterminated string literal" },
        { "a ! b", "at position 3: unexpected character '!'" },
        { "a # b", "at position 3: unexpected character '#'" },
        /* Positions count characters, not bytes. */
        { "'é' = é", "at position 7: unexpected character 'é'" },
        { "'日本' = 1 +", "at position 11: expected an expression but found "
                          "end of expression" },
        { "a = '\xff'", "at position 6: invalid UTF-8" },
        { "my_ext = 1", "at position 1: invalid attribute name 'my_ext' "
                        "(attribute names are letters and digits)" },
        { "f1(2)", "at position 3: expected an operator or the end of the "
                   "expression but found '('" },
        { "2147483648", "at position 1: integer literal 2147483648 is out of "
                        "range (32-bit signed)" },
        { "1 + -2147483649", "at position 5: integer literal -2147483649 is "
                             "out of range (32-bit signed)" },
        { "TRUE(1)", "at position 5: expected an operator or the end of the "
                     "expression but found '('" },
    };
    struct sl_cesql *q;
    struct sl_diag d;
    size_t i;

    for (i = 0; i < N(t); i++) {
        q = (struct sl_cesql *)&q;
        sl_diag_clear(&d);
        ASSERT_EQ(sl_cesql_compile(t[i].expr, &q, &d), SL_EINVAL);
        ASSERT(q == NULL);
        if (strcmp(d.msg, t[i].msg) != 0)
            CHECK_FAIL("'%s': \"%s\", want \"%s\"", t[i].expr, d.msg, t[i].msg);
        ASSERT_EQ(sl_cesql_check(t[i].expr, NULL), SL_EINVAL);
    }
    ASSERT_OK(sl_cesql_check("type = 'a'", NULL));
}

/* ---- nesting ---- */

static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
    char *s = sl_xmalloc(hl + ul * n + tl + 1), *p = s;

    memcpy(p, head, hl);
    p += hl;
    for (i = 0; i < n; i++, p += ul)
        memcpy(p, unit, ul);
    memcpy(p, tail, tl + 1);
    return s;
}

static void expect_too_deep(char *s)
{
    struct sl_cesql *q = NULL;
    struct sl_diag d;

    sl_diag_clear(&d);
    ASSERT_EQ(sl_cesql_compile(s, &q, &d), SL_EINVAL);
    ASSERT(q == NULL);
    if (strstr(d.msg, "expression nested too deeply (more than 256 levels)") ==
        NULL)
        CHECK_FAIL("%s", d.msg);
    sl_free(s);
}

static void expect_value(char *s, const char *value)
{
    struct sl_event *ev = mk_event();
    struct want w = { s, B, value, NONE };

    check_one(&w, ev, false);
    sl_event_unref(ev);
    sl_free(s);
}

TEST(cesql_depth_limit)
{
    char *s;

    /* 100000 '(' (nothing else): a clean error, no stack overflow. */
    s = sl_xmalloc(100001);
    memset(s, '(', 100000);
    s[100000] = '\0';
    expect_too_deep(s);
    expect_too_deep(repeat("", "NOT ", 100000, "TRUE"));
    expect_too_deep(repeat("", "-", 100000, "1 = 1"));
    expect_too_deep(repeat("", "LENGTH(", 100000, ""));
    expect_too_deep(repeat("1", " + 1", 300, " = 301"));
    expect_too_deep(repeat("(", "(", 299, "TRUE"));
    /* Below the limit: fine. */
    s = repeat("", "(", 200, "TRUE");
    expect_value(repeat(s, ")", 200, ""), "true");
    sl_free(s);
    s = repeat("", "(NOT ", 120, "TRUE");
    expect_value(repeat(s, ")", 120, ""), "true");
    sl_free(s);
    expect_value(repeat("", "NOT ", 250, "TRUE"), "true");
    expect_value(repeat("1", " + 1", 200, " = 201"), "true");
    /* AND/OR chains are one level, however long. */
    expect_value(repeat("", "count = 1 OR ", 20000, "count = 42"), "true");
    expect_value(repeat("", "flag AND ", 20000, "count = 41"), "false");
    expect_value(repeat("", "TRUE XOR ", 20001, "TRUE"), "false");
    /* Long IN lists and argument lists are flat too. */
    expect_value(repeat("count IN (", "1, ", 20000, "42)"), "true");
    expect_value(repeat("LENGTH(CONCAT(", "'a', ", 1000, "'b')) = 1001"),
                 "true");
    /* Too deep inside balanced parentheses. */
    s = repeat("", "(NOT ", 200, "TRUE");
    expect_too_deep(repeat(s, ")", 200, ""));
    sl_free(s);
}

/* ---- scratch space ---- */

TEST(cesql_scratch_limit)
{
    struct sl_event *ev = mk_event();
    char *big = repeat("", "x", 3000, "");
    struct sl_cesql_result r;
    struct sl_cesql *q = NULL;

    ASSERT_OK(sl_event_set_str(ev, "large", big, NULL));
    /* 2 x 3000 bytes do not fit into SL_CESQL_SCRATCH (4096). */
    ASSERT_OK(sl_cesql_compile("CONCAT(large, large)", &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_EQ(r.err, SL_CESQL_ERR_GENERIC);
    ASSERT(r.type == SL_CESQL_STRING && r.slen == 0);
    ASSERT(strstr(r.msg, "4096 bytes") != NULL);
    ASSERT(!sl_cesql_match(q, ev));
    sl_cesql_free(q);
    /* One of them fits, and every operand releases what it used. */
    ASSERT_OK(sl_cesql_compile("LENGTH(CONCAT(large, 'y')) = 3001 AND "
                               "LOWER(large) = large AND UPPER(large) != "
                               "large AND LENGTH(LOWER(UPPER(large))) = 3000",
                               &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_EQ(r.err, SL_CESQL_ERR_NONE);
    ASSERT(r.type == SL_CESQL_BOOL && r.b);
    ASSERT(sl_cesql_match(q, ev));
    sl_cesql_free(q);
    /* Long IN lists and AND/OR chains release each element's space. */
    q = NULL;
    {
        char *in = repeat("text IN (", "1234567, ", 3000, "-1)");
        char *chain = repeat("", "STRING(count) OR ", 3000, "TRUE");
        struct want w1 = { in, B, "false", NONE };
        struct want w2 = { chain, B, "true", CAST };
        check_one(&w1, ev, false);
        check_one(&w2, ev, false);
        sl_free(in);
        sl_free(chain);
    }
    /* A String result may live in the scratch space. */
    ASSERT_OK(sl_cesql_compile("CONCAT_WS('-', count, flag, 'z')", &q, NULL));
    sl_cesql_eval(q, ev, true, &r);
    ASSERT_EQ(r.err, SL_CESQL_ERR_NONE);
    ASSERT_MEM_EQ(r.s, r.slen, "42-true-z", 9);
    sl_cesql_free(q);
    sl_free(big);
    sl_event_unref(ev);
}

/* ---- no heap allocation while evaluating ---- */

#ifdef CQ_MALLOC_HOOKS
static volatile long cq_mallocs;
static volatile int cq_counting;

static void cq_malloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    if (cq_counting)
        cq_mallocs++;
}

static void cq_free_hook(const volatile void *p)
{
    (void)p;
}
#endif

TEST(cesql_eval_does_not_allocate)
{
    static const char *const exprs[] = {
        "type = 'com.example.order'",
        "(source LIKE 'https://%' AND count > 40) OR LOWER(subject) = 'x'",
        "CONCAT_WS(',', count, flag, UPPER(greek), TRIM(subject)) LIKE "
        "'42,true,%'",
        "SUBSTRING(greek, -3, 2) = 'έγ' AND LEFT(type, 3) = 'com' AND "
        "RIGHT(type, 5) = 'order'",
        "missing = 1", /* errors, with their messages */
        "INT('abc') + 1 / 0 = 1",
        "count IN (1, 2, text, 'x') XOR NOT EXISTS time",
        "nofunction(1)",
    };
    struct sl_event *ev = mk_event();
    struct sl_cesql *q[N(exprs)];
    struct sl_cesql_result r;
    long live;
    size_t i;
    int k;

#ifdef CQ_MALLOC_HOOKS
    static int installed;
    if (!installed)
        __sanitizer_install_malloc_and_free_hooks(cq_malloc_hook, cq_free_hook);
    installed = 1;
#endif
    for (i = 0; i < N(exprs); i++)
        ASSERT_OK(sl_cesql_compile(exprs[i], &q[i], NULL));
    live = sl_alloc_live();
#ifdef CQ_MALLOC_HOOKS
    cq_mallocs = 0;
    cq_counting = 1;
#endif
    for (k = 0; k < 100; k++)
        for (i = 0; i < N(exprs); i++) {
            sl_cesql_eval(q[i], ev, (k & 1) != 0, &r);
            (void)sl_cesql_match(q[i], ev);
        }
#ifdef CQ_MALLOC_HOOKS
    cq_counting = 0;
    /* Every malloc of the process is seen here (sanitizer hook). */
    ASSERT_EQ(cq_mallocs, 0);
    /* The hook does see allocations. */
    cq_counting = 1;
    sl_free(sl_xmalloc(16));
    cq_counting = 0;
    ASSERT_EQ(cq_mallocs, 1);
#endif
    ASSERT_EQ(sl_alloc_live(), live);
    for (i = 0; i < N(exprs); i++)
        sl_cesql_free(q[i]);
    sl_event_unref(ev);
}

/* ---- semantics the TCK does not pin down ---- */

TEST(cesql_values_and_casts)
{
    static const struct want t[] = {
        /* Attribute names are lower-cased; keywords and functions are
         * case-insensitive. */
        { "TYPE = 'com.example.order' and exists SUBJECT", B, "true", NONE },
        { "lower(Type) = 'com.example.order'", B, "true", NONE },
        { "Concat_Ws('/', 'a', 'b')", S, "a/b", NONE },
        /* Typed attributes keep their types; others are Strings. */
        { "count", I, "42", NONE },
        { "flag", B, "true", NONE },
        { "text", S, "42", NONE },
        { "text = 42", B, "true", NONE }, /* the left side is cast */
        { "42 = text", B, "true", NONE },
        { "time", S, "2018-04-26T14:48:09+02:00", NONE },
        { "bin", S, "AQID", NONE },
        { "id = 'e-1' AND specversion = '1.0'", B, "true", NONE },
        { "count LIKE '4_'", B, "true", NONE },
        { "flag = 'TRUE'", B, "false", NONE },
        { "'TRUE' = flag", B, "true", NONE },
        { "count > '41'", B, "true", NONE },
        { "'abc' < 1", B, "true", CAST }, /* 'abc' -> 0 */
        { "-TRUE + -'3'", I, "-4", NONE },
        { "NOT 0", B, "true", NONE },
        { "NOT 'yes'", B, "true", CAST },
        { "TRUE AND 'maybe'", B, "false", CAST },
        /* AND, OR and XOR are one right-associative level (the grammar's
         * <assoc=right>): FALSE AND FALSE OR TRUE = FALSE AND (FALSE OR
         * TRUE); a left-associative reading would give true. */
        { "FALSE AND FALSE OR TRUE", B, "false", NONE },
        { "(FALSE AND FALSE) OR TRUE", B, "true", NONE },
        { "TRUE OR TRUE AND FALSE", B, "true", NONE },
        { "TRUE XOR TRUE AND FALSE", B, "true", NONE },
        { "FALSE OR TRUE XOR TRUE", B, "false", NONE },
        /* Unary operators bind tighter than everything but calls. */
        { "NOT FALSE = FALSE", B, "false", NONE },
        { "-2 * 3 + 1", I, "-5", NONE },
        { "4-1", I, "3", NONE }, /* the grammar's lexer rejects it */
        { "1 + 2 * 3 - 4 / 2 % 3", I, "5", NONE },
        { "1 < 2 = TRUE", B, "true", NONE },
        /* A missing attribute: the operator that uses it gives its zero
         * value (one level only). */
        { "missing", B, "false", MISS },
        { "NOT missing", B, "false", MISS },
        { "NOT NOT missing", B, "true", MISS },
        { "LENGTH(missing)", I, "0", MISS },
        { "CONCAT('a', missing)", S, "", MISS },
        { "missing IN (1)", B, "false", MISS },
        { "1 IN (2, missing, 1)", B, "false", MISS },
        { "1 IN (1, missing)", B, "true", NONE }, /* stops at the match */
        { "missing NOT IN (1)", B, "false", MISS },
        { "missing NOT LIKE 'x'", B, "false", MISS },
        { "TRUE XOR missing", B, "false", MISS },
        { "missing OR TRUE", B, "false", MISS },
        { "TRUE OR missing", B, "true", NONE },
        { "FALSE AND missing", B, "false", NONE },
        { "EXISTS missing OR EXISTS count", B, "true", NONE },
        /* Errors do not stop complete evaluation. */
        { "INT('x') + 1", I, "1", CAST },
        { "1 / 0 + 1 / 0 = 0 AND INT('x') = 0", B, "true", MATH },
        { "FOO() OR TRUE", B, "true", NOFN },
        { "LENGTH('a', 'b')", B, "false", NOFN },
        { "SUBSTRING('abc')", B, "false", NOFN },
        { "ABS(1, 2)", B, "false", NOFN },
        /* Results built in the scratch space at an offset (a view into
         * a built string, a built delimiter) are moved into place. */
        { "RIGHT(LOWER('ABCDEF'), 2)", S, "ef", NONE },
        { "CONCAT_WS(STRING(count), 'a', SUBSTRING(UPPER('xbx'), 2, 1))", S,
          "a42B", NONE },
        { "CONCAT(RIGHT(LOWER('XYZ'), 1), RIGHT(STRING(count), 1)) = 'z2'", B,
          "true", NONE },
        { "CONCAT_WS(missing, 'a')", S, "", MISS },
        { "CONCAT_WS('-', 'a', missing)", S, "", MISS },
        /* Strings: both quotes, escapes kept as sdk-go keeps them. */
        { "'it''s'", S, "it's", NONE },
        { "\"say \\\"hi\\\"\"", S, "say \"hi\"", NONE },
        { "'a\\nb'", S, "a\\nb", NONE },
        { "'a\\\\'", S, "a\\\\", NONE },
        /* Extensions (not CESQL v1, kept for sdk-go parity). */
        { "IS_INT('12') AND IS_INT(-3) AND IS_INT(TRUE)", B, "true", NONE },
        { "IS_INT('1.5') OR IS_INT('') OR IS_INT(missing)", B, "false", MISS },
        { "IS_BOOL('False') AND IS_BOOL(0) AND NOT IS_BOOL('yes')", B, "true",
          NONE },
        { "BOOL('yes')", B, "false", CAST },
        { "STRING(flag)", S, "true", NONE },
    };

    check_table(t, N(t), false);
}

TEST(cesql_fail_fast)
{
    static const struct want t[] = {
        { "INT('x') + 1", I, "0", CAST },
        { "LEFT('abc', -1)", S, "", FEVAL },
        { "missing", B, "false", MISS },
        { "count", I, "42", NONE },
        { "NOT NOT missing", B, "false", MISS },
        { "FOO() OR TRUE", B, "false", NOFN },
        { "1 / 0 = 0", B, "false", MATH },
        { "TRUE OR 1 / 0 = 0", B, "true", NONE },
        { "CONCAT('a', count)", S, "a42", NONE },
    };

    check_table(t, N(t), true);
}

TEST(cesql_unicode)
{
    static const struct want t[] = {
        { "LENGTH(greek)", I, "5", NONE },
        { "LENGTH('日本語')", I, "3", NONE },
        { "LENGTH('😀x')", I, "2", NONE },
        { "UPPER(greek)", S, "ΩΜΈΓΑ", NONE },
        { "LOWER('ΩΜΈΓΑ')", S, "ωμέγα", NONE },
        { "UPPER('àéîõüÿ straße')", S, "ÀÉÎÕÜŸ STRAßE", NONE },
        { "LOWER('ÀÉÎÕÜŸ ĀĂĄ ŁŃ')", S, "àéîõüÿ āăą łń", NONE },
        { "UPPER('привет ёж')", S, "ПРИВЕТ ЁЖ", NONE },
        { "LOWER('ՀԱՅ ＡＢＣ')", S, "հայ ａｂｃ", NONE },
        { "UPPER('āăą łńž ѡҋ ḁỳ հայ ａｂｃ')", S, "ĀĂĄ ŁŃŽ ѠҊ ḀỲ ՀԱՅ ＡＢＣ",
          NONE },
        { "LOWER('āăą łńž ѡҋ ḁỳ')", S, "āăą łńž ѡҋ ḁỳ", NONE },
        { "UPPER('ĀĂĄ ŁŃŽ')", S, "ĀĂĄ ŁŃŽ", NONE },
        { "LOWER('ĲĴ Ÿ Ά Έ Ό Ώ Ё') = 'ĳĵ ÿ ά έ ό ώ ё'", B, "true", NONE },
        { "UPPER('ĳĵ ÿ ά έ ό ώ ё') = 'ĲĴ Ÿ Ά Έ Ό Ώ Ё'", B, "true", NONE },
        { "UPPER('😀ı×÷') = '😀ı×÷' AND LOWER('İ') = 'İ'", B, "true", NONE },
        { "UPPER('日本 1-2')", S, "日本 1-2", NONE },
        { "TRIM(subject)", S, "Grüße", NONE },
        { "TRIM('\xc2\xa0\xe3\x80\x80x\xe2\x80\x83\t\n')", S, "x", NONE },
        { "LENGTH(TRIM('\x01x\x01'))", I, "3", NONE }, /* not spaces */
        { "TRIM('   ')", S, "", NONE },
        { "LEFT(greek, 2)", S, "Ωμ", NONE },
        { "RIGHT(greek, 3)", S, "έγα", NONE },
        { "RIGHT(greek, 0)", S, "", NONE },
        { "SUBSTRING(greek, 2, 3)", S, "μέγ", NONE },
        { "SUBSTRING(greek, -2)", S, "γα", NONE },
        { "SUBSTRING(greek, 5)", S, "α", NONE },
        { "SUBSTRING(greek, 6)", S, "", FEVAL },
        { "SUBSTRING(greek, -5, 100)", S, "Ωμέγα", NONE },
        { "SUBSTRING(greek, 2, -1)", S, "", FEVAL },
        { "SUBSTRING('', 0)", S, "", NONE },
        { "greek LIKE 'Ω_έ%'", B, "true", NONE },
        { "greek LIKE '_____'", B, "true", NONE },
        { "greek LIKE '______'", B, "false", NONE },
        { "'日本語' LIKE '%本_'", B, "true", NONE },
        /* LIKE: \% and \_ are literal, other backslashes are themselves. */
        { "'50%' LIKE '50\\%'", B, "true", NONE },
        { "'50x' LIKE '50\\%'", B, "false", NONE },
        { "'a\\b' LIKE 'a\\b'", B, "true", NONE },
        { "'abc' LIKE '%%%'", B, "true", NONE },
        { "'' LIKE '%'", B, "true", NONE },
        { "'' LIKE '_'", B, "false", NONE },
        { "'aXbXc' LIKE '%X%X%X%'", B, "false", NONE },
        { "'mississippi' LIKE '%iss%ppi'", B, "true", NONE },
        { "'ABC' LIKE 'abc'", B, "false", NONE },
    };

    check_table(t, N(t), false);
}

TEST(cesql_err_names)
{
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_NONE), "");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_PARSE), "ParseError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_MATH), "MathError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_CAST), "CastError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_MISSING_ATTRIBUTE),
                  "MissingAttributeError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_MISSING_FUNCTION),
                  "MissingFunctionError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_FUNCTION_EVALUATION),
                  "FunctionEvaluationError");
    ASSERT_STR_EQ(sl_cesql_err_name(SL_CESQL_ERR_GENERIC), "GenericError");
    ASSERT_STR_EQ(sl_cesql_type_name(SL_CESQL_BOOL), "Boolean");
    ASSERT_STR_EQ(sl_cesql_type_name(SL_CESQL_INT), "Integer");
    ASSERT_STR_EQ(sl_cesql_type_name(SL_CESQL_STRING), "String");
}

TEST(cesql_error_messages)
{
    struct sl_event *ev = mk_event();
    struct sl_cesql_result r;
    struct sl_cesql *q = NULL;

    ASSERT_OK(sl_cesql_compile("count = 42 AND nothere > 1", &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_STR_EQ(r.msg, "at position 16: missing attribute 'nothere'");
    sl_cesql_free(q);
    ASSERT_OK(sl_cesql_compile("1 + 10 / (count - 42)", &q, NULL));
    sl_cesql_eval(q, ev, true, &r);
    ASSERT_STR_EQ(r.msg, "at position 8: division by zero");
    ASSERT(r.type == SL_CESQL_INT && r.i == 0);
    sl_cesql_free(q);
    ASSERT_OK(sl_cesql_compile("INT(type)", &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_STR_EQ(r.msg, "at position 5: cannot cast 'com.example.order' to "
                         "Integer");
    sl_cesql_free(q);
    ASSERT_OK(sl_cesql_compile("Foo_Bar(1)", &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_STR_EQ(r.msg, "at position 1: no function FOO_BAR taking 1 "
                         "argument");
    sl_cesql_free(q);
    ASSERT_OK(sl_cesql_compile("RIGHT('x', -2)", &q, NULL));
    sl_cesql_eval(q, ev, false, &r);
    ASSERT_STR_EQ(r.msg, "at position 1: RIGHT: negative length -2");
    ASSERT_MEM_EQ(r.s, r.slen, "x", 1);
    sl_cesql_free(q);
    sl_event_unref(ev);
}

/* ---- admission hook ---- */

TEST(cesql_install_hook)
{
    struct sl_diag d;

    ASSERT(sl_res_cesql_check == NULL);
    sl_cesql_install();
    ASSERT(sl_res_cesql_check == sl_cesql_check);
    sl_diag_clear(&d);
    ASSERT_EQ(sl_res_cesql_check("type = 'a' AND", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "at position 15: expected an expression but found "
                         "end of expression");
    ASSERT_OK(sl_res_cesql_check("type = 'a'", &d));
    sl_res_cesql_check = NULL;
}

/* ---- one compiled expression, many threads ---- */

struct cq_thread {
    const struct sl_cesql *q;
    const struct sl_event *ev;
    int matched;
};

static void *cq_thread_run(void *arg)
{
    struct cq_thread *t = arg;
    struct sl_cesql_result r;
    int k;

    for (k = 0; k < 20000; k++) {
        sl_cesql_eval(t->q, t->ev, false, &r);
        if (r.type == SL_CESQL_STRING && r.slen == 10 &&
            memcmp(r.s, "COM.EX-42!", 10) == 0)
            t->matched++;
    }
    return NULL;
}

TEST(cesql_shared_between_threads)
{
    struct sl_event *ev = mk_event();
    struct sl_cesql *q = NULL;
    struct cq_thread t[4];
    pthread_t th[4];
    int i;

    ASSERT_OK(sl_cesql_compile("CONCAT(UPPER(LEFT(type, 6)), '-', count, '!')",
                               &q, NULL));
    for (i = 0; i < 4; i++) {
        t[i].q = q;
        t[i].ev = ev;
        t[i].matched = 0;
        ASSERT_EQ(pthread_create(&th[i], NULL, cq_thread_run, &t[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        ASSERT_EQ(t[i].matched, 20000);
    }
    sl_cesql_free(q);
    sl_cesql_free(NULL);
    sl_event_unref(ev);
}

TEST_MAIN()
