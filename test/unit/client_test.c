/*
 * test/unit/client_test.c - net/client against net/server on a loop
 * thread: methods, headers and bodies, error mapping (refused, timeout,
 * too big, bad input), and the line-streaming variant (lines, CRLF, last
 * line, stop by callback, error status, overlong line).
 */
#include "test/unit/check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/str.h"
#include "core/time.h"
#include "net/client.h"
#include "net/server.h"

struct tsrv {
    struct sl_loop *loop;
    struct sl_http_server *srv;
    pthread_t th;
    unsigned port;
    char base[64];
    int closes; /* atomic */
};

struct held {
    struct tsrv *t;
    struct sl_http_req *req;
    struct sl_timer *timer;
    int n;
};

static void held_close(void *arg, struct sl_http_req *req)
{
    struct held *h = arg;

    (void)req;
    __atomic_add_fetch(&h->t->closes, 1, __ATOMIC_SEQ_CST);
    sl_timer_free(h->timer);
    sl_free(h);
}

static void held_tick(void *arg)
{
    struct held *h = arg;
    char line[32];
    int n = snprintf(line, sizeof(line), "line %d\n", ++h->n);

    ASSERT_OK(sl_http_stream_write(h->req, line, (size_t)n));
}

static struct held *held_new(struct tsrv *t, struct sl_http_req *req)
{
    struct held *h = sl_xcalloc(1, sizeof(*h));

    h->t = t;
    h->req = req;
    sl_http_req_on_close(req, held_close, h);
    return h;
}

static void handler(void *arg, struct sl_http_req *req)
{
    struct tsrv *t = arg;
    const char *path = sl_http_req_path(req);
    const char *v;
    size_t len;
    const void *body = sl_http_req_body(req, &len);
    char num[32];

    if (strcmp(path, "/echo") == 0) {
        v = sl_http_req_header(req, "content-type");
        sl_http_resp_header(req, "X-Got-CT", v ? v : "(none)");
        v = sl_http_req_header(req, "content-length");
        sl_http_resp_header(req, "X-Got-CL", v ? v : "(none)");
        v = sl_http_req_header(req, "x-empty");
        snprintf(num, sizeof(num), "[%s]", v ? v : "(none)");
        sl_http_resp_header(req, "X-Got-Empty", num);
        v = sl_http_req_header(req, "expect");
        sl_http_resp_header(req, "X-Got-Expect", v ? v : "(none)");
        sl_http_resp_header(req, "X-Method", sl_http_req_method(req));
        snprintf(num, sizeof(num), "%zu", len);
        sl_http_resp_header(req, "X-Body-Len", num);
        sl_http_respond(req, 200, "text/plain", body, len);
    } else if (strcmp(path, "/big") == 0) {
        static char big[5000];
        memset(big, 'x', sizeof(big));
        sl_http_respond(req, 200, "text/plain", big, sizeof(big));
    } else if (strcmp(path, "/hold") == 0) {
        (void)held_new(t, req);
    } else if (strcmp(path, "/lines") == 0) {
        sl_http_stream_begin(req, 200, "text/plain");
        sl_http_stream_write(req, "a\nb\r\n", 5);
        sl_http_stream_write(req, "\nc", 2);
        sl_http_stream_end(req);
    } else if (strcmp(path, "/ticker") == 0) {
        struct held *h = held_new(t, req);
        sl_http_stream_begin(req, 200, "text/plain");
        h->timer = sl_timer_new(t->loop, held_tick, h);
        sl_timer_start(h->timer, 0, 20);
    } else {
        sl_http_respond(req, 404, "text/plain", "status 404\n", 11);
    }
}

static void *tsrv_main(void *arg)
{
    struct tsrv *t = arg;

    if (sl_loop_run(t->loop) != 0)
        abort();
    return NULL;
}

static void tsrv_start(struct tsrv *t)
{
    struct sl_diag d;

    memset(t, 0, sizeof(*t));
    ASSERT_OK(sl_loop_new(&t->loop));
    if (sl_http_server_new(t->loop, NULL, handler, t, &t->srv, &d) != 0)
        CHECK_FAIL("server: %s", d.msg);
    t->port = sl_http_server_port(t->srv);
    snprintf(t->base, sizeof(t->base), "http://127.0.0.1:%u", t->port);
    ASSERT_EQ(pthread_create(&t->th, NULL, tsrv_main, t), 0);
}

static void tsrv_stop(struct tsrv *t)
{
    sl_loop_stop(t->loop);
    ASSERT_EQ(pthread_join(t->th, NULL), 0);
    sl_http_server_free(t->srv);
    sl_loop_free(t->loop);
}

static const char *url(const struct tsrv *t, const char *path)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s%s", t->base, path);
    return buf;
}

/* ---- requests ---- */

TEST(global_init_is_idempotent)
{
    ASSERT_OK(sl_http_client_global_init());
    ASSERT_OK(sl_http_client_global_init());
}

TEST(methods_bodies_and_headers)
{
    static const struct sl_http_header empty[] = { { "X-Empty", "" } };
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;

    tsrv_start(&t);
    /* A body without a method is a POST, with no made-up Content-Type. */
    rq.url = url(&t, "/echo");
    rq.body = "abc";
    rq.body_len = 3;
    rq.headers = empty;
    rq.nheaders = 1;
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "abc");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "x-method"), "POST");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-CT"), "(none)");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-Empty"), "[]");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-Expect"), "(none)");
    sl_http_client_resp_fini(&r);

    /* POST without a body sends Content-Length: 0. */
    rq = (struct sl_http_client_req){ .url = url(&t, "/echo"),
                                      .method = "POST" };
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-CL"), "0");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Body-Len"), "0");
    sl_http_client_resp_fini(&r);

    rq = (struct sl_http_client_req){ .url = url(&t, "/echo"),
                                      .method = "DELETE" };
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Method"), "DELETE");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-CL"), "(none)");
    sl_http_client_resp_fini(&r);

    rq = (struct sl_http_client_req){
        .url = url(&t, "/echo"), .method = "PATCH", .body = "{}", .body_len = 2
    };
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Method"), "PATCH");
    ASSERT_STR_EQ(sl_buf_str(&r.body), "{}");
    sl_http_client_resp_fini(&r);

    rq = (struct sl_http_client_req){ .url = url(&t, "/missing") };
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 404); /* a status is not a failure */
    ASSERT_STR_EQ(sl_buf_str(&r.body), "status 404\n");
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(connection_refused_is_eio_with_a_message)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char u[64], want[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A port that was free a moment ago and has no listener. */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&sa, &sl));
    close(fd);
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/x", ntohs(sa.sin_port));
    rq.url = u;
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_EIO);
    snprintf(want, sizeof(want),
             "cannot connect to '127.0.0.1:%u': Connection refused",
             ntohs(sa.sin_port));
    ASSERT_STR_EQ(d.msg, want);
    sl_http_client_resp_fini(&r);
}

TEST(timeout_is_etimedout)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char want[64];
    int64_t t0;

    tsrv_start(&t);
    rq.url = url(&t, "/hold");
    rq.timeout_ms = 200;
    t0 = sl_time_mono_ns();
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_ETIMEDOUT);
    ASSERT(sl_time_mono_ns() - t0 >= 190 * 1000000LL);
    snprintf(want, sizeof(want), "request to '127.0.0.1:%u' timed out after ",
             t.port);
    ASSERT(sl_str_prefix(d.msg, want));
    ASSERT(sl_str_suffix(d.msg, " ms"));
    sl_http_client_resp_fini(&r);
    /* The server noticed the client leaving. */
    {
        int64_t end = sl_time_mono_ns() + 5000 * 1000000LL;
        while (__atomic_load_n(&t.closes, __ATOMIC_SEQ_CST) < 1 &&
               sl_time_mono_ns() < end)
            usleep(1000);
        ASSERT_EQ(__atomic_load_n(&t.closes, __ATOMIC_SEQ_CST), 1);
    }
    tsrv_stop(&t);
}

TEST(body_over_max_is_etoobig)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char want[96];

    tsrv_start(&t);
    rq.url = url(&t, "/big");
    rq.max_body = 5000;
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.body.len, 5000);
    sl_http_client_resp_fini(&r);
    rq.max_body = 1000;
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_ETOOBIG);
    snprintf(want, sizeof(want),
             "response from '127.0.0.1:%u' exceeds 1000 bytes", t.port);
    ASSERT_STR_EQ(d.msg, want);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(bad_input_is_einval)
{
    static const struct sl_http_header inject[] = { { "X-A",
                                                      "b\r\nX-Evil: 1" } };
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;

    rq.url = "http://[::1/x";
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_EINVAL);
    ASSERT(sl_str_prefix(d.msg, "invalid URL 'http://[::1/x': "));
    sl_http_client_resp_fini(&r);
    rq.url = NULL;
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_EINVAL);
    sl_http_client_resp_fini(&r);
    rq.url = "http://127.0.0.1:1/";
    rq.headers = inject;
    rq.nheaders = 1;
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "invalid request header 'X-A'");
    sl_http_client_resp_fini(&r);
    rq.nheaders = 0;
    rq.method = "GET /x HTTP/1.1\r\n";
    ASSERT_EQ(sl_http_client_do(&rq, &r, &d), SL_EINVAL);
    sl_http_client_resp_fini(&r);
}

/* ---- streaming ---- */

struct lines {
    char got[16][32];
    int n;
    int stop_after;
};

static int on_line(void *arg, const char *line, size_t len)
{
    struct lines *l = arg;

    ASSERT(l->n < 16 && len < 32);
    ASSERT_EQ(strlen(line), len);
    memcpy(l->got[l->n++], line, len + 1);
    return l->stop_after > 0 && l->n >= l->stop_after;
}

TEST(stream_lines_crlf_and_last_line)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct lines l = { .n = 0 };
    struct sl_diag d;

    tsrv_start(&t);
    rq.url = url(&t, "/lines");
    ASSERT_OK(sl_http_client_stream(&rq, on_line, &l, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(l.n, 4);
    ASSERT_STR_EQ(l.got[0], "a");
    ASSERT_STR_EQ(l.got[1], "b");
    ASSERT_STR_EQ(l.got[2], "");
    ASSERT_STR_EQ(l.got[3], "c");
    ASSERT_EQ(r.body.len, 0);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(stream_stops_when_the_callback_says_so)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct lines l = { .stop_after = 2 };
    struct sl_diag d;
    int64_t end;

    tsrv_start(&t);
    rq.url = url(&t, "/ticker"); /* a line every 20 ms, forever */
    ASSERT_OK(sl_http_client_stream(&rq, on_line, &l, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(l.n, 2);
    ASSERT_STR_EQ(l.got[0], "line 1");
    ASSERT_STR_EQ(l.got[1], "line 2");
    sl_http_client_resp_fini(&r);
    /* The server's stream sees the client go. */
    end = sl_time_mono_ns() + 5000 * 1000000LL;
    while (__atomic_load_n(&t.closes, __ATOMIC_SEQ_CST) < 1 &&
           sl_time_mono_ns() < end)
        usleep(1000);
    ASSERT_EQ(__atomic_load_n(&t.closes, __ATOMIC_SEQ_CST), 1);
    tsrv_stop(&t);
}

TEST(stream_error_status_collects_the_body)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct lines l = { .n = 0 };
    struct sl_diag d;
    char want[96];

    tsrv_start(&t);
    rq.url = url(&t, "/nope");
    ASSERT_OK(sl_http_client_stream(&rq, on_line, &l, &r, &d));
    ASSERT_EQ(r.status, 404);
    ASSERT_EQ(l.n, 0);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "status 404\n");
    sl_http_client_resp_fini(&r);
    /* A line longer than max_body. */
    rq.url = url(&t, "/big");
    rq.max_body = 100;
    ASSERT_EQ(sl_http_client_stream(&rq, on_line, &l, &r, &d), SL_ETOOBIG);
    snprintf(want, sizeof(want),
             "a line of the response from '127.0.0.1:%u' exceeds 100 bytes",
             t.port);
    ASSERT_STR_EQ(d.msg, want);
    ASSERT_EQ(l.n, 0);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST_MAIN()
