/*
 * resource/delivery.c - DeliverySpec: schema table, defaults and
 * validation (knative/eventing pkg/apis/duck/v1/delivery_types.go,
 * reference section 3.1).
 *
 * Like Knative, a negative backoffDelay or timeout parses and is accepted
 * (only a zero timeout is refused); senders treat a delay <= 0 as none.
 */
#include "resource/duck.h"

#include "core/time.h"

static const char *const delivery_policies[] = { "linear", "exponential",
                                                 NULL };
static const char *const delivery_formats[] = { "json", "binary", NULL };

const struct sl_res_field sl_res_delivery_fields[] = {
    { .name = "deadLetterSink",
      .type = SL_RES_OBJECT,
      .fields = sl_res_destination_fields },
    { .name = "retry", .type = SL_RES_INT32 },
    { .name = "timeout", .type = SL_RES_STRING },
    { .name = "backoffPolicy",
      .type = SL_RES_STRING,
      .enums = delivery_policies },
    { .name = "backoffDelay",
      .type = SL_RES_STRING,
      .check = sl_res_check_duration },
    { .name = "retryAfterMax", .type = SL_RES_STRING },
    { .name = "format", .type = SL_RES_STRING, .enums = delivery_formats },
    { .name = NULL },
};

/*
 * A duration member behind a feature flag: absent is fine; present with
 * the feature off is "must not set the field(s)"; present with it on must
 * parse. '*pns' receives the value.
 */
static int delivery_duration(const struct json_object *delivery,
                             const char *key, bool enabled, int64_t *pns,
                             bool *present, struct sl_res_path *p,
                             struct sl_diag *d)
{
    const char *s = sl_res_get_str(delivery, key);
    struct sl_diag tmp;

    *present = s != NULL;
    if (s == NULL)
        return 0;
    if (!enabled)
        return sl_res_fail_at(d, p, key, "must not set the field(s)");
    sl_diag_clear(&tmp);
    if (sl_duration_parse(s, pns, &tmp) != 0)
        return sl_res_fail_at(d, p, key, "invalid value \"%s\": %s", s,
                              tmp.msg[0] ? tmp.msg : "duration too long");
    return 0;
}

int sl_res_delivery_validate(const struct json_object *delivery,
                             const struct sl_res_env *env,
                             struct sl_res_path *p, struct sl_diag *d)
{
    const struct json_object *dls = sl_res_get(delivery, "deadLetterSink");
    struct json_object *retry = sl_res_get(delivery, "retry");
    bool present;
    int64_t ns;
    size_t old;
    int rc;

    if (dls != NULL) {
        old = sl_res_path_field(p, "deadLetterSink");
        rc = sl_res_dest_validate(dls, env, NULL, p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    if (retry != NULL && json_object_get_int64(retry) < 0)
        return sl_res_fail_at(d, p, "retry", "invalid value %lld: must be >= 0",
                              (long long)json_object_get_int64(retry));
    rc = delivery_duration(delivery, "timeout", env->delivery_timeout, &ns,
                           &present, p, d);
    if (rc != 0)
        return rc;
    if (present && ns == 0)
        return sl_res_fail_at(d, p, "timeout",
                              "invalid value \"%s\": must not be zero",
                              sl_res_get_str(delivery, "timeout"));
    rc = delivery_duration(delivery, "retryAfterMax", env->delivery_retryafter,
                           &ns, &present, p, d);
    if (rc != 0)
        return rc;
    if (present && ns < 0)
        return sl_res_fail_at(d, p, "retryAfterMax",
                              "invalid value \"%s\": must not be negative",
                              sl_res_get_str(delivery, "retryAfterMax"));
    return 0;
}

void sl_res_delivery_set_defaults(struct json_object *delivery, const char *ns)
{
    sl_res_dest_set_defaults(sl_res_get(delivery, "deadLetterSink"), ns);
}
