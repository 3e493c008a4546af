/*
 * core/merge_patch.c - JSON Merge Patch (RFC 7386 §2), written from the
 * RFC's pseudo-code: objects merge member by member, null deletes,
 * everything else replaces.
 */
#include "core/merge_patch.h"

static struct json_object *mp_copy(const struct json_object *v)
{
    struct json_object *out = NULL;

    if (v == NULL)
        return NULL;
    if (json_object_deep_copy((struct json_object *)v, &out, NULL) != 0)
        return NULL;
    return out;
}

struct json_object *sl_merge_patch(struct json_object *target,
                                   const struct json_object *patch)
{
    if (!json_object_is_type(patch, json_type_object)) {
        json_object_put(target);
        return mp_copy(patch);
    }
    if (!json_object_is_type(target, json_type_object)) {
        json_object_put(target);
        target = json_object_new_object();
    }
    json_object_object_foreach((struct json_object *)patch, key, val)
    {
        struct json_object *cur = NULL;

        if (val == NULL) {
            json_object_object_del(target, key);
            continue;
        }
        if (json_object_object_get_ex(target, key, &cur))
            json_object_get(cur);
        json_object_object_add(target, key, sl_merge_patch(cur, val));
    }
    return target;
}
