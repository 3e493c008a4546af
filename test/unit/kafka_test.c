/*
 * test/unit/kafka_test.c - the CloudEvents Kafka protocol binding: the
 * conformance feature file, duplicates, tombstones, the key mapper,
 * errors, and round trips through every binding and format.
 */
#include "test/unit/check.h"

#include <json-c/json.h>

#include "core/buf.h"
#include "proto/http.h"
#include "proto/json.h"
#include "proto/kafka.h"
#include "test/unit/feature.h"

#define H(n, v)                                         \
    {                                                   \
        .name = (n), .value = (v), .len = sizeof(v) - 1 \
    }
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct sl_event *dec_ok(const struct sl_kafka_record *rec,
                               enum sl_kafka_mode want_mode)
{
    enum sl_kafka_mode mode = SL_KAFKA_STRUCTURED + 1;
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ce_kafka_decode(rec, NULL, &ev, &mode, &d);
    if (rc != 0)
        CHECK_FAIL("decode failed: %s: %s: %s", sl_strerror(rc), d.field,
                   d.msg);
    ASSERT_EQ(mode, want_mode);
    return ev;
}

static void dec_fail(const struct sl_kafka_record *rec,
                     const struct sl_ce_opts *opts, int want, const char *field)
{
    struct sl_event *ev = (struct sl_event *)1;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ce_kafka_decode(rec, opts, &ev, NULL, &d);
    if (rc != want)
        CHECK_FAIL("decode: got %d (%s) want %d", rc, d.msg, want);
    ASSERT(ev == NULL);
    if (field != NULL && strcmp(d.field, field) != 0)
        CHECK_FAIL("decode: field '%s' want '%s' (%s)", d.field, field, d.msg);
}

static struct sl_kafka_record rec_of(const struct sl_kafka_header *h, size_t n,
                                     const char *value)
{
    struct sl_kafka_record r = { .headers = h, .nheaders = n };

    r.value = value;
    r.value_len = value ? strlen(value) : 0;
    return r;
}

#define REC(h, value) rec_of((h), NELEM(h), (value))

/* Same attributes, values and data; types too when 'types'. */
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

static const struct sl_kafka_header *find_hdr(const struct sl_kafka_record *r,
                                              const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return &r->headers[i];
    return NULL;
}

/*
 * An event with every core attribute and some extensions, built with
 * sl_event_set: 'time' has a fraction and an offset.
 */
static struct sl_event *full_event(const char *ct, const void *data, size_t len)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "A234-1234-1234", NULL));
    ASSERT_OK(sl_event_set(ev, "source", SL_CE_URIREF,
                           "https://github.com/cloudevents/spec/pull", 39,
                           NULL));
    ASSERT_OK(
        sl_event_set_str(ev, "type", "com.github.pull_request.opened", NULL));
    ASSERT_OK(sl_event_set_str(ev, "subject", "123 ünïcode", NULL));
    ASSERT_OK(sl_event_set(ev, "dataschema", SL_CE_URI,
                           "https://example.com/schema.json", 31, NULL));
    ASSERT_OK(sl_event_set(ev, "time", SL_CE_TIME,
                           "2018-04-05T17:31:00.123456789-07:30", 35, NULL));
    ASSERT_OK(sl_event_set_str(ev, "partitionkey", "order-42", NULL));
    ASSERT_OK(sl_event_set_str(ev, "comexampleextension1", "value", NULL));
    ASSERT_OK(sl_event_set_int(ev, "comexampleothervalue", 5, NULL));
    ASSERT_OK(sl_event_set_bool(ev, "isit", true, NULL));
    if (ct != NULL)
        ASSERT_OK(sl_event_set_str(ev, "datacontenttype", ct, NULL));
    if (data != NULL)
        sl_event_set_data(ev, data, len);
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

static struct sl_event *kafka_hop(const struct sl_event *ev,
                                  const struct sl_kafka_encode_opts *o)
{
    struct sl_kafka_out out;
    struct sl_event *back;

    sl_kafka_out_init(&out);
    ASSERT_OK(sl_ce_kafka_encode(ev, o, &out));
    back = dec_ok(&out.rec,
                  o && o->structured ? SL_KAFKA_STRUCTURED : SL_KAFKA_BINARY);
    sl_kafka_out_fini(&out);
    return back;
}

static struct sl_event *json_hop(const struct sl_event *ev)
{
    struct sl_event *back = NULL;
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    ASSERT_OK(sl_ce_json_decode(b.data, b.len, NULL, &back, NULL));
    sl_buf_fini(&b);
    return back;
}

/* Encode for HTTP in 'mode' and decode the request again. */
static struct sl_event *http_hop(const struct sl_event *ev,
                                 enum sl_ce_mode mode)
{
    struct sl_http_header hv[64];
    struct sl_http_headers hdrs;
    struct sl_event_list l;
    struct sl_http_msg m;
    struct sl_event *back;
    enum sl_ce_mode got;
    struct sl_diag d;
    struct sl_buf b;
    size_t i;
    int rc;

    sl_http_headers_init(&hdrs);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_event_list_init(&l);
    ASSERT_OK(sl_ce_http_encode(ev, mode, &hdrs, &b));
    ASSERT(hdrs.n <= NELEM(hv));
    for (i = 0; i < hdrs.n; i++) {
        hv[i].name = hdrs.v[i].name;
        hv[i].value = hdrs.v[i].value;
    }
    m.headers = hv;
    m.nheaders = hdrs.n;
    m.body = b.data;
    m.body_len = b.len;
    sl_diag_clear(&d);
    rc = sl_ce_http_decode(&m, NULL, &l, &got, &d);
    if (rc != 0)
        CHECK_FAIL("http decode failed: %s: %s", d.field, d.msg);
    ASSERT_EQ(got, mode);
    ASSERT_EQ(l.n, 1);
    back = sl_event_ref(l.v[0]);
    sl_event_list_fini(&l);
    sl_buf_fini(&b);
    sl_http_headers_fini(&hdrs);
    return back;
}

/* ---- the conformance feature file ---- */

#define KAFKA_FEATURE                                \
    "test/conformance/cloudevents-samples/features/" \
    "kafka-protocol-binding.feature"

/* Parse p[0..n) as JSON; fails the test when it does not parse. */
static struct json_object *parse_json(const void *p, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *obj;

    ASSERT(tok != NULL);
    obj = json_tokener_parse_ex(tok, p, (int)n);
    if (obj == NULL)
        CHECK_FAIL("invalid JSON: %.*s", (int)n, (const char *)p);
    json_tokener_free(tok);
    return obj;
}

/* Column 'name' of a table's header row. */
static size_t table_col(const struct feature_table *t, const char *name)
{
    size_t c;

    for (c = 0; c < t->ncols; c++)
        if (strcmp(feature_cell(t, 0, c), name) == 0)
            return c;
    CHECK_FAIL("table has no column '%s'", name);
}

/* Every step must be one this test knows how to run. */
static void check_steps(const struct feature_scenario *s)
{
    static const char *const known[] = {
        "Kafka Protocol Binding is supported",
        "a Kafka message with payload:",
        "Kafka headers:",
        "parsed as Kafka message",
        "the attributes are:",
        "the data is equal to the following JSON:",
    };
    size_t i, k;

    for (i = 0; i < s->nsteps; i++) {
        for (k = 0; k < NELEM(known); k++)
            if (strcmp(s->steps[i].text, known[k]) == 0)
                break;
        if (k == NELEM(known))
            CHECK_FAIL("%s (line %zu): unknown step '%s'", s->name, s->line,
                       s->steps[i].text);
    }
}

/* Run one scenario: headers + payload -> decode -> compare. */
static void run_scenario(const struct feature_scenario *s)
{
    const char *payload = feature_doc(s, "a Kafka message with payload:");
    const struct feature_table *ht = feature_table(s, "Kafka headers:");
    const struct feature_table *at = feature_table(s, "the attributes are:");
    const char *data = feature_doc(s, "the data is equal to the following");
    struct sl_kafka_header hv[32];
    struct sl_kafka_record r = { .headers = hv };
    struct json_object *want, *got;
    struct sl_event *ev = NULL;
    enum sl_kafka_mode mode;
    size_t i, kc, vc;
    struct sl_diag d;
    int rc;

    check_steps(s);
    ASSERT(payload != NULL && ht != NULL && at != NULL);
    ASSERT(feature_step(s, "parsed as Kafka message") != NULL);
    kc = table_col(ht, "key");
    vc = table_col(ht, "value");
    ASSERT(ht->nrows - 1 <= NELEM(hv));
    for (i = 1; i < ht->nrows; i++) {
        hv[i - 1].name = feature_cell(ht, i, kc);
        hv[i - 1].value = feature_cell(ht, i, vc);
        hv[i - 1].len = strlen(hv[i - 1].value);
    }
    r.nheaders = ht->nrows - 1;
    r.value = payload;
    r.value_len = strlen(payload);

    sl_diag_clear(&d);
    rc = sl_ce_kafka_decode(&r, NULL, &ev, &mode, &d);
    if (rc != 0)
        CHECK_FAIL("%s (line %zu): decode failed: %s: %s", s->name, s->line,
                   d.field, d.msg);
    /* The scenario names say which mode the record is in. */
    ASSERT_EQ(mode, strncmp(s->name, "Structured", 10) == 0
                        ? SL_KAFKA_STRUCTURED
                        : SL_KAFKA_BINARY);
    /* The attributes exactly: the same set, the same values. */
    kc = table_col(at, "key");
    vc = table_col(at, "value");
    for (i = 1; i < at->nrows; i++) {
        const char *name = feature_cell(at, i, kc);
        if (sl_event_value(ev, name) == NULL)
            CHECK_FAIL("%s: attribute '%s' missing", s->name, name);
        ASSERT_STR_EQ(sl_event_value(ev, name), feature_cell(at, i, vc));
    }
    ASSERT_EQ(ev->nattrs, at->nrows - 1);
    if (data != NULL) {
        ASSERT(ev->has_data);
        want = parse_json(data, strlen(data));
        got = parse_json(ev->data, ev->data_len);
        if (!json_object_equal(want, got))
            CHECK_FAIL("%s: data %s, want %s", s->name,
                       json_object_to_json_string(got),
                       json_object_to_json_string(want));
        json_object_put(want);
        json_object_put(got);
    }
    sl_event_unref(ev);
}

TEST(conformance_feature)
{
    struct feature_file f;
    size_t i;

    feature_load(KAFKA_FEATURE, &f);
    /* One binary scenario and an outline with two content types. */
    ASSERT_EQ(f.n, 3);
    for (i = 0; i < f.n; i++)
        run_scenario(&f.v[i]);
    feature_free(&f);
}

/* ---- binary mode ---- */

TEST(binary_minimal)
{
    const struct sl_kafka_header h[] = {
        H("ce_specversion", "1.0"), H("ce_id", "1"),
        H("ce_source", "/s"),       H("ce_type", "t"),
        H("ce_myext", "x"),         H("traceparent", "00-ab-cd-01"),
    };
    struct sl_kafka_record r = REC(h, "plain text");
    struct sl_event *ev;

    r.key = "k";
    r.key_len = 1;
    ev = dec_ok(&r, SL_KAFKA_BINARY);
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_value(ev, "myext"), "x");
    ASSERT_EQ(sl_event_get(ev, "myext")->type, SL_CE_STRING);
    ASSERT(sl_event_get(ev, "datacontenttype") == NULL);
    ASSERT(sl_event_get(ev, "traceparent") == NULL);
    ASSERT(sl_event_get(ev, "partitionkey") == NULL); /* not from the key */
    ASSERT_EQ(ev->nattrs, 5);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "plain text", 10);
    sl_event_unref(ev);
}

TEST(binary_duplicates_last_wins)
{
    const struct sl_kafka_header h[] = {
        H("ce_specversion", "0.3"),
        H("ce_time", "not a time"), /* replaced below: never checked */
        H("CE_ID", "first"),
        H("ce_specversion", "1.0"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("content-type", "text/plain"),
        H("Ce_Id", "second"),
        H("ce_time", "2018-04-05T03:56:24Z"),
        H("ce_id", "third"),
        H("Content-Type", "application/json"),
        { .name = "ce_source", .value = NULL, .len = 0 }, /* null: skipped */
    };
    struct sl_kafka_record r = REC(h, "{}");
    struct sl_event *ev = dec_ok(&r, SL_KAFKA_BINARY);

    ASSERT_EQ(ev->version, SL_CE_V10);
    ASSERT_STR_EQ(sl_event_id(ev), "third");
    ASSERT_STR_EQ(sl_event_source(ev), "/s");
    ASSERT_STR_EQ(sl_event_value(ev, "time"), "2018-04-05T03:56:24Z");
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"), "application/json");
    ASSERT_EQ(ev->nattrs, 6);
    sl_event_unref(ev);
}

TEST(binary_tombstone_and_empty_value)
{
    const struct sl_kafka_header h[] = {
        H("ce_specversion", "1.0"), H("ce_id", "1"),       H("ce_source", "/s"),
        H("ce_type", "t"),          H("content-type", ""),
    };
    struct sl_kafka_record r = REC(h, NULL);
    struct sl_kafka_out out;
    struct sl_event *ev;

    ev = dec_ok(&r, SL_KAFKA_BINARY);
    ASSERT(!ev->has_data);
    ASSERT(sl_event_get(ev, "datacontenttype") == NULL);
    sl_kafka_out_init(&out);
    ASSERT_OK(sl_ce_kafka_encode(ev, NULL, &out));
    ASSERT(out.rec.value == NULL); /* no data: a tombstone */
    ASSERT_EQ(out.rec.value_len, 0);
    ASSERT(find_hdr(&out.rec, "content-type") == NULL);
    sl_event_unref(ev);

    r.value = "";
    ev = dec_ok(&r, SL_KAFKA_BINARY);
    ASSERT(ev->has_data);
    ASSERT_EQ(ev->data_len, 0);
    ASSERT_OK(sl_ce_kafka_encode(ev, NULL, &out));
    ASSERT(out.rec.value != NULL); /* empty data is not a tombstone */
    ASSERT_EQ(out.rec.value_len, 0);
    sl_kafka_out_fini(&out);
    sl_event_unref(ev);
}

TEST(binary_errors)
{
    const struct sl_kafka_header utf8[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("ce_ext", "bad \xc3\x28 byte"),
    };
    const struct sl_kafka_header ct_utf8[] = {
        H("ce_specversion", "1.0"),     H("ce_id", "1"),
        H("ce_source", "/s"),           H("ce_type", "t"),
        H("content-type", "text/\xff"),
    };
    const struct sl_kafka_header version[] = {
        H("ce_specversion", "2.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
    };
    const struct sl_kafka_header dct[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("ce_datacontenttype", "text/plain"),
    };
    const struct sl_kafka_header name[] = {
        H("ce_specversion", "1.0"), H("ce_id", "1"),     H("ce_source", "/s"),
        H("ce_type", "t"),          H("ce_my-ext", "x"),
    };
    const struct sl_kafka_header noid[] = {
        H("ce_specversion", "1.0"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
    };
    const struct sl_kafka_header time[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("ce_time", "2018-02-30T00:00:00Z"),
    };
    const struct sl_kafka_header nul[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        { .name = "ce_ext", .value = "a\0b", .len = 3 },
    };
    struct sl_kafka_record r;

    r = REC(utf8, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_ext");
    r = REC(ct_utf8, "x");
    dec_fail(&r, NULL, SL_EINVAL, "content-type");
    r = REC(version, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_specversion");
    r = REC(dct, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_datacontenttype");
    r = REC(name, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_my-ext");
    r = REC(noid, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_id");
    r = REC(time, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_time");
    r = REC(nul, "x");
    dec_fail(&r, NULL, SL_EINVAL, "ce_ext");
}

TEST(oversize)
{
    const struct sl_kafka_header h[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("ce_big", "0123456789012345678901234567890123456789"),
    };
    const struct sl_kafka_header dup[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "1"),
        H("ce_source", "/s"),
        H("ce_type", "t"),
        H("ce_x", "0123456789012345678901234567890123456789"),
        H("ce_x", "0123456789012345678901234567890123456789"),
        H("ce_x", "short"),
    };
    const struct sl_kafka_header st[] = {
        H("content-type", "application/cloudevents+json"),
    };
    struct sl_ce_opts small = { .max_event_size = 64 };
    struct sl_kafka_record r;
    struct sl_event *ev = NULL;

    /* The data alone. */
    r = REC(h, "01234567890123456789012345678901234567890123456789"
               "01234567890123456789");
    dec_fail(&r, &small, SL_ETOOBIG, NULL);
    /* Attributes + data: 14 + 3 + 8 + 5 + 43 = 73 bytes. */
    r = REC(h, NULL);
    dec_fail(&r, &small, SL_ETOOBIG, NULL);
    /* Exactly the limit passes. */
    small.max_event_size = 73;
    ASSERT_OK(sl_ce_kafka_decode(&r, &small, &ev, NULL, NULL));
    sl_event_unref(ev);
    /* Overridden duplicates do not count. */
    small.max_event_size = 64;
    r = REC(dup, "abc");
    ASSERT_OK(sl_ce_kafka_decode(&r, &small, &ev, NULL, NULL));
    ASSERT_STR_EQ(sl_event_value(ev, "x"), "short");
    sl_event_unref(ev);
    /* Structured: the JSON text. */
    r = REC(st, "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
                "\"type\":\"t\",\"data\":\"0123456789012345678901234\"}");
    dec_fail(&r, &small, SL_ETOOBIG, NULL);
}

TEST(not_a_cloudevent)
{
    const struct sl_kafka_header plain[] = {
        H("content-type", "application/json"),
        H("ce_id", "1"), /* attributes without a specversion */
        H("ce_", "x"),
        { .name = "ce_specversion", .value = NULL, .len = 0 },
    };
    struct sl_kafka_record r = REC(plain, "{\"order\":42}");

    dec_fail(&r, NULL, SL_ENOENT, NULL);
    r.nheaders = 0;
    dec_fail(&r, NULL, SL_ENOENT, NULL);
    r.value = NULL;
    dec_fail(&r, NULL, SL_ENOENT, NULL);
}

/* ---- structured mode ---- */

TEST(structured)
{
    static const char json[] =
        "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
        "\"type\":\"t\",\"n\":7,\"data\":{\"a\":1}}";
    const struct sl_kafka_header h[] = {
        H("ce_specversion", "junk"), /* MAY be there; the value rules */
        H("content-type", "Application/CloudEvents+JSON ; charset=UTF-8"),
    };
    const struct sl_kafka_header avro[] = {
        H("content-type", "application/cloudevents+avro"),
    };
    const struct sl_kafka_header batch[] = {
        H("content-type", "application/cloudevents-batch+json"),
    };
    struct sl_kafka_record r = REC(h, json);
    struct sl_event *ev = dec_ok(&r, SL_KAFKA_STRUCTURED);

    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_EQ(sl_event_get(ev, "n")->type, SL_CE_INT);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":1}", 7);
    sl_event_unref(ev);
    r.value = NULL;
    dec_fail(&r, NULL, SL_EINVAL, NULL);
    r = REC(h, "{\"specversion\":\"1.0\"}");
    dec_fail(&r, NULL, SL_EINVAL, "id");
    r = REC(avro, json);
    dec_fail(&r, NULL, SL_ENOTSUP, "content-type");
    r = REC(batch, "[]");
    dec_fail(&r, NULL, SL_ENOTSUP, "content-type");
}

/* ---- encoding ---- */

TEST(encode_binary_layout)
{
    struct sl_event *ev = full_event("application/json", "{\"a\":1}", 7);
    struct sl_kafka_out out;
    const struct sl_kafka_header *h;
    size_t i;

    sl_kafka_out_init(&out);
    ASSERT_OK(sl_ce_kafka_encode(ev, NULL, &out));
    ASSERT_STR_EQ(out.rec.headers[0].name, "ce_specversion");
    ASSERT_STR_EQ(out.rec.headers[0].value, "1.0");
    ASSERT_EQ(out.rec.nheaders, ev->nattrs);
    h = find_hdr(&out.rec, "content-type");
    ASSERT(h != NULL);
    ASSERT_MEM_EQ(h->value, h->len, "application/json", 16);
    ASSERT(find_hdr(&out.rec, "ce_datacontenttype") == NULL);
    h = find_hdr(&out.rec, "ce_time");
    ASSERT_STR_EQ(h->value, "2018-04-05T17:31:00.123456789-07:30");
    h = find_hdr(&out.rec, "ce_comexampleothervalue");
    ASSERT_STR_EQ(h->value, "5");
    for (i = 0; i < out.rec.nheaders; i++)
        ASSERT(strcmp(out.rec.headers[i].name, "content-type") == 0 ||
               strncmp(out.rec.headers[i].name, "ce_", 3) == 0);
    ASSERT_MEM_EQ(out.rec.value, out.rec.value_len, "{\"a\":1}", 7);
    ASSERT(out.rec.key == NULL);
    sl_kafka_out_fini(&out);
    sl_kafka_out_fini(NULL);
    sl_event_unref(ev);
}

TEST(encode_structured_layout)
{
    struct sl_event *ev = full_event("application/json", "{\"a\":1}", 7);
    struct sl_kafka_encode_opts o = { .structured = true };
    struct sl_kafka_out out;
    struct sl_event *back = NULL;

    sl_kafka_out_init(&out);
    ASSERT_OK(sl_ce_kafka_encode(ev, &o, &out));
    ASSERT_EQ(out.rec.nheaders, 1);
    ASSERT_STR_EQ(out.rec.headers[0].name, "content-type");
    ASSERT_STR_EQ(out.rec.headers[0].value,
                  "application/cloudevents+json; charset=UTF-8");
    ASSERT_OK(
        sl_ce_json_decode(out.rec.value, out.rec.value_len, NULL, &back, NULL));
    assert_same(ev, back, false);
    sl_event_unref(back);
    sl_kafka_out_fini(&out);
    sl_event_unref(ev);
}

TEST(key_mapper)
{
    struct sl_event *ev = full_event(NULL, NULL, 0);
    struct sl_event *before = sl_event_clone(ev), *back;
    struct sl_kafka_encode_opts o = { .partitionkey_key = true };
    const struct sl_kafka_header *h;
    struct sl_kafka_out out;

    sl_kafka_out_init(&out);
    ASSERT_OK(sl_ce_kafka_encode(ev, &o, &out));
    ASSERT_MEM_EQ(out.rec.key, out.rec.key_len, "order-42", 8);
    /* The mapper changes nothing else: the attribute stays a header. */
    h = find_hdr(&out.rec, "ce_partitionkey");
    ASSERT(h != NULL);
    ASSERT_MEM_EQ(h->value, h->len, "order-42", 8);
    assert_same(before, ev, true);
    /* The key does not become an attribute on the way back. */
    sl_kafka_out_set_key(&out, "other", 5);
    back = dec_ok(&out.rec, SL_KAFKA_BINARY);
    ASSERT_STR_EQ(sl_event_value(back, "partitionkey"), "order-42");
    sl_event_unref(back);

    /* Structured mode maps the key too. */
    o.structured = true;
    ASSERT_OK(sl_ce_kafka_encode(ev, &o, &out));
    ASSERT_MEM_EQ(out.rec.key, out.rec.key_len, "order-42", 8);
    /* Off by default; on without a partitionkey gives no key. */
    ASSERT_OK(sl_ce_kafka_encode(ev, NULL, &out));
    ASSERT(out.rec.key == NULL);
    ASSERT_OK(sl_event_del(ev, "partitionkey"));
    o.structured = false;
    ASSERT_OK(sl_ce_kafka_encode(ev, &o, &out));
    ASSERT(out.rec.key == NULL);
    ASSERT_EQ(out.rec.key_len, 0);
    /* A user key set by the producer. */
    sl_kafka_out_set_key(&out, "user", 4);
    ASSERT_MEM_EQ(out.rec.key, out.rec.key_len, "user", 4);
    sl_kafka_out_set_key(&out, NULL, 0);
    ASSERT(out.rec.key == NULL);
    sl_kafka_out_fini(&out);
    sl_event_unref(before);
    sl_event_unref(ev);
}

/* ---- round trips ---- */

TEST(roundtrip_kafka_modes)
{
    static const unsigned char bin[] = { 0x00, 0xff, 0xfe, 0x80, 0x7f };
    struct sl_kafka_encode_opts binary = { .structured = false };
    struct sl_kafka_encode_opts structured = { .structured = true };
    struct sl_event *evs[4], *b1, *b2;
    size_t i;

    evs[0] = full_event("application/json", "{\"a\":[1,2,{\"b\":null}]}", 22);
    evs[1] = full_event("application/octet-stream", bin, sizeof(bin));
    evs[2] = full_event("text/plain", "", 0);
    evs[3] = full_event(NULL, NULL, 0);
    for (i = 0; i < NELEM(evs); i++) {
        /* Binary keeps every attribute and its type (core types come
         * from the name; these extensions are all strings on the way
         * back, so compare types only through structured). */
        b1 = kafka_hop(evs[i], &binary);
        assert_same(evs[i], b1, false);
        ASSERT_EQ(sl_event_get(b1, "time")->type, SL_CE_TIME);
        ASSERT_EQ(sl_event_get(b1, "dataschema")->type, SL_CE_URI);
        /* Structured after binary, and back. */
        b2 = kafka_hop(b1, &structured);
        assert_same(evs[i], b2, false);
        sl_event_unref(b2);
        b2 = kafka_hop(evs[i], &structured);
        assert_same(evs[i], b2, true);
        sl_event_unref(b2);
        sl_event_unref(b1);
    }
    for (i = 0; i < NELEM(evs); i++)
        sl_event_unref(evs[i]);
}

TEST(roundtrip_v03)
{
    struct sl_event *ev = sl_event_new(SL_CE_V03), *back;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "/schema", NULL));
    sl_event_set_data(ev, "x", 1);
    back = kafka_hop(ev, NULL);
    ASSERT_EQ(back->version, SL_CE_V03);
    assert_same(ev, back, true);
    sl_event_unref(back);
    sl_event_unref(ev);
}

/* JSON -> Kafka binary -> Kafka structured -> JSON, and the reverse. */
TEST(roundtrip_json_chain)
{
    struct sl_kafka_encode_opts structured = { .structured = true };
    struct sl_event *ev = full_event("application/json", "{\"x\":1}", 7);
    struct sl_event *a, *b, *c;

    a = json_hop(ev);
    b = kafka_hop(a, NULL);
    c = kafka_hop(b, &structured);
    sl_event_unref(a);
    a = json_hop(c);
    assert_same(ev, a, false);
    sl_event_unref(a);
    sl_event_unref(b);
    sl_event_unref(c);

    a = kafka_hop(ev, &structured);
    b = kafka_hop(a, NULL);
    c = json_hop(b);
    assert_same(ev, c, false);
    sl_event_unref(a);
    sl_event_unref(b);
    sl_event_unref(c);
    sl_event_unref(ev);
}

/*
 * HTTP binary -> HTTP structured -> JSON -> Kafka binary -> Kafka
 * structured, and the same chain backwards: every attribute and the data
 * survive each hop.
 */
TEST(roundtrip_all_bindings)
{
    static const unsigned char bin[] = { 0x00, 0xff, 0xfe, 0x80, 0x7f };
    struct sl_kafka_encode_opts structured = { .structured = true };
    struct sl_event *evs[4];
    size_t i, k;

    evs[0] = full_event("application/json", "{\"message\":\"Hello\"}", 19);
    evs[1] = full_event("application/octet-stream", bin, sizeof(bin));
    evs[2] = full_event("text/xml", "<a b=\"%20 €\"/>", 16);
    evs[3] = full_event(NULL, NULL, 0);
    for (i = 0; i < NELEM(evs); i++) {
        struct sl_event *cur = sl_event_ref(evs[i]), *next = NULL;
        for (k = 0; k < 10; k++) {
            switch (k < 5 ? k : 9 - k) {
            case 0:
                next = http_hop(cur, SL_CE_BINARY_MODE);
                break;
            case 1:
                next = http_hop(cur, SL_CE_STRUCTURED_MODE);
                break;
            case 2:
                next = json_hop(cur);
                break;
            case 3:
                next = kafka_hop(cur, NULL);
                break;
            default:
                next = kafka_hop(cur, &structured);
                break;
            }
            assert_same(evs[i], next, false);
            ASSERT_EQ(sl_event_get(next, "time")->type, SL_CE_TIME);
            sl_event_unref(cur);
            cur = next;
        }
        sl_event_unref(cur);
    }
    for (i = 0; i < NELEM(evs); i++)
        sl_event_unref(evs[i]);
}

TEST_MAIN()
