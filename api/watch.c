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
#include "core/err.h"
#include "core/loop.h"
#include "core/str.h"
#include "net/server.h"
#include "resource/resource.h"
#include "store/selector.h"
#include "store/store.h"

struct sl__api_watch {
    struct sl_api *api;
    struct sl_http_req *req;
    const struct sl_res_kind *kind;
    struct sl_store_watch *sw;
    struct sl_timer *bookmark, *timeout;
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
    if (end_stream)
        sl_http_stream_end(w->req);
    sl_free(w);
}

/* Write one event line; a client too slow to take it ends the watch. */
static int watch_send(struct sl__api_watch *w, const char *type,
                      struct json_object *obj)
{
    struct json_object *ev = json_object_new_object();
    const char *s;
    size_t len;
    int rc;

    json_object_object_add(ev, "type", json_object_new_string(type));
    json_object_object_add(ev, "object", json_object_get(obj));
    s = json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN, &len);
    rc = sl_http_stream_write(w->req, s, len);
    if (rc == 0)
        rc = sl_http_stream_write(w->req, "\n", 1);
    json_object_put(ev);
    return rc;
}

static void watch_bookmark(void *arg)
{
    struct sl__api_watch *w = arg;
    struct json_object *o = json_object_new_object(), *m;
    char buf[200];

    if (w->kind->group[0] == '\0')
        snprintf(buf, sizeof(buf), "%s", w->kind->version);
    else
        snprintf(buf, sizeof(buf), "%s/%s", w->kind->group, w->kind->version);
    json_object_object_add(o, "kind", json_object_new_string(w->kind->kind));
    json_object_object_add(o, "apiVersion", json_object_new_string(buf));
    m = json_object_new_object();
    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)(w->last_rv ? w->last_rv
                                             : sl_store_rv(w->api->store)));
    json_object_object_add(m, "resourceVersion", json_object_new_string(buf));
    json_object_object_add(o, "metadata", m);
    if (watch_send(w, "BOOKMARK", o) != 0)
        watch_end(w, true);
    json_object_put(o);
}

static void watch_timeout(void *arg)
{
    watch_end(arg, true);
}

/*
 * Store event (loop thread, after the commit, or during the replay inside
 * sl_store_watch). The watch is not freed here: a client that cannot
 * keep up is cut off from a zero-delay timer, outside the store's call.
 */
static void watch_event(void *arg, const struct sl_store_event *ev)
{
    struct sl__api_watch *w = arg;

    if (w->failed)
        return;
    w->last_rv = ev->rv;
    if (watch_send(w, sl_store_event_name(ev->type), ev->obj) != 0) {
        w->failed = true;
        sl_timer_start(w->timeout, 0, 0);
        return;
    }
    if (w->bookmarks)
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

void sl__api_watch(struct sl_api *api, struct sl_http_req *req,
                   const struct sl__api_target *t)
{
    const char *bm = sl_http_req_query(req, "allowWatchBookmarks");
    const char *sel = sl_http_req_query(req, "labelSelector");
    struct sl__api_watch *w;
    uint64_t since, tmo;
    struct sl_diag d;
    char kk[256];
    int rc;

    if (watch_parse_u64(sl_http_req_query(req, "resourceVersion"), &since) !=
            0 ||
        watch_parse_u64(sl_http_req_query(req, "timeoutSeconds"), &tmo) != 0) {
        sl__api_fail(req, 400, "BadRequest", t->kind, NULL, NULL,
                     "resourceVersion and timeoutSeconds must be "
                     "non-negative integers");
        return;
    }
    /* A bad selector is a 400 answer, not an ERROR event in a stream
     * (which is what sl_store_watch would make of it after a replay). */
    if (sel != NULL && *sel != '\0') {
        struct sl_selector *ps = NULL;

        sl_diag_clear(&d);
        rc = sl_selector_parse(sel, &ps, &d);
        sl_selector_free(ps);
        if (rc != 0) {
            sl__api_fail(req, 400, "BadRequest", t->kind, NULL, NULL,
                         "unable to parse requirement: %s", d.msg);
            return;
        }
    }
    w = sl_xcalloc(1, sizeof(*w));
    w->api = api;
    w->req = req;
    w->kind = t->kind;
    w->bookmarks = bm != NULL && strcmp(bm, "true") == 0;
    w->bookmark = sl_timer_new(api->loop, watch_bookmark, w);
    w->timeout = sl_timer_new(api->loop, watch_timeout, w);
    sl_res_kind_key(t->kind, kk, sizeof(kk));
    sl_diag_clear(&d);
    if (since == 0) {
        struct json_object *items = NULL;
        uint64_t rv = 0;
        size_t i;

        /* List, then watch from the list's version. */
        rc = sl_store_list(api->store, kk, t->ns, sel, &items, &rv, &d);
        if (rc != 0) {
            sl__api_fail(req, rc == SL_EINVAL ? 400 : 500,
                         rc == SL_EINVAL ? "BadRequest" : "InternalError",
                         t->kind, NULL, NULL, "%s", d.msg);
            sl_timer_free(w->bookmark);
            sl_timer_free(w->timeout);
            sl_free(w);
            return;
        }
        sl_http_stream_begin(req, 200, "application/json");
        w->next = api->watches;
        api->watches = w;
        sl_http_req_on_close(req, watch_closed, w);
        /* A list the client cannot take ends the stream like a slow
         * client does, never with a silent gap (the client would take a
         * partial list for the whole). */
        for (i = 0; i < json_object_array_length(items) && !w->failed; i++)
            if (watch_send(w, "ADDED", json_object_array_get_idx(items, i)) !=
                0) {
                w->failed = true;
                sl_timer_start(w->timeout, 0, 0);
            }
        json_object_put(items);
        since = rv;
        w->last_rv = rv;
    } else {
        sl_http_stream_begin(req, 200, "application/json");
        w->next = api->watches;
        api->watches = w;
        sl_http_req_on_close(req, watch_closed, w);
        w->last_rv = since;
    }
    rc = sl_store_watch(api->store, kk, t->ns, sel, since, watch_event, w,
                        &w->sw, &d);
    if (rc == SL_EGONE) {
        struct json_object *st =
            sl__api_status(410, "Expired", t->kind, NULL, NULL, d.msg);

        watch_send(w, "ERROR", st);
        json_object_put(st);
        watch_end(w, true);
        return;
    }
    if (rc != 0) {
        struct json_object *st = sl__api_status(
            rc == SL_EINVAL ? 400 : 500,
            rc == SL_EINVAL ? "BadRequest" : "InternalError", t->kind, NULL,
            NULL, d.msg[0] ? d.msg : sl_strerror(rc));

        watch_send(w, "ERROR", st);
        json_object_put(st);
        watch_end(w, true);
        return;
    }
    if (w->failed)
        return; /* the timer ends it */
    if (w->bookmarks) {
        watch_bookmark(w);
        if (w->ended)
            return;
        sl_timer_start(w->bookmark, api->bookmark_ms, api->bookmark_ms);
    }
    if (tmo > 0) /* the timer clamps what it cannot represent */
        sl_timer_start(w->timeout,
                       tmo > UINT64_MAX / 1000 ? UINT64_MAX : tmo * 1000, 0);
}

void sl__api_watch_close_all(struct sl_api *api)
{
    while (api->watches != NULL)
        watch_end(api->watches, true);
}
