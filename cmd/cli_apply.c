/*
 * cmd/cli_apply.c - `sluice apply -f` and `sluice delete`.
 *
 * apply is create-or-merge, per document: GET the object; absent → POST
 * ("created"); present → merge-patch it with the document (RFC 7386) and
 * compare resourceVersions ("configured" or "unchanged"). Namespaces are
 * applied before everything else, so one file can hold a Namespace and
 * what lives in it in any order. A failing document does not stop the
 * others; the exit code is 1 when any failed.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/commands.h"
#include "resource/resource.h"

/* Text of a string member, or NULL. */
static const char *apply_str(const struct json_object *o, const char *key)
{
    struct json_object *v;

    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The kind, name and namespace of one document, or 1 after a message. */
static int apply_target(struct sl_cli *c, struct json_object *doc,
                        const char *origin, const struct sl_res_kind **pk,
                        const char **pname, const char **pns)
{
    const char *av = apply_str(doc, "apiVersion"),
               *kind = apply_str(doc, "kind");
    struct json_object *meta = NULL;
    const char *ns;

    if (av == NULL || kind == NULL)
        return sl_cli_fail(c, "%s: a document has no %s", origin,
                           av == NULL ? "apiVersion" : "kind");
    *pk = sl_res_kind_find(av, kind);
    if (*pk == NULL)
        return sl_cli_fail(c,
                           "%s: no matches for kind \"%s\" in version \"%s\"",
                           origin, kind, av);
    json_object_object_get_ex(doc, "metadata", &meta);
    *pname = apply_str(meta, "name");
    if (*pname == NULL || **pname == '\0')
        return sl_cli_fail(c, "%s: %s: metadata.name is required", origin,
                           kind);
    *pns = NULL;
    if (!(*pk)->namespaced)
        return 0;
    ns = apply_str(meta, "namespace");
    if (ns != NULL && *ns != '\0' && c->ns != NULL && strcmp(ns, c->ns) != 0)
        return sl_cli_fail(c,
                           "%s: the namespace from the provided object "
                           "\"%s\" does not match the namespace \"%s\"",
                           origin, ns, c->ns);
    *pns = ns != NULL && *ns != '\0' ? ns : sl_cli_ns(c);
    return 0;
}

static const char *apply_rv(const struct json_object *obj)
{
    struct json_object *meta = NULL;

    if (obj == NULL || !json_object_object_get_ex(obj, "metadata", &meta))
        return NULL;
    return apply_str(meta, "resourceVersion");
}

static int apply_one(struct sl_cli *c, struct json_object *doc,
                     const char *origin)
{
    const struct sl_res_kind *k;
    const char *name, *ns, *verb, *body;
    struct json_object *got = NULL, *put = NULL;
    char path[1024], ref[512], old_rv[64] = "";
    long status;
    int rc;

    if (apply_target(c, doc, origin, &k, &name, &ns) != 0)
        return 1;
    sl_cli_path(k, ns, name, path, sizeof(path));
    if ((rc = sl_cli_call(c, "GET", path, NULL, NULL, &status, &got)) != 0)
        return rc;
    body = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    if (status == 404) {
        sl_cli_path(k, ns, NULL, path, sizeof(path));
        rc = sl_cli_call(c, "POST", path, "application/json", body, &status,
                         &put);
        verb = "created";
    } else if (status == 200) {
        if (apply_rv(got) != NULL)
            snprintf(old_rv, sizeof(old_rv), "%s", apply_rv(got));
        rc = sl_cli_call(c, "PATCH", path, "application/merge-patch+json", body,
                         &status, &put);
        verb = "configured";
    } else {
        rc = sl_cli_server_error(status, got);
        goto out;
    }
    if (rc != 0)
        goto out;
    if (status != 200 && status != 201) {
        rc = sl_cli_server_error(status, put);
        goto out;
    }
    if (status == 200 && apply_rv(put) != NULL &&
        strcmp(apply_rv(put), old_rv) == 0)
        verb = "unchanged";
    printf("%s %s\n", sl_cli_ref(k, name, ref, sizeof(ref)), verb);
out:
    json_object_put(got);
    json_object_put(put);
    return rc;
}

static bool apply_is_namespace(struct json_object *doc)
{
    const char *kind = apply_str(doc, "kind"),
               *av = apply_str(doc, "apiVersion");

    return kind != NULL && av != NULL && strcmp(kind, "Namespace") == 0 &&
           strcmp(av, "v1") == 0;
}

int sl_cmd_apply(int argc, char **argv)
{
    struct json_object *docs = NULL;
    struct sl_cli c;
    size_t i, n;
    int failed = 0, pass;

    if (sl_cli_parse(&c, argc, argv, SL_CLI_NS | SL_CLI_FILES) != 0)
        return 1;
    if (c.nfiles == 0) {
        failed = sl_cli_fail(&c, "-f FILE|DIR|- is required");
        goto out;
    }
    if (c.nargs > 0) {
        failed = sl_cli_fail(&c, "unexpected argument '%s'", c.args[0]);
        goto out;
    }
    if (sl_cli_read_docs(&c, &docs) != 0) {
        failed = 1;
        goto out;
    }
    failed = c.read_failed;
    n = json_object_array_length(docs);
    if (n == 0 && !failed) {
        failed = sl_cli_fail(&c, "no objects passed to apply");
        goto out;
    }
    /* Pass 0 applies the Namespaces, pass 1 the rest. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < n; i++) {
            struct json_object *d = json_object_array_get_idx(docs, i);

            if (apply_is_namespace(d) == (pass == 0) &&
                apply_one(&c, d, sl_cli_origin(&c, i)) != 0)
                failed = 1;
        }
out:
    json_object_put(docs);
    sl_cli_fini(&c);
    return failed;
}

/* ---- delete ---- */

static int delete_one(struct sl_cli *c, const struct sl_res_kind *k,
                      const char *ns, const char *name)
{
    struct json_object *out = NULL;
    char path[1024];
    long status;
    int rc;

    sl_cli_path(k, ns, name, path, sizeof(path));
    rc = sl_cli_call(c, "DELETE", path, NULL, NULL, &status, &out);
    if (rc == 0 && status != 200)
        rc = sl_cli_server_error(status, out);
    else if (rc == 0)
        printf("%s%s%s \"%s\" deleted\n", k->singular, k->group[0] ? "." : "",
               k->group, name);
    json_object_put(out);
    return rc;
}

int sl_cmd_delete(int argc, char **argv)
{
    struct json_object *docs = NULL;
    const struct sl_res_kind *k;
    struct sl_cli c;
    size_t i;
    int failed = 0;

    if (sl_cli_parse(&c, argc, argv, SL_CLI_NS | SL_CLI_FILES) != 0)
        return 1;
    if (c.nfiles > 0) {
        if (c.nargs > 0) {
            failed = sl_cli_fail(&c, "give either -f or KIND NAME, not both");
            goto out;
        }
        if (sl_cli_read_docs(&c, &docs) != 0) {
            failed = 1;
            goto out;
        }
        failed = c.read_failed;
        for (i = 0; i < json_object_array_length(docs); i++) {
            const char *name, *ns;

            if (apply_target(&c, json_object_array_get_idx(docs, i),
                             sl_cli_origin(&c, i), &k, &name, &ns) != 0 ||
                delete_one(&c, k, ns, name) != 0)
                failed = 1;
        }
        goto out;
    }
    if (c.nargs < 2) {
        failed = sl_cli_fail(&c, "usage: sluice delete KIND NAME... | -f FILE");
        goto out;
    }
    if ((k = sl_cli_kind(&c, c.args[0])) == NULL) {
        failed = 1;
        goto out;
    }
    for (i = 1; i < c.nargs; i++)
        if (delete_one(&c, k, k->namespaced ? sl_cli_ns(&c) : NULL,
                       c.args[i]) != 0)
            failed = 1;
out:
    json_object_put(docs);
    sl_cli_fini(&c);
    return failed;
}
