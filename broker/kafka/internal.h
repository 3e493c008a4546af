/*
 * broker/kafka/internal.h - what the files of the Kafka backend share: the
 * instance (kafka.c) and the subscriptions (consumer.c, groups.c); the
 * librdkafka calls that block run on threads through net/kafka.h's
 * sl_kafka_call.
 *
 * One instance struct serves both faces of kafka.h: the broker class
 * "Kafka" (a producer, one managed or external topic) and the reader of
 * KafkaSource (no producer, one or more existing topics, a decode hook).
 *
 * Threads: everything here runs on the backend's loop thread, except the
 * 'work' functions of jobs, which run on a job thread and touch only what
 * their job owns.
 */
#ifndef SL_BROKER_KAFKA_INTERNAL_H
#define SL_BROKER_KAFKA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "broker/backend.h"
#include "broker/kafka/kafka.h"
#include "core/log.h"
#include "net/kafka.h"

struct sl_timer;

/* Consumer settings sluice picks (docs/kafka.md "Broker class Kafka"). */
#define SL__KAFKA_SESSION_TIMEOUT_MS "6000"
#define SL__KAFKA_HEARTBEAT_MS       "1000"
/* Each blocking request of a job (metadata, offsets, commit). */
#define SL__KAFKA_JOB_TIMEOUT_MS     5000
/* Longest topic name Kafka takes. */
#define SL__KAFKA_TOPIC_MAX          249

/* ---- the instance (kafka.c) ---- */

struct sl__kafka_sub;

struct sl__kafka {
    struct sl_backend base;
    bool reader;               /* built by sl_kafka_reader_new */
    struct json_object *props; /* librdkafka properties (owned) */
    char **topics;             /* broker: exactly one */
    size_t ntopics;
    bool external;  /* never created nor deleted by sluice */
    int partitions; /* for creation (default.topic.partitions) */
    int replication;
    struct json_object *topic_config; /* default.topic.config.* (owned) */
    /* reader */
    bool earliest;
    sl_kafka_decode_fn *decode;
    void *decode_arg;
    /* broker: producer and topic */
    struct sl_kafka_producer *prod;
    struct sl_kafka_admin *admin; /* topic ensure/check in flight */
    struct sl_timer *check;       /* periodic topic check */
    int topic_rc;                 /* the last check's outcome */
    char topic_msg[256];
    bool checked; /* a check has completed */
    /*
     * Per partition, a lower bound of the log's end: the highest offset
     * our producer was acknowledged plus one, or the high watermark read
     * at open. A new consumer group starts at min(this, the watermark its
     * job reads), so an event appended after subscribe() is never
     * skipped however the job races with the ingress.
     */
    int64_t *known_end;
    int nknown;
    bool opened_once; /* open's done has run */
    int64_t err_ms;   /* last produce error (wall ms), 0 none since ok */
    int err_rc;
    char err_msg[192];
    struct sl__kafka_sub *subs;
    char **groups; /* every group subscribed here (forgotten at drop) */
    size_t ngroups;
    struct sl_backend_stats stats;
    uint64_t undecodable;
    sl_backend_done_fn *pending_done; /* open or close completion */
    void *pending_arg;
    struct sl_log_ctx log;
};

/* The known end of 'partition' of the broker topic, or -1. */
int64_t sl__kafka_known_end(const struct sl__kafka *k, int32_t partition);

/*
 * Decode one record for 'k' into a validated event with one reference, or
 * NULL (the caller logs, counts and settles it). Transport headers come
 * from the Kafka headers on the pass-through allow-list.
 */
struct sl_event *sl__kafka_decode(struct sl__kafka *k,
                                  const struct sl_kafka_origin *o,
                                  const struct sl_kafka_record *rec);

/* Wall-clock milliseconds since the epoch. */
int64_t sl__kafka_wall_ms(void);

/* Which cluster 'k' talks to (its bootstrap.servers), for matching groups
 * of the same cluster. */
void sl__kafka_cluster(const struct sl__kafka *k, char *out, size_t n);

/* ---- subscriptions (consumer.c) ---- */

int sl__kafka_subscribe(struct sl_backend *b, const char *group,
                        const struct sl_backend_sub_opts *opts,
                        sl_backend_record_fn *on_record, void *arg,
                        struct sl_backend_sub **out);
int sl__kafka_settle(struct sl_backend_sub *sub, const struct sl_record *rec,
                     const struct sl_settle *how);
void sl__kafka_unsubscribe(struct sl_backend_sub *sub);

/*
 * Whether the subscriptions see trouble the broker's own checks do not
 * (a reader has no producer): SL_EIO with 'why' (cluster unreachable,
 * topic missing, not authorized) or 0.
 */
int sl__kafka_subs_health(struct sl__kafka *k, struct sl_diag *why);

/* ---- groups (groups.c) ---- */

struct sl__kafka_forget;

/*
 * A consumer to close: sl__kafka_close_consumer registers it and posts
 * the start of its close job to 'loop' (so that a forget of its group
 * requested in the same loop iteration, as the data plane does when a
 * Trigger goes, is attached to it). The job then, on its thread: commits
 * the forget marker for the partitions still assigned (when a forget is
 * attached: the consumer is still a member of the generation, so the
 * commit is taken), closes and destroys 'rk', runs the other attached
 * forgets, and posts after(arg), which runs their ends too.
 */
struct sl__kafka_closing {
    char cluster[512];
    char group[256];
    rd_kafka_t *rk;
    struct sl_loop *loop;
    sl_kafka_work_fn *after;
    void *arg;
    /* kg_mu */
    bool started, finished;
    struct sl__kafka_forget *attached; /* forgets to run with it */
    struct sl__kafka_closing *next;
};

/* Close cl->rk as above ('cl' lives until after runs; loop thread). */
void sl__kafka_close_consumer(struct sl__kafka_closing *cl);

/* The metadata of a committed offset that stands for "forgotten": a
 * group's partition carrying it starts at the end, as a new group. */
#define SL__KAFKA_FORGOTTEN "sluice:forgotten"

/*
 * Wait (bounded, on a job thread) while a forget of 'group' on 'cluster'
 * is not finished, or until *cancel is set through
 * sl__kafka_forget_wait_cancel. Returns false when cancelled.
 */
bool sl__kafka_forget_wait(const char *cluster, const char *group,
                           const bool *cancel);
/* Set *cancel and wake the waits (any thread). */
void sl__kafka_forget_wait_cancel(bool *cancel);

/*
 * The forget slot: commit the end of every partition for 'group' (a group
 * with no live member takes a commit outside a generation), after a close
 * of its consumer in flight, so that a later subscription starts at the
 * end like a new group. done(arg, rc) on the loop.
 */
void sl__kafka_forget(struct sl_backend *b, const char *group,
                      sl_backend_done_fn *done, void *arg);

/* Forget every group subscribed on 'k' (drop; failures only logged). */
void sl__kafka_forget_all(struct sl__kafka *k);

/* Commit 'l' and wait for the answer, bounded (job thread). */
rd_kafka_resp_err_t sl__kafka_commit_wait(rd_kafka_t *rk,
                                          rd_kafka_topic_partition_list_t *l);

/* Append the partitions of 'topic' to 'l' from a metadata request (job
 * thread). Returns the request's or the topic's error. */
rd_kafka_resp_err_t sl__kafka_partitions(rd_kafka_t *rk, const char *topic,
                                         rd_kafka_topic_partition_list_t *l);

#endif
