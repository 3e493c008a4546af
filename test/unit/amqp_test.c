/*
 * test/unit/amqp_test.c - CloudEvents over AMQP properties: the accepted
 * name forms, native and string values, structured mode, errors, and
 * round trips through every encoder choice.
 */
#include "test/unit/check.h"

#include "proto/amqp.h"

#define S(n, v)                                                               \
    {                                                                         \
        .name = (n), .type = SL_AMQP_STRING, .str = (v), .len = sizeof(v) - 1 \
    }

static struct sl_event *dec_ok(const struct sl_amqp_message *m,
                               enum sl_amqp_mode want_mode)
{
    struct sl_event *ev = NULL;
    enum sl_amqp_mode mode = SL_AMQP_STRUCTURED_MODE + 1;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ce_amqp_decode(m, NULL, &ev, &mode, &d);
    if (rc != 0)
        CHECK_FAIL("decode failed: %s: %s: %s", sl_strerror(rc), d.field,
                   d.msg);
    ASSERT_EQ(mode, want_mode);
    return ev;
}

static void dec_fail(const struct sl_amqp_message *m,
                     const struct sl_ce_opts *opts, int want, const char *field)
{
    struct sl_event *ev = (struct sl_event *)1;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ce_amqp_decode(m, opts, &ev, NULL, &d);
    if (rc != want)
        CHECK_FAIL("decode: got %d (%s) want %d", rc, d.msg, want);
    ASSERT(ev == NULL);
    if (field != NULL && strcmp(d.field, field) != 0)
        CHECK_FAIL("decode: field '%s' want '%s' (%s)", d.field, field, d.msg);
}

static struct sl_amqp_message msg_of(const struct sl_amqp_prop *p, size_t n)
{
    struct sl_amqp_message m = { .props = p, .nprops = n };

    return m;
}

#define MSG(props) msg_of((props), sizeof(props) / sizeof((props)[0]))

/* Same attributes, values and data; types too unless 'loose'. */
static void assert_same(const struct sl_event *a, const struct sl_event *b,
                        bool types)
{
    size_t i;

    ASSERT_EQ(a->version, b->version);
    ASSERT_EQ(a->nattrs, b->nattrs);
    for (i = 0; i < a->nattrs; i++) {
        ASSERT_STR_EQ(a->attrs[i].name, b->attrs[i].name);
        ASSERT_STR_EQ(a->attrs[i].value, b->attrs[i].value);
        if (types)
            ASSERT_EQ(a->attrs[i].type, b->attrs[i].type);
    }
    ASSERT_EQ(a->has_data, b->has_data);
    ASSERT_MEM_EQ(a->data, a->data_len, b->data, b->data_len);
}

static const struct sl_amqp_prop *find_prop(const struct sl_amqp_message *m,
                                            const char *name)
{
    size_t i;

    for (i = 0; i < m->nprops; i++)
        if (strcmp(m->props[i].name, name) == 0)
            return &m->props[i];
    return NULL;
}

/* An event with every kind of attribute, typed extensions included. */
static struct sl_event *full_event(const char *time)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "A234-1234-1234", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/mycontext/sub", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "com.example.someevent", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "larger-context", NULL));
    ASSERT_OK(sl_event_set_str(ev, "dataschema",
                               "https://example.com/schema.json", NULL));
    ASSERT_OK(sl_event_set_str(ev, "time", time, NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/xml", NULL));
    ASSERT_OK(sl_event_set_str(ev, "partitionkey", "key-1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "comexampleext", "value €", NULL));
    ASSERT_OK(sl_event_set_bool(ev, "flag", true, NULL));
    ASSERT_OK(sl_event_set_int(ev, "count", -42, NULL));
    ASSERT_OK(sl_event_set(ev, "bin", SL_CE_BINARY, "3q2+7w==", 8, NULL));
    ASSERT_OK(sl_event_set(ev, "when", SL_CE_TIME, "2020-01-02T03:04:05.678Z",
                           24, NULL));
    sl_event_set_data(ev, "<much wow=\"xml\"/>", 17);
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* Encode with 'opts', decode, and return the decoded event. */
static struct sl_event *roundtrip(const struct sl_event *ev,
                                  const struct sl_amqp_encode_opts *opts,
                                  enum sl_amqp_mode mode)
{
    struct sl_amqp_out out;
    struct sl_event *back;

    sl_amqp_out_init(&out);
    ASSERT_OK(sl_ce_amqp_encode(ev, opts, &out));
    back = dec_ok(&out.msg, mode);
    sl_amqp_out_fini(&out);
    return back;
}

/* ---- decoding: name forms ---- */

TEST(decode_bare_names)
{
    const struct sl_amqp_prop p[] = {
        S("specversion", "1.0"), S("id", "1"),
        S("source", "/s"),       S("type", "t"),
        S("myext", "v"),         S("x-death", "junk"),
        S("x-first-death", "q"), S("my-header", "not an attribute"),
    };
    struct sl_amqp_message m = MSG(p);
    struct sl_event *ev;

    m.content_type = "application/json";
    m.body = "{\"a\":1}";
    m.body_len = 7;
    ev = dec_ok(&m, SL_AMQP_BINARY_MODE);
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_value(ev, "myext"), "v");
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"), "application/json");
    ASSERT_EQ(ev->nattrs, 6);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":1}", 7);
    sl_event_unref(ev);
}

TEST(decode_prefixes)
{
    static const char *const forms[][4] = {
        { "cloudEvents_specversion", "cloudEvents_id", "cloudEvents_source",
          "cloudEvents_type" },
        { "cloudEvents:specversion", "cloudEvents:id", "cloudEvents:source",
          "cloudEvents:type" },
        { "CLOUDEVENTS_SPECVERSION", "cloudevents_Id", "CloudEvents_Source",
          "cloudEvents_TYPE" },
        { "ce-specversion", "ce-id", "CE-Source", "Ce-Type" },
        /* Mixed forms are accepted on receive. */
        { "ce-specversion", "cloudEvents:id", "source", "cloudEvents_type" },
    };
    size_t i;

    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct sl_amqp_prop p[] = {
            S(forms[i][0], "1.0"),
            S(forms[i][1], "abc"),
            S(forms[i][2], "/src"),
            S(forms[i][3], "com.example"),
        };
        struct sl_amqp_message m = MSG(p);
        struct sl_event *ev = dec_ok(&m, SL_AMQP_BINARY_MODE);
        ASSERT_STR_EQ(sl_event_id(ev), "abc");
        ASSERT_STR_EQ(sl_event_source(ev), "/src");
        ASSERT_STR_EQ(sl_event_type(ev), "com.example");
        ASSERT_EQ(ev->nattrs, 4);
        ASSERT(!ev->has_data);
        sl_event_unref(ev);
    }
}

TEST(decode_ignores_tracing_and_prefixed_bad_name)
{
    const struct sl_amqp_prop ok[] = {
        S("specversion", "1.0"),
        S("id", "1"),
        S("source", "/s"),
        S("type", "t"),
        S("traceparent", "00-ab-cd-01"),
        S("tracestate", "x=y"),
    };
    const struct sl_amqp_prop bad[] = {
        S("specversion", "1.0"),
        S("id", "1"),
        S("source", "/s"),
        S("type", "t"),
        S("cloudEvents:my_ext", "v"),
    };
    struct sl_amqp_message m = MSG(ok);
    struct sl_event *ev = dec_ok(&m, SL_AMQP_BINARY_MODE);

    ASSERT(sl_event_get(ev, "traceparent") == NULL);
    ASSERT(sl_event_get(ev, "tracestate") == NULL);
    sl_event_unref(ev);
    m = MSG(bad);
    dec_fail(&m, NULL, SL_EINVAL, "cloudEvents:my_ext");
}

/* What Knative's RabbitMQ broker publishes (pkg/rabbit/message.go). */
TEST(decode_knative_rabbitmq)
{
    const struct sl_amqp_prop p[] = {
        S("content-type", "application/json"),
        S("specversion", "1.0"),
        S("time", "2018-04-05T17:31:00Z"),
        S("id", "1234"),
        S("type", "dev.knative.test"),
        S("source", "/knative"),
        S("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71-01"),
        { .name = "retries", .type = SL_AMQP_LONG, .num = 3 },
        { .name = "enabled", .type = SL_AMQP_BOOL, .boolean = true },
    };
    const struct sl_amqp_prop noct[] = {
        S("content-type", ""), S("specversion", "1.0"), S("id", "1"),
        S("type", "t"),        S("source", "/s"),
    };
    struct sl_amqp_message m = MSG(p);
    struct sl_event *ev;

    /* The header alone carries the content type... */
    ev = dec_ok(&m, SL_AMQP_BINARY_MODE);
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"), "application/json");
    ASSERT_EQ(sl_event_get(ev, "retries")->type, SL_CE_INT);
    ASSERT_STR_EQ(sl_event_value(ev, "retries"), "3");
    ASSERT_EQ(sl_event_get(ev, "enabled")->type, SL_CE_BOOL);
    sl_event_unref(ev);
    /* ...and the property wins over it. */
    m.content_type = "text/plain";
    ev = dec_ok(&m, SL_AMQP_BINARY_MODE);
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"), "text/plain");
    sl_event_unref(ev);
    /* An empty content-type means none. */
    m = MSG(noct);
    m.content_type = "";
    ev = dec_ok(&m, SL_AMQP_BINARY_MODE);
    ASSERT(sl_event_get(ev, "datacontenttype") == NULL);
    sl_event_unref(ev);
}

/* ---- decoding: values ---- */

TEST(decode_native_types)
{
    static const unsigned char bytes[] = { 0xde, 0xad, 0xbe, 0xef };
    const struct sl_amqp_prop p[] = {
        S("cloudEvents_specversion", "1.0"),
        S("cloudEvents_id", "1"),
        S("cloudEvents_source", "/s"),
        S("cloudEvents_type", "t"),
        /* 2020-01-02T03:04:05.678Z */
        { .name = "cloudEvents_time",
          .type = SL_AMQP_TIMESTAMP,
          .num = 1577934245678 },
        { .name = "cloudEvents_b", .type = SL_AMQP_BOOL, .boolean = false },
        { .name = "cloudEvents_i", .type = SL_AMQP_LONG, .num = -2147483648 },
        { .name = "cloudEvents_big", .type = SL_AMQP_LONG, .num = 4247483647 },
        { .name = "cloudEvents_bin",
          .type = SL_AMQP_BINARY,
          .str = bytes,
          .len = 4 },
        /* Before the epoch: floor, not truncation. */
        { .name = "cloudEvents_old", .type = SL_AMQP_TIMESTAMP, .num = -1 },
        /* Strings stay strings, whatever they look like. */
        S("cloudEvents_s", "true"),
    };
    struct sl_amqp_message m = MSG(p);
    struct sl_event *ev = dec_ok(&m, SL_AMQP_BINARY_MODE);

    ASSERT_STR_EQ(sl_event_value(ev, "time"), "2020-01-02T03:04:05.678Z");
    ASSERT_EQ(sl_event_get(ev, "time")->type, SL_CE_TIME);
    ASSERT_STR_EQ(sl_event_value(ev, "b"), "false");
    ASSERT_EQ(sl_event_get(ev, "b")->type, SL_CE_BOOL);
    ASSERT_STR_EQ(sl_event_value(ev, "i"), "-2147483648");
    ASSERT_EQ(sl_event_get(ev, "i")->type, SL_CE_INT);
    ASSERT_STR_EQ(sl_event_value(ev, "big"), "4247483647");
    ASSERT_EQ(sl_event_get(ev, "big")->type, SL_CE_STRING);
    ASSERT_STR_EQ(sl_event_value(ev, "bin"), "3q2+7w==");
    ASSERT_EQ(sl_event_get(ev, "bin")->type, SL_CE_BINARY);
    ASSERT_STR_EQ(sl_event_value(ev, "old"), "1969-12-31T23:59:59.999Z");
    ASSERT_EQ(sl_event_get(ev, "old")->type, SL_CE_TIME);
    ASSERT_EQ(sl_event_get(ev, "s")->type, SL_CE_STRING);
    sl_event_unref(ev);
}

TEST(decode_core_attribute_from_native)
{
    const struct sl_amqp_prop p[] = {
        S("specversion", "1.0"),
        { .name = "id", .type = SL_AMQP_LONG, .num = 77 },
        { .name = "source", .type = SL_AMQP_BINARY, .str = "/bytes", .len = 6 },
        S("type", "t"),
    };
    struct sl_amqp_message m = MSG(p);
    struct sl_event *ev = dec_ok(&m, SL_AMQP_BINARY_MODE);

    ASSERT_STR_EQ(sl_event_id(ev), "77");
    ASSERT_EQ(sl_event_get(ev, "id")->type, SL_CE_STRING);
    ASSERT_STR_EQ(sl_event_source(ev), "/bytes");
    ASSERT_EQ(sl_event_get(ev, "source")->type, SL_CE_URIREF);
    sl_event_unref(ev);
}

/* ---- decoding: structured mode ---- */

TEST(decode_structured)
{
    static const char body[] =
        "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
        "\"type\":\"t\",\"n\":5,\"data\":{\"a\":1}}";
    const struct sl_amqp_prop p[] = { S("specversion", "junk") };
    struct sl_amqp_message m = MSG(p);
    struct sl_event *ev;

    m.content_type = "Application/CloudEvents+JSON; charset=utf-8";
    m.body = body;
    m.body_len = sizeof(body) - 1;
    ev = dec_ok(&m, SL_AMQP_STRUCTURED_MODE);
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_EQ(sl_event_get(ev, "n")->type, SL_CE_INT);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":1}", 7);
    sl_event_unref(ev);

    m.content_type = "application/cloudevents+avro";
    dec_fail(&m, NULL, SL_ENOTSUP, "content-type");
    m.content_type = "application/cloudevents-batch+json";
    dec_fail(&m, NULL, SL_ENOTSUP, "content-type");
    m.content_type = "application/cloudevents+json";
    m.body_len = 0;
    dec_fail(&m, NULL, SL_EINVAL, NULL);
}

/* ---- decoding: errors ---- */

TEST(decode_not_a_cloudevent)
{
    const struct sl_amqp_prop plain[] = { S("id", "1"), S("x-death", "q") };
    const struct sl_amqp_prop bare_bad[] = { S("specversion", "2.0"),
                                             S("id", "1") };
    const struct sl_amqp_prop pfx_bad[] = { S("cloudEvents:specversion", "2.0"),
                                            S("cloudEvents:id", "1") };
    const struct sl_amqp_prop typed[] = {
        { .name = "cloudEvents:specversion", .type = SL_AMQP_LONG, .num = 1 },
    };
    struct sl_amqp_message m = MSG(plain);

    m.content_type = "text/plain";
    m.body = "hello";
    m.body_len = 5;
    dec_fail(&m, NULL, SL_ENOENT, NULL);
    m.nprops = 0;
    dec_fail(&m, NULL, SL_ENOENT, NULL);
    m = MSG(bare_bad);
    dec_fail(&m, NULL, SL_ENOENT, NULL);
    m = MSG(pfx_bad);
    dec_fail(&m, NULL, SL_EINVAL, "cloudEvents:specversion");
    m = MSG(typed);
    dec_fail(&m, NULL, SL_EINVAL, "cloudEvents:specversion");
}

TEST(decode_errors)
{
    const struct sl_amqp_prop dup[] = {
        S("specversion", "1.0"), S("id", "1"),   S("cloudEvents:id", "2"),
        S("source", "/s"),       S("type", "t"),
    };
    const struct sl_amqp_prop dct[] = {
        S("specversion", "1.0"),
        S("id", "1"),
        S("source", "/s"),
        S("type", "t"),
        S("cloudEvents_datacontenttype", "a/b"),
    };
    const struct sl_amqp_prop utf8[] = {
        S("specversion", "1.0"),
        S("id", "1"),
        S("source", "/s"),
        S("type", "t"),
        S("ce-ext", "bad \xc3\x28 byte"),
    };
    const struct sl_amqp_prop noid[] = { S("specversion", "1.0"),
                                         S("source", "/s"), S("type", "t") };
    const struct sl_amqp_prop badtime[] = {
        S("specversion", "1.0"), S("id", "1"),           S("source", "/s"),
        S("type", "t"),          S("TIME", "yesterday"),
    };
    const struct sl_amqp_prop faraway[] = {
        S("specversion", "1.0"),
        S("id", "1"),
        S("source", "/s"),
        S("type", "t"),
        { .name = "when", .type = SL_AMQP_TIMESTAMP, .num = INT64_MAX },
    };
    const struct sl_amqp_prop ok[] = { S("specversion", "1.0"), S("id", "1"),
                                       S("source", "/s"), S("type", "t") };
    struct sl_ce_opts small = { .max_event_size = 64 };
    struct sl_amqp_message m;
    char body[64];

    m = MSG(dup);
    dec_fail(&m, NULL, SL_EINVAL, NULL);
    m = MSG(dct);
    dec_fail(&m, NULL, SL_EINVAL, "cloudEvents_datacontenttype");
    m = MSG(utf8);
    dec_fail(&m, NULL, SL_EINVAL, "ce-ext");
    m = MSG(noid);
    dec_fail(&m, NULL, SL_EINVAL, "id");
    m = MSG(badtime);
    dec_fail(&m, NULL, SL_EINVAL, "TIME");
    m = MSG(faraway);
    dec_fail(&m, NULL, SL_EINVAL, "when");
    m = MSG(ok);
    m.content_type = "not a media type";
    dec_fail(&m, NULL, SL_EINVAL, "content-type");

    /* Size: attributes + data over the limit. */
    memset(body, 'x', sizeof(body));
    m = MSG(ok);
    m.body = body;
    m.body_len = sizeof(body);
    dec_fail(&m, &small, SL_ETOOBIG, NULL);
    m.body_len = 20;
    {
        struct sl_event *ev = NULL;
        ASSERT_OK(sl_ce_amqp_decode(&m, &small, &ev, NULL, NULL));
        sl_event_unref(ev);
    }
}

/* ---- encoding ---- */

TEST(encode_bare_native)
{
    struct sl_event *ev = full_event("2018-04-05T17:31:00Z");
    const struct sl_amqp_prop *p;
    struct sl_amqp_out out;

    sl_amqp_out_init(&out);
    ASSERT_OK(sl_ce_amqp_encode(ev, NULL, &out));
    ASSERT_STR_EQ(out.msg.content_type, "text/xml");
    ASSERT_STR_EQ(out.msg.props[0].name, "specversion");
    p = find_prop(&out.msg, "content-type");
    ASSERT(p != NULL && p->type == SL_AMQP_STRING);
    ASSERT_STR_EQ(p->str, "text/xml");
    ASSERT(find_prop(&out.msg, "datacontenttype") == NULL);
    p = find_prop(&out.msg, "flag");
    ASSERT(p != NULL && p->type == SL_AMQP_BOOL && p->boolean);
    p = find_prop(&out.msg, "count");
    ASSERT(p != NULL && p->type == SL_AMQP_LONG);
    ASSERT_EQ(p->num, -42);
    p = find_prop(&out.msg, "bin");
    ASSERT(p != NULL && p->type == SL_AMQP_BINARY);
    ASSERT_MEM_EQ(p->str, p->len, "\xde\xad\xbe\xef", 4);
    p = find_prop(&out.msg, "time");
    ASSERT(p != NULL && p->type == SL_AMQP_TIMESTAMP);
    ASSERT_EQ(p->num, 1522949460000);
    p = find_prop(&out.msg, "when");
    ASSERT(p != NULL && p->type == SL_AMQP_TIMESTAMP);
    ASSERT_EQ(p->num, 1577934245678);
    p = find_prop(&out.msg, "dataschema");
    ASSERT(p != NULL && p->type == SL_AMQP_STRING);
    ASSERT_MEM_EQ(out.msg.body, out.msg.body_len, ev->data, ev->data_len);
    sl_amqp_out_fini(&out);
    sl_event_unref(ev);
}

TEST(encode_prefixes_and_strings)
{
    struct sl_event *ev = full_event("2018-04-05T17:31:00.123456+02:00");
    struct sl_amqp_encode_opts o = { .prefix = SL_AMQP_PREFIX_UNDERSCORE };
    const struct sl_amqp_prop *p;
    struct sl_amqp_out out;
    size_t i;

    sl_amqp_out_init(&out);
    ASSERT_OK(sl_ce_amqp_encode(ev, &o, &out));
    for (i = 0; i < out.msg.nprops; i++)
        ASSERT(strncmp(out.msg.props[i].name, "cloudEvents_", 12) == 0);
    ASSERT(find_prop(&out.msg, "content-type") == NULL);
    /* Not exact in milliseconds: the canonical string is kept. */
    p = find_prop(&out.msg, "cloudEvents_time");
    ASSERT(p != NULL && p->type == SL_AMQP_STRING);
    ASSERT_STR_EQ(p->str, "2018-04-05T17:31:00.123456+02:00");

    o.prefix = SL_AMQP_PREFIX_COLON;
    o.strings = true;
    ASSERT_OK(sl_ce_amqp_encode(ev, &o, &out)); /* reuses 'out' */
    for (i = 0; i < out.msg.nprops; i++) {
        ASSERT(strncmp(out.msg.props[i].name, "cloudEvents:", 12) == 0);
        ASSERT_EQ(out.msg.props[i].type, SL_AMQP_STRING);
    }
    p = find_prop(&out.msg, "cloudEvents:bin");
    ASSERT_STR_EQ(p->str, "3q2+7w==");
    sl_amqp_out_fini(&out);
    sl_event_unref(ev);
}

TEST(encode_no_data_and_structured)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct sl_amqp_encode_opts o = { .structured = true };
    struct sl_amqp_out out;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    sl_amqp_out_init(&out);
    ASSERT_OK(sl_ce_amqp_encode(ev, NULL, &out));
    ASSERT(out.msg.body == NULL);
    ASSERT_EQ(out.msg.body_len, 0);
    ASSERT(out.msg.content_type == NULL);
    ASSERT_EQ(out.msg.nprops, 4);
    ASSERT_OK(sl_ce_amqp_encode(ev, &o, &out));
    ASSERT_STR_EQ(out.msg.content_type,
                  "application/cloudevents+json; charset=utf-8");
    ASSERT_EQ(out.msg.nprops, 0);
    ASSERT(out.msg.body_len > 0);
    sl_amqp_out_fini(&out);
    sl_amqp_out_fini(NULL);
    sl_event_unref(ev);
}

/* ---- round trips ---- */

TEST(roundtrip_native_keeps_types)
{
    static const char *const times[] = {
        "2018-04-05T17:31:00Z",             /* native timestamp */
        "2018-04-05T17:31:00.678Z",         /* native timestamp */
        "2018-04-05T17:31:00.123456+02:00", /* string */
        "1985-04-12T23:20:50.52Z",          /* native, trailing digit */
        "2018-04-05t17:31:00z",             /* string: not canonical case */
    };
    static const enum sl_amqp_prefix prefixes[] = { SL_AMQP_PREFIX_NONE,
                                                    SL_AMQP_PREFIX_UNDERSCORE,
                                                    SL_AMQP_PREFIX_COLON };
    size_t i, j;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        for (j = 0; j < 3; j++) {
            struct sl_amqp_encode_opts o = { .prefix = prefixes[j] };
            struct sl_event *ev = full_event(times[i]);
            struct sl_event *back = roundtrip(ev, &o, SL_AMQP_BINARY_MODE);
            /* Every type survives: each has a native form or is a core
             * attribute whose type follows from its name. */
            assert_same(ev, back, true);
            sl_event_unref(back);
            sl_event_unref(ev);
        }
    }
}

TEST(roundtrip_strings_and_structured)
{
    struct sl_amqp_encode_opts strings = { .strings = true };
    struct sl_amqp_encode_opts structured = { .structured = true };
    struct sl_event *ev = full_event("2018-04-05T17:31:00.5-07:30");
    struct sl_event *back;

    /* As strings, values survive and extension types do not. */
    back = roundtrip(ev, &strings, SL_AMQP_BINARY_MODE);
    assert_same(ev, back, false);
    ASSERT_EQ(sl_event_get(back, "count")->type, SL_CE_STRING);
    ASSERT_EQ(sl_event_get(back, "time")->type, SL_CE_TIME);
    sl_event_unref(back);

    /* JSON keeps Boolean and Integer; Binary/Timestamp become strings. */
    back = roundtrip(ev, &structured, SL_AMQP_STRUCTURED_MODE);
    assert_same(ev, back, false);
    ASSERT_EQ(sl_event_get(back, "count")->type, SL_CE_INT);
    ASSERT_EQ(sl_event_get(back, "flag")->type, SL_CE_BOOL);
    sl_event_unref(back);
    sl_event_unref(ev);
}

TEST(roundtrip_v03)
{
    struct sl_event *ev = sl_event_new(SL_CE_V03), *back;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "/schema", NULL));
    sl_event_set_data(ev, "x", 1);
    back = roundtrip(ev, NULL, SL_AMQP_BINARY_MODE);
    assert_same(ev, back, true);
    sl_event_unref(back);
    sl_event_unref(ev);
}

TEST_MAIN()
