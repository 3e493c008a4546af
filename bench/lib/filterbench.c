/*
 * bench/lib/filterbench.c - per-core cost of Trigger filters (linked with
 * libsluice.a; run by bench/run.py's "filter" section).
 *
 * One thread evaluates each filter against one typical event in a tight
 * loop and reports evaluations per second of that thread's CPU time (so a
 * busy machine lowers the wall-clock rate, not the per-core one), the
 * best of three rounds. Every rate is also printed as a ratio to the
 * baseline of the same run: fetching the attribute by name and comparing
 * it with strcmp, the least any "type = X" filter has to do.
 *
 * Output: one line per measurement, "name<TAB>rate<TAB>ratio" (rate in
 * evaluations per CPU second, ratio to the baseline), for run.py.
 * FILTERBENCH_SECS (default 0.5) sets the CPU seconds per round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/err.h"
#include "proto/event.h"
#include "triggers/cesql.h"
#include "triggers/filter.h"

static double now_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sl_event *bench_event(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    if (sl_event_set_str(ev, "id", "7f0c7a52-2b1c-4a8e-9d0e-4f1b2c3d4e5f",
                         NULL) != 0 ||
        sl_event_set_str(ev, "source", "https://example.com/shop/orders",
                         NULL) != 0 ||
        sl_event_set_str(ev, "type", "com.example.order", NULL) != 0 ||
        sl_event_set_str(ev, "subject", "orders/42", NULL) != 0 ||
        sl_event_set_str(ev, "time", "2026-11-27T10:00:00Z", NULL) != 0 ||
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL) !=
            0 ||
        sl_event_set_str(ev, "region", "EU-West", NULL) != 0 ||
        sl_event_set_str(ev, "priority", "high", NULL) != 0 ||
        sl_event_set_int(ev, "count", 42, NULL) != 0 ||
        sl_event_set_str(ev, "knativearrivaltime", "2026-11-27T10:00:00.1Z",
                         NULL) != 0 ||
        sl_event_validate(ev, NULL) != 0) {
        fprintf(stderr, "filterbench: cannot build the event\n");
        exit(1);
    }
    return ev;
}

enum kind { K_BASELINE, K_CESQL, K_FILTER };

struct bench {
    const char *name;
    enum kind kind;
    const char *text; /* CESQL, or a Trigger spec as JSON */
    struct sl_cesql *q;
    struct sl_filter *f;
    double rate;
};

static volatile long sink;

/* One round: evaluations per CPU second of this thread. */
static double bench_round(struct bench *b, const struct sl_event *ev,
                          double secs)
{
    double t0 = now_cpu(), t;
    long n = 0, hits = 0;
    int i;

    do {
        for (i = 0; i < 10000; i++) {
            switch (b->kind) {
            case K_BASELINE: {
                const char *v = sl_event_value(ev, "type");
                hits += v != NULL && strcmp(v, "com.example.order") == 0;
                break;
            }
            case K_CESQL:
                hits += sl_cesql_match(b->q, ev);
                break;
            default:
                hits += sl_filter_match(b->f, ev);
                break;
            }
        }
        n += 10000;
        t = now_cpu() - t0;
    } while (t < secs);
    sink += hits;
    if (hits != n) {
        fprintf(stderr, "filterbench: %s does not match the event\n", b->name);
        exit(1);
    }
    return (double)n / t;
}

int main(void)
{
    static struct bench benches[] = {
        { "baseline strcmp(type)", K_BASELINE, NULL, NULL, NULL, 0 },
        { "cesql simple", K_CESQL, "type = 'com.example.order'", NULL, NULL,
          0 },
        { "cesql complex", K_CESQL,
          "(source LIKE '%/shop/%' AND count > 10) OR "
          "(LOWER(region) = 'eu-west' AND priority IN ('high', 'urgent'))",
          NULL, NULL, 0 },
        { "cesql complex (second branch)", K_CESQL,
          "(source LIKE '%/stock/%' AND count > 10) OR "
          "(LOWER(region) = 'eu-west' AND priority IN ('low', 'high'))",
          NULL, NULL, 0 },
        { "exact filter", K_FILTER,
          "{\"filters\":[{\"exact\":{\"type\":\"com.example.order\"}}]}", NULL,
          NULL, 0 },
        { "prefix filter", K_FILTER,
          "{\"filters\":[{\"prefix\":{\"type\":\"com.example.\"}}]}", NULL,
          NULL, 0 },
        { "suffix filter", K_FILTER,
          "{\"filters\":[{\"suffix\":{\"source\":\"/orders\"}}]}", NULL, NULL,
          0 },
        { "cesql simple via sl_filter", K_FILTER,
          "{\"filters\":[{\"cesql\":\"type = 'com.example.order'\"}]}", NULL,
          NULL, 0 },
    };
    const char *env = getenv("FILTERBENCH_SECS");
    double secs = env ? strtod(env, NULL) : 0.5, base;
    struct sl_event *ev = bench_event();
    size_t i, nb = sizeof(benches) / sizeof(benches[0]);
    struct sl_diag d;
    int round;

    if (!(secs > 0))
        secs = 0.5;
    for (i = 0; i < nb; i++) {
        struct bench *b = &benches[i];
        struct json_object *spec;
        int rc = 0;
        if (b->kind == K_CESQL) {
            rc = sl_cesql_compile(b->text, &b->q, &d);
        } else if (b->kind == K_FILTER) {
            spec = json_tokener_parse(b->text);
            rc = spec ? sl_filter_compile(spec, &b->f, &d) : SL_EINVAL;
            json_object_put(spec);
        }
        if (rc != 0) {
            fprintf(stderr, "filterbench: %s: %s\n", b->name, d.msg);
            return 1;
        }
    }
    for (round = 0; round < 3; round++)
        for (i = 0; i < nb; i++) {
            double r = bench_round(&benches[i], ev, secs);
            if (r > benches[i].rate)
                benches[i].rate = r;
        }
    base = benches[0].rate;
    for (i = 0; i < nb; i++)
        printf("%s\t%.0f\t%.3f\n", benches[i].name, benches[i].rate,
               benches[i].rate / base);
    for (i = 0; i < nb; i++) {
        sl_cesql_free(benches[i].q);
        sl_filter_free(benches[i].f);
    }
    sl_event_unref(ev);
    return 0;
}
