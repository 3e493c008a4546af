/*
 * cmd/serve.c - `sluice serve`: the daemon.
 *
 * Wiring, in start order: configuration (cmd/config.h), logging, the
 * loop with SIGTERM/SIGINT handlers, the store (data dir, exclusive lock),
 * the "default" namespace, the REST API and its listener, the resources
 * given with -f (applied like `sluice apply`), the data plane, the
 * running KafkaSinks, the ingress (a path that is no Broker's is looked
 * up among the KafkaSinks), the running sources (control/sources.h) and
 * the reconcile loop. Then /readyz answers 200 and the loop runs until a
 * signal; shutdown runs in reverse order and frees everything (sanitizer builds
 * check it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "broker/ingress.h"
#include "broker/kafka/kafka.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/config.h"
#include "control/control.h"
#include "control/dataplane.h"
#include "control/kafkasinks.h"
#include "control/sources.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/metrics_kn.h"
#include "net/kafka.h"
#include "net/server.h"
#include "resource/resource.h"
#include "store/store.h"

extern char **environ;

struct serve {
    struct sl_config cfg;
    struct sl_loop *loop;
    struct sl_store *store;
    struct sl_api *api;
    struct sl_ctl *ctl;
    struct sl_dataplane *dp;
    struct sl_kafkasinks *ksinks; /* KafkaSinks' producers */
    struct sl_sources *sources;   /* PingSource adapters */
    struct sl_ingress *ingress;
    struct sl_metrics *metrics;
    struct sl_http_server *api_srv, *health_srv;
    struct sl_timer *stop_timer;
    struct sl_timer *give_up_timer; /* --shutdown-timeout */
    struct sl_log_ctx log;
    char *token;
    char *ingress_url; /* derived from ingress-addr when not given */
    bool ready;
    bool stopping;
    bool forced; /* stopped with logs still closing: exit without teardown */
};

static void serve_stop(void *arg)
{
    struct serve *s = arg;

    sl_loop_stop(s->loop);
}

/* /metrics: the registry and the process metrics, Prometheus text. */
static void serve_metrics(struct serve *s, struct sl_http_req *req)
{
    struct sl_buf b;

    sl_buf_init(&b, (size_t)64 << 20);
    if (sl_metrics_write(s->metrics, &b) == 0 &&
        sl_metrics_write_process(&b) == 0)
        sl_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                        b.data, b.len);
    else
        sl_http_respond(req, 500, "text/plain", "metrics too large", 17);
    sl_buf_fini(&b);
}

/* /metrics, /healthz and /readyz on --metrics-addr. */
static void serve_health(void *arg, struct sl_http_req *req)
{
    struct serve *s = arg;
    const char *path = sl_http_req_path(req);

    if (strcmp(path, "/metrics") == 0)
        serve_metrics(s, req);
    else if (strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0)
        sl_http_respond(req, 200, "text/plain", "ok", 2);
    else if (strcmp(path, "/readyz") == 0 && s->ready)
        sl_http_respond(req, 200, "text/plain", "ok", 2);
    else if (strcmp(path, "/readyz") == 0)
        sl_http_respond(req, 503, "text/plain", "not ready", 9);
    else
        sl_http_respond(req, 404, "text/plain", "not found", 9);
}

/* The data plane and the KafkaSinks are closed: give the loop a moment
 * to write out the last answers and watch chunks, then stop. */
static void serve_all_closed(void *arg)
{
    struct serve *s = arg;

    sl_timer_stop(s->give_up_timer);
    s->stop_timer = sl_timer_new(s->loop, serve_stop, s);
    sl_timer_start(s->stop_timer, 200, 0);
}

/* --shutdown-timeout passed and the logs are still closing. */
static void serve_give_up(void *arg)
{
    struct serve *s = arg;

    SL_LOG(SL_LOG_WARN, &s->log,
           "shutdown-timeout reached with broker logs still closing; "
           "stopping anyway (unsettled events come again at the next start)");
    s->forced = true;
    sl_loop_stop(s->loop);
}

/* The brokers' logs are closed: close the KafkaSinks' producers. */
static void serve_dp_closed(void *arg)
{
    struct serve *s = arg;

    sl_kafkasinks_shutdown(s->ksinks, serve_all_closed, s);
}

/* The sources have stopped: close the data plane next. */
static void serve_sources_stopped(void *arg)
{
    struct serve *s = arg;

    sl_dataplane_shutdown(s->dp, serve_dp_closed, s);
}

static void serve_on_signal(void *arg, int signo)
{
    struct serve *s = arg;

    SL_LOG(SL_LOG_INFO, &s->log, "received %s, shutting down",
           signo == SIGTERM ? "SIGTERM" : "SIGINT");
    if (s->stopping) {
        SL_LOG(SL_LOG_WARN, &s->log,
               "second signal: stopping now, without waiting for the "
               "brokers' logs to close");
        s->forced = true;
        sl_loop_stop(s->loop);
        return;
    }
    s->stopping = true;
    /* End watch streams properly (their last chunk); stop the sources
     * and dispatching;
     * close the brokers' logs (appends accepted so far complete and are
     * answered; new ones get 503), then stop. */
    s->ready = false;
    sl_api_set_ready(s->api, 0);
    sl_api_close_watches(s->api);
    s->give_up_timer = sl_timer_new(s->loop, serve_give_up, s);
    sl_timer_start(s->give_up_timer,
                   (uint64_t)(s->cfg.shutdown_timeout_ns / 1000000), 0);
    /* Sources first (their events go to the ingress), then the logs. */
    sl_sources_shutdown(s->sources, serve_sources_stopped, s);
}

/*
 * Raise the soft open-file limit to the hard one and return how many
 * connections deliveries may hold: half of what is left once each
 * listener's --max-connections and a reserve (store, logs, Redis) are
 * counted, at least 64.
 */
static unsigned serve_fd_budget(const struct sl_config *cfg)
{
    struct rlimit rl;
    uint64_t n, used;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 64;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : (uint64_t)rl.rlim_cur;
    used = 3 * (uint64_t)cfg->max_connections + 256;
    n = n > used ? (n - used) / 2 : 0;
    if (n < 64)
        n = 64;
    return n > 1000000 ? 1000000 : (unsigned)n;
}

/* The ingress' lookup: a Broker's log, else a KafkaSink's producer. */
static struct sl_backend *serve_lookup(void *arg, const char *ns,
                                       const char *name, int *why)
{
    struct serve *s = arg;
    struct sl_backend *b = sl_dataplane_lookup(s->dp, ns, name, why);

    if (b != NULL || *why != SL_ENOENT)
        return b;
    return sl_kafkasinks_lookup(s->ksinks, ns, name, why);
}

/* The class name of --default-backend. */
static const char *serve_default_class(const struct sl_config *cfg)
{
    switch (cfg->default_backend) {
    case SL_CONFIG_BACKEND_REDIS:
        return "Redis";
    case SL_CONFIG_BACKEND_KAFKA:
        return "Kafka";
    default:
        return "Embedded";
    }
}

/* The token file's content without trailing whitespace. */
static int serve_token(struct serve *s, struct sl_diag *d)
{
    char buf[4200];
    FILE *f;
    size_t n;

    if (s->cfg.api_token_file == NULL)
        return 0;
    f = fopen(s->cfg.api_token_file, "rb");
    if (f == NULL)
        return sl_diag_set(d, SL_EINVAL, "api-token-file",
                           "cannot read --api-token-file '%s': %s",
                           s->cfg.api_token_file, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                     buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    s->token = sl_xstrdup(buf);
    return 0;
}

/* Create the "default" namespace on first start, as Kubernetes has one. */
static int serve_default_ns(struct serve *s, struct sl_diag *d)
{
    struct json_object *ns =
        json_tokener_parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                           "\"metadata\":{\"name\":\"default\"}}");
    enum sl_api_applied what;
    int rc = sl_api_apply(s->api, ns, &what, d);

    json_object_put(ns);
    return rc;
}

/* Apply the -f inputs through the same path as `sluice apply`. */
static int serve_apply_files(struct serve *s)
{
    struct json_object *docs = NULL;
    struct sl_cli c;
    size_t i;
    int failed = 0, pass;

    if (s->cfg.files.n == 0)
        return 0;
    memset(&c, 0, sizeof(c));
    c.cmd = "serve";
    c.files = (const char **)s->cfg.files.v;
    c.nfiles = s->cfg.files.n;
    if (sl_cli_read_docs(&c, &docs) != 0 || c.read_failed) {
        json_object_put(docs);
        json_object_put(c.origins);
        return 1;
    }
    /* Namespaces first, as apply does. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < json_object_array_length(docs); i++) {
            struct json_object *doc = json_object_array_get_idx(docs, i),
                               *k = NULL;
            enum sl_api_applied what;
            struct sl_diag d;
            bool is_ns = json_object_object_get_ex(doc, "kind", &k) &&
                         json_object_is_type(k, json_type_string) &&
                         strcmp(json_object_get_string(k), "Namespace") == 0;

            if (is_ns != (pass == 0))
                continue;
            sl_diag_clear(&d);
            if (sl_api_apply(s->api, doc, &what, &d) != 0) {
                char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 8];
                struct json_object *m = NULL, *n = NULL;

                json_object_object_get_ex(doc, "metadata", &m);
                json_object_object_get_ex(m, "name", &n);
                fprintf(stderr, "sluice: -f: %s \"%s\": %s\n",
                        json_object_is_type(k, json_type_string)
                            ? json_object_get_string(k)
                            : "object",
                        n ? json_object_get_string(n) : "",
                        sl_diag_format(&d, msg, sizeof(msg)));
                failed = 1;
            }
        }
    json_object_put(docs);
    json_object_put(c.origins);
    return failed;
}

static void serve_teardown(struct serve *s)
{
    sl_timer_free(s->stop_timer);
    sl_timer_free(s->give_up_timer);
    sl_http_server_free(s->health_srv);
    sl_http_server_free(s->api_srv);
    sl_api_free(s->api);
    sl_ctl_free(s->ctl);
    sl_sources_free(s->sources);
    /* The ingress before the logs it appends to. */
    sl_ingress_free(s->ingress);
    sl_dataplane_free(s->dp);
    sl_kafkasinks_free(s->ksinks);
    sl_metrics_free(s->metrics);
    sl_store_close(s->store);
    /* Kafka threads still running (a topic check or delete, a consumer
     * closing, a group's start or forget) post their results to the
     * loop: wait for them, so that sl_loop_free runs those results and
     * frees what they hold. */
    sl_kafka_admin_drain();
    sl_loop_free(s->loop);
    sl_free(s->token);
    sl_free(s->ingress_url);
    sl_config_fini(&s->cfg);
}

int sl_cmd_serve(int argc, char **argv)
{
    struct serve s;
    struct sl_diag d;
    int rc = 1;

    memset(&s, 0, sizeof(s));
    sl_diag_clear(&d);
    sl_log_ctx_init(&s.log, "serve", NULL, NULL);
    if (sl_config_load(&s.cfg, argc, argv, environ, &d) != 0)
        goto fail;
    if (s.cfg.help) {
        sl_config_help(stdout);
        sl_config_fini(&s.cfg);
        return 0;
    }
    if (sl_config_check(&s.cfg, &d) != 0)
        goto fail;
    if (s.cfg.check_config) {
        printf("configuration ok\n");
        sl_config_dump(&s.cfg, stdout);
        sl_config_fini(&s.cfg);
        return 0;
    }
    sl_log_threshold = s.cfg.log_level;
    /* Brokers publish the ingress' own address unless told otherwise. */
    if (sl_config_source(&s.cfg, "ingress-url") == SL_CONFIG_DEFAULT) {
        size_t n = strlen(s.cfg.ingress_addr) + 8;

        s.ingress_url = sl_xmalloc(n);
        snprintf(s.ingress_url, n, "http://%s", s.cfg.ingress_addr);
    } else {
        s.ingress_url = sl_xstrdup(s.cfg.ingress_url);
    }
    if (serve_token(&s, &d) != 0)
        goto fail;
    if (sl_loop_new(&s.loop) != 0) {
        sl_diag_set(&d, SL_EIO, "", "cannot create the event loop");
        goto fail;
    }
    sl_loop_signal(s.loop, SIGTERM, serve_on_signal, &s);
    sl_loop_signal(s.loop, SIGINT, serve_on_signal, &s);
    signal(SIGPIPE, SIG_IGN);
    {
        struct sl_store_opts so;

        sl_store_opts_init(&so);
        so.history_max = (size_t)s.cfg.watch_history;
        if (sl_store_open(s.cfg.data_dir, &so, &s.store, &d) != 0)
            goto fail;
    }
    {
        struct sl_api_opts ao = { .token = s.token };

        sl_api_new(s.loop, s.store, &ao, &s.api);
    }
    if (serve_default_ns(&s, &d) != 0)
        goto fail;
    {
        struct sl_http_server_opts ho = {
            .listen = s.cfg.api_addr,
            .max_body_bytes = (size_t)s.cfg.api_max_body,
            .max_connections = (unsigned)s.cfg.max_connections,
            /* A watch starts with every object: room for a big list. */
            .stream_queue_bytes = (size_t)16 << 20,
            .name = "api",
            .error_body = sl_api_error_body,
        };

        if (sl_http_server_new(s.loop, &ho, sl_api_handle, s.api, &s.api_srv,
                               &d) != 0)
            goto fail;
    }
    if (serve_apply_files(&s) != 0) {
        serve_teardown(&s);
        return 1;
    }
    s.metrics = sl_metrics_new();
    sl_metrics_kn_register(s.metrics);
    {
        struct sl_dataplane_opts dpo = {
            .data_dir = s.cfg.data_dir,
            .default_class = serve_default_class(&s.cfg),
            .redis_url = s.cfg.redis_url,
            .kafka_bootstrap = s.cfg.kafka_bootstrap,
            .ingress_url = s.ingress_url,
            .max_event_size = (size_t)s.cfg.max_event_size,
            .max_sink_conns = serve_fd_budget(&s.cfg),
            .retention_max_age_ms = s.cfg.broker_retention_ns > 0
                                        ? s.cfg.broker_retention_ns / 1000000
                                        : -1,
            .retention_max_bytes = (uint64_t)s.cfg.broker_retention_bytes,
            .metrics = s.metrics,
        };

        if (sl_dataplane_new(s.loop, &dpo, &s.dp, &d) != 0)
            goto fail;
    }
    {
        struct sl_kafkasinks_opts ko = {
            .data_dir = s.cfg.data_dir,
            .max_event_size = (size_t)s.cfg.max_event_size,
            .metrics = s.metrics,
        };

        if (sl_kafkasinks_new(s.loop, &ko, &s.ksinks, &d) != 0)
            goto fail;
    }
    {
        struct sl_ingress_opts io = {
            .listen = s.cfg.ingress_addr,
            .max_event_size = (size_t)s.cfg.max_event_size,
            .max_connections = (unsigned)s.cfg.max_connections,
            .lookup = serve_lookup,
            .lookup_arg = &s,
            .metrics = s.metrics,
        };

        if (sl_ingress_new(s.loop, &io, &s.ingress, &d) != 0)
            goto fail;
    }
    {
        struct sl_ctl_opts co = { .ingress_url = s.ingress_url,
                                  .dataplane = s.dp,
                                  .kafkasinks = s.ksinks };
        struct sl_sources_opts so = { .metrics = s.metrics };

        if (sl_sources_new(s.loop, &so, &s.sources, &d) != 0)
            goto fail;
        co.sources = s.sources;
        if (sl_ctl_new(s.loop, s.store, &co, &s.ctl, &d) != 0 ||
            sl_ctl_start(s.ctl, &d) != 0)
            goto fail;
    }
    {
        struct sl_http_server_opts ho = { .listen = s.cfg.metrics_addr,
                                          .name = "health" };

        if (sl_http_server_new(s.loop, &ho, serve_health, &s, &s.health_srv,
                               &d) != 0)
            goto fail;
    }
    sl_api_set_ready(s.api, 1);
    s.ready = true;
    SL_LOG(SL_LOG_INFO, &s.log,
           "serving the API on %s, brokers on %s, data in %s", s.cfg.api_addr,
           s.cfg.ingress_addr, s.cfg.data_dir);
    rc = sl_loop_run(s.loop) == 0 ? 0 : 1;
    if (s.forced) {
        /* Backend threads may still run; freeing under them is unsafe,
         * and everything answered 202 is already durable. */
        SL_LOG(SL_LOG_WARN, &s.log, "stopped without closing every log");
        _exit(1);
    }
    SL_LOG(SL_LOG_INFO, &s.log, "stopped");
    serve_teardown(&s);
    return rc;
fail:
    /* Every layer's message names its subject; the field adds nothing. */
    fprintf(stderr, "sluice: %s\n", d.msg[0] ? d.msg : "cannot start");
    serve_teardown(&s);
    return 1;
}
