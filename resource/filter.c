/*
 * resource/filter.c - SubscriptionsAPIFilter (Trigger spec.filters,
 * reference section 2.3): schema table, attribute-name rule, validation,
 * and the CESQL hook.
 *
 * An element counts a dialect when exact/prefix/suffix is a non-empty
 * map, all/any a non-empty list, not is present, or cesql a non-empty
 * string (Knative's hasMultipleDialects). Several keys inside one
 * exact/prefix/suffix map are allowed: all of them must match.
 */
#include "resource/duck.h"

#include <stdio.h>
#include <string.h>

sl_res_cesql_check_fn *sl_res_cesql_check = NULL;

int sl_res_check_attr_name(const char *s, struct sl_diag *d)
{
    size_t i;

    if (s[0] >= 'a' && s[0] <= 'z') {
        for (i = 1; s[i] != '\0'; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                break;
        if (s[i] == '\0')
            return 0;
    }
    return sl_diag_set(d, SL_EINVAL, NULL,
                       "invalid key name \"%s\": attribute name must start "
                       "with a letter and can only contain lowercase "
                       "alphanumeric",
                       s);
}

/* The element table refers to itself through sl_res_filter_elem. */
const struct sl_res_field sl_res_filter_elem = {
    .name = "",
    .type = SL_RES_OBJECT,
    .fields = sl_res_filter_fields,
};

const struct sl_res_field sl_res_filter_fields[] = {
    { .name = "exact",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_attr_name },
    { .name = "prefix",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_attr_name },
    { .name = "suffix",
      .type = SL_RES_STRING_MAP,
      .key_check = sl_res_check_attr_name },
    { .name = "all", .type = SL_RES_ARRAY, .elem = &sl_res_filter_elem },
    { .name = "any", .type = SL_RES_ARRAY, .elem = &sl_res_filter_elem },
    { .name = "not", .type = SL_RES_OBJECT, .fields = sl_res_filter_fields },
    { .name = "cesql", .type = SL_RES_STRING },
    { .name = NULL },
};

static int filter_dialects(const struct json_object *f)
{
    static const char *const maps[] = { "exact", "prefix", "suffix" };
    static const char *const lists[] = { "all", "any" };
    const char *sql = sl_res_get_str(f, "cesql");
    struct json_object *v;
    int n = 0;
    size_t i;

    for (i = 0; i < 3; i++)
        if ((v = sl_res_get(f, maps[i])) != NULL &&
            json_object_object_length(v) > 0)
            n++;
    for (i = 0; i < 2; i++)
        if ((v = sl_res_get(f, lists[i])) != NULL &&
            json_object_array_length(v) > 0)
            n++;
    if (sl_res_get(f, "not") != NULL)
        n++;
    if (sql != NULL && sql[0] != '\0')
        n++;
    return n;
}

int sl_res_filter_validate(const struct json_object *f, struct sl_res_path *p,
                           struct sl_diag *d)
{
    const struct json_object *sub;
    const char *sql = sl_res_get_str(f, "cesql");
    struct sl_diag tmp;
    size_t old;
    int rc;

    if (filter_dialects(f) > 1)
        return sl_res_fail(d, p,
                           "multiple dialects found, filters can have only "
                           "one dialect set");
    if ((sub = sl_res_get(f, "all")) != NULL) {
        old = sl_res_path_field(p, "all");
        rc = sl_res_filters_validate(sub, p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    if ((sub = sl_res_get(f, "any")) != NULL) {
        old = sl_res_path_field(p, "any");
        rc = sl_res_filters_validate(sub, p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    if ((sub = sl_res_get(f, "not")) != NULL) {
        old = sl_res_path_field(p, "not");
        rc = sl_res_filter_validate(sub, p, d);
        sl_res_path_pop(p, old);
        if (rc != 0)
            return rc;
    }
    if (sql != NULL && sql[0] != '\0' && sl_res_cesql_check != NULL) {
        sl_diag_clear(&tmp);
        if (sl_res_cesql_check(sql, &tmp) != 0)
            return sl_res_fail_at(d, p, "cesql", "invalid value \"%s\": %s",
                                  sql, tmp.msg);
    }
    return 0;
}

int sl_res_filters_validate(const struct json_object *filters,
                            struct sl_res_path *p, struct sl_diag *d)
{
    size_t i, n, old;
    int rc = 0;

    if (!json_object_is_type(filters, json_type_array))
        return 0;
    n = json_object_array_length(filters);
    for (i = 0; i < n && rc == 0; i++) {
        old = sl_res_path_index(p, i);
        rc =
            sl_res_filter_validate(json_object_array_get_idx(filters, i), p, d);
        sl_res_path_pop(p, old);
    }
    return rc;
}
