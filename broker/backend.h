/*
 * broker/backend.h - the broker log contract: what every backend (embedded
 * SQLite now, Redis and Kafka later) implements, the registry that lists
 * them and the wrappers the rest of sluice calls them through.
 *
 * Shape (STYLE.md section 4): a backend is a const struct sl_backend_ops
 * plus an instance struct that embeds struct sl_backend first; the core
 * allocates ops->size zeroed bytes, calls init, and frees after fini.
 *
 * Threads. A backend belongs to the thread of its loop (cfg.loop): every
 * function here is called on that thread and every callback (done,
 * on_record) runs on it. A backend may do blocking work on threads of its
 * own (the embedded one fsyncs on a writer thread) and hands results back
 * with sl_loop_post().
 *
 * Life cycle:  new(init) -> open(done) -> [append | subscribe | settle |
 *              unsubscribe | retention]* -> close(done) -> [delete] ->
 * free(fini)
 *
 * Positions. A record's place in the log is a struct sl_pos. Within one
 * partition positions grow in log order; DONE progress is made per
 * partition as "everything below this position is final" (see settle),
 * which is exactly a Kafka committed offset, a Redis XACK set, and the
 * embedded cursor. See docs/broker.md for the mapping.
 */
#ifndef SL_BROKER_BACKEND_H
#define SL_BROKER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "proto/event.h"

struct sl_diag;
struct sl_loop;

#define SL_BACKEND_ABI 1

/*
 * A position in a broker log.
 *   embedded: partition 0, offset = the record's sequence number, sub 0
 *   Kafka:    (partition, offset), sub 0
 *   Redis:    partition 0, offset = stream ID milliseconds, sub = its seq
 * Positions of one partition order as (offset, sub).
 */
struct sl_pos {
    int32_t partition;
    uint64_t offset;
    uint64_t sub;
};

/* -1, 0, 1 as 'a' is before, at, after 'b' (partition compared first). */
int sl_pos_cmp(const struct sl_pos *a, const struct sl_pos *b);

/*
 * A record pushed to a subscriber. Owned by the backend: valid (event
 * included) until it is settled or its subscription is removed. A
 * subscriber that keeps the event past that takes its own reference.
 */
struct sl_record {
    struct sl_event *ev; /* borrowed reference */
    struct sl_pos pos;   /* its place in the log */
    uint32_t attempts;   /* attempts recorded by earlier RETRY settles */
    int64_t appended_ms; /* wall time the log accepted it (ms epoch) */
};

/* Outcome of one record for one group. */
enum sl_settle_outcome {
    /* Final: delivered, dead-lettered, or given up. Progress may pass it. */
    SL_SETTLE_DONE = 0,
    /* Not final: push it again at not_before_ms (wall, ms since epoch). */
    SL_SETTLE_RETRY = 1,
};

struct sl_settle {
    enum sl_settle_outcome outcome;
    int64_t not_before_ms; /* RETRY: wall-clock ms since the epoch */
    uint32_t attempts;     /* RETRY: attempts so far (seen again in
                              sl_record.attempts) */
};

/* Limits a broker log is created with (0 = the default in brackets). */
struct sl_backend_limits {
    size_t max_event_size; /* bytes per event [SL_CE_DEFAULT_MAX_EVENT_SIZE] */
    size_t max_batch;      /* events per append [1000] */
    size_t max_group_commit; /* appends per transaction [4096] */
};

/* What init receives (strings are copied; the loop is borrowed). */
struct sl_backend_cfg {
    struct sl_loop *loop;
    const char *ns;       /* broker namespace */
    const char *name;     /* broker name */
    const char *data_dir; /* existing directory for local files */
    struct sl_backend_limits limits;
    /* Settings, an object of strings (borrowed during init; NULL = none):
     * the Broker's spec.config ConfigMap data with the daemon's defaults
     * filled in for keys it lacks ("redis.url" from --redis-url,
     * "bootstrap.servers" from --kafka-bootstrap). */
    const struct json_object *config;
};

/* Counters (monotonic since open). */
struct sl_backend_stats {
    uint64_t appends;      /* append calls completed with 0 */
    uint64_t events;       /* events made durable */
    uint64_t transactions; /* durable commits (one fsync each, embedded) */
    uint64_t removed;      /* records removed by retention */
};

struct sl_backend;
struct sl_backend_sub;

/* Completion of open/append/close/retention: rc 0 or SL_E*. Loop thread. */
typedef void sl_backend_done_fn(void *arg, int rc);

/*
 * A record for a subscription. Loop thread. The subscriber must
 * eventually settle it (or unsubscribe). It may call settle and
 * unsubscribe from inside the callback.
 */
typedef void sl_backend_record_fn(void *arg, struct sl_backend_sub *sub,
                                  const struct sl_record *rec);

struct sl_backend_sub_opts {
    /* Records pushed and not yet settled, at most [64]. */
    uint32_t max_outstanding;
};

/*
 * Flags of a backend class (struct sl_backend_ops.flags).
 *
 * SL_BACKEND_F_PLAIN: the log is not a broker but a plain sink that takes
 * events as they are (KafkaSink, sinks/kafkasink.h): the ingress neither
 * stamps knativearrivaltime nor applies the knativebrokerttl rule to the
 * events it appends there, as Knative's KafkaSink receiver writes the
 * event it received unchanged.
 */
#define SL_BACKEND_F_PLAIN 0x1u

struct sl_backend_ops {
    const char *cls; /* broker class it implements, e.g. "Embedded" */
    int abi;         /* SL_BACKEND_ABI */
    size_t size;     /* bytes per instance, base first */
    unsigned flags;  /* SL_BACKEND_F_* (0 for a broker log) */

    /*
     * Check a Broker (json, borrowed) and its config ConfigMap data
     * (object of strings or NULL) for this backend. 0 or SL_EINVAL with
     * 'diag'. No instance, no I/O.
     */
    int (*validate)(struct json_object *broker, struct json_object *config,
                    struct sl_diag *diag);
    /* Set up the instance (no I/O that can block). 0 or SL_E*. */
    int (*init)(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                struct sl_diag *diag);
    /* Provision and connect; done(arg, rc) later, on the loop thread. */
    void (*open)(struct sl_backend *b, sl_backend_done_fn *done, void *arg);
    /*
     * Append events[0..n) (borrowed; the backend takes references it
     * needs) all-or-nothing; done(arg, 0) only once all are durable,
     * done(arg, rc<0) when none is. Returns 0 when accepted (done will
     * run), or SL_E* now (done will not run): SL_EINVAL (n == 0 or over
     * max_batch), SL_ETOOBIG (an event over max_event_size), SL_EAGAIN
     * (not open, or closing).
     */
    int (*append)(struct sl_backend *b, struct sl_event *const *events,
                  size_t n, sl_backend_done_fn *done, void *arg);
    /*
     * Start pushing records of consumer group 'group' to on_record, in log
     * order per partition, at most opts->max_outstanding unsettled. A
     * group seen for the first time starts at the end of the log (as a
     * new Knative trigger does); a known group resumes from its persisted
     * progress, and its persisted retries come back when due. One live
     * subscription per group per backend instance (SL_EEXIST).
     */
    int (*subscribe)(struct sl_backend *b, const char *group,
                     const struct sl_backend_sub_opts *opts,
                     sl_backend_record_fn *on_record, void *arg,
                     struct sl_backend_sub **out);
    /*
     * Record the outcome of 'rec' (pushed to 'sub', not yet settled); rec
     * is invalid afterwards. DONE lets the group's progress pass it once
     * everything before it is DONE; RETRY persists (not_before, attempts)
     * and pushes it again when due. Returns 0 or SL_EINVAL.
     */
    int (*settle)(struct sl_backend_sub *sub, const struct sl_record *rec,
                  const struct sl_settle *how);
    /*
     * Stop the subscription and free it; unsettled records are released
     * (not DONE: they come again to the next subscriber of the group).
     */
    void (*unsubscribe)(struct sl_backend_sub *sub);
    /*
     * Remove records every group has passed, and records older than
     * max_age_ms (0: no age limit) or beyond max_bytes (0: no size limit)
     * counted from the newest, whatever the groups. done(arg, rc) later.
     * Optional.
     */
    void (*retention)(struct sl_backend *b, int64_t max_age_ms,
                      uint64_t max_bytes, sl_backend_done_fn *done, void *arg);
    /*
     * Finish what was accepted (pending appends complete first), stop
     * background work; done(arg, rc) later. Subscriptions must have been
     * removed before.
     */
    void (*close)(struct sl_backend *b, sl_backend_done_fn *done, void *arg);
    /* Drop the broker's data (closed or never opened backend). Optional. */
    int (*drop)(struct sl_backend *b, struct sl_diag *diag);
    /*
     * Forget consumer group 'group' (no live subscription): its progress
     * and pending retries are deleted, so that a later subscription of
     * that name starts at the end of the log like a new one, and it no
     * longer holds retention back. done(arg, rc) later. Optional.
     */
    void (*forget)(struct sl_backend *b, const char *group,
                   sl_backend_done_fn *done, void *arg);
    /* Counters. Optional. */
    void (*stats)(struct sl_backend *b, struct sl_backend_stats *out);
    /*
     * Whether an open backend can take appends now: 0, or SL_EIO with
     * 'why' saying what is wrong (a lost server connection being
     * retried). Cheap, no I/O; polled about once a second. Optional
     * (NULL: an open backend is always healthy).
     */
    int (*health)(struct sl_backend *b, struct sl_diag *why);
    /* Release what init set up (after close, or when open never ran). */
    void (*fini)(struct sl_backend *b);
};

/* The base every backend instance embeds first. */
struct sl_backend {
    const struct sl_backend_ops *ops;
    struct sl_loop *loop; /* borrowed */
    char *ns;
    char *name;
    char *data_dir;
    struct sl_backend_limits limits; /* defaults filled in */
    int state;                       /* SL_BACKEND_* below */
};

/* The base every subscription embeds first. */
struct sl_backend_sub {
    struct sl_backend *b;
    char *group;
    uint32_t max_outstanding;
    uint32_t outstanding; /* pushed, not settled */
    sl_backend_record_fn *on_record;
    void *arg;
};

enum {
    SL_BACKEND_NEW = 0,
    SL_BACKEND_OPENING,
    SL_BACKEND_OPEN,
    SL_BACKEND_FAILED, /* open failed; close/free still required */
    SL_BACKEND_CLOSING,
    SL_BACKEND_CLOSED,
};

/* ---- registry ---- */

/* The backend for broker class 'cls' (case-sensitive), or NULL. */
const struct sl_backend_ops *sl_backend_find(const char *cls);

/* The registered backends, NULL-terminated. */
const struct sl_backend_ops *const *sl_backend_list(void);

/* ---- wrappers: the only way the core calls a backend ---- */

/*
 * Allocate ops->size bytes, fill the base from 'cfg' (limits defaulted)
 * and call init. '*out' gets the backend or NULL. 0, SL_EINVAL (ABI
 * mismatch, missing cfg fields) or init's code.
 */
int sl_backend_new(const struct sl_backend_ops *ops,
                   const struct sl_backend_cfg *cfg, struct sl_backend **out,
                   struct sl_diag *diag);
/* Open (state NEW only; otherwise done(arg, SL_EINVAL) runs later). */
void sl_backend_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg);
/* See ops.append. SL_EAGAIN unless open. */
int sl_backend_append(struct sl_backend *b, struct sl_event *const *events,
                      size_t n, sl_backend_done_fn *done, void *arg);
/* See ops.subscribe. SL_EAGAIN unless open; max_outstanding 0 -> 64. */
int sl_backend_subscribe(struct sl_backend *b, const char *group,
                         const struct sl_backend_sub_opts *opts,
                         sl_backend_record_fn *on_record, void *arg,
                         struct sl_backend_sub **out);
/* See ops.settle. */
int sl_backend_settle(struct sl_backend_sub *sub, const struct sl_record *rec,
                      const struct sl_settle *how);
/* See ops.unsubscribe. NULL is a no-op. */
void sl_backend_unsubscribe(struct sl_backend_sub *sub);
/* See ops.retention; SL_ENOTSUP through done when the slot is NULL. */
void sl_backend_retention(struct sl_backend *b, int64_t max_age_ms,
                          uint64_t max_bytes, sl_backend_done_fn *done,
                          void *arg);
/* Close an open (or failed) backend; done runs later on the loop thread. */
void sl_backend_close(struct sl_backend *b, sl_backend_done_fn *done,
                      void *arg);
/* Drop the data; state NEW or CLOSED. SL_ENOTSUP when the slot is NULL. */
int sl_backend_drop(struct sl_backend *b, struct sl_diag *diag);
/* See ops.forget; SL_EAGAIN unless open, SL_ENOTSUP when the slot is NULL,
 * both through done. */
void sl_backend_forget(struct sl_backend *b, const char *group,
                       sl_backend_done_fn *done, void *arg);
/* Counters (zeros when the slot is NULL). */
void sl_backend_stats(struct sl_backend *b, struct sl_backend_stats *out);
/* See ops.health: SL_EAGAIN unless open; 0 when the slot is NULL. */
int sl_backend_health(struct sl_backend *b, struct sl_diag *why);
/* fini and free; the backend must be NEW, FAILED-and-closed or CLOSED. */
void sl_backend_free(struct sl_backend *b);

/* Registered backends (defined in their folders). */
extern const struct sl_backend_ops sl_backend_embedded;
extern const struct sl_backend_ops sl_backend_redis;
extern const struct sl_backend_ops sl_backend_kafka;

#endif
