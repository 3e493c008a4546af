/*
 * test/unit/check.h - a tiny unit-test harness (after libuv's task.h).
 *
 * A test file defines tests with TEST(name) { ... } and ends with
 * TEST_MAIN(). Each ASSERT_* failure prints file:line and the values and
 * ends the test binary with status 1. After every test the harness checks
 * that the test freed everything it allocated through core/alloc.c.
 *
 * Data files are found relative to the repository root; tests are run from
 * there (tools/run-tests.sh does), or SL_TEST_ROOT names it.
 */
#ifndef SL_TEST_CHECK_H
#define SL_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"

typedef void check_test_fn(void);

struct check_test {
    const char *name;
    check_test_fn *fn;
};

#define CHECK_MAX_TESTS 512
extern struct check_test check_tests[CHECK_MAX_TESTS];
extern int check_ntests;

#define TEST(name)                                                  \
    static void test_##name(void);                                  \
    __attribute__((constructor)) static void check_reg_##name(void) \
    {                                                               \
        if (check_ntests < CHECK_MAX_TESTS)                         \
            check_tests[check_ntests++] =                           \
                (struct check_test){ #name, test_##name };          \
    }                                                               \
    static void test_##name(void)

#define CHECK_FAIL(...)                                 \
    do {                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                   \
        fputc('\n', stderr);                            \
        exit(1);                                        \
    } while (0)

#define ASSERT(cond)                                   \
    do {                                               \
        if (!(cond))                                   \
            CHECK_FAIL("assertion failed: %s", #cond); \
    } while (0)

#define ASSERT_EQ(a, b)                                                       \
    do {                                                                      \
        int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);             \
        if (check_a_ != check_b_)                                             \
            CHECK_FAIL("%s == %s: %" PRId64 " != %" PRId64, #a, #b, check_a_, \
                       check_b_);                                             \
    } while (0)

#define ASSERT_OK(expr)                                        \
    do {                                                       \
        int check_rc_ = (expr);                                \
        if (check_rc_ != 0)                                    \
            CHECK_FAIL("%s failed: %d (%s)", #expr, check_rc_, \
                       sl_strerror(check_rc_));                \
    } while (0)

/* Compare two C strings (NULL allowed on either side). */
#define ASSERT_STR_EQ(a, b)                                  \
    do {                                                     \
        const char *check_a_ = (a), *check_b_ = (b);         \
        if ((check_a_ == NULL) != (check_b_ == NULL) ||      \
            (check_a_ && strcmp(check_a_, check_b_) != 0))   \
            CHECK_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, \
                       check_a_ ? check_a_ : "(null)",       \
                       check_b_ ? check_b_ : "(null)");      \
    } while (0)

#define ASSERT_MEM_EQ(a, alen, b, blen)                                        \
    do {                                                                       \
        size_t check_al_ = (alen), check_bl_ = (blen);                         \
        if (check_al_ != check_bl_ ||                                          \
            (check_al_ > 0 && memcmp((a), (b), check_al_) != 0))               \
            CHECK_FAIL("%s == %s: contents differ (%zu vs %zu bytes)", #a, #b, \
                       check_al_, check_bl_);                                  \
    } while (0)

/*
 * Read a whole file (path relative to the repository root) into a NUL-
 * terminated heap buffer (sl_free it). Fails the test when unreadable.
 */
char *check_read_file(const char *path, size_t *plen);

/* Expand 'rel' to a path under the repository root (static buffer). */
const char *check_path(const char *rel);

#define TEST_MAIN()                                 \
    struct check_test check_tests[CHECK_MAX_TESTS]; \
    int check_ntests;                               \
    int main(int argc, char **argv)                 \
    {                                               \
        return check_run(argc, argv);               \
    }

int check_run(int argc, char **argv);

#endif
