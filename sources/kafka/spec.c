/*
 * sources/kafka/spec.c - a KafkaSource as the runtime reads it (reference
 * section 6.1), and the librdkafka properties of its bootstrap servers
 * and spec.net (SASL and TLS values read from Secrets through a lookup
 * the caller provides).
 */
#include "sources/kafka/kafka.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "resource/meta.h"
#include "resource/schema.h"
#include "resource/source.h"

/* ---- the spec ---- */

void sl_ksrc_spec_fini(struct sl_ksrc_spec *spec)
{
    size_t i;

    sl_free(spec->ns);
    sl_free(spec->name);
    sl_free(spec->bootstrap);
    for (i = 0; i < spec->ntopics; i++)
        sl_free(spec->topics[i]);
    sl_free(spec->topics);
    sl_free(spec->group);
    for (i = 0; i < spec->next; i++) {
        sl_free(spec->ext[i].name);
        sl_free(spec->ext[i].value);
    }
    sl_free(spec->ext);
    sl_free(spec->ignored);
    if (spec->delivery != NULL)
        json_object_put(spec->delivery);
    memset(spec, 0, sizeof(*spec));
}

/* "a,b,c" of the non-empty strings of array 'arr'; NULL when none. */
static char *kspec_join(const struct json_object *arr)
{
    size_t n = json_object_is_type(arr, json_type_array)
                   ? json_object_array_length(arr)
                   : 0;
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    for (size_t i = 0; i < n; i++) {
        const char *s = sl_res_str(json_object_array_get_idx(arr, i));

        if (s == NULL || s[0] == '\0')
            continue;
        if (b.len > 0)
            sl_buf_appendc(&b, ',');
        sl_buf_appends(&b, s);
    }
    if (b.len == 0) {
        sl_buf_fini(&b);
        return NULL;
    }
    return sl_buf_steal(&b, NULL);
}

/* Append 'name' to the comma list spec->ignored. */
static void kspec_ignore(struct sl_ksrc_spec *spec, const char *name)
{
    size_t n =
        (spec->ignored ? strlen(spec->ignored) + 1 : 0) + strlen(name) + 1;
    char *s = sl_xmalloc(n);

    snprintf(s, n, "%s%s%s", spec->ignored ? spec->ignored : "",
             spec->ignored ? "," : "", name);
    sl_free(spec->ignored);
    spec->ignored = s;
}

/* spec.ceOverrides.extensions: names lower-cased (as PingSource's), a
 * core attribute name left out, values valid Strings. */
static int kspec_extensions(struct sl_ksrc_spec *spec,
                            const struct json_object *exts, struct sl_diag *d)
{
    if (exts == NULL || !json_object_is_type(exts, json_type_object))
        return 0;
    spec->ext = sl_xcalloc((size_t)json_object_object_length(exts) + 1,
                           sizeof(*spec->ext));
    json_object_object_foreach((struct json_object *)exts, k, v)
    {
        char *name = sl_str_lower(sl_xstrdup(k));
        const char *value = json_object_get_string(v);
        struct sl_diag why;
        char field[300];

        snprintf(field, sizeof(field), "spec.ceOverrides.extensions.%s", k);
        if (!sl_ce_name_valid(name, SL_CE_V10)) {
            sl_free(name);
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid extension name: must be [a-z0-9]+");
        }
        if (sl_ce_core_type(name, SL_CE_V10) >= 0 ||
            strcmp(name, "specversion") == 0) {
            kspec_ignore(spec, name);
            sl_free(name);
            continue;
        }
        if (value == NULL)
            value = "";
        sl_diag_clear(&why);
        if (sl_ce_check_value(name, SL_CE_STRING, value, strlen(value), &why) !=
            0) {
            sl_free(name);
            return sl_diag_set(d, SL_EINVAL, field, "invalid value: %s",
                               why.msg);
        }
        spec->ext[spec->next].name = name;
        spec->ext[spec->next].value = sl_xstrdup(value);
        spec->next++;
    }
    return 0;
}

static int kspec_read(const struct json_object *obj, struct sl_ksrc_spec *spec,
                      struct sl_diag *d)
{
    const struct json_object *s = sl_res_get(obj, "spec");
    const char *ns = sl_res_meta_namespace(obj), *name = sl_res_meta_name(obj);
    const char *offset = sl_res_get_str(s, "initialOffset");
    const char *order = sl_res_get_str(s, "ordering");
    struct json_object *topics = sl_res_get(s, "topics");
    struct json_object *consumers = sl_res_get(s, "consumers");
    struct json_object *delivery = sl_res_get(s, "delivery");
    const char *label = sl_res_meta_label(obj, SL_KSRC_KEY_TYPE_LABEL);
    char group[512];
    size_t n;

    if (ns == NULL || name == NULL || ns[0] == '\0' || name[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, "metadata",
                           "a KafkaSource needs a namespace and a name");
    spec->ns = sl_xstrdup(ns);
    spec->name = sl_xstrdup(name);
    if ((spec->bootstrap = kspec_join(sl_res_get(s, "bootstrapServers"))) ==
        NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.bootstrapServers",
                           "missing field(s)");
    n = json_object_is_type(topics, json_type_array)
            ? json_object_array_length(topics)
            : 0;
    spec->topics = sl_xcalloc(n + 1, sizeof(*spec->topics));
    for (size_t i = 0; i < n; i++) {
        const char *t = sl_res_str(json_object_array_get_idx(topics, i));

        if (t != NULL && t[0] != '\0')
            spec->topics[spec->ntopics++] = sl_xstrdup(t);
    }
    if (spec->ntopics == 0)
        return sl_diag_set(d, SL_EINVAL, "spec.topics", "missing field(s)");
    if (sl_res_kafka_source_group(obj, group, sizeof(group)) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.consumerGroup",
                           "no consumer group and no uid to derive one from");
    spec->group = sl_xstrdup(group);
    spec->consumers = 1;
    if (consumers != NULL) {
        int64_t c = json_object_get_int64(consumers);

        if (c < 1 || c > 1000)
            return sl_diag_set(d, SL_EINVAL, "spec.consumers",
                               "invalid value %lld: must be 1..1000",
                               (long long)c);
        spec->consumers = (int32_t)c;
    }
    if (offset != NULL && offset[0] != '\0' &&
        strcmp(offset, "earliest") != 0 && strcmp(offset, "latest") != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.initialOffset",
                           "invalid value \"%s\": expected one of "
                           "\"earliest\", \"latest\"",
                           offset);
    spec->earliest = offset != NULL && strcmp(offset, "earliest") == 0;
    if (order != NULL && order[0] != '\0' && strcmp(order, "ordered") != 0 &&
        strcmp(order, "unordered") != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.ordering",
                           "invalid value \"%s\": expected one of "
                           "\"ordered\", \"unordered\"",
                           order);
    spec->ordered = order == NULL || strcmp(order, "unordered") != 0;
    if (sl_ksrc_key_type_parse(label, &spec->key_type) != 0)
        return sl_diag_set(d, SL_EINVAL,
                           "metadata.labels[" SL_KSRC_KEY_TYPE_LABEL "]",
                           "invalid value \"%s\": expected one of "
                           "\"string\", \"int\", \"float\", \"byte-array\"",
                           label);
    if (delivery != NULL && json_object_is_type(delivery, json_type_object))
        spec->delivery = json_object_get(delivery);
    return kspec_extensions(
        spec, sl_res_get(sl_res_get(s, "ceOverrides"), "extensions"), d);
}

int sl_ksrc_spec_parse(const struct json_object *obj, struct sl_ksrc_spec *out,
                       struct sl_diag *d)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = kspec_read(obj, out, d);
    if (rc != 0)
        sl_ksrc_spec_fini(out);
    return rc;
}

void sl_ksrc_spec_map(const struct sl_ksrc_spec *spec, struct sl_ksrc_map *out)
{
    memset(out, 0, sizeof(*out));
    out->ns = spec->ns;
    out->name = spec->name;
    out->key_type = spec->key_type;
    out->kafka_ext = true;
    out->ext = spec->ext;
    out->next = spec->next;
}

/* ---- spec.net -> properties ---- */

/*
 * Read the value of the SecretValueFromSource at spec.net.<path> ('ref',
 * may be NULL). '*out' gets the value, or NULL when there is no reference
 * (or an optional one whose Secret or key is missing).
 */
static int kprops_secret(const struct json_object *ref, const char *path,
                         sl_ksrc_secret_fn *secret, void *arg, char **out,
                         struct sl_diag *d)
{
    const struct json_object *sel = sl_res_get(ref, "secretKeyRef");
    const char *name = sl_res_get_str(sel, "name");
    const char *key = sl_res_get_str(sel, "key");
    struct json_object *opt = sl_res_get(sel, "optional");
    char field[128];
    struct sl_diag why;
    int rc;

    *out = NULL;
    if (sel == NULL)
        return 0;
    snprintf(field, sizeof(field), "spec.net.%s.secretKeyRef", path);
    if (name == NULL || name[0] == '\0' || key == NULL || key[0] == '\0')
        return sl_diag_set(d, SL_EINVAL, field,
                           "a secretKeyRef needs a name and a key");
    sl_diag_clear(&why);
    rc = secret(arg, name, key, out, &why);
    if (rc == SL_ENOENT && opt != NULL && json_object_get_boolean(opt))
        return 0;
    if (rc != 0)
        return sl_diag_set(d, rc, field, "%s",
                           why.msg[0] ? why.msg : sl_strerror(rc));
    return 0;
}

static void kprops_set(struct json_object *props, const char *k, const char *v)
{
    json_object_object_add(props, k, json_object_new_string(v));
}

static bool kprops_enabled(const struct json_object *section)
{
    struct json_object *e = sl_res_get(section, "enable");

    return e != NULL && json_object_get_boolean(e);
}

/* The SASL settings into 'props'. */
static int kprops_sasl(const struct json_object *sasl,
                       sl_ksrc_secret_fn *secret, void *arg,
                       struct json_object *props, struct sl_diag *d)
{
    char *type = NULL, *user = NULL, *pass = NULL;
    const char *mech = "PLAIN";
    int rc;

    if ((rc = kprops_secret(sl_res_get(sasl, "type"), "sasl.type", secret, arg,
                            &type, d)) != 0 ||
        (rc = kprops_secret(sl_res_get(sasl, "user"), "sasl.user", secret, arg,
                            &user, d)) != 0 ||
        (rc = kprops_secret(sl_res_get(sasl, "password"), "sasl.password",
                            secret, arg, &pass, d)) != 0)
        goto out;
    if (type != NULL && type[0] != '\0') {
        if (strcmp(type, "PLAIN") == 0 || strcmp(type, "SCRAM-SHA-256") == 0 ||
            strcmp(type, "SCRAM-SHA-512") == 0) {
            mech = type;
        } else {
            rc = sl_diag_set(d, SL_EINVAL, "spec.net.sasl.type.secretKeyRef",
                             "unsupported SASL mechanism \"%s\": expected "
                             "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
                             type);
            goto out;
        }
    }
    if (user == NULL) {
        rc = sl_diag_set(d, SL_EINVAL, "spec.net.sasl.user",
                         "SASL is enabled but no user is given");
        goto out;
    }
    if (pass == NULL) {
        rc = sl_diag_set(d, SL_EINVAL, "spec.net.sasl.password",
                         "SASL is enabled but no password is given");
        goto out;
    }
    kprops_set(props, "sasl.mechanism", mech);
    kprops_set(props, "sasl.username", user);
    kprops_set(props, "sasl.password", pass);
out:
    sl_free(type);
    sl_free(user);
    sl_free(pass);
    return rc;
}

/* The TLS settings into 'props'. */
static int kprops_tls(const struct json_object *tls, sl_ksrc_secret_fn *secret,
                      void *arg, struct json_object *props, struct sl_diag *d)
{
    char *ca = NULL, *cert = NULL, *key = NULL;
    int rc;

    if ((rc = kprops_secret(sl_res_get(tls, "caCert"), "tls.caCert", secret,
                            arg, &ca, d)) != 0 ||
        (rc = kprops_secret(sl_res_get(tls, "cert"), "tls.cert", secret, arg,
                            &cert, d)) != 0 ||
        (rc = kprops_secret(sl_res_get(tls, "key"), "tls.key", secret, arg,
                            &key, d)) != 0)
        goto out;
    if ((cert == NULL) != (key == NULL)) {
        rc =
            sl_diag_set(d, SL_EINVAL,
                        cert == NULL ? "spec.net.tls.cert" : "spec.net.tls.key",
                        "a client certificate needs both cert and key");
        goto out;
    }
    if (ca != NULL)
        kprops_set(props, "ssl.ca.pem", ca);
    if (cert != NULL) {
        kprops_set(props, "ssl.certificate.pem", cert);
        kprops_set(props, "ssl.key.pem", key);
    }
out:
    sl_free(ca);
    sl_free(cert);
    sl_free(key);
    return rc;
}

int sl_ksrc_props(const struct json_object *obj, sl_ksrc_secret_fn *secret,
                  void *arg, struct json_object **out, struct sl_diag *d)
{
    const struct json_object *net = sl_res_dig(obj, "spec.net");
    const struct json_object *sasl = sl_res_get(net, "sasl");
    const struct json_object *tls = sl_res_get(net, "tls");
    bool use_sasl = kprops_enabled(sasl), use_tls = kprops_enabled(tls);
    char *servers = kspec_join(sl_res_dig(obj, "spec.bootstrapServers"));
    struct json_object *props;
    int rc = 0;

    *out = NULL;
    if (servers == NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.bootstrapServers",
                           "missing field(s)");
    props = json_object_new_object();
    kprops_set(props, "bootstrap.servers", servers);
    sl_free(servers);
    if (use_sasl || use_tls)
        kprops_set(props, "security.protocol",
                   use_sasl && use_tls ? "SASL_SSL"
                   : use_sasl          ? "SASL_PLAINTEXT"
                                       : "SSL");
    if (use_sasl && (rc = kprops_sasl(sasl, secret, arg, props, d)) != 0)
        goto fail;
    if (use_tls && (rc = kprops_tls(tls, secret, arg, props, d)) != 0)
        goto fail;
    *out = props;
    return 0;
fail:
    json_object_put(props);
    return rc;
}
