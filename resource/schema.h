/*
 * resource/schema.h - table-driven strict schemas for resource fields, the
 * field-path builder every validator uses, and small json-c accessors.
 *
 * A schema is a table of struct sl_res_field ended by an entry whose name
 * is NULL. sl_res_schema_check() walks a json-c object against it the way
 * kubectl's strict validation and Go's strict JSON decoding do together:
 *
 *   - a member the table does not name is an error: unknown field
 *     "spec.filtre" (the path is also in sl_diag.field);
 *   - a member of the wrong JSON type names its path and the expected
 *     type: "expected string, got integer" at "spec.broker";
 *   - a member whose value is JSON null counts as absent (Go decodes it to
 *     a nil pointer and drops it again on output) and is removed from the
 *     object, so "filter:" with nothing after it in YAML means no filter;
 *   - array elements are named "spec.filters[2].exact", map entries
 *     "spec.filter.attributes[type]" (Knative's bracket style);
 *   - then the simple per-field checks run: required, non-empty, enum
 *     values, integer bounds, and a check function for strings (ISO-8601
 *     duration, URL, DNS names ...).
 *
 * The first failure wins: Knative's webhook collects every error, sluice
 * reports one (the first in document order), with its exact field path.
 * Nothing here allocates except json-c's own bookkeeping when a null
 * member is removed.
 */
#ifndef SL_RESOURCE_SCHEMA_H
#define SL_RESOURCE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/err.h"

/* The JSON shape a field must have. */
enum sl_res_type {
    SL_RES_STRING = 1,    /* JSON string */
    SL_RES_INT32,         /* JSON integer within int32 */
    SL_RES_INT64,         /* JSON integer */
    SL_RES_NUMBER,        /* JSON integer or decimal */
    SL_RES_BOOL,          /* JSON true/false */
    SL_RES_INT_OR_STRING, /* Kubernetes IntOrString: integer or string */
    SL_RES_OBJECT,        /* object whose members are listed in .fields */
    SL_RES_ARRAY,         /* array of .elem */
    SL_RES_STRING_MAP,    /* object string -> string (labels, data) */
    SL_RES_MAP,           /* object string -> .elem */
    SL_RES_ANY,           /* any JSON value, not looked into */
};

/* Flags of struct sl_res_field. */
enum {
    SL_RES_REQUIRED = 1 << 0, /* absent or null: "missing field(s)" */
    SL_RES_NONEMPTY = 1 << 1, /* "", [] or {} is "must not be empty" */
    SL_RES_RANGE = 1 << 2,    /* integers: .min <= v <= .max */
};

/*
 * A check on a string value (or a map key). Returns 0, or SL_EINVAL with
 * a message in 'd' (the field path is filled in by the caller).
 */
typedef int sl_res_check_fn(const char *s, struct sl_diag *d);

struct sl_res_field {
    const char *name;      /* JSON member name; NULL ends a table */
    enum sl_res_type type; /* expected shape */
    unsigned flags;        /* SL_RES_REQUIRED | SL_RES_NONEMPTY | ... */
    /* SL_RES_OBJECT: the members, a NULL-terminated table. */
    const struct sl_res_field *fields;
    /* SL_RES_ARRAY and SL_RES_MAP: the element's descriptor (its name is
     * not used). Tables may refer to themselves (filters nest). */
    const struct sl_res_field *elem;
    /* Strings: allowed values, NULL-terminated; NULL = any. */
    const char *const *enums;
    /* Strings (and the string form of SL_RES_INT_OR_STRING): extra check. */
    sl_res_check_fn *check;
    /* SL_RES_STRING_MAP and SL_RES_MAP: check on every key. */
    sl_res_check_fn *key_check;
    int64_t min, max; /* with SL_RES_RANGE */
};

/* ---- field paths ---- */

/*
 * A field path being built on the way down ("spec", "spec.filters[2]",
 * "spec.filter.attributes[type]"). Push returns the previous length, pop
 * restores it. A path longer than the buffer is cut, never overflowed.
 */
struct sl_res_path {
    char buf[SL_DIAG_FIELD_MAX];
    size_t len;
};

/* Start a path at 'root' (may be NULL or "" for the top level). */
void sl_res_path_init(struct sl_res_path *p, const char *root);
/* Append ".name" (or "name" at the top). Returns the previous length. */
size_t sl_res_path_field(struct sl_res_path *p, const char *name);
/* Append "[i]". Returns the previous length. */
size_t sl_res_path_index(struct sl_res_path *p, size_t i);
/* Append "[key]". Returns the previous length. */
size_t sl_res_path_key(struct sl_res_path *p, const char *key);
/* Go back to a length returned by a push. */
void sl_res_path_pop(struct sl_res_path *p, size_t len);

/*
 * Record a failure at the path 'p' (NULL: no field) in 'd' and return
 * SL_EINVAL. The message is printf-formatted.
 */
int sl_res_fail(struct sl_diag *d, const struct sl_res_path *p, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

/*
 * As sl_res_fail, with 'sub' appended to the path as a field ("spec" +
 * "broker" gives "spec.broker"), or as-is when it starts with '['.
 */
int sl_res_fail_at(struct sl_diag *d, const struct sl_res_path *p,
                   const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- the walker ---- */

/*
 * Check the object 'obj' against the member table 'fields' (see the top of
 * this file), removing null members. 'path' names 'obj' ("spec") and is
 * restored before returning. Returns 0 or SL_EINVAL with the path and
 * message in 'd'.
 */
int sl_res_schema_check(struct json_object *obj,
                        const struct sl_res_field *fields,
                        struct sl_res_path *path, struct sl_diag *d);

/*
 * Check one value 'v' (not NULL) against the descriptor 'f' (its name is
 * not used); 'path' names 'v'. Same results as sl_res_schema_check.
 */
int sl_res_schema_check_value(struct json_object *v,
                              const struct sl_res_field *f,
                              struct sl_res_path *path, struct sl_diag *d);

/* Find the entry named 'name' in a member table; NULL when absent. */
const struct sl_res_field *sl_res_schema_find(const struct sl_res_field *t,
                                              const char *name);

/* Lower-case name of a JSON value's type for messages ("integer"). */
const char *sl_res_json_type_name(const struct json_object *v);

/* ---- checks for .check / .key_check ---- */

/* An ISO-8601 duration core/time.h accepts ("PT0.2S"). */
int sl_res_check_duration(const char *s, struct sl_diag *d);
/* An RFC 3339 timestamp. */
int sl_res_check_rfc3339(const char *s, struct sl_diag *d);
/* Any RFC 3986 URI reference (relative allowed). */
int sl_res_check_uri_ref(const char *s, struct sl_diag *d);
/* An absolute URI: a scheme and a non-empty host (Knative's rule). */
int sl_res_check_abs_url(const char *s, struct sl_diag *d);
/* An absolute http or https URL (core/url.h sl_url_parse_http). */
int sl_res_check_http_url(const char *s, struct sl_diag *d);
/* Standard padded Base64 (line breaks are allowed and ignored). */
int sl_res_check_base64(const char *s, struct sl_diag *d);
/* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
int sl_res_check_dns1123_label(const char *s, struct sl_diag *d);
/* DNS-1123 subdomain: labels joined by '.', at most 253. */
int sl_res_check_dns1123_subdomain(const char *s, struct sl_diag *d);
/* DNS-1035 label: as DNS-1123 but starting with a letter. */
int sl_res_check_dns1035_label(const char *s, struct sl_diag *d);
/* Kubernetes qualified name ([prefix/]name): label and annotation keys. */
int sl_res_check_qualified_name(const char *s, struct sl_diag *d);
/* Kubernetes label value: empty, or at most 63 of [A-Za-z0-9_.-]
 * starting and ending alphanumeric. */
int sl_res_check_label_value(const char *s, struct sl_diag *d);
/* ConfigMap/Secret key: [-._a-zA-Z0-9]+, at most 253, not "." or "..". */
int sl_res_check_config_key(const char *s, struct sl_diag *d);

/* ---- json-c accessors (none of them allocates) ---- */

/* Member 'key' of 'obj'; NULL when 'obj' is not an object, the member is
 * absent or it is JSON null. */
struct json_object *sl_res_get(const struct json_object *obj, const char *key);
/* String member 'key' of 'obj', or NULL (absent, null or not a string). */
const char *sl_res_get_str(const struct json_object *obj, const char *key);
/* Follow a dotted path of members ("spec.delivery.retry"). */
struct json_object *sl_res_dig(const struct json_object *obj,
                               const char *dotted);
/* The string value of 'v' when it is a JSON string, else NULL. */
const char *sl_res_str(const struct json_object *v);
/* Member 'key' of 'obj' as an object, created when absent or null. The
 * result is borrowed; NULL when 'obj' is not an object or the member has
 * another type. */
struct json_object *sl_res_ensure(struct json_object *obj, const char *key);
/* Set member 'key' of 'obj' to a new string (replacing any value). */
void sl_res_set_str(struct json_object *obj, const char *key,
                    const char *value);
/* Deep equality of two values, NULL equal to NULL only. */
bool sl_res_equal(const struct json_object *a, const struct json_object *b);

#endif
