/*
 * test/unit/yaml_emit_test.c - core/yaml_emit: the style of every kind of
 * scalar, kubectl's block layout, documents, errors and limits, and the
 * round trip through sl_yaml_to_json that is the emitter's contract.
 */
#include "test/unit/check.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>

#include "core/buf.h"
#include "core/yaml.h"
#include "core/yaml_emit.h"

/* Emit 'v' with 'flags' into a heap string (sl_free it); must succeed. */
static char *emit(struct json_object *v, unsigned flags)
{
    struct sl_diag d;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_diag_clear(&d);
    rc = sl_yaml_emit(v, flags, &b, &d);
    if (rc != 0)
        CHECK_FAIL("emit failed: %s: %s: %s", sl_errname(rc), d.field, d.msg);
    return sl_buf_steal(&b, NULL);
}

/* Parse 'text' as a stream; the test fails when it does not parse. */
static struct json_object *parse(const char *text)
{
    struct json_object *docs = NULL;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_yaml_to_json(text, strlen(text), &docs, &d) != 0)
        CHECK_FAIL("output does not parse: %s: %s\n%s", d.field, d.msg, text);
    return docs;
}

/*
 * Emit 'v' as one document, compare with 'want' (when not NULL) and check
 * that it reads back equal. Takes ownership of 'v'.
 */
static void check_emit(struct json_object *v, const char *want)
{
    char *text = emit(v, 0);
    struct json_object *docs = parse(text);

    if (want != NULL && strcmp(text, want) != 0)
        CHECK_FAIL("emitted:\n%s\nwanted:\n%s", text, want);
    ASSERT_EQ(json_object_array_length(docs), 1);
    if (!json_object_equal(v, json_object_array_get_idx(docs, 0)))
        CHECK_FAIL("round trip differs: %s -> %s\n%s",
                   json_object_to_json_string(v),
                   json_object_to_json_string(docs), text);
    json_object_put(docs);
    json_object_put(v);
    sl_free(text);
}

/* A string value 's' (n bytes) must come out as 'want' plus a newline. */
static void check_str_n(const char *s, size_t n, const char *want)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s\n", want);
    check_emit(json_object_new_string_len(s, (int)n), buf);
}

static void check_str(const char *s, const char *want)
{
    check_str_n(s, strlen(s), want);
}

/* Parse JSON text into a value (the test fails on bad JSON). */
static struct json_object *js(const char *text)
{
    struct json_object *v = json_tokener_parse(text);

    if (v == NULL && strcmp(text, "null") != 0)
        CHECK_FAIL("bad JSON in test: %s", text);
    return v;
}

TEST(plain_strings)
{
    check_str("hello", "hello");
    check_str("hello world", "hello world");
    check_str("a:b", "a:b");
    check_str("a#b", "a#b");
    check_str("http://example.com/x?y=1", "http://example.com/x?y=1");
    check_str("dev.knative.sources.ping", "dev.knative.sources.ping");
    check_str("100Mi", "100Mi");
    check_str("250m", "250m");
    check_str("6a1c1a4e-1b38-4b8f-9d36-2f1d0f5c1a11",
              "6a1c1a4e-1b38-4b8f-9d36-2f1d0f5c1a11");
    check_str("+", "+");
    check_str(".env", ".env");
    check_str("é and 😀", "é and 😀");
    check_str("a, b [c] {d}", "a, b [c] {d}");
}

TEST(strings_that_look_like_other_types)
{
    static const char *const words[] = {
        "true", "True", "TRUE", "tRuE", "false", "False", "yes",  "Yes",
        "YES",  "no",   "No",   "NO",   "on",    "On",    "ON",   "off",
        "Off",  "OFF",  "y",    "Y",    "n",     "N",     "null", "Null",
        "NULL", "nUlL", "~",    "<<",   "=",
    };
    static const char *const numbers[] = {
        "0",
        "1",
        "-1",
        "+1",
        "007",
        "0x1F",
        "0X1f",
        "0o17",
        "0b1010",
        "1_000",
        "1e3",
        "1E3",
        "1.5",
        "-1.5",
        ".5",
        "+.5",
        "1.",
        "1.5e-3",
        "6.8523015e+5",
        "685.230_15e+03",
        ".inf",
        "-.inf",
        "+.INF",
        ".Inf",
        ".nan",
        ".NaN",
        "190:20:30",
        "12:30",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2026-11-26T20:30:00Z",
        "1.2.3",
        "127.0.0.1",
        "9223372036854775808",
        "0x",
        "._1",
    };
    char want[128];
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(want, sizeof(want), "\"%s\"", words[i]);
        check_str(words[i], want);
    }
    for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        snprintf(want, sizeof(want), "\"%s\"", numbers[i]);
        check_str(numbers[i], want);
    }
    /* Near misses stay plain. */
    check_str("truely", "truely");
    check_str("nope", "nope");
    check_str("0xZZ", "0xZZ");
    check_str("inf", "inf");
    check_str("nan", "nan");
    check_str("1st", "1st");
    check_str("v1.2.3", "v1.2.3");
}

TEST(indicators_and_spaces)
{
    static const char ind[] = "-?:,[]{}#&*!|>'\"%@`";
    char s[8], want[16];
    size_t i;

    for (i = 0; ind[i] != '\0'; i++) {
        snprintf(s, sizeof(s), "%cx", ind[i]);
        if (ind[i] == '\'')
            snprintf(want, sizeof(want), "'''x'");
        else
            snprintf(want, sizeof(want), "'%cx'", ind[i]);
        check_str(s, want);
    }
    check_str("-", "'-'");
    check_str("- item", "'- item'");
    check_str("---", "'---'");
    check_str("...", "\"...\"");
    check_str("...x", "'...x'");
    check_str(" lead", "' lead'");
    check_str("trail ", "'trail '");
    check_str(" ", "' '");
    check_str("a: b", "'a: b'");
    check_str("a #b", "'a #b'");
    check_str("key:", "'key:'");
    check_str("it's", "it's");
    check_str("'it's'", "'''it''s'''");
    check_str("say \"hi\"", "say \"hi\"");
    check_str("", "\"\"");
}

TEST(escapes)
{
    check_str("tab\there", "\"tab\\there\"");
    check_str("cr\r", "\"cr\\r\"");
    check_str_n("nul\0x", 5, "\"nul\\0x\"");
    check_str("bell\a", "\"bell\\a\"");
    check_str("\x01\x1f", "\"\\x01\\x1F\"");
    check_str("esc\x1b", "\"esc\\e\"");
    check_str("del\x7f", "\"del\\x7F\"");
    check_str("c1\xc2\x80", "\"c1\\x80\"");
    check_str("nel\xc2\x85", "\"nel\\N\"");
    check_str("ls\xe2\x80\xa8", "\"ls\\L\"");
    check_str("ps\xe2\x80\xa9", "\"ps\\P\"");
    check_str("bom\xef\xbb\xbf", "\"bom\\uFEFF\"");
    check_str("nonchar\xef\xbf\xbe", "\"nonchar\\uFFFE\"");
    /* Escaping forces double quotes; quotes and backslashes inside too. */
    check_str("\t\"q\" \\", "\"\\t\\\"q\\\" \\\\\"");
    check_str("true\t", "\"true\\t\"");
}

TEST(literal_blocks)
{
    check_str("a\nb\n", "|\n  a\n  b");
    check_str("a\nb", "|-\n  a\n  b");
    check_str("a\n\n", "|+\n  a\n");
    check_str("#!/bin/sh\necho hi\n", "|\n  #!/bin/sh\n  echo hi");
    check_str("a\n\n  indented\nb", "|-\n  a\n\n    indented\n  b");
    check_str("\n\nfirst\n", "|\n\n\n  first");
    check_str("a\n  \n", "|\n  a\n    ");
    check_str("true\nfalse", "|-\n  true\n  false");
    /* Not safe as a block: double quotes. */
    check_str(" lead\nx", "\" lead\\nx\"");
    check_str("\n", "\"\\n\"");
    check_str("\n\n", "\"\\n\\n\"");
    check_str("a\r\nb", "\"a\\r\\nb\"");
    check_str("a\n\tb", "\"a\\n\\tb\"");
    /* Inside collections the block goes two spaces deeper than its key. */
    check_emit(js("{\"script\": \"a\\nb\\n\", \"k\": 1}"),
               "script: |\n  a\n  b\nk: 1\n");
    check_emit(js("{\"m\": {\"s\": \"a\\nb\"}}"),
               "m:\n  s: |-\n    a\n    b\n");
    check_emit(js("{\"l\": [\"a\\nb\", \"c\"]}"), "l:\n- |-\n  a\n  b\n- c\n");
    check_emit(js("[[\"x\\ny\\n\"]]"), "- - |\n    x\n    y\n");
}

TEST(numbers_booleans_null)
{
    check_emit(json_object_new_int64(0), "0\n");
    check_emit(json_object_new_int64(-42), "-42\n");
    check_emit(json_object_new_int64(INT64_MAX), "9223372036854775807\n");
    check_emit(json_object_new_int64(INT64_MIN), "-9223372036854775808\n");
    check_emit(json_object_new_uint64(42), "42\n");
    check_emit(json_object_new_double(1.0), "1.0\n");
    check_emit(json_object_new_double(0.1), "0.1\n");
    check_emit(json_object_new_double(-2.5), "-2.5\n");
    check_emit(json_object_new_double(1e20), "1.0e+20\n");
    check_emit(json_object_new_double(1.5e-7), "1.5e-07\n");
    check_emit(json_object_new_double(123456789.0), "123456789.0\n");
    check_emit(json_object_new_double(-0.0), "-0.0\n");
    check_emit(json_object_new_double(INFINITY), ".inf\n");
    check_emit(json_object_new_double(-INFINITY), "-.inf\n");
    check_emit(json_object_new_double(DBL_MAX), "1.7976931348623157e+308\n");
    check_emit(json_object_new_double(DBL_MIN), "2.2250738585072014e-308\n");
    check_emit(json_object_new_double(5e-324), "5.0e-324\n");
    check_emit(json_object_new_double(1.0 / 3), "0.3333333333333333\n");
    check_emit(json_object_new_boolean(1), "true\n");
    check_emit(json_object_new_boolean(0), "false\n");
    check_emit(NULL, "null\n");

    /* NaN is never json_object_equal to itself: check it by hand. */
    {
        struct json_object *v = json_object_new_double(NAN), *docs;
        char *text = emit(v, 0);
        ASSERT_STR_EQ(text, ".nan\n");
        docs = parse(text);
        ASSERT(
            isnan(json_object_get_double(json_object_array_get_idx(docs, 0))));
        json_object_put(docs);
        json_object_put(v);
        sl_free(text);
    }
}

TEST(keys)
{
    check_emit(js("{\"true\": 1, \"1\": 2, \"<<\": 3, \"a: b\": 4, \"\": 5, "
                  "\"-k\": 6, \"x\\ny\": 7, \"t\\tab\": 8, \"null\": 9, "
                  "\"~\": 10, \"plain key\": 11}"),
               "\"true\": 1\n\"1\": 2\n\"<<\": 3\n'a: b': 4\n\"\": 5\n"
               "'-k': 6\n\"x\\ny\": 7\n\"t\\tab\": 8\n\"null\": 9\n"
               "\"~\": 10\nplain key: 11\n");
}

TEST(long_keys)
{
    struct json_object *v;
    char key[2100], *text;

    /* 1000 bytes: still an implicit key. */
    memset(key, 'k', 1000);
    key[1000] = '\0';
    v = json_object_new_object();
    json_object_object_add(v, key, json_object_new_int(1));
    text = emit(v, 0);
    ASSERT(text[0] == 'k' && strstr(text, ": 1\n") != NULL);
    sl_free(text);
    check_emit(v, NULL);

    /* Longer ones use "? key" and ": value"; values of every shape. */
    memset(key, 'k', 2000);
    key[2000] = '\0';
    v = json_object_new_object();
    json_object_object_add(v, key, json_object_new_int(1));
    key[0] = 'm';
    json_object_object_add(v, key, js("{\"a\": 1, \"b\": [1, 2]}"));
    key[0] = 's';
    json_object_object_add(v, key, js("[1, {\"c\": 2}, [3]]"));
    key[0] = 'l';
    json_object_object_add(v, key, js("\"x\\ny\""));
    key[0] = 'e';
    json_object_object_add(v, key, js("{}"));
    text = emit(v, 0);
    ASSERT(strncmp(text, "? kkk", 5) == 0);
    ASSERT(strstr(text, "\n: 1\n? mkk") != NULL);
    sl_free(text);
    check_emit(v, NULL);

    /* ... also inside a sequence item and with a quoted key. */
    memset(key, ' ', 1500);
    key[1500] = '\0';
    v = json_object_new_array();
    json_object_array_add(v, json_object_new_object());
    json_object_object_add(json_object_array_get_idx(v, 0), key,
                           js("[\"a\", \"b\"]"));
    json_object_object_add(json_object_array_get_idx(v, 0), "short",
                           json_object_new_int(2));
    check_emit(v, NULL);
}

TEST(kubectl_layout_broker)
{
    /* What `kubectl get broker default -o yaml` prints for this object. */
    static const char json[] =
        "{\"apiVersion\": \"eventing.knative.dev/v1\", \"kind\": \"Broker\","
        " \"metadata\": {\"annotations\": {\"eventing.knative.dev/"
        "broker.class\": \"MTChannelBasedBroker\"}, \"creationTimestamp\": "
        "\"2026-11-26T20:30:00Z\", \"generation\": 1, \"labels\": {}, "
        "\"name\": \"default\", \"namespace\": \"default\", "
        "\"resourceVersion\": \"42\", \"uid\": "
        "\"6a1c1a4e-1b38-4b8f-9d36-2f1d0f5c1a11\"},"
        " \"spec\": {\"config\": {\"apiVersion\": \"v1\", \"kind\": "
        "\"ConfigMap\", \"name\": \"config-br-default-channel\", "
        "\"namespace\": \"knative-eventing\"}, \"delivery\": {\"backoffDelay\":"
        " \"PT0.2S\", \"backoffPolicy\": \"exponential\", \"retry\": 10}},"
        " \"status\": {\"address\": {\"name\": \"http\", \"url\": "
        "\"http://127.0.0.1:8080/default/default\"}, \"annotations\": "
        "{\"knative.dev/channelAPIVersion\": \"messaging.knative.dev/v1\"}, "
        "\"conditions\": [{\"lastTransitionTime\": \"2026-11-26T20:30:01Z\", "
        "\"status\": \"True\", \"type\": \"Addressable\"}, "
        "{\"lastTransitionTime\": \"2026-11-26T20:30:01Z\", \"message\": "
        "\"\", \"status\": \"True\", \"type\": \"Ready\"}], "
        "\"observedGeneration\": 1, \"finalizers\": []}}";
    static const char want[] =
        "apiVersion: eventing.knative.dev/v1\n"
        "kind: Broker\n"
        "metadata:\n"
        "  annotations:\n"
        "    eventing.knative.dev/broker.class: MTChannelBasedBroker\n"
        "  creationTimestamp: \"2026-11-26T20:30:00Z\"\n"
        "  generation: 1\n"
        "  labels: {}\n"
        "  name: default\n"
        "  namespace: default\n"
        "  resourceVersion: \"42\"\n"
        "  uid: 6a1c1a4e-1b38-4b8f-9d36-2f1d0f5c1a11\n"
        "spec:\n"
        "  config:\n"
        "    apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    name: config-br-default-channel\n"
        "    namespace: knative-eventing\n"
        "  delivery:\n"
        "    backoffDelay: PT0.2S\n"
        "    backoffPolicy: exponential\n"
        "    retry: 10\n"
        "status:\n"
        "  address:\n"
        "    name: http\n"
        "    url: http://127.0.0.1:8080/default/default\n"
        "  annotations:\n"
        "    knative.dev/channelAPIVersion: messaging.knative.dev/v1\n"
        "  conditions:\n"
        "  - lastTransitionTime: \"2026-11-26T20:30:01Z\"\n"
        "    status: \"True\"\n"
        "    type: Addressable\n"
        "  - lastTransitionTime: \"2026-11-26T20:30:01Z\"\n"
        "    message: \"\"\n"
        "    status: \"True\"\n"
        "    type: Ready\n"
        "  observedGeneration: 1\n"
        "  finalizers: []\n";

    check_emit(js(json), want);
}

TEST(nested_collections)
{
    check_emit(js("{}"), "{}\n");
    check_emit(js("[]"), "[]\n");
    check_emit(js("[[]]"), "- []\n");
    check_emit(js("[1, [2, [3, [4]]], {\"a\": [5, {\"b\": {}}]}]"),
               "- 1\n"
               "- - 2\n"
               "  - - 3\n"
               "    - - 4\n"
               "- a:\n"
               "  - 5\n"
               "  - b: {}\n");
    check_emit(js("{\"a\": {\"b\": {\"c\": [[1, 2], {\"d\": null}]}}}"),
               "a:\n"
               "  b:\n"
               "    c:\n"
               "    - - 1\n"
               "      - 2\n"
               "    - d: null\n");
    check_emit(js("[{\"a\": 1, \"b\": [true, false]}, {\"c\": {}}]"),
               "- a: 1\n"
               "  b:\n"
               "  - true\n"
               "  - false\n"
               "- c: {}\n");
    check_emit(js("[[{\"x\": [[]]}]]"), "- - x:\n    - []\n");
    /* Key order is the object's own. */
    check_emit(js("{\"z\": 1, \"a\": 2, \"m\": 3}"), "z: 1\na: 2\nm: 3\n");
}

TEST(documents)
{
    struct json_object *v = js("[{\"a\": 1}, [\"x\"], \"s\", null, {}, "
                               "\"k\\n\\n\"]");
    struct json_object *docs;
    char *text = emit(v, SL_YAML_EMIT_DOCS);

    ASSERT_STR_EQ(text, "a: 1\n---\n- x\n---\ns\n---\nnull\n---\n{}\n---\n"
                        "|+\n  k\n\n");
    docs = parse(text);
    ASSERT(json_object_equal(v, docs));
    json_object_put(docs);
    sl_free(text);
    json_object_put(v);

    /* No documents: nothing at all; not an array: one document. */
    v = js("[]");
    text = emit(v, SL_YAML_EMIT_DOCS);
    ASSERT_STR_EQ(text, "");
    sl_free(text);
    json_object_put(v);
    v = js("{\"a\": [1]}");
    text = emit(v, SL_YAML_EMIT_DOCS);
    ASSERT_STR_EQ(text, "a:\n- 1\n");
    sl_free(text);
    json_object_put(v);
}

TEST(appends_and_rolls_back)
{
    struct json_object *v = js("{\"a\": [1, 2, 3], \"b\": \"x\"}");
    struct json_object *bad = js("{\"a\": 1, \"b\": [2, \"\"]}");
    struct sl_diag d;
    struct sl_buf b;

    sl_buf_init(&b, 20);
    ASSERT_OK(sl_buf_appends(&b, "# head\n"));
    ASSERT_OK(sl_yaml_emit(NULL, 0, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "# head\nnull\n");
    /* Too big for the buffer: SL_ETOOBIG and the buffer as it was. */
    sl_diag_clear(&d);
    ASSERT_EQ(sl_yaml_emit(v, 0, &b, &d), SL_ETOOBIG);
    ASSERT_STR_EQ(sl_buf_str(&b), "# head\nnull\n");
    ASSERT_EQ(b.len, 12);
    ASSERT(strstr(d.msg, "larger than 20 bytes") != NULL);
    /* A string that is not UTF-8, with its path in the diag. */
    b.max = 1000;
    json_object_array_put_idx(json_object_object_get(bad, "b"), 1,
                              json_object_new_string("caf\xe9"));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_yaml_emit(bad, 0, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "b[1]");
    ASSERT(strstr(d.msg, "not valid UTF-8") != NULL);
    ASSERT_STR_EQ(sl_buf_str(&b), "# head\nnull\n");
    sl_buf_fini(&b);
    json_object_put(v);
    json_object_put(bad);
}

TEST(unrepresentable_values)
{
    struct json_object *v = js("{\"spec\": {\"n\": [0, 1]}}");
    struct sl_diag d;
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    /* An unsigned integer above INT64_MAX cannot read back as itself. */
    json_object_array_put_idx(
        json_object_object_get(json_object_object_get(v, "spec"), "n"), 1,
        json_object_new_uint64((uint64_t)INT64_MAX + 1));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_yaml_emit(v, 0, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "spec.n[1]");
    ASSERT(strstr(d.msg, "9223372036854775808") != NULL);
    ASSERT_EQ(b.len, 0);
    json_object_put(v);

    /* A key that is not UTF-8; the path counts documents with DOCS. */
    v = js("[{\"a\": 1}, {}]");
    json_object_object_add(json_object_array_get_idx(v, 1), "k\xff",
                           json_object_new_int(1));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_yaml_emit(v, SL_YAML_EMIT_DOCS, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "[1].k\xff");
    ASSERT_EQ(b.len, 0);
    /* A NULL diag is fine. */
    ASSERT_EQ(sl_yaml_emit(v, SL_YAML_EMIT_DOCS, &b, NULL), SL_EINVAL);
    json_object_put(v);
    sl_buf_fini(&b);
}

/* 'depth' nested arrays around an empty one ('inner' "[]" or "{}"). */
static struct json_object *nest(int depth, bool empty_map)
{
    struct json_object *v =
        empty_map ? json_object_new_object() : json_object_new_array();
    int i;

    for (i = 1; i < depth; i++) {
        struct json_object *outer = json_object_new_array();
        json_object_array_add(outer, v);
        v = outer;
    }
    return v;
}

TEST(depth_limit)
{
    struct json_object *v;
    struct sl_diag d;
    struct sl_buf b;

    /* The parser takes SL_YAML_MAX_DEPTH levels, empty ones included. */
    check_emit(nest(SL_YAML_MAX_DEPTH, false), NULL);
    check_emit(nest(SL_YAML_MAX_DEPTH, true), NULL);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    v = nest(SL_YAML_MAX_DEPTH + 1, false);
    sl_diag_clear(&d);
    ASSERT_EQ(sl_yaml_emit(v, 0, &b, &d), SL_ETOOBIG);
    ASSERT(strstr(d.msg, "nesting deeper than") != NULL);
    ASSERT_EQ(b.len, 0);
    json_object_put(v);
    v = nest(SL_YAML_MAX_DEPTH + 1, true);
    ASSERT_EQ(sl_yaml_emit(v, 0, &b, &d), SL_ETOOBIG);
    json_object_put(v);
    sl_buf_fini(&b);
}

TEST(round_trip_battery)
{
    /* Parsed YAML, emitted and parsed again, must be the same. */
    static const char *const streams[] = {
        "a: 1\nb: [x, 'y', \"z\"]\nc: {d: ~, e: 1.5, f: -.inf}\n",
        "- |\n  line one\n   line two\n\n- >\n  folded\n  text\n",
        "key: \"\\u2028\\u0085\\t\\0\"\n'quoted: key': ' spaced '\n",
        "a: &x {b: [1, 2]}\nc: *x\nd:\n  <<: *x\n  e: 3\n",
        "--- 1\n--- '1'\n--- \"\"\n--- [[[]]]\n--- {a: {b: {}}}\n",
        "x: 0x1F\ny: 0o17\nz: '0x1F'\nw: 1_000\nv: 2001-12-14\n",
        "list:\n- - - deep\n    - er\n  - {k: v}\n- ''\n- ' '\n",
        "s: \"a\\nb\\n\\n\"\nt: \"\\n\\nlead\"\nu: \"trail\\n  \"\n",
    };
    size_t i;

    for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        struct json_object *docs = parse(streams[i]), *back;
        char *text = emit(docs, SL_YAML_EMIT_DOCS);
        back = parse(text);
        if (!json_object_equal(docs, back))
            CHECK_FAIL("stream %zu: %s -> %s\n%s", i,
                       json_object_to_json_string(docs),
                       json_object_to_json_string(back), text);
        json_object_put(docs);
        json_object_put(back);
        sl_free(text);
    }
}

/* xorshift64: a fixed sequence, so a failure is reproducible. */
static uint64_t rnd_next(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

TEST(random_strings)
{
    /* Pieces that matter to some scalar style, glued at random. */
    static const char *const pieces[] = {
        " ",
        "\n",
        "\t",
        ":",
        "#",
        "-",
        "?",
        "'",
        "\"",
        "\\",
        "0",
        "1",
        ".",
        "e",
        "x",
        "_",
        "+",
        "a",
        "y",
        "n",
        "~",
        "|",
        ">",
        "!",
        "&",
        "*",
        "%",
        "@",
        "`",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\r",
        "T",
        "Z",
        "<",
        "=",
        "o",
        "b",
        "N",
        "u",
        "l",
        "I",
        "f",
        "é",
        "\xc2\x85",
        "\xe2\x80\xa8",
        "\xef\xbb\xbf",
        "---",
        "...",
        "true",
        "null",
        ".inf",
        "0x",
        "1e",
    };
    uint64_t st = 0x9e3779b97f4a7c15u;
    char s[64];
    int i;

    for (i = 0; i < 20000; i++) {
        struct json_object *v = json_object_new_object();
        size_t n = 0, k, parts = (size_t)(rnd_next(&st) % 9);
        while (parts-- > 0) {
            const char *p =
                pieces[rnd_next(&st) % (sizeof(pieces) / sizeof(pieces[0]))];
            k = strlen(p);
            if (n + k >= sizeof(s))
                break;
            memcpy(s + n, p, k);
            n += k;
        }
        s[n] = '\0';
        /* The same text as a key, as a value, and inside a sequence. */
        json_object_object_add(v, s, json_object_new_string_len(s, (int)n));
        json_object_object_add(v, "list", json_object_new_array());
        json_object_array_add(json_object_object_get(v, "list"),
                              json_object_new_string_len(s, (int)n));
        json_object_array_add(json_object_object_get(v, "list"),
                              json_object_new_int(1));
        check_emit(v, NULL);
    }
}

TEST_MAIN()
