/*
 * core/url.c - RFC 3986 URI references: strict parser, recomposition
 * (section 5.3) and reference resolution (section 5.2).
 *
 * The parser walks the text once, left to right: scheme, "//" authority,
 * path, "?" query, "#" fragment, checking each character against the set
 * the grammar allows in that component, so an error can name the first
 * offending offset.
 */
#include "core/url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

/* ---- character classes ---- */

static bool url_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool url_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool url_hex(char c)
{
    return url_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool url_unreserved(char c)
{
    return url_alpha(c) || url_digit(c) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static bool url_subdelim(char c)
{
    return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

static bool url_scheme_char(char c)
{
    return url_alpha(c) || url_digit(c) || c == '+' || c == '-' || c == '.';
}

/* ---- diagnostics ---- */

/* Name the byte at s[i] as the fault in component 'where'. */
static int url_bad(struct sl_diag *diag, const char *s, size_t i,
                   const char *where)
{
    unsigned char c = (unsigned char)s[i];

    if (c == '%')
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid percent-encoding in %s at offset %zu",
                           where, i);
    if (c >= 0x20 && c < 0x7f)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid character '%c' in %s at offset %zu", c,
                           where, i);
    return sl_diag_set(diag, SL_EINVAL, NULL,
                       "invalid byte 0x%02X in %s at offset %zu", c, where, i);
}

/*
 * Check s[a..e): each byte unreserved, a sub-delim, one of 'extra', or a
 * %XY escape. Returns 0 or SL_EINVAL naming the first bad byte.
 */
static int url_scan(const char *s, size_t a, size_t e, const char *extra,
                    const char *where, struct sl_diag *diag)
{
    size_t i;

    for (i = a; i < e; i++) {
        char c = s[i];
        if (url_unreserved(c) || url_subdelim(c) ||
            (c != '\0' && strchr(extra, c) != NULL))
            continue;
        if (c == '%' && i + 2 < e && url_hex(s[i + 1]) && url_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return url_bad(diag, s, i, where);
    }
    return 0;
}

/* ---- authority ---- */

/* An IPv6 address (with an optional RFC 6874 zone) or IPvFuture. */
static int url_ip_literal(const char *s, size_t a, size_t e,
                          struct sl_diag *diag)
{
    char addr[64];
    unsigned char bin[16];
    size_t i, z;

    if (a < e && (s[a] == 'v' || s[a] == 'V')) {
        /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        for (i = a + 1; i < e && url_hex(s[i]); i++)
            ;
        if (i == a + 1 || i >= e || s[i] != '.')
            return url_bad(diag, s, i < e ? i : a, "IP literal");
        if (i + 1 >= e)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "empty IPvFuture address at offset %zu", i);
        return url_scan(s, i + 1, e, ":", "IP literal", diag);
    }
    for (z = a; z < e && s[z] != '%'; z++)
        ;
    if (z - a == 0 || z - a >= sizeof(addr))
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid IPv6 address at offset %zu", a);
    memcpy(addr, s + a, z - a);
    addr[z - a] = '\0';
    if (inet_pton(AF_INET6, addr, bin) != 1)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid IPv6 address '%s' at offset %zu", addr, a);
    if (z < e) {
        /* ZoneID: "%25" then 1*( unreserved / pct-encoded ). */
        if (e - z < 4 || s[z + 1] != '2' || s[z + 2] != '5')
            return url_bad(diag, s, z, "IPv6 zone");
        return url_scan(s, z + 3, e, "", "IPv6 zone", diag);
    }
    return 0;
}

/* Parse the authority s[a..e) into u->userinfo, u->host, u->port. */
static int url_authority(const char *s, size_t a, size_t e, struct sl_url *u,
                         struct sl_diag *diag)
{
    size_t at, h, hend, i;
    long port;
    int rc;

    for (at = a; at < e && s[at] != '@'; at++)
        ;
    h = a;
    if (at < e) {
        if ((rc = url_scan(s, a, at, ":", "userinfo", diag)) != 0)
            return rc;
        u->userinfo = sl_xstrndup(s + a, at - a);
        h = at + 1;
    }
    if (h < e && s[h] == '[') {
        for (hend = h; hend < e && s[hend] != ']'; hend++)
            ;
        if (hend == e)
            return sl_diag_set(diag, SL_EINVAL, NULL,
                               "missing ']' after IP literal at offset %zu", h);
        if ((rc = url_ip_literal(s, h + 1, hend, diag)) != 0)
            return rc;
        hend++;
        if (hend < e && s[hend] != ':')
            return url_bad(diag, s, hend, "host");
    } else {
        for (hend = h; hend < e && s[hend] != ':'; hend++)
            ;
        if ((rc = url_scan(s, h, hend, "", "host", diag)) != 0)
            return rc;
    }
    u->host = sl_xstrndup(s + h, hend - h);
    if (hend < e) {
        /* s[hend] == ':': the port is all digits, maybe none. */
        port = 0;
        for (i = hend + 1; i < e; i++) {
            if (!url_digit(s[i]))
                return url_bad(diag, s, i, "port");
            port = port * 10 + (s[i] - '0');
            if (port > 65535)
                return sl_diag_set(diag, SL_EINVAL, NULL,
                                   "port out of range at offset %zu", hend + 1);
        }
        u->port = hend + 1 < e ? (int)port : -1;
    }
    return 0;
}

/* ---- parse ---- */

void sl_url_fini(struct sl_url *u)
{
    if (u == NULL)
        return;
    sl_free(u->scheme);
    sl_free(u->userinfo);
    sl_free(u->host);
    sl_free(u->path);
    sl_free(u->query);
    sl_free(u->fragment);
    memset(u, 0, sizeof(*u));
    u->port = -1;
}

int sl_url_parse(const char *s, struct sl_url *out, struct sl_diag *diag)
{
    size_t n = strlen(s), i = 0, j, k;
    int rc;

    memset(out, 0, sizeof(*out));
    out->port = -1;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (url_alpha(s[0])) {
        for (j = 1; j < n && url_scheme_char(s[j]); j++)
            ;
        if (j < n && s[j] == ':') {
            out->scheme = sl_str_lower(sl_xstrndup(s, j));
            i = j + 1;
        }
    }
    if (s[i] == '/' && s[i + 1] == '/') {
        for (j = i + 2; j < n && s[j] != '/' && s[j] != '?' && s[j] != '#'; j++)
            ;
        if ((rc = url_authority(s, i + 2, j, out, diag)) != 0)
            goto fail;
        i = j;
    }
    for (j = i; j < n && s[j] != '?' && s[j] != '#'; j++)
        ;
    if ((rc = url_scan(s, i, j, ":@/", "path", diag)) != 0)
        goto fail;
    if (out->scheme == NULL && out->host == NULL) {
        /* path-noscheme: no ':' before the first '/'. */
        for (k = i; k < j && s[k] != '/'; k++) {
            if (s[k] == ':') {
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid character ':' in first path "
                                 "segment of a relative reference at offset "
                                 "%zu",
                                 k);
                goto fail;
            }
        }
    }
    out->path = sl_xstrndup(s + i, j - i);
    i = j;
    if (s[i] == '?') {
        for (j = i + 1; j < n && s[j] != '#'; j++)
            ;
        if ((rc = url_scan(s, i + 1, j, ":@/?", "query", diag)) != 0)
            goto fail;
        out->query = sl_xstrndup(s + i + 1, j - i - 1);
        i = j;
    }
    if (s[i] == '#') {
        if ((rc = url_scan(s, i + 1, n, ":@/?", "fragment", diag)) != 0)
            goto fail;
        out->fragment = sl_xstrdup(s + i + 1);
    }
    return 0;
fail:
    sl_url_fini(out);
    return rc;
}

int sl_url_parse_http(const char *s, struct sl_url *out, struct sl_diag *diag)
{
    int rc = sl_url_parse(s, out, diag);

    if (rc != 0)
        return rc;
    if (out->scheme == NULL)
        rc = sl_diag_set(diag, SL_EINVAL, NULL,
                         "not an absolute URL: missing scheme");
    else if (strcmp(out->scheme, "http") != 0 &&
             strcmp(out->scheme, "https") != 0)
        rc = sl_diag_set(diag, SL_EINVAL, NULL,
                         "unsupported scheme '%s': expected http or https",
                         out->scheme);
    else if (out->host == NULL || out->host[0] == '\0')
        rc = sl_diag_set(diag, SL_EINVAL, NULL, "missing host");
    else if (out->port == 0)
        rc = sl_diag_set(diag, SL_EINVAL, NULL, "invalid port 0");
    if (rc != 0)
        sl_url_fini(out);
    return rc;
}

bool sl_url_is_absolute(const struct sl_url *u)
{
    return u->scheme != NULL;
}

/* ---- recompose ---- */

char *sl_url_format(const struct sl_url *u)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    if (u->scheme != NULL)
        sl_buf_appendf(&b, "%s:", u->scheme);
    if (u->host != NULL) {
        sl_buf_appends(&b, "//");
        if (u->userinfo != NULL)
            sl_buf_appendf(&b, "%s@", u->userinfo);
        sl_buf_appends(&b, u->host);
        if (u->port >= 0)
            sl_buf_appendf(&b, ":%d", u->port);
    }
    if (u->path != NULL)
        sl_buf_appends(&b, u->path);
    if (u->query != NULL)
        sl_buf_appendf(&b, "?%s", u->query);
    if (u->fragment != NULL)
        sl_buf_appendf(&b, "#%s", u->fragment);
    return sl_buf_steal(&b, NULL);
}

/* ---- resolve ---- */

/* Drop the last segment of the output and its preceding '/'. */
static void url_pop_segment(struct sl_buf *b)
{
    size_t n = b->len;

    while (n > 0 && b->data[n - 1] != '/')
        n--;
    if (n > 0)
        n--;
    b->len = n;
    if (b->data != NULL)
        b->data[n] = '\0';
}

char *sl_url_remove_dots(const char *p, size_t n)
{
    struct sl_buf out;
    size_t i = 0, j;

    sl_buf_init(&out, SL_BUF_UNLIMITED);
    while (i < n) {
        const char *in = p + i;
        size_t left = n - i;

        if (left >= 3 && memcmp(in, "../", 3) == 0) {
            i += 3; /* A */
        } else if (left >= 2 && memcmp(in, "./", 2) == 0) {
            i += 2; /* A */
        } else if (left >= 3 && memcmp(in, "/./", 3) == 0) {
            i += 2; /* B: "/./" becomes "/" */
        } else if (left == 2 && memcmp(in, "/.", 2) == 0) {
            sl_buf_appendc(&out, '/'); /* B at the end */
            i = n;
        } else if (left >= 4 && memcmp(in, "/../", 4) == 0) {
            url_pop_segment(&out); /* C */
            i += 3;
        } else if (left == 3 && memcmp(in, "/..", 3) == 0) {
            url_pop_segment(&out); /* C at the end */
            sl_buf_appendc(&out, '/');
            i = n;
        } else if ((left == 1 && in[0] == '.') ||
                   (left == 2 && memcmp(in, "..", 2) == 0)) {
            i = n; /* D */
        } else {
            /* E: move "/segment" (or the leading "segment") across. */
            j = (in[0] == '/') ? 1 : 0;
            while (j < left && in[j] != '/')
                j++;
            sl_buf_append(&out, in, j);
            i += j;
        }
    }
    return sl_buf_steal(&out, NULL);
}

static char *url_dup(const char *s)
{
    return s != NULL ? sl_xstrdup(s) : NULL;
}

static void url_copy_authority(struct sl_url *t, const struct sl_url *from)
{
    t->userinfo = url_dup(from->userinfo);
    t->host = url_dup(from->host);
    t->port = from->port;
}

/* RFC 3986 section 5.2.3: merge a relative path onto the base path. */
static char *url_merge(const struct sl_url *base, const char *rpath)
{
    const char *bp = base->path != NULL ? base->path : "";
    const char *slash = strrchr(bp, '/');
    struct sl_buf b;
    char *merged, *out;
    size_t len;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    if (base->host != NULL && bp[0] == '\0')
        sl_buf_appendc(&b, '/');
    else if (slash != NULL)
        sl_buf_append(&b, bp, (size_t)(slash - bp) + 1);
    sl_buf_appends(&b, rpath);
    merged = sl_buf_steal(&b, &len);
    out = sl_url_remove_dots(merged, len);
    sl_free(merged);
    return out;
}

static char *url_dots(const char *path)
{
    const char *p = path != NULL ? path : "";

    return sl_url_remove_dots(p, strlen(p));
}

int sl_url_resolve(const struct sl_url *base, const struct sl_url *ref,
                   struct sl_url *t)
{
    const char *rpath = ref->path != NULL ? ref->path : "";

    memset(t, 0, sizeof(*t));
    t->port = -1;
    if (base->scheme == NULL)
        return SL_EINVAL;
    if (ref->scheme != NULL) {
        t->scheme = sl_xstrdup(ref->scheme);
        url_copy_authority(t, ref);
        t->path = url_dots(ref->path);
        t->query = url_dup(ref->query);
    } else {
        if (ref->host != NULL) {
            url_copy_authority(t, ref);
            t->path = url_dots(ref->path);
            t->query = url_dup(ref->query);
        } else {
            if (rpath[0] == '\0') {
                t->path = sl_xstrdup(base->path != NULL ? base->path : "");
                t->query =
                    url_dup(ref->query != NULL ? ref->query : base->query);
            } else {
                if (rpath[0] == '/')
                    t->path = url_dots(rpath);
                else
                    t->path = url_merge(base, rpath);
                t->query = url_dup(ref->query);
            }
            url_copy_authority(t, base);
        }
        t->scheme = sl_xstrdup(base->scheme);
    }
    t->fragment = url_dup(ref->fragment);
    return 0;
}

int sl_url_resolve_str(const char *base, const char *ref, char **out,
                       struct sl_diag *diag)
{
    struct sl_url b, r, t;
    char msg[SL_DIAG_MSG_MAX];
    int rc;

    *out = NULL;
    memset(&t, 0, sizeof(t));
    if ((rc = sl_url_parse(base, &b, diag)) != 0) {
        if (diag != NULL) {
            snprintf(msg, sizeof(msg), "%s", diag->msg);
            sl_diag_set(diag, rc, NULL, "invalid base URL: %s", msg);
        }
        return rc;
    }
    if ((rc = sl_url_parse(ref, &r, diag)) != 0) {
        if (diag != NULL) {
            snprintf(msg, sizeof(msg), "%s", diag->msg);
            sl_diag_set(diag, rc, NULL, "invalid reference: %s", msg);
        }
        sl_url_fini(&b);
        return rc;
    }
    rc = sl_url_resolve(&b, &r, &t);
    if (rc != 0)
        sl_diag_set(diag, rc, NULL, "base URL '%s' is not absolute", base);
    else
        *out = sl_url_format(&t);
    sl_url_fini(&t);
    sl_url_fini(&r);
    sl_url_fini(&b);
    return rc;
}
