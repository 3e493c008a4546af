/*
 * broker/ingress.c - the broker ingress: route, decode, stamp, append,
 * answer once durable.
 *
 * A POST that passes every check becomes a 'struct ing_pending': it holds
 * the request (until answered or until the client leaves) and is the
 * argument of the append's done callback, which always runs (backend
 * contract) and frees it. The request and the ingress may each go away
 * before that: on_close clears 'req', sl_ingress_free() clears 'ing' in
 * every pending still listed, and done then only frees.
 *
 * A backend whose class is flagged SL_BACKEND_F_PLAIN (a KafkaSink) is a
 * sink, not a broker: its events are appended as received, without the
 * arrival time and the TTL rule, and answers name it a "sink".
 */
#include "broker/ingress.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics_kn.h"
#include "core/str.h"
#include "core/time.h"

#include "proto/event.h"
#include "proto/http.h"

#include "net/server.h"
#include "net/url.h"

#include "broker/backend.h"

#define ING_ALLOW        "POST, OPTIONS"
#define ING_TEXT         "text/plain; charset=utf-8"
#define ING_DEFAULT_ADDR "127.0.0.1:8080"
#define ING_DEFAULT_TTL  255
#define ING_ARRIVAL      "knativearrivaltime"
#define ING_TTL          "knativebrokerttl"
#define ING_SCHEME       "http" /* event_scheme: the listener has no TLS */

struct ing_pending;

struct sl_ingress {
    struct sl_loop *loop;
    struct sl_http_server *srv;
    size_t max_event_size;
    int32_t max_ttl;
    sl_ingress_lookup_fn *lookup;
    void *lookup_arg;
    struct ing_pending *pending;        /* appends in flight (doubly linked) */
    struct sl_metrics_ingress *metrics; /* NULL: no metrics */
    struct sl_ingress_stats stats;
    struct sl_log_ctx log;
};

struct ing_pending {
    struct sl_ingress *ing;  /* NULL once the ingress is freed */
    struct sl_http_req *req; /* NULL once answered or gone */
    struct ing_pending *prev, *next;
    size_t n;         /* events in the append */
    bool in_append;   /* inside sl_backend_append() */
    bool completed;   /* done ran inside sl_backend_append() */
    int rc;           /* its rc then */
    const char *what; /* "broker" or "sink" (ing_what) */
    char broker[64];  /* "ns/name" for log lines (cut when long) */
    /* For the metrics (only with ing->metrics): when the request was
     * handled, the broker's names and a reference to each event. */
    int64_t t0;
    const char *ns, *name; /* in the same allocation, after ev[] */
    struct sl_event *ev[];
};

/* Answer with a one-line plain-text message (printf format) + newline. */
static void ing_fail(struct sl_ingress *ing, struct sl_http_req *req,
                     unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ing_fail(struct sl_ingress *ing, struct sl_http_req *req,
                     unsigned status, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 64];
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    if ((size_t)len > sizeof(msg) - 2)
        len = (int)sizeof(msg) - 2;
    msg[len++] = '\n';
    msg[len] = '\0';
    if (status >= 500)
        ing->stats.failed++;
    else
        ing->stats.rejected++;
    SL_LOG(SL_LOG_DEBUG, &ing->log, "%s %s: %u %s", sl_http_req_method(req),
           sl_http_req_path(req), status, msg);
    sl_http_respond(req, status, ING_TEXT, msg, (size_t)len);
}

/*
 * Count the events of one answer with HTTP status 'code': one per event
 * of v[0..n), or one without an event type when 'n' is 0 (nothing could
 * be read). 't0' is when the request was handled (monotonic ns).
 */
static void ing_metric(struct sl_ingress *ing, const char *ns, const char *name,
                       struct sl_event *const *v, size_t n, unsigned code,
                       int64_t t0)
{
    int64_t lat;
    size_t i;

    if (ing->metrics == NULL)
        return;
    lat = sl_time_mono_ns() - t0;
    if (n == 0)
        sl_metrics_ingress_record(ing->metrics, ns, name, "", ING_SCHEME, code,
                                  lat);
    for (i = 0; i < n; i++) {
        const char *type = sl_event_type(v[i]);

        sl_metrics_ingress_record(ing->metrics, ns, name, type ? type : "",
                                  ING_SCHEME, code, lat);
    }
}

/* What the answers call the target of 'b': a broker, or a plain sink. */
static const char *ing_what(const struct sl_backend *b)
{
    return (b->ops->flags & SL_BACKEND_F_PLAIN) != 0 ? "sink" : "broker";
}

/* ---- stamping: arrival time and TTL ---- */

/*
 * Set knativearrivaltime and apply the TTL rule to 'ev'. Returns 0, or
 * SL_EINVAL with 'd' naming the attribute (TTL exhausted).
 */
static int ing_stamp(struct sl_ingress *ing, struct sl_event *ev,
                     const char *arrival, struct sl_diag *d)
{
    const struct sl_ce_attr *a;
    int64_t ttl;
    int rc;

    rc = sl_event_set(ev, ING_ARRIVAL, SL_CE_TIME, arrival, strlen(arrival), d);
    if (rc < 0)
        return rc;
    a = sl_event_get(ev, ING_TTL);
    if (a == NULL ||
        sl_str_to_i64(a->value, a->len, true, INT32_MIN, INT32_MAX, &ttl) != 0)
        return sl_event_set_int(ev, ING_TTL, ing->max_ttl, d);
    ttl = ttl > 0 ? ttl - 1 : 0;
    if (ttl <= 0)
        return sl_diag_set(d, SL_EINVAL, ING_TTL,
                           "TTL exhausted (was %s): the event is dropped to "
                           "stop a delivery loop",
                           a->value);
    return sl_event_set_int(ev, ING_TTL, (int32_t)ttl, d);
}

/* ---- the pending append ---- */

static void ing_pending_unlink(struct ing_pending *p)
{
    if (p->ing == NULL)
        return;
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        p->ing->pending = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

/* The client went away (or the server is being freed) before the answer. */
static void ing_req_gone(void *arg, struct sl_http_req *req)
{
    struct ing_pending *p = arg;

    (void)req;
    p->req = NULL;
    if (p->ing != NULL)
        p->ing->stats.waiting--;
}

/* The append finished: answer (when someone still listens) and free. */
static void ing_finish(struct ing_pending *p, int rc)
{
    struct sl_ingress *ing = p->ing;
    unsigned code = rc == 0 ? 202 : rc == SL_ETOOBIG ? 413 : 503;
    size_t i;

    if (ing != NULL && rc == 0)
        ing->stats.events += p->n;
    if (p->req != NULL) {
        sl_http_req_on_close(p->req, NULL, NULL);
        ing->stats.waiting--;
        if (rc == 0) {
            ing->stats.accepted++;
            sl_http_respond(p->req, 202, NULL, NULL, 0);
        } else if (rc == SL_ETOOBIG) {
            ing_fail(ing, p->req, 413, "an event exceeds the limit of %s %s",
                     p->what, p->broker);
        } else {
            SL_LOG(SL_LOG_WARN, &ing->log, "cannot store events for %s: %s",
                   p->broker, sl_strerror(rc));
            ing_fail(ing, p->req, 503, "%s %s cannot store the event: %s",
                     p->what, p->broker, sl_strerror(rc));
        }
    } else if (ing != NULL) {
        ing->stats.abandoned++;
    }
    /* Counted also when the client left: the events were received and
     * this is what they were answered with. */
    if (ing != NULL && p->ns != NULL)
        ing_metric(ing, p->ns, p->name, p->ev, p->n, code, p->t0);
    if (p->ns != NULL)
        for (i = 0; i < p->n; i++)
            sl_event_unref(p->ev[i]);
    ing_pending_unlink(p);
    sl_free(p);
}

static void ing_append_done(void *arg, int rc)
{
    struct ing_pending *p = arg;

    if (p->in_append) {
        p->completed = true;
        p->rc = rc;
        return;
    }
    ing_finish(p, rc);
}

/* Start the append of v[0..n) to 'b' for 'req' (which it answers). */
static void ing_append(struct sl_ingress *ing, struct sl_http_req *req,
                       struct sl_backend *b, const char *ns, const char *name,
                       struct sl_event *const *v, size_t n, int64_t t0)
{
    size_t nl = strlen(ns) + 1, ml = strlen(name) + 1, extra = 0, i;
    struct ing_pending *p;
    int rc;

    if (ing->metrics != NULL)
        extra = n * sizeof(p->ev[0]) + nl + ml;
    p = sl_xcalloc(1, sizeof(*p) + extra);
    if (ing->metrics != NULL) {
        char *names = (char *)&p->ev[n];

        for (i = 0; i < n; i++)
            p->ev[i] = sl_event_ref(v[i]);
        memcpy(names, ns, nl);
        memcpy(names + nl, name, ml);
        p->ns = names;
        p->name = names + nl;
        p->t0 = t0;
    }
    p->ing = ing;
    p->req = req;
    p->n = n;
    p->what = ing_what(b);
    snprintf(p->broker, sizeof(p->broker), "%s/%s", ns, name);
    p->next = ing->pending;
    if (p->next != NULL)
        p->next->prev = p;
    ing->pending = p;
    sl_http_req_on_close(req, ing_req_gone, p);
    ing->stats.waiting++;
    p->in_append = true;
    rc = sl_backend_append(b, v, n, ing_append_done, p);
    p->in_append = false;
    if (rc == 0) {
        if (p->completed)
            ing_finish(p, p->rc);
        return;
    }
    /* Refused now: done will not run. */
    sl_http_req_on_close(req, NULL, NULL);
    ing->stats.waiting--;
    ing_pending_unlink(p);
    if (p->ns != NULL)
        for (i = 0; i < n; i++)
            sl_event_unref(p->ev[i]);
    sl_free(p);
    switch (rc) {
    case SL_ETOOBIG:
        ing_fail(ing, req, 413, "an event exceeds the limit of %s %s/%s",
                 ing_what(b), ns, name);
        break;
    case SL_EAGAIN:
        ing_fail(ing, req, 503, "%s %s/%s is not ready: its log is not open",
                 ing_what(b), ns, name);
        break;
    default:
        ing_fail(ing, req, 503, "%s %s/%s cannot store the event: %s",
                 ing_what(b), ns, name, sl_strerror(rc));
        break;
    }
    ing_metric(ing, ns, name, v, n, rc == SL_ETOOBIG ? 413 : 503, t0);
}

/* ---- the POST ---- */

static void ing_post(struct sl_ingress *ing, struct sl_http_req *req,
                     const char *ns, const char *name, int64_t t0)
{
    struct sl_ce_opts copts = { .max_event_size = ing->max_event_size };
    struct sl_event_list evs;
    enum sl_ce_mode mode = SL_CE_BINARY_MODE;
    struct sl_http_msg msg;
    struct sl_timestamp now;
    struct sl_backend *b;
    char arrival[SL_TIME_RFC3339_MAX];
    struct sl_diag d;
    char where[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 32];
    int why = SL_ENOENT;
    size_t left_out;
    int rc;

    b = ing->lookup(ing->lookup_arg, ns, name, &why);
    if (b == NULL) {
        /* An unknown broker's name is the client's: not a label value. */
        if (why == SL_ENOENT) {
            ing_fail(ing, req, 404, "broker %s/%s not found", ns, name);
            ing_metric(ing, "", "", NULL, 0, 404, t0);
        } else {
            ing_fail(ing, req, 503, "broker %s/%s is not available: %s", ns,
                     name, sl_strerror(why));
            ing_metric(ing, ns, name, NULL, 0, 503, t0);
        }
        return;
    }

    msg.headers = sl_http_req_headers(req, &msg.nheaders);
    msg.body = sl_http_req_body(req, &msg.body_len);
    sl_event_list_init(&evs);
    sl_diag_clear(&d);
    rc = sl_ce_http_decode(&msg, &copts, &evs, &mode, &d);
    if (rc < 0) {
        sl_diag_format(&d, where, sizeof(where));
        if (rc == SL_ENOTSUP)
            ing_fail(ing, req, 415, "unsupported event format: %s", where);
        else if (rc == SL_ETOOBIG)
            ing_fail(ing, req, 413, "event too large: %s", where);
        else
            ing_fail(ing, req, 400, "invalid event: %s", where);
        ing_metric(ing, ns, name, NULL, 0,
                   rc == SL_ENOTSUP   ? 415
                   : rc == SL_ETOOBIG ? 413
                                      : 400,
                   t0);
        goto out;
    }
    if (evs.n == 0) {
        /* An empty batch: nothing to make durable. */
        ing->stats.accepted++;
        sl_http_respond(req, 202, NULL, NULL, 0);
        goto out;
    }
    if (evs.n > b->limits.max_batch) {
        ing_fail(ing, req, 413,
                 "batch of %zu events exceeds the limit of %zu of %s %s/%s",
                 evs.n, b->limits.max_batch, ing_what(b), ns, name);
        ing_metric(ing, ns, name, evs.v, evs.n, 413, t0);
        goto out;
    }

    now = sl_time_now();
    sl_time_format_rfc3339(&now, arrival, sizeof(arrival));
    for (size_t i = 0; i < evs.n; i++) {
        /* Every event of the request carries its pass-through headers. */
        left_out =
            sl_ce_http_keep_headers(evs.v[i], msg.headers, msg.nheaders, true);
        if (left_out > 0 && i == 0) {
            ing->stats.headers_dropped += left_out;
            SL_LOG(SL_LOG_DEBUG, &ing->log,
                   "%s/%s: %zu pass-through header(s) left out (over %d "
                   "headers or %d bytes, or malformed)",
                   ns, name, left_out, SL_EVENT_MAX_HEADERS,
                   SL_EVENT_MAX_HEADER_BYTES);
        }
        sl_diag_clear(&d);
        if ((b->ops->flags & SL_BACKEND_F_PLAIN) == 0 &&
            ing_stamp(ing, evs.v[i], arrival, &d) < 0) {
            if (mode == SL_CE_BATCH_MODE) {
                char idx[32];
                snprintf(idx, sizeof(idx), "[%zu]", i);
                sl_diag_prefix(&d, idx);
            }
            sl_diag_format(&d, where, sizeof(where));
            ing_fail(ing, req, 400, "%s", where);
            ing_metric(ing, ns, name, evs.v, evs.n, 400, t0);
            goto out;
        }
    }
    ing_append(ing, req, b, ns, name, evs.v, evs.n, t0);
out:
    sl_event_list_fini(&evs);
}

/* ---- routing ---- */

static void ing_handle(void *arg, struct sl_http_req *req)
{
    struct sl_ingress *ing = arg;
    const char *method = sl_http_req_method(req);
    struct sl_http_path path;
    int64_t t0 = ing->metrics != NULL ? sl_time_mono_ns() : 0;
    size_t n;

    ing->stats.requests++;
    sl_http_resp_header(req, "Allow", ING_ALLOW);
    if (strcmp(method, "OPTIONS") == 0) {
        sl_http_resp_header(req, "WebHook-Allowed-Origin", "*");
        sl_http_resp_header(req, "WebHook-Allowed-Rate", "*");
        sl_http_respond(req, 200, NULL, NULL, 0);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        ing_fail(ing, req, 405, "method %s not allowed: use POST", method);
        return;
    }
    if (strcmp(sl_http_req_path(req), "/") == 0) {
        ing_fail(ing, req, 404,
                 "no broker in the path: POST to "
                 "/<namespace>/<broker>");
        ing_metric(ing, "", "", NULL, 0, 404, t0);
        return;
    }
    if (sl_http_path_split(sl_http_req_path(req), &path) < 0) {
        sl_http_path_fini(&path);
        ing_fail(ing, req, 400, "malformed path '%s'", sl_http_req_path(req));
        ing_metric(ing, "", "", NULL, 0, 400, t0);
        return;
    }
    n = path.n;
    if (n == 3 && path.seg[2][0] == '\0')
        n = 2; /* one trailing slash */
    if (n != 2 || path.seg[0][0] == '\0' || path.seg[1][0] == '\0') {
        ing_fail(ing, req, 400, "path '%s' is not /<namespace>/<broker>",
                 sl_http_req_path(req));
        ing_metric(ing, "", "", NULL, 0, 400, t0);
        sl_http_path_fini(&path);
        return;
    }
    ing_post(ing, req, path.seg[0], path.seg[1], t0);
    sl_http_path_fini(&path);
}

/* ---- life cycle ---- */

int sl_ingress_new(struct sl_loop *loop, const struct sl_ingress_opts *opts,
                   struct sl_ingress **out, struct sl_diag *diag)
{
    struct sl_http_server_opts so = { 0 };
    struct sl_ingress *ing;
    int rc;

    *out = NULL;
    if (loop == NULL || opts == NULL || opts->lookup == NULL)
        return sl_diag_set(diag, SL_EINVAL, "lookup",
                           "the ingress needs a loop and a lookup callback");
    if (opts->max_ttl < 0)
        return sl_diag_set(diag, SL_EINVAL, "max_ttl",
                           "must not be negative, got %d", (int)opts->max_ttl);
    ing = sl_xcalloc(1, sizeof(*ing));
    ing->loop = loop;
    ing->max_event_size = opts->max_event_size ? opts->max_event_size
                                               : SL_CE_DEFAULT_MAX_EVENT_SIZE;
    ing->max_ttl = opts->max_ttl ? opts->max_ttl : ING_DEFAULT_TTL;
    ing->lookup = opts->lookup;
    ing->lookup_arg = opts->lookup_arg;
    ing->metrics = sl_metrics_ingress_new(opts->metrics);
    sl_log_ctx_init(&ing->log, "ingress", NULL, NULL);

    so.listen = opts->listen ? opts->listen : ING_DEFAULT_ADDR;
    so.max_body_bytes = ing->max_event_size;
    so.max_connections = opts->max_connections;
    so.name = "ingress";
    rc = sl_http_server_new(loop, &so, ing_handle, ing, &ing->srv, diag);
    if (rc < 0) {
        sl_metrics_ingress_free(ing->metrics);
        sl_free(ing);
        return rc;
    }
    *out = ing;
    return 0;
}

unsigned sl_ingress_port(const struct sl_ingress *ing)
{
    return sl_http_server_port(ing->srv);
}

void sl_ingress_stats(const struct sl_ingress *ing,
                      struct sl_ingress_stats *out)
{
    *out = ing->stats;
}

void sl_ingress_free(struct sl_ingress *ing)
{
    struct ing_pending *p, *next;

    if (ing == NULL)
        return;
    /* on_close of every waiting request clears its pending's 'req'. */
    sl_http_server_free(ing->srv);
    for (p = ing->pending; p != NULL; p = next) {
        next = p->next;
        p->ing = NULL;
        p->prev = p->next = NULL;
    }
    sl_metrics_ingress_free(ing->metrics);
    sl_free(ing);
}
