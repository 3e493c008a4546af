/*
 * test/unit/resource_core_test.c - the core kinds: Namespace, ConfigMap
 * and Secret. System fields round-trip untouched, Secret stringData is
 * merged into data, keys and sizes are checked, `immutable` freezes data.
 */
#include "test/unit/check.h"

#include "resource/resource.h"
#include "test/unit/resource_fixture.h"

#define CM_HEAD  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
#define SEC_HEAD "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
#define NS_HEAD  "apiVersion: v1\nkind: Namespace\nmetadata:\n"

TEST(core_kinds_round_trip)
{
    fx_round_trip("core", NULL);
}

TEST(namespace_rules)
{
    fx_fail(NS_HEAD "  name: my.ns\n", "metadata.name",
            "invalid value \"my.ns\": a lowercase RFC 1123 label");
    fx_fail(NS_HEAD "  name: n\n  namespace: x\n", "metadata.namespace",
            "not allowed on this type: Namespace is cluster-scoped");
    fx_fail(NS_HEAD "  name: n\nspec:\n  finalizers: [1]\n",
            "spec.finalizers[0]", "expected string, got integer");
    fx_fail(NS_HEAD "  name: n\ndata: {}\n", "data", "unknown field \"data\"");
    {
        /* Cluster-scoped: no namespace is defaulted. */
        struct json_object *o = fx_yaml(NS_HEAD "  name: n\n");
        fx_admit_ok(o, NULL, NULL);
        ASSERT(sl_res_dig(o, "metadata.namespace") == NULL);
        json_object_put(o);
    }
}

TEST(configmap_rules)
{
    fx_fail(CM_HEAD "data:\n  bad/key: x\n", "data[bad/key]",
            "invalid key \"bad/key\": a valid config key");
    fx_fail(CM_HEAD "data:\n  ..x: x\n", "data[..x]",
            "must not be '.' or '..'");
    fx_fail(CM_HEAD "data:\n  n: 1\n", "data[n]",
            "expected string, got integer");
    fx_fail(CM_HEAD "binaryData:\n  b: not base64!\n", "binaryData[b]",
            "invalid value: invalid Base64");
    fx_fail(CM_HEAD "data:\n  k: x\nbinaryData:\n  k: eA==\n", "binaryData[k]",
            "duplicate of key present in data");
    fx_fail(CM_HEAD "immutable: \"true\"\n", "immutable",
            "expected boolean, got string");
    fx_fail(CM_HEAD "spec: {}\n", "spec", "unknown field \"spec\"");
}

TEST(configmap_size_limit)
{
    struct json_object *cm = fx_yaml(CM_HEAD);
    struct json_object *data = json_object_new_object();
    struct sl_diag d;
    char *big = sl_xmalloc(600 * 1024 + 1);

    memset(big, 'x', 600 * 1024);
    big[600 * 1024] = '\0';
    json_object_object_add(data, "a", json_object_new_string(big));
    json_object_object_add(cm, "data", data);
    fx_admit_ok(cm, NULL, NULL);
    json_object_object_add(data, "b", json_object_new_string(big));
    ASSERT_EQ(sl_res_admit(cm, NULL, NULL, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "data");
    ASSERT(strstr(d.msg, "must have at most 1048576 bytes") != NULL);
    sl_free(big);
    json_object_put(cm);
}

TEST(configmap_immutable)
{
    static const char old[] = CM_HEAD "data:\n  k: v\nimmutable: true\n";
    struct json_object *o, *n;

    fx_fail_env(CM_HEAD "data:\n  k: w\nimmutable: true\n", old, NULL, "data",
                "field is immutable when `immutable` is set");
    fx_fail_env(CM_HEAD "data:\n  k: v\n", old, NULL, "immutable",
                "field is immutable when `immutable` is set");
    fx_fail_env(CM_HEAD "data:\n  k: v\nbinaryData:\n  b: eA==\n"
                        "immutable: true\n",
                old, NULL, "binaryData",
                "field is immutable when `immutable` is set");
    /* Labels may still change; a mutable ConfigMap may become immutable. */
    o = fx_yaml(old);
    fx_admit_ok(o, NULL, NULL);
    n = fx_yaml(CM_HEAD "  labels: {a: b}\ndata:\n  k: v\nimmutable: true\n");
    fx_admit_ok(n, o, NULL);
    json_object_put(n);
    json_object_put(o);
    o = fx_yaml(CM_HEAD "data:\n  k: v\n");
    fx_admit_ok(o, NULL, NULL);
    n = fx_yaml(CM_HEAD "data:\n  k: w\nimmutable: true\n");
    fx_admit_ok(n, o, NULL);
    json_object_put(n);
    json_object_put(o);
}

TEST(secret_defaults)
{
    struct json_object *s;

    /* stringData wins over data for the same key, then disappears; type
     * defaults to Opaque; wrapped Base64 is rewritten canonical. */
    s = fx_yaml(SEC_HEAD "data:\n  a: \"eA\\n==\"\n  b: eQ==\n"
                         "stringData:\n  b: zz\n  c: \"\"\n");
    fx_admit_ok(s, NULL, NULL);
    ASSERT_STR_EQ(sl_res_get_str(s, "type"), "Opaque");
    ASSERT(sl_res_get(s, "stringData") == NULL);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(s, "data.a")), "eA==");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(s, "data.b")), "eno=");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(s, "data.c")), "");
    json_object_put(s);
    s = fx_yaml(SEC_HEAD "stringData:\n  k: v\n");
    fx_admit_ok(s, NULL, NULL);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(s, "data.k")), "dg==");
    json_object_put(s);
}

TEST(secret_rules)
{
    fx_fail(SEC_HEAD "data:\n  k: \"a===\"\n", "data[k]",
            "invalid value: invalid Base64");
    fx_fail(SEC_HEAD "stringData:\n  k k: v\n", "stringData[k k]",
            "a valid config key");
    fx_fail(SEC_HEAD "type: kubernetes.io/tls\ndata:\n  tls.crt: eA==\n",
            "data[tls.key]", "missing field(s)");
    fx_fail(SEC_HEAD "type: kubernetes.io/basic-auth\ndata: {}\n", "data",
            "one of \"username\", \"password\" is required");
    fx_fail(SEC_HEAD "type: kubernetes.io/service-account-token\n",
            "metadata.annotations[kubernetes.io/service-account.name]",
            "missing field(s)");
    fx_ok(SEC_HEAD "type: kubernetes.io/tls\nstringData:\n  tls.crt: c\n"
                   "  tls.key: k\n");
    fx_ok(SEC_HEAD "type: example.com/custom\n");
}

TEST(secret_immutable)
{
    fx_fail_env(SEC_HEAD "type: example.com/other\n", SEC_HEAD, NULL, "type",
                "immutable field changed (-old +new): -\"Opaque\" "
                "+\"example.com/other\"");
    fx_fail_env(SEC_HEAD "stringData: {k: w}\nimmutable: true\n",
                SEC_HEAD "stringData: {k: v}\nimmutable: true\n", NULL, "data",
                "field is immutable when `immutable` is set");
    /* Writing the same value through stringData is no change. */
    {
        struct json_object *o = fx_yaml(SEC_HEAD "data: {k: dg==}\n"
                                                 "immutable: true\n");
        struct json_object *n = fx_yaml(SEC_HEAD "stringData: {k: v}\n"
                                                 "immutable: true\n");
        fx_admit_ok(o, NULL, NULL);
        fx_admit_ok(n, o, NULL);
        json_object_put(n);
        json_object_put(o);
    }
}

TEST_MAIN()
