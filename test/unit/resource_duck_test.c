/*
 * test/unit/resource_duck_test.c - the shared types called directly:
 * KReference rules (group feature, parent namespace), Destination and
 * DeliverySpec defaults, and the addressable helpers (address picking by
 * name, relative URI resolution, CACerts/audience precedence).
 */
#include "test/unit/check.h"

#include "resource/duck.h"

static struct json_object *js(const char *text)
{
    struct json_object *o = json_tokener_parse(text);

    if (o == NULL)
        CHECK_FAIL("bad JSON in test: %s", text);
    return o;
}

/* Validate a KReference; expect 'field'/'msg', or success when NULL. */
static void kref_expect(const char *text, const struct sl_res_env *env,
                        const char *parent, const char *field, const char *msg)
{
    struct json_object *ref = js(text);
    struct sl_res_path p;
    struct sl_diag d;
    int rc;

    sl_res_path_init(&p, "spec.ref");
    sl_diag_clear(&d);
    rc = sl_res_kref_validate(ref, env, parent, &p, &d);
    if (field == NULL && rc != 0)
        CHECK_FAIL("%s rejected: %s %s", text, d.field, d.msg);
    if (field != NULL && (rc != SL_EINVAL || strcmp(d.field, field) != 0 ||
                          strstr(d.msg, msg) == NULL))
        CHECK_FAIL("%s: got %d '%s: %s', want '%s: %s'", text, rc, d.field,
                   d.msg, field, msg);
    ASSERT_STR_EQ(p.buf, "spec.ref");
    json_object_put(ref);
}

TEST(kref_rules)
{
    struct sl_res_env env;

    sl_res_env_init(&env);
    kref_expect("{\"kind\":\"K\",\"name\":\"n\",\"apiVersion\":\"v1\"}", &env,
                NULL, NULL, NULL);
    kref_expect("{}", &env, NULL, "spec.ref.name", "missing field(s)");
    kref_expect("{\"name\":\"n\",\"group\":\"g\",\"kind\":\"K\"}", &env, NULL,
                "spec.ref.group", "must not set the field(s)");
    kref_expect("{\"kind\":\"K\",\"name\":\"n\",\"apiVersion\":\"v1\","
                "\"namespace\":\"a\"}",
                &env, "b", "spec.ref.namespace",
                "mismatched namespaces: parent namespace: \"b\" does not "
                "match ref: \"a\"");
    kref_expect("{\"kind\":\"K\",\"name\":\"n\",\"apiVersion\":\"v1\","
                "\"namespace\":\"a\"}",
                &env, "a", NULL, NULL);
    env.kreference_group = true;
    kref_expect("{\"name\":\"n\",\"group\":\"g\",\"kind\":\"K\"}", &env, NULL,
                NULL, NULL);
    kref_expect("{\"name\":\"n\",\"kind\":\"K\"}", &env, NULL,
                "spec.ref.apiVersion", "missing field(s)");
    kref_expect("{\"name\":\"n\",\"group\":\"g\",\"apiVersion\":\"v1\","
                "\"kind\":\"K\"}",
                &env, NULL, "spec.ref.apiVersion",
                "both apiVersion and group are specified");
}

TEST(defaults_fill_namespaces)
{
    struct json_object *dl =
        js("{\"deadLetterSink\":{\"ref\":{\"name\":\"x\"}}}");
    struct json_object *dest =
        js("{\"ref\":{\"name\":\"x\",\"namespace\":\"k\"}}");

    sl_res_delivery_set_defaults(dl, "ns");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(dl, "deadLetterSink.ref.namespace")),
                  "ns");
    sl_res_dest_set_defaults(dest, "ns");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(dest, "ref.namespace")), "k");
    /* NULL and non-objects are ignored. */
    sl_res_dest_set_defaults(NULL, "ns");
    sl_res_delivery_set_defaults(NULL, "ns");
    sl_res_kref_set_defaults(dest, NULL);
    json_object_put(dest);
    json_object_put(dl);
}

TEST(addr_pick)
{
    struct json_object *t = js(
        "{\"status\":{\"address\":{\"url\":\"http://one.ns.svc/\"},"
        "\"addresses\":[{\"name\":\"https\",\"url\":\"https://one.ns.svc/\","
        "\"CACerts\":\"PEM\"},{\"name\":\"http\",\"url\":\"http://one.ns.svc/"
        "\"}]}}");
    struct json_object *only =
        js("{\"status\":{\"address\":{\"url\":\"http://only/\"}}}");
    struct json_object *none = js("{\"status\":{}}");
    struct json_object *nohost =
        js("{\"status\":{\"address\":{\"url\":\"http:///x\"}}}");
    struct json_object *nourl = js("{\"status\":{\"address\":{}}}");
    const struct json_object *a;
    struct sl_diag d;

    ASSERT_OK(sl_res_addr_pick(t, NULL, &a, &d));
    ASSERT_STR_EQ(sl_res_get_str(a, "name"), "https");
    ASSERT_OK(sl_res_addr_pick(t, "http", &a, &d));
    ASSERT_STR_EQ(sl_res_get_str(a, "url"), "http://one.ns.svc/");
    ASSERT_EQ(sl_res_addr_pick(t, "grpc", &a, &d), SL_ENOENT);
    ASSERT(a == NULL);
    ASSERT_STR_EQ(d.msg, "address with name \"grpc\" not found");
    ASSERT_OK(sl_res_addr_pick(only, NULL, &a, &d));
    ASSERT_STR_EQ(sl_res_get_str(a, "url"), "http://only/");
    ASSERT_OK(sl_res_addr_pick(only, "", &a, &d));
    ASSERT_EQ(sl_res_addr_pick(only, "x", &a, &d), SL_ENOENT);
    ASSERT_EQ(sl_res_addr_pick(none, NULL, &a, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.msg, "address not set");
    ASSERT_EQ(sl_res_addr_pick(nohost, NULL, &a, &d), SL_ENOENT);
    ASSERT(strstr(d.msg, "hostname missing") != NULL);
    ASSERT_EQ(sl_res_addr_pick(nourl, NULL, &a, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.msg, "URL missing in address");
    ASSERT_EQ(sl_res_addr_pick(NULL, NULL, &a, &d), SL_ENOENT);
    json_object_put(nourl);
    json_object_put(nohost);
    json_object_put(none);
    json_object_put(only);
    json_object_put(t);
}

TEST(dest_resolve)
{
    struct json_object *target = js(
        "{\"status\":{\"address\":{\"url\":\"http://svc.ns.localhost/base/\","
        "\"CACerts\":\"T-PEM\",\"audience\":\"t-aud\"}}}");
    struct json_object *d1 = js("{\"ref\":{\"name\":\"svc\"},\"uri\":"
                                "\"my-custom-path?x=1\"}");
    struct json_object *d2 = js("{\"ref\":{\"name\":\"svc\"},\"CACerts\":"
                                "\"D-PEM\",\"audience\":\"d-aud\"}");
    struct json_object *d3 = js("{\"uri\":\"https://ext.example.com/in\","
                                "\"audience\":\"ext\"}");
    struct json_object *d4 = js("{\"uri\":\"/rel\"}");
    struct json_object *d5 = js("{\"ref\":{\"name\":\"svc\"},\"uri\":"
                                "\"http://abs/\"}");
    struct json_object *d6 = js("{\"ref\":{\"name\":\"svc\",\"address\":"
                                "\"nope\"}}");
    struct json_object *d7 = js("{}");
    struct sl_res_addr a;
    struct sl_diag d;

    ASSERT_OK(sl_res_dest_resolve(d1, target, &a, &d));
    ASSERT_STR_EQ(a.url, "http://svc.ns.localhost/base/my-custom-path?x=1");
    ASSERT_STR_EQ(a.ca_certs, "T-PEM");
    ASSERT_STR_EQ(a.audience, "t-aud");
    sl_res_addr_fini(&a);
    ASSERT_OK(sl_res_dest_resolve(d2, target, &a, &d));
    ASSERT_STR_EQ(a.url, "http://svc.ns.localhost/base/");
    ASSERT_STR_EQ(a.ca_certs, "D-PEM");
    ASSERT_STR_EQ(a.audience, "d-aud");
    sl_res_addr_fini(&a);
    /* Without a ref the target is not needed. */
    ASSERT_OK(sl_res_dest_resolve(d3, NULL, &a, &d));
    ASSERT_STR_EQ(a.url, "https://ext.example.com/in");
    ASSERT(a.ca_certs == NULL);
    ASSERT_STR_EQ(a.audience, "ext");
    sl_res_addr_fini(&a);
    ASSERT_EQ(sl_res_dest_resolve(d4, NULL, &a, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "URI is not absolute") != NULL);
    ASSERT(a.url == NULL);
    ASSERT_EQ(sl_res_dest_resolve(d5, target, &a, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "absolute URI is not allowed") != NULL);
    ASSERT_EQ(sl_res_dest_resolve(d6, target, &a, &d), SL_ENOENT);
    ASSERT_EQ(sl_res_dest_resolve(d1, NULL, &a, &d), SL_ENOENT);
    ASSERT_EQ(sl_res_dest_resolve(d7, NULL, &a, &d), SL_EINVAL);
    sl_res_addr_fini(&a);
    sl_res_addr_fini(NULL);
    json_object_put(d7);
    json_object_put(d6);
    json_object_put(d5);
    json_object_put(d4);
    json_object_put(d3);
    json_object_put(d2);
    json_object_put(d1);
    json_object_put(target);
}

TEST(filter_validate_direct)
{
    struct json_object *f = js("[{\"not\":{\"all\":[{\"exact\":{\"a\":\"b\"}},"
                               "{\"any\":[{\"prefix\":{\"a\":\"b\"},"
                               "\"suffix\":{\"a\":\"c\"}}]}]}}]");
    struct sl_res_path p;
    struct sl_diag d;

    sl_res_path_init(&p, "spec.filters");
    ASSERT_EQ(sl_res_filters_validate(f, &p, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "spec.filters[0].not.all[1].any[0]");
    ASSERT_STR_EQ(p.buf, "spec.filters");
    /* Not an array: nothing to check. */
    ASSERT_OK(sl_res_filters_validate(NULL, &p, &d));
    ASSERT_EQ(sl_res_check_attr_name("a1", &d), 0);
    ASSERT_EQ(sl_res_check_attr_name("", &d), SL_EINVAL);
    ASSERT_EQ(sl_res_check_attr_name("a-b", &d), SL_EINVAL);
    json_object_put(f);
}

TEST_MAIN()
