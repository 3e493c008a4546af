/*
 * core/buf.h - bounded growable byte buffers (like curl's dynbuf).
 *
 * A buffer grows on demand up to the 'max' given at init and fails with
 * SL_ETOOBIG beyond it, so input-driven growth is always bounded. The
 * contents are kept NUL-terminated (the NUL is not counted in 'len' nor in
 * 'max'), so a buffer of text can be used as a C string.
 *
 *     struct sl_buf b;
 *     sl_buf_init(&b, 4096);
 *     if (sl_buf_appendf(&b, "%s=%d", k, v) < 0) ... too big ...
 *     use(b.data, b.len);
 *     sl_buf_fini(&b);
 *
 * Any append may move 'data': pointers into it are invalid after one.
 */
#ifndef SL_CORE_BUF_H
#define SL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sl_buf {
    char *data; /* NULL until the first append; then NUL-terminated */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated, NUL included */
    size_t max; /* limit for 'len' */
};

#define SL_BUF_UNLIMITED ((size_t)-1 / 2)

/* Set up an empty buffer that may hold up to 'max' bytes. Never fails. */
void sl_buf_init(struct sl_buf *b, size_t max);
/* Free the storage; the buffer may be re-initialised afterwards. */
void sl_buf_fini(struct sl_buf *b);
/* Forget the contents but keep the storage. */
void sl_buf_reset(struct sl_buf *b);

/* Append bytes. Returns 0, or SL_ETOOBIG (buffer unchanged). */
int sl_buf_append(struct sl_buf *b, const void *p, size_t n);
int sl_buf_appends(struct sl_buf *b, const char *s);
int sl_buf_appendc(struct sl_buf *b, char c);
int sl_buf_appendf(struct sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sl_buf_vappendf(struct sl_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Take the storage out of the buffer: returns a NUL-terminated heap string
 * (free with sl_free; "" when empty) and leaves 'b' empty and reusable.
 * '*plen' receives the length when not NULL.
 */
char *sl_buf_steal(struct sl_buf *b, size_t *plen);

/* Return the contents as a C string ("" when nothing was appended). */
const char *sl_buf_str(const struct sl_buf *b);

#endif
