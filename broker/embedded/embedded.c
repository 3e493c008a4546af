/*
 * broker/embedded/embedded.c - the Embedded broker log: one SQLite database
 * per broker in the data directory, WAL mode, synchronous=FULL, group
 * commit on a writer thread.
 *
 * Threads. The loop thread owns the instance, the subscriptions and the
 * reader connection (rdb). The writer thread owns the writer connection
 * (wdb) and runs every write: it takes all queued operations at once, runs
 * them in one transaction, commits (one fsync of the WAL), then posts the
 * completions of the transaction's appends to the loop as one task (one
 * wake-up per commit). Appends arriving while a commit runs
 * wait in the queue and go into the next transaction together. The queue
 * (ops, stop, busy) and the counters are guarded by 'mu'. The loop thread
 * collects the ops of one loop iteration (the requests of one burst) and
 * hands them over together when the iteration is over, so that they share
 * a transaction instead of the first one waking the writer alone.
 *
 * Schema (docs/broker.md explains the invariants):
 *   events(seq INTEGER PRIMARY KEY AUTOINCREMENT, ts, size, body)
 *       body = the event in the CloudEvents JSON format; seq never reused
 *   groups(name PRIMARY KEY, cursor)   lowest seq not DONE for the group
 *   done(grp, seq)                     DONE seqs at or above the cursor
 *   retries(grp, seq, not_before, attempts)
 */
#include "broker/backend.h"

#include <errno.h>
#include <pthread.h>
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
#include "proto/json.h"

enum op_kind {
    OP_APPEND,
    OP_GROUP,    /* create the group row if missing */
    OP_PROGRESS, /* cursor moved and/or a seq became DONE */
    OP_RETRY,    /* persist a pending retry */
    OP_RETENTION,
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
    size_t n;
    int64_t ts;
    /* GROUP, PROGRESS, RETRY */
    char *group;
    uint64_t cursor;
    uint64_t seq; /* 0 = none */
    int64_t not_before;
    uint32_t attempts;
    /* RETENTION */
    int64_t max_age_ms;
    uint64_t max_bytes;
    uint64_t removed;
};

struct emb_rec {
    struct sl_record rec;
    uint64_t seq;
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
    uint64_t *done;     /* DONE seqs >= cursor, unsorted */
    size_t ndone, capdone;
    struct retry *retries;
    size_t nretries, capretries;
    struct emb_rec **inflight;
    size_t ninflight, capinflight;
    struct sl_timer *timer;
    bool pumping;
    bool dead; /* unsubscribed while pumping */
};

struct emb {
    struct sl_backend base;
    char *path;
    sqlite3 *rdb;            /* loop thread */
    sqlite3 *wdb;            /* writer thread once started */
    sqlite3_stmt *st_insert; /* writer thread: the append's INSERT */
    sqlite3_stmt *st_next, *st_get;
    pthread_t thr;
    bool thr_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* queue not empty, or stop */
    pthread_cond_t idle; /* queue drained and writer idle */
    struct op *head, *tail;
    bool stop, busy;
    /* Loop thread: ops of this loop iteration, handed to the writer at
     * once by 'flush_timer' (zero delay: at the start of the next
     * iteration), so that the requests of one iteration share a commit. */
    struct op *lhead, *ltail;
    struct sl_timer *flush_timer;
    struct sl_backend_stats stats;
    struct emb_sub *subs;
    sl_backend_done_fn *close_done;
    void *close_arg;
    struct sl_log_ctx log;
};

static const char emb_schema[] =
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  ts INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  body BLOB NOT NULL);"
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

/* The INSERT is prepared once and kept (finalized with the database). */
static int w_append(struct emb *e, struct op *op)
{
    sqlite3_stmt *st = e->st_insert;

    if (st == NULL &&
        sqlite3_prepare_v3(
            e->wdb, "INSERT INTO events(ts, size, body) VALUES (?1,?2,?3)", -1,
            SQLITE_PREPARE_PERSISTENT, &e->st_insert, NULL) != SQLITE_OK)
        return SL_EIO;
    st = e->st_insert;
    for (size_t i = 0; i < op->n; i++) {
        sqlite3_bind_int64(st, 1, op->ts);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->sizes[i]);
        sqlite3_bind_blob(st, 3, op->bodies[i], (int)op->sizes[i],
                          SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_clear_bindings(st);
            return SL_EIO;
        }
    }
    sqlite3_clear_bindings(st); /* the bodies are freed after the commit */
    return 0;
}

static int w_group(struct emb *e, struct op *op)
{
    sqlite3_stmt *st;

    if (w_prep(e->wdb,
               "INSERT OR IGNORE INTO groups(name, cursor) VALUES (?1, ?2)",
               &st) < 0)
        return SL_EIO;
    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cursor);
    return w_step(st);
}

static int w_progress(struct emb *e, struct op *op)
{
    sqlite3_stmt *st;

    if (w_prep(e->wdb, "UPDATE groups SET cursor = ?2 WHERE name = ?1", &st) <
        0)
        return SL_EIO;
    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cursor);
    if (w_step(st) < 0)
        return SL_EIO;
    if (w_prep(e->wdb, "DELETE FROM done WHERE grp = ?1 AND seq < ?2", &st) < 0)
        return SL_EIO;
    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->cursor);
    if (w_step(st) < 0)
        return SL_EIO;
    if (op->seq == 0)
        return 0;
    if (op->seq >= op->cursor) {
        if (w_prep(e->wdb,
                   "INSERT OR IGNORE INTO done(grp, seq) VALUES (?1,?2)",
                   &st) < 0)
            return SL_EIO;
        sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)op->seq);
        if (w_step(st) < 0)
            return SL_EIO;
    }
    if (w_prep(e->wdb, "DELETE FROM retries WHERE grp = ?1 AND seq = ?2", &st) <
        0)
        return SL_EIO;
    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->seq);
    return w_step(st);
}

static int w_retry(struct emb *e, struct op *op)
{
    sqlite3_stmt *st;

    if (w_prep(e->wdb,
               "INSERT OR REPLACE INTO retries(grp, seq, not_before, attempts)"
               " VALUES (?1, ?2, ?3, ?4)",
               &st) < 0)
        return SL_EIO;
    sqlite3_bind_text(st, 1, op->group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)op->seq);
    sqlite3_bind_int64(st, 3, op->not_before);
    sqlite3_bind_int64(st, 4, op->attempts);
    return w_step(st);
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
    }
    return SL_EINVAL;
}

static void op_free(struct op *op)
{
    for (size_t i = 0; i < op->n; i++)
        sl_free(op->bodies[i]);
    sl_free(op->bodies);
    sl_free(op->sizes);
    sl_free(op->group);
    sl_free(op);
}

static void pump_all(struct emb *e);

/*
 * Loop thread: the completions of one transaction's appends and
 * retentions ('arg' is the first op, linked in queue order), all from one
 * posted task: one wake-up of the loop per commit, not per append.
 */
static void op_complete(void *arg)
{
    struct op *op = arg;
    struct emb *e = op->e;
    bool appended = false;

    while (op != NULL) {
        struct op *next = op->next;
        appended = appended || (op->kind == OP_APPEND && op->rc == 0);
        op->done(op->arg, op->rc);
        op_free(op);
        op = next;
    }
    if (appended)
        pump_all(e);
}

static void close_finish(void *arg);

static void *writer_main(void *arg)
{
    struct emb *e = arg;

    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->head && !e->stop)
            pthread_cond_wait(&e->cv, &e->mu);
        if (!e->head)
            break;
        struct op *batch = e->head;
        e->head = e->tail = NULL;
        e->busy = true;
        pthread_mutex_unlock(&e->mu);

        int rc = w_exec(e->wdb, "BEGIN IMMEDIATE");
        for (struct op *op = batch; op && rc == 0; op = op->next)
            rc = w_op(e, op);
        if (rc == 0)
            rc = w_exec(e->wdb, "COMMIT");
        if (rc < 0) {
            sl_log_write(SL_LOG_ERROR, &e->log, NULL, "commit failed: %s",
                         sqlite3_errmsg(e->wdb));
            w_exec(e->wdb, "ROLLBACK");
        }

        uint64_t appends = 0, events = 0, removed = 0;
        struct op *done_head = NULL, **done_tail = &done_head;
        for (struct op *op = batch, *next; op; op = next) {
            next = op->next;
            op->rc = rc;
            if (rc == 0 && op->kind == OP_APPEND) {
                appends++;
                events += op->n;
            }
            if (rc == 0 && op->kind == OP_RETENTION)
                removed += op->removed;
            if (op->done) {
                op->next = NULL;
                *done_tail = op;
                done_tail = &op->next;
            } else {
                op_free(op);
            }
        }
        pthread_mutex_lock(&e->mu);
        if (rc == 0) {
            e->stats.transactions++;
            e->stats.appends += appends;
            e->stats.events += events;
            e->stats.removed += removed;
        }
        /* After the counters: a completion sees its commit counted. */
        if (done_head != NULL)
            sl_loop_post(e->base.loop, op_complete, done_head);
        e->busy = false;
        pthread_cond_broadcast(&e->idle);
    }
    pthread_mutex_unlock(&e->mu);
    sl_loop_post(e->base.loop, close_finish, e);
    return NULL;
}

/* Loop thread: hand the ops collected so far to the writer. */
static void flush(struct emb *e)
{
    if (e->lhead == NULL)
        return;
    sl_timer_stop(e->flush_timer);
    pthread_mutex_lock(&e->mu);
    if (e->tail)
        e->tail->next = e->lhead;
    else
        e->head = e->lhead;
    e->tail = e->ltail;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    e->lhead = e->ltail = NULL;
}

static void on_flush_timer(void *arg)
{
    flush(arg);
}

/*
 * Loop thread: queue 'op' for the writer. Ops keep their order; they
 * reach the writer when this loop iteration is over (flush), in one
 * hand-off, instead of waking the writer for the first op of a burst.
 */
static void enqueue(struct emb *e, struct op *op)
{
    op->e = e;
    op->next = NULL;
    if (e->ltail)
        e->ltail->next = op;
    else
        e->lhead = op;
    e->ltail = op;
    if (!sl_timer_active(e->flush_timer))
        sl_timer_start(e->flush_timer, 0, 0);
}

/* Wait until everything queued so far is committed (rare: subscribe). */
static void sync_writer(struct emb *e)
{
    flush(e);
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
    e->flush_timer = sl_timer_new(b->loop, on_flush_timer, e);
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

static void emb_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct emb *e = emb_of(b);
    struct open_req *r = sl_xmalloc(sizeof(*r));
    int rc = open_db(e, &e->wdb);

    if (rc == 0)
        rc = w_exec(e->wdb, "PRAGMA journal_mode=WAL;"
                            "PRAGMA synchronous=FULL;");
    if (rc == 0)
        rc = w_exec(e->wdb, emb_schema);
    if (rc == 0)
        rc = open_db(e, &e->rdb);
    if (rc == 0)
        rc = w_exec(e->rdb, "PRAGMA query_only=1");
    if (rc == 0 &&
        (w_prep(e->rdb,
                "SELECT seq, ts, body FROM events WHERE seq >= ?1"
                " ORDER BY seq LIMIT 1",
                &e->st_next) < 0 ||
         w_prep(e->rdb, "SELECT seq, ts, body FROM events WHERE seq = ?1",
                &e->st_get) < 0))
        rc = SL_EIO;
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
    sqlite3_finalize(e->st_insert);
    e->st_insert = NULL;
    sqlite3_finalize(e->st_next);
    sqlite3_finalize(e->st_get);
    e->st_next = e->st_get = NULL;
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
    flush(e); /* the writer commits what is queued before it stops */
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void emb_fini(struct sl_backend *b)
{
    struct emb *e = emb_of(b);

    close_dbs(e);
    sl_timer_free(e->flush_timer);
    while (e->lhead != NULL) { /* never handed over: no writer ran */
        struct op *op = e->lhead;
        e->lhead = op->next;
        op_free(op);
    }
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
    }
    op->ts = wall_ms();
    op->done = done;
    op->arg = arg;
    enqueue(e, op);
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
    enqueue(emb_of(b), op);
}

/* ---- subscriptions ---- */

static bool done_has(const struct emb_sub *s, uint64_t seq, size_t *at)
{
    for (size_t i = 0; i < s->ndone; i++)
        if (s->done[i] == seq) {
            if (at)
                *at = i;
            return true;
        }
    return false;
}

static void done_add(struct emb_sub *s, uint64_t seq)
{
    if (done_has(s, seq, NULL))
        return;
    if (s->ndone == s->capdone) {
        s->capdone = s->capdone ? 2 * s->capdone : 16;
        s->done = sl_xrealloc(s->done, s->capdone * sizeof(*s->done));
    }
    s->done[s->ndone++] = seq;
}

static struct retry *retry_find(struct emb_sub *s, uint64_t seq)
{
    for (size_t i = 0; i < s->nretries; i++)
        if (s->retries[i].seq == seq)
            return &s->retries[i];
    return NULL;
}

static void retry_del(struct emb_sub *s, uint64_t seq)
{
    struct retry *r = retry_find(s, seq);

    if (r)
        *r = s->retries[--s->nretries];
}

static struct retry *retry_put(struct emb_sub *s, uint64_t seq)
{
    struct retry *r = retry_find(s, seq);

    if (r)
        return r;
    if (s->nretries == s->capretries) {
        s->capretries = s->capretries ? 2 * s->capretries : 8;
        s->retries =
            sl_xrealloc(s->retries, s->capretries * sizeof(*s->retries));
    }
    r = &s->retries[s->nretries++];
    *r = (struct retry){ .seq = seq };
    return r;
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
        size_t at;
        if (done_has(s, s->cursor, &at)) {
            s->done[at] = s->done[--s->ndone];
            s->cursor++;
            continue;
        }
        if (s->cursor >= s->next_read || inflight_has(s, s->cursor) ||
            retry_find(s, s->cursor))
            return;
        /* a gap: jump to the lowest seq we know of, or next_read */
        uint64_t m = s->next_read;
        for (size_t i = 0; i < s->ndone; i++)
            if (s->done[i] >= s->cursor && s->done[i] < m)
                m = s->done[i];
        for (size_t i = 0; i < s->nretries; i++)
            if (s->retries[i].seq >= s->cursor && s->retries[i].seq < m)
                m = s->retries[i].seq;
        for (size_t i = 0; i < s->ninflight; i++)
            if (s->inflight[i]->seq >= s->cursor && s->inflight[i]->seq < m)
                m = s->inflight[i]->seq;
        s->cursor = m;
    }
}

static void persist_progress(struct emb_sub *s, uint64_t seq)
{
    struct op *op = sl_xcalloc(1, sizeof(*op));

    op->kind = OP_PROGRESS;
    op->group = sl_xstrdup(s->base.group);
    op->cursor = s->cursor;
    op->seq = seq;
    enqueue(s->e, op);
}

/* Mark 'seq' DONE (pushed or not) and persist. */
static void mark_done(struct emb_sub *s, uint64_t seq)
{
    retry_del(s, seq);
    if (seq >= s->cursor)
        done_add(s, seq);
    advance_cursor(s);
    persist_progress(s, seq);
}

/*
 * Read 'seq' (exact) or the first seq >= 'seq' (next) on the reader
 * connection. Returns 1 with the row decoded, 0 when none, <0 on error.
 * A row that fails to decode gives *ev NULL.
 */
static int read_row(struct emb *e, bool exact, uint64_t seq, uint64_t *out_seq,
                    int64_t *ts, struct sl_event **ev)
{
    sqlite3_stmt *st = exact ? e->st_get : e->st_next;
    int rc;

    *ev = NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out_seq = (uint64_t)sqlite3_column_int64(st, 0);
        *ts = sqlite3_column_int64(st, 1);
        const char *body = sqlite3_column_blob(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        struct sl_ce_opts o = { .max_event_size =
                                    e->base.limits.max_event_size * 2 };
        if (sl_ce_json_decode(body ? body : "", (size_t)len, &o, ev, NULL) <
            0) {
            sl_log_write(SL_LOG_ERROR, &e->log, NULL,
                         "record %llu does not decode; skipped",
                         (unsigned long long)*out_seq);
            *ev = NULL;
        }
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
    int64_t first = INT64_MAX;

    /* No free slot: the next settle pumps (and re-arms); a timer now
     * would only spin. */
    if (s->base.outstanding >= s->base.max_outstanding) {
        sl_timer_stop(s->timer);
        return;
    }
    for (size_t i = 0; i < s->nretries; i++)
        if (!s->retries[i].inflight && s->retries[i].not_before < first)
            first = s->retries[i].not_before;
    if (first == INT64_MAX) {
        sl_timer_stop(s->timer);
        return;
    }
    int64_t d = first - wall_ms();
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
        int64_t now = wall_ms();
        struct retry *due = NULL;
        for (size_t i = 0; i < s->nretries; i++) {
            struct retry *r = &s->retries[i];
            if (!r->inflight && r->not_before <= now &&
                (!due || r->seq < due->seq))
                due = r;
        }
        uint64_t seq;
        int64_t ts;
        struct sl_event *ev;
        int rc;
        if (due) {
            uint64_t want = due->seq;
            uint32_t attempts = due->attempts;
            rc = read_row(e, true, want, &seq, &ts, &ev);
            if (rc < 0)
                break;
            if (rc == 0 || !ev) { /* removed by retention, or corrupt */
                mark_done(s, want);
                continue;
            }
            due->inflight = true;
            push(s, seq, ts, ev, attempts); /* takes over 'ev' */
            continue;
        }
        if (s->next_read < s->cursor) /* DONE records loaded at subscribe */
            s->next_read = s->cursor;
        rc = read_row(e, false, s->next_read, &seq, &ts, &ev);
        if (rc <= 0)
            break;
        s->next_read = seq + 1;
        if (!ev) {
            mark_done(s, seq);
            continue;
        }
        if (done_has(s, seq, NULL) || retry_find(s, seq)) {
            sl_event_unref(ev);
            continue;
        }
        push(s, seq, ts, ev, 0);
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
                    " WHERE grp = ?1",
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
    s->timer = sl_timer_new(b->loop, on_timer, s);
    s->next = e->subs;
    e->subs = s;
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
        struct op *op = sl_xcalloc(1, sizeof(*op));
        op->kind = OP_RETRY;
        op->group = sl_xstrdup(s->base.group);
        op->seq = seq;
        op->not_before = how->not_before_ms;
        op->attempts = how->attempts;
        enqueue(s->e, op);
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
    .close = emb_close,
    .drop = emb_drop,
    .stats = emb_stats,
    .fini = emb_fini,
};
