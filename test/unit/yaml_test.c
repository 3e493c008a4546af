/*
 * test/unit/yaml_test.c - core/yaml: scalars, collections, documents,
 * anchors and merges, limits, error positions, and the YAML test data
 * shipped under test/conformance/.
 */
#include "test/unit/check.h"

#include <math.h>
#include <time.h>

#include "core/yaml.h"

/* Parse 's' and return the documents; the test fails on error. */
static struct json_object *parse_ok(const char *s)
{
    struct json_object *docs = NULL;
    struct sl_diag d;
    char msg[700];
    int rc;

    sl_diag_clear(&d);
    rc = sl_yaml_to_json(s, strlen(s), &docs, &d);
    if (rc != 0)
        CHECK_FAIL("parse failed: %d %s\n%s", rc,
                   sl_diag_format(&d, msg, sizeof(msg)), s);
    ASSERT(json_object_is_type(docs, json_type_array));
    return docs;
}

/* Parse a one-document 's'; returns the array, '*pdoc' the document. */
static struct json_object *parse_one(const char *s, struct json_object **pdoc)
{
    struct json_object *docs = parse_ok(s);

    ASSERT_EQ(json_object_array_length(docs), 1);
    *pdoc = json_object_array_get_idx(docs, 0);
    return docs;
}

/* Parse 's', expect failure 'rc' and a diag "line L column C: ..." whose
 * message contains 'needle'. */
static void parse_fail(const char *s, int want_rc, int line, int col,
                       const char *needle)
{
    struct json_object *docs = (struct json_object *)&docs;
    struct sl_diag d;
    char field[64], msg[700];
    int rc;

    sl_diag_clear(&d);
    rc = sl_yaml_to_json(s, strlen(s), &docs, &d);
    if (rc != want_rc)
        CHECK_FAIL("rc %d (%s), want %d, for:\n%s", rc,
                   sl_diag_format(&d, msg, sizeof(msg)), want_rc, s);
    ASSERT(docs == NULL);
    snprintf(field, sizeof(field), "line %d column %d", line, col);
    if (strcmp(d.field, field) != 0 || strstr(d.msg, needle) == NULL)
        CHECK_FAIL("got '%s', want '%s: ...%s...'",
                   sl_diag_format(&d, msg, sizeof(msg)), field, needle);
    /* A NULL diag is fine too. */
    ASSERT_EQ(sl_yaml_to_json(s, strlen(s), &docs, NULL), want_rc);
    ASSERT(docs == NULL);
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v))
        CHECK_FAIL("no key '%s' in %s", key, json_object_to_json_string(o));
    return v;
}

static void assert_str(struct json_object *o, const char *key, const char *s)
{
    struct json_object *v = get(o, key);

    if (!json_object_is_type(v, json_type_string))
        CHECK_FAIL("'%s' is %s, not a string", key,
                   json_object_to_json_string(v));
    ASSERT_STR_EQ(json_object_get_string(v), s);
}

static void assert_int(struct json_object *o, const char *key, int64_t i)
{
    struct json_object *v = get(o, key);

    if (!json_object_is_type(v, json_type_int))
        CHECK_FAIL("'%s' is %s, not an integer", key,
                   json_object_to_json_string(v));
    ASSERT_EQ(json_object_get_int64(v), i);
}

static void assert_double(struct json_object *o, const char *key, double x)
{
    struct json_object *v = get(o, key);

    if (!json_object_is_type(v, json_type_double))
        CHECK_FAIL("'%s' is %s, not a double", key,
                   json_object_to_json_string(v));
    ASSERT(json_object_get_double(v) == x);
}

static void assert_bool(struct json_object *o, const char *key, int b)
{
    struct json_object *v = get(o, key);

    if (!json_object_is_type(v, json_type_boolean))
        CHECK_FAIL("'%s' is %s, not a boolean", key,
                   json_object_to_json_string(v));
    ASSERT_EQ(json_object_get_boolean(v), b);
}

static void assert_null(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);

    if (v != NULL)
        CHECK_FAIL("'%s' is %s, not null", key, json_object_to_json_string(v));
}

/* The whole stream as compact JSON. */
static void assert_json(const char *yaml, const char *json)
{
    struct json_object *docs = parse_ok(yaml);

    ASSERT_STR_EQ(json_object_to_json_string_ext(docs, JSON_C_TO_STRING_PLAIN),
                  json);
    json_object_put(docs);
}

/* ---- scalars ---- */

TEST(plain_scalars_core_schema)
{
    struct json_object *doc, *docs = parse_one("n1: null\n"
                                               "n2: Null\n"
                                               "n3: NULL\n"
                                               "n4: ~\n"
                                               "n5:\n"
                                               "b1: true\n"
                                               "b2: True\n"
                                               "b3: FALSE\n"
                                               "i1: 42\n"
                                               "i2: -17\n"
                                               "i3: +8\n"
                                               "i4: 0x1F\n"
                                               "i5: 0o17\n"
                                               "i6: 007\n"
                                               "i7: 9223372036854775807\n"
                                               "i8: -9223372036854775808\n"
                                               "f1: 1.5\n"
                                               "f2: -0.25\n"
                                               "f3: 1e3\n"
                                               "f4: .5\n"
                                               "f5: 2.\n"
                                               "f6: 6.02E+23\n"
                                               "s1: yes\n"
                                               "s2: off\n"
                                               "s3: nULL\n"
                                               "s4: tRUE\n"
                                               "s5: 0b101\n"
                                               "s6: 1_000\n"
                                               "s7: 2018-04-05T03:56:24Z\n"
                                               "s8: 12:30\n"
                                               "s9: -0x10\n"
                                               "s10: 1.2.3\n"
                                               "s11: hello world\n"
                                               "s12: 0x\n",
                                               &doc);

    assert_null(doc, "n1");
    assert_null(doc, "n2");
    assert_null(doc, "n3");
    assert_null(doc, "n4");
    assert_null(doc, "n5");
    assert_bool(doc, "b1", 1);
    assert_bool(doc, "b2", 1);
    assert_bool(doc, "b3", 0);
    assert_int(doc, "i1", 42);
    assert_int(doc, "i2", -17);
    assert_int(doc, "i3", 8);
    assert_int(doc, "i4", 31);
    assert_int(doc, "i5", 15);
    assert_int(doc, "i6", 7);
    assert_int(doc, "i7", INT64_MAX);
    assert_int(doc, "i8", INT64_MIN);
    assert_double(doc, "f1", 1.5);
    assert_double(doc, "f2", -0.25);
    assert_double(doc, "f3", 1000.0);
    assert_double(doc, "f4", 0.5);
    assert_double(doc, "f5", 2.0);
    assert_double(doc, "f6", 6.02e23);
    /* YAML 1.1 booleans, binary and underscores are not core schema. */
    assert_str(doc, "s1", "yes");
    assert_str(doc, "s2", "off");
    assert_str(doc, "s3", "nULL");
    assert_str(doc, "s4", "tRUE");
    assert_str(doc, "s5", "0b101");
    assert_str(doc, "s6", "1_000");
    assert_str(doc, "s7", "2018-04-05T03:56:24Z");
    assert_str(doc, "s8", "12:30");
    assert_str(doc, "s9", "-0x10");
    assert_str(doc, "s10", "1.2.3");
    assert_str(doc, "s11", "hello world");
    assert_str(doc, "s12", "0x");
    json_object_put(docs);
}

TEST(special_floats)
{
    struct json_object *doc,
        *docs = parse_one(
            "a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\nf: -.nan\n", &doc);

    ASSERT(isinf(json_object_get_double(get(doc, "a"))));
    ASSERT(json_object_get_double(get(doc, "a")) > 0);
    ASSERT(json_object_get_double(get(doc, "b")) < 0);
    ASSERT(isinf(json_object_get_double(get(doc, "c"))));
    ASSERT(isnan(json_object_get_double(get(doc, "d"))));
    ASSERT(isnan(json_object_get_double(get(doc, "e"))));
    /* Only unsigned .nan is a float. */
    assert_str(doc, "f", "-.nan");
    json_object_put(docs);
}

TEST(quoted_and_block_scalars_are_strings)
{
    struct json_object *doc, *docs = parse_one("a: \"1\"\n"
                                               "b: '1'\n"
                                               "c: \"true\"\n"
                                               "d: 'null'\n"
                                               "e: \"\"\n"
                                               "f: ''\n"
                                               "g: \"~\"\n"
                                               "h: |\n"
                                               "  42\n"
                                               "i: >-\n"
                                               "  true\n"
                                               "j: \"tab\\there \\u00e9\"\n"
                                               "k: 'it''s'\n"
                                               "l: ! 12\n",
                                               &doc);

    assert_str(doc, "a", "1");
    assert_str(doc, "b", "1");
    assert_str(doc, "c", "true");
    assert_str(doc, "d", "null");
    assert_str(doc, "e", "");
    assert_str(doc, "f", "");
    assert_str(doc, "g", "~");
    assert_str(doc, "h", "42\n");
    assert_str(doc, "i", "true");
    assert_str(doc, "j", "tab\there \xc3\xa9");
    assert_str(doc, "k", "it's");
    /* The non-specific tag "!" makes a plain scalar a string. */
    assert_str(doc, "l", "12");
    json_object_put(docs);
}

TEST(block_literals)
{
    struct json_object *doc, *docs = parse_one("lit: |\n"
                                               "  line one\n"
                                               "    indented\n"
                                               "  line three\n"
                                               "fold: >\n"
                                               "  folded\n"
                                               "  text\n"
                                               "\n"
                                               "  para\n"
                                               "keep: |+\n"
                                               "  x\n"
                                               "\n"
                                               "strip: |-\n"
                                               "  y\n"
                                               "ind: |2\n"
                                               "   lead\n"
                                               "last: end\n",
                                               &doc);

    assert_str(doc, "lit", "line one\n  indented\nline three\n");
    assert_str(doc, "fold", "folded text\npara\n");
    assert_str(doc, "keep", "x\n\n");
    assert_str(doc, "strip", "y");
    assert_str(doc, "ind", " lead\n");
    assert_str(doc, "last", "end");
    json_object_put(docs);
}

TEST(explicit_tags)
{
    struct json_object *doc, *docs = parse_one("a: !!str 12\n"
                                               "b: !!int \"12\"\n"
                                               "c: !!int 0x10\n"
                                               "d: !!float 3\n"
                                               "e: !!float '2.5'\n"
                                               "f: !!bool 'false'\n"
                                               "g: !!null ''\n"
                                               "h: !!str true\n"
                                               "i: !!map {x: 1}\n"
                                               "j: !!seq [1]\n"
                                               "k: !<tag:yaml.org,2002:str> 5\n"
                                               "l: !!str\n"
                                               "m: !!float 0x10\n",
                                               &doc);

    assert_str(doc, "a", "12");
    assert_int(doc, "b", 12);
    assert_int(doc, "c", 16);
    assert_double(doc, "d", 3.0);
    assert_double(doc, "e", 2.5);
    assert_bool(doc, "f", 0);
    assert_null(doc, "g");
    assert_str(doc, "h", "true");
    assert_int(get(doc, "i"), "x", 1);
    ASSERT_EQ(json_object_array_length(get(doc, "j")), 1);
    assert_str(doc, "k", "5");
    assert_str(doc, "l", "");
    assert_double(doc, "m", 16.0);
    json_object_put(docs);
}

TEST(bad_tags)
{
    parse_fail("a: !!int abc\n", SL_EINVAL, 1, 4, "'abc' is not a valid !!int");
    parse_fail("a: !!bool yes\n", SL_EINVAL, 1, 4, "not a valid !!bool");
    parse_fail("a: !!null 0\n", SL_EINVAL, 1, 4, "not a valid !!null");
    parse_fail("a: !!float x\n", SL_EINVAL, 1, 4, "not a valid !!float");
    parse_fail("a: !foo x\n", SL_EINVAL, 1, 4, "unsupported tag '!foo'");
    parse_fail("a: !!binary aGk=\n", SL_EINVAL, 1, 4,
               "unsupported tag '!!binary' on a scalar");
    parse_fail("a: !!seq x\n", SL_EINVAL, 1, 4, "unsupported tag '!!seq'");
    parse_fail("a: !!map [1]\n", SL_EINVAL, 1, 4,
               "unsupported tag '!!map' on a sequence");
    parse_fail("a: !!set {x}\n", SL_EINVAL, 1, 4,
               "unsupported tag '!!set' on a mapping");
    parse_fail("a: !!merge x\n", SL_EINVAL, 1, 4, "'!!merge'");
    parse_fail("a: !undeclared!x y\n", SL_EINVAL, 1, 4, "undefined tag handle");
}

TEST(int_overflow_is_an_error)
{
    /* Decision: out-of-range integers fail rather than become strings. */
    parse_fail("a: 1\nbig: 9223372036854775808\n", SL_EINVAL, 2, 6,
               "number '9223372036854775808' out of range");
    parse_fail("a: -9223372036854775809\n", SL_EINVAL, 1, 4, "out of range");
    parse_fail("a: 0x8000000000000000\n", SL_EINVAL, 1, 4, "out of range");
    parse_fail("a: !!int 99999999999999999999\n", SL_EINVAL, 1, 4,
               "out of range");
    parse_fail("a: 1e999\n", SL_EINVAL, 1, 4, "out of range");
    /* Quoted, or as a key, it is just text. */
    assert_json(
        "a: \"99999999999999999999\"\n99999999999999999999: 1\n",
        "[{\"a\":\"99999999999999999999\",\"99999999999999999999\":1}]");
}

TEST(keys_are_text)
{
    assert_json("1: a\ntrue: b\n~: c\n1.50: d\n\"q\": e\n? explicit\n: f\n",
                "[{\"1\":\"a\",\"true\":\"b\",\"~\":\"c\",\"1.50\":\"d\","
                "\"q\":\"e\",\"explicit\":\"f\"}]");
    parse_fail("? [a, b]\n: c\n", SL_EINVAL, 1, 3,
               "mapping key must be a scalar");
    parse_fail("{[a]: 1}\n", SL_EINVAL, 1, 2, "mapping key must be a scalar");
    parse_fail("x: 1\n? {a: 1}\n: 2\n", SL_EINVAL, 2, 3,
               "mapping key must be a scalar");
    parse_fail("\"a\\0b\": 1\n", SL_EINVAL, 1, 1, "NUL");
    /* A NUL inside a value is kept. */
    {
        struct json_object *doc, *docs = parse_one("a: \"x\\0y\"\n", &doc);
        ASSERT_EQ(json_object_get_string_len(get(doc, "a")), 3);
        ASSERT_MEM_EQ(json_object_get_string(get(doc, "a")), 3, "x\0y", 3);
        json_object_put(docs);
    }
}

/* ---- collections and documents ---- */

TEST(flow_collections)
{
    assert_json("a: [1, two, \"3\", [x, y], {k: v}]\n"
                "b: {x: 1, y: [true, null], z: {}}\n"
                "c: []\n"
                "d: [a: 1]\n",
                "[{\"a\":[1,\"two\",\"3\",[\"x\",\"y\"],{\"k\":\"v\"}],"
                "\"b\":{\"x\":1,\"y\":[true,null],\"z\":{}},\"c\":[],"
                "\"d\":[{\"a\":1}]}]");
}

TEST(block_collections)
{
    assert_json("items:\n"
                "  - name: a\n"
                "    value: 1\n"
                "  - - nested\n"
                "    - 2\n"
                "  -\n"
                "  - last\n"
                "map:\n"
                "  inner:\n"
                "    deep: yes\n",
                "[{\"items\":[{\"name\":\"a\",\"value\":1},[\"nested\",2],"
                "null,\"last\"],\"map\":{\"inner\":{\"deep\":\"yes\"}}}]");
}

TEST(multi_document)
{
    assert_json("a: 1\n---\nb: 2\n...\n---\n- c\n",
                "[{\"a\":1},{\"b\":2},[\"c\"]]");
    /* Empty documents, even with comments, are skipped. */
    assert_json("---\n---\n# only a comment\n---\nx: 1\n...\n---\n...\n",
                "[{\"x\":1}]");
    assert_json("", "[]");
    assert_json("# nothing\n", "[]");
    assert_json("---\n", "[]");
    /* Explicit nulls and scalars are documents. */
    assert_json("--- null\n--- ~\n--- text\n--- 5\n--- \"\"\n",
                "[null,null,\"text\",5,\"\"]");
    assert_json("--- |\n  block\n--- >-\n  folded\n",
                "[\"block\\n\",\"folded\"]");
    assert_json("%YAML 1.2\n---\na: 1\n", "[{\"a\":1}]");
}

TEST(anchors_are_per_document)
{
    parse_fail("a: &x 1\n---\nb: *x\n", SL_EINVAL, 3, 4, "unknown anchor 'x'");
}

TEST(anchors_and_aliases)
{
    struct json_object *doc, *docs = parse_one("base: &b\n"
                                               "  x: 1\n"
                                               "  list: &l [a, b]\n"
                                               "copy: *b\n"
                                               "list2: *l\n"
                                               "scalar: &s 42\n"
                                               "again: *s\n"
                                               "str: &t \"7\"\n"
                                               "str2: *t\n"
                                               "nul: &n ~\n"
                                               "nul2: *n\n"
                                               "re: &s two\n"
                                               "after: *s\n",
                                               &doc);
    struct json_object *copy = get(doc, "copy");

    assert_int(copy, "x", 1);
    ASSERT_EQ(json_object_array_length(get(copy, "list")), 2);
    ASSERT_EQ(json_object_array_length(get(doc, "list2")), 2);
    assert_int(doc, "again", 42);
    assert_str(doc, "str2", "7");
    assert_null(doc, "nul2");
    /* A redefined anchor refers to the latest node. */
    assert_str(doc, "after", "two");
    /* Aliases are copies: editing one leaves the original alone. */
    ASSERT(copy != get(doc, "base"));
    json_object_object_add(copy, "x", json_object_new_int(2));
    assert_int(get(doc, "base"), "x", 1);
    json_object_put(docs);

    /* An anchored key can be used as a key or value later. */
    assert_json("&k key: 1\nother: *k\n", "[{\"key\":1,\"other\":\"key\"}]");
    assert_json("a: &v val\n*v : 2\n", "[{\"a\":\"val\",\"val\":2}]");
    parse_fail("&k key: 1\n*k : 2\n", SL_EINVAL, 2, 1, "duplicate key 'key'");
    parse_fail("a: &m {x: 1}\n*m : 2\n", SL_EINVAL, 2, 1,
               "mapping key must be a scalar");
    parse_fail("a: *nope\n", SL_EINVAL, 1, 4, "unknown anchor 'nope'");
    parse_fail("a: &x [1, *x]\n", SL_EINVAL, 1, 11,
               "refers to a node that contains it");
}

TEST(merge_keys)
{
    assert_json("base: &b {x: 1, y: 2}\n"
                "one:\n"
                "  <<: *b\n"
                "  y: 3\n"
                "  z: 4\n",
                "[{\"base\":{\"x\":1,\"y\":2},"
                "\"one\":{\"y\":3,\"z\":4,\"x\":1}}]");
    /* Explicit keys win wherever '<<' is; earlier sources win. */
    assert_json("a: &a {x: a, p: a}\n"
                "b: &b {x: b, q: b}\n"
                "m:\n"
                "  y: 0\n"
                "  <<: [*a, *b, {r: inline, x: c}]\n"
                "  p: own\n",
                "[{\"a\":{\"x\":\"a\",\"p\":\"a\"},\"b\":{\"x\":\"b\","
                "\"q\":\"b\"},\"m\":{\"y\":0,\"p\":\"own\",\"x\":\"a\","
                "\"q\":\"b\",\"r\":\"inline\"}}]");
    /* Merged values are copies too, and nested merges resolve. */
    assert_json("a: &a {k: [1]}\n"
                "b: &b {<<: *a, l: 2}\n"
                "c: {<<: *b}\n",
                "[{\"a\":{\"k\":[1]},\"b\":{\"l\":2,\"k\":[1]},"
                "\"c\":{\"l\":2,\"k\":[1]}}]");
    /* Quoted '<<' is an ordinary key; '!!merge' is a merge. */
    assert_json("\"<<\": 1\n!!merge <<: {\"<<\": 2, x: 3}\n",
                "[{\"<<\":1,\"x\":3}]");
    assert_json("- <<\n", "[[\"<<\"]]");
    assert_json("m: {<<: []}\n", "[{\"m\":{}}]");
    parse_fail("a: 1\nb:\n  <<: 1\n", SL_EINVAL, 3, 7,
               "merge value must be a mapping or a sequence of mappings");
    parse_fail("a: &s x\nb: {<<: [*s]}\n", SL_EINVAL, 2, 9, "merge value");
    parse_fail("b:\n  <<:\n  c: 1\n", SL_EINVAL, 2, 6, "merge value");
    parse_fail("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n", SL_EINVAL, 4, 3,
               "duplicate key '<<'");
}

/* ---- errors and limits ---- */

TEST(duplicate_keys)
{
    parse_fail("a: 1\nb: 2\na: 3\n", SL_EINVAL, 3, 1, "duplicate key 'a'");
    parse_fail("spec:\n  x: 1\n  y: 2\n  x: 3\n", SL_EINVAL, 4, 3,
               "duplicate key 'x'");
    parse_fail("{a: 1, \"a\": 2}\n", SL_EINVAL, 1, 8, "duplicate key 'a'");
    /* Same text in different mappings is fine. */
    assert_json("a: {x: 1}\nb: {x: 2}\n",
                "[{\"a\":{\"x\":1},\"b\":{\"x\":2}}]");
}

TEST(syntax_errors_have_positions)
{
    parse_fail("a:\n\tb: 1\n", SL_EINVAL, 2, 1, "tab");
    parse_fail("a:\n  b: 1\n  c:\t2\n  \td: 3\n", SL_EINVAL, 4, 3, "tab");
    parse_fail("a: \"abc\nb: 1\n", SL_EINVAL, 3, 1,
               "found unexpected end of stream while scanning a quoted "
               "scalar started at line 1 column 4");
    parse_fail("a: 'abc\n", SL_EINVAL, 2, 1, "quoted scalar");
    parse_fail("a: [1, 2\nb: 3\n", SL_EINVAL, 2, 2,
               "did not find expected ',' or ']'");
    parse_fail("a: b: c\n", SL_EINVAL, 1, 5, "mapping values are not allowed");
    parse_fail("a:\n  - 1\n - 2\n", SL_EINVAL, 3, 2,
               "did not find expected key while parsing a block mapping "
               "started at line 1 column 1");
    parse_fail("key: value\n  bad: indent\n", SL_EINVAL, 2, 6,
               "mapping values are not allowed");
    parse_fail("- a\nb: c\n", SL_EINVAL, 2, 1, "did not find expected");
    parse_fail("a: *\n", SL_EINVAL, 1, 5, "while scanning an alias");
    assert_json("a: &x\n&y b: *x\n", "[{\"a\":null,\"b\":null}]");
    /* Reader errors come as a byte offset; positions are computed. */
    parse_fail("a: 1\nb: x\xff\n", SL_EINVAL, 2, 5,
               "invalid leading UTF-8 octet (0xFF)");
    parse_fail("a: 1\r\nb: \xc3\xa9\x01\n", SL_EINVAL, 2, 5,
               "control characters are not allowed (0x01)");
}

TEST(nul_in_input_is_an_error)
{
    static const char s[] = "a: 1\nb: x\0y\n";
    struct json_object *docs = NULL;
    struct sl_diag d;

    ASSERT_EQ(sl_yaml_to_json(s, sizeof(s) - 1, &docs, &d), SL_EINVAL);
    ASSERT(docs == NULL);
    ASSERT_STR_EQ(d.field, "line 2 column 5");
    /* The length is honoured: the same bytes cut before the NUL parse. */
    ASSERT_OK(sl_yaml_to_json(s, 9, &docs, &d));
    ASSERT_STR_EQ(json_object_to_json_string_ext(docs, JSON_C_TO_STRING_PLAIN),
                  "[{\"a\":1,\"b\":\"x\"}]");
    json_object_put(docs);
}

/* Build a nesting of 'depth' flow sequences. */
static char *nested(int depth)
{
    char *s = sl_xmalloc((size_t)depth * 2 + 2);
    int i;

    for (i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + i] = ']';
    }
    s[2 * depth] = '\n';
    s[2 * depth + 1] = '\0';
    return s;
}

TEST(deep_nesting_limit)
{
    struct json_object *docs = NULL;
    struct sl_diag d;
    char *s = nested(SL_YAML_MAX_DEPTH);

    ASSERT_OK(sl_yaml_to_json(s, strlen(s), &docs, &d));
    json_object_put(docs);
    sl_free(s);
    s = nested(SL_YAML_MAX_DEPTH + 1);
    ASSERT_EQ(sl_yaml_to_json(s, strlen(s), &docs, &d), SL_ETOOBIG);
    ASSERT(docs == NULL);
    ASSERT_STR_EQ(d.field, "line 1 column 129");
    ASSERT(strstr(d.msg, "nesting deeper than 128") != NULL);
    sl_free(s);
    /* Hostile depth stops at the limit, not at the end of the input. */
    s = nested(100000);
    ASSERT_EQ(sl_yaml_to_json(s, strlen(s), &docs, NULL), SL_ETOOBIG);
    sl_free(s);
    /* Block style counts the same way. */
    {
        size_t cap = 40000, n = 0;
        char *b = sl_xmalloc(cap);
        int i, j;
        for (i = 0; i < 200; i++) {
            for (j = 0; j < i; j++)
                b[n++] = ' ';
            n += (size_t)snprintf(b + n, cap - n, "k%d:\n", i);
        }
        ASSERT_EQ(sl_yaml_to_json(b, n, &docs, &d), SL_ETOOBIG);
        ASSERT_STR_EQ(d.field, "line 129 column 129");
        sl_free(b);
    }
    /* An alias cannot smuggle depth past the limit. */
    parse_fail("a: &a [[[[[[[[[[x]]]]]]]]]]\n"
               "b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
               "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
               "]\n",
               SL_ETOOBIG, 2, 123, "through alias '*a'");
}

TEST(billion_laughs_rejected_quickly)
{
    static const char lol[] =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
        "\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    struct json_object *docs = NULL;
    struct timespec t0, t1;
    struct sl_diag d;
    double secs;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(sl_yaml_to_json(lol, sizeof(lol) - 1, &docs, &d), SL_ETOOBIG);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT(docs == NULL);
    ASSERT(strstr(d.msg, "more than 1000000 nodes") != NULL);
    ASSERT_STR_EQ(d.field, "line 7 column 8");
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* Generous for sanitizer builds; release takes milliseconds. */
    ASSERT(secs < 5.0);
}

TEST(alias_text_budget)
{
    /* Few nodes, but each alias copies a 4 KiB string: the text budget
     * stops it long before gigabytes are built. */
    char *s = sl_xmalloc(8192);
    size_t n = 0;
    const char *prev = "a";
    static const char *names[] = { "b", "c", "d", "e", "f", "g", "h" };
    struct json_object *docs = NULL;
    struct sl_diag d;
    int i, j;

    n += (size_t)snprintf(s + n, 8192 - n, "a: &a \"");
    for (i = 0; i < 4000; i++)
        s[n++] = 'x';
    n += (size_t)snprintf(s + n, 8192 - n, "\"\n");
    for (i = 0; i < 7; i++) {
        n += (size_t)snprintf(s + n, 8192 - n, "%s: &%s [", names[i], names[i]);
        for (j = 0; j < 9; j++)
            n += (size_t)snprintf(s + n, 8192 - n, "%s*%s", j ? "," : "", prev);
        n += (size_t)snprintf(s + n, 8192 - n, "]\n");
        prev = names[i];
    }
    ASSERT_EQ(sl_yaml_to_json(s, n, &docs, &d), SL_ETOOBIG);
    ASSERT(strstr(d.msg, "bytes of text") != NULL);
    sl_free(s);
}

TEST(node_limit_counts_plain_nodes_too)
{
    /* 1000001 scalars without any alias exceed the node limit. */
    size_t count = SL_YAML_MAX_NODES + 1, n = 0, i;
    char *s = sl_xmalloc(count * 2 + 4);
    struct json_object *docs = NULL;

    s[n++] = '[';
    for (i = 0; i < count; i++) {
        s[n++] = '1';
        s[n++] = ',';
    }
    s[n - 1] = ']';
    ASSERT_EQ(sl_yaml_to_json(s, n, &docs, NULL), SL_ETOOBIG);
    ASSERT(docs == NULL);
    sl_free(s);
}

/* ---- realistic input and test data ---- */

TEST(knative_broker_and_trigger)
{
    static const char y[] =
        "# A broker and two triggers, as kubectl would take them.\n"
        "apiVersion: eventing.knative.dev/v1\n"
        "kind: Broker\n"
        "metadata:\n"
        "  name: default\n"
        "  namespace: demo\n"
        "  annotations:\n"
        "    eventing.knative.dev/broker.class: MTChannelBasedBroker\n"
        "  labels: &labels\n"
        "    app: demo\n"
        "    tier: \"1\"\n"
        "spec:\n"
        "  config:\n"
        "    apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    name: config-br-default-channel\n"
        "    namespace: knative-eventing\n"
        "  delivery: &delivery\n"
        "    retry: 5\n"
        "    backoffPolicy: exponential\n"
        "    backoffDelay: PT0.2S\n"
        "    deadLetterSink:\n"
        "      ref:\n"
        "        apiVersion: serving.knative.dev/v1\n"
        "        kind: Service\n"
        "        name: dlq\n"
        "---\n"
        "apiVersion: eventing.knative.dev/v1\n"
        "kind: Trigger\n"
        "metadata:\n"
        "  name: on-order\n"
        "  namespace: demo\n"
        "spec:\n"
        "  broker: default\n"
        "  filter:\n"
        "    attributes:\n"
        "      type: dev.knative.samples.order\n"
        "      source: \"/orders\"\n"
        "  subscriber:\n"
        "    ref:\n"
        "      apiVersion: serving.knative.dev/v1\n"
        "      kind: Service\n"
        "      name: order-handler\n"
        "    uri: /handle\n"
        "---\n"
        "apiVersion: eventing.knative.dev/v1\n"
        "kind: Trigger\n"
        "metadata:\n"
        "  name: on-anything\n"
        "  namespace: demo\n"
        "spec:\n"
        "  broker: default\n"
        "  filters:\n"
        "    - any:\n"
        "        - exact: {type: com.example.a}\n"
        "        - prefix: {type: 'com.example.b.'}\n"
        "    - cesql: \"source LIKE '%/orders%' AND sequence > 3\"\n"
        "  subscriber:\n"
        "    uri: http://127.0.0.1:8080/events\n"
        "  delivery:\n"
        "    retry: 0\n"
        "    timeout: PT10S\n"
        "...\n";
    struct json_object *docs = parse_ok(y), *b, *t1, *t2, *v;

    ASSERT_EQ(json_object_array_length(docs), 3);
    b = json_object_array_get_idx(docs, 0);
    t1 = json_object_array_get_idx(docs, 1);
    t2 = json_object_array_get_idx(docs, 2);
    assert_str(b, "kind", "Broker");
    assert_str(get(b, "metadata"), "name", "default");
    assert_str(get(get(b, "metadata"), "annotations"),
               "eventing.knative.dev/broker.class", "MTChannelBasedBroker");
    assert_str(get(get(b, "metadata"), "labels"), "tier", "1");
    v = get(get(b, "spec"), "delivery");
    assert_int(v, "retry", 5);
    assert_str(v, "backoffDelay", "PT0.2S");
    assert_str(get(get(v, "deadLetterSink"), "ref"), "name", "dlq");
    assert_str(t1, "kind", "Trigger");
    assert_str(get(get(get(t1, "spec"), "filter"), "attributes"), "type",
               "dev.knative.samples.order");
    assert_str(get(get(get(t1, "spec"), "filter"), "attributes"), "source",
               "/orders");
    assert_str(get(get(t1, "spec"), "subscriber"), "uri", "/handle");
    v = get(get(t2, "spec"), "filters");
    ASSERT_EQ(json_object_array_length(v), 2);
    assert_str(get(json_object_array_get_idx(
                       get(json_object_array_get_idx(v, 0), "any"), 1),
                   "prefix"),
               "type", "com.example.b.");
    assert_str(json_object_array_get_idx(v, 1), "cesql",
               "source LIKE '%/orders%' AND sequence > 3");
    assert_int(get(get(t2, "spec"), "delivery"), "retry", 0);
    json_object_put(docs);
}

static int is_scalar(struct json_object *v)
{
    return json_object_is_type(v, json_type_string) ||
           json_object_is_type(v, json_type_boolean) ||
           json_object_is_type(v, json_type_int);
}

TEST(cesql_tck_files)
{
    static const struct {
        const char *name;
        int cases;
    } files[] = {
        { "binary_comparison_operators", 32 },
        { "binary_logical_operators", 16 },
        { "binary_math_operators", 18 },
        { "case_sensitivity", 7 },
        { "casting_functions", 21 },
        { "context_attributes_access", 8 },
        { "exists_expression", 7 },
        { "in_expression", 16 },
        { "integer_builtin_functions", 4 },
        { "like_expression", 37 },
        { "literals", 10 },
        { "negate_operator", 6 },
        { "not_operator", 6 },
        { "parse_errors", 1 },
        { "spec_examples", 13 },
        { "string_builtin_functions", 42 },
        { "sub_expression", 3 },
        { "subscriptions_api_recreations", 28 },
    };
    size_t i, j, total = 0;
    char path[256], msg[700];

    ASSERT_EQ(sizeof(files) / sizeof(files[0]), 18);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct json_object *docs = NULL, *doc, *tests;
        struct sl_diag d;
        size_t len;
        char *text;
        int rc;

        snprintf(path, sizeof(path), "test/conformance/cesql-tck/%s.yaml",
                 files[i].name);
        text = check_read_file(path, &len);
        rc = sl_yaml_to_json(text, len, &docs, &d);
        if (rc != 0)
            CHECK_FAIL("%s: %s", path, sl_diag_format(&d, msg, sizeof(msg)));
        ASSERT_EQ(json_object_array_length(docs), 1);
        doc = json_object_array_get_idx(docs, 0);
        ASSERT(json_object_is_type(get(doc, "name"), json_type_string));
        tests = get(doc, "tests");
        ASSERT(json_object_is_type(tests, json_type_array));
        if ((int)json_object_array_length(tests) != files[i].cases)
            CHECK_FAIL("%s: %zu cases, want %d", path,
                       json_object_array_length(tests), files[i].cases);
        for (j = 0; j < json_object_array_length(tests); j++) {
            struct json_object *t = json_object_array_get_idx(tests, j);
            ASSERT(json_object_is_type(t, json_type_object));
            /* Unquoted "TRUE" or "-10" resolve to booleans and integers:
             * a TCK runner must turn those back into expression text. */
            ASSERT(is_scalar(get(t, "name")));
            ASSERT(is_scalar(get(t, "expression")));
        }
        total += json_object_array_length(tests);
        json_object_put(docs);
        sl_free(text);
    }
    ASSERT_EQ(total, 275);
}

TEST(cesql_tck_value_types)
{
    struct json_object *docs = NULL, *tests, *t;
    size_t len;
    char *text = check_read_file("test/conformance/cesql-tck/binary_comparison_"
                                 "operators.yaml",
                                 &len);

    ASSERT_OK(sl_yaml_to_json(text, len, &docs, NULL));
    tests = get(json_object_array_get_idx(docs, 0), "tests");
    t = json_object_array_get_idx(tests, 0);
    assert_str(t, "name", "True is equal to false");
    assert_str(t, "expression", "TRUE = FALSE");
    assert_bool(t, "result", 0);
    /* A quoted expression stays text, quotes inside included. */
    assert_str(json_object_array_get_idx(tests, 4), "expression",
               "'abc' = '123'");
    assert_str(json_object_array_get_idx(tests, 6), "error",
               "missingAttribute");
    json_object_put(docs);
    sl_free(text);

    text = check_read_file("test/conformance/cesql-tck/case_sensitivity.yaml",
                           &len);
    ASSERT_OK(sl_yaml_to_json(text, len, &docs, NULL));
    tests = get(json_object_array_get_idx(docs, 0), "tests");
    assert_bool(json_object_array_get_idx(tests, 0), "expression", 1);
    assert_bool(json_object_array_get_idx(tests, 1), "expression", 1);
    assert_str(json_object_array_get_idx(tests, 2), "expression", "tRuE");
    assert_str(json_object_array_get_idx(tests, 6), "expression", "'aBcD'");
    assert_str(json_object_array_get_idx(tests, 6), "result", "aBcD");
    json_object_put(docs);
    sl_free(text);

    text = check_read_file("test/conformance/cesql-tck/negate_operator.yaml",
                           &len);
    ASSERT_OK(sl_yaml_to_json(text, len, &docs, NULL));
    tests = get(json_object_array_get_idx(docs, 0), "tests");
    assert_int(json_object_array_get_idx(tests, 0), "expression", -10);
    assert_str(json_object_array_get_idx(tests, 1), "expression", "--10");
    json_object_put(docs);
    sl_free(text);
}

TEST(cloudevents_sample_files)
{
    static const struct {
        const char *path;
        size_t docs;
    } files[] = {
        { "test/conformance/cloudevents-samples/yaml/v1.yaml", 2 },
        { "test/conformance/cloudevents-samples/yaml/v03.yaml", 1 },
        { "test/conformance/cloudevents-samples/yaml/v1.0/v1_minimum.yaml", 6 },
        { "test/conformance/cloudevents-samples/yaml/v0.3/v03_minimum.yaml",
          6 },
    };
    size_t i, j;
    char msg[700];

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct json_object *docs = NULL;
        struct sl_diag d;
        size_t len;
        char *text = check_read_file(files[i].path, &len);
        int rc = sl_yaml_to_json(text, len, &docs, &d);

        if (rc != 0)
            CHECK_FAIL("%s: %s", files[i].path,
                       sl_diag_format(&d, msg, sizeof(msg)));
        ASSERT_EQ(json_object_array_length(docs), files[i].docs);
        for (j = 0; j < files[i].docs; j++) {
            struct json_object *doc = json_object_array_get_idx(docs, j);
            struct json_object *ca = get(doc, "ContextAttributes");
            ASSERT(json_object_is_type(ca, json_type_object));
            ASSERT(json_object_is_type(get(ca, "type"), json_type_string));
            ASSERT(json_object_is_type(get(ca, "id"), json_type_string));
            (void)get(doc, "Data");
        }
        if (i == 0) {
            struct json_object *doc = json_object_array_get_idx(docs, 0);
            struct json_object *ca = get(doc, "ContextAttributes");
            /* Core schema: 1.0 is a float; the time stays a string. */
            assert_double(ca, "specversion", 1.0);
            assert_str(ca, "time", "2018-04-05T03:56:24Z");
            assert_str(get(ca, "Extensions"), "comexampleextension2",
                       "{\"othervalue\": 5}\n");
            assert_str(doc, "Data", "{\"world\":\"hello\"}\n");
            assert_str(doc, "Mode", "binary");
        }
        json_object_put(docs);
        sl_free(text);
    }
}

TEST_MAIN()
