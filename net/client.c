/*
 * net/client.c - the blocking HTTP client over libcurl easy handles.
 *
 * One easy handle per call. Response headers are collected from the header
 * callback and reset at every status line, so only the final response's
 * headers remain (an interim "100 Continue" leaves none behind). The body
 * goes into a bounded buffer, or, for a 2xx stream, through a bounded line
 * buffer to the caller's callback. libcurl's result codes are mapped to
 * SL_E* codes and one-line messages in cli_map_error(), and nowhere else.
 */
#include "net/client.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/str.h"

#define CLI_DEFAULT_TIMEOUT_MS         30000L
#define CLI_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define CLI_DEFAULT_MAX_BODY           (16u * 1024 * 1024)
#define CLI_MAX_HEADER_BYTES           (256 * 1024)

struct cli_ctx {
    struct sl_http_client_resp *resp;
    CURL *h;
    size_t max_body;
    size_t header_bytes;
    bool too_big;
    bool headers_too_big;

    /* streaming */
    bool streaming;
    int mode; /* 0 undecided, 1 lines (2xx), 2 collect body */
    sl_http_line_fn *fn;
    void *arg;
    bool stopped;
    struct sl_buf line;
};

static pthread_once_t cli_once = PTHREAD_ONCE_INIT;
static CURLcode cli_init_rc = CURLE_FAILED_INIT;

static void cli_global_init_once(void)
{
    cli_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int sl_http_client_global_init(void)
{
    pthread_once(&cli_once, cli_global_init_once);
    return cli_init_rc == CURLE_OK ? 0 : SL_EIO;
}

/* ---- callbacks ---- */

static size_t cli_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct cli_ctx *c = ud;
    size_t n = size * nmemb;

    c->header_bytes += n;
    if (c->header_bytes > CLI_MAX_HEADER_BYTES) {
        c->headers_too_big = true;
        return 0;
    }
    sl_http_headers_add_line(&c->resp->headers, data, n);
    return n;
}

/* Hand complete lines of p[0..n) to the callback. Returns false to stop. */
static bool cli_feed_lines(struct cli_ctx *c, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        size_t len;

        if (sl_buf_append(&c->line, p, take) < 0) {
            c->too_big = true;
            return false;
        }
        if (nl == NULL)
            return true;
        p += take + 1;
        n -= take + 1;
        len = c->line.len;
        if (len > 0 && c->line.data[len - 1] == '\r')
            c->line.data[--len] = '\0';
        if (c->fn(c->arg, c->line.data ? c->line.data : "", len) != 0) {
            c->stopped = true;
            return false;
        }
        sl_buf_reset(&c->line);
    }
    return true;
}

static size_t cli_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct cli_ctx *c = ud;
    size_t n = size * nmemb;

    if (c->streaming && c->mode == 0) {
        long code = 0;
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
        c->mode = code >= 200 && code <= 299 ? 1 : 2;
    }
    if (c->streaming && c->mode == 1)
        return cli_feed_lines(c, data, n) ? n : 0;
    if (sl_buf_append(&c->resp->body, data, n) < 0) {
        c->too_big = true;
        return 0;
    }
    return n;
}

/* ---- request set-up ---- */

static bool cli_clean(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

/*
 * The "host:port" the URL names (for messages), into 'out'. Returns 0 or
 * SL_EINVAL when libcurl cannot parse the URL.
 */
static int cli_authority(const char *url, char *out, size_t n,
                         struct sl_diag *d)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    CURLUcode uc;
    int rc = 0;

    if (u == NULL)
        return sl_diag_set(d, SL_EIO, "", "cannot parse URL: out of memory");
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc != CURLUE_OK) {
        rc = sl_diag_set(d, SL_EINVAL, "", "invalid URL '%s': %s", url,
                         curl_url_strerror(uc));
        goto out;
    }
    snprintf(out, n, "%s:%s", host, port);
out:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static int cli_setup(CURL *h, const struct sl_http_client_req *rq,
                     struct curl_slist **plist, struct sl_diag *d)
{
    struct curl_slist *list = NULL, *next;
    const char *method = rq->method;
    bool has_ct = false;
    struct sl_buf line;
    long timeout = rq->timeout_ms, connect = rq->connect_timeout_ms;
    size_t i;
    int rc = 0;

    if (method == NULL)
        method = rq->body != NULL ? "POST" : "GET";
    if (method[0] == '\0' || !cli_clean(method) || strchr(method, ' '))
        return sl_diag_set(d, SL_EINVAL, "", "invalid HTTP method '%s'",
                           method);
    sl_buf_init(&line, SL_BUF_UNLIMITED);
    for (i = 0; i < rq->nheaders; i++) {
        const struct sl_http_header *hd = &rq->headers[i];
        if (hd->name[0] == '\0' || !cli_clean(hd->name) ||
            strchr(hd->name, ':') || !cli_clean(hd->value)) {
            rc = sl_diag_set(d, SL_EINVAL, "", "invalid request header '%s'",
                             hd->name);
            goto out;
        }
        if (sl_str_eq_ci(hd->name, "Content-Type"))
            has_ct = true;
        sl_buf_reset(&line);
        /* curl sends "Name;" as a header with an empty value. */
        if (hd->value[0] == '\0')
            (void)sl_buf_appendf(&line, "%s;", hd->name);
        else
            (void)sl_buf_appendf(&line, "%s: %s", hd->name, hd->value);
        next = curl_slist_append(list, sl_buf_str(&line));
        if (next == NULL)
            goto oom;
        list = next;
    }
    if (rq->bearer_token != NULL) {
        if (!cli_clean(rq->bearer_token)) {
            rc = sl_diag_set(d, SL_EINVAL, "", "invalid bearer token");
            goto out;
        }
        sl_buf_reset(&line);
        (void)sl_buf_appendf(&line, "Authorization: Bearer %s",
                             rq->bearer_token);
        if ((next = curl_slist_append(list, sl_buf_str(&line))) == NULL)
            goto oom;
        list = next;
    }
    /* No 100-continue round trip, no form Content-Type of our own. */
    if ((next = curl_slist_append(list, "Expect:")) == NULL)
        goto oom;
    list = next;
    if (!has_ct) {
        if ((next = curl_slist_append(list, "Content-Type:")) == NULL)
            goto oom;
        list = next;
    }

    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (rq->body != NULL || strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(rq->body ? rq->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (connect <= 0)
        connect = CLI_DEFAULT_CONNECT_TIMEOUT_MS;
    if (timeout > 0 && timeout < connect)
        connect = timeout;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    if (timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    *plist = list;
    list = NULL;
    goto out;
oom:
    rc = sl_diag_set(d, SL_ENOMEM, "",
                     "cannot build the request: out of "
                     "memory");
out:
    curl_slist_free_all(list);
    sl_buf_fini(&line);
    return rc;
}

/* Map a libcurl failure to an SL_E* code and a message (the only place). */
static int cli_map_error(CURL *h, CURLcode cc, const struct cli_ctx *c,
                         const char *where, const char *errbuf,
                         struct sl_diag *d)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    curl_off_t connect_us = 0;
    long os_errno = 0, timeout = 0;

    if (c->too_big)
        return sl_diag_set(d, SL_ETOOBIG, "",
                           c->streaming && c->mode == 1
                               ? "a line of the response from '%s' exceeds "
                                 "%zu bytes"
                               : "response from '%s' exceeds %zu bytes",
                           where, c->max_body);
    if (c->headers_too_big)
        return sl_diag_set(d, SL_ETOOBIG, "",
                           "response headers from '%s' exceed %d bytes", where,
                           CLI_MAX_HEADER_BYTES);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        return sl_diag_set(d, SL_EIO, "", "cannot connect to '%s': %s", where,
                           os_errno ? strerror((int)os_errno) : detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return sl_diag_set(d, SL_EIO, "", "cannot resolve '%s': %s", where,
                           detail);
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us == 0) {
            curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &connect_us);
            timeout = (long)(connect_us / 1000);
            return sl_diag_set(d, SL_ETIMEDOUT, "",
                               "cannot connect to '%s': timed out after %ld "
                               "ms",
                               where, timeout);
        }
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &connect_us);
        return sl_diag_set(d, SL_ETIMEDOUT, "",
                           "request to '%s' timed out after %ld ms", where,
                           (long)(connect_us / 1000));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return sl_diag_set(d, SL_EINVAL, "", "invalid URL for '%s': %s", where,
                           detail);
    case CURLE_WEIRD_SERVER_REPLY:
        return sl_diag_set(d, SL_EPROTO, "", "bad response from '%s': %s",
                           where, detail);
    case CURLE_OUT_OF_MEMORY:
        return sl_diag_set(d, SL_ENOMEM, "", "request to '%s' failed: %s",
                           where, detail);
    default:
        return sl_diag_set(d, SL_EIO, "", "request to '%s' failed: %s", where,
                           detail);
    }
}

static void cli_resp_init(struct sl_http_client_resp *resp, size_t max)
{
    resp->status = 0;
    sl_http_headers_init(&resp->headers);
    sl_buf_init(&resp->body, max);
}

static int cli_perform(const struct sl_http_client_req *rq, bool streaming,
                       sl_http_line_fn *fn, void *arg,
                       struct sl_http_client_resp *resp, struct sl_diag *d)
{
    struct cli_ctx c;
    struct curl_slist *list = NULL;
    char errbuf[CURL_ERROR_SIZE], where[300];
    size_t max = rq->max_body ? rq->max_body : CLI_DEFAULT_MAX_BODY;
    CURLcode cc;
    long code = 0;
    int rc;

    cli_resp_init(resp, max);
    memset(&c, 0, sizeof(c));
    c.resp = resp;
    c.max_body = max;
    c.streaming = streaming;
    c.fn = fn;
    c.arg = arg;
    sl_buf_init(&c.line, max);
    errbuf[0] = '\0';
    if (sl_http_client_global_init() < 0) {
        rc = sl_diag_set(d, SL_EIO, "", "cannot initialise libcurl");
        goto out;
    }
    if (rq->url == NULL) {
        rc = sl_diag_set(d, SL_EINVAL, "", "missing URL");
        goto out;
    }
    rc = cli_authority(rq->url, where, sizeof(where), d);
    if (rc < 0)
        goto out;
    c.h = curl_easy_init();
    if (c.h == NULL) {
        rc = sl_diag_set(d, SL_EIO, "", "cannot create a libcurl handle");
        goto out;
    }
    if (!streaming && rq->timeout_ms <= 0) {
        struct sl_http_client_req copy = *rq;
        copy.timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
        rc = cli_setup(c.h, &copy, &list, d);
    } else {
        rc = cli_setup(c.h, rq, &list, d);
    }
    if (rc < 0)
        goto out;
    curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, cli_on_header);
    curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &c);
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, cli_on_body);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
    cc = curl_easy_perform(c.h);
    curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
    resp->status = (int)code;
    if (cc != CURLE_OK && !c.stopped) {
        rc = cli_map_error(c.h, cc, &c, where, errbuf, d);
        goto out;
    }
    /* A last line without "\n". */
    if (streaming && c.mode == 1 && !c.stopped && c.line.len > 0) {
        size_t len = c.line.len;
        if (c.line.data[len - 1] == '\r')
            c.line.data[--len] = '\0';
        (void)c.fn(c.arg, c.line.data, len);
    }
    rc = 0;
out:
    if (c.h != NULL)
        curl_easy_cleanup(c.h);
    curl_slist_free_all(list);
    sl_buf_fini(&c.line);
    return rc;
}

int sl_http_client_do(const struct sl_http_client_req *rq,
                      struct sl_http_client_resp *resp, struct sl_diag *d)
{
    return cli_perform(rq, false, NULL, NULL, resp, d);
}

int sl_http_client_stream(const struct sl_http_client_req *rq,
                          sl_http_line_fn *fn, void *arg,
                          struct sl_http_client_resp *resp, struct sl_diag *d)
{
    return cli_perform(rq, true, fn, arg, resp, d);
}

const char *sl_http_client_resp_header(const struct sl_http_client_resp *resp,
                                       const char *name)
{
    return sl_http_headers_get(&resp->headers, name);
}

void sl_http_client_resp_fini(struct sl_http_client_resp *resp)
{
    sl_http_headers_fini(&resp->headers);
    sl_buf_fini(&resp->body);
    resp->status = 0;
}
