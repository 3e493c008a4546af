/*
 * test/unit/base64_test.c - strict standard Base64.
 */
#include "test/unit/check.h"

#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"

/* RFC 4648 section 10. */
static const char *const rfc_plain[] = { "",     "f",     "fo",    "foo",
                                         "foob", "fooba", "foobar" };
static const char *const rfc_coded[] = {
    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
};

/* Decoding 's' must fail with SL_EINVAL and a message naming 'msg'. */
static void bad(const char *s, const char *msg)
{
    struct sl_buf b;
    struct sl_diag d;
    int rc;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_diag_clear(&d);
    rc = sl_base64_decode(s, strlen(s), &b, &d);
    if (rc != SL_EINVAL)
        CHECK_FAIL("'%s': want SL_EINVAL, got %d", s, rc);
    if (strstr(d.msg, msg) == NULL)
        CHECK_FAIL("'%s': message \"%s\" lacks \"%s\"", s, d.msg, msg);
    ASSERT_EQ(b.len, 0);
    sl_buf_fini(&b);
}

TEST(rfc4648_vectors)
{
    size_t i;

    for (i = 0; i < sizeof(rfc_plain) / sizeof(rfc_plain[0]); i++) {
        struct sl_buf b;
        size_t n = strlen(rfc_plain[i]);

        ASSERT_EQ(sl_base64_encoded_len(n), strlen(rfc_coded[i]));
        sl_buf_init(&b, SL_BUF_UNLIMITED);
        ASSERT_OK(sl_base64_encode(rfc_plain[i], n, &b));
        ASSERT_STR_EQ(sl_buf_str(&b), rfc_coded[i]);
        sl_buf_reset(&b);
        ASSERT_OK(
            sl_base64_decode(rfc_coded[i], strlen(rfc_coded[i]), &b, NULL));
        ASSERT_MEM_EQ(b.data ? b.data : "", b.len, rfc_plain[i], n);
        sl_buf_fini(&b);
    }
}

TEST(appends_to_existing)
{
    struct sl_buf b;

    sl_buf_init(&b, 100);
    ASSERT_OK(sl_buf_appends(&b, "x:"));
    ASSERT_OK(sl_base64_encode("hi", 2, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "x:aGk=");
    ASSERT_OK(sl_base64_decode("aGk=", 4, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "x:aGk=hi");
    /* A failure leaves what was there before. */
    ASSERT_EQ(sl_base64_decode("aGk=aGk", 7, &b, NULL), SL_EINVAL);
    ASSERT_EQ(sl_base64_decode("aGkAaG!=", 8, &b, NULL), SL_EINVAL);
    ASSERT_STR_EQ(sl_buf_str(&b), "x:aGk=hi");
    ASSERT_EQ(b.len, 8);
    sl_buf_fini(&b);
}

TEST(all_bytes_round_trip)
{
    unsigned char in[3000];
    struct sl_buf enc, dec;
    size_t i, n;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 7 + i / 256);
    /* Every length mod 3, and sizes across the internal chunk size. */
    for (n = 0; n <= sizeof(in); n += (n < 20 ? 1 : 251)) {
        sl_buf_init(&enc, SL_BUF_UNLIMITED);
        sl_buf_init(&dec, SL_BUF_UNLIMITED);
        ASSERT_OK(sl_base64_encode(in, n, &enc));
        ASSERT_EQ(enc.len, sl_base64_encoded_len(n));
        ASSERT_OK(sl_base64_decode(enc.data, enc.len, &dec, NULL));
        ASSERT_MEM_EQ(dec.data ? dec.data : "", dec.len, in, n);
        sl_buf_fini(&enc);
        sl_buf_fini(&dec);
    }
}

TEST(alphabet_edges)
{
    struct sl_buf b;
    static const unsigned char want[] = { 0xfb, 0xff, 0xbf, 0xf8, 0x3e };

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_OK(sl_base64_encode(want, sizeof(want), &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "+/+/+D4=");
    sl_buf_reset(&b);
    ASSERT_OK(sl_base64_decode("+/+/+D4=", 8, &b, NULL));
    ASSERT_MEM_EQ(b.data, b.len, want, sizeof(want));
    sl_buf_fini(&b);
}

TEST(bad_length)
{
    bad("Zg", "length 2 is not a multiple of 4");
    bad("Zg=", "length 3");
    bad("Zm9vY", "truncated at offset 4");
    bad("Zg===", "length 5");
}

TEST(bad_padding)
{
    bad("====", "misplaced '=' at offset 0");
    bad("Z===", "misplaced '=' at offset 1");
    bad("Zg==Zg==", "misplaced '=' at offset 2");
    bad("Zm8=Zm8=", "misplaced '=' at offset 3");
    bad("Zg=a", "data after '=' at offset 3");
    bad("=Zm9", "misplaced '=' at offset 0");
}

TEST(bad_characters)
{
    bad("Zm9v!mFy", "bad character '!' at offset 4");
    bad("Zm9-", "bad character '-' at offset 3");
    bad("Zm9_", "bad character '_' at offset 3");
    bad("Zm9v Yg==", "length 9");
    bad("Zm9vYg=\n", "data after '=' at offset 7");
    bad("Zm9vYg\n=", "bad byte 0x0A at offset 6");
    bad("Zm 9", "bad byte 0x20 at offset 2");
    bad("Zm9\xc3", "bad byte 0xC3 at offset 3");
}

TEST(embedded_nul_rejected)
{
    struct sl_buf b;
    struct sl_diag d;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_EQ(sl_base64_decode("Zm\0v", 4, &b, &d), SL_EINVAL);
    ASSERT(strstr(d.msg, "bad byte 0x00 at offset 2") != NULL);
    sl_buf_fini(&b);
}

TEST(non_zero_trailing_bits)
{
    /* "Zg==" is the only encoding of "f"; "Zh==" .. "Zv==" differ in the
     * four unused bits. */
    bad("Zh==", "non-zero padding bits at offset 1");
    bad("Zv==", "offset 1");
    bad("Zm9=", "non-zero padding bits at offset 2");
    bad("Zm9vYm9=", "offset 6");
}

TEST(size_limits)
{
    struct sl_buf b;

    sl_buf_init(&b, 7);
    ASSERT_EQ(sl_base64_encode("foobar", 6, &b), SL_ETOOBIG);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(sl_base64_encode("foob", 4, &b), SL_ETOOBIG);
    ASSERT_OK(sl_base64_encode("foo", 3, &b));
    ASSERT_STR_EQ(sl_buf_str(&b), "Zm9v");
    sl_buf_fini(&b);

    sl_buf_init(&b, 8);
    ASSERT_OK(sl_base64_encode("foobar", 6, &b));
    sl_buf_fini(&b);

    sl_buf_init(&b, 5);
    ASSERT_EQ(sl_base64_decode("Zm9vYmFy", 8, &b, NULL), SL_ETOOBIG);
    ASSERT_EQ(b.len, 0);
    ASSERT_OK(sl_base64_decode("Zm9vYmE=", 8, &b, NULL));
    ASSERT_STR_EQ(sl_buf_str(&b), "fooba");
    sl_buf_fini(&b);
}

TEST(null_diag)
{
    struct sl_buf b;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    ASSERT_EQ(sl_base64_decode("Zh==", 4, &b, NULL), SL_EINVAL);
    ASSERT_EQ(sl_base64_decode("Z", 1, &b, NULL), SL_EINVAL);
    sl_buf_fini(&b);
}

TEST_MAIN()
