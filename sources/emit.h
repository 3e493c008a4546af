/*
 * sources/emit.h - the emitter: how a source's events reach its sink.
 *
 * One emitter per running source. sl_emit() sends one CloudEvent to the
 * sink URL in binary mode with "Kn-Namespace: <ns>" (no "Prefer: reply";
 * the response body is read and ignored) and retries it with the fixed
 * policy of Knative's sources (the sdk-go client of the PingSource and
 * ApiServerSource adapters, reference 3.2 and 3.3), which the user cannot
 * change:
 *
 *   - at most SL_EMIT_RETRIES (5) retries after the first attempt;
 *   - the wait before retry k (k = 1..5) is SL_EMIT_BACKOFF_MS * 2^k:
 *     100, 200, 400, 800, 1600 ms (no jitter);
 *   - retried: no response (connection refused or reset, timeout), 404,
 *     413, 425, 429, 502, 503, 504; any 2xx is success; everything else
 *     (1xx, 3xx, other 4xx, 500, 501, 505 and up) fails at once.
 *
 * After the last attempt the event is lost, as in Knative: one log line
 * at warn level says so (event id, attempts, last status or error). No
 * dead-letter sink exists for sources.
 *
 * Nothing blocks the loop: attempts go through the shared HTTP sender
 * (sinks/http_sender.h) and waits are loop timers. Each attempt has a
 * timeout (cfg.timeout_ms), so that a sink that never answers holds an
 * event for a bounded time (six timeouts plus the backoff).
 *
 * Bounded in flight: an emitter holds at most cfg.max_in_flight events at
 * once, counting those waiting for a retry. When a sink is slower than
 * the source produces (a schedule firing faster than the sink answers,
 * or a sink down with every event in its retries), sl_emit() refuses the
 * new event with SL_EBUSY and the source drops it (and logs); the events
 * already held keep their attempts. So memory and connections per source
 * stay bounded and a recovered sink sees the newest events again at once.
 *
 *     struct sl_emitter_cfg c = { .sender = s, .url = u, .ns = "default" };
 *     sl_emitter_new(loop, &c, &em, &d);
 *     if (sl_emit(em, ev, on_done, ctx) == SL_EBUSY) ... dropped ...
 *     ... on_done(ctx, res) runs once, later ...
 *     sl_emitter_free(em);   (cancels the rest: on_done with SL_ECANCELED)
 *
 * Threads: everything on the loop thread of the sender.
 */
#ifndef SL_SOURCES_EMIT_H
#define SL_SOURCES_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "sinks/retry.h"

struct sl_diag;
struct sl_event;
struct sl_loop;
struct sl_metrics_source;
struct sl_sender;
struct sl_emitter;

/* The fixed policy (reference 3.3, sources column of 3.2). */
#define SL_EMIT_RETRIES    5
#define SL_EMIT_BACKOFF_MS 50

/* Defaults of struct sl_emitter_cfg. */
#define SL_EMIT_DEFAULT_MAX_IN_FLIGHT 32
#define SL_EMIT_DEFAULT_TIMEOUT_MS    30000

struct sl_emitter_cfg {
    /* Borrowed; must outlive the emitter. */
    struct sl_sender *sender;
    const char *url; /* the sink, http:// or https://; copied; required */
    const char *ns;  /* "Kn-Namespace" value; copied; NULL sends none */
    /* Events held at once (in an attempt or waiting for a retry);
     * 0 -> SL_EMIT_DEFAULT_MAX_IN_FLIGHT. */
    unsigned max_in_flight;
    /* Per attempt, connection to last byte; 0 -> the default (30 s). */
    int64_t timeout_ms;
    /* Who the log lines name ("source PingSource ns/name"); copied; NULL
     * logs as comp "source" without an object. */
    const struct sl_log_ctx *log;
    /* Borrowed, may be NULL; must outlive the emitter. Each retried
     * attempt is counted with sl_metrics_source_retry and each event's
     * final outcome (delivered or lost, not cancelled) with
     * sl_metrics_source_event (core/metrics_kn.h). */
    struct sl_metrics_source *metrics;
};

/* How one event ended. Borrowed for the duration of the callback. */
struct sl_emit_result {
    /* 0: a 2xx arrived. SL_EIO: given up (retries used up, or an answer
     * that is not retried); SL_ECANCELED: cancelled or the emitter freed
     * before it ended. */
    int rc;
    int status;         /* last HTTP status, 0 when none arrived */
    int attempts;       /* attempts made, 0..SL_EMIT_RETRIES+1 */
    const char *errmsg; /* last transport error, "" when a status came */
};

/*
 * The end of one event: runs exactly once per accepted sl_emit(), on the
 * loop thread, never from inside sl_emit() itself. It may call sl_emit()
 * and sl_emitter_cancel(), but must not free the emitter (defer that).
 */
typedef void sl_emit_done_fn(void *arg, const struct sl_emit_result *res);

/* Counters since creation. */
struct sl_emitter_stats {
    uint64_t accepted;  /* sl_emit() calls that returned 0 */
    uint64_t refused;   /* sl_emit() calls refused with SL_EBUSY */
    uint64_t attempts;  /* HTTP attempts started */
    uint64_t delivered; /* events that got a 2xx */
    uint64_t lost;      /* events given up */
};

/*
 * Create an emitter on 'loop' (the sender's). Returns 0 with '*out', or
 * SL_EINVAL (no sender, no URL, a negative timeout) with 'd' saying why
 * and '*out' NULL.
 */
int sl_emitter_new(struct sl_loop *loop, const struct sl_emitter_cfg *cfg,
                   struct sl_emitter **out, struct sl_diag *d);

/*
 * Send later attempts to 'url' (copied) instead: the events held keep
 * their attempt counts and go to the new URL from their next attempt on.
 * Returns 0, or SL_EINVAL when 'url' is NULL or empty.
 */
int sl_emitter_set_url(struct sl_emitter *em, const char *url);

/* The sink URL now. Borrowed until the next sl_emitter_set_url(). */
const char *sl_emitter_url(const struct sl_emitter *em);

/*
 * Start sending 'ev' (valid, complete) and return without blocking. The
 * emitter takes its own reference; the caller keeps theirs. 'done' (may be
 * NULL) runs once when the event is delivered, lost or cancelled.
 * Returns 0, or with nothing started and 'done' never called: SL_EBUSY
 * (max_in_flight events are held; the caller drops the event), SL_EINVAL
 * (no event), SL_ECANCELED (the emitter is being freed).
 */
int sl_emit(struct sl_emitter *em, struct sl_event *ev, sl_emit_done_fn *done,
            void *arg);

/*
 * Cancel every event held: attempts in flight are aborted, retry waits
 * stopped, and each done runs from inside this call with SL_ECANCELED.
 * Events emitted from those callbacks are not cancelled. Returns how many
 * were.
 */
size_t sl_emitter_cancel(struct sl_emitter *em);

/* Events held now (in an attempt or waiting for a retry). */
size_t sl_emitter_in_flight(const struct sl_emitter *em);

/* Counters. */
void sl_emitter_stats(const struct sl_emitter *em,
                      struct sl_emitter_stats *out);

/* Cancel what is held (as sl_emitter_cancel) and free. NULL is a no-op.
 * Not from a done callback of this emitter. */
void sl_emitter_free(struct sl_emitter *em);

/*
 * The verdict of the sources' policy on one attempt answered with
 * 'status' (0: no response): SL_RETRY_SUCCESS for 2xx, SL_RETRY_AGAIN for
 * no response, 404, 413, 425, 429, 502, 503 and 504, SL_RETRY_FAIL for
 * everything else.
 */
enum sl_retry_class sl_emit_classify(int status);

/*
 * The wait before retry 'k' in ms: SL_EMIT_BACKOFF_MS * 2^k for k = 1..
 * SL_EMIT_RETRIES; 0 outside that range.
 */
int64_t sl_emit_backoff_ms(int k);

#endif
