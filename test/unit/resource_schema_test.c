/*
 * test/unit/resource_schema_test.c - the strict schema walker on its own
 * tables: every type and flag, null removal, path naming through objects,
 * arrays and maps, enum/range/check messages, the value checks, path
 * truncation, and the json-c accessors.
 */
#include "test/unit/check.h"

#include "resource/schema.h"

static const char *const colours[] = { "red", "green", NULL };

static const struct sl_res_field t_leaf_fields[] = {
    { .name = "s", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = NULL },
};

static const struct sl_res_field t_leaf = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = t_leaf_fields,
};

static const struct sl_res_field t_dur = {
    .name = "",
    .type = SL_RES_STRING,
    .check = sl_res_check_duration,
};

static const struct sl_res_field t_fields[] = {
    { .name = "str", .type = SL_RES_STRING, .flags = SL_RES_NONEMPTY },
    { .name = "i32", .type = SL_RES_INT32 },
    { .name = "i64", .type = SL_RES_INT64 },
    { .name = "num", .type = SL_RES_NUMBER },
    { .name = "flag", .type = SL_RES_BOOL },
    { .name = "ios",
      .type = SL_RES_INT_OR_STRING,
      .check = sl_res_check_duration },
    { .name = "colour", .type = SL_RES_STRING, .enums = colours },
    { .name = "pct",
      .type = SL_RES_INT32,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = 100 },
    { .name = "obj", .type = SL_RES_OBJECT, .fields = t_leaf_fields },
    { .name = "list",
      .type = SL_RES_ARRAY,
      .elem = &t_leaf,
      .flags = SL_RES_NONEMPTY },
    { .name = "durs", .type = SL_RES_ARRAY, .elem = &t_dur },
    { .name = "smap",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_dns1123_label },
    { .name = "omap", .type = SL_RES_MAP, .elem = &t_leaf },
    { .name = "any", .type = SL_RES_ANY },
    { .name = "need", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = NULL },
};

/* Check JSON text 'js' against t_fields; return the object (caller puts). */
static struct json_object *walk(const char *js, int want_rc, const char *field,
                                const char *msg)
{
    struct json_object *o = json_tokener_parse(js);
    struct sl_res_path p;
    struct sl_diag d;
    char buf[700];
    int rc;

    ASSERT(o != NULL);
    sl_res_path_init(&p, "spec");
    sl_diag_clear(&d);
    rc = sl_res_schema_check(o, t_fields, &p, &d);
    if (rc != want_rc)
        CHECK_FAIL("rc %d, want %d (%s) for %s", rc, want_rc,
                   sl_diag_format(&d, buf, sizeof(buf)), js);
    ASSERT_STR_EQ(p.buf, "spec");
    if (want_rc != 0 &&
        (strcmp(d.field, field) != 0 || strstr(d.msg, msg) == NULL))
        CHECK_FAIL("got '%s', want '%s: ...%s...' for %s",
                   sl_diag_format(&d, buf, sizeof(buf)), field, msg, js);
    return o;
}

static void walk_fail(const char *js, const char *field, const char *msg)
{
    json_object_put(walk(js, SL_EINVAL, field, msg));
}

TEST(schema_accepts_every_type)
{
    struct json_object *o = walk(
        "{\"str\":\"x\",\"i32\":-2147483648,\"i64\":9007199254740993,"
        "\"num\":1.5,\"flag\":false,\"ios\":7,\"colour\":\"red\",\"pct\":100,"
        "\"obj\":{\"s\":\"\"},\"list\":[{\"s\":\"a\"}],\"durs\":[\"PT1S\"],"
        "\"smap\":{\"a-b\":\"\"},\"omap\":{\"K\":{\"s\":\"b\"}},"
        "\"any\":[null,{\"x\":[1]}],\"need\":\"n\"}",
        0, NULL, NULL);
    json_object_put(o);
    o = walk("{\"ios\":\"PT2S\",\"num\":3,\"need\":\"\"}", 0, NULL, NULL);
    json_object_put(o);
}

TEST(schema_null_is_absent)
{
    struct json_object *o = walk(
        "{\"str\":null,\"obj\":null,\"list\":null,\"need\":\"n\",\"any\":null}",
        0, NULL, NULL);

    ASSERT_EQ(json_object_object_length(o), 1);
    ASSERT_STR_EQ(sl_res_get_str(o, "need"), "n");
    json_object_put(o);
    walk_fail("{\"need\":null}", "spec.need", "missing field(s)");
    walk_fail("{}", "spec.need", "missing field(s)");
}

TEST(schema_type_errors_name_path_and_type)
{
    walk_fail("{\"str\":1,\"need\":\"\"}", "spec.str",
              "expected string, got integer");
    walk_fail("{\"i32\":\"1\",\"need\":\"\"}", "spec.i32",
              "expected integer, got string");
    walk_fail("{\"i64\":1.0,\"need\":\"\"}", "spec.i64",
              "expected integer, got number");
    walk_fail("{\"num\":\"1\",\"need\":\"\"}", "spec.num",
              "expected number, got string");
    walk_fail("{\"flag\":\"true\",\"need\":\"\"}", "spec.flag",
              "expected boolean, got string");
    walk_fail("{\"ios\":true,\"need\":\"\"}", "spec.ios",
              "expected integer or string, got boolean");
    walk_fail("{\"obj\":[],\"need\":\"\"}", "spec.obj",
              "expected object, got array");
    walk_fail("{\"list\":{},\"need\":\"\"}", "spec.list",
              "expected array, got object");
    walk_fail("{\"smap\":[],\"need\":\"\"}", "spec.smap",
              "expected object, got array");
    walk_fail("{\"list\":[{\"s\":\"a\"},7],\"need\":\"\"}", "spec.list[1]",
              "expected object, got integer");
    walk_fail("{\"smap\":{\"a\":null},\"need\":\"\"}", "spec.smap[a]",
              "expected string, got null");
    walk_fail("{\"omap\":{\"k\":{\"s\":1}},\"need\":\"\"}", "spec.omap[k].s",
              "expected string, got integer");
    walk_fail("{\"list\":[{\"s\":\"a\"},{}],\"need\":\"\"}", "spec.list[1].s",
              "missing field(s)");
    walk_fail("[]", "spec", "expected object, got array");
}

TEST(schema_unknown_fields)
{
    walk_fail("{\"need\":\"\",\"nope\":1}", "spec.nope",
              "unknown field \"spec.nope\"");
    walk_fail("{\"need\":\"\",\"obj\":{\"s\":\"\",\"t\":1}}", "spec.obj.t",
              "unknown field \"spec.obj.t\"");
    walk_fail("{\"need\":\"\",\"list\":[{\"s\":\"\"},{\"s\":\"\",\"S\":1}]}",
              "spec.list[1].S", "unknown field \"spec.list[1].S\"");
    /* Document order decides which error is reported. */
    walk_fail("{\"zz\":1,\"str\":2}", "spec.zz", "unknown field \"spec.zz\"");
    walk_fail("{\"str\":2,\"zz\":1}", "spec.str", "expected string");
    /* Unknown even when null. */
    walk_fail("{\"need\":\"\",\"ghost\":null}", "spec.ghost", "unknown field");
}

TEST(schema_simple_checks)
{
    walk_fail("{\"str\":\"\",\"need\":\"\"}", "spec.str",
              "invalid value \"\": must not be empty");
    walk_fail("{\"list\":[],\"need\":\"\"}", "spec.list", "must not be empty");
    walk_fail("{\"colour\":\"blue\",\"need\":\"\"}", "spec.colour",
              "invalid value \"blue\": expected one of \"red\", \"green\"");
    walk_fail("{\"pct\":101,\"need\":\"\"}", "spec.pct",
              "expected 0 <= 101 <= 100");
    walk_fail("{\"pct\":-1,\"need\":\"\"}", "spec.pct",
              "expected 0 <= -1 <= 100");
    walk_fail("{\"i32\":2147483648,\"need\":\"\"}", "spec.i32",
              "invalid value 2147483648: out of range for int32");
    walk_fail("{\"durs\":[\"PT1S\",\"P\"],\"need\":\"\"}", "spec.durs[1]",
              "invalid value \"P\": invalid duration");
    walk_fail("{\"ios\":\"soon\",\"need\":\"\"}", "spec.ios",
              "invalid value \"soon\"");
    walk_fail("{\"smap\":{\"Bad\":\"x\"},\"need\":\"\"}", "spec.smap[Bad]",
              "invalid value \"Bad\": a lowercase RFC 1123 label");
    walk_fail("{\"str\":\"a\\u0000b\",\"need\":\"\"}", "spec.str",
              "must not contain NUL bytes");
}

TEST(value_checks)
{
    static const struct {
        sl_res_check_fn *fn;
        const char *value;
        const char *msg; /* NULL: must pass */
    } cases[] = {
        { sl_res_check_dns1123_label, "a-1", NULL },
        { sl_res_check_dns1123_label, "-a", "RFC 1123 label" },
        { sl_res_check_dns1123_label, "a_b", "RFC 1123 label" },
        { sl_res_check_dns1123_label, "", "RFC 1123 label" },
        { sl_res_check_dns1123_label,
          "a234567890123456789012345678901234567890123456789012345678901234",
          "no more than 63" },
        { sl_res_check_dns1123_subdomain, "a.b-c.d", NULL },
        { sl_res_check_dns1123_subdomain, "a..b", "RFC 1123 subdomain" },
        { sl_res_check_dns1123_subdomain, "A", "RFC 1123 subdomain" },
        { sl_res_check_dns1123_subdomain, "a.", "RFC 1123 subdomain" },
        { sl_res_check_dns1035_label, "a1", NULL },
        { sl_res_check_dns1035_label, "1a", "DNS-1035 label" },
        { sl_res_check_qualified_name, "example.com/My_Name.1", NULL },
        { sl_res_check_qualified_name, "app", NULL },
        { sl_res_check_qualified_name, "a/b/c", "qualified name" },
        { sl_res_check_qualified_name, "/x", "prefix part must be non-empty" },
        { sl_res_check_qualified_name, "Ex.com/x", "prefix part" },
        { sl_res_check_qualified_name, "x/", "name part must be non-empty" },
        { sl_res_check_qualified_name, "-x", "name part must consist" },
        { sl_res_check_qualified_name,
          "x234567890123456789012345678901234567890123456789012345678901234",
          "no more than 63" },
        { sl_res_check_label_value, "", NULL },
        { sl_res_check_label_value, "v1.2_x-y", NULL },
        { sl_res_check_label_value, "a b", "a valid label" },
        { sl_res_check_config_key, "a.B_c-9", NULL },
        { sl_res_check_config_key, ".", "must not be" },
        { sl_res_check_config_key, "", "a valid config key" },
        { sl_res_check_duration, "PT0.2S", NULL },
        { sl_res_check_duration, "-P1D", NULL },
        { sl_res_check_duration, "PT", "invalid value \"PT\"" },
        { sl_res_check_duration, "P999999999999Y", "too long" },
        { sl_res_check_rfc3339, "2026-06-01T10:00:00Z", NULL },
        { sl_res_check_rfc3339, "2026-02-30T10:00:00Z", "invalid day" },
        { sl_res_check_uri_ref, "/a?b#c", NULL },
        { sl_res_check_uri_ref, "a b", "invalid character ' '" },
        { sl_res_check_abs_url, "kafka://h:9092", NULL },
        { sl_res_check_abs_url, "/x", "not an absolute URL" },
        { sl_res_check_http_url, "https://h/", NULL },
        { sl_res_check_http_url, "ftp://h/", "unsupported scheme" },
        { sl_res_check_base64, "aGVsbG8=", NULL },
        { sl_res_check_base64, "aGVs\nbG8=\r\n", NULL },
        { sl_res_check_base64, "aGVsbG8", "invalid Base64" },
    };
    struct sl_diag d;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        sl_diag_clear(&d);
        rc = cases[i].fn(cases[i].value, &d);
        if (cases[i].msg == NULL && rc != 0)
            CHECK_FAIL("'%s' rejected: %s", cases[i].value, d.msg);
        if (cases[i].msg != NULL &&
            (rc != SL_EINVAL || strstr(d.msg, cases[i].msg) == NULL))
            CHECK_FAIL("'%s': got %d '%s', want '%s'", cases[i].value, rc,
                       d.msg, cases[i].msg);
    }
    /* Checks accept a NULL diag. */
    ASSERT_EQ(sl_res_check_dns1123_label("-", NULL), SL_EINVAL);
}

TEST(paths)
{
    struct sl_res_path p;
    struct sl_diag d;
    size_t a, b, i;

    sl_res_path_init(&p, NULL);
    a = sl_res_path_field(&p, "spec");
    b = sl_res_path_field(&p, "filters");
    sl_res_path_index(&p, 2);
    sl_res_path_field(&p, "exact");
    sl_res_path_key(&p, "type");
    ASSERT_STR_EQ(p.buf, "spec.filters[2].exact[type]");
    sl_res_path_pop(&p, b);
    ASSERT_STR_EQ(p.buf, "spec");
    sl_res_path_pop(&p, a);
    ASSERT_STR_EQ(p.buf, "");
    ASSERT_EQ(p.len, 0);

    /* Failures at the path, or below it. */
    sl_res_path_init(&p, "spec");
    ASSERT_EQ(sl_res_fail(&d, &p, "bad %d", 1), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "spec");
    ASSERT_STR_EQ(d.msg, "bad 1");
    sl_res_fail_at(&d, &p, "x", "m");
    ASSERT_STR_EQ(d.field, "spec.x");
    sl_res_fail_at(&d, &p, "[k]", "m");
    ASSERT_STR_EQ(d.field, "spec[k]");
    sl_res_fail(&d, NULL, "top");
    ASSERT_STR_EQ(d.field, "");
    ASSERT_EQ(sl_res_fail(NULL, &p, "no diag"), SL_EINVAL);

    /* A very deep path is cut, never overflowed, and pops still work. */
    sl_res_path_init(&p, "spec");
    a = p.len;
    for (i = 0; i < 100; i++)
        sl_res_path_field(&p, "abcdefgh");
    ASSERT_EQ(p.len, sizeof(p.buf) - 1);
    ASSERT_EQ(strlen(p.buf), sizeof(p.buf) - 1);
    sl_res_path_pop(&p, a);
    ASSERT_STR_EQ(p.buf, "spec");
}

TEST(accessors)
{
    struct json_object *o =
        json_tokener_parse("{\"a\":{\"b\":{\"c\":\"x\",\"n\":null}},\"s\":1}");
    struct json_object *e;

    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "a.b.c")), "x");
    ASSERT(sl_res_dig(o, "a.b.n") == NULL);
    ASSERT(sl_res_dig(o, "a.x.c") == NULL);
    ASSERT(sl_res_dig(o, "s.t") == NULL);
    ASSERT(sl_res_get_str(o, "s") == NULL);
    ASSERT(sl_res_get(NULL, "a") == NULL);
    ASSERT(sl_res_str(NULL) == NULL);
    ASSERT(sl_res_dig(o, "") == o);
    e = sl_res_ensure(o, "new");
    ASSERT(e != NULL && json_object_is_type(e, json_type_object));
    ASSERT(sl_res_ensure(o, "new") == e);
    ASSERT(sl_res_ensure(o, "s") == NULL);
    sl_res_set_str(e, "k", "v");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "new.k")), "v");
    ASSERT(sl_res_equal(NULL, NULL));
    ASSERT(!sl_res_equal(o, NULL));
    ASSERT(sl_res_equal(sl_res_get(o, "new"), e));
    ASSERT(sl_res_schema_find(t_fields, "colour") != NULL);
    ASSERT(sl_res_schema_find(t_fields, "Colour") == NULL);
    ASSERT_STR_EQ(sl_res_json_type_name(NULL), "null");
    json_object_put(o);
}

TEST_MAIN()
