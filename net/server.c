/*
 * net/server.c - the HTTP server: libmicrohttpd in external-epoll mode on a
 * sl_loop.
 *
 * Driving MHD. The daemon runs with MHD_USE_EPOLL and no thread: its epoll
 * descriptor is a read watcher on the loop, and 'run_timer' is re-armed
 * from MHD_get_timeout() after every MHD_run(), so connection timeouts and
 * MHD's internal "ready" list (which has no descriptor event) are served.
 * Anything that makes MHD work without a socket event (resuming a
 * suspended connection, shutting one down) "kicks" the server: a
 * zero-delay run_timer. A kick from inside MHD_run() is remembered and
 * honoured after it returns, instead of being overwritten by the timeout.
 *
 * Requests. The URI-log callback creates the sl_http_req (MHD then reports
 * its completion even if it never reaches the access handler), the access
 * handler walks it through the states of docs/net.md, and the completion
 * callback frees it, calling on_close first if the handler still owned it.
 * A handler that does not answer at once leaves its connection suspended;
 * the answer is built right away but queued from the access handler, which
 * MHD calls again after the connection is resumed.
 *
 * A suspended connection is invisible to MHD, which would not notice the
 * client leaving. A connection suspended for SRV_HUP_DELAY_MS or longer
 * has its socket watched on the loop for SL_IO_HUP (peer shutdown or
 * error), and a hang-up resumes it to be closed. The delay spares the
 * common quick answer (an append made durable in a millisecond or two)
 * the two epoll_ctl calls of a watcher: one server timer starts the
 * watchers of the requests that waited long enough (the 'hup_wait' list,
 * in suspension order).
 *
 * libmicrohttpd 0.9.75 refuses to queue a response while a body is being
 * received, so a chunked body that passes the limit is read and dropped to
 * its end, then answered 413; one that goes on past SRV_DRAIN_MAX more is
 * cut off by closing the connection.
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/str.h"
#include "net/url.h"

#define SRV_DEFAULT_LISTEN       "127.0.0.1:0"
#define SRV_DEFAULT_MAX_CONN     1000
#define SRV_DEFAULT_CONN_TIMEOUT 60
#define SRV_DEFAULT_HEAD_TIMEOUT 30
#define SRV_DEFAULT_CONN_MEMORY  (64 * 1024)
#define SRV_MIN_CONN_MEMORY      (8 * 1024)
#define SRV_DEFAULT_STREAM_QUEUE (1024 * 1024)
#define SRV_DRAIN_MAX            (4 * 1024 * 1024)
#define SRV_STREAM_BLOCK         (16 * 1024)
#define SRV_BACKLOG              511
#define SRV_HUP_DELAY_MS         50

enum req_state {
    REQ_HEAD,       /* request line seen, head not complete */
    REQ_BODY,       /* reading the body */
    REQ_DISCARD,    /* body over the limit: dropping the rest, then 413 */
    REQ_REJECTED,   /* answered by the server itself */
    REQ_HANDLER,    /* inside the handler */
    REQ_PENDING,    /* handler returned without answering: suspended */
    REQ_ANSWERED,   /* response built; the handler let go */
    REQ_STREAM,     /* streaming; still the handler's */
    REQ_STREAM_END, /* stream ended by the handler; queue draining */
    REQ_CLOSED,     /* on_close running or done; about to be freed */
};

/* Per connection (MHD's socket context): the request-head deadline. */
struct srv_conn {
    struct sl_http_server *srv;
    struct sl_timer *head_timer;
    struct sl_http_req *req; /* the current request, or NULL */
    int fd;
    char peer[64]; /* formatted once, copied to each request */
};

struct sl_http_req {
    struct sl_http_server *srv;
    struct MHD_Connection *conn;
    struct srv_conn *sc; /* NULL once the connection is gone */
    struct sl_http_req *prev, *next;
    enum req_state state;

    char *target;
    char *path;
    char *method;
    struct sl_http_query query;
    /* One allocation: the array, then the strings it points to. */
    struct sl_http_header *hdrs;
    size_t nhdrs;
    struct sl_buf body;
    size_t discarded;
    char peer[64];

    struct sl_http_headers resp_hdrs;
    struct MHD_Response *resp; /* built, not yet queued */
    unsigned status;
    bool queued;

    sl_http_close_fn *on_close;
    void *close_arg;

    bool in_handler;
    bool suspended;
    bool peer_gone;
    bool hup_wait;                     /* on the server's hup_wait list */
    int64_t suspended_ms;              /* loop time of the suspension */
    struct sl_http_req *wprev, *wnext; /* hup_wait list */
    struct sl_io *hup;                 /* watches the socket while suspended */

    struct sl_buf sq; /* stream queue; bytes before sq_off are sent */
    size_t sq_off;
};

struct sl_http_server {
    struct sl_loop *loop;
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port;
    struct sl_io *mhd_io;
    struct sl_timer *run_timer;
    bool in_run, kicked, closing;
    /* Suspended requests whose socket is not watched yet, oldest first,
     * and the timer that starts their watchers. */
    struct sl_http_req *whead, *wtail;
    struct sl_timer *hup_timer;

    sl_http_handler_fn *handler;
    void *arg;
    struct sl_http_req *reqs; /* every live request */

    size_t max_body;
    size_t stream_queue;
    unsigned head_timeout_s;
    sl_http_error_body_fn *error_body;
    struct sl_log_ctx log;
};

static void srv_misuse(const char *what)
{
    fprintf(stderr, "sluice: net/server: %s\n", what);
    abort();
}

/* ---- driving MHD ---- */

static unsigned srv_connections(struct sl_http_server *srv)
{
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

    return di != NULL ? di->num_connections : 0;
}

static void srv_run(struct sl_http_server *srv)
{
    MHD_UNSIGNED_LONG_LONG to;
    unsigned before = srv_connections(srv);

    srv->kicked = false;
    srv->in_run = true;
    MHD_run(srv->mhd);
    srv->in_run = false;
    /*
     * At its connection limit MHD takes the listen socket out of its epoll
     * set, and puts it back only at the start of a later run: when a
     * connection went away, run again soon, or clients waiting in the
     * backlog would wait for an unrelated event.
     */
    if (srv_connections(srv) < before)
        srv->kicked = true;
    if (srv->kicked) {
        sl_timer_start(srv->run_timer, 0, 0);
        return;
    }
    if (MHD_get_timeout(srv->mhd, &to) == MHD_YES)
        sl_timer_start(srv->run_timer, (uint64_t)to, 0);
    else
        sl_timer_stop(srv->run_timer);
}

/* Make MHD run soon: after something changed that it cannot see. */
static void srv_kick(struct sl_http_server *srv)
{
    if (srv->closing)
        return;
    srv->kicked = true;
    if (!srv->in_run)
        sl_timer_start(srv->run_timer, 0, 0);
}

static void srv_on_mhd_io(void *arg, unsigned events)
{
    (void)events;
    srv_run(arg);
}

static void srv_on_run_timer(void *arg)
{
    srv_run(arg);
}

__attribute__((format(printf, 2, 0))) static void
srv_mhd_log(void *cls, const char *fm, va_list ap)
{
    struct sl_http_server *srv = cls;
    char msg[512];
    size_t n;

    if (SL_LOG_DEBUG > sl_log_threshold)
        return;
    vsnprintf(msg, sizeof(msg), fm, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    SL_LOG(SL_LOG_DEBUG, &srv->log, "libmicrohttpd: %s", msg);
}

/* ---- requests: helpers ---- */

static void req_wait_unlink(struct sl_http_req *req);

static void req_free(struct sl_http_req *req)
{
    struct sl_http_server *srv = req->srv;

    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        srv->reqs = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    if (req->sc != NULL && req->sc->req == req)
        req->sc->req = NULL;
    req_wait_unlink(req);
    sl_io_free(req->hup);
    if (req->resp != NULL)
        MHD_destroy_response(req->resp);
    sl_free(req->hdrs);
    sl_free(req->target);
    sl_free(req->path);
    sl_free(req->method);
    sl_http_query_fini(&req->query);
    sl_buf_fini(&req->body);
    sl_buf_fini(&req->sq);
    sl_http_headers_fini(&req->resp_hdrs);
    sl_free(req);
}

static void req_on_hup(void *arg, unsigned events);

static void req_wait_unlink(struct sl_http_req *req)
{
    struct sl_http_server *srv = req->srv;

    if (!req->hup_wait)
        return;
    if (req->wprev != NULL)
        req->wprev->wnext = req->wnext;
    else
        srv->whead = req->wnext;
    if (req->wnext != NULL)
        req->wnext->wprev = req->wprev;
    else
        srv->wtail = req->wprev;
    req->wprev = req->wnext = NULL;
    req->hup_wait = false;
}

/* Watch the socket of suspended 'req' for the client leaving. */
static void req_watch_hup(struct sl_http_req *req)
{
    const union MHD_ConnectionInfo *ci;

    ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci != NULL)
        req->hup = sl_io_new(req->srv->loop, ci->connect_fd, SL_IO_HUP,
                             req_on_hup, req);
    if (req->hup == NULL)
        SL_LOG(SL_LOG_DEBUG, &req->srv->log,
               "cannot watch a suspended connection from %s", req->peer);
}

/*
 * hup_timer: start the watchers of the requests suspended for
 * SRV_HUP_DELAY_MS or longer, and wait for the next one.
 */
static void srv_on_hup_timer(void *arg)
{
    struct sl_http_server *srv = arg;
    int64_t now = sl_loop_now_ms(srv->loop);

    while (srv->whead != NULL) {
        struct sl_http_req *req = srv->whead;
        int64_t due = req->suspended_ms + SRV_HUP_DELAY_MS;
        if (due > now) {
            sl_timer_start(srv->hup_timer, (uint64_t)(due - now), 0);
            return;
        }
        req_wait_unlink(req);
        req_watch_hup(req);
    }
}

/*
 * Suspend the connection; its socket is watched for the client leaving
 * once it has been suspended for SRV_HUP_DELAY_MS. Most answers come
 * sooner (an append made durable), and a watcher started and stopped for
 * each of them would cost two epoll_ctl calls per request.
 */
static void req_suspend(struct sl_http_req *req)
{
    struct sl_http_server *srv = req->srv;

    MHD_suspend_connection(req->conn);
    req->suspended = true;
    req->suspended_ms = sl_loop_now_ms(srv->loop);
    req->hup_wait = true;
    req->wnext = NULL;
    req->wprev = srv->wtail;
    if (srv->wtail != NULL)
        srv->wtail->wnext = req;
    else
        srv->whead = req;
    srv->wtail = req;
    if (!sl_timer_active(srv->hup_timer))
        sl_timer_start(srv->hup_timer, SRV_HUP_DELAY_MS, 0);
}

static void req_resume(struct sl_http_req *req)
{
    if (!req->suspended)
        return;
    req_wait_unlink(req);
    sl_io_free(req->hup);
    req->hup = NULL;
    req->suspended = false;
    MHD_resume_connection(req->conn);
    srv_kick(req->srv);
}

static void req_on_hup(void *arg, unsigned events)
{
    struct sl_http_req *req = arg;

    (void)events;
    req->peer_gone = true;
    req_resume(req);
}

/* Queue the response built for 'req'. */
static enum MHD_Result req_queue(struct sl_http_req *req)
{
    enum MHD_Result r;

    if (req->resp == NULL)
        return MHD_NO; /* building it failed: close the connection */
    r = MHD_queue_response(req->conn, req->status, req->resp);
    MHD_destroy_response(req->resp);
    req->resp = NULL;
    req->queued = true;
    return r;
}

/* Answer on the server's behalf with a short plain-text message. */
static enum MHD_Result req_reject(struct sl_http_req *req, unsigned status,
                                  const char *msg)
{
    const char *ctype = "text/plain; charset=utf-8";
    struct sl_buf body;

    req->state = REQ_REJECTED;
    req->status = status;
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    if (req->srv->error_body != NULL)
        ctype = req->srv->error_body(req->srv->arg, status, msg, &body);
    else
        sl_buf_appends(&body, msg);
    req->resp = MHD_create_response_from_buffer(
        body.len, (void *)sl_buf_str(&body), MHD_RESPMEM_MUST_COPY);
    sl_buf_fini(&body);
    if (req->resp != NULL)
        MHD_add_response_header(req->resp, "Content-Type", ctype);
    return req_queue(req);
}

/*
 * Copying the request headers: a first pass counts them and their bytes,
 * a second copies them into one allocation (array, then strings).
 */
struct hdr_copy {
    size_t n, bytes; /* first pass */
    size_t i;        /* second pass: next entry */
    char *p, *end;   /* second pass: string space left */
    struct sl_http_header *v;
};

static enum MHD_Result req_count_header(void *cls, enum MHD_ValueKind kind,
                                        const char *key, const char *value)
{
    struct hdr_copy *hc = cls;

    (void)kind;
    if (key == NULL)
        return MHD_YES;
    hc->n++;
    hc->bytes += strlen(key) + 1 + (value ? strlen(value) : 0) + 1;
    return MHD_YES;
}

static char *hdr_put(struct hdr_copy *hc, const char *s)
{
    size_t len = strlen(s);
    char *out = hc->p;

    memcpy(out, s, len + 1);
    hc->p += len + 1;
    return out;
}

static enum MHD_Result req_copy_header(void *cls, enum MHD_ValueKind kind,
                                       const char *key, const char *value)
{
    struct hdr_copy *hc = cls;

    (void)kind;
    if (key == NULL)
        return MHD_YES;
    if (value == NULL)
        value = "";
    /* The same list as the first pass; stop rather than overflow. */
    if (hc->i == hc->n ||
        strlen(key) + strlen(value) + 2 > (size_t)(hc->end - hc->p))
        return MHD_NO;
    hc->v[hc->i].name = hdr_put(hc, key);
    hc->v[hc->i].value = hdr_put(hc, value);
    hc->i++;
    return MHD_YES;
}

static void req_collect_headers(struct sl_http_req *req)
{
    struct hdr_copy hc = { 0 };
    char *mem;

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, req_count_header,
                              &hc);
    if (hc.n == 0)
        return;
    mem = sl_xmalloc(hc.n * sizeof(*hc.v) + hc.bytes);
    hc.v = (struct sl_http_header *)(void *)mem;
    hc.p = mem + hc.n * sizeof(*hc.v);
    hc.end = hc.p + hc.bytes;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, req_copy_header, &hc);
    req->hdrs = hc.v;
    req->nhdrs = hc.i;
}

/* The path of a request-target, raw, without query or fragment. */
static char *req_target_path(const char *t)
{
    const char *p = t, *s;

    if (t[0] != '/') {
        s = strstr(t, "://");
        if (s != NULL && strcspn(t, "/?#") > (size_t)(s - t)) {
            p = s + 3 + strcspn(s + 3, "/?#");
            if (*p != '/')
                return sl_xstrdup("/");
        }
    }
    return sl_xstrndup(p, strcspn(p, "?#"));
}

static void req_format_peer(const struct sockaddr *sa, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN];

    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(out, n, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "unknown");
    }
}

/* ---- MHD callbacks ---- */

static void srv_conn_head_timeout(void *arg)
{
    struct srv_conn *sc = arg;

    SL_LOG(SL_LOG_DEBUG, &sc->srv->log,
           "closing a connection that sent no complete request head in %u s",
           sc->srv->head_timeout_s);
    /* MHD sees end of file on its next read and closes the connection. */
    (void)shutdown(sc->fd, SHUT_RDWR);
    srv_kick(sc->srv);
}

static void srv_conn_notify(void *cls, struct MHD_Connection *conn,
                            void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
    struct sl_http_server *srv = cls;
    struct srv_conn *sc;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        sc = sl_xcalloc(1, sizeof(*sc));
        sc->srv = srv;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        sc->fd = ci != NULL ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        req_format_peer(ci ? ci->client_addr : NULL, sc->peer,
                        sizeof(sc->peer));
        sc->head_timer = sl_timer_new(srv->loop, srv_conn_head_timeout, sc);
        if (sc->fd >= 0)
            sl_timer_start(sc->head_timer, (uint64_t)srv->head_timeout_s * 1000,
                           0);
        *socket_context = sc;
        return;
    }
    sc = *socket_context;
    *socket_context = NULL;
    if (sc == NULL)
        return;
    if (sc->req != NULL)
        sc->req->sc = NULL;
    sl_timer_free(sc->head_timer);
    sl_free(sc);
}

static void *srv_uri_log(void *cls, const char *uri,
                         struct MHD_Connection *conn)
{
    struct sl_http_server *srv = cls;
    struct sl_http_req *req = sl_xcalloc(1, sizeof(*req));
    const union MHD_ConnectionInfo *ci;
    const char *q;

    req->srv = srv;
    req->conn = conn;
    req->state = REQ_HEAD;
    req->target = sl_xstrdup(uri ? uri : "");
    req->path = req_target_path(req->target);
    q = strchr(req->target, '?');
    if (q != NULL)
        (void)sl_http_query_parse(q + 1, strcspn(q + 1, "#"), &req->query);
    sl_buf_init(&req->body, srv->max_body);
    sl_buf_init(&req->sq, srv->stream_queue);
    sl_http_headers_init(&req->resp_hdrs);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->sc = ci != NULL ? ci->socket_context : NULL;
    if (req->sc != NULL) {
        req->sc->req = req;
        memcpy(req->peer, req->sc->peer, sizeof(req->peer));
    } else {
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        req_format_peer(ci ? ci->client_addr : NULL, req->peer,
                        sizeof(req->peer));
    }
    req->next = srv->reqs;
    if (srv->reqs != NULL)
        srv->reqs->prev = req;
    srv->reqs = req;
    return req;
}

static void srv_completed(void *cls, struct MHD_Connection *conn,
                          void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct sl_http_server *srv = cls;
    struct sl_http_req *req = *con_cls;

    (void)conn;
    *con_cls = NULL;
    if (req == NULL)
        return;
    /* The next request on this connection gets a fresh head deadline. */
    if (req->sc != NULL && !srv->closing)
        sl_timer_start(req->sc->head_timer,
                       (uint64_t)srv->head_timeout_s * 1000, 0);
    if (req->state == REQ_PENDING || req->state == REQ_STREAM) {
        SL_LOG(SL_LOG_DEBUG, &srv->log,
               "%s %s from %s ended before its answer (code %d)",
               req->method ? req->method : "-", req->path, req->peer, (int)toe);
        req->state = REQ_CLOSED;
        if (req->on_close != NULL)
            req->on_close(req->close_arg, req);
    }
    req_free(req);
}

/* First access-handler call: the head is complete. */
static enum MHD_Result req_head_done(struct sl_http_req *req,
                                     const char *method)
{
    struct sl_http_server *srv = req->srv;
    const char *cl;
    int64_t n;

    req->method = sl_xstrdup(method ? method : "");
    req_collect_headers(req);
    if (req->sc != NULL)
        sl_timer_stop(req->sc->head_timer);
    cl = sl_http_req_header(req, "Content-Length");
    if (cl != NULL &&
        sl_str_to_i64(cl, strlen(cl), false, 0, INT64_MAX, &n) == 0 &&
        (uint64_t)n > srv->max_body) {
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "request body of %lld bytes exceeds the limit of %zu bytes\n",
                 (long long)n, srv->max_body);
        return req_reject(req, 413, msg);
    }
    req->state = REQ_BODY;
    return MHD_YES;
}

/* The whole request is in: hand it to the handler. */
static enum MHD_Result req_dispatch(struct sl_http_req *req)
{
    req->state = REQ_HANDLER;
    req->in_handler = true;
    req->srv->handler(req->srv->arg, req);
    req->in_handler = false;
    if (req->state == REQ_HANDLER) {
        req->state = REQ_PENDING;
        req_suspend(req);
        return MHD_YES;
    }
    return req_queue(req);
}

static enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct sl_http_req *req = *con_cls;
    size_t n = *upload_data_size;
    char msg[128];

    (void)cls;
    (void)conn;
    (void)url;
    (void)version;
    if (req == NULL)
        return MHD_NO; /* no URI-log call: cannot happen with MHD 0.9.75 */
    switch (req->state) {
    case REQ_HEAD:
        return req_head_done(req, method);
    case REQ_BODY:
        if (n == 0)
            return req_dispatch(req);
        *upload_data_size = 0;
        if (sl_buf_append(&req->body, upload_data, n) == 0)
            return MHD_YES;
        req->discarded = req->body.len + n;
        sl_buf_fini(&req->body); /* nothing of it will be used */
        sl_buf_init(&req->body, req->srv->max_body);
        req->state = REQ_DISCARD;
        return MHD_YES;
    case REQ_DISCARD:
        if (n == 0) {
            snprintf(msg, sizeof(msg),
                     "request body exceeds the limit of %zu bytes\n",
                     req->srv->max_body);
            return req_reject(req, 413, msg);
        }
        *upload_data_size = 0;
        req->discarded += n;
        return req->discarded - req->srv->max_body > SRV_DRAIN_MAX ? MHD_NO
                                                                   : MHD_YES;
    case REQ_PENDING:
        /* Resumed without an answer: the client left, or spuriously. */
        if (req->peer_gone)
            return MHD_NO;
        req_suspend(req);
        return MHD_YES;
    case REQ_ANSWERED:
    case REQ_STREAM:
    case REQ_STREAM_END:
        /* Resumed with an answer built outside the handler. */
        return req->queued ? MHD_YES : req_queue(req);
    default:
        return MHD_NO;
    }
}

/* ---- the request: accessors ---- */

const char *sl_http_req_method(const struct sl_http_req *req)
{
    return req->method ? req->method : "";
}

const char *sl_http_req_target(const struct sl_http_req *req)
{
    return req->target;
}

const char *sl_http_req_path(const struct sl_http_req *req)
{
    return req->path;
}

const char *sl_http_req_query(const struct sl_http_req *req, const char *name)
{
    return sl_http_query_get(&req->query, name);
}

const char *sl_http_req_header(const struct sl_http_req *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->nhdrs; i++)
        if (sl_str_eq_ci(req->hdrs[i].name, name))
            return req->hdrs[i].value;
    return NULL;
}

const struct sl_http_header *sl_http_req_headers(const struct sl_http_req *req,
                                                 size_t *pn)
{
    *pn = req->nhdrs;
    return req->hdrs;
}

const void *sl_http_req_body(const struct sl_http_req *req, size_t *plen)
{
    *plen = req->body.len;
    return req->body.data != NULL ? req->body.data : "";
}

const char *sl_http_req_peer(const struct sl_http_req *req)
{
    return req->peer;
}

void sl_http_req_on_close(struct sl_http_req *req, sl_http_close_fn *fn,
                          void *arg)
{
    req->on_close = fn;
    req->close_arg = arg;
}

/* ---- answering ---- */

static bool resp_is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || strchr(extra, c) != NULL))
            return false;
    }
    return true;
}

static bool resp_is_value(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

int sl_http_resp_header(struct sl_http_req *req, const char *name,
                        const char *value)
{
    if (!resp_is_token(name) || !resp_is_value(value) || value[0] == '\0' ||
        sl_str_eq_ci(name, "Content-Length") ||
        sl_str_eq_ci(name, "Transfer-Encoding"))
        return SL_EINVAL;
    sl_http_headers_add(&req->resp_hdrs, name, value);
    return 0;
}

/* Attach the collected headers and the Content-Type to 'resp'. */
static void resp_add_headers(struct sl_http_req *req, struct MHD_Response *resp,
                             const char *content_type)
{
    size_t i;

    for (i = 0; i < req->resp_hdrs.n; i++)
        if (MHD_add_response_header(resp, req->resp_hdrs.v[i].name,
                                    req->resp_hdrs.v[i].value) != MHD_YES)
            SL_LOG(SL_LOG_DEBUG, &req->srv->log,
                   "libmicrohttpd refused response header '%s'",
                   req->resp_hdrs.v[i].name);
    if (content_type != NULL)
        MHD_add_response_header(resp, "Content-Type", content_type);
}

/* Check the handler may answer 'req' now; abort on misuse. */
static void req_check_answerable(const struct sl_http_req *req, const char *fn)
{
    if (req->state != REQ_HANDLER && req->state != REQ_PENDING) {
        fprintf(stderr, "sluice: %s: request already answered or closed\n", fn);
        abort();
    }
}

/* The response is built: queue it now (handler) or after resuming. */
static void req_answered(struct sl_http_req *req)
{
    if (!req->in_handler)
        req_resume(req);
}

int sl_http_respond(struct sl_http_req *req, unsigned status,
                    const char *content_type, const void *body, size_t len)
{
    static const char bad[] = "internal error: invalid response status\n";
    int rc = 0;

    req_check_answerable(req, "sl_http_respond");
    if (status < 200 || status > 599) {
        rc = SL_EINVAL;
        status = 500;
        content_type = "text/plain; charset=utf-8";
        body = bad;
        len = sizeof(bad) - 1;
    }
    if (status == 204 || status == 304 || body == NULL)
        len = 0;
    req->resp = MHD_create_response_from_buffer(
        len, len ? (void *)body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (req->resp != NULL)
        resp_add_headers(req, req->resp, content_type);
    req->status = status;
    req->state = REQ_ANSWERED;
    req_answered(req);
    return rc;
}

static ssize_t req_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sl_http_req *req = cls;
    size_t avail = req->sq.len - req->sq_off;

    (void)pos;
    if (req->peer_gone || req->srv->closing)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (avail > 0) {
        size_t n = avail < max ? avail : max;
        memcpy(buf, req->sq.data + req->sq_off, n);
        req->sq_off += n;
        if (req->sq_off == req->sq.len) {
            sl_buf_reset(&req->sq);
            req->sq_off = 0;
        }
        return (ssize_t)n;
    }
    if (req->state == REQ_STREAM_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing to send: park the connection until a write or the end. */
    req_suspend(req);
    return 0;
}

int sl_http_stream_begin(struct sl_http_req *req, unsigned status,
                         const char *content_type)
{
    req_check_answerable(req, "sl_http_stream_begin");
    if (status < 200 || status > 599 || status == 204 || status == 304)
        return SL_EINVAL;
    req->resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, SRV_STREAM_BLOCK, req_stream_read, req, NULL);
    if (req->resp != NULL)
        resp_add_headers(req, req->resp, content_type);
    req->status = status;
    req->state = REQ_STREAM;
    req_answered(req);
    return 0;
}

int sl_http_stream_write(struct sl_http_req *req, const void *data, size_t len)
{
    if (req->state != REQ_STREAM)
        return SL_EINVAL;
    if (len == 0)
        return 0;
    /* Move the unsent tail to the front so the limit counts only it. */
    if (req->sq_off > 0) {
        memmove(req->sq.data, req->sq.data + req->sq_off,
                req->sq.len - req->sq_off);
        req->sq.len -= req->sq_off;
        req->sq.data[req->sq.len] = '\0';
        req->sq_off = 0;
    }
    if (sl_buf_append(&req->sq, data, len) < 0)
        return SL_ETOOBIG;
    if (req->suspended)
        req_resume(req);
    return 0;
}

void sl_http_stream_end(struct sl_http_req *req)
{
    if (req->state != REQ_STREAM)
        srv_misuse("sl_http_stream_end: request is not streaming");
    req->state = REQ_STREAM_END;
    if (req->suspended)
        req_resume(req);
}

/* ---- the server ---- */

static int srv_listen(const char *addr, int *pfd, unsigned *pport,
                      struct sl_diag *d)
{
    char host[256], portstr[8];
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    unsigned port;
    int fd = -1, e = 0, one = 1, rc, gai;

    rc = sl_http_hostport_split(addr, host, sizeof(host), &port, d);
    if (rc < 0)
        return rc;
    snprintf(portstr, sizeof(portstr), "%u", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0)
        return sl_diag_set(d, SL_EIO, "", "cannot resolve '%s': %s", host,
                           gai_strerror(gai));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, SRV_BACKLOG) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sl_diag_set(d, e == EADDRINUSE ? SL_EBUSY : sl_err_from_errno(e),
                           "", "cannot listen on '%s': %s", addr, strerror(e));
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        e = errno;
        close(fd);
        return sl_diag_set(d, sl_err_from_errno(e), "",
                           "cannot listen on '%s': %s", addr, strerror(e));
    }
    if (ss.ss_family == AF_INET6)
        *pport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        *pport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *pfd = fd;
    return 0;
}

int sl_http_server_new(struct sl_loop *loop,
                       const struct sl_http_server_opts *opts,
                       sl_http_handler_fn *handler, void *arg,
                       struct sl_http_server **out, struct sl_diag *d)
{
    static const struct sl_http_server_opts none;
    struct sl_http_server *srv;
    const union MHD_DaemonInfo *di;
    const char *listen_addr;
    unsigned max_conn, conn_timeout;
    size_t mem;
    int rc;

    *out = NULL;
    if (opts == NULL)
        opts = &none;
    listen_addr = opts->listen ? opts->listen : SRV_DEFAULT_LISTEN;
    srv = sl_xcalloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->listen_fd = -1;
    srv->handler = handler;
    srv->arg = arg;
    srv->error_body = opts->error_body;
    srv->max_body =
        opts->max_body_bytes ? opts->max_body_bytes : SL_HTTP_DEFAULT_MAX_BODY;
    srv->stream_queue = opts->stream_queue_bytes ? opts->stream_queue_bytes
                                                 : SRV_DEFAULT_STREAM_QUEUE;
    srv->head_timeout_s = opts->header_timeout_s ? opts->header_timeout_s
                                                 : SRV_DEFAULT_HEAD_TIMEOUT;
    max_conn =
        opts->max_connections ? opts->max_connections : SRV_DEFAULT_MAX_CONN;
    conn_timeout =
        opts->conn_timeout_s ? opts->conn_timeout_s : SRV_DEFAULT_CONN_TIMEOUT;
    mem = opts->conn_memory_bytes ? opts->conn_memory_bytes
                                  : SRV_DEFAULT_CONN_MEMORY;
    if (mem < SRV_MIN_CONN_MEMORY)
        mem = SRV_MIN_CONN_MEMORY;
    sl_log_ctx_init(&srv->log, "http", NULL, opts->name ? opts->name : "http");

    rc = srv_listen(listen_addr, &srv->listen_fd, &srv->port, d);
    if (rc < 0)
        goto out;
    srv->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, srv_access, srv, MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        max_conn, MHD_OPTION_CONNECTION_TIMEOUT, conn_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_NOTIFY_COMPLETED,
        srv_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, srv_conn_notify, srv,
        MHD_OPTION_URI_LOG_CALLBACK, srv_uri_log, srv, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        rc = sl_diag_set(d, SL_EIO, "",
                         "cannot start the HTTP server on '%s': "
                         "libmicrohttpd refused",
                         listen_addr);
        goto out;
    }
    di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    srv->run_timer = sl_timer_new(loop, srv_on_run_timer, srv);
    srv->hup_timer = sl_timer_new(loop, srv_on_hup_timer, srv);
    srv->mhd_io = di != NULL ? sl_io_new(loop, di->epoll_fd, SL_IO_READ,
                                         srv_on_mhd_io, srv)
                             : NULL;
    if (srv->mhd_io == NULL) {
        rc = sl_diag_set(d, SL_EIO, "",
                         "cannot start the HTTP server on '%s': cannot watch "
                         "libmicrohttpd's epoll descriptor",
                         listen_addr);
        goto out;
    }
    srv_run(srv); /* arms the timer if MHD wants one */
    SL_LOG(SL_LOG_DEBUG, &srv->log, "listening on %s (port %u)", listen_addr,
           srv->port);
    *out = srv;
    srv = NULL;
out:
    if (srv != NULL) {
        sl_timer_free(srv->run_timer);
        sl_timer_free(srv->hup_timer);
        if (srv->mhd != NULL)
            MHD_stop_daemon(srv->mhd); /* closes the listen socket */
        else if (srv->listen_fd >= 0)
            close(srv->listen_fd);
        sl_free(srv);
    }
    return rc;
}

unsigned sl_http_server_port(const struct sl_http_server *srv)
{
    return srv->port;
}

void sl_http_server_free(struct sl_http_server *srv)
{
    struct sl_http_req *req;

    if (srv == NULL)
        return;
    if (srv->in_run)
        srv_misuse("sl_http_server_free called from one of the server's own "
                   "callbacks");
    srv->closing = true;
    /* MHD refuses to stop with suspended connections: resume them all. */
    for (req = srv->reqs; req != NULL; req = req->next) {
        if (!req->suspended)
            continue;
        req_wait_unlink(req);
        sl_io_free(req->hup);
        req->hup = NULL;
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
    sl_io_free(srv->mhd_io);
    srv->in_run = true; /* callbacks run inside MHD_stop_daemon */
    MHD_stop_daemon(srv->mhd);
    srv->in_run = false;
    /* MHD reports every request it knew of; nothing should remain. */
    while (srv->reqs != NULL) {
        req = srv->reqs;
        if (req->state == REQ_PENDING || req->state == REQ_STREAM) {
            req->state = REQ_CLOSED;
            if (req->on_close != NULL)
                req->on_close(req->close_arg, req);
        }
        req_free(req);
    }
    sl_timer_free(srv->run_timer);
    sl_timer_free(srv->hup_timer);
    sl_free(srv);
}
