/*
 * test/unit/table_test.c - kubectl-style tables of `sluice get`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd/table.h"
#include "test/unit/check.h"

/* 2026-01-01T00:00:00Z */
#define T0 1767225600LL

TEST(age_like_kubectl)
{
    char b[32];

    ASSERT_STR_EQ(sl_cli_age(0, b, sizeof(b)), "0s");
    ASSERT_STR_EQ(sl_cli_age(119, b, sizeof(b)), "119s");
    ASSERT_STR_EQ(sl_cli_age(150, b, sizeof(b)), "2m30s");
    ASSERT_STR_EQ(sl_cli_age(600, b, sizeof(b)), "10m");
    ASSERT_STR_EQ(sl_cli_age(3 * 3600 + 300, b, sizeof(b)), "3h5m");
    ASSERT_STR_EQ(sl_cli_age(10 * 3600, b, sizeof(b)), "10h");
    ASSERT_STR_EQ(sl_cli_age(2 * 86400 + 5 * 3600, b, sizeof(b)), "2d5h");
    ASSERT_STR_EQ(sl_cli_age(400LL * 86400, b, sizeof(b)), "400d");
    ASSERT_STR_EQ(sl_cli_age(3 * 365LL * 86400 + 86400, b, sizeof(b)), "3y1d");
    ASSERT_STR_EQ(sl_cli_age(9 * 365LL * 86400, b, sizeof(b)), "9y");
    ASSERT_STR_EQ(sl_cli_age(-1, b, sizeof(b)), "<unknown>");
}

TEST(path_lookup)
{
    struct json_object *o = json_tokener_parse(
        "{\"metadata\":{\"labels\":{\"a.b/c\":\"x\"}},\"spec\":{\"t\":[1,2]}}");

    ASSERT(o != NULL);
    ASSERT_STR_EQ(
        json_object_get_string(sl_cli_field(o, "metadata.labels[a.b/c]")), "x");
    ASSERT(sl_cli_field(o, "spec.t") != NULL);
    ASSERT(sl_cli_field(o, "spec.t.x") == NULL);
    ASSERT(sl_cli_field(o, "nope.x") == NULL);
    ASSERT(sl_cli_field(o, "metadata.labels[a.b/c") == NULL);
    json_object_put(o);
}

/* Print into a temporary file and return its text (static buffer). */
static char *print_table(struct sl_table *t)
{
    static char text[4096];
    FILE *f = tmpfile();
    size_t n;

    ASSERT(f != NULL);
    sl_table_print(t, f);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static const char broker_json[] =
    "{\"kind\":\"Broker\",\"metadata\":{\"name\":\"default\","
    "\"namespace\":\"ns1\",\"creationTimestamp\":\"2025-12-31T23:58:00Z\","
    "\"annotations\":{\"eventing.knative.dev/broker.class\":\"Embedded\"}},"
    "\"status\":{\"address\":{\"url\":\"http://127.0.0.1:8080/ns1/default\"},"
    "\"conditions\":[{\"type\":\"IngressReady\",\"status\":\"True\"},"
    "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"NotReady\"}]}}";

TEST(broker_table)
{
    struct json_object *b = json_tokener_parse(broker_json);
    struct json_object *b2 = json_tokener_parse(
        "{\"kind\":\"Broker\",\"metadata\":{\"name\":\"other-broker\"}}");
    struct sl_table t;
    char *text;

    ASSERT(b != NULL && b2 != NULL);
    sl_table_init(&t, "Broker", false, false);
    sl_table_add(&t, b, (time_t)T0);
    sl_table_add(&t, b2, (time_t)T0);
    text = print_table(&t);
    ASSERT_STR_EQ(
        text,
        "NAME           URL                                 AGE      READY    "
        "REASON\n"
        "default        http://127.0.0.1:8080/ns1/default   2m0s     False    "
        "NotReady\n"
        "other-broker   <none>                              <none>   <none>   "
        "<none>\n");
    sl_table_fini(&t);

    /* -A adds NAMESPACE in front, -o wide the CLASS column. */
    sl_table_init(&t, "Broker", true, true);
    sl_table_add(&t, b, (time_t)T0);
    text = print_table(&t);
    ASSERT(strncmp(text, "NAMESPACE   NAME      URL", 25) == 0);
    ASSERT(strstr(text, "   CLASS\n") != NULL);
    ASSERT(strstr(text, "ns1         default   ") != NULL);
    ASSERT(strstr(text, "NotReady   Embedded\n") != NULL);
    sl_table_fini(&t);
    json_object_put(b);
    json_object_put(b2);
}

TEST(counts_and_lists)
{
    struct json_object *cm = json_tokener_parse(
        "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
        "\"data\":{\"a\":\"1\",\"b\":\"2\"}}");
    struct json_object *ks = json_tokener_parse(
        "{\"kind\":\"KafkaSource\",\"metadata\":{\"name\":\"k\"},"
        "\"spec\":{\"topics\":[\"t1\",\"t2\"],\"bootstrapServers\":[\"b:9092\"]"
        "}}");
    struct sl_table t;
    char *text;

    ASSERT(cm != NULL && ks != NULL);
    sl_table_init(&t, "ConfigMap", false, false);
    sl_table_add(&t, cm, (time_t)T0);
    text = print_table(&t);
    ASSERT_STR_EQ(text, "NAME   DATA   AGE\nc      2      <none>\n");
    sl_table_fini(&t);

    sl_table_init(&t, "KafkaSource", false, false);
    sl_table_add(&t, ks, (time_t)T0);
    text = print_table(&t);
    ASSERT(strstr(text, "t1,t2") != NULL && strstr(text, "b:9092") != NULL);
    sl_table_fini(&t);
    json_object_put(cm);
    json_object_put(ks);
}

TEST_MAIN()
