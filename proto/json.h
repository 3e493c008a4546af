/*
 * proto/json.h - the CloudEvents JSON event format (json-format.md v1.0.2)
 * and its batch form, both ways.
 *
 * Decoding: every top-level member is an attribute; null means absent;
 * Integer extensions must be integral and fit int32 (42.42 and 4247483647
 * are rejected), objects and arrays are rejected as attribute values;
 * 'data' and 'data_base64' are mutually exclusive. 'data' under a JSON
 * content type (or none) is kept as the JSON text of the value; under any
 * other type it must be a string and its UTF-8 bytes become the data.
 * 0.3 events: 'datacontentencoding: base64' means 'data' is Base64.
 *
 * Encoding: data under a JSON content type whose bytes parse as JSON is
 * embedded as a JSON value; textual data (valid UTF-8) under another type
 * becomes a JSON string; anything else goes to 'data_base64'.
 */
#ifndef SL_PROTO_JSON_H
#define SL_PROTO_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "proto/event.h"

struct sl_buf;
struct sl_diag;

/*
 * Decode one JSON-format event from s[0..n). On success '*out' holds a
 * validated event with one reference. Returns 0, SL_EINVAL (with 'diag'
 * naming the attribute or JSON position) or SL_ETOOBIG (over
 * opts->max_event_size; 'opts' may be NULL).
 */
int sl_ce_json_decode(const char *s, size_t n, const struct sl_ce_opts *opts,
                      struct sl_event **out, struct sl_diag *diag);

/* The same from an already parsed json-c object (borrowed). */
int sl_ce_json_decode_object(struct json_object *obj,
                             const struct sl_ce_opts *opts,
                             struct sl_event **out, struct sl_diag *diag);

/*
 * Decode a batch (a JSON array of events, possibly empty) into 'out'
 * (initialised by the caller; events are appended). All-or-nothing: on
 * failure nothing is appended and 'diag' names the element ("[2].id").
 * Mixed specversions are rejected. The size limit applies to each event
 * and to the whole body.
 */
int sl_ce_json_decode_batch(const char *s, size_t n,
                            const struct sl_ce_opts *opts,
                            struct sl_event_list *out, struct sl_diag *diag);

/* Append the JSON format of 'ev' to 'out'. Returns 0 or SL_ETOOBIG. */
int sl_ce_json_encode(const struct sl_event *ev, struct sl_buf *out);

/* Append a JSON array of the events. Returns 0 or SL_ETOOBIG. */
int sl_ce_json_encode_batch(struct sl_event *const *evs, size_t n,
                            struct sl_buf *out);

/* The event as a new json-c object (caller puts it). */
struct json_object *sl_ce_json_to_object(const struct sl_event *ev);

#endif
