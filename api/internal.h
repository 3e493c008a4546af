/*
 * api/internal.h - shared between the files of api/ only.
 */
#ifndef SL_API_INTERNAL_H
#define SL_API_INTERNAL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "api/api.h"
#include "core/err.h"
#include "core/map.h"

struct sl_res_kind;
struct sl_http_req;

struct sl_api {
    struct sl_loop *loop;
    struct sl_store *store;
    char *token;
    const struct sl_res_env *env;
    unsigned bookmark_ms;
    int ready;
    struct sl__api_watch *watches; /* open watch streams (a list) */
};

/* A parsed API path. */
struct sl__api_target {
    const char *group; /* "" for core; points into the request path copy */
    const char *version;
    const struct sl_res_kind *kind; /* NULL for discovery */
    const char *ns;                 /* NULL: cluster-scoped or all namespaces */
    const char *name;               /* NULL: the collection */
    bool status;                    /* the /status subresource */
    bool discovery;                 /* /api/v1 or /apis/<g>/<v> itself */
};

/* ---- Status objects (api/status.c) ---- */

/*
 * Answer with a Kubernetes Status: HTTP 'code', 'reason', message; 'k' and
 * 'name' fill details (may be NULL). 'field' non-NULL adds one cause.
 */
void sl__api_fail(struct sl_http_req *req, int code, const char *reason,
                  const struct sl_res_kind *k, const char *name,
                  const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The Status object itself (for watch ERROR events). */
struct json_object *sl__api_status(int code, const char *reason,
                                   const struct sl_res_kind *k,
                                   const char *name, const char *field,
                                   const char *msg);

/* Answer 'code' with 'obj' as JSON. */
void sl__api_json(struct sl_http_req *req, int code,
                  const struct json_object *obj);

/* "brokers.eventing.knative.dev" into out. */
const char *sl__api_resource(const struct sl_res_kind *k, char *out,
                             size_t outlen);

/* Kinds with a status subresource: all but ConfigMap and Secret. */
bool sl__api_has_status(const struct sl_res_kind *k);

/* ---- field selectors (api/fieldsel.c) ---- */

struct sl__api_fieldsel {
    char *name, *ns;         /* must equal, or NULL */
    char *not_name, *not_ns; /* must differ, or NULL */
};

/* Parse ?fieldSelector= (NULL or "": matches all). 0 or SL_EINVAL. */
int sl__api_fieldsel_parse(const char *s, struct sl__api_fieldsel *out,
                           struct sl_diag *d);
void sl__api_fieldsel_fini(struct sl__api_fieldsel *f);
bool sl__api_fieldsel_match(const struct sl__api_fieldsel *f,
                            const struct json_object *obj);

/*
 * Check ?labelSelector= and ?fieldSelector=, answering 400 and returning
 * -1 when either is bad; 'fs' is filled on success (fini it).
 */
int sl__api_selectors(struct sl_http_req *req, const struct sl_res_kind *k,
                      struct sl__api_fieldsel *fs);

/* ---- handlers ---- */

void sl__api_discovery(struct sl_api *api, struct sl_http_req *req,
                       const struct sl__api_target *t, const char *path);
void sl__api_objects(struct sl_api *api, struct sl_http_req *req,
                     const struct sl__api_target *t);
void sl__api_watch(struct sl_api *api, struct sl_http_req *req,
                   const struct sl__api_target *t);
void sl__api_watch_close_all(struct sl_api *api);

#endif
