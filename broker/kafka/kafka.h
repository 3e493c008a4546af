/*
 * broker/kafka/kafka.h - the Kafka backend (broker class "Kafka") and,
 * built from the same consumer, a "reader": a backend over existing
 * topics that only subscribes, for KafkaSource (sources/kafka).
 *
 * The broker class is registered as sl_backend_kafka (broker/backend.h)
 * and driven only through the backend wrappers; docs/kafka.md has its
 * topic, record format, consumer groups and delivery guarantees.
 *
 * A reader is a struct sl_backend like any other: sl_backend_open,
 * sl_backend_subscribe (group = the Kafka consumer group), settle,
 * unsubscribe, close, free through the wrappers of broker/backend.h, so
 * that a dispatcher (triggers/dispatch.h) with a delivery
 * (sinks/delivery.h) runs over it exactly as over a broker log. Its append
 * answers SL_ENOTSUP; it never creates or deletes a topic; open succeeds
 * once the client is created (the cluster being unreachable shows in
 * health, not in open).
 *
 * Progress (both): a record settled DONE is final; the group's committed
 * offset of a partition moves to the lowest offset not yet final, so a
 * crash or a rebalance redelivers records, never skips one. A RETRY is
 * held in memory (Kafka has nowhere to persist it) and pushed again at
 * not_before with its attempts; after a crash or rebalance it comes again
 * with attempts 0.
 *
 * Positions: partition and offset of the record; for a reader, 'sub' is
 * the index of the record's topic in cfg.topics (0 for the broker).
 *
 * Threads: the loop thread of cfg.loop, as every backend.
 */
#ifndef SL_BROKER_KAFKA_KAFKA_H
#define SL_BROKER_KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "broker/backend.h"
#include "proto/kafka.h"

struct sl_diag;
struct sl_event;
struct sl_loop;

/* Where a record came from, for a reader's decode hook. */
struct sl_kafka_origin {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* the record's timestamp; -1 when it has none */
};

/*
 * Turn a record into an event for a reader: the validated event with one
 * reference, or NULL to skip the record (it is then settled DONE by the
 * reader itself, logged and counted). 'rec' and 'o' are borrowed for the
 * call. Loop thread.
 */
typedef struct sl_event *sl_kafka_decode_fn(void *arg,
                                            const struct sl_kafka_origin *o,
                                            const struct sl_kafka_record *rec);

struct sl_kafka_reader_cfg {
    struct sl_loop *loop; /* required */
    /* librdkafka properties (net/kafka.h): "bootstrap.servers" and the
     * security settings; borrowed during the call. */
    const struct json_object *props;
    const char *const *topics; /* required, ntopics >= 1; copied */
    size_t ntopics;
    /* Where a group without a committed offset starts: true = the
     * earliest record, false = the end (KafkaSource initialOffset). */
    bool earliest;
    /* Records -> events. NULL: the CloudEvents Kafka binding only
     * (sl_ce_kafka_decode); a record that is not an event is skipped. */
    sl_kafka_decode_fn *decode;
    void *decode_arg;
    size_t max_event_size; /* 0 -> SL_CE_DEFAULT_MAX_EVENT_SIZE */
    const char *log_name;  /* "ns/name" for log lines; copied */
};

/*
 * A reader (state NEW; open it with sl_backend_open). Returns 0 with
 * '*out', or SL_EINVAL with 'd' naming what is wrong (no topics, bad
 * properties).
 */
int sl_kafka_reader_new(const struct sl_kafka_reader_cfg *cfg,
                        struct sl_backend **out, struct sl_diag *d);

/* The broker class "Kafka". */
extern const struct sl_backend_ops sl_backend_kafka;

/*
 * What the broker class reads from its config (struct sl_backend_cfg,
 * strings): the Broker's ConfigMap keys "bootstrap.servers",
 * "default.topic.partitions" [10], "default.topic.replication.factor"
 * [the cluster's default, 1 when unset], "default.topic.config.<name>"
 * (topic configs for creation), and keys the data plane adds:
 *   SL_KAFKA_CFG_EXTERNAL_TOPIC: the topic the Broker's annotation
 *     SL_KAFKA_EXTERNAL_TOPIC names (never created nor deleted);
 *   SL_KAFKA_CFG_SECRET_PREFIX + "protocol", "sasl.mechanism", "user",
 *     "password", "ca.crt", "user.crt", "user.key": the data of the
 *     Secret "auth.secret.ref.name" names (Knative's Kafka broker keys),
 *     mapped onto security.protocol, sasl.mechanism, sasl.username,
 *     sasl.password, ssl.ca.pem, ssl.certificate.pem, ssl.key.pem.
 * A ConfigMap's own keys under "sluice." are not honoured (the data plane
 * replaces them).
 */
#define SL_KAFKA_EXTERNAL_TOPIC     "kafka.eventing.knative.dev/external.topic"
#define SL_KAFKA_CFG_EXTERNAL_TOPIC "sluice.topic.external"
#define SL_KAFKA_CFG_SECRET_PREFIX  "sluice.secret."

/*
 * The topic of broker ns/name with 'config' (as above): the external topic
 * when set, else "knative-broker-<ns>-<name>" (Knative's name, so topics
 * Knative made are used as they are). Written to out[0..n). Returns 0,
 * SL_ETOOBIG (n too small) or SL_EINVAL (not a legal Kafka topic name,
 * e.g. longer than 249 characters).
 */
int sl_kafka_broker_topic(const char *ns, const char *name,
                          const struct json_object *config, char *out,
                          size_t n);

#endif
