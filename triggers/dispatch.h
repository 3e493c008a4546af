/*
 * triggers/dispatch.h - the per-trigger dispatcher: read the broker log
 * as the trigger's consumer group, filter, hand matching events to a
 * deliverer, settle the outcome.
 *
 *   backend --on_record--> filter --no match--> settle DONE
 *                             \--match--> [rate limit] [order gate]
 *                                 --> deliverer.deliver(rec, done, job)
 *                                 ... done(job, how)
 *                                 --> settle DONE | RETRY
 *
 * In-flight bound: at most opts.max_in_flight records are unsettled
 * (the backend's max_outstanding), deliveries included.
 * Rate: opts.max_rate > 0 caps deliveries started per second (a token
 * bucket with a one-second burst); records that must wait stay
 * unsettled and are started by a timer.
 *
 * Ordering. Unordered (default): records are delivered as they come and
 * a RETRY outcome is settled as RETRY (the backend persists it and
 * pushes it again when due, also after a restart). Ordered: records
 * with the same "partitionkey" extension value (records without one
 * share the key "") are delivered one at a time in log order; a RETRY
 * outcome is kept in memory (the record stays unsettled, so the
 * backend's progress cannot pass it and a crash redelivers it) and
 * retried by the dispatcher at not_before, while later records of that
 * key wait behind it. Records of other keys go on.
 *
 * Threads: everything on the loop thread of the backend.
 */
#ifndef SL_TRIGGERS_DISPATCH_H
#define SL_TRIGGERS_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/backend.h"

struct sl_diag;
struct sl_dispatch;
struct sl_filter;
struct sl_loop;

/*
 * The end of one delivery: 'job' is the value the dispatcher passed to
 * deliver; 'how' is DONE, or RETRY at how->not_before_ms with
 * how->attempts attempts made so far.
 */
typedef void sl_deliver_done_fn(void *job, const struct sl_settle *how);

/*
 * What delivers a matching record. 'deliver' starts delivering
 * rec->ev to the trigger's subscriber (rec is valid, event included,
 * until done runs or the job is cancelled; rec->attempts counts the
 * attempts already made) and must end with exactly one done(job, how),
 * later or from inside 'deliver'. 'cancel' (called when the dispatcher
 * is freed) stops the job 'job' in flight: done must not run for it
 * afterwards. Neither depends on the dispatcher, so a deliverer can be
 * driven on its own (tests).
 */
struct sl_deliverer {
    void (*deliver)(void *arg, const struct sl_record *rec,
                    sl_deliver_done_fn *done, void *job);
    void (*cancel)(void *arg, void *job);
    void *arg;
};

/* Annotations read by sl_dispatch_opts_from_annotations(). */
#define SL_DISPATCH_MAX_IN_FLIGHT_ANNOTATION "sluice.dev/max-in-flight"
#define SL_DISPATCH_MAX_RATE_ANNOTATION      "sluice.dev/max-rate"
#define SL_DISPATCH_ORDER_ANNOTATION         "kafka.eventing.knative.dev/delivery.order"
#define SL_DISPATCH_DEFAULT_MAX_IN_FLIGHT    100

struct sl_dispatch_opts {
    const char *group;      /* consumer group, required (copied) */
    uint32_t max_in_flight; /* 0 -> SL_DISPATCH_DEFAULT_MAX_IN_FLIGHT */
    double max_rate;        /* events/s started; 0 = no limit */
    bool ordered;
};

/*
 * Read the annotations of a Trigger ('annotations' borrowed, may be
 * NULL) into 'o' (group untouched): max-in-flight a decimal integer
 * 1..100000, max-rate a decimal number > 0 (digits with an optional
 * fraction: "10", "0.5"), delivery.order "ordered" or "unordered". A
 * field whose annotation is absent keeps its value in 'o' (so a caller
 * can preset defaults). Returns 0, or SL_EINVAL with 'd' naming the
 * annotation ("metadata.annotations.sluice.dev/max-rate") and 'o'
 * unchanged.
 */
int sl_dispatch_opts_from_annotations(struct sl_dispatch_opts *o,
                                      const struct json_object *annotations,
                                      struct sl_diag *d);

/*
 * Start dispatching: subscribe 'opts->group' on 'b' (open; borrowed, must
 * outlive the dispatcher) with 'filter' (borrowed, must outlive it; NULL
 * matches everything) and 'dl' (copied); 'loop' must be the backend's.
 * Returns 0 with '*out', SL_EINVAL (empty group, negative max_rate,
 * deliverer without deliver/cancel, another loop), or
 * the backend's code (SL_EAGAIN not open, SL_EEXIST group already
 * subscribed here), with 'd' set.
 */
int sl_dispatch_new(struct sl_loop *loop, struct sl_backend *b,
                    const struct sl_dispatch_opts *opts,
                    const struct sl_filter *filter,
                    const struct sl_deliverer *dl, struct sl_dispatch **out,
                    struct sl_diag *d);

/* Swap the filter (borrowed, as above) for records not yet filtered. */
void sl_dispatch_set_filter(struct sl_dispatch *dp,
                            const struct sl_filter *filter);

/*
 * Cancel jobs in flight (deliverer.cancel), unsubscribe (unsettled
 * records come again to the next subscriber of the group) and free.
 * NULL is a no-op. Not from inside a deliverer callback.
 */
void sl_dispatch_free(struct sl_dispatch *dp);

/* Counters since start. */
struct sl_dispatch_stats {
    uint64_t received;  /* records pushed by the backend */
    uint64_t filtered;  /* settled DONE without delivery (no match) */
    uint64_t delivered; /* jobs done with DONE */
    uint64_t retried;   /* jobs done with RETRY */
    uint32_t in_flight; /* now: jobs started and not done */
    uint32_t waiting;   /* now: matching records held (rate, order) */
};
void sl_dispatch_stats(const struct sl_dispatch *dp,
                       struct sl_dispatch_stats *out);

#endif
