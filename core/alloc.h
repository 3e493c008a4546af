/*
 * core/alloc.h - allocation that never returns NULL.
 *
 * sl_x* functions abort the process with the requested size logged to
 * stderr when memory runs out (like Redis zmalloc): callers never check
 * for NULL. Input-driven growth must be bounded by the caller (see
 * core/buf.h), so running out of memory is a bug or an overloaded host,
 * not an input error. This file is the only place that calls malloc/free.
 *
 * Builds with SL_ALLOC_COUNT (test builds) count live blocks, so each test
 * can end by asserting sl_alloc_live() == 0.
 */
#ifndef SL_CORE_ALLOC_H
#define SL_CORE_ALLOC_H

#include <stddef.h>

void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t nmemb, size_t size);
/* Grow or shrink 'p' (may be NULL). Never returns NULL, even for n == 0. */
void *sl_xrealloc(void *p, size_t n);
char *sl_xstrdup(const char *s);
/* Copy at most 'n' bytes of 's' and NUL-terminate. */
char *sl_xstrndup(const char *s, size_t n);
/* Copy 'n' bytes of 'p' and append a NUL byte (handy for text). */
void *sl_xmemdup(const void *p, size_t n);
/* Free 'p'; sl_free(NULL) is a no-op. */
void sl_free(void *p);

/* Live blocks allocated here; always 0 unless built with SL_ALLOC_COUNT. */
long sl_alloc_live(void);

/* Recover the struct that embeds 'ptr' as member 'member'. */
#define sl_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
