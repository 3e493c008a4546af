/*
 * store/store.h - the durable resource store: Knative objects in SQLite,
 * with resourceVersion, generation and watch (the role etcd plays under
 * the Kubernetes API server).
 *
 * Objects are json-c objects shaped like Kubernetes resources: apiVersion,
 * kind, metadata, spec (or other top-level fields such as ConfigMap data)
 * and status. The store does not know Knative kinds: callers name a kind
 * by a "kind key" string ("eventing.knative.dev/Broker", "Namespace" for
 * core kinds) and say whether it is namespaced where that matters. An
 * object is identified by (kind key, namespace, name); cluster-scoped
 * objects have the namespace "".
 *
 * Threading: a store is owned by one thread (the daemon's loop thread,
 * where the REST API and the reconcile loop run). No function may be
 * called from another thread; there is no locking inside. Watch callbacks
 * run on that thread, synchronously, inside the write call that caused
 * them.
 *
 * Durability: every write is one SQLite transaction in WAL mode with
 * synchronous=FULL; when a write function returns 0 the change (and its
 * watch-history entry) is on disk and survives kill -9 and power loss.
 * One process at a time: sl_store_open takes an exclusive lock on the
 * data directory.
 *
 * Object rules (docs/store.md has the reasoning):
 * - metadata.resourceVersion is the decimal string of one counter shared
 *   by all kinds; every change (create, update, status update, delete)
 *   takes the next value, and nothing else does.
 * - metadata.generation starts at 1 and grows by one when the "spec part"
 *   changes: every top-level member except apiVersion, kind, metadata and
 *   status (json equality). Metadata and status changes never bump it.
 * - uid (a v4 UUID), creationTimestamp (RFC 3339, whole seconds, UTC,
 *   "Z"), resourceVersion and generation are set by the store; values in
 *   the input are ignored (except as preconditions, see update).
 * - Callers set name (or generateName on create), namespace, labels,
 *   annotations, ownerReferences and finalizers; any other metadata member
 *   of the input (managedFields, selfLink, deletionTimestamp, ...) is
 *   dropped.
 * - status is written only through sl_store_update_status: create drops
 *   the input's status, update keeps the stored one (every kind is treated
 *   as having a status subresource).
 *
 * Returned objects are new json-c objects owned by the caller
 * (json_object_put); input objects are borrowed and never modified.
 */
#ifndef SL_STORE_STORE_H
#define SL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct sl_diag;
struct sl_store;
struct sl_store_watch;

/* Defaults of struct sl_store_opts. */
#define SL_STORE_HISTORY_MAX      5000
#define SL_STORE_HISTORY_MAX_AGE  3600 /* seconds */
#define SL_STORE_MAX_OBJECT_BYTES (3 * 1024 * 1024)
/* Deepest JSON nesting an object may have (reading it back must work). */
#define SL_STORE_MAX_DEPTH        100
/* Longest name, generateName or namespace accepted (bytes). */
#define SL_STORE_MAX_NAME         253
/* The daemon's default data directory (--data-dir). */
#define SL_STORE_DEFAULT_DIR      "./sluice-data"
/* File names inside the data directory. */
#define SL_STORE_DB_FILE          "store.db"
#define SL_STORE_LOCK_FILE        "store.lock"
/* The schema version this code writes (PRAGMA user_version). */
#define SL_STORE_SCHEMA_VERSION   1

/*
 * The wall clock, seconds since the Unix epoch; tests replace it. Runs on
 * the owner thread.
 */
typedef int64_t sl_store_clock_fn(void *arg);

struct sl_store_opts {
    /* Watch-history entries kept (the newest ones); 0 keeps none. */
    size_t history_max;
    /* Entries older than this many seconds are dropped; 0: no age limit. */
    int64_t history_max_age;
    /* Largest serialised object accepted; bigger is SL_ETOOBIG. */
    size_t max_object_bytes;
    /* Clock for creationTimestamp and history age; NULL: real time. */
    sl_store_clock_fn *clock;
    void *clock_arg;
};

/* Fill 'o' with the defaults above (real clock). */
void sl_store_opts_init(struct sl_store_opts *o);

/* ---- opening and closing ---- */

/*
 * Open (creating when needed) the store in directory 'dir': the directory
 * (and missing parents) with mode 0700, then 'dir'/store.lock, locked with
 * flock(LOCK_EX|LOCK_NB) for as long as the store is open, then
 * 'dir'/store.db (SQLite, WAL mode, synchronous=FULL). A new (empty)
 * database gets the current schema; an existing one must have schema
 * version SL_STORE_SCHEMA_VERSION. History beyond the limits of 'opts' is
 * trimmed at the next write, not at open. 'opts' may be NULL for the
 * defaults; it is copied. The calling thread becomes the owner thread.
 *
 * Returns 0 with the store in '*out', or (with '*out' NULL and a message
 * in 'd'):
 *   SL_EBUSY    another process (or another open store in this process)
 *               holds the lock; the message names the directory and the
 *               pid written in the lock file
 *   SL_ENOTSUP  the database has a newer schema version than this code
 *   SL_EINVAL   'dir' empty, or 'opts' out of range (max_object_bytes 0,
 *               history_max_age negative)
 *   SL_EIO      the directory, lock file or database cannot be created or
 *               read, or store.db is some other SQLite database; the
 *               message carries the errno or SQLite text
 */
int sl_store_open(const char *dir, const struct sl_store_opts *opts,
                  struct sl_store **out, struct sl_diag *d);

/*
 * Close the store: end every remaining watch (their handles become
 * invalid; no callback runs), close the database and release the lock.
 * NULL is a no-op. Must not be called from a watch callback.
 */
void sl_store_close(struct sl_store *s);

/*
 * The store's current resourceVersion: the value of the last change
 * (0 for a store that was never written). Every object and watch event
 * carries a value <= this one. For list results and BOOKMARK events.
 */
uint64_t sl_store_rv(const struct sl_store *s);

/*
 * The oldest resourceVersion a watch can still start from
 * (sl_store_watch with since_rv >= this value replays without a gap);
 * it grows as history is trimmed. 0 for a store whose history is complete.
 */
uint64_t sl_store_oldest_rv(const struct sl_store *s);

/*
 * Parse a resourceVersion string (decimal digits, no sign, at most
 * 2^63-1; "0" allowed) into '*out'. Returns 0 or SL_EINVAL with a message
 * in 'd' naming 'what' ("metadata.resourceVersion").
 */
int sl_store_rv_parse(const char *s, const char *what, uint64_t *out,
                      struct sl_diag *d);

/* ---- reading ---- */

/*
 * Fetch one object. 'ns' is the namespace, NULL or "" for cluster-scoped
 * kinds (no defaulting happens here). On success '*out' is a new object
 * (caller puts). Returns 0, SL_ENOENT, or SL_EIO.
 */
int sl_store_get(struct sl_store *s, const char *kind, const char *ns,
                 const char *name, struct json_object **out, struct sl_diag *d);

/*
 * List objects of kind 'kind' (NULL: every kind) in namespace 'ns' (NULL:
 * every namespace; "" only cluster-scoped objects) whose labels match
 * 'selector' (label-selector text, see store/selector.h; NULL or "": all).
 * '*out' receives a new json-c array (caller puts) ordered by namespace,
 * then name, then kind key; '*prv', when not NULL, the store's current
 * resourceVersion, which the list is consistent with (start a watch from
 * it to see every later change). Returns 0, SL_EINVAL/SL_ETOOBIG (bad
 * selector; the message has its position) or SL_EIO.
 */
int sl_store_list(struct sl_store *s, const char *kind, const char *ns,
                  const char *selector, struct json_object **out, uint64_t *prv,
                  struct sl_diag *d);

/* ---- writing ----
 *
 * Every write function returns SL_EBUSY without doing anything when called
 * from inside a watch callback (see sl_store_watch). Every write that
 * changes something commits one transaction, takes the next
 * resourceVersion, records a history entry and then runs the watch
 * callbacks before returning. On any error nothing was written, no
 * resourceVersion was used and no callback ran. When 'out' is not NULL it
 * receives a new object (caller puts) on success and NULL on failure.
 */

/*
 * Create an object of kind 'kind' from 'obj' (borrowed). Input checks
 * (SL_EINVAL, 'd->field' names the member): 'obj' is a JSON object;
 * metadata, when present, an object; metadata.name a non-empty string of
 * at most SL_STORE_MAX_NAME bytes, or absent/empty with a non-empty
 * metadata.generateName; namespace, labels and annotations (string
 * values), ownerReferences (array of objects) and finalizers (array of
 * strings) of the right types; no non-finite number; nesting at most
 * SL_STORE_MAX_DEPTH.
 *
 * The stored object gets: namespace "default" when 'namespaced' and none
 * is given, "" (removed) when not 'namespaced'; with generateName and no
 * name, the name generateName (cut to 58 bytes) + 5 random characters of
 * [bcdfghjklmnpqrstvwxz2456789] (as Kubernetes; retried on a clash); a
 * new uid, the next resourceVersion, generation 1, creationTimestamp now;
 * no status. Watchers get ADDED.
 *
 * Returns 0, SL_EINVAL, SL_EEXIST (an object with this kind, namespace and
 * name exists), SL_ETOOBIG (serialised object over max_object_bytes),
 * SL_EBUSY (inside a callback) or SL_EIO.
 */
int sl_store_create(struct sl_store *s, const char *kind, bool namespaced,
                    struct json_object *obj, struct json_object **out,
                    struct sl_diag *d);

/*
 * Replace the object named by 'obj' (metadata.name, metadata.namespace
 * defaulted as in create) with 'obj': its metadata (labels, annotations,
 * ownerReferences, finalizers: absent means removed) and every top-level
 * member other than metadata and status. The stored uid, creationTimestamp
 * and status are kept. Input checks as in create (generateName is not
 * used).
 *
 * Preconditions: a non-empty metadata.resourceVersion in 'obj' must equal
 * the stored one, and a non-empty metadata.uid the stored uid, else
 * SL_ECONFLICT (absent or "" means unconditional); a resourceVersion that
 * is not a decimal number is SL_EINVAL.
 *
 * When the result equals the stored object nothing is written, no
 * resourceVersion is used, no watch event is sent, '*punchanged' (when
 * not NULL) is set to true and 'out' gets the stored object. Otherwise
 * the generation grows by one if the spec part changed, the object takes
 * the next resourceVersion, '*punchanged' is false and watchers get
 * MODIFIED.
 *
 * Returns 0, SL_EINVAL, SL_ENOENT, SL_ECONFLICT, SL_ETOOBIG, SL_EBUSY or
 * SL_EIO.
 */
int sl_store_update(struct sl_store *s, const char *kind, bool namespaced,
                    struct json_object *obj, struct json_object **out,
                    bool *punchanged, struct sl_diag *d);

/*
 * Replace the status of object (kind, ns, name) with 'status' (borrowed;
 * NULL removes it). 'expected_rv' 0 means unconditional; otherwise it must
 * equal the stored resourceVersion (else SL_ECONFLICT). Never touches the
 * generation or anything outside status. An equal status is a no-op as in
 * sl_store_update ('*punchanged' true, no resourceVersion, no event);
 * otherwise the object takes the next resourceVersion and watchers get
 * MODIFIED.
 *
 * Returns 0, SL_EINVAL (status not finite or too deep), SL_ENOENT,
 * SL_ECONFLICT, SL_ETOOBIG, SL_EBUSY or SL_EIO.
 */
int sl_store_update_status(struct sl_store *s, const char *kind, const char *ns,
                           const char *name, struct json_object *status,
                           uint64_t expected_rv, struct json_object **out,
                           bool *punchanged, struct sl_diag *d);

/*
 * Delete object (kind, ns, name); 'expected_rv' as in update_status. The
 * deletion takes the next resourceVersion; 'out' gets the object as it was
 * with that new resourceVersion, which is also what watchers get with
 * DELETED. Finalizers are stored but not enforced: the object is gone at
 * once. Returns 0, SL_ENOENT, SL_ECONFLICT, SL_EBUSY or SL_EIO.
 */
int sl_store_delete(struct sl_store *s, const char *kind, const char *ns,
                    const char *name, uint64_t expected_rv,
                    struct json_object **out, struct sl_diag *d);

/* ---- watching ---- */

enum sl_store_event_type {
    SL_STORE_ADDED = 1,
    SL_STORE_MODIFIED = 2,
    SL_STORE_DELETED = 3,
};

/* "ADDED", "MODIFIED", "DELETED" (the Kubernetes watch event types). */
const char *sl_store_event_name(enum sl_store_event_type type);

struct sl_store_event {
    enum sl_store_event_type type;
    uint64_t rv;      /* resourceVersion of the change */
    const char *kind; /* kind key of the object */
    /*
     * The object after the change (for DELETED: as it was, with the
     * deletion's resourceVersion). Borrowed and shared with other
     * watchers: read it, or take a reference (json_object_get) to keep
     * it, but never modify it.
     */
    struct json_object *obj;
};

/*
 * A watch callback. Runs on the owner thread, synchronously, after the
 * change was committed (or while sl_store_watch replays history). It may
 * read the store (get, list), start watches and end any watch, its own
 * included (sl_store_unwatch), but must not write: write functions return
 * SL_EBUSY inside a callback (a write would deliver its event to some
 * watchers before the current one reached the others). Work that needs a
 * write is queued and done after the callback returns.
 */
typedef void sl_store_watch_fn(void *arg, const struct sl_store_event *ev);

/*
 * Watch changes to objects of kind 'kind' (NULL: every kind) in namespace
 * 'ns' (NULL: every namespace) whose labels match 'selector' (text, NULL
 * or "": all). All three are copied.
 *
 * With a selector, events follow the object in and out of the selection
 * as Kubernetes' watch cache does: an update that makes an object match
 * is delivered as ADDED, one that makes it stop matching as DELETED (with
 * the object's previous content and the update's resourceVersion).
 *
 * 'since_rv' 0 means "from now": only changes after this call. Otherwise
 * every retained change with a resourceVersion greater than 'since_rv' is
 * delivered first, inside this call, in resourceVersion order, then live
 * changes follow as they are committed. Each watch sees every matching
 * change exactly once, in strictly increasing resourceVersion order. A
 * watch started "from now" inside a callback does not see the change being
 * delivered (it is already committed); one started from an older version
 * gets it once, in its replay. The replay is read completely before the
 * first callback runs (memory: the matching history, at most history_max
 * entries), so a read error means no callback ran.
 *
 * '*out' is written before any replayed event is delivered, so callbacks
 * may end the watch through it; when a callback ends the watch during the
 * replay, the call still returns 0 and sets '*out' to NULL.
 *
 * Returns 0, or (with '*out' NULL and no callback run):
 *   SL_EGONE    'since_rv' is older than the history covers ("too old
 *               resource version: N (oldest available M)", M being
 *               sl_store_oldest_rv), or newer than the store's current
 *               resourceVersion ("too large resource version: N (current
 *               M)", e.g. a version from a different data directory);
 *               the client should list again and watch from the list's
 *               resourceVersion
 *   SL_EINVAL / SL_ETOOBIG  bad selector (message with its position)
 *   SL_EIO      reading the history failed
 */
int sl_store_watch(struct sl_store *s, const char *kind, const char *ns,
                   const char *selector, uint64_t since_rv,
                   sl_store_watch_fn *fn, void *arg,
                   struct sl_store_watch **out, struct sl_diag *d);

/*
 * End watch 'w' (NULL is a no-op): its callback never runs again. Safe
 * inside any callback, including w's own; the memory is then released
 * when the outermost delivery finishes.
 */
void sl_store_unwatch(struct sl_store_watch *w);

#endif
