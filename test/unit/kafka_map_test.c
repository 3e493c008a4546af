/*
 * test/unit/kafka_map_test.c - the KafkaSource's pure half
 * (sources/kafka/kafka.h): records as CloudEvents (reference 6.2) with
 * every key type, header names and values, content types, timestamps,
 * forwarded CloudEvents, overrides and limits; Java's number formatting;
 * the spec; spec.net as librdkafka properties.
 */
#include "test/unit/check.h"

#include <math.h>

#include <json-c/json.h>

#include "proto/kafka.h"
#include "sources/kafka/kafka.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define H(n, v)                                         \
    {                                                   \
        .name = (n), .value = (v), .len = sizeof(v) - 1 \
    }

/* ---- helpers ---- */

static const struct sl_kafka_origin origin = {
    .topic = "orders",
    .partition = 3,
    .offset = 42,
    .timestamp_ms = 1700000000123LL,
};

static struct sl_ksrc_map map_of(enum sl_ksrc_key_type kt)
{
    struct sl_ksrc_map m = {
        .ns = "team-a", .name = "ks", .key_type = kt, .kafka_ext = false
    };

    return m;
}

static struct sl_kafka_record rec_of(const struct sl_kafka_header *h, size_t n,
                                     const void *key, size_t klen,
                                     const char *value)
{
    struct sl_kafka_record r = { .headers = h, .nheaders = n };

    r.key = key;
    r.key_len = klen;
    r.value = value;
    r.value_len = value ? strlen(value) : 0;
    return r;
}

static struct sl_event *map_ok(const struct sl_ksrc_map *m,
                               const struct sl_kafka_origin *o,
                               const struct sl_kafka_record *r,
                               enum sl_ksrc_kind want)
{
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_ksrc_map_record(m, o, r, &ev, &info, &d);
    if (rc != 0)
        CHECK_FAIL("map failed: %s: %s: %s", sl_strerror(rc), d.field, d.msg);
    ASSERT_EQ(info.kind, want);
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* Attribute 'name' has value 'v' (NULL: absent) of type 'type'. */
static void attr_is(const struct sl_event *ev, const char *name, const char *v,
                    enum sl_ce_type type)
{
    const struct sl_ce_attr *a = sl_event_get(ev, name);

    if (v == NULL) {
        if (a != NULL)
            CHECK_FAIL("attribute %s should be absent, is \"%s\"", name,
                       a->value);
        return;
    }
    if (a == NULL)
        CHECK_FAIL("attribute %s missing (want \"%s\")", name, v);
    if (strcmp(a->value, v) != 0)
        CHECK_FAIL("attribute %s is \"%s\", want \"%s\"", name, a->value, v);
    ASSERT_EQ(a->type, type);
}

#define STR SL_CE_STRING

/* The key extensions of 'key' read as 'kt'; both must be 'want'. */
static void key_is(enum sl_ksrc_key_type kt, const void *key, size_t n,
                   const char *want, enum sl_ce_type type)
{
    struct sl_ksrc_map m = map_of(kt);
    struct sl_kafka_record r = rec_of(NULL, 0, key, n, "v");
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);

    attr_is(ev, "key", want, type);
    attr_is(ev, "partitionkey", want, type);
    sl_event_unref(ev);
}

/* The extension header 'name' with value v[0..n) becomes (ext, want). */
static void header_is(const char *name, const void *v, size_t n,
                      const char *ext, const char *want)
{
    struct sl_kafka_header h = { .name = name, .value = v, .len = n };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(&h, 1, NULL, 0, "v");
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);

    attr_is(ev, ext, want, STR);
    sl_event_unref(ev);
}

/* ---- the wrapped event ---- */

TEST(plain_record_every_attribute)
{
    struct sl_kafka_header h[] = {
        H("Content-Type", "Application/JSON; Charset=UTF-8"),
        H("trace-id", "abc123"),
        H("X_Custom.Header-1", "hello"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), "order-7", 7, "{\"qty\":2}");
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);

    ASSERT_EQ(ev->version, SL_CE_V10);
    attr_is(ev, "specversion", "1.0", STR);
    attr_is(ev, "id", "partition:3/offset:42", STR);
    attr_is(ev, "type", "dev.knative.kafka.event", STR);
    attr_is(ev, "source", "/apis/v1/namespaces/team-a/kafkasources/ks#orders",
            SL_CE_URIREF);
    attr_is(ev, "subject", "partition:3#42", STR);
    attr_is(ev, "time", "2023-11-14T22:13:20.123Z", SL_CE_TIME);
    attr_is(ev, "datacontenttype", "application/json; charset=utf-8", STR);
    attr_is(ev, "key", "order-7", STR);
    attr_is(ev, "partitionkey", "order-7", STR);
    attr_is(ev, "kafkaheadertraceid", "abc123", STR);
    attr_is(ev, "kafkaheaderxcustomheader1", "hello", STR);
    /* Nothing else: no kafkaheadercontenttype, no Kafka metadata. */
    ASSERT_EQ(ev->nattrs, 11);
    ASSERT(ev->has_data);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"qty\":2}", 9);
    sl_event_unref(ev);
}

TEST(plain_record_minimal)
{
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(NULL, 0, NULL, 0, "x");
    struct sl_kafka_origin o = {
        .topic = "t.1_a-b", .partition = 0, .offset = 0, .timestamp_ms = -1
    };
    struct sl_event *ev = map_ok(&m, &o, &r, SL_KSRC_WRAPPED);

    attr_is(ev, "id", "partition:0/offset:0", STR);
    attr_is(ev, "subject", "partition:0#0", STR);
    attr_is(ev, "source", "/apis/v1/namespaces/team-a/kafkasources/ks#t.1_a-b",
            SL_CE_URIREF);
    attr_is(ev, "time", NULL, STR); /* no timestamp: no time */
    attr_is(ev, "key", NULL, STR);
    attr_is(ev, "partitionkey", NULL, STR);
    attr_is(ev, "datacontenttype", NULL, STR);
    ASSERT_EQ(ev->nattrs, 5);
    sl_event_unref(ev);
}

TEST(plain_record_values_and_tombstones)
{
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(NULL, 0, NULL, 0, NULL);
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);

    ASSERT(!ev->has_data); /* a tombstone has no data */
    sl_event_unref(ev);
    r = rec_of(NULL, 0, NULL, 0, "");
    ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);
    ASSERT(ev->has_data); /* an empty value is empty data */
    ASSERT_EQ(ev->data_len, 0);
    sl_event_unref(ev);
    /* Binary data passes untouched. */
    {
        static const unsigned char bin[] = { 0, 0xff, 0x80, '\n', 0 };

        r = rec_of(NULL, 0, NULL, 0, NULL);
        r.value = bin;
        r.value_len = sizeof(bin);
        ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);
        ASSERT_MEM_EQ(ev->data, ev->data_len, bin, sizeof(bin));
        sl_event_unref(ev);
    }
}

TEST(plain_record_times)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        { 1700000000123LL, "2023-11-14T22:13:20.123Z" },
        { 1700000000100LL, "2023-11-14T22:13:20.1Z" },
        { 1700000000000LL, "2023-11-14T22:13:20Z" },
        { 1700000000001LL, "2023-11-14T22:13:20.001Z" },
        { 0, "1970-01-01T00:00:00Z" },
        { 951782400999LL, "2000-02-29T00:00:00.999Z" },
        { -1, NULL },
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(NULL, 0, NULL, 0, "x");

    for (size_t i = 0; i < NELEM(cases); i++) {
        struct sl_kafka_origin o = origin;
        struct sl_event *ev;

        o.timestamp_ms = cases[i].ms;
        ev = map_ok(&m, &o, &r, SL_KSRC_WRAPPED);
        attr_is(ev, "time", cases[i].want, SL_CE_TIME);
        sl_event_unref(ev);
    }
}

TEST(plain_record_big_partitions_and_offsets)
{
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(NULL, 0, NULL, 0, "x");
    struct sl_kafka_origin o = origin;
    struct sl_event *ev;

    o.partition = 2147483647;
    o.offset = 9223372036854775807LL;
    m.kafka_ext = true;
    ev = map_ok(&m, &o, &r, SL_KSRC_WRAPPED);
    attr_is(ev, "id", "partition:2147483647/offset:9223372036854775807", STR);
    attr_is(ev, "subject", "partition:2147483647#9223372036854775807", STR);
    attr_is(ev, "knativekafkapartition", "2147483647", SL_CE_INT);
    /* Past an Integer: a String with the same text. */
    attr_is(ev, "knativekafkaoffset", "9223372036854775807", STR);
    sl_event_unref(ev);
    o.offset = 2147483647;
    ev = map_ok(&m, &o, &r, SL_KSRC_WRAPPED);
    attr_is(ev, "knativekafkaoffset", "2147483647", SL_CE_INT);
    sl_event_unref(ev);
}

/* ---- keys ---- */

TEST(keys_string)
{
    key_is(SL_KSRC_KEY_STRING, "k1", 2, "k1", STR);
    key_is(SL_KSRC_KEY_STRING, "h\xc3\xa9llo", 6, "h\xc3\xa9llo", STR);
    /* Malformed UTF-8 and control characters become U+FFFD. */
    key_is(SL_KSRC_KEY_STRING,
           "a\xff"
           "b",
           3,
           "a\xef\xbf\xbd"
           "b",
           STR);
    key_is(SL_KSRC_KEY_STRING, "a\nb", 3,
           "a\xef\xbf\xbd"
           "b",
           STR);
    key_is(SL_KSRC_KEY_STRING, "\0", 1, "\xef\xbf\xbd", STR);
    /* A null or empty key is no key (Java's deserializer gives null). */
    key_is(SL_KSRC_KEY_STRING, "", 0, NULL, STR);
    key_is(SL_KSRC_KEY_INT, "", 0, NULL, STR);
    key_is(SL_KSRC_KEY_BYTES, "", 0, NULL, STR);
}

TEST(keys_int)
{
    static const unsigned char k42[] = { 0, 0, 0, 42 };
    static const unsigned char kneg[] = { 0xff, 0xff, 0xff, 0xff };
    static const unsigned char kmin[] = { 0x80, 0, 0, 0 };
    static const unsigned char kmax[] = { 0x7f, 0xff, 0xff, 0xff };
    static const unsigned char k256[] = { 0, 0, 1, 0 };
    static const unsigned char k8[] = { 0, 0, 0, 0, 0, 0, 0, 42 };

    key_is(SL_KSRC_KEY_INT, k42, 4, "42", SL_CE_INT);
    key_is(SL_KSRC_KEY_INT, kneg, 4, "-1", SL_CE_INT);
    key_is(SL_KSRC_KEY_INT, kmin, 4, "-2147483648", SL_CE_INT);
    key_is(SL_KSRC_KEY_INT, kmax, 4, "2147483647", SL_CE_INT);
    key_is(SL_KSRC_KEY_INT, k256, 4, "256", SL_CE_INT);
    /* Not 4 bytes: Java falls back to the string deserializer. */
    key_is(SL_KSRC_KEY_INT, "123", 3, "123", STR);
    key_is(SL_KSRC_KEY_INT, k8, 8,
           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
           "\xef\xbf\xbd\xef\xbf\xbd*",
           STR);
    key_is(SL_KSRC_KEY_INT, "abcd", 4, "1633837924", SL_CE_INT);
}

TEST(keys_float)
{
    static const unsigned char f15[] = { 0x3f, 0xc0, 0, 0 };       /* 1.5f */
    static const unsigned char f01[] = { 0x3d, 0xcc, 0xcc, 0xcd }; /* 0.1f */
    static const unsigned char fnan[] = { 0x7f, 0xc0, 0, 0 };
    static const unsigned char fninf[] = { 0xff, 0x80, 0, 0 };
    static const unsigned char d01[] = { 0x3f, 0xb9, 0x99, 0x99,
                                         0x99, 0x99, 0x99, 0x9a }; /* 0.1 */
    static const unsigned char d1e10[] = {
        0x42, 0x02, 0xa0, 0x5f, 0x20, 0, 0, 0
    }; /* 1e10 */
    static const unsigned char dm0[] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };

    key_is(SL_KSRC_KEY_FLOAT, f15, 4, "1.5", STR);
    key_is(SL_KSRC_KEY_FLOAT, f01, 4, "0.1", STR);
    key_is(SL_KSRC_KEY_FLOAT, fnan, 4, "NaN", STR);
    key_is(SL_KSRC_KEY_FLOAT, fninf, 4, "-Infinity", STR);
    key_is(SL_KSRC_KEY_FLOAT, d01, 8, "0.1", STR);
    key_is(SL_KSRC_KEY_FLOAT, d1e10, 8, "1.0E10", STR);
    key_is(SL_KSRC_KEY_FLOAT, dm0, 8, "-0.0", STR);
    /* Neither 4 nor 8 bytes: the string deserializer. */
    key_is(SL_KSRC_KEY_FLOAT, "2.5", 3, "2.5", STR);
    key_is(SL_KSRC_KEY_FLOAT, "12345", 5, "12345", STR);
}

TEST(keys_bytes)
{
    static const unsigned char k[] = { 0, 0xff, 0x10, 'a' };

    key_is(SL_KSRC_KEY_BYTES, k, 4, "AP8QYQ==", SL_CE_BINARY);
    key_is(SL_KSRC_KEY_BYTES, "abc", 3, "YWJj", SL_CE_BINARY);
    key_is(SL_KSRC_KEY_BYTES, "\0", 1, "AA==", SL_CE_BINARY);
}

TEST(key_type_label)
{
    enum sl_ksrc_key_type t = SL_KSRC_KEY_BYTES;

    ASSERT_OK(sl_ksrc_key_type_parse(NULL, &t));
    ASSERT_EQ(t, SL_KSRC_KEY_STRING);
    ASSERT_OK(sl_ksrc_key_type_parse("", &t));
    ASSERT_EQ(t, SL_KSRC_KEY_STRING);
    ASSERT_OK(sl_ksrc_key_type_parse("int", &t));
    ASSERT_EQ(t, SL_KSRC_KEY_INT);
    ASSERT_OK(sl_ksrc_key_type_parse("float", &t));
    ASSERT_EQ(t, SL_KSRC_KEY_FLOAT);
    ASSERT_OK(sl_ksrc_key_type_parse("byte-array", &t));
    ASSERT_EQ(t, SL_KSRC_KEY_BYTES);
    ASSERT_OK(sl_ksrc_key_type_parse("string", &t));
    ASSERT_EQ(t, SL_KSRC_KEY_STRING);
    ASSERT_EQ(sl_ksrc_key_type_parse("Int", &t), SL_EINVAL);
    ASSERT_EQ(sl_ksrc_key_type_parse("double", &t), SL_EINVAL);
}

/* ---- Java's number text ---- */

static void fmt_is(double v, bool single, const char *want)
{
    char out[40];
    size_t n = sl_ksrc_format_float(v, single, out, sizeof(out));

    ASSERT_EQ(n, strlen(out));
    if (strcmp(out, want) != 0)
        CHECK_FAIL("format %.17g (%s): \"%s\", want \"%s\"", v,
                   single ? "float" : "double", out, want);
}

TEST(java_double_text)
{
    fmt_is(1.0, false, "1.0");
    fmt_is(-2.5, false, "-2.5");
    fmt_is(100.0, false, "100.0");
    fmt_is(0.1, false, "0.1");
    fmt_is(1.0 / 3.0, false, "0.3333333333333333");
    fmt_is(0.001, false, "0.001");
    fmt_is(0.0009, false, "9.0E-4");
    fmt_is(1e-4, false, "1.0E-4");
    fmt_is(1.2345e-4, false, "1.2345E-4");
    fmt_is(9999999.0, false, "9999999.0");
    fmt_is(1e7, false, "1.0E7");
    fmt_is(123456789.0, false, "1.23456789E8");
    fmt_is(1e21, false, "1.0E21");
    fmt_is(1e23, false, "1.0E23");
    fmt_is(4.9e-324, false, "4.9E-324");
    fmt_is(1.7976931348623157e308, false, "1.7976931348623157E308");
    fmt_is(2e-3, false, "0.002");
    fmt_is(1234.5678, false, "1234.5678");
    fmt_is(0.0, false, "0.0");
    fmt_is(-0.0, false, "-0.0");
    fmt_is(NAN, false, "NaN");
    fmt_is(INFINITY, false, "Infinity");
    fmt_is(-INFINITY, false, "-Infinity");
}

TEST(java_float_text)
{
    fmt_is(0.1f, true, "0.1");
    fmt_is(2.0f / 3.0f, true, "0.6666667");
    fmt_is(12345.678f, true, "12345.678");
    fmt_is(3.4028235e38f, true, "3.4028235E38");
    fmt_is(1.4e-45f, true, "1.4E-45");
    fmt_is(1e7f, true, "1.0E7");
    fmt_is(-1.5f, true, "-1.5");
    fmt_is(16777216.0f, true, "1.6777216E7");
}

/* ---- headers ---- */

TEST(header_names)
{
    header_is("Trace-ID", "v", 1, "kafkaheadertraceid", "v");
    header_is("x.y_z-1", "v", 1, "kafkaheaderxyz1", "v");
    header_is("ce_type", "v", 1, "kafkaheadercetype", "v");
    header_is("___", "v", 1, "kafkaheader", "v");
    header_is("", "v", 1, "kafkaheader", "v");
    header_is("h\xc3\xa9", "v", 1, "kafkaheaderh", "v");
    /* Java lower-cases U+0130 to 'i' and the Kelvin sign to 'k'. */
    header_is("\xc4\xb0"
              "d",
              "v", 1, "kafkaheaderid", "v");
    header_is("\xe2\x84\xaa"
              "ey",
              "v", 1, "kafkaheaderkey", "v");
    header_is("bad\xff"
              "name",
              "v", 1, "kafkaheaderbadname", "v");
}

TEST(header_values)
{
    header_is("h", "plain text", 10, "kafkaheaderh", "plain text");
    header_is("h", "", 0, "kafkaheaderh", "");
    header_is("h", "\xc3\xa9t\xc3\xa9", 5, "kafkaheaderh", "\xc3\xa9t\xc3\xa9");
    /* Control characters and malformed bytes: one U+FFFD each maximal
     * malformed subsequence, as Java's decoder. */
    header_is("h", "a\tb", 3, "kafkaheaderh",
              "a\xef\xbf\xbd"
              "b");
    header_is("h", "\xe2\x82x", 3, "kafkaheaderh", "\xef\xbf\xbdx");
    header_is("h", "\xf0\x80x", 3, "kafkaheaderh", "\xef\xbf\xbd\xef\xbf\xbdx");
    header_is("h", "\xed\xa0\x80", 3, "kafkaheaderh",
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    header_is("h", "\xf4\x8f\xbf", 3, "kafkaheaderh", "\xef\xbf\xbd");
    header_is("h", "\xef\xbf\xbe", 3, "kafkaheaderh", "\xef\xbf\xbd");
    header_is("h", "\xc0\xaf", 2, "kafkaheaderh", "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(headers_repeat_and_null)
{
    struct sl_kafka_header h[] = {
        H("X-A", "first"),
        H("x_a", "second"), /* same extension name: the last wins */
        { .name = "gone", .value = NULL, .len = 0 },
        H("content-type", "text/plain"),
        H("CONTENT-TYPE", "Text/HTML"),
        { .name = "Content-Type", .value = NULL, .len = 0 },
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), NULL, 0, "x");
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);

    attr_is(ev, "kafkaheaderxa", "second", STR);
    attr_is(ev, "kafkaheadergone", NULL, STR);
    attr_is(ev, "datacontenttype", "text/html", STR);
    attr_is(ev, "kafkaheadercontenttype", NULL, STR);
    sl_event_unref(ev);
}

TEST(content_type_not_a_media_type)
{
    struct sl_kafka_header h[] = { H("content-type", "garbage") };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), NULL, 0, "x");
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;

    ASSERT_OK(sl_ksrc_map_record(&m, &origin, &r, &ev, &info, NULL));
    ASSERT(info.dropped_content_type);
    attr_is(ev, "datacontenttype", NULL, STR);
    attr_is(ev, "kafkaheadercontenttype", NULL, STR);
    sl_event_unref(ev);
}

/* ---- CloudEvents forwarded ---- */

TEST(binary_cloudevent_forwarded)
{
    struct sl_kafka_header h[] = {
        H("ce_specversion", "1.0"),
        H("ce_id", "evt-1"),
        H("ce_source", "/producer"),
        H("ce_type", "com.example.order"),
        H("ce_time", "2020-01-02T03:04:05Z"),
        H("ce_myext", "mine"),
        H("content-type", "application/json"),
        H("traceparent", "00-abc-def-01"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), "key-1", 5, "{\"a\":1}");
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_BINARY);

    attr_is(ev, "id", "evt-1", STR);
    attr_is(ev, "source", "/producer", SL_CE_URIREF);
    attr_is(ev, "type", "com.example.order", STR);
    attr_is(ev, "time", "2020-01-02T03:04:05Z", SL_CE_TIME);
    attr_is(ev, "myext", "mine", STR);
    attr_is(ev, "datacontenttype", "application/json", STR);
    /* Forwarded as it is: no key, subject or header extensions. */
    attr_is(ev, "key", NULL, STR);
    attr_is(ev, "partitionkey", NULL, STR);
    attr_is(ev, "subject", NULL, STR);
    attr_is(ev, "kafkaheadertraceparent", NULL, STR);
    ASSERT_EQ(ev->nattrs, 7);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":1}", 7);
    sl_event_unref(ev);
    /* With the Kafka metadata of Knative 1.13+. */
    m.kafka_ext = true;
    ev = map_ok(&m, &origin, &r, SL_KSRC_BINARY);
    attr_is(ev, "knativekafkapartition", "3", SL_CE_INT);
    attr_is(ev, "knativekafkaoffset", "42", SL_CE_INT);
    ASSERT_EQ(ev->nattrs, 9);
    sl_event_unref(ev);
}

TEST(structured_cloudevent_forwarded)
{
    static const char body[] =
        "{\"specversion\":\"1.0\",\"id\":\"s-1\",\"source\":\"urn:x\","
        "\"type\":\"t.s\",\"subject\":\"sub\",\"datacontenttype\":"
        "\"text/plain\",\"data\":\"hello\"}";
    struct sl_kafka_header h[] = {
        H("content-type", "application/cloudevents+json; charset=UTF-8"),
        H("other", "x"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_INT);
    struct sl_kafka_record r = rec_of(h, NELEM(h), "k", 1, body);
    struct sl_event *ev = map_ok(&m, &origin, &r, SL_KSRC_STRUCTURED);

    attr_is(ev, "id", "s-1", STR);
    attr_is(ev, "source", "urn:x", SL_CE_URIREF);
    attr_is(ev, "type", "t.s", STR);
    attr_is(ev, "subject", "sub", STR);
    attr_is(ev, "datacontenttype", "text/plain", STR);
    attr_is(ev, "key", NULL, STR);
    attr_is(ev, "kafkaheaderother", NULL, STR);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "hello", 5);
    sl_event_unref(ev);
}

TEST(v03_cloudevent_forwarded)
{
    struct sl_kafka_header h[] = {
        H("ce_specversion", "0.3"),
        H("ce_id", "old-1"),
        H("ce_source", "/old"),
        H("ce_type", "t.old"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), NULL, 0, "d");
    struct sl_event *ev;

    m.kafka_ext = true;
    ev = map_ok(&m, &origin, &r, SL_KSRC_BINARY);
    ASSERT_EQ(ev->version, SL_CE_V03);
    attr_is(ev, "id", "old-1", STR);
    attr_is(ev, "knativekafkapartition", "3", SL_CE_INT);
    sl_event_unref(ev);
}

TEST(broken_cloudevents_are_wrapped)
{
    /* ce_specversion without the required attributes: Java's deserializer
     * throws and the record is wrapped, its ce_ headers as extensions. */
    struct sl_kafka_header h[] = {
        H("ce_specversion", "1.0"),
        H("ce_type", "half"),
        H("content-type", "text/plain"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), "k", 1, "payload");
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;

    ASSERT_OK(sl_ksrc_map_record(&m, &origin, &r, &ev, &info, NULL));
    ASSERT_EQ(info.kind, SL_KSRC_WRAPPED);
    ASSERT_EQ(info.decode_rc, SL_EINVAL);
    ASSERT(info.why.msg[0] != '\0');
    attr_is(ev, "type", "dev.knative.kafka.event", STR);
    attr_is(ev, "kafkaheadercespecversion", "1.0", STR);
    attr_is(ev, "kafkaheadercetype", "half", STR);
    attr_is(ev, "datacontenttype", "text/plain", STR);
    attr_is(ev, "key", "k", STR);
    sl_event_unref(ev);
}

TEST(structured_other_formats_are_wrapped)
{
    struct sl_kafka_header h1[] = {
        H("content-type", "application/cloudevents+avro"),
    };
    struct sl_kafka_header h2[] = {
        H("content-type", "application/cloudevents+json"),
    };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h1, NELEM(h1), NULL, 0, "\x01\x02");
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;

    ASSERT_OK(sl_ksrc_map_record(&m, &origin, &r, &ev, &info, NULL));
    ASSERT_EQ(info.kind, SL_KSRC_WRAPPED);
    ASSERT_EQ(info.decode_rc, SL_ENOTSUP);
    attr_is(ev, "datacontenttype", "application/cloudevents+avro", STR);
    sl_event_unref(ev);
    /* Structured JSON that is not JSON at all. */
    r = rec_of(h2, NELEM(h2), NULL, 0, "{not json");
    ASSERT_OK(sl_ksrc_map_record(&m, &origin, &r, &ev, &info, NULL));
    ASSERT_EQ(info.kind, SL_KSRC_WRAPPED);
    ASSERT_EQ(info.decode_rc, SL_EINVAL);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{not json", 9);
    sl_event_unref(ev);
}

/* ---- overrides, limits ---- */

TEST(overrides_win)
{
    struct sl_ksrc_ext ext[] = {
        { .name = "team", .value = "blue" },
        { .name = "kafkaheaderx", .value = "overridden" },
        { .name = "knativekafkaoffset", .value = "mine" },
    };
    struct sl_kafka_header h[] = { H("x", "from header") };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    struct sl_kafka_record r = rec_of(h, NELEM(h), NULL, 0, "v");
    struct sl_event *ev;

    m.ext = ext;
    m.next = NELEM(ext);
    m.kafka_ext = true;
    ev = map_ok(&m, &origin, &r, SL_KSRC_WRAPPED);
    attr_is(ev, "team", "blue", STR);
    attr_is(ev, "kafkaheaderx", "overridden", STR);
    attr_is(ev, "knativekafkaoffset", "mine", STR);
    attr_is(ev, "knativekafkapartition", "3", SL_CE_INT);
    sl_event_unref(ev);
}

TEST(size_limit)
{
    struct sl_ce_opts small = { .max_event_size = 200 };
    struct sl_ksrc_map m = map_of(SL_KSRC_KEY_STRING);
    char big[400];
    struct sl_kafka_record r;
    struct sl_event *ev = (struct sl_event *)1;
    struct sl_kafka_header h[] = { H("ce_specversion", "1.0"), H("ce_id", "1"),
                                   H("ce_source", "/s"), H("ce_type", "t") };

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    m.ce = &small;
    r = rec_of(NULL, 0, NULL, 0, big);
    ASSERT_EQ(sl_ksrc_map_record(&m, &origin, &r, &ev, NULL, NULL), SL_ETOOBIG);
    ASSERT(ev == NULL);
    r = rec_of(h, NELEM(h), NULL, 0, big);
    ev = (struct sl_event *)1;
    ASSERT_EQ(sl_ksrc_map_record(&m, &origin, &r, &ev, NULL, NULL), SL_ETOOBIG);
    ASSERT(ev == NULL);
    /* Under the limit it passes. */
    big[10] = '\0';
    r = rec_of(NULL, 0, NULL, 0, big);
    ASSERT_OK(sl_ksrc_map_record(&m, &origin, &r, &ev, NULL, NULL));
    sl_event_unref(ev);
}

/* ---- the spec ---- */

static struct json_object *obj_of(const char *json)
{
    struct json_object *o = json_tokener_parse(json);

    if (o == NULL)
        CHECK_FAIL("bad JSON in test: %s", json);
    return o;
}

TEST(spec_parse_defaults_and_fields)
{
    struct json_object *o = obj_of(
        "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"src\",\"uid\":\"u-1\","
        "\"labels\":{\"kafkasources.sources.knative.dev/key-type\":\"int\"}},"
        "\"spec\":{\"bootstrapServers\":[\"a:9092\",\"b:9092\"],"
        "\"topics\":[\"t1\",\"t2\"],\"ceOverrides\":{\"extensions\":"
        "{\"Team\":\"blue\",\"id\":\"no\"}},\"delivery\":{\"retry\":3}}}");
    struct sl_ksrc_spec s;
    struct sl_ksrc_map m;

    ASSERT_OK(sl_ksrc_spec_parse(o, &s, NULL));
    ASSERT_STR_EQ(s.bootstrap, "a:9092,b:9092");
    ASSERT_EQ(s.ntopics, 2);
    ASSERT_STR_EQ(s.topics[1], "t2");
    ASSERT_STR_EQ(s.group, "knative-kafka-source-u-1");
    ASSERT_EQ(s.consumers, 1);
    ASSERT(!s.earliest);
    ASSERT(s.ordered);
    ASSERT_EQ(s.key_type, SL_KSRC_KEY_INT);
    ASSERT_EQ(s.next, 1);
    ASSERT_STR_EQ(s.ext[0].name, "team");
    ASSERT_STR_EQ(s.ignored, "id");
    ASSERT(s.delivery != NULL);
    sl_ksrc_spec_map(&s, &m);
    ASSERT_STR_EQ(m.ns, "ns");
    ASSERT(m.kafka_ext);
    ASSERT_EQ(m.next, 1);
    sl_ksrc_spec_fini(&s);
    json_object_put(o);

    o = obj_of("{\"metadata\":{\"namespace\":\"ns\",\"name\":\"src\"},"
               "\"spec\":{\"bootstrapServers\":[\"a:1\"],\"topics\":[\"t\"],"
               "\"consumerGroup\":\"g\",\"consumers\":3,"
               "\"initialOffset\":\"earliest\",\"ordering\":\"unordered\"}}");
    ASSERT_OK(sl_ksrc_spec_parse(o, &s, NULL));
    ASSERT_STR_EQ(s.group, "g");
    ASSERT_EQ(s.consumers, 3);
    ASSERT(s.earliest);
    ASSERT(!s.ordered);
    ASSERT(s.delivery == NULL);
    sl_ksrc_spec_fini(&s);
    json_object_put(o);
}

static void spec_fails(const char *json, const char *field)
{
    struct json_object *o = obj_of(json);
    struct sl_ksrc_spec s;
    struct sl_diag d;

    sl_diag_clear(&d);
    ASSERT_EQ(sl_ksrc_spec_parse(o, &s, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, field);
    ASSERT(s.ns == NULL && s.topics == NULL);
    sl_ksrc_spec_fini(&s);
    json_object_put(o);
}

TEST(spec_parse_errors)
{
    spec_fails("{\"spec\":{}}", "metadata");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\"},\"spec\":{\"topics\":[\"t\"]}}",
               "spec.bootstrapServers");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\"},\"spec\":{\"bootstrapServers\":[\"a\"],\"topics\":[]}}",
               "spec.topics");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\"},"
               "\"spec\":{\"bootstrapServers\":[\"a\"],\"topics\":[\"t\"]}}",
               "spec.consumerGroup");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\"},\"spec\":{\"bootstrapServers\":[\"a\"],\"topics\":"
               "[\"t\"],\"consumers\":0}}",
               "spec.consumers");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\"},\"spec\":{\"bootstrapServers\":[\"a\"],\"topics\":"
               "[\"t\"],\"initialOffset\":\"middle\"}}",
               "spec.initialOffset");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\",\"labels\":{\"kafkasources.sources.knative.dev/"
               "key-type\":\"uuid\"}},\"spec\":{\"bootstrapServers\":[\"a\"],"
               "\"topics\":[\"t\"]}}",
               "metadata.labels[kafkasources.sources.knative.dev/key-type]");
    spec_fails("{\"metadata\":{\"namespace\":\"n\",\"name\":\"x\",\"uid\":"
               "\"u\"},\"spec\":{\"bootstrapServers\":[\"a\"],\"topics\":"
               "[\"t\"],\"ceOverrides\":{\"extensions\":{\"a-b\":\"v\"}}}}",
               "spec.ceOverrides.extensions.a-b");
}

/* ---- spec.net ---- */

/* A fake Secret store: "name/key=value" lines. */
static int fake_secret(void *arg, const char *name, const char *key, char **out,
                       struct sl_diag *why)
{
    const char *const *kv = arg;
    char want[128];
    bool secret_seen = false;

    snprintf(want, sizeof(want), "%s/%s=", name, key);
    for (; *kv != NULL; kv++) {
        if (strncmp(*kv, name, strlen(name)) == 0 && (*kv)[strlen(name)] == '/')
            secret_seen = true;
        if (strncmp(*kv, want, strlen(want)) == 0) {
            *out = sl_xstrdup(*kv + strlen(want));
            return 0;
        }
    }
    if (!secret_seen)
        return sl_diag_set(why, SL_ENOENT, "", "secret ns/%s not found", name);
    return sl_diag_set(why, SL_ENOENT, "", "key '%s' not found in secret ns/%s",
                       key, name);
}

static const char *const secrets[] = {
    "auth/user=alice",         "auth/password=s3cret",
    "auth/type=SCRAM-SHA-512", "auth/bad=KERBEROS",
    "tls/ca=CA-PEM",           "tls/cert=CERT-PEM",
    "tls/key=KEY-PEM",         NULL,
};

static struct json_object *props_of(const char *net, int want_rc,
                                    const char *want_field)
{
    char json[2048];
    struct json_object *o, *props = (struct json_object *)1;
    struct sl_diag d;
    int rc;

    snprintf(json, sizeof(json),
             "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"x\"},\"spec\":{"
             "\"bootstrapServers\":[\"k1:9092\",\"k2:9092\"],\"topics\":"
             "[\"t\"],\"net\":%s}}",
             net);
    o = obj_of(json);
    sl_diag_clear(&d);
    rc = sl_ksrc_props(o, fake_secret, (void *)secrets, &props, &d);
    json_object_put(o);
    if (rc != want_rc)
        CHECK_FAIL("props: rc %d (%s: %s), want %d", rc, d.field, d.msg,
                   want_rc);
    if (rc != 0) {
        ASSERT(props == NULL);
        ASSERT_STR_EQ(d.field, want_field);
        ASSERT(d.msg[0] != '\0');
        return NULL;
    }
    return props;
}

static const char *prop(const struct json_object *p, const char *k)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(p, k, &v))
        return NULL;
    return json_object_get_string(v);
}

#define REF(n, k) "{\"secretKeyRef\":{\"name\":\"" n "\",\"key\":\"" k "\"}}"

TEST(props_plaintext)
{
    struct json_object *p = props_of("{}", 0, NULL);

    ASSERT_STR_EQ(prop(p, "bootstrap.servers"), "k1:9092,k2:9092");
    ASSERT_EQ(json_object_object_length(p), 1);
    json_object_put(p);
    /* Disabled sections are not read, even with broken references. */
    p = props_of(
        "{\"sasl\":{\"enable\":false,\"user\":" REF(
            "none",
            "x") "},\"tls\":{\"enable\":false,\"caCert\":" REF("none",
                                                               "x") "}}",
        0, NULL);
    ASSERT_EQ(json_object_object_length(p), 1);
    json_object_put(p);
}

TEST(props_sasl_and_tls)
{
    struct json_object *p = props_of(
        "{\"sasl\":{\"enable\":true,\"user\":" REF(
            "auth", "user") ",\"password\":" REF("auth", "password") "}}",
        0, NULL);

    ASSERT_STR_EQ(prop(p, "security.protocol"), "SASL_PLAINTEXT");
    ASSERT_STR_EQ(prop(p, "sasl.mechanism"), "PLAIN");
    ASSERT_STR_EQ(prop(p, "sasl.username"), "alice");
    ASSERT_STR_EQ(prop(p, "sasl.password"), "s3cret");
    json_object_put(p);

    p = props_of(
        "{\"sasl\":{\"enable\":true,\"user\":" REF(
            "auth",
            "user") ",\"password\":" REF("auth",
                                         "password") ",\"type\":" REF("auth",
                                                                      "type") "},\"tls\":{\"enable\":true,\"caCert\":" REF("tls",
                                                                                                                           "ca") "}}",
        0, NULL);
    ASSERT_STR_EQ(prop(p, "security.protocol"), "SASL_SSL");
    ASSERT_STR_EQ(prop(p, "sasl.mechanism"), "SCRAM-SHA-512");
    ASSERT_STR_EQ(prop(p, "ssl.ca.pem"), "CA-PEM");
    ASSERT(prop(p, "ssl.certificate.pem") == NULL);
    json_object_put(p);

    p = props_of(
        "{\"tls\":{\"enable\":true,\"caCert\":" REF(
            "tls", "ca") ",\"cert\":" REF("tls",
                                          "cert") ",\"key\":" REF("tls",
                                                                  "key") "}}",
        0, NULL);
    ASSERT_STR_EQ(prop(p, "security.protocol"), "SSL");
    ASSERT_STR_EQ(prop(p, "ssl.ca.pem"), "CA-PEM");
    ASSERT_STR_EQ(prop(p, "ssl.certificate.pem"), "CERT-PEM");
    ASSERT_STR_EQ(prop(p, "ssl.key.pem"), "KEY-PEM");
    ASSERT(prop(p, "sasl.username") == NULL);
    json_object_put(p);

    /* TLS without any file: the system's CAs. */
    p = props_of("{\"tls\":{\"enable\":true}}", 0, NULL);
    ASSERT_STR_EQ(prop(p, "security.protocol"), "SSL");
    ASSERT_EQ(json_object_object_length(p), 2);
    json_object_put(p);
}

TEST(props_errors_name_the_field)
{
    props_of(
        "{\"sasl\":{\"enable\":true,\"user\":" REF(
            "missing", "user") ",\"password\":" REF("auth", "password") "}}",
        SL_ENOENT, "spec.net.sasl.user.secretKeyRef");
    props_of("{\"sasl\":{\"enable\":true,\"user\":" REF(
                 "auth", "user") ",\"password\":" REF("auth", "nokey") "}}",
             SL_ENOENT, "spec.net.sasl.password.secretKeyRef");
    props_of(
        "{\"sasl\":{\"enable\":true,\"password\":" REF("auth", "password") "}}",
        SL_EINVAL, "spec.net.sasl.user");
    props_of("{\"sasl\":{\"enable\":true,\"user\":" REF("auth", "user") "}}",
             SL_EINVAL, "spec.net.sasl.password");
    props_of(
        "{\"sasl\":{\"enable\":true,\"user\":" REF(
            "auth",
            "user") ",\"password\":" REF("auth",
                                         "password") ",\"type\":" REF("auth",
                                                                      "bad") "}"
                                                                             "}",
        SL_EINVAL, "spec.net.sasl.type.secretKeyRef");
    props_of("{\"tls\":{\"enable\":true,\"cert\":" REF("tls", "cert") "}}",
             SL_EINVAL, "spec.net.tls.key");
    props_of("{\"tls\":{\"enable\":true,\"caCert\":{\"secretKeyRef\":"
             "{\"key\":\"ca\"}}}}",
             SL_EINVAL, "spec.net.tls.caCert.secretKeyRef");
    props_of("{\"tls\":{\"enable\":true,\"caCert\":" REF("gone", "ca") "}}",
             SL_ENOENT, "spec.net.tls.caCert.secretKeyRef");
}

TEST(props_optional_reference)
{
    struct json_object *p =
        props_of("{\"tls\":{\"enable\":true,\"caCert\":{\"secretKeyRef\":"
                 "{\"name\":\"gone\",\"key\":\"ca\",\"optional\":true}}}}",
                 0, NULL);

    ASSERT(prop(p, "ssl.ca.pem") == NULL);
    json_object_put(p);
}

TEST_MAIN()
