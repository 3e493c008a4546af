/*
 * test/unit/resource_serving_test.c - Knative Serving admission: the docs'
 * hello-world Service, a tagged traffic split, a blue/green Route and
 * Configuration, a multi-container Revision (with their defaults), then
 * one test per rule family with the exact field path: names, template
 * names, traffic, the runtime contract (containers, ports, env), probes,
 * volumes, autoscaling annotations, object metadata, updates; the Go
 * duration parser; the annotation lookup; CLI names.
 */
#include "test/unit/check.h"

#include "resource/goduration.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/serving.h"
#include "test/unit/resource_fixture.h"

#define KSVC_HEAD                                         \
    "apiVersion: serving.knative.dev/v1\nkind: Service\n" \
    "metadata:\n  name: hello\n  namespace: ns\n"

/* A Service with the template's annotations 'ann' (indented by 8). */
#define KSVC_ANN(ann)                                                       \
    KSVC_HEAD "spec:\n  template:\n    metadata:\n      annotations:\n" ann \
              "    spec:\n      containers:\n        - image: img\n"

#define ANN_PATH "spec.template.metadata.annotations"

/* A Service whose template spec is 'spec' (indented by 6). */
#define KSVC_SPEC(spec) KSVC_HEAD "spec:\n  template:\n    spec:\n" spec

/* A Service with one container whose body is 'body' (indented by 10). */
#define KSVC_C(body) KSVC_SPEC("      containers:\n        - image: img\n" body)

#define C0 "spec.template.spec.containers[0]"

/* A Service whose traffic is 'traffic' (indented by 4). */
#define KSVC_TRAFFIC(traffic)                                      \
    KSVC_HEAD "spec:\n  template:\n    spec:\n      containers:\n" \
              "        - image: img\n  traffic:\n" traffic

#define ROUTE_TRAFFIC(traffic)                          \
    "apiVersion: serving.knative.dev/v1\nkind: Route\n" \
    "metadata:\n  name: r\n  namespace: ns\nspec:\n  traffic:\n" traffic

#define REV_HEAD                                           \
    "apiVersion: serving.knative.dev/v1\nkind: Revision\n" \
    "metadata:\n  name: hello-00001\n  namespace: ns\n"

TEST(serving_documented_examples_round_trip)
{
    fx_round_trip("service-hello", NULL);
    fx_round_trip("service-traffic", NULL);
    fx_round_trip("configuration", NULL);
    fx_round_trip("route", NULL);
    fx_round_trip("revision", NULL);
}

/* Admit 'yaml' and return it (owned by the caller). */
static struct json_object *sv_admit(const char *yaml)
{
    struct json_object *o = fx_yaml(yaml);

    fx_admit_ok(o, NULL, NULL);
    return o;
}

static int64_t sv_int(const struct json_object *o, const char *dotted)
{
    struct json_object *v = sl_res_dig(o, dotted);

    ASSERT(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static const struct json_object *sv_container(const struct json_object *o,
                                              size_t i)
{
    return json_object_array_get_idx(
        sl_res_dig(o, "spec.template.spec.containers"), i);
}

TEST(serving_defaults_timeouts)
{
    struct json_object *o;

    /* An explicit 0 is the default too; responseStart stays out while
     * the timeout is not longer than its default. */
    o = sv_admit(KSVC_SPEC("      timeoutSeconds: 0\n      containers:\n"
                           "        - image: img\n"));
    ASSERT_EQ(sv_int(o, "spec.template.spec.timeoutSeconds"), 300);
    ASSERT_EQ(sv_int(o, "spec.template.spec.containerConcurrency"), 0);
    ASSERT(sl_res_dig(o, "spec.template.spec.responseStartTimeoutSeconds") ==
           NULL);
    ASSERT(sl_res_dig(o, "spec.template.spec.idleTimeoutSeconds") == NULL);
    json_object_put(o);

    o = sv_admit(KSVC_SPEC("      timeoutSeconds: 301\n"
                           "      containerConcurrency: 10\n"
                           "      containers:\n        - image: img\n"));
    ASSERT_EQ(sv_int(o, "spec.template.spec.responseStartTimeoutSeconds"), 300);
    ASSERT_EQ(sv_int(o, "spec.template.spec.containerConcurrency"), 10);
    json_object_put(o);

    /* Given values are kept. */
    o = sv_admit(KSVC_SPEC("      timeoutSeconds: 600\n"
                           "      responseStartTimeoutSeconds: 20\n"
                           "      idleTimeoutSeconds: 30\n"
                           "      enableServiceLinks: true\n"
                           "      containers:\n        - image: img\n"));
    ASSERT_EQ(sv_int(o, "spec.template.spec.responseStartTimeoutSeconds"), 20);
    ASSERT_EQ(sv_int(o, "spec.template.spec.idleTimeoutSeconds"), 30);
    ASSERT(json_object_get_boolean(
        sl_res_dig(o, "spec.template.spec.enableServiceLinks")));
    json_object_put(o);
}

TEST(serving_defaults_containers)
{
    struct json_object *o;
    const struct json_object *c;

    /* Several containers: numbered names, skipping the ones taken; the
     * readiness probe goes to the serving container only. */
    o = sv_admit(KSVC_SPEC("      containers:\n"
                           "        - image: a\n"
                           "        - image: b\n          name: "
                           "user-container-0\n"
                           "          ports:\n"
                           "            - containerPort: 9000\n"
                           "        - image: c\n"));
    ASSERT_STR_EQ(sl_res_get_str(sv_container(o, 0), "name"),
                  "user-container-1");
    ASSERT_STR_EQ(sl_res_get_str(sv_container(o, 1), "name"),
                  "user-container-0");
    ASSERT_STR_EQ(sl_res_get_str(sv_container(o, 2), "name"),
                  "user-container-2");
    ASSERT(sl_res_get(sv_container(o, 0), "readinessProbe") == NULL);
    ASSERT(sl_res_dig(sv_container(o, 1), "readinessProbe.tcpSocket") != NULL);
    json_object_put(o);

    /* One container keeps a given name and probe handler; gRPC probes
     * get an empty service; mounts of secrets become read-only, of
     * emptyDir volumes not. */
    o = sv_admit(KSVC_SPEC(
        "      containers:\n"
        "        - image: a\n          name: app\n"
        "          readinessProbe:\n            exec:\n"
        "              command: [\"true\"]\n"
        "          livenessProbe:\n            grpc:\n              port: "
        "8080\n"
        "          volumeMounts:\n"
        "            - name: cfg\n              mountPath: /etc/cfg\n"
        "            - name: scratch\n              mountPath: /scratch\n"
        "      volumes:\n"
        "        - name: cfg\n          secret:\n            secretName: s\n"
        "        - name: scratch\n          emptyDir: {}\n"));
    c = sv_container(o, 0);
    ASSERT_STR_EQ(sl_res_get_str(c, "name"), "app");
    ASSERT(sl_res_dig(c, "readinessProbe.tcpSocket") == NULL);
    ASSERT_EQ(sv_int(c, "readinessProbe.successThreshold"), 1);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(c, "livenessProbe.grpc.service")), "");
    ASSERT(json_object_get_boolean(
        sl_res_get(json_object_array_get_idx(sl_res_get(c, "volumeMounts"), 0),
                   "readOnly")));
    ASSERT(
        sl_res_get(json_object_array_get_idx(sl_res_get(c, "volumeMounts"), 1),
                   "readOnly") == NULL);
    json_object_put(o);
}

TEST(serving_defaults_traffic)
{
    struct json_object *o;
    const struct json_object *t;

    /* An empty list is no traffic: all of it to the latest revision. */
    o = sv_admit(KSVC_TRAFFIC("    []\n"));
    ASSERT_EQ(json_object_array_length(sl_res_dig(o, "spec.traffic")), 1);
    t = json_object_array_get_idx(sl_res_dig(o, "spec.traffic"), 0);
    ASSERT_EQ(sv_int(t, "percent"), 100);
    ASSERT(json_object_get_boolean(sl_res_get(t, "latestRevision")));
    json_object_put(o);

    /* A Route gets no default traffic; a Revision no traffic at all. */
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Route\n"
            "metadata:\n  name: r\n",
            "spec.traffic", "traffic targets sum to 0, want 100");
}

TEST(serving_names)
{
    /* DNS-1035 labels: they become host names. */
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Service\n"
            "metadata:\n  name: 1hello\nspec:\n  template:\n    spec:\n"
            "      containers:\n        - image: img\n",
            "metadata.name", "a DNS-1035 label must consist of");
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Route\n"
            "metadata:\n  name: hello.world\n",
            "metadata.name", "invalid value \"hello.world\"");
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Configuration\n"
            "metadata:\n  generateName: 9-\n",
            "metadata.generateName", "DNS-1035");
    fx_fail(REV_HEAD "  labels:\n    app: \"-x\"\nspec:\n  containers:\n"
                     "    - image: img\n",
            "metadata.labels[app]", "a valid label must be");
}

TEST(serving_template_names)
{
    fx_ok(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                    "      name: hello-v1\n    spec:\n      containers:\n"
                    "        - image: img\n");
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                      "      name: other-v1\n    spec:\n      containers:\n"
                      "        - image: img\n",
            "spec.template.metadata.name",
            "invalid value \"other-v1\": must have prefix \"hello-\"");
    /* "hello" itself is no "hello-" prefix. */
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                      "      name: hellov1\n    spec:\n      containers:\n"
                      "        - image: img\n",
            "spec.template.metadata.name", "must have prefix \"hello-\"");
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                      "      name: hello-V1\n    spec:\n      containers:\n"
                      "        - image: img\n",
            "spec.template.metadata.name", "a DNS-1035 label must consist of");
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                      "      generateName: 0hello-\n    spec:\n"
                      "      containers:\n        - image: img\n",
            "spec.template.metadata.generateName", "DNS-1035");
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Configuration\n"
            "metadata:\n  generateName: hello-\nspec:\n  template:\n"
            "    metadata:\n      name: hello-v1\n    spec:\n"
            "      containers:\n        - image: img\n",
            "spec.template.metadata.name", "must not set the field(s)");
    /* The template's metadata is a whole ObjectMeta, checked as one. */
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n      labels:\n"
                      "        \"a b\": x\n    spec:\n      containers:\n"
                      "        - image: img\n",
            "spec.template.metadata.labels[a b]", "invalid key");
    fx_fail(KSVC_HEAD "spec:\n  template:\n    metadata:\n      nme: x\n"
                      "    spec:\n      containers:\n        - image: img\n",
            "spec.template.metadata.nme", "unknown field");
}

TEST(serving_traffic_rules)
{
    fx_fail(KSVC_TRAFFIC("    - percent: 90\n"), "spec.traffic",
            "traffic targets sum to 90, want 100");
    fx_fail(KSVC_TRAFFIC("    - percent: 150\n    - percent: -50\n"),
            "spec.traffic[0].percent", "expected 0 <= 150 <= 100");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      configurationName: c\n"),
            "spec.traffic[0].configurationName", "must not set the field(s)");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      revisionName: hello-1\n"
                         "      latestRevision: true\n"),
            "spec.traffic[0].latestRevision",
            "may not set revisionName \"hello-1\" when latestRevision is "
            "true");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      latestRevision: false\n"),
            "spec.traffic[0].latestRevision",
            "may not set revisionName \"\" when latestRevision is false");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      url: http://x.example/\n"),
            "spec.traffic[0].url", "must not set the field(s)");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      tag: V1\n"),
            "spec.traffic[0].tag", "a DNS-1035 label must consist of");
    fx_fail(KSVC_TRAFFIC("    - percent: 50\n      tag: a\n"
                         "    - percent: 50\n      revisionName: hello-1\n"
                         "      tag: a\n"),
            "spec.traffic[1].tag", "multiple definitions for \"a\"");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      revisionName: \"a b\"\n"),
            "spec.traffic[0].revisionName", "invalid key \"a b\"");
    fx_fail(KSVC_TRAFFIC("    - percent: \"100\"\n"), "spec.traffic[0].percent",
            "expected integer, got string");
    fx_fail(KSVC_TRAFFIC("    - percent: 100\n      weight: 1\n"),
            "spec.traffic[0].weight", "unknown field");

    /* Route: a configuration or a revision, exactly one. */
    fx_ok(ROUTE_TRAFFIC("    - configurationName: c\n      percent: 60\n"
                        "    - revisionName: c-00001\n      percent: 40\n"));
    fx_fail(ROUTE_TRAFFIC("    - percent: 100\n"), "spec.traffic[0]",
            "expected exactly one, got neither");
    fx_fail(ROUTE_TRAFFIC("    - percent: 100\n      configurationName: c\n"
                          "      revisionName: c-00001\n"
                          "      latestRevision: false\n"),
            "spec.traffic[0].configurationName",
            "expected exactly one, got both");
    fx_fail(ROUTE_TRAFFIC("    - configurationName: c\n      percent: 100\n"
                          "      latestRevision: false\n"),
            "spec.traffic[0].latestRevision",
            "may not set revisionName \"\" when latestRevision is false");
}

TEST(serving_containers)
{
    fx_fail(KSVC_HEAD "spec:\n  template:\n    spec: {}\n",
            "spec.template.spec.containers", "missing field(s)");
    fx_fail(KSVC_HEAD "spec: {}\n", "spec.template.spec.containers",
            "missing field(s)");
    fx_fail(REV_HEAD "spec:\n  containers: []\n", "spec.containers",
            "missing field(s)");
    fx_fail(KSVC_SPEC("      containers:\n        - name: a\n"), C0 ".image",
            "missing field(s)");
    fx_fail(KSVC_SPEC("      containers:\n        - image: \"\"\n"),
            C0 ".image", "missing field(s)");
    fx_fail(KSVC_C("          name: queue-proxy\n"), C0 ".name",
            "\"queue-proxy\" is a reserved container name");
    fx_fail(KSVC_C("          name: App\n"), C0 ".name",
            "a lowercase RFC 1123 label");
    fx_fail(KSVC_SPEC("      containers:\n        - image: a\n"
                      "          name: x\n          ports:\n"
                      "            - containerPort: 8080\n"
                      "        - image: b\n          name: x\n"),
            "spec.template.spec.containers[1].name",
            "duplicate container name \"x\"");
    /* Fields Knative's masks leave out are unknown. */
    fx_fail(KSVC_C("          stdin: true\n"), C0 ".stdin", "unknown field");
    fx_fail(KSVC_SPEC("      hostNetwork: true\n      containers:\n"
                      "        - image: img\n"),
            "spec.template.spec.hostNetwork", "unknown field");
    fx_fail(KSVC_SPEC("      automountServiceAccountToken: true\n"
                      "      containers:\n        - image: img\n"),
            "spec.template.spec.automountServiceAccountToken",
            "must not set the field(s)");
    fx_fail(KSVC_SPEC("      serviceAccountName: Bad_Name\n"
                      "      containers:\n        - image: img\n"),
            "spec.template.spec.serviceAccountName", "RFC 1123 subdomain");
    fx_fail(KSVC_C("          imagePullPolicy: Sometimes\n"),
            C0 ".imagePullPolicy", "invalid value \"Sometimes\"");
    /* The scheduling hints Knative gates behind flags pass. */
    fx_ok(KSVC_SPEC("      nodeSelector:\n        disk: ssd\n"
                    "      tolerations:\n        - key: k\n"
                    "      automountServiceAccountToken: false\n"
                    "      containers:\n        - image: img\n"));
    /* Bounds of the RevisionSpec numbers. */
    fx_fail(KSVC_SPEC("      timeoutSeconds: 601\n      containers:\n"
                      "        - image: img\n"),
            "spec.template.spec.timeoutSeconds", "expected 0 <= 601 <= 600");
    fx_fail(KSVC_SPEC("      timeoutSeconds: -1\n      containers:\n"
                      "        - image: img\n"),
            "spec.template.spec.timeoutSeconds", "expected 0 <= -1 <= 600");
    fx_fail(KSVC_SPEC("      containerConcurrency: 1001\n      containers:\n"
                      "        - image: img\n"),
            "spec.template.spec.containerConcurrency",
            "expected 0 <= 1001 <= 1000");
    fx_fail(KSVC_SPEC("      responseStartTimeoutSeconds: 700\n"
                      "      containers:\n        - image: img\n"),
            "spec.template.spec.responseStartTimeoutSeconds",
            "expected 0 <= 700 <= 600");
    fx_fail(KSVC_SPEC("      idleTimeoutSeconds: -5\n"
                      "      containers:\n        - image: img\n"),
            "spec.template.spec.idleTimeoutSeconds", "expected 0 <= -5 <= 600");
}

TEST(serving_ports)
{
    fx_fail(KSVC_C("          ports:\n            - containerPort: 8080\n"
                   "            - containerPort: 8081\n"),
            C0 ".ports[1]", "more than one container port is set");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 8012\n"),
            C0 ".ports[0].containerPort", "invalid value 8012: reserved");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 9091\n"),
            C0 ".ports[0].containerPort", "invalid value 9091: reserved");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 70000\n"),
            C0 ".ports[0].containerPort", "expected 0 <= 70000 <= 65535");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 8080\n"
                   "              name: grpc\n"),
            C0 ".ports[0].name",
            "invalid value \"grpc\": expected one of \"http1\", \"h2c\", \"\"");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 8080\n"
                   "              protocol: UDP\n"),
            C0 ".ports[0].protocol", "invalid value \"UDP\"");
    fx_fail(KSVC_C("          ports:\n            - containerPort: 8080\n"
                   "              hostPort: 80\n"),
            C0 ".ports[0].hostPort", "unknown field");
    fx_ok(KSVC_C("          ports:\n            - containerPort: 8080\n"
                 "              name: h2c\n              protocol: TCP\n"));

    /* Several containers: exactly one declares the port. */
    fx_fail(KSVC_SPEC("      containers:\n        - image: a\n"
                      "        - image: b\n"),
            "spec.template.spec.containers",
            "missing field(s): with several containers");
    fx_fail(KSVC_SPEC("      containers:\n        - image: a\n"
                      "          ports:\n            - containerPort: 8080\n"
                      "        - image: b\n"
                      "          ports:\n            - containerPort: 8081\n"),
            "spec.template.spec.containers[1].ports",
            "only one container may declare a port");
}

TEST(serving_env)
{
    static const char *const reserved[] = { "PORT", "K_SERVICE",
                                            "K_CONFIGURATION", "K_REVISION" };
    char yaml[512];
    size_t i;

    for (i = 0; i < 4; i++) {
        snprintf(yaml, sizeof(yaml),
                 KSVC_C("          env:\n            - name: %s\n"
                        "              value: x\n"),
                 reserved[i]);
        fx_fail(yaml, C0 ".env[0].name", "is a reserved environment variable");
    }
    /* A sidecar may use PORT, not the K_ names. */
    fx_ok(KSVC_SPEC("      containers:\n        - image: a\n"
                    "          ports:\n            - containerPort: 8080\n"
                    "        - image: b\n"
                    "          env:\n            - name: PORT\n"
                    "              value: \"9\"\n"));
    fx_fail(KSVC_SPEC("      containers:\n        - image: a\n"
                      "          ports:\n            - containerPort: 8080\n"
                      "        - image: b\n"
                      "          env:\n            - name: K_REVISION\n"),
            "spec.template.spec.containers[1].env[0].name",
            "\"K_REVISION\" is a reserved environment variable");
    fx_fail(KSVC_C("          env:\n            - value: x\n"),
            C0 ".env[0].name", "missing field(s)");
    fx_fail(KSVC_C("          env:\n            - name: \"\"\n"),
            C0 ".env[0].name", "missing field(s)");
    fx_fail(
        KSVC_C("          env:\n            - name: A\n              value: "
               "x\n              valueFrom:\n                "
               "secretKeyRef: {name: s, key: k}\n"),
        C0 ".env[0].valueFrom", "expected exactly one, got both");
    fx_fail(KSVC_C("          env:\n            - name: A\n"
                   "              value: 1\n"),
            C0 ".env[0].value", "expected string, got integer");
}

TEST(serving_probes)
{
    fx_fail(KSVC_C("          readinessProbe:\n            httpGet: {}\n"
                   "            tcpSocket: {}\n"),
            C0 ".readinessProbe.tcpSocket", "expected exactly one, got both");
    fx_fail(KSVC_C("          livenessProbe:\n            periodSeconds: 3\n"),
            C0 ".livenessProbe", "expected exactly one, got neither");
    fx_fail(KSVC_C("          readinessProbe:\n            tcpSocket: {}\n"
                   "            failureThreshold: 3\n"),
            C0 ".readinessProbe.failureThreshold",
            "failureThreshold is disallowed when periodSeconds is zero");
    fx_fail(KSVC_C("          readinessProbe:\n            tcpSocket: {}\n"
                   "            timeoutSeconds: 3\n"),
            C0 ".readinessProbe.timeoutSeconds",
            "timeoutSeconds is disallowed when periodSeconds is zero");
    fx_fail(KSVC_C("          readinessProbe:\n            tcpSocket: {}\n"
                   "            periodSeconds: -1\n"),
            C0 ".readinessProbe.periodSeconds", "expected 0 <= -1");
    fx_fail(KSVC_C("          readinessProbe:\n            tcpSocket: {}\n"
                   "            successThreshold: -2\n"),
            C0 ".readinessProbe.successThreshold", "expected 1 <= -2");
    fx_fail(KSVC_C("          readinessProbe:\n            httpGet:\n"
                   "              scheme: FTP\n"),
            C0 ".readinessProbe.httpGet.scheme", "invalid value \"FTP\"");
    fx_fail(KSVC_C("          readinessProbe:\n            tcpSocket:\n"
                   "              port: [1]\n"),
            C0 ".readinessProbe.tcpSocket.port",
            "expected integer or string, got array");
    fx_ok(KSVC_C("          readinessProbe:\n            httpGet:\n"
                 "              port: http\n            periodSeconds: 2\n"
                 "            failureThreshold: 5\n"
                 "          startupProbe:\n            exec:\n"
                 "              command: [\"true\"]\n"));
}

TEST(serving_volumes)
{
#define VOLS(mounts, vols)                     \
    KSVC_C("          volumeMounts:\n" mounts) \
    "      "                                   \
    "volumes:\n" vols

    fx_ok(VOLS("            - name: v\n              mountPath: /v\n",
               "        - name: v\n          configMap:\n            name: "
               "c\n"));
    fx_fail(VOLS("            - name: w\n              mountPath: /v\n",
                 "        - name: v\n          configMap: {name: c}\n"),
            C0 ".volumeMounts[0].name", "volumeMount has no matching volume");
    fx_fail(VOLS("            - name: v\n              mountPath: v\n",
                 "        - name: v\n          configMap: {name: c}\n"),
            C0 ".volumeMounts[0].mountPath", "must be an absolute path");
    fx_fail(VOLS("            - name: v\n              mountPath: /var//log/\n",
                 "        - name: v\n          configMap: {name: c}\n"),
            C0 ".volumeMounts[0].mountPath",
            "mountPath \"/var/log\" is a reserved path");
    fx_fail(VOLS("            - name: v\n              mountPath: /a\n"
                 "            - name: v\n              mountPath: /b/../a\n",
                 "        - name: v\n          configMap: {name: c}\n"),
            C0 ".volumeMounts[1].mountPath", "must be unique");
    fx_fail(VOLS("            - name: v\n              mountPath: /a\n",
                 "        - name: v\n          configMap: {name: c}\n"
                 "        - name: u\n          secret: {secretName: s}\n"),
            "spec.template.spec.volumes[1].name",
            "volume with name \"u\" not mounted");
    fx_fail(VOLS("            - name: v\n              mountPath: /a\n",
                 "        - name: v\n          configMap: {name: c}\n"
                 "          secret: {secretName: s}\n"),
            "spec.template.spec.volumes[0].secret",
            "expected exactly one, got both");
    fx_fail(VOLS("            - name: v\n              mountPath: /a\n",
                 "        - name: v\n"),
            "spec.template.spec.volumes[0]",
            "expected exactly one, got neither");
    fx_fail(VOLS("            - name: v\n              mountPath: /a\n",
                 "        - name: v\n          hostPath: {path: /}\n"),
            "spec.template.spec.volumes[0].hostPath", "unknown field");
#undef VOLS
}

TEST(serving_autoscaling_annotations)
{
    /* Every rule family at its annotation's path. */
    static const struct {
        const char *ann, *key, *msg;
    } bad[] = {
        { "autoscaling.knative.dev/class: foo.knative.dev", "class",
          "invalid value \"foo.knative.dev\": expected one of" },
        { "autoscaling.knative.dev/metric: cpu", "metric",
          "invalid value \"cpu\": expected one of \"concurrency\", \"rps\"" },
        { "autoscaling.knative.dev/target: \"0.001\"", "target",
          "target 0.001 should be at least 0.01" },
        { "autoscaling.knative.dev/target: ten", "target",
          "target ten should be at least 0.01" },
        { "autoscaling.knative.dev/target: NaN", "target",
          "should be at least" },
        { "autoscaling.knative.dev/target-utilization-percentage: \"0.5\"",
          "target-utilization-percentage", "expected 1 <= 0.5 <= 100" },
        { "autoscaling.knative.dev/targetUtilizationPercentage: \"101\"",
          "targetUtilizationPercentage", "expected 1 <= 101 <= 100" },
        { "autoscaling.knative.dev/min-scale: \"-1\"", "min-scale",
          "expected 0 <= -1 <= 2147483647" },
        { "autoscaling.knative.dev/minScale: \"3000000000\"", "minScale",
          "expected 0 <= 3000000000 <= 2147483647" },
        { "autoscaling.knative.dev/max-scale: \"1.5\"", "max-scale",
          "invalid value \"1.5\": not an integer" },
        { "autoscaling.knative.dev/initial-scale: \"0\"", "initial-scale",
          "allow-zero-initial-scale" },
        { "autoscaling.knative.dev/initialScale: \"-2\"", "initialScale",
          "expected an integer >= 0" },
        { "autoscaling.knative.dev/activation-scale: \"1\"", "activation-scale",
          "expected 2 <= 1 <= 2147483647" },
        { "autoscaling.knative.dev/window: \"5s\"", "window",
          "expected 6s <= 5s <= 1h" },
        { "autoscaling.knative.dev/window: \"61m\"", "window",
          "expected 6s <= 61m <= 1h" },
        { "autoscaling.knative.dev/window: \"6500ms\"", "window",
          "must be specified with at most second precision" },
        { "autoscaling.knative.dev/window: PT60S", "window",
          "invalid value \"PT60S\": invalid duration" },
        { "autoscaling.knative.dev/window: \"1d\"", "window",
          "unknown unit \"d\" in duration" },
        { "autoscaling.knative.dev/window: \"60\"", "window",
          "missing unit in duration" },
        { "autoscaling.knative.dev/panic-window-percentage: \"0.5\"",
          "panic-window-percentage", "expected 1 <= 0.5 <= 100" },
        { "autoscaling.knative.dev/panicThresholdPercentage: \"100\"",
          "panicThresholdPercentage", "expected 110 <= 100 <= 1000" },
        { "autoscaling.knative.dev/panic-threshold-percentage: \"1001\"",
          "panic-threshold-percentage", "expected 110 <= 1001 <= 1000" },
        { "autoscaling.knative.dev/scale-down-delay: \"-1s\"",
          "scale-down-delay", "expected 0s <= -1s <= 1h" },
        { "autoscaling.knative.dev/scaleDownDelay: \"1.5s\"", "scaleDownDelay",
          "must be specified with at most second precision" },
        { "autoscaling.knative.dev/scale-to-zero-pod-retention-period: "
          "\"2h\"",
          "scale-to-zero-pod-retention-period", "expected 0s <= 2h <= 1h" },
        { "autoscaling.knative.dev/target-burst-capacity: \"-2\"",
          "target-burst-capacity", "expected -1 (unlimited) or a number >= 0" },
        { "autoscaling.knative.dev/targetBurstCapacity: lots",
          "targetBurstCapacity", "invalid value \"lots\"" },
    };
    char yaml[1024], field[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), KSVC_ANN("        %s\n"), bad[i].ann);
        snprintf(field, sizeof(field), ANN_PATH "[autoscaling.knative.dev/%s]",
                 bad[i].key);
        fx_fail(yaml, field, bad[i].msg);
    }

    /* Cross rules. */
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/min-scale: \"5\"\n"
                     "        autoscaling.knative.dev/maxScale: \"2\"\n"),
            ANN_PATH "[autoscaling.knative.dev/maxScale]",
            "max-scale=2 is less than min-scale=5");
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/min-scale: \"5\"\n"
                     "        autoscaling.knative.dev/activation-scale: "
                     "\"3\"\n"),
            ANN_PATH "[autoscaling.knative.dev/activation-scale]",
            "activation-scale=3 is less than min-scale=5");
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/max-scale: \"4\"\n"
                     "        autoscaling.knative.dev/activation-scale: "
                     "\"5\"\n"),
            ANN_PATH "[autoscaling.knative.dev/activation-scale]",
            "activation-scale=5 is greater than max-scale=4");
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/min-scale: \"1\"\n"
                     "        autoscaling.knative.dev/minScale: \"1\"\n"),
            ANN_PATH "[autoscaling.knative.dev/minScale]",
            "expected exactly one, got both");
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/class: "
                     "hpa.autoscaling.knative.dev\n"
                     "        autoscaling.knative.dev/metric: \"\"\n"),
            ANN_PATH "[autoscaling.knative.dev/metric]", "must not be empty");
    fx_fail(KSVC_ANN("        autoscaling.knative.dev/class: "
                     "kpa.autoscaling.knative.dev\n"
                     "        autoscaling.knative.dev/"
                     "metric-aggregation-algorithm: median\n"),
            ANN_PATH "[autoscaling.knative.dev/metric-aggregation-algorithm]",
            "invalid value \"median\"");

    /* Accepted: HPA metrics, other autoscalers' classes and metrics, the
     * algorithm without an explicit KPA class, max-scale 0 (unbounded),
     * fractional and compound durations, unknown autoscaling keys. */
    fx_ok(KSVC_ANN("        autoscaling.knative.dev/class: "
                   "hpa.autoscaling.knative.dev\n"
                   "        autoscaling.knative.dev/metric: memory\n"
                   "        autoscaling.knative.dev/target: \"75\"\n"));
    fx_ok(KSVC_ANN("        autoscaling.knative.dev/class: keda.sh\n"
                   "        autoscaling.knative.dev/metric: anything\n"));
    fx_ok(KSVC_ANN("        autoscaling.knative.dev/"
                   "metricAggregationAlgorithm: median\n"));
    fx_ok(KSVC_ANN("        autoscaling.knative.dev/min-scale: \"3\"\n"
                   "        autoscaling.knative.dev/max-scale: \"0\"\n"
                   "        autoscaling.knative.dev/initial-scale: \"+2\"\n"
                   "        autoscaling.knative.dev/activation-scale: \"3\"\n"
                   "        autoscaling.knative.dev/window: \"1m30s\"\n"
                   "        autoscaling.knative.dev/scale-to-zero-pod-"
                   "retention-period: \"1.5m\"\n"
                   "        autoscaling.knative.dev/target-burst-capacity: "
                   "\"-1\"\n"
                   "        autoscaling.knative.dev/panic-window-percentage: "
                   "\"7.5\"\n"
                   "        autoscaling.knative.dev/something-new: x\n"));

    /* A Revision carries them on its own metadata. */
    fx_fail(REV_HEAD "  annotations:\n"
                     "    autoscaling.knative.dev/window: \"2s\"\n"
                     "spec:\n  containers:\n    - image: img\n",
            "metadata.annotations[autoscaling.knative.dev/window]",
            "expected 6s <= 2s <= 1h");
}

TEST(serving_object_metadata)
{
    /* Service and Configuration: autoscaling only on the template. */
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Service\n"
            "metadata:\n  name: hello\n  annotations:\n"
            "    autoscaling.knative.dev/min-scale: \"1\"\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            "        - image: img\n",
            "metadata.annotations[autoscaling.knative.dev/min-scale]",
            "autoscaling annotations must be put under "
            "\"spec.template.metadata.annotations\" to work");
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Configuration\n"
            "metadata:\n  name: hello\n  annotations:\n"
            "    autoscaling.knative.dev/class: x\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            "        - image: img\n",
            "metadata.annotations[autoscaling.knative.dev/class]",
            "invalid key name");
    fx_fail("apiVersion: serving.knative.dev/v1\nkind: Service\n"
            "metadata:\n  name: hello\n  labels:\n"
            "    networking.knative.dev/visibility: public\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            "        - image: img\n",
            "metadata.labels[networking.knative.dev/visibility]",
            "expected \"cluster-local\"");
    fx_fail(
        ROUTE_TRAFFIC(
            "    - configurationName: c\n      percent: 100\n") "status:\n  "
                                                                "url: "
                                                                "x\nextra: 1\n",
        "extra", "unknown field");
}

TEST(serving_updates)
{
    const char *rev = REV_HEAD "spec:\n  containers:\n    - image: a\n";
    const char *named = KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                                  "      name: hello-v1\n    spec:\n"
                                  "      containers:\n        - image: a\n";
    struct json_object *o, *old;

    /* A Revision's spec never changes; its metadata may. */
    fx_fail_env(REV_HEAD "spec:\n  containers:\n    - image: b\n", rev, NULL,
                "spec", "immutable fields changed (-old +new)");
    fx_fail_env(REV_HEAD "spec:\n  timeoutSeconds: 30\n  containers:\n"
                         "    - image: a\n",
                rev, NULL, "spec", "immutable fields changed");
    old = sv_admit(rev);
    o = fx_yaml(REV_HEAD "  labels:\n    x: y\nspec:\n  containers:\n"
                         "    - image: a\n");
    fx_admit_ok(o, old, NULL);
    json_object_put(o);
    json_object_put(old);

    /* A template keeping its revision name must stay as it is. */
    fx_fail_env(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                          "      name: hello-v1\n    spec:\n"
                          "      containers:\n        - image: b\n",
                named, NULL, "spec.template.metadata.name",
                "saw changes to the template without a name change");
    old = sv_admit(named);
    /* A new name, no name, or a traffic change are fine. */
    o = fx_yaml(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                          "      name: hello-v2\n    spec:\n"
                          "      containers:\n        - image: b\n");
    fx_admit_ok(o, old, NULL);
    json_object_put(o);
    o = fx_yaml(KSVC_HEAD "spec:\n  template:\n    spec:\n"
                          "      containers:\n        - image: b\n");
    fx_admit_ok(o, old, NULL);
    json_object_put(o);
    o = fx_yaml(KSVC_HEAD "spec:\n  template:\n    metadata:\n"
                          "      name: hello-v1\n    spec:\n"
                          "      containers:\n        - image: a\n"
                          "  traffic:\n    - revisionName: hello-v1\n"
                          "      percent: 100\n");
    fx_admit_ok(o, old, NULL);
    json_object_put(o);
    json_object_put(old);

    /* The same for a Configuration; a Route has nothing immutable. */
    fx_fail_env("apiVersion: serving.knative.dev/v1\nkind: Configuration\n"
                "metadata:\n  name: c\nspec:\n  template:\n    metadata:\n"
                "      name: c-1\n    spec:\n      containers:\n"
                "        - image: b\n",
                "apiVersion: serving.knative.dev/v1\nkind: Configuration\n"
                "metadata:\n  name: c\nspec:\n  template:\n    metadata:\n"
                "      name: c-1\n    spec:\n      containers:\n"
                "        - image: a\n",
                NULL, "spec.template.metadata.name", "without a name change");
    old = sv_admit(ROUTE_TRAFFIC("    - configurationName: c\n"
                                 "      percent: 100\n"));
    o = fx_yaml(ROUTE_TRAFFIC("    - revisionName: c-1\n      percent: 100\n"));
    fx_admit_ok(o, old, NULL);
    json_object_put(o);
    json_object_put(old);
}

/* ---- Go durations ---- */

TEST(goduration_valid)
{
    static const struct {
        const char *s;
        int64_t ns;
    } ok[] = {
        { "0", 0 },
        { "+0", 0 },
        { "-0", 0 },
        { "60s", 60 * SL_GODUR_SECOND },
        { "1m30s", 90 * SL_GODUR_SECOND },
        { "1h", SL_GODUR_HOUR },
        { "500ms", 500 * SL_GODUR_MS },
        { "1.5s", 1500 * SL_GODUR_MS },
        { ".5s", 500 * SL_GODUR_MS },
        { "5.s", 5 * SL_GODUR_SECOND },
        { "1.5h", 90 * SL_GODUR_MINUTE },
        { "2h45m", 165 * SL_GODUR_MINUTE },
        { "-1.5m", -90 * SL_GODUR_SECOND },
        { "+3s", 3 * SL_GODUR_SECOND },
        { "1ns", 1 },
        { "1us", 1000 },
        { "1\xc2\xb5s", 1000 },
        { "1\xce\xbcs", 1000 },
        { "0.000000001s", 1 },
        { "0.0000000019s", 1 }, /* truncated, as Go does */
        { "1h1m1s1ms1us1ns", SL_GODUR_HOUR + SL_GODUR_MINUTE + SL_GODUR_SECOND +
                                 SL_GODUR_MS + 1000 + 1 },
        { "10s10s", 20 * SL_GODUR_SECOND },
        { "0s", 0 },
        { "000012s", 12 * SL_GODUR_SECOND },
        { "9223372036854775807ns", INT64_MAX },
        { "-9223372036854775808ns", INT64_MIN },
        { "2562047h", 2562047 * SL_GODUR_HOUR },
        { "1.00000000000000000000000000001s", SL_GODUR_SECOND },
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct sl_diag d;
        int64_t ns = 12345;

        sl_diag_clear(&d);
        if (sl_res_goduration_parse(ok[i].s, &ns, &d) != 0)
            CHECK_FAIL("\"%s\": %s", ok[i].s, d.msg);
        if (ns != ok[i].ns)
            CHECK_FAIL("\"%s\": %lld, want %lld", ok[i].s, (long long)ns,
                       (long long)ok[i].ns);
    }
}

TEST(goduration_invalid)
{
    static const struct {
        const char *s, *msg;
    } bad[] = {
        { "", "invalid duration" },
        { "-", "invalid duration" },
        { "+", "invalid duration" },
        { "s", "invalid duration" },
        { ".s", "invalid duration" },
        { ".", "invalid duration" },
        { "1", "missing unit in duration" },
        { "00", "missing unit in duration" },
        { "1s5", "missing unit in duration" },
        { "1..5s", "missing unit in duration" },
        { "1d", "unknown unit \"d\" in duration" },
        { "2w", "unknown unit \"w\" in duration" },
        { "1y", "unknown unit \"y\" in duration" },
        { "1S", "unknown unit \"S\" in duration" },
        { "1 s", "unknown unit \" s\" in duration" },
        { "PT60S", "invalid duration" },
        { "P1D", "invalid duration" },
        { " 1s", "invalid duration" },
        { "1s ", "unknown unit \"s \" in duration" },
        { "--1s", "invalid duration" },
        { "9223372036854775808ns", "duration out of range" },
        { "2562048h", "duration out of range" },
        { "99999999999999999999s", "duration out of range" },
        { "9223372036854775807ns1ns", "duration out of range" },
        { "-9223372036854775809ns", "duration out of range" },
        { "9223372036854775808ns9223372036854775808ns",
          "duration out of range" },
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_diag d;
        int64_t ns = 12345;

        sl_diag_clear(&d);
        if (sl_res_goduration_parse(bad[i].s, &ns, &d) != SL_EINVAL)
            CHECK_FAIL("\"%s\" parsed as %lld", bad[i].s, (long long)ns);
        ASSERT_EQ(ns, 12345);
        if (strcmp(d.msg, bad[i].msg) != 0)
            CHECK_FAIL("\"%s\": got \"%s\", want \"%s\"", bad[i].s, d.msg,
                       bad[i].msg);
    }
    /* A NULL diag is allowed. */
    ASSERT_EQ(sl_res_goduration_parse("x", &(int64_t){ 0 }, NULL), SL_EINVAL);
}

/* ---- lookups ---- */

TEST(serving_annotation_lookup)
{
    struct json_object *anns =
        json_tokener_parse("{\"autoscaling.knative.dev/minScale\": \"2\","
                           " \"autoscaling.knative.dev/max-scale\": \"9\","
                           " \"autoscaling.knative.dev/window\": \"1m\"}");
    const char *key;

    ASSERT(anns != NULL);
    ASSERT_STR_EQ(sl_res_sv_annotation(anns, SL_RES_AS_MIN_SCALE, &key), "2");
    ASSERT_STR_EQ(key, "autoscaling.knative.dev/minScale");
    ASSERT_STR_EQ(sl_res_sv_annotation(anns, SL_RES_AS_MAX_SCALE, &key), "9");
    ASSERT_STR_EQ(key, SL_RES_AS_MAX_SCALE);
    ASSERT_STR_EQ(sl_res_sv_annotation(anns, SL_RES_AS_WINDOW, NULL), "1m");
    ASSERT(sl_res_sv_annotation(anns, SL_RES_AS_TARGET, &key) == NULL);
    ASSERT(key == NULL);
    ASSERT(sl_res_sv_annotation(NULL, SL_RES_AS_TARGET, NULL) == NULL);
    json_object_put(anns);
}

TEST(serving_cli_names)
{
    const struct sl_res_kind *ksvc =
        sl_res_kind_find("serving.knative.dev/v1", "Service");
    const struct sl_res_kind *cfg =
        sl_res_kind_find("serving.knative.dev/v1", "Configuration");
    const struct sl_res_kind *rev =
        sl_res_kind_find("serving.knative.dev/v1", "Revision");
    const struct sl_res_kind *rt =
        sl_res_kind_find("serving.knative.dev/v1", "Route");

    ASSERT(ksvc != NULL && cfg != NULL && rev != NULL && rt != NULL);
    ASSERT(sl_res_kind_by_name("ksvc") == ksvc);
    ASSERT(sl_res_kind_by_name("kservice") == ksvc);
    ASSERT(sl_res_kind_by_name("services.serving.knative.dev") == ksvc);
    ASSERT(sl_res_kind_by_name("config") == cfg);
    ASSERT(sl_res_kind_by_name("CFG") == cfg);
    ASSERT(sl_res_kind_by_name("rev") == rev);
    ASSERT(sl_res_kind_by_name("rt") == rt);
    ASSERT(sl_res_kind_by_name("route.v1.serving.knative.dev") == rt);
    ASSERT(sl_res_kind_by_resource("serving.knative.dev", "v1",
                                   "configurations") == cfg);
    ASSERT(sl_res_kind_find("serving.knative.dev/v1alpha1", "Service") == NULL);
}

TEST_MAIN()
