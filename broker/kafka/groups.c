/*
 * broker/kafka/groups.c - consumer groups as a whole: forgetting one
 * (moving its committed offsets to the end of the log), the consumers
 * being closed that a forget must wait for, and the blocking helpers the
 * job threads share.
 *
 * Why not DeleteGroups: librdkafka 2.0.2 aborts on an assertion when the
 * cluster does not implement it (seen against the mock cluster), and a
 * group whose offsets are at the end behaves, for sluice, exactly as a
 * deleted one: a later subscription of that name starts at the end of
 * the log. The offsets expire with Kafka's offsets.retention.minutes.
 *
 * Ordering. A forget must land after the last commit of the group's own
 * consumer, and before a new subscription of the group reads its start:
 *   - a consumer being closed is registered (sl__kafka_closing_add); a
 *     forget of its cluster and group is attached to it and runs on the
 *     closing thread right after the close (its commits are sent by then);
 *   - a forget not finished yet is listed, and a new subscription's start
 *     job waits for it (sl__kafka_forget_wait).
 */
#include "broker/kafka/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/loop.h"

#define KG_FORGET_WAIT_MS 25000

struct sl__kafka_forget {
    rd_kafka_t *rk; /* a consumer of the group, not subscribed */
    char **topics;
    size_t ntopics;
    sl_backend_done_fn *done; /* NULL: nobody waits (drop) */
    void *arg;
    int rc;
    char msg[256];
    struct sl_log_ctx log;
    char cluster[512];
    char group[256];
    bool join;                     /* drop: may join the group to mark it */
    struct sl__kafka_forget *next; /* kg_pending */
    struct sl__kafka_forget *next_attached; /* a closing consumer's */
};

static pthread_mutex_t kg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kg_cv = PTHREAD_COND_INITIALIZER;
static struct sl__kafka_closing *kg_closing;
static struct sl__kafka_forget *kg_pending;

/* ---- helpers for jobs ---- */

rd_kafka_resp_err_t sl__kafka_commit_wait(rd_kafka_t *rk,
                                          rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(rk, l, q, NULL, NULL);
    rd_kafka_event_t *ev;

    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ev = rd_kafka_queue_poll(q, SL__KAFKA_JOB_TIMEOUT_MS);
        if (!ev) {
            e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            e = rd_kafka_event_error(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    return e;
}

rd_kafka_resp_err_t sl__kafka_partitions(rd_kafka_t *rk, const char *topic,
                                         rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;

    if (!t)
        return rd_kafka_last_error();
    e = rd_kafka_metadata(rk, 0, t, &md, SL__KAFKA_JOB_TIMEOUT_MS);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt < 1)
            e = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        else if (md->topics[0].err)
            e = md->topics[0].err;
        else
            for (int i = 0; i < md->topics[0].partition_cnt; i++)
                rd_kafka_topic_partition_list_add(
                    l, topic, md->topics[0].partitions[i].id);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return e;
}

/*
 * Set every partition of 'l' to its high watermark with the forgotten
 * marker and commit it (job thread).
 */
static rd_kafka_resp_err_t kg_mark(rd_kafka_t *rk,
                                   rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_resp_err_t e = 0;

    for (int i = 0; i < l->cnt && !e; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        int64_t lo, hi;
        e = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo,
                                             &hi, SL__KAFKA_JOB_TIMEOUT_MS);
        tp->offset = hi;
    }
    if (e)
        return e;
    /* The lists here carry no metadata of their own. The marker is
     * borrowed for the call (the commit copies the list) and taken back
     * before librdkafka could free() it. */
    for (int i = 0; i < l->cnt; i++) {
        l->elems[i].metadata = (void *)SL__KAFKA_FORGOTTEN;
        l->elems[i].metadata_size = sizeof(SL__KAFKA_FORGOTTEN) - 1;
    }
    e = sl__kafka_commit_wait(rk, l);
    for (int i = 0; i < l->cnt; i++) {
        l->elems[i].metadata = NULL;
        l->elems[i].metadata_size = 0;
    }
    return e;
}

/* ---- forgetting ---- */

static void kg_forget_work(void *arg);
static void kg_forget_after(void *arg);
static void kg_forget_finish(struct sl__kafka_forget *f);

static bool kg_pending_for(const char *cluster, const char *group)
{
    for (struct sl__kafka_forget *f = kg_pending; f; f = f->next)
        if (strcmp(f->group, group) == 0 && strcmp(f->cluster, cluster) == 0)
            return true;
    return false;
}

bool sl__kafka_forget_wait(const char *cluster, const char *group,
                           const bool *cancel)
{
    struct timespec until;
    bool go_on;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += KG_FORGET_WAIT_MS / 1000;
    pthread_mutex_lock(&kg_mu);
    while (!*cancel && kg_pending_for(cluster, group))
        if (pthread_cond_timedwait(&kg_cv, &kg_mu, &until) == ETIMEDOUT)
            break;
    go_on = !*cancel;
    pthread_mutex_unlock(&kg_mu);
    return go_on;
}

void sl__kafka_forget_wait_cancel(bool *cancel)
{
    pthread_mutex_lock(&kg_mu);
    *cancel = true;
    pthread_cond_broadcast(&kg_cv);
    pthread_mutex_unlock(&kg_mu);
}

/*
 * The join path (drop only): become a member of the group, take what the
 * group assigns, mark it, leave. Used when the group refuses a commit
 * outside a generation although its consumers here are closed.
 */
static rd_kafka_resp_err_t kg_join_mark(struct sl__kafka_forget *f)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(
                                        (int)f->ntopics),
                                    *a = NULL;
    rd_kafka_resp_err_t e;
    int64_t until = sl__kafka_wall_ms() + 3 * SL__KAFKA_JOB_TIMEOUT_MS;

    for (size_t i = 0; i < f->ntopics; i++)
        rd_kafka_topic_partition_list_add(l, f->topics[i],
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_poll_set_consumer(f->rk);
    e = rd_kafka_subscribe(f->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    while (!e && sl__kafka_wall_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(f->rk, 100);
        if (m)
            rd_kafka_message_destroy(m);
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        a = NULL;
        if (rd_kafka_assignment(f->rk, &a) == 0 && a->cnt > 0)
            break;
    }
    if (!e && (!a || a->cnt == 0))
        e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (!e)
        e = kg_mark(f->rk, a);
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    rd_kafka_consumer_close(f->rk);
    return e;
}

static void kg_forget_work(void *arg)
{
    struct sl__kafka_forget *f = arg;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_resp_err_t e = 0;

    for (size_t i = 0; i < f->ntopics && !e; i++)
        e = sl__kafka_partitions(f->rk, f->topics[i], l);
    if (!e && l->cnt > 0)
        e = kg_mark(f->rk, l);
    if (f->join && (e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
                    e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
                    e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS))
        e = kg_join_mark(f);
    if (e) {
        f->rc = sl_kafka_errno(e);
        snprintf(f->msg, sizeof(f->msg), "%s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
    kg_forget_finish(f);
}

/* The forget's work is over (job thread): free its client, unlist it. */
static void kg_forget_finish(struct sl__kafka_forget *f)
{
    if (f->rk)
        rd_kafka_destroy(f->rk);
    f->rk = NULL;
    pthread_mutex_lock(&kg_mu);
    for (struct sl__kafka_forget **pp = &kg_pending; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    pthread_cond_broadcast(&kg_cv);
    pthread_mutex_unlock(&kg_mu);
}

static void kg_forget_after(void *arg)
{
    struct sl__kafka_forget *f = arg;

    if (f->rc < 0)
        SL_LOG(f->done ? SL_LOG_WARN : SL_LOG_INFO, &f->log,
               "group %s: cannot mark it forgotten: %s", f->group, f->msg);
    else
        SL_LOG(SL_LOG_DEBUG, &f->log, "group %s: forgotten", f->group);
    if (f->done)
        f->done(f->arg, f->rc);
    for (size_t i = 0; i < f->ntopics; i++)
        sl_free(f->topics[i]);
    sl_free(f->topics);
    sl_free(f);
}

static void kg_posted_fail(void *arg)
{
    struct sl__kafka_forget *f = arg;

    f->rc = SL_EINVAL;
    kg_forget_after(f);
}

/* ---- consumers being closed ---- */

static void kg_close_work(void *arg)
{
    struct sl__kafka_closing *cl = arg;
    struct sl__kafka_forget *f, *first;
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t marked = RD_KAFKA_RESP_ERR__STATE;

    pthread_mutex_lock(&kg_mu);
    cl->started = true;
    first = cl->attached;
    pthread_mutex_unlock(&kg_mu);
    /* Still a member: its commits are taken, whatever the group. */
    if (first && rd_kafka_assignment(cl->rk, &a) == 0 && a->cnt > 0)
        marked = kg_mark(cl->rk, a);
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    rd_kafka_consumer_close(cl->rk);
    rd_kafka_destroy(cl->rk);
    cl->rk = NULL;
    pthread_mutex_lock(&kg_mu);
    for (struct sl__kafka_closing **pp = &kg_closing; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    cl->finished = true;
    f = cl->attached;
    pthread_mutex_unlock(&kg_mu);
    for (; f; f = f->next_attached) {
        bool early = false;
        for (struct sl__kafka_forget *g = first; g && !early;
             g = g->next_attached)
            early = g == f;
        if (early && marked == RD_KAFKA_RESP_ERR_NO_ERROR)
            kg_forget_finish(f);
        else
            kg_forget_work(f);
    }
}

static void kg_close_after(void *arg)
{
    struct sl__kafka_closing *cl = arg;
    struct sl__kafka_forget *f = cl->attached, *nx;

    cl->attached = NULL;
    for (; f; f = nx) {
        nx = f->next_attached;
        kg_forget_after(f);
    }
    cl->after(cl->arg);
}

static void kg_close_start(void *arg)
{
    struct sl__kafka_closing *cl = arg;

    sl_kafka_call(cl->loop, kg_close_work, kg_close_after, cl, NULL);
}

void sl__kafka_close_consumer(struct sl__kafka_closing *cl)
{
    pthread_mutex_lock(&kg_mu);
    cl->started = cl->finished = false;
    cl->attached = NULL;
    cl->next = kg_closing;
    kg_closing = cl;
    pthread_mutex_unlock(&kg_mu);
    sl_loop_post(cl->loop, kg_close_start, cl);
}

/* ---- requests ---- */

static void kg_forget(struct sl__kafka *k, const char *group,
                      sl_backend_done_fn *done, void *arg, bool join)
{
    struct sl__kafka_forget *f = sl_xcalloc(1, sizeof(*f));
    struct sl__kafka_closing *cl;
    rd_kafka_conf_t *conf = NULL;
    struct sl_diag d;
    char err[256];
    int rc;

    f->done = done;
    f->arg = arg;
    f->join = join;
    f->log = k->log;
    snprintf(f->group, sizeof(f->group), "%s", group);
    sl__kafka_cluster(k, f->cluster, sizeof(f->cluster));
    f->ntopics = k->ntopics;
    f->topics = sl_xcalloc(k->ntopics, sizeof(*f->topics));
    for (size_t i = 0; i < k->ntopics; i++)
        f->topics[i] = sl_xstrdup(k->topics[i]);
    sl_diag_clear(&d);
    rc = sl_kafka_conf_new(k->props, "sluice-forget", &conf, &d);
    if (rc == 0 && (rd_kafka_conf_set(conf, "group.id", group, err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK ||
                    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK ||
                    rd_kafka_conf_set(conf, "session.timeout.ms",
                                      SL__KAFKA_SESSION_TIMEOUT_MS, err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK ||
                    rd_kafka_conf_set(conf, "heartbeat.interval.ms",
                                      SL__KAFKA_HEARTBEAT_MS, err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK)) {
        rd_kafka_conf_destroy(conf);
        rc = sl_diag_set(&d, SL_EINVAL, "group.id", "%s", err);
    }
    if (rc == 0) /* takes conf in every case */
        rc = sl_kafka_client_new(RD_KAFKA_CONSUMER, conf, &f->rk, &d);
    if (rc < 0) {
        snprintf(f->msg, sizeof(f->msg), "%.200s", d.msg);
        sl_loop_post(k->base.loop, kg_posted_fail, f);
        return;
    }
    pthread_mutex_lock(&kg_mu);
    f->next = kg_pending;
    kg_pending = f;
    for (cl = kg_closing; cl; cl = cl->next)
        if (!cl->finished && strcmp(cl->group, group) == 0 &&
            strcmp(cl->cluster, f->cluster) == 0) {
            /* with its close, on its thread; its continuation ends ours */
            f->next_attached = cl->attached;
            cl->attached = f;
            break;
        }
    pthread_mutex_unlock(&kg_mu);
    if (!cl)
        sl_kafka_call(k->base.loop, kg_forget_work, kg_forget_after, f, NULL);
}

void sl__kafka_forget(struct sl_backend *b, const char *group,
                      sl_backend_done_fn *done, void *arg)
{
    kg_forget(sl_container_of(b, struct sl__kafka, base), group, done, arg,
              false);
}

void sl__kafka_forget_all(struct sl__kafka *k)
{
    for (size_t i = 0; i < k->ngroups; i++)
        kg_forget(k, k->groups[i], NULL, NULL, true);
}
