/*
 * resource/resource.h - Knative and Kubernetes kinds: descriptors, the
 * registry, and admission (strict decoding, defaulting, validation) as
 * Knative's webhook does it.
 *
 * A resource is a whole json-c object: apiVersion, kind, metadata, spec
 * (or the kind's own top-level fields, e.g. ConfigMap data), status. YAML
 * is converted with core/yaml.h first. Each kind is one const struct
 * sl_res_kind in its own file, listed once in resource/registry.c;
 * docs/resource.md explains how to add one.
 *
 * Everything here is a pure function of its arguments: no logging, no
 * clock, no randomness (generateName is the store's job), and no I/O
 * except one read-only look: a PingSource's time zone must name a TZif
 * file under env->zoneinfo_dir (as Go's time.LoadLocation checks it).
 * Calls on different objects may run on any threads at once; the only
 * global is the CESQL hook of duck.h, set once at startup.
 */
#ifndef SL_RESOURCE_RESOURCE_H
#define SL_RESOURCE_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "resource/schema.h"

/*
 * What defaults and validation depend on: Knative's config-br-defaults and
 * config-features, plus the namespace given to objects without one.
 * sl_res_env_init() fills in Knative's shipped values; strings are
 * borrowed and must outlive every call that uses the env.
 */
struct sl_res_env {
    /* Namespace written into namespaced objects that have none ("default");
     * NULL makes metadata.namespace required. */
    const char *default_namespace;
    /* Broker class written when the annotation is absent or empty
     * ("MTChannelBasedBroker"); NULL writes none (validation then fails). */
    const char *broker_class;
    /* spec.delivery written into a Broker that has none. A member < 0 or
     * NULL is left out; when all are, no delivery is written. */
    int32_t broker_retry;               /* 10 */
    const char *broker_backoff_policy;  /* "exponential" */
    const char *broker_backoff_delay;   /* "PT0.2S" */
    const char *broker_dead_letter_uri; /* NULL */
    /* Feature flags (config-features). */
    bool delivery_timeout;            /* delivery-timeout: enabled */
    bool delivery_retryafter;         /* delivery-retryafter: disabled */
    bool cross_namespace_event_links; /* cross-namespace-event-links: off */
    bool kreference_group;            /* kreference-group: disabled */
    /* ApiServerSource spec.filters (new-apiserversource-filters). */
    bool new_apiserversource_filters; /* disabled */
    /* Where IANA time zones are looked up for PingSource spec.timezone
     * ("/usr/share/zoneinfo"); NULL checks the name's syntax only. */
    const char *zoneinfo_dir;
};

/* Fill 'env' with Knative's shipped defaults (see the members). */
void sl_res_env_init(struct sl_res_env *env);

/*
 * Write the kind's defaults into 'obj' (already schema-checked, metadata
 * namespace set), as Knative's SetDefaults does. Returns 0 or a negative
 * SL_E* with 'd' filled.
 */
typedef int sl_res_defaults_fn(struct json_object *obj,
                               const struct sl_res_env *env, struct sl_diag *d);

/*
 * Validate the defaulted 'obj'. Must not modify it. Returns 0 or SL_EINVAL
 * with the field path and message in 'd'.
 */
typedef int sl_res_validate_fn(const struct json_object *obj,
                               const struct sl_res_env *env, struct sl_diag *d);

/*
 * On update: check that 'obj' (defaulted and valid) changes nothing
 * immutable relative to the stored 'old'. Returns 0 or SL_EINVAL.
 */
typedef int sl_res_validate_update_fn(const struct json_object *old,
                                      const struct json_object *obj,
                                      const struct sl_res_env *env,
                                      struct sl_diag *d);

struct sl_res_kind {
    const char *group;    /* "eventing.knative.dev"; "" for the core group */
    const char *version;  /* "v1" */
    const char *kind;     /* "Broker" */
    const char *plural;   /* "brokers": REST paths, CLI */
    const char *singular; /* "broker" */
    const char *const *short_names; /* NULL-terminated; NULL for none */
    bool namespaced;                /* false: cluster-scoped */
    /* Top-level members besides apiVersion, kind, metadata and status
     * (which every kind has): usually just "spec". */
    const struct sl_res_field *fields;
    /* Syntax of metadata.name; NULL means DNS-1123 subdomain. */
    sl_res_check_fn *name_check;
    /* Each may be NULL. */
    sl_res_defaults_fn *set_defaults;
    sl_res_validate_fn *validate;
    sl_res_validate_update_fn *validate_update;
};

/* ---- registry ---- */

/* Number of registered kinds; sl_res_kind_at(i) for i below it. */
size_t sl_res_kind_count(void);
/* The i-th kind in registry order (API discovery); NULL past the end. */
const struct sl_res_kind *sl_res_kind_at(size_t i);

/* The kind for an apiVersion ("eventing.knative.dev/v1", "v1") and kind
 * ("Broker"), compared exactly; NULL when unknown. */
const struct sl_res_kind *sl_res_kind_find(const char *api_version,
                                           const char *kind);

/* The kind served at a REST path: group ("" for /api/v1), version and
 * plural; NULL when unknown. */
const struct sl_res_kind *sl_res_kind_by_resource(const char *group,
                                                  const char *version,
                                                  const char *plural);

/*
 * The kind a CLI name means (kubectl rules): the plural, the singular, a
 * short name or the Kind, case-insensitively, optionally followed by
 * ".group" or ".version.group" ("brokers.eventing.knative.dev",
 * "Broker.v1.eventing.knative.dev"). When several kinds match, the first
 * in registry order wins. NULL when none does.
 */
const struct sl_res_kind *sl_res_kind_by_name(const char *name);

/* True when 'api_version' names the kind's group and version. */
bool sl_res_kind_has_api_version(const struct sl_res_kind *k,
                                 const char *api_version);

/* Write the kind's apiVersion ("eventing.knative.dev/v1", "v1") into
 * 'out'. Returns 'out'. */
const char *sl_res_kind_api_version(const struct sl_res_kind *k, char *out,
                                    size_t outlen);

/*
 * Check the registry for duplicates (the same group and kind, the same
 * group and plural, or a name that two kinds of one group share). Meant
 * for startup and tests. Returns 0 or SL_EEXIST with the clash in 'd'.
 */
int sl_res_registry_check(struct sl_diag *d);

/*
 * Kind keys: how the store and the reconcile loop name a kind,
 * "<group>/<Kind>" ("eventing.knative.dev/Broker"), or "<Kind>" for the
 * core group ("Namespace"). Versions are not part of it: one kind, one
 * storage (resource/kindkey.c).
 */
const char *sl_res_kind_key(const struct sl_res_kind *k, char *out,
                            size_t outlen);
/* The kind of a kind key; NULL when unknown. */
const struct sl_res_kind *sl_res_kind_by_key(const char *key);
/* The kind of a group ("" for core) and Kind; NULL when unknown. */
const struct sl_res_kind *sl_res_kind_by_group_kind(const char *group,
                                                    const char *kind);
/* The kind an object declares (apiVersion and kind); NULL when unknown. */
const struct sl_res_kind *sl_res_kind_of(const struct json_object *obj);
/* True when some kind is served under group ("" for core) and version. */
bool sl_res_group_version_known(const char *group, const char *version);

/* ---- admission ---- */

/*
 * Admit 'obj' for create ('old' NULL) or update ('old' the stored object,
 * itself admitted earlier). In order:
 *
 *   1. find the kind from apiVersion/kind: unknown gives
 *      'no matches for kind "X" in version "g/v"';
 *   2. strict schema of every top-level member (unknown fields, types);
 *      'status' is accepted and left alone for the store;
 *   3. metadata: name (or generateName) syntax, namespace (defaulted from
 *      the env for namespaced kinds, refused on cluster-scoped ones),
 *      label and annotation syntax; system fields (uid, resourceVersion,
 *      generation, creationTimestamp, managedFields, ownerReferences,
 *      finalizers ...) are accepted and left alone;
 *   4. the kind's defaults are written into 'obj', and steps 2 and 3 run
 *      again on the result (a defaulted label must be a valid label);
 *   5. the kind's validation; on update, its immutability checks.
 *
 * '*pkind' (may be NULL) receives the kind as soon as it is known, even
 * when a later step fails. Returns 0, or SL_EINVAL with the field path and
 * a message in 'd'. On failure 'obj' may be partly defaulted: discard it.
 */
int sl_res_admit(struct json_object *obj, const struct json_object *old,
                 const struct sl_res_env *env, const struct sl_res_kind **pkind,
                 struct sl_diag *d);

#endif
