/*
 * core/utf8.h - UTF-8 validation and code point iteration.
 *
 * Validation is strict (RFC 3629): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF.
 */
#ifndef SL_CORE_UTF8_H
#define SL_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Return true when p[0..n) is valid UTF-8. When false and 'bad_at' is not
 * NULL, it receives the offset of the first byte of the invalid sequence.
 */
bool sl_utf8_valid(const void *p, size_t n, size_t *bad_at);

/*
 * Decode one code point at p[0..n) (n > 0). Returns the number of bytes
 * consumed (1..4) and the code point in '*cp', or 0 for an invalid
 * sequence ('*cp' untouched).
 */
size_t sl_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Number of code points in valid UTF-8 p[0..n). */
size_t sl_utf8_count(const void *p, size_t n);

#endif
