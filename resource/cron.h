/*
 * resource/cron.h - cron schedules as PingSource takes them (robfig/cron
 * v3 with SecondOptional | Minute | Hour | Dom | Month | Dow | Descriptor,
 * reference section 4.1), compiled into one bitset per field.
 *
 * Syntax accepted by sl_cron_parse():
 *
 *   [CRON_TZ=<zone> | TZ=<zone>] <schedule>
 *   <schedule> = [second] minute hour day-of-month month day-of-week
 *              | @yearly | @annually | @monthly | @weekly | @daily
 *              | @midnight | @hourly
 *
 *   - 5 fields, or 6 with a leading seconds field; without it the
 *     schedule fires at second 0;
 *   - each field is a comma list of '*', N, N-M, with an optional /STEP
 *     ("N/STEP" means N-max/STEP); bounds: second and minute 0-59, hour
 *     0-23, day-of-month 1-31, month 1-12, day-of-week 0-6 (Sunday 0);
 *   - month names JAN-DEC and day names SUN-SAT, any case, wherever a
 *     number of that field may stand;
 *   - '?' means '*' in day-of-month and day-of-week only;
 *   - '@every <duration>' is rejected (Knative refuses it for PingSource).
 *
 * Messages are robfig's, prefixed with the field's name where one field is
 * at fault: "minute: end of range (60) above maximum (59): 60".
 *
 * The compiled struct sl_cron is what the PingSource runtime computes next
 * fire times from (sl_cron_next(), in a zone the caller loaded with
 * core/tz.h); nothing here reads a clock or a time zone database.
 */
#ifndef SL_RESOURCE_CRON_H
#define SL_RESOURCE_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/tz.h"

/* Room for a CRON_TZ zone name, with its NUL. */
#define SL_CRON_TZ_MAX SL_TZ_NAME_MAX

/*
 * A compiled schedule. A time t (in the schedule's zone) fires when its
 * second, minute, hour and month bits are set and its day matches: when
 * dom_any or dow_any is set, both the day-of-month and the day-of-week
 * bit must be set; otherwise either suffices (Vixie cron's rule, which
 * robfig keeps: "0 0 1 * MON" fires on the 1st and on every Monday).
 */
struct sl_cron {
    uint64_t second; /* bit s: second s, 0-59 */
    uint64_t minute; /* bit m: minute m, 0-59 */
    uint32_t hour;   /* bit h: hour h, 0-23 */
    uint32_t dom;    /* bit d: day of month d, 1-31 */
    uint16_t month;  /* bit m: month m, 1-12 */
    uint8_t dow;     /* bit w: weekday w, 0-6, Sunday 0 */
    bool dom_any;    /* day-of-month was '*' or '?' (not stepped) */
    bool dow_any;    /* day-of-week was '*' or '?' (not stepped) */
    /* Zone of a CRON_TZ=/TZ= prefix, "" when none (the caller's zone). */
    char tz[SL_CRON_TZ_MAX];
};

/*
 * Parse 'spec' (NUL-terminated; leading and trailing blanks are ignored)
 * into '*out'. Returns 0, or SL_EINVAL with the reason in 'd' (no field
 * path: the caller knows where the schedule came from); '*out' is then
 * zeroed. The zone of a CRON_TZ= prefix is checked for syntax only
 * (sl_cron_tz_check); whether it exists is the caller's business.
 */
int sl_cron_parse(const char *spec, struct sl_cron *out, struct sl_diag *d);

/*
 * Check the syntax of an IANA zone name as a file name under a zoneinfo
 * directory: sl_tz_name_check() (core/tz.h), kept under this name for
 * the resource layer. Returns 0 or SL_EINVAL with "invalid location
 * name" in 'd'.
 */
int sl_cron_tz_check(const char *name, struct sl_diag *d);

/*
 * The first instant strictly after 'after' (Unix seconds) at which 'c'
 * fires in zone 'z' (NULL: UTC), or -1 when there is none within five
 * years of it (e.g. "0 0 30 2 *"), or when 'after' lies outside years
 * 1..9999, or when robfig's steps would give an instant not after
 * 'after' (only zone files with implausible jumps do: never a result a
 * timer would fire on at once). A CRON_TZ= prefix in c->tz is the caller's
 * business: it loads that zone and passes it as 'z'.
 *
 * The result is robfig/cron v3's SpecSchedule.Next() with Go's time
 * arithmetic, clock changes included (docs/sources.md, "Schedules and
 * time zones"): a wall time skipped by a spring-forward change does not
 * fire that day ("30 2 * * *" in America/New_York skips 2026-03-08); a
 * wall time repeated by a fall-back change fires twice ("30 1 * * *"
 * fires at 01:30 EDT and 01:30 EST on 2026-11-01); hourly and shorter
 * schedules keep firing at every matching instant, one per elapsed hour
 * or minute. Pure computation: no clock, no allocation, thread-safe.
 */
int64_t sl_cron_next(const struct sl_cron *c, const struct sl_tz *z,
                     int64_t after);

#endif
