/*
 * cmd/cli_common.c - options, kind names, inputs and errors shared by the
 * kubectl-like subcommands (apply, get, describe, delete).
 */
#include "cmd/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/yaml.h"
#include "net/client.h"
#include "resource/resource.h"

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8001"
#define CLI_MAX_INPUT      (64u << 20)

int sl_cli_fail(const struct sl_cli *c, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sluice %s: ", c->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int sl_cli_slurp(const char *path, struct sl_buf *b, const char **why)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int rc = 0;

    if (why != NULL)
        *why = "read error";
    if (f == NULL) {
        if (why != NULL)
            *why = strerror(errno);
        return sl_err_from_errno(errno);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = sl_buf_append(b, chunk, n)) != 0)
            break;
    if (rc == 0 && ferror(f))
        rc = SL_EIO;
    if (f != stdin)
        fclose(f);
    return rc;
}

static int cli_token(struct sl_cli *c, const char *path)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, 4096);
    rc = sl_cli_slurp(path, &b, NULL);
    if (rc != 0) {
        sl_buf_fini(&b);
        return sl_cli_fail(c, "cannot read token file '%s': %s", path,
                           rc == SL_ETOOBIG  ? "larger than 4 KiB"
                           : rc == SL_ENOENT ? "No such file or directory"
                           : rc == SL_EPERM  ? "Permission denied"
                                             : sl_strerror(rc));
    }
    while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
                         b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
        b.data[--b.len] = '\0';
    if (b.len == 0) {
        sl_buf_fini(&b);
        return sl_cli_fail(c, "token file '%s' is empty", path);
    }
    c->token = sl_buf_steal(&b, NULL);
    return 0;
}

/* The value of option 'name' at argv[*i]: "--x=v" or "--x v" / "-x v". */
static const char *cli_optval(struct sl_cli *c, int argc, char **argv, int *i,
                              const char *eq, int *bad)
{
    if (eq != NULL)
        return eq + 1;
    if (*i + 1 >= argc) {
        *bad = sl_cli_fail(c, "option '%s' needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static bool cli_is(const char *arg, size_t n, const char *s1, const char *s2)
{
    return (s1 != NULL && strlen(s1) == n && strncmp(arg, s1, n) == 0) ||
           (s2 != NULL && strlen(s2) == n && strncmp(arg, s2, n) == 0);
}

static const struct {
    const char *cmd, *usage;
} cli_usages[] = {
    { "apply", "sluice apply -f FILE|DIR|- [-n NS]\n"
               "  create or merge the resources (multi-document YAML or "
               "JSON)" },
    { "get", "sluice get KIND[,KIND...] [NAME...] [-n NS | -A] "
             "[-o yaml|json|wide|name] [-l SELECTOR]\n"
             "  list resources; KIND is a plural, singular, short name or "
             "Kind" },
    { "describe", "sluice describe KIND [NAME...] [-n NS] [-l SELECTOR]\n"
                  "  show resources in detail, with their conditions" },
    { "delete", "sluice delete KIND NAME... [-n NS] | sluice delete -f "
                "FILE|DIR|-\n"
                "  delete resources" },
    { "explain",
      "sluice explain trigger NAME [-n NS] --event FILE|- [-o json|yaml]\n"
      "       sluice explain trigger [NAME] -f FILE|DIR|- --event FILE|-\n"
      "  say whether the Trigger's filter lets the CloudEvent in FILE (one\n"
      "  structured-mode JSON event, - for stdin) through, and why, element\n"
      "  by element; with the Trigger's broker and Ready condition. -f reads\n"
      "  the Trigger from files instead of the API server.\n"
      "  exit status: 0 it matches, 2 it does not, 1 an error" },
};

/* -h/--help: the command's usage on stdout. */
static void cli_usage(const char *cmd)
{
    size_t i;

    for (i = 0; i < sizeof(cli_usages) / sizeof(cli_usages[0]); i++)
        if (strcmp(cli_usages[i].cmd, cmd) == 0)
            printf("usage: %s\n", cli_usages[i].usage);
    printf("\ncommon options:\n"
           "  --server URL       the API (env SLUICE_SERVER, default %s)\n"
           "  --token-file FILE  bearer token (env SLUICE_TOKEN_FILE)\n",
           CLI_DEFAULT_SERVER);
}

int sl_cli_parse(struct sl_cli *c, int argc, char **argv, unsigned allowed)
{
    const char *server = getenv("SLUICE_SERVER"),
               *token_file = getenv("SLUICE_TOKEN_FILE");
    bool opts_done = false;
    int i, bad = 0;

    memset(c, 0, sizeof(*c));
    c->cmd = argv[0];
    c->files = sl_xcalloc((size_t)argc + 1, sizeof(*c->files));
    c->args = sl_xcalloc((size_t)argc + 1, sizeof(*c->args));
    for (i = 1; i < argc && bad == 0; i++) {
        const char *a = argv[i], *eq, *v;
        size_t n;

        if (opts_done || a[0] != '-' || strcmp(a, "-") == 0) {
            c->args[c->nargs++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_usage(c->cmd);
            sl_cli_fini(c);
            exit(0);
        }
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a) : strlen(a);
        /* kubectl's attached short values: -oyaml, -nteam-a. */
        if (a[1] != '-' && a[2] != '\0' && a[2] != '=' &&
            strchr("nolfs", a[1]) != NULL) {
            eq = a + 1;
            n = 2;
        }
        if (cli_is(a, n, "--server", "-s")) {
            if ((v = cli_optval(c, argc, argv, &i, eq, &bad)) != NULL)
                server = v;
        } else if (cli_is(a, n, "--token-file", NULL)) {
            if ((v = cli_optval(c, argc, argv, &i, eq, &bad)) != NULL)
                token_file = v;
        } else if ((allowed & SL_CLI_NS) && cli_is(a, n, "--namespace", "-n")) {
            c->ns = cli_optval(c, argc, argv, &i, eq, &bad);
            if (c->ns != NULL && c->ns[0] == '\0')
                bad = sl_cli_fail(c, "namespace must not be empty");
        } else if ((allowed & SL_CLI_ALLNS) &&
                   cli_is(a, n, "--all-namespaces", "-A") && eq == NULL) {
            c->all_ns = true;
        } else if ((allowed & SL_CLI_OUTPUT) &&
                   cli_is(a, n, "--output", "-o")) {
            c->output = cli_optval(c, argc, argv, &i, eq, &bad);
            if (c->output != NULL && strcmp(c->output, "yaml") != 0 &&
                strcmp(c->output, "json") != 0 &&
                strcmp(c->output, "wide") != 0 &&
                strcmp(c->output, "name") != 0)
                bad = sl_cli_fail(c,
                                  "unknown output format '%s' (use yaml, "
                                  "json, wide or name)",
                                  c->output);
        } else if ((allowed & SL_CLI_LABELS) &&
                   cli_is(a, n, "--selector", "-l")) {
            c->selector = cli_optval(c, argc, argv, &i, eq, &bad);
        } else if ((allowed & SL_CLI_FILES) &&
                   cli_is(a, n, "--filename", "-f")) {
            if ((v = cli_optval(c, argc, argv, &i, eq, &bad)) != NULL)
                c->files[c->nfiles++] = v;
        } else {
            bad = sl_cli_fail(c, "unknown option '%s'", a);
        }
    }
    if (bad == 0) {
        size_t sl;

        if (server == NULL || *server == '\0')
            server = CLI_DEFAULT_SERVER;
        if (strstr(server, "://") == NULL) {
            /* host:port, as kubectl's --server takes it */
            sl = strlen(server) + 8;
            c->server = sl_xmalloc(sl);
            snprintf(c->server, sl, "http://%s", server);
        } else {
            c->server = sl_xstrdup(server);
        }
        sl = strlen(c->server);
        while (sl > 0 && c->server[sl - 1] == '/')
            c->server[--sl] = '\0';
        if (!sl_str_prefix(c->server, "http://") &&
            !sl_str_prefix(c->server, "https://"))
            bad = sl_cli_fail(
                c, "invalid --server '%s': expected an http(s) URL", c->server);
    }
    if (bad == 0 && token_file != NULL && *token_file != '\0')
        bad = cli_token(c, token_file);
    if (bad != 0)
        sl_cli_fini(c);
    return bad;
}

const char *sl_cli_origin(const struct sl_cli *c, size_t i)
{
    struct json_object *o =
        c->origins ? json_object_array_get_idx(c->origins, i) : NULL;

    return o ? json_object_get_string(o) : "";
}

void sl_cli_fini(struct sl_cli *c)
{
    json_object_put(c->origins);
    sl_free(c->server);
    sl_free(c->token);
    sl_free(c->files);
    sl_free(c->args);
    memset(c, 0, sizeof(*c));
}

const char *sl_cli_ns(const struct sl_cli *c)
{
    return c->ns != NULL ? c->ns : "default";
}

int sl_cli_server_error(long status, const struct json_object *body)
{
    struct json_object *msg = NULL, *reason = NULL;

    if (body != NULL && json_object_is_type(body, json_type_object)) {
        json_object_object_get_ex(body, "message", &msg);
        json_object_object_get_ex(body, "reason", &reason);
    }
    if (msg != NULL)
        fprintf(stderr, "Error from server (%s): %s%s\n",
                reason ? json_object_get_string(reason) : "Unknown",
                json_object_get_string(msg),
                status == 401 ? " (give the API's token with --token-file or "
                                "SLUICE_TOKEN_FILE)"
                              : "");
    else
        fprintf(stderr, "Error from server: HTTP status %ld\n", status);
    return 1;
}

const struct sl_res_kind *sl_cli_kind(const struct sl_cli *c, const char *name)
{
    const struct sl_res_kind *k = sl_res_kind_by_name(name);

    if (k == NULL)
        sl_cli_fail(c, "the server doesn't have a resource type '%s'", name);
    return k;
}

void sl_cli_escape(struct sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; s != NULL && *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
            sl_buf_appendc(b, (char)ch);
        } else {
            sl_buf_appendc(b, '%');
            sl_buf_appendc(b, hex[ch >> 4]);
            sl_buf_appendc(b, hex[ch & 15]);
        }
    }
}

/* Percent-encode one path segment into out[outlen] (cut when longer). */
static const char *cli_seg(const char *s, char *out, size_t outlen)
{
    struct sl_buf b;

    sl_buf_init(&b, outlen - 1);
    sl_cli_escape(&b, s);
    sl_strlcpy(out, sl_buf_str(&b), outlen);
    sl_buf_fini(&b);
    return out;
}

const char *sl_cli_path(const struct sl_res_kind *k, const char *ns,
                        const char *name, char *out, size_t outlen)
{
    char base[160], ens[256], ename[1024];

    if (k->group[0] == '\0')
        snprintf(base, sizeof(base), "/api/%s", k->version);
    else
        snprintf(base, sizeof(base), "/apis/%s/%s", k->group, k->version);
    cli_seg(ns, ens, sizeof(ens));
    cli_seg(name, ename, sizeof(ename));
    if (k->namespaced && ns != NULL)
        snprintf(out, outlen, "%s/namespaces/%s/%s%s%s", base, ens, k->plural,
                 name ? "/" : "", ename);
    else
        snprintf(out, outlen, "%s/%s%s%s", base, k->plural, name ? "/" : "",
                 ename);
    return out;
}

const char *sl_cli_ref(const struct sl_res_kind *k, const char *name, char *out,
                       size_t outlen)
{
    snprintf(out, outlen, "%s%s%s/%s", k->singular, k->group[0] ? "." : "",
             k->group, name);
    return out;
}

/* ---- reading -f inputs ---- */

static int cli_add_docs(struct sl_cli *c, const char *path,
                        struct json_object *docs, struct json_object *out)
{
    size_t i, n = json_object_array_length(docs);

    for (i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(docs, i), *kind,
                           *items;

        if (!json_object_is_type(d, json_type_object))
            return sl_cli_fail(c, "%s: document %zu is not an object", path,
                               i + 1);
        /* kubectl's `kind: List` wraps objects in items. */
        if (json_object_object_get_ex(d, "kind", &kind) &&
            json_object_is_type(kind, json_type_string) &&
            strcmp(json_object_get_string(kind), "List") == 0 &&
            json_object_object_get_ex(d, "items", &items) &&
            json_object_is_type(items, json_type_array)) {
            if (cli_add_docs(c, path, items, out) != 0)
                return 1;
            continue;
        }
        json_object_array_add(out, json_object_get(d));
        json_object_array_add(
            c->origins,
            json_object_new_string(strcmp(path, "-") ? path : "<stdin>"));
    }
    return 0;
}

static int cli_read_file(struct sl_cli *c, const char *path,
                         struct json_object *out)
{
    struct json_object *docs = NULL;
    struct sl_diag d;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, CLI_MAX_INPUT);
    rc = sl_cli_slurp(path, &b, NULL);
    if (rc != 0) {
        sl_buf_fini(&b);
        return sl_cli_fail(c, "cannot read '%s': %s", path, sl_strerror(rc));
    }
    sl_diag_clear(&d);
    rc = sl_yaml_to_json(sl_buf_str(&b), b.len, &docs, &d);
    sl_buf_fini(&b);
    if (rc != 0) {
        char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 4];

        return sl_cli_fail(c, "%s: %s", strcmp(path, "-") ? path : "<stdin>",
                           sl_diag_format(&d, msg, sizeof(msg)));
    }
    rc = cli_add_docs(c, path, docs, out);
    json_object_put(docs);
    return rc;
}

static int cli_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cli_read_dir(struct sl_cli *c, const char *dir,
                        struct json_object *out)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    if (dp == NULL)
        return sl_cli_fail(c, "cannot read '%s': %s", dir, strerror(errno));
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.' || !(sl_str_suffix(e->d_name, ".yaml") ||
                                     sl_str_suffix(e->d_name, ".yml") ||
                                     sl_str_suffix(e->d_name, ".json")))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = sl_xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = sl_xstrdup(e->d_name);
    }
    closedir(dp);
    /* Files in name order, as kubectl reads a directory. */
    if (n > 0)
        qsort(names, n, sizeof(*names), cli_cmp_names);
    /* A bad file is reported and the others still apply (kubectl). */
    for (i = 0; i < n; i++) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (cli_read_file(c, path, out) != 0)
            rc = 1;
        sl_free(names[i]);
    }
    sl_free(names);
    return rc;
}

int sl_cli_read_docs(struct sl_cli *c, struct json_object **out)
{
    struct json_object *all = json_object_new_array();
    size_t i;

    *out = NULL;
    json_object_put(c->origins);
    c->origins = json_object_new_array();
    for (i = 0; i < c->nfiles; i++) {
        struct stat st;
        int rc;

        if (strcmp(c->files[i], "-") != 0 && stat(c->files[i], &st) != 0) {
            sl_cli_fail(c, "cannot read '%s': %s", c->files[i],
                        strerror(errno));
            c->read_failed = true;
            continue;
        }
        if (strcmp(c->files[i], "-") != 0 && S_ISDIR(st.st_mode))
            rc = cli_read_dir(c, c->files[i], all);
        else
            rc = cli_read_file(c, c->files[i], all);
        if (rc != 0)
            c->read_failed = true;
    }
    *out = all;
    return 0;
}

/* ---- the API call ---- */

int sl_cli_call(struct sl_cli *c, const char *method, const char *path,
                const char *ctype, const char *body, long *pstatus,
                struct json_object **pout)
{
    struct sl_http_client_req rq;
    struct sl_http_client_resp resp;
    struct sl_http_header h[2];
    struct sl_diag d;
    struct sl_buf url;
    size_t nh = 0;
    int rc;

    *pout = NULL;
    *pstatus = 0;
    sl_buf_init(&url, SL_BUF_UNLIMITED);
    sl_buf_appends(&url, c->server);
    sl_buf_appends(&url, path);
    h[nh++] = (struct sl_http_header){ "Accept", "application/json" };
    if (ctype != NULL)
        h[nh++] = (struct sl_http_header){ "Content-Type", ctype };
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.url = sl_buf_str(&url);
    rq.headers = h;
    rq.nheaders = nh;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
    rq.bearer_token = c->token;
    rq.max_body = 256u << 20;
    sl_diag_clear(&d);
    rc = sl_http_client_do(&rq, &resp, &d);
    sl_buf_fini(&url);
    if (rc != 0) {
        sl_http_client_resp_fini(&resp);
        return sl_cli_fail(c, "%s", d.msg[0] ? d.msg : sl_strerror(rc));
    }
    *pstatus = resp.status;
    if (resp.body.len > 0) {
        /* Deeper than json-c's default of 32: stored objects may nest to
         * the store's limit. */
        struct json_tokener *tok = json_tokener_new_ex(128);

        *pout = json_tokener_parse_ex(tok, sl_buf_str(&resp.body),
                                      (int)resp.body.len);
        json_tokener_free(tok);
    }
    sl_http_client_resp_fini(&resp);
    if (*pout == NULL && resp.status >= 200 && resp.status < 300)
        return sl_cli_fail(c, "the server's answer to %s %s is not JSON",
                           method, path);
    return 0;
}
