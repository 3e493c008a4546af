/*
 * test/unit/resource_meta_test.c - the generic admission steps: finding
 * the kind, metadata names and generateName, namespace defaulting, label
 * and annotation syntax and size, system fields, and the accessors.
 */
#include "test/unit/check.h"

#include "resource/meta.h"
#include "resource/resource.h"
#include "test/unit/resource_fixture.h"

#define CM "apiVersion: v1\nkind: ConfigMap\n"

TEST(admit_finds_the_kind)
{
    struct sl_diag d;
    struct json_object *o;
    const struct sl_res_kind *k = (const struct sl_res_kind *)&k;

    fx_fail("kind: Broker\nmetadata: {name: b}\n", "apiVersion",
            "apiVersion not set");
    fx_fail("apiVersion: v1\nmetadata: {name: b}\n", "kind", "kind not set");
    fx_fail("apiVersion: 1\nkind: Broker\n", "apiVersion",
            "expected string, got integer");
    fx_fail("apiVersion: v1\nkind: [Broker]\n", "kind",
            "expected string, got array");
    fx_fail("apiVersion: eventing.knative.dev/v2\nkind: Broker\n", "kind",
            "no matches for kind \"Broker\" in version "
            "\"eventing.knative.dev/v2\"");
    fx_fail("apiVersion: v1\nkind: Broker\n", "kind",
            "no matches for kind \"Broker\" in version \"v1\"");
    fx_fail("apiVersion: eventing.knative.dev/v1\nkind: broker\n", "kind",
            "no matches for kind \"broker\"");

    /* Not an object at all; the kind out-param is cleared. */
    o = json_object_new_array();
    ASSERT_EQ(sl_res_admit(o, NULL, NULL, &k, &d), SL_EINVAL);
    ASSERT(k == NULL);
    ASSERT_STR_EQ(d.msg, "expected a resource object, got array");
    json_object_put(o);

    /* The kind is reported even when a later step fails. */
    o = fx_yaml(CM "metadata: {}\n");
    ASSERT_EQ(sl_res_admit(o, NULL, NULL, &k, &d), SL_EINVAL);
    ASSERT(k == sl_res_kind_find("v1", "ConfigMap"));
    ASSERT_EQ(sl_res_admit(o, NULL, NULL, NULL, NULL), SL_EINVAL);
    json_object_put(o);
}

TEST(metadata_names)
{
    fx_fail(CM, "metadata.name", "name or generateName is required");
    fx_fail(CM "metadata: null\n", "metadata.name",
            "name or generateName is required");
    fx_fail(CM "metadata: {name: \"\"}\n", "metadata.name",
            "name or generateName is required");
    fx_fail(CM "metadata: {name: My_Config}\n", "metadata.name",
            "invalid value \"My_Config\": a lowercase RFC 1123 subdomain");
    fx_fail(CM "metadata: []\n", "metadata", "expected object, got array");
    fx_fail(CM "metadata: {generateName: \"Bad-\"}\n", "metadata.generateName",
            "RFC 1123 subdomain");
    fx_ok(CM "metadata: {generateName: cfg-}\n");
    fx_ok(CM "metadata: {name: a.b.c-1}\n");
    {
        char yaml[400];
        snprintf(yaml, sizeof(yaml), CM "metadata: {name: \"%0254d\"}\n", 0);
        fx_fail(yaml, "metadata.name", "must be no more than 253 characters");
    }
}

TEST(metadata_namespace)
{
    struct sl_res_env env;
    struct json_object *o;

    o = fx_yaml(CM "metadata: {name: c}\n");
    fx_admit_ok(o, NULL, NULL);
    ASSERT_STR_EQ(sl_res_meta_namespace(o), "default");
    json_object_put(o);
    o = fx_yaml(CM "metadata: {name: c, namespace: \"\"}\n");
    fx_admit_ok(o, NULL, NULL);
    ASSERT_STR_EQ(sl_res_meta_namespace(o), "default");
    json_object_put(o);
    fx_fail(CM "metadata: {name: c, namespace: Team.A}\n", "metadata.namespace",
            "a lowercase RFC 1123 label");
    fx_fail(CM "metadata: {name: c, namespace: 7}\n", "metadata.namespace",
            "expected string, got integer");
    sl_res_env_init(&env);
    env.default_namespace = NULL;
    fx_fail_env(CM "metadata: {name: c}\n", NULL, &env, "metadata.namespace",
                "missing field(s)");
}

TEST(metadata_labels_and_annotations)
{
    fx_fail(CM "metadata:\n  name: c\n  labels: {\"a b\": x}\n",
            "metadata.labels[a b]", "invalid key \"a b\"");
    fx_fail(CM "metadata:\n  name: c\n  labels: {app: \"two words\"}\n",
            "metadata.labels[app]", "a valid label must be an empty string");
    fx_fail(CM "metadata:\n  name: c\n  labels: {app: true}\n",
            "metadata.labels[app]", "expected string, got boolean");
    fx_fail(CM "metadata:\n  name: c\n  annotations: {x: 1}\n",
            "metadata.annotations[x]", "expected string, got integer");
    fx_fail(CM "metadata:\n  name: c\n  annotations: {\"a/b/c\": x}\n",
            "metadata.annotations[a/b/c]", "qualified name");
    /* Annotation keys are checked lower-cased; values are free. */
    fx_ok(CM "metadata:\n  name: c\n  labels: {app.kubernetes.io/name: "
             "x-1, empty: \"\"}\n  annotations: {Example.COM/Key: \"any "
             "text: {}\"}\n");
    {
        struct json_object *o = fx_yaml(CM "metadata:\n  name: c\n");
        struct json_object *ann = json_object_new_object();
        struct sl_diag d;
        char *big = sl_xmalloc(200 * 1024 + 1);
        memset(big, 'v', 200 * 1024);
        big[200 * 1024] = '\0';
        json_object_object_add(ann, "a", json_object_new_string(big));
        json_object_object_add(sl_res_get(o, "metadata"), "annotations", ann);
        fx_admit_ok(o, NULL, NULL);
        json_object_object_add(ann, "b", json_object_new_string(big));
        ASSERT_EQ(sl_res_admit(o, NULL, NULL, NULL, &d), SL_EINVAL);
        ASSERT_STR_EQ(d.field, "metadata.annotations");
        ASSERT(strstr(d.msg, "at most 262144 bytes") != NULL);
        sl_free(big);
        json_object_put(o);
    }
}

TEST(metadata_system_fields)
{
    static const char yaml[] =
        CM "metadata:\n  name: c\n  namespace: n\n"
           "  uid: 6d1b6e1e-0c1c-4f0a-9d1a-3c9a0a1b2c3d\n"
           "  resourceVersion: \"12\"\n  generation: 3\n"
           "  creationTimestamp: \"2026-06-01T10:00:00Z\"\n"
           "  deletionTimestamp: \"2026-06-02T10:00:00.5+02:00\"\n"
           "  deletionGracePeriodSeconds: 30\n"
           "  selfLink: /api/v1/namespaces/n/configmaps/c\n"
           "  finalizers: [example.com/keep]\n"
           "  managedFields: [{manager: kubectl, fieldsV1: {f:data: {}}}]\n"
           "  ownerReferences:\n"
           "    - {apiVersion: v1, kind: Namespace, name: n, uid: u}\n"
           "status: {anything: [1, 2]}\n";
    struct json_object *o = fx_yaml(yaml), *copy = fx_copy(o);

    fx_admit_ok(o, NULL, NULL);
    fx_expect_equal(o, copy, "system fields");
    ASSERT_EQ(sl_res_meta_generation(o), 3);
    json_object_put(copy);
    json_object_put(o);
    fx_fail(CM "metadata:\n  name: c\n  creationTimestamp: yesterday\n",
            "metadata.creationTimestamp", "invalid value \"yesterday\"");
    fx_fail(CM "metadata:\n  name: c\n  ownerReferences: [{kind: K}]\n",
            "metadata.ownerReferences[0].apiVersion", "missing field(s)");
    fx_fail(CM "metadata:\n  name: c\n  generation: \"3\"\n",
            "metadata.generation", "expected integer, got string");
    fx_fail(CM "metadata:\n  name: c\n  clusterName: x\n",
            "metadata.clusterName", "unknown field \"metadata.clusterName\"");
}

TEST(metadata_accessors)
{
    struct json_object *o = fx_yaml(CM "metadata: {name: c}\n");
    struct json_object *arr = json_object_new_array();

    ASSERT_STR_EQ(sl_res_meta_name(o), "c");
    ASSERT(sl_res_meta_namespace(o) == NULL);
    ASSERT(sl_res_meta_label(o, "a") == NULL);
    ASSERT_EQ(sl_res_meta_generation(o), 0);
    sl_res_meta_set_label(o, "a", "1");
    sl_res_meta_set_annotation(o, "b", "2");
    sl_res_meta_set_label(o, "a", "3");
    ASSERT_STR_EQ(sl_res_meta_label(o, "a"), "3");
    ASSERT_STR_EQ(sl_res_meta_annotation(o, "b"), "2");
    /* Not an object: nothing happens. */
    sl_res_meta_set_label(arr, "a", "1");
    ASSERT_EQ(json_object_array_length(arr), 0);
    ASSERT(sl_res_meta_name(arr) == NULL);
    json_object_put(arr);
    json_object_put(o);
}

TEST_MAIN()
