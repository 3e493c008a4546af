/*
 * core/tz.h - IANA time zones read from TZif files, without the C
 * library's time zone machinery.
 *
 * A zone is loaded once from a TZif file (RFC 8536, versions 1 to 4) into
 * an immutable struct sl_tz: its transition table (the 64-bit data block
 * of version 2+ files, the 32-bit one of version 1 files) and, for
 * instants after the last transition, the POSIX TZ rule of the file's
 * footer ("EST5EDT,M3.2.0,M11.1.0", "<+1030>-10:30<+11>-11,M10.1.0,
 * M4.1.0", with RFC 8536's extensions: transition times from -167 to
 * 167 hours). Nothing here calls setenv("TZ"), tzset() or localtime():
 * the process's TZ stays untouched, so zones can be used from any thread.
 * A loaded zone is read-only and may be shared between threads.
 *
 * Instants are Unix seconds (int64, UTC, no leap seconds); offsets are
 * seconds east of UTC. Leap-second records of "right/" zones are skipped,
 * as Go's time package skips them.
 *
 * The calendar helpers (proleptic Gregorian, any int32 year) are here
 * too, so callers turning instants into local fields need nothing else.
 */
#ifndef SL_CORE_TZ_H
#define SL_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct sl_tz;

/* Room for a zone name, with its NUL. */
#define SL_TZ_NAME_MAX 64

/* Where zones are read from when sl_tz_load() is given no directory. */
#define SL_TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* The file zone "Local" is read from. */
#define SL_TZ_LOCALTIME "/etc/localtime"

/* Largest TZif file read (real ones are under 4 KiB). */
#define SL_TZ_FILE_MAX (256 * 1024)

/*
 * Check the syntax of an IANA zone name as a file name under a zoneinfo
 * directory: 1 to SL_TZ_NAME_MAX-1 bytes of [A-Za-z0-9_+-] in non-empty
 * components separated by '/' (so never absolute, never "." or "..",
 * never outside the directory). Returns 0 or SL_EINVAL with "invalid
 * location name" (Go's time.LoadLocation wording) in 'd'.
 */
int sl_tz_name_check(const char *name, struct sl_diag *d);

/*
 * Load zone 'name' from directory 'dir' (NULL: SL_TZ_DEFAULT_DIR) into a
 * new zone in '*out' (free with sl_tz_free()).
 *
 * "UTC" and "" give UTC without reading a file. "Local" reads
 * SL_TZ_LOCALTIME (UTC when that file does not exist; TZ in the
 * environment is not consulted). Any other name must pass
 * sl_tz_name_check() and name a regular TZif file under 'dir'.
 *
 * Returns 0; SL_EINVAL for a bad name ("invalid location name") or a file
 * that is not valid TZif ("malformed time zone information for
 * Europe/Foo: ..."); SL_ENOENT when there is no such file ("unknown time
 * zone Europe/Nowhere"); SL_EIO when it cannot be read. On failure '*out'
 * is NULL and 'd' (may be NULL) names the zone.
 */
int sl_tz_load(const char *dir, const char *name, struct sl_tz **out,
               struct sl_diag *d);

/*
 * Load the TZif file at 'path' as a zone called 'name' (copied; at most
 * SL_TZ_NAME_MAX-1 bytes are kept). Returns as sl_tz_load(): SL_ENOENT
 * for a missing file, SL_EINVAL for a malformed one, SL_EIO otherwise.
 * This is what "Local" does with SL_TZ_LOCALTIME.
 */
int sl_tz_load_file(const char *path, const char *name, struct sl_tz **out,
                    struct sl_diag *d);

/*
 * Parse the n bytes at 'data' (untrusted; need not be NUL-terminated) as
 * a TZif file for a zone called 'name'. Returns 0 with a new zone in
 * '*out', or SL_EINVAL with the reason in 'd' and '*out' NULL. A footer
 * that is not a valid POSIX TZ rule is ignored (as tzcode and Go do): the
 * last transition's type then holds forever.
 */
int sl_tz_parse(const void *data, size_t n, const char *name,
                struct sl_tz **out, struct sl_diag *d);

/* Free 'z' (NULL is a no-op). */
void sl_tz_free(struct sl_tz *z);

/* The name 'z' was loaded under ("UTC", "Local", "Europe/Berlin"). */
const char *sl_tz_name(const struct sl_tz *z);

/*
 * UTC offset in seconds east, in effect at UTC instant 't' (Unix seconds)
 * in 'z' (NULL: UTC). Before the first transition the file's first local
 * time type applies (RFC 8536 section 3.2).
 */
int32_t sl_tz_offset(const struct sl_tz *z, int64_t t);

/*
 * As sl_tz_offset(), also giving the span [*start, *end) of UTC instants
 * around 't' over which that offset holds unchanged (INT64_MIN/INT64_MAX
 * when unbounded; a span may end at a transition that keeps the offset,
 * e.g. a change of abbreviation only). 'start' and 'end' may be NULL.
 */
int32_t sl_tz_lookup(const struct sl_tz *z, int64_t t, int64_t *start,
                     int64_t *end);

/* Local calendar fields of an instant. */
struct sl_tz_tm {
    int32_t year;   /* proleptic Gregorian, e.g. 2026 */
    int month;      /* 1-12 */
    int day;        /* 1-31 */
    int hour;       /* 0-23 */
    int minute;     /* 0-59 */
    int second;     /* 0-59 */
    int wday;       /* 0-6, Sunday 0 */
    int yday;       /* 0-365 */
    int32_t offset; /* seconds east of UTC */
};

/*
 * The local time in 'z' (NULL: UTC) of UTC instant 't'. The calendar
 * fields of instants beyond +-2^55 seconds (a billion years) are those of
 * that limit, so years always fit; the offset is always that of 't'.
 */
void sl_tz_local(const struct sl_tz *z, int64_t t, struct sl_tz_tm *out);

/*
 * The UTC instant of local time year-month-day hour:minute:second in 'z'
 * (NULL: UTC), with Go's time.Date() rules: fields out of range are
 * normalised (month 13 is January of the next year, day 0 the last day of
 * the month before, hour -1 the last hour of the day before); a local
 * time skipped by a clock change or repeated by one is resolved by
 * looking up the offset in effect at the local time read as if it were
 * UTC, and keeping it when the result lies in that offset's span, else
 * taking the offset in effect at that result. So for America/New_York
 * 02:30 on a spring-forward day (a skipped time) is 01:30 EST and 01:30
 * on a fall-back day is 01:30 EDT (the first one); for Europe/Berlin
 * 02:30 on a spring-forward day is 03:30 CEST and 02:30 on a fall-back
 * day 02:30 CET (the second one). Fields beyond +-2^31 are not supported
 * (the result is then unspecified, never undefined behaviour).
 */
int64_t sl_tz_mktime(const struct sl_tz *z, int64_t year, int64_t month,
                     int64_t day, int64_t hour, int64_t minute, int64_t second);

/*
 * Days from 1970-01-01 to year-month-day (proleptic Gregorian; month
 * 1-12, day 1-31, not checked against the month's length: day 31 of
 * April is May 1).
 */
int64_t sl_tz_days_from_civil(int64_t year, int month, int day);

/* The calendar date of day 'days' since 1970-01-01. */
void sl_tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

#endif
