/*
 * triggers/filter_internal.h - the compiled filter tree and the dialect
 * table, shared by the filter files of triggers/ only (sl__filter_
 * prefix: never used outside this folder).
 *
 * A compiled filter is a tree of nodes. Every node embeds struct
 * sl__filter_node first and points at the dialect that built it; the
 * dialect's match and free_node slots know the rest of the node. A
 * dialect is one row of sl__filter_dialects[]: adding one is one row
 * plus its functions (explain is optional).
 *
 * "No filter". Knative skips filter elements that set no dialect (and
 * ones it cannot materialise, such as an exact map with an empty value),
 * so they pass; a 'not' of such an element passes too, and all/any leave
 * them out. Compiling such an element gives a "none" node (struct
 * sl__filter_none, which says why, for explanations), and the combinators
 * propagate it the same way: a tree that match walks never holds one
 * (all/any keep them apart from the children they evaluate, and a filter
 * whose root is one has no root to match).
 *
 * Explanations (sl_filter_explain) are a second walk over the same tree
 * through the dialects' explain slots, building a JSON description with
 * the sl__filter_explain_* helpers below (filter_explain.c); match is not
 * involved and pays nothing for it.
 */
#ifndef SL_TRIGGERS_FILTER_INTERNAL_H
#define SL_TRIGGERS_FILTER_INTERNAL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "resource/schema.h"

struct sl_buf;
struct sl_diag;
struct sl_event;
struct sl__filter_dialect;
struct sl__filter_expl;

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
 * Returns 0 with '*out' (NULL or a none node means "no filter": matches
 * everything; sl__filter_compile_elem turns a NULL into a none node), or
 * SL_EINVAL / SL_ENOTSUP with 'd' set and '*out' NULL.
 * match(n, ev): no allocation, no I/O.
 * free_node(n): free 'n' and its children (never NULL).
 * explain(n, ev, x): optional (NULL: the explanation is match's verdict
 * with a generic reason, "the expression is not true for this event").
 * Evaluates 'n' against 'ev' like match and says why in 'x' with the
 * helpers below: at most one sl__filter_explain_reason (the short why on
 * the element's own line), any sl__filter_explain_detail lines (one per
 * attribute compared, say), and each child element through
 * sl__filter_explain_kid or sl__filter_explain_unevaluated. Must return
 * exactly what match(n, ev) returns (the unit tests hold every dialect to
 * it). Runs on the caller's thread; may allocate; 'ev' is borrowed. The
 * element's own line ("spec.filters[0].cesql: FAIL: <reason>") is written
 * by the walk from the return value and the reason; a leaf such as cesql
 * might do:
 *
 *     bool r = my_eval(node, ev, &err);
 *     sl__filter_explain_detail(x, "expression", SL__FILTER_INFO, "%s", src);
 *     if (err)
 *         sl__filter_explain_reason(x, "evaluation failed: %s", err);
 *     else if (!r)
 *         sl__filter_explain_reason(x, "the expression is false");
 *     return r;
 */
struct sl__filter_dialect {
    const char *name;
    int (*compile)(const struct sl__filter_dialect *self,
                   const struct json_object *v, struct sl_res_path *p,
                   struct sl__filter_node **out, struct sl_diag *d);
    bool (*match)(const struct sl__filter_node *n, const struct sl_event *ev);
    void (*free_node)(struct sl__filter_node *n);
    bool (*explain)(const struct sl__filter_node *n, const struct sl_event *ev,
                    struct sl__filter_expl *x);
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
/* The cesql row's explain slot: the value and the first error. */
bool sl__filter_cesql_explain(const struct sl__filter_node *n,
                              const struct sl_event *ev,
                              struct sl__filter_expl *x);

/*
 * Compile one SubscriptionsAPIFilter element 'v' at path 'p' (pushes and
 * pops its own segments). Same results as a dialect's compile, except
 * that "no filter" is always a none node, never NULL.
 */
int sl__filter_compile_elem(const struct json_object *v, struct sl_res_path *p,
                            struct sl__filter_node **out, struct sl_diag *d);

/*
 * Compile the legacy spec.filter.attributes map 'v' at path 'p'. Same
 * results as a dialect's compile; an empty map gives a none node.
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

/* ---- "no filter" nodes (filter.c) ---- */

/*
 * An element Knative treats as "no filter", kept so that explanations can
 * say so and why. 'key' is the dialect key it was written with (a table
 * row's name; NULL when it sets none); 'kids' the "no filter" elements it
 * is made of, if any ('not' of one: one kid; all/any of only such: all of
 * them, 'indexed' as in the list). match of a none node is true, but no
 * tree that match walks holds one.
 */
struct sl__filter_none {
    struct sl__filter_node base;
    const char *key;
    char *why;
    struct sl__filter_node **kids;
    size_t n;
    bool indexed;
};

extern const struct sl__filter_dialect sl__filter_none_dialect;

/*
 * A new none node for key 'key' (static storage, may be NULL) saying why
 * in printf form; it takes the 'n' nodes of 'kids' (may be NULL when 'n'
 * is 0), which must be none nodes, and the array itself (sl_xmalloc'd).
 */
struct sl__filter_node *
sl__filter_none_new(const char *key, struct sl__filter_node **kids, size_t n,
                    bool indexed, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* True when 'n' is a none node ("no filter"). NULL is not. */
bool sl__filter_is_none(const struct sl__filter_node *n);

/* ---- explanations (filter_explain.c) ---- */

/* One line of an explanation: what it says about its subject. */
enum sl__filter_verdict {
    SL__FILTER_PASS,
    SL__FILTER_FAIL,
    SL__FILTER_NONE,    /* "no filter" */
    SL__FILTER_SKIPPED, /* not evaluated (all/any decided before) */
    SL__FILTER_INFO,    /* a plain remark */
};

/*
 * Set the short reason on the line of the element being explained
 * ("every element must pass; spec.filters[1].any did not"). A second call
 * replaces the first.
 */
void sl__filter_explain_reason(struct sl__filter_expl *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Add a detail line under the element being explained: 'label' (NULL for
 * none; an attribute name, say), its verdict, and the text ("\"a\" is not
 * \"b\"").
 */
void sl__filter_explain_detail(struct sl__filter_expl *x, const char *label,
                               enum sl__filter_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Explain the child element 'kid' of the element being explained: its
 * path is the current one plus "[index]" (index SIZE_MAX: none, as for
 * 'not') plus its dialect key. Returns what match(kid, ev) returns (true
 * for a none node, which a combinator then leaves out).
 */
bool sl__filter_explain_kid(struct sl__filter_expl *x,
                            const struct sl__filter_node *kid, size_t index);

/* Mention the child 'kid' (path as above) as not evaluated, and why. */
void sl__filter_explain_unevaluated(struct sl__filter_expl *x,
                                    const struct sl__filter_node *kid,
                                    size_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The path of the child explained last ("" before any). */
const char *sl__filter_explain_last_path(const struct sl__filter_expl *x);

/* The event being explained. */
const struct sl_event *
sl__filter_explain_event(const struct sl__filter_expl *x);

/*
 * Write s[0..n) into out[outlen] quoted for a person: in double quotes,
 * with \", \\ and control or invalid UTF-8 bytes escaped, cut after about
 * 60 characters with `..." (N bytes)`. Returns 'out'.
 */
const char *sl__filter_quote(const char *s, size_t n, char *out, size_t outlen);

/* Room sl__filter_quote needs at most. */
#define SL__FILTER_QUOTE_MAX 320

/*
 * Note that the filter asks for attribute 'name', which the event does
 * not carry: when the event carries one whose name is close (differs in
 * case or by a typo), or 'name' can never be an attribute name, a hint
 * says so (once per name).
 */
void sl__filter_explain_missing(struct sl__filter_expl *x, const char *name);

/*
 * The whole explanation of the tree 'root' (a node, a none node, or NULL
 * for none at all) found at 'path' ("spec.filters"), for 'ev': the object
 * sl_filter_explain_json documents. 'filter_ignored' adds the note that
 * spec.filter does not count.
 */
struct json_object *sl__filter_explain_root(const struct sl__filter_node *root,
                                            const char *path,
                                            bool filter_ignored,
                                            const struct sl_event *ev);

/* Append the text form of such an object to 'out'; returns "matches". */
bool sl__filter_explain_render(const struct json_object *x, struct sl_buf *out);

#endif
