/*
 * core/pct.h - percent-encoding of header values (CloudEvents HTTP binding
 * section 3.1.3.2).
 *
 * Encoding walks the value by code point and encodes space, '"', '%' and
 * every character outside printable ASCII U+0021..U+007E as the %XY of
 * each of its UTF-8 bytes, with upper-case hex. Nothing else is encoded.
 *
 * Decoding: an RFC 7230 quoted-string is unquoted first (backslash escapes
 * undone); then one round of %XY decoding (either hex case, needless
 * escapes accepted); the result must be valid UTF-8. In lenient mode raw
 * bytes >= 0x80 that form valid UTF-8 are accepted as they are (what Go
 * and Java SDKs send); strict mode rejects them. Both modes reject raw
 * control bytes (0x00..0x1F except tab, 0x7F); escaped ones decode. A value
 * that starts with '"' is always read as a quoted-string. Input to the
 * encoder that is not valid UTF-8 is escaped byte by byte (and a decoder
 * will then reject it). On failure 'out' is restored to its length on
 * entry.
 */
#ifndef SL_CORE_PCT_H
#define SL_CORE_PCT_H

#include <stdbool.h>
#include <stddef.h>

struct sl_buf;
struct sl_diag;

/* Append the encoding of s[0..n) to 'out'. Returns 0 or SL_ETOOBIG. */
int sl_pct_encode(const char *s, size_t n, struct sl_buf *out);

/*
 * Append the decoding of s[0..n) to 'out'. Returns 0, SL_EINVAL (bad '%'
 * escape, invalid UTF-8, unterminated quoted-string; 'diag' names the byte
 * offset) or SL_ETOOBIG.
 */
int sl_pct_decode(const char *s, size_t n, bool lenient, struct sl_buf *out,
                  struct sl_diag *diag);

#endif
