/*
 * core/alloc.c - the project's only caller of malloc, realloc and free.
 */
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SL_ALLOC_COUNT
static long alloc_live;
#define ALLOC_COUNT(d) __atomic_add_fetch(&alloc_live, (d), __ATOMIC_RELAXED)
#else
#define ALLOC_COUNT(d) ((void)0)
#endif

static void alloc_oom(size_t n)
{
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
    abort();
}

void *sl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        alloc_oom(n);
    ALLOC_COUNT(1);
    return p;
}

void *sl_xcalloc(size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > (size_t)-1 / size)
        alloc_oom((size_t)-1);
    p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        alloc_oom(nmemb * size);
    ALLOC_COUNT(1);
    return p;
}

void *sl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        alloc_oom(n);
    if (p == NULL)
        ALLOC_COUNT(1);
    return q;
}

char *sl_xstrdup(const char *s)
{
    return sl_xmemdup(s, strlen(s));
}

char *sl_xstrndup(const char *s, size_t n)
{
    const char *end = memchr(s, '\0', n);

    return sl_xmemdup(s, end ? (size_t)(end - s) : n);
}

void *sl_xmemdup(const void *p, size_t n)
{
    char *q = sl_xmalloc(n + 1);

    if (n > 0)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

void sl_free(void *p)
{
    if (p == NULL)
        return;
    ALLOC_COUNT(-1);
    free(p);
}

long sl_alloc_live(void)
{
#ifdef SL_ALLOC_COUNT
    return __atomic_load_n(&alloc_live, __ATOMIC_RELAXED);
#else
    return 0;
#endif
}
