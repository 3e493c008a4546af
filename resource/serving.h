/*
 * resource/serving.h - what the layers above need from the Knative
 * Serving kinds (serving.knative.dev/v1 Service, Configuration, Revision,
 * Route; reference section 9): the config-defaults values admission
 * applies, and reading and checking the autoscaling annotations with
 * their legacy spellings.
 *
 * The kinds themselves are reached through the registry (resource.h);
 * docs/resource.md ("Serving") lists their fields, defaults and rules.
 */
#ifndef SL_RESOURCE_SERVING_H
#define SL_RESOURCE_SERVING_H

#include <stdint.h>

#include <json-c/json.h>

#include "resource/schema.h"

/*
 * Knative's shipped config-defaults and config-autoscaler values, which
 * admission applies (sluice has no config-defaults ConfigMap of its own
 * yet; these are fixed).
 */
#define SL_RES_SV_REVISION_TIMEOUT       300 /* revision-timeout-seconds */
#define SL_RES_SV_MAX_REVISION_TIMEOUT   600 /* max-revision-timeout-seconds */
#define SL_RES_SV_RESPONSE_START_TIMEOUT 300 /* revision-response-start-... */
#define SL_RES_SV_CONTAINER_CONCURRENCY  0   /* container-concurrency */
#define SL_RES_SV_CONCURRENCY_MAX        1000 /* container-concurrency-max-limit */
#define SL_RES_SV_USER_CONTAINER         "user-container"
#define SL_RES_SV_DEFAULT_PORT           8080 /* a container without a port */

/* Autoscaling annotation keys (canonical spellings; the legacy camelCase
 * ones are found by sl_res_sv_annotation). */
#define SL_RES_AS_PREFIX           "autoscaling.knative.dev/"
#define SL_RES_AS_CLASS            SL_RES_AS_PREFIX "class"
#define SL_RES_AS_METRIC           SL_RES_AS_PREFIX "metric"
#define SL_RES_AS_TARGET           SL_RES_AS_PREFIX "target"
#define SL_RES_AS_TARGET_UTIL      SL_RES_AS_PREFIX "target-utilization-percentage"
#define SL_RES_AS_MIN_SCALE        SL_RES_AS_PREFIX "min-scale"
#define SL_RES_AS_MAX_SCALE        SL_RES_AS_PREFIX "max-scale"
#define SL_RES_AS_INITIAL_SCALE    SL_RES_AS_PREFIX "initial-scale"
#define SL_RES_AS_ACTIVATION_SCALE SL_RES_AS_PREFIX "activation-scale"
#define SL_RES_AS_WINDOW           SL_RES_AS_PREFIX "window"
#define SL_RES_AS_PANIC_WINDOW     SL_RES_AS_PREFIX "panic-window-percentage"
#define SL_RES_AS_PANIC_THRESHOLD  SL_RES_AS_PREFIX "panic-threshold-percentage"
#define SL_RES_AS_RETENTION \
    SL_RES_AS_PREFIX "scale-to-zero-pod-retention-period"
#define SL_RES_AS_SCALE_DOWN_DELAY SL_RES_AS_PREFIX "scale-down-delay"
#define SL_RES_AS_BURST_CAPACITY   SL_RES_AS_PREFIX "target-burst-capacity"
#define SL_RES_AS_ALGORITHM        SL_RES_AS_PREFIX "metric-aggregation-algorithm"

/* Autoscaler classes. */
#define SL_RES_AS_KPA "kpa.autoscaling.knative.dev"
#define SL_RES_AS_HPA "hpa.autoscaling.knative.dev"

/*
 * The value of the autoscaling annotation 'key' (one of the SL_RES_AS_*
 * keys above) in 'annotations' (a metadata.annotations object, may be
 * NULL), trying the canonical spelling first, then the legacy one
 * ("autoscaling.knative.dev/minScale"), as Knative's KeyPriority lists do.
 * '*pkey' (may be NULL) receives the spelling found. Returns the borrowed
 * value, or NULL when neither spelling is present.
 */
const char *sl_res_sv_annotation(const struct json_object *annotations,
                                 const char *key, const char **pkey);

/*
 * Check the autoscaling annotations of a revision template (or of a
 * Revision) as Knative's webhook does (reference section 9.5): class,
 * metric per class, target, utilisation, min/max/initial/activation scale
 * and their cross rules, the Go-duration windows and delays, panic
 * percentages, burst capacity, aggregation algorithm, and no annotation
 * given in two spellings at once. 'p' names the annotations object
 * ("spec.template.metadata.annotations"); errors name the entry
 * ("...annotations[autoscaling.knative.dev/window]"). Returns 0 or
 * SL_EINVAL.
 */
int sl_res_sv_autoscaling_validate(const struct json_object *annotations,
                                   struct sl_res_path *p, struct sl_diag *d);

#endif
