/*
 * control/sources.c - the running sources (control/sources.h) and the
 * Deployed condition of the source kinds that have an adapter.
 *
 * An entry per source object, keyed "<kind>/<ns>/<name>", from its first
 * sync to its removal. It holds the adapter instance, its emitter and the
 * spec it runs with (as JSON text, the fingerprint):
 *
 *   (no source) -sync: new+start ok-> RUNNING
 *               -sync: init/start refused-> FAILED (no source; tried
 *                                           again at the next sync)
 *   RUNNING -sync, same spec-> RUNNING (the sink URL may change)
 *           -sync, spec changed-> update ok: RUNNING
 *                                 no update slot: stop, new, start
 *                                 update refused: stop -> FAILED
 *           -remove / shutdown-> stop (async) -> freed
 *
 * A stopping source leaves the map at once: its stop record (source and
 * emitter) lives on a list until the adapter's stop completes, then both
 * are freed (from a task posted by the wrapper, never inside the
 * adapter's own callback).
 */
#include "control/sources.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "control/internal.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/metrics_kn.h"
#include "resource/resource.h"
#include "resource/schema.h"
#include "sinks/http_sender.h"
#include "sources/emit.h"
#include "sources/source.h"

/* Largest response body read from a sink (it is ignored). */
#define SRC_MAX_BODY (64 * 1024)

struct src_entry {
    char *key;
    char *kind, *ns, *name;
    char *fp; /* spec JSON the source runs with (or failed with) */
    struct sl_emitter *em;
    struct sl_metrics_source *ms; /* the emitter's counts; NULL: none */
    struct sl_source *src;        /* NULL: not running */
    enum sl_dp_state st;
    char reason[64];
    char msg[SL_DIAG_MSG_MAX];
};

/* A source being stopped: out of the map, freed when the stop ends. */
struct src_stop {
    struct src_stop *next, *prev;
    struct sl_sources *ss; /* NULL once the set is freed (orphan) */
    struct sl_source *src;
    struct sl_emitter *em;
    struct sl_metrics_source *ms;
};

struct sl_sources {
    struct sl_loop *loop;
    sl_sources_notify_fn *notify; /* the controller's, or NULL */
    void *notify_arg;
    struct sl_sender *sender;
    char *zoneinfo_dir;
    unsigned max_in_flight;
    int64_t timeout_ms;
    struct sl_metrics *metrics; /* borrowed, may be NULL */
    struct sl_map entries;      /* key -> src_entry */
    struct src_stop *stops;     /* stops in progress */
    bool shutting_down;
    void (*shutdown_done)(void *);
    void *shutdown_arg;
    struct sl_log_ctx log;
};

static char *src_key(const char *kind, const char *ns, const char *name)
{
    size_t n = strlen(kind) + strlen(ns) + strlen(name) + 3;
    char *k = sl_xmalloc(n);

    snprintf(k, n, "%s/%s/%s", kind, ns, name);
    return k;
}

/* ---- stopping ---- */

static void src_shutdown_step(struct sl_sources *ss)
{
    void (*done)(void *) = ss->shutdown_done;

    if (!ss->shutting_down || ss->stops != NULL || done == NULL)
        return;
    ss->shutdown_done = NULL;
    done(ss->shutdown_arg);
}

/* The adapter's stop completed (a task posted by the wrapper). */
static void src_stopped(void *arg, int rc)
{
    struct src_stop *s = arg;
    struct sl_sources *ss = s->ss;

    if (rc != 0)
        SL_LOG(SL_LOG_WARN, &s->src->log, "stopping: %s", sl_strerror(rc));
    sl_source_free(s->src);
    sl_emitter_free(s->em);
    sl_metrics_source_free(s->ms);
    if (ss != NULL) {
        if (s->prev != NULL)
            s->prev->next = s->next;
        else
            ss->stops = s->next;
        if (s->next != NULL)
            s->next->prev = s->prev;
    }
    sl_free(s);
    if (ss != NULL)
        src_shutdown_step(ss);
}

/* Stop what 'e' runs (if anything) and take it out of 'e'. */
static void src_entry_stop(struct sl_sources *ss, struct src_entry *e)
{
    struct src_stop *s;

    if (e->src == NULL) {
        sl_emitter_free(e->em);
        e->em = NULL;
        sl_metrics_source_free(e->ms);
        e->ms = NULL;
        return;
    }
    s = sl_xcalloc(1, sizeof(*s));
    s->ss = ss;
    s->src = e->src;
    s->em = e->em;
    s->ms = e->ms;
    e->src = NULL;
    e->em = NULL;
    e->ms = NULL;
    s->next = ss->stops;
    if (ss->stops != NULL)
        ss->stops->prev = s;
    ss->stops = s;
    if (sl_source_stop(s->src, src_stopped, s) != 0) {
        /* Cannot happen: only this file stops sources, once each. */
        SL_LOG(SL_LOG_ERROR, &ss->log, "%s/%s: stop refused", e->ns, e->name);
    }
}

static void src_entry_free(struct src_entry *e)
{
    sl_free(e->key);
    sl_free(e->kind);
    sl_free(e->ns);
    sl_free(e->name);
    sl_free(e->fp);
    sl_free(e);
}

/* ---- sync ---- */

static enum sl_dp_state src_state(struct src_entry *e, enum sl_dp_state st,
                                  struct sl_diag *why, const char *reason,
                                  const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum sl_dp_state src_state(struct src_entry *e, enum sl_dp_state st,
                                  struct sl_diag *why, const char *reason,
                                  const char *fmt, ...)
{
    char m[sizeof(e->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    e->st = st;
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
    memcpy(e->msg, m, sizeof(m));
    if (st != SL_DP_READY)
        sl_diag_set(why, st == SL_DP_PENDING ? SL_EAGAIN : SL_EINVAL, e->reason,
                    "%s", e->msg);
    return st;
}

/* The metric families of each kind's adapter (Knative's component names). */
struct src_metrics {
    const char *kind, *component, *group;
};

static const struct src_metrics src_metrics_kinds[] = {
    { "PingSource", SL_METRICS_PINGSOURCE, SL_METRICS_PINGSOURCE_GROUP },
};

static const struct src_metrics *src_metrics_kind(const char *kind)
{
    for (size_t i = 0;
         i < sizeof(src_metrics_kinds) / sizeof(src_metrics_kinds[0]); i++)
        if (strcmp(src_metrics_kinds[i].kind, kind) == 0)
            return &src_metrics_kinds[i];
    return NULL;
}

/* A source's report changed: its object is reconciled again. */
static void src_notify(void *arg, struct sl_source *src)
{
    struct sl_sources *ss = arg;

    if (ss->notify != NULL && !ss->shutting_down)
        ss->notify(ss->notify_arg, src->ops->kind, src->ns, src->name);
}

/* Create and start an SL_SOURCE_DELIVERS source (no emitter). */
static enum sl_dp_state
src_entry_start_delivering(struct sl_sources *ss, struct src_entry *e,
                           const struct sl_source_ops *ops,
                           const struct json_object *obj,
                           const struct sl_sources_in *in, struct sl_diag *why)
{
    struct sl_source_cfg sc;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    memset(&sc, 0, sizeof(sc));
    sc.loop = ss->loop;
    sc.zoneinfo_dir = ss->zoneinfo_dir;
    sc.sender = ss->sender;
    sc.sink_url = in->sink_url;
    sc.dls_url = in->dls_url;
    sc.conn = in->conn;
    sc.notify = src_notify;
    sc.notify_arg = ss;
    rc = sl_source_validate(ops, obj, &d);
    if (rc == 0)
        rc = sl_source_new(ops, &sc, obj, &e->src, &d);
    if (rc == 0 && (rc = sl_source_start(e->src, &d)) != 0) {
        sl_source_free(e->src);
        e->src = NULL;
    }
    if (rc != 0) {
        SL_LOG(SL_LOG_WARN, &ss->log, "%s %s/%s cannot run: %s%s%s", e->kind,
               e->ns, e->name, d.field, d.field[0] ? ": " : "", d.msg);
        return src_state(e, SL_DP_FAILED, why, "AdapterFailed", "%s%s%s",
                         d.field, d.field[0] ? ": " : "", d.msg);
    }
    return src_state(e, SL_DP_READY, why, "", "%s", "");
}

/* Create and start the source of 'e' from 'obj'. */
static enum sl_dp_state
src_entry_start(struct sl_sources *ss, struct src_entry *e,
                const struct sl_source_ops *ops, const struct json_object *obj,
                const struct sl_sources_in *in, struct sl_diag *why)
{
    const struct src_metrics *comp;
    const char *url = in->sink_url;
    struct sl_emitter_cfg ec;
    struct sl_source_cfg sc;
    struct sl_log_ctx lc;
    struct sl_diag d;
    int rc;

    if (ops->flags & SL_SOURCE_DELIVERS)
        return src_entry_start_delivering(ss, e, ops, obj, in, why);
    sl_diag_clear(&d);
    sl_log_ctx_init(&lc, "source", e->ns, e->name);
    memset(&ec, 0, sizeof(ec));
    ec.sender = ss->sender;
    ec.url = url;
    ec.ns = e->ns;
    ec.max_in_flight = ss->max_in_flight;
    ec.timeout_ms = ss->timeout_ms;
    ec.log = &lc;
    if ((comp = src_metrics_kind(e->kind)) != NULL)
        e->ms = sl_metrics_source_new(ss->metrics, comp->component, e->ns,
                                      e->name, comp->group);
    ec.metrics = e->ms;
    if ((rc = sl_emitter_new(ss->loop, &ec, &e->em, &d)) != 0) {
        sl_metrics_source_free(e->ms);
        e->ms = NULL;
        return src_state(e, SL_DP_FAILED, why, "AdapterFailed", "%s", d.msg);
    }
    memset(&sc, 0, sizeof(sc));
    sc.loop = ss->loop;
    sc.out = e->em;
    sc.zoneinfo_dir = ss->zoneinfo_dir;
    rc = sl_source_validate(ops, obj, &d);
    if (rc == 0)
        rc = sl_source_new(ops, &sc, obj, &e->src, &d);
    if (rc == 0 && (rc = sl_source_start(e->src, &d)) != 0) {
        sl_source_free(e->src);
        e->src = NULL;
    }
    if (rc != 0) {
        sl_emitter_free(e->em);
        e->em = NULL;
        sl_metrics_source_free(e->ms);
        e->ms = NULL;
        SL_LOG(SL_LOG_WARN, &ss->log, "%s %s/%s cannot run: %s%s%s", e->kind,
               e->ns, e->name, d.field, d.field[0] ? ": " : "", d.msg);
        return src_state(e, SL_DP_FAILED, why, "AdapterFailed", "%s%s%s",
                         d.field, d.field[0] ? ": " : "", d.msg);
    }
    return src_state(e, SL_DP_READY, why, "", "%s", "");
}

/* Stop and forget kind/ns/name, if it is there. */
static void src_remove(struct sl_sources *ss, const char *kind, const char *ns,
                       const char *name)
{
    char *key = src_key(kind, ns, name);
    struct src_entry *e = NULL;

    if (sl_map_del(&ss->entries, key, (void **)&e) == 0 && e != NULL) {
        if (e->src != NULL)
            SL_LOG(SL_LOG_INFO, &ss->log, "%s %s/%s removed: stopping", kind,
                   ns, name);
        src_entry_stop(ss, e);
        src_entry_free(e);
    }
    sl_free(key);
}

/* The fingerprint of what source 'ops' runs with: the spec, and for a
 * source that delivers itself its sink, dead-letter sink and settings. */
static char *src_fp(const struct sl_source_ops *ops,
                    const struct json_object *obj,
                    const struct sl_sources_in *in)
{
    struct json_object *o = json_object_new_object();
    struct json_object *spec = sl_res_get(obj, "spec");
    char *fp;

    json_object_object_add(o, "spec", spec ? json_object_get(spec) : NULL);
    if (ops->flags & SL_SOURCE_DELIVERS) {
        struct json_object *labels = sl_res_dig(obj, "metadata.labels");
        struct json_object *ann = sl_res_dig(obj, "metadata.annotations");

        json_object_object_add(o, "labels",
                               labels ? json_object_get(labels) : NULL);
        json_object_object_add(o, "annotations",
                               ann ? json_object_get(ann) : NULL);
        json_object_object_add(o, "sink", json_object_new_string(in->sink_url));
        if (in->dls_url != NULL)
            json_object_object_add(o, "dls",
                                   json_object_new_string(in->dls_url));
        if (in->conn != NULL)
            json_object_object_add(
                o, "conn", json_object_get((struct json_object *)in->conn));
    }
    fp = sl_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return fp;
}

enum sl_dp_state sl_sources_sync(struct sl_sources *ss, const char *kind,
                                 const char *ns, const char *name,
                                 const struct json_object *obj,
                                 const char *sink_url, struct sl_diag *why)
{
    struct sl_sources_in in = { .sink_url = sink_url };

    return sl_sources_sync_in(ss, kind, ns, name, obj, &in, why);
}

enum sl_dp_state sl_sources_sync_in(struct sl_sources *ss, const char *kind,
                                    const char *ns, const char *name,
                                    const struct json_object *obj,
                                    const struct sl_sources_in *in,
                                    struct sl_diag *why)
{
    const struct sl_source_ops *ops = sl_source_find(kind);
    const char *sink_url = in->sink_url;
    char *key, *fp;
    struct src_entry *e;
    struct sl_diag d;
    int rc;

    if (ss->shutting_down) {
        sl_diag_set(why, SL_EAGAIN, "ShuttingDown", "sluice is stopping");
        return SL_DP_PENDING;
    }
    if (ops == NULL) {
        sl_diag_set(why, SL_ENOTSUP, "DataPlaneNotAvailable",
                    "no adapter runs this %s yet", kind);
        return SL_DP_UNSUPPORTED;
    }
    if (sink_url == NULL) {
        src_remove(ss, kind, ns, name);
        sl_diag_set(why, SL_EAGAIN, "SinkNotProvided",
                    "the %s runs once its sink resolves", kind);
        return SL_DP_PENDING;
    }
    key = src_key(kind, ns, name);
    e = sl_map_get(&ss->entries, key);
    if (e == NULL) {
        e = sl_xcalloc(1, sizeof(*e));
        e->key = key;
        e->kind = sl_xstrdup(kind);
        e->ns = sl_xstrdup(ns);
        e->name = sl_xstrdup(name);
        sl_map_put(&ss->entries, key, e, NULL);
    } else {
        sl_free(key);
    }
    fp = src_fp(ops, obj, in);
    if (e->src != NULL) {
        if (e->em != NULL && strcmp(sl_emitter_url(e->em), sink_url) != 0) {
            SL_LOG(SL_LOG_INFO, &e->src->log, "sink is now %s", sink_url);
            sl_emitter_set_url(e->em, sink_url);
        }
        if (e->fp != NULL && strcmp(e->fp, fp) == 0) {
            sl_free(fp);
            return SL_DP_READY;
        }
        sl_free(e->fp);
        e->fp = fp;
        sl_diag_clear(&d);
        if (ops->flags & SL_SOURCE_DELIVERS) {
            struct sl_source_cfg sc;

            memset(&sc, 0, sizeof(sc));
            sc.sink_url = in->sink_url;
            sc.dls_url = in->dls_url;
            sc.conn = in->conn;
            rc = sl_source_update_cfg(e->src, obj, &sc, &d);
        } else {
            rc = sl_source_update(e->src, obj, &d);
        }
        if (rc == 0)
            return src_state(e, SL_DP_READY, why, "", "%s", "");
        /* No update slot: recreate; refused: nothing may run an old
         * spec while the object says another. */
        src_entry_stop(ss, e);
        if (rc != SL_ENOTSUP)
            return src_state(e, SL_DP_FAILED, why, "AdapterFailed", "%s%s%s",
                             d.field, d.field[0] ? ": " : "", d.msg);
        return src_entry_start(ss, e, ops, obj, in, why);
    }
    /* Not running: (re)try, whether or not the spec changed (a zone file
     * may have been installed meanwhile). */
    sl_free(e->fp);
    e->fp = fp;
    return src_entry_start(ss, e, ops, obj, in, why);
}

int sl_sources_report(struct sl_sources *ss, const char *kind, const char *ns,
                      const char *name, struct sl_source_report *out)
{
    char *key = src_key(kind, ns, name);
    struct src_entry *e = sl_map_get(&ss->entries, key);

    sl_free(key);
    memset(out, 0, sizeof(*out));
    if (e == NULL || e->src == NULL)
        return SL_ENOENT;
    sl_source_report(e->src, out);
    return 0;
}

void sl_sources_set_notify(struct sl_sources *ss, sl_sources_notify_fn *fn,
                           void *arg)
{
    ss->notify = fn;
    ss->notify_arg = arg;
}

void sl_sources_remove(struct sl_sources *ss, const char *kind, const char *ns,
                       const char *name)
{
    const struct src_metrics *comp = src_metrics_kind(kind);

    src_remove(ss, kind, ns, name);
    if (comp != NULL)
        sl_metrics_forget_source(ss->metrics, ns, name, comp->group);
}

size_t sl_sources_running(const struct sl_sources *ss)
{
    size_t it = 0, n = 0;
    const char *k;
    void *v;

    while (sl_map_next(&ss->entries, &it, &k, &v))
        if (((struct src_entry *)v)->src != NULL)
            n++;
    return n;
}

/* ---- life cycle ---- */

int sl_sources_new(struct sl_loop *loop, const struct sl_sources_opts *o,
                   struct sl_sources **out, struct sl_diag *d)
{
    struct sl_sources_opts none;
    struct sl_sender_opts so;
    struct sl_sources *ss;
    struct sl_res_env env;
    int rc;

    *out = NULL;
    if ((rc = sl_source_registry_check(NULL, d)) != 0)
        return rc;
    if (o == NULL) {
        memset(&none, 0, sizeof(none));
        o = &none;
    }
    /* The same zone directory admission checks spec.timezone against. */
    sl_res_env_init(&env);
    ss = sl_xcalloc(1, sizeof(*ss));
    ss->loop = loop;
    ss->zoneinfo_dir =
        sl_xstrdup(o->zoneinfo_dir ? o->zoneinfo_dir : env.zoneinfo_dir);
    ss->max_in_flight = o->max_in_flight;
    ss->timeout_ms = o->timeout_ms;
    ss->metrics = o->metrics;
    sl_map_init(&ss->entries, NULL);
    sl_log_ctx_init(&ss->log, "sources", NULL, NULL);
    memset(&so, 0, sizeof(so));
    so.max_in_flight = 100000;
    so.max_body = SRC_MAX_BODY;
    so.max_total_conns = o->max_conns;
    if (sl_sender_new(loop, &so, &ss->sender) != 0) {
        sl_sources_free(ss);
        return sl_diag_set(d, SL_EIO, "", "cannot set up the HTTP sender");
    }
    *out = ss;
    return 0;
}

void sl_sources_shutdown(struct sl_sources *ss, void (*done)(void *), void *arg)
{
    size_t it = 0;
    const char *k;
    void *v;

    ss->shutting_down = true;
    ss->shutdown_done = done;
    ss->shutdown_arg = arg;
    while (sl_map_next(&ss->entries, &it, &k, &v)) {
        src_entry_stop(ss, v);
        src_entry_free(v);
    }
    sl_map_fini(&ss->entries);
    sl_map_init(&ss->entries, NULL);
    src_shutdown_step(ss);
}

void sl_sources_free(struct sl_sources *ss)
{
    size_t it = 0;
    const char *k;
    void *v;

    if (ss == NULL)
        return;
    while (sl_map_next(&ss->entries, &it, &k, &v)) {
        struct src_entry *e = v;

        if (e->src != NULL) {
            /* Not shut down: a bug, logged; leak rather than free what
             * may still run. */
            SL_LOG(SL_LOG_ERROR, &ss->log, "%s freed while running", e->key);
            continue;
        }
        sl_emitter_free(e->em);
        sl_metrics_source_free(e->ms);
        src_entry_free(e);
    }
    sl_map_fini(&ss->entries);
    /* Stops still in progress finish on their own (their task is
     * posted); they must not touch the set any more. */
    for (struct src_stop *s = ss->stops; s != NULL; s = s->next)
        s->ss = NULL;
    sl_sender_free(ss->sender);
    sl_free(ss->zoneinfo_dir);
    sl_free(ss);
}

/* ---- the Deployed condition (for control/others.c) ---- */

void sl__ctl_source_deploy(struct sl_rec *r, const char *sink_url)
{
    struct sl_sources *ss = sl_rec_opts(r)->sources;
    const char *kind = r->kind->kind;
    enum sl_dp_state st;
    struct sl_diag why;

    sl_diag_clear(&why);
    st = sl_sources_sync(ss, kind, r->ns, r->name, r->obj, sink_url, &why);
    switch (st) {
    case SL_DP_READY:
        /* As Knative's PingSource lifecycle: MarkTrue, no reason. */
        sl_rec_cond(r, "Deployed", "True", NULL, NULL);
        break;
    case SL_DP_PENDING:
        sl_rec_cond(r, "Deployed", "Unknown", why.field, "%s", why.msg);
        break;
    default:
        sl_rec_cond(r, "Deployed", "False", why.field, "%s", why.msg);
        break;
    }
}

void sl__ctl_source_finalize(struct sl_ctl *ctl, const struct json_object *obj)
{
    struct sl_sources *ss = sl__ctl_opts(ctl)->sources;
    const struct json_object *meta = sl_res_get(obj, "metadata");
    const char *kind = sl_res_get_str(obj, "kind"),
               *ns = sl_res_get_str(meta, "namespace"),
               *name = sl_res_get_str(meta, "name");

    if (ss != NULL && kind != NULL && ns != NULL && name != NULL)
        sl_sources_remove(ss, kind, ns, name);
}
