/*
 * api/status.c - Kubernetes Status objects and JSON answers.
 *
 * Every error the API gives is a Status (kind Status, apiVersion v1,
 * status Failure, message, reason, details{name, group, kind, causes},
 * code), so clients written for Kubernetes read them as they expect.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "core/buf.h"
#include "net/server.h"
#include "resource/resource.h"

const char *sl__api_resource(const struct sl_res_kind *k, char *out,
                             size_t outlen)
{
    snprintf(out, outlen, "%s%s%s", k->plural, k->group[0] ? "." : "",
             k->group);
    return out;
}

bool sl__api_has_status(const struct sl_res_kind *k)
{
    return !(k->group[0] == '\0' && (strcmp(k->kind, "ConfigMap") == 0 ||
                                     strcmp(k->kind, "Secret") == 0));
}

struct json_object *sl__api_status(int code, const char *reason,
                                   const struct sl_res_kind *k,
                                   const char *name, const char *field,
                                   const char *msg)
{
    struct json_object *st = json_object_new_object(), *details = NULL;

    json_object_object_add(st, "kind", json_object_new_string("Status"));
    json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
    json_object_object_add(st, "metadata", json_object_new_object());
    json_object_object_add(st, "status", json_object_new_string("Failure"));
    json_object_object_add(st, "message", json_object_new_string(msg));
    json_object_object_add(st, "reason", json_object_new_string(reason));
    if (k != NULL || name != NULL || field != NULL) {
        details = json_object_new_object();
        if (name != NULL)
            json_object_object_add(details, "name",
                                   json_object_new_string(name));
        if (k != NULL) {
            json_object_object_add(details, "group",
                                   json_object_new_string(k->group));
            json_object_object_add(details, "kind",
                                   json_object_new_string(k->plural));
        }
        if (field != NULL) {
            struct json_object *causes = json_object_new_array(),
                               *c = json_object_new_object();
            /* The cause's message is what follows "<field>: ". */
            const char *at = field[0] ? strstr(msg, field) : NULL;
            const char *colon = at && strncmp(at + strlen(field), ": ", 2) == 0
                                    ? at + strlen(field)
                                    : NULL;

            json_object_object_add(
                c, "reason",
                json_object_new_string(strstr(msg, "unknown field") != NULL
                                           ? "FieldValueNotSupported"
                                           : "FieldValueInvalid"));
            json_object_object_add(
                c, "message", json_object_new_string(colon ? colon + 2 : msg));
            json_object_object_add(c, "field", json_object_new_string(field));
            json_object_array_add(causes, c);
            json_object_object_add(details, "causes", causes);
        }
        json_object_object_add(st, "details", details);
    }
    json_object_object_add(st, "code", json_object_new_int(code));
    return st;
}

void sl__api_json(struct sl_http_req *req, int code,
                  const struct json_object *obj)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        (struct json_object *)obj,
        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

    sl_http_respond(req, code, "application/json", s, len);
}

void sl__api_fail(struct sl_http_req *req, int code, const char *reason,
                  const struct sl_res_kind *k, const char *name,
                  const char *field, const char *fmt, ...)
{
    struct json_object *st;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st = sl__api_status(code, reason, k, name, field, msg);
    sl__api_json(req, code, st);
    json_object_put(st);
}

const char *sl_api_error_body(void *arg, unsigned status, const char *msg,
                              struct sl_buf *body)
{
    static const struct {
        unsigned code;
        const char *reason;
    } reasons[] = {
        { 400, "BadRequest" },
        { 408, "Timeout" },
        { 413, "RequestEntityTooLarge" },
        { 414, "RequestURITooLong" },
        { 431, "RequestHeaderFieldsTooLarge" },
        { 503, "ServiceUnavailable" },
    };
    const char *reason = "InternalError";
    struct json_object *st;
    size_t i;

    char text[512];
    size_t n;

    (void)arg;
    /* The server's own messages end with a newline (plain-text bodies). */
    snprintf(text, sizeof(text), "%s", msg);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    msg = text;
    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == status)
            reason = reasons[i].reason;
    st = sl__api_status((int)status, reason, NULL, NULL, NULL, msg);
    sl_buf_appends(
        body, json_object_to_json_string_ext(
                  st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(st);
    return "application/json";
}
