/*
 * test/unit/utf8_test.c - strict UTF-8 validation and decoding.
 */
#include "test/unit/check.h"

#include "core/utf8.h"

/* 's' (length 'n') must be invalid with the first bad sequence at 'at'. */
static void invalid(const char *s, size_t n, size_t at)
{
    size_t bad = 9999;

    if (sl_utf8_valid(s, n, &bad))
        CHECK_FAIL("accepted invalid UTF-8 (%zu bytes)", n);
    ASSERT_EQ(bad, at);
    ASSERT(!sl_utf8_valid(s, n, NULL));
}

static void decodes(const char *s, size_t n, uint32_t want)
{
    uint32_t cp = 0;

    ASSERT_EQ(sl_utf8_decode((const unsigned char *)s, n, &cp), n);
    ASSERT_EQ(cp, want);
    ASSERT(sl_utf8_valid(s, n, NULL));
}

static void no_decode(const char *s, size_t n)
{
    uint32_t cp = 0x1234;

    ASSERT_EQ(sl_utf8_decode((const unsigned char *)s, n, &cp), 0);
}

TEST(valid_text)
{
    static const char s[] = "Euro \xe2\x82\xac \xf0\x9f\x98\x80 caf\xc3\xa9";
    size_t bad = 42;

    ASSERT(sl_utf8_valid("", 0, &bad));
    ASSERT_EQ(bad, 42); /* untouched when valid */
    ASSERT(sl_utf8_valid("plain ascii", 11, NULL));
    ASSERT(sl_utf8_valid(s, sizeof(s) - 1, &bad));
    ASSERT_EQ(sl_utf8_count(s, sizeof(s) - 1), 13);
    ASSERT_EQ(sl_utf8_count("", 0), 0);
    ASSERT_EQ(sl_utf8_count("abc", 3), 3);
    /* NUL is a code point like any other. */
    ASSERT(sl_utf8_valid("a\0b", 3, NULL));
}

TEST(boundaries)
{
    decodes("\x00", 1, 0);
    decodes("\x7f", 1, 0x7f);
    decodes("\xc2\x80", 2, 0x80);
    decodes("\xdf\xbf", 2, 0x7ff);
    decodes("\xe0\xa0\x80", 3, 0x800);
    decodes("\xed\x9f\xbf", 3, 0xd7ff);
    decodes("\xee\x80\x80", 3, 0xe000);
    decodes("\xef\xbf\xbf", 3, 0xffff);
    decodes("\xf0\x90\x80\x80", 4, 0x10000);
    decodes("\xf4\x8f\xbf\xbf", 4, 0x10ffff);
    decodes("\xe2\x82\xac", 3, 0x20ac);
    decodes("\xf0\x9f\x98\x80", 4, 0x1f600);
}

TEST(decode_consumes_one)
{
    const unsigned char s[] = "\xc3\xa9z";
    uint32_t cp;

    ASSERT_EQ(sl_utf8_decode(s, 3, &cp), 2);
    ASSERT_EQ(cp, 0xe9);
    ASSERT_EQ(sl_utf8_decode(s + 2, 1, &cp), 1);
    ASSERT_EQ(cp, 'z');
    ASSERT_EQ(sl_utf8_decode(s, 0, &cp), 0);
}

TEST(overlong)
{
    no_decode("\xc0\x80", 2);
    no_decode("\xc0\xa0", 2);
    no_decode("\xc1\xbf", 2);
    no_decode("\xe0\x80\x80", 3);
    no_decode("\xe0\x9f\xbf", 3);
    no_decode("\xf0\x80\x80\x80", 4);
    no_decode("\xf0\x8f\xbf\xbf", 4);
    invalid("ab\xc0\xaf", 4, 2);
    invalid("\xe0\x80\xaf", 3, 0);
}

TEST(surrogates)
{
    no_decode("\xed\xa0\x80", 3); /* U+D800 */
    no_decode("\xed\xbf\xbf", 3); /* U+DFFF */
    /* A CESU-8 pair for U+1F600. */
    invalid("x\xed\xa0\xbd\xed\xb8\x80", 7, 1);
}

TEST(above_max)
{
    no_decode("\xf4\x90\x80\x80", 4); /* U+110000 */
    no_decode("\xf5\x80\x80\x80", 4);
    no_decode("\xf7\xbf\xbf\xbf", 4);
    no_decode("\xf8\x88\x80\x80\x80", 5);
    no_decode("\xfc\x84\x80\x80\x80\x80", 6);
    no_decode("\xfe", 1);
    no_decode("\xff", 1);
    invalid("ok\xf4\x90\x80\x80", 6, 2);
}

TEST(truncated_and_stray)
{
    no_decode("\xc3", 1);
    no_decode("\xe2\x82", 2);
    no_decode("\xf0\x9f\x98", 3);
    /* 'n' limits the read even when more bytes follow in memory. */
    no_decode("\xe2\x82\xac", 2);
    invalid("abc\xe2\x82", 5, 3);
    invalid("\xf0\x9f\x98", 3, 0);
    /* Continuation byte without a lead. */
    no_decode("\x80", 1);
    invalid("a\xbf", 2, 1);
    /* A lead byte followed by ASCII. */
    no_decode("\xc3z", 2);
    invalid("\xe2\x82z", 3, 0);
    /* Valid text before the fault is skipped over correctly. */
    invalid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3", 10, 9);
}

TEST_MAIN()
