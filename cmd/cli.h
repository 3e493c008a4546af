/*
 * cmd/cli.h - what the kubectl-like subcommands share: options, the API
 * call, kind names, reading -f inputs and printing server errors.
 *
 * Every subcommand prints one line per failure on stderr ("sluice get: ..."
 * or "Error from server (NotFound): ...") and exits 1 when anything failed.
 */
#ifndef SL_CMD_CLI_H
#define SL_CMD_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct sl_buf;
struct sl_res_kind;

/* Which options a subcommand accepts. */
enum {
    SL_CLI_NS = 1 << 0,     /* -n/--namespace */
    SL_CLI_ALLNS = 1 << 1,  /* -A/--all-namespaces */
    SL_CLI_OUTPUT = 1 << 2, /* -o/--output */
    SL_CLI_LABELS = 1 << 3, /* -l/--selector */
    SL_CLI_FILES = 1 << 4,  /* -f/--filename (repeatable) */
};

struct sl_cli {
    const char *cmd;    /* "get", for messages */
    char *server;       /* base URL, no trailing '/' */
    char *token;        /* bearer token or NULL */
    const char *ns;     /* -n, or NULL */
    bool all_ns;        /* -A */
    const char *output; /* -o value or NULL */
    const char *selector;
    const char **files;
    size_t nfiles;
    char **args; /* positional arguments (borrowed from argv) */
    size_t nargs;
    bool read_failed; /* sl_cli_read_docs could not read some input */
    /* Where each document of sl_cli_read_docs came from (a json array of
     * file names, "-" for stdin, parallel to the documents). */
    struct json_object *origins;
};

/* The file document 'i' of sl_cli_read_docs came from ("" if unknown). */
const char *sl_cli_origin(const struct sl_cli *c, size_t i);

/*
 * Parse argv (argv[0] is the subcommand) accepting the common options in
 * 'allowed' plus --server and --token-file (env SLUICE_SERVER,
 * SLUICE_TOKEN_FILE). Returns 0, or 1 after printing one line.
 */
int sl_cli_parse(struct sl_cli *c, int argc, char **argv, unsigned allowed);
void sl_cli_fini(struct sl_cli *c);

/* The namespace to use: -n, else "default". */
const char *sl_cli_ns(const struct sl_cli *c);

/*
 * Read the whole file 'path' (stdin for "-") into 'b' (its limit applies:
 * SL_ETOOBIG beyond). Returns 0 or an SL_E* code; with 'why' (may be
 * NULL), a failure to open or read is also said in words ("No such file
 * or directory": strerror's text, not freed).
 */
int sl_cli_slurp(const char *path, struct sl_buf *b, const char **why);

/* Print "sluice <cmd>: <msg>" on stderr; returns 1. */
int sl_cli_fail(const struct sl_cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * One API call. 'body' may be NULL. On any HTTP answer returns 0 with
 * '*pstatus' and '*pout' (the parsed JSON body, or NULL when it is not
 * JSON; owned by the caller). On a transport failure prints one line and
 * returns 1.
 */
int sl_cli_call(struct sl_cli *c, const char *method, const char *path,
                const char *ctype, const char *body, long *pstatus,
                struct json_object **pout);

/*
 * Print a failed answer as kubectl does: "Error from server (Reason):
 * message" from a Status object, or the status code. Returns 1.
 */
int sl_cli_server_error(long status, const struct json_object *body);

/*
 * Resolve a CLI kind name ("brokers", "ksvc", "trigger.eventing.knative.dev")
 * or print "sluice <cmd>: the server doesn't have a resource type 'x'" and
 * return NULL.
 */
const struct sl_res_kind *sl_cli_kind(const struct sl_cli *c, const char *name);

/*
 * The REST path of a kind's collection ('ns' NULL: all namespaces) or
 * object ('name' non-NULL), written into out[outlen].
 */
const char *sl_cli_path(const struct sl_res_kind *k, const char *ns,
                        const char *name, char *out, size_t outlen);

/* Append 's' percent-encoded (all but RFC 3986 unreserved) to 'b'. */
void sl_cli_escape(struct sl_buf *b, const char *s);

/* "broker.eventing.knative.dev/default" (kubectl's resource/name). */
const char *sl_cli_ref(const struct sl_res_kind *k, const char *name, char *out,
                       size_t outlen);

/*
 * Read every -f input (files, directories of .yaml, .yml and .json files, '-'
 * for stdin) as multi-document YAML/JSON into a json-c array of objects; a
 * `kind: List` document contributes its items. Returns 0, or 1 after
 * printing one line naming the file and position.
 */
int sl_cli_read_docs(struct sl_cli *c, struct json_object **out);

#endif
