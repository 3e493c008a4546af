/*
 * sinks/kafkasink.h - the data plane of a KafkaSink
 * (eventing.knative.dev/v1alpha1): one idempotent producer (net/kafka.h)
 * writing the CloudEvents the ingress takes at /<ns>/<name> to one topic.
 *
 * A KafkaSink is exposed as a struct sl_backend (broker/backend.h) of the
 * class "KafkaSink" (sl_kafkasink_ops), so that the ingress
 * (broker/ingress.h) appends to it exactly as to a broker's log. It is not
 * a broker and is not in the backend registry (no Broker can name the
 * class): control/kafkasinks.h creates one per KafkaSink object. Its class
 * is flagged SL_BACKEND_F_PLAIN, so the ingress writes the events as
 * received (no knativearrivaltime, no TTL rule), as Knative's receiver
 * does.
 *
 * Configuration (struct sl_backend_cfg.config, an object of strings): the
 * keys below are the sink's own; every other key is a librdkafka property
 * ("bootstrap.servers", required, and the security properties a Secret
 * maps to: control/kafkasinks.h).
 *
 * Open: the topic is checked through the admin API (net/kafka.h,
 * sl_kafka_topic_admin), as Knative's KafkaSink reconciler does: with
 * both numPartitions and replicationFactor given, SL_KAFKA_TOPIC_ENSURE
 * (a missing topic is created with them; an existing one is used as it
 * is); otherwise SL_KAFKA_TOPIC_CHECK (the topic must exist). Then the
 * producer is created and the sink is open. A failed open leaves the
 * reason in sl_kafkasink_status. The topic is never deleted: it is the
 * user's.
 *
 * Append: each event is encoded with the CloudEvents Kafka binding
 * (proto/kafka.h; binary mode, or structured with contentMode
 * "structured"), the record key being the 'partitionkey' extension (none
 * without one), and produced to the topic (partition by key). done(0)
 * runs once every record of the append is acknowledged by all in-sync
 * replicas; otherwise done gets the first failure (SL_ETIMEDOUT: not
 * delivered within message.timeout.ms; SL_EIO, SL_EPERM, ...). A batch
 * is not atomic on Kafka: when one record fails, others of the same
 * append may be in the topic (the client's retry may then write them
 * twice: at least once). While the producer's statistics say no broker
 * of the cluster is up, an append fails at once (done(SL_EIO), later)
 * instead of waiting for message.timeout.ms.
 *
 * subscribe answers SL_ENOTSUP; settle SL_EINVAL; unsubscribe does
 * nothing (there is never a subscription).
 *
 * Threads: as every backend, the loop thread of cfg.loop.
 */
#ifndef SL_SINKS_KAFKASINK_H
#define SL_SINKS_KAFKASINK_H

#include "broker/backend.h"

struct sl_diag;

/* The topic, required. */
#define SL_KAFKASINK_TOPIC         "kafkasink.topic"
/* "binary" (default) or "structured": the record format. */
#define SL_KAFKASINK_CONTENT_MODE  "kafkasink.contentMode"
/* Decimal integers > 0; both given: the topic is created when missing. */
#define SL_KAFKASINK_PARTITIONS    "kafkasink.numPartitions"
#define SL_KAFKASINK_REPLICATION   "kafkasink.replicationFactor"
/* Milliseconds each admin request of the open may take [10000]. */
#define SL_KAFKASINK_ADMIN_TIMEOUT "kafkasink.admin.timeout.ms"

/* The class "KafkaSink" (flags SL_BACKEND_F_PLAIN). */
extern const struct sl_backend_ops sl_kafkasink_ops;

/*
 * Reasons sl_kafkasink_status puts in why->field (Knative's wording where
 * Knative has one: reconciler/base/receiver_condition_set.go).
 */
#define SL_KAFKASINK_R_MISSING     "Topic is not present or invalid"
#define SL_KAFKASINK_R_CREATE      "FailedToCreateTopic"
#define SL_KAFKASINK_R_UNREACHABLE "ClusterUnreachable"
#define SL_KAFKASINK_R_AUTH        "AuthorizationFailed"
#define SL_KAFKASINK_R_CONFIG      "InvalidConfig"

/*
 * What a KafkaSink backend 'b' is now: 0 when open and its cluster
 * reachable (as far as the last statistics say); SL_EAGAIN while opening
 * or closing; else the failure (of the open, or SL_EIO: the cluster is
 * unreachable now) with 'why' holding a reason above in why->field and
 * the message in why->msg (the topic, the bootstrap servers, librdkafka's
 * words). Cheap, no I/O. Loop thread.
 */
int sl_kafkasink_status(struct sl_backend *b, struct sl_diag *why);

#endif
