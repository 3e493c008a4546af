/*
 * test/unit/store_test.c - store/: opening (directory, lock, schema),
 * create/get/list/update/status/delete with their resourceVersion and
 * generation rules, preconditions, "unchanged", namespaces, selectors,
 * watch (live, replay, filters, selector transitions, callback rules),
 * history trimming (SL_EGONE), history across a reopen, and durability of
 * every acknowledged write across kill -9 of the writing process.
 *
 * Every test works in its own directory under /tmp and removes it.
 */
#define _XOPEN_SOURCE 700
#include "test/unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "core/time.h"
#include "core/uuid.h"
#include "store/store.h"

#define BROKER  "eventing.knative.dev/Broker"
#define TRIGGER "eventing.knative.dev/Trigger"
#define NS_KIND "Namespace"

/* ---- fixtures ---- */

static char tdir[64];
static int64_t fake_now = 1700000000; /* 2023-11-14T22:13:20Z */

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static const char *tmpdir_new(void)
{
    fake_now = 1700000000;
    snprintf(tdir, sizeof(tdir), "/tmp/sl-store-test-XXXXXX");
    if (mkdtemp(tdir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    return tdir;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmpdir_free(void)
{
    if (nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        CHECK_FAIL("cannot remove '%s': %s", tdir, strerror(errno));
}

static void opts_test(struct sl_store_opts *o)
{
    sl_store_opts_init(o);
    o->clock = fake_clock;
}

static struct sl_store *open_store(const struct sl_store_opts *o)
{
    struct sl_store *s = NULL;
    struct sl_store_opts def;
    struct sl_diag d;

    if (o == NULL) {
        opts_test(&def);
        o = &def;
    }
    if (sl_store_open(tdir, o, &s, &d) != 0)
        CHECK_FAIL("cannot open the store: %s", d.msg);
    return s;
}

static struct json_object *J(const char *text)
{
    struct json_object *o = json_tokener_parse(text);

    if (o == NULL)
        CHECK_FAIL("bad JSON in test: %s", text);
    return o;
}

/* metadata.<key> as a string ("" when absent or not a string). */
static const char *M(struct json_object *o, const char *key)
{
    struct json_object *m = NULL, *v = NULL;

    if (!json_object_object_get_ex(o, "metadata", &m) ||
        !json_object_object_get_ex(m, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static int64_t GEN(struct json_object *o)
{
    struct json_object *m = NULL, *v = NULL;

    if (!json_object_object_get_ex(o, "metadata", &m) ||
        !json_object_object_get_ex(m, "generation", &v))
        return -1;
    return json_object_get_int64(v);
}

static uint64_t RV(struct json_object *o)
{
    uint64_t rv = 0;

    ASSERT_OK(sl_store_rv_parse(M(o, "resourceVersion"), "rv", &rv, NULL));
    return rv;
}

/* Top-level member, NULL when absent. */
static struct json_object *TOP(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    json_object_object_get_ex(o, key, &v);
    return v;
}

/* Create from JSON text and return the stored object (caller puts). */
static struct json_object *create(struct sl_store *s, const char *kind,
                                  bool namespaced, const char *text)
{
    struct json_object *in = J(text), *out = NULL;
    struct sl_diag d;

    if (sl_store_create(s, kind, namespaced, in, &out, &d) != 0)
        CHECK_FAIL("create %s: %s", text, d.msg);
    json_object_put(in);
    return out;
}

/* Create and drop the result; returns its resourceVersion. */
static uint64_t create_rv(struct sl_store *s, const char *kind,
                          const char *text)
{
    struct json_object *o = create(s, kind, true, text);
    uint64_t rv = RV(o);

    json_object_put(o);
    return rv;
}

static int update(struct sl_store *s, const char *kind, const char *text,
                  struct json_object **out, bool *unchanged, struct sl_diag *d)
{
    struct json_object *in = J(text);
    int rc = sl_store_update(s, kind, true, in, out, unchanged, d);

    json_object_put(in);
    return rc;
}

static int set_status(struct sl_store *s, const char *name, const char *text,
                      uint64_t expected, bool *unchanged, struct sl_diag *d)
{
    struct json_object *st = text != NULL ? J(text) : NULL, *out = NULL;
    int rc = sl_store_update_status(s, BROKER, "default", name, st, expected,
                                    &out, unchanged, d);

    json_object_put(st);
    json_object_put(out);
    return rc;
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* ---- a watch recorder ---- */

struct rec_ev {
    enum sl_store_event_type type;
    uint64_t rv;
    char kind[64];
    char ns[32];
    char name[80];
    char label[32]; /* metadata.labels.app */
    uint64_t obj_rv;
};

struct rec {
    struct rec_ev ev[128];
    int n;
};

static void rec_fn(void *arg, const struct sl_store_event *ev)
{
    struct rec *r = arg;
    struct rec_ev *e;
    struct json_object *m = NULL, *l = NULL, *v = NULL;

    ASSERT(r->n < 128);
    e = &r->ev[r->n++];
    memset(e, 0, sizeof(*e));
    e->type = ev->type;
    e->rv = ev->rv;
    snprintf(e->kind, sizeof(e->kind), "%s", ev->kind);
    snprintf(e->ns, sizeof(e->ns), "%s", M(ev->obj, "namespace"));
    snprintf(e->name, sizeof(e->name), "%s", M(ev->obj, "name"));
    if (json_object_object_get_ex(ev->obj, "metadata", &m) &&
        json_object_object_get_ex(m, "labels", &l) &&
        json_object_object_get_ex(l, "app", &v))
        snprintf(e->label, sizeof(e->label), "%s", json_object_get_string(v));
    e->obj_rv = RV(ev->obj);
}

static void expect_ev(const struct rec *r, int i, enum sl_store_event_type type,
                      uint64_t rv, const char *name)
{
    if (i >= r->n)
        CHECK_FAIL("event %d missing (only %d recorded)", i, r->n);
    if (r->ev[i].type != type || r->ev[i].rv != rv ||
        strcmp(r->ev[i].name, name) != 0)
        CHECK_FAIL("event %d: got %s rv %llu '%s', want %s rv %llu '%s'", i,
                   sl_store_event_name(r->ev[i].type),
                   (unsigned long long)r->ev[i].rv, r->ev[i].name,
                   sl_store_event_name(type), (unsigned long long)rv, name);
    /* The object always carries the event's resourceVersion. */
    ASSERT_EQ(r->ev[i].obj_rv, rv);
}

/* ---- opening ---- */

TEST(open_creates_dir_lock_and_wal_database)
{
    char sub[128], path[200];
    struct sl_store *s;
    struct stat st;
    sqlite3 *db;
    sqlite3_stmt *q;

    tmpdir_new();
    snprintf(sub, sizeof(sub), "%s/a/b", tdir);
    ASSERT_OK(sl_store_open(sub, NULL, &s, NULL));
    ASSERT_EQ(sl_store_rv(s), 0);
    ASSERT_EQ(sl_store_oldest_rv(s), 0);
    ASSERT_EQ(stat(sub, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/a", tdir);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/store.lock", sub);
    ASSERT_EQ(stat(path, &st), 0);
    sl_store_close(s);
    sl_store_close(NULL);

    /* WAL is recorded in the database file; schema version 1. */
    snprintf(path, sizeof(path), "%s/store.db", sub);
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    ASSERT_EQ(sqlite3_column_int(q, 0), SL_STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmpdir_free();
}

TEST(open_rejects_bad_arguments)
{
    struct sl_store *s = (struct sl_store *)&s;
    struct sl_store_opts o;
    struct sl_diag d;

    ASSERT_EQ(sl_store_open("", NULL, &s, &d), SL_EINVAL);
    ASSERT(s == NULL);
    tmpdir_new();
    sl_store_opts_init(&o);
    o.max_object_bytes = 0;
    ASSERT_EQ(sl_store_open(tdir, &o, &s, &d), SL_EINVAL);
    ASSERT(contains(d.msg, "out of range"));
    /* A plain file where the directory should be. */
    {
        char f[128];
        int fd;
        snprintf(f, sizeof(f), "%s/file", tdir);
        fd = open(f, O_CREAT | O_WRONLY, 0600);
        ASSERT(fd >= 0);
        close(fd);
        ASSERT_EQ(sl_store_open(f, NULL, &s, &d), SL_EIO);
        ASSERT(contains(d.msg, "not a directory"));
    }
    tmpdir_free();
}

TEST(lock_refuses_a_second_open)
{
    struct sl_store *a, *b = (struct sl_store *)&b;
    struct sl_diag d;
    char pid[32];

    tmpdir_new();
    a = open_store(NULL);
    ASSERT_EQ(sl_store_open(tdir, NULL, &b, &d), SL_EBUSY);
    ASSERT(b == NULL);
    ASSERT(contains(d.msg, tdir));
    ASSERT(contains(d.msg, "in use by another sluice process"));
    snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
    ASSERT(contains(d.msg, pid));
    sl_store_close(a);
    b = open_store(NULL);
    sl_store_close(b);
    tmpdir_free();
}

TEST(lock_refuses_another_process)
{
    struct sl_store *s = (struct sl_store *)&s;
    struct sl_diag d;
    int ready[2], hold[2], status;
    char c = 0, pid[32];
    pid_t child;

    tmpdir_new();
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(hold), 0);
    fflush(NULL);
    child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        /* Hold the store open until the parent closes 'hold' (or dies). */
        struct sl_store *mine = NULL;
        close(ready[0]);
        close(hold[1]);
        if (sl_store_open(tdir, NULL, &mine, NULL) != 0)
            _exit(2);
        if (write(ready[1], "k", 1) != 1)
            _exit(3);
        while (read(hold[0], &c, 1) > 0)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    ASSERT_EQ(read(ready[0], &c, 1), 1); /* the child holds the store */
    ASSERT_EQ(sl_store_open(tdir, NULL, &s, &d), SL_EBUSY);
    ASSERT(s == NULL);
    snprintf(pid, sizeof(pid), "pid %ld", (long)child);
    ASSERT(contains(d.msg, pid));
    close(hold[1]); /* lets the child exit */
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    /* The lock went with the process. */
    s = open_store(NULL);
    sl_store_close(s);
    tmpdir_free();
}

static void exec_sql(const char *sql)
{
    char path[128];
    sqlite3 *db;

    snprintf(path, sizeof(path), "%s/store.db", tdir);
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        CHECK_FAIL("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

TEST(newer_schema_and_foreign_files_are_refused)
{
    struct sl_store *s;
    struct sl_diag d;
    char path[128];
    int fd;

    tmpdir_new();
    s = open_store(NULL);
    sl_store_close(s);
    exec_sql("PRAGMA user_version = 2");
    ASSERT_EQ(sl_store_open(tdir, NULL, &s, &d), SL_ENOTSUP);
    ASSERT(s == NULL);
    ASSERT(contains(d.msg, "schema version 2"));
    ASSERT(contains(d.msg, "store.db"));
    tmpdir_free();

    /* Somebody else's SQLite database. */
    tmpdir_new();
    exec_sql("CREATE TABLE t(x)");
    ASSERT_EQ(sl_store_open(tdir, NULL, &s, &d), SL_EIO);
    ASSERT(contains(d.msg, "not a sluice store"));
    tmpdir_free();

    /* Not a database at all: SQLite's message comes through. */
    tmpdir_new();
    snprintf(path, sizeof(path), "%s/store.db", tdir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(
        write(fd, "this is not a sqlite database, just some text.....", 50),
        50);
    close(fd);
    ASSERT_EQ(sl_store_open(tdir, NULL, &s, &d), SL_EIO);
    ASSERT(contains(d.msg, "not a database"));
    tmpdir_free();
}

/* ---- create and get ---- */

TEST(create_sets_system_fields)
{
    struct sl_store *s;
    struct json_object *o, *g, *in;
    struct sl_diag d;
    const char *text =
        "{\"apiVersion\":\"eventing.knative.dev/v1\",\"kind\":\"Broker\","
        "\"metadata\":{\"name\":\"b\",\"uid\":\"u\",\"resourceVersion\":"
        "\"99\",\"generation\":7,\"creationTimestamp\":\"1999-01-01T00:00:"
        "00Z\","
        "\"managedFields\":[{}],\"selfLink\":\"x\",\"labels\":{\"app\":\"a\"},"
        "\"annotations\":{\"n\":\"v\"},\"finalizers\":[\"f\"],"
        "\"ownerReferences\":[{\"kind\":\"X\",\"name\":\"y\"}]},"
        "\"spec\":{\"delivery\":{\"retry\":3}},\"status\":{\"ready\":true}}";

    tmpdir_new();
    s = open_store(NULL);
    o = create(s, BROKER, true, text);
    ASSERT_STR_EQ(M(o, "name"), "b");
    ASSERT_STR_EQ(M(o, "namespace"), "default");
    ASSERT(sl_uuid_valid(M(o, "uid")));
    ASSERT_STR_EQ(M(o, "resourceVersion"), "1");
    ASSERT_EQ(GEN(o), 1);
    ASSERT_STR_EQ(M(o, "creationTimestamp"), "2023-11-14T22:13:20Z");
    ASSERT_STR_EQ(
        json_object_to_json_string_ext(TOP(o, "metadata"),
                                       JSON_C_TO_STRING_PLAIN) +
            strlen("{\"name\":\"b\",\"namespace\":\"default\",\"uid\":\"") +
            SL_UUID_STR_LEN,
        "\",\"resourceVersion\":\"1\",\"generation\":1,\"creationTimestamp\":"
        "\"2023-11-14T22:13:20Z\",\"labels\":{\"app\":\"a\"},\"annotations\":"
        "{\"n\":\"v\"},\"ownerReferences\":[{\"kind\":\"X\",\"name\":\"y\"}],"
        "\"finalizers\":[\"f\"]}");
    ASSERT(TOP(o, "status") == NULL);
    ASSERT_STR_EQ(
        json_object_to_json_string_ext(TOP(o, "spec"), JSON_C_TO_STRING_PLAIN),
        "{\"delivery\":{\"retry\":3}}");
    ASSERT_STR_EQ(json_object_get_string(TOP(o, "apiVersion")),
                  "eventing.knative.dev/v1");
    ASSERT_EQ(sl_store_rv(s), 1);

    ASSERT_OK(sl_store_get(s, BROKER, "default", "b", &g, NULL));
    ASSERT(json_object_equal(o, g));
    json_object_put(g);
    ASSERT_EQ(sl_store_get(s, BROKER, "other", "b", &g, &d), SL_ENOENT);
    ASSERT(g == NULL);
    ASSERT(contains(d.msg, "\"other/b\" not found"));
    ASSERT_EQ(sl_store_get(s, TRIGGER, "default", "b", &g, NULL), SL_ENOENT);

    /* Same key again: SL_EEXIST, no resourceVersion used. */
    in = J(text);
    ASSERT_EQ(sl_store_create(s, BROKER, true, in, &g, &d), SL_EEXIST);
    ASSERT(g == NULL);
    ASSERT(contains(d.msg, "\"default/b\" already exists"));
    ASSERT_STR_EQ(d.field, "metadata.name");
    ASSERT_EQ(sl_store_rv(s), 1);
    /* Same name in another namespace or kind is another object. */
    json_object_object_add(TOP(in, "metadata"), "namespace",
                           json_object_new_string("ns2"));
    ASSERT_OK(sl_store_create(s, BROKER, true, in, NULL, NULL));
    ASSERT_OK(sl_store_create(s, TRIGGER, true, in, NULL, NULL));
    ASSERT_EQ(sl_store_rv(s), 3);
    json_object_put(in);
    json_object_put(o);
    sl_store_close(s);
    tmpdir_free();
}

TEST(cluster_scoped_objects_have_no_namespace)
{
    struct sl_store *s;
    struct json_object *o, *g;

    tmpdir_new();
    s = open_store(NULL);
    o = create(s, NS_KIND, false,
               "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
               "{\"name\":\"team\",\"namespace\":\"ignored\"}}");
    ASSERT(json_object_object_get_ex(TOP(o, "metadata"), "namespace", NULL) ==
           0);
    ASSERT_OK(sl_store_get(s, NS_KIND, NULL, "team", &g, NULL));
    json_object_put(g);
    ASSERT_OK(sl_store_get(s, NS_KIND, "", "team", &g, NULL));
    json_object_put(g);
    ASSERT_EQ(sl_store_get(s, NS_KIND, "ignored", "team", &g, NULL), SL_ENOENT);
    json_object_put(o);
    ASSERT_OK(sl_store_delete(s, NS_KIND, NULL, "team", 0, NULL, NULL));
    sl_store_close(s);
    tmpdir_free();
}

TEST(generate_name)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    struct sl_store *s;
    struct json_object *a, *b, *c, *in;
    struct sl_diag d;
    const char *n;
    size_t i;

    tmpdir_new();
    s = open_store(NULL);
    a = create(s, BROKER, true, "{\"metadata\":{\"generateName\":\"b-\"}}");
    b = create(s, BROKER, true, "{\"metadata\":{\"generateName\":\"b-\"}}");
    n = M(a, "name");
    ASSERT_EQ(strlen(n), 7);
    ASSERT(strncmp(n, "b-", 2) == 0);
    for (i = 2; i < 7; i++)
        ASSERT(strchr(alphabet, n[i]) != NULL);
    ASSERT(strcmp(M(a, "name"), M(b, "name")) != 0);
    ASSERT_STR_EQ(M(a, "generateName"), "b-");
    /* A given name wins over generateName. */
    c = create(s, BROKER, true,
               "{\"metadata\":{\"name\":\"fixed\",\"generateName\":\"b-\"}}");
    ASSERT_STR_EQ(M(c, "name"), "fixed");
    json_object_put(c);
    /* A long prefix is cut to 58 bytes. */
    c = create(
        s, BROKER, true,
        "{\"metadata\":{\"generateName\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}");
    ASSERT_EQ(strlen(M(c, "name")), 63);
    json_object_put(c);
    /* Neither name nor generateName. */
    in = J("{\"metadata\":{\"labels\":{}}}");
    ASSERT_EQ(sl_store_create(s, BROKER, true, in, NULL, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "metadata.name");
    json_object_put(in);
    json_object_put(a);
    json_object_put(b);
    sl_store_close(s);
    tmpdir_free();
}

static void create_fails(struct sl_store *s, struct json_object *in, int rc,
                         const char *field)
{
    struct json_object *out = (struct json_object *)&out;
    struct sl_diag d;
    uint64_t rv = sl_store_rv(s);

    sl_diag_clear(&d);
    ASSERT_EQ(sl_store_create(s, BROKER, true, in, &out, &d), rc);
    ASSERT(out == NULL);
    if (field != NULL)
        ASSERT_STR_EQ(d.field, field);
    ASSERT(d.msg[0] != '\0');
    ASSERT_EQ(sl_store_rv(s), rv);
    json_object_put(in);
}

/* {"metadata":{"name":"deep"},"spec":{"a":{"a":...}}} with 'levels'. */
static struct json_object *nested(int levels)
{
    struct json_object *o = J("{\"metadata\":{\"name\":\"deep\"}}");
    struct json_object *cur = json_object_new_object(), *top = cur;
    int i;

    /* The object itself is level 1 and spec level 2. */
    for (i = 3; i <= levels; i++) {
        struct json_object *next = json_object_new_object();
        json_object_object_add(cur, "a", next);
        cur = next;
    }
    json_object_object_add(o, "spec", top);
    return o;
}

TEST(create_checks_input)
{
    struct sl_store_opts opts;
    struct sl_store *s;
    struct json_object *o, *g;
    char big[300];

    tmpdir_new();
    opts_test(&opts);
    opts.max_object_bytes = 2048;
    s = open_store(&opts);
    create_fails(s, J("[1]"), SL_EINVAL, "");
    create_fails(s, J("{\"metadata\":[]}"), SL_EINVAL, "metadata");
    create_fails(s, J("{\"metadata\":{\"name\":1}}"), SL_EINVAL,
                 "metadata.name");
    create_fails(s, J("{\"metadata\":{\"name\":\"\"}}"), SL_EINVAL,
                 "metadata.name");
    create_fails(s, J("{\"metadata\":{\"name\":\"a\\u0000b\"}}"), SL_EINVAL,
                 "metadata.name");
    create_fails(s, J("{\"apiVersion\":1,\"metadata\":{\"name\":\"a\"}}"),
                 SL_EINVAL, "apiVersion");
    create_fails(s, J("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":1}}}"),
                 SL_EINVAL, "metadata.labels.x");
    create_fails(s, J("{\"metadata\":{\"name\":\"a\",\"annotations\":[]}}"),
                 SL_EINVAL, "metadata.annotations");
    create_fails(s, J("{\"metadata\":{\"name\":\"a\",\"finalizers\":[1]}}"),
                 SL_EINVAL, "metadata.finalizers[0]");
    create_fails(s,
                 J("{\"metadata\":{\"name\":\"a\",\"ownerReferences\":[\"x\"]"
                   "}}"),
                 SL_EINVAL, "metadata.ownerReferences[0]");
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    o = json_object_new_object();
    json_object_object_add(o, "metadata", json_object_new_object());
    json_object_object_add(TOP(o, "metadata"), "name",
                           json_object_new_string(big));
    create_fails(s, o, SL_EINVAL, "metadata.name");
    o = J("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"x\":[1,{}]}}");
    json_object_array_put_idx(TOP(TOP(o, "spec"), "x"), 0,
                              json_object_new_double(NAN)); /* e.g. YAML .nan */
    create_fails(s, o, SL_EINVAL, "spec.x[0]");
    create_fails(s, nested(SL_STORE_MAX_DEPTH + 1), SL_EINVAL, NULL);
    ASSERT_EQ(sl_store_rv(s), 0);

    /* The deepest object allowed is stored and reads back. */
    o = nested(SL_STORE_MAX_DEPTH);
    ASSERT_OK(sl_store_create(s, BROKER, true, o, NULL, NULL));
    ASSERT_OK(sl_store_get(s, BROKER, "default", "deep", &g, NULL));
    ASSERT(json_object_equal(TOP(o, "spec"), TOP(g, "spec")));
    json_object_put(g);
    json_object_put(o);
    ASSERT_EQ(sl_store_rv(s), 1);

    /* Over the size limit: SL_ETOOBIG, nothing written. */
    o = J("{\"metadata\":{\"name\":\"big\"},\"spec\":{}}");
    {
        char *pad = sl_xmalloc(4000);
        memset(pad, 'x', 3999);
        pad[3999] = '\0';
        json_object_object_add(TOP(o, "spec"), "pad",
                               json_object_new_string(pad));
        sl_free(pad);
    }
    create_fails(s, o, SL_ETOOBIG, NULL);
    ASSERT_EQ(sl_store_get(s, BROKER, "default", "big", &g, NULL), SL_ENOENT);
    ASSERT_EQ(sl_store_rv(s), 1);
    sl_store_close(s);
    tmpdir_free();
}

static int custom_print(struct json_object *o, struct printbuf *pb, int level,
                        int flags)
{
    (void)o;
    (void)level;
    (void)flags;
    return printbuf_strappend(pb, "\"printed\"");
}

TEST(create_copies_any_json_c_value)
{
    struct sl_store *s;
    struct json_object *in, *o, *v;

    tmpdir_new();
    s = open_store(NULL);
    /* Parsed doubles keep their text as userdata; a custom serializer
     * has userdata json-c cannot deep-copy. Both are stored as printed. */
    in = J("{\"metadata\":{\"name\":\"c\"},\"spec\":{\"d\":1.50,\"e\":2}}");
    v = json_object_new_int(5);
    json_object_set_serializer(v, custom_print, (void *)"userdata", NULL);
    json_object_object_add(TOP(in, "spec"), "x", v);
    ASSERT_OK(sl_store_create(s, BROKER, true, in, &o, NULL));
    ASSERT_STR_EQ(
        json_object_to_json_string_ext(TOP(o, "spec"), JSON_C_TO_STRING_PLAIN),
        "{\"d\":1.50,\"e\":2,\"x\":\"printed\"}");
    json_object_put(o);
    ASSERT_OK(sl_store_get(s, BROKER, "default", "c", &o, NULL));
    ASSERT(json_object_get_double(TOP(TOP(o, "spec"), "d")) == 1.5);
    ASSERT_STR_EQ(json_object_get_string(TOP(TOP(o, "spec"), "x")), "printed");
    json_object_put(o);
    json_object_put(in);
    sl_store_close(s);
    tmpdir_free();
}

/* ---- update, status, delete ---- */

TEST(update_rules)
{
    struct sl_store *s;
    struct json_object *o, *g;
    struct sl_diag d;
    bool unchanged = true;
    char uid[64], created[64], text[512];

    tmpdir_new();
    s = open_store(NULL);
    o = create(s, BROKER, true,
               "{\"apiVersion\":\"eventing.knative.dev/v1\",\"kind\":"
               "\"Broker\",\"metadata\":{\"name\":\"b\",\"labels\":{\"app\":"
               "\"a\"}},\"spec\":{\"x\":1}}");
    snprintf(uid, sizeof(uid), "%s", M(o, "uid"));
    snprintf(created, sizeof(created), "%s", M(o, "creationTimestamp"));
    json_object_put(o);
    ASSERT_OK(set_status(s, "b", "{\"ready\":true}", 0, NULL, NULL));
    ASSERT_EQ(sl_store_rv(s), 2);
    fake_now += 100;

    /* Metadata only: new resourceVersion, same generation; status kept. */
    ASSERT_OK(update(s, BROKER,
                     "{\"apiVersion\":\"eventing.knative.dev/v1\",\"kind\":"
                     "\"Broker\",\"metadata\":{\"name\":\"b\",\"labels\":{"
                     "\"app\":\"b\"},\"uid\":\"\",\"creationTimestamp\":\"x\"}"
                     ",\"spec\":{\"x\":1},\"status\":{\"ready\":false}}",
                     &o, &unchanged, NULL));
    ASSERT(!unchanged);
    ASSERT_EQ(RV(o), 3);
    ASSERT_EQ(GEN(o), 1);
    ASSERT_STR_EQ(M(o, "uid"), uid);
    ASSERT_STR_EQ(M(o, "creationTimestamp"), created);
    ASSERT_STR_EQ(json_object_to_json_string_ext(TOP(o, "status"),
                                                 JSON_C_TO_STRING_PLAIN),
                  "{\"ready\":true}");
    json_object_put(o);

    /* The same again: unchanged, nothing written. */
    ASSERT_OK(update(s, BROKER,
                     "{\"kind\":\"Broker\",\"apiVersion\":\"eventing.knative."
                     "dev/v1\",\"spec\":{\"x\":1},\"metadata\":{\"labels\":{"
                     "\"app\":\"b\"},\"name\":\"b\",\"namespace\":\"default\","
                     "\"annotations\":{}}}",
                     &o, &unchanged, NULL));
    ASSERT(unchanged);
    ASSERT_EQ(RV(o), 3);
    ASSERT_EQ(sl_store_rv(s), 3);
    json_object_put(o);

    /* Spec change: generation 2. Removing labels is a metadata change. */
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"3\"},"
                     "\"spec\":{\"x\":2}}",
                     &o, &unchanged, NULL));
    ASSERT(!unchanged);
    ASSERT_EQ(RV(o), 4);
    ASSERT_EQ(GEN(o), 2);
    ASSERT(json_object_object_get_ex(TOP(o, "metadata"), "labels", NULL) == 0);
    ASSERT(TOP(o, "apiVersion") == NULL);
    json_object_put(o);
    /* Another top-level member (ConfigMap data) is part of the spec. */
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"x\":2},"
                     "\"data\":{\"k\":\"v\"}}",
                     &o, NULL, NULL));
    ASSERT_EQ(GEN(o), 3);
    ASSERT_EQ(RV(o), 5);
    json_object_put(o);

    /* Preconditions. */
    ASSERT_EQ(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"4\"},"
                     "\"spec\":{\"x\":9}}",
                     &o, &unchanged, &d),
              SL_ECONFLICT);
    ASSERT(o == NULL);
    ASSERT(contains(d.msg, "has been modified"));
    ASSERT_STR_EQ(d.field, "metadata.resourceVersion");
    /* Stale even though nothing would change. */
    ASSERT_EQ(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"4\"},"
                     "\"spec\":{\"x\":2},\"data\":{\"k\":\"v\"}}",
                     NULL, NULL, NULL),
              SL_ECONFLICT);
    snprintf(text, sizeof(text),
             "{\"metadata\":{\"name\":\"b\",\"uid\":\"%s\",\"resourceVersion\""
             ":\"5\"},\"spec\":{\"x\":9}}",
             uid);
    ASSERT_OK(update(s, BROKER, text, NULL, NULL, NULL));
    ASSERT_EQ(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"uid\":\"00000000-0000-"
                     "4000-8000-000000000000\"},\"spec\":{\"x\":10}}",
                     NULL, NULL, &d),
              SL_ECONFLICT);
    ASSERT_STR_EQ(d.field, "metadata.uid");
    ASSERT_EQ(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"x1\"}"
                     "}",
                     NULL, NULL, &d),
              SL_EINVAL);
    ASSERT_STR_EQ(d.field, "metadata.resourceVersion");
    ASSERT_EQ(
        update(s, BROKER, "{\"metadata\":{\"name\":\"nope\"}}", NULL, NULL, &d),
        SL_ENOENT);
    ASSERT_EQ(update(s, BROKER, "{\"metadata\":{\"generateName\":\"b\"}}", NULL,
                     NULL, &d),
              SL_EINVAL);
    ASSERT_EQ(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b\",\"namespace\":\"other\"}}",
                     NULL, NULL, &d),
              SL_ENOENT);
    ASSERT_EQ(sl_store_rv(s), 6);

    ASSERT_OK(sl_store_get(s, BROKER, "default", "b", &g, NULL));
    ASSERT_EQ(GEN(g), 4);
    ASSERT_EQ(RV(g), 6);
    json_object_put(g);
    sl_store_close(s);
    tmpdir_free();
}

TEST(update_status_rules)
{
    struct sl_store *s;
    struct json_object *o, *st;
    struct sl_diag d;
    bool unchanged = true;

    tmpdir_new();
    s = open_store(NULL);
    json_object_put(
        create(s, BROKER, true, "{\"metadata\":{\"name\":\"b\"},\"spec\":{}}"));
    ASSERT_OK(set_status(s, "b", "{\"conditions\":[{\"type\":\"Ready\"}]}", 1,
                         &unchanged, NULL));
    ASSERT(!unchanged);
    ASSERT_EQ(sl_store_rv(s), 2);
    /* Equal status: no-op. */
    ASSERT_OK(set_status(s, "b", "{\"conditions\":[{\"type\":\"Ready\"}]}", 0,
                         &unchanged, NULL));
    ASSERT(unchanged);
    ASSERT_EQ(sl_store_rv(s), 2);
    /* Stale precondition. */
    ASSERT_EQ(set_status(s, "b", "{\"x\":1}", 1, &unchanged, &d), SL_ECONFLICT);
    ASSERT(!unchanged);
    ASSERT_EQ(set_status(s, "nope", "{\"x\":1}", 0, NULL, &d), SL_ENOENT);
    st = json_object_new_object();
    json_object_object_add(st, "v", json_object_new_double(INFINITY));
    ASSERT_EQ(
        sl_store_update_status(s, BROKER, "default", "b", st, 0, &o, NULL, &d),
        SL_EINVAL);
    ASSERT(o == NULL);
    ASSERT_STR_EQ(d.field, "status.v");
    json_object_put(st);
    ASSERT_EQ(sl_store_rv(s), 2);

    st = J("{\"observedGeneration\":1}");
    ASSERT_OK(sl_store_update_status(s, BROKER, "default", "b", st, 2, &o,
                                     &unchanged, NULL));
    ASSERT(!unchanged);
    ASSERT_EQ(RV(o), 3);
    ASSERT_EQ(GEN(o), 1);
    ASSERT(json_object_equal(TOP(o, "status"), st));
    json_object_put(o);
    json_object_put(st);
    /* NULL removes the status. */
    ASSERT_OK(sl_store_update_status(s, BROKER, "default", "b", NULL, 0, &o,
                                     &unchanged, NULL));
    ASSERT(TOP(o, "status") == NULL);
    ASSERT_EQ(RV(o), 4);
    ASSERT_EQ(GEN(o), 1);
    json_object_put(o);
    ASSERT_OK(set_status(s, "b", NULL, 0, &unchanged, NULL));
    ASSERT(unchanged);
    sl_store_close(s);
    tmpdir_free();
}

TEST(delete_rules)
{
    struct sl_store *s;
    struct json_object *o, *g;
    struct sl_diag d;

    tmpdir_new();
    s = open_store(NULL);
    json_object_put(
        create(s, BROKER, true, "{\"metadata\":{\"name\":\"b\"},\"spec\":{}}"));
    json_object_put(create(s, TRIGGER, true,
                           "{\"metadata\":{\"name\":\"t\"},\"spec\":{}}"));
    ASSERT_EQ(sl_store_delete(s, BROKER, "default", "b", 2, &o, &d),
              SL_ECONFLICT);
    ASSERT(o == NULL);
    ASSERT_EQ(sl_store_delete(s, BROKER, "x", "b", 0, &o, &d), SL_ENOENT);
    ASSERT_OK(sl_store_delete(s, BROKER, "default", "b", 1, &o, NULL));
    ASSERT_STR_EQ(M(o, "name"), "b");
    ASSERT_EQ(RV(o), 3);
    json_object_put(o);
    ASSERT_EQ(sl_store_get(s, BROKER, "default", "b", &g, NULL), SL_ENOENT);
    ASSERT_EQ(sl_store_delete(s, BROKER, "default", "b", 0, NULL, NULL),
              SL_ENOENT);
    ASSERT_EQ(sl_store_rv(s), 3);
    /* Re-created, it is a new object with a new uid and generation 1. */
    o = create(s, BROKER, true, "{\"metadata\":{\"name\":\"b\"}}");
    ASSERT_EQ(RV(o), 4);
    ASSERT_EQ(GEN(o), 1);
    json_object_put(o);
    sl_store_close(s);
    tmpdir_free();
}

TEST(resource_version_parse)
{
    uint64_t v = 7;
    struct sl_diag d;

    ASSERT_OK(sl_store_rv_parse("0", "x", &v, NULL));
    ASSERT_EQ(v, 0);
    ASSERT_OK(sl_store_rv_parse("9223372036854775807", "x", &v, NULL));
    ASSERT(v == 9223372036854775807ULL);
    ASSERT_EQ(sl_store_rv_parse("9223372036854775808", "x", &v, NULL),
              SL_EINVAL);
    ASSERT_EQ(sl_store_rv_parse("", "x", &v, NULL), SL_EINVAL);
    ASSERT_EQ(sl_store_rv_parse("+1", "x", &v, NULL), SL_EINVAL);
    ASSERT_EQ(sl_store_rv_parse("-1", "x", &v, NULL), SL_EINVAL);
    ASSERT_EQ(sl_store_rv_parse("1 ", "x", &v, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "x");
}

/* ---- list ---- */

static void list_names(struct sl_store *s, const char *kind, const char *ns,
                       const char *sel, const char *want)
{
    struct json_object *items;
    char got[512] = "";
    size_t i, n, len = 0;
    uint64_t rv = 0;
    struct sl_diag d;

    if (sl_store_list(s, kind, ns, sel, &items, &rv, &d) != 0)
        CHECK_FAIL("list: %s", d.msg);
    ASSERT_EQ(rv, sl_store_rv(s));
    n = json_object_array_length(items);
    for (i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(items, i);
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s/%s",
                                i ? " " : "", M(o, "namespace"), M(o, "name"));
    }
    json_object_put(items);
    if (strcmp(got, want) != 0)
        CHECK_FAIL("list %s %s '%s': got '%s', want '%s'", kind ? kind : "*",
                   ns ? ns : "*", sel ? sel : "", got, want);
}

TEST(list_orders_and_filters)
{
    struct sl_store *s;
    struct json_object *items = (struct json_object *)&items;
    struct sl_diag d;

    tmpdir_new();
    s = open_store(NULL);
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"z\",\"namespace\":\"a\","
              "\"labels\":{\"app\":\"web\"}}}");
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"m\",\"namespace\":\"b\","
              "\"labels\":{\"app\":\"db\"}}}");
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"b\"}}");
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\","
              "\"labels\":{\"app\":\"web\",\"tier\":\"1\"}}}");
    create_rv(s, TRIGGER,
              "{\"metadata\":{\"name\":\"b\",\"namespace\":\"b\","
              "\"labels\":{\"app\":\"web\"}}}");
    json_object_put(
        create(s, NS_KIND, false, "{\"metadata\":{\"name\":\"b\"}}"));

    list_names(s, BROKER, NULL, NULL, "a/z b/a b/c b/m");
    list_names(s, BROKER, "b", NULL, "b/a b/c b/m");
    list_names(s, BROKER, "nope", NULL, "");
    list_names(s, NULL, NULL, NULL, "/b a/z b/a b/b b/c b/m");
    list_names(s, NULL, "b", "app=web", "b/a b/b");
    list_names(s, NULL, "", NULL, "/b");
    list_names(s, BROKER, NULL, "app in (web,db),!tier", "a/z b/m");
    list_names(s, BROKER, NULL, "app!=web", "b/c b/m");
    list_names(s, TRIGGER, NULL, "", "b/b");

    ASSERT_EQ(sl_store_list(s, BROKER, NULL, "app=web,", &items, NULL, &d),
              SL_EINVAL);
    ASSERT(items == NULL);
    ASSERT(contains(d.msg, "position 9"));
    ASSERT_EQ(sl_store_list(s, "", NULL, NULL, &items, NULL, &d), SL_EINVAL);
    sl_store_close(s);
    tmpdir_free();
}

/* ---- watch ---- */

TEST(watch_live_events)
{
    struct sl_store *s;
    struct sl_store_watch *all, *brokers, *ns_b, *web;
    struct rec r_all = { 0 }, r_brokers = { 0 }, r_b = { 0 }, r_web = { 0 };
    bool unchanged;

    tmpdir_new();
    s = open_store(NULL);
    ASSERT_OK(
        sl_store_watch(s, NULL, NULL, NULL, 0, rec_fn, &r_all, &all, NULL));
    ASSERT_OK(sl_store_watch(s, BROKER, NULL, NULL, 0, rec_fn, &r_brokers,
                             &brokers, NULL));
    ASSERT_OK(sl_store_watch(s, NULL, "b", NULL, 0, rec_fn, &r_b, &ns_b, NULL));
    ASSERT_OK(sl_store_watch(s, BROKER, NULL, "app=web", 0, rec_fn, &r_web,
                             &web, NULL));

    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"web\"}}}");
    create_rv(s, TRIGGER,
              "{\"metadata\":{\"name\":\"t\",\"namespace\":\"b\"}}");
    ASSERT_OK(set_status(s, "x", "{\"a\":1}", 0, NULL, NULL));
    /* Unchanged writes send nothing. */
    ASSERT_OK(set_status(s, "x", "{\"a\":1}", 0, &unchanged, NULL));
    ASSERT(unchanged);
    /* Relabel out of app=web, then back in. */
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"db\""
                     "}}}",
                     NULL, NULL, NULL));
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"db\""
                     "}},\"spec\":{}}",
                     NULL, NULL, NULL));
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"x\",\"labels\":{\"app\":\"web"
                     "\"}},\"spec\":{}}",
                     NULL, NULL, NULL));
    ASSERT_OK(sl_store_delete(s, BROKER, "default", "x", 0, NULL, NULL));

    ASSERT_EQ(r_all.n, 7);
    expect_ev(&r_all, 0, SL_STORE_ADDED, 1, "x");
    expect_ev(&r_all, 1, SL_STORE_ADDED, 2, "t");
    ASSERT_STR_EQ(r_all.ev[1].kind, TRIGGER);
    expect_ev(&r_all, 2, SL_STORE_MODIFIED, 3, "x");
    expect_ev(&r_all, 3, SL_STORE_MODIFIED, 4, "x");
    expect_ev(&r_all, 4, SL_STORE_MODIFIED, 5, "x");
    expect_ev(&r_all, 5, SL_STORE_MODIFIED, 6, "x");
    expect_ev(&r_all, 6, SL_STORE_DELETED, 7, "x");

    ASSERT_EQ(r_brokers.n, 6);
    ASSERT_EQ(r_brokers.ev[1].rv, 3);
    ASSERT_EQ(r_b.n, 1);
    expect_ev(&r_b, 0, SL_STORE_ADDED, 2, "t");
    ASSERT_STR_EQ(r_b.ev[0].ns, "b");

    /* The selector watch sees the object leave and come back. */
    ASSERT_EQ(r_web.n, 5);
    expect_ev(&r_web, 0, SL_STORE_ADDED, 1, "x");
    expect_ev(&r_web, 1, SL_STORE_MODIFIED, 3, "x");
    expect_ev(&r_web, 2, SL_STORE_DELETED, 4, "x");
    ASSERT_STR_EQ(r_web.ev[2].label, "web"); /* the content it last saw */
    expect_ev(&r_web, 3, SL_STORE_ADDED, 6, "x");
    expect_ev(&r_web, 4, SL_STORE_DELETED, 7, "x");

    sl_store_unwatch(brokers);
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"y\"}}");
    ASSERT_EQ(r_brokers.n, 6);
    ASSERT_EQ(r_all.n, 8);
    sl_store_unwatch(all);
    sl_store_unwatch(ns_b);
    sl_store_unwatch(web);
    sl_store_unwatch(NULL);
    sl_store_close(s);
    tmpdir_free();
}

/* Nine changes over two kinds and two namespaces; labels move. */
static void history_script(struct sl_store *s)
{
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"b1\",\"labels\":{\"app\":\"web\"}}}");
    create_rv(s, TRIGGER,
              "{\"metadata\":{\"name\":\"t1\",\"labels\":{\"app\":\"web\"}}}");
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"b2\",\"namespace\":\"other\"}}");
    ASSERT_OK(set_status(s, "b1", "{\"ok\":1}", 0, NULL, NULL));
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b1\",\"labels\":{\"app\":"
                     "\"db\"}}}",
                     NULL, NULL, NULL));
    ASSERT_OK(sl_store_delete(s, TRIGGER, "default", "t1", 0, NULL, NULL));
    ASSERT_OK(update(s, BROKER,
                     "{\"metadata\":{\"name\":\"b1\",\"labels\":{\"app\":"
                     "\"web\"}},\"spec\":{\"v\":2}}",
                     NULL, NULL, NULL));
    ASSERT_OK(sl_store_delete(s, BROKER, "other", "b2", 0, NULL, NULL));
    ASSERT_OK(sl_store_delete(s, BROKER, "default", "b1", 0, NULL, NULL));
    ASSERT_EQ(sl_store_rv(s), 9);
}

static void check_full_replay(struct sl_store *s)
{
    struct sl_store_watch *w;
    struct rec r = { 0 };

    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 1, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 8);
    expect_ev(&r, 0, SL_STORE_ADDED, 2, "t1");
    expect_ev(&r, 1, SL_STORE_ADDED, 3, "b2");
    expect_ev(&r, 2, SL_STORE_MODIFIED, 4, "b1");
    expect_ev(&r, 3, SL_STORE_MODIFIED, 5, "b1");
    expect_ev(&r, 4, SL_STORE_DELETED, 6, "t1");
    expect_ev(&r, 5, SL_STORE_MODIFIED, 7, "b1");
    expect_ev(&r, 6, SL_STORE_DELETED, 8, "b2");
    expect_ev(&r, 7, SL_STORE_DELETED, 9, "b1");
    sl_store_unwatch(w);
}

TEST(watch_resumes_from_history)
{
    struct sl_store *s;
    struct sl_store_watch *w;
    struct rec r = { 0 };
    struct sl_diag d;

    tmpdir_new();
    s = open_store(NULL);
    history_script(s);
    check_full_replay(s);

    /* Filters apply to the replay as they do to live events. */
    ASSERT_OK(
        sl_store_watch(s, BROKER, "default", NULL, 3, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 4);
    expect_ev(&r, 0, SL_STORE_MODIFIED, 4, "b1");
    expect_ev(&r, 1, SL_STORE_MODIFIED, 5, "b1");
    expect_ev(&r, 2, SL_STORE_MODIFIED, 7, "b1");
    expect_ev(&r, 3, SL_STORE_DELETED, 9, "b1");
    /* ... and live events follow without a gap. */
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"b3\"}}");
    create_rv(s, BROKER,
              "{\"metadata\":{\"name\":\"b4\",\"namespace\":\"x\"}}");
    ASSERT_EQ(r.n, 5);
    expect_ev(&r, 4, SL_STORE_ADDED, 10, "b3");
    sl_store_unwatch(w);

    /* Selector transitions in the replay, from the stored labels. */
    memset(&r, 0, sizeof(r));
    ASSERT_OK(
        sl_store_watch(s, NULL, NULL, "app=web", 1, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 6);
    expect_ev(&r, 0, SL_STORE_ADDED, 2, "t1");
    expect_ev(&r, 1, SL_STORE_MODIFIED, 4, "b1");
    expect_ev(&r, 2, SL_STORE_DELETED, 5, "b1");
    ASSERT_STR_EQ(r.ev[2].label, "web");
    expect_ev(&r, 3, SL_STORE_DELETED, 6, "t1");
    expect_ev(&r, 4, SL_STORE_ADDED, 7, "b1");
    expect_ev(&r, 5, SL_STORE_DELETED, 9, "b1");
    sl_store_unwatch(w);

    /* From the current version: nothing replayed. From the future: gone. */
    memset(&r, 0, sizeof(r));
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 11, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 0);
    sl_store_unwatch(w);
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 12, rec_fn, &r, &w, &d),
              SL_EGONE);
    ASSERT(w == NULL);
    ASSERT_STR_EQ(d.msg, "too large resource version: 12 (current 11)");
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, "a b", 0, rec_fn, &r, &w, &d),
              SL_EINVAL);
    ASSERT(contains(d.msg, "position 3"));
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 0, NULL, &r, &w, &d),
              SL_EINVAL);
    ASSERT_EQ(r.n, 0);
    sl_store_close(s);
    tmpdir_free();
}

TEST(history_trimmed_by_size_gives_gone)
{
    struct sl_store_opts o;
    struct sl_store *s;
    struct sl_store_watch *w = NULL;
    struct rec r = { 0 };
    struct sl_diag d;
    char text[128];
    int i;

    tmpdir_new();
    opts_test(&o);
    o.history_max = 3;
    s = open_store(&o);
    for (i = 1; i <= 10; i++) {
        snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"o%d\"}}", i);
        create_rv(s, BROKER, text);
    }
    ASSERT_EQ(sl_store_oldest_rv(s), 7);
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 6, rec_fn, &r, &w, &d),
              SL_EGONE);
    ASSERT(w == NULL);
    ASSERT_EQ(r.n, 0);
    ASSERT_STR_EQ(d.msg, "too old resource version: 6 (oldest available 7)");
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 1, rec_fn, &r, &w, &d),
              SL_EGONE);
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 7, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 3);
    expect_ev(&r, 0, SL_STORE_ADDED, 8, "o8");
    expect_ev(&r, 2, SL_STORE_ADDED, 10, "o10");
    sl_store_unwatch(w);
    sl_store_close(s);

    /* No history at all: only "now" works. */
    o.history_max = 0;
    s = open_store(&o);
    ASSERT_EQ(sl_store_oldest_rv(s), 7); /* trimmed on the next write */
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"p\"}}");
    ASSERT_EQ(sl_store_oldest_rv(s), 11);
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 10, rec_fn, &r, &w, &d),
              SL_EGONE);
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 11, rec_fn, &r, &w, NULL));
    sl_store_unwatch(w);
    sl_store_close(s);
    tmpdir_free();
}

TEST(history_trimmed_by_age)
{
    struct sl_store_opts o;
    struct sl_store *s;
    struct sl_store_watch *w = NULL;
    struct rec r = { 0 };

    tmpdir_new();
    opts_test(&o);
    o.history_max_age = 60;
    s = open_store(&o);
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"a\"}}");
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"b\"}}");
    fake_now += 30;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"c\"}}");
    ASSERT_EQ(sl_store_oldest_rv(s), 0);
    fake_now += 31; /* a and b are 61 s old, c 31 s */
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"d\"}}");
    ASSERT_EQ(sl_store_oldest_rv(s), 2);
    ASSERT_EQ(sl_store_watch(s, NULL, NULL, NULL, 1, rec_fn, &r, &w, NULL),
              SL_EGONE);
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 2, rec_fn, &r, &w, NULL));
    ASSERT_EQ(r.n, 2);
    expect_ev(&r, 0, SL_STORE_ADDED, 3, "c");
    sl_store_unwatch(w);
    /* Idle past the age: everything goes, yet "now" still resumes. */
    fake_now += 1000;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"e\"}}");
    ASSERT_EQ(sl_store_oldest_rv(s), 4);
    sl_store_close(s);
    tmpdir_free();
}

TEST(history_and_counter_survive_reopen)
{
    struct sl_store_opts o;
    struct sl_store *s;

    tmpdir_new();
    s = open_store(NULL);
    history_script(s);
    sl_store_close(s);
    s = open_store(NULL);
    ASSERT_EQ(sl_store_rv(s), 9);
    check_full_replay(s);
    ASSERT_EQ(create_rv(s, BROKER, "{\"metadata\":{\"name\":\"n\"}}"), 10);
    sl_store_close(s);

    /* The trim watermark survives too. */
    opts_test(&o);
    o.history_max = 2;
    s = open_store(&o);
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"n2\"}}");
    ASSERT_EQ(sl_store_oldest_rv(s), 9);
    sl_store_close(s);
    s = open_store(NULL);
    ASSERT_EQ(sl_store_oldest_rv(s), 9);
    ASSERT_EQ(sl_store_rv(s), 11);
    sl_store_close(s);
    tmpdir_free();
}

/* ---- callback rules ---- */

struct cb_ctx {
    struct sl_store *s;
    struct sl_store_watch *self;
    struct sl_store_watch *other;
    struct sl_store_watch *started;
    struct rec started_rec;
    int calls;
    int write_rc;
    int read_rc;
    bool unwatch_self;
    bool unwatch_other;
    bool start_watch;
    bool start_since; /* start it from the change before this one */
};

static void cb_fn(void *arg, const struct sl_store_event *ev)
{
    struct cb_ctx *c = arg;
    struct json_object *in = J("{\"metadata\":{\"name\":\"inner\"}}");
    struct json_object *got = NULL;

    c->calls++;
    c->write_rc = sl_store_create(c->s, BROKER, true, in, NULL, NULL);
    json_object_put(in);
    c->read_rc = sl_store_get(c->s, ev->kind, M(ev->obj, "namespace"),
                              M(ev->obj, "name"), &got, NULL);
    json_object_put(got);
    if (c->unwatch_self)
        sl_store_unwatch(c->self);
    if (c->unwatch_other) {
        sl_store_unwatch(c->other);
        c->other = NULL;
    }
    if (c->start_watch && c->started == NULL)
        ASSERT_OK(sl_store_watch(c->s, NULL, NULL, NULL,
                                 c->start_since ? ev->rv - 1 : 0, rec_fn,
                                 &c->started_rec, &c->started, NULL));
}

TEST(callbacks_may_read_unwatch_and_watch_but_not_write)
{
    struct sl_store *s;
    struct cb_ctx a = { 0 }, b = { 0 };
    struct rec r = { 0 };

    tmpdir_new();
    s = open_store(NULL);
    a.s = b.s = s;
    /* a ends b and starts a watch; b would count calls. */
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 0, cb_fn, &a, &a.self, NULL));
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 0, cb_fn, &b, &b.self, NULL));
    a.other = b.self;
    a.unwatch_other = true;
    a.start_watch = true;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"x\"}}");
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(a.write_rc, SL_EBUSY);
    ASSERT_EQ(a.read_rc, 0);
    ASSERT_EQ(b.calls, 0);         /* ended before its turn */
    ASSERT_EQ(a.started_rec.n, 0); /* started after the change */
    ASSERT_EQ(sl_store_rv(s), 1);  /* the inner create did nothing */
    a.unwatch_other = false;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"y\"}}");
    ASSERT_EQ(a.calls, 2);
    ASSERT_EQ(a.started_rec.n, 1);
    expect_ev(&a.started_rec, 0, SL_STORE_ADDED, 2, "y");

    /* A watch ending itself. */
    a.unwatch_self = true;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"z\"}}");
    ASSERT_EQ(a.calls, 3);
    a.unwatch_self = false;
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"w\"}}");
    ASSERT_EQ(a.calls, 3);
    ASSERT_EQ(a.started_rec.n, 3);
    sl_store_unwatch(a.started);

    /*
     * A watch started inside a callback from the previous version replays
     * the change being delivered (nested delivery) and then does not get
     * it a second time from the outer delivery; later changes follow.
     */
    memset(&b, 0, sizeof(b));
    b.s = s;
    b.start_watch = true;
    b.start_since = true;
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 0, cb_fn, &b, &b.self, NULL));
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"v\"}}");
    ASSERT_EQ(b.started_rec.n, 1);
    expect_ev(&b.started_rec, 0, SL_STORE_ADDED, 5, "v");
    create_rv(s, BROKER, "{\"metadata\":{\"name\":\"u\"}}");
    ASSERT_EQ(b.started_rec.n, 2);
    expect_ev(&b.started_rec, 1, SL_STORE_ADDED, 6, "u");
    ASSERT_EQ(b.calls, 2);
    sl_store_unwatch(b.started);
    sl_store_unwatch(b.self);

    /* Ending itself during the replay: 0 and a NULL handle. */
    memset(&a, 0, sizeof(a));
    a.s = s;
    a.unwatch_self = true;
    /* cb_fn unwatches through a.self, which sl_store_watch sets first. */
    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 1, cb_fn, &a, &a.self, NULL));
    ASSERT_EQ(a.calls, 1);
    ASSERT(a.self == NULL);
    ASSERT_EQ(a.write_rc, SL_EBUSY);

    /* Watches left open are freed by close. */
    ASSERT_OK(
        sl_store_watch(s, NULL, NULL, NULL, 0, rec_fn, &r, &b.self, NULL));
    ASSERT_OK(
        sl_store_watch(s, BROKER, "x", "a", 2, rec_fn, &r, &b.other, NULL));
    sl_store_close(s);
    tmpdir_free();
}

/* ---- durability ---- */

struct counter {
    uint64_t n;
    uint64_t last_rv;
};

static void count_fn(void *arg, const struct sl_store_event *ev)
{
    struct counter *c = arg;

    ASSERT(ev->rv > c->last_rv);
    ASSERT_EQ(ev->type, SL_STORE_ADDED);
    c->last_rv = ev->rv;
    c->n++;
}

/* A watch from 1 replays every change after the first, in order. */
static void check_full_history(struct sl_store *s)
{
    struct counter c = { 0, 1 };
    struct sl_store_watch *w;

    ASSERT_OK(sl_store_watch(s, NULL, NULL, NULL, 1, count_fn, &c, &w, NULL));
    ASSERT_EQ(c.n, sl_store_rv(s) - 1);
    ASSERT_EQ(c.last_rv, sl_store_rv(s));
    sl_store_unwatch(w);
}

struct ack {
    uint64_t i;
    uint64_t rv;
};

/* The child: create objects as fast as it can, reporting each commit. */
static void kill9_child(int fd)
{
    struct sl_store *s = NULL;
    struct sl_store_opts o;
    char text[128];
    uint64_t i;

    sl_store_opts_init(&o);
    if (sl_store_open(tdir, &o, &s, NULL) != 0)
        _exit(2);
    for (i = 0;; i++) {
        struct json_object *in, *out = NULL;
        struct ack a;
        snprintf(text, sizeof(text),
                 "{\"metadata\":{\"name\":\"o%llu\"},\"spec\":{\"i\":%llu}}",
                 (unsigned long long)i, (unsigned long long)i);
        in = json_tokener_parse(text);
        if (sl_store_create(s, BROKER, true, in, &out, NULL) != 0)
            _exit(3);
        a.i = i;
        a.rv = RV(out);
        json_object_put(in);
        json_object_put(out);
        if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
            _exit(4);
    }
}

TEST(acknowledged_writes_survive_kill9)
{
    struct ack *acks = sl_xcalloc(100000, sizeof(struct ack));
    size_t nacks = 0, i, got = 0;
    int64_t deadline = sl_time_mono_ns() + 60LL * 1000000000;
    struct sl_store *s;
    struct json_object *o, *items;
    int p[2], status;
    bool killed = false;
    pid_t pid;
    char name[32];

    tmpdir_new();
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        kill9_child(p[1]);
    }
    close(p[1]);
    /* Read acknowledgements; kill the writer mid-stream after 200. */
    for (;;) {
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        ssize_t n;
        if (!killed && nacks >= 200) {
            ASSERT_EQ(kill(pid, SIGKILL), 0);
            killed = true;
        }
        if (sl_time_mono_ns() > deadline) {
            kill(pid, SIGKILL);
            CHECK_FAIL("writer too slow: %zu writes acknowledged", nacks);
        }
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        n = read(p[0], (char *)acks + got, sizeof(struct ack) * 100000 - got);
        if (n == 0)
            break; /* the writer is gone and the pipe drained */
        ASSERT(n > 0);
        got += (size_t)n;
        nacks = got / sizeof(struct ack);
        ASSERT(got < sizeof(struct ack) * 100000);
    }
    close(p[0]);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT(nacks >= 200);

    /* Every acknowledged write is there, with its resourceVersion. */
    s = open_store(NULL);
    for (i = 0; i < nacks; i++) {
        ASSERT_EQ(acks[i].i, i);
        ASSERT_EQ(acks[i].rv, i + 1);
        snprintf(name, sizeof(name), "o%zu", i);
        if (sl_store_get(s, BROKER, "default", name, &o, NULL) != 0)
            CHECK_FAIL("acknowledged write %zu (rv %llu) lost", i,
                       (unsigned long long)acks[i].rv);
        ASSERT_EQ(RV(o), acks[i].rv);
        json_object_put(o);
    }
    /* At most the one write in flight when it died is extra. */
    ASSERT(sl_store_rv(s) >= nacks);
    ASSERT(sl_store_rv(s) <= nacks + 1);
    ASSERT_OK(sl_store_list(s, BROKER, NULL, NULL, &items, NULL, NULL));
    ASSERT_EQ(json_object_array_length(items), sl_store_rv(s));
    json_object_put(items);
    /* The history covers them all and the counter goes on. */
    check_full_history(s);
    i = sl_store_rv(s);
    ASSERT_EQ(create_rv(s, BROKER, "{\"metadata\":{\"name\":\"after\"}}"),
              i + 1);
    sl_store_close(s);
    sl_free(acks);
    tmpdir_free();
}

TEST_MAIN()
