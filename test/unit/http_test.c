/*
 * test/unit/http_test.c - the CloudEvents HTTP protocol binding: the
 * conformance feature file and YAML samples (read from the data files),
 * every rejection a receiver must make, percent-encoding through the
 * binding, and round trips binary <-> structured <-> JSON.
 */
#include "test/unit/check.h"

#include <json-c/json.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/yaml.h"
#include "proto/http.h"
#include "proto/json.h"
#include "test/unit/feature.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define FEATURE_HTTP                                 \
    "test/conformance/cloudevents-samples/features/" \
    "http-protocol-binding.feature"

/* ---- a request under construction: copies of headers and a body ---- */

#define TREQ_MAX 64

struct treq {
    struct sl_http_header h[TREQ_MAX];
    size_t n;
    struct sl_buf body;
};

static void treq_init(struct treq *r)
{
    r->n = 0;
    sl_buf_init(&r->body, SL_BUF_UNLIMITED);
}

static void treq_add(struct treq *r, const char *name, const char *value)
{
    ASSERT(r->n < TREQ_MAX);
    r->h[r->n].name = sl_xstrdup(name);
    r->h[r->n].value = sl_xstrdup(value);
    r->n++;
}

/* Copy encoder output into 'r'. */
static void treq_from(struct treq *r, const struct sl_http_headers *hdrs,
                      const struct sl_buf *body)
{
    size_t i;

    treq_init(r);
    for (i = 0; i < hdrs->n; i++)
        treq_add(r, hdrs->v[i].name, hdrs->v[i].value);
    ASSERT_OK(sl_buf_append(&r->body, sl_buf_str(body), body->len));
}

static void treq_fini(struct treq *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        sl_free((char *)r->h[i].name);
        sl_free((char *)r->h[i].value);
    }
    sl_buf_fini(&r->body);
}

static struct sl_http_msg treq_msg(const struct treq *r)
{
    struct sl_http_msg m = { r->h, r->n, r->body.data, r->body.len };

    return m;
}

/*
 * Parse the text of an HTTP/1.1 request (request line, header lines, a
 * blank line, the body) into 'r'. Header values lose surrounding
 * whitespace, as an HTTP server strips it.
 */
static void treq_parse(struct treq *r, const char *text)
{
    const char *p = text, *eol, *colon;
    bool first = true;

    treq_init(r);
    for (;;) {
        char *name, *value;
        size_t len;
        eol = strchr(p, '\n');
        len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0)
            break;
        if (first) {
            ASSERT(strstr(p, "HTTP/1.1") != NULL &&
                   strstr(p, "HTTP/1.1") < p + len);
            first = false;
        } else {
            colon = memchr(p, ':', len);
            ASSERT(colon != NULL);
            name = sl_xstrndup(p, (size_t)(colon - p));
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                len--;
            value = sl_xstrndup(
                colon, p + len > colon ? (size_t)(p + len - colon) : 0);
            treq_add(r, name, value);
            sl_free(name);
            sl_free(value);
        }
        ASSERT(eol != NULL);
        p = eol + 1;
    }
    p = eol ? eol + 1 : p + strlen(p);
    ASSERT_OK(sl_buf_appends(&r->body, p));
}

static const char *treq_get(const struct treq *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (sl_str_eq_ci(r->h[i].name, name))
            return r->h[i].value;
    return NULL;
}

/* ---- decoding helpers ---- */

static struct sl_event *dec_req(const struct treq *r,
                                const struct sl_ce_opts *opts,
                                enum sl_ce_mode want_mode)
{
    struct sl_http_msg m = treq_msg(r);
    enum sl_ce_mode mode = SL_CE_BATCH_MODE + 1;
    struct sl_event_list l;
    struct sl_event *ev;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    sl_event_list_init(&l);
    rc = sl_ce_http_decode(&m, opts, &l, &mode, &d);
    if (rc != 0)
        CHECK_FAIL("decode failed: %s: %s: %s", sl_strerror(rc), d.field,
                   d.msg);
    ASSERT_EQ(mode, want_mode);
    ASSERT_EQ(l.n, 1);
    ev = sl_event_ref(l.v[0]);
    sl_event_list_fini(&l);
    return ev;
}

/* Decode headers h[0..n) and a C-string body (NULL: none). */
static struct sl_event *dec_ok(const struct sl_http_header *h, size_t n,
                               const char *body, enum sl_ce_mode want_mode)
{
    struct treq r;
    struct sl_event *ev;
    size_t i;

    treq_init(&r);
    for (i = 0; i < n; i++)
        treq_add(&r, h[i].name, h[i].value);
    if (body != NULL)
        ASSERT_OK(sl_buf_appends(&r.body, body));
    ev = dec_req(&r, NULL, want_mode);
    treq_fini(&r);
    return ev;
}

static void dec_fail_opts(const struct sl_http_header *h, size_t n,
                          const char *body, const struct sl_ce_opts *opts,
                          int want, const char *field)
{
    struct sl_http_msg m = { h, n, body, body ? strlen(body) : 0 };
    struct sl_event_list l;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    sl_event_list_init(&l);
    rc = sl_ce_http_decode(&m, opts, &l, NULL, &d);
    if (rc != want)
        CHECK_FAIL("decode: got %s want %s (%s: %s)", sl_errname(rc),
                   sl_errname(want), d.field, d.msg);
    ASSERT_EQ(l.n, 0);
    if (field != NULL && strcmp(d.field, field) != 0)
        CHECK_FAIL("decode: field '%s' want '%s' (%s)", d.field, field, d.msg);
    ASSERT(d.msg[0] != '\0');
    sl_event_list_fini(&l);
}

static void dec_fail(const struct sl_http_header *h, size_t n, const char *body,
                     int want, const char *field)
{
    dec_fail_opts(h, n, body, NULL, want, field);
}

/* Are p[0..n) and q[0..m) the same JSON value? */
static bool json_same(const void *p, size_t n, const void *q, size_t m)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *a, *b;
    bool same;

    a = json_tokener_parse_ex(tok, p, (int)n);
    json_tokener_reset(tok);
    b = json_tokener_parse_ex(tok, q, (int)m);
    json_tokener_free(tok);
    same = a != NULL && b != NULL && json_object_equal(a, b);
    json_object_put(a);
    json_object_put(b);
    return same;
}

/* Do the data of 'a' and 'b' agree? JSON data compares as JSON values. */
static void assert_same_data(const struct sl_event *a, const struct sl_event *b)
{
    ASSERT_EQ(a->has_data, b->has_data);
    if (sl_ce_is_json_type(sl_event_value(a, "datacontenttype")) &&
        json_same(a->data, a->data_len, a->data, a->data_len)) {
        if (!json_same(a->data, a->data_len, b->data, b->data_len))
            CHECK_FAIL("data differ as JSON: '%.*s' vs '%.*s'",
                       (int)a->data_len, (const char *)a->data,
                       (int)b->data_len, (const char *)b->data);
        return;
    }
    ASSERT_MEM_EQ(a->data, a->data_len, b->data, b->data_len);
}

/*
 * Same attributes (names, values, and types when 'types') and data.
 * A binary-mode hop loses extension types, so it compares without them.
 */
static void assert_same(const struct sl_event *a, const struct sl_event *b,
                        bool types)
{
    size_t i;

    ASSERT_EQ(a->version, b->version);
    ASSERT_EQ(a->nattrs, b->nattrs);
    for (i = 0; i < a->nattrs; i++) {
        ASSERT_STR_EQ(a->attrs[i].name, b->attrs[i].name);
        ASSERT_MEM_EQ(a->attrs[i].value, a->attrs[i].len, b->attrs[i].value,
                      b->attrs[i].len);
        if (types)
            ASSERT_EQ(a->attrs[i].type, b->attrs[i].type);
    }
    assert_same_data(a, b);
}

/* Encode 'ev' in 'mode' and decode the result. */
static struct sl_event *hop(const struct sl_event *ev, enum sl_ce_mode mode)
{
    struct sl_http_headers hdrs;
    struct sl_event *out;
    struct sl_buf body;
    struct treq r;

    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_http_encode(ev, mode, &hdrs, &body));
    treq_from(&r, &hdrs, &body);
    /* Binary mode may fall back to structured (see proto/http.c). */
    out = dec_req(&r, NULL,
                  sl_ce_http_mode(sl_http_headers_get(&hdrs, "Content-Type")));
    if (mode == SL_CE_STRUCTURED_MODE)
        ASSERT_EQ(sl_ce_http_mode(sl_http_headers_get(&hdrs, "Content-Type")),
                  SL_CE_STRUCTURED_MODE);
    treq_fini(&r);
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);
    return out;
}

/* Both hops, each checked against 'ev'. */
static void assert_round_trips(const struct sl_event *ev)
{
    struct sl_event *b = hop(ev, SL_CE_BINARY_MODE);
    struct sl_event *s = hop(ev, SL_CE_STRUCTURED_MODE);
    struct sl_event *bs = hop(b, SL_CE_STRUCTURED_MODE);
    struct sl_event *sb = hop(s, SL_CE_BINARY_MODE);

    assert_same(ev, b, false);
    assert_same(ev, s, true);
    assert_same(ev, bs, false);
    assert_same(ev, sb, false);
    sl_event_unref(b);
    sl_event_unref(s);
    sl_event_unref(bs);
    sl_event_unref(sb);
}

/* ---- the conformance feature file ---- */

TEST(feature_file)
{
    struct feature_file f;
    size_t i, r, binary = 0, structured = 0;

    feature_load(FEATURE_HTTP, &f);
    ASSERT(f.n > 0);
    for (i = 0; i < f.n; i++) {
        const struct feature_scenario *s = &f.v[i];
        const char *text = feature_given_doc(s);
        const struct feature_table *attrs =
            feature_table(s, "the attributes are:");
        const char *json =
            feature_doc(s, "the data is equal to the following JSON:");
        const char *clen;
        enum sl_ce_mode mode;
        struct sl_event *ev;
        struct treq req;

        if (text == NULL || attrs == NULL)
            CHECK_FAIL("scenario '%s' (line %zu) has no request or table",
                       s->name, s->line);
        ASSERT(strchr(s->name, '<') == NULL); /* placeholders replaced */
        treq_parse(&req, text);
        clen = treq_get(&req, "Content-Length");
        if (clen != NULL) {
            int64_t want;
            ASSERT_OK(
                sl_str_to_i64(clen, strlen(clen), false, 0, INT64_MAX, &want));
            ASSERT_EQ(want, req.body.len);
        }
        mode = sl_ce_http_mode(treq_get(&req, "Content-Type"));
        if (mode == SL_CE_BINARY_MODE)
            binary++;
        else
            structured++;
        ev = dec_req(&req, NULL, mode);
        /* Exactly the attributes of the table, no more. */
        ASSERT_EQ(ev->nattrs, attrs->nrows - 1);
        for (r = 1; r < attrs->nrows; r++) {
            const char *key = feature_cell(attrs, r, 0);
            if (sl_event_value(ev, key) == NULL)
                CHECK_FAIL("%s: attribute '%s' missing", s->name, key);
            ASSERT_STR_EQ(sl_event_value(ev, key), feature_cell(attrs, r, 1));
        }
        if (json != NULL) {
            ASSERT(ev->has_data);
            if (!json_same(ev->data, ev->data_len, json, strlen(json)))
                CHECK_FAIL("%s: data '%.*s' is not '%s'", s->name,
                           (int)ev->data_len, (const char *)ev->data, json);
        }
        assert_round_trips(ev);
        sl_event_unref(ev);
        treq_fini(&req);
    }
    ASSERT(binary > 0 && structured > 0);
    feature_free(&f);
}

/* The reader itself: outlines, backgrounds, docstrings, tables. */
TEST(feature_reader)
{
    static const char text[] = "@tag\n"
                               "Feature: F\n"
                               "  free text\n"
                               "  Background:\n"
                               "    Given something\n"
                               "  Scenario Outline: S <x>\n"
                               "    Given a doc\n"
                               "      \"\"\"\n"
                               "      a <x>\n"
                               "        b\n"
                               "      \"\"\"\n"
                               "    And Kafka headers:\n"
                               "      | key | value |\n"
                               "      | k\\|1 | <y> |\n"
                               "    Examples:\n"
                               "      | x | y |\n"
                               "      | 1 | one |\n"
                               "      | 2 | two |\n"
                               "  # comment\n"
                               "  Scenario: plain\n"
                               "    When nothing\n";
    static const char *bad[] = {
        "Feature: F\n  Given x\n",
        "Feature: F\n  Scenario: s\n    Given x\n      \"\"\"\n      a\n",
        "Feature: F\n  Scenario: s\n    Given x\n    | a | b |\n    | c |\n",
        "Feature: F\n  Scenario: s\n    | a |\n",
        "Feature: F\n  Scenario: s\n  Examples:\n",
    };
    struct feature_file f;
    struct sl_diag d;
    size_t i;

    ASSERT_OK(feature_parse(text, strlen(text), &f, &d));
    ASSERT_STR_EQ(f.name, "F");
    ASSERT_EQ(f.n, 3);
    ASSERT_STR_EQ(f.v[0].name, "S 1");
    ASSERT_STR_EQ(f.v[1].name, "S 2");
    ASSERT_EQ(f.v[1].index, 2);
    ASSERT_STR_EQ(f.v[2].name, "plain");
    ASSERT_EQ(f.v[2].nsteps, 2);
    ASSERT_STR_EQ(f.v[2].steps[0].text, "something");
    ASSERT_EQ(f.v[0].nsteps, 3);
    ASSERT_STR_EQ(feature_given_doc(&f.v[1]), "a 2\n  b");
    ASSERT_STR_EQ(
        feature_table_get(feature_table(&f.v[0], "Kafka headers:"), "k|1"),
        "one");
    ASSERT_STR_EQ(
        feature_table_get(feature_table(&f.v[1], "And Kafka headers:"), "k|1"),
        "two");
    ASSERT(feature_table(&f.v[2], "Kafka headers:") == NULL);
    ASSERT(feature_doc(&f.v[2], "nothing") == NULL);
    feature_free(&f);
    for (i = 0; i < NELEM(bad); i++) {
        if (feature_parse(bad[i], strlen(bad[i]), &f, &d) != SL_EINVAL)
            CHECK_FAIL("bad feature %zu parsed", i);
        ASSERT(strstr(d.msg, "line ") != NULL);
    }
}

/* ---- the conformance YAML samples ---- */

/*
 * A YAML scalar as the conformance tool reads it into a Go string:
 * 'specversion: 1.0' is the text "1.0", not a number.
 */
static char *yaml_text(struct json_object *v)
{
    char tmp[64];

    switch (json_object_get_type(v)) {
    case json_type_string:
        return sl_xstrdup(json_object_get_string(v));
    case json_type_double:
        snprintf(tmp, sizeof(tmp), "%.15g", json_object_get_double(v));
        if (strpbrk(tmp, ".eEn") == NULL)
            sl_strlcpy(tmp + strlen(tmp), ".0", sizeof(tmp) - strlen(tmp));
        return sl_xstrdup(tmp);
    case json_type_null:
        return sl_xstrdup("");
    default:
        return sl_xstrdup(json_object_to_json_string(v));
    }
}

/* Go's strings.TrimSpace, in place (the tool trims every value). */
static char *trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        s[--n] = '\0';
    while (s[i] != '\0' && strchr(" \t\r\n", s[i]) != NULL)
        i++;
    memmove(s, s + i, n - i + 1);
    return s;
}

/* Expected attributes of one sample, name -> value. */
struct expect {
    char *name[32];
    char *value[32];
    size_t n;
};

static void expect_add(struct expect *e, const char *name,
                       struct json_object *v)
{
    char *value = trim(yaml_text(v));

    if (value[0] == '\0') { /* the tool skips empty values */
        sl_free(value);
        return;
    }
    ASSERT(e->n < NELEM(e->name));
    e->name[e->n] = sl_str_lower(sl_xstrdup(name));
    e->value[e->n] = value;
    e->n++;
}

static void expect_fini(struct expect *e)
{
    size_t i;

    for (i = 0; i < e->n; i++) {
        sl_free(e->name[i]);
        sl_free(e->value[i]);
    }
}

/* Build the request the conformance tool sends for one YAML document. */
static void yaml_request(struct json_object *doc, const struct expect *e,
                         bool structured, struct treq *r)
{
    struct json_object *data = NULL, *te = NULL, *obj;
    const char *ct = NULL, *text;
    size_t i;

    treq_init(r);
    json_object_object_get_ex(doc, "Data", &data);
    text = data ? json_object_get_string(data) : "";
    for (i = 0; i < e->n; i++)
        if (strcmp(e->name[i], "datacontenttype") == 0)
            ct = e->value[i];
    if (!structured) {
        for (i = 0; i < e->n; i++) {
            char hname[128];
            if (strcmp(e->name[i], "datacontenttype") == 0) {
                treq_add(r, "Content-Type", e->value[i]);
                continue;
            }
            snprintf(hname, sizeof(hname), "ce-%s", e->name[i]);
            treq_add(r, hname, e->value[i]);
        }
        ASSERT_OK(sl_buf_appends(&r->body, text));
    } else {
        obj = json_object_new_object();
        for (i = 0; i < e->n; i++)
            json_object_object_add(obj, e->name[i],
                                   json_object_new_string(e->value[i]));
        if (data != NULL && sl_ce_is_json_type(ct)) {
            struct json_object *d = json_tokener_parse(text);
            ASSERT(d != NULL);
            json_object_object_add(obj, "data", d);
        } else if (data != NULL) {
            json_object_object_add(obj, "data", json_object_new_string(text));
        }
        ASSERT_OK(sl_buf_appends(&r->body, json_object_to_json_string(obj)));
        json_object_put(obj);
        treq_add(r, "Content-Type", "application/cloudevents+json");
    }
    if (json_object_object_get_ex(doc, "TransportExtensions", &te) &&
        te != NULL) {
        json_object_object_foreach(te, k, v)
        {
            char *value = trim(yaml_text(v));
            if (value[0] != '\0')
                treq_add(r, k, value);
            sl_free(value);
        }
    }
}

static size_t yaml_file(const char *path)
{
    struct json_object *docs = NULL;
    struct sl_diag d;
    size_t len, i, j;
    char *text = check_read_file(path, &len);

    sl_diag_clear(&d);
    if (sl_yaml_to_json(text, len, &docs, &d) != 0)
        CHECK_FAIL("%s: %s", path, d.msg);
    sl_free(text);
    for (i = 0; i < json_object_array_length(docs); i++) {
        struct json_object *doc = json_object_array_get_idx(docs, i);
        struct json_object *mode = NULL, *ca = NULL, *data = NULL;
        bool structured;
        struct expect e = { { NULL }, { NULL }, 0 };
        struct sl_event *ev;
        struct treq r;

        ASSERT(json_object_object_get_ex(doc, "ContextAttributes", &ca));
        structured = json_object_object_get_ex(doc, "Mode", &mode) &&
                     strcmp(json_object_get_string(mode), "structured") == 0;
        json_object_object_foreach(ca, k, v)
        {
            if (strcmp(k, "Extensions") != 0) {
                expect_add(&e, k, v);
                continue;
            }
            json_object_object_foreach(v, xk, xv)
            {
                expect_add(&e, xk, xv);
            }
        }
        yaml_request(doc, &e, structured, &r);
        ev = dec_req(&r, NULL,
                     structured ? SL_CE_STRUCTURED_MODE : SL_CE_BINARY_MODE);
        /* Every attribute of the sample, and nothing else (no user-agent). */
        ASSERT_EQ(ev->nattrs, e.n);
        for (j = 0; j < e.n; j++) {
            if (sl_event_value(ev, e.name[j]) == NULL)
                CHECK_FAIL("%s doc %zu: attribute '%s' missing", path, i,
                           e.name[j]);
            ASSERT_STR_EQ(sl_event_value(ev, e.name[j]), e.value[j]);
        }
        ASSERT(json_object_object_get_ex(doc, "Data", &data));
        if (structured)
            ASSERT(json_same(ev->data, ev->data_len,
                             json_object_get_string(data),
                             (size_t)json_object_get_string_len(data)));
        else
            ASSERT_MEM_EQ(ev->data, ev->data_len, json_object_get_string(data),
                          (size_t)json_object_get_string_len(data));
        assert_round_trips(ev);
        sl_event_unref(ev);
        treq_fini(&r);
        expect_fini(&e);
    }
    len = json_object_array_length(docs);
    json_object_put(docs);
    return len;
}

TEST(yaml_samples)
{
    static const char *files[] = {
        "test/conformance/cloudevents-samples/yaml/v1.yaml",
        "test/conformance/cloudevents-samples/yaml/v03.yaml",
        "test/conformance/cloudevents-samples/yaml/v1.0/v1_minimum.yaml",
        "test/conformance/cloudevents-samples/yaml/v0.3/v03_minimum.yaml",
    };
    size_t i;

    for (i = 0; i < NELEM(files); i++)
        ASSERT(yaml_file(files[i]) > 0);
}

/* ---- mode detection ---- */

TEST(mode_detection)
{
    ASSERT_EQ(sl_ce_http_mode(NULL), SL_CE_BINARY_MODE);
    ASSERT_EQ(sl_ce_http_mode("application/json"), SL_CE_BINARY_MODE);
    ASSERT_EQ(sl_ce_http_mode("application/cloudevents+json"),
              SL_CE_STRUCTURED_MODE);
    ASSERT_EQ(sl_ce_http_mode("Application/CloudEvents+JSON; charset=utf-8"),
              SL_CE_STRUCTURED_MODE);
    ASSERT_EQ(sl_ce_http_mode("application/cloudevents+avro"),
              SL_CE_STRUCTURED_MODE);
    ASSERT_EQ(sl_ce_http_mode("application/cloudevents-batch+json"),
              SL_CE_BATCH_MODE);
    ASSERT_EQ(sl_ce_http_mode("APPLICATION/CLOUDEVENTS-BATCH+JSON"),
              SL_CE_BATCH_MODE);
}

/* ---- binary mode ---- */

#define HDR_MIN                                                           \
    { "ce-specversion", "1.0" }, { "ce-id", "1" }, { "ce-source", "/s" }, \
    {                                                                     \
        "ce-type", "t"                                                    \
    }

TEST(binary_basic)
{
    static const struct sl_http_header h[] = {
        { "Ce-Specversion", "1.0" },
        { "CE-ID", "a-1" },
        { "ce-Source", "https://example.com/src" },
        { "ce-type", "com.example" },
        { "ce-subject", "sub" },
        { "ce-time", "2018-04-05T17:31:00Z" },
        { "ce-dataschema", "https://example.com/schema" },
        { "ce-myext", "x" },
        { "Content-Type", "text/plain; charset=utf-8" },
        { "Host", "example.com" },
        { "traceparent",
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    };
    struct sl_event *ev = dec_ok(h, NELEM(h), "hello", SL_CE_BINARY_MODE);

    ASSERT_EQ(ev->version, SL_CE_V10);
    ASSERT_EQ(ev->nattrs, 9);
    ASSERT_STR_EQ(sl_event_id(ev), "a-1");
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"),
                  "text/plain; charset=utf-8");
    ASSERT_EQ(sl_event_get(ev, "time")->type, SL_CE_TIME);
    ASSERT_EQ(sl_event_get(ev, "dataschema")->type, SL_CE_URI);
    ASSERT_EQ(sl_event_get(ev, "myext")->type, SL_CE_STRING);
    ASSERT(sl_event_get(ev, "traceparent") == NULL);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "hello", 5);
    assert_round_trips(ev);
    sl_event_unref(ev);
}

/* An empty body is no data (sdk-go, Knative); the content type stays. */
TEST(binary_empty_body)
{
    static const struct sl_http_header h[] = {
        HDR_MIN,
        { "Content-Type", "application/json" },
    };
    struct sl_event *ev = dec_ok(h, NELEM(h), "", SL_CE_BINARY_MODE);
    struct sl_event *again;

    ASSERT(!ev->has_data);
    ASSERT_STR_EQ(sl_event_value(ev, "datacontenttype"), "application/json");
    sl_event_unref(ev);
    ev = dec_ok(h, NELEM(h), NULL, SL_CE_BINARY_MODE);
    ASSERT(!ev->has_data);
    /* Zero-length data does not survive a binary hop, by that rule. */
    sl_event_set_data(ev, "", 0);
    again = hop(ev, SL_CE_BINARY_MODE);
    ASSERT(!again->has_data);
    sl_event_unref(again);
    sl_event_unref(ev);
}

/* An empty Content-Type counts as absent, as in sdk-go. */
TEST(binary_empty_content_type)
{
    static const struct sl_http_header h[] = {
        HDR_MIN,
        { "Content-Type", "" },
    };
    struct sl_event *ev = dec_ok(h, NELEM(h), "x", SL_CE_BINARY_MODE);

    ASSERT(sl_event_get(ev, "datacontenttype") == NULL);
    sl_event_unref(ev);
}

TEST(binary_duplicates)
{
    static const struct sl_http_header same[] = {
        HDR_MIN,
        { "ce-subject", "a b" },
        { "CE-SUBJECT", "a%20b" },
        { "ce-specversion", "1.0" },
        { "content-type", "text/plain" },
        { "Content-Type", "text/plain" },
    };
    static const struct sl_http_header diff[] = {
        HDR_MIN,
        { "ce-subject", "a" },
        { "Ce-Subject", "b" },
    };
    static const struct sl_http_header diff_sv[] = {
        HDR_MIN,
        { "ce-specversion", "0.3" },
    };
    static const struct sl_http_header diff_ct[] = {
        HDR_MIN,
        { "content-type", "text/plain" },
        { "Content-Type", "text/html" },
    };
    struct sl_event *ev = dec_ok(same, NELEM(same), "x", SL_CE_BINARY_MODE);

    ASSERT_STR_EQ(sl_event_value(ev, "subject"), "a b");
    sl_event_unref(ev);
    dec_fail(diff, NELEM(diff), NULL, SL_EINVAL, "ce-subject");
    dec_fail(diff_sv, NELEM(diff_sv), NULL, SL_EINVAL, "ce-specversion");
    dec_fail(diff_ct, NELEM(diff_ct), NULL, SL_EINVAL, "content-type");
}

TEST(binary_v03)
{
    static const struct sl_http_header h[] = {
        { "ce-specversion", "0.3" },   { "ce-id", "1" },
        { "ce-source", "/s" },         { "ce-type", "t" },
        { "ce-schemaurl", "/schema" }, { "ce-datacontentencoding", "base64" },
    };
    static const struct sl_http_header digit[] = {
        { "ce-specversion", "0.3" }, { "ce-id", "1" }, { "ce-source", "/s" },
        { "ce-type", "t" },          { "ce-1x", "v" },
    };
    struct sl_event *ev = dec_ok(h, NELEM(h), "raw", SL_CE_BINARY_MODE);

    ASSERT_EQ(ev->version, SL_CE_V03);
    ASSERT_STR_EQ(sl_event_value(ev, "schemaurl"), "/schema");
    /* Ignored: a binary body is bytes, not a Base64 string (0.3 spec). */
    ASSERT(sl_event_get(ev, "datacontentencoding") == NULL);
    ASSERT_MEM_EQ(ev->data, ev->data_len, "raw", 3);
    assert_round_trips(ev);
    sl_event_unref(ev);
    /* 0.3 names start with a letter. */
    dec_fail(digit, NELEM(digit), NULL, SL_EINVAL, "ce-1x");
}

/* ---- rejections (400, 413, 415 material) ---- */

TEST(reject_missing_required)
{
    static const struct sl_http_header no_id[] = {
        { "ce-specversion", "1.0" },
        { "ce-source", "/s" },
        { "ce-type", "t" },
    };
    static const struct sl_http_header no_source[] = {
        { "ce-specversion", "1.0" },
        { "ce-id", "1" },
        { "ce-type", "t" },
    };
    static const struct sl_http_header no_type[] = {
        { "ce-specversion", "1.0" },
        { "ce-id", "1" },
        { "ce-source", "/s" },
    };
    static const struct sl_http_header no_sv[] = {
        { "ce-id", "1" },
        { "ce-source", "/s" },
        { "ce-type", "t" },
    };
    static const struct sl_http_header empty_id[] = {
        { "ce-specversion", "1.0" },
        { "ce-id", "" },
        { "ce-source", "/s" },
        { "ce-type", "t" },
    };
    static const struct sl_http_header bad_sv[] = {
        { "ce-specversion", "2.0" },
        { "ce-id", "1" },
        { "ce-source", "/s" },
        { "ce-type", "t" },
    };

    dec_fail(no_id, NELEM(no_id), "x", SL_EINVAL, "ce-id");
    dec_fail(no_source, NELEM(no_source), "x", SL_EINVAL, "ce-source");
    dec_fail(no_type, NELEM(no_type), "x", SL_EINVAL, "ce-type");
    dec_fail(no_sv, NELEM(no_sv), "x", SL_EINVAL, "ce-specversion");
    dec_fail(empty_id, NELEM(empty_id), "x", SL_EINVAL, "ce-id");
    dec_fail(bad_sv, NELEM(bad_sv), "x", SL_EINVAL, "ce-specversion");
    /* No headers at all: not a CloudEvent. */
    dec_fail(NULL, 0, "x", SL_EINVAL, "ce-specversion");
}

TEST(reject_bad_values)
{
    static const struct sl_http_header subject[] = { HDR_MIN,
                                                     { "ce-subject", "" } };
    static const struct sl_http_header schema[] = {
        HDR_MIN, { "ce-dataschema", "/relative/schema" }
    };
    static const struct sl_http_header bad_time[] = {
        HDR_MIN, { "ce-time", "yesterday" }
    };
    static const struct sl_http_header media[] = {
        HDR_MIN, { "Content-Type", "not a media type" }
    };
    static const struct sl_http_header name[] = { HDR_MIN, { "ce-a_b", "x" } };
    static const struct sl_http_header upper[] = { HDR_MIN,
                                                   { "ce-A%62", "x" } };
    static const struct sl_http_header empty_name[] = { HDR_MIN,
                                                        { "ce-", "x" } };
    static const struct sl_http_header dct[] = {
        HDR_MIN, { "ce-datacontenttype", "text/plain" }
    };
    static const struct sl_http_header overlong[] = {
        HDR_MIN, { "ce-subject", "%C0%A0" }
    };
    static const struct sl_http_header bad_escape[] = {
        HDR_MIN, { "ce-subject", "100%" }
    };
    static const struct sl_http_header nul[] = { HDR_MIN,
                                                 { "ce-subject", "a%00b" } };
    static const struct sl_http_header ctl[] = { HDR_MIN,
                                                 { "ce-subject", "a\x01" } };
    static const struct sl_http_header data_name[] = { HDR_MIN,
                                                       { "ce-data", "x" } };

    dec_fail(subject, NELEM(subject), NULL, SL_EINVAL, "ce-subject");
    dec_fail(schema, NELEM(schema), NULL, SL_EINVAL, "ce-dataschema");
    dec_fail(bad_time, NELEM(bad_time), NULL, SL_EINVAL, "ce-time");
    dec_fail(media, NELEM(media), NULL, SL_EINVAL, "content-type");
    dec_fail(name, NELEM(name), NULL, SL_EINVAL, "ce-a_b");
    dec_fail(upper, NELEM(upper), NULL, SL_EINVAL, "ce-a%62");
    dec_fail(empty_name, NELEM(empty_name), NULL, SL_EINVAL, "ce-");
    dec_fail(dct, NELEM(dct), NULL, SL_EINVAL, "ce-datacontenttype");
    dec_fail(overlong, NELEM(overlong), NULL, SL_EINVAL, "ce-subject");
    dec_fail(bad_escape, NELEM(bad_escape), NULL, SL_EINVAL, "ce-subject");
    dec_fail(nul, NELEM(nul), NULL, SL_EINVAL, "ce-subject");
    dec_fail(ctl, NELEM(ctl), NULL, SL_EINVAL, "ce-subject");
    dec_fail(data_name, NELEM(data_name), NULL, SL_EINVAL, "ce-data");
}

TEST(reject_too_big)
{
    static const struct sl_http_header h[] = { HDR_MIN };
    static const struct sl_http_header sj[] = {
        { "Content-Type", "application/cloudevents+json" }
    };
    struct sl_ce_opts opts = { .max_event_size = 100 };
    char big[256], hdr[256];
    struct sl_http_header hb[] = { HDR_MIN, { "ce-big", hdr } };

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memset(hdr, 'y', sizeof(hdr) - 1);
    hdr[sizeof(hdr) - 1] = '\0';
    /* The body alone, the attributes alone, and both together. */
    dec_fail_opts(h, NELEM(h), big, &opts, SL_ETOOBIG, NULL);
    dec_fail_opts(hb, NELEM(hb), NULL, &opts, SL_ETOOBIG, NULL);
    big[80] = '\0';
    hdr[40] = '\0';
    dec_fail_opts(hb, NELEM(hb), big, &opts, SL_ETOOBIG, NULL);
    big[80] = 'x';
    dec_fail_opts(sj, NELEM(sj), big, &opts, SL_ETOOBIG, NULL);
    /* Within the limit. */
    big[20] = '\0';
    hdr[20] = '\0';
    {
        struct sl_http_msg m = { hb, NELEM(hb), big, strlen(big) };
        struct sl_event_list l;
        sl_event_list_init(&l);
        ASSERT_OK(sl_ce_http_decode(&m, &opts, &l, NULL, NULL));
        ASSERT_EQ(l.n, 1);
        sl_event_list_fini(&l);
    }
}

TEST(reject_structured)
{
    static const struct sl_http_header avro[] = {
        { "Content-Type", "application/cloudevents+avro" }
    };
    static const struct sl_http_header bare[] = {
        { "Content-Type", "application/cloudevents" }
    };
    static const struct sl_http_header bavro[] = {
        { "Content-Type", "application/cloudevents-batch+avro" }
    };
    static const struct sl_http_header sj[] = {
        { "Content-Type", "application/cloudevents+json; charset=utf-8" }
    };
    static const struct sl_http_header bj[] = {
        { "Content-Type", "application/cloudevents-batch+json" }
    };

    dec_fail(avro, NELEM(avro), "{}", SL_ENOTSUP, "content-type");
    dec_fail(bare, NELEM(bare), "{}", SL_ENOTSUP, "content-type");
    dec_fail(bavro, NELEM(bavro), "[]", SL_ENOTSUP, "content-type");
    dec_fail(sj, NELEM(sj), "not json", SL_EINVAL, "body");
    dec_fail(sj, NELEM(sj), "", SL_EINVAL, "body");
    dec_fail(sj, NELEM(sj), NULL, SL_EINVAL, "body");
    dec_fail(sj, NELEM(sj), "[]", SL_EINVAL, "body");
    dec_fail(sj, NELEM(sj),
             "{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":\"t\"}",
             SL_EINVAL, "id");
    dec_fail(sj, NELEM(sj),
             "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
             "\"type\":\"t\",\"data\":1,\"data_base64\":\"AA==\"}",
             SL_EINVAL, "data_base64");
    dec_fail(bj, NELEM(bj),
             "[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
             "\"type\":\"t\"},{\"specversion\":\"0.3\",\"id\":\"2\","
             "\"source\":\"/s\",\"type\":\"t\"}]",
             SL_EINVAL, "[1].specversion");
    dec_fail(bj, NELEM(bj), "{}", SL_EINVAL, "body");
}

/* ---- structured and batched mode ---- */

TEST(structured_ignores_headers)
{
    static const struct sl_http_header h[] = {
        { "Content-Type", "application/cloudevents+json" },
        { "ce-id", "header-id" },
        { "ce-a_b", "not even valid" },
    };
    struct sl_event *ev =
        dec_ok(h, NELEM(h),
               "{\"specversion\":\"1.0\",\"id\":\"body-id\",\"source\":\"/s\","
               "\"type\":\"t\"}",
               SL_CE_STRUCTURED_MODE);

    /* The body is authoritative. */
    ASSERT_STR_EQ(sl_event_id(ev), "body-id");
    ASSERT(!ev->has_data);
    sl_event_unref(ev);
}

TEST(batch)
{
    static const char body[] =
        "[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\","
        "\"type\":\"t\",\"data\":{\"a\":1}},"
        "{\"specversion\":\"1.0\",\"id\":\"2\",\"source\":\"/s\","
        "\"type\":\"t\",\"myint\":7}]";
    static const struct sl_http_header h[] = {
        { "Content-Type", "application/cloudevents-batch+json" }
    };
    struct sl_http_msg m = { h, NELEM(h), body, strlen(body) };
    struct sl_http_msg empty = { h, NELEM(h), "[]", 2 };
    struct sl_http_headers hdrs;
    enum sl_ce_mode mode = SL_CE_BINARY_MODE;
    struct sl_event_list l, l2;
    struct sl_buf out;
    struct sl_http_msg m2;
    struct treq r;
    size_t i;

    sl_event_list_init(&l);
    ASSERT_OK(sl_ce_http_decode(&m, NULL, &l, &mode, NULL));
    ASSERT_EQ(mode, SL_CE_BATCH_MODE);
    ASSERT_EQ(l.n, 2);
    ASSERT_OK(sl_ce_http_decode(&empty, NULL, &l, NULL, NULL));
    ASSERT_EQ(l.n, 2); /* appended nothing */

    sl_http_headers_init(&hdrs);
    sl_buf_init(&out, SL_BUF_UNLIMITED);
    ASSERT_EQ(sl_ce_http_encode(l.v[0], SL_CE_BATCH_MODE, &hdrs, &out),
              SL_EINVAL);
    ASSERT_OK(sl_ce_http_encode_batch(l.v, l.n, &hdrs, &out));
    ASSERT_EQ(sl_ce_http_mode(sl_http_headers_get(&hdrs, "content-type")),
              SL_CE_BATCH_MODE);
    treq_from(&r, &hdrs, &out);
    m2 = treq_msg(&r);
    sl_event_list_init(&l2);
    ASSERT_OK(sl_ce_http_decode(&m2, NULL, &l2, NULL, NULL));
    ASSERT_EQ(l2.n, l.n);
    for (i = 0; i < l.n; i++)
        assert_same(l.v[i], l2.v[i], true);
    sl_event_list_fini(&l2);
    treq_fini(&r);
    sl_buf_fini(&out);
    sl_http_headers_fini(&hdrs);
    sl_event_list_fini(&l);
}

/* ---- percent-encoding through the binding ---- */

TEST(pct_encode_headers)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct sl_http_headers hdrs;
    struct sl_buf body;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    /* The spec's vector (binding section 3.1.3.2). */
    ASSERT_OK(sl_event_set_str(ev, "subject",
                               "Euro \xE2\x82\xAC \xF0\x9F\x98\x80", NULL));
    ASSERT_OK(sl_event_set_str(ev, "quote", "say \"hi\" 100%", NULL));
    ASSERT_OK(sl_event_set_str(ev, "plain", "a-b_c.d~e!f", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype", "text/plain", NULL));
    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_http_encode(ev, SL_CE_BINARY_MODE, &hdrs, &body));
    ASSERT_STR_EQ(hdrs.v[0].name, "ce-specversion");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-subject"),
                  "Euro%20%E2%82%AC%20%F0%9F%98%80");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-quote"),
                  "say%20%22hi%22%20100%25");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-plain"), "a-b_c.d~e!f");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "Content-Type"), "text/plain");
    ASSERT(sl_http_headers_get(&hdrs, "ce-datacontenttype") == NULL);
    ASSERT_EQ(body.len, 0); /* no data, no body */
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);
    assert_round_trips(ev);
    sl_event_unref(ev);
}

TEST(pct_decode_headers)
{
    static const struct sl_http_header h[] = {
        HDR_MIN,
        { "ce-lower", "%e2%82%ac%f0%9f%98%80" },
        { "ce-needless", "%41%42c" },
        { "ce-quoted", "\"a \\\"b\\\" %20c\"" },
        { "ce-raw", "caf\xC3\xA9 au lait" },
        { "ce-space", "a b" },
        { "ce-pctpct", "%2520" },
    };
    static const struct sl_http_header raw[] = {
        HDR_MIN,
        { "ce-raw", "caf\xC3\xA9" },
    };
    static const struct sl_http_header bad_raw[] = {
        HDR_MIN,
        { "ce-raw", "caf\xE9" },
    };
    static const struct sl_http_header unterminated[] = {
        HDR_MIN,
        { "ce-q", "\"abc" },
    };
    struct sl_ce_opts strict = { .strict_headers = true };
    struct sl_event *ev = dec_ok(h, NELEM(h), NULL, SL_CE_BINARY_MODE);

    ASSERT_STR_EQ(sl_event_value(ev, "lower"), "\xE2\x82\xAC\xF0\x9F\x98\x80");
    ASSERT_STR_EQ(sl_event_value(ev, "needless"), "ABc");
    ASSERT_STR_EQ(sl_event_value(ev, "quoted"), "a \"b\"  c");
    ASSERT_STR_EQ(sl_event_value(ev, "raw"), "caf\xC3\xA9 au lait");
    ASSERT_STR_EQ(sl_event_value(ev, "space"), "a b");
    ASSERT_STR_EQ(sl_event_value(ev, "pctpct"), "%20"); /* one round only */
    assert_round_trips(ev);
    sl_event_unref(ev);
    /* Raw UTF-8: accepted leniently (Go and Java senders), not strictly. */
    dec_fail_opts(raw, NELEM(raw), NULL, &strict, SL_EINVAL, "ce-raw");
    dec_fail(bad_raw, NELEM(bad_raw), NULL, SL_EINVAL, "ce-raw");
    dec_fail(unterminated, NELEM(unterminated), NULL, SL_EINVAL, "ce-q");
}

/* ---- round trips binary <-> structured <-> JSON ---- */

TEST(round_trip_typed_extensions)
{
    static const char json[] =
        "{\"specversion\":\"1.0\",\"id\":\"id-1\",\"source\":\"urn:x\","
        "\"type\":\"t\",\"subject\":\"s u b\",\"time\":"
        "\"2018-04-05T17:31:00.123+02:00\",\"dataschema\":"
        "\"https://example.com/s\",\"datacontenttype\":\"application/json\","
        "\"myint\":42,\"mybool\":true,\"mystr\":\"a\\\"b\","
        "\"data\":{\"x\":[1,2,\"\\u20ac\"]}}";
    static const struct sl_http_header sj[] = {
        { "Content-Type", "application/cloudevents+json" }
    };
    struct sl_event *ev = dec_ok(sj, NELEM(sj), json, SL_CE_STRUCTURED_MODE);
    struct sl_event *bin, *st, *viajson;
    struct sl_http_headers hdrs;
    struct sl_buf body;

    ASSERT_EQ(sl_event_get(ev, "myint")->type, SL_CE_INT);
    ASSERT_EQ(sl_event_get(ev, "mybool")->type, SL_CE_BOOL);

    /*
     * Binary mode: headers carry strings only, so an Integer or Boolean
     * extension becomes a String on the far side. The type is lost by
     * design (CloudEvents type system, binary-mode bindings); the value
     * survives as its canonical string.
     */
    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_http_encode(ev, SL_CE_BINARY_MODE, &hdrs, &body));
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-myint"), "42");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-mybool"), "true");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-subject"), "s%20u%20b");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "ce-mystr"), "a%22b");
    ASSERT_STR_EQ(sl_http_headers_get(&hdrs, "content-type"),
                  "application/json");
    {
        const char *want = "{\"x\":[1,2,\"\\u20ac\"]}";
        ASSERT(json_same(body.data, body.len, want, strlen(want)));
    }
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);

    bin = hop(ev, SL_CE_BINARY_MODE);
    assert_same(ev, bin, false);
    ASSERT_EQ(sl_event_get(bin, "myint")->type, SL_CE_STRING);
    ASSERT_EQ(sl_event_get(bin, "mybool")->type, SL_CE_STRING);
    ASSERT_EQ(sl_event_get(bin, "time")->type, SL_CE_TIME);

    /* Structured keeps the types. */
    st = hop(ev, SL_CE_STRUCTURED_MODE);
    assert_same(ev, st, true);

    /* And the plain JSON format agrees with the structured body. */
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_json_encode(bin, &body));
    ASSERT_OK(sl_ce_json_decode(body.data, body.len, NULL, &viajson, NULL));
    assert_same(bin, viajson, true);
    ASSERT_EQ(sl_event_get(viajson, "myint")->type, SL_CE_STRING);
    sl_buf_fini(&body);

    assert_round_trips(ev);
    sl_event_unref(viajson);
    sl_event_unref(st);
    sl_event_unref(bin);
    sl_event_unref(ev);
}

TEST(round_trip_binary_data)
{
    static const unsigned char bytes[] = { 0x00, 0xff, 0x80, 0x0a, 'x' };
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct sl_event *v03 = sl_event_new(SL_CE_V03);

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype",
                               "application/octet-stream", NULL));
    sl_event_set_data(ev, bytes, sizeof(bytes));
    assert_round_trips(ev);
    /* Bytes that are not JSON under a JSON type, and no type at all. */
    ASSERT_OK(
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL));
    assert_round_trips(ev);
    ASSERT_OK(sl_event_del(ev, "datacontenttype"));
    assert_round_trips(ev);

    ASSERT_OK(sl_event_set_str(v03, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(v03, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(v03, "type", "t", NULL));
    sl_event_set_data(v03, bytes, sizeof(bytes));
    assert_round_trips(v03);
    sl_event_unref(v03);
    sl_event_unref(ev);
}

/*
 * Data that is itself a CloudEvent: a binary-mode Content-Type of
 * application/cloudevents+json would read as structured mode, so the
 * encoder writes the event in structured mode instead.
 */
TEST(binary_falls_back_to_structured)
{
    static const char inner[] = "{\"specversion\":\"1.0\",\"id\":\"in\","
                                "\"source\":\"/i\",\"type\":\"t\"}";
    struct sl_event *ev = sl_event_new(SL_CE_V10), *again;
    struct sl_http_headers hdrs;
    struct sl_buf body;

    ASSERT_OK(sl_event_set_str(ev, "id", "out", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/o", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype",
                               "application/cloudevents+json", NULL));
    sl_event_set_data(ev, inner, strlen(inner));
    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_ce_http_encode(ev, SL_CE_BINARY_MODE, &hdrs, &body));
    ASSERT_EQ(sl_ce_http_mode(sl_http_headers_get(&hdrs, "content-type")),
              SL_CE_STRUCTURED_MODE);
    ASSERT(sl_http_headers_get(&hdrs, "ce-id") == NULL);
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);
    again = hop(ev, SL_CE_BINARY_MODE);
    assert_same(ev, again, true);
    ASSERT_STR_EQ(sl_event_id(again), "out");
    sl_event_unref(again);
    assert_round_trips(ev);
    sl_event_unref(ev);
}

TEST(encode_limits)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    struct sl_http_headers hdrs;
    struct sl_buf body;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    sl_event_set_data(ev, "0123456789", 10);
    sl_http_headers_init(&hdrs);
    sl_buf_init(&body, 5);
    ASSERT_EQ(sl_ce_http_encode(ev, SL_CE_BINARY_MODE, &hdrs, &body),
              SL_ETOOBIG);
    sl_buf_reset(&body);
    ASSERT_EQ(sl_ce_http_encode(ev, SL_CE_STRUCTURED_MODE, &hdrs, &body),
              SL_ETOOBIG);
    ASSERT_EQ(sl_ce_http_encode(ev, (enum sl_ce_mode)7, &hdrs, &body),
              SL_EINVAL);
    sl_http_headers_fini(&hdrs);
    sl_buf_fini(&body);
    sl_event_unref(ev);
}

TEST(headers_list)
{
    struct sl_http_headers h;
    char name[16];
    int i;

    sl_http_headers_init(&h);
    ASSERT(sl_http_headers_get(&h, "x") == NULL);
    for (i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "X-H%d", i);
        sl_http_headers_add(&h, name, name);
    }
    sl_http_headers_add(&h, "x-h3", "second");
    ASSERT_EQ(h.n, 41);
    ASSERT_STR_EQ(sl_http_headers_get(&h, "x-h3"), "X-H3");
    ASSERT_STR_EQ(sl_http_headers_get(&h, "X-h39"), "X-H39");
    sl_http_headers_fini(&h);
    sl_http_headers_fini(&h); /* harmless twice */
}

TEST_MAIN()
