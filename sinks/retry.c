/*
 * sinks/retry.c - delivery policy: the Trigger-over-Broker merge, backoff,
 * retry classes, Retry-After and the dead-letter extensions.
 *
 * Everything is a pure function of its arguments (see the header). The
 * rules and their sources are listed in docs/sinks.md; DESIGN.md section
 * 4 decides where Knative's implementations disagree.
 */
#include "sinks/retry.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "proto/event.h"
#include "resource/schema.h"

/* ---- building the policy ---- */

/*
 * Member 'key' of the Trigger's delivery when present, else of the
 * Broker's; '*from_broker' says which (for messages).
 */
static struct json_object *pol_pick(const struct json_object *trig,
                                    const struct json_object *brok,
                                    const char *key, bool *from_broker)
{
    struct json_object *v = sl_res_get(trig, key);

    *from_broker = false;
    if (v == NULL) {
        v = sl_res_get(brok, key);
        *from_broker = v != NULL;
    }
    return v;
}

/* "invalid value" at spec.delivery.<key>, saying whose it was. */
static int pol_fail(struct sl_diag *d, const char *key, bool from_broker,
                    const char *value, const char *why)
{
    char field[96];

    snprintf(field, sizeof(field), "spec.delivery.%s", key);
    return sl_diag_set(d, SL_EINVAL, field, "%sinvalid value %s: %s",
                       from_broker ? "broker: " : "", value, why);
}

/* A duration member; absent leaves '*pns' alone. */
static int pol_duration(const struct json_object *trig,
                        const struct json_object *brok, const char *key,
                        int64_t *pns, bool *present, struct sl_diag *d)
{
    bool from_broker;
    struct json_object *v = pol_pick(trig, brok, key, &from_broker);
    const char *s = sl_res_str(v);
    struct sl_diag why;
    int rc;

    *present = v != NULL;
    if (v == NULL)
        return 0;
    if (s == NULL)
        return pol_fail(d, key, from_broker, json_object_to_json_string(v),
                        "not a string");
    sl_diag_clear(&why);
    rc = sl_duration_parse(s, pns, &why);
    if (rc < 0)
        return pol_fail(d, key, from_broker, json_object_to_json_string(v),
                        why.msg[0] ? why.msg : "duration too long");
    return 0;
}

static int pol_enum(const struct json_object *trig,
                    const struct json_object *brok, const char *key,
                    const char *const *names, int *pidx, struct sl_diag *d)
{
    bool from_broker;
    struct json_object *v = pol_pick(trig, brok, key, &from_broker);
    const char *s = sl_res_str(v);
    int i;

    if (v == NULL)
        return 0;
    for (i = 0; s != NULL && names[i] != NULL; i++) {
        if (strcmp(s, names[i]) == 0) {
            *pidx = i;
            return 0;
        }
    }
    return pol_fail(d, key, from_broker, json_object_to_json_string(v),
                    "unknown value");
}

/* The ceiling: the Trigger's annotation, else the Broker's, else 1 h. */
static int pol_ceiling(const struct json_object *trig_ann,
                       const struct json_object *brok_ann, int64_t *pns,
                       struct sl_diag *d)
{
    const char *key = SL_RETRY_BACKOFF_MAX_ANNOTATION;
    const char *s = sl_res_get_str(trig_ann, key);
    const char *who = "";
    struct sl_diag why;

    if (s == NULL && sl_res_get(trig_ann, key) == NULL) {
        s = sl_res_get_str(brok_ann, key);
        who = "broker: ";
    }
    if (s == NULL) {
        *pns = SL_RETRY_BACKOFF_MAX_DEFAULT_NS;
        return 0;
    }
    sl_diag_clear(&why);
    if (sl_duration_parse(s, pns, &why) < 0)
        return sl_diag_set(
            d, SL_EINVAL,
            "metadata.annotations." SL_RETRY_BACKOFF_MAX_ANNOTATION,
            "%sinvalid value \"%s\": %s", who, s,
            why.msg[0] ? why.msg : "duration too long");
    if (*pns < 0)
        return sl_diag_set(
            d, SL_EINVAL,
            "metadata.annotations." SL_RETRY_BACKOFF_MAX_ANNOTATION,
            "%sinvalid value \"%s\": must not be negative", who, s);
    return 0;
}

/* The dead-letter URL: the resolved one, else a ref-less uri. */
static int pol_dead_letter(const struct json_object *trig,
                           const struct json_object *brok, const char *dls_url,
                           char **out, struct sl_diag *d)
{
    bool from_broker;
    struct json_object *dls =
        pol_pick(trig, brok, "deadLetterSink", &from_broker);
    const char *uri;

    if (dls_url != NULL) {
        *out = sl_xstrdup(dls_url);
        return 0;
    }
    if (dls == NULL)
        return 0;
    uri = sl_res_get_str(dls, "uri");
    if (sl_res_get(dls, "ref") != NULL || uri == NULL || uri[0] == '\0')
        return sl_diag_set(d, SL_ENOENT, "spec.delivery.deadLetterSink",
                           "%sdead letter sink is not resolved yet",
                           from_broker ? "broker: " : "");
    *out = sl_xstrdup(uri);
    return 0;
}

void sl_retry_policy_init(struct sl_retry_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->backoff = SL_BACKOFF_NONE;
    p->retry_after_max_ns = SL_RETRY_UNSET;
    p->format = SL_FORMAT_BINARY;
    p->backoff_max_ns = SL_RETRY_BACKOFF_MAX_DEFAULT_NS;
}

void sl_retry_policy_fini(struct sl_retry_policy *p)
{
    sl_free(p->dead_letter_url);
    sl_retry_policy_init(p);
}

int sl_retry_policy_build(struct sl_retry_policy *out,
                          const struct json_object *trig,
                          const struct json_object *trig_ann,
                          const struct json_object *brok,
                          const struct json_object *brok_ann,
                          const char *dls_url, struct sl_diag *d)
{
    static const char *const policies[] = { "linear", "exponential", NULL };
    static const char *const formats[] = { "binary", "json", NULL };
    struct sl_retry_policy p;
    struct json_object *v;
    bool from_broker, present, has_delay;
    int policy = -1, format = 0;
    int64_t n;
    int rc;

    sl_retry_policy_init(&p);
    sl_retry_policy_init(out);

    v = pol_pick(trig, brok, "retry", &from_broker);
    if (v != NULL) {
        if (!json_object_is_type(v, json_type_int))
            return pol_fail(d, "retry", from_broker,
                            json_object_to_json_string(v), "not an integer");
        n = json_object_get_int64(v);
        if (n < 0 || n > INT32_MAX)
            return pol_fail(d, "retry", from_broker,
                            json_object_to_json_string(v),
                            "must be >= 0 and fit in 32 bits");
        p.retry = (int32_t)n;
    }
    rc = pol_enum(trig, brok, "backoffPolicy", policies, &policy, d);
    if (rc == 0)
        rc = pol_duration(trig, brok, "backoffDelay", &p.delay_ns, &has_delay,
                          d);
    if (rc == 0)
        rc = pol_duration(trig, brok, "timeout", &p.timeout_ns, &present, d);
    if (rc == 0)
        rc = pol_duration(trig, brok, "retryAfterMax", &p.retry_after_max_ns,
                          &present, d);
    if (rc == 0 && present && p.retry_after_max_ns < 0) {
        v = pol_pick(trig, brok, "retryAfterMax", &from_broker);
        rc = pol_fail(d, "retryAfterMax", from_broker,
                      json_object_to_json_string(v), "must not be negative");
    }
    if (rc == 0)
        rc = pol_enum(trig, brok, "format", formats, &format, d);
    if (rc == 0)
        rc = pol_ceiling(trig_ann, brok_ann, &p.backoff_max_ns, d);
    if (rc == 0)
        rc = pol_dead_letter(trig, brok, dls_url, &p.dead_letter_url, d);
    if (rc < 0) {
        sl_retry_policy_fini(&p);
        return rc;
    }
    /* Knative accepts a negative delay or timeout and waits for none. */
    if (p.delay_ns < 0)
        p.delay_ns = 0;
    if (p.timeout_ns < 0)
        p.timeout_ns = 0;
    if (policy < 0 || !has_delay || p.delay_ns == 0)
        p.backoff = SL_BACKOFF_NONE;
    else
        p.backoff = policy == 0 ? SL_BACKOFF_LINEAR : SL_BACKOFF_EXPONENTIAL;
    p.format = format == 1 ? SL_FORMAT_JSON : SL_FORMAT_BINARY;
    *out = p;
    return 0;
}

int sl_retry_policy_from_objects(struct sl_retry_policy *out,
                                 const struct json_object *trigger,
                                 const struct json_object *broker,
                                 struct sl_diag *d)
{
    return sl_retry_policy_build(
        out, sl_res_dig(trigger, "spec.delivery"),
        sl_res_dig(trigger, "metadata.annotations"),
        sl_res_dig(broker, "spec.delivery"),
        sl_res_dig(broker, "metadata.annotations"),
        sl_res_str(sl_res_dig(trigger, "status.deadLetterSinkUri")), d);
}

/* ---- backoff and classes ---- */

int64_t sl_retry_backoff(const struct sl_retry_policy *p, int64_t k)
{
    int64_t delay = p->delay_ns, cap = p->backoff_max_ns;

    if (k < 1 || delay <= 0 || cap <= 0)
        return 0;
    switch (p->backoff) {
    case SL_BACKOFF_EXPONENTIAL:
        /* delay*2^s > cap exactly when delay > floor(cap / 2^s); below
         * that bound the product fits, since it is at most cap. */
        if (k - 1 >= 63 || delay > (cap >> (k - 1)))
            return cap;
        return delay << (k - 1);
    case SL_BACKOFF_LINEAR:
        if (delay > cap / k)
            return cap;
        return delay * k;
    case SL_BACKOFF_NONE:
    default:
        return 0;
    }
}

enum sl_retry_class sl_retry_classify(int status, enum sl_reply_kind reply)
{
    if (status == 0)
        return SL_RETRY_AGAIN;
    if (status >= 200 && status <= 299)
        return reply == SL_REPLY_NOT_EVENT ? SL_RETRY_AGAIN : SL_RETRY_SUCCESS;
    if (status >= 500 && status <= 599)
        return SL_RETRY_AGAIN;
    switch (status) {
    case 404:
    case 408:
    case 409:
    case 429:
        return SL_RETRY_AGAIN;
    default:
        return SL_RETRY_FAIL;
    }
}

/* ---- Retry-After ---- */

static bool ra_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 'n' digits at *ps into '*out', advancing. */
static bool ra_num(const char **ps, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!ra_digit((*ps)[i]))
            return false;
        v = v * 10 + ((*ps)[i] - '0');
    }
    *ps += n;
    *out = v;
    return true;
}

static bool ra_lit(const char **ps, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*ps, lit, n) != 0)
        return false;
    *ps += n;
    return true;
}

/* One of 'names' (case-insensitive) at *ps; its index in '*out'. */
static bool ra_name(const char **ps, const char *const *names, int *out)
{
    int i;

    for (i = 0; names[i] != NULL; i++) {
        size_t n = strlen(names[i]);
        size_t j;
        for (j = 0; j < n; j++) {
            char c = (*ps)[j];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != names[i][j])
                break;
        }
        if (j == n) {
            *ps += n;
            *out = i;
            return true;
        }
    }
    return false;
}

static const char *const ra_months[] = { "jan", "feb", "mar", "apr", "may",
                                         "jun", "jul", "aug", "sep", "oct",
                                         "nov", "dec", NULL };
static const char *const ra_days[] = { "mon", "tue", "wed", "thu",
                                       "fri", "sat", "sun", NULL };
/* Longest first where one name is a prefix of another: none here. */
static const char *const ra_long_days[] = { "monday",   "tuesday", "wednesday",
                                            "thursday", "friday",  "saturday",
                                            "sunday",   NULL };

/* "HH:MM:SS" */
static bool ra_clock(const char **ps, int *h, int *m, int *sec)
{
    return ra_num(ps, 2, h) && ra_lit(ps, ":") && ra_num(ps, 2, m) &&
           ra_lit(ps, ":") && ra_num(ps, 2, sec);
}

static bool ra_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). */
static int64_t ra_days_from_civil(int y, int mon, int day)
{
    static const int before[12] = { 0,   31,  59,  90,  120, 151,
                                    181, 212, 243, 273, 304, 334 };
    int64_t yy = (int64_t)y - 1;
    int64_t days = yy * 365 + yy / 4 - yy / 100 + yy / 400;

    days += before[mon - 1] + (mon > 2 && ra_leap(y)) + day - 1;
    return days - 719162; /* days from 0001-01-01 to 1970-01-01 */
}

static int ra_year_of(int64_t unix_sec)
{
    /* Good enough to place a two-digit year: days / 365.2425. */
    int64_t days = unix_sec / 86400;
    if (unix_sec < 0 && unix_sec % 86400 != 0)
        days--;
    return (int)(1970 + (days * 10000) / 3652425);
}

/*
 * Parse the HTTP-date 's' (blanks already trimmed, NUL-terminated) into
 * Unix seconds.
 */
static bool ra_http_date(const char *s, int64_t now_sec, int64_t *out)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };
    const char *p = s;
    int wday, day = 0, mon = 0, year = 0, h = 0, m = 0, sec = 0;

    if (ra_name(&p, ra_days, &wday) && ra_lit(&p, ", ")) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (!(ra_num(&p, 2, &day) && ra_lit(&p, " ") &&
              ra_name(&p, ra_months, &mon) && ra_lit(&p, " ") &&
              ra_num(&p, 4, &year) && ra_lit(&p, " ") &&
              ra_clock(&p, &h, &m, &sec) && ra_lit(&p, " GMT")))
            return false;
    } else if ((p = s, ra_name(&p, ra_long_days, &wday)) && ra_lit(&p, ", ")) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        int now_year = ra_year_of(now_sec);
        if (!(ra_num(&p, 2, &day) && ra_lit(&p, "-") &&
              ra_name(&p, ra_months, &mon) && ra_lit(&p, "-") &&
              ra_num(&p, 2, &year) && ra_lit(&p, " ") &&
              ra_clock(&p, &h, &m, &sec) && ra_lit(&p, " GMT")))
            return false;
        /* RFC 9110 5.6.7: a year that looks more than 50 years ahead is
         * the most recent past year with those digits. */
        year += now_year - now_year % 100;
        if (year > now_year + 50)
            year -= 100;
    } else if ((p = s, ra_name(&p, ra_days, &wday)) && ra_lit(&p, " ")) {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (!(ra_name(&p, ra_months, &mon) && ra_lit(&p, " ")))
            return false;
        if (p[0] == ' ') {
            p++;
            if (!ra_num(&p, 1, &day))
                return false;
        } else if (!ra_num(&p, 2, &day)) {
            return false;
        }
        if (!(ra_lit(&p, " ") && ra_clock(&p, &h, &m, &sec) &&
              ra_lit(&p, " ") && ra_num(&p, 4, &year)))
            return false;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    mon++; /* ra_name gave 0..11 */
    if (year < 1 || day < 1 || day > mdays[mon - 1] ||
        (mon == 2 && day == 29 && !ra_leap(year)) || h > 23 || m > 59 ||
        sec > 60)
        return false;
    *out = ra_days_from_civil(year, mon, day) * 86400 + h * 3600 + m * 60 + sec;
    return true;
}

#define RA_MAX_SEC (INT64_MAX / 1000000000)

int sl_retry_after_parse(const char *value, int64_t now_sec, int64_t *out_ns)
{
    char buf[64];
    size_t a = 0, b, n, i;
    int64_t when, secs = 0;

    if (value == NULL)
        return SL_EINVAL;
    b = strlen(value);
    while (a < b && (value[a] == ' ' || value[a] == '\t'))
        a++;
    while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t'))
        b--;
    n = b - a;
    if (n == 0)
        return SL_EINVAL;
    if (ra_digit(value[a])) {
        for (i = a; i < b; i++) {
            if (!ra_digit(value[i]))
                return SL_EINVAL;
            /* Saturate: a wait this long is capped by retryAfterMax. */
            if (secs <= RA_MAX_SEC)
                secs = secs * 10 + (value[i] - '0');
        }
        *out_ns = secs >= RA_MAX_SEC ? INT64_MAX : secs * 1000000000;
        return 0;
    }
    if (n >= sizeof(buf))
        return SL_EINVAL;
    memcpy(buf, value + a, n);
    buf[n] = '\0';
    if (!ra_http_date(buf, now_sec, &when))
        return SL_EINVAL;
    if (when <= now_sec)
        *out_ns = 0;
    else if (when - now_sec >= RA_MAX_SEC)
        *out_ns = INT64_MAX;
    else
        *out_ns = (when - now_sec) * 1000000000;
    return 0;
}

int64_t sl_retry_wait(const struct sl_retry_policy *p, int64_t k, int status,
                      const char *retry_after, int64_t now_sec)
{
    int64_t wait = sl_retry_backoff(p, k), ra;

    if ((status == 429 || status == 503) &&
        p->retry_after_max_ns != SL_RETRY_UNSET && retry_after != NULL &&
        sl_retry_after_parse(retry_after, now_sec, &ra) == 0) {
        if (ra > p->retry_after_max_ns)
            ra = p->retry_after_max_ns;
        if (ra > wait)
            wait = ra;
    }
    return wait;
}

/* ---- dead letter ---- */

int sl_retry_dead_letter(const struct sl_event *ev, const char *dest,
                         int status, const void *body, size_t len,
                         struct sl_event **out, struct sl_diag *d)
{
    struct sl_event *dl = sl_event_clone(ev);
    struct sl_buf b64;
    int rc;

    *out = NULL;
    sl_buf_init(&b64, SL_BUF_UNLIMITED);
    if (len > SL_RETRY_ERRORDATA_MAX)
        len = SL_RETRY_ERRORDATA_MAX;
    rc = sl_event_set_str(dl, "knativeerrordest", dest ? dest : "", d);
    if (rc == 0 && status > 0)
        rc = sl_event_set_int(dl, "knativeerrorcode", status, d);
    else if (rc == 0)
        (void)sl_event_del(dl, "knativeerrorcode");
    if (rc == 0)
        rc = sl_base64_encode(body, len, &b64);
    if (rc == 0)
        rc = sl_event_set(dl, "knativeerrordata", SL_CE_STRING,
                          sl_buf_str(&b64), b64.len, d);
    sl_buf_fini(&b64);
    if (rc < 0) {
        sl_event_unref(dl);
        return rc;
    }
    *out = dl;
    return 0;
}
