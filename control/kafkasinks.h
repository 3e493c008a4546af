/*
 * control/kafkasinks.h - the running KafkaSinks of one sluice process: a
 * producer (sinks/kafkasink.h: a struct sl_backend of the class
 * "KafkaSink") per KafkaSink object, and the lookup the ingress uses for
 * the paths /<ns>/<name> that are not a Broker's.
 *
 * The KafkaSink reconciler (control/eventing.c) drives it level-based, as
 * control/dataplane.h is driven: sl_kafkasinks_sync() with the
 * configuration the object says now (sl_kafkasink_config); syncing twice
 * with the same configuration changes nothing; a changed one (servers,
 * content mode, Secret...) closes the producer and opens a new one. A
 * producer that failed to open (topic missing, cluster unreachable, not
 * authorized) is retried with backoff (100 ms doubling to 30 s) and the
 * KafkaSink reconciled again each time; an open one is watched every
 * second (sl_kafkasink_status) and the KafkaSink reconciled again when
 * its cluster becomes unreachable or reachable again. (This life cycle is
 * the log set of control/logset.h, the one the Brokers' logs have.)
 *
 * A removed KafkaSink's producer is closed (records in flight get their
 * reports first, so appends accepted so far are answered); its topic is
 * never deleted.
 *
 * Threads: everything on the loop thread.
 */
#ifndef SL_CONTROL_KAFKASINKS_H
#define SL_CONTROL_KAFKASINKS_H

#include <stddef.h>

#include <json-c/json.h>

#include "control/dataplane.h"

struct sl_backend;
struct sl_diag;
struct sl_kafkasinks;
struct sl_loop;
struct sl_metrics;

struct sl_kafkasinks_opts {
    /* An existing directory (the backend contract wants one; a KafkaSink
     * writes nothing there). Required. */
    const char *data_dir;
    /* Largest event a sink takes, bytes [1 MiB]. */
    size_t max_event_size;
    /* The ingress' registry: a removed KafkaSink's ingress series
     * (mt_broker_ingress_*, counted under its name) go with it.
     * Borrowed, outlives the set; NULL: none. */
    struct sl_metrics *metrics;
};

/* Create the set on 'loop'. Returns 0 with '*out', or SL_EINVAL. */
int sl_kafkasinks_new(struct sl_loop *loop, const struct sl_kafkasinks_opts *o,
                      struct sl_kafkasinks **out, struct sl_diag *d);

/*
 * The ingress' lookup (sl_ingress_lookup_fn; 'arg' is the set): the open
 * producer of KafkaSink ns/name, or NULL with '*why' SL_ENOENT (no such
 * KafkaSink), SL_EIO (its producer could not be opened) or SL_EAGAIN
 * (opening, closing, shutting down).
 */
struct sl_backend *sl_kafkasinks_lookup(void *arg, const char *ns,
                                        const char *name, int *why);

/*
 * Close every producer (records in flight are reported first) and refuse
 * further syncs. done(arg) runs on the loop when all are closed
 * (possibly from inside this call).
 */
void sl_kafkasinks_shutdown(struct sl_kafkasinks *ks, void (*done)(void *),
                            void *arg);

/* Free; after sl_kafkasinks_shutdown completed, or when nothing was
 * synced. NULL is a no-op. */
void sl_kafkasinks_free(struct sl_kafkasinks *ks);

/* KafkaSinks whose producer is open now. */
size_t sl_kafkasinks_open(const struct sl_kafkasinks *ks);

/* ---- for the reconciler (control/ only) ---- */

/* Called with kind "KafkaSink" when ns/name should be reconciled again.
 * Set by the controller. */
void sl_kafkasinks_set_notify(struct sl_kafkasinks *ks, sl_dp_notify_fn *fn,
                              void *arg);

/*
 * The configuration of a KafkaSink backend (sinks/kafkasink.h) for the
 * stored KafkaSink 'obj': "bootstrap.servers" (spec.bootstrapServers
 * joined with commas), the topic, content mode, partitions and
 * replication factor, and the security properties of its auth Secret
 * ('secret', the stored Secret object, or NULL when the KafkaSink names
 * none; see sl_kafka_secret_props). Returns 0 with '*out' (the caller
 * puts it), or SL_EINVAL with 'why' (field: the Secret key at fault).
 */
int sl_kafkasink_config(const struct json_object *obj,
                        const struct json_object *secret,
                        struct json_object **out, struct sl_diag *why);

/*
 * Add to 'props' the librdkafka security properties that the data of a
 * Kafka auth Secret ('data': the Secret's "data", Base64 values) says,
 * with Knative's keys (control-plane/pkg/security/secret.go):
 *   protocol        PLAINTEXT | SASL_PLAINTEXT | SSL | SASL_SSL (required)
 *                   -> security.protocol
 *   sasl.mechanism  PLAIN (default) | SCRAM-SHA-256 | SCRAM-SHA-512
 *                   -> sasl.mechanisms (SASL protocols)
 *   user, password  -> sasl.username, sasl.password (SASL protocols,
 *                   required; "username" is read when "user" is absent,
 *                   as Knative's legacy secrets)
 *   ca.crt          -> ssl.ca.pem (SSL protocols; else the system's CAs)
 *   user.crt, user.key -> ssl.certificate.pem, ssl.key.pem (protocol SSL:
 *                   required unless "user.skip" is true)
 * Returns 0, or SL_EINVAL with 'why' (field: the key at fault).
 */
int sl_kafka_secret_props(const struct json_object *data,
                          struct json_object *props, struct sl_diag *why);

/*
 * Make KafkaSink ns/name run with 'config' (sl_kafkasink_config; borrowed).
 * Returns SL_DP_READY when its producer is open and its cluster
 * reachable; SL_DP_PENDING while the topic is checked or a producer
 * closes; SL_DP_FAILED otherwise. Unless READY, 'why' holds the reason
 * (why->field: one of SL_KAFKASINK_R_* of sinks/kafkasink.h, or
 * "ShuttingDown", "ProducerOpening", "ProducerClosing") and the message.
 */
enum sl_dp_state sl_kafkasinks_sync(struct sl_kafkasinks *ks, const char *ns,
                                    const char *name,
                                    const struct json_object *config,
                                    struct sl_diag *why);

/* KafkaSink ns/name is gone (or must not run): close its producer. */
void sl_kafkasinks_remove(struct sl_kafkasinks *ks, const char *ns,
                          const char *name);

#endif
