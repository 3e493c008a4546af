/*
 * cmd/table.c - kubectl-style tables for `sluice get`.
 *
 * The columns copy the additionalPrinterColumns of Knative's CRDs (and
 * kubectl's built-in printers for ConfigMap, Secret and Namespace), so
 * `sluice get brokers` reads like `kubectl get brokers`.
 */
#include "cmd/table.h"

#include <string.h>

#include "core/alloc.h"
#include "core/time.h"

#define COLS_END             \
    {                        \
        NULL, 0, NULL, false \
    }

static const struct sl_col cols_url_ready[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "URL", SL_COL_PATH, "status.address.url", false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_broker[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "URL", SL_COL_PATH, "status.address.url", false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    { "CLASS", SL_COL_PATH,
      "metadata.annotations[eventing.knative.dev/broker.class]", true },
    COLS_END,
};

static const struct sl_col cols_trigger[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "BROKER", SL_COL_PATH, "spec.broker", false },
    { "SUBSCRIBER_URI", SL_COL_PATH, "status.subscriberUri", false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_source[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "SINK", SL_COL_PATH, "status.sinkUri", false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_ping[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "SINK", SL_COL_PATH, "status.sinkUri", false },
    { "SCHEDULE", SL_COL_PATH, "spec.schedule", false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_kafkasource[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "TOPICS", SL_COL_PATH, "spec.topics", false },
    { "BOOTSTRAPSERVERS", SL_COL_PATH, "spec.bootstrapServers", false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    { "AGE", SL_COL_AGE, NULL, false },
    { "SINK", SL_COL_PATH, "status.sinkUri", true },
    COLS_END,
};

static const struct sl_col cols_ksvc[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "URL", SL_COL_PATH, "status.url", false },
    { "LATESTCREATED", SL_COL_PATH, "status.latestCreatedRevisionName", false },
    { "LATESTREADY", SL_COL_PATH, "status.latestReadyRevisionName", false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_config[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "LATESTCREATED", SL_COL_PATH, "status.latestCreatedRevisionName", false },
    { "LATESTREADY", SL_COL_PATH, "status.latestReadyRevisionName", false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_revision[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "CONFIG NAME", SL_COL_PATH,
      "metadata.labels[serving.knative.dev/configuration]", false },
    { "GENERATION", SL_COL_PATH,
      "metadata.labels[serving.knative.dev/configurationGeneration]", false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    { "ACTUAL REPLICAS", SL_COL_PATH, "status.actualReplicas", false },
    { "DESIRED REPLICAS", SL_COL_PATH, "status.desiredReplicas", false },
    COLS_END,
};

static const struct sl_col cols_route[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "URL", SL_COL_PATH, "status.url", false },
    { "READY", SL_COL_READY, NULL, false },
    { "REASON", SL_COL_REASON, NULL, false },
    COLS_END,
};

static const struct sl_col cols_configmap[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "DATA", SL_COL_COUNT, "data", false },
    { "AGE", SL_COL_AGE, NULL, false },
    COLS_END,
};

static const struct sl_col cols_secret[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "TYPE", SL_COL_PATH, "type", false },
    { "DATA", SL_COL_COUNT, "data", false },
    { "AGE", SL_COL_AGE, NULL, false },
    COLS_END,
};

static const struct sl_col cols_namespace[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "STATUS", SL_COL_PATH, "status.phase", false },
    { "AGE", SL_COL_AGE, NULL, false },
    COLS_END,
};

static const struct sl_col cols_generic[] = {
    { "NAME", SL_COL_NAME, NULL, false },
    { "AGE", SL_COL_AGE, NULL, false },
    COLS_END,
};

static const struct {
    const char *kind;
    const struct sl_col *cols;
} kind_cols[] = {
    { "Broker", cols_broker },
    { "Trigger", cols_trigger },
    { "KafkaSink", cols_url_ready },
    { "PingSource", cols_ping },
    { "ApiServerSource", cols_source },
    { "ContainerSource", cols_source },
    { "SinkBinding", cols_source },
    { "RabbitmqSource", cols_source },
    { "KafkaSource", cols_kafkasource },
    { "Service", cols_ksvc },
    { "Configuration", cols_config },
    { "Revision", cols_revision },
    { "Route", cols_route },
    { "ConfigMap", cols_configmap },
    { "Secret", cols_secret },
    { "Namespace", cols_namespace },
};

const struct sl_col *sl_cli_columns(const char *kind)
{
    size_t i;

    for (i = 0; kind != NULL && i < sizeof(kind_cols) / sizeof(kind_cols[0]);
         i++)
        if (strcmp(kind_cols[i].kind, kind) == 0)
            return kind_cols[i].cols;
    return cols_generic;
}

/* ---- values ---- */

struct json_object *sl_cli_field(const struct json_object *obj,
                                 const char *path)
{
    struct json_object *cur = (struct json_object *)obj;
    const char *p = path;
    char key[256];

    while (cur != NULL && *p != '\0') {
        const char *end;
        size_t n;

        if (*p == '[') {
            end = strchr(p, ']');
            if (end == NULL)
                return NULL;
            p++;
        } else {
            end = p + strcspn(p, ".[");
        }
        n = (size_t)(end - p);
        if (n >= sizeof(key) || !json_object_is_type(cur, json_type_object))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(cur, key, &cur))
            return NULL;
        p = end;
        if (*p == ']')
            p++;
        if (*p == '.')
            p++;
    }
    return cur;
}

/* The condition of 'type' in status.conditions, or NULL. */
static struct json_object *table_cond(const struct json_object *obj,
                                      const char *type)
{
    struct json_object *conds = sl_cli_field(obj, "status.conditions");
    size_t i, n;

    if (conds == NULL || !json_object_is_type(conds, json_type_array))
        return NULL;
    n = json_object_array_length(conds);
    for (i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(conds, i), *t;

        if (json_object_object_get_ex(c, "type", &t) &&
            json_object_is_type(t, json_type_string) &&
            strcmp(json_object_get_string(t), type) == 0)
            return c;
    }
    return NULL;
}

/* A scalar or an array of scalars as text; NULL for absent. */
static char *table_text(struct json_object *v)
{
    if (v == NULL || json_object_is_type(v, json_type_null))
        return NULL;
    if (json_object_is_type(v, json_type_array)) {
        size_t i, n = json_object_array_length(v), len = 0, off = 0;
        char *s;

        for (i = 0; i < n; i++)
            len += strlen(json_object_get_string(
                       json_object_array_get_idx(v, i))) +
                   1;
        s = sl_xmalloc(len + 1);
        for (i = 0; i < n; i++) {
            const char *e =
                json_object_get_string(json_object_array_get_idx(v, i));
            size_t el = strlen(e);

            if (i > 0)
                s[off++] = ',';
            memcpy(s + off, e, el);
            off += el;
        }
        s[off] = '\0';
        return s;
    }
    return sl_xstrdup(json_object_get_string(v));
}

const char *sl_cli_age(long long secs, char *out, size_t outlen)
{
    long long m = secs / 60, h = secs / 3600, d = secs / 86400, y = d / 365;

    if (secs < 0)
        snprintf(out, outlen, "<unknown>");
    else if (secs < 120)
        snprintf(out, outlen, "%llds", secs);
    else if (m < 10)
        snprintf(out, outlen, "%lldm%llds", m, secs % 60);
    else if (h < 3)
        snprintf(out, outlen, "%lldm", m);
    else if (h < 8)
        snprintf(out, outlen, "%lldh%lldm", h, m % 60);
    else if (h < 48)
        snprintf(out, outlen, "%lldh", h);
    else if (h < 192)
        snprintf(out, outlen, "%lldd%lldh", d, h % 24);
    else if (y < 2)
        snprintf(out, outlen, "%lldd", d);
    else if (y < 8)
        snprintf(out, outlen, "%lldy%lldd", y, d % 365);
    else
        snprintf(out, outlen, "%lldy", y);
    return out;
}

static char *table_cell(const struct sl_col *c, const struct json_object *obj,
                        time_t now)
{
    struct json_object *v;
    char buf[64];

    switch (c->src) {
    case SL_COL_NAME:
        return table_text(sl_cli_field(obj, "metadata.name"));
    case SL_COL_NAMESPACE:
        return table_text(sl_cli_field(obj, "metadata.namespace"));
    case SL_COL_PATH:
        return table_text(sl_cli_field(obj, c->path));
    case SL_COL_AGE: {
        struct sl_timestamp t;

        v = sl_cli_field(obj, "metadata.creationTimestamp");
        if (v == NULL ||
            sl_time_parse_rfc3339(json_object_get_string(v), &t, NULL) != 0)
            return NULL;
        return sl_xstrdup(
            sl_cli_age((long long)now - (long long)t.sec, buf, sizeof(buf)));
    }
    case SL_COL_READY:
    case SL_COL_REASON:
        v = table_cond(obj, c->path ? c->path : "Ready");
        if (v == NULL)
            return NULL;
        json_object_object_get_ex(
            v, c->src == SL_COL_READY ? "status" : "reason", &v);
        return table_text(v);
    case SL_COL_COUNT: {
        size_t n = 0;

        v = sl_cli_field(obj, c->path);
        if (v != NULL && json_object_is_type(v, json_type_object))
            n = (size_t)json_object_object_length(v);
        else if (v != NULL && json_object_is_type(v, json_type_array))
            n = json_object_array_length(v);
        snprintf(buf, sizeof(buf), "%zu", n);
        return sl_xstrdup(buf);
    }
    }
    return NULL;
}

/* ---- the table ---- */

void sl_table_init(struct sl_table *t, const char *kind, bool namespaced,
                   bool wide)
{
    memset(t, 0, sizeof(*t));
    t->cols = sl_cli_columns(kind);
    t->wide = wide;
    t->namespaced = namespaced;
    while (t->cols[t->ncols].header != NULL)
        t->ncols++;
}

void sl_table_fini(struct sl_table *t)
{
    size_t i, j;

    for (i = 0; i < t->nrows; i++) {
        for (j = 0; j <= t->ncols; j++)
            sl_free(t->rows[i][j]);
        sl_free(t->rows[i]);
    }
    sl_free(t->rows);
    memset(t, 0, sizeof(*t));
}

void sl_table_add(struct sl_table *t, const struct json_object *obj, time_t now)
{
    static const struct sl_col ns_col = { "NAMESPACE", SL_COL_NAMESPACE, NULL,
                                          false };
    char **row;
    size_t j;

    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rows = sl_xrealloc(t->rows, t->cap * sizeof(*t->rows));
    }
    /* Cell 0 is the namespace; cells 1..ncols the kind's columns. */
    row = sl_xcalloc(t->ncols + 1, sizeof(*row));
    row[0] = t->namespaced ? table_cell(&ns_col, obj, now) : NULL;
    for (j = 0; j < t->ncols; j++)
        if (!t->cols[j].wide || t->wide)
            row[j + 1] = table_cell(&t->cols[j], obj, now);
    t->rows[t->nrows++] = row;
}

static const char *table_show(const char *s)
{
    return s != NULL && *s != '\0' ? s : "<none>";
}

void sl_table_print(const struct sl_table *t, FILE *f)
{
    size_t width[64], i, j, last = 0;

    if (t->ncols + 1 > sizeof(width) / sizeof(width[0]))
        return;
    width[0] = strlen("NAMESPACE");
    for (j = 0; j < t->ncols; j++)
        width[j + 1] = strlen(t->cols[j].header);
    for (i = 0; i < t->nrows; i++)
        for (j = 0; j <= t->ncols; j++)
            if (strlen(table_show(t->rows[i][j])) > width[j])
                width[j] = strlen(table_show(t->rows[i][j]));
    for (j = 0; j < t->ncols; j++)
        if (!t->cols[j].wide || t->wide)
            last = j + 1;
    /* Header line, then rows; the last column is not padded. */
    for (i = 0; i <= t->nrows; i++) {
        bool first = true;

        for (j = t->namespaced ? 0 : 1; j <= t->ncols; j++) {
            const char *cell;

            if (j > 0 && t->cols[j - 1].wide && !t->wide)
                continue;
            if (i == 0)
                cell = j == 0 ? "NAMESPACE" : t->cols[j - 1].header;
            else
                cell = table_show(t->rows[i - 1][j]);
            if (!first)
                fputs("   ", f);
            first = false;
            if (j == last)
                fputs(cell, f);
            else
                fprintf(f, "%-*s", (int)width[j], cell);
        }
        fputc('\n', f);
    }
}
