/*
 * test/unit/server_test.c - net/server and net/url: the loop runs in a
 * thread of its own; the tests drive it with net/client and raw sockets.
 *
 * Covered: routes and status codes, headers both ways, query and path,
 * 413 for a Content-Length over the limit and for a chunked body over it,
 * an answer from a timer, a stream of three chunks, on_close when a client
 * leaves a stream or a pending request, 200 concurrent connections,
 * garbage and oversized heads, slowloris, IPv6, listen errors, the stream
 * queue limit, and freeing the server with requests pending.
 */
#include "test/unit/check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/str.h"
#include "core/time.h"
#include "net/client.h"
#include "net/server.h"
#include "net/url.h"

/* ---- the test server ---- */

struct tsrv {
    struct sl_loop *loop;
    struct sl_http_server *srv;
    pthread_t th;
    unsigned port;
    char base[64];
    int handled; /* handler calls (atomic) */
    int closes;  /* on_close calls (atomic) */
    int toobig;  /* SL_ETOOBIG seen by /flood (atomic) */
};

struct job {
    struct tsrv *t;
    struct sl_http_req *req;
    struct sl_timer *timer;
    int n;
};

static int load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void bump(int *p)
{
    __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static void job_free(struct job *j)
{
    sl_timer_free(j->timer);
    sl_free(j);
}

static void job_on_close(void *arg, struct sl_http_req *req)
{
    struct job *j = arg;

    ASSERT(req == j->req);
    bump(&j->t->closes);
    job_free(j);
}

static struct job *job_new(struct tsrv *t, struct sl_http_req *req,
                           sl_timer_fn *fn)
{
    struct job *j = sl_xcalloc(1, sizeof(*j));

    j->t = t;
    j->req = req;
    if (fn != NULL)
        j->timer = sl_timer_new(t->loop, fn, j);
    sl_http_req_on_close(req, job_on_close, j);
    return j;
}

static void async_fire(void *arg)
{
    struct job *j = arg;

    ASSERT_OK(sl_http_respond(j->req, 200, "text/plain", "late\n", 5));
    job_free(j); /* frees the timer inside its own callback */
}

static void late_stream(void *arg)
{
    struct job *j = arg;

    /* The request waited suspended; now it becomes a stream. */
    ASSERT_OK(sl_http_resp_header(j->req, "X-Late", "1"));
    ASSERT_OK(sl_http_stream_begin(j->req, 200, "text/plain"));
    ASSERT_OK(sl_http_stream_write(j->req, "late ", 5));
    ASSERT_OK(sl_http_stream_write(j->req, "stream\n", 7));
    sl_http_stream_end(j->req);
    job_free(j);
}

static void stream_tick(void *arg)
{
    struct job *j = arg;
    char line[32];
    int n;

    j->n++;
    n = snprintf(line, sizeof(line), "{\"n\":%d}\n", j->n);
    ASSERT_OK(sl_http_stream_write(j->req, line, (size_t)n));
    if (j->n == 3) {
        sl_http_stream_end(j->req);
        job_free(j);
    }
}

static void echo(struct sl_http_req *req)
{
    const struct sl_http_header *h;
    const char *q = sl_http_req_query(req, "q");
    const char *v = sl_http_req_header(req, "x-test");
    const char *ct = sl_http_req_header(req, "content-type");
    const char *auth = sl_http_req_header(req, "authorization");
    const void *body;
    size_t n, i, len;
    int multi = 0;
    char num[16];

    h = sl_http_req_headers(req, &n);
    for (i = 0; i < n; i++)
        multi += sl_str_eq_ci(h[i].name, "X-Multi");
    snprintf(num, sizeof(num), "%d", multi);
    body = sl_http_req_body(req, &len);
    ASSERT_EQ(((const char *)body)[len], '\0');
    ASSERT_OK(sl_http_resp_header(req, "X-Method", sl_http_req_method(req)));
    ASSERT_OK(sl_http_resp_header(req, "X-Path", sl_http_req_path(req)));
    ASSERT_OK(sl_http_resp_header(req, "X-Target", sl_http_req_target(req)));
    ASSERT_OK(sl_http_resp_header(req, "X-Query-Q", q ? q : "(none)"));
    ASSERT_OK(sl_http_resp_header(req, "X-Got-Test", v ? v : "(none)"));
    ASSERT_OK(sl_http_resp_header(req, "X-Got-CT", ct ? ct : "(none)"));
    ASSERT_OK(sl_http_resp_header(req, "X-Got-Auth", auth ? auth : "(none)"));
    ASSERT_OK(sl_http_resp_header(req, "X-Multi-Count", num));
    ASSERT_OK(sl_http_resp_header(req, "X-Peer", sl_http_req_peer(req)));
    ASSERT_OK(sl_http_resp_header(req, "X-Twice", "1"));
    ASSERT_OK(sl_http_resp_header(req, "X-Twice", "2"));
    ASSERT_OK(sl_http_respond(req, 200, "application/octet-stream", body, len));
}

static void handler(void *arg, struct sl_http_req *req)
{
    struct tsrv *t = arg;
    const char *path = sl_http_req_path(req);
    struct job *j;

    bump(&t->handled);
    if (strcmp(path, "/hello") == 0) {
        /* Bad header names and values are refused, good ones kept. */
        ASSERT_EQ(sl_http_resp_header(req, "Bad Name", "x"), SL_EINVAL);
        ASSERT_EQ(sl_http_resp_header(req, "X-Bad", "a\r\nb"), SL_EINVAL);
        ASSERT_EQ(sl_http_resp_header(req, "Content-Length", "9"), SL_EINVAL);
        ASSERT_EQ(sl_http_resp_header(req, "X-Empty", ""), SL_EINVAL);
        ASSERT_OK(sl_http_resp_header(req, "X-Served-By", "sluice-test"));
        ASSERT_OK(sl_http_respond(req, 200, "text/plain", "hello\n", 6));
    } else if (strcmp(path, "/echo") == 0 || sl_str_prefix(path, "/raw/")) {
        echo(req);
    } else if (sl_str_prefix(path, "/status/")) {
        int64_t st;
        char msg[32];
        ASSERT_OK(
            sl_str_to_i64(path + 8, strlen(path + 8), false, 0, 999, &st));
        snprintf(msg, sizeof(msg), "status %d\n", (int)st);
        ASSERT_OK(
            sl_http_respond(req, (unsigned)st, "text/plain", msg, strlen(msg)));
    } else if (strcmp(path, "/badstatus") == 0) {
        ASSERT_EQ(sl_http_respond(req, 42, NULL, NULL, 0), SL_EINVAL);
    } else if (strcmp(path, "/async") == 0) {
        const char *ms = sl_http_req_query(req, "ms");
        int64_t v = 0;
        ASSERT(ms != NULL);
        ASSERT_OK(sl_str_to_i64(ms, strlen(ms), false, 0, 60000, &v));
        j = job_new(t, req, async_fire);
        sl_timer_start(j->timer, (uint64_t)v, 0);
    } else if (strcmp(path, "/stream") == 0) {
        ASSERT_EQ(sl_http_stream_write(req, "x", 1), SL_EINVAL);
        ASSERT_EQ(sl_http_stream_begin(req, 99, NULL), SL_EINVAL);
        ASSERT_OK(sl_http_resp_header(req, "X-Stream", "yes"));
        ASSERT_OK(sl_http_stream_begin(req, 200, "application/x-ndjson"));
        j = job_new(t, req, stream_tick);
        sl_timer_start(j->timer, 20, 20);
    } else if (strcmp(path, "/late-stream") == 0) {
        j = job_new(t, req, late_stream);
        sl_timer_start(j->timer, 20, 0);
    } else if (strcmp(path, "/stream-hold") == 0) {
        ASSERT_OK(sl_http_stream_begin(req, 200, "text/plain"));
        ASSERT_OK(sl_http_stream_write(req, "first\n", 6));
        (void)job_new(t, req, NULL);
    } else if (strcmp(path, "/hold") == 0) {
        (void)job_new(t, req, NULL);
    } else if (strcmp(path, "/flood") == 0) {
        static char chunk[64 * 1024];
        int i, rc = 0;
        memset(chunk, 'z', sizeof(chunk));
        ASSERT_OK(sl_http_stream_begin(req, 200, "text/plain"));
        for (i = 0; i < 100 && rc == 0; i++)
            rc = sl_http_stream_write(req, chunk, sizeof(chunk));
        ASSERT_EQ(rc, SL_ETOOBIG);
        ASSERT_EQ(i, 5); /* four chunks fit in 256 KiB */
        bump(&t->toobig);
        sl_http_stream_end(req);
    } else {
        ASSERT_OK(sl_http_respond(req, 404, "text/plain", "not found\n", 10));
    }
}

static void *tsrv_main(void *arg)
{
    struct tsrv *t = arg;

    if (sl_loop_run(t->loop) != 0)
        abort();
    return NULL;
}

static void tsrv_start(struct tsrv *t, const struct sl_http_server_opts *o)
{
    struct sl_diag d;

    memset(t, 0, sizeof(*t));
    sl_diag_clear(&d);
    ASSERT_OK(sl_loop_new(&t->loop));
    if (sl_http_server_new(t->loop, o, handler, t, &t->srv, &d) != 0)
        CHECK_FAIL("server: %s", d.msg);
    t->port = sl_http_server_port(t->srv);
    ASSERT(t->port > 0);
    snprintf(t->base, sizeof(t->base), "http://127.0.0.1:%u", t->port);
    ASSERT_EQ(pthread_create(&t->th, NULL, tsrv_main, t), 0);
}

/* Stop the loop thread, then free the server and the loop here. */
static void tsrv_stop(struct tsrv *t)
{
    sl_loop_stop(t->loop);
    ASSERT_EQ(pthread_join(t->th, NULL), 0);
    sl_http_server_free(t->srv);
    sl_loop_free(t->loop);
}

/* Wait up to 'ms' for '*p' to reach 'v'. */
static bool wait_for(const int *p, int v, int ms)
{
    int64_t end = sl_time_mono_ns() + (int64_t)ms * 1000000;

    while (load(p) < v) {
        if (sl_time_mono_ns() > end)
            return false;
        usleep(1000);
    }
    return true;
}

/* Open descriptors of this process, to catch leaks. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    ASSERT(d != NULL);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* ---- clients ---- */

static void get(struct tsrv *t, const char *path, struct sl_http_client_resp *r)
{
    struct sl_http_client_req rq = { 0 };
    struct sl_diag d;
    char url[512];

    snprintf(url, sizeof(url), "%s%s", t->base, path);
    rq.url = url;
    rq.timeout_ms = 10000;
    sl_diag_clear(&d);
    if (sl_http_client_do(&rq, r, &d) != 0)
        CHECK_FAIL("GET %s: %s", url, d.msg);
}

static int raw_connect(unsigned port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        CHECK_FAIL("connect: %s", strerror(errno));
    return fd;
}

static void raw_send(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            CHECK_FAIL("send: %s", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

/* Send what the peer takes; it may close early on purpose. */
static void raw_send_some(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void raw_sends(int fd, const char *s)
{
    raw_send(fd, s, strlen(s));
}

/*
 * Read into buf (NUL-terminated) until 'needle' appears (NULL: until end
 * of file), the peer closes, or 'ms' pass. Returns the bytes read; '*peof'
 * tells whether the peer closed (or reset) the connection.
 */
static size_t raw_read(int fd, char *buf, size_t cap, const char *needle,
                       int ms, bool *peof)
{
    int64_t end = sl_time_mono_ns() + (int64_t)ms * 1000000;
    size_t len = 0;

    *peof = false;
    buf[0] = '\0';
    while (len + 1 < cap) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = (end - sl_time_mono_ns()) / 1000000;
        ssize_t n;
        if (needle != NULL && strstr(buf, needle) != NULL)
            break;
        if (left <= 0)
            break;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0) {
            *peof = true;
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
    }
    return len;
}

/* Read one response with a Content-Length body; returns its status. */
static int raw_response(int fd, char *buf, size_t cap)
{
    bool eof;
    size_t len = raw_read(fd, buf, cap, "\r\n\r\n", 10000, &eof);
    const char *cl, *hend = strstr(buf, "\r\n\r\n");
    int64_t want = 0;
    int status = 0;

    if (hend == NULL)
        return -1;
    cl = strstr(buf, "Content-Length: ");
    if (cl != NULL && cl < hend)
        ASSERT_OK(sl_str_to_i64(cl + 16, strcspn(cl + 16, "\r"), false, 0,
                                1 << 30, &want));
    while ((int64_t)len < (hend - buf) + 4 + want && !eof) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

/* ---- net/url ---- */

TEST(url_pct_decode_and_path_split)
{
    struct sl_http_path p;
    struct sl_buf b;

    sl_buf_init(&b, 64);
    ASSERT_OK(sl_http_pct_decode("a%20b+c%2f", 10, false, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "a b+c/");
    sl_buf_reset(&b);
    ASSERT_OK(sl_http_pct_decode("a+b", 3, true, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "a b");
    sl_buf_reset(&b);
    ASSERT_OK(sl_http_pct_decode("x", 1, true, &b));
    ASSERT_EQ(sl_http_pct_decode("%zz", 3, true, &b), SL_EINVAL);
    ASSERT_EQ(sl_http_pct_decode("%4", 2, true, &b), SL_EINVAL);
    ASSERT_EQ(sl_http_pct_decode("%00", 3, true, &b), SL_EINVAL);
    ASSERT_STR_EQ(sl_buf_str(&b), "x"); /* unchanged on failure */
    sl_buf_fini(&b);

    ASSERT_OK(sl_http_path_split("/", &p));
    ASSERT_EQ(p.n, 0);
    sl_http_path_fini(&p);
    ASSERT_OK(sl_http_path_split("/apis/a%2Fb/c%20d", &p));
    ASSERT_EQ(p.n, 3);
    ASSERT_STR_EQ(p.seg[0], "apis");
    ASSERT_STR_EQ(p.seg[1], "a/b");
    ASSERT_STR_EQ(p.seg[2], "c d");
    sl_http_path_fini(&p);
    ASSERT_OK(sl_http_path_split("/a//b/", &p));
    ASSERT_EQ(p.n, 4);
    ASSERT_STR_EQ(p.seg[0], "a");
    ASSERT_STR_EQ(p.seg[1], "");
    ASSERT_STR_EQ(p.seg[2], "b");
    ASSERT_STR_EQ(p.seg[3], "");
    sl_http_path_fini(&p);
    ASSERT_EQ(sl_http_path_split("a/b", &p), SL_EINVAL);
    sl_http_path_fini(&p);
    ASSERT_EQ(sl_http_path_split("/a/%zz", &p), SL_EINVAL);
    ASSERT_EQ(p.n, 0);
    sl_http_path_fini(&p);
    ASSERT_EQ(sl_http_path_split("/a%00", &p), SL_EINVAL);
    sl_http_path_fini(&p);
}

TEST(url_query_parse_follows_go)
{
    static const char qs[] = "a=1&b=x+y%21&c&&d=%zz&e=1;2&a=2&f=%00&=v&g=";
    struct sl_http_query q;

    ASSERT_EQ(sl_http_query_parse(qs, strlen(qs), &q), 3);
    ASSERT_STR_EQ(sl_http_query_get(&q, "a"), "1");
    ASSERT_STR_EQ(sl_http_query_get(&q, "b"), "x y!");
    ASSERT_STR_EQ(sl_http_query_get(&q, "c"), "");
    ASSERT_STR_EQ(sl_http_query_get(&q, "g"), "");
    ASSERT_STR_EQ(sl_http_query_get(&q, ""), "v");
    ASSERT(sl_http_query_get(&q, "d") == NULL);
    ASSERT(sl_http_query_get(&q, "e") == NULL);
    ASSERT(sl_http_query_get(&q, "f") == NULL);
    ASSERT(sl_http_query_get(&q, "A") == NULL);
    ASSERT_EQ(q.n, 6);
    ASSERT_STR_EQ(q.v[3].name, "a");
    ASSERT_STR_EQ(q.v[3].value, "2");
    sl_http_query_fini(&q);
    ASSERT_EQ(sl_http_query_parse("", 0, &q), 0);
    ASSERT_EQ(q.n, 0);
    sl_http_query_fini(&q);
}

TEST(url_hostport_split)
{
    struct sl_diag d;
    char host[64];
    unsigned port;

    ASSERT_OK(sl_http_hostport_split("127.0.0.1:8001", host, sizeof(host),
                                     &port, &d));
    ASSERT_STR_EQ(host, "127.0.0.1");
    ASSERT_EQ(port, 8001);
    ASSERT_OK(sl_http_hostport_split("[::1]:0", host, sizeof(host), &port, &d));
    ASSERT_STR_EQ(host, "::1");
    ASSERT_EQ(port, 0);
    ASSERT_OK(sl_http_hostport_split("localhost:65535", host, sizeof(host),
                                     &port, &d));
    ASSERT_STR_EQ(host, "localhost");
    ASSERT_EQ(
        sl_http_hostport_split("localhost", host, sizeof(host), &port, &d),
        SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "invalid address 'localhost': missing port");
    ASSERT_EQ(sl_http_hostport_split(":80", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("h:65536", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("h:-1", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("::1:80", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("[::1]80", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("[::1:80", host, sizeof(host), &port, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_http_hostport_split("abcdef:1", host, 4, &port, &d),
              SL_EINVAL);
}

/* ---- the server ---- */

TEST(routes_and_status_codes)
{
    struct tsrv t;
    struct sl_http_client_resp r;
    int fds = count_fds();

    tsrv_start(&t, NULL);
    get(&t, "/hello", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "hello\n");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "x-served-by"), "sluice-test");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Content-Type"), "text/plain");
    sl_http_client_resp_fini(&r);
    get(&t, "/status/503", &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "status 503\n");
    sl_http_client_resp_fini(&r);
    get(&t, "/status/204", &r);
    ASSERT_EQ(r.status, 204);
    ASSERT_EQ(r.body.len, 0);
    sl_http_client_resp_fini(&r);
    get(&t, "/nowhere", &r);
    ASSERT_EQ(r.status, 404);
    sl_http_client_resp_fini(&r);
    get(&t, "/badstatus", &r);
    ASSERT_EQ(r.status, 500);
    ASSERT_STR_EQ(sl_buf_str(&r.body),
                  "internal error: invalid response status\n");
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.handled), 5);
    tsrv_stop(&t);
    ASSERT_EQ(count_fds(), fds); /* listener, epoll, eventfd: all closed */
}

TEST(headers_query_and_body_both_ways)
{
    static const struct sl_http_header hdrs[] = {
        { "X-Test", "hi there" },
        { "X-Multi", "1" },
        { "x-multi", "2" },
        { "Content-Type", "application/json" },
    };
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char url[128];
    size_t i, n = 0;

    tsrv_start(&t, NULL);
    snprintf(url, sizeof(url), "%s/echo?q=a%%20b+c&other=1", t.base);
    rq.url = url;
    rq.method = "PUT";
    rq.headers = hdrs;
    rq.nheaders = 4;
    rq.body = "{\"k\":1}";
    rq.body_len = 7;
    rq.bearer_token = "tok123";
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "{\"k\":1}");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Method"), "PUT");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Path"), "/echo");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Target"),
                  "/echo?q=a%20b+c&other=1");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Query-Q"), "a b c");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-Test"), "hi there");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-CT"),
                  "application/json");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Got-Auth"),
                  "Bearer tok123");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Multi-Count"), "2");
    ASSERT(
        sl_str_prefix(sl_http_client_resp_header(&r, "X-Peer"), "127.0.0.1:"));
    for (i = 0; i < r.headers.n; i++)
        n += sl_str_eq_ci(r.headers.v[i].name, "X-Twice");
    ASSERT_EQ(n, 2);
    sl_http_client_resp_fini(&r);

    /* The raw path keeps its escapes; HEAD gets headers only. */
    rq = (struct sl_http_client_req){ 0 };
    snprintf(url, sizeof(url), "%s/raw/a%%2Fb/%%7Ec", t.base);
    rq.url = url;
    rq.method = "HEAD";
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Path"), "/raw/a%2Fb/%7Ec");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Method"), "HEAD");
    ASSERT_EQ(r.body.len, 0);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(body_over_the_limit_by_content_length_is_413)
{
    struct sl_http_server_opts o = { .max_body_bytes = 1024 };
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    static char big[2000];
    char url[128], buf[2048];
    int fd;

    memset(big, 'b', sizeof(big));
    tsrv_start(&t, &o);
    snprintf(url, sizeof(url), "%s/echo", t.base);
    rq.url = url;
    rq.body = big;
    rq.body_len = 1024; /* exactly the limit: fine */
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, 1024);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.handled), 1);
    rq.body_len = 1025;
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 413);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "request body of 1025 bytes exceeds "
                                       "the limit of 1024 bytes\n");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Content-Type"),
                  "text/plain; charset=utf-8");
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.handled), 1); /* the handler never saw it */

    /* With Expect: 100-continue the 413 comes instead of the 100. */
    fd = raw_connect(t.port);
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                  "Expect: 100-continue\r\n\r\n");
    ASSERT_EQ(raw_response(fd, buf, sizeof(buf)), 413);
    ASSERT(strstr(buf, "100 Continue") == NULL);
    close(fd);
    ASSERT_EQ(load(&t.handled), 1);
    tsrv_stop(&t);
}

/* Send a chunked POST of 'nchunks' chunks of 'size' bytes. */
static int chunked_post(unsigned port, int nchunks, size_t size, char *buf,
                        size_t cap)
{
    static char data[1024];
    char hdr[32];
    int fd = raw_connect(port), i, status;

    memset(data, 'c', sizeof(data));
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    for (i = 0; i < nchunks; i++) {
        snprintf(hdr, sizeof(hdr), "%zx\r\n", size);
        raw_send(fd, hdr, strlen(hdr));
        raw_send(fd, data, size);
        raw_sends(fd, "\r\n");
    }
    raw_sends(fd, "0\r\n\r\n");
    status = raw_response(fd, buf, cap);
    close(fd);
    return status;
}

TEST(chunked_body_over_the_limit_is_413)
{
    struct sl_http_server_opts o = { .max_body_bytes = 1024 };
    struct tsrv t;
    static char buf[8192];

    tsrv_start(&t, &o);
    ASSERT_EQ(chunked_post(t.port, 2, 512, buf, sizeof(buf)), 200);
    ASSERT_EQ(load(&t.handled), 1);
    ASSERT(strstr(buf, "Content-Length: 1024\r\n") != NULL);
    ASSERT_EQ(chunked_post(t.port, 3, 600, buf, sizeof(buf)), 413);
    ASSERT(strstr(buf, "exceeds the limit of 1024 bytes") != NULL);
    ASSERT_EQ(load(&t.handled), 1);
    tsrv_stop(&t);
}

TEST(endless_chunked_body_is_cut_off)
{
    struct sl_http_server_opts o = { .max_body_bytes = 1024 };
    struct tsrv t;
    static char chunk[64 * 1024 + 16], buf[1024];
    struct sl_http_client_resp r;
    bool eof;
    int fd, i;

    tsrv_start(&t, &o);
    memcpy(chunk, "10000\r\n", 7);
    memset(chunk + 7, 'e', 64 * 1024);
    memcpy(chunk + 7 + 64 * 1024, "\r\n", 2);
    fd = raw_connect(t.port);
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    /* 6 MiB: more than the limit plus what the server drains. */
    for (i = 0; i < 96; i++)
        raw_send_some(fd, chunk, 7 + 64 * 1024 + 2);
    raw_read(fd, buf, sizeof(buf), NULL, 5000, &eof);
    ASSERT(eof);
    ASSERT(strstr(buf, "413") == NULL);
    close(fd);
    ASSERT_EQ(load(&t.handled), 0);
    get(&t, "/hello", &r);
    ASSERT_EQ(r.status, 200);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(answer_later_from_a_timer)
{
    struct tsrv t;
    struct sl_http_client_resp r;
    int64_t t0;

    tsrv_start(&t, NULL);
    t0 = sl_time_mono_ns();
    get(&t, "/async?ms=50", &r);
    ASSERT(sl_time_mono_ns() - t0 >= 50 * 1000000LL);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "late\n");
    sl_http_client_resp_fini(&r);
    /* The connection is usable again after a suspended answer. */
    get(&t, "/hello", &r);
    ASSERT_EQ(r.status, 200);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.closes), 0);
    tsrv_stop(&t);
}

struct lines {
    char got[8][32];
    int n;
    int stop_after;
};

static int on_line(void *arg, const char *line, size_t len)
{
    struct lines *l = arg;

    ASSERT(l->n < 8);
    ASSERT(len < 32);
    memcpy(l->got[l->n], line, len + 1);
    l->n++;
    return l->stop_after > 0 && l->n >= l->stop_after;
}

TEST(stream_three_chunks_then_end)
{
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct lines l = { .n = 0 };
    struct sl_diag d;
    char url[128], buf[1024];
    bool eof;
    int fd;

    tsrv_start(&t, NULL);
    snprintf(url, sizeof(url), "%s/stream", t.base);
    rq.url = url;
    ASSERT_OK(sl_http_client_stream(&rq, on_line, &l, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(l.n, 3);
    ASSERT_STR_EQ(l.got[0], "{\"n\":1}");
    ASSERT_STR_EQ(l.got[1], "{\"n\":2}");
    ASSERT_STR_EQ(l.got[2], "{\"n\":3}");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Transfer-Encoding"),
                  "chunked");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Stream"), "yes");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Content-Type"),
                  "application/x-ndjson");
    sl_http_client_resp_fini(&r);

    /* On the wire: three chunks and the last chunk. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read(fd, buf, sizeof(buf), "\r\n0\r\n\r\n", 10000, &eof);
    ASSERT(strstr(buf, "HTTP/1.1 200") == buf);
    ASSERT(strstr(buf, "\r\n\r\n8\r\n{\"n\":1}\n\r\n8\r\n{\"n\":2}\n\r\n"
                       "8\r\n{\"n\":3}\n\r\n0\r\n\r\n") != NULL);
    close(fd);
    ASSERT_EQ(load(&t.closes), 0);
    tsrv_stop(&t);
}

TEST(stream_begun_later_from_a_timer)
{
    struct tsrv t;
    struct sl_http_client_resp r;

    tsrv_start(&t, NULL);
    get(&t, "/late-stream", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(sl_buf_str(&r.body), "late stream\n");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "X-Late"), "1");
    ASSERT_STR_EQ(sl_http_client_resp_header(&r, "Transfer-Encoding"),
                  "chunked");
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.closes), 0);
    tsrv_stop(&t);
}

TEST(client_leaving_fires_on_close)
{
    struct tsrv t;
    char buf[1024];
    bool eof;
    int fd;

    tsrv_start(&t, NULL);
    /* Mid-stream: the first chunk arrived, the stream is idle. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /stream-hold HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read(fd, buf, sizeof(buf), "first\n", 10000, &eof);
    ASSERT(strstr(buf, "first\n") != NULL);
    close(fd);
    ASSERT(wait_for(&t.closes, 1, 5000));
    /* A request waiting for its answer. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT(wait_for(&t.handled, 2, 5000));
    close(fd);
    ASSERT(wait_for(&t.closes, 2, 5000));
    /* A half-close counts as leaving, as in Go's net/http. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT(wait_for(&t.handled, 3, 5000));
    shutdown(fd, SHUT_WR);
    ASSERT(wait_for(&t.closes, 3, 5000));
    raw_read(fd, buf, sizeof(buf), NULL, 5000, &eof);
    ASSERT(eof);
    close(fd);
    tsrv_stop(&t);
    ASSERT_EQ(load(&t.closes), 3);
}

TEST(two_hundred_concurrent_connections)
{
    enum { N = 200 };
    struct tsrv t;
    static int fds[N];
    static char buf[2048];
    int i;

    tsrv_start(&t, NULL);
    for (i = 0; i < N; i++) {
        fds[i] = raw_connect(t.port);
        raw_sends(fds[i], "GET /async?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    /* All are held by the server at the same time. */
    ASSERT(wait_for(&t.handled, N, 10000));
    for (i = 0; i < N; i++) {
        ASSERT_EQ(raw_response(fds[i], buf, sizeof(buf)), 200);
        ASSERT(strstr(buf, "\r\n\r\nlate\n") != NULL);
        close(fds[i]);
    }
    ASSERT_EQ(load(&t.closes), 0);
    tsrv_stop(&t);
}

TEST(garbage_and_oversized_requests_do_not_stall)
{
    struct sl_http_server_opts o = { .header_timeout_s = 1 };
    struct tsrv t;
    struct sl_http_client_resp r;
    static char buf[8192], big[100000];
    static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
                                    "\x03\x03\x00\x00\r\n\r\n";
    bool eof;
    int fd;

    tsrv_start(&t, &o);
    fd = raw_connect(t.port);
    raw_sends(fd, "this is not http\r\n\r\n");
    ASSERT_EQ(raw_response(fd, buf, sizeof(buf)), 400);
    close(fd);
    get(&t, "/hello", &r);
    ASSERT_EQ(r.status, 200);
    sl_http_client_resp_fini(&r);

    /* Binary garbage: answered 400 or dropped, within the head deadline. */
    fd = raw_connect(t.port);
    raw_send(fd, tls_hello, sizeof(tls_hello) - 1);
    raw_read(fd, buf, sizeof(buf), NULL, 5000, &eof);
    ASSERT(eof);
    ASSERT(buf[0] == '\0' || strstr(buf, "HTTP/1.1 400") == buf);
    close(fd);

    /* Headers too large for the connection's memory: 431. */
    memset(big, 'a', sizeof(big));
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
    raw_send_some(fd, big, sizeof(big));
    raw_send_some(fd, "\r\n\r\n", 4);
    ASSERT_EQ(raw_response(fd, buf, sizeof(buf)), 431);
    close(fd);
    /* A request line too long: 414. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /");
    raw_send_some(fd, big, sizeof(big));
    raw_send_some(fd, " HTTP/1.1\r\nHost: x\r\n\r\n", 22);
    ASSERT_EQ(raw_response(fd, buf, sizeof(buf)), 414);
    close(fd);
    /* A bad chunk size: 400. */
    fd = raw_connect(t.port);
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                  "\r\n\r\nzz\r\nhello\r\n");
    ASSERT_EQ(raw_response(fd, buf, sizeof(buf)), 400);
    close(fd);
    get(&t, "/hello", &r);
    ASSERT_EQ(r.status, 200);
    sl_http_client_resp_fini(&r);
    ASSERT_EQ(load(&t.handled), 2);
    tsrv_stop(&t);
}

TEST(slowloris_is_cut_off_by_the_head_deadline)
{
    struct sl_http_server_opts o = { .header_timeout_s = 1 };
    struct tsrv t;
    struct sl_http_client_resp r;
    char buf[256];
    int64_t t0, end;
    bool closed = false;
    int fd;

    tsrv_start(&t, &o);
    fd = raw_connect(t.port);
    t0 = sl_time_mono_ns();
    raw_sends(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    end = t0 + 8000 * 1000000LL;
    /* One header byte every 100 ms keeps MHD's idle timer happy. */
    while (!closed && sl_time_mono_ns() < end) {
        bool eof;
        if (send(fd, "X", 1, MSG_NOSIGNAL) != 1)
            closed = true;
        raw_read(fd, buf, sizeof(buf), NULL, 100, &eof);
        closed = closed || eof;
        if (!closed && sl_time_mono_ns() - t0 > 300 * 1000000LL) {
            /* Meanwhile the server answers others. */
            get(&t, "/hello", &r);
            ASSERT_EQ(r.status, 200);
            sl_http_client_resp_fini(&r);
        }
    }
    ASSERT(closed);
    ASSERT(sl_time_mono_ns() - t0 >= 900 * 1000000LL);
    close(fd);
    tsrv_stop(&t);
}

TEST(pipelined_requests_and_http_1_0)
{
    struct tsrv t;
    static char buf[4096];
    bool eof;
    int fd;

    tsrv_start(&t, NULL);
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /async?ms=20 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read(fd, buf, sizeof(buf), "hello\n", 10000, &eof);
    /* Two answers, in request order, although the first was late. */
    ASSERT(strstr(buf, "HTTP/1.1 200") == buf);
    ASSERT(strstr(buf, "late\nHTTP/1.1 200 OK\r\n") != NULL);
    ASSERT(sl_str_suffix(buf, "\r\n\r\nhello\n"));
    close(fd);
    /* HTTP/1.0 stream: no chunking, the end is the connection's end. */
    fd = raw_connect(t.port);
    raw_sends(fd, "GET /stream HTTP/1.0\r\n\r\n");
    raw_read(fd, buf, sizeof(buf), NULL, 10000, &eof);
    ASSERT(eof);
    ASSERT(strstr(buf, "HTTP/1.") == buf);
    ASSERT(strstr(buf, "Transfer-Encoding") == NULL);
    ASSERT(strstr(buf, "\r\n\r\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n") != NULL);
    close(fd);
    tsrv_stop(&t);
}

TEST(stream_queue_limit_says_toobig)
{
    struct sl_http_server_opts o = { .stream_queue_bytes = 256 * 1024 };
    struct tsrv t;
    struct sl_http_client_resp r;

    tsrv_start(&t, &o);
    get(&t, "/flood", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, 4 * 64 * 1024);
    ASSERT_EQ(load(&t.toobig), 1);
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(ipv6_literal_listen_address)
{
    struct sl_http_server_opts o = { .listen = "[::1]:0" };
    struct tsrv t;
    struct sl_http_client_req rq = { 0 };
    struct sl_http_client_resp r;
    struct sl_diag d;
    char url[128];

    tsrv_start(&t, &o);
    snprintf(url, sizeof(url), "http://[::1]:%u/echo", t.port);
    rq.url = url;
    ASSERT_OK(sl_http_client_do(&rq, &r, &d));
    ASSERT_EQ(r.status, 200);
    ASSERT(sl_str_prefix(sl_http_client_resp_header(&r, "X-Peer"), "[::1]:"));
    sl_http_client_resp_fini(&r);
    tsrv_stop(&t);
}

TEST(listen_errors_are_reported)
{
    struct tsrv t;
    struct sl_http_server_opts o = { 0 };
    struct sl_http_server *srv = (void *)1;
    struct sl_diag d;
    char addr[64], want[128];

    tsrv_start(&t, NULL);
    o.listen = "nonsense";
    ASSERT_EQ(sl_http_server_new(t.loop, &o, handler, &t, &srv, &d), SL_EINVAL);
    ASSERT(srv == NULL);
    ASSERT_STR_EQ(d.msg, "invalid address 'nonsense': missing port");
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", t.port);
    o.listen = addr;
    /* The loop thread owns t.loop; a second loop for the failing server. */
    {
        struct sl_loop *loop2;
        ASSERT_OK(sl_loop_new(&loop2));
        ASSERT_EQ(sl_http_server_new(loop2, &o, handler, &t, &srv, &d),
                  SL_EBUSY);
        snprintf(want, sizeof(want),
                 "cannot listen on '%s': Address already in use", addr);
        ASSERT_STR_EQ(d.msg, want);
        sl_loop_free(loop2);
    }
    tsrv_stop(&t);
}

TEST(server_free_with_requests_pending)
{
    struct tsrv t;
    static char buf[1024];
    int fds[5], i, nfds = count_fds();
    bool eof;

    tsrv_start(&t, NULL);
    for (i = 0; i < 5; i++) {
        fds[i] = raw_connect(t.port);
        if (i < 3)
            raw_sends(fds[i], "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
        else
            raw_sends(fds[i], "GET /stream-hold HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    ASSERT(wait_for(&t.handled, 5, 5000));
    raw_read(fds[4], buf, sizeof(buf), "first\n", 5000, &eof);
    ASSERT(strstr(buf, "first\n") != NULL);
    /* The handler still owns all five; freeing the server ends them. */
    tsrv_stop(&t);
    ASSERT_EQ(load(&t.closes), 5);
    for (i = 0; i < 5; i++) {
        raw_read(fds[i], buf, sizeof(buf), NULL, 5000, &eof);
        ASSERT(eof);
        close(fds[i]);
    }
    ASSERT_EQ(count_fds(), nfds);
}

/* CPU seconds used by the whole process so far. */
static double cpu_seconds(void)
{
    struct rusage ru;

    ASSERT_OK(getrusage(RUSAGE_SELF, &ru));
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

TEST(connection_limit_queues_without_spinning)
{
    struct sl_http_server_opts o = { .max_connections = 2 };
    struct tsrv t;
    static char buf[1024];
    int fds[4], i;
    bool eof;
    double c0;

    tsrv_start(&t, &o);
    for (i = 0; i < 4; i++) {
        fds[i] = raw_connect(t.port);
        raw_sends(fds[i], "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    ASSERT(wait_for(&t.handled, 2, 5000));
    /* Two held, two waiting in the backlog: the loop must sleep. */
    c0 = cpu_seconds();
    raw_read(fds[2], buf, sizeof(buf), NULL, 500, &eof);
    ASSERT(!eof && buf[0] == '\0');
    ASSERT(cpu_seconds() - c0 < 0.25);
    ASSERT_EQ(load(&t.handled), 2);
    /* A slot frees: a waiting connection is served. */
    close(fds[0]);
    ASSERT(wait_for(&t.handled, 3, 5000));
    ASSERT_EQ(load(&t.closes), 1);
    for (i = 1; i < 4; i++)
        close(fds[i]);
    /* The three handled requests all see their client leave. */
    ASSERT(wait_for(&t.closes, 3, 5000));
    tsrv_stop(&t);
}

TEST_MAIN()
