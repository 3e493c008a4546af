/*
 * test/unit/filter_explain_test.c - sl_filter_explain and
 * sl_filter_explain_json: the verdict is exactly sl_filter_match's over a
 * table of specs and thousands of generated ones, and every element of an
 * explanation agrees with its children (all/any/not, short-circuits,
 * attribute lines); the words for every dialect, the legacy "" rule,
 * "no filter" elements, spec.filter ignored, quoting and cutting of long
 * values, hints for near names; a golden text; and the generic line of a
 * dialect without an explain slot (white-box, through
 * triggers/filter_internal.h: a made-up row, as every real one has a slot).
 */
#include "test/unit/check.h"

#include <json-c/json.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/event.h"
#include "triggers/filter.h"
#include "triggers/filter_internal.h"

/* ---- events ---- */

enum { E_ORDER, E_OTHER, E_V03, E_COUNT };

static struct sl_event *mk_order(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "abc-123", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/shop/eu", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.order.created", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "orders/42", NULL));
    ASSERT_OK(sl_event_set_str(ev, "myext", "hello", NULL));
    ASSERT_OK(sl_event_set_str(ev, "dataschema", "http://x/s", NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", 42, NULL));
    ASSERT_OK(sl_event_set_str(ev, "empty", "", NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

static struct sl_event *mk_other(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "2", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/warehouse/1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.order.deleted", NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", -7, NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

static struct sl_event *mk_v03(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V03);

    ASSERT_OK(sl_event_set_str(ev, "id", "3", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/old", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.order.created", NULL));
    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "http://x/schema", NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* ---- checking an explanation against itself ---- */

static const char *jstr(const struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return NULL;
    return json_object_get_string(v);
}

static struct json_object *jarr(const struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    json_object_object_get_ex(o, key, &v);
    return v;
}

static bool is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

/*
 * Check that element 'e' agrees with its children and return whether it
 * passes ("no filter" counts as passing). 'ctx' names the case.
 */
static bool check_elem(const struct json_object *e, const char *ctx)
{
    const char *path = jstr(e, "path"), *dl = jstr(e, "dialect"),
               *res = jstr(e, "result");
    struct json_object *kids = jarr(e, "elements"), *det = jarr(e, "details");
    size_t nk = kids ? json_object_array_length(kids) : 0;
    size_t nd = det ? json_object_array_length(det) : 0;
    bool pass = is(res, "pass");

    if (path == NULL || res == NULL)
        CHECK_FAIL("%s: element without path or result", ctx);
    /* Children's paths extend the parent's (the element a 'not' holds
     * is at the not's own path when it sets no dialect). */
    for (size_t i = 0; i < nk; i++) {
        const struct json_object *k = json_object_array_get_idx(kids, i);
        const char *kp = jstr(k, "path");

        if (kp != NULL && strcmp(kp, path) == 0 && is(dl, "not") &&
            jstr(k, "dialect") == NULL)
            continue;
        if (kp == NULL || strncmp(kp, path, strlen(path)) != 0 ||
            (kp[strlen(path)] != '[' && kp[strlen(path)] != '.'))
            CHECK_FAIL("%s: child path %s under %s", ctx, kp ? kp : "-", path);
    }
    if (is(res, "no filter")) {
        for (size_t i = 0; i < nk; i++)
            if (!is(jstr(json_object_array_get_idx(kids, i), "result"),
                    "no filter"))
                CHECK_FAIL("%s: %s: no filter made of a filter", ctx, path);
        return true;
    }
    if (!is(res, "pass") && !is(res, "fail"))
        CHECK_FAIL("%s: %s: result %s", ctx, path, res);
    if (is(dl, "exact") || is(dl, "prefix") || is(dl, "suffix") ||
        is(dl, "attributes")) {
        bool all = true;

        if (nd == 0 || nk != 0)
            CHECK_FAIL("%s: %s: attribute map without details", ctx, path);
        for (size_t i = 0; i < nd; i++) {
            const char *r = jstr(json_object_array_get_idx(det, i), "result");

            if (!is(r, "pass") && !is(r, "fail"))
                CHECK_FAIL("%s: %s: detail result %s", ctx, path, r);
            all = all && is(r, "pass");
        }
        if (all != pass)
            CHECK_FAIL("%s: %s: %s but its attributes say %d", ctx, path, res,
                       all);
    } else if (is(dl, "all") || is(dl, "any")) {
        bool want_all = is(dl, "all"), decided = false, skipped = false;

        for (size_t i = 0; i < nk; i++) {
            const struct json_object *k = json_object_array_get_idx(kids, i);
            const char *kr = jstr(k, "result");

            if (is(kr, "no filter")) {
                check_elem(k, ctx);
                continue;
            }
            if (is(kr, "not evaluated")) {
                if (!decided)
                    CHECK_FAIL("%s: %s: skipped before a decision", ctx, path);
                skipped = true;
                continue;
            }
            if (decided)
                CHECK_FAIL("%s: %s: evaluated after the decision", ctx, path);
            if (check_elem(k, ctx) != want_all)
                decided = true;
        }
        (void)skipped;
        if ((want_all ? !decided : decided) != pass)
            CHECK_FAIL("%s: %s: %s disagrees with its elements", ctx, path,
                       res);
    } else if (is(dl, "not")) {
        if (nk != 1)
            CHECK_FAIL("%s: %s: not with %zu elements", ctx, path, nk);
        if (check_elem(json_object_array_get_idx(kids, 0), ctx) == pass)
            CHECK_FAIL("%s: %s: not agrees with its element", ctx, path);
    } else if (is(dl, "cesql")) {
        /* A leaf: the expression and the attributes it reads as detail
         * lines, no elements. */
        if (nd < 1 || nk != 0)
            CHECK_FAIL("%s: %s: cesql with %zu details, %zu elements", ctx,
                       path, nd, nk);
    } else {
        CHECK_FAIL("%s: %s: unexpected dialect %s", ctx, path, dl ? dl : "-");
    }
    return pass;
}

/*
 * Explain 'spec' for 'ev' both ways; check the verdicts against
 * sl_filter_match and the tree against itself. Returns the text (sl_free).
 */
static char *explain_checked(const char *spec, const struct sl_event *ev)
{
    struct json_object *js = json_tokener_parse(spec), *x, *m = NULL;
    struct sl_filter *f = NULL;
    struct sl_diag d = { { 0 }, { 0 } };
    struct sl_buf b;
    bool want, got;

    if (js == NULL && strcmp(spec, "null") != 0)
        CHECK_FAIL("bad JSON: %s", spec);
    if (sl_filter_compile(js, &f, &d) != 0)
        CHECK_FAIL("%s: %s: %s", spec, d.field, d.msg);
    want = sl_filter_match(f, ev);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    got = sl_filter_explain(f, ev, &b);
    if (got != want)
        CHECK_FAIL("%s: explain says %d, match %d\n%s", spec, got, want,
                   sl_buf_str(&b));
    x = sl_filter_explain_json(f, ev);
    ASSERT(json_object_object_get_ex(x, "matches", &m));
    if (json_object_get_boolean(m) != want)
        CHECK_FAIL("%s: json says %d, match %d", spec,
                   json_object_get_boolean(m), want);
    if (check_elem(jarr(x, "filter"), spec) != want)
        CHECK_FAIL("%s: the root element disagrees with match\n%s", spec,
                   sl_buf_str(&b));
    ASSERT(jarr(x, "notes") != NULL && jarr(x, "hints") != NULL);
    if (getenv("SL_TEST_SHOW") != NULL)
        printf("%s\n%s\n", spec, sl_buf_str(&b));
    json_object_put(x);
    sl_filter_free(f);
    json_object_put(js);
    return sl_buf_steal(&b, NULL);
}

static void want_has(const char *text, const char *needle, const char *ctx)
{
    if (strstr(text, needle) == NULL)
        CHECK_FAIL("%s: want \"%s\" in:\n%s", ctx, needle, text);
}

static void want_not(const char *text, const char *needle, const char *ctx)
{
    if (strstr(text, needle) != NULL)
        CHECK_FAIL("%s: do not want \"%s\" in:\n%s", ctx, needle, text);
}

/* ---- phrases per dialect ---- */

struct pcase {
    const char *spec;
    int ev;
    const char *has[4]; /* phrases the text must hold */
    const char * not ;  /* one it must not, or NULL */
};

static const struct pcase phrases[] = {
    /* exact: actual vs wanted, or not set */
    { "{\"filters\":[{\"exact\":{\"type\":\"com.example.order.deleted\"}}]}",
      E_ORDER,
      { "spec.filters[0].exact: FAIL",
        "type: FAIL: is \"com.example.order.created\", wanted exactly "
        "\"com.example.order.deleted\"" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"type\":\"com.example.order.created\"}}]}",
      E_ORDER,
      { "spec.filters: PASS", "spec.filters[0].exact: PASS",
        "type: PASS: is \"com.example.order.created\", as wanted" },
      "FAIL" },
    { "{\"filters\":[{\"exact\":{\"nothere\":\"x\"}}]}",
      E_ORDER,
      { "nothere: FAIL: attribute 'nothere' is not set" },
      "hint:" },
    { "{\"filters\":[{\"exact\":{\"source\":\"/SHOP/EU\"}}]}",
      E_ORDER,
      { "only letter case differs" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"source\":\" /shop/eu\"}}]}",
      E_ORDER,
      { "only leading or trailing spaces differ" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"count\":\"42\",\"id\":\"x\",\"type\":"
      "\"y\"}}]}",
      E_ORDER,
      { "spec.filters[0].exact: FAIL: 2 of its 3 attributes do not match",
        "count: PASS: is \"42\", as wanted", "id: FAIL", "type: FAIL" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"count\":\"42\",\"id\":\"x\"}}]}",
      E_ORDER,
      { "1 of its 2 attributes does not match" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"count\":\"4\",\"id\":\"x\"}}]}",
      E_ORDER,
      { "spec.filters[0].exact: FAIL: none of its 2 attributes match" },
      NULL },
    /* prefix, suffix */
    { "{\"filters\":[{\"prefix\":{\"source\":\"/warehouse\"}}]}",
      E_ORDER,
      { "source: FAIL: \"/shop/eu\" does not start with \"/warehouse\"" },
      NULL },
    { "{\"filters\":[{\"prefix\":{\"source\":\"/warehouse\"}}]}",
      E_OTHER,
      { "source: PASS: \"/warehouse/1\" starts with \"/warehouse\"" },
      NULL },
    { "{\"filters\":[{\"prefix\":{\"source\":\"/Shop\"}}]}",
      E_ORDER,
      { "does not start with", "only letter case differs" },
      NULL },
    { "{\"filters\":[{\"suffix\":{\"subject\":\"/42\"}}]}",
      E_ORDER,
      { "subject: PASS: \"orders/42\" ends with \"/42\"" },
      NULL },
    { "{\"filters\":[{\"suffix\":{\"subject\":\"/42\"}}]}",
      E_OTHER,
      { "subject: FAIL: attribute 'subject' is not set" },
      NULL },
    { "{\"filters\":[{\"suffix\":{\"type\":\".updated\"}}]}",
      E_ORDER,
      { "\"com.example.order.created\" does not end with \".updated\"" },
      NULL },
    /* legacy attributes and its "" rule */
    { "{\"filter\":{\"attributes\":{\"type\":\"com.example.order.created\","
      "\"subject\":\"\",\"myext\":\"\"}}}",
      E_ORDER,
      { "spec.filter.attributes: PASS: all 3 attributes match",
        "subject: PASS: is \"orders/42\": present and non-empty, as the value "
        "\"\" asks" },
      NULL },
    { "{\"filter\":{\"attributes\":{\"subject\":\"\"}}}",
      E_OTHER,
      { "spec.filter.attributes: FAIL",
        "subject: FAIL: attribute 'subject' is not set (the value \"\" asks "
        "for it to be present and non-empty)" },
      NULL },
    { "{\"filter\":{\"attributes\":{\"empty\":\"\"}}}",
      E_ORDER,
      { "empty: FAIL: is empty, but the value \"\" asks for a non-empty "
        "value" },
      NULL },
    /* all / any / not and short-circuits */
    { "{\"filters\":[{\"exact\":{\"id\":\"zz\"}},{\"prefix\":{\"type\":"
      "\"com\"}},{\"suffix\":{\"type\":\"d\"}}]}",
      E_ORDER,
      { "spec.filters: FAIL: every element must pass, and "
        "spec.filters[0].exact did not",
        "spec.filters[1].prefix: not evaluated: spec.filters[0].exact already "
        "failed, so the 'all' fails",
        "spec.filters[2].suffix: not evaluated" },
      NULL },
    { "{\"filters\":[{\"any\":[{\"exact\":{\"id\":\"no\"}},{\"exact\":{\"id\":"
      "\"abc-123\"}},{\"exact\":{\"id\":\"later\"}}]}]}",
      E_ORDER,
      { "spec.filters[0].any: PASS: spec.filters[0].any[1].exact passed",
        "spec.filters[0].any[0].exact: FAIL",
        "spec.filters[0].any[2].exact: not evaluated: "
        "spec.filters[0].any[1].exact already passed, so the 'any' passes" },
      NULL },
    { "{\"filters\":[{\"any\":[{\"exact\":{\"id\":\"no\"}},{\"exact\":{\"id\":"
      "\"nope\"}}]}]}",
      E_ORDER,
      { "spec.filters[0].any: FAIL: none of its elements passed" },
      "not evaluated" },
    { "{\"filters\":[{\"all\":[{\"exact\":{\"id\":\"abc-123\"}},{\"prefix\":{"
      "\"type\":\"com.\"}}]}]}",
      E_ORDER,
      { "spec.filters[0].all: PASS: all its elements passed",
        "spec.filters[0].all[1].prefix: PASS" },
      NULL },
    { "{\"filters\":[{\"not\":{\"exact\":{\"type\":\"com.example.order."
      "created\"}}}]}",
      E_ORDER,
      { "spec.filters[0].not: FAIL: spec.filters[0].not.exact passed, so "
        "'not' fails",
        "spec.filters[0].not.exact: PASS" },
      NULL },
    { "{\"filters\":[{\"not\":{\"any\":[{\"exact\":{\"id\":\"x\"}}]}}]}",
      E_ORDER,
      { "spec.filters[0].not: PASS: spec.filters[0].not.any did not pass, so "
        "'not' passes",
        "spec.filters[0].not.any[0].exact: FAIL" },
      NULL },
    /* "no filter" elements, said as such and where */
    { "{\"filters\":[{}]}",
      E_ORDER,
      { "spec.filters: no filter: none of its elements is a filter, so every "
        "event passes",
        "spec.filters[0]: no filter: it sets no dialect" },
      NULL },
    { "{\"filters\":[{\"exact\":{\"type\":\"\"}},{\"exact\":{\"id\":\"2\"}}]}",
      E_ORDER,
      { "spec.filters[0].exact: no filter: the entry 'type' has an empty "
        "value, so Knative cannot build this exact filter and skips it",
        "spec.filters[1].exact: FAIL" },
      NULL },
    { "{\"filters\":[{\"not\":{\"prefix\":{\"type\":\"\"}}}]}",
      E_ORDER,
      { "spec.filters[0].not: no filter: it negates an element that is no "
        "filter",
        "spec.filters[0].not.prefix: no filter: the entry 'type'" },
      NULL },
    { "{\"filters\":[{\"any\":[{},{\"exact\":{\"id\":\"2\"}}]}]}",
      E_ORDER,
      { "spec.filters[0].any[0]: no filter",
        "spec.filters[0].any: FAIL: its element did not pass (no-filter "
        "elements left out)" },
      NULL },
    { "{\"filters\":[{\"all\":[{\"any\":[{}]},{\"exact\":{\"id\":\"abc-123\"}}"
      "]}]}",
      E_ORDER,
      { "spec.filters[0].all[0].any: no filter: none of its elements is a "
        "filter",
        "spec.filters[0].all[0].any[0]: no filter",
        "spec.filters[0].all: PASS: its element passed (no-filter elements "
        "left out)" },
      NULL },
    /* cesql: the expression, then TRUE/FALSE, the first error, or a
     * value that is not a Boolean */
    { "{\"filters\":[{\"cesql\":\"type LIKE '%.created' AND count > 40\"}]}",
      E_ORDER,
      { "spec.filters[0].cesql: PASS: the expression is TRUE",
        "type LIKE '%.created' AND count > 40" },
      NULL },
    { "{\"filters\":[{\"cesql\":\"count > 40\"}]}",
      E_OTHER,
      { "spec.filters[0].cesql: FAIL: the expression is FALSE" },
      NULL },
    { "{\"filters\":[{\"cesql\":\"myext = 'hello'\"}]}",
      E_OTHER,
      { "spec.filters[0].cesql: FAIL: evaluation failed with "
        "MissingAttributeError",
        "myext: is not set" },
      NULL },
    /* the attributes it read, each once, with their values */
    { "{\"filters\":[{\"cesql\":\"source LIKE '/shop/%' AND EXISTS source "
      "AND count > 1\"}]}",
      E_ORDER,
      { "source: is \"/shop/eu\"", "count: is \"42\"" },
      "source: is \"/shop/eu\"\n      source" },
    { "{\"filters\":[{\"cesql\":\"count + 1\"}]}",
      E_ORDER,
      { "FAIL: the result is the Integer 43, not a Boolean" },
      NULL },
    { "{\"filters\":[{\"cesql\":\"UPPER(subject)\"}]}",
      E_ORDER,
      { "FAIL: the result is the String \"ORDERS/42\", not a Boolean" },
      NULL },
    { "{\"filters\":[{\"not\":{\"cesql\":\"1 / 0 = 0\"}}]}",
      E_ORDER,
      { "spec.filters[0].not.cesql: FAIL: evaluation failed with MathError",
        "spec.filters[0].not: PASS" },
      NULL },
    { "{\"filters\":[{\"cesql\":\"\"}]}",
      E_ORDER,
      { "spec.filters[0]: no filter: it sets no dialect" },
      NULL },
    { "{}",
      E_ORDER,
      { "spec: no filter: the Trigger sets neither spec.filters nor "
        "spec.filter, so every event passes" },
      NULL },
    { "null", E_ORDER, { "spec: no filter" }, NULL },
    { "{\"filter\":{}}",
      E_OTHER,
      { "spec.filter: no filter: it has no attributes, so every event "
        "passes" },
      NULL },
    { "{\"filter\":{\"attributes\":{}}}",
      E_OTHER,
      { "spec.filter.attributes: no filter: the map is empty, so every event "
        "passes" },
      NULL },
    { "{\"filters\":[],\"filter\":{\"attributes\":{\"type\":\"x\"}}}",
      E_OTHER,
      { "spec.filter.attributes: FAIL" },
      "note:" },
    /* spec.filter ignored when spec.filters applies; not for an empty one */
    { "{\"filter\":{\"attributes\":{\"type\":\"x\"}},\"filters\":[{\"exact\":{"
      "\"id\":\"2\"}}]}",
      E_OTHER,
      { "note: spec.filter is ignored: spec.filters is not empty, and then "
        "Knative uses spec.filters only\nspec.filters: PASS" },
      "spec.filter.attributes" },
    { "{\"filter\":{},\"filters\":[{\"exact\":{\"id\":\"2\"}}]}",
      E_OTHER,
      { "spec.filters: PASS" },
      "note:" },
    { "{\"filter\":{\"attributes\":{}},\"filters\":[{\"exact\":{\"id\":\"2\"}}"
      "]}",
      E_OTHER,
      { "spec.filters: PASS" },
      "note:" },
    { "{\"filter\":{\"attributes\":7},\"filters\":[{\"exact\":{\"id\":\"2\"}}"
      "]}",
      E_OTHER,
      { "note: spec.filter is ignored" },
      NULL },
    /* typed attributes compare as their canonical strings */
    { "{\"filters\":[{\"exact\":{\"count\":\"-7\"}}]}",
      E_OTHER,
      { "count: PASS: is \"-7\", as wanted" },
      NULL },
    /* 0.3 names */
    { "{\"filters\":[{\"exact\":{\"schemaurl\":\"http://x/schema\"}}]}",
      E_V03,
      { "schemaurl: PASS" },
      NULL },
};

TEST(explain_phrases)
{
    struct sl_event *evs[E_COUNT] = { mk_order(), mk_other(), mk_v03() };

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        const struct pcase *c = &phrases[i];
        char *text = explain_checked(c->spec, evs[c->ev]);

        for (size_t j = 0; j < 4 && c->has[j]; j++)
            want_has(text, c->has[j], c->spec);
        if (c->not )
            want_not(text, c->not, c->spec);
        sl_free(text);
    }
    for (int e = 0; e < E_COUNT; e++)
        sl_event_unref(evs[e]);
}

/* ---- the exact text, once ---- */

TEST(explain_golden)
{
    static const char spec[] =
        "{\"filter\":{\"attributes\":{\"type\":\"x\"}},\"filters\":["
        "{\"exact\":{\"type\":\"com.example.order.created\"}},"
        "{\"any\":[{\"prefix\":{\"source\":\"/warehouse\"}},{},"
        "{\"suffix\":{\"subject\":\"/42\"}},{\"exact\":{\"id\":\"x\"}}]},"
        "{\"not\":{\"exact\":{\"sorce\":\"/shop/eu\"}}},"
        "{\"all\":[{\"exact\":{\"id\":\"zz\"}},{\"exact\":{\"type\":\"\"}},"
        "{\"prefix\":{\"type\":\"com\"}}]}]}";
    static const char want[] =
        "note: spec.filter is ignored: spec.filters is not empty, and then "
        "Knative uses spec.filters only\n"
        "spec.filters: FAIL: every element must pass, and spec.filters[3].all "
        "did not\n"
        "  spec.filters[0].exact: PASS\n"
        "    type: PASS: is \"com.example.order.created\", as wanted\n"
        "  spec.filters[1].any: PASS: spec.filters[1].any[2].suffix passed\n"
        "    spec.filters[1].any[0].prefix: FAIL\n"
        "      source: FAIL: \"/shop/eu\" does not start with \"/warehouse\"\n"
        "    spec.filters[1].any[1]: no filter: it sets no dialect (an empty "
        "exact, prefix, suffix, all, any, not or cesql does not count), so "
        "Knative skips it\n"
        "    spec.filters[1].any[2].suffix: PASS\n"
        "      subject: PASS: \"orders/42\" ends with \"/42\"\n"
        "    spec.filters[1].any[3].exact: not evaluated: "
        "spec.filters[1].any[2].suffix already passed, so the 'any' passes\n"
        "  spec.filters[2].not: PASS: spec.filters[2].not.exact did not pass, "
        "so 'not' passes\n"
        "    spec.filters[2].not.exact: FAIL\n"
        "      sorce: FAIL: attribute 'sorce' is not set\n"
        "  spec.filters[3].all: FAIL: every element must pass, and "
        "spec.filters[3].all[0].exact did not\n"
        "    spec.filters[3].all[0].exact: FAIL\n"
        "      id: FAIL: is \"abc-123\", wanted exactly \"zz\"\n"
        "    spec.filters[3].all[1].exact: no filter: the entry 'type' has an "
        "empty value, so Knative cannot build this exact filter and skips it\n"
        "    spec.filters[3].all[2].prefix: not evaluated: "
        "spec.filters[3].all[0].exact already failed, so the 'all' fails\n"
        "hint: the event has no 'sorce' but has 'source' = \"/shop/eu\": a "
        "typo in one of the names?\n";
    struct sl_event *ev = mk_order();
    char *text = explain_checked(spec, ev);

    if (strcmp(text, want) != 0)
        CHECK_FAIL("got:\n%s\nwant:\n%s", text, want);
    sl_free(text);
    sl_event_unref(ev);
}

/* ---- JSON form ---- */

TEST(explain_json_shape)
{
    struct json_object *spec = json_tokener_parse(
        "{\"filters\":[{\"exact\":{\"type\":\"x\"}},{\"prefix\":{\"id\":"
        "\"a\"}}]}");
    struct json_object *x, *f, *el, *e0, *d0;
    struct sl_event *ev = mk_order();
    struct sl_filter *f0 = NULL;

    ASSERT_OK(sl_filter_compile(spec, &f0, NULL));
    x = sl_filter_explain_json(f0, ev);
    f = jarr(x, "filter");
    ASSERT_STR_EQ(jstr(f, "path"), "spec.filters");
    ASSERT_STR_EQ(jstr(f, "dialect"), "all");
    ASSERT_STR_EQ(jstr(f, "result"), "fail");
    el = jarr(f, "elements");
    ASSERT_EQ(json_object_array_length(el), 2);
    e0 = json_object_array_get_idx(el, 0);
    ASSERT_STR_EQ(jstr(e0, "path"), "spec.filters[0].exact");
    ASSERT_STR_EQ(jstr(e0, "dialect"), "exact");
    d0 = json_object_array_get_idx(jarr(e0, "details"), 0);
    ASSERT_STR_EQ(jstr(d0, "label"), "type");
    ASSERT_STR_EQ(jstr(d0, "result"), "fail");
    ASSERT_STR_EQ(jstr(d0, "text"),
                  "is \"com.example.order.created\", wanted exactly \"x\"");
    ASSERT_STR_EQ(jstr(json_object_array_get_idx(el, 1), "result"),
                  "not evaluated");
    ASSERT_EQ(json_object_array_length(jarr(x, "hints")), 0);
    json_object_put(x);
    sl_filter_free(f0);
    sl_event_unref(ev);
    json_object_put(spec);
}

/* ---- quoting ---- */

TEST(explain_quote)
{
    char q[SL__FILTER_QUOTE_MAX], big[400];

    ASSERT_STR_EQ(sl__filter_quote("a\"b\\c", 5, q, sizeof(q)),
                  "\"a\\\"b\\\\c\"");
    ASSERT_STR_EQ(sl__filter_quote("x\ny\tz\x01", 6, q, sizeof(q)),
                  "\"x\\ny\\tz\\x01\"");
    ASSERT_STR_EQ(sl__filter_quote("\xff\xc3\xa9", 3, q, sizeof(q)),
                  "\"\\xff\xc3\xa9\"");
    ASSERT_STR_EQ(sl__filter_quote("", 0, q, sizeof(q)), "\"\"");
    /* Cut after 60 characters, never inside a UTF-8 sequence. */
    for (size_t i = 0; i < 300; i += 2) {
        big[i] = '\xc3';
        big[i + 1] = '\xa9';
    }
    sl__filter_quote(big, 300, q, sizeof(q));
    ASSERT(strlen(q) == 1 + 120 + 1 + strlen("... (300 bytes)"));
    ASSERT(strcmp(q + 122, "... (300 bytes)") == 0);
    /* The worst case fits. */
    memset(big, 1, sizeof(big));
    sl__filter_quote(big, sizeof(big), q, sizeof(q));
    ASSERT(strstr(q, "... (400 bytes)") != NULL);
}

TEST(explain_long_value_is_cut)
{
    struct sl_event *ev = mk_order();
    struct json_object *spec;
    char long_val[301], spec_txt[512];
    struct sl_filter *f = NULL;
    struct sl_buf b;

    memset(long_val, 'v', 300);
    long_val[300] = '\0';
    ASSERT_OK(sl_event_set_str(ev, "big", long_val, NULL));
    snprintf(spec_txt, sizeof(spec_txt),
             "{\"filters\":[{\"exact\":{\"big\":\"w\"}}]}");
    spec = json_tokener_parse(spec_txt);
    ASSERT_OK(sl_filter_compile(spec, &f, NULL));
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT(!sl_filter_explain(f, ev, &b));
    want_has(sl_buf_str(&b), "\"... (300 bytes), wanted exactly \"w\"", "long");
    want_not(sl_buf_str(&b), long_val, "long");
    sl_buf_fini(&b);
    sl_filter_free(f);
    json_object_put(spec);
    sl_event_unref(ev);
}

/* ---- hints ---- */

struct hcase {
    const char *spec;
    int ev;
    const char *hint; /* NULL: no hint at all */
};

static const struct hcase hints[] = {
    { "{\"filters\":[{\"exact\":{\"Type\":\"com.example.order.created\"}}]}",
      E_ORDER,
      "hint: the filter asks for 'Type', which no event can carry "
      "(CloudEvents attribute names are lower-case letters and digits only); "
      "this event has 'type' = \"com.example.order.created\": write the name "
      "in lower case" },
    { "{\"filter\":{\"attributes\":{\"myExt\":\"hello\"}}}", E_ORDER,
      "this event has 'myext' = \"hello\": write the name in lower case" },
    { "{\"filters\":[{\"exact\":{\"my_ext\":\"x\"}}]}", E_ORDER,
      "hint: the filter asks for 'my_ext', which no event can carry" },
    { "{\"filters\":[{\"prefix\":{\"sorce\":\"/\"}}]}", E_ORDER,
      "hint: the event has no 'sorce' but has 'source' = \"/shop/eu\": a "
      "typo in one of the names?" },
    { "{\"filters\":[{\"suffix\":{\"subjet\":\"2\"}}]}", E_ORDER,
      "has 'subject' = \"orders/42\"" },
    { "{\"filters\":[{\"exact\":{\"datamediatype\":\"application/json\"}}]}",
      E_ORDER,
      "'datamediatype' is a virtual attribute of Knative's MT broker" },
    { "{\"filters\":[{\"exact\":{\"schemaurl\":\"http://x/s\"}}]}", E_ORDER,
      "'schemaurl' is the CloudEvents 0.3 name; this 1.0 event carries "
      "'dataschema'" },
    { "{\"filters\":[{\"exact\":{\"dataschema\":\"http://x/s\"}}]}", E_V03,
      "'dataschema' is the CloudEvents 1.0 name; this 0.3 event carries "
      "'schemaurl'" },
    /* nothing close, or the attribute is there */
    { "{\"filters\":[{\"exact\":{\"region\":\"eu\"}}]}", E_ORDER, NULL },
    { "{\"filters\":[{\"exact\":{\"type\":\"nope\"}}]}", E_ORDER, NULL },
    { "{\"filters\":[{\"not\":{\"exact\":{\"subject\":\"x\"}}}]}", E_OTHER,
      NULL },
};

TEST(explain_hints)
{
    struct sl_event *evs[E_COUNT] = { mk_order(), mk_other(), mk_v03() };

    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        char *text = explain_checked(hints[i].spec, evs[hints[i].ev]);

        if (hints[i].hint)
            want_has(text, hints[i].hint, hints[i].spec);
        else
            want_not(text, "hint:", hints[i].spec);
        sl_free(text);
    }
    for (int e = 0; e < E_COUNT; e++)
        sl_event_unref(evs[e]);
}

/* A name asked for twice gives one hint. */
TEST(explain_hint_once)
{
    struct sl_event *ev = mk_order();
    char *text = explain_checked(
        "{\"filters\":[{\"any\":[{\"exact\":{\"sorce\":\"a\"}},{\"prefix\":{"
        "\"sorce\":\"b\"}}]}]}",
        ev);
    const char *p = strstr(text, "hint:");

    ASSERT(p != NULL);
    ASSERT(strstr(p + 1, "hint:") == NULL);
    sl_free(text);
    sl_event_unref(ev);
}

/* ---- generated filters: explain == match, and the tree agrees ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *const gen_names[] = { "type",  "source", "subject",
                                         "id",    "count",  "myext",
                                         "empty", "nope",   "schemaurl" };
static const char *const gen_vals[] = { "com.example.order.created",
                                        "com.",
                                        ".created",
                                        "com.example.order",
                                        "/shop/eu",
                                        "/warehouse",
                                        "orders/42",
                                        "42",
                                        "-7",
                                        "abc-123",
                                        "2",
                                        "hello",
                                        "",
                                        "x",
                                        "/old",
                                        "3",
                                        "created",
                                        "/" };

static void gen_map(struct sl_buf *b)
{
    uint32_t n = 1 + rnd(3);

    sl_buf_appendc(b, '{');
    for (uint32_t i = 0; i < n; i++)
        sl_buf_appendf(b, "%s\"%s\":\"%s\"", i ? "," : "",
                       gen_names[rnd(sizeof(gen_names) / sizeof(*gen_names))],
                       gen_vals[rnd(sizeof(gen_vals) / sizeof(*gen_vals))]);
    sl_buf_appendc(b, '}');
}

static void gen_elem(struct sl_buf *b, int depth)
{
    uint32_t k = rnd(depth > 3 ? 3 : 8);

    switch (k) {
    case 0:
        sl_buf_appends(b, "{\"exact\":");
        gen_map(b);
        break;
    case 1:
        sl_buf_appends(b, "{\"prefix\":");
        gen_map(b);
        break;
    case 2:
        sl_buf_appends(b, "{\"suffix\":");
        gen_map(b);
        break;
    case 3:
    case 4: {
        uint32_t n = rnd(4);

        sl_buf_appends(b, k == 3 ? "{\"all\":[" : "{\"any\":[");
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                sl_buf_appendc(b, ',');
            gen_elem(b, depth + 1);
        }
        sl_buf_appendc(b, ']');
        break;
    }
    case 5:
        sl_buf_appends(b, "{\"not\":");
        gen_elem(b, depth + 1);
        break;
    case 6:
        sl_buf_appends(b, "{");
        break;
    default:
        sl_buf_appends(b, "{\"exact\":");
        gen_map(b);
        break;
    }
    sl_buf_appendc(b, '}');
}

TEST(explain_agrees_with_match_generated)
{
    struct sl_event *evs[E_COUNT] = { mk_order(), mk_other(), mk_v03() };
    size_t matched = 0, total = 0;

    for (int i = 0; i < 3000; i++) {
        struct sl_buf b;
        uint32_t n;

        sl_buf_init(&b, SL_BUF_UNLIMITED);
        if (rnd(5) == 0) {
            sl_buf_appends(&b, "{\"filter\":{\"attributes\":");
            gen_map(&b);
            sl_buf_appends(&b, "}}");
        } else {
            n = 1 + rnd(3);
            sl_buf_appends(&b, "{\"filters\":[");
            for (uint32_t j = 0; j < n; j++) {
                if (j)
                    sl_buf_appendc(&b, ',');
                gen_elem(&b, 0);
            }
            sl_buf_appends(&b, "]}");
        }
        for (int e = 0; e < E_COUNT; e++) {
            char *text = explain_checked(sl_buf_str(&b), evs[e]);

            matched += strncmp(text, "spec.filters: FAIL", 18) != 0 &&
                       strncmp(text, "spec.filter.attributes: FAIL", 28) != 0;
            total++;
            sl_free(text);
        }
        sl_buf_fini(&b);
    }
    /* The generator reaches both verdicts often. */
    ASSERT(matched > total / 10 && matched < total - total / 10);
    for (int e = 0; e < E_COUNT; e++)
        sl_event_unref(evs[e]);
}

/* ---- a dialect without an explain slot (a made-up cesql row) ---- */

static bool fake_match(const struct sl__filter_node *n,
                       const struct sl_event *ev)
{
    (void)n;
    return strcmp(sl_event_id(ev), "abc-123") == 0;
}

static void fake_free(struct sl__filter_node *n)
{
    sl_free(n);
}

static const struct sl__filter_dialect fake_dialect = {
    .name = "cesql",
    .compile = NULL,
    .match = fake_match,
    .free_node = fake_free,
    .explain = NULL,
};

TEST(explain_without_slot_uses_match)
{
    struct sl__filter_node *n = sl_xcalloc(1, sizeof(*n));
    struct sl_event *yes = mk_order(), *no = mk_other();
    struct json_object *x;
    struct sl_buf b;

    n->dialect = &fake_dialect;
    x = sl__filter_explain_root(n, "spec.filters[0].cesql", false, yes);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT(sl__filter_explain_render(x, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "spec.filters[0].cesql: PASS\n");
    json_object_put(x);
    sl_buf_reset(&b);
    x = sl__filter_explain_root(n, "spec.filters[0].cesql", false, no);
    ASSERT(!sl__filter_explain_render(x, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "spec.filters[0].cesql: FAIL: the "
                                  "expression is not true for this event\n");
    json_object_put(x);
    sl_buf_fini(&b);
    sl__filter_node_free(n);
    sl_event_unref(yes);
    sl_event_unref(no);
}

TEST_MAIN()
