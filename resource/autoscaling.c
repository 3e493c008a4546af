/*
 * resource/autoscaling.c - Knative's autoscaling annotations: lookup with
 * legacy spellings and the webhook's checks (reference 9.5; knative/serving
 * pkg/apis/autoscaling/{register,annotation_validation}.go).
 *
 * Every value is a string annotation. Integers are parsed as Go's
 * strconv.ParseInt(v, 10, 32) does (optional sign, decimal digits), floats
 * as ParseFloat does, except that sluice refuses NaN and infinities
 * (Knative lets "NaN" through every comparison), durations as Go's
 * time.ParseDuration (resource/goduration.h). The checks run in Knative's
 * order and the first failure is reported at its annotation's path.
 */
#include "resource/serving.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "resource/goduration.h"

/* Canonical key and its legacy camelCase spelling (KeyPriority). */
struct as_key {
    const char *key;
    const char *legacy;
};

static const struct as_key as_keys[] = {
    { SL_RES_AS_CLASS, NULL },
    { SL_RES_AS_METRIC, NULL },
    { SL_RES_AS_TARGET, NULL },
    { SL_RES_AS_TARGET_UTIL, SL_RES_AS_PREFIX "targetUtilizationPercentage" },
    { SL_RES_AS_MIN_SCALE, SL_RES_AS_PREFIX "minScale" },
    { SL_RES_AS_MAX_SCALE, SL_RES_AS_PREFIX "maxScale" },
    { SL_RES_AS_INITIAL_SCALE, SL_RES_AS_PREFIX "initialScale" },
    { SL_RES_AS_ACTIVATION_SCALE, NULL },
    { SL_RES_AS_WINDOW, NULL },
    { SL_RES_AS_PANIC_WINDOW, SL_RES_AS_PREFIX "panicWindowPercentage" },
    { SL_RES_AS_PANIC_THRESHOLD, SL_RES_AS_PREFIX "panicThresholdPercentage" },
    { SL_RES_AS_RETENTION, SL_RES_AS_PREFIX "scaleToZeroPodRetentionPeriod" },
    { SL_RES_AS_SCALE_DOWN_DELAY, SL_RES_AS_PREFIX "scaleDownDelay" },
    { SL_RES_AS_BURST_CAPACITY, SL_RES_AS_PREFIX "targetBurstCapacity" },
    { SL_RES_AS_ALGORITHM, SL_RES_AS_PREFIX "metricAggregationAlgorithm" },
};

#define AS_NKEYS (sizeof(as_keys) / sizeof(as_keys[0]))

/* Knative's bounds (register.go). */
#define AS_WINDOW_MIN  (6 * SL_GODUR_SECOND)
#define AS_WINDOW_MAX  SL_GODUR_HOUR
#define AS_TARGET_MIN  0.01
#define AS_PANIC_W_MIN 1.0
#define AS_PANIC_W_MAX 100.0
#define AS_PANIC_T_MIN 110.0
#define AS_PANIC_T_MAX 1000.0

/* config-autoscaler values admission uses (shipped defaults). */
#define AS_ALLOW_ZERO_INITIAL_SCALE false
#define AS_MAX_SCALE_LIMIT          0 /* none */

static const struct as_key *as_find(const char *key)
{
    size_t i;

    for (i = 0; i < AS_NKEYS; i++)
        if (strcmp(as_keys[i].key, key) == 0)
            return &as_keys[i];
    return NULL;
}

const char *sl_res_sv_annotation(const struct json_object *annotations,
                                 const char *key, const char **pkey)
{
    const struct as_key *k = as_find(key);
    const char *v;

    if (pkey != NULL)
        *pkey = NULL;
    v = sl_res_get_str(annotations, key);
    if (v == NULL && k != NULL && k->legacy != NULL) {
        key = k->legacy;
        v = sl_res_get_str(annotations, key);
    }
    if (v != NULL && pkey != NULL)
        *pkey = key;
    return v;
}

/* ---- value parsers (Go's) ---- */

/* strconv.ParseInt(v, 10, bits): SL_EINVAL (syntax) or SL_ETOOBIG. */
static int as_parse_int(const char *v, int64_t min, int64_t max, int64_t *out)
{
    return sl_str_to_i64(v, strlen(v), true, min, max, out);
}

/* strconv.ParseFloat(v, 64), finite values only. */
static bool as_parse_float(const char *v, double *out)
{
    char *end;

    /* strtod skips leading spaces and reads "nan(...)"; Go does neither. */
    if (v[0] == '\0' || strchr(" \t\n\v\f\r", v[0]) != NULL)
        return false;
    errno = 0;
    *out = strtod(v, &end);
    if (*end != '\0' || errno == ERANGE)
        return false;
    return isfinite(*out);
}

/* ---- checks ---- */

/* Report at annotations[key]. */
static int as_fail(struct sl_diag *d, struct sl_res_path *p, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int as_fail(struct sl_diag *d, struct sl_res_path *p, const char *key,
                   const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX];
    size_t old = sl_res_path_key(p, key);
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rc = sl_res_fail(d, p, "%s", msg);
    sl_res_path_pop(p, old);
    return rc;
}

/* No annotation in both spellings: which one counts would be a guess. */
static int as_duplicates(const struct json_object *anns, struct sl_res_path *p,
                         struct sl_diag *d)
{
    size_t i;

    for (i = 0; i < AS_NKEYS; i++)
        if (as_keys[i].legacy != NULL &&
            sl_res_get(anns, as_keys[i].key) != NULL &&
            sl_res_get(anns, as_keys[i].legacy) != NULL)
            return as_fail(d, p, as_keys[i].legacy,
                           "expected exactly one, got both: \"%s\" and "
                           "\"%s\" are the same setting",
                           as_keys[i].key, as_keys[i].legacy);
    return 0;
}

static int as_class(const struct json_object *anns, struct sl_res_path *p,
                    struct sl_diag *d)
{
    const char *k, *v = sl_res_sv_annotation(anns, SL_RES_AS_CLASS, &k);

    /* Classes of other domains belong to other autoscalers. */
    if (v != NULL && sl_str_suffix(v, ".knative.dev") &&
        strcmp(v, SL_RES_AS_KPA) != 0 && strcmp(v, SL_RES_AS_HPA) != 0)
        return as_fail(d, p, k,
                       "invalid value \"%s\": expected one of \"%s\", \"%s\"",
                       v, SL_RES_AS_KPA, SL_RES_AS_HPA);
    return 0;
}

/* An int32 >= 0 annotation (min-scale, max-scale); 0 when absent. */
static int as_int_ge0(const struct json_object *anns, const char *key,
                      int64_t *out, struct sl_res_path *p, struct sl_diag *d)
{
    const char *k, *v = sl_res_sv_annotation(anns, key, &k);
    int rc;

    *out = 0;
    if (v == NULL)
        return 0;
    rc = as_parse_int(v, INT32_MIN, INT32_MAX, out);
    if (rc == SL_ETOOBIG || (rc == 0 && *out < 0))
        return as_fail(d, p, k, "expected 0 <= %s <= 2147483647", v);
    if (rc != 0)
        return as_fail(d, p, k, "invalid value \"%s\": not an integer", v);
    return 0;
}

static int as_scales(const struct json_object *anns, int64_t *pmin,
                     int64_t *pmax, struct sl_res_path *p, struct sl_diag *d)
{
    const char *k;
    int rc;

    if ((rc = as_int_ge0(anns, SL_RES_AS_MIN_SCALE, pmin, p, d)) != 0 ||
        (rc = as_int_ge0(anns, SL_RES_AS_MAX_SCALE, pmax, p, d)) != 0)
        return rc;
    if (*pmax != 0 && *pmax < *pmin) {
        sl_res_sv_annotation(anns, SL_RES_AS_MAX_SCALE, &k);
        return as_fail(d, p, k, "max-scale=%lld is less than min-scale=%lld",
                       (long long)*pmax, (long long)*pmin);
    }
    if (AS_MAX_SCALE_LIMIT != 0 &&
        sl_res_sv_annotation(anns, SL_RES_AS_MAX_SCALE, &k) != NULL &&
        (*pmax == 0 || *pmax > AS_MAX_SCALE_LIMIT))
        return as_fail(d, p, k, "expected 1 <= %lld <= %d", (long long)*pmax,
                       AS_MAX_SCALE_LIMIT);
    return 0;
}

/* A float annotation within [min, max]. */
static int as_float_range(const struct json_object *anns, const char *key,
                          double min, double max, struct sl_res_path *p,
                          struct sl_diag *d)
{
    const char *k, *v = sl_res_sv_annotation(anns, key, &k);
    double f;

    if (v == NULL)
        return 0;
    if (!as_parse_float(v, &f))
        return as_fail(d, p, k, "invalid value \"%s\": not a number", v);
    if (f < min || f > max)
        return as_fail(d, p, k, "expected %g <= %s <= %g", min, v, max);
    return 0;
}

static int as_floats(const struct json_object *anns, struct sl_res_path *p,
                     struct sl_diag *d)
{
    const char *k, *v;
    double f;
    int rc;

    if ((rc = as_float_range(anns, SL_RES_AS_PANIC_WINDOW, AS_PANIC_W_MIN,
                             AS_PANIC_W_MAX, p, d)) != 0 ||
        (rc = as_float_range(anns, SL_RES_AS_PANIC_THRESHOLD, AS_PANIC_T_MIN,
                             AS_PANIC_T_MAX, p, d)) != 0)
        return rc;
    v = sl_res_sv_annotation(anns, SL_RES_AS_TARGET, &k);
    if (v != NULL && (!as_parse_float(v, &f) || f < AS_TARGET_MIN))
        return as_fail(d, p, k, "target %s should be at least %g", v,
                       AS_TARGET_MIN);
    if ((rc = as_float_range(anns, SL_RES_AS_TARGET_UTIL, 1, 100, p, d)) != 0)
        return rc;
    v = sl_res_sv_annotation(anns, SL_RES_AS_BURST_CAPACITY, &k);
    if (v != NULL && (!as_parse_float(v, &f) || (f < 0 && f != -1)))
        return as_fail(d, p, k,
                       "invalid value \"%s\": expected -1 (unlimited) or a "
                       "number >= 0",
                       v);
    return 0;
}

/*
 * A Go-duration annotation within [min, max] ('lo' and 'hi' spell them
 * for the message); with 'whole', a multiple of one second.
 */
static int as_duration(const struct json_object *anns, const char *key,
                       int64_t min, int64_t max, const char *lo, const char *hi,
                       bool whole, struct sl_res_path *p, struct sl_diag *d)
{
    const char *k, *v = sl_res_sv_annotation(anns, key, &k);
    struct sl_diag tmp;
    int64_t ns;

    if (v == NULL)
        return 0;
    sl_diag_clear(&tmp);
    if (sl_res_goduration_parse(v, &ns, &tmp) != 0)
        return as_fail(d, p, k, "invalid value \"%s\": %s", v, tmp.msg);
    if (ns < min || ns > max)
        return as_fail(d, p, k, "expected %s <= %s <= %s", lo, v, hi);
    if (whole && ns % SL_GODUR_SECOND != 0)
        return as_fail(d, p, k,
                       "invalid value \"%s\": must be specified with at "
                       "most second precision",
                       v);
    return 0;
}

static int as_durations(const struct json_object *anns, struct sl_res_path *p,
                        struct sl_diag *d)
{
    int rc;

    if ((rc = as_duration(anns, SL_RES_AS_WINDOW, AS_WINDOW_MIN, AS_WINDOW_MAX,
                          "6s", "1h", true, p, d)) != 0 ||
        (rc = as_duration(anns, SL_RES_AS_RETENTION, 0, AS_WINDOW_MAX, "0s",
                          "1h", false, p, d)) != 0)
        return rc;
    return as_duration(anns, SL_RES_AS_SCALE_DOWN_DELAY, 0, AS_WINDOW_MAX, "0s",
                       "1h", true, p, d);
}

static int as_metric(const struct json_object *anns, struct sl_res_path *p,
                     struct sl_diag *d)
{
    const char *k, *m = sl_res_sv_annotation(anns, SL_RES_AS_METRIC, &k);
    const char *cls = sl_res_sv_annotation(anns, SL_RES_AS_CLASS, NULL);

    if (m == NULL)
        return 0;
    if (cls == NULL)
        cls = SL_RES_AS_KPA;
    if (strcmp(cls, SL_RES_AS_KPA) == 0 && strcmp(m, "concurrency") != 0 &&
        strcmp(m, "rps") != 0)
        return as_fail(d, p, k,
                       "invalid value \"%s\": expected one of "
                       "\"concurrency\", \"rps\" for class \"%s\"",
                       m, cls);
    /* HPA takes cpu, memory or a custom metric, but not none. */
    if (strcmp(cls, SL_RES_AS_HPA) == 0 && m[0] == '\0')
        return as_fail(d, p, k,
                       "invalid value \"\": must not be empty for class "
                       "\"%s\"",
                       cls);
    return 0;
}

/* Checked only when the class says KPA explicitly, as Knative does. */
static int as_algorithm(const struct json_object *anns, struct sl_res_path *p,
                        struct sl_diag *d)
{
    const char *cls = sl_res_sv_annotation(anns, SL_RES_AS_CLASS, NULL);
    const char *k, *v = sl_res_sv_annotation(anns, SL_RES_AS_ALGORITHM, &k);

    if (cls == NULL || strcmp(cls, SL_RES_AS_KPA) != 0 || v == NULL ||
        v[0] == '\0')
        return 0;
    if (strcmp(v, "linear") != 0 && strcmp(v, "weighted-exponential") != 0 &&
        strcmp(v, "weightedExponential") != 0)
        return as_fail(d, p, k,
                       "invalid value \"%s\": expected one of \"linear\", "
                       "\"weighted-exponential\", \"weightedExponential\"",
                       v);
    return 0;
}

static int as_initial(const struct json_object *anns, struct sl_res_path *p,
                      struct sl_diag *d)
{
    const char *k, *v = sl_res_sv_annotation(anns, SL_RES_AS_INITIAL_SCALE, &k);
    int64_t n;

    if (v == NULL)
        return 0;
    if (as_parse_int(v, INT64_MIN, INT64_MAX, &n) != 0 || n < 0)
        return as_fail(d, p, k,
                       "invalid value \"%s\": expected an integer >= 0", v);
    if (n == 0 && !AS_ALLOW_ZERO_INITIAL_SCALE)
        return as_fail(d, p, k,
                       "invalid value \"0\": initial scale 0 needs "
                       "allow-zero-initial-scale");
    return 0;
}

/* Reference 9.5: >= 2 when set, not below min-scale, not above a bounded
 * max-scale. */
static int as_activation(const struct json_object *anns, int64_t min,
                         int64_t max, struct sl_res_path *p, struct sl_diag *d)
{
    const char *k,
        *v = sl_res_sv_annotation(anns, SL_RES_AS_ACTIVATION_SCALE, &k);
    int64_t n;
    int rc;

    if (v == NULL)
        return 0;
    rc = as_parse_int(v, INT32_MIN, INT32_MAX, &n);
    if (rc == SL_ETOOBIG || (rc == 0 && n < 2))
        return as_fail(d, p, k, "expected 2 <= %s <= 2147483647", v);
    if (rc != 0)
        return as_fail(d, p, k, "invalid value \"%s\": not an integer", v);
    if (n < min)
        return as_fail(d, p, k,
                       "activation-scale=%lld is less than min-scale=%lld",
                       (long long)n, (long long)min);
    if (max != 0 && n > max)
        return as_fail(d, p, k,
                       "activation-scale=%lld is greater than "
                       "max-scale=%lld",
                       (long long)n, (long long)max);
    return 0;
}

int sl_res_sv_autoscaling_validate(const struct json_object *anns,
                                   struct sl_res_path *p, struct sl_diag *d)
{
    int64_t min = 0, max = 0;
    int rc;

    if (anns == NULL)
        return 0;
    if ((rc = as_duplicates(anns, p, d)) != 0 ||
        (rc = as_class(anns, p, d)) != 0 ||
        (rc = as_scales(anns, &min, &max, p, d)) != 0 ||
        (rc = as_floats(anns, p, d)) != 0 ||
        (rc = as_durations(anns, p, d)) != 0 ||
        (rc = as_metric(anns, p, d)) != 0 ||
        (rc = as_algorithm(anns, p, d)) != 0 ||
        (rc = as_initial(anns, p, d)) != 0)
        return rc;
    return as_activation(anns, min, max, p, d);
}
