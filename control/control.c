/*
 * control/control.c - the reconcile loop: store watch, work queue,
 * dependency tracking and status writes.
 *
 * Keys are "<kind key>\n<namespace>\n<name>" strings (newline cannot occur
 * in any part). The queue is a FIFO of keys plus a set for
 * de-duplication: a key queued twice before it runs is reconciled once.
 * Failed keys (SL_EAGAIN, store conflicts) come back after a per-key
 * exponential backoff (10 ms doubling to 60 s), reset by a success.
 * Dependencies: while a key reconciles, every sl_rec_get() records
 * "target -> key" in 'deps'; a store event for the target queues the
 * key. The records of a key are replaced on each of its reconciliations
 * (level-based: only what the last run read matters).
 */
#include "control/control.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/dataplane.h"
#include "control/internal.h"
#include "control/kafkasinks.h"
#include "control/sources.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/time.h"
#include "resource/resource.h"
#include "store/store.h"

#define CTL_BACKOFF_MIN_MS 10
#define CTL_BACKOFF_MAX_MS 60000
#define CTL_BATCH          64 /* keys per loop turn, to stay responsive */

struct ctl_retry {
    struct sl_ctl *ctl;
    char *key;
    struct sl_timer *timer;
    unsigned fails;
    bool armed;
};

struct sl_ctl {
    struct sl_loop *loop;
    struct sl_store *store;
    struct sl_ctl_opts opts;
    struct sl_store_watch *watch;
    struct sl_log_ctx log;

    /* The queue: a ring of owned keys and the set of queued keys. */
    char **q;
    size_t qhead, qlen, qcap;
    struct sl_map queued;   /* key -> (void *)1 */
    struct sl_timer *drain; /* zero-delay timer that runs ctl_drain */
    bool drain_posted;

    struct sl_map retries; /* key -> struct ctl_retry */
    struct sl_map deps;    /* target key -> struct sl_map of dependents */
    struct sl_map reads;   /* key -> struct sl_map of targets it read */
    const char *current;   /* key being reconciled, or NULL */
};

/* ---- keys ---- */

char *sl__ctl_key(const char *kind_key, const char *ns, const char *name)
{
    size_t n = strlen(kind_key) + strlen(ns) + strlen(name) + 3;
    char *k = sl_xmalloc(n);

    snprintf(k, n, "%s\n%s\n%s", kind_key, ns, name);
    return k;
}

/* Split a key in place into its three parts (k is modified). */
static void ctl_key_split(char *k, char **kind_key, char **ns, char **name)
{
    *kind_key = k;
    *ns = strchr(k, '\n');
    *(*ns)++ = '\0';
    *name = strchr(*ns, '\n');
    *(*name)++ = '\0';
}

/* ---- the queue ---- */

static void ctl_drain(void *arg);

void sl__ctl_enqueue(struct sl_ctl *ctl, const char *key)
{
    if (sl_map_has(&ctl->queued, key))
        return;
    if (ctl->qlen == ctl->qcap) {
        size_t i, ncap = ctl->qcap ? ctl->qcap * 2 : 64;
        char **nq = sl_xmalloc(ncap * sizeof(*nq));

        for (i = 0; i < ctl->qlen; i++)
            nq[i] = ctl->q[(ctl->qhead + i) % ctl->qcap];
        sl_free(ctl->q);
        ctl->q = nq;
        ctl->qcap = ncap;
        ctl->qhead = 0;
    }
    ctl->q[(ctl->qhead + ctl->qlen++) % ctl->qcap] = sl_xstrdup(key);
    sl_map_put(&ctl->queued, key, (void *)1, NULL);
    if (!ctl->drain_posted) {
        ctl->drain_posted = true;
        sl_timer_start(ctl->drain, 0, 0);
    }
}

static char *ctl_dequeue(struct sl_ctl *ctl)
{
    char *k;

    if (ctl->qlen == 0)
        return NULL;
    k = ctl->q[ctl->qhead];
    ctl->qhead = (ctl->qhead + 1) % ctl->qcap;
    ctl->qlen--;
    sl_map_del(&ctl->queued, k, NULL);
    return k;
}

/* ---- retries ---- */

static void ctl_retry_fire(void *arg)
{
    struct ctl_retry *r = arg;

    r->armed = false;
    sl__ctl_enqueue(r->ctl, r->key);
}

static void ctl_retry_free(void *v)
{
    struct ctl_retry *r = v;

    sl_timer_free(r->timer);
    sl_free(r->key);
    sl_free(r);
}

static void ctl_retry_later(struct sl_ctl *ctl, const char *key)
{
    struct ctl_retry *r = sl_map_get(&ctl->retries, key);
    uint64_t delay = CTL_BACKOFF_MIN_MS;
    unsigned i;

    if (r == NULL) {
        r = sl_xcalloc(1, sizeof(*r));
        r->ctl = ctl;
        r->key = sl_xstrdup(key);
        r->timer = sl_timer_new(ctl->loop, ctl_retry_fire, r);
        sl_map_put(&ctl->retries, key, r, NULL);
    }
    for (i = 0; i < r->fails && delay < CTL_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > CTL_BACKOFF_MAX_MS)
        delay = CTL_BACKOFF_MAX_MS;
    r->fails++;
    if (!r->armed) {
        r->armed = true;
        sl_timer_start(r->timer, delay, 0);
    }
}

static void ctl_retry_forget(struct sl_ctl *ctl, const char *key)
{
    sl_map_del(&ctl->retries, key, NULL);
}

/* ---- dependency tracking ---- */

static void ctl_map_free(void *v)
{
    struct sl_map *m = v;

    sl_map_fini(m);
    sl_free(m);
}

static struct sl_map *ctl_set_get(struct sl_map *of, const char *key)
{
    struct sl_map *s = sl_map_get(of, key);

    if (s == NULL) {
        s = sl_xmalloc(sizeof(*s));
        sl_map_init(s, NULL);
        sl_map_put(of, key, s, NULL);
    }
    return s;
}

/* Forget what 'key' read in its previous reconciliation. */
static void ctl_deps_clear(struct sl_ctl *ctl, const char *key)
{
    struct sl_map *reads = sl_map_get(&ctl->reads, key);
    const char *target;
    size_t it = 0;
    void *v;

    if (reads == NULL)
        return;
    while (sl_map_next(reads, &it, &target, &v)) {
        struct sl_map *dependents = sl_map_get(&ctl->deps, target);

        if (dependents == NULL)
            continue;
        sl_map_del(dependents, key, NULL);
        if (sl_map_len(dependents) == 0)
            sl_map_del(&ctl->deps, target, NULL);
    }
    sl_map_del(&ctl->reads, key, NULL);
}

void sl__ctl_track(struct sl_ctl *ctl, const char *target)
{
    if (ctl->current == NULL || strcmp(ctl->current, target) == 0)
        return;
    sl_map_put(ctl_set_get(&ctl->deps, target), ctl->current, (void *)1, NULL);
    sl_map_put(ctl_set_get(&ctl->reads, ctl->current), target, (void *)1, NULL);
}

/* Queue everything that read 'target'. */
static void ctl_wake_dependents(struct sl_ctl *ctl, const char *target)
{
    struct sl_map *dependents = sl_map_get(&ctl->deps, target);
    const char *k;
    size_t it = 0;
    void *v;

    if (dependents == NULL)
        return;
    while (sl_map_next(dependents, &it, &k, &v))
        sl__ctl_enqueue(ctl, k);
}

/* ---- reconciling one key ---- */

/* Conditions sorted by type, as Knative's condition manager keeps them. */
static int ctl_cond_cmp(const void *a, const void *b)
{
    struct json_object *ca = *(struct json_object *const *)a,
                       *cb = *(struct json_object *const *)b, *ta, *tb;

    if (!json_object_object_get_ex(ca, "type", &ta) ||
        !json_object_object_get_ex(cb, "type", &tb))
        return 0;
    return strcmp(json_object_get_string(ta), json_object_get_string(tb));
}

static int ctl_reconcile(struct sl_ctl *ctl, const char *key)
{
    const struct sl_reconciler *rc;
    struct json_object *obj = NULL, *old = NULL, *meta, *gen;
    char *copy = sl_xstrdup(key), *kind_key, *ns, *name;
    struct sl_rec r;
    struct sl_diag d;
    int ret = 0;

    ctl_key_split(copy, &kind_key, &ns, &name);
    memset(&r, 0, sizeof(r));
    r.kind = sl_res_kind_by_key(kind_key);
    rc = r.kind ? sl__ctl_reconciler(r.kind) : NULL;
    if (rc == NULL)
        goto out; /* a kind without a reconciler (ConfigMap, Secret) */
    sl_diag_clear(&d);
    ret = sl_store_get(ctl->store, kind_key, ns, name, &obj, &d);
    if (ret == SL_ENOENT) {
        ret = 0;
        goto out;
    }
    if (ret != 0)
        goto out;
    r.ctl = ctl;
    r.ns = ns;
    r.name = name;
    r.obj = obj;
    if (json_object_object_get_ex(obj, "status", &old) &&
        json_object_is_type(old, json_type_object))
        json_object_deep_copy(old, &r.status, NULL);
    else
        r.status = json_object_new_object();
    ctl_deps_clear(ctl, key);
    ctl->current = key;
    ret = rc->reconcile(&r);
    ctl->current = NULL;
    {
        struct json_object *conds;

        if (json_object_object_get_ex(r.status, "conditions", &conds) &&
            json_object_is_type(conds, json_type_array))
            json_object_array_sort(conds, ctl_cond_cmp);
    }
    if (json_object_object_get_ex(obj, "metadata", &meta) &&
        json_object_object_get_ex(meta, "generation", &gen))
        json_object_object_add(r.status, "observedGeneration",
                               json_object_get(gen));
    if (old == NULL || !json_object_equal(old, r.status)) {
        int wrc;

        sl_diag_clear(&d);
        wrc = sl_store_update_status(ctl->store, kind_key, ns, name, r.status,
                                     0, NULL, NULL, &d);
        if (wrc != 0 && wrc != SL_ENOENT) {
            SL_LOG(SL_LOG_WARN, &ctl->log,
                   "cannot write status of %s %s/%s: %s", r.kind->kind, ns,
                   name, d.msg[0] ? d.msg : sl_strerror(wrc));
            if (ret == 0)
                ret = SL_EAGAIN;
        }
    }
    json_object_put(r.status);
out:
    json_object_put(obj);
    sl_free(copy);
    return ret;
}

static void ctl_drain(void *arg)
{
    struct sl_ctl *ctl = arg;
    int n;

    ctl->drain_posted = false;
    for (n = 0; n < CTL_BATCH; n++) {
        char *key = ctl_dequeue(ctl);
        int rc;

        if (key == NULL)
            return;
        rc = ctl_reconcile(ctl, key);
        if (rc == 0)
            ctl_retry_forget(ctl, key);
        else
            ctl_retry_later(ctl, key);
        sl_free(key);
    }
    if (ctl->qlen > 0 && !ctl->drain_posted) {
        ctl->drain_posted = true;
        sl_timer_start(ctl->drain, 0, 0);
    }
}

/* ---- store events ---- */

static void ctl_on_event(void *arg, const struct sl_store_event *ev)
{
    struct sl_ctl *ctl = arg;
    const struct json_object *obj = ev->obj;
    const char *kind_key = ev->kind;
    struct json_object *meta = NULL, *v;
    const char *ns = "", *name = "";
    char *key;

    if (json_object_object_get_ex(obj, "metadata", &meta)) {
        if (json_object_object_get_ex(meta, "namespace", &v))
            ns = json_object_get_string(v);
        if (json_object_object_get_ex(meta, "name", &v))
            name = json_object_get_string(v);
    }
    key = sl__ctl_key(kind_key, ns, name);
    if (ev->type == SL_STORE_DELETED) {
        const struct sl_res_kind *k = sl_res_kind_by_key(kind_key);
        const struct sl_reconciler *rc = k ? sl__ctl_reconciler(k) : NULL;

        if (rc != NULL && rc->finalize != NULL)
            rc->finalize(ctl, obj);
        ctl_deps_clear(ctl, key);
        ctl_retry_forget(ctl, key);
    } else {
        sl__ctl_enqueue(ctl, key);
    }
    ctl_wake_dependents(ctl, key);
    sl_free(key);
}

/* ---- lifecycle ---- */

/* The data plane asks for a Broker or Trigger (the running KafkaSinks: a
 * KafkaSink) to be reconciled again. */
static void ctl_dp_notify(void *arg, const char *kind, const char *ns,
                          const char *name)
{
    struct sl_ctl *ctl = arg;
    char kk[64];
    char *key;

    snprintf(kk, sizeof(kk), "eventing.knative.dev/%s", kind);
    key = sl__ctl_key(kk, ns, name);
    sl__ctl_enqueue(ctl, key);
    sl_free(key);
}

/* A running source asks for its object to be reconciled again. */
static void ctl_src_notify(void *arg, const char *kind, const char *ns,
                           const char *name)
{
    const struct sl_res_kind *k =
        sl_res_kind_by_group_kind("sources.knative.dev", kind);
    struct sl_ctl *ctl = arg;
    char kk[256], *key;

    if (k == NULL)
        return;
    key = sl__ctl_key(sl_res_kind_key(k, kk, sizeof(kk)), ns, name);
    sl__ctl_enqueue(ctl, key);
    sl_free(key);
}

int sl_ctl_new(struct sl_loop *loop, struct sl_store *store,
               const struct sl_ctl_opts *opts, struct sl_ctl **out,
               struct sl_diag *d)
{
    struct sl_ctl *ctl;

    (void)d;
    ctl = sl_xcalloc(1, sizeof(*ctl));
    ctl->loop = loop;
    ctl->store = store;
    ctl->opts.ingress_url =
        opts && opts->ingress_url ? opts->ingress_url : "http://127.0.0.1:8080";
    ctl->opts.cluster_domain = opts && opts->cluster_domain
                                   ? opts->cluster_domain
                                   : "svc.cluster.local";
    ctl->opts.dataplane = opts ? opts->dataplane : NULL;
    ctl->opts.sources = opts ? opts->sources : NULL;
    ctl->opts.kafkasinks = opts ? opts->kafkasinks : NULL;
    if (ctl->opts.dataplane != NULL)
        sl_dp_set_notify(ctl->opts.dataplane, ctl_dp_notify, ctl);
    if (ctl->opts.sources != NULL)
        sl_sources_set_notify(ctl->opts.sources, ctl_src_notify, ctl);
    if (ctl->opts.kafkasinks != NULL)
        sl_kafkasinks_set_notify(ctl->opts.kafkasinks, ctl_dp_notify, ctl);
    sl_map_init(&ctl->queued, NULL);
    ctl->drain = sl_timer_new(loop, ctl_drain, ctl);
    sl_map_init(&ctl->retries, ctl_retry_free);
    sl_map_init(&ctl->deps, ctl_map_free);
    sl_map_init(&ctl->reads, ctl_map_free);
    sl_log_ctx_init(&ctl->log, "control", NULL, NULL);
    *out = ctl;
    return 0;
}

int sl_ctl_start(struct sl_ctl *ctl, struct sl_diag *d)
{
    struct json_object *items = NULL;
    uint64_t rv = 0;
    size_t i;
    int rc;

    /* Watch first, then list: an object created in between is queued
     * twice at worst, never missed. */
    rc = sl_store_watch(ctl->store, NULL, NULL, NULL, 0, ctl_on_event, ctl,
                        &ctl->watch, d);
    if (rc != 0)
        return rc;
    rc = sl_store_list(ctl->store, NULL, NULL, NULL, &items, &rv, d);
    if (rc != 0)
        return rc;
    for (i = 0; i < json_object_array_length(items); i++) {
        struct json_object *o = json_object_array_get_idx(items, i);
        const struct sl_res_kind *k = sl_res_kind_of(o);
        struct json_object *meta = NULL, *v;
        const char *ns = "", *name = "";
        char kk[256], *key;

        if (k == NULL)
            continue;
        json_object_object_get_ex(o, "metadata", &meta);
        if (json_object_object_get_ex(meta, "namespace", &v))
            ns = json_object_get_string(v);
        if (json_object_object_get_ex(meta, "name", &v))
            name = json_object_get_string(v);
        key = sl__ctl_key(sl_res_kind_key(k, kk, sizeof(kk)), ns, name);
        sl__ctl_enqueue(ctl, key);
        sl_free(key);
    }
    json_object_put(items);
    return 0;
}

void sl_ctl_free(struct sl_ctl *ctl)
{
    char *k;

    if (ctl == NULL)
        return;
    if (ctl->opts.dataplane != NULL)
        sl_dp_set_notify(ctl->opts.dataplane, NULL, NULL);
    if (ctl->opts.sources != NULL)
        sl_sources_set_notify(ctl->opts.sources, NULL, NULL);
    if (ctl->opts.kafkasinks != NULL)
        sl_kafkasinks_set_notify(ctl->opts.kafkasinks, NULL, NULL);
    sl_store_unwatch(ctl->watch);
    sl_timer_free(ctl->drain);
    while ((k = ctl_dequeue(ctl)) != NULL)
        sl_free(k);
    sl_free(ctl->q);
    sl_map_fini(&ctl->queued);
    sl_map_fini(&ctl->retries);
    sl_map_fini(&ctl->deps);
    sl_map_fini(&ctl->reads);
    sl_free(ctl);
}

bool sl_ctl_idle(const struct sl_ctl *ctl)
{
    const char *k;
    size_t it = 0;
    void *v;

    if (ctl->qlen > 0)
        return false;
    while (sl_map_next(&ctl->retries, &it, &k, &v))
        if (((struct ctl_retry *)v)->armed)
            return false;
    return true;
}

struct sl_store *sl__ctl_store(struct sl_ctl *ctl)
{
    return ctl->store;
}

const struct sl_ctl_opts *sl__ctl_opts(const struct sl_ctl *ctl)
{
    return &ctl->opts;
}

const struct sl_ctl_opts *sl_rec_opts(const struct sl_rec *r)
{
    return &r->ctl->opts;
}
