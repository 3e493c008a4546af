/*
 * resource/internal.h - helpers shared by the files of resource/ only
 * (sl__res_ prefix: never used outside this folder).
 */
#ifndef SL_RESOURCE_INTERNAL_H
#define SL_RESOURCE_INTERNAL_H

#include <json-c/json.h>

#include "resource/resource.h"

/*
 * Admission step 3 (see sl_res_admit): check metadata.name/generateName
 * with the kind's name rule, default and check metadata.namespace, check
 * annotation sizes. The metadata schema has already run. Returns 0 or
 * SL_EINVAL.
 */
int sl__res_meta_admit(struct json_object *obj, const struct sl_res_kind *k,
                       const struct sl_res_env *env, struct sl_diag *d);

/*
 * Compare 'old' and 'cur' (either may be NULL = absent); when they differ,
 * record "<what> changed (-old +new): -<old json> +<new json>" at 'field'
 * and return SL_EINVAL. 'what' is e.g. "immutable field".
 */
int sl__res_immutable(struct sl_diag *d, const char *field, const char *what,
                      const struct json_object *old,
                      const struct json_object *cur);

#endif
