/*
 * core/tz_posix.h - internal to core/tz*.c: POSIX TZ rules (the footer of
 * a TZif file) and the calendar arithmetic both files share.
 */
#ifndef SL_CORE_TZ_POSIX_H
#define SL_CORE_TZ_POSIX_H

#include <stdbool.h>
#include <stdint.h>

#define SL__TZ_SEC_PER_DAY INT64_C(86400)

/* Instants beyond this are clamped before calendar arithmetic (2^55 s is
 * about a billion years, so years and days stay far from overflowing). */
#define SL__TZ_T_LIMIT (INT64_C(1) << 55)

/* A footer rule for the day DST starts or ends (POSIX TZ "rule"). */
struct sl__tz_rule {
    char kind;    /* 'J': Julian day 1-365 without Feb 29; 'D': day 0-365
                     counting Feb 29; 'M': month.week.weekday */
    int n;        /* J and D: the day */
    int m, w, d;  /* M: month 1-12, week 1-5 (5: last), weekday 0-6 */
    int32_t time; /* local time of day of the change, seconds (RFC 8536
                     extension: -167 to 167 hours) */
};

/* The footer's POSIX TZ string, parsed. */
struct sl__tz_footer {
    bool valid;               /* a footer was present and parsed */
    bool dst;                 /* it has daylight saving time rules */
    int32_t stdoff;           /* seconds east of UTC */
    int32_t dstoff;           /* seconds east of UTC while DST is in effect */
    struct sl__tz_rule start; /* std -> dst, in local standard time */
    struct sl__tz_rule end;   /* dst -> std, in local daylight time */
};

/* Floor division and modulo for a positive divisor. */
int64_t sl__tz_fdiv(int64_t a, int64_t b);
int64_t sl__tz_fmod(int64_t a, int64_t b);

/*
 * Parse the POSIX TZ string [s, e) as RFC 8536 section 3.3 extends it:
 * std offset [dst [offset] [,rule,rule]]. A dst part without rules gets
 * the US rules (",M3.2.0,M11.1.0"), as Go and tzcode's default do.
 * Returns false (and '*f' unspecified) for anything else.
 */
bool sl__tz_footer_parse(const char *s, const char *e, struct sl__tz_footer *f);

/*
 * The offset the rule 'f' gives at instant 't', and the span [*start,
 * *end) around 't' over which it holds (INT64_MIN/INT64_MAX unbounded).
 * Beyond +-SL__TZ_T_LIMIT the offset at the limit holds for ever.
 */
int32_t sl__tz_footer_lookup(const struct sl__tz_footer *f, int64_t t,
                             int64_t *start, int64_t *end);

#endif
