/*
 * resource/podspec.h - a practical, strict subset of Kubernetes' PodSpec
 * and PodTemplateSpec for the kinds that run a user's container
 * (ContainerSource here; Knative Serving's Revision template later).
 * Internal to resource/ (sl__res_ prefix).
 *
 * Modelled strictly: containers[] {name, image, command, args, env[]
 * {name, value, valueFrom}, envFrom, ports[] {containerPort, name,
 * protocol, hostPort, hostIP}, workingDir, resources, readinessProbe,
 * livenessProbe, startupProbe, lifecycle, imagePullPolicy,
 * securityContext, volumeMounts}, initContainers[] (the same), and of the
 * pod: serviceAccountName, volumes, imagePullSecrets, nodeSelector,
 * affinity, tolerations, securityContext, restartPolicy,
 * terminationGracePeriodSeconds, enableServiceLinks,
 * automountServiceAccountToken. Members sluice only passes through
 * (probes, resources, volumes, securityContext ...) are SL_RES_ANY.
 */
#ifndef SL_RESOURCE_PODSPEC_H
#define SL_RESOURCE_PODSPEC_H

#include <json-c/json.h>

#include "resource/schema.h"

/* The PodSpec member table. */
extern const struct sl_res_field sl__res_podspec_fields[];

/* The PodTemplateSpec member table: metadata {name, labels, annotations}
 * and spec (the PodSpec above). */
extern const struct sl_res_field sl__res_pod_template_fields[];

/*
 * Validate a PodSpec beyond its table (Kubernetes' ValidatePodSpec for the
 * subset): at least one container ("missing field(s)" at 'p'.containers);
 * every container (and init container) has a name that is a DNS-1123
 * label, unique across both lists ("duplicate value"), and a non-empty
 * image; an env entry's value and valueFrom are exclusive. 'p' names the
 * PodSpec. Returns 0 or SL_EINVAL.
 */
int sl__res_podspec_validate(const struct json_object *spec,
                             struct sl_res_path *p, struct sl_diag *d);

#endif
