/*
 * test/unit/pct_test.c - percent-encoding of CloudEvents header values.
 */
#include "test/unit/check.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/pct.h"

static void enc(const char *in, size_t n, const char *want)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_pct_encode(in, n, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), want);
    sl_buf_fini(&b);
}

/* Decode 'in' in the given mode; it must give want[0..wn). */
static void dec(const char *in, bool lenient, const char *want, size_t wn)
{
    struct sl_buf b;
    struct sl_diag d;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_diag_clear(&d);
    if (sl_pct_decode(in, strlen(in), lenient, &b, &d) != 0)
        CHECK_FAIL("'%s' rejected: %s", in, d.msg);
    ASSERT_MEM_EQ(b.data ? b.data : "", b.len, want, wn);
    sl_buf_fini(&b);
}

/* Decoding must succeed the same way in both modes. */
static void dec2(const char *in, const char *want)
{
    dec(in, false, want, strlen(want));
    dec(in, true, want, strlen(want));
}

/* Decoding 'in' must fail with SL_EINVAL and a message naming 'msg'. */
static void bad(const char *in, bool lenient, const char *msg)
{
    struct sl_buf b;
    struct sl_diag d;
    int rc;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_diag_clear(&d);
    rc = sl_pct_decode(in, strlen(in), lenient, &b, &d);
    if (rc != SL_EINVAL)
        CHECK_FAIL("'%s': want SL_EINVAL, got %d", in, rc);
    if (strstr(d.msg, msg) == NULL)
        CHECK_FAIL("'%s': message \"%s\" lacks \"%s\"", in, d.msg, msg);
    ASSERT_EQ(b.len, 0);
    sl_buf_fini(&b);
}

static void bad2(const char *in, const char *msg)
{
    bad(in, false, msg);
    bad(in, true, msg);
}

TEST(spec_vector)
{
    static const char plain[] = "Euro \xe2\x82\xac \xf0\x9f\x98\x80";
    static const char coded[] = "Euro%20%E2%82%AC%20%F0%9F%98%80";

    enc(plain, strlen(plain), coded);
    dec2(coded, plain);
}

TEST(encode_set)
{
    enc("", 0, "");
    enc(" ", 1, "%20");
    enc("\"", 1, "%22");
    enc("%", 1, "%25");
    enc("100%", 4, "100%25");
    enc("a \"b\"", 5, "a%20%22b%22");
    /* Everything else printable stays, including the URI delimiters. */
    enc("!#$&'()*+,-./:;<=>?@[\\]^_`{|}~", 30,
        "!#$&'()*+,-./:;<=>?@[\\]^_`{|}~");
    enc("AZaz09", 6, "AZaz09");
    enc("\t\r\n\x7f", 4, "%09%0D%0A%7F");
    enc("a\0b", 3, "a%00b");
    enc("caf\xc3\xa9", 5, "caf%C3%A9");
}

TEST(encode_long_value)
{
    char in[1000];
    struct sl_buf b, back;
    size_t i;

    for (i = 0; i < sizeof(in); i++)
        in[i] = i % 3 == 0 ? ' ' : 'x';
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_buf_init(&back, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_pct_encode(in, sizeof(in), &b));
    ASSERT_EQ(b.len, 334 * 3 + 666);
    ASSERT_OK(sl_pct_decode(b.data, b.len, false, &back, NULL));
    ASSERT_MEM_EQ(back.data, back.len, in, sizeof(in));
    sl_buf_fini(&b);
    sl_buf_fini(&back);
}

TEST(decode_basics)
{
    dec2("", "");
    dec2("plain", "plain");
    dec2("a%20b", "a b");
    dec2("%22quoted%22", "\"quoted\"");
    dec2("100%25", "100%");
    /* Lower-case hex and needless escapes. */
    dec2("%e2%82%ac", "\xe2\x82\xac");
    dec2("%E2%82%aC", "\xe2\x82\xac");
    dec2("%41%62c", "Abc");
    /* Exactly one round. */
    dec2("%2541", "%41");
    /* Raw space and tab are tolerated in both modes. */
    dec2("a b\tc", "a b\tc");
    /* A raw '"' inside the value is not a quoted-string. */
    dec2("a\"b", "a\"b");
    /* A decoded NUL is valid UTF-8; the caller decides about it. */
    dec("%00", false, "\0", 1);
}

TEST(decode_bad_escapes)
{
    bad2("%", "bad or truncated '%' escape at offset 0");
    bad2("%4", "'%' escape at offset 0");
    bad2("ab%4", "'%' escape at offset 2");
    bad2("%4g", "'%' escape at offset 0");
    bad2("%G1", "'%' escape at offset 0");
    bad2("x%%41", "'%' escape at offset 1");
    bad2("%+1", "offset 0");
    bad2("% 41", "offset 0");
}

TEST(decode_invalid_utf8)
{
    /* The spec's example: an overlong space. */
    bad2("%C0%A0", "invalid UTF-8 at offset 0");
    bad2("ab%C1%BF", "invalid UTF-8 at offset 2");
    bad2("%E0%80%AF", "invalid UTF-8 at offset 0");
    bad2("%F0%80%80%80", "invalid UTF-8 at offset 0");
    /* Surrogates encoded as UTF-8 (CESU-8). */
    bad2("%ED%A0%80", "invalid UTF-8 at offset 0");
    bad2("x%ED%A0%BD%ED%B8%80", "invalid UTF-8 at offset 1");
    /* Above U+10FFFF. */
    bad2("%F4%90%80%80", "invalid UTF-8 at offset 0");
    bad2("%F5%80%80%80", "invalid UTF-8 at offset 0");
    bad2("%FF", "invalid UTF-8 at offset 0");
    /* Stray continuation byte, and a lead byte cut short. */
    bad2("a%80", "invalid UTF-8 at offset 1");
    bad2("%E2%82x", "invalid UTF-8 at offset 0");
    bad2("ok%E2%82", "truncated UTF-8 sequence at offset 2");
    bad2("%F0%9F%98", "truncated UTF-8 sequence at offset 0");
}

TEST(decode_raw_bytes_strict_vs_lenient)
{
    /* What Go and Java SDKs send: raw UTF-8. */
    dec("caf\xc3\xa9 \xf0\x9f\x98\x80", true, "caf\xc3\xa9 \xf0\x9f\x98\x80",
        10);
    bad("caf\xc3\xa9", false,
        "raw byte 0xC3 at offset 3 must be "
        "percent-encoded");
    /* Lenient still insists on valid UTF-8. */
    bad("a\xc3(", true, "invalid UTF-8 at offset 1");
    bad("\xc0\xa0", true, "invalid UTF-8 at offset 0");
    bad("\xed\xa0\x80", true, "invalid UTF-8 at offset 0");
    bad("x\xe2\x82", true, "truncated UTF-8 sequence at offset 1");
    bad("\xff", true, "invalid UTF-8 at offset 0");
    /* Raw and escaped bytes of one character may mix. */
    dec("\xe2%82%AC", true, "\xe2\x82\xac", 3);
    dec("%E2\x82\xac", true, "\xe2\x82\xac", 3);
}

TEST(decode_raw_controls)
{
    bad2("a\x01z", "control byte 0x01 at offset 1");
    bad2("a\rz", "control byte 0x0D at offset 1");
    bad2("\x7f", "control byte 0x7F at offset 0");
    /* ...but escaped they decode (event validation judges them). */
    dec2("%01", "\x01");
}

TEST(decode_quoted_string)
{
    dec2("\"\"", "");
    dec2("\"a b\"", "a b");
    dec2("\"a\\\"b\"", "a\"b");
    dec2("\"a\\\\b\"", "a\\b");
    dec2("\"\\a\"", "a");
    dec2("\"Euro%20%E2%82%AC\"", "Euro \xe2\x82\xac");
    /* Unquoting comes first, so an escaped '%' still starts an escape. */
    dec2("\"\\%41\"", "A");
    dec2("\"%\\41\"", "A");
    dec("\"caf\xc3\xa9\"", true, "caf\xc3\xa9", 5);
    bad("\"caf\xc3\xa9\"", false, "raw byte 0xC3 at offset 4");
    bad2("\"", "unterminated quoted-string");
    bad2("\"abc", "unterminated quoted-string");
    bad2("\"abc\\\"", "unterminated quoted-string");
    bad2("\"abc\\", "unterminated quoted-string");
    bad2("\"abc\"def", "after the closing quote at offset 5");
    bad2("\"a\"\"", "after the closing quote at offset 3");
    /* Offsets count from the start of the input, quote included. */
    bad2("\"ab%4\"", "'%' escape at offset 3");
    bad2("\"x%C0%A0\"", "invalid UTF-8 at offset 2");
    bad2("\"a\\\x01\"", "control byte 0x01 at offset 3");
}

TEST(decode_appends_and_rolls_back)
{
    struct sl_buf b;
    struct sl_diag d;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_buf_appends(&b, "pre:"));
    ASSERT_OK(sl_pct_decode("a%20b", 5, false, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "pre:a b");
    ASSERT_EQ(sl_pct_decode("xyz%C0%A0", 9, true, &b, &d), SL_EINVAL);
    ASSERT_STR_EQ(sl_buf_str(&b), "pre:a b");
    ASSERT_EQ(b.len, 7);
    /* Only n bytes are read. */
    ASSERT_OK(sl_pct_decode("ab%41", 2, false, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "pre:a bab");
    sl_buf_fini(&b);
}

TEST(size_limits)
{
    struct sl_buf b;

    sl_buf_init(&b, 4);
    ASSERT_EQ(sl_pct_encode("a b", 3, &b), SL_ETOOBIG);
    ASSERT_EQ(b.len, 0);
    ASSERT_OK(sl_pct_encode("a b", 2, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "a%20");
    sl_buf_fini(&b);

    sl_buf_init(&b, 3);
    ASSERT_EQ(sl_pct_decode("abcd", 4, false, &b, NULL), SL_ETOOBIG);
    ASSERT_EQ(b.len, 0);
    ASSERT_OK(sl_pct_decode("%41%42%43", 9, false, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "ABC");
    sl_buf_fini(&b);
}

/* Whatever valid UTF-8 goes in comes back out, and the wire form is
 * printable ASCII without space, '"' or a bare '%'. */
TEST(round_trip)
{
    static const char *const texts[] = {
        "",
        "simple",
        "with space and \"quotes\" and 100%",
        "\t tab \x01\x1f\x7f controls",
        ("\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
         "\xf4\x8f\xbf\xbf"),
        "/ns/source?x=1&y=%zz#frag",
    };
    size_t i, k;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct sl_buf e, d;
        sl_buf_init(&e, SL_BUF_UNLIMITED);
        sl_buf_init(&d, SL_BUF_UNLIMITED);
        ASSERT_OK(sl_pct_encode(texts[i], strlen(texts[i]), &e));
        for (k = 0; k < e.len; k++) {
            unsigned char c = (unsigned char)e.data[k];
            ASSERT(c >= 0x21 && c <= 0x7e && c != '"');
        }
        ASSERT_OK(sl_pct_decode(sl_buf_str(&e), e.len, false, &d, NULL));
        ASSERT_MEM_EQ(sl_buf_str(&d), d.len, texts[i], strlen(texts[i]));
        sl_buf_fini(&e);
        sl_buf_fini(&d);
    }
}

TEST_MAIN()
