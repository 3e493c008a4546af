/*
 * sinks/delivery.h - delivery of one trigger's events to its subscriber:
 * the deliverer (triggers/dispatch.h) that turns one record into HTTP
 * attempts, a retry decision, a dead-letter event and a reply.
 *
 * One job (the record with rec->attempts attempts already made, so
 * attempt number a = rec->attempts + 1):
 *   1. Send the event to the subscriber (sinks/http_sender.h): binary
 *      mode unless the policy's format is json; "Prefer: reply",
 *      "Kn-Namespace: <ns>"; the attribute knativebrokerttl removed; the
 *      per-attempt timeout of the policy, else cfg.default_timeout_ms.
 *   2. sl_retry_classify (sinks/retry.h):
 *      SUCCESS  -> a reply event (SL_REPLY_EVENT) is published (3); then
 *                  DONE.
 *      AGAIN and a <= policy.retry -> RETRY with not_before = now +
 *                  sl_retry_wait(policy, a, status, Retry-After) and
 *                  attempts = a.
 *      otherwise (FAIL, or retries used up) -> dead letter (4).
 *   3. Reply: knativebrokerttl of the delivered event (as the ingress
 *      left it; absent or not an integer reads as cfg.max_ttl) minus
 *      one; at 0 or below the reply is dropped (counted, logged: the
 *      reply loop stops); else the reply gets that TTL and a fresh
 *      knativearrivaltime and is appended to cfg.reply_to. DONE only
 *      once the append is durable; an append that fails counts as a
 *      failed attempt (no response) and goes through 2 as AGAIN, its
 *      dead-letter destination being cfg.reply_url.
 *   4. Dead letter: without a dead-letter URL, DONE (given up, counted,
 *      logged). With one, the event with the extensions of DESIGN 4.4
 *      (sl_retry_dead_letter; with no response, the transport error
 *      text stands for the body) is sent to it, retried in memory with
 *      the same policy (a crash in this phase redelivers the record to
 *      the subscriber: at least once); then DONE whatever the outcome
 *      (failure counted and logged).
 *
 * Threads: the loop thread of the sender.
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
struct sl_sender;

/* Per-attempt timeout when the policy has none: 30 s. */
#define SL_DELIVERY_DEFAULT_TIMEOUT_MS 30000

struct sl_delivery_cfg {
    struct sl_sender *sender;             /* borrowed, may be shared */
    const char *subscriber_url;           /* copied */
    const struct sl_retry_policy *policy; /* deep-copied */
    const char *ns;                       /* Kn-Namespace; copied */
    /* The broker log replies go to (borrowed; must outlive the
     * delivery), and its address (copied) for knativeerrordest when a
     * reply cannot be appended. reply_to NULL: replies are dropped. */
    struct sl_backend *reply_to;
    const char *reply_url;
    int32_t max_ttl;            /* 0 -> 255 */
    int64_t default_timeout_ms; /* 0 -> SL_DELIVERY_DEFAULT_TIMEOUT_MS */
    const char *log_name;       /* "ns/trigger" for log lines; copied */
};

/* Counters since creation. */
struct sl_delivery_stats {
    uint64_t attempts;        /* HTTP attempts to the subscriber */
    uint64_t succeeded;       /* jobs ended DONE after a 2xx */
    uint64_t replies;         /* replies appended to the broker */
    uint64_t replies_dropped; /* replies whose TTL ran out */
    uint64_t dead_lettered;   /* events the dead-letter sink took */
    uint64_t given_up;        /* jobs ended without delivery or DLS */
};

/* Create a delivery for 'cfg'. 0, or SL_EINVAL (no sender/URL) with 'd'. */
int sl_delivery_new(struct sl_loop *loop, const struct sl_delivery_cfg *cfg,
                    struct sl_delivery **out, struct sl_diag *d);

/* The deliverer to hand to sl_dispatch_new (points at 'dl'). */
void sl_delivery_deliverer(struct sl_delivery *dl, struct sl_deliverer *out);

/* Counters. */
void sl_delivery_stats(const struct sl_delivery *dl,
                       struct sl_delivery_stats *out);

/*
 * Free; the dispatcher using it must have been freed first (so no job is
 * in flight). NULL is a no-op.
 */
void sl_delivery_free(struct sl_delivery *dl);

#endif
