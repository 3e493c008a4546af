/*
 * test/unit/event_test.c - the CloudEvent model and attribute rules.
 */
#include "test/unit/check.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "proto/event.h"
#include "proto/http.h"
#include "proto/json.h"

static struct sl_event *minimal(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    return ev;
}

TEST(build_and_validate)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_OK(sl_event_validate(ev, &d));
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_value(ev, "specversion"), "1.0");
    ASSERT(sl_event_get(ev, "subject") == NULL);
    ASSERT_EQ(ev->nattrs, 4);
    /* Sorted by name. */
    ASSERT_STR_EQ(ev->attrs[0].name, "id");
    ASSERT_STR_EQ(ev->attrs[3].name, "type");
    sl_event_unref(ev);
}

TEST(missing_required_named)
{
    static const char *req[] = { "id", "source", "type" };
    size_t i;

    for (i = 0; i < 3; i++) {
        struct sl_event *ev = minimal();
        struct sl_diag d;
        ASSERT_OK(sl_event_del(ev, req[i]));
        ASSERT_EQ(sl_event_validate(ev, &d), SL_EINVAL);
        ASSERT_STR_EQ(d.field, req[i]);
        ASSERT(strstr(d.msg, req[i]) != NULL);
        sl_event_unref(ev);
    }
}

TEST(empty_values_rejected)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_EQ(sl_event_set_str(ev, "id", "", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "id");
    ASSERT_EQ(sl_event_set_str(ev, "subject", "", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "subject");
    ASSERT_STR_EQ(d.msg, "must not be empty");
    /* An empty extension string is legal. */
    ASSERT_OK(sl_event_set_str(ev, "myext", "", &d));
    sl_event_unref(ev);
}

TEST(names)
{
    ASSERT(sl_ce_name_valid("abc123", SL_CE_V10));
    ASSERT(sl_ce_name_valid("1abc", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("1abc", SL_CE_V03));
    ASSERT(!sl_ce_name_valid("aBc", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("a_b", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("a-b", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("data", SL_CE_V10));
    /* Longer than 20 is only a recommendation. */
    ASSERT(sl_ce_name_valid("averyveryverylongextensionname", SL_CE_V10));
}

TEST(bad_name_message)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_EQ(sl_event_set_str(ev, "a_invalid_name", "x", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "a_invalid_name");
    ASSERT(strstr(d.msg, "a-z and 0-9") != NULL);
    sl_event_unref(ev);
}

TEST(types)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_OK(sl_event_set(ev, "b", SL_CE_BOOL, "true", 4, &d));
    ASSERT_EQ(sl_event_set(ev, "b", SL_CE_BOOL, "True", 4, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "-2147483648", 11, &d));
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "2147483647", 10, &d));
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "2147483648", 10, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "+1", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "01", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "-0", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "1.5", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "0", 1, &d));
    ASSERT_OK(sl_event_set(ev, "bin", SL_CE_BINARY, "AQID", 4, &d));
    ASSERT_EQ(sl_event_set(ev, "bin", SL_CE_BINARY, "AQI", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "u", SL_CE_URI, "https://x/y", 11, &d));
    ASSERT_EQ(sl_event_set(ev, "u", SL_CE_URI, "/relative", 9, &d), SL_EINVAL);
    ASSERT_OK(
        sl_event_set(ev, "t", SL_CE_TIME, "2018-04-05T17:31:00Z", 20, &d));
    ASSERT_EQ(sl_event_set(ev, "t", SL_CE_TIME, "2018-02-30T17:31:00Z", 20, &d),
              SL_EINVAL);
    ASSERT_STR_EQ(d.field, "t");
    /* Strings: no control characters, valid UTF-8. */
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\nb", 3, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\xc2\x85", 3, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "\xc0\xa0", 2, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "\xef\xbf\xbe", 3, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\0b", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "s", SL_CE_STRING, "Euro \xe2\x82\xac", 8, &d));
    ASSERT_EQ(sl_event_get(ev, "b")->type, SL_CE_BOOL);
    sl_event_unref(ev);
}

TEST(core_types_enforced)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    /* A core attribute given as a string takes its core type. */
    ASSERT_OK(sl_event_set_str(ev, "time", "2018-04-05T17:31:00.5+02:00", &d));
    ASSERT_EQ(sl_event_get(ev, "time")->type, SL_CE_TIME);
    ASSERT_EQ(sl_event_set_str(ev, "time", "yesterday", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "time");
    ASSERT_EQ(sl_event_set_str(ev, "dataschema", "schema.json", &d), SL_EINVAL);
    ASSERT_OK(sl_event_set_str(ev, "dataschema", "http://x/s.json", &d));
    ASSERT_EQ(sl_event_set_int(ev, "id", 5, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set_str(ev, "datacontenttype", "json", &d), SL_EINVAL);
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype",
                               "text/plain; charset=utf-8", &d));
    ASSERT_EQ(sl_event_set_str(ev, "specversion", "1.0", &d), SL_EINVAL);
    /* Relative and odd sources are legal URI-references. */
    ASSERT_OK(sl_event_set_str(ev, "source", "1-555-123-4567", &d));
    sl_event_unref(ev);
}

TEST(v03_rules)
{
    struct sl_event *ev = sl_event_new(SL_CE_V03);
    struct sl_diag d;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", &d));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", &d));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", &d));
    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "s.json", &d));
    ASSERT_EQ(sl_event_set_str(ev, "9ext", "x", &d), SL_EINVAL);
    ASSERT_OK(sl_event_validate(ev, &d));
    ASSERT_STR_EQ(sl_event_value(ev, "specversion"), "0.3");
    sl_event_unref(ev);
}

TEST(media_types)
{
    ASSERT(sl_ce_media_type_valid("application/json"));
    ASSERT(sl_ce_media_type_valid("application/json; charset=utf-8"));
    ASSERT(sl_ce_media_type_valid("text/plain;charset=\"us-ascii\""));
    ASSERT(sl_ce_media_type_valid("application/vnd.x+json;a=b; c=d"));
    ASSERT(!sl_ce_media_type_valid("application"));
    ASSERT(!sl_ce_media_type_valid("application/"));
    ASSERT(!sl_ce_media_type_valid("/json"));
    ASSERT(!sl_ce_media_type_valid("text/plain; charset"));
    ASSERT(!sl_ce_media_type_valid("text/plain; a=\"open"));
    ASSERT(sl_ce_is_json_type(NULL));
    ASSERT(sl_ce_is_json_type("application/json"));
    ASSERT(sl_ce_is_json_type("Application/JSON; charset=utf-8"));
    ASSERT(sl_ce_is_json_type("text/json"));
    ASSERT(sl_ce_is_json_type("application/cloudevents+json"));
    ASSERT(!sl_ce_is_json_type("application/xml"));
    ASSERT(!sl_ce_is_json_type("application/jsonx"));
    ASSERT(!sl_ce_is_json_type("text/plain"));
}

TEST(refcount_and_clone)
{
    struct sl_event *ev = minimal(), *c;

    sl_event_set_data(ev, "abc", 3);
    sl_event_ref(ev);
    c = sl_event_clone(ev);
    sl_event_unref(ev);
    ASSERT_OK(sl_event_set_str(c, "id", "2", NULL));
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_id(c), "2");
    ASSERT_MEM_EQ(c->data, c->data_len, "abc", 3);
    ASSERT_EQ(sl_event_size(ev), 2 + 1 + 6 + 2 + 4 + 1 + 11 + 3 + 3);
    sl_event_unref(ev);
    sl_event_unref(c);
    sl_event_unref(NULL);
}

TEST(data_presence)
{
    struct sl_event *ev = minimal();

    ASSERT(!ev->has_data);
    sl_event_set_data(ev, "", 0);
    ASSERT(ev->has_data);
    ASSERT_EQ(ev->data_len, 0);
    sl_event_clear_data(ev);
    ASSERT(!ev->has_data);
    sl_event_unref(ev);
}

TEST(list)
{
    struct sl_event_list l;
    int i;

    sl_event_list_init(&l);
    for (i = 0; i < 10; i++)
        sl_event_list_push(&l, minimal());
    ASSERT_EQ(l.n, 10);
    sl_event_list_fini(&l);
    ASSERT_EQ(l.n, 0);
}

/* ---- transport headers ---- */

TEST(headers_add_get_clone)
{
    struct sl_event *ev = minimal(), *c;
    struct sl_buf b;

    ASSERT_OK(sl_event_header_add(ev, "X-Request-Id", "abc"));
    ASSERT_OK(sl_event_header_add(ev, "Knative-Foo", "a: b\tc"));
    ASSERT_OK(sl_event_header_add(ev, "knative-foo", "2"));
    ASSERT_EQ(sl_event_header_add(ev, "Bad Name", "x"), SL_EINVAL);
    ASSERT_EQ(sl_event_header_add(ev, "", "x"), SL_EINVAL);
    ASSERT_EQ(sl_event_header_add(ev, "a:b", "x"), SL_EINVAL);
    ASSERT_EQ(sl_event_header_add(ev, "X-B3-TraceId", "a\nb"), SL_EINVAL);
    ASSERT_EQ(sl_event_header_add(ev, "X-B3-TraceId", "a\rb"), SL_EINVAL);
    ASSERT_EQ(ev->nhdrs, 3);
    ASSERT_STR_EQ(sl_event_header(ev, "x-request-id"), "abc");
    ASSERT_STR_EQ(sl_event_header(ev, "KNATIVE-FOO"), "a: b\tc");
    ASSERT(sl_event_header(ev, "x-b3-traceid") == NULL);

    /* A clone owns copies; headers are not attributes. */
    c = sl_event_clone(ev);
    sl_event_headers_clear(ev);
    ASSERT_EQ(ev->nhdrs, 0);
    ASSERT_EQ(c->nhdrs, 3);
    ASSERT_STR_EQ(c->hdrs[1].name, "Knative-Foo");
    ASSERT_STR_EQ(c->hdrs[2].value, "2");
    ASSERT(sl_event_get(c, "x-request-id") == NULL);
    ASSERT_EQ(sl_event_size(c), sl_event_size(ev));

    /* The JSON format never shows them. */
    sl_buf_init(&b, 4096);
    ASSERT_OK(sl_ce_json_encode(c, &b));
    ASSERT(strstr(sl_buf_str(&b), "abc") == NULL);
    ASSERT(strstr(sl_buf_str(&b), "native") == NULL);
    sl_buf_fini(&b);
    sl_event_unref(ev);
    sl_event_unref(c);
}

TEST(headers_limits)
{
    struct sl_event *ev = minimal();
    char name[32], big[SL_EVENT_MAX_HEADER_BYTES + 1];
    int i;

    for (i = 0; i < SL_EVENT_MAX_HEADERS; i++) {
        snprintf(name, sizeof(name), "Knative-%d", i);
        ASSERT_OK(sl_event_header_add(ev, name, "v"));
    }
    ASSERT_EQ(sl_event_header_add(ev, "Knative-X", "v"), SL_ETOOBIG);
    ASSERT_EQ(ev->nhdrs, SL_EVENT_MAX_HEADERS);
    sl_event_headers_clear(ev);

    /* Bytes: names plus values, the limit itself fits. */
    memset(big, 'v', sizeof(big));
    big[SL_EVENT_MAX_HEADER_BYTES - 1 - 4] = '\0';
    ASSERT_OK(sl_event_header_add(ev, "K-ab", big)); /* 4 + 8187 */
    ASSERT_EQ(sl_event_header_add(ev, "Kn", "vv"), SL_ETOOBIG);
    ASSERT_OK(sl_event_header_add(ev, "K", ""));
    ASSERT_EQ(sl_event_header_add(ev, "K", "v"), SL_ETOOBIG);
    ASSERT_EQ(ev->nhdrs, 2);
    sl_event_unref(ev);
}

TEST(headers_encode_decode)
{
    struct sl_event *ev = minimal(), *back = minimal();
    struct sl_buf b;
    static const char *const bad[] = {
        "X-Request-Id:abc", /* no final newline */
        "no colon\n",       /* no colon */
        ":v\n",             /* empty name */
        "Bad Name:v\n",     /* not a token */
        "K:a\rb\n",         /* control character */
        "K:a\n\n",          /* empty line */
    };

    ASSERT_OK(sl_event_header_add(ev, "X-Request-Id", "abc"));
    ASSERT_OK(sl_event_header_add(ev, "Knative-Foo", " a:b "));
    ASSERT_OK(sl_event_header_add(ev, "Knative-Empty", ""));
    sl_buf_init(&b, 4096);
    ASSERT_OK(sl_event_headers_encode(ev, &b));
    ASSERT_STR_EQ(sl_buf_str(&b),
                  "X-Request-Id:abc\nKnative-Foo: a:b \nKnative-Empty:\n");
    ASSERT_OK(sl_event_headers_decode(back, b.data, b.len));
    ASSERT_EQ(back->nhdrs, 3);
    for (size_t i = 0; i < 3; i++) {
        ASSERT_STR_EQ(back->hdrs[i].name, ev->hdrs[i].name);
        ASSERT_STR_EQ(back->hdrs[i].value, ev->hdrs[i].value);
    }
    ASSERT_OK(sl_event_headers_decode(back, "", 0));
    ASSERT_EQ(back->nhdrs, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_OK(sl_event_header_add(back, "K", "v"));
        ASSERT_EQ(sl_event_headers_decode(back, bad[i], strlen(bad[i])),
                  SL_EINVAL);
        ASSERT_EQ(back->nhdrs, 0);
    }
    /* A full buffer says so. */
    sl_buf_fini(&b);
    sl_buf_init(&b, 8);
    ASSERT_EQ(sl_event_headers_encode(ev, &b), SL_ETOOBIG);
    sl_buf_fini(&b);
    sl_event_unref(ev);
    sl_event_unref(back);
}

TEST(headers_allow_list)
{
    static const struct sl_http_header in[] = {
        { "X-Request-Id", "r1" },  { "Knative-Foo", "f" },
        { "X-B3-TraceId", "t" },   { "Retry-After", "5" },
        { "traceparent", "00-x" }, { "TraceState", "a=b" },
        { "Authorization", "no" }, { "ce-id", "no" },
        { "Kn-Namespace", "no" },  { "X-Other", "no" },
        { "Knative-Bad", "a\nb" },
    };
    struct sl_event *ev = minimal();

    ASSERT(sl_ce_http_header_passes("x-request-id"));
    ASSERT(sl_ce_http_header_passes("KNATIVE-"));
    ASSERT(sl_ce_http_header_passes("x-b3-sampled"));
    ASSERT(!sl_ce_http_header_passes("x-b3"));
    ASSERT(!sl_ce_http_header_passes("traceparent"));
    ASSERT(!sl_ce_http_header_passes("x-request-ids"));
    ASSERT(sl_ce_http_header_is_trace("Traceparent"));
    ASSERT(!sl_ce_http_header_is_trace("baggage"));

    /* Without trace context: 4 pass, the malformed one is left out. */
    ASSERT_EQ(sl_ce_http_keep_headers(ev, in, 11, false), 1);
    ASSERT_EQ(ev->nhdrs, 4);
    ASSERT_STR_EQ(ev->hdrs[0].name, "X-Request-Id");
    ASSERT_STR_EQ(ev->hdrs[3].name, "Retry-After");
    sl_event_headers_clear(ev);
    ASSERT_EQ(sl_ce_http_keep_headers(ev, in, 11, true), 1);
    ASSERT_EQ(ev->nhdrs, 6);
    ASSERT_STR_EQ(sl_event_header(ev, "tracestate"), "a=b");
    ASSERT(sl_event_header(ev, "authorization") == NULL);
    sl_event_unref(ev);
}

TEST_MAIN()
