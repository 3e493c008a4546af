/*
 * resource/serving_internal.h - pieces the Serving kinds share inside
 * resource/ (sl__res_ prefix: never used outside this folder).
 *
 * serving_podspec.c holds the PodSpec subset Knative accepts and the
 * RevisionSpec that inlines it; revision.c the RevisionTemplateSpec and the
 * Revision kind; route.c the traffic targets and the Route kind; service.c and
 * configuration.c the two kinds built from those.
 */
#ifndef SL_RESOURCE_SERVING_INTERNAL_H
#define SL_RESOURCE_SERVING_INTERNAL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "resource/resource.h"
#include "resource/schema.h"

/* ---- PodSpec and RevisionSpec (serving_podspec.c) ---- */

/* The PodSpec subset a Knative revision may carry (the member table). */
extern const struct sl_res_field sl__res_sv_podspec_fields[];

/* RevisionSpec: the PodSpec subset inlined, plus containerConcurrency,
 * timeoutSeconds, responseStartTimeoutSeconds, idleTimeoutSeconds. */
extern const struct sl_res_field sl__res_revspec_fields[];

/*
 * Knative's PodSpec defaults (revision_defaults.go): container names
 * ("user-container", "user-container-<n>" with several), resources {},
 * the serving container's readiness probe (tcpSocket, successThreshold
 * 1), enableServiceLinks false, read-only volume mounts. 'spec' is a
 * schema-checked PodSpec object (may be NULL).
 */
void sl__res_podspec_set_defaults(struct json_object *spec);

/*
 * Validate a PodSpec subset against Knative's runtime contract
 * (reference 9.4; k8s_validation.go): containers required, one port per
 * container and one container with ports, reserved ports and environment
 * variables, probes, volumes and mounts. 'p' names the spec. Returns 0 or
 * SL_EINVAL.
 */
int sl__res_sv_podspec_validate(const struct json_object *spec,
                                struct sl_res_path *p, struct sl_diag *d);

/* RevisionSpec defaults: timeoutSeconds, responseStartTimeoutSeconds and
 * containerConcurrency as config-defaults says, then the PodSpec's. */
void sl__res_revspec_set_defaults(struct json_object *spec);

/* Validate a RevisionSpec ('spec' may be NULL: containers are missing). */
int sl__res_revspec_validate(const struct json_object *spec,
                             struct sl_res_path *p, struct sl_diag *d);

/* ---- RevisionTemplateSpec (revision.c) ---- */

/* {metadata: ObjectMeta, spec: RevisionSpec}. */
extern const struct sl_res_field sl__res_revtemplate_fields[];

/* Defaults of a template's spec ('tmpl' may be NULL). */
void sl__res_revtemplate_set_defaults(struct json_object *tmpl);

/*
 * Validate the template of 'obj' (a Service or Configuration) at
 * spec.template: metadata.name a DNS-1035 label starting with
 * "<obj name>-" (and not allowed when 'obj' has only a generateName),
 * metadata.generateName a DNS-1035 prefix, the autoscaling annotations,
 * then the RevisionSpec. An absent template reports its missing
 * containers. Returns 0 or SL_EINVAL.
 */
int sl__res_revtemplate_validate(const struct json_object *obj,
                                 struct sl_diag *d);

/*
 * On update of a Service or Configuration: a template that keeps a
 * user-chosen metadata.name must not change (Knative's VerifyNameChange:
 * a revision name names one immutable revision). Returns 0 or SL_EINVAL
 * at spec.template.metadata.name.
 */
int sl__res_revtemplate_verify_name(const struct json_object *old,
                                    const struct json_object *obj,
                                    struct sl_diag *d);

/*
 * Object-level metadata rules of the Serving kinds: the label
 * networking.knative.dev/visibility is "cluster-local" when present, and
 * when 'no_autoscaling' autoscaling annotations are refused (Service and
 * Configuration: they belong on spec.template.metadata). Returns 0 or
 * SL_EINVAL.
 */
int sl__res_sv_meta_validate(const struct json_object *obj, bool no_autoscaling,
                             struct sl_diag *d);

/* ---- traffic (route.c) ---- */

/* One TrafficTarget {tag, revisionName, configurationName,
 * latestRevision, percent, url}. */
extern const struct sl_res_field sl__res_traffic_elem;

/*
 * Traffic defaults at spec.traffic of 'spec': with 'in_service', an
 * absent or empty list becomes [{percent: 100, latestRevision: true}];
 * every target without latestRevision gets revisionName == "".
 */
void sl__res_traffic_set_defaults(struct json_object *spec, bool in_service);

/*
 * Validate spec.traffic of 'spec' (reference 9.3): per target
 * latestRevision agrees with revisionName, revisionName xor
 * configurationName (a Service's targets name no configuration), percent
 * 0..100, no url, tags DNS-1035 labels and unique; the percents sum to
 * exactly 100. Returns 0 or SL_EINVAL.
 */
int sl__res_traffic_validate(const struct json_object *spec, bool in_service,
                             struct sl_diag *d);

#endif
