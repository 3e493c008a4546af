/*
 * test/unit/backend_embedded_test.c - broker/backend.h through the Embedded
 * backend, with a real loop and a temporary data directory: durability
 * across reopen, group commit, order and max outstanding, retries
 * (persisted, redelivered when due, across a restart), resuming after a
 * restart, independent groups, retention, registry and state checks;
 * many subscriptions sharing records, the record cache's eviction (reads
 * from the database behind it) and progress coalesced per flush surviving
 * a restart; transport headers (stored, restored after a restart, and a
 * database of the schema before them upgraded in place).
 */
#include "test/unit/check.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/backend.h"
#include "core/buf.h"
#include "core/loop.h"
#include "proto/json.h"

/* ---- fixture ---- */

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

/* Run the loop until pred(arg) holds (fails the test after 'ms'). */
static void wait_for(struct fx *f, pred_fn *pred, void *arg, int ms)
{
    struct waiter w = { f->loop, pred, arg, now_wall() + ms, false };
    struct sl_timer *t = sl_timer_new(f->loop, waiter_tick, &w);

    sl_timer_start(t, 0, 2);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
    if (pred)
        ASSERT(!w.timed_out);
}

/* Run the loop for about 'ms' (to see that nothing more happens). */
static void run_for(struct fx *f, int ms)
{
    struct waiter w = { f->loop, NULL, NULL, now_wall() + ms, false };
    struct sl_timer *t = sl_timer_new(f->loop, waiter_tick, &w);

    sl_timer_start(t, 0, 2);
    ASSERT_OK(sl_loop_run(f->loop));
    sl_timer_free(t);
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

static void fx_open(struct fx *f)
{
    struct sl_backend_cfg cfg = {
        .loop = f->loop, .ns = "default", .name = "b1", .data_dir = f->dir
    };
    struct rc_box x = { 0 };

    ASSERT_OK(sl_backend_new(&sl_backend_embedded, &cfg, &f->b, NULL));
    sl_backend_open(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
}

static void fx_close(struct fx *f)
{
    struct rc_box x = { 0 };

    sl_backend_close(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_backend_free(f->b);
    f->b = NULL;
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sl-backend-XXXXXX");
    ASSERT(mkdtemp(f->dir) != NULL);
    ASSERT_OK(sl_loop_new(&f->loop));
    fx_open(f);
}

static void fx_fini(struct fx *f)
{
    if (f->b)
        fx_close(f);
    sl_loop_free(f->loop);
    DIR *d = opendir(f->dir);
    ASSERT(d != NULL);
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    ASSERT_OK(rmdir(f->dir));
}

static void fx_restart(struct fx *f)
{
    fx_close(f);
    fx_open(f);
}

static struct sl_event *mk_event(int i)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    char id[32];

    snprintf(id, sizeof(id), "e%d", i);
    ASSERT_OK(sl_event_set_str(ev, "id", id, NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/test", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t.test", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    sl_event_set_data(ev, id, strlen(id));
    ASSERT_OK(sl_event_validate(ev, NULL));
    return ev;
}

/* Append events first..last (inclusive), one per append, and wait. */
static void append_range(struct fx *f, int first, int last)
{
    int n = last - first + 1;
    struct rc_box *xs = sl_xcalloc((size_t)n, sizeof(*xs));

    for (int i = 0; i < n; i++) {
        struct sl_event *ev = mk_event(first + i);
        ASSERT_OK(sl_backend_append(f->b, &ev, 1, box_done, &xs[i]));
        sl_event_unref(ev);
    }
    for (int i = 0; i < n; i++) {
        wait_for(f, box_ready, &xs[i], 5000);
        ASSERT_OK(xs[i].rc);
    }
    sl_free(xs);
}

/* ---- a recording subscriber ---- */

#define MAXREC 1024

struct rec_sub {
    struct sl_backend_sub *sub;
    /* every record seen, in order */
    uint64_t seen[MAXREC];
    uint32_t attempts[MAXREC];
    int64_t when[MAXREC];
    int nseen;
    /* held (unsettled) records */
    const struct sl_record *held[MAXREC];
    int nheld;
    uint32_t max_seen_outstanding;
    bool auto_done; /* settle DONE at once */
    /* settle RETRY once for this offset (0 = none) */
    uint64_t retry_off;
    int64_t retry_delay;
    bool retried;
    /* stored form of the transport headers of the first records */
    char hdrs[8][256];
};

static void on_rec(void *arg, struct sl_backend_sub *sub,
                   const struct sl_record *rec)
{
    struct rec_sub *r = arg;
    char id[32];

    ASSERT(r->nseen < MAXREC);
    ASSERT_EQ(rec->pos.partition, 0);
    snprintf(id, sizeof(id), "e%d", (int)rec->pos.offset);
    ASSERT_STR_EQ(sl_event_id(rec->ev), id); /* event i has seq i here */
    if (r->nseen < 8) {
        struct sl_buf b;
        sl_buf_init(&b, sizeof(r->hdrs[0]) - 1);
        ASSERT_OK(sl_event_headers_encode(rec->ev, &b));
        snprintf(r->hdrs[r->nseen], sizeof(r->hdrs[0]), "%s", sl_buf_str(&b));
        sl_buf_fini(&b);
    }
    r->seen[r->nseen] = rec->pos.offset;
    r->attempts[r->nseen] = rec->attempts;
    r->when[r->nseen] = now_wall();
    r->nseen++;
    if (sub->outstanding > r->max_seen_outstanding)
        r->max_seen_outstanding = sub->outstanding;
    if (r->retry_off == rec->pos.offset && !r->retried) {
        struct sl_settle how = { SL_SETTLE_RETRY, now_wall() + r->retry_delay,
                                 1 };
        r->retried = true;
        ASSERT_OK(sl_backend_settle(sub, rec, &how));
        return;
    }
    if (r->auto_done) {
        struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };
        ASSERT_OK(sl_backend_settle(sub, rec, &how));
        return;
    }
    r->held[r->nheld++] = rec;
}

static void subscribe(struct fx *f, struct rec_sub *r, const char *group,
                      uint32_t max)
{
    struct sl_backend_sub_opts o = { max };

    ASSERT_OK(sl_backend_subscribe(f->b, group, &o, on_rec, r, &r->sub));
}

static void settle_held(struct rec_sub *r)
{
    struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };
    int n = r->nheld;

    r->nheld = 0;
    for (int i = 0; i < n; i++)
        ASSERT_OK(sl_backend_settle(r->sub, r->held[i], &how));
}

static void unsubscribe(struct rec_sub *r)
{
    sl_backend_unsubscribe(r->sub);
    r->sub = NULL;
    r->nheld = 0;
}

struct count_pred {
    struct rec_sub *r;
    int n;
};

static bool seen_at_least(void *arg)
{
    struct count_pred *c = arg;

    return c->r->nseen >= c->n;
}

static void wait_seen(struct fx *f, struct rec_sub *r, int n)
{
    struct count_pred c = { r, n };

    wait_for(f, seen_at_least, &c, 5000);
}

/* ---- tests ---- */

TEST(registry_and_states)
{
    struct fx f;

    ASSERT(sl_backend_find("Embedded") == &sl_backend_embedded);
    ASSERT(sl_backend_find("Nope") == NULL);
    ASSERT(sl_backend_list()[0] == &sl_backend_embedded);
    ASSERT_OK(sl_backend_embedded.validate(NULL, NULL, NULL));
    fx_init(&f);
    struct sl_backend_sub *sub;
    ASSERT_EQ(sl_backend_subscribe(f.b, "", NULL, on_rec, NULL, &sub),
              SL_EINVAL);
    struct sl_event *ev = mk_event(1);
    ASSERT_EQ(sl_backend_append(f.b, &ev, 0, box_done, NULL), SL_EINVAL);
    struct rc_box x = { 0 };
    ASSERT_OK(sl_backend_append(f.b, &ev, 1, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    ASSERT_EQ(sl_backend_drop(f.b, NULL), SL_EBUSY);
    fx_close(&f);

    /* closed: append refused, drop removes the files */
    struct sl_backend_cfg cfg = {
        .loop = f.loop, .ns = "default", .name = "b1", .data_dir = f.dir
    };
    ASSERT_OK(sl_backend_new(&sl_backend_embedded, &cfg, &f.b, NULL));
    ASSERT_EQ(sl_backend_append(f.b, &ev, 1, box_done, NULL), SL_EAGAIN);
    char p[256];
    struct stat stt;
    snprintf(p, sizeof(p), "%s/broker_default_b1.db", f.dir);
    ASSERT_OK(stat(p, &stt));
    ASSERT_OK(sl_backend_drop(f.b, NULL));
    ASSERT(stat(p, &stt) < 0);
    sl_backend_free(f.b);
    f.b = NULL;
    sl_event_unref(ev);
    fx_fini(&f);
}

TEST(append_durable_across_reopen)
{
    struct fx f;
    struct rec_sub r = { .auto_done = false };

    fx_init(&f);
    subscribe(&f, &r, "g", 64); /* the group starts at the end: now */
    run_for(&f, 5);
    unsubscribe(&r);

    struct sl_event *evs[2] = { mk_event(1), mk_event(2) };
    struct rc_box x = { 0 };
    ASSERT_OK(sl_backend_append(f.b, evs, 2, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_event_unref(evs[0]);
    sl_event_unref(evs[1]);
    append_range(&f, 3, 3);
    struct sl_backend_stats st;
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.appends, 2);
    ASSERT_EQ(st.events, 3);

    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 3);
    ASSERT_EQ(r.seen[0], 1);
    ASSERT_EQ(r.seen[1], 2);
    ASSERT_EQ(r.seen[2], 3);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(headers_stored_and_restored)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };
    struct sl_event *evs[3] = { mk_event(1), mk_event(2), mk_event(3) };
    struct rc_box x = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    run_for(&f, 5);
    unsubscribe(&r);
    ASSERT_OK(sl_event_header_add(evs[0], "X-Request-Id", "r1"));
    ASSERT_OK(sl_event_header_add(evs[0], "Knative-Foo", "a: b"));
    ASSERT_OK(sl_event_header_add(evs[2], "X-B3-TraceId", "t3"));
    ASSERT_OK(sl_backend_append(f.b, evs, 3, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    for (int i = 0; i < 3; i++)
        sl_event_unref(evs[i]);

    /* From disk, by a new instance. */
    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 3);
    ASSERT_STR_EQ(r.hdrs[0], "X-Request-Id:r1\nKnative-Foo:a: b\n");
    ASSERT_STR_EQ(r.hdrs[1], "");
    ASSERT_STR_EQ(r.hdrs[2], "X-B3-TraceId:t3\n");
    unsubscribe(&r);
    fx_fini(&f);
}

/* A database written before events.headers existed is upgraded at open. */
TEST(headers_column_added_to_old_database)
{
    static const char old_schema[] =
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  ts INTEGER NOT NULL, size INTEGER NOT NULL, body BLOB NOT NULL);"
        "CREATE TABLE groups (name TEXT PRIMARY KEY, cursor INTEGER NOT NULL);"
        "CREATE TABLE done (grp TEXT NOT NULL, seq INTEGER NOT NULL,"
        "  PRIMARY KEY (grp, seq)) WITHOUT ROWID;"
        "CREATE TABLE retries (grp TEXT NOT NULL, seq INTEGER NOT NULL,"
        "  not_before INTEGER NOT NULL, attempts INTEGER NOT NULL,"
        "  PRIMARY KEY (grp, seq)) WITHOUT ROWID;"
        "INSERT INTO groups VALUES ('g', 1);";
    struct fx f;
    struct rec_sub r = { .auto_done = true };
    struct sl_event *ev = mk_event(1);
    struct rc_box x = { 0 };
    sqlite3 *db;
    sqlite3_stmt *st;
    struct sl_buf b;
    char path[128];

    fx_init(&f);
    fx_close(&f);
    snprintf(path, sizeof(path), "%s/broker_default_b1.db", f.dir);
    ASSERT_OK(unlink(path));
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, old_schema, NULL, NULL, NULL), SQLITE_OK);
    sl_buf_init(&b, 4096);
    ASSERT_OK(sl_ce_json_encode(ev, &b));
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO events(ts, size, body)"
                                 " VALUES (1, ?1, ?2)",
                                 -1, &st, NULL),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)b.len);
    sqlite3_bind_blob(st, 2, b.data, (int)b.len, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    sl_buf_fini(&b);
    sl_event_unref(ev);

    fx_open(&f);
    ev = mk_event(2);
    ASSERT_OK(sl_event_header_add(ev, "Knative-Foo", "new"));
    ASSERT_OK(sl_backend_append(f.b, &ev, 1, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_event_unref(ev);
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 2);
    ASSERT_EQ(r.seen[0], 1);
    ASSERT_STR_EQ(r.hdrs[0], ""); /* the old row: NULL, no headers */
    ASSERT_STR_EQ(r.hdrs[1], "Knative-Foo:new\n");
    unsubscribe(&r);

    /* Opening again finds the column and leaves it alone. */
    fx_restart(&f);
    fx_fini(&f);
}

struct gc_state {
    struct fx *f;
    int issued, completed, target;
    int failed;
};

static void gc_issue(struct gc_state *g);

static void gc_done(void *arg, int rc)
{
    struct gc_state *g = arg;

    if (rc != 0)
        g->failed++;
    g->completed++;
    if (g->issued < g->target)
        gc_issue(g);
}

static void gc_issue(struct gc_state *g)
{
    struct sl_event *ev = mk_event(++g->issued);

    ASSERT_OK(sl_backend_append(g->f->b, &ev, 1, gc_done, g));
    sl_event_unref(ev);
}

static bool gc_finished(void *arg)
{
    struct gc_state *g = arg;

    return g->completed == g->target;
}

TEST(group_commit_batches_concurrent_appends)
{
    struct fx f;
    struct gc_state g = { .f = &f, .target = 600 };

    fx_init(&f);
    /* 50 concurrent producers, each appending again once acknowledged */
    for (int i = 0; i < 50; i++)
        gc_issue(&g);
    wait_for(&f, gc_finished, &g, 20000);
    ASSERT_EQ(g.failed, 0);
    struct sl_backend_stats st;
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.appends, 600);
    ASSERT_EQ(st.events, 600);
    /* one transaction (one fsync) per many appends */
    ASSERT(st.transactions * 5 <= 600);
    ASSERT(st.transactions >= 1);
    fx_fini(&f);
}

/* The appends of one loop iteration reach the writer together: one
 * transaction, not one for the first and one for the rest. */
TEST(appends_of_one_iteration_share_a_transaction)
{
    struct fx f;
    struct sl_backend_stats before, after;

    fx_init(&f);
    run_for(&f, 5);
    sl_backend_stats(f.b, &before);
    append_range(&f, 1, 50); /* 50 appends, then the loop runs */
    sl_backend_stats(f.b, &after);
    ASSERT_EQ(after.events - before.events, 50);
    ASSERT_EQ(after.transactions - before.transactions, 1);
    fx_fini(&f);
}

/* Records committed while a group had no subscription are not decoded
 * for the cache; a later subscription reads them from the database, and
 * records appended while it is subscribed come through the cache. */
TEST(records_appended_without_subscription_are_read_later)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    run_for(&f, 5);
    unsubscribe(&r);
    append_range(&f, 1, 100); /* no subscription: not cached */
    subscribe(&f, &r, "g", 8);
    wait_seen(&f, &r, 100);
    append_range(&f, 101, 130);
    wait_seen(&f, &r, 130);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 130);
    for (int i = 0; i < 130; i++)
        ASSERT_EQ(r.seen[i], i + 1);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(order_and_max_outstanding)
{
    struct fx f;
    struct rec_sub r = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 3);
    run_for(&f, 5);
    append_range(&f, 1, 10);
    wait_seen(&f, &r, 3);
    run_for(&f, 30);
    ASSERT_EQ(r.nseen, 3); /* no more until something is settled */
    ASSERT_EQ(r.nheld, 3);
    while (r.nseen < 10) {
        int before = r.nseen;
        settle_held(&r);
        wait_seen(&f, &r, before + 1);
        run_for(&f, 5);
    }
    settle_held(&r);
    ASSERT_EQ(r.max_seen_outstanding, 3);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(r.seen[i], i + 1);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 10);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(retry_redelivered_when_due)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true, .retry_off = 2, .retry_delay = 60 };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    run_for(&f, 5);
    int64_t t0 = now_wall();
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 4);
    ASSERT_EQ(r.seen[3], 2);
    ASSERT_EQ(r.attempts[3], 1);
    ASSERT(r.when[3] - t0 >= 60);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 4);
    unsubscribe(&r);

    /* everything is DONE: a restart redelivers nothing */
    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 8);
    run_for(&f, 40);
    ASSERT_EQ(r.nseen, 0);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(retry_survives_restart)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true,
                         .retry_off = 2,
                         .retry_delay = 150 };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    run_for(&f, 5);
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 3);
    int64_t nb = r.when[1] + 150;
    unsubscribe(&r);
    fx_restart(&f);

    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 8);
    wait_seen(&f, &r, 1);
    ASSERT_EQ(r.seen[0], 2);
    ASSERT_EQ(r.attempts[0], 1);
    ASSERT(r.when[0] >= nb - 1);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 1);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(restart_resumes_without_loss_or_redelivery)
{
    struct fx f;
    struct rec_sub r = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    run_for(&f, 5);
    append_range(&f, 1, 10);
    wait_seen(&f, &r, 10);
    /* DONE 1,2,3,5,6,9; 4,7,8,10 stay unsettled */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    for (int i = 0; i < r.nheld; i++) {
        uint64_t o = r.held[i]->pos.offset;
        if (o == 1 || o == 2 || o == 3 || o == 5 || o == 6 || o == 9)
            ASSERT_OK(sl_backend_settle(r.sub, r.held[i], &done));
    }
    unsubscribe(&r);
    fx_restart(&f);

    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 4);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 4);
    ASSERT_EQ(r.seen[0], 4);
    ASSERT_EQ(r.seen[1], 7);
    ASSERT_EQ(r.seen[2], 8);
    ASSERT_EQ(r.seen[3], 10);
    unsubscribe(&r);

    /* all DONE now: nothing comes again */
    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    subscribe(&f, &r, "g", 64);
    run_for(&f, 30);
    ASSERT_EQ(r.nseen, 0);
    append_range(&f, 11, 11);
    wait_seen(&f, &r, 1);
    ASSERT_EQ(r.seen[0], 11);
    settle_held(&r);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(two_groups_are_independent)
{
    struct fx f;
    struct rec_sub a = { .auto_done = true };
    struct rec_sub b = { 0 };

    fx_init(&f);
    subscribe(&f, &a, "a", 64);
    subscribe(&f, &b, "b", 64);
    ASSERT_EQ(sl_backend_subscribe(f.b, "a", NULL, on_rec, &a,
                                   &(struct sl_backend_sub *){ NULL }),
              SL_EEXIST);
    run_for(&f, 5);
    append_range(&f, 1, 5);
    wait_seen(&f, &a, 5);
    wait_seen(&f, &b, 5);
    unsubscribe(&a);
    unsubscribe(&b); /* b settled nothing */
    fx_restart(&f);

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.auto_done = b.auto_done = true;
    subscribe(&f, &a, "a", 64);
    subscribe(&f, &b, "b", 64);
    wait_seen(&f, &b, 5);
    run_for(&f, 20);
    ASSERT_EQ(a.nseen, 0);
    ASSERT_EQ(b.nseen, 5);
    unsubscribe(&a);
    unsubscribe(&b);
    fx_fini(&f);
}

/* Bytes the embedded backend stores for mk_event(i) (its JSON text). */
static uint64_t stored_size(int i)
{
    struct sl_event *ev = mk_event(i);
    struct sl_buf buf;

    sl_buf_init(&buf, 1 << 20);
    ASSERT_OK(sl_ce_json_encode(ev, &buf));
    uint64_t n = buf.len;
    sl_buf_fini(&buf);
    sl_event_unref(ev);
    return n;
}

static void retention(struct fx *f, int64_t age, uint64_t bytes)
{
    struct rc_box x = { 0 };

    sl_backend_retention(f->b, age, bytes, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
}

TEST(retention_by_progress_size_and_age)
{
    struct fx f;
    struct rec_sub a = { .auto_done = true };
    struct rec_sub b = { 0 };
    struct sl_backend_stats st;

    fx_init(&f);
    subscribe(&f, &a, "a", 64);
    subscribe(&f, &b, "b", 64);
    run_for(&f, 5);
    append_range(&f, 1, 10);
    wait_seen(&f, &a, 10);
    wait_seen(&f, &b, 10);
    /* b: DONE 1..4 only */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    for (int i = 0; i < b.nheld; i++)
        if (b.held[i]->pos.offset <= 4)
            ASSERT_OK(sl_backend_settle(b.sub, b.held[i], &done));
    unsubscribe(&a);
    unsubscribe(&b);

    retention(&f, 0, 0); /* what every group passed: 1..4 */
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 4);
    retention(&f, 0, 0);
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 4);

    /* size: keep the newest two (9, 10), whatever b's progress */
    retention(&f, 0, stored_size(9) + stored_size(10));
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 8);

    /* b resumes at 9: 5..8 are gone, nothing else is skipped */
    memset(&b, 0, sizeof(b));
    b.auto_done = true;
    subscribe(&f, &b, "b", 64);
    wait_seen(&f, &b, 2);
    ASSERT_EQ(b.seen[0], 9);
    ASSERT_EQ(b.seen[1], 10);
    append_range(&f, 11, 12);
    wait_seen(&f, &b, 4);
    ASSERT_EQ(b.seen[2], 11);
    ASSERT_EQ(b.seen[3], 12);
    run_for(&f, 10);
    ASSERT_EQ(b.nseen, 4);
    unsubscribe(&b);
    retention(&f, 0, 0); /* a is at 11, b at 13: 9, 10 go */
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 10);

    /* age: records older than 20 ms go, whatever the groups */
    memset(&b, 0, sizeof(b));
    subscribe(&f, &b, "late", 64);
    unsubscribe(&b);
    append_range(&f, 13, 14);
    run_for(&f, 40);
    retention(&f, 20, 0);
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 14);
    /* a group whose records were removed by age skips them */
    memset(&b, 0, sizeof(b));
    subscribe(&f, &b, "late", 64);
    run_for(&f, 20);
    ASSERT_EQ(b.nseen, 0);
    unsubscribe(&b);
    fx_fini(&f);
}

/* ---- many subscriptions, cache eviction, coalesced progress ---- */

/* A subscriber that checks log order and settles DONE at once. */
struct seq_sub {
    struct sl_backend_sub *sub;
    uint64_t next; /* offset expected next (0: any) */
    int n;
    bool bad;
};

static void on_seq(void *arg, struct sl_backend_sub *sub,
                   const struct sl_record *rec)
{
    struct seq_sub *q = arg;
    struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };
    char id[32];

    snprintf(id, sizeof(id), "e%d", (int)rec->pos.offset);
    if (strcmp(sl_event_id(rec->ev), id) != 0 ||
        (q->next && rec->pos.offset != q->next))
        q->bad = true;
    q->next = rec->pos.offset + 1;
    q->n++;
    ASSERT_OK(sl_backend_settle(sub, rec, &how));
}

struct all_pred {
    struct seq_sub *q;
    int nq, n;
};

static bool all_seen(void *arg)
{
    struct all_pred *a = arg;

    for (int i = 0; i < a->nq; i++)
        if (a->q[i].n < a->n)
            return false;
    return true;
}

static void seq_subscribe(struct fx *f, struct seq_sub *q, const char *group,
                          uint32_t max)
{
    struct sl_backend_sub_opts o = { max };

    ASSERT_OK(sl_backend_subscribe(f->b, group, &o, on_seq, q, &q->sub));
}

/* Rows of 'sql' (a SELECT COUNT) in the broker's file, read directly. */
static int64_t db_count(struct fx *f, const char *sql)
{
    char p[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    snprintf(p, sizeof(p), "%s/broker_default_b1.db", f->dir);
    ASSERT_EQ(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define NSUBS 100

TEST(many_subscriptions_share_records)
{
    struct fx f;
    struct seq_sub *q = sl_xcalloc(NSUBS, sizeof(*q));
    char g[32];

    fx_init(&f);
    for (int i = 0; i < NSUBS; i++) {
        snprintf(g, sizeof(g), "g%d", i);
        seq_subscribe(&f, &q[i], g, 16);
    }
    run_for(&f, 5);
    struct gc_state gc = { .f = &f, .target = 300 };
    for (int i = 0; i < 20; i++)
        gc_issue(&gc);
    wait_for(&f, gc_finished, &gc, 20000);
    ASSERT_EQ(gc.failed, 0);
    struct all_pred a = { q, NSUBS, 300 };
    wait_for(&f, all_seen, &a, 20000);
    for (int i = 0; i < NSUBS; i++) {
        ASSERT(!q[i].bad);
        ASSERT_EQ(q[i].n, 300);
        ASSERT_EQ(q[i].next, 301);
    }
    for (int i = 0; i < NSUBS; i++)
        sl_backend_unsubscribe(q[i].sub);
    fx_restart(&f);
    /* every cursor is past 300 and no DONE row is left */
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM groups WHERE cursor = 301"),
              NSUBS);
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM done"), 0);

    /* after a restart nothing comes again; new records come to all */
    memset(q, 0, NSUBS * sizeof(*q));
    for (int i = 0; i < NSUBS; i++) {
        snprintf(g, sizeof(g), "g%d", i);
        seq_subscribe(&f, &q[i], g, 16);
    }
    run_for(&f, 30);
    for (int i = 0; i < NSUBS; i++)
        ASSERT_EQ(q[i].n, 0);
    append_range(&f, 301, 310);
    a.n = 10;
    wait_for(&f, all_seen, &a, 20000);
    for (int i = 0; i < NSUBS; i++) {
        ASSERT(!q[i].bad);
        ASSERT_EQ(q[i].n, 10);
        sl_backend_unsubscribe(q[i].sub);
    }
    sl_free(q);
    fx_fini(&f);
}

TEST(cache_eviction_reads_behind_the_window)
{
    struct fx f;
    struct rec_sub slow = { 0 };
    struct seq_sub q[2] = { { 0 } };

    fx_init(&f);
    /* 'slow' holds 50 records; q[0] and q[1] are unsubscribed, so all three
     * fall behind while 1,500 records (more than the cache keeps) arrive */
    subscribe(&f, &slow, "slow", 50);
    seq_subscribe(&f, &q[0], "q0", 64);
    seq_subscribe(&f, &q[1], "q1", 7);
    run_for(&f, 5);
    sl_backend_unsubscribe(q[0].sub);
    sl_backend_unsubscribe(q[1].sub);
    struct gc_state gc = { .f = &f, .target = 1500 };
    for (int i = 0; i < 20; i++)
        gc_issue(&gc);
    wait_for(&f, gc_finished, &gc, 30000);
    ASSERT_EQ(gc.failed, 0);
    wait_seen(&f, &slow, 50);
    for (int i = 0; i < 50; i++)
        ASSERT_EQ(slow.seen[i], (uint64_t)i + 1);

    /* the two groups resume from the database, in order, sharing reads */
    memset(q, 0, sizeof(q));
    seq_subscribe(&f, &q[0], "q0", 64);
    seq_subscribe(&f, &q[1], "q1", 7);
    struct all_pred a = { q, 2, 1500 };
    wait_for(&f, all_seen, &a, 30000);
    for (int i = 0; i < 2; i++) {
        ASSERT(!q[i].bad);
        ASSERT_EQ(q[i].n, 1500);
        ASSERT_EQ(q[i].next, 1501);
    }
    /* the held group, 50 at a time, still sees all in order */
    for (int next = 51; next <= 1500; next += 50) {
        slow.nseen = 0;
        settle_held(&slow);
        wait_seen(&f, &slow, 50);
        for (int i = 0; i < 50; i++)
            ASSERT_EQ(slow.seen[i], (uint64_t)(next + i));
    }
    settle_held(&slow);
    unsubscribe(&slow);
    sl_backend_unsubscribe(q[0].sub);
    sl_backend_unsubscribe(q[1].sub);
    fx_fini(&f);
}

/* The writer checkpoints the WAL between transactions (SQLite's own
 * auto-checkpoint is off): ~12 MiB appended in batches leaves a WAL far
 * smaller than that, and every record is still there after a reopen. */
TEST(wal_checkpointed_between_transactions)
{
    struct fx f;
    static char data[4000];
    struct sl_event *evs[50];
    char wal[300];
    struct stat sb;

    fx_init(&f);
    memset(data, 'x', sizeof(data));
    for (int round = 0; round < 60; round++) {
        struct rc_box x = { 0 };
        for (int i = 0; i < 50; i++) {
            evs[i] = mk_event(round * 50 + i + 1);
            sl_event_set_data(evs[i], data, sizeof(data));
        }
        ASSERT_OK(sl_backend_append(f.b, evs, 50, box_done, &x));
        for (int i = 0; i < 50; i++)
            sl_event_unref(evs[i]);
        wait_for(&f, box_ready, &x, 5000);
        ASSERT_OK(x.rc);
        run_for(&f, 2); /* the writer is idle now and then */
    }
    snprintf(wal, sizeof(wal), "%s/broker_default_b1.db-wal", f.dir);
    ASSERT_EQ(stat(wal, &sb), 0);
    ASSERT(sb.st_size < 9 * 1024 * 1024);
    fx_close(&f);
    fx_open(&f);
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM events"), 3000);
    fx_fini(&f);
}

TEST(retry_then_done_in_one_flush_survives_restart)
{
    struct fx f;
    /* seq 2 is retried due at once: pushed again inside the same settle,
     * and settled DONE in the same loop iteration, so its retry row and
     * the DELETE of it go to the writer in one flush */
    struct rec_sub r = { .auto_done = true, .retry_off = 2, .retry_delay = 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    run_for(&f, 5);
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 4);
    ASSERT_EQ(r.seen[2], 2);
    ASSERT_EQ(r.attempts[2], 1);
    unsubscribe(&r);
    fx_restart(&f); /* close commits what was settled */
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM retries"), 0);
    ASSERT_EQ(db_count(&f, "SELECT cursor FROM groups WHERE name = 'g'"), 4);

    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 8);
    run_for(&f, 40);
    ASSERT_EQ(r.nseen, 0);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(out_of_order_done_far_ahead_of_a_retry)
{
    struct fx f;
    /* seq 1 waits for a retry 2 s away while 2..600 are DONE: the
     * cursor stays at 1, DONE seqs above it are kept (and persisted) */
    struct rec_sub r = { .auto_done = true,
                         .retry_off = 1,
                         .retry_delay = 2000 };
    struct sl_event *evs[100];
    struct rc_box x[6] = { { 0 } };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    run_for(&f, 5);
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < 100; i++)
            evs[i] = mk_event(100 * k + i + 1);
        ASSERT_OK(sl_backend_append(f.b, evs, 100, box_done, &x[k]));
        for (int i = 0; i < 100; i++)
            sl_event_unref(evs[i]);
    }
    for (int k = 0; k < 6; k++) {
        wait_for(&f, box_ready, &x[k], 5000);
        ASSERT_OK(x[k].rc);
    }
    wait_seen(&f, &r, 600);
    run_for(&f, 20);
    ASSERT_EQ(r.nseen, 600); /* the retry is not due yet */
    unsubscribe(&r);
    fx_restart(&f);
    ASSERT_EQ(db_count(&f, "SELECT cursor FROM groups WHERE name = 'g'"), 1);
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM done"), 599);

    /* only the retry comes again, when due */
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 1);
    ASSERT_EQ(r.seen[0], 1);
    ASSERT_EQ(r.attempts[0], 1);
    run_for(&f, 30);
    ASSERT_EQ(r.nseen, 1);
    unsubscribe(&r);
    fx_restart(&f);
    ASSERT_EQ(db_count(&f, "SELECT cursor FROM groups WHERE name = 'g'"), 601);
    ASSERT_EQ(db_count(&f, "SELECT COUNT(*) FROM done"), 0);
    fx_fini(&f);
}

TEST_MAIN()
