/*
 * core/log.c - logfmt records, one write(2) each.
 *
 * A record is assembled in a fixed buffer on the stack (no allocation, so
 * logging works when memory is short) and written with a single write(2),
 * which keeps lines from different threads whole: a pipe does this for
 * records up to PIPE_BUF bytes, and regular files opened with O_APPEND for
 * any size. A record longer than LOG_LINE_MAX is cut inside its last value
 * and marked with "..."; quoting stays balanced and the line still ends in
 * a newline. The time is formatted here with gmtime_r so that this file
 * depends on nothing but libc.
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/str.h"

#define LOG_LINE_MAX 4096
#define LOG_MSG_MAX  2048

enum sl_log_level sl_log_threshold = SL_LOG_INFO;

static int log_fd = 2;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

int sl_log_level_parse(const char *s, enum sl_log_level *out)
{
    size_t i;

    if (s == NULL)
        return SL_EINVAL;
    for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
        if (sl_str_eq_ci(s, log_names[i])) {
            *out = (enum sl_log_level)i;
            return 0;
        }
    }
    return SL_EINVAL;
}

const char *sl_log_level_name(enum sl_log_level level)
{
    if ((unsigned)level >= sizeof(log_names) / sizeof(log_names[0]))
        return "unknown";
    return log_names[level];
}

void sl_log_set_fd(int fd)
{
    __atomic_store_n(&log_fd, fd, __ATOMIC_RELAXED);
}

/* Copy 'src' into 'dst' of 'size' bytes, cutting at 'size' - 1. */
static void log_copy(char *dst, size_t size, const char *src)
{
    if (src != NULL)
        sl_strlcpy(dst, src, size);
    else
        dst[0] = '\0';
}

void sl_log_ctx_init(struct sl_log_ctx *ctx, const char *comp, const char *ns,
                     const char *name)
{
    ctx->comp = comp;
    if (ns != NULL && ns[0] != '\0' && name != NULL && name[0] != '\0')
        snprintf(ctx->obj, sizeof(ctx->obj), "%s/%s", ns, name);
    else if (name != NULL && name[0] != '\0')
        log_copy(ctx->obj, sizeof(ctx->obj), name);
    else
        log_copy(ctx->obj, sizeof(ctx->obj), ns);
}

/* ---- record assembly ---- */

/*
 * The line under construction. 'room' keeps two bytes back for a closing
 * quote and the newline, so a cut value can always be terminated.
 */
struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool full;
};

#define LOG_RESERVE 2

static bool log_fits(const struct log_line *l, size_t n)
{
    return !l->full && n <= sizeof(l->buf) - LOG_RESERVE - l->len;
}

static void log_put(struct log_line *l, const char *s, size_t n)
{
    if (!log_fits(l, n)) {
        l->full = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void log_puts(struct log_line *l, const char *s)
{
    log_put(l, s, strlen(s));
}

/* logfmt (go-logfmt) quotes a value holding space, '=', '"' or controls. */
static bool log_needs_quotes(const char *v)
{
    const unsigned char *p = (const unsigned char *)v;

    if (*p == '\0')
        return true;
    for (; *p != '\0'; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == 0x7F)
            return true;
    return false;
}

/* Bytes still free for content, the reserve for '"' and '\n' excluded. */
static size_t log_room(const struct log_line *l)
{
    return l->full ? 0 : sizeof(l->buf) - LOG_RESERVE - l->len;
}

/* Key characters that would break the line become '_'. */
static char log_key_char(unsigned char c)
{
    return (c <= ' ' || c == '=' || c == '"' || c == 0x7F) ? '_' : (char)c;
}

/* The escape for byte 'c' inside a quoted value, in 'esc'; its length. */
static size_t log_escape(unsigned char c, char esc[8])
{
    const char *rep = NULL;

    switch (c) {
    case '"':
        rep = "\\\"";
        break;
    case '\\':
        rep = "\\\\";
        break;
    case '\n':
        rep = "\\n";
        break;
    case '\r':
        rep = "\\r";
        break;
    case '\t':
        rep = "\\t";
        break;
    default:
        if (c < 0x20 || c == 0x7F)
            return (size_t)snprintf(esc, 8, "\\u%04x", c);
        esc[0] = (char)c;
        return 1;
    }
    memcpy(esc, rep, 2);
    return 2;
}

/* Append a quoted, escaped value; cut with "..." when the line is full. */
static void log_quoted(struct log_line *l, const char *v)
{
    const unsigned char *p;
    char esc[8];
    size_t n;

    /* The caller checked that at least '"..."' fits; the reserve has '"'. */
    log_put(l, "\"", 1);
    for (p = (const unsigned char *)v; *p != '\0'; p++) {
        n = log_escape(*p, esc);
        if (n + 3 > log_room(l)) {
            memcpy(l->buf + l->len, "...", 3);
            l->len += 3;
            l->full = true;
            break;
        }
        log_put(l, esc, n);
    }
    l->buf[l->len++] = '"';
}

/* Append " key=value"; nothing when not even " key=\"...\"" still fits. */
static void log_pair(struct log_line *l, const char *k, const char *v)
{
    size_t klen = strlen(k), i, vlen;

    if (v == NULL)
        v = "";
    if (klen == 0) {
        k = "_";
        klen = 1;
    }
    if (klen + 2 + 4 > log_room(l)) {
        l->full = true;
        return;
    }
    l->buf[l->len++] = ' ';
    for (i = 0; i < klen; i++)
        l->buf[l->len++] = log_key_char((unsigned char)k[i]);
    l->buf[l->len++] = '=';
    vlen = strlen(v);
    if (!log_needs_quotes(v) && vlen <= log_room(l))
        log_put(l, v, vlen);
    else
        log_quoted(l, v); /* also for a plain value cut short */
}

/* RFC 3339 UTC with milliseconds: 2026-11-26T20:30:00.123Z. */
static void log_time(char *dst, size_t size)
{
    struct timespec ts;
    struct tm tm;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
        gmtime_r(&ts.tv_sec, &tm) == NULL) {
        snprintf(dst, size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000));
}

static void log_emit(const char *p, size_t n)
{
    int fd = __atomic_load_n(&log_fd, __ATOMIC_RELAXED);

    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report a failing log stream */
        p += w;
        n -= (size_t)w;
    }
}

void sl_log_write(enum sl_log_level level, const struct sl_log_ctx *ctx,
                  const char *const *kv, const char *fmt, ...)
{
    struct log_line line;
    char ts[96], msg[LOG_MSG_MAX];
    va_list ap;
    size_t i;
    int n;

    if (level > sl_log_threshold)
        return;
    line.len = 0;
    line.full = false;
    log_time(ts, sizeof(ts));
    log_puts(&line, "ts=");
    log_puts(&line, ts);
    log_pair(&line, "level", sl_log_level_name(level));
    log_pair(&line, "comp",
             ctx != NULL && ctx->comp != NULL ? ctx->comp : "sluice");
    if (ctx != NULL && ctx->obj[0] != '\0')
        log_pair(&line, "obj", ctx->obj);
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        sl_strlcpy(msg, fmt, sizeof(msg));
    else if ((size_t)n >= sizeof(msg))
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    log_pair(&line, "msg", msg);
    for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2)
        log_pair(&line, kv[i], kv[i + 1]);
    line.buf[line.len++] = '\n';
    log_emit(line.buf, line.len);
}
