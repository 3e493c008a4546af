/*
 * proto/event.h - the CloudEvent model: attributes, typed extensions, data.
 *
 * An event is built mutable (sl_event_new, sl_event_set*, sl_event_set_data),
 * checked with sl_event_validate, then published: from then on it is
 * immutable and shared by reference count (sl_event_ref/_unref, atomic,
 * so references may be handed across threads).
 *
 * Every attribute is held as its canonical string (CloudEvents core
 * "Type System") plus its type, so binary-mode bindings use the string as
 * is and the JSON format can still write Integer and Boolean extensions as
 * JSON numbers and booleans. Attributes are kept sorted by name.
 *
 * Spec versions 1.0 and 0.3 are both modelled; a 0.3 event keeps its 0.3
 * attribute names (schemaurl). data is opaque bytes typed by
 * datacontenttype; "has data" is distinct from "zero-length data".
 *
 * Besides the CloudEvent itself an event may carry "transport headers":
 * HTTP headers of the request that brought it in which Knative passes on
 * to the next hop (its pass-through allow-list, proto/http.h). They are
 * not attributes: no binding writes them as ce- headers or JSON members
 * and sl_event_size() does not count them; the broker log stores them
 * beside the event (docs/broker.md) and the delivery sends them to the
 * subscriber as plain headers (docs/delivery.md). They are bounded
 * (SL_EVENT_MAX_HEADERS, SL_EVENT_MAX_HEADER_BYTES) and, like the
 * attributes, immutable once the event is published.
 */
#ifndef SL_PROTO_EVENT_H
#define SL_PROTO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_buf;
struct sl_diag;

/* The CloudEvents type system (spec "Type System"). */
enum sl_ce_type {
    SL_CE_STRING = 0,
    SL_CE_BOOL,
    SL_CE_INT,    /* signed 32-bit */
    SL_CE_BINARY, /* canonical form is Base64 */
    SL_CE_URI,    /* absolute URI */
    SL_CE_URIREF, /* URI-reference */
    SL_CE_TIME,   /* RFC 3339 */
};

enum sl_ce_version {
    SL_CE_V10 = 0, /* "1.0" */
    SL_CE_V03 = 1, /* "0.3" */
};

struct sl_ce_attr {
    char *name;           /* lower-case [a-z0-9]+ */
    char *value;          /* canonical string form, NUL-terminated */
    size_t len;           /* strlen(value) */
    enum sl_ce_type type; /* SL_CE_STRING for untyped (binary-mode) values */
};

/* One transport header: owned strings, name as received (any case). */
struct sl_event_header {
    char *name;  /* an HTTP token */
    char *value; /* no control characters but HTAB */
};

struct sl_event {
    int refs;
    enum sl_ce_version version;
    struct sl_ce_attr *attrs; /* sorted by name, specversion included */
    size_t nattrs;
    size_t cap;
    unsigned char *data; /* NULL when has_data is false */
    size_t data_len;
    bool has_data;
    struct sl_event_header *hdrs; /* transport headers, in arrival order */
    size_t nhdrs;
};

/* Limits and switches shared by every binding's decoder. */
struct sl_ce_opts {
    size_t max_event_size; /* bytes of attributes + data; 0 = 1 MiB */
    bool strict_headers;   /* reject raw non-ASCII header bytes (default:
                              accept valid UTF-8, as Go/Java SDKs send) */
};

#define SL_CE_DEFAULT_MAX_EVENT_SIZE (1024 * 1024)

/* Effective maximum event size for 'opts' (NULL means defaults). */
size_t sl_ce_max_size(const struct sl_ce_opts *opts);

/* A new, empty, mutable event of the given version with one reference. */
struct sl_event *sl_event_new(enum sl_ce_version version);

/* Take another reference. Returns 'ev'. */
struct sl_event *sl_event_ref(struct sl_event *ev);
/* Drop a reference; the last one frees the event. NULL is a no-op. */
void sl_event_unref(struct sl_event *ev);

/* A deep, mutable copy with one reference (to derive a new event). */
struct sl_event *sl_event_clone(const struct sl_event *ev);

/*
 * Set attribute 'name' (must follow the naming rules of the event's
 * version) to the canonical string s[0..n) of type 'type', replacing any
 * previous value. The value is checked against its type and against the
 * rules of the named core attribute (an extension set with a core name
 * takes the core type: 'time' becomes SL_CE_TIME whatever 'type' says).
 * "specversion" cannot be set this way (it follows the version).
 * Returns 0, or SL_EINVAL with 'diag' naming the attribute.
 */
int sl_event_set(struct sl_event *ev, const char *name, enum sl_ce_type type,
                 const char *s, size_t n, struct sl_diag *diag);

/* Convenience: set a string attribute from a C string. */
int sl_event_set_str(struct sl_event *ev, const char *name, const char *s,
                     struct sl_diag *diag);
int sl_event_set_int(struct sl_event *ev, const char *name, int32_t v,
                     struct sl_diag *diag);
int sl_event_set_bool(struct sl_event *ev, const char *name, bool v,
                      struct sl_diag *diag);

/* Remove attribute 'name'. Returns 0 or SL_ENOENT. */
int sl_event_del(struct sl_event *ev, const char *name);

/* Copy p[0..n) in as the event's data (has_data becomes true). */
void sl_event_set_data(struct sl_event *ev, const void *p, size_t n);
/* Take ownership of heap bytes 'p' (from sl_xmalloc) as the data. */
void sl_event_take_data(struct sl_event *ev, void *p, size_t n);
void sl_event_clear_data(struct sl_event *ev);

/* The attribute named 'name', or NULL. */
const struct sl_ce_attr *sl_event_get(const struct sl_event *ev,
                                      const char *name);
/* Its value, or NULL. */
const char *sl_event_value(const struct sl_event *ev, const char *name);

/* Shorthands for required attributes (never NULL once validated). */
#define sl_event_id(ev)     sl_event_value((ev), "id")
#define sl_event_source(ev) sl_event_value((ev), "source")
#define sl_event_type(ev)   sl_event_value((ev), "type")

/*
 * Check the whole event: required attributes present and non-empty for
 * its version, every value valid for its type. Returns 0 or SL_EINVAL
 * with 'diag' naming the attribute ("missing required attribute 'id'").
 */
int sl_event_validate(const struct sl_event *ev, struct sl_diag *diag);

/* Approximate wire size: attribute names + values + data bytes. */
size_t sl_event_size(const struct sl_event *ev);

/* ---- transport headers (proto/event_headers.c) ---- */

/* At most this many transport headers per event ... */
#define SL_EVENT_MAX_HEADERS      16
/* ... whose names and values together take at most this many bytes. */
#define SL_EVENT_MAX_HEADER_BYTES 8192

/*
 * Append a copy of header name: value to 'ev' (a header may repeat, as in
 * HTTP; order is kept). 'name' must be an HTTP token (RFC 9110 tchar), and
 * 'value' free of control characters other than HTAB (bytes 0x80-0xff are
 * taken, as HTTP's obs-text). Returns 0, SL_EINVAL for a bad name or value,
 * or SL_ETOOBIG when the header would pass SL_EVENT_MAX_HEADERS or
 * SL_EVENT_MAX_HEADER_BYTES; then 'ev' is unchanged.
 */
int sl_event_header_add(struct sl_event *ev, const char *name,
                        const char *value);

/* The first value of transport header 'name' (case-insensitive), or NULL. */
const char *sl_event_header(const struct sl_event *ev, const char *name);

/* Remove every transport header. */
void sl_event_headers_clear(struct sl_event *ev);

/*
 * Append the transport headers of 'ev' to 'out' in their stored form: one
 * "name:value\n" line per header, in order (names hold no ':' and values
 * no newline, so the form needs no escaping; it is also what a person
 * reading the database sees). Nothing is appended when there are none.
 * Returns 0 or SL_ETOOBIG ('out' is full).
 */
int sl_event_headers_encode(const struct sl_event *ev, struct sl_buf *out);

/*
 * Replace the transport headers of 'ev' with those of the stored form
 * p[0..n) (see sl_event_headers_encode; n == 0 means none). Returns 0, or
 * SL_EINVAL when it is malformed or breaks a rule of sl_event_header_add;
 * then 'ev' keeps no transport header.
 */
int sl_event_headers_decode(struct sl_event *ev, const char *p, size_t n);

/* ---- lists of events (batches) ---- */

/* A growable array of event references; the list owns one per entry. */
struct sl_event_list {
    struct sl_event **v;
    size_t n;
    size_t cap;
};

void sl_event_list_init(struct sl_event_list *l);
/* Append 'ev', taking over the caller's reference. */
void sl_event_list_push(struct sl_event_list *l, struct sl_event *ev);
/* Drop every reference and free the array. */
void sl_event_list_fini(struct sl_event_list *l);

/* ---- attribute rules, shared by the bindings ---- */

/* "1.0" / "0.3" -> version. Returns 0 or SL_EINVAL. */
int sl_ce_version_parse(const char *s, size_t n, enum sl_ce_version *out);
const char *sl_ce_version_str(enum sl_ce_version v);

/*
 * True when 'name' is a legal attribute name for version 'v': [a-z0-9]+
 * (0.3: starting with a letter). "data" is reserved in both.
 */
bool sl_ce_name_valid(const char *name, enum sl_ce_version v);

/* The type a core attribute has in version 'v', or -1 for extensions. */
int sl_ce_core_type(const char *name, enum sl_ce_version v);

/*
 * Check canonical string s[0..n) against 'type' (and, for a core 'name',
 * its extra rules). Returns 0 or SL_EINVAL with a message in 'diag'
 * whose field is 'name'.
 */
int sl_ce_check_value(const char *name, enum sl_ce_type type, const char *s,
                      size_t n, struct sl_diag *diag);

/* "string", "boolean", "integer", ... for messages. */
const char *sl_ce_type_name(enum sl_ce_type t);

/*
 * Is 'content_type' (may be NULL: the JSON format's default) a JSON media
 * type? True for subtype "json" and any "+json" suffix (type/json,
 * type/x+json), parameters ignored, case-insensitive.
 */
bool sl_ce_is_json_type(const char *content_type);

/*
 * Check that 's' parses as an RFC 2046 media type "type/subtype" with
 * optional ";param=value" parameters. Returns true when it does.
 */
bool sl_ce_media_type_valid(const char *s);

#endif
