/*
 * core/base64.h - standard Base64 (RFC 4648 section 4) with padding.
 *
 * Decoding is strict: only the standard alphabet, length a multiple of 4,
 * '=' only as final padding, and the unused bits of the last symbol must be
 * zero (so every byte string has exactly one accepted encoding). No
 * whitespace is skipped. On failure the output buffer is restored to its
 * length on entry.
 */
#ifndef SL_CORE_BASE64_H
#define SL_CORE_BASE64_H

#include <stddef.h>

struct sl_buf;
struct sl_diag;

/* Bytes needed to encode 'n' bytes, without the NUL. */
size_t sl_base64_encoded_len(size_t n);

/* Append the encoding of p[0..n) to 'out'. Returns 0 or SL_ETOOBIG. */
int sl_base64_encode(const void *p, size_t n, struct sl_buf *out);

/*
 * Append the decoding of s[0..n) to 'out'. Returns 0, SL_EINVAL with the
 * offset of the offending character in 'diag', or SL_ETOOBIG.
 */
int sl_base64_decode(const char *s, size_t n, struct sl_buf *out,
                     struct sl_diag *diag);

#endif
