/*
 * test/unit/resource_condition_test.c - status conditions: set/get,
 * lastTransitionTime kept unless the status changes, sorting by type,
 * Ready computed from dependents, initialisation, observedGeneration.
 */
#include "test/unit/check.h"

#include "resource/condition.h"
#include "resource/schema.h"

static struct sl_timestamp at(int64_t sec)
{
    struct sl_timestamp t = { .sec = sec, .nsec = 123, .offset_min = 0 };

    return t;
}

static const char *ltt(const struct json_object *o, const char *type)
{
    return sl_res_get_str(sl_res_cond_get(o, type), "lastTransitionTime");
}

TEST(cond_set_and_transition_time)
{
    struct json_object *o = json_object_new_object();
    struct sl_timestamp t0 = at(1780000000), t1 = at(1780000060);
    struct sl_res_cond c = { .type = "BrokerReady",
                             .status = SL_RES_COND_UNKNOWN };

    ASSERT(sl_res_cond_get(o, "BrokerReady") == NULL);
    ASSERT(sl_res_cond_status(o, "BrokerReady") == NULL);
    ASSERT_EQ(sl_res_cond_set(o, &c, &t0), 1);
    ASSERT_STR_EQ(sl_res_cond_status(o, "BrokerReady"), "Unknown");
    ASSERT_STR_EQ(ltt(o, "BrokerReady"), "2026-05-28T20:26:40Z");
    /* Same again: no change. */
    ASSERT_EQ(sl_res_cond_set(o, &c, &t1), 0);
    /* Reason changes, status does not: the time stays. */
    c.reason = "Waiting";
    c.message = "broker \"b\" not ready";
    ASSERT_EQ(sl_res_cond_set(o, &c, &t1), 1);
    ASSERT_STR_EQ(ltt(o, "BrokerReady"), "2026-05-28T20:26:40Z");
    ASSERT_STR_EQ(sl_res_get_str(sl_res_cond_get(o, "BrokerReady"), "reason"),
                  "Waiting");
    /* Status flips: the time moves; empty reason and message vanish. */
    c.status = SL_RES_COND_TRUE;
    c.reason = "";
    c.message = NULL;
    c.severity = "Info";
    ASSERT_EQ(sl_res_cond_set(o, &c, &t1), 1);
    ASSERT_STR_EQ(ltt(o, "BrokerReady"), "2026-05-28T20:27:40Z");
    ASSERT(sl_res_get(sl_res_cond_get(o, "BrokerReady"), "reason") == NULL);
    ASSERT_STR_EQ(sl_res_get_str(sl_res_cond_get(o, "BrokerReady"), "severity"),
                  "Info");
    ASSERT(sl_res_cond_is_true(o, "BrokerReady"));
    ASSERT(!sl_res_cond_is_true(o, "Ready"));
    ASSERT_EQ(json_object_array_length(sl_res_dig(o, "status.conditions")), 1);
    json_object_put(o);
}

TEST(cond_sorted_by_type)
{
    static const char *const types[] = { "SubscriberResolved", "BrokerReady",
                                         "Ready", "DependencyReady",
                                         "SubscriptionReady" };
    static const char *const sorted[] = { "BrokerReady", "DependencyReady",
                                          "Ready", "SubscriberResolved",
                                          "SubscriptionReady" };
    struct json_object *o = json_object_new_object(), *list;
    struct sl_timestamp t = at(0);
    size_t i;

    for (i = 0; i < 5; i++) {
        struct sl_res_cond c = { .type = types[i], .status = "True" };
        sl_res_cond_set(o, &c, &t);
    }
    list = sl_res_dig(o, "status.conditions");
    ASSERT_EQ(json_object_array_length(list), 5);
    for (i = 0; i < 5; i++)
        ASSERT_STR_EQ(
            sl_res_get_str(json_object_array_get_idx(list, i), "type"),
            sorted[i]);
    ASSERT_STR_EQ(ltt(o, "Ready"), "1970-01-01T00:00:00Z");
    json_object_put(o);
}

TEST(cond_ready_from_dependents)
{
    static const char *const deps[] = { "BrokerReady", "SubscriptionReady",
                                        "SubscriberResolved", NULL };
    struct json_object *o = json_object_new_object();
    struct sl_timestamp t = at(100);
    struct sl_res_cond c = { 0 };

    ASSERT_EQ(sl_res_cond_init(o, "Ready", deps, &t), 1);
    ASSERT_EQ(sl_res_cond_init(o, "Ready", deps, &t), 0);
    ASSERT_STR_EQ(sl_res_cond_status(o, "Ready"), "Unknown");
    ASSERT_STR_EQ(sl_res_cond_status(o, "SubscriberResolved"), "Unknown");

    c.type = "BrokerReady";
    c.status = "True";
    sl_res_cond_set(o, &c, &t);
    c.type = "SubscriptionReady";
    c.status = "Unknown";
    c.reason = "Pending";
    c.message = "waiting for the log";
    sl_res_cond_set(o, &c, &t);
    c.type = "SubscriberResolved";
    c.status = "False";
    c.reason = "Unresolvable";
    c.message = "address not set";
    sl_res_cond_set(o, &c, &t);
    /* A False dependent wins over an Unknown one. */
    ASSERT_EQ(sl_res_cond_ready(o, "Ready", deps, &t), 1);
    ASSERT_STR_EQ(sl_res_cond_status(o, "Ready"), "False");
    ASSERT_STR_EQ(sl_res_get_str(sl_res_cond_get(o, "Ready"), "reason"),
                  "Unresolvable");
    ASSERT_EQ(sl_res_cond_ready(o, "Ready", deps, &t), 0);

    c.status = "True";
    c.reason = c.message = NULL;
    sl_res_cond_set(o, &c, &t);
    ASSERT_EQ(sl_res_cond_ready(o, "Ready", deps, &t), 1);
    ASSERT_STR_EQ(sl_res_cond_status(o, "Ready"), "Unknown");
    ASSERT_STR_EQ(sl_res_get_str(sl_res_cond_get(o, "Ready"), "message"),
                  "waiting for the log");

    c.type = "SubscriptionReady";
    sl_res_cond_set(o, &c, &t);
    ASSERT_EQ(sl_res_cond_ready(o, "Ready", deps, &t), 1);
    ASSERT(sl_res_cond_is_true(o, "Ready"));
    ASSERT(sl_res_get(sl_res_cond_get(o, "Ready"), "message") == NULL);
    json_object_put(o);

    /* An absent dependent keeps Ready Unknown without a reason. */
    o = json_object_new_object();
    c.type = "BrokerReady";
    sl_res_cond_set(o, &c, &t);
    ASSERT_EQ(sl_res_cond_ready(o, "Ready", deps, &t), 1);
    ASSERT_STR_EQ(sl_res_cond_status(o, "Ready"), "Unknown");
    ASSERT(sl_res_get(sl_res_cond_get(o, "Ready"), "reason") == NULL);
    json_object_put(o);
}

TEST(cond_tolerates_odd_status)
{
    struct json_object *o =
        json_tokener_parse("{\"status\":{\"conditions\":\"garbage\"}}");
    struct sl_res_cond c = { .type = "Ready", .status = "True" };
    struct sl_timestamp t = at(5);

    ASSERT(sl_res_cond_get(o, "Ready") == NULL);
    ASSERT_EQ(sl_res_cond_set(o, &c, &t), 1);
    ASSERT(sl_res_cond_is_true(o, "Ready"));
    json_object_put(o);
    o = json_tokener_parse("{\"status\":[]}");
    ASSERT_EQ(sl_res_cond_set(o, &c, &t), 0);
    ASSERT_EQ(sl_res_status_observe(o), 0);
    json_object_put(o);
}

TEST(observed_generation)
{
    struct json_object *o =
        json_tokener_parse("{\"metadata\":{\"generation\":4}}");

    ASSERT_EQ(sl_res_status_observe(o), 1);
    ASSERT_EQ(json_object_get_int64(sl_res_dig(o, "status.observedGeneration")),
              4);
    ASSERT_EQ(sl_res_status_observe(o), 0);
    json_object_put(o);
}

TEST_MAIN()
