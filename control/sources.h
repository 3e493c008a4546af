/*
 * control/sources.h - the running sources of one sluice process: an
 * adapter instance (sources/source.h) per source object that has an
 * adapter in this build (PingSource, KafkaSource), all sending through
 * one shared HTTP sender: with an emitter (sources/emit.h) each, or, for
 * an adapter that delivers its events itself (SL_SOURCE_DELIVERS:
 * KafkaSource), with the sink, dead-letter sink and connection settings
 * the reconciler resolved.
 *
 * The source reconcilers (control/others.c, control/sources.c) drive it
 * level-based, as control/dataplane.h is driven: sl_sources_sync() with
 * what the object says now and its resolved sink URL; syncing twice with
 * the same input changes nothing; a changed spec goes to the adapter's
 * update (or the source is recreated); a changed sink URL goes to the
 * emitter (to the update, for a source that delivers itself, as do a
 * changed dead-letter sink and changed settings); a deleted object or an
 * unresolvable sink removes it. A running source whose report changes
 * (sl_source_changed: a consumer joined, the cluster went away) asks for
 * its object to be reconciled again through the notify hook.
 *
 * Stopping is asynchronous (sl_source_stop); a removed source is out of
 * the map at once and freed when its stop completes, so a source of the
 * same name may start meanwhile.
 *
 * Threads: everything on the loop thread.
 */
#ifndef SL_CONTROL_SOURCES_H
#define SL_CONTROL_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "control/dataplane.h"
#include "sources/source.h"

struct sl_diag;
struct sl_loop;
struct sl_metrics;
struct sl_sources;

struct sl_sources_opts {
    /* IANA time zone files [NULL: /usr/share/zoneinfo]. */
    const char *zoneinfo_dir;
    /* Events each source holds at once [0: SL_EMIT_DEFAULT_MAX_IN_FLIGHT]. */
    unsigned max_in_flight;
    /* Per-attempt timeout to a sink [0: SL_EMIT_DEFAULT_TIMEOUT_MS]. */
    int64_t timeout_ms;
    /* Outgoing connections at once, all sources together [0: no limit]. */
    unsigned max_conns;
    /* Where the sources' event counts go (core/metrics_kn.h: the
     * <kind>_mt_adapter families); borrowed, outlives the set; NULL: none. */
    struct sl_metrics *metrics;
};

/*
 * Create the set on 'loop' ('o' may be NULL for defaults), after checking
 * the adapter registry (sl_source_registry_check). Returns 0 with '*out',
 * or SL_EINVAL (a bad registry) / SL_EIO (no HTTP sender) with 'd'.
 */
int sl_sources_new(struct sl_loop *loop, const struct sl_sources_opts *o,
                   struct sl_sources **out, struct sl_diag *d);

/*
 * Stop every source (timers stopped, events in their attempts cancelled)
 * and refuse further syncs. done(arg) runs on the loop when all have
 * stopped (possibly from inside this call).
 */
void sl_sources_shutdown(struct sl_sources *ss, void (*done)(void *),
                         void *arg);

/* Free; after sl_sources_shutdown completed, or when nothing was synced.
 * NULL is a no-op. */
void sl_sources_free(struct sl_sources *ss);

/* Sources running now (started and not being stopped). */
size_t sl_sources_running(const struct sl_sources *ss);

/* ---- for the reconcilers (control/ only) ---- */

/*
 * Make source kind/ns/name run as 'obj' (the stored object, borrowed)
 * says, sending to 'sink_url' (required). Returns SL_DP_READY when it
 * runs; SL_DP_FAILED with 'why' (reason in why->field, message in
 * why->msg) when the adapter refused the object (nothing runs; tried
 * again at the next sync); SL_DP_UNSUPPORTED when no adapter implements
 * 'kind'; SL_DP_PENDING while shutting down.
 */
enum sl_dp_state sl_sources_sync(struct sl_sources *ss, const char *kind,
                                 const char *ns, const char *name,
                                 const struct json_object *obj,
                                 const char *sink_url, struct sl_diag *why);

/* What a source runs with besides its object, as its reconciler resolved
 * it. Borrowed for the call. */
struct sl_sources_in {
    const char *sink_url; /* required (NULL: the sink did not resolve) */
    const char *dls_url;  /* the dead-letter sink, or NULL */
    /* Connection settings for an adapter that delivers itself
     * (KafkaSource: librdkafka properties with its Secrets' values), or
     * NULL. */
    const struct json_object *conn;
};

/*
 * sl_sources_sync with everything a source may run with ('in'); the
 * same returns. For a source that delivers itself a change of in->sink_url,
 * in->dls_url or in->conn, or of the object's labels or annotations,
 * counts as a changed spec.
 */
enum sl_dp_state sl_sources_sync_in(struct sl_sources *ss, const char *kind,
                                    const char *ns, const char *name,
                                    const struct json_object *obj,
                                    const struct sl_sources_in *in,
                                    struct sl_diag *why);

/*
 * How running source kind/ns/name is doing (sl_source_report). Returns 0
 * with 'out', or SL_ENOENT (zeroed 'out') when it does not run.
 */
int sl_sources_report(struct sl_sources *ss, const char *kind, const char *ns,
                      const char *name, struct sl_source_report *out);

/* Called when source kind/ns/name should be reconciled again. Set by
 * the controller. */
typedef void sl_sources_notify_fn(void *arg, const char *kind, const char *ns,
                                  const char *name);
void sl_sources_set_notify(struct sl_sources *ss, sl_sources_notify_fn *fn,
                           void *arg);

/* Source kind/ns/name is gone: stop and forget it, and its metrics. */
void sl_sources_remove(struct sl_sources *ss, const char *kind, const char *ns,
                       const char *name);

#endif
