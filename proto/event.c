/*
 * proto/event.c - the CloudEvent model and the attribute rules of
 * CloudEvents v1.0.2 and v0.3.
 *
 * Attributes live in one array sorted by name, found by binary search;
 * an event rarely has more than a dozen, so this beats a hash map in
 * both memory and time. Values are canonical strings checked against
 * their type when set, so a built event only needs the required-attribute
 * check in sl_event_validate.
 */
#include "proto/event.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/utf8.h"

/* ---- core attribute tables ---- */

struct core_attr {
    const char *name;
    enum sl_ce_type type;
    bool required;
};

static const struct core_attr core_v10[] = {
    { "datacontenttype", SL_CE_STRING, false },
    { "dataschema", SL_CE_URI, false },
    { "id", SL_CE_STRING, true },
    { "source", SL_CE_URIREF, true },
    { "specversion", SL_CE_STRING, true },
    { "subject", SL_CE_STRING, false },
    { "time", SL_CE_TIME, false },
    { "type", SL_CE_STRING, true },
};

static const struct core_attr core_v03[] = {
    { "datacontentencoding", SL_CE_STRING, false },
    { "datacontenttype", SL_CE_STRING, false },
    { "id", SL_CE_STRING, true },
    { "schemaurl", SL_CE_URIREF, false },
    { "source", SL_CE_URIREF, true },
    { "specversion", SL_CE_STRING, true },
    { "subject", SL_CE_STRING, false },
    { "time", SL_CE_TIME, false },
    { "type", SL_CE_STRING, true },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct core_attr *event_core(const char *name,
                                          enum sl_ce_version v)
{
    const struct core_attr *t = v == SL_CE_V03 ? core_v03 : core_v10;
    size_t i, n = v == SL_CE_V03 ? NELEM(core_v03) : NELEM(core_v10);

    for (i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

int sl_ce_core_type(const char *name, enum sl_ce_version v)
{
    const struct core_attr *c = event_core(name, v);

    return c ? (int)c->type : -1;
}

const char *sl_ce_type_name(enum sl_ce_type t)
{
    switch (t) {
    case SL_CE_STRING:
        return "string";
    case SL_CE_BOOL:
        return "boolean";
    case SL_CE_INT:
        return "integer";
    case SL_CE_BINARY:
        return "binary";
    case SL_CE_URI:
        return "URI";
    case SL_CE_URIREF:
        return "URI-reference";
    case SL_CE_TIME:
        return "timestamp";
    }
    return "unknown";
}

int sl_ce_version_parse(const char *s, size_t n, enum sl_ce_version *out)
{
    if (n == 3 && memcmp(s, "1.0", 3) == 0)
        *out = SL_CE_V10;
    else if (n == 3 && memcmp(s, "0.3", 3) == 0)
        *out = SL_CE_V03;
    else
        return SL_EINVAL;
    return 0;
}

const char *sl_ce_version_str(enum sl_ce_version v)
{
    return v == SL_CE_V03 ? "0.3" : "1.0";
}

size_t sl_ce_max_size(const struct sl_ce_opts *opts)
{
    if (opts == NULL || opts->max_event_size == 0)
        return SL_CE_DEFAULT_MAX_EVENT_SIZE;
    return opts->max_event_size;
}

bool sl_ce_name_valid(const char *name, enum sl_ce_version v)
{
    const char *p;

    if (name[0] == '\0' || strcmp(name, "data") == 0)
        return false;
    if (v == SL_CE_V03 && !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    for (p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return false;
    return true;
}

/* ---- value checks ---- */

/* RFC 7230 tchar. */
static bool event_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *event_token(const char *p)
{
    while (event_tchar((unsigned char)*p))
        p++;
    return p;
}

static const char *event_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

bool sl_ce_media_type_valid(const char *s)
{
    const char *p = s, *q;

    q = event_token(p);
    if (q == p || *q != '/')
        return false;
    p = q + 1;
    q = event_token(p);
    if (q == p)
        return false;
    p = event_ows(q);
    while (*p == ';') {
        p = event_ows(p + 1);
        if (*p == '\0' || *p == ';')
            continue; /* tolerate "text/plain;" as Go's mime package does */
        q = event_token(p);
        if (q == p || *q != '=')
            return false;
        p = q + 1;
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (*p == '\0')
                    return false;
                if (*p == '\\' && p[1] != '\0')
                    p++;
            }
            p++;
        } else {
            q = event_token(p);
            if (q == p)
                return false;
            p = q;
        }
        p = event_ows(p);
    }
    return *p == '\0';
}

bool sl_ce_is_json_type(const char *content_type)
{
    const char *p, *slash, *end;
    size_t n;

    if (content_type == NULL)
        return true;
    p = event_ows(content_type);
    slash = strchr(p, '/');
    if (slash == NULL)
        return false;
    end = slash + 1;
    while (*end && *end != ';' && *end != ' ' && *end != '\t')
        end++;
    n = (size_t)(end - (slash + 1));
    if (n == 4 && sl_str_prefix_ci(slash + 1, "json"))
        return true;
    return n >= 5 && sl_str_prefix_ci(end - 5, "+json");
}

/*
 * A String value: valid UTF-8 without the control characters, and without
 * the noncharacters the type system excludes.
 */
static int event_check_string(const char *name, const char *s, size_t n,
                              struct sl_diag *diag)
{
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = sl_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (k == 0)
            return sl_diag_set(diag, SL_EINVAL, name,
                               "invalid UTF-8 at byte %zu", i);
        if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f))
            return sl_diag_set(diag, SL_EINVAL, name,
                               "control character U+%04X at byte %zu",
                               (unsigned)cp, i);
        if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
            return sl_diag_set(diag, SL_EINVAL, name,
                               "noncharacter U+%04X at byte %zu", (unsigned)cp,
                               i);
        i += k;
    }
    return 0;
}

/* RFC 3986 scheme ":" - enough to tell an absolute URI from a reference. */
static bool event_has_scheme(const char *s)
{
    const char *p = s;

    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return false;
    for (p++; *p && *p != ':'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))
            return false;
    return *p == ':';
}

/* URI characters must be printable ASCII without space (RFC 3986). */
static int event_check_uri_chars(const char *name, const char *s, size_t n,
                                 struct sl_diag *diag)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return sl_diag_set(diag, SL_EINVAL, name,
                               "invalid character 0x%02x at byte %zu in URI",
                               (unsigned char)s[i], i);
    return 0;
}

int sl_ce_check_value(const char *name, enum sl_ce_type type, const char *s,
                      size_t n, struct sl_diag *diag)
{
    char small[128], *z;
    int64_t v;
    int rc;

    if (memchr(s, '\0', n) != NULL)
        return sl_diag_set(diag, SL_EINVAL, name, "contains a NUL byte");
    /* Parsers below want a C string; 's' is only bounded by 'n'. */
    if (n < sizeof(small)) {
        memcpy(small, s, n);
        small[n] = '\0';
        z = small;
    } else {
        z = sl_xmemdup(s, n);
    }
    switch (type) {
    case SL_CE_STRING:
        rc = event_check_string(name, s, n, diag);
        break;
    case SL_CE_BOOL:
        rc = (n == 4 && memcmp(s, "true", 4) == 0) ||
                     (n == 5 && memcmp(s, "false", 5) == 0)
                 ? 0
                 : sl_diag_set(diag, SL_EINVAL, name,
                               "'%.*s' is not a boolean (true or false)",
                               (int)(n > 64 ? 64 : n), s);
        break;
    case SL_CE_INT:
        rc = sl_str_to_i64(s, n, false, INT32_MIN, INT32_MAX, &v);
        if (rc == 0 &&
            ((s[0] == '0' && n > 1) || (s[0] == '-' && (n < 2 || s[1] == '0'))))
            rc = SL_EINVAL; /* canonical form has no leading zeros */
        if (rc < 0)
            rc = sl_diag_set(diag, SL_EINVAL, name,
                             "'%.*s' is not a 32-bit integer",
                             (int)(n > 64 ? 64 : n), s);
        break;
    case SL_CE_BINARY: {
        struct sl_buf b;
        sl_buf_init(&b, n);
        rc = sl_base64_decode(s, n, &b, NULL);
        sl_buf_fini(&b);
        if (rc < 0)
            rc = sl_diag_set(diag, SL_EINVAL, name, "invalid Base64");
        break;
    }
    case SL_CE_URI:
        rc = event_check_uri_chars(name, s, n, diag);
        if (rc == 0 && !event_has_scheme(z))
            rc = sl_diag_set(diag, SL_EINVAL, name,
                             "'%.*s' is not an absolute URI",
                             (int)(n > 64 ? 64 : n), s);
        break;
    case SL_CE_URIREF:
        /* Sources in the wild carry spaces and non-ASCII (Go's url.Parse
         * takes them), so a URI-reference is any String here. */
        rc = event_check_string(name, s, n, diag);
        break;
    case SL_CE_TIME: {
        struct sl_timestamp ts;
        struct sl_diag d;
        rc = sl_time_parse_rfc3339(z, &ts, &d);
        if (rc < 0)
            rc = sl_diag_set(diag, SL_EINVAL, name,
                             "'%.*s' is not an RFC 3339 timestamp: %s",
                             (int)(n > 64 ? 64 : n), s, d.msg);
        break;
    }
    default:
        rc = sl_diag_set(diag, SL_EINVAL, name, "unknown type");
    }
    if (rc == 0 && strcmp(name, "datacontenttype") == 0 &&
        !sl_ce_media_type_valid(z))
        rc = sl_diag_set(diag, SL_EINVAL, name,
                         "'%.*s' is not a media type (type/subtype)",
                         (int)(n > 64 ? 64 : n), s);
    if (z != small)
        sl_free(z);
    if (rc < 0)
        return rc;
    if (n == 0 && (strcmp(name, "subject") == 0 ||
                   strcmp(name, "dataschema") == 0 || strcmp(name, "id") == 0 ||
                   strcmp(name, "source") == 0 || strcmp(name, "type") == 0))
        return sl_diag_set(diag, SL_EINVAL, name, "must not be empty");
    return 0;
}

/* ---- the event ---- */

struct sl_event *sl_event_new(enum sl_ce_version version)
{
    struct sl_event *ev = sl_xcalloc(1, sizeof(*ev));
    struct sl_ce_attr *a;

    ev->refs = 1;
    ev->version = version;
    ev->cap = 8;
    ev->attrs = sl_xcalloc(ev->cap, sizeof(*ev->attrs));
    a = &ev->attrs[ev->nattrs++];
    a->name = sl_xstrdup("specversion");
    a->value = sl_xstrdup(sl_ce_version_str(version));
    a->len = 3;
    a->type = SL_CE_STRING;
    return ev;
}

struct sl_event *sl_event_ref(struct sl_event *ev)
{
    __atomic_add_fetch(&ev->refs, 1, __ATOMIC_RELAXED);
    return ev;
}

void sl_event_unref(struct sl_event *ev)
{
    size_t i;

    if (ev == NULL || __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (i = 0; i < ev->nattrs; i++) {
        sl_free(ev->attrs[i].name);
        sl_free(ev->attrs[i].value);
    }
    sl_free(ev->attrs);
    sl_free(ev->data);
    sl_event_headers_clear(ev);
    sl_free(ev);
}

struct sl_event *sl_event_clone(const struct sl_event *ev)
{
    struct sl_event *c = sl_xcalloc(1, sizeof(*c));
    size_t i;

    c->refs = 1;
    c->version = ev->version;
    c->cap = ev->cap;
    c->nattrs = ev->nattrs;
    c->attrs = sl_xcalloc(c->cap, sizeof(*c->attrs));
    for (i = 0; i < ev->nattrs; i++) {
        c->attrs[i] = ev->attrs[i];
        c->attrs[i].name = sl_xstrdup(ev->attrs[i].name);
        c->attrs[i].value = sl_xmemdup(ev->attrs[i].value, ev->attrs[i].len);
    }
    if (ev->has_data)
        sl_event_set_data(c, ev->data, ev->data_len);
    /* Already within the rules and limits: every copy is taken. */
    for (i = 0; i < ev->nhdrs; i++)
        (void)sl_event_header_add(c, ev->hdrs[i].name, ev->hdrs[i].value);
    return c;
}

/* Index of 'name', or of where it would be inserted (with *found false). */
static size_t event_find(const struct sl_event *ev, const char *name,
                         bool *found)
{
    size_t lo = 0, hi = ev->nattrs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ev->attrs[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int sl_event_set(struct sl_event *ev, const char *name, enum sl_ce_type type,
                 const char *s, size_t n, struct sl_diag *diag)
{
    const struct core_attr *core;
    struct sl_ce_attr *a;
    bool found;
    size_t i;
    int rc;

    if (!sl_ce_name_valid(name, ev->version))
        return sl_diag_set(
            diag, SL_EINVAL, name,
            "invalid attribute name '%s': only a-z and 0-9 "
            "are allowed%s",
            name, ev->version == SL_CE_V03 ? ", starting with a letter" : "");
    if (strcmp(name, "specversion") == 0)
        return sl_diag_set(diag, SL_EINVAL, name,
                           "specversion follows the event's version");
    core = event_core(name, ev->version);
    if (core != NULL) {
        /* A string form of any core attribute is fine (binary mode); a
         * natively typed value must be of the attribute's own type. */
        if (type != SL_CE_STRING && type != core->type)
            return sl_diag_set(diag, SL_EINVAL, name, "must be a %s, not a %s",
                               sl_ce_type_name(core->type),
                               sl_ce_type_name(type));
        type = core->type;
    }
    rc = sl_ce_check_value(name, type, s, n, diag);
    if (rc < 0)
        return rc;
    i = event_find(ev, name, &found);
    if (found) {
        a = &ev->attrs[i];
        sl_free(a->value);
    } else {
        if (ev->nattrs == ev->cap) {
            ev->cap *= 2;
            ev->attrs = sl_xrealloc(ev->attrs, ev->cap * sizeof(*ev->attrs));
        }
        memmove(&ev->attrs[i + 1], &ev->attrs[i],
                (ev->nattrs - i) * sizeof(*ev->attrs));
        ev->nattrs++;
        a = &ev->attrs[i];
        a->name = sl_xstrdup(name);
    }
    a->value = sl_xmemdup(s, n);
    a->len = n;
    a->type = type;
    return 0;
}

int sl_event_set_str(struct sl_event *ev, const char *name, const char *s,
                     struct sl_diag *diag)
{
    return sl_event_set(ev, name, SL_CE_STRING, s, strlen(s), diag);
}

int sl_event_set_int(struct sl_event *ev, const char *name, int32_t v,
                     struct sl_diag *diag)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof(tmp), "%d", (int)v);

    return sl_event_set(ev, name, SL_CE_INT, tmp, (size_t)n, diag);
}

int sl_event_set_bool(struct sl_event *ev, const char *name, bool v,
                      struct sl_diag *diag)
{
    return sl_event_set(ev, name, SL_CE_BOOL, v ? "true" : "false", v ? 4 : 5,
                        diag);
}

int sl_event_del(struct sl_event *ev, const char *name)
{
    bool found;
    size_t i = event_find(ev, name, &found);

    if (!found || strcmp(name, "specversion") == 0)
        return SL_ENOENT;
    sl_free(ev->attrs[i].name);
    sl_free(ev->attrs[i].value);
    memmove(&ev->attrs[i], &ev->attrs[i + 1],
            (ev->nattrs - i - 1) * sizeof(*ev->attrs));
    ev->nattrs--;
    return 0;
}

void sl_event_set_data(struct sl_event *ev, const void *p, size_t n)
{
    sl_event_take_data(ev, sl_xmemdup(p, n), n);
}

void sl_event_take_data(struct sl_event *ev, void *p, size_t n)
{
    sl_free(ev->data);
    ev->data = p;
    ev->data_len = n;
    ev->has_data = true;
}

void sl_event_clear_data(struct sl_event *ev)
{
    sl_free(ev->data);
    ev->data = NULL;
    ev->data_len = 0;
    ev->has_data = false;
}

const struct sl_ce_attr *sl_event_get(const struct sl_event *ev,
                                      const char *name)
{
    bool found;
    size_t i = event_find(ev, name, &found);

    return found ? &ev->attrs[i] : NULL;
}

const char *sl_event_value(const struct sl_event *ev, const char *name)
{
    const struct sl_ce_attr *a = sl_event_get(ev, name);

    return a ? a->value : NULL;
}

int sl_event_validate(const struct sl_event *ev, struct sl_diag *diag)
{
    const struct core_attr *t = ev->version == SL_CE_V03 ? core_v03 : core_v10;
    size_t i, n = ev->version == SL_CE_V03 ? NELEM(core_v03) : NELEM(core_v10);

    for (i = 0; i < n; i++) {
        const struct sl_ce_attr *a;
        if (!t[i].required)
            continue;
        a = sl_event_get(ev, t[i].name);
        if (a == NULL)
            return sl_diag_set(diag, SL_EINVAL, t[i].name,
                               "missing required attribute '%s'", t[i].name);
        if (a->len == 0)
            return sl_diag_set(diag, SL_EINVAL, t[i].name,
                               "required attribute '%s' is empty", t[i].name);
    }
    return 0;
}

size_t sl_event_size(const struct sl_event *ev)
{
    size_t i, n = ev->data_len;

    for (i = 0; i < ev->nattrs; i++)
        n += strlen(ev->attrs[i].name) + ev->attrs[i].len;
    return n;
}

/* ---- lists ---- */

void sl_event_list_init(struct sl_event_list *l)
{
    l->v = NULL;
    l->n = 0;
    l->cap = 0;
}

void sl_event_list_push(struct sl_event_list *l, struct sl_event *ev)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = sl_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = ev;
}

void sl_event_list_fini(struct sl_event_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        sl_event_unref(l->v[i]);
    sl_free(l->v);
    sl_event_list_init(l);
}
