/*
 * test/unit/resource_registry_test.c - kind lookups: by apiVersion and
 * kind, by REST path, by CLI name (plural, singular, short name, Kind,
 * with .group and .version.group), iteration and the duplicate check.
 */
#include "test/unit/check.h"

#include "resource/resource.h"

TEST(registry_is_consistent)
{
    struct sl_diag d;
    size_t i, n = sl_res_kind_count();

    sl_diag_clear(&d);
    ASSERT_OK(sl_res_registry_check(&d));
    ASSERT_EQ(n, 16);
    for (i = 0; i < n; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);
        char av[128];
        ASSERT(k != NULL);
        sl_res_kind_api_version(k, av, sizeof(av));
        ASSERT(sl_res_kind_find(av, k->kind) == k);
        ASSERT(sl_res_kind_by_resource(k->group, k->version, k->plural) == k);
        ASSERT(sl_res_kind_by_name(k->plural) == k);
        ASSERT(sl_res_kind_by_name(k->singular) == k);
        ASSERT(sl_res_kind_by_name(k->kind) == k);
        ASSERT(k->fields != NULL);
    }
    ASSERT(sl_res_kind_at(n) == NULL);
}

TEST(registry_find_by_api_version)
{
    const struct sl_res_kind *k;
    char av[64];

    k = sl_res_kind_find("eventing.knative.dev/v1", "Trigger");
    ASSERT(k != NULL);
    ASSERT_STR_EQ(k->plural, "triggers");
    ASSERT_STR_EQ(sl_res_kind_api_version(k, av, sizeof(av)),
                  "eventing.knative.dev/v1");
    k = sl_res_kind_find("v1", "ConfigMap");
    ASSERT(k != NULL && k->group[0] == '\0');
    ASSERT_STR_EQ(sl_res_kind_api_version(k, av, sizeof(av)), "v1");
    ASSERT(sl_res_kind_has_api_version(k, "v1"));
    ASSERT(!sl_res_kind_has_api_version(k, "/v1"));
    ASSERT(sl_res_kind_find("eventing.knative.dev/v1alpha1", "KafkaSink"));
    ASSERT(sl_res_kind_find("eventing.knative.dev/v1", "KafkaSink") == NULL);
    ASSERT(sl_res_kind_find("eventing.knative.dev", "Broker") == NULL);
    ASSERT(sl_res_kind_find("eventing.knative.dev/", "Broker") == NULL);
    ASSERT(sl_res_kind_find("v1", "Broker") == NULL);
    ASSERT(sl_res_kind_find("core/v1", "ConfigMap") == NULL);
    ASSERT(sl_res_kind_find("eventing.knative.dev/v1", "Brokers") == NULL);
}

TEST(registry_by_resource)
{
    ASSERT(sl_res_kind_by_resource("eventing.knative.dev", "v1", "brokers"));
    ASSERT(sl_res_kind_by_resource("", "v1", "secrets"));
    ASSERT(sl_res_kind_by_resource("", "v1", "namespaces"));
    ASSERT(sl_res_kind_by_resource("eventing.knative.dev", "v1", "broker") ==
           NULL);
    ASSERT(sl_res_kind_by_resource("eventing.knative.dev", "v1beta1",
                                   "brokers") == NULL);
    ASSERT(sl_res_kind_by_resource("eventing.knative.dev", "v1alpha1",
                                   "kafkasinks") != NULL);
}

TEST(registry_cli_names)
{
    const struct sl_res_kind *broker =
        sl_res_kind_find("eventing.knative.dev/v1", "Broker");
    const struct sl_res_kind *cm = sl_res_kind_find("v1", "ConfigMap");
    const struct sl_res_kind *ns = sl_res_kind_find("v1", "Namespace");
    static const char *const broker_names[] = {
        "broker",
        "brokers",
        "Broker",
        "BROKERS",
        "brokers.eventing.knative.dev",
        "Broker.eventing.knative.dev",
        "broker.v1.eventing.knative.dev",
        "brokers.EVENTING.knative.dev",
    };
    size_t i;

    for (i = 0; i < sizeof(broker_names) / sizeof(broker_names[0]); i++)
        if (sl_res_kind_by_name(broker_names[i]) != broker)
            CHECK_FAIL("'%s' does not name Broker", broker_names[i]);
    ASSERT(sl_res_kind_by_name("cm") == cm);
    ASSERT(sl_res_kind_by_name("CM") == cm);
    ASSERT(sl_res_kind_by_name("configmaps.v1") == cm);
    ASSERT(sl_res_kind_by_name("ns") == ns);
    ASSERT(sl_res_kind_by_name("kafkasink.eventing.knative.dev") != NULL);
    ASSERT(sl_res_kind_by_name("kafkasink.v1alpha1.eventing.knative.dev"));
    ASSERT(sl_res_kind_by_name("kafkasink.v1.eventing.knative.dev") == NULL);
    ASSERT(sl_res_kind_by_name("brokers.eventing") == NULL);
    ASSERT(sl_res_kind_by_name("brokers.serving.knative.dev") == NULL);
    ASSERT(sl_res_kind_by_name("brok") == NULL);
    ASSERT(sl_res_kind_by_name("brokerss") == NULL);
    ASSERT(sl_res_kind_by_name("") == NULL);
    ASSERT(sl_res_kind_by_name(".eventing.knative.dev") == NULL);
    ASSERT(sl_res_kind_by_name("configmaps.") == NULL);
}

TEST_MAIN()
