/*
 * core/err.h - error codes, sl_strerror and the diagnostic carrier.
 *
 * Functions return 0 on success or one of the negative SL_E* codes below.
 * Human detail (what was wrong and where) travels separately in an optional
 * struct sl_diag, which every callee accepts as NULL.
 */
#ifndef SL_CORE_ERR_H
#define SL_CORE_ERR_H

#include <stddef.h>

enum {
    SL_OK = 0,
    SL_EINVAL = -1,     /* invalid argument or input */
    SL_ENOENT = -2,     /* no such object */
    SL_EEXIST = -3,     /* object already exists */
    SL_EAGAIN = -4,     /* try again later */
    SL_EBUSY = -5,      /* resource busy, limit reached */
    SL_ETIMEDOUT = -6,  /* operation timed out */
    SL_ECANCELED = -7,  /* operation canceled */
    SL_EIO = -8,        /* input/output error */
    SL_EPROTO = -9,     /* protocol error from a peer */
    SL_ETOOBIG = -10,   /* size limit exceeded */
    SL_ENOTSUP = -11,   /* operation not supported */
    SL_ENOMEM = -12,    /* out of memory (only where aborting is wrong) */
    SL_ECONFLICT = -13, /* stale version: the object changed meanwhile */
    SL_EGONE = -14,     /* history no longer available (watch too old) */
    SL_EPERM = -15,     /* not authorised */
    SL_ERR_COUNT_ = 16, /* number of codes including SL_OK; keep last */
};

/*
 * Return a static, lower-case description of 'rc' ("invalid argument").
 * Unknown codes give "unknown error". Never NULL.
 */
const char *sl_strerror(int rc);

/*
 * Return the symbolic name of 'rc' ("SL_EINVAL"), "SL_OK" for 0 and
 * "SL_E?" for unknown codes. Never NULL.
 */
const char *sl_errname(int rc);

/* Map an errno value (positive) to the nearest SL_E* code. */
int sl_err_from_errno(int e);

/*
 * Diagnostic detail for a failure: a message and the path of the field or
 * position at fault ("spec.filter.attributes.type", "line 3 column 7").
 * Fixed-size so it never allocates; long text is truncated.
 */
#define SL_DIAG_MSG_MAX   512
#define SL_DIAG_FIELD_MAX 192

struct sl_diag {
    char msg[SL_DIAG_MSG_MAX];
    char field[SL_DIAG_FIELD_MAX];
};

/* Clear 'd' (no-op when NULL). */
void sl_diag_clear(struct sl_diag *d);

/*
 * Record a failure in 'd' (no-op when NULL): 'field' may be NULL or "";
 * the message is printf-formatted. Returns 'rc' so a caller can write
 * `return sl_diag_set(d, SL_EINVAL, "id", "must not be empty");`.
 * A diag that already holds a message is overwritten.
 */
int sl_diag_set(struct sl_diag *d, int rc, const char *field, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/*
 * Prefix the field path in 'd' with 'prefix' and a dot ("spec" + "x" gives
 * "spec.x"); a bare prefix when the field is empty. No-op when NULL.
 */
void sl_diag_prefix(struct sl_diag *d, const char *prefix);

/*
 * Write "field: msg" (or just msg without a field) into 'out'. Returns 'out'.
 */
const char *sl_diag_format(const struct sl_diag *d, char *out, size_t outlen);

#endif
