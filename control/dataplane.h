/*
 * control/dataplane.h - the running data plane of one sluice process: a
 * broker log (broker/backend.h) per Broker, a dispatcher
 * (triggers/dispatch.h) with its delivery (sinks/delivery.h) per
 * Trigger, one shared HTTP sender, periodic retention, and the lookup
 * the ingress (broker/ingress.h) uses to find a broker's log.
 *
 * The Broker and Trigger reconcilers (control/eventing.c) drive it:
 * they call sl_dp_broker_sync / sl_dp_trigger_sync with what the
 * object says now, and read back a state for their conditions. Work
 * that ends later (a backend's open or close) asks the controller to
 * reconcile the Broker again through the notify hook, so the status
 * follows. Everything is level-based: syncing twice with the same input
 * changes nothing; a changed input (class, config, delivery, filter,
 * subscriber...) rebuilds what depends on it. A broker's log follows the
 * life cycle of control/logset.h (shared with the KafkaSinks' producers).
 *
 * Threads: everything on the loop thread.
 */
#ifndef SL_CONTROL_DATAPLANE_H
#define SL_CONTROL_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct sl_backend;
struct sl_dataplane;
struct sl_diag;
struct sl_loop;
struct sl_metrics;

struct sl_dataplane_opts {
    const char *data_dir;        /* broker files (Embedded), required */
    const char *default_class;   /* class of brokers without one ["Embedded"] */
    const char *redis_url;       /* default "redis.url", or NULL */
    const char *kafka_bootstrap; /* default "bootstrap.servers", or NULL */
    const char *ingress_url;     /* replies' knativeerrordest base, required */
    size_t max_event_size;       /* [1 MiB] */
    /* Outgoing connections at once, all subscribers together [0: no
     * limit]; deliveries beyond wait for a free one. */
    unsigned max_sink_conns;
    int32_t max_ttl; /* [255] */
    /* Retention run every interval on every open log: records older than
     * max_age or beyond max_bytes (0: none), and records every trigger
     * has passed [interval 60 s; max_age 0 = 7 days, < 0 = no age limit;
     * max_bytes 0]. */
    int64_t retention_interval_ms;
    int64_t retention_max_age_ms;
    uint64_t retention_max_bytes;
    /* Where triggers count deliveries (mt_broker_filter_*,
     * core/metrics_kn.h); a removed Broker or Trigger takes its series
     * with it. Borrowed, must outlive the data plane; NULL: none. */
    struct sl_metrics *metrics;
};

int sl_dataplane_new(struct sl_loop *loop, const struct sl_dataplane_opts *o,
                     struct sl_dataplane **out, struct sl_diag *d);

/*
 * The ingress' lookup (sl_ingress_lookup_fn; 'arg' is the data plane):
 * the open log of broker ns/name, or NULL with '*why' SL_ENOENT (no such
 * Broker known), SL_EAGAIN (opening, reconnecting, closing) or
 * SL_ENOTSUP (a class this build does not run).
 */
struct sl_backend *sl_dataplane_lookup(void *arg, const char *ns,
                                       const char *name, int *why);

/*
 * Stop dispatching (in-flight deliveries are cancelled; their records
 * come again after a restart), then close every log (appends accepted
 * so far complete first). done(arg) runs on the loop when all are
 * closed (possibly from inside this call).
 */
void sl_dataplane_shutdown(struct sl_dataplane *dp, void (*done)(void *),
                           void *arg);

/* Free; after sl_dataplane_shutdown completed, or when nothing was
 * synced. NULL is a no-op. */
void sl_dataplane_free(struct sl_dataplane *dp);

/* ---- for the reconcilers (control/ only) ---- */

/* What a broker or trigger is, as far as the data plane goes. */
enum sl_dp_state {
    SL_DP_READY = 0,   /* serving */
    SL_DP_PENDING,     /* being set up or torn down; a notify follows */
    SL_DP_FAILED,      /* cannot serve; 'why' says why; retried on sync */
    SL_DP_UNSUPPORTED, /* class/dialect not available in this build */
};

/* Called when broker ns/name should be reconciled again (kind
 * "Broker" or "Trigger"). Set by the controller. */
typedef void sl_dp_notify_fn(void *arg, const char *kind, const char *ns,
                             const char *name);
void sl_dp_set_notify(struct sl_dataplane *dp, sl_dp_notify_fn *fn, void *arg);

/*
 * Make broker ns/name ('broker' is the stored object) run with class
 * 'cls' (NULL or "MTChannelBasedBroker" = the default class) and
 * 'config' (its ConfigMap data or NULL; borrowed). A log that failed is
 * retried with backoff (100 ms doubling to 30 s) and the Broker notified.
 * Returns the state, with 'why' (reason in why->field, message in why->msg)
 * unless READY.
 */
enum sl_dp_state
sl_dp_broker_sync(struct sl_dataplane *dp, const char *ns, const char *name,
                  const struct json_object *broker, const char *cls,
                  const struct json_object *config, struct sl_diag *why);

/* The class broker ns/name runs as ("Embedded", "Redis"; the default
 * applied), or NULL before its first sync. Borrowed until the next sync. */
const char *sl_dp_broker_class(struct sl_dataplane *dp, const char *ns,
                               const char *name);

/* Broker ns/name is gone: stop its triggers, close and drop its log. */
void sl_dp_broker_remove(struct sl_dataplane *dp, const char *ns,
                         const char *name);

/* What a Trigger resolves to (all borrowed). */
struct sl_dp_trigger_in {
    const struct json_object *trigger; /* the stored object */
    const struct json_object *broker;  /* its Broker, or NULL */
    const char *broker_ns, *broker_name;
    const char *subscriber_url; /* NULL: not resolved */
    const char *dls_url;        /* NULL: none */
};

/* Make trigger ns/name dispatch as 'in' says. State as above. */
enum sl_dp_state sl_dp_trigger_sync(struct sl_dataplane *dp, const char *ns,
                                    const char *name,
                                    const struct sl_dp_trigger_in *in,
                                    struct sl_diag *why);

/* Trigger ns/name is gone: stop its dispatcher. */
void sl_dp_trigger_remove(struct sl_dataplane *dp, const char *ns,
                          const char *name);

#endif
