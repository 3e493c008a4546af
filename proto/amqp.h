/*
 * proto/amqp.h - CloudEvents over AMQP message properties, both ways, as
 * pure functions over a neutral message view (no librabbitmq here).
 *
 * The view is what both AMQP dialects share: a content type (the AMQP 1.0
 * 'content-type' / AMQP 0-9-1 'content_type' property), a list of typed
 * properties (AMQP 1.0 application-properties / 0-9-1 message headers) and
 * a body. The RabbitMQ adapter converts field tables to and from it.
 *
 * Decoding accepts every form seen in the wild (cloudevents.md §5, §9.2):
 * property names are case-insensitive and lower-cased, then one prefix
 * "cloudevents_", "cloudevents:" or "ce-" is stripped; a name without one
 * is a bare attribute name, as Knative's RabbitMQ broker writes them.
 * Ignored: names starting "x-" (RabbitMQ's own), bare 'traceparent' and
 * 'tracestate' (tracing context, as Knative does) and bare names that are
 * not legal attribute names (other headers on the message). A prefixed
 * name that is not a legal attribute name is an error. An attribute given
 * twice (say 'id' and 'cloudEvents:id') is an error.
 *
 * Values may be native or canonical strings. For an extension, a native
 * type keeps its CloudEvents type: bool -> Boolean, long -> Integer (when
 * it fits 32 bits; otherwise its decimal String), timestamp -> Timestamp,
 * binary -> Binary. A core attribute takes its own type from the canonical
 * string of whatever was sent (a timestamp 'time' is fine; binary is read
 * as text). A string is a String: types do not survive as strings.
 *
 * datacontenttype comes from the content type; when that is unset or
 * empty, from a bare 'content-type' property (Knative writes both, and an
 * empty one when there is no datacontenttype). A 'datacontenttype'
 * property is rejected, as 'ce-datacontenttype' is in HTTP. A content type
 * starting case-insensitively with "application/cloudevents" means
 * structured mode (only +json is decoded); otherwise the message is in
 * binary mode when it has a 'specversion' property in any of the forms
 * above, and is not a CloudEvent when it has none (SL_ENOENT: a
 * RabbitmqSource wraps such messages into new events). A bare
 * 'specversion' with an unknown value is also SL_ENOENT, as Knative reads
 * it; a prefixed one is SL_EINVAL. The body is the data; AMQP 0-9-1
 * cannot tell an empty body from none, so an empty body means no data.
 *
 * Encoding: binary mode writes the content type from datacontenttype, one
 * property per other attribute (specversion first, then by name) named by
 * the chosen prefix, and the data as the body (empty without data). With
 * bare names a 'content-type' string property repeats datacontenttype,
 * since Knative's receiver reads it from there. Native types: Boolean ->
 * bool, Integer -> long, Binary -> binary, Timestamp -> timestamp when the
 * value is exactly representable in milliseconds with a 'Z' offset (the
 * canonical string otherwise, so nothing is lost), every other type ->
 * string. Structured mode writes content type
 * "application/cloudevents+json; charset=utf-8" and the JSON format as
 * the body, with no properties.
 *
 * Note for AMQP 0-9-1 adapters: a field-table timestamp counts seconds,
 * this view counts milliseconds; send a timestamp natively only when it
 * is a whole second, a string otherwise. Knative's RabbitMQ receiver
 * prints property values with Go's fmt.Sprint, which garbles native
 * timestamps and binaries; the 'strings' option suits such peers.
 *
 * Thread-safety: all functions are pure; any thread may call them on data
 * it owns.
 */
#ifndef SL_PROTO_AMQP_H
#define SL_PROTO_AMQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/event.h"

struct sl_diag;

/* Property value types: the AMQP types CloudEvents maps to. */
enum sl_amqp_type {
    SL_AMQP_STRING = 0, /* 'str'/'len': UTF-8 text (no NUL needed) */
    SL_AMQP_BOOL,       /* 'boolean' */
    SL_AMQP_LONG,       /* 'num': signed 64-bit */
    SL_AMQP_BINARY,     /* 'str'/'len': bytes */
    SL_AMQP_TIMESTAMP,  /* 'num': milliseconds since the Unix epoch, UTC */
};

/* One application property (AMQP 0-9-1: one header table entry). */
struct sl_amqp_prop {
    const char *name; /* NUL-terminated */
    enum sl_amqp_type type;
    const void *str; /* SL_AMQP_STRING, SL_AMQP_BINARY */
    size_t len;
    bool boolean; /* SL_AMQP_BOOL */
    int64_t num;  /* SL_AMQP_LONG, SL_AMQP_TIMESTAMP */
};

/*
 * A message as the binding sees it. In a decoder's input every pointer is
 * borrowed for the call; in a struct sl_amqp_out they point into storage
 * owned by that struct.
 */
struct sl_amqp_message {
    const char *content_type; /* NULL when the property is unset */
    const struct sl_amqp_prop *props;
    size_t nprops;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
};

/* Property name prefixes for encoding. */
enum sl_amqp_prefix {
    SL_AMQP_PREFIX_NONE = 0,   /* bare names, as Knative RabbitMQ (default) */
    SL_AMQP_PREFIX_UNDERSCORE, /* "cloudEvents_" (spec, JMS-selector safe) */
    SL_AMQP_PREFIX_COLON,      /* "cloudEvents:" (AMQP 1.0 binding, sdk-go) */
};

/* Encoder choices; a NULL pointer means binary mode, bare, native types. */
struct sl_amqp_encode_opts {
    bool structured;            /* structured mode (JSON) instead of binary */
    enum sl_amqp_prefix prefix; /* binary mode property names */
    bool strings;               /* every value as its canonical string */
};

/*
 * An encoded message: 'msg' is ready for a publisher and for
 * sl_ce_amqp_decode. Everything 'msg' points to is owned by this struct
 * and stays valid until sl_amqp_out_fini or the next encode into it.
 * String and binary values are followed by a NUL byte (not counted).
 */
struct sl_amqp_out {
    struct sl_amqp_message msg;
    /* private storage behind 'msg' */
    struct sl_amqp_prop *props_;
    char *store_;
    char *ct_;
    void *body_;
};

/* Set up an empty message (no content type, properties or body). */
void sl_amqp_out_init(struct sl_amqp_out *out);
/* Free everything; 'out' may be initialised again. NULL is a no-op. */
void sl_amqp_out_fini(struct sl_amqp_out *out);

/* How sl_ce_amqp_decode found the event encoded. */
enum sl_amqp_mode {
    SL_AMQP_BINARY_MODE = 0,
    SL_AMQP_STRUCTURED_MODE,
};

/*
 * Decode 'msg' into a validated event with one reference in '*out' (NULL
 * on failure). '*pmode' (may be NULL) receives the mode detected when the
 * message is a CloudEvent. 'opts' may be NULL for defaults.
 *
 * Returns 0; SL_ENOENT when the message is not a CloudEvent (see above:
 * the caller may wrap it); SL_EINVAL with 'diag' naming the property at
 * fault (its name as received, or "content-type") or, for a structured
 * message, the JSON member; SL_ETOOBIG when the event exceeds
 * sl_ce_max_size(opts); SL_ENOTSUP for a structured format other than
 * JSON.
 */
int sl_ce_amqp_decode(const struct sl_amqp_message *msg,
                      const struct sl_ce_opts *opts, struct sl_event **out,
                      enum sl_amqp_mode *pmode, struct sl_diag *diag);

/*
 * Encode the validated event 'ev' into 'out' (initialised by the caller;
 * previous contents are replaced). 'opts' may be NULL for the defaults.
 * Returns 0; the event is not modified.
 */
int sl_ce_amqp_encode(const struct sl_event *ev,
                      const struct sl_amqp_encode_opts *opts,
                      struct sl_amqp_out *out);

#endif
