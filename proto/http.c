/*
 * proto/http.c - the CloudEvents HTTP protocol binding (binary, structured
 * and batched content modes), both ways.
 *
 * Structured and batched bodies go to the JSON format (proto/json.c); this
 * file handles mode detection and binary mode, where every attribute is a
 * ce-* header whose value is percent-encoded (core/pct.c).
 *
 * Decisions beyond proto/http.h:
 * - An empty binary-mode body means "no data", as in sdk-go and Knative:
 *   HTTP cannot tell a zero-length body from none. So an event with
 *   zero-length data comes back from a binary hop without data.
 * - A ce-* header may repeat (in any case) only with the same value after
 *   decoding; differing values are SL_EINVAL. The same holds for
 *   Content-Type. An empty Content-Type counts as absent, as in sdk-go.
 * - Header values are taken as given: the HTTP server strips the optional
 *   whitespace around field values (RFC 7230 section 3.2.4), not us.
 * - In a v0.3 binary message a ce-datacontentencoding header is ignored:
 *   the v0.3 spec says the attribute MUST be ignored when the data is not
 *   a string, and a binary-mode body is bytes.
 * - An event whose datacontenttype starts with "application/cloudevents"
 *   (its data is itself an event or a batch) is written in structured
 *   mode even when binary mode was asked for: as a binary-mode
 *   Content-Type it would make the receiver take the message for a
 *   structured one. The Content-Type written tells the receiver.
 * - Failures in binary mode name the header in diag->field ("ce-time",
 *   "content-type"); failures in a structured or batched body name the
 *   JSON member as proto/json.c does, or "body" for a body that is not
 *   JSON at all.
 */
#include "proto/http.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/pct.h"
#include "core/str.h"
#include "proto/json.h"

#define HTTP_CT              "content-type"
#define HTTP_CE_PREFIX       "ce-"
#define HTTP_STRUCTURED_JSON "application/cloudevents+json"
#define HTTP_BATCH_JSON      "application/cloudevents-batch+json"
#define HTTP_STRUCTURED_CT   HTTP_STRUCTURED_JSON "; charset=UTF-8"
#define HTTP_BATCH_CT        HTTP_BATCH_JSON "; charset=UTF-8"

/* ---- encoder header lists ---- */

void sl_http_headers_init(struct sl_http_headers *h)
{
    h->v = NULL;
    h->n = 0;
    h->cap = 0;
}

void sl_http_headers_fini(struct sl_http_headers *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        sl_free(h->v[i].name);
        sl_free(h->v[i].value);
    }
    sl_free(h->v);
    sl_http_headers_init(h);
}

void sl_http_headers_add(struct sl_http_headers *h, const char *name,
                         const char *value)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = sl_xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    h->v[h->n].name = sl_xstrdup(name);
    h->v[h->n].value = sl_xstrdup(value);
    h->n++;
}

void sl_http_headers_add_line(struct sl_http_headers *h, const char *line,
                              size_t len)
{
    const char *colon, *v, *end;
    char *name, *value;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        sl_http_headers_fini(h);
        sl_http_headers_init(h);
        return;
    }
    colon = memchr(line, ':', len);
    if (colon == NULL || colon == line)
        return; /* the blank line, or a line that is not a header */
    end = line + len;
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    name = sl_xstrndup(line, (size_t)(colon - line));
    value = sl_xstrndup(v, (size_t)(end - v));
    sl_http_headers_add(h, name, value);
    sl_free(name);
    sl_free(value);
}

const char *sl_http_headers_get(const struct sl_http_headers *h,
                                const char *name)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (sl_str_eq_ci(h->v[i].name, name))
            return h->v[i].value;
    return NULL;
}

/* ---- mode detection ---- */

/*
 * True when the media type in 'ct' (parameters and surrounding whitespace
 * ignored) is exactly 'want', case-insensitively.
 */
static bool http_media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    char c;

    if (!sl_str_prefix_ci(ct, want))
        return false;
    c = ct[n];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

static const char *http_skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

enum sl_ce_mode sl_ce_http_mode(const char *content_type)
{
    const char *ct;

    if (content_type == NULL)
        return SL_CE_BINARY_MODE;
    ct = http_skip_ows(content_type);
    /* The batch prefix first: the structured one is a prefix of it. */
    if (sl_str_prefix_ci(ct, "application/cloudevents-batch"))
        return SL_CE_BATCH_MODE;
    if (sl_str_prefix_ci(ct, "application/cloudevents"))
        return SL_CE_STRUCTURED_MODE;
    return SL_CE_BINARY_MODE;
}

/* ---- decoding ---- */

/*
 * Find the one value of header 'name' in 'msg' into '*out' (NULL when
 * absent). Repeats must carry the same value. Returns 0 or SL_EINVAL.
 */
static int http_single(const struct sl_http_msg *msg, const char *name,
                       const char **out, struct sl_diag *diag)
{
    const char *v = NULL;
    size_t i;

    for (i = 0; i < msg->nheaders; i++) {
        const struct sl_http_header *h = &msg->headers[i];
        if (!sl_str_eq_ci(h->name, name))
            continue;
        if (v != NULL && strcmp(v, h->value) != 0) {
            *out = NULL;
            return sl_diag_set(diag, SL_EINVAL, name,
                               "header '%s' repeated with different values",
                               name);
        }
        v = h->value;
    }
    *out = v;
    return 0;
}

/*
 * Percent-decode header value 'value' into 'b' (reset first). On failure
 * 'diag' names 'hname'. Returns 0, SL_EINVAL or SL_ETOOBIG.
 */
static int http_decode_value(const char *hname, const char *value, bool lenient,
                             struct sl_buf *b, struct sl_diag *diag)
{
    struct sl_diag d;
    int rc;

    sl_buf_reset(b);
    sl_diag_clear(&d);
    rc = sl_pct_decode(value, strlen(value), lenient, b, &d);
    if (rc == SL_ETOOBIG)
        return sl_diag_set(diag, rc, hname,
                           "header '%s' exceeds the event size limit", hname);
    if (rc < 0)
        return sl_diag_set(diag, rc, hname, "%s", d.msg);
    return 0;
}

/*
 * Read ce-specversion (all copies must agree) and map it to a version.
 * Returns 0 or SL_EINVAL naming the header.
 */
static int http_binary_version(const struct sl_http_msg *msg, bool lenient,
                               size_t max, enum sl_ce_version *out,
                               struct sl_diag *diag)
{
    const char *name = HTTP_CE_PREFIX "specversion";
    struct sl_buf b, first;
    bool seen = false;
    size_t i;
    int rc = 0;

    sl_buf_init(&b, max);
    sl_buf_init(&first, max);
    for (i = 0; i < msg->nheaders; i++) {
        if (!sl_str_eq_ci(msg->headers[i].name, name))
            continue;
        rc = http_decode_value(name, msg->headers[i].value, lenient, &b, diag);
        if (rc < 0)
            goto out;
        if (!seen) {
            rc = sl_buf_append(&first, b.data, b.len);
            if (rc < 0)
                goto out;
            seen = true;
        } else if (b.len != first.len ||
                   memcmp(sl_buf_str(&b), sl_buf_str(&first), b.len) != 0) {
            rc =
                sl_diag_set(diag, SL_EINVAL, name,
                            "header '%s' repeated with different values", name);
            goto out;
        }
    }
    if (!seen) {
        rc = sl_diag_set(diag, SL_EINVAL, name, "missing required header '%s'",
                         name);
        goto out;
    }
    if (sl_ce_version_parse(sl_buf_str(&first), first.len, out) < 0) {
        rc = sl_diag_set(diag, SL_EINVAL, name,
                         "unsupported specversion '%.*s' (want 1.0 or 0.3)",
                         (int)(first.len > 64 ? 64 : first.len),
                         sl_buf_str(&first));
        goto out;
    }
out:
    sl_buf_fini(&b);
    sl_buf_fini(&first);
    return rc;
}

/*
 * Apply one ce-* header to 'ev'. 'hname' is the lower-cased header name;
 * the attribute name follows the prefix. 'b' is scratch space.
 */
static int http_binary_attr(struct sl_event *ev, const char *hname,
                            const char *value, bool lenient, struct sl_buf *b,
                            struct sl_diag *diag)
{
    const char *attr = hname + strlen(HTTP_CE_PREFIX);
    const struct sl_ce_attr *old;
    struct sl_diag d;
    int rc;

    if (strcmp(attr, "specversion") == 0)
        return 0; /* read and checked by http_binary_version */
    if (strcmp(attr, "datacontenttype") == 0)
        return sl_diag_set(diag, SL_EINVAL, hname,
                           "header '%s' is not allowed: datacontenttype "
                           "travels in Content-Type",
                           hname);
    if (!sl_ce_name_valid(attr, ev->version))
        return sl_diag_set(
            diag, SL_EINVAL, hname,
            "invalid attribute name '%s': only a-z and 0-9 "
            "are allowed%s",
            attr, ev->version == SL_CE_V03 ? ", starting with a letter" : "");
    if (ev->version == SL_CE_V03 && strcmp(attr, "datacontentencoding") == 0)
        return 0; /* see the file comment */
    rc = http_decode_value(hname, value, lenient, b, diag);
    if (rc < 0)
        return rc;
    old = sl_event_get(ev, attr);
    if (old != NULL) {
        if (old->len != b->len ||
            memcmp(old->value, sl_buf_str(b), b->len) != 0)
            return sl_diag_set(diag, SL_EINVAL, hname,
                               "header '%s' repeated with different values",
                               hname);
        return 0;
    }
    sl_diag_clear(&d);
    rc = sl_event_set(ev, attr, SL_CE_STRING, sl_buf_str(b), b->len, &d);
    if (rc < 0)
        return sl_diag_set(diag, rc, hname, "%s", d.msg);
    return 0;
}

/* Decode a binary-mode message into '*out' (validated, one reference). */
static int http_decode_binary(const struct sl_http_msg *msg, const char *ct,
                              const struct sl_ce_opts *opts,
                              struct sl_event **out, struct sl_diag *diag)
{
    size_t max = sl_ce_max_size(opts);
    bool lenient = opts == NULL || !opts->strict_headers;
    struct sl_event *ev = NULL;
    enum sl_ce_version ver;
    struct sl_diag d;
    struct sl_buf b;
    char *hname = NULL;
    size_t i;
    int rc;

    *out = NULL;
    sl_buf_init(&b, max);
    rc = http_binary_version(msg, lenient, max, &ver, diag);
    if (rc < 0)
        goto out;
    ev = sl_event_new(ver);
    for (i = 0; i < msg->nheaders; i++) {
        const struct sl_http_header *h = &msg->headers[i];
        if (!sl_str_prefix_ci(h->name, HTTP_CE_PREFIX))
            continue;
        hname = sl_str_lower(sl_xstrdup(h->name));
        rc = http_binary_attr(ev, hname, h->value, lenient, &b, diag);
        sl_free(hname);
        hname = NULL;
        if (rc < 0)
            goto out;
    }
    if (ct != NULL && ct[0] != '\0') {
        sl_diag_clear(&d);
        rc = sl_event_set(ev, "datacontenttype", SL_CE_STRING, ct, strlen(ct),
                          &d);
        if (rc < 0) {
            rc = sl_diag_set(diag, rc, HTTP_CT, "%s", d.msg);
            goto out;
        }
    }
    if (msg->body_len > 0)
        sl_event_set_data(ev, msg->body, msg->body_len);
    sl_diag_clear(&d);
    rc = sl_event_validate(ev, &d);
    if (rc < 0) {
        /* Name the header the sender has to add or fix. */
        char field[SL_DIAG_FIELD_MAX + 8];
        snprintf(field, sizeof(field), "%s%s", HTTP_CE_PREFIX, d.field);
        rc = sl_diag_set(diag, rc, field, "%s", d.msg);
        goto out;
    }
    if (sl_event_size(ev) > max) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "event of %zu bytes exceeds the limit of %zu",
                         sl_event_size(ev), max);
        goto out;
    }
    *out = ev;
    ev = NULL;
out:
    sl_event_unref(ev);
    sl_buf_fini(&b);
    return rc;
}

/*
 * A JSON-format failure with no field (the body is not JSON, or not an
 * object) is relabelled to name the body.
 */
static int http_json_fail(struct sl_diag *diag, int rc)
{
    char msg[SL_DIAG_MSG_MAX];

    if (diag == NULL || rc != SL_EINVAL || diag->field[0] != '\0')
        return rc;
    sl_strlcpy(msg, diag->msg, sizeof(msg));
    return sl_diag_set(diag, rc, "body", "%s", msg);
}

int sl_ce_http_decode(const struct sl_http_msg *msg,
                      const struct sl_ce_opts *opts, struct sl_event_list *out,
                      enum sl_ce_mode *pmode, struct sl_diag *diag)
{
    const char *body = msg->body != NULL ? msg->body : "";
    size_t max = sl_ce_max_size(opts);
    struct sl_event *ev = NULL;
    enum sl_ce_mode mode;
    const char *ct;
    int rc;

    rc = http_single(msg, HTTP_CT, &ct, diag);
    if (rc < 0)
        return rc;
    mode = sl_ce_http_mode(ct);
    if (pmode != NULL)
        *pmode = mode;
    if (msg->body_len > max)
        return sl_diag_set(diag, SL_ETOOBIG, "body",
                           "body of %zu bytes exceeds the limit of %zu",
                           msg->body_len, max);
    switch (mode) {
    case SL_CE_BINARY_MODE:
        rc = http_decode_binary(msg, ct, opts, &ev, diag);
        break;
    case SL_CE_STRUCTURED_MODE:
        if (!http_media_is(http_skip_ows(ct), HTTP_STRUCTURED_JSON))
            return sl_diag_set(diag, SL_ENOTSUP, HTTP_CT,
                               "unsupported event format '%s' (want %s)", ct,
                               HTTP_STRUCTURED_JSON);
        rc = sl_ce_json_decode(body, msg->body_len, opts, &ev, diag);
        if (rc < 0)
            rc = http_json_fail(diag, rc);
        break;
    case SL_CE_BATCH_MODE:
        if (!http_media_is(http_skip_ows(ct), HTTP_BATCH_JSON))
            return sl_diag_set(diag, SL_ENOTSUP, HTTP_CT,
                               "unsupported batch format '%s' (want %s)", ct,
                               HTTP_BATCH_JSON);
        rc = sl_ce_json_decode_batch(body, msg->body_len, opts, out, diag);
        return rc < 0 ? http_json_fail(diag, rc) : 0;
    default:
        return sl_diag_set(diag, SL_EINVAL, HTTP_CT, "unknown mode");
    }
    if (rc < 0)
        return rc;
    sl_event_list_push(out, ev);
    return 0;
}

/* ---- encoding ---- */

/* Binary mode: ce-specversion first, then the attributes in name order. */
static int http_encode_binary(const struct sl_event *ev,
                              struct sl_http_headers *hdrs, struct sl_buf *body)
{
    struct sl_buf name, value;
    const char *ct = NULL;
    size_t i;
    int rc = 0;

    sl_buf_init(&name, SL_BUF_UNLIMITED);
    sl_buf_init(&value, SL_BUF_UNLIMITED);
    sl_http_headers_add(hdrs, HTTP_CE_PREFIX "specversion",
                        sl_ce_version_str(ev->version));
    for (i = 0; i < ev->nattrs; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];
        if (strcmp(a->name, "specversion") == 0)
            continue;
        if (strcmp(a->name, "datacontenttype") == 0) {
            ct = a->value;
            continue;
        }
        sl_buf_reset(&name);
        sl_buf_reset(&value);
        rc = sl_buf_appends(&name, HTTP_CE_PREFIX);
        if (rc == 0)
            rc = sl_buf_appends(&name, a->name);
        if (rc == 0)
            rc = sl_pct_encode(a->value, a->len, &value);
        if (rc < 0)
            goto out;
        sl_http_headers_add(hdrs, sl_buf_str(&name), sl_buf_str(&value));
    }
    if (ct != NULL)
        sl_http_headers_add(hdrs, "Content-Type", ct);
    if (ev->has_data)
        rc = sl_buf_append(body, ev->data, ev->data_len);
out:
    sl_buf_fini(&name);
    sl_buf_fini(&value);
    return rc;
}

static int http_encode_structured(const struct sl_event *ev,
                                  struct sl_http_headers *hdrs,
                                  struct sl_buf *body)
{
    sl_http_headers_add(hdrs, "Content-Type", HTTP_STRUCTURED_CT);
    return sl_ce_json_encode(ev, body);
}

int sl_ce_http_encode(const struct sl_event *ev, enum sl_ce_mode mode,
                      struct sl_http_headers *hdrs, struct sl_buf *body)
{
    switch (mode) {
    case SL_CE_BINARY_MODE:
        /* A datacontenttype that would read as structured or batched mode
         * on receipt cannot travel in binary mode; see the file comment. */
        if (sl_ce_http_mode(sl_event_value(ev, "datacontenttype")) !=
            SL_CE_BINARY_MODE)
            return http_encode_structured(ev, hdrs, body);
        return http_encode_binary(ev, hdrs, body);
    case SL_CE_STRUCTURED_MODE:
        return http_encode_structured(ev, hdrs, body);
    case SL_CE_BATCH_MODE:
    default:
        return SL_EINVAL;
    }
}

int sl_ce_http_encode_batch(struct sl_event *const *evs, size_t n,
                            struct sl_http_headers *hdrs, struct sl_buf *body)
{
    sl_http_headers_add(hdrs, "Content-Type", HTTP_BATCH_CT);
    return sl_ce_json_encode_batch(evs, n, body);
}

/* ---- pass-through headers ---- */

bool sl_ce_http_header_passes(const char *name)
{
    return sl_str_eq_ci(name, "x-request-id") ||
           sl_str_eq_ci(name, "retry-after") ||
           sl_str_prefix_ci(name, "knative-") ||
           sl_str_prefix_ci(name, "x-b3-");
}

bool sl_ce_http_header_is_trace(const char *name)
{
    return sl_str_eq_ci(name, "traceparent") ||
           sl_str_eq_ci(name, "tracestate");
}

size_t sl_ce_http_keep_headers(struct sl_event *ev,
                               const struct sl_http_header *h, size_t n,
                               bool trace)
{
    size_t left_out = 0;

    for (size_t i = 0; i < n; i++) {
        if (h[i].name == NULL || h[i].value == NULL)
            continue;
        if (!sl_ce_http_header_passes(h[i].name) &&
            !(trace && sl_ce_http_header_is_trace(h[i].name)))
            continue;
        if (sl_event_header_add(ev, h[i].name, h[i].value) < 0)
            left_out++;
    }
    return left_out;
}
