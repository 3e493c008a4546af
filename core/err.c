/*
 * core/err.c - error strings and diagnostic helpers.
 */
#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
} err_table[SL_ERR_COUNT_] = {
    { "SL_OK", "success" },
    { "SL_EINVAL", "invalid argument" },
    { "SL_ENOENT", "no such object" },
    { "SL_EEXIST", "already exists" },
    { "SL_EAGAIN", "try again" },
    { "SL_EBUSY", "busy" },
    { "SL_ETIMEDOUT", "timed out" },
    { "SL_ECANCELED", "canceled" },
    { "SL_EIO", "input/output error" },
    { "SL_EPROTO", "protocol error" },
    { "SL_ETOOBIG", "too big" },
    { "SL_ENOTSUP", "not supported" },
    { "SL_ENOMEM", "out of memory" },
    { "SL_ECONFLICT", "version conflict" },
    { "SL_EGONE", "history no longer available" },
    { "SL_EPERM", "not authorised" },
};

const char *sl_strerror(int rc)
{
    if (rc > 0 || -rc >= SL_ERR_COUNT_)
        return "unknown error";
    return err_table[-rc].text;
}

const char *sl_errname(int rc)
{
    if (rc > 0 || -rc >= SL_ERR_COUNT_)
        return "SL_E?";
    return err_table[-rc].name;
}

int sl_err_from_errno(int e)
{
    switch (e) {
    case 0:
        return SL_OK;
    case ENOENT:
        return SL_ENOENT;
    case EEXIST:
        return SL_EEXIST;
    case EAGAIN:
        return SL_EAGAIN;
    case EBUSY:
        return SL_EBUSY;
    case ETIMEDOUT:
        return SL_ETIMEDOUT;
    case ECANCELED:
        return SL_ECANCELED;
    case EPROTO:
        return SL_EPROTO;
    case E2BIG:
    case EFBIG:
    case EMSGSIZE:
        return SL_ETOOBIG;
    case ENOTSUP:
        return SL_ENOTSUP;
    case ENOMEM:
        return SL_ENOMEM;
    case EACCES:
    case EPERM:
        return SL_EPERM;
    case EINVAL:
        return SL_EINVAL;
    default:
        return SL_EIO;
    }
}

void sl_diag_clear(struct sl_diag *d)
{
    if (d == NULL)
        return;
    d->msg[0] = '\0';
    d->field[0] = '\0';
}

int sl_diag_set(struct sl_diag *d, int rc, const char *field, const char *fmt,
                ...)
{
    va_list ap;

    if (d == NULL)
        return rc;
    snprintf(d->field, sizeof(d->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    return rc;
}

void sl_diag_prefix(struct sl_diag *d, const char *prefix)
{
    char tmp[2 * SL_DIAG_FIELD_MAX + 2];
    size_t n;

    if (d == NULL || prefix == NULL || prefix[0] == '\0')
        return;
    if (d->field[0] == '\0') {
        snprintf(d->field, sizeof(d->field), "%s", prefix);
        return;
    }
    /* "[3]" joins without a dot: "items" + "[3].x" gives "items[3].x". */
    snprintf(tmp, sizeof(tmp), "%s%s%s", prefix, d->field[0] == '[' ? "" : ".",
             d->field);
    n = strlen(tmp);
    if (n >= sizeof(d->field))
        n = sizeof(d->field) - 1;
    memcpy(d->field, tmp, n);
    d->field[n] = '\0';
}

const char *sl_diag_format(const struct sl_diag *d, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    if (d == NULL)
        snprintf(out, outlen, "%s", "");
    else if (d->field[0] != '\0')
        snprintf(out, outlen, "%s: %s", d->field, d->msg);
    else
        snprintf(out, outlen, "%s", d->msg);
    return out;
}
