/*
 * proto/json.c - the CloudEvents JSON event format and batch format.
 *
 * Parsing goes through json-c in strict mode. Encoding writes the JSON
 * text directly (the same bytes json-c writes; json-c builds the object
 * for the rare cases the direct writer leaves to it, such as 0.3 events)
 * and splices JSON data in verbatim after checking it parses (a quick
 * scanner for the common payload, json-c when it is not sure), so a JSON
 * payload keeps its exact bytes through a structured hop. See
 * proto/json.h for the data/data_base64 rules.
 */
#include "proto/json.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"

#define JSON_MAX_DEPTH 128

/* Parse s[0..n) as exactly one JSON value; '*out' is owned by the caller. */
static int json_parse(const char *s, size_t n, struct json_object **out,
                      struct sl_diag *diag)
{
    struct json_tokener *tok;
    struct json_object *obj;
    enum json_tokener_error jerr;
    size_t end;
    int rc = 0;

    *out = NULL;
    if (n > (size_t)INT32_MAX)
        return SL_ETOOBIG;
    tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (tok == NULL)
        return SL_ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
#ifdef JSON_TOKENER_VALIDATE_UTF8
                                    | JSON_TOKENER_VALIDATE_UTF8
#endif
    );
    obj = json_tokener_parse_ex(tok, s, (int)n);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* A bare number at the very end is only complete at EOF. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr == json_tokener_success)
            end = n;
    }
    if (jerr != json_tokener_success) {
        rc = sl_diag_set(diag, SL_EINVAL, "", "invalid JSON at byte %zu: %s",
                         jerr == json_tokener_continue ? n : end,
                         jerr == json_tokener_continue
                             ? "unexpected end of input"
                             : json_tokener_error_desc(jerr));
        json_object_put(obj);
        goto out;
    }
    for (; end < n; end++) {
        char c = s[end];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            rc = sl_diag_set(diag, SL_EINVAL, "",
                             "invalid JSON at byte %zu: trailing data", end);
            json_object_put(obj);
            goto out;
        }
    }
    *out = obj;
out:
    json_tokener_free(tok);
    return rc;
}

/* ---- decoding ---- */

/* Set one attribute from a JSON member value (not null). */
static int json_set_attr(struct sl_event *ev, const char *name,
                         struct json_object *v, struct sl_diag *diag)
{
    char tmp[16];
    int n;

    switch (json_object_get_type(v)) {
    case json_type_string:
        return sl_event_set(ev, name, SL_CE_STRING, json_object_get_string(v),
                            (size_t)json_object_get_string_len(v), diag);
    case json_type_boolean:
        return sl_event_set_bool(ev, name, json_object_get_boolean(v), diag);
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i < INT32_MIN || i > INT32_MAX ||
            (i == INT64_MAX && json_object_get_uint64(v) > INT64_MAX))
            return sl_diag_set(diag, SL_EINVAL, name,
                               "integer %s out of 32-bit range",
                               json_object_to_json_string(v));
        n = snprintf(tmp, sizeof(tmp), "%d", (int)i);
        return sl_event_set(ev, name, SL_CE_INT, tmp, (size_t)n, diag);
    }
    case json_type_double:
        return sl_diag_set(diag, SL_EINVAL, name, "number %s is not an integer",
                           json_object_to_json_string(v));
    default:
        return sl_diag_set(diag, SL_EINVAL, name,
                           "must be a string, boolean or integer, not %s",
                           json_type_to_name(json_object_get_type(v)));
    }
}

/* Turn the 'data' / 'data_base64' members into the event's data. */
static int json_set_data(struct sl_event *ev, bool has_data,
                         struct json_object *data, struct json_object *b64,
                         bool v03_base64, struct sl_diag *diag)
{
    const char *ct = sl_event_value(ev, "datacontenttype");
    struct sl_diag bd;
    struct sl_buf b;
    int rc;

    if (b64 != NULL || v03_base64) {
        struct json_object *src = b64 ? b64 : data;
        const char *field = b64 ? "data_base64" : "data";
        if (!json_object_is_type(src, json_type_string))
            return sl_diag_set(diag, SL_EINVAL, field,
                               "must be a Base64 string");
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        rc = sl_base64_decode(json_object_get_string(src),
                              (size_t)json_object_get_string_len(src), &b, &bd);
        if (rc < 0) {
            sl_buf_fini(&b);
            return sl_diag_set(diag, rc, field, "invalid Base64: %s", bd.msg);
        }
        {
            size_t len;
            char *p = sl_buf_steal(&b, &len);
            sl_event_take_data(ev, p, len);
        }
        return 0;
    }
    if (!has_data)
        return 0;
    if (data == NULL) {
        /* "data": null is an explicit null payload, not absent data. */
        if (sl_ce_is_json_type(ct))
            sl_event_set_data(ev, "null", 4);
        return 0;
    }
    if (json_object_is_type(data, json_type_string) &&
        !sl_ce_is_json_type(ct)) {
        sl_event_set_data(ev, json_object_get_string(data),
                          (size_t)json_object_get_string_len(data));
        return 0;
    }
    if (!sl_ce_is_json_type(ct))
        return sl_diag_set(diag, SL_EINVAL, "data",
                           "must be a string for datacontenttype '%s'", ct);
    {
        size_t len;
        const char *txt = json_object_to_json_string_length(
            data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
            &len);
        sl_event_set_data(ev, txt, len);
    }
    return 0;
}

int sl_ce_json_decode_object(struct json_object *obj,
                             const struct sl_ce_opts *opts,
                             struct sl_event **out, struct sl_diag *diag)
{
    struct json_object *sv, *data = NULL, *b64 = NULL;
    struct sl_event *ev = NULL;
    enum sl_ce_version ver;
    bool v03_base64 = false, has_data = false;
    int rc;

    *out = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return sl_diag_set(diag, SL_EINVAL, "",
                           "an event must be a JSON object, not %s",
                           json_type_to_name(json_object_get_type(obj)));
    if (!json_object_object_get_ex(obj, "specversion", &sv) || sv == NULL)
        return sl_diag_set(diag, SL_EINVAL, "specversion",
                           "missing required attribute 'specversion'");
    if (!json_object_is_type(sv, json_type_string) ||
        sl_ce_version_parse(json_object_get_string(sv),
                            (size_t)json_object_get_string_len(sv), &ver) < 0)
        return sl_diag_set(diag, SL_EINVAL, "specversion",
                           "unsupported specversion %s (want \"1.0\" or "
                           "\"0.3\")",
                           json_object_to_json_string(sv));
    ev = sl_event_new(ver);
    json_object_object_foreach(obj, key, val)
    {
        if (strcmp(key, "data") == 0) {
            data = val;
            has_data = true;
            continue;
        }
        if (strcmp(key, "data_base64") == 0 && ver == SL_CE_V10) {
            b64 = val;
            continue;
        }
        if (val == NULL || strcmp(key, "specversion") == 0)
            continue; /* null means absent */
        if (ver == SL_CE_V03 && strcmp(key, "datacontentencoding") == 0) {
            if (!json_object_is_type(val, json_type_string) ||
                strcmp(json_object_get_string(val), "base64") != 0) {
                rc = sl_diag_set(diag, SL_EINVAL, key,
                                 "only \"base64\" is supported");
                goto out;
            }
            v03_base64 = true;
            continue; /* the data is decoded; the attribute goes */
        }
        rc = json_set_attr(ev, key, val, diag);
        if (rc < 0)
            goto out;
    }
    if (has_data && b64 != NULL) {
        rc = sl_diag_set(diag, SL_EINVAL, "data_base64",
                         "'data' and 'data_base64' are mutually exclusive");
        goto out;
    }
    if (v03_base64 && !has_data) {
        rc = sl_diag_set(diag, SL_EINVAL, "datacontentencoding",
                         "set without data");
        goto out;
    }
    rc = json_set_data(ev, has_data, data, b64, v03_base64, diag);
    if (rc < 0)
        goto out;
    rc = sl_event_validate(ev, diag);
    if (rc < 0)
        goto out;
    if (sl_event_size(ev) > sl_ce_max_size(opts)) {
        rc = sl_diag_set(diag, SL_ETOOBIG, "",
                         "event of %zu bytes exceeds the limit of %zu",
                         sl_event_size(ev), sl_ce_max_size(opts));
        goto out;
    }
    *out = ev;
    ev = NULL;
out:
    sl_event_unref(ev);
    return rc;
}

int sl_ce_json_decode(const char *s, size_t n, const struct sl_ce_opts *opts,
                      struct sl_event **out, struct sl_diag *diag)
{
    struct json_object *obj;
    int rc;

    *out = NULL;
    if (n > sl_ce_max_size(opts))
        return sl_diag_set(diag, SL_ETOOBIG, "",
                           "event of %zu bytes exceeds the limit of %zu", n,
                           sl_ce_max_size(opts));
    rc = json_parse(s, n, &obj, diag);
    if (rc < 0)
        return rc;
    rc = sl_ce_json_decode_object(obj, opts, out, diag);
    json_object_put(obj);
    return rc;
}

int sl_ce_json_decode_batch(const char *s, size_t n,
                            const struct sl_ce_opts *opts,
                            struct sl_event_list *out, struct sl_diag *diag)
{
    struct json_object *arr = NULL;
    struct sl_event_list tmp;
    size_t i, len;
    int rc;

    sl_event_list_init(&tmp);
    if (n > sl_ce_max_size(opts))
        return sl_diag_set(diag, SL_ETOOBIG, "",
                           "batch of %zu bytes exceeds the limit of %zu", n,
                           sl_ce_max_size(opts));
    rc = json_parse(s, n, &arr, diag);
    if (rc < 0)
        return rc;
    if (!json_object_is_type(arr, json_type_array)) {
        rc = sl_diag_set(diag, SL_EINVAL, "",
                         "a batch must be a JSON array, not %s",
                         json_type_to_name(json_object_get_type(arr)));
        goto out;
    }
    len = json_object_array_length(arr);
    for (i = 0; i < len; i++) {
        struct sl_event *ev;
        char idx[32];
        rc = sl_ce_json_decode_object(json_object_array_get_idx(arr, i), opts,
                                      &ev, diag);
        if (rc == 0 && tmp.n > 0 && ev->version != tmp.v[0]->version) {
            rc = sl_diag_set(diag, SL_EINVAL, "specversion",
                             "batch mixes specversion %s and %s",
                             sl_ce_version_str(tmp.v[0]->version),
                             sl_ce_version_str(ev->version));
            sl_event_unref(ev);
        }
        if (rc < 0) {
            snprintf(idx, sizeof(idx), "[%zu]", i);
            sl_diag_prefix(diag, idx);
            goto out;
        }
        sl_event_list_push(&tmp, ev);
    }
    for (i = 0; i < tmp.n; i++)
        sl_event_list_push(out, tmp.v[i]);
    tmp.n = 0;
out:
    sl_event_list_fini(&tmp);
    json_object_put(arr);
    return rc;
}

/* ---- encoding ---- */

static struct json_object *json_attr_value(const struct sl_ce_attr *a)
{
    switch (a->type) {
    case SL_CE_BOOL:
        return json_object_new_boolean(a->value[0] == 't');
    case SL_CE_INT: {
        int64_t v = 0;
        const char *p = a->value;
        bool neg = *p == '-';
        for (p += neg; *p; p++)
            v = v * 10 + (*p - '0');
        return json_object_new_int((int32_t)(neg ? -v : v));
    }
    default:
        return json_object_new_string_len(a->value, (int)a->len);
    }
}

/*
 * A quick check for the common JSON payload, without building a tree.
 * Returns 1 when s[0..n) is certainly one JSON value json_parse() accepts,
 * 0 when not sure (or not JSON): the caller then asks json_parse(). It is
 * only sure about a strict subset of RFC 8259 that json-c's strict parser
 * takes in every version: ASCII only (json-c's UTF-8 check is not ours),
 * nesting up to JSON_QUICK_DEPTH, numbers of at most 18 characters with
 * an exponent of at most two digits (no overflow), and no \u escape of a
 * surrogate.
 */
#define JSON_QUICK_DEPTH 64

static bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool json_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool json_hex(char c)
{
    return json_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string from s[*i] (the opening quote); 1 = sure, 0 = not. */
static int json_quick_string(const char *s, size_t n, size_t *i)
{
    size_t p = *i + 1;

    for (; p < n; p++) {
        unsigned char c = (unsigned char)s[p];
        if (c == '"') {
            *i = p + 1;
            return 1;
        }
        if (c < 0x20 || c >= 0x80)
            return 0;
        if (c != '\\')
            continue;
        if (++p >= n)
            return 0;
        switch (s[p]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u':
            if (p + 4 >= n || !json_hex(s[p + 1]) || !json_hex(s[p + 2]) ||
                !json_hex(s[p + 3]) || !json_hex(s[p + 4]))
                return 0;
            /* D800-DFFF: surrogates, whose handling differs by version */
            if ((s[p + 1] == 'd' || s[p + 1] == 'D') &&
                strchr("89abcdefABCDEF", s[p + 2]) != NULL)
                return 0;
            p += 4;
            break;
        default:
            return 0;
        }
    }
    return 0;
}

/* A number from s[*i]; 1 = sure, 0 = not. */
static int json_quick_number(const char *s, size_t n, size_t *i)
{
    size_t p = *i, start = *i, exp_digits = 0;

    if (p < n && s[p] == '-')
        p++;
    if (p >= n || !json_digit(s[p]))
        return 0;
    if (s[p] == '0')
        p++;
    else
        while (p < n && json_digit(s[p]))
            p++;
    if (p < n && s[p] == '.') {
        p++;
        if (p >= n || !json_digit(s[p]))
            return 0;
        while (p < n && json_digit(s[p]))
            p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-'))
            p++;
        while (p < n && json_digit(s[p])) {
            p++;
            exp_digits++;
        }
        if (exp_digits == 0 || exp_digits > 2)
            return 0;
    }
    if (p - start > 18)
        return 0;
    *i = p;
    return 1;
}

static int json_quick_valid(const char *s, size_t n)
{
    /* stack[d] is the container open at depth d: '{' or '[' */
    char stack[JSON_QUICK_DEPTH];
    size_t i = 0, d = 0;

    for (;;) {
        /* a value */
        while (i < n && json_ws(s[i]))
            i++;
        if (i >= n)
            return 0;
        switch (s[i]) {
        case '{':
        case '[':
            if (d == JSON_QUICK_DEPTH)
                return 0;
            stack[d++] = s[i++];
            while (i < n && json_ws(s[i]))
                i++;
            if (i < n && s[i] == (stack[d - 1] == '{' ? '}' : ']')) {
                i++;
                d--;
                break; /* empty container: a complete value */
            }
            if (stack[d - 1] == '{') {
                if (i >= n || s[i] != '"' || !json_quick_string(s, n, &i))
                    return 0;
                while (i < n && json_ws(s[i]))
                    i++;
                if (i >= n || s[i++] != ':')
                    return 0;
            }
            continue; /* its first member's value */
        case '"':
            if (!json_quick_string(s, n, &i))
                return 0;
            break;
        case 't':
            if (n - i < 4 || memcmp(s + i, "true", 4) != 0)
                return 0;
            i += 4;
            break;
        case 'f':
            if (n - i < 5 || memcmp(s + i, "false", 5) != 0)
                return 0;
            i += 5;
            break;
        case 'n':
            if (n - i < 4 || memcmp(s + i, "null", 4) != 0)
                return 0;
            i += 4;
            break;
        default:
            if (!json_quick_number(s, n, &i))
                return 0;
            break;
        }
        /* after a complete value: close containers or go to the next */
        for (;;) {
            while (i < n && json_ws(s[i]))
                i++;
            if (d == 0)
                return i == n ? 1 : 0;
            if (i >= n)
                return 0;
            if (s[i] == (stack[d - 1] == '{' ? '}' : ']')) {
                i++;
                d--;
                continue;
            }
            if (s[i++] != ',')
                return 0;
            if (stack[d - 1] == '{') {
                while (i < n && json_ws(s[i]))
                    i++;
                if (i >= n || s[i] != '"' || !json_quick_string(s, n, &i))
                    return 0;
                while (i < n && json_ws(s[i]))
                    i++;
                if (i >= n || s[i++] != ':')
                    return 0;
            }
            break; /* the next value */
        }
    }
}

/* How the data goes into the JSON form. */
enum json_data_form {
    JSON_DATA_NONE,
    JSON_DATA_RAW,
    JSON_DATA_STRING,
    JSON_DATA_B64
};

static enum json_data_form json_data_form(const struct sl_event *ev)
{
    const char *ct = sl_event_value(ev, "datacontenttype");

    if (!ev->has_data)
        return JSON_DATA_NONE;
    if (sl_ce_is_json_type(ct)) {
        struct json_object *tmp;
        if (ev->data_len == 0)
            return JSON_DATA_B64;
        if (json_quick_valid((const char *)ev->data, ev->data_len))
            return JSON_DATA_RAW;
        if (json_parse((const char *)ev->data, ev->data_len, &tmp, NULL) == 0) {
            json_object_put(tmp);
            return JSON_DATA_RAW;
        }
        return JSON_DATA_B64;
    }
    if (sl_utf8_valid(ev->data, ev->data_len, NULL))
        return JSON_DATA_STRING;
    return JSON_DATA_B64;
}

struct json_object *sl_ce_json_to_object(const struct sl_event *ev)
{
    struct json_object *obj = json_object_new_object();
    enum json_data_form form = json_data_form(ev);
    size_t i;

    for (i = 0; i < ev->nattrs; i++)
        json_object_object_add(obj, ev->attrs[i].name,
                               json_attr_value(&ev->attrs[i]));
    switch (form) {
    case JSON_DATA_NONE:
        break;
    case JSON_DATA_RAW: {
        struct json_object *d = NULL;
        json_parse((const char *)ev->data, ev->data_len, &d, NULL);
        json_object_object_add(obj, "data", d);
        break;
    }
    case JSON_DATA_STRING:
        json_object_object_add(obj, "data",
                               json_object_new_string_len(
                                   (const char *)ev->data, (int)ev->data_len));
        break;
    case JSON_DATA_B64: {
        struct sl_buf b;
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        sl_base64_encode(ev->data, ev->data_len, &b);
        if (ev->version == SL_CE_V03) {
            json_object_object_add(obj, "datacontentencoding",
                                   json_object_new_string("base64"));
            json_object_object_add(obj, "data",
                                   json_object_new_string(sl_buf_str(&b)));
        } else {
            json_object_object_add(obj, "data_base64",
                                   json_object_new_string(sl_buf_str(&b)));
        }
        sl_buf_fini(&b);
        break;
    }
    }
    return obj;
}

/*
 * Append s[0..n) as a JSON string, escaped as json-c escapes it with
 * JSON_C_TO_STRING_NOSLASHESCAPE: the short escapes, \u00xx (lower-case
 * hex) for other control bytes, everything else verbatim.
 */
static int json_put_string(struct sl_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    int rc = sl_buf_appendc(out, '"');

    for (i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = { '\\', 0 };
        size_t elen = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x20) {
                run++;
                continue;
            }
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            elen = 6;
            break;
        }
        rc = sl_buf_append(out, s + i - run, run);
        run = 0;
        if (rc == 0)
            rc = sl_buf_append(out, esc, elen);
    }
    if (rc == 0)
        rc = sl_buf_append(out, s + n - run, run);
    if (rc == 0)
        rc = sl_buf_appendc(out, '"');
    return rc;
}

/*
 * The common case written directly, byte for byte what the json-c path
 * below writes: a 1.0 event whose attributes do not collide with the data
 * members. Returns 1 when it did not apply (nothing appended).
 */
static int json_encode_direct(const struct sl_event *ev,
                              enum json_data_form form, struct sl_buf *out)
{
    size_t i;
    int rc;

    if (ev->version != SL_CE_V10)
        return 1;
    for (i = 0; i < ev->nattrs; i++)
        if (strcmp(ev->attrs[i].name, "data") == 0 ||
            strcmp(ev->attrs[i].name, "data_base64") == 0)
            return 1;
    rc = sl_buf_appendc(out, '{');
    for (i = 0; rc == 0 && i < ev->nattrs; i++) {
        const struct sl_ce_attr *a = &ev->attrs[i];
        if (i > 0)
            rc = sl_buf_appendc(out, ',');
        if (rc == 0)
            rc = json_put_string(out, a->name, strlen(a->name));
        if (rc == 0)
            rc = sl_buf_appendc(out, ':');
        if (rc < 0)
            break;
        switch (a->type) {
        case SL_CE_BOOL:
            rc = sl_buf_appends(out, a->value[0] == 't' ? "true" : "false");
            break;
        case SL_CE_INT: {
            /* as json_attr_value: digits folded into an int32 */
            int64_t v = 0;
            const char *p = a->value;
            bool neg = *p == '-';
            for (p += neg; *p; p++)
                v = v * 10 + (*p - '0');
            rc = sl_buf_appendf(out, "%d", (int)(int32_t)(neg ? -v : v));
            break;
        }
        default:
            rc = json_put_string(out, a->value, a->len);
            break;
        }
    }
    if (rc == 0 && form != JSON_DATA_NONE)
        rc = sl_buf_appends(out, form == JSON_DATA_B64 ? ",\"data_base64\":"
                                                       : ",\"data\":");
    if (rc == 0 && form == JSON_DATA_RAW)
        rc = sl_buf_append(out, ev->data, ev->data_len);
    if (rc == 0 && form == JSON_DATA_STRING)
        rc = json_put_string(out, (const char *)ev->data, ev->data_len);
    if (rc == 0 && form == JSON_DATA_B64) {
        rc = sl_buf_appendc(out, '"');
        if (rc == 0)
            rc = sl_base64_encode(ev->data, ev->data_len, out);
        if (rc == 0)
            rc = sl_buf_appendc(out, '"');
    }
    if (rc == 0)
        rc = sl_buf_appendc(out, '}');
    return rc;
}

int sl_ce_json_encode(const struct sl_event *ev, struct sl_buf *out)
{
    struct json_object *obj;
    const char *txt;
    size_t len;
    int rc;
    enum json_data_form form = json_data_form(ev);
    bool raw = form == JSON_DATA_RAW;

    rc = json_encode_direct(ev, form, out);
    if (rc <= 0)
        return rc;
    if (raw) {
        /* Attributes through json-c, then the data bytes verbatim. */
        struct sl_event tmp = *ev;
        tmp.has_data = false;
        obj = sl_ce_json_to_object(&tmp);
    } else {
        obj = sl_ce_json_to_object(ev);
    }
    txt = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (raw) {
        /* txt ends with '}'; an object always has specversion. */
        rc = sl_buf_append(out, txt, len - 1);
        if (rc == 0)
            rc = sl_buf_appends(out, ",\"data\":");
        if (rc == 0)
            rc = sl_buf_append(out, ev->data, ev->data_len);
        if (rc == 0)
            rc = sl_buf_appendc(out, '}');
    } else {
        rc = sl_buf_append(out, txt, len);
    }
    json_object_put(obj);
    return rc;
}

int sl_ce_json_encode_batch(struct sl_event *const *evs, size_t n,
                            struct sl_buf *out)
{
    size_t i;
    int rc;

    rc = sl_buf_appendc(out, '[');
    for (i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = sl_buf_appendc(out, ',');
        if (rc == 0)
            rc = sl_ce_json_encode(evs[i], out);
    }
    if (rc == 0)
        rc = sl_buf_appendc(out, ']');
    return rc;
}
