/*
 * sinks/http_sender.c - deliver events to HTTP subscribers on libcurl
 * multi, driven by the loop's watchers and one timer.
 *
 * libcurl tells us which sockets to watch (snd_on_socket: a loop watcher
 * per socket, remembered with curl_multi_assign) and when to wake it
 * (snd_on_curl_timer: the sender's loop timer). Readiness and timer
 * expiry go back through curl_multi_socket_action(); finished transfers
 * are collected afterwards (snd_collect), outside any libcurl callback,
 * so a done callback may start the next request at once. One easy handle
 * per request, recycled through a small pool; connections live in the
 * multi handle's cache and are reused by later requests. This file only
 * moves bytes and maps outcomes to SL_E* codes; the delivery rules live
 * in sinks/retry.c.
 */
#include "sinks/http_sender.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/str.h"
#include "core/time.h"
#include "net/client.h"

#define SND_DEFAULT_MAX_IN_FLIGHT 1000u
#define SND_DEFAULT_IDLE_CONNS    256u
#define SND_DEFAULT_CONNECT_MS    30000L
#define SND_MAX_HEADER_BYTES      (64 * 1024)
#define SND_POOL_MAX              64

/* A socket libcurl asked us to watch. */
struct snd_sock {
    struct sl_sender *s;
    struct sl_io *io;
    curl_socket_t fd;
    struct snd_sock *prev, *next;
};

/* One request in flight. */
struct snd_xfer {
    struct sl_sender *s;
    CURL *h;
    struct curl_slist *list;
    struct sl_buf req_body;
    struct sl_http_headers resp_headers;
    struct sl_buf resp_body;
    size_t header_bytes;
    bool too_big;
    bool headers_too_big;
    sl_send_done_fn *done;
    void *arg;
    int64_t start_ns; /* sl_time_mono_ns() at sl_sender_send */
    char errbuf[CURL_ERROR_SIZE];
    struct snd_xfer *prev, *next;
};

struct sl_sender {
    struct sl_loop *loop;
    struct sl_sender_opts opts;
    CURLM *multi;
    struct sl_timer *timer;
    struct snd_xfer *xfers; /* in flight, newest first */
    size_t inflight;
    struct snd_sock *socks;
    CURL *pool[SND_POOL_MAX];
    size_t npool;
    bool closing;
};

/* ---- lists ---- */

static void xfer_link(struct snd_xfer **head, struct snd_xfer *x)
{
    x->prev = NULL;
    x->next = *head;
    if (*head != NULL)
        (*head)->prev = x;
    *head = x;
}

static void xfer_unlink(struct snd_xfer **head, struct snd_xfer *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        *head = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

/* ---- libcurl's sockets and timer on the loop ---- */

static void snd_collect(struct sl_sender *s);

static void sock_free(struct snd_sock *k)
{
    struct sl_sender *s = k->s;

    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        s->socks = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    sl_io_free(k->io);
    sl_free(k);
}

/* Loop thread: a watched socket is ready. */
static void snd_on_io(void *arg, unsigned events)
{
    struct snd_sock *k = arg;
    struct sl_sender *s = k->s;
    int flags = 0, running = 0;

    if (events & SL_IO_READ)
        flags |= CURL_CSELECT_IN;
    if (events & SL_IO_WRITE)
        flags |= CURL_CSELECT_OUT;
    /* 'k' may be freed inside (CURL_POLL_REMOVE). */
    (void)curl_multi_socket_action(s->multi, k->fd, flags, &running);
    snd_collect(s);
}

/* Loop thread: libcurl's timeout expired. */
static void snd_on_timer(void *arg)
{
    struct sl_sender *s = arg;
    int running = 0;

    (void)curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    snd_collect(s);
}

/* libcurl (CURLMOPT_SOCKETFUNCTION): watch 'fd' for 'what'. */
static int snd_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                         void *socketp)
{
    struct sl_sender *s = userp;
    struct snd_sock *k = socketp;
    unsigned ev = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        /* libcurl forgets its own entry for the socket right after this
         * call (also from inside curl_multi_cleanup), so no
         * curl_multi_assign() back to NULL. */
        if (k != NULL)
            sock_free(k);
        return 0;
    }
    if (what & CURL_POLL_IN)
        ev |= SL_IO_READ;
    if (what & CURL_POLL_OUT)
        ev |= SL_IO_WRITE;
    if (k == NULL) {
        k = sl_xcalloc(1, sizeof(*k));
        k->s = s;
        k->fd = fd;
        k->io = sl_io_new(s->loop, fd, ev, snd_on_io, k);
        if (k->io == NULL) {
            sl_free(k);
            return -1; /* libcurl fails the transfers on this socket */
        }
        k->next = s->socks;
        if (s->socks != NULL)
            s->socks->prev = k;
        s->socks = k;
        (void)curl_multi_assign(s->multi, fd, k);
        return 0;
    }
    return sl_io_set(k->io, ev) < 0 ? -1 : 0;
}

/*
 * libcurl (CURLMOPT_TIMERFUNCTION): call us back in 'ms' (-1: never).
 * libcurl must not be re-entered from here, so this only arms the timer.
 */
static int snd_on_curl_timer(CURLM *multi, long ms, void *userp)
{
    struct sl_sender *s = userp;

    (void)multi;
    if (ms < 0)
        sl_timer_stop(s->timer);
    else
        sl_timer_start(s->timer, (uint64_t)ms, 0);
    return 0;
}

/* ---- per-request callbacks ---- */

static size_t snd_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct snd_xfer *x = ud;
    size_t n = size * nmemb;

    x->header_bytes += n;
    if (x->header_bytes > SND_MAX_HEADER_BYTES) {
        x->headers_too_big = true;
        return 0;
    }
    sl_http_headers_add_line(&x->resp_headers, data, n);
    return n;
}

static size_t snd_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct snd_xfer *x = ud;
    size_t n = size * nmemb, room = x->resp_body.max - x->resp_body.len;

    if (n > room) {
        /* Keep what fits, then stop reading: the body is too big. */
        (void)sl_buf_append(&x->resp_body, data, room);
        x->too_big = true;
        return 0;
    }
    (void)sl_buf_append(&x->resp_body, data, n);
    return n;
}

/* ---- finishing ---- */

/* Map a libcurl failure to an SL_E* code and a message (only here). */
static int snd_map_error(struct snd_xfer *x, CURLcode cc, struct sl_diag *d)
{
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
    const char *url = NULL;
    long os_errno = 0;
    curl_off_t us = 0;

    curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &url);
    if (url == NULL)
        url = "?";
    if (x->headers_too_big)
        return sl_diag_set(d, SL_ETOOBIG, "",
                           "response headers from '%s' exceed %d bytes", url,
                           SND_MAX_HEADER_BYTES);
    curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return sl_diag_set(d, SL_EIO, "", "cannot connect to '%s': %s", url,
                           os_errno ? strerror((int)os_errno) : detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return sl_diag_set(d, SL_EIO, "", "cannot resolve the host of '%s': %s",
                           url, detail);
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &us);
        return sl_diag_set(d, SL_ETIMEDOUT, "",
                           "request to '%s' timed out after %lld ms", url,
                           (long long)(us / 1000));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return sl_diag_set(d, SL_EINVAL, "", "invalid URL '%s': %s", url,
                           detail);
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return sl_diag_set(d, SL_EPROTO, "", "bad response from '%s': %s", url,
                           detail);
    case CURLE_OUT_OF_MEMORY:
        return sl_diag_set(d, SL_ENOMEM, "", "request to '%s' failed: %s", url,
                           detail);
    default:
        return sl_diag_set(d, SL_EIO, "", "request to '%s' failed: %s", url,
                           detail);
    }
}

/*
 * Decide what a 2xx response carried (DESIGN 4.5): an event when its
 * Content-Type says structured or batched mode or a ce-specversion header
 * is present (the rule of Knative's broker filter), decoded with
 * proto/http.h; otherwise any body at all is "not an event".
 */
static void snd_reply(struct snd_xfer *x, struct sl_send_result *res,
                      struct sl_event_list *evs, struct sl_diag *why)
{
    const struct sl_http_headers *h = &x->resp_headers;
    const char *ct = sl_http_headers_get(h, "Content-Type");
    struct sl_http_header *hv;
    struct sl_http_msg msg;
    struct sl_ce_opts opts;
    enum sl_ce_mode mode = SL_CE_BINARY_MODE;
    struct sl_diag d;
    size_t i;
    int rc;

    if (ct != NULL && ct[0] == '\0')
        ct = NULL;
    if (sl_ce_http_mode(ct) == SL_CE_BINARY_MODE &&
        sl_http_headers_get(h, "ce-specversion") == NULL) {
        if (x->resp_body.len == 0 && !x->too_big)
            return;
        res->reply = SL_REPLY_NOT_EVENT;
        sl_diag_set(why, SL_EINVAL, "",
                    "the response has a body but is not a CloudEvent "
                    "(Content-Type '%s', no ce-specversion header)",
                    ct ? ct : "");
        return;
    }
    res->reply = SL_REPLY_NOT_EVENT;
    if (x->too_big) {
        sl_diag_set(why, SL_ETOOBIG, "", "the reply event exceeds %zu bytes",
                    x->resp_body.max);
        return;
    }
    hv = sl_xcalloc(h->n ? h->n : 1, sizeof(*hv));
    for (i = 0; i < h->n; i++) {
        hv[i].name = h->v[i].name;
        hv[i].value = h->v[i].value;
    }
    memset(&msg, 0, sizeof(msg));
    msg.headers = hv;
    msg.nheaders = h->n;
    msg.body = x->resp_body.data ? x->resp_body.data : "";
    msg.body_len = x->resp_body.len;
    memset(&opts, 0, sizeof(opts));
    opts.max_event_size = x->resp_body.max;
    sl_diag_clear(&d);
    rc = sl_ce_http_decode(&msg, &opts, evs, &mode, &d);
    sl_free(hv);
    if (rc == 0 && mode != SL_CE_BATCH_MODE && evs->n == 1) {
        res->reply = SL_REPLY_EVENT;
        res->reply_event = evs->v[0];
        return;
    }
    if (rc == 0)
        sl_diag_set(why, SL_EINVAL, "", "the reply is a batch, not one event");
    else
        sl_diag_set(why, rc, "", "the reply is not a valid CloudEvent: %s%s%s",
                    d.field, d.field[0] ? ": " : "",
                    d.msg[0] ? d.msg : sl_strerror(rc));
}

static void xfer_free(struct snd_xfer *x)
{
    struct sl_sender *s = x->s;

    if (x->h != NULL) {
        if (s->npool < SND_POOL_MAX && !s->closing) {
            curl_easy_reset(x->h);
            s->pool[s->npool++] = x->h;
        } else {
            curl_easy_cleanup(x->h);
        }
    }
    curl_slist_free_all(x->list);
    sl_buf_fini(&x->req_body);
    sl_buf_fini(&x->resp_body);
    sl_http_headers_fini(&x->resp_headers);
    sl_free(x);
}

/*
 * End 'x' with libcurl's result 'cc' (or 'err' SL_ECANCELED): take it out
 * of the multi handle (its connection returns to the cache), report, free.
 */
static void snd_finish(struct snd_xfer *x, CURLcode cc, int err)
{
    struct sl_sender *s = x->s;
    struct sl_send_result res;
    struct sl_http_headers none;
    struct sl_event_list evs;
    struct sl_diag msg, why;
    long code = 0;

    sl_diag_clear(&msg);
    sl_diag_clear(&why);
    memset(&res, 0, sizeof(res));
    sl_event_list_init(&evs);
    sl_http_headers_init(&none);
    (void)curl_multi_remove_handle(s->multi, x->h);
    xfer_unlink(&s->xfers, x);
    s->inflight--;

    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
    if (err == 0 && cc != CURLE_OK &&
        !(cc == CURLE_WRITE_ERROR && x->too_big && code > 0))
        err = snd_map_error(x, cc, &msg);
    if (err == SL_ECANCELED)
        sl_diag_set(&msg, err, "", "request cancelled");
    res.err = err;
    res.errmsg = msg.msg;
    res.reply_error = why.msg;
    res.elapsed_ms = (sl_time_mono_ns() - x->start_ns) / 1000000;
    res.headers = &none;
    res.body = "";
    if (err == 0) {
        res.status = (int)code;
        res.headers = &x->resp_headers;
        res.retry_after = sl_http_headers_get(&x->resp_headers, "Retry-After");
        res.body = sl_buf_str(&x->resp_body);
        res.body_len = x->resp_body.len;
        res.body_too_big = x->too_big;
        if (code >= 200 && code <= 299)
            snd_reply(x, &res, &evs, &why);
    }
    x->done(x->arg, &res);
    sl_event_list_fini(&evs);
    sl_http_headers_fini(&none);
    xfer_free(x);
}

/* Report every transfer libcurl has finished. */
static void snd_collect(struct sl_sender *s)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        CURLcode cc = m->data.result;
        char *p = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
        if (p != NULL)
            snd_finish((struct snd_xfer *)(void *)p, cc, 0);
    }
}

/* ---- the public API ---- */

int sl_sender_new(struct sl_loop *loop, const struct sl_sender_opts *opts,
                  struct sl_sender **out)
{
    struct sl_sender *s;

    *out = NULL;
    if (sl_http_client_global_init() < 0)
        return SL_EIO;
    s = sl_xcalloc(1, sizeof(*s));
    if (opts != NULL)
        s->opts = *opts;
    if (s->opts.max_in_flight == 0)
        s->opts.max_in_flight = SND_DEFAULT_MAX_IN_FLIGHT;
    if (s->opts.max_body == 0)
        s->opts.max_body = SL_CE_DEFAULT_MAX_EVENT_SIZE;
    if (s->opts.max_idle_conns == 0)
        s->opts.max_idle_conns = SND_DEFAULT_IDLE_CONNS;
    if (s->opts.connect_timeout_ms <= 0)
        s->opts.connect_timeout_ms = SND_DEFAULT_CONNECT_MS;
    s->loop = loop;
    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        sl_free(s);
        return SL_EIO;
    }
    s->timer = sl_timer_new(loop, snd_on_timer, s);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, snd_on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, snd_on_curl_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS,
                      (long)s->opts.max_idle_conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)s->opts.max_host_conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)s->opts.max_total_conns);
    *out = s;
    return 0;
}

void sl_sender_free(struct sl_sender *s)
{
    size_t i;

    if (s == NULL)
        return;
    s->closing = true;
    (void)sl_sender_cancel_all(s);
    /* Closes the cached connections; libcurl may still call back into
     * snd_on_socket and snd_on_curl_timer from here. */
    curl_multi_cleanup(s->multi);
    while (s->socks != NULL)
        sock_free(s->socks);
    for (i = 0; i < s->npool; i++)
        curl_easy_cleanup(s->pool[i]);
    sl_timer_free(s->timer);
    sl_free(s);
}

/* An HTTP token (RFC 9110 5.6.2). */
static bool snd_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 32 || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
            return false;
    }
    return true;
}

/* A field value: no control characters but tab. */
static bool snd_value(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 32 && c != '\t') || c == 127)
            return false;
    }
    return true;
}

static bool snd_reserved(const char *name)
{
    static const char *const names[] = {
        "content-type", "content-length", "transfer-encoding",
        "host",         "expect",         NULL
    };
    size_t i;

    for (i = 0; names[i] != NULL; i++)
        if (sl_str_eq_ci(name, names[i]))
            return true;
    return sl_str_prefix_ci(name, "ce-");
}

/* Append 'line' to the list (which libcurl leaves alone on failure). */
static int snd_append(struct curl_slist **list, const char *line)
{
    struct curl_slist *next = curl_slist_append(*list, line);

    if (next == NULL)
        return SL_ENOMEM;
    *list = next;
    return 0;
}

/* Append "name: value" (or "name;" for an empty value) to the list. */
static int snd_add(struct curl_slist **list, struct sl_buf *line,
                   const char *name, const char *value)
{
    sl_buf_reset(line);
    if (value[0] == '\0')
        (void)sl_buf_appendf(line, "%s;", name);
    else
        (void)sl_buf_appendf(line, "%s: %s", name, value);
    return snd_append(list, sl_buf_str(line));
}

/* The request headers of 'rq', the event's first. */
static int snd_headers(const struct sl_send_req *rq,
                       const struct sl_http_headers *ev_hdrs,
                       struct curl_slist **out)
{
    struct curl_slist *list = NULL;
    struct sl_buf line;
    bool has_ct = false;
    size_t i;
    int rc = 0;

    sl_buf_init(&line, SL_BUF_UNLIMITED);
    for (i = 0; i < rq->nheaders; i++) {
        const struct sl_http_header *h = &rq->headers[i];
        if (h->name == NULL || h->value == NULL || !snd_token(h->name) ||
            !snd_value(h->value) || snd_reserved(h->name)) {
            rc = SL_EINVAL;
            goto out;
        }
    }
    if (rq->kn_namespace != NULL && !snd_value(rq->kn_namespace)) {
        rc = SL_EINVAL;
        goto out;
    }
    for (i = 0; rc == 0 && i < ev_hdrs->n; i++) {
        if (sl_str_eq_ci(ev_hdrs->v[i].name, "Content-Type"))
            has_ct = true;
        rc = snd_add(&list, &line, ev_hdrs->v[i].name, ev_hdrs->v[i].value);
    }
    if (rc == 0 && rq->prefer_reply)
        rc = snd_add(&list, &line, "Prefer", "reply");
    if (rc == 0 && rq->kn_namespace != NULL)
        rc = snd_add(&list, &line, "Kn-Namespace", rq->kn_namespace);
    for (i = 0; rc == 0 && i < rq->nheaders; i++)
        rc = snd_add(&list, &line, rq->headers[i].name, rq->headers[i].value);
    /* No 100-continue round trip; no form Content-Type from libcurl when
     * the event has no datacontenttype ("Name:" removes a header). */
    if (rc == 0)
        rc = snd_append(&list, "Expect:");
    if (rc == 0 && !has_ct)
        rc = snd_append(&list, "Content-Type:");
out:
    sl_buf_fini(&line);
    if (rc < 0) {
        curl_slist_free_all(list);
        list = NULL;
    }
    *out = list;
    return rc;
}

int sl_sender_send(struct sl_sender *s, const struct sl_send_req *rq,
                   sl_send_done_fn *done, void *arg)
{
    struct sl_http_headers ev_hdrs;
    struct snd_xfer *x = NULL;
    CURL *h;
    int rc;

    if (s->closing)
        return SL_ECANCELED;
    if (rq == NULL || rq->url == NULL || rq->url[0] == '\0' || rq->ev == NULL ||
        done == NULL ||
        (rq->mode != SL_CE_BINARY_MODE && rq->mode != SL_CE_STRUCTURED_MODE))
        return SL_EINVAL;
    if (s->inflight >= s->opts.max_in_flight)
        return SL_EBUSY;

    x = sl_xcalloc(1, sizeof(*x));
    x->s = s;
    x->done = done;
    x->arg = arg;
    sl_http_headers_init(&x->resp_headers);
    sl_buf_init(&x->resp_body, s->opts.max_body);
    /* The event is already in memory and bounded where it entered. */
    sl_buf_init(&x->req_body, SL_BUF_UNLIMITED);
    sl_http_headers_init(&ev_hdrs);
    rc = sl_ce_http_encode(rq->ev, rq->mode, &ev_hdrs, &x->req_body);
    if (rc == 0)
        rc = snd_headers(rq, &ev_hdrs, &x->list);
    sl_http_headers_fini(&ev_hdrs);
    if (rc < 0)
        goto fail;

    h = s->npool > 0 ? s->pool[--s->npool] : curl_easy_init();
    if (h == NULL) {
        rc = SL_EIO;
        goto fail;
    }
    x->h = h;
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->list);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)x->req_body.len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, sl_buf_str(&x->req_body));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->opts.connect_timeout_ms);
    if (rq->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, snd_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, snd_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    if (curl_multi_add_handle(s->multi, h) != CURLM_OK) {
        rc = SL_EIO;
        goto fail;
    }
    x->start_ns = sl_time_mono_ns();
    xfer_link(&s->xfers, x);
    s->inflight++;
    return 0;
fail:
    xfer_free(x);
    return rc;
}

size_t sl_sender_cancel(struct sl_sender *s, void *arg)
{
    struct snd_xfer *x, *next, *mine = NULL;
    size_t n = 0;

    /* Collect first: a done callback may send or cancel others. */
    for (x = s->xfers; x != NULL; x = next) {
        next = x->next;
        if (x->arg != arg)
            continue;
        xfer_unlink(&s->xfers, x);
        xfer_link(&mine, x);
    }
    while (mine != NULL) {
        x = mine;
        xfer_unlink(&mine, x);
        xfer_link(&s->xfers, x); /* snd_finish unlinks it again */
        snd_finish(x, CURLE_OK, SL_ECANCELED);
        n++;
    }
    return n;
}

size_t sl_sender_cancel_all(struct sl_sender *s)
{
    struct snd_xfer *mine = s->xfers, *x;
    size_t n = 0;

    s->xfers = NULL;
    while (mine != NULL) {
        x = mine;
        xfer_unlink(&mine, x);
        xfer_link(&s->xfers, x);
        snd_finish(x, CURLE_OK, SL_ECANCELED);
        n++;
    }
    return n;
}

size_t sl_sender_in_flight(const struct sl_sender *s)
{
    return s->inflight;
}

bool sl_sender_header_passes(const char *name)
{
    return sl_ce_http_header_passes(name);
}
