/*
 * cmd/display.h - a CloudEvent as Knative's event_display prints it, shared
 * by `sluice display` (every event it receives) and `sluice send` (a reply).
 *
 * The layout is the CloudEvents Go SDK's Event.String() behind the line
 * event_display adds:
 *
 *     ☁️  cloudevents.Event
 *     Context Attributes,
 *       specversion: 1.0
 *       type: dev.example.order
 *       source: /orders
 *       id: 1
 *       time: 2024-05-01T10:00:00Z
 *       datacontenttype: application/json
 *     Extensions,
 *       partitionkey: 42
 *     Data,
 *       {
 *         "n": 1
 *       }
 *
 * Core attributes come in the SDK's order (specversion, type, source,
 * subject, id, time, dataschema or schemaurl, datacontenttype,
 * datacontentencoding), only those present; extensions follow sorted by
 * name; docs/send-display.md says how data is written.
 */
#ifndef SL_CMD_DISPLAY_H
#define SL_CMD_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "proto/event.h"

/*
 * Append the event_display rendering of 'ev' (borrowed) to 'out', ending
 * with a newline. Returns 0, or SL_ETOOBIG when 'out' reaches its limit
 * (what was appended before stays).
 */
int sl_display_format(const struct sl_event *ev, struct sl_buf *out);

/*
 * True when p[0..n) is exactly one JSON value, with only whitespace around
 * it (json-c's strict parser; nesting deeper than 128 counts as not JSON).
 */
bool sl_display_is_json(const char *p, size_t n);

#endif
