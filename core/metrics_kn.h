/*
 * core/metrics_kn.h - the metric families of Knative Eventing's data plane
 * (the OpenCensus names of eventing <= 1.18 that existing dashboards
 * query), on a core/metrics.h registry, with the handle caches that keep
 * recording off the registry lock.
 *
 * Names are "<component>_<view>" as Knative's Prometheus exporter made
 * them: counters without a _total suffix, latencies as histograms in
 * milliseconds with the buckets 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000,
 * 2000, 5000, 10000 (knative.dev/pkg Buckets125(1, 10000)).
 *
 *   mt_broker_ingress_event_count                counter
 *   mt_broker_ingress_event_dispatch_latencies   histogram, ms
 *       namespace_name broker_name event_type event_scheme response_code
 *       response_code_class unique_name container_name ("ingress")
 *   mt_broker_filter_event_count                 counter
 *   mt_broker_filter_event_dispatch_latencies    histogram, ms
 *       namespace_name broker_name trigger_name filter_type
 *       filter_request_type event_scheme response_code response_code_class
 *       unique_name container_name ("filter")
 *   mt_broker_filter_event_processing_latencies  histogram, ms
 *       the same without response_code and response_code_class
 *   <component>_event_count, <component>_retry_event_count   counters
 *       namespace_name event_source event_type event_scheme name
 *       resource_group response_code response_code_class response_error
 *       response_timeout
 *
 * How each label is filled, and where sluice departs from Knative, is in
 * docs/metrics.md. In short: response_code_class is "<first digit>xx";
 * unique_name, which names the pod in Knative, is this host's name (the
 * same for every series of the process, stable across restarts);
 * filter_type is the Trigger's spec.filter.attributes.type or "any".
 *
 * Cardinality: event_type comes from producers, so the ingress and source
 * families fold it into "other" past SL_METRICS_DEFAULT_MAX_SERIES series
 * each (core/metrics.h). The trigger families are bounded by the
 * Triggers that exist and the status codes subscribers answer.
 *
 * A NULL registry gives NULL handles, and every recording function takes
 * a NULL handle as "metrics off": callers need no conditions.
 *
 * Threads: the registry functions may be called from any thread; each
 * handle (ingress, trigger, source) belongs to one thread at a time, the
 * one that records on it (its cache is not locked).
 */
#ifndef SL_CORE_METRICS_KN_H
#define SL_CORE_METRICS_KN_H

#include <stdbool.h>
#include <stdint.h>

struct sl_metrics;

#define SL_METRICS_INGRESS_COUNT   "mt_broker_ingress_event_count"
#define SL_METRICS_INGRESS_LATENCY "mt_broker_ingress_event_dispatch_latencies"
#define SL_METRICS_FILTER_COUNT    "mt_broker_filter_event_count"
#define SL_METRICS_FILTER_LATENCY  "mt_broker_filter_event_dispatch_latencies"
#define SL_METRICS_FILTER_PROCESSING \
    "mt_broker_filter_event_processing_latencies"
/* The component of Knative's multi-tenant PingSource adapter, and the
 * resource group its series carry. */
#define SL_METRICS_PINGSOURCE       "pingsource_mt_adapter"
#define SL_METRICS_PINGSOURCE_GROUP "pingsources.sources.knative.dev"

/*
 * Register the broker ingress, broker filter and PingSource families in
 * 'm' (so that a scrape names them before any traffic). Idempotent; the
 * handles below register what they use themselves too. NULL is a no-op.
 */
void sl_metrics_kn_register(struct sl_metrics *m);

/* ---- broker ingress ---- */

struct sl_metrics_ingress;

/*
 * A cache of ingress series handles for one recorder (one ingress). NULL
 * when 'm' is NULL.
 */
struct sl_metrics_ingress *sl_metrics_ingress_new(struct sl_metrics *m);

/* Release every handle and free. NULL is a no-op. */
void sl_metrics_ingress_free(struct sl_metrics_ingress *mi);

/*
 * Count one event the ingress answered with HTTP status 'code', and
 * observe 'latency_ns' (request handled to answer given) in milliseconds.
 * 'ns' and 'broker' name the Broker ("" for a request that names no known
 * Broker); 'event_type' is the event's type ("" when the request carried
 * no event that could be read); 'scheme' is "http" or "https". A label
 * set seen before costs a hash lookup in the cache and two atomic adds;
 * a new one (or one the cap folds) takes the registry lock. NULL 'mi' is
 * a no-op.
 */
void sl_metrics_ingress_record(struct sl_metrics_ingress *mi, const char *ns,
                               const char *broker, const char *event_type,
                               const char *scheme, unsigned code,
                               int64_t latency_ns);

/* ---- broker filter (one Trigger) ---- */

/* filter_request_type: a delivery to the subscriber, or to the dead-letter
 * sink (Knative's "filter" and "dls_forward"). */
enum sl_metrics_request {
    SL_METRICS_REQ_FILTER = 0,
    SL_METRICS_REQ_DLS = 1,
};

struct sl_metrics_trigger;

/*
 * Handles for Trigger ns/trigger on Broker ns/broker ('ns' is both
 * objects' namespace) with filter_type 'filter_type' (NULL or "" reads as
 * "any"); strings copied. NULL when 'm' is NULL.
 */
struct sl_metrics_trigger *
sl_metrics_trigger_new(struct sl_metrics *m, const char *ns, const char *broker,
                       const char *trigger, const char *filter_type);

/* Release every handle and free. NULL is a no-op. */
void sl_metrics_trigger_free(struct sl_metrics_trigger *mt);

/*
 * Count one attempt of kind 'req' sent to 'url' (its scheme fills
 * event_scheme) that ended with 'code' (Knative counts 500 for an attempt
 * without a response, 502 for a 2xx whose body is not an event). NULL
 * 'mt' is a no-op.
 */
void sl_metrics_trigger_count(struct sl_metrics_trigger *mt,
                              enum sl_metrics_request req, const char *url,
                              int code);

/*
 * Observe the dispatch latency of an attempt that got a response with
 * status 'status': 'latency_ns' from the request's start to its
 * response, in ms. NULL 'mt' is a no-op.
 */
void sl_metrics_trigger_latency(struct sl_metrics_trigger *mt,
                                enum sl_metrics_request req, const char *url,
                                int status, int64_t latency_ns);

/*
 * Observe the processing latency of an attempt about to go to the
 * subscriber at 'url': 'latency_ns' since the event arrived at the broker.
 * NULL 'mt' is a no-op.
 */
void sl_metrics_trigger_processing(struct sl_metrics_trigger *mt,
                                   const char *url, int64_t latency_ns);

/* ---- sources ---- */

struct sl_metrics_source;

/* The outcome of one send of a source's event. */
struct sl_metrics_send {
    const char *event_source; /* the event's "source" attribute */
    const char *event_type;   /* its "type" */
    const char *sink_url;     /* where it went (its scheme: event_scheme) */
    int code; /* HTTP status of the response; 0 when there was none */
    /* Without a response: a short, bounded reason such as sl_strerror()'s
     * text (never a free-form message: it becomes a label value); NULL
     * or "" with a response. */
    const char *error;
    bool timeout; /* no response because the request timed out */
};

/*
 * Handles for source 'ns'/'name' of kind 'resource_group' (for example
 * SL_METRICS_PINGSOURCE_GROUP) whose families are named after
 * 'component' (for example SL_METRICS_PINGSOURCE): <component>_event_count
 * and <component>_retry_event_count. Strings copied. NULL when 'm' is
 * NULL.
 *
 * A PingSource adapter would record, for each tick:
 *
 *     struct sl_metrics_send r = { .event_source = src, .event_type = typ,
 *                                  .sink_url = sink };
 *     for each attempt that failed and was retried:
 *         r.code = status (0 none); r.error = ...; r.timeout = ...;
 *         sl_metrics_source_retry(ms, &r);
 *     r.code = final status (0 none); r.error = ...; r.timeout = ...;
 *     sl_metrics_source_event(ms, &r);
 *
 * and call sl_metrics_forget_source() when the PingSource is deleted.
 */
struct sl_metrics_source *sl_metrics_source_new(struct sl_metrics *m,
                                                const char *component,
                                                const char *ns,
                                                const char *name,
                                                const char *resource_group);

/* Release every handle and free. NULL is a no-op. */
void sl_metrics_source_free(struct sl_metrics_source *ms);

/*
 * <component>_event_count += 1: the final outcome of one event (after its
 * retries). response_code and response_code_class are "" without a
 * response; response_error is r->error (or ""); response_timeout is
 * "true"/"false" when there is an error, else "". NULL 'ms' is a no-op.
 */
void sl_metrics_source_event(struct sl_metrics_source *ms,
                             const struct sl_metrics_send *r);

/* <component>_retry_event_count += 1: one attempt that was retried; labels
 * as above. NULL 'ms' is a no-op. */
void sl_metrics_source_retry(struct sl_metrics_source *ms,
                             const struct sl_metrics_send *r);

/* ---- removal: the object went away, so do its series ---- */

/* Every ingress and filter series of Broker ns/broker. NULL 'm': no-op. */
void sl_metrics_forget_broker(struct sl_metrics *m, const char *ns,
                              const char *broker);

/* Every filter series of Trigger ns/trigger. NULL 'm': no-op. */
void sl_metrics_forget_trigger(struct sl_metrics *m, const char *ns,
                               const char *trigger);

/* Every series of source ns/name of kind 'resource_group'. */
void sl_metrics_forget_source(struct sl_metrics *m, const char *ns,
                              const char *name, const char *resource_group);

#endif
