/*
 * cmd/table.h - kubectl-style tables for `sluice get`.
 *
 * Each kind has printer columns (like a CRD's additionalPrinterColumns):
 * a header and where the value comes from. Rows are collected, then
 * printed with every column padded to its widest cell plus three spaces,
 * as kubectl's tabwriter does. `-o wide` adds the columns marked wide.
 */
#ifndef SL_CMD_TABLE_H
#define SL_CMD_TABLE_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

/* Where a column's value comes from. */
enum sl_col_src {
    SL_COL_NAME,      /* metadata.name */
    SL_COL_NAMESPACE, /* metadata.namespace (only with --all-namespaces) */
    SL_COL_PATH,      /* a dotted path into the object; arrays joined by ',' */
    SL_COL_AGE,       /* metadata.creationTimestamp as an age ("5m") */
    SL_COL_READY,     /* status of the condition 'path' (default Ready) */
    SL_COL_REASON,    /* reason of the condition 'path' (default Ready) */
    SL_COL_COUNT,     /* number of members of the object/array at 'path' */
};

struct sl_col {
    const char *header;
    enum sl_col_src src;
    const char *path; /* for PATH, COUNT, READY/REASON (condition type) */
    bool wide;        /* only with -o wide */
};

/* The columns for a kind (by Kind name); generic ones for unknown kinds. */
const struct sl_col *sl_cli_columns(const char *kind);

/* A table being built: rows of owned cells. */
struct sl_table {
    const struct sl_col *cols;
    bool wide, namespaced;
    size_t ncols;
    char ***rows;
    size_t nrows, cap;
};

/*
 * Start a table for 'kind'. 'namespaced' adds a leading NAMESPACE column
 * (for -A); 'wide' includes the wide columns.
 */
void sl_table_init(struct sl_table *t, const char *kind, bool namespaced,
                   bool wide);
void sl_table_fini(struct sl_table *t);

/* Add one object as a row; 'now' is used for ages. */
void sl_table_add(struct sl_table *t, const struct json_object *obj,
                  time_t now);

/* Print headers and rows to 'f'. */
void sl_table_print(const struct sl_table *t, FILE *f);

/*
 * Format the age 'secs' like kubectl (2m30s -> "2m30s", 3h -> "3h",
 * 2d5h -> "2d5h", 400d -> "400d"...) into out[outlen]; "<unknown>" when
 * negative. Returns out.
 */
const char *sl_cli_age(long long secs, char *out, size_t outlen);

/*
 * Look up a dotted path ("status.address.url", "spec.topics") in 'obj'.
 * Returns the value or NULL. Array indexes are not supported.
 */
struct json_object *sl_cli_field(const struct json_object *obj,
                                 const char *path);

#endif
