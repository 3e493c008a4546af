/*
 * test/fuzz/fuzz_http.c - libFuzzer target for the CloudEvents HTTP binding.
 *
 * The input is a small framed HTTP message: header lines "name: value"
 * (the value after the colon and any spaces or tabs; a line without a
 * colon is skipped, except that a first line "strict" turns on
 * strict_headers), a blank line, then the body. It is decoded with a
 * small size limit. Every event that decodes is re-encoded in binary and
 * in structured mode (and all of them as a batch), decoded again, and
 * must come back with the same attributes and data: a differential
 * round-trip oracle. Nothing may leak.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "proto/http.h"

#define FUZZ_MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

/*
 * Parse p[0..n) as one JSON value the way proto/json.c does (strict, a
 * bare number complete at the end, trailing whitespace allowed), with a
 * deeper nesting limit so that whatever it takes for JSON, we do too.
 */
static struct json_object *fuzz_json_parse(const void *p, size_t n)
{
    struct json_tokener *tok = json_tokener_new_ex(256);
    struct json_object *obj;
    enum json_tokener_error err;
    size_t end;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, p, (int)n);
    err = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (err == json_tokener_continue) {
        obj = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
        end = n;
    }
    for (; err == json_tokener_success && end < n; end++)
        if (strchr(" \t\r\n", ((const char *)p)[end]) == NULL ||
            ((const char *)p)[end] == '\0')
            err = json_tokener_error_parse_unexpected;
    json_tokener_free(tok);
    if (err != json_tokener_success) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

/*
 * Compare JSON data: -1 when p[0..n) is not JSON (compare bytes instead),
 * else 0 when q[0..m) is the same JSON value and 1 when it is not.
 */
static int fuzz_json_cmp(const void *p, size_t n, const void *q, size_t m)
{
    struct json_object *a = fuzz_json_parse(p, n), *b;
    int rc;

    if (a == NULL)
        return -1;
    b = fuzz_json_parse(q, m);
    rc = b != NULL && json_object_equal(a, b) ? 0 : 1;
    json_object_put(a);
    json_object_put(b);
    return rc;
}

/* Abort unless 'b' carries the attributes and data of 'a'. */
static void fuzz_same(const struct sl_event *a, const struct sl_event *b,
                      bool binary)
{
    size_t i;

    if (a->version != b->version || a->nattrs != b->nattrs)
        abort();
    for (i = 0; i < a->nattrs; i++) {
        const struct sl_ce_attr *x = &a->attrs[i], *y = &b->attrs[i];
        if (strcmp(x->name, y->name) != 0 || x->len != y->len ||
            memcmp(x->value, y->value, x->len) != 0)
            abort();
        /* Binary mode carries strings: extensions lose their type. */
        if (x->type != y->type && !(binary && y->type == SL_CE_STRING &&
                                    sl_ce_core_type(x->name, a->version) < 0))
            abort();
    }
    /* An empty binary-mode body is no data (see proto/http.c). */
    if (binary && a->has_data && a->data_len == 0) {
        if (b->has_data)
            abort();
        return;
    }
    if (a->has_data != b->has_data)
        abort();
    if (!a->has_data)
        return;
    /* JSON data may be re-serialised by a structured hop. */
    if (sl_ce_is_json_type(sl_event_value(a, "datacontenttype"))) {
        int c = fuzz_json_cmp(a->data, a->data_len, b->data, b->data_len);
        if (c > 0)
            abort();
        if (c == 0)
            return;
    }
    if (a->data_len != b->data_len ||
        memcmp(a->data, b->data, a->data_len) != 0)
        abort();
}

/* Decode an encoder's output; abort unless it yields 'want' events. */
static void fuzz_decode_out(const struct sl_http_headers *hdrs,
                            const struct sl_buf *body, size_t want,
                            struct sl_event_list *out)
{
    struct sl_http_header h[FUZZ_MAX_HEADERS * 2];
    struct sl_http_msg m;
    size_t i;

    if (hdrs->n > sizeof(h) / sizeof(h[0]))
        abort();
    for (i = 0; i < hdrs->n; i++) {
        h[i].name = hdrs->v[i].name;
        h[i].value = hdrs->v[i].value;
    }
    m.headers = h;
    m.nheaders = hdrs->n;
    m.body = body->data;
    m.body_len = body->len;
    if (sl_ce_http_decode(&m, NULL, out, NULL, NULL) != 0 || out->n != want)
        abort();
}

static void fuzz_hop(const struct sl_event *ev, enum sl_ce_mode mode)
{
    struct sl_http_headers hdrs;
    struct sl_event_list l;
    struct sl_buf body;
    bool binary;

    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    sl_event_list_init(&l);
    if (sl_ce_http_encode(ev, mode, &hdrs, &body) != 0)
        abort();
    /* A binary request may have been written in structured mode. */
    binary = sl_ce_http_mode(sl_http_headers_get(&hdrs, "content-type")) ==
             SL_CE_BINARY_MODE;
    if (mode == SL_CE_STRUCTURED_MODE && binary)
        abort();
    fuzz_decode_out(&hdrs, &body, 1, &l);
    fuzz_same(ev, l.v[0], binary);
    sl_event_list_fini(&l);
    sl_buf_fini(&body);
    sl_http_headers_fini(&hdrs);
}

static void fuzz_batch(const struct sl_event_list *in)
{
    struct sl_http_headers hdrs;
    struct sl_event_list l;
    struct sl_buf body;
    size_t i;

    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    sl_event_list_init(&l);
    if (sl_ce_http_encode_batch(in->v, in->n, &hdrs, &body) != 0)
        abort();
    fuzz_decode_out(&hdrs, &body, in->n, &l);
    for (i = 0; i < in->n; i++)
        fuzz_same(in->v[i], l.v[i], false);
    sl_event_list_fini(&l);
    sl_buf_fini(&body);
    sl_http_headers_fini(&hdrs);
}

/* Split the input into header copies and a body; returns the count. */
static size_t fuzz_frame(const char *s, size_t n, struct sl_http_header *h,
                         const char **body, size_t *body_len, bool *strict)
{
    size_t i = 0, nh = 0;

    *strict = false;
    while (i < n) {
        const char *line = s + i, *eol = memchr(line, '\n', n - i);
        const char *colon, *v;
        size_t len = eol ? (size_t)(eol - line) : n - i;
        i += len + (eol != NULL);
        if (len == 0)
            break;
        if (line == s && len == 6 && memcmp(line, "strict", 6) == 0)
            *strict = true;
        colon = memchr(line, ':', len);
        if (colon == NULL || nh == FUZZ_MAX_HEADERS)
            continue;
        v = colon + 1;
        while (v < line + len && (*v == ' ' || *v == '\t'))
            v++;
        h[nh].name = sl_xstrndup(line, (size_t)(colon - line));
        h[nh].value = sl_xstrndup(v, (size_t)(line + len - v));
        nh++;
    }
    *body = s + i;
    *body_len = n - i;
    return nh;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct sl_http_header h[FUZZ_MAX_HEADERS];
    struct sl_ce_opts opts = { .max_event_size = 4096 };
    long live = sl_alloc_live();
    struct sl_event_list l;
    struct sl_http_msg m;
    const char *body;
    size_t i, nh;
    bool strict;

    nh = fuzz_frame((const char *)p, n, h, &body, &m.body_len, &strict);
    m.body = body;
    m.headers = h;
    m.nheaders = nh;
    opts.strict_headers = strict;
    sl_event_list_init(&l);
    if (sl_ce_http_decode(&m, &opts, &l, NULL, NULL) == 0) {
        for (i = 0; i < l.n; i++) {
            if (sl_event_validate(l.v[i], NULL) != 0)
                abort();
            fuzz_hop(l.v[i], SL_CE_BINARY_MODE);
            fuzz_hop(l.v[i], SL_CE_STRUCTURED_MODE);
        }
        fuzz_batch(&l);
    } else if (l.n != 0) {
        abort(); /* all-or-nothing */
    }
    sl_event_list_fini(&l);
    for (i = 0; i < nh; i++) {
        sl_free((char *)h[i].name);
        sl_free((char *)h[i].value);
    }
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
