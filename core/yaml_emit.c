/*
 * core/yaml_emit.c - json-c values as kubectl-style block YAML.
 *
 * A recursive walk (depth bounded by SL_YAML_MAX_DEPTH, so the C stack is
 * too) that appends to one sl_buf. The first failing append or check is
 * kept in 'rc' and everything after it becomes a no-op, so the writers
 * below need not test every call; sl_yaml_emit rolls the buffer back.
 *
 * The hard part is choosing a scalar's style (emit_style): the rules are
 * in yaml_emit.h, and test/fuzz/fuzz_yaml.c holds them to the contract by
 * emitting every stream the parser accepts and parsing it again.
 */
#include "core/yaml_emit.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"
#include "core/yaml.h"

/* libyaml gives an implicit key 1024 characters; stay clear of it. */
#define EMIT_MAX_IMPLICIT_KEY 1000

enum emit_style {
    EMIT_PLAIN,
    EMIT_SINGLE,
    EMIT_DOUBLE,
    EMIT_LITERAL,
};

struct emit {
    struct sl_buf *out;
    struct sl_buf key; /* scratch: one rendered mapping key */
    int rc;            /* first failure, or 0 */
    size_t depth;      /* collections open, as the parser will count them */
    struct sl_diag *diag;
    char path[SL_DIAG_FIELD_MAX]; /* where we are, for error messages */
    size_t path_len;
};

/* ---- output ---- */

static void emit_put(struct emit *e, struct sl_buf *b, const void *p, size_t n)
{
    if (e->rc == 0 && sl_buf_append(b, p, n) < 0)
        e->rc = sl_diag_set(e->diag, SL_ETOOBIG, e->path,
                            "YAML output larger than %zu bytes", b->max);
}

static void emit_puts(struct emit *e, struct sl_buf *b, const char *s)
{
    emit_put(e, b, s, strlen(s));
}

static void emit_spaces(struct emit *e, size_t n)
{
    static const char sp[] = "                                ";

    while (n > 0 && e->rc == 0) {
        size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
        emit_put(e, e->out, sp, k);
        n -= k;
    }
}

__attribute__((format(printf, 3, 4))) static void
emit_fail(struct emit *e, int rc, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG_MAX];
    va_list ap;

    if (e->rc != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e->rc = sl_diag_set(e->diag, rc, e->path, "%s", msg);
}

/* Extend the path by ".key" or "[i]"; returns the length to restore. */
static size_t emit_path_key(struct emit *e, const char *key)
{
    size_t old = e->path_len;
    int k = snprintf(e->path + old, sizeof(e->path) - old, "%s%s",
                     old > 0 ? "." : "", key);

    if (k > 0)
        e->path_len = strlen(e->path);
    return old;
}

static size_t emit_path_index(struct emit *e, size_t i)
{
    size_t old = e->path_len;
    int k = snprintf(e->path + old, sizeof(e->path) - old, "[%zu]", i);

    if (k > 0)
        e->path_len = strlen(e->path);
    return old;
}

static void emit_path_restore(struct emit *e, size_t old)
{
    e->path_len = old;
    e->path[old] = '\0';
}

/* ---- choosing a scalar style ---- */

/* Code points that must be escaped (only double quotes can carry them). */
static bool emit_needs_escape(uint32_t cp)
{
    return (cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE ||
           cp == 0xFFFF;
}

static bool emit_eq_ci(const char *s, size_t n, const char *word)
{
    size_t i;

    if (strlen(word) != n)
        return false;
    for (i = 0; i < n; i++) {
        char a = s[i], b = word[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static bool emit_all_in(const char *s, size_t n, const char *set)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == '\0' || strchr(set, s[i]) == NULL)
            return false;
    return true;
}

/*
 * True when a plain scalar 's' would not read back as this string in the
 * YAML 1.2 core schema or in YAML 1.1 (PyYAML, go-yaml v2): null, booleans,
 * numbers of every base and form, sexagesimal numbers, timestamps, the
 * merge key and the 1.1 "value" key. Numbers are matched loosely, by
 * their alphabet ("1.2.3" and "12-34" are quoted too): quoting a string
 * that needs none costs two characters, missing one changes its type.
 */
static bool emit_ambiguous(const char *s, size_t n)
{
    static const char *const words[] = {
        "true", "false", "yes",  "no", "on", "off",
        "y",    "n",     "null", "~",  "<<", "=",
    };
    size_t i, k = 0;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (emit_eq_ci(s, n, words[i]))
            return true;
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        k = 1;
    s += k;
    n -= k;
    if (emit_eq_ci(s, n, ".inf") || emit_eq_ci(s, n, ".nan"))
        return true;
    if (n == 0 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
        return false;
    /* 0x1F, 0o17, 0b101 (1.1), with '_' separators (1.1) */
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return emit_all_in(s + 2, n - 2, "0123456789abcdefABCDEF_");
    if (n >= 2 && s[0] == '0' && s[1] != '\0' && strchr("oObB", s[1]) != NULL)
        return emit_all_in(s + 2, n - 2, "0123456789_");
    /* decimal, float, exponent, sexagesimal (1.1), timestamp (1.1) */
    return emit_all_in(s, n, "0123456789_.:+-eEtTzZ ");
}

/* True when a printable one-line string cannot be a plain scalar. */
static bool emit_plain_unsafe(const char *s, size_t n)
{
    size_t i;

    if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) != NULL)
        return true;
    if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
        return true;
    if (n >= 3 && memcmp(s, "...", 3) == 0)
        return true;
    for (i = 0; i + 1 < n; i++) {
        if (s[i] == ':' && s[i + 1] == ' ')
            return true;
        if (s[i] == ' ' && s[i + 1] == '#')
            return true;
    }
    return false;
}

/*
 * A literal block keeps every character of a printable multi-line string,
 * provided its indentation can be detected: the first non-empty line must
 * not start with a space (libyaml takes the block's indentation from it),
 * and there must be one.
 */
static bool emit_literal_ok(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] == '\n')
        i++;
    return i < n && s[i] != ' ';
}

static int emit_style(struct emit *e, const char *s, size_t n, bool key,
                      enum emit_style *out)
{
    bool nl = false, esc = false;
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0) {
            emit_fail(e, SL_EINVAL,
                      "string is not valid UTF-8 (byte %zu), YAML cannot "
                      "carry it",
                      i);
            return e->rc;
        }
        if (cp == '\n')
            nl = true;
        else if (emit_needs_escape(cp))
            esc = true;
        i += k;
    }
    if (n == 0 || esc)
        *out = EMIT_DOUBLE;
    else if (nl)
        *out = !key && emit_literal_ok(s, n) ? EMIT_LITERAL : EMIT_DOUBLE;
    else if (emit_ambiguous(s, n))
        *out = EMIT_DOUBLE;
    else if (emit_plain_unsafe(s, n))
        *out = EMIT_SINGLE;
    else
        *out = EMIT_PLAIN;
    return 0;
}

/* ---- scalars ---- */

static void emit_double_quoted(struct emit *e, struct sl_buf *b, const char *s,
                               size_t n)
{
    size_t i = 0, run = 0, k;
    uint32_t cp;
    char esc[12];

    emit_put(e, b, "\"", 1);
    while (i < n) {
        /* emit_style validated the UTF-8 already. */
        k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        esc[0] = '\0';
        switch (cp) {
        case '"':
            memcpy(esc, "\\\"", 3);
            break;
        case '\\':
            memcpy(esc, "\\\\", 3);
            break;
        case 0x00:
            memcpy(esc, "\\0", 3);
            break;
        case 0x07:
            memcpy(esc, "\\a", 3);
            break;
        case 0x08:
            memcpy(esc, "\\b", 3);
            break;
        case '\t':
            memcpy(esc, "\\t", 3);
            break;
        case '\n':
            memcpy(esc, "\\n", 3);
            break;
        case 0x0B:
            memcpy(esc, "\\v", 3);
            break;
        case 0x0C:
            memcpy(esc, "\\f", 3);
            break;
        case '\r':
            memcpy(esc, "\\r", 3);
            break;
        case 0x1B:
            memcpy(esc, "\\e", 3);
            break;
        case 0x85:
            memcpy(esc, "\\N", 3);
            break;
        case 0x2028:
            memcpy(esc, "\\L", 3);
            break;
        case 0x2029:
            memcpy(esc, "\\P", 3);
            break;
        default:
            if (cp <= 0xFF && emit_needs_escape(cp))
                snprintf(esc, sizeof(esc), "\\x%02X", (unsigned)cp);
            else if (emit_needs_escape(cp))
                snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
            break;
        }
        if (esc[0] != '\0') {
            emit_put(e, b, s + i - run, run);
            run = 0;
            emit_puts(e, b, esc);
        } else {
            run += k;
        }
        i += k;
    }
    emit_put(e, b, s + n - run, run);
    emit_put(e, b, "\"", 1);
}

static void emit_single_quoted(struct emit *e, struct sl_buf *b, const char *s,
                               size_t n)
{
    const char *q;

    emit_put(e, b, "'", 1);
    while ((q = memchr(s, '\'', n)) != NULL) {
        emit_put(e, b, s, (size_t)(q - s) + 1);
        emit_put(e, b, "'", 1);
        n -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    emit_put(e, b, s, n);
    emit_put(e, b, "'", 1);
}

/* "|", "|-" or "|+" and the lines at 'indent'; ends with a newline. */
static void emit_literal(struct emit *e, const char *s, size_t n, size_t indent)
{
    size_t trail = 0, pos = 0;

    while (trail < n && s[n - 1 - trail] == '\n')
        trail++;
    emit_puts(e, e->out, trail == 0 ? "|-\n" : trail == 1 ? "|\n" : "|+\n");
    while (pos < n && e->rc == 0) {
        const char *nl = memchr(s + pos, '\n', n - pos);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        if (end > pos) {
            emit_spaces(e, indent);
            emit_put(e, e->out, s + pos, end - pos);
        }
        emit_put(e, e->out, "\n", 1);
        pos = end + 1;
    }
}

/*
 * A string in the style emit_style chose ('indent' for literal blocks).
 * Returns true when it wrote a literal block, which ends with a newline.
 */
static bool emit_string(struct emit *e, struct sl_buf *b, const char *s,
                        size_t n, bool key, size_t indent)
{
    enum emit_style st = EMIT_DOUBLE;

    if (emit_style(e, s, n, key, &st) < 0)
        return false;
    switch (st) {
    case EMIT_PLAIN:
        emit_put(e, b, s, n);
        break;
    case EMIT_SINGLE:
        emit_single_quoted(e, b, s, n);
        break;
    case EMIT_DOUBLE:
        emit_double_quoted(e, b, s, n);
        break;
    case EMIT_LITERAL:
        emit_literal(e, s, n, indent);
        break;
    }
    return st == EMIT_LITERAL;
}

/*
 * The shortest decimal that reads back as 'd', with a '.' in the
 * mantissa ("1.0", "1.0e+20") so neither schema takes it for an integer.
 */
static void emit_double_number(struct emit *e, double d)
{
    char tmp[48], fixed[56];
    const char *ep;
    int prec;

    if (isnan(d)) {
        emit_puts(e, e->out, ".nan");
        return;
    }
    if (isinf(d)) {
        emit_puts(e, e->out, d > 0 ? ".inf" : "-.inf");
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (strchr(tmp, '.') == NULL) {
        ep = strchr(tmp, 'e');
        if (ep != NULL)
            snprintf(fixed, sizeof(fixed), "%.*s.0%s", (int)(ep - tmp), tmp,
                     ep);
        else
            snprintf(fixed, sizeof(fixed), "%s.0", tmp);
        emit_puts(e, e->out, fixed);
        return;
    }
    emit_puts(e, e->out, tmp);
}

static bool emit_enter(struct emit *e)
{
    if (e->depth >= SL_YAML_MAX_DEPTH) {
        emit_fail(e, SL_ETOOBIG, "nesting deeper than %d levels",
                  SL_YAML_MAX_DEPTH);
        return false;
    }
    e->depth++;
    return true;
}

/* True for a mapping or sequence with members (written in block style). */
static bool emit_is_block(struct json_object *v)
{
    if (json_object_is_type(v, json_type_object))
        return json_object_object_length(v) > 0;
    if (json_object_is_type(v, json_type_array))
        return json_object_array_length(v) > 0;
    return false;
}

/*
 * A scalar or an empty collection, then a newline. 'indent' is where a
 * literal block's lines go.
 */
static void emit_scalar(struct emit *e, struct json_object *v, size_t indent)
{
    char num[32];
    int64_t i;

    switch (json_object_get_type(v)) {
    case json_type_null:
        emit_puts(e, e->out, "null");
        break;
    case json_type_boolean:
        emit_puts(e, e->out, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        i = json_object_get_int64(v);
        if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
            emit_fail(e, SL_EINVAL,
                      "integer %llu does not fit in int64, which is all "
                      "YAML integers read back as",
                      (unsigned long long)json_object_get_uint64(v));
        snprintf(num, sizeof(num), "%lld", (long long)i);
        emit_puts(e, e->out, num);
        break;
    case json_type_double:
        emit_double_number(e, json_object_get_double(v));
        break;
    case json_type_string:
        /* A literal block ends with its own newline. */
        if (emit_string(e, e->out, json_object_get_string(v),
                        (size_t)json_object_get_string_len(v), false, indent))
            return;
        break;
    case json_type_object:
    case json_type_array:
        if (!emit_enter(e))
            return;
        e->depth--;
        emit_puts(e, e->out,
                  json_object_is_type(v, json_type_object) ? "{}" : "[]");
        break;
    }
    emit_put(e, e->out, "\n", 1);
}

/* ---- collections ---- */

static void emit_seq(struct emit *e, struct json_object *v, size_t indent,
                     bool inline_first);

/*
 * Members of a mapping at 'indent'. With 'inline_first' the first key
 * goes where the output already is (after "- ").
 */
static void emit_map(struct emit *e, struct json_object *v, size_t indent,
                     bool inline_first)
{
    struct json_object_iterator it, end;
    bool first = true;

    if (!emit_enter(e))
        return;
    it = json_object_iter_begin(v);
    end = json_object_iter_end(v);
    for (; !json_object_iter_equal(&it, &end) && e->rc == 0;
         json_object_iter_next(&it)) {
        const char *k = json_object_iter_peek_name(&it);
        struct json_object *val = json_object_iter_peek_value(&it);
        size_t old = emit_path_key(e, k), seq_indent = indent;
        bool explicit;

        if (!(first && inline_first))
            emit_spaces(e, indent);
        first = false;
        sl_buf_reset(&e->key);
        emit_string(e, &e->key, k, strlen(k), true, 0);
        explicit = e->key.len > EMIT_MAX_IMPLICIT_KEY;
        if (explicit) {
            emit_put(e, e->out, "? ", 2);
            emit_put(e, e->out, e->key.data, e->key.len);
            emit_put(e, e->out, "\n", 1);
            emit_spaces(e, indent);
            emit_put(e, e->out, ":", 1);
            /* The explicit value indicator has no compact form for a
             * sequence at its own column: indent it. */
            seq_indent = indent + 2;
        } else {
            emit_put(e, e->out, e->key.data, e->key.len);
            emit_put(e, e->out, ":", 1);
        }
        if (!emit_is_block(val)) {
            emit_put(e, e->out, " ", 1);
            emit_scalar(e, val, indent + 2);
        } else {
            emit_put(e, e->out, "\n", 1);
            if (json_object_is_type(val, json_type_object))
                emit_map(e, val, indent + 2, false);
            else
                emit_seq(e, val, seq_indent, false);
        }
        emit_path_restore(e, old);
    }
    e->depth--;
}

/* Items of a sequence with their dashes at 'indent'. */
static void emit_seq(struct emit *e, struct json_object *v, size_t indent,
                     bool inline_first)
{
    size_t i, n = json_object_array_length(v);

    if (!emit_enter(e))
        return;
    for (i = 0; i < n && e->rc == 0; i++) {
        struct json_object *item = json_object_array_get_idx(v, i);
        size_t old = emit_path_index(e, i);

        if (!(i == 0 && inline_first))
            emit_spaces(e, indent);
        emit_put(e, e->out, "- ", 2);
        if (!emit_is_block(item))
            emit_scalar(e, item, indent + 2);
        else if (json_object_is_type(item, json_type_object))
            emit_map(e, item, indent + 2, true);
        else
            emit_seq(e, item, indent + 2, true);
        emit_path_restore(e, old);
    }
    e->depth--;
}

static void emit_document(struct emit *e, struct json_object *v)
{
    e->depth = 0;
    if (!emit_is_block(v))
        emit_scalar(e, v, 2);
    else if (json_object_is_type(v, json_type_object))
        emit_map(e, v, 0, false);
    else
        emit_seq(e, v, 0, false);
}

/* ---- entry point ---- */

int sl_yaml_emit(struct json_object *v, unsigned flags, struct sl_buf *out,
                 struct sl_diag *diag)
{
    struct emit e;
    size_t start = out->len, i, n;

    memset(&e, 0, sizeof(e));
    e.out = out;
    e.diag = diag;
    sl_buf_init(&e.key, out->max);
    if ((flags & SL_YAML_EMIT_DOCS) &&
        json_object_is_type(v, json_type_array)) {
        n = json_object_array_length(v);
        for (i = 0; i < n && e.rc == 0; i++) {
            size_t old = emit_path_index(&e, i);
            if (i > 0)
                emit_puts(&e, out, "---\n");
            emit_document(&e, json_object_array_get_idx(v, i));
            emit_path_restore(&e, old);
        }
    } else {
        emit_document(&e, v);
    }
    sl_buf_fini(&e.key);
    if (e.rc != 0) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return e.rc;
}
