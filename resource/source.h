/*
 * resource/source.h - pieces the source kinds share (reference sections
 * 4-8): CloudEventOverrides, Kubernetes LabelSelector, the apiVersion and
 * kind rules of references, and what reconcilers need to read back from
 * an admitted source (a KafkaSource's consumer group).
 *
 * Validators take the path of the value they check and report the first
 * problem at its exact path, like those of duck.h.
 */
#ifndef SL_RESOURCE_SOURCE_H
#define SL_RESOURCE_SOURCE_H

#include <stddef.h>

#include <json-c/json.h>

#include "resource/schema.h"

/* ---- CloudEventOverrides {extensions} (knative.dev/pkg duck/v1) ---- */

/*
 * The ceOverrides member table: extensions, a map of strings whose keys
 * pass sl_res_check_extension_name.
 */
extern const struct sl_res_field sl_res_ceoverrides_fields[];

/*
 * A ceOverrides extension name (Knative's rule, a key check): non-empty
 * ("invalid key name \"\": keys MUST NOT be empty") and ASCII letters and
 * digits only ("invalid key name \"a_b\": keys are expected to be
 * alphanumeric"). Upper case passes, as in Knative.
 */
int sl_res_check_extension_name(const char *s, struct sl_diag *d);

/* ---- LabelSelector {matchLabels, matchExpressions} ---- */

/*
 * The metav1.LabelSelector member table: matchLabels keys are qualified
 * names and values label values; each matchExpressions element has a
 * required qualified-name key, a required operator In, NotIn, Exists or
 * DoesNotExist, and label-value values.
 */
extern const struct sl_res_field sl_res_label_selector_fields[];

/*
 * Validate what the table cannot (Kubernetes'
 * ValidateLabelSelectorRequirement): In and NotIn need values ("must be
 * specified when `operator` is 'In' or 'NotIn'"), Exists and
 * DoesNotExist take none ("may not be specified when `operator` is
 * 'Exists' or 'DoesNotExist'"). 'p' names the selector. Returns 0 or
 * SL_EINVAL.
 */
int sl_res_label_selector_validate(const struct json_object *sel,
                                   struct sl_res_path *p, struct sl_diag *d);

/* ---- apiVersion and kind of references ---- */

/*
 * An apiVersion as Kubernetes' schema.ParseGroupVersion reads it: "v1" or
 * "group/version", both parts non-empty (stricter than Go, which also
 * takes "", "/" and "g/"). Returns 0 or SL_EINVAL with 'invalid value
 * "a/b/c": unexpected GroupVersion string' in 'd'.
 */
int sl_res_check_group_version(const char *s, struct sl_diag *d);

/*
 * A Kind as knative.dev/pkg tracker.Reference wants it: a C identifier
 * ([A-Za-z_][A-Za-z0-9_]*). Returns 0 or SL_EINVAL.
 */
int sl_res_check_c_identifier(const char *s, struct sl_diag *d);

/* ---- KafkaSource ---- */

/* The prefix of a KafkaSource's default consumer group. */
#define SL_RES_KAFKA_GROUP_PREFIX "knative-kafka-source-"

/*
 * The consumer group an admitted KafkaSource 'obj' consumes with: its
 * spec.consumerGroup, else "knative-kafka-source-<metadata.uid>" (what
 * admission writes as soon as the object has a uid; Knative uses a random
 * UUID, sluice the object's own). Writes it into out[0..outlen) and
 * returns 0; SL_ENOENT when the object has neither; SL_ETOOBIG when it
 * does not fit.
 */
int sl_res_kafka_source_group(const struct json_object *obj, char *out,
                              size_t outlen);

#endif
