/*
 * resource/addressable.c - from a Destination and the object its ref
 * names to one address (knative.dev/pkg resolver, reference section 2.4).
 *
 * The caller looks the ref's object up (the store is above this layer);
 * this file only reads its status. Kubernetes core Services have no
 * status address and are not special-cased here: sluice has none.
 */
#include "resource/duck.h"

#include <string.h>

#include "core/alloc.h"
#include "core/url.h"

void sl_res_addr_fini(struct sl_res_addr *a)
{
    if (a == NULL)
        return;
    sl_free(a->url);
    sl_free(a->ca_certs);
    sl_free(a->audience);
    memset(a, 0, sizeof(*a));
}

/* The URL of an address must be absolute with a host. */
static int addr_check_url(const struct json_object *addr, struct sl_diag *d)
{
    const char *url = sl_res_get_str(addr, "url");
    struct sl_url u;
    int rc = 0;

    if (url == NULL || url[0] == '\0')
        return sl_diag_set(d, SL_ENOENT, NULL, "URL missing in address");
    if (sl_url_parse(url, &u, d) != 0)
        rc = SL_ENOENT;
    else if (u.scheme == NULL || u.host == NULL || u.host[0] == '\0')
        rc = sl_diag_set(d, SL_ENOENT, NULL, "hostname missing in address '%s'",
                         url);
    sl_url_fini(&u);
    return rc;
}

int sl_res_addr_pick(const struct json_object *target, const char *name,
                     const struct json_object **paddr, struct sl_diag *d)
{
    struct json_object *status = sl_res_get(target, "status");
    struct json_object *list = sl_res_get(status, "addresses");
    struct json_object *one = sl_res_get(status, "address");
    const struct json_object *pick = NULL;
    size_t i, n = 0;
    int rc;

    *paddr = NULL;
    if (json_object_is_type(list, json_type_array))
        n = json_object_array_length(list);
    if (n == 0 && one == NULL)
        return sl_diag_set(d, SL_ENOENT, NULL, "address not set");
    if (name != NULL && name[0] != '\0') {
        for (i = 0; i < n && pick == NULL; i++) {
            struct json_object *a = json_object_array_get_idx(list, i);
            const char *an = sl_res_get_str(a, "name");
            if (an != NULL && strcmp(an, name) == 0)
                pick = a;
        }
        if (pick == NULL)
            return sl_diag_set(d, SL_ENOENT, NULL,
                               "address with name \"%s\" not found", name);
    } else {
        pick = n > 0 ? json_object_array_get_idx(list, 0) : one;
    }
    if ((rc = addr_check_url(pick, d)) != 0)
        return rc;
    *paddr = pick;
    return 0;
}

static char *addr_dup(const char *s)
{
    return s != NULL && s[0] != '\0' ? sl_xstrdup(s) : NULL;
}

int sl_res_dest_resolve(const struct json_object *dest,
                        const struct json_object *target,
                        struct sl_res_addr *out, struct sl_diag *d)
{
    const struct json_object *ref = sl_res_get(dest, "ref"), *addr;
    const char *uri = sl_res_get_str(dest, "uri");
    const char *ca = sl_res_get_str(dest, "CACerts");
    const char *aud = sl_res_get_str(dest, "audience");
    struct sl_url u;
    int rc;

    memset(out, 0, sizeof(*out));
    if (ref == NULL) {
        if (uri == NULL)
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "destination missing ref and uri, expected at "
                               "least one");
        if (sl_url_parse(uri, &u, d) != 0)
            return SL_EINVAL;
        rc = (u.scheme == NULL || u.host == NULL || u.host[0] == '\0')
                 ? sl_diag_set(d, SL_EINVAL, NULL,
                               "URI is not absolute (both scheme and host "
                               "should be non-empty): \"%s\"",
                               uri)
                 : 0;
        sl_url_fini(&u);
        if (rc != 0)
            return rc;
        out->url = sl_xstrdup(uri);
        out->ca_certs = addr_dup(ca);
        out->audience = addr_dup(aud);
        return 0;
    }
    if (target == NULL)
        return sl_diag_set(d, SL_ENOENT, NULL, "ref target not found");
    if ((rc = sl_res_addr_pick(target, sl_res_get_str(ref, "address"), &addr,
                               d)) != 0)
        return rc;
    if (uri != NULL && uri[0] != '\0') {
        if (sl_url_parse(uri, &u, d) != 0)
            return SL_EINVAL;
        rc = u.scheme != NULL ? sl_diag_set(d, SL_EINVAL, NULL,
                                            "absolute URI is not allowed "
                                            "when ref is present")
                              : 0;
        sl_url_fini(&u);
        if (rc != 0)
            return rc;
        if ((rc = sl_url_resolve_str(sl_res_get_str(addr, "url"), uri,
                                     &out->url, d)) != 0)
            return rc;
    } else {
        out->url = sl_xstrdup(sl_res_get_str(addr, "url"));
    }
    out->ca_certs = addr_dup(
        ca != NULL && ca[0] != '\0' ? ca : sl_res_get_str(addr, "CACerts"));
    out->audience = addr_dup(
        aud != NULL && aud[0] != '\0' ? aud : sl_res_get_str(addr, "audience"));
    return 0;
}
