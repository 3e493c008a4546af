/*
 * resource/condition.c - status conditions (Knative's ConditionSet,
 * knative.dev/pkg apis/condition_set.go, with the Kubernetes rule for
 * lastTransitionTime; see condition.h).
 */
#include "resource/condition.h"

#include <stdio.h>
#include <string.h>

#include "resource/meta.h"
#include "resource/schema.h"

static bool cond_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* status.conditions as an array, created (or replaced) when needed. */
static struct json_object *cond_list(struct json_object *obj, bool create)
{
    struct json_object *status, *list;

    status = create ? sl_res_ensure(obj, "status") : sl_res_get(obj, "status");
    if (status == NULL || !json_object_is_type(status, json_type_object))
        return NULL;
    list = sl_res_get(status, "conditions");
    if (json_object_is_type(list, json_type_array) || !create)
        return json_object_is_type(list, json_type_array) ? list : NULL;
    list = json_object_new_array();
    json_object_object_add(status, "conditions", list);
    return list;
}

struct json_object *sl_res_cond_get(const struct json_object *obj,
                                    const char *type)
{
    struct json_object *list = cond_list((struct json_object *)obj, false);
    size_t i, n = list != NULL ? json_object_array_length(list) : 0;

    for (i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(list, i);
        const char *t = sl_res_get_str(c, "type");
        if (t != NULL && strcmp(t, type) == 0)
            return c;
    }
    return NULL;
}

const char *sl_res_cond_status(const struct json_object *obj, const char *type)
{
    return sl_res_get_str(sl_res_cond_get(obj, type), "status");
}

bool sl_res_cond_is_true(const struct json_object *obj, const char *type)
{
    const char *s = sl_res_cond_status(obj, type);

    return s != NULL && strcmp(s, SL_RES_COND_TRUE) == 0;
}

/* Insert 'v' at 'at', shifting the rest up (json-c 0.16 has no insert). */
static void cond_insert(struct json_object *list, size_t at,
                        struct json_object *v)
{
    size_t i, n = json_object_array_length(list);
    struct json_object *carry = v, *next;

    for (i = at; i < n; i++) {
        /* Hold the element: put_idx drops the array's reference. */
        next = json_object_get(json_object_array_get_idx(list, i));
        json_object_array_put_idx(list, i, carry);
        carry = next;
    }
    json_object_array_add(list, carry);
}

int sl_res_cond_set(struct json_object *obj, const struct sl_res_cond *c,
                    const struct sl_timestamp *now)
{
    struct json_object *list = cond_list(obj, true), *old, *neu;
    const char *old_status, *old_time;
    char when[SL_TIME_RFC3339_MAX];
    struct sl_timestamp t = *now;
    size_t i, n;

    if (list == NULL)
        return 0;
    old = sl_res_cond_get(obj, c->type);
    old_status = sl_res_get_str(old, "status");
    old_time = sl_res_get_str(old, "lastTransitionTime");
    if (old_time != NULL && old_status != NULL &&
        strcmp(old_status, c->status) == 0) {
        snprintf(when, sizeof(when), "%s", old_time);
    } else {
        t.nsec = 0;
        sl_time_format_rfc3339(&t, when, sizeof(when));
    }
    neu = json_object_new_object();
    sl_res_set_str(neu, "type", c->type);
    sl_res_set_str(neu, "status", c->status);
    if (!cond_empty(c->severity))
        sl_res_set_str(neu, "severity", c->severity);
    sl_res_set_str(neu, "lastTransitionTime", when);
    if (!cond_empty(c->reason))
        sl_res_set_str(neu, "reason", c->reason);
    if (!cond_empty(c->message))
        sl_res_set_str(neu, "message", c->message);
    if (old != NULL && sl_res_equal(old, neu)) {
        json_object_put(neu);
        return 0;
    }
    /* Replace in place, or insert keeping the list sorted by type. */
    n = json_object_array_length(list);
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        const char *t2 = sl_res_get_str(e, "type");
        int cmp = t2 != NULL ? strcmp(t2, c->type) : -1;
        if (cmp == 0) {
            json_object_array_put_idx(list, i, neu);
            return 1;
        }
        if (cmp > 0) {
            cond_insert(list, i, neu);
            return 1;
        }
    }
    json_object_array_add(list, neu);
    return 1;
}

int sl_res_cond_init(struct json_object *obj, const char *happy,
                     const char *const *deps, const struct sl_timestamp *now)
{
    struct sl_res_cond c = { .status = SL_RES_COND_UNKNOWN };
    int changed = 0;

    if (sl_res_cond_get(obj, happy) == NULL) {
        c.type = happy;
        changed |= sl_res_cond_set(obj, &c, now);
    }
    for (; deps != NULL && *deps != NULL; deps++) {
        if (sl_res_cond_get(obj, *deps) != NULL)
            continue;
        c.type = *deps;
        changed |= sl_res_cond_set(obj, &c, now);
    }
    return changed;
}

int sl_res_cond_ready(struct json_object *obj, const char *happy,
                      const char *const *deps, const struct sl_timestamp *now)
{
    struct sl_res_cond c = { .type = happy, .status = SL_RES_COND_TRUE };
    const struct json_object *first = NULL, *e;
    bool pending = false;
    const char *const *dep;

    for (dep = deps; dep != NULL && *dep != NULL; dep++) {
        const char *s;
        e = sl_res_cond_get(obj, *dep);
        s = sl_res_get_str(e, "status");
        if (s != NULL && strcmp(s, SL_RES_COND_FALSE) == 0) {
            c.status = SL_RES_COND_FALSE;
            c.reason = sl_res_get_str(e, "reason");
            c.message = sl_res_get_str(e, "message");
            return sl_res_cond_set(obj, &c, now);
        }
        if (!pending && (s == NULL || strcmp(s, SL_RES_COND_TRUE) != 0)) {
            pending = true; /* absent or Unknown: remember the first */
            first = e;
        }
    }
    if (pending) {
        c.status = SL_RES_COND_UNKNOWN;
        c.reason = sl_res_get_str(first, "reason");
        c.message = sl_res_get_str(first, "message");
    }
    return sl_res_cond_set(obj, &c, now);
}

int sl_res_status_observe(struct json_object *obj)
{
    struct json_object *status = sl_res_ensure(obj, "status"), *og;
    int64_t gen = sl_res_meta_generation(obj);

    if (status == NULL)
        return 0;
    og = sl_res_get(status, "observedGeneration");
    if (json_object_is_type(og, json_type_int) &&
        json_object_get_int64(og) == gen)
        return 0;
    json_object_object_add(status, "observedGeneration",
                           json_object_new_int64(gen));
    return 1;
}
