/*
 * resource/schema.c - the strict schema walker, field paths and json-c
 * accessors. The value checks named in schema.h live in check.c.
 */
#include "resource/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- field paths ---- */

void sl_res_path_init(struct sl_res_path *p, const char *root)
{
    p->len = 0;
    p->buf[0] = '\0';
    if (root != NULL && root[0] != '\0')
        sl_res_path_field(p, root);
}

/* Append 'fmt' output, cutting at the buffer's end. */
static size_t path_append(struct sl_res_path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t path_append(struct sl_res_path *p, const char *fmt, ...)
{
    size_t old = p->len, room = sizeof(p->buf) - p->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(p->buf + p->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        p->buf[p->len] = '\0';
    else if ((size_t)n >= room)
        p->len = sizeof(p->buf) - 1;
    else
        p->len += (size_t)n;
    return old;
}

size_t sl_res_path_field(struct sl_res_path *p, const char *name)
{
    return path_append(p, "%s%s", p->len > 0 ? "." : "", name);
}

size_t sl_res_path_index(struct sl_res_path *p, size_t i)
{
    return path_append(p, "[%zu]", i);
}

size_t sl_res_path_key(struct sl_res_path *p, const char *key)
{
    return path_append(p, "[%s]", key);
}

void sl_res_path_pop(struct sl_res_path *p, size_t len)
{
    if (len < sizeof(p->buf)) {
        p->len = len;
        p->buf[len] = '\0';
    }
}

static int res_vfail(struct sl_diag *d, const struct sl_res_path *p,
                     const char *sub, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int res_vfail(struct sl_diag *d, const struct sl_res_path *p,
                     const char *sub, const char *fmt, va_list ap)
{
    struct sl_res_path tmp;

    if (d == NULL)
        return SL_EINVAL;
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    if (p == NULL)
        sl_res_path_init(&tmp, NULL);
    else
        tmp = *p;
    if (sub != NULL && sub[0] == '[')
        path_append(&tmp, "%s", sub);
    else if (sub != NULL && sub[0] != '\0')
        sl_res_path_field(&tmp, sub);
    snprintf(d->field, sizeof(d->field), "%s", tmp.buf);
    return SL_EINVAL;
}

int sl_res_fail(struct sl_diag *d, const struct sl_res_path *p, const char *fmt,
                ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = res_vfail(d, p, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int sl_res_fail_at(struct sl_diag *d, const struct sl_res_path *p,
                   const char *sub, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = res_vfail(d, p, sub, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- the walker ---- */

const char *sl_res_json_type_name(const struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_double:
        return "number";
    case json_type_int:
        return "integer";
    case json_type_object:
        return "object";
    case json_type_array:
        return "array";
    case json_type_string:
        return "string";
    }
    return "unknown";
}

static const char *schema_type_name(enum sl_res_type t)
{
    switch (t) {
    case SL_RES_STRING:
        return "string";
    case SL_RES_INT32:
    case SL_RES_INT64:
        return "integer";
    case SL_RES_NUMBER:
        return "number";
    case SL_RES_BOOL:
        return "boolean";
    case SL_RES_INT_OR_STRING:
        return "integer or string";
    case SL_RES_OBJECT:
    case SL_RES_STRING_MAP:
    case SL_RES_MAP:
        return "object";
    case SL_RES_ARRAY:
        return "array";
    case SL_RES_ANY:
        return "any";
    }
    return "unknown";
}

const struct sl_res_field *sl_res_schema_find(const struct sl_res_field *t,
                                              const char *name)
{
    for (; t != NULL && t->name != NULL; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

static int schema_wrong_type(const struct sl_res_field *f,
                             struct json_object *v, struct sl_res_path *p,
                             struct sl_diag *d)
{
    return sl_res_fail(d, p, "expected %s, got %s", schema_type_name(f->type),
                       sl_res_json_type_name(v));
}

/* The checks every string value gets. */
static int schema_string(struct json_object *v, const struct sl_res_field *f,
                         struct sl_res_path *p, struct sl_diag *d)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    const char *const *e;
    int rc;

    if (strlen(s) != n)
        return sl_res_fail(d, p, "invalid value: must not contain NUL bytes");
    if ((f->flags & SL_RES_NONEMPTY) && n == 0)
        return sl_res_fail(d, p, "invalid value \"\": must not be empty");
    if (f->enums != NULL) {
        for (e = f->enums; *e != NULL; e++)
            if (strcmp(*e, s) == 0)
                break;
        if (*e == NULL) {
            char list[256];
            size_t used = 0;

            list[0] = '\0';
            for (e = f->enums; *e != NULL && used < sizeof(list); e++) {
                int k = snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
                                 e == f->enums ? "" : ", ", *e);
                if (k < 0)
                    break;
                used += (size_t)k;
            }
            return sl_res_fail(d, p, "invalid value \"%s\": expected one of %s",
                               s, list);
        }
    }
    if (f->check != NULL && (rc = f->check(s, d)) != 0) {
        if (d != NULL)
            snprintf(d->field, sizeof(d->field), "%s", p->buf);
        return rc;
    }
    return 0;
}

static int schema_int(struct json_object *v, const struct sl_res_field *f,
                      struct sl_res_path *p, struct sl_diag *d)
{
    int64_t x = json_object_get_int64(v);

    if (f->type == SL_RES_INT32 && (x < INT32_MIN || x > INT32_MAX))
        return sl_res_fail(d, p, "invalid value %lld: out of range for int32",
                           (long long)x);
    if ((f->flags & SL_RES_RANGE) && (x < f->min || x > f->max))
        return sl_res_fail(d, p, "expected %lld <= %lld <= %lld",
                           (long long)f->min, (long long)x, (long long)f->max);
    return 0;
}

static int schema_key(const char *key, const struct sl_res_field *f,
                      struct sl_res_path *p, struct sl_diag *d)
{
    int rc;

    if (f->key_check != NULL && (rc = f->key_check(key, d)) != 0) {
        if (d != NULL)
            snprintf(d->field, sizeof(d->field), "%s", p->buf);
        return rc;
    }
    return 0;
}

/* SL_RES_ARRAY: every element against f->elem. */
static int schema_array(struct json_object *v, const struct sl_res_field *f,
                        struct sl_res_path *p, struct sl_diag *d)
{
    size_t i, n = json_object_array_length(v), old;
    int rc = 0;

    if ((f->flags & SL_RES_NONEMPTY) && n == 0)
        return sl_res_fail(d, p, "must not be empty");
    for (i = 0; i < n && rc == 0; i++) {
        struct json_object *e = json_object_array_get_idx(v, i);
        old = sl_res_path_index(p, i);
        if (e == NULL)
            rc = schema_wrong_type(f->elem, e, p, d);
        else
            rc = sl_res_schema_check_value(e, f->elem, p, d);
        sl_res_path_pop(p, old);
    }
    return rc;
}

/* SL_RES_STRING_MAP and SL_RES_MAP: keys, then values. */
static int schema_map(struct json_object *v, const struct sl_res_field *f,
                      struct sl_res_path *p, struct sl_diag *d)
{
    static const struct sl_res_field string_elem = { .name = "",
                                                     .type = SL_RES_STRING };
    const struct sl_res_field *elem =
        f->type == SL_RES_STRING_MAP ? &string_elem : f->elem;
    struct lh_entry *e;
    size_t old;
    int rc = 0;

    if ((f->flags & SL_RES_NONEMPTY) && json_object_object_length(v) == 0)
        return sl_res_fail(d, p, "must not be empty");
    for (e = lh_table_head(json_object_get_object(v)); e != NULL && rc == 0;
         e = lh_entry_next(e)) {
        const char *key = (const char *)lh_entry_k(e);
        struct json_object *val = (struct json_object *)lh_entry_v(e);
        old = sl_res_path_key(p, key);
        rc = schema_key(key, f, p, d);
        if (rc == 0 && val == NULL)
            rc = schema_wrong_type(elem, val, p, d);
        else if (rc == 0)
            rc = sl_res_schema_check_value(val, elem, p, d);
        sl_res_path_pop(p, old);
    }
    return rc;
}

int sl_res_schema_check_value(struct json_object *v,
                              const struct sl_res_field *f,
                              struct sl_res_path *p, struct sl_diag *d)
{
    enum json_type t = json_object_get_type(v);

    switch (f->type) {
    case SL_RES_STRING:
        if (t != json_type_string)
            return schema_wrong_type(f, v, p, d);
        return schema_string(v, f, p, d);
    case SL_RES_INT32:
    case SL_RES_INT64:
        if (t != json_type_int)
            return schema_wrong_type(f, v, p, d);
        return schema_int(v, f, p, d);
    case SL_RES_NUMBER:
        if (t != json_type_int && t != json_type_double)
            return schema_wrong_type(f, v, p, d);
        return 0;
    case SL_RES_BOOL:
        return t == json_type_boolean ? 0 : schema_wrong_type(f, v, p, d);
    case SL_RES_INT_OR_STRING:
        if (t == json_type_int)
            return schema_int(v, f, p, d);
        if (t == json_type_string)
            return schema_string(v, f, p, d);
        return schema_wrong_type(f, v, p, d);
    case SL_RES_OBJECT:
        if (t != json_type_object)
            return schema_wrong_type(f, v, p, d);
        if ((f->flags & SL_RES_NONEMPTY) && json_object_object_length(v) == 0)
            return sl_res_fail(d, p, "must not be empty");
        return sl_res_schema_check(v, f->fields, p, d);
    case SL_RES_ARRAY:
        if (t != json_type_array)
            return schema_wrong_type(f, v, p, d);
        return schema_array(v, f, p, d);
    case SL_RES_STRING_MAP:
    case SL_RES_MAP:
        if (t != json_type_object)
            return schema_wrong_type(f, v, p, d);
        return schema_map(v, f, p, d);
    case SL_RES_ANY:
        return 0;
    }
    return sl_res_fail(d, p, "internal error: bad schema type %d", f->type);
}

int sl_res_schema_check(struct json_object *obj,
                        const struct sl_res_field *fields,
                        struct sl_res_path *p, struct sl_diag *d)
{
    const struct sl_res_field *f;
    struct lh_entry *e, *next;
    size_t old;
    int rc = 0;

    if (!json_object_is_type(obj, json_type_object))
        return sl_res_fail(d, p, "expected object, got %s",
                           sl_res_json_type_name(obj));
    for (e = lh_table_head(json_object_get_object(obj)); e != NULL && rc == 0;
         e = next) {
        const char *key = (const char *)lh_entry_k(e);
        struct json_object *val = (struct json_object *)lh_entry_v(e);

        /* The next entry is taken first: deleting 'e' frees it. */
        next = lh_entry_next(e);
        f = sl_res_schema_find(fields, key);
        old = sl_res_path_field(p, key);
        if (f == NULL)
            rc = sl_res_fail(d, p, "unknown field \"%s\"", p->buf);
        else if (val == NULL)
            json_object_object_del(obj, key);
        else
            rc = sl_res_schema_check_value(val, f, p, d);
        sl_res_path_pop(p, old);
    }
    for (f = fields; rc == 0 && f != NULL && f->name != NULL; f++)
        if ((f->flags & SL_RES_REQUIRED) && sl_res_get(obj, f->name) == NULL)
            rc = sl_res_fail_at(d, p, f->name, "missing field(s)");
    return rc;
}

/* ---- json-c accessors ---- */

struct json_object *sl_res_get(const struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

const char *sl_res_str(const struct json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string((struct json_object *)v);
}

const char *sl_res_get_str(const struct json_object *obj, const char *key)
{
    return sl_res_str(sl_res_get(obj, key));
}

struct json_object *sl_res_dig(const struct json_object *obj,
                               const char *dotted)
{
    struct json_object *cur = (struct json_object *)obj;
    char key[128];
    const char *dot;
    size_t n;

    while (cur != NULL && *dotted != '\0') {
        dot = strchr(dotted, '.');
        n = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, dotted, n);
        key[n] = '\0';
        cur = sl_res_get(cur, key);
        dotted += n + (dot != NULL);
    }
    return cur;
}

struct json_object *sl_res_ensure(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object))
        return NULL;
    if (json_object_object_get_ex(obj, key, &v) && v != NULL)
        return json_object_is_type(v, json_type_object) ? v : NULL;
    v = json_object_new_object();
    json_object_object_add(obj, key, v);
    return v;
}

void sl_res_set_str(struct json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, json_object_new_string(value));
}

bool sl_res_equal(const struct json_object *a, const struct json_object *b)
{
    return json_object_equal((struct json_object *)a,
                             (struct json_object *)b) != 0;
}
