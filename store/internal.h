/*
 * store/internal.h - what the files of store/ share; never included
 * outside store/.
 *
 * store.c holds the public operations, object.c the object rules (input
 * metadata, building and checking stored objects), db.c the edge to the
 * file system and SQLite (directory, lock, schema, statements, error
 * mapping), watch.c the watchers, history replay and event delivery.
 * Everything runs on the store's owner thread.
 */
#ifndef SL_STORE_INTERNAL_H
#define SL_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "store/store.h"

struct sl_diag;
struct sl_selector;

/* Prepared statements kept for the store's lifetime (db.c). */
enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET,
    ST_INSERT,
    ST_UPDATE,
    ST_DELETE,
    ST_HIST_INSERT,
    ST_META_SET,
    ST_HIST_NTH_NEWEST,
    ST_HIST_OLDEST,
    ST_HIST_TRIM,
    ST_COUNT_
};

struct sl_store {
    sqlite3 *db;
    char *dir;
    char *db_path;
    int lock_fd;
    struct sl_store_opts opts;
    uint64_t rv;        /* resourceVersion of the last committed change */
    uint64_t compacted; /* history holds every change with rv > this */
    sqlite3_stmt *st[ST_COUNT_];
    /* Watches in registration order (watch.c). */
    struct sl_store_watch *watch_head;
    struct sl_store_watch *watch_tail;
    int delivering;    /* nesting depth of callback delivery */
    bool watches_dead; /* some watch ended during delivery */
};

/* One change as db.c records it and watch.c delivers it. */
struct store_change {
    enum sl_store_event_type type;
    uint64_t rv;
    const char *kind;
    const char *ns;
    const char *name;
    struct json_object *obj; /* the object after the change */
    const char *body;        /* obj serialised */
    size_t body_len;
    struct json_object *prev; /* MODIFIED with changed labels: before */
};

/* ---- object.c ---- */

/* What a write takes from the input's metadata (borrowed from it). */
struct store_meta {
    const char *name;          /* NULL when absent or "" */
    const char *generate_name; /* NULL when absent or "" */
    const char *ns;            /* NULL when absent or "" */
    const char *rv;            /* precondition, NULL when absent or "" */
    const char *uid;           /* precondition, NULL when absent or "" */
    struct json_object *labels, *annotations, *owner_refs, *finalizers;
};

/* System metadata of a stored object. */
struct store_sys {
    const char *name;
    const char *generate_name; /* NULL: none */
    const char *ns;            /* "" for cluster-scoped */
    const char *uid;
    uint64_t rv;
    int64_t generation;
    const char *created;
};

/* Room for a generated name: 58-byte prefix, 5 characters, NUL. */
#define STORE_GENERATED_NAME_MAX 64

/* A deep copy (NULL for NULL); aborts when json-c runs out of memory. */
struct json_object *sl__store_jcopy(struct json_object *o);
/* Member 'key' of 'o'; NULL when absent, JSON null, or 'o' not an object. */
struct json_object *sl__store_jget(struct json_object *o, const char *key);
/* metadata.<key> of 'o' as a string (borrowed); "" when absent. */
const char *sl__store_meta_str(struct json_object *o, const char *key);
/* metadata.resourceVersion of a stored object; 0 when unreadable. */
uint64_t sl__store_obj_rv(struct json_object *o);
/* Set metadata.resourceVersion of object 'o' to 'rv'. */
void sl__store_set_rv(struct json_object *o, uint64_t rv);
/* True when the spec parts (all but apiVersion, kind, metadata, status)
 * of 'a' and 'b' are equal. */
bool sl__store_spec_equal(struct json_object *a, struct json_object *b);

/*
 * Check the input object's shape and read its metadata into 'm' (borrowed
 * from 'obj'). 'create' allows generateName instead of name. Returns 0 or
 * SL_EINVAL with the member in 'd->field'.
 */
int sl__store_obj_read(struct json_object *obj, bool create,
                       struct store_meta *m, struct sl_diag *d);

/*
 * Check an object about to be stored: finite numbers, nesting at most
 * SL_STORE_MAX_DEPTH. Returns 0 or SL_EINVAL naming the value.
 */
int sl__store_obj_check(struct json_object *o, struct sl_diag *d);

/*
 * Build the object to store: apiVersion and kind of 'in', metadata from
 * 'sys' and 'm', every other top-level member of 'in' except status (in
 * the input's order), then a copy of 'status' (NULL: none). New object.
 */
struct json_object *sl__store_obj_build(struct json_object *in,
                                        const struct store_meta *m,
                                        const struct store_sys *sys,
                                        struct json_object *status);

/*
 * Write 'prefix' (cut to 58 bytes) + 5 random characters of Kubernetes'
 * name alphabet into 'out' (STORE_GENERATED_NAME_MAX bytes). Returns 0 or
 * SL_EIO when the kernel gives no randomness.
 */
int sl__store_generate_name(const char *prefix, char *out, size_t outlen,
                            struct sl_diag *d);

/* ---- db.c ---- */

/* Create the directory, take the lock, open and prepare the database. */
int sl__store_db_open(struct sl_store *s, const char *dir, struct sl_diag *d);
/* Finalise statements, close the database, release the lock. */
void sl__store_db_close(struct sl_store *s);

/*
 * Map the SQLite error of the last call on s->db to SL_EIO with "cannot
 * <what> in '<db path>': <sqlite message>" in 'd'. Returns SL_EIO.
 */
int sl__store_dberr(struct sl_store *s, struct sl_diag *d, const char *what);

/*
 * Parse stored JSON text. Returns 0 or SL_EIO ("corrupt object ...").
 */
int sl__store_parse(struct sl_store *s, const char *text, size_t len,
                    struct json_object **out, struct sl_diag *d);

/*
 * Fetch the stored object (kind, ns, name) into '*out' (caller puts).
 * Returns 0, SL_ENOENT (no message) or SL_EIO.
 */
int sl__store_db_get(struct sl_store *s, const char *kind, const char *ns,
                     const char *name, struct json_object **out,
                     struct sl_diag *d);

/*
 * Whether (kind, ns, name) exists: 1 yes, 0 no, SL_EIO on failure.
 */
int sl__store_db_exists(struct sl_store *s, const char *kind, const char *ns,
                        const char *name, struct sl_diag *d);

/*
 * Commit one change in one transaction: write (ADDED: insert, MODIFIED:
 * update, DELETED: delete) the object row, append the history entry,
 * advance the counter to c->rv and trim the history. On success s->rv and
 * s->compacted hold the new values. On failure everything is rolled back
 * and the store is unchanged. Returns 0, SL_EEXIST (insert of an existing
 * key) or SL_EIO.
 */
int sl__store_db_commit(struct sl_store *s, const struct store_change *c,
                        struct sl_diag *d);

/*
 * Append to the json-c array 'items' every object matching the filters
 * (NULL: any), ordered by namespace, name, kind. Returns 0 or SL_EIO.
 */
int sl__store_db_list(struct sl_store *s, const char *kind, const char *ns,
                      const struct sl_selector *sel, struct json_object *items,
                      struct sl_diag *d);

/* One history entry loaded for replay (watch.c frees it). */
struct store_hist {
    uint64_t rv;
    enum sl_store_event_type type;
    char *kind;
    struct json_object *obj;
    struct json_object *prev; /* may be NULL */
};

/*
 * Load every history entry with rv > 'since' for 'kind'/'ns' (NULL: any)
 * in rv order into a new array '*out' of '*pn' entries. Returns 0 or
 * SL_EIO (nothing allocated).
 */
int sl__store_db_history(struct sl_store *s, uint64_t since, const char *kind,
                         const char *ns, struct store_hist **out, size_t *pn,
                         struct sl_diag *d);

/* ---- watch.c ---- */

/* Deliver a committed change to every live watch. */
void sl__store_dispatch(struct sl_store *s, const struct store_change *c);
/* End and free every watch (sl_store_close). */
void sl__store_watch_free_all(struct sl_store *s);

#endif
