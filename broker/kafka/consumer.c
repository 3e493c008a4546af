/*
 * broker/kafka/consumer.c - subscriptions of the Kafka backend: one
 * librdkafka consumer per subscription (group.id = the group), its queue
 * pumped on the loop, offsets committed by hand.
 *
 * Start. A group seen for the first time starts at the end of the log: a
 * job thread reads the group's committed offsets and, for every
 * partition that has none, commits min(the end the broker knew at
 * subscribe, the high watermark) outside a generation (a group with no
 * live member takes that); only then does the consumer subscribe. An
 * event appended after subscribe() is therefore never skipped, however
 * long the group takes to join. auto.offset.reset=earliest only covers
 * partitions that still have no offset (added later): never skip.
 *
 * Records. Every record read goes into its partition's window (offsets
 * read and not final, in order) and, decoded, into the backlog; records
 * that do not decode are logged, counted and final at once. Records go
 * from the backlog to the subscriber while fewer than max_outstanding are
 * unsettled (retries that are due first). DONE makes a record final;
 * the partition's commit point is the first offset in its window not
 * final, or the offset after the last record read when all are: it is
 * committed (async) at most every KC_COMMIT_MS, at a revoke and at
 * unsubscribe. RETRY holds the record in memory (not final: the commit
 * point cannot pass it) and pushes it again at not_before.
 *
 * Flow: the queue is always served (rebalances arrive on it); when the
 * backlog passes max(2 x max_outstanding, KC_BACKLOG_MIN) records, or a
 * partition's window KC_WINDOW_MAX offsets (a record held for a retry
 * while later ones pass it), the assigned partitions are paused, and
 * resumed once both are under half of that (librdkafka then fetches from after
 * the last record it gave us). The read-ahead is large on purpose:
 * librdkafka 2.0 fetches again only 0.5-1 s after a resume, and only ~1 s after
 * its local queue reached queued.min.messages (its broker thread is not woken
 * when the application drains the queue), so a small read-ahead or a small
 * queued.min.messages starves the subscriber: with 1,000 and 2 x 100 it
 * delivered ~5,000 events/s at 18 % of a core; with these settings ~30,000
 * (measured with a Trigger to `sluice display --quiet`, docs/kafka.md).
 *
 * Rebalance (eager; the cooperative protocol is handled too): a revoke
 * commits what is final, then forgets the partition: its backlog and
 * held retries are dropped (the next owner reads them from the committed
 * offset) and records already pushed become stale: their settle is a
 * no-op, as the partition's generation moved on. An assign starts a
 * fresh window from the committed offset.
 *
 * Unsubscribe: final progress is committed (async), every record is
 * released, and the consumer is closed and destroyed on a job thread
 * (rd_kafka_consumer_close blocks while it leaves the group, bounded by
 * session.timeout.ms); the librdkafka callbacks that close still serves
 * run on that thread and only unassign.
 */
#include "broker/kafka/internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/uuid.h"

#define KC_COMMIT_MS      200
#define KC_INIT_MIN_MS    500
#define KC_INIT_MAX_MS    30000
#define KC_HELD_PER_SLOT  8 /* held retries per max_outstanding slot */
#define KC_PUMP_TICK_MS   100
#define KC_BACKLOG_MIN    16384 /* records read ahead before pausing */
/* Offsets a partition's window may hold (16 bytes each) before reading
 * pauses: a record held for a retry keeps the commit point while later
 * records pass it, and the window must not grow without bound. */
#define KC_WINDOW_MAX     ((size_t)1 << 18)
#define KC_FETCH_WAIT_MS  "100"
#define KC_QUEUED_KBYTES  "16384"
#define KC_QUEUED_MIN_MSG "100000"

enum { KR_BACKLOG = 1, KR_PUSHED, KR_HELD };

struct sl__kafka_sub;
struct kc_part;
struct kc_init;

struct kc_rec {
    struct sl_record rec; /* what the subscriber sees */
    struct sl__kafka_sub *s;
    struct kc_part *p;
    uint64_t gen; /* p->gen when read */
    uint64_t seq; /* place in p's window */
    int state;    /* KR_* */
    int64_t not_before;
    struct kc_rec *prev, *next;
};

struct kc_list {
    struct kc_rec *head, *tail;
    size_t n;
};

struct kc_slot {
    int64_t off;
    bool final;
};

struct kc_part {
    size_t tix; /* topic index */
    int32_t partition;
    bool assigned;
    uint64_t gen;        /* bumped at every assign and revoke */
    struct kc_slot *win; /* ring of offsets read, not yet passed */
    size_t cap, head, len;
    uint64_t base;     /* seq of win[head] */
    int64_t next;      /* offset after the last read; -1 none */
    int64_t committed; /* last commit point sent; -1 none */
};

/* The librdkafka side: the callbacks' opaque; outlives the subscription
 * when its consumer closes on a job thread. */
struct kc_client {
    struct sl__kafka_closing closing; /* cluster and group */
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;     /* the consumer queue (pumped) */
    struct sl__kafka_sub *s; /* NULL once closing */
    bool closing_now;        /* set before the close job starts */
    struct sl_loop *loop;
    struct sl_kafka_reach reach;
    struct sl_log_ctx log;
};

struct sl__kafka_sub {
    struct sl_backend_sub base;
    struct sl__kafka *k;
    struct sl__kafka_sub *next;
    struct kc_client *c;
    struct sl_kafka_pump *pump;
    struct kc_part **parts;
    size_t nparts, capparts;
    struct kc_list backlog, pushed, held;
    struct sl_timer *timer;  /* retries due, init retry */
    struct sl_timer *ctimer; /* commits */
    unsigned refs;           /* the subscription + a running init job */
    int64_t init_backoff;
    int64_t init_at; /* wall ms: the next init attempt; 0 none */
    int init_rc;     /* last init outcome */
    bool initing, subscribed, paused, pumping, dead, torn;
    struct kc_init *init; /* the start job running, or NULL */
    /* where partitions start at their first assignment (a new group
     * whose start the cluster did not take outside a generation) */
    rd_kafka_topic_partition_list_t *starts;
    /* The ends the backend knew at subscribe (topic 0; -1 unknown): a
     * start job retried later must not start past events appended
     * since, so every attempt uses this snapshot. */
    int64_t *known;
    int nknown;
    int err_rc; /* last consumer error (health), 0 none */
    char err_msg[256];
};

static void kc_pump(struct sl__kafka_sub *s);
static void kc_teardown(struct sl__kafka_sub *s);
static void kc_close_client(struct kc_client *c);

/* ---- lists ---- */

static void list_add(struct kc_list *l, struct kc_rec *x)
{
    x->next = NULL;
    x->prev = l->tail;
    if (l->tail)
        l->tail->next = x;
    else
        l->head = x;
    l->tail = x;
    l->n++;
}

static void list_del(struct kc_list *l, struct kc_rec *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        l->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        l->tail = x->prev;
    x->prev = x->next = NULL;
    l->n--;
}

static struct kc_list *list_of(struct sl__kafka_sub *s, int state)
{
    return state == KR_BACKLOG  ? &s->backlog
           : state == KR_PUSHED ? &s->pushed
                                : &s->held;
}

static void rec_free(struct kc_rec *x)
{
    sl_event_unref(x->rec.ev);
    sl_free(x);
}

static void list_free_all(struct kc_list *l)
{
    while (l->head) {
        struct kc_rec *x = l->head;
        list_del(l, x);
        rec_free(x);
    }
}

/* ---- partitions and their windows ---- */

static struct kc_part *part_find(struct sl__kafka_sub *s, size_t tix, int32_t p,
                                 bool add)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i]->tix == tix && s->parts[i]->partition == p)
            return s->parts[i];
    if (!add)
        return NULL;
    if (s->nparts == s->capparts) {
        s->capparts = s->capparts ? 2 * s->capparts : 16;
        s->parts = sl_xrealloc(s->parts, s->capparts * sizeof(*s->parts));
    }
    struct kc_part *x = sl_xcalloc(1, sizeof(*x));
    x->tix = tix;
    x->partition = p;
    x->next = -1;
    x->committed = -1;
    s->parts[s->nparts++] = x;
    return x;
}

static size_t topic_index(struct sl__kafka_sub *s, const char *topic)
{
    for (size_t i = 0; i < s->k->ntopics; i++)
        if (strcmp(s->k->topics[i], topic) == 0)
            return i;
    return SIZE_MAX;
}

static void win_reset(struct kc_part *p)
{
    p->head = p->len = 0;
    p->base = 0;
    p->next = -1;
    p->committed = -1;
}

/* Append offset 'off' (not final); returns its seq. */
static uint64_t win_add(struct kc_part *p, int64_t off)
{
    if (p->len == p->cap) {
        size_t ncap = p->cap ? 2 * p->cap : 64;
        struct kc_slot *w = sl_xmalloc(ncap * sizeof(*w));
        for (size_t i = 0; i < p->len; i++)
            w[i] = p->win[(p->head + i) % p->cap];
        sl_free(p->win);
        p->win = w;
        p->cap = ncap;
        p->head = 0;
    }
    p->win[(p->head + p->len) % p->cap] = (struct kc_slot){ off, false };
    p->len++;
    p->next = off + 1;
    return p->base + p->len - 1;
}

/* The offset the group may commit for 'p', or -1. */
static int64_t win_point(const struct kc_part *p)
{
    if (p->len > 0)
        return p->win[p->head].off;
    return p->next;
}

static void kc_commit_soon(struct sl__kafka_sub *s)
{
    if (!sl_timer_active(s->ctimer))
        sl_timer_start(s->ctimer, KC_COMMIT_MS, 0);
}

/* Record 'seq' of 'p' final and pass what is final at the front. */
static void win_final(struct sl__kafka_sub *s, struct kc_part *p, uint64_t seq)
{
    if (seq < p->base || seq - p->base >= p->len)
        return;
    p->win[(p->head + (seq - p->base)) % p->cap].final = true;
    while (p->len > 0 && p->win[p->head].final) {
        p->head = (p->head + 1) % p->cap;
        p->len--;
        p->base++;
    }
    if (win_point(p) > p->committed)
        kc_commit_soon(s);
}

/* ---- commits ---- */

/*
 * Commit the point of every assigned partition (only 'only' when not
 * NULL) that moved since its last commit. Async; failures are logged by
 * the offset commit callback and made good by the next commit.
 */
static void kc_commit(struct sl__kafka_sub *s, const struct kc_part *only)
{
    rd_kafka_topic_partition_list_t *l = NULL;

    if (!s->c || !s->subscribed)
        return;
    for (size_t i = 0; i < s->nparts; i++) {
        struct kc_part *p = s->parts[i];
        int64_t at = win_point(p);
        if ((only && p != only) || !p->assigned || at < 0 || at <= p->committed)
            continue;
        if (!l)
            l = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(l, s->k->topics[p->tix], p->partition)
            ->offset = at;
        p->committed = at;
    }
    if (!l)
        return;
    rd_kafka_resp_err_t e = rd_kafka_commit(s->c->rk, l, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        SL_LOG(SL_LOG_WARN, &s->k->log, "group %s: cannot commit: %s",
               s->base.group, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

static void kc_ctimer(void *arg)
{
    kc_commit(arg, NULL);
}

/* ---- librdkafka callbacks (loop thread, or the close job's thread
 * when c->closing_now) ---- */

static void kc_unassign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* Forget partition 'p': what waits in memory is dropped, what is out
 * with the subscriber becomes stale. */
static void kc_part_revoke(struct sl__kafka_sub *s, struct kc_part *p)
{
    struct kc_list *ls[] = { &s->backlog, &s->held };

    p->assigned = false;
    p->gen++;
    for (size_t i = 0; i < 2; i++) {
        struct kc_rec *x = ls[i]->head;
        while (x) {
            struct kc_rec *nx = x->next;
            if (x->p == p) {
                list_del(ls[i], x);
                rec_free(x);
            }
            x = nx;
        }
    }
    win_reset(p);
}

static void kc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts,
                            void *opaque)
{
    struct kc_client *c = opaque;
    struct sl__kafka_sub *s = c->s;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;

    if (c->closing_now || !s) {
        kc_unassign(rk, parts);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            size_t tix = topic_index(s, parts->elems[i].topic);
            if (tix == SIZE_MAX)
                continue;
            struct kc_part *p =
                part_find(s, tix, parts->elems[i].partition, true);
            p->assigned = true;
            p->gen++;
            win_reset(p);
            rd_kafka_topic_partition_t *st =
                s->starts ? rd_kafka_topic_partition_list_find(
                                s->starts, parts->elems[i].topic,
                                parts->elems[i].partition)
                          : NULL;
            if (st) {
                parts->elems[i].offset = st->offset;
                p->next = st->offset; /* committed at once, as a member */
                rd_kafka_topic_partition_list_del(s->starts, st->topic,
                                                  st->partition);
                kc_commit_soon(s);
            }
        }
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, parts);
        }
        if (s->paused)
            rd_kafka_pause_partitions(rk, parts);
        s->err_rc = 0;
        SL_LOG(SL_LOG_INFO, &s->k->log, "group %s: %d partitions assigned",
               s->base.group, parts->cnt);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* What is final goes first, while the generation still holds. */
        kc_commit(s, NULL);
        for (int i = 0; i < parts->cnt; i++) {
            size_t tix = topic_index(s, parts->elems[i].topic);
            struct kc_part *p =
                tix == SIZE_MAX
                    ? NULL
                    : part_find(s, tix, parts->elems[i].partition, false);
            if (p)
                kc_part_revoke(s, p);
        }
        SL_LOG(SL_LOG_INFO, &s->k->log, "group %s: %d partitions revoked",
               s->base.group, parts->cnt);
    } else {
        SL_LOG(SL_LOG_WARN, &s->k->log, "group %s: rebalance failed: %s",
               s->base.group, rd_kafka_err2str(err));
        for (size_t i = 0; i < s->nparts; i++)
            if (s->parts[i]->assigned)
                kc_part_revoke(s, s->parts[i]);
    }
    kc_unassign(rk, parts);
}

static void kc_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct kc_client *c = opaque;

    (void)rk;
    (void)offsets;
    /* Only log: this may run on the close job's thread. */
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        SL_LOG(SL_LOG_WARN, &c->log,
               "group %s: offset commit failed: %s (the next commit makes "
               "it good; a crash before redelivers)",
               c->closing.group, rd_kafka_err2str(err));
}

static int kc_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct kc_client *c = opaque;

    (void)rk;
    if (!c->closing_now)
        sl_kafka_reach_update(&c->reach, json, len, sl_loop_now_ms(c->loop));
    return 0;
}

static void kc_error_cb(rd_kafka_t *rk, int err, const char *reason,
                        void *opaque)
{
    struct kc_client *c = opaque;

    (void)rk;
    if (c->closing_now)
        return;
    snprintf(c->reach.why, sizeof(c->reach.why), "%s", reason);
    SL_LOG(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? SL_LOG_WARN
                                                      : SL_LOG_INFO,
           &c->log, "group %s: %s", c->closing.group, reason);
}

/* ---- records ---- */

static void kc_undecodable(struct sl__kafka_sub *s, const rd_kafka_message_t *m)
{
    s->k->undecodable++;
    SL_LOG(SL_LOG_ERROR, &s->k->log,
           "record %s/%d@%lld is not an event; passed for group %s (%llu so "
           "far)",
           rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
           s->base.group, (unsigned long long)s->k->undecodable);
}

static void kc_message(struct sl__kafka_sub *s, rd_kafka_message_t *m)
{
    size_t tix = topic_index(s, rd_kafka_topic_name(m->rkt));
    struct kc_part *p =
        tix == SIZE_MAX ? NULL : part_find(s, tix, m->partition, false);
    struct sl_kafka_header *hs = NULL;
    struct sl_kafka_record rec = { 0 };
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_timestamp_type_t tt;
    struct sl_event *ev;
    uint64_t seq;

    /* A partition no longer ours (the queue may still hold some). */
    if (!p || !p->assigned || (p->next >= 0 && m->offset < p->next))
        return;
    seq = win_add(p, m->offset);
    s->err_rc = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_cnt(hdrs) > 0) {
        size_t n = rd_kafka_header_cnt(hdrs);
        hs = sl_xcalloc(n, sizeof(*hs));
        for (size_t i = 0; i < n; i++) {
            const char *name;
            const void *val;
            size_t len;
            if (rd_kafka_header_get_all(hdrs, i, &name, &val, &len) !=
                RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            hs[rec.nheaders++] =
                (struct sl_kafka_header){ name, val, val ? len : 0 };
        }
    }
    rec.headers = hs;
    rec.key = m->key;
    rec.key_len = m->key ? m->key_len : 0;
    rec.value = m->payload;
    rec.value_len = m->payload ? m->len : 0;
    struct sl_kafka_origin o = {
        .topic = s->k->topics[tix],
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = rd_kafka_message_timestamp(m, &tt),
    };
    ev = sl__kafka_decode(s->k, &o, &rec);
    sl_free(hs);
    if (!ev) {
        kc_undecodable(s, m);
        win_final(s, p, seq);
        return;
    }
    struct kc_rec *x = sl_xcalloc(1, sizeof(*x));
    x->rec.ev = ev;
    x->rec.pos = (struct sl_pos){ m->partition, (uint64_t)m->offset, tix };
    x->rec.appended_ms =
        o.timestamp_ms > 0 ? o.timestamp_ms : sl__kafka_wall_ms();
    x->s = s;
    x->p = p;
    x->gen = p->gen;
    x->seq = seq;
    x->state = KR_BACKLOG;
    list_add(&s->backlog, x);
}

static void kc_consumer_error(struct sl__kafka_sub *s,
                              const rd_kafka_message_t *m)
{
    int rc = sl_kafka_errno(m->err);
    char msg[200];

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    snprintf(msg, sizeof(msg), "%s", rd_kafka_message_errstr(m));
    if (rc != s->err_rc || strcmp(msg, s->err_msg) != 0)
        SL_LOG(SL_LOG_WARN, &s->k->log, "group %s: %s", s->base.group, msg);
    s->err_rc = rc;
    snprintf(s->err_msg, sizeof(s->err_msg), "%s", msg);
}

/* ---- pushing ---- */

/* Whether an assigned partition's window holds more than 'limit'
 * offsets (a held record keeps the commit point while later ones pass). */
static bool kc_window_long(const struct sl__kafka_sub *s, size_t limit)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i]->assigned && s->parts[i]->len > limit)
            return true;
    return false;
}

static void kc_flow(struct sl__kafka_sub *s)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    size_t hi = 2 * (size_t)s->base.max_outstanding, lo;
    bool pause;

    if (hi < KC_BACKLOG_MIN)
        hi = KC_BACKLOG_MIN;
    lo = hi / 2;
    if (!s->subscribed)
        return;
    if (s->paused)
        pause = s->backlog.n > lo || kc_window_long(s, KC_WINDOW_MAX / 2);
    else
        pause = s->backlog.n >= hi || kc_window_long(s, KC_WINDOW_MAX);
    if (pause == s->paused)
        return;
    if (rd_kafka_assignment(s->c->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    s->paused = pause;
    if (s->paused)
        rd_kafka_pause_partitions(s->c->rk, a);
    else
        rd_kafka_resume_partitions(s->c->rk, a);
    rd_kafka_topic_partition_list_destroy(a);
}

static void kc_push(struct sl__kafka_sub *s, struct kc_rec *x)
{
    list_del(list_of(s, x->state), x);
    x->state = KR_PUSHED;
    list_add(&s->pushed, x);
    s->base.outstanding++;
    s->base.on_record(s->base.arg, &s->base, &x->rec);
}

/* Arm the timer for the earliest held retry (when a slot is free). */
static void kc_arm(struct sl__kafka_sub *s)
{
    int64_t first = INT64_MAX, now = sl__kafka_wall_ms();

    if (s->base.outstanding < s->base.max_outstanding)
        for (struct kc_rec *x = s->held.head; x; x = x->next)
            if (x->not_before < first)
                first = x->not_before;
    if (s->init_at > 0 && s->init_at < first)
        first = s->init_at;
    if (first == INT64_MAX) {
        sl_timer_stop(s->timer);
        return;
    }
    sl_timer_start(s->timer, first > now ? (uint64_t)(first - now) : 0, 0);
}

/* Push what may be pushed now. Re-entrant calls return at once. */
static void kc_push_all(struct sl__kafka_sub *s)
{
    size_t held_max =
        (size_t)KC_HELD_PER_SLOT * (size_t)s->base.max_outstanding;

    if (s->pumping || s->torn)
        return;
    s->pumping = true;
    int64_t now = sl__kafka_wall_ms();
    while (!s->dead && s->base.outstanding < s->base.max_outstanding) {
        struct kc_rec *due = NULL;
        for (struct kc_rec *x = s->held.head; x; x = x->next)
            if (x->not_before <= now &&
                (!due || x->not_before < due->not_before))
                due = x;
        if (due) {
            kc_push(s, due);
            continue;
        }
        if (s->backlog.head && s->held.n < held_max) {
            kc_push(s, s->backlog.head);
            continue;
        }
        break;
    }
    s->pumping = false;
    if (s->dead) {
        kc_teardown(s);
        return;
    }
    kc_flow(s);
    kc_arm(s);
}

/* The pump: serve the consumer queue until it is empty, then push. */
static void kc_pump_fn(void *arg)
{
    struct sl__kafka_sub *s = arg;
    rd_kafka_message_t *m;

    if (s->torn)
        return;
    while ((m = rd_kafka_consumer_poll(s->c->rk, 0)) != NULL) {
        if (m->err)
            kc_consumer_error(s, m);
        else
            kc_message(s, m);
        rd_kafka_message_destroy(m);
    }
    kc_push_all(s);
}

static void kc_pump(struct sl__kafka_sub *s)
{
    kc_push_all(s);
}

/* ---- start: the group's initial offsets (job) ---- */

struct kc_init {
    struct sl__kafka_sub *s;
    rd_kafka_t *rk;
    char cluster[512];
    char group[256];
    char **topics;
    size_t ntopics;
    int64_t *known; /* topic 0's known ends, -1 unknown */
    int nknown;
    int rc;
    char msg[256];
    int ncommitted; /* partitions given a start */
    /* starts the group refused to take outside a generation */
    rd_kafka_topic_partition_list_t *starts;
    bool cancel; /* the subscription went (kg_mu) */
};

static void kc_init_fail(struct kc_init *j, rd_kafka_resp_err_t e,
                         const char *what)
{
    j->rc = sl_kafka_errno(e);
    snprintf(j->msg, sizeof(j->msg), "%s: %s", what, rd_kafka_err2str(e));
}

static void kc_init_work(void *arg)
{
    struct kc_init *j = arg;
    rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(8),
                                    *start = NULL;
    rd_kafka_resp_err_t e;

    /* A forget of this group still on its way would undo our start. */
    if (!sl__kafka_forget_wait(j->cluster, j->group, &j->cancel)) {
        j->rc = SL_ECANCELED;
        goto out;
    }
    for (size_t i = 0; i < j->ntopics; i++) {
        e = sl__kafka_partitions(j->rk, j->topics[i], all);
        if (e) {
            kc_init_fail(j, e, "reading the topic's partitions");
            goto out;
        }
    }
    e = rd_kafka_committed(j->rk, all, SL__KAFKA_JOB_TIMEOUT_MS);
    if (e) {
        kc_init_fail(j, e, "reading the group's offsets");
        goto out;
    }
    start = rd_kafka_topic_partition_list_new(all->cnt > 0 ? all->cnt : 1);
    for (int i = 0; i < all->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &all->elems[i];
        int64_t lo, hi, at;
        if (tp->offset >= 0 &&
            !(tp->metadata_size == sizeof(SL__KAFKA_FORGOTTEN) - 1 &&
              memcmp(tp->metadata, SL__KAFKA_FORGOTTEN,
                     sizeof(SL__KAFKA_FORGOTTEN) - 1) == 0))
            continue; /* the group has progress there */
        e = rd_kafka_query_watermark_offsets(j->rk, tp->topic, tp->partition,
                                             &lo, &hi,
                                             SL__KAFKA_JOB_TIMEOUT_MS);
        if (e) {
            kc_init_fail(j, e, "reading the log's end");
            goto out;
        }
        at = hi;
        if (strcmp(tp->topic, j->topics[0]) == 0 && tp->partition >= 0 &&
            tp->partition < j->nknown && j->known[tp->partition] >= 0 &&
            j->known[tp->partition] < at)
            at = j->known[tp->partition];
        rd_kafka_topic_partition_list_add(start, tp->topic, tp->partition)
            ->offset = at;
    }
    if (start->cnt > 0) {
        e = sl__kafka_commit_wait(j->rk, start);
        /* A group with live members (another process) refuses a commit
         * outside its generation: those members made its start. */
        if (e && e != RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID &&
            e != RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION &&
            e != RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
            kc_init_fail(j, e, "committing the group's start");
            goto out;
        }
        if (!e) {
            j->ncommitted = start->cnt;
        } else {
            /* Refused: the first assignment of these partitions starts
             * there instead (and commits it as a member). */
            j->starts = start;
            start = NULL;
        }
    }
out:
    if (start)
        rd_kafka_topic_partition_list_destroy(start);
    rd_kafka_topic_partition_list_destroy(all);
}

static void kc_put(struct sl__kafka_sub *s);

static void kc_subscribe_now(struct sl__kafka_sub *s)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)s->k->ntopics);
    rd_kafka_resp_err_t e;

    for (size_t i = 0; i < s->k->ntopics; i++)
        rd_kafka_topic_partition_list_add(l, s->k->topics[i],
                                          RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(s->c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        SL_LOG(SL_LOG_ERROR, &s->k->log, "group %s: cannot subscribe: %s",
               s->base.group, rd_kafka_err2str(e));
        s->err_rc = sl_kafka_errno(e);
        snprintf(s->err_msg, sizeof(s->err_msg), "%s", rd_kafka_err2str(e));
        return;
    }
    s->subscribed = true;
}

static void kc_init_start(struct sl__kafka_sub *s);

static void kc_init_after(void *arg)
{
    struct kc_init *j = arg;
    struct sl__kafka_sub *s = j->s;

    s->initing = false;
    s->init = NULL;
    if (s->torn) {
        /* Unsubscribed meanwhile: the consumer is ours to close now. */
        kc_close_client(s->c);
        s->c = NULL;
    } else if (j->rc < 0) {
        if (j->rc != s->init_rc)
            SL_LOG(SL_LOG_WARN, &s->k->log,
                   "group %s: cannot start yet: %s; retrying", s->base.group,
                   j->msg);
        s->init_rc = j->rc;
        s->err_rc = j->rc;
        snprintf(s->err_msg, sizeof(s->err_msg), "%s", j->msg);
        s->init_at = sl__kafka_wall_ms() + s->init_backoff;
        s->init_backoff = s->init_backoff * 2 > KC_INIT_MAX_MS
                              ? KC_INIT_MAX_MS
                              : s->init_backoff * 2;
        kc_arm(s);
    } else {
        if (j->ncommitted > 0 || j->starts)
            SL_LOG(SL_LOG_INFO, &s->k->log,
                   "group %s: new; starts at the end of %d partitions",
                   s->base.group,
                   j->ncommitted + (j->starts ? j->starts->cnt : 0));
        if (s->starts)
            rd_kafka_topic_partition_list_destroy(s->starts);
        s->starts = j->starts;
        j->starts = NULL;
        s->init_rc = 0;
        kc_subscribe_now(s);
    }
    for (size_t i = 0; i < j->ntopics; i++)
        sl_free(j->topics[i]);
    sl_free(j->topics);
    sl_free(j->known);
    if (j->starts)
        rd_kafka_topic_partition_list_destroy(j->starts);
    sl_free(j);
    kc_put(s);
}

static void kc_init_start(struct sl__kafka_sub *s)
{
    struct kc_init *j = sl_xcalloc(1, sizeof(*j));

    s->init_at = 0;
    j->s = s;
    j->rk = s->c->rk;
    memcpy(j->cluster, s->c->closing.cluster, sizeof(j->cluster));
    memcpy(j->group, s->c->closing.group, sizeof(j->group));
    j->ntopics = s->k->ntopics;
    j->topics = sl_xcalloc(j->ntopics, sizeof(*j->topics));
    for (size_t i = 0; i < j->ntopics; i++)
        j->topics[i] = sl_xstrdup(s->k->topics[i]);
    if (s->nknown > 0) {
        j->nknown = s->nknown;
        j->known = sl_xmemdup(s->known, (size_t)s->nknown * sizeof(int64_t));
    }
    s->initing = true;
    s->init = j;
    s->refs++;
    sl_kafka_call(s->base.b->loop, kc_init_work, kc_init_after, j, NULL);
}

static void kc_timer(void *arg)
{
    struct sl__kafka_sub *s = arg;

    if (s->init_at > 0 && sl__kafka_wall_ms() >= s->init_at && !s->initing &&
        !s->torn)
        kc_init_start(s);
    kc_pump(s);
}

/* ---- closing a consumer (job) ---- */

static void kc_close_after(void *arg)
{
    sl_free(arg);
}

/* Hand 'c' (its pump already gone) to a job that closes it. */
static void kc_close_client(struct kc_client *c)
{
    if (!c)
        return;
    if (c->q)
        rd_kafka_queue_destroy(c->q);
    c->q = NULL;
    c->closing_now = true;
    c->s = NULL;
    c->closing.rk = c->rk;
    c->rk = NULL;
    c->closing.loop = c->loop;
    c->closing.after = kc_close_after;
    c->closing.arg = c;
    sl__kafka_close_consumer(&c->closing);
}

/* ---- subscription life ---- */

static void kc_free(struct sl__kafka_sub *s)
{
    if (s->starts)
        rd_kafka_topic_partition_list_destroy(s->starts);
    sl_free(s->known);
    for (size_t i = 0; i < s->nparts; i++) {
        sl_free(s->parts[i]->win);
        sl_free(s->parts[i]);
    }
    sl_free(s->parts);
    sl_free(s->base.group);
    sl_free(s);
}

static void kc_put(struct sl__kafka_sub *s)
{
    if (--s->refs == 0)
        kc_free(s);
}

static struct kc_client *kc_client_new(struct sl__kafka *k, const char *group,
                                       struct sl_diag *d)
{
    struct kc_client *c = sl_xcalloc(1, sizeof(*c));
    rd_kafka_conf_t *conf = NULL;
    char cid[300], err[256];
    static const char *const set[][2] = {
        { "enable.auto.commit", "false" },
        { "enable.auto.offset.store", "false" },
        { "auto.offset.reset", "earliest" },
        { "session.timeout.ms", SL__KAFKA_SESSION_TIMEOUT_MS },
        { "heartbeat.interval.ms", SL__KAFKA_HEARTBEAT_MS },
        { "fetch.wait.max.ms", KC_FETCH_WAIT_MS },
        { "queued.max.messages.kbytes", KC_QUEUED_KBYTES },
        { "queued.min.messages", KC_QUEUED_MIN_MSG },
    };
    int rc;

    c->loop = k->base.loop;
    c->log = k->log;
    snprintf(c->closing.group, sizeof(c->closing.group), "%s", group);
    sl__kafka_cluster(k, c->closing.cluster, sizeof(c->closing.cluster));
    snprintf(cid, sizeof(cid), "sluice-%s", group);
    rc = sl_kafka_conf_new(k->props, cid, &conf, d);
    if (rc < 0)
        goto fail;
    if (rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        rc = sl_diag_set(d, SL_EINVAL, "group.id", "%s", err);
        goto fail;
    }
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        struct json_object *v;
        /* the Broker's own properties win */
        if (json_object_object_get_ex(k->props, set[i][0], &v))
            continue;
        if (rd_kafka_conf_set(conf, set[i][0], set[i][1], err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            rc = sl_diag_set(d, SL_EINVAL, set[i][0], "%s", err);
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, kc_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, kc_commit_cb);
    rd_kafka_conf_set_stats_cb(conf, kc_stats_cb);
    rd_kafka_conf_set_error_cb(conf, kc_error_cb);
    rc = sl_kafka_client_new(RD_KAFKA_CONSUMER, conf, &c->rk, d);
    conf = NULL;
    if (rc < 0)
        goto fail;
    rd_kafka_poll_set_consumer(c->rk);
    c->q = rd_kafka_queue_get_consumer(c->rk);
    return c;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    sl_free(c);
    return NULL;
}

int sl__kafka_subscribe(struct sl_backend *b, const char *group,
                        const struct sl_backend_sub_opts *opts,
                        sl_backend_record_fn *on_record, void *arg,
                        struct sl_backend_sub **out)
{
    struct sl__kafka *k = sl_container_of(b, struct sl__kafka, base);
    struct sl__kafka_sub *s;
    struct sl_diag d;

    for (s = k->subs; s; s = s->next)
        if (strcmp(s->base.group, group) == 0)
            return SL_EEXIST;
    sl_diag_clear(&d);
    struct kc_client *c = kc_client_new(k, group, &d);
    if (!c) {
        SL_LOG(SL_LOG_ERROR, &k->log, "group %s: cannot make a consumer: %s",
               group, d.msg);
        return SL_EINVAL;
    }
    s = sl_xcalloc(1, sizeof(*s));
    s->k = k;
    s->c = c;
    c->s = s;
    s->refs = 1;
    s->base.b = b;
    s->base.group = sl_xstrdup(group);
    s->base.max_outstanding = opts->max_outstanding;
    s->base.on_record = on_record;
    s->base.arg = arg;
    s->init_backoff = KC_INIT_MIN_MS;
    if (!k->reader && k->nknown > 0) {
        s->nknown = k->nknown;
        s->known = sl_xmalloc((size_t)k->nknown * sizeof(int64_t));
        for (int i = 0; i < k->nknown; i++)
            s->known[i] = sl__kafka_known_end(k, i);
    }
    s->timer = sl_timer_new(b->loop, kc_timer, s);
    s->ctimer = sl_timer_new(b->loop, kc_ctimer, s);
    if (sl_kafka_pump_new(b->loop, c->q, kc_pump_fn, s, KC_PUMP_TICK_MS,
                          &s->pump, &d) < 0) {
        SL_LOG(SL_LOG_ERROR, &k->log, "group %s: %s", group, d.msg);
        sl_timer_free(s->timer);
        sl_timer_free(s->ctimer);
        kc_close_client(c);
        kc_free(s);
        return SL_EIO;
    }
    s->next = k->subs;
    k->subs = s;
    {
        size_t i;
        for (i = 0; i < k->ngroups && strcmp(k->groups[i], group) != 0; i++)
            ;
        if (i == k->ngroups) {
            k->groups =
                sl_xrealloc(k->groups, (k->ngroups + 1) * sizeof(*k->groups));
            k->groups[k->ngroups++] = sl_xstrdup(group);
        }
    }
    if (k->reader && k->earliest)
        kc_subscribe_now(s); /* a new group starts at the earliest */
    else
        kc_init_start(s);
    *out = &s->base;
    return 0;
}

int sl__kafka_settle(struct sl_backend_sub *base, const struct sl_record *rec,
                     const struct sl_settle *how)
{
    struct sl__kafka_sub *s = sl_container_of(base, struct sl__kafka_sub, base);
    struct kc_rec *x;

    /* Look it up rather than trust the pointer: a record settled twice
     * (or not ours) is refused, never dereferenced. The list holds at
     * most max_outstanding records. */
    for (x = s->torn ? NULL : s->pushed.tail; x && &x->rec != rec; x = x->prev)
        ;
    if (!x)
        return SL_EINVAL;
    list_del(&s->pushed, x);
    s->base.outstanding--;
    if (x->gen != x->p->gen) {
        /* Revoked since: the next owner reads it again. */
        rec_free(x);
    } else if (how->outcome == SL_SETTLE_DONE) {
        win_final(s, x->p, x->seq);
        rec_free(x);
    } else {
        x->state = KR_HELD;
        x->not_before = how->not_before_ms;
        x->rec.attempts = how->attempts;
        list_add(&s->held, x);
    }
    if (!s->pumping)
        kc_pump(s);
    return 0;
}

static void kc_teardown(struct sl__kafka_sub *s)
{
    struct sl__kafka *k = s->k;

    s->torn = true;
    for (struct sl__kafka_sub **pp = &k->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    kc_commit(s, NULL);
    sl_timer_free(s->timer);
    sl_timer_free(s->ctimer);
    s->timer = s->ctimer = NULL;
    sl_kafka_pump_free(s->pump);
    s->pump = NULL;
    list_free_all(&s->backlog);
    list_free_all(&s->pushed);
    list_free_all(&s->held);
    s->base.outstanding = 0;
    if (s->c)
        s->c->s = NULL;
    /* A running start job still uses the consumer: it closes it after
     * (told to give up any wait). */
    if (s->initing)
        sl__kafka_forget_wait_cancel(&s->init->cancel);
    if (!s->initing) {
        kc_close_client(s->c);
        s->c = NULL;
    }
    kc_put(s);
}

void sl__kafka_unsubscribe(struct sl_backend_sub *base)
{
    struct sl__kafka_sub *s = sl_container_of(base, struct sl__kafka_sub, base);

    if (s->pumping) {
        s->dead = true;
        return;
    }
    kc_teardown(s);
}

/* ---- health ---- */

int sl__kafka_subs_health(struct sl__kafka *k, struct sl_diag *why)
{
    for (struct sl__kafka_sub *s = k->subs; s; s = s->next) {
        const struct sl_kafka_reach *r = s->c ? &s->c->reach : NULL;
        if (k->reader && r && r->updated_ms > 0 && r->brokers_up == 0)
            return sl_diag_set(why, SL_EIO, "bootstrap.servers",
                               "Kafka cluster unreachable: %s",
                               r->why[0] ? r->why : "no broker is up");
        if (s->err_rc == SL_EPERM)
            return sl_diag_set(why, SL_EIO, "auth.secret.ref.name",
                               "not authorized (consumer group %s): %s",
                               s->base.group, s->err_msg);
        if (k->reader && s->err_rc == SL_ENOENT)
            return sl_diag_set(why, SL_EIO, "topic", "%s", s->err_msg);
    }
    return 0;
}
