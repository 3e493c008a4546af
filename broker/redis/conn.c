/*
 * broker/redis/conn.c - the redis:// URL, and a reconnecting hiredis
 * connection driven by sluice's loop.
 *
 * The adapter. hiredis' async API asks its event library to watch the
 * socket through ev.addRead/delRead/addWrite/delWrite and tells it to
 * stop with ev.cleanup; here one sl_io per redisAsyncContext (a "link")
 * carries the wanted bits. hiredis frees a context by itself when the
 * connection fails or closes (after running every pending reply callback
 * with a NULL reply, then ev.cleanup); when we free it (redisAsyncFree)
 * from inside one of its own callbacks, it defers the free until that
 * callback returns. So a link is freed in ev.cleanup, except while its
 * io callback is on the stack: then the io callback frees it once hiredis
 * returns. A link whose owner is NULL was abandoned on purpose (stop) and
 * reports nothing.
 *
 * Timeouts. hiredis 0.14's async API has none, so every command goes
 * through one trampoline callback (link_reply) and the link keeps a FIFO
 * of what was sent, with the send time: replies come back in order, so
 * the head of the FIFO is the oldest command still waiting. A repeating
 * timer (conn_watch) drops the link when that command has waited longer
 * than the connection's timeout; the handshake (queued at connect time)
 * is covered the same way, so a connect that never completes times out
 * too.
 */
#include "broker/redis/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/pct.h"
#include "core/str.h"
#include "core/url.h"

#define CONN_BACKOFF_MIN_MS 100
#define CONN_BACKOFF_MAX_MS 5000
#define CONN_WATCH_MS       250 /* how often the oldest command is checked */

/* ---- URL ---- */

static int url_decode(const char *s, size_t n, char **out, struct sl_diag *diag)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, 4096);
    rc = sl_pct_decode(s, n, false, &b, NULL);
    if (rc < 0) {
        sl_buf_fini(&b);
        return sl_diag_set(diag, SL_EINVAL, "redis.url",
                           "invalid redis.url: bad escape in user info");
    }
    *out = sl_buf_steal(&b, NULL);
    return 0;
}

int sl__redis_url_parse(const char *s, struct sl__redis_url *out,
                        struct sl_diag *diag)
{
    struct sl_url u;
    struct sl_diag d;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    memset(&u, 0, sizeof(u));
    if (!s || !*s)
        return sl_diag_set(diag, SL_EINVAL, "redis.url",
                           "missing redis.url (redis://host:port[/db])");
    if (sl_url_parse(s, &u, &d) < 0) {
        rc = sl_diag_set(diag, SL_EINVAL, "redis.url", "invalid redis.url: %s",
                         d.msg);
        goto out;
    }
    if (!u.scheme || strcmp(u.scheme, "redis") != 0 || !u.host || !*u.host) {
        rc = sl_diag_set(diag, SL_EINVAL, "redis.url",
                         "invalid redis.url '%s': want redis://host[:port]"
                         "[/db]",
                         s);
        goto out;
    }
    if (u.query || u.fragment || u.port == 0) {
        rc = sl_diag_set(diag, SL_EINVAL, "redis.url",
                         "invalid redis.url '%s': no query, fragment or "
                         "port 0 allowed",
                         s);
        goto out;
    }
    size_t hl = strlen(u.host);
    if (u.host[0] == '[')
        out->host = sl_xstrndup(u.host + 1, hl >= 2 ? hl - 2 : 0);
    else
        out->host = sl_xstrdup(u.host);
    out->port = u.port < 0 ? 6379 : u.port;
    if (u.userinfo) {
        const char *colon = strchr(u.userinfo, ':');
        if (!colon) {
            rc = sl_diag_set(diag, SL_EINVAL, "redis.url",
                             "invalid redis.url: user info must be "
                             "[user]:password");
            goto out;
        }
        if (colon > u.userinfo &&
            (rc = url_decode(u.userinfo, (size_t)(colon - u.userinfo),
                             &out->user, diag)) < 0)
            goto out;
        if ((rc = url_decode(colon + 1, strlen(colon + 1), &out->pass, diag)) <
            0)
            goto out;
    }
    if (u.path && *u.path && strcmp(u.path, "/") != 0) {
        int64_t db;
        if (sl_str_to_i64(u.path + 1, strlen(u.path + 1), false, 0, 1 << 20,
                          &db) < 0) {
            rc = sl_diag_set(diag, SL_EINVAL, "redis.url",
                             "invalid redis.url: the path must be a "
                             "database number, not '%s'",
                             u.path);
            goto out;
        }
        out->db = (int)db;
    }
out:
    sl_url_fini(&u);
    return rc;
}

void sl__redis_url_fini(struct sl__redis_url *u)
{
    sl_free(u->host);
    sl_free(u->user);
    sl_free(u->pass);
    memset(u, 0, sizeof(*u));
}

/* ---- argv ---- */

void sl__redis_argv_init(struct sl__redis_argv *a)
{
    memset(a, 0, sizeof(*a));
}

void sl__redis_argv_add(struct sl__redis_argv *a, const char *s, size_t n)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->v = sl_xrealloc(a->v, (size_t)a->cap * sizeof(*a->v));
        a->len = sl_xrealloc(a->len, (size_t)a->cap * sizeof(*a->len));
    }
    a->v[a->n] = s;
    a->len[a->n] = n;
    a->n++;
}

void sl__redis_argv_adds(struct sl__redis_argv *a, const char *s)
{
    sl__redis_argv_add(a, s, strlen(s));
}

void sl__redis_argv_addf(struct sl__redis_argv *a, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    char *s = sl_xstrdup(tmp);
    a->owned = sl_xrealloc(a->owned, (size_t)(a->nowned + 1) * sizeof(char *));
    a->owned[a->nowned++] = s;
    sl__redis_argv_adds(a, s);
}

void sl__redis_argv_take(struct sl__redis_argv *a, char *s, size_t n)
{
    a->owned = sl_xrealloc(a->owned, (size_t)(a->nowned + 1) * sizeof(char *));
    a->owned[a->nowned++] = s;
    sl__redis_argv_add(a, s, n);
}

void sl__redis_argv_fini(struct sl__redis_argv *a)
{
    for (int i = 0; i < a->nowned; i++)
        sl_free(a->owned[i]);
    sl_free(a->owned);
    sl_free(a->v);
    sl_free(a->len);
    memset(a, 0, sizeof(*a));
}

/* ---- the loop adapter ---- */

/* A command sent and not answered yet. */
struct link_cmd {
    redisCallbackFn *fn; /* NULL: reply ignored */
    void *privdata;
    int64_t sent_ms; /* sl_loop_now_ms when queued */
};

struct sl__redis_link {
    redisAsyncContext *ac;
    struct sl_io *io;
    unsigned want;
    struct sl__redis_conn *owner; /* NULL once abandoned */
    bool in_io;                   /* link_io on the stack */
    bool gone;                    /* hiredis freed the context meanwhile */
    bool auth_failed;             /* a handshake reply was an error */
    bool up;                      /* handshake answered */
    struct link_cmd *q;           /* ring of pending commands, in order */
    size_t qhead, qlen, qcap;
};

static void conn_lost(struct sl__redis_conn *c);

static void link_set(struct sl__redis_link *l, unsigned bit, bool on)
{
    unsigned w = on ? (l->want | bit) : (l->want & ~bit);

    if (w == l->want || !l->io)
        return;
    l->want = w;
    sl_io_set(l->io, w);
}

static void ev_add_read(void *p)
{
    link_set(p, SL_IO_READ, true);
}

static void ev_del_read(void *p)
{
    link_set(p, SL_IO_READ, false);
}

static void ev_add_write(void *p)
{
    link_set(p, SL_IO_WRITE, true);
}

static void ev_del_write(void *p)
{
    link_set(p, SL_IO_WRITE, false);
}

/* Remember a command hiredis accepted (its reply comes after all earlier). */
static void link_push(struct sl__redis_link *l, redisCallbackFn *fn,
                      void *privdata, int64_t now)
{
    if (l->qlen == l->qcap) {
        size_t cap = l->qcap ? 2 * l->qcap : 16;
        struct link_cmd *q = sl_xmalloc(cap * sizeof(*q));
        for (size_t i = 0; i < l->qlen; i++)
            q[i] = l->q[(l->qhead + i) % l->qcap];
        sl_free(l->q);
        l->q = q;
        l->qcap = cap;
        l->qhead = 0;
    }
    l->q[(l->qhead + l->qlen) % l->qcap] =
        (struct link_cmd){ fn, privdata, now };
    l->qlen++;
}

/*
 * Every command's hiredis callback: the reply (NULL when the link is lost
 * or freed) belongs to the oldest pending command. The entry is taken off
 * before the owner's callback runs, which may free the link (hiredis then
 * defers the free until we return).
 */
static void link_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sl__redis_link *l = privdata;
    struct link_cmd cmd;

    if (l->qlen == 0)
        return; /* cannot happen: every command hiredis took was pushed */
    cmd = l->q[l->qhead];
    l->qhead = (l->qhead + 1) % l->qcap;
    l->qlen--;
    if (cmd.fn)
        cmd.fn(ac, reply, cmd.privdata);
}

static void link_free(struct sl__redis_link *l)
{
    sl_free(l->q);
    sl_free(l);
}

/* hiredis is freeing the context: every reply callback has run. */
static void ev_cleanup(void *p)
{
    struct sl__redis_link *l = p;
    struct sl__redis_conn *c = l->owner;

    sl_io_free(l->io);
    l->io = NULL;
    l->ac = NULL;
    if (c) {
        l->owner = NULL;
        c->link = NULL;
        c->stalled = false; /* closed or refused: the server answered */
        conn_lost(c);
    }
    if (l->in_io)
        l->gone = true;
    else
        link_free(l);
}

static void link_io(void *arg, unsigned events)
{
    struct sl__redis_link *l = arg;

    l->in_io = true;
    if (events & SL_IO_READ)
        redisAsyncHandleRead(l->ac);
    if (!l->gone && (events & SL_IO_WRITE))
        redisAsyncHandleWrite(l->ac);
    l->in_io = false;
    if (l->gone)
        link_free(l);
}

/* ---- the connection ---- */

static void conn_timer(void *arg);
static void conn_watch(void *arg);

void sl__redis_conn_init(struct sl__redis_conn *c, struct sl_loop *loop,
                         const struct sl__redis_url *url,
                         const struct sl_log_ctx *log, const char *what,
                         sl__redis_conn_fn *on_ready,
                         sl__redis_conn_fn *on_down, void *arg)
{
    memset(c, 0, sizeof(*c));
    c->loop = loop;
    c->url = url;
    c->log = log;
    c->what = what;
    c->on_ready = on_ready;
    c->on_down = on_down;
    c->arg = arg;
    c->backoff_ms = CONN_BACKOFF_MIN_MS;
    c->timeout_ms = SL_REDIS_TIMEOUT_MS;
    c->timer = sl_timer_new(loop, conn_timer, c);
    c->watch = sl_timer_new(loop, conn_watch, c);
}

/* Forget the link without telling anyone (its callbacks see NULL). */
static void conn_abandon(struct sl__redis_conn *c)
{
    struct sl__redis_link *l = c->link;

    c->link = NULL;
    c->ready = false;
    sl_timer_stop(c->watch);
    if (!l)
        return;
    l->owner = NULL;
    redisAsyncFree(l->ac); /* may free 'l' through ev_cleanup */
}

/* The link is gone (lost, failed, or dropped by the handshake check). */
static void conn_lost(struct sl__redis_conn *c)
{
    bool was_ready = c->ready;

    c->ready = false;
    sl_timer_stop(c->watch);
    if (c->drained) {
        /* run from the timer: we may be deep inside hiredis */
        c->down_pending = true;
        sl_timer_start(c->timer, 0, 0);
        return;
    }
    if (was_ready)
        SL_LOG(SL_LOG_WARN, c->log, "redis %s connection to %s:%d lost",
               c->what, c->url->host, c->url->port);
    c->down_pending = true;
    sl_timer_start(c->timer, 0, 0);
}

static void hs_check(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sl__redis_link *l = privdata;
    redisReply *r = reply;

    (void)ac;
    if (r && r->type == REDIS_REPLY_ERROR) {
        if (l->owner)
            SL_LOG(SL_LOG_ERROR, l->owner->log, "redis %s handshake: %s",
                   l->owner->what, r->str);
        l->auth_failed = true;
    }
}

static void hs_ping(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sl__redis_link *l = privdata;
    struct sl__redis_conn *c = l->owner;
    redisReply *r = reply;

    (void)ac;
    if (!c || !r)
        return; /* abandoned, or lost: ev_cleanup reports it */
    if (l->auth_failed || r->type == REDIS_REPLY_ERROR) {
        if (r->type == REDIS_REPLY_ERROR)
            SL_LOG(SL_LOG_ERROR, c->log, "redis %s handshake: %s", c->what,
                   r->str);
        c->stalled = false;
        conn_abandon(c);
        conn_lost(c);
        return;
    }
    l->up = true;
    c->ready = true;
    c->stalled = false;
    c->backoff_ms = CONN_BACKOFF_MIN_MS;
    if (c->on_ready)
        c->on_ready(c->arg);
}

void sl__redis_conn_start(struct sl__redis_conn *c)
{
    const struct sl__redis_url *u = c->url;
    redisAsyncContext *ac;

    if (c->link || c->down_pending)
        return;
    sl_timer_stop(c->timer);
    ac = redisAsyncConnect(u->host, u->port);
    if (!ac || ac->err) {
        SL_LOG(SL_LOG_WARN, c->log, "cannot connect to redis %s:%d: %s",
               u->host, u->port, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        c->stalled = false;
        c->down_pending = true;
        sl_timer_start(c->timer, 0, 0);
        return;
    }
    struct sl__redis_link *l = sl_xcalloc(1, sizeof(*l));
    l->ac = ac;
    l->owner = c;
    l->io = sl_io_new(c->loop, ac->c.fd, 0, link_io, l);
    if (!l->io) {
        sl_free(l);
        redisAsyncFree(ac);
        c->down_pending = true;
        sl_timer_start(c->timer, 0, 0);
        return;
    }
    ac->ev.data = l;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    c->link = l;
    /* the handshake is queued now and written once connected; its send
     * time starts the clock of the connect timeout */
    int64_t now = sl_loop_now_ms(c->loop);
    if (u->pass && (u->user ? redisAsyncCommand(ac, link_reply, l, "AUTH %s %s",
                                                u->user, u->pass)
                            : redisAsyncCommand(ac, link_reply, l, "AUTH %s",
                                                u->pass)) == REDIS_OK)
        link_push(l, hs_check, l, now);
    if (u->db > 0 &&
        redisAsyncCommand(ac, link_reply, l, "SELECT %d", u->db) == REDIS_OK)
        link_push(l, hs_check, l, now);
    if (redisAsyncCommand(ac, link_reply, l, "PING") == REDIS_OK)
        link_push(l, hs_ping, l, now);
    uint64_t every = c->timeout_ms / 4;
    every = every < 10 ? 10 : every > CONN_WATCH_MS ? CONN_WATCH_MS : every;
    sl_timer_start(c->watch, every, every);
}

/*
 * Every CONN_WATCH_MS while there is a link: give it up when its oldest
 * command has waited too long (the handshake: timeout_ms; then
 * timeout_ms + extra_ms). Pending callbacks run with NULL replies.
 */
static void conn_watch(void *arg)
{
    struct sl__redis_conn *c = arg;
    struct sl__redis_link *l = c->link;

    if (!l) {
        sl_timer_stop(c->watch);
        return;
    }
    if (l->qlen == 0)
        return;
    int64_t waited = sl_loop_now_ms(c->loop) - l->q[l->qhead].sent_ms;
    int64_t limit = (int64_t)c->timeout_ms + (l->up ? c->extra_ms : 0);
    if (waited < limit)
        return;
    if (l->up)
        SL_LOG(SL_LOG_WARN, c->log,
               "redis %s connection to %s:%d dropped: no answer in %lld ms",
               c->what, c->url->host, c->url->port, (long long)waited);
    else
        SL_LOG(SL_LOG_WARN, c->log,
               "redis %s connection to %s:%d timed out after %lld ms", c->what,
               c->url->host, c->url->port, (long long)waited);
    c->stalled = true;
    conn_abandon(c);
    conn_lost(c);
}

/* Report a loss, then reconnect after the backoff. */
static void conn_timer(void *arg)
{
    struct sl__redis_conn *c = arg;

    if (c->down_pending && c->drained) {
        sl__redis_conn_fn *fn = c->drained;
        c->drained = NULL;
        c->down_pending = false;
        fn(c->drained_arg);
        return;
    }
    if (c->down_pending) {
        c->down_pending = false;
        if (c->reconnect) {
            SL_LOG(SL_LOG_INFO, c->log, "redis %s: reconnecting in %u ms",
                   c->what, (unsigned)c->backoff_ms);
            sl_timer_start(c->timer, c->backoff_ms, 0);
            c->backoff_ms = c->backoff_ms * 2 > CONN_BACKOFF_MAX_MS
                                ? CONN_BACKOFF_MAX_MS
                                : c->backoff_ms * 2;
        }
        if (c->on_down)
            c->on_down(c->arg); /* may stop or free the owner: last */
        return;
    }
    sl__redis_conn_start(c);
}

void sl__redis_conn_stop(struct sl__redis_conn *c)
{
    c->reconnect = false;
    c->down_pending = false;
    c->drained = NULL;
    sl_timer_stop(c->timer);
    conn_abandon(c);
}

void sl__redis_conn_drain(struct sl__redis_conn *c, sl__redis_conn_fn *fn,
                          void *arg)
{
    c->reconnect = false;
    c->drained = fn;
    c->drained_arg = arg;
    sl_timer_stop(c->timer);
    c->down_pending = false;
    if (c->link && c->ready) {
        /* the watch keeps running: a server that does not answer ends
         * the wait after the timeout (conn_watch -> conn_lost) */
        c->ready = false;
        redisAsyncDisconnect(c->link->ac); /* ev_cleanup -> conn_lost */
        return;
    }
    conn_abandon(c);
    conn_lost(c);
}

void sl__redis_conn_fini(struct sl__redis_conn *c)
{
    sl__redis_conn_stop(c);
    sl_timer_free(c->timer);
    sl_timer_free(c->watch);
    c->timer = c->watch = NULL;
}

int sl__redis_conn_cmd(struct sl__redis_conn *c, redisCallbackFn *fn,
                       void *privdata, int argc, const char **argv,
                       const size_t *lens)
{
    struct sl__redis_link *l = c->link;

    if (!c->ready || !l)
        return SL_EAGAIN;
    if (redisAsyncCommandArgv(l->ac, link_reply, l, argc, argv, lens) !=
        REDIS_OK)
        return SL_EAGAIN;
    link_push(l, fn, privdata, sl_loop_now_ms(c->loop));
    return 0;
}

int sl__redis_conn_cmdv(struct sl__redis_conn *c, redisCallbackFn *fn,
                        void *privdata, const struct sl__redis_argv *a)
{
    return sl__redis_conn_cmd(c, fn, privdata, a->n, a->v, a->len);
}
