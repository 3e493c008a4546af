/*
 * control/others.c - reconcilers for the sources, the Serving kinds and
 * Namespace: sink resolution and truthful conditions.
 *
 * Every source resolves spec.sink into status.sinkUri (SinkProvided).
 * PingSource then runs in this process (control/sources.c sets its
 * Deployed) and publishes status.ceAttributes as Knative does; the other
 * sources here report Deployed False until their adapter exists in this
 * build. KafkaSource has a reconciler of its own (control/kafkasource.c). The
 * Serving kinds report Ready False (ServingNotAvailable) until the process
 * runtime exists.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "control/internal.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"
#include "resource/resource.h"
#include "resource/schema.h"

int sl__ctl_source_sink(struct sl_rec *r, char **purl)
{
    struct json_object *sink = sl_res_dig(r->obj, "spec.sink");
    struct sl_diag why;
    char *url = NULL;

    int rc;

    if (purl != NULL)
        *purl = NULL;
    sl_diag_clear(&why);
    rc = sl_rec_resolve(r, sink, r->ns, &url, &why);
    if (rc == 0) {
        sl_rec_set(r, "sinkUri", json_object_new_string(url));
        sl_rec_cond(r, "SinkProvided", "True", NULL, NULL);
        if (purl != NULL)
            *purl = url;
        else
            sl_free(url);
        return 0;
    }
    sl_rec_set(r, "sinkUri", NULL);
    sl_rec_cond(r, "SinkProvided", "False", "NotFound", "%s", why.msg);
    return rc == SL_EAGAIN ? SL_EAGAIN : 0;
}

static int source_reconcile(struct sl_rec *r)
{
    static const char *const ready[] = { "SinkProvided", "Deployed", NULL };
    char *url = NULL;
    int rc = sl__ctl_source_sink(r, &url);
    bool ping = strcmp(r->kind->kind, "PingSource") == 0;

    if (ping) {
        struct json_object *attrs = json_object_new_array(),
                           *a = json_object_new_object();
        char src[600];

        snprintf(src, sizeof(src), "/apis/v1/namespaces/%s/pingsources/%s",
                 r->ns, r->name);
        json_object_object_add(a, "source", json_object_new_string(src));
        json_object_object_add(
            a, "type", json_object_new_string("dev.knative.sources.ping"));
        json_object_array_add(attrs, a);
        sl_rec_set(r, "ceAttributes", attrs);
    }
    /* PingSource runs in this process (control/sources.c). */
    if (ping && sl_rec_opts(r)->sources != NULL)
        sl__ctl_source_deploy(r, url);
    else
        sl_rec_cond(r, "Deployed", "False", "DataPlaneNotAvailable",
                    "no adapter runs this %s yet", r->kind->kind);
    sl_free(url);
    sl_rec_ready(r, ready);
    return rc;
}

#define SOURCE(sym, grp, knd)                                         \
    const struct sl_reconciler sym = { .group = grp,                  \
                                       .kind = knd,                   \
                                       .reconcile = source_reconcile, \
                                       .finalize = sl__ctl_source_finalize }

SOURCE(sl__ctl_pingsource, "sources.knative.dev", "PingSource");
SOURCE(sl__ctl_apiserversource, "sources.knative.dev", "ApiServerSource");
SOURCE(sl__ctl_containersource, "sources.knative.dev", "ContainerSource");
SOURCE(sl__ctl_rabbitmqsource, "sources.knative.dev", "RabbitmqSource");

static int sinkbinding_reconcile(struct sl_rec *r)
{
    static const char *const ready[] = { "SinkProvided", "BindingAvailable",
                                         NULL };
    int rc = sl__ctl_source_sink(r, NULL);

    sl_rec_cond(r, "BindingAvailable", "False", "DataPlaneNotAvailable",
                "no runtime binds subjects in this build yet");
    sl_rec_ready(r, ready);
    return rc;
}

const struct sl_reconciler sl__ctl_sinkbinding = {
    .group = "sources.knative.dev",
    .kind = "SinkBinding",
    .reconcile = sinkbinding_reconcile,
};

/* ---- Serving ---- */

static int serving_reconcile(struct sl_rec *r)
{
    static const char *const svc[] = { "ConfigurationsReady", "RoutesReady",
                                       NULL };
    static const char *const none[] = { "ServingReady", NULL };
    const char *k = r->kind->kind;

    if (strcmp(k, "Service") == 0) {
        sl_rec_cond(r, "ConfigurationsReady", "False", "ServingNotAvailable",
                    "no Serving runtime in this build yet");
        sl_rec_cond(r, "RoutesReady", "False", "ServingNotAvailable",
                    "no Serving runtime in this build yet");
        sl_rec_ready(r, svc);
    } else {
        sl_rec_cond(r, "ServingReady", "False", "ServingNotAvailable",
                    "no Serving runtime in this build yet");
        sl_rec_ready(r, none);
        /* Keep the helper condition out of the object: Ready says it. */
        {
            struct json_object *conds = sl_res_get(r->status, "conditions");
            size_t i;

            for (i = 0; conds != NULL && i < json_object_array_length(conds);
                 i++) {
                struct json_object *t =
                    sl_res_get(json_object_array_get_idx(conds, i), "type");

                if (t != NULL &&
                    strcmp(json_object_get_string(t), "ServingReady") == 0) {
                    json_object_array_del_idx(conds, i, 1);
                    break;
                }
            }
        }
    }
    return 0;
}

#define SERVING(sym, knd)                                              \
    const struct sl_reconciler sym = { .group = "serving.knative.dev", \
                                       .kind = knd,                    \
                                       .reconcile = serving_reconcile }

SERVING(sl__ctl_ksvc, "Service");
SERVING(sl__ctl_configuration, "Configuration");
SERVING(sl__ctl_revision, "Revision");
SERVING(sl__ctl_route, "Route");

/* ---- Namespace ---- */

static int namespace_reconcile(struct sl_rec *r)
{
    sl_rec_set(r, "phase", json_object_new_string("Active"));
    return 0;
}

const struct sl_reconciler sl__ctl_namespace = {
    .group = "",
    .kind = "Namespace",
    .reconcile = namespace_reconcile,
};
