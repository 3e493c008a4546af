/*
 * sinks/http_sender.h - asynchronous delivery of CloudEvents over HTTP:
 * one POST per call on libcurl multi, driven by a loop, no threads.
 *
 * A sender owns one libcurl multi handle whose sockets are watchers on
 * the loop and whose timeout is a loop timer
 * (curl_multi_socket_action), so every request, callback and the
 * sender itself live on the loop thread: every function here must be
 * called on it. (libcurl's threaded resolver may look a host name up on
 * a thread of its own; the answer comes back through a socket like any
 * other, and nothing of ours runs there.) Connections are kept alive and
 * reused across requests to the same host and port; DNS answers are
 * cached for a minute.
 *
 * One call is one attempt. Retries, backoff and dead-lettering are the
 * caller's (sinks/retry.h has the rules); the sender reports what
 * happened in enough detail to apply them: transport error or HTTP
 * status, the response headers (Retry-After), the body (bounded), and
 * whether a 2xx response carried a reply event.
 *
 *     struct sl_sender *s;
 *     sl_sender_new(loop, NULL, &s);
 *     struct sl_send_req rq = { .url = u, .ev = ev, .prefer_reply = true,
 *                               .kn_namespace = "default",
 *                               .timeout_ms = 5000 };
 *     if (sl_sender_send(s, &rq, on_done, ctx) < 0) ... (no callback) ...
 *     ... on_done(ctx, res) runs once, later, on the loop thread ...
 *     sl_sender_free(s);   (cancels what is left: on_done with SL_ECANCELED)
 *
 * No redirects are followed (a 3xx is an answer), no proxy from the
 * environment is used, no "Expect: 100-continue" is sent; only http and
 * https URLs are accepted.
 */
#ifndef SL_SINKS_HTTP_SENDER_H
#define SL_SINKS_HTTP_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"
#include "proto/http.h"
#include "sinks/retry.h"

struct sl_loop;
struct sl_sender;

/* Sender settings; zero in any field picks the default shown. */
struct sl_sender_opts {
    /* Requests in flight at once; sl_sender_send() says SL_EBUSY beyond.
     * Default 1000. */
    unsigned max_in_flight;
    /* Largest response body kept; a longer one is cut off there (the
     * connection is closed) and flagged. Also the size limit of a reply
     * event. Default 1 MiB (SL_CE_DEFAULT_MAX_EVENT_SIZE). */
    size_t max_body;
    /* Idle keep-alive connections kept for reuse (CURLMOPT_MAXCONNECTS).
     * Default 256. */
    unsigned max_idle_conns;
    /* Connections at once to one host:port; requests beyond wait inside
     * libcurl for one to free up (their timeout runs meanwhile). Default
     * 0: no limit. */
    unsigned max_host_conns;
    /* Connections at once in all; requests beyond wait inside libcurl for
     * one to free up (their timeout runs meanwhile), so that slow
     * subscribers cannot take every file descriptor of the process.
     * Default 0: no limit. */
    unsigned max_total_conns;
    /* Limit for setting up a connection, within the request's own
     * timeout. Default 30000 ms (Go's default dialer). */
    long connect_timeout_ms;
};

/* One attempt. Everything is borrowed for the duration of the call. */
struct sl_send_req {
    const char *url; /* http:// or https:// */
    /* The event; encoded during the call (the sender keeps no reference),
     * in binary mode unless 'mode' is SL_CE_STRUCTURED_MODE. An event
     * whose datacontenttype is itself a CloudEvents type goes structured
     * whatever 'mode' says (proto/http.h). */
    const struct sl_event *ev;
    enum sl_ce_mode mode;
    bool prefer_reply;        /* send "Prefer: reply" (not to a DLS) */
    const char *kn_namespace; /* send "Kn-Namespace: <ns>" when not NULL */
    /* More request headers (pass-through ones, see
     * sl_sender_header_passes). Names must be HTTP tokens and values free
     * of control characters; Content-Type, Content-Length,
     * Transfer-Encoding, Host, Expect and ce-* are refused, since the
     * event and the sender write those. */
    const struct sl_http_header *headers;
    size_t nheaders;
    /* The whole attempt, connection to last byte, in ms; 0 = no limit.
     * From sl_retry_policy.timeout_ns rounded up, so that a sub-
     * millisecond timeout does not become none. */
    int64_t timeout_ms;
};

/*
 * What one attempt gave. Everything is borrowed from the sender and valid
 * only during the done callback.
 */
struct sl_send_result {
    /* 0 when a response arrived (whatever its status); otherwise:
     *   SL_EIO        connection refused or reset, name not resolved,
     *                 the connection closed before a complete response
     *   SL_ETIMEDOUT  the request's timeout (or the connect timeout) hit
     *   SL_EPROTO     the response was not valid HTTP
     *   SL_ETOOBIG    the response headers exceeded 64 KiB
     *   SL_EINVAL     the URL was refused (malformed, not http/https)
     *   SL_ECANCELED  cancelled (sl_sender_cancel*, sl_sender_free)
     * Any of these is "no response" to sl_retry_classify (status 0). */
    int err;
    const char *errmsg; /* one line saying why when err != 0, else "" */
    int status;         /* the HTTP status; 0 when err != 0 */
    /* Response headers of the final response, in order (empty when err
     * != 0); 'retry_after' is the Retry-After value among them or NULL. */
    const struct sl_http_headers *headers;
    const char *retry_after;
    /* The response body, at most opts.max_body bytes, NUL-terminated
     * (not counted); 'body_too_big' when it was longer (the rest was not
     * read). */
    const void *body;
    size_t body_len;
    bool body_too_big;
    /* For a 2xx status: SL_REPLY_EVENT with 'reply_event' set when the
     * response is one valid CloudEvent (binary or structured mode), or
     * SL_REPLY_NOT_EVENT with the reason in 'reply_error' when the body is
     * non-empty and not that (or too big), else SL_REPLY_NONE. Always
     * SL_REPLY_NONE for other statuses. 'reply_event' is borrowed: keep it
     * with sl_event_ref(); the sender drops its own reference when the
     * callback returns, so the caller's is then the only one and the
     * event may still be changed (the TTL) before it is published. */
    enum sl_reply_kind reply;
    struct sl_event *reply_event;
    const char *reply_error; /* "" unless reply == SL_REPLY_NOT_EVENT */
    int64_t elapsed_ms; /* from sl_sender_send() to now (monotonic clock) */
};

/*
 * The end of one attempt: runs exactly once per accepted
 * sl_sender_send(), on the loop thread, never from inside
 * sl_sender_send() itself. It may call sl_sender_send() (the connection
 * just used is already free for reuse), sl_sender_cancel() and
 * sl_sender_cancel_all(), but must not free the sender (defer that with
 * a timer or sl_loop_post()), except when called from sl_sender_free().
 */
typedef void sl_send_done_fn(void *arg, const struct sl_send_result *res);

/*
 * Create a sender on 'loop' with 'opts' (NULL for defaults). Sets up
 * libcurl's global state on first use. '*out' receives the sender, or
 * NULL on failure. Returns 0, or SL_EIO when libcurl cannot be set up.
 */
int sl_sender_new(struct sl_loop *loop, const struct sl_sender_opts *opts,
                  struct sl_sender **out);

/*
 * Cancel every request in flight (their done callbacks run from inside
 * this call with SL_ECANCELED), close every connection and free the
 * sender. Requests sent from those callbacks are refused with
 * SL_ECANCELED. Not from a done callback of this sender. NULL is a no-op.
 */
void sl_sender_free(struct sl_sender *s);

/*
 * Start one POST of rq->ev to rq->url and return without waiting.
 * done(arg, res) runs once when it ends. Returns 0, or, with nothing
 * started and 'done' never called: SL_EBUSY (opts.max_in_flight requests
 * are in flight), SL_EINVAL (no URL, no event, no callback, a batch mode,
 * a header refused as described in sl_send_req), SL_ECANCELED (the sender
 * is being freed), SL_ENOMEM or SL_EIO (libcurl refused the transfer).
 */
int sl_sender_send(struct sl_sender *s, const struct sl_send_req *rq,
                   sl_send_done_fn *done, void *arg);

/*
 * Cancel every request in flight whose done argument is 'arg': each done
 * runs from inside this call with SL_ECANCELED. Returns how many.
 */
size_t sl_sender_cancel(struct sl_sender *s, void *arg);

/*
 * Cancel every request in flight, as above. Requests sent from those
 * done callbacks are not cancelled. Returns how many were.
 */
size_t sl_sender_cancel_all(struct sl_sender *s);

/* Requests in flight now. */
size_t sl_sender_in_flight(const struct sl_sender *s);

/*
 * True when a header of an incoming event may be passed on to the
 * subscriber (reference 1.6, Knative's allow-list): "x-request-id",
 * "retry-after", and names starting "knative-" or "x-b3-", compared
 * without regard to case. The same rule as sl_ce_http_header_passes
 * (proto/http.h), which the layers below sinks use.
 */
bool sl_sender_header_passes(const char *name);

#endif
