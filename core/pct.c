/*
 * core/pct.c - percent-encoding of header values (CloudEvents HTTP binding
 * section 3.1.3.2).
 *
 * The decoder is one pass over the input: a reader yields the bytes of
 * the value with any quoted-string layer removed, each tagged with its
 * offset in the input; '%XY' escapes are decoded from that stream; and an
 * incremental UTF-8 checker watches the resulting bytes, so every error
 * names the input offset where the faulty sequence started.
 */
#include "core/pct.h"

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

static const char pct_hex[] = "0123456789ABCDEF";

/* Cut 'out' back to 'len' bytes after a failure. */
static void pct_rollback(struct sl_buf *out, size_t len)
{
    out->len = len;
    if (out->data != NULL)
        out->data[len] = '\0';
}

int sl_pct_encode(const char *s, size_t n, struct sl_buf *out)
{
    char chunk[240];
    size_t start = out->len, used = 0, i;
    unsigned char c;
    int rc = 0;

    /*
     * Walking by byte encodes each code point exactly as walking by code
     * point would: every byte of a non-ASCII character is >= 0x80 and is
     * encoded, and no ASCII byte appears inside one.
     */
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        if (c >= 0x21 && c <= 0x7e && c != '"' && c != '%') {
            chunk[used++] = (char)c;
        } else {
            chunk[used++] = '%';
            chunk[used++] = pct_hex[c >> 4];
            chunk[used++] = pct_hex[c & 15];
        }
        if (used > sizeof(chunk) - 3) {
            rc = sl_buf_append(out, chunk, used);
            if (rc < 0)
                goto out;
            used = 0;
        }
    }
    rc = sl_buf_append(out, chunk, used);

out:
    if (rc < 0)
        pct_rollback(out, start);
    return rc;
}

/* ---- decoding ---- */

/* The input: the raw value, or the inside of a quoted-string. */
struct pct_reader {
    const char *s;
    size_t n;   /* bytes of input */
    size_t i;   /* next input offset */
    size_t end; /* offset of the closing quote, or n */
    bool quoted;
};

/* Incremental UTF-8 checker (same table as core/utf8.c). */
struct pct_utf8 {
    int need;         /* continuation bytes still expected */
    unsigned char lo; /* range of the next continuation byte */
    unsigned char hi;
    size_t seq_start; /* input offset where the sequence began */
};

static int pct_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Set up 'r' for 's'. A value that opens with '"' is an RFC 7230
 * quoted-string and must close with an unescaped '"' as its last byte.
 */
static int pct_reader_init(struct pct_reader *r, const char *s, size_t n,
                           struct sl_diag *diag)
{
    size_t i;

    r->s = s;
    r->n = n;
    r->i = 0;
    r->end = n;
    r->quoted = n > 0 && s[0] == '"';
    if (!r->quoted)
        return 0;
    for (i = 1; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '"')
            break;
    }
    if (i >= n)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid header value: unterminated "
                           "quoted-string starting at offset 0");
    if (i != n - 1)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid header value: unexpected byte after "
                           "the closing quote at offset %zu",
                           i + 1);
    r->i = 1;
    r->end = i;
    return 0;
}

/*
 * Read the next byte of the value into '*c' and its input offset into
 * '*off'; false at the end. Inside a quoted-string '\x' yields x (its
 * offset is that of x).
 */
static bool pct_reader_next(struct pct_reader *r, unsigned char *c, size_t *off)
{
    if (r->i >= r->end)
        return false;
    if (r->quoted && r->s[r->i] == '\\')
        r->i++; /* pct_reader_init checked that a byte follows */
    *off = r->i;
    *c = (unsigned char)r->s[r->i++];
    return true;
}

/* Feed one decoded byte to the checker; false when it breaks UTF-8. */
static bool pct_utf8_feed(struct pct_utf8 *u, unsigned char b, size_t off)
{
    /* A bad byte is reported at the start of its sequence. */
    if (u->need > 0) {
        if (b < u->lo || b > u->hi)
            return false;
        u->need--;
        u->lo = 0x80;
        u->hi = 0xbf;
        return true;
    }
    u->seq_start = off;
    u->lo = 0x80;
    u->hi = 0xbf;
    if (b < 0x80)
        return true;
    if (b < 0xc2)
        return false;
    if (b < 0xe0) {
        u->need = 1;
    } else if (b < 0xf0) {
        u->need = 2;
        if (b == 0xe0)
            u->lo = 0xa0;
        else if (b == 0xed)
            u->hi = 0x9f;
    } else if (b < 0xf5) {
        u->need = 3;
        if (b == 0xf0)
            u->lo = 0x90;
        else if (b == 0xf4)
            u->hi = 0x8f;
    } else {
        return false;
    }
    return true;
}

/* Describe byte 'c' at 'off' as not allowed raw, and return SL_EINVAL. */
static int pct_bad_raw(struct sl_diag *diag, unsigned char c, size_t off,
                       bool lenient)
{
    if (c >= 0x80 && !lenient)
        return sl_diag_set(diag, SL_EINVAL, NULL,
                           "invalid header value: raw byte 0x%02X at offset "
                           "%zu must be percent-encoded",
                           c, off);
    return sl_diag_set(diag, SL_EINVAL, NULL,
                       "invalid header value: control byte 0x%02X at offset "
                       "%zu",
                       c, off);
}

int sl_pct_decode(const char *s, size_t n, bool lenient, struct sl_buf *out,
                  struct sl_diag *diag)
{
    struct pct_reader r;
    struct pct_utf8 u = { 0, 0x80, 0xbf, 0 };
    size_t start = out->len, off, hoff;
    unsigned char c, h;
    int rc, hi, lo;

    rc = pct_reader_init(&r, s, n, diag);
    if (rc < 0)
        goto out;
    while (pct_reader_next(&r, &c, &off)) {
        if (c == '%') {
            hi = lo = -1;
            if (pct_reader_next(&r, &h, &hoff))
                hi = pct_hexval((char)h);
            if (hi >= 0 && pct_reader_next(&r, &h, &hoff))
                lo = pct_hexval((char)h);
            if (lo < 0) {
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid header value: bad or truncated "
                                 "'%%' escape at offset %zu",
                                 off);
                goto out;
            }
            c = (unsigned char)(hi << 4 | lo);
        } else if (c == '\t' || c == ' ') {
            /* Allowed raw in both modes. */
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !lenient)) {
            rc = pct_bad_raw(diag, c, off, lenient);
            goto out;
        }
        if (!pct_utf8_feed(&u, c, off)) {
            rc = sl_diag_set(diag, SL_EINVAL, NULL,
                             "invalid header value: invalid UTF-8 at offset "
                             "%zu",
                             u.seq_start);
            goto out;
        }
        rc = sl_buf_appendc(out, (char)c);
        if (rc < 0)
            goto out;
    }
    if (u.need > 0)
        rc = sl_diag_set(diag, SL_EINVAL, NULL,
                         "invalid header value: truncated UTF-8 sequence at "
                         "offset %zu",
                         u.seq_start);

out:
    if (rc < 0)
        pct_rollback(out, start);
    return rc;
}
