/*
 * test/unit/filter_test.c - triggers/filter.h: tables of Trigger specs
 * against a few events: every dialect, the legacy "" rule, spec.filters
 * overriding spec.filter, nested all/any/not, absent attributes, typed
 * extensions, "no filter" elements, cesql (a match is Boolean true without
 * an error; typed extensions keep their types), and bad specs with the
 * field they name (a cesql that does not compile with its position).
 */
#include "test/unit/check.h"

#include <json-c/json.h>

#include "proto/event.h"
#include "triggers/filter.h"

/* ---- events ---- */

enum { E_CREATED, E_DELETED, E_V03, E_COUNT };

static struct sl_event *mk_created(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.order.created", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "orders/42", NULL));
    ASSERT_OK(
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL));
    ASSERT_OK(sl_event_set_str(ev, "partitionkey", "k1", NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", 42, NULL));
    ASSERT_OK(sl_event_set_bool(ev, "flag", true, NULL));
    ASSERT_OK(sl_event_set_str(ev, "empty", "", NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

static struct sl_event *mk_deleted(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "2", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
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

/* ---- match tables ---- */

struct mcase {
    const char *spec;   /* JSON of a Trigger spec */
    bool want[E_COUNT]; /* created, deleted, v0.3 */
};

static const struct mcase cases[] = {
    /* nothing, or empty forms: everything */
    { "{}", { true, true, true } },
    { "{\"filter\":{}}", { true, true, true } },
    { "{\"filter\":{\"attributes\":{}}}", { true, true, true } },
    { "{\"filters\":[]}", { true, true, true } },
    { "{\"filters\":null,\"filter\":null}", { true, true, true } },
    /* legacy attributes */
    { "{\"filter\":{\"attributes\":{\"type\":\"com.example.order.created\"}}}",
      { true, false, true } },
    { "{\"filter\":{\"attributes\":{\"type\":\"COM.example.order.created\"}}}",
      { false, false, false } },
    { "{\"filter\":{\"attributes\":{\"type\":\"com.example.order.created\","
      "\"source\":\"/s\"}}}",
      { true, false, false } },
    { "{\"filter\":{\"attributes\":{\"specversion\":\"1.0\"}}}",
      { true, true, false } },
    { "{\"filter\":{\"attributes\":{\"specversion\":\"0.3\"}}}",
      { false, false, true } },
    { "{\"filter\":{\"attributes\":{\"schemaurl\":\"http://x/schema\"}}}",
      { false, false, true } },
    { "{\"filter\":{\"attributes\":{\"datacontenttype\":\"application/"
      "json\"}}}",
      { true, false, false } },
    /* legacy "": present and non-empty */
    { "{\"filter\":{\"attributes\":{\"subject\":\"\"}}}",
      { true, false, false } },
    { "{\"filter\":{\"attributes\":{\"empty\":\"\"}}}",
      { false, false, false } },
    { "{\"filter\":{\"attributes\":{\"count\":\"\"}}}", { true, true, false } },
    /* typed extensions compare as canonical strings */
    { "{\"filter\":{\"attributes\":{\"count\":\"42\"}}}",
      { true, false, false } },
    { "{\"filters\":[{\"exact\":{\"count\":\"-7\"}}]}",
      { false, true, false } },
    { "{\"filters\":[{\"exact\":{\"flag\":\"true\"}}]}",
      { true, false, false } },
    { "{\"filters\":[{\"prefix\":{\"count\":\"4\"}}]}",
      { true, false, false } },
    /* spec.filters non-empty: spec.filter ignored; empty: it applies */
    { "{\"filter\":{\"attributes\":{\"type\":\"nope\"}},"
      "\"filters\":[{\"exact\":{\"id\":\"2\"}}]}",
      { false, true, false } },
    { "{\"filter\":{\"attributes\":{\"type\":\"nope\"}},\"filters\":[]}",
      { false, false, false } },
    /* exact */
    { "{\"filters\":[{\"exact\":{\"type\":\"com.example.order.deleted\"}}]}",
      { false, true, false } },
    { "{\"filters\":[{\"exact\":{\"type\":\"com.example.order.created\","
      "\"source\":\"/old\"}}]}",
      { false, false, true } },
    { "{\"filters\":[{\"exact\":{\"subject\":\"orders/42\"}}]}",
      { true, false, false } },
    { "{\"filters\":[{\"exact\":{\"nothere\":\"x\"}}]}",
      { false, false, false } },
    { "{\"filters\":[{\"exact\":{\"empty\":\"\"}}]}", /* no filter */
      { true, true, true } },
    /* prefix */
    { "{\"filters\":[{\"prefix\":{\"type\":\"com.example.\"}}]}",
      { true, true, true } },
    { "{\"filters\":[{\"prefix\":{\"type\":\"com.example.order.created.x\"}}"
      "]}",
      { false, false, false } },
    { "{\"filters\":[{\"prefix\":{\"subject\":\"orders/\"}}]}",
      { true, false, false } },
    { "{\"filters\":[{\"prefix\":{\"type\":\"com.\",\"source\":\"/o\"}}]}",
      { false, false, true } },
    /* suffix */
    { "{\"filters\":[{\"suffix\":{\"type\":\".created\"}}]}",
      { true, false, true } },
    { "{\"filters\":[{\"suffix\":{\"source\":\"x/s\"}}]}",
      { false, false, false } },
    { "{\"filters\":[{\"suffix\":{\"partitionkey\":\"1\"}}]}",
      { true, false, false } },
    /* list elements are ANDed */
    { "{\"filters\":[{\"prefix\":{\"type\":\"com.\"}},"
      "{\"exact\":{\"source\":\"/s\"}}]}",
      { true, true, false } },
    /* all / any / not */
    { "{\"filters\":[{\"all\":[{\"prefix\":{\"type\":\"com.\"}},"
      "{\"suffix\":{\"type\":\".created\"}}]}]}",
      { true, false, true } },
    { "{\"filters\":[{\"any\":[{\"exact\":{\"id\":\"3\"}},"
      "{\"suffix\":{\"type\":\".deleted\"}}]}]}",
      { false, true, true } },
    { "{\"filters\":[{\"not\":{\"exact\":{\"type\":\"com.example.order."
      "created\"}}}]}",
      { false, true, false } },
    { "{\"filters\":[{\"not\":{\"exact\":{\"nothere\":\"x\"}}}]}",
      { true, true, true } },
    /* nested: (id 1 or id 3) and not (source /old) */
    { "{\"filters\":[{\"all\":[{\"any\":[{\"exact\":{\"id\":\"1\"}},"
      "{\"exact\":{\"id\":\"3\"}}]},{\"not\":{\"all\":[{\"exact\":{"
      "\"source\":\"/old\"}}]}}]}]}",
      { true, false, false } },
    /* not (any (not created)) == created */
    { "{\"filters\":[{\"not\":{\"any\":[{\"not\":{\"suffix\":{\"type\":"
      "\".created\"}}}]}}]}",
      { true, false, true } },
    /* "no filter" elements: pass, and stay "no filter" under not/all/any */
    { "{\"filters\":[{}]}", { true, true, true } },
    { "{\"filters\":[{\"not\":{}}]}", { true, true, true } },
    { "{\"filters\":[{\"not\":{\"exact\":{}}}]}", { true, true, true } },
    { "{\"filters\":[{\"not\":{\"exact\":{\"type\":\"\"}}}]}",
      { true, true, true } },
    { "{\"filters\":[{\"any\":[]}]}", { true, true, true } },
    { "{\"filters\":[{\"any\":[{}]}]}", { true, true, true } },
    { "{\"filters\":[{\"any\":[{},{\"exact\":{\"id\":\"2\"}}]}]}",
      { false, true, false } },
    { "{\"filters\":[{\"cesql\":\"\"}]}", { true, true, true } },
    /* cesql: Boolean true and no error */
    { "{\"filters\":[{\"cesql\":\"type = 'com.example.order.created'\"}]}",
      { true, false, true } },
    { "{\"filters\":[{\"cesql\":\"count > 0\"}]}", { true, false, false } },
    { "{\"filters\":[{\"cesql\":\"NOT (count > 0)\"}]}",
      { false, true, false } }, /* v0.3: missing attribute, an error */
    { "{\"filters\":[{\"not\":{\"cesql\":\"count > 0\"}}]}",
      { false, true, true } }, /* not of a failed expression passes */
    { "{\"filters\":[{\"cesql\":\"flag\"}]}", { true, false, false } },
    { "{\"filters\":[{\"cesql\":\"flag = TRUE AND count = 42\"}]}",
      { true, false, false } },
    { "{\"filters\":[{\"cesql\":\"subject\"}]}", /* a String */
      { false, false, false } },
    { "{\"filters\":[{\"cesql\":\"count\"}]}", /* an Integer */
      { false, false, false } },
    { "{\"filters\":[{\"cesql\":\"'true'\"}]}", { false, false, false } },
    { "{\"filters\":[{\"cesql\":\"1 / 0 = 0\"}]}", /* MathError */
      { false, false, false } },
    { "{\"filters\":[{\"cesql\":\"EXISTS subject\"}]}",
      { true, false, false } },
    { "{\"filters\":[{\"cesql\":\"specversion = '0.3' AND schemaurl LIKE "
      "'http://%'\"}]}",
      { false, false, true } },
    { "{\"filters\":[{\"cesql\":\"LOWER(TYPE) LIKE '%.CREATED' OR "
      "UPPER(type) LIKE '%.CREATED'\"}]}",
      { true, false, true } },
    { "{\"filters\":[{\"exact\":{\"source\":\"/s\"}},{\"cesql\":\"count < "
      "0\"}]}",
      { false, true, false } },
    { "{\"filters\":[{\"any\":[{\"cesql\":\"id = '3'\"},{\"cesql\":\"count "
      "IN (42, -7)\"}]}]}",
      { true, true, true } },
    /* unknown keys of an element are admission's business */
    { "{\"filters\":[{\"exact\":{\"id\":\"1\"},\"other\":1}]}",
      { true, false, false } },
};

TEST(filter_match_table)
{
    struct sl_event *evs[E_COUNT] = { mk_created(), mk_deleted(), mk_v03() };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *spec = json_tokener_parse(cases[i].spec);
        struct sl_filter *f = NULL;
        struct sl_diag d = { { 0 }, { 0 } };

        if (!spec)
            CHECK_FAIL("case %zu: bad JSON", i);
        if (sl_filter_compile(spec, &f, &d) != 0)
            CHECK_FAIL("case %zu: %s: %s: %s", i, cases[i].spec, d.field,
                       d.msg);
        for (int e = 0; e < E_COUNT; e++)
            if (sl_filter_match(f, evs[e]) != cases[i].want[e])
                CHECK_FAIL("case %zu: %s: event %d: got %d", i, cases[i].spec,
                           e, !cases[i].want[e]);
        sl_filter_free(f);
        json_object_put(spec);
    }
    for (int e = 0; e < E_COUNT; e++)
        sl_event_unref(evs[e]);
}

TEST(filter_null_spec_matches_everything)
{
    struct sl_event *ev = mk_deleted();
    struct sl_filter *f = NULL;

    ASSERT_OK(sl_filter_compile(NULL, &f, NULL));
    ASSERT(f != NULL);
    ASSERT(sl_filter_match(f, ev));
    sl_filter_free(f);
    sl_filter_free(NULL);
    sl_event_unref(ev);
}

/* A compiled filter keeps no pointer into the spec. */
TEST(filter_outlives_spec)
{
    struct json_object *spec =
        json_tokener_parse("{\"filters\":[{\"any\":[{\"prefix\":{\"type\":"
                           "\"com.x\"}},{\"exact\":{\"id\":\"2\"}}]}]}");
    struct sl_event *ev = mk_deleted();
    struct sl_filter *f = NULL;

    ASSERT_OK(sl_filter_compile(spec, &f, NULL));
    json_object_put(spec);
    ASSERT(sl_filter_match(f, ev));
    sl_filter_free(f);
    sl_event_unref(ev);
}

/* ---- bad specs ---- */

struct bcase {
    const char *spec;
    int rc;
    const char *field;
    const char *msg; /* NULL: not checked */
};

static const struct bcase bad[] = {
    { "[]", SL_EINVAL, "spec", NULL },
    { "{\"filters\":{}}", SL_EINVAL, "spec.filters", NULL },
    { "{\"filters\":[1]}", SL_EINVAL, "spec.filters[0]", NULL },
    { "{\"filters\":[{\"exact\":{\"a\":\"b\"}},{\"exact\":{\"a\":\"b\"},"
      "\"prefix\":{\"a\":\"b\"}}]}",
      SL_EINVAL, "spec.filters[1]",
      "multiple dialects found, filters can have only one dialect set" },
    { "{\"filters\":[{\"exact\":{\"type\":1}}]}", SL_EINVAL,
      "spec.filters[0].exact[type]", "must be a string" },
    { "{\"filters\":[{\"prefix\":\"x\"}]}", SL_EINVAL, "spec.filters[0].prefix",
      NULL },
    { "{\"filters\":[{\"all\":{\"a\":1}}]}", SL_EINVAL, "spec.filters[0].all",
      NULL },
    { "{\"filters\":[{\"all\":[{\"exact\":{\"a\":\"b\"}},{\"any\":[{\"not\":"
      "5}]}]}]}",
      SL_EINVAL, "spec.filters[0].all[1].any[0].not", NULL },
    { "{\"filters\":[{\"cesql\":7}]}", SL_EINVAL, "spec.filters[0].cesql",
      NULL },
    { "{\"filter\":\"x\"}", SL_EINVAL, "spec.filter", NULL },
    { "{\"filter\":{\"attributes\":[]}}", SL_EINVAL, "spec.filter.attributes",
      NULL },
    { "{\"filter\":{\"attributes\":{\"type\":true}}}", SL_EINVAL,
      "spec.filter.attributes[type]", NULL },
    /* cesql that does not compile: the parser's message */
    { "{\"filters\":[{\"cesql\":\"type = 'x' AND\"}]}", SL_EINVAL,
      "spec.filters[0].cesql",
      "at position 15: expected an expression but found end of expression" },
    { "{\"filters\":[{\"exact\":{\"a\":\"b\"}},{\"not\":{\"cesql\":\"(true\"}}"
      "]}",
      SL_EINVAL, "spec.filters[1].not.cesql",
      "at position 6: expected ')' but found end of expression" },
    /* a bad spec.filter does not matter when spec.filters applies */
};

TEST(filter_bad_specs)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct json_object *spec = json_tokener_parse(bad[i].spec);
        struct sl_filter *f = (struct sl_filter *)&f;
        struct sl_diag d = { { 0 }, { 0 } };
        int rc;

        if (!spec)
            CHECK_FAIL("case %zu: bad JSON", i);
        rc = sl_filter_compile(spec, &f, &d);
        if (rc != bad[i].rc)
            CHECK_FAIL("case %zu: %s: rc %d", i, bad[i].spec, rc);
        ASSERT(f == NULL);
        if (strcmp(d.field, bad[i].field) != 0)
            CHECK_FAIL("case %zu: %s: field \"%s\"", i, bad[i].spec, d.field);
        if (bad[i].msg && strcmp(d.msg, bad[i].msg) != 0)
            CHECK_FAIL("case %zu: %s: msg \"%s\"", i, bad[i].spec, d.msg);
        ASSERT(d.msg[0] != '\0');
        json_object_put(spec);
    }
}

TEST(filter_filters_override_bad_filter)
{
    struct json_object *spec = json_tokener_parse(
        "{\"filter\":{\"attributes\":7},\"filters\":[{\"exact\":{\"id\":"
        "\"1\"}}]}");
    struct sl_event *ev = mk_created();
    struct sl_filter *f = NULL;

    ASSERT_OK(sl_filter_compile(spec, &f, NULL));
    ASSERT(sl_filter_match(f, ev));
    sl_filter_free(f);
    sl_event_unref(ev);
    json_object_put(spec);
}

TEST_MAIN()
