/*
 * test/unit/dispatch_test.c - triggers/dispatch.h over the real Embedded
 * backend (temporary data directory, loop on the test thread) with a
 * scripted deliverer that ends jobs at once, later from a timer, when the
 * test says so, or with RETRY: records that do not match are settled and
 * not delivered, the in-flight bound, rate spacing (loop clock), ordered
 * delivery per partition key under RETRY, unordered RETRY coming back
 * through the backend with its attempts, freeing with jobs in flight, and
 * the annotation parser.
 */
#include "test/unit/check.h"

#include <dirent.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "broker/backend.h"
#include "core/loop.h"
#include "proto/event.h"
#include "triggers/dispatch.h"
#include "triggers/filter.h"

/* ---- fixture: a loop and an open Embedded backend ---- */

struct fx {
    struct sl_loop *loop;
    struct sl_backend *b;
    char dir[64];
};

static int64_t now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef bool pred_fn(void *arg);

struct waiter {
    struct sl_loop *loop;
    pred_fn *pred;
    void *arg;
    int64_t deadline;
    bool timed_out;
};

static void waiter_tick(void *arg)
{
    struct waiter *w = arg;

    if (w->pred && w->pred(w->arg))
        sl_loop_stop(w->loop);
    else if (now_wall() >= w->deadline) {
        w->timed_out = true;
        sl_loop_stop(w->loop);
    }
}

/* Run the loop until pred(arg) holds; fail the test after 'ms'. */
static void wait_for(struct fx *f, pred_fn *pred, void *arg, int ms)
{
    struct waiter w = { f->loop, pred, arg, now_wall() + ms, false };
    struct sl_timer *t = sl_timer_new(f->loop, waiter_tick, &w);

    sl_timer_start(t, 0, 2);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
    if (pred && w.timed_out)
        CHECK_FAIL("timed out after %d ms", ms);
}

/* Run the loop for about 'ms' (to see that nothing more happens). */
static void run_for(struct fx *f, int ms)
{
    wait_for(f, NULL, NULL, ms);
}

struct rc_box {
    bool done;
    int rc;
};

static void box_done(void *arg, int rc)
{
    struct rc_box *x = arg;

    x->done = true;
    x->rc = rc;
}

static bool box_ready(void *arg)
{
    return ((struct rc_box *)arg)->done;
}

static void fx_init(struct fx *f)
{
    struct sl_backend_cfg cfg = { 0 };
    struct rc_box x = { 0 };

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-dispatch-XXXXXX");
    ASSERT(mkdtemp(f->dir) != NULL);
    ASSERT_OK(sl_loop_new(&f->loop));
    cfg.loop = f->loop;
    cfg.ns = "default";
    cfg.name = "b1";
    cfg.data_dir = f->dir;
    ASSERT_OK(sl_backend_new(&sl_backend_embedded, &cfg, &f->b, NULL));
    sl_backend_open(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
}

static void fx_fini(struct fx *f)
{
    struct rc_box x = { 0 };
    struct dirent *de;
    char p[512];
    DIR *d;

    sl_backend_close(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_backend_free(f->b);
    sl_loop_free(f->loop);
    d = opendir(f->dir);
    ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    ASSERT_OK(rmdir(f->dir));
}

/* Append one event: id 'id', type 'type', partitionkey 'key' (or none). */
static void append(struct fx *f, const char *id, const char *type,
                   const char *key)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct rc_box x = { 0 };

    ASSERT_OK(sl_event_set_str(ev, "id", id, NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/test", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", type, NULL));
    if (key)
        ASSERT_OK(sl_event_set_str(ev, "partitionkey", key, NULL));
    ASSERT_OK(sl_event_validate(ev, NULL));
    ASSERT_OK(sl_backend_append(f->b, &ev, 1, box_done, &x));
    sl_event_unref(ev);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
}

static void append_n(struct fx *f, const char *prefix, int n)
{
    char id[32];

    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%d", prefix, i);
        append(f, id, "t.test", NULL);
    }
}

/* ---- a scripted deliverer ---- */

enum act {
    ACT_DONE,  /* done(DONE) from inside deliver */
    ACT_RETRY, /* done(RETRY, now + retry_ms, attempts + 1) inside deliver */
    ACT_HOLD,  /* until the test ends it (release) */
    ACT_TIMER, /* done(DONE) from a timer after timer_ms */
};

#define MAXLOG  1024
#define MAXJOBS 256

struct dlv;

struct job {
    struct dlv *d;
    bool used;
    void *job;
    sl_deliver_done_fn *done;
    const struct sl_record *rec;
    struct sl_timer *t;
    char id[32];
    char key[32];
};

struct delivery {
    char id[32];
    char key[32];
    uint32_t attempts;
    int64_t loop_ms;
    int64_t wall_ms;
};

typedef enum act policy_fn(struct dlv *d, const struct sl_record *rec);

struct dlv {
    struct sl_loop *loop;
    policy_fn *policy; /* NULL: ACT_DONE */
    int timer_ms;
    int64_t retry_ms;
    struct delivery log[MAXLOG];
    int n;
    struct job jobs[MAXJOBS];
    int in_flight, max_in_flight;
    int cancelled;
    bool same_key_overlap; /* two jobs of one key in flight at once */
};

static void job_end(struct job *j, const struct sl_settle *how)
{
    sl_deliver_done_fn *done = j->done;
    void *job = j->job;

    sl_timer_free(j->t);
    j->t = NULL;
    j->used = false;
    j->d->in_flight--;
    done(job, how); /* may start another delivery right here */
}

static void job_fire(void *arg)
{
    struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };

    job_end(arg, &how);
}

static void dlv_deliver(void *arg, const struct sl_record *rec,
                        sl_deliver_done_fn *done, void *job)
{
    struct dlv *d = arg;
    const char *key = sl_event_value(rec->ev, "partitionkey");
    struct delivery *l;
    struct job *j = NULL;
    enum act a;

    ASSERT(d->n < MAXLOG);
    l = &d->log[d->n++];
    snprintf(l->id, sizeof(l->id), "%s", sl_event_id(rec->ev));
    snprintf(l->key, sizeof(l->key), "%s", key ? key : "");
    l->attempts = rec->attempts;
    l->loop_ms = sl_loop_now_ms(d->loop);
    l->wall_ms = now_wall();
    for (int i = 0; i < MAXJOBS; i++) {
        if (d->jobs[i].used && strcmp(d->jobs[i].key, l->key) == 0)
            d->same_key_overlap = true;
        if (!d->jobs[i].used && !j)
            j = &d->jobs[i];
    }
    ASSERT(j != NULL);
    memset(j, 0, sizeof(*j));
    j->d = d;
    j->used = true;
    j->job = job;
    j->done = done;
    j->rec = rec;
    snprintf(j->id, sizeof(j->id), "%s", l->id);
    snprintf(j->key, sizeof(j->key), "%s", l->key);
    if (++d->in_flight > d->max_in_flight)
        d->max_in_flight = d->in_flight;
    a = d->policy ? d->policy(d, rec) : ACT_DONE;
    if (a == ACT_DONE) {
        struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };
        job_end(j, &how);
    } else if (a == ACT_RETRY) {
        struct sl_settle how = { SL_SETTLE_RETRY, now_wall() + d->retry_ms,
                                 rec->attempts + 1 };
        job_end(j, &how);
    } else if (a == ACT_TIMER) {
        j->t = sl_timer_new(d->loop, job_fire, j);
        sl_timer_start(j->t, (uint64_t)d->timer_ms, 0);
    }
}

static void dlv_cancel(void *arg, void *job)
{
    struct dlv *d = arg;

    for (int i = 0; i < MAXJOBS; i++)
        if (d->jobs[i].used && d->jobs[i].job == job) {
            sl_timer_free(d->jobs[i].t);
            d->jobs[i].t = NULL;
            d->jobs[i].used = false;
            d->in_flight--;
            d->cancelled++;
            return;
        }
    CHECK_FAIL("cancel of an unknown job");
}

static void dlv_init(struct dlv *d, struct fx *f, policy_fn *policy)
{
    memset(d, 0, sizeof(*d));
    d->loop = f->loop;
    d->policy = policy;
    d->timer_ms = 5;
    d->retry_ms = 100;
}

static struct sl_deliverer dlv_iface(struct dlv *d)
{
    struct sl_deliverer dl = { dlv_deliver, dlv_cancel, d };

    return dl;
}

/* End the held job of event 'id' with 'how'. */
static void release(struct dlv *d, const char *id, const struct sl_settle *how)
{
    for (int i = 0; i < MAXJOBS; i++)
        if (d->jobs[i].used && strcmp(d->jobs[i].id, id) == 0) {
            job_end(&d->jobs[i], how);
            return;
        }
    CHECK_FAIL("no job in flight for '%s'", id);
}

/* Index in the log of the k-th (0-based) delivery of 'id', or -1. */
static int log_find(const struct dlv *d, const char *id, int k)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->log[i].id, id) == 0 && k-- == 0)
            return i;
    return -1;
}

struct n_pred {
    const int *p;
    int n;
};

static bool at_least(void *arg)
{
    struct n_pred *c = arg;

    return *c->p >= c->n;
}

static void wait_n(struct fx *f, const int *p, int n)
{
    struct n_pred c = { p, n };

    wait_for(f, at_least, &c, 10000);
}

static struct sl_dispatch *dp_start(struct fx *f, struct dlv *d,
                                    const char *group, uint32_t max_in_flight,
                                    double rate, bool ordered,
                                    const struct sl_filter *filter)
{
    struct sl_dispatch_opts o = { group, max_in_flight, rate, ordered };
    struct sl_deliverer dl = dlv_iface(d);
    struct sl_dispatch *dp = NULL;

    ASSERT_OK(sl_dispatch_new(f->loop, f->b, &o, filter, &dl, &dp, NULL));
    return dp;
}

static struct sl_filter *mk_filter(const char *json)
{
    struct json_object *spec = json_tokener_parse(json);
    struct sl_filter *fl = NULL;

    ASSERT(spec != NULL);
    ASSERT_OK(sl_filter_compile(spec, &fl, NULL));
    json_object_put(spec);
    return fl;
}

/* ---- tests ---- */

TEST(no_match_is_settled_and_not_delivered)
{
    struct fx f;
    struct dlv d;
    struct sl_dispatch_stats st;
    struct sl_filter *fl =
        mk_filter("{\"filter\":{\"attributes\":{\"type\":\"t.want\"}}}");
    char id[32];

    fx_init(&f);
    dlv_init(&d, &f, NULL);
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 0, 0, false, fl);
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "e%d", i);
        append(&f, id, i % 2 ? "t.want" : "t.other", NULL);
    }
    wait_n(&f, &d.n, 5);
    run_for(&f, 50);
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.received, 10);
    ASSERT_EQ(st.filtered, 5);
    ASSERT_EQ(st.delivered, 5);
    ASSERT_EQ(st.in_flight, 0);
    ASSERT_EQ(st.waiting, 0);
    ASSERT_EQ(d.n, 5);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "e%d", 2 * i + 1);
        ASSERT_STR_EQ(d.log[i].id, id);
        ASSERT_EQ(d.log[i].attempts, 0);
    }
    sl_dispatch_free(dp);

    /* The filtered records were settled DONE: a new dispatcher of the
     * group, matching everything, sees only what comes next. */
    dlv_init(&d, &f, NULL);
    dp = dp_start(&f, &d, "g", 0, 0, false, NULL);
    append(&f, "late", "t.other", NULL);
    wait_n(&f, &d.n, 1);
    run_for(&f, 50);
    ASSERT_EQ(d.n, 1);
    ASSERT_STR_EQ(d.log[0].id, "late");

    /* set_filter applies to records not yet filtered */
    struct sl_filter *fl2 =
        mk_filter("{\"filters\":[{\"prefix\":{\"id\":\"keep\"}}]}");
    sl_dispatch_set_filter(dp, fl2);
    append(&f, "drop1", "t.other", NULL);
    append(&f, "keep1", "t.other", NULL);
    wait_n(&f, &d.n, 2);
    ASSERT_STR_EQ(d.log[1].id, "keep1");
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.filtered, 1);
    sl_dispatch_free(dp);
    sl_filter_free(fl);
    sl_filter_free(fl2);
    fx_fini(&f);
}

static enum act hold_all(struct dlv *d, const struct sl_record *rec)
{
    (void)d;
    (void)rec;
    return ACT_HOLD;
}

static bool in_flight_is(void *arg)
{
    struct n_pred *c = arg;

    return *c->p == c->n;
}

TEST(max_in_flight_bound)
{
    struct fx f;
    struct dlv d;
    struct sl_dispatch_stats st;
    struct n_pred c;
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };

    fx_init(&f);
    dlv_init(&d, &f, hold_all);
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 4, 0, false, NULL);
    append_n(&f, "e", 20);
    c = (struct n_pred){ &d.in_flight, 4 };
    wait_for(&f, in_flight_is, &c, 5000);
    run_for(&f, 100);
    ASSERT_EQ(d.n, 4);
    ASSERT_EQ(d.in_flight, 4);
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.in_flight, 4);
    ASSERT_EQ(st.received, 4);

    /* end the held ones as they come: at most 4 at any time */
    int ended = 0;
    while (ended < 20) {
        c = (struct n_pred){ &d.n, ended + 1 };
        wait_for(&f, at_least, &c, 5000);
        release(&d, d.log[ended].id, &done);
        ended++;
    }
    run_for(&f, 20);
    ASSERT_EQ(d.n, 20);
    ASSERT_EQ(d.max_in_flight, 4);
    for (int i = 0; i < 20; i++) {
        char id[32];
        snprintf(id, sizeof(id), "e%d", i);
        ASSERT_STR_EQ(d.log[i].id, id);
    }
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.delivered, 20);
    ASSERT_EQ(st.in_flight, 0);
    sl_dispatch_free(dp);
    ASSERT_EQ(d.cancelled, 0);
    fx_fini(&f);
}

TEST(rate_limit_spacing)
{
    struct fx f;
    struct dlv d;
    const double rate = 20;
    const int n = 50;

    fx_init(&f);
    dlv_init(&d, &f, NULL);
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 100, rate, false, NULL);
    /* one append of n events so they are all there at once */
    struct sl_event *evs[50];
    struct rc_box x = { 0 };
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "e%d", i);
        evs[i] = sl_event_new(SL_CE_V10);
        ASSERT_OK(sl_event_set_str(evs[i], "id", id, NULL));
        ASSERT_OK(sl_event_set_str(evs[i], "source", "/t", NULL));
        ASSERT_OK(sl_event_set_str(evs[i], "type", "t", NULL));
    }
    ASSERT_OK(sl_backend_append(f.b, evs, (size_t)n, box_done, &x));
    for (int i = 0; i < n; i++)
        sl_event_unref(evs[i]);
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    wait_n(&f, &d.n, n);

    /* Token bucket: any window of w ms holds at most burst + rate*w/1000
     * starts (+1 for the edges). */
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            int64_t w = d.log[j].loop_ms - d.log[i].loop_ms;
            double cap = rate + rate * (double)w / 1000.0 + 1;
            if (j - i + 1 > cap)
                CHECK_FAIL("%d starts in %" PRId64 " ms", j - i + 1, w);
        }
    /* n starts need at least (n - burst) / rate seconds, and the limiter
     * must not be much slower than that either (generous bound). */
    int64_t span = d.log[n - 1].loop_ms - d.log[0].loop_ms;
    ASSERT(span >= (int64_t)((n - rate) / rate * 1000) - 60);
    ASSERT(span <= 5000);
    sl_dispatch_free(dp);
    fx_fini(&f);
}

/* Ordered: "a0" is held on its first attempt, the rest end by timer. */
static enum act ordered_policy(struct dlv *d, const struct sl_record *rec)
{
    (void)d;
    if (strcmp(sl_event_id(rec->ev), "a0") == 0 && rec->attempts == 0)
        return ACT_HOLD;
    return ACT_TIMER;
}

static bool others_done(void *arg)
{
    struct dlv *d = arg;

    return log_find(d, "b3", 0) >= 0 && log_find(d, "n3", 0) >= 0 &&
           d->in_flight == 1;
}

TEST(ordered_per_key_under_retry)
{
    struct fx f;
    struct dlv d;
    struct sl_dispatch_stats st;
    char id[32];

    fx_init(&f);
    dlv_init(&d, &f, ordered_policy);
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 0, 0, true, NULL);
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "a%d", i);
        append(&f, id, "t", "A");
        snprintf(id, sizeof(id), "b%d", i);
        append(&f, id, "t", "B");
        snprintf(id, sizeof(id), "n%d", i); /* no key: the key "" */
        append(&f, id, "t", NULL);
    }
    /* Other keys go on while a0 is in flight. */
    wait_for(&f, others_done, &d, 10000);
    ASSERT_EQ(log_find(&d, "a1", 0), -1);
    ASSERT(log_find(&d, "a0", 0) >= 0);

    /* a0 fails: kept in memory, retried at not_before; a1.. still wait */
    int64_t nb = now_wall() + 150;
    struct sl_settle retry = { SL_SETTLE_RETRY, nb, 1 };
    release(&d, "a0", &retry);
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.retried, 1);
    ASSERT_EQ(st.in_flight, 0);
    ASSERT_EQ(st.waiting, 4); /* a0 (retry) + a1..a3 */
    run_for(&f, 30);
    ASSERT_EQ(log_find(&d, "a1", 0), -1);
    ASSERT_EQ(log_find(&d, "a0", 1), -1);

    wait_n(&f, &d.n, 13);
    run_for(&f, 30);
    ASSERT_EQ(d.n, 13);
    ASSERT(!d.same_key_overlap);
    int r = log_find(&d, "a0", 1);
    ASSERT(r >= 0);
    ASSERT_EQ(d.log[r].attempts, 1);
    ASSERT(d.log[r].wall_ms >= nb);
    ASSERT(log_find(&d, "a1", 0) > r);
    ASSERT(log_find(&d, "a2", 0) > log_find(&d, "a1", 0));
    ASSERT(log_find(&d, "a3", 0) > log_find(&d, "a2", 0));
    for (int i = 1; i < 4; i++) {
        char p[32], q[32];
        snprintf(p, sizeof(p), "b%d", i - 1);
        snprintf(q, sizeof(q), "b%d", i);
        ASSERT(log_find(&d, q, 0) > log_find(&d, p, 0));
        snprintf(p, sizeof(p), "n%d", i - 1);
        snprintf(q, sizeof(q), "n%d", i);
        ASSERT(log_find(&d, q, 0) > log_find(&d, p, 0));
        ASSERT_STR_EQ(d.log[log_find(&d, q, 0)].key, "");
    }
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.delivered, 12);
    ASSERT_EQ(st.waiting, 0);
    sl_dispatch_free(dp);

    /* Everything was settled DONE: a new dispatcher gets nothing old. */
    dlv_init(&d, &f, NULL);
    dp = dp_start(&f, &d, "g", 0, 0, true, NULL);
    append(&f, "z", "t", "A");
    wait_n(&f, &d.n, 1);
    run_for(&f, 30);
    ASSERT_EQ(d.n, 1);
    ASSERT_STR_EQ(d.log[0].id, "z");
    sl_dispatch_free(dp);
    fx_fini(&f);
}

/* Unordered: "e0" fails on its first attempt, everything else is DONE. */
static enum act unordered_policy(struct dlv *d, const struct sl_record *rec)
{
    (void)d;
    if (strcmp(sl_event_id(rec->ev), "e0") == 0 && rec->attempts == 0)
        return ACT_RETRY;
    return ACT_DONE;
}

TEST(unordered_retry_comes_back_through_the_backend)
{
    struct fx f;
    struct dlv d;
    struct sl_dispatch_stats st;

    fx_init(&f);
    dlv_init(&d, &f, unordered_policy);
    d.retry_ms = 150;
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 0, 0, false, NULL);
    int64_t t0 = now_wall();
    append(&f, "e0", "t", "K");
    append(&f, "e1", "t", "K");
    append(&f, "e2", "t", "K");
    wait_n(&f, &d.n, 4);
    run_for(&f, 30);
    ASSERT_EQ(d.n, 4);
    ASSERT_STR_EQ(d.log[0].id, "e0");
    ASSERT_EQ(d.log[0].attempts, 0);
    /* same key, unordered: the others did not wait for e0 */
    ASSERT(log_find(&d, "e1", 0) < log_find(&d, "e0", 1));
    ASSERT(log_find(&d, "e2", 0) < log_find(&d, "e0", 1));
    int r = log_find(&d, "e0", 1);
    ASSERT_EQ(d.log[r].attempts, 1); /* from the backend's retry row */
    ASSERT(d.log[r].wall_ms >= t0 + 150);
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.received, 4);
    ASSERT_EQ(st.retried, 1);
    ASSERT_EQ(st.delivered, 3);
    sl_dispatch_free(dp);
    fx_fini(&f);
}

TEST(free_cancels_jobs_and_records_come_again)
{
    struct fx f;
    struct dlv d;
    struct n_pred c;

    fx_init(&f);
    dlv_init(&d, &f, hold_all);
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 0, 0, false, NULL);
    append_n(&f, "e", 5);
    c = (struct n_pred){ &d.in_flight, 5 };
    wait_for(&f, in_flight_is, &c, 5000);
    sl_dispatch_free(dp);
    ASSERT_EQ(d.cancelled, 5);
    ASSERT_EQ(d.in_flight, 0);
    for (int i = 0; i < MAXJOBS; i++)
        ASSERT(!d.jobs[i].used);

    dlv_init(&d, &f, NULL);
    dp = dp_start(&f, &d, "g", 0, 0, false, NULL);
    wait_n(&f, &d.n, 5);
    run_for(&f, 30);
    ASSERT_EQ(d.n, 5);
    for (int i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof(id), "e%d", i);
        ASSERT_STR_EQ(d.log[i].id, id);
    }
    sl_dispatch_free(dp);
    ASSERT_EQ(d.cancelled, 0);
    fx_fini(&f);
}

/* Ordered retries live in memory: after a free (a crash alike) the record
 * comes again with its attempts counted from 0, never skipped. */
static enum act retry_first(struct dlv *d, const struct sl_record *rec)
{
    (void)d;
    return rec->attempts == 0 && strcmp(sl_event_id(rec->ev), "e0") == 0
               ? ACT_RETRY
               : ACT_DONE;
}

/* e0 waits for its retry, e1 behind it, e2 (other key) delivered. */
static bool e0_retry_pending(void *arg)
{
    struct sl_dispatch_stats st;

    sl_dispatch_stats(arg, &st);
    return st.received == 3 && st.waiting == 2 && st.delivered == 1;
}

TEST(ordered_retry_is_not_skipped_after_free)
{
    struct fx f;
    struct dlv d;
    struct sl_dispatch_stats st;

    fx_init(&f);
    dlv_init(&d, &f, retry_first);
    d.retry_ms = 60000; /* far away */
    struct sl_dispatch *dp = dp_start(&f, &d, "g", 0, 0, true, NULL);
    append(&f, "e0", "t", "A");
    append(&f, "e1", "t", "A");
    append(&f, "e2", "t", "B");
    wait_n(&f, &d.n, 2); /* e0 (retry pending), e2 */
    wait_for(&f, e0_retry_pending, dp, 10000);
    sl_dispatch_stats(dp, &st);
    ASSERT_EQ(st.in_flight, 0);
    ASSERT_EQ(log_find(&d, "e1", 0), -1);
    sl_dispatch_free(dp);
    ASSERT_EQ(d.cancelled, 0); /* nothing was in flight */

    dlv_init(&d, &f, NULL);
    dp = dp_start(&f, &d, "g", 0, 0, true, NULL);
    wait_n(&f, &d.n, 2);
    run_for(&f, 30);
    ASSERT_EQ(d.n, 2);
    ASSERT_STR_EQ(d.log[0].id, "e0");
    ASSERT_EQ(d.log[0].attempts, 0);
    ASSERT_STR_EQ(d.log[1].id, "e1");
    sl_dispatch_free(dp);
    fx_fini(&f);
}

TEST(new_refuses_bad_opts_and_second_subscription)
{
    struct fx f;
    struct dlv d;
    struct sl_deliverer dl;
    struct sl_dispatch *dp = NULL, *dp2 = (struct sl_dispatch *)&dp;
    struct sl_dispatch_opts o = { "g", 0, 0, false };
    struct sl_diag diag;

    fx_init(&f);
    dlv_init(&d, &f, NULL);
    dl = dlv_iface(&d);
    ASSERT_OK(sl_dispatch_new(f.loop, f.b, &o, NULL, &dl, &dp, NULL));
    ASSERT_EQ(sl_dispatch_new(f.loop, f.b, &o, NULL, &dl, &dp2, &diag),
              SL_EEXIST);
    ASSERT(dp2 == NULL);
    ASSERT(diag.msg[0] != '\0');
    o.group = "";
    ASSERT_EQ(sl_dispatch_new(f.loop, f.b, &o, NULL, &dl, &dp2, &diag),
              SL_EINVAL);
    o.group = "h";
    o.max_rate = -1;
    ASSERT_EQ(sl_dispatch_new(f.loop, f.b, &o, NULL, &dl, &dp2, &diag),
              SL_EINVAL);
    sl_dispatch_free(dp);
    sl_dispatch_free(NULL);
    fx_fini(&f);
}

/* ---- annotations ---- */

struct acase {
    const char *json;
    int rc;
    const char *field; /* on error */
    uint32_t max_in_flight;
    double max_rate;
    bool ordered;
};

#define PFX "metadata.annotations."

static const struct acase acases[] = {
    { "{}", 0, NULL, 7, 3, true }, /* absent: preset values kept */
    { "{\"other\":\"x\"}", 0, NULL, 7, 3, true },
    { "{\"sluice.dev/max-in-flight\":\"1\"}", 0, NULL, 1, 3, true },
    { "{\"sluice.dev/max-in-flight\":\"100000\","
      "\"sluice.dev/max-rate\":\"0.5\","
      "\"kafka.eventing.knative.dev/delivery.order\":\"unordered\"}",
      0, NULL, 100000, 0.5, false },
    { "{\"sluice.dev/max-rate\":\"250\","
      "\"kafka.eventing.knative.dev/delivery.order\":\"ordered\"}",
      0, NULL, 7, 250, true },
    { "{\"sluice.dev/max-rate\":\"2.\"}", 0, NULL, 7, 2, true },
    { "{\"sluice.dev/max-in-flight\":\"0\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"100001\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"-3\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"+3\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"10x\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":5}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-in-flight\":\"99999999999999999999999\"}", SL_EINVAL,
      PFX "sluice.dev/max-in-flight", 0, 0, false },
    { "{\"sluice.dev/max-rate\":\"0\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\"0.0\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\"-1\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\"1e3\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\"inf\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\"0x10\"}", SL_EINVAL,
      PFX "sluice.dev/max-rate", 0, 0, false },
    { "{\"sluice.dev/max-rate\":\" 5\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"sluice.dev/max-rate\":\".\"}", SL_EINVAL, PFX "sluice.dev/max-rate",
      0, 0, false },
    { "{\"kafka.eventing.knative.dev/delivery.order\":\"Ordered\"}", SL_EINVAL,
      PFX "kafka.eventing.knative.dev/delivery.order", 0, 0, false },
    { "{\"kafka.eventing.knative.dev/delivery.order\":\"\"}", SL_EINVAL,
      PFX "kafka.eventing.knative.dev/delivery.order", 0, 0, false },
    /* the first bad one is reported and nothing is changed */
    { "{\"sluice.dev/max-in-flight\":\"9\","
      "\"kafka.eventing.knative.dev/delivery.order\":\"random\"}",
      SL_EINVAL, PFX "kafka.eventing.knative.dev/delivery.order", 0, 0, false },
    { "[]", SL_EINVAL, "metadata.annotations", 0, 0, false },
};

TEST(annotations)
{
    for (size_t i = 0; i < sizeof(acases) / sizeof(acases[0]); i++) {
        const struct acase *c = &acases[i];
        struct json_object *a = json_tokener_parse(c->json);
        struct sl_dispatch_opts o = { "grp", 7, 3, true };
        struct sl_diag d;
        int rc;

        ASSERT(a != NULL);
        sl_diag_clear(&d);
        rc = sl_dispatch_opts_from_annotations(&o, a, &d);
        if (rc != c->rc)
            CHECK_FAIL("case %zu: %s: rc %d (%s)", i, c->json, rc, d.msg);
        ASSERT_STR_EQ(o.group, "grp");
        if (rc == 0) {
            ASSERT_EQ(o.max_in_flight, c->max_in_flight);
            ASSERT(o.max_rate == c->max_rate);
            ASSERT_EQ(o.ordered, c->ordered);
        } else {
            if (strcmp(d.field, c->field) != 0)
                CHECK_FAIL("case %zu: field \"%s\"", i, d.field);
            ASSERT(d.msg[0] != '\0');
            ASSERT_EQ(o.max_in_flight, 7);
            ASSERT(o.max_rate == 3);
            ASSERT(o.ordered);
        }
        json_object_put(a);
    }
    struct sl_dispatch_opts o = { "grp", 7, 3, true };
    ASSERT_OK(sl_dispatch_opts_from_annotations(&o, NULL, NULL));
    ASSERT_EQ(o.max_in_flight, 7);
}

TEST_MAIN()
