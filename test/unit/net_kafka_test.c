/*
 * test/unit/net_kafka_test.c - net/kafka.c against a real Kafka-protocol
 * cluster (the test helper, a process of its own): configuration errors,
 * the producer's delivery reports through the loop pump, reachability,
 * topic administration, and what happens when the cluster vanishes.
 */
#include "test/unit/check.h"

#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/loop.h"
#include "net/kafka.h"
#include "proto/kafka.h"
#include "test/unit/kafka_cluster.h"

/* Run 'loop' until *flag is set or ms pass; returns *flag. */
static bool spin(struct sl_loop *loop, const bool *flag, int64_t ms);

static void stop_loop(void *arg)
{
    sl_loop_stop(arg);
}

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

static struct json_object *props_for(const char *bootstrap)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "bootstrap.servers",
                           json_object_new_string(bootstrap));
    return o;
}

TEST(conf_names_the_property)
{
    struct sl_diag d;
    rd_kafka_conf_t *conf;
    struct json_object *o = json_object_new_object();

    sl_diag_clear(&d);
    ASSERT_EQ(sl_kafka_conf_new(o, NULL, &conf, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "bootstrap.servers");
    ASSERT(conf == NULL);
    json_object_object_add(o, "bootstrap.servers",
                           json_object_new_string("127.0.0.1:1"));
    json_object_object_add(o, "no.such.property", json_object_new_string("1"));
    ASSERT_EQ(sl_kafka_conf_new(o, NULL, &conf, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "no.such.property");
    json_object_object_del(o, "no.such.property");
    json_object_object_add(o, "linger.ms", json_object_new_int(5));
    ASSERT_EQ(sl_kafka_conf_new(o, NULL, &conf, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "linger.ms");
    json_object_object_del(o, "linger.ms");
    ASSERT_OK(sl_kafka_conf_new(o, "t", &conf, &d));
    rd_kafka_conf_destroy(conf);
    json_object_put(o);
}

TEST(producer_refuses_weaker_acks)
{
    struct sl_loop *loop;
    struct sl_kafka_producer *p;
    struct sl_diag d;
    struct json_object *o = props_for("127.0.0.1:1");

    ASSERT_OK(sl_loop_new(&loop));
    json_object_object_add(o, "acks", json_object_new_string("1"));
    ASSERT_EQ(sl_kafka_producer_new(loop, o, NULL, &p, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "acks");
    json_object_object_del(o, "acks");
    json_object_object_add(o, "enable.idempotence",
                           json_object_new_string("false"));
    ASSERT_EQ(sl_kafka_producer_new(loop, o, NULL, &p, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "enable.idempotence");
    json_object_put(o);
    sl_loop_free(loop);
}

struct produced {
    bool done;
    int rc;
    int32_t partition;
    int64_t offset;
};

static void on_produced(void *arg, int rc, int32_t partition, int64_t offset,
                        const char *msg)
{
    struct produced *r = arg;

    (void)msg;
    r->done = true;
    r->rc = rc;
    r->partition = partition;
    r->offset = offset;
}

struct admin_res {
    bool done;
    int rc, partitions;
    char msg[400];
};

static void on_admin(void *arg, int rc, int partitions, const char *msg)
{
    struct admin_res *r = arg;

    r->done = true;
    r->rc = rc;
    r->partitions = partitions;
    snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void on_closed(void *arg)
{
    *(bool *)arg = true;
}

static bool reach_up(const struct sl_kafka_producer *p)
{
    return sl_kafka_producer_reach(p)->brokers_up > 0;
}

TEST(produce_admin_and_loss_of_the_cluster)
{
    const char *topics[] = { "t1:3", NULL };
    struct tkc c;
    struct sl_loop *loop;
    struct sl_kafka_producer *p;
    struct sl_diag d;
    struct json_object *o;
    struct sl_kafka_header h[2] = { { "ce_specversion", "1.0", 3 },
                                    { "nullvalue", NULL, 0 } };
    struct sl_kafka_record rec = { h, 2, "k", 1, "value", 5 };
    struct produced r1 = { 0 }, r2 = { 0 };
    struct admin_res a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
    struct sl_kafka_topic_spec spec = { "t1", 0, 0, NULL };
    struct sl_kafka_topic_spec missing = { "nope", 0, 0, NULL };
    bool closed = false, up = false;
    int i;

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));
    o = props_for(c.bootstrap);
    json_object_object_add(o, "message.timeout.ms",
                           json_object_new_string("1500"));
    ASSERT_OK(sl_kafka_producer_new(loop, o, "net-kafka-test", &p, &d));

    /* a record is reported on the loop, with its place */
    ASSERT_OK(sl_kafka_produce(p, "t1", 1, &rec, on_produced, &r1));
    ASSERT_EQ(sl_kafka_producer_pending(p), 1);
    ASSERT(spin(loop, &r1.done, 10000));
    ASSERT_EQ(r1.rc, 0);
    ASSERT_EQ(r1.partition, 1);
    ASSERT_EQ(r1.offset, 0);
    ASSERT_EQ(sl_kafka_producer_pending(p), 0);

    /* statistics say the cluster is reachable */
    for (i = 0; i < 300 && !reach_up(p); i++)
        spin(loop, &up, 10);
    ASSERT(reach_up(p));

    /* admin: an existing topic, a missing one */
    ASSERT_OK(sl_kafka_topic_admin(loop, o, &spec, SL_KAFKA_TOPIC_CHECK, 5000,
                                   on_admin, &a1, NULL, &d));
    ASSERT_OK(sl_kafka_topic_admin(loop, o, &missing, SL_KAFKA_TOPIC_CHECK,
                                   5000, on_admin, &a2, NULL, &d));
    ASSERT(spin(loop, &a1.done, 10000));
    ASSERT(spin(loop, &a2.done, 10000));
    ASSERT_EQ(a1.rc, 0);
    ASSERT_EQ(a1.partitions, 3);
    ASSERT_EQ(a2.rc, SL_ENOENT);
    ASSERT(strstr(a2.msg, "nope") != NULL);

    /* the cluster vanishes: the record times out, the statistics notice,
     * and admin says the cluster is unreachable */
    tkc_kill(&c);
    ASSERT_OK(sl_kafka_produce(p, "t1", 0, &rec, on_produced, &r2));
    ASSERT(spin(loop, &r2.done, 15000));
    ASSERT_EQ(r2.rc, SL_ETIMEDOUT);
    for (i = 0; i < 500 && reach_up(p); i++)
        spin(loop, &up, 10);
    ASSERT(!reach_up(p));
    ASSERT_OK(sl_kafka_topic_admin(loop, o, &spec, SL_KAFKA_TOPIC_CHECK, 1000,
                                   on_admin, &a3, NULL, &d));
    ASSERT(spin(loop, &a3.done, 10000));
    ASSERT(a3.rc == SL_ETIMEDOUT || a3.rc == SL_EIO);
    ASSERT(strstr(a3.msg, "unreachable") != NULL);

    sl_kafka_producer_close(p, 1000, on_closed, &closed);
    ASSERT(spin(loop, &closed, 10000));
    json_object_put(o);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
}

TEST(cancelled_admin_never_calls_back)
{
    struct sl_loop *loop;
    struct sl_diag d;
    struct sl_kafka_admin *op;
    struct admin_res a = { 0 };
    struct sl_kafka_topic_spec spec = { "t", 0, 0, NULL };
    struct json_object *o = props_for("127.0.0.1:1");

    ASSERT_OK(sl_loop_new(&loop));
    ASSERT_OK(sl_kafka_topic_admin(loop, o, &spec, SL_KAFKA_TOPIC_CHECK, 300,
                                   on_admin, &a, &op, &d));
    sl_kafka_admin_cancel(op);
    sl_kafka_admin_drain();
    spin(loop, &a.done, 200);
    ASSERT(!a.done);
    json_object_put(o);
    sl_loop_free(loop);
}

TEST_MAIN()
