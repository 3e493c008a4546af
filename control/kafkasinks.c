/*
 * control/kafkasinks.c - the running KafkaSinks (control/kafkasinks.h):
 * their configuration from the object and its Secret, and a producer
 * backend (sinks/kafkasink.h) per KafkaSink kept in line with it.
 *
 * An entry lives from its first sync to the end of the close that
 * follows its removal. Its producer goes
 *   (none) -create+open-> OPENING -ok-> OPEN (health polled every second)
 *                                 \-error-> FAILED (retry timer)
 *   OPEN/FAILED -changed config, retry due, removal-> CLOSING -> (none)
 * as a broker's log does in control/dataplane.c; every change that ends
 * later (an open, a close, a health change, a due retry) asks the
 * controller to reconcile the KafkaSink again.
 */
#include "control/kafkasinks.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "broker/backend.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/metrics_kn.h"
#include "resource/schema.h"
#include "sinks/kafkasink.h"

#define KS_RETRY_MIN_MS 100
#define KS_RETRY_MAX_MS 30000
#define KS_HEALTH_MS    1000
#define KS_SECRET_MAX   ((size_t)1 << 20)

enum ks_state {
    K_NONE = 0, /* no producer (new, or closed for a rebuild) */
    K_OPENING,
    K_OPEN,
    K_FAILED, /* open failed or init refused; retry at retry_at */
    K_CLOSING,
};

struct ks_entry {
    struct sl_kafkasinks *ks;
    char *ns, *name, *key;
    char *fp; /* the configuration (JSON) the producer was made with */
    struct sl_backend *b;
    enum ks_state st;
    char reason[64];
    char msg[SL_DIAG_MSG_MAX];
    int64_t retry_at;   /* K_FAILED: loop ms */
    int64_t backoff_ms; /* the next failure's wait */
    struct sl_timer *retry;
    bool removed;          /* forget the entry once closed */
    bool close_after_open; /* closed while opening */
    bool unhealthy;        /* open, but the cluster is unreachable */
    char hmsg[SL_DIAG_MSG_MAX];
    char said[SL_DIAG_MSG_MAX]; /* the last failure logged at WARN */
};

struct sl_kafkasinks {
    struct sl_loop *loop;
    char *data_dir;
    size_t max_event_size;
    struct sl_metrics *metrics; /* borrowed, may be NULL */
    struct sl_map entries;      /* "ns/name" -> ks_entry */
    struct sl_timer *health;
    sl_dp_notify_fn *notify;
    void *notify_arg;
    bool shutting_down;
    size_t closing; /* closes in flight during shutdown */
    void (*shutdown_done)(void *);
    void *shutdown_arg;
    struct sl_log_ctx log;
};

static char *ks_key(const char *ns, const char *name)
{
    size_t n = strlen(ns) + strlen(name) + 2;
    char *k = sl_xmalloc(n);

    snprintf(k, n, "%s/%s", ns, name);
    return k;
}

static void ks_notify(struct sl_kafkasinks *ks, const struct ks_entry *e)
{
    if (ks->notify != NULL && !ks->shutting_down)
        ks->notify(ks->notify_arg, "KafkaSink", e->ns, e->name);
}

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

/* ---- entries ---- */

static void ks_entry_free(struct ks_entry *e)
{
    sl_timer_free(e->retry);
    if (e->b != NULL)
        sl_backend_free(e->b);
    sl_free(e->ns);
    sl_free(e->name);
    sl_free(e->key);
    sl_free(e->fp);
    sl_free(e);
}

static void ks_why(struct ks_entry *e, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ks_why(struct ks_entry *e, const char *reason, const char *fmt, ...)
{
    char m[sizeof(e->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
    memcpy(e->msg, m, sizeof(m));
}

static enum sl_dp_state ks_state(const struct ks_entry *e, struct sl_diag *why)
{
    switch (e->st) {
    case K_OPEN:
        if (!e->unhealthy)
            return SL_DP_READY;
        sl_diag_set(why, SL_EIO, SL_KAFKASINK_R_UNREACHABLE, "%s", e->hmsg);
        return SL_DP_FAILED;
    case K_FAILED:
        sl_diag_set(why, SL_EIO, e->reason, "%s", e->msg);
        return SL_DP_FAILED;
    case K_CLOSING:
        sl_diag_set(why, SL_EAGAIN, "ProducerClosing",
                    "the producer is being closed");
        return SL_DP_PENDING;
    default:
        sl_diag_set(why, SL_EAGAIN, "ProducerOpening",
                    "checking the topic and starting the producer");
        return SL_DP_PENDING;
    }
}

static void ks_shutdown_step(struct sl_kafkasinks *ks)
{
    void (*done)(void *) = ks->shutdown_done;

    if (ks->closing > 0 || done == NULL)
        return;
    ks->shutdown_done = NULL;
    done(ks->shutdown_arg);
}

static void ks_closed(void *arg, int rc)
{
    struct ks_entry *e = arg;
    struct sl_kafkasinks *ks = e->ks;

    if (rc != 0)
        SL_LOG(SL_LOG_WARN, &ks->log, "closing the producer of %s: %s", e->key,
               sl_strerror(rc));
    sl_backend_free(e->b);
    e->b = NULL;
    e->st = K_NONE;
    if (ks->shutting_down) {
        ks->closing--;
        ks_shutdown_step(ks);
        return;
    }
    if (e->removed) {
        void *old = NULL;
        char *ns = sl_xstrdup(e->ns), *name = sl_xstrdup(e->name);

        sl_map_del(&ks->entries, e->key, &old);
        ks_entry_free(e);
        /* Again: while it closed, the ingress counted answers under its
         * name. */
        sl_metrics_forget_broker(ks->metrics, ns, name);
        /* The KafkaSink may have come back meanwhile. */
        if (ks->notify != NULL)
            ks->notify(ks->notify_arg, "KafkaSink", ns, name);
        sl_free(ns);
        sl_free(name);
        return;
    }
    ks_notify(ks, e);
}

/* Close the producer of 'e' (async); one still opening is closed as soon
 * as its open completes. */
static void ks_close(struct ks_entry *e)
{
    struct sl_kafkasinks *ks = e->ks;

    sl_timer_stop(e->retry);
    if (e->b == NULL) {
        e->st = K_NONE;
        return;
    }
    if (e->st == K_CLOSING)
        return;
    e->st = K_CLOSING;
    if (ks->shutting_down)
        ks->closing++;
    if (e->b->state == SL_BACKEND_OPENING) {
        e->close_after_open = true;
        return;
    }
    sl_backend_close(e->b, ks_closed, e);
}

static void ks_retry_fire(void *arg)
{
    struct ks_entry *e = arg;

    ks_notify(e->ks, e);
}

/* The open failed (reason and message in 'e'): retry with backoff. Said
 * at WARN when the failure differs from the last one, else at DEBUG. */
static void ks_failed(struct ks_entry *e)
{
    struct sl_kafkasinks *ks = e->ks;
    bool same = strcmp(e->said, e->msg) == 0;

    e->st = K_FAILED;
    SL_LOG(same ? SL_LOG_DEBUG : SL_LOG_WARN, &ks->log,
           "KafkaSink %s: %s: %s; retrying in %lld ms", e->key, e->reason,
           e->msg, (long long)e->backoff_ms);
    memcpy(e->said, e->msg, sizeof(e->said));
    e->retry_at = sl_loop_now_ms(ks->loop) + e->backoff_ms;
    sl_timer_start(e->retry, (uint64_t)e->backoff_ms, 0);
    e->backoff_ms = e->backoff_ms * 2 > KS_RETRY_MAX_MS ? KS_RETRY_MAX_MS
                                                        : e->backoff_ms * 2;
}

static void ks_opened(void *arg, int rc)
{
    struct ks_entry *e = arg;
    struct sl_kafkasinks *ks = e->ks;
    struct sl_diag why;

    if (e->close_after_open) {
        e->close_after_open = false;
        sl_backend_close(e->b, ks_closed, e);
        return;
    }
    if (e->st != K_OPENING)
        return;
    if (rc == 0) {
        e->st = K_OPEN;
        e->unhealthy = false;
        e->backoff_ms = KS_RETRY_MIN_MS;
        e->said[0] = '\0';
    } else {
        sl_diag_clear(&why);
        sl_kafkasink_status(e->b, &why);
        ks_why(e, why.field[0] ? why.field : SL_KAFKASINK_R_UNREACHABLE, "%s",
               why.msg[0] ? why.msg : sl_strerror(rc));
        ks_failed(e);
    }
    ks_notify(ks, e);
}

enum sl_dp_state sl_kafkasinks_sync(struct sl_kafkasinks *ks, const char *ns,
                                    const char *name,
                                    const struct json_object *config,
                                    struct sl_diag *why)
{
    char *key = ks_key(ns, name), *fp;
    struct ks_entry *e = sl_map_get(&ks->entries, key);
    struct sl_backend_cfg bc;
    struct sl_diag d;
    int rc;

    if (ks->shutting_down) {
        sl_free(key);
        sl_diag_set(why, SL_EAGAIN, "ShuttingDown", "sluice is stopping");
        return SL_DP_PENDING;
    }
    if (e == NULL) {
        e = sl_xcalloc(1, sizeof(*e));
        e->ks = ks;
        e->ns = sl_xstrdup(ns);
        e->name = sl_xstrdup(name);
        e->key = sl_xstrdup(key);
        e->backoff_ms = KS_RETRY_MIN_MS;
        e->retry = sl_timer_new(ks->loop, ks_retry_fire, e);
        sl_map_put(&ks->entries, key, e, NULL);
    }
    sl_free(key);
    e->removed = false;
    fp = sl_xstrdup(json_object_to_json_string_ext((struct json_object *)config,
                                                   JSON_C_TO_STRING_PLAIN));
    if (e->st == K_CLOSING) {
        sl_free(fp);
        return ks_state(e, why);
    }
    if (e->fp != NULL && strcmp(e->fp, fp) != 0 && e->st != K_NONE) {
        SL_LOG(SL_LOG_INFO, &ks->log,
               "KafkaSink %s: configuration changed, reopening", e->key);
        sl_free(fp);
        e->backoff_ms = KS_RETRY_MIN_MS;
        ks_close(e);
        if (e->st == K_NONE)
            return sl_kafkasinks_sync(ks, ns, name, config, why);
        return ks_state(e, why);
    }
    if (e->st == K_FAILED) {
        if (sl_loop_now_ms(ks->loop) < e->retry_at) {
            sl_free(fp);
            return ks_state(e, why);
        }
        ks_close(e);
        if (e->st != K_NONE) {
            sl_free(fp);
            return ks_state(e, why);
        }
    }
    if (e->st != K_NONE) {
        sl_free(fp);
        return ks_state(e, why);
    }
    /* A new producer. */
    sl_free(e->fp);
    e->fp = fp;
    memset(&bc, 0, sizeof(bc));
    bc.loop = ks->loop;
    bc.ns = ns;
    bc.name = name;
    bc.data_dir = ks->data_dir;
    bc.limits.max_event_size = ks->max_event_size;
    bc.config = config;
    sl_diag_clear(&d);
    rc = sl_backend_new(&sl_kafkasink_ops, &bc, &e->b, &d);
    if (rc != 0) {
        ks_why(e, SL_KAFKASINK_R_CONFIG, "%s%s%s", d.field,
               d.field[0] ? ": " : "", d.msg[0] ? d.msg : sl_strerror(rc));
        /* Only a new configuration can mend this. */
        e->backoff_ms = KS_RETRY_MAX_MS;
        ks_failed(e);
        return ks_state(e, why);
    }
    e->st = K_OPENING;
    sl_backend_open(e->b, ks_opened, e);
    return ks_state(e, why);
}

void sl_kafkasinks_remove(struct sl_kafkasinks *ks, const char *ns,
                          const char *name)
{
    char *key = ks_key(ns, name);
    struct ks_entry *e = sl_map_get(&ks->entries, key);

    sl_free(key);
    sl_metrics_forget_broker(ks->metrics, ns, name);
    if (e == NULL)
        return;
    e->removed = true;
    if (e->st == K_CLOSING)
        return;
    ks_close(e);
    if (e->st == K_NONE) {
        void *old = NULL;

        sl_map_del(&ks->entries, e->key, &old);
        ks_entry_free(e);
    }
}

struct sl_backend *sl_kafkasinks_lookup(void *arg, const char *ns,
                                        const char *name, int *why)
{
    struct sl_kafkasinks *ks = arg;
    char key[512];
    struct ks_entry *e;

    snprintf(key, sizeof(key), "%s/%s", ns, name);
    e = sl_map_get(&ks->entries, key);
    if (e == NULL || e->removed) {
        *why = SL_ENOENT;
        return NULL;
    }
    if (ks->shutting_down) {
        *why = SL_EAGAIN;
        return NULL;
    }
    switch (e->st) {
    case K_OPEN:
        /* Unhealthy too: its appends then fail at once (503). */
        return e->b;
    case K_FAILED:
        *why = SL_EIO;
        return NULL;
    default:
        *why = SL_EAGAIN;
        return NULL;
    }
}

size_t sl_kafkasinks_open(const struct sl_kafkasinks *ks)
{
    size_t it = 0, n = 0;
    const char *k;
    void *v;

    while (sl_map_next(&ks->entries, &it, &k, &v))
        if (((struct ks_entry *)v)->st == K_OPEN)
            n++;
    return n;
}

/* ---- health ---- */

static void ks_health_fire(void *arg)
{
    struct sl_kafkasinks *ks = arg;
    size_t it = 0;
    const char *k;
    void *v;

    while (sl_map_next(&ks->entries, &it, &k, &v)) {
        struct ks_entry *e = v;
        struct sl_diag why;
        bool bad;

        if (e->st != K_OPEN)
            continue;
        sl_diag_clear(&why);
        bad = sl_kafkasink_status(e->b, &why) != 0;
        if (bad == e->unhealthy && (!bad || strcmp(why.msg, e->hmsg) == 0))
            continue;
        e->unhealthy = bad;
        snprintf(e->hmsg, sizeof(e->hmsg), "%s", bad ? why.msg : "");
        SL_LOG(bad ? SL_LOG_WARN : SL_LOG_INFO, &ks->log, "KafkaSink %s: %s",
               e->key, bad ? e->hmsg : "cluster reachable again");
        ks_notify(ks, e);
    }
}

/* ---- life cycle ---- */

void sl_kafkasinks_set_notify(struct sl_kafkasinks *ks, sl_dp_notify_fn *fn,
                              void *arg)
{
    ks->notify = fn;
    ks->notify_arg = arg;
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
    ks->metrics = o->metrics;
    sl_map_init(&ks->entries, NULL);
    sl_log_ctx_init(&ks->log, "kafkasinks", NULL, NULL);
    ks->health = sl_timer_new(loop, ks_health_fire, ks);
    sl_timer_start(ks->health, KS_HEALTH_MS, KS_HEALTH_MS);
    *out = ks;
    return 0;
}

void sl_kafkasinks_shutdown(struct sl_kafkasinks *ks, void (*done)(void *),
                            void *arg)
{
    size_t it = 0;
    const char *k;
    void *v;

    ks->shutting_down = true;
    ks->shutdown_done = done;
    ks->shutdown_arg = arg;
    sl_timer_stop(ks->health);
    while (sl_map_next(&ks->entries, &it, &k, &v)) {
        struct ks_entry *e = v;

        if (e->st == K_CLOSING)
            ks->closing++;
        else if (e->b != NULL)
            ks_close(e);
        else
            sl_timer_stop(e->retry);
    }
    ks_shutdown_step(ks);
}

void sl_kafkasinks_free(struct sl_kafkasinks *ks)
{
    size_t it = 0;
    const char *k;
    void *v;

    if (ks == NULL)
        return;
    while (sl_map_next(&ks->entries, &it, &k, &v)) {
        struct ks_entry *e = v;

        if (e->b != NULL && e->st != K_NONE && e->st != K_FAILED) {
            /* Not shut down: a bug, logged; leak rather than free what
             * librdkafka's threads may still use. */
            SL_LOG(SL_LOG_ERROR, &ks->log, "KafkaSink %s freed while open",
                   e->key);
            continue;
        }
        ks_entry_free(e);
    }
    sl_map_fini(&ks->entries);
    sl_timer_free(ks->health);
    sl_free(ks->data_dir);
    sl_free(ks);
}
