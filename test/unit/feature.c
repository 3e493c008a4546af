/*
 * test/unit/feature.c - a small Gherkin reader (see feature.h).
 *
 * One pass over the lines: steps, tables and docstrings are collected
 * into a template scenario (and the Background); when the next scenario
 * or the end of the file is reached the template is emitted, once for a
 * plain scenario or once per Examples row for an outline, by deep copies
 * with the placeholders replaced. Templates are then freed, so ownership
 * stays simple: everything in a struct feature_file is its own copy.
 */
#include "test/unit/feature.h"

#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "test/unit/check.h"

/* Grow '*v' (of 'size'-byte elements) by one zeroed element; return it. */
static void *feat_push(void *pv, size_t *n, size_t *cap, size_t size)
{
    void **v = pv;
    char *p;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = sl_xrealloc(*v, *cap * size);
    }
    p = (char *)*v + *n * size;
    memset(p, 0, size);
    (*n)++;
    return p;
}

static void feat_table_free(struct feature_table *t)
{
    size_t i;

    for (i = 0; i < t->nrows * t->ncols; i++)
        sl_free(t->cells[i]);
    sl_free(t->cells);
    memset(t, 0, sizeof(*t));
}

static void feat_step_free(struct feature_step *st)
{
    sl_free(st->keyword);
    sl_free(st->text);
    sl_free(st->doc);
    feat_table_free(&st->table);
}

static void feat_scenario_free(struct feature_scenario *s)
{
    size_t i;

    for (i = 0; i < s->nsteps; i++)
        feat_step_free(&s->steps[i]);
    sl_free(s->steps);
    sl_free(s->name);
    memset(s, 0, sizeof(*s));
}

void feature_free(struct feature_file *f)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        feat_scenario_free(&f->v[i]);
    sl_free(f->v);
    sl_free(f->name);
    memset(f, 0, sizeof(*f));
}

const char *feature_cell(const struct feature_table *t, size_t row, size_t col)
{
    return t->cells[row * t->ncols + col];
}

/* ---- placeholders ---- */

/*
 * Copy 's' with every <name> that heads a column of 'ex' replaced by that
 * column's value in row 'row'. With 'ex' NULL, a plain copy.
 */
static char *feat_subst(const char *s, const struct feature_table *ex,
                        size_t row)
{
    struct sl_buf b;
    const char *p = s, *lt, *gt;
    size_t c;

    if (s == NULL)
        return NULL;
    if (ex == NULL)
        return sl_xstrdup(s);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    while ((lt = strchr(p, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
        const char *val = NULL;
        for (c = 0; c < ex->ncols; c++) {
            const char *h = feature_cell(ex, 0, c);
            if (strlen(h) == (size_t)(gt - lt - 1) &&
                memcmp(h, lt + 1, strlen(h)) == 0)
                val = feature_cell(ex, row, c);
        }
        if (val != NULL) {
            sl_buf_append(&b, p, (size_t)(lt - p));
            sl_buf_appends(&b, val);
            p = gt + 1;
        } else {
            sl_buf_append(&b, p, (size_t)(lt - p) + 1);
            p = lt + 1;
        }
    }
    sl_buf_appends(&b, p);
    return sl_buf_steal(&b, NULL);
}

static void feat_step_copy(struct feature_step *dst,
                           const struct feature_step *src,
                           const struct feature_table *ex, size_t row)
{
    size_t i, ncells = src->table.nrows * src->table.ncols;

    dst->keyword = sl_xstrdup(src->keyword);
    dst->text = feat_subst(src->text, ex, row);
    dst->doc = feat_subst(src->doc, ex, row);
    dst->doc_len = dst->doc ? strlen(dst->doc) : 0;
    dst->table.nrows = src->table.nrows;
    dst->table.ncols = src->table.ncols;
    dst->table.cells = NULL;
    if (ncells > 0) {
        dst->table.cells = sl_xcalloc(ncells, sizeof(char *));
        for (i = 0; i < ncells; i++)
            dst->table.cells[i] = feat_subst(src->table.cells[i], ex, row);
    }
}

/* ---- the parser ---- */

enum feat_target { FEAT_NONE, FEAT_BACKGROUND, FEAT_SCENARIO, FEAT_EXAMPLES };

struct feat_parser {
    struct feature_file *out;
    size_t out_cap;
    struct feature_scenario bg; /* Background steps */
    size_t bg_cap;
    struct feature_scenario cur; /* the scenario being read */
    size_t cur_cap;
    bool have_cur;
    bool outline;
    struct feature_table *ex; /* Examples tables of an outline */
    size_t nex, ex_cap;
    enum feat_target target;
    size_t lineno;
};

/* Emit one scenario from the template with Examples row 'row' of 'ex'. */
static void feat_emit_one(struct feat_parser *fp,
                          const struct feature_table *ex, size_t row,
                          size_t index)
{
    struct feature_scenario *s;
    size_t i, cap = 0;

    s = feat_push(&fp->out->v, &fp->out->n, &fp->out_cap, sizeof(*s));
    s->name = feat_subst(fp->cur.name, ex, row);
    s->line = fp->cur.line;
    s->index = index;
    for (i = 0; i < fp->bg.nsteps; i++)
        feat_step_copy(
            feat_push(&s->steps, &s->nsteps, &cap, sizeof(*s->steps)),
            &fp->bg.steps[i], ex, row);
    for (i = 0; i < fp->cur.nsteps; i++)
        feat_step_copy(
            feat_push(&s->steps, &s->nsteps, &cap, sizeof(*s->steps)),
            &fp->cur.steps[i], ex, row);
}

/* Finish the scenario being read: emit it, then drop the template. */
static void feat_finish(struct feat_parser *fp)
{
    size_t t, r, index = 0;

    if (fp->have_cur) {
        if (!fp->outline)
            feat_emit_one(fp, NULL, 0, 0);
        for (t = 0; fp->outline && t < fp->nex; t++)
            for (r = 1; r < fp->ex[t].nrows; r++)
                feat_emit_one(fp, &fp->ex[t], r, ++index);
    }
    feat_scenario_free(&fp->cur);
    fp->cur_cap = 0;
    for (t = 0; t < fp->nex; t++)
        feat_table_free(&fp->ex[t]);
    sl_free(fp->ex);
    fp->ex = NULL;
    fp->nex = fp->ex_cap = 0;
    fp->have_cur = false;
    fp->outline = false;
}

/* The scenario that steps go to now, or NULL. */
static struct feature_scenario *feat_container(struct feat_parser *fp,
                                               size_t **pcap)
{
    if (fp->target == FEAT_BACKGROUND) {
        *pcap = &fp->bg_cap;
        return &fp->bg;
    }
    if (fp->target == FEAT_SCENARIO) {
        *pcap = &fp->cur_cap;
        return &fp->cur;
    }
    return NULL;
}

static const char *feat_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static char *feat_trimmed(const char *p, const char *end)
{
    p = feat_skip_ws(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return sl_xstrndup(p, (size_t)(end - p));
}

/* Does line p[0..end) start with keyword 'kw'? Then return what follows. */
static const char *feat_keyword(const char *p, const char *end, const char *kw)
{
    size_t n = strlen(kw);

    if ((size_t)(end - p) < n || memcmp(p, kw, n) != 0)
        return NULL;
    return p + n;
}

/* Add a table row "| a | b |" (p at the first '|') to 't'. */
static int feat_row(struct feat_parser *fp, struct feature_table *t,
                    const char *p, const char *end, struct sl_diag *diag)
{
    char **cells = NULL;
    size_t n = 0, cap = 0, i;
    struct sl_buf b;
    int rc = 0;

    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (end - p < 2 || end[-1] != '|')
        return sl_diag_set(diag, SL_EINVAL, "", "line %zu: unterminated row",
                           fp->lineno);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    for (p++; p < end; p++) {
        if (*p == '\\' && p + 1 < end) {
            p++;
            sl_buf_appendc(&b, *p == 'n' ? '\n' : *p);
        } else if (*p == '|') {
            char **c = feat_push(&cells, &n, &cap, sizeof(*cells));
            *c = feat_trimmed(sl_buf_str(&b), sl_buf_str(&b) + b.len);
            sl_buf_reset(&b);
        } else {
            sl_buf_appendc(&b, *p);
        }
    }
    sl_buf_fini(&b);
    if (t->nrows > 0 && n != t->ncols) {
        rc = sl_diag_set(diag, SL_EINVAL, "",
                         "line %zu: row has %zu cells, the table %zu",
                         fp->lineno, n, t->ncols);
        goto out;
    }
    t->ncols = n;
    t->cells = sl_xrealloc(t->cells, (t->nrows + 1) * n * sizeof(char *));
    for (i = 0; i < n; i++) {
        t->cells[t->nrows * n + i] = cells[i];
        cells[i] = NULL;
    }
    t->nrows++;
out:
    for (i = 0; i < n; i++)
        sl_free(cells[i]);
    sl_free(cells);
    return rc;
}

/* Start a scenario (or outline) named by the rest of the line. */
static void feat_start(struct feat_parser *fp, const char *p, const char *end,
                       bool outline)
{
    feat_finish(fp);
    fp->cur.name = feat_trimmed(p, end);
    fp->cur.line = fp->lineno;
    fp->have_cur = true;
    fp->outline = outline;
    fp->target = FEAT_SCENARIO;
}

static const char *const feat_step_kw[] = { "Given ", "When ", "Then ",
                                            "And ",   "But ",  "* " };

int feature_parse(const char *s, size_t n, struct feature_file *out,
                  struct sl_diag *diag)
{
    struct feat_parser fp;
    const char *line = s, *end = s + n;
    struct sl_buf doc;
    bool in_doc = false, doc_first = false;
    size_t doc_indent = 0, k;
    int rc = 0;

    memset(&fp, 0, sizeof(fp));
    memset(out, 0, sizeof(*out));
    fp.out = out;
    sl_buf_init(&doc, SL_BUF_UNLIMITED);
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *p, *rest;
        struct feature_scenario *c;
        size_t *ccap;
        if (eol == NULL)
            eol = end;
        fp.lineno++;
        p = feat_skip_ws(line, eol);
        if (in_doc) {
            if (feat_keyword(p, eol, "\"\"\"") != NULL) {
                c = feat_container(&fp, &ccap);
                c->steps[c->nsteps - 1].doc = sl_buf_steal(&doc, NULL);
                c->steps[c->nsteps - 1].doc_len =
                    strlen(c->steps[c->nsteps - 1].doc);
                in_doc = false;
            } else {
                const char *q = line, *qe = eol;
                /* Drop the opening quotes' indentation, keep the rest. */
                for (k = 0;
                     k < doc_indent && q < qe && (*q == ' ' || *q == '\t'); k++)
                    q++;
                if (qe > q && qe[-1] == '\r')
                    qe--;
                if (!doc_first)
                    sl_buf_appendc(&doc, '\n');
                sl_buf_append(&doc, q, (size_t)(qe - q));
                doc_first = false;
            }
            line = eol + (eol < end);
            continue;
        }
        if (p == eol || *p == '#' || *p == '@' || *p == '\r') {
            /* blank, comment or tags */
        } else if ((rest = feat_keyword(p, eol, "Feature:")) != NULL) {
            sl_free(out->name);
            out->name = feat_trimmed(rest, eol);
        } else if ((rest = feat_keyword(p, eol, "Background:")) != NULL) {
            feat_finish(&fp);
            fp.target = FEAT_BACKGROUND;
        } else if ((rest = feat_keyword(p, eol, "Scenario Outline:")) != NULL ||
                   (rest = feat_keyword(p, eol, "Scenario Template:")) !=
                       NULL) {
            feat_start(&fp, rest, eol, true);
        } else if ((rest = feat_keyword(p, eol, "Scenario:")) != NULL ||
                   (rest = feat_keyword(p, eol, "Example:")) != NULL) {
            feat_start(&fp, rest, eol, false);
        } else if (feat_keyword(p, eol, "Examples:") != NULL ||
                   feat_keyword(p, eol, "Scenarios:") != NULL) {
            if (!fp.have_cur || !fp.outline) {
                rc = sl_diag_set(diag, SL_EINVAL, "",
                                 "line %zu: Examples outside an outline",
                                 fp.lineno);
                goto out;
            }
            feat_push(&fp.ex, &fp.nex, &fp.ex_cap, sizeof(*fp.ex));
            fp.target = FEAT_EXAMPLES;
        } else if (feat_keyword(p, eol, "Rule:") != NULL) {
            feat_finish(&fp);
            fp.target = FEAT_NONE;
        } else if (*p == '|') {
            struct feature_table *t = NULL;
            if (fp.target == FEAT_EXAMPLES) {
                t = &fp.ex[fp.nex - 1];
            } else if ((c = feat_container(&fp, &ccap)) != NULL &&
                       c->nsteps > 0) {
                t = &c->steps[c->nsteps - 1].table;
            } else {
                rc = sl_diag_set(diag, SL_EINVAL, "",
                                 "line %zu: table without a step", fp.lineno);
                goto out;
            }
            rc = feat_row(&fp, t, p, eol, diag);
            if (rc < 0)
                goto out;
        } else if (feat_keyword(p, eol, "\"\"\"") != NULL) {
            c = feat_container(&fp, &ccap);
            if (c == NULL || c->nsteps == 0 ||
                c->steps[c->nsteps - 1].doc != NULL) {
                rc = sl_diag_set(diag, SL_EINVAL, "",
                                 "line %zu: docstring without a step",
                                 fp.lineno);
                goto out;
            }
            in_doc = true;
            doc_first = true;
            doc_indent = (size_t)(p - line);
            sl_buf_fini(&doc);
            sl_buf_init(&doc, SL_BUF_UNLIMITED);
        } else {
            const char *kw = NULL;
            for (k = 0; k < sizeof(feat_step_kw) / sizeof(feat_step_kw[0]); k++)
                if ((rest = feat_keyword(p, eol, feat_step_kw[k])) != NULL) {
                    kw = feat_step_kw[k];
                    break;
                }
            c = feat_container(&fp, &ccap);
            if (kw != NULL && c != NULL) {
                struct feature_step *st =
                    feat_push(&c->steps, &c->nsteps, ccap, sizeof(*st));
                st->keyword = sl_xstrndup(kw, strlen(kw) - 1);
                st->text = feat_trimmed(rest, eol);
            } else if (kw != NULL) {
                rc =
                    sl_diag_set(diag, SL_EINVAL, "",
                                "line %zu: step outside a scenario", fp.lineno);
                goto out;
            }
            /* Anything else is free-form description text. */
        }
        line = eol + (eol < end);
    }
    if (in_doc) {
        rc = sl_diag_set(diag, SL_EINVAL, "",
                         "line %zu: unterminated docstring", fp.lineno);
        goto out;
    }
    feat_finish(&fp);
out:
    if (rc < 0) {
        fp.have_cur = false;
        feat_finish(&fp);
        feature_free(out);
    }
    feat_scenario_free(&fp.bg);
    sl_buf_fini(&doc);
    return rc;
}

void feature_load(const char *path, struct feature_file *out)
{
    struct sl_diag d;
    size_t len;
    char *text = check_read_file(path, &len);
    int rc;

    sl_diag_clear(&d);
    rc = feature_parse(text, len, out, &d);
    sl_free(text);
    if (rc < 0)
        CHECK_FAIL("cannot parse '%s': %s", path, d.msg);
}

/* ---- lookups ---- */

const struct feature_step *feature_step(const struct feature_scenario *s,
                                        const char *prefix)
{
    size_t i, k;

    for (i = 0; i < s->nsteps; i++) {
        const struct feature_step *st = &s->steps[i];
        if (strncmp(st->text, prefix, strlen(prefix)) == 0)
            return st;
        /* "And Kafka headers:" names the step with its keyword. */
        k = strlen(st->keyword);
        if (strncmp(prefix, st->keyword, k) == 0 && prefix[k] == ' ' &&
            strncmp(st->text, prefix + k + 1, strlen(prefix + k + 1)) == 0)
            return st;
    }
    return NULL;
}

const char *feature_given_doc(const struct feature_scenario *s)
{
    bool given = false;
    size_t i;

    for (i = 0; i < s->nsteps; i++) {
        const struct feature_step *st = &s->steps[i];
        if (strcmp(st->keyword, "Given") == 0)
            given = true;
        else if (strcmp(st->keyword, "And") != 0 &&
                 strcmp(st->keyword, "But") != 0 &&
                 strcmp(st->keyword, "*") != 0)
            given = false;
        if (given && st->doc != NULL)
            return st->doc;
    }
    return NULL;
}

const char *feature_doc(const struct feature_scenario *s, const char *prefix)
{
    const struct feature_step *st = feature_step(s, prefix);

    return st ? st->doc : NULL;
}

const struct feature_table *feature_table(const struct feature_scenario *s,
                                          const char *prefix)
{
    const struct feature_step *st = feature_step(s, prefix);

    return st && st->table.nrows > 0 ? &st->table : NULL;
}

const char *feature_table_get(const struct feature_table *t, const char *key)
{
    size_t r;

    if (t == NULL || t->ncols < 2)
        return NULL;
    for (r = 1; r < t->nrows; r++)
        if (strcmp(feature_cell(t, r, 0), key) == 0)
            return feature_cell(t, r, 1);
    return NULL;
}
