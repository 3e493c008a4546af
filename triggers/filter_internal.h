/*
 * triggers/filter_internal.h - the compiled filter tree and the dialect
 * table, shared by the filter files of triggers/ only (sl__filter_
 * prefix: never used outside this folder).
 *
 * A compiled filter is a tree of nodes. Every node embeds struct
 * sl__filter_node first and points at the dialect that built it; the
 * dialect's match and free_node slots know the rest of the node. A
 * dialect is one row of sl__filter_dialects[]: adding one is one row
 * plus its three functions.
 *
 * "No filter". Knative skips filter elements that set no dialect (and
 * ones it cannot materialise, such as an exact map with an empty value),
 * so they pass; a 'not' of such an element passes too, and all/any leave
 * them out. Compiling such an element gives a NULL node, and the
 * combinators propagate it the same way.
 */
#ifndef SL_TRIGGERS_FILTER_INTERNAL_H
#define SL_TRIGGERS_FILTER_INTERNAL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "resource/schema.h"

struct sl_diag;
struct sl_event;
struct sl__filter_dialect;

/* The head of every node. */
struct sl__filter_node {
    const struct sl__filter_dialect *dialect;
};

/*
 * One dialect: the key it takes in a filter element and how its nodes
 * are built, evaluated and freed.
 *
 * compile(self, v, p, &out, d): 'self' is the row itself (so one
 * function can serve several rows), 'v' the element's value for this key
 * (borrowed; present and "set": a non-empty map, list or string, see
 * sl__filter_compile_elem), 'p' its path ("spec.filters[0].exact").
 * Returns 0 with '*out' (NULL means "no filter": matches everything), or
 * SL_EINVAL / SL_ENOTSUP with 'd' set and '*out' NULL.
 * match(n, ev): no allocation, no I/O.
 * free_node(n): free 'n' and its children (never NULL).
 */
struct sl__filter_dialect {
    const char *name;
    int (*compile)(const struct sl__filter_dialect *self,
                   const struct json_object *v, struct sl_res_path *p,
                   struct sl__filter_node **out, struct sl_diag *d);
    bool (*match)(const struct sl__filter_node *n, const struct sl_event *ev);
    void (*free_node)(struct sl__filter_node *n);
};

/* The dialects, in Knative's precedence order, NULL-name terminated. */
extern const struct sl__filter_dialect sl__filter_dialects[];

/*
 * The cesql row (filter_cesql.c): compile the expression with
 * sl_cesql_compile (SL_EINVAL with the parser's message at the cesql
 * path when it does not compile), match with sl_cesql_match (Boolean true
 * and no error), free.
 */
int sl__filter_cesql_compile(const struct sl__filter_dialect *self,
                             const struct json_object *v, struct sl_res_path *p,
                             struct sl__filter_node **out, struct sl_diag *d);
bool sl__filter_cesql_match(const struct sl__filter_node *n,
                            const struct sl_event *ev);
void sl__filter_cesql_free(struct sl__filter_node *n);

/*
 * Compile one SubscriptionsAPIFilter element 'v' at path 'p' (pushes and
 * pops its own segments). Same results as a dialect's compile.
 */
int sl__filter_compile_elem(const struct json_object *v, struct sl_res_path *p,
                            struct sl__filter_node **out, struct sl_diag *d);

/*
 * Compile the legacy spec.filter.attributes map 'v' at path 'p'. Same
 * results as a dialect's compile; an empty map gives NULL.
 */
int sl__filter_compile_attributes(const struct json_object *v,
                                  struct sl_res_path *p,
                                  struct sl__filter_node **out,
                                  struct sl_diag *d);

/* Evaluate 'n'; NULL ("no filter") matches. */
bool sl__filter_node_match(const struct sl__filter_node *n,
                           const struct sl_event *ev);

/* Free 'n' through its dialect. NULL is a no-op. */
void sl__filter_node_free(struct sl__filter_node *n);

#endif
