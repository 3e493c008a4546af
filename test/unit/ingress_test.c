/*
 * test/unit/ingress_test.c - broker/ingress.h over a real loop (in a
 * thread of its own), a real Embedded backend in a temporary directory and
 * a scripted fake backend, driven with net/client from the test thread
 * (and raw sockets where the client has to vanish).
 *
 * Covered: every status path (200 OPTIONS, 202, 400 path/event/TTL, 404,
 * 405, 413 body and batch, 415, 503 unknown-state broker, closed log and
 * failed append), the Allow header on every answer, knativearrivaltime
 * and the TTL rule as stored (read back through a subscription), batches
 * stored all-or-nothing, 202 only once the record is committed (checked
 * in the SQLite file when the 202 arrives), 100 parallel POSTs, a client
 * that leaves before the append completes, freeing the ingress while
 * an append is in flight, and a plain sink (SL_BACKEND_F_PLAIN) getting
 * its events unstamped.
 */
#define _XOPEN_SOURCE 700
#include "test/unit/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/backend.h"
#include "broker/ingress.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/time.h"
#include "net/client.h"

#define CE_JSON  "application/cloudevents+json"
#define CE_BATCH "application/cloudevents-batch+json"
#define DEADLINE 10000 /* ms */

static int64_t now_ms(void)
{
    return sl_time_mono_ns() / 1000000;
}

/* ---- a scripted backend: appends wait until the test completes them ---- */

struct fake {
    struct sl_backend base;
    sl_backend_done_fn *done; /* the append in flight, or NULL */
    void *arg;
    size_t n;
    int appends;
};

static int fake_init(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                     struct sl_diag *diag)
{
    (void)b;
    (void)cfg;
    (void)diag;
    return 0;
}

static void fake_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    b->state = SL_BACKEND_OPEN;
    done(arg, 0);
}

static int fake_append(struct sl_backend *b, struct sl_event *const *events,
                       size_t n, sl_backend_done_fn *done, void *arg)
{
    struct fake *f = (struct fake *)b;

    (void)events;
    if (f->done != NULL)
        return SL_EBUSY;
    f->done = done;
    f->arg = arg;
    f->n = n;
    f->appends++;
    return 0;
}

/* Complete the append in flight with 'rc' (loop thread). */
static void fake_complete(struct fake *f, int rc)
{
    sl_backend_done_fn *done = f->done;

    ASSERT(done != NULL);
    f->done = NULL;
    done(f->arg, rc);
}

static void fake_close(struct sl_backend *b, sl_backend_done_fn *done,
                       void *arg)
{
    struct fake *f = (struct fake *)b;

    if (f->done != NULL)
        fake_complete(f, SL_ECANCELED);
    b->state = SL_BACKEND_CLOSED;
    done(arg, 0);
}

static void fake_fini(struct sl_backend *b)
{
    (void)b;
}

static const struct sl_backend_ops fake_ops = {
    .cls = "Fake",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct fake),
    .init = fake_init,
    .open = fake_open,
    .append = fake_append,
    .close = fake_close,
    .fini = fake_fini,
};

/* ---- a plain sink (SL_BACKEND_F_PLAIN): keeps what it is given ---- */

struct fx;

struct plain {
    struct sl_backend base;
    struct fx *fx; /* set by fx_start */
};

static void fx_keep(struct fx *f, struct sl_event *ev);

static int plain_append(struct sl_backend *b, struct sl_event *const *events,
                        size_t n, sl_backend_done_fn *done, void *arg)
{
    struct plain *p = (struct plain *)b;

    for (size_t i = 0; i < n; i++)
        fx_keep(p->fx, events[i]);
    done(arg, 0);
    return 0;
}

static void plain_close(struct sl_backend *b, sl_backend_done_fn *done,
                        void *arg)
{
    b->state = SL_BACKEND_CLOSED;
    done(arg, 0);
}

static const struct sl_backend_ops plain_ops = {
    .cls = "Plain",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct plain),
    .flags = SL_BACKEND_F_PLAIN,
    .init = fake_init,
    .open = fake_open,
    .append = plain_append,
    .close = plain_close,
    .fini = fake_fini,
};

/* ---- fixture ---- */

struct rec_copy {
    struct sl_event *ev; /* own reference */
};

struct fx {
    char dir[64];
    char db[128];
    struct sl_loop *loop;
    struct sl_backend *b1;      /* default/b1: Embedded, open */
    struct sl_backend *b2;      /* default/b2: Embedded, never opened */
    struct sl_backend *fake;    /* default/fake */
    struct sl_backend *plain;   /* default/plain: a plain sink */
    struct sl_backend_sub *sub; /* group "reader" on b1 */
    struct sl_ingress *ing;
    pthread_t th;
    bool running;
    char base[64];

    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;
    struct sl_event **recs; /* events the reader got, in order */
    size_t nrecs, caprecs;
    bool task_done;
};

static struct sl_backend *fx_lookup(void *arg, const char *ns, const char *name,
                                    int *why)
{
    struct fx *f = arg;

    if (strcmp(ns, "default") != 0)
        return NULL;
    if (strcmp(name, "b1") == 0)
        return f->b1;
    if (strcmp(name, "b2") == 0)
        return f->b2;
    if (strcmp(name, "fake") == 0)
        return f->fake;
    if (strcmp(name, "plain") == 0)
        return f->plain;
    if (strcmp(name, "down") == 0)
        *why = SL_EAGAIN;
    return NULL;
}

/* Keep a reference to 'ev' among the records (any thread). */
static void fx_keep(struct fx *f, struct sl_event *ev)
{
    pthread_mutex_lock(&f->mu);
    if (f->nrecs == f->caprecs) {
        f->caprecs = f->caprecs ? f->caprecs * 2 : 16;
        f->recs = sl_xrealloc(f->recs, f->caprecs * sizeof(*f->recs));
    }
    f->recs[f->nrecs++] = sl_event_ref(ev);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fx_on_record(void *arg, struct sl_backend_sub *sub,
                         const struct sl_record *rec)
{
    struct fx *f = arg;
    struct sl_settle done = { .outcome = SL_SETTLE_DONE };

    fx_keep(f, rec->ev);
    ASSERT_OK(sl_backend_settle(sub, rec, &done));
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

struct waiter {
    struct sl_loop *loop;
    struct rc_box *box;
    int64_t deadline;
};

static void waiter_tick(void *arg)
{
    struct waiter *w = arg;

    if (w->box->done || now_ms() >= w->deadline)
        sl_loop_stop(w->loop);
}

/* Run the loop on this thread until 'x' is done (the loop thread is not
 * running). */
static void fx_wait_box(struct fx *f, struct rc_box *x)
{
    struct waiter w = { f->loop, x, now_ms() + DEADLINE };
    struct sl_timer *t = sl_timer_new(f->loop, waiter_tick, &w);

    sl_timer_start(t, 0, 2);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
    ASSERT(x->done);
}

static struct sl_backend *fx_backend(struct fx *f,
                                     const struct sl_backend_ops *ops,
                                     const char *name, bool open)
{
    struct sl_backend_cfg cfg = { .loop = f->loop,
                                  .ns = "default",
                                  .name = name,
                                  .data_dir = f->dir,
                                  .limits = { .max_batch = 50,
                                              .max_event_size = 4096 } };
    struct sl_backend *b;
    struct rc_box x = { 0 };

    ASSERT_OK(sl_backend_new(ops, &cfg, &b, NULL));
    if (open) {
        sl_backend_open(b, box_done, &x);
        fx_wait_box(f, &x);
        ASSERT_OK(x.rc);
    }
    return b;
}

static void *fx_main(void *arg)
{
    struct fx *f = arg;

    if (sl_loop_run(f->loop) != 0)
        abort();
    return NULL;
}

/* The registry the next fx_start() gives its ingress (NULL: none). */
static struct sl_metrics *fx_metrics;

static void fx_start(struct fx *f, size_t max_event_size)
{
    struct sl_ingress_opts io = { .listen = "127.0.0.1:0",
                                  .max_event_size = max_event_size,
                                  .lookup = fx_lookup,
                                  .metrics = fx_metrics };
    struct sl_diag d;

    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-ingress-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    snprintf(f->db, sizeof(f->db), "%s/broker_default_b1.db", f->dir);
    ASSERT_OK(sl_loop_new(&f->loop));
    f->b1 = fx_backend(f, &sl_backend_embedded, "b1", true);
    f->b2 = fx_backend(f, &sl_backend_embedded, "b2", false);
    f->fake = fx_backend(f, &fake_ops, "fake", true);
    f->plain = fx_backend(f, &plain_ops, "plain", true);
    ((struct plain *)f->plain)->fx = f;
    ASSERT_OK(
        sl_backend_subscribe(f->b1, "reader", NULL, fx_on_record, f, &f->sub));
    io.lookup_arg = f;
    sl_diag_clear(&d);
    if (sl_ingress_new(f->loop, &io, &f->ing, &d) != 0)
        CHECK_FAIL("ingress: %s", d.msg);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             sl_ingress_port(f->ing));
    ASSERT_EQ(pthread_create(&f->th, NULL, fx_main, f), 0);
    f->running = true;
}

static void fx_join(struct fx *f)
{
    if (!f->running)
        return;
    sl_loop_stop(f->loop);
    ASSERT_EQ(pthread_join(f->th, NULL), 0);
    f->running = false;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fx_close_backend(struct fx *f, struct sl_backend *b)
{
    struct rc_box x = { 0 };

    if (b->state == SL_BACKEND_OPEN) {
        sl_backend_close(b, box_done, &x);
        fx_wait_box(f, &x);
        ASSERT_OK(x.rc);
    }
    sl_backend_free(b);
}

/* Stop the loop thread, then free everything on this thread. */
static void fx_stop(struct fx *f)
{
    fx_join(f);
    sl_ingress_free(f->ing);
    sl_backend_unsubscribe(f->sub);
    fx_close_backend(f, f->b1);
    fx_close_backend(f, f->b2);
    fx_close_backend(f, f->fake);
    fx_close_backend(f, f->plain);
    sl_loop_free(f->loop);
    for (size_t i = 0; i < f->nrecs; i++)
        sl_event_unref(f->recs[i]);
    sl_free(f->recs);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    if (nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        CHECK_FAIL("cannot remove '%s': %s", f->dir, strerror(errno));
}

/* Run fn(arg) on the loop thread and wait for it. */
struct task {
    struct fx *f;
    void (*fn)(struct fx *f, void *arg);
    void *arg;
};

static void task_run(void *p)
{
    struct task *t = p;

    t->fn(t->f, t->arg);
    pthread_mutex_lock(&t->f->mu);
    t->f->task_done = true;
    pthread_cond_broadcast(&t->f->cv);
    pthread_mutex_unlock(&t->f->mu);
}

static void on_loop(struct fx *f, void (*fn)(struct fx *f, void *arg),
                    void *arg)
{
    struct task t = { f, fn, arg };
    struct timespec ts;

    pthread_mutex_lock(&f->mu);
    f->task_done = false;
    pthread_mutex_unlock(&f->mu);
    ASSERT_OK(sl_loop_post(f->loop, task_run, &t));
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE / 1000;
    pthread_mutex_lock(&f->mu);
    while (!f->task_done)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = f->task_done;
    pthread_mutex_unlock(&f->mu);
    ASSERT(ok);
}

static void get_stats(struct fx *f, void *arg)
{
    sl_ingress_stats(f->ing, arg);
}

static struct sl_ingress_stats stats(struct fx *f)
{
    struct sl_ingress_stats s;

    on_loop(f, get_stats, &s);
    return s;
}

static void get_fake_pending(struct fx *f, void *arg)
{
    *(bool *)arg = ((struct fake *)f->fake)->done != NULL;
}

static bool fake_pending(struct fx *f)
{
    bool p;

    on_loop(f, get_fake_pending, &p);
    return p;
}

static void complete_ok(struct fx *f, void *arg)
{
    (void)arg;
    fake_complete((struct fake *)f->fake, 0);
}

static void complete_fail(struct fx *f, void *arg)
{
    (void)arg;
    fake_complete((struct fake *)f->fake, SL_EIO);
}

/* Wait until the reader has got at least 'n' records. */
static void wait_recs(struct fx *f, size_t n)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE / 1000;
    pthread_mutex_lock(&f->mu);
    while (f->nrecs < n)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
            break;
    size_t got = f->nrecs;
    pthread_mutex_unlock(&f->mu);
    if (got < n)
        CHECK_FAIL("reader got %zu records, want %zu", got, n);
}

/* The record with id 'id' the reader got (borrowed), or NULL. */
static struct sl_event *rec_by_id(struct fx *f, const char *id)
{
    struct sl_event *ev = NULL;

    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nrecs && ev == NULL; i++)
        if (strcmp(sl_event_id(f->recs[i]), id) == 0)
            ev = f->recs[i];
    pthread_mutex_unlock(&f->mu);
    return ev;
}

/* Rows in the events table of b1's file, read with a connection of our
 * own: what is committed. */
static int64_t db_count(struct fx *f)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    ASSERT_EQ(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL),
              SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- requests ---- */

struct hdr_set {
    struct sl_http_header h[32];
    size_t n;
};

/*
 * One request; returns the status, leaves the response in 'r' and checks
 * the Allow header every ingress answer carries.
 */
static int post_h(struct fx *f, const char *method, const char *path,
                  const struct hdr_set *hs, const char *body,
                  struct sl_http_client_resp *r)
{
    struct sl_http_client_req rq = { 0 };
    struct sl_diag d;
    char url[512];
    const char *allow;

    snprintf(url, sizeof(url), "%s%s", f->base, path);
    rq.method = method;
    rq.url = url;
    rq.timeout_ms = DEADLINE;
    if (hs != NULL) {
        rq.headers = hs->h;
        rq.nheaders = hs->n;
    }
    if (body != NULL) {
        rq.body = body;
        rq.body_len = strlen(body);
    }
    sl_diag_clear(&d);
    if (sl_http_client_do(&rq, r, &d) != 0)
        CHECK_FAIL("%s %s: %s", method, url, d.msg);
    allow = sl_http_client_resp_header(r, "Allow");
    if (r->status != 413 && (allow == NULL || strcmp(allow, "POST, OPTIONS")))
        CHECK_FAIL("%s %s: %d without Allow: POST, OPTIONS (got '%s')", method,
                   path, r->status, allow ? allow : "(none)");
    return r->status;
}

/* POST and expect 'status'; the body must contain 'needle' (if given). */
static void expect(struct fx *f, const char *method, const char *path,
                   const struct hdr_set *hs, const char *body, int status,
                   const char *needle)
{
    struct sl_http_client_resp r;
    int got = post_h(f, method, path, hs, body, &r);

    if (got != status)
        CHECK_FAIL("%s %s: status %d, want %d: %s", method, path, got, status,
                   sl_buf_str(&r.body));
    if (needle != NULL && strstr(sl_buf_str(&r.body), needle) == NULL)
        CHECK_FAIL("%s %s: body '%s' does not mention '%s'", method, path,
                   sl_buf_str(&r.body), needle);
    if (status == 202)
        ASSERT_EQ(r.body.len, 0);
    sl_http_client_resp_fini(&r);
}

/* Binary-mode headers for an event with 'id' (+ optional TTL header). */
static struct hdr_set binary(const char *id, const char *ttl)
{
    struct hdr_set hs = { .n = 0 };

    hs.h[hs.n++] = (struct sl_http_header){ "ce-specversion", "1.0" };
    hs.h[hs.n++] = (struct sl_http_header){ "ce-id", id };
    hs.h[hs.n++] = (struct sl_http_header){ "ce-source", "/test" };
    hs.h[hs.n++] = (struct sl_http_header){ "ce-type", "t.test" };
    hs.h[hs.n++] = (struct sl_http_header){ "Content-Type", "text/plain" };
    if (ttl != NULL)
        hs.h[hs.n++] = (struct sl_http_header){ "ce-knativebrokerttl", ttl };
    return hs;
}

static struct hdr_set ctype(const char *ct)
{
    struct hdr_set hs = { .n = 1 };

    hs.h[0] = (struct sl_http_header){ "Content-Type", ct };
    return hs;
}

/* ---- tests ---- */

TEST(options_and_methods)
{
    struct fx f;
    struct sl_http_client_resp r;

    fx_start(&f, 0);
    ASSERT_EQ(post_h(&f, "OPTIONS", "/anything/at/all", NULL, NULL, &r), 200);
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "WebHook-Allowed-Origin"),
                  "*");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "WebHook-Allowed-Rate"), "*");
    sl_http_client_resp_fini(&r);
    expect(&f, "GET", "/default/b1", NULL, NULL, 405, "GET");
    expect(&f, "PUT", "/default/b1", NULL, "x", 405, "PUT");
    expect(&f, "DELETE", "/", NULL, NULL, 405, NULL);
    fx_stop(&f);
}

TEST(paths)
{
    struct fx f;
    struct hdr_set hs = binary("p1", NULL);

    fx_start(&f, 0);
    expect(&f, "POST", "/", &hs, "x", 404, "/<namespace>/<broker>");
    expect(&f, "POST", "/default", &hs, "x", 400, "/<namespace>/<broker>");
    expect(&f, "POST", "/default/b1/x", &hs, "x", 400, NULL);
    expect(&f, "POST", "/default/b1//", &hs, "x", 400, NULL);
    expect(&f, "POST", "//b1", &hs, "x", 400, NULL);
    expect(&f, "POST", "/default/%zz", &hs, "x", 400, NULL);
    expect(&f, "POST", "/default/nope", &hs, "x", 404, "default/nope");
    expect(&f, "POST", "/other/b1", &hs, "x", 404, "not found");
    /* One trailing slash and a query string are fine. */
    expect(&f, "POST", "/default/b1/", &hs, "x", 202, NULL);
    expect(&f, "POST", "/default/b1?x=1", &hs, "x", 202, NULL);
    ASSERT_EQ(db_count(&f), 2);
    fx_stop(&f);
}

TEST(unavailable_brokers_503)
{
    struct fx f;
    struct hdr_set hs = binary("u1", NULL);

    fx_start(&f, 0);
    /* The lookup knows the broker but has no backend for it. */
    expect(&f, "POST", "/default/down", &hs, "x", 503, "not available");
    /* The backend exists but was never opened. */
    expect(&f, "POST", "/default/b2", &hs, "x", 503, "not open");
    ASSERT_EQ(stats(&f).failed, 2);
    fx_stop(&f);
}

TEST(bad_events_400_415_413)
{
    struct fx f;
    struct hdr_set hs = binary("b1", NULL);
    struct hdr_set js = ctype(CE_JSON);
    struct hdr_set xml = ctype("application/cloudevents+xml");
    char big[1200];

    fx_start(&f, 1024);
    hs.h[1].name = "ce-nothing"; /* no ce-id */
    expect(&f, "POST", "/default/b1", &hs, "x", 400, "id");
    expect(&f, "POST", "/default/b1", &js,
           "{\"specversion\":\"1.0\",\"id\":\"a\",\"type\":\"t\"}", 400,
           "source");
    expect(&f, "POST", "/default/b1", &js, "{not json", 400, NULL);
    expect(&f, "POST", "/default/b1", &xml, "<event/>", 415, NULL);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hs = binary("big", NULL);
    expect(&f, "POST", "/default/b1", &hs, big, 413, NULL);
    ASSERT_EQ(db_count(&f), 0);
    fx_stop(&f);
}

TEST(broker_limit_413)
{
    struct fx f;
    struct hdr_set hs = binary("big", NULL);
    char big[5000];

    /* The ingress takes 1 MiB, the broker's log only 4 KiB per event. */
    fx_start(&f, 0);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect(&f, "POST", "/default/b1", &hs, big, 413, "limit of broker");
    ASSERT_EQ(db_count(&f), 0);
    fx_stop(&f);
}

TEST(arrival_time_and_ttl_as_stored)
{
    struct fx f;
    struct hdr_set hs;
    struct sl_event *ev;
    struct sl_timestamp ts, now;
    const char *ttl_cases[][2] = {
        { NULL, "255" },          { "5", "4" }, { "abc", "255" }, { "2", "1" },
        { "99999999999", "255" },
    };
    char id[16];

    fx_start(&f, 0);
    for (size_t i = 0; i < sizeof(ttl_cases) / sizeof(ttl_cases[0]); i++) {
        snprintf(id, sizeof(id), "ttl%zu", i);
        hs = binary(id, ttl_cases[i][0]);
        expect(&f, "POST", "/default/b1", &hs, "hello", 202, NULL);
    }
    /* Exhausted: 1 -> 0, 0 and below -> refused, nothing stored. */
    hs = binary("dead1", "1");
    expect(&f, "POST", "/default/b1", &hs, "x", 400, "knativebrokerttl");
    hs = binary("dead0", "0");
    expect(&f, "POST", "/default/b1", &hs, "x", 400, "knativebrokerttl");
    hs = binary("deadneg", "-3");
    expect(&f, "POST", "/default/b1", &hs, "x", 400, "knativebrokerttl");

    wait_recs(&f, 5);
    now = sl_time_now();
    for (size_t i = 0; i < sizeof(ttl_cases) / sizeof(ttl_cases[0]); i++) {
        snprintf(id, sizeof(id), "ttl%zu", i);
        ev = rec_by_id(&f, id);
        ASSERT(ev != NULL);
        ASSERT_STR_EQ(sl_event_value(ev, "knativebrokerttl"), ttl_cases[i][1]);
        ASSERT_OK(sl_time_parse_rfc3339(
            sl_event_value(ev, "knativearrivaltime"), &ts, NULL));
        ASSERT(ts.sec <= now.sec && ts.sec >= now.sec - 60);
        ASSERT(ev->has_data && ev->data_len == 5);
    }
    ASSERT(rec_by_id(&f, "dead1") == NULL);
    ASSERT_EQ(db_count(&f), 5);
    fx_stop(&f);
}

TEST(pass_through_headers_stored_with_the_event)
{
    static char names[20][16];
    struct fx f;
    struct hdr_set hs;
    struct sl_event *ev;

    fx_start(&f, 0);
    hs = binary("h1", NULL);
    hs.h[hs.n++] = (struct sl_http_header){ "X-Request-Id", "r1" };
    hs.h[hs.n++] = (struct sl_http_header){ "Knative-Foo", "f" };
    hs.h[hs.n++] = (struct sl_http_header){ "X-Other", "no" };
    hs.h[hs.n++] = (struct sl_http_header){ "traceparent", "00-t" };
    expect(&f, "POST", "/default/b1", &hs, "x", 202, NULL);
    /* Past the limit: the first 16 are kept, the request is accepted. */
    hs = binary("h2", NULL);
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), "Knative-N%d", i);
        hs.h[hs.n++] = (struct sl_http_header){ names[i], "v" };
    }
    expect(&f, "POST", "/default/b1", &hs, "x", 202, NULL);
    wait_recs(&f, 2);
    ev = rec_by_id(&f, "h1");
    ASSERT(ev != NULL);
    ASSERT_EQ(ev->nhdrs, 3);
    ASSERT_STR_EQ(sl_event_header(ev, "x-request-id"), "r1");
    ASSERT_STR_EQ(sl_event_header(ev, "knative-foo"), "f");
    ASSERT_STR_EQ(sl_event_header(ev, "traceparent"), "00-t");
    ASSERT(sl_event_get(ev, "knativefoo") == NULL);
    ev = rec_by_id(&f, "h2");
    ASSERT(ev != NULL);
    ASSERT_EQ(ev->nhdrs, SL_EVENT_MAX_HEADERS);
    ASSERT_STR_EQ(ev->hdrs[15].name, "Knative-N15");
    ASSERT_EQ(stats(&f).headers_dropped, 4);
    fx_stop(&f);
}

TEST(structured_and_arrival_overwritten)
{
    struct fx f;
    struct hdr_set js = ctype(CE_JSON);
    struct sl_event *ev;

    fx_start(&f, 0);
    expect(&f, "POST", "/default/b1", &js,
           "{\"specversion\":\"1.0\",\"id\":\"s1\",\"source\":\"/s\","
           "\"type\":\"t\",\"knativebrokerttl\":10,"
           "\"knativearrivaltime\":\"2000-01-01T00:00:00Z\",\"data\":{}}",
           202, NULL);
    wait_recs(&f, 1);
    ev = rec_by_id(&f, "s1");
    ASSERT(ev != NULL);
    ASSERT_STR_EQ(sl_event_value(ev, "knativebrokerttl"), "9");
    ASSERT(strncmp(sl_event_value(ev, "knativearrivaltime"), "2000", 4) != 0);
    fx_stop(&f);
}

TEST(plain_sink_gets_events_unstamped)
{
    struct fx f;
    struct hdr_set hs, bs = ctype(CE_BATCH);
    struct sl_buf body;
    struct sl_event *ev;

    fx_start(&f, 0);
    /* A TTL of 1 would be exhausted at a broker; a sink keeps it as is. */
    hs = binary("p1", "1");
    expect(&f, "POST", "/default/plain", &hs, "hello", 202, NULL);
    hs = binary("p2", NULL);
    expect(&f, "POST", "/default/plain", &hs, "hello", 202, NULL);
    expect(&f, "POST", "/default/plain", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"p3\",\"source\":\"/s\","
           "\"type\":\"t\",\"knativebrokerttl\":0,"
           "\"knativearrivaltime\":\"2000-01-01T00:00:00Z\"}]",
           202, NULL);
    wait_recs(&f, 3);
    ev = rec_by_id(&f, "p1");
    ASSERT(ev != NULL);
    ASSERT_STR_EQ(sl_event_value(ev, "knativebrokerttl"), "1");
    ASSERT(sl_event_value(ev, "knativearrivaltime") == NULL);
    ev = rec_by_id(&f, "p2");
    ASSERT(ev != NULL);
    ASSERT(sl_event_value(ev, "knativebrokerttl") == NULL);
    ASSERT(sl_event_value(ev, "knativearrivaltime") == NULL);
    ev = rec_by_id(&f, "p3");
    ASSERT(ev != NULL);
    ASSERT_STR_EQ(sl_event_value(ev, "knativebrokerttl"), "0");
    ASSERT_STR_EQ(sl_event_value(ev, "knativearrivaltime"),
                  "2000-01-01T00:00:00Z");
    /* Answers call it a sink. */
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    sl_buf_appends(&body, "[");
    for (int i = 0; i < 51; i++)
        sl_buf_appendf(&body,
                       "%s{\"specversion\":\"1.0\",\"id\":\"m%d\","
                       "\"source\":\"/s\",\"type\":\"t\"}",
                       i ? "," : "", i);
    sl_buf_appends(&body, "]");
    expect(&f, "POST", "/default/plain", &bs, sl_buf_str(&body), 413,
           "of sink default/plain");
    sl_buf_fini(&body);
    /* The same request at a broker is refused (TTL exhausted). */
    hs = binary("b1-ttl", "1");
    expect(&f, "POST", "/default/b1", &hs, "hello", 400, "knativebrokerttl");
    fx_stop(&f);
}

TEST(batch_is_all_or_nothing)
{
    struct fx f;
    struct hdr_set bs = ctype(CE_BATCH);
    struct sl_buf body;

    fx_start(&f, 0);
    expect(&f, "POST", "/default/b1", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"a1\",\"source\":\"/s\","
           "\"type\":\"t\"},"
           "{\"specversion\":\"1.0\",\"id\":\"a2\",\"source\":\"/s\","
           "\"type\":\"t\",\"knativebrokerttl\":3},"
           "{\"specversion\":\"1.0\",\"id\":\"a3\",\"source\":\"/s\","
           "\"type\":\"t\"}]",
           202, NULL);
    ASSERT_EQ(db_count(&f), 3);
    /* The second event's TTL is exhausted: none of the three is kept. */
    expect(&f, "POST", "/default/b1", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"x1\",\"source\":\"/s\","
           "\"type\":\"t\"},"
           "{\"specversion\":\"1.0\",\"id\":\"x2\",\"source\":\"/s\","
           "\"type\":\"t\",\"knativebrokerttl\":1},"
           "{\"specversion\":\"1.0\",\"id\":\"x3\",\"source\":\"/s\","
           "\"type\":\"t\"}]",
           400, "[1].knativebrokerttl");
    /* An invalid second event: the same. */
    expect(&f, "POST", "/default/b1", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"y1\",\"source\":\"/s\","
           "\"type\":\"t\"},{\"specversion\":\"1.0\",\"id\":\"y2\"}]",
           400, "[1]");
    /* An empty batch has nothing to store. */
    expect(&f, "POST", "/default/b1", &bs, "[]", 202, NULL);
    /* More events than the broker takes in one append (50 here). */
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    sl_buf_appends(&body, "[");
    for (int i = 0; i < 51; i++)
        sl_buf_appendf(&body,
                       "%s{\"specversion\":\"1.0\",\"id\":\"m%d\","
                       "\"source\":\"/s\",\"type\":\"t\"}",
                       i ? "," : "", i);
    sl_buf_appends(&body, "]");
    expect(&f, "POST", "/default/b1", &bs, sl_buf_str(&body), 413, "50");
    sl_buf_fini(&body);
    ASSERT_EQ(db_count(&f), 3);

    wait_recs(&f, 3);
    ASSERT(rec_by_id(&f, "a1") != NULL);
    ASSERT_STR_EQ(sl_event_value(rec_by_id(&f, "a2"), "knativebrokerttl"), "2");
    ASSERT(sl_event_value(rec_by_id(&f, "a3"), "knativearrivaltime") != NULL);
    ASSERT(rec_by_id(&f, "x1") == NULL && rec_by_id(&f, "y1") == NULL);
    fx_stop(&f);
}

TEST(accepted_means_committed)
{
    struct fx f;
    struct hdr_set hs;
    char id[16];

    fx_start(&f, 0);
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "d%d", i);
        hs = binary(id, NULL);
        expect(&f, "POST", "/default/b1", &hs, "x", 202, NULL);
        /* Read with an independent connection the moment 202 arrived. */
        ASSERT_EQ(db_count(&f), i + 1);
    }
    ASSERT_EQ(stats(&f).events, 20);
    fx_stop(&f);
}

/* ---- 100 parallel POSTs ---- */

struct par {
    struct fx *f;
    int i;
    int status;
};

static void *par_main(void *arg)
{
    struct par *p = arg;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_http_header h[5];
    char url[128], id[16];

    snprintf(url, sizeof(url), "%s/default/b1", p->f->base);
    snprintf(id, sizeof(id), "c%d", p->i);
    h[0] = (struct sl_http_header){ "ce-specversion", "1.0" };
    h[1] = (struct sl_http_header){ "ce-id", id };
    h[2] = (struct sl_http_header){ "ce-source", "/par" };
    h[3] = (struct sl_http_header){ "ce-type", "t" };
    h[4] = (struct sl_http_header){ "Content-Type", "text/plain" };
    rq.method = "POST";
    rq.url = url;
    rq.headers = h;
    rq.nheaders = 5;
    rq.body = "payload";
    rq.body_len = 7;
    rq.timeout_ms = DEADLINE;
    p->status = sl_http_client_do(&rq, &r, NULL) == 0 ? r.status : -1;
    sl_http_client_resp_fini(&r);
    return NULL;
}

TEST(hundred_parallel_posts)
{
    enum { N = 100 };
    struct fx f;
    struct par ps[N];
    pthread_t th[N];
    char id[16];

    ASSERT_OK(sl_http_client_global_init());
    fx_start(&f, 0);
    for (int i = 0; i < N; i++) {
        ps[i] = (struct par){ &f, i, 0 };
        ASSERT_EQ(pthread_create(&th[i], NULL, par_main, &ps[i]), 0);
    }
    for (int i = 0; i < N; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++)
        if (ps[i].status != 202)
            CHECK_FAIL("post %d: status %d", i, ps[i].status);
    ASSERT_EQ(db_count(&f), N);
    wait_recs(&f, N);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "c%d", i);
        ASSERT(rec_by_id(&f, id) != NULL);
    }
    ASSERT_EQ(stats(&f).accepted, N);
    fx_stop(&f);
}

/* ---- the scripted backend: answers follow the append's completion ---- */

struct bg_post {
    struct fx *f;
    int status;
    char body[256];
};

static void *bg_main(void *arg)
{
    struct bg_post *p = arg;
    struct hdr_set hs = binary("bg", NULL);
    struct sl_http_client_resp r;

    p->status = post_h(p->f, "POST", "/default/fake", &hs, "x", &r);
    snprintf(p->body, sizeof(p->body), "%s", sl_buf_str(&r.body));
    sl_http_client_resp_fini(&r);
    return NULL;
}

static void wait_fake_pending(struct fx *f)
{
    int64_t end = now_ms() + DEADLINE;

    while (!fake_pending(f)) {
        if (now_ms() > end)
            CHECK_FAIL("no append reached the fake backend");
        usleep(1000);
    }
}

TEST(answer_only_when_append_completes)
{
    struct fx f;
    struct bg_post p = { 0 };
    pthread_t th;

    fx_start(&f, 0);
    p.f = &f;
    ASSERT_EQ(pthread_create(&th, NULL, bg_main, &p), 0);
    wait_fake_pending(&f);
    /* The request waits: no answer while the append is in flight. */
    ASSERT_EQ(stats(&f).waiting, 1);
    ASSERT_EQ(stats(&f).accepted, 0);
    on_loop(&f, complete_ok, NULL);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(p.status, 202);

    /* A failed append is a 503 with a message. */
    memset(&p, 0, sizeof(p));
    p.f = &f;
    ASSERT_EQ(pthread_create(&th, NULL, bg_main, &p), 0);
    wait_fake_pending(&f);
    on_loop(&f, complete_fail, NULL);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(p.status, 503);
    ASSERT(strstr(p.body, "default/fake") != NULL);
    ASSERT(strstr(p.body, sl_strerror(SL_EIO)) != NULL);
    fx_stop(&f);
}

/* Send a binary-mode POST on a raw socket; returns the socket. */
static int raw_post(struct fx *f, const char *path)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char req[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int len;

    ASSERT(fd >= 0);
    sa.sin_port = htons((uint16_t)sl_ingress_port(f->ing));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    len = snprintf(req, sizeof(req),
                   "POST %s HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\n"
                   "ce-id: raw\r\nce-source: /raw\r\nce-type: t\r\n"
                   "Content-Type: text/plain\r\nContent-Length: 1\r\n\r\nx",
                   path);
    ASSERT_EQ(write(fd, req, (size_t)len), len);
    return fd;
}

TEST(client_gone_before_durable)
{
    struct fx f;
    int64_t end;
    int fd;

    fx_start(&f, 0);
    fd = raw_post(&f, "/default/fake");
    wait_fake_pending(&f);
    ASSERT_EQ(stats(&f).waiting, 1);
    close(fd);
    /* The server notices the hang-up; the append is still in flight. */
    end = now_ms() + DEADLINE;
    while (stats(&f).waiting != 0) {
        if (now_ms() > end)
            CHECK_FAIL("the ingress did not see the client leave");
        usleep(1000);
    }
    ASSERT(fake_pending(&f));
    on_loop(&f, complete_ok, NULL);
    struct sl_ingress_stats s = stats(&f);
    ASSERT_EQ(s.abandoned, 1);
    ASSERT_EQ(s.accepted, 0);
    ASSERT_EQ(s.events, 1);
    fx_stop(&f);
}

TEST(free_with_append_in_flight)
{
    struct fx f;
    int fd;

    fx_start(&f, 0);
    fd = raw_post(&f, "/default/fake");
    wait_fake_pending(&f);
    fx_join(&f);
    /* Free the ingress first: the append completes afterwards, when the
     * backend closes (fx_stop), and must only free its state. */
    sl_ingress_free(f.ing);
    f.ing = NULL;
    ASSERT_EQ(((struct fake *)f.fake)->appends, 1);
    fx_stop(&f);
    close(fd);
}

TEST(new_rejects_bad_options)
{
    struct sl_loop *loop;
    struct sl_ingress *ing = (struct sl_ingress *)1;
    struct sl_ingress_opts o = { .listen = "127.0.0.1:0" };
    struct sl_diag d;

    ASSERT_OK(sl_loop_new(&loop));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_ingress_new(loop, &o, &ing, &d), SL_EINVAL);
    ASSERT(ing == NULL);
    ASSERT(d.msg[0] != '\0');
    o.lookup = fx_lookup;
    o.max_ttl = -1;
    ASSERT_EQ(sl_ingress_new(loop, &o, &ing, &d), SL_EINVAL);
    o.max_ttl = 0;
    o.listen = "not an address";
    ASSERT(sl_ingress_new(loop, &o, &ing, &d) < 0);
    ASSERT(ing == NULL);
    sl_ingress_free(NULL);
    sl_loop_free(loop);
}

/* ---- metrics ---- */

/* The value of the one sample of 'name' whose line contains every string
 * of 'has' (NULL-terminated), or -1 when none or several do. */
static double metric(const char *text, const char *name, const char *const *has)
{
    const char *p = text;
    double v = -1;
    int found = 0;

    while (p != NULL && *p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        int i;

        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        if (strncmp(line, name, strlen(name)) == 0 &&
            line[strlen(name)] == '{') {
            for (i = 0; has[i] != NULL; i++)
                if (strstr(line, has[i]) == NULL)
                    break;
            if (has[i] == NULL) {
                found++;
                v = strtod(strrchr(line, ' ') + 1, NULL);
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return found == 1 ? v : -1;
}

/* Check the counter and the histogram's _count of one label set. */
static void expect_count(const char *text, double want, const char *ns,
                         const char *broker, const char *type, const char *code)
{
    char a[64], b[64], c[128], d[64];
    const char *has[] = {
        a, b, c, d, "event_scheme=\"http\"", "container_name=\"ingress\"", NULL
    };
    double got, hist;

    snprintf(a, sizeof(a), "namespace_name=\"%s\"", ns);
    snprintf(b, sizeof(b), "broker_name=\"%s\"", broker);
    snprintf(c, sizeof(c), "event_type=\"%s\"", type);
    snprintf(d, sizeof(d), "response_code=\"%s\"", code);
    got = metric(text, "mt_broker_ingress_event_count", has);
    hist =
        metric(text, "mt_broker_ingress_event_dispatch_latencies_count", has);
    if (got != want || hist != want)
        CHECK_FAIL("%s/%s %s %s: count %g, histogram %g, want %g\n%s", ns,
                   broker, type, code, got, hist, want, text);
}

TEST(metrics_per_answer)
{
    struct sl_metrics *m = sl_metrics_new();
    struct fx f;
    struct hdr_set hs = binary("m1", NULL), noid = binary("m2", NULL);
    struct hdr_set bs = ctype(CE_BATCH);
    struct sl_buf out;

    fx_metrics = m;
    fx_start(&f, 0);
    fx_metrics = NULL;
    expect(&f, "POST", "/default/b1", &hs, "x", 202, NULL);
    expect(&f, "POST", "/default/b1", &hs, "x", 202, NULL);
    expect(&f, "POST", "/default/nope", &hs, "x", 404, NULL);
    expect(&f, "POST", "/", &hs, "x", 404, NULL);
    expect(&f, "POST", "/default", &hs, "x", 400, NULL);
    noid.h[1].name = "ce-nothing";
    expect(&f, "POST", "/default/b1", &noid, "x", 400, NULL);
    expect(&f, "POST", "/default/down", &hs, "x", 503, NULL);
    expect(&f, "POST", "/default/b2", &hs, "x", 503, NULL);
    expect(&f, "GET", "/default/b1", NULL, NULL, 405, NULL); /* not counted */
    expect(&f, "POST", "/default/b1", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"a1\",\"source\":\"/s\","
           "\"type\":\"t.batch\"},{\"specversion\":\"1.0\",\"id\":\"a2\","
           "\"source\":\"/s\",\"type\":\"t.batch\"}]",
           202, NULL);
    expect(&f, "POST", "/default/b1", &bs,
           "[{\"specversion\":\"1.0\",\"id\":\"x1\",\"source\":\"/s\","
           "\"type\":\"t.batch\",\"knativebrokerttl\":1}]",
           400, NULL);
    fx_stop(&f);

    /* The series outlive the ingress: they belong to the registry. */
    sl_buf_init(&out, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_metrics_write(m, &out));
    expect_count(out.data, 2, "default", "b1", "t.test", "202");
    expect_count(out.data, 2, "", "", "", "404");
    expect_count(out.data, 1, "", "", "", "400");
    expect_count(out.data, 1, "default", "b1", "", "400");
    expect_count(out.data, 1, "default", "down", "", "503");
    expect_count(out.data, 1, "default", "b2", "t.test", "503");
    expect_count(out.data, 2, "default", "b1", "t.batch", "202");
    expect_count(out.data, 1, "default", "b1", "t.batch", "400");
    ASSERT(strstr(out.data, "nope") == NULL);
    ASSERT(strstr(out.data, "response_code=\"405\"") == NULL);
    sl_buf_fini(&out);
    sl_metrics_free(m);
}

TEST_MAIN()
