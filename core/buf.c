/*
 * core/buf.c - bounded growable byte buffers.
 */
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"

void sl_buf_init(struct sl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max > SL_BUF_UNLIMITED ? SL_BUF_UNLIMITED : max;
}

void sl_buf_fini(struct sl_buf *b)
{
    sl_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sl_buf_reset(struct sl_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Make room for 'n' more bytes plus the NUL. */
static int buf_reserve(struct sl_buf *b, size_t n)
{
    size_t need, cap;

    if (n > b->max - b->len)
        return SL_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->data = sl_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int sl_buf_append(struct sl_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc < 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sl_buf_appends(struct sl_buf *b, const char *s)
{
    return sl_buf_append(b, s, strlen(s));
}

int sl_buf_appendc(struct sl_buf *b, char c)
{
    return sl_buf_append(b, &c, 1);
}

int sl_buf_vappendf(struct sl_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return SL_EINVAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int sl_buf_appendf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = sl_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *sl_buf_steal(struct sl_buf *b, size_t *plen)
{
    char *p = b->data;

    if (plen != NULL)
        *plen = b->len;
    if (p == NULL)
        p = sl_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *sl_buf_str(const struct sl_buf *b)
{
    return b->data ? b->data : "";
}
