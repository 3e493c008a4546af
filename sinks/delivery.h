/*
 * sinks/delivery.h - delivery of one trigger's events to its subscriber:
 * the deliverer (triggers/dispatch.h) that turns one record into HTTP
 * attempts, a retry decision, a dead-letter event and a reply.
 *
 * One job (the record with rec->attempts attempts already made, so
 * attempt number a = rec->attempts + 1):
 *   1. Send the event to the subscriber (sinks/http_sender.h): binary
 *      mode unless the policy's format is json; "Prefer: reply",
 *      "Kn-Namespace: <ns>", and the event's transport headers (the
 *      pass-through headers of the request that brought it in,
 *      proto/event.h); the attribute knativebrokerttl removed (the
 *      record's event itself is not changed); the per-attempt timeout of
 *      the policy (rounded up to ms), else cfg.default_timeout_ms.
 *      The sender refusing at once: SL_EBUSY (at its in-flight limit) is
 *      not an attempt, the send is tried again 5 ms later by a timer; any
 *      other refusal (a URL it does not take, ...) is attempt a failing
 *      without a response, its error text standing for the body.
 *   2. sl_retry_classify (sinks/retry.h):
 *      SUCCESS  -> a reply event (SL_REPLY_EVENT) is published (3); then
 *                  DONE.
 *      AGAIN and a <= policy.retry -> RETRY with not_before = now (wall
 *                  clock) + sl_retry_wait(policy, a, status, Retry-After)
 *                  rounded up to ms, and attempts = a.
 *      otherwise (FAIL, or retries used up) -> dead letter (4).
 *   3. Reply: knativebrokerttl of the delivered event (as the ingress
 *      left it; absent or not an integer reads as cfg.max_ttl) minus
 *      one; at 0 or below the reply is dropped (counted, logged: the
 *      reply loop stops); else the reply gets that TTL, a fresh
 *      knativearrivaltime and as transport headers the subscriber's
 *      response headers on the pass-through allow-list plus the
 *      delivered event's traceparent/tracestate, and is appended to
 *      cfg.reply_to. DONE only
 *      once the append is durable; an append that fails counts as a
 *      failed attempt (no response) and goes through 2 as AGAIN, its
 *      dead-letter destination being cfg.reply_url (the subscriber URL
 *      when that is NULL). Without cfg.reply_to a reply is dropped
 *      (logged at debug level, not counted) and the job is DONE.
 *   4. Dead letter: without a dead-letter URL, DONE (given up, counted,
 *      logged). With one, the delivered event (without knativebrokerttl,
 *      in the same format) with the extensions of DESIGN 4.4
 *      (sl_retry_dead_letter; with no response, the transport error
 *      text stands for the body) is sent to it with Kn-Namespace and the
 *      transport headers, without "Prefer: reply"; any 2xx takes it (a body is
 * ignored); other answers are classified as in 2 and retried in memory, by a
 *      timer, with the same policy (retry dead-letter attempts after the
 *      first; a crash in this phase redelivers the record to the
 *      subscriber: at least once); then DONE whatever the outcome
 *      (failure counted as given up and logged).
 *
 * Cancel (deliverer.cancel): done never runs for the job afterwards; a
 * request in flight is cancelled in the sender and a timer (SL_EBUSY or
 * dead-letter wait) stopped. A job whose reply append is in flight
 * cannot be taken back from the backend: it is marked cancelled and kept
 * until the append completes (which then only frees it; the reply is in
 * the log all the same, and counted). Cancelling a job that is unknown
 * or already done is a no-op. Jobs are found by the dispatcher's job
 * pointer, so the same pointer must not be in flight twice.
 *
 * Metrics (cfg.metrics, core/metrics_kn.h), as Knative's broker filter
 * reports them: every attempt, to the subscriber and to the dead-letter
 * sink, counts once in mt_broker_filter_event_count with its status (500
 * without a response, 502 for a 2xx body that is not an event) and, when
 * it got a response, observes the request's latency; every attempt to the
 * subscriber observes the processing latency since knativearrivaltime.
 *
 * Threads: the loop thread of the sender (and of cfg.reply_to): every
 * function and every callback.
 */
#ifndef SL_SINKS_DELIVERY_H
#define SL_SINKS_DELIVERY_H

#include <stdint.h>

#include "sinks/retry.h"
#include "triggers/dispatch.h"

struct sl_backend;
struct sl_delivery;
struct sl_diag;
struct sl_loop;
struct sl_metrics_trigger;
struct sl_sender;

/* Per-attempt timeout when the policy has none: 30 s. */
#define SL_DELIVERY_DEFAULT_TIMEOUT_MS 30000

struct sl_delivery_cfg {
    /* Borrowed, may be shared; must outlive the delivery. */
    struct sl_sender *sender;
    const char *subscriber_url; /* copied */
    /* Deep-copied; NULL is the empty policy (sl_retry_policy_init). */
    const struct sl_retry_policy *policy;
    const char *ns; /* Kn-Namespace; copied */
    /* The broker log replies go to (borrowed; must outlive the
     * delivery), and its address (copied) for knativeerrordest when a
     * reply cannot be appended. reply_to NULL: replies are dropped. */
    struct sl_backend *reply_to;
    const char *reply_url;
    int32_t max_ttl;            /* 0 -> 255; negative is SL_EINVAL */
    int64_t default_timeout_ms; /* 0 -> SL_DELIVERY_DEFAULT_TIMEOUT_MS */
    const char *log_name;       /* "ns/trigger" for log lines; copied */
    /* The Trigger's metrics (mt_broker_filter_*, core/metrics_kn.h):
     * borrowed, must outlive the delivery; NULL: none. */
    struct sl_metrics_trigger *metrics;
};

/* Counters since creation. */
struct sl_delivery_stats {
    uint64_t attempts;        /* attempts at the subscriber (sends refused
                                 with SL_EBUSY are not attempts) */
    uint64_t succeeded;       /* jobs ended DONE after a 2xx (reply, if
                                 any, appended or dropped) */
    uint64_t replies;         /* replies appended to the broker */
    uint64_t replies_dropped; /* replies whose TTL ran out */
    uint64_t dead_lettered;   /* events the dead-letter sink took */
    uint64_t given_up;        /* jobs ended without delivery or DLS: no
                                 dead-letter sink, or it failed too */
};

/*
 * Create a delivery for 'cfg' on 'loop' (the sender's). Returns 0 with
 * '*out', or SL_EINVAL (no sender, no URL, a negative max_ttl or
 * default_timeout_ms) with 'd' naming the field and '*out' NULL.
 */
int sl_delivery_new(struct sl_loop *loop, const struct sl_delivery_cfg *cfg,
                    struct sl_delivery **out, struct sl_diag *d);

/* The deliverer to hand to sl_dispatch_new (points at 'dl'; see the
 * file comment for what deliver and cancel do). */
void sl_delivery_deliverer(struct sl_delivery *dl, struct sl_deliverer *out);

/* Counters. */
void sl_delivery_stats(const struct sl_delivery *dl,
                       struct sl_delivery_stats *out);

/*
 * Free; the dispatcher using it must have been freed first (so every job
 * is done or cancelled; jobs still live are cancelled here, without
 * done). A cancelled job whose append is still in flight is left to the
 * append's completion, which then only frees it (cfg.reply_to outlives
 * the delivery, so that completion comes). NULL is a no-op.
 */
void sl_delivery_free(struct sl_delivery *dl);

#endif
