/*
 * resource/meta.h - Kubernetes ObjectMeta: its schema and accessors.
 *
 * The accessors read and write a whole resource object's "metadata"
 * member. Readers return borrowed strings that stay valid until the
 * member is changed or the object is put.
 */
#ifndef SL_RESOURCE_META_H
#define SL_RESOURCE_META_H

#include <stdint.h>

#include <json-c/json.h>

#include "resource/schema.h"

/*
 * The ObjectMeta member table: name, generateName, namespace, labels,
 * annotations, and the system fields a server writes (uid,
 * resourceVersion, generation, creationTimestamp, deletionTimestamp,
 * deletionGracePeriodSeconds, ownerReferences, finalizers, managedFields,
 * selfLink), so that `get -o yaml | apply` round-trips. Label keys and
 * values and annotation keys are checked for Kubernetes syntax.
 */
extern const struct sl_res_field sl_res_meta_fields[];

/* A descriptor for a whole metadata member (SL_RES_OBJECT of the above). */
extern const struct sl_res_field sl_res_meta_field;

/* metadata.name, metadata.namespace; NULL when absent. */
const char *sl_res_meta_name(const struct json_object *obj);
const char *sl_res_meta_namespace(const struct json_object *obj);

/* metadata.labels[key], metadata.annotations[key]; NULL when absent. */
const char *sl_res_meta_label(const struct json_object *obj, const char *key);
const char *sl_res_meta_annotation(const struct json_object *obj,
                                   const char *key);

/* metadata.generation, 0 when absent. */
int64_t sl_res_meta_generation(const struct json_object *obj);

/*
 * Set metadata.labels[key] / metadata.annotations[key] to a copy of
 * 'value', creating metadata and the map when absent. No-op when 'obj' or
 * its metadata is not an object.
 */
void sl_res_meta_set_label(struct json_object *obj, const char *key,
                           const char *value);
void sl_res_meta_set_annotation(struct json_object *obj, const char *key,
                                const char *value);

/* Total bytes of annotation keys and values Kubernetes allows. */
#define SL_RES_ANNOTATIONS_MAX (256 * 1024)

#endif
