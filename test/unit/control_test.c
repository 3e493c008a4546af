/*
 * test/unit/control_test.c - control/: the reconcile loop over a real
 * store and loop, on this thread.
 *
 * Objects are admitted (resource/ defaults) and written straight into the
 * store; the loop then runs until the controller is idle (a 1 ms timer
 * checks sl_ctl_idle() and stops it; a deadline fails the test instead of
 * hanging). Covered: Broker and KafkaSink addresses and conditions,
 * Namespace phase, a Trigger waiting for its Broker and woken when it is
 * created and deleted, subscriber resolution (uri, core Service ref,
 * Broker and KafkaSink refs, ref plus relative uri, missing target),
 * dead-letter sinks of the Trigger or inherited from the Broker, the
 * knative.dev/dependency annotation, observedGeneration, stable
 * lastTransitionTime, a quiet system writing nothing (also across a
 * controller restart), de-duplication of queued keys, and retries of a
 * status write that keeps failing.
 *
 * Every test works in its own directory under /tmp and removes it.
 */
#define _XOPEN_SOURCE 700
#include "test/unit/check.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/control.h"
#include "core/loop.h"
#include "resource/condition.h"
#include "resource/resource.h"
#include "store/store.h"
#include "test/unit/resource_fixture.h"

#define BROKER    "eventing.knative.dev/Broker"
#define TRIGGER   "eventing.knative.dev/Trigger"
#define KAFKASINK "eventing.knative.dev/KafkaSink"
#define NS_KIND   "Namespace"

#define INGRESS     "http://ingress.test:8080"
#define DEADLINE_MS 10000
#define OLD_TIME    "2020-01-02T03:04:05Z"

/* ---- fixture ---- */

struct fx {
    char dir[64];
    struct sl_loop *loop;
    struct sl_store *store;
    struct sl_ctl *ctl;
    struct sl_timer *tick, *probe;
    int64_t deadline;
    bool timed_out;
    /* de-duplication probe: idle state seen after the first loop turn */
    bool probe_ran, probe_idle;
};

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void ctl_up(struct fx *f)
{
    struct sl_ctl_opts co = { .ingress_url = INGRESS };
    struct sl_diag d;

    sl_diag_clear(&d);
    ASSERT_OK(sl_ctl_new(f->loop, f->store, &co, &f->ctl, &d));
    if (sl_ctl_start(f->ctl, &d) != 0)
        CHECK_FAIL("sl_ctl_start: %s", d.msg);
}

static void fx_open(struct fx *f, size_t max_object_bytes)
{
    struct sl_store_opts so;
    struct sl_diag d;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-control-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    sl_store_opts_init(&so);
    if (max_object_bytes > 0)
        so.max_object_bytes = max_object_bytes;
    sl_diag_clear(&d);
    if (sl_store_open(f->dir, &so, &f->store, &d) != 0)
        CHECK_FAIL("cannot open the store: %s", d.msg);
    ASSERT_OK(sl_loop_new(&f->loop));
    ctl_up(f);
}

static void fx_close(struct fx *f)
{
    sl_ctl_free(f->ctl);
    sl_timer_free(f->tick);
    sl_timer_free(f->probe);
    sl_store_close(f->store);
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
    ASSERT(sl_ctl_idle(f->ctl));
}

/* Run the loop for 'ms' whatever the controller does. */
static void fx_stop_now(void *arg)
{
    struct fx *f = arg;

    sl_loop_stop(f->loop);
}

static void run_for(struct fx *f, uint64_t ms)
{
    struct sl_timer *t = sl_timer_new(f->loop, fx_stop_now, f);

    sl_timer_start(t, ms, 0);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
}

/* Admit 'yaml' and store it (kind key from the document). */
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

/* The stored object (caller puts); fails when absent. */
static struct json_object *get(struct fx *f, const char *kind, const char *ns,
                               const char *name)
{
    struct json_object *o = NULL;
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_store_get(f->store, kind, ns, name, &o, &d) != 0)
        CHECK_FAIL("get %s %s/%s: %s", kind, ns, name, d.msg);
    return o;
}

/* Replace a stored object by admitted 'yaml' (an update, spec or meta). */
static void update(struct fx *f, const char *yaml)
{
    struct json_object *o = fx_yaml(yaml), *old;
    const struct sl_res_kind *k = sl_res_kind_of(o);
    struct json_object *m = NULL, *n = NULL, *ns = NULL;
    struct sl_diag d;
    char kk[128], msg[700];

    ASSERT(k != NULL);
    json_object_object_get_ex(o, "metadata", &m);
    json_object_object_get_ex(m, "name", &n);
    if (!json_object_object_get_ex(m, "namespace", &ns))
        ns = NULL;
    sl_res_kind_key(k, kk, sizeof(kk));
    old = get(f, kk, ns ? json_object_get_string(ns) : "default",
              json_object_get_string(n));
    sl_diag_clear(&d);
    if (sl_res_admit(o, old, NULL, NULL, &d) != 0)
        CHECK_FAIL("admit: %s", sl_diag_format(&d, msg, sizeof(msg)));
    if (sl_store_update(f->store, kk, k->namespaced, o, NULL, NULL, &d) != 0)
        CHECK_FAIL("update: %s", d.msg);
    json_object_put(old);
    json_object_put(o);
}

static void del(struct fx *f, const char *kind, const char *ns,
                const char *name)
{
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_store_delete(f->store, kind, ns, name, 0, NULL, &d) != 0)
        CHECK_FAIL("delete %s %s/%s: %s", kind, ns, name, d.msg);
}

/* The value at a dotted path ("status.address.url"), or NULL. */
static struct json_object *dig(const struct json_object *o, const char *path)
{
    struct json_object *v = (struct json_object *)o;
    char buf[256], *save = NULL, *part;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part != NULL;
         part = strtok_r(NULL, ".", &save))
        if (v == NULL || !json_object_is_type(v, json_type_object) ||
            !json_object_object_get_ex(v, part, &v))
            return NULL;
    return v;
}

/* The string at 'path', NULL when absent or not a string. */
static const char *str(const struct json_object *o, const char *path)
{
    struct json_object *v = dig(o, path);

    return v != NULL && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static int64_t num(const struct json_object *o, const char *path)
{
    struct json_object *v = dig(o, path);

    return v != NULL && json_object_is_type(v, json_type_int)
               ? json_object_get_int64(v)
               : -1;
}

/* Field 'field' of condition 'type' (NULL when either is absent). */
static const char *cond(const struct json_object *o, const char *type,
                        const char *field)
{
    struct json_object *c = sl_res_cond_get(o, type), *v;

    if (c == NULL || !json_object_object_get_ex(c, field, &v))
        return NULL;
    return json_object_get_string(v);
}

/* Assert condition 'type' has 'status' and 'reason' (NULL: none). */
#define ASSERT_COND(o, type, status, reason)                  \
    do {                                                      \
        ASSERT_STR_EQ(cond((o), (type), "status"), (status)); \
        ASSERT_STR_EQ(cond((o), (type), "reason"), (reason)); \
    } while (0)

/* A Kubernetes condition time: RFC 3339 in whole seconds, UTC. */
static bool whole_seconds_utc(const char *t)
{
    int y, mo, d, h, mi, s, n = 0;

    return t != NULL && strlen(t) == 20 &&
           sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s,
                  &n) == 6 &&
           n == 20 && y >= 2024;
}

/* Set every condition's lastTransitionTime of the stored status to
 * OLD_TIME, and condition 'flip' (may be NULL) to status Unknown. */
static void age_conditions(struct fx *f, const char *kind, const char *name,
                           const char *flip)
{
    struct json_object *o = get(f, kind, "default", name), *st = NULL, *conds;
    struct sl_diag d;
    size_t i;

    ASSERT_OK(json_object_deep_copy(dig(o, "status"), &st, NULL));
    conds = dig(st, "conditions");
    ASSERT(conds != NULL && json_object_array_length(conds) > 0);
    for (i = 0; i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);

        json_object_object_add(c, "lastTransitionTime",
                               json_object_new_string(OLD_TIME));
        if (flip != NULL && strcmp(str(c, "type"), flip) == 0)
            json_object_object_add(c, "status",
                                   json_object_new_string("Unknown"));
    }
    sl_diag_clear(&d);
    ASSERT_OK(sl_store_update_status(f->store, kind, "default", name, st, 0,
                                     NULL, NULL, &d));
    json_object_put(st);
    json_object_put(o);
}

/* ---- documents ---- */

#define NS_YAML(name)   \
    "apiVersion: v1\n"  \
    "kind: Namespace\n" \
    "metadata:\n"       \
    "  name: " name "\n"

#define BROKER_YAML(name)                   \
    "apiVersion: eventing.knative.dev/v1\n" \
    "kind: Broker\n"                        \
    "metadata:\n"                           \
    "  name: " name "\n"                    \
    "  namespace: default\n"

#define TRIGGER_HEAD(name, broker)          \
    "apiVersion: eventing.knative.dev/v1\n" \
    "kind: Trigger\n"                       \
    "metadata:\n"                           \
    "  name: " name "\n"                    \
    "  namespace: default\n"                \
    "spec:\n"                               \
    "  broker: " broker "\n"

#define KAFKASINK_YAML(name)                      \
    "apiVersion: eventing.knative.dev/v1alpha1\n" \
    "kind: KafkaSink\n"                           \
    "metadata:\n"                                 \
    "  name: " name "\n"                          \
    "  namespace: default\n"                      \
    "spec:\n"                                     \
    "  topic: t\n"                                \
    "  bootstrapServers: [\"k:9092\"]\n"

#define SUB_URI(u)    \
    "  subscriber:\n" \
    "    uri: " u "\n"

#define SUB_REF(av, kind, name)  \
    "  subscriber:\n"            \
    "    ref:\n"                 \
    "      apiVersion: " av "\n" \
    "      kind: " kind "\n"     \
    "      name: " name "\n"

/* ---- tests ---- */

TEST(broker_address_conditions_and_namespace_phase)
{
    static const char *const types[] = { "Addressable",
                                         "DeadLetterSinkResolved",
                                         "IngressReady", "Ready", NULL };
    struct json_object *b, *addrs, *ns;
    struct fx f;
    size_t i;

    fx_open(&f, 0);
    create(&f, NS_YAML("team"));
    create(&f, BROKER_YAML("b"));
    settle(&f);

    b = get(&f, BROKER, "default", "b");
    ASSERT_STR_EQ(str(b, "status.address.url"), INGRESS "/default/b");
    ASSERT_STR_EQ(str(b, "status.address.name"), "http");
    addrs = dig(b, "status.addresses");
    ASSERT(addrs != NULL && json_object_is_type(addrs, json_type_array));
    ASSERT_EQ(json_object_array_length(addrs), 1);
    ASSERT_STR_EQ(str(json_object_array_get_idx(addrs, 0), "url"),
                  INGRESS "/default/b");
    ASSERT_COND(b, "Addressable", "True", NULL);
    ASSERT_COND(b, "DeadLetterSinkResolved", "True",
                "DeadLetterSinkNotConfigured");
    ASSERT_COND(b, "IngressReady", "False", "DataPlaneNotAvailable");
    ASSERT_STR_EQ(cond(b, "IngressReady", "message"),
                  "no data plane serves this broker yet");
    /* Ready names the first False dependent, message included. */
    ASSERT_COND(b, "Ready", "False", "DataPlaneNotAvailable");
    ASSERT_STR_EQ(cond(b, "Ready", "message"),
                  "no data plane serves this broker yet");
    ASSERT(dig(b, "status.deadLetterSinkUri") == NULL);
    ASSERT_EQ(num(b, "status.observedGeneration"), 1);
    for (i = 0; types[i] != NULL; i++)
        if (!whole_seconds_utc(cond(b, types[i], "lastTransitionTime")))
            CHECK_FAIL("%s: bad lastTransitionTime '%s'", types[i],
                       cond(b, types[i], "lastTransitionTime"));
    /* Nothing but the status was touched. */
    ASSERT_EQ(num(b, "metadata.generation"), 1);
    json_object_put(b);

    ns = get(&f, NS_KIND, "", "team");
    ASSERT_STR_EQ(str(ns, "status.phase"), "Active");
    json_object_put(ns);
    fx_close(&f);
}

TEST(kafkasink_address_and_conditions)
{
    struct json_object *k;
    struct fx f;

    fx_open(&f, 0);
    create(&f, KAFKASINK_YAML("ks"));
    settle(&f);
    k = get(&f, KAFKASINK, "default", "ks");
    ASSERT_STR_EQ(str(k, "status.address.url"), INGRESS "/default/ks");
    ASSERT_COND(k, "Addressable", "True", NULL);
    ASSERT_COND(k, "TopicReady", "False", "DataPlaneNotAvailable");
    ASSERT_COND(k, "Ready", "False", "DataPlaneNotAvailable");
    ASSERT_EQ(num(k, "status.observedGeneration"), 1);
    json_object_put(k);
    fx_close(&f);
}

TEST(kafkasink_address_conflict_and_secret)
{
    struct json_object *k;
    struct fx f;

    fx_open(&f, 0);
    /* A Broker of the same name owns the address. */
    create(&f, BROKER_YAML("clash"));
    create(&f, KAFKASINK_YAML("clash"));
    settle(&f);
    k = get(&f, KAFKASINK, "default", "clash");
    ASSERT_COND(k, "Addressable", "False", "AddressConflict");
    ASSERT_COND(k, "Ready", "False", "AddressConflict");
    ASSERT(dig(k, "status.address") == NULL);
    ASSERT_COND(k, "ConfigParsed", "True", NULL);
    json_object_put(k);
    del(&f, BROKER, "default", "clash");
    settle(&f);
    k = get(&f, KAFKASINK, "default", "clash");
    ASSERT_COND(k, "Addressable", "True", NULL);
    ASSERT_STR_EQ(str(k, "status.address.url"), INGRESS "/default/clash");
    json_object_put(k);

    /* The auth Secret: missing, then without a protocol, then fine. */
    create(&f, KAFKASINK_YAML("authed") "  auth:\n"
                                        "    secret:\n"
                                        "      ref: {name: creds}\n");
    settle(&f);
    k = get(&f, KAFKASINK, "default", "authed");
    ASSERT_COND(k, "ConfigParsed", "False", "SecretNotFound");
    ASSERT(strstr(cond(k, "ConfigParsed", "message"), "creds") != NULL);
    json_object_put(k);
    create(&f, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
               "  namespace: default\nstringData: {user: u}\n");
    settle(&f);
    k = get(&f, KAFKASINK, "default", "authed");
    ASSERT_COND(k, "ConfigParsed", "False", "InvalidSecret");
    ASSERT(strstr(cond(k, "ConfigParsed", "message"), "protocol") != NULL);
    json_object_put(k);
    update(&f, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n"
               "  namespace: default\nstringData: {protocol: SASL_SSL, "
               "user: u, password: p}\n");
    settle(&f);
    k = get(&f, KAFKASINK, "default", "authed");
    ASSERT_COND(k, "ConfigParsed", "True", NULL);
    /* No running KafkaSinks in this controller. */
    ASSERT_COND(k, "TopicReady", "False", "DataPlaneNotAvailable");
    json_object_put(k);
    fx_close(&f);
}

TEST(trigger_follows_its_broker_in_and_out_of_existence)
{
    struct json_object *t;
    struct fx f;

    fx_open(&f, 0);
    create(
        &f,
        TRIGGER_HEAD("t", "b") SUB_URI(
            "http://sink.test/") "  filter:\n    attributes:\n      type: x\n");
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "BrokerReady", "False", "BrokerDoesNotExist");
    ASSERT_STR_EQ(cond(t, "BrokerReady", "message"),
                  "Broker \"b\" does not exist");
    ASSERT_COND(t, "Ready", "False", "BrokerDoesNotExist");
    ASSERT_COND(t, "SubscriberResolved", "True", NULL);
    ASSERT_STR_EQ(str(t, "status.subscriberUri"), "http://sink.test/");
    ASSERT_COND(t, "SubscriptionReady", "False", "DataPlaneNotAvailable");
    ASSERT_COND(t, "DependencyReady", "True", NULL);
    ASSERT_COND(t, "DeadLetterSinkResolved", "True",
                "DeadLetterSinkNotConfigured");
    ASSERT_EQ(num(t, "status.observedGeneration"), 1);
    json_object_put(t);

    /* The Broker appears: the Trigger is reconciled again by itself and
     * mirrors the Broker's Ready (False until a data plane serves it). */
    create(&f, BROKER_YAML("b"));
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "BrokerReady", "False", "DataPlaneNotAvailable");
    ASSERT_STR_EQ(cond(t, "BrokerReady", "message"),
                  "no data plane serves this broker yet");
    ASSERT_COND(t, "Ready", "False", "DataPlaneNotAvailable");
    json_object_put(t);

    /* A Broker of the same name elsewhere does not count; deleting ours
     * wakes the Trigger. */
    create(&f, NS_YAML("other"));
    create(&f, "apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
               "metadata:\n  name: b\n  namespace: other\n");
    del(&f, BROKER, "default", "b");
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "BrokerReady", "False", "BrokerDoesNotExist");
    ASSERT_COND(t, "Ready", "False", "BrokerDoesNotExist");
    json_object_put(t);
    fx_close(&f);
}

/* status.subscriberUri of Trigger 'name' (NULL when unresolved). */
static char *sub_uri(struct fx *f, const char *name, const char **pstatus)
{
    struct json_object *t = get(f, TRIGGER, "default", name);
    const char *u = str(t, "status.subscriberUri");
    char *out = u ? sl_xstrdup(u) : NULL;
    static char st[16];

    snprintf(st, sizeof(st), "%s",
             cond(t, "SubscriberResolved", "status")
                 ? cond(t, "SubscriberResolved", "status")
                 : "(none)");
    *pstatus = st;
    json_object_put(t);
    return out;
}

#define ASSERT_SUB(f, name, want)                              \
    do {                                                       \
        const char *st_;                                       \
        char *u_ = sub_uri((f), (name), &st_);                 \
        ASSERT_STR_EQ(u_, (want));                             \
        ASSERT_STR_EQ(st_, (want) != NULL ? "True" : "False"); \
        sl_free(u_);                                           \
    } while (0)

TEST(subscriber_resolution)
{
    struct json_object *t;
    struct fx f;

    fx_open(&f, 0);
    create(&f, BROKER_YAML("b"));
    create(&f, KAFKASINK_YAML("ks"));
    create(&f, TRIGGER_HEAD("t-uri", "b") SUB_URI("http://example.com/p?q=1"));
    create(&f, TRIGGER_HEAD("t-svc", "b") SUB_REF("v1", "Service", "svc"));
    create(&f, TRIGGER_HEAD("t-svc-uri", "b")
                   SUB_REF("v1", "Service", "svc") "    uri: /hook\n");
    create(&f, TRIGGER_HEAD("t-broker", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker", "b"));
    create(&f, TRIGGER_HEAD("t-broker-rel", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker",
                           "b") "    uri: extra/x?y=1\n");
    create(&f, TRIGGER_HEAD("t-ks", "b")
                   SUB_REF("eventing.knative.dev/v1alpha1", "KafkaSink", "ks"));
    create(&f, TRIGGER_HEAD("t-missing", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker", "later"));
    settle(&f);

    ASSERT_SUB(&f, "t-uri", "http://example.com/p?q=1");
    ASSERT_SUB(&f, "t-svc", "http://svc.default.svc.cluster.local");
    ASSERT_SUB(&f, "t-svc-uri", "http://svc.default.svc.cluster.local/hook");
    ASSERT_SUB(&f, "t-broker", INGRESS "/default/b");
    ASSERT_SUB(&f, "t-broker-rel", INGRESS "/default/extra/x?y=1");
    ASSERT_SUB(&f, "t-ks", INGRESS "/default/ks");
    ASSERT_SUB(&f, "t-missing", NULL);
    t = get(&f, TRIGGER, "default", "t-missing");
    ASSERT_COND(t, "SubscriberResolved", "False",
                "Unable to get the Subscriber's URI");
    ASSERT(strstr(cond(t, "SubscriberResolved", "message"),
                  "Broker \"later\" not found in namespace \"default\"") !=
           NULL);
    ASSERT_COND(t, "Ready", "False", "DataPlaneNotAvailable");
    json_object_put(t);

    /* The target appears: the Trigger that read it is woken. */
    create(&f, BROKER_YAML("later"));
    settle(&f);
    ASSERT_SUB(&f, "t-missing", INGRESS "/default/later");
    t = get(&f, TRIGGER, "default", "t-missing");
    ASSERT(cond(t, "SubscriberResolved", "message") == NULL);
    json_object_put(t);

    /* ... and goes away again. */
    del(&f, BROKER, "default", "later");
    del(&f, KAFKASINK, "default", "ks");
    settle(&f);
    ASSERT_SUB(&f, "t-missing", NULL);
    ASSERT_SUB(&f, "t-ks", NULL);
    ASSERT_SUB(&f, "t-broker", INGRESS "/default/b");
    fx_close(&f);
}

/* status.deadLetterSinkUri of an object (NULL when absent). */
static void assert_dls(struct fx *f, const char *kind, const char *name,
                       const char *want, const char *reason)
{
    struct json_object *o = get(f, kind, "default", name);

    if ((want == NULL) != (str(o, "status.deadLetterSinkUri") == NULL) ||
        (want != NULL && strcmp(want, str(o, "status.deadLetterSinkUri"))))
        CHECK_FAIL("%s: deadLetterSinkUri '%s', want '%s'", name,
                   str(o, "status.deadLetterSinkUri"), want);
    ASSERT_STR_EQ(cond(o, "DeadLetterSinkResolved", "status"),
                  want != NULL || reason != NULL ? "True" : "False");
    if (reason != NULL)
        ASSERT_STR_EQ(cond(o, "DeadLetterSinkResolved", "reason"), reason);
    json_object_put(o);
}

#define BROKER_DLS(name, uri) \
    BROKER_YAML(name)         \
    "spec:\n"                 \
    "  delivery:\n"           \
    "    deadLetterSink:\n"   \
    "      uri: " uri "\n"

#define TRIGGER_DLS_REF(kind, av, name) \
    "  delivery:\n"                     \
    "    deadLetterSink:\n"             \
    "      ref:\n"                      \
    "        apiVersion: " av "\n"      \
    "        kind: " kind "\n"          \
    "        name: " name "\n"

TEST(dead_letter_sinks_own_or_inherited)
{
    struct json_object *t;
    struct fx f;

    fx_open(&f, 0);
    create(&f, BROKER_DLS("b-dls", "http://dls.test/broker"));
    create(&f, BROKER_YAML("b-plain"));
    create(&f, TRIGGER_HEAD("t-inherit", "b-dls") SUB_URI("http://s.test"));
    create(&f,
           TRIGGER_HEAD("t-own", "b-dls")
               SUB_URI("http://s.test") "  delivery:\n    deadLetterSink:\n"
                                        "      uri: http://dls.test/trigger\n");
    create(&f, TRIGGER_HEAD("t-none", "b-plain") SUB_URI("http://s.test"));
    create(&f, TRIGGER_HEAD("t-ref", "b-plain") SUB_URI("http://s.test")
                   TRIGGER_DLS_REF("KafkaSink", "eventing.knative.dev/v1alpha1",
                                   "dls"));
    /* A Trigger whose Broker is missing still resolves its own sink. */
    create(&f,
           TRIGGER_HEAD("t-orphan", "nobroker")
               SUB_URI("http://s.test") "  delivery:\n    deadLetterSink:\n"
                                        "      uri: http://dls.test/orphan\n");
    settle(&f);

    assert_dls(&f, BROKER, "b-dls", "http://dls.test/broker", NULL);
    assert_dls(&f, BROKER, "b-plain", NULL, "DeadLetterSinkNotConfigured");
    assert_dls(&f, TRIGGER, "t-inherit", "http://dls.test/broker", NULL);
    assert_dls(&f, TRIGGER, "t-own", "http://dls.test/trigger", NULL);
    assert_dls(&f, TRIGGER, "t-none", NULL, "DeadLetterSinkNotConfigured");
    assert_dls(&f, TRIGGER, "t-ref", NULL, NULL);
    assert_dls(&f, TRIGGER, "t-orphan", "http://dls.test/orphan", NULL);
    t = get(&f, TRIGGER, "default", "t-ref");
    ASSERT_STR_EQ(cond(t, "DeadLetterSinkResolved", "reason"),
                  "Unable to get the dead letter sink's URI");
    ASSERT(strstr(cond(t, "DeadLetterSinkResolved", "message"),
                  "KafkaSink \"dls\" not found") != NULL);
    json_object_put(t);

    /* The sink appears; the Broker's sink changes: both Triggers follow. */
    create(&f, KAFKASINK_YAML("dls"));
    update(&f, BROKER_DLS("b-dls", "http://dls.test/broker-2"));
    settle(&f);
    assert_dls(&f, TRIGGER, "t-ref", INGRESS "/default/dls", NULL);
    assert_dls(&f, BROKER, "b-dls", "http://dls.test/broker-2", NULL);
    assert_dls(&f, TRIGGER, "t-inherit", "http://dls.test/broker-2", NULL);
    assert_dls(&f, TRIGGER, "t-own", "http://dls.test/trigger", NULL);

    /* The Broker loses its sink: the inheriting Trigger has none. */
    update(&f, BROKER_YAML("b-dls"));
    del(&f, KAFKASINK, "default", "dls");
    settle(&f);
    assert_dls(&f, TRIGGER, "t-inherit", NULL, "DeadLetterSinkNotConfigured");
    assert_dls(&f, TRIGGER, "t-ref", NULL, NULL);
    fx_close(&f);
}

#define DEP_TRIGGER(name, dep)                \
    "apiVersion: eventing.knative.dev/v1\n"   \
    "kind: Trigger\n"                         \
    "metadata:\n"                             \
    "  name: " name "\n"                      \
    "  namespace: default\n"                  \
    "  annotations:\n"                        \
    "    knative.dev/dependency: '" dep "'\n" \
    "spec:\n"                                 \
    "  broker: b\n" SUB_URI("http://s.test")

TEST(dependency_annotation)
{
    struct json_object *t;
    struct fx f;

    fx_open(&f, 0);
    create(&f, BROKER_YAML("b"));
    create(&f, DEP_TRIGGER(
                   "t", "{\"kind\":\"KafkaSink\",\"name\":\"dep\","
                        "\"apiVersion\":\"eventing.knative.dev/v1alpha1\"}"));
    create(&f, DEP_TRIGGER("t-ns", "{\"kind\":\"Namespace\",\"name\":\"team\","
                                   "\"apiVersion\":\"v1\"}"));
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "DependencyReady", "False", "DependencyDoesNotExist");
    ASSERT_STR_EQ(cond(t, "DependencyReady", "message"),
                  "KafkaSink \"dep\" does not exist");
    json_object_put(t);
    t = get(&f, TRIGGER, "default", "t-ns");
    ASSERT_COND(t, "DependencyReady", "False", "DependencyDoesNotExist");
    json_object_put(t);

    /* The dependency appears: the Trigger mirrors its Ready. A Namespace
     * has no Ready condition: not ready yet. */
    create(&f, KAFKASINK_YAML("dep"));
    create(&f, NS_YAML("team"));
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "DependencyReady", "False", "DataPlaneNotAvailable");
    json_object_put(t);
    t = get(&f, TRIGGER, "default", "t-ns");
    ASSERT_COND(t, "DependencyReady", "Unknown", "NotReady");
    ASSERT_STR_EQ(cond(t, "DependencyReady", "message"),
                  "Namespace \"team\" is not ready yet");
    json_object_put(t);

    /* Dropping the annotation: DependencyReady is True. */
    update(&f, TRIGGER_HEAD("t", "b") SUB_URI("http://s.test"));
    del(&f, KAFKASINK, "default", "dep");
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "DependencyReady", "True", NULL);
    ASSERT_EQ(num(t, "status.observedGeneration"), 1); /* metadata only */
    json_object_put(t);
    fx_close(&f);
}

TEST(observed_generation_follows_the_spec)
{
    struct json_object *b;
    struct fx f;

    fx_open(&f, 0);
    create(&f, BROKER_YAML("b"));
    settle(&f);
    update(&f, BROKER_YAML("b") "spec:\n  delivery:\n    retry: 3\n");
    settle(&f);
    b = get(&f, BROKER, "default", "b");
    ASSERT_EQ(num(b, "metadata.generation"), 2);
    ASSERT_EQ(num(b, "status.observedGeneration"), 2);
    json_object_put(b);
    /* A label is not spec: generation and observedGeneration stay. */
    update(&f, "apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
               "metadata:\n  name: b\n  namespace: default\n"
               "  labels:\n    a: b\n"
               "spec:\n  delivery:\n    retry: 3\n");
    settle(&f);
    b = get(&f, BROKER, "default", "b");
    ASSERT_EQ(num(b, "metadata.generation"), 2);
    ASSERT_EQ(num(b, "status.observedGeneration"), 2);
    json_object_put(b);
    fx_close(&f);
}

TEST(last_transition_time_moves_only_with_the_status)
{
    static const char *const kept[] = { "Addressable", "DeadLetterSinkResolved",
                                        "IngressReady", NULL };
    struct json_object *b, *t;
    uint64_t rv;
    struct fx f;
    size_t i;

    fx_open(&f, 0);
    create(&f, BROKER_YAML("b"));
    create(&f, TRIGGER_HEAD("t", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker", "nope1"));
    settle(&f);

    /* Old times everywhere, and Ready flipped to Unknown behind the
     * controller's back: the write wakes it, it flips Ready back. */
    age_conditions(&f, BROKER, "b", "Ready");
    settle(&f);
    b = get(&f, BROKER, "default", "b");
    for (i = 0; kept[i] != NULL; i++)
        ASSERT_STR_EQ(cond(b, kept[i], "lastTransitionTime"), OLD_TIME);
    ASSERT_COND(b, "Ready", "False", "DataPlaneNotAvailable");
    ASSERT(whole_seconds_utc(cond(b, "Ready", "lastTransitionTime")));
    json_object_put(b);

    /* A condition whose message changes but not its status keeps its
     * time; one that turns True gets a new one. */
    age_conditions(&f, TRIGGER, "t", NULL);
    settle(&f);
    rv = sl_store_rv(f.store);
    update(&f, TRIGGER_HEAD("t", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker", "nope2"));
    settle(&f);
    ASSERT_EQ(sl_store_rv(f.store), rv + 2); /* the update, one status */
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "SubscriberResolved", "False",
                "Unable to get the Subscriber's URI");
    ASSERT(strstr(cond(t, "SubscriberResolved", "message"), "nope2") != NULL);
    ASSERT_STR_EQ(cond(t, "SubscriberResolved", "lastTransitionTime"),
                  OLD_TIME);
    ASSERT_STR_EQ(cond(t, "Ready", "lastTransitionTime"), OLD_TIME);
    ASSERT_EQ(num(t, "status.observedGeneration"), 2);
    json_object_put(t);

    update(&f, TRIGGER_HEAD("t", "b") SUB_URI("http://s.test"));
    settle(&f);
    t = get(&f, TRIGGER, "default", "t");
    ASSERT_COND(t, "SubscriberResolved", "True", NULL);
    ASSERT(
        whole_seconds_utc(cond(t, "SubscriberResolved", "lastTransitionTime")));
    ASSERT_STR_EQ(cond(t, "BrokerReady", "lastTransitionTime"), OLD_TIME);
    json_object_put(t);
    fx_close(&f);
}

TEST(a_quiet_system_writes_nothing)
{
    uint64_t rv;
    struct fx f;

    fx_open(&f, 0);
    create(&f, NS_YAML("team"));
    create(&f, KAFKASINK_YAML("ks"));
    create(&f, BROKER_DLS("b", "http://dls.test"));
    create(&f, TRIGGER_HEAD("t", "b")
                   SUB_REF("eventing.knative.dev/v1alpha1", "KafkaSink", "ks"));
    create(&f, TRIGGER_HEAD("t2", "b")
                   SUB_REF("eventing.knative.dev/v1", "Broker", "missing"));
    settle(&f);
    rv = sl_store_rv(f.store);

    /* More loop turns change nothing. */
    run_for(&f, 30);
    ASSERT(sl_ctl_idle(f.ctl));
    ASSERT_EQ(sl_store_rv(f.store), rv);

    /* A restarted controller reconciles everything and writes nothing. */
    sl_ctl_free(f.ctl);
    ctl_up(&f);
    ASSERT(!sl_ctl_idle(f.ctl));
    settle(&f);
    ASSERT_EQ(sl_store_rv(f.store), rv);

    /* A metadata change of the Broker wakes it and its Triggers; the
     * only new resourceVersion is the change itself. */
    update(&f, "apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
               "metadata:\n  name: b\n  namespace: default\n"
               "  labels:\n    x: y\n"
               "spec:\n  delivery:\n    deadLetterSink:\n"
               "      uri: http://dls.test\n");
    ASSERT(!sl_ctl_idle(f.ctl));
    settle(&f);
    ASSERT_EQ(sl_store_rv(f.store), rv + 1);
    fx_close(&f);
}

/* Runs in the loop turn that follows the first drain of the queue. */
static void fx_probe(void *arg)
{
    struct fx *f = arg;

    f->probe_ran = true;
    f->probe_idle = sl_ctl_idle(f->ctl);
}

TEST(changes_queued_before_the_loop_runs_reconcile_once)
{
    struct json_object *b;
    uint64_t rv;
    struct fx f;
    int i;

    fx_open(&f, 0);
    create(&f, BROKER_YAML("b"));
    settle(&f);
    rv = sl_store_rv(f.store);

    /* 100 spec changes while the loop does not run: 100 events for one
     * key. De-duplicated, the queue holds it once, so the first turn
     * (which handles up to 64 keys) reconciles it, writes its status once,
     * reconciles it again for that write and leaves the queue empty. */
    for (i = 1; i <= 100; i++) {
        char yaml[512];

        snprintf(yaml, sizeof(yaml),
                 BROKER_YAML("b") "spec:\n  delivery:\n    retry: %d\n", i);
        update(&f, yaml);
    }
    ASSERT_EQ(sl_store_rv(f.store), rv + 100);
    ASSERT(!sl_ctl_idle(f.ctl));
    /* Started after the controller's own zero-delay timer: runs after it
     * in the same turn. */
    f.probe = sl_timer_new(f.loop, fx_probe, &f);
    sl_timer_start(f.probe, 0, 0);
    settle(&f);
    ASSERT(f.probe_ran);
    ASSERT(f.probe_idle);
    ASSERT_EQ(sl_store_rv(f.store), rv + 101);
    b = get(&f, BROKER, "default", "b");
    ASSERT_EQ(num(b, "metadata.generation"), 101);
    ASSERT_EQ(num(b, "status.observedGeneration"), 101);
    json_object_put(b);
    fx_close(&f);
}

TEST(a_failing_status_write_is_retried_until_the_object_goes)
{
    struct json_object *b;
    uint64_t rv;
    struct fx f;

    /* Room for the Broker, not for it with its status. */
    fx_open(&f, 900);
    create(&f, BROKER_YAML("b"));
    rv = sl_store_rv(f.store);
    run_for(&f, 50);
    /* The write failed (no new version) and a retry is pending. */
    ASSERT_EQ(sl_store_rv(f.store), rv);
    ASSERT(!sl_ctl_idle(f.ctl));
    b = get(&f, BROKER, "default", "b");
    ASSERT(dig(b, "status") == NULL);
    json_object_put(b);
    /* Deleting the object drops its retry. */
    del(&f, BROKER, "default", "b");
    settle(&f);
    ASSERT_EQ(sl_store_rv(f.store), rv + 1);
    fx_close(&f);
}

TEST_MAIN()
