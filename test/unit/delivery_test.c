/*
 * test/unit/delivery_test.c - sinks/delivery.h driven directly as a
 * deliverer (no dispatcher): a scripted HTTP sink (net/server.h on
 * 127.0.0.1:0) and the sender on the test's own loop, replies appended
 * to a real Embedded backend in a temporary directory (read back through
 * a subscription), and a scripted backend where an append has to stay
 * in flight or fail.
 *
 * Covered: 2xx -> DONE; binary and structured (format json) with the
 * event decoded back; knativebrokerttl not sent; Prefer and Kn-Namespace;
 * 500 with retries left -> RETRY with attempts and not_before checked
 * against the policy; 400 -> dead letter at once with its extensions;
 * retries used up -> dead letter; a dead-letter sink failing then taking
 * the event (in-memory retry); no dead-letter sink -> given up; connection
 * refused (no knativeerrorcode); timeout from the policy and from the
 * default; 429 with Retry-After with and without retryAfterMax; replies
 * (TTL decremented, knativearrivaltime), TTL 1 and absent TTL; a 2xx body
 * that is not an event; an append that fails; the sender's SL_EBUSY and a
 * URL it refuses; cancel while sending, while waiting for a dead-letter
 * retry and while the reply append is in flight; the counters; the
 * Knative filter metrics of each attempt (core/metrics_kn.h).
 */
#include "test/unit/check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/backend.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/metrics_kn.h"
#include "core/str.h"
#include "core/time.h"
#include "net/server.h"
#include "proto/event.h"
#include "proto/http.h"
#include "sinks/delivery.h"
#include "sinks/http_sender.h"
#include "sinks/retry.h"

#define DEADLINE 10000 /* ms */

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    return sl_time_mono_ns() / 1000000;
}

/* ---- a scripted backend: appends wait for the test, or fail ---- */

struct fake {
    struct sl_backend base;
    sl_backend_done_fn *done; /* the append in flight, or NULL */
    void *arg;
    int appends;
    int refuse; /* != 0: append returns this at once */
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
    (void)n;
    if (f->refuse != 0)
        return f->refuse;
    ASSERT(f->done == NULL);
    f->done = done;
    f->arg = arg;
    f->appends++;
    return 0;
}

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

/* ---- the scripted sink ---- */

/* One scripted answer for the next request to 'path'. */
struct step {
    const char *path;
    int status;
    const char *ctype;
    const char *body;
    const char *hdrs[16]; /* name, value, ..., NULL */
    int delay_ms;         /* answer after this long */
    bool hang;            /* never answer */
    bool used;
};

/* What the sink received. */
struct seen {
    char path[32];
    struct sl_http_headers headers;
    struct sl_buf body;
    struct sl_event *ev; /* decoded back, or NULL */
    enum sl_ce_mode mode;
};

#define MAX_STEPS 16
#define MAX_SEEN  32

struct fx;

struct held {
    struct fx *f;
    struct sl_http_req *req;
    struct sl_timer *timer;
    struct step *step;
};

/* A job as the dispatcher would have it. */
struct job {
    int calls;
    struct sl_settle how;
    int64_t at_wall;
};

struct fx {
    char dir[64];
    struct sl_loop *loop;
    struct sl_http_server *srv;
    struct sl_sender *snd;
    struct sl_backend *b;    /* Embedded, open */
    struct sl_backend *fake; /* scripted */
    struct sl_backend_sub *sub;
    struct sl_delivery *dl;
    char base[64];
    char sub_url[96];
    char dls_url[96];
    struct step steps[MAX_STEPS];
    int nsteps;
    struct seen seen[MAX_SEEN];
    int nseen;
    int held;                /* requests not answered yet */
    struct sl_event *got[8]; /* events read back from the backend */
    int ngot;
};

static void seen_fini(struct seen *s)
{
    sl_http_headers_fini(&s->headers);
    sl_buf_fini(&s->body);
    sl_event_unref(s->ev);
}

static void held_free(struct held *h)
{
    h->f->held--;
    sl_timer_free(h->timer);
    sl_free(h);
}

static void answer(struct sl_http_req *req, const struct step *st)
{
    size_t len = st->body ? strlen(st->body) : 0;

    for (int i = 0; st->hdrs[i] != NULL; i += 2)
        ASSERT_OK(sl_http_resp_header(req, st->hdrs[i], st->hdrs[i + 1]));
    ASSERT_OK(
        sl_http_respond(req, (unsigned)st->status, st->ctype, st->body, len));
}

static void held_fire(void *arg)
{
    struct held *h = arg;

    sl_http_req_on_close(h->req, NULL, NULL);
    answer(h->req, h->step);
    held_free(h);
}

static void held_closed(void *arg, struct sl_http_req *req)
{
    (void)req;
    held_free(arg);
}

static void sink(void *arg, struct sl_http_req *req)
{
    static const struct step ok = { .status = 200 };
    struct fx *f = arg;
    const struct sl_http_header *h;
    struct sl_event_list evs;
    struct sl_http_msg msg;
    struct seen *s;
    struct step *st = NULL;
    size_t n, i;

    ASSERT(f->nseen < MAX_SEEN);
    s = &f->seen[f->nseen++];
    sl_strlcpy(s->path, sl_http_req_path(req), sizeof(s->path));
    sl_http_headers_init(&s->headers);
    h = sl_http_req_headers(req, &n);
    for (i = 0; i < n; i++)
        sl_http_headers_add(&s->headers, h[i].name, h[i].value);
    msg.headers = h;
    msg.nheaders = n;
    msg.body = sl_http_req_body(req, &msg.body_len);
    sl_buf_init(&s->body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_buf_append(&s->body, msg.body, msg.body_len));
    sl_event_list_init(&evs);
    if (sl_ce_http_decode(&msg, NULL, &evs, &s->mode, NULL) == 0 &&
        evs.n == 1) {
        s->ev = evs.v[0];
        evs.n = 0;
    }
    sl_event_list_fini(&evs);

    for (int k = 0; k < f->nsteps; k++) {
        if (!f->steps[k].used && strcmp(f->steps[k].path, s->path) == 0) {
            st = &f->steps[k];
            st->used = true;
            break;
        }
    }
    if (st == NULL) {
        answer(req, &ok);
        return;
    }
    if (st->hang || st->delay_ms > 0) {
        struct held *hd = sl_xcalloc(1, sizeof(*hd));
        hd->f = f;
        hd->req = req;
        hd->step = st;
        f->held++;
        sl_http_req_on_close(req, held_closed, hd);
        if (!st->hang) {
            hd->timer = sl_timer_new(f->loop, held_fire, hd);
            sl_timer_start(hd->timer, (uint64_t)st->delay_ms, 0);
        }
        return;
    }
    answer(req, st);
}

static struct step *script(struct fx *f, const char *path, int status)
{
    struct step *st;

    ASSERT(f->nsteps < MAX_STEPS);
    st = &f->steps[f->nsteps++];
    memset(st, 0, sizeof(*st));
    st->path = path;
    st->status = status;
    return st;
}

/* ---- running the loop ---- */

typedef bool pred_fn(struct fx *f, void *arg);

struct waiter {
    struct fx *f;
    pred_fn *pred;
    void *arg;
    int64_t deadline;
    bool timed_out;
};

static void waiter_tick(void *arg)
{
    struct waiter *w = arg;

    if (w->pred && w->pred(w->f, w->arg))
        sl_loop_stop(w->f->loop);
    else if (mono_ms() >= w->deadline) {
        w->timed_out = true;
        sl_loop_stop(w->f->loop);
    }
}

/* Run the loop until pred holds (fails the test after 'ms'). */
static void wait_for(struct fx *f, pred_fn *pred, void *arg, int ms)
{
    struct waiter w = { f, pred, arg, mono_ms() + ms, false };
    struct sl_timer *t = sl_timer_new(f->loop, waiter_tick, &w);

    sl_timer_start(t, 0, 1);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
    if (pred && w.timed_out)
        CHECK_FAIL("condition not met within %d ms", ms);
}

/* Run the loop for about 'ms' (to see that nothing more happens). */
static void run_for(struct fx *f, int ms)
{
    wait_for(f, NULL, NULL, ms);
}

static bool job_done(struct fx *f, void *arg)
{
    (void)f;
    return ((struct job *)arg)->calls > 0;
}

static bool seen_n(struct fx *f, void *arg)
{
    return f->nseen >= *(int *)arg;
}

static bool got_n(struct fx *f, void *arg)
{
    return f->ngot >= *(int *)arg;
}

static bool fake_pending(struct fx *f, void *arg)
{
    (void)arg;
    return ((struct fake *)f->fake)->done != NULL;
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

static bool box_ready(struct fx *f, void *arg)
{
    (void)f;
    return ((struct rc_box *)arg)->done;
}

static void job_finished(void *arg, const struct sl_settle *how)
{
    struct job *j = arg;

    j->calls++;
    j->how = *how;
    j->at_wall = wall_ms();
}

static void on_record(void *arg, struct sl_backend_sub *sub,
                      const struct sl_record *rec)
{
    struct fx *f = arg;
    struct sl_settle done = { .outcome = SL_SETTLE_DONE };

    ASSERT(f->ngot < 8);
    f->got[f->ngot++] = sl_event_ref(rec->ev);
    ASSERT_OK(sl_backend_settle(sub, rec, &done));
}

/* ---- fixture ---- */

static void open_backend(struct fx *f, const struct sl_backend_ops *ops,
                         const char *name, struct sl_backend **out)
{
    struct sl_backend_cfg cfg = {
        .loop = f->loop, .ns = "default", .name = name, .data_dir = f->dir
    };
    struct rc_box x = { 0 };

    ASSERT_OK(sl_backend_new(ops, &cfg, out, NULL));
    sl_backend_open(*out, box_done, &x);
    wait_for(f, box_ready, &x, DEADLINE);
    ASSERT_OK(x.rc);
}

static void close_backend(struct fx *f, struct sl_backend *b)
{
    struct rc_box x = { 0 };

    sl_backend_close(b, box_done, &x);
    wait_for(f, box_ready, &x, DEADLINE);
    ASSERT_OK(x.rc);
    sl_backend_free(b);
}

static void fx_init(struct fx *f, const struct sl_sender_opts *so)
{
    struct sl_diag d;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-delivery-XXXXXX");
    ASSERT(mkdtemp(f->dir) != NULL);
    ASSERT_OK(sl_loop_new(&f->loop));
    sl_diag_clear(&d);
    if (sl_http_server_new(f->loop, NULL, sink, f, &f->srv, &d) != 0)
        CHECK_FAIL("server: %s", d.msg);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
             sl_http_server_port(f->srv));
    snprintf(f->sub_url, sizeof(f->sub_url), "%s/sub", f->base);
    snprintf(f->dls_url, sizeof(f->dls_url), "%s/dls", f->base);
    ASSERT_OK(sl_sender_new(f->loop, so, &f->snd));
    open_backend(f, &sl_backend_embedded, "b1", &f->b);
    open_backend(f, &fake_ops, "fake", &f->fake);
    ASSERT_OK(sl_backend_subscribe(f->b, "check", NULL, on_record, f, &f->sub));
}

static void rm_dir(const char *dir)
{
    char path[64 + 256 + 2];
    struct dirent *e;
    DIR *d = opendir(dir);

    ASSERT(d != NULL);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ASSERT(unlink(path) == 0);
    }
    closedir(d);
    ASSERT(rmdir(dir) == 0);
}

static void fx_fini(struct fx *f)
{
    sl_delivery_free(f->dl);
    sl_sender_free(f->snd);
    sl_http_server_free(f->srv);
    ASSERT_EQ(f->held, 0);
    sl_backend_unsubscribe(f->sub);
    close_backend(f, f->b);
    close_backend(f, f->fake);
    for (int i = 0; i < f->nseen; i++)
        seen_fini(&f->seen[i]);
    for (int i = 0; i < f->ngot; i++)
        sl_event_unref(f->got[i]);
    sl_loop_free(f->loop);
    rm_dir(f->dir);
}

/* Options of a delivery under test; zero = the fixture's defaults. */
struct dopts {
    int32_t retry;
    enum sl_backoff backoff;
    int64_t delay_ns;
    int64_t timeout_ns;
    int64_t retry_after_max_ns; /* 0 -> unset */
    bool json;
    bool dls;
    bool no_reply_to;
    bool fake_reply; /* replies to the scripted backend */
    int32_t max_ttl;
    int64_t default_timeout_ms;
    const char *url; /* subscriber; NULL: the sink's /sub */
    struct sl_metrics_trigger *metrics;
};

static void fx_delivery(struct fx *f, const struct dopts *o)
{
    struct sl_retry_policy p;
    struct sl_delivery_cfg cfg = { 0 };
    struct sl_diag d;

    sl_retry_policy_init(&p);
    p.retry = o->retry;
    p.backoff = o->backoff;
    p.delay_ns = o->delay_ns;
    p.timeout_ns = o->timeout_ns;
    p.retry_after_max_ns =
        o->retry_after_max_ns ? o->retry_after_max_ns : SL_RETRY_UNSET;
    p.format = o->json ? SL_FORMAT_JSON : SL_FORMAT_BINARY;
    if (o->dls)
        p.dead_letter_url = sl_xstrdup(f->dls_url);
    cfg.sender = f->snd;
    cfg.subscriber_url = o->url ? o->url : f->sub_url;
    cfg.policy = &p;
    cfg.ns = "default";
    cfg.reply_to = o->no_reply_to ? NULL : o->fake_reply ? f->fake : f->b;
    cfg.reply_url = "http://127.0.0.1:8080/default/b1";
    cfg.max_ttl = o->max_ttl;
    cfg.default_timeout_ms = o->default_timeout_ms;
    cfg.log_name = "default/t1";
    cfg.metrics = o->metrics;
    sl_diag_clear(&d);
    ASSERT_OK(sl_delivery_new(f->loop, &cfg, &f->dl, &d));
    sl_retry_policy_fini(&p); /* the delivery has its own copy */
}

/* An event as the ingress stores it; ttl < 0: no knativebrokerttl. */
static struct sl_event *make_event(int ttl)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "e1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/src", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t.x", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    ASSERT_OK(sl_event_set_str(ev, "myext", "v", NULL));
    ASSERT_OK(sl_event_set(ev, "knativearrivaltime", SL_CE_TIME,
                           "2026-01-02T03:04:05Z", 20, NULL));
    if (ttl >= 0)
        ASSERT_OK(sl_event_set_int(ev, "knativebrokerttl", ttl, NULL));
    sl_event_set_data(ev, "hello", 5);
    return ev;
}

/* Deliver 'rec' as job 'j' and run until done. */
static void deliver_wait(struct fx *f, const struct sl_record *rec,
                         struct job *j)
{
    struct sl_deliverer dv;

    sl_delivery_deliverer(f->dl, &dv);
    dv.deliver(dv.arg, rec, job_finished, j);
    wait_for(f, job_done, j, DEADLINE);
    ASSERT_EQ(j->calls, 1);
}

static struct seen *last_seen(struct fx *f, const char *path)
{
    for (int i = f->nseen - 1; i >= 0; i--)
        if (strcmp(f->seen[i].path, path) == 0)
            return &f->seen[i];
    CHECK_FAIL("no request to %s", path);
}

static int count_seen(struct fx *f, const char *path)
{
    int n = 0;

    for (int i = 0; i < f->nseen; i++)
        n += strcmp(f->seen[i].path, path) == 0;
    return n;
}

static struct sl_delivery_stats stats(struct fx *f)
{
    struct sl_delivery_stats st;

    sl_delivery_stats(f->dl, &st);
    return st;
}

/* A port nothing listens on. */
static unsigned dead_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- tests ---- */

TEST(new_rejects)
{
    struct sl_loop *loop;
    struct sl_delivery *dl = (void *)1;
    struct sl_delivery_cfg cfg = { .subscriber_url = "http://x/" };
    struct sl_diag d;

    ASSERT_OK(sl_loop_new(&loop));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_delivery_new(loop, &cfg, &dl, &d), SL_EINVAL);
    ASSERT(dl == NULL);
    cfg.sender = (struct sl_sender *)1; /* never used: refused first */
    cfg.subscriber_url = "";
    ASSERT_EQ(sl_delivery_new(loop, &cfg, &dl, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "subscriber_url");
    cfg.subscriber_url = "http://x/";
    cfg.max_ttl = -1;
    ASSERT_EQ(sl_delivery_new(loop, &cfg, &dl, &d), SL_EINVAL);
    sl_delivery_free(NULL);
    sl_loop_free(loop);
}

TEST(ok_binary)
{
    struct fx f;
    struct dopts o = { .retry = 3 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 0 };
    struct job j = { 0 };
    struct seen *s;
    struct sl_delivery_stats st;

    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/sub"), 1);
    s = last_seen(&f, "/sub");
    ASSERT_EQ(s->mode, SL_CE_BINARY_MODE);
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "Prefer"), "reply");
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "Kn-Namespace"), "default");
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "ce-id"), "e1");
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "ce-myext"), "v");
    ASSERT(sl_http_headers_get(&s->headers, "ce-knativearrivaltime") != NULL);
    ASSERT(sl_http_headers_get(&s->headers, "ce-knativebrokerttl") == NULL);
    ASSERT_MEM_EQ(s->body.data, s->body.len, "hello", 5);
    ASSERT(s->ev != NULL);
    ASSERT(sl_event_get(s->ev, "knativebrokerttl") == NULL);
    /* The record's event is untouched. */
    ASSERT_STR_EQ(sl_event_value(ev, "knativebrokerttl"), "5");
    st = stats(&f);
    ASSERT_EQ(st.attempts, 1);
    ASSERT_EQ(st.succeeded, 1);
    ASSERT_EQ(st.replies + st.replies_dropped + st.dead_lettered + st.given_up,
              0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(ok_structured)
{
    struct fx f;
    struct dopts o = { .json = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct seen *s;

    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/sub");
    ASSERT_EQ(s->mode, SL_CE_STRUCTURED_MODE);
    ASSERT(strncmp(sl_http_headers_get(&s->headers, "Content-Type"),
                   "application/cloudevents+json", 28) == 0);
    ASSERT(sl_http_headers_get(&s->headers, "ce-id") == NULL);
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "Prefer"), "reply");
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "Kn-Namespace"), "default");
    ASSERT(s->ev != NULL);
    ASSERT_STR_EQ(sl_event_id(s->ev), "e1");
    ASSERT_STR_EQ(sl_event_value(s->ev, "myext"), "v");
    ASSERT(sl_event_get(s->ev, "knativearrivaltime") != NULL);
    ASSERT(sl_event_get(s->ev, "knativebrokerttl") == NULL);
    ASSERT(strstr((const char *)s->body.data, "knativebrokerttl") == NULL);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(many_attributes_view)
{
    /* More attributes than the view keeps on the stack. */
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(9);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct seen *s;
    char name[16];

    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "x%02d", i);
        ASSERT_OK(sl_event_set_str(ev, name, name, NULL));
    }
    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    s = last_seen(&f, "/sub");
    ASSERT(s->ev != NULL);
    ASSERT_EQ(s->ev->nattrs, ev->nattrs - 1);
    ASSERT_STR_EQ(sl_event_value(s->ev, "x39"), "x39");
    ASSERT(sl_event_get(s->ev, "knativebrokerttl") == NULL);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(retry_500)
{
    struct fx f;
    /* Exponential 100 ms: before retry k = 2 the wait is 200 ms. */
    struct dopts o = { .retry = 3,
                       .backoff = SL_BACKOFF_EXPONENTIAL,
                       .delay_ns = 100000000,
                       .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 1 };
    struct sl_retry_policy p;
    struct job j = { 0 };
    int64_t before, wait;

    fx_init(&f, NULL);
    script(&f, "/sub", 500)->body = "boom";
    fx_delivery(&f, &o);
    sl_retry_policy_init(&p);
    p.backoff = SL_BACKOFF_EXPONENTIAL;
    p.delay_ns = 100000000;
    p.retry = 3;
    wait = sl_retry_backoff(&p, 2) / 1000000;
    ASSERT_EQ(wait, 200);
    before = wall_ms();
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 2);
    ASSERT(j.how.not_before_ms >= before + wait);
    ASSERT(j.how.not_before_ms <= j.at_wall + wait + 1);
    ASSERT_EQ(count_seen(&f, "/dls"), 0);
    ASSERT_EQ(stats(&f).attempts, 1);
    ASSERT_EQ(stats(&f).succeeded, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(fail_400_dead_letter)
{
    struct fx f;
    struct dopts o = { .retry = 5, .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct seen *s;

    fx_init(&f, NULL);
    script(&f, "/sub", 400)->body = "bad";
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/sub"), 1);
    ASSERT_EQ(count_seen(&f, "/dls"), 1);
    s = last_seen(&f, "/dls");
    ASSERT(s->ev != NULL);
    ASSERT_STR_EQ(sl_event_id(s->ev), "e1");
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordest"), f.sub_url);
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrorcode"), "400");
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordata"), "YmFk");
    ASSERT(sl_event_get(s->ev, "knativebrokerttl") == NULL);
    ASSERT(sl_http_headers_get(&s->headers, "Prefer") == NULL);
    ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "Kn-Namespace"), "default");
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    ASSERT_EQ(stats(&f).given_up, 0);
    ASSERT_EQ(stats(&f).succeeded, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(exhausted_dead_letter)
{
    struct fx f;
    struct dopts o = { .retry = 2, .dls = true, .json = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 2 };
    struct job j = { 0 };
    struct seen *s;

    fx_init(&f, NULL);
    script(&f, "/sub", 503);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/dls");
    ASSERT_EQ(s->mode, SL_CE_STRUCTURED_MODE);
    ASSERT(s->ev != NULL);
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrorcode"), "503");
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordata"), "");
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(dead_letter_retried_in_memory)
{
    struct fx f;
    struct dopts o = { .retry = 3,
                       .backoff = SL_BACKOFF_LINEAR,
                       .delay_ns = 50000000,
                       .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 3 };
    struct job j = { 0 };
    int64_t t0;

    fx_init(&f, NULL);
    script(&f, "/sub", 500);
    script(&f, "/dls", 503);
    script(&f, "/dls", 404);
    fx_delivery(&f, &o);
    t0 = mono_ms();
    deliver_wait(&f, &rec, &j);
    /* Waits of 50 and 100 ms between the three dead-letter attempts. */
    ASSERT(mono_ms() - t0 >= 150);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/sub"), 1);
    ASSERT_EQ(count_seen(&f, "/dls"), 3);
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    ASSERT_EQ(stats(&f).given_up, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(dead_letter_fails_for_good)
{
    struct fx f;
    struct dopts o = { .retry = 1, .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 1 };
    struct job j = { 0 };

    fx_init(&f, NULL);
    script(&f, "/sub", 500);
    script(&f, "/dls", 500);
    script(&f, "/dls", 500);
    script(&f, "/dls", 200); /* never reached: one retry only */
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/dls"), 2);
    ASSERT_EQ(stats(&f).dead_lettered, 0);
    ASSERT_EQ(stats(&f).given_up, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(no_dead_letter_given_up)
{
    struct fx f;
    struct dopts o = { .retry = 0 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };

    fx_init(&f, NULL);
    script(&f, "/sub", 500);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/dls"), 0);
    ASSERT_EQ(stats(&f).given_up, 1);
    ASSERT_EQ(stats(&f).dead_lettered, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(connection_refused)
{
    struct fx f;
    char url[64];
    struct dopts o = { .retry = 0, .dls = true, .url = url };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct seen *s;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", dead_port());
    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/dls");
    ASSERT(s->ev != NULL);
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordest"), url);
    ASSERT(sl_event_get(s->ev, "knativeerrorcode") == NULL);
    /* The transport error text stands for the body. */
    ASSERT(strlen(sl_event_value(s->ev, "knativeerrordata")) > 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(connection_refused_retries)
{
    struct fx f;
    char url[64];
    struct dopts o = { .retry = 2, .url = url };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", dead_port());
    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(timeout_policy)
{
    struct fx f;
    struct dopts o = { .retry = 1, .timeout_ns = 200000000 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    int64_t t0;

    fx_init(&f, NULL);
    script(&f, "/sub", 200)->delay_ms = 3000;
    fx_delivery(&f, &o);
    t0 = mono_ms();
    deliver_wait(&f, &rec, &j);
    ASSERT(mono_ms() - t0 >= 190);
    ASSERT(mono_ms() - t0 < 2500);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(timeout_default)
{
    struct fx f;
    struct dopts o = { .retry = 0, .dls = true, .default_timeout_ms = 150 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct seen *s;
    int64_t t0;

    fx_init(&f, NULL);
    script(&f, "/sub", 200)->hang = true;
    fx_delivery(&f, &o);
    t0 = mono_ms();
    deliver_wait(&f, &rec, &j);
    ASSERT(mono_ms() - t0 >= 140);
    ASSERT(mono_ms() - t0 < 2500);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/dls");
    ASSERT(sl_event_get(s->ev, "knativeerrorcode") == NULL);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(retry_after_429)
{
    struct fx f;
    struct dopts o = { .retry = 2,
                       .backoff = SL_BACKOFF_LINEAR,
                       .delay_ns = 10000000,
                       .retry_after_max_ns = 2000000000 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct step *st;
    int64_t before;

    fx_init(&f, NULL);
    st = script(&f, "/sub", 429);
    st->hdrs[0] = "Retry-After";
    st->hdrs[1] = "3";
    fx_delivery(&f, &o);
    before = wall_ms();
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 1);
    /* min(3 s, retryAfterMax 2 s) beats the 10 ms backoff. */
    ASSERT(j.how.not_before_ms >= before + 2000);
    ASSERT(j.how.not_before_ms <= j.at_wall + 2000 + 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(retry_after_ignored_without_max)
{
    struct fx f;
    struct dopts o = { .retry = 2,
                       .backoff = SL_BACKOFF_LINEAR,
                       .delay_ns = 10000000 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct step *st;
    int64_t before;

    fx_init(&f, NULL);
    st = script(&f, "/sub", 429);
    st->hdrs[0] = "Retry-After";
    st->hdrs[1] = "3";
    fx_delivery(&f, &o);
    before = wall_ms();
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT(j.how.not_before_ms >= before + 10);
    ASSERT(j.how.not_before_ms <= j.at_wall + 10 + 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

static struct step *reply_step(struct fx *f, int status)
{
    struct step *st = script(f, "/sub", status);
    static const char *const h[] = {
        "ce-specversion",      "1.0",    "ce-id",   "r1",
        "ce-source",           "/reply", "ce-type", "reply.t",
        "ce-knativebrokerttl", "77",     NULL
    };

    _Static_assert(sizeof(h) <= sizeof(st->hdrs), "too many headers");
    memcpy(st->hdrs, h, sizeof(h));
    st->ctype = "text/plain";
    st->body = "pong";
    return st;
}

TEST(reply_appended)
{
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_event *r;
    struct sl_timestamp ts;
    int64_t before = wall_ms() / 1000, one = 1;

    fx_init(&f, NULL);
    reply_step(&f, 202);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    /* DONE only once durable: the record is already in the log. */
    wait_for(&f, got_n, &one, DEADLINE);
    r = f.got[0];
    ASSERT_STR_EQ(sl_event_id(r), "r1");
    ASSERT_STR_EQ(sl_event_type(r), "reply.t");
    ASSERT_STR_EQ(sl_event_value(r, "knativebrokerttl"), "4");
    ASSERT_OK(sl_time_parse_rfc3339(sl_event_value(r, "knativearrivaltime"),
                                    &ts, NULL));
    ASSERT(ts.sec >= before && ts.sec <= wall_ms() / 1000 + 1);
    ASSERT_MEM_EQ(r->data, r->data_len, "pong", 4);
    ASSERT_EQ(stats(&f).replies, 1);
    ASSERT_EQ(stats(&f).succeeded, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

/* The transport headers reach the subscriber and the dead-letter sink. */
TEST(pass_through_headers_to_subscriber_and_dls)
{
    struct fx f;
    struct dopts o = { .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    static const char *const paths[] = { "/sub", "/dls" };

    ASSERT_OK(sl_event_header_add(ev, "X-Request-Id", "req-1"));
    ASSERT_OK(sl_event_header_add(ev, "Knative-Foo", "foo"));
    ASSERT_OK(sl_event_header_add(ev, "traceparent",
                                  "00-0af7651916cd43dd8448eb211c80319c-"
                                  "b7ad6b7169203331-01"));
    fx_init(&f, NULL);
    script(&f, "/sub", 400);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    for (int i = 0; i < 2; i++) {
        struct seen *s = last_seen(&f, paths[i]);
        ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "x-request-id"),
                      "req-1");
        ASSERT_STR_EQ(sl_http_headers_get(&s->headers, "knative-foo"), "foo");
        ASSERT(sl_http_headers_get(&s->headers, "traceparent") != NULL);
        /* Never as attributes. */
        ASSERT(sl_http_headers_get(&s->headers, "ce-x-request-id") == NULL);
        ASSERT(s->ev != NULL && sl_event_get(s->ev, "knativefoo") == NULL);
    }
    fx_fini(&f);
    sl_event_unref(ev);
}

/*
 * A reply carries the subscriber's allow-listed response headers (not the
 * delivered event's) and the delivered event's trace context, through
 * the broker log.
 */
TEST(reply_headers_from_the_response)
{
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct step *st;
    struct sl_event *r;
    int64_t one = 1;

    ASSERT_OK(sl_event_header_add(ev, "X-Request-Id", "req-1"));
    ASSERT_OK(sl_event_header_add(ev, "Knative-Foo", "foo"));
    ASSERT_OK(sl_event_header_add(ev, "tracestate", "k=v"));
    fx_init(&f, NULL);
    st = reply_step(&f, 200);
    st->hdrs[10] = "Knative-Reply";
    st->hdrs[11] = "yes";
    st->hdrs[12] = "X-Other";
    st->hdrs[13] = "no";
    st->hdrs[14] = NULL;
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    wait_for(&f, got_n, &one, DEADLINE);
    r = f.got[0];
    ASSERT_STR_EQ(sl_event_id(r), "r1");
    ASSERT_STR_EQ(sl_event_header(r, "knative-reply"), "yes");
    ASSERT_STR_EQ(sl_event_header(r, "tracestate"), "k=v");
    ASSERT(sl_event_header(r, "x-request-id") == NULL);
    ASSERT(sl_event_header(r, "knative-foo") == NULL);
    ASSERT(sl_event_header(r, "x-other") == NULL);
    ASSERT_EQ(r->nhdrs, 2);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(reply_ttl_absent_reads_max)
{
    struct fx f;
    struct dopts o = { .max_ttl = 10 };
    struct sl_event *ev = make_event(-1);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    int one = 1;

    fx_init(&f, NULL);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    wait_for(&f, got_n, &one, DEADLINE);
    ASSERT_STR_EQ(sl_event_value(f.got[0], "knativebrokerttl"), "9");
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(reply_ttl_exhausted_dropped)
{
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(1);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_backend_stats bs;

    fx_init(&f, NULL);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    run_for(&f, 100);
    ASSERT_EQ(f.ngot, 0);
    sl_backend_stats(f.b, &bs);
    ASSERT_EQ(bs.events, 0);
    ASSERT_EQ(stats(&f).replies_dropped, 1);
    ASSERT_EQ(stats(&f).replies, 0);
    ASSERT_EQ(stats(&f).succeeded, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(reply_without_broker_dropped)
{
    struct fx f;
    struct dopts o = { .no_reply_to = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };

    fx_init(&f, NULL);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(stats(&f).succeeded, 1);
    ASSERT_EQ(stats(&f).replies, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(not_event_body_retries)
{
    struct fx f;
    struct dopts o = { .retry = 1 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct step *st;

    fx_init(&f, NULL);
    st = script(&f, "/sub", 200);
    st->ctype = "text/plain";
    st->body = "hello there";
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 1);
    ASSERT_EQ(stats(&f).succeeded, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(reply_append_fails)
{
    struct fx f;
    struct dopts o = { .retry = 1, .fake_reply = true, .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 }, j2 = { 0 };
    struct fake *fk;
    struct seen *s;

    fx_init(&f, NULL);
    fk = (struct fake *)f.fake;
    reply_step(&f, 200);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    /* Failing later: a failed attempt, retried. */
    {
        struct sl_deliverer dv;
        sl_delivery_deliverer(f.dl, &dv);
        dv.deliver(dv.arg, &rec, job_finished, &j);
    }
    wait_for(&f, fake_pending, NULL, DEADLINE);
    fake_complete(fk, SL_EIO);
    ASSERT_EQ(j.calls, 1);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_RETRY);
    ASSERT_EQ(j.how.attempts, 1);
    /* Refused at once, retries used up: dead letter to the reply URL. */
    fk->refuse = SL_EAGAIN;
    rec.attempts = 1;
    deliver_wait(&f, &rec, &j2);
    ASSERT_EQ(j2.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/dls");
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordest"),
                  "http://127.0.0.1:8080/default/b1");
    ASSERT(sl_event_get(s->ev, "knativeerrorcode") == NULL);
    ASSERT_STR_EQ(sl_event_id(s->ev), "e1");
    ASSERT_EQ(stats(&f).replies, 0);
    ASSERT_EQ(stats(&f).succeeded, 0);
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(sender_busy_waits)
{
    struct sl_sender_opts so = { .max_in_flight = 1 };
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j1 = { 0 }, j2 = { 0 };
    struct sl_deliverer dv;

    fx_init(&f, &so);
    script(&f, "/sub", 200)->delay_ms = 100;
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j1);
    dv.deliver(dv.arg, &rec, job_finished, &j2); /* SL_EBUSY: waits */
    wait_for(&f, job_done, &j2, DEADLINE);
    ASSERT_EQ(j1.calls, 1);
    ASSERT_EQ(j1.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(j2.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(count_seen(&f, "/sub"), 2);
    ASSERT_EQ(stats(&f).attempts, 2);
    ASSERT_EQ(stats(&f).succeeded, 2);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(sender_refuses_url)
{
    struct fx f;
    struct dopts o = { .retry = 0, .dls = true, .url = "ftp://127.0.0.1/x" };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_deliverer dv;
    struct seen *s;

    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j);
    wait_for(&f, job_done, &j, DEADLINE);
    ASSERT_EQ(j.how.outcome, SL_SETTLE_DONE);
    s = last_seen(&f, "/dls");
    ASSERT_STR_EQ(sl_event_value(s->ev, "knativeerrordest"),
                  "ftp://127.0.0.1/x");
    ASSERT(sl_event_get(s->ev, "knativeerrorcode") == NULL);
    ASSERT_EQ(stats(&f).attempts, 1);
    ASSERT_EQ(stats(&f).dead_lettered, 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(cancel_in_flight)
{
    struct fx f;
    struct dopts o = { 0 };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 }, other = { 0 };
    struct sl_deliverer dv;
    int one = 1;

    fx_init(&f, NULL);
    script(&f, "/sub", 200)->hang = true;
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j);
    wait_for(&f, seen_n, &one, DEADLINE);
    dv.cancel(dv.arg, &j);
    dv.cancel(dv.arg, &other); /* unknown job: ignored */
    run_for(&f, 100);
    ASSERT_EQ(j.calls, 0);
    /* The delivery goes on working. */
    deliver_wait(&f, &rec, &other);
    ASSERT_EQ(other.how.outcome, SL_SETTLE_DONE);
    ASSERT_EQ(j.calls, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(cancel_dead_letter_wait)
{
    struct fx f;
    struct dopts o = { .retry = 1,
                       .backoff = SL_BACKOFF_LINEAR,
                       .delay_ns = 300000000,
                       .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev, .attempts = 1 };
    struct job j = { 0 };
    struct sl_deliverer dv;
    int two = 2;

    fx_init(&f, NULL);
    script(&f, "/sub", 500);
    script(&f, "/dls", 500);
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j);
    wait_for(&f, seen_n, &two, DEADLINE);
    run_for(&f, 20); /* the DLS answer arrives; the retry timer runs */
    dv.cancel(dv.arg, &j);
    run_for(&f, 500); /* past the 300 ms wait */
    ASSERT_EQ(j.calls, 0);
    ASSERT_EQ(count_seen(&f, "/dls"), 1);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(cancel_during_append)
{
    struct fx f;
    struct dopts o = { .fake_reply = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_deliverer dv;

    fx_init(&f, NULL);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j);
    wait_for(&f, fake_pending, NULL, DEADLINE);
    dv.cancel(dv.arg, &j);
    fake_complete((struct fake *)f.fake, 0);
    run_for(&f, 50);
    ASSERT_EQ(j.calls, 0);
    ASSERT_EQ(stats(&f).replies, 1); /* it did reach the log */
    ASSERT_EQ(stats(&f).succeeded, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(free_with_append_in_flight)
{
    /* Cancelled, then the delivery freed before the append completes:
     * the completion only frees the job. */
    struct fx f;
    struct dopts o = { .fake_reply = true };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_deliverer dv;

    fx_init(&f, NULL);
    reply_step(&f, 200);
    fx_delivery(&f, &o);
    sl_delivery_deliverer(f.dl, &dv);
    dv.deliver(dv.arg, &rec, job_finished, &j);
    wait_for(&f, fake_pending, NULL, DEADLINE);
    dv.cancel(dv.arg, &j);
    sl_delivery_free(f.dl);
    f.dl = NULL;
    fake_complete((struct fake *)f.fake, 0);
    ASSERT_EQ(j.calls, 0);
    fx_fini(&f);
    sl_event_unref(ev);
}

TEST(stats_mixed)
{
    struct fx f;
    struct dopts o = { .retry = 1, .dls = true };
    struct sl_event *ev = make_event(5);
    struct sl_event *ev1 = make_event(1);
    struct sl_record rec = { .ev = ev }, rec1 = { .ev = ev1 };
    struct sl_record last = { .ev = ev, .attempts = 1 };
    struct job j[5] = { { 0 } };
    struct sl_delivery_stats st;
    int one = 1;

    fx_init(&f, NULL);
    script(&f, "/sub", 204); /* 1: delivered */
    reply_step(&f, 200);     /* 2: reply appended */
    reply_step(&f, 200);     /* 3: reply dropped (TTL 1) */
    script(&f, "/sub", 500); /* 4: retry */
    script(&f, "/sub", 500); /* 5: dead-lettered */
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j[0]);
    deliver_wait(&f, &rec, &j[1]);
    deliver_wait(&f, &rec1, &j[2]);
    deliver_wait(&f, &rec, &j[3]);
    deliver_wait(&f, &last, &j[4]);
    wait_for(&f, got_n, &one, DEADLINE);
    st = stats(&f);
    ASSERT_EQ(st.attempts, 5);
    ASSERT_EQ(st.succeeded, 3);
    ASSERT_EQ(st.replies, 1);
    ASSERT_EQ(st.replies_dropped, 1);
    ASSERT_EQ(st.dead_lettered, 1);
    ASSERT_EQ(st.given_up, 0);
    ASSERT_EQ(j[3].how.outcome, SL_SETTLE_RETRY);
    fx_fini(&f);
    sl_event_unref(ev);
    sl_event_unref(ev1);
}

/* ---- metrics ---- */

/* The value of the one series of 'name' whose line contains every string
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

TEST(metrics_per_attempt)
{
    struct fx f;
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_trigger *mt =
        sl_metrics_trigger_new(m, "default", "b1", "t1", "t.x");
    struct dopts o = { .retry = 0, .dls = true, .metrics = mt };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j1 = { 0 }, j2 = { 0 }, j3 = { 0 };
    struct sl_buf b;
    struct step *st;
    static const char *const sub500[] = { "trigger_name=\"t1\"",
                                          "filter_type=\"t.x\"",
                                          "filter_request_type=\"filter\"",
                                          "response_code=\"500\"", NULL };
    static const char *const sub502[] = { "filter_request_type=\"filter\"",
                                          "response_code=\"502\"", NULL };
    static const char *const sub200[] = { "filter_request_type=\"filter\"",
                                          "response_code=\"200\"", NULL };
    static const char *const dls[] = { "filter_type=\"any\"",
                                       "filter_request_type=\"dls_forward\"",
                                       "response_code=\"200\"", NULL };
    static const char *const proc[] = { "filter_type=\"t.x\"", NULL };

    fx_init(&f, NULL);
    script(&f, "/sub", 500)->body = "boom"; /* then dead letter: 200 */
    st = script(&f, "/sub", 200);           /* a body that is no event */
    st->ctype = "text/plain";
    st->body = "not an event";
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j1);
    deliver_wait(&f, &rec, &j2);
    deliver_wait(&f, &rec, &j3); /* the default answer: 200 */
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_metrics_write(m, &b));
    ASSERT(metric(b.data, "mt_broker_filter_event_count", sub500) == 1);
    ASSERT(metric(b.data, "mt_broker_filter_event_dispatch_latencies_count",
                  sub500) == 1);
    /* A 2xx whose body is not an event: counted 502, latency under 200. */
    ASSERT(metric(b.data, "mt_broker_filter_event_count", sub502) == 1);
    ASSERT(metric(b.data, "mt_broker_filter_event_dispatch_latencies_count",
                  sub200) == 2);
    ASSERT(metric(b.data, "mt_broker_filter_event_count", sub200) == 1);
    ASSERT(metric(b.data, "mt_broker_filter_event_count", dls) == 2);
    ASSERT(metric(b.data, "mt_broker_filter_event_processing_latencies_count",
                  proc) == 3);
    sl_buf_fini(&b);
    fx_fini(&f);
    sl_metrics_trigger_free(mt);
    sl_metrics_free(m);
    sl_event_unref(ev);
}

TEST(metrics_no_response_counts_500)
{
    struct fx f;
    char url[64];
    struct sl_metrics *m = sl_metrics_new();
    struct sl_metrics_trigger *mt =
        sl_metrics_trigger_new(m, "default", "b1", "t1", NULL);
    struct dopts o = { .retry = 1, .url = url, .metrics = mt };
    struct sl_event *ev = make_event(5);
    struct sl_record rec = { .ev = ev };
    struct job j = { 0 };
    struct sl_buf b;
    static const char *const c500[] = { "filter_type=\"any\"",
                                        "response_code=\"500\"", NULL };

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", dead_port());
    fx_init(&f, NULL);
    fx_delivery(&f, &o);
    deliver_wait(&f, &rec, &j);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_metrics_write(m, &b));
    ASSERT(metric(b.data, "mt_broker_filter_event_count", c500) == 1);
    /* No response, no dispatch latency (as Knative's filter). */
    ASSERT(strstr(b.data, "mt_broker_filter_event_dispatch_latencies_count") ==
           NULL);
    sl_buf_fini(&b);
    fx_fini(&f);
    sl_metrics_trigger_free(mt);
    sl_metrics_free(m);
    sl_event_unref(ev);
}

TEST_MAIN()
