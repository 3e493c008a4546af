/*
 * test/unit/merge_patch_test.c - RFC 7386 Appendix A, every example.
 */
#include <json-c/json.h>

#include "core/merge_patch.h"
#include "test/unit/check.h"

static void mp_case(const char *target, const char *patch, const char *want)
{
    struct json_object *t = json_tokener_parse(target);
    struct json_object *p = json_tokener_parse(patch);
    struct json_object *w = json_tokener_parse(want);
    struct json_object *got;

    ASSERT(p != NULL || patch[0] == 'n');
    got = sl_merge_patch(t, p);
    if (!json_object_equal(got, w))
        CHECK_FAIL("patch %s on %s: got %s, want %s", patch, target,
                   json_object_to_json_string(got), want);
    json_object_put(got);
    json_object_put(p);
    json_object_put(w);
}

TEST(rfc7386_appendix_a)
{
    mp_case("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    mp_case("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    mp_case("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    mp_case("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    mp_case("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    mp_case("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    mp_case("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
            "{\"a\":{\"b\":\"d\"}}");
    mp_case("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    mp_case("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    mp_case("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    mp_case("{\"a\":\"foo\"}", "null", "null");
    mp_case("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    mp_case("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    mp_case("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    mp_case("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

TEST(patch_is_not_shared)
{
    struct json_object *p = json_tokener_parse("{\"a\":{\"b\":[1,2]}}");
    struct json_object *t = sl_merge_patch(NULL, p);

    json_object_put(p);
    ASSERT_STR_EQ(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN),
                  "{\"a\":{\"b\":[1,2]}}");
    json_object_put(t);
}

TEST_MAIN()
