/*
 * cmd/config.c - the settings table and the one path that fills it.
 *
 * Each row of sl__cfg_table names a setting, its type, where it may come from
 * (flags, environment, file), its field in struct sl_config, its default
 * as text and its limits. Defaults, file values, environment variables
 * and flags are all text (or, in the file, YAML scalars turned into text)
 * handed to cfg_apply, which parses by type, checks limits and stores: so
 * a default is checked exactly like user input, and a type behaves the
 * same from every source.
 *
 * Value syntax (addresses, URLs, sizes, durations) is in
 * cmd/config_value.c; the cross-setting and file-system checks, the dump
 * and the help text in cmd/config_check.c; they share cmd/config_int.h.
 */
#include "cmd/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd/config_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/yaml.h"

/* ---- the table ---- */

static const char *const cfg_backends[] = { "embedded", "redis", "kafka",
                                            NULL };
static const char *const cfg_http[] = { "http", "https", NULL };
static const char *const cfg_redis[] = { "redis", NULL };

#define CFG_OFF(field) offsetof(struct sl_config, field)

const struct sl__cfg_opt sl__cfg_table[] = {
    { .name = "config",
      .type = SL__CFG_PATH,
      .only = SL__CFG_IN_FLAG | SL__CFG_IN_ENV,
      .off = CFG_OFF(config),
      .metavar = "FILE",
      .help = "configuration file: a YAML mapping of the settings below" },
    { .name = "check-config",
      .type = SL__CFG_BOOL,
      .only = SL__CFG_IN_FLAG,
      .off = CFG_OFF(check_config),
      .help = "check the configuration, print it and exit" },
    { .name = "help",
      .shortopt = 'h',
      .type = SL__CFG_BOOL,
      .only = SL__CFG_IN_FLAG,
      .off = CFG_OFF(help),
      .help = "show this help and exit" },
    { .name = "data-dir",
      .type = SL__CFG_PATH,
      .off = CFG_OFF(data_dir),
      .def = "./sluice-data",
      .metavar = "DIR",
      .help = "directory for the embedded store and broker logs" },
    { .name = "api-addr",
      .type = SL__CFG_ADDR,
      .off = CFG_OFF(api_addr),
      .def = "127.0.0.1:8001",
      .metavar = "HOST:PORT",
      .help = "listen address of the REST API" },
    { .name = "api-token-file",
      .type = SL__CFG_PATH,
      .off = CFG_OFF(api_token_file),
      .metavar = "FILE",
      .help = "file holding the bearer token the API requires (needed "
              "when --api-addr is not loopback)" },
    { .name = "api-max-body",
      .type = SL__CFG_SIZE,
      .off = CFG_OFF(api_max_body),
      .def = "3MiB",
      .min = 1,
      .max = SL__CFG_GIB,
      .metavar = "SIZE",
      .help = "largest request body the API accepts (413 beyond)" },
    { .name = "ingress-addr",
      .type = SL__CFG_ADDR,
      .off = CFG_OFF(ingress_addr),
      .def = "127.0.0.1:8080",
      .metavar = "HOST:PORT",
      .help = "listen address of the broker ingress (POST /<ns>/<broker>)" },
    { .name = "ingress-url",
      .type = SL__CFG_URL,
      .off = CFG_OFF(ingress_url),
      .def = "http://127.0.0.1:8080",
      .choices = cfg_http,
      .metavar = "URL",
      .help = "base URL brokers publish as their address "
              "(<url>/<namespace>/<broker>); default http://<ingress-addr>" },
    { .name = "max-event-size",
      .type = SL__CFG_SIZE,
      .off = CFG_OFF(max_event_size),
      .def = "1MiB",
      .min = 1,
      .max = 64 * SL__CFG_MIB,
      .metavar = "SIZE",
      .help = "largest event the ingress accepts (413 beyond)" },
    { .name = "serving-addr",
      .type = SL__CFG_ADDR,
      .off = CFG_OFF(serving_addr),
      .def = "127.0.0.1:8081",
      .metavar = "HOST:PORT",
      .help = "listen address of the serving gateway (not served yet)" },
    { .name = "metrics-addr",
      .type = SL__CFG_ADDR,
      .off = CFG_OFF(metrics_addr),
      .def = "127.0.0.1:9092",
      .metavar = "HOST:PORT",
      .help = "listen address of /metrics (Prometheus text), /healthz and "
              "/readyz" },
    { .name = "max-connections",
      .type = SL__CFG_INT,
      .off = CFG_OFF(max_connections),
      .def = "1024",
      .min = 1,
      .max = 1000000,
      .metavar = "N",
      .help = "most connections each listener keeps open at once" },
    { .name = "shutdown-timeout",
      .type = SL__CFG_DURATION,
      .off = CFG_OFF(shutdown_timeout_ns),
      .def = "PT30S",
      .min = 0,
      .max = 3600 * SL__CFG_SEC,
      .metavar = "DURATION",
      .help = "how long SIGTERM waits for work in flight (ISO-8601)" },
    { .name = "broker-retention",
      .type = SL__CFG_DURATION,
      .off = CFG_OFF(broker_retention_ns),
      .def = "P7D",
      .min = 0,
      .max = 3650 * 24 * 3600 * SL__CFG_SEC,
      .metavar = "DURATION",
      .help = "age after which broker records are removed, read or not "
              "(ISO-8601; PT0S: no age limit)" },
    { .name = "broker-retention-bytes",
      .type = SL__CFG_SIZE,
      .off = CFG_OFF(broker_retention_bytes),
      .def = "0",
      .min = 0,
      .max = (int64_t)1024 * SL__CFG_GIB,
      .metavar = "SIZE",
      .help = "stored bytes per broker beyond which the oldest records are "
              "removed, read or not (0: no limit)" },
    { .name = "watch-history",
      .type = SL__CFG_INT,
      .off = CFG_OFF(watch_history),
      .def = "5000",
      .min = 0,
      .max = 10000000,
      .metavar = "N",
      .help = "store changes kept for watches to resume from (older "
              "resourceVersions get 410 Expired)" },
    { .name = "log-level",
      .type = SL__CFG_LOGLEVEL,
      .off = CFG_OFF(log_level),
      .def = "info",
      .metavar = "LEVEL",
      .help = "error, warn, info or debug" },
    { .name = "default-backend",
      .type = SL__CFG_ENUM,
      .off = CFG_OFF(default_backend),
      .def = "embedded",
      .choices = cfg_backends,
      .metavar = "NAME",
      .help = "broker log for brokers without a class: embedded, redis or "
              "kafka" },
    { .name = "redis-url",
      .type = SL__CFG_URL,
      .off = CFG_OFF(redis_url),
      .choices = cfg_redis,
      .metavar = "URL",
      .help = "Redis server for Redis brokers "
              "(redis://[[user]:password@]host[:port][/db])" },
    { .name = "kafka-bootstrap",
      .type = SL__CFG_ADDRS,
      .off = CFG_OFF(kafka_bootstrap),
      .metavar = "HOST:PORT,...",
      .help = "Kafka bootstrap servers for Kafka brokers" },
    { .name = "filename",
      .shortopt = 'f',
      .type = SL__CFG_LIST,
      .off = CFG_OFF(files),
      .metavar = "PATH",
      .help = "file or directory of resources to apply at start "
              "(repeatable; comma-separated in the environment)" },
};

const size_t sl__cfg_count = sizeof(sl__cfg_table) / sizeof(sl__cfg_table[0]);

_Static_assert(sizeof(sl__cfg_table) / sizeof(sl__cfg_table[0]) <=
                   SL_CONFIG_MAX_SETTINGS,
               "raise SL_CONFIG_MAX_SETTINGS");

/* Where a value is being read from, for messages and relative paths. */
struct cfg_ctx {
    struct sl_config *cfg;
    struct sl_diag *diag;
    enum sl_config_src src;
    const char *what;   /* "--api-addr", "-f", "SLUICE_API_ADDR", "api-addr" */
    const char *suffix; /* "" or " in 'sluice.yaml'" */
    const char *base;   /* directory of the config file, for its paths */
    size_t base_len;
};

/* ---- small helpers ---- */

const struct sl__cfg_opt *sl__cfg_find(const char *name, size_t n)
{
    size_t i;

    for (i = 0; i < sl__cfg_count; i++)
        if (strlen(sl__cfg_table[i].name) == n &&
            memcmp(sl__cfg_table[i].name, name, n) == 0)
            return &sl__cfg_table[i];
    return NULL;
}

static size_t cfg_index(const struct sl__cfg_opt *o)
{
    return (size_t)(o - sl__cfg_table);
}

void sl__cfg_env_name(const struct sl__cfg_opt *o, char *out, size_t cap)
{
    size_t i, k = (size_t)snprintf(out, cap, "SLUICE_");

    for (i = 0; o->name[i] != '\0' && k + 1 < cap; i++, k++) {
        char c = o->name[i];
        out[k] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    out[k < cap ? k : cap - 1] = '\0';
}

const char *sl__cfg_show(const char *s, char *out, size_t cap)
{
    size_t i, k = 0, max = cap > 4 ? cap - 4 : 0;

    for (i = 0; s[i] != '\0' && k < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (s[i] != '\0') {
        /* Do not cut a UTF-8 sequence in half ('k' input bytes were
         * copied one for one, so s[k] is the first one left out). */
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

void *sl__cfg_field(const struct sl_config *cfg, const struct sl__cfg_opt *o)
{
    return (char *)(uintptr_t)cfg + o->off;
}

static void cfg_set_str(char **field, const char *s, size_t n)
{
    sl_free(*field);
    *field = s != NULL ? sl_xstrndup(s, n) : NULL;
}

static void cfg_list_clear(struct sl_config_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        sl_free(l->v[i]);
    sl_free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void cfg_list_add(struct sl_config_list *l, char *s)
{
    l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof(l->v[0]));
    l->v[l->n++] = s;
}

__attribute__((format(printf, 4, 5))) static int
cfg_invalid(const struct cfg_ctx *c, const struct sl__cfg_opt *o,
            const char *value, const char *fmt, ...)
{
    char why[256], show[80];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sl_diag_set(c->diag, SL_EINVAL, o->name, "invalid %s '%s'%s: %s",
                       c->what, sl__cfg_show(value, show, sizeof(show)),
                       c->suffix, why);
}

/* ---- storing values ---- */

/* Join a relative path from the config file to the file's directory. */
static char *cfg_path(const struct cfg_ctx *c, const char *s)
{
    struct sl_buf b;

    if (c->base == NULL || s[0] == '/')
        return sl_xstrdup(s);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_buf_append(&b, c->base, c->base_len);
    sl_buf_appendc(&b, '/');
    sl_buf_appends(&b, s);
    return sl_buf_steal(&b, NULL);
}

/*
 * Parse 's' as a value of 'o' and store it; the one place every source's
 * values go through. An empty value resets an optional setting (one
 * without a default) to unset, and is an error for the others.
 */
static int cfg_apply(struct cfg_ctx *c, const struct sl__cfg_opt *o,
                     const char *s)
{
    void *field = sl__cfg_field(c->cfg, o);
    const char *why = NULL;
    char buf[160];
    size_t i;
    int64_t v;

    if (s[0] == '\0' && o->def == NULL && o->type != SL__CFG_BOOL) {
        if (o->type == SL__CFG_LIST)
            cfg_list_clear(field);
        else
            cfg_set_str(field, NULL, 0);
        c->cfg->src[cfg_index(o)] = (unsigned char)c->src;
        return 0;
    }
    switch (o->type) {
    case SL__CFG_BOOL:
        why = sl__cfg_parse_bool(s, field);
        break;
    case SL__CFG_STRING:
        if (s[0] == '\0')
            why = "must not be empty";
        else
            cfg_set_str(field, s, strlen(s));
        break;
    case SL__CFG_PATH:
    case SL__CFG_LIST:
        if (s[0] == '\0') {
            why = "expected a path";
        } else if (o->type == SL__CFG_LIST) {
            cfg_list_add(field, cfg_path(c, s));
        } else {
            sl_free(*(char **)field);
            *(char **)field = cfg_path(c, s);
        }
        break;
    case SL__CFG_ADDR:
        why = sl__cfg_hostport(s, strlen(s), true, NULL, NULL);
        if (why == NULL)
            cfg_set_str(field, s, strlen(s));
        break;
    case SL__CFG_ADDRS:
        for (i = 0; why == NULL;) {
            size_t k = strcspn(s + i, ",");
            why = sl__cfg_hostport(s + i, k, true, NULL, NULL);
            if (why != NULL)
                why = "expected host:port[,host:port...]";
            if (s[i + k] == '\0')
                break;
            i += k + 1;
        }
        if (why == NULL)
            cfg_set_str(field, s, strlen(s));
        break;
    case SL__CFG_URL:
        why = sl__cfg_check_url(o, s, buf, sizeof(buf));
        if (why == NULL)
            cfg_set_str(field, s, sl__cfg_url_len(s));
        break;
    case SL__CFG_INT:
        if (sl_str_to_i64(s, strlen(s), true, o->min, o->max, &v) < 0) {
            snprintf(buf, sizeof(buf), "expected an integer from %lld to %lld",
                     (long long)o->min, (long long)o->max);
            why = buf;
        } else {
            *(int64_t *)field = v;
        }
        break;
    case SL__CFG_SIZE:
        why = sl__cfg_parse_size(o, s, field, buf, sizeof(buf));
        break;
    case SL__CFG_DURATION:
        why = sl__cfg_parse_duration(o, s, field, buf, sizeof(buf));
        break;
    case SL__CFG_LOGLEVEL:
        if (sl_log_level_parse(s, field) < 0)
            why = "expected error, warn, info or debug";
        break;
    case SL__CFG_ENUM:
        for (i = 0; o->choices[i] != NULL; i++)
            if (strcmp(s, o->choices[i]) == 0)
                break;
        if (o->choices[i] == NULL) {
            char list[96];
            snprintf(buf, sizeof(buf), "expected %s",
                     sl__cfg_choices(o->choices, "", list, sizeof(list)));
            why = buf;
        } else {
            *(int *)field = (int)i;
        }
        break;
    }
    if (why != NULL)
        return cfg_invalid(c, o, s, "%s", why);
    c->cfg->src[cfg_index(o)] = (unsigned char)c->src;
    return 0;
}

/* ---- the four sources ---- */

static void cfg_defaults(struct sl_config *cfg)
{
    struct cfg_ctx c = { cfg, NULL, SL_CONFIG_DEFAULT, "default", "", NULL, 0 };
    size_t i;

    for (i = 0; i < sl__cfg_count; i++) {
        const struct sl__cfg_opt *o = &sl__cfg_table[i];
        if (o->def != NULL && cfg_apply(&c, o, o->def) < 0) {
            /* A default that does not parse is a bug in the table. */
            fprintf(stderr, "sluice: bad default for '%s'\n", o->name);
            abort();
        }
    }
}

/* One flag found on the command line, applied after file and env. */
struct cfg_flag {
    const struct sl__cfg_opt *opt;
    const char *value;
    char what[48]; /* as written: "--api-addr", "-f" */
};

static int cfg_unknown_flag(struct sl_diag *diag, const char *arg)
{
    char show[80];
    size_t n = strcspn(arg, "=");
    char name[72];

    snprintf(name, sizeof(name), "%.*s", (int)(n < 64 ? n : 64), arg);
    return sl_diag_set(diag, SL_EINVAL, "",
                       "unknown flag '%s' (see 'sluice "
                       "serve --help')",
                       sl__cfg_show(name, show, sizeof(show)));
}

/*
 * Read argv[1..argc) into 'flags' (syntax only: known names, values
 * present). Returns 0 or SL_EINVAL.
 */
static int cfg_scan_flags(int argc, char *const *argv, struct cfg_flag *flags,
                          size_t *nflags, struct sl_diag *diag)
{
    const struct sl__cfg_opt *o;
    char show[80];
    int i;

    *nflags = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = NULL, *value = NULL;
        struct cfg_flag *f = &flags[*nflags];
        size_t n;

        o = NULL;
        if (a[0] == '-' && a[1] == '-' && a[2] != '\0') {
            n = strcspn(a + 2, "=");
            eq = a[2 + n] == '=' ? a + 2 + n + 1 : NULL;
            o = sl__cfg_find(a + 2, n);
            snprintf(f->what, sizeof(f->what), "--%.*s", (int)(n < 40 ? n : 40),
                     a + 2);
        } else if (a[0] == '-' && a[1] != '\0' && a[1] != '-') {
            size_t k;
            for (k = 0; k < sl__cfg_count; k++)
                if (sl__cfg_table[k].shortopt == a[1])
                    o = &sl__cfg_table[k];
            if (a[2] != '\0')
                eq = a[2] == '=' ? a + 3 : a + 2;
            snprintf(f->what, sizeof(f->what), "-%c", a[1]);
        } else {
            return sl_diag_set(diag, SL_EINVAL, "",
                               "unexpected argument '%s' (serve takes only "
                               "flags)",
                               sl__cfg_show(a, show, sizeof(show)));
        }
        if (o == NULL || !sl__cfg_in(o, SL__CFG_IN_FLAG))
            return cfg_unknown_flag(diag, a);
        if (eq != NULL) {
            value = eq;
        } else if (o->type == SL__CFG_BOOL) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return sl_diag_set(diag, SL_EINVAL, o->name,
                               "flag %s needs a value (%s)", f->what,
                               o->metavar);
        }
        f->opt = o;
        f->value = value;
        (*nflags)++;
    }
    return 0;
}

static const char *cfg_getenv(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (; envp != NULL && *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

static int cfg_load_env(struct sl_config *cfg, char *const *envp,
                        struct sl_diag *diag)
{
    char name[64];
    size_t i;
    int rc;

    for (i = 0; i < sl__cfg_count; i++) {
        const struct sl__cfg_opt *o = &sl__cfg_table[i];
        struct cfg_ctx c = { cfg, diag, SL_CONFIG_ENV, name, "", NULL, 0 };
        const char *v;

        if (!sl__cfg_in(o, SL__CFG_IN_ENV))
            continue;
        sl__cfg_env_name(o, name, sizeof(name));
        v = cfg_getenv(envp, name);
        if (v == NULL)
            continue;
        if (o->type != SL__CFG_LIST) {
            rc = cfg_apply(&c, o, v);
            if (rc < 0)
                return rc;
            continue;
        }
        /* A list from the environment is comma-separated. */
        cfg_list_clear(sl__cfg_field(cfg, o));
        cfg->src[i] = SL_CONFIG_ENV;
        while (*v != '\0') {
            size_t k = strcspn(v, ",");
            if (k > 0) {
                char *item = sl_xstrndup(v, k);
                rc = cfg_apply(&c, o, item);
                sl_free(item);
                if (rc < 0)
                    return rc;
            }
            v += k + (v[k] == ',');
        }
    }
    return 0;
}

/*
 * A YAML scalar as the text cfg_apply reads; NULL for a collection. Null
 * is "" (which unsets an optional setting).
 */
static const char *cfg_json_text(struct json_object *v, char *buf, size_t cap)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "";
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
        snprintf(buf, cap, "%lld", (long long)json_object_get_int64(v));
        return buf;
    case json_type_double:
        snprintf(buf, cap, "%.17g", json_object_get_double(v));
        return buf;
    case json_type_string:
        return json_object_get_string(v);
    default:
        return NULL;
    }
}

/* One "name: value" of the config file. */
static int cfg_file_value(struct cfg_ctx *c, const struct sl__cfg_opt *o,
                          struct json_object *v)
{
    char buf[64];
    const char *text;
    size_t i, n;
    int rc;

    if (o->type == SL__CFG_LIST) {
        cfg_list_clear(sl__cfg_field(c->cfg, o));
        c->cfg->src[cfg_index(o)] = SL_CONFIG_FILE;
        if (!json_object_is_type(v, json_type_array)) {
            text = cfg_json_text(v, buf, sizeof(buf));
            if (text == NULL)
                return sl_diag_set(c->diag, SL_EINVAL, o->name,
                                   "invalid %s%s: expected a path or a list "
                                   "of paths, not a mapping",
                                   c->what, c->suffix);
            return text[0] == '\0' ? 0 : cfg_apply(c, o, text);
        }
        n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            text = cfg_json_text(json_object_array_get_idx(v, i), buf,
                                 sizeof(buf));
            if (text == NULL)
                return sl_diag_set(c->diag, SL_EINVAL, o->name,
                                   "invalid %s%s: item %zu is not a path",
                                   c->what, c->suffix, i + 1);
            /* Empty would clear the list; inside one it is a mistake. */
            if (text[0] == '\0')
                return cfg_invalid(c, o, text, "expected a path");
            rc = cfg_apply(c, o, text);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    text = cfg_json_text(v, buf, sizeof(buf));
    if (text == NULL)
        return sl_diag_set(c->diag, SL_EINVAL, o->name,
                           "invalid %s%s: expected a single value, not a %s",
                           c->what, c->suffix,
                           json_object_is_type(v, json_type_array) ? "list"
                                                                   : "mapping");
    return cfg_apply(c, o, text);
}

/* Read the whole of 'path' (at most SL__CFG_FILE_MAX bytes) into 'b'. */
int sl__cfg_read_file(const char *path, size_t max, struct sl_buf *b, int *perr)
{
    char chunk[4096];
    struct stat st;
    ssize_t k;
    int fd, rc = 0;

    *perr = 0;
    sl_buf_init(b, max);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *perr = errno;
        return SL_EIO;
    }
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        *perr = errno;
        if (*perr == 0)
            *perr = EISDIR;
        rc = SL_EIO;
        goto out;
    }
    for (;;) {
        k = read(fd, chunk, sizeof(chunk));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            *perr = errno;
            rc = SL_EIO;
            goto out;
        }
        if (k == 0)
            break;
        rc = sl_buf_append(b, chunk, (size_t)k);
        if (rc < 0)
            goto out;
    }
out:
    close(fd);
    return rc;
}

static int cfg_load_file(struct sl_config *cfg, struct sl_diag *diag)
{
    struct json_object *docs = NULL, *doc;
    struct sl_diag yd;
    struct sl_buf b = { 0 };
    char show[80], suffix[160];
    const char *path = cfg->config, *slash = strrchr(path, '/');
    struct cfg_ctx c = { cfg, diag, SL_CONFIG_FILE, NULL, suffix, NULL, 0 };
    int rc, err;

    sl__cfg_show(path, show, sizeof(show));
    rc = sl__cfg_read_file(path, SL__CFG_FILE_MAX, &b, &err);
    if (rc == SL_ETOOBIG) {
        rc = sl_diag_set(diag, SL_EINVAL, "config",
                         "config file '%s' is larger than %d KiB", show,
                         SL__CFG_FILE_MAX / 1024);
        goto out;
    }
    if (rc < 0) {
        rc = sl_diag_set(diag, SL_EINVAL, "config",
                         "cannot read config file '%s': %s", show,
                         strerror(err));
        goto out;
    }
    sl_diag_clear(&yd);
    rc = sl_yaml_to_json(sl_buf_str(&b), b.len, &docs, &yd);
    if (rc < 0) {
        rc = sl_diag_set(diag, SL_EINVAL, "config", "config file '%s': %s: %s",
                         show, yd.field, yd.msg);
        goto out;
    }
    if (json_object_array_length(docs) > 1) {
        rc = sl_diag_set(diag, SL_EINVAL, "config",
                         "config file '%s' holds %zu YAML documents, expected "
                         "one",
                         show, json_object_array_length(docs));
        goto out;
    }
    doc = json_object_array_get_idx(docs, 0);
    if (doc == NULL)
        goto out; /* an empty file, or just "null": nothing to set */
    if (!json_object_is_type(doc, json_type_object)) {
        rc = sl_diag_set(diag, SL_EINVAL, "config",
                         "config file '%s' must be a YAML mapping of settings "
                         "(name: value)",
                         show);
        goto out;
    }
    snprintf(suffix, sizeof(suffix), " in '%s'", show);
    if (slash != NULL) {
        c.base = path;
        c.base_len = slash == path ? 1 : (size_t)(slash - path);
    }
    json_object_object_foreach(doc, key, val)
    {
        const struct sl__cfg_opt *o = sl__cfg_find(key, strlen(key));
        char kshow[80];
        if (o == NULL || !sl__cfg_in(o, SL__CFG_IN_FILE)) {
            rc = sl_diag_set(diag, SL_EINVAL, "",
                             o == NULL ? "unknown setting '%s' in config "
                                         "file '%s'"
                                       : "setting '%s' cannot be used in "
                                         "config file '%s'",
                             sl__cfg_show(key, kshow, sizeof(kshow)), show);
            goto out;
        }
        c.what = o->name;
        rc = cfg_file_value(&c, o, val);
        if (rc < 0)
            goto out;
    }
out:
    json_object_put(docs);
    sl_buf_fini(&b);
    return rc;
}

int sl_config_load(struct sl_config *cfg, int argc, char *const *argv,
                   char *const *envp, struct sl_diag *diag)
{
    const struct sl__cfg_opt *conf = sl__cfg_find("config", 6);
    struct cfg_flag *flags =
        sl_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*flags));
    bool seen[SL_CONFIG_MAX_SETTINGS] = { false };
    char name[64];
    size_t nflags, i;
    const char *v;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    cfg_defaults(cfg);
    rc = cfg_scan_flags(argc, argv, flags, &nflags, diag);
    if (rc < 0)
        goto out;
    for (i = 0; i < nflags; i++) {
        struct cfg_ctx c = { cfg,  diag, SL_CONFIG_FLAG, flags[i].what, "",
                             NULL, 0 };
        if (strcmp(flags[i].opt->name, "help") != 0)
            continue;
        rc = cfg_apply(&c, flags[i].opt, flags[i].value);
        if (rc < 0)
            goto out;
    }
    if (cfg->help)
        goto out;
    /* The file comes first, but the flags or environment name it. */
    sl__cfg_env_name(conf, name, sizeof(name));
    v = cfg_getenv(envp, name);
    for (i = 0; i < nflags; i++)
        if (flags[i].opt == conf)
            v = flags[i].value;
    if (v != NULL && v[0] != '\0') {
        cfg->config = sl_xstrdup(v);
        rc = cfg_load_file(cfg, diag);
        if (rc < 0)
            goto out;
    }
    rc = cfg_load_env(cfg, envp, diag);
    if (rc < 0)
        goto out;
    for (i = 0; i < nflags; i++) {
        const struct sl__cfg_opt *o = flags[i].opt;
        struct cfg_ctx c = { cfg,  diag, SL_CONFIG_FLAG, flags[i].what, "",
                             NULL, 0 };
        /* The first -f replaces a list from the file or environment. */
        if (o->type == SL__CFG_LIST && !seen[cfg_index(o)])
            cfg_list_clear(sl__cfg_field(cfg, o));
        seen[cfg_index(o)] = true;
        rc = cfg_apply(&c, o, flags[i].value);
        if (rc < 0)
            goto out;
    }
out:
    sl_free(flags);
    return rc;
}

int sl_config_source(const struct sl_config *cfg, const char *name)
{
    const struct sl__cfg_opt *o = sl__cfg_find(name, strlen(name));

    return o != NULL ? cfg->src[cfg_index(o)] : SL_ENOENT;
}

void sl_config_fini(struct sl_config *cfg)
{
    size_t i;

    for (i = 0; i < sl__cfg_count; i++) {
        const struct sl__cfg_opt *o = &sl__cfg_table[i];
        void *field = sl__cfg_field(cfg, o);
        switch (o->type) {
        case SL__CFG_STRING:
        case SL__CFG_PATH:
        case SL__CFG_ADDR:
        case SL__CFG_ADDRS:
        case SL__CFG_URL:
            cfg_set_str(field, NULL, 0);
            break;
        case SL__CFG_LIST:
            cfg_list_clear(field);
            break;
        default:
            break;
        }
    }
}
