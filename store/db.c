/*
 * store/db.c - the store's edge to the file system and SQLite.
 *
 * The data directory holds store.lock (flock'd while a store is open, with
 * the owner's pid inside for the error message of the next one) and
 * store.db with its WAL files. Every SQLite error is turned into SL_EIO
 * here, with SQLite's message in the diag; nothing above this file sees a
 * SQLite code. The schema and its invariants are described in
 * docs/store.md; SL_STORE_SCHEMA_VERSION numbers it.
 *
 * Every write function of store.c reads what it needs first and then
 * calls sl__store_db_commit once. Reading outside the write transaction is
 * safe because the store has one owner thread and the lock file keeps
 * every other process out, so nothing can change in between.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/selector.h"

static const char *const store_sql[ST_COUNT_] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_GET] = "SELECT body FROM objects"
               " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [ST_INSERT] = "INSERT INTO objects(kind, namespace, name, body)"
                  " VALUES (?1, ?2, ?3, ?4)",
    [ST_UPDATE] = "UPDATE objects SET body = ?4"
                  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [ST_DELETE] = "DELETE FROM objects"
                  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
    [ST_HIST_INSERT] = "INSERT INTO history(rv, type, kind, namespace, name,"
                       " ts, body, prev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                       " ?8)",
    [ST_META_SET] = "UPDATE meta SET value = ?2 WHERE key = ?1",
    [ST_HIST_NTH_NEWEST] = "SELECT rv FROM history ORDER BY rv DESC"
                           " LIMIT 1 OFFSET ?1",
    [ST_HIST_OLDEST] = "SELECT rv, ts FROM history WHERE rv > ?1"
                       " ORDER BY rv",
    [ST_HIST_TRIM] = "DELETE FROM history WHERE rv <= ?1",
};

/* Version 1. Bodies are whole objects as compact JSON text. */
static const char store_schema[] =
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL);"
    "INSERT INTO meta(key, value) VALUES ('rv', 0), ('compacted', 0);"
    "CREATE TABLE objects ("
    "  kind TEXT NOT NULL,"
    "  namespace TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  PRIMARY KEY (kind, namespace, name));"
    "CREATE INDEX objects_by_ns ON objects(namespace, name, kind);"
    "CREATE TABLE history ("
    "  rv INTEGER PRIMARY KEY,"
    "  type INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  namespace TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  prev TEXT);"
    "PRAGMA user_version = 1;";

int sl__store_dberr(struct sl_store *s, struct sl_diag *d, const char *what)
{
    return sl_diag_set(d, SL_EIO, "", "cannot %s in '%s': %s", what, s->db_path,
                       s->db != NULL ? sqlite3_errmsg(s->db) : "no database");
}

int sl__store_parse(struct sl_store *s, const char *text, size_t len,
                    struct json_object **out, struct sl_diag *d)
{
    struct json_tokener *tok;
    struct json_object *obj = NULL;
    enum json_tokener_error jerr = json_tokener_success;
    const char *why = NULL;

    *out = NULL;
    /* Room for the depth the write path allows (it checks the same). */
    tok = json_tokener_new_ex(SL_STORE_MAX_DEPTH + 1);
    if (tok == NULL) {
        why = "out of memory";
    } else if (text == NULL || len > (size_t)INT_MAX) {
        why = "bad length";
    } else {
        obj = json_tokener_parse_ex(tok, text, (int)len);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_continue) {
            obj = json_tokener_parse_ex(tok, "", 1);
            jerr = json_tokener_get_error(tok);
        }
        if (jerr != json_tokener_success)
            why = json_tokener_error_desc(jerr);
        else if (!json_object_is_type(obj, json_type_object))
            why = "not a JSON object";
    }
    json_tokener_free(tok);
    if (why != NULL) {
        json_object_put(obj);
        return sl_diag_set(d, SL_EIO, "", "corrupt object in '%s': %s",
                           s->db_path, why);
    }
    *out = obj;
    return 0;
}

/* ---- directory and lock ---- */

/* mkdir -p with mode 0700 for every directory created. */
static int db_mkdirs(const char *dir, struct sl_diag *d)
{
    char *p = sl_xstrdup(dir);
    char *q;
    struct stat st;
    int rc = 0;

    for (q = p + 1;; q++) {
        char c = *q;
        if (c != '/' && c != '\0')
            continue;
        *q = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = sl_diag_set(d, SL_EIO, "", "cannot create directory '%s': %s",
                             p, strerror(errno));
            goto out;
        }
        *q = c;
        if (c == '\0')
            break;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = sl_diag_set(d, SL_EIO, "",
                         "data directory '%s' is not a directory", dir);
out:
    sl_free(p);
    return rc;
}

static int db_lock(struct sl_store *s, const char *dir, struct sl_diag *d)
{
    char path[PATH_MAX], pid[32];
    ssize_t n;
    int len;

    snprintf(path, sizeof(path), "%s/%s", dir, SL_STORE_LOCK_FILE);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0)
        return sl_diag_set(d, SL_EIO, "", "cannot open lock file '%s': %s",
                           path, strerror(errno));
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e != EWOULDBLOCK)
            return sl_diag_set(d, SL_EIO, "", "cannot lock '%s': %s", path,
                               strerror(e));
        n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return sl_diag_set(d, SL_EBUSY, "",
                           "data directory '%s' is in use by another sluice "
                           "process (pid %s holds '%s')",
                           dir, pid[0] ? pid : "unknown", path);
    }
    /* For the message above in the next process; failure only loses that. */
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) == 0 &&
        pwrite(s->lock_fd, pid, (size_t)len, 0) != len) {
        /* nothing: the lock itself is what matters */
    }
    return 0;
}

/* ---- database ---- */

/* Run one statement that returns at most one integer column. */
static int db_exec_int(struct sl_store *s, const char *sql, int64_t *out,
                       struct sl_diag *d)
{
    sqlite3_stmt *st = NULL;
    int src, rc = 0;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl__store_dberr(s, d, "prepare a statement");
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && out != NULL)
        *out = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sl__store_dberr(s, d, "read the database");
    sqlite3_finalize(st);
    return rc;
}

static int db_exec(struct sl_store *s, const char *sql, const char *what,
                   struct sl_diag *d)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sl__store_dberr(s, d, what);
    return 0;
}

/* Turn on WAL; fails when the file system cannot do it. */
static int db_wal(struct sl_store *s, struct sl_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) !=
        SQLITE_OK)
        return sl__store_dberr(s, d, "enable WAL mode");
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = sl__store_dberr(s, d, "enable WAL mode");
    else if (sqlite3_column_text(st, 0) == NULL ||
             sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") !=
                 0)
        rc = sl_diag_set(d, SL_EIO, "",
                         "cannot enable WAL mode in '%s': journal mode is '%s'",
                         s->db_path,
                         sqlite3_column_text(st, 0) != NULL
                             ? (const char *)sqlite3_column_text(st, 0)
                             : "unknown");
    sqlite3_finalize(st);
    return rc;
}

static int db_schema(struct sl_store *s, struct sl_diag *d)
{
    int64_t version = 0, tables = 0;
    int rc;

    if ((rc = db_exec_int(s, "PRAGMA user_version", &version, d)) < 0)
        return rc;
    if (version > SL_STORE_SCHEMA_VERSION)
        return sl_diag_set(d, SL_ENOTSUP, "",
                           "store '%s' has schema version %lld, newer than "
                           "the %d this sluice understands: use a newer "
                           "sluice or another data directory",
                           s->db_path, (long long)version,
                           SL_STORE_SCHEMA_VERSION);
    if (version == SL_STORE_SCHEMA_VERSION)
        return 0;
    if ((rc = db_exec_int(s, "SELECT count(*) FROM sqlite_master", &tables,
                          d)) < 0)
        return rc;
    if (tables != 0)
        return sl_diag_set(d, SL_EIO, "",
                           "'%s' is not a sluice store (schema version %lld "
                           "with %lld existing tables)",
                           s->db_path, (long long)version, (long long)tables);
    if ((rc = db_exec(s, "BEGIN IMMEDIATE", "create the schema", d)) < 0)
        return rc;
    if ((rc = db_exec(s, store_schema, "create the schema", d)) < 0 ||
        (rc = db_exec(s, "COMMIT", "create the schema", d)) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return 0;
}

static int db_load_meta(struct sl_store *s, struct sl_diag *d)
{
    int64_t rv = -1, compacted = -1;
    int rc;

    if ((rc = db_exec_int(s, "SELECT value FROM meta WHERE key = 'rv'", &rv,
                          d)) < 0 ||
        (rc = db_exec_int(s, "SELECT value FROM meta WHERE key = 'compacted'",
                          &compacted, d)) < 0)
        return rc;
    if (rv < 0 || compacted < 0 || compacted > rv)
        return sl_diag_set(d, SL_EIO, "",
                           "corrupt store '%s': resourceVersion %lld, "
                           "compacted %lld",
                           s->db_path, (long long)rv, (long long)compacted);
    s->rv = (uint64_t)rv;
    s->compacted = (uint64_t)compacted;
    return 0;
}

int sl__store_db_open(struct sl_store *s, const char *dir, struct sl_diag *d)
{
    struct sl_buf path;
    int rc, i;

    s->lock_fd = -1;
    s->dir = sl_xstrdup(dir);
    sl_buf_init(&path, PATH_MAX);
    if (sl_buf_appendf(&path, "%s/%s", dir, SL_STORE_DB_FILE) < 0) {
        sl_buf_fini(&path);
        return sl_diag_set(d, SL_EINVAL, "",
                           "data directory '%.200s' is too long", dir);
    }
    s->db_path = sl_buf_steal(&path, NULL);
    if ((rc = db_mkdirs(dir, d)) < 0 || (rc = db_lock(s, dir, d)) < 0)
        return rc;
    if (sqlite3_open_v2(s->db_path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return sl__store_dberr(s, d, "open the database");
    sqlite3_extended_result_codes(s->db, 1);
    /*
     * FULL: WAL commits are fsync'd, so a write that returned survives
     * power loss (NORMAL would only survive a process crash). Control-
     * plane writes are rare enough for the cost.
     */
    if ((rc = db_wal(s, d)) < 0 ||
        (rc = db_exec(s, "PRAGMA synchronous = FULL", "set synchronous", d)) <
            0 ||
        (rc = db_exec(s, "PRAGMA foreign_keys = OFF", "set foreign_keys", d)) <
            0 ||
        (rc = db_schema(s, d)) < 0 || (rc = db_load_meta(s, d)) < 0)
        return rc;
    for (i = 0; i < ST_COUNT_; i++)
        if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            return sl__store_dberr(s, d, "prepare a statement");
    return 0;
}

void sl__store_db_close(struct sl_store *s)
{
    int i;

    for (i = 0; i < ST_COUNT_; i++)
        sqlite3_finalize(s->st[i]);
    /* Closing the last connection checkpoints the WAL into the database. */
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    sl_free(s->db_path);
    sl_free(s->dir);
}

/* ---- statements ---- */

/* Bind (kind, ns, name) to ?1..?3 of a kept statement. */
static sqlite3_stmt *db_key(struct sl_store *s, enum store_stmt which,
                            const char *kind, const char *ns, const char *name)
{
    sqlite3_stmt *st = s->st[which];

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ns != NULL ? ns : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    return st;
}

int sl__store_db_get(struct sl_store *s, const char *kind, const char *ns,
                     const char *name, struct json_object **out,
                     struct sl_diag *d)
{
    sqlite3_stmt *st = db_key(s, ST_GET, kind, ns, name);
    int src = sqlite3_step(st), rc;

    *out = NULL;
    if (src == SQLITE_DONE)
        rc = SL_ENOENT;
    else if (src != SQLITE_ROW)
        rc = sl__store_dberr(s, d, "read an object");
    else
        rc = sl__store_parse(s, (const char *)sqlite3_column_text(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0), out, d);
    sqlite3_reset(st);
    return rc;
}

int sl__store_db_exists(struct sl_store *s, const char *kind, const char *ns,
                        const char *name, struct sl_diag *d)
{
    sqlite3_stmt *st = db_key(s, ST_GET, kind, ns, name);
    int src = sqlite3_step(st), rc;

    if (src == SQLITE_ROW || src == SQLITE_DONE)
        rc = src == SQLITE_ROW;
    else
        rc = sl__store_dberr(s, d, "read an object");
    sqlite3_reset(st);
    return rc;
}

/* Step a kept write statement to completion. */
static int db_step_done(struct sl_store *s, sqlite3_stmt *st, const char *what,
                        struct sl_diag *d)
{
    int src = sqlite3_step(st), rc = 0;

    if (src != SQLITE_DONE)
        rc = (src & 0xff) == SQLITE_CONSTRAINT ? SL_EEXIST
                                               : sl__store_dberr(s, d, what);
    sqlite3_reset(st);
    return rc;
}

static int db_meta_set(struct sl_store *s, const char *key, uint64_t value,
                       struct sl_diag *d)
{
    sqlite3_stmt *st = s->st[ST_META_SET];

    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)value);
    return db_step_done(s, st, "update the resourceVersion", d);
}

/*
 * Drop history beyond opts.history_max entries and older than
 * opts.history_max_age seconds (before 'now'). '*pcompacted' receives the
 * new watermark: every entry with rv <= it is gone.
 */
static int db_trim(struct sl_store *s, uint64_t rv, int64_t now,
                   uint64_t *pcompacted, struct sl_diag *d)
{
    uint64_t cut = s->compacted;
    sqlite3_stmt *st;
    int src;

    *pcompacted = s->compacted;
    if (s->opts.history_max == 0) {
        cut = rv;
    } else {
        st = s->st[ST_HIST_NTH_NEWEST];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1,
                           s->opts.history_max > (size_t)INT64_MAX
                               ? INT64_MAX
                               : (sqlite3_int64)s->opts.history_max);
        src = sqlite3_step(st);
        if (src == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) > cut)
            cut = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (src != SQLITE_ROW && src != SQLITE_DONE)
            return sl__store_dberr(s, d, "trim the history");
    }
    if (s->opts.history_max_age > 0) {
        /* Oldest first; stop at the first young entry. */
        st = s->st[ST_HIST_OLDEST];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)cut);
        while ((src = sqlite3_step(st)) == SQLITE_ROW &&
               sqlite3_column_int64(st, 1) < now - s->opts.history_max_age)
            cut = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (src != SQLITE_ROW && src != SQLITE_DONE)
            return sl__store_dberr(s, d, "trim the history");
    }
    if (cut > s->compacted) {
        int rc;
        st = s->st[ST_HIST_TRIM];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)cut);
        if ((rc = db_step_done(s, st, "trim the history", d)) < 0 ||
            (rc = db_meta_set(s, "compacted", cut, d)) < 0)
            return rc;
    }
    *pcompacted = cut;
    return 0;
}

int sl__store_db_commit(struct sl_store *s, const struct store_change *c,
                        struct sl_diag *d)
{
    static const enum store_stmt row_stmt[] = {
        [SL_STORE_ADDED] = ST_INSERT,
        [SL_STORE_MODIFIED] = ST_UPDATE,
        [SL_STORE_DELETED] = ST_DELETE,
    };
    int64_t now = s->opts.clock(s->opts.clock_arg);
    const char *prev = NULL;
    size_t prev_len = 0;
    uint64_t compacted = 0;
    sqlite3_stmt *st;
    int rc;

    if ((rc = db_step_done(s, s->st[ST_BEGIN], "begin a transaction", d)) < 0)
        return rc;
    st = db_key(s, row_stmt[c->type], c->kind, c->ns, c->name);
    if (c->type != SL_STORE_DELETED)
        sqlite3_bind_text(st, 4, c->body, (int)c->body_len, SQLITE_STATIC);
    if ((rc = db_step_done(s, st, "write an object", d)) < 0)
        goto out;
    if (sqlite3_changes(s->db) != 1) {
        /* store.c checked the row is there; it cannot have gone. */
        rc =
            sl_diag_set(d, SL_EIO, "", "object vanished from '%s'", s->db_path);
        goto out;
    }
    if (c->prev != NULL)
        prev = json_object_to_json_string_length(
            c->prev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
            &prev_len);
    st = s->st[ST_HIST_INSERT];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->rv);
    sqlite3_bind_int(st, 2, (int)c->type);
    sqlite3_bind_text(st, 3, c->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->ns != NULL ? c->ns : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_text(st, 7, c->body, (int)c->body_len, SQLITE_STATIC);
    if (prev != NULL)
        sqlite3_bind_text(st, 8, prev, (int)prev_len, SQLITE_STATIC);
    if ((rc = db_step_done(s, st, "write the history", d)) < 0) {
        if (rc == SL_EEXIST)
            rc = sl_diag_set(d, SL_EIO, "",
                             "corrupt store '%s': history already has "
                             "resourceVersion %llu",
                             s->db_path, (unsigned long long)c->rv);
        goto out;
    }
    if ((rc = db_meta_set(s, "rv", c->rv, d)) < 0 ||
        (rc = db_trim(s, c->rv, now, &compacted, d)) < 0)
        goto out;
    rc = db_step_done(s, s->st[ST_COMMIT], "commit", d);
out:
    if (rc < 0) {
        if (!sqlite3_get_autocommit(s->db)) {
            sqlite3_reset(s->st[ST_ROLLBACK]);
            sqlite3_step(s->st[ST_ROLLBACK]);
            sqlite3_reset(s->st[ST_ROLLBACK]);
        }
        return rc;
    }
    s->rv = c->rv;
    s->compacted = compacted;
    return 0;
}

/* ---- queries ---- */

int sl__store_db_list(struct sl_store *s, const char *kind, const char *ns,
                      const struct sl_selector *sel, struct json_object *items,
                      struct sl_diag *d)
{
    sqlite3_stmt *st = NULL;
    struct json_object *obj, *meta, *labels;
    int src, rc = 0, i = 1;
    char sql[256];

    /* Conditions only for the filters given, so the indexes are used. */
    snprintf(sql, sizeof(sql),
             "SELECT body FROM objects WHERE 1%s%s"
             " ORDER BY namespace, name, kind",
             kind != NULL ? " AND kind = ?" : "",
             ns != NULL ? " AND namespace = ?" : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl__store_dberr(s, d, "list objects");
    if (kind != NULL)
        sqlite3_bind_text(st, i++, kind, -1, SQLITE_STATIC);
    if (ns != NULL)
        sqlite3_bind_text(st, i++, ns, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = sl__store_parse(s, (const char *)sqlite3_column_text(st, 0),
                                  (size_t)sqlite3_column_bytes(st, 0), &obj,
                                  d)) < 0)
            goto out;
        labels = NULL;
        if (json_object_object_get_ex(obj, "metadata", &meta))
            json_object_object_get_ex(meta, "labels", &labels);
        if (sl_selector_match(sel, labels))
            json_object_array_add(items, obj);
        else
            json_object_put(obj);
    }
    if (src != SQLITE_DONE)
        rc = sl__store_dberr(s, d, "list objects");
out:
    sqlite3_finalize(st);
    return rc;
}

int sl__store_db_history(struct sl_store *s, uint64_t since, const char *kind,
                         const char *ns, struct store_hist **out, size_t *pn,
                         struct sl_diag *d)
{
    sqlite3_stmt *st = NULL;
    struct store_hist *h = NULL, *e;
    size_t n = 0, cap = 0, k;
    int src, rc = 0, i = 2;
    char sql[256];

    *out = NULL;
    *pn = 0;
    snprintf(sql, sizeof(sql),
             "SELECT rv, type, kind, body, prev FROM history WHERE rv > ?1"
             "%s%s ORDER BY rv",
             kind != NULL ? " AND kind = ?" : "",
             ns != NULL ? " AND namespace = ?" : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl__store_dberr(s, d, "read the history");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    if (kind != NULL)
        sqlite3_bind_text(st, i++, kind, -1, SQLITE_STATIC);
    if (ns != NULL)
        sqlite3_bind_text(st, i++, ns, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int type = sqlite3_column_int(st, 1);
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            h = sl_xrealloc(h, cap * sizeof(*h));
        }
        e = &h[n++];
        memset(e, 0, sizeof(*e));
        e->rv = (uint64_t)sqlite3_column_int64(st, 0);
        e->type = (enum sl_store_event_type)type;
        e->kind = sl_xstrdup((const char *)sqlite3_column_text(st, 2));
        if (type < SL_STORE_ADDED || type > SL_STORE_DELETED) {
            rc = sl_diag_set(d, SL_EIO, "",
                             "corrupt store '%s': history event type %d",
                             s->db_path, type);
            goto out;
        }
        if ((rc = sl__store_parse(s, (const char *)sqlite3_column_text(st, 3),
                                  (size_t)sqlite3_column_bytes(st, 3), &e->obj,
                                  d)) < 0)
            goto out;
        if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
            (rc = sl__store_parse(s, (const char *)sqlite3_column_text(st, 4),
                                  (size_t)sqlite3_column_bytes(st, 4), &e->prev,
                                  d)) < 0)
            goto out;
    }
    if (src != SQLITE_DONE)
        rc = sl__store_dberr(s, d, "read the history");
out:
    sqlite3_finalize(st);
    if (rc < 0) {
        for (k = 0; k < n; k++) {
            sl_free(h[k].kind);
            json_object_put(h[k].obj);
            json_object_put(h[k].prev);
        }
        sl_free(h);
        return rc;
    }
    *out = h;
    *pn = n;
    return 0;
}
