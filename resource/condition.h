/*
 * resource/condition.h - Knative status conditions on a resource object.
 *
 * Conditions live in obj.status.conditions[] as Knative writes them:
 * {type, status, severity?, lastTransitionTime, reason?, message?},
 * kept sorted by type. status is "True", "False" or "Unknown".
 *
 * lastTransitionTime follows the Kubernetes convention: it changes only
 * when a condition's status changes (Knative also bumps it when only the
 * reason or message changes; sluice does not, so the time says when the
 * state last flipped). Times are written in whole seconds, UTC.
 *
 * The caller passes the current time: nothing here reads a clock. Every
 * setter returns 1 when it changed the object and 0 when it did not, so a
 * reconciler writes status back only when something moved.
 */
#ifndef SL_RESOURCE_CONDITION_H
#define SL_RESOURCE_CONDITION_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/time.h"

#define SL_RES_COND_TRUE    "True"
#define SL_RES_COND_FALSE   "False"
#define SL_RES_COND_UNKNOWN "Unknown"

struct sl_res_cond {
    const char *type;     /* "Ready", "BrokerReady" ... */
    const char *status;   /* SL_RES_COND_TRUE / _FALSE / _UNKNOWN */
    const char *reason;   /* CamelCase word; NULL or "" for none */
    const char *message;  /* human text; NULL or "" for none */
    const char *severity; /* NULL/"" (Error), "Warning" or "Info" */
};

/*
 * Set condition c->type on 'obj' (creating status and conditions when
 * absent), keeping its lastTransitionTime when the status is unchanged
 * and writing 'now' otherwise. Returns 1 when the object changed, 0 when
 * the condition was already exactly so.
 */
int sl_res_cond_set(struct json_object *obj, const struct sl_res_cond *c,
                    const struct sl_timestamp *now);

/* The condition object of 'type' (borrowed), or NULL. */
struct json_object *sl_res_cond_get(const struct json_object *obj,
                                    const char *type);

/* The status string of condition 'type', or NULL when absent. */
const char *sl_res_cond_status(const struct json_object *obj, const char *type);

/* True when condition 'type' exists with status "True". */
bool sl_res_cond_is_true(const struct json_object *obj, const char *type);

/*
 * Knative's InitializeConditions: every type of 'deps' (NULL-terminated)
 * and 'happy' that is absent is set to Unknown. Returns 1 if anything
 * changed.
 */
int sl_res_cond_init(struct json_object *obj, const char *happy,
                     const char *const *deps, const struct sl_timestamp *now);

/*
 * Compute the 'happy' condition ("Ready") from its dependents 'deps'
 * (NULL-terminated): True when all are True; otherwise False with the
 * reason and message of the first False dependent (in 'deps' order),
 * else Unknown with those of the first Unknown or absent one. Returns 1
 * if the object changed.
 */
int sl_res_cond_ready(struct json_object *obj, const char *happy,
                      const char *const *deps, const struct sl_timestamp *now);

/* Set status.observedGeneration to metadata.generation. Returns 1 if it
 * changed. */
int sl_res_status_observe(struct json_object *obj);

#endif
