/*
 * proto/http.h - the CloudEvents HTTP protocol binding (v1.0.2, and v0.3
 * events), both ways, as pure functions over headers and a body.
 *
 * Mode detection on receive: Content-Type starting (case-insensitively)
 * with "application/cloudevents-batch" is batched, with
 * "application/cloudevents" structured (only +json is decoded; other
 * formats are SL_ENOTSUP), anything else binary. Binary mode takes
 * attributes from ce-* headers (names case-insensitive, lower-cased;
 * values unquoted and percent-decoded, see core/pct.h) and
 * datacontenttype from Content-Type; a ce-datacontenttype header is
 * rejected. Header values are always strings on the wire, so binary-mode
 * extensions arrive as SL_CE_STRING. An empty binary-mode body means the
 * event has no data; an empty Content-Type counts as absent. A ce- header
 * that repeats is accepted only when all copies decode to the same value.
 * Errors name the header ("ce-id") or the JSON position ("[2].id").
 *
 * Encoding: binary mode writes ce-<name> headers with strictly
 * percent-encoded values and Content-Type from datacontenttype (none when
 * unset); an event whose datacontenttype is itself application/cloudevents...
 * is written in structured mode instead, since binary mode would make the
 * receiver misread it. Structured mode writes Content-Type
 * "application/cloudevents+json; charset=UTF-8" and the JSON format.
 */
#ifndef SL_PROTO_HTTP_H
#define SL_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "proto/event.h"

struct sl_diag;

enum sl_ce_mode {
    SL_CE_BINARY_MODE = 0,
    SL_CE_STRUCTURED_MODE,
    SL_CE_BATCH_MODE,
};

/* One header as received: borrowed strings, name in any case. */
struct sl_http_header {
    const char *name;
    const char *value;
};

/* An incoming message: borrowed headers and body. */
struct sl_http_msg {
    const struct sl_http_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
};

/* Headers produced by the encoder: owned strings. */
struct sl_http_headers {
    struct {
        char *name;
        char *value;
    } * v;
    size_t n;
    size_t cap;
};

void sl_http_headers_init(struct sl_http_headers *h);
void sl_http_headers_fini(struct sl_http_headers *h);
/* Append a copy of name/value. */
void sl_http_headers_add(struct sl_http_headers *h, const char *name,
                         const char *value);
/*
 * Take one raw response header line (as libcurl hands them over, CRLF
 * included or not): a status line ("HTTP/...") starts a new response and
 * empties 'h' (so an interim 1xx response's headers are forgotten); a
 * "name: value" line is appended with the value's surrounding blanks
 * removed; anything else (the blank line) is ignored.
 */
void sl_http_headers_add_line(struct sl_http_headers *h, const char *line,
                              size_t len);
/* First value of 'name' (case-insensitive), or NULL. */
const char *sl_http_headers_get(const struct sl_http_headers *h,
                                const char *name);

/* Which mode a message with this Content-Type (may be NULL) is in. */
enum sl_ce_mode sl_ce_http_mode(const char *content_type);

/*
 * Decode 'msg' into 'out' (initialised by the caller; one event for
 * binary and structured mode, zero or more for batched mode, appended
 * all-or-nothing). '*pmode' (may be NULL) receives the mode detected.
 * Returns 0; SL_EINVAL with 'diag' naming the attribute or header at
 * fault (400 material); SL_ETOOBIG when an event or the body exceeds
 * opts->max_event_size (413); SL_ENOTSUP for a structured format other
 * than JSON (415). 'opts' may be NULL for defaults.
 */
int sl_ce_http_decode(const struct sl_http_msg *msg,
                      const struct sl_ce_opts *opts, struct sl_event_list *out,
                      enum sl_ce_mode *pmode, struct sl_diag *diag);

/*
 * Encode 'ev' in binary or structured mode: headers are appended to
 * 'hdrs' and the body to 'body'. Returns 0 or SL_ETOOBIG (body limit).
 * SL_CE_BATCH_MODE is SL_EINVAL here; use sl_ce_http_encode_batch.
 */
int sl_ce_http_encode(const struct sl_event *ev, enum sl_ce_mode mode,
                      struct sl_http_headers *hdrs, struct sl_buf *body);

/* Encode events as one batched-mode message. */
int sl_ce_http_encode_batch(struct sl_event *const *evs, size_t n,
                            struct sl_http_headers *hdrs, struct sl_buf *body);

/* ---- pass-through headers ---- */

/*
 * True when 'name' is on Knative's pass-through allow-list (reference
 * 1.6, EV pkg/utils/headers.go): "x-request-id", "retry-after", and names
 * starting "knative-" or "x-b3-", compared without regard to case. Such
 * headers of a request (or of a subscriber's response) travel to the next
 * hop.
 */
bool sl_ce_http_header_passes(const char *name);

/*
 * True for the W3C trace-context headers "traceparent" and "tracestate"
 * (any case). Knative carries them hop to hop through OpenTelemetry
 * propagation rather than its allow-list (reference 1.6); sluice records
 * no spans, so it carries them unchanged, as a hop whose tracer does not
 * record does (docs/delivery.md).
 */
bool sl_ce_http_header_is_trace(const char *name);

/*
 * Copy onto 'ev', in order, the headers of h[0..n) that pass
 * (sl_ce_http_header_passes, or sl_ce_http_header_is_trace when 'trace').
 * A header that breaks a rule of sl_event_header_add, or would pass its
 * limits, is left out. Returns how many passing headers were left out.
 */
size_t sl_ce_http_keep_headers(struct sl_event *ev,
                               const struct sl_http_header *h, size_t n,
                               bool trace);

#endif
