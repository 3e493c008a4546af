/*
 * broker/backend.c - the backend registry and the wrappers that check
 * state before calling a backend's slots.
 */
#include "broker/backend.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"

static const struct sl_backend_ops *const builtin[] = {
    &sl_backend_embedded,
    &sl_backend_redis,
    &sl_backend_kafka,
    NULL,
};

int sl_pos_cmp(const struct sl_pos *a, const struct sl_pos *b)
{
    if (a->partition != b->partition)
        return a->partition < b->partition ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    if (a->sub != b->sub)
        return a->sub < b->sub ? -1 : 1;
    return 0;
}

const struct sl_backend_ops *sl_backend_find(const char *cls)
{
    for (size_t i = 0; cls && builtin[i]; i++)
        if (strcmp(builtin[i]->cls, cls) == 0)
            return builtin[i];
    return NULL;
}

const struct sl_backend_ops *const *sl_backend_list(void)
{
    return builtin;
}

int sl_backend_new(const struct sl_backend_ops *ops,
                   const struct sl_backend_cfg *cfg, struct sl_backend **out,
                   struct sl_diag *diag)
{
    *out = NULL;
    if (!ops || ops->abi != SL_BACKEND_ABI ||
        ops->size < sizeof(struct sl_backend))
        return sl_diag_set(diag, SL_EINVAL, "", "backend ABI mismatch");
    if (!cfg || !cfg->loop || !cfg->ns || !cfg->name || !cfg->data_dir)
        return sl_diag_set(diag, SL_EINVAL, "", "incomplete backend config");
    struct sl_backend *b = sl_xcalloc(1, ops->size);
    b->ops = ops;
    b->loop = cfg->loop;
    b->ns = sl_xstrdup(cfg->ns);
    b->name = sl_xstrdup(cfg->name);
    b->data_dir = sl_xstrdup(cfg->data_dir);
    b->limits = cfg->limits;
    if (!b->limits.max_event_size)
        b->limits.max_event_size = SL_CE_DEFAULT_MAX_EVENT_SIZE;
    if (!b->limits.max_batch)
        b->limits.max_batch = 1000;
    if (!b->limits.max_group_commit)
        b->limits.max_group_commit = 4096;
    b->state = SL_BACKEND_NEW;
    int rc = ops->init(b, cfg, diag);
    if (rc < 0) {
        sl_free(b->ns);
        sl_free(b->name);
        sl_free(b->data_dir);
        sl_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* A completion deferred to the loop (errors found by a wrapper). */
struct deferred {
    sl_backend_done_fn *done;
    void *arg;
    int rc;
};

static void deferred_run(void *p)
{
    struct deferred *d = p;

    d->done(d->arg, d->rc);
    sl_free(d);
}

static void defer_done(struct sl_backend *b, sl_backend_done_fn *done,
                       void *arg, int rc)
{
    struct deferred *d = sl_xmalloc(sizeof(*d));

    *d = (struct deferred){ done, arg, rc };
    sl_loop_post(b->loop, deferred_run, d);
}

void sl_backend_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    if (b->state != SL_BACKEND_NEW) {
        defer_done(b, done, arg, SL_EINVAL);
        return;
    }
    b->state = SL_BACKEND_OPENING;
    b->ops->open(b, done, arg);
}

int sl_backend_append(struct sl_backend *b, struct sl_event *const *events,
                      size_t n, sl_backend_done_fn *done, void *arg)
{
    if (b->state != SL_BACKEND_OPEN)
        return SL_EAGAIN;
    if (n == 0 || n > b->limits.max_batch)
        return SL_EINVAL;
    return b->ops->append(b, events, n, done, arg);
}

int sl_backend_subscribe(struct sl_backend *b, const char *group,
                         const struct sl_backend_sub_opts *opts,
                         sl_backend_record_fn *on_record, void *arg,
                         struct sl_backend_sub **out)
{
    struct sl_backend_sub_opts o = { 0 };

    *out = NULL;
    if (b->state != SL_BACKEND_OPEN)
        return SL_EAGAIN;
    if (!group || !*group || !on_record)
        return SL_EINVAL;
    if (opts)
        o = *opts;
    if (!o.max_outstanding)
        o.max_outstanding = 64;
    return b->ops->subscribe(b, group, &o, on_record, arg, out);
}

int sl_backend_settle(struct sl_backend_sub *sub, const struct sl_record *rec,
                      const struct sl_settle *how)
{
    if (!sub || !rec || !how)
        return SL_EINVAL;
    if (how->outcome != SL_SETTLE_DONE && how->outcome != SL_SETTLE_RETRY)
        return SL_EINVAL;
    return sub->b->ops->settle(sub, rec, how);
}

void sl_backend_unsubscribe(struct sl_backend_sub *sub)
{
    if (sub)
        sub->b->ops->unsubscribe(sub);
}

void sl_backend_retention(struct sl_backend *b, int64_t max_age_ms,
                          uint64_t max_bytes, sl_backend_done_fn *done,
                          void *arg)
{
    if (!b->ops->retention) {
        defer_done(b, done, arg, SL_ENOTSUP);
        return;
    }
    if (b->state != SL_BACKEND_OPEN) {
        defer_done(b, done, arg, SL_EAGAIN);
        return;
    }
    b->ops->retention(b, max_age_ms, max_bytes, done, arg);
}

void sl_backend_close(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    if (b->state != SL_BACKEND_OPEN && b->state != SL_BACKEND_FAILED) {
        defer_done(b, done, arg, SL_EINVAL);
        return;
    }
    b->state = SL_BACKEND_CLOSING;
    b->ops->close(b, done, arg);
}

int sl_backend_drop(struct sl_backend *b, struct sl_diag *diag)
{
    if (!b->ops->drop)
        return SL_ENOTSUP;
    if (b->state != SL_BACKEND_NEW && b->state != SL_BACKEND_CLOSED)
        return sl_diag_set(diag, SL_EBUSY, "", "backend is open");
    return b->ops->drop(b, diag);
}

void sl_backend_stats(struct sl_backend *b, struct sl_backend_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (b->ops->stats)
        b->ops->stats(b, out);
}

void sl_backend_forget(struct sl_backend *b, const char *group,
                       sl_backend_done_fn *done, void *arg)
{
    if (b->state != SL_BACKEND_OPEN) {
        defer_done(b, done, arg, SL_EAGAIN);
        return;
    }
    if (!b->ops->forget) {
        defer_done(b, done, arg, SL_ENOTSUP);
        return;
    }
    b->ops->forget(b, group, done, arg);
}

int sl_backend_health(struct sl_backend *b, struct sl_diag *why)
{
    if (b->state != SL_BACKEND_OPEN)
        return sl_diag_set(why, SL_EAGAIN, "", "the log is not open");
    return b->ops->health ? b->ops->health(b, why) : 0;
}

void sl_backend_free(struct sl_backend *b)
{
    if (!b)
        return;
    b->ops->fini(b);
    sl_free(b->ns);
    sl_free(b->name);
    sl_free(b->data_dir);
    sl_free(b);
}
