/*
 * resource/core_kinds.c - the Kubernetes core kinds sluice keeps: v1
 * Namespace, ConfigMap and Secret (apimachinery/kubernetes validation of
 * the same kinds, reduced to what sluice uses).
 *
 * ConfigMap: data (strings) and binaryData (Base64) with config-key
 * names, no key in both, at most 1 MiB of values; `immutable: true`
 * freezes data, binaryData and the flag itself.
 * Secret: data (Base64, rewritten in canonical form), stringData merged
 * into data on write and dropped (as the API server does, so a read never
 * shows it), type defaulted to Opaque and immutable, the keys the
 * well-known types require, at most 1 MiB of decoded data; `immutable`
 * as for ConfigMap.
 * Namespace: a DNS-1123 label name, cluster-scoped, spec.finalizers.
 */
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "resource/internal.h"
#include "resource/meta.h"
#include "resource/resource.h"

#define CORE_MAX_DATA (1024 * 1024)

static const struct sl_res_field core_string = { .name = "",
                                                 .type = SL_RES_STRING };

static const struct sl_res_field core_base64 = {
    .name = "",
    .type = SL_RES_STRING,
    .check = sl_res_check_base64,
};

/* ---- Namespace ---- */

static const struct sl_res_field ns_spec_fields[] = {
    { .name = "finalizers", .type = SL_RES_ARRAY, .elem = &core_string },
    { .name = NULL },
};

static const struct sl_res_field ns_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = ns_spec_fields },
    { .name = NULL },
};

static const char *const ns_short[] = { "ns", NULL };

const struct sl_res_kind sl_res_kind_namespace = {
    .group = "",
    .version = "v1",
    .kind = "Namespace",
    .plural = "namespaces",
    .singular = "namespace",
    .short_names = ns_short,
    .namespaced = false,
    .fields = ns_fields,
    .name_check = sl_res_check_dns1123_label,
};

/* ---- shared by ConfigMap and Secret ---- */

/* Bytes 'b64' decodes to (it passed sl_res_check_base64). */
static size_t core_b64_len(const char *b64)
{
    size_t n = 0, pad = 0;

    for (; *b64 != '\0'; b64++) {
        if (*b64 == '=')
            pad++;
        else if (*b64 != '\r' && *b64 != '\n')
            n++;
    }
    return (n + pad) / 4 * 3 - pad;
}

/* Sum of value sizes of a map; Base64 values count decoded. */
static size_t core_map_size(const struct json_object *m, bool b64)
{
    struct lh_entry *e;
    size_t total = 0;

    if (m == NULL)
        return 0;
    for (e = lh_table_head(json_object_get_object(m)); e != NULL;
         e = lh_entry_next(e)) {
        struct json_object *v = (struct json_object *)lh_entry_v(e);
        total += b64 ? core_b64_len(json_object_get_string(v))
                     : (size_t)json_object_get_string_len(v);
    }
    return total;
}

/* `immutable: true` on the stored object freezes 'keys' and the flag. */
static int core_immutable(const struct json_object *old,
                          const struct json_object *obj,
                          const char *const *keys, struct sl_diag *d)
{
    struct json_object *oi = sl_res_get(old, "immutable");
    struct json_object *ni = sl_res_get(obj, "immutable");

    if (oi == NULL || !json_object_get_boolean(oi))
        return 0;
    if (ni == NULL || !json_object_get_boolean(ni))
        return sl_diag_set(d, SL_EINVAL, "immutable",
                           "field is immutable when `immutable` is set");
    for (; *keys != NULL; keys++)
        if (!sl_res_equal(sl_res_get(old, *keys), sl_res_get(obj, *keys)))
            return sl_diag_set(d, SL_EINVAL, *keys,
                               "field is immutable when `immutable` is set");
    return 0;
}

/* ---- ConfigMap ---- */

static const struct sl_res_field cm_fields[] = {
    { .name = "data",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_config_key },
    { .name = "binaryData",
      .type = SL_RES_MAP,
      .elem = &core_base64,
      .key_check = sl_res_check_config_key },
    { .name = "immutable", .type = SL_RES_BOOL },
    { .name = NULL },
};

static int cm_validate(const struct json_object *obj,
                       const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *data = sl_res_get(obj, "data");
    const struct json_object *bin = sl_res_get(obj, "binaryData");
    struct lh_entry *e;
    char field[SL_DIAG_FIELD_MAX];

    (void)env;
    if (data != NULL && bin != NULL)
        for (e = lh_table_head(json_object_get_object(bin)); e != NULL;
             e = lh_entry_next(e)) {
            const char *key = (const char *)lh_entry_k(e);
            if (sl_res_get(data, key) == NULL)
                continue;
            snprintf(field, sizeof(field), "binaryData[%s]", key);
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid value \"%s\": duplicate of key "
                               "present in data",
                               key);
        }
    if (core_map_size(data, false) + core_map_size(bin, true) > CORE_MAX_DATA)
        return sl_diag_set(d, SL_EINVAL, "data",
                           "too long: must have at most %d bytes",
                           CORE_MAX_DATA);
    return 0;
}

static int cm_validate_update(const struct json_object *old,
                              const struct json_object *obj,
                              const struct sl_res_env *env, struct sl_diag *d)
{
    static const char *const keys[] = { "data", "binaryData", NULL };

    (void)env;
    return core_immutable(old, obj, keys, d);
}

static const char *const cm_short[] = { "cm", NULL };

const struct sl_res_kind sl_res_kind_configmap = {
    .group = "",
    .version = "v1",
    .kind = "ConfigMap",
    .plural = "configmaps",
    .singular = "configmap",
    .short_names = cm_short,
    .namespaced = true,
    .fields = cm_fields,
    .validate = cm_validate,
    .validate_update = cm_validate_update,
};

/* ---- Secret ---- */

static const struct sl_res_field secret_fields[] = {
    { .name = "data",
      .type = SL_RES_MAP,
      .elem = &core_base64,
      .key_check = sl_res_check_config_key },
    { .name = "stringData",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_config_key },
    { .name = "type", .type = SL_RES_STRING },
    { .name = "immutable", .type = SL_RES_BOOL },
    { .name = NULL },
};

/* Replace data[key] by the canonical Base64 of 'raw'. */
static void secret_put(struct json_object *data, const char *key,
                       const char *raw, size_t n)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_base64_encode(raw, n, &b);
    json_object_object_add(
        data, key, json_object_new_string_len(sl_buf_str(&b), (int)b.len));
    sl_buf_fini(&b);
}

static int secret_defaults(struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    struct json_object *data = sl_res_get(obj, "data");
    struct json_object *sd = sl_res_get(obj, "stringData");
    const char *type = sl_res_get_str(obj, "type");
    struct sl_buf clean, raw;
    struct lh_entry *e;

    (void)env;
    /* Canonical Base64: line breaks dropped (checked valid already). */
    for (e = data != NULL ? lh_table_head(json_object_get_object(data)) : NULL;
         e != NULL; e = lh_entry_next(e)) {
        const char *v = json_object_get_string(lh_entry_v(e));
        if (strpbrk(v, "\r\n") == NULL)
            continue;
        sl_buf_init(&clean, SL_BUF_UNLIMITED);
        sl_buf_init(&raw, SL_BUF_UNLIMITED);
        for (; *v != '\0'; v++)
            if (*v != '\r' && *v != '\n')
                sl_buf_appendc(&clean, *v);
        if (sl_base64_decode(sl_buf_str(&clean), clean.len, &raw, d) == 0)
            secret_put(data, (const char *)lh_entry_k(e), sl_buf_str(&raw),
                       raw.len);
        sl_buf_fini(&raw);
        sl_buf_fini(&clean);
    }
    if (sd != NULL) {
        if (data == NULL) {
            data = json_object_new_object();
            json_object_object_add(obj, "data", data);
        }
        for (e = lh_table_head(json_object_get_object(sd)); e != NULL;
             e = lh_entry_next(e)) {
            struct json_object *v = (struct json_object *)lh_entry_v(e);
            secret_put(data, (const char *)lh_entry_k(e),
                       json_object_get_string(v),
                       (size_t)json_object_get_string_len(v));
        }
        json_object_object_del(obj, "stringData");
    }
    if (type == NULL || type[0] == '\0')
        sl_res_set_str(obj, "type", "Opaque");
    return 0;
}

/* Keys the well-known Secret types require (all of, or one of). */
static const struct {
    const char *type;
    const char *keys[3];
    bool any;
} secret_types[] = {
    { "kubernetes.io/tls", { "tls.crt", "tls.key", NULL }, false },
    { "kubernetes.io/basic-auth", { "username", "password", NULL }, true },
    { "kubernetes.io/ssh-auth", { "ssh-privatekey", NULL, NULL }, false },
    { "kubernetes.io/dockercfg", { ".dockercfg", NULL, NULL }, false },
    { "kubernetes.io/dockerconfigjson",
      { ".dockerconfigjson", NULL, NULL },
      false },
};

static int secret_validate(const struct json_object *obj,
                           const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *data = sl_res_get(obj, "data");
    const char *type = sl_res_get_str(obj, "type");
    char field[SL_DIAG_FIELD_MAX];
    size_t i, k, found;

    (void)env;
    if (core_map_size(data, true) > CORE_MAX_DATA)
        return sl_diag_set(d, SL_EINVAL, "data",
                           "too long: must have at most %d bytes",
                           CORE_MAX_DATA);
    if (type != NULL &&
        strcmp(type, "kubernetes.io/service-account-token") == 0 &&
        sl_res_meta_annotation(obj, "kubernetes.io/service-account.name") ==
            NULL)
        return sl_diag_set(d, SL_EINVAL,
                           "metadata.annotations[kubernetes.io/"
                           "service-account.name]",
                           "missing field(s)");
    for (i = 0;
         type != NULL && i < sizeof(secret_types) / sizeof(*secret_types);
         i++) {
        if (strcmp(type, secret_types[i].type) != 0)
            continue;
        for (k = 0, found = 0; k < 3 && secret_types[i].keys[k] != NULL; k++) {
            if (sl_res_get(data, secret_types[i].keys[k]) != NULL) {
                found++;
                continue;
            }
            if (secret_types[i].any)
                continue;
            snprintf(field, sizeof(field), "data[%s]", secret_types[i].keys[k]);
            return sl_diag_set(d, SL_EINVAL, field, "missing field(s)");
        }
        if (secret_types[i].any && found == 0)
            return sl_diag_set(d, SL_EINVAL, "data",
                               "missing field(s): one of \"%s\", \"%s\" "
                               "is required for type \"%s\"",
                               secret_types[i].keys[0], secret_types[i].keys[1],
                               type);
    }
    return 0;
}

static int secret_validate_update(const struct json_object *old,
                                  const struct json_object *obj,
                                  const struct sl_res_env *env,
                                  struct sl_diag *d)
{
    static const char *const keys[] = { "data", NULL };
    int rc;

    (void)env;
    rc = sl__res_immutable(d, "type", "immutable field",
                           sl_res_get(old, "type"), sl_res_get(obj, "type"));
    return rc != 0 ? rc : core_immutable(old, obj, keys, d);
}

const struct sl_res_kind sl_res_kind_secret = {
    .group = "",
    .version = "v1",
    .kind = "Secret",
    .plural = "secrets",
    .singular = "secret",
    .short_names = NULL,
    .namespaced = true,
    .fields = secret_fields,
    .set_defaults = secret_defaults,
    .validate = secret_validate,
    .validate_update = secret_validate_update,
};
