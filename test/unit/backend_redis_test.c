/*
 * test/unit/backend_redis_test.c - broker/backend.h through the Redis
 * backend against a real redis-server (Debian's /usr/bin/redis-server,
 * required: the tests fail without it) started per test on a free port
 * with AOF fsync always in a temporary directory, killed and reaped at the
 * end (and at exit when a test fails). Covers order, batches, max
 * outstanding, acks, retries (due, persisted across a resubscribe and a
 * new backend instance), entries of a dropped consumer claimed by the next
 * one, the server killed and restarted, entries as plain fields,
 * retention, drop, bad URLs and an unreachable server; a server frozen
 * with SIGSTOP (command timeout: appends fail, health, close), settles
 * made while the server is down, and stream keys of brokers whose names
 * differ only in where the '-' is.
 */
#include "test/unit/check.h"

#include <errno.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/backend.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"

#define REDIS_SERVER  "/usr/bin/redis-server"
#define CLAIM_IDLE_MS 300

/* ---- the server ---- */

static pid_t srv_pid = -1;
static char srv_dir[64];

static int64_t now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof(a)));
    ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &len));
    close(fd);
    return ntohs(a.sin_port);
}

static void srv_kill(int sig)
{
    if (srv_pid <= 0)
        return;
    kill(srv_pid, sig);
    kill(srv_pid, SIGCONT); /* a frozen server must see it */
    while (waitpid(srv_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    srv_pid = -1;
}

/* Remove a directory tree (the server's dir: files and appendonlydir/). */
static int rm_tree(const char *p)
{
    struct stat st;

    if (lstat(p, &st) < 0)
        return -1;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(p);
        struct dirent *de;
        char sub[512];
        if (!d)
            return -1;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof(sub), "%s/%s", p, de->d_name);
            rm_tree(sub);
        }
        closedir(d);
        return rmdir(p);
    }
    return unlink(p);
}

static void at_exit_cleanup(void)
{
    srv_kill(SIGKILL);
    if (srv_dir[0])
        rm_tree(srv_dir);
}

/* A synchronous connection for checks; NULL when the server is not up. */
static redisContext *raw_connect(int port)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

static void srv_start(int port)
{
    char ports[16], logf[128];
    static bool registered;

    ASSERT(access(REDIS_SERVER, X_OK) == 0); /* fail, never skip */
    if (!registered) {
        atexit(at_exit_cleanup);
        registered = true;
    }
    snprintf(ports, sizeof(ports), "%d", port);
    snprintf(logf, sizeof(logf), "%s/redis.log", srv_dir);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        execl(REDIS_SERVER, REDIS_SERVER, "--port", ports, "--bind",
              "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync",
              "always", "--dir", srv_dir, "--logfile", logf, "--daemonize",
              "no", (char *)NULL);
        _exit(127);
    }
    srv_pid = pid;
    int64_t deadline = now_wall() + 10000;
    for (;;) {
        ASSERT(waitpid(pid, NULL, WNOHANG) == 0); /* still running */
        redisContext *c = raw_connect(port);
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        }
        ASSERT(now_wall() < deadline);
        sleep_ms(10);
    }
}

/* ---- fixture ---- */

struct fx {
    struct sl_loop *loop;
    struct sl_backend *b;
    int port;
    char url[64];
    const char *ns;      /* "default" */
    const char *name;    /* "b1" */
    const char *timeout; /* redis.command.timeout.ms, NULL: default */
};

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

static struct json_object *mk_config(const char *url)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "redis.url", json_object_new_string(url));
    json_object_object_add(o, "redis.claim.idle.ms",
                           json_object_new_string("300"));
    return o;
}

/* A backend for f's broker, not opened. */
static void fx_new(struct fx *f)
{
    struct json_object *config = mk_config(f->url);
    if (f->timeout)
        json_object_object_add(config, "redis.command.timeout.ms",
                               json_object_new_string(f->timeout));
    struct sl_backend_cfg cfg = { .loop = f->loop,
                                  .ns = f->ns ? f->ns : "default",
                                  .name = f->name,
                                  .data_dir = "/nonexistent",
                                  .config = config };

    ASSERT_OK(sl_backend_new(&sl_backend_redis, &cfg, &f->b, NULL));
    json_object_put(config);
}

static int fx_try_open(struct fx *f)
{
    struct rc_box x = { 0 };

    fx_new(f);
    sl_backend_open(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 10000);
    return x.rc;
}

static void fx_open(struct fx *f)
{
    ASSERT_OK(fx_try_open(f));
}

static void fx_close(struct fx *f)
{
    struct rc_box x = { 0 };

    sl_backend_close(f->b, box_done, &x);
    wait_for(f, box_ready, &x, 10000);
    ASSERT_OK(x.rc);
    sl_backend_free(f->b);
    f->b = NULL;
}

/* Start a server and open a backend; 'timeout' may be NULL. */
static void fx_init_with(struct fx *f, const char *timeout)
{
    memset(f, 0, sizeof(*f));
    f->name = "b1";
    f->timeout = timeout;
    snprintf(srv_dir, sizeof(srv_dir), "/tmp/sl-redis-XXXXXX");
    ASSERT(mkdtemp(srv_dir) != NULL);
    f->port = free_port();
    snprintf(f->url, sizeof(f->url), "redis://127.0.0.1:%d", f->port);
    srv_start(f->port);
    ASSERT_OK(sl_loop_new(&f->loop));
    fx_open(f);
}

static void fx_init(struct fx *f)
{
    fx_init_with(f, NULL);
}

static void fx_fini(struct fx *f)
{
    if (f->b)
        fx_close(f);
    sl_loop_free(f->loop);
    srv_kill(SIGTERM);
    ASSERT_OK(rm_tree(srv_dir));
    srv_dir[0] = '\0';
}

static void fx_restart(struct fx *f)
{
    fx_close(f);
    fx_open(f);
}

/* A raw command's integer reply (fails the test otherwise). */
static long long raw_int(struct fx *f, const char *fmt, ...)
{
    redisContext *c = raw_connect(f->port);
    va_list ap;

    ASSERT(c != NULL);
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    ASSERT(r != NULL);
    if (r->type != REDIS_REPLY_INTEGER)
        CHECK_FAIL("'%s': not an integer reply (%d %s)", fmt, r->type,
                   r->type == REDIS_REPLY_ERROR ? r->str : "");
    long long v = r->integer;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

/* Entries in the PEL of 'group'. */
static long long raw_pending(struct fx *f, const char *group)
{
    redisContext *c = raw_connect(f->port);

    ASSERT(c != NULL);
    redisReply *r =
        redisCommand(c, "XPENDING knative-broker:default:b1 %s", group);
    ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1);
    long long v = r->element[0]->integer;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

/* Number of consumer groups of the test stream (0 when it is missing). */
static long long raw_groups(struct fx *f)
{
    redisContext *c = raw_connect(f->port);
    long long n = 0;

    ASSERT(c != NULL);
    redisReply *r = redisCommand(c, "XINFO GROUPS knative-broker:default:b1");
    if (r && r->type == REDIS_REPLY_ARRAY)
        n = (long long)r->elements;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return n;
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

#define MAXREC 256

struct rec_sub {
    struct sl_backend_sub *sub;
    int seen[MAXREC]; /* event numbers (id "e<n>") in push order */
    struct sl_pos pos[MAXREC];
    uint32_t attempts[MAXREC];
    int64_t when[MAXREC];
    int nseen;
    const struct sl_record *held[MAXREC];
    int nheld;
    uint32_t max_seen_outstanding;
    bool auto_done;
    int retry_ev; /* settle RETRY once for this event (0 = none) */
    int64_t retry_delay;
    uint32_t retry_attempts;
    bool retried;
    char hdrs[8][256]; /* stored form of the first records' headers */
};

static void on_rec(void *arg, struct sl_backend_sub *sub,
                   const struct sl_record *rec)
{
    struct rec_sub *r = arg;
    const char *id = sl_event_id(rec->ev);

    ASSERT(r->nseen < MAXREC);
    ASSERT_EQ(rec->pos.partition, 0);
    ASSERT(id && id[0] == 'e');
    int n = (int)strtol(id + 1, NULL, 10);
    if (r->nseen < 8) {
        struct sl_buf b;
        sl_buf_init(&b, sizeof(r->hdrs[0]) - 1);
        ASSERT_OK(sl_event_headers_encode(rec->ev, &b));
        snprintf(r->hdrs[r->nseen], sizeof(r->hdrs[0]), "%s", sl_buf_str(&b));
        sl_buf_fini(&b);
    }
    r->seen[r->nseen] = n;
    r->pos[r->nseen] = rec->pos;
    r->attempts[r->nseen] = rec->attempts;
    r->when[r->nseen] = now_wall();
    r->nseen++;
    if (sub->outstanding > r->max_seen_outstanding)
        r->max_seen_outstanding = sub->outstanding;
    if (r->retry_ev == n && !r->retried) {
        struct sl_settle how = { SL_SETTLE_RETRY, now_wall() + r->retry_delay,
                                 r->retry_attempts };
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

TEST(registry_urls_and_unreachable_server)
{
    struct sl_diag d;
    struct json_object *c;
    static const char *const bad[] = {
        "",        "http://h:1",       "redis://",      "redis://h:1/x",
        "redis:h", "redis://user@h:1", "redis://h:1?x", "redis://h:0",
    };

    ASSERT(sl_backend_find("Redis") == &sl_backend_redis);
    memset(&d, 0, sizeof(d));
    ASSERT_EQ(sl_backend_redis.validate(NULL, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "redis.url");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = mk_config(bad[i]);
        memset(&d, 0, sizeof(d));
        if (sl_backend_redis.validate(NULL, c, &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i]);
        ASSERT_STR_EQ(d.field, "redis.url");
        json_object_put(c);
    }
    static const char *const good[] = {
        "redis://h",
        "redis://127.0.0.1:6380/3",
        "redis://:p%40ss@h:1",
        "redis://u:p@[::1]:7/0",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        c = mk_config(good[i]);
        if (sl_backend_redis.validate(NULL, c, NULL) != 0)
            CHECK_FAIL("'%s' refused", good[i]);
        json_object_put(c);
    }

    /* init refuses a bad URL */
    struct fx f;
    memset(&f, 0, sizeof(f));
    ASSERT_OK(sl_loop_new(&f.loop));
    c = mk_config("redis://h:1/nope");
    struct sl_backend_cfg cfg = { .loop = f.loop,
                                  .ns = "default",
                                  .name = "b1",
                                  .data_dir = "/nonexistent",
                                  .config = c };
    memset(&d, 0, sizeof(d));
    ASSERT_EQ(sl_backend_new(&sl_backend_redis, &cfg, &f.b, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "redis.url");
    ASSERT(f.b == NULL);
    json_object_put(c);

    /* nobody listens: open fails with SL_EIO, close and free still work */
    f.name = "b1";
    snprintf(f.url, sizeof(f.url), "redis://127.0.0.1:%d", free_port());
    ASSERT_EQ(fx_try_open(&f), SL_EIO);
    struct sl_event *ev = mk_event(1);
    ASSERT_EQ(sl_backend_append(f.b, &ev, 1, box_done, NULL), SL_EAGAIN);
    sl_event_unref(ev);
    fx_close(&f);
    sl_loop_free(f.loop);
}

TEST(append_subscribe_order_and_fields)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };

    fx_init(&f);
    /* no wait: the group is created before any later append */
    subscribe(&f, &r, "knative-trigger-default-t1", 64);
    int64_t t0 = now_wall();
    append_range(&f, 1, 5);
    struct sl_event *evs[2] = { mk_event(6), mk_event(7) };
    ASSERT_OK(sl_event_set_str(evs[0], "time", "2026-01-02T03:04:05Z", NULL));
    ASSERT_OK(sl_event_set_int(evs[0], "knativebrokerttl", 255, NULL));
    struct rc_box x = { 0 };
    ASSERT_OK(sl_backend_append(f.b, evs, 2, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_event_unref(evs[0]);
    sl_event_unref(evs[1]);
    wait_seen(&f, &r, 7);
    for (int i = 0; i < 7; i++) {
        ASSERT_EQ(r.seen[i], i + 1);
        ASSERT_EQ(r.attempts[i], 0);
        if (i > 0)
            ASSERT(sl_pos_cmp(&r.pos[i - 1], &r.pos[i]) < 0);
    }
    ASSERT((int64_t)r.pos[0].offset >= t0 - 1000);
    ASSERT((int64_t)r.pos[0].offset <= now_wall() + 1000);
    struct sl_backend_stats st;
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.appends, 6);
    ASSERT_EQ(st.events, 7);
    ASSERT_EQ(st.transactions, 6);

    /* the entries are plain fields */
    redisContext *c = raw_connect(f.port);
    ASSERT(c != NULL);
    redisReply *rp = redisCommand(c, "XRANGE knative-broker:default:b1 - +");
    ASSERT(rp && rp->type == REDIS_REPLY_ARRAY);
    ASSERT_EQ(rp->elements, 7);
    redisReply *e6 = rp->element[5]->element[1];
    int found = 0;
    for (size_t i = 0; i + 1 < e6->elements; i += 2) {
        const char *k = e6->element[i]->str, *v = e6->element[i + 1]->str;
        if (strcmp(k, "id") == 0 && strcmp(v, "e6") == 0)
            found++;
        if (strcmp(k, "type") == 0 && strcmp(v, "t.test") == 0)
            found++;
        if (strcmp(k, "specversion") == 0 && strcmp(v, "1.0") == 0)
            found++;
        if (strcmp(k, "data") == 0 && strcmp(v, "e6") == 0)
            found++;
        if (strcmp(k, "knativebrokerttl") == 0 && strcmp(v, "255") == 0)
            found++;
        if (strcmp(k, "time") == 0 && strcmp(v, "2026-01-02T03:04:05Z") == 0)
            found++;
    }
    ASSERT_EQ(found, 6);
    freeReplyObject(rp);
    /* an entry written by hand is read as an event; one that is not an
     * event is acknowledged and skipped */
    rp =
        redisCommand(c, "XADD knative-broker:default:b1 * specversion 1.0 id e8"
                        " source /hand type t.hand");
    freeReplyObject(rp);
    rp = redisCommand(c, "XADD knative-broker:default:b1 * junk 1");
    freeReplyObject(rp);
    rp =
        redisCommand(c, "XADD knative-broker:default:b1 * specversion 1.0 id e9"
                        " source /hand type t.hand time 2026-01-02T03:04:05Z");
    freeReplyObject(rp);
    redisFree(c);
    wait_seen(&f, &r, 9);
    ASSERT_EQ(r.seen[7], 8);
    ASSERT_EQ(r.seen[8], 9);
    run_for(&f, 50);
    ASSERT_EQ(raw_pending(&f, "knative-trigger-default-t1"), 0);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(headers_in_one_field_across_restart)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };
    struct sl_event *evs[2] = { mk_event(1), mk_event(2) };
    struct rc_box x = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 64); /* creates the group before the appends */
    for (int i = 0; i < 500 && raw_groups(&f) == 0; i++)
        run_for(&f, 10);
    ASSERT_EQ(raw_groups(&f), 1);
    unsubscribe(&r);
    ASSERT_OK(sl_event_header_add(evs[0], "X-Request-Id", "r1"));
    ASSERT_OK(sl_event_header_add(evs[0], "Knative-Foo", "a: b"));
    ASSERT_OK(sl_backend_append(f.b, evs, 2, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    sl_event_unref(evs[0]);
    sl_event_unref(evs[1]);

    /* One field the attributes cannot clash with; none without headers. */
    redisContext *c = raw_connect(f.port);
    ASSERT(c != NULL);
    redisReply *rp = redisCommand(c, "XRANGE knative-broker:default:b1 - +");
    ASSERT(rp && rp->type == REDIS_REPLY_ARRAY && rp->elements == 2);
    for (size_t e = 0; e < 2; e++) {
        redisReply *fl = rp->element[e]->element[1];
        int n = 0;
        for (size_t i = 0; i + 1 < fl->elements; i += 2) {
            if (strcmp(fl->element[i]->str, "sluice:headers") != 0)
                continue;
            n++;
            ASSERT_STR_EQ(fl->element[i + 1]->str,
                          "X-Request-Id:r1\nKnative-Foo:a: b\n");
        }
        ASSERT_EQ(n, e == 0 ? 1 : 0);
    }
    freeReplyObject(rp);
    /* Headers that do not decode cost the headers, not the event. */
    rp = redisCommand(c,
                      "XADD knative-broker:default:b1 * specversion 1.0"
                      " id e3 source /hand type t.hand sluice:headers %s",
                      "no-newline:x");
    freeReplyObject(rp);
    redisFree(c);

    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    wait_seen(&f, &r, 3);
    ASSERT_EQ(r.seen[0], 1);
    ASSERT_STR_EQ(r.hdrs[0], "X-Request-Id:r1\nKnative-Foo:a: b\n");
    ASSERT_STR_EQ(r.hdrs[1], "");
    ASSERT_EQ(r.seen[2], 3);
    ASSERT_STR_EQ(r.hdrs[2], "");
    unsubscribe(&r);
    fx_fini(&f);
}

struct type_check {
    bool done;
    bool ok;
};

static void on_typed(void *arg, struct sl_backend_sub *sub,
                     const struct sl_record *rec)
{
    struct type_check *t = arg;
    const struct sl_ce_attr *time = sl_event_get(rec->ev, "time");
    const struct sl_ce_attr *ttl = sl_event_get(rec->ev, "knativebrokerttl");

    t->ok = time && time->type == SL_CE_TIME && ttl &&
            ttl->type == SL_CE_STRING && strcmp(ttl->value, "7") == 0 &&
            rec->ev->has_data && rec->ev->data_len == 0;
    t->done = true;
    struct sl_settle how = { SL_SETTLE_DONE, 0, 0 };
    ASSERT_OK(sl_backend_settle(sub, rec, &how));
}

static bool typed_ready(void *arg)
{
    return ((struct type_check *)arg)->done;
}

TEST(types_come_back_as_in_binary_mode)
{
    struct fx f;
    struct type_check t = { 0 };
    struct sl_backend_sub *sub;

    fx_init(&f);
    ASSERT_OK(sl_backend_subscribe(f.b, "g", NULL, on_typed, &t, &sub));
    struct sl_event *ev = mk_event(1);
    ASSERT_OK(sl_event_set_str(ev, "time", "2026-01-02T03:04:05Z", NULL));
    ASSERT_OK(sl_event_set_int(ev, "knativebrokerttl", 7, NULL));
    sl_event_set_data(ev, "", 0); /* zero-length data stays data */
    struct rc_box x = { 0 };
    ASSERT_OK(sl_backend_append(f.b, &ev, 1, box_done, &x));
    sl_event_unref(ev);
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    wait_for(&f, typed_ready, &t, 5000);
    ASSERT(t.ok);
    sl_backend_unsubscribe(sub);
    fx_fini(&f);
}

TEST(batches_all_or_nothing_and_limits)
{
    struct fx f;

    fx_init(&f);
    struct sl_event *evs[3] = { mk_event(1), mk_event(2), mk_event(3) };
    ASSERT_EQ(sl_backend_append(f.b, evs, 0, box_done, NULL), SL_EINVAL);
    /* one event over the limit: nothing is appended */
    char big[2048];
    memset(big, 'x', sizeof(big));
    struct sl_event *huge = mk_event(4);
    sl_event_set_data(huge, big, sizeof(big));
    fx_close(&f);
    struct json_object *config = mk_config(f.url);
    struct sl_backend_cfg cfg = { .loop = f.loop,
                                  .ns = "default",
                                  .name = "b1",
                                  .data_dir = "/nonexistent",
                                  .limits = { .max_event_size = 1024,
                                              .max_batch = 3 },
                                  .config = config };
    ASSERT_OK(sl_backend_new(&sl_backend_redis, &cfg, &f.b, NULL));
    json_object_put(config);
    struct rc_box x = { 0 };
    sl_backend_open(f.b, box_done, &x);
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    struct sl_event *mixed[2] = { evs[0], huge };
    ASSERT_EQ(sl_backend_append(f.b, mixed, 2, box_done, NULL), SL_ETOOBIG);
    struct sl_event *four[4] = { evs[0], evs[1], evs[2], evs[0] };
    ASSERT_EQ(sl_backend_append(f.b, four, 4, box_done, NULL), SL_EINVAL);
    ASSERT_EQ(raw_int(&f, "EXISTS knative-broker:default:b1"), 0);

    /* a batch is one transaction */
    memset(&x, 0, sizeof(x));
    ASSERT_OK(sl_backend_append(f.b, evs, 3, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 3);

    /* a server-side failure fails the whole append: the key of another
     * broker holds a string, so its XADDs fail inside EXEC */
    ASSERT_EQ(raw_int(&f, "APPEND knative-broker:default:b2 x"), 1);
    fx_close(&f);
    f.name = "b2";
    fx_open(&f);
    memset(&x, 0, sizeof(x));
    ASSERT_OK(sl_backend_append(f.b, evs, 3, box_done, &x));
    wait_for(&f, box_ready, &x, 5000);
    ASSERT_EQ(x.rc, SL_EIO);
    struct sl_backend_stats st;
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.appends, 0);
    for (int i = 0; i < 3; i++)
        sl_event_unref(evs[i]);
    sl_event_unref(huge);
    fx_fini(&f);
}

TEST(order_and_max_outstanding)
{
    struct fx f;
    struct rec_sub r = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 3);
    append_range(&f, 1, 10);
    wait_seen(&f, &r, 3);
    run_for(&f, 100);
    ASSERT_EQ(r.nseen, 3);
    ASSERT_EQ(r.nheld, 3);
    while (r.nseen < 10) {
        int before = r.nseen;
        settle_held(&r);
        wait_seen(&f, &r, before + 1);
        run_for(&f, 20);
    }
    settle_held(&r);
    ASSERT_EQ(r.max_seen_outstanding, 3);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(r.seen[i], i + 1);
    run_for(&f, 50);
    ASSERT_EQ(r.nseen, 10);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(done_is_final_across_resubscribe_and_restart)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    append_range(&f, 1, 5);
    wait_seen(&f, &r, 5);
    run_for(&f, 50);
    unsubscribe(&r);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 5);

    /* a new consumer of the group: nothing comes back, even after the
     * claim threshold */
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    run_for(&f, 3 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 0);
    unsubscribe(&r);
    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 64);
    run_for(&f, 3 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 0);
    append_range(&f, 6, 6);
    wait_seen(&f, &r, 1);
    ASSERT_EQ(r.seen[0], 6);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(retry_when_due_and_after_resubscribe)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true,
                         .retry_ev = 2,
                         .retry_delay = 150,
                         .retry_attempts = 1 };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    int64_t t0 = now_wall();
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 4);
    ASSERT_EQ(r.seen[3], 2);
    ASSERT_EQ(r.attempts[3], 1);
    ASSERT(r.when[3] - t0 >= 150);
    run_for(&f, 50);
    ASSERT_EQ(r.nseen, 4);
    unsubscribe(&r);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 0);
    ASSERT_EQ(raw_int(&f, "HLEN knative-broker:default:b1:attempts:g"), 0);

    /* a retry persisted, then a new backend instance and subscription */
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    r.retry_ev = 5;
    r.retry_delay = 400;
    r.retry_attempts = 3;
    subscribe(&f, &r, "g", 8);
    append_range(&f, 4, 6);
    wait_seen(&f, &r, 3);
    int64_t nb = r.when[1] + 400;
    run_for(&f, 30);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 1);
    unsubscribe(&r);
    fx_restart(&f);
    memset(&r, 0, sizeof(r));
    r.auto_done = true;
    subscribe(&f, &r, "g", 8);
    wait_seen(&f, &r, 1);
    ASSERT_EQ(r.seen[0], 5);
    ASSERT_EQ(r.attempts[0], 3);
    ASSERT(r.when[0] >= nb - 5);
    run_for(&f, 2 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 1);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 0);
    ASSERT_EQ(raw_int(&f, "HLEN knative-broker:default:b1:attempts:g"), 0);
    ASSERT_EQ(raw_pending(&f, "g"), 0);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(unsubscribe_releases_to_the_next_consumer)
{
    struct fx f;
    struct rec_sub r = { 0 };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    append_range(&f, 1, 4);
    wait_seen(&f, &r, 4);
    /* settle e1 only; e2..e4 are released */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    ASSERT_OK(sl_backend_settle(r.sub, r.held[0], &done));
    unsubscribe(&r);
    int64_t t0 = now_wall();

    memset(&r, 0, sizeof(r));
    subscribe(&f, &r, "g", 2); /* claimed entries respect the limit too */
    wait_seen(&f, &r, 2);
    ASSERT(r.when[0] - t0 >= CLAIM_IDLE_MS - 50);
    run_for(&f, 2 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 2);
    r.auto_done = true;
    settle_held(&r);
    wait_seen(&f, &r, 3);
    ASSERT_EQ(r.max_seen_outstanding, 2);
    ASSERT_EQ(r.seen[0], 2);
    ASSERT_EQ(r.seen[1], 3);
    ASSERT_EQ(r.seen[2], 4);
    run_for(&f, 3 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 3);
    ASSERT_EQ(raw_pending(&f, "g"), 0);
    unsubscribe(&r);
    fx_fini(&f);
}

struct again_pred {
    struct fx *f;
    int want; /* SL_EAGAIN: refused now; 0: accepted and done(0) */
    int n;    /* event number to use */
    struct rc_box x;
    bool busy;
    int acked[64]; /* events acknowledged with done(0) */
    int nacked;
};

/* Keep appending until the outcome is 'want'. */
static bool again_tick(void *arg)
{
    struct again_pred *p = arg;

    if (p->busy) {
        if (!p->x.done)
            return false;
        p->busy = false;
        if (p->x.rc == 0 && p->nacked < 64)
            p->acked[p->nacked++] = p->n;
        if (p->want == 0 && p->x.rc == 0)
            return true;
    }
    struct sl_event *ev = mk_event(++p->n);
    memset(&p->x, 0, sizeof(p->x));
    int rc = sl_backend_append(p->f->b, &ev, 1, box_done, &p->x);
    sl_event_unref(ev);
    if (rc == 0) {
        p->busy = true;
        return false;
    }
    ASSERT_EQ(rc, SL_EAGAIN);
    return p->want == SL_EAGAIN;
}

TEST(server_killed_then_restarted)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };

    fx_init(&f);
    subscribe(&f, &r, "g", 64);
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 3);
    run_for(&f, 50);

    srv_kill(SIGKILL);
    struct again_pred p = { .f = &f, .want = SL_EAGAIN, .n = 100 };
    wait_for(&f, again_tick, &p, 5000);
    /* in-flight appends failed or were refused; none is lost if acked */
    while (p.busy) {
        wait_for(&f, box_ready, &p.x, 5000);
        p.busy = false;
        if (p.x.rc == 0)
            p.acked[p.nacked++] = p.n;
    }

    srv_start(f.port);
    p.want = 0;
    wait_for(&f, again_tick, &p, 15000);
    append_range(&f, 4, 5);
    /* the reader reconnected: e4 and e5 arrive */
    int64_t deadline = now_wall() + 15000;
    for (;;) {
        bool have4 = false, have5 = false;
        for (int i = 0; i < r.nseen; i++) {
            have4 |= r.seen[i] == 4;
            have5 |= r.seen[i] == 5;
        }
        if (have4 && have5)
            break;
        ASSERT(now_wall() < deadline);
        run_for(&f, 20);
    }
    /* every acknowledged append is in the stream; e1..e3 were DONE
     * before the crash and do not come again */
    redisContext *rc = raw_connect(f.port);
    ASSERT(rc != NULL);
    redisReply *rp = redisCommand(rc, "XRANGE knative-broker:default:b1 - +");
    ASSERT(rp && rp->type == REDIS_REPLY_ARRAY);
    for (int want = 1; want <= 5; want++) {
        bool found = false;
        char id[16];
        snprintf(id, sizeof(id), "e%d", want);
        for (size_t i = 0; i < rp->elements; i++) {
            redisReply *fl = rp->element[i]->element[1];
            for (size_t j = 0; j + 1 < fl->elements; j += 2)
                if (strcmp(fl->element[j]->str, "id") == 0 &&
                    strcmp(fl->element[j + 1]->str, id) == 0)
                    found = true;
        }
        ASSERT(found);
    }
    for (int k = 0; k < p.nacked; k++) {
        bool found = false;
        char id[16];
        snprintf(id, sizeof(id), "e%d", p.acked[k]);
        for (size_t i = 0; i < rp->elements; i++) {
            redisReply *fl = rp->element[i]->element[1];
            for (size_t j = 0; j + 1 < fl->elements; j += 2)
                if (strcmp(fl->element[j]->str, "id") == 0 &&
                    strcmp(fl->element[j + 1]->str, id) == 0)
                    found = true;
        }
        ASSERT(found);
    }
    freeReplyObject(rp);
    redisFree(rc);
    for (int i = 0; i < r.nseen; i++)
        for (int j = i + 1; j < r.nseen; j++)
            ASSERT(!(r.seen[i] <= 3 && r.seen[i] == r.seen[j]));
    unsubscribe(&r);
    fx_fini(&f);
}

static void retention(struct fx *f, int64_t age, uint64_t bytes)
{
    struct rc_box x = { 0 };

    sl_backend_retention(f->b, age, bytes, box_done, &x);
    wait_for(f, box_ready, &x, 5000);
    ASSERT_OK(x.rc);
}

TEST(retention_groups_age_and_size)
{
    struct fx f;
    struct rec_sub a = { .auto_done = true };
    struct rec_sub b = { 0 };
    struct sl_backend_stats st;

    fx_init(&f);
    retention(&f, 0, 0); /* no stream yet */
    subscribe(&f, &a, "a", 64);
    subscribe(&f, &b, "b", 64);
    append_range(&f, 1, 4);
    wait_seen(&f, &a, 4);
    wait_seen(&f, &b, 4);
    run_for(&f, 30);
    /* b holds everything: nothing passed by every group */
    retention(&f, 0, 0);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 4);
    /* b settles e1, e2: those go */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    ASSERT_OK(sl_backend_settle(b.sub, b.held[0], &done));
    ASSERT_OK(sl_backend_settle(b.sub, b.held[1], &done));
    run_for(&f, 30);
    retention(&f, 0, 0);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 2);
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 2);
    unsubscribe(&a);
    unsubscribe(&b);

    /* age and size apply whatever the groups */
    append_range(&f, 5, 6);
    run_for(&f, 60);
    append_range(&f, 7, 8);
    retention(&f, 40, 0);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 2);
    /* the newest entry's fields fit; two do not */
    struct sl_event *ev = mk_event(8);
    uint64_t one = sl_event_size(ev);
    sl_event_unref(ev);
    retention(&f, 0, one + 1);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 1);
    retention(&f, 0, 1);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:default:b1"), 0);
    sl_backend_stats(f.b, &st);
    ASSERT_EQ(st.removed, 8);
    fx_fini(&f);
}

TEST(drop_removes_stream_and_retry_keys)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true,
                         .retry_ev = 1,
                         .retry_delay = 60000,
                         .retry_attempts = 1 };

    fx_init(&f);
    subscribe(&f, &r, "g", 8);
    append_range(&f, 1, 2);
    wait_seen(&f, &r, 2);
    run_for(&f, 30);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 1);
    ASSERT_EQ(sl_backend_drop(f.b, NULL), SL_EBUSY);
    unsubscribe(&r);
    fx_close(&f);
    struct json_object *config = mk_config(f.url);
    struct sl_backend_cfg cfg = { .loop = f.loop,
                                  .ns = "default",
                                  .name = "b1",
                                  .data_dir = "/nonexistent",
                                  .config = config };
    ASSERT_OK(sl_backend_new(&sl_backend_redis, &cfg, &f.b, NULL));
    json_object_put(config);
    ASSERT_OK(sl_backend_drop(f.b, NULL));
    sl_backend_free(f.b);
    f.b = NULL;
    ASSERT_EQ(raw_int(&f, "EXISTS knative-broker:default:b1"), 0);
    ASSERT_EQ(raw_int(&f, "EXISTS knative-broker:default:b1:retries:g"), 0);
    ASSERT_EQ(raw_int(&f, "EXISTS knative-broker:default:b1:attempts:g"), 0);
    fx_fini(&f);
}

struct health_pred {
    struct fx *f;
    bool want_ok;
    struct sl_diag why;
};

static bool health_is(void *arg)
{
    struct health_pred *h = arg;

    memset(&h->why, 0, sizeof(h->why));
    int rc = sl_backend_health(h->f->b, &h->why);
    return h->want_ok ? rc == 0 : rc != 0;
}

struct seen_pred {
    struct rec_sub *r;
    int n;
};

static bool has_seen(void *arg)
{
    struct seen_pred *p = arg;

    for (int i = 0; i < p->r->nseen; i++)
        if (p->r->seen[i] == p->n)
            return true;
    return false;
}

TEST(frozen_server_times_out_appends_health_and_close)
{
    struct fx f;
    struct rec_sub r = { .auto_done = true };
    struct health_pred h = { 0 };
    struct rc_box x = { 0 }, closed = { 0 };

    fx_init_with(&f, "500");
    h.f = &f;
    subscribe(&f, &r, "g", 8);
    append_range(&f, 1, 2);
    wait_seen(&f, &r, 2);
    ASSERT_OK(sl_backend_health(f.b, NULL));

    /* frozen: the append is taken (the writer looks fine), then fails
     * once the command timeout passes, and the health says why */
    ASSERT_OK(kill(srv_pid, SIGSTOP));
    struct sl_event *ev = mk_event(3);
    int64_t t0 = now_wall();
    ASSERT_OK(sl_backend_append(f.b, &ev, 1, box_done, &x));
    sl_event_unref(ev);
    wait_for(&f, box_ready, &x, 3000);
    ASSERT_EQ(x.rc, SL_EIO);
    ASSERT(now_wall() - t0 >= 450);
    wait_for(&f, health_is, &h, 3000);
    ASSERT(strstr(h.why.msg, "does not answer") != NULL);
    /* reconnect attempts time out as well: still unhealthy, appends
     * refused at once */
    run_for(&f, 1200);
    ASSERT_EQ(sl_backend_health(f.b, &h.why), SL_EIO);
    ASSERT(strstr(h.why.msg, "does not answer") != NULL);
    ev = mk_event(4);
    ASSERT_EQ(sl_backend_append(f.b, &ev, 1, box_done, &x), SL_EAGAIN);
    sl_event_unref(ev);

    /* thawed: writer and reader come back */
    ASSERT_OK(kill(srv_pid, SIGCONT));
    h.want_ok = true;
    wait_for(&f, health_is, &h, 10000);
    append_range(&f, 5, 5);
    struct seen_pred sp = { &r, 5 };
    wait_for(&f, has_seen, &sp, 10000);
    unsubscribe(&r);

    /* close while a reply is pending from a frozen server: ends within
     * the timeout, the append fails */
    ASSERT_OK(kill(srv_pid, SIGSTOP));
    memset(&x, 0, sizeof(x));
    ev = mk_event(6);
    ASSERT_OK(sl_backend_append(f.b, &ev, 1, box_done, &x));
    sl_event_unref(ev);
    sl_backend_close(f.b, box_done, &closed);
    wait_for(&f, box_ready, &closed, 3000);
    ASSERT_OK(closed.rc);
    ASSERT(x.done);
    ASSERT_EQ(x.rc, SL_EIO);
    sl_backend_free(f.b);
    f.b = NULL;
    ASSERT_OK(kill(srv_pid, SIGCONT));
    fx_fini(&f);
}

TEST(settles_while_the_server_is_down_are_written_later)
{
    struct fx f;
    struct rec_sub r = { 0 };
    struct health_pred h = { 0 };
    char id2[64];

    fx_init(&f);
    h.f = &f;
    subscribe(&f, &r, "g", 8);
    append_range(&f, 1, 3);
    wait_seen(&f, &r, 3);
    run_for(&f, 30);
    ASSERT_EQ(raw_pending(&f, "g"), 3);
    snprintf(id2, sizeof(id2), "%llu-%llu", (unsigned long long)r.pos[1].offset,
             (unsigned long long)r.pos[1].sub);

    srv_kill(SIGKILL);
    wait_for(&f, health_is, &h, 5000);
    /* DONE e1, RETRY e2 while the writer is down; e3 stays held */
    struct sl_settle done = { SL_SETTLE_DONE, 0, 0 };
    struct sl_settle retry = { SL_SETTLE_RETRY, now_wall() + 300, 2 };
    ASSERT_OK(sl_backend_settle(r.sub, r.held[0], &done));
    ASSERT_OK(sl_backend_settle(r.sub, r.held[1], &retry));
    const struct sl_record *e3 = r.held[2];
    r.nheld = 0;
    run_for(&f, 50);

    srv_start(f.port);
    h.want_ok = true;
    wait_for(&f, health_is, &h, 15000);
    /* e2 comes back when due; its bookkeeping reached Redis */
    wait_seen(&f, &r, 4);
    ASSERT_EQ(r.seen[3], 2);
    ASSERT_EQ(r.attempts[3], 2);
    run_for(&f, 50);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 1);
    ASSERT_EQ(
        raw_int(&f, "HEXISTS knative-broker:default:b1:attempts:g %s", id2), 1);
    /* e1's XACK reached Redis: e1 is not pending and never comes again,
     * even after the claim idle time */
    ASSERT_EQ(raw_pending(&f, "g"), 2);
    run_for(&f, 3 * CLAIM_IDLE_MS);
    ASSERT_EQ(r.nseen, 4);

    ASSERT_OK(sl_backend_settle(r.sub, e3, &done));
    settle_held(&r);
    run_for(&f, 50);
    ASSERT_EQ(raw_pending(&f, "g"), 0);
    ASSERT_EQ(raw_int(&f, "ZCARD knative-broker:default:b1:retries:g"), 0);
    ASSERT_EQ(raw_int(&f, "HLEN knative-broker:default:b1:attempts:g"), 0);
    unsubscribe(&r);
    fx_fini(&f);
}

TEST(stream_keys_of_similar_names_differ)
{
    struct fx f;

    fx_init(&f);
    fx_close(&f);
    /* "a-b"/"c" and "a"/"b-c" once shared knative-broker-a-b-c */
    f.ns = "a-b";
    f.name = "c";
    fx_open(&f);
    append_range(&f, 1, 2);
    fx_close(&f);
    f.ns = "a";
    f.name = "b-c";
    fx_open(&f);
    append_range(&f, 3, 3);
    fx_close(&f);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:a-b:c"), 2);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:a:b-c"), 1);
    /* dropping one leaves the other alone */
    fx_new(&f);
    ASSERT_OK(sl_backend_drop(f.b, NULL));
    sl_backend_free(f.b);
    f.b = NULL;
    ASSERT_EQ(raw_int(&f, "EXISTS knative-broker:a:b-c"), 0);
    ASSERT_EQ(raw_int(&f, "XLEN knative-broker:a-b:c"), 2);
    fx_fini(&f);
}

TEST_MAIN()
