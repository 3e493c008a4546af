/*
 * test/unit/kafka_backend_test.c - broker/backend.h through the Kafka
 * backend (broker/kafka) against a Kafka-protocol cluster: the test
 * helper (test/helpers/kafka-cluster) as a process each test starts and
 * stops (test/unit/kafka_cluster.h). Covers config validation by key and
 * the topic name, appends after delivery reports, a new group starting at
 * the end (records appended while it joins included), per-partition
 * order, max outstanding, DONE progress surviving a new backend instance
 * (committed offsets), RETRY pushed again when due with its attempts,
 * forget, and the reader of existing topics.
 */
#include "test/unit/check.h"

#include <string.h>
#include <time.h>

#include "broker/backend.h"
#include "broker/kafka/kafka.h"
#include "core/err.h"
#include "core/loop.h"
#include "net/kafka.h"
#include "test/unit/kafka_cluster.h"

#define TOPIC "knative-broker-default-u1"

static int64_t now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- loop helpers ---- */

typedef bool pred_fn(void *arg);

struct waiter {
    struct sl_loop *loop;
    pred_fn *pred;
    void *arg;
    int64_t deadline;
    bool timed_out;
};

static void waiter_tick(void *arg)
{
    struct waiter *w = arg;

    if (w->pred && w->pred(w->arg))
        sl_loop_stop(w->loop);
    else if (now_wall() >= w->deadline) {
        w->timed_out = true;
        sl_loop_stop(w->loop);
    }
}

/* Run the loop until pred(arg) (fail after ms), or for ms when NULL. */
static void run_until(struct sl_loop *loop, pred_fn *pred, void *arg, int ms)
{
    struct waiter w = { loop, pred, arg, now_wall() + ms, false };
    struct sl_timer *t = sl_timer_new(loop, waiter_tick, &w);

    sl_timer_start(t, 0, 5);
    ASSERT_OK(sl_loop_run(loop));
    sl_timer_free(t);
    if (pred)
        ASSERT(!w.timed_out);
}

struct rc_box {
    bool done;
    int rc;
};

static void box_done(void *arg, int rc)
{
    struct rc_box *x = arg;

    x->done = true;
    x->rc = rc;
}

static bool box_ready(void *arg)
{
    return ((struct rc_box *)arg)->done;
}

/* ---- fixture ---- */

struct fx {
    struct tkc c;
    struct sl_loop *loop;
    struct sl_backend *b;
};

static struct json_object *mk_config(const char *bootstrap)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "bootstrap.servers",
                           json_object_new_string(bootstrap));
    return o;
}

static void fx_open(struct fx *f)
{
    struct json_object *config = mk_config(f->c.bootstrap);
    struct sl_backend_cfg cfg = { .loop = f->loop,
                                  .ns = "default",
                                  .name = "u1",
                                  .data_dir = "/nonexistent",
                                  .config = config };
    struct rc_box x = { 0 };

    ASSERT_OK(sl_backend_new(&sl_backend_kafka, &cfg, &f->b, NULL));
    json_object_put(config);
    sl_backend_open(f->b, box_done, &x);
    run_until(f->loop, box_ready, &x, 20000);
    ASSERT_OK(x.rc);
    ASSERT_OK(sl_backend_health(f->b, NULL));
}

static void fx_close(struct fx *f)
{
    struct rc_box x = { 0 };

    sl_backend_close(f->b, box_done, &x);
    run_until(f->loop, box_ready, &x, 20000);
    ASSERT_OK(x.rc);
    sl_backend_free(f->b);
    f->b = NULL;
}

static void fx_init(struct fx *f)
{
    static const char *const topics[] = { TOPIC ":2", NULL };

    memset(f, 0, sizeof(*f));
    ASSERT_OK(tkc_start(&f->c, 1, topics));
    ASSERT_OK(sl_loop_new(&f->loop));
    fx_open(f);
}

static void fx_fini(struct fx *f)
{
    if (f->b)
        fx_close(f);
    /* let posted consumer closes start, then wait for every job */
    run_until(f->loop, NULL, NULL, 50);
    sl_kafka_admin_drain();
    sl_loop_free(f->loop);
    tkc_stop(&f->c);
}

static struct sl_event *mk_event(const char *id, const char *key)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", id, NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/test", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t.test", NULL));
    if (key)
        ASSERT_OK(sl_event_set_str(ev, "partitionkey", key, NULL));
    sl_event_set_data(ev, id, strlen(id));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* Append "<prefix><i>" for i in [first, last], key "k<i % nkeys>". */
static void append_range(struct fx *f, const char *prefix, int first, int last,
                         int nkeys)
{
    int n = last - first + 1;
    struct rc_box *xs = sl_xcalloc((size_t)n, sizeof(*xs));

    for (int i = 0; i < n; i++) {
        char id[32], key[16];
        snprintf(id, sizeof(id), "%s%d", prefix, first + i);
        snprintf(key, sizeof(key), "k%d", (first + i) % nkeys);
        struct sl_event *ev = mk_event(id, key);
        ASSERT_OK(sl_backend_append(f->b, &ev, 1, box_done, &xs[i]));
        sl_event_unref(ev);
    }
    for (int i = 0; i < n; i++) {
        run_until(f->loop, box_ready, &xs[i], 15000);
        ASSERT_OK(xs[i].rc);
    }
    sl_free(xs);
}

/* ---- a recording subscriber ---- */

#define MAXREC 512

struct got {
    struct sl_backend_sub *sub;
    char ids[MAXREC][32];
    int32_t part[MAXREC];
    uint64_t off[MAXREC];
    uint32_t attempts[MAXREC];
    int n;
    uint32_t max_seen; /* most records out at once */
    /* records held (not settled) */
    const struct sl_record *held[MAXREC];
    int nheld;
    bool hold;        /* keep records instead of settling them */
    int retry_first;  /* RETRY the first attempt of ids ending in this */
    int64_t retry_ms; /* RETRY delay */
};

static void on_rec(void *arg, struct sl_backend_sub *sub,
                   const struct sl_record *rec)
{
    struct got *g = arg;
    const char *id = sl_event_id(rec->ev);

    ASSERT(g->n < MAXREC);
    snprintf(g->ids[g->n], sizeof(g->ids[0]), "%s", id);
    g->part[g->n] = rec->pos.partition;
    g->off[g->n] = rec->pos.offset;
    g->attempts[g->n] = rec->attempts;
    g->n++;
    if (sub->outstanding > g->max_seen)
        g->max_seen = sub->outstanding;
    if (g->hold) {
        g->held[g->nheld++] = rec;
        return;
    }
    if (g->retry_first >= 0 && rec->attempts == 0 &&
        (id[strlen(id) - 1] - '0') == g->retry_first) {
        struct sl_settle how = { SL_SETTLE_RETRY, now_wall() + g->retry_ms, 1 };
        ASSERT_OK(sl_backend_settle(sub, rec, &how));
        return;
    }
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    ASSERT_OK(sl_backend_settle(sub, rec, &done));
}

static void got_sub(struct fx *f, struct got *g, const char *group,
                    uint32_t max)
{
    struct sl_backend_sub_opts o = { .max_outstanding = max };

    ASSERT_OK(sl_backend_subscribe(f->b, group, &o, on_rec, g, &g->sub));
}

struct count_arg {
    struct got *g;
    int n;
};

static bool got_n(void *arg)
{
    struct count_arg *c = arg;

    return c->g->n >= c->n;
}

static void wait_n(struct fx *f, struct got *g, int n)
{
    struct count_arg c = { g, n };

    run_until(f->loop, got_n, &c, 30000);
}

static int got_index(const struct got *g, const char *id)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->ids[i], id) == 0)
            return i;
    return -1;
}

/* ---- tests ---- */

TEST(validate_names_the_key)
{
    struct json_object *broker = json_tokener_parse(
        "{\"metadata\":{\"namespace\":\"default\",\"name\":\"b\"}}");
    struct json_object *c = json_object_new_object();
    struct sl_diag d;
    char topic[300];

    sl_diag_clear(&d);
    ASSERT_EQ(sl_backend_kafka.validate(broker, c, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "spec.config");
    ASSERT(strstr(d.msg, "bootstrap.servers is required") != NULL);
    json_object_object_add(c, "bootstrap.servers",
                           json_object_new_string("127.0.0.1:1"));
    ASSERT_OK(sl_backend_kafka.validate(broker, c, &d));
    json_object_object_add(c, "default.topic.replication.factor",
                           json_object_new_string("-1"));
    ASSERT_EQ(sl_backend_kafka.validate(broker, c, &d), SL_EINVAL);
    ASSERT(strncmp(d.msg, "default.topic.replication.factor", 32) == 0);
    json_object_object_add(c, "default.topic.replication.factor",
                           json_object_new_string("3"));
    json_object_object_add(c, SL_KAFKA_CFG_SECRET_PREFIX "protocol",
                           json_object_new_string("TLS"));
    ASSERT_EQ(sl_backend_kafka.validate(broker, c, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "protocol 'TLS'") != NULL);
    json_object_object_add(c, SL_KAFKA_CFG_SECRET_PREFIX "protocol",
                           json_object_new_string("SASL_SSL"));
    ASSERT_OK(sl_backend_kafka.validate(broker, c, &d));
    json_object_object_add(c, SL_KAFKA_CFG_EXTERNAL_TOPIC,
                           json_object_new_string("bad/topic"));
    ASSERT_EQ(sl_backend_kafka.validate(broker, c, &d), SL_EINVAL);
    ASSERT(strstr(d.field, "external.topic") != NULL);

    /* Topic names: Knative's, or the external one. */
    ASSERT_EQ(sl_kafka_broker_topic("a", "b", NULL, topic, sizeof(topic)), 0);
    ASSERT_STR_EQ(topic, "knative-broker-a-b");
    json_object_object_add(c, SL_KAFKA_CFG_EXTERNAL_TOPIC,
                           json_object_new_string("mine"));
    ASSERT_OK(sl_kafka_broker_topic("a", "b", c, topic, sizeof(topic)));
    ASSERT_STR_EQ(topic, "mine");
    ASSERT_EQ(sl_kafka_broker_topic("a", "b", c, topic, 3), SL_ETOOBIG);
    {
        char name[300];
        memset(name, 'n', 250);
        name[250] = '\0';
        ASSERT_EQ(sl_kafka_broker_topic("a", name, NULL, topic, sizeof(topic)),
                  SL_EINVAL);
    }
    json_object_put(c);
    json_object_put(broker);
}

TEST(new_group_starts_at_the_end_then_order_and_limits)
{
    struct fx f;
    struct got g = { .retry_first = -1 };

    fx_init(&f);
    append_range(&f, "old", 0, 4, 3); /* before the group: not for it */
    got_sub(&f, &g, "g1", 4);
    /* appended while the group is still joining: for it */
    append_range(&f, "e", 0, 39, 3);
    wait_n(&f, &g, 40);
    run_until(f.loop, NULL, NULL, 300);
    ASSERT_EQ(g.n, 40);
    for (int i = 0; i < g.n; i++)
        ASSERT(strncmp(g.ids[i], "e", 1) == 0);
    ASSERT(g.max_seen <= 4);
    /* per key (so per partition) in append order */
    for (int k = 0; k < 3; k++) {
        int last = -1;
        for (int i = k; i < 40; i += 3) {
            char id[16];
            snprintf(id, sizeof(id), "e%d", i);
            int at = got_index(&g, id);
            ASSERT(at > last);
            last = at;
        }
    }
    struct sl_backend_stats st;
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.events, 45);
    /* one live subscription per group */
    struct sl_backend_sub *dup;
    struct sl_backend_sub_opts o = { 0 };
    ASSERT_EQ(sl_backend_subscribe(f.b, "g1", &o, on_rec, &g, &dup), SL_EEXIST);
    sl_backend_unsubscribe(g.sub);
    fx_fini(&f);
}

TEST(progress_survives_a_new_instance_and_unsettled_come_again)
{
    struct fx f;
    struct got g = { .retry_first = -1 }, h = { .retry_first = -1 };

    fx_init(&f);
    got_sub(&f, &g, "g2", 64);
    append_range(&f, "a", 0, 9, 2);
    wait_n(&f, &g, 10);
    /* let the commit timer run */
    run_until(f.loop, NULL, NULL, 600);
    g.hold = true;
    append_range(&f, "b", 0, 5, 2);
    wait_n(&f, &g, 16);
    ASSERT_EQ(g.nheld, 6);
    /* settle b0 only: progress of its partition may pass it, no more */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    ASSERT_OK(sl_backend_settle(g.sub, g.held[0], &done));
    ASSERT_EQ(sl_backend_settle(g.sub, g.held[0], &done), SL_EINVAL);
    run_until(f.loop, NULL, NULL, 600);
    sl_backend_unsubscribe(g.sub);
    fx_close(&f);

    /* A new instance: the group resumes from its committed offsets. */
    fx_open(&f);
    got_sub(&f, &h, "g2", 64);
    wait_n(&f, &h, 5);
    run_until(f.loop, NULL, NULL, 500);
    ASSERT_EQ(h.n, 5);
    for (int i = 0; i < h.n; i++)
        ASSERT(h.ids[i][0] == 'b' && strcmp(h.ids[i], "b0") != 0);
    sl_backend_unsubscribe(h.sub);
    fx_fini(&f);
}

TEST(retry_comes_again_when_due_with_its_attempts)
{
    struct fx f;
    struct got g = { .retry_first = 3, .retry_ms = 300 };

    fx_init(&f);
    got_sub(&f, &g, "g3", 8);
    append_range(&f, "r", 0, 9, 2);
    int64_t t0 = now_wall();
    wait_n(&f, &g, 11); /* r3 twice */
    int first = got_index(&g, "r3");
    ASSERT(first >= 0);
    int again = -1;
    for (int i = first + 1; i < g.n; i++)
        if (strcmp(g.ids[i], "r3") == 0)
            again = i;
    ASSERT(again > first);
    ASSERT_EQ(g.attempts[first], 0);
    ASSERT_EQ(g.attempts[again], 1);
    ASSERT(now_wall() - t0 >= 250);
    sl_backend_unsubscribe(g.sub);
    fx_fini(&f);
}

TEST(forget_makes_the_group_new_again)
{
    struct fx f;
    struct got g = { .retry_first = -1 }, h = { .retry_first = -1 };
    struct rc_box x = { 0 };

    fx_init(&f);
    got_sub(&f, &g, "g4", 16);
    append_range(&f, "a", 0, 3, 2);
    wait_n(&f, &g, 4);
    g.hold = true; /* unsettled when it goes */
    append_range(&f, "b", 0, 3, 2);
    wait_n(&f, &g, 8);
    sl_backend_unsubscribe(g.sub);
    sl_backend_forget(f.b, "g4", box_done, &x);
    run_until(f.loop, box_ready, &x, 20000);
    ASSERT_OK(x.rc);
    append_range(&f, "c", 0, 3, 2); /* after the forget: not for it */
    got_sub(&f, &h, "g4", 16);
    append_range(&f, "d", 0, 3, 2);
    wait_n(&f, &h, 4);
    run_until(f.loop, NULL, NULL, 500);
    ASSERT_EQ(h.n, 4);
    for (int i = 0; i < h.n; i++)
        ASSERT(h.ids[i][0] == 'd');
    sl_backend_unsubscribe(h.sub);
    fx_fini(&f);
}

struct prod_box {
    bool done;
    int rc;
};

static void prod_done(void *arg, int rc, int32_t partition, int64_t offset,
                      const char *msg)
{
    struct prod_box *x = arg;

    (void)partition;
    (void)offset;
    (void)msg;
    x->done = true;
    x->rc = rc;
}

static bool prod_ready(void *arg)
{
    return ((struct prod_box *)arg)->done;
}

static void flag_set(void *arg)
{
    *(bool *)arg = true;
}

static bool flag_ready(void *arg)
{
    return *(bool *)arg;
}

static struct sl_event *decode_all(void *arg, const struct sl_kafka_origin *o,
                                   const struct sl_kafka_record *rec)
{
    char id[64];
    int *n = arg;

    if (rec->value_len == 4 && memcmp(rec->value, "skip", 4) == 0)
        return NULL;
    (*n)++;
    snprintf(id, sizeof(id), "%s-%d-%lld", o->topic, (int)o->partition,
             (long long)o->offset);
    return mk_event(id, NULL);
}

TEST(reader_reads_existing_topics)
{
    static const char *const topics[] = { "rt1:1", "rt2:1", NULL };
    const char *names[] = { "rt1", "rt2" };
    struct tkc c;
    struct sl_loop *loop;
    struct sl_backend *b;
    struct sl_diag d;
    struct got g = { .retry_first = -1 };
    struct rc_box x = { 0 };
    int decoded = 0;

    ASSERT_OK(tkc_start(&c, 1, topics));
    ASSERT_OK(sl_loop_new(&loop));
    struct json_object *props = mk_config(c.bootstrap);
    struct sl_kafka_reader_cfg rc = { .loop = loop,
                                      .props = props,
                                      .topics = names,
                                      .ntopics = 2,
                                      .earliest = true,
                                      .decode = decode_all,
                                      .decode_arg = &decoded,
                                      .log_name = "default/src" };
    /* bad topics are refused */
    const char *bad[] = { "no/pe" };
    struct sl_kafka_reader_cfg rb = rc;
    rb.topics = bad;
    rb.ntopics = 1;
    sl_diag_clear(&d);
    ASSERT_EQ(sl_kafka_reader_new(&rb, &b, &d), SL_EINVAL);
    rb.ntopics = 0;
    ASSERT_EQ(sl_kafka_reader_new(&rb, &b, &d), SL_EINVAL);

    /* records already there, and one the hook skips */
    struct sl_kafka_producer *p;
    ASSERT_OK(sl_kafka_producer_new(loop, props, "t", &p, NULL));
    struct prod_box px[3] = { 0 };
    static const char *vals[] = { "one", "skip", "two" };
    for (int i = 0; i < 3; i++) {
        struct sl_kafka_record r = { .value = vals[i],
                                     .value_len = strlen(vals[i]) };
        ASSERT_OK(sl_kafka_produce(p, names[i % 2], 0, &r, prod_done, &px[i]));
    }
    for (int i = 0; i < 3; i++) {
        run_until(loop, prod_ready, &px[i], 10000);
        ASSERT_OK(px[i].rc);
    }
    bool closed = false;
    sl_kafka_producer_close(p, 5000, flag_set, &closed);
    run_until(loop, flag_ready, &closed, 10000);

    ASSERT_OK(sl_kafka_reader_new(&rc, &b, &d));
    sl_backend_open(b, box_done, &x);
    run_until(loop, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    struct sl_event *ev = mk_event("x", NULL);
    struct rc_box ax = { 0 };
    ASSERT_EQ(sl_backend_append(b, &ev, 1, box_done, &ax), SL_ENOTSUP);
    sl_event_unref(ev);
    struct sl_backend_sub_opts o = { .max_outstanding = 8 };
    ASSERT_OK(sl_backend_subscribe(b, "rg", &o, on_rec, &g, &g.sub));
    struct count_arg ca = { &g, 2 };
    run_until(loop, got_n, &ca, 30000);
    run_until(loop, NULL, NULL, 300);
    ASSERT_EQ(g.n, 2);
    ASSERT(got_index(&g, "rt1-0-0") >= 0);
    ASSERT(got_index(&g, "rt1-0-1") >= 0);
    ASSERT_EQ(g.part[0], 0);
    ASSERT_OK(sl_backend_health(b, NULL));
    sl_backend_unsubscribe(g.sub);
    struct rc_box cx = { 0 };
    sl_backend_close(b, box_done, &cx);
    run_until(loop, box_ready, &cx, 5000);
    sl_backend_free(b);
    json_object_put(props);
    run_until(loop, NULL, NULL, 50);
    sl_kafka_admin_drain();
    sl_loop_free(loop);
    tkc_stop(&c);
}

TEST_MAIN()
