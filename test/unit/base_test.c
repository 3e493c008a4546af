/*
 * test/unit/base_test.c - core/err, core/alloc, core/buf and core/str.
 */
#include "test/unit/check.h"

#include <errno.h>

#include "core/buf.h"
#include "core/str.h"

TEST(strerror_covers_every_code)
{
    int rc;

    for (rc = 0; rc > -SL_ERR_COUNT_; rc--) {
        ASSERT(strcmp(sl_strerror(rc), "unknown error") != 0);
        ASSERT(strncmp(sl_errname(rc), "SL_", 3) == 0);
    }
    ASSERT_STR_EQ(sl_strerror(SL_ETOOBIG), "too big");
    ASSERT_STR_EQ(sl_strerror(-1000), "unknown error");
    ASSERT_STR_EQ(sl_strerror(5), "unknown error");
    ASSERT_STR_EQ(sl_errname(SL_EINVAL), "SL_EINVAL");
    ASSERT_EQ(sl_err_from_errno(ENOENT), SL_ENOENT);
    ASSERT_EQ(sl_err_from_errno(EPIPE), SL_EIO);
}

TEST(diag)
{
    struct sl_diag d;
    char out[600];

    ASSERT_EQ(sl_diag_set(&d, SL_EINVAL, "type", "bad %d", 7), SL_EINVAL);
    sl_diag_prefix(&d, "attributes");
    sl_diag_prefix(&d, "filter");
    ASSERT_STR_EQ(d.field, "filter.attributes.type");
    ASSERT_STR_EQ(sl_diag_format(&d, out, sizeof(out)),
                  "filter.attributes.type: bad 7");
    sl_diag_set(&d, SL_EINVAL, "[2].id", "x");
    sl_diag_prefix(&d, "items");
    ASSERT_STR_EQ(d.field, "items[2].id");
    sl_diag_clear(&d);
    sl_diag_prefix(&d, "spec");
    ASSERT_STR_EQ(d.field, "spec");
    /* NULL diag is accepted everywhere. */
    ASSERT_EQ(sl_diag_set(NULL, SL_EIO, "x", "y"), SL_EIO);
    sl_diag_prefix(NULL, "x");
    sl_diag_clear(NULL);
    /* Long paths truncate instead of overflowing. */
    {
        int i;
        sl_diag_set(&d, SL_EINVAL, "leaf", "m");
        for (i = 0; i < 100; i++)
            sl_diag_prefix(&d, "abcdefgh");
        ASSERT(strlen(d.field) == SL_DIAG_FIELD_MAX - 1);
    }
}

TEST(alloc_counts)
{
    long before = sl_alloc_live();
    char *p = sl_xmalloc(10), *q = sl_xstrndup("abcdef", 3);
    void *r = sl_xrealloc(NULL, 5);

    ASSERT_EQ(sl_alloc_live(), before + 3);
    ASSERT_STR_EQ(q, "abc");
    r = sl_xrealloc(r, 5000);
    ASSERT_EQ(sl_alloc_live(), before + 3);
    sl_free(p);
    sl_free(q);
    sl_free(r);
    sl_free(NULL);
    ASSERT_EQ(sl_alloc_live(), before);
}

TEST(buf_bounded)
{
    struct sl_buf b;
    char *s;
    size_t n;

    sl_buf_init(&b, 10);
    ASSERT_STR_EQ(sl_buf_str(&b), "");
    ASSERT_OK(sl_buf_appends(&b, "hello"));
    ASSERT_OK(sl_buf_appendf(&b, "%d%c", 42, 'x'));
    ASSERT_STR_EQ(b.data, "hello42x");
    ASSERT_EQ(sl_buf_appends(&b, "abc"), SL_ETOOBIG);
    ASSERT_STR_EQ(b.data, "hello42x"); /* unchanged on failure */
    ASSERT_EQ(sl_buf_appendf(&b, "%s", "abc"), SL_ETOOBIG);
    ASSERT_OK(sl_buf_appends(&b, "ab"));
    ASSERT_EQ(b.len, 10);
    ASSERT_EQ(sl_buf_appendc(&b, 'z'), SL_ETOOBIG);
    s = sl_buf_steal(&b, &n);
    ASSERT_EQ(n, 10);
    ASSERT_STR_EQ(s, "hello42xab");
    sl_free(s);
    ASSERT(b.data == NULL);
    s = sl_buf_steal(&b, NULL);
    ASSERT_STR_EQ(s, "");
    sl_free(s);
    sl_buf_fini(&b);
}

TEST(buf_grows_and_binary)
{
    struct sl_buf b;
    int i;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    for (i = 0; i < 10000; i++)
        ASSERT_OK(sl_buf_append(&b, "\0x", 2));
    ASSERT_EQ(b.len, 20000);
    ASSERT(b.data[1] == 'x' && b.data[20000] == '\0');
    sl_buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    ASSERT_STR_EQ(sl_buf_str(&b), "");
    sl_buf_fini(&b);
}

TEST(str_helpers)
{
    char s[] = "MiXeD";
    char dst[4];

    ASSERT(sl_str_eq_ci("Content-Type", "content-type"));
    ASSERT(!sl_str_eq_ci("Content-Type", "content-typ"));
    ASSERT(sl_str_prefix_ci("CE-ID", "ce-"));
    ASSERT(!sl_str_prefix_ci("c", "ce-"));
    ASSERT(sl_str_prefix("abc", "ab"));
    ASSERT(sl_str_suffix("a+json", "+json"));
    ASSERT(!sl_str_suffix("json", "+json"));
    ASSERT_STR_EQ(sl_str_lower(s), "mixed");
    ASSERT_EQ(sl_strlcpy(dst, "abcdef", sizeof(dst)), 6);
    ASSERT_STR_EQ(dst, "abc");
}

TEST(str_to_i64)
{
    int64_t v;

    ASSERT_OK(sl_str_to_i64("123", 3, false, INT64_MIN, INT64_MAX, &v));
    ASSERT_EQ(v, 123);
    ASSERT_OK(sl_str_to_i64("-9223372036854775808", 20, false, INT64_MIN,
                            INT64_MAX, &v));
    ASSERT(v == INT64_MIN);
    ASSERT_EQ(sl_str_to_i64("9223372036854775808", 19, false, INT64_MIN,
                            INT64_MAX, &v),
              SL_ETOOBIG);
    ASSERT_EQ(sl_str_to_i64("+1", 2, false, 0, 10, &v), SL_EINVAL);
    ASSERT_OK(sl_str_to_i64("+1", 2, true, 0, 10, &v));
    ASSERT_EQ(sl_str_to_i64("11", 2, true, 0, 10, &v), SL_ETOOBIG);
    ASSERT_EQ(sl_str_to_i64("", 0, true, 0, 10, &v), SL_EINVAL);
    ASSERT_EQ(sl_str_to_i64("-", 1, true, 0, 10, &v), SL_EINVAL);
    ASSERT_EQ(sl_str_to_i64("1x", 2, true, 0, 10, &v), SL_EINVAL);
    ASSERT_EQ(sl_str_to_i64("99999999999999999999x", 21, true, 0, 10, &v),
              SL_EINVAL);
}

TEST_MAIN()
