/*
 * core/metrics.h - counters and histograms with label sets, written out in
 * the Prometheus text exposition format (version 0.0.4).
 *
 * A registry holds families; a family is one metric name with a type, a
 * help text, its label names and (histograms) its bucket bounds; a series
 * is one set of label values of a family and holds the numbers.
 *
 *     struct sl_metrics *m = sl_metrics_new();
 *     static const char *const labels[] = { "broker", "code" };
 *     struct sl_metrics_family_def def = {
 *         .name = "requests", .help = "Requests.", .type = SL_METRICS_COUNTER,
 *         .labels = labels, .nlabels = 2, .fold_label = -1,
 *     };
 *     struct sl_metrics_family *f = sl_metrics_family(m, &def);
 *     const char *values[] = { "b", "202" };
 *     struct sl_metrics_series *s = sl_metrics_series_get(f, values, NULL);
 *     sl_metrics_inc(s);                  (hot path: one atomic add)
 *     sl_metrics_write(m, &buf);          (a scrape)
 *     sl_metrics_series_release(s);
 *     sl_metrics_free(m);
 *
 * Lifetimes. Families live as long as the registry. A series lives in the
 * registry from its first sl_metrics_series_get() until sl_metrics_remove()
 * matches it (the object it describes went away); it is written out in
 * every scrape meanwhile, also while nobody holds it. A handle returned by
 * sl_metrics_series_get() keeps the series' memory valid until
 * sl_metrics_series_release(), even after removal: a removed series is
 * "dead", no longer written out, and increments on it are lost. Holders
 * that cache handles across the life of what they describe check
 * sl_metrics_series_dead() and get a fresh handle.
 *
 * Cardinality. A family may name one label whose values come from users
 * (an event type): its 'fold_label'. Once the family holds 'max_series'
 * live series, a label set not seen yet is recorded under the same
 * values with the fold label set to "other" (that series is created even
 * beyond the cap), and the family's fold count goes up by one per such
 * lookup; a value longer than SL_METRICS_MAX_FOLD_VALUE bytes or not
 * printable ASCII is folded the same way at once. The registry writes the
 * fold counts and series counts of capped
 * families as sluice_metrics_folded_total and sluice_metrics_series.
 * Families without a fold label are not capped: their label values must
 * be bounded by what the caller knows (configured objects, status codes).
 *
 * Text. Label values are copied at creation; bytes that are not valid
 * UTF-8 become U+FFFD, and backslash, double quote and newline are escaped
 * when written (so are backslash and newline in help texts).
 *
 * Threads. Every function may be called from any thread. Increments and
 * observations are lock-free (relaxed atomics on the series); finding or
 * creating a series, releasing a handle, removal and writing take the
 * registry's mutex (no allocation when the series exists). A scrape reads
 * each number atomically but not all at once: a histogram's _count is the
 * sum of its buckets as read, so "+Inf" always equals _count within one
 * scrape, while a counter and a histogram recorded together may differ by
 * the observations made during the scrape.
 */
#ifndef SL_CORE_METRICS_H
#define SL_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_buf;
struct sl_metrics;
struct sl_metrics_family;
struct sl_metrics_series;

/* Series a family with a fold label holds before it folds [1000]. */
#define SL_METRICS_DEFAULT_MAX_SERIES 1000
/* Longest value of a fold label kept as it is; a longer one, or one with
 * bytes outside printable ASCII, is folded to "other" (OpenCensus' rule). */
#define SL_METRICS_MAX_FOLD_VALUE     255
/* The value a folded label takes. */
#define SL_METRICS_FOLD_VALUE         "other"
/* Limits of a family definition (code, not input: the process aborts). */
#define SL_METRICS_MAX_LABELS         16
#define SL_METRICS_MAX_BUCKETS        32

enum sl_metrics_type {
    SL_METRICS_COUNTER = 0, /* a monotonic count (sl_metrics_inc/_add) */
    SL_METRICS_HISTOGRAM,   /* observations in buckets (sl_metrics_observe) */
};

struct sl_metrics_family_def {
    /* Metric name, [a-zA-Z_:][a-zA-Z0-9_:]* (written as given). */
    const char *name;
    const char *help; /* one line or more; escaped when written */
    enum sl_metrics_type type;
    /* Label names, [a-zA-Z_][a-zA-Z0-9_]*, none starting "__", not "le"
     * for histograms; at most SL_METRICS_MAX_LABELS. */
    const char *const *labels;
    size_t nlabels;
    /* Histograms: upper bounds, strictly increasing, finite, at most
     * SL_METRICS_MAX_BUCKETS; the +Inf bucket is implicit. */
    const double *bounds;
    size_t nbounds;
    /* Index in 'labels' of the label folded to "other" beyond the cap,
     * or -1 for an uncapped family. */
    int fold_label;
    size_t max_series; /* 0: SL_METRICS_DEFAULT_MAX_SERIES */
};

/* A new, empty registry. Never fails (memory from sl_xmalloc). */
struct sl_metrics *sl_metrics_new(void);

/*
 * Free the registry, its families and its series. Every handle must have
 * been released (a series still held is a bug: the process aborts). NULL is a
 * no-op.
 */
void sl_metrics_free(struct sl_metrics *m);

/*
 * The family called def->name: registered now from 'def' (copied), or the
 * one registered before, which must have the same type, labels, bounds and
 * fold label. Families are written out in the order they were registered,
 * with "# HELP" and "# TYPE" also while they have no series. The family
 * is borrowed from the registry. A mismatch with the earlier definition,
 * an invalid name or a limit exceeded is a bug in the caller: the process
 * aborts with a message.
 */
struct sl_metrics_family *
sl_metrics_family(struct sl_metrics *m,
                  const struct sl_metrics_family_def *def);

/*
 * A handle on the series of 'f' with label values 'values' (one string per
 * label, in the family's label order; NULL reads as ""), created when
 * absent. '*folded' (may be NULL) says whether the cap replaced the fold
 * label's value with "other". The caller releases the handle with
 * sl_metrics_series_release(). Never fails.
 */
struct sl_metrics_series *sl_metrics_series_get(struct sl_metrics_family *f,
                                                const char *const *values,
                                                bool *folded);

/* Release a handle from sl_metrics_series_get(). NULL is a no-op. */
void sl_metrics_series_release(struct sl_metrics_series *s);

/* True once sl_metrics_remove() took the series out of the registry. */
bool sl_metrics_series_dead(const struct sl_metrics_series *s);

/* Counter: add one / add 'n'. Histogram series: programming error. */
void sl_metrics_inc(struct sl_metrics_series *s);
void sl_metrics_add(struct sl_metrics_series *s, uint64_t n);

/*
 * Histogram: count 'v' in the first bucket whose upper bound is >= v
 * (Prometheus "le"), or in +Inf, and add it to the sum. NaN is ignored.
 */
void sl_metrics_observe(struct sl_metrics_series *s, double v);

/*
 * Remove, from every family that has all the labels named in 'match'
 * (alternating name, value; 'npairs' pairs), each series whose values
 * equal the given ones. Returns how many series were removed. Families
 * lacking one of the labels are left alone.
 */
size_t sl_metrics_remove(struct sl_metrics *m, const char *const *match,
                         size_t npairs);

/*
 * Append the whole registry to 'out' in the text format: each family with
 * "# HELP" and "# TYPE", its live series (histograms as _bucket{le=...}
 * cumulative, _sum, _count), a family without series followed by a
 * comment "# sluice: no series yet; labels: a,b" naming its labels (the
 * dashboard check in test/integration/39-metrics.py reads it), then the
 * fold and series counts of capped families. Returns 0 or SL_ETOOBIG
 * when 'out' is full (its contents are then cut).
 */
int sl_metrics_write(struct sl_metrics *m, struct sl_buf *out);

/*
 * Append the standard process metrics of the calling process, read from
 * /proc/self: process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds and
 * process_start_time_seconds (those it cannot read are left out).
 * Returns 0 or SL_ETOOBIG.
 */
int sl_metrics_write_process(struct sl_buf *out);

/* ---- read back (tests, diagnostics) ---- */

/* The counter's value; for a histogram, its observation count. */
uint64_t sl_metrics_series_count(const struct sl_metrics_series *s);
/* A histogram's sum of observations (0 for a counter). */
double sl_metrics_series_sum(const struct sl_metrics_series *s);
/* Live series of 'f' and the lookups it folded so far. */
size_t sl_metrics_family_series(struct sl_metrics_family *f);
uint64_t sl_metrics_family_folds(struct sl_metrics_family *f);

#endif
