/*
 * test/unit/resource_kafkasink_test.c - KafkaSink admission: documented
 * examples with contentMode defaulted, required and positive fields,
 * enum and int16 bounds, unknown fields, immutable topic and partitions.
 */
#include "test/unit/check.h"

#include "resource/resource.h"
#include "test/unit/resource_fixture.h"

#define KS_HEAD                                                    \
    "apiVersion: eventing.knative.dev/v1alpha1\nkind: KafkaSink\n" \
    "metadata:\n  name: s\n"
#define KS_OK KS_HEAD "spec:\n  topic: t\n  bootstrapServers: [k:9092]\n"

TEST(kafkasink_documented_examples_round_trip)
{
    fx_round_trip("kafkasink", NULL);
}

TEST(kafkasink_rules)
{
    fx_fail(KS_HEAD "spec:\n  bootstrapServers: [k:9092]\n", "spec.topic",
            "missing field(s)");
    fx_fail(KS_HEAD "spec:\n  topic: \"\"\n  bootstrapServers: [k:9092]\n",
            "spec.topic", "missing field(s)");
    fx_fail(KS_HEAD "spec:\n  topic: t\n", "spec.bootstrapServers",
            "missing field(s)");
    fx_fail(KS_HEAD "spec:\n  topic: t\n  bootstrapServers: []\n",
            "spec.bootstrapServers", "missing field(s)");
    fx_fail(KS_HEAD "spec:\n  topic: t\n  bootstrapServers: [a, \"\"]\n",
            "spec.bootstrapServers[1]", "must not be empty");
    fx_fail(KS_HEAD "spec:\n  topic: t\n  bootstrapServers: k:9092\n",
            "spec.bootstrapServers", "expected array, got string");
    fx_fail(KS_OK "  numPartitions: 0\n", "spec.numPartitions",
            "invalid value 0: must be > 0");
    fx_fail(KS_OK "  replicationFactor: -1\n", "spec.replicationFactor",
            "invalid value -1: must be > 0");
    fx_fail(KS_OK "  replicationFactor: 40000\n", "spec.replicationFactor",
            "expected -32768 <= 40000 <= 32767");
    fx_fail(KS_OK "  numPartitions: 4294967296\n", "spec.numPartitions",
            "out of range for int32");
    fx_fail(KS_OK "  numPartitions: 1.5\n", "spec.numPartitions",
            "expected integer, got number");
    fx_fail(KS_OK "  contentMode: Binary\n", "spec.contentMode",
            "invalid value \"Binary\": expected one of \"binary\", "
            "\"structured\"");
    fx_fail(KS_OK "  auth:\n    secret:\n      ref:\n        nam: x\n",
            "spec.auth.secret.ref.nam",
            "unknown field \"spec.auth.secret.ref.nam\"");
    fx_fail(KS_OK "  delivery: {}\n", "spec.delivery",
            "unknown field \"spec.delivery\"");
}

TEST(kafkasink_immutable)
{
    static const char old[] = KS_OK "  numPartitions: 3\n";

    fx_fail_env(KS_HEAD "spec:\n  topic: u\n  bootstrapServers: [k:9092]\n"
                        "  numPartitions: 3\n",
                old, NULL, "spec.topic",
                "immutable field changed (-old +new): -\"t\" +\"u\"");
    fx_fail_env(KS_OK "  numPartitions: 4\n", old, NULL, "spec.numPartitions",
                "immutable field changed (-old +new): -3 +4");
    fx_fail_env(KS_OK, old, NULL, "spec.numPartitions",
                "immutable field changed (-old +new): -3 +<absent>");
    fx_fail_env(KS_OK "  numPartitions: 3\n  replicationFactor: 2\n", old, NULL,
                "spec.replicationFactor",
                "immutable field changed (-old +new): -<absent> +2");
    /* Servers and content mode may change. */
    {
        struct json_object *o = fx_yaml(old), *n;
        fx_admit_ok(o, NULL, NULL);
        n = fx_yaml(KS_HEAD "spec:\n  topic: t\n  numPartitions: 3\n"
                            "  bootstrapServers: [a:1, b:2]\n"
                            "  contentMode: structured\n");
        fx_admit_ok(n, o, NULL);
        json_object_put(n);
        json_object_put(o);
    }
}

TEST_MAIN()
