/*
 * cmd/config_value.c - the syntax of setting values.
 *
 * Each function checks one type's text and says why it is wrong in a
 * short phrase that cmd/config.c puts after the setting and the value
 * ("expected host:port", "must be from 1 to 1GiB"). Host names are
 * checked for syntax only; nothing here resolves or connects.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/config_int.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"

const char *sl__cfg_choices(const char *const *choices, const char *suffix,
                            char *out, size_t cap)
{
    size_t i, k = 0;

    out[0] = '\0';
    for (i = 0; choices[i] != NULL && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%s%s",
                              i == 0                   ? ""
                              : choices[i + 1] == NULL ? " or "
                                                       : ", ",
                              choices[i], suffix);
    return out;
}

/* "1GiB", "3MiB", "512KiB" when exact, else the number of bytes. */
void sl__cfg_fmt_size(int64_t v, char *out, size_t cap)
{
    if (v > 0 && v % SL__CFG_GIB == 0)
        snprintf(out, cap, "%lldGiB", (long long)(v / SL__CFG_GIB));
    else if (v > 0 && v % SL__CFG_MIB == 0)
        snprintf(out, cap, "%lldMiB", (long long)(v / SL__CFG_MIB));
    else if (v > 0 && v % SL__CFG_KIB == 0)
        snprintf(out, cap, "%lldKiB", (long long)(v / SL__CFG_KIB));
    else
        snprintf(out, cap, "%lld", (long long)v);
}

static bool cfg_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool cfg_is_alnum(char c)
{
    return cfg_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Check a host: an IPv4 address, an IPv6 address in brackets, or a DNS
 * name (labels of letters, digits, '-' and '_'). Returns NULL or why not.
 */
static const char *cfg_check_host(const char *s, size_t n)
{
    char tmp[256];
    unsigned char addr[16];
    size_t i, label = 0;
    bool numeric = true;

    if (n == 0)
        return "expected host:port";
    if (s[0] == '[') {
        if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof(tmp))
            return "invalid IPv6 address";
        memcpy(tmp, s + 1, n - 2);
        tmp[n - 2] = '\0';
        return inet_pton(AF_INET6, tmp, addr) == 1 ? NULL
                                                   : "invalid IPv6 address";
    }
    if (n > 253)
        return "host name too long";
    for (i = 0; i < n; i++)
        if (!cfg_is_digit(s[i]) && s[i] != '.')
            numeric = false;
    if (numeric) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return inet_pton(AF_INET, tmp, addr) == 1 ? NULL
                                                  : "invalid IPv4 address";
    }
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-' ||
                s[i - label] == '-')
                return "invalid host name";
            label = 0;
        } else if (cfg_is_alnum(s[i]) || s[i] == '-' || s[i] == '_') {
            label++;
        } else {
            return "invalid host name";
        }
    }
    return NULL;
}

const char *sl__cfg_hostport(const char *s, size_t n, bool need_port,
                             size_t *host_len, long *port)
{
    const char *colon = NULL, *why;
    size_t i, hl;
    long p = 0;

    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return "invalid IPv6 address";
        hl = (size_t)(close - s) + 1;
        if (hl < n && s[hl] != ':')
            return "expected host:port";
        colon = hl < n ? s + hl : NULL;
    } else {
        for (i = n; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        hl = colon != NULL ? (size_t)(colon - s) : n;
        if (memchr(s, ':', hl) != NULL)
            return "expected host:port (an IPv6 address goes in brackets: "
                   "[::1]:8001)";
    }
    if (colon == NULL) {
        if (need_port)
            return "expected host:port";
    } else {
        size_t k = (size_t)(colon + 1 - s);
        if (k == n || n - k > 5)
            return k == n ? "expected host:port"
                          : "port out of range (0-65535)";
        for (i = k; i < n; i++) {
            if (!cfg_is_digit(s[i]))
                return "expected host:port";
            p = p * 10 + (s[i] - '0');
        }
        if (p > 65535)
            return "port out of range (0-65535)";
    }
    why = cfg_check_host(s, hl);
    if (why != NULL)
        return why;
    if (host_len != NULL)
        *host_len = hl;
    if (port != NULL)
        *port = colon != NULL ? p : -1;
    return NULL;
}

/* "http://host[:port][/path]" with a scheme from o->choices. */
const char *sl__cfg_check_url(const struct sl__cfg_opt *o, const char *s,
                              char *why, size_t cap)
{
    const char *rest = strstr(s, "://"), *auth, *at, *path;
    size_t i, alen;
    bool redis = sl_str_prefix_ci(s, "redis://");
    long port;
    bool ok = false;

    if (rest != NULL)
        for (i = 0; o->choices[i] != NULL; i++)
            if ((size_t)(rest - s) == strlen(o->choices[i]) &&
                sl_str_prefix_ci(s, o->choices[i]))
                ok = true;
    if (!ok) {
        char list[96];
        sl__cfg_choices(o->choices, "://", list, sizeof(list));
        snprintf(why, cap, "expected an absolute %s URL", list);
        return why;
    }
    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
            return "a URL cannot contain spaces, control or non-ASCII "
                   "characters";
    if (strpbrk(s, "?#") != NULL)
        return "a URL here cannot have a query or a fragment";
    auth = rest + 3;
    path = strchr(auth, '/');
    alen = path != NULL ? (size_t)(path - auth) : strlen(auth);
    at = memchr(auth, '@', alen);
    if (at != NULL) {
        if (!redis)
            return "a URL here cannot carry credentials";
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    if (alen == 0)
        return "the URL has no host";
    rest = sl__cfg_hostport(auth, alen, false, NULL, &port);
    if (rest != NULL)
        return rest;
    if (port == 0)
        return "port out of range (1-65535)";
    if (redis && path != NULL) {
        /* redis://host/N: the path is the database number. */
        for (i = 1; path[i] != '\0'; i++)
            if (!cfg_is_digit(path[i]) || i > 5)
                return "the path of a redis:// URL is the database number "
                       "(redis://host:6379/0)";
    }
    return NULL;
}

/*
 * The length of URL 's' to keep: brokers append "/ns/name" to an http(s)
 * URL, so trailing slashes of its path are dropped.
 */
size_t sl__cfg_url_len(const char *s)
{
    const char *auth = strstr(s, "://") + 3;
    const char *path = strchr(auth, '/');
    size_t n = strlen(s);

    if (!sl_str_prefix_ci(s, "http") || path == NULL)
        return n;
    while (s + n > path && s[n - 1] == '/')
        n--;
    return n;
}

const char *sl__cfg_parse_size(const struct sl__cfg_opt *o, const char *s,
                               int64_t *out, char *why, size_t cap)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "k", 1000 },
        { "kB", 1000 },
        { "KB", 1000 },
        { "Ki", SL__CFG_KIB },
        { "KiB", SL__CFG_KIB },
        { "M", 1000000 },
        { "MB", 1000000 },
        { "Mi", SL__CFG_MIB },
        { "MiB", SL__CFG_MIB },
        { "G", 1000000000 },
        { "GB", 1000000000 },
        { "Gi", SL__CFG_GIB },
        { "GiB", SL__CFG_GIB },
    };
    char lo[32], hi[32];
    size_t i, k = 0;
    int64_t v;

    while (cfg_is_digit(s[k]))
        k++;
    for (i = 0; k > 0 && i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(s + k, units[i].unit) == 0)
            break;
    if (k == 0 || i == sizeof(units) / sizeof(units[0]))
        return "expected a size such as 1048576, 512KiB or 3MiB";
    if (sl_str_to_i64(s, k, false, 0, INT64_MAX, &v) < 0 ||
        v > INT64_MAX / units[i].mult || v * units[i].mult < o->min ||
        v * units[i].mult > o->max) {
        sl__cfg_fmt_size(o->min, lo, sizeof(lo));
        sl__cfg_fmt_size(o->max, hi, sizeof(hi));
        snprintf(why, cap, "must be from %s to %s", lo, hi);
        return why;
    }
    *out = v * units[i].mult;
    return NULL;
}

const char *sl__cfg_parse_duration(const struct sl__cfg_opt *o, const char *s,
                                   int64_t *out, char *why, size_t cap)
{
    char lo[SL_DURATION_MAX], hi[SL_DURATION_MAX];
    int64_t ns;
    int rc = sl_duration_parse(s, &ns, NULL);

    if (rc == SL_EINVAL)
        return "expected an ISO-8601 duration such as PT30S or PT1M30S";
    if (rc < 0 || ns < o->min || ns > o->max) {
        sl_duration_format(o->min, lo, sizeof(lo));
        sl_duration_format(o->max, hi, sizeof(hi));
        snprintf(why, cap, "must be from %s to %s", lo, hi);
        return why;
    }
    *out = ns;
    return NULL;
}

const char *sl__cfg_parse_bool(const char *s, bool *out)
{
    if (sl_str_eq_ci(s, "true") || strcmp(s, "1") == 0)
        *out = true;
    else if (sl_str_eq_ci(s, "false") || strcmp(s, "0") == 0)
        *out = false;
    else
        return "expected true or false";
    return NULL;
}
