/*
 * net/url.c - percent-decoding, path segments, query strings and
 * "host:port" addresses (contracts in net/url.h).
 */
#include "net/url.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

static int url_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sl_http_pct_decode(const char *s, size_t n, bool plus, struct sl_buf *out)
{
    size_t start = out->len, i = 0;
    int rc = 0;

    while (i < n) {
        /* Copy the run up to the next byte that needs work in one go. */
        size_t j = i;
        while (j < n && s[j] != '%' && !(plus && s[j] == '+'))
            j++;
        if (j > i) {
            rc = sl_buf_append(out, s + i, j - i);
            if (rc < 0)
                goto out;
            i = j;
            continue;
        }
        if (s[i] == '+') {
            rc = sl_buf_appendc(out, ' ');
            i++;
        } else {
            int hi = -1, lo = -1;
            if (n - i >= 3) {
                hi = url_hex(s[i + 1]);
                lo = url_hex(s[i + 2]);
            }
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                rc = SL_EINVAL;
                goto out;
            }
            rc = sl_buf_appendc(out, (char)(hi * 16 + lo));
            i += 3;
        }
        if (rc < 0)
            goto out;
    }
out:
    if (rc < 0) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}

int sl_http_path_split(const char *path, struct sl_http_path *out)
{
    struct sl_buf b;
    size_t nseg = 0, i, len, *offs = NULL;
    const char *p, *end;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (path == NULL || path[0] != '/')
        return SL_EINVAL;
    if (path[1] == '\0')
        return 0;
    len = strlen(path);
    for (i = 0; i < len; i++)
        nseg += path[i] == '/';
    offs = sl_xmalloc(nseg * sizeof(*offs));
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    p = path + 1;
    for (i = 0; i < nseg; i++) {
        end = strchr(p, '/');
        if (end == NULL)
            end = path + len;
        offs[i] = b.len;
        rc = sl_http_pct_decode(p, (size_t)(end - p), false, &b);
        if (rc < 0)
            goto out;
        /* Each segment ends with its own NUL inside the store. */
        rc = sl_buf_append(&b, "", 1);
        if (rc < 0)
            goto out;
        p = end + 1;
    }
    out->store = sl_buf_steal(&b, NULL);
    out->seg = sl_xmalloc(nseg * sizeof(*out->seg));
    for (i = 0; i < nseg; i++)
        out->seg[i] = out->store + offs[i];
    out->n = nseg;
out:
    sl_buf_fini(&b);
    sl_free(offs);
    return rc;
}

void sl_http_path_fini(struct sl_http_path *p)
{
    sl_free(p->seg);
    sl_free(p->store);
    memset(p, 0, sizeof(*p));
}

/* Decode one query component into a new string; NULL when it is invalid. */
static char *url_query_part(const char *s, size_t n)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    if (sl_http_pct_decode(s, n, true, &b) < 0) {
        sl_buf_fini(&b);
        return NULL;
    }
    return sl_buf_steal(&b, NULL);
}

size_t sl_http_query_parse(const char *qs, size_t len,
                           struct sl_http_query *out)
{
    size_t i = 0, cap = 0, dropped = 0;

    memset(out, 0, sizeof(*out));
    while (i < len) {
        const char *pair = qs + i, *amp, *eq;
        size_t plen;
        char *name, *value;

        amp = memchr(pair, '&', len - i);
        plen = amp ? (size_t)(amp - pair) : len - i;
        i += plen + (amp != NULL);
        if (plen == 0)
            continue;
        if (memchr(pair, ';', plen) != NULL) {
            dropped++;
            continue;
        }
        eq = memchr(pair, '=', plen);
        name = url_query_part(pair, eq ? (size_t)(eq - pair) : plen);
        value = eq ? url_query_part(eq + 1, plen - (size_t)(eq - pair) - 1)
                   : sl_xstrdup("");
        if (name == NULL || value == NULL) {
            sl_free(name);
            sl_free(value);
            dropped++;
            continue;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->v = sl_xrealloc(out->v, cap * sizeof(*out->v));
        }
        out->v[out->n].name = name;
        out->v[out->n].value = value;
        out->n++;
    }
    return dropped;
}

const char *sl_http_query_get(const struct sl_http_query *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->n; i++)
        if (strcmp(q->v[i].name, name) == 0)
            return q->v[i].value;
    return NULL;
}

void sl_http_query_fini(struct sl_http_query *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        sl_free(q->v[i].name);
        sl_free(q->v[i].value);
    }
    sl_free(q->v);
    memset(q, 0, sizeof(*q));
}

int sl_http_hostport_split(const char *addr, char *host, size_t hostlen,
                           unsigned *port, struct sl_diag *d)
{
    const char *h, *hend, *colon;
    int64_t v;

    if (addr == NULL)
        return sl_diag_set(d, SL_EINVAL, "", "missing address");
    if (addr[0] == '[') {
        h = addr + 1;
        hend = strchr(h, ']');
        if (hend == NULL)
            return sl_diag_set(d, SL_EINVAL, "",
                               "invalid address '%s': missing ']'", addr);
        colon = hend + 1;
        if (*colon != ':')
            return sl_diag_set(d, SL_EINVAL, "",
                               "invalid address '%s': missing port", addr);
    } else {
        h = addr;
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return sl_diag_set(d, SL_EINVAL, "",
                               "invalid address '%s': missing port", addr);
        hend = colon;
        if (memchr(h, ':', (size_t)(hend - h)) != NULL)
            return sl_diag_set(d, SL_EINVAL, "",
                               "invalid address '%s': put an IPv6 host in "
                               "brackets, like '[::1]:8080'",
                               addr);
    }
    if (hend == h)
        return sl_diag_set(d, SL_EINVAL, "",
                           "invalid address '%s': missing host", addr);
    if ((size_t)(hend - h) >= hostlen)
        return sl_diag_set(d, SL_EINVAL, "",
                           "invalid address '%s': host too long", addr);
    if (sl_str_to_i64(colon + 1, strlen(colon + 1), false, 0, 65535, &v) < 0)
        return sl_diag_set(d, SL_EINVAL, "",
                           "invalid address '%s': port must be 0 to 65535",
                           addr);
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = (unsigned)v;
    return 0;
}
