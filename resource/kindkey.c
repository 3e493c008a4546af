/*
 * resource/kindkey.c - kind keys and the lookups the store, the API and
 * the reconcile loop use on top of the registry.
 */
#include <stdio.h>
#include <string.h>

#include "resource/resource.h"

const char *sl_res_kind_key(const struct sl_res_kind *k, char *out,
                            size_t outlen)
{
    if (k->group[0] == '\0')
        snprintf(out, outlen, "%s", k->kind);
    else
        snprintf(out, outlen, "%s/%s", k->group, k->kind);
    return out;
}

const struct sl_res_kind *sl_res_kind_by_group_kind(const char *group,
                                                    const char *kind)
{
    size_t i, n = sl_res_kind_count();

    for (i = 0; i < n; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);

        if (strcmp(k->group, group) == 0 && strcmp(k->kind, kind) == 0)
            return k;
    }
    return NULL;
}

const struct sl_res_kind *sl_res_kind_by_key(const char *key)
{
    const char *slash = strrchr(key, '/');
    char group[256];

    if (slash == NULL)
        return sl_res_kind_by_group_kind("", key);
    if ((size_t)(slash - key) >= sizeof(group))
        return NULL;
    memcpy(group, key, (size_t)(slash - key));
    group[slash - key] = '\0';
    return sl_res_kind_by_group_kind(group, slash + 1);
}

const struct sl_res_kind *sl_res_kind_of(const struct json_object *obj)
{
    struct json_object *av, *kind;

    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, "apiVersion", &av) ||
        !json_object_object_get_ex(obj, "kind", &kind) ||
        !json_object_is_type(av, json_type_string) ||
        !json_object_is_type(kind, json_type_string))
        return NULL;
    return sl_res_kind_find(json_object_get_string(av),
                            json_object_get_string(kind));
}

bool sl_res_group_version_known(const char *group, const char *version)
{
    size_t i, n = sl_res_kind_count();

    for (i = 0; i < n; i++) {
        const struct sl_res_kind *k = sl_res_kind_at(i);

        if (strcmp(k->group, group) == 0 && strcmp(k->version, version) == 0)
            return true;
    }
    return false;
}
