/*
 * test/unit/source_test.c - sources/source.c (the wrappers) and
 * sources/registry.c, with a fake adapter defined here.
 *
 * Covered: the registry (the built-in list passes, a kind found, ABI
 * mismatch, a kind twice, missing slots refused); the life cycle
 * new -> start -> update -> stop -> start again -> stop -> free with the
 * state checks of every wrapper; stop's done posted to the loop even when
 * the adapter finishes inside its stop slot, and a second stop refused
 * while one runs; a NULL update slot mapped to SL_ENOTSUP; init failing
 * (fini still called, nothing leaked); the fault injection hooks; a
 * RUNNING source is not freed; an adapter that delivers its events itself
 * (no emitter; sink, dead-letter sink and settings copied, swapped by
 * update_cfg and restored when it is refused; report and notify).
 */
#include "test/unit/check.h"

#include "core/loop.h"
#include "resource/schema.h"
#include "sinks/http_sender.h"
#include "sources/emit.h"
#include "sources/source.h"

struct fake {
    struct sl_source base;
    int inits, starts, stops, finis, updates;
    int start_rc;
    bool async_stop;
    struct sl_timer *stop_timer;
    sl_source_done_fn *done;
    void *done_arg;
    char *data;
};

static int fake_init_rc;

static int fake_init(struct sl_source *src, const struct json_object *obj,
                     struct sl_diag *d)
{
    struct fake *f = sl_container_of(src, struct fake, base);
    struct json_object *spec = NULL, *v = NULL;

    f->inits++;
    f->data = sl_xstrdup("x"); /* fini must free it even on failure */
    if (fake_init_rc != 0)
        return sl_diag_set(d, fake_init_rc, "spec", "refused");
    if (json_object_object_get_ex(obj, "spec", &spec) &&
        json_object_object_get_ex(spec, "data", &v)) {
        sl_free(f->data);
        f->data = sl_xstrdup(json_object_get_string(v));
    }
    return 0;
}

static int fake_start(struct sl_source *src, struct sl_diag *d)
{
    struct fake *f = sl_container_of(src, struct fake, base);

    f->starts++;
    if (f->start_rc != 0)
        return sl_diag_set(d, f->start_rc, "", "cannot start");
    return 0;
}

static void fake_stop_fire(void *arg)
{
    struct fake *f = arg;

    f->done(f->done_arg, 0);
}

static void fake_stop(struct sl_source *src, sl_source_done_fn *done, void *arg)
{
    struct fake *f = sl_container_of(src, struct fake, base);

    f->stops++;
    if (!f->async_stop) {
        done(arg, 0);
        return;
    }
    f->done = done;
    f->done_arg = arg;
    if (f->stop_timer == NULL)
        f->stop_timer = sl_timer_new(src->loop, fake_stop_fire, f);
    sl_timer_start(f->stop_timer, 10, 0);
}

static void fake_fini(struct sl_source *src)
{
    struct fake *f = sl_container_of(src, struct fake, base);

    f->finis++;
    sl_timer_free(f->stop_timer);
    sl_free(f->data);
}

static int fake_update(struct sl_source *src, const struct json_object *obj,
                       struct sl_diag *d)
{
    struct fake *f = sl_container_of(src, struct fake, base);

    (void)obj;
    (void)d;
    f->updates++;
    return 0;
}

static const struct sl_source_ops fake_ops = {
    .kind = "FakeSource",
    .abi = SL_SOURCE_ABI,
    .size = sizeof(struct fake),
    .init = fake_init,
    .start = fake_start,
    .stop = fake_stop,
    .fini = fake_fini,
    .update = fake_update,
};

static const struct sl_source_ops fake_noupdate_ops = {
    .kind = "FakeNoUpdate",
    .abi = SL_SOURCE_ABI,
    .size = sizeof(struct fake),
    .init = fake_init,
    .start = fake_start,
    .stop = fake_stop,
    .fini = fake_fini,
};

/* ---- the harness ---- */

struct env {
    struct sl_loop *loop;
    struct sl_sender *snd;
    struct sl_emitter *em;
    struct json_object *obj;
    int stopped;
    int stop_rc;
    bool in_stop;
};

static void env_init(struct env *e)
{
    struct sl_emitter_cfg ec;

    memset(e, 0, sizeof(*e));
    ASSERT_OK(sl_loop_new(&e->loop));
    ASSERT_OK(sl_sender_new(e->loop, NULL, &e->snd));
    memset(&ec, 0, sizeof(ec));
    ec.sender = e->snd;
    ec.url = "http://127.0.0.1:1/";
    ASSERT_OK(sl_emitter_new(e->loop, &ec, &e->em, NULL));
    e->obj = json_tokener_parse(
        "{\"kind\":\"FakeSource\",\"metadata\":{\"namespace\":\"ns\","
        "\"name\":\"f\"},\"spec\":{\"data\":\"hello\"}}");
    ASSERT(e->obj != NULL);
}

static void env_fini(struct env *e)
{
    json_object_put(e->obj);
    sl_emitter_free(e->em);
    sl_sender_free(e->snd);
    sl_loop_free(e->loop);
}

static struct sl_source_cfg env_cfg(struct env *e)
{
    struct sl_source_cfg c = { .loop = e->loop, .out = e->em };

    return c;
}

static void on_stopped(void *arg, int rc)
{
    struct env *e = arg;

    ASSERT(!e->in_stop);
    e->stopped++;
    e->stop_rc = rc;
    sl_loop_stop(e->loop);
}

/* Stop 'src' and run the loop until its done arrived. */
static void stop_and_wait(struct env *e, struct sl_source *src)
{
    int before = e->stopped;

    e->in_stop = true;
    ASSERT_OK(sl_source_stop(src, on_stopped, e));
    e->in_stop = false;
    ASSERT_EQ(e->stopped, before); /* never from inside */
    while (e->stopped == before)
        ASSERT_OK(sl_loop_run(e->loop));
    ASSERT_EQ(src->state, SL_SOURCE_STOPPED);
}

/* ---- registry ---- */

TEST(registry_builtin)
{
    const struct sl_source_ops *const *l = sl_source_list();
    struct sl_diag d;

    ASSERT_OK(sl_source_registry_check(NULL, &d));
    ASSERT(sl_source_find("PingSource") == &sl_source_ping);
    ASSERT(sl_source_find("pingsource") == NULL);
    ASSERT(sl_source_find("RabbitmqSource") == NULL);
    ASSERT(sl_source_find(NULL) == NULL);
    ASSERT(l[0] != NULL);
    ASSERT_EQ(sl_source_ping.abi, SL_SOURCE_ABI);
}

TEST(registry_refuses)
{
    struct sl_source_ops old = fake_ops, nokind = fake_ops, small = fake_ops,
                         nostop = fake_ops;
    const struct sl_source_ops *twice[] = { &fake_ops, &sl_source_ping,
                                            &fake_ops, NULL };
    const struct sl_source_ops *abi[] = { &old, NULL };
    const struct sl_source_ops *nk[] = { &nokind, NULL };
    const struct sl_source_ops *sm[] = { &small, NULL };
    const struct sl_source_ops *ns[] = { &nostop, NULL };
    const struct sl_source_ops *ok[] = { &fake_ops, &fake_noupdate_ops,
                                         &sl_source_ping, NULL };
    struct sl_diag d;

    old.abi = SL_SOURCE_ABI + 1;
    nokind.kind = NULL;
    small.size = sizeof(struct sl_source) - 1;
    nostop.stop = NULL;
    ASSERT_OK(sl_source_registry_check(ok, &d));
    sl_diag_clear(&d);
    ASSERT_EQ(sl_source_registry_check(twice, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "source adapter 'FakeSource' registered twice");
    ASSERT_EQ(sl_source_registry_check(abi, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "ABI") != NULL);
    ASSERT_EQ(sl_source_registry_check(nk, &d), SL_EINVAL);
    ASSERT_EQ(sl_source_registry_check(sm, &d), SL_EINVAL);
    ASSERT_EQ(sl_source_registry_check(ns, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, "source adapter 'FakeSource' is incomplete");
}

/* ---- wrappers ---- */

TEST(life_cycle_and_states)
{
    struct env e;
    struct sl_source_cfg c;
    struct sl_source *src;
    struct fake *f;
    struct sl_diag d;

    env_init(&e);
    c = env_cfg(&e);
    ASSERT_OK(sl_source_validate(&fake_ops, e.obj, &d)); /* no slot: 0 */
    ASSERT_OK(sl_source_new(&fake_ops, &c, e.obj, &src, &d));
    f = sl_container_of(src, struct fake, base);
    ASSERT_EQ(src->state, SL_SOURCE_NEW);
    ASSERT_STR_EQ(src->ns, "ns");
    ASSERT_STR_EQ(src->name, "f");
    ASSERT_STR_EQ(src->zoneinfo_dir, "/usr/share/zoneinfo");
    ASSERT_STR_EQ(src->log.obj, "ns/f");
    ASSERT(src->out == e.em);
    ASSERT_STR_EQ(f->data, "hello");
    ASSERT_EQ(f->inits, 1);
    /* update in NEW is allowed */
    ASSERT_OK(sl_source_update(src, e.obj, &d));
    ASSERT_EQ(f->updates, 1);
    ASSERT_OK(sl_source_start(src, &d));
    ASSERT_EQ(src->state, SL_SOURCE_RUNNING);
    ASSERT_EQ(sl_source_start(src, &d), SL_EINVAL);
    ASSERT_EQ(f->starts, 1);
    ASSERT_OK(sl_source_update(src, e.obj, &d));
    ASSERT_EQ(f->updates, 2);
    /* A RUNNING source is not freed (logged, left alone). */
    sl_source_free(src);
    ASSERT_EQ(f->finis, 0);
    stop_and_wait(&e, src);
    ASSERT_EQ(f->stops, 1);
    ASSERT_EQ(e.stop_rc, 0);
    ASSERT_EQ(sl_source_update(src, e.obj, &d), SL_EINVAL);
    /* Start again after a stop. */
    ASSERT_OK(sl_source_start(src, &d));
    ASSERT_EQ(f->starts, 2);
    f->async_stop = true;
    ASSERT_OK(sl_source_stop(src, on_stopped, &e));
    ASSERT_EQ(src->state, SL_SOURCE_STOPPING);
    ASSERT_EQ(sl_source_stop(src, on_stopped, &e), SL_EBUSY);
    ASSERT_EQ(sl_source_start(src, &d), SL_EINVAL);
    ASSERT_EQ(sl_source_update(src, e.obj, &d), SL_EINVAL);
    while (e.stopped < 2)
        ASSERT_OK(sl_loop_run(e.loop));
    ASSERT_EQ(src->state, SL_SOURCE_STOPPED);
    ASSERT_EQ(f->stops, 2);
    sl_source_free(src);
    sl_source_free(NULL);
    env_fini(&e);
}

TEST(stop_a_new_source_is_posted)
{
    struct env e;
    struct sl_source_cfg c;
    struct sl_source *src;
    struct fake *f;

    env_init(&e);
    c = env_cfg(&e);
    ASSERT_OK(sl_source_new(&fake_ops, &c, e.obj, &src, NULL));
    f = sl_container_of(src, struct fake, base);
    stop_and_wait(&e, src);
    ASSERT_EQ(f->stops, 0); /* nothing ran: the slot is not called */
    ASSERT_OK(sl_source_start(src, NULL));
    stop_and_wait(&e, src);
    sl_source_free(src);
    env_fini(&e);
}

TEST(update_slot_missing)
{
    struct env e;
    struct sl_source_cfg c;
    struct sl_source *src;
    struct sl_diag d;

    env_init(&e);
    c = env_cfg(&e);
    ASSERT_OK(sl_source_new(&fake_noupdate_ops, &c, e.obj, &src, NULL));
    ASSERT_OK(sl_source_start(src, NULL));
    ASSERT_EQ(sl_source_update(src, e.obj, &d), SL_ENOTSUP);
    ASSERT_EQ(src->state, SL_SOURCE_RUNNING);
    stop_and_wait(&e, src);
    sl_source_free(src);
    env_fini(&e);
}

TEST(init_and_start_failures)
{
    struct env e;
    struct sl_source_cfg c;
    struct sl_source *src = (struct sl_source *)&c;
    struct json_object *anon;
    struct fake *f;
    struct sl_diag d;

    env_init(&e);
    c = env_cfg(&e);
    fake_init_rc = SL_EINVAL;
    sl_diag_clear(&d);
    ASSERT_EQ(sl_source_new(&fake_ops, &c, e.obj, &src, &d), SL_EINVAL);
    ASSERT(src == NULL);
    ASSERT_STR_EQ(d.msg, "refused"); /* and fini freed f->data */
    fake_init_rc = 0;
    /* No namespace or name; incomplete config; wrong ABI. */
    anon = json_tokener_parse("{\"spec\":{}}");
    ASSERT_EQ(sl_source_new(&fake_ops, &c, anon, &src, &d), SL_EINVAL);
    json_object_put(anon);
    c.out = NULL;
    ASSERT_EQ(sl_source_new(&fake_ops, &c, e.obj, &src, &d), SL_EINVAL);
    c = env_cfg(&e);
    {
        struct sl_source_ops old = fake_ops;

        old.abi = 0;
        ASSERT_EQ(sl_source_new(&old, &c, e.obj, &src, &d), SL_EINVAL);
    }
    /* start refused: stays NEW, can start later */
    ASSERT_OK(sl_source_new(&fake_ops, &c, e.obj, &src, &d));
    f = sl_container_of(src, struct fake, base);
    f->start_rc = SL_EIO;
    ASSERT_EQ(sl_source_start(src, &d), SL_EIO);
    ASSERT_EQ(src->state, SL_SOURCE_NEW);
    f->start_rc = 0;
    ASSERT_OK(sl_source_start(src, &d));
    stop_and_wait(&e, src);
    sl_source_free(src);
    env_fini(&e);
}

TEST(fault_injection)
{
    struct env e;
    struct sl_source_cfg c;
    struct sl_source *src;
    struct fake *f;
    struct sl_diag d;

    env_init(&e);
    c = env_cfg(&e);
    sl_source_fault("init", SL_EIO, 1);
    ASSERT_EQ(sl_source_new(&fake_ops, &c, e.obj, &src, &d), SL_EIO);
    ASSERT_STR_EQ(d.msg, "injected fault");
    ASSERT_OK(sl_source_new(&fake_ops, &c, e.obj, &src, &d));
    f = sl_container_of(src, struct fake, base);
    sl_source_fault("start", SL_EAGAIN, 2);
    ASSERT_EQ(sl_source_start(src, &d), SL_EAGAIN);
    ASSERT_EQ(sl_source_start(src, &d), SL_EAGAIN);
    ASSERT_EQ(f->starts, 0);
    ASSERT_OK(sl_source_start(src, &d));
    sl_source_fault("update", SL_EINVAL, 1);
    ASSERT_EQ(sl_source_update(src, e.obj, &d), SL_EINVAL);
    ASSERT_EQ(f->updates, 0);
    sl_source_fault("update", SL_EINVAL, 0);
    sl_source_fault("nonsense", SL_EINVAL, 1);
    ASSERT_OK(sl_source_update(src, e.obj, &d));
    stop_and_wait(&e, src);
    sl_source_free(src);
    env_fini(&e);
}

/* ---- adapters that deliver their events themselves ---- */

static int fake_update_rc;
static char fake_seen_sink[128];

static int fake_update_seen(struct sl_source *src,
                            const struct json_object *obj, struct sl_diag *d)
{
    (void)obj;
    snprintf(fake_seen_sink, sizeof(fake_seen_sink), "%s", src->sink_url);
    if (fake_update_rc != 0)
        return sl_diag_set(d, fake_update_rc, "spec", "refused");
    return 0;
}

static void fake_report(struct sl_source *src, struct sl_source_report *out)
{
    (void)src;
    out->health = SL_SOURCE_DEGRADED;
    out->consumers = 2;
    snprintf(out->reason, sizeof(out->reason), "ClusterUnreachable");
}

static const struct sl_source_ops fake_delivers_ops = {
    .kind = "FakeDelivers",
    .abi = SL_SOURCE_ABI,
    .size = sizeof(struct fake),
    .flags = SL_SOURCE_DELIVERS,
    .init = fake_init,
    .start = fake_start,
    .stop = fake_stop,
    .fini = fake_fini,
    .update = fake_update_seen,
    .report = fake_report,
};

static int notified;

static void on_notify(void *arg, struct sl_source *src)
{
    ASSERT(arg == &notified);
    ASSERT_STR_EQ(src->name, "f");
    notified++;
}

TEST(delivering_sources)
{
    struct json_object *conn = json_tokener_parse("{\"a\":\"b\"}");
    struct sl_source_report rep;
    struct sl_source_cfg c, u;
    struct sl_source *src;
    struct env e;
    struct sl_diag d;

    env_init(&e);
    /* No emitter needed, but a sender and a sink are. */
    memset(&c, 0, sizeof(c));
    c.loop = e.loop;
    ASSERT_EQ(sl_source_new(&fake_delivers_ops, &c, e.obj, &src, &d),
              SL_EINVAL);
    c.sender = e.snd;
    ASSERT_EQ(sl_source_new(&fake_delivers_ops, &c, e.obj, &src, &d),
              SL_EINVAL);
    c.sink_url = "http://sink/";
    c.dls_url = "http://dls/";
    c.conn = conn;
    c.notify = on_notify;
    c.notify_arg = &notified;
    ASSERT_OK(sl_source_new(&fake_delivers_ops, &c, e.obj, &src, &d));
    ASSERT(src->out == NULL);
    ASSERT(src->sender == e.snd);
    ASSERT_STR_EQ(src->sink_url, "http://sink/");
    ASSERT_STR_EQ(src->dls_url, "http://dls/");
    ASSERT(src->conn != conn); /* a copy */
    ASSERT_STR_EQ(json_object_get_string(sl_res_get(src->conn, "a")), "b");
    /* Not running: STARTING, whatever the slot says. */
    sl_source_report(src, &rep);
    ASSERT_EQ(rep.health, SL_SOURCE_STARTING);
    ASSERT_OK(sl_source_start(src, &d));
    sl_source_report(src, &rep);
    ASSERT_EQ(rep.health, SL_SOURCE_DEGRADED);
    ASSERT_EQ(rep.consumers, 2);
    ASSERT_STR_EQ(rep.reason, "ClusterUnreachable");
    sl_source_changed(src);
    ASSERT_EQ(notified, 1);
    /* An update sees the new values; a refused one keeps the old. */
    memset(&u, 0, sizeof(u));
    u.sink_url = "http://moved/";
    ASSERT_OK(sl_source_update_cfg(src, e.obj, &u, &d));
    ASSERT_STR_EQ(fake_seen_sink, "http://moved/");
    ASSERT_STR_EQ(src->sink_url, "http://moved/");
    ASSERT(src->dls_url == NULL && src->conn == NULL);
    fake_update_rc = SL_EINVAL;
    u.sink_url = "http://again/";
    u.dls_url = "http://dls2/";
    ASSERT_EQ(sl_source_update_cfg(src, e.obj, &u, &d), SL_EINVAL);
    ASSERT_STR_EQ(fake_seen_sink, "http://again/");
    ASSERT_STR_EQ(src->sink_url, "http://moved/");
    ASSERT(src->dls_url == NULL);
    fake_update_rc = 0;
    stop_and_wait(&e, src);
    sl_source_free(src);
    json_object_put(conn);
    env_fini(&e);
}

TEST(state_names)
{
    ASSERT_STR_EQ(sl_source_state_name(SL_SOURCE_NEW), "new");
    ASSERT_STR_EQ(sl_source_state_name(SL_SOURCE_RUNNING), "running");
    ASSERT_STR_EQ(sl_source_state_name(SL_SOURCE_STOPPING), "stopping");
    ASSERT_STR_EQ(sl_source_state_name(SL_SOURCE_STOPPED), "stopped");
}

TEST_MAIN()
