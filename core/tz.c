/*
 * core/tz.c - TZif zones (RFC 8536): reading, lookup, local time and Go's
 * time.Date(), with our own calendar arithmetic (core/tz_posix.c holds it
 * and the footer rules), so nothing depends on the process's TZ, tzset()
 * or localtime().
 *
 * A zone is a sorted transition table (instant -> local time type) plus,
 * for instants on or after the last transition, an optional footer rule:
 * a standard offset and, when it has daylight saving time, the two
 * yearly rules at which DST starts and ends. Only offsets are kept; the
 * abbreviations are checked for a valid index and then dropped.
 *
 * The parser reads untrusted bytes: every length is checked against what
 * is left before it is read, counts are bounded by the file size (itself
 * at most SL_TZ_FILE_MAX when read from disk) and every index is checked
 * before use.
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/str.h"
#include "core/tz_posix.h"

/* RFC 8536 section 3.2: utoff SHOULD lie in [-89999, 93599]; we require
 * it, which keeps local times within a day of UTC. */
#define TZ_UTOFF_MIN (-89999)
#define TZ_UTOFF_MAX 93599

/* At most 256 local time types: transition indices are one byte. */
#define TZ_TYPES_MAX 256

struct sl_tz {
    char name[SL_TZ_NAME_MAX];
    size_t ntrans;             /* transitions in trans[] and idx[] */
    int64_t *trans;            /* strictly ascending instants */
    uint8_t *idx;              /* local time type from each transition on */
    size_t ntypes;             /* 1..TZ_TYPES_MAX */
    int32_t off[TZ_TYPES_MAX]; /* each type's offset */
    struct sl__tz_footer footer;
};

static int64_t tz_clamp(int64_t t, int64_t lim)
{
    return t > lim ? lim : t < -lim ? -lim : t;
}

/* ---- lookup ---- */

int32_t sl_tz_lookup(const struct sl_tz *z, int64_t t, int64_t *start,
                     int64_t *end)
{
    int64_t s = INT64_MIN, e = INT64_MAX;
    int32_t off;
    size_t lo, hi;

    if (z == NULL) {
        off = 0;
    } else if (z->ntrans == 0 || t >= z->trans[z->ntrans - 1]) {
        if (z->ntrans > 0)
            s = z->trans[z->ntrans - 1];
        if (z->footer.valid) {
            int64_t fs, fe;
            off = sl__tz_footer_lookup(&z->footer, t, &fs, &fe);
            if (fs > s)
                s = fs;
            e = fe;
        } else {
            off = z->off[z->ntrans > 0 ? z->idx[z->ntrans - 1] : 0];
        }
    } else if (t < z->trans[0]) {
        /* RFC 8536 section 3.2: before the first transition, type 0. */
        off = z->off[0];
        e = z->trans[0];
    } else {
        /* trans[lo] <= t < trans[hi] */
        lo = 0;
        hi = z->ntrans - 1;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->trans[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        off = z->off[z->idx[lo]];
        s = z->trans[lo];
        e = z->trans[hi];
    }
    if (start != NULL)
        *start = s;
    if (end != NULL)
        *end = e;
    return off;
}

int32_t sl_tz_offset(const struct sl_tz *z, int64_t t)
{
    return sl_tz_lookup(z, t, NULL, NULL);
}

void sl_tz_local(const struct sl_tz *z, int64_t t, struct sl_tz_tm *out)
{
    int64_t local, days, secs, y;

    out->offset = sl_tz_offset(z, t);
    t = tz_clamp(t, SL__TZ_T_LIMIT);
    local = t + out->offset;
    days = sl__tz_fdiv(local, SL__TZ_SEC_PER_DAY);
    secs = local - days * SL__TZ_SEC_PER_DAY;
    sl_tz_civil_from_days(days, &y, &out->month, &out->day);
    out->year = (int32_t)y;
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    out->wday = (int)sl__tz_fmod(days + 4, 7);
    out->yday = (int)(days - sl_tz_days_from_civil(y, 1, 1));
}

/* Go's norm(): bring lo into [0, base), carrying into hi. */
static void tz_norm(int64_t *hi, int64_t *lo, int64_t base)
{
    int64_t n = sl__tz_fdiv(*lo, base);

    *hi += n;
    *lo -= n * base;
}

int64_t sl_tz_mktime(const struct sl_tz *z, int64_t year, int64_t month,
                     int64_t day, int64_t hour, int64_t minute, int64_t second)
{
    const int64_t lim = INT64_C(1) << 31;
    int64_t m, unix, start, end, utc;
    int32_t off;

    year = tz_clamp(year, lim);
    m = tz_clamp(month, lim) - 1;
    day = tz_clamp(day, lim);
    hour = tz_clamp(hour, lim);
    minute = tz_clamp(minute, lim);
    second = tz_clamp(second, lim);
    tz_norm(&year, &m, 12);
    tz_norm(&minute, &second, 60);
    tz_norm(&hour, &minute, 60);
    tz_norm(&day, &hour, 24);
    unix = (sl_tz_days_from_civil(year, (int)m + 1, 1) + day - 1) *
               SL__TZ_SEC_PER_DAY +
           hour * 3600 + minute * 60 + second;
    /* Go's time.Date(): the offset at the local time read as UTC, unless
     * the result falls outside that offset's span. */
    off = sl_tz_lookup(z, unix, &start, &end);
    if (off != 0) {
        utc = unix - off;
        if (utc < start || utc >= end)
            off = sl_tz_offset(z, utc);
        unix -= off;
    }
    return unix;
}

/* ---- TZif ---- */

/* A cursor over the untrusted bytes. */
struct tz_rd {
    const uint8_t *p;
    size_t n;
};

static bool tz_take(struct tz_rd *r, uint64_t len, const uint8_t **out)
{
    if (len > r->n)
        return false;
    *out = r->p;
    r->p += len;
    r->n -= (size_t)len;
    return true;
}

static uint32_t tz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int64_t tz_be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

/* The six counts of a TZif header. */
struct tz_hdr {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static bool tz_header(struct tz_rd *r, struct tz_hdr *h, const char **why)
{
    const uint8_t *p;

    if (!tz_take(r, 44, &p)) {
        *why = "truncated header";
        return false;
    }
    if (memcmp(p, "TZif", 4) != 0) {
        *why = "bad magic";
        return false;
    }
    h->version = (char)p[4];
    if (h->version != 0 && h->version != '2' && h->version != '3' &&
        h->version != '4') {
        *why = "unsupported version";
        return false;
    }
    h->isutcnt = tz_be32(p + 20);
    h->isstdcnt = tz_be32(p + 24);
    h->leapcnt = tz_be32(p + 28);
    h->timecnt = tz_be32(p + 32);
    h->typecnt = tz_be32(p + 36);
    h->charcnt = tz_be32(p + 40);
    return true;
}

/* Bytes of the data block after header 'h' with 'ts'-byte times. */
static uint64_t tz_block_len(const struct tz_hdr *h, unsigned ts)
{
    return (uint64_t)h->timecnt * (ts + 1) + (uint64_t)h->typecnt * 6 +
           h->charcnt + (uint64_t)h->leapcnt * (ts + 4) + h->isstdcnt +
           h->isutcnt;
}

/* Read the data block of 'h' into 'z'. */
static bool tz_block(struct tz_rd *r, const struct tz_hdr *h, unsigned ts,
                     struct sl_tz *z, const char **why)
{
    const uint8_t *times, *idx, *types, *chars, *skip, *isstd, *isut;
    size_t i;

    *why = "truncated data";
    if (h->typecnt == 0 || h->typecnt > TZ_TYPES_MAX || h->charcnt == 0) {
        *why = "bad type or abbreviation count";
        return false;
    }
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
        *why = "bad standard/UT indicator count";
        return false;
    }
    if (!tz_take(r, (uint64_t)h->timecnt * ts, &times) ||
        !tz_take(r, h->timecnt, &idx) ||
        !tz_take(r, (uint64_t)h->typecnt * 6, &types) ||
        !tz_take(r, h->charcnt, &chars) ||
        !tz_take(r, (uint64_t)h->leapcnt * (ts + 4), &skip) ||
        !tz_take(r, h->isstdcnt, &isstd) || !tz_take(r, h->isutcnt, &isut))
        return false;
    (void)chars;
    (void)skip;
    for (i = 0; i < h->isstdcnt; i++)
        if (isstd[i] > 1 || (h->isutcnt != 0 && isut[i] > isstd[i])) {
            *why = "bad standard/UT indicator";
            return false;
        }
    for (i = 0; i < h->isutcnt; i++)
        if (isut[i] > 1) {
            *why = "bad standard/UT indicator";
            return false;
        }
    z->ntypes = h->typecnt;
    for (i = 0; i < h->typecnt; i++) {
        const uint8_t *t = types + 6 * i;
        int32_t off = (int32_t)tz_be32(t);
        if (off < TZ_UTOFF_MIN || off > TZ_UTOFF_MAX) {
            *why = "UT offset out of range";
            return false;
        }
        if (t[4] > 1 || t[5] >= h->charcnt) {
            *why = "bad local time type";
            return false;
        }
        z->off[i] = off;
    }
    z->ntrans = h->timecnt;
    if (z->ntrans > 0) {
        z->trans = sl_xmalloc(z->ntrans * sizeof(*z->trans));
        z->idx = sl_xmalloc(z->ntrans);
    }
    for (i = 0; i < h->timecnt; i++) {
        const uint8_t *t = times + (size_t)ts * i;
        z->trans[i] = ts == 8 ? tz_be64(t) : (int64_t)(int32_t)tz_be32(t);
        if (i > 0 && z->trans[i] <= z->trans[i - 1]) {
            *why = "transition times not ascending";
            return false;
        }
        if (idx[i] >= h->typecnt) {
            *why = "bad transition type";
            return false;
        }
        z->idx[i] = idx[i];
    }
    return true;
}

/* The footer: '\n' TZ '\n'. Missing or invalid: none (tzcode, Go). */
static void tz_footer_read(struct tz_rd *r, struct sl__tz_footer *f)
{
    const uint8_t *nl;

    memset(f, 0, sizeof(*f));
    if (r->n < 2 || r->p[0] != '\n')
        return;
    nl = memchr(r->p + 1, '\n', r->n - 1);
    if (nl == NULL || nl == r->p + 1)
        return;
    if (!sl__tz_footer_parse((const char *)r->p + 1, (const char *)nl, f))
        memset(f, 0, sizeof(*f));
}

static struct sl_tz *tz_new(const char *name)
{
    struct sl_tz *z = sl_xcalloc(1, sizeof(*z));

    sl_strlcpy(z->name, name, sizeof(z->name));
    z->ntypes = 1;
    return z;
}

void sl_tz_free(struct sl_tz *z)
{
    if (z == NULL)
        return;
    sl_free(z->trans);
    sl_free(z->idx);
    sl_free(z);
}

int sl_tz_parse(const void *data, size_t n, const char *name,
                struct sl_tz **out, struct sl_diag *d)
{
    struct tz_rd r = { data, n };
    struct tz_hdr h;
    const uint8_t *skip;
    const char *why = "";
    struct sl_tz *z = tz_new(name);

    *out = NULL;
    if (!tz_header(&r, &h, &why))
        goto bad;
    if (h.version == 0) {
        if (!tz_block(&r, &h, 4, z, &why))
            goto bad;
    } else {
        /* RFC 8536 section 4: a version 2+ reader skips the version 1
         * block and reads the 64-bit one and the footer. */
        if (!tz_take(&r, tz_block_len(&h, 4), &skip)) {
            why = "truncated data";
            goto bad;
        }
        if (!tz_header(&r, &h, &why))
            goto bad;
        if (h.version == 0) {
            why = "second header without a version";
            goto bad;
        }
        if (!tz_block(&r, &h, 8, z, &why))
            goto bad;
        tz_footer_read(&r, &z->footer);
    }
    *out = z;
    return 0;
bad:
    sl_tz_free(z);
    return sl_diag_set(d, SL_EINVAL, NULL,
                       "malformed time zone information for %s: %s", name, why);
}

/* ---- loading ---- */

int sl_tz_name_check(const char *name, struct sl_diag *d)
{
    size_t i, n = strlen(name), comp = 0;

    if (n == 0 || n >= SL_TZ_NAME_MAX)
        return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (c == '/') {
            if (comp == 0)
                return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
            comp = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'))
            return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
        comp++;
    }
    if (comp == 0)
        return sl_diag_set(d, SL_EINVAL, NULL, "invalid location name");
    return 0;
}

int sl_tz_load_file(const char *path, const char *name, struct sl_tz **out,
                    struct sl_diag *d)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    ssize_t got;
    int fd, rc, e;

    *out = NULL;
    /* O_NONBLOCK: a FIFO planted under the zone directory must not block
     * the open; fstat() then refuses anything but a regular file. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return sl_diag_set(d, SL_ENOENT, NULL, "unknown time zone %s",
                               name);
        return sl_diag_set(d, SL_EIO, NULL, "cannot read time zone %s: %s",
                           name, sl_strerror(sl_err_from_errno(e)));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = sl_diag_set(d, SL_ENOENT, NULL, "unknown time zone %s", name);
        goto out;
    }
    /* One byte over the limit tells a too-large file from a full one. */
    buf = sl_xmalloc(SL_TZ_FILE_MAX + 1);
    while (len < SL_TZ_FILE_MAX + 1) {
        got = read(fd, buf + len, SL_TZ_FILE_MAX + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = sl_diag_set(d, SL_EIO, NULL, "cannot read time zone %s: %s",
                             name, sl_strerror(sl_err_from_errno(errno)));
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > SL_TZ_FILE_MAX) {
        rc = sl_diag_set(d, SL_EINVAL, NULL,
                         "malformed time zone information for %s: file "
                         "larger than %d bytes",
                         name, SL_TZ_FILE_MAX);
        goto out;
    }
    rc = sl_tz_parse(buf, len, name, out, d);
out:
    sl_free(buf);
    close(fd);
    return rc;
}

int sl_tz_load(const char *dir, const char *name, struct sl_tz **out,
               struct sl_diag *d)
{
    char path[4096];
    int n, rc;

    *out = NULL;
    if (name[0] == '\0' || strcmp(name, "UTC") == 0) {
        *out = tz_new("UTC");
        return 0;
    }
    if (strcmp(name, "Local") == 0) {
        rc = sl_tz_load_file(SL_TZ_LOCALTIME, name, out, d);
        if (rc == SL_ENOENT) {
            *out = tz_new(name);
            rc = 0;
        }
        return rc;
    }
    if (sl_tz_name_check(name, d) != 0)
        return SL_EINVAL;
    n = snprintf(path, sizeof(path), "%s/%s",
                 dir != NULL ? dir : SL_TZ_DEFAULT_DIR, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return sl_diag_set(d, SL_ENOENT, NULL, "unknown time zone %s", name);
    return sl_tz_load_file(path, name, out, d);
}

const char *sl_tz_name(const struct sl_tz *z)
{
    return z != NULL ? z->name : "UTC";
}
