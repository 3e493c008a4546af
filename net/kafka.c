/*
 * net/kafka.c - librdkafka clients driven by sluice's loop: configuration,
 * the queue pump, reachability from statistics, the producer and topic
 * administration on threads (contracts in net/kafka.h).
 */
#include "net/kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "proto/kafka.h"

#define KAFKA_DEFAULT_TICK_MS     100
#define KAFKA_DEFAULT_ADMIN_MS    10000
#define KAFKA_DEFAULT_MSG_TIMEOUT "10000"
#define KAFKA_STATS_INTERVAL      "1000"

static const struct sl_log_ctx kafka_log = { "kafka", "" };

/* ---- configuration ---- */

/* librdkafka's log lines (syslog levels) into sluice's log. Client-side
 * errors (a refused connection) are transient: warn, not error. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
    enum sl_log_level l = level <= 4 ? SL_LOG_WARN : SL_LOG_DEBUG;

    SL_LOG(l, &kafka_log, "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                    struct sl_diag *d)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        return sl_diag_set(d, SL_EINVAL, k, "%s", err);
    return 0;
}

int sl_kafka_conf_new(const struct json_object *props, const char *client_id,
                      rd_kafka_conf_t **out, struct sl_diag *d)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    bool bootstrap = false;

    *out = NULL;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    if (conf_set(conf, "statistics.interval.ms", KAFKA_STATS_INTERVAL, d) < 0 ||
        (client_id != NULL && conf_set(conf, "client.id", client_id, d) < 0))
        goto fail;
    if (props != NULL && !json_object_is_type(props, json_type_object)) {
        sl_diag_set(d, SL_EINVAL, "", "Kafka properties must be an object");
        goto fail;
    }
    if (props != NULL) {
        json_object_object_foreach((struct json_object *)props, k, v)
        {
            if (!json_object_is_type(v, json_type_string)) {
                sl_diag_set(d, SL_EINVAL, k, "must be a string");
                goto fail;
            }
            if (strcmp(k, "bootstrap.servers") == 0) {
                if (json_object_get_string_len(v) == 0) {
                    sl_diag_set(d, SL_EINVAL, k, "must not be empty");
                    goto fail;
                }
                bootstrap = true;
            }
            if (conf_set(conf, k, json_object_get_string(v), d) < 0)
                goto fail;
        }
    }
    if (!bootstrap) {
        sl_diag_set(d, SL_EINVAL, "bootstrap.servers", "is required");
        goto fail;
    }
    *out = conf;
    return 0;
fail:
    rd_kafka_conf_destroy(conf);
    return SL_EINVAL;
}

int sl_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                        rd_kafka_t **out, struct sl_diag *d)
{
    char err[512];

    *out = rd_kafka_new(type, conf, err, sizeof(err));
    if (*out == NULL) {
        rd_kafka_conf_destroy(conf);
        return sl_diag_set(d, SL_EINVAL, "", "%s", err);
    }
    return 0;
}

int sl_kafka_errno(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        return SL_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
        return SL_EPERM;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return SL_ENOENT;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return SL_ETOOBIG;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        return SL_EINVAL;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
        return SL_ECANCELED;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return SL_EBUSY;
    default:
        return SL_EIO;
    }
}

/* ---- pump ---- */

struct sl_kafka_pump {
    rd_kafka_queue_t *q;
    int fds[2];
    struct sl_io *io;
    struct sl_timer *tick;
    sl_kafka_pump_fn *fn;
    void *arg;
};

static void pump_run(struct sl_kafka_pump *p)
{
    p->fn(p->arg);
}

static void pump_readable(void *arg, unsigned events)
{
    struct sl_kafka_pump *p = arg;
    char buf[64];

    (void)events;
    while (read(p->fds[0], buf, sizeof(buf)) > 0)
        ;
    pump_run(p);
}

static void pump_tick(void *arg)
{
    pump_run(arg);
}

int sl_kafka_pump_new(struct sl_loop *loop, rd_kafka_queue_t *q,
                      sl_kafka_pump_fn *fn, void *arg, uint32_t tick_ms,
                      struct sl_kafka_pump **out, struct sl_diag *d)
{
    struct sl_kafka_pump *p;

    *out = NULL;
    p = sl_xcalloc(1, sizeof(*p));
    p->q = q;
    p->fn = fn;
    p->arg = arg;
    if (pipe(p->fds) != 0 || fcntl(p->fds[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(p->fds[1], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(p->fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p->fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;

        sl_free(p);
        return sl_diag_set(d, SL_EIO, "", "pipe: %s", strerror(e));
    }
    p->io = sl_io_new(loop, p->fds[0], SL_IO_READ, pump_readable, p);
    if (p->io == NULL) {
        close(p->fds[0]);
        close(p->fds[1]);
        sl_free(p);
        return sl_diag_set(d, SL_EIO, "", "cannot watch the pump's pipe");
    }
    p->tick = sl_timer_new(loop, pump_tick, p);
    tick_ms = tick_ms ? tick_ms : KAFKA_DEFAULT_TICK_MS;
    sl_timer_start(p->tick, tick_ms, tick_ms);
    rd_kafka_queue_io_event_enable(q, p->fds[1], "1", 1);
    *out = p;
    return 0;
}

void sl_kafka_pump_free(struct sl_kafka_pump *p)
{
    if (p == NULL)
        return;
    rd_kafka_queue_io_event_enable(p->q, -1, NULL, 0);
    sl_io_free(p->io);
    sl_timer_free(p->tick);
    close(p->fds[0]);
    close(p->fds[1]);
    sl_free(p);
}

/* ---- reachability ---- */

void sl_kafka_reach_update(struct sl_kafka_reach *r, const char *json,
                           size_t len, int64_t now_ms)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *doc, *brokers;
    int up = 0, known = 0;

    doc = json_tokener_parse_ex(tok, json, (int)(len > INT32_MAX ? 0 : len));
    json_tokener_free(tok);
    if (doc == NULL)
        return;
    if (json_object_object_get_ex(doc, "brokers", &brokers) &&
        json_object_is_type(brokers, json_type_object)) {
        json_object_object_foreach(brokers, name, b)
        {
            struct json_object *st;

            (void)name;
            known++;
            if (json_object_object_get_ex(b, "state", &st) &&
                strcmp(json_object_get_string(st), "UP") == 0)
                up++;
        }
    }
    json_object_put(doc);
    r->brokers_up = up;
    r->brokers_known = known;
    r->updated_ms = now_ms;
    if (up > 0 && !r->fatal)
        r->why[0] = '\0';
}

/* ---- producer ---- */

struct sl_kafka_producer {
    struct sl_loop *loop;
    rd_kafka_t *rk;
    rd_kafka_queue_t *mainq;
    struct sl_kafka_pump *pump;
    struct sl_kafka_reach reach;
    size_t pending;
    bool closing, finishing, purged;
    struct sl_timer *close_timer;
    void (*close_done)(void *);
    void *close_arg;
};

/* One record in flight (the message's opaque). */
struct produce_job {
    sl_kafka_produce_fn *done;
    void *arg;
};

static void producer_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
    struct sl_kafka_producer *p = opaque;
    struct produce_job *job = m->_private;
    int rc = sl_kafka_errno(m->err);

    (void)rk;
    p->pending--;
    if (job != NULL) {
        job->done(job->arg, rc, m->partition, rc == 0 ? m->offset : -1,
                  rc == 0 ? "" : rd_kafka_err2str(m->err));
        sl_free(job);
    }
}

static void producer_stats_fn(struct sl_kafka_producer *p, const char *json,
                              size_t len)
{
    sl_kafka_reach_update(&p->reach, json, len, sl_loop_now_ms(p->loop));
}

static int producer_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    producer_stats_fn(opaque, json, len);
    return 0; /* librdkafka frees 'json' */
}

static void producer_error(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque)
{
    struct sl_kafka_producer *p = opaque;
    char fatal[256];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        p->reach.fatal = true;
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        memcpy(p->reach.why, "fatal: ", 7);
        snprintf(p->reach.why + 7, sizeof(p->reach.why) - 7, "%.*s",
                 (int)(sizeof(p->reach.why) - 8), fatal);
        SL_LOG(SL_LOG_ERROR, &kafka_log, "%s: fatal producer error: %s",
               rd_kafka_name(rk), fatal);
        return;
    }
    if (p->reach.fatal)
        return; /* keep the fatal reason */
    snprintf(p->reach.why, sizeof(p->reach.why), "%s", reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        p->reach.brokers_up = 0;
}

static void producer_finish(void *arg)
{
    struct sl_kafka_producer *p = arg;
    void (*done)(void *) = p->close_done;
    void *darg = p->close_arg;

    sl_kafka_pump_free(p->pump);
    sl_timer_free(p->close_timer);
    rd_kafka_queue_destroy(p->mainq);
    rd_kafka_destroy(p->rk);
    sl_free(p);
    if (done != NULL)
        done(darg);
}

static void producer_pump(void *arg)
{
    struct sl_kafka_producer *p = arg;

    if (p->finishing)
        return;
    while (rd_kafka_poll(p->rk, 0) > 0)
        ;
    if (p->closing && p->pending == 0) {
        p->finishing = true;
        sl_timer_stop(p->close_timer);
        sl_loop_post(p->loop, producer_finish, p);
    }
}

/* The close deadline: what is still queued or in flight is purged; its
 * delivery reports (SL_ECANCELED) then arrive through the pump. */
static void producer_close_timeout(void *arg)
{
    struct sl_kafka_producer *p = arg;

    if (!p->purged) {
        p->purged = true;
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                  RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
    }
    producer_pump(p);
}

/* Refuse properties that would weaken what the producer promises. */
static int producer_check_props(const struct json_object *props,
                                struct sl_diag *d)
{
    struct json_object *v;

    if (props == NULL)
        return 0;
    if (json_object_object_get_ex(props, "acks", &v)) {
        const char *s = json_object_get_string(v);

        if (strcmp(s, "all") != 0 && strcmp(s, "-1") != 0)
            return sl_diag_set(d, SL_EINVAL, "acks",
                               "must be \"all\": sluice answers 202 only "
                               "once every in-sync replica has the event");
    }
    if (json_object_object_get_ex(props, "enable.idempotence", &v) &&
        strcmp(json_object_get_string(v), "true") != 0)
        return sl_diag_set(d, SL_EINVAL, "enable.idempotence",
                           "must be \"true\" (no duplicates on retries)");
    return 0;
}

int sl_kafka_producer_new(struct sl_loop *loop, const struct json_object *props,
                          const char *client_id, struct sl_kafka_producer **out,
                          struct sl_diag *d)
{
    struct sl_kafka_producer *p;
    rd_kafka_conf_t *conf;
    struct json_object *v;
    int rc;

    *out = NULL;
    if ((rc = producer_check_props(props, d)) < 0 ||
        (rc = sl_kafka_conf_new(props, client_id, &conf, d)) < 0)
        return rc;
    if (conf_set(conf, "enable.idempotence", "true", d) < 0 ||
        conf_set(conf, "acks", "all", d) < 0 ||
        ((props == NULL ||
          (!json_object_object_get_ex(props, "message.timeout.ms", &v) &&
           !json_object_object_get_ex(props, "delivery.timeout.ms", &v))) &&
         conf_set(conf, "message.timeout.ms", KAFKA_DEFAULT_MSG_TIMEOUT, d) <
             0)) {
        rd_kafka_conf_destroy(conf);
        return SL_EINVAL;
    }
    p = sl_xcalloc(1, sizeof(*p));
    p->loop = loop;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, producer_dr);
    rd_kafka_conf_set_stats_cb(conf, producer_stats);
    rd_kafka_conf_set_error_cb(conf, producer_error);
    if ((rc = sl_kafka_client_new(RD_KAFKA_PRODUCER, conf, &p->rk, d)) < 0) {
        sl_free(p);
        return rc;
    }
    p->mainq = rd_kafka_queue_get_main(p->rk);
    if ((rc = sl_kafka_pump_new(loop, p->mainq, producer_pump, p, 0, &p->pump,
                                d)) < 0) {
        rd_kafka_queue_destroy(p->mainq);
        rd_kafka_destroy(p->rk);
        sl_free(p);
        return rc;
    }
    p->close_timer = sl_timer_new(loop, producer_close_timeout, p);
    *out = p;
    return 0;
}

int sl_kafka_produce(struct sl_kafka_producer *p, const char *topic,
                     int32_t partition, const struct sl_kafka_record *rec,
                     sl_kafka_produce_fn *done, void *arg)
{
    rd_kafka_headers_t *hdrs = NULL;
    struct produce_job *job;
    rd_kafka_vu_t vu[7];
    rd_kafka_error_t *error;
    rd_kafka_resp_err_t err;
    size_t i, nvu;

    if (p->closing)
        return SL_EAGAIN;
    if (topic == NULL || rec == NULL || done == NULL)
        return SL_EINVAL;
    if (rec->nheaders > 0) {
        hdrs = rd_kafka_headers_new(rec->nheaders);
        for (i = 0; i < rec->nheaders; i++)
            rd_kafka_header_add(
                hdrs, rec->headers[i].name, -1, rec->headers[i].value,
                rec->headers[i].value ? (ssize_t)rec->headers[i].len : 0);
    }
    job = sl_xmalloc(sizeof(*job));
    job->done = done;
    job->arg = arg;
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = partition;
    vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[2].u.i = RD_KAFKA_MSG_F_COPY;
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = (void *)rec->value;
    vu[3].u.mem.size = rec->value_len;
    vu[4].vtype = RD_KAFKA_VTYPE_KEY;
    vu[4].u.mem.ptr = (void *)rec->key;
    vu[4].u.mem.size = rec->key_len;
    vu[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[5].u.ptr = job;
    nvu = 6;
    if (hdrs != NULL) {
        vu[6].vtype = RD_KAFKA_VTYPE_HEADERS;
        vu[6].u.headers = hdrs;
        nvu = 7;
    }
    error = rd_kafka_produceva(p->rk, vu, nvu);
    err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error != NULL)
        rd_kafka_error_destroy(error);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (hdrs != NULL)
            rd_kafka_headers_destroy(hdrs);
        sl_free(job);
        return sl_kafka_errno(err) == SL_EBUSY ||
                       sl_kafka_errno(err) == SL_ETOOBIG
                   ? sl_kafka_errno(err)
                   : SL_EINVAL;
    }
    p->pending++;
    return 0;
}

size_t sl_kafka_producer_pending(const struct sl_kafka_producer *p)
{
    return p->pending;
}

const struct sl_kafka_reach *
sl_kafka_producer_reach(const struct sl_kafka_producer *p)
{
    return &p->reach;
}

rd_kafka_t *sl_kafka_producer_handle(struct sl_kafka_producer *p)
{
    return p->rk;
}

void sl_kafka_producer_close(struct sl_kafka_producer *p, int64_t timeout_ms,
                             void (*done)(void *arg), void *arg)
{
    p->closing = true;
    p->close_done = done;
    p->close_arg = arg;
    sl_timer_start(p->close_timer, timeout_ms > 0 ? (uint64_t)timeout_ms : 0,
                   50);
    producer_pump(p);
}

/* ---- topic administration ---- */

struct sl_kafka_admin {
    struct sl_loop *loop;
    char **props; /* name, value, name, value, ..., NULL */
    char *name;
    int partitions, replication;
    char **config; /* as props */
    enum sl_kafka_topic_action action;
    int timeout_ms;
    sl_kafka_admin_done_fn *done;
    void *arg;
    bool cancelled;
    /* result */
    int rc;
    int found_partitions;
    char msg[400];
};

/* A NULL-terminated name/value array copied from an object of strings. */
static char **pairs_copy(const struct json_object *obj)
{
    size_t n = obj ? (size_t)json_object_object_length(obj) : 0, i = 0;
    char **v = sl_xcalloc(2 * n + 1, sizeof(*v));

    if (obj != NULL) {
        json_object_object_foreach((struct json_object *)obj, k, val)
        {
            v[i++] = sl_xstrdup(k);
            v[i++] = sl_xstrdup(json_object_get_string(val));
        }
    }
    return v;
}

static void pairs_free(char **v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; v[i] != NULL; i++)
        sl_free(v[i]);
    sl_free(v);
}

static void admin_free(struct sl_kafka_admin *op)
{
    pairs_free(op->props);
    pairs_free(op->config);
    sl_free(op->name);
    sl_free(op);
}

static int admin_result(struct sl_kafka_admin *op, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int admin_result(struct sl_kafka_admin *op, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
    va_end(ap);
    op->rc = rc;
    return rc;
}

/* The cause of a failed cluster request, in words. */
static int admin_fail(struct sl_kafka_admin *op, const char *what,
                      rd_kafka_resp_err_t err)
{
    int rc = sl_kafka_errno(err);

    if (rc == SL_EPERM)
        return admin_result(op, rc, "not authorized to %s: %s", what,
                            rd_kafka_err2str(err));
    if (rc == SL_ETIMEDOUT || rc == SL_EIO)
        return admin_result(op, rc == SL_ETIMEDOUT ? SL_ETIMEDOUT : SL_EIO,
                            "Kafka cluster unreachable (%s): %s", what,
                            rd_kafka_err2str(err));
    return admin_result(op, rc, "cannot %s: %s", what, rd_kafka_err2str(err));
}

/* Metadata of all topics; 0 found (partitions set), SL_ENOENT missing. */
static int admin_lookup(struct sl_kafka_admin *op, rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    int i, rc = SL_ENOENT;

    err = rd_kafka_metadata(rk, 1, NULL, &md, op->timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return admin_fail(op, "read metadata", err);
    for (i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];

        if (strcmp(t->topic, op->name) != 0)
            continue;
        if (t->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            op->found_partitions = t->partition_cnt;
            rc = admin_result(op, 0, "%s", "");
        } else if (sl_kafka_errno(t->err) == SL_ENOENT) {
            rc = SL_ENOENT;
        } else {
            char what[300];

            snprintf(what, sizeof(what), "describe topic %s", op->name);
            rc = admin_fail(op, what, t->err);
        }
        break;
    }
    rd_kafka_metadata_destroy(md);
    if (rc == SL_ENOENT)
        admin_result(op, SL_ENOENT, "topic %s does not exist", op->name);
    return rc;
}

/* Wait for one admin result event on 'q'; the event or NULL. */
static rd_kafka_event_t *admin_wait(struct sl_kafka_admin *op,
                                    rd_kafka_queue_t *q)
{
    return rd_kafka_queue_poll(q, op->timeout_ms + 2000);
}

static rd_kafka_AdminOptions_t *admin_options(struct sl_kafka_admin *op,
                                              rd_kafka_t *rk,
                                              rd_kafka_admin_op_t which)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, which);
    char err[256];

    rd_kafka_AdminOptions_set_request_timeout(o, op->timeout_ms, err,
                                              sizeof(err));
    rd_kafka_AdminOptions_set_operation_timeout(o, op->timeout_ms, err,
                                                sizeof(err));
    return o;
}

static int admin_create(struct sl_kafka_admin *op, rd_kafka_t *rk)
{
    char err[256], what[300];
    rd_kafka_NewTopic_t *nt;
    rd_kafka_AdminOptions_t *o;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **tr;
    size_t i, n;
    int rc;

    snprintf(what, sizeof(what), "create topic %s", op->name);
    nt = rd_kafka_NewTopic_new(op->name, op->partitions, op->replication, err,
                               sizeof(err));
    if (nt == NULL)
        return admin_result(op, SL_EINVAL, "cannot %s: %s", what, err);
    for (i = 0; op->config[i] != NULL; i += 2) {
        if (rd_kafka_NewTopic_set_config(nt, op->config[i],
                                         op->config[i + 1]) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_NewTopic_destroy(nt);
            return admin_result(op, SL_EINVAL, "cannot %s: bad config %s", what,
                                op->config[i]);
        }
    }
    q = rd_kafka_queue_new(rk);
    o = admin_options(op, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    ev = admin_wait(op, q);
    if (ev == NULL) {
        rc = admin_fail(op, what, RD_KAFKA_RESP_ERR__TIMED_OUT);
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = admin_fail(op, what, rd_kafka_event_error(ev));
    } else {
        res = rd_kafka_event_CreateTopics_result(ev);
        tr = rd_kafka_CreateTopics_result_topics(res, &n);
        rc = admin_result(op, 0, "%s", "");
        op->found_partitions = op->partitions;
        for (i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);

            if (e == RD_KAFKA_RESP_ERR_NO_ERROR ||
                e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                continue;
            rc = admin_fail(op, what, e);
            if (rd_kafka_topic_result_error_string(tr[i]) != NULL)
                snprintf(op->msg, sizeof(op->msg), "cannot %s: %s", what,
                         rd_kafka_topic_result_error_string(tr[i]));
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static int admin_delete(struct sl_kafka_admin *op, rd_kafka_t *rk)
{
    char what[300];
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(op->name);
    rd_kafka_AdminOptions_t *o;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev;
    const rd_kafka_topic_result_t **tr;
    size_t i, n;
    int rc;

    snprintf(what, sizeof(what), "delete topic %s", op->name);
    o = admin_options(op, rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(rk, &dt, 1, o, q);
    ev = admin_wait(op, q);
    if (ev == NULL) {
        rc = admin_fail(op, what, RD_KAFKA_RESP_ERR__TIMED_OUT);
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = admin_fail(op, what, rd_kafka_event_error(ev));
    } else {
        tr = rd_kafka_DeleteTopics_result_topics(
            rd_kafka_event_DeleteTopics_result(ev), &n);
        rc = admin_result(op, 0, "%s", "");
        for (i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);

            if (e != RD_KAFKA_RESP_ERR_NO_ERROR &&
                sl_kafka_errno(e) != SL_ENOENT)
                rc = admin_fail(op, what, e);
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
    return rc;
}

static void admin_deliver(void *arg)
{
    struct sl_kafka_admin *op = arg;

    if (!op->cancelled)
        op->done(op->arg, op->rc, op->rc == 0 ? op->found_partitions : 0,
                 op->msg);
    admin_free(op);
}

static void admin_run(struct sl_kafka_admin *op)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;
    char err[512], tmout[32];
    size_t i;

    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    snprintf(tmout, sizeof(tmout), "%d", op->timeout_ms);
    rd_kafka_conf_set(conf, "client.id", "sluice-admin", err, sizeof(err));
    for (i = 0; op->props[i] != NULL; i += 2) {
        if (rd_kafka_conf_set(conf, op->props[i], op->props[i + 1], err,
                              sizeof(err)) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            admin_result(op, SL_EINVAL, "%s: %s", op->props[i], err);
            return;
        }
    }
    rd_kafka_conf_set(conf, "socket.timeout.ms", tmout, err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        admin_result(op, SL_EINVAL, "%s", err);
        return;
    }
    switch (op->action) {
    case SL_KAFKA_TOPIC_CHECK:
        admin_lookup(op, rk);
        break;
    case SL_KAFKA_TOPIC_ENSURE:
        if (admin_lookup(op, rk) == SL_ENOENT)
            admin_create(op, rk);
        break;
    case SL_KAFKA_TOPIC_DELETE:
        admin_delete(op, rk);
        break;
    }
    rd_kafka_destroy(rk);
}

static void admin_work(void *arg)
{
    admin_run(arg);
}

int sl_kafka_topic_admin(struct sl_loop *loop, const struct json_object *props,
                         const struct sl_kafka_topic_spec *spec,
                         enum sl_kafka_topic_action action, int timeout_ms,
                         sl_kafka_admin_done_fn *done, void *arg,
                         struct sl_kafka_admin **out, struct sl_diag *d)
{
    struct sl_kafka_admin *op;
    struct json_object *v;
    bool inl;
    if (out != NULL)
        *out = NULL;
    if (spec == NULL || spec->name == NULL || spec->name[0] == '\0' ||
        done == NULL)
        return sl_diag_set(d, SL_EINVAL, "topic", "a topic name is required");
    if (props == NULL ||
        !json_object_object_get_ex(props, "bootstrap.servers", &v))
        return sl_diag_set(d, SL_EINVAL, "bootstrap.servers", "is required");
    op = sl_xcalloc(1, sizeof(*op));
    op->loop = loop;
    op->props = pairs_copy(props);
    op->config = pairs_copy(spec->config);
    op->name = sl_xstrdup(spec->name);
    op->partitions = spec->partitions > 0 ? spec->partitions : 10;
    op->replication = spec->replication > 0 ? spec->replication : 1;
    op->action = action;
    op->timeout_ms = timeout_ms > 0 ? timeout_ms : KAFKA_DEFAULT_ADMIN_MS;
    op->done = done;
    op->arg = arg;
    inl = sl_loop_freeing(loop); /* then 'op' is gone on return */
    sl_kafka_call(loop, admin_work, admin_deliver, op, d);
    if (out != NULL && !inl)
        *out = op;
    return 0;
}

void sl_kafka_admin_cancel(struct sl_kafka_admin *op)
{
    if (op != NULL)
        op->cancelled = true;
}

/* ---- blocking calls on threads ---- */

struct kafka_call {
    struct sl_loop *loop;
    sl_kafka_work_fn *work, *done;
    void *arg;
};

static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_cv = PTHREAD_COND_INITIALIZER;
static int call_running;

static void *call_thread(void *p)
{
    struct kafka_call c = *(struct kafka_call *)p;

    sl_free(p);
    c.work(c.arg);
    sl_loop_post(c.loop, c.done, c.arg);
    pthread_mutex_lock(&call_mu);
    call_running--;
    pthread_cond_broadcast(&call_cv);
    pthread_mutex_unlock(&call_mu);
    return NULL;
}

int sl_kafka_call(struct sl_loop *loop, sl_kafka_work_fn *work,
                  sl_kafka_work_fn *done, void *arg, struct sl_diag *d)
{
    struct kafka_call *c;
    pthread_attr_t attr;
    pthread_t th;
    int e = -1, i;

    (void)d;
    if (sl_loop_freeing(loop)) {
        work(arg);
        done(arg);
        return 0;
    }
    pthread_mutex_lock(&call_mu);
    call_running++;
    pthread_mutex_unlock(&call_mu);
    c = sl_xmalloc(sizeof(*c));
    c->loop = loop;
    c->work = work;
    c->done = done;
    c->arg = arg;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (i = 0; i < 5 && e != 0; i++) {
        e = pthread_create(&th, &attr, call_thread, c);
        if (e != 0)
            usleep(10000);
    }
    pthread_attr_destroy(&attr);
    if (e != 0) {
        /* As for memory: a process that cannot start a thread cannot
         * keep what it promised. */
        fprintf(stderr, "sluice: cannot start a thread: %s\n", strerror(e));
        abort();
    }
    return 0;
}

void sl_kafka_admin_drain(void)
{
    pthread_mutex_lock(&call_mu);
    while (call_running > 0)
        pthread_cond_wait(&call_cv, &call_mu);
    pthread_mutex_unlock(&call_mu);
}
