/*
 * core/uuid.c - random (version 4) UUIDs from getrandom(2).
 *
 * 122 random bits per UUID from the kernel's CSPRNG (RFC 4122 section
 * 4.4); no user-space generator, so forked processes never repeat ids.
 */
#include "core/uuid.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/types.h>

#include "core/err.h"

static const char uuid_hex[] = "0123456789abcdef";

/* Fill p[0..n) from the kernel; 0 or SL_EIO. */
static int uuid_random(unsigned char *p, size_t n)
{
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return SL_EIO;
        }
        got += (size_t)r;
    }
    return 0;
}

int sl_uuid_v4(char out[SL_UUID_STR_LEN + 1])
{
    unsigned char b[16];
    size_t i, k = 0;
    int rc;

    out[0] = '\0';
    rc = uuid_random(b, sizeof(b));
    if (rc < 0)
        return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
    for (i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = uuid_hex[b[i] >> 4];
        out[k++] = uuid_hex[b[i] & 15];
    }
    out[k] = '\0';
    return 0;
}

bool sl_uuid_valid(const char *s)
{
    size_t i;
    char c;

    if (s == NULL)
        return false;
    for (i = 0; i < SL_UUID_STR_LEN; i++) {
        c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     (c >= 'A' && c <= 'F'))) {
            return false; /* also stops at an early NUL */
        }
    }
    return s[SL_UUID_STR_LEN] == '\0';
}
