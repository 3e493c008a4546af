/*
 * sources/ping/ping.h - the PingSource adapter's pure half: its spec as
 * the runtime uses it and the event of one tick (reference section 4).
 *
 * The adapter itself is sl_source_ping (sources/source.h); these
 * functions are what it is built from, exported so that the event can be
 * checked without a clock or a network. No I/O, no clock, no logging;
 * any thread.
 */
#ifndef SL_SOURCES_PING_PING_H
#define SL_SOURCES_PING_PING_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "resource/cron.h"

struct sl_diag;
struct sl_event;
struct sl_timestamp;

/* The event type of every tick. */
#define SL_PING_EVENT_TYPE "dev.knative.sources.ping"

/* One ceOverrides extension, name lower-cased. */
struct sl_ping_ext {
    char *name;
    char *value;
};

/* A PingSource as the runtime reads it. Owned strings. */
struct sl_ping_spec {
    char *schedule;      /* spec.schedule as written ("* * * * *" if none) */
    struct sl_cron cron; /* compiled */
    /* The zone the schedule runs in: spec.timezone, else the schedule's
     * CRON_TZ=/TZ= prefix, else "UTC". */
    char *zone;
    char *source;        /* /apis/v1/namespaces/<ns>/pingsources/<name> */
    char *content_type;  /* spec.contentType, NULL when absent or "" */
    unsigned char *data; /* data, or dataBase64 decoded; NULL when none */
    size_t data_len;
    bool has_data;           /* data or dataBase64 was non-empty */
    struct sl_ping_ext *ext; /* spec.ceOverrides.extensions, by name */
    size_t next;
    /* Extension names that would overwrite a CloudEvents core attribute
     * (id, source, type, time, ...), which are left out, comma-separated;
     * NULL when none. For a warning. */
    char *ignored;
};

/*
 * Read a PingSource ('obj', a whole admitted object, borrowed) into
 * 'out': metadata.namespace and .name, and spec.schedule, timezone,
 * contentType, data, dataBase64 (line breaks skipped, then decoded) and
 * ceOverrides.extensions. Returns 0, or SL_EINVAL with 'd' naming the
 * field (a schedule that does not parse, dataBase64 that does not decode,
 * both data and dataBase64, a contentType that is not a media type, an
 * extension value that is not a valid string); 'out' is then empty
 * (sl_ping_spec_fini is still allowed).
 */
int sl_ping_spec_parse(const struct json_object *obj, struct sl_ping_spec *out,
                       struct sl_diag *d);

/* Free what 'spec' owns and zero it. */
void sl_ping_spec_fini(struct sl_ping_spec *spec);

/*
 * The event of one tick (reference 4.2): specversion 1.0, type
 * SL_PING_EVENT_TYPE, source spec->source, id 'id', time 'now' (the send
 * time), the data with datacontenttype = contentType when there is data
 * (and a contentType), and each extension. Returns 0 with a new event
 * (one reference, valid) in '*out', or SL_EINVAL with 'd' ('*out' NULL).
 */
int sl_ping_event(const struct sl_ping_spec *spec, const char *id,
                  const struct sl_timestamp *now, struct sl_event **out,
                  struct sl_diag *d);

#endif
