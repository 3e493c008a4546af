/*
 * proto/amqp.c - CloudEvents over AMQP message properties.
 *
 * Decoding normalises every property name first (lower-case, prefix
 * stripped), sorts the candidates so duplicates sit side by side and the
 * event's sorted attribute array is filled by appending, and bounds the
 * work by the size limit before building anything. Encoding collects
 * names and values in one growing block and fixes the pointers once it
 * stops moving. See proto/amqp.h for the rules.
 */
#include "proto/amqp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/utf8.h"
#include "proto/json.h"

#define AMQP_CT         "content-type"
#define AMQP_CT_JSON    "application/cloudevents+json; charset=utf-8"
#define AMQP_CE_PREFIX  "application/cloudevents"
#define AMQP_CT_FORMAT  "application/cloudevents+json"
#define AMQP_MS_PER_SEC 1000
#define AMQP_NS_PER_MS  1000000

/* Seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define AMQP_MIN_SEC (-62167219200LL)
#define AMQP_MAX_SEC 253402300799LL

/* ---- helpers ---- */

/* The media type of 'ct' without parameters: its length, blanks cut. */
static size_t amqp_media_len(const char *ct)
{
    size_t end = strcspn(ct, ";");

    while (end > 0 && (ct[end - 1] == ' ' || ct[end - 1] == '\t'))
        end--;
    return end;
}

/* RFC 3339 text of 'ms' since the epoch. Returns 0 or SL_EINVAL. */
static int amqp_ms_to_text(int64_t ms, char *out, size_t outlen)
{
    struct sl_timestamp ts = { 0 };
    int64_t rem = ms % AMQP_MS_PER_SEC;

    ts.sec = ms / AMQP_MS_PER_SEC;
    if (rem < 0) {
        rem += AMQP_MS_PER_SEC;
        ts.sec--;
    }
    if (ts.sec < AMQP_MIN_SEC || ts.sec > AMQP_MAX_SEC)
        return SL_EINVAL;
    ts.nsec = (int32_t)(rem * AMQP_NS_PER_MS);
    sl_time_format_rfc3339(&ts, out, outlen);
    return 0;
}

/*
 * Milliseconds for the RFC 3339 text 's' when it converts back to exactly
 * the same text (whole milliseconds, 'Z'), so a native timestamp loses
 * nothing. Returns true and sets '*ms' then.
 */
static bool amqp_text_to_ms(const char *s, int64_t *ms)
{
    char back[SL_TIME_RFC3339_MAX];
    struct sl_timestamp ts;

    if (sl_time_parse_rfc3339(s, &ts, NULL) < 0 || ts.offset_min != 0 ||
        ts.nsec % AMQP_NS_PER_MS != 0)
        return false;
    sl_time_format_rfc3339(&ts, back, sizeof(back));
    if (strcmp(back, s) != 0)
        return false;
    *ms = ts.sec * AMQP_MS_PER_SEC + ts.nsec / AMQP_NS_PER_MS;
    return true;
}

/* ---- decoding ---- */

/* A property that names an attribute. */
struct amqp_cand {
    char *attr; /* normalised name, owned */
    const struct sl_amqp_prop *prop;
    bool prefixed;
};

static int amqp_cand_cmp(const void *a, const void *b)
{
    const struct amqp_cand *x = a, *y = b;
    int c = strcmp(x->attr, y->attr);

    if (c != 0)
        return c;
    return x->prop < y->prop ? -1 : x->prop > y->prop;
}

/*
 * Normalise 'p->name' into '*c'. Returns 1 when it names an attribute, 0
 * when it is to be ignored, SL_EINVAL for a prefixed name that is not a
 * legal attribute name.
 */
static int amqp_cand_make(const struct sl_amqp_prop *p, struct amqp_cand *c,
                          struct sl_diag *diag)
{
    static const char *const prefixes[] = { "cloudevents_",
                                            "cloudevents:", "ce-" };
    char *lower = sl_str_lower(sl_xstrdup(p->name));
    const char *name = lower;
    size_t i;

    c->attr = NULL;
    c->prop = p;
    c->prefixed = false;
    if (sl_str_prefix(lower, "x-"))
        goto ignore;
    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (sl_str_prefix(lower, prefixes[i])) {
            name += strlen(prefixes[i]);
            c->prefixed = true;
            break;
        }
    }
    if (!c->prefixed &&
        (strcmp(name, AMQP_CT) == 0 || strcmp(name, "traceparent") == 0 ||
         strcmp(name, "tracestate") == 0))
        goto ignore;
    /* 1.0 naming rules, the looser of the two; the version comes later. */
    if (!sl_ce_name_valid(name, SL_CE_V10)) {
        if (!c->prefixed)
            goto ignore;
        sl_free(lower);
        return sl_diag_set(diag, SL_EINVAL, p->name,
                           "property '%s' is not a legal attribute name",
                           p->name);
    }
    c->attr = sl_xstrdup(name);
    sl_free(lower);
    return 1;
ignore:
    sl_free(lower);
    return 0;
}

/* A NUL-terminated copy of a string or binary value, checked as UTF-8. */
static int amqp_text(const struct sl_amqp_prop *p, char **pout,
                     struct sl_diag *diag)
{
    size_t bad;

    *pout = NULL;
    if (p->len > 0 && p->str == NULL)
        return sl_diag_set(diag, SL_EINVAL, p->name, "property '%s' is NULL",
                           p->name);
    if (!sl_utf8_valid(p->str, p->len, &bad))
        return sl_diag_set(diag, SL_EINVAL, p->name,
                           "property '%s' is not valid UTF-8 at byte %zu",
                           p->name, bad);
    *pout = sl_xmemdup(p->len ? p->str : "", p->len);
    return 0;
}

/* Set attribute 'c->attr' of 'ev' from its property's value. */
static int amqp_set(struct sl_event *ev, const struct amqp_cand *c,
                    struct sl_diag *diag)
{
    const struct sl_amqp_prop *p = c->prop;
    bool ext = sl_ce_core_type(c->attr, ev->version) < 0;
    enum sl_ce_type type = SL_CE_STRING;
    char tmp[SL_TIME_RFC3339_MAX];
    char *text = NULL;
    struct sl_buf b;
    struct sl_diag d;
    int rc = 0;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    switch (p->type) {
    case SL_AMQP_STRING:
        rc = amqp_text(p, &text, diag);
        break;
    case SL_AMQP_BOOL:
        text = sl_xstrdup(p->boolean ? "true" : "false");
        type = SL_CE_BOOL;
        break;
    case SL_AMQP_LONG:
        snprintf(tmp, sizeof(tmp), "%" PRId64, p->num);
        text = sl_xstrdup(tmp);
        if (p->num >= INT32_MIN && p->num <= INT32_MAX)
            type = SL_CE_INT;
        break;
    case SL_AMQP_TIMESTAMP:
        rc = amqp_ms_to_text(p->num, tmp, sizeof(tmp));
        if (rc < 0) {
            rc = sl_diag_set(diag, SL_EINVAL, p->name,
                             "property '%s': timestamp %" PRId64
                             " ms is outside years 0000-9999",
                             p->name, p->num);
            break;
        }
        text = sl_xstrdup(tmp);
        type = SL_CE_TIME;
        break;
    case SL_AMQP_BINARY:
        if (!ext) {
            rc = amqp_text(p, &text, diag);
            break;
        }
        rc = sl_base64_encode(p->str, p->len, &b);
        if (rc < 0)
            break;
        text = sl_buf_steal(&b, NULL);
        type = SL_CE_BINARY;
        break;
    default:
        rc = sl_diag_set(diag, SL_EINVAL, p->name,
                         "property '%s' has an unknown type %d", p->name,
                         (int)p->type);
    }
    if (rc < 0)
        goto out;
    /* A core attribute takes its own type from the canonical string. */
    if (!ext)
        type = SL_CE_STRING;
    sl_diag_clear(&d);
    rc = sl_event_set(ev, c->attr, type, text, strlen(text), &d);
    if (rc < 0)
        rc =
            sl_diag_set(diag, rc, p->name, "property '%s': %s", p->name, d.msg);
out:
    sl_buf_fini(&b);
    sl_free(text);
    return rc;
}

static int amqp_decode_structured(const struct sl_amqp_message *msg,
                                  const char *ct, const struct sl_ce_opts *opts,
                                  struct sl_event **out, struct sl_diag *diag)
{
    size_t end = amqp_media_len(ct);

    if (end != strlen(AMQP_CT_FORMAT) || !sl_str_prefix_ci(ct, AMQP_CT_FORMAT))
        return sl_diag_set(diag, SL_ENOTSUP, AMQP_CT,
                           "unsupported event format '%.*s'",
                           (int)(end > 128 ? 128 : end), ct);
    if (msg->body_len == 0)
        return sl_diag_set(diag, SL_EINVAL, "",
                           "structured message has an empty body");
    return sl_ce_json_decode(msg->body, msg->body_len, opts, out, diag);
}

/*
 * The effective content type: the property, else a bare 'content-type'
 * string property; NULL when both are unset or empty. '*pprop' receives
 * the property used, if any. Returns 0 or SL_EINVAL.
 */
static int amqp_content_type(const struct sl_amqp_message *msg, char **pct,
                             const struct sl_amqp_prop **pprop,
                             struct sl_diag *diag)
{
    size_t i, bad;

    *pct = NULL;
    *pprop = NULL;
    if (msg->content_type != NULL && msg->content_type[0] != '\0') {
        if (!sl_utf8_valid(msg->content_type, strlen(msg->content_type), &bad))
            return sl_diag_set(diag, SL_EINVAL, AMQP_CT,
                               "content type is not valid UTF-8 at byte %zu",
                               bad);
        *pct = sl_xstrdup(msg->content_type);
        return 0;
    }
    for (i = 0; i < msg->nprops; i++) {
        const struct sl_amqp_prop *p = &msg->props[i];
        if (sl_str_eq_ci(p->name, AMQP_CT) && p->type == SL_AMQP_STRING &&
            p->len > 0) {
            char *t;
            int rc = amqp_text(p, &t, diag);
            if (rc < 0)
                return rc;
            sl_free(*pct);
            *pct = t;
            *pprop = p;
        }
    }
    return 0;
}

/*
 * Find the specversion among the sorted candidates and parse it. Returns
 * 0, SL_ENOENT (none, or a bare one with an unknown value) or SL_EINVAL.
 */
static int amqp_version(const struct amqp_cand *c, size_t n,
                        enum sl_ce_version *pver, struct sl_diag *diag)
{
    const struct amqp_cand *sv = NULL;
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(c[i].attr, "specversion") == 0)
            sv = &c[i];
    if (sv == NULL)
        return sl_diag_set(diag, SL_ENOENT, "",
                           "not a CloudEvent: no 'specversion' property");
    /* Some AMQP 0-9-1 clients send text as bytes: take either. */
    if ((sv->prop->type != SL_AMQP_STRING &&
         sv->prop->type != SL_AMQP_BINARY) ||
        sv->prop->str == NULL ||
        sl_ce_version_parse(sv->prop->str, sv->prop->len, pver) < 0)
        return sl_diag_set(diag, sv->prefixed ? SL_EINVAL : SL_ENOENT,
                           sv->prop->name,
                           "property '%s' is not a supported specversion "
                           "(want string 1.0 or 0.3)",
                           sv->prop->name);
    return 0;
}

int sl_ce_amqp_decode(const struct sl_amqp_message *msg,
                      const struct sl_ce_opts *opts, struct sl_event **out,
                      enum sl_amqp_mode *pmode, struct sl_diag *diag)
{
    const struct sl_amqp_prop *ct_prop;
    struct amqp_cand *cand = NULL;
    struct sl_event *ev = NULL;
    enum sl_ce_version ver;
    size_t i, n = 0, size, max = sl_ce_max_size(opts);
    char *ct = NULL;
    int rc;

    *out = NULL;
    rc = amqp_content_type(msg, &ct, &ct_prop, diag);
    if (rc < 0)
        goto out;
    if (ct != NULL && sl_str_prefix_ci(ct, AMQP_CE_PREFIX)) {
        if (pmode != NULL)
            *pmode = SL_AMQP_STRUCTURED_MODE;
        rc = amqp_decode_structured(msg, ct, opts, out, diag);
        goto out;
    }

    cand = sl_xcalloc(msg->nprops ? msg->nprops : 1, sizeof(*cand));
    for (i = 0; i < msg->nprops; i++) {
        rc = amqp_cand_make(&msg->props[i], &cand[n], diag);
        if (rc < 0)
            goto out;
        n += (size_t)rc;
    }
    qsort(cand, n, sizeof(*cand), amqp_cand_cmp);
    rc = amqp_version(cand, n, &ver, diag);
    if (rc < 0)
        goto out;
    if (pmode != NULL)
        *pmode = SL_AMQP_BINARY_MODE;

    /* A lower bound of the event's size, to refuse oversize early. */
    size = msg->body_len + (ct ? strlen("datacontenttype") + strlen(ct) : 0);
    for (i = 0; i < n; i++) {
        const struct sl_amqp_prop *p = cand[i].prop;
        if (i + 1 < n && strcmp(cand[i].attr, cand[i + 1].attr) == 0) {
            rc = sl_diag_set(diag, SL_EINVAL, cand[i + 1].prop->name,
                             "attribute '%s' given twice ('%s' and '%s')",
                             cand[i].attr, p->name, cand[i + 1].prop->name);
            goto out;
        }
        size += strlen(cand[i].attr);
        if (p->type == SL_AMQP_STRING || p->type == SL_AMQP_BINARY)
            size += p->len;
    }
    if (size > max) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "event of %zu bytes exceeds the limit of %zu", size,
                         max);
        goto out;
    }

    ev = sl_event_new(ver);
    for (i = 0; i < n; i++) {
        if (strcmp(cand[i].attr, "specversion") == 0)
            continue;
        if (strcmp(cand[i].attr, "datacontenttype") == 0) {
            rc = sl_diag_set(diag, SL_EINVAL, cand[i].prop->name,
                             "property '%s' is not allowed: datacontenttype "
                             "travels in the content type",
                             cand[i].prop->name);
            goto out;
        }
        rc = amqp_set(ev, &cand[i], diag);
        if (rc < 0)
            goto out;
    }
    if (ct != NULL) {
        struct sl_diag d;
        sl_diag_clear(&d);
        rc = sl_event_set_str(ev, "datacontenttype", ct, &d);
        if (rc < 0) {
            rc = sl_diag_set(diag, rc, ct_prop ? ct_prop->name : AMQP_CT,
                             "content type: %s", d.msg);
            goto out;
        }
    }
    if (msg->body_len > 0)
        sl_event_set_data(ev, msg->body, msg->body_len);
    rc = sl_event_validate(ev, diag);
    if (rc < 0)
        goto out;
    if (sl_event_size(ev) > max) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "event of %zu bytes exceeds the limit of %zu",
                         sl_event_size(ev), max);
        goto out;
    }
    *out = ev;
    ev = NULL;
out:
    if (cand != NULL)
        for (i = 0; i < msg->nprops; i++)
            sl_free(cand[i].attr);
    sl_free(cand);
    sl_free(ct);
    sl_event_unref(ev);
    return rc;
}

/* ---- encoding ---- */

void sl_amqp_out_init(struct sl_amqp_out *out)
{
    memset(out, 0, sizeof(*out));
}

void sl_amqp_out_fini(struct sl_amqp_out *out)
{
    if (out == NULL)
        return;
    sl_free(out->props_);
    sl_free(out->store_);
    sl_free(out->ct_);
    sl_free(out->body_);
    sl_amqp_out_init(out);
}

/*
 * Properties under construction: names and values go into one buffer
 * that may move while it grows, so offsets are kept until the end.
 */
struct amqp_build {
    struct sl_buf store;
    struct sl_amqp_prop *props;
    size_t *name_off;
    size_t *val_off;
    size_t n, cap;
};

/* Add a property; 'value' (len bytes) is copied for strings and binary. */
static void amqp_add(struct amqp_build *bl, const char *prefix,
                     const char *name, struct sl_amqp_prop p, const void *value,
                     size_t len)
{
    if (bl->n == bl->cap) {
        bl->cap = bl->cap ? bl->cap * 2 : 16;
        bl->props = sl_xrealloc(bl->props, bl->cap * sizeof(*bl->props));
        bl->name_off =
            sl_xrealloc(bl->name_off, bl->cap * sizeof(*bl->name_off));
        bl->val_off = sl_xrealloc(bl->val_off, bl->cap * sizeof(*bl->val_off));
    }
    /* The store is unbounded: an encoded event is already bounded. */
    bl->name_off[bl->n] = bl->store.len;
    sl_buf_appends(&bl->store, prefix);
    sl_buf_appends(&bl->store, name);
    sl_buf_appendc(&bl->store, '\0');
    bl->val_off[bl->n] = bl->store.len;
    if (p.type == SL_AMQP_STRING || p.type == SL_AMQP_BINARY) {
        sl_buf_append(&bl->store, value, len);
        sl_buf_appendc(&bl->store, '\0');
        p.len = len;
    }
    bl->props[bl->n++] = p;
}

/* The property for attribute 'a' in native form (or string). */
static void amqp_add_attr(struct amqp_build *bl, const char *prefix,
                          const struct sl_ce_attr *a, bool strings)
{
    struct sl_amqp_prop p = { .type = SL_AMQP_STRING };
    int64_t v;

    if (!strings) {
        switch (a->type) {
        case SL_CE_BOOL:
            p.type = SL_AMQP_BOOL;
            p.boolean = strcmp(a->value, "true") == 0;
            break;
        case SL_CE_INT:
            if (sl_str_to_i64(a->value, a->len, false, INT32_MIN, INT32_MAX,
                              &v) == 0) {
                p.type = SL_AMQP_LONG;
                p.num = v;
            }
            break;
        case SL_CE_TIME:
            if (amqp_text_to_ms(a->value, &v)) {
                p.type = SL_AMQP_TIMESTAMP;
                p.num = v;
            }
            break;
        case SL_CE_BINARY: {
            struct sl_buf b;
            sl_buf_init(&b, SL_BUF_UNLIMITED);
            if (sl_base64_decode(a->value, a->len, &b, NULL) == 0) {
                p.type = SL_AMQP_BINARY;
                amqp_add(bl, prefix, a->name, p, b.data ? b.data : "", b.len);
                sl_buf_fini(&b);
                return;
            }
            sl_buf_fini(&b);
            break;
        }
        default:
            break;
        }
    }
    amqp_add(bl, prefix, a->name, p, a->value, a->len);
}

static const char *amqp_prefix_str(enum sl_amqp_prefix p)
{
    switch (p) {
    case SL_AMQP_PREFIX_UNDERSCORE:
        return "cloudEvents_";
    case SL_AMQP_PREFIX_COLON:
        return "cloudEvents:";
    case SL_AMQP_PREFIX_NONE:
        break;
    }
    return "";
}

static void amqp_encode_binary(const struct sl_event *ev,
                               const struct sl_amqp_encode_opts *opts,
                               struct sl_amqp_out *out)
{
    static const struct sl_amqp_prop string = { .type = SL_AMQP_STRING };
    const char *prefix = amqp_prefix_str(opts->prefix);
    const char *sv = sl_ce_version_str(ev->version);
    const struct sl_ce_attr *ct = sl_event_get(ev, "datacontenttype");
    struct amqp_build bl = { .n = 0 };
    size_t i;

    sl_buf_init(&bl.store, SL_BUF_UNLIMITED);
    amqp_add(&bl, prefix, "specversion", string, sv, strlen(sv));
    for (i = 0; i < ev->nattrs; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];
        if (strcmp(a->name, "specversion") == 0 ||
            strcmp(a->name, "datacontenttype") == 0)
            continue;
        amqp_add_attr(&bl, prefix, a, opts->strings);
    }
    if (ct != NULL) {
        out->ct_ = sl_xstrdup(ct->value);
        out->msg.content_type = out->ct_;
        if (opts->prefix == SL_AMQP_PREFIX_NONE)
            amqp_add(&bl, "", AMQP_CT, string, ct->value, ct->len);
    }

    /* The store stops moving here: turn offsets into pointers. */
    out->store_ = sl_buf_steal(&bl.store, NULL);
    for (i = 0; i < bl.n; i++) {
        bl.props[i].name = out->store_ + bl.name_off[i];
        if (bl.props[i].type == SL_AMQP_STRING ||
            bl.props[i].type == SL_AMQP_BINARY)
            bl.props[i].str = out->store_ + bl.val_off[i];
    }
    out->props_ = bl.props;
    out->msg.props = out->props_;
    out->msg.nprops = bl.n;
    sl_free(bl.name_off);
    sl_free(bl.val_off);
    sl_buf_fini(&bl.store);

    if (ev->has_data && ev->data_len > 0) {
        out->body_ = sl_xmemdup(ev->data, ev->data_len);
        out->msg.body = out->body_;
        out->msg.body_len = ev->data_len;
    }
}

int sl_ce_amqp_encode(const struct sl_event *ev,
                      const struct sl_amqp_encode_opts *opts,
                      struct sl_amqp_out *out)
{
    static const struct sl_amqp_encode_opts defaults = { .structured = false };
    struct sl_buf b;
    size_t len;
    int rc;

    sl_amqp_out_fini(out);
    if (opts == NULL)
        opts = &defaults;
    if (!opts->structured) {
        amqp_encode_binary(ev, opts, out);
        return 0;
    }
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    rc = sl_ce_json_encode(ev, &b);
    if (rc < 0)
        goto out;
    out->ct_ = sl_xstrdup(AMQP_CT_JSON);
    out->msg.content_type = out->ct_;
    out->body_ = sl_buf_steal(&b, &len);
    out->msg.body = out->body_;
    out->msg.body_len = len;
out:
    sl_buf_fini(&b);
    return rc;
}
