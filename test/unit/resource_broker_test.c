/*
 * test/unit/resource_broker_test.c - Broker admission: the documented
 * examples round-trip with Knative's defaults written in, each validation
 * rule family fails at its exact path, class and spec.config are
 * immutable, and the env changes what is defaulted.
 */
#include "test/unit/check.h"

#include "resource/meta.h"
#include "resource/resource.h"
#include "test/unit/resource_fixture.h"

/* ---- tests ---- */

#define BROKER_HEAD                                                          \
    "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: " \
    "b\n"

TEST(broker_documented_examples_round_trip)
{
    fx_round_trip("broker-default", NULL);
    fx_round_trip("broker-kafka", NULL);
    fx_round_trip("broker-delivery", NULL);
}

TEST(broker_defaults_follow_env)
{
    struct sl_res_env env;
    struct json_object *b;

    sl_res_env_init(&env);
    env.broker_class = "Kafka";
    env.broker_retry = -1;
    env.broker_backoff_policy = NULL;
    env.broker_backoff_delay = "PT1S";
    env.broker_dead_letter_uri = "http://dls.example.com/";
    env.default_namespace = "team-a";
    b = fx_yaml(BROKER_HEAD);
    fx_admit_ok(b, NULL, &env);
    ASSERT_STR_EQ(
        sl_res_meta_annotation(b, "eventing.knative.dev/broker.class"),
        "Kafka");
    ASSERT_STR_EQ(sl_res_meta_namespace(b), "team-a");
    ASSERT(sl_res_dig(b, "spec.delivery.retry") == NULL);
    ASSERT(sl_res_dig(b, "spec.delivery.backoffPolicy") == NULL);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(b, "spec.delivery.backoffDelay")),
                  "PT1S");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(b, "spec.delivery.deadLetterSink.uri")),
                  "http://dls.example.com/");
    json_object_put(b);

    /* No delivery default at all: spec stays without one. */
    env.broker_backoff_delay = NULL;
    env.broker_dead_letter_uri = NULL;
    b = fx_yaml(BROKER_HEAD);
    fx_admit_ok(b, NULL, &env);
    ASSERT(sl_res_dig(b, "spec.delivery") == NULL);
    json_object_put(b);

    /* An empty class annotation is defaulted like an absent one. */
    b = fx_yaml(BROKER_HEAD "  annotations:\n"
                            "    eventing.knative.dev/broker.class: \"\"\n");
    fx_admit_ok(b, NULL, NULL);
    ASSERT_STR_EQ(
        sl_res_meta_annotation(b, "eventing.knative.dev/broker.class"),
        "MTChannelBasedBroker");
    json_object_put(b);

    /* Without a default class, the missing annotation is an error. */
    env.broker_class = NULL;
    fx_fail_env(BROKER_HEAD, NULL, &env,
                "metadata.annotations[eventing.knative.dev/broker.class]",
                "missing field(s)");
}

TEST(broker_given_delivery_is_not_merged)
{
    struct json_object *b = fx_yaml(BROKER_HEAD "spec:\n  delivery:\n"
                                                "    retry: 2\n");

    fx_admit_ok(b, NULL, NULL);
    ASSERT_EQ(json_object_get_int(sl_res_dig(b, "spec.delivery.retry")), 2);
    ASSERT(sl_res_dig(b, "spec.delivery.backoffPolicy") == NULL);
    ASSERT(sl_res_dig(b, "spec.delivery.backoffDelay") == NULL);
    json_object_put(b);
}

TEST(broker_config_rules)
{
    /* KReference: name, apiVersion, kind required; group disallowed. */
    fx_fail(BROKER_HEAD "spec:\n  config:\n    kind: ConfigMap\n"
                        "    apiVersion: v1\n",
            "spec.config.name", "missing field(s)");
    fx_fail(BROKER_HEAD "spec:\n  config:\n    kind: ConfigMap\n"
                        "    name: c\n",
            "spec.config.apiVersion", "missing field(s)");
    fx_fail(BROKER_HEAD "spec:\n  config:\n    name: c\n    apiVersion: v1\n",
            "spec.config.kind", "missing field(s)");
    fx_fail(BROKER_HEAD "spec:\n  config:\n    name: c\n    apiVersion: v1\n"
                        "    kind: ConfigMap\n    group: x\n",
            "spec.config.group", "must not set the field(s)");
    /* Kafka classes need a ConfigMap; KafkaNamespaced in the same ns. */
    fx_fail(BROKER_HEAD "  annotations:\n"
                        "    eventing.knative.dev/broker.class: Kafka\n"
                        "spec:\n  config:\n    name: c\n    apiVersion: v1\n"
                        "    kind: Secret\n",
            "spec.config.kind", "invalid value \"Secret\": expected ConfigMap");
    fx_fail(BROKER_HEAD
            "  annotations:\n"
            "    eventing.knative.dev/broker.class: KafkaNamespaced\n"
            "spec:\n  config:\n    name: c\n    apiVersion: v1\n"
            "    kind: ConfigMap\n    namespace: elsewhere\n",
            "spec.config.namespace", "same namespace with broker resource");
    /* A config elsewhere is fine for the other classes. */
    fx_ok(BROKER_HEAD "spec:\n  config:\n    name: c\n"
                      "    apiVersion: v1\n    kind: ConfigMap\n"
                      "    namespace: elsewhere\n");
}

TEST(broker_delivery_rules)
{
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    retry: -1\n",
            "spec.delivery.retry", "invalid value -1: must be >= 0");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    backoffPolicy: sometimes\n",
            "spec.delivery.backoffPolicy",
            "invalid value \"sometimes\": expected one of \"linear\", "
            "\"exponential\"");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    backoffDelay: 2s\n",
            "spec.delivery.backoffDelay", "invalid value \"2s\"");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    deadLetterSink: {}\n",
            "spec.delivery.deadLetterSink", "expected at least one, got none");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    deadLetterSink:\n"
                        "      uri: /relative\n",
            "spec.delivery.deadLetterSink.uri",
            "relative URI is not allowed when ref is absent");
}

TEST(broker_unknown_fields)
{
    fx_fail(BROKER_HEAD "spec:\n  delivry: {}\n", "spec.delivry",
            "unknown field \"spec.delivry\"");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    deadLetterSink:\n"
                        "      ref:\n        nme: x\n",
            "spec.delivery.deadLetterSink.ref.nme",
            "unknown field \"spec.delivery.deadLetterSink.ref.nme\"");
    fx_fail(BROKER_HEAD "sepc: {}\n", "sepc", "unknown field \"sepc\"");
    fx_fail(BROKER_HEAD "  lables: {}\n", "metadata.lables",
            "unknown field \"metadata.lables\"");
    fx_fail(BROKER_HEAD "spec:\n  delivery:\n    retry: \"3\"\n",
            "spec.delivery.retry", "expected integer, got string");
}

TEST(broker_immutable_fields)
{
    static const char old_kafka[] =
        BROKER_HEAD "  annotations:\n"
                    "    eventing.knative.dev/broker.class: Kafka\n"
                    "spec:\n  config:\n    name: c\n    apiVersion: v1\n"
                    "    kind: ConfigMap\n";
    struct json_object *old, *cur;

    /* Dropping the class annotation defaults it: a class change. */
    fx_fail_env(BROKER_HEAD "spec:\n  config:\n    name: c\n"
                            "    apiVersion: v1\n    kind: ConfigMap\n",
                old_kafka, NULL,
                "metadata.annotations[eventing.knative.dev/broker.class]",
                "immutable annotations changed (-old +new): -\"Kafka\" "
                "+\"MTChannelBasedBroker\"");
    fx_fail_env(BROKER_HEAD "  annotations:\n"
                            "    eventing.knative.dev/broker.class: Kafka\n"
                            "spec:\n  config:\n    name: other\n"
                            "    apiVersion: v1\n    kind: ConfigMap\n",
                old_kafka, NULL, "spec.config",
                "immutable fields changed (-old +new)");
    fx_fail_env(BROKER_HEAD "  annotations:\n"
                            "    eventing.knative.dev/broker.class: Kafka\n",
                old_kafka, NULL, "spec.config",
                "immutable fields changed (-old +new): -{");
    fx_fail_env(BROKER_HEAD "spec:\n  config:\n    name: c\n"
                            "    apiVersion: v1\n    kind: ConfigMap\n",
                BROKER_HEAD, NULL, "spec.config",
                "immutable fields changed (-old +new): -<absent> +{");
    /* The name and namespace of any object are fixed too. */
    fx_fail_env("apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
                "metadata:\n  name: other\n",
                BROKER_HEAD, NULL, "metadata.name", "immutable field changed");
    fx_fail_env(BROKER_HEAD "  namespace: x\n", BROKER_HEAD, NULL,
                "metadata.namespace", "immutable field changed");

    /* Delivery may change freely. */
    old = fx_yaml(old_kafka);
    fx_admit_ok(old, NULL, NULL);
    cur = fx_yaml(old_kafka);
    json_object_object_add(sl_res_get(cur, "spec"), "delivery",
                           json_tokener_parse("{\"retry\": 1}"));
    fx_admit_ok(cur, old, NULL);
    json_object_put(cur);
    json_object_put(old);
}

TEST(broker_kind_descriptor)
{
    const struct sl_res_kind *k = NULL;
    struct json_object *b = fx_yaml(BROKER_HEAD);
    struct sl_diag d;

    ASSERT_OK(sl_res_admit(b, NULL, NULL, &k, &d));
    ASSERT(k == sl_res_kind_by_name("broker"));
    ASSERT_STR_EQ(k->plural, "brokers");
    ASSERT(k->namespaced);
    json_object_put(b);
}

TEST_MAIN()
