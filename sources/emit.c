/*
 * sources/emit.c - the emitter: one CloudEvent to a source's sink, with
 * the fixed retry policy of Knative's sources (sources/emit.h).
 *
 * One struct emit_job per event held, in a list on the emitter. A job is
 * in one of two phases:
 *
 *   SEND  an attempt is in flight in the sender
 *   WAIT  its timer runs: before the first attempt (started with delay 0,
 *         so that done never runs from inside sl_emit), before a retry
 *         (the backoff), or after the sender said SL_EBUSY (5 ms, not an
 *         attempt)
 *
 * An attempt's end is classified by sl_emit_classify(); success ends the
 * job, a retryable failure with retries left goes to WAIT, anything else
 * ends it as lost. Cancelling a job in SEND goes through the sender
 * (sl_sender_cancel), whose done callback ends it; in WAIT it ends at
 * once.
 */
#include "sources/emit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics_kn.h"
#include "proto/event.h"
#include "sinks/http_sender.h"

/* Wait before sending again when the sender is at its in-flight limit. */
#define EMIT_BUSY_RETRY_MS 5

enum emit_phase {
    EJ_WAIT = 0,
    EJ_SEND,
};

struct emit_job {
    struct emit_job *prev, *next;
    struct sl_emitter *em;
    struct sl_event *ev; /* our reference */
    uint64_t seq;        /* order of sl_emit(), for cancel */
    enum emit_phase phase;
    int attempts;
    int status;       /* of the last attempt, 0 when no response */
    int err;          /* its SL_E* code when no response came, else 0 */
    char errmsg[256]; /* of the last attempt, "" when a status came */
    struct sl_timer *timer;
    sl_emit_done_fn *done;
    void *arg;
};

struct sl_emitter {
    struct sl_loop *loop;
    struct sl_sender *sender;
    char *url;
    char *ns;
    unsigned max_in_flight;
    int64_t timeout_ms;
    struct sl_log_ctx log;
    struct sl_metrics_source *metrics; /* borrowed, may be NULL */
    struct emit_job *head;             /* jobs, oldest first */
    struct emit_job *tail;
    size_t n;
    uint64_t next_seq;
    bool freeing;
    struct sl_emitter_stats stats;
};

/* ---- the policy ---- */

enum sl_retry_class sl_emit_classify(int status)
{
    if (status >= 200 && status <= 299)
        return SL_RETRY_SUCCESS;
    switch (status) {
    case 0:   /* no response */
    case 404: /* Not Found */
    case 413: /* Content Too Large */
    case 425: /* Too Early */
    case 429: /* Too Many Requests */
    case 502: /* Bad Gateway */
    case 503: /* Service Unavailable */
    case 504: /* Gateway Timeout */
        return SL_RETRY_AGAIN;
    default:
        return SL_RETRY_FAIL;
    }
}

int64_t sl_emit_backoff_ms(int k)
{
    struct sl_retry_policy p;
    int64_t ns;

    if (k < 1 || k > SL_EMIT_RETRIES)
        return 0;
    /* sdk-go's exponential backoff waits period * 2^k before retry k;
     * the broker's rule (sinks/retry.h) waits delay * 2^(k-1): the same
     * series with twice the period. */
    sl_retry_policy_init(&p);
    p.retry = SL_EMIT_RETRIES;
    p.backoff = SL_BACKOFF_EXPONENTIAL;
    p.delay_ns = 2 * (int64_t)SL_EMIT_BACKOFF_MS * 1000000;
    ns = sl_retry_backoff(&p, k);
    sl_retry_policy_fini(&p);
    return ns / 1000000;
}

/* ---- jobs ---- */

static void emit_unlink(struct sl_emitter *em, struct emit_job *j)
{
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        em->head = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    else
        em->tail = j->prev;
    j->prev = j->next = NULL;
    em->n--;
}

/* End 'j' with 'rc': out of the list, done, freed. */
static void emit_finish(struct emit_job *j, int rc)
{
    struct sl_emitter *em = j->em;
    struct sl_emit_result res;

    emit_unlink(em, j);
    if (rc == 0)
        em->stats.delivered++;
    else if (rc != SL_ECANCELED)
        em->stats.lost++;
    memset(&res, 0, sizeof(res));
    res.rc = rc;
    res.status = j->status;
    res.attempts = j->attempts;
    res.errmsg = j->errmsg;
    sl_timer_free(j->timer);
    j->timer = NULL;
    if (j->done != NULL)
        j->done(j->arg, &res);
    sl_event_unref(j->ev);
    sl_free(j);
}

/* Count the attempt that just ended: retried, or the event's outcome. */
static void emit_count(struct emit_job *j, bool retried)
{
    struct sl_metrics_send r = {
        .event_source = sl_event_value(j->ev, "source"),
        .event_type = sl_event_value(j->ev, "type"),
        .sink_url = j->em->url,
        .code = j->status,
        .error = j->err != 0 ? sl_strerror(j->err) : NULL,
        .timeout = j->err == SL_ETIMEDOUT,
    };

    if (j->em->metrics == NULL)
        return;
    if (retried)
        sl_metrics_source_retry(j->em->metrics, &r);
    else
        sl_metrics_source_event(j->em->metrics, &r);
}

/* After an attempt that ended with j->status / j->errmsg. */
static void emit_after(struct emit_job *j)
{
    struct sl_emitter *em = j->em;
    enum sl_retry_class c = sl_emit_classify(j->status);
    const char *id = sl_event_id(j->ev);
    bool again = c == SL_RETRY_AGAIN && j->attempts <= SL_EMIT_RETRIES;
    char what[300];

    emit_count(j, again);
    if (c == SL_RETRY_SUCCESS) {
        SL_LOG(SL_LOG_DEBUG, &em->log, "event %s delivered to %s (%d)", id,
               em->url, j->status);
        emit_finish(j, 0);
        return;
    }
    if (j->status != 0)
        snprintf(what, sizeof(what), "the sink answered %d", j->status);
    else
        snprintf(what, sizeof(what), "%s", j->errmsg);
    if (again) {
        int64_t wait = sl_emit_backoff_ms(j->attempts);

        SL_LOG(SL_LOG_DEBUG, &em->log,
               "event %s attempt %d to %s failed: %s; retrying in %lld ms", id,
               j->attempts, em->url, what, (long long)wait);
        j->phase = EJ_WAIT;
        sl_timer_start(j->timer, (uint64_t)wait, 0);
        return;
    }
    /* The event is lost, as with Knative's sources. */
    SL_LOG(SL_LOG_WARN, &em->log,
           "event %s lost after %d attempt%s to %s: %s%s", id, j->attempts,
           j->attempts == 1 ? "" : "s", em->url, what,
           c == SL_RETRY_AGAIN ? "; no retries left" : " (not retried)");
    emit_finish(j, SL_EIO);
}

static void emit_sent(void *arg, const struct sl_send_result *res)
{
    struct emit_job *j = arg;

    if (res->err == SL_ECANCELED) {
        /* sl_emitter_cancel, or the sender freed under us. */
        snprintf(j->errmsg, sizeof(j->errmsg), "%s", res->errmsg);
        emit_finish(j, SL_ECANCELED);
        return;
    }
    j->status = res->err != 0 ? 0 : res->status;
    j->err = res->err;
    snprintf(j->errmsg, sizeof(j->errmsg), "%s",
             res->err != 0 ? res->errmsg : "");
    emit_after(j);
}

/* The job's timer: make the next attempt. */
static void emit_attempt(void *arg)
{
    struct emit_job *j = arg;
    struct sl_emitter *em = j->em;
    struct sl_send_req rq;
    int rc;

    memset(&rq, 0, sizeof(rq));
    rq.url = em->url;
    rq.ev = j->ev;
    rq.mode = SL_CE_BINARY_MODE;
    rq.prefer_reply = false;
    rq.kn_namespace = em->ns;
    rq.timeout_ms = em->timeout_ms;
    rc = sl_sender_send(em->sender, &rq, emit_sent, j);
    if (rc == SL_EBUSY) {
        /* The shared sender is full: not an attempt, try again soon. */
        j->phase = EJ_WAIT;
        sl_timer_start(j->timer, EMIT_BUSY_RETRY_MS, 0);
        return;
    }
    j->attempts++;
    em->stats.attempts++;
    if (rc == 0) {
        j->phase = EJ_SEND;
        return;
    }
    /* Refused at once (a URL the sender does not take...): an attempt
     * without a response, retried like a connection failure. */
    j->status = 0;
    j->err = rc;
    snprintf(j->errmsg, sizeof(j->errmsg), "cannot send: %s", sl_strerror(rc));
    emit_after(j);
}

/* ---- the emitter ---- */

int sl_emitter_new(struct sl_loop *loop, const struct sl_emitter_cfg *cfg,
                   struct sl_emitter **out, struct sl_diag *d)
{
    struct sl_emitter *em;

    *out = NULL;
    if (cfg == NULL || cfg->sender == NULL)
        return sl_diag_set(d, SL_EINVAL, "", "emitter: no sender");
    if (cfg->url == NULL || cfg->url[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "", "emitter: no sink URL");
    if (cfg->timeout_ms < 0)
        return sl_diag_set(d, SL_EINVAL, "", "emitter: negative timeout");
    em = sl_xcalloc(1, sizeof(*em));
    em->loop = loop;
    em->sender = cfg->sender;
    em->url = sl_xstrdup(cfg->url);
    em->ns = cfg->ns != NULL ? sl_xstrdup(cfg->ns) : NULL;
    em->max_in_flight = cfg->max_in_flight != 0 ? cfg->max_in_flight
                                                : SL_EMIT_DEFAULT_MAX_IN_FLIGHT;
    em->timeout_ms =
        cfg->timeout_ms != 0 ? cfg->timeout_ms : SL_EMIT_DEFAULT_TIMEOUT_MS;
    if (cfg->log != NULL)
        em->log = *cfg->log;
    else
        sl_log_ctx_init(&em->log, "source", NULL, NULL);
    em->metrics = cfg->metrics;
    *out = em;
    return 0;
}

int sl_emitter_set_url(struct sl_emitter *em, const char *url)
{
    if (url == NULL || url[0] == '\0')
        return SL_EINVAL;
    if (strcmp(url, em->url) != 0) {
        sl_free(em->url);
        em->url = sl_xstrdup(url);
    }
    return 0;
}

const char *sl_emitter_url(const struct sl_emitter *em)
{
    return em->url;
}

int sl_emit(struct sl_emitter *em, struct sl_event *ev, sl_emit_done_fn *done,
            void *arg)
{
    struct emit_job *j;

    if (ev == NULL)
        return SL_EINVAL;
    if (em->freeing)
        return SL_ECANCELED;
    if (em->n >= em->max_in_flight) {
        em->stats.refused++;
        return SL_EBUSY;
    }
    j = sl_xcalloc(1, sizeof(*j));
    j->em = em;
    j->ev = sl_event_ref(ev);
    j->seq = em->next_seq++;
    j->done = done;
    j->arg = arg;
    j->phase = EJ_WAIT;
    j->timer = sl_timer_new(em->loop, emit_attempt, j);
    j->prev = em->tail;
    if (em->tail != NULL)
        em->tail->next = j;
    else
        em->head = j;
    em->tail = j;
    em->n++;
    em->stats.accepted++;
    /* The first attempt from a timer, so that done never runs (nor a
     * refused send ends the job) inside this call. */
    sl_timer_start(j->timer, 0, 0);
    return 0;
}

size_t sl_emitter_cancel(struct sl_emitter *em)
{
    uint64_t cutoff = em->next_seq;
    size_t count = 0;

    for (;;) {
        struct emit_job *j = em->head;

        /* Done callbacks may emit (later seq) or cancel: look again from
         * the head every time. */
        while (j != NULL && j->seq >= cutoff)
            j = j->next;
        if (j == NULL)
            break;
        count++;
        snprintf(j->errmsg, sizeof(j->errmsg), "cancelled");
        if (j->phase == EJ_SEND && sl_sender_cancel(em->sender, j) > 0)
            continue; /* emit_sent ended it */
        sl_timer_stop(j->timer);
        emit_finish(j, SL_ECANCELED);
    }
    return count;
}

size_t sl_emitter_in_flight(const struct sl_emitter *em)
{
    return em->n;
}

void sl_emitter_stats(const struct sl_emitter *em, struct sl_emitter_stats *out)
{
    *out = em->stats;
}

void sl_emitter_free(struct sl_emitter *em)
{
    if (em == NULL)
        return;
    em->freeing = true;
    sl_emitter_cancel(em);
    sl_free(em->url);
    sl_free(em->ns);
    sl_free(em);
}
