/*
 * api/api.h - the Kubernetes-style REST API over the store.
 *
 * One handler for the HTTP server (net/server.h): it authenticates,
 * routes /api/v1/... and /apis/<group>/<version>/... paths to the kinds of
 * resource/, admits writes (strict decoding, defaults, validation) and
 * runs them against the store; watches stream store events. Errors are
 * Kubernetes Status objects. docs/api.md is the user-facing contract.
 *
 * Thread: the loop thread that owns the store.
 */
#ifndef SL_API_API_H
#define SL_API_API_H

#include <stddef.h>

#include <json-c/json.h>

struct sl_loop;
struct sl_store;
struct sl_http_req;
struct sl_diag;
struct sl_res_env;
struct sl_api;
struct sl_buf;

struct sl_api_opts {
    const char *token;            /* required bearer token, or NULL for none */
    const struct sl_res_env *env; /* admission defaults; NULL = built-in */
    unsigned bookmark_ms;         /* idle BOOKMARK interval (default 30000) */
};

int sl_api_new(struct sl_loop *loop, struct sl_store *store,
               const struct sl_api_opts *opts, struct sl_api **out);

/* Close every watch stream and free the API. */
void sl_api_free(struct sl_api *api);

/* The net/server.h handler: 'arg' is the struct sl_api. */
void sl_api_handle(void *arg, struct sl_http_req *req);

/*
 * The net/server.h error_body hook: answers the server gives by itself
 * (413 for an oversize body, 400 for a malformed request) as Kubernetes
 * Status objects too. 'arg' is the struct sl_api.
 */
const char *sl_api_error_body(void *arg, unsigned status, const char *msg,
                              struct sl_buf *body);

/* End every watch stream (cleanly, with its last chunk); for shutdown. */
void sl_api_close_watches(struct sl_api *api);

/* Mark the daemon ready (/readyz answers 200 from then on). */
void sl_api_set_ready(struct sl_api *api, int ready);

enum sl_api_applied {
    SL_API_CREATED,
    SL_API_CONFIGURED,
    SL_API_UNCHANGED,
};

/*
 * Create-or-merge one object exactly as `sluice apply` does through the
 * REST API (used by `serve -f`): admit it, create it when absent, else
 * merge-patch the stored one. 'obj' is borrowed. Returns 0 with '*what',
 * or an SL_E* code with the reason in 'd'.
 */
int sl_api_apply(struct sl_api *api, const struct json_object *obj,
                 enum sl_api_applied *what, struct sl_diag *d);

#endif
