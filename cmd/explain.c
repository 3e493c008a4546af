/*
 * cmd/explain.c - `sluice explain trigger`: why a Trigger would (not) fire
 * for one CloudEvent.
 *
 *   sluice explain trigger NAME [-n NS] --event FILE|- [-o json|yaml]
 *   sluice explain trigger [NAME] -f FILE|DIR|- --event FILE|- [-o ...]
 *
 * The Trigger comes from the API server (as `sluice get` fetches it) or,
 * with -f, from files without a server; the event is one structured-mode
 * JSON CloudEvent decoded by proto/json.h, so it is held to the ingress's
 * rules. The filter is compiled with triggers/filter.h, the dispatcher's
 * own code, and explained by sl_filter_explain. Besides the filter the
 * output names the Trigger's broker and, when it is not Ready, its Ready
 * condition: a Trigger that is not Ready gets no events either.
 *
 * Exit status: 0 the event passes the filter, 2 it does not, 1 an error
 * (one line on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/table.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/yaml_emit.h"
#include "proto/event.h"
#include "proto/json.h"
#include "resource/resource.h"
#include "triggers/filter.h"

/* Largest event file read; the decoder then applies the ingress's limit. */
#define EXPLAIN_MAX_EVENT_FILE (16u << 20)

#define EXPLAIN_MATCH    0
#define EXPLAIN_ERROR    1
#define EXPLAIN_NO_MATCH 2

struct explain {
    struct sl_cli c;
    const char *event_path; /* --event */
    const struct sl_res_kind *kind;
    struct json_object *trigger; /* the object explained (owned) */
    bool from_file;              /* -f: no status to look at */
    char *refused;               /* -f: why admission refuses it, or NULL */
    struct sl_event *ev;
    struct sl_filter *filter;
};

/* ---- inputs ---- */

/*
 * Take --event out of argv (sl_cli_parse knows only the common options):
 * the rest is copied to 'rest' (argc + 1 slots). Returns 0, or 1 after
 * printing one line.
 */
static int explain_take_event(int argc, char **argv, char **rest, int *nrest,
                              const char **event)
{
    int i, n = 0;

    *event = NULL;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--") == 0) {
            for (; i < argc; i++)
                rest[n++] = argv[i];
            break;
        }
        if (strcmp(a, "--event") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice explain: option '--event' needs a "
                                "value\n");
                return 1;
            }
            *event = argv[++i];
        } else if (strncmp(a, "--event=", 8) == 0) {
            *event = a + 8;
        } else {
            rest[n++] = argv[i];
        }
    }
    rest[n] = NULL;
    *nrest = n;
    return 0;
}

static int explain_read_event(struct explain *x)
{
    const char *name = strcmp(x->event_path, "-") ? x->event_path : "<stdin>";
    char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 4];
    const char *why;
    struct sl_diag d;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, EXPLAIN_MAX_EVENT_FILE);
    rc = sl_cli_slurp(x->event_path, &b, &why);
    if (rc != 0) {
        sl_buf_fini(&b);
        return sl_cli_fail(&x->c, "cannot read event '%s': %s", name,
                           rc == SL_ETOOBIG ? "larger than 16 MiB" : why);
    }
    sl_diag_clear(&d);
    rc = sl_ce_json_decode(sl_buf_str(&b), b.len, NULL, &x->ev, &d);
    sl_buf_fini(&b);
    if (rc != 0)
        return sl_cli_fail(&x->c, "invalid event in '%s': %s", name,
                           d.msg[0] ? sl_diag_format(&d, msg, sizeof(msg))
                                    : sl_strerror(rc));
    return 0;
}

/* GET the Trigger from the API server. */
static int explain_fetch(struct explain *x, const char *name)
{
    struct json_object *out = NULL;
    char path[1024];
    long status;

    sl_cli_path(x->kind, sl_cli_ns(&x->c), name, path, sizeof(path));
    if (sl_cli_call(&x->c, "GET", path, NULL, NULL, &status, &out) != 0)
        return 1;
    if (status != 200) {
        sl_cli_server_error(status, out);
        json_object_put(out);
        return 1;
    }
    x->trigger = out;
    return 0;
}

static const char *explain_str(const struct json_object *o, const char *path)
{
    struct json_object *v = sl_cli_field(o, path);

    return v != NULL && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/*
 * -f: the Trigger named 'name' (NULL: the only one) among the documents,
 * run through admission as the API server would (a refusal is kept as a
 * note, and the document is explained as written).
 */
static int explain_from_files(struct explain *x, const char *name)
{
    struct json_object *docs = NULL, *pick = NULL, *copy = NULL;
    size_t i, n = 0, npick = 0;
    struct sl_res_env env;
    struct sl_buf names;
    struct sl_diag d;
    int rc = 0;

    sl_buf_init(&names, 4096);
    sl_cli_read_docs(&x->c, &docs);
    if (x->c.read_failed) {
        rc = 1;
        goto out;
    }
    n = json_object_array_length(docs);
    for (i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(docs, i);
        const char *nm = explain_str(o, "metadata.name"),
                   *ns = explain_str(o, "metadata.namespace");

        if (sl_res_kind_of(o) != x->kind)
            continue;
        if (name != NULL &&
            (nm == NULL || strcmp(nm, name) != 0 ||
             (x->c.ns != NULL && ns != NULL && strcmp(ns, x->c.ns) != 0)))
            continue;
        sl_buf_appendf(&names, "%s%s", npick > 0 ? ", " : "", nm ? nm : "?");
        npick++;
        pick = o;
    }
    if (npick > 1 && name != NULL) {
        rc = sl_cli_fail(&x->c,
                         "the input holds %zu Triggers named '%s': give -n",
                         npick, name);
        goto out;
    }
    if (npick > 1) {
        rc = sl_cli_fail(&x->c,
                         "the input holds %zu Triggers (%s): name the one to "
                         "explain",
                         npick, sl_buf_str(&names));
        goto out;
    }
    if (pick == NULL) {
        if (name != NULL)
            rc = sl_cli_fail(&x->c, "no Trigger named '%s' in the input", name);
        else
            rc = sl_cli_fail(&x->c, "no Trigger in the input (%zu document%s)",
                             n, n == 1 ? "" : "s");
        goto out;
    }
    json_object_deep_copy(pick, &copy, NULL);
    if (x->c.ns != NULL && explain_str(copy, "metadata.namespace") == NULL &&
        json_object_is_type(sl_cli_field(copy, "metadata"), json_type_object))
        json_object_object_add(sl_cli_field(copy, "metadata"), "namespace",
                               json_object_new_string(x->c.ns));
    sl_res_env_init(&env);
    sl_diag_clear(&d);
    if (sl_res_admit(copy, NULL, &env, NULL, &d) == 0) {
        x->trigger = copy;
    } else {
        char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 4];

        json_object_put(copy);
        x->refused = sl_xstrdup(sl_diag_format(&d, msg, sizeof(msg)));
        x->trigger = json_object_get(pick);
    }
out:
    sl_buf_fini(&names);
    json_object_put(docs);
    return rc;
}

/* ---- output ---- */

/* The Trigger's Ready condition, or NULL. */
static struct json_object *explain_ready(const struct json_object *t)
{
    struct json_object *conds = sl_cli_field(t, "status.conditions");

    if (conds == NULL || !json_object_is_type(conds, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(conds); i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        const char *type = explain_str(c, "type");

        if (type != NULL && strcmp(type, "Ready") == 0)
            return c;
    }
    return NULL;
}

static bool explain_is_ready(const struct json_object *t)
{
    const char *st = explain_str(explain_ready(t), "status");

    return st != NULL && strcmp(st, "True") == 0;
}

/* "broker" or "ns/broker" (brokerRef to another namespace), or NULL. */
static const char *explain_broker(const struct json_object *t, char *out,
                                  size_t outlen)
{
    const char *b = explain_str(t, "spec.broker"), *ns = NULL;

    if (b == NULL) {
        b = explain_str(t, "spec.brokerRef.name");
        ns = explain_str(t, "spec.brokerRef.namespace");
    }
    if (b == NULL)
        return NULL;
    snprintf(out, outlen, "%s%s%s", ns ? ns : "", ns ? "/" : "", b);
    return out;
}

static void explain_print_text(const struct explain *x, const char *ns,
                               const char *name, bool m)
{
    struct json_object *ready = explain_ready(x->trigger);
    const char *st = explain_str(ready, "status");
    bool is_ready = explain_is_ready(x->trigger);
    char broker[512];
    struct sl_buf b;

    printf("trigger %s/%s: event %s %s%s\n", ns, name, sl_event_id(x->ev),
           m ? "MATCHES" : "does NOT match",
           m && !x->from_file && !is_ready
               ? ", but the Trigger is not Ready, so it does not fire"
               : "");
    printf("broker: %s\n", explain_broker(x->trigger, broker, sizeof(broker))
                               ? broker
                               : "<none> (the Trigger names no broker)");
    if (x->from_file) {
        printf("status: unknown (read from a file, not from the API server)\n");
    } else if (is_ready) {
        printf("status: Ready\n");
    } else if (ready == NULL) {
        printf("status: not Ready yet (no Ready condition reported): a "
               "Trigger that is not Ready receives no events\n");
    } else {
        const char *reason = explain_str(ready, "reason"),
                   *msg = explain_str(ready, "message");

        printf("status: not Ready (Ready is %s%s%s%s%s): a Trigger that is "
               "not Ready receives no events, whatever its filter says\n",
               st ? st : "unset", reason ? ", " : "", reason ? reason : "",
               msg ? ": " : "", msg ? msg : "");
    }
    if (x->refused != NULL)
        printf("note: the API server would refuse this Trigger: %s\n",
               x->refused);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_filter_explain(x->filter, x->ev, &b);
    fputs(sl_buf_str(&b), stdout);
    sl_buf_fini(&b);
}

static void explain_print_structured(const struct explain *x, const char *ns,
                                     const char *name, bool yaml)
{
    struct json_object *o = json_object_new_object(), *t, *e, *ready,
                       *res = sl_filter_explain_json(x->filter, x->ev);
    char broker[512];

    t = json_object_new_object();
    json_object_object_add(t, "namespace", json_object_new_string(ns));
    json_object_object_add(t, "name", json_object_new_string(name));
    json_object_object_add(o, "trigger", t);
    e = json_object_new_object();
    json_object_object_add(e, "id", json_object_new_string(sl_event_id(x->ev)));
    json_object_object_add(e, "source",
                           json_object_new_string(sl_event_source(x->ev)));
    json_object_object_add(e, "type",
                           json_object_new_string(sl_event_type(x->ev)));
    json_object_object_add(o, "event", e);
    json_object_object_foreach(res, key, val)
    {
        if (strcmp(key, "matches") == 0)
            json_object_object_add(o, key, json_object_get(val));
    }
    json_object_object_add(o, "broker",
                           explain_broker(x->trigger, broker, sizeof(broker))
                               ? json_object_new_string(broker)
                               : NULL);
    /* The Ready condition; null from a file or before it is reported. */
    ready = x->from_file ? NULL : explain_ready(x->trigger);
    json_object_object_add(o, "ready", json_object_get(ready));
    if (x->refused != NULL)
        json_object_object_add(o, "refused",
                               json_object_new_string(x->refused));
    json_object_object_foreach(res, key2, val2)
    {
        if (strcmp(key2, "matches") != 0)
            json_object_object_add(o, key2, json_object_get(val2));
    }
    if (yaml) {
        struct sl_buf b;

        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_yaml_emit(o, 0, &b, NULL);
        fputs(sl_buf_str(&b), stdout);
        sl_buf_fini(&b);
    } else {
        printf("%s\n",
               json_object_to_json_string_ext(
                   o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                          JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    json_object_put(res);
    json_object_put(o);
}

/* ---- the command ---- */

static int explain_run(struct explain *x)
{
    const char *name, *ns;
    struct json_object *spec;
    struct sl_diag d;
    bool m;
    size_t i;

    if (x->c.nargs < 1 || x->c.nargs > 2)
        return sl_cli_fail(&x->c, "usage: sluice explain trigger NAME [-n NS] "
                                  "--event FILE|- (or -f FILE instead of "
                                  "NAME's server)");
    x->kind = sl_res_kind_by_name(x->c.args[0]);
    if (x->kind == NULL || strcmp(x->kind->kind, "Trigger") != 0 ||
        strcmp(x->kind->group, "eventing.knative.dev") != 0)
        return sl_cli_fail(&x->c,
                           "cannot explain '%s': only triggers can be "
                           "explained (sluice explain trigger NAME)",
                           x->c.args[0]);
    name = x->c.nargs > 1 ? x->c.args[1] : NULL;
    x->from_file = x->c.nfiles > 0;
    if (name == NULL && !x->from_file)
        return sl_cli_fail(&x->c, "name the Trigger to explain (sluice "
                                  "explain trigger NAME), or give -f FILE");
    if (x->event_path == NULL)
        return sl_cli_fail(&x->c, "the event to explain is missing: give "
                                  "--event FILE (or - for stdin)");
    if (x->c.output != NULL && strcmp(x->c.output, "json") != 0 &&
        strcmp(x->c.output, "yaml") != 0)
        return sl_cli_fail(&x->c,
                           "unknown output format '%s' (use json or yaml)",
                           x->c.output);
    for (i = 0; i < x->c.nfiles; i++)
        if (strcmp(x->c.files[i], "-") == 0 && strcmp(x->event_path, "-") == 0)
            return sl_cli_fail(&x->c, "the Trigger (-f -) and the event "
                                      "(--event -) cannot both come from "
                                      "stdin");
    /* The event first: a bad one fails before any request. */
    if (explain_read_event(x) != 0)
        return 1;
    if ((x->from_file ? explain_from_files(x, name) : explain_fetch(x, name)) !=
        0)
        return 1;
    name = explain_str(x->trigger, "metadata.name");
    ns = explain_str(x->trigger, "metadata.namespace");
    if (ns == NULL)
        ns = sl_cli_ns(&x->c);
    spec = sl_cli_field(x->trigger, "spec");
    sl_diag_clear(&d);
    if (sl_filter_compile(spec, &x->filter, &d) != 0) {
        char msg[SL_DIAG_MSG_MAX + SL_DIAG_FIELD_MAX + 4];

        return sl_cli_fail(
            &x->c, "trigger %s/%s: cannot evaluate its filter: %s", ns,
            name ? name : "", sl_diag_format(&d, msg, sizeof(msg)));
    }
    m = sl_filter_match(x->filter, x->ev);
    if (x->c.output != NULL)
        explain_print_structured(x, ns, name ? name : "",
                                 strcmp(x->c.output, "yaml") == 0);
    else
        explain_print_text(x, ns, name ? name : "", m);
    return m ? EXPLAIN_MATCH : EXPLAIN_NO_MATCH;
}

int sl_cmd_explain(int argc, char **argv)
{
    char **rest = sl_xcalloc((size_t)argc + 1, sizeof(*rest));
    struct explain x;
    int nrest, rc;

    memset(&x, 0, sizeof(x));
    if (explain_take_event(argc, argv, rest, &nrest, &x.event_path) != 0) {
        sl_free(rest);
        return EXPLAIN_ERROR;
    }
    if (sl_cli_parse(&x.c, nrest, rest,
                     SL_CLI_NS | SL_CLI_OUTPUT | SL_CLI_FILES) != 0) {
        sl_free(rest);
        return EXPLAIN_ERROR;
    }
    rc = explain_run(&x);
    sl_filter_free(x.filter);
    sl_event_unref(x.ev);
    json_object_put(x.trigger);
    sl_free(x.refused);
    sl_cli_fini(&x.c);
    sl_free(rest);
    return rc;
}
