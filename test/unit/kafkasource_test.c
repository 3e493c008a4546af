/*
 * test/unit/kafkasource_test.c - the KafkaSource reconciler
 * (control/kafkasource.c) over a real store, loop, controller and set of
 * running sources (control/sources.h), on this thread.
 *
 * Covered: the status without a data plane (sinkUri, ceAttributes per
 * topic, ConsumerGroup False DataPlaneNotAvailable, Ready False); a sink
 * that does not resolve (nothing runs); Secrets of spec.net: a missing
 * Secret and then a missing key named by field, the source reconciled
 * again when the Secret appears; a mechanism sluice does not support; a
 * dead-letter sink that does not resolve yet and then does; consumers
 * that run against the Kafka cluster helper (ConsumerGroup True,
 * status.consumers); a cluster nobody answers at (ClusterUnreachable).
 */
#define _XOPEN_SOURCE 700
#include "test/unit/check.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/control.h"
#include "broker/kafka/kafka.h"
#include "control/sources.h"
#include "core/loop.h"
#include "net/kafka.h"
#include "resource/condition.h"
#include "resource/resource.h"
#include "store/store.h"
#include "test/unit/kafka_cluster.h"
#include "test/unit/resource_fixture.h"

#define KSRC        "sources.knative.dev/KafkaSource"
#define INGRESS     "http://ingress.test:8080"
#define DEADLINE_MS 10000

/* ---- fixture ---- */

struct fx {
    char dir[64];
    struct sl_loop *loop;
    struct sl_store *store;
    struct sl_sources *ss;
    struct sl_ctl *ctl;
    struct sl_timer *tick;
    int64_t deadline;
    bool timed_out;
    bool shut;
};

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fx_open(struct fx *f, bool with_sources)
{
    struct sl_store_opts so;
    struct sl_ctl_opts co = { .ingress_url = INGRESS };
    struct sl_diag d;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-ksrc-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    sl_store_opts_init(&so);
    sl_diag_clear(&d);
    if (sl_store_open(f->dir, &so, &f->store, &d) != 0)
        CHECK_FAIL("cannot open the store: %s", d.msg);
    ASSERT_OK(sl_loop_new(&f->loop));
    if (with_sources) {
        ASSERT_OK(sl_sources_new(f->loop, NULL, &f->ss, &d));
        co.sources = f->ss;
    }
    ASSERT_OK(sl_ctl_new(f->loop, f->store, &co, &f->ctl, &d));
    if (sl_ctl_start(f->ctl, &d) != 0)
        CHECK_FAIL("sl_ctl_start: %s", d.msg);
}

static void fx_shut(void *arg)
{
    struct fx *f = arg;

    f->shut = true;
    sl_loop_stop(f->loop);
}

static void fx_close(struct fx *f)
{
    sl_ctl_free(f->ctl);
    if (f->ss != NULL) {
        sl_sources_shutdown(f->ss, fx_shut, f);
        while (!f->shut)
            ASSERT_OK(sl_loop_run(f->loop));
        sl_sources_free(f->ss);
    }
    sl_timer_free(f->tick);
    sl_store_close(f->store);
    /* Threads the Kafka clients started post their ends to the loop. */
    sl_kafka_admin_drain();
    sl_loop_free(f->loop);
    if (nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        CHECK_FAIL("cannot remove '%s': %s", f->dir, strerror(errno));
}

static void fx_tick(void *arg)
{
    struct fx *f = arg;

    if (sl_ctl_idle(f->ctl)) {
        sl_timer_stop(f->tick);
        sl_loop_stop(f->loop);
    } else if (sl_loop_now_ms(f->loop) > f->deadline) {
        f->timed_out = true;
        sl_timer_stop(f->tick);
        sl_loop_stop(f->loop);
    }
}

/* Run the loop until the controller has nothing left to do. */
static void settle(struct fx *f)
{
    if (f->tick == NULL)
        f->tick = sl_timer_new(f->loop, fx_tick, f);
    f->timed_out = false;
    f->deadline = sl_loop_now_ms(f->loop) + DEADLINE_MS;
    sl_timer_start(f->tick, 1, 1);
    ASSERT_OK(sl_loop_run(f->loop));
    if (f->timed_out)
        CHECK_FAIL("the controller did not become idle in %d ms", DEADLINE_MS);
}

/* Admit 'yaml' and store it. */
static void create(struct fx *f, const char *yaml)
{
    struct json_object *o = fx_yaml(yaml);
    const struct sl_res_kind *k = NULL;
    struct sl_diag d;
    char kk[128], msg[700];

    sl_diag_clear(&d);
    if (sl_res_admit(o, NULL, NULL, &k, &d) != 0)
        CHECK_FAIL("admit: %s", sl_diag_format(&d, msg, sizeof(msg)));
    if (sl_store_create(f->store, sl_res_kind_key(k, kk, sizeof(kk)),
                        k->namespaced, o, NULL, &d) != 0)
        CHECK_FAIL("create: %s", d.msg);
    json_object_put(o);
}

static struct json_object *get(struct fx *f, const char *name)
{
    struct json_object *o = NULL;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_store_get(f->store, KSRC, "default", name, &o, &d) != 0)
        CHECK_FAIL("get %s: %s", name, d.msg);
    return o;
}

static const char *cond(const struct json_object *o, const char *type,
                        const char *field)
{
    struct json_object *c = sl_res_cond_get(o, type), *v;

    if (c == NULL || !json_object_object_get_ex(c, field, &v))
        return NULL;
    return json_object_get_string(v);
}

#define ASSERT_COND(o, type, status, reason)                  \
    do {                                                      \
        ASSERT_STR_EQ(cond((o), (type), "status"), (status)); \
        ASSERT_STR_EQ(cond((o), (type), "reason"), (reason)); \
    } while (0)

static struct json_object *status_of(const struct json_object *o,
                                     const char *field)
{
    struct json_object *st = sl_res_get(o, "status");

    return sl_res_get(st, field);
}

/* Run the loop until ConsumerGroup of 'name' has 'reason' (or fail). */
__attribute__((unused)) static struct json_object *
wait_reason(struct fx *f, const char *name, const char *status,
            const char *reason, int64_t ms)
{
    int64_t end = sl_loop_now_ms(f->loop) + ms;

    for (;;) {
        struct json_object *o;

        settle(f);
        o = get(f, name);
        if (cond(o, "ConsumerGroup", "status") != NULL &&
            strcmp(cond(o, "ConsumerGroup", "status"), status) == 0 &&
            (reason == NULL
                 ? cond(o, "ConsumerGroup", "reason") == NULL
                 : cond(o, "ConsumerGroup", "reason") != NULL &&
                       strcmp(cond(o, "ConsumerGroup", "reason"), reason) == 0))
            return o;
        if (sl_loop_now_ms(f->loop) > end)
            CHECK_FAIL("ConsumerGroup of %s is %s/%s (%s), want %s/%s", name,
                       cond(o, "ConsumerGroup", "status"),
                       cond(o, "ConsumerGroup", "reason"),
                       cond(o, "ConsumerGroup", "message"), status,
                       reason ? reason : "(none)");
        json_object_put(o);
        /* Let the consumers' health timer run. */
        {
            struct sl_timer *t = sl_timer_new(f->loop, fx_shut, f);

            sl_timer_start(t, 100, 0);
            ASSERT_OK(sl_loop_run(f->loop));
            sl_timer_free(t);
            f->shut = false;
        }
    }
}

#define KSRC_HEAD(name)                    \
    "apiVersion: sources.knative.dev/v1\n" \
    "kind: KafkaSource\n"                  \
    "metadata:\n"                          \
    "  name: " name "\n"                   \
    "  namespace: default\n"               \
    "spec:\n"                              \
    "  topics: [orders, refunds]\n"        \
    "  sink: {uri: \"http://sink.test/x\"}\n"

#define SASL_NET                                            \
    "  net:\n"                                              \
    "    sasl:\n"                                           \
    "      enable: true\n"                                  \
    "      user: {secretKeyRef: {name: auth, key: user}}\n" \
    "      password: {secretKeyRef: {name: auth, key: password}}\n"

/* ---- tests ---- */

TEST(status_without_a_data_plane)
{
    struct fx f;
    struct json_object *o, *attrs;

    fx_open(&f, false);
    create(&f, KSRC_HEAD("plain") "  bootstrapServers: [\"127.0.0.1:1\"]\n");
    settle(&f);
    o = get(&f, "plain");
    ASSERT_STR_EQ(json_object_get_string(status_of(o, "sinkUri")),
                  "http://sink.test/x");
    attrs = status_of(o, "ceAttributes");
    ASSERT_EQ(json_object_array_length(attrs), 2);
    ASSERT_STR_EQ(json_object_get_string(sl_res_get(
                      json_object_array_get_idx(attrs, 1), "source")),
                  "/apis/v1/namespaces/default/kafkasources/plain#refunds");
    ASSERT_STR_EQ(json_object_get_string(
                      sl_res_get(json_object_array_get_idx(attrs, 0), "type")),
                  "dev.knative.kafka.event");
    ASSERT_COND(o, "SinkProvided", "True", NULL);
    ASSERT_COND(o, "ConsumerGroup", "False", "DataPlaneNotAvailable");
    ASSERT_COND(o, "Ready", "False", "DataPlaneNotAvailable");
    ASSERT_EQ(json_object_get_int(status_of(o, "consumers")), 0);
    json_object_put(o);
    fx_close(&f);
}

TEST(unresolved_sink_runs_nothing)
{
    struct fx f;
    struct json_object *o;

    fx_open(&f, true);
    create(&f, "apiVersion: sources.knative.dev/v1\n"
               "kind: KafkaSource\n"
               "metadata: {name: nosink, namespace: default}\n"
               "spec:\n"
               "  topics: [t]\n"
               "  bootstrapServers: [\"127.0.0.1:1\"]\n"
               "  sink: {ref: {apiVersion: eventing.knative.dev/v1, kind: "
               "Broker, name: missing}}\n");
    settle(&f);
    o = get(&f, "nosink");
    ASSERT_COND(o, "SinkProvided", "False", "NotFound");
    ASSERT_COND(o, "ConsumerGroup", "Unknown", "SinkNotProvided");
    ASSERT_EQ(sl_sources_running(f.ss), 0);
    json_object_put(o);
    fx_close(&f);
}

TEST(missing_secrets_are_named)
{
    struct fx f;
    struct json_object *o;

    fx_open(&f, true);
    create(&f, KSRC_HEAD(
                   "sasl") "  bootstrapServers: [\"127.0.0.1:1\"]\n" SASL_NET);
    settle(&f);
    o = get(&f, "sasl");
    ASSERT_COND(o, "ConsumerGroup", "False", "SecretNotFound");
    ASSERT(strstr(cond(o, "ConsumerGroup", "message"),
                  "spec.net.sasl.user.secretKeyRef: secret default/auth not "
                  "found") != NULL);
    ASSERT_COND(o, "Ready", "False", "SecretNotFound");
    ASSERT_EQ(sl_sources_running(f.ss), 0);
    json_object_put(o);
    /* The Secret appears with one key: the other one is named. */
    create(&f, "apiVersion: v1\nkind: Secret\n"
               "metadata: {name: auth, namespace: default}\n"
               "stringData: {user: alice}\n");
    settle(&f);
    o = get(&f, "sasl");
    ASSERT_COND(o, "ConsumerGroup", "False", "SecretNotFound");
    ASSERT(strstr(cond(o, "ConsumerGroup", "message"),
                  "spec.net.sasl.password.secretKeyRef: key 'password' not "
                  "found in secret default/auth") != NULL);
    json_object_put(o);
    fx_close(&f);
}

TEST(unsupported_mechanism)
{
    struct fx f;
    struct json_object *o;

    fx_open(&f, true);
    create(&f, "apiVersion: v1\nkind: Secret\n"
               "metadata: {name: auth, namespace: default}\n"
               "stringData: {user: alice, password: pw, type: GSSAPI}\n");
    create(&f,
           KSRC_HEAD("mech") "  bootstrapServers: [\"127.0.0.1:1\"]\n" SASL_NET
                             "      type: {secretKeyRef: "
                             "{name: auth, key: type}}\n");
    settle(&f);
    o = get(&f, "mech");
    ASSERT_COND(o, "ConsumerGroup", "False", "InvalidNetSpec");
    ASSERT(strstr(cond(o, "ConsumerGroup", "message"), "GSSAPI") != NULL);
    json_object_put(o);
    fx_close(&f);
}

TEST(dead_letter_sink_not_resolved)
{
    struct fx f;
    struct json_object *o;

    fx_open(&f, true);
    create(&f, KSRC_HEAD("dls") "  bootstrapServers: [\"127.0.0.1:1\"]\n"
                                "  delivery:\n"
                                "    deadLetterSink: {ref: {apiVersion: "
                                "eventing.knative.dev/v1, kind: Broker, "
                                "name: dead}}\n");
    settle(&f);
    o = get(&f, "dls");
    ASSERT_COND(o, "ConsumerGroup", "False", "DeadLetterSinkNotResolved");
    ASSERT(strstr(cond(o, "ConsumerGroup", "message"),
                  "spec.delivery.deadLetterSink") != NULL);
    ASSERT_EQ(sl_sources_running(f.ss), 0);
    json_object_put(o);
    /* The Broker appears: the source is reconciled again and goes on. */
    create(&f, "apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
               "metadata: {name: dead, namespace: default}\n");
    settle(&f);
    o = get(&f, "dls");
    ASSERT(cond(o, "ConsumerGroup", "reason") == NULL ||
           strcmp(cond(o, "ConsumerGroup", "reason"),
                  "DeadLetterSinkNotResolved") != 0);
    json_object_put(o);
    fx_close(&f);
}

TEST(consumers_run)
{
    static const char *const topics[] = { "orders:2", "refunds:2", NULL };
    struct tkc c;
    struct fx f;
    struct json_object *o;
    char yaml[2048];

    ASSERT_OK(tkc_start(&c, 1, topics));
    fx_open(&f, true);
    snprintf(yaml, sizeof(yaml),
             KSRC_HEAD("live") "  bootstrapServers: [\"%s\"]\n"
                               "  consumers: 2\n",
             c.bootstrap);
    create(&f, yaml);
    o = wait_reason(&f, "live", "True", NULL, 15000);
    ASSERT_EQ(json_object_get_int(status_of(o, "consumers")), 2);
    ASSERT_COND(o, "Ready", "True", NULL);
    ASSERT_EQ(sl_sources_running(f.ss), 1);
    json_object_put(o);
    fx_close(&f);
    tkc_stop(&c);
}

TEST(unreachable_cluster)
{
    struct fx f;
    struct json_object *o;

    fx_open(&f, true);
    create(&f, KSRC_HEAD("far") "  bootstrapServers: [\"127.0.0.1:1\"]\n");
    o = wait_reason(&f, "far", "False", "ClusterUnreachable", 20000);
    ASSERT(strstr(cond(o, "ConsumerGroup", "message"), "127.0.0.1:1") != NULL);
    ASSERT_COND(o, "Ready", "False", "ClusterUnreachable");
    ASSERT_EQ(json_object_get_int(status_of(o, "consumers")), 1);
    json_object_put(o);
    fx_close(&f);
}

TEST_MAIN()
