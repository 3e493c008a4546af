/*
 * api/api.c - the API's front door: authentication, health endpoints and
 * routing of /api/v1/... and /apis/<group>/<version>/... paths.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"
#include "core/str.h"
#include "core/version.h"
#include "net/server.h"
#include "net/url.h"
#include "resource/resource.h"

#if defined(__x86_64__)
#define API_ARCH "amd64"
#elif defined(__aarch64__)
#define API_ARCH "arm64"
#else
#define API_ARCH "unknown"
#endif

int sl_api_new(struct sl_loop *loop, struct sl_store *store,
               const struct sl_api_opts *opts, struct sl_api **out)
{
    struct sl_api *api = sl_xcalloc(1, sizeof(*api));

    api->loop = loop;
    api->store = store;
    api->token = opts && opts->token ? sl_xstrdup(opts->token) : NULL;
    api->env = opts ? opts->env : NULL;
    api->bookmark_ms = opts && opts->bookmark_ms ? opts->bookmark_ms : 30000;
    *out = api;
    return 0;
}

void sl_api_free(struct sl_api *api)
{
    if (api == NULL)
        return;
    sl__api_watch_close_all(api);
    sl_free(api->token);
    sl_free(api);
}

void sl_api_close_watches(struct sl_api *api)
{
    sl__api_watch_close_all(api);
}

void sl_api_set_ready(struct sl_api *api, int ready)
{
    api->ready = ready;
}

/* Constant-time comparison of the presented token with the expected one. */
static bool api_token_ok(const struct sl_api *api, const char *auth)
{
    size_t i, n, want = strlen(api->token);
    unsigned char diff = 0;

    if (auth == NULL || !sl_str_prefix_ci(auth, "Bearer "))
        return false;
    auth += 7;
    n = strlen(auth);
    /* Compare over the expected length whatever the input's length. */
    for (i = 0; i < want; i++)
        diff |= (unsigned char)(api->token[i] ^ (i < n ? auth[i] : 0));
    return diff == 0 && n == want;
}

/*
 * Split the path into segments (percent-decoded) and find what it names.
 * Returns 0, or answers the request itself (404/400) and returns -1.
 */
static int api_route(struct sl_http_req *req, char **seg, size_t nseg,
                     struct sl__api_target *t)
{
    size_t i = 0, left;
    const char *plural;

    memset(t, 0, sizeof(*t));
    if (nseg >= 2 && strcmp(seg[0], "api") == 0) {
        t->group = "";
        t->version = seg[1];
        i = 2;
    } else if (nseg >= 3 && strcmp(seg[0], "apis") == 0) {
        t->group = seg[1];
        t->version = seg[2];
        i = 3;
    } else {
        goto notfound;
    }
    if (!sl_res_group_version_known(t->group, t->version))
        goto notfound;
    left = nseg - i;
    if (left == 0) {
        t->discovery = true;
        return 0;
    }
    if (strcmp(seg[i], "namespaces") == 0 && left == 3 &&
        strcmp(seg[i + 2], "status") == 0 && t->group[0] == '\0') {
        /* /api/v1/namespaces/<name>/status: the Namespace's own status */
        plural = seg[i];
        i += 1;
    } else if (strcmp(seg[i], "namespaces") == 0 && left >= 3) {
        /* /namespaces/<ns>/<plural>[/<name>[/status]] */
        t->ns = seg[i + 1];
        plural = seg[i + 2];
        i += 3;
    } else {
        plural = seg[i];
        i += 1;
    }
    t->kind = sl_res_kind_by_resource(t->group, t->version, plural);
    if (t->kind == NULL)
        goto notfound;
    left = nseg - i;
    if (left >= 1)
        t->name = seg[i];
    if (left == 2 && strcmp(seg[i + 1], "status") == 0)
        t->status = true;
    else if (left >= 2)
        goto notfound;
    /* A cluster-scoped kind under namespaces/, or a namespaced object
     * without one, does not exist. */
    if (t->ns != NULL && !t->kind->namespaced)
        goto notfound;
    if (t->ns == NULL && t->name != NULL && t->kind->namespaced)
        goto notfound;
    if ((t->name != NULL && t->name[0] == '\0') ||
        (t->ns != NULL && t->ns[0] == '\0'))
        goto notfound;
    return 0;
notfound:
    sl__api_fail(req, 404, "NotFound", NULL, NULL, NULL,
                 "the server could not find the requested resource");
    return -1;
}

static void api_version(struct sl_http_req *req)
{
    struct json_object *v = json_object_new_object();
    char buf[64];

    snprintf(buf, sizeof(buf), "v%s", SL_VERSION);
    json_object_object_add(v, "gitVersion", json_object_new_string(buf));
    json_object_object_add(v, "platform",
                           json_object_new_string("linux/" API_ARCH));
    json_object_object_add(v, "sluice", json_object_new_string(SL_VERSION));
    sl__api_json(req, 200, v);
    json_object_put(v);
}

void sl_api_handle(void *arg, struct sl_http_req *req)
{
    struct sl_api *api = arg;
    const char *method = sl_http_req_method(req), *path = sl_http_req_path(req);
    struct sl__api_target t;
    struct sl_http_path sp;
    char **seg;
    size_t nseg;

    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
        strcmp(path, "/livez") == 0 || strcmp(path, "/version") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            sl__api_fail(req, 405, "MethodNotAllowed", NULL, NULL, NULL,
                         "method %s is not allowed on %s", method, path);
        } else if (strcmp(path, "/version") == 0) {
            api_version(req);
        } else if (strcmp(path, "/readyz") == 0 && !api->ready) {
            sl_http_respond(req, 503, "text/plain", "not ready\n", 10);
        } else {
            sl_http_respond(req, 200, "text/plain", "ok", 2);
        }
        return;
    }
    if (api->token != NULL &&
        !api_token_ok(api, sl_http_req_header(req, "Authorization"))) {
        sl__api_fail(req, 401, "Unauthorized", NULL, NULL, NULL,
                     "Unauthorized");
        return;
    }
    if (sl_http_path_split(path, &sp) != 0) {
        sl_http_path_fini(&sp);
        sl__api_fail(req, 400, "BadRequest", NULL, NULL, NULL,
                     "malformed path");
        return;
    }
    seg = sp.seg;
    nseg = sp.n;
    if (nseg == 1 &&
        (strcmp(seg[0], "api") == 0 || strcmp(seg[0], "apis") == 0)) {
        sl__api_discovery(api, req, NULL, seg[0]);
    } else if (api_route(req, seg, nseg, &t) == 0) {
        if (t.discovery)
            sl__api_discovery(api, req, &t, NULL);
        else
            sl__api_objects(api, req, &t);
    }
    sl_http_path_fini(&sp);
}
