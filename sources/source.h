/*
 * sources/source.h - the source adapter contract: what every source
 * (ping/ and kafka/ now; apiserver/, rabbitmq/, container/ later)
 * implements, the registry that lists them and the wrappers the rest of
 * sluice calls them through (STYLE.md section 4; docs/sources.md).
 *
 * Shape: an adapter is a const struct sl_source_ops plus an instance
 * struct that embeds struct sl_source first:
 *
 *     struct ping_source { struct sl_source base; ... };
 *     const struct sl_source_ops sl_source_ping = {
 *         .kind = "PingSource", .abi = SL_SOURCE_ABI,
 *         .size = sizeof(struct ping_source), .init = ping_init, ... };
 *
 * The core allocates ops->size zeroed bytes, fills the base and calls
 * init; it calls fini and frees. Adapters never free themselves.
 *
 * Life cycle (each arrow is a wrapper below; the state is src->state):
 *
 *   sl_source_new (init) -> NEW -start-> RUNNING -stop-> STOPPING
 *        -stop's done-> STOPPED -start-> RUNNING ...
 *   NEW or STOPPED -sl_source_free (fini)-> gone
 *   update: NEW or RUNNING, state unchanged
 *
 * A wrapper called in a state that does not allow it returns SL_EINVAL
 * without calling the slot. Each transition is logged (info) with the
 * source's log context.
 *
 * Ownership: the object handed to init/update is borrowed for the call
 * (an adapter copies what it keeps); the emitter (src->out) and the loop
 * are borrowed for the source's life and outlive it; everything the
 * adapter allocates is its own until fini.
 *
 * Threads: a source belongs to the thread of its loop; every wrapper is
 * called on it and every callback runs on it. An adapter with threads of
 * its own (a Kafka consumer) hands work to the loop with sl_loop_post().
 */
#ifndef SL_SOURCES_SOURCE_H
#define SL_SOURCES_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/log.h"

struct sl_diag;
struct sl_emitter;
struct sl_loop;
struct sl_sender;
struct sl_source;

/* Bumped when struct sl_source_ops or struct sl_source changes. */
#define SL_SOURCE_ABI 2

/* Completion of a stop: rc 0 or SL_E*. Loop thread. */
typedef void sl_source_done_fn(void *arg, int rc);

/*
 * Flags of an adapter (ops->flags).
 *
 * SL_SOURCE_DELIVERS: the adapter delivers its events itself, with the
 * delivery machinery of triggers (a dispatcher and a delivery: the
 * spec's retry policy, a dead-letter sink, at-least-once progress), to
 * cfg.sink_url through cfg.sender, instead of handing them to an
 * emitter: it gets no emitter (src->out is NULL), and a change of its
 * sink, dead-letter sink or connection settings reaches it as an update
 * (or a re-creation) rather than through the emitter. KafkaSource.
 */
#define SL_SOURCE_DELIVERS 0x1u

/* What a running source says about itself, for its status. */
enum sl_source_health {
    SL_SOURCE_OK = 0,   /* running as asked */
    SL_SOURCE_STARTING, /* not there yet (connecting, joining) */
    SL_SOURCE_DEGRADED, /* running, but cannot do its work now */
    SL_SOURCE_BROKEN,   /* cannot run until its spec changes */
};

struct sl_source_report {
    enum sl_source_health health;
    char reason[64];   /* CamelCase, "" when OK */
    char msg[512];     /* what is wrong, in words; "" when OK */
    int32_t consumers; /* consumers running now (KafkaSource), else 0 */
};

/*
 * The source's state changed in a way its status shows (a consumer
 * joined, the cluster became unreachable). Loop thread; set by the core.
 */
typedef void sl_source_notify_fn(void *arg, struct sl_source *src);

struct sl_source_ops {
    const char *kind; /* resource kind it implements, e.g. "PingSource" */
    int abi;          /* SL_SOURCE_ABI it was built against */
    size_t size;      /* bytes per instance, struct sl_source first */

    /*
     * Check the object (a whole admitted resource, borrowed) for what
     * this adapter needs beyond admission. No instance, no I/O. 0 or
     * SL_EINVAL with 'diag' naming the field. Optional.
     */
    int (*validate)(const struct json_object *obj, struct sl_diag *diag);
    /*
     * Set up the instance from 'obj' (borrowed): parse the spec, create
     * stopped timers. Nothing runs yet and no event is emitted. 0 or
     * SL_E* with 'diag'; on failure the core calls fini and frees.
     */
    int (*init)(struct sl_source *src, const struct json_object *obj,
                struct sl_diag *diag);
    /*
     * Start producing events into src->out. 0, or SL_E* with 'diag' and
     * nothing running.
     */
    int (*start)(struct sl_source *src, struct sl_diag *diag);
    /*
     * Stop producing: cancel timers and the events held by src->out (the
     * emitter), release connections. done(arg, rc) exactly once, from
     * inside this call or later on the loop thread; after it the adapter
     * runs nothing until the next start.
     */
    void (*stop)(struct sl_source *src, sl_source_done_fn *done, void *arg);
    /*
     * Release what init set up (the source is NEW or STOPPED, or init
     * failed half-way: fini must cope with a zeroed instance).
     */
    void (*fini)(struct sl_source *src);
    /*
     * Optional. Take the changed 'obj' (borrowed) in place, running or
     * not. 0, or SL_E* with 'diag' and the previous spec still in force.
     * NULL: the core stops, frees and creates the source again.
     */
    int (*update)(struct sl_source *src, const struct json_object *obj,
                  struct sl_diag *diag);
    /* SL_SOURCE_* flags. */
    unsigned flags;
    /*
     * Optional. Fill 'out' (zeroed by the wrapper) with how the source is
     * doing now. Cheap, no I/O. NULL: a running source is OK.
     */
    void (*report)(struct sl_source *src, struct sl_source_report *out);
};

/* States of a source (src->state). */
enum sl_source_state {
    SL_SOURCE_NEW = 0,
    SL_SOURCE_RUNNING,
    SL_SOURCE_STOPPING,
    SL_SOURCE_STOPPED,
};

/* The base every adapter instance embeds first. */
struct sl_source {
    const struct sl_source_ops *ops;
    struct sl_loop *loop;   /* borrowed */
    struct sl_emitter *out; /* borrowed; sl_emit() may say SL_EBUSY */
    char *ns;               /* metadata.namespace */
    char *name;             /* metadata.name */
    char *zoneinfo_dir;     /* where IANA time zones are read */
    /* For SL_SOURCE_DELIVERS adapters (NULL otherwise). The sender is
     * borrowed and outlives the source; the rest are the source's own
     * copies, replaced by sl_source_update before the update slot runs. */
    struct sl_sender *sender;
    char *sink_url;              /* the resolved spec.sink */
    char *dls_url;               /* the resolved dead-letter sink, or NULL */
    struct json_object *conn;    /* connection settings, or NULL */
    sl_source_notify_fn *notify; /* NULL: nobody listens */
    void *notify_arg;
    struct sl_log_ctx log;      /* "source" ns/name */
    enum sl_source_state state; /* kept by the wrappers only */
    /* The stop in progress (wrappers only). */
    sl_source_done_fn *stop_done;
    void *stop_arg;
    int stop_rc;
};

/* What the core gives a new source. */
struct sl_source_cfg {
    struct sl_loop *loop; /* required */
    /* Required, and outlives the source, unless the adapter has
     * SL_SOURCE_DELIVERS (then ignored: src->out stays NULL). */
    struct sl_emitter *out;
    /* IANA time zone files; NULL -> "/usr/share/zoneinfo". Copied. */
    const char *zoneinfo_dir;
    /* SL_SOURCE_DELIVERS adapters: the shared HTTP sender (required,
     * borrowed, outlives the source), the sink URL (required), the
     * dead-letter sink URL (NULL: none), and the connection settings the
     * core resolved for the adapter (NULL: none; KafkaSource: its
     * librdkafka properties with the values of its Secrets). Copied. */
    struct sl_sender *sender;
    const char *sink_url;
    const char *dls_url;
    const struct json_object *conn;
    /* Told when the source's report changes (may be NULL). */
    sl_source_notify_fn *notify;
    void *notify_arg;
};

/* ---- registry (sources/registry.c) ---- */

/* The adapter for resource kind 'kind' (case-sensitive), or NULL. */
const struct sl_source_ops *sl_source_find(const char *kind);

/* The registered adapters, NULL-terminated. */
const struct sl_source_ops *const *sl_source_list(void);

/*
 * Check a NULL-terminated list of adapters (NULL: the registered ones),
 * as startup does: every entry built against SL_SOURCE_ABI, with a kind,
 * a size of at least the base and the required slots (init, start,
 * stop, fini), and no kind twice. Returns 0, or SL_EINVAL with 'd'
 * naming the adapter ("source adapter 'PingSource' registered twice").
 */
int sl_source_registry_check(const struct sl_source_ops *const *list,
                             struct sl_diag *d);

/* ---- wrappers: the only way the core calls an adapter ---- */

/*
 * Validate 'obj' with ops->validate (0 when the slot is NULL). The same
 * return as the slot.
 */
int sl_source_validate(const struct sl_source_ops *ops,
                       const struct json_object *obj, struct sl_diag *diag);

/*
 * Allocate ops->size zeroed bytes, fill the base from 'cfg' and from
 * metadata.namespace/name of 'obj', and call init. '*out' gets the
 * source (NEW) or NULL. Returns 0, SL_EINVAL (ABI mismatch, incomplete
 * cfg, an object without namespace or name) or init's code, with 'diag'.
 */
int sl_source_new(const struct sl_source_ops *ops,
                  const struct sl_source_cfg *cfg,
                  const struct json_object *obj, struct sl_source **out,
                  struct sl_diag *diag);

/* NEW or STOPPED -> RUNNING. 0, SL_EINVAL (state) or start's code. */
int sl_source_start(struct sl_source *src, struct sl_diag *diag);

/*
 * Hand a changed object to a NEW or RUNNING source. 0, SL_EINVAL
 * (state), SL_ENOTSUP (no update slot: recreate it), or update's code.
 */
int sl_source_update(struct sl_source *src, const struct json_object *obj,
                     struct sl_diag *diag);

/*
 * The same for an SL_SOURCE_DELIVERS adapter whose sink, dead-letter sink
 * or connection settings may have changed too: the base takes copies of
 * 'cfg''s sink_url, dls_url and conn (the rest of 'cfg' is ignored), then
 * the update slot runs; when it refuses (or there is none), the previous
 * values are back in the base. Same returns as sl_source_update.
 */
int sl_source_update_cfg(struct sl_source *src, const struct json_object *obj,
                         const struct sl_source_cfg *cfg, struct sl_diag *diag);

/*
 * How the source is doing (the report slot; a source without one, or not
 * RUNNING, reports OK, or STARTING when not RUNNING).
 */
void sl_source_report(struct sl_source *src, struct sl_source_report *out);

/* For adapters: tell the core the report changed. Loop thread. */
void sl_source_changed(struct sl_source *src);

/*
 * RUNNING -> STOPPING -> STOPPED. done(arg, rc) runs exactly once, on
 * the loop thread, never from inside this call (a NEW or STOPPED source
 * has nothing to stop: done(arg, 0) is posted). Returns 0, or SL_EBUSY
 * when a stop is already in progress (then done will not run).
 */
int sl_source_stop(struct sl_source *src, sl_source_done_fn *done, void *arg);

/*
 * fini and free a NEW or STOPPED source. A RUNNING or STOPPING one is a
 * bug: it is logged and left alone (a leak rather than a use after free).
 * NULL is a no-op.
 */
void sl_source_free(struct sl_source *src);

/* "new", "running", "stopping", "stopped". */
const char *sl_source_state_name(enum sl_source_state st);

/*
 * Test-only fault injection: the next 'count' calls of wrapper 'slot'
 * ("init", "start" or "update") fail with 'rc' without calling the
 * adapter (diag "injected fault"). count 0 clears it. Not thread-safe;
 * for unit tests only.
 */
void sl_source_fault(const char *slot, int rc, unsigned count);

/* Registered adapters (defined in their folders). */
extern const struct sl_source_ops sl_source_ping;
extern const struct sl_source_ops sl_source_kafka;

#endif
