/*
 * resource/goduration.h - Go's time.ParseDuration syntax, which Knative
 * uses for its autoscaling annotations ("60s", "1m30s", "500ms", "1.5h").
 *
 * Knative's webhook parses these annotations with Go; core/time.h parses
 * ISO-8601 durations ("PT60S", Knative Eventing's delivery fields), which
 * is a different language: neither accepts the other's.
 */
#ifndef SL_RESOURCE_GODURATION_H
#define SL_RESOURCE_GODURATION_H

#include <stdint.h>

#include "core/err.h"

/* Nanoseconds in one unit, for comparing parse results. */
#define SL_GODUR_NS     INT64_C(1)
#define SL_GODUR_US     (INT64_C(1000) * SL_GODUR_NS)
#define SL_GODUR_MS     (INT64_C(1000) * SL_GODUR_US)
#define SL_GODUR_SECOND (INT64_C(1000) * SL_GODUR_MS)
#define SL_GODUR_MINUTE (INT64_C(60) * SL_GODUR_SECOND)
#define SL_GODUR_HOUR   (INT64_C(60) * SL_GODUR_MINUTE)

/*
 * Parse 's' as Go's time.ParseDuration does, into nanoseconds in '*pns':
 *
 *   - an optional sign '+' or '-', then one or more "<number><unit>"
 *     pairs ("1h30m", "1.5s", ".5s", "5.s"); the number is decimal digits
 *     with an optional fraction, the unit one of ns, us, µs (U+00B5), μs
 *     (U+03BC), ms, s, m, h;
 *   - "0" (also "+0", "-0") is the only number allowed without a unit;
 *   - fractions are truncated to whole nanoseconds as Go does;
 *   - no spaces, no other units ("1d", "1w"), no ISO-8601 ("PT1S").
 *
 * Returns 0, or SL_EINVAL with a message in 'd' ("missing unit in
 * duration", "unknown unit \"d\" in duration", "invalid duration",
 * "duration out of range" beyond +-2^63-1 ns). '*pns' is written only on
 * success.
 */
int sl_res_goduration_parse(const char *s, int64_t *pns, struct sl_diag *d);

#endif
