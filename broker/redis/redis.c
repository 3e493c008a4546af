/*
 * broker/redis/redis.c - the Redis broker log: one stream per broker
 * (knative-broker:<ns>:<name>), each event an entry whose fields are its
 * attributes plus "data" and, when it has transport headers,
 * "sluice:headers" (no attribute can have that name: ':' is not in
 * [a-z0-9]); one consumer group per trigger (sub.c).
 *
 * This file holds the life cycle, appends (MULTI, XADD..., EXEC on the
 * writer connection), retention and drop (Lua scripts, so each runs as
 * one atomic step on the server) and the entry decoder. The writer
 * connection reconnects by itself (conn.c); a command not answered within
 * redis.command.timeout.ms counts as a lost connection. While it is down
 * appends are refused with SL_EAGAIN and subscriptions pause.
 * docs/broker.md has the decisions.
 */
#include "broker/redis/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/str.h"

#define RED_CLAIM_IDLE_MS   30000
#define RED_WAIT_TIMEOUT_MS 5000
#define RED_DROP_TIMEOUT_MS 2000

static struct sl__redis *red_of(struct sl_backend *b)
{
    return sl_container_of(b, struct sl__redis, base);
}

/* ---- helpers ---- */

int sl__redis_id_parse(const char *id, struct sl_pos *out)
{
    const char *dash = id ? strchr(id, '-') : NULL;
    int64_t ms, seq;

    if (!dash ||
        sl_str_to_i64(id, (size_t)(dash - id), false, 0, INT64_MAX, &ms) < 0 ||
        sl_str_to_i64(dash + 1, strlen(dash + 1), false, 0, INT64_MAX, &seq) <
            0)
        return SL_EINVAL;
    *out = (struct sl_pos){ 0, (uint64_t)ms, (uint64_t)seq };
    return 0;
}

void sl__redis_encode(const struct sl_event *ev, struct sl__redis_argv *v)
{
    for (size_t j = 0; j < ev->nattrs; j++) {
        sl__redis_argv_adds(v, ev->attrs[j].name);
        sl__redis_argv_add(v, ev->attrs[j].value, ev->attrs[j].len);
    }
    if (ev->has_data) {
        sl__redis_argv_adds(v, "data");
        sl__redis_argv_add(v, ev->data ? (const char *)ev->data : "",
                           ev->data_len);
    }
    if (ev->nhdrs > 0) {
        struct sl_buf b;
        size_t n;
        char *p;
        /* bounded by the event's own limits, so this always fits */
        sl_buf_init(&b, 2 * SL_EVENT_MAX_HEADER_BYTES);
        (void)sl_event_headers_encode(ev, &b);
        p = sl_buf_steal(&b, &n);
        sl__redis_argv_adds(v, SL__REDIS_HEADERS_FIELD);
        sl__redis_argv_take(v, p, n);
    }
}

struct sl_event *sl__redis_decode(const redisReply *f, size_t max_event_size)
{
    const redisReply *hdrs = NULL;
    enum sl_ce_version ver;
    struct sl_event *ev;
    size_t total = 0;
    bool have_ver = false;

    if (!f || f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0)
        return NULL;
    for (size_t i = 0; i < f->elements; i++) {
        if (f->element[i]->type != REDIS_REPLY_STRING)
            return NULL;
        total += f->element[i]->len;
    }
    if (total > 2 * max_event_size + 4096 + 2 * SL_EVENT_MAX_HEADER_BYTES)
        return NULL;
    for (size_t i = 0; i < f->elements; i += 2)
        if (strcmp(f->element[i]->str, "specversion") == 0) {
            const redisReply *v = f->element[i + 1];
            if (sl_ce_version_parse(v->str, v->len, &ver) < 0)
                return NULL;
            have_ver = true;
        }
    if (!have_ver)
        return NULL;
    ev = sl_event_new(ver);
    for (size_t i = 0; i < f->elements; i += 2) {
        const redisReply *n = f->element[i], *v = f->element[i + 1];
        if (strcmp(n->str, "specversion") == 0)
            continue;
        if (strcmp(n->str, "data") == 0) {
            sl_event_set_data(ev, v->str, v->len);
            continue;
        }
        if (strcmp(n->str, SL__REDIS_HEADERS_FIELD) == 0) {
            hdrs = v;
            continue;
        }
        /* untyped, as in HTTP binary mode: core names take their type */
        if (strlen(n->str) != n->len ||
            sl_event_set(ev, n->str, SL_CE_STRING, v->str, v->len, NULL) < 0) {
            sl_event_unref(ev);
            return NULL;
        }
    }
    if (sl_event_validate(ev, NULL) < 0) {
        sl_event_unref(ev);
        return NULL;
    }
    /* Damaged headers cost the headers, not the event. */
    if (hdrs != NULL)
        (void)sl_event_headers_decode(ev, hdrs->str, hdrs->len);
    return ev;
}

/* A completion run from the loop, never from inside the caller. */
struct red_posted {
    sl_backend_done_fn *done;
    void *arg;
    int rc;
};

static void red_posted_run(void *p)
{
    struct red_posted *x = p;

    x->done(x->arg, x->rc);
    sl_free(x);
}

static void red_post(struct sl__redis *r, sl_backend_done_fn *done, void *arg,
                     int rc)
{
    struct red_posted *x = sl_xmalloc(sizeof(*x));

    *x = (struct red_posted){ done, arg, rc };
    sl_loop_post(r->base.loop, red_posted_run, x);
}

static const char *cfg_str(const struct json_object *config, const char *key)
{
    struct json_object *v;

    if (!config || !json_object_is_type(config, json_type_object) ||
        !json_object_object_get_ex((struct json_object *)config, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int cfg_int(const struct json_object *config, const char *key,
                   int64_t min, int64_t max, int64_t *out, struct sl_diag *diag)
{
    const char *s = cfg_str(config, key);

    if (!s)
        return 0;
    if (sl_str_to_i64(s, strlen(s), false, min, max, out) < 0)
        return sl_diag_set(diag, SL_EINVAL, key,
                           "invalid %s '%s': want an integer %lld..%lld", key,
                           s, (long long)min, (long long)max);
    return 0;
}

/* ---- life cycle ---- */

static int red_validate(struct json_object *broker, struct json_object *config,
                        struct sl_diag *diag)
{
    struct sl__redis_url u;
    int64_t v;
    int rc;

    (void)broker;
    rc = sl__redis_url_parse(cfg_str(config, "redis.url"), &u, diag);
    sl__redis_url_fini(&u);
    if (rc == 0)
        rc = cfg_int(config, "redis.claim.idle.ms", 1, INT32_MAX, &v, diag);
    if (rc == 0)
        rc = cfg_int(config, "redis.wait.replicas", 0, 1000, &v, diag);
    if (rc == 0)
        rc = cfg_int(config, "redis.command.timeout.ms", 10, 3600000, &v, diag);
    return rc;
}

static void red_main_ready(void *arg);
static void red_main_down(void *arg);
static void red_claim_tick(void *arg);

static int red_init(struct sl_backend *b, const struct sl_backend_cfg *cfg,
                    struct sl_diag *diag)
{
    struct sl__redis *r = red_of(b);
    int64_t idle = RED_CLAIM_IDLE_MS, wait = 0, timeout = SL_REDIS_TIMEOUT_MS;
    char key[512];
    int rc;

    rc = sl__redis_url_parse(cfg_str(cfg->config, "redis.url"), &r->url, diag);
    if (rc == 0)
        rc = cfg_int(cfg->config, "redis.claim.idle.ms", 1, INT32_MAX, &idle,
                     diag);
    if (rc == 0)
        rc = cfg_int(cfg->config, "redis.wait.replicas", 0, 1000, &wait, diag);
    if (rc == 0)
        rc = cfg_int(cfg->config, "redis.command.timeout.ms", 10, 3600000,
                     &timeout, diag);
    if (rc < 0) {
        sl__redis_url_fini(&r->url);
        return rc;
    }
    /* ':' occurs neither in namespaces nor in names: unambiguous, where
     * '-' is not ("a-b"/"c" and "a"/"b-c") */
    snprintf(key, sizeof(key), "knative-broker:%s:%s", b->ns, b->name);
    r->key = sl_xstrdup(key);
    r->claim_idle_ms = idle;
    r->wait_replicas = (int)wait;
    r->timeout_ms = (uint32_t)timeout;
    sl_log_ctx_init(&r->log, "broker-redis", b->ns, b->name);
    sl__redis_conn_init(&r->main, b->loop, &r->url, &r->log, "writer",
                        red_main_ready, red_main_down, r);
    /* a WAIT holds the writer's pipeline for up to its own timeout */
    r->main.timeout_ms = r->timeout_ms;
    r->main.extra_ms = r->wait_replicas > 0 ? RED_WAIT_TIMEOUT_MS : 0;
    r->claim_timer = sl_timer_new(b->loop, red_claim_tick, r);
    return 0;
}

static void red_open(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct sl__redis *r = red_of(b);

    r->pending_done = done;
    r->pending_arg = arg;
    r->main.reconnect = false; /* an unreachable server fails the open */
    sl__redis_conn_start(&r->main);
}

static void red_finish_pending(struct sl__redis *r, int rc)
{
    sl_backend_done_fn *done = r->pending_done;

    r->pending_done = NULL;
    if (done)
        done(r->pending_arg, rc);
}

static void red_main_ready(void *arg)
{
    struct sl__redis *r = arg;

    if (r->base.state == SL_BACKEND_OPENING) {
        uint64_t every = (uint64_t)r->claim_idle_ms / 2;
        every = every < 10 ? 10 : every > 5000 ? 5000 : every;
        r->base.state = SL_BACKEND_OPEN;
        r->main.reconnect = true;
        sl_timer_start(r->claim_timer, every, every);
        SL_LOG(SL_LOG_INFO, &r->log, "connected to redis %s:%d, stream %s",
               r->url.host, r->url.port, r->key);
        red_finish_pending(r, 0);
        return;
    }
    SL_LOG(SL_LOG_INFO, &r->log, "reconnected to redis %s:%d", r->url.host,
           r->url.port);
    sl__redis_sub_main_ready(r);
}

static void red_main_down(void *arg)
{
    struct sl__redis *r = arg;

    if (r->base.state == SL_BACKEND_OPENING) {
        SL_LOG(SL_LOG_ERROR, &r->log, "cannot open: redis %s:%d unreachable",
               r->url.host, r->url.port);
        r->base.state = SL_BACKEND_FAILED;
        red_finish_pending(r, SL_EIO);
    }
}

static void red_claim_tick(void *arg)
{
    sl__redis_sub_claim_all(arg);
}

static void red_drained(void *arg)
{
    struct sl__redis *r = arg;

    r->base.state = SL_BACKEND_CLOSED;
    red_finish_pending(r, 0);
}

static void red_close(struct sl_backend *b, sl_backend_done_fn *done, void *arg)
{
    struct sl__redis *r = red_of(b);

    sl_timer_stop(r->claim_timer);
    r->pending_done = done;
    r->pending_arg = arg;
    sl__redis_conn_drain(&r->main, red_drained, r);
}

static void red_fini(struct sl_backend *b)
{
    struct sl__redis *r = red_of(b);

    sl__redis_conn_fini(&r->main);
    sl_timer_free(r->claim_timer);
    sl__redis_url_fini(&r->url);
    sl_free(r->key);
}

static void red_stats(struct sl_backend *b, struct sl_backend_stats *out)
{
    *out = red_of(b)->stats;
}

/* ---- append ---- */

struct red_append {
    struct sl__redis *r;
    sl_backend_done_fn *done;
    void *arg;
    size_t n;
    int rc;
    bool waiting; /* a WAIT reply follows the EXEC reply */
};

static void red_append_finish(struct red_append *a)
{
    if (a->rc == 0) {
        a->r->stats.appends++;
        a->r->stats.events += a->n;
    }
    a->done(a->arg, a->rc);
    sl_free(a);
}

static void red_exec_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct red_append *a = privdata;
    redisReply *rp = reply;

    (void)ac;
    if (!rp || rp->type != REDIS_REPLY_ARRAY || rp->elements != a->n) {
        if (rp && rp->type == REDIS_REPLY_ERROR)
            SL_LOG(SL_LOG_ERROR, &a->r->log, "append failed: %s", rp->str);
        a->rc = SL_EIO;
    } else {
        for (size_t i = 0; i < rp->elements; i++)
            if (rp->element[i]->type != REDIS_REPLY_STRING) {
                if (rp->element[i]->type == REDIS_REPLY_ERROR)
                    SL_LOG(SL_LOG_ERROR, &a->r->log, "append failed: %s",
                           rp->element[i]->str);
                a->rc = SL_EIO;
            }
        if (a->rc == 0)
            a->r->stats.transactions++;
    }
    if (!a->waiting)
        red_append_finish(a);
}

static void red_wait_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct red_append *a = privdata;
    redisReply *rp = reply;

    (void)ac;
    if (a->rc == 0 && (!rp || rp->type != REDIS_REPLY_INTEGER ||
                       rp->integer < a->r->wait_replicas)) {
        SL_LOG(SL_LOG_ERROR, &a->r->log,
               "append not acknowledged by %d replicas in time",
               a->r->wait_replicas);
        a->rc = SL_EIO;
    }
    red_append_finish(a);
}

static int red_append(struct sl_backend *b, struct sl_event *const *events,
                      size_t n, sl_backend_done_fn *done, void *arg)
{
    struct sl__redis *r = red_of(b);
    static const char *const multi[] = { "MULTI" }, *const exec[] = { "EXEC" };
    static const size_t multi_len[] = { 5 }, exec_len[] = { 4 };
    struct red_append *a;

    if (!r->main.ready)
        return SL_EAGAIN;
    for (size_t i = 0; i < n; i++)
        if (sl_event_size(events[i]) > b->limits.max_event_size)
            return SL_ETOOBIG;
    /* one pipeline: nothing else can come between these commands */
    if (sl__redis_conn_cmd(&r->main, NULL, NULL, 1, (const char **)multi,
                           multi_len) < 0)
        return SL_EAGAIN;
    for (size_t i = 0; i < n; i++) {
        const struct sl_event *ev = events[i];
        struct sl__redis_argv v;
        sl__redis_argv_init(&v);
        sl__redis_argv_adds(&v, "XADD");
        sl__redis_argv_adds(&v, r->key);
        sl__redis_argv_adds(&v, "*");
        sl__redis_encode(ev, &v);
        sl__redis_conn_cmdv(&r->main, NULL, NULL, &v);
        sl__redis_argv_fini(&v);
    }
    a = sl_xcalloc(1, sizeof(*a));
    a->r = r;
    a->done = done;
    a->arg = arg;
    a->n = n;
    a->waiting = r->wait_replicas > 0;
    sl__redis_conn_cmd(&r->main, red_exec_reply, a, 1, (const char **)exec,
                       exec_len);
    if (a->waiting) {
        struct sl__redis_argv v;
        sl__redis_argv_init(&v);
        sl__redis_argv_adds(&v, "WAIT");
        sl__redis_argv_addf(&v, "%d", r->wait_replicas);
        sl__redis_argv_addf(&v, "%d", RED_WAIT_TIMEOUT_MS);
        sl__redis_conn_cmdv(&r->main, red_wait_reply, a, &v);
        sl__redis_argv_fini(&v);
    }
    return 0;
}

/* ---- retention ---- */

/*
 * KEYS[1] stream; ARGV[1] max age ms (0: none), ARGV[2] max bytes (0:
 * none). Returns the number of entries removed. Step 1 trims below the
 * lowest position any group still needs: its oldest pending entry, or
 * just past its last-delivered ID when nothing is pending. Ages use the
 * server's clock, as stream IDs do. Sizes are sl_event_size(): attribute
 * names and values plus the data bytes.
 */
static const char red_retention_lua[] =
    "local key = KEYS[1]\n"
    "local maxage = tonumber(ARGV[1])\n"
    "local maxbytes = tonumber(ARGV[2])\n"
    "if redis.call('EXISTS', key) == 0 then return 0 end\n"
    "local function split(id)\n"
    "  local a, b = string.match(id, '^(%d+)-(%d+)$')\n"
    "  return tonumber(a), tonumber(b)\n"
    "end\n"
    "local function less(x, y)\n"
    "  local xm, xs = split(x)\n"
    "  local ym, ys = split(y)\n"
    "  return xm < ym or (xm == ym and xs < ys)\n"
    "end\n"
    "local removed = 0\n"
    "local groups = redis.call('XINFO', 'GROUPS', key)\n"
    "local min = nil\n"
    "for _, g in ipairs(groups) do\n"
    "  local f = {}\n"
    "  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end\n"
    "  local cand\n"
    "  if tonumber(f['pending']) > 0 then\n"
    "    cand = redis.call('XPENDING', key, f['name'])[2]\n"
    "  else\n"
    "    local ms, seq = split(f['last-delivered-id'])\n"
    "    cand = string.format('%.0f-%.0f', ms, seq + 1)\n"
    "  end\n"
    "  if min == nil or less(cand, min) then min = cand end\n"
    "end\n"
    "if min ~= nil then\n"
    "  removed = removed + redis.call('XTRIM', key, 'MINID', min)\n"
    "end\n"
    "if maxage > 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "  removed = removed + redis.call('XTRIM', key, 'MINID',\n"
    "                                 string.format('%.0f', now - maxage))\n"
    "end\n"
    "if maxbytes > 0 then\n"
    "  local total, last, cut, newer = 0, '+', nil, nil\n"
    "  while cut == nil do\n"
    "    local es = redis.call('XREVRANGE', key, last, '-', 'COUNT', 256)\n"
    "    if #es == 0 then break end\n"
    "    for _, e in ipairs(es) do\n"
    "      local f = e[2]\n"
    "      for i = 1, #f, 2 do\n"
    "        if f[i] ~= 'data' then total = total + #f[i] end\n"
    "        total = total + #f[i + 1]\n"
    "      end\n"
    "      if total > maxbytes then cut = e[1] break end\n"
    "      newer = e[1]\n"
    "    end\n"
    "    last = '(' .. es[#es][1]\n"
    "  end\n"
    "  if cut ~= nil then\n"
    "    if newer ~= nil then\n"
    "      removed = removed + redis.call('XTRIM', key, 'MINID', newer)\n"
    "    else\n"
    "      removed = removed + redis.call('XTRIM', key, 'MAXLEN', 0)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return removed\n";

struct red_ret {
    struct sl__redis *r;
    sl_backend_done_fn *done;
    void *arg;
};

static void red_retention_reply(redisAsyncContext *ac, void *reply,
                                void *privdata)
{
    struct red_ret *x = privdata;
    redisReply *rp = reply;
    int rc = 0;

    (void)ac;
    if (rp && rp->type == REDIS_REPLY_INTEGER) {
        x->r->stats.removed += (uint64_t)rp->integer;
    } else {
        if (rp && rp->type == REDIS_REPLY_ERROR)
            SL_LOG(SL_LOG_ERROR, &x->r->log, "retention failed: %s", rp->str);
        rc = SL_EIO;
    }
    x->done(x->arg, rc);
    sl_free(x);
}

/*
 * EVAL 'lua' with KEYS[1] = the stream and ARGV = args[0..n) on the writer;
 * reply(…, privdata) gets a struct red_ret for done/arg. When the command
 * cannot be sent, done(arg, rc) is posted instead.
 */
static void red_eval(struct sl__redis *r, const char *lua,
                     const char *const *args, size_t n, redisCallbackFn *reply,
                     sl_backend_done_fn *done, void *arg)
{
    struct red_ret *x = sl_xmalloc(sizeof(*x));
    struct sl__redis_argv v;
    int rc;

    *x = (struct red_ret){ r, done, arg };
    sl__redis_argv_init(&v);
    sl__redis_argv_adds(&v, "EVAL");
    sl__redis_argv_adds(&v, lua);
    sl__redis_argv_adds(&v, "1");
    sl__redis_argv_adds(&v, r->key);
    for (size_t k = 0; k < n; k++)
        sl__redis_argv_adds(&v, args[k]);
    rc = sl__redis_conn_cmdv(&r->main, reply, x, &v);
    sl__redis_argv_fini(&v);
    if (rc < 0) {
        sl_free(x);
        red_post(r, done, arg, rc);
    }
}

static void red_retention(struct sl_backend *b, int64_t max_age_ms,
                          uint64_t max_bytes, sl_backend_done_fn *done,
                          void *arg)
{
    char age[32], bytes[32];
    const char *args[] = { age, bytes };

    snprintf(age, sizeof(age), "%lld",
             (long long)(max_age_ms > 0 ? max_age_ms : 0));
    snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)max_bytes);
    red_eval(red_of(b), red_retention_lua, args, 2, red_retention_reply, done,
             arg);
}

/* ---- forget a group ---- */

/* KEYS[1] stream, ARGV[1] group: destroy the group and its retry keys. */
static const char red_forget_lua[] =
    "redis.pcall('XGROUP', 'DESTROY', KEYS[1], ARGV[1])\n"
    "return redis.call('DEL', KEYS[1] .. ':retries:' .. ARGV[1],\n"
    "                  KEYS[1] .. ':attempts:' .. ARGV[1])\n";

static void red_forget_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct red_ret *x = privdata;
    redisReply *rp = reply;
    int rc = 0;

    (void)ac;
    if (!rp || rp->type == REDIS_REPLY_ERROR) {
        if (rp)
            SL_LOG(SL_LOG_ERROR, &x->r->log, "forgetting a group failed: %s",
                   rp->str);
        rc = SL_EIO;
    }
    x->done(x->arg, rc);
    sl_free(x);
}

static void red_forget(struct sl_backend *b, const char *group,
                       sl_backend_done_fn *done, void *arg)
{
    red_eval(red_of(b), red_forget_lua, &group, 1, red_forget_reply, done, arg);
}

/* ---- drop (synchronous: a short blocking connection) ---- */

/* KEYS[1] stream. Deletes the stream and every group's retry keys. */
static const char red_drop_lua[] =
    "local key = KEYS[1]\n"
    "if redis.call('EXISTS', key) == 0 then return 0 end\n"
    "for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do\n"
    "  for i = 1, #g, 2 do\n"
    "    if g[i] == 'name' then\n"
    "      redis.call('DEL', key .. ':retries:' .. g[i + 1],\n"
    "                 key .. ':attempts:' .. g[i + 1])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return redis.call('DEL', key)\n";

static int red_sync_cmd(redisContext *c, struct sl__redis *r, const char *what,
                        const struct sl__redis_argv *v, struct sl_diag *diag)
{
    redisReply *rp = redisCommandArgv(c, v->n, v->v, v->len);
    int rc = 0;

    if (!rp || rp->type == REDIS_REPLY_ERROR)
        rc = sl_diag_set(diag, SL_EIO, "redis.url", "redis %s failed: %s", what,
                         rp ? rp->str : c->errstr);
    if (rc < 0)
        SL_LOG(SL_LOG_ERROR, &r->log, "redis %s failed: %s", what,
               rp ? rp->str : c->errstr);
    if (rp)
        freeReplyObject(rp);
    return rc;
}

static int red_drop(struct sl_backend *b, struct sl_diag *diag)
{
    struct sl__redis *r = red_of(b);
    struct timeval tv = { RED_DROP_TIMEOUT_MS / 1000,
                          (RED_DROP_TIMEOUT_MS % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
    struct sl__redis_argv v;
    int rc = 0;

    if (!c || c->err) {
        rc = sl_diag_set(diag, SL_EIO, "redis.url",
                         "cannot connect to redis %s:%d: %s", r->url.host,
                         r->url.port, c ? c->errstr : "out of memory");
        goto out;
    }
    redisSetTimeout(c, tv);
    if (r->url.pass) {
        sl__redis_argv_init(&v);
        sl__redis_argv_adds(&v, "AUTH");
        if (r->url.user)
            sl__redis_argv_adds(&v, r->url.user);
        sl__redis_argv_adds(&v, r->url.pass);
        rc = red_sync_cmd(c, r, "AUTH", &v, diag);
        sl__redis_argv_fini(&v);
    }
    if (rc == 0 && r->url.db > 0) {
        sl__redis_argv_init(&v);
        sl__redis_argv_adds(&v, "SELECT");
        sl__redis_argv_addf(&v, "%d", r->url.db);
        rc = red_sync_cmd(c, r, "SELECT", &v, diag);
        sl__redis_argv_fini(&v);
    }
    if (rc == 0) {
        sl__redis_argv_init(&v);
        sl__redis_argv_adds(&v, "EVAL");
        sl__redis_argv_adds(&v, red_drop_lua);
        sl__redis_argv_adds(&v, "1");
        sl__redis_argv_adds(&v, r->key);
        rc = red_sync_cmd(c, r, "drop", &v, diag);
        sl__redis_argv_fini(&v);
    }
out:
    if (c)
        redisFree(c);
    return rc;
}

/*
 * Healthy while the writer connection is up (appends go through it). A
 * server that stops answering is caught by the command timeout, which
 * drops the writer: then it is not ready either.
 */
static int red_health(struct sl_backend *b, struct sl_diag *why)
{
    struct sl__redis *r = red_of(b);

    if (r->main.ready)
        return 0;
    if (r->main.stalled)
        return sl_diag_set(why, SL_EIO, "redis.url",
                           "the Redis server at %s:%d does not answer "
                           "(no reply within %u ms); reconnecting",
                           r->url.host ? r->url.host : "?", r->url.port,
                           (unsigned)r->timeout_ms);
    return sl_diag_set(why, SL_EIO, "redis.url",
                       "the Redis server at %s:%d is unreachable; "
                       "reconnecting",
                       r->url.host ? r->url.host : "?", r->url.port);
}

const struct sl_backend_ops sl_backend_redis = {
    .cls = "Redis",
    .abi = SL_BACKEND_ABI,
    .size = sizeof(struct sl__redis),
    .validate = red_validate,
    .init = red_init,
    .open = red_open,
    .append = red_append,
    .subscribe = sl__redis_subscribe,
    .settle = sl__redis_settle,
    .unsubscribe = sl__redis_unsubscribe,
    .retention = red_retention,
    .forget = red_forget,
    .close = red_close,
    .drop = red_drop,
    .stats = red_stats,
    .health = red_health,
    .fini = red_fini,
};
