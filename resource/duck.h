/*
 * resource/duck.h - Knative's shared ("duck") types: KReference,
 * Destination, DeliverySpec, SubscriptionsAPIFilter, and the addressable
 * helpers reconcilers use to turn a Destination into a URL.
 *
 * Each type comes as a schema member table (for a kind's field tables),
 * a defaulting function and a validation function. Validators take the
 * path of the value they check ("spec.subscriber") and report the first
 * problem at its exact path, with Knative's wording lower-cased (see
 * docs/resource.md for the list).
 */
#ifndef SL_RESOURCE_DUCK_H
#define SL_RESOURCE_DUCK_H

#include <json-c/json.h>

#include "resource/resource.h"
#include "resource/schema.h"

/* ---- KReference {kind, namespace, name, apiVersion, group, address} ---- */

extern const struct sl_res_field sl_res_kref_fields[];

/*
 * Validate a KReference (Knative duckv1.KReference.Validate): name,
 * apiVersion and kind required ("missing field(s)"); group only with the
 * kreference-group feature ("must not set the field(s)"); when
 * 'parent_ns' is not NULL, a namespace other than it is "mismatched
 * namespaces". 'p' names the reference. Returns 0 or SL_EINVAL.
 */
int sl_res_kref_validate(const struct json_object *ref,
                         const struct sl_res_env *env, const char *parent_ns,
                         struct sl_res_path *p, struct sl_diag *d);

/* Write 'ns' into an empty or absent ref.namespace. */
void sl_res_kref_set_defaults(struct json_object *ref, const char *ns);

/* ---- Destination {ref, uri, CACerts, audience} ---- */

extern const struct sl_res_field sl_res_destination_fields[];

/*
 * Validate a Destination (reference section 2.4): at least one of ref and
 * uri ("expected at least one, got none"); uri alone must be absolute with
 * a host; uri with ref must be relative; the ref is a valid KReference;
 * CACerts must hold a PEM CERTIFICATE block. 'parent_ns' as for
 * sl_res_kref_validate. Returns 0 or SL_EINVAL.
 */
int sl_res_dest_validate(const struct json_object *dest,
                         const struct sl_res_env *env, const char *parent_ns,
                         struct sl_res_path *p, struct sl_diag *d);

/* Default ref.namespace to 'ns' (Knative Destination.SetDefaults). */
void sl_res_dest_set_defaults(struct json_object *dest, const char *ns);

/* ---- DeliverySpec ---- */

extern const struct sl_res_field sl_res_delivery_fields[];

/*
 * Validate a DeliverySpec (reference section 3.1): the dead-letter sink
 * is a Destination; retry >= 0; timeout only with the delivery-timeout
 * feature, a non-zero duration; retryAfterMax only with the
 * delivery-retryafter feature, not negative. backoffPolicy, backoffDelay
 * and format are checked by the schema table. Returns 0 or SL_EINVAL.
 */
int sl_res_delivery_validate(const struct json_object *delivery,
                             const struct sl_res_env *env,
                             struct sl_res_path *p, struct sl_diag *d);

/* Default the dead-letter sink's ref namespace to 'ns'. */
void sl_res_delivery_set_defaults(struct json_object *delivery, const char *ns);

/* ---- SubscriptionsAPIFilter {exact, prefix, suffix, all, any, not, cesql}
 * ---- */

extern const struct sl_res_field sl_res_filter_fields[];
/* Descriptor of one filter, for array fields: .elem = &sl_res_filter_elem. */
extern const struct sl_res_field sl_res_filter_elem;

/*
 * A CESQL syntax check, installed by the layer that owns the CESQL parser
 * (triggers/). NULL (the default) accepts any expression. Set it once at
 * startup, before any thread admits resources; the function itself must
 * be pure and thread-safe. Returns 0, or SL_EINVAL with the parser's
 * message in 'd'.
 */
typedef int sl_res_cesql_check_fn(const char *expr, struct sl_diag *d);
extern sl_res_cesql_check_fn *sl_res_cesql_check;

/*
 * CloudEvents attribute names as Knative filters take them: ^[a-z][a-z0-9]*$.
 * A key check for schema tables (filter.attributes, exact, prefix, suffix).
 */
int sl_res_check_attr_name(const char *s, struct sl_diag *d);

/*
 * Validate one filter (reference section 2.3): at most one dialect per
 * element ("multiple dialects found, filters can have only one dialect
 * set"), nested all/any/not recursively, cesql through sl_res_cesql_check.
 * Attribute-name syntax is the schema's job. Returns 0 or SL_EINVAL.
 */
int sl_res_filter_validate(const struct json_object *filter,
                           struct sl_res_path *p, struct sl_diag *d);

/* Validate every element of a filter array ('p' names the array). */
int sl_res_filters_validate(const struct json_object *filters,
                            struct sl_res_path *p, struct sl_diag *d);

/* ---- addressables (for reconcilers) ---- */

/* A resolved address: heap strings owned by the struct, NULL if absent. */
struct sl_res_addr {
    char *url;      /* absolute URL */
    char *ca_certs; /* PEM */
    char *audience; /* OIDC audience */
};

/* Free the strings of 'a' and clear it (no-op on NULL). */
void sl_res_addr_fini(struct sl_res_addr *a);

/*
 * Pick an address of the addressable object 'target' (reference 2.4):
 * with 'name' (a Destination's ref.address) the first of
 * status.addresses[] with that name, an error when none has it; without,
 * the first of status.addresses[], else status.address. The address must
 * have a URL with a host. Returns 0 with the borrowed address object in
 * '*paddr', or SL_ENOENT with the reason in 'd'.
 */
int sl_res_addr_pick(const struct json_object *target, const char *name,
                     const struct json_object **paddr, struct sl_diag *d);

/*
 * Resolve a Destination to an address. With a ref, 'target' is the
 * object it names (the caller looked it up): its address is picked, the
 * Destination's relative uri (if any) is resolved against it (RFC 3986)
 * and the Destination's CACerts and audience override the target's.
 * Without a ref, 'target' is ignored and the uri is the address. Returns
 * 0 with '*out' filled (sl_res_addr_fini it), or SL_ENOENT/SL_EINVAL with
 * the reason in 'd' and '*out' empty.
 */
int sl_res_dest_resolve(const struct json_object *dest,
                        const struct json_object *target,
                        struct sl_res_addr *out, struct sl_diag *d);

#endif
