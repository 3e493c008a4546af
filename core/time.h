/*
 * core/time.h - RFC 3339 timestamps and ISO-8601 durations.
 *
 * Timestamps: parse and format "2018-04-05T17:31:00Z",
 * "2018-04-05T17:31:00.123456789+02:00" (fraction up to 9 digits, 'T'/'t'
 * and 'Z'/'z' accepted, numeric offsets up to +-23:59; "-00:00" reads as
 * offset 0). Invalid calendar dates (Feb 30, hour 24, second 61) are
 * rejected; a leap second :60 is accepted only where one can occur, at
 * 23:59:60 UTC once the offset is applied, and normalised into the next
 * second. Years are 0000..9999, the range RFC 3339 can write.
 *
 * Durations: ISO-8601 as Knative accepts them (rickb777/date/period):
 * "P[nY][nM][nW][nD][T[nH][nM][nS]]", optional leading '-', a decimal
 * fraction ('.' or ',') allowed on the last component present, at least
 * one component; designators upper-case; a leading '+' or '-'. Fractions
 * may have any number of digits and are cut to whole nanoseconds. Years
 * count 365 days and months 30 days (only durations of fixed length make
 * sense for delivery timing); callers normally use only D/H/M/S.
 */
#ifndef SL_CORE_TIME_H
#define SL_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

struct sl_diag;

/* A point in time: seconds since the Unix epoch (UTC) + nanoseconds. */
struct sl_timestamp {
    int64_t sec;
    int32_t nsec;       /* 0 .. 999999999 */
    int32_t offset_min; /* UTC offset the text carried, minutes (-1439..1439) */
};

/*
 * Parse the whole of 's' as an RFC 3339 date-time. Returns 0, or SL_EINVAL
 * with a message in 'diag' naming the part at fault ("invalid day 30 for
 * month 2").
 */
int sl_time_parse_rfc3339(const char *s, struct sl_timestamp *out,
                          struct sl_diag *diag);

/*
 * Format 'ts' in UTC as "YYYY-MM-DDTHH:MM:SS[.fffffffff]Z"; the fraction is
 * written with the fewest digits that keep it exact (none when nsec == 0).
 * 'out' needs SL_TIME_RFC3339_MAX bytes; a smaller one gets a truncated,
 * NUL-terminated prefix. Returns the length written.
 */
#define SL_TIME_RFC3339_MAX 40
size_t sl_time_format_rfc3339(const struct sl_timestamp *ts, char *out,
                              size_t outlen);

/* The current wall-clock time (CLOCK_REALTIME) with offset 0. */
struct sl_timestamp sl_time_now(void);

/* Monotonic clock in nanoseconds, for deadlines and latency. */
int64_t sl_time_mono_ns(void);

/*
 * Parse the whole of 's' as an ISO-8601 duration into nanoseconds.
 * Returns 0, SL_EINVAL (malformed, with a message naming the character at
 * fault) or SL_ETOOBIG (does not fit in int64 nanoseconds, ~292 years).
 */
int sl_duration_parse(const char *s, int64_t *out_ns, struct sl_diag *diag);

/*
 * Format 'ns' as a canonical ISO-8601 duration ("PT0.2S", "PT1M30S",
 * "P1DT2H", "PT0S"). 'out' needs SL_DURATION_MAX bytes. Returns length.
 */
#define SL_DURATION_MAX 48
size_t sl_duration_format(int64_t ns, char *out, size_t outlen);

#endif
