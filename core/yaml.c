/*
 * core/yaml.c - YAML streams to json-c values, built on libyaml's events.
 *
 * libyaml's parser turns the text into a flat stream of events (document
 * start, scalar, mapping start, alias, ...); this file folds them into
 * json-c values with an explicit stack of open collections, so hostile
 * nesting costs heap, not C stack, and stops at SL_YAML_MAX_DEPTH.
 *
 * Every collection is owned by its stack frame until it ends and is then
 * handed to its parent (or becomes the document root), so an error at any
 * point releases exactly the frames still open. Anchors keep a reference
 * to their finished node; an alias is a deep copy of it, paid for up front
 * from the node and text budgets (SL_YAML_MAX_NODES, SL_YAML_MAX_TEXT), which
 * is what stops "billion laughs" before any of the copying happens.
 *
 * Decisions beyond yaml.h:
 * - A plain integer outside int64 is an error ("integer out of range"),
 *   not a string or a lossy double; quote it to keep it as text. A float
 *   that overflows to infinity is an error too (".inf" is not).
 * - Mapping keys are the scalar's text, unresolved: "1: a" has key "1",
 *   "~: a" has key "~". A key containing NUL is an error.
 * - Merge keys follow the YAML 1.1 merge type: "<<: *a" or "<<: [*a, *b]"
 *   (or inline mappings); keys written in the mapping win over merged ones
 *   wherever "<<" appears, and earlier sources win over later ones. A
 *   second "<<" in one mapping is a duplicate key.
 * - Tags other than the ones in yaml.h (and the non-specific "!", which
 *   makes a scalar a string) are errors; so is !!merge outside a key.
 * - libyaml running out of memory aborts, like core/alloc.h.
 */
#include "core/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/map.h"

/*
 * SL_YAML_MAX_TEXT exists because without it 1000000 alias copies of one
 * long string would pass the node limit and still need gigabytes.
 */

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* What one finished node cost, so the anchors can charge its copies. */
struct yaml_cost {
    size_t nodes;  /* values in the subtree, itself included */
    size_t text;   /* bytes of strings and keys in the subtree */
    size_t height; /* 0 for a scalar, 1 + tallest child for a collection */
};

struct yaml_anchor {
    bool done;               /* false while its node is still open */
    struct json_object *obj; /* one reference; JSON null is NULL */
    struct yaml_cost cost;
    char *raw; /* a scalar's text (for use as a key), else NULL */
    size_t raw_len;
};

struct yaml_frame {
    struct json_object *obj; /* the array or object, owned */
    bool is_map;
    char *key;                 /* pending key, owned; NULL: a key is next */
    bool merge_next;           /* '<<' was the key: its value is next */
    struct json_object *merge; /* the '<<' value, owned, or NULL */
    char *anchor;              /* name to define when the node ends */
    struct yaml_cost cost;
    yaml_mark_t mark; /* where the collection starts */
};

struct yaml_state {
    struct yaml_frame stack[SL_YAML_MAX_DEPTH];
    size_t depth;
    struct sl_map anchors; /* name -> struct yaml_anchor, per document */
    size_t nodes;          /* built so far, alias expansions included */
    size_t text;
    struct json_object *docs;
    struct json_object *root; /* the current document's value */
    bool have_root;
    bool root_empty; /* the document held nothing (a lone "---") */
    const char *input;
    size_t input_len;
    struct sl_diag *diag;
};

/* A finished value on its way to its parent. */
struct yaml_node {
    struct json_object *obj; /* owned; NULL is JSON null */
    struct yaml_cost cost;
    yaml_mark_t mark;
    bool empty; /* untagged empty plain scalar without anchor */
};

/* ---- errors ---- */

static void yaml_oom(void)
{
    fprintf(stderr, "sluice: out of memory in the YAML parser\n");
    abort();
}

static struct json_object *yaml_new_check(struct json_object *o)
{
    if (o == NULL)
        yaml_oom();
    return o;
}

__attribute__((format(printf, 4, 5))) static int
yaml_fail(struct yaml_state *st, int rc, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX];
    char field[64];
    va_list ap;

    if (st->diag == NULL)
        return rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(field, sizeof(field), "line %zu column %zu", mark.line + 1,
             mark.column + 1);
    return sl_diag_set(st->diag, rc, field, "%s", msg);
}

/*
 * Copy s[0..n) into 'dst' for an error message: at most ~40 bytes, cut on
 * a UTF-8 boundary, control characters and quotes replaced by '?'.
 */
static const char *yaml_show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t i, k = 0, max = cap > 4 ? cap - 4 : 0;
    bool cut = false;

    if (max > 40)
        max = 40;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[k++] = (c < 0x20 || c == 0x7F || c == '\'') ? '?' : (char)c;
    }
    if (cut) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return dst;
}

/* Show a tag as written: "!!int" rather than "tag:yaml.org,2002:int". */
static void yaml_show_tag(char *dst, size_t cap, const char *tag)
{
    size_t plen = strlen(YAML_TAG_PREFIX);

    if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0)
        snprintf(dst, cap, "!!%.60s", tag + plen);
    else
        snprintf(dst, cap, "%.60s", tag);
}

/*
 * libyaml's reader reports a byte offset rather than a mark: count lines
 * (LF, CRLF or CR) and characters up to it, as libyaml's marks would.
 */
static yaml_mark_t yaml_mark_at(const char *s, size_t n, size_t off)
{
    yaml_mark_t m = { 0, 0, 0 };
    size_t i;

    if (off > n)
        off = n;
    for (i = 0; i < off; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= n || s[i + 1] != '\n'))) {
            m.line++;
            m.column = 0;
        } else if ((c & 0xC0) != 0x80 && c != '\r') {
            m.column++;
        }
    }
    m.index = off;
    return m;
}

/* The byte that starts the character at 'm', or -1 past the end. */
static int yaml_char_at(const char *s, size_t n, yaml_mark_t m)
{
    size_t i, line = 0, col = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80)
            continue;
        if (line == m.line && col == m.column)
            return c;
        if (c == '\n' || (c == '\r' && (i + 1 >= n || s[i + 1] != '\n'))) {
            line++;
            col = 0;
        } else if (c != '\r') {
            col++;
        }
    }
    return -1;
}

static int yaml_parser_fail(struct yaml_state *st, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    yaml_mark_t m = p->problem_mark, cm = p->context_mark;
    char extra[96] = "";

    if (p->error == YAML_MEMORY_ERROR)
        yaml_oom();
    if (p->error == YAML_READER_ERROR) {
        m = yaml_mark_at(st->input, st->input_len, p->problem_offset);
        if (p->problem_value != -1)
            snprintf(extra, sizeof(extra), " (0x%02X)",
                     (unsigned)p->problem_value);
    } else if (yaml_char_at(st->input, st->input_len, m) == '\t' &&
               strstr(problem, "tab") == NULL) {
        snprintf(extra, sizeof(extra), " (a tab cannot indent YAML)");
    }
    if (p->context == NULL)
        return yaml_fail(st, SL_EINVAL, m, "%s%s", problem, extra);
    if (cm.line == m.line && cm.column == m.column)
        return yaml_fail(st, SL_EINVAL, m, "%s %s%s", problem, p->context,
                         extra);
    return yaml_fail(st, SL_EINVAL, m, "%s %s started at line %zu column %zu%s",
                     problem, p->context, cm.line + 1, cm.column + 1, extra);
}

/* ---- scalars (YAML 1.2 core schema) ---- */

static bool yaml_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool yaml_is_null(const char *s, size_t n)
{
    return n == 0 || yaml_is(s, n, "~") || yaml_is(s, n, "null") ||
           yaml_is(s, n, "Null") || yaml_is(s, n, "NULL");
}

/* Returns 1 for true, 0 for false, -1 for neither. */
static int yaml_bool(const char *s, size_t n)
{
    if (yaml_is(s, n, "true") || yaml_is(s, n, "True") || yaml_is(s, n, "TRUE"))
        return 1;
    if (yaml_is(s, n, "false") || yaml_is(s, n, "False") ||
        yaml_is(s, n, "FALSE"))
        return 0;
    return -1;
}

static int yaml_digit(char c, unsigned base)
{
    int d;

    if (c >= '0' && c <= '9')
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    else
        return -1;
    return (unsigned)d < base ? d : -1;
}

/*
 * Core-schema integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. Returns 0,
 * SL_EINVAL when 's' is not one, SL_ETOOBIG when it is but does not fit.
 */
static int yaml_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    unsigned base = 10;
    bool neg = false, big = false;
    uint64_t v = 0, lim;

    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        i = 2;
    } else if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return SL_EINVAL;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        int d = yaml_digit(s[i], base);
        if (d < 0)
            return SL_EINVAL;
        if (v > (lim - (uint64_t)d) / base)
            big = true;
        else
            v = v * base + (uint64_t)d;
    }
    if (big)
        return SL_ETOOBIG;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

static size_t yaml_digits(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/*
 * Core-schema floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?,
 * [-+]?\.(inf|Inf|INF), \.(nan|NaN|NAN). Returns 0, SL_EINVAL when 's' is
 * not one, SL_ETOOBIG when it overflows a double. 's' is NUL-terminated
 * at 'n' (libyaml guarantees it). strtod sees only text checked here, in
 * the "C" locale the daemon runs with.
 */
static int yaml_float(const char *s, size_t n, double *out)
{
    size_t i = 0, j;
    char *end = NULL;
    double v;

    if (yaml_is(s, n, ".nan") || yaml_is(s, n, ".NaN") ||
        yaml_is(s, n, ".NAN")) {
        *out = NAN;
        return 0;
    }
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        i = 1;
    if (yaml_is(s + i, n - i, ".inf") || yaml_is(s + i, n - i, ".Inf") ||
        yaml_is(s + i, n - i, ".INF")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (i < n && s[i] == '.') {
        j = yaml_digits(s, n, i + 1);
        if (j == i + 1)
            return SL_EINVAL;
    } else {
        j = yaml_digits(s, n, i);
        if (j == i)
            return SL_EINVAL;
        if (j < n && s[j] == '.')
            j = yaml_digits(s, n, j + 1);
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '-' || s[k] == '+'))
            k++;
        j = yaml_digits(s, n, k);
        if (j == k)
            return SL_EINVAL;
    }
    if (j != n)
        return SL_EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (end != s + n)
        return SL_EINVAL;
    if (errno == ERANGE && isinf(v))
        return SL_ETOOBIG;
    *out = v;
    return 0;
}

static int yaml_range_fail(struct yaml_state *st, const yaml_event_t *ev)
{
    char show[48];

    return yaml_fail(st, SL_EINVAL, ev->start_mark,
                     "number '%s' out of range (quote it to keep it as a "
                     "string)",
                     yaml_show(show, sizeof(show),
                               (const char *)ev->data.scalar.value,
                               ev->data.scalar.length));
}

/* Resolve a plain, untagged scalar. */
static int yaml_resolve_plain(struct yaml_state *st, const yaml_event_t *ev,
                              struct json_object **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    int64_t i = 0;
    double d = 0;
    int b, rc;

    if (yaml_is_null(s, n))
        return 0;
    b = yaml_bool(s, n);
    if (b >= 0) {
        *out = yaml_new_check(json_object_new_boolean(b));
        return 0;
    }
    rc = yaml_int(s, n, &i);
    if (rc == 0) {
        *out = yaml_new_check(json_object_new_int64(i));
        return 0;
    }
    if (rc == SL_EINVAL)
        rc = yaml_float(s, n, &d);
    if (rc == 0) {
        *out = yaml_new_check(json_object_new_double(d));
        return 0;
    }
    if (rc == SL_ETOOBIG)
        return yaml_range_fail(st, ev);
    *out = yaml_new_check(json_object_new_string_len(s, (int)n));
    return 0;
}

/* Resolve a scalar with an explicit tag from yaml.h's list. */
static int yaml_resolve_tagged(struct yaml_state *st, const yaml_event_t *ev,
                               const char *type, struct json_object **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    char show[48];
    int64_t i = 0;
    double d = 0;
    int rc = SL_EINVAL;

    if (strcmp(type, "null") == 0) {
        if (yaml_is_null(s, n))
            return 0;
    } else if (strcmp(type, "bool") == 0) {
        if (yaml_bool(s, n) >= 0) {
            *out = yaml_new_check(json_object_new_boolean(yaml_bool(s, n)));
            return 0;
        }
    } else if (strcmp(type, "int") == 0) {
        rc = yaml_int(s, n, &i);
        if (rc == 0) {
            *out = yaml_new_check(json_object_new_int64(i));
            return 0;
        }
    } else {
        rc = yaml_float(s, n, &d);
        /* Every integer is a float too, "!!float 0x10" included. */
        if (rc == SL_EINVAL && yaml_int(s, n, &i) == 0) {
            d = (double)i;
            rc = 0;
        }
        if (rc == 0) {
            *out = yaml_new_check(json_object_new_double(d));
            return 0;
        }
    }
    if (rc == SL_ETOOBIG)
        return yaml_range_fail(st, ev);
    return yaml_fail(st, SL_EINVAL, ev->start_mark, "'%s' is not a valid !!%s",
                     yaml_show(show, sizeof(show), s, n), type);
}

/* Turn a scalar event into a json-c value in '*out' (NULL for null). */
static int yaml_resolve(struct yaml_state *st, const yaml_event_t *ev,
                        struct json_object **out)
{
    static const char *const typed[] = { "null", "bool", "int", "float" };
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    size_t n = ev->data.scalar.length, plen = strlen(YAML_TAG_PREFIX), i;
    char tshow[72];

    *out = NULL;
    if (n > INT32_MAX)
        return yaml_fail(st, SL_ETOOBIG, ev->start_mark, "scalar too long");
    if (tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return yaml_resolve_plain(st, ev, out);
    /* Quoted and block scalars, "!" and "!!str" are strings as written. */
    if (tag == NULL || strcmp(tag, "!") == 0 ||
        strcmp(tag, YAML_TAG_PREFIX "str") == 0) {
        *out = yaml_new_check(json_object_new_string_len(s, (int)n));
        return 0;
    }
    if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0)
        for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
            if (strcmp(tag + plen, typed[i]) == 0)
                return yaml_resolve_tagged(st, ev, typed[i], out);
    yaml_show_tag(tshow, sizeof(tshow), tag);
    return yaml_fail(st, SL_EINVAL, ev->start_mark,
                     "unsupported tag '%s' on a scalar", tshow);
}

/* ---- anchors and budgets ---- */

static void yaml_anchor_free(void *p)
{
    struct yaml_anchor *a = p;

    json_object_put(a->obj);
    sl_free(a->raw);
    sl_free(a);
}

/*
 * Record anchor 'name' (replacing an earlier one of that name, as YAML
 * says). A pending anchor ('done' false) marks a node still being built.
 */
static void yaml_define(struct yaml_state *st, const char *name, bool done,
                        struct json_object *obj, const struct yaml_cost *cost,
                        const char *raw, size_t raw_len)
{
    struct yaml_anchor *a = sl_xcalloc(1, sizeof(*a));

    a->done = done;
    a->obj = json_object_get(obj);
    if (cost != NULL)
        a->cost = *cost;
    if (raw != NULL) {
        a->raw = sl_xmemdup(raw, raw_len);
        a->raw_len = raw_len;
    }
    sl_map_put(&st->anchors, name, a, NULL);
}

/* Charge 'nodes' values and 'text' bytes to the budgets of this call. */
static int yaml_charge(struct yaml_state *st, size_t nodes, size_t text,
                       yaml_mark_t mark)
{
    if (nodes > SL_YAML_MAX_NODES - st->nodes)
        return yaml_fail(st, SL_ETOOBIG, mark,
                         "document too large: more than %d nodes (aliases "
                         "count each time they are used)",
                         SL_YAML_MAX_NODES);
    if (text > SL_YAML_MAX_TEXT - st->text)
        return yaml_fail(st, SL_ETOOBIG, mark,
                         "document too large: more than %d bytes of text "
                         "(aliases count each time they are used)",
                         SL_YAML_MAX_TEXT);
    st->nodes += nodes;
    st->text += text;
    return 0;
}

/* ---- building ---- */

static struct yaml_frame *yaml_top(struct yaml_state *st)
{
    return st->depth > 0 ? &st->stack[st->depth - 1] : NULL;
}

/* True when the next node is a key of the innermost mapping. */
static bool yaml_want_key(struct yaml_state *st)
{
    struct yaml_frame *f = yaml_top(st);

    return f != NULL && f->is_map && f->key == NULL && !f->merge_next;
}

static bool yaml_is_mappings(struct json_object *v)
{
    size_t i, n;

    if (json_object_is_type(v, json_type_object))
        return true;
    if (!json_object_is_type(v, json_type_array))
        return false;
    n = json_object_array_length(v);
    for (i = 0; i < n; i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i),
                                 json_type_object))
            return false;
    return true;
}

/*
 * Hand a finished value to its parent: the open sequence or mapping, the
 * pending merge, or the document root. Takes ownership of node->obj.
 */
static int yaml_add(struct yaml_state *st, struct yaml_node *node)
{
    struct yaml_frame *f = yaml_top(st);
    size_t h = node->cost.height + 1;
    int rc = 0;

    if (f == NULL) {
        st->root = node->obj;
        st->have_root = true;
        st->root_empty = node->empty;
        node->obj = NULL;
        goto out;
    }
    f->cost.nodes += node->cost.nodes;
    f->cost.text += node->cost.text;
    if (!f->is_map) {
        if (json_object_array_add(f->obj, node->obj) != 0)
            yaml_oom();
        node->obj = NULL;
    } else if (f->merge_next) {
        if (!yaml_is_mappings(node->obj)) {
            rc = yaml_fail(st, SL_EINVAL, node->mark,
                           "merge value must be a mapping or a sequence of "
                           "mappings");
            goto out;
        }
        /* Merged values end up one level above where they are now. */
        h = node->cost.height -
            (json_object_is_type(node->obj, json_type_array) ? 1 : 0);
        f->merge = node->obj;
        f->merge_next = false;
        node->obj = NULL;
    } else {
        /* The key was checked for duplicates when it arrived. */
        if (json_object_object_add_ex(f->obj, f->key, node->obj,
                                      JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0)
            yaml_oom();
        node->obj = NULL;
        sl_free(f->key);
        f->key = NULL;
    }
    if (h > f->cost.height)
        f->cost.height = h;
out:
    json_object_put(node->obj);
    node->obj = NULL;
    return rc;
}

/* Take s[0..n) as the next key of the innermost mapping. */
static int yaml_key(struct yaml_state *st, const char *s, size_t n, bool merge,
                    yaml_mark_t mark)
{
    struct yaml_frame *f = yaml_top(st);
    char show[48];

    if (merge) {
        if (f->merge != NULL)
            return yaml_fail(st, SL_EINVAL, mark, "duplicate key '<<'");
        f->merge_next = true;
        return 0;
    }
    if (memchr(s, '\0', n) != NULL)
        return yaml_fail(st, SL_EINVAL, mark,
                         "mapping key contains a NUL character");
    if (json_object_object_get_ex(f->obj, s, NULL))
        return yaml_fail(st, SL_EINVAL, mark, "duplicate key '%s'",
                         yaml_show(show, sizeof(show), s, n));
    f->key = sl_xmemdup(s, n);
    f->cost.text += n;
    return yaml_charge(st, 0, n, mark);
}

static bool yaml_is_merge_tag(const char *tag)
{
    return tag != NULL && strcmp(tag, YAML_TAG_PREFIX "merge") == 0;
}

/*
 * A scalar in key position. Keys stay text; the scalar is resolved only
 * when it carries an anchor, since an alias may later use it as a value.
 */
static int yaml_on_key(struct yaml_state *st, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    size_t n = ev->data.scalar.length;
    bool merge = yaml_is_merge_tag(tag) ||
                 (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                  tag == NULL && yaml_is(s, n, "<<"));
    struct yaml_cost cost = { 1, 0, 0 };
    struct json_object *obj = NULL;
    int rc = 0;

    if (anchor != NULL && merge) {
        rc = yaml_fail(st, SL_EINVAL, ev->start_mark, "anchor on a merge key");
        goto out;
    }
    if (anchor != NULL) {
        rc = yaml_resolve(st, ev, &obj);
        if (rc < 0)
            goto out;
        if (json_object_is_type(obj, json_type_string))
            cost.text = n;
        yaml_define(st, anchor, true, obj, &cost, s, n);
    }
    rc = yaml_key(st, s, n, merge, ev->start_mark);
out:
    json_object_put(obj);
    return rc;
}

static int yaml_on_scalar(struct yaml_state *st, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    size_t n = ev->data.scalar.length;
    struct yaml_node node = { NULL, { 1, 0, 0 }, ev->start_mark, false };
    int rc;

    if (yaml_want_key(st))
        return yaml_on_key(st, ev);
    if (yaml_is_merge_tag(tag))
        return yaml_fail(st, SL_EINVAL, ev->start_mark,
                         "tag '!!merge' outside a mapping key");
    rc = yaml_resolve(st, ev, &node.obj);
    if (rc < 0)
        goto out;
    if (json_object_is_type(node.obj, json_type_string))
        node.cost.text = n;
    rc = yaml_charge(st, node.cost.nodes, node.cost.text, ev->start_mark);
    if (rc < 0)
        goto out;
    if (anchor != NULL)
        yaml_define(st, anchor, true, node.obj, &node.cost, s, n);
    node.empty = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                 tag == NULL && anchor == NULL && n == 0;
    rc = yaml_add(st, &node);
out:
    json_object_put(node.obj);
    return rc;
}

static int yaml_on_start(struct yaml_state *st, const yaml_event_t *ev,
                         bool is_map)
{
    const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag
                                            : ev->data.sequence_start.tag);
    const char *anchor =
        (const char *)(is_map ? ev->data.mapping_start.anchor
                              : ev->data.sequence_start.anchor);
    const char *want = is_map ? YAML_TAG_PREFIX "map" : YAML_TAG_PREFIX "seq";
    struct yaml_frame *f;
    char tshow[72];
    int rc;

    if (yaml_want_key(st))
        return yaml_fail(st, SL_EINVAL, ev->start_mark,
                         "mapping key must be a scalar");
    if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, want) != 0) {
        yaml_show_tag(tshow, sizeof(tshow), tag);
        return yaml_fail(st, SL_EINVAL, ev->start_mark,
                         "unsupported tag '%s' on a %s", tshow,
                         is_map ? "mapping" : "sequence");
    }
    if (st->depth >= SL_YAML_MAX_DEPTH)
        return yaml_fail(st, SL_ETOOBIG, ev->start_mark,
                         "nesting deeper than %d levels", SL_YAML_MAX_DEPTH);
    rc = yaml_charge(st, 1, 0, ev->start_mark);
    if (rc < 0)
        return rc;
    f = &st->stack[st->depth++];
    memset(f, 0, sizeof(*f));
    f->is_map = is_map;
    f->obj = yaml_new_check(is_map ? json_object_new_object()
                                   : json_object_new_array());
    f->cost.nodes = 1;
    f->cost.height = 1;
    f->mark = ev->start_mark;
    if (anchor != NULL) {
        f->anchor = sl_xstrdup(anchor);
        yaml_define(st, anchor, false, NULL, NULL, NULL, 0);
    }
    return 0;
}

/* Add each key of the merge sources that the mapping does not have yet. */
static void yaml_merge(struct yaml_frame *f)
{
    struct json_object *src;
    size_t i, n = 1;

    if (json_object_is_type(f->merge, json_type_array))
        n = json_object_array_length(f->merge);
    for (i = 0; i < n; i++) {
        struct json_object_iterator it, end;
        src = n == 1 && json_object_is_type(f->merge, json_type_object)
                  ? f->merge
                  : json_object_array_get_idx(f->merge, i);
        it = json_object_iter_begin(src);
        end = json_object_iter_end(src);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *k = json_object_iter_peek_name(&it);
            struct json_object *v = json_object_iter_peek_value(&it);
            if (json_object_object_get_ex(f->obj, k, NULL))
                continue;
            if (json_object_object_add_ex(f->obj, k, json_object_get(v),
                                          JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0)
                yaml_oom();
        }
    }
    json_object_put(f->merge);
    f->merge = NULL;
}

static int yaml_on_end(struct yaml_state *st)
{
    struct yaml_frame *f = &st->stack[--st->depth];
    struct yaml_node node = { f->obj, f->cost, f->mark, false };

    /* libyaml balances start and end events, so 'f' is the right frame. */
    if (f->merge != NULL)
        yaml_merge(f);
    if (f->anchor != NULL)
        yaml_define(st, f->anchor, true, f->obj, &f->cost, NULL, 0);
    sl_free(f->anchor);
    sl_free(f->key);
    memset(f, 0, sizeof(*f));
    return yaml_add(st, &node);
}

static int yaml_on_alias(struct yaml_state *st, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct yaml_anchor *a = sl_map_get(&st->anchors, name);
    struct yaml_node node = { NULL, { 0, 0, 0 }, ev->start_mark, false };
    char show[48];
    int rc;

    yaml_show(show, sizeof(show), name, strlen(name));
    if (a == NULL)
        return yaml_fail(st, SL_EINVAL, ev->start_mark, "unknown anchor '%s'",
                         show);
    if (!a->done)
        return yaml_fail(st, SL_EINVAL, ev->start_mark,
                         "alias '*%s' refers to a node that contains it", show);
    if (yaml_want_key(st)) {
        if (a->raw == NULL)
            return yaml_fail(st, SL_EINVAL, ev->start_mark,
                             "mapping key must be a scalar");
        return yaml_key(st, a->raw, a->raw_len, false, ev->start_mark);
    }
    if (st->depth + a->cost.height > SL_YAML_MAX_DEPTH)
        return yaml_fail(st, SL_ETOOBIG, ev->start_mark,
                         "nesting deeper than %d levels (through alias "
                         "'*%s')",
                         SL_YAML_MAX_DEPTH, show);
    rc = yaml_charge(st, a->cost.nodes, a->cost.text, ev->start_mark);
    if (rc < 0)
        return rc;
    /* A copy, so callers may edit the tree without spooky action. */
    if (a->obj != NULL && json_object_deep_copy(a->obj, &node.obj, NULL) != 0)
        yaml_oom();
    node.cost = a->cost;
    return yaml_add(st, &node);
}

static void yaml_doc_start(struct yaml_state *st)
{
    sl_map_fini(&st->anchors);
    sl_map_init(&st->anchors, yaml_anchor_free);
    json_object_put(st->root);
    st->root = NULL;
    st->have_root = false;
}

static void yaml_doc_end(struct yaml_state *st)
{
    if (st->have_root && !st->root_empty) {
        if (json_object_array_add(st->docs, st->root) != 0)
            yaml_oom();
        st->root = NULL;
    }
    yaml_doc_start(st);
}

static int yaml_on_event(struct yaml_state *st, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        yaml_doc_start(st);
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        yaml_doc_end(st);
        return 0;
    case YAML_SCALAR_EVENT:
        return yaml_on_scalar(st, ev);
    case YAML_SEQUENCE_START_EVENT:
        return yaml_on_start(st, ev, false);
    case YAML_MAPPING_START_EVENT:
        return yaml_on_start(st, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return yaml_on_end(st);
    case YAML_ALIAS_EVENT:
        return yaml_on_alias(st, ev);
    default:
        return 0;
    }
}

/* ---- entry point ---- */

int sl_yaml_to_json(const char *s, size_t n, struct json_object **out,
                    struct sl_diag *diag)
{
    struct yaml_state st;
    yaml_parser_t parser;
    yaml_event_t ev;
    bool done = false;
    size_t i;
    int rc = 0;

    *out = NULL;
    memset(&st, 0, sizeof(st));
    st.diag = diag;
    st.input = s;
    st.input_len = n;
    sl_map_init(&st.anchors, yaml_anchor_free);
    st.docs = yaml_new_check(json_object_new_array());
    if (!yaml_parser_initialize(&parser))
        yaml_oom();
    yaml_parser_set_input_string(&parser, (const unsigned char *)s, n);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = yaml_parser_fail(&st, &parser);
            goto out;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = yaml_on_event(&st, &ev);
        yaml_event_delete(&ev);
        if (rc < 0)
            goto out;
    }
    *out = st.docs;
    st.docs = NULL;
out:
    for (i = 0; i < st.depth; i++) {
        json_object_put(st.stack[i].obj);
        json_object_put(st.stack[i].merge);
        sl_free(st.stack[i].key);
        sl_free(st.stack[i].anchor);
    }
    json_object_put(st.root);
    json_object_put(st.docs);
    sl_map_fini(&st.anchors);
    yaml_parser_delete(&parser);
    return rc;
}
