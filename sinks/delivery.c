/*
 * sinks/delivery.c - the deliverer of one trigger: HTTP attempts to the
 * subscriber, the retry decision, the dead-letter sink and replies.
 *
 * One struct dl_job per record handed to deliver. A job is in one phase
 * at a time (docs/sinks.md, "Delivery", has the state machine):
 *
 *   SUB_SEND   a request to the subscriber is in flight in the sender
 *   SUB_BUSY   the sender said SL_EBUSY; a timer sends again shortly
 *   APPEND     the reply is being appended to the broker log
 *   DLS_SEND   a request to the dead-letter sink is in flight
 *   DLS_WAIT   a timer waits for the next dead-letter attempt (backoff,
 *              or SL_EBUSY)
 *
 * Live jobs are found by the dispatcher's job pointer (cancel) in a map
 * keyed by that pointer. A job cancelled during APPEND cannot be freed
 * yet (the append's done callback will run with it): it leaves the map
 * for the 'zombies' list, marked cancelled, and the append's completion
 * frees it. sl_delivery_free() orphans zombies (dl = NULL) so that a
 * completion arriving later only frees the job.
 *
 * The event sent to the subscriber is the record's event without
 * knativebrokerttl. Rather than cloning it for every attempt (a deep
 * copy of every attribute and of the data), a shallow view is built on
 * the stack for the duration of sl_sender_send(), which encodes the
 * event during the call and keeps nothing: the view shares the names,
 * values and data of the record's event and lists every attribute but
 * the TTL.
 *
 * The event's transport headers (proto/event.h) go with every request
 * for it, to the subscriber and to the dead-letter sink; a reply gets
 * its own (dl_reply_headers).
 */
#include "sinks/delivery.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/metrics_kn.h"
#include "core/str.h"
#include "core/time.h"

#include "proto/event.h"
#include "proto/http.h"

#include "broker/backend.h"

#include "sinks/http_sender.h"

#define DL_TTL             "knativebrokerttl"
#define DL_ARRIVAL         "knativearrivaltime"
#define DL_DEFAULT_MAX_TTL 255
/* Wait before sending again when the sender is at its in-flight limit. */
#define DL_BUSY_RETRY_MS   5
/* Attributes of a view kept on the stack; more go to the heap. */
#define DL_VIEW_ATTRS      32

enum dl_phase {
    DL_SUB_SEND,
    DL_SUB_BUSY,
    DL_APPEND,
    DL_DLS_SEND,
    DL_DLS_WAIT,
};

struct dl_job {
    struct sl_delivery *dl;      /* NULL: orphaned zombie (delivery freed) */
    const struct sl_record *rec; /* borrowed until done or cancel */
    sl_deliver_done_fn *done;
    void *job;
    enum dl_phase phase;
    uint32_t attempt;        /* subscriber attempt number (1-based) */
    uint32_t dls_attempt;    /* dead-letter attempt number (1-based) */
    struct sl_event *dls_ev; /* owned, in the DLS phases */
    struct sl_timer *timer;  /* created when first needed */
    bool cancelled;
    bool in_append;             /* inside sl_backend_append() */
    bool completed;             /* its done ran inside the call */
    int append_rc;              /* with that rc */
    int64_t sent_ns;            /* monotonic start of the request in flight */
    struct dl_job *prev, *next; /* zombies list */
    char key[2 * sizeof(void *) + 1];
};

struct sl_delivery {
    struct sl_loop *loop;
    struct sl_sender *sender;
    char *subscriber_url;
    char *ns;
    char *reply_url;
    struct sl_backend *reply_to;
    struct sl_retry_policy policy;
    int32_t max_ttl;
    int64_t timeout_ms;
    struct sl_metrics_trigger *metrics; /* borrowed; NULL: none */
    struct sl_map jobs;                 /* key -> struct dl_job *, live jobs */
    struct dl_job *zombies;             /* cancelled, append in flight */
    struct sl_delivery_stats stats;
    struct sl_log_ctx log;
};

static void dl_send_sub(struct dl_job *j);
static void dl_send_dls(struct dl_job *j);

/* ---- small helpers ---- */

/* Wall-clock ms since the epoch. */
static int64_t dl_wall_ms(void)
{
    struct sl_timestamp ts = sl_time_now();

    return ts.sec * 1000 + ts.nsec / 1000000;
}

static void dl_job_free(struct dl_job *j)
{
    sl_timer_free(j->timer);
    sl_event_unref(j->dls_ev);
    sl_free(j);
}

static void dl_timer_fire(void *arg);

/* Run the job's phase again after 'ms' (timer created on first use). */
static void dl_job_wait(struct dl_job *j, int64_t ms)
{
    if (j->timer == NULL)
        j->timer = sl_timer_new(j->dl->loop, dl_timer_fire, j);
    sl_timer_start(j->timer, ms > 0 ? (uint64_t)ms : 0, 0);
}

/*
 * End the job with 'how': it leaves the map and is freed before done
 * runs, so that done may start new jobs (or cancel others) freely.
 */
static void dl_finish(struct dl_job *j, const struct sl_settle *how)
{
    struct sl_delivery *dl = j->dl;
    sl_deliver_done_fn *done = j->done;
    void *job = j->job;

    (void)sl_map_del(&dl->jobs, j->key, NULL);
    dl_job_free(j);
    done(job, how);
}

static void dl_finish_done(struct dl_job *j)
{
    struct sl_settle how = { .outcome = SL_SETTLE_DONE };

    dl_finish(j, &how);
}

/* ns rounded up to ms, so that a sub-millisecond wait is not lost. */
static int64_t dl_ns_to_ms(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return ns / 1000000 + (ns % 1000000 != 0);
}

/*
 * The TTL of the delivered event as the ingress left it: absent or not
 * an integer reads as max_ttl.
 */
static int64_t dl_event_ttl(const struct sl_delivery *dl,
                            const struct sl_event *ev)
{
    const struct sl_ce_attr *a = sl_event_get(ev, DL_TTL);
    int64_t ttl;

    if (a == NULL ||
        sl_str_to_i64(a->value, a->len, true, INT32_MIN, INT32_MAX, &ttl) != 0)
        return dl->max_ttl;
    return ttl;
}

/*
 * Point 'view' at 'ev' minus knativebrokerttl (see the file comment).
 * 'stack' holds DL_VIEW_ATTRS attributes; when more are needed an array
 * is allocated and returned in '*heap' (free it after use). Without a
 * TTL, 'ev' itself is returned. The result is valid while 'ev' is.
 */
static const struct sl_event *dl_view(const struct sl_event *ev,
                                      struct sl_event *view,
                                      struct sl_ce_attr *stack,
                                      struct sl_ce_attr **heap)
{
    size_t i, n = 0;

    *heap = NULL;
    if (sl_event_get(ev, DL_TTL) == NULL)
        return ev;
    *view = *ev;
    view->attrs = stack;
    if (ev->nattrs - 1 > DL_VIEW_ATTRS)
        view->attrs = *heap = sl_xmalloc(ev->nattrs * sizeof(*ev->attrs));
    for (i = 0; i < ev->nattrs; i++)
        if (strcmp(ev->attrs[i].name, DL_TTL) != 0)
            view->attrs[n++] = ev->attrs[i];
    view->nattrs = n;
    view->cap = n;
    return view;
}

/*
 * Point out[] (SL_EVENT_MAX_HEADERS entries) at the transport headers of
 * 'ev' for a send request; returns how many. Valid while 'ev' is.
 */
static size_t dl_headers(const struct sl_event *ev, struct sl_http_header *out)
{
    size_t i,
        n = ev->nhdrs < SL_EVENT_MAX_HEADERS ? ev->nhdrs : SL_EVENT_MAX_HEADERS;

    for (i = 0; i < n; i++)
        out[i] = (struct sl_http_header){ ev->hdrs[i].name, ev->hdrs[i].value };
    return n;
}

/*
 * Give 'reply' the transport headers of the next hop, as Knative's
 * dispatcher does when it forwards a reply: the subscriber's response
 * headers on the allow-list (not those of the delivered event), plus the
 * delivered event's trace context, which stays that of the request.
 */
static void dl_reply_headers(struct sl_event *reply,
                             const struct sl_http_headers *resp,
                             const struct sl_event *delivered)
{
    size_t i;

    sl_event_headers_clear(reply);
    for (i = 0; resp != NULL && i < resp->n; i++)
        if (sl_ce_http_header_passes(resp->v[i].name))
            (void)sl_event_header_add(reply, resp->v[i].name, resp->v[i].value);
    for (i = 0; i < delivered->nhdrs; i++)
        if (sl_ce_http_header_is_trace(delivered->hdrs[i].name))
            (void)sl_event_header_add(reply, delivered->hdrs[i].name,
                                      delivered->hdrs[i].value);
}

static enum sl_ce_mode dl_mode(const struct sl_delivery *dl)
{
    return dl->policy.format == SL_FORMAT_JSON ? SL_CE_STRUCTURED_MODE
                                               : SL_CE_BINARY_MODE;
}

/* ---- metrics (Knative's broker filter, core/metrics_kn.h) ---- */

/*
 * Count one finished attempt of kind 'req' to 'url' and observe its
 * latency when it got a response: event_count takes the status, 502 for
 * a 2xx whose body is not an event, and 500 when no response came (then
 * no latency), as Knative's filter reports them.
 */
static void dl_metric_attempt(struct dl_job *j, enum sl_metrics_request req,
                              const char *url, const struct sl_send_result *res)
{
    struct sl_metrics_trigger *mt = j->dl->metrics;
    int code;

    if (mt == NULL)
        return;
    if (res == NULL || res->err != 0) {
        sl_metrics_trigger_count(mt, req, url, 500);
        return;
    }
    sl_metrics_trigger_latency(mt, req, url, res->status,
                               sl_time_mono_ns() - j->sent_ns);
    code = res->status;
    if (req == SL_METRICS_REQ_FILTER && code >= 200 && code < 300 &&
        res->reply == SL_REPLY_NOT_EVENT)
        code = 502;
    sl_metrics_trigger_count(mt, req, url, code);
}

/* Processing latencies are clamped to this (a record's times come from
 * whoever wrote it; the histograms end at 10 s anyway). */
#define DL_PROC_MAX_S (24 * 3600)

/*
 * The processing latency of an attempt about to go to the subscriber:
 * now minus knativearrivaltime (what Knative's filter measures; the
 * ingress sets it), or minus the time the log took the record when the
 * event has none (a record another producer wrote to Kafka).
 */
static void dl_metric_processing(struct dl_job *j)
{
    struct sl_delivery *dl = j->dl;
    const char *at = sl_event_value(j->rec->ev, DL_ARRIVAL);
    struct sl_timestamp now = sl_time_now(), ts;
    int64_t since, sec, nsec, now_ns = now.sec * 1000000000LL + now.nsec;

    if (dl->metrics == NULL)
        return;
    /* Both come from the record (a producer may have written any value
     * to the log): clamped to [now - a day, now] before the arithmetic,
     * so it cannot overflow (a day is far past the last bucket). */
    if (at != NULL && sl_time_parse_rfc3339(at, &ts, NULL) == 0) {
        sec = ts.sec;
        nsec = ts.nsec;
    } else {
        sec = j->rec->appended_ms / 1000;
        nsec = (j->rec->appended_ms % 1000) * 1000000LL;
    }
    if (sec < now.sec - DL_PROC_MAX_S) {
        sec = now.sec - DL_PROC_MAX_S;
        nsec = 0;
    } else if (sec > now.sec) {
        sec = now.sec;
        nsec = now.nsec;
    }
    since = sec * 1000000000LL + nsec;
    sl_metrics_trigger_processing(dl->metrics, dl->subscriber_url,
                                  now_ns > since ? now_ns - since : 0);
}

/* ---- dead letter ---- */

/*
 * The attempts at 'dest' failed for good with 'status' (0: no response)
 * and 'body' (or the transport error text): dead-letter the event, or
 * give up when there is no dead-letter sink.
 */
static void dl_dead_letter(struct dl_job *j, const char *dest, int status,
                           const void *body, size_t len)
{
    struct sl_delivery *dl = j->dl;
    const struct sl_event *ev = j->rec->ev;
    struct sl_ce_attr stack[DL_VIEW_ATTRS], *heap;
    struct sl_event view;
    struct sl_diag d;
    int rc;

    if (dl->policy.dead_letter_url == NULL) {
        dl->stats.given_up++;
        if (status > 0)
            SL_LOG(SL_LOG_WARN, &dl->log,
                   "giving up on event '%s' after %" PRIu32
                   " attempt(s): '%s' answered %d, no dead-letter sink",
                   sl_event_id(ev), j->attempt, dest, status);
        else
            SL_LOG(SL_LOG_WARN, &dl->log,
                   "giving up on event '%s' after %" PRIu32
                   " attempt(s): '%s' gave no response (%.*s), no "
                   "dead-letter sink",
                   sl_event_id(ev), j->attempt, dest, (int)len,
                   (const char *)body);
        dl_finish_done(j);
        return;
    }
    /* The dead-letter sink gets the event as the subscriber did (no TTL). */
    sl_diag_clear(&d);
    rc = sl_retry_dead_letter(dl_view(ev, &view, stack, &heap), dest, status,
                              body, len, &j->dls_ev, &d);
    sl_free(heap);
    if (rc < 0) {
        dl->stats.given_up++;
        SL_LOG(SL_LOG_WARN, &dl->log,
               "giving up on event '%s': cannot make its dead-letter event: %s",
               sl_event_id(ev), d.msg);
        dl_finish_done(j);
        return;
    }
    j->dls_attempt = 0;
    dl_send_dls(j);
}

/* A dead-letter attempt failed: wait and try again, or give up. */
static void dl_dls_failed(struct dl_job *j, int status, const char *retry_after,
                          const char *why)
{
    struct sl_delivery *dl = j->dl;
    enum sl_retry_class cls = sl_retry_classify(status, SL_REPLY_NONE);

    if (cls == SL_RETRY_AGAIN && j->dls_attempt <= (uint32_t)dl->policy.retry) {
        int64_t wait = sl_retry_wait(&dl->policy, j->dls_attempt, status,
                                     retry_after, dl_wall_ms() / 1000);
        SL_LOG(SL_LOG_DEBUG, &dl->log,
               "dead-letter attempt %" PRIu32 " for event '%s' failed: %s",
               j->dls_attempt, sl_event_id(j->dls_ev), why);
        j->phase = DL_DLS_WAIT;
        dl_job_wait(j, dl_ns_to_ms(wait));
        return;
    }
    dl->stats.given_up++;
    SL_LOG(SL_LOG_WARN, &dl->log,
           "cannot dead-letter event '%s' to '%s' after %" PRIu32
           " attempt(s): %s",
           sl_event_id(j->dls_ev), dl->policy.dead_letter_url, j->dls_attempt,
           why);
    dl_finish_done(j);
}

static void dl_dls_done(void *arg, const struct sl_send_result *res)
{
    struct dl_job *j = arg;
    char why[SL_DIAG_MSG_MAX + 32];

    if (j->cancelled)
        return;
    dl_metric_attempt(j, SL_METRICS_REQ_DLS, j->dl->policy.dead_letter_url,
                      res);
    if (res->err == 0 && res->status >= 200 && res->status < 300) {
        /* Whatever the body: a dead-letter sink's reply is ignored. */
        j->dl->stats.dead_lettered++;
        SL_LOG(SL_LOG_INFO, &j->dl->log,
               "event '%s' dead-lettered to '%s' (%s)", sl_event_id(j->dls_ev),
               j->dl->policy.dead_letter_url,
               sl_event_value(j->dls_ev, "knativeerrordest"));
        dl_finish_done(j);
        return;
    }
    if (res->err != 0)
        snprintf(why, sizeof(why), "%s", res->errmsg);
    else
        snprintf(why, sizeof(why), "status %d", res->status);
    dl_dls_failed(j, res->status, res->retry_after, why);
}

static void dl_send_dls(struct dl_job *j)
{
    struct sl_delivery *dl = j->dl;
    struct sl_http_header hdrs[SL_EVENT_MAX_HEADERS];
    struct sl_send_req rq = {
        .url = dl->policy.dead_letter_url,
        .ev = j->dls_ev,
        .mode = dl_mode(dl),
        .prefer_reply = false,
        .kn_namespace = dl->ns,
        .timeout_ms = dl->timeout_ms,
    };
    char why[64];
    int rc;

    /* Knative sends the dead-letter sink the same pass-through headers. */
    rq.headers = hdrs;
    rq.nheaders = dl_headers(j->dls_ev, hdrs);
    j->phase = DL_DLS_SEND;
    j->sent_ns = sl_time_mono_ns();
    rc = sl_sender_send(dl->sender, &rq, dl_dls_done, j);
    if (rc == SL_EBUSY) {
        j->phase = DL_DLS_WAIT;
        dl_job_wait(j, DL_BUSY_RETRY_MS);
        return;
    }
    j->dls_attempt++;
    if (rc < 0) {
        dl_metric_attempt(j, SL_METRICS_REQ_DLS, rq.url, NULL);
        snprintf(why, sizeof(why), "cannot send: %s", sl_strerror(rc));
        dl_dls_failed(j, 0, NULL, why);
    }
}

/* ---- the subscriber ---- */

/*
 * Subscriber attempt j->attempt failed with 'status' (0: no response)
 * classified 'cls': RETRY when retries are left, else dead letter. The
 * dead-letter destination is 'dest', the body 'body' (or the error).
 */
static void dl_sub_failed(struct dl_job *j, enum sl_retry_class cls, int status,
                          const char *retry_after, const char *dest,
                          const void *body, size_t len)
{
    struct sl_delivery *dl = j->dl;

    if (cls == SL_RETRY_AGAIN && j->attempt <= (uint32_t)dl->policy.retry) {
        int64_t now = dl_wall_ms();
        int64_t wait = sl_retry_wait(&dl->policy, j->attempt, status,
                                     retry_after, now / 1000);
        struct sl_settle how = {
            .outcome = SL_SETTLE_RETRY,
            .not_before_ms = now + dl_ns_to_ms(wait),
            .attempts = j->attempt,
        };
        SL_LOG(SL_LOG_DEBUG, &dl->log,
               "attempt %" PRIu32
               " of event '%s' failed (%d), retry in %" PRId64 " ms",
               j->attempt, sl_event_id(j->rec->ev), status, dl_ns_to_ms(wait));
        dl_finish(j, &how);
        return;
    }
    dl_dead_letter(j, dest, status, body, len);
}

/* The reply append finished (or failed at once, from dl_reply). */
static void dl_append_end(struct dl_job *j, int rc)
{
    struct sl_delivery *dl = j->dl;
    char why[SL_DIAG_MSG_MAX];
    int n;

    if (j->cancelled) {
        /* Cancelled meanwhile: only the bookkeeping is left. */
        if (dl != NULL) {
            if (rc == 0)
                dl->stats.replies++;
            if (j->prev != NULL)
                j->prev->next = j->next;
            else
                dl->zombies = j->next;
            if (j->next != NULL)
                j->next->prev = j->prev;
        }
        dl_job_free(j);
        return;
    }
    if (rc == 0) {
        dl->stats.replies++;
        dl->stats.succeeded++;
        dl_finish_done(j);
        return;
    }
    n = snprintf(why, sizeof(why), "cannot append the reply: %s",
                 sl_strerror(rc));
    SL_LOG(SL_LOG_WARN, &dl->log, "event '%s': %s", sl_event_id(j->rec->ev),
           why);
    dl_sub_failed(j, SL_RETRY_AGAIN, 0, NULL,
                  dl->reply_url ? dl->reply_url : dl->subscriber_url, why,
                  n > 0 ? (size_t)n : 0);
}

static void dl_append_done(void *arg, int rc)
{
    struct dl_job *j = arg;

    if (j->in_append) {
        j->completed = true;
        j->append_rc = rc;
        return;
    }
    dl_append_end(j, rc);
}

/*
 * The subscriber answered 2xx with a reply event 'reply' (borrowed from
 * the sender; ours to change once referenced): apply the TTL rule, stamp
 * it and append it to the broker; DONE once durable.
 */
static void dl_reply(struct dl_job *j, struct sl_event *reply,
                     const struct sl_http_headers *resp)
{
    struct sl_delivery *dl = j->dl;
    int64_t ttl = dl_event_ttl(dl, j->rec->ev) - 1;
    char arrival[SL_TIME_RFC3339_MAX];
    struct sl_timestamp now;
    struct sl_event *ev;
    struct sl_diag d;
    int rc;

    if (dl->reply_to == NULL) {
        SL_LOG(SL_LOG_DEBUG, &dl->log,
               "reply '%s' to event '%s' dropped: no broker to send it to",
               sl_event_id(reply), sl_event_id(j->rec->ev));
        dl->stats.succeeded++;
        dl_finish_done(j);
        return;
    }
    if (ttl <= 0) {
        dl->stats.replies_dropped++;
        dl->stats.succeeded++;
        SL_LOG(SL_LOG_INFO, &dl->log,
               "reply '%s' to event '%s' dropped: TTL exhausted (a reply "
               "loop stops here)",
               sl_event_id(reply), sl_event_id(j->rec->ev));
        dl_finish_done(j);
        return;
    }
    ev = sl_event_ref(reply);
    dl_reply_headers(ev, resp, j->rec->ev);
    now = sl_time_now();
    sl_time_format_rfc3339(&now, arrival, sizeof(arrival));
    sl_diag_clear(&d);
    rc = sl_event_set_int(ev, DL_TTL, (int32_t)ttl, &d);
    if (rc == 0)
        rc = sl_event_set(ev, DL_ARRIVAL, SL_CE_TIME, arrival, strlen(arrival),
                          &d);
    if (rc == 0) {
        j->phase = DL_APPEND;
        j->in_append = true;
        rc = sl_backend_append(dl->reply_to, &ev, 1, dl_append_done, j);
        j->in_append = false;
    }
    sl_event_unref(ev);
    if (rc < 0) {
        dl_append_end(j, rc);
        return;
    }
    if (j->completed)
        dl_append_end(j, j->append_rc);
}

static void dl_sub_done(void *arg, const struct sl_send_result *res)
{
    struct dl_job *j = arg;
    enum sl_retry_class cls;

    if (j->cancelled)
        return;
    dl_metric_attempt(j, SL_METRICS_REQ_FILTER, j->dl->subscriber_url, res);
    cls = sl_retry_classify(res->status, res->reply);
    if (cls == SL_RETRY_SUCCESS) {
        if (res->reply == SL_REPLY_EVENT) {
            dl_reply(j, res->reply_event, res->headers);
        } else {
            j->dl->stats.succeeded++;
            dl_finish_done(j);
        }
        return;
    }
    if (res->err != 0)
        dl_sub_failed(j, cls, 0, NULL, j->dl->subscriber_url, res->errmsg,
                      strlen(res->errmsg));
    else
        dl_sub_failed(j, cls, res->status, res->retry_after,
                      j->dl->subscriber_url, res->body, res->body_len);
}

static void dl_send_sub(struct dl_job *j)
{
    struct sl_delivery *dl = j->dl;
    struct sl_ce_attr stack[DL_VIEW_ATTRS], *heap;
    struct sl_http_header hdrs[SL_EVENT_MAX_HEADERS];
    struct sl_event view;
    struct sl_send_req rq = {
        .url = dl->subscriber_url,
        .mode = dl_mode(dl),
        .prefer_reply = true,
        .kn_namespace = dl->ns,
        .timeout_ms = dl->timeout_ms,
    };
    char why[64];
    int rc, n;

    j->phase = DL_SUB_SEND;
    rq.ev = dl_view(j->rec->ev, &view, stack, &heap);
    rq.headers = hdrs;
    rq.nheaders = dl_headers(j->rec->ev, hdrs);
    j->sent_ns = sl_time_mono_ns();
    rc = sl_sender_send(dl->sender, &rq, dl_sub_done, j);
    sl_free(heap);
    if (rc == SL_EBUSY) {
        /* Not an attempt: the sender is full; try again shortly. */
        j->phase = DL_SUB_BUSY;
        dl_job_wait(j, DL_BUSY_RETRY_MS);
        return;
    }
    dl->stats.attempts++;
    dl_metric_processing(j);
    if (rc < 0) {
        dl_metric_attempt(j, SL_METRICS_REQ_FILTER, dl->subscriber_url, NULL);
        n = snprintf(why, sizeof(why), "cannot send: %s", sl_strerror(rc));
        dl_sub_failed(j, SL_RETRY_AGAIN, 0, NULL, dl->subscriber_url, why,
                      n > 0 ? (size_t)n : 0);
    }
}

static void dl_timer_fire(void *arg)
{
    struct dl_job *j = arg;

    if (j->phase == DL_SUB_BUSY)
        dl_send_sub(j);
    else if (j->phase == DL_DLS_WAIT)
        dl_send_dls(j);
}

/* ---- the deliverer ---- */

static void dl_deliver(void *arg, const struct sl_record *rec,
                       sl_deliver_done_fn *done, void *job)
{
    struct sl_delivery *dl = arg;
    struct dl_job *j = sl_xcalloc(1, sizeof(*j));

    j->dl = dl;
    j->rec = rec;
    j->done = done;
    j->job = job;
    j->attempt = rec->attempts + 1;
    snprintf(j->key, sizeof(j->key), "%" PRIxPTR, (uintptr_t)job);
    (void)sl_map_put(&dl->jobs, j->key, j, NULL);
    dl_send_sub(j);
}

/* Stop 'j' for good: no done; freed now, or by its append's completion. */
static void dl_cancel_job(struct sl_delivery *dl, struct dl_job *j)
{
    j->cancelled = true;
    if (j->timer != NULL)
        sl_timer_stop(j->timer);
    if (j->phase == DL_SUB_SEND || j->phase == DL_DLS_SEND)
        (void)sl_sender_cancel(dl->sender, j); /* its done returns at once */
    if (j->phase == DL_APPEND) {
        j->prev = NULL;
        j->next = dl->zombies;
        if (j->next != NULL)
            j->next->prev = j;
        dl->zombies = j;
        return;
    }
    dl_job_free(j);
}

static void dl_cancel(void *arg, void *job)
{
    struct sl_delivery *dl = arg;
    char key[2 * sizeof(void *) + 1];
    void *v = NULL;

    snprintf(key, sizeof(key), "%" PRIxPTR, (uintptr_t)job);
    if (sl_map_del(&dl->jobs, key, &v) < 0)
        return; /* not ours, or already done */
    dl_cancel_job(dl, v);
}

/* ---- life cycle ---- */

int sl_delivery_new(struct sl_loop *loop, const struct sl_delivery_cfg *cfg,
                    struct sl_delivery **out, struct sl_diag *d)
{
    struct sl_delivery *dl;

    *out = NULL;
    if (loop == NULL || cfg == NULL || cfg->sender == NULL)
        return sl_diag_set(d, SL_EINVAL, "sender",
                           "the delivery needs a loop and a sender");
    if (cfg->subscriber_url == NULL || cfg->subscriber_url[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "subscriber_url",
                           "the delivery needs a subscriber URL");
    if (cfg->max_ttl < 0)
        return sl_diag_set(d, SL_EINVAL, "max_ttl",
                           "must not be negative, got %d", (int)cfg->max_ttl);
    if (cfg->default_timeout_ms < 0)
        return sl_diag_set(d, SL_EINVAL, "default_timeout_ms",
                           "must not be negative");
    dl = sl_xcalloc(1, sizeof(*dl));
    dl->loop = loop;
    dl->sender = cfg->sender;
    dl->subscriber_url = sl_xstrdup(cfg->subscriber_url);
    dl->ns = cfg->ns ? sl_xstrdup(cfg->ns) : NULL;
    dl->reply_to = cfg->reply_to;
    dl->reply_url = cfg->reply_url ? sl_xstrdup(cfg->reply_url) : NULL;
    sl_retry_policy_init(&dl->policy);
    if (cfg->policy != NULL) {
        dl->policy = *cfg->policy;
        if (cfg->policy->dead_letter_url != NULL)
            dl->policy.dead_letter_url =
                sl_xstrdup(cfg->policy->dead_letter_url);
        if (dl->policy.retry < 0)
            dl->policy.retry = 0;
    }
    dl->max_ttl = cfg->max_ttl ? cfg->max_ttl : DL_DEFAULT_MAX_TTL;
    dl->metrics = cfg->metrics;
    if (dl->policy.timeout_ns > 0)
        dl->timeout_ms = dl_ns_to_ms(dl->policy.timeout_ns);
    else if (cfg->default_timeout_ms > 0)
        dl->timeout_ms = cfg->default_timeout_ms;
    else
        dl->timeout_ms = SL_DELIVERY_DEFAULT_TIMEOUT_MS;
    sl_map_init(&dl->jobs, NULL);
    sl_log_ctx_init(&dl->log, "delivery", NULL, cfg->log_name);
    *out = dl;
    return 0;
}

void sl_delivery_deliverer(struct sl_delivery *dl, struct sl_deliverer *out)
{
    out->deliver = dl_deliver;
    out->cancel = dl_cancel;
    out->arg = dl;
}

void sl_delivery_stats(const struct sl_delivery *dl,
                       struct sl_delivery_stats *out)
{
    *out = dl->stats;
}

void sl_delivery_free(struct sl_delivery *dl)
{
    char key[2 * sizeof(void *) + 1];
    const char *k;
    void *v;
    size_t it;

    if (dl == NULL)
        return;
    /* Jobs left by a caller that broke the contract: cancel them too. */
    for (;;) {
        it = 0;
        if (!sl_map_next(&dl->jobs, &it, &k, &v))
            break;
        sl_strlcpy(key, k, sizeof(key));
        (void)sl_map_del(&dl->jobs, key, NULL);
        dl_cancel_job(dl, v);
    }
    /* Appends still in flight free their jobs when they complete. */
    for (struct dl_job *j = dl->zombies; j != NULL; j = j->next)
        j->dl = NULL;
    sl_map_fini(&dl->jobs);
    sl_retry_policy_fini(&dl->policy);
    sl_free(dl->subscriber_url);
    sl_free(dl->ns);
    sl_free(dl->reply_url);
    sl_free(dl);
}
