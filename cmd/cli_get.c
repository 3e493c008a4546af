/*
 * cmd/cli_get.c - `sluice get` and `sluice describe`.
 *
 * get KIND[,KIND...] [NAME...] prints kubectl-style tables (cmd/table.h),
 * or the objects as YAML or JSON (-o yaml|json; one object when one NAME
 * was asked for, a v1 List otherwise), or kind/name lines (-o name).
 * describe KIND NAME prints metadata, spec, status and a conditions table.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "cmd/table.h"
#include "core/buf.h"
#include "core/yaml_emit.h"
#include "resource/resource.h"

static bool get_structured(const struct sl_cli *c)
{
    return c->output != NULL &&
           (strcmp(c->output, "yaml") == 0 || strcmp(c->output, "json") == 0);
}

/* -o yaml|json: one object (one NAME asked for) or one v1 List of all. */
static void get_print_structured(const struct sl_cli *c,
                                 struct json_object *items, bool single)
{
    struct json_object *v = items, *list = NULL;
    struct sl_buf b;

    if (single && json_object_array_length(items) == 1) {
        v = json_object_array_get_idx(items, 0);
    } else {
        list = json_object_new_object();
        json_object_object_add(list, "apiVersion",
                               json_object_new_string("v1"));
        json_object_object_add(list, "items", json_object_get(items));
        json_object_object_add(list, "kind", json_object_new_string("List"));
        json_object_object_add(list, "metadata", json_object_new_object());
        v = list;
    }
    if (strcmp(c->output, "json") == 0) {
        printf("%s\n",
               json_object_to_json_string_ext(
                   v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                          JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_yaml_emit(v, 0, &b, NULL);
        fputs(sl_buf_str(&b), stdout);
        sl_buf_fini(&b);
    }
    json_object_put(list);
}

/* Tables and -o name, one kind at a time. */
static void get_print(struct sl_cli *c, const struct sl_res_kind *k,
                      struct json_object *items, bool *first)
{
    size_t i, n = json_object_array_length(items);
    const char *o = c->output;

    if (o != NULL && strcmp(o, "name") == 0) {
        for (i = 0; i < n; i++) {
            struct json_object *m = NULL, *nm = NULL;
            char ref[512];

            json_object_object_get_ex(json_object_array_get_idx(items, i),
                                      "metadata", &m);
            json_object_object_get_ex(m, "name", &nm);
            printf("%s\n",
                   sl_cli_ref(k, json_object_get_string(nm), ref, sizeof(ref)));
        }
    } else {
        struct sl_table t;

        if (!*first)
            putchar('\n');
        sl_table_init(&t, k->kind, c->all_ns && k->namespaced,
                      o != NULL && strcmp(o, "wide") == 0);
        for (i = 0; i < n; i++)
            sl_table_add(&t, json_object_array_get_idx(items, i), time(NULL));
        sl_table_print(&t, stdout);
        sl_table_fini(&t);
    }
    *first = false;
}

/* GET one kind's objects (all, or the names given) into 'items'. */
static int get_kind(struct sl_cli *c, const struct sl_res_kind *k,
                    struct json_object *items)
{
    const char *ns = k->namespaced && !c->all_ns ? sl_cli_ns(c) : NULL;
    struct json_object *out = NULL, *list;
    char path[1024];
    long status;
    size_t i;
    int failed = 0;

    if (c->nargs > 1) {
        for (i = 1; i < c->nargs; i++) {
            sl_cli_path(k, k->namespaced ? sl_cli_ns(c) : NULL, c->args[i],
                        path, sizeof(path));
            if (sl_cli_call(c, "GET", path, NULL, NULL, &status, &out) != 0)
                return 1;
            if (status == 200)
                json_object_array_add(items, json_object_get(out));
            else
                failed = sl_cli_server_error(status, out);
            json_object_put(out);
            out = NULL;
        }
        return failed;
    }
    {
        struct sl_buf b;

        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_buf_appends(&b, sl_cli_path(k, ns, NULL, path, sizeof(path)));
        if (c->selector != NULL) {
            sl_buf_appends(&b, "?labelSelector=");
            sl_cli_escape(&b, c->selector);
        }
        failed =
            sl_cli_call(c, "GET", sl_buf_str(&b), NULL, NULL, &status, &out);
        sl_buf_fini(&b);
    }
    if (failed != 0)
        return failed;
    if (status != 200) {
        failed = sl_cli_server_error(status, out);
    } else if (json_object_object_get_ex(out, "items", &list) &&
               json_object_is_type(list, json_type_array)) {
        for (i = 0; i < json_object_array_length(list); i++)
            json_object_array_add(
                items, json_object_get(json_object_array_get_idx(list, i)));
    }
    json_object_put(out);
    return failed;
}

int sl_cmd_get(int argc, char **argv)
{
    struct json_object *all = NULL;
    struct sl_cli c;
    char kinds[512], *name, *next;
    bool first = true, any = false;
    int failed = 0;

    if (sl_cli_parse(&c, argc, argv,
                     SL_CLI_NS | SL_CLI_ALLNS | SL_CLI_OUTPUT |
                         SL_CLI_LABELS) != 0)
        return 1;
    if (c.nargs == 0) {
        failed =
            sl_cli_fail(&c, "usage: sluice get KIND[,KIND...] [NAME...] "
                            "[-n NS|-A] [-o yaml|json|wide|name] [-l SEL]");
        goto out;
    }
    snprintf(kinds, sizeof(kinds), "%s", c.args[0]);
    if (c.nargs > 1 && strchr(kinds, ',') != NULL) {
        failed = sl_cli_fail(&c, "names can only be given with one kind");
        goto out;
    }
    if (c.nargs > 1 && c.all_ns) {
        failed = sl_cli_fail(&c, "a resource cannot be retrieved by name "
                                 "across all namespaces");
        goto out;
    }
    all = json_object_new_array();
    for (name = kinds; name != NULL; name = next) {
        const struct sl_res_kind *k;
        struct json_object *items;
        size_t i;

        next = strchr(name, ',');
        if (next != NULL)
            *next++ = '\0';
        if (*name == '\0')
            continue;
        k = sl_cli_kind(&c, name);
        if (k == NULL) {
            failed = 1;
            continue;
        }
        items = json_object_new_array();
        if (get_kind(&c, k, items) != 0)
            failed = 1;
        for (i = 0; get_structured(&c) && i < json_object_array_length(items);
             i++)
            json_object_array_add(
                all, json_object_get(json_object_array_get_idx(items, i)));
        if (json_object_array_length(items) > 0) {
            if (!get_structured(&c))
                get_print(&c, k, items, &first);
            any = true;
        }
        json_object_put(items);
    }
    if (get_structured(&c) && (any || c.nargs == 1))
        get_print_structured(&c, all, c.nargs == 2);
    if (!any && failed == 0 && c.nargs == 1 && !get_structured(&c)) {
        if (c.all_ns)
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n",
                    sl_cli_ns(&c));
    }
out:
    json_object_put(all);
    sl_cli_fini(&c);
    return failed;
}

/* ---- describe ---- */

/* Print 'v' as YAML indented by 'indent' spaces. */
static void describe_yaml(const struct json_object *v, int indent)
{
    struct sl_buf b;
    const char *p, *nl;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_yaml_emit((struct json_object *)v, 0, &b, NULL);
    for (p = sl_buf_str(&b); *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl == NULL) {
            printf("%*s%s\n", indent, "", p);
            break;
        }
        printf("%*s%.*s\n", indent, "", (int)(nl - p), p);
    }
    sl_buf_fini(&b);
}

static void describe_map(const char *label, const struct json_object *m)
{
    bool first = true;

    printf("%-13s", label);
    if (m != NULL && json_object_is_type(m, json_type_object)) {
        json_object_object_foreach((struct json_object *)m, key, val)
        {
            printf("%s%s=%s\n", first ? "" : "             ", key,
                   json_object_get_string(val));
            first = false;
        }
    }
    if (first)
        printf("<none>\n");
}

static const char *describe_get(const struct json_object *o, const char *path)
{
    struct json_object *v = sl_cli_field(o, path);

    return v != NULL ? json_object_get_string(v) : "";
}

/*
 * ConfigMap and Secret content, as kubectl describes it: a ConfigMap's
 * values in full, a Secret's type and the size of each value only.
 */
static void describe_data(const struct json_object *obj)
{
    const char *kind = describe_get(obj, "kind");
    bool secret = strcmp(kind, "Secret") == 0;
    struct json_object *data = sl_cli_field(obj, "data");

    if (!secret && strcmp(kind, "ConfigMap") != 0)
        return;
    if (secret)
        printf("%-13s%s\n", "Type:",
               sl_cli_field(obj, "type") ? describe_get(obj, "type")
                                         : "Opaque");
    printf("\nData\n====\n");
    if (data == NULL || !json_object_is_type(data, json_type_object))
        return;
    json_object_object_foreach(data, key, val)
    {
        const char *v = json_object_get_string(val);

        if (secret) {
            /* Stored in Base64: the decoded size is what kubectl shows. */
            size_t n = v ? strlen(v) : 0, pad = 0;

            if (n >= 1 && v[n - 1] == '=')
                pad++;
            if (n >= 2 && v[n - 2] == '=')
                pad++;
            printf("%s:  %zu bytes\n", key, n / 4 * 3 - pad);
        } else {
            printf("%s:\n----\n%s\n\n", key, v ? v : "");
        }
    }
}

static void describe_print(const struct json_object *obj)
{
    struct json_object *spec = NULL, *status = NULL, *conds = NULL,
                       *rest = NULL;
    size_t i;

    printf("%-13s%s\n", "Name:", describe_get(obj, "metadata.name"));
    if (sl_cli_field(obj, "metadata.namespace") != NULL)
        printf("%-13s%s\n",
               "Namespace:", describe_get(obj, "metadata.namespace"));
    describe_map("Labels:", sl_cli_field(obj, "metadata.labels"));
    describe_map("Annotations:", sl_cli_field(obj, "metadata.annotations"));
    printf("%-13s%s\n", "API Version:", describe_get(obj, "apiVersion"));
    printf("%-13s%s\n", "Kind:", describe_get(obj, "kind"));
    printf("Metadata:\n");
    printf("  %-20s%s\n", "Creation Timestamp:",
           describe_get(obj, "metadata.creationTimestamp"));
    if (sl_cli_field(obj, "metadata.generation") != NULL)
        printf("  %-20s%s\n",
               "Generation:", describe_get(obj, "metadata.generation"));
    printf("  %-20s%s\n",
           "Resource Version:", describe_get(obj, "metadata.resourceVersion"));
    printf("  %-20s%s\n", "UID:", describe_get(obj, "metadata.uid"));
    json_object_object_get_ex(obj, "spec", &spec);
    if (spec != NULL) {
        printf("Spec:\n");
        describe_yaml(spec, 2);
    }
    describe_data(obj);
    json_object_object_get_ex(obj, "status", &status);
    if (status == NULL &&
        (strcmp(describe_get(obj, "kind"), "ConfigMap") == 0 ||
         strcmp(describe_get(obj, "kind"), "Secret") == 0))
        return; /* kinds without a status */
    if (status == NULL || !json_object_is_type(status, json_type_object)) {
        printf("Status:       <none>\n");
        return;
    }
    printf("Status:\n");
    /* Everything but the conditions as YAML, then a conditions table. */
    rest = json_object_new_object();
    json_object_object_foreach(status, key, val)
    {
        if (strcmp(key, "conditions") == 0)
            conds = val;
        else
            json_object_object_add(rest, key, json_object_get(val));
    }
    if (json_object_object_length(rest) > 0)
        describe_yaml(rest, 2);
    json_object_put(rest);
    if (conds == NULL || !json_object_is_type(conds, json_type_array))
        return;
    printf("  Conditions:\n");
    {
        static const char *const keys[] = { "type", "status", "reason",
                                            "lastTransitionTime" };
        static const char *const heads[] = { "Type", "Status", "Reason",
                                             "Last Transition Time" };
        size_t w[4], j, n = json_object_array_length(conds);

        /* Columns as wide as their widest cell, as kubectl's tabwriter. */
        for (j = 0; j < 4; j++) {
            w[j] = strlen(heads[j]);
            for (i = 0; i < n; i++) {
                size_t l = strlen(
                    describe_get(json_object_array_get_idx(conds, i), keys[j]));

                if (l > w[j])
                    w[j] = l;
            }
        }
        printf("    %-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0], heads[0],
               (int)w[1], heads[1], (int)w[2], heads[2], (int)w[3], heads[3],
               "Message");
        for (i = 0; i < n; i++) {
            struct json_object *cd = json_object_array_get_idx(conds, i);

            printf("    %-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0],
                   describe_get(cd, keys[0]), (int)w[1],
                   describe_get(cd, keys[1]), (int)w[2],
                   describe_get(cd, keys[2]), (int)w[3],
                   describe_get(cd, keys[3]), describe_get(cd, "message"));
        }
    }
}

int sl_cmd_describe(int argc, char **argv)
{
    const struct sl_res_kind *k;
    struct sl_cli c;
    struct json_object *items = NULL;
    size_t i;
    int failed = 0;

    if (sl_cli_parse(&c, argc, argv, SL_CLI_NS | SL_CLI_LABELS) != 0)
        return 1;
    if (c.nargs < 1) {
        failed = sl_cli_fail(&c, "usage: sluice describe KIND [NAME...]");
        goto out;
    }
    if ((k = sl_cli_kind(&c, c.args[0])) == NULL) {
        failed = 1;
        goto out;
    }
    items = json_object_new_array();
    failed = get_kind(&c, k, items);
    for (i = 0; i < json_object_array_length(items); i++) {
        if (i > 0)
            printf("\n\n");
        describe_print(json_object_array_get_idx(items, i));
    }
out:
    json_object_put(items);
    sl_cli_fini(&c);
    return failed;
}
