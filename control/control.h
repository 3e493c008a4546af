/*
 * control/control.h - the reconcile loop.
 *
 * The controller watches the store for every kind, keeps a de-duplicating
 * work queue of object keys, and runs each kind's reconciler on them:
 * level-based and idempotent (a reconciler looks at the object and the
 * world as they are now and computes the status; it never depends on what
 * changed). The status it computes is written through the store's status
 * subresource only when it differs from the stored one, so a quiet system
 * stays quiet. A reconciler that reads another object through sl_rec_get()
 * (a Trigger reading its Broker, a source resolving its sink) is queued
 * again whenever that object changes or disappears.
 *
 * Thread: everything runs on the loop thread that owns the store.
 */
#ifndef SL_CONTROL_CONTROL_H
#define SL_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

struct sl_loop;
struct sl_store;
struct sl_diag;
struct sl_res_kind;
struct sl_ctl;
struct sl_dataplane;
struct sl_kafkasinks;
struct sl_sources;

struct sl_ctl_opts {
    /* Broker and sink addresses are <ingress_url>/<namespace>/<name>. */
    const char *ingress_url;
    /* Cluster domain for core Service refs (default "svc.cluster.local"). */
    const char *cluster_domain;
    /* The data plane the Broker and Trigger reconcilers drive (borrowed;
     * control/dataplane.h), or NULL: then IngressReady and
     * SubscriptionReady say DataPlaneNotAvailable. */
    struct sl_dataplane *dataplane;
    /* The running sources the source reconcilers drive (borrowed;
     * control/sources.h), or NULL: then Deployed says
     * DataPlaneNotAvailable. */
    struct sl_sources *sources;
    /* The running KafkaSinks the KafkaSink reconciler drives (borrowed;
     * control/kafkasinks.h), or NULL: then TopicReady says
     * DataPlaneNotAvailable. */
    struct sl_kafkasinks *kafkasinks;
};

/*
 * Create a controller over 'store' (borrowed; must outlive it), driven by
 * 'loop'. Nothing runs until sl_ctl_start().
 */
int sl_ctl_new(struct sl_loop *loop, struct sl_store *store,
               const struct sl_ctl_opts *opts, struct sl_ctl **out,
               struct sl_diag *d);

/*
 * Watch the store and queue every existing object. Returns 0 or the
 * store's error.
 */
int sl_ctl_start(struct sl_ctl *ctl, struct sl_diag *d);

/* Stop watching and free everything; pending work is dropped. */
void sl_ctl_free(struct sl_ctl *ctl);

/* True when the queue is empty and nothing waits for a retry timer. */
bool sl_ctl_idle(const struct sl_ctl *ctl);

/* ---- the reconciler contract ---- */

/*
 * One reconciliation in progress: the object (borrowed, as stored) and
 * the status being computed. The status starts as a copy of the stored
 * status, so conditions keep their lastTransitionTime unless they change.
 */
struct sl_rec {
    struct sl_ctl *ctl;
    const struct sl_res_kind *kind;
    const char *ns; /* "" for cluster-scoped kinds */
    const char *name;
    const struct json_object *obj;
    struct json_object *status; /* owned by the controller */
};

struct sl_reconciler {
    const char *group; /* "" for core */
    const char *kind;
    /*
     * Compute r->status from r->obj and what it refers to. Returns 0, or
     * SL_EAGAIN to be queued again with backoff (a transient failure: the
     * status written so far is still stored).
     */
    int (*reconcile)(struct sl_rec *r);
    /* Optional: the object was deleted (release what reconcile set up). */
    void (*finalize)(struct sl_ctl *ctl, const struct json_object *obj);
};

/*
 * Read another object for 'r' and remember that r's object depends on it:
 * when it changes or is deleted, r's object is reconciled again (also when
 * it does not exist yet and is created later). Returns 0 with '*out'
 * (a reference the caller puts), or SL_ENOENT.
 */
int sl_rec_get(struct sl_rec *r, const char *group, const char *kind,
               const char *ns, const char *name, struct json_object **out);

/*
 * Resolve a Knative Destination ({ref, uri}) of r's object, in namespace
 * 'ns' when the ref has none: uri alone; ref to a Broker, KafkaSink,
 * Knative Service or any addressable (its status address, reference §2.4);
 * ref to a core v1 Service (http://<name>.<ns>.<cluster domain>); ref plus
 * a relative uri (RFC 3986 resolution against the ref's URL). Returns 0
 * with '*url' (sl_free), or SL_ENOENT / SL_EAGAIN (not resolvable yet) /
 * SL_EINVAL with the reason in 'why'.
 */
int sl_rec_resolve(struct sl_rec *r, const struct json_object *dest,
                   const char *ns, char **url, struct sl_diag *why);

/*
 * Set condition 'type' in r->status to "True", "False" or "Unknown" with a
 * reason and printf-formatted message (reason/fmt may be NULL). The
 * lastTransitionTime moves only when the status value changes.
 */
void sl_rec_cond(struct sl_rec *r, const char *type, const char *status,
                 const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Set Ready from the conditions 'types' (NULL-terminated): False (with the
 * first False one's reason and message) if any is False, Unknown if any
 * is Unknown or missing, True otherwise.
 */
void sl_rec_ready(struct sl_rec *r, const char *const *types);

/* Set (or with value NULL remove) a top-level status field. */
void sl_rec_set(struct sl_rec *r, const char *field, struct json_object *value);

/* The controller's options (ingress URL...). */
const struct sl_ctl_opts *sl_rec_opts(const struct sl_rec *r);

#endif
