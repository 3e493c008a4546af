/*
 * test/unit/selector_test.c - store/selector: the Kubernetes label-selector
 * syntax (every operator, spacing, empty values), parse errors with their
 * byte positions, and matching semantics against label sets.
 */
#include "test/unit/check.h"

#include <json-c/json.h>

#include "store/selector.h"

/* Parse 'sel' and match it against the labels in JSON text 'labels'. */
static bool sel_matches(const char *sel, const char *labels)
{
    struct sl_selector *s = NULL;
    struct sl_diag d;
    struct json_object *l = labels != NULL ? json_tokener_parse(labels) : NULL;
    bool m;

    if (sl_selector_parse(sel, &s, &d) != 0)
        CHECK_FAIL("cannot parse '%s': %s", sel, d.msg);
    m = sl_selector_match(s, l);
    sl_selector_free(s);
    json_object_put(l);
    return m;
}

/* Parse must fail with 'rc' and a message starting "position <pos>:". */
static void parse_fails(const char *sel, int rc, int pos, const char *part)
{
    struct sl_selector *s = (struct sl_selector *)&s;
    struct sl_diag d;
    char want[64];

    sl_diag_clear(&d);
    ASSERT_EQ(sl_selector_parse(sel, &s, &d), rc);
    ASSERT(s == NULL);
    if (pos > 0) {
        snprintf(want, sizeof(want), "position %d: ", pos);
        if (strncmp(d.msg, want, strlen(want)) != 0)
            CHECK_FAIL("'%s': message '%s' does not start with '%s'", sel,
                       d.msg, want);
        snprintf(want, sizeof(want), "position %d", pos);
        ASSERT_STR_EQ(d.field, want);
    }
    if (part != NULL && strstr(d.msg, part) == NULL)
        CHECK_FAIL("'%s': message '%s' lacks '%s'", sel, d.msg, part);
}

TEST(empty_matches_everything)
{
    struct sl_selector *s = NULL;

    ASSERT_OK(sl_selector_parse(NULL, &s, NULL));
    ASSERT(s != NULL);
    ASSERT(sl_selector_empty(s));
    ASSERT(sl_selector_match(s, NULL));
    sl_selector_free(s);
    ASSERT_OK(sl_selector_parse("   ", &s, NULL));
    ASSERT(sl_selector_empty(s));
    sl_selector_free(s);
    ASSERT(sl_selector_match(NULL, NULL));
    ASSERT(sel_matches("", "{\"a\":\"b\"}"));
    sl_selector_free(NULL);
}

TEST(equality)
{
    ASSERT(sel_matches("a=b", "{\"a\":\"b\"}"));
    ASSERT(sel_matches("a==b", "{\"a\":\"b\",\"c\":\"d\"}"));
    ASSERT(sel_matches(" a = b ", "{\"a\":\"b\"}"));
    ASSERT(!sel_matches("a=b", "{\"a\":\"c\"}"));
    ASSERT(!sel_matches("a=b", "{}"));
    ASSERT(!sel_matches("a=b", NULL));
    /* != also holds when the label is absent (Kubernetes). */
    ASSERT(sel_matches("a!=b", "{\"a\":\"c\"}"));
    ASSERT(sel_matches("a!=b", "{}"));
    ASSERT(!sel_matches("a!=b", "{\"a\":\"b\"}"));
    /* Empty values. */
    ASSERT(sel_matches("a=", "{\"a\":\"\"}"));
    ASSERT(!sel_matches("a=", "{}"));
    ASSERT(!sel_matches("a=", "{\"a\":\"x\"}"));
    ASSERT(sel_matches("a!=,b", "{\"a\":\"x\",\"b\":\"\"}"));
    /* Keywords are plain values after an operator. */
    ASSERT(sel_matches("a=in", "{\"a\":\"in\"}"));
    ASSERT(sel_matches("a==notin", "{\"a\":\"notin\"}"));
}

TEST(sets_and_existence)
{
    ASSERT(sel_matches("env in (prod, staging)", "{\"env\":\"staging\"}"));
    ASSERT(sel_matches("env in(prod)", "{\"env\":\"prod\"}"));
    ASSERT(!sel_matches("env in (prod,staging)", "{\"env\":\"dev\"}"));
    ASSERT(!sel_matches("env in (prod)", "{}"));
    ASSERT(sel_matches("env notin (prod)", "{\"env\":\"dev\"}"));
    ASSERT(sel_matches("env notin (prod)", "{}"));
    ASSERT(!sel_matches("env notin (a,prod)", "{\"env\":\"prod\"}"));
    /* An empty member of a set is the empty value. */
    ASSERT(sel_matches("env in (a,)", "{\"env\":\"\"}"));
    ASSERT(sel_matches("env in (,a)", "{\"env\":\"\"}"));
    ASSERT(sel_matches("env in (a,,b)", "{\"env\":\"\"}"));
    ASSERT(sel_matches("env", "{\"env\":\"\"}"));
    ASSERT(!sel_matches("env", "{\"x\":\"y\"}"));
    ASSERT(sel_matches("!env", "{\"x\":\"y\"}"));
    ASSERT(sel_matches("! env", NULL));
    ASSERT(!sel_matches("!env", "{\"env\":\"y\"}"));
}

TEST(conjunction_and_key_forms)
{
    const char *l = "{\"app\":\"web\",\"tier\":\"front\","
                    "\"example.com/team\":\"a_b.c-d\"}";

    ASSERT(sel_matches("app=web,tier=front", l));
    ASSERT(sel_matches("app=web, tier in (front,back), !gone, example.com/"
                       "team==a_b.c-d",
                       l));
    ASSERT(!sel_matches("app=web,tier=back", l));
    ASSERT(!sel_matches("app,missing", l));
    ASSERT(sel_matches("app.kubernetes.io/name!=x", l));
    /* Non-string label values count as absent. */
    ASSERT(!sel_matches("n", "{\"n\":1}"));
    ASSERT(sel_matches("!n", "{\"n\":1}"));
    ASSERT(!sel_matches("a=b", "[\"a\"]"));
}

TEST(parse_errors_name_the_position)
{
    parse_fails("a=b,", SL_EINVAL, 5, "expected a label key");
    parse_fails(",a", SL_EINVAL, 1, "found ','");
    parse_fails("a b", SL_EINVAL, 3, "found 'b'");
    parse_fails("a=b c", SL_EINVAL, 5, "expected ',' or end");
    parse_fails("a in (x", SL_EINVAL, 8, "found end of selector");
    parse_fails("a in x", SL_EINVAL, 6, "expected '('");
    parse_fails("a in ()", SL_EINVAL, 7, "at least one value");
    parse_fails("a notin (x y)", SL_EINVAL, 12, "expected ',' or ')'");
    parse_fails("a>1", SL_EINVAL, 2, "not supported");
    parse_fails("a<1", SL_EINVAL, 2, "not supported");
    parse_fails("!", SL_EINVAL, 2, "after '!'");
    parse_fails("!a=b", SL_EINVAL, 3, "expected ',' or end");
    parse_fails("a=(b)", SL_EINVAL, 3, "expected a label value");
    parse_fails("in=b", SL_EINVAL, 1, "expected a label key");
    parse_fails("a,=b", SL_EINVAL, 3, "expected a label key");
    /* Key and value syntax. */
    parse_fails("-a=b", SL_EINVAL, 1, "invalid label key '-a'");
    parse_fails("x,Example.com/a=b", SL_EINVAL, 3, "invalid label key");
    parse_fails("a/=b", SL_EINVAL, 1, "invalid label key");
    parse_fails("a=b/c", SL_EINVAL, 3, "invalid label value 'b/c'");
    parse_fails("a in (ok, -bad)", SL_EINVAL, 11, "invalid label value");
    parse_fails("a=0123456789012345678901234567890123456789012345678901234567"
                "890123",
                SL_EINVAL, 3, "at most 63");
}

TEST(length_limit)
{
    char big[SL_SELECTOR_MAX_LEN + 2];
    struct sl_selector *s = NULL;
    size_t i;

    for (i = 0; i < sizeof(big) - 1; i++)
        big[i] = (i % 4 == 3) ? ',' : 'a';
    big[sizeof(big) - 1] = '\0';
    parse_fails(big, SL_ETOOBIG, 0, "more than");
    /* Just under the limit is fine (many short requirements). */
    big[SL_SELECTOR_MAX_LEN - 1] = '\0';
    if (big[SL_SELECTOR_MAX_LEN - 2] == ',')
        big[SL_SELECTOR_MAX_LEN - 2] = '\0';
    ASSERT_OK(sl_selector_parse(big, &s, NULL));
    ASSERT(!sl_selector_empty(s));
    ASSERT(!sl_selector_match(s, NULL));
    sl_selector_free(s);
}

TEST_MAIN()
