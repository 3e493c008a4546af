/*
 * core/metrics.c - the metrics registry and the Prometheus text writer.
 *
 * A family keeps its live series twice: in a chained hash table keyed by
 * the label values (lookups hash and compare the caller's strings, so a
 * lookup of an existing series allocates nothing) and in a list in
 * creation order (what a scrape writes). Both, the reference counts and
 * the fold counts are guarded by the registry's mutex; the numbers in a
 * series are atomics, touched without the lock.
 *
 * A removed series leaves the table and the list at once and is freed by
 * whoever drops the last reference: remove itself when nobody holds it,
 * else the last release. 'zombies' counts removed series still held, so
 * that freeing the registry under a holder is caught.
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"

#define MET_MIN_BUCKETS 16

struct sl_metrics_series {
    struct sl_metrics_family *fam;
    struct sl_metrics_series *hnext;       /* hash chain */
    struct sl_metrics_series *prev, *next; /* creation order */
    uint64_t hash;
    char **values; /* fam->nlabels strings, sanitised */
    size_t refs;   /* handles out (registry mutex) */
    atomic_bool dead;
    _Atomic uint64_t sum_bits; /* histogram: the sum, as double bits */
    /* Counter: n[0]. Histogram: per-bucket (not cumulative) counts,
     * n[nbounds] being +Inf. */
    _Atomic uint64_t n[];
};

struct sl_metrics_family {
    struct sl_metrics *reg;
    struct sl_metrics_family *next;
    char *name, *help;
    enum sl_metrics_type type;
    char **labels;
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    int fold_label;
    size_t max_series;
    struct sl_metrics_series **table; /* chains; size a power of two */
    size_t tsize;
    size_t nlive;
    struct sl_metrics_series *first, *last;
    uint64_t folds;
};

struct sl_metrics {
    pthread_mutex_t mu;
    struct sl_metrics_family *first, *last;
    size_t zombies;
};

static void met_panic(const char *what, const char *name)
{
    fprintf(stderr, "sluice: metrics: %s '%s'\n", what, name ? name : "");
    abort();
}

/* ---- names and text ---- */

static bool met_name_ok(const char *s, bool colon)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     c == '_' || (colon && c == ':');

        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* 's' with invalid UTF-8 sequences replaced by U+FFFD (heap copy). */
static char *met_sanitize(const char *s)
{
    size_t n = strlen(s), i = 0;
    struct sl_buf b;
    uint32_t cp;

    if (sl_utf8_valid(s, n, NULL))
        return sl_xstrdup(s);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    while (i < n) {
        size_t k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);

        if (k == 0) {
            (void)sl_buf_appends(&b, "\xef\xbf\xbd");
            i++;
        } else {
            (void)sl_buf_append(&b, s + i, k);
            i += k;
        }
    }
    return sl_buf_steal(&b, NULL);
}

/* Append 's' escaped for a label value (quote true) or a help text. */
static int met_escape(struct sl_buf *out, const char *s, bool quote)
{
    const char *p = s, *run = s;
    int rc = 0;

    for (; *p != '\0' && rc == 0; p++) {
        const char *rep = NULL;

        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '\n')
            rep = "\\n";
        else if (*p == '"' && quote)
            rep = "\\\"";
        if (rep == NULL)
            continue;
        rc = sl_buf_append(out, run, (size_t)(p - run));
        if (rc == 0)
            rc = sl_buf_appends(out, rep);
        run = p + 1;
    }
    if (rc == 0)
        rc = sl_buf_append(out, run, (size_t)(p - run));
    return rc;
}

/*
 * Shortest text that reads back as 'v', as Go's strconv 'g' with precision
 * -1 writes it (what Prometheus client libraries print): exponent form
 * when the decimal exponent is below -4 or at least 6, else fixed; and
 * +Inf, -Inf, NaN.
 */
static void met_fmt_double(double v, char *out, size_t n)
{
    int digits, exp;

    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (digits = 1; digits < 17; digits++) {
        snprintf(out, n, "%.*e", digits - 1, v);
        if (strtod(out, NULL) == v)
            break;
    }
    snprintf(out, n, "%.*e", digits - 1, v);
    exp = (int)strtol(strchr(out, 'e') + 1, NULL, 10);
    if (exp < -4 || exp >= 6)
        return;
    snprintf(out, n, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
}

/* ---- hashing and lookup ---- */

static uint64_t met_hash(const char *const *values, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        const unsigned char *p =
            (const unsigned char *)(values[i] ? values[i] : "");

        for (; *p != '\0'; p++) {
            h ^= *p;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* never a byte of UTF-8: separates the values */
        h *= 1099511628211ULL;
    }
    return h;
}

static struct sl_metrics_series *met_find(struct sl_metrics_family *f,
                                          const char *const *values, uint64_t h)
{
    struct sl_metrics_series *s;
    size_t i;

    if (f->tsize == 0)
        return NULL;
    for (s = f->table[h & (f->tsize - 1)]; s != NULL; s = s->hnext) {
        if (s->hash != h)
            continue;
        for (i = 0; i < f->nlabels; i++)
            if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
                break;
        if (i == f->nlabels)
            return s;
    }
    return NULL;
}

static void met_table_grow(struct sl_metrics_family *f)
{
    size_t nsize = f->tsize ? f->tsize * 2 : MET_MIN_BUCKETS, i;
    struct sl_metrics_series **nt = sl_xcalloc(nsize, sizeof(*nt));

    for (i = 0; i < f->tsize; i++) {
        struct sl_metrics_series *s = f->table[i], *next;

        for (; s != NULL; s = next) {
            next = s->hnext;
            s->hnext = nt[s->hash & (nsize - 1)];
            nt[s->hash & (nsize - 1)] = s;
        }
    }
    sl_free(f->table);
    f->table = nt;
    f->tsize = nsize;
}

static size_t met_slots(const struct sl_metrics_family *f)
{
    return f->type == SL_METRICS_HISTOGRAM ? f->nbounds + 1 : 1;
}

/* A new live series with 'values' (sanitised copies), hashed 'h'. */
static struct sl_metrics_series *
met_create(struct sl_metrics_family *f, const char *const *values, uint64_t h)
{
    size_t i, slots = met_slots(f);
    struct sl_metrics_series *s =
        sl_xcalloc(1, sizeof(*s) + slots * sizeof(s->n[0]));

    s->fam = f;
    s->hash = h;
    s->values = sl_xcalloc(f->nlabels ? f->nlabels : 1, sizeof(char *));
    for (i = 0; i < f->nlabels; i++)
        s->values[i] = met_sanitize(values[i] ? values[i] : "");
    atomic_init(&s->dead, false);
    atomic_init(&s->sum_bits, 0);
    for (i = 0; i < slots; i++)
        atomic_init(&s->n[i], 0);
    if (f->nlive + 1 > f->tsize)
        met_table_grow(f);
    s->hnext = f->table[h & (f->tsize - 1)];
    f->table[h & (f->tsize - 1)] = s;
    s->prev = f->last;
    if (f->last != NULL)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    f->nlive++;
    return s;
}

static void met_series_free(struct sl_metrics_series *s)
{
    size_t i;

    for (i = 0; i < s->fam->nlabels; i++)
        sl_free(s->values[i]);
    sl_free(s->values);
    sl_free(s);
}

/* Take 's' out of its family's table and list (registry mutex held). */
static void met_unlink(struct sl_metrics_series *s)
{
    struct sl_metrics_family *f = s->fam;
    struct sl_metrics_series **pp = &f->table[s->hash & (f->tsize - 1)];

    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        f->first = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    else
        f->last = s->prev;
    s->hnext = s->prev = s->next = NULL;
    f->nlive--;
}

/* ---- registry and families ---- */

struct sl_metrics *sl_metrics_new(void)
{
    struct sl_metrics *m = sl_xcalloc(1, sizeof(*m));

    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void met_family_free(struct sl_metrics_family *f)
{
    struct sl_metrics_series *s, *next;
    size_t i;

    for (s = f->first; s != NULL; s = next) {
        next = s->next;
        if (s->refs != 0)
            met_panic("freed with a series still held in", f->name);
        met_series_free(s);
    }
    for (i = 0; i < f->nlabels; i++)
        sl_free(f->labels[i]);
    sl_free(f->labels);
    sl_free(f->bounds);
    sl_free(f->table);
    sl_free(f->name);
    sl_free(f->help);
    sl_free(f);
}

void sl_metrics_free(struct sl_metrics *m)
{
    struct sl_metrics_family *f, *next;

    if (m == NULL)
        return;
    if (m->zombies != 0)
        met_panic("freed with removed series still held", "registry");
    for (f = m->first; f != NULL; f = next) {
        next = f->next;
        met_family_free(f);
    }
    pthread_mutex_destroy(&m->mu);
    sl_free(m);
}

/* True when 'f' was made from a definition equal to 'def'. */
static bool met_same(const struct sl_metrics_family *f,
                     const struct sl_metrics_family_def *def)
{
    size_t i;

    if (f->type != def->type || f->nlabels != def->nlabels ||
        f->fold_label != def->fold_label)
        return false;
    for (i = 0; i < f->nlabels; i++)
        if (strcmp(f->labels[i], def->labels[i]) != 0)
            return false;
    if (f->type != SL_METRICS_HISTOGRAM)
        return true;
    if (f->nbounds != def->nbounds)
        return false;
    for (i = 0; i < f->nbounds; i++)
        if (f->bounds[i] != def->bounds[i])
            return false;
    return true;
}

static void met_check_def(const struct sl_metrics_family_def *def)
{
    size_t i;

    if (!met_name_ok(def->name, true))
        met_panic("invalid metric name", def->name);
    if (def->nlabels > SL_METRICS_MAX_LABELS ||
        (def->nlabels > 0 && def->labels == NULL))
        met_panic("too many labels (or none given) in", def->name);
    for (i = 0; i < def->nlabels; i++) {
        const char *l = def->labels[i];

        if (!met_name_ok(l, false) || strncmp(l, "__", 2) == 0 ||
            (def->type == SL_METRICS_HISTOGRAM && strcmp(l, "le") == 0))
            met_panic("invalid label name", l);
    }
    if (def->fold_label < -1 || def->fold_label >= (int)def->nlabels)
        met_panic("fold label out of range in", def->name);
    if (def->type == SL_METRICS_HISTOGRAM) {
        if (def->nbounds > SL_METRICS_MAX_BUCKETS ||
            (def->nbounds > 0 && def->bounds == NULL))
            met_panic("too many buckets (or none given) in", def->name);
        for (i = 0; i < def->nbounds; i++)
            if (!isfinite(def->bounds[i]) ||
                (i > 0 && def->bounds[i] <= def->bounds[i - 1]))
                met_panic("bucket bounds not finite and increasing in",
                          def->name);
    } else if (def->type != SL_METRICS_COUNTER) {
        met_panic("unknown type of", def->name);
    }
}

struct sl_metrics_family *
sl_metrics_family(struct sl_metrics *m, const struct sl_metrics_family_def *def)
{
    struct sl_metrics_family *f;
    size_t i;

    met_check_def(def);
    pthread_mutex_lock(&m->mu);
    for (f = m->first; f != NULL; f = f->next)
        if (strcmp(f->name, def->name) == 0)
            break;
    if (f != NULL) {
        pthread_mutex_unlock(&m->mu);
        if (!met_same(f, def))
            met_panic("registered again with another shape:", def->name);
        return f;
    }
    f = sl_xcalloc(1, sizeof(*f));
    f->reg = m;
    f->name = sl_xstrdup(def->name);
    f->help = sl_xstrdup(def->help ? def->help : "");
    f->type = def->type;
    f->nlabels = def->nlabels;
    f->labels = sl_xcalloc(def->nlabels ? def->nlabels : 1, sizeof(char *));
    for (i = 0; i < def->nlabels; i++)
        f->labels[i] = sl_xstrdup(def->labels[i]);
    if (def->type == SL_METRICS_HISTOGRAM) {
        f->nbounds = def->nbounds;
        f->bounds = sl_xcalloc(def->nbounds ? def->nbounds : 1, sizeof(double));
        for (i = 0; i < def->nbounds; i++)
            f->bounds[i] = def->bounds[i];
    }
    f->fold_label = def->fold_label;
    f->max_series =
        def->max_series ? def->max_series : SL_METRICS_DEFAULT_MAX_SERIES;
    if (m->last != NULL)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

/* ---- series ---- */

/*
 * Whether a value of the fold label (it comes from producers) may be a
 * label value: at most SL_METRICS_MAX_FOLD_VALUE bytes of printable ASCII,
 * as OpenCensus tags (Knative's metrics) allow. Anything else is folded,
 * so no producer can make a series of megabytes.
 */
static bool met_fold_value_ok(const char *v)
{
    size_t i;

    for (i = 0; v[i] != '\0'; i++)
        if (i >= SL_METRICS_MAX_FOLD_VALUE || v[i] < 0x20 || v[i] > 0x7e)
            return false;
    return true;
}

/* Find or create (mutex held); folds when the family is full, or the fold
 * label's value is not one a label may take. */
static struct sl_metrics_series *met_get_locked(struct sl_metrics_family *f,
                                                const char *const *values,
                                                bool *folded)
{
    const char *v[SL_METRICS_MAX_LABELS];
    struct sl_metrics_series *s;
    uint64_t h = met_hash(values, f->nlabels);
    size_t i;

    s = met_find(f, values, h);
    if (s != NULL)
        return s;
    for (i = 0; i < f->nlabels; i++)
        v[i] = values[i] ? values[i] : "";
    if (f->fold_label >= 0 &&
        ((f->nlive >= f->max_series &&
          strcmp(v[f->fold_label], SL_METRICS_FOLD_VALUE) != 0) ||
         !met_fold_value_ok(v[f->fold_label]))) {
        f->folds++;
        *folded = true;
        v[f->fold_label] = SL_METRICS_FOLD_VALUE;
        h = met_hash(v, f->nlabels);
        s = met_find(f, v, h);
        if (s != NULL)
            return s;
    }
    /* Values that are not valid UTF-8 are stored sanitised: look for
     * that form before making a second series for it. */
    for (i = 0; i < f->nlabels; i++)
        if (!sl_utf8_valid(v[i], strlen(v[i]), NULL))
            break;
    if (i < f->nlabels) {
        char *clean[SL_METRICS_MAX_LABELS] = { 0 };

        for (i = 0; i < f->nlabels; i++)
            clean[i] = met_sanitize(v[i]);
        h = met_hash((const char *const *)clean, f->nlabels);
        s = met_find(f, (const char *const *)clean, h);
        if (s == NULL)
            s = met_create(f, (const char *const *)clean, h);
        for (i = 0; i < f->nlabels; i++)
            sl_free(clean[i]);
        return s;
    }
    return met_create(f, v, h);
}

struct sl_metrics_series *sl_metrics_series_get(struct sl_metrics_family *f,
                                                const char *const *values,
                                                bool *folded)
{
    struct sl_metrics *m = f->reg;
    struct sl_metrics_series *s;
    bool fo = false;

    pthread_mutex_lock(&m->mu);
    s = met_get_locked(f, values, &fo);
    s->refs++;
    pthread_mutex_unlock(&m->mu);
    if (folded != NULL)
        *folded = fo;
    return s;
}

void sl_metrics_series_release(struct sl_metrics_series *s)
{
    struct sl_metrics *m;

    if (s == NULL)
        return;
    m = s->fam->reg;
    pthread_mutex_lock(&m->mu);
    if (s->refs == 0)
        met_panic("released more often than got:", s->fam->name);
    s->refs--;
    if (s->refs == 0 && atomic_load_explicit(&s->dead, memory_order_relaxed)) {
        m->zombies--;
        met_series_free(s);
    }
    pthread_mutex_unlock(&m->mu);
}

bool sl_metrics_series_dead(const struct sl_metrics_series *s)
{
    return atomic_load_explicit(&s->dead, memory_order_relaxed);
}

void sl_metrics_inc(struct sl_metrics_series *s)
{
    atomic_fetch_add_explicit(&s->n[0], 1, memory_order_relaxed);
}

void sl_metrics_add(struct sl_metrics_series *s, uint64_t n)
{
    atomic_fetch_add_explicit(&s->n[0], n, memory_order_relaxed);
}

void sl_metrics_observe(struct sl_metrics_series *s, double v)
{
    const struct sl_metrics_family *f = s->fam;
    uint64_t old, next;
    double sum;
    size_t i = 0;

    if (isnan(v))
        return;
    while (i < f->nbounds && v > f->bounds[i])
        i++;
    atomic_fetch_add_explicit(&s->n[i], 1, memory_order_relaxed);
    old = atomic_load_explicit(&s->sum_bits, memory_order_relaxed);
    do {
        memcpy(&sum, &old, sizeof(sum));
        sum += v;
        memcpy(&next, &sum, sizeof(next));
    } while (!atomic_compare_exchange_weak_explicit(
        &s->sum_bits, &old, next, memory_order_relaxed, memory_order_relaxed));
}

uint64_t sl_metrics_series_count(const struct sl_metrics_series *s)
{
    uint64_t n = 0;
    size_t i, slots = met_slots(s->fam);

    for (i = 0; i < slots; i++)
        n += atomic_load_explicit(&((struct sl_metrics_series *)s)->n[i],
                                  memory_order_relaxed);
    return n;
}

double sl_metrics_series_sum(const struct sl_metrics_series *s)
{
    uint64_t bits = atomic_load_explicit(
        &((struct sl_metrics_series *)s)->sum_bits, memory_order_relaxed);
    double d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

size_t sl_metrics_family_series(struct sl_metrics_family *f)
{
    size_t n;

    pthread_mutex_lock(&f->reg->mu);
    n = f->nlive;
    pthread_mutex_unlock(&f->reg->mu);
    return n;
}

uint64_t sl_metrics_family_folds(struct sl_metrics_family *f)
{
    uint64_t n;

    pthread_mutex_lock(&f->reg->mu);
    n = f->folds;
    pthread_mutex_unlock(&f->reg->mu);
    return n;
}

size_t sl_metrics_remove(struct sl_metrics *m, const char *const *match,
                         size_t npairs)
{
    struct sl_metrics_family *f;
    size_t removed = 0, p, i;
    int idx[SL_METRICS_MAX_LABELS];

    if (npairs > SL_METRICS_MAX_LABELS)
        return 0;
    pthread_mutex_lock(&m->mu);
    for (f = m->first; f != NULL; f = f->next) {
        struct sl_metrics_series *s, *next;

        for (p = 0; p < npairs; p++) {
            idx[p] = -1;
            for (i = 0; i < f->nlabels; i++)
                if (strcmp(f->labels[i], match[2 * p]) == 0)
                    idx[p] = (int)i;
            if (idx[p] < 0)
                break;
        }
        if (p < npairs)
            continue;
        for (s = f->first; s != NULL; s = next) {
            next = s->next;
            for (p = 0; p < npairs; p++)
                if (strcmp(s->values[idx[p]],
                           match[2 * p + 1] ? match[2 * p + 1] : "") != 0)
                    break;
            if (p < npairs)
                continue;
            met_unlink(s);
            atomic_store_explicit(&s->dead, true, memory_order_relaxed);
            removed++;
            if (s->refs == 0)
                met_series_free(s);
            else
                m->zombies++;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return removed;
}

/* ---- the text format ---- */

/* Append '{l1="v1",...}' for 's', with le="<le>" last when 'le' is not
 * NULL; nothing for a series without labels and no le. */
static int met_labels(struct sl_buf *out, const struct sl_metrics_series *s,
                      const char *le)
{
    const struct sl_metrics_family *f = s->fam;
    size_t i;
    int rc = 0;

    if (f->nlabels == 0 && le == NULL)
        return 0;
    rc = sl_buf_appendc(out, '{');
    for (i = 0; i < f->nlabels && rc == 0; i++) {
        rc = sl_buf_appendf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
        if (rc == 0)
            rc = met_escape(out, s->values[i], true);
        if (rc == 0)
            rc = sl_buf_appendc(out, '"');
    }
    if (rc == 0 && le != NULL)
        rc = sl_buf_appendf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    if (rc == 0)
        rc = sl_buf_appendc(out, '}');
    return rc;
}

static int met_write_series(struct sl_buf *out,
                            const struct sl_metrics_series *s)
{
    const struct sl_metrics_family *f = s->fam;
    struct sl_metrics_series *w = (struct sl_metrics_series *)s;
    char num[64];
    uint64_t cum = 0;
    size_t i;
    int rc;

    if (f->type == SL_METRICS_COUNTER) {
        rc = sl_buf_appends(out, f->name);
        if (rc == 0)
            rc = met_labels(out, s, NULL);
        if (rc == 0)
            rc = sl_buf_appendf(out, " %llu\n",
                                (unsigned long long)atomic_load_explicit(
                                    &w->n[0], memory_order_relaxed));
        return rc;
    }
    rc = 0;
    for (i = 0; i <= f->nbounds && rc == 0; i++) {
        cum += atomic_load_explicit(&w->n[i], memory_order_relaxed);
        if (i < f->nbounds)
            met_fmt_double(f->bounds[i], num, sizeof(num));
        else
            snprintf(num, sizeof(num), "+Inf");
        rc = sl_buf_appendf(out, "%s_bucket", f->name);
        if (rc == 0)
            rc = met_labels(out, s, num);
        if (rc == 0)
            rc = sl_buf_appendf(out, " %llu\n", (unsigned long long)cum);
    }
    met_fmt_double(sl_metrics_series_sum(s), num, sizeof(num));
    if (rc == 0)
        rc = sl_buf_appendf(out, "%s_sum", f->name);
    if (rc == 0)
        rc = met_labels(out, s, NULL);
    if (rc == 0)
        rc = sl_buf_appendf(out, " %s\n%s_count", num, f->name);
    if (rc == 0)
        rc = met_labels(out, s, NULL);
    if (rc == 0)
        rc = sl_buf_appendf(out, " %llu\n", (unsigned long long)cum);
    return rc;
}

static int met_write_family(struct sl_buf *out,
                            const struct sl_metrics_family *f)
{
    const struct sl_metrics_series *s;
    size_t i;
    int rc;

    rc = sl_buf_appendf(out, "# HELP %s ", f->name);
    if (rc == 0)
        rc = met_escape(out, f->help, false);
    if (rc == 0)
        rc = sl_buf_appendf(out, "\n# TYPE %s %s\n", f->name,
                            f->type == SL_METRICS_COUNTER ? "counter"
                                                          : "histogram");
    if (rc == 0 && f->first == NULL) {
        rc = sl_buf_appends(out, "# sluice: no series yet; labels: ");
        for (i = 0; i < f->nlabels && rc == 0; i++)
            rc = sl_buf_appendf(out, "%s%s", i ? "," : "", f->labels[i]);
        if (rc == 0)
            rc = sl_buf_appendc(out, '\n');
    }
    for (s = f->first; s != NULL && rc == 0; s = s->next)
        rc = met_write_series(out, s);
    return rc;
}

/* The counts of capped families, as two families of their own. */
static int met_write_caps(struct sl_buf *out, const struct sl_metrics *m)
{
    const struct sl_metrics_family *f;
    int rc = 0, pass;
    bool any = false;

    for (f = m->first; f != NULL; f = f->next)
        any = any || f->fold_label >= 0;
    if (!any)
        return 0;
    for (pass = 0; pass < 2 && rc == 0; pass++) {
        if (pass == 0)
            rc = sl_buf_appends(
                out, "# HELP sluice_metrics_series Series a capped metric "
                     "holds (past its cap, new label sets are folded into "
                     "\"" SL_METRICS_FOLD_VALUE "\").\n"
                     "# TYPE sluice_metrics_series gauge\n");
        else
            rc = sl_buf_appends(
                out, "# HELP sluice_metrics_folded_total Lookups of a "
                     "capped metric recorded under \"" SL_METRICS_FOLD_VALUE
                     "\" because it held its maximum of series.\n"
                     "# TYPE sluice_metrics_folded_total counter\n");
        for (f = m->first; f != NULL && rc == 0; f = f->next) {
            if (f->fold_label < 0)
                continue;
            if (pass == 0)
                rc = sl_buf_appendf(out,
                                    "sluice_metrics_series{metric=\"%s\"} "
                                    "%zu\n",
                                    f->name, f->nlive);
            else
                rc = sl_buf_appendf(
                    out, "sluice_metrics_folded_total{metric=\"%s\"} %llu\n",
                    f->name, (unsigned long long)f->folds);
        }
    }
    return rc;
}

int sl_metrics_write(struct sl_metrics *m, struct sl_buf *out)
{
    const struct sl_metrics_family *f;
    int rc = 0;

    pthread_mutex_lock(&m->mu);
    for (f = m->first; f != NULL && rc == 0; f = f->next)
        rc = met_write_family(out, f);
    if (rc == 0)
        rc = met_write_caps(out, m);
    pthread_mutex_unlock(&m->mu);
    return rc;
}
