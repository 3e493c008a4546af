/*
 * test/unit/resource_trigger_test.c - Trigger admission: documented
 * examples with defaults, broker/brokerRef, legacy filter and Subscriptions
 * API filters (paths into nested arrays), subscriber Destination rules,
 * delivery feature flags, the annotations Knative validates, unknown
 * fields at several depths, and spec.broker immutability.
 */
#include "test/unit/check.h"

#include "resource/duck.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "test/unit/resource_fixture.h"

#define TRIGGER_HEAD                                       \
    "apiVersion: eventing.knative.dev/v1\nkind: Trigger\n" \
    "metadata:\n  name: t\n  namespace: ns\n"

#define SUB_URI "  subscriber:\n    uri: http://sink.example.com/\n"

/* A self-signed test certificate (no key kept anywhere), indented for a
 * YAML block scalar under "CACerts: |". */
#define TEST_CERT                                                              \
    "      -----BEGIN CERTIFICATE-----\n"                                      \
    "      MIIBgTCCASegAwIBAgIUGWcfM0ZCMYODrg/F4rHWcqFqRKUwCgYIKoZIzj0EAwIw\n" \
    "      FjEUMBIGA1UEAwwLc2x1aWNlLXRlc3QwHhcNMjYxMTI3MDIwMzUxWhcNMzYxMTI0\n" \
    "      MDIwMzUxWjAWMRQwEgYDVQQDDAtzbHVpY2UtdGVzdDBZMBMGByqGSM49AgEGCCqG\n" \
    "      SM49AwEHA0IABFyGwoy65HB88/DoYkE/XuWNC+WF0WftAfDyhdQuBUOpsVyhN5sc\n" \
    "      t8D4U6+sBG5S2FGolQYINScGViJDwEGcUH2jUzBRMB0GA1UdDgQWBBTZmjyW2iQR\n" \
    "      1Ert4PzE7SsYFVjUAjAfBgNVHSMEGDAWgBTZmjyW2iQR1Ert4PzE7SsYFVjUAjAP\n" \
    "      BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDvaTBN6eHhHze/8rkO\n" \
    "      9KUZf5xT+3PZ+Q4cUbcbOxel7wIgC1U/RO6+2GjHgzQoI1WCYNIywhfXDYttCp8M\n" \
    "      dmD8jk0=\n"                                                         \
    "      -----END CERTIFICATE-----\n"

TEST(trigger_documented_examples_round_trip)
{
    fx_round_trip("trigger-attributes", NULL);
    fx_round_trip("trigger-filters", NULL);
    fx_round_trip("trigger-delivery", NULL);
}

TEST(trigger_docs_conflict_is_rejected)
{
    struct json_object *docs = fx_load("trigger-filters-docs-conflict.yaml");
    struct sl_diag d;

    ASSERT_EQ(
        sl_res_admit(json_object_array_get_idx(docs, 0), NULL, NULL, NULL, &d),
        SL_EINVAL);
    ASSERT_STR_EQ(d.field, "spec.filters[0]");
    ASSERT_STR_EQ(d.msg, "multiple dialects found, filters can have only one "
                         "dialect set");
    json_object_put(docs);
}

TEST(trigger_defaults)
{
    struct json_object *t;

    /* A null filter (YAML "filter:") is absent and defaulted to {}; the
     * broker label overrides whatever the user wrote. */
    t = fx_yaml(TRIGGER_HEAD
                "  labels:\n"
                "    eventing.knative.dev/broker: other\n"
                "spec:\n  broker: b\n  filter:\n  delivery:\n" SUB_URI);
    fx_admit_ok(t, NULL, NULL);
    ASSERT(json_object_is_type(sl_res_dig(t, "spec.filter"), json_type_object));
    ASSERT_EQ(json_object_object_length(sl_res_dig(t, "spec.filter")), 0);
    ASSERT(!json_object_object_get_ex(sl_res_get(t, "spec"), "delivery", NULL));
    ASSERT_STR_EQ(sl_res_meta_label(t, "eventing.knative.dev/broker"), "b");
    json_object_put(t);

    /* A given filter is kept; a brokerRef sets no label. */
    t = fx_yaml(TRIGGER_HEAD
                "spec:\n  brokerRef:\n    apiVersion: "
                "eventing.knative.dev/v1\n    kind: Broker\n"
                "    name: b\n  filter:\n    attributes: {}\n" SUB_URI);
    fx_admit_ok(t, NULL, NULL);
    ASSERT(sl_res_dig(t, "spec.filter.attributes") != NULL);
    ASSERT(sl_res_meta_label(t, "eventing.knative.dev/broker") == NULL);
    ASSERT(sl_res_dig(t, "spec.brokerRef.namespace") == NULL);
    json_object_put(t);
}

TEST(trigger_broker_rules)
{
    struct sl_res_env env;

    /* The defaulted broker label must be a valid label value (found by
     * fuzz_resource: the label failed only on the second admission). */
    fx_fail(TRIGGER_HEAD "spec:\n  broker: defa$lt\n" SUB_URI,
            "metadata.labels[eventing.knative.dev/broker]",
            "invalid value \"defa$lt\": a valid label must be");

    fx_fail(TRIGGER_HEAD "spec:\n" SUB_URI, "spec.broker", "missing field(s)");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: \"\"\n" SUB_URI, "spec.broker",
            "missing field(s)");
    fx_fail(TRIGGER_HEAD, "spec.broker", "missing field(s)");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  brokerRef:\n    name: b\n"
                         "    kind: Broker\n    apiVersion: "
                         "eventing.knative.dev/v1\n" SUB_URI,
            "spec.brokerRef", "expected exactly one, got both");
    fx_fail(TRIGGER_HEAD "spec:\n  brokerRef:\n    name: b\n" SUB_URI,
            "spec.brokerRef.apiVersion", "missing field(s)");
    fx_fail(TRIGGER_HEAD "spec:\n  brokerRef:\n    name: b\n    kind: Broker\n"
                         "    apiVersion: eventing.knative.dev/v1\n"
                         "    namespace: other\n" SUB_URI,
            "spec.brokerRef.namespace", "must not set the field(s)");
    sl_res_env_init(&env);
    env.cross_namespace_event_links = true;
    {
        struct json_object *t =
            fx_yaml(TRIGGER_HEAD "spec:\n  brokerRef:\n    name: b\n"
                                 "    kind: Broker\n    apiVersion: "
                                 "eventing.knative.dev/v1\n"
                                 "    namespace: other\n" SUB_URI);
        fx_admit_ok(t, NULL, &env);
        json_object_put(t);
    }
}

TEST(trigger_filter_rules)
{
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filter:\n    attributes:\n"
                         "      Type: x\n" SUB_URI,
            "spec.filter.attributes[Type]",
            "invalid key name \"Type\": attribute name must start with a "
            "letter and can only contain lowercase alphanumeric");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filter:\n    attributes:\n"
                         "      type: 3\n" SUB_URI,
            "spec.filter.attributes[type]", "expected string, got integer");
    fx_fail(TRIGGER_HEAD
            "spec:\n  broker: b\n  filter:\n    exact: {}\n" SUB_URI,
            "spec.filter.exact", "unknown field \"spec.filter.exact\"");
    /* Subscriptions API: element paths through nesting. */
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n"
                         "    - exact: {type: a}\n    - prefix: {type: a}\n"
                         "    - exact: {9lives: x}\n" SUB_URI,
            "spec.filters[2].exact[9lives]", "invalid key name \"9lives\"");
    fx_fail(TRIGGER_HEAD
            "spec:\n  broker: b\n  filters:\n"
            "    - exact: {type: a}\n"
            "    - all:\n        - not:\n            exact: {a: b}\n"
            "          prefix: {a: b}\n" SUB_URI,
            "spec.filters[1].all[0]", "multiple dialects found");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n"
                         "    - any:\n        - exact: {a: b}\n"
                         "        - not:\n            suffix: {a: b}\n"
                         "            cesql: \"a = 'b'\"\n" SUB_URI,
            "spec.filters[0].any[1].not", "multiple dialects found");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n"
                         "    - exact: [a]\n" SUB_URI,
            "spec.filters[0].exact", "expected object, got array");
    fx_fail(TRIGGER_HEAD
            "spec:\n  broker: b\n  filters:\n"
            "    - any:\n        - {}\n        - prefix: {x: 1}\n" SUB_URI,
            "spec.filters[0].any[1].prefix[x]", "expected string, got integer");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n"
                         "    - all:\n        - exactt: {x: y}\n" SUB_URI,
            "spec.filters[0].all[0].exactt",
            "unknown field \"spec.filters[0].all[0].exactt\"");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n    - null\n" SUB_URI,
            "spec.filters[0]", "expected object, got null");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filters: {}\n" SUB_URI,
            "spec.filters", "expected array, got object");
    /* Allowed: several keys in one exact (all must match), empty lists,
     * an empty element, empty values, cesql beside empty dialects. */
    fx_ok(TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n"
                       "    - exact: {type: a, source: b}\n    - all: []\n"
                       "    - {}\n    - prefix: {type: \"\"}\n"
                       "    - cesql: \"true\"\n      exact: {}\n" SUB_URI);
}

/* A stand-in CESQL checker: rejects expressions containing "(". */
static int fake_cesql(const char *expr, struct sl_diag *d)
{
    if (strchr(expr, '(') != NULL)
        return sl_diag_set(d, SL_EINVAL, NULL, "unexpected '(' at 0");
    return 0;
}

TEST(trigger_cesql_hook)
{
    static const char yaml[] =
        TRIGGER_HEAD "spec:\n  broker: b\n  filters:\n    - not:\n        "
                     "cesql: \"f(\"\n" SUB_URI;

    /* Without a parser every expression is accepted. */
    ASSERT(sl_res_cesql_check == NULL);
    fx_ok(yaml);
    sl_res_cesql_check = fake_cesql;
    fx_fail(yaml, "spec.filters[0].not.cesql",
            "invalid value \"f(\": unexpected '(' at 0");
    sl_res_cesql_check = NULL;
}

TEST(trigger_subscriber_rules)
{
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n", "spec.subscriber",
            "expected at least one, got none");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber: {}\n",
            "spec.subscriber", "expected at least one, got none");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n    uri: /x\n",
            "spec.subscriber.uri",
            "invalid value \"/x\": relative URI is not allowed when ref is "
            "absent");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: \"http:///nohost\"\n",
            "spec.subscriber.uri", "relative URI is not allowed");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: http://a b/\n",
            "spec.subscriber.uri",
            "invalid value \"http://a b/\": invalid character ' ' in host at "
            "offset 8");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    ref: {apiVersion: v1, kind: Service, name: s}\n"
                         "    uri: http://a/\n",
            "spec.subscriber.uri",
            "absolute URI is not allowed when ref is present");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    ref: {apiVersion: v1, name: s}\n    uri: /p\n",
            "spec.subscriber.ref.kind", "missing field(s)");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: http://a/\n    CACerts: nonsense\n",
            "spec.subscriber.CACerts",
            "invalid value: CA certificate provided is invalid");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: http://a/\n    CACerts: |\n"
                         "      -----BEGIN PRIVATE KEY-----\n"
                         "      MAA=\n      -----END PRIVATE KEY-----\n",
            "spec.subscriber.CACerts", "is not a certificate");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: http://a/\n    CACerts: |\n"
                         "      -----BEGIN CERTIFICATE-----\n"
                         "      !!!!\n      -----END CERTIFICATE-----\n",
            "spec.subscriber.CACerts", "is invalid");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                         "    uri: http://a/\n    caCerts: x\n",
            "spec.subscriber.caCerts",
            "unknown field \"spec.subscriber.caCerts\"");
    /* A real PEM certificate, an audience, a ref namespace elsewhere. */
    fx_ok(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                       "    uri: https://a:8443/x\n    audience: a\n"
                       "    CACerts: |\n" TEST_CERT);
    fx_ok(TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                       "    ref: {apiVersion: v1, kind: Service, name: s, "
                       "namespace: other, address: http}\n");
}

TEST(trigger_delivery_flags)
{
    struct sl_res_env env;

    sl_res_env_init(&env);
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                         "    timeout: PT0S\n" SUB_URI,
            "spec.delivery.timeout",
            "invalid value \"PT0S\": must not be zero");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                         "    timeout: 10s\n" SUB_URI,
            "spec.delivery.timeout", "invalid value \"10s\"");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                         "    retryAfterMax: PT10S\n" SUB_URI,
            "spec.delivery.retryAfterMax", "must not set the field(s)");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                         "    format: xml\n" SUB_URI,
            "spec.delivery.format",
            "invalid value \"xml\": expected one of \"json\", \"binary\"");
    env.delivery_timeout = false;
    fx_fail_env(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                             "    timeout: PT1S\n" SUB_URI,
                NULL, &env, "spec.delivery.timeout",
                "must not set the field(s)");
    env.delivery_retryafter = true;
    fx_fail_env(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                             "    retryAfterMax: -PT1S\n" SUB_URI,
                NULL, &env, "spec.delivery.retryAfterMax",
                "must not be negative");
    {
        struct json_object *t =
            fx_yaml(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                                 "    retryAfterMax: PT0S\n    format: json\n"
                                 "    retry: 0\n" SUB_URI);
        fx_admit_ok(t, NULL, &env);
        json_object_put(t);
    }
}

TEST(trigger_annotations)
{
#define ANN(v) TRIGGER_HEAD "  annotations:\n" v "spec:\n  broker: b\n" SUB_URI
#define DEP    "metadata.annotations[knative.dev/dependency]"
    fx_fail(ANN("    knative.dev/dependency: not-json\n"), DEP,
            "the provided annotation was not a corev1.ObjectReference: "
            "\"not-json\"");
    fx_fail(ANN("    knative.dev/dependency: '[1]'\n"), DEP,
            "was not a corev1.ObjectReference");
    fx_fail(ANN("    knative.dev/dependency: '{\"name\": 1}'\n"), DEP,
            "was not a corev1.ObjectReference");
    fx_fail(ANN("    knative.dev/dependency: '{\"kind\":\"K\"} x'\n"), DEP,
            "was not a corev1.ObjectReference");
    fx_fail(
        ANN("    knative.dev/dependency: '{\"kind\":\"K\",\"name\":\"n\"}'\n"),
        DEP ".apiVersion", "missing field(s)");
    fx_fail(ANN("    knative.dev/dependency: '{\"name\":\"n\"}'\n"),
            DEP ".kind", "missing field(s)");
    fx_fail(ANN("    knative.dev/dependency: '{\"kind\":\"K\",\"name\":\"n\","
                "\"apiVersion\":\"v\",\"namespace\":\"x\"}'\n"),
            DEP ".namespace",
            "namespace must be empty or equal to the trigger namespace \"ns\"");
    fx_ok(ANN("    knative.dev/dependency: '{\"kind\":\"K\",\"name\":\"n\","
              "\"apiVersion\":\"v\",\"namespace\":\"ns\",\"extra\":[1]}'\n"));
    fx_fail(ANN("    eventing.knative.dev/injection: maybe\n"),
            "metadata.annotations[eventing.knative.dev/injection]",
            "can only be \"enabled\" or \"disabled\", not \"maybe\"");
    fx_fail(ANN("    eventing.knative.dev/injection: enabled\n"),
            "metadata.annotations[eventing.knative.dev/injection]",
            "only used for default broker, but non-default broker specified "
            "here: \"b\"");
    fx_ok(TRIGGER_HEAD "  annotations:\n"
                       "    eventing.knative.dev/injection: disabled\n"
                       "spec:\n  broker: default\n" SUB_URI);
    fx_fail(ANN("    kafka.eventing.knative.dev/delivery.order: sorted\n"),
            "metadata.annotations[kafka.eventing.knative.dev/delivery.order]",
            "invalid value \"sorted\"");
    /* sluice's and anyone's own annotations pass untouched. */
    fx_ok(ANN("    sluice.dev/backend: embedded\n    Example.COM/x: \"{}\"\n"));
    fx_fail(ANN("    bad key: x\n"), "metadata.annotations[bad key]",
            "invalid key \"bad key\"");
#undef ANN
#undef DEP
}

TEST(trigger_unknown_fields_at_depth)
{
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  filtre: {}\n" SUB_URI,
            "spec.filtre", "unknown field \"spec.filtre\"");
    fx_fail(
        TRIGGER_HEAD "spec:\n  broker: b\n  subscriber:\n"
                     "    ref: {apiVersion: v1, kind: S, name: s, nme: x}\n",
        "spec.subscriber.ref.nme", "unknown field \"spec.subscriber.ref.nme\"");
    fx_fail(TRIGGER_HEAD "spec:\n  broker: b\n  delivery:\n"
                         "    deadLetterSink:\n      uri: http://a/\n"
                         "      ref2: {}\n" SUB_URI,
            "spec.delivery.deadLetterSink.ref2",
            "unknown field \"spec.delivery.deadLetterSink.ref2\"");
    fx_fail(TRIGGER_HEAD "Spec: {}\n", "Spec", "unknown field \"Spec\"");
    fx_fail(TRIGGER_HEAD "spec: []\n", "spec", "expected object, got array");
}

TEST(trigger_immutable_broker)
{
    static const char old[] = TRIGGER_HEAD "spec:\n  broker: b\n" SUB_URI;
    struct json_object *o, *n;

    fx_fail_env(TRIGGER_HEAD "spec:\n  broker: c\n" SUB_URI, old, NULL,
                "spec.broker",
                "immutable fields changed (-old +new): -\"b\" +\"c\"");
    /* Filters and subscriber may change. */
    o = fx_yaml(old);
    fx_admit_ok(o, NULL, NULL);
    n = fx_yaml(TRIGGER_HEAD "spec:\n  broker: b\n  filter:\n    attributes:\n"
                             "      type: x\n"
                             "  subscriber:\n    uri: http://other/\n");
    fx_admit_ok(n, o, NULL);
    json_object_put(n);
    json_object_put(o);
}

TEST_MAIN()
