/*
 * test/unit/emit_test.c - sources/emit (the emitter of the sources)
 * against a net/server sink on 127.0.0.1:0 in the same loop: one thread;
 * the test runs the loop until the expected done callbacks arrived, or a
 * deadline.
 *
 * Covered: the policy as tables (which statuses retry, the backoff
 * series); one event delivered in binary mode with Kn-Namespace and no
 * Prefer; 503 twice then 200 (three attempts spaced 100 and 200 ms);
 * always 503 (six attempts, then lost); 500, 400 and 501 not retried; 404
 * and 429 retried; a refused connection retried to the end; the in-flight
 * bound (SL_EBUSY) and its release; cancel and free with events in an
 * attempt and in a retry wait; a new sink URL taking the next attempt;
 * done never running inside sl_emit.
 */
#include "test/unit/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/str.h"
#include "core/time.h"
#include "net/server.h"
#include "proto/event.h"
#include "proto/http.h"
#include "sinks/http_sender.h"
#include "sources/emit.h"

#define MAX_REQ 32

struct tctx;

struct hold {
    struct tctx *t;
};

struct tctx {
    struct sl_loop *loop;
    struct sl_http_server *srv;
    struct sl_sender *snd;
    struct sl_emitter *em;
    char base[64];
    /* The answers of the sink, in order; past the end: the last one. A
     * code of 0 holds the request unanswered. */
    int script[MAX_REQ];
    int nscript;
    /* What the sink saw. */
    int requests;
    int64_t at_ms[MAX_REQ];
    char path[MAX_REQ][64];
    struct sl_http_headers last_headers;
    char last_body[256];
    int holds_closed;
    /* Done callbacks. */
    int want, done;
    bool expired;
    struct sl_emit_result res[MAX_REQ];
    int nres;
    bool in_emit;
};

static int64_t now_ms(void)
{
    return sl_time_mono_ns() / 1000000;
}

static void hold_closed(void *arg, struct sl_http_req *req)
{
    struct hold *h = arg;

    (void)req;
    h->t->holds_closed++;
    sl_free(h);
}

static void sink(void *arg, struct sl_http_req *req)
{
    struct tctx *t = arg;
    const struct sl_http_header *h;
    const void *body;
    size_t n, i, len;
    int i_req = t->requests, code;

    ASSERT(i_req < MAX_REQ);
    t->at_ms[i_req] = now_ms();
    sl_strlcpy(t->path[i_req], sl_http_req_path(req), sizeof(t->path[0]));
    sl_http_headers_fini(&t->last_headers);
    sl_http_headers_init(&t->last_headers);
    h = sl_http_req_headers(req, &n);
    for (i = 0; i < n; i++)
        sl_http_headers_add(&t->last_headers, h[i].name, h[i].value);
    body = sl_http_req_body(req, &len);
    snprintf(t->last_body, sizeof(t->last_body), "%.*s", (int)len,
             (const char *)body);
    t->requests++;
    code = t->nscript == 0      ? 200
           : i_req < t->nscript ? t->script[i_req]
                                : t->script[t->nscript - 1];
    if (code == 0) {
        struct hold *hd = sl_xcalloc(1, sizeof(*hd));

        hd->t = t;
        sl_http_req_on_close(req, hold_closed, hd);
        return;
    }
    ASSERT_OK(sl_http_respond(req, (unsigned)code, "text/plain", "body", 4));
}

static void tctx_start(struct tctx *t, unsigned max_in_flight)
{
    struct sl_emitter_cfg ec;
    struct sl_diag d;
    char url[96];

    memset(t, 0, sizeof(*t));
    sl_http_headers_init(&t->last_headers);
    sl_diag_clear(&d);
    ASSERT_OK(sl_loop_new(&t->loop));
    if (sl_http_server_new(t->loop, NULL, sink, t, &t->srv, &d) != 0)
        CHECK_FAIL("server: %s", d.msg);
    snprintf(t->base, sizeof(t->base), "http://127.0.0.1:%u",
             sl_http_server_port(t->srv));
    ASSERT_OK(sl_sender_new(t->loop, NULL, &t->snd));
    snprintf(url, sizeof(url), "%s/sink", t->base);
    memset(&ec, 0, sizeof(ec));
    ec.sender = t->snd;
    ec.url = url;
    ec.ns = "team-a";
    ec.max_in_flight = max_in_flight;
    ec.timeout_ms = 5000;
    if (sl_emitter_new(t->loop, &ec, &t->em, &d) != 0)
        CHECK_FAIL("emitter: %s", d.msg);
}

static void tctx_stop(struct tctx *t)
{
    sl_emitter_free(t->em);
    sl_sender_free(t->snd);
    sl_http_server_free(t->srv);
    sl_loop_free(t->loop);
    sl_http_headers_fini(&t->last_headers);
}

static void on_deadline(void *arg)
{
    struct tctx *t = arg;

    t->expired = true;
    sl_loop_stop(t->loop);
}

/* Run the loop until 'want' more done callbacks arrived; fail after 'ms'. */
static void run(struct tctx *t, int want, uint64_t ms)
{
    struct sl_timer *dl = sl_timer_new(t->loop, on_deadline, t);

    t->want = t->done + want;
    t->expired = false;
    sl_timer_start(dl, ms, 0);
    while (t->done < t->want && !t->expired)
        ASSERT_OK(sl_loop_run(t->loop));
    sl_timer_free(dl);
    if (t->expired)
        CHECK_FAIL("deadline of %d ms passed with %d of %d done", (int)ms,
                   t->done, t->want);
}

static void stop_loop(void *arg)
{
    sl_loop_stop(arg);
}

/* Run the loop for 'ms' whatever happens. */
static void run_for(struct tctx *t, uint64_t ms)
{
    struct sl_timer *dl = sl_timer_new(t->loop, stop_loop, t->loop);

    sl_timer_start(dl, ms, 0);
    ASSERT_OK(sl_loop_run(t->loop));
    sl_timer_free(dl);
}

static void on_done(void *arg, const struct sl_emit_result *res)
{
    struct tctx *t = arg;

    ASSERT(!t->in_emit);
    ASSERT(t->nres < MAX_REQ);
    t->res[t->nres++] = *res;
    t->res[t->nres - 1].errmsg = NULL; /* borrowed: not kept */
    t->done++;
    if (t->done >= t->want)
        sl_loop_stop(t->loop);
}

static struct sl_event *event(const char *id)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", id, NULL));
    ASSERT_OK(sl_event_set_str(ev, "source",
                               "/apis/v1/namespaces/team-a/"
                               "pingsources/p",
                               NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "dev.knative.sources.ping", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    sl_event_set_data(ev, "hello", 5);
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

static void emit1(struct tctx *t, const char *id)
{
    struct sl_event *ev = event(id);

    t->in_emit = true;
    ASSERT_OK(sl_emit(t->em, ev, on_done, t));
    t->in_emit = false;
    sl_event_unref(ev);
}

/* A port that is bound but not listening refuses connections. */
static int refusing_port(unsigned *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Gaps between the sink's requests must follow the backoff series: at
 * least the backoff, and not much more (a loaded machine gets slack). */
static void assert_spacing(const struct tctx *t, int n)
{
    int i;

    for (i = 1; i < n; i++) {
        int64_t gap = t->at_ms[i] - t->at_ms[i - 1];
        int64_t want = sl_emit_backoff_ms(i);

        if (gap < want - 1 || gap > want + 400)
            CHECK_FAIL("gap before retry %d: %lld ms, want %lld", i,
                       (long long)gap, (long long)want);
    }
}

/* ---- the policy ---- */

TEST(classify_sources_column)
{
    static const int again[] = { 0, 404, 413, 425, 429, 502, 503, 504 };
    static const int fail[] = { 100, 199, 300, 301, 304, 400, 401,
                                403, 405, 408, 409, 410, 412, 422,
                                500, 501, 505, 511, 599, 600, -1 };
    size_t i;

    for (i = 200; i < 300; i++)
        ASSERT_EQ(sl_emit_classify((int)i), SL_RETRY_SUCCESS);
    for (i = 0; i < sizeof(again) / sizeof(again[0]); i++)
        ASSERT_EQ(sl_emit_classify(again[i]), SL_RETRY_AGAIN);
    for (i = 0; i < sizeof(fail) / sizeof(fail[0]); i++)
        if (sl_emit_classify(fail[i]) != SL_RETRY_FAIL)
            CHECK_FAIL("status %d should not be retried", fail[i]);
}

TEST(backoff_series)
{
    ASSERT_EQ(sl_emit_backoff_ms(0), 0);
    ASSERT_EQ(sl_emit_backoff_ms(1), 100);
    ASSERT_EQ(sl_emit_backoff_ms(2), 200);
    ASSERT_EQ(sl_emit_backoff_ms(3), 400);
    ASSERT_EQ(sl_emit_backoff_ms(4), 800);
    ASSERT_EQ(sl_emit_backoff_ms(5), 1600);
    ASSERT_EQ(sl_emit_backoff_ms(6), 0);
    ASSERT_EQ(sl_emit_backoff_ms(-3), 0);
}

/* ---- sending ---- */

TEST(delivered_binary_with_namespace)
{
    struct tctx t;
    struct sl_emitter_stats st;

    tctx_start(&t, 0);
    emit1(&t, "e-1");
    ASSERT_EQ(t.done, 0);
    ASSERT_EQ(sl_emitter_in_flight(t.em), 1);
    run(&t, 1, 5000);
    ASSERT_EQ(t.res[0].rc, 0);
    ASSERT_EQ(t.res[0].status, 200);
    ASSERT_EQ(t.res[0].attempts, 1);
    ASSERT_EQ(t.requests, 1);
    ASSERT_STR_EQ(t.path[0], "/sink");
    ASSERT_STR_EQ(sl_http_headers_get(&t.last_headers, "ce-specversion"),
                  "1.0");
    ASSERT_STR_EQ(sl_http_headers_get(&t.last_headers, "ce-id"), "e-1");
    ASSERT_STR_EQ(sl_http_headers_get(&t.last_headers, "ce-type"),
                  "dev.knative.sources.ping");
    ASSERT_STR_EQ(sl_http_headers_get(&t.last_headers, "Content-Type"),
                  "text/plain");
    ASSERT_STR_EQ(sl_http_headers_get(&t.last_headers, "Kn-Namespace"),
                  "team-a");
    ASSERT(sl_http_headers_get(&t.last_headers, "Prefer") == NULL);
    ASSERT_STR_EQ(t.last_body, "hello");
    ASSERT_EQ(sl_emitter_in_flight(t.em), 0);
    sl_emitter_stats(t.em, &st);
    ASSERT_EQ(st.accepted, 1);
    ASSERT_EQ(st.attempts, 1);
    ASSERT_EQ(st.delivered, 1);
    ASSERT_EQ(st.lost, 0);
    tctx_stop(&t);
}

TEST(retried_twice_then_delivered)
{
    struct tctx t;

    tctx_start(&t, 0);
    t.script[0] = 503;
    t.script[1] = 503;
    t.script[2] = 200;
    t.nscript = 3;
    emit1(&t, "e-2");
    run(&t, 1, 5000);
    ASSERT_EQ(t.res[0].rc, 0);
    ASSERT_EQ(t.res[0].attempts, 3);
    ASSERT_EQ(t.requests, 3);
    assert_spacing(&t, 3);
    tctx_stop(&t);
}

TEST(always_503_six_attempts_then_lost)
{
    struct tctx t;
    struct sl_emitter_stats st;

    tctx_start(&t, 0);
    t.script[0] = 503;
    t.nscript = 1;
    emit1(&t, "e-3");
    run(&t, 1, 10000);
    ASSERT_EQ(t.res[0].rc, SL_EIO);
    ASSERT_EQ(t.res[0].status, 503);
    ASSERT_EQ(t.res[0].attempts, SL_EMIT_RETRIES + 1);
    ASSERT_EQ(t.requests, 6);
    assert_spacing(&t, 6);
    /* Nothing more comes. */
    run_for(&t, 300);
    ASSERT_EQ(t.requests, 6);
    sl_emitter_stats(t.em, &st);
    ASSERT_EQ(st.lost, 1);
    ASSERT_EQ(st.attempts, 6);
    tctx_stop(&t);
}

TEST(not_retried_statuses)
{
    static const int codes[] = { 500, 400, 501, 408, 301 };
    struct tctx t;
    size_t i;

    tctx_start(&t, 0);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        t.requests = 0;
        t.script[0] = codes[i];
        t.nscript = 1;
        emit1(&t, "e-4");
        run(&t, 1, 5000);
        ASSERT_EQ(t.res[t.nres - 1].rc, SL_EIO);
        ASSERT_EQ(t.res[t.nres - 1].status, codes[i]);
        ASSERT_EQ(t.res[t.nres - 1].attempts, 1);
        run_for(&t, 150); /* longer than the first backoff */
        ASSERT_EQ(t.requests, 1);
    }
    tctx_stop(&t);
}

TEST(retried_404_and_429)
{
    struct tctx t;

    tctx_start(&t, 0);
    t.script[0] = 404;
    t.script[1] = 429;
    t.script[2] = 202;
    t.nscript = 3;
    emit1(&t, "e-5");
    run(&t, 1, 5000);
    ASSERT_EQ(t.res[0].rc, 0);
    ASSERT_EQ(t.res[0].status, 202);
    ASSERT_EQ(t.res[0].attempts, 3);
    tctx_stop(&t);
}

TEST(refused_connection_retried_then_lost)
{
    struct tctx t;
    unsigned port;
    int fd = refusing_port(&port);
    char url[64];
    int64_t t0;

    tctx_start(&t, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", port);
    ASSERT_OK(sl_emitter_set_url(t.em, url));
    ASSERT_STR_EQ(sl_emitter_url(t.em), url);
    t0 = now_ms();
    emit1(&t, "e-6");
    run(&t, 1, 10000);
    ASSERT_EQ(t.res[0].rc, SL_EIO);
    ASSERT_EQ(t.res[0].status, 0);
    ASSERT_EQ(t.res[0].attempts, 6);
    /* 100+200+400+800+1600 ms of backoff. */
    ASSERT(now_ms() - t0 >= 3100);
    close(fd);
    tctx_stop(&t);
}

TEST(in_flight_bound)
{
    struct tctx t;
    struct sl_event *ev = event("e-7");
    struct sl_emitter_stats st;

    tctx_start(&t, 2);
    t.script[0] = 0; /* hold */
    t.script[1] = 0;
    t.script[2] = 200;
    t.nscript = 3;
    ASSERT_OK(sl_emit(t.em, ev, on_done, &t));
    ASSERT_OK(sl_emit(t.em, ev, on_done, &t));
    ASSERT_EQ(sl_emit(t.em, ev, on_done, &t), SL_EBUSY);
    ASSERT_EQ(sl_emit(t.em, NULL, on_done, &t), SL_EINVAL);
    /* Both held at the sink; still busy. */
    while (t.requests < 2)
        run_for(&t, 20);
    ASSERT_EQ(sl_emit(t.em, ev, on_done, &t), SL_EBUSY);
    sl_emitter_stats(t.em, &st);
    ASSERT_EQ(st.refused, 2);
    ASSERT_EQ(st.accepted, 2);
    /* Cancelling frees the slots: done ran for both, from inside. */
    ASSERT_EQ(sl_emitter_cancel(t.em), 2);
    ASSERT_EQ(t.done, 2);
    ASSERT_EQ(t.res[0].rc, SL_ECANCELED);
    ASSERT_EQ(t.res[1].rc, SL_ECANCELED);
    ASSERT_EQ(sl_emitter_in_flight(t.em), 0);
    ASSERT_OK(sl_emit(t.em, ev, on_done, &t));
    run(&t, 1, 5000);
    ASSERT_EQ(t.res[2].rc, 0);
    sl_event_unref(ev);
    tctx_stop(&t);
}

TEST(cancel_in_retry_wait)
{
    struct tctx t;

    tctx_start(&t, 0);
    t.script[0] = 503;
    t.nscript = 1;
    emit1(&t, "e-8");
    while (t.requests < 1)
        run_for(&t, 20);
    run_for(&t, 20); /* the 503 arrives; the 100 ms wait starts */
    ASSERT_EQ(t.done, 0);
    ASSERT_EQ(sl_emitter_cancel(t.em), 1);
    ASSERT_EQ(t.done, 1);
    ASSERT_EQ(t.res[0].rc, SL_ECANCELED);
    ASSERT_EQ(t.res[0].attempts, 1);
    run_for(&t, 300);
    ASSERT_EQ(t.requests, 1);
    ASSERT_EQ(sl_emitter_cancel(t.em), 0);
    tctx_stop(&t);
}

TEST(free_with_events_held)
{
    struct tctx t;

    tctx_start(&t, 0);
    t.script[0] = 0;
    t.nscript = 1;
    emit1(&t, "e-9");
    emit1(&t, "e-10");
    while (t.requests < 2)
        run_for(&t, 20);
    emit1(&t, "e-11"); /* not even attempted yet */
    sl_emitter_free(t.em);
    t.em = NULL;
    ASSERT_EQ(t.done, 3);
    ASSERT_EQ(t.res[0].rc, SL_ECANCELED);
    ASSERT_EQ(t.res[2].rc, SL_ECANCELED);
    ASSERT_EQ(t.res[2].attempts, 0);
    tctx_stop(&t);
    ASSERT_EQ(t.holds_closed, 2);
}

TEST(new_url_takes_the_next_attempt)
{
    struct tctx t;
    char url[96];

    tctx_start(&t, 0);
    t.script[0] = 503;
    t.script[1] = 200;
    t.nscript = 2;
    emit1(&t, "e-12");
    while (t.requests < 1)
        run_for(&t, 10);
    snprintf(url, sizeof(url), "%s/moved", t.base);
    ASSERT_OK(sl_emitter_set_url(t.em, url));
    ASSERT_EQ(sl_emitter_set_url(t.em, ""), SL_EINVAL);
    ASSERT_EQ(sl_emitter_set_url(t.em, NULL), SL_EINVAL);
    run(&t, 1, 5000);
    ASSERT_EQ(t.res[0].rc, 0);
    ASSERT_STR_EQ(t.path[0], "/sink");
    ASSERT_STR_EQ(t.path[1], "/moved");
    tctx_stop(&t);
}

TEST(bad_url_never_done_inside_emit)
{
    struct tctx t;

    tctx_start(&t, 0);
    ASSERT_OK(sl_emitter_set_url(t.em, "ftp://127.0.0.1/x"));
    emit1(&t, "e-13"); /* on_done asserts it is not inside */
    ASSERT_EQ(t.done, 0);
    run_for(&t, 50); /* the first attempt is refused: a retry waits */
    ASSERT_EQ(t.done, 0);
    ASSERT_EQ(sl_emitter_cancel(t.em), 1);
    ASSERT_EQ(t.res[0].rc, SL_ECANCELED);
    ASSERT_EQ(t.res[0].attempts, 1);
    tctx_stop(&t);
}

TEST(config_refused)
{
    struct sl_loop *loop;
    struct sl_sender *snd;
    struct sl_emitter *em = (struct sl_emitter *)&em;
    struct sl_emitter_cfg ec;
    struct sl_diag d;

    ASSERT_OK(sl_loop_new(&loop));
    ASSERT_OK(sl_sender_new(loop, NULL, &snd));
    memset(&ec, 0, sizeof(ec));
    ec.url = "http://127.0.0.1:1/";
    ASSERT_EQ(sl_emitter_new(loop, &ec, &em, &d), SL_EINVAL);
    ASSERT(em == NULL);
    ec.sender = snd;
    ec.url = "";
    ASSERT_EQ(sl_emitter_new(loop, &ec, &em, &d), SL_EINVAL);
    ec.url = "http://127.0.0.1:1/";
    ec.timeout_ms = -1;
    ASSERT_EQ(sl_emitter_new(loop, &ec, &em, &d), SL_EINVAL);
    sl_emitter_free(NULL);
    sl_sender_free(snd);
    sl_loop_free(loop);
}

TEST_MAIN()
