/*
 * sources/kafka/kafka.h - the KafkaSource adapter's pure half: the
 * record -> CloudEvent mapping (reference section 6.2), the spec as the
 * runtime reads it, and the librdkafka properties of its spec.net
 * (SASL/TLS from Secrets).
 *
 * The adapter itself is sl_source_kafka (sources/source.h); what is here
 * is what it is built from, exported so that every rule can be checked
 * without a cluster. No I/O, no clock, no logging; any thread.
 *
 * The mapping follows Knative's Java dispatcher (eventing-kafka-broker
 * CloudEventDeserializer, InvalidCloudEventInterceptor, KeyDeserializer,
 * CloudEventOverridesMutator); docs/kafka-source.md has the table and
 * where sluice departs from it.
 */
#ifndef SL_SOURCES_KAFKA_KAFKA_H
#define SL_SOURCES_KAFKA_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "broker/kafka/kafka.h"
#include "core/err.h"
#include "proto/event.h"
#include "proto/kafka.h"

/* The type of every event made from a record that is not a CloudEvent. */
#define SL_KSRC_EVENT_TYPE     "dev.knative.kafka.event"
/* The label that says how record keys are read. */
#define SL_KSRC_KEY_TYPE_LABEL "kafkasources.sources.knative.dev/key-type"

/* ---- record keys ---- */

/* The key-type label: how a record key becomes the key extension. */
enum sl_ksrc_key_type {
    SL_KSRC_KEY_STRING = 0, /* "string" (and no label): UTF-8 text */
    SL_KSRC_KEY_INT,        /* "int": 4 bytes, big-endian signed */
    SL_KSRC_KEY_FLOAT,      /* "float": 4-byte float or 8-byte double */
    SL_KSRC_KEY_BYTES,      /* "byte-array": the bytes, Base64 */
};

/*
 * Read the label value 'label' (NULL or "" -> string). Returns 0 with
 * '*out', or SL_EINVAL for another value.
 */
int sl_ksrc_key_type_parse(const char *label, enum sl_ksrc_key_type *out);

/*
 * Write 'v' as Java's Double.toString (single: Float.toString of the
 * float 'v') writes it, with the shortest digits that read back as the
 * same value (JDK 19 and later): "NaN", "Infinity", "-0.0", "1.5",
 * "100.0", "1.0E7", "1.2345E-4". Plain notation for magnitudes in
 * [1e-3, 1e7), else one digit, the fraction (at least one digit), 'E' and
 * the exponent. 'out' needs 32 bytes. Returns the length written.
 */
size_t sl_ksrc_format_float(double v, bool single, char *out, size_t outlen);

/* ---- the mapping ---- */

/* One ceOverrides extension (name lower-case, value a valid String). */
struct sl_ksrc_ext {
    char *name;
    char *value;
};

/* How records of one KafkaSource become events. Borrowed pointers. */
struct sl_ksrc_map {
    const char *ns;   /* metadata.namespace, required */
    const char *name; /* metadata.name, required */
    enum sl_ksrc_key_type key_type;
    /* Add knativekafkapartition and knativekafkaoffset to every event, as
     * Knative's dispatcher does since eventing-kafka-broker 1.13. */
    bool kafka_ext;
    const struct sl_ksrc_ext *ext; /* spec.ceOverrides.extensions */
    size_t next;
    /* Limits of the CloudEvents decoder; NULL for defaults. A record
     * whose event would pass max_event_size is refused. */
    const struct sl_ce_opts *ce;
};

/* What sl_ksrc_map_record made of a record. */
enum sl_ksrc_kind {
    SL_KSRC_BINARY = 0, /* a CloudEvent in binary mode, forwarded */
    SL_KSRC_STRUCTURED, /* a CloudEvent in structured mode, forwarded */
    SL_KSRC_WRAPPED,    /* not a CloudEvent: a new dev.knative.kafka.event */
};

struct sl_ksrc_info {
    enum sl_ksrc_kind kind;
    /* WRAPPED: SL_ENOENT when the record does not claim to be an event
     * (no structured content-type, no ce_specversion), else the
     * decoder's code for a record that claims to be one and is not
     * (SL_EINVAL, SL_ENOTSUP), with its reason in 'why'. */
    int decode_rc;
    struct sl_diag why;
    /* WRAPPED: a content-type header that is not a media type, left out
     * of the event (Knative would copy it as datacontenttype). */
    bool dropped_content_type;
};

/*
 * Turn record 'rec' of origin 'o' (topic, partition, offset, timestamp;
 * both borrowed) into a validated event with one reference in '*out':
 *
 *   - a CloudEvent by the Kafka binding (sl_ce_kafka_decode) is that
 *     event, ids and all;
 *   - anything else (no ce_specversion and no structured content-type, or
 *     a record the binding rejects) becomes a new event: type
 *     SL_KSRC_EVENT_TYPE, source /apis/v1/namespaces/<ns>/kafkasources/
 *     <name>#<topic>, subject partition:<p>#<offset>, id partition:<p>/
 *     offset:<offset>, time the record's timestamp in UTC (none when the
 *     record has none), datacontenttype the last 'content-type' header
 *     (name in any case) lower-cased, the value as data (a null value: no
 *     data), the key as extensions 'key' and 'partitionkey' per
 *     m->key_type (none for a null or empty key), and each other header as
 *     'kafkaheader<name>' (name lower-cased, then everything outside
 *     [a-z0-9] removed; value the bytes as UTF-8, a malformed sequence or
 *     a character a CloudEvents String cannot hold replaced by U+FFFD; a
 *     header without a value is skipped; a later header of the same name
 *     wins);
 *
 * then, on both, knativekafkapartition (Integer) and knativekafkaoffset
 * (Integer, or String past 2^31-1) when m->kafka_ext, and last the
 * ceOverrides extensions (they win).
 *
 * 'info' (may be NULL) says which way it went. Returns 0; SL_ETOOBIG when
 * the event would pass the size limit; SL_EINVAL with 'd' when an event
 * cannot be made (an override that breaks it). '*out' is NULL on failure.
 */
int sl_ksrc_map_record(const struct sl_ksrc_map *m,
                       const struct sl_kafka_origin *o,
                       const struct sl_kafka_record *rec, struct sl_event **out,
                       struct sl_ksrc_info *info, struct sl_diag *d);

/* ---- the spec ---- */

/* A KafkaSource as the runtime reads it. Owned. */
struct sl_ksrc_spec {
    char *ns, *name;
    char *bootstrap; /* spec.bootstrapServers joined with "," */
    char **topics;   /* spec.topics */
    size_t ntopics;
    char *group;       /* spec.consumerGroup, or the default from the uid */
    int32_t consumers; /* spec.consumers, >= 1 */
    bool earliest;     /* spec.initialOffset earliest */
    bool ordered;      /* spec.ordering ordered (the default) */
    enum sl_ksrc_key_type key_type;
    struct sl_ksrc_ext *ext; /* spec.ceOverrides.extensions */
    size_t next;
    /* Extension names left out because they would overwrite a core
     * attribute, comma-separated; NULL when none. For a warning. */
    char *ignored;
    /* spec.delivery (a reference of its own), or NULL. */
    struct json_object *delivery;
};

/*
 * Read a KafkaSource ('obj', a whole admitted object, borrowed) into
 * 'out'. Returns 0, or SL_EINVAL with 'd' naming the field (no namespace
 * or name, no topics or bootstrap servers, no consumer group and no uid,
 * a bad key-type label, an invalid extension); 'out' is then empty
 * (sl_ksrc_spec_fini is still allowed).
 */
int sl_ksrc_spec_parse(const struct json_object *obj, struct sl_ksrc_spec *out,
                       struct sl_diag *d);

/* Free what 'spec' owns and zero it. */
void sl_ksrc_spec_fini(struct sl_ksrc_spec *spec);

/*
 * The mapping of 'spec' (borrowing its strings): key type, overrides,
 * kafka_ext on, default decoder limits.
 */
void sl_ksrc_spec_map(const struct sl_ksrc_spec *spec, struct sl_ksrc_map *out);

/* ---- spec.net -> librdkafka properties ---- */

/*
 * Read key 'key' of Secret 'name' in the source's namespace. Returns 0
 * with the decoded value in '*out' (a heap string, sl_free; NUL-free),
 * SL_ENOENT with 'why' saying what is missing ("secret default/x not
 * found", "key 'user' not found in secret default/x"), or another SL_E*
 * (SL_EAGAIN: try later) with 'why'.
 */
typedef int sl_ksrc_secret_fn(void *arg, const char *name, const char *key,
                              char **out, struct sl_diag *why);

/*
 * The librdkafka properties of KafkaSource 'obj' (borrowed): a new JSON
 * object of strings with "bootstrap.servers" and what spec.net asks for,
 * each value of a {secretKeyRef: {name, key}} read through 'secret':
 *
 *   sasl.enable and tls.enable  security.protocol SASL_SSL
 *   sasl.enable only            security.protocol SASL_PLAINTEXT
 *   tls.enable only             security.protocol SSL
 *   sasl.type                   sasl.mechanism PLAIN (also when absent),
 *                               SCRAM-SHA-256 or SCRAM-SHA-512
 *   sasl.user, sasl.password    sasl.username, sasl.password (required
 *                               when SASL is on)
 *   tls.caCert, tls.cert, tls.key  ssl.ca.pem, ssl.certificate.pem,
 *                               ssl.key.pem (each optional; cert and key
 *                               go together)
 *
 * References under a disabled section are not read. A reference with
 * optional: true whose Secret or key is missing counts as absent.
 * Returns 0 with '*out', or with '*out' NULL: the lookup's code with 'd'
 * naming the field ("spec.net.sasl.user.secretKeyRef") and its reason
 * (SL_ENOENT for a missing Secret or key), or SL_EINVAL with 'd' (a
 * mechanism sluice does not support, a reference without name or key,
 * cert without key).
 */
int sl_ksrc_props(const struct json_object *obj, sl_ksrc_secret_fn *secret,
                  void *arg, struct json_object **out, struct sl_diag *d);

#endif
