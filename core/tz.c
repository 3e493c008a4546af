/*
 * core/tz.c - TZif zones (stub: the contracts of core/tz.h are being
 * implemented; everything answers as UTC or SL_ENOTSUP until then).
 */
#include "core/tz.h"

#include <string.h>

int sl_tz_name_check(const char *name, struct sl_diag *d)
{
    size_t i, n = strlen(name), comp = 0;

    if (n == 0 || n >= SL_TZ_NAME_MAX)
        return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (c == '/') {
            if (comp == 0)
                return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
            comp = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'))
            return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
        comp++;
    }
    if (comp == 0)
        return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
    return 0;
}

int sl_tz_load(const char *dir, const char *name, struct sl_tz **out,
               struct sl_diag *d)
{
    (void)dir;
    *out = NULL;
    return sl_diag_set(d, SL_ENOTSUP, NULL, "time zone %s: not implemented",
                       name);
}

int sl_tz_load_file(const char *path, const char *name, struct sl_tz **out,
                    struct sl_diag *d)
{
    (void)path;
    *out = NULL;
    return sl_diag_set(d, SL_ENOTSUP, NULL, "time zone %s: not implemented",
                       name);
}

int sl_tz_parse(const void *data, size_t n, const char *name,
                struct sl_tz **out, struct sl_diag *d)
{
    (void)data;
    (void)n;
    *out = NULL;
    return sl_diag_set(d, SL_ENOTSUP, NULL, "time zone %s: not implemented",
                       name);
}

void sl_tz_free(struct sl_tz *z)
{
    (void)z;
}

const char *sl_tz_name(const struct sl_tz *z)
{
    (void)z;
    return "UTC";
}

int32_t sl_tz_lookup(const struct sl_tz *z, int64_t t, int64_t *start,
                     int64_t *end)
{
    (void)z;
    (void)t;
    if (start != NULL)
        *start = INT64_MIN;
    if (end != NULL)
        *end = INT64_MAX;
    return 0;
}

int32_t sl_tz_offset(const struct sl_tz *z, int64_t t)
{
    return sl_tz_lookup(z, t, NULL, NULL);
}

int64_t sl_tz_days_from_civil(int64_t year, int month, int day)
{
    (void)year;
    (void)month;
    (void)day;
    return 0;
}

void sl_tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    (void)days;
    *year = 1970;
    *month = 1;
    *day = 1;
}

void sl_tz_local(const struct sl_tz *z, int64_t t, struct sl_tz_tm *out)
{
    (void)z;
    (void)t;
    memset(out, 0, sizeof(*out));
}

int64_t sl_tz_mktime(const struct sl_tz *z, int64_t year, int64_t month,
                     int64_t day, int64_t hour, int64_t minute, int64_t second)
{
    (void)z;
    (void)year;
    (void)month;
    (void)day;
    (void)hour;
    (void)minute;
    (void)second;
    return 0;
}
