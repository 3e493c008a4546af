/*
 * broker/embedded/embedded.c - the Embedded broker log: one SQLite database
 * per broker in the data directory, WAL mode, synchronous=FULL, group
 * commit on a writer thread.
 *
 * Threads. The loop thread owns the instance, the subscriptions, the
 * record cache and the reader connection (rdb). The writer thread owns the
 * writer connection (wdb) and its prepared statements and runs every
 * write: it takes all queued operations at once, runs them in one
 * transaction, commits (one fsync of the WAL), posts each append's
 * completion to the loop, then decodes the appended records and posts
 * them to the loop's cache. Appends arriving while a commit runs wait in
 * the queue and go into the next transaction together. The queue (ops,
 * stop, busy) and the counters are guarded by 'mu'.
 *
 * Writes made on the loop thread (appends, DONE, RETRY) are gathered for
 * the rest of the loop iteration and handed to the writer at once, in
 * their order, by a zero-delay flush timer (one lock, one wake-up, and a
 * burst of requests shares one transaction). Progress is one coalesced
 * PROGRESS op per subscription per iteration; the writer coalesces again
 * per group per transaction (one cursor UPDATE for the group's last op).
 * The completions of one commit go back to the loop as one task; with
 * no subscription the committed records are not decoded for the cache.
 * The writer checkpoints the WAL itself, between transactions (a WAL hook
 * replaces SQLite's auto-checkpoint, which would run inside COMMIT).
 *
 * Schema (docs/broker.md explains the invariants):
 *   events(seq INTEGER PRIMARY KEY AUTOINCREMENT, ts, size, body, headers)
 *       body = the event in the CloudEvents JSON format; seq never reused
 *       headers = its transport headers (sl_event_headers_encode), NULL
 *       when it has none; added by ALTER TABLE to databases made before
 *       the column existed (emb_migrate)
 *   groups(name PRIMARY KEY, cursor)   lowest seq not DONE for the group
 *   done(grp, seq)                     DONE seqs at or above the cursor
 *   retries(grp, seq, not_before, attempts)
 */
#include "broker/backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "proto/json.h"

/* Record cache bounds (decoded events kept for the subscriptions). */
#define EMB_CACHE_MAX   1024       /* records */
#define EMB_CACHE_BYTES (8u << 20) /* cent_bytes() summed */
#define EMB_READ_BATCH  64         /* rows per backlog read */

/* WAL checkpoints (writer thread, between transactions): when the queue
 * is empty and the WAL holds EMB_CKPT_BYTES (SQLite's default of 1,000
 * pages of 4 KiB), or after any commit once it holds EMB_CKPT_FORCE
 * (bounds the WAL under a load that never lets the queue empty). */
#define EMB_CKPT_BYTES (4u << 20)
#define EMB_CKPT_FORCE (32u << 20)
/* Page size of new databases: a commit of a few dozen 1 KiB events is a
 * few WAL frames (two writes each), not dozens. Older databases keep
 * theirs (SQLite cannot change it in WAL mode). */
#define EMB_PAGE_SIZE  "16384"

enum op_kind {
    OP_APPEND,
    OP_GROUP,    /* create the group row if missing */
    OP_PROGRESS, /* cursor moved; seqs became DONE (coalesced) */
    OP_RETRY,    /* persist a pending retry */
    OP_RETENTION,
    OP_FORGET, /* delete a group's progress and retries */
};

struct seqv {
    uint64_t *v;
    size_t n, cap;
};

struct op {
    struct op *next;
    enum op_kind kind;
    struct emb *e;
    sl_backend_done_fn *done; /* APPEND, RETENTION */
    void *arg;
    int rc;
    /* APPEND */
    char **bodies;
    size_t *sizes;
    uint64_t *seqs; /* assigned by the writer */
    char **hdrs;    /* stored transport headers; NULL: none */
    size_t *hdr_sizes;
    size_t n;
    int64_t ts;
    /* GROUP, PROGRESS, RETRY */
    char *group;
    uint64_t cursor;
    uint64_t seq; /* RETRY */
    int64_t not_before;
    uint32_t attempts;
    /* PROGRESS */
    struct seqv dones;   /* DONE seqs to record (if still >= the cursor) */
    struct seqv unretry; /* retry rows to delete */
    uint64_t final;      /* writer: the group's cursor after this batch */
    bool last;           /* writer: the group's last PROGRESS of the batch */
    /* RETENTION */
    int64_t max_age_ms;
    uint64_t max_bytes;
    uint64_t removed;
    /* APPEND, writer: committed while no subscription existed, so its
     * records were not decoded for the cache (ops_complete moves the
     * cache's tail past them instead) */
    bool uncached;
};

/* A decoded record shared by the subscriptions (ev NULL: does not decode). */
struct cent {
    uint64_t seq;
    int64_t ts;
    struct sl_event *ev;
};

/* Records decoded by the writer after a commit, for the loop's cache. */
struct fresh {
    struct emb *e;
    struct cent *ents;
    size_t n;
    char **bodies; /* writer: the JSON text until decoded */
    size_t *lens;
    char **hdrs; /* writer: stored transport headers (NULL: none) */
    size_t *hlens;
};

struct emb_rec {
    struct sl_record rec;
    uint64_t seq;
    size_t idx; /* in the subscription's inflight array */
};

struct retry {
    uint64_t seq;
    int64_t not_before;
    uint32_t attempts;
    bool inflight;
};

struct emb_sub {
    struct sl_backend_sub base;
    struct emb *e;
    struct emb_sub *next;
    uint64_t cursor;    /* lowest seq not DONE */
    uint64_t next_read; /* next seq to read fresh */
    /* DONE seqs >= cursor: bit i of 'done' is seq dbase + i (dbase <=
     * cursor, rebased by whole words as the cursor moves) */
    uint64_t *done;
    size_t donew; /* words */
    uint64_t dbase;
    size_t ndone;          /* bits set */
    struct retry *retries; /* sorted by seq */
    size_t nretries, capretries;
    int64_t next_due; /* <= not_before of every retry not in flight */
    struct emb_rec **inflight;
    size_t ninflight, capinflight;
    struct op *prog; /* open coalesced PROGRESS op in e->pending */
    struct sl_timer *timer;
    bool pumping;
    bool dead; /* unsubscribed while pumping */
};

enum {
    W_INS_EVENT,
    W_INS_GROUP,
    W_UPD_CURSOR,
    W_DEL_DONE_BELOW,
    W_INS_DONE,
    W_DEL_RETRY,
    W_PUT_RETRY,
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_NSTMT
};

static const char *const w_sql[W_NSTMT] = {
    [W_INS_EVENT] = "INSERT INTO events(ts, size, body, headers)"
                    " VALUES (?1,?2,?3,?4)",
    [W_INS_GROUP] =
        "INSERT OR IGNORE INTO groups(name, cursor) VALUES (?1, ?2)",
    [W_UPD_CURSOR] = "UPDATE groups SET cursor = ?2 WHERE name = ?1",
    [W_DEL_DONE_BELOW] = "DELETE FROM done WHERE grp = ?1 AND seq < ?2",
    [W_INS_DONE] = "INSERT OR IGNORE INTO done(grp, seq) VALUES (?1,?2)",
    [W_DEL_RETRY] = "DELETE FROM retries WHERE grp = ?1 AND seq = ?2",
    [W_PUT_RETRY] =
        ("INSERT OR REPLACE INTO retries(grp, seq, not_before, attempts)"
         " VALUES (?1, ?2, ?3, ?4)"),
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
};

struct emb {
    struct sl_backend base;
    char *path;
    sqlite3 *rdb;                   /* loop thread */
    sqlite3 *wdb;                   /* writer thread once started */
    sqlite3_stmt *st_next, *st_get; /* rdb */
    sqlite3_stmt *w_st[W_NSTMT];    /* wdb */
    pthread_t thr;
    bool thr_started;
    int wal_pages; /* writer: pages in the WAL after the last commit */
    int ckpt_pages, ckpt_force; /* the thresholds above, in pages */
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* queue not empty, or stop */
    pthread_cond_t idle; /* queue drained and writer idle */
    struct op *head, *tail;
    bool stop, busy;
    struct sl_backend_stats stats;
    struct emb_sub *subs;
    atomic_bool has_subs; /* subs != NULL, for the writer */
    /* loop thread: progress ops not yet handed to the writer */
    struct op *pend_head, *pend_tail;
    struct sl_timer *flush;
    /* loop thread: the record cache. ring[] holds decoded records in seq
     * order (a circular array of EMB_CACHE_MAX); every committed record
     * with a seq in [win_lo, tail_seq] is in it. 'back' is the last
     * backlog read: every record in [back_lo, back[nback-1].seq]. */
    struct cent *ring;
    size_t rhead, rlen, rbytes;
    uint64_t win_lo, tail_seq;
    struct cent back[EMB_READ_BATCH];
    size_t nback;
    uint64_t back_lo;
    sl_backend_done_fn *close_done;
    void *close_arg;
    struct sl_log_ctx log;
};

static const char emb_schema[] =
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  body BLOB NOT NULL,"
    "  headers BLOB);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE TABLE IF NOT EXISTS groups ("
    "  name TEXT PRIMARY KEY,"
    "  cursor INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS done ("
    "  grp TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (grp, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS retries ("
    "  grp TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  PRIMARY KEY (grp, seq)) WITHOUT ROWID;";

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct emb *emb_of(struct sl_backend *b)
{
    return sl_container_of(b, struct emb, base);
}

static void seqv_add(struct seqv *v, uint64_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 8;
        v->v = sl_xrealloc(v->v, v->cap * sizeof(*v->v));
    }
    v->v[v->n++] = x;
}

/* ---- writer thread ---- */

static int w_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : SL_EIO;
}

static int w_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SL_EIO;
}

static int w_prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : SL_EIO;
}

/* Run a kept statement once (bindings set by the caller) and reset it. */
static int w_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SL_EIO;
}

/* A kept statement with (group, integer) bound, run once. */
static int w_run_gi(struct emb *e, int which, const char *group, uint64_t v)
{
    sqlite3_stmt *st = e->w_st[which];

    sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
    return w_run(st);
}

static int w_append(struct emb *e, struct op *op)
{
    sqlite3_stmt *st = e->w_st[W_INS_EVENT];

    for (size_t i = 0; i < op->n; i++) {
        sqlite3_bind_int64(st, 1, op->ts);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->sizes[i]);
        sqlite3_bind_blob(st, 3, op->bodies[i], (int)op->sizes[i],
                          SQLITE_STATIC);
        if (op->hdrs[i] != NULL)
            sqlite3_bind_blob(st, 4, op->hdrs[i], (int)op->hdr_sizes[i],
                              SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        if (w_run(st) < 0) {
            /* The bound memory goes with the op: leave nothing pointing
             * at it. */
            sqlite3_clear_bindings(st);
            return SL_EIO;
        }
        op->seqs[i] = (uint64_t)sqlite3_last_insert_rowid(e->wdb);
    }
    sqlite3_clear_bindings(st);
    return 0;
}

static int w_group(struct emb *e, struct op *op)
{
    return w_run_gi(e, W_INS_GROUP, op->group, op->cursor);
}

/*
 * A coalesced PROGRESS op. Only the group's last one in the transaction
 * writes the cursor and prunes DONE rows below it ('final'); DONE seqs
 * below 'final' need no row at all.
 */
static int w_progress(struct emb *e, struct op *op)
{
    for (size_t i = 0; i < op->dones.n; i++)
        if (op->dones.v[i] >= op->final &&
            w_run_gi(e, W_INS_DONE, op->group, op->dones.v[i]) < 0)
            return SL_EIO;
    for (size_t i = 0; i < op->unretry.n; i++)
        if (w_run_gi(e, W_DEL_RETRY, op->group, op->unretry.v[i]) < 0)
            return SL_EIO;
    if (!op->last)
        return 0;
    if (w_run_gi(e, W_UPD_CURSOR, op->group, op->final) < 0)
        return SL_EIO;
    return w_run_gi(e, W_DEL_DONE_BELOW, op->group, op->final);
}

static int w_retry(struct emb *e, struct op *op)
{
    sqlite3_stmt *st = e->w_st[W_PUT_RETRY];

    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->seq);
    sqlite3_bind_int64(st, 3, op->not_before);
    sqlite3_bind_int64(st, 4, op->attempts);
    return w_run(st);
}

/*
 * Mark, per group, its last PROGRESS op of the batch and give every one
 * the group's final cursor. Cursors of a group only grow in queue order
 * (one subscription per group at a time; a new one starts from what the
 * previous one committed), so the last op's cursor is the maximum.
 */
static void w_coalesce(struct op *batch)
{
    struct sl_map last;

    sl_map_init(&last, NULL);
    for (struct op *op = batch; op; op = op->next)
        if (op->kind == OP_PROGRESS)
            sl_map_put(&last, op->group, op, NULL);
    for (struct op *op = batch; op; op = op->next)
        if (op->kind == OP_PROGRESS) {
            struct op *l = sl_map_get(&last, op->group);
            op->last = l == op;
            op->final = l->cursor;
        }
    sl_map_fini(&last);
}

static int w_delete_below(struct emb *e, const char *sql, int64_t v,
                          uint64_t *removed)
{
    sqlite3_stmt *st;

    if (w_prep(e->wdb, sql, &st) < 0)
        return SL_EIO;
    sqlite3_bind_int64(st, 1, v);
    if (w_step(st) < 0)
        return SL_EIO;
    *removed += (uint64_t)sqlite3_changes(e->wdb);
    return 0;
}

static int w_retention(struct emb *e, struct op *op)
{
    sqlite3_stmt *st;
    int rc;

    /* 1. what every group has passed */
    if (w_prep(e->wdb, "SELECT MIN(cursor) FROM groups", &st) < 0)
        return SL_EIO;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t min = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (w_delete_below(e, "DELETE FROM events WHERE seq < ?1", min,
                           &op->removed) < 0)
            return SL_EIO;
    } else {
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return SL_EIO;
    }
    /* 2. older than max_age, whatever the groups */
    if (op->max_age_ms > 0 &&
        w_delete_below(e, "DELETE FROM events WHERE ts < ?1",
                       wall_ms() - op->max_age_ms, &op->removed) < 0)
        return SL_EIO;
    /* 3. beyond max_bytes counted from the newest */
    if (op->max_bytes > 0) {
        uint64_t total = 0;
        int64_t cut = 0;

        if (w_prep(e->wdb, "SELECT seq, size FROM events ORDER BY seq DESC",
                   &st) < 0)
            return SL_EIO;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            total += (uint64_t)sqlite3_column_int64(st, 1);
            if (total > op->max_bytes) {
                cut = sqlite3_column_int64(st, 0);
                break;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return SL_EIO;
        if (cut > 0 && w_delete_below(e, "DELETE FROM events WHERE seq < ?1",
                                      cut + 1, &op->removed) < 0)
            return SL_EIO;
    }
    return 0;
}

static int w_forget(struct emb *e, struct op *op)
{
    static const char *const sql[] = {
        "DELETE FROM groups WHERE name = ?1",
        "DELETE FROM done WHERE grp = ?1",
        "DELETE FROM retries WHERE grp = ?1",
    };

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        sqlite3_stmt *st;

        if (w_prep(e->wdb, sql[i], &st) < 0)
            return SL_EIO;
        sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
        if (w_step(st) < 0)
            return SL_EIO;
    }
    return 0;
}

static int w_op(struct emb *e, struct op *op)
{
    switch (op->kind) {
    case OP_APPEND:
        return w_append(e, op);
    case OP_GROUP:
        return w_group(e, op);
    case OP_PROGRESS:
        return w_progress(e, op);
    case OP_RETRY:
        return w_retry(e, op);
    case OP_RETENTION:
        return w_retention(e, op);
    case OP_FORGET:
        return w_forget(e, op);
    }
    return SL_EINVAL;
}

static void op_free(struct op *op)
{
    if (op->bodies)
        for (size_t i = 0; i < op->n; i++)
            sl_free(op->bodies[i]);
    if (op->hdrs)
        for (size_t i = 0; i < op->n; i++)
            sl_free(op->hdrs[i]);
    sl_free(op->bodies);
    sl_free(op->sizes);
    sl_free(op->seqs);
    sl_free(op->hdrs);
    sl_free(op->hdr_sizes);
    sl_free(op->group);
    sl_free(op->dones.v);
    sl_free(op->unretry.v);
    sl_free(op);
}

static void cache_clear(struct emb *e);
static void pump_all(struct emb *e);
static void fresh_ready(void *arg);

/*
 * Loop thread: the completions of one commit (appends, retentions,
 * forgets), a list in queue order, each called then freed.
 */
static void ops_complete(void *arg)
{
    struct emb *e = NULL;
    uint64_t tail = 0;

    for (struct op *op = arg, *next; op; op = next) {
        next = op->next;
        /* Records removed by retention must not be served from the cache. */
        if (op->kind == OP_RETENTION && op->rc == 0 && op->removed > 0)
            cache_clear(op->e);
        if (op->uncached && op->rc == 0 && op->n > 0) {
            e = op->e;
            tail = op->seqs[op->n - 1];
        }
        op->done(op->arg, op->rc);
        op_free(op);
    }
    /* Records committed without a cache entry: the window restarts above
     * them, so they are read from the database when asked for. */
    if (e != NULL && tail > e->tail_seq) {
        e->tail_seq = tail;
        cache_clear(e);
        pump_all(e);
    }
}

/*
 * Writer thread, after a successful commit: take the bodies of the
 * batch's appends (op_complete frees the ops concurrently on the loop),
 * to decode each once for every subscription to share.
 */
static struct fresh *w_fresh_take(struct emb *e, struct op *batch)
{
    struct fresh *f;
    size_t n = 0;

    for (struct op *op = batch; op; op = op->next)
        if (op->kind == OP_APPEND)
            n += op->n;
    if (n == 0)
        return NULL;
    f = sl_xcalloc(1, sizeof(*f));
    f->e = e;
    f->ents = sl_xcalloc(n, sizeof(*f->ents));
    f->bodies = sl_xcalloc(n, sizeof(*f->bodies));
    f->lens = sl_xcalloc(n, sizeof(*f->lens));
    f->hdrs = sl_xcalloc(n, sizeof(*f->hdrs));
    f->hlens = sl_xcalloc(n, sizeof(*f->hlens));
    for (struct op *op = batch; op; op = op->next) {
        if (op->kind != OP_APPEND)
            continue;
        for (size_t i = 0; i < op->n; i++) {
            f->ents[f->n] = (struct cent){ op->seqs[i], op->ts, NULL };
            f->bodies[f->n] = op->bodies[i];
            f->lens[f->n] = op->sizes[i];
            f->hdrs[f->n] = op->hdrs[i];
            f->hlens[f->n] = op->hdr_sizes[i];
            f->n++;
        }
        sl_free(op->bodies); /* the strings now belong to 'f' */
        op->bodies = NULL;
        sl_free(op->hdrs);
        op->hdrs = NULL;
    }
    return f;
}

static struct sl_event *decode_body(struct emb *e, uint64_t seq,
                                    const char *body, size_t len)
{
    struct sl_ce_opts o = { .max_event_size =
                                e->base.limits.max_event_size * 2 };
    struct sl_event *ev = NULL;

    if (sl_ce_json_decode(body ? body : "", len, &o, &ev, NULL) < 0) {
        sl_log_write(SL_LOG_ERROR, &e->log, NULL,
                     "record %llu does not decode; skipped",
                     (unsigned long long)seq);
        return NULL;
    }
    return ev;
}

/*
 * Restore stored transport headers p[0..n) (NULL/0: none) of record 'seq'
 * onto 'ev'. Damaged headers cost the headers, not the event: logged,
 * and the event goes on without them.
 */
static void restore_headers(struct emb *e, uint64_t seq, struct sl_event *ev,
                            const void *p, size_t n)
{
    if (ev == NULL || p == NULL || n == 0)
        return;
    if (sl_event_headers_decode(ev, p, n) < 0)
        sl_log_write(SL_LOG_WARN, &e->log, NULL,
                     "record %llu: stored headers do not decode; dropped",
                     (unsigned long long)seq);
}

/* The same from column 'col' of the current row of 'st'. */
static void read_headers(struct emb *e, sqlite3_stmt *st, int col, uint64_t seq,
                         struct sl_event *ev)
{
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);

    restore_headers(e, seq, ev, p, n > 0 ? (size_t)n : 0);
}

static void w_fresh_decode(struct emb *e, struct fresh *f)
{
    for (size_t i = 0; i < f->n; i++) {
        f->ents[i].ev =
            decode_body(e, f->ents[i].seq, f->bodies[i], f->lens[i]);
        restore_headers(e, f->ents[i].seq, f->ents[i].ev, f->hdrs[i],
                        f->hlens[i]);
        sl_free(f->bodies[i]);
        sl_free(f->hdrs[i]);
    }
    sl_free(f->bodies);
    sl_free(f->lens);
    sl_free(f->hdrs);
    sl_free(f->hlens);
    f->bodies = NULL;
    f->lens = NULL;
    f->hdrs = NULL;
    f->hlens = NULL;
}

static void close_finish(void *arg);

static int w_kept(struct emb *e, int which)
{
    return w_run(e->w_st[which]);
}

/*
 * Writer connection's WAL hook (replaces SQLite's auto-checkpoint, which
 * would run inside COMMIT, before the batch's 202s could go out): only
 * note the WAL's size; writer_main checkpoints between transactions.
 */
static int w_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct emb *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

/* A PASSIVE checkpoint: copies what no reader still needs, never waits. */
static void w_checkpoint(struct emb *e)
{
    if (sqlite3_wal_checkpoint_v2(e->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL) != SQLITE_OK)
        sl_log_write(SL_LOG_WARN, &e->log, NULL, "checkpoint failed: %s",
                     sqlite3_errmsg(e->wdb));
    e->wal_pages = 0; /* the next commit's hook tells what is left */
}

static void *writer_main(void *arg)
{
    struct emb *e = arg;

    pthread_mutex_lock(&e->mu);
    for (;;) {
        if (!e->head && !e->stop && e->wal_pages >= e->ckpt_pages) {
            /* idle: nobody waits for this checkpoint */
            pthread_mutex_unlock(&e->mu);
            w_checkpoint(e);
            pthread_mutex_lock(&e->mu);
            continue;
        }
        while (!e->head && !e->stop)
            pthread_cond_wait(&e->cv, &e->mu);
        if (!e->head)
            break;
        struct op *batch = e->head;
        e->head = e->tail = NULL;
        e->busy = true;
        pthread_mutex_unlock(&e->mu);

        w_coalesce(batch);
        int rc = w_kept(e, W_BEGIN);
        for (struct op *op = batch; op && rc == 0; op = op->next)
            rc = w_op(e, op);
        if (rc == 0)
            rc = w_kept(e, W_COMMIT);
        if (rc < 0) {
            sl_log_write(SL_LOG_ERROR, &e->log, NULL, "commit failed: %s",
                         sqlite3_errmsg(e->wdb));
            w_kept(e, W_ROLLBACK);
        }

        /* Decode for the cache only when someone may read it: with no
         * subscription the loop just moves the cache's tail (a later
         * subscriber reads these records from the database). */
        bool cache = atomic_load(&e->has_subs);
        struct fresh *fr = rc == 0 && cache ? w_fresh_take(e, batch) : NULL;
        uint64_t appends = 0, events = 0, removed = 0;
        for (struct op *op = batch; op; op = op->next) {
            if (rc == 0 && op->kind == OP_APPEND) {
                appends++;
                events += op->n;
                op->uncached = !cache;
            }
            if (rc == 0 && op->kind == OP_RETENTION)
                removed += op->removed;
        }
        /* Counters first: a completion's callback may read them. */
        pthread_mutex_lock(&e->mu);
        if (rc == 0) {
            e->stats.transactions++;
            e->stats.appends += appends;
            e->stats.events += events;
            e->stats.removed += removed;
        }
        pthread_mutex_unlock(&e->mu);
        /* One task for the whole commit: the ops with a completion, in
         * queue order (one post, not one per append). */
        struct op *chead = NULL, **ctail = &chead;
        for (struct op *op = batch, *next; op; op = next) {
            next = op->next;
            op->rc = rc;
            op->next = NULL;
            if (op->done) {
                *ctail = op;
                ctail = &op->next;
            } else {
                op_free(op);
            }
        }
        if (chead)
            sl_loop_post(e->base.loop, ops_complete, chead);
        if (fr) {
            w_fresh_decode(e, fr);
            sl_loop_post(e->base.loop, fresh_ready, fr);
        }
        if (e->wal_pages >= e->ckpt_force)
            w_checkpoint(e);
        pthread_mutex_lock(&e->mu);
        e->busy = false;
        pthread_cond_broadcast(&e->idle);
    }
    pthread_mutex_unlock(&e->mu);
    sl_loop_post(e->base.loop, close_finish, e);
    return NULL;
}

/* Hand the list first..last to the writer (one lock, one wake-up). */
static void enqueue_list(struct emb *e, struct op *first, struct op *last)
{
    for (struct op *op = first; op; op = op->next)
        op->e = e;
    pthread_mutex_lock(&e->mu);
    if (e->tail)
        e->tail->next = first;
    else
        e->head = first;
    e->tail = last;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void enqueue(struct emb *e, struct op *op)
{
    enqueue_list(e, op, op);
}

/*
 * Loop thread: queue a write (append, progress, retry) for the flush at
 * the end of this loop iteration. Order among pending ops is kept, and
 * they go to the writer before anything enqueued after the flush.
 */
static void pend(struct emb *e, struct op *op)
{
    op->e = e;
    if (!e->flush) { /* not opened: straight to the queue, as before */
        enqueue(e, op);
        return;
    }
    if (e->pend_tail)
        e->pend_tail->next = op;
    else
        e->pend_head = op;
    e->pend_tail = op;
    if (!sl_timer_active(e->flush))
        sl_timer_start(e->flush, 0, 0);
}

/* Loop thread: hand the pending writes to the writer, in their order. */
static void flush_pending(struct emb *e)
{
    struct op *first = e->pend_head, *last = e->pend_tail;

    for (struct emb_sub *s = e->subs; s; s = s->next)
        s->prog = NULL; /* later settles start a new op */
    e->pend_head = e->pend_tail = NULL;
    if (e->flush)
        sl_timer_stop(e->flush);
    if (first)
        enqueue_list(e, first, last);
}

static void on_flush(void *arg)
{
    flush_pending(arg);
}

/* Wait until everything queued so far is committed (rare: subscribe). */
static void sync_writer(struct emb *e)
{
    flush_pending(e);
    pthread_mutex_lock(&e->mu);
    while (e->head || e->busy)
        pthread_cond_wait(&e->idle, &e->mu);
    pthread_mutex_unlock(&e->mu);
}
/* ---- ops: life cycle ---- */

static int emb_validate(struct json_object *broker, struct json_object *config,
                        struct sl_diag *diag)
{
    (void)broker;
    (void)config;
    (void)diag;
    return 0;
}

static int emb_init(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                    struct sl_diag *diag)
{
    struct emb *e = emb_of(b);
    struct sl_buf p;

    (void)cfg;
    sl_buf_init(&p, 4096);
    if (sl_buf_appendf(&p, "%s/broker_%s_%s.db", b->data_dir, b->ns, b->name) <
        0) {
        sl_buf_fini(&p);
        return sl_diag_set(diag, SL_EINVAL, "", "data directory path too long");
    }
    e->path = sl_buf_steal(&p, NULL);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    pthread_cond_init(&e->idle, NULL);
    sl_log_ctx_init(&e->log, "broker-embedded", b->ns, b->name);
    return 0;
}

static int open_db(struct emb *e, sqlite3 **db)
{
    if (sqlite3_open_v2(e->path, db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sl_log_write(SL_LOG_ERROR, &e->log, NULL, "open %s: %s", e->path,
                     *db ? sqlite3_errmsg(*db) : "out of memory");
        return SL_EIO;
    }
    sqlite3_busy_timeout(*db, 5000);
    return 0;
}

/*
 * Bring a database made by an older sluice up to the current schema:
 * events.headers (transport headers) came later. ALTER TABLE ... ADD
 * COLUMN of a nullable column only rewrites the schema, not the rows;
 * old rows read as NULL, that is no headers. Writer connection, at open.
 */
static int emb_migrate(sqlite3 *db)
{
    sqlite3_stmt *st;
    bool has = false;
    int rc;

    if (w_prep(db, "PRAGMA table_info(events)", &st) < 0)
        return SL_EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *col = sqlite3_column_text(st, 1);
        if (col != NULL && strcmp((const char *)col, "headers") == 0)
            has = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return SL_EIO;
    return has ? 0 : w_exec(db, "ALTER TABLE events ADD COLUMN headers BLOB");
}

struct open_req {
    sl_backend_done_fn *done;
    void *arg;
    struct emb *e;
    int rc;
};

static void open_done(void *arg)
{
    struct open_req *r = arg;

    r->e->base.state = r->rc == 0 ? SL_BACKEND_OPEN : SL_BACKEND_FAILED;
    r->done(r->arg, r->rc);
    sl_free(r);
}

/* The checkpoint thresholds in pages of this database; the WAL hook. */
static int w_ckpt_setup(struct emb *e)
{
    sqlite3_stmt *st;
    int page = 0;

    if (w_prep(e->wdb, "PRAGMA page_size", &st) < 0)
        return SL_EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (page <= 0)
        return SL_EIO;
    e->ckpt_pages = (int)(EMB_CKPT_BYTES / (unsigned)page);
    e->ckpt_force = (int)(EMB_CKPT_FORCE / (unsigned)page);
    sqlite3_wal_hook(e->wdb, w_wal_hook, e);
    return 0;
}

/* The highest seq ever appended (0 when none): where the cache starts. */
static int log_tail(struct emb *e)
{
    sqlite3_stmt *st;
    int rc;

    /* no sqlite_sequence table before the first insert */
    if (w_prep(e->rdb, "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
               &st) < 0) {
        e->tail_seq = 0;
        return 0;
    }
    rc = sqlite3_step(st);
    e->tail_seq = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : SL_EIO;
}

static void emb_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct emb *e = emb_of(b);
    struct open_req *r = sl_xmalloc(sizeof(*r));
    int rc = open_db(e, &e->wdb);

    if (rc == 0)
        rc = w_exec(e->wdb, "PRAGMA page_size=" EMB_PAGE_SIZE ";"
                            "PRAGMA journal_mode=WAL;"
                            "PRAGMA synchronous=FULL;");
    if (rc == 0)
        rc = w_exec(e->wdb, emb_schema);
    if (rc == 0)
        rc = emb_migrate(e->wdb);
    if (rc == 0)
        rc = open_db(e, &e->rdb);
    if (rc == 0)
        rc = w_exec(e->rdb, "PRAGMA query_only=1");
    if (rc == 0 &&
        (w_prep(e->rdb,
                "SELECT seq, ts, body, headers FROM events WHERE seq >= ?1"
                " ORDER BY seq LIMIT ?2",
                &e->st_next) < 0 ||
         w_prep(e->rdb,
                "SELECT seq, ts, body, headers FROM events WHERE seq = ?1",
                &e->st_get) < 0))
        rc = SL_EIO;
    for (int i = 0; rc == 0 && i < W_NSTMT; i++)
        if (sqlite3_prepare_v3(e->wdb, w_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &e->w_st[i], NULL) != SQLITE_OK)
            rc = SL_EIO;
    if (rc == 0)
        rc = log_tail(e);
    if (rc == 0) /* checkpoints between transactions, not in COMMIT */
        rc = w_ckpt_setup(e);
    if (rc == 0) {
        e->ring = sl_xcalloc(EMB_CACHE_MAX, sizeof(*e->ring));
        e->win_lo = e->tail_seq + 1;
        e->flush = sl_timer_new(b->loop, on_flush, e);
    }
    if (rc == 0) {
        if (pthread_create(&e->thr, NULL, writer_main, e) != 0)
            rc = SL_EIO;
        else
            e->thr_started = true;
    }
    if (rc < 0)
        sl_log_write(SL_LOG_ERROR, &e->log, NULL, "open failed: %s",
                     e->wdb ? sqlite3_errmsg(e->wdb) : "no database");
    *r = (struct open_req){ done, arg, e, rc };
    sl_loop_post(b->loop, open_done, r);
}

static void close_dbs(struct emb *e)
{
    sqlite3_finalize(e->st_next);
    sqlite3_finalize(e->st_get);
    e->st_next = e->st_get = NULL;
    for (int i = 0; i < W_NSTMT; i++) {
        sqlite3_finalize(e->w_st[i]);
        e->w_st[i] = NULL;
    }
    sqlite3_close(e->rdb);
    sqlite3_close(e->wdb);
    e->rdb = e->wdb = NULL;
}

/* Loop thread: the writer drained its queue and returned. */
static void close_finish(void *arg)
{
    struct emb *e = arg;

    pthread_join(e->thr, NULL);
    e->thr_started = false;
    close_dbs(e);
    e->base.state = SL_BACKEND_CLOSED;
    e->close_done(e->close_arg, 0);
}

struct close_req {
    struct emb *e;
    sl_backend_done_fn *done;
    void *arg;
};

static void close_now(void *arg)
{
    struct close_req *r = arg;

    close_dbs(r->e);
    r->e->base.state = SL_BACKEND_CLOSED;
    r->done(r->arg, 0);
    sl_free(r);
}

static void emb_close(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct emb *e = emb_of(b);

    if (!e->thr_started) { /* open failed before the writer started */
        struct close_req *r = sl_xmalloc(sizeof(*r));
        *r = (struct close_req){ e, done, arg };
        sl_loop_post(b->loop, close_now, r);
        return;
    }
    e->close_done = done;
    e->close_arg = arg;
    flush_pending(e); /* settles made so far are committed before the end */
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void emb_fini(struct sl_backend *b)
{
    struct emb *e = emb_of(b);

    close_dbs(e);
    for (struct op *op = e->pend_head, *next; op; op = next) {
        next = op->next;
        op_free(op);
    }
    e->pend_head = e->pend_tail = NULL;
    cache_clear(e);
    sl_free(e->ring);
    e->ring = NULL;
    sl_timer_free(e->flush);
    e->flush = NULL;
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    pthread_cond_destroy(&e->idle);
    sl_free(e->path);
}

static int emb_drop(struct sl_backend *b, struct sl_diag *diag)
{
    struct emb *e = emb_of(b);
    static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
    char p[4200];

    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, sfx[i]);
        if (unlink(p) < 0 && errno != ENOENT)
            return sl_diag_set(diag, sl_err_from_errno(errno), "",
                               "remove %s: %s", p, strerror(errno));
    }
    return 0;
}

static void emb_stats(struct sl_backend *b, struct sl_backend_stats *out)
{
    struct emb *e = emb_of(b);

    pthread_mutex_lock(&e->mu);
    *out = e->stats;
    pthread_mutex_unlock(&e->mu);
}

/* ---- ops: append, retention ---- */

static int emb_append(struct sl_backend *b, struct sl_event *const *events,
                      size_t n, sl_backend_done_fn *done, void *arg)
{
    struct emb *e = emb_of(b);
    struct op *op = sl_xcalloc(1, sizeof(*op));

    op->kind = OP_APPEND;
    op->bodies = sl_xcalloc(n, sizeof(*op->bodies));
    op->sizes = sl_xcalloc(n, sizeof(*op->sizes));
    op->seqs = sl_xcalloc(n, sizeof(*op->seqs));
    op->hdrs = sl_xcalloc(n, sizeof(*op->hdrs));
    op->hdr_sizes = sl_xcalloc(n, sizeof(*op->hdr_sizes));
    for (size_t i = 0; i < n; i++) {
        struct sl_buf buf;
        /* the JSON text of an event is at most ~4/3 of its size plus names */
        sl_buf_init(&buf, 2 * b->limits.max_event_size + 4096);
        if (sl_event_size(events[i]) > b->limits.max_event_size ||
            sl_ce_json_encode(events[i], &buf) < 0) {
            sl_buf_fini(&buf);
            op_free(op);
            return SL_ETOOBIG;
        }
        op->bodies[i] = sl_buf_steal(&buf, &op->sizes[i]);
        op->n = i + 1;
        if (events[i]->nhdrs > 0) {
            /* bounded by the event's own limits, so this always fits */
            sl_buf_init(&buf, 2 * SL_EVENT_MAX_HEADER_BYTES);
            (void)sl_event_headers_encode(events[i], &buf);
            op->hdrs[i] = sl_buf_steal(&buf, &op->hdr_sizes[i]);
        }
    }
    op->ts = wall_ms();
    op->done = done;
    op->arg = arg;
    /* With the other writes of this loop iteration, in one hand-off at
     * its end: a burst of requests shares one transaction. */
    pend(e, op);
    return 0;
}

static void emb_retention(struct sl_backend *b, int64_t max_age_ms,
                          uint64_t max_bytes, sl_backend_done_fn *done,
                          void *arg)
{
    struct op *op = sl_xcalloc(1, sizeof(*op));

    op->kind = OP_RETENTION;
    op->max_age_ms = max_age_ms;
    op->max_bytes = max_bytes;
    op->done = done;
    op->arg = arg;
    /* After the settles made so far: it reads the groups' cursors. */
    flush_pending(emb_of(b));
    enqueue(emb_of(b), op);
}

static void emb_forget(struct sl_backend *b, const char *group,
                       sl_backend_done_fn *done, void *arg)
{
    struct op *op = sl_xcalloc(1, sizeof(*op));

    op->kind = OP_FORGET;
    op->group = sl_xstrdup(group);
    op->done = done;
    op->arg = arg;
    flush_pending(emb_of(b));
    enqueue(emb_of(b), op);
}

/* ---- record cache (loop thread) ---- */

static struct cent *ring_at(struct emb *e, size_t i)
{
    return &e->ring[(e->rhead + i) % EMB_CACHE_MAX];
}

/* What a cached event costs against EMB_CACHE_BYTES: its size plus its
 * transport headers (up to SL_EVENT_MAX_HEADER_BYTES each). */
static size_t cent_bytes(const struct sl_event *ev)
{
    size_t n;

    if (ev == NULL)
        return 0;
    n = sl_event_size(ev);
    for (size_t i = 0; i < ev->nhdrs; i++)
        n += strlen(ev->hdrs[i].name) + strlen(ev->hdrs[i].value);
    return n;
}

static void ring_pop(struct emb *e)
{
    struct cent *c = ring_at(e, 0);

    e->win_lo = c->seq + 1; /* nothing between it and the next entry */
    if (c->ev) {
        e->rbytes -= cent_bytes(c->ev);
        sl_event_unref(c->ev);
    }
    e->rhead = (e->rhead + 1) % EMB_CACHE_MAX;
    e->rlen--;
}

static void back_clear(struct emb *e)
{
    for (size_t i = 0; i < e->nback; i++)
        if (e->back[i].ev)
            sl_event_unref(e->back[i].ev);
    e->nback = 0;
}

static void cache_clear(struct emb *e)
{
    while (e->rlen)
        ring_pop(e);
    e->win_lo = e->tail_seq + 1;
    back_clear(e);
}

static void pump_all(struct emb *e);

/*
 * Loop thread: records of a commit, decoded by the writer. Commits are
 * posted in order and every append goes through this writer, so the
 * window [win_lo, tail_seq] stays complete: a seq in it that is not in
 * the ring does not exist.
 */
static void fresh_ready(void *arg)
{
    struct fresh *f = arg;
    struct emb *e = f->e;

    for (size_t i = 0; i < f->n; i++) {
        struct cent *c = &f->ents[i];
        size_t size = cent_bytes(c->ev);

        if (c->seq <= e->tail_seq) { /* cannot happen: seqs only grow */
            if (c->ev)
                sl_event_unref(c->ev);
            continue;
        }
        while (e->rlen == EMB_CACHE_MAX ||
               (e->rlen > 0 && e->rbytes + size > EMB_CACHE_BYTES))
            ring_pop(e);
        *ring_at(e, e->rlen) = *c;
        e->rlen++;
        e->rbytes += size;
        e->tail_seq = c->seq;
    }
    sl_free(f->ents);
    sl_free(f);
    pump_all(e);
}

/* Index of the first ring entry with seq >= x (rlen when none). */
static size_t ring_lower(struct emb *e, uint64_t x)
{
    size_t lo = 0, hi = e->rlen;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(e, mid)->seq < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first backlog entry with seq >= x (nback when none). */
static size_t back_lower(struct emb *e, uint64_t x)
{
    size_t lo = 0, hi = e->nback;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->back[mid].seq < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool back_covers(struct emb *e, uint64_t x)
{
    return e->nback > 0 && x >= e->back_lo && x <= e->back[e->nback - 1].seq;
}

/* A copy of 'c' whose event reference belongs to the caller. */
static int cent_take(const struct cent *c, struct cent *out)
{
    *out = *c;
    if (out->ev)
        sl_event_ref(out->ev);
    return 1;
}

/*
 * Read up to 'limit' rows from seq 'from' on with the reader connection
 * into the backlog slot (replacing it). 0 or SL_EIO.
 */
static int read_batch(struct emb *e, uint64_t from, int limit)
{
    sqlite3_stmt *st = e->st_next;
    int rc;

    back_clear(e);
    e->back_lo = from;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && e->nback < EMB_READ_BATCH) {
        struct cent *c = &e->back[e->nback++];
        c->seq = (uint64_t)sqlite3_column_int64(st, 0);
        c->ts = sqlite3_column_int64(st, 1);
        c->ev = decode_body(e, c->seq, sqlite3_column_blob(st, 2),
                            (size_t)sqlite3_column_bytes(st, 2));
        read_headers(e, st, 3, c->seq, c->ev);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return 0;
    back_clear(e);
    sl_log_write(SL_LOG_ERROR, &e->log, NULL, "read: %s",
                 sqlite3_errmsg(e->rdb));
    return SL_EIO;
}

/*
 * The first record with seq >= x: 1 with '*out' (its event referenced for
 * the caller, NULL when it does not decode), 0 when there is none (yet),
 * <0 on error. 'want' is how many the caller could take (read size).
 */
static int rec_next(struct emb *e, uint64_t x, uint32_t want, struct cent *out)
{
    if (x > e->tail_seq)
        return 0; /* a later commit's fresh_ready pumps again */
    if (x >= e->win_lo) {
        size_t i = ring_lower(e, x);
        return i < e->rlen ? cent_take(ring_at(e, i), out) : 0;
    }
    if (!back_covers(e, x)) {
        int limit = want < 16               ? 16
                    : want > EMB_READ_BATCH ? EMB_READ_BATCH
                                            : (int)want;
        if (read_batch(e, x, limit) < 0)
            return SL_EIO;
        if (e->nback == 0)
            return 0;
    }
    return cent_take(&e->back[back_lower(e, x)], out);
}

/* Record 'seq' exactly: as rec_next, 0 when it does not exist. */
static int rec_get(struct emb *e, uint64_t seq, struct cent *out)
{
    sqlite3_stmt *st = e->st_get;
    int rc;

    if (seq >= e->win_lo && seq <= e->tail_seq) {
        size_t i = ring_lower(e, seq);
        return i < e->rlen && ring_at(e, i)->seq == seq
                   ? cent_take(ring_at(e, i), out)
                   : 0;
    }
    if (back_covers(e, seq)) {
        size_t i = back_lower(e, seq);
        return e->back[i].seq == seq ? cent_take(&e->back[i], out) : 0;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->seq = seq;
        out->ts = sqlite3_column_int64(st, 1);
        out->ev = decode_body(e, seq, sqlite3_column_blob(st, 2),
                              (size_t)sqlite3_column_bytes(st, 2));
        read_headers(e, st, 3, seq, out->ev);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    sl_log_write(SL_LOG_ERROR, &e->log, NULL, "read: %s",
                 sqlite3_errmsg(e->rdb));
    return SL_EIO;
}

/* ---- subscriptions: DONE set, retries, in flight ---- */

static bool done_has(const struct emb_sub *s, uint64_t seq)
{
    if (s->ndone == 0 || seq < s->dbase)
        return false;
    uint64_t i = seq - s->dbase;
    return i / 64 < s->donew && (s->done[i / 64] >> (i % 64) & 1);
}

/* Add 'seq' (>= cursor) to the DONE set. */
static void done_add(struct emb_sub *s, uint64_t seq)
{
    if (s->ndone == 0)
        s->dbase = s->cursor; /* every word is zero: rebase for free */
    uint64_t i = seq - s->dbase;
    size_t w = (size_t)(i / 64);
    if (w >= s->donew) {
        size_t n = s->donew ? 2 * s->donew : 4;
        if (n <= w)
            n = w + 1;
        s->done = sl_xrealloc(s->done, n * sizeof(*s->done));
        memset(s->done + s->donew, 0, (n - s->donew) * sizeof(*s->done));
        s->donew = n;
    }
    uint64_t bit = (uint64_t)1 << (i % 64);
    if (!(s->done[w] & bit)) {
        s->done[w] |= bit;
        s->ndone++;
    }
}

static void done_del(struct emb_sub *s, uint64_t seq)
{
    uint64_t i = seq - s->dbase;
    s->done[i / 64] &= ~((uint64_t)1 << (i % 64));
    s->ndone--;
}

/* Lowest DONE seq (all are >= cursor), or UINT64_MAX. */
static uint64_t done_min(const struct emb_sub *s)
{
    if (s->ndone == 0)
        return UINT64_MAX;
    for (size_t w = (size_t)((s->cursor - s->dbase) / 64); w < s->donew; w++)
        if (s->done[w])
            return s->dbase + 64 * w + (uint64_t)__builtin_ctzll(s->done[w]);
    return UINT64_MAX;
}

/* Drop the words wholly below the cursor (every set bit is >= cursor). */
static void done_rebase(struct emb_sub *s)
{
    if (s->ndone == 0) {
        s->dbase = s->cursor;
        return;
    }
    size_t k = (size_t)((s->cursor - s->dbase) / 64);
    if (k == 0 || k >= s->donew)
        return;
    memmove(s->done, s->done + k, (s->donew - k) * sizeof(*s->done));
    memset(s->done + s->donew - k, 0, k * sizeof(*s->done));
    s->dbase += 64 * (uint64_t)k;
}

/* Index of the first retry with seq >= 'seq' (nretries when none). */
static size_t retry_lower(const struct emb_sub *s, uint64_t seq)
{
    size_t lo = 0, hi = s->nretries;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->retries[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct retry *retry_find(struct emb_sub *s, uint64_t seq)
{
    size_t i = retry_lower(s, seq);

    return i < s->nretries && s->retries[i].seq == seq ? &s->retries[i] : NULL;
}

/* Remove the retry of 'seq'; whether there was one. */
static bool retry_del(struct emb_sub *s, uint64_t seq)
{
    size_t i = retry_lower(s, seq);

    if (i == s->nretries || s->retries[i].seq != seq)
        return false;
    memmove(&s->retries[i], &s->retries[i + 1],
            (s->nretries - i - 1) * sizeof(*s->retries));
    s->nretries--;
    return true;
}

/* The retry of 'seq', added (zeroed but for seq) if missing. */
static struct retry *retry_put(struct emb_sub *s, uint64_t seq)
{
    size_t i = retry_lower(s, seq);

    if (i < s->nretries && s->retries[i].seq == seq)
        return &s->retries[i];
    if (s->nretries == s->capretries) {
        s->capretries = s->capretries ? 2 * s->capretries : 8;
        s->retries =
            sl_xrealloc(s->retries, s->capretries * sizeof(*s->retries));
    }
    memmove(&s->retries[i + 1], &s->retries[i],
            (s->nretries - i) * sizeof(*s->retries));
    s->nretries++;
    s->retries[i] = (struct retry){ .seq = seq };
    return &s->retries[i];
}

/* A retry's time (not in flight) became 'nb': keep next_due a bound. */
static void retry_due_at(struct emb_sub *s, int64_t nb)
{
    if (nb < s->next_due)
        s->next_due = nb;
}

/*
 * The due retry (not in flight) with the lowest seq, or NULL. Scans only
 * when next_due has come, and then makes next_due exact over the others,
 * so a fresh record does not pay for retries waiting far ahead.
 */
static struct retry *retry_due(struct emb_sub *s, int64_t now)
{
    struct retry *due = NULL;
    int64_t first = INT64_MAX;

    if (now < s->next_due)
        return NULL;
    for (size_t i = 0; i < s->nretries; i++) {
        struct retry *r = &s->retries[i];
        if (r->inflight)
            continue;
        if (!due && r->not_before <= now)
            due = r; /* sorted by seq: the lowest */
        else if (r->not_before < first)
            first = r->not_before;
    }
    s->next_due = first;
    return due;
}

static bool inflight_has(const struct emb_sub *s, uint64_t seq)
{
    for (size_t i = 0; i < s->ninflight; i++)
        if (s->inflight[i]->seq == seq)
            return true;
    return false;
}

/*
 * Move the cursor up: past DONE seqs, and past seqs below next_read that
 * were never pushed (they do not exist: removed by retention).
 */
static void advance_cursor(struct emb_sub *s)
{
    for (;;) {
        if (done_has(s, s->cursor)) {
            done_del(s, s->cursor);
            s->cursor++;
            continue;
        }
        if (s->cursor >= s->next_read || inflight_has(s, s->cursor) ||
            retry_find(s, s->cursor))
            break;
        /* a gap: jump to the lowest seq we know of, or next_read */
        uint64_t m = s->next_read, d = done_min(s);
        size_t r = retry_lower(s, s->cursor);
        if (d < m)
            m = d;
        if (r < s->nretries && s->retries[r].seq < m)
            m = s->retries[r].seq;
        for (size_t i = 0; i < s->ninflight; i++)
            if (s->inflight[i]->seq >= s->cursor && s->inflight[i]->seq < m)
                m = s->inflight[i]->seq;
        s->cursor = m;
    }
    done_rebase(s);
}

/* The subscription's open coalesced PROGRESS op (one per flush). */
static struct op *progress_op(struct emb_sub *s)
{
    if (!s->prog) {
        struct op *op = sl_xcalloc(1, sizeof(*op));
        op->kind = OP_PROGRESS;
        op->group = sl_xstrdup(s->base.group);
        op->cursor = s->cursor;
        pend(s->e, op);
        s->prog = op;
    }
    return s->prog;
}

/* Mark 'seq' DONE (pushed or not) and persist (at the next flush). */
static void mark_done(struct emb_sub *s, uint64_t seq)
{
    struct op *op = progress_op(s);

    if (retry_del(s, seq))
        seqv_add(&op->unretry, seq);
    if (seq >= s->cursor)
        done_add(s, seq);
    advance_cursor(s);
    /* A seq the cursor passed needs no row; the writer re-checks against
     * the group's final cursor of its transaction. */
    if (seq >= s->cursor)
        seqv_add(&op->dones, seq);
    op->cursor = s->cursor;
}

static void sub_free(struct emb_sub *s);

/* Push one record to the subscriber; the record takes over 'ev'. */
static void push(struct emb_sub *s, uint64_t seq, int64_t ts,
                 struct sl_event *ev, uint32_t attempts)
{
    struct emb_rec *r = sl_xcalloc(1, sizeof(*r));

    r->seq = seq;
    r->rec.ev = ev;
    r->rec.pos = (struct sl_pos){ 0, seq, 0 };
    r->rec.attempts = attempts;
    r->rec.appended_ms = ts;
    if (s->ninflight == s->capinflight) {
        s->capinflight = s->capinflight ? 2 * s->capinflight : 16;
        s->inflight =
            sl_xrealloc(s->inflight, s->capinflight * sizeof(*s->inflight));
    }
    s->inflight[s->ninflight++] = r;
    s->base.outstanding++;
    s->base.on_record(s->base.arg, &s->base, &r->rec);
}

static void arm_timer(struct emb_sub *s)
{
    /* No free slot: the next settle pumps (and re-arms); a timer now
     * would only spin. */
    if (s->base.outstanding >= s->base.max_outstanding || s->nretries == 0 ||
        s->next_due == INT64_MAX) {
        sl_timer_stop(s->timer);
        return;
    }
    int64_t d = s->next_due - wall_ms();
    sl_timer_start(s->timer, d > 0 ? (uint64_t)d : 0, 0);
}

/* Push what may be pushed now. Loop thread; re-entrant calls return. */
static void pump(struct emb_sub *s)
{
    struct emb *e = s->e;

    if (s->pumping)
        return;
    s->pumping = true;
    while (!s->dead && s->base.outstanding < s->base.max_outstanding) {
        struct retry *due = s->nretries ? retry_due(s, wall_ms()) : NULL;
        struct cent c;
        int rc;
        if (due) {
            uint64_t want = due->seq;
            uint32_t attempts = due->attempts;
            rc = rec_get(e, want, &c);
            if (rc < 0) {
                retry_due_at(s, due->not_before);
                break;
            }
            if (rc == 0 || !c.ev) { /* removed by retention, or corrupt */
                mark_done(s, want);
                continue;
            }
            due->inflight = true;
            push(s, c.seq, c.ts, c.ev, attempts); /* takes over 'ev' */
            continue;
        }
        if (s->next_read < s->cursor) /* DONE records loaded at subscribe */
            s->next_read = s->cursor;
        rc = rec_next(e, s->next_read,
                      s->base.max_outstanding - s->base.outstanding, &c);
        if (rc <= 0)
            break;
        s->next_read = c.seq + 1;
        if (!c.ev) {
            mark_done(s, c.seq);
            continue;
        }
        if (done_has(s, c.seq) || retry_find(s, c.seq)) {
            sl_event_unref(c.ev);
            continue;
        }
        push(s, c.seq, c.ts, c.ev, 0);
    }
    s->pumping = false;
    if (s->dead) {
        sub_free(s);
        return;
    }
    arm_timer(s);
}

static void on_timer(void *arg)
{
    pump(arg);
}

static void pump_all(struct emb *e)
{
    for (struct emb_sub *s = e->subs, *next; s; s = next) {
        next = s->next;
        pump(s);
    }
}
static int emb_subscribe(struct sl_backend *b, const char *group,
                         const struct sl_backend_sub_opts *opts,
                         sl_backend_record_fn *on_record, void *arg,
                         struct sl_backend_sub **out)
{
    struct emb *e = emb_of(b);
    sqlite3_stmt *st;
    bool known = false;
    int rc;

    for (struct emb_sub *s = e->subs; s; s = s->next)
        if (strcmp(s->base.group, group) == 0)
            return SL_EEXIST;
    sync_writer(e); /* progress of an earlier subscription is on disk */

    struct emb_sub *s = sl_xcalloc(1, sizeof(*s));
    s->e = e;
    s->base.b = b;
    s->base.group = sl_xstrdup(group);
    s->base.max_outstanding = opts->max_outstanding;
    s->base.on_record = on_record;
    s->base.arg = arg;

    rc = w_prep(e->rdb, "SELECT cursor FROM groups WHERE name = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            known = true;
            s->cursor = (uint64_t)sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    if (rc == 0 && !known) {
        rc = w_prep(e->rdb,
                    "SELECT IFNULL((SELECT seq FROM sqlite_sequence"
                    " WHERE name = 'events'), 0) + 1",
                    &st);
        if (rc == 0) {
            if (sqlite3_step(st) == SQLITE_ROW)
                s->cursor = (uint64_t)sqlite3_column_int64(st, 0);
            else
                rc = SL_EIO;
            sqlite3_finalize(st);
        }
        /* no sqlite_sequence table before the first insert */
        if (rc < 0) {
            rc = 0;
            s->cursor = 1;
        }
        struct op *op = sl_xcalloc(1, sizeof(*op));
        op->kind = OP_GROUP;
        op->group = sl_xstrdup(group);
        op->cursor = s->cursor;
        enqueue(e, op);
    }
    if (rc == 0 && known) {
        rc = w_prep(e->rdb, "SELECT seq FROM done WHERE grp = ?1 AND seq >= ?2",
                    &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)s->cursor);
            while (sqlite3_step(st) == SQLITE_ROW)
                done_add(s, (uint64_t)sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
        }
    }
    if (rc == 0 && known) {
        rc = w_prep(e->rdb,
                    "SELECT seq, not_before, attempts FROM retries"
                    " WHERE grp = ?1 ORDER BY seq",
                    &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                struct retry *r =
                    retry_put(s, (uint64_t)sqlite3_column_int64(st, 0));
                r->not_before = sqlite3_column_int64(st, 1);
                r->attempts = (uint32_t)sqlite3_column_int64(st, 2);
            }
            sqlite3_finalize(st);
        }
    }
    if (rc < 0) {
        sl_free(s->done);
        sl_free(s->retries);
        sl_free(s->base.group);
        sl_free(s);
        return SL_EIO;
    }
    s->next_read = s->cursor;
    s->next_due = 0; /* scan the loaded retries at the first pump */
    s->timer = sl_timer_new(b->loop, on_timer, s);
    s->next = e->subs;
    e->subs = s;
    atomic_store(&e->has_subs, true);
    *out = &s->base;
    sl_timer_start(s->timer, 0, 0); /* first pump from the loop */
    return 0;
}

static int emb_settle(struct sl_backend_sub *base, const struct sl_record *rec,
                      const struct sl_settle *how)
{
    struct emb_sub *s = sl_container_of(base, struct emb_sub, base);
    struct emb_rec *r = NULL;
    size_t i;

    for (i = 0; i < s->ninflight; i++)
        if (&s->inflight[i]->rec == rec) {
            r = s->inflight[i];
            break;
        }
    if (!r)
        return SL_EINVAL;
    s->inflight[i] = s->inflight[--s->ninflight];
    s->base.outstanding--;
    uint64_t seq = r->seq;
    sl_event_unref(r->rec.ev);
    sl_free(r);

    if (how->outcome == SL_SETTLE_DONE) {
        mark_done(s, seq);
    } else {
        struct retry *rt = retry_put(s, seq);
        rt->not_before = how->not_before_ms;
        rt->attempts = how->attempts;
        rt->inflight = false;
        retry_due_at(s, rt->not_before);
        struct op *op = sl_xcalloc(1, sizeof(*op));
        op->kind = OP_RETRY;
        op->group = sl_xstrdup(s->base.group);
        op->seq = seq;
        op->not_before = how->not_before_ms;
        op->attempts = how->attempts;
        /* After this row: a later DONE's delete of it must follow it, so
         * it goes into a new PROGRESS op. */
        s->prog = NULL;
        pend(s->e, op);
    }
    if (!s->pumping)
        pump(s);
    return 0;
}

static void sub_free(struct emb_sub *s)
{
    struct emb *e = s->e;

    for (struct emb_sub **pp = &e->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    atomic_store(&e->has_subs, e->subs != NULL);
    for (size_t i = 0; i < s->ninflight; i++) {
        sl_event_unref(s->inflight[i]->rec.ev);
        sl_free(s->inflight[i]);
    }
    sl_timer_free(s->timer);
    sl_free(s->inflight);
    sl_free(s->done);
    sl_free(s->retries);
    sl_free(s->base.group);
    sl_free(s);
}

static void emb_unsubscribe(struct sl_backend_sub *base)
{
    struct emb_sub *s = sl_container_of(base, struct emb_sub, base);

    if (s->pumping) {
        s->dead = true;
        return;
    }
    sub_free(s);
}

const struct sl_backend_ops sl_backend_embedded = {
    .cls = "Embedded",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct emb),
    .validate = emb_validate,
    .init = emb_init,
    .open = emb_open,
    .append = emb_append,
    .subscribe = emb_subscribe,
    .settle = emb_settle,
    .unsubscribe = emb_unsubscribe,
    .retention = emb_retention,
    .forget = emb_forget,
    .close = emb_close,
    .drop = emb_drop,
    .stats = emb_stats,
    .fini = emb_fini,
};
