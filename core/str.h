/*
 * core/str.h - small string helpers that libc lacks or gets wrong.
 *
 * ASCII-only case folding (locale-independent), bounded copies, and a
 * strict decimal integer parser (atoi/strtol without their traps).
 */
#ifndef SL_CORE_STR_H
#define SL_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ASCII case-insensitive equality / prefix test. */
bool sl_str_eq_ci(const char *a, const char *b);
bool sl_str_prefix(const char *s, const char *prefix);
bool sl_str_prefix_ci(const char *s, const char *prefix);
bool sl_str_suffix(const char *s, const char *suffix);
/* ASCII lower-case 's' in place; returns 's'. */
char *sl_str_lower(char *s);

/*
 * Copy 'src' into 'dst' of 'size' bytes, always NUL-terminating when size>0.
 * Returns strlen(src); a value >= size means the copy was truncated.
 */
size_t sl_strlcpy(char *dst, const char *src, size_t size);

/*
 * Parse the whole of s[0..n) as a base-10 integer: optional sign ('+' only
 * when 'allow_plus'), at least one digit, nothing else, within
 * [min, max]. Returns 0 or SL_EINVAL (syntax) / SL_ETOOBIG (range).
 */
int sl_str_to_i64(const char *s, size_t n, bool allow_plus, int64_t min,
                  int64_t max, int64_t *out);

#endif
