/*
 * resource/serving_podspec.c - the PodSpec subset a Knative revision carries,
 * and the RevisionSpec that inlines it (reference 9.1, 9.2, 9.4;
 * knative/serving pkg/apis/serving/{fieldmask,k8s_validation}.go and
 * pkg/apis/serving/v1/revision_defaults.go).
 *
 * The tables model what Knative's field masks let through, member by
 * member, so anything else is an unknown field: hostPort, lifecycle,
 * hostNetwork, initContainers ... Parts sluice passes through without
 * looking (env valueFrom, envFrom, resources, securityContext, volume
 * sources, scheduling hints) are SL_RES_ANY or maps of it. The scheduling
 * fields Knative puts behind feature flags (nodeSelector, affinity,
 * tolerations ...) are accepted and mean nothing to a process runtime.
 *
 * Knative's runtime contract is checked in code, not in the tables: at
 * most one port per container and exactly one container with a port when
 * there are several, reserved ports and environment variables, probe
 * rules, volume/mount consistency.
 */
#include <stdio.h>
#include <string.h>

#include "resource/serving.h"
#include "resource/serving_internal.h"

/* ---- tables ---- */

static const struct sl_res_field ps_string = { .name = "",
                                               .type = SL_RES_STRING };

static const struct sl_res_field ps_any = { .name = "", .type = SL_RES_ANY };

/* An object whose members are not looked into. */
static const struct sl_res_field ps_object = {
    .name = "",
    .type = SL_RES_MAP,
    .elem = &ps_any,
};

static const struct sl_res_field ps_env_fields[] = {
    { .name = "name", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "value", .type = SL_RES_STRING },
    { .name = "valueFrom", .type = SL_RES_ANY },
    { .name = NULL },
};

static const struct sl_res_field ps_env_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_env_fields,
};

/* The name says the protocol the queue proxy speaks to the container. */
static const char *const ps_port_names[] = { "http1", "h2c", "", NULL };
static const char *const ps_port_protocols[] = { "TCP", "", NULL };

static const struct sl_res_field ps_port_fields[] = {
    /* 0 (or absent) means the default, 8080. */
    { .name = "containerPort",
      .type = SL_RES_INT32,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = 65535 },
    { .name = "name", .type = SL_RES_STRING, .enums = ps_port_names },
    { .name = "protocol", .type = SL_RES_STRING, .enums = ps_port_protocols },
    { .name = NULL },
};

static const struct sl_res_field ps_port_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_port_fields,
};

static const char *const ps_schemes[] = { "HTTP", "HTTPS", NULL };

static const struct sl_res_field ps_header_fields[] = {
    { .name = "name", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "value", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field ps_header_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_header_fields,
};

/* Ports of probe handlers may be left out: Knative fills in the
 * container's port. */
static const struct sl_res_field ps_httpget_fields[] = {
    { .name = "path", .type = SL_RES_STRING },
    { .name = "port", .type = SL_RES_INT_OR_STRING },
    { .name = "host", .type = SL_RES_STRING },
    { .name = "scheme", .type = SL_RES_STRING, .enums = ps_schemes },
    { .name = "httpHeaders", .type = SL_RES_ARRAY, .elem = &ps_header_elem },
    { .name = NULL },
};

static const struct sl_res_field ps_tcp_fields[] = {
    { .name = "port", .type = SL_RES_INT_OR_STRING },
    { .name = "host", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field ps_exec_fields[] = {
    { .name = "command", .type = SL_RES_ARRAY, .elem = &ps_string },
    { .name = NULL },
};

static const struct sl_res_field ps_grpc_fields[] = {
    { .name = "port",
      .type = SL_RES_INT32,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = 65535 },
    { .name = "service", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field ps_probe_fields[] = {
    { .name = "exec", .type = SL_RES_OBJECT, .fields = ps_exec_fields },
    { .name = "httpGet", .type = SL_RES_OBJECT, .fields = ps_httpget_fields },
    { .name = "tcpSocket", .type = SL_RES_OBJECT, .fields = ps_tcp_fields },
    { .name = "grpc", .type = SL_RES_OBJECT, .fields = ps_grpc_fields },
    { .name = "initialDelaySeconds", .type = SL_RES_INT32 },
    { .name = "timeoutSeconds", .type = SL_RES_INT32 },
    { .name = "periodSeconds", .type = SL_RES_INT32 },
    { .name = "successThreshold", .type = SL_RES_INT32 },
    { .name = "failureThreshold", .type = SL_RES_INT32 },
    { .name = "terminationGracePeriodSeconds", .type = SL_RES_INT64 },
    { .name = NULL },
};

static const struct sl_res_field ps_mount_fields[] = {
    { .name = "name", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "mountPath", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "readOnly", .type = SL_RES_BOOL },
    { .name = "subPath", .type = SL_RES_STRING },
    { .name = NULL },
};

static const struct sl_res_field ps_mount_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_mount_fields,
};

static const char *const ps_pull_policies[] = { "Always", "IfNotPresent",
                                                "Never", NULL };
static const char *const ps_message_policies[] = { "File",
                                                   "FallbackToLogsOnError",
                                                   NULL };

static const struct sl_res_field ps_container_fields[] = {
    { .name = "name", .type = SL_RES_STRING },
    { .name = "image", .type = SL_RES_STRING },
    { .name = "command", .type = SL_RES_ARRAY, .elem = &ps_string },
    { .name = "args", .type = SL_RES_ARRAY, .elem = &ps_string },
    { .name = "workingDir", .type = SL_RES_STRING },
    { .name = "ports", .type = SL_RES_ARRAY, .elem = &ps_port_elem },
    { .name = "env", .type = SL_RES_ARRAY, .elem = &ps_env_elem },
    { .name = "envFrom", .type = SL_RES_ARRAY, .elem = &ps_any },
    { .name = "resources", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "readinessProbe",
      .type = SL_RES_OBJECT,
      .fields = ps_probe_fields },
    { .name = "livenessProbe",
      .type = SL_RES_OBJECT,
      .fields = ps_probe_fields },
    { .name = "startupProbe",
      .type = SL_RES_OBJECT,
      .fields = ps_probe_fields },
    { .name = "imagePullPolicy",
      .type = SL_RES_STRING,
      .enums = ps_pull_policies },
    { .name = "securityContext", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "volumeMounts", .type = SL_RES_ARRAY, .elem = &ps_mount_elem },
    { .name = "terminationMessagePath", .type = SL_RES_STRING },
    { .name = "terminationMessagePolicy",
      .type = SL_RES_STRING,
      .enums = ps_message_policies },
    { .name = NULL },
};

static const struct sl_res_field ps_container_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_container_fields,
};

/* The volume sources Knative allows; their contents pass through. */
static const struct sl_res_field ps_volume_fields[] = {
    { .name = "name", .type = SL_RES_STRING, .flags = SL_RES_REQUIRED },
    { .name = "secret", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "configMap", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "projected", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "emptyDir", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = "persistentVolumeClaim", .type = SL_RES_MAP, .elem = &ps_any },
    { .name = NULL },
};

static const struct sl_res_field ps_volume_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = ps_volume_fields,
};

/* The PodSpec members, shared by the two tables below. */
#define PS_PODSPEC_MEMBERS                                                     \
    { .name = "containers",                                                    \
      .type = SL_RES_ARRAY,                                                    \
      .elem = &ps_container_elem },                                            \
        { .name = "volumes", .type = SL_RES_ARRAY, .elem = &ps_volume_elem },  \
        { .name = "serviceAccountName",                                        \
          .type = SL_RES_STRING,                                               \
          .check = sl_res_check_dns1123_subdomain },                           \
        { .name = "imagePullSecrets", .type = SL_RES_ARRAY, .elem = &ps_any }, \
        { .name = "enableServiceLinks", .type = SL_RES_BOOL },                 \
        { .name = "automountServiceAccountToken", .type = SL_RES_BOOL },       \
        { .name = "nodeSelector", .type = SL_RES_STRING_MAP },                 \
        { .name = "affinity", .type = SL_RES_MAP, .elem = &ps_any },           \
        { .name = "tolerations", .type = SL_RES_ARRAY, .elem = &ps_object },   \
        { .name = "topologySpreadConstraints",                                 \
          .type = SL_RES_ARRAY,                                                \
          .elem = &ps_object },                                                \
        { .name = "runtimeClassName", .type = SL_RES_STRING },                 \
        { .name = "priorityClassName", .type = SL_RES_STRING },                \
        { .name = "schedulerName", .type = SL_RES_STRING },                    \
    {                                                                          \
        .name = "securityContext", .type = SL_RES_MAP, .elem = &ps_any         \
    }

const struct sl_res_field sl__res_sv_podspec_fields[] = {
    PS_PODSPEC_MEMBERS,
    { .name = NULL },
};

const struct sl_res_field sl__res_revspec_fields[] = {
    PS_PODSPEC_MEMBERS,
    { .name = "containerConcurrency",
      .type = SL_RES_INT64,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = SL_RES_SV_CONCURRENCY_MAX },
    { .name = "timeoutSeconds",
      .type = SL_RES_INT64,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = SL_RES_SV_MAX_REVISION_TIMEOUT },
    { .name = "responseStartTimeoutSeconds",
      .type = SL_RES_INT64,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = SL_RES_SV_MAX_REVISION_TIMEOUT },
    { .name = "idleTimeoutSeconds",
      .type = SL_RES_INT64,
      .flags = SL_RES_RANGE,
      .min = 0,
      .max = SL_RES_SV_MAX_REVISION_TIMEOUT },
    { .name = NULL },
};

/* ---- small helpers ---- */

static size_t ps_len(const struct json_object *arr)
{
    return json_object_is_type(arr, json_type_array)
               ? json_object_array_length(arr)
               : 0;
}

static struct json_object *ps_at(const struct json_object *arr, size_t i)
{
    return json_object_array_get_idx(arr, i);
}

/* A non-empty string member, or NULL. */
static const char *ps_str(const struct json_object *o, const char *key)
{
    const char *s = sl_res_get_str(o, key);

    return s != NULL && s[0] != '\0' ? s : NULL;
}

static int64_t ps_int(const struct json_object *o, const char *key)
{
    struct json_object *v = sl_res_get(o, key);

    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static void ps_set_int(struct json_object *o, const char *key, int64_t v)
{
    json_object_object_add(o, key, json_object_new_int64(v));
}

/* Does the container declare a port (the serving container when there
 * are several)? */
static bool ps_has_ports(const struct json_object *c)
{
    return ps_len(sl_res_get(c, "ports")) > 0;
}

/* ---- defaults ---- */

/* Is 'name' the name of a container in 'cs'? */
static bool ps_name_taken(const struct json_object *cs, const char *name)
{
    size_t i;

    for (i = 0; i < ps_len(cs); i++) {
        const char *n = sl_res_get_str(ps_at(cs, i), "name");
        if (n != NULL && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

/*
 * Container names as applyDefaultContainerNames: one unnamed container is
 * "user-container"; with several, or when that name is taken, unnamed
 * ones get "user-container-<n>", n counting up from 0 past names the user
 * chose.
 */
static void ps_default_names(struct json_object *cs)
{
    size_t i, n = ps_len(cs);
    unsigned next = 0;

    for (i = 0; i < n; i++) {
        struct json_object *c = ps_at(cs, i);
        char name[64];

        if (ps_str(c, "name") != NULL)
            continue;
        snprintf(name, sizeof(name), "%s", SL_RES_SV_USER_CONTAINER);
        if (n > 1 || ps_name_taken(cs, name))
            do
                snprintf(name, sizeof(name), "%s-%u", SL_RES_SV_USER_CONTAINER,
                         next++);
            while (ps_name_taken(cs, name));
        sl_res_set_str(c, "name", name);
    }
}

/* The serving container's readiness probe: TCP on its port unless a
 * handler is given. */
static void ps_default_readiness(struct json_object *c)
{
    struct json_object *p = sl_res_ensure(c, "readinessProbe");

    if (p == NULL)
        return;
    if (sl_res_get(p, "tcpSocket") == NULL &&
        sl_res_get(p, "httpGet") == NULL && sl_res_get(p, "exec") == NULL &&
        sl_res_get(p, "grpc") == NULL)
        json_object_object_add(p, "tcpSocket", json_object_new_object());
}

/* Defaults of any readiness probe, and gRPC probes' service. */
static void ps_default_probes(struct json_object *c)
{
    static const char *const probes[] = { "readinessProbe", "livenessProbe",
                                          "startupProbe" };
    struct json_object *rp = sl_res_get(c, "readinessProbe"), *grpc;
    size_t i;

    if (rp != NULL) {
        if (ps_int(rp, "successThreshold") == 0)
            ps_set_int(rp, "successThreshold", 1);
        /* Kubernetes' own defaults, applied when the user asks for a
         * period (0 means Knative's aggressive probing). */
        if (ps_int(rp, "periodSeconds") != 0) {
            if (ps_int(rp, "failureThreshold") == 0)
                ps_set_int(rp, "failureThreshold", 3);
            if (ps_int(rp, "timeoutSeconds") == 0)
                ps_set_int(rp, "timeoutSeconds", 1);
        }
    }
    for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        grpc = sl_res_get(sl_res_get(c, probes[i]), "grpc");
        if (grpc != NULL && sl_res_get(grpc, "service") == NULL)
            sl_res_set_str(grpc, "service", "");
    }
}

/* The volume named 'name' in 'vols', or NULL. */
static struct json_object *ps_volume(const struct json_object *vols,
                                     const char *name)
{
    size_t i;

    for (i = 0; i < ps_len(vols); i++) {
        const char *n = sl_res_get_str(ps_at(vols, i), "name");
        if (n != NULL && strcmp(n, name) == 0)
            return ps_at(vols, i);
    }
    return NULL;
}

/* Mounts are read-only except of emptyDir and persistentVolumeClaim
 * volumes (the only writable kinds). */
static void ps_default_mounts(struct json_object *c,
                              const struct json_object *vols)
{
    struct json_object *mounts = sl_res_get(c, "volumeMounts");
    size_t i;

    for (i = 0; i < ps_len(mounts); i++) {
        struct json_object *m = ps_at(mounts, i);
        const char *name = sl_res_get_str(m, "name");
        const struct json_object *v =
            name != NULL ? ps_volume(vols, name) : NULL;

        if (v != NULL && (sl_res_get(v, "emptyDir") != NULL ||
                          sl_res_get(v, "persistentVolumeClaim") != NULL))
            continue;
        json_object_object_add(m, "readOnly", json_object_new_boolean(1));
    }
}

void sl__res_podspec_set_defaults(struct json_object *spec)
{
    struct json_object *cs = sl_res_get(spec, "containers");
    const struct json_object *vols = sl_res_get(spec, "volumes");
    size_t i, n = ps_len(cs);

    if (!json_object_is_type(spec, json_type_object))
        return;
    ps_default_names(cs);
    for (i = 0; i < n; i++) {
        struct json_object *c = ps_at(cs, i);

        if (sl_res_get(c, "resources") == NULL)
            json_object_object_add(c, "resources", json_object_new_object());
        if (n == 1 || ps_has_ports(c))
            ps_default_readiness(c);
        ps_default_probes(c);
        ps_default_mounts(c, vols);
    }
    /* config-defaults enable-service-links: false. */
    if (sl_res_get(spec, "enableServiceLinks") == NULL)
        json_object_object_add(spec, "enableServiceLinks",
                               json_object_new_boolean(0));
}

/* ---- validation ---- */

static const char *const ps_reserved_env[] = { "PORT", "K_SERVICE",
                                               "K_CONFIGURATION", "K_REVISION",
                                               NULL };

/* Ports the queue proxy and Knative's system containers use. */
static const int64_t ps_reserved_ports[] = {
    8012, 8013, 8022, 9090, 9091, 8008
};

static int ps_env(const struct json_object *env, bool serving,
                  struct sl_res_path *p, struct sl_diag *d)
{
    size_t i, old;
    int rc = 0;

    for (i = 0; i < ps_len(env) && rc == 0; i++) {
        const struct json_object *e = ps_at(env, i);
        const char *name = ps_str(e, "name");
        const char *const *r;

        old = sl_res_path_index(p, i);
        if (name == NULL)
            rc = sl_res_fail_at(d, p, "name", "missing field(s)");
        for (r = ps_reserved_env; rc == 0 && *r != NULL; r++)
            /* A sidecar may set PORT: it is not the serving container. */
            if (strcmp(name, *r) == 0 && (serving || r != ps_reserved_env))
                rc = sl_res_fail_at(d, p, "name",
                                    "\"%s\" is a reserved environment "
                                    "variable",
                                    name);
        if (rc == 0 && sl_res_get(e, "value") != NULL &&
            sl_res_get(e, "valueFrom") != NULL &&
            sl_res_get_str(e, "value")[0] != '\0')
            rc = sl_res_fail_at(d, p, "valueFrom",
                                "expected exactly one, got both: valueFrom "
                                "may not be specified when value is not "
                                "empty");
        sl_res_path_pop(p, old);
    }
    return rc;
}

static int ps_port(const struct json_object *port, struct sl_res_path *p,
                   struct sl_diag *d)
{
    int64_t cp = ps_int(port, "containerPort");
    size_t i;

    for (i = 0; i < sizeof(ps_reserved_ports) / sizeof(ps_reserved_ports[0]);
         i++)
        if (cp == ps_reserved_ports[i])
            return sl_res_fail_at(d, p, "containerPort",
                                  "invalid value %lld: reserved by Knative "
                                  "(8012, 8013, 8022, 9090, 9091, 8008)",
                                  (long long)cp);
    return 0;
}

/* Exactly one handler; for a readiness probe also Knative's number
 * rules. */
static int ps_probe(const struct json_object *pr, bool readiness,
                    struct sl_res_path *p, struct sl_diag *d)
{
    static const char *const handlers[] = { "httpGet", "tcpSocket", "exec",
                                            "grpc" };
    const char *first = NULL;
    struct lh_entry *e;
    size_t i;

    /* In document order, so "both" names the second one written. */
    for (e = lh_table_head(json_object_get_object(pr)); e != NULL;
         e = lh_entry_next(e)) {
        const char *key = (const char *)lh_entry_k(e);

        for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
            if (strcmp(handlers[i], key) == 0)
                break;
        if (i == sizeof(handlers) / sizeof(handlers[0]))
            continue;
        if (first != NULL)
            return sl_res_fail_at(d, p, key,
                                  "expected exactly one, got both: \"%s\" "
                                  "and \"%s\"",
                                  first, key);
        first = key;
    }
    if (first == NULL)
        return sl_res_fail(d, p,
                           "expected exactly one, got neither: one of "
                           "\"httpGet\", \"tcpSocket\", \"exec\", \"grpc\"");
    if (!readiness)
        return 0;
    if (ps_int(pr, "periodSeconds") < 0)
        return sl_res_fail_at(d, p, "periodSeconds",
                              "expected 0 <= %lld <= 2147483647",
                              (long long)ps_int(pr, "periodSeconds"));
    if (ps_int(pr, "initialDelaySeconds") < 0)
        return sl_res_fail_at(d, p, "initialDelaySeconds",
                              "expected 0 <= %lld <= 2147483647",
                              (long long)ps_int(pr, "initialDelaySeconds"));
    if (ps_int(pr, "successThreshold") < 1)
        return sl_res_fail_at(d, p, "successThreshold",
                              "expected 1 <= %lld <= 2147483647",
                              (long long)ps_int(pr, "successThreshold"));
    if (ps_int(pr, "periodSeconds") == 0) {
        /* Knative's own probing: it retries aggressively by itself. */
        if (ps_int(pr, "failureThreshold") != 0)
            return sl_res_fail_at(d, p, "failureThreshold",
                                  "failureThreshold is disallowed when "
                                  "periodSeconds is zero");
        if (ps_int(pr, "timeoutSeconds") != 0)
            return sl_res_fail_at(d, p, "timeoutSeconds",
                                  "timeoutSeconds is disallowed when "
                                  "periodSeconds is zero");
        return 0;
    }
    if (ps_int(pr, "timeoutSeconds") < 1)
        return sl_res_fail_at(d, p, "timeoutSeconds",
                              "expected 1 <= %lld <= 2147483647",
                              (long long)ps_int(pr, "timeoutSeconds"));
    if (ps_int(pr, "failureThreshold") < 1)
        return sl_res_fail_at(d, p, "failureThreshold",
                              "expected 1 <= %lld <= 2147483647",
                              (long long)ps_int(pr, "failureThreshold"));
    return 0;
}

static int ps_probes(const struct json_object *c, struct sl_res_path *p,
                     struct sl_diag *d)
{
    static const char *const probes[] = { "readinessProbe", "livenessProbe",
                                          "startupProbe" };
    size_t i, old;
    int rc = 0;

    for (i = 0; i < sizeof(probes) / sizeof(probes[0]) && rc == 0; i++) {
        const struct json_object *pr = sl_res_get(c, probes[i]);
        if (pr == NULL)
            continue;
        old = sl_res_path_field(p, probes[i]);
        rc = ps_probe(pr, i == 0, p, d);
        sl_res_path_pop(p, old);
    }
    return rc;
}

/*
 * Clean an absolute path as Go's filepath.Clean would for the cases that
 * matter here: repeated and trailing slashes, "." and ".." segments.
 */
static void ps_clean_path(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    const char *s = in;

    while (*s != '\0') {
        const char *e;
        size_t n;

        while (*s == '/')
            s++;
        if (*s == '\0')
            break;
        for (e = s; *e != '\0' && *e != '/'; e++)
            ;
        n = (size_t)(e - s);
        if (n == 1 && s[0] == '.') {
            /* nothing */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (o + n + 2 < outlen) {
            out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s = e;
    }
    if (o == 0 && outlen > 1)
        out[o++] = '/';
    out[o < outlen ? o : outlen - 1] = '\0';
}

static int ps_mounts(const struct json_object *mounts,
                     const struct json_object *vols, struct sl_res_path *p,
                     struct sl_diag *d)
{
    static const char *const reserved[] = { "/",    "/dev", "/dev/log",
                                            "/tmp", "/var", "/var/log",
                                            NULL };
    size_t i, j, old;
    int rc = 0;

    for (i = 0; i < ps_len(mounts) && rc == 0; i++) {
        const struct json_object *m = ps_at(mounts, i);
        const char *name = sl_res_get_str(m, "name");
        const char *path = sl_res_get_str(m, "mountPath");
        const char *const *r;
        char clean[256], other[256];

        old = sl_res_path_index(p, i);
        if (ps_volume(vols, name) == NULL)
            rc = sl_res_fail_at(d, p, "name",
                                "volumeMount has no matching volume");
        else if (path[0] != '/')
            rc = sl_res_fail_at(d, p, "mountPath",
                                "invalid value \"%s\": must be an absolute "
                                "path",
                                path);
        if (rc == 0) {
            ps_clean_path(path, clean, sizeof(clean));
            for (r = reserved; *r != NULL && rc == 0; r++)
                if (strcmp(clean, *r) == 0)
                    rc = sl_res_fail_at(d, p, "mountPath",
                                        "mountPath \"%s\" is a reserved path",
                                        clean);
            for (j = 0; j < i && rc == 0; j++) {
                ps_clean_path(sl_res_get_str(ps_at(mounts, j), "mountPath"),
                              other, sizeof(other));
                if (strcmp(clean, other) == 0)
                    rc = sl_res_fail_at(d, p, "mountPath",
                                        "invalid value \"%s\": must be "
                                        "unique",
                                        path);
            }
        }
        sl_res_path_pop(p, old);
    }
    return rc;
}

static int ps_container(const struct json_object *cs, size_t i, bool serving,
                        const struct json_object *vols, struct sl_res_path *p,
                        struct sl_diag *d)
{
    const struct json_object *c = ps_at(cs, i);
    const struct json_object *ports = sl_res_get(c, "ports");
    const char *name = sl_res_get_str(c, "name");
    size_t j, old;
    int rc;

    /* Names are defaulted, so there is one; Kubernetes would refuse
     * anything but a label when it creates the pod. */
    if (name == NULL)
        return sl_res_fail_at(d, p, "name", "missing field(s)");
    if ((rc = sl_res_check_dns1123_label(name, d)) != 0) {
        char msg[SL_DIAG_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", d != NULL ? d->msg : "");
        return sl_res_fail_at(d, p, "name", "%s", msg);
    }
    if (strcmp(name, "queue-proxy") == 0)
        return sl_res_fail_at(d, p, "name",
                              "\"%s\" is a reserved container name", name);
    for (j = 0; j < i; j++) {
        const char *other = sl_res_get_str(ps_at(cs, j), "name");
        if (other != NULL && strcmp(other, name) == 0)
            return sl_res_fail_at(d, p, "name",
                                  "duplicate container name \"%s\"", name);
    }
    if (ps_str(c, "image") == NULL)
        return sl_res_fail_at(d, p, "image", "missing field(s)");
    if (ps_len(ports) > 1) {
        old = sl_res_path_field(p, "ports");
        sl_res_path_index(p, 1);
        rc = sl_res_fail(d, p,
                         "more than one container port is set: only a "
                         "single port is allowed");
        sl_res_path_pop(p, old);
        return rc;
    }
    if (ps_len(ports) == 1) {
        old = sl_res_path_field(p, "ports");
        sl_res_path_index(p, 0);
        rc = ps_port(ps_at(ports, 0), p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    old = sl_res_path_field(p, "env");
    rc = ps_env(sl_res_get(c, "env"), serving, p, d);
    sl_res_path_pop(p, old);
    if (rc != 0)
        return rc;
    if ((rc = ps_probes(c, p, d)) != 0)
        return rc;
    old = sl_res_path_field(p, "volumeMounts");
    rc = ps_mounts(sl_res_get(c, "volumeMounts"), vols, p, d);
    sl_res_path_pop(p, old);
    return rc;
}

/* Is the volume 'name' mounted by a container of 'cs'? */
static bool ps_mounted(const struct json_object *cs, const char *name)
{
    size_t i, j;

    for (i = 0; i < ps_len(cs); i++) {
        const struct json_object *ms = sl_res_get(ps_at(cs, i), "volumeMounts");
        for (j = 0; j < ps_len(ms); j++) {
            const char *n = sl_res_get_str(ps_at(ms, j), "name");
            if (n != NULL && strcmp(n, name) == 0)
                return true;
        }
    }
    return false;
}

static int ps_volumes(const struct json_object *vols,
                      const struct json_object *cs, struct sl_res_path *p,
                      struct sl_diag *d)
{
    static const char *const sources[] = {
        "secret", "configMap", "projected", "emptyDir", "persistentVolumeClaim",
        NULL
    };
    size_t i, j, old;
    int rc = 0;

    for (i = 0; i < ps_len(vols) && rc == 0; i++) {
        const struct json_object *v = ps_at(vols, i);
        const char *name = sl_res_get_str(v, "name");
        const char *const *s, *first = NULL;
        struct lh_entry *e;

        old = sl_res_path_index(p, i);
        if ((rc = sl_res_check_dns1123_label(name, d)) != 0) {
            char msg[SL_DIAG_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", d != NULL ? d->msg : "");
            rc = sl_res_fail_at(d, p, "name", "%s", msg);
        }
        for (j = 0; j < i && rc == 0; j++)
            if (strcmp(sl_res_get_str(ps_at(vols, j), "name"), name) == 0)
                rc = sl_res_fail_at(d, p, "name",
                                    "duplicate volume name \"%s\"", name);
        if (rc == 0 && !ps_mounted(cs, name))
            rc = sl_res_fail_at(d, p, "name",
                                "volume with name \"%s\" not mounted", name);
        /* In document order, so "both" names the second one written. */
        for (e = lh_table_head(json_object_get_object(v)); rc == 0 && e != NULL;
             e = lh_entry_next(e)) {
            const char *key = (const char *)lh_entry_k(e);

            for (s = sources; *s != NULL && strcmp(*s, key) != 0; s++)
                ;
            if (*s == NULL)
                continue;
            if (first != NULL)
                rc = sl_res_fail_at(d, p, key,
                                    "expected exactly one, got both: \"%s\" "
                                    "and \"%s\"",
                                    first, key);
            first = key;
        }
        if (rc == 0 && first == NULL)
            rc = sl_res_fail(d, p,
                             "expected exactly one, got neither: one of "
                             "\"secret\", \"configMap\", \"projected\", "
                             "\"emptyDir\", \"persistentVolumeClaim\"");
        sl_res_path_pop(p, old);
    }
    return rc;
}

int sl__res_sv_podspec_validate(const struct json_object *spec,
                                struct sl_res_path *p, struct sl_diag *d)
{
    const struct json_object *cs = sl_res_get(spec, "containers");
    const struct json_object *vols = sl_res_get(spec, "volumes");
    struct json_object *amount =
        sl_res_get(spec, "automountServiceAccountToken");
    size_t i, n = ps_len(cs), old, with_ports = SIZE_MAX;
    int rc = 0;

    if (n == 0)
        return sl_res_fail_at(d, p, "containers", "missing field(s)");
    old = sl_res_path_field(p, "containers");
    for (i = 0; i < n && rc == 0; i++) {
        const struct json_object *c = ps_at(cs, i);
        size_t o2 = sl_res_path_index(p, i);

        /* Several containers: exactly one of them serves, the one with
         * the port (Knative's multi-container rule). */
        if (n > 1 && ps_has_ports(c)) {
            if (with_ports != SIZE_MAX)
                rc = sl_res_fail_at(d, p, "ports",
                                    "expected exactly one, got both: only "
                                    "one container may declare a port, "
                                    "containers[%zu] does already",
                                    with_ports);
            with_ports = i;
        }
        if (rc == 0)
            rc = ps_container(cs, i, n == 1 || ps_has_ports(c), vols, p, d);
        sl_res_path_pop(p, o2);
    }
    if (rc == 0 && n > 1 && with_ports == SIZE_MAX)
        rc = sl_res_fail(d, p,
                         "missing field(s): with several containers, one "
                         "of them must declare a port");
    sl_res_path_pop(p, old);
    if (rc != 0)
        return rc;
    old = sl_res_path_field(p, "volumes");
    rc = ps_volumes(vols, cs, p, d);
    sl_res_path_pop(p, old);
    if (rc != 0)
        return rc;
    /* Knative's mask only lets "false" through. */
    if (amount != NULL && json_object_get_boolean(amount))
        return sl_res_fail_at(d, p, "automountServiceAccountToken",
                              "must not set the field(s): only false is "
                              "allowed");
    return 0;
}

/* ---- RevisionSpec ---- */

void sl__res_revspec_set_defaults(struct json_object *spec)
{
    int64_t timeout;

    if (!json_object_is_type(spec, json_type_object))
        return;
    /* An explicit 0 means the default too. */
    if (ps_int(spec, "timeoutSeconds") == 0)
        ps_set_int(spec, "timeoutSeconds", SL_RES_SV_REVISION_TIMEOUT);
    timeout = ps_int(spec, "timeoutSeconds");
    /* Knative writes the response-start default only below the revision's
     * timeout (revision_defaults.go); with the shipped values (300 and
     * 300) only a longer timeoutSeconds brings it in. The idle timeout's
     * default is 0, which is never written. */
    if (sl_res_get(spec, "responseStartTimeoutSeconds") == NULL &&
        SL_RES_SV_RESPONSE_START_TIMEOUT != 0 &&
        SL_RES_SV_RESPONSE_START_TIMEOUT < timeout)
        ps_set_int(spec, "responseStartTimeoutSeconds",
                   SL_RES_SV_RESPONSE_START_TIMEOUT);
    if (sl_res_get(spec, "containerConcurrency") == NULL)
        ps_set_int(spec, "containerConcurrency",
                   SL_RES_SV_CONTAINER_CONCURRENCY);
    sl__res_podspec_set_defaults(spec);
}

int sl__res_revspec_validate(const struct json_object *spec,
                             struct sl_res_path *p, struct sl_diag *d)
{
    /* The numbers' bounds are in the table. */
    return sl__res_sv_podspec_validate(spec, p, d);
}
