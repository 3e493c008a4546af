/*
 * broker/redis/sub.c - subscriptions of the Redis backend: one consumer
 * group per trigger, one consumer per subscription.
 *
 * A subscription has its own reader connection for the blocking
 * XREADGROUP (so appends on the writer connection never wait behind a
 * BLOCK); everything else (group creation, XACK, retry bookkeeping,
 * XCLAIM, XAUTOCLAIM) goes through the backend's writer connection.
 *
 * Local state (loop thread): the records pushed and not settled
 * (inflight), the entries read but not pushed yet (backlog, in stream
 * order; they are already in our PEL), and the retries waiting for their
 * time (retries). Records are pushed while inflight + retries being
 * claimed < max_outstanding; a read asks for COUNT = the slots still free.
 *
 * Retry bookkeeping in Redis, per group: the sorted set
 * <stream>:retries:<group> (member = entry ID, score = not_before ms) and
 * the hash <stream>:attempts:<group> (ID -> attempts). The entry stays
 * unacknowledged in the PEL; when due it is XCLAIMed to this consumer and
 * pushed again. DONE removes the bookkeeping and XACKs.
 *
 * Settle writes (DONE's XACK/ZREM/HDEL, RETRY's ZADD/HSET) are never
 * dropped while the subscription lives: one that cannot be sent (writer
 * down) or whose connection is lost before its reply waits in a local
 * FIFO (writes) and is sent again, in order, when the writer is back,
 * before anything else of the subscription (every write is idempotent).
 * Its length is bounded by the records the subscription had pushed or
 * read when the writer went down (at most 2 x max_outstanding): while the
 * writer is down nothing new is read or claimed.
 *
 * Lifetime: every command sent with a callback holds a reference on the
 * subscription (refs); unsubscribe tears the subscription down at once
 * (its records are released) and the struct is freed when the last reply
 * has come back.
 */
#include "broker/redis/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/uuid.h"

#define SUB_BLOCK_MS 2000
#define SUB_HOLD_MS  1000 /* after an error reply, before trying again */

struct red_rec {
    struct sl_record rec;
    char id[SL_REDIS_ID_MAX];
    bool retried; /* has retry bookkeeping in Redis */
};

/* The Redis writes of one settle, sent again until answered. */
struct sub_write {
    struct sub_write *next;
    struct sl__redis_sub *s;
    char id[SL_REDIS_ID_MAX];
    bool retry;   /* RETRY: ZADD + HSET; else DONE: XACK */
    bool retried; /* DONE: also ZREM + HDEL the retry bookkeeping */
    int64_t not_before;
    uint32_t attempts;
};

struct red_retry {
    char id[SL_REDIS_ID_MAX];
    int64_t not_before;
    uint32_t attempts;
    bool claiming; /* XCLAIM sent */
};

struct sl__redis_sub {
    struct sl_backend_sub base;
    struct sl__redis *r;
    struct sl__redis_sub *next;
    char *consumer;
    char *rkey; /* <stream>:retries:<group> */
    char *akey; /* <stream>:attempts:<group> */
    struct sl__redis_conn rd;
    struct red_rec **inflight;
    size_t ninflight, capinflight;
    struct red_rec **backlog; /* sorted by position */
    size_t nbacklog, capbacklog;
    struct red_retry *retries;
    size_t nretries, capretries;
    uint32_t nclaiming;
    struct sub_write *writes; /* settle writes waiting for the writer */
    struct sub_write **writes_tail;
    size_t nwrites;
    struct sl_timer *timer; /* retries due, hold over */
    int64_t hold_until;     /* wall ms: no reads/claims before */
    char claim_cursor[SL_REDIS_ID_MAX];
    unsigned refs;
    bool group_ready, group_busy, reading, scanning;
    bool scan_more; /* the last claim found entries and has more to scan */
    bool pumping, dead, torn;
};

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sub_pump(struct sl__redis_sub *s);
static void sub_teardown(struct sl__redis_sub *s);

/* ---- lifetime ---- */

static void write_free_all(struct sl__redis_sub *s);

static void sub_destroy(struct sl__redis_sub *s)
{
    write_free_all(s);
    sl__redis_conn_fini(&s->rd);
    sl_timer_free(s->timer);
    sl_free(s->inflight);
    sl_free(s->backlog);
    sl_free(s->retries);
    sl_free(s->consumer);
    sl_free(s->rkey);
    sl_free(s->akey);
    sl_free(s->base.group);
    sl_free(s);
}

static void sub_put(struct sl__redis_sub *s)
{
    if (--s->refs == 0)
        sub_destroy(s);
}

/* ---- commands ---- */

/* Send a command on the writer connection; a callback takes a ref. */
static int sub_cmd(struct sl__redis_sub *s, redisCallbackFn *fn, void *priv,
                   const struct sl__redis_argv *v)
{
    int rc = sl__redis_conn_cmdv(&s->r->main, fn, priv, v);

    if (rc == 0 && fn)
        s->refs++;
    return rc;
}

/* ---- settle writes ---- */

static void write_enqueue(struct sl__redis_sub *s, struct sub_write *w)
{
    w->next = NULL;
    if (!s->writes)
        s->writes_tail = &s->writes;
    *s->writes_tail = w;
    s->writes_tail = &w->next;
    s->nwrites++;
}

static void write_free_all(struct sl__redis_sub *s)
{
    while (s->writes) {
        struct sub_write *w = s->writes;
        s->writes = w->next;
        sl_free(w);
    }
    s->nwrites = 0;
}

/*
 * The reply to a settle's last command: every earlier one was answered
 * too (replies come in order). NULL: the link was lost, maybe before the
 * server saw them; the write goes back to the queue (idempotent).
 */
static void write_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct sub_write *w = priv;
    struct sl__redis_sub *s = w->s;
    redisReply *rp = reply;

    (void)ac;
    if (!rp && !s->torn) {
        write_enqueue(s, w);
    } else {
        if (rp && rp->type == REDIS_REPLY_ERROR)
            SL_LOG(SL_LOG_ERROR, &s->r->log, "settle of %s for group %s: %s",
                   w->id, s->base.group, rp->str);
        sl_free(w);
    }
    sub_put(s);
}

/* One command of a write; the last one carries the callback. */
static int write_cmd(struct sl__redis_sub *s, struct sub_write *w, bool last,
                     const char *c0, const char *key, const char *a1,
                     const char *a2)
{
    struct sl__redis_argv v;
    int rc;

    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, c0);
    sl__redis_argv_adds(&v, key);
    sl__redis_argv_adds(&v, a1);
    if (a2)
        sl__redis_argv_adds(&v, a2);
    rc = last ? sub_cmd(s, write_reply, w, &v) : sub_cmd(s, NULL, NULL, &v);
    sl__redis_argv_fini(&v);
    return rc;
}

/* Send 'w' now. Returns 0 (w belongs to the reply) or SL_EAGAIN. */
static int write_send(struct sl__redis_sub *s, struct sub_write *w)
{
    char num[32];
    int rc;

    if (w->retry) {
        snprintf(num, sizeof(num), "%lld", (long long)w->not_before);
        rc = write_cmd(s, w, false, "ZADD", s->rkey, num, w->id);
        if (rc == 0) {
            snprintf(num, sizeof(num), "%u", (unsigned)w->attempts);
            rc = write_cmd(s, w, true, "HSET", s->akey, w->id, num);
        }
        return rc;
    }
    if (!w->retried)
        return write_cmd(s, w, true, "XACK", s->r->key, s->base.group, w->id);
    rc = write_cmd(s, w, false, "XACK", s->r->key, s->base.group, w->id);
    if (rc == 0)
        rc = write_cmd(s, w, false, "ZREM", s->rkey, w->id, NULL);
    if (rc == 0)
        rc = write_cmd(s, w, true, "HDEL", s->akey, w->id, NULL);
    return rc;
}

/* Send what waits, in order, while the writer takes it. */
static void write_flush(struct sl__redis_sub *s)
{
    size_t before = s->nwrites;

    while (s->writes && s->r->main.ready) {
        struct sub_write *w = s->writes;
        s->writes = w->next;
        s->nwrites--;
        if (write_send(s, w) < 0) {
            w->next = s->writes;
            s->writes = w;
            if (!w->next)
                s->writes_tail = &w->next;
            s->nwrites++;
            break;
        }
    }
    if (before > 0 && s->nwrites == 0)
        SL_LOG(SL_LOG_INFO, &s->r->log,
               "group %s: %zu settles written after the writer came back",
               s->base.group, before);
}

/* Send a settle's writes, or queue them behind those already waiting. */
static void write_submit(struct sl__redis_sub *s, struct sub_write *w)
{
    w->s = s;
    if (s->writes || write_send(s, w) < 0)
        write_enqueue(s, w);
}

/* XACK, and the retry bookkeeping when 'retried'. */
static void sub_ack(struct sl__redis_sub *s, const char *id, bool retried)
{
    struct sub_write *w = sl_xcalloc(1, sizeof(*w));

    snprintf(w->id, sizeof(w->id), "%s", id);
    w->retried = retried;
    write_submit(s, w);
}

/* An entry that does not decode: logged, counted, settled DONE. */
static void sub_undecodable(struct sl__redis_sub *s, const char *id)
{
    s->r->undecodable++;
    SL_LOG(SL_LOG_ERROR, &s->r->log,
           "entry %s does not decode as an event; acknowledged for group %s"
           " (%llu so far)",
           id, s->base.group, (unsigned long long)s->r->undecodable);
    sub_ack(s, id, true);
}

/* ---- local state ---- */

static struct red_retry *retry_find(struct sl__redis_sub *s, const char *id)
{
    for (size_t i = 0; i < s->nretries; i++)
        if (strcmp(s->retries[i].id, id) == 0)
            return &s->retries[i];
    return NULL;
}

static void retry_del(struct sl__redis_sub *s, struct red_retry *rt)
{
    *rt = s->retries[--s->nretries];
}

static struct red_retry *retry_put(struct sl__redis_sub *s, const char *id)
{
    struct red_retry *rt = retry_find(s, id);

    if (rt)
        return rt;
    if (s->nretries == s->capretries) {
        s->capretries = s->capretries ? 2 * s->capretries : 8;
        s->retries =
            sl_xrealloc(s->retries, s->capretries * sizeof(*s->retries));
    }
    rt = &s->retries[s->nretries++];
    memset(rt, 0, sizeof(*rt));
    snprintf(rt->id, sizeof(rt->id), "%s", id);
    return rt;
}

/* True when this subscription holds 'id' in any form. */
static bool sub_holds(struct sl__redis_sub *s, const char *id)
{
    for (size_t i = 0; i < s->ninflight; i++)
        if (strcmp(s->inflight[i]->id, id) == 0)
            return true;
    for (size_t i = 0; i < s->nbacklog; i++)
        if (strcmp(s->backlog[i]->id, id) == 0)
            return true;
    return retry_find(s, id) != NULL;
}

static struct red_rec *rec_new(const char *id, const struct sl_pos *pos,
                               struct sl_event *ev, uint32_t attempts,
                               bool retried)
{
    struct red_rec *x = sl_xcalloc(1, sizeof(*x));

    snprintf(x->id, sizeof(x->id), "%s", id);
    x->rec.ev = ev;
    x->rec.pos = *pos;
    x->rec.attempts = attempts;
    x->rec.appended_ms = (int64_t)pos->offset;
    x->retried = retried;
    return x;
}

static void rec_free(struct red_rec *x)
{
    sl_event_unref(x->rec.ev);
    sl_free(x);
}

/* Insert in stream order (claimed entries are older than fresh ones). */
static void backlog_add(struct sl__redis_sub *s, struct red_rec *x)
{
    size_t at = s->nbacklog;

    if (s->nbacklog == s->capbacklog) {
        s->capbacklog = s->capbacklog ? 2 * s->capbacklog : 16;
        s->backlog =
            sl_xrealloc(s->backlog, s->capbacklog * sizeof(*s->backlog));
    }
    while (at > 0 && sl_pos_cmp(&s->backlog[at - 1]->rec.pos, &x->rec.pos) > 0)
        at--;
    memmove(&s->backlog[at + 1], &s->backlog[at],
            (s->nbacklog - at) * sizeof(*s->backlog));
    s->backlog[at] = x;
    s->nbacklog++;
}

/* Hand a record to the subscriber. */
static void sub_push(struct sl__redis_sub *s, struct red_rec *x)
{
    if (s->ninflight == s->capinflight) {
        s->capinflight = s->capinflight ? 2 * s->capinflight : 16;
        s->inflight =
            sl_xrealloc(s->inflight, s->capinflight * sizeof(*s->inflight));
    }
    s->inflight[s->ninflight++] = x;
    s->base.outstanding++;
    s->base.on_record(s->base.arg, &s->base, &x->rec);
}

/*
 * Decode one entry reply [id, fields] into a record, or settle it when it
 * does not decode. NULL when there is nothing to push.
 */
static struct red_rec *sub_entry(struct sl__redis_sub *s, const redisReply *e,
                                 uint32_t attempts, bool retried)
{
    struct sl_pos pos;
    struct sl_event *ev;

    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING)
        return NULL;
    const char *id = e->element[0]->str;
    if (sl__redis_id_parse(id, &pos) < 0)
        return NULL;
    ev = sl__redis_decode(e->element[1], s->r->base.limits.max_event_size);
    if (!ev) {
        sub_undecodable(s, id);
        return NULL;
    }
    return rec_new(id, &pos, ev, attempts, retried);
}

static uint32_t sub_free_slots(const struct sl__redis_sub *s)
{
    uint32_t busy = s->base.outstanding + s->nclaiming + (uint32_t)s->nbacklog;

    return busy >= s->base.max_outstanding ? 0 : s->base.max_outstanding - busy;
}

static void sub_hold(struct sl__redis_sub *s)
{
    s->hold_until = wall_ms() + SUB_HOLD_MS;
}

/* ---- group creation and retry loading ---- */

/*
 * KEYS: stream, retries, attempts; ARGV: group. Creates the group at the
 * end of the stream (new: stale retry keys are removed) or loads the
 * retry bookkeeping of the existing one: {existed, zrange, hgetall}.
 */
static const char sub_group_lua[] =
    "local ok = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$',\n"
    "                       'MKSTREAM')\n"
    "if type(ok) == 'table' and ok['err'] ~= nil then\n"
    "  if string.find(ok['err'], 'BUSYGROUP') == nil then return ok end\n"
    "  return {1, redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES'),\n"
    "          redis.call('HGETALL', KEYS[3])}\n"
    "end\n"
    "redis.call('DEL', KEYS[2], KEYS[3])\n"
    "return {0, {}, {}}\n";

static uint32_t parse_u32(const char *s)
{
    unsigned long v = s && *s ? strtoul(s, NULL, 10) : 0;

    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void sub_group_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct sl__redis_sub *s = priv;
    redisReply *rp = reply;

    (void)ac;
    s->group_busy = false;
    if (s->torn || !rp)
        goto out;
    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 3 ||
        rp->element[1]->type != REDIS_REPLY_ARRAY ||
        rp->element[2]->type != REDIS_REPLY_ARRAY) {
        SL_LOG(SL_LOG_ERROR, &s->r->log, "cannot create group %s: %s",
               s->base.group,
               rp->type == REDIS_REPLY_ERROR ? rp->str : "unexpected reply");
        sub_hold(s);
        goto out;
    }
    const redisReply *z = rp->element[1], *h = rp->element[2];
    for (size_t i = 0; i + 1 < z->elements; i += 2) {
        const char *id = z->element[i]->str;
        if (!id || sub_holds(s, id))
            continue;
        struct red_retry *rt = retry_put(s, id);
        rt->not_before = (int64_t)strtod(z->element[i + 1]->str, NULL);
        for (size_t j = 0; j + 1 < h->elements; j += 2)
            if (h->element[j]->str && strcmp(h->element[j]->str, id) == 0)
                rt->attempts = parse_u32(h->element[j + 1]->str);
    }
    if (!s->group_ready)
        SL_LOG(SL_LOG_INFO, &s->r->log,
               "group %s %s (consumer %s, %zu pending retries)", s->base.group,
               rp->element[0]->integer ? "resumed" : "created at the end",
               s->consumer, s->nretries);
    s->group_ready = true;
    sub_pump(s);
out:
    sub_put(s);
}

static void sub_group_create(struct sl__redis_sub *s)
{
    struct sl__redis_argv v;

    if (s->group_busy || s->torn)
        return;
    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, "EVAL");
    sl__redis_argv_adds(&v, sub_group_lua);
    sl__redis_argv_adds(&v, "3");
    sl__redis_argv_adds(&v, s->r->key);
    sl__redis_argv_adds(&v, s->rkey);
    sl__redis_argv_adds(&v, s->akey);
    sl__redis_argv_adds(&v, s->base.group);
    if (sub_cmd(s, sub_group_reply, s, &v) == 0)
        s->group_busy = true;
    sl__redis_argv_fini(&v);
}

/* ---- reading ---- */

static void sub_read_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct sl__redis_sub *s = priv;
    redisReply *rp = reply;

    (void)ac;
    s->reading = false;
    if (s->torn || !rp)
        goto out;
    if (rp->type == REDIS_REPLY_ERROR) {
        SL_LOG(SL_LOG_ERROR, &s->r->log, "read for group %s failed: %s",
               s->base.group, rp->str);
        if (strncmp(rp->str, "NOGROUP", 7) == 0)
            s->group_ready = false;
        sub_hold(s);
    } else if (rp->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < rp->elements; i++) {
            const redisReply *st = rp->element[i];
            if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
                st->element[1]->type != REDIS_REPLY_ARRAY)
                continue;
            for (size_t j = 0; j < st->element[1]->elements; j++) {
                struct red_rec *x =
                    sub_entry(s, st->element[1]->element[j], 0, false);
                if (x)
                    backlog_add(s, x);
            }
        }
    }
    /* REDIS_REPLY_NIL: BLOCK timed out; read again */
    sub_pump(s);
out:
    sub_put(s);
}

static void sub_read(struct sl__redis_sub *s)
{
    uint32_t n = sub_free_slots(s);
    struct sl__redis_argv v;

    if (s->torn || !s->group_ready || s->reading || !s->rd.ready ||
        !s->r->main.ready || n == 0 || wall_ms() < s->hold_until)
        return;
    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, "XREADGROUP");
    sl__redis_argv_adds(&v, "GROUP");
    sl__redis_argv_adds(&v, s->base.group);
    sl__redis_argv_adds(&v, s->consumer);
    sl__redis_argv_adds(&v, "COUNT");
    sl__redis_argv_addf(&v, "%u", (unsigned)n);
    sl__redis_argv_adds(&v, "BLOCK");
    sl__redis_argv_addf(&v, "%d", SUB_BLOCK_MS);
    sl__redis_argv_adds(&v, "STREAMS");
    sl__redis_argv_adds(&v, s->r->key);
    sl__redis_argv_adds(&v, ">");
    if (sl__redis_conn_cmdv(&s->rd, sub_read_reply, s, &v) == 0) {
        s->refs++;
        s->reading = true;
    }
    sl__redis_argv_fini(&v);
}

static void rd_ready(void *arg)
{
    sub_pump(arg);
}

static void rd_down(void *arg)
{
    (void)arg; /* the reader reconnects by itself; reads resume then */
}

/* ---- retries ---- */

struct claim_req {
    struct sl__redis_sub *s;
    char id[SL_REDIS_ID_MAX];
};

static void sub_claim_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct claim_req *q = priv;
    struct sl__redis_sub *s = q->s;
    redisReply *rp = reply;
    struct red_retry *rt;

    (void)ac;
    if (s->torn)
        goto out;
    s->nclaiming--;
    rt = retry_find(s, q->id);
    if (!rt)
        goto pump;
    rt->claiming = false;
    if (!rp)
        goto pump; /* connection lost: try again once it is back */
    if (rp->type != REDIS_REPLY_ARRAY) {
        SL_LOG(SL_LOG_ERROR, &s->r->log, "retry of %s for group %s: %s", q->id,
               s->base.group,
               rp->type == REDIS_REPLY_ERROR ? rp->str : "unexpected reply");
        sub_hold(s);
        goto pump;
    }
    uint32_t attempts = rt->attempts;
    retry_del(s, rt);
    if (rp->elements == 0 || rp->element[0]->type != REDIS_REPLY_ARRAY) {
        /* acknowledged meanwhile, or removed by retention */
        sub_ack(s, q->id, true);
        goto pump;
    }
    struct red_rec *x = sub_entry(s, rp->element[0], attempts, true);
    if (x)
        sub_push(s, x);
pump:
    sub_pump(s);
out:
    sl_free(q);
    sub_put(s);
}

static void sub_claim_retry(struct sl__redis_sub *s, struct red_retry *rt)
{
    struct claim_req *q = sl_xmalloc(sizeof(*q));
    struct sl__redis_argv v;

    q->s = s;
    snprintf(q->id, sizeof(q->id), "%s", rt->id);
    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, "XCLAIM");
    sl__redis_argv_adds(&v, s->r->key);
    sl__redis_argv_adds(&v, s->base.group);
    sl__redis_argv_adds(&v, s->consumer);
    sl__redis_argv_adds(&v, "0");
    sl__redis_argv_adds(&v, rt->id);
    if (sub_cmd(s, sub_claim_reply, q, &v) == 0) {
        rt->claiming = true;
        s->nclaiming++;
    } else {
        sl_free(q);
    }
    sl__redis_argv_fini(&v);
}

/* ---- dead consumers: XAUTOCLAIM ---- */

/*
 * KEYS: stream, retries, attempts; ARGV: group, consumer, min idle ms,
 * start ID, count. Claims entries idle too long and returns them with
 * their retry bookkeeping: {next, entries, not_before[], attempts[]}
 * ('' when none). Entries deleted meanwhile lose their bookkeeping.
 * Consumers with nothing pending, idle longer than the threshold, are
 * removed (every subscription makes a new consumer).
 */
static const char sub_autoclaim_lua[] =
    "local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2],\n"
    "                     ARGV[3], ARGV[4], 'COUNT', ARGV[5])\n"
    "local nb, at = {}, {}\n"
    "for i, e in ipairs(r[2]) do\n"
    "  if type(e) == 'table' then\n"
    "    nb[i] = redis.call('ZSCORE', KEYS[2], e[1]) or ''\n"
    "    at[i] = redis.call('HGET', KEYS[3], e[1]) or ''\n"
    "  else\n"
    "    nb[i] = ''\n"
    "    at[i] = ''\n"
    "  end\n"
    "end\n"
    "for _, id in ipairs(r[3] or {}) do\n"
    "  redis.call('ZREM', KEYS[2], id)\n"
    "  redis.call('HDEL', KEYS[3], id)\n"
    "end\n"
    "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) "
    "do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['name'] ~= ARGV[2] and tonumber(f['pending']) == 0 and\n"
    "     tonumber(f['idle']) > tonumber(ARGV[3]) then\n"
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
    "  end\n"
    "end\n"
    "return {r[1], r[2], nb, at}\n";

static void sub_scan_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct sl__redis_sub *s = priv;
    redisReply *rp = reply;
    int64_t now = wall_ms();

    (void)ac;
    s->scanning = false;
    if (s->torn || !rp)
        goto out;
    if (rp->type != REDIS_REPLY_ARRAY || rp->elements != 4 ||
        rp->element[0]->type != REDIS_REPLY_STRING ||
        rp->element[1]->type != REDIS_REPLY_ARRAY ||
        rp->element[2]->elements != rp->element[1]->elements ||
        rp->element[3]->elements != rp->element[1]->elements) {
        SL_LOG(SL_LOG_ERROR, &s->r->log, "claim for group %s failed: %s",
               s->base.group,
               rp->type == REDIS_REPLY_ERROR ? rp->str : "unexpected reply");
        if (rp->type == REDIS_REPLY_ERROR &&
            strncmp(rp->str, "NOGROUP", 7) == 0)
            s->group_ready = false;
        sub_hold(s);
        goto out;
    }
    snprintf(s->claim_cursor, sizeof(s->claim_cursor), "%s",
             rp->element[0]->str);
    for (size_t i = 0; i < rp->element[1]->elements; i++) {
        const redisReply *e = rp->element[1]->element[i];
        const char *nbs = rp->element[2]->element[i]->str;
        const char *ats = rp->element[3]->element[i]->str;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            sub_holds(s, e->element[0]->str))
            continue;
        bool retried = (nbs && *nbs) || (ats && *ats);
        int64_t nb = nbs && *nbs ? (int64_t)strtod(nbs, NULL) : 0;
        uint32_t attempts = parse_u32(ats);
        if (nb > now) { /* a retry not due yet: wait for its time */
            struct red_retry *rt = retry_put(s, e->element[0]->str);
            rt->not_before = nb;
            rt->attempts = attempts;
            continue;
        }
        struct red_rec *x = sub_entry(s, e, attempts, retried);
        if (x)
            backlog_add(s, x);
    }
    SL_LOG(SL_LOG_DEBUG, &s->r->log, "group %s: claimed %zu idle entries",
           s->base.group, rp->element[1]->elements);
    /* more may be waiting: claim again as soon as slots are free rather
     * than at the next tick, so a dead consumer's backlog drains fast */
    s->scan_more =
        rp->element[1]->elements > 0 && strcmp(s->claim_cursor, "0-0") != 0;
    sub_pump(s);
out:
    sub_put(s);
}

static void sub_scan(struct sl__redis_sub *s)
{
    uint32_t n = sub_free_slots(s);
    struct sl__redis_argv v;

    if (s->torn || s->scanning || !s->r->main.ready)
        return;
    if (!s->group_ready) {
        sub_group_create(s);
        return;
    }
    if (n == 0)
        return;
    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, "EVAL");
    sl__redis_argv_adds(&v, sub_autoclaim_lua);
    sl__redis_argv_adds(&v, "3");
    sl__redis_argv_adds(&v, s->r->key);
    sl__redis_argv_adds(&v, s->rkey);
    sl__redis_argv_adds(&v, s->akey);
    sl__redis_argv_adds(&v, s->base.group);
    sl__redis_argv_adds(&v, s->consumer);
    sl__redis_argv_addf(&v, "%lld", (long long)s->r->claim_idle_ms);
    sl__redis_argv_adds(&v, s->claim_cursor);
    sl__redis_argv_addf(&v, "%u", (unsigned)n);
    if (sub_cmd(s, sub_scan_reply, s, &v) == 0)
        s->scanning = true;
    sl__redis_argv_fini(&v);
}

void sl__redis_sub_claim_all(struct sl__redis *r)
{
    for (struct sl__redis_sub *s = r->subs; s; s = s->next)
        sub_scan(s);
}

void sl__redis_sub_main_ready(struct sl__redis *r)
{
    for (struct sl__redis_sub *s = r->subs; s; s = s->next) {
        /* settles made while the writer was down go first: an XACK must
         * precede the next XAUTOCLAIM, or the entry is taken again */
        write_flush(s);
        /* re-create (a server that lost its data) and reload retries */
        sub_group_create(s);
        sub_pump(s);
    }
}

/* ---- pump ---- */

/*
 * Arm the timer for the next thing that waits for time: the earliest
 * retry (only when it could be claimed then: writer up and a slot free;
 * otherwise the writer's return or a settle pumps) and the end of a hold.
 */
static void sub_arm(struct sl__redis_sub *s)
{
    int64_t first = INT64_MAX, now = wall_ms();

    if (s->r->main.ready &&
        s->base.outstanding + s->nclaiming < s->base.max_outstanding)
        for (size_t i = 0; i < s->nretries; i++)
            if (!s->retries[i].claiming && s->retries[i].not_before < first)
                first = s->retries[i].not_before;
    if (s->hold_until > now)
        first =
            first == INT64_MAX || first < s->hold_until ? s->hold_until : first;
    if (first == INT64_MAX) {
        sl_timer_stop(s->timer);
        return;
    }
    int64_t d = first - now;
    sl_timer_start(s->timer, d > 0 ? (uint64_t)d : 0, 0);
}

/* Push what may be pushed now. Loop thread; re-entrant calls return. */
static void sub_pump(struct sl__redis_sub *s)
{
    if (s->pumping || s->torn)
        return;
    if (s->writes)
        write_flush(s);
    s->pumping = true;
    int64_t now = wall_ms();
    while (!s->dead &&
           s->base.outstanding + s->nclaiming < s->base.max_outstanding) {
        struct red_retry *due = NULL;
        if (s->r->main.ready && now >= s->hold_until)
            for (size_t i = 0; i < s->nretries; i++) {
                struct red_retry *rt = &s->retries[i];
                if (!rt->claiming && rt->not_before <= now &&
                    (!due || rt->not_before < due->not_before))
                    due = rt;
            }
        if (due) {
            uint32_t before = s->nclaiming;
            sub_claim_retry(s, due);
            if (s->nclaiming == before)
                break;
            continue;
        }
        if (s->nbacklog > 0) {
            struct red_rec *x = s->backlog[0];
            memmove(&s->backlog[0], &s->backlog[1],
                    (s->nbacklog - 1) * sizeof(*s->backlog));
            s->nbacklog--;
            sub_push(s, x);
            continue;
        }
        break;
    }
    s->pumping = false;
    if (s->dead) {
        sub_teardown(s);
        return;
    }
    sub_read(s);
    if (s->scan_more && sub_free_slots(s) > 0) {
        s->scan_more = false;
        sub_scan(s);
    }
    sub_arm(s);
}

static void sub_timer(void *arg)
{
    sub_pump(arg);
}

/* ---- ops ---- */

int sl__redis_subscribe(struct sl_backend *b, const char *group,
                        const struct sl_backend_sub_opts *opts,
                        sl_backend_record_fn *on_record, void *arg,
                        struct sl_backend_sub **out)
{
    struct sl__redis *r = sl_container_of(b, struct sl__redis, base);
    char host[128] = "sluice", uuid[SL_UUID_STR_LEN + 1] = "0";
    char buf[512];

    for (struct sl__redis_sub *s = r->subs; s; s = s->next)
        if (strcmp(s->base.group, group) == 0)
            return SL_EEXIST;
    struct sl__redis_sub *s = sl_xcalloc(1, sizeof(*s));
    s->r = r;
    s->refs = 1;
    s->base.b = b;
    s->base.group = sl_xstrdup(group);
    s->base.max_outstanding = opts->max_outstanding;
    s->base.on_record = on_record;
    s->base.arg = arg;
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    sl_uuid_v4(uuid);
    snprintf(buf, sizeof(buf), "%s-%ld-%.8s", host, (long)getpid(), uuid);
    s->consumer = sl_xstrdup(buf);
    snprintf(buf, sizeof(buf), "%s:retries:%s", r->key, group);
    s->rkey = sl_xstrdup(buf);
    snprintf(buf, sizeof(buf), "%s:attempts:%s", r->key, group);
    s->akey = sl_xstrdup(buf);
    snprintf(s->claim_cursor, sizeof(s->claim_cursor), "0-0");
    s->timer = sl_timer_new(b->loop, sub_timer, s);
    sl__redis_conn_init(&s->rd, b->loop, &r->url, &r->log, "reader", rd_ready,
                        rd_down, s);
    /* the read blocks up to SUB_BLOCK_MS on the server by design */
    s->rd.timeout_ms = r->timeout_ms;
    s->rd.extra_ms = SUB_BLOCK_MS;
    s->rd.reconnect = true;
    s->next = r->subs;
    r->subs = s;
    /* on the writer connection now: appends made after this call are
     * ordered after the group's creation, so the group sees them */
    sub_group_create(s);
    sl__redis_conn_start(&s->rd);
    *out = &s->base;
    return 0;
}

int sl__redis_settle(struct sl_backend_sub *base, const struct sl_record *rec,
                     const struct sl_settle *how)
{
    struct sl__redis_sub *s = sl_container_of(base, struct sl__redis_sub, base);
    struct red_rec *x = NULL;
    size_t i;

    for (i = 0; i < s->ninflight; i++)
        if (&s->inflight[i]->rec == rec) {
            x = s->inflight[i];
            break;
        }
    if (!x)
        return SL_EINVAL;
    s->inflight[i] = s->inflight[--s->ninflight];
    s->base.outstanding--;
    if (how->outcome == SL_SETTLE_DONE) {
        sub_ack(s, x->id, x->retried);
    } else {
        struct red_retry *rt = retry_put(s, x->id);
        rt->not_before = how->not_before_ms;
        rt->attempts = how->attempts;
        rt->claiming = false;
        struct sub_write *w = sl_xcalloc(1, sizeof(*w));
        snprintf(w->id, sizeof(w->id), "%s", x->id);
        w->retry = true;
        w->not_before = how->not_before_ms;
        w->attempts = how->attempts;
        write_submit(s, w);
    }
    rec_free(x);
    if (!s->pumping)
        sub_pump(s);
    return 0;
}

static void sub_teardown(struct sl__redis_sub *s)
{
    struct sl__redis *r = s->r;

    s->refs++;
    s->torn = true;
    for (struct sl__redis_sub **pp = &r->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    /* a pending read comes back with NULL; entries it may have taken
     * stay in our PEL and are claimed after the idle threshold */
    sl__redis_conn_stop(&s->rd);
    sl_timer_stop(s->timer);
    if (s->nwrites > 0)
        SL_LOG(SL_LOG_WARN, &r->log,
               "group %s: %zu settles not written (the writer is down); "
               "those entries come again after the claim idle time",
               s->base.group, s->nwrites);
    write_free_all(s);
    for (size_t i = 0; i < s->ninflight; i++)
        rec_free(s->inflight[i]);
    for (size_t i = 0; i < s->nbacklog; i++)
        rec_free(s->backlog[i]);
    s->ninflight = s->nbacklog = s->nretries = 0;
    s->base.outstanding = 0;
    sub_put(s); /* ours, above */
    sub_put(s); /* the subscription's own */
}

void sl__redis_unsubscribe(struct sl_backend_sub *base)
{
    struct sl__redis_sub *s = sl_container_of(base, struct sl__redis_sub, base);

    if (s->pumping) {
        s->dead = true;
        return;
    }
    sub_teardown(s);
}
