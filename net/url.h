/*
 * net/url.h - the parts of URLs the HTTP server and its users need: path
 * segments, query parameters, percent-decoding and "host:port" addresses.
 *
 * Pure functions, no I/O; any thread. Decoding follows what Go's net/url
 * does (Kubernetes and Knative are written in Go), with one addition: a
 * value that would decode to a NUL byte is refused, because the results are
 * C strings.
 */
#ifndef SL_NET_URL_H
#define SL_NET_URL_H

#include <stdbool.h>
#include <stddef.h>

struct sl_buf;
struct sl_diag;

/*
 * Append the percent-decoding of s[0..n) to 'out': "%XY" (either hex case)
 * becomes the byte 0xXY, and with 'plus' a '+' becomes a space (query
 * strings; in paths '+' is itself). Returns 0, SL_EINVAL ('%' not followed
 * by two hex digits, or "%00") or SL_ETOOBIG ('out' is full); on failure
 * 'out' is left as it was.
 */
int sl_http_pct_decode(const char *s, size_t n, bool plus, struct sl_buf *out);

/* The decoded segments of a path. */
struct sl_http_path {
    char **seg; /* 'n' NUL-terminated segments (NULL when n == 0) */
    size_t n;
    char *store; /* backing storage of the segments */
};

/*
 * Split the absolute path 'path' (no query) at each '/' and percent-decode
 * every segment on its own, so "%2F" inside a segment stays part of it:
 *   "/"          -> (no segments)
 *   "/a/b%2Fc"   -> "a", "b/c"
 *   "/a//b/"     -> "a", "", "b", ""   (empty segments are kept: a
 *                                        trailing slash is visible)
 * '+' is not special. Returns 0, or SL_EINVAL when 'path' does not start
 * with '/' or a segment has a bad escape or decodes to a NUL byte. '*out'
 * is always initialised; release it with sl_http_path_fini().
 */
int sl_http_path_split(const char *path, struct sl_http_path *out);

/* Free what sl_http_path_split() stored; the struct may be reused. */
void sl_http_path_fini(struct sl_http_path *p);

/* One query parameter, decoded and owned. */
struct sl_http_param {
    char *name;
    char *value;
};

/* Parsed query parameters, in the order they appeared. */
struct sl_http_query {
    struct sl_http_param *v;
    size_t n;
};

/*
 * Parse the query string qs[0..len) (without the '?') the way Go's
 * url.ParseQuery does: pairs are separated by '&'; a pair without '=' has
 * the value ""; names and values are percent-decoded with '+' as space;
 * empty pairs are skipped; a pair with a bad escape, a ';' (Go 1.17 and
 * later), or a NUL after decoding is dropped and the rest kept. Returns
 * the number of pairs dropped. '*out' is always initialised; release it
 * with sl_http_query_fini().
 */
size_t sl_http_query_parse(const char *qs, size_t len,
                           struct sl_http_query *out);

/*
 * The value of the first parameter named 'name' (case-sensitive), "" for a
 * parameter without '=', or NULL when absent. Borrowed from 'q'.
 */
const char *sl_http_query_get(const struct sl_http_query *q, const char *name);

/* Free what sl_http_query_parse() stored; the struct may be reused. */
void sl_http_query_fini(struct sl_http_query *q);

/*
 * Split "host:port" or "[v6-literal]:port" into 'host' (brackets removed,
 * at most 'hostlen' bytes with the NUL) and '*port' (0..65535, decimal).
 * The host must not be empty. Returns 0, or SL_EINVAL with a message in
 * 'd' naming the address ("invalid address 'x': missing port").
 */
int sl_http_hostport_split(const char *addr, char *host, size_t hostlen,
                           unsigned *port, struct sl_diag *d);

#endif
