/*
 * net/kafka.h - librdkafka clients driven by sluice's loop: the client
 * configuration, a pump that wakes the loop when a librdkafka queue has
 * events, and topic administration off the loop thread.
 *
 * Everything Kafka in sluice (broker/kafka, sinks' KafkaSink, sources'
 * KafkaSource) builds on this; nothing here knows CloudEvents
 * (proto/kafka.h is the binding) or any resource kind.
 *
 * Configuration. A client is configured by "properties": a JSON object of
 * strings whose names are librdkafka configuration properties
 * ("bootstrap.servers", "security.protocol", "sasl.mechanism",
 * "sasl.username", "ssl.ca.pem", ...). Callers map Knative's fields and
 * Secrets onto those names; sl_kafka_conf_new applies them in order and
 * names the property librdkafka refuses.
 *
 * Pump. librdkafka runs its own threads and leaves events (delivery
 * reports, consumed messages, rebalances, errors) on queues. A pump makes
 * one queue write to a pipe when it goes from empty to non-empty
 * (rd_kafka_queue_io_event_enable); the loop watches the pipe and calls
 * the pump's function, which must serve the queue until it is empty
 * (rd_kafka_poll(rk, 0) for a producer's main queue,
 * rd_kafka_consumer_poll(rk, 0) until NULL for a consumer's), or else no
 * further wake-up comes. A pump also runs its function every 'tick_ms' as
 * a safety net, so no event waits longer than that.
 *
 * Administration. Reading metadata and creating or deleting a topic block
 * for up to a timeout, so they run on a thread of their own with a
 * short-lived client made from the same properties; the result comes back
 * on the loop thread. An operation can be cancelled (its callback then
 * never runs) but its thread still ends by itself within the timeout;
 * sl_kafka_admin_drain() waits for every such thread (call it before the
 * loop is freed).
 *
 * Threads: everything on the loop thread, except where a function says
 * otherwise.
 */
#ifndef SL_NET_KAFKA_H
#define SL_NET_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

struct sl_diag;
struct sl_loop;
struct sl_kafka_pump;
struct sl_kafka_admin;
struct sl_kafka_producer;
struct sl_kafka_record;

/* ---- configuration ---- */

/*
 * A new librdkafka configuration with sluice's defaults (log lines go to
 * sluice's log at the matching level through the log callback, the only
 * callback set: no opaque, so a caller sets its own opaque, error, stats,
 * rebalance and commit callbacks, "client.id" = 'client_id' when not
 * NULL) and then every property of 'props' (an object of strings;
 * borrowed; NULL = none) in order. "bootstrap.servers" must be among them.
 * Returns 0 with '*out' (the caller owns it until it hands it to
 * rd_kafka_new), or SL_EINVAL with 'd' naming the property
 * ("bootstrap.servers: ...") and '*out' NULL.
 */
int sl_kafka_conf_new(const struct json_object *props, const char *client_id,
                      rd_kafka_conf_t **out, struct sl_diag *d);

/*
 * rd_kafka_new with 'conf' (taken in every case: freed on failure).
 * Returns 0 with '*out', or SL_EINVAL with librdkafka's reason in 'd'.
 */
int sl_kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                        rd_kafka_t **out, struct sl_diag *d);

/* SL_E* for a librdkafka error code: SL_ETIMEDOUT (timed out), SL_EPERM
 * (authentication or authorization), SL_ENOENT (unknown topic or
 * partition), SL_ETOOBIG (message too large), SL_EINVAL (invalid
 * argument or configuration), SL_EIO (everything else). */
int sl_kafka_errno(rd_kafka_resp_err_t err);

/* ---- pump ---- */

/* Serve the queue until it is empty. Loop thread. */
typedef void sl_kafka_pump_fn(void *arg);

/*
 * Watch 'q' (borrowed; must outlive the pump) on 'loop': fn(arg) runs on
 * the loop thread when the queue becomes non-empty and every 'tick_ms'
 * (0 -> 100 ms). Returns 0 with '*out', or SL_EIO when no pipe can be
 * made.
 */
int sl_kafka_pump_new(struct sl_loop *loop, rd_kafka_queue_t *q,
                      sl_kafka_pump_fn *fn, void *arg, uint32_t tick_ms,
                      struct sl_kafka_pump **out, struct sl_diag *d);

/* Stop watching (the queue's io event is disabled) and free. NULL is a
 * no-op. Callable from inside the pump's own function. */
void sl_kafka_pump_free(struct sl_kafka_pump *p);

/* ---- reachability ---- */

/*
 * Properties sluice adds to every client (unless 'props' sets them):
 * "statistics.interval.ms" 1000, so that sl_kafka_reach_update can read
 * the brokers' states from the statistics callback.
 */

/* Whether a client reaches its cluster, from librdkafka's statistics. */
struct sl_kafka_reach {
    int brokers_up;     /* brokers in state UP at the last statistics */
    int brokers_known;  /* brokers listed (bootstrap ones included) */
    int64_t updated_ms; /* loop time of the last statistics; 0: none yet */
    char why[160];      /* "" or the last client error ("all brokers down") */
    /* A fatal error (an idempotent producer that lost its guarantees):
     * the client is unusable for good and must be made again; 'why'
     * says what happened. Never cleared. */
    bool fatal;
};

/* Read a statistics JSON document (the stats_cb's) into 'r'. Any thread
 * that owns 'r'. */
void sl_kafka_reach_update(struct sl_kafka_reach *r, const char *json,
                           size_t len, int64_t now_ms);

/* ---- producer ---- */

/*
 * A producer on the loop: idempotent ("enable.idempotence" true, which
 * implies acks=all; sluice refuses props that set "acks" to anything
 * but "all"/"-1" or turn idempotence off), "message.timeout.ms" 10000
 * unless props say otherwise, delivery reports and statistics served on
 * the loop thread through a pump.
 *
 * Returns 0 with '*out', or SL_EINVAL with 'd' naming the property.
 */
int sl_kafka_producer_new(struct sl_loop *loop, const struct json_object *props,
                          const char *client_id, struct sl_kafka_producer **out,
                          struct sl_diag *d);

/*
 * The end of one produce: rc 0 once the record is acknowledged by all
 * in-sync replicas (partition and offset set), else SL_E* (SL_ETIMEDOUT:
 * not delivered within message.timeout.ms; SL_ECANCELED: the producer was
 * freed first) with librdkafka's reason in 'msg' (borrowed). Loop thread.
 */
typedef void sl_kafka_produce_fn(void *arg, int rc, int32_t partition,
                                 int64_t offset, const char *msg);

/*
 * Produce 'rec' (key, value, headers; everything copied) to 'topic' at
 * 'partition' (RD_KAFKA_PARTITION_UA: by key, librdkafka's default
 * partitioner). done runs exactly once, later, on the loop thread.
 * Returns 0, or SL_E* now (done will not run): SL_EBUSY (the local queue
 * is full), SL_ETOOBIG, SL_EINVAL, SL_EAGAIN (the producer is closing).
 */
int sl_kafka_produce(struct sl_kafka_producer *p, const char *topic,
                     int32_t partition, const struct sl_kafka_record *rec,
                     sl_kafka_produce_fn *done, void *arg);

/* Records produced and not yet reported. */
size_t sl_kafka_producer_pending(const struct sl_kafka_producer *p);

/* Reachability as the statistics last said (borrowed). */
const struct sl_kafka_reach *
sl_kafka_producer_reach(const struct sl_kafka_producer *p);

/* The librdkafka handle (borrowed), e.g. for metadata on another thread. */
rd_kafka_t *sl_kafka_producer_handle(struct sl_kafka_producer *p);

/*
 * Close: no new produce; wait (on the loop, not blocking it) until every
 * pending record is reported or timeout_ms passed (then the rest get
 * SL_ECANCELED), then done(arg) runs and the producer is freed.
 */
void sl_kafka_producer_close(struct sl_kafka_producer *p, int64_t timeout_ms,
                             void (*done)(void *arg), void *arg);

/* ---- topic administration ---- */

/* What a topic should be. */
struct sl_kafka_topic_spec {
    const char *name; /* required */
    int partitions;   /* for creation; <= 0 -> 10 */
    int replication;  /* for creation; <= 0 -> 1 */
    /* Topic configs for creation ("retention.ms": "..."), an object of
     * strings; borrowed during the call; NULL = none. */
    const struct json_object *config;
};

/* The outcome of an admin operation: rc 0 or SL_E*, and a message (never
 * NULL; "" on success) naming the cause: "topic t does not exist",
 * "cluster unreachable: ...", "not authorized: ...". Loop thread; the
 * message is borrowed for the call. 'partitions' is the topic's partition
 * count when rc is 0 (ensure/check), else 0. */
typedef void sl_kafka_admin_done_fn(void *arg, int rc, int partitions,
                                    const char *msg);

enum sl_kafka_topic_action {
    /* Read metadata: 0 when the topic exists, SL_ENOENT when not. */
    SL_KAFKA_TOPIC_CHECK = 0,
    /* Read metadata; a missing topic is created with CreateTopics (an
     * existing one, whatever its partitions, is left as it is): 0 when
     * it exists at the end. */
    SL_KAFKA_TOPIC_ENSURE,
    /* DeleteTopics: 0 when deleted or already gone. */
    SL_KAFKA_TOPIC_DELETE,
};

/*
 * Run 'action' on 'spec' against the cluster of 'props' (copied) on a
 * thread (sl_kafka_call), each request bounded by timeout_ms (0 -> 10 s);
 * done(arg, ...) runs once on the loop thread, unless the operation is
 * cancelled first (while the loop is being freed it runs inline, before
 * this returns, and '*out' is then NULL). Errors: SL_ETIMEDOUT / SL_EIO cluster
 * unreachable, SL_EPERM not authorized, SL_ENOENT missing (CHECK), SL_EINVAL
 * bad properties or a refused creation. Returns 0 with '*out' (the handle,
 * valid until done runs or it is cancelled; 'out' may be NULL), or SL_E* now
 * (done will not run).
 */
int sl_kafka_topic_admin(struct sl_loop *loop, const struct json_object *props,
                         const struct sl_kafka_topic_spec *spec,
                         enum sl_kafka_topic_action action, int timeout_ms,
                         sl_kafka_admin_done_fn *done, void *arg,
                         struct sl_kafka_admin **out, struct sl_diag *d);

/* Cancel an operation whose done has not run: it never will. Loop
 * thread. NULL is a no-op. */
void sl_kafka_admin_cancel(struct sl_kafka_admin *op);

/* ---- blocking calls on threads ---- */

typedef void sl_kafka_work_fn(void *arg);

/*
 * Run work(arg) on a thread of its own, then done(arg) on the loop thread
 * of 'loop' (always, exactly once: a caller that gave up on the result
 * lets done only free 'arg'). For librdkafka calls that block
 * (rd_kafka_committed, rd_kafka_consumer_close, metadata, the admin
 * API); work must end by itself within a bounded time. While the loop
 * is being freed (sl_loop_freeing: a task run by sl_loop_free starts a
 * call) work and done run inline, here, instead: the loop will not
 * iterate again. Returns 0: it cannot fail (a
 * thread that cannot be made after five tries aborts the process with a
 * message, as running out of memory does). 'd' is unused.
 */
int sl_kafka_call(struct sl_loop *loop, sl_kafka_work_fn *work,
                  sl_kafka_work_fn *done, void *arg, struct sl_diag *d);

/*
 * Wait until every thread of sl_kafka_call and sl_kafka_topic_admin in the
 * process has posted its result (each is bounded); sl_loop_free then runs
 * those tasks (calls they start run inline, above). Call with the loops
 * not running, before sl_loop_free.
 */
void sl_kafka_admin_drain(void);

#endif
