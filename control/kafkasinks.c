/*
 * control/kafkasinks.c - the running KafkaSinks (control/kafkasinks.h):
 * their configuration from the object and its Secret, and a producer
 * backend (sinks/kafkasink.h) per KafkaSink kept in line with it.
 *
 * The producers' life cycle (open, retry with backoff, health poll,
 * rebuild on a changed configuration, close on removal, shutdown, the
 * ingress' lookup) is a log set's (control/logset.h), the one the
 * Brokers' logs have; what is a KafkaSink's own here is its
 * configuration, the reasons it reports and how its health is read
 * (sl_kafkasink_status: the cluster's reachability).
 */
#include "control/kafkasinks.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "broker/backend.h"
#include "control/logset.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "resource/schema.h"
#include "sinks/kafkasink.h"

#define KS_SECRET_MAX ((size_t)1 << 20)

struct sl_kafkasinks {
    struct sl_loop *loop;
    char *data_dir;
    size_t max_event_size;
    struct sl_logset *set; /* "ns/name" -> the producer's entry */
    struct sl_log_ctx log;
};

/* ---- configuration ---- */

/* The decoded value of Secret data key 'key' into 'out' (reset first):
 * 1 when present, 0 when absent, SL_EINVAL when not Base64. */
static int ks_secret_get(const struct json_object *data, const char *key,
                         struct sl_buf *out, struct sl_diag *why)
{
    struct json_object *v = NULL;
    const char *s;

    sl_buf_reset(out);
    if (!json_object_object_get_ex(data, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return 0;
    s = json_object_get_string(v);
    if (sl_base64_decode(s, strlen(s), out, NULL) != 0)
        return sl_diag_set(why, SL_EINVAL, key, "the value is not Base64");
    sl_buf_appendc(out, '\0'); /* a C string from here on */
    out->len--;
    return 1;
}

static void ks_prop(struct json_object *props, const char *name,
                    const char *value)
{
    json_object_object_add(props, name, json_object_new_string(value));
}

/* Copy Secret key 'key' (required unless 'optional') into property 'prop'. */
static int ks_secret_copy(const struct json_object *data, const char *key,
                          const char *prop, bool optional, const char *protocol,
                          struct json_object *props, struct sl_buf *v,
                          struct sl_diag *why)
{
    int rc = ks_secret_get(data, key, v, why);

    if (rc < 0)
        return rc;
    if (rc == 0 || v->len == 0) {
        if (optional)
            return 0;
        return sl_diag_set(why, SL_EINVAL, key,
                           "[protocol %s] required key %s is missing", protocol,
                           key);
    }
    ks_prop(props, prop, sl_buf_str(v));
    return 0;
}

int sl_kafka_secret_props(const struct json_object *data,
                          struct json_object *props, struct sl_diag *why)
{
    static const char *const protocols[] = { "PLAINTEXT", "SASL_PLAINTEXT",
                                             "SSL", "SASL_SSL", NULL };
    static const char *const mechanisms[] = { "PLAIN", "SCRAM-SHA-256",
                                              "SCRAM-SHA-512", NULL };
    struct sl_buf v;
    char protocol[32], lower[32];
    bool sasl, ssl, skip = false;
    size_t i;
    int rc;

    sl_buf_init(&v, KS_SECRET_MAX);
    rc = ks_secret_get(data, "protocol", &v, why);
    if (rc == 0)
        rc = sl_diag_set(why, SL_EINVAL, "protocol",
                         "protocol required (key: protocol), supported "
                         "protocols: PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL");
    if (rc < 0)
        goto out;
    snprintf(protocol, sizeof(protocol), "%s", sl_buf_str(&v));
    for (i = 0; protocols[i] != NULL; i++)
        if (strcmp(protocols[i], protocol) == 0)
            break;
    if (protocols[i] == NULL) {
        rc = sl_diag_set(why, SL_EINVAL, "protocol",
                         "protocol %s unsupported, supported protocols: "
                         "PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL",
                         sl_buf_str(&v));
        goto out;
    }
    for (i = 0; protocol[i] != '\0' && i + 1 < sizeof(lower); i++)
        lower[i] = (char)(protocol[i] >= 'A' && protocol[i] <= 'Z'
                              ? protocol[i] - 'A' + 'a'
                              : protocol[i]);
    lower[i] = '\0';
    ks_prop(props, "security.protocol", lower);
    sasl = strncmp(protocol, "SASL_", 5) == 0;
    ssl = strstr(protocol, "SSL") != NULL;
    rc = 0;
    if (sasl) {
        const char *mech = "PLAIN";

        if ((rc = ks_secret_get(data, "sasl.mechanism", &v, why)) < 0)
            goto out;
        if (rc == 1)
            mech = sl_buf_str(&v);
        for (i = 0; mechanisms[i] != NULL; i++)
            if (strcmp(mechanisms[i], mech) == 0)
                break;
        if (mechanisms[i] == NULL) {
            rc = sl_diag_set(why, SL_EINVAL, "sasl.mechanism",
                             "[protocol %s] unsupported SASL mechanism %s "
                             "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)",
                             protocol, mech);
            goto out;
        }
        ks_prop(props, "sasl.mechanisms", mechanisms[i]);
        /* "username": Knative's legacy secrets. */
        if ((rc = ks_secret_get(data, "user", &v, why)) < 0)
            goto out;
        rc = ks_secret_copy(data, rc == 1 && v.len > 0 ? "user" : "username",
                            "sasl.username", false, protocol, props, &v, why);
        if (rc == 0)
            rc = ks_secret_copy(data, "password", "sasl.password", false,
                                protocol, props, &v, why);
        if (rc != 0) {
            if (strcmp(why->field, "username") == 0)
                snprintf(why->field, sizeof(why->field), "user");
            goto out;
        }
    }
    if (ssl) {
        if ((rc = ks_secret_copy(data, "ca.crt", "ssl.ca.pem", true, protocol,
                                 props, &v, why)) != 0)
            goto out;
        if ((rc = ks_secret_get(data, "user.skip", &v, why)) < 0)
            goto out;
        if (rc == 1) {
            if (strcasecmp(sl_buf_str(&v), "true") == 0 ||
                strcmp(sl_buf_str(&v), "1") == 0)
                skip = true;
            else if (strcasecmp(sl_buf_str(&v), "false") != 0 &&
                     strcmp(sl_buf_str(&v), "0") != 0) {
                rc = sl_diag_set(why, SL_EINVAL, "user.skip",
                                 "must be true or false, got '%s'",
                                 sl_buf_str(&v));
                goto out;
            }
        }
        rc = 0;
        /* Client certificates: required with SSL alone (unless skipped),
         * optional with SASL_SSL. */
        if ((rc = ks_secret_copy(data, "user.crt", "ssl.certificate.pem",
                                 sasl || skip, protocol, props, &v, why)) !=
                0 ||
            (rc = ks_secret_copy(data, "user.key", "ssl.key.pem", sasl || skip,
                                 protocol, props, &v, why)) != 0)
            goto out;
    }
out:
    sl_buf_fini(&v);
    return rc;
}

int sl_kafkasink_config(const struct json_object *obj,
                        const struct json_object *secret,
                        struct json_object **out, struct sl_diag *why)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    struct json_object *servers = sl_res_get(spec, "bootstrapServers"), *c, *v;
    const char *mode = sl_res_get_str(spec, "contentMode");
    struct sl_buf b;
    char num[32];
    size_t i;
    int rc;

    *out = NULL;
    c = json_object_new_object();
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    for (i = 0;
         servers != NULL && json_object_is_type(servers, json_type_array) &&
         i < json_object_array_length(servers);
         i++) {
        if (i > 0)
            sl_buf_appendc(&b, ',');
        sl_buf_appends(
            &b, json_object_get_string(json_object_array_get_idx(servers, i)));
    }
    ks_prop(c, "bootstrap.servers", sl_buf_str(&b));
    sl_buf_fini(&b);
    ks_prop(c, SL_KAFKASINK_TOPIC,
            sl_res_get_str(spec, "topic") ? sl_res_get_str(spec, "topic") : "");
    ks_prop(c, SL_KAFKASINK_CONTENT_MODE, mode ? mode : "binary");
    if ((v = sl_res_get(spec, "numPartitions")) != NULL) {
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
        ks_prop(c, SL_KAFKASINK_PARTITIONS, num);
    }
    if ((v = sl_res_get(spec, "replicationFactor")) != NULL) {
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
        ks_prop(c, SL_KAFKASINK_REPLICATION, num);
    }
    if (secret != NULL) {
        rc = sl_kafka_secret_props(sl_res_get(secret, "data"), c, why);
        if (rc != 0) {
            json_object_put(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

/* ---- the producers: a log set (control/logset.h) ---- */

static void ks_open_failed(struct sl_logset_entry *e, int rc)
{
    struct sl_diag why;

    sl_diag_clear(&why);
    sl_kafkasink_status(e->b, &why);
    sl_logset_why(e, why.field[0] ? why.field : SL_KAFKASINK_R_UNREACHABLE,
                  "%s", why.msg[0] ? why.msg : sl_strerror(rc));
}

/* An open producer is unhealthy while its cluster is unreachable. */
static int ks_health(struct sl_logset_entry *e, struct sl_diag *why)
{
    if (sl_kafkasink_status(e->b, why) == 0)
        return 0;
    snprintf(why->field, sizeof(why->field), "%s", SL_KAFKASINK_R_UNREACHABLE);
    return 1;
}

static const struct sl_logset_kind ks_kind = {
    .kind = "KafkaSink",
    .what = "KafkaSink",
    .entry_size = sizeof(struct sl_logset_entry),
    .opening_reason = "ProducerOpening",
    .opening_msg = "checking the topic and starting the producer",
    .closing_reason = "ProducerClosing",
    .closing_msg = "the producer is being closed",
    .healthy_msg = "cluster reachable again",
    .gone_while_closing = true,
    .health = ks_health,
    .open_failed = ks_open_failed,
};

enum sl_dp_state sl_kafkasinks_sync(struct sl_kafkasinks *ks, const char *ns,
                                    const char *name,
                                    const struct json_object *config,
                                    struct sl_diag *why)
{
    struct sl_logset_entry *e;
    enum sl_dp_state st;
    struct sl_diag d;
    char *fp;
    int rc;

    fp = sl_xstrdup(json_object_to_json_string_ext((struct json_object *)config,
                                                   JSON_C_TO_STRING_PLAIN));
    if (!sl_logset_sync(ks->set, ns, name, fp, &e, &st, why))
        return st;
    /* A new producer. */
    sl_diag_clear(&d);
    rc = sl_logset_open(e, &sl_kafkasink_ops, ks->data_dir, ks->max_event_size,
                        config, &d);
    if (rc != 0) {
        sl_logset_why(e, SL_KAFKASINK_R_CONFIG, "%s%s%s", d.field,
                      d.field[0] ? ": " : "",
                      d.msg[0] ? d.msg : sl_strerror(rc));
        /* Only a new configuration can mend this. */
        e->backoff_ms = SL_LOGSET_RETRY_MAX_MS;
        sl_logset_failed(e);
    }
    return sl_logset_state(e, why);
}

void sl_kafkasinks_remove(struct sl_kafkasinks *ks, const char *ns,
                          const char *name)
{
    sl_logset_remove(ks->set, ns, name);
}

struct sl_backend *sl_kafkasinks_lookup(void *arg, const char *ns,
                                        const char *name, int *why)
{
    struct sl_kafkasinks *ks = arg;

    return sl_logset_lookup(ks->set, ns, name, why);
}

size_t sl_kafkasinks_open(const struct sl_kafkasinks *ks)
{
    return sl_logset_count_open(ks->set);
}

/* ---- life cycle ---- */

void sl_kafkasinks_set_notify(struct sl_kafkasinks *ks, sl_dp_notify_fn *fn,
                              void *arg)
{
    sl_logset_set_notify(ks->set, fn, arg);
}

int sl_kafkasinks_new(struct sl_loop *loop, const struct sl_kafkasinks_opts *o,
                      struct sl_kafkasinks **out, struct sl_diag *d)
{
    struct sl_kafkasinks *ks;

    *out = NULL;
    if (loop == NULL || o == NULL || o->data_dir == NULL)
        return sl_diag_set(d, SL_EINVAL, "", "kafkasinks: missing options");
    ks = sl_xcalloc(1, sizeof(*ks));
    ks->loop = loop;
    ks->data_dir = sl_xstrdup(o->data_dir);
    ks->max_event_size = o->max_event_size;
    sl_log_ctx_init(&ks->log, "kafkasinks", NULL, NULL);
    ks->set = sl_logset_new(loop, &ks_kind, o->metrics, &ks->log);
    *out = ks;
    return 0;
}

void sl_kafkasinks_shutdown(struct sl_kafkasinks *ks, void (*done)(void *),
                            void *arg)
{
    sl_logset_shutdown(ks->set, done, arg);
}

void sl_kafkasinks_free(struct sl_kafkasinks *ks)
{
    if (ks == NULL)
        return;
    sl_logset_free(ks->set);
    sl_free(ks->data_dir);
    sl_free(ks);
}
