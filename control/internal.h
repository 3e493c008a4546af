/*
 * control/internal.h - shared between the files of control/ only.
 */
#ifndef SL_CONTROL_INTERNAL_H
#define SL_CONTROL_INTERNAL_H

#include "control/control.h"

struct sl_store;

/* "<kind key>\n<ns>\n<name>", sl_free. */
char *sl__ctl_key(const char *kind_key, const char *ns, const char *name);
/* Queue a key (de-duplicated). */
void sl__ctl_enqueue(struct sl_ctl *ctl, const char *key);
/* Record that the key being reconciled read 'target'. */
void sl__ctl_track(struct sl_ctl *ctl, const char *target);
struct sl_store *sl__ctl_store(struct sl_ctl *ctl);
/* The condition of type 'type' in the array 'conds' (may be NULL or not
 * an array), or NULL. */
struct json_object *sl__ctl_cond_find(const struct json_object *conds,
                                      const char *type);
/* The controller's options. */
const struct sl_ctl_opts *sl__ctl_opts(const struct sl_ctl *ctl);

/*
 * Resolve spec.sink of source 'r' into status.sinkUri and the
 * SinkProvided condition (control/others.c). '*purl' (may be NULL) gets
 * the URL (sl_free), or NULL when it does not resolve. Returns 0, or
 * SL_EAGAIN when it is worth retrying (a store failure).
 */
int sl__ctl_source_sink(struct sl_rec *r, char **purl);

/*
 * Run the source of 'r' (a kind with an adapter, sl_rec_opts(r)->sources
 * set) with its resolved 'sink_url' (NULL: not resolved, so it must not
 * run) and set the Deployed condition (control/sources.c).
 */
void sl__ctl_source_deploy(struct sl_rec *r, const char *sink_url);
/* A source object was deleted: stop what runs it (finalize slot). */
void sl__ctl_source_finalize(struct sl_ctl *ctl, const struct json_object *obj);

/* The reconciler of a kind, or NULL (control/registry.c). */
const struct sl_reconciler *sl__ctl_reconciler(const struct sl_res_kind *k);

#endif
