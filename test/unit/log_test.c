/*
 * test/unit/log_test.c - core/log: levels, threshold, logfmt quoting and
 * the record format, read back through a pipe.
 */
#include "test/unit/check.h"

#include <fcntl.h>
#include <unistd.h>

#include "core/log.h"

static int pipe_fds[2] = { -1, -1 };

/* Route records into a fresh non-blocking pipe. */
static void capture_start(void)
{
    ASSERT_OK(pipe(pipe_fds));
    ASSERT(fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK) == 0);
    sl_log_set_fd(pipe_fds[1]);
}

/* Everything written so far, NUL-terminated in 'buf'; restores stderr. */
static size_t capture_end(char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    while (len + 1 < cap &&
           (n = read(pipe_fds[0], buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    sl_log_set_fd(2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    sl_log_threshold = SL_LOG_INFO;
    return len;
}

/* The line after "ts=<24 chars> "; checks the timestamp's shape. */
static const char *after_ts(const char *line)
{
    const char *ts = line + 3;
    int i;

    ASSERT_EQ(strncmp(line, "ts=", 3), 0);
    /* 2026-11-26T20:30:00.123Z */
    for (i = 0; i < 24; i++) {
        char c = ts[i];
        switch (i) {
        case 4:
        case 7:
            ASSERT(c == '-');
            break;
        case 10:
            ASSERT(c == 'T');
            break;
        case 13:
        case 16:
            ASSERT(c == ':');
            break;
        case 19:
            ASSERT(c == '.');
            break;
        case 23:
            ASSERT(c == 'Z');
            break;
        default:
            ASSERT(c >= '0' && c <= '9');
        }
    }
    ASSERT(ts[24] == ' ');
    return ts + 25;
}

/* Cut the first line off '*p' (which must end in '\n') and return it. */
static const char *next_line(char **p)
{
    char *line = *p, *nl = strchr(line, '\n');

    ASSERT(nl != NULL);
    *nl = '\0';
    *p = nl + 1;
    return line;
}

TEST(level_names_and_parse)
{
    enum sl_log_level l = SL_LOG_ERROR;

    ASSERT_STR_EQ(sl_log_level_name(SL_LOG_ERROR), "error");
    ASSERT_STR_EQ(sl_log_level_name(SL_LOG_WARN), "warn");
    ASSERT_STR_EQ(sl_log_level_name(SL_LOG_INFO), "info");
    ASSERT_STR_EQ(sl_log_level_name(SL_LOG_DEBUG), "debug");
    ASSERT_STR_EQ(sl_log_level_name((enum sl_log_level)9), "unknown");
    ASSERT_OK(sl_log_level_parse("debug", &l));
    ASSERT_EQ(l, SL_LOG_DEBUG);
    ASSERT_OK(sl_log_level_parse("WARN", &l));
    ASSERT_EQ(l, SL_LOG_WARN);
    ASSERT_OK(sl_log_level_parse("error", &l));
    ASSERT_EQ(l, SL_LOG_ERROR);
    ASSERT_OK(sl_log_level_parse("info", &l));
    ASSERT_EQ(l, SL_LOG_INFO);
    ASSERT_EQ(sl_log_level_parse("verbose", &l), SL_EINVAL);
    ASSERT_EQ(sl_log_level_parse("", &l), SL_EINVAL);
    ASSERT_EQ(sl_log_level_parse(NULL, &l), SL_EINVAL);
    ASSERT_EQ(l, SL_LOG_INFO); /* untouched on failure */
}

TEST(ctx_init)
{
    struct sl_log_ctx c;
    char longname[300];

    sl_log_ctx_init(&c, "broker", "default", "my-broker");
    ASSERT_STR_EQ(c.comp, "broker");
    ASSERT_STR_EQ(c.obj, "default/my-broker");
    sl_log_ctx_init(&c, NULL, NULL, "solo");
    ASSERT(c.comp == NULL);
    ASSERT_STR_EQ(c.obj, "solo");
    sl_log_ctx_init(&c, "x", "ns-only", NULL);
    ASSERT_STR_EQ(c.obj, "ns-only");
    sl_log_ctx_init(&c, "x", NULL, NULL);
    ASSERT_STR_EQ(c.obj, "");
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    sl_log_ctx_init(&c, "x", "ns", longname);
    ASSERT_EQ(strlen(c.obj), sizeof(c.obj) - 1);
    ASSERT_EQ(strncmp(c.obj, "ns/nnn", 6), 0);
}

TEST(record_format)
{
    struct sl_log_ctx c;
    char buf[8192];
    const char *kv[] = { "err", "connection refused", "attempt", "3", NULL };
    char *line;

    sl_log_ctx_init(&c, "broker", "default", "b");
    capture_start();
    sl_log_write(SL_LOG_INFO, &c, NULL, "ready");
    sl_log_write(SL_LOG_ERROR, &c, kv, "cannot deliver to '%s'", "x");
    sl_log_write(SL_LOG_WARN, NULL, NULL, "%d%%", 50);
    capture_end(buf, sizeof(buf));

    /* Each line is one record; compare them whole. */
    line = buf;
    ASSERT_STR_EQ(after_ts(next_line(&line)),
                  "level=info comp=broker obj=default/b msg=ready");
    ASSERT_STR_EQ(after_ts(next_line(&line)),
                  "level=error comp=broker obj=default/b "
                  "msg=\"cannot deliver to 'x'\" "
                  "err=\"connection refused\" attempt=3");
    /* No context: component "sluice", no obj. */
    ASSERT_STR_EQ(after_ts(next_line(&line)), "level=warn comp=sluice msg=50%");
    ASSERT_STR_EQ(line, "");
}

TEST(threshold_drops_records)
{
    char buf[4096];
    int i, lines = 0;

    capture_start();
    sl_log_threshold = SL_LOG_WARN;
    SL_LOG(SL_LOG_DEBUG, NULL, "dropped %d", 1);
    SL_LOG(SL_LOG_INFO, NULL, "dropped %d", 2);
    SL_LOG(SL_LOG_WARN, NULL, "kept %d", 3);
    SL_LOG(SL_LOG_ERROR, NULL, "kept %d", 4);
    /* sl_log_write checks the level itself too. */
    sl_log_write(SL_LOG_DEBUG, NULL, NULL, "dropped");
    sl_log_threshold = SL_LOG_DEBUG;
    SL_LOG(SL_LOG_DEBUG, NULL, "kept %d", 5);
    capture_end(buf, sizeof(buf));
    for (i = 0; buf[i] != '\0'; i++)
        lines += buf[i] == '\n';
    ASSERT_EQ(lines, 3);
    ASSERT(strstr(buf, "dropped") == NULL);
    ASSERT(strstr(buf, "level=warn comp=sluice msg=\"kept 3\"\n") != NULL);
    ASSERT(strstr(buf, "level=error comp=sluice msg=\"kept 4\"\n") != NULL);
    ASSERT(strstr(buf, "level=debug comp=sluice msg=\"kept 5\"\n") != NULL);
}

TEST(quoting)
{
    char buf[8192];
    /* clang-format off */
    const char *kv[] = {
        "plain",   "abc-1.2/x:y",
        "space",   "a b",
        "quote",   "say \"hi\"",
        "eq",      "a=b",
        "nl",      "line1\nline2\r\tend",
        "bs",      "c:\\dir",
        "bsq",     "x y\\z",
        "ctl",     "\x01\x7f",
        "empty",   "",
        "utf8",    "caf\xc3\xa9",
        "bad key", "v",
        "",        "nokey",
        NULL,
    };
    /* clang-format on */
    const char *rest;

    capture_start();
    sl_log_write(SL_LOG_INFO, NULL, kv, "m");
    capture_end(buf, sizeof(buf));
    rest = after_ts(buf);
    ASSERT_STR_EQ(rest, "level=info comp=sluice msg=m plain=abc-1.2/x:y "
                        "space=\"a b\" quote=\"say \\\"hi\\\"\" eq=\"a=b\" "
                        "nl=\"line1\\nline2\\r\\tend\" bs=c:\\dir "
                        "bsq=\"x y\\\\z\" ctl=\"\\u0001\\u007f\" empty=\"\" "
                        "utf8=caf\xc3\xa9 bad_key=v _=nokey\n");
    /* An odd trailing key without value is dropped. */
    {
        const char *odd[] = { "k", "v", "dangling", NULL };
        capture_start();
        sl_log_write(SL_LOG_INFO, NULL, odd, "m");
        capture_end(buf, sizeof(buf));
        ASSERT_STR_EQ(after_ts(buf), "level=info comp=sluice msg=m k=v\n");
    }
}

TEST(long_records_are_cut_cleanly)
{
    static char big[20000], buf[20000];
    const char *kv[] = { "a", big, "b", "never", NULL };
    size_t len, i, quotes = 0;

    memset(big, 'x', sizeof(big) - 1);
    big[100] = ' ';
    capture_start();
    sl_log_write(SL_LOG_INFO, NULL, kv, "%s", big);
    len = capture_end(buf, sizeof(buf));
    /* One line, cut below the record limit, quotes balanced. */
    ASSERT(len <= 4096);
    ASSERT(buf[len - 1] == '\n');
    ASSERT(memchr(buf, '\n', len - 1) == NULL);
    ASSERT(len >= 5 && memcmp(buf + len - 5, "...\"\n", 5) == 0);
    for (i = 0; i < len; i++)
        quotes += buf[i] == '"';
    ASSERT_EQ(quotes % 2, 0);
    ASSERT(strstr(buf, " b=") == NULL);
    /* The message alone is cut at 2 KiB, marked with "...". */
    big[100] = 'x';
    capture_start();
    sl_log_write(SL_LOG_INFO, NULL, NULL, "%s", big);
    len = capture_end(buf, sizeof(buf));
    ASSERT(strstr(buf, " msg=xxx") != NULL);
    ASSERT(len >= 5 && memcmp(buf + len - 5, "x...\n", 5) == 0);
    /* A long unquoted value is quoted when the line cuts it. */
    {
        const char *kv2[] = { "a", big, NULL };
        capture_start();
        sl_log_write(SL_LOG_INFO, NULL, kv2, "m");
        len = capture_end(buf, sizeof(buf));
        ASSERT(strstr(buf, " a=\"xxx") != NULL);
        ASSERT(len <= 4096);
        ASSERT(memcmp(buf + len - 5, "...\"\n", 5) == 0);
    }
}

TEST_MAIN()
