/*
 * test/unit/resource_fixture.h - helpers shared by the resource_*_test.c
 * files: load YAML fixtures from test/data/resources/, admit them, compare
 * with the expected admitted form, and expect failures at a field path.
 * Header-only (static inline) so each test binary takes what it uses.
 */
#ifndef SL_TEST_RESOURCE_FIXTURE_H
#define SL_TEST_RESOURCE_FIXTURE_H

#include "test/unit/check.h"

#include "core/yaml.h"
#include "resource/resource.h"

static inline struct json_object *fx_parse(const char *s, size_t n,
                                           const char *what)
{
    struct json_object *docs = NULL;
    struct sl_diag d;
    char msg[700];

    if (sl_yaml_to_json(s, n, &docs, &d) != 0)
        CHECK_FAIL("%s: %s", what, sl_diag_format(&d, msg, sizeof(msg)));
    return docs;
}

/* All documents of test/data/resources/<name>. */
static inline struct json_object *fx_load(const char *name)
{
    char path[256];
    struct json_object *docs;
    size_t n;
    char *s;

    snprintf(path, sizeof(path), "test/data/resources/%s", name);
    s = check_read_file(path, &n);
    docs = fx_parse(s, n, path);
    sl_free(s);
    return docs;
}

/* The single document of 'yaml' (owned by the caller). */
static inline struct json_object *fx_yaml(const char *yaml)
{
    struct json_object *docs = fx_parse(yaml, strlen(yaml), yaml), *doc;

    ASSERT_EQ(json_object_array_length(docs), 1);
    doc = json_object_get(json_object_array_get_idx(docs, 0));
    json_object_put(docs);
    return doc;
}

static inline struct json_object *fx_copy(const struct json_object *o)
{
    struct json_object *c = NULL;

    ASSERT_OK(json_object_deep_copy((struct json_object *)o, &c, NULL));
    return c;
}

static inline void fx_admit_ok(struct json_object *obj,
                               const struct json_object *old,
                               const struct sl_res_env *env)
{
    struct sl_diag d;
    char msg[700];

    if (sl_res_admit(obj, old, env, NULL, &d) != 0)
        CHECK_FAIL("admit failed: %s\n%s", sl_diag_format(&d, msg, sizeof(msg)),
                   json_object_to_json_string(obj));
}

static inline void fx_expect_equal(const struct json_object *got,
                                   const struct json_object *want,
                                   const char *what)
{
    if (!json_object_equal((struct json_object *)got,
                           (struct json_object *)want))
        CHECK_FAIL("%s differs:\n got  %s\n want %s", what,
                   json_object_to_json_string((struct json_object *)got),
                   json_object_to_json_string((struct json_object *)want));
}

/*
 * Admit every document of <name>.yaml and compare with <name>.admitted.yaml;
 * then admitting the result again, as a create and as an update of
 * itself, and after a trip through JSON text, changes nothing.
 */
static inline void fx_round_trip(const char *name, const struct sl_res_env *env)
{
    char in_name[128], want_name[128];
    struct json_object *in, *want;
    size_t i;

    snprintf(in_name, sizeof(in_name), "%s.yaml", name);
    snprintf(want_name, sizeof(want_name), "%s.admitted.yaml", name);
    in = fx_load(in_name);
    want = fx_load(want_name);
    ASSERT_EQ(json_object_array_length(in), json_object_array_length(want));
    for (i = 0; i < json_object_array_length(in); i++) {
        struct json_object *doc = json_object_array_get_idx(in, i), *again;
        fx_admit_ok(doc, NULL, env);
        fx_expect_equal(doc, json_object_array_get_idx(want, i), in_name);
        again = fx_copy(doc);
        fx_admit_ok(again, NULL, env);
        fx_expect_equal(again, doc, "second admission");
        json_object_put(again);
        again = fx_copy(doc);
        fx_admit_ok(again, doc, env);
        fx_expect_equal(again, doc, "update with itself");
        json_object_put(again);
        again = json_tokener_parse(json_object_to_json_string(doc));
        ASSERT(again != NULL);
        fx_admit_ok(again, NULL, env);
        fx_expect_equal(again, doc, "JSON text round trip");
        json_object_put(again);
    }
    json_object_put(want);
    json_object_put(in);
}

/* Admit 'yaml' (as an update of admitted 'old_yaml' when not NULL) and
 * expect SL_EINVAL at 'field' with 'msg' in the message. */
static inline void fx_fail_env(const char *yaml, const char *old_yaml,
                               const struct sl_res_env *env, const char *field,
                               const char *msg)
{
    struct json_object *obj = fx_yaml(yaml), *old = NULL;
    struct sl_diag d;
    char buf[700];
    int rc;

    if (old_yaml != NULL) {
        old = fx_yaml(old_yaml);
        fx_admit_ok(old, NULL, env);
    }
    rc = sl_res_admit(obj, old, env, NULL, &d);
    if (rc != SL_EINVAL)
        CHECK_FAIL("admit gave %d, want SL_EINVAL, for:\n%s", rc, yaml);
    if (strcmp(d.field, field) != 0 || strstr(d.msg, msg) == NULL)
        CHECK_FAIL("got '%s', want '%s: ...%s...'",
                   sl_diag_format(&d, buf, sizeof(buf)), field, msg);
    json_object_put(old);
    json_object_put(obj);
}

static inline void fx_fail(const char *yaml, const char *field, const char *msg)
{
    fx_fail_env(yaml, NULL, NULL, field, msg);
}

/* Admit 'yaml' as a create; it must pass. */
static inline void fx_ok(const char *yaml)
{
    struct json_object *obj = fx_yaml(yaml);

    fx_admit_ok(obj, NULL, NULL);
    json_object_put(obj);
}

#endif
