/*
 * test/unit/feature.h - a small Gherkin (.feature) reader for tests that
 * are driven by the CloudEvents conformance scenarios.
 *
 * It understands what those files use: Feature, Background, Scenario,
 * Scenario Outline (Scenario Template) with Examples (Scenarios) tables,
 * steps (Given, When, Then, And, But, *), """ docstrings and | tables |,
 * tags and comments (skipped). An outline becomes one scenario per
 * Examples row, with every <placeholder> replaced in the scenario name,
 * step texts, docstrings and table cells. Background steps are copied to
 * the front of every scenario, as Gherkin runs them.
 *
 *     struct feature_file f;
 *     feature_load("test/conformance/.../http-protocol-binding.feature", &f);
 *     for (i = 0; i < f.n; i++) {
 *         const struct feature_scenario *s = &f.v[i];
 *         const char *req = feature_given_doc(s);
 *         const struct feature_table *attrs =
 *             feature_table(s, "the attributes are:");
 *         const char *json =
 *             feature_doc(s, "the data is equal to the following JSON:");
 *         ...
 *     }
 *     feature_free(&f);
 *
 * Everything is allocated with core/alloc.h and freed by feature_free, so
 * the harness's leak check covers it.
 */
#ifndef SL_TEST_FEATURE_H
#define SL_TEST_FEATURE_H

#include <stddef.h>

struct sl_diag;

/* A table: rows of cells, trimmed; row 0 is the header row. */
struct feature_table {
    char **cells; /* nrows * ncols, row-major */
    size_t nrows;
    size_t ncols;
};

struct feature_step {
    char *keyword; /* "Given", "When", "Then", "And", "But" or "*" */
    char *text;    /* the rest of the line, trimmed, placeholders replaced */
    char *doc;     /* the docstring, or NULL */
    size_t doc_len;
    struct feature_table table; /* nrows == 0 when the step has none */
};

struct feature_scenario {
    char *name;   /* placeholders replaced */
    size_t line;  /* line of the Scenario keyword, 1-based */
    size_t index; /* Examples row (1-based) of an outline, 0 otherwise */
    struct feature_step *steps;
    size_t nsteps;
};

struct feature_file {
    char *name; /* the Feature title */
    struct feature_scenario *v;
    size_t n;
};

/*
 * Parse the feature text s[0..n) into 'out'. Docstring lines lose the
 * indentation of their opening """ and are joined with "\n" (no final
 * newline). Returns 0, or SL_EINVAL with "line N: what" in 'diag'; on
 * failure 'out' holds nothing to free.
 */
int feature_parse(const char *s, size_t n, struct feature_file *out,
                  struct sl_diag *diag);

/*
 * Read and parse a file (path relative to the repository root, see
 * check_path). Fails the running test on any error.
 */
void feature_load(const char *path, struct feature_file *out);

/* Free everything in 'f' (may be zeroed). */
void feature_free(struct feature_file *f);

/*
 * The first step whose text starts with 'prefix', or NULL. The prefix may
 * include the step's keyword: "And Kafka headers:" and "Kafka headers:"
 * find the same step.
 */
const struct feature_step *feature_step(const struct feature_scenario *s,
                                        const char *prefix);

/* The docstring of the first "Given" step (or And/But after it) that has
 * one, or NULL. */
const char *feature_given_doc(const struct feature_scenario *s);

/* The docstring of the first step whose text starts with 'prefix'. */
const char *feature_doc(const struct feature_scenario *s, const char *prefix);

/* The table of the step feature_step finds, or NULL when there is no such
 * step or it has no table. */
const struct feature_table *feature_table(const struct feature_scenario *s,
                                          const char *prefix);

/* Cell (row, col) of 't'. */
const char *feature_cell(const struct feature_table *t, size_t row, size_t col);

/*
 * In a key/value table (header row "key | value" or any other, skipped),
 * the value of the first row whose first cell is 'key', or NULL.
 */
const char *feature_table_get(const struct feature_table *t, const char *key);

#endif
