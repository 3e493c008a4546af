/*
 * test/unit/json_test.c - the JSON event format and batches.
 */
#include "test/unit/check.h"

#include "core/buf.h"
#include "proto/json.h"

#define MIN \
    "\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\""

static struct sl_event *dec_ok(const char *json)
{
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc = sl_ce_json_decode(json, strlen(json), NULL, &ev, &d);

    if (rc != 0)
        CHECK_FAIL("decode of %s failed: %s: %s", json, d.field, d.msg);
    return ev;
}

static void dec_fail(const char *json, int want, const char *field)
{
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc = sl_ce_json_decode(json, strlen(json), NULL, &ev, &d);

    if (rc != want)
        CHECK_FAIL("decode of %s: got %d want %d", json, rc, want);
    ASSERT(ev == NULL);
    if (field != NULL && strcmp(d.field, field) != 0)
        CHECK_FAIL("decode of %s: field '%s' want '%s' (%s)", json, d.field,
                   field, d.msg);
}

/* Encode 'ev' and decode the result again. */
static struct sl_event *reencode(const struct sl_event *ev)
{
    struct sl_buf b;
    struct sl_event *out;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    out = dec_ok(sl_buf_str(&b));
    sl_buf_fini(&b);
    return out;
}

static void assert_same(const struct sl_event *a, const struct sl_event *b)
{
    size_t i;

    ASSERT_EQ(a->version, b->version);
    ASSERT_EQ(a->nattrs, b->nattrs);
    for (i = 0; i < a->nattrs; i++) {
        ASSERT_STR_EQ(a->attrs[i].name, b->attrs[i].name);
        ASSERT_STR_EQ(a->attrs[i].value, b->attrs[i].value);
        ASSERT_EQ(a->attrs[i].type, b->attrs[i].type);
    }
    ASSERT_EQ(a->has_data, b->has_data);
    ASSERT_MEM_EQ(a->data, a->data_len, b->data, b->data_len);
}

TEST(minimal)
{
    struct sl_event *ev = dec_ok("{" MIN "}");

    ASSERT_STR_EQ(sl_event_type(ev), "t");
    ASSERT(!ev->has_data);
    sl_event_unref(ev);
}

TEST(null_is_absent)
{
    struct sl_event *ev = dec_ok("{" MIN ",\"subject\":null,\"x\":null}");

    ASSERT(sl_event_get(ev, "subject") == NULL);
    ASSERT(sl_event_get(ev, "x") == NULL);
    sl_event_unref(ev);
}

TEST(typed_extensions)
{
    struct sl_event *ev =
        dec_ok("{" MIN ",\"b\":true,\"i\":-42,\"s\":\"42\",\"z\":0}");
    struct sl_event *again;

    ASSERT_EQ(sl_event_get(ev, "b")->type, SL_CE_BOOL);
    ASSERT_EQ(sl_event_get(ev, "i")->type, SL_CE_INT);
    ASSERT_STR_EQ(sl_event_value(ev, "i"), "-42");
    ASSERT_EQ(sl_event_get(ev, "s")->type, SL_CE_STRING);
    again = reencode(ev);
    assert_same(ev, again);
    sl_event_unref(ev);
    sl_event_unref(again);
}

TEST(rejections)
{
    dec_fail("{" MIN ",\"n\":42.42}", SL_EINVAL, "n");
    dec_fail("{" MIN ",\"n\":4247483647}", SL_EINVAL, "n");
    dec_fail("{" MIN ",\"n\":99999999999999999999}", SL_EINVAL, "n");
    dec_fail("{" MIN ",\"n\":{}}", SL_EINVAL, "n");
    dec_fail("{" MIN ",\"n\":[1]}", SL_EINVAL, "n");
    dec_fail("{" MIN ",\"a_invalid_name\":\"x\"}", SL_EINVAL, "a_invalid_name");
    dec_fail("{" MIN ",\"aString\":\"x\"}", SL_EINVAL, "aString");
    dec_fail("{\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}", SL_EINVAL,
             "specversion");
    dec_fail("{\"specversion\":\"2.0\",\"id\":\"1\",\"source\":\"/s\","
             "\"type\":\"t\"}",
             SL_EINVAL, "specversion");
    dec_fail("{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":\"t\"}",
             SL_EINVAL, "id");
    dec_fail("{" MIN ",\"data\":1,\"data_base64\":\"AA==\"}", SL_EINVAL,
             "data_base64");
    dec_fail("{" MIN ",\"data_base64\":\"A\"}", SL_EINVAL, "data_base64");
    dec_fail("{" MIN ",\"time\":\"2020-13-01T00:00:00Z\"}", SL_EINVAL, "time");
    dec_fail("{" MIN ",\"id\":7}", SL_EINVAL, "id");
    dec_fail("{" MIN ",\"datacontenttype\":\"text/plain\",\"data\":{}}",
             SL_EINVAL, "data");
    dec_fail("[]", SL_EINVAL, "");
    dec_fail("{" MIN "", SL_EINVAL, "");
    dec_fail("{" MIN "} x", SL_EINVAL, "");
    dec_fail("{'specversion':'1.0'}", SL_EINVAL, "");
}

TEST(json_error_names_byte)
{
    struct sl_event *ev;
    struct sl_diag d;
    const char *j = "{\"a\": tru}";

    ASSERT_EQ(sl_ce_json_decode(j, strlen(j), NULL, &ev, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "at byte") != NULL);
}

TEST(size_limit)
{
    struct sl_ce_opts o = { .max_event_size = 64 };
    struct sl_event *ev;
    struct sl_diag d;
    const char *j =
        "{" MIN ",\"data\":\"0123456789012345678901234567890123456789012\"}";

    ASSERT_EQ(sl_ce_json_decode(j, strlen(j), &o, &ev, &d), SL_ETOOBIG);
    o.max_event_size = 1000;
    ASSERT_OK(sl_ce_json_decode(j, strlen(j), &o, &ev, &d));
    sl_event_unref(ev);
}

TEST(data_forms)
{
    struct sl_event *ev, *again;
    struct sl_buf b;

    /* JSON data is kept as JSON text. */
    ev = dec_ok("{" MIN ",\"datacontenttype\":\"application/json\","
                "\"data\":{\"a\":[1,2]}}");
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":[1,2]}", 11);
    again = reencode(ev);
    assert_same(ev, again);
    sl_event_unref(again);
    sl_event_unref(ev);

    /* A JSON string without datacontenttype keeps its quotes. */
    ev = dec_ok("{" MIN ",\"data\":\"I'm just a string\"}");
    ASSERT_MEM_EQ(ev->data, ev->data_len, "\"I'm just a string\"", 19);
    sl_event_unref(ev);

    /* Text data under a non-JSON type is the string's bytes. */
    ev = dec_ok("{" MIN ",\"datacontenttype\":\"application/xml\","
                "\"data\":\"<much wow=\\\"xml\\\"/>\"}");
    ASSERT_MEM_EQ(ev->data, ev->data_len, "<much wow=\"xml\"/>", 17);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    ASSERT(strstr(sl_buf_str(&b), "\"data\":\"<much wow=\\\"xml\\\"/>\"") !=
           NULL);
    sl_buf_fini(&b);
    sl_event_unref(ev);

    /* data_base64 gives bytes, and binary goes back out as data_base64. */
    ev = dec_ok("{" MIN ",\"datacontenttype\":\"application/octet-stream\","
                "\"data_base64\":\"AP8=\"}");
    ASSERT_MEM_EQ(ev->data, ev->data_len, "\x00\xff", 2);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    ASSERT(strstr(sl_buf_str(&b), "\"data_base64\":\"AP8=\"") != NULL);
    sl_buf_fini(&b);
    again = reencode(ev);
    assert_same(ev, again);
    sl_event_unref(again);
    sl_event_unref(ev);

    /* data_base64 with a JSON type decodes to the JSON bytes. */
    ev = dec_ok("{" MIN ",\"datacontenttype\":\"application/json\","
                "\"data_base64\":\"eyJhIjoxfQ==\"}");
    ASSERT_MEM_EQ(ev->data, ev->data_len, "{\"a\":1}", 7);
    sl_event_unref(ev);

    /* Explicit null data under a JSON type. */
    ev = dec_ok("{" MIN ",\"data\":null}");
    ASSERT(ev->has_data);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "null", 4);
    sl_event_unref(ev);
}

TEST(json_bytes_kept_verbatim_on_encode)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct sl_buf b;
    const char *data = "{ \"x\" : 1.50 }";

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL));
    sl_event_set_data(ev, data, strlen(data));
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    ASSERT(strstr(sl_buf_str(&b), ",\"data\":{ \"x\" : 1.50 }}") != NULL);
    sl_buf_fini(&b);
    /* Not JSON after all: goes out as data_base64, bytes intact. */
    sl_event_set_data(ev, "{oops", 5);
    {
        struct sl_event *again = reencode(ev);
        assert_same(ev, again);
        sl_event_unref(again);
    }
    sl_event_unref(ev);
}

/* Encode 'data' as application/json; true when it went in verbatim. */
static bool encodes_raw(const char *data, size_t n)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10), *again;
    struct sl_buf b;
    bool raw;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL));
    sl_event_set_data(ev, data, n);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    raw = strstr(sl_buf_str(&b), "\"data_base64\":") == NULL;
    if (raw) {
        ASSERT(b.len > n + 1);
        ASSERT_MEM_EQ(b.data + b.len - n - 1, n, data, n);
    }
    /* Either way the record decodes; data_base64 to the same bytes. */
    again = dec_ok(sl_buf_str(&b));
    if (!raw)
        ASSERT_MEM_EQ(again->data, again->data_len, data, n);
    sl_event_unref(again);
    sl_buf_fini(&b);
    sl_event_unref(ev);
    return raw;
}

TEST(json_data_check_matches_parser)
{
    /* JSON: spliced in verbatim, whether the quick check or json-c says so */
    static const char *const json[] = {
        "{}",
        "[]",
        " [ ] ",
        "0",
        "-0",
        "1.5e10",
        "-12.25E-3",
        "1e+99",
        "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u0000\"",
        "true",
        "false",
        "null",
        "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
        "\t{\r\n\"a\" :\t[ 1 , 2 ] } \n",
        /* beyond the quick check, still JSON for json-c */
        "\"caf\xc3\xa9\"",
        "\"\\ud83d\\ude00\"",
        "123456789012345678901234",
        "1e300",
        "0.12345678901234567890",
    };
    /* not JSON: data_base64 */
    static const char *const not_json[] = {
        "{",     "}",    "[1,]",  "{\"a\":1,}", "{\"a\"}",  "{\"a\" 1}",
        "{a:1}", "01",   ".5",    "-",          "+1",       "1e",
        "tru",   "True", "nul",   "\"abc",      "\"a\\x\"", "\"\\u12\"",
        "1 2",   "{} x", "[1] ]", "'a'",        "\"\\",     " ",
    };
    size_t i;

    for (i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        if (!encodes_raw(json[i], strlen(json[i])))
            CHECK_FAIL("'%s' should go in as JSON", json[i]);
    for (i = 0; i < sizeof(not_json) / sizeof(not_json[0]); i++)
        if (encodes_raw(not_json[i], strlen(not_json[i])))
            CHECK_FAIL("'%s' should go in as data_base64", not_json[i]);
    /* Nesting beyond the quick check, and beyond json-c's limit. */
    {
        char deep[2 * 200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        ASSERT(encodes_raw(deep, 200));
        memset(deep, '[', 200);
        memset(deep + 200, ']', 200);
        ASSERT(!encodes_raw(deep, 400));
    }
    /* Random strings of JSON's bytes: whatever goes in verbatim must
     * decode again (encodes_raw checks the record decodes). */
    {
        static const char abc[] = "{}[]\":,0123456789.-eE+truefalsn \\/u";
        uint32_t x = 12345;
        char buf[16];
        for (i = 0; i < 20000; i++) {
            size_t n = 1 + i % sizeof(buf), k;
            for (k = 0; k < n; k++) {
                x = x * 1103515245u + 12345u;
                buf[k] = abc[(x >> 16) % (sizeof(abc) - 1)];
            }
            (void)encodes_raw(buf, n);
        }
    }
    /* An embedded NUL byte is not JSON text. */
    ASSERT(!encodes_raw("[1]\0", 4));
}

/* What the json-c path writes for 'ev' (attributes via json-c). */
static void encode_via_json_c(const struct sl_event *ev, bool raw,
                              struct sl_buf *out)
{
    struct sl_event tmp = *ev;
    struct json_object *obj;
    const char *txt;
    size_t len;

    if (raw)
        tmp.has_data = false;
    obj = sl_ce_json_to_object(&tmp);
    txt = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (raw) {
        ASSERT_OK(sl_buf_append(out, txt, len - 1));
        ASSERT_OK(sl_buf_appends(out, ",\"data\":"));
        ASSERT_OK(sl_buf_append(out, ev->data, ev->data_len));
        ASSERT_OK(sl_buf_appendc(out, '}'));
    } else {
        ASSERT_OK(sl_buf_append(out, txt, len));
    }
    json_object_put(obj);
}

TEST(direct_encoding_matches_json_c)
{
    static const struct {
        const char *ctype; /* NULL: none */
        const char *data;  /* NULL: no data */
        size_t len;
        bool raw;
    } cases[] = {
#define D(lit) lit, sizeof(lit) - 1
        { NULL, NULL, 0, false },
        { "application/json", D("{\"a\":[1,2.5,\"x\"]}"), true },
        { "application/json", D("not json"), false },
        { "text/plain", D("line\n\t\"q\" \\ / \x01\x1f\x7f caf\xc3\xa9"),
          false },
        { "text/plain", D("nul\0inside"), false },
        { "application/octet-stream", D("\x00\xff\xfe/+"), false },
#undef D
        { NULL, "", 0, false },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_event *ev = sl_event_new(SL_CE_V10);
        struct sl_buf got, want;

        ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
        ASSERT_OK(sl_event_set_str(ev, "xstr", "a\"b\\c/\xc3\xa9", NULL));
        ASSERT_OK(sl_event_set_str(ev, "source", "/s?x=1&y=</script>", NULL));
        ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
        ASSERT_OK(sl_event_set_str(ev, "time", "2024-01-02T03:04:05.5Z", NULL));
        ASSERT_OK(
            sl_event_set_int(ev, "knativebrokerttl", -2147483647 - 1, NULL));
        ASSERT_OK(sl_event_set_int(ev, "count", 255, NULL));
        ASSERT_OK(sl_event_set_bool(ev, "flag", true, NULL));
        ASSERT_OK(sl_event_set_bool(ev, "other", false, NULL));
        if (cases[i].ctype != NULL)
            ASSERT_OK(
                sl_event_set_str(ev, "datacontenttype", cases[i].ctype, NULL));
        if (cases[i].data != NULL)
            sl_event_set_data(ev, cases[i].data, cases[i].len);
        sl_buf_init(&got, SL_BUF_UNLIMITED);
        sl_buf_init(&want, SL_BUF_UNLIMITED);
        ASSERT_OK(sl_ce_json_encode(ev, &got));
        encode_via_json_c(ev, cases[i].raw, &want);
        ASSERT_MEM_EQ(got.data, got.len, want.data, want.len);
        sl_buf_fini(&got);
        sl_buf_fini(&want);
        sl_event_unref(ev);
    }
}

TEST(v03)
{
    struct sl_event *ev, *again;

    ev = dec_ok("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"/s\","
                "\"type\":\"t\",\"schemaurl\":\"s.json\","
                "\"datacontenttype\":\"application/octet-stream\","
                "\"datacontentencoding\":\"base64\",\"data\":\"AQID\"}");
    ASSERT_EQ(ev->version, SL_CE_V03);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "\x01\x02\x03", 3);
    ASSERT(sl_event_get(ev, "datacontentencoding") == NULL);
    ASSERT_STR_EQ(sl_event_value(ev, "schemaurl"), "s.json");
    again = reencode(ev);
    assert_same(ev, again);
    sl_event_unref(again);
    sl_event_unref(ev);
}

TEST(batch)
{
    struct sl_event_list l;
    struct sl_diag d;
    const char *j = "[{" MIN "},{" MIN ",\"id\":\"2\"}]";
    const char *mixed = "[{" MIN "},{\"specversion\":\"0.3\",\"id\":\"2\","
                        "\"source\":\"/s\",\"type\":\"t\"}]";
    const char *bad = "[{" MIN "},{" MIN "},{" MIN ",\"id\":\"\"}]";
    struct sl_buf b;

    sl_event_list_init(&l);
    ASSERT_OK(sl_ce_json_decode_batch(j, strlen(j), NULL, &l, &d));
    ASSERT_EQ(l.n, 2);
    ASSERT_STR_EQ(sl_event_id(l.v[1]), "2");
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode_batch(l.v, l.n, &b));
    ASSERT_OK(sl_ce_json_decode_batch(b.data, b.len, NULL, &l, &d));
    ASSERT_EQ(l.n, 4);
    sl_buf_fini(&b);
    ASSERT_EQ(sl_ce_json_decode_batch(mixed, strlen(mixed), NULL, &l, &d),
              SL_EINVAL);
    ASSERT_STR_EQ(d.field, "[1].specversion");
    ASSERT_EQ(sl_ce_json_decode_batch(bad, strlen(bad), NULL, &l, &d),
              SL_EINVAL);
    ASSERT_STR_EQ(d.field, "[2].id");
    ASSERT_EQ(l.n, 4); /* all-or-nothing */
    ASSERT_OK(sl_ce_json_decode_batch("[]", 2, NULL, &l, &d));
    ASSERT_EQ(sl_ce_json_decode_batch("{}", 2, NULL, &l, &d), SL_EINVAL);
    sl_event_list_fini(&l);
}

TEST_MAIN()
