/*
 * test/unit/uuid_test.c - version 4 UUIDs.
 */
#include "test/unit/check.h"

#include "core/uuid.h"

static int uuid_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

TEST(format)
{
    char u[SL_UUID_STR_LEN + 1];
    size_t i;

    ASSERT_OK(sl_uuid_v4(u));
    ASSERT_EQ(strlen(u), SL_UUID_STR_LEN);
    for (i = 0; i < SL_UUID_STR_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ASSERT(u[i] == '-');
        else
            ASSERT((u[i] >= '0' && u[i] <= '9') ||
                   (u[i] >= 'a' && u[i] <= 'f'));
    }
    ASSERT(sl_uuid_valid(u));
}

TEST(version_and_variant)
{
    char u[SL_UUID_STR_LEN + 1];
    int i, seen[4] = { 0 };

    for (i = 0; i < 1000; i++) {
        ASSERT_OK(sl_uuid_v4(u));
        ASSERT(u[14] == '4');
        ASSERT(strchr("89ab", u[19]) != NULL);
        seen[strchr("89ab", u[19]) - "89ab"]++;
    }
    /* All four variant nibbles turn up (each ~250 times). */
    for (i = 0; i < 4; i++)
        ASSERT(seen[i] > 100);
}

TEST(unique)
{
    enum { N = 1000 };
    char(*u)[SL_UUID_STR_LEN + 1] = sl_xmalloc(N * sizeof(*u));
    int i;

    for (i = 0; i < N; i++)
        ASSERT_OK(sl_uuid_v4(u[i]));
    qsort(u, N, sizeof(*u), uuid_cmp);
    for (i = 1; i < N; i++)
        ASSERT(strcmp(u[i - 1], u[i]) != 0);
    sl_free(u);
}

TEST(valid)
{
    ASSERT(sl_uuid_valid("123e4567-e89b-12d3-a456-426614174000"));
    ASSERT(sl_uuid_valid("123E4567-E89B-12D3-A456-426614174000"));
    ASSERT(sl_uuid_valid("00000000-0000-0000-0000-000000000000"));
    ASSERT(!sl_uuid_valid(NULL));
    ASSERT(!sl_uuid_valid(""));
    ASSERT(!sl_uuid_valid("123e4567-e89b-12d3-a456-42661417400"));
    ASSERT(!sl_uuid_valid("123e4567-e89b-12d3-a456-4266141740000"));
    ASSERT(!sl_uuid_valid("123e4567e89b12d3a456426614174000"));
    ASSERT(!sl_uuid_valid("123e4567-e89b-12d3-a456_426614174000"));
    ASSERT(!sl_uuid_valid("123e4567-e89b-12d3-a456-42661417400g"));
    ASSERT(!sl_uuid_valid("{123e4567-e89b-12d3-a456-426614174000}"));
    ASSERT(!sl_uuid_valid("123e4567-e89b-12d3-a4561426614174000"));
    ASSERT(!sl_uuid_valid(" 23e4567-e89b-12d3-a456-426614174000"));
}

TEST_MAIN()
