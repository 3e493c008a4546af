/*
 * triggers/filter.h - a Trigger's filter, compiled once, evaluated per
 * event. The one interface the dispatcher uses (triggers/dispatch.h), so
 * that dialects plug in here without touching the dispatcher.
 *
 * Semantics (reference 2.2-2.3, DESIGN 4.3):
 *   - no spec.filter and no spec.filters: every event matches;
 *   - spec.filters non-empty: all of its elements must match (AND) and
 *     spec.filter is ignored;
 *   - else legacy spec.filter.attributes: every listed attribute must
 *     equal its value exactly; the value "" means "present and
 *     non-empty" (MT broker); an empty attributes map matches everything;
 *   - an element is one dialect: exact, prefix, suffix (maps of
 *     attribute -> string, every entry must hold), all (list, AND), any
 *     (list, OR), not (one element), cesql (a CESQL v1 expression,
 *     triggers/cesql.h: only Boolean true without an error matches);
 *   - as in Knative, an element that sets no dialect (an empty map, list
 *     or string counts as not set) or that Knative cannot build (an
 *     exact/prefix/suffix entry with an empty value) is "no filter": it
 *     passes, 'not' of it passes too, and all/any leave it out (an
 *     all/any left with nothing is "no filter" again).
 * Attribute values are compared as their canonical string forms
 * (sl_event_value); an absent attribute never matches exact/prefix/suffix.
 *
 * A compiled filter is immutable and may be shared by threads.
 */
#ifndef SL_TRIGGERS_FILTER_H
#define SL_TRIGGERS_FILTER_H

#include <stdbool.h>

#include <json-c/json.h>

struct sl_buf;
struct sl_diag;
struct sl_event;
struct sl_filter;

/*
 * Compile the filter of a Trigger spec ('spec' borrowed; NULL or without
 * filters gives a filter that matches everything). Returns 0 with '*out',
 * or, with '*out' NULL and 'd' naming the field
 * ("spec.filters[1].prefix"): SL_EINVAL for a malformed filter
 * (admission normally rules that out), SL_ENOTSUP for a dialect this
 * build cannot evaluate yet.
 */
int sl_filter_compile(const struct json_object *spec, struct sl_filter **out,
                      struct sl_diag *d);

/* True when 'ev' passes 'f'. No allocation, no I/O. */
bool sl_filter_match(const struct sl_filter *f, const struct sl_event *ev);

/*
 * Explain whether 'ev' passes 'f', for a person: append lines to 'out'
 * (cut at its max) and return exactly what sl_filter_match(f, ev) returns.
 * The lines are, in order: notes ("note: spec.filter is ignored: ..."
 * when spec.filters applies while spec.filter is set too); a tree with one
 * line per filter element, indented two spaces per level, of the form
 * "PATH: VERDICT[: reason]" where PATH is where the element is written in
 * the Trigger ("spec.filters[1].any[0].prefix") and VERDICT is PASS, FAIL,
 * "no filter" (an element Knative skips, and why) or "not evaluated" (an
 * all/any decided before it), followed by detail lines under it (one per
 * attribute compared: "type: FAIL: is \"a\", wanted exactly \"b\"");
 * then hints ("hint: ...") when the event carries an attribute whose name
 * is close to one the filter asks for but the event lacks. Reads only
 * 'f' and 'ev' (both borrowed); allocates; for tools, not the data path.
 */
bool sl_filter_explain(const struct sl_filter *f, const struct sl_event *ev,
                       struct sl_buf *out);

/*
 * The same explanation as a new json-c object (the caller puts it):
 *   {"matches": bool, "notes": [str], "filter": ELEM, "hints": [str]}
 * where ELEM is {"path": str, "dialect": str (absent for an element that
 * sets none), "result": "pass"|"fail"|"no filter"|"not evaluated",
 * "reason": str (optional), "details": [{"label": str (optional),
 * "result": ... or "info", "text": str}], "elements": [ELEM]}.
 * "matches" is exactly what sl_filter_match(f, ev) returns.
 */
struct json_object *sl_filter_explain_json(const struct sl_filter *f,
                                           const struct sl_event *ev);

/* Free 'f'. NULL is a no-op. */
void sl_filter_free(struct sl_filter *f);

#endif
