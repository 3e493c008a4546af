/*
 * core/merge_patch.h - JSON Merge Patch (RFC 7386) over json-c.
 */
#ifndef SL_CORE_MERGE_PATCH_H
#define SL_CORE_MERGE_PATCH_H

#include <json-c/json.h>

/*
 * Apply 'patch' (borrowed) to 'target' (ownership taken; may be NULL) and
 * return the result (owned by the caller): members of an object patch
 * replace or, when null, remove the target's members, recursively; any
 * other patch replaces the target. Values taken from 'patch' are copied,
 * so the result never shares nodes with it.
 */
struct json_object *sl_merge_patch(struct json_object *target,
                                   const struct json_object *patch);

#endif
