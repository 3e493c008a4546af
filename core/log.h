/*
 * core/log.h - levelled logfmt logging.
 *
 * One line per record on the log stream (stderr by default):
 *   ts=2026-11-26T20:30:00.123Z level=info comp=broker obj=default/b msg="..."
 * Values with spaces, '"', '=' or control characters are quoted with
 * backslash escapes, so each line stays machine-parseable. SL_LOG checks the
 * level before any formatting happens.
 *
 * core/ and proto/ never log (they return codes); this header is for the
 * layers above. Thread-safe: each record is written with one write(2).
 */
#ifndef SL_CORE_LOG_H
#define SL_CORE_LOG_H

#include <stdbool.h>

enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN = 1,
    SL_LOG_INFO = 2,
    SL_LOG_DEBUG = 3,
};

/* Who is speaking: every record names its component and object. */
struct sl_log_ctx {
    const char *comp; /* "broker", "source", ...; NULL means "sluice" */
    char obj[128];    /* "default/my-broker", or "" */
};

/* The process-wide threshold; records above it are dropped cheaply. */
extern enum sl_log_level sl_log_threshold;

/* Parse "error|warn|info|debug". Returns 0 or SL_EINVAL. */
int sl_log_level_parse(const char *s, enum sl_log_level *out);
const char *sl_log_level_name(enum sl_log_level level);

/* Send records to file descriptor 'fd' (default 2). */
void sl_log_set_fd(int fd);

/* Fill a context: component and "ns/name" (either part may be NULL). */
void sl_log_ctx_init(struct sl_log_ctx *ctx, const char *comp, const char *ns,
                     const char *name);

/*
 * Write one record. 'ctx' may be NULL. 'kv' is an optional NULL-terminated
 * array of alternating key/value strings appended after msg (may be NULL).
 */
void sl_log_write(enum sl_log_level level, const struct sl_log_ctx *ctx,
                  const char *const *kv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define SL_LOG(level, ctx, ...)                              \
    do {                                                     \
        if ((level) <= sl_log_threshold)                     \
            sl_log_write((level), (ctx), NULL, __VA_ARGS__); \
    } while (0)

#endif
