/*
 * api/fieldsel.c - the field selectors Kubernetes clients use on lists
 * and watches: metadata.name and metadata.namespace with '=', '==' or
 * '!=', joined by ','. That is what every kind supports in Kubernetes
 * (kubectl get -w NAME sends fieldSelector=metadata.name=NAME); anything
 * else is refused with 400 rather than silently ignored.
 */
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"
#include "core/err.h"

int sl__api_fieldsel_parse(const char *s, struct sl__api_fieldsel *out,
                           struct sl_diag *d)
{
    const char *p = s;

    memset(out, 0, sizeof(*out));
    if (s == NULL || *s == '\0')
        return 0;
    while (*p != '\0') {
        const char *end = strchr(p, ','), *op;
        size_t n = end ? (size_t)(end - p) : strlen(p), klen;
        bool neg = false;
        char **slot;

        op = memchr(p, '=', n);
        if (op == NULL)
            return sl_diag_set(d, SL_EINVAL, "fieldSelector",
                               "invalid field selector '%s': expected "
                               "field=value",
                               s);
        klen = (size_t)(op - p);
        if (klen > 0 && p[klen - 1] == '!') {
            neg = true;
            klen--;
        }
        op++;
        if (*op == '=' && !neg)
            op++;
        if (klen == strlen("metadata.name") &&
            strncmp(p, "metadata.name", klen) == 0)
            slot = neg ? &out->not_name : &out->name;
        else if (klen == strlen("metadata.namespace") &&
                 strncmp(p, "metadata.namespace", klen) == 0)
            slot = neg ? &out->not_ns : &out->ns;
        else
            return sl_diag_set(d, SL_EINVAL, "fieldSelector",
                               "field label not supported: %.*s "
                               "(metadata.name and metadata.namespace are)",
                               (int)klen, p);
        sl_free(*slot);
        *slot = sl_xstrndup(op, n - (size_t)(op - p));
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

void sl__api_fieldsel_fini(struct sl__api_fieldsel *f)
{
    sl_free(f->name);
    sl_free(f->ns);
    sl_free(f->not_name);
    sl_free(f->not_ns);
    memset(f, 0, sizeof(*f));
}

static const char *fs_meta(const struct json_object *obj, const char *key)
{
    struct json_object *m, *v;

    if (!json_object_object_get_ex(obj, "metadata", &m) ||
        !json_object_object_get_ex(m, key, &v))
        return "";
    return json_object_get_string(v);
}

bool sl__api_fieldsel_match(const struct sl__api_fieldsel *f,
                            const struct json_object *obj)
{
    const char *name = fs_meta(obj, "name"), *ns = fs_meta(obj, "namespace");

    return (f->name == NULL || strcmp(name, f->name) == 0) &&
           (f->ns == NULL || strcmp(ns, f->ns) == 0) &&
           (f->not_name == NULL || strcmp(name, f->not_name) != 0) &&
           (f->not_ns == NULL || strcmp(ns, f->not_ns) != 0);
}
