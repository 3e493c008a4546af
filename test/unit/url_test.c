/*
 * test/unit/url_test.c - core/url: parsing (components, errors with
 * offsets, IP literals, ports), recomposition, dot-segment removal and the
 * reference resolution examples of RFC 3986 sections 5.4.1 and 5.4.2.
 */
#include "test/unit/check.h"

#include "core/url.h"

static const char *rfc_base = "http://a/b/c/d;p?q";

/* RFC 3986 section 5.4.1, normal examples. */
static const char *const rfc_normal[][2] = {
    { "g:h", "g:h" },
    { "g", "http://a/b/c/g" },
    { "./g", "http://a/b/c/g" },
    { "g/", "http://a/b/c/g/" },
    { "/g", "http://a/g" },
    { "//g", "http://g" },
    { "?y", "http://a/b/c/d;p?y" },
    { "g?y", "http://a/b/c/g?y" },
    { "#s", "http://a/b/c/d;p?q#s" },
    { "g#s", "http://a/b/c/g#s" },
    { "g?y#s", "http://a/b/c/g?y#s" },
    { ";x", "http://a/b/c/;x" },
    { "g;x", "http://a/b/c/g;x" },
    { "g;x?y#s", "http://a/b/c/g;x?y#s" },
    { "", "http://a/b/c/d;p?q" },
    { ".", "http://a/b/c/" },
    { "./", "http://a/b/c/" },
    { "..", "http://a/b/" },
    { "../", "http://a/b/" },
    { "../g", "http://a/b/g" },
    { "../..", "http://a/" },
    { "../../", "http://a/" },
    { "../../g", "http://a/g" },
};

/* RFC 3986 section 5.4.2, abnormal examples (strict parser). */
static const char *const rfc_abnormal[][2] = {
    { "../../../g", "http://a/g" },
    { "../../../../g", "http://a/g" },
    { "/./g", "http://a/g" },
    { "/../g", "http://a/g" },
    { "g.", "http://a/b/c/g." },
    { ".g", "http://a/b/c/.g" },
    { "g..", "http://a/b/c/g.." },
    { "..g", "http://a/b/c/..g" },
    { "./../g", "http://a/b/g" },
    { "./g/.", "http://a/b/c/g/" },
    { "g/./h", "http://a/b/c/g/h" },
    { "g/../h", "http://a/b/c/h" },
    { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
    { "g;x=1/../y", "http://a/b/c/y" },
    { "g?y/./x", "http://a/b/c/g?y/./x" },
    { "g?y/../x", "http://a/b/c/g?y/../x" },
    { "g#s/./x", "http://a/b/c/g#s/./x" },
    { "g#s/../x", "http://a/b/c/g#s/../x" },
    { "http:g", "http:g" },
};

static void resolve_expect(const char *base, const char *ref, const char *want)
{
    struct sl_diag d;
    char *got = NULL;
    int rc;

    sl_diag_clear(&d);
    rc = sl_url_resolve_str(base, ref, &got, &d);
    if (rc != 0)
        CHECK_FAIL("resolve '%s' against '%s': %s", ref, base, d.msg);
    if (strcmp(got, want) != 0)
        CHECK_FAIL("resolve '%s' against '%s': got '%s', want '%s'", ref, base,
                   got, want);
    sl_free(got);
}

TEST(rfc3986_normal_examples)
{
    size_t i;

    for (i = 0; i < sizeof(rfc_normal) / sizeof(rfc_normal[0]); i++)
        resolve_expect(rfc_base, rfc_normal[i][0], rfc_normal[i][1]);
}

TEST(rfc3986_abnormal_examples)
{
    size_t i;

    for (i = 0; i < sizeof(rfc_abnormal) / sizeof(rfc_abnormal[0]); i++)
        resolve_expect(rfc_base, rfc_abnormal[i][0], rfc_abnormal[i][1]);
}

TEST(resolve_knative_subscriber_paths)
{
    /* A Destination ref's URL plus a relative uri (reference 2.4). */
    resolve_expect(
        "http://my-service.default.svc.cluster.local", "/my-custom-path",
        "http://my-service.default.svc.cluster.local/my-custom-path");
    resolve_expect("http://svc.ns.localhost/", "extra?x=1",
                   "http://svc.ns.localhost/extra?x=1");
    resolve_expect("http://broker-ingress.knative-eventing/ns/b", "../other",
                   "http://broker-ingress.knative-eventing/other");
    resolve_expect("http://h:8080/a/b", "//other:81/x", "http://other:81/x");
}

TEST(resolve_needs_absolute_base)
{
    struct sl_diag d;
    char *got = (char *)&got;

    ASSERT_EQ(sl_url_resolve_str("/relative", "g", &got, &d), SL_EINVAL);
    ASSERT(got == NULL);
    ASSERT(strstr(d.msg, "not absolute") != NULL);
    ASSERT_EQ(sl_url_resolve_str("http://a b", "g", &got, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "invalid base URL") != NULL);
    ASSERT_EQ(sl_url_resolve_str("http://a", "g h", &got, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "invalid reference") != NULL);
}

TEST(remove_dot_segments)
{
    static const char *const cases[][2] = {
        { "/a/b/c/./../../g", "/a/g" },
        { "mid/content=5/../6", "mid/6" },
        { "/..", "/" },
        { "/.", "/" },
        { "..", "" },
        { ".", "" },
        { "", "" },
        { "a/..", "/" },
        { "/a/b/..", "/a/" },
        { "/a//b/../c", "/a//c" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = sl_url_remove_dots(cases[i][0], strlen(cases[i][0]));
        if (strcmp(got, cases[i][1]) != 0)
            CHECK_FAIL("remove_dots('%s') = '%s', want '%s'", cases[i][0], got,
                       cases[i][1]);
        sl_free(got);
    }
}

TEST(parse_components)
{
    struct sl_url u;
    struct sl_diag d;

    ASSERT_OK(sl_url_parse(
        "HTTPS://user:pw@Example.COM:8443/a/b%20c?x=1&y#frag", &u, &d));
    ASSERT_STR_EQ(u.scheme, "https");
    ASSERT_STR_EQ(u.userinfo, "user:pw");
    ASSERT_STR_EQ(u.host, "Example.COM");
    ASSERT_EQ(u.port, 8443);
    ASSERT_STR_EQ(u.path, "/a/b%20c");
    ASSERT_STR_EQ(u.query, "x=1&y");
    ASSERT_STR_EQ(u.fragment, "frag");
    ASSERT(sl_url_is_absolute(&u));
    sl_url_fini(&u);

    /* Absent versus empty components. */
    ASSERT_OK(sl_url_parse("http://a?#", &u, &d));
    ASSERT_STR_EQ(u.path, "");
    ASSERT_STR_EQ(u.query, "");
    ASSERT_STR_EQ(u.fragment, "");
    ASSERT(u.userinfo == NULL);
    ASSERT_EQ(u.port, -1);
    sl_url_fini(&u);

    ASSERT_OK(sl_url_parse("/only/path", &u, &d));
    ASSERT(u.scheme == NULL && u.host == NULL && u.query == NULL);
    ASSERT_STR_EQ(u.path, "/only/path");
    ASSERT(!sl_url_is_absolute(&u));
    sl_url_fini(&u);

    /* An empty port reads as none; an empty host is fine generically. */
    ASSERT_OK(sl_url_parse("http://a:/x", &u, &d));
    ASSERT_EQ(u.port, -1);
    sl_url_fini(&u);
    ASSERT_OK(sl_url_parse("file:///etc/hosts", &u, &d));
    ASSERT_STR_EQ(u.host, "");
    ASSERT_STR_EQ(u.path, "/etc/hosts");
    sl_url_fini(&u);

    /* Every accepted character class. */
    ASSERT_OK(sl_url_parse("http://a/-._~!$&'()*+,;=:@/?q=/?:@#f/?", &u, &d));
    sl_url_fini(&u);
    sl_url_fini(NULL);
}

TEST(parse_ip_literals)
{
    static const char *const good[] = {
        "http://[::1]:8080/",       "http://[2001:db8::7]/c=GB?objectClass?one",
        "http://[fe80::1%25eth0]/", "http://[v7.fe:80]/",
        "http://192.0.2.16:80/",    "http://[::ffff:192.0.2.1]",
    };
    static const char *const bad[][2] = {
        { "http://[::1/", "missing ']'" },
        { "http://[::g]/", "invalid IPv6 address" },
        { "http://[]/", "invalid IPv6 address" },
        { "http://[::1]x/", "invalid character 'x' in host at offset 12" },
        { "http://[fe80::1%eth0]/", "in IPv6 zone" },
        { "http://[fe80::1%25]/", "in IPv6 zone" },
        { "http://[v.x]/", "in IP literal" },
        { "http://[v1.]/", "empty IPvFuture" },
    };
    struct sl_url u;
    struct sl_diag d;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (sl_url_parse_http(good[i], &u, &d) != 0)
            CHECK_FAIL("'%s' rejected: %s", good[i], d.msg);
        sl_url_fini(&u);
    }
    ASSERT_OK(sl_url_parse("http://[::1]:8080/", &u, &d));
    ASSERT_STR_EQ(u.host, "[::1]");
    ASSERT_EQ(u.port, 8080);
    sl_url_fini(&u);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_diag_clear(&d);
        if (sl_url_parse(bad[i][0], &u, &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i][0]);
        if (strstr(d.msg, bad[i][1]) == NULL)
            CHECK_FAIL("'%s': got '%s', want '%s'", bad[i][0], d.msg,
                       bad[i][1]);
        ASSERT(u.host == NULL && u.path == NULL);
    }
}

TEST(parse_errors_name_offset)
{
    static const char *const bad[][2] = {
        { "http://a b/", "invalid character ' ' in host at offset 8" },
        { "http://ex ample.com", "invalid character ' ' in host at offset 9" },
        { "http://a/b c", "invalid character ' ' in path at offset 10" },
        { "http://a/%zz", "invalid percent-encoding in path at offset 9" },
        { "http://a/%4", "invalid percent-encoding in path at offset 9" },
        { "http://a/x?q=<", "invalid character '<' in query at offset 13" },
        { "http://a/#a#b", "invalid character '#' in fragment at offset 11" },
        { "http://a:8x/", "invalid character 'x' in port at offset 10" },
        { "http://a:65536/", "port out of range at offset 9" },
        { "http://u@s@a/", "invalid character '@' in host at offset 10" },
        { "http://a/\x01", "invalid byte 0x01 in path at offset 9" },
        { "http://a/\xc3\xa9", "invalid byte 0xC3 in path at offset 9" },
        { "http://a/{x}", "invalid character '{' in path at offset 9" },
        { "http://u{@a/", "invalid character '{' in userinfo at offset 8" },
        { "1a:b", "invalid character ':' in first path segment" },
        { "a/b:c\\", "invalid character '\\' in path at offset 5" },
    };
    struct sl_url u;
    struct sl_diag d;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_diag_clear(&d);
        if (sl_url_parse(bad[i][0], &u, &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i][0]);
        if (strstr(d.msg, bad[i][1]) == NULL)
            CHECK_FAIL("'%s': got '%s', want '%s'", bad[i][0], d.msg,
                       bad[i][1]);
    }
    /* A NULL diag is fine. */
    ASSERT_EQ(sl_url_parse("http://a b", &u, NULL), SL_EINVAL);
    /* ':' after the first '/' of a relative path is fine. */
    ASSERT_OK(sl_url_parse("a/b:c", &u, &d));
    sl_url_fini(&u);
    ASSERT_OK(sl_url_parse("./1a:b", &u, &d));
    sl_url_fini(&u);
}

TEST(parse_http_rules)
{
    static const char *const bad[][2] = {
        { "/relative", "missing scheme" },
        { "ftp://a/", "unsupported scheme 'ftp'" },
        { "http:///path", "missing host" },
        { "http:path", "missing host" },
        { "http://a:0/", "invalid port 0" },
        { "mailto:x@y", "unsupported scheme 'mailto'" },
    };
    struct sl_url u;
    struct sl_diag d;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_diag_clear(&d);
        if (sl_url_parse_http(bad[i][0], &u, &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i][0]);
        if (strstr(d.msg, bad[i][1]) == NULL)
            CHECK_FAIL("'%s': got '%s', want '%s'", bad[i][0], d.msg,
                       bad[i][1]);
        ASSERT(u.scheme == NULL && u.path == NULL);
    }
    ASSERT_OK(sl_url_parse_http("HTTP://localhost:65535", &u, &d));
    ASSERT_STR_EQ(u.scheme, "http");
    ASSERT_EQ(u.port, 65535);
    sl_url_fini(&u);
}

TEST(format_round_trip)
{
    static const char *const urls[] = {
        "http://a/b/c/d;p?q",
        "https://user@h:1/p?q#f",
        "http://[::1]:80/x",
        "g:h",
        "//host/path",
        "?q",
        "#f",
        "",
        "http://a?#",
        "urn:example:animal:ferret:nose",
    };
    struct sl_url u;
    struct sl_diag d;
    size_t i;
    char *s;

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        ASSERT_OK(sl_url_parse(urls[i], &u, &d));
        s = sl_url_format(&u);
        ASSERT_STR_EQ(s, urls[i]);
        sl_free(s);
        sl_url_fini(&u);
    }
    /* The scheme is lower-cased; an empty port is dropped. */
    ASSERT_OK(sl_url_parse("HTTP://a:/", &u, &d));
    s = sl_url_format(&u);
    ASSERT_STR_EQ(s, "http://a/");
    sl_free(s);
    sl_url_fini(&u);
}

TEST(resolve_struct_api)
{
    struct sl_url b, r, t;
    struct sl_diag d;
    char *s;

    ASSERT_OK(sl_url_parse("http://a/b/c/d;p?q", &b, &d));
    ASSERT_OK(sl_url_parse("../x?y#z", &r, &d));
    ASSERT_OK(sl_url_resolve(&b, &r, &t));
    s = sl_url_format(&t);
    ASSERT_STR_EQ(s, "http://a/b/x?y#z");
    sl_free(s);
    sl_url_fini(&t);
    /* A relative base is refused and leaves the output empty. */
    ASSERT_EQ(sl_url_resolve(&r, &b, &t), SL_EINVAL);
    ASSERT(t.scheme == NULL && t.path == NULL);
    sl_url_fini(&r);
    sl_url_fini(&b);
    /* A base with an authority and an empty path merges onto "/". */
    ASSERT_OK(sl_url_parse("http://h", &b, &d));
    ASSERT_OK(sl_url_parse("p", &r, &d));
    ASSERT_OK(sl_url_resolve(&b, &r, &t));
    ASSERT_STR_EQ(t.path, "/p");
    sl_url_fini(&t);
    sl_url_fini(&r);
    sl_url_fini(&b);
}

TEST_MAIN()
