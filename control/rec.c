/*
 * control/rec.c - what a reconciler can do: read other objects (tracked),
 * resolve destinations, set conditions and status fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "control/internal.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/time.h"
#include "core/url.h"
#include "resource/duck.h"
#include "resource/resource.h"
#include "resource/schema.h"
#include "store/store.h"

int sl_rec_get(struct sl_rec *r, const char *group, const char *kind,
               const char *ns, const char *name, struct json_object **out)
{
    const struct sl_res_kind *k = sl_res_kind_by_group_kind(group, kind);
    char kk[256], *key;
    int rc;

    *out = NULL;
    if (k == NULL)
        return SL_ENOENT;
    if (!k->namespaced)
        ns = "";
    sl_res_kind_key(k, kk, sizeof(kk));
    key = sl__ctl_key(kk, ns, name);
    sl__ctl_track(r->ctl, key);
    sl_free(key);
    rc = sl_store_get(sl__ctl_store(r->ctl), kk, ns, name, out, NULL);
    return rc == 0 ? 0 : rc == SL_ENOENT ? SL_ENOENT : SL_EAGAIN;
}

/* Split "group/version" into group (or "" for "v1"). */
static void rec_group(const char *api_version, char *group, size_t len)
{
    const char *slash = strchr(api_version, '/');

    if (slash == NULL)
        group[0] = '\0';
    else
        snprintf(group, len, "%.*s", (int)(slash - api_version), api_version);
}

int sl_rec_resolve(struct sl_rec *r, const struct json_object *dest,
                   const char *ns, char **url, struct sl_diag *why)
{
    struct json_object *ref = NULL, *target = NULL;
    const char *av, *kind, *name, *rns, *uri = sl_res_get_str(dest, "uri");
    struct sl_res_addr addr = { 0 };
    char group[128], base[512];
    int rc;

    *url = NULL;
    if (dest == NULL || !json_object_is_type(dest, json_type_object))
        return sl_diag_set(why, SL_EINVAL, "", "no destination given");
    json_object_object_get_ex(dest, "ref", &ref);
    if (ref != NULL) {
        av = sl_res_get_str(ref, "apiVersion");
        kind = sl_res_get_str(ref, "kind");
        name = sl_res_get_str(ref, "name");
        rns = sl_res_get_str(ref, "namespace");
        if (kind == NULL || name == NULL)
            return sl_diag_set(why, SL_EINVAL, "ref",
                               "ref needs kind and name");
        if (rns != NULL && *rns != '\0')
            ns = rns;
        rec_group(av ? av : "v1", group, sizeof(group));
        if (group[0] == '\0' && strcmp(kind, "Service") == 0) {
            /* A core Service: the cluster DNS name Knative would use. */
            snprintf(base, sizeof(base), "http://%s.%s.%s", name, ns,
                     sl_rec_opts(r)->cluster_domain);
            if (uri == NULL || *uri == '\0') {
                *url = sl_xstrdup(base);
                return 0;
            }
            return sl_url_resolve_str(base, uri, url, why);
        }
        rc = sl_rec_get(r, group, kind, ns, name, &target);
        if (rc == SL_ENOENT)
            return sl_diag_set(why, SL_ENOENT, "ref",
                               "%s \"%s\" not found in namespace \"%s\"", kind,
                               name, ns);
        if (rc != 0)
            return sl_diag_set(why, rc, "ref", "cannot read %s \"%s\"", kind,
                               name);
    }
    rc = sl_res_dest_resolve(dest, target, &addr, why);
    json_object_put(target);
    if (rc == 0) {
        *url = addr.url;
        addr.url = NULL;
    }
    sl_res_addr_fini(&addr);
    return rc;
}

/* ---- status ---- */

static struct json_object *rec_conditions(struct sl_rec *r)
{
    struct json_object *conds;

    if (!json_object_object_get_ex(r->status, "conditions", &conds) ||
        !json_object_is_type(conds, json_type_array)) {
        conds = json_object_new_array();
        json_object_object_add(r->status, "conditions", conds);
    }
    return conds;
}

struct json_object *sl__ctl_cond_find(const struct json_object *conds,
                                      const char *type)
{
    size_t i;

    if (conds == NULL || !json_object_is_type(conds, json_type_array))
        return NULL;
    for (i = 0; i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *t = sl_res_get_str(c, "type");

        if (t != NULL && strcmp(t, type) == 0)
            return c;
    }
    return NULL;
}

static void rec_set_str(struct json_object *o, const char *key, const char *v)
{
    if (v == NULL || *v == '\0')
        json_object_object_del(o, key);
    else
        json_object_object_add(o, key, json_object_new_string(v));
}

static void rec_cond_v(struct sl_rec *r, const char *type, const char *status,
                       const char *reason, const char *msg)
{
    struct json_object *conds = rec_conditions(r);
    struct json_object *c = sl__ctl_cond_find(conds, type);
    const char *old = sl_res_get_str(c, "status");

    if (c == NULL) {
        c = json_object_new_object();
        json_object_object_add(c, "type", json_object_new_string(type));
        json_object_array_add(conds, c);
    }
    if (old == NULL || strcmp(old, status) != 0 ||
        sl_res_get_str(c, "lastTransitionTime") == NULL) {
        char ts[64];

        struct sl_timestamp now = sl_time_now();

        sl_time_format_rfc3339(&now, ts, sizeof(ts));
        /* Kubernetes conditions carry whole seconds. */
        if (strchr(ts, '.') != NULL) {
            char *dot = strchr(ts, '.');

            dot[0] = 'Z';
            dot[1] = '\0';
        }
        json_object_object_add(c, "lastTransitionTime",
                               json_object_new_string(ts));
    }
    json_object_object_add(c, "status", json_object_new_string(status));
    rec_set_str(c, "reason", reason);
    rec_set_str(c, "message", msg);
}

void sl_rec_cond(struct sl_rec *r, const char *type, const char *status,
                 const char *reason, const char *fmt, ...)
{
    char msg[1024] = "";
    va_list ap;

    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    }
    rec_cond_v(r, type, status, reason, msg);
}

void sl_rec_ready(struct sl_rec *r, const char *const *types)
{
    struct json_object *conds = rec_conditions(r), *bad = NULL;
    const char *st = "True";
    size_t i;

    for (i = 0; types[i] != NULL; i++) {
        struct json_object *c = sl__ctl_cond_find(conds, types[i]);
        const char *s = sl_res_get_str(c, "status");

        if (s != NULL && strcmp(s, "False") == 0) {
            st = "False";
            bad = c;
            break;
        }
        if ((s == NULL || strcmp(s, "True") != 0) && strcmp(st, "True") == 0) {
            st = "Unknown";
            bad = c;
        }
    }
    if (bad == NULL)
        rec_cond_v(r, "Ready", st, NULL, NULL);
    else
        rec_cond_v(r, "Ready", st, sl_res_get_str(bad, "reason"),
                   sl_res_get_str(bad, "message"));
}

void sl_rec_set(struct sl_rec *r, const char *field, struct json_object *value)
{
    if (value == NULL)
        json_object_object_del(r->status, field);
    else
        json_object_object_add(r->status, field, value);
}
