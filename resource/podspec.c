/*
 * resource/podspec.c - the PodSpec/PodTemplateSpec subset of podspec.h:
 * tables and the checks Kubernetes' ValidatePodSpec makes on it
 * (k8s.io/kubernetes pkg/apis/core/validation), with its wording.
 */
#include "resource/podspec.h"

#include <stdio.h>
#include <string.h>

#include "core/map.h"

/* Kubernetes IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*. */
static int pod_check_env_name(const char *s, struct sl_diag *d)
{
    size_t i;
    bool ok = s[0] != '\0' && !(s[0] >= '0' && s[0] <= '9');

    for (i = 0; ok && s[i] != '\0'; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
             s[i] == '.';
    if (!ok)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a valid environment "
                           "variable name must consist of alphabetic "
                           "characters, digits, '_', '-', or '.', and must "
                           "not start with a digit",
                           s);
    return 0;
}

/* Kubernetes IsValidPortName (IANA_SVC_NAME): at most 15 of [a-z0-9-],
 * at least one letter, no leading, trailing or double '-'. */
static int pod_check_port_name(const char *s, struct sl_diag *d)
{
    size_t i, n = strlen(s);
    bool letter = false, ok = n > 0 && n <= 15 && s[0] != '-' &&
                              s[n - 1] != '-' && strstr(s, "--") == NULL;

    for (i = 0; ok && i < n; i++) {
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
             s[i] == '-';
        letter = letter || (s[i] >= 'a' && s[i] <= 'z');
    }
    if (!ok || !letter)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": must be no more than 15 "
                           "characters, contain only lower case letters, "
                           "digits and '-', at least one letter, and no "
                           "leading, trailing or double '-'",
                           s);
    return 0;
}

static const char *const pod_protocols[] = { "TCP", "UDP", "SCTP", NULL };
static const char *const pod_pull_policies[] = { "Always", "Never",
                                                 "IfNotPresent", NULL };
static const char *const pod_restart_policies[] = { "Always", "OnFailure",
                                                    "Never", NULL };

static const struct sl_res_field pod_string = { .name = "",
                                                .type = SL_RES_STRING };
static const struct sl_res_field pod_any = { .name = "", .type = SL_RES_ANY };

static const struct sl_res_field pod_env_fields[] = {
    { .name = "name",
      .type = SL_RES_STRING,
      .flags = SL_RES_REQUIRED,
      .check = pod_check_env_name },
    { .name = "value", .type = SL_RES_STRING },
    { .name = "valueFrom", .type = SL_RES_ANY },
    { .name = NULL },
};

static const struct sl_res_field pod_env = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = pod_env_fields,
};

static const struct sl_res_field pod_port_fields[] = {
    { .name = "containerPort",
      .type = SL_RES_INT32,
      .flags = SL_RES_REQUIRED | SL_RES_RANGE,
      .min = 1,
      .max = 65535 },
    { .name = "name", .type = SL_RES_STRING, .check = pod_check_port_name },
    { .name = "protocol", .type = SL_RES_STRING, .enums = pod_protocols },
    { .name = "hostPort",
      .type = SL_RES_INT32,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = 65535 },
    { .name = "hostIP", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field pod_port = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = pod_port_fields,
};

static const struct sl_res_field pod_container_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "image", .type = SL_RES_STRING },
    { .name = "command", .type = SL_RES_ARRAY, .elem = &pod_string },
    { .name = "args", .type = SL_RES_ARRAY, .elem = &pod_string },
    { .name = "env", .type = SL_RES_ARRAY, .elem = &pod_env },
    { .name = "envFrom", .type = SL_RES_ARRAY, .elem = &pod_any },
    { .name = "ports", .type = SL_RES_ARRAY, .elem = &pod_port },
    { .name = "workingDir", .type = SL_RES_STRING },
    { .name = "resources", .type = SL_RES_ANY },
    { .name = "readinessProbe", .type = SL_RES_ANY },
    { .name = "livenessProbe", .type = SL_RES_ANY },
    { .name = "startupProbe", .type = SL_RES_ANY },
    { .name = "lifecycle", .type = SL_RES_ANY },
    { .name = "imagePullPolicy",
      .type = SL_RES_STRING,
      .enums = pod_pull_policies },
    { .name = "securityContext", .type = SL_RES_ANY },
    { .name = "volumeMounts", .type = SL_RES_ANY },
    { .name = NULL },
};

static const struct sl_res_field pod_container = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = pod_container_fields,
};

const struct sl_res_field sl__res_podspec_fields[] = {
    { .name = "containers", .type = SL_RES_ARRAY, .elem = &pod_container },
    { .name = "initContainers", .type = SL_RES_ARRAY, .elem = &pod_container },
    { .name = "serviceAccountName", .type = SL_RES_STRING },
    { .name = "volumes", .type = SL_RES_ANY },
    { .name = "imagePullSecrets", .type = SL_RES_ANY },
    { .name = "nodeSelector", .type = SL_RES_STRING_MAP },
    { .name = "affinity", .type = SL_RES_ANY },
    { .name = "tolerations", .type = SL_RES_ANY },
    { .name = "securityContext", .type = SL_RES_ANY },
    { .name = "restartPolicy",
      .type = SL_RES_STRING,
      .enums = pod_restart_policies },
    { .name = "terminationGracePeriodSeconds", .type = SL_RES_INT64 },
    { .name = "enableServiceLinks", .type = SL_RES_BOOL },
    { .name = "automountServiceAccountToken", .type = SL_RES_BOOL },
    { .name = NULL },
};

static const struct sl_res_field pod_label_value = {
    .name = "",
    .type = SL_RES_STRING,
    .check = sl_res_check_label_value,
};

static const struct sl_res_field pod_meta_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "labels",
      .type = SL_RES_MAP,
      .elem = &pod_label_value,
      .key_check = sl_res_check_qualified_name },
    { .name = "annotations",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_qualified_name },
    { .name = NULL },
};

const struct sl_res_field sl__res_pod_template_fields[] = {
    { .name = "metadata", .type = SL_RES_OBJECT, .fields = pod_meta_fields },
    { .name = "spec", .type = SL_RES_OBJECT, .fields = sl__res_podspec_fields },
    { .name = NULL },
};

/* One container: name (unique: 'seen'), image, env value/valueFrom. */
static int pod_container_check(const struct json_object *c, struct sl_map *seen,
                               struct sl_res_path *p, struct sl_diag *d)
{
    const char *name = sl_res_get_str(c, "name");
    const char *image = sl_res_get_str(c, "image");
    struct json_object *env = sl_res_get(c, "env");
    struct sl_diag tmp;
    size_t i, n, old;

    if (name == NULL || name[0] == '\0')
        return sl_res_fail_at(d, p, "name", "missing field(s)");
    sl_diag_clear(&tmp);
    if (sl_res_check_dns1123_label(name, &tmp) != 0)
        return sl_res_fail_at(d, p, "name", "%s", tmp.msg);
    if (sl_map_has(seen, name))
        return sl_res_fail_at(d, p, "name", "duplicate value \"%s\"", name);
    (void)sl_map_put(seen, name, NULL, NULL);
    if (image == NULL || image[0] == '\0')
        return sl_res_fail_at(d, p, "image", "missing field(s)");
    n = json_object_is_type(env, json_type_array)
            ? json_object_array_length(env)
            : 0;
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(env, i);
        const char *value = sl_res_get_str(e, "value");
        if (value != NULL && value[0] != '\0' &&
            sl_res_get(e, "valueFrom") != NULL) {
            int rc;
            old = sl_res_path_field(p, "env");
            sl_res_path_index(p, i);
            rc = sl_res_fail_at(d, p, "valueFrom",
                                "may not be specified when `value` is not "
                                "empty");
            sl_res_path_pop(p, old);
            return rc;
        }
    }
    return 0;
}

/* Every element of the container list 'key' of 'spec'. */
static int pod_containers_check(const struct json_object *spec, const char *key,
                                struct sl_map *seen, struct sl_res_path *p,
                                struct sl_diag *d)
{
    struct json_object *list = sl_res_get(spec, key);
    size_t i, n, old;
    int rc = 0;

    if (!json_object_is_type(list, json_type_array))
        return 0;
    n = json_object_array_length(list);
    for (i = 0; i < n && rc == 0; i++) {
        old = sl_res_path_field(p, key);
        sl_res_path_index(p, i);
        rc =
            pod_container_check(json_object_array_get_idx(list, i), seen, p, d);
        sl_res_path_pop(p, old);
    }
    return rc;
}

int sl__res_podspec_validate(const struct json_object *spec,
                             struct sl_res_path *p, struct sl_diag *d)
{
    struct json_object *cs = sl_res_get(spec, "containers");
    struct sl_map seen;
    int rc;

    if (cs == NULL || !json_object_is_type(cs, json_type_array) ||
        json_object_array_length(cs) == 0)
        return sl_res_fail_at(d, p, "containers", "missing field(s)");
    sl_map_init(&seen, NULL);
    rc = pod_containers_check(spec, "containers", &seen, p, d);
    if (rc == 0)
        rc = pod_containers_check(spec, "initContainers", &seen, p, d);
    sl_map_fini(&seen);
    return rc;
}
