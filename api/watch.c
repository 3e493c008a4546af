/*
 * api/watch.c - ?watch=true streams.
 *
 * A watch is a chunked response of newline-delimited {"type","object"}
 * events. Without a resourceVersion (or "0") it starts with ADDED for
 * every existing object (list then watch, as Kubernetes does); with one it
 * replays the store's history after it, then follows live changes. A
 * version older than the history is one ERROR event (Status 410 Expired)
 * and the end of the stream. With allowWatchBookmarks=true a BOOKMARK
 * follows the replay and then every idle bookmark interval.
 * timeoutSeconds ends the stream. A client that cannot keep up (its queue
 * passes the limit) is cut off; it resumes from its last resourceVersion.
 *
 * Lifecycle: a watch lives from sl__api_watch() until the client goes
 * away (on_close), the stream ends (timeout, slow client) or the API is
 * freed; watch_end() is the one place that frees it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/str.h"
#include "net/server.h"
#include "resource/resource.h"
#include "store/store.h"

struct sl__api_watch {
    struct sl_api *api;
    struct sl_http_req *req;
    const struct sl_res_kind *kind;
    struct sl_store_watch *sw;
    struct sl_timer *bookmark, *timeout;
    struct sl__api_fieldsel fs;
    uint64_t last_rv;
    bool bookmarks, ended, failed;
    struct sl__api_watch *next;
};

static void watch_end(struct sl__api_watch *w, bool end_stream)
{
    struct sl__api_watch **pp;

    if (w->ended)
        return;
    w->ended = true;
    for (pp = &w->api->watches; *pp != NULL; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    sl_store_unwatch(w->sw);
    sl_timer_free(w->bookmark);
    sl_timer_free(w->timeout);
    sl__api_fieldsel_fini(&w->fs);
    if (end_stream)
        sl_http_stream_end(w->req);
    sl_free(w);
}

/* Cut off a client that cannot keep up: from a zero-delay timer, never
 * inside a store callback or while the caller still uses 'w'. */
static void watch_fail(struct sl__api_watch *w)
{
    if (w->failed)
        return;
    w->failed = true;
    sl_timer_start(w->timeout, 0, 0);
}

/* Write one event line (JSON and its newline in one write). */
static int watch_send(struct sl__api_watch *w, const char *type,
                      struct json_object *obj)
{
    struct json_object *ev;
    struct sl_buf line;
    int rc;

    if (w->failed)
        return SL_ECANCELED;
    ev = json_object_new_object();
    json_object_object_add(ev, "type", json_object_new_string(type));
    json_object_object_add(ev, "object", json_object_get(obj));
    sl_buf_init(&line, SL_BUF_UNLIMITED);
    sl_buf_appends(&line, json_object_to_json_string_ext(
                              ev, JSON_C_TO_STRING_PLAIN |
                                      JSON_C_TO_STRING_NOSLASHESCAPE));
    sl_buf_appendc(&line, '\n');
    rc = sl_http_stream_write(w->req, line.data, line.len);
    sl_buf_fini(&line);
    json_object_put(ev);
    if (rc != 0)
        watch_fail(w);
    return rc;
}

static void watch_bookmark(void *arg)
{
    struct sl__api_watch *w = arg;
    struct json_object *o = json_object_new_object(), *m;
    char buf[200];

    json_object_object_add(o, "kind", json_object_new_string(w->kind->kind));
    json_object_object_add(o, "apiVersion",
                           json_object_new_string(sl_res_kind_api_version(
                               w->kind, buf, sizeof(buf))));
    m = json_object_new_object();
    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)(w->last_rv ? w->last_rv
                                             : sl_store_rv(w->api->store)));
    json_object_object_add(m, "resourceVersion", json_object_new_string(buf));
    json_object_object_add(o, "metadata", m);
    watch_send(w, "BOOKMARK", o);
    json_object_put(o);
}

static void watch_timeout(void *arg)
{
    watch_end(arg, true);
}

/*
 * Store event (loop thread, after the commit, or during the replay inside
 * sl_store_watch). Never frees the watch (watch_fail defers that).
 */
static void watch_event(void *arg, const struct sl_store_event *ev)
{
    struct sl__api_watch *w = arg;

    if (w->failed || !sl__api_fieldsel_match(&w->fs, ev->obj))
        return;
    w->last_rv = ev->rv;
    if (watch_send(w, sl_store_event_name(ev->type), ev->obj) == 0 &&
        w->bookmarks)
        sl_timer_start(w->bookmark, w->api->bookmark_ms, w->api->bookmark_ms);
}

static void watch_closed(void *arg, struct sl_http_req *req)
{
    (void)req;
    /* The client is gone: the request is dead, do not end the stream. */
    watch_end(arg, false);
}

static int watch_parse_u64(const char *s, uint64_t *out)
{
    int64_t v;

    if (s == NULL || *s == '\0') {
        *out = 0;
        return 0;
    }
    if (sl_str_to_i64(s, strlen(s), false, 0, INT64_MAX, &v) != 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* End a just-started watch with one ERROR event carrying a Status. */
static void watch_error(struct sl__api_watch *w, int code, const char *reason,
                        const char *msg)
{
    struct json_object *st =
        sl__api_status(code, reason, w->kind, NULL, NULL, msg);

    watch_send(w, "ERROR", st);
    json_object_put(st);
    if (!w->failed)
        watch_end(w, true);
}

#define WATCH_MAX_TIMEOUT_S (7 * 24 * 3600)

void sl__api_watch(struct sl_api *api, struct sl_http_req *req,
                   const struct sl__api_target *t)
{
    const char *bm = sl_http_req_query(req, "allowWatchBookmarks");
    const char *sel = sl_http_req_query(req, "labelSelector");
    struct json_object *items = NULL;
    struct sl__api_fieldsel fs;
    struct sl__api_watch *w;
    uint64_t since, tmo;
    struct sl_diag d;
    char kk[256];
    size_t i;
    int rc;

    if (watch_parse_u64(sl_http_req_query(req, "resourceVersion"), &since) !=
            0 ||
        watch_parse_u64(sl_http_req_query(req, "timeoutSeconds"), &tmo) != 0) {
        sl__api_fail(req, 400, "BadRequest", t->kind, NULL, NULL,
                     "resourceVersion and timeoutSeconds must be "
                     "non-negative integers");
        return;
    }
    if (sl__api_selectors(req, t->kind, &fs) != 0)
        return;
    sl_res_kind_key(t->kind, kk, sizeof(kk));
    sl_diag_clear(&d);
    if (since == 0) {
        /* List, then watch from the list's version. */
        rc = sl_store_list(api->store, kk, t->ns, sel, &items, &since, &d);
        if (rc != 0) {
            sl__api_fail(req, 500, "InternalError", t->kind, NULL, NULL,
                         "store error: %s", d.msg);
            sl__api_fieldsel_fini(&fs);
            return;
        }
    }
    w = sl_xcalloc(1, sizeof(*w));
    w->api = api;
    w->req = req;
    w->kind = t->kind;
    w->fs = fs;
    w->last_rv = since;
    w->bookmarks = bm != NULL && strcmp(bm, "true") == 0;
    w->bookmark = sl_timer_new(api->loop, watch_bookmark, w);
    w->timeout = sl_timer_new(api->loop, watch_timeout, w);
    w->next = api->watches;
    api->watches = w;
    sl_http_stream_begin(req, 200, "application/json");
    sl_http_req_on_close(req, watch_closed, w);
    /* The initial list must fit in the stream queue; a client that
     * cannot take it is cut off (and lists with a plain GET instead). */
    for (i = 0; items != NULL && i < json_object_array_length(items); i++) {
        struct json_object *o = json_object_array_get_idx(items, i);

        if (sl__api_fieldsel_match(&w->fs, o) && watch_send(w, "ADDED", o) != 0)
            break;
    }
    json_object_put(items);
    if (w->failed)
        return; /* the timer ends it */
    rc = sl_store_watch(api->store, kk, t->ns, sel, since, watch_event, w,
                        &w->sw, &d);
    if (rc == SL_EGONE) {
        watch_error(w, 410, "Expired", d.msg);
        return;
    }
    if (rc != 0) {
        watch_error(w, 500, "InternalError",
                    d.msg[0] ? d.msg : sl_strerror(rc));
        return;
    }
    if (w->failed)
        return;
    if (w->bookmarks) {
        watch_bookmark(w);
        if (w->failed)
            return;
        sl_timer_start(w->bookmark, api->bookmark_ms, api->bookmark_ms);
    }
    if (tmo > 0)
        sl_timer_start(
            w->timeout,
            (tmo > WATCH_MAX_TIMEOUT_S ? WATCH_MAX_TIMEOUT_S : tmo) * 1000, 0);
}

void sl__api_watch_close_all(struct sl_api *api)
{
    while (api->watches != NULL)
        watch_end(api->watches, true);
}
