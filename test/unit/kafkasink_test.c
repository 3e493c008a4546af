/*
 * test/unit/kafkasink_test.c - the KafkaSink data plane: sinks/kafkasink.c
 * (a producer as a plain backend) and control/kafkasinks.c (the running
 * sinks, their configuration and Secret mapping) against a real
 * Kafka-protocol cluster (the test helper, a process of its own), read
 * back with a librdkafka consumer of the test's own and the CloudEvents
 * Kafka binding.
 *
 * Covered: Secret -> librdkafka properties (every protocol, mechanisms,
 * the legacy "username", user.skip, refusals naming the key), the
 * configuration of a KafkaSink object, binary records keyed by
 * partitionkey, structured records, the size limit, subscribe refused,
 * open failures with their reasons (topic missing, cluster unreachable,
 * bad configuration), appends refused at once while the cluster is gone,
 * and the registry's sync / lookup / rebuild / remove / shutdown.
 */
#include "test/unit/check.h"

#include <string.h>

#include <librdkafka/rdkafka.h>

#include "broker/backend.h"
#include "control/kafkasinks.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "net/kafka.h"
#include "proto/event.h"
#include "proto/kafka.h"
#include "sinks/kafkasink.h"
#include "test/unit/kafka_cluster.h"

/* ---- loop helpers ---- */

static void stop_loop(void *arg)
{
    sl_loop_stop(arg);
}

/* Run 'loop' until *flag is set or ms pass; returns *flag. */
static bool spin(struct sl_loop *loop, const bool *flag, int64_t ms)
{
    struct sl_timer *t = sl_timer_new(loop, stop_loop, loop);
    int64_t end = sl_loop_now_ms(loop) + ms;

    while (!*flag && sl_loop_now_ms(loop) < end) {
        sl_timer_start(t, 10, 0);
        sl_loop_run(loop);
    }
    sl_timer_free(t);
    return *flag;
}

/* Run 'loop' for ms. */
static void idle(struct sl_loop *loop, int64_t ms)
{
    bool never = false;

    spin(loop, &never, ms);
}

struct box {
    bool done;
    int rc;
};

static void box_done(void *arg, int rc)
{
    struct box *b = arg;

    b->done = true;
    b->rc = rc;
}

/* ---- Secret data ---- */

/* Add key: Base64(value) to 'data'. */
static void put64(struct json_object *data, const char *key, const char *value)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_base64_encode(value, strlen(value), &b));
    json_object_object_add(data, key, json_object_new_string(sl_buf_str(&b)));
    sl_buf_fini(&b);
}

static const char *prop(const struct json_object *props, const char *name)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(props, name, &v))
        return NULL;
    return json_object_get_string(v);
}

/* Map 'data' (put) into new props; rc; props put unless 'out'. */
static int map_secret(struct json_object *data, struct json_object **out,
                      struct sl_diag *d)
{
    struct json_object *props = json_object_new_object();
    int rc;

    sl_diag_clear(d);
    rc = sl_kafka_secret_props(data, props, d);
    json_object_put(data);
    if (out != NULL)
        *out = props;
    else
        json_object_put(props);
    return rc;
}

TEST(secret_maps_to_librdkafka_properties)
{
    struct json_object *data, *props;
    struct sl_diag d;

    /* SASL_SSL with SCRAM and a CA. */
    data = json_object_new_object();
    put64(data, "protocol", "SASL_SSL");
    put64(data, "sasl.mechanism", "SCRAM-SHA-512");
    put64(data, "user", "alice");
    put64(data, "password", "s3cret");
    put64(data, "ca.crt", "-----BEGIN CERTIFICATE-----\nCA\n");
    ASSERT_OK(map_secret(data, &props, &d));
    ASSERT_STR_EQ(prop(props, "security.protocol"), "sasl_ssl");
    ASSERT_STR_EQ(prop(props, "sasl.mechanisms"), "SCRAM-SHA-512");
    ASSERT_STR_EQ(prop(props, "sasl.username"), "alice");
    ASSERT_STR_EQ(prop(props, "sasl.password"), "s3cret");
    ASSERT_STR_EQ(prop(props, "ssl.ca.pem"),
                  "-----BEGIN CERTIFICATE-----\nCA\n");
    ASSERT(prop(props, "ssl.certificate.pem") == NULL);
    json_object_put(props);

    /* SASL_PLAINTEXT: PLAIN by default, the legacy "username" key. */
    data = json_object_new_object();
    put64(data, "protocol", "SASL_PLAINTEXT");
    put64(data, "username", "bob");
    put64(data, "password", "pw");
    ASSERT_OK(map_secret(data, &props, &d));
    ASSERT_STR_EQ(prop(props, "security.protocol"), "sasl_plaintext");
    ASSERT_STR_EQ(prop(props, "sasl.mechanisms"), "PLAIN");
    ASSERT_STR_EQ(prop(props, "sasl.username"), "bob");
    ASSERT(prop(props, "ssl.ca.pem") == NULL);
    json_object_put(props);

    /* SSL with a client certificate; without one only with user.skip. */
    data = json_object_new_object();
    put64(data, "protocol", "SSL");
    put64(data, "user.crt", "CERT");
    put64(data, "user.key", "KEY");
    ASSERT_OK(map_secret(data, &props, &d));
    ASSERT_STR_EQ(prop(props, "security.protocol"), "ssl");
    ASSERT_STR_EQ(prop(props, "ssl.certificate.pem"), "CERT");
    ASSERT_STR_EQ(prop(props, "ssl.key.pem"), "KEY");
    ASSERT(prop(props, "sasl.username") == NULL);
    json_object_put(props);
    data = json_object_new_object();
    put64(data, "protocol", "SSL");
    put64(data, "user.crt", "CERT");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "user.key");
    data = json_object_new_object();
    put64(data, "protocol", "SSL");
    put64(data, "user.skip", "true");
    ASSERT_OK(map_secret(data, &props, &d));
    ASSERT(prop(props, "ssl.key.pem") == NULL);
    json_object_put(props);

    /* PLAINTEXT: nothing but the protocol. */
    data = json_object_new_object();
    put64(data, "protocol", "PLAINTEXT");
    put64(data, "user", "ignored");
    ASSERT_OK(map_secret(data, &props, &d));
    ASSERT_EQ(json_object_object_length(props), 1);
    json_object_put(props);

    /* Refusals name the key. */
    ASSERT_EQ(map_secret(json_object_new_object(), NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "protocol");
    data = json_object_new_object();
    put64(data, "protocol", "SASL_SOMETHING");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "protocol");
    data = json_object_new_object();
    put64(data, "protocol", "SASL_PLAINTEXT");
    put64(data, "user", "u");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "password");
    data = json_object_new_object();
    put64(data, "protocol", "SASL_PLAINTEXT");
    put64(data, "password", "p");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "user");
    data = json_object_new_object();
    put64(data, "protocol", "SASL_SSL");
    put64(data, "sasl.mechanism", "OAUTHBEARER");
    put64(data, "user", "u");
    put64(data, "password", "p");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "sasl.mechanism");
    data = json_object_new_object();
    json_object_object_add(data, "protocol", json_object_new_string("!!!"));
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "protocol");
    data = json_object_new_object();
    put64(data, "protocol", "SSL");
    put64(data, "user.skip", "maybe");
    ASSERT_EQ(map_secret(data, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "user.skip");
}

TEST(config_of_a_kafkasink_object)
{
    struct json_object *obj = json_tokener_parse(
        "{\"kind\":\"KafkaSink\",\"metadata\":{\"name\":\"s\","
        "\"namespace\":\"default\"},\"spec\":{\"topic\":\"t\","
        "\"bootstrapServers\":[\"a:9092\",\"b:9092\"],\"numPartitions\":3,"
        "\"replicationFactor\":1,\"contentMode\":\"structured\"}}");
    struct json_object *secret = json_tokener_parse(
        "{\"kind\":\"Secret\",\"data\":{\"protocol\":\"U1NM\","
        "\"user.skip\":\"dHJ1ZQ==\"}}"); /* SSL, true */
    struct json_object *cfg;
    struct sl_diag d;

    ASSERT_OK(sl_kafkasink_config(obj, NULL, &cfg, &d));
    ASSERT_STR_EQ(prop(cfg, "bootstrap.servers"), "a:9092,b:9092");
    ASSERT_STR_EQ(prop(cfg, SL_KAFKASINK_TOPIC), "t");
    ASSERT_STR_EQ(prop(cfg, SL_KAFKASINK_CONTENT_MODE), "structured");
    ASSERT_STR_EQ(prop(cfg, SL_KAFKASINK_PARTITIONS), "3");
    ASSERT_STR_EQ(prop(cfg, SL_KAFKASINK_REPLICATION), "1");
    ASSERT(prop(cfg, "security.protocol") == NULL);
    json_object_put(cfg);
    ASSERT_OK(sl_kafkasink_config(obj, secret, &cfg, &d));
    ASSERT_STR_EQ(prop(cfg, "security.protocol"), "ssl");
    json_object_put(cfg);
    json_object_object_del(secret, "data");
    ASSERT_EQ(sl_kafkasink_config(obj, secret, &cfg, &d), SL_EINVAL);
    ASSERT(cfg == NULL);
    ASSERT_STR_EQ(d.field, "protocol");
    json_object_put(secret);
    json_object_put(obj);
}

/* ---- the backend ---- */

static struct json_object *sink_config(const char *bootstrap, const char *topic,
                                       const char *mode)
{
    struct json_object *c = json_object_new_object();

    json_object_object_add(c, "bootstrap.servers",
                           json_object_new_string(bootstrap));
    json_object_object_add(c, SL_KAFKASINK_TOPIC,
                           json_object_new_string(topic));
    if (mode != NULL)
        json_object_object_add(c, SL_KAFKASINK_CONTENT_MODE,
                               json_object_new_string(mode));
    return c;
}

/* A new KafkaSink backend over 'config' (put here); rc of new. */
static int sink_new(struct sl_loop *loop, struct json_object *config,
                    struct sl_backend **out, struct sl_diag *d)
{
    struct sl_backend_cfg bc = { .loop = loop,
                                 .ns = "default",
                                 .name = "ks",
                                 .data_dir = "/tmp",
                                 .limits = { .max_event_size = 4096 },
                                 .config = config };
    int rc;

    sl_diag_clear(d);
    rc = sl_backend_new(&sl_kafkasink_ops, &bc, out, d);
    json_object_put(config);
    return rc;
}

static int sink_open(struct sl_loop *loop, struct sl_backend *b)
{
    struct box x = { 0 };

    sl_backend_open(b, box_done, &x);
    ASSERT(spin(loop, &x.done, 20000));
    return x.rc;
}

static void sink_close(struct sl_loop *loop, struct sl_backend *b)
{
    struct box x = { 0 };

    if (b->state == SL_BACKEND_OPEN || b->state == SL_BACKEND_FAILED) {
        sl_backend_close(b, box_done, &x);
        ASSERT(spin(loop, &x.done, 20000));
        ASSERT_OK(x.rc);
        ASSERT_EQ(b->state, SL_BACKEND_CLOSED);
    }
    sl_backend_free(b);
}

static struct sl_event *event(const char *id, const char *pkey,
                              const char *data)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", id, NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/kafkasink-test", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t.kafkasink", NULL));
    if (pkey != NULL)
        ASSERT_OK(sl_event_set_str(ev, "partitionkey", pkey, NULL));
    if (data != NULL) {
        ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
        sl_event_set_data(ev, data, strlen(data));
    }
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* Append v[0..n) and wait; the done's rc. */
static int append(struct sl_loop *loop, struct sl_backend *b,
                  struct sl_event *const *v, size_t n)
{
    struct box x = { 0 };
    int rc = sl_backend_append(b, v, n, box_done, &x);

    if (rc != 0)
        return rc;
    ASSERT(spin(loop, &x.done, 20000));
    return x.rc;
}

/* A record read back: the decoded event, its key, partition, mode. */
struct got {
    struct sl_event *ev;
    char key[64]; /* "" when none */
    bool has_key;
    int32_t partition;
    enum sl_kafka_mode mode;
    char ctype[80]; /* the content-type header, "" when none */
};

/* Read 'n' records of 'topic' (all partitions, from the beginning). */
static void consume(const char *bootstrap, const char *topic, int partitions,
                    struct got *out, size_t n)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts;
    rd_kafka_t *rk;
    size_t got = 0;
    int tries;

    ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
                                sizeof(err)),
              RD_KAFKA_CONF_OK);
    ASSERT_EQ(
        rd_kafka_conf_set(conf, "group.id", "kafkasink-test", err, sizeof(err)),
        RD_KAFKA_CONF_OK);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ASSERT(rk != NULL);
    parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    for (tries = 0; got < n && tries < 200; tries++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        struct sl_kafka_header h[32];
        struct sl_kafka_record rec = { 0 };
        rd_kafka_headers_t *hdrs = NULL;
        const char *name;
        const void *val;
        size_t len, i;

        if (m == NULL)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            continue;
        }
        memset(&out[got], 0, sizeof(out[got]));
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
            for (i = 0; i < 32 && rd_kafka_header_get_all(hdrs, i, &name, &val,
                                                          &len) == 0;
                 i++) {
                h[i] = (struct sl_kafka_header){ name, val, len };
                rec.nheaders = i + 1;
                if (strcmp(name, "content-type") == 0)
                    snprintf(out[got].ctype, sizeof(out[got].ctype), "%.*s",
                             (int)len, (const char *)val);
            }
        rec.headers = h;
        rec.key = m->key;
        rec.key_len = m->key_len;
        rec.value = m->payload;
        rec.value_len = m->len;
        ASSERT_OK(
            sl_ce_kafka_decode(&rec, NULL, &out[got].ev, &out[got].mode, NULL));
        out[got].has_key = m->key != NULL;
        if (m->key != NULL)
            snprintf(out[got].key, sizeof(out[got].key), "%.*s",
                     (int)m->key_len, (const char *)m->key);
        out[got].partition = m->partition;
        got++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < n)
        CHECK_FAIL("read %zu of %zu records from %s", got, n, topic);
}

static void no_record(void *arg, struct sl_backend_sub *sub,
                      const struct sl_record *rec)
{
    (void)arg;
    (void)sub;
    (void)rec;
    CHECK_FAIL("a KafkaSink pushed a record");
}

static struct got *got_by_id(struct got *g, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sl_event_id(g[i].ev), id) == 0)
            return &g[i];
    CHECK_FAIL("no record with id %s", id);
}

TEST(binary_and_structured_records)
{
    const char *topics[] = { "ks-bin:3", "ks-str:1", NULL };
    struct sl_event *ev[3], *big;
    struct sl_backend *b, *s;
    struct sl_backend_sub *sub = NULL;
    struct sl_backend_stats st;
    struct sl_loop *loop;
    struct got g[3];
    struct sl_diag d;
    struct tkc c;
    char data[5000];

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));
    ASSERT_OK(sink_new(loop, sink_config(c.bootstrap, "ks-bin", NULL), &b, &d));
    ASSERT(b->ops->flags & SL_BACKEND_F_PLAIN);
    ASSERT_STR_EQ(b->ops->cls, "KafkaSink");
    ASSERT(sl_backend_find("KafkaSink") == NULL); /* not a broker class */
    ASSERT_OK(sink_open(loop, b));
    ASSERT_EQ(b->state, SL_BACKEND_OPEN);
    ASSERT_OK(sl_kafkasink_status(b, &d));

    ev[0] = event("e1", "k1", "one");
    ev[1] = event("e2", "k1", "two");
    ev[2] = event("e3", NULL, NULL);
    ASSERT_OK(append(loop, b, ev, 3));
    sl_backend_stats(b, &st);
    ASSERT_EQ(st.events, 3);
    ASSERT_EQ(st.appends, 1);
    /* The size limit refuses at once. */
    memset(data, 'x', sizeof(data) - 1);
    data[sizeof(data) - 1] = '\0';
    big = event("big", NULL, data);
    ASSERT_EQ(sl_backend_append(b, &big, 1, box_done, NULL), SL_ETOOBIG);
    sl_event_unref(big);
    /* Nothing to subscribe to. */
    ASSERT_EQ(sl_backend_subscribe(b, "g", NULL, no_record, NULL, &sub),
              SL_ENOTSUP);
    ASSERT(sub == NULL);

    consume(c.bootstrap, "ks-bin", 3, g, 3);
    {
        struct got *a = got_by_id(g, 3, "e1"), *x = got_by_id(g, 3, "e2"),
                   *z = got_by_id(g, 3, "e3");

        ASSERT_EQ(a->mode, SL_KAFKA_BINARY);
        ASSERT(a->has_key && strcmp(a->key, "k1") == 0);
        ASSERT(x->has_key && strcmp(x->key, "k1") == 0);
        ASSERT_EQ(a->partition, x->partition); /* same key, same partition */
        ASSERT(!z->has_key);
        ASSERT_STR_EQ(a->ctype, "text/plain");
        ASSERT_STR_EQ(sl_event_value(a->ev, "partitionkey"), "k1");
        ASSERT(a->ev->has_data && a->ev->data_len == 3);
        ASSERT(sl_event_value(a->ev, "knativearrivaltime") == NULL);
        ASSERT(!z->ev->has_data);
    }
    for (int i = 0; i < 3; i++)
        sl_event_unref(g[i].ev);

    /* Structured mode. */
    ASSERT_OK(sink_new(loop, sink_config(c.bootstrap, "ks-str", "structured"),
                       &s, &d));
    ASSERT_OK(sink_open(loop, s));
    ASSERT_OK(append(loop, s, &ev[0], 1));
    consume(c.bootstrap, "ks-str", 1, g, 1);
    ASSERT_EQ(g[0].mode, SL_KAFKA_STRUCTURED);
    ASSERT(strncmp(g[0].ctype, "application/cloudevents+json", 28) == 0);
    ASSERT_STR_EQ(sl_event_id(g[0].ev), "e1");
    ASSERT(g[0].has_key && strcmp(g[0].key, "k1") == 0);
    sl_event_unref(g[0].ev);

    for (int i = 0; i < 3; i++)
        sl_event_unref(ev[i]);
    sink_close(loop, b);
    sink_close(loop, s);
    tkc_stop(&c);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
}

TEST(open_failures_say_why)
{
    const char *topics[] = { "present:1", NULL };
    struct json_object *cfg;
    struct sl_backend *b;
    struct sl_loop *loop;
    struct sl_diag d;
    struct tkc c;

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));

    /* Configuration refused by init, naming the key. */
    cfg = sink_config(c.bootstrap, "present", "text");
    ASSERT_EQ(sink_new(loop, cfg, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_CONTENT_MODE);
    cfg = sink_config(c.bootstrap, "", NULL);
    ASSERT_EQ(sink_new(loop, cfg, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_TOPIC);
    cfg = sink_config(c.bootstrap, "present", NULL);
    json_object_object_add(cfg, "no.such.property",
                           json_object_new_string("1"));
    ASSERT_EQ(sink_new(loop, cfg, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "no.such.property");
    cfg = sink_config(c.bootstrap, "present", NULL);
    json_object_object_add(cfg, SL_KAFKASINK_PARTITIONS,
                           json_object_new_string("0"));
    ASSERT_EQ(sink_new(loop, cfg, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_PARTITIONS);

    /* A missing topic (no numPartitions/replicationFactor: only checked). */
    ASSERT_OK(sink_new(loop, sink_config(c.bootstrap, "absent", NULL), &b, &d));
    ASSERT_EQ(sink_open(loop, b), SL_ENOENT);
    ASSERT_EQ(b->state, SL_BACKEND_FAILED);
    ASSERT_EQ(sl_kafkasink_status(b, &d), SL_ENOENT);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_R_MISSING);
    ASSERT(strstr(d.msg, "absent") != NULL);
    sink_close(loop, b);

    /* An unreachable cluster. */
    cfg = sink_config("127.0.0.1:1", "present", NULL);
    json_object_object_add(cfg, SL_KAFKASINK_ADMIN_TIMEOUT,
                           json_object_new_string("1000"));
    ASSERT_OK(sink_new(loop, cfg, &b, &d));
    ASSERT(sink_open(loop, b) != 0);
    ASSERT(sl_kafkasink_status(b, &d) != 0);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_R_UNREACHABLE);
    sink_close(loop, b);

    tkc_stop(&c);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
}

TEST(lost_cluster_refuses_appends_at_once)
{
    const char *topics[] = { "lost:1", NULL };
    struct sl_event *ev = event("l1", NULL, "x");
    struct sl_backend *b;
    struct sl_loop *loop;
    struct sl_diag d;
    struct tkc c;
    struct box x = { 0 };
    int64_t t0;
    int i;

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));
    ASSERT_OK(sink_new(loop, sink_config(c.bootstrap, "lost", NULL), &b, &d));
    ASSERT_OK(sink_open(loop, b));
    ASSERT_OK(append(loop, b, &ev, 1));
    tkc_kill(&c);
    for (i = 0; i < 100 && sl_kafkasink_status(b, &d) == 0; i++)
        idle(loop, 100);
    ASSERT_EQ(sl_kafkasink_status(b, &d), SL_EIO);
    ASSERT_STR_EQ(d.field, SL_KAFKASINK_R_UNREACHABLE);
    t0 = sl_loop_now_ms(loop);
    ASSERT_OK(sl_backend_append(b, &ev, 1, box_done, &x));
    ASSERT(spin(loop, &x.done, 5000));
    ASSERT_EQ(x.rc, SL_EIO);
    ASSERT(sl_loop_now_ms(loop) - t0 < 1000);
    sl_event_unref(ev);
    sink_close(loop, b);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
}

/* ---- the registry ---- */

struct notes {
    int n;
    bool flag;
};

static void on_notify(void *arg, const char *kind, const char *ns,
                      const char *name)
{
    struct notes *nt = arg;

    ASSERT_STR_EQ(kind, "KafkaSink");
    ASSERT_STR_EQ(ns, "default");
    (void)name;
    nt->n++;
    nt->flag = true;
}

/* Sync until the state is not PENDING (each notify syncs again). */
static enum sl_dp_state sync_settled(struct sl_loop *loop,
                                     struct sl_kafkasinks *ks, struct notes *nt,
                                     const char *name,
                                     const struct json_object *cfg,
                                     struct sl_diag *why)
{
    enum sl_dp_state st;
    int i;

    for (i = 0; i < 100; i++) {
        sl_diag_clear(why);
        nt->flag = false;
        st = sl_kafkasinks_sync(ks, "default", name, cfg, why);
        if (st != SL_DP_PENDING)
            return st;
        spin(loop, &nt->flag, 5000);
    }
    return st;
}

static void on_shutdown(void *arg)
{
    *(bool *)arg = true;
}

TEST(registry_sync_lookup_rebuild_remove)
{
    const char *topics[] = { "reg:2", NULL };
    struct sl_kafkasinks_opts o = { .data_dir = "/tmp" };
    struct json_object *cfg, *cfg2, *bad;
    struct sl_kafkasinks *ks;
    struct notes nt = { 0 };
    struct sl_backend *b, *b2;
    struct sl_loop *loop;
    struct sl_diag why;
    struct tkc c;
    bool down = false;
    int w;

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));
    ASSERT_OK(sl_kafkasinks_new(loop, &o, &ks, NULL));
    sl_kafkasinks_set_notify(ks, on_notify, &nt);
    cfg = sink_config(c.bootstrap, "reg", NULL);

    w = SL_ENOENT;
    ASSERT(sl_kafkasinks_lookup(ks, "default", "s1", &w) == NULL);
    ASSERT_EQ(w, SL_ENOENT);
    ASSERT_EQ(sl_kafkasinks_sync(ks, "default", "s1", cfg, &why),
              SL_DP_PENDING);
    ASSERT_STR_EQ(why.field, "ProducerOpening");
    w = SL_ENOENT;
    ASSERT(sl_kafkasinks_lookup(ks, "default", "s1", &w) == NULL);
    ASSERT_EQ(w, SL_EAGAIN);
    ASSERT_EQ(sync_settled(loop, ks, &nt, "s1", cfg, &why), SL_DP_READY);
    ASSERT(nt.n >= 1);
    b = sl_kafkasinks_lookup(ks, "default", "s1", &w);
    ASSERT(b != NULL && b->state == SL_BACKEND_OPEN);
    ASSERT_EQ(sl_kafkasinks_open(ks), 1);
    /* The same configuration again: nothing changes. */
    ASSERT_EQ(sl_kafkasinks_sync(ks, "default", "s1", cfg, &why), SL_DP_READY);
    ASSERT(sl_kafkasinks_lookup(ks, "default", "s1", &w) == b);

    /* A changed one: a new producer. */
    cfg2 = sink_config(c.bootstrap, "reg", "structured");
    ASSERT_EQ(sync_settled(loop, ks, &nt, "s1", cfg2, &why), SL_DP_READY);
    b2 = sl_kafkasinks_lookup(ks, "default", "s1", &w);
    ASSERT(b2 != NULL && b2->state == SL_BACKEND_OPEN);

    /* A second sink whose topic is missing: FAILED, 503 at the ingress. */
    bad = sink_config(c.bootstrap, "nope", NULL);
    ASSERT_EQ(sync_settled(loop, ks, &nt, "s2", bad, &why), SL_DP_FAILED);
    ASSERT_STR_EQ(why.field, SL_KAFKASINK_R_MISSING);
    w = SL_ENOENT;
    ASSERT(sl_kafkasinks_lookup(ks, "default", "s2", &w) == NULL);
    ASSERT_EQ(w, SL_EIO);

    /* Removed: unknown at once, closed in the background. */
    sl_kafkasinks_remove(ks, "default", "s1");
    w = SL_EAGAIN;
    ASSERT(sl_kafkasinks_lookup(ks, "default", "s1", &w) == NULL);
    ASSERT_EQ(w, SL_ENOENT);
    idle(loop, 200);
    ASSERT_EQ(sl_kafkasinks_open(ks), 0);

    sl_kafkasinks_shutdown(ks, on_shutdown, &down);
    ASSERT(spin(loop, &down, 20000));
    ASSERT_EQ(sl_kafkasinks_sync(ks, "default", "s3", cfg, &why),
              SL_DP_PENDING);
    ASSERT_STR_EQ(why.field, "ShuttingDown");
    sl_kafkasinks_free(ks);
    json_object_put(cfg);
    json_object_put(cfg2);
    json_object_put(bad);
    tkc_stop(&c);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
}

TEST_MAIN()
