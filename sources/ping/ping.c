/*
 * sources/ping/ping.c - the PingSource adapter (reference section 4;
 * Knative's mtping adapter, pkg/adapter/mtping).
 *
 * One loop timer per source. Start and update arm it for the first fire
 * instant strictly after now (sl_cron_next in the source's zone), plus a
 * random 0-499 ms delay, as Knative's runner sleeps before each send to
 * spread load. When it fires, one event is built (new UUID v4 id, time =
 * now) and handed to the emitter (sources/emit.h); then the next instant
 * strictly after both the one just fired and now is armed. So ticks
 * missed while sluice was down, or while the loop was held up, are not
 * replayed, and a schedule change starts from now (Knative re-adds the
 * cron entry).
 *
 * The timer sleeps at most PING_MAX_SLEEP_MS at a time and compares the
 * wall clock on waking: fire instants are wall-clock (Unix) seconds
 * while loop timers run on the monotonic clock, so a wall-clock step
 * (NTP, a suspended machine) moves the next tick with it rather than
 * shifting every later one.
 *
 * States (the wrappers of sources/source.c keep src->state): NEW after
 * init (spec parsed, zone loaded, timer stopped), RUNNING with the timer
 * armed (or idle when the schedule never fires), STOPPED after stop
 * (timer stopped, the emitter's events cancelled).
 */
#include "sources/ping/ping.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/str.h"
#include "core/time.h"
#include "core/tz.h"
#include "core/uuid.h"
#include "proto/event.h"
#include "resource/cron.h"
#include "resource/schema.h"
#include "sources/emit.h"
#include "sources/source.h"

#define PING_DEFAULT_SCHEDULE "* * * * *"
#define PING_JITTER_MS        500
#define PING_MAX_SLEEP_MS     60000

/* ---- the spec ---- */

void sl_ping_spec_fini(struct sl_ping_spec *spec)
{
    size_t i;

    sl_free(spec->schedule);
    sl_free(spec->zone);
    sl_free(spec->source);
    sl_free(spec->content_type);
    sl_free(spec->data);
    for (i = 0; i < spec->next; i++) {
        sl_free(spec->ext[i].name);
        sl_free(spec->ext[i].value);
    }
    sl_free(spec->ext);
    sl_free(spec->ignored);
    memset(spec, 0, sizeof(*spec));
}

/* dataBase64 'b64' decoded into spec->data (line breaks skipped, as Go's
 * decoder does). */
static int ping_decode(struct sl_ping_spec *spec, const char *b64,
                       struct sl_diag *d)
{
    size_t n = strlen(b64), i;
    struct sl_buf in, out;
    struct sl_diag why;
    int rc;

    sl_buf_init(&in, n);
    sl_buf_init(&out, n);
    for (i = 0; i < n; i++)
        if (b64[i] != '\r' && b64[i] != '\n')
            sl_buf_appendc(&in, b64[i]);
    sl_diag_clear(&why);
    rc = sl_base64_decode(sl_buf_str(&in), in.len, &out, &why);
    if (rc != 0) {
        rc = sl_diag_set(d, SL_EINVAL, "spec.dataBase64", "invalid value: %s",
                         why.msg);
    } else {
        spec->data = (unsigned char *)sl_buf_steal(&out, &spec->data_len);
        spec->has_data = true;
    }
    sl_buf_fini(&out);
    sl_buf_fini(&in);
    return rc;
}

/* Append 'name' to the comma list spec->ignored. */
static void ping_ignore(struct sl_ping_spec *spec, const char *name)
{
    size_t n =
        (spec->ignored ? strlen(spec->ignored) + 1 : 0) + strlen(name) + 1;
    char *s = sl_xmalloc(n);

    snprintf(s, n, "%s%s%s", spec->ignored ? spec->ignored : "",
             spec->ignored ? "," : "", name);
    sl_free(spec->ignored);
    spec->ignored = s;
}

/* spec.ceOverrides.extensions into spec->ext. */
static int ping_extensions(struct sl_ping_spec *spec,
                           const struct json_object *exts, struct sl_diag *d)
{
    size_t cap;

    if (exts == NULL || !json_object_is_type(exts, json_type_object))
        return 0;
    cap = (size_t)json_object_object_length(exts);
    spec->ext = sl_xcalloc(cap + 1, sizeof(*spec->ext));
    json_object_object_foreach((struct json_object *)exts, k, v)
    {
        char *name = sl_str_lower(sl_xstrdup(k));
        const char *value = json_object_get_string(v);
        struct sl_diag why;
        char field[300];

        snprintf(field, sizeof(field), "spec.ceOverrides.extensions.%s", k);
        /* sdk-go lower-cases extension names and refuses to let an
         * extension overwrite a core attribute. */
        if (!sl_ce_name_valid(name, SL_CE_V10)) {
            sl_free(name);
            return sl_diag_set(d, SL_EINVAL, field,
                               "invalid extension name: must be [a-z0-9]+");
        }
        if (sl_ce_core_type(name, SL_CE_V10) >= 0 ||
            strcmp(name, "specversion") == 0) {
            ping_ignore(spec, name);
            sl_free(name);
            continue;
        }
        if (value == NULL)
            value = "";
        sl_diag_clear(&why);
        if (sl_ce_check_value(name, SL_CE_STRING, value, strlen(value), &why) !=
            0) {
            sl_free(name);
            return sl_diag_set(d, SL_EINVAL, field, "invalid value: %s",
                               why.msg);
        }
        spec->ext[spec->next].name = name;
        spec->ext[spec->next].value = sl_xstrdup(value);
        spec->next++;
    }
    return 0;
}

static int ping_spec_read(const struct json_object *obj,
                          struct sl_ping_spec *spec, struct sl_diag *d)
{
    const struct json_object *s = sl_res_get(obj, "spec");
    const char *ns = sl_res_get_str(sl_res_get(obj, "metadata"), "namespace");
    const char *name = sl_res_get_str(sl_res_get(obj, "metadata"), "name");
    const char *sched = sl_res_get_str(s, "schedule");
    const char *tz = sl_res_get_str(s, "timezone");
    const char *ct = sl_res_get_str(s, "contentType");
    const char *data = sl_res_get_str(s, "data");
    const char *b64 = sl_res_get_str(s, "dataBase64");
    struct sl_diag why;
    size_t n;

    if (ns == NULL || name == NULL)
        return sl_diag_set(d, SL_EINVAL, "metadata",
                           "a PingSource needs a namespace and a name");
    n = strlen(ns) + strlen(name) + 40;
    spec->source = sl_xmalloc(n);
    snprintf(spec->source, n, "/apis/v1/namespaces/%s/pingsources/%s", ns,
             name);
    if (sched == NULL || sched[0] == '\0')
        sched = PING_DEFAULT_SCHEDULE;
    spec->schedule = sl_xstrdup(sched);
    sl_diag_clear(&why);
    if (sl_cron_parse(sched, &spec->cron, &why) != 0)
        return sl_diag_set(d, SL_EINVAL, "spec.schedule",
                           "invalid value \"%s\": %s", sched, why.msg);
    if (tz != NULL && tz[0] != '\0')
        spec->zone = sl_xstrdup(tz);
    else if (spec->cron.tz[0] != '\0')
        spec->zone = sl_xstrdup(spec->cron.tz);
    else
        spec->zone = sl_xstrdup("UTC");
    if (data != NULL && data[0] != '\0' && b64 != NULL && b64[0] != '\0')
        return sl_diag_set(d, SL_EINVAL, "spec.dataBase64",
                           "expected exactly one, got both");
    if (b64 != NULL && b64[0] != '\0') {
        if (ping_decode(spec, b64, d) != 0)
            return SL_EINVAL;
    } else if (data != NULL && data[0] != '\0') {
        spec->data_len = strlen(data);
        spec->data = sl_xmemdup(data, spec->data_len + 1);
        spec->has_data = true;
    }
    if (ct != NULL && ct[0] != '\0') {
        if (sl_ce_check_value("datacontenttype", SL_CE_STRING, ct, strlen(ct),
                              &why) != 0)
            return sl_diag_set(d, SL_EINVAL, "spec.contentType",
                               "invalid value \"%s\": %s", ct, why.msg);
        spec->content_type = sl_xstrdup(ct);
    }
    return ping_extensions(
        spec, sl_res_get(sl_res_get(s, "ceOverrides"), "extensions"), d);
}

int sl_ping_spec_parse(const struct json_object *obj, struct sl_ping_spec *out,
                       struct sl_diag *d)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = ping_spec_read(obj, out, d);
    if (rc != 0)
        sl_ping_spec_fini(out);
    return rc;
}

int sl_ping_event(const struct sl_ping_spec *spec, const char *id,
                  const struct sl_timestamp *now, struct sl_event **out,
                  struct sl_diag *d)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    char ts[SL_TIME_RFC3339_MAX];
    size_t i;
    int rc;

    *out = NULL;
    sl_time_format_rfc3339(now, ts, sizeof(ts));
    if ((rc = sl_event_set_str(ev, "id", id, d)) != 0 ||
        (rc = sl_event_set_str(ev, "source", spec->source, d)) != 0 ||
        (rc = sl_event_set_str(ev, "type", SL_PING_EVENT_TYPE, d)) != 0 ||
        (rc = sl_event_set(ev, "time", SL_CE_TIME, ts, strlen(ts), d)) != 0)
        goto out;
    if (spec->has_data) {
        if (spec->content_type != NULL &&
            (rc = sl_event_set_str(ev, "datacontenttype", spec->content_type,
                                   d)) != 0)
            goto out;
        sl_event_set_data(ev, spec->data, spec->data_len);
    }
    for (i = 0; i < spec->next; i++)
        if ((rc = sl_event_set_str(ev, spec->ext[i].name, spec->ext[i].value,
                                   d)) != 0)
            goto out;
    rc = sl_event_validate(ev, d);
out:
    if (rc != 0) {
        sl_event_unref(ev);
        return rc;
    }
    *out = ev;
    return 0;
}

/* ---- the adapter ---- */

struct ping_source {
    struct sl_source base;
    struct sl_ping_spec spec;
    struct sl_tz *tz;
    struct sl_timer *timer;
    int64_t fire_sec; /* the instant of the armed tick, -1 when none */
    int64_t due_ms;   /* wall ms it sends at: fire_sec + the random delay */
    bool dropping;    /* the emitter refused the last tick (logged once) */
};

#define PING(src) sl_container_of((src), struct ping_source, base)

/* The wall clock in ms. */
static int64_t ping_now_ms(void)
{
    struct sl_timestamp t = sl_time_now();

    return t.sec * 1000 + t.nsec / 1000000;
}

/* A random delay in [0, PING_JITTER_MS). */
static int64_t ping_jitter(void)
{
    uint32_t r;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)(sl_time_mono_ns() / 1000);
    return (int64_t)(r % PING_JITTER_MS);
}

/* Sleep until due_ms, PING_MAX_SLEEP_MS at most at a time. */
static void ping_sleep(struct ping_source *ps)
{
    int64_t left = ps->due_ms - ping_now_ms();

    if (left < 0)
        left = 0;
    if (left > PING_MAX_SLEEP_MS)
        left = PING_MAX_SLEEP_MS;
    sl_timer_start(ps->timer, (uint64_t)left, 0);
}

/* Arm the first tick strictly after 'after' (Unix seconds). */
static void ping_arm(struct ping_source *ps, int64_t after)
{
    ps->fire_sec = sl_cron_next(&ps->spec.cron, ps->tz, after);
    if (ps->fire_sec < 0) {
        sl_timer_stop(ps->timer);
        SL_LOG(SL_LOG_WARN, &ps->base.log,
               "schedule \"%s\" (%s) does not fire within five years; "
               "no events",
               ps->spec.schedule, ps->spec.zone);
        return;
    }
    ps->due_ms = ps->fire_sec * 1000 + ping_jitter();
    ping_sleep(ps);
}

/* One tick: build the event and hand it to the emitter. */
static void ping_send(struct ping_source *ps)
{
    char id[SL_UUID_STR_LEN + 1];
    struct sl_timestamp now = sl_time_now();
    struct sl_event *ev = NULL;
    struct sl_diag d;
    int rc;

    if (sl_uuid_v4(id) != 0) {
        SL_LOG(SL_LOG_ERROR, &ps->base.log,
               "tick skipped: no randomness for an event id");
        return;
    }
    sl_diag_clear(&d);
    if (sl_ping_event(&ps->spec, id, &now, &ev, &d) != 0) {
        SL_LOG(SL_LOG_ERROR, &ps->base.log, "tick skipped: %s: %s", d.field,
               d.msg);
        return;
    }
    rc = sl_emit(ps->base.out, ev, NULL, NULL);
    if (rc == SL_EBUSY) {
        if (!ps->dropping)
            SL_LOG(SL_LOG_WARN, &ps->base.log,
                   "the sink is slower than the schedule: %zu events still "
                   "in flight, dropping ticks until one ends",
                   sl_emitter_in_flight(ps->base.out));
        ps->dropping = true;
    } else if (rc != 0) {
        SL_LOG(SL_LOG_ERROR, &ps->base.log, "tick skipped: %s",
               sl_strerror(rc));
    } else {
        if (ps->dropping)
            SL_LOG(SL_LOG_INFO, &ps->base.log,
                   "the sink caught up: sending ticks again");
        ps->dropping = false;
        SL_LOG(SL_LOG_DEBUG, &ps->base.log, "tick: event %s", id);
    }
    sl_event_unref(ev);
}

static void ping_fire(void *arg)
{
    struct ping_source *ps = arg;
    int64_t now = ping_now_ms(), after;

    if (now < ps->due_ms) {
        /* A long wait taken in steps, or the wall clock stepped back. */
        ping_sleep(ps);
        return;
    }
    ping_send(ps);
    /* Strictly after the tick just sent, and after now: what was missed
     * while the loop (or the machine) was held up is not replayed. */
    after = now / 1000;
    if (after < ps->fire_sec)
        after = ps->fire_sec;
    ping_arm(ps, after);
}

/* Parse 'obj' and load its zone into 'spec' / '*ptz'. */
static int ping_load(struct ping_source *ps, const struct json_object *obj,
                     struct sl_ping_spec *spec, struct sl_tz **ptz,
                     struct sl_diag *d)
{
    bool from_spec =
        sl_res_get_str(sl_res_get(obj, "spec"), "timezone") != NULL;
    struct sl_diag why;
    int rc;

    *ptz = NULL;
    if ((rc = sl_ping_spec_parse(obj, spec, d)) != 0)
        return rc;
    sl_diag_clear(&why);
    rc = sl_tz_load(ps->base.zoneinfo_dir, spec->zone, ptz, &why);
    if (rc != 0) {
        sl_diag_set(d, rc, from_spec ? "spec.timezone" : "spec.schedule",
                    "cannot load time zone \"%s\": %s", spec->zone, why.msg);
        sl_ping_spec_fini(spec);
        return rc;
    }
    if (spec->ignored != NULL)
        SL_LOG(SL_LOG_WARN, &ps->base.log,
               "ceOverrides.extensions %s ignored: an extension cannot "
               "overwrite a core attribute",
               spec->ignored);
    return 0;
}

static int ping_validate(const struct json_object *obj, struct sl_diag *d)
{
    struct sl_ping_spec spec;
    int rc = sl_ping_spec_parse(obj, &spec, d);

    sl_ping_spec_fini(&spec);
    return rc;
}

static int ping_init(struct sl_source *src, const struct json_object *obj,
                     struct sl_diag *d)
{
    struct ping_source *ps = PING(src);
    int rc;

    ps->fire_sec = -1;
    if ((rc = ping_load(ps, obj, &ps->spec, &ps->tz, d)) != 0)
        return rc;
    ps->timer = sl_timer_new(src->loop, ping_fire, ps);
    return 0;
}

static int ping_start(struct sl_source *src, struct sl_diag *d)
{
    struct ping_source *ps = PING(src);

    (void)d;
    ps->dropping = false;
    ping_arm(ps, ping_now_ms() / 1000);
    if (ps->fire_sec >= 0)
        SL_LOG(SL_LOG_DEBUG, &src->log, "schedule \"%s\" in %s: next at %lld",
               ps->spec.schedule, ps->spec.zone, (long long)ps->fire_sec);
    return 0;
}

static void ping_stop(struct sl_source *src, sl_source_done_fn *done, void *arg)
{
    struct ping_source *ps = PING(src);

    sl_timer_stop(ps->timer);
    ps->fire_sec = -1;
    /* Events of this source still in their attempts go too. */
    sl_emitter_cancel(src->out);
    done(arg, 0);
}

static int ping_update(struct sl_source *src, const struct json_object *obj,
                       struct sl_diag *d)
{
    struct ping_source *ps = PING(src);
    struct sl_ping_spec spec;
    struct sl_tz *tz = NULL;
    int rc;

    if ((rc = ping_load(ps, obj, &spec, &tz, d)) != 0)
        return rc; /* the running spec stays */
    sl_ping_spec_fini(&ps->spec);
    ps->spec = spec;
    sl_tz_free(ps->tz);
    ps->tz = tz;
    if (src->state == SL_SOURCE_RUNNING) {
        /* Re-armed from now: no catch-up, as Knative re-adds the entry. */
        sl_timer_stop(ps->timer);
        ping_arm(ps, ping_now_ms() / 1000);
    }
    return 0;
}

static void ping_fini(struct sl_source *src)
{
    struct ping_source *ps = PING(src);

    sl_timer_free(ps->timer);
    ps->timer = NULL;
    sl_tz_free(ps->tz);
    ps->tz = NULL;
    sl_ping_spec_fini(&ps->spec);
}

const struct sl_source_ops sl_source_ping = {
    .kind = "PingSource",
    .abi = SL_SOURCE_ABI,
    .size = sizeof(struct ping_source),
    .validate = ping_validate,
    .init = ping_init,
    .start = ping_start,
    .stop = ping_stop,
    .fini = ping_fini,
    .update = ping_update,
};
