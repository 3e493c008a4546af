/*
 * broker/ingress.h - the broker ingress: an HTTP server (net/server.h)
 * that takes CloudEvents POSTed to /<namespace>/<broker> and appends them
 * to that broker's log through the backend contract (broker/backend.h).
 *
 * Answers (docs/broker.md, section "Ingress", has the reasons):
 *   OPTIONS any path          200, WebHook-Allowed-Origin/-Rate: *
 *   other methods than POST   405
 *   POST /                    404
 *   POST, path not /ns/name   400 (one trailing slash allowed)
 *   unknown broker            404 (lookup NULL, *why SL_ENOENT)
 *   broker not available      503 (lookup NULL, other *why; or the
 *                                  backend refuses the append now)
 *   bad event                 400, body names the attribute or header
 *   structured, not JSON      415
 *   body or event too large   413 (body: answered by net/server itself)
 *   TTL exhausted             400, the event is dropped
 *   appended, durable         202, empty body
 *   append failed             503
 * Every answer the ingress gives carries "Allow: POST, OPTIONS"; bodies of
 * error answers are one line of plain text.
 *
 * The ingress sets "knativearrivaltime" (RFC 3339, the time the request
 * was handled) on every event and applies the TTL rule to
 * "knativebrokerttl": absent or not an integer -> opts->max_ttl; present
 * -> decremented by one, and the request is refused when that leaves it
 * at 0 or below. The request's headers on Knative's pass-through
 * allow-list, and the W3C trace-context headers (proto/http.h), become
 * the transport headers of every event it carries (proto/event.h); past
 * SL_EVENT_MAX_HEADERS headers or SL_EVENT_MAX_HEADER_BYTES bytes the
 * rest are left out, not refused (counted in headers_dropped). A batch (batched
 * mode) is appended all-or-nothing: one bad event refuses the whole request.
 * A backend flagged SL_BACKEND_F_PLAIN (broker/backend.h: a KafkaSink) is
 * not a broker: its events are appended without "knativearrivaltime" and
 * without the TTL rule, and the answers call it a "sink".
 *
 * Metrics (opts.metrics, core/metrics_kn.h): every event of every POST
 * answered is counted in mt_broker_ingress_event_count with the answer's
 * status, and the time from the handler getting the request to the
 * answer is observed in mt_broker_ingress_event_dispatch_latencies; a
 * request that carried no readable event counts once with event_type "",
 * one that names no existing broker (or a malformed path) with empty
 * namespace and broker names. OPTIONS, 405 and the 413 net/server gives
 * on its own are not counted (docs/metrics.md).
 *
 * Threads: everything, the lookup callback included, runs on the loop
 * thread.
 */
#ifndef SL_BROKER_INGRESS_H
#define SL_BROKER_INGRESS_H

#include <stddef.h>
#include <stdint.h>

struct sl_backend;
struct sl_diag;
struct sl_ingress;
struct sl_loop;
struct sl_metrics;

/*
 * Find the backend of broker ns/name (both percent-decoded path
 * segments). Returns the backend (borrowed; it must stay valid until
 * every append started on it has completed, which closing the backend
 * guarantees), or NULL with '*why' set: SL_ENOENT when there is no such
 * broker (404), anything else when the broker exists but cannot take
 * events now (503, the message says sl_strerror(*why)). '*why' is
 * SL_ENOENT on entry. Loop thread.
 */
typedef struct sl_backend *sl_ingress_lookup_fn(void *arg, const char *ns,
                                                const char *name, int *why);

/* Settings; zero picks the default in brackets. */
struct sl_ingress_opts {
    /* "host:port" as net/server.h takes it ["127.0.0.1:8080"]. */
    const char *listen;
    /* Largest request body and largest event, bytes [1 MiB]. */
    size_t max_event_size;
    /* TTL given to events without a usable knativebrokerttl [255]. */
    int32_t max_ttl;
    /* Connections open at once [net/server.h default]. */
    unsigned max_connections;
    /* Required. */
    sl_ingress_lookup_fn *lookup;
    void *lookup_arg;
    /* Where to count events (mt_broker_ingress_*, core/metrics_kn.h);
     * borrowed, must outlive the ingress; NULL: no metrics. */
    struct sl_metrics *metrics;
};

/* Counters since the ingress started. */
struct sl_ingress_stats {
    uint64_t requests;  /* requests handled (not those net/server answered) */
    uint64_t accepted;  /* requests answered 202 */
    uint64_t events;    /* events made durable */
    uint64_t rejected;  /* requests answered 4xx */
    uint64_t failed;    /* requests answered 5xx */
    uint64_t abandoned; /* appends that completed after the client left */
    uint64_t waiting;   /* now: clients waiting for an append (a gauge) */
    uint64_t headers_dropped; /* pass-through headers left out (limits) */
};

/*
 * Start an ingress on 'loop'. '*out' receives it or NULL. Returns 0,
 * SL_EINVAL (no lookup callback, max_ttl < 0, bad listen address) or the
 * server's error when the address cannot be bound; 'diag' says why.
 */
int sl_ingress_new(struct sl_loop *loop, const struct sl_ingress_opts *opts,
                   struct sl_ingress **out, struct sl_diag *diag);

/* The port it listens on (useful with port 0). */
unsigned sl_ingress_port(const struct sl_ingress *ing);

/* The counters. */
void sl_ingress_stats(const struct sl_ingress *ing,
                      struct sl_ingress_stats *out);

/*
 * Stop listening, close every connection and free the ingress. Requests
 * waiting for an append lose their answer; the appends themselves still
 * complete (the backend runs their done callbacks, which then only free
 * their state), so backends must be closed after this, and the loop run
 * until they are. Not from inside a callback of this ingress. NULL is a
 * no-op.
 */
void sl_ingress_free(struct sl_ingress *ing);

#endif
