/*
 * control/logset.c - a set of backends per ns/name, opened, retried,
 * health-polled, rebuilt and closed as control/logset.h says.
 */
#include "control/logset.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "broker/backend.h"
#include "core/alloc.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/metrics_kn.h"

#define LS_HEALTH_MS 1000

struct sl_logset {
    struct sl_loop *loop;
    const struct sl_logset_kind *kind;
    struct sl_metrics *metrics; /* borrowed, may be NULL */
    struct sl_log_ctx *log;     /* borrowed */
    struct sl_map entries;      /* "ns/name" -> entry */
    struct sl_timer *health;
    sl_dp_notify_fn *notify;
    void *notify_arg;
    bool shutting_down;
    size_t closing; /* closes in flight during shutdown */
    void (*shutdown_done)(void *);
    void *shutdown_arg;
};

static char *ls_key(const char *ns, const char *name)
{
    size_t n = strlen(ns) + strlen(name) + 2;
    char *k = sl_xmalloc(n);

    snprintf(k, n, "%s/%s", ns, name);
    return k;
}

static void ls_notify(struct sl_logset *s, const char *ns, const char *name)
{
    if (s->notify != NULL && !s->shutting_down)
        s->notify(s->notify_arg, s->kind->kind, ns, name);
}

void sl_logset_entry_free(struct sl_logset_entry *e)
{
    if (e->set->kind->fini != NULL)
        e->set->kind->fini(e);
    sl_timer_free(e->retry);
    if (e->b != NULL)
        sl_backend_free(e->b);
    sl_free(e->ns);
    sl_free(e->name);
    sl_free(e->key);
    sl_free(e->fp);
    sl_free(e);
}

/* e is out of the map: free it now or leave it to the kind. */
static void ls_forget(struct sl_logset_entry *e)
{
    if (e->set->kind->forget != NULL)
        e->set->kind->forget(e);
    else
        sl_logset_entry_free(e);
}

void sl_logset_why(struct sl_logset_entry *e, const char *reason,
                   const char *fmt, ...)
{
    char m[sizeof(e->msg)];
    va_list ap;

    /* Into a local first: the arguments may be e->msg itself. */
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
    memcpy(e->msg, m, sizeof(m));
}

enum sl_dp_state sl_logset_state(const struct sl_logset_entry *e,
                                 struct sl_diag *why)
{
    const struct sl_logset_kind *k = e->set->kind;

    switch (e->st) {
    case SL_LS_OPEN:
        if (!e->unhealthy)
            return SL_DP_READY;
        sl_diag_set(why, SL_EIO, e->hreason, "%s", e->hmsg);
        return SL_DP_FAILED;
    case SL_LS_FAILED:
        sl_diag_set(why, SL_EIO, e->reason, "%s", e->msg);
        return SL_DP_FAILED;
    case SL_LS_UNSUPPORTED:
        sl_diag_set(why, SL_ENOTSUP, e->reason, "%s", e->msg);
        return SL_DP_UNSUPPORTED;
    case SL_LS_CLOSING:
        sl_diag_set(why, SL_EAGAIN, k->closing_reason, "%s", k->closing_msg);
        return SL_DP_PENDING;
    default:
        sl_diag_set(why, SL_EAGAIN, k->opening_reason, "%s", k->opening_msg);
        return SL_DP_PENDING;
    }
}

static void ls_shutdown_step(struct sl_logset *s)
{
    void (*done)(void *) = s->shutdown_done;

    if (s->closing > 0 || done == NULL)
        return;
    s->shutdown_done = NULL;
    done(s->shutdown_arg);
}

static void ls_closed(void *arg, int rc)
{
    struct sl_logset_entry *e = arg;
    struct sl_logset *s = e->set;

    if (rc != 0)
        SL_LOG(SL_LOG_WARN, s->log, "closing the backend of %s %s: %s",
               s->kind->what, e->key, sl_strerror(rc));
    if (s->kind->closed != NULL)
        s->kind->closed(e);
    sl_backend_free(e->b);
    e->b = NULL;
    e->st = SL_LS_NONE;
    if (s->shutting_down) {
        s->closing--;
        ls_shutdown_step(s);
        return;
    }
    if (e->removed) {
        char *ns = sl_xstrdup(e->ns), *name = sl_xstrdup(e->name);
        void *old = NULL;

        sl_map_del(&s->entries, e->key, &old);
        ls_forget(e);
        /* Again: while it closed, the ingress answered under its name,
         * which made its series anew. */
        sl_metrics_forget_broker(s->metrics, ns, name);
        /* The object may have come back meanwhile. */
        ls_notify(s, ns, name);
        sl_free(ns);
        sl_free(name);
        return;
    }
    ls_notify(s, e->ns, e->name);
}

void sl_logset_close(struct sl_logset_entry *e)
{
    struct sl_logset *s = e->set;

    if (s->kind->closing != NULL)
        s->kind->closing(e);
    sl_timer_stop(e->retry);
    if (e->b == NULL) {
        e->st = SL_LS_NONE;
        return;
    }
    if (e->st == SL_LS_CLOSING)
        return;
    e->st = SL_LS_CLOSING;
    if (s->shutting_down)
        s->closing++;
    if (e->b->state == SL_BACKEND_OPENING) {
        e->close_after_open = true;
        return;
    }
    sl_backend_close(e->b, ls_closed, e);
}

static void ls_retry_fire(void *arg)
{
    struct sl_logset_entry *e = arg;

    ls_notify(e->set, e->ns, e->name);
}

void sl_logset_failed(struct sl_logset_entry *e)
{
    struct sl_logset *s = e->set;
    bool same = strcmp(e->said, e->msg) == 0;

    e->st = SL_LS_FAILED;
    SL_LOG(same ? SL_LOG_DEBUG : SL_LOG_WARN, s->log,
           "%s %s: %s: %s; retrying in %lld ms", s->kind->what, e->key,
           e->reason, e->msg, (long long)e->backoff_ms);
    memcpy(e->said, e->msg, sizeof(e->said));
    e->retry_at = sl_loop_now_ms(s->loop) + e->backoff_ms;
    sl_timer_start(e->retry, (uint64_t)e->backoff_ms, 0);
    e->backoff_ms = e->backoff_ms * 2 > SL_LOGSET_RETRY_MAX_MS
                        ? SL_LOGSET_RETRY_MAX_MS
                        : e->backoff_ms * 2;
}

static void ls_opened(void *arg, int rc)
{
    struct sl_logset_entry *e = arg;
    struct sl_logset *s = e->set;

    if (e->close_after_open) {
        e->close_after_open = false;
        sl_backend_close(e->b, ls_closed, e);
        return;
    }
    if (e->st != SL_LS_OPENING)
        return;
    if (rc == 0) {
        e->st = SL_LS_OPEN;
        e->unhealthy = false;
        e->backoff_ms = SL_LOGSET_RETRY_MIN_MS;
        e->said[0] = '\0';
        if (s->kind->opened != NULL)
            s->kind->opened(e);
    } else {
        s->kind->open_failed(e, rc);
        sl_logset_failed(e);
    }
    ls_notify(s, e->ns, e->name);
}

int sl_logset_open(struct sl_logset_entry *e, const struct sl_backend_ops *ops,
                   const char *data_dir, size_t max_event_size,
                   const struct json_object *config, struct sl_diag *d)
{
    struct sl_backend_cfg bc;
    int rc;

    memset(&bc, 0, sizeof(bc));
    bc.loop = e->set->loop;
    bc.ns = e->ns;
    bc.name = e->name;
    bc.data_dir = data_dir;
    bc.limits.max_event_size = max_event_size;
    bc.config = config;
    rc = sl_backend_new(ops, &bc, &e->b, d);
    if (rc != 0)
        return rc;
    e->st = SL_LS_OPENING;
    sl_backend_open(e->b, ls_opened, e);
    return 0;
}

bool sl_logset_sync(struct sl_logset *s, const char *ns, const char *name,
                    char *fp, struct sl_logset_entry **out,
                    enum sl_dp_state *st, struct sl_diag *why)
{
    char *key;
    struct sl_logset_entry *e;

    *out = NULL;
    if (s->shutting_down) {
        sl_free(fp);
        sl_diag_set(why, SL_EAGAIN, "ShuttingDown", "sluice is stopping");
        *st = SL_DP_PENDING;
        return false;
    }
    key = ls_key(ns, name);
    e = sl_map_get(&s->entries, key);
    if (e == NULL) {
        e = sl_xcalloc(1, s->kind->entry_size);
        e->set = s;
        e->ns = sl_xstrdup(ns);
        e->name = sl_xstrdup(name);
        e->key = sl_xstrdup(key);
        e->backoff_ms = SL_LOGSET_RETRY_MIN_MS;
        e->retry = sl_timer_new(s->loop, ls_retry_fire, e);
        sl_map_put(&s->entries, key, e, NULL);
    }
    sl_free(key);
    *out = e;
    e->removed = false;
    if (e->st == SL_LS_CLOSING)
        goto keep;
    if (e->fp != NULL && strcmp(e->fp, fp) != 0 && e->st != SL_LS_NONE) {
        SL_LOG(SL_LOG_INFO, s->log, "%s %s: configuration changed, reopening",
               s->kind->what, e->key);
        e->backoff_ms = SL_LOGSET_RETRY_MIN_MS;
        sl_logset_close(e);
        if (e->st != SL_LS_NONE)
            goto keep;
    }
    if (e->st == SL_LS_FAILED) {
        if (sl_loop_now_ms(s->loop) < e->retry_at)
            goto keep;
        sl_logset_close(e);
    }
    if (e->st != SL_LS_NONE)
        goto keep;
    sl_free(e->fp);
    e->fp = fp;
    return true;
keep:
    sl_free(fp);
    *st = sl_logset_state(e, why);
    return false;
}

void sl_logset_remove(struct sl_logset *s, const char *ns, const char *name)
{
    char *key = ls_key(ns, name);
    struct sl_logset_entry *e = sl_map_get(&s->entries, key);

    sl_free(key);
    sl_metrics_forget_broker(s->metrics, ns, name);
    if (e == NULL)
        return;
    e->removed = true;
    if (e->st == SL_LS_CLOSING)
        return;
    sl_logset_close(e);
    if (e->st == SL_LS_NONE) {
        /* Nothing was open: forget it now. */
        void *old = NULL;

        sl_map_del(&s->entries, e->key, &old);
        ls_forget(e);
    }
}

struct sl_logset_entry *sl_logset_get(struct sl_logset *s, const char *key)
{
    return sl_map_get(&s->entries, key);
}

struct sl_logset_entry *sl_logset_next(const struct sl_logset *s, size_t *it)
{
    const char *k;
    void *v;

    return sl_map_next(&s->entries, it, &k, &v) ? v : NULL;
}

struct sl_backend *sl_logset_lookup(struct sl_logset *s, const char *ns,
                                    const char *name, int *why)
{
    char key[512];
    struct sl_logset_entry *e;

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    e = sl_map_get(&s->entries, key);
    if (e == NULL || (e->removed && (s->kind->gone_while_closing ||
                                     e->st != SL_LS_CLOSING))) {
        *why = SL_ENOENT;
        return NULL;
    }
    if (s->shutting_down) {
        *why = SL_EAGAIN;
        return NULL;
    }
    switch (e->st) {
    case SL_LS_OPEN:
        /* Unhealthy too: its appends then fail at once. */
        return e->b;
    case SL_LS_UNSUPPORTED:
        *why = SL_ENOTSUP;
        return NULL;
    case SL_LS_FAILED:
        *why = SL_EIO;
        return NULL;
    default:
        *why = SL_EAGAIN;
        return NULL;
    }
}

size_t sl_logset_count_open(const struct sl_logset *s)
{
    struct sl_logset_entry *e;
    size_t it = 0, n = 0;

    while ((e = sl_logset_next(s, &it)) != NULL)
        if (e->st == SL_LS_OPEN)
            n++;
    return n;
}

/* ---- health ---- */

bool sl_logset_health_read(struct sl_logset_entry *e)
{
    struct sl_logset *s = e->set;
    struct sl_diag why;
    bool bad;

    sl_diag_clear(&why);
    bad = s->kind->health(e, &why) != 0;
    if (bad == e->unhealthy && (!bad || (strcmp(why.msg, e->hmsg) == 0 &&
                                         strcmp(why.field, e->hreason) == 0)))
        return false;
    e->unhealthy = bad;
    snprintf(e->hreason, sizeof(e->hreason), "%.63s", bad ? why.field : "");
    snprintf(e->hmsg, sizeof(e->hmsg), "%s", bad ? why.msg : "");
    SL_LOG(bad ? SL_LOG_WARN : SL_LOG_INFO, s->log, "%s %s: %s", s->kind->what,
           e->key, bad ? e->hmsg : s->kind->healthy_msg);
    return true;
}

static void ls_health_fire(void *arg)
{
    struct sl_logset *s = arg;
    struct sl_logset_entry *e;
    size_t it = 0;

    while ((e = sl_logset_next(s, &it)) != NULL)
        if (e->st == SL_LS_OPEN && sl_logset_health_read(e))
            ls_notify(s, e->ns, e->name);
}

/* ---- life cycle ---- */

struct sl_logset *sl_logset_new(struct sl_loop *loop,
                                const struct sl_logset_kind *kind,
                                struct sl_metrics *metrics,
                                struct sl_log_ctx *log)
{
    struct sl_logset *s = sl_xcalloc(1, sizeof(*s));

    s->loop = loop;
    s->kind = kind;
    s->metrics = metrics;
    s->log = log;
    sl_map_init(&s->entries, NULL);
    s->health = sl_timer_new(loop, ls_health_fire, s);
    sl_timer_start(s->health, LS_HEALTH_MS, LS_HEALTH_MS);
    return s;
}

void sl_logset_set_notify(struct sl_logset *s, sl_dp_notify_fn *fn, void *arg)
{
    s->notify = fn;
    s->notify_arg = arg;
}

void sl_logset_shutdown(struct sl_logset *s, void (*done)(void *), void *arg)
{
    struct sl_logset_entry *e;
    size_t it = 0;

    s->shutting_down = true;
    s->shutdown_done = done;
    s->shutdown_arg = arg;
    sl_timer_stop(s->health);
    while ((e = sl_logset_next(s, &it)) != NULL) {
        if (e->st == SL_LS_CLOSING)
            s->closing++;
        else if (e->b != NULL)
            sl_logset_close(e);
        else
            sl_timer_stop(e->retry);
    }
    ls_shutdown_step(s);
}

void sl_logset_free(struct sl_logset *s)
{
    struct sl_logset_entry *e;
    size_t it = 0;

    if (s == NULL)
        return;
    while ((e = sl_logset_next(s, &it)) != NULL) {
        if (e->b != NULL && e->st != SL_LS_NONE && e->st != SL_LS_FAILED) {
            /* Not shut down: a bug, logged; leak rather than free what a
             * backend's threads may still use. */
            SL_LOG(SL_LOG_ERROR, s->log, "%s %s freed while open",
                   s->kind->what, e->key);
            continue;
        }
        sl_logset_entry_free(e);
    }
    sl_map_fini(&s->entries);
    sl_timer_free(s->health);
    sl_free(s);
}
