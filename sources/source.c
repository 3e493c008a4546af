/*
 * sources/source.c - the wrappers through which the core calls source
 * adapters: they check the state, log transitions, map a NULL optional
 * slot to SL_ENOTSUP, and host the test-only fault injection
 * (sources/source.h).
 */
#include "sources/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"

#define SOURCE_ZONEINFO "/usr/share/zoneinfo"

/* ---- fault injection (tests) ---- */

enum { FAULT_INIT = 0, FAULT_START, FAULT_UPDATE, FAULT_N };

static struct {
    int rc;
    unsigned count;
} source_faults[FAULT_N];

void sl_source_fault(const char *slot, int rc, unsigned count)
{
    int i = -1;

    if (strcmp(slot, "init") == 0)
        i = FAULT_INIT;
    else if (strcmp(slot, "start") == 0)
        i = FAULT_START;
    else if (strcmp(slot, "update") == 0)
        i = FAULT_UPDATE;
    if (i < 0)
        return;
    source_faults[i].rc = rc;
    source_faults[i].count = count;
}

/* The injected failure of 'slot', or 0. */
static int source_fault_take(int slot, struct sl_diag *diag)
{
    if (source_faults[slot].count == 0)
        return 0;
    source_faults[slot].count--;
    return sl_diag_set(diag, source_faults[slot].rc, "", "injected fault");
}

/* ---- wrappers ---- */

/* "field: message" of 'd', or the code's text without one. */
static const char *source_why(const struct sl_diag *d, int rc, char *buf,
                              size_t n)
{
    if (d == NULL || d->msg[0] == '\0')
        return sl_strerror(rc);
    return sl_diag_format(d, buf, n);
}

const char *sl_source_state_name(enum sl_source_state st)
{
    switch (st) {
    case SL_SOURCE_NEW:
        return "new";
    case SL_SOURCE_RUNNING:
        return "running";
    case SL_SOURCE_STOPPING:
        return "stopping";
    case SL_SOURCE_STOPPED:
        return "stopped";
    }
    return "?";
}

int sl_source_validate(const struct sl_source_ops *ops,
                       const struct json_object *obj, struct sl_diag *diag)
{
    if (ops->validate == NULL)
        return 0;
    return ops->validate(obj, diag);
}

/* metadata.<field> of 'obj', or NULL. */
static const char *source_meta(const struct json_object *obj, const char *field)
{
    struct json_object *meta = NULL, *v = NULL;

    if (!json_object_object_get_ex(obj, "metadata", &meta) ||
        !json_object_object_get_ex(meta, field, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void source_release(struct sl_source *src)
{
    sl_free(src->ns);
    sl_free(src->name);
    sl_free(src->zoneinfo_dir);
    sl_free(src->sink_url);
    sl_free(src->dls_url);
    if (src->conn != NULL)
        json_object_put(src->conn);
    sl_free(src);
}

/* A deep copy of 'o' (NULL stays NULL). */
static struct json_object *source_copy(const struct json_object *o)
{
    struct json_object *c = NULL;

    if (o == NULL)
        return NULL;
    /* json-c fails a deep copy only when it runs out of memory, which
     * sl_x* allocations treat as fatal too. */
    if (json_object_deep_copy((struct json_object *)o, &c, NULL) != 0)
        abort();
    return c;
}

int sl_source_new(const struct sl_source_ops *ops,
                  const struct sl_source_cfg *cfg,
                  const struct json_object *obj, struct sl_source **out,
                  struct sl_diag *diag)
{
    const char *ns = source_meta(obj, "namespace"),
               *name = source_meta(obj, "name");
    struct sl_source *src;
    int rc;

    *out = NULL;
    if (ops == NULL || ops->abi != SL_SOURCE_ABI ||
        ops->size < sizeof(struct sl_source))
        return sl_diag_set(diag, SL_EINVAL, "", "source adapter ABI mismatch");
    if (cfg == NULL || cfg->loop == NULL ||
        ((ops->flags & SL_SOURCE_DELIVERS)
             ? cfg->sender == NULL || cfg->sink_url == NULL
             : cfg->out == NULL))
        return sl_diag_set(diag, SL_EINVAL, "", "incomplete source config");
    if (ns == NULL || name == NULL)
        return sl_diag_set(diag, SL_EINVAL, "metadata",
                           "a source needs a namespace and a name");
    src = sl_xcalloc(1, ops->size);
    src->ops = ops;
    src->loop = cfg->loop;
    if (ops->flags & SL_SOURCE_DELIVERS) {
        src->sender = cfg->sender;
        src->sink_url = sl_xstrdup(cfg->sink_url);
        src->dls_url = cfg->dls_url ? sl_xstrdup(cfg->dls_url) : NULL;
        src->conn = source_copy(cfg->conn);
    } else {
        src->out = cfg->out;
    }
    src->notify = cfg->notify;
    src->notify_arg = cfg->notify_arg;
    src->ns = sl_xstrdup(ns);
    src->name = sl_xstrdup(name);
    src->zoneinfo_dir =
        sl_xstrdup(cfg->zoneinfo_dir ? cfg->zoneinfo_dir : SOURCE_ZONEINFO);
    sl_log_ctx_init(&src->log, "source", ns, name);
    src->state = SL_SOURCE_NEW;
    rc = source_fault_take(FAULT_INIT, diag);
    if (rc == 0)
        rc = ops->init(src, obj, diag);
    if (rc != 0) {
        ops->fini(src);
        source_release(src);
        return rc;
    }
    SL_LOG(SL_LOG_DEBUG, &src->log, "%s set up", ops->kind);
    *out = src;
    return 0;
}

int sl_source_start(struct sl_source *src, struct sl_diag *diag)
{
    int rc;

    if (src->state != SL_SOURCE_NEW && src->state != SL_SOURCE_STOPPED)
        return sl_diag_set(diag, SL_EINVAL, "", "cannot start a %s source",
                           sl_source_state_name(src->state));
    rc = source_fault_take(FAULT_START, diag);
    if (rc == 0)
        rc = src->ops->start(src, diag);
    if (rc != 0) {
        char why[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        SL_LOG(SL_LOG_WARN, &src->log, "%s cannot start: %s", src->ops->kind,
               source_why(diag, rc, why, sizeof(why)));
        return rc;
    }
    src->state = SL_SOURCE_RUNNING;
    SL_LOG(SL_LOG_INFO, &src->log, "%s running", src->ops->kind);
    return 0;
}

int sl_source_update(struct sl_source *src, const struct json_object *obj,
                     struct sl_diag *diag)
{
    int rc;

    if (src->state != SL_SOURCE_NEW && src->state != SL_SOURCE_RUNNING)
        return sl_diag_set(diag, SL_EINVAL, "", "cannot update a %s source",
                           sl_source_state_name(src->state));
    if (src->ops->update == NULL)
        return sl_diag_set(diag, SL_ENOTSUP, "",
                           "the %s adapter cannot update in place",
                           src->ops->kind);
    rc = source_fault_take(FAULT_UPDATE, diag);
    if (rc == 0)
        rc = src->ops->update(src, obj, diag);
    if (rc != 0) {
        char why[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];

        SL_LOG(SL_LOG_WARN, &src->log, "%s update refused: %s", src->ops->kind,
               source_why(diag, rc, why, sizeof(why)));
        return rc;
    }
    SL_LOG(SL_LOG_INFO, &src->log, "%s updated", src->ops->kind);
    return 0;
}

int sl_source_update_cfg(struct sl_source *src, const struct json_object *obj,
                         const struct sl_source_cfg *cfg, struct sl_diag *diag)
{
    char *sink = src->sink_url, *dls = src->dls_url;
    struct json_object *conn = src->conn;
    int rc;

    if (!(src->ops->flags & SL_SOURCE_DELIVERS) || cfg == NULL ||
        cfg->sink_url == NULL)
        return sl_source_update(src, obj, diag);
    src->sink_url = sl_xstrdup(cfg->sink_url);
    src->dls_url = cfg->dls_url ? sl_xstrdup(cfg->dls_url) : NULL;
    src->conn = source_copy(cfg->conn);
    rc = sl_source_update(src, obj, diag);
    if (rc != 0) {
        /* Refused: the source runs as before, with what it had. */
        sl_free(src->sink_url);
        sl_free(src->dls_url);
        if (src->conn != NULL)
            json_object_put(src->conn);
        src->sink_url = sink;
        src->dls_url = dls;
        src->conn = conn;
        return rc;
    }
    sl_free(sink);
    sl_free(dls);
    if (conn != NULL)
        json_object_put(conn);
    return 0;
}

void sl_source_report(struct sl_source *src, struct sl_source_report *out)
{
    memset(out, 0, sizeof(*out));
    if (src->state != SL_SOURCE_RUNNING) {
        out->health = SL_SOURCE_STARTING;
        snprintf(out->reason, sizeof(out->reason), "NotRunning");
        snprintf(out->msg, sizeof(out->msg), "the source is %s",
                 sl_source_state_name(src->state));
        return;
    }
    if (src->ops->report != NULL)
        src->ops->report(src, out);
}

void sl_source_changed(struct sl_source *src)
{
    if (src->notify != NULL)
        src->notify(src->notify_arg, src);
}

/* Posted: tell the caller of sl_source_stop. */
static void source_stop_report(void *arg)
{
    struct sl_source *src = arg;
    sl_source_done_fn *done = src->stop_done;
    void *darg = src->stop_arg;
    int rc = src->stop_rc;

    src->stop_done = NULL;
    src->stop_arg = NULL;
    src->state = SL_SOURCE_STOPPED;
    SL_LOG(SL_LOG_INFO, &src->log, "%s stopped", src->ops->kind);
    done(darg, rc);
}

/* The adapter's stop completed (maybe from inside its stop slot). */
static void source_stopped(void *arg, int rc)
{
    struct sl_source *src = arg;

    src->stop_rc = rc;
    sl_loop_post(src->loop, source_stop_report, src);
}

int sl_source_stop(struct sl_source *src, sl_source_done_fn *done, void *arg)
{
    if (src->state == SL_SOURCE_STOPPING)
        return SL_EBUSY;
    src->stop_done = done;
    src->stop_arg = arg;
    src->stop_rc = 0;
    if (src->state != SL_SOURCE_RUNNING) {
        /* Nothing runs: report through the loop all the same (a NEW
         * source ends STOPPED, which allows the same as NEW). */
        src->state = SL_SOURCE_STOPPING;
        sl_loop_post(src->loop, source_stop_report, src);
        return 0;
    }
    src->state = SL_SOURCE_STOPPING;
    SL_LOG(SL_LOG_DEBUG, &src->log, "%s stopping", src->ops->kind);
    src->ops->stop(src, source_stopped, src);
    return 0;
}

void sl_source_free(struct sl_source *src)
{
    if (src == NULL)
        return;
    if (src->state == SL_SOURCE_RUNNING || src->state == SL_SOURCE_STOPPING) {
        SL_LOG(SL_LOG_ERROR, &src->log, "%s freed while %s: left alone",
               src->ops->kind, sl_source_state_name(src->state));
        return;
    }
    src->ops->fini(src);
    source_release(src);
}
