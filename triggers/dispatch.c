/*
 * triggers/dispatch.c - the per-trigger dispatcher (contract in
 * triggers/dispatch.h, state machine in docs/triggers.md).
 *
 * Every matching record the backend pushes becomes an item, owned here
 * until it is settled:
 *
 *   HELD  (ordered: behind an earlier record of its key)
 *     --key head settled--> READY
 *   READY (in the ready FIFO, waiting for a rate token)
 *     --token--> FLIGHT (deliverer.deliver)
 *   FLIGHT --done DONE--> settle DONE, gone
 *          --done RETRY, unordered--> settle RETRY, gone
 *          --done RETRY, ordered--> RETRY (unsettled, retry timer)
 *   RETRY --not_before passed--> READY
 *
 * Re-entrancy. The deliverer may call done from inside deliver, and a
 * backend may push a record (on_record) from inside settle. So every
 * change to the item lists is finished before a call out (deliver,
 * settle), nothing is touched after it but the dispatcher itself, and
 * kick() (which starts READY items) is guarded: a nested kick returns at
 * once and the running one picks up what was added meanwhile.
 */
#include "triggers/dispatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/str.h"
#include "triggers/filter.h"

enum item_state {
    IT_HELD = 0,
    IT_READY,
    IT_FLIGHT,
    IT_RETRY,
};

struct dp_key;

struct dp_item {
    struct sl_dispatch *dp;
    const struct sl_record *rec; /* the backend's, until settled */
    struct sl_record copy;       /* what the deliverer sees */
    enum item_state state;
    int64_t not_before_ms;       /* RETRY: wall clock */
    struct dp_key *key;          /* ordered mode */
    struct dp_item *knext;       /* next of the same key (ordered) */
    struct dp_item *rnext;       /* ready FIFO */
    struct dp_item *prev, *next; /* every item */
};

/* The records of one partition key held in ordered mode, in log order. */
struct dp_key {
    char *name;
    struct dp_item *head, *tail;
};

struct sl_dispatch {
    struct sl_loop *loop;
    struct sl_backend *b;
    struct sl_backend_sub *sub;
    const struct sl_filter *filter;
    struct sl_deliverer dl;
    char *group;
    uint32_t max_in_flight;
    double max_rate;
    bool ordered;

    struct dp_item *items; /* every item, any state */
    struct dp_item *rhead, *rtail;
    struct sl_map keys; /* partition key -> struct dp_key (ordered) */

    /* token bucket */
    double tokens, burst;
    int64_t refill_ms; /* loop clock */
    struct sl_timer *rate_timer;
    struct sl_timer *retry_timer;

    bool kicking;
    bool closing;
    struct sl_dispatch_stats st;
};

static const struct sl_settle settle_done = { SL_SETTLE_DONE, 0, 0 };

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- items ---- */

static void item_unlink(struct sl_dispatch *dp, struct dp_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        dp->items = it->next;
    if (it->next)
        it->next->prev = it->prev;
    it->prev = it->next = NULL;
}

static void ready_push(struct sl_dispatch *dp, struct dp_item *it)
{
    it->state = IT_READY;
    it->rnext = NULL;
    if (dp->rtail)
        dp->rtail->rnext = it;
    else
        dp->rhead = it;
    dp->rtail = it;
}

static struct dp_item *ready_pop(struct sl_dispatch *dp)
{
    struct dp_item *it = dp->rhead;

    if (it) {
        dp->rhead = it->rnext;
        if (!dp->rhead)
            dp->rtail = NULL;
        it->rnext = NULL;
    }
    return it;
}

/* Ordered: queue 'it' behind its key; READY when it is the head. */
static void key_add(struct sl_dispatch *dp, struct dp_item *it)
{
    const char *name = sl_event_value(it->rec->ev, "partitionkey");
    struct dp_key *k;

    if (!name)
        name = "";
    k = sl_map_get(&dp->keys, name);
    if (!k) {
        k = sl_xcalloc(1, sizeof(*k));
        k->name = sl_xstrdup(name);
        sl_map_put(&dp->keys, name, k, NULL);
    }
    it->key = k;
    if (k->tail) {
        k->tail->knext = it;
        k->tail = it;
        it->state = IT_HELD;
        return;
    }
    k->head = k->tail = it;
    ready_push(dp, it);
}

/* Ordered: 'it' (the head of its key) is settled; the next one may go. */
static void key_pop(struct sl_dispatch *dp, struct dp_item *it)
{
    struct dp_key *k = it->key;

    k->head = it->knext;
    if (k->head) {
        ready_push(dp, k->head);
        return;
    }
    sl_map_del(&dp->keys, k->name, NULL);
    sl_free(k->name);
    sl_free(k);
}

/* ---- starting deliveries ---- */

static void bucket_refill(struct sl_dispatch *dp)
{
    int64_t now = sl_loop_now_ms(dp->loop);

    if (now > dp->refill_ms) {
        dp->tokens += (double)(now - dp->refill_ms) * dp->max_rate / 1000.0;
        if (dp->tokens > dp->burst)
            dp->tokens = dp->burst;
        dp->refill_ms = now;
    }
}

static void dp_done(void *job, const struct sl_settle *how);

/* Start READY items while rate tokens allow. */
static void kick(struct sl_dispatch *dp)
{
    struct dp_item *it;

    if (dp->kicking)
        return;
    dp->kicking = true;
    while (!dp->closing && dp->rhead) {
        if (dp->max_rate > 0) {
            bucket_refill(dp);
            if (dp->tokens < 1.0) {
                if (!sl_timer_active(dp->rate_timer)) {
                    /* Rounded up: the token is there when it fires. */
                    double ms = (1.0 - dp->tokens) * 1000.0 / dp->max_rate;

                    /* A tiny rate must not overflow the cast: wake at
                     * least daily and look again. */
                    if (!(ms < 86400000.0))
                        ms = 86400000.0;
                    sl_timer_start(dp->rate_timer, (uint64_t)ms + 1, 0);
                }
                break;
            }
            dp->tokens -= 1.0;
        }
        it = ready_pop(dp);
        it->state = IT_FLIGHT;
        dp->st.waiting--;
        dp->st.in_flight++;
        /* May call dp_done (and so settle, and on_record) right here. */
        dp->dl.deliver(dp->dl.arg, &it->copy, dp_done, it);
    }
    dp->kicking = false;
}

static void rate_fire(void *arg)
{
    kick(arg);
}

/* Ordered retries: arm the timer for the earliest one. */
static void retry_arm(struct sl_dispatch *dp)
{
    int64_t first = INT64_MAX;

    for (struct dp_item *it = dp->items; it; it = it->next)
        if (it->state == IT_RETRY && it->not_before_ms < first)
            first = it->not_before_ms;
    if (first == INT64_MAX) {
        sl_timer_stop(dp->retry_timer);
        return;
    }
    int64_t d = first - wall_ms();
    sl_timer_start(dp->retry_timer, d > 0 ? (uint64_t)d : 0, 0);
}

static void retry_fire(void *arg)
{
    struct sl_dispatch *dp = arg;
    int64_t now = wall_ms();

    for (struct dp_item *it = dp->items; it; it = it->next)
        if (it->state == IT_RETRY && it->not_before_ms <= now)
            ready_push(dp, it);
    retry_arm(dp);
    kick(dp);
}

/* ---- outcomes ---- */

/* Settle 'it' with 'how' and forget it. */
static void item_finish(struct sl_dispatch *dp, struct dp_item *it,
                        const struct sl_settle *how)
{
    const struct sl_record *rec = it->rec;

    item_unlink(dp, it);
    if (dp->ordered)
        key_pop(dp, it);
    sl_free(it);
    /* Last: the backend may push the next record from in here. */
    sl_backend_settle(dp->sub, rec, how);
}

static void dp_done(void *job, const struct sl_settle *how)
{
    struct dp_item *it = job;
    struct sl_dispatch *dp = it->dp;

    if (dp->closing || it->state != IT_FLIGHT)
        return; /* after cancel: the deliverer broke its contract */
    dp->st.in_flight--;
    if (how->outcome == SL_SETTLE_DONE) {
        dp->st.delivered++;
        item_finish(dp, it, &settle_done);
    } else {
        dp->st.retried++;
        if (dp->ordered) {
            /* Stays unsettled: the backend's progress cannot pass it. */
            it->state = IT_RETRY;
            it->not_before_ms = how->not_before_ms;
            it->copy.attempts = how->attempts;
            dp->st.waiting++;
            retry_arm(dp);
        } else {
            item_finish(dp, it, how);
        }
    }
    kick(dp);
}

static void dp_on_record(void *arg, struct sl_backend_sub *sub,
                         const struct sl_record *rec)
{
    struct sl_dispatch *dp = arg;
    struct dp_item *it;

    dp->sub = sub;
    dp->st.received++;
    if (dp->filter && !sl_filter_match(dp->filter, rec->ev)) {
        dp->st.filtered++;
        sl_backend_settle(sub, rec, &settle_done);
        return;
    }
    it = sl_xcalloc(1, sizeof(*it));
    it->dp = dp;
    it->rec = rec;
    it->copy = *rec;
    it->next = dp->items;
    if (dp->items)
        dp->items->prev = it;
    dp->items = it;
    dp->st.waiting++;
    if (dp->ordered)
        key_add(dp, it);
    else
        ready_push(dp, it);
    kick(dp);
}

/* ---- public ---- */

/* Parse the whole of 's' as digits with an optional fraction ("2.5"). */
static bool parse_rate(const char *s, double *out)
{
    size_t i = 0, digits = 0;
    char *end;

    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (s[i] != '\0' || digits == 0 || i > 64)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out) && *out > 0;
}

int sl_dispatch_opts_from_annotations(struct sl_dispatch_opts *o,
                                      const struct json_object *annotations,
                                      struct sl_diag *d)
{
    static const char pfx[] = "metadata.annotations.";
    struct sl_dispatch_opts t = *o;
    struct json_object *v;
    char field[SL_DIAG_FIELD_MAX];
    const char *s;

    if (annotations == NULL)
        return 0;
    if (!json_object_is_type(annotations, json_type_object))
        return sl_diag_set(d, SL_EINVAL, "metadata.annotations",
                           "must be an object of strings");
    if (json_object_object_get_ex(annotations,
                                  SL_DISPATCH_MAX_IN_FLIGHT_ANNOTATION, &v)) {
        int64_t n;
        snprintf(field, sizeof(field), "%s%s", pfx,
                 SL_DISPATCH_MAX_IN_FLIGHT_ANNOTATION);
        s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                     : NULL;
        if (!s || sl_str_to_i64(s, strlen(s), false, 1, 100000, &n) != 0)
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid value \"%s\": must be an integer "
                               "from 1 to 100000",
                               s ? s : json_object_to_json_string(v));
        t.max_in_flight = (uint32_t)n;
    }
    if (json_object_object_get_ex(annotations, SL_DISPATCH_MAX_RATE_ANNOTATION,
                                  &v)) {
        double r;
        snprintf(field, sizeof(field), "%s%s", pfx,
                 SL_DISPATCH_MAX_RATE_ANNOTATION);
        s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                     : NULL;
        if (!s || !parse_rate(s, &r))
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid value \"%s\": must be a decimal "
                               "number of events per second greater than 0",
                               s ? s : json_object_to_json_string(v));
        t.max_rate = r;
    }
    if (json_object_object_get_ex(annotations, SL_DISPATCH_ORDER_ANNOTATION,
                                  &v)) {
        snprintf(field, sizeof(field), "%s%s", pfx,
                 SL_DISPATCH_ORDER_ANNOTATION);
        s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                     : NULL;
        if (s && strcmp(s, "ordered") == 0)
            t.ordered = true;
        else if (s && strcmp(s, "unordered") == 0)
            t.ordered = false;
        else
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid value \"%s\": must be \"ordered\" or "
                               "\"unordered\"",
                               s ? s : json_object_to_json_string(v));
    }
    *o = t;
    return 0;
}

int sl_dispatch_new(struct sl_loop *loop, struct sl_backend *b,
                    const struct sl_dispatch_opts *opts,
                    const struct sl_filter *filter,
                    const struct sl_deliverer *dl, struct sl_dispatch **out,
                    struct sl_diag *d)
{
    struct sl_backend_sub_opts so;
    struct sl_backend_sub *sub = NULL;
    struct sl_dispatch *dp;
    int rc;

    *out = NULL;
    if (!opts->group || opts->group[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "group", "must not be empty");
    if (!(opts->max_rate >= 0) || !isfinite(opts->max_rate))
        return sl_diag_set(d, SL_EINVAL, "max_rate",
                           "must be a finite number >= 0");
    if (loop != b->loop)
        return sl_diag_set(d, SL_EINVAL, "loop",
                           "must be the loop of the backend");
    if (!dl || !dl->deliver || !dl->cancel)
        return sl_diag_set(d, SL_EINVAL, "deliverer",
                           "deliver and cancel are required");
    dp = sl_xcalloc(1, sizeof(*dp));
    dp->loop = loop;
    dp->b = b;
    dp->filter = filter;
    dp->dl = *dl;
    dp->group = sl_xstrdup(opts->group);
    dp->max_in_flight = opts->max_in_flight ? opts->max_in_flight
                                            : SL_DISPATCH_DEFAULT_MAX_IN_FLIGHT;
    dp->max_rate = opts->max_rate;
    dp->ordered = opts->ordered;
    sl_map_init(&dp->keys, NULL);
    /* A one-second burst, and at least one token so a rate below 1/s
     * still starts something. */
    dp->burst = dp->max_rate > 1.0 ? dp->max_rate : 1.0;
    dp->tokens = dp->burst;
    dp->refill_ms = sl_loop_now_ms(loop);
    dp->rate_timer = sl_timer_new(loop, rate_fire, dp);
    dp->retry_timer = sl_timer_new(loop, retry_fire, dp);

    so.max_outstanding = dp->max_in_flight;
    rc = sl_backend_subscribe(b, dp->group, &so, dp_on_record, dp, &sub);
    if (rc != 0) {
        sl_diag_set(d, rc, "group", "cannot subscribe '%s': %s", dp->group,
                    sl_strerror(rc));
        sl_timer_free(dp->rate_timer);
        sl_timer_free(dp->retry_timer);
        sl_map_fini(&dp->keys);
        sl_free(dp->group);
        sl_free(dp);
        return rc;
    }
    dp->sub = sub;
    *out = dp;
    return 0;
}

void sl_dispatch_set_filter(struct sl_dispatch *dp,
                            const struct sl_filter *filter)
{
    dp->filter = filter;
}

void sl_dispatch_free(struct sl_dispatch *dp)
{
    struct dp_item *it, *next;
    const char *name;
    size_t iter = 0;
    void *v;

    if (!dp)
        return;
    dp->closing = true;
    sl_timer_free(dp->rate_timer);
    sl_timer_free(dp->retry_timer);
    for (it = dp->items; it; it = it->next)
        if (it->state == IT_FLIGHT)
            dp->dl.cancel(dp->dl.arg, it);
    /* Unsettled records are released: the next subscriber gets them. */
    sl_backend_unsubscribe(dp->sub);
    for (it = dp->items; it; it = next) {
        next = it->next;
        sl_free(it);
    }
    while (sl_map_next(&dp->keys, &iter, &name, &v)) {
        struct dp_key *k = v;
        sl_free(k->name);
        sl_free(k);
    }
    sl_map_fini(&dp->keys);
    sl_free(dp->group);
    sl_free(dp);
}

void sl_dispatch_stats(const struct sl_dispatch *dp,
                       struct sl_dispatch_stats *out)
{
    *out = dp->st;
}
