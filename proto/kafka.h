/*
 * proto/kafka.h - the CloudEvents Kafka protocol binding (v1.0.2, and v0.3
 * events), both ways, as pure functions over a record view.
 *
 * Nothing here knows librdkafka: a consumer adapter fills a struct
 * sl_kafka_record with borrowed pointers into the rd_kafka_message_t and
 * its headers; a producer adapter hands the fields of a struct
 * sl_kafka_out to rd_kafka_producev.
 *
 * Mode detection on receive: a 'content-type' header whose value starts,
 * case-insensitively, with "application/cloudevents" means structured
 * mode (only "+json" is decoded, other formats are SL_ENOTSUP); otherwise
 * the record is in binary mode when it carries a 'ce_specversion' header,
 * and is not a CloudEvent at all when it does not (SL_ENOENT, so that a
 * KafkaSource can wrap plain records into new events).
 *
 * Binary mode: every header named "ce_" + something (prefix matched
 * case-insensitively, as sdk-java does) is an attribute whose name is the
 * rest, lower-cased; when a header repeats, the last one wins (sdk-java's
 * lastHeader). 'content-type' is datacontenttype; a 'ce_datacontenttype'
 * header is rejected, as in the HTTP binding. Header values are canonical
 * strings and must be valid UTF-8 (Kafka headers are UTF-8 by the spec, so
 * opts->strict_headers does not apply); they are never percent-decoded.
 * A header with a NULL value is skipped as if absent (JSON's null). The
 * record value is the data; a NULL value (a tombstone) means no data and a
 * zero-length value means empty data. Extensions arrive as SL_CE_STRING,
 * since headers carry no types. Header names matched neither way (such as
 * 'traceparent') are not part of the event. The record key is never turned
 * into an attribute.
 *
 * Encoding: binary mode writes 'ce_specversion' first, then one 'ce_<name>'
 * header per other attribute in name order, 'content-type' from
 * datacontenttype (none when unset), and the data as the value (NULL, a
 * tombstone, when the event has no data). Structured mode writes
 * 'content-type: application/cloudevents+json; charset=UTF-8' and the JSON
 * format as the value, no other headers. The key is left NULL unless the
 * opt-in partitionkey key mapper is on (see struct sl_kafka_encode_opts);
 * the event is never modified. A producer that has a user-provided key
 * sets it with sl_kafka_out_set_key().
 *
 * Thread-safety: all functions are pure; any thread may call them on data
 * it owns.
 */
#ifndef SL_PROTO_KAFKA_H
#define SL_PROTO_KAFKA_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/event.h"

struct sl_diag;

/* One record header: 'name' is NUL-terminated, 'value' is bytes. */
struct sl_kafka_header {
    const char *name;
    const void *value; /* NULL for a null header value */
    size_t len;        /* bytes at 'value'; 0 when NULL */
};

/*
 * A record as the binding sees it. In a decoder's input every pointer is
 * borrowed and must stay valid for the call; in a struct sl_kafka_out
 * they point into storage owned by that struct.
 */
struct sl_kafka_record {
    const struct sl_kafka_header *headers; /* in record order */
    size_t nheaders;
    const void *key; /* NULL: no key */
    size_t key_len;
    const void *value; /* NULL: no value (tombstone) */
    size_t value_len;
};

/* How sl_ce_kafka_decode found the event encoded. */
enum sl_kafka_mode {
    SL_KAFKA_BINARY = 0,
    SL_KAFKA_STRUCTURED,
};

/* Encoder choices; a NULL pointer means all false. */
struct sl_kafka_encode_opts {
    bool structured; /* structured mode (JSON) instead of binary */
    /*
     * The opt-in "key mapper" of the Kafka binding: copy the
     * 'partitionkey' extension (extensions/partitioning.md), as is, into
     * the record key. An event without one gets no key. The attribute
     * stays in the event and in the headers.
     */
    bool partitionkey_key;
};

/*
 * An encoded record: 'rec' is ready for a producer and for
 * sl_ce_kafka_decode. Everything 'rec' points to is owned by this struct
 * and stays valid until sl_kafka_out_fini or the next encode into it.
 * Header values are followed by a NUL byte (not counted in 'len'), so a
 * producer may treat them as C strings.
 */
struct sl_kafka_out {
    struct sl_kafka_record rec;
    /* private storage behind 'rec' */
    struct sl_kafka_header *hdrs_;
    char *store_;
    void *key_;
    void *value_;
};

/* Set up an empty record (no headers, NULL key and value). */
void sl_kafka_out_init(struct sl_kafka_out *out);
/* Free everything; 'out' may be initialised again. NULL is a no-op. */
void sl_kafka_out_fini(struct sl_kafka_out *out);
/*
 * Replace the record key with a copy of p[0..n) (NULL: no key), e.g. the
 * user-provided key of a KafkaSink request.
 */
void sl_kafka_out_set_key(struct sl_kafka_out *out, const void *p, size_t n);

/*
 * Decode 'rec' into a validated event with one reference in '*out' (NULL
 * on failure). '*pmode' (may be NULL) receives the mode detected when the
 * record is a CloudEvent. 'opts' may be NULL for defaults.
 *
 * Returns 0; SL_ENOENT when the record is not a CloudEvent (neither a
 * structured content-type nor a 'ce_specversion' header: the caller may
 * wrap it); SL_EINVAL with 'diag' naming the header at fault ("ce_time",
 * "content-type") or, for a structured record, the JSON member; SL_ETOOBIG
 * when the event exceeds sl_ce_max_size(opts); SL_ENOTSUP for a structured
 * format other than JSON.
 */
int sl_ce_kafka_decode(const struct sl_kafka_record *rec,
                       const struct sl_ce_opts *opts, struct sl_event **out,
                       enum sl_kafka_mode *pmode, struct sl_diag *diag);

/*
 * Encode the validated event 'ev' into 'out' (initialised by the caller;
 * its previous contents are replaced, and a key set before is dropped).
 * 'opts' may be NULL (binary mode, no key). Returns 0; the event is not
 * modified.
 */
int sl_ce_kafka_encode(const struct sl_event *ev,
                       const struct sl_kafka_encode_opts *opts,
                       struct sl_kafka_out *out);

#endif
