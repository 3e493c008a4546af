/*
 * test/unit/api_test.c - api/: the REST API over a real store, served by
 * net/server on a loop that runs in a thread of its own, driven with
 * net/client from the test thread.
 *
 * Covered: create/get/list/replace/merge-patch/delete, YAML bodies, label
 * selectors, the status subresource, namespace rules, Status bodies for
 * 400/404/405/409/415/422 (reason, code, details, causes[0].field),
 * watches (ADDED for what exists, live MODIFIED and DELETED, resuming from
 * a resourceVersion, 410 Expired after the history was trimmed, BOOKMARK
 * events, timeoutSeconds), bearer-token authentication, discovery
 * documents, /healthz, /readyz and /version.
 *
 * Every test works in its own store directory under /tmp and removes it.
 */
#define _XOPEN_SOURCE 700
#include "test/unit/check.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/time.h"
#include "net/client.h"
#include "net/server.h"
#include "store/store.h"

#define BROKERS  "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
#define TRIGGERS "/apis/eventing.knative.dev/v1/namespaces/default/triggers"
#define CMS      "/api/v1/namespaces/default/configmaps"
#define JSON     "application/json"
#define MERGE    "application/merge-patch+json"

/* ---- the server under test ---- */

struct asrv {
    char dir[64];
    struct sl_loop *loop;
    struct sl_store *store;
    struct sl_api *api;
    struct sl_http_server *srv;
    pthread_t th;
    char base[64];
    const char *token; /* sent by req() when not NULL */
    int ready_set;     /* set by the posted task (atomic) */
};

struct asrv_opts {
    const char *token;
    unsigned bookmark_ms;
    size_t history_max; /* 0: the store's default */
};

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void *asrv_main(void *arg)
{
    struct asrv *a = arg;

    if (sl_loop_run(a->loop) != 0)
        abort();
    return NULL;
}

static void asrv_start(struct asrv *a, const struct asrv_opts *o)
{
    struct sl_http_server_opts ho = { .listen = "127.0.0.1:0", .name = "api" };
    struct sl_api_opts ao = { 0 };
    struct sl_store_opts so;
    struct sl_diag d;

    memset(a, 0, sizeof(*a));
    snprintf(a->dir, sizeof(a->dir), "/tmp/sl-api-test-XXXXXX");
    if (mkdtemp(a->dir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    sl_store_opts_init(&so);
    if (o != NULL && o->history_max > 0)
        so.history_max = o->history_max;
    sl_diag_clear(&d);
    if (sl_store_open(a->dir, &so, &a->store, &d) != 0)
        CHECK_FAIL("cannot open the store: %s", d.msg);
    ASSERT_OK(sl_loop_new(&a->loop));
    if (o != NULL) {
        ao.token = o->token;
        ao.bookmark_ms = o->bookmark_ms;
        a->token = o->token;
    }
    ASSERT_OK(sl_api_new(a->loop, a->store, &ao, &a->api));
    if (sl_http_server_new(a->loop, &ho, sl_api_handle, a->api, &a->srv, &d) !=
        0)
        CHECK_FAIL("server: %s", d.msg);
    snprintf(a->base, sizeof(a->base), "http://127.0.0.1:%u",
             sl_http_server_port(a->srv));
    ASSERT_EQ(pthread_create(&a->th, NULL, asrv_main, a), 0);
}

/* Stop the loop thread, then free everything here (as cmd/serve.c). */
static void asrv_stop(struct asrv *a)
{
    sl_loop_stop(a->loop);
    ASSERT_EQ(pthread_join(a->th, NULL), 0);
    sl_http_server_free(a->srv);
    sl_api_free(a->api);
    sl_store_close(a->store);
    sl_loop_free(a->loop);
    if (nftw(a->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        CHECK_FAIL("cannot remove '%s': %s", a->dir, strerror(errno));
}

/* ---- requests ---- */

/*
 * One request; returns the status and leaves the response in 'r'
 * (sl_http_client_resp_fini it). 'auth', when not NULL, is sent as the
 * whole Authorization header instead of the server's token.
 */
static int req_auth(struct asrv *a, const char *method, const char *path,
                    const char *ctype, const char *body, const char *auth,
                    struct sl_http_client_resp *r)
{
    struct sl_http_client_req rq = { 0 };
    struct sl_http_header h[2];
    struct sl_diag d;
    char url[1024];
    size_t nh = 0;

    snprintf(url, sizeof(url), "%s%s", a->base, path);
    rq.method = method;
    rq.url = url;
    rq.timeout_ms = 10000;
    if (ctype != NULL)
        h[nh++] = (struct sl_http_header){ "Content-Type", ctype };
    if (auth != NULL)
        h[nh++] = (struct sl_http_header){ "Authorization", auth };
    else
        rq.bearer_token = a->token;
    rq.headers = h;
    rq.nheaders = nh;
    if (body != NULL) {
        rq.body = body;
        rq.body_len = strlen(body);
    }
    sl_diag_clear(&d);
    if (sl_http_client_do(&rq, r, &d) != 0)
        CHECK_FAIL("%s %s: %s", method, url, d.msg);
    return r->status;
}

static int req(struct asrv *a, const char *method, const char *path,
               const char *ctype, const char *body,
               struct sl_http_client_resp *r)
{
    return req_auth(a, method, path, ctype, body, NULL, r);
}

static struct json_object *parse(const char *s)
{
    struct json_object *o = json_tokener_parse(s);

    if (o == NULL)
        CHECK_FAIL("not JSON: %s", s);
    return o;
}

/*
 * Run a request, expect 'status', and return the JSON body (caller
 * puts).
 */
static struct json_object *call(struct asrv *a, const char *method,
                                const char *path, const char *ctype,
                                const char *body, int status)
{
    struct sl_http_client_resp r;
    struct json_object *o;
    int got = req(a, method, path, ctype, body, &r);

    if (got != status)
        CHECK_FAIL("%s %s: status %d, want %d: %s", method, path, got, status,
                   sl_buf_str(&r.body));
    if (sl_http_client_resp_header(&r, "Content-Type") == NULL ||
        strcmp(sl_http_client_resp_header(&r, "Content-Type"), JSON) != 0)
        CHECK_FAIL("%s %s: Content-Type '%s'", method, path,
                   sl_http_client_resp_header(&r, "Content-Type"));
    o = parse(sl_buf_str(&r.body));
    sl_http_client_resp_fini(&r);
    return o;
}

/* The value at a dotted path ("metadata.name"; "items.0" indexes). */
static struct json_object *dig(const struct json_object *o, const char *path)
{
    struct json_object *v = (struct json_object *)o;
    char buf[256], *save = NULL, *part;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part != NULL;
         part = strtok_r(NULL, ".", &save)) {
        if (v != NULL && json_object_is_type(v, json_type_array)) {
            size_t i = (size_t)strtoul(part, NULL, 10);

            if (i >= json_object_array_length(v))
                return NULL;
            v = json_object_array_get_idx(v, i);
        } else if (v == NULL || !json_object_is_type(v, json_type_object) ||
                   !json_object_object_get_ex(v, part, &v)) {
            return NULL;
        }
    }
    return v;
}

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

static size_t len(const struct json_object *o, const char *path)
{
    struct json_object *v = dig(o, path);

    return v != NULL && json_object_is_type(v, json_type_array)
               ? json_object_array_length(v)
               : 0;
}

static uint64_t rv_of(const struct json_object *o)
{
    const char *s = str(o, "metadata.resourceVersion");
    uint64_t v = 0;

    ASSERT(s != NULL);
    ASSERT_OK(sl_store_rv_parse(s, "rv", &v, NULL));
    return v;
}

/* Expect a Status body with 'code' and 'reason'; returns it. */
static struct json_object *expect_status(struct asrv *a, const char *method,
                                         const char *path, const char *ctype,
                                         const char *body, int code,
                                         const char *reason)
{
    struct json_object *st = call(a, method, path, ctype, body, code);

    ASSERT_STR_EQ(str(st, "kind"), "Status");
    ASSERT_STR_EQ(str(st, "apiVersion"), "v1");
    ASSERT_STR_EQ(str(st, "status"), "Failure");
    ASSERT_STR_EQ(str(st, "reason"), reason);
    ASSERT_EQ(num(st, "code"), code);
    ASSERT(str(st, "message") != NULL && str(st, "message")[0] != '\0');
    return st;
}

static void mkns(struct asrv *a, const char *name)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}",
             name);
    json_object_put(call(a, "POST", "/api/v1/namespaces", JSON, body, 201));
}

static struct json_object *mkbroker(struct asrv *a, const char *name)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"eventing.knative.dev/v1\",\"kind\":\"Broker\","
             "\"metadata\":{\"name\":\"%s\"}}",
             name);
    return call(a, "POST", BROKERS, JSON, body, 201);
}

/* ---- health and version ---- */

static void set_ready(void *arg)
{
    struct asrv *a = arg;

    sl_api_set_ready(a->api, 1);
    __atomic_store_n(&a->ready_set, 1, __ATOMIC_SEQ_CST);
}

TEST(health_ready_and_version)
{
    struct sl_http_client_resp r;
    struct json_object *v;
    struct asrv a;
    int64_t end;

    asrv_start(&a, NULL);
    ASSERT_EQ(req(&a, "GET", "/healthz", NULL, NULL, &r), 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "ok");
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(req(&a, "GET", "/livez", NULL, NULL, &r), 200);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(req(&a, "GET", "/readyz", NULL, NULL, &r), 503);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(req(&a, "POST", "/healthz", JSON, "{}", &r), 405);
    sl_http_client_resp_fini(&r);

    ASSERT_OK(sl_loop_post(a.loop, set_ready, &a));
    end = sl_time_mono_ns() + 10000000000LL;
    while (!__atomic_load_n(&a.ready_set, __ATOMIC_SEQ_CST)) {
        ASSERT(sl_time_mono_ns() < end);
        usleep(1000);
    }
    ASSERT_EQ(req(&a, "GET", "/readyz", NULL, NULL, &r), 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "ok");
    sl_http_client_resp_fini(&r);

    v = call(&a, "GET", "/version", NULL, NULL, 200);
    ASSERT(str(v, "gitVersion") != NULL && str(v, "gitVersion")[0] == 'v');
    ASSERT(strcmp(str(v, "gitVersion") + 1, str(v, "sluice")) == 0);
    ASSERT(strncmp(str(v, "platform"), "linux/", 6) == 0);
    json_object_put(v);
    asrv_stop(&a);
}

/* ---- objects ---- */

TEST(create_get_list_replace_patch_delete)
{
    struct json_object *o, *o2, *list;
    char path[256], body[1024];
    uint64_t rv1;
    struct asrv a;

    asrv_start(&a, NULL);
    mkns(&a, "default");

    /* Create: defaults written, system fields set. */
    o = mkbroker(&a, "b1");
    ASSERT_STR_EQ(str(o, "apiVersion"), "eventing.knative.dev/v1");
    ASSERT_STR_EQ(str(o, "kind"), "Broker");
    ASSERT_STR_EQ(str(o, "metadata.namespace"), "default");
    ASSERT_EQ(num(o, "metadata.generation"), 1);
    ASSERT(str(o, "metadata.uid") != NULL);
    ASSERT(str(o, "metadata.creationTimestamp") != NULL);
    ASSERT_STR_EQ(json_object_get_string(json_object_object_get(
                      dig(o, "metadata.annotations"),
                      "eventing.knative.dev/broker.class")),
                  "MTChannelBasedBroker");
    ASSERT_EQ(num(o, "spec.delivery.retry"), 10);
    ASSERT_STR_EQ(str(o, "spec.delivery.backoffPolicy"), "exponential");
    rv1 = rv_of(o);
    json_object_put(o);

    /* YAML create, apiVersion and kind filled in from the path. */
    o = call(&a, "POST", BROKERS, "application/yaml",
             "metadata:\n  name: b2\n  labels:\n    tier: gold\n", 201);
    ASSERT_STR_EQ(str(o, "kind"), "Broker");
    ASSERT(rv_of(o) > rv1);
    json_object_put(o);

    /* Get and list. */
    o = call(&a, "GET", BROKERS "/b1", NULL, NULL, 200);
    ASSERT_EQ(rv_of(o), rv1);
    list = call(&a, "GET", BROKERS, NULL, NULL, 200);
    ASSERT_STR_EQ(str(list, "kind"), "BrokerList");
    ASSERT_STR_EQ(str(list, "apiVersion"), "eventing.knative.dev/v1");
    ASSERT_EQ(len(list, "items"), 2);
    ASSERT_STR_EQ(str(list, "items.0.metadata.name"), "b1");
    ASSERT_STR_EQ(str(list, "items.1.metadata.name"), "b2");
    ASSERT(rv_of(list) > rv1);
    json_object_put(list);
    list =
        call(&a, "GET", BROKERS "?labelSelector=tier%3Dgold", NULL, NULL, 200);
    ASSERT_EQ(len(list, "items"), 1);
    ASSERT_STR_EQ(str(list, "items.0.metadata.name"), "b2");
    json_object_put(list);
    list = call(&a, "GET", "/apis/eventing.knative.dev/v1/brokers", NULL, NULL,
                200);
    ASSERT_EQ(len(list, "items"), 2);
    json_object_put(list);

    /* Replace: the spec changes, the generation follows. */
    json_object_object_add(json_object_object_get(o, "spec"), "delivery",
                           json_tokener_parse("{\"retry\":3}"));
    o2 = call(&a, "PUT", BROKERS "/b1", JSON, json_object_to_json_string(o),
              200);
    ASSERT_EQ(num(o2, "metadata.generation"), 2);
    ASSERT_EQ(num(o2, "spec.delivery.retry"), 3);
    ASSERT_STR_EQ(str(o2, "metadata.uid"), str(o, "metadata.uid"));
    /* The same PUT again carries a stale resourceVersion. */
    json_object_put(expect_status(&a, "PUT", BROKERS "/b1", JSON,
                                  json_object_to_json_string(o), 409,
                                  "Conflict"));
    json_object_put(o);
    /* A PUT that changes nothing writes nothing. */
    o = call(&a, "PUT", BROKERS "/b1", JSON, json_object_to_json_string(o2),
             200);
    ASSERT_EQ(rv_of(o), rv_of(o2));
    json_object_put(o);

    /* Merge patch: labels are metadata, the generation stays. */
    o = call(&a, "PATCH", BROKERS "/b1", MERGE,
             "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", 200);
    ASSERT_EQ(num(o, "metadata.generation"), 2);
    ASSERT_STR_EQ(str(o, "metadata.labels.x"), "1");
    ASSERT(rv_of(o) > rv_of(o2));
    json_object_put(o);
    o = call(&a, "PATCH", BROKERS "/b1", MERGE,
             "{\"spec\":{\"delivery\":{\"retry\":4}}}", 200);
    ASSERT_EQ(num(o, "metadata.generation"), 3);
    ASSERT_EQ(num(o, "spec.delivery.retry"), 4);
    json_object_put(o);
    json_object_put(o2);

    /* Delete answers the object; it is gone afterwards. */
    o = call(&a, "DELETE", BROKERS "/b1", NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "metadata.name"), "b1");
    json_object_put(o);
    json_object_put(
        expect_status(&a, "GET", BROKERS "/b1", NULL, NULL, 404, "NotFound"));
    json_object_put(expect_status(&a, "DELETE", BROKERS "/b1", NULL, NULL, 404,
                                  "NotFound"));

    /* A Trigger and a ConfigMap: other groups and the core group. */
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"t\"},\"spec\":{\"broker\":\"b2\","
             "\"subscriber\":{\"uri\":\"http://s.test\"}}}");
    o = call(&a, "POST", TRIGGERS, JSON, body, 201);
    ASSERT_STR_EQ(str(o, "spec.broker"), "b2");
    json_object_put(o);
    o = call(&a, "POST", CMS, JSON,
             "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"k\":\"v\"}}", 201);
    ASSERT_STR_EQ(str(o, "data.k"), "v");
    json_object_put(o);
    snprintf(path, sizeof(path), "%s/cm", CMS);
    o = call(&a, "GET", path, NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "apiVersion"), "v1");
    json_object_put(o);
    asrv_stop(&a);
}

TEST(status_subresource)
{
    struct json_object *o;
    char body[512];
    struct asrv a;

    asrv_start(&a, NULL);
    mkns(&a, "default");
    json_object_put(mkbroker(&a, "b"));

    o = call(&a, "PUT", BROKERS "/b/status", JSON,
             "{\"status\":{\"observedGeneration\":1,"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
             200);
    ASSERT_STR_EQ(str(o, "status.conditions.0.type"), "Ready");
    ASSERT_EQ(num(o, "metadata.generation"), 1);
    json_object_put(o);
    o = call(&a, "PATCH", BROKERS "/b/status", MERGE,
             "{\"status\":{\"address\":{\"url\":\"http://x\"}}}", 200);
    ASSERT_STR_EQ(str(o, "status.address.url"), "http://x");
    ASSERT_EQ(num(o, "status.observedGeneration"), 1);
    json_object_put(o);
    /* A patch without a status member changes nothing. */
    o = call(&a, "PATCH", BROKERS "/b/status", MERGE,
             "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", 200);
    ASSERT_STR_EQ(str(o, "status.address.url"), "http://x");
    ASSERT(dig(o, "metadata.labels") == NULL);
    json_object_put(o);
    o = call(&a, "GET", BROKERS "/b/status", NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "status.address.url"), "http://x");
    ASSERT_EQ(num(o, "metadata.generation"), 1);

    /* The main resource ignores a status in its body, on create too. */
    json_object_object_add(o, "status", json_tokener_parse("{\"x\":1}"));
    json_object_put(call(&a, "PUT", BROKERS "/b", JSON,
                         json_object_to_json_string(o), 200));
    json_object_put(o);
    o = call(&a, "GET", BROKERS "/b", NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "status.address.url"), "http://x");
    ASSERT(dig(o, "status.x") == NULL);
    json_object_put(o);
    o = call(&a, "POST", BROKERS, JSON,
             "{\"metadata\":{\"name\":\"b2\"},\"status\":{\"x\":1}}", 201);
    ASSERT(dig(o, "status") == NULL);
    json_object_put(o);

    /* A status write with a stale resourceVersion conflicts. */
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"1\"},\"status\":{}}");
    json_object_put(expect_status(&a, "PUT", BROKERS "/b/status", JSON, body,
                                  409, "Conflict"));
    /* Kinds without status, and objects that do not exist. */
    json_object_put(
        call(&a, "POST", CMS, JSON, "{\"metadata\":{\"name\":\"c\"}}", 201));
    json_object_put(
        expect_status(&a, "GET", CMS "/c/status", NULL, NULL, 404, "NotFound"));
    json_object_put(expect_status(&a, "PUT", BROKERS "/nope/status", JSON,
                                  "{\"status\":{}}", 404, "NotFound"));
    json_object_put(expect_status(&a, "PUT", BROKERS "/b/status", JSON,
                                  "{\"status\":[1]}", 422, "Invalid"));

    /* Namespaces have one too (discovery lists namespaces/status). */
    mkns(&a, "team");
    o = call(&a, "PATCH", "/api/v1/namespaces/team/status", MERGE,
             "{\"status\":{\"phase\":\"Active\"}}", 200);
    ASSERT_STR_EQ(str(o, "status.phase"), "Active");
    ASSERT_STR_EQ(str(o, "metadata.name"), "team");
    json_object_put(o);
    o = call(&a, "GET", "/api/v1/namespaces/team/status", NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "status.phase"), "Active");
    json_object_put(o);
    asrv_stop(&a);
}

TEST(error_statuses)
{
    struct json_object *st;
    struct asrv a;

    asrv_start(&a, NULL);
    mkns(&a, "default");
    json_object_put(mkbroker(&a, "b"));

    /* 404: object, namespace, path. */
    st = expect_status(&a, "GET", BROKERS "/nope", NULL, NULL, 404, "NotFound");
    ASSERT_STR_EQ(str(st, "message"),
                  "brokers.eventing.knative.dev \"nope\" not found");
    ASSERT_STR_EQ(str(st, "details.name"), "nope");
    ASSERT_STR_EQ(str(st, "details.group"), "eventing.knative.dev");
    ASSERT_STR_EQ(str(st, "details.kind"), "brokers");
    json_object_put(st);
    st = expect_status(
        &a, "POST", "/apis/eventing.knative.dev/v1/namespaces/none/brokers",
        JSON, "{\"metadata\":{\"name\":\"x\"}}", 404, "NotFound");
    ASSERT_STR_EQ(str(st, "message"), "namespaces \"none\" not found");
    json_object_put(st);
    json_object_put(expect_status(&a, "GET", "/apis/nope.dev/v1/things", NULL,
                                  NULL, 404, "NotFound"));
    json_object_put(expect_status(&a, "GET",
                                  "/apis/eventing.knative.dev/v1/widgets", NULL,
                                  NULL, 404, "NotFound"));
    json_object_put(
        expect_status(&a, "GET", "/nowhere", NULL, NULL, 404, "NotFound"));

    /* 409: the name is taken. */
    st = expect_status(&a, "POST", BROKERS, JSON,
                       "{\"metadata\":{\"name\":\"b\"}}", 409, "AlreadyExists");
    ASSERT_STR_EQ(str(st, "details.name"), "b");
    json_object_put(st);

    /* 422: admission, with the field of the first problem. */
    st = expect_status(&a, "POST", TRIGGERS, JSON,
                       "{\"metadata\":{\"name\":\"t\"},"
                       "\"spec\":{\"broker\":\"b\"}}",
                       422, "Invalid");
    ASSERT_EQ(len(st, "details.causes"), 1);
    ASSERT_STR_EQ(str(st, "details.causes.0.field"), "spec.subscriber");
    ASSERT_STR_EQ(str(st, "details.causes.0.reason"), "FieldValueInvalid");
    ASSERT_STR_EQ(str(st, "details.name"), "t");
    ASSERT(strstr(str(st, "message"), "Trigger \"t\" is invalid") != NULL);
    json_object_put(st);
    st = expect_status(&a, "POST", BROKERS, JSON,
                       "{\"metadata\":{\"name\":\"u\"},"
                       "\"spec\":{\"bogus\":1}}",
                       422, "Invalid");
    ASSERT_STR_EQ(str(st, "details.causes.0.field"), "spec.bogus");
    ASSERT_STR_EQ(str(st, "details.causes.0.reason"), "FieldValueNotSupported");
    json_object_put(st);
    /* An immutable field on update. */
    st = expect_status(&a, "PATCH", BROKERS "/b", MERGE,
                       "{\"metadata\":{\"annotations\":{\"eventing.knative."
                       "dev/broker.class\":\"Other\"}}}",
                       422, "Invalid");
    ASSERT(strstr(str(st, "details.causes.0.field"), "broker.class") != NULL);
    json_object_put(st);

    /* 415: media types. */
    json_object_put(expect_status(&a, "POST", BROKERS, "text/plain",
                                  "{\"metadata\":{\"name\":\"x\"}}", 415,
                                  "UnsupportedMediaType"));
    json_object_put(expect_status(&a, "PATCH", BROKERS "/b",
                                  "application/json-patch+json", "[]", 415,
                                  "UnsupportedMediaType"));
    json_object_put(expect_status(&a, "PATCH", BROKERS "/b", JSON, "{}", 415,
                                  "UnsupportedMediaType"));

    /* 400: bodies, identities, query parameters. */
    json_object_put(expect_status(&a, "POST", BROKERS, JSON,
                                  "{\"metadata\":", 400, "BadRequest"));
    json_object_put(
        expect_status(&a, "POST", BROKERS, JSON, "{} x", 400, "BadRequest"));
    json_object_put(
        expect_status(&a, "POST", BROKERS, JSON, "[]", 400, "BadRequest"));
    json_object_put(expect_status(&a, "POST", BROKERS, "application/yaml",
                                  "a: 1\n---\nb: 2\n", 400, "BadRequest"));
    st = expect_status(&a, "POST", BROKERS, JSON,
                       "{\"metadata\":{\"name\":\"x\",\"namespace\":"
                       "\"other\"}}",
                       400, "BadRequest");
    ASSERT(strstr(str(st, "message"), "namespace") != NULL);
    json_object_put(st);
    json_object_put(expect_status(&a, "POST", BROKERS, JSON,
                                  "{\"kind\":\"Trigger\",\"metadata\":{"
                                  "\"name\":\"x\"}}",
                                  400, "BadRequest"));
    json_object_put(expect_status(&a, "PUT", BROKERS "/b", JSON,
                                  "{\"metadata\":{\"name\":\"other\"}}", 400,
                                  "BadRequest"));
    json_object_put(expect_status(&a, "GET", BROKERS "?labelSelector=a%20in",
                                  NULL, NULL, 400, "BadRequest"));
    json_object_put(expect_status(&a, "GET", BROKERS "?watch=maybe", NULL, NULL,
                                  400, "BadRequest"));
    json_object_put(expect_status(&a, "GET",
                                  BROKERS "?watch=true&resourceVersion=-1",
                                  NULL, NULL, 400, "BadRequest"));
    /* A bad selector is refused before any stream starts, whether the
     * watch lists first or replays from a version. */
    json_object_put(expect_status(&a, "GET",
                                  BROKERS "?watch=true&labelSelector=a%20in",
                                  NULL, NULL, 400, "BadRequest"));
    json_object_put(expect_status(&a, "GET",
                                  BROKERS "?watch=true&resourceVersion=1&"
                                          "labelSelector=a%20in",
                                  NULL, NULL, 400, "BadRequest"));

    /* 405 and 403. */
    json_object_put(expect_status(&a, "POST", BROKERS "/b", JSON, "{}", 405,
                                  "MethodNotAllowed"));
    json_object_put(expect_status(&a, "DELETE", BROKERS, NULL, NULL, 405,
                                  "MethodNotAllowed"));
    json_object_put(expect_status(&a, "DELETE", "/api/v1/namespaces/default",
                                  NULL, NULL, 403, "Forbidden"));
    asrv_stop(&a);
}

TEST(deleting_a_namespace_deletes_its_content)
{
    struct json_object *o;
    struct asrv a;

    asrv_start(&a, NULL);
    mkns(&a, "default");
    mkns(&a, "team");
    json_object_put(call(&a, "POST",
                         "/apis/eventing.knative.dev/v1/namespaces/team/"
                         "brokers",
                         JSON, "{\"metadata\":{\"name\":\"b\"}}", 201));
    json_object_put(call(&a, "POST", "/api/v1/namespaces/team/configmaps", JSON,
                         "{\"metadata\":{\"name\":\"c\"}}", 201));
    json_object_put(mkbroker(&a, "b"));
    o = call(&a, "DELETE", "/api/v1/namespaces/team", NULL, NULL, 200);
    ASSERT_STR_EQ(str(o, "metadata.name"), "team");
    json_object_put(o);
    json_object_put(expect_status(
        &a, "GET", "/apis/eventing.knative.dev/v1/namespaces/team/brokers/b",
        NULL, NULL, 404, "NotFound"));
    json_object_put(expect_status(&a, "GET",
                                  "/api/v1/namespaces/team/configmaps/c", NULL,
                                  NULL, 404, "NotFound"));
    json_object_put(call(&a, "GET", BROKERS "/b", NULL, NULL, 200));
    asrv_stop(&a);
}

/* ---- watch ---- */

#define MAX_EVENTS 16

struct watch {
    struct asrv *a;
    char type[MAX_EVENTS][16];
    char name[MAX_EVENTS][64];
    uint64_t rv[MAX_EVENTS];
    struct json_object *obj[MAX_EVENTS]; /* the event objects */
    int n;    /* events seen (atomic: a helper thread reads it) */
    int stop; /* stop after this many events (0: never) */
};

static int watch_line(void *arg, const char *line, size_t n)
{
    struct watch *w = arg;
    struct json_object *ev = parse(line), *o = dig(ev, "object");
    int i = w->n;

    (void)n;
    ASSERT(i < MAX_EVENTS);
    ASSERT(str(ev, "type") != NULL && o != NULL);
    snprintf(w->type[i], sizeof(w->type[i]), "%s", str(ev, "type"));
    snprintf(w->name[i], sizeof(w->name[i]), "%s",
             str(o, "metadata.name") ? str(o, "metadata.name") : "");
    if (str(o, "metadata.resourceVersion") != NULL)
        w->rv[i] = rv_of(o);
    w->obj[i] = json_object_get(o);
    json_object_put(ev);
    __atomic_store_n(&w->n, i + 1, __ATOMIC_SEQ_CST);
    return w->stop > 0 && i + 1 >= w->stop;
}

static void watch_clear(struct watch *w)
{
    memset(w, 0, sizeof(*w));
}

static void watch_fini(struct watch *w)
{
    int i;

    for (i = 0; i < w->n; i++)
        json_object_put(w->obj[i]);
}

/* Stream 'path' into 'w' until 'stop' events or the server ends it;
 * returns the HTTP status. */
static int watch_run(struct asrv *a, const char *path, struct watch *w,
                     int stop)
{
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char url[1024];
    int status;

    /* The caller zeroed 'w' (watch_clear): a helper thread may already
     * be reading w->n, so no memset here. */
    w->a = a;
    w->stop = stop;
    snprintf(url, sizeof(url), "%s%s", a->base, path);
    rq.url = url;
    rq.timeout_ms = 15000;
    rq.bearer_token = a->token;
    sl_diag_clear(&d);
    if (sl_http_client_stream(&rq, watch_line, w, &r, &d) != 0)
        CHECK_FAIL("watch %s: %s", url, d.msg);
    status = r.status;
    if (status == 200)
        ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Content-Type"), JSON);
    sl_http_client_resp_fini(&r);
    return status;
}

#define ASSERT_EVENT(w, i, t, nm)          \
    do {                                   \
        ASSERT((i) < (w)->n);              \
        ASSERT_STR_EQ((w)->type[i], (t));  \
        ASSERT_STR_EQ((w)->name[i], (nm)); \
    } while (0)

/* A helper thread that changes things while the test thread watches. */
struct actor {
    struct asrv *a;
    struct watch *w;
    pthread_t th;
};

static void actor_wait(struct watch *w, int n)
{
    int64_t end = sl_time_mono_ns() + 10000000000LL;

    while (__atomic_load_n(&w->n, __ATOMIC_SEQ_CST) < n) {
        if (sl_time_mono_ns() > end)
            CHECK_FAIL("the watch saw %d events, want %d", w->n, n);
        usleep(1000);
    }
}

static void *actor_main(void *arg)
{
    struct actor *ac = arg;

    /* After the two ADDED: a change, then a deletion. */
    actor_wait(ac->w, 2);
    json_object_put(call(ac->a, "PATCH", BROKERS "/a", MERGE,
                         "{\"metadata\":{\"labels\":{\"x\":\"1\"}}}", 200));
    actor_wait(ac->w, 3);
    json_object_put(call(ac->a, "DELETE", BROKERS "/b", NULL, NULL, 200));
    return NULL;
}

TEST(watch_lists_then_follows_and_resumes)
{
    struct json_object *o;
    struct actor ac;
    struct watch w, w2;
    uint64_t rv_a, rv_end;
    char path[256];
    struct asrv a;

    asrv_start(&a, NULL);
    mkns(&a, "default");
    o = mkbroker(&a, "a");
    rv_a = rv_of(o);
    json_object_put(o);
    json_object_put(mkbroker(&a, "b"));
    /* Not in the watched namespace, nor of the watched kind. */
    mkns(&a, "team");
    json_object_put(call(&a, "POST",
                         "/apis/eventing.knative.dev/v1/namespaces/team/"
                         "brokers",
                         JSON, "{\"metadata\":{\"name\":\"c\"}}", 201));
    json_object_put(
        call(&a, "POST", CMS, JSON, "{\"metadata\":{\"name\":\"cm\"}}", 201));

    /* No resourceVersion: ADDED for what exists, then live changes. */
    memset(&ac, 0, sizeof(ac));
    ac.a = &a;
    ac.w = &w;
    memset(&w, 0, sizeof(w));
    ASSERT_EQ(pthread_create(&ac.th, NULL, actor_main, &ac), 0);
    ASSERT_EQ(watch_run(&a, BROKERS "?watch=true", &w, 4), 200);
    ASSERT_EQ(pthread_join(ac.th, NULL), 0);
    ASSERT_EQ(w.n, 4);
    ASSERT_EVENT(&w, 0, "ADDED", "a");
    ASSERT_EVENT(&w, 1, "ADDED", "b");
    ASSERT_EVENT(&w, 2, "MODIFIED", "a");
    ASSERT_STR_EQ(str(w.obj[2], "metadata.labels.x"), "1");
    ASSERT_EVENT(&w, 3, "DELETED", "b");
    ASSERT(w.rv[2] > w.rv[1] && w.rv[3] > w.rv[2]);
    rv_end = w.rv[3];
    watch_fini(&w);

    /* Resume after a's creation: exactly what followed, in order. */
    snprintf(path, sizeof(path), BROKERS "?watch=true&resourceVersion=%llu",
             (unsigned long long)rv_a);
    watch_clear(&w2);
    ASSERT_EQ(watch_run(&a, path, &w2, 3), 200);
    ASSERT_EQ(w2.n, 3);
    ASSERT_EVENT(&w2, 0, "ADDED", "b");
    ASSERT_EVENT(&w2, 1, "MODIFIED", "a");
    ASSERT_EVENT(&w2, 2, "DELETED", "b");
    ASSERT_EQ(w2.rv[2], rv_end);
    watch_fini(&w2);

    /* Across namespaces, with a label selector, ended by timeoutSeconds:
     * the replay has a's change only. */
    snprintf(path, sizeof(path),
             "/apis/eventing.knative.dev/v1/brokers?watch=true&"
             "resourceVersion=%llu&labelSelector=x&timeoutSeconds=1",
             (unsigned long long)rv_a);
    watch_clear(&w2);
    ASSERT_EQ(watch_run(&a, path, &w2, 0), 200);
    ASSERT_EQ(w2.n, 1);
    ASSERT_EVENT(&w2, 0, "ADDED", "a"); /* it entered the selection */
    watch_fini(&w2);
    snprintf(path, sizeof(path),
             "/apis/eventing.knative.dev/v1/brokers?watch=true&"
             "timeoutSeconds=1");
    watch_clear(&w2);
    ASSERT_EQ(watch_run(&a, path, &w2, 0), 200);
    ASSERT_EQ(w2.n, 2);
    ASSERT_EVENT(&w2, 0, "ADDED", "a");
    ASSERT_EVENT(&w2, 1, "ADDED", "c");
    watch_fini(&w2);
    asrv_stop(&a);
}

TEST(watch_from_a_trimmed_history_is_expired)
{
    struct asrv_opts o = { .history_max = 3, .bookmark_ms = 60000 };
    struct json_object *cm = NULL;
    struct watch w;
    char path[256], body[128];
    uint64_t cur;
    struct asrv a;
    int i;

    asrv_start(&a, &o);
    mkns(&a, "default");
    for (i = 0; i < 8; i++) {
        snprintf(body, sizeof(body), "{\"metadata\":{\"name\":\"c%d\"}}", i);
        json_object_put(cm);
        cm = call(&a, "POST", CMS, JSON, body, 201);
    }
    cur = rv_of(cm);
    json_object_put(cm);

    /* One ERROR event with a 410 Status, then the server ends the stream. */
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, CMS "?watch=true&resourceVersion=1", &w, 0), 200);
    ASSERT_EQ(w.n, 1);
    ASSERT_STR_EQ(w.type[0], "ERROR");
    ASSERT_STR_EQ(str(w.obj[0], "kind"), "Status");
    ASSERT_EQ(num(w.obj[0], "code"), 410);
    ASSERT_STR_EQ(str(w.obj[0], "reason"), "Expired");
    ASSERT(strstr(str(w.obj[0], "message"), "too old resource version") !=
           NULL);
    watch_fini(&w);
    /* A version from the future is as unusable. */
    snprintf(path, sizeof(path), CMS "?watch=true&resourceVersion=%llu",
             (unsigned long long)cur + 100);
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, path, &w, 0), 200);
    ASSERT_EQ(w.n, 1);
    ASSERT_EQ(num(w.obj[0], "code"), 410);
    watch_fini(&w);

    /* From the current version: nothing to replay, the bookmark comes at
     * once (the interval is a minute). */
    snprintf(path, sizeof(path),
             CMS "?watch=true&allowWatchBookmarks=true&resourceVersion=%llu",
             (unsigned long long)cur);
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, path, &w, 1), 200);
    ASSERT_STR_EQ(w.type[0], "BOOKMARK");
    ASSERT_EQ(w.rv[0], cur);
    watch_fini(&w);

    /* The retained tail still replays: the last two creations. */
    snprintf(path, sizeof(path), CMS "?watch=true&resourceVersion=%llu",
             (unsigned long long)cur - 2);
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, path, &w, 2), 200);
    ASSERT_EVENT(&w, 0, "ADDED", "c6");
    ASSERT_EVENT(&w, 1, "ADDED", "c7");
    watch_fini(&w);
    asrv_stop(&a);
}

TEST(watch_bookmarks)
{
    struct asrv_opts o = { .bookmark_ms = 30 };
    struct json_object *b;
    struct watch w;
    char path[256];
    uint64_t cur;
    struct asrv a;

    asrv_start(&a, &o);
    mkns(&a, "default");
    b = mkbroker(&a, "b");
    cur = rv_of(b);
    json_object_put(b);

    /* After the list: a BOOKMARK at the list's version, then more while
     * idle. */
    watch_clear(&w);
    ASSERT_EQ(
        watch_run(&a, BROKERS "?watch=true&allowWatchBookmarks=true", &w, 3),
        200);
    ASSERT_EVENT(&w, 0, "ADDED", "b");
    ASSERT_STR_EQ(w.type[1], "BOOKMARK");
    ASSERT_STR_EQ(str(w.obj[1], "kind"), "Broker");
    ASSERT_STR_EQ(str(w.obj[1], "apiVersion"), "eventing.knative.dev/v1");
    ASSERT_EQ(w.rv[1], cur);
    ASSERT(dig(w.obj[1], "spec") == NULL);
    ASSERT_STR_EQ(w.type[2], "BOOKMARK");
    ASSERT_EQ(w.rv[2], cur);
    watch_fini(&w);

    /* From a version: the bookmark follows the replay. */
    snprintf(path, sizeof(path),
             BROKERS "?watch=true&allowWatchBookmarks=true&"
                     "resourceVersion=%llu",
             (unsigned long long)cur);
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, path, &w, 1), 200);
    ASSERT_STR_EQ(w.type[0], "BOOKMARK");
    ASSERT_EQ(w.rv[0], cur);
    watch_fini(&w);

    /* A timeout too large for milliseconds is no timeout (2^61 s once
     * wrapped to 0 ms and ended the stream at once). */
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a,
                        TRIGGERS "?watch=true&allowWatchBookmarks=true&"
                                 "timeoutSeconds=2305843009213693952",
                        &w, 3),
              200);
    ASSERT_EQ(w.n, 3);
    watch_fini(&w);

    /* Without allowWatchBookmarks: none in a second (≈30 intervals). */
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, TRIGGERS "?watch=true&timeoutSeconds=1", &w, 0),
              200);
    ASSERT_EQ(w.n, 0);
    watch_fini(&w);
    asrv_stop(&a);
}

TEST(watch_list_larger_than_the_stream_queue_is_not_cut_silently)
{
    struct asrv_opts o = { .bookmark_ms = 30 };
    static char body[120 * 1024];
    struct watch w;
    struct asrv a;
    int i, added = 0;

    /* Twelve ConfigMaps of 100 KB: more than the server's 1 MiB stream
     * queue, all queued by the list that starts the watch. */
    asrv_start(&a, &o);
    mkns(&a, "default");
    for (i = 0; i < 12; i++) {
        int n = snprintf(
            body, sizeof(body),
            "{\"metadata\":{\"name\":\"c%02d\"},\"data\":{\"k\":\"", i);

        memset(body + n, 'x', 100 * 1024);
        snprintf(body + n + 100 * 1024, sizeof(body) - (size_t)n - 100 * 1024,
                 "\"}}");
        json_object_put(call(&a, "POST", CMS, JSON, body, 201));
    }
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a,
                        CMS "?watch=true&allowWatchBookmarks=true&"
                            "timeoutSeconds=5",
                        &w, 13),
              200);
    /* Either every object arrives, then the bookmark, or the stream ends
     * after what fit: a client must never see a gap followed by more
     * events, it would take the partial list for the whole. */
    for (i = 0; i < w.n && strcmp(w.type[i], "ADDED") == 0; i++) {
        char want[16];

        snprintf(want, sizeof(want), "c%02d", i);
        ASSERT_STR_EQ(w.name[i], want);
        added++;
    }
    if (added < 12)
        ASSERT_EQ(w.n, added);
    else
        ASSERT_STR_EQ(w.type[12], "BOOKMARK");
    watch_fini(&w);
    asrv_stop(&a);
}

/* ---- authentication ---- */

TEST(token_authentication)
{
    struct asrv_opts o = { .token = "s3cret-token" };
    struct sl_http_client_resp r;
    struct json_object *st;
    static const char *const bad[] = {
        "Bearer s3cret-toke",
        "Bearer s3cret-tokenX",
        "Bearer S3CRET-TOKEN",
        "Bearer s3cret-tokeN",
        "Bearer ",
        "Basic s3cret-token",
        "s3cret-token",
        "Bearer  s3cret-token",
        "Bearer x3cret-token",
        "Bearers3cret-token",
    };
    struct watch w;
    struct asrv a;
    size_t i;

    asrv_start(&a, &o);
    mkns(&a, "default"); /* with the token */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_EQ(req_auth(&a, "GET", BROKERS, NULL, NULL, bad[i], &r), 401);
        st = parse(sl_buf_str(&r.body));
        ASSERT_STR_EQ(str(st, "kind"), "Status");
        ASSERT_STR_EQ(str(st, "reason"), "Unauthorized");
        ASSERT_EQ(num(st, "code"), 401);
        json_object_put(st);
        sl_http_client_resp_fini(&r);
    }
    /* No header at all. */
    a.token = NULL;
    ASSERT_EQ(req(&a, "GET", BROKERS, NULL, NULL, &r), 401);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(req(&a, "GET", "/apis", NULL, NULL, &r), 401);
    sl_http_client_resp_fini(&r);
    watch_clear(&w);
    ASSERT_EQ(watch_run(&a, BROKERS "?watch=true", &w, 1), 401);
    ASSERT_EQ(w.n, 0);
    /* Health and version stay open. */
    ASSERT_EQ(req(&a, "GET", "/healthz", NULL, NULL, &r), 200);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(req(&a, "GET", "/version", NULL, NULL, &r), 200);
    sl_http_client_resp_fini(&r);
    /* The exact token, the scheme in any case. */
    ASSERT_EQ(
        req_auth(&a, "GET", BROKERS, NULL, NULL, "Bearer s3cret-token", &r),
        200);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(
        req_auth(&a, "GET", BROKERS, NULL, NULL, "bearer s3cret-token", &r),
        200);
    sl_http_client_resp_fini(&r);
    a.token = o.token;
    ASSERT_EQ(req(&a, "GET", BROKERS, NULL, NULL, &r), 200);
    sl_http_client_resp_fini(&r);
    asrv_stop(&a);
}

/* ---- discovery ---- */

/* The entry of 'resources' named 'name', or NULL. */
static struct json_object *find_res(struct json_object *list, const char *name)
{
    struct json_object *res = dig(list, "resources");
    size_t i;

    for (i = 0; res != NULL && i < json_object_array_length(res); i++) {
        struct json_object *r = json_object_array_get_idx(res, i);

        if (strcmp(str(r, "name"), name) == 0)
            return r;
    }
    return NULL;
}

static bool has_str(const struct json_object *arr, const char *s)
{
    size_t i;

    for (i = 0; arr != NULL && i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(
                       json_object_array_get_idx((struct json_object *)arr, i)),
                   s) == 0)
            return true;
    return false;
}

TEST(discovery_documents)
{
    struct json_object *d, *r, *g = NULL, *groups;
    struct asrv a;
    size_t i;

    asrv_start(&a, NULL);
    d = call(&a, "GET", "/api", NULL, NULL, 200);
    ASSERT_STR_EQ(str(d, "kind"), "APIVersions");
    ASSERT(has_str(dig(d, "versions"), "v1"));
    json_object_put(d);

    d = call(&a, "GET", "/apis", NULL, NULL, 200);
    ASSERT_STR_EQ(str(d, "kind"), "APIGroupList");
    groups = dig(d, "groups");
    for (i = 0; groups != NULL && i < json_object_array_length(groups); i++)
        if (strcmp(str(json_object_array_get_idx(groups, i), "name"),
                   "eventing.knative.dev") == 0)
            g = json_object_array_get_idx(groups, i);
    ASSERT(g != NULL);
    ASSERT_STR_EQ(str(g, "preferredVersion.groupVersion"),
                  "eventing.knative.dev/v1");
    ASSERT_EQ(len(g, "versions"), 2); /* v1 and v1alpha1 (KafkaSink) */
    ASSERT_STR_EQ(str(g, "versions.0.groupVersion"), "eventing.knative.dev/v1");
    ASSERT_STR_EQ(str(g, "versions.1.groupVersion"),
                  "eventing.knative.dev/v1alpha1");
    json_object_put(d);

    d = call(&a, "GET", "/api/v1", NULL, NULL, 200);
    ASSERT_STR_EQ(str(d, "kind"), "APIResourceList");
    ASSERT_STR_EQ(str(d, "groupVersion"), "v1");
    r = find_res(d, "namespaces");
    ASSERT(r != NULL);
    ASSERT(!json_object_get_boolean(dig(r, "namespaced")));
    ASSERT_STR_EQ(str(r, "kind"), "Namespace");
    ASSERT(has_str(dig(r, "shortNames"), "ns"));
    ASSERT(find_res(d, "namespaces/status") != NULL);
    r = find_res(d, "configmaps");
    ASSERT(r != NULL && json_object_get_boolean(dig(r, "namespaced")));
    ASSERT(has_str(dig(r, "verbs"), "watch"));
    ASSERT(find_res(d, "configmaps/status") == NULL);
    ASSERT(find_res(d, "secrets") != NULL);
    json_object_put(d);

    d = call(&a, "GET", "/apis/eventing.knative.dev/v1", NULL, NULL, 200);
    ASSERT_STR_EQ(str(d, "groupVersion"), "eventing.knative.dev/v1");
    r = find_res(d, "brokers");
    ASSERT(r != NULL);
    ASSERT_STR_EQ(str(r, "kind"), "Broker");
    ASSERT_STR_EQ(str(r, "singularName"), "broker");
    ASSERT_EQ(len(r, "verbs"), 7);
    r = find_res(d, "brokers/status");
    ASSERT(r != NULL);
    ASSERT(has_str(dig(r, "verbs"), "patch"));
    ASSERT(!has_str(dig(r, "verbs"), "delete"));
    ASSERT(find_res(d, "triggers") != NULL);
    ASSERT(find_res(d, "kafkasinks") == NULL);
    json_object_put(d);
    d = call(&a, "GET", "/apis/eventing.knative.dev/v1alpha1", NULL, NULL, 200);
    ASSERT(find_res(d, "kafkasinks") != NULL);
    ASSERT_EQ(len(d, "resources"), 2);
    json_object_put(d);

    json_object_put(expect_status(&a, "GET", "/apis/eventing.knative.dev/v2",
                                  NULL, NULL, 404, "NotFound"));
    json_object_put(expect_status(&a, "POST", "/apis", JSON, "{}", 405,
                                  "MethodNotAllowed"));
    asrv_stop(&a);
}

TEST_MAIN()
