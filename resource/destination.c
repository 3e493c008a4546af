/*
 * resource/destination.c - KReference and Destination: schema tables,
 * defaults and validation (knative.dev/pkg apis/duck/v1
 * knative_reference.go and destination.go, reference section 2.4).
 *
 * Two deliberate differences from Knative, both stricter and both about
 * input Knative would fail on later anyway: the ref of a ref+uri
 * Destination is validated too (Knative skips it), and CACerts are checked
 * whatever else is set (Knative skips them when only a ref is given).
 * CACerts must be a PEM CERTIFICATE block whose body is Base64 of a DER
 * SEQUENCE; the certificate itself is not parsed (no X.509 here).
 */
#include "resource/duck.h"

#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/url.h"

/* ---- KReference ---- */

const struct sl_res_field sl_res_kref_fields[] = {
    { .name = "kind", .type = SL_RES_STRING },
    { .name = "namespace", .type = SL_RES_STRING },
    { .name = "name", .type = SL_RES_STRING },
    { .name = "apiVersion", .type = SL_RES_STRING },
    { .name = "group", .type = SL_RES_STRING },
    { .name = "address", .type = SL_RES_STRING },
    { .name = NULL },
};

static bool dest_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

int sl_res_kref_validate(const struct json_object *ref,
                         const struct sl_res_env *env, const char *parent_ns,
                         struct sl_res_path *p, struct sl_diag *d)
{
    const char *name = sl_res_get_str(ref, "name");
    const char *av = sl_res_get_str(ref, "apiVersion");
    const char *group = sl_res_get_str(ref, "group");
    const char *kind = sl_res_get_str(ref, "kind");
    const char *ns = sl_res_get_str(ref, "namespace");

    if (dest_empty(name))
        return sl_res_fail_at(d, p, "name", "missing field(s)");
    if (env->kreference_group) {
        if (dest_empty(av) && dest_empty(group))
            return sl_res_fail_at(d, p, "apiVersion", "missing field(s)");
        if (!dest_empty(av) && !dest_empty(group))
            return sl_res_fail_at(d, p, "apiVersion",
                                  "both apiVersion and group are specified: "
                                  "only one of them must be specified");
    } else {
        if (!dest_empty(group))
            return sl_res_fail_at(d, p, "group", "must not set the field(s)");
        if (dest_empty(av))
            return sl_res_fail_at(d, p, "apiVersion", "missing field(s)");
    }
    if (dest_empty(kind))
        return sl_res_fail_at(d, p, "kind", "missing field(s)");
    if (parent_ns != NULL && parent_ns[0] != '\0' && !dest_empty(ns) &&
        strcmp(ns, parent_ns) != 0)
        return sl_res_fail_at(d, p, "namespace",
                              "mismatched namespaces: parent namespace: "
                              "\"%s\" does not match ref: \"%s\"",
                              parent_ns, ns);
    return 0;
}

void sl_res_kref_set_defaults(struct json_object *ref, const char *ns)
{
    if (!json_object_is_type(ref, json_type_object) || ns == NULL)
        return;
    if (dest_empty(sl_res_get_str(ref, "namespace")))
        sl_res_set_str(ref, "namespace", ns);
}

/* ---- Destination ---- */

const struct sl_res_field sl_res_destination_fields[] = {
    { .name = "ref", .type = SL_RES_OBJECT, .fields = sl_res_kref_fields },
    { .name = "uri", .type = SL_RES_STRING },
    { .name = "CACerts", .type = SL_RES_STRING },
    { .name = "audience", .type = SL_RES_STRING },
    { .name = NULL },
};

/*
 * The first PEM block of 's' must be a CERTIFICATE whose body decodes to
 * something that starts like DER (a SEQUENCE). Returns 0 or SL_EINVAL.
 */
static int dest_ca_certs(const char *s, struct sl_res_path *p,
                         struct sl_diag *d)
{
    static const char begin[] = "-----BEGIN ", dashes[] = "-----";
    const char *b = strstr(s, begin), *type, *type_end, *body, *end;
    char end_line[96];
    struct sl_buf clean, der;
    int rc = 0;

    if (b == NULL)
        return sl_res_fail_at(d, p, "CACerts",
                              "invalid value: CA certificate provided is "
                              "invalid (no PEM block)");
    type = b + strlen(begin);
    type_end = strstr(type, dashes);
    if (type_end == NULL || (size_t)(type_end - type) > 64)
        return sl_res_fail_at(d, p, "CACerts",
                              "invalid value: CA certificate provided is "
                              "invalid (bad PEM header)");
    if ((size_t)(type_end - type) != strlen("CERTIFICATE") ||
        strncmp(type, "CERTIFICATE", strlen("CERTIFICATE")) != 0)
        return sl_res_fail_at(d, p, "CACerts",
                              "invalid value: CA certificate provided is not "
                              "a certificate");
    body = type_end + strlen(dashes);
    snprintf(end_line, sizeof(end_line), "-----END %.*s-----",
             (int)(type_end - type), type);
    end = strstr(body, end_line);
    if (end == NULL)
        return sl_res_fail_at(d, p, "CACerts",
                              "invalid value: CA certificate provided is "
                              "invalid (no PEM end line)");
    sl_buf_init(&clean, (size_t)(end - body));
    sl_buf_init(&der, (size_t)(end - body));
    for (; body < end; body++)
        if (strchr(" \t\r\n", *body) == NULL)
            sl_buf_appendc(&clean, *body);
    if (clean.len == 0 ||
        sl_base64_decode(sl_buf_str(&clean), clean.len, &der, NULL) != 0 ||
        der.len < 2 || (unsigned char)der.data[0] != 0x30)
        rc = sl_res_fail_at(d, p, "CACerts",
                            "invalid value: CA certificate provided is "
                            "invalid");
    sl_buf_fini(&der);
    sl_buf_fini(&clean);
    return rc;
}

int sl_res_dest_validate(const struct json_object *dest,
                         const struct sl_res_env *env, const char *parent_ns,
                         struct sl_res_path *p, struct sl_diag *d)
{
    const struct json_object *ref = sl_res_get(dest, "ref");
    const char *uri = sl_res_get_str(dest, "uri");
    const char *ca = sl_res_get_str(dest, "CACerts");
    struct sl_diag tmp;
    struct sl_url u;
    size_t old;
    bool absolute = false, host = false;
    int rc;

    if (ref == NULL && uri == NULL)
        return sl_res_fail(d, p, "expected at least one, got none");
    if (uri != NULL) {
        sl_diag_clear(&tmp);
        rc = sl_url_parse(uri, &u, &tmp);
        absolute = u.scheme != NULL;
        host = u.host != NULL && u.host[0] != '\0';
        sl_url_fini(&u);
        if (rc != 0)
            return sl_res_fail_at(d, p, "uri", "invalid value \"%s\": %s", uri,
                                  tmp.msg);
        if (ref != NULL && absolute)
            return sl_res_fail_at(d, p, "uri",
                                  "absolute URI is not allowed when ref is "
                                  "present");
        if (ref == NULL && (!absolute || !host))
            return sl_res_fail_at(d, p, "uri",
                                  "invalid value \"%s\": relative URI is not "
                                  "allowed when ref is absent",
                                  uri);
    }
    if (ref != NULL) {
        old = sl_res_path_field(p, "ref");
        rc = sl_res_kref_validate(ref, env, parent_ns, p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    if (ca != NULL)
        return dest_ca_certs(ca, p, d);
    return 0;
}

void sl_res_dest_set_defaults(struct json_object *dest, const char *ns)
{
    sl_res_kref_set_defaults(sl_res_get(dest, "ref"), ns);
}
