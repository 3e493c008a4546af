/*
 * proto/event_headers.c - the transport headers an event carries beside
 * its attributes (proto/event.h), and their stored form.
 *
 * A handful of short headers per event at most, so a plain array in
 * arrival order, searched linearly. The stored form is the HTTP header
 * block without the space after the colon ("name:value\n" per header):
 * the rules of sl_event_header_add keep ':' out of names and newlines
 * out of values, so it needs no escaping, and decoding re-applies the
 * same rules, so a damaged row cannot smuggle a header line in.
 */
#include "proto/event.h"

#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

/* RFC 9110 tchar. */
static bool hdr_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool hdr_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!hdr_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* Field content: HTAB, SP, VCHAR, obs-text; no other control byte. */
static bool hdr_value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static size_t hdr_bytes(const struct sl_event *ev)
{
    size_t n = 0;

    for (size_t i = 0; i < ev->nhdrs; i++)
        n += strlen(ev->hdrs[i].name) + strlen(ev->hdrs[i].value);
    return n;
}

/* Append name[0..nn) = value[0..vn) after the checks. */
static int hdr_add(struct sl_event *ev, const char *name, size_t nn,
                   const char *value, size_t vn)
{
    struct sl_event_header *h;

    if (!hdr_name_ok(name, nn) || !hdr_value_ok(value, vn))
        return SL_EINVAL;
    if (ev->nhdrs >= SL_EVENT_MAX_HEADERS ||
        hdr_bytes(ev) + nn + vn > SL_EVENT_MAX_HEADER_BYTES)
        return SL_ETOOBIG;
    /* At most SL_EVENT_MAX_HEADERS entries: grow one at a time. */
    ev->hdrs = sl_xrealloc(ev->hdrs, (ev->nhdrs + 1) * sizeof(*ev->hdrs));
    h = &ev->hdrs[ev->nhdrs++];
    h->name = sl_xmemdup(name, nn);
    h->value = sl_xmemdup(value, vn);
    return 0;
}

int sl_event_header_add(struct sl_event *ev, const char *name,
                        const char *value)
{
    return hdr_add(ev, name, strlen(name), value, strlen(value));
}

const char *sl_event_header(const struct sl_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->nhdrs; i++)
        if (sl_str_eq_ci(ev->hdrs[i].name, name))
            return ev->hdrs[i].value;
    return NULL;
}

void sl_event_headers_clear(struct sl_event *ev)
{
    for (size_t i = 0; i < ev->nhdrs; i++) {
        sl_free(ev->hdrs[i].name);
        sl_free(ev->hdrs[i].value);
    }
    sl_free(ev->hdrs);
    ev->hdrs = NULL;
    ev->nhdrs = 0;
}

int sl_event_headers_encode(const struct sl_event *ev, struct sl_buf *out)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < ev->nhdrs; i++) {
        rc = sl_buf_appends(out, ev->hdrs[i].name);
        if (rc == 0)
            rc = sl_buf_appendc(out, ':');
        if (rc == 0)
            rc = sl_buf_appends(out, ev->hdrs[i].value);
        if (rc == 0)
            rc = sl_buf_appendc(out, '\n');
    }
    return rc < 0 ? SL_ETOOBIG : 0;
}

int sl_event_headers_decode(struct sl_event *ev, const char *p, size_t n)
{
    const char *end = p + n;

    sl_event_headers_clear(ev);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *colon;

        if (nl == NULL)
            goto bad; /* every line ends with a newline */
        colon = memchr(p, ':', (size_t)(nl - p));
        if (colon == NULL || hdr_add(ev, p, (size_t)(colon - p), colon + 1,
                                     (size_t)(nl - colon - 1)) < 0)
            goto bad;
        p = nl + 1;
    }
    return 0;
bad:
    sl_event_headers_clear(ev);
    return SL_EINVAL;
}
