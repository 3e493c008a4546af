/*
 * sinks/retry.h - the delivery policy of a Trigger as pure functions:
 * the resolved policy, backoff, which outcomes are retried, Retry-After,
 * and the dead-letter extensions (DESIGN.md section 4; docs/sinks.md).
 *
 * Nothing here does I/O, reads a clock or logs: the current time is an
 * argument where one is needed, so every rule is testable as a table.
 * The functions may be called from any thread; a policy is owned by its
 * caller and read-only once built.
 *
 *     struct sl_retry_policy p;
 *     if (sl_retry_policy_from_objects(&p, trigger, broker, &d) < 0) ...
 *     after attempt k failed (k = 1 for the first retry):
 *       if (sl_retry_classify(status, reply) == SL_RETRY_AGAIN &&
 *           k <= p.retry)
 *           wait sl_retry_wait(&p, k, status, retry_after, now_sec) ns
 *     when retries are exhausted and p.dead_letter_url is set:
 *       sl_retry_dead_letter(ev, url, status, body, len, &dls_ev, &d);
 *     sl_retry_policy_fini(&p);
 */
#ifndef SL_SINKS_RETRY_H
#define SL_SINKS_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct sl_diag;
struct sl_event;

/* spec.delivery.backoffPolicy; NONE when the policy or the delay is
 * absent (immediate retries, as Knative's Go dispatcher does). */
enum sl_backoff {
    SL_BACKOFF_NONE = 0,
    SL_BACKOFF_LINEAR,
    SL_BACKOFF_EXPONENTIAL,
};

/* spec.delivery.format: how events are written to the subscriber. */
enum sl_delivery_format {
    SL_FORMAT_BINARY = 0, /* binary content mode (the default) */
    SL_FORMAT_JSON,       /* structured content mode, JSON format */
};

/* The annotation that caps every backoff (ISO-8601), on Trigger or Broker. */
#define SL_RETRY_BACKOFF_MAX_ANNOTATION "sluice.dev/backoff-max"
/* The cap without that annotation: one hour. */
#define SL_RETRY_BACKOFF_MAX_DEFAULT_NS (3600LL * 1000000000LL)
/* retry_after_max_ns when spec.delivery.retryAfterMax is absent. */
#define SL_RETRY_UNSET                  (-1)

/* A resolved delivery policy. Durations are nanoseconds. */
struct sl_retry_policy {
    int32_t retry;              /* retries after the first attempt, >= 0 */
    enum sl_backoff backoff;    /* NONE also when delay_ns is 0 */
    int64_t delay_ns;           /* backoffDelay, >= 0 (negative reads as 0) */
    int64_t timeout_ns;         /* per attempt; 0 = none */
    int64_t retry_after_max_ns; /* >= 0, or SL_RETRY_UNSET */
    enum sl_delivery_format format; /* binary unless format: json */
    char *dead_letter_url;          /* owned; NULL when there is none */
    int64_t backoff_max_ns;         /* ceiling of every backoff, >= 0 */
};

/*
 * Fill 'p' with the policy of an empty delivery: no retry, no backoff, no
 * timeout, Retry-After ignored, binary, no dead-letter sink, the default
 * ceiling. Never fails; sl_retry_policy_fini() releases it.
 */
void sl_retry_policy_init(struct sl_retry_policy *p);

/* Free what 'p' owns and reset it as sl_retry_policy_init does. */
void sl_retry_policy_fini(struct sl_retry_policy *p);

/*
 * Build the policy of a Trigger from its spec.delivery and its Broker's
 * (DESIGN 4.2): each member present (and not null) in the Trigger's wins,
 * an absent one comes from the Broker's, one absent from both keeps the
 * empty-delivery value of sl_retry_policy_init(). Either delivery may be
 * NULL. The Broker's defaults (retry 10, exponential, PT0.2S) are already
 * written into its spec by admission, so nothing is defaulted here.
 *
 * The ceiling is annotation "sluice.dev/backoff-max" of the Trigger's
 * metadata.annotations, else of the Broker's, else one hour; either
 * annotations object may be NULL.
 *
 * The dead-letter URL is 'dls_url' when not NULL (the resolved address,
 * the Trigger's status.deadLetterSinkUri); else the merged
 * deadLetterSink's uri when it has no ref; else none. A merged
 * deadLetterSink with a ref and no 'dls_url' is not resolved yet:
 * SL_ENOENT, so that events are not dropped for want of an address.
 *
 * Returns 0 with '*out' filled, or SL_EINVAL (a duration that does not
 * parse, a negative retry, retryAfterMax or ceiling, an unknown
 * backoffPolicy or format) / SL_ENOENT with 'd' naming the field
 * ("spec.delivery.backoffDelay", "metadata.annotations.sluice.dev/
 * backoff-max") and '*out' left as sl_retry_policy_init() makes it.
 * Admission normally rules the SL_EINVAL cases out, except for the
 * annotation, which nothing else checks.
 */
int sl_retry_policy_build(struct sl_retry_policy *out,
                          const struct json_object *trigger_delivery,
                          const struct json_object *trigger_annotations,
                          const struct json_object *broker_delivery,
                          const struct json_object *broker_annotations,
                          const char *dls_url, struct sl_diag *d);

/*
 * The same from whole objects: spec.delivery and metadata.annotations of
 * 'trigger' and 'broker' (either may be NULL), and the Trigger's
 * status.deadLetterSinkUri as 'dls_url'.
 */
int sl_retry_policy_from_objects(struct sl_retry_policy *out,
                                 const struct json_object *trigger,
                                 const struct json_object *broker,
                                 struct sl_diag *d);

/*
 * The wait before retry 'k' (k = 1..retry; the first attempt is not a
 * retry) in ns (DESIGN 4.1): exponential delay*2^(k-1), linear delay*k,
 * none 0; capped by p->backoff_max_ns without overflowing for any k.
 * k < 1 gives 0.
 */
int64_t sl_retry_backoff(const struct sl_retry_policy *p, int64_t k);

/* What the subscriber sent back, as far as replies go (DESIGN 4.5). */
enum sl_reply_kind {
    SL_REPLY_NONE = 0,  /* an empty body and no event headers */
    SL_REPLY_EVENT,     /* one valid CloudEvent, binary or structured */
    SL_REPLY_NOT_EVENT, /* a non-empty body that is not a CloudEvent, a
                         * malformed one, a batch, or a body too big to
                         * take */
};

/* The verdict on one attempt. */
enum sl_retry_class {
    SL_RETRY_SUCCESS = 0, /* done; an SL_REPLY_EVENT is a reply */
    SL_RETRY_AGAIN,       /* failed; retry if retries are left */
    SL_RETRY_FAIL,        /* failed; do not retry (dead-letter at once) */
};

/*
 * Classify an attempt (DESIGN 4.5, 4.6): 'status' is the HTTP status, 0
 * when no response arrived (connection failure, timeout, reset). 2xx is
 * success unless 'reply' is SL_REPLY_NOT_EVENT, which retries. No
 * response, 404, 408, 409, 429 and every 5xx retry; other 1xx, 3xx and
 * 4xx (and statuses outside 100..599) fail without retry. 'reply' only
 * matters for 2xx.
 */
enum sl_retry_class sl_retry_classify(int status, enum sl_reply_kind reply);

/*
 * Parse a Retry-After value (RFC 9110 10.2.3), surrounding blanks
 * ignored: delay-seconds (digits only; a value too large saturates), or
 * an HTTP-date in IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850
 * ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years
 * ahead of 'now_sec' is taken in the century before) or asctime ("Sun Nov
 *  6 08:49:37 1994") form. Day and month names are matched without
 * regard to case; the day name is not checked against the date. A date
 * is turned into the time left from 'now_sec' (Unix seconds), 0 when it
 * has passed. Returns 0 with '*out_ns' set, or SL_EINVAL ('*out_ns'
 * untouched).
 */
int sl_retry_after_parse(const char *value, int64_t now_sec, int64_t *out_ns);

/*
 * The wait before retry 'k' after an attempt answered with 'status' (0:
 * none) and the response's Retry-After header 'retry_after' (NULL when
 * absent), at time 'now_sec' (reference 3.4): the backoff; but for 429
 * and 503, when p->retry_after_max_ns is set and the header parses,
 * max(min(Retry-After, retryAfterMax), backoff).
 */
int64_t sl_retry_wait(const struct sl_retry_policy *p, int64_t k, int status,
                      const char *retry_after, int64_t now_sec);

/* Bytes of the response body kept in knativeerrordata. */
#define SL_RETRY_ERRORDATA_MAX 1024

/*
 * The event to send to a dead-letter sink (DESIGN 4.4): a clone of 'ev'
 * (published or not; it is not changed) with extensions
 *   knativeerrordest  'dest', the URL of the destination that failed;
 *   knativeerrorcode  'status' as an Integer when > 0, removed when 0 (no
 *                     response arrived);
 *   knativeerrordata  Base64 of the first SL_RETRY_ERRORDATA_MAX bytes of
 *                     body[0..len) ("" when empty; 'body' may be NULL
 *                     when len is 0).
 * They replace any earlier values (an event dead-lettered twice). With no
 * response there is no body; callers may pass a short description of the
 * transport failure instead ("connection refused"), as Knative's Go
 * dispatcher does. Returns 0 with the new event (one reference, mutable)
 * in '*out', or SL_EINVAL when 'dest' is not a valid string value, with
 * 'd' saying why and '*out' NULL.
 */
int sl_retry_dead_letter(const struct sl_event *ev, const char *dest,
                         int status, const void *body, size_t len,
                         struct sl_event **out, struct sl_diag *d);

#endif
