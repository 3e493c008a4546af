/*
 * core/base64.c - standard Base64 (RFC 4648 section 4) with padding.
 *
 * Both directions work through a small stack chunk that is flushed into
 * the caller's sl_buf, so a large payload costs a handful of appends. On
 * any failure the output buffer is cut back to the length it had on
 * entry, so a caller never sees half a decoding.
 */
#include "core/base64.h"

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bytes per flush; a multiple of both 3 and 4. */
#define B64_CHUNK 768

/* Cut 'out' back to 'len' bytes after a failed append. */
static void b64_rollback(struct sl_buf *out, size_t len)
{
    out->len = len;
    if (out->data != NULL)
        out->data[len] = '\0';
}

/* The 6-bit value of 'c', or -1 when it is not in the alphabet. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t sl_base64_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? 4 : 0);
}

int sl_base64_encode(const void *p, size_t n, struct sl_buf *out)
{
    const unsigned char *in = p;
    char chunk[B64_CHUNK];
    size_t start = out->len, used = 0, i = 0;
    uint32_t v;
    int rc = 0;

    if (sl_base64_encoded_len(n) > out->max - out->len)
        return SL_ETOOBIG;
    for (; n - i >= 3; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        chunk[used++] = b64_alphabet[v >> 18];
        chunk[used++] = b64_alphabet[v >> 12 & 63];
        chunk[used++] = b64_alphabet[v >> 6 & 63];
        chunk[used++] = b64_alphabet[v & 63];
        if (used == sizeof(chunk)) {
            rc = sl_buf_append(out, chunk, used);
            if (rc < 0)
                goto out;
            used = 0;
        }
    }
    if (n - i > 0) {
        v = (uint32_t)in[i] << 16;
        if (n - i == 2)
            v |= (uint32_t)in[i + 1] << 8;
        chunk[used++] = b64_alphabet[v >> 18];
        chunk[used++] = b64_alphabet[v >> 12 & 63];
        chunk[used++] = n - i == 2 ? b64_alphabet[v >> 6 & 63] : '=';
        chunk[used++] = '=';
    }
    rc = sl_buf_append(out, chunk, used);

out:
    if (rc < 0)
        b64_rollback(out, start);
    return rc;
}

int sl_base64_decode(const char *s, size_t n, struct sl_buf *out,
                     struct sl_diag *diag)
{
    unsigned char chunk[B64_CHUNK];
    size_t start = out->len, used = 0, i, k, pad;
    int rc = 0, d[4];
    uint32_t v;

    if (n % 4 != 0) {
        rc = sl_diag_set(diag, SL_EINVAL, NULL,
                         "invalid Base64: length %zu is not a multiple of 4 "
                         "(truncated at offset %zu)",
                         n, n - n % 4);
        goto out;
    }
    for (i = 0; i < n; i += 4) {
        pad = 0;
        for (k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            d[k] = b64_value(c);
            if (d[k] >= 0 && pad == 0)
                continue;
            /* Padding: only in the last group, only in its last two
             * places, and nothing but more padding after it. */
            if (c == '=' && i + 4 == n && k >= 2) {
                pad++;
                d[k] = 0;
                continue;
            }
            if (c == '=')
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid Base64: misplaced '=' at offset "
                                 "%zu",
                                 i + k);
            else if (pad > 0)
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid Base64: data after '=' at offset "
                                 "%zu",
                                 i + k);
            else if (c >= 0x21 && c <= 0x7e)
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid Base64: bad character '%c' at "
                                 "offset %zu",
                                 c, i + k);
            else
                rc = sl_diag_set(diag, SL_EINVAL, NULL,
                                 "invalid Base64: bad byte 0x%02X at offset "
                                 "%zu",
                                 c, i + k);
            goto out;
        }
        v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
            (uint32_t)d[3];
        /* Unused bits of the last symbol must be zero (one encoding per
         * byte string): 4 bits with "xx==", 2 bits with "xxx=". */
        if ((pad == 2 && (v & 0xffff) != 0) || (pad == 1 && (v & 0xff) != 0)) {
            rc = sl_diag_set(diag, SL_EINVAL, NULL,
                             "invalid Base64: non-zero padding bits at "
                             "offset %zu",
                             i + 3 - pad);
            goto out;
        }
        chunk[used++] = (unsigned char)(v >> 16);
        if (pad < 2)
            chunk[used++] = (unsigned char)(v >> 8);
        if (pad < 1)
            chunk[used++] = (unsigned char)v;
        if (used == sizeof(chunk)) {
            rc = sl_buf_append(out, chunk, used);
            if (rc < 0)
                goto out;
            used = 0;
        }
    }
    rc = sl_buf_append(out, chunk, used);

out:
    if (rc < 0)
        b64_rollback(out, start);
    return rc;
}
