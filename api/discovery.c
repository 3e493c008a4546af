/*
 * api/discovery.c - /api, /apis, /api/v1 and /apis/<group>/<version>: the
 * discovery documents Kubernetes clients read to learn the kinds.
 */
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "net/server.h"
#include "resource/resource.h"

static struct json_object *disc_strs(const char *const *v)
{
    struct json_object *a = json_object_new_array();

    for (; v != NULL && *v != NULL; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

static struct json_object *disc_gv(const char *group, const char *version)
{
    struct json_object *gv = json_object_new_object();
    char buf[256];

    snprintf(buf, sizeof(buf), "%s/%s", group, version);
    json_object_object_add(gv, "groupVersion", json_object_new_string(buf));
    json_object_object_add(gv, "version", json_object_new_string(version));
    return gv;
}

/* /apis: every group with its versions. */
static struct json_object *disc_groups(void)
{
    struct json_object *list = json_object_new_object(),
                       *groups = json_object_new_array();
    size_t i, n = sl_res_kind_count();

    json_object_object_add(list, "kind",
                           json_object_new_string("APIGroupList"));
    json_object_object_add(list, "apiVersion", json_object_new_string("v1"));
    for (i = 0; i < n; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);
        struct json_object *g = NULL, *versions;
        size_t j;
        bool have = false;

        if (k->group[0] == '\0')
            continue;
        for (j = 0; j < json_object_array_length(groups); j++) {
            struct json_object *nm;

            g = json_object_array_get_idx(groups, j);
            json_object_object_get_ex(g, "name", &nm);
            if (strcmp(json_object_get_string(nm), k->group) == 0)
                break;
            g = NULL;
        }
        if (g == NULL) {
            g = json_object_new_object();
            json_object_object_add(g, "name", json_object_new_string(k->group));
            json_object_object_add(g, "versions", json_object_new_array());
            json_object_object_add(g, "preferredVersion",
                                   disc_gv(k->group, k->version));
            json_object_array_add(groups, g);
        }
        json_object_object_get_ex(g, "versions", &versions);
        for (j = 0; j < json_object_array_length(versions); j++) {
            struct json_object *v;

            json_object_object_get_ex(json_object_array_get_idx(versions, j),
                                      "version", &v);
            if (strcmp(json_object_get_string(v), k->version) == 0)
                have = true;
        }
        if (!have)
            json_object_array_add(versions, disc_gv(k->group, k->version));
    }
    json_object_object_add(list, "groups", groups);
    return list;
}

static struct json_object *disc_resource(const struct sl_res_kind *k,
                                         bool status)
{
    static const char *const verbs[] = { "create", "delete", "get",   "list",
                                         "patch",  "update", "watch", NULL };
    static const char *const status_verbs[] = { "get", "patch", "update",
                                                NULL };
    struct json_object *r = json_object_new_object();
    char name[160];

    snprintf(name, sizeof(name), "%s%s", k->plural, status ? "/status" : "");
    json_object_object_add(r, "name", json_object_new_string(name));
    json_object_object_add(r, "singularName",
                           json_object_new_string(status ? "" : k->singular));
    json_object_object_add(r, "namespaced",
                           json_object_new_boolean(k->namespaced));
    json_object_object_add(r, "kind", json_object_new_string(k->kind));
    json_object_object_add(r, "verbs",
                           disc_strs(status ? status_verbs : verbs));
    if (!status && k->short_names != NULL)
        json_object_object_add(r, "shortNames", disc_strs(k->short_names));
    return r;
}

/* /api/v1 or /apis/<g>/<v>: the kinds of one group version. */
static struct json_object *disc_resources(const char *group,
                                          const char *version)
{
    struct json_object *list = json_object_new_object(),
                       *res = json_object_new_array();
    size_t i, n = sl_res_kind_count();
    char gv[256];

    if (group[0] == '\0')
        snprintf(gv, sizeof(gv), "%s", version);
    else
        snprintf(gv, sizeof(gv), "%s/%s", group, version);
    json_object_object_add(list, "kind",
                           json_object_new_string("APIResourceList"));
    json_object_object_add(list, "apiVersion", json_object_new_string("v1"));
    json_object_object_add(list, "groupVersion", json_object_new_string(gv));
    for (i = 0; i < n; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);

        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
            continue;
        json_object_array_add(res, disc_resource(k, false));
        if (sl__api_has_status(k))
            json_object_array_add(res, disc_resource(k, true));
    }
    json_object_object_add(list, "resources", res);
    return list;
}

void sl__api_discovery(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t, const char *path)
{
    struct json_object *doc;

    (void)api;
    if (strcmp(sl_http_req_method(req), "GET") != 0) {
        sl__api_fail(req, 405, "MethodNotAllowed", NULL, NULL, NULL,
                     "method %s is not allowed here", sl_http_req_method(req));
        return;
    }
    if (t != NULL) {
        doc = disc_resources(t->group, t->version);
    } else if (strcmp(path, "api") == 0) {
        doc = json_object_new_object();
        json_object_object_add(doc, "kind",
                               json_object_new_string("APIVersions"));
        json_object_object_add(doc, "versions",
                               disc_strs((const char *const[]){ "v1", NULL }));
    } else {
        doc = disc_groups();
    }
    sl__api_json(req, 200, doc);
    json_object_put(doc);
}
