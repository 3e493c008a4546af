/*
 * resource/pingsource.c - sources.knative.dev/v1 PingSource (reference
 * section 4.1; knative/eventing pkg/apis/sources/v1 ping_{types,defaults,
 * validation}.go).
 *
 * Defaults: spec.schedule "* * * * *" when absent or empty; the sink's
 * ref.namespace becomes the source's.
 * Validation, in Knative's order: '@every' anywhere in the schedule is
 * refused; spec.timezone must name a TZif file under env->zoneinfo_dir
 * ("UTC" and "Local" always pass, as in Go); the schedule must parse
 * (resource/cron.h); a CRON_TZ= prefix in the schedule is checked the
 * same way and cannot be combined with spec.timezone (Knative would
 * prepend a second prefix and fail to parse); the sink is a required
 * Destination; data and dataBase64 are exclusive, dataBase64 must decode,
 * and with contentType exactly "application/json" the data (decoded) must
 * be a JSON object (or null, which Go's json.Unmarshal into a map takes);
 * ceOverrides extension names are ASCII alphanumeric.
 * Not modelled: config-ping-defaults data-max-size (shipped -1, no limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/buf.h"
#include "resource/cron.h"
#include "resource/duck.h"
#include "resource/meta.h"
#include "resource/resource.h"
#include "resource/source.h"

#define PING_DEFAULT_SCHEDULE "* * * * *"
#define PING_JSON             "application/json"
/* Nesting json-c accepts in data (Go's decoder allows 10000). */
#define PING_JSON_DEPTH       1000

static const struct sl_res_field ping_spec_fields[] = {
    { .name = "schedule", .type = SL_RES_STRING },
    { .name = "timezone", .type = SL_RES_STRING, .flags = SL_RES_NONEMPTY },
    { .name = "contentType", .type = SL_RES_STRING },
    { .name = "data", .type = SL_RES_STRING },
    { .name = "dataBase64", .type = SL_RES_STRING },
    { .name = "sink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "ceOverrides",
      .type = SL_RES_OBJECT,
      .fields = sl_res_ceoverrides_fields },
    { .name = NULL },
};

static const struct sl_res_field ping_fields[] = {
    { .name = "spec", .type = SL_RES_OBJECT, .fields = ping_spec_fields },
    { .name = NULL },
};

static int ping_defaults(struct json_object *obj, const struct sl_res_env *env,
                         struct sl_diag *d)
{
    struct json_object *spec = sl_res_ensure(obj, "spec");
    const char *sched = sl_res_get_str(spec, "schedule");

    (void)env;
    (void)d;
    if (spec == NULL)
        return 0;
    if (sched == NULL || sched[0] == '\0')
        sl_res_set_str(spec, "schedule", PING_DEFAULT_SCHEDULE);
    sl_res_dest_set_defaults(sl_res_get(spec, "sink"),
                             sl_res_meta_namespace(obj));
    return 0;
}

/*
 * A time zone as Go's time.LoadLocation finds it: "UTC" and "Local" are
 * built in; anything else must be a regular file under the zoneinfo
 * directory starting with the TZif magic and a known version byte.
 * Returns 0 or SL_EINVAL with Go's wording in 'd'.
 */
static int ping_zone_check(const struct sl_res_env *env, const char *name,
                           struct sl_diag *d)
{
    char path[4096];
    unsigned char head[5];
    struct stat st;
    ssize_t got;
    int fd, n;

    if (strcmp(name, "UTC") == 0 || strcmp(name, "Local") == 0)
        return 0;
    if (sl_cron_tz_check(name, d) != 0)
        return SL_EINVAL;
    if (env->zoneinfo_dir == NULL)
        return 0;
    n = snprintf(path, sizeof(path), "%s/%s", env->zoneinfo_dir, name);
    if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return sl_diag_set(d, SL_EINVAL, NULL, "unknown time zone %s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sl_diag_set(d, SL_EINVAL, NULL, "unknown time zone %s", name);
    do
        got = read(fd, head, sizeof(head));
    while (got < 0 && errno == EINTR);
    close(fd);
    if (got != (ssize_t)sizeof(head) || memcmp(head, "TZif", 4) != 0 ||
        (head[4] != 0 && head[4] != '2' && head[4] != '3' && head[4] != '4'))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "malformed time zone information");
    return 0;
}

/* The schedule and the time zone, in Knative's order. */
static int ping_schedule(const struct json_object *spec,
                         const struct sl_res_env *env, struct sl_diag *d)
{
    const char *sched = sl_res_get_str(spec, "schedule");
    const char *tz = sl_res_get_str(spec, "timezone");
    struct sl_cron cron;
    struct sl_diag tmp;

    if (sched == NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.schedule", "missing field(s)");
    if (strstr(sched, "@every") != NULL)
        return sl_diag_set(d, SL_EINVAL, "spec.schedule",
                           "invalid value \"%s\": unsupported descriptor "
                           "@every",
                           sched);
    sl_diag_clear(&tmp);
    if (tz != NULL && ping_zone_check(env, tz, &tmp) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.timezone",
                           "invalid value \"%s\": %s", tz, tmp.msg);
    if (sl_cron_parse(sched, &cron, &tmp) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.schedule",
                           "invalid value \"%s\": %s", sched, tmp.msg);
    if (cron.tz[0] != '\0') {
        if (tz != NULL)
            return sl_diag_set(d, SL_EINVAL, "spec.schedule",
                               "invalid value \"%s\": a CRON_TZ= prefix "
                               "cannot be combined with spec.timezone",
                               sched);
        if (ping_zone_check(env, cron.tz, &tmp) != 0)
            return sl_diag_set(d, SL_EINVAL, "spec.schedule",
                               "invalid value \"%s\": provided bad location "
                               "%s: %s",
                               sched, cron.tz, tmp.msg);
    }
    return 0;
}

/* p[0..n) must be a JSON object (or null) as Go's json.Unmarshal into a
 * map[string]interface{} accepts it. */
static int ping_json_object(const char *p, size_t n, const char *field,
                            struct sl_diag *d)
{
    struct json_tokener *tok = json_tokener_new_ex(PING_JSON_DEPTH);
    struct json_object *o = NULL;
    enum json_tokener_error err;
    size_t end;
    int rc = 0;

    if (tok == NULL)
        return sl_diag_set(d, SL_EINVAL, field,
                           "invalid value: cannot parse JSON");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    if (n > (size_t)INT32_MAX)
        n = (size_t)INT32_MAX;
    o = json_tokener_parse_ex(tok, p, (int)n);
    err = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (err == json_tokener_continue) {
        /* All was read and a value may still be open (a bare number
         * waits for more digits): end the input with a NUL. */
        o = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
        end = n;
    }
    while (err == json_tokener_success && end < n &&
           strchr(" \t\r\n", p[end]) != NULL)
        end++;
    if (err != json_tokener_success)
        rc = sl_diag_set(d, SL_EINVAL, field,
                         "invalid value: not JSON: %s at offset %zu",
                         json_tokener_error_desc(err), end);
    else if (end < n)
        rc = sl_diag_set(d, SL_EINVAL, field,
                         "invalid value: not JSON: invalid character after "
                         "top-level value at offset %zu",
                         end);
    else if (o != NULL && !json_object_is_type(o, json_type_object))
        rc = sl_diag_set(d, SL_EINVAL, field,
                         "invalid value: cannot unmarshal %s into an object",
                         sl_res_json_type_name(o));
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}

/* data xor dataBase64; dataBase64 decodes; JSON object when asked. */
static int ping_data(const struct json_object *spec, struct sl_diag *d)
{
    const char *data = sl_res_get_str(spec, "data");
    const char *b64 = sl_res_get_str(spec, "dataBase64");
    const char *ct = sl_res_get_str(spec, "contentType");
    bool json = ct != NULL && strcmp(ct, PING_JSON) == 0;
    struct sl_buf in, out;
    struct sl_diag tmp;
    size_t i, n;
    int rc = 0;

    if (data != NULL && data[0] != '\0' && b64 != NULL && b64[0] != '\0')
        return sl_diag_set(d, SL_EINVAL, "spec.dataBase64",
                           "expected exactly one, got both: spec.data, "
                           "spec.dataBase64");
    if (b64 != NULL && b64[0] != '\0') {
        /* Go's decoder skips line breaks. */
        n = strlen(b64);
        sl_buf_init(&in, n);
        sl_buf_init(&out, n);
        for (i = 0; i < n; i++)
            if (b64[i] != '\r' && b64[i] != '\n')
                sl_buf_appendc(&in, b64[i]);
        sl_diag_clear(&tmp);
        if (sl_base64_decode(sl_buf_str(&in), in.len, &out, &tmp) != 0)
            rc = sl_diag_set(d, SL_EINVAL, "spec.dataBase64",
                             "invalid value: %s", tmp.msg);
        else if (json)
            rc = ping_json_object(out.data != NULL ? out.data : "", out.len,
                                  "spec.dataBase64", d);
        sl_buf_fini(&out);
        sl_buf_fini(&in);
        return rc;
    }
    if (data != NULL && data[0] != '\0' && json)
        return ping_json_object(data, strlen(data), "spec.data", d);
    return 0;
}

static int ping_validate(const struct json_object *obj,
                         const struct sl_res_env *env, struct sl_diag *d)
{
    const struct json_object *spec = sl_res_get(obj, "spec");
    const struct json_object *sink = sl_res_get(spec, "sink");
    struct sl_res_path p;
    int rc;

    if ((rc = ping_schedule(spec, env, d)) != 0)
        return rc;
    sl_res_path_init(&p, "spec.sink");
    if (sink == NULL)
        return sl_res_fail(d, &p, "expected at least one, got none");
    if ((rc = sl_res_dest_validate(sink, env, NULL, &p, d)) != 0)
        return rc;
    return ping_data(spec, d);
}

const struct sl_res_kind sl_res_kind_pingsource = {
    .group = "sources.knative.dev",
    .version = "v1",
    .kind = "PingSource",
    .plural = "pingsources",
    .singular = "pingsource",
    .short_names = NULL,
    .namespaced = true,
    .fields = ping_fields,
    .set_defaults = ping_defaults,
    .validate = ping_validate,
    .validate_update = NULL,
};
