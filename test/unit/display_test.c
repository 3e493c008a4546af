/*
 * test/unit/display_test.c - the event_display rendering of cmd/display.h:
 * attribute order per version, extensions, the three ways data is written,
 * JSON re-indentation and the JSON check.
 */
#include "test/unit/check.h"

#include "cmd/display.h"
#include "core/buf.h"
#include "proto/event.h"

#define HEAD \
    "\xe2\x98\x81\xef\xb8\x8f  cloudevents.Event\nContext Attributes,\n"

/* A v1.0 event with the required attributes. */
static struct sl_event *display_event(enum sl_ce_version v)
{
    struct sl_event *ev = sl_event_new(v);

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    return ev;
}

/* Render 'ev', compare with 'want', drop the event. */
static void display_check(struct sl_event *ev, const char *want)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_display_format(ev, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), want);
    sl_buf_fini(&b);
    sl_event_unref(ev);
}

/* An event whose data is 'data' under content type 'ct' (may be NULL). */
static struct sl_event *display_with_data(const char *ct, const char *data)
{
    struct sl_event *ev = display_event(SL_CE_V10);

    if (ct != NULL)
        ASSERT_OK(sl_event_set_str(ev, "datacontenttype", ct, NULL));
    sl_event_set_data(ev, data, strlen(data));
    return ev;
}

TEST(v10_order_and_extensions)
{
    struct sl_event *ev = display_event(SL_CE_V10);

    /* Set out of order: the output follows the Go SDK's order. */
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    ASSERT_OK(sl_event_set_str(ev, "time", "2024-05-01T10:00:00Z", NULL));
    ASSERT_OK(sl_event_set_str(ev, "dataschema", "https://x.example/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "sub", NULL));
    ASSERT_OK(sl_event_set_str(ev, "zeta", "last", NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", 3, NULL));
    ASSERT_OK(sl_event_set_bool(ev, "flag", true, NULL));
    display_check(ev, HEAD "  specversion: 1.0\n"
                           "  type: t\n"
                           "  source: /s\n"
                           "  subject: sub\n"
                           "  id: 1\n"
                           "  time: 2024-05-01T10:00:00Z\n"
                           "  dataschema: https://x.example/s\n"
                           "  datacontenttype: text/plain\n"
                           "Extensions,\n"
                           "  count: 3\n"
                           "  flag: true\n"
                           "  zeta: last\n");
}

TEST(v03_order)
{
    struct sl_event *ev = display_event(SL_CE_V03);

    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "/schema", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    ASSERT_OK(sl_event_set_str(ev, "ext", "v", NULL));
    display_check(ev, HEAD "  specversion: 0.3\n"
                           "  type: t\n"
                           "  source: /s\n"
                           "  id: 1\n"
                           "  schemaurl: /schema\n"
                           "  datacontenttype: text/plain\n"
                           "Extensions,\n"
                           "  ext: v\n");
}

TEST(json_data_is_indented)
{
    display_check(
        display_with_data("application/json",
                          " {\"a\" : [1, 2.50, {}, [ ], {\"b\":null}],\n"
                          "\t\"s\": \"x{,}[:]\\\" y\", \"e\":{\"k\":true}} "),
        HEAD "  specversion: 1.0\n  type: t\n  source: /s\n  id: 1\n"
             "  datacontenttype: application/json\n"
             "Data,\n"
             "  {\n"
             "    \"a\": [\n"
             "      1,\n"
             "      2.50,\n"
             "      {},\n"
             "      [],\n"
             "      {\n"
             "        \"b\": null\n"
             "      }\n"
             "    ],\n"
             "    \"s\": \"x{,}[:]\\\" y\",\n"
             "    \"e\": {\n"
             "      \"k\": true\n"
             "    }\n"
             "  }\n");
}

TEST(json_types_and_no_type)
{
    /* A +json type and no type at all are JSON when the data parses. */
    display_check(
        display_with_data("application/vnd.x+json; charset=utf-8", "[1]"),
        HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
             "  id: 1\n  datacontenttype: application/vnd.x+json; "
             "charset=utf-8\nData,\n  [\n    1\n  ]\n");
    display_check(display_with_data(NULL, "\"str\""),
                  HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
                       "  id: 1\nData,\n  \"str\"\n");
    /* JSON-looking data under another type is text, as it is. */
    display_check(display_with_data("text/plain", "{\"a\":1}"),
                  HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
                       "  id: 1\n  datacontenttype: text/plain\n"
                       "Data,\n  {\"a\":1}\n");
    /* Broken JSON under a JSON type is written as it is. */
    display_check(display_with_data("application/json", "{\"a\":"),
                  HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
                       "  id: 1\n  datacontenttype: application/json\n"
                       "Data,\n  {\"a\":\n");
}

TEST(binary_and_empty_data)
{
    struct sl_event *ev = display_event(SL_CE_V10);

    sl_event_set_data(ev, "\x00\xff\x10", 3);
    display_check(ev, HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
                           "  id: 1\nData (binary),\n  AP8Q\n");
    ev = display_event(SL_CE_V10);
    sl_event_set_data(ev, "", 0);
    display_check(ev, HEAD "  specversion: 1.0\n  type: t\n  source: /s\n"
                           "  id: 1\nData,\n  \n");
}

TEST(limit)
{
    struct sl_event *ev = display_with_data(NULL, "[1,2,3]");
    struct sl_buf b;

    sl_buf_init(&b, 100);
    ASSERT_EQ(sl_display_format(ev, &b), SL_ETOOBIG);
    ASSERT(b.len <= 100);
    sl_buf_fini(&b);
    sl_event_unref(ev);
}

TEST(is_json)
{
    static const char *const yes[] = {
        "1",
        " 1 ",
        "-2.5e3",
        "\"a\"",
        "null",
        "true",
        "[]",
        "{}",
        "{\"a\":[1,{\"b\":\"c\"}]}\n",
        "\t[ 1 , 2 ]\r\n",
    };
    static const char *const no[] = {
        "",      " ",   "1 2",  "{",   "[1] x",      "nul",
        "{a:1}", "'a'", "[1,]", "\"a", "{\"a\":1}}",
    };
    char deep[300];
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!sl_display_is_json(yes[i], strlen(yes[i])))
            CHECK_FAIL("'%s' should be JSON", yes[i]);
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (sl_display_is_json(no[i], strlen(no[i])))
            CHECK_FAIL("'%s' should not be JSON", no[i]);
    /* Only the given length counts. */
    ASSERT(sl_display_is_json("[1]xyz", 3));
    /* Nesting deeper than 128 levels is not taken for JSON. */
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    ASSERT(!sl_display_is_json(deep, sizeof(deep)));
    ASSERT(sl_display_is_json(deep + 100, 100));
}

TEST_MAIN()
