/*
 * broker/redis/internal.h - what the files of the Redis backend share: the
 * parsed URL, a reconnecting hiredis connection driven by sluice's loop
 * (conn.c), the instance and subscription structs, and the subscription
 * entry points redis.c calls (sub.c).
 *
 * Threads: everything here runs on the backend's loop thread.
 */
#ifndef SL_BROKER_REDIS_INTERNAL_H
#define SL_BROKER_REDIS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "broker/backend.h"
#include "core/log.h"

struct sl_diag;
struct sl_io;
struct sl_timer;

/* Longest stream ID text ("<u64>-<u64>") plus its NUL. */
#define SL_REDIS_ID_MAX 48

/* Default command (and connect) timeout: redis.command.timeout.ms. */
#define SL_REDIS_TIMEOUT_MS 5000

/* ---- URL (conn.c) ---- */

/* redis://[[user]:password@]host[:port][/db] */
struct sl__redis_url {
    char *host;
    int port;   /* default 6379 */
    char *user; /* NULL: AUTH with the password only */
    char *pass; /* NULL: no AUTH */
    int db;     /* SELECT when > 0 */
};

/*
 * Parse 's' into '*out' (overwritten; sl__redis_url_fini it afterwards
 * whatever the result). Returns 0 or SL_EINVAL with 'diag' naming the
 * field 'redis.url'.
 */
int sl__redis_url_parse(const char *s, struct sl__redis_url *out,
                        struct sl_diag *diag);
void sl__redis_url_fini(struct sl__redis_url *u);

/* ---- a reconnecting connection (conn.c) ---- */

struct sl__redis_link;

/* The connection became ready (handshake answered) or went down. */
typedef void sl__redis_conn_fn(void *arg);

/*
 * One Redis connection that survives its TCP connections: each attempt is
 * a "link" (one redisAsyncContext watched by an sl_io). The handshake
 * (AUTH, SELECT, PING) must be answered within timeout_ms; then on_ready
 * runs. Once ready, a command not answered within timeout_ms + extra_ms
 * drops the link as if it were lost ('stalled' is then set until the
 * next ready or a loss of another kind). When the link is lost (or an
 * attempt fails) every pending reply callback runs with a NULL reply
 * (hiredis), then on_down runs from a timer, and, when 'reconnect' is
 * set, a new attempt starts after a backoff doubling from 100 ms to 5 s
 * (reset once ready).
 */
struct sl__redis_conn {
    struct sl_loop *loop;
    const struct sl__redis_url *url; /* borrowed */
    const struct sl_log_ctx *log;    /* borrowed */
    const char *what;                /* for log lines: "writer", "reader" */
    struct sl__redis_link *link;     /* current attempt, NULL when down */
    bool ready;                      /* handshake answered */
    bool reconnect;                  /* start a new attempt after a loss */
    bool down_pending;               /* on_down to run from 'timer' */
    bool stalled;                    /* the last link timed out */
    uint32_t backoff_ms;
    uint32_t timeout_ms;    /* handshake and commands; set before start */
    uint32_t extra_ms;      /* added for commands: BLOCK, WAIT */
    struct sl_timer *timer; /* on_down and reconnect */
    struct sl_timer *watch; /* the oldest pending command's age */
    sl__redis_conn_fn *on_ready;
    sl__redis_conn_fn *on_down;
    void *arg;
    sl__redis_conn_fn *drained; /* sl__redis_conn_drain */
    void *drained_arg;
};

void sl__redis_conn_init(struct sl__redis_conn *c, struct sl_loop *loop,
                         const struct sl__redis_url *url,
                         const struct sl_log_ctx *log, const char *what,
                         sl__redis_conn_fn *on_ready,
                         sl__redis_conn_fn *on_down, void *arg);
/* Start an attempt now (no-op when one is under way). */
void sl__redis_conn_start(struct sl__redis_conn *c);
/*
 * Drop the current link at once (pending callbacks run with NULL, maybe
 * from inside this call) and stop reconnecting. on_down does not run.
 */
void sl__redis_conn_stop(struct sl__redis_conn *c);
/*
 * Graceful end: no new commands; once every pending reply has arrived
 * (or the oldest has waited past the timeout: the link is then dropped
 * and the rest get NULL replies) the link closes and fn(arg) runs (from
 * a timer when there is no link).
 */
void sl__redis_conn_drain(struct sl__redis_conn *c, sl__redis_conn_fn *fn,
                          void *arg);
/* Stop and free the timers. */
void sl__redis_conn_fini(struct sl__redis_conn *c);

/*
 * Send a command (binary-safe argv) when the connection is ready. fn may
 * be NULL (reply ignored). Returns 0 (fn runs exactly once, with a NULL
 * reply if the link is lost or times out) or SL_EAGAIN (not ready; fn
 * will not run).
 */
int sl__redis_conn_cmd(struct sl__redis_conn *c, redisCallbackFn *fn,
                       void *privdata, int argc, const char **argv,
                       const size_t *lens);

/* A growable argv for sl__redis_conn_cmd. */
struct sl__redis_argv {
    const char **v;
    size_t *len;
    char **owned;
    int n, cap, nowned;
};

void sl__redis_argv_init(struct sl__redis_argv *a);
/* Add s[0..n) (borrowed: must outlive the command call). */
void sl__redis_argv_add(struct sl__redis_argv *a, const char *s, size_t n);
/* Add a C string (borrowed). */
void sl__redis_argv_adds(struct sl__redis_argv *a, const char *s);
/* Add a formatted copy (owned by 'a'). */
void sl__redis_argv_addf(struct sl__redis_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add s[0..n), taking ownership of 's' (from sl_xmalloc; freed by fini). */
void sl__redis_argv_take(struct sl__redis_argv *a, char *s, size_t n);
void sl__redis_argv_fini(struct sl__redis_argv *a);
/* sl__redis_conn_cmd with 'a'. */
int sl__redis_conn_cmdv(struct sl__redis_conn *c, redisCallbackFn *fn,
                        void *privdata, const struct sl__redis_argv *a);

/* ---- the instance (redis.c) and subscriptions (sub.c) ---- */

struct sl__redis_sub;

struct sl__redis {
    struct sl_backend base;
    struct sl__redis_url url;
    char *key;             /* the stream: knative-broker:<ns>:<name> */
    int64_t claim_idle_ms; /* XAUTOCLAIM threshold */
    int wait_replicas;     /* WAIT after EXEC when > 0 */
    uint32_t timeout_ms;   /* redis.command.timeout.ms */
    struct sl__redis_conn main;
    struct sl_timer *claim_timer;
    struct sl__redis_sub *subs;
    struct sl_backend_stats stats;
    uint64_t undecodable; /* entries settled DONE because they do not decode */
    sl_backend_done_fn *pending_done; /* open or close completion */
    void *pending_arg;
    struct sl_log_ctx log;
};

/* Open: the writer connection became ready or went down for good. */
void sl__redis_sub_main_ready(struct sl__redis *r);

/* The backend's periodic XAUTOCLAIM pass over every subscription. */
void sl__redis_sub_claim_all(struct sl__redis *r);

/* ops slots implemented in sub.c */
int sl__redis_subscribe(struct sl_backend *b, const char *group,
                        const struct sl_backend_sub_opts *opts,
                        sl_backend_record_fn *on_record, void *arg,
                        struct sl_backend_sub **out);
int sl__redis_settle(struct sl_backend_sub *sub, const struct sl_record *rec,
                     const struct sl_settle *how);
void sl__redis_unsubscribe(struct sl_backend_sub *sub);

/*
 * The stream field holding an event's transport headers in their stored
 * form (sl_event_headers_encode). Attribute names are [a-z0-9]+, so no
 * attribute can take this name.
 */
#define SL__REDIS_HEADERS_FIELD "sluice:headers"

/*
 * Append the fields of 'ev' to an XADD command: name and value of each
 * attribute, "data" and the data when it has data, and
 * SL__REDIS_HEADERS_FIELD with its transport headers when it has some.
 */
void sl__redis_encode(const struct sl_event *ev, struct sl__redis_argv *v);

/*
 * Rebuild an event from a stream entry's field array (reply of type
 * ARRAY, alternating names and values). Returns the validated event (one
 * reference) or NULL (logged by the caller). Transport headers come from
 * SL__REDIS_HEADERS_FIELD; when that field does not decode the event
 * comes back without them.
 */
struct sl_event *sl__redis_decode(const redisReply *fields,
                                  size_t max_event_size);

/* Parse "<ms>-<seq>" into a position. Returns 0 or SL_EINVAL. */
int sl__redis_id_parse(const char *id, struct sl_pos *out);

#endif
