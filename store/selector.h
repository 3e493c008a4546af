/*
 * store/selector.h - Kubernetes label selectors: parse and match.
 *
 * The string form of the Kubernetes API's `labelSelector` query parameter
 * (k8s.io/apimachinery labels.Parse), as `kubectl get -l` sends it:
 *
 *     a=b   a==b   a!=b   a in (x,y)   a notin (x)   a   !a
 *
 * Requirements are separated by ',' and all must hold (AND). Spaces may
 * surround every token. A value may be empty (`a=`, `a in (x,)`), a set
 * may not (`a in ()` is an error). Keys must be label keys (optional DNS
 * subdomain prefix and '/', then a name of 1..63 characters
 * [A-Za-z0-9-_.] starting and ending alphanumeric); values must be label
 * values (0..63 characters, same alphabet). The Kubernetes operators '<'
 * and '>' (node-affinity style) are not supported and are a parse error.
 *
 * Semantics (as Kubernetes): `a=b`, `a==b` and `a in (...)` need the label
 * present with one of the values; `a!=b` and `a notin (...)` also hold when
 * the label is absent; `a` needs the label present (any value) and `!a`
 * needs it absent. The empty selector "" matches everything.
 *
 * A parsed selector is immutable, so one may be shared by any number of
 * users on one thread; it has no thread affinity of its own.
 */
#ifndef SL_STORE_SELECTOR_H
#define SL_STORE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct sl_diag;
struct sl_selector;

/* Longest selector text accepted (bytes); longer is SL_ETOOBIG. */
#define SL_SELECTOR_MAX_LEN 4096

/*
 * Parse 's' (NULL is the same as "", the selector matching everything)
 * into '*out', which the caller frees with sl_selector_free. Returns 0,
 * SL_EINVAL with "position N: what" in 'd' (N is the 1-based byte position
 * of the offending token or character; 'd->field' is "position N"), or
 * SL_ETOOBIG for text over SL_SELECTOR_MAX_LEN. '*out' is NULL on failure.
 */
int sl_selector_parse(const char *s, struct sl_selector **out,
                      struct sl_diag *d);

/* Free 'sel'; NULL is a no-op. */
void sl_selector_free(struct sl_selector *sel);

/* True when 'sel' has no requirement (it matches every label set). */
bool sl_selector_empty(const struct sl_selector *sel);

/*
 * True when the label set 'labels' satisfies every requirement of 'sel'.
 * 'labels' is a json-c object of string values (an object's
 * metadata.labels), borrowed; NULL or a non-object means no labels. A
 * member whose value is not a string counts as absent. A NULL 'sel'
 * matches everything.
 */
bool sl_selector_match(const struct sl_selector *sel,
                       struct json_object *labels);

#endif
