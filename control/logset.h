/*
 * control/logset.h - the life cycle of a set of backends (broker/backend.h)
 * kept per object ns/name, shared by the Brokers' logs (control/dataplane.c)
 * and the KafkaSinks' producers (control/kafkasinks.c).
 *
 * An entry lives from its first sync to the end of the close that follows
 * its removal. Its backend goes
 *   (none) -create+open-> OPENING -ok-> OPEN (health polled every second)
 *                                 \-error-> FAILED (retry timer, backoff
 *                                           100 ms doubling to 30 s)
 *   OPEN/FAILED -changed fingerprint, retry due, removal-> CLOSING -> (none)
 * and every change that ends later (an open, a close, a health change, a
 * due retry) asks the controller to reconcile the object again through
 * the notify hook, with the kind of the set ("Broker", "KafkaSink").
 *
 * What differs between kinds comes through struct sl_logset_kind: the
 * entry's size (an owner embeds struct sl_logset_entry first in its own),
 * the pending reasons, how an open failure and the health read are told,
 * and hooks around the close and the freeing of an entry. The owner makes
 * the backend's configuration (sl_logset_sync says when one is needed) and
 * has sl_logset_open make and open it.
 *
 * Threads: everything on the loop thread.
 */
#ifndef SL_CONTROL_LOGSET_H
#define SL_CONTROL_LOGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "control/dataplane.h"
#include "core/err.h"
#include "core/log.h"

struct sl_backend;
struct sl_backend_ops;
struct sl_loop;
struct sl_logset;
struct sl_metrics;
struct sl_timer;

#define SL_LOGSET_RETRY_MIN_MS 100
#define SL_LOGSET_RETRY_MAX_MS 30000

enum sl_logset_st {
    SL_LS_NONE = 0, /* no backend (new, or closed for a rebuild) */
    SL_LS_OPENING,
    SL_LS_OPEN,
    SL_LS_FAILED, /* open failed or refused; sync again from retry_at */
    SL_LS_CLOSING,
    SL_LS_UNSUPPORTED, /* no backend for it in this build */
};

/* One object's backend. The owner may read every field and set st,
 * retry_at and backoff_ms between sl_logset_sync and sl_logset_open. */
struct sl_logset_entry {
    struct sl_logset *set;
    char *ns, *name, *key; /* key: "ns/name" */
    char *fp;              /* fingerprint the backend was made with */
    struct sl_backend *b;
    enum sl_logset_st st;
    char reason[64];
    char msg[SL_DIAG_MSG_MAX];
    int64_t retry_at;   /* SL_LS_FAILED: loop ms (INT64_MAX: never) */
    int64_t backoff_ms; /* the next failure's wait */
    struct sl_timer *retry;
    bool removed;          /* forget the entry once closed */
    bool close_after_open; /* closed while opening */
    bool unhealthy;        /* open, but its health read says not */
    char hreason[64];
    char hmsg[SL_DIAG_MSG_MAX];
    char said[SL_DIAG_MSG_MAX]; /* the last failure logged at WARN */
};

struct sl_logset_kind {
    const char *kind;  /* the notify's kind: "Broker", "KafkaSink" */
    const char *what;  /* the entry in log lines: "broker", "KafkaSink" */
    size_t entry_size; /* >= sizeof(struct sl_logset_entry), embedded first */
    /* Pending reasons and messages (SL_DP_PENDING). */
    const char *opening_reason, *opening_msg;
    const char *closing_reason, *closing_msg;
    /* Said when the health read turns good again. */
    const char *healthy_msg;
    /* The lookup of a removed entry still closing: SL_ENOENT when true,
     * else SL_EAGAIN. */
    bool gone_while_closing;
    /* Health of e's open backend: 0, or nonzero with the reason in
     * why->field and the message in why->msg. Required. */
    int (*health)(struct sl_logset_entry *e, struct sl_diag *why);
    /* The open of e->b failed with 'rc': set the reason (sl_logset_why).
     * Required. */
    void (*open_failed)(struct sl_logset_entry *e, int rc);
    /* e->b opened (st OPEN, healthy); NULL: nothing more. */
    void (*opened)(struct sl_logset_entry *e);
    /* e is about to close (also when it has no backend); NULL: nothing. */
    void (*closing)(struct sl_logset_entry *e);
    /* e->b closed, before it is freed; NULL: nothing. */
    void (*closed)(struct sl_logset_entry *e);
    /* Free e's own fields (not e itself); NULL: none. */
    void (*fini)(struct sl_logset_entry *e);
    /* e is out of the set: free it (sl_logset_entry_free) or later;
     * NULL: at once. */
    void (*forget)(struct sl_logset_entry *e);
};

/* A set on 'loop' polling health every second. 'kind' is borrowed (a
 * static), 'metrics' too (may be NULL: a removed entry's ingress series
 * go), 'log' too. */
struct sl_logset *sl_logset_new(struct sl_loop *loop,
                                const struct sl_logset_kind *kind,
                                struct sl_metrics *metrics,
                                struct sl_log_ctx *log);

/* Free every entry (one still open is logged and left, as its backend's
 * threads may still use it) and the set. NULL is a no-op. */
void sl_logset_free(struct sl_logset *s);

/* Set the hook called when an entry should be reconciled again. */
void sl_logset_set_notify(struct sl_logset *s, sl_dp_notify_fn *fn, void *arg);

/*
 * The first half of a sync of ns/name with fingerprint 'fp' (taken).
 * Returns true with '*out' when the owner must make a new backend (the
 * entry has none and 'fp' is now its fingerprint): it then calls
 * sl_logset_open, or sets st (and the reason) itself. Else false with
 * '*st' and 'why' (unless READY): shutting down ("ShuttingDown"), closing,
 * opening, open, failed and not yet due; a changed fingerprint closes the
 * backend first.
 */
bool sl_logset_sync(struct sl_logset *s, const char *ns, const char *name,
                    char *fp, struct sl_logset_entry **out,
                    enum sl_dp_state *st, struct sl_diag *why);

/*
 * Make e's backend with 'ops' (sl_backend_new for e's ns/name with
 * 'data_dir', 'max_event_size' and 'config', borrowed) and open it.
 * Returns 0, or the error of sl_backend_new with 'd' (e is left without
 * a backend: the owner says why, sl_logset_why + sl_logset_failed).
 */
int sl_logset_open(struct sl_logset_entry *e, const struct sl_backend_ops *ops,
                   const char *data_dir, size_t max_event_size,
                   const struct json_object *config, struct sl_diag *d);

/* The state of e for the reconciler, with 'why' unless READY. */
enum sl_dp_state sl_logset_state(const struct sl_logset_entry *e,
                                 struct sl_diag *why);

/* Set e's reason and message. */
void sl_logset_why(struct sl_logset_entry *e, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* e failed (reason set): st FAILED, said at WARN (DEBUG when the same as
 * the last), retried after backoff_ms (then doubled, up to 30 s). */
void sl_logset_failed(struct sl_logset_entry *e);

/* Read e's health now (e OPEN); true when it changed. */
bool sl_logset_health_read(struct sl_logset_entry *e);

/* Object ns/name is gone: close its backend, forget it once closed. */
void sl_logset_remove(struct sl_logset *s, const char *ns, const char *name);

/* Close e's backend (async; one opening closes when its open ends). */
void sl_logset_close(struct sl_logset_entry *e);

/* The entry of "ns/name", or NULL. */
struct sl_logset_entry *sl_logset_get(struct sl_logset *s, const char *key);

/* Iteration: for (it = 0; (e = sl_logset_next(s, &it)) != NULL; ) ... */
struct sl_logset_entry *sl_logset_next(const struct sl_logset *s, size_t *it);

/* The ingress' lookup in the set (see sl_ingress_lookup_fn): the open
 * backend, or NULL with '*why' SL_ENOENT, SL_ENOTSUP, SL_EIO or
 * SL_EAGAIN. An open but unhealthy backend is returned too. */
struct sl_backend *sl_logset_lookup(struct sl_logset *s, const char *ns,
                                    const char *name, int *why);

/* Entries whose backend is open now. */
size_t sl_logset_count_open(const struct sl_logset *s);

/* Close every backend and refuse further syncs; done(arg) runs when all
 * are closed (possibly from inside this call). */
void sl_logset_shutdown(struct sl_logset *s, void (*done)(void *), void *arg);

/* Free e's common fields, the kind's (fini) and e. */
void sl_logset_entry_free(struct sl_logset_entry *e);

#endif
