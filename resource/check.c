/*
 * resource/check.c - value checks for schema tables: Kubernetes name
 * syntax (DNS-1123/1035, qualified names, label values, config keys) and
 * wrappers over core parsers (durations, timestamps, URLs, Base64).
 *
 * Messages follow Kubernetes' apimachinery wording, shortened by the regex
 * it appends, behind 'invalid value "<value>": '.
 */
#include "resource/schema.h"

#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/time.h"
#include "core/url.h"

static bool chk_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool chk_alnum(char c)
{
    return chk_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* s[0..n) is a DNS-1123 label (length not checked). */
static bool chk_label(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || !chk_lower_alnum(s[0]) || !chk_lower_alnum(s[n - 1]))
        return false;
    for (i = 1; i + 1 < n; i++)
        if (!chk_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* s[0..n) is a DNS-1123 subdomain (length not checked). */
static bool chk_subdomain(const char *s, size_t n)
{
    size_t a = 0, i;

    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!chk_label(s + a, i - a))
                return false;
            a = i + 1;
        }
    }
    return true;
}

/* s[0..n) matches ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]. */
static bool chk_name_part(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || !chk_alnum(s[0]) || !chk_alnum(s[n - 1]))
        return false;
    for (i = 1; i + 1 < n; i++)
        if (!chk_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

int sl_res_check_dns1123_label(const char *s, struct sl_diag *d)
{
    size_t n = strlen(s);

    if (n > 63)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": must be no more than 63 "
                           "characters",
                           s);
    if (!chk_label(s, n))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a lowercase RFC 1123 label "
                           "must consist of lower case alphanumeric "
                           "characters or '-', and must start and end with "
                           "an alphanumeric character",
                           s);
    return 0;
}

int sl_res_check_dns1123_subdomain(const char *s, struct sl_diag *d)
{
    size_t n = strlen(s);

    if (n > 253)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%.64s...\": must be no more than "
                           "253 characters",
                           s);
    if (!chk_subdomain(s, n))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a lowercase RFC 1123 "
                           "subdomain must consist of lower case alphanumeric "
                           "characters, '-' or '.', and must start and end "
                           "with an alphanumeric character",
                           s);
    return 0;
}

int sl_res_check_dns1035_label(const char *s, struct sl_diag *d)
{
    size_t n = strlen(s);

    if (n > 63)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": must be no more than 63 "
                           "characters",
                           s);
    if (!chk_label(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a DNS-1035 label must "
                           "consist of lower case alphanumeric characters or "
                           "'-', start with an alphabetic character, and end "
                           "with an alphanumeric character",
                           s);
    return 0;
}

int sl_res_check_qualified_name(const char *s, struct sl_diag *d)
{
    const char *slash = strchr(s, '/'), *name = s;
    size_t n;

    if (slash != NULL) {
        size_t pn = (size_t)(slash - s);
        if (strchr(slash + 1, '/') != NULL)
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "invalid key \"%s\": a qualified name must "
                               "be a name with an optional DNS subdomain "
                               "prefix and '/' (e.g. 'example.com/MyName')",
                               s);
        if (pn == 0)
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "invalid key \"%s\": prefix part must be "
                               "non-empty",
                               s);
        if (pn > 253)
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "invalid key \"%.64s...\": prefix part must "
                               "be no more than 253 characters",
                               s);
        if (!chk_subdomain(s, pn))
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "invalid key \"%s\": prefix part a lowercase "
                               "RFC 1123 subdomain must consist of lower "
                               "case alphanumeric characters, '-' or '.', "
                               "and must start and end with an alphanumeric "
                               "character",
                               s);
        name = slash + 1;
    }
    n = strlen(name);
    if (n == 0)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%s\": name part must be non-empty",
                           s);
    if (n > 63)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%s\": name part must be no more "
                           "than 63 characters",
                           s);
    if (!chk_name_part(name, n))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%s\": name part must consist of "
                           "alphanumeric characters, '-', '_' or '.', and "
                           "must start and end with an alphanumeric "
                           "character",
                           s);
    return 0;
}

int sl_res_check_label_value(const char *s, struct sl_diag *d)
{
    size_t n = strlen(s);

    if (n > 63)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": must be no more than 63 "
                           "characters",
                           s);
    if (n > 0 && !chk_name_part(s, n))
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": a valid label must be an "
                           "empty string or consist of alphanumeric "
                           "characters, '-', '_' or '.', and must start and "
                           "end with an alphanumeric character",
                           s);
    return 0;
}

int sl_res_check_config_key(const char *s, struct sl_diag *d)
{
    size_t i, n = strlen(s);

    if (n > 253)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%.64s...\": must be no more than "
                           "253 characters",
                           s);
    for (i = 0; i < n; i++)
        if (!chk_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            break;
    if (n == 0 || i < n)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%s\": a valid config key must "
                           "consist of alphanumeric characters, '-', '_' or "
                           "'.'",
                           s);
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strncmp(s, "..", 2) == 0)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid key \"%s\": must not be '.' or '..' nor "
                           "start with '..'",
                           s);
    return 0;
}

/* ---- wrappers over core parsers ---- */

/* Re-record the core parser's message in 'tmp' behind the value. */
static int chk_wrap(struct sl_diag *d, const char *s, const struct sl_diag *tmp)
{
    return sl_diag_set(d, SL_EINVAL, NULL, "invalid value \"%s\": %s", s,
                       tmp->msg);
}

int sl_res_check_duration(const char *s, struct sl_diag *d)
{
    struct sl_diag tmp;
    int64_t ns;
    int rc;

    sl_diag_clear(&tmp);
    rc = sl_duration_parse(s, &ns, &tmp);
    if (rc == SL_ETOOBIG)
        return sl_diag_set(d, SL_EINVAL, NULL,
                           "invalid value \"%s\": duration too long", s);
    return rc != 0 ? chk_wrap(d, s, &tmp) : 0;
}

int sl_res_check_rfc3339(const char *s, struct sl_diag *d)
{
    struct sl_timestamp ts;
    struct sl_diag tmp;

    sl_diag_clear(&tmp);
    if (sl_time_parse_rfc3339(s, &ts, &tmp) != 0)
        return chk_wrap(d, s, &tmp);
    return 0;
}

int sl_res_check_uri_ref(const char *s, struct sl_diag *d)
{
    struct sl_url u;
    struct sl_diag tmp;
    int rc;

    sl_diag_clear(&tmp);
    rc = sl_url_parse(s, &u, &tmp);
    sl_url_fini(&u);
    return rc != 0 ? chk_wrap(d, s, &tmp) : 0;
}

int sl_res_check_abs_url(const char *s, struct sl_diag *d)
{
    struct sl_url u;
    struct sl_diag tmp;
    int rc;

    sl_diag_clear(&tmp);
    rc = sl_url_parse(s, &u, &tmp);
    if (rc != 0)
        rc = chk_wrap(d, s, &tmp);
    else if (u.scheme == NULL || u.host == NULL || u.host[0] == '\0')
        rc = sl_diag_set(d, SL_EINVAL, NULL,
                         "invalid value \"%s\": not an absolute URL (scheme "
                         "and host required)",
                         s);
    sl_url_fini(&u);
    return rc;
}

int sl_res_check_http_url(const char *s, struct sl_diag *d)
{
    struct sl_url u;
    struct sl_diag tmp;
    int rc;

    sl_diag_clear(&tmp);
    rc = sl_url_parse_http(s, &u, &tmp);
    sl_url_fini(&u);
    return rc != 0 ? chk_wrap(d, s, &tmp) : 0;
}

int sl_res_check_base64(const char *s, struct sl_diag *d)
{
    struct sl_buf in, out;
    struct sl_diag tmp;
    size_t i, n = strlen(s);
    int rc;

    /* Go's decoder skips line breaks, so wrapped Base64 is accepted. */
    sl_buf_init(&in, n);
    for (i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n')
            sl_buf_appendc(&in, s[i]);
    sl_buf_init(&out, n);
    sl_diag_clear(&tmp);
    rc = sl_base64_decode(sl_buf_str(&in), in.len, &out, &tmp);
    if (rc != 0)
        rc = sl_diag_set(d, SL_EINVAL, NULL, "invalid value: %s", tmp.msg);
    sl_buf_fini(&out);
    sl_buf_fini(&in);
    return rc;
}
