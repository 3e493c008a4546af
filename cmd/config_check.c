/*
 * cmd/config_check.c - what a loaded configuration must also satisfy, and
 * the two ways of showing it (the dump of --check-config, the help).
 *
 * sl_config_check looks at several settings together and at the file
 * system: it runs before `serve` starts anything, and alone with
 * --check-config (like nginx -t). It never creates or changes a file; it
 * reads the token file to see that it holds a token, and forgets it.
 */
#include "cmd/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
#include "core/yaml_emit.h"

/* A bearer token longer than this is a mistake (a wrong file). */
#define CFG_TOKEN_MAX 4096

/* ---- naming a setting by where its value came from ---- */

/*
 * How a message names setting 'o': as the user gave it ("--data-dir",
 * "SLUICE_DATA_DIR", "data-dir" + " in 'sluice.yaml'"), or by its flag
 * when it is a default. 'what' needs 64 bytes, 'suffix' 112.
 */
static void cfg_name_src(const struct sl_config *cfg,
                         const struct sl__cfg_opt *o, char *what, char *suffix)
{
    char show[80];

    suffix[0] = '\0';
    switch (cfg->src[o - sl__cfg_table]) {
    case SL_CONFIG_ENV:
        sl__cfg_env_name(o, what, 64);
        break;
    case SL_CONFIG_FILE:
        snprintf(what, 64, "%s", o->name);
        snprintf(
            suffix, 112, " in '%s'",
            sl__cfg_show(cfg->config ? cfg->config : "", show, sizeof(show)));
        break;
    default:
        if (o->shortopt != 0 && o->type == SL__CFG_LIST)
            snprintf(what, 64, "-%c", o->shortopt);
        else
            snprintf(what, 64, "--%s", o->name);
        break;
    }
}

static const struct sl__cfg_opt *cfg_opt(const char *name)
{
    return sl__cfg_find(name, strlen(name));
}

/* ---- addresses ---- */

/* Host part of a checked host:port, brackets removed, into out[cap]. */
static long cfg_split(const char *addr, char *out, size_t cap)
{
    size_t hl = 0;
    long port = -1;

    out[0] = '\0';
    if (sl__cfg_hostport(addr, strlen(addr), true, &hl, &port) != NULL)
        return -1;
    if (addr[0] == '[')
        snprintf(out, cap, "%.*s", (int)(hl - 2), addr + 1);
    else
        snprintf(out, cap, "%.*s", (int)hl, addr);
    return port;
}

/*
 * True for an address only this machine can reach: 127.0.0.0/8, ::1,
 * ::ffff:127.x.x.x, "localhost". Any other name counts as reachable from
 * outside (names are not resolved here).
 */
static bool cfg_loopback(const char *host)
{
    unsigned char a[16];
    static const unsigned char v6_loop[16] = { [15] = 1 };
    static const unsigned char v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

    if (sl_str_eq_ci(host, "localhost"))
        return true;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1)
        return memcmp(a, v6_loop, 16) == 0 ||
               (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127);
    return false;
}

static bool cfg_wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* No two listeners on one address (port 0 means "any free port"). */
static int cfg_check_listeners(const struct sl_config *cfg,
                               struct sl_diag *diag)
{
    static const char *const names[] = { "api-addr", "ingress-addr",
                                         "serving-addr", "metrics-addr" };
    const char *addr[4] = { cfg->api_addr, cfg->ingress_addr, cfg->serving_addr,
                            cfg->metrics_addr };
    char host[4][256];
    long port[4];
    size_t i, j;

    for (i = 0; i < 4; i++)
        port[i] = cfg_split(addr[i], host[i], sizeof(host[i]));
    for (i = 0; i < 4; i++)
        for (j = i + 1; j < 4; j++) {
            if (port[i] <= 0 || port[i] != port[j])
                continue;
            if (sl_str_eq_ci(host[i], host[j]) || cfg_wildcard(host[i]) ||
                cfg_wildcard(host[j]))
                return sl_diag_set(diag, SL_EINVAL, names[j],
                                   "--%s '%s' and --%s '%s' use the same "
                                   "port on the same address",
                                   names[i], addr[i], names[j], addr[j]);
        }
    return 0;
}

/* ---- files ---- */

/*
 * The token file: a regular file that neither others nor its group may
 * write, others may not read (0600, 0640 and 0400 pass; 0644 does not, as
 * ssh refuses such keys), holding one token of visible ASCII with an
 * optional final newline.
 */
static int cfg_check_token(const struct sl_config *cfg, struct sl_diag *diag)
{
    const struct sl__cfg_opt *o = cfg_opt("api-token-file");
    char what[64], suffix[112], show[80], buf[CFG_TOKEN_MAX + 2];
    const char *path = cfg->api_token_file;
    struct stat st;
    size_t n = 0, i;
    ssize_t k;
    int fd, rc = 0;

    cfg_name_src(cfg, o, what, suffix);
    sl__cfg_show(path, show, sizeof(show));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sl_diag_set(diag, SL_EINVAL, o->name,
                           "cannot read %s '%s'%s: %s", what, show, suffix,
                           strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = sl_diag_set(diag, SL_EINVAL, o->name,
                         "%s '%s'%s is not a regular file", what, show, suffix);
        goto out;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
        rc = sl_diag_set(diag, SL_EINVAL, o->name,
                         "%s '%s'%s is open to other users (mode %04o): "
                         "chmod 600 it",
                         what, show, suffix, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    while (n < sizeof(buf)) {
        k = read(fd, buf + n, sizeof(buf) - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = sl_diag_set(diag, SL_EINVAL, o->name,
                             "cannot read %s '%s'%s: %s", what, show, suffix,
                             strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n == 0) {
        rc = sl_diag_set(diag, SL_EINVAL, o->name, "%s '%s'%s is empty", what,
                         show, suffix);
        goto out;
    }
    if (n > CFG_TOKEN_MAX) {
        rc = sl_diag_set(diag, SL_EINVAL, o->name,
                         "%s '%s'%s holds more than %d bytes", what, show,
                         suffix, CFG_TOKEN_MAX);
        goto out;
    }
    for (i = 0; i < n; i++)
        if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7F) {
            rc = sl_diag_set(diag, SL_EINVAL, o->name,
                             "%s '%s'%s must hold one token of visible ASCII "
                             "characters (no spaces, one line)",
                             what, show, suffix);
            goto out;
        }
out:
    /* Do not leave the token lying on the stack. */
    for (i = 0; i < sizeof(buf); i++)
        ((volatile char *)buf)[i] = 0;
    close(fd);
    return rc;
}

/*
 * data-dir is a writable directory, or its nearest existing ancestor is
 * one (the daemon creates the missing levels, like mkdir -p).
 */
static int cfg_check_data_dir(const struct sl_config *cfg, struct sl_diag *diag)
{
    const struct sl__cfg_opt *o = cfg_opt("data-dir");
    char what[64], suffix[112], show[80], ashow[80];
    const char *path = cfg->data_dir;
    char *up = sl_xstrdup(path);
    struct stat st;
    size_t n;
    int rc = 0;

    cfg_name_src(cfg, o, what, suffix);
    sl__cfg_show(path, show, sizeof(show));
    for (;;) {
        if (stat(up, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                rc = sl_diag_set(diag, SL_EINVAL, o->name,
                                 strcmp(up, path) == 0
                                     ? "%s '%s'%s is not a directory"
                                     : "%s '%s'%s cannot be created: '%s' is "
                                       "not a directory",
                                 what, show, suffix,
                                 sl__cfg_show(up, ashow, sizeof(ashow)));
            else if (access(up, W_OK | X_OK) != 0)
                rc = sl_diag_set(
                    diag, SL_EINVAL, o->name,
                    "%s '%s'%s is not writable: '%s': %s", what, show, suffix,
                    sl__cfg_show(up, ashow, sizeof(ashow)), strerror(errno));
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) {
            rc = sl_diag_set(diag, SL_EINVAL, o->name,
                             "cannot use %s '%s'%s: '%s': %s", what, show,
                             suffix, sl__cfg_show(up, ashow, sizeof(ashow)),
                             strerror(errno));
            break;
        }
        /* Up one level: "a/b/" -> "a", "a" -> ".", "/a" -> "/". */
        n = strlen(up);
        while (n > 1 && up[n - 1] == '/')
            n--;
        while (n > 0 && up[n - 1] != '/')
            n--;
        while (n > 1 && up[n - 1] == '/')
            n--;
        if (n == 0) {
            sl_free(up);
            up = sl_xstrdup(".");
        } else {
            up[n] = '\0';
        }
    }
    sl_free(up);
    return rc;
}

/* Every -f path exists (a file or a directory). */
static int cfg_check_files(const struct sl_config *cfg, struct sl_diag *diag)
{
    const struct sl__cfg_opt *o = cfg_opt("filename");
    char what[64], suffix[112], show[80];
    struct stat st;
    size_t i;

    for (i = 0; i < cfg->files.n; i++) {
        const char *why = NULL;
        if (stat(cfg->files.v[i], &st) != 0)
            why = strerror(errno);
        else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            why = "not a file or a directory";
        if (why == NULL)
            continue;
        cfg_name_src(cfg, o, what, suffix);
        return sl_diag_set(
            diag, SL_EINVAL, o->name, "cannot read %s '%s'%s: %s", what,
            sl__cfg_show(cfg->files.v[i], show, sizeof(show)), suffix, why);
    }
    return 0;
}

int sl_config_check(const struct sl_config *cfg, struct sl_diag *diag)
{
    char host[256];
    int rc;

    cfg_split(cfg->api_addr, host, sizeof(host));
    if (!cfg_loopback(host) && cfg->api_token_file == NULL)
        return sl_diag_set(diag, SL_EINVAL, "api-addr",
                           "refusing to serve the API on non-loopback address "
                           "'%s' without --api-token-file",
                           cfg->api_addr);
    if (cfg->api_token_file != NULL) {
        rc = cfg_check_token(cfg, diag);
        if (rc < 0)
            return rc;
    }
    if (cfg->default_backend == SL_CONFIG_BACKEND_REDIS &&
        cfg->redis_url == NULL)
        return sl_diag_set(diag, SL_EINVAL, "redis-url",
                           "--default-backend redis needs --redis-url");
    if (cfg->default_backend == SL_CONFIG_BACKEND_KAFKA &&
        cfg->kafka_bootstrap == NULL)
        return sl_diag_set(diag, SL_EINVAL, "kafka-bootstrap",
                           "--default-backend kafka needs --kafka-bootstrap");
    rc = cfg_check_listeners(cfg, diag);
    if (rc < 0)
        return rc;
    rc = cfg_check_data_dir(cfg, diag);
    if (rc < 0)
        return rc;
    return cfg_check_files(cfg, diag);
}

/* ---- the dump ---- */

/* redis://user:secret@host -> redis://user:***@host */
static struct json_object *cfg_masked_url(const char *url)
{
    const char *auth = strstr(url, "://"), *at, *colon;
    struct json_object *v;
    struct sl_buf b;
    size_t alen;

    if (auth == NULL)
        return json_object_new_string(url);
    auth += 3;
    alen = strcspn(auth, "/");
    at = memchr(auth, '@', alen);
    if (at == NULL)
        return json_object_new_string(url);
    colon = memchr(auth, ':', (size_t)(at - auth));
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_buf_append(&b, url, (size_t)((colon != NULL ? colon + 1 : auth) - url));
    sl_buf_appends(&b, "***");
    sl_buf_appends(&b, at);
    v = json_object_new_string_len(b.data, (int)b.len);
    sl_buf_fini(&b);
    return v;
}

/* The value of 'o' as YAML will show it (NULL is null). */
static struct json_object *cfg_value_json(const struct sl_config *cfg,
                                          const struct sl__cfg_opt *o)
{
    const void *field = sl__cfg_field(cfg, o);
    const struct sl_config_list *l;
    struct json_object *arr;
    char buf[64];
    int64_t v;
    size_t i;

    switch (o->type) {
    case SL__CFG_BOOL:
        return json_object_new_boolean(*(const bool *)field);
    case SL__CFG_STRING:
    case SL__CFG_PATH:
    case SL__CFG_ADDR:
    case SL__CFG_ADDRS:
    case SL__CFG_URL:
        if (*(char *const *)field == NULL)
            return NULL;
        if (o->type == SL__CFG_URL)
            return cfg_masked_url(*(char *const *)field);
        return json_object_new_string(*(char *const *)field);
    case SL__CFG_INT:
        return json_object_new_int64(*(const int64_t *)field);
    case SL__CFG_SIZE:
        v = *(const int64_t *)field;
        if (v % SL__CFG_KIB != 0)
            return json_object_new_int64(v);
        sl__cfg_fmt_size(v, buf, sizeof(buf));
        return json_object_new_string(buf);
    case SL__CFG_DURATION:
        sl_duration_format(*(const int64_t *)field, buf, sizeof(buf));
        return json_object_new_string(buf);
    case SL__CFG_LOGLEVEL:
        return json_object_new_string(
            sl_log_level_name(*(const enum sl_log_level *)field));
    case SL__CFG_ENUM:
        return json_object_new_string(o->choices[*(const int *)field]);
    case SL__CFG_LIST:
        l = field;
        arr = json_object_new_array();
        for (i = 0; i < l->n; i++)
            json_object_array_add(arr, json_object_new_string(l->v[i]));
        return arr;
    }
    return NULL;
}

int sl_config_dump(const struct sl_config *cfg, FILE *f)
{
    struct sl_buf b;
    size_t i;
    int rc = 0;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    for (i = 0; i < sl__cfg_count && rc == 0; i++) {
        const struct sl__cfg_opt *o = &sl__cfg_table[i];
        struct json_object *one;
        char what[64], suffix[112], show[80];
        const char *nl;

        if (o->only == SL__CFG_IN_FLAG)
            continue; /* --help, --check-config: not settings */
        one = json_object_new_object();
        json_object_object_add(one, o->name, cfg_value_json(cfg, o));
        sl_buf_reset(&b);
        rc = sl_yaml_emit(one, 0, &b, NULL);
        json_object_put(one);
        if (rc < 0)
            break;
        switch (cfg->src[i]) {
        case SL_CONFIG_DEFAULT:
            snprintf(what, sizeof(what), "default");
            break;
        case SL_CONFIG_FILE:
            snprintf(what, sizeof(what), "%s",
                     sl__cfg_show(cfg->config ? cfg->config : "", show,
                                  sizeof(show)));
            break;
        default:
            cfg_name_src(cfg, o, what, suffix);
            break;
        }
        /* The comment goes on the first line: "key: value  # source". */
        nl = strchr(b.data, '\n');
        fprintf(f, "%.*s  # %s%s", (int)(nl - b.data), b.data, what, nl);
    }
    sl_buf_fini(&b);
    return rc;
}

/* ---- the help ---- */

#define CFG_HELP_COL   29 /* where the help text starts */
#define CFG_HELP_WIDTH 79

/* Write 'text' from column CFG_HELP_COL, wrapped at CFG_HELP_WIDTH. */
static void cfg_help_text(FILE *f, size_t col, const char *text)
{
    while (*text != '\0') {
        size_t room = CFG_HELP_WIDTH - CFG_HELP_COL, n = strlen(text), cut;
        if (col < CFG_HELP_COL)
            fprintf(f, "%*s", (int)(CFG_HELP_COL - col), "");
        col = 0;
        cut = n;
        if (n > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = strcspn(text, " ");
        }
        fprintf(f, "%.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

void sl_config_help(FILE *f)
{
    char left[64], env[64], more[160];
    size_t i;

    fprintf(f, "usage: sluice serve [flags]\n\n"
               "Run the daemon. Every setting can also come from the "
               "configuration file\n"
               "(--config: a YAML mapping with the same names) or the "
               "environment\n"
               "(SLUICE_<NAME>). Flags win over the environment, the "
               "environment over the\n"
               "file, the file over the defaults.\n\nflags:\n");
    for (i = 0; i < sl__cfg_count; i++) {
        const struct sl__cfg_opt *o = &sl__cfg_table[i];
        size_t k = 0;

        if (o->shortopt != 0)
            k = (size_t)snprintf(left, sizeof(left), "-%c, ", o->shortopt);
        snprintf(left + k, sizeof(left) - k, "--%s%s%s", o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(f, "  %s", left);
        if (strlen(left) + 3 > CFG_HELP_COL) {
            fputc('\n', f);
            cfg_help_text(f, 0, o->help);
        } else {
            cfg_help_text(f, strlen(left) + 2, o->help);
        }
        if (o->only == SL__CFG_IN_FLAG)
            continue;
        sl__cfg_env_name(o, env, sizeof(env));
        k = (size_t)snprintf(more, sizeof(more), "[%s", env);
        if (o->def != NULL)
            k += (size_t)snprintf(more + k, sizeof(more) - k, ", default %s",
                                  o->def);
        if (!sl__cfg_in(o, SL__CFG_IN_FILE))
            k += (size_t)snprintf(more + k, sizeof(more) - k,
                                  ", not in the file");
        snprintf(more + k, sizeof(more) - k, "]");
        cfg_help_text(f, 0, more);
    }
}
