/*
 * store/watch.c - watches: history replay and delivery of changes.
 *
 * Watches sit in a list in registration order. A committed change is
 * offered to each live watch whose kind and namespace filters take it;
 * the label selector then decides the event type as Kubernetes' watch
 * cache does (an object entering the selection is ADDED, one leaving it
 * DELETED). Each watch remembers the newest resourceVersion it has been
 * offered, so it never sees a change twice and a watch started during a
 * delivery skips the change being delivered (it is already committed and
 * either replayed or before "now").
 *
 * Callbacks may end watches, so a watch ended during delivery is only
 * marked dead; the list is swept when the outermost delivery returns
 * (s->delivering counts the nesting: a callback may start a watch whose
 * replay delivers events inside another delivery).
 */
#include "store/internal.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "store/selector.h"

struct sl_store_watch {
    struct sl_store *s;
    struct sl_store_watch *next;
    char *kind; /* NULL: every kind */
    char *ns;   /* NULL: every namespace */
    struct sl_selector *sel;
    sl_store_watch_fn *fn;
    void *arg;
    uint64_t last_rv; /* newest change offered (or replayed) */
    bool dead;
};

const char *sl_store_event_name(enum sl_store_event_type type)
{
    switch (type) {
    case SL_STORE_ADDED:
        return "ADDED";
    case SL_STORE_MODIFIED:
        return "MODIFIED";
    case SL_STORE_DELETED:
        return "DELETED";
    }
    return "UNKNOWN";
}

static struct json_object *watch_labels(struct json_object *obj)
{
    struct json_object *meta = NULL, *labels = NULL;

    if (obj != NULL && json_object_object_get_ex(obj, "metadata", &meta) &&
        meta != NULL)
        json_object_object_get_ex(meta, "labels", &labels);
    return labels;
}

/*
 * Deliver one change to 'w' through its selector. 'prev' is the object
 * before a MODIFIED change when its labels changed (else NULL); '*gone'
 * caches prev with the change's resourceVersion, built on first need and
 * put by the caller.
 */
static void watch_deliver(struct sl_store_watch *w,
                          enum sl_store_event_type type, uint64_t rv,
                          const char *kind, struct json_object *obj,
                          struct json_object *prev, struct json_object **gone)
{
    struct sl_store_event ev = { type, rv, kind, obj };
    bool now_in, was_in;

    if (!sl_selector_empty(w->sel)) {
        now_in = type != SL_STORE_DELETED &&
                 sl_selector_match(w->sel, watch_labels(obj));
        if (type == SL_STORE_ADDED)
            was_in = false;
        else if (type == SL_STORE_DELETED)
            was_in = sl_selector_match(w->sel, watch_labels(obj));
        else if (prev != NULL)
            was_in = sl_selector_match(w->sel, watch_labels(prev));
        else
            was_in = now_in;
        if (!now_in && !was_in)
            return;
        if (now_in && !was_in) {
            ev.type = SL_STORE_ADDED;
        } else if (!now_in && type == SL_STORE_MODIFIED) {
            /* It left the selection: DELETED, with what the watcher saw. */
            if (*gone == NULL) {
                *gone = sl__store_jcopy(prev);
                sl__store_set_rv(*gone, rv);
            }
            ev.type = SL_STORE_DELETED;
            ev.obj = *gone;
        }
    }
    w->fn(w->arg, &ev);
}

static void watch_free(struct sl_store_watch *w)
{
    sl_selector_free(w->sel);
    sl_free(w->kind);
    sl_free(w->ns);
    sl_free(w);
}

/* Free watches ended during delivery, once no delivery is running. */
static void watch_sweep(struct sl_store *s)
{
    struct sl_store_watch **pp = &s->watch_head, *w;

    if (s->delivering > 0 || !s->watches_dead)
        return;
    s->watch_tail = NULL;
    while ((w = *pp) != NULL) {
        if (w->dead) {
            *pp = w->next;
            watch_free(w);
        } else {
            s->watch_tail = w;
            pp = &w->next;
        }
    }
    s->watches_dead = false;
}

void sl__store_dispatch(struct sl_store *s, const struct store_change *c)
{
    struct json_object *gone = NULL;
    struct sl_store_watch *w;

    s->delivering++;
    /* Watches appended by callbacks are visited too, and skip by rv. */
    for (w = s->watch_head; w != NULL; w = w->next) {
        if (w->dead || c->rv <= w->last_rv)
            continue;
        w->last_rv = c->rv;
        if ((w->kind != NULL && strcmp(w->kind, c->kind) != 0) ||
            (w->ns != NULL && strcmp(w->ns, c->ns) != 0))
            continue;
        watch_deliver(w, c->type, c->rv, c->kind, c->obj, c->prev, &gone);
    }
    s->delivering--;
    json_object_put(gone);
    watch_sweep(s);
}

int sl_store_watch(struct sl_store *s, const char *kind, const char *ns,
                   const char *selector, uint64_t since_rv,
                   sl_store_watch_fn *fn, void *arg,
                   struct sl_store_watch **out, struct sl_diag *d)
{
    struct sl_selector *sel = NULL;
    struct store_hist *h = NULL;
    struct sl_store_watch *w;
    size_t n = 0, i;
    bool dead;
    int rc;

    *out = NULL;
    if (fn == NULL)
        return sl_diag_set(d, SL_EINVAL, "", "watch callback must be given");
    if (kind != NULL && kind[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "", "kind must not be empty");
    if (since_rv > 0 && since_rv < s->compacted)
        return sl_diag_set(d, SL_EGONE, "resourceVersion",
                           "too old resource version: %llu (oldest "
                           "available %llu)",
                           (unsigned long long)since_rv,
                           (unsigned long long)s->compacted);
    if (since_rv > s->rv)
        return sl_diag_set(d, SL_EGONE, "resourceVersion",
                           "too large resource version: %llu (current %llu)",
                           (unsigned long long)since_rv,
                           (unsigned long long)s->rv);
    if ((rc = sl_selector_parse(selector, &sel, d)) < 0)
        return rc;
    if (since_rv > 0 && since_rv < s->rv &&
        (rc = sl__store_db_history(s, since_rv, kind, ns, &h, &n, d)) < 0) {
        sl_selector_free(sel);
        return rc;
    }
    w = sl_xcalloc(1, sizeof(*w));
    w->s = s;
    w->kind = kind != NULL ? sl_xstrdup(kind) : NULL;
    w->ns = ns != NULL ? sl_xstrdup(ns) : NULL;
    w->sel = sel;
    w->fn = fn;
    w->arg = arg;
    w->last_rv = s->rv;
    if (s->watch_tail != NULL)
        s->watch_tail->next = w;
    else
        s->watch_head = w;
    s->watch_tail = w;
    *out = w;

    s->delivering++;
    for (i = 0; i < n && !w->dead; i++) {
        struct json_object *gone = NULL;
        watch_deliver(w, h[i].type, h[i].rv, h[i].kind, h[i].obj, h[i].prev,
                      &gone);
        json_object_put(gone);
    }
    s->delivering--;
    dead = w->dead;
    for (i = 0; i < n; i++) {
        sl_free(h[i].kind);
        json_object_put(h[i].obj);
        json_object_put(h[i].prev);
    }
    sl_free(h);
    watch_sweep(s);
    if (dead)
        *out = NULL;
    return 0;
}

void sl_store_unwatch(struct sl_store_watch *w)
{
    struct sl_store *s;

    if (w == NULL || w->dead)
        return;
    s = w->s;
    w->dead = true;
    s->watches_dead = true;
    watch_sweep(s);
}

void sl__store_watch_free_all(struct sl_store *s)
{
    struct sl_store_watch *w, *next;

    for (w = s->watch_head; w != NULL; w = next) {
        next = w->next;
        watch_free(w);
    }
    s->watch_head = s->watch_tail = NULL;
}
