/*
 * proto/kafka.c - the CloudEvents Kafka protocol binding.
 *
 * Decoding sorts the 'ce_' headers by attribute name (record order breaks
 * ties) so that "last duplicate wins" costs O(n log n) whatever a producer
 * sends, and the event's sorted attribute array is filled mostly by
 * appending. The size limit is checked on the chosen headers before any
 * attribute is built. Encoding sizes the record first and then fills one
 * block holding every header name and value. See proto/kafka.h for the
 * rules.
 */
#include "proto/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/utf8.h"
#include "proto/json.h"

#define KAFKA_PREFIX     "ce_"
#define KAFKA_PREFIX_LEN 3
#define KAFKA_CT         "content-type"
#define KAFKA_CT_JSON    "application/cloudevents+json; charset=UTF-8"

/* ---- helpers ---- */

static int kafka_lc(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ASCII case-insensitive prefix test on bytes p[0..n). */
static bool kafka_prefix_ci(const void *p, size_t n, const char *prefix)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; prefix[i] != '\0'; i++)
        if (i >= n || kafka_lc(s[i]) != kafka_lc((unsigned char)prefix[i]))
            return false;
    return true;
}

/* Is 'h' an attribute header ("ce_" + at least one character)? */
static bool kafka_is_attr(const struct sl_kafka_header *h)
{
    return h->value != NULL && strlen(h->name) > KAFKA_PREFIX_LEN &&
           sl_str_prefix_ci(h->name, KAFKA_PREFIX);
}

/* Compare two attribute headers by name after the prefix, then position. */
static int kafka_cmp(const void *a, const void *b)
{
    const struct sl_kafka_header *x = *(const struct sl_kafka_header *const *)a;
    const struct sl_kafka_header *y = *(const struct sl_kafka_header *const *)b;
    const unsigned char *p = (const unsigned char *)x->name + KAFKA_PREFIX_LEN;
    const unsigned char *q = (const unsigned char *)y->name + KAFKA_PREFIX_LEN;

    while (*p != '\0' && kafka_lc(*p) == kafka_lc(*q)) {
        p++;
        q++;
    }
    if (kafka_lc(*p) != kafka_lc(*q))
        return kafka_lc(*p) - kafka_lc(*q);
    /* Same name: the headers sit in one array, so compare positions. */
    return x < y ? -1 : x > y;
}

/*
 * Check that a header value is UTF-8 and return a NUL-terminated copy
 * (the attribute checks read C strings). '*pcopy' is NULL on failure.
 */
static int kafka_value_text(const struct sl_kafka_header *h, char **pcopy,
                            struct sl_diag *diag)
{
    size_t bad;

    *pcopy = NULL;
    if (!sl_utf8_valid(h->value, h->len, &bad))
        return sl_diag_set(diag, SL_EINVAL, h->name,
                           "header '%s' is not valid UTF-8 at byte %zu",
                           h->name, bad);
    *pcopy = sl_xmemdup(h->value, h->len);
    return 0;
}

/* Set one attribute from header 'h'; 'diag' names the header on failure. */
static int kafka_set(struct sl_event *ev, const char *attr,
                     const struct sl_kafka_header *h, struct sl_diag *diag)
{
    struct sl_diag d;
    char *v = NULL;
    int rc;

    rc = kafka_value_text(h, &v, diag);
    if (rc < 0)
        goto out;
    sl_diag_clear(&d);
    rc = sl_event_set(ev, attr, SL_CE_STRING, v, h->len, &d);
    if (rc < 0)
        rc = sl_diag_set(diag, rc, h->name, "header '%s': %s", h->name, d.msg);
out:
    sl_free(v);
    return rc;
}

/* ---- decoding ---- */

static int kafka_decode_structured(const struct sl_kafka_record *rec,
                                   const struct sl_kafka_header *ct,
                                   const struct sl_ce_opts *opts,
                                   struct sl_event **out, struct sl_diag *diag)
{
    static const char json[] = "application/cloudevents+json";
    const char *p = ct->value;
    size_t n = ct->len, end;

    /* The media type is what precedes any parameter, minus whitespace. */
    for (end = 0; end < n && p[end] != ';'; end++)
        ;
    while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    if (end != sizeof(json) - 1 || !kafka_prefix_ci(p, end, json))
        return sl_diag_set(diag, SL_ENOTSUP, KAFKA_CT,
                           "unsupported event format '%.*s'",
                           (int)(end > 128 ? 128 : end), p);
    if (rec->value == NULL)
        return sl_diag_set(diag, SL_EINVAL, "",
                           "structured record has a null value");
    return sl_ce_json_decode(rec->value, rec->value_len, opts, out, diag);
}

int sl_ce_kafka_decode(const struct sl_kafka_record *rec,
                       const struct sl_ce_opts *opts, struct sl_event **out,
                       enum sl_kafka_mode *pmode, struct sl_diag *diag)
{
    const struct sl_kafka_header *ct = NULL, *sv = NULL;
    const struct sl_kafka_header **attrs = NULL;
    struct sl_event *ev = NULL;
    enum sl_ce_version ver;
    size_t i, n = 0, size, max = sl_ce_max_size(opts);
    char *name = NULL;
    int rc;

    *out = NULL;
    for (i = 0; i < rec->nheaders; i++) {
        const struct sl_kafka_header *h = &rec->headers[i];
        if (h->value == NULL)
            continue;
        if (sl_str_eq_ci(h->name, KAFKA_CT))
            ct = h;
        else if (sl_str_eq_ci(h->name, KAFKA_PREFIX "specversion"))
            sv = h;
    }
    if (ct != NULL &&
        kafka_prefix_ci(ct->value, ct->len, "application/cloudevents")) {
        if (pmode != NULL)
            *pmode = SL_KAFKA_STRUCTURED;
        return kafka_decode_structured(rec, ct, opts, out, diag);
    }
    if (sv == NULL)
        return sl_diag_set(diag, SL_ENOENT, "",
                           "not a CloudEvent: no 'ce_specversion' header");
    if (pmode != NULL)
        *pmode = SL_KAFKA_BINARY;
    if (sl_ce_version_parse(sv->value, sv->len, &ver) < 0) {
        rc = sl_diag_set(diag, SL_EINVAL, sv->name,
                         "unsupported specversion '%.*s' (want 1.0 or 0.3)",
                         (int)(sv->len > 32 ? 32 : sv->len),
                         (const char *)sv->value);
        goto out;
    }
    if (rec->value_len > max) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "data of %zu bytes exceeds the limit of %zu",
                         rec->value_len, max);
        goto out;
    }

    /* Sort the attribute headers; the last of each run is the one used. */
    attrs = sl_xcalloc(rec->nheaders ? rec->nheaders : 1, sizeof(*attrs));
    for (i = 0; i < rec->nheaders; i++)
        if (kafka_is_attr(&rec->headers[i]))
            attrs[n++] = &rec->headers[i];
    qsort(attrs, n, sizeof(*attrs), kafka_cmp);
    size = rec->value ? rec->value_len : 0;
    if (ct != NULL && ct->len > 0)
        size += strlen("datacontenttype") + ct->len;
    for (i = 0; i < n; i++) {
        if (i + 1 < n && sl_str_eq_ci(attrs[i]->name, attrs[i + 1]->name)) {
            attrs[i] = NULL; /* a later duplicate wins */
            continue;
        }
        size += strlen(attrs[i]->name) - KAFKA_PREFIX_LEN + attrs[i]->len;
    }
    if (size > max) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "event of %zu bytes exceeds the limit of %zu", size,
                         max);
        goto out;
    }

    ev = sl_event_new(ver);
    for (i = 0; i < n; i++) {
        const struct sl_kafka_header *h = attrs[i];
        if (h == NULL)
            continue;
        sl_free(name);
        name = sl_str_lower(sl_xstrdup(h->name + KAFKA_PREFIX_LEN));
        if (strcmp(name, "specversion") == 0)
            continue; /* parsed above: the event's version */
        if (strcmp(name, "datacontenttype") == 0) {
            rc = sl_diag_set(diag, SL_EINVAL, h->name,
                             "header '%s' is not allowed: datacontenttype "
                             "travels in 'content-type'",
                             h->name);
        } else {
            rc = kafka_set(ev, name, h, diag);
        }
        if (rc < 0)
            goto out;
    }
    /* An empty content-type says nothing; treat it as absent. */
    if (ct != NULL && ct->len > 0) {
        rc = kafka_set(ev, "datacontenttype", ct, diag);
        if (rc < 0)
            goto out;
    }
    if (rec->value != NULL)
        sl_event_set_data(ev, rec->value, rec->value_len);
    {
        struct sl_diag d;
        char hname[SL_DIAG_FIELD_MAX + sizeof(KAFKA_PREFIX)];
        sl_diag_clear(&d);
        rc = sl_event_validate(ev, &d);
        if (rc < 0) {
            snprintf(hname, sizeof(hname), KAFKA_PREFIX "%s", d.field);
            rc = sl_diag_set(diag, rc, hname, "%s", d.msg);
            goto out;
        }
    }
    *out = ev;
    ev = NULL;
    rc = 0;
out:
    sl_free(name);
    sl_free(attrs);
    sl_event_unref(ev);
    return rc;
}

/* ---- encoding ---- */

void sl_kafka_out_init(struct sl_kafka_out *out)
{
    memset(out, 0, sizeof(*out));
}

void sl_kafka_out_fini(struct sl_kafka_out *out)
{
    if (out == NULL)
        return;
    sl_free(out->hdrs_);
    sl_free(out->store_);
    sl_free(out->key_);
    sl_free(out->value_);
    sl_kafka_out_init(out);
}

void sl_kafka_out_set_key(struct sl_kafka_out *out, const void *p, size_t n)
{
    sl_free(out->key_);
    out->key_ = p ? sl_xmemdup(p, n) : NULL;
    out->rec.key = out->key_;
    out->rec.key_len = p ? n : 0;
}

/*
 * Header filler: the first pass (store == NULL) only counts headers and
 * bytes, the second copies into storage sized by the first.
 */
struct kafka_fill {
    struct sl_kafka_header *hdrs;
    char *store;
    size_t n;     /* headers */
    size_t bytes; /* of names and values, NULs included */
};

static void kafka_fill_add(struct kafka_fill *f, const char *prefix,
                           const char *name, const void *value, size_t len)
{
    size_t pl = strlen(prefix), nl = strlen(name);

    if (f->store != NULL) {
        struct sl_kafka_header *h = &f->hdrs[f->n];
        char *p = f->store + f->bytes;
        memcpy(p, prefix, pl);
        memcpy(p + pl, name, nl);
        p[pl + nl] = '\0';
        h->name = p;
        p += pl + nl + 1;
        memcpy(p, value, len);
        p[len] = '\0';
        h->value = p;
        h->len = len;
    }
    f->n++;
    f->bytes += pl + nl + 1 + len + 1;
}

/* One pass over the headers 'ev' needs in 'mode'. */
static void kafka_fill_event(struct kafka_fill *f, const struct sl_event *ev,
                             bool structured)
{
    const char *sv = sl_ce_version_str(ev->version);
    size_t i;

    if (structured) {
        kafka_fill_add(f, "", KAFKA_CT, KAFKA_CT_JSON, strlen(KAFKA_CT_JSON));
        return;
    }
    kafka_fill_add(f, KAFKA_PREFIX, "specversion", sv, strlen(sv));
    for (i = 0; i < ev->nattrs; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];
        if (strcmp(a->name, "specversion") == 0)
            continue;
        if (strcmp(a->name, "datacontenttype") == 0)
            kafka_fill_add(f, "", KAFKA_CT, a->value, a->len);
        else
            kafka_fill_add(f, KAFKA_PREFIX, a->name, a->value, a->len);
    }
}

int sl_ce_kafka_encode(const struct sl_event *ev,
                       const struct sl_kafka_encode_opts *opts,
                       struct sl_kafka_out *out)
{
    bool structured = opts != NULL && opts->structured;
    struct kafka_fill f = { 0 };
    int rc = 0;

    sl_kafka_out_fini(out);
    kafka_fill_event(&f, ev, structured);
    out->hdrs_ = sl_xcalloc(f.n ? f.n : 1, sizeof(*out->hdrs_));
    out->store_ = sl_xmalloc(f.bytes ? f.bytes : 1);
    f.hdrs = out->hdrs_;
    f.store = out->store_;
    f.n = 0;
    f.bytes = 0;
    kafka_fill_event(&f, ev, structured);
    out->rec.headers = out->hdrs_;
    out->rec.nheaders = f.n;

    if (structured) {
        struct sl_buf b;
        size_t len;
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        rc = sl_ce_json_encode(ev, &b);
        if (rc < 0) {
            sl_buf_fini(&b);
            goto out;
        }
        out->value_ = sl_buf_steal(&b, &len);
        out->rec.value = out->value_;
        out->rec.value_len = len;
    } else if (ev->has_data) {
        /* A copy even when empty: zero-length data is not a tombstone. */
        out->value_ =
            sl_xmemdup(ev->data ? (const void *)ev->data : "", ev->data_len);
        out->rec.value = out->value_;
        out->rec.value_len = ev->data_len;
    }

    if (opts != NULL && opts->partitionkey_key) {
        const struct sl_ce_attr *pk = sl_event_get(ev, "partitionkey");
        if (pk != NULL)
            sl_kafka_out_set_key(out, pk->value, pk->len);
    }
out:
    if (rc < 0)
        sl_kafka_out_fini(out);
    return rc;
}
