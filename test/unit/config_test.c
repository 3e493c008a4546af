/*
 * test/unit/config_test.c - cmd/config: defaults, the precedence of file,
 * environment and flags, flag syntax, every type's errors, the config
 * file's own errors, the checks, the dump and the help.
 *
 * Files live in a fresh directory under $TMPDIR (or /tmp) that each test
 * removes again.
 */
#include "test/unit/check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd/config.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/yaml.h"

/* ---- helpers ---- */

struct tmp {
    char dir[256];
    char path[8][512]; /* scratch paths handed out by tmp_file/tmp_path */
    int next;
};

static void tmp_init(struct tmp *t)
{
    const char *base = getenv("TMPDIR");

    snprintf(t->dir, sizeof(t->dir), "%s/sl-config-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(t->dir) == NULL)
        CHECK_FAIL("mkdtemp: %s", strerror(errno));
    t->next = 0;
}

static void rm_rf(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char sub[1024];

    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        d = opendir(path);
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d != NULL)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void tmp_fini(struct tmp *t)
{
    rm_rf(t->dir);
}

/* A path under the temporary directory (valid until 8 more are made). */
static const char *tmp_path(struct tmp *t, const char *name)
{
    char *p = t->path[t->next++ % 8];
    size_t k = sl_strlcpy(p, t->dir, sizeof(t->path[0]));

    snprintf(p + k, sizeof(t->path[0]) - k, "/%s", name);
    return p;
}

/* Create file 'name' holding 'text' with 'mode'; returns its path. */
static const char *tmp_file(struct tmp *t, const char *name, const char *text,
                            mode_t mode)
{
    const char *p = tmp_path(t, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        CHECK_FAIL("cannot write %s: %s", p, strerror(errno));
    close(fd);
    ASSERT_OK(chmod(p, mode));
    return p;
}

static int argc_of(const char **argv)
{
    int n = 0;

    while (argv[n] != NULL)
        n++;
    return n;
}

/* sl_config_load with argv = { "serve", args..., NULL }. */
#define ARGS(...) ((const char *[]){ "serve", __VA_ARGS__, NULL })
#define NOARGS    ((const char *[]){ "serve", NULL })
#define ENV(...)  ((const char *[]){ __VA_ARGS__, NULL })

static void load_ok(struct sl_config *cfg, const char **env, const char **argv)
{
    struct sl_diag d;

    sl_diag_clear(&d);
    if (sl_config_load(cfg, argc_of(argv), (char *const *)argv,
                       (char *const *)env, &d) != 0)
        CHECK_FAIL("load failed: %s", d.msg);
}

/* Loading must fail with exactly 'want' as the message. */
static void load_fail(const char **env, const char **argv, const char *want)
{
    struct sl_config cfg;
    struct sl_diag d;
    int rc;

    sl_diag_clear(&d);
    rc = sl_config_load(&cfg, argc_of(argv), (char *const *)argv,
                        (char *const *)env, &d);
    sl_config_fini(&cfg);
    if (rc != SL_EINVAL)
        CHECK_FAIL("load returned %d, want SL_EINVAL (%s)", rc, want);
    ASSERT_STR_EQ(d.msg, want);
}

/* Loading 'argv' (plus 'env') succeeds and the check fails with 'want'. */
static void check_fail(const char **env, const char **argv, const char *want)
{
    struct sl_config cfg;
    struct sl_diag d;

    load_ok(&cfg, env, argv);
    sl_diag_clear(&d);
    ASSERT_EQ(sl_config_check(&cfg, &d), SL_EINVAL);
    ASSERT_STR_EQ(d.msg, want);
    sl_config_fini(&cfg);
}

static void check_ok(const char **env, const char **argv)
{
    struct sl_config cfg;
    struct sl_diag d;

    load_ok(&cfg, env, argv);
    sl_diag_clear(&d);
    if (sl_config_check(&cfg, &d) != 0)
        CHECK_FAIL("check failed: %s", d.msg);
    sl_config_fini(&cfg);
}

/* Run 'fn' writing to a temporary FILE and return what it wrote. */
static char *capture(int (*fn)(const struct sl_config *, FILE *),
                     const struct sl_config *cfg, void (*help)(FILE *))
{
    FILE *f = tmpfile();
    struct sl_buf b;
    char chunk[512];
    size_t n;

    ASSERT(f != NULL);
    if (fn != NULL)
        ASSERT_OK(fn(cfg, f));
    else
        help(f);
    rewind(f);
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ASSERT_OK(sl_buf_append(&b, chunk, n));
    fclose(f);
    return sl_buf_steal(&b, NULL);
}

/* ---- defaults and sources ---- */

TEST(defaults)
{
    struct sl_config cfg;
    size_t i;

    load_ok(&cfg, NULL, NOARGS);
    ASSERT(!cfg.help && !cfg.check_config);
    ASSERT(cfg.config == NULL);
    ASSERT_STR_EQ(cfg.data_dir, "./sluice-data");
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:8001");
    ASSERT(cfg.api_token_file == NULL);
    ASSERT_EQ(cfg.api_max_body, 3 * 1024 * 1024);
    ASSERT_STR_EQ(cfg.ingress_addr, "127.0.0.1:8080");
    ASSERT_STR_EQ(cfg.ingress_url, "http://127.0.0.1:8080");
    ASSERT_EQ(cfg.max_event_size, 1024 * 1024);
    ASSERT_STR_EQ(cfg.serving_addr, "127.0.0.1:8081");
    ASSERT_STR_EQ(cfg.metrics_addr, "127.0.0.1:9092");
    ASSERT_EQ(cfg.max_connections, 1024);
    ASSERT_EQ(cfg.shutdown_timeout_ns, 30 * (int64_t)1000000000);
    ASSERT_EQ(cfg.log_level, SL_LOG_INFO);
    ASSERT_EQ(cfg.default_backend, SL_CONFIG_BACKEND_EMBEDDED);
    ASSERT(cfg.redis_url == NULL && cfg.kafka_bootstrap == NULL);
    ASSERT_EQ(cfg.files.n, 0);
    for (i = 0; i < SL_CONFIG_MAX_SETTINGS; i++)
        ASSERT_EQ(cfg.src[i], SL_CONFIG_DEFAULT);
    ASSERT_EQ(sl_config_source(&cfg, "data-dir"), SL_CONFIG_DEFAULT);
    ASSERT_EQ(sl_config_source(&cfg, "data_dir"), SL_ENOENT);
    sl_config_fini(&cfg);
    /* fini leaves nothing behind and a second load works. */
    load_ok(&cfg, ENV("SLUICE_LOG_LEVEL=warn"), NOARGS);
    ASSERT_EQ(cfg.log_level, SL_LOG_WARN);
    sl_config_fini(&cfg);
}

TEST(precedence)
{
    struct tmp t;
    struct sl_config cfg;
    const char *conf;
    char confarg[600], envconf[600];

    tmp_init(&t);
    conf = tmp_file(&t, "sluice.yaml",
                    "api-addr: 127.0.0.1:1001\n"
                    "ingress-addr: 127.0.0.1:1002\n"
                    "metrics-addr: 127.0.0.1:1003\n"
                    "log-level: debug\n"
                    "filename: [a.yaml, /abs/b.yaml]\n",
                    0600);
    snprintf(confarg, sizeof(confarg), "--config=%s", conf);

    /* defaults < file */
    load_ok(&cfg, NULL, ARGS(confarg));
    ASSERT_STR_EQ(cfg.config, conf);
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:1001");
    ASSERT_STR_EQ(cfg.serving_addr, "127.0.0.1:8081");
    ASSERT_EQ(cfg.log_level, SL_LOG_DEBUG);
    ASSERT_EQ(cfg.files.n, 2);
    ASSERT_STR_EQ(cfg.files.v[0], tmp_path(&t, "a.yaml"));
    ASSERT_STR_EQ(cfg.files.v[1], "/abs/b.yaml");
    sl_config_fini(&cfg);

    /* file < env < flags, setting by setting; lists are replaced. */
    load_ok(&cfg,
            ENV("SLUICE_API_ADDR=127.0.0.1:2001",
                "SLUICE_INGRESS_ADDR=127.0.0.1:2002", "SLUICE_FILENAME=c,d"),
            ARGS("--api-addr", "127.0.0.1:3001", confarg));
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:3001");
    ASSERT_STR_EQ(cfg.ingress_addr, "127.0.0.1:2002");
    ASSERT_STR_EQ(cfg.metrics_addr, "127.0.0.1:1003");
    ASSERT_STR_EQ(cfg.serving_addr, "127.0.0.1:8081");
    ASSERT_EQ(cfg.files.n, 2);
    ASSERT_STR_EQ(cfg.files.v[0], "c");
    ASSERT_STR_EQ(cfg.files.v[1], "d");
    ASSERT_EQ(sl_config_source(&cfg, "api-addr"), SL_CONFIG_FLAG);
    ASSERT_EQ(sl_config_source(&cfg, "ingress-addr"), SL_CONFIG_ENV);
    ASSERT_EQ(sl_config_source(&cfg, "metrics-addr"), SL_CONFIG_FILE);
    ASSERT_EQ(sl_config_source(&cfg, "serving-addr"), SL_CONFIG_DEFAULT);
    ASSERT_EQ(sl_config_source(&cfg, "filename"), SL_CONFIG_ENV);
    sl_config_fini(&cfg);

    /* An empty -f clears the list like any optional setting. */
    load_ok(&cfg, ENV("SLUICE_FILENAME=c"), ARGS("--filename="));
    ASSERT_EQ(cfg.files.n, 0);
    ASSERT_EQ(sl_config_source(&cfg, "filename"), SL_CONFIG_FLAG);
    sl_config_fini(&cfg);

    /* Flags replace the environment's list and append to each other. */
    load_ok(&cfg, ENV("SLUICE_FILENAME=c,,d,"),
            ARGS("-f", "x", "-fy", "-f=z", "--filename", "w"));
    ASSERT_EQ(cfg.files.n, 4);
    ASSERT_STR_EQ(cfg.files.v[0], "x");
    ASSERT_STR_EQ(cfg.files.v[1], "y");
    ASSERT_STR_EQ(cfg.files.v[2], "z");
    ASSERT_STR_EQ(cfg.files.v[3], "w");
    sl_config_fini(&cfg);

    /* SLUICE_CONFIG names the file; --config wins over it. */
    snprintf(envconf, sizeof(envconf), "SLUICE_CONFIG=%s", conf);
    load_ok(&cfg, ENV(envconf), NOARGS);
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:1001");
    ASSERT_STR_EQ(cfg.config, conf);
    sl_config_fini(&cfg);
    load_fail(ENV(envconf), ARGS("--config", "/nonexistent/sluice.yaml"),
              "cannot read config file '/nonexistent/sluice.yaml': No such "
              "file or directory");

    /* An empty value unsets an optional setting from a lower source. */
    conf = tmp_file(&t, "redis.yaml",
                    "redis-url: redis://h:6379\napi-token-file: tok\n", 0600);
    snprintf(confarg, sizeof(confarg), "--config=%s", conf);
    load_ok(&cfg, ENV("SLUICE_API_TOKEN_FILE="), ARGS(confarg, "--redis-url="));
    ASSERT(cfg.redis_url == NULL);
    ASSERT(cfg.api_token_file == NULL);
    ASSERT_EQ(sl_config_source(&cfg, "api-token-file"), SL_CONFIG_ENV);
    ASSERT_EQ(sl_config_source(&cfg, "redis-url"), SL_CONFIG_FLAG);
    sl_config_fini(&cfg);
    tmp_fini(&t);
}

TEST(flag_syntax)
{
    struct sl_config cfg;

    load_ok(&cfg, NULL,
            ARGS("--check-config", "--log-level=warn", "--log-level", "error",
                 "--max-connections=+7"));
    ASSERT(cfg.check_config);
    ASSERT_EQ(cfg.log_level, SL_LOG_ERROR); /* the last one wins */
    ASSERT_EQ(cfg.max_connections, 7);
    sl_config_fini(&cfg);
    load_ok(&cfg, NULL, ARGS("--check-config", "--check-config=false"));
    ASSERT(!cfg.check_config);
    sl_config_fini(&cfg);
    load_ok(&cfg, NULL, ARGS("--check-config=TRUE"));
    ASSERT(cfg.check_config);
    sl_config_fini(&cfg);
    /* A value may start with '-'. */
    load_ok(&cfg, NULL, ARGS("--data-dir", "-odd"));
    ASSERT_STR_EQ(cfg.data_dir, "-odd");
    sl_config_fini(&cfg);

    /* --help stops at the flags: no file, no values are read. */
    load_ok(&cfg, ENV("SLUICE_CONFIG=/nonexistent"),
            ARGS("--api-addr", "junk", "-h"));
    ASSERT(cfg.help);
    sl_config_fini(&cfg);
    load_ok(&cfg, NULL, ARGS("--help"));
    ASSERT(cfg.help);
    sl_config_fini(&cfg);
    load_ok(&cfg, NULL, ARGS("--help", "--help=false"));
    ASSERT(!cfg.help);
    sl_config_fini(&cfg);
    load_fail(NULL, ARGS("-hx"), "invalid -h 'x': expected true or false");

    load_fail(NULL, ARGS("--api-adr", "x"),
              "unknown flag '--api-adr' (see 'sluice serve --help')");
    load_fail(NULL, ARGS("--api-adr=x"),
              "unknown flag '--api-adr' (see 'sluice serve --help')");
    load_fail(NULL, ARGS("-x"),
              "unknown flag '-x' (see 'sluice serve --help')");
    load_fail(NULL, ARGS("--data-dir"), "flag --data-dir needs a value (DIR)");
    load_fail(NULL, ARGS("-f"), "flag -f needs a value (PATH)");
    load_fail(NULL, ARGS("extra"),
              "unexpected argument 'extra' (serve takes only flags)");
    load_fail(NULL, ARGS("--"),
              "unexpected argument '--' (serve takes only flags)");
    load_fail(NULL, ARGS("-"),
              "unexpected argument '-' (serve takes only "
              "flags)");
    load_fail(NULL, ARGS("--check-config", "false"),
              "unexpected argument 'false' (serve takes only flags)");
}

TEST(environment_names)
{
    struct sl_config cfg;

    load_ok(&cfg,
            ENV("SLUICE_DATA_DIR=/var/lib/sluice", "SLUICE_MAX_EVENT_SIZE=2MiB",
                "SLUICE_SHUTDOWN_TIMEOUT=PT1M", "SLUICE_DEFAULT_BACKEND=kafka",
                "SLUICE_KAFKA_BOOTSTRAP=k1:9092,k2:9092",
                /* Not settings, or not from the environment: ignored. */
                "SLUICE_CHECK_CONFIG=true", "SLUICE_HELP=1",
                "SLUICE_SERVER=http://x", "SLUICE_DATA_DIRX=nope",
                "XSLUICE_DATA_DIR=nope", "sluice_data_dir=nope"),
            NOARGS);
    ASSERT_STR_EQ(cfg.data_dir, "/var/lib/sluice");
    ASSERT_EQ(cfg.max_event_size, 2 * 1024 * 1024);
    ASSERT_EQ(cfg.shutdown_timeout_ns, 60 * (int64_t)1000000000);
    ASSERT_EQ(cfg.default_backend, SL_CONFIG_BACKEND_KAFKA);
    ASSERT_STR_EQ(cfg.kafka_bootstrap, "k1:9092,k2:9092");
    ASSERT(!cfg.check_config && !cfg.help);
    sl_config_fini(&cfg);
    load_fail(ENV("SLUICE_API_ADDR=foo"), NOARGS,
              "invalid SLUICE_API_ADDR 'foo': expected host:port");
    load_fail(ENV("SLUICE_DATA_DIR="), NOARGS,
              "invalid SLUICE_DATA_DIR '': expected a path");
}

/* ---- every type's errors ---- */

TEST(type_errors)
{
    /* bool */
    load_fail(NULL, ARGS("--check-config=maybe"),
              "invalid --check-config 'maybe': expected true or false");
    /* path */
    load_fail(NULL, ARGS("--data-dir="),
              "invalid --data-dir '': expected a path");
    /* listen address */
    load_fail(NULL, ARGS("--api-addr", "foo"),
              "invalid --api-addr 'foo': expected host:port");
    load_fail(NULL, ARGS("--api-addr", "foo:"),
              "invalid --api-addr 'foo:': expected host:port");
    load_fail(NULL, ARGS("--api-addr", ":8001"),
              "invalid --api-addr ':8001': expected host:port");
    load_fail(NULL, ARGS("--api-addr", "h:80x"),
              "invalid --api-addr 'h:80x': expected host:port");
    load_fail(NULL, ARGS("--api-addr", "h:65536"),
              "invalid --api-addr 'h:65536': port out of range (0-65535)");
    load_fail(NULL, ARGS("--api-addr", "h:1234567"),
              "invalid --api-addr 'h:1234567': port out of range (0-65535)");
    load_fail(NULL, ARGS("--api-addr", "::1:80"),
              "invalid --api-addr '::1:80': expected host:port (an IPv6 "
              "address goes in brackets: [::1]:8001)");
    load_fail(NULL, ARGS("--api-addr", "[::1"),
              "invalid --api-addr '[::1': invalid IPv6 address");
    load_fail(NULL, ARGS("--api-addr", "[::zz]:80"),
              "invalid --api-addr '[::zz]:80': invalid IPv6 address");
    load_fail(NULL, ARGS("--api-addr", "[::1]80"),
              "invalid --api-addr '[::1]80': expected host:port");
    load_fail(NULL, ARGS("--api-addr", "300.1.1.1:80"),
              "invalid --api-addr '300.1.1.1:80': invalid IPv4 address");
    load_fail(NULL, ARGS("--api-addr", "a..b:80"),
              "invalid --api-addr 'a..b:80': invalid host name");
    load_fail(NULL, ARGS("--api-addr", "-a:80"),
              "invalid --api-addr '-a:80': invalid host name");
    load_fail(NULL, ARGS("--api-addr", "a b:80"),
              "invalid --api-addr 'a b:80': invalid host name");
    load_fail(NULL, ARGS("--metrics-addr=\x01:80"),
              "invalid --metrics-addr '?:80': invalid host name");
    /* listen address list */
    load_fail(NULL, ARGS("--kafka-bootstrap", "k1:9092,k2"),
              "invalid --kafka-bootstrap 'k1:9092,k2': expected "
              "host:port[,host:port...]");
    load_fail(NULL, ARGS("--kafka-bootstrap", "k1:9092,"),
              "invalid --kafka-bootstrap 'k1:9092,': expected "
              "host:port[,host:port...]");
    /* URL */
    load_fail(NULL, ARGS("--ingress-url", "ftp://h"),
              "invalid --ingress-url 'ftp://h': expected an absolute http:// "
              "or https:// URL");
    load_fail(NULL, ARGS("--ingress-url", "127.0.0.1:8080"),
              "invalid --ingress-url '127.0.0.1:8080': expected an absolute "
              "http:// or https:// URL");
    load_fail(NULL, ARGS("--ingress-url", "http://"),
              "invalid --ingress-url 'http://': the URL has no host");
    load_fail(NULL, ARGS("--ingress-url", "http://h:0"),
              "invalid --ingress-url 'http://h:0': port out of range "
              "(1-65535)");
    load_fail(NULL, ARGS("--ingress-url", "http://h/?q=1"),
              "invalid --ingress-url 'http://h/?q=1': a URL here cannot have "
              "a query or a fragment");
    load_fail(NULL, ARGS("--ingress-url", "http://u:p@h"),
              "invalid --ingress-url 'http://u:p@h': a URL here cannot carry "
              "credentials");
    load_fail(NULL, ARGS("--ingress-url", "http://h x"),
              "invalid --ingress-url 'http://h x': a URL cannot contain "
              "spaces, control or non-ASCII characters");
    load_fail(NULL, ARGS("--ingress-url", "http://-h:80"),
              "invalid --ingress-url 'http://-h:80': invalid host name");
    load_fail(NULL, ARGS("--redis-url", "http://h"),
              "invalid --redis-url 'http://h': expected an absolute redis:// "
              "URL");
    load_fail(NULL, ARGS("--redis-url", "redis://h/db0"),
              "invalid --redis-url 'redis://h/db0': the path of a redis:// URL "
              "is the database number (redis://host:6379/0)");
    /* int */
    load_fail(NULL, ARGS("--max-connections", "many"),
              "invalid --max-connections 'many': expected an integer from 1 to "
              "1000000");
    load_fail(NULL, ARGS("--max-connections", "0"),
              "invalid --max-connections '0': expected an integer from 1 to "
              "1000000");
    load_fail(NULL, ARGS("--max-connections", "1000001"),
              "invalid --max-connections '1000001': expected an integer from "
              "1 to 1000000");
    load_fail(NULL, ARGS("--max-connections", "99999999999999999999"),
              "invalid --max-connections '99999999999999999999': expected an "
              "integer from 1 to 1000000");
    /* size */
    load_fail(NULL, ARGS("--api-max-body", "1mb"),
              "invalid --api-max-body '1mb': expected a size such as 1048576, "
              "512KiB or 3MiB");
    load_fail(NULL, ARGS("--api-max-body", "MiB"),
              "invalid --api-max-body 'MiB': expected a size such as 1048576, "
              "512KiB or 3MiB");
    load_fail(NULL, ARGS("--api-max-body", "1.5MiB"),
              "invalid --api-max-body '1.5MiB': expected a size such as "
              "1048576, 512KiB or 3MiB");
    load_fail(NULL, ARGS("--api-max-body", "-1"),
              "invalid --api-max-body '-1': expected a size such as 1048576, "
              "512KiB or 3MiB");
    load_fail(NULL, ARGS("--api-max-body", "0"),
              "invalid --api-max-body '0': must be from 1 to 1GiB");
    load_fail(NULL, ARGS("--api-max-body", "2GiB"),
              "invalid --api-max-body '2GiB': must be from 1 to 1GiB");
    load_fail(NULL, ARGS("--max-event-size", "99999999999999999999Gi"),
              "invalid --max-event-size '99999999999999999999Gi': must be "
              "from 1 to 64MiB");
    load_fail(NULL, ARGS("--max-event-size", "9000000000Gi"),
              "invalid --max-event-size '9000000000Gi': must be from 1 to "
              "64MiB");
    /* duration */
    load_fail(NULL, ARGS("--shutdown-timeout", "30s"),
              "invalid --shutdown-timeout '30s': expected an ISO-8601 duration "
              "such as PT30S or PT1M30S");
    load_fail(NULL, ARGS("--shutdown-timeout", "-PT1S"),
              "invalid --shutdown-timeout '-PT1S': must be from PT0S to PT1H");
    load_fail(NULL, ARGS("--shutdown-timeout", "PT2H"),
              "invalid --shutdown-timeout 'PT2H': must be from PT0S to PT1H");
    load_fail(NULL, ARGS("--shutdown-timeout", "P999999999Y"),
              "invalid --shutdown-timeout 'P999999999Y': must be from PT0S to "
              "PT1H");
    /* log level and enum */
    load_fail(NULL, ARGS("--log-level", "loud"),
              "invalid --log-level 'loud': expected error, warn, info or "
              "debug");
    load_fail(NULL, ARGS("--default-backend", "memory"),
              "invalid --default-backend 'memory': expected embedded, redis or "
              "kafka");
    /* Long and odd values are shown cut and cleaned. */
    load_fail(NULL,
              ARGS("--log-level", "0123456789012345678901234567890123456789"
                                  "0123456789012345678901234567890123456789"),
              "invalid --log-level '"
              "0123456789012345678901234567890123456789"
              "012345678901234567890123456789012345...': expected error, "
              "warn, info or debug");
}

TEST(shown_values_cut_on_a_character)
{
    char arg[200], want[300];
    size_t i, k;

    /* "a" and 40 two-byte characters: the 38th straddles the cut. */
    k = (size_t)snprintf(arg, sizeof(arg), "--log-level=a");
    for (i = 0; i < 40; i++)
        k += (size_t)snprintf(arg + k, sizeof(arg) - k, "\xc3\xa9");
    k = (size_t)snprintf(want, sizeof(want), "invalid --log-level 'a");
    for (i = 0; i < 37; i++)
        k += (size_t)snprintf(want + k, sizeof(want) - k, "\xc3\xa9");
    snprintf(want + k, sizeof(want) - k,
             "...': expected error, warn, info or debug");
    load_fail(NULL, ARGS(arg), want);
}

TEST(type_values)
{
    struct sl_config cfg;

    load_ok(&cfg, NULL,
            ARGS("--api-addr", "[::1]:8001", "--ingress-addr", "localhost:0",
                 "--metrics-addr", "my_host.example.com:9",
                 "--serving-addr=0.0.0.0:65535", "--api-max-body", "512KiB",
                 "--max-event-size", "1k", "--ingress-url", "https://h:1/base/",
                 "--redis-url", "redis://:pw@h:6379/15", "--shutdown-timeout",
                 "PT0S", "--default-backend", "redis", "--log-level", "debug"));
    ASSERT_STR_EQ(cfg.api_addr, "[::1]:8001");
    ASSERT_STR_EQ(cfg.ingress_addr, "localhost:0");
    ASSERT_EQ(cfg.api_max_body, 512 * 1024);
    ASSERT_EQ(cfg.max_event_size, 1000);
    ASSERT_STR_EQ(cfg.ingress_url, "https://h:1/base");
    ASSERT_STR_EQ(cfg.redis_url, "redis://:pw@h:6379/15");
    ASSERT_EQ(cfg.shutdown_timeout_ns, 0);
    ASSERT_EQ(cfg.default_backend, SL_CONFIG_BACKEND_REDIS);
    ASSERT_EQ(cfg.log_level, SL_LOG_DEBUG);
    sl_config_fini(&cfg);
    load_ok(&cfg, NULL,
            ARGS("--ingress-url", "http://h//", "--api-max-body", "1GiB",
                 "--max-event-size", "64Mi", "--shutdown-timeout", "PT1H"));
    ASSERT_STR_EQ(cfg.ingress_url, "http://h");
    ASSERT_EQ(cfg.api_max_body, 1024 * 1024 * 1024);
    ASSERT_EQ(cfg.max_event_size, 64 * 1024 * 1024);
    sl_config_fini(&cfg);
}

/* ---- the config file ---- */

/* Load with --config naming a file holding 'text'; expect 'want'. */
static void file_fail(struct tmp *t, const char *text, const char *want)
{
    const char *conf = tmp_file(t, "c.yaml", text, 0600);
    const char *at = strstr(want, "%s");
    char arg[600], full[1200];

    snprintf(arg, sizeof(arg), "--config=%s", conf);
    /* 'want' names the file as "%s". */
    ASSERT(at != NULL);
    snprintf(full, sizeof(full), "%.*s%s%s", (int)(at - want), want, conf,
             at + 2);
    load_fail(NULL, ARGS(arg), full);
}

TEST(config_file)
{
    struct tmp t;
    struct sl_config cfg;
    const char *conf;
    char arg[600], want[600];

    tmp_init(&t);
    file_fail(&t, "api-adr: 127.0.0.1:1\n",
              "unknown setting 'api-adr' in config file '%s'");
    file_fail(&t, "check-config: true\n",
              "setting 'check-config' cannot be used in config file '%s'");
    file_fail(&t, "config: other.yaml\n",
              "setting 'config' cannot be used in config file '%s'");
    file_fail(&t, "- a\n- b\n",
              "config file '%s' must be a YAML mapping of settings (name: "
              "value)");
    file_fail(&t, "a: 1\n---\nb: 2\n",
              "config file '%s' holds 2 YAML documents, expected one");
    file_fail(&t, "api-addr: [\n",
              "config file '%s': line 2 column 1: did not find expected node "
              "content while parsing a flow node");
    file_fail(&t, "api-addr: foo\n",
              "invalid api-addr 'foo' in '%s': expected host:port");
    file_fail(&t, "data-dir:\n",
              "invalid data-dir '' in '%s': expected a path");
    file_fail(&t, "api-addr: [a, b]\n",
              "invalid api-addr in '%s': expected a single value, not a list");
    file_fail(&t, "log-level: {a: b}\n",
              "invalid log-level in '%s': expected a single value, not a "
              "mapping");
    file_fail(&t, "max-connections: 1.5\n",
              "invalid max-connections '1.5' in '%s': expected an integer from "
              "1 to 1000000");
    file_fail(&t, "filename: {a: b}\n",
              "invalid filename in '%s': expected a path or a list of paths, "
              "not a mapping");
    file_fail(&t, "filename: [a, [b]]\n",
              "invalid filename in '%s': item 2 is not a path");
    file_fail(&t, "filename: [a, '']\n",
              "invalid filename '' in '%s': expected a path");

    /* YAML types become the text the flags would carry. */
    conf = tmp_file(&t, "ok.yaml",
                    "# a comment\n"
                    "max-connections: 10\n"
                    "api-max-body: 1048576\n"
                    "max-event-size: 2MiB\n"
                    "shutdown-timeout: PT5S\n"
                    "data-dir: data\n"
                    "api-token-file: /run/secrets/token\n"
                    "filename: one.yaml\n"
                    "kafka-bootstrap: ~\n",
                    0600);
    snprintf(arg, sizeof(arg), "--config=%s", conf);
    load_ok(&cfg, NULL, ARGS(arg));
    ASSERT_EQ(cfg.max_connections, 10);
    ASSERT_EQ(cfg.api_max_body, 1048576);
    ASSERT_EQ(cfg.max_event_size, 2 * 1024 * 1024);
    ASSERT_EQ(cfg.shutdown_timeout_ns, 5 * (int64_t)1000000000);
    ASSERT_STR_EQ(cfg.data_dir, tmp_path(&t, "data"));
    ASSERT_STR_EQ(cfg.api_token_file, "/run/secrets/token");
    ASSERT_EQ(cfg.files.n, 1);
    ASSERT_STR_EQ(cfg.files.v[0], tmp_path(&t, "one.yaml"));
    ASSERT(cfg.kafka_bootstrap == NULL);
    ASSERT_EQ(sl_config_source(&cfg, "data-dir"), SL_CONFIG_FILE);
    sl_config_fini(&cfg);

    /* An empty file, or one holding only null, sets nothing. */
    conf = tmp_file(&t, "empty.yaml", "# nothing\n", 0600);
    snprintf(arg, sizeof(arg), "--config=%s", conf);
    load_ok(&cfg, NULL, ARGS(arg));
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:8001");
    sl_config_fini(&cfg);
    conf = tmp_file(&t, "null.yaml", "~\n", 0600);
    snprintf(arg, sizeof(arg), "--config=%s", conf);
    load_ok(&cfg, NULL, ARGS(arg));
    ASSERT_STR_EQ(cfg.api_addr, "127.0.0.1:8001");
    sl_config_fini(&cfg);

    /* Over 1 MiB. */
    {
        size_t n = 1024 * 1024 + 1;
        char *big = sl_xmalloc(n + 1);
        memset(big, '#', n);
        big[n] = '\0';
        conf = tmp_file(&t, "big.yaml", big, 0600);
        sl_free(big);
        snprintf(arg, sizeof(arg), "--config=%s", conf);
        snprintf(want, sizeof(want), "config file '%s' is larger than 1024 KiB",
                 conf);
        load_fail(NULL, ARGS(arg), want);
    }

    /* A directory, and a file over the limit. */
    snprintf(arg, sizeof(arg), "--config=%s", t.dir);
    snprintf(want, sizeof(want), "cannot read config file '%s': Is a directory",
             t.dir);
    load_fail(NULL, ARGS(arg), want);
    tmp_fini(&t);
}

/* ---- checks ---- */

TEST(check_loopback_and_token)
{
    struct tmp t;
    const char *tok;
    char arg[600], want[900], env[600];

    tmp_init(&t);
    check_ok(NULL, NOARGS);
    check_ok(NULL, ARGS("--api-addr", "127.1.2.3:0"));
    check_ok(NULL, ARGS("--api-addr", "localhost:8001"));
    check_ok(NULL, ARGS("--api-addr", "[::1]:8001"));
    check_ok(NULL, ARGS("--api-addr", "[::ffff:127.0.0.1]:8001"));
    check_fail(NULL, ARGS("--api-addr", "0.0.0.0:8001"),
               "refusing to serve the API on non-loopback address "
               "'0.0.0.0:8001' without --api-token-file");
    check_fail(NULL, ARGS("--api-addr", "[::]:8001"),
               "refusing to serve the API on non-loopback address '[::]:8001' "
               "without --api-token-file");
    check_fail(ENV("SLUICE_API_ADDR=10.1.2.3:1"), NOARGS,
               "refusing to serve the API on non-loopback address "
               "'10.1.2.3:1' without --api-token-file");
    check_fail(NULL, ARGS("--api-addr", "api.example.com:443"),
               "refusing to serve the API on non-loopback address "
               "'api.example.com:443' without --api-token-file");

    /* A good token file makes any address fine. */
    tok = tmp_file(&t, "token", "s3cr3t-T0ken\n", 0600);
    check_ok(NULL, ARGS("--api-addr", "0.0.0.0:8001", "--api-token-file", tok));
    tok = tmp_file(&t, "token", "s3cr3t\r\n", 0640);
    check_ok(NULL, ARGS("--api-token-file", tok));
    tok = tmp_file(&t, "token", "s3cr3t", 0400);
    check_ok(NULL, ARGS("--api-token-file", tok));

    /* Open to others, or writable by the group. */
    tok = tmp_file(&t, "token", "s3cr3t\n", 0644);
    snprintf(want, sizeof(want),
             "--api-token-file '%s' is open to other users (mode 0644): "
             "chmod 600 it",
             tok);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    tok = tmp_file(&t, "token", "s3cr3t\n", 0620);
    snprintf(want, sizeof(want),
             "--api-token-file '%s' is open to other users (mode 0620): "
             "chmod 600 it",
             tok);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    tok = tmp_file(&t, "token", "s3cr3t\n", 0602);
    snprintf(env, sizeof(env), "SLUICE_API_TOKEN_FILE=%s", tok);
    snprintf(want, sizeof(want),
             "SLUICE_API_TOKEN_FILE '%s' is open to other users (mode 0602): "
             "chmod 600 it",
             tok);
    check_fail(ENV(env), NOARGS, want);

    /* Empty, blank, not one token, too long, missing, not a file. */
    tok = tmp_file(&t, "token", "", 0600);
    snprintf(want, sizeof(want), "--api-token-file '%s' is empty", tok);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    tok = tmp_file(&t, "token", "\n", 0600);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    tok = tmp_file(&t, "token", "two words\n", 0600);
    snprintf(want, sizeof(want),
             "--api-token-file '%s' must hold one token of visible ASCII "
             "characters (no spaces, one line)",
             tok);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    tok = tmp_file(&t, "token", "a\nb\n", 0600);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    {
        char big[5000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        tok = tmp_file(&t, "token", big, 0600);
        snprintf(want, sizeof(want),
                 "--api-token-file '%s' holds more than 4096 bytes", tok);
        check_fail(NULL, ARGS("--api-token-file", tok), want);
    }
    tok = tmp_path(&t, "missing");
    snprintf(want, sizeof(want),
             "cannot read --api-token-file '%s': No such file or directory",
             tok);
    check_fail(NULL, ARGS("--api-token-file", tok), want);
    snprintf(want, sizeof(want), "--api-token-file '%s' is not a regular file",
             t.dir);
    check_fail(NULL, ARGS("--api-token-file", t.dir), want);

    /* From the config file, the message says so. */
    tok = tmp_file(&t, "token", "", 0600);
    tmp_file(&t, "c.yaml", "api-token-file: token\n", 0600);
    snprintf(arg, sizeof(arg), "--config=%s", tmp_path(&t, "c.yaml"));
    snprintf(want, sizeof(want), "api-token-file '%s' in '%s' is empty", tok,
             tmp_path(&t, "c.yaml"));
    check_fail(NULL, ARGS(arg), want);
    tmp_fini(&t);
}

TEST(check_backends_and_listeners)
{
    check_fail(NULL, ARGS("--default-backend", "redis"),
               "--default-backend redis needs --redis-url");
    check_ok(NULL, ARGS("--default-backend", "redis", "--redis-url",
                        "redis://127.0.0.1:6379"));
    check_fail(ENV("SLUICE_DEFAULT_BACKEND=kafka"), NOARGS,
               "--default-backend kafka needs --kafka-bootstrap");
    check_ok(ENV("SLUICE_DEFAULT_BACKEND=kafka"),
             ARGS("--kafka-bootstrap", "127.0.0.1:9092"));

    check_fail(NULL, ARGS("--ingress-addr", "127.0.0.1:8001"),
               "--api-addr '127.0.0.1:8001' and --ingress-addr "
               "'127.0.0.1:8001' use the same port on the same address");
    check_fail(NULL, ARGS("--metrics-addr", "0.0.0.0:8080"),
               "--ingress-addr '127.0.0.1:8080' and --metrics-addr "
               "'0.0.0.0:8080' use the same port on the same address");
    check_fail(
        NULL,
        ARGS("--serving-addr", "LOCALHOST:1", "--metrics-addr", "localhost:1"),
        "--serving-addr 'LOCALHOST:1' and --metrics-addr 'localhost:1' "
        "use the same port on the same address");
    check_ok(NULL, ARGS("--api-addr", "127.0.0.1:0", "--ingress-addr",
                        "127.0.0.1:0", "--serving-addr", "127.0.0.2:8080"));
}

TEST(check_paths)
{
    struct tmp t;
    const char *file;
    char want[900], sub[600];

    tmp_init(&t);
    check_ok(NULL, ARGS("--data-dir", t.dir));
    check_ok(NULL, ARGS("--data-dir", tmp_path(&t, "new/deeper/still/")));
    check_ok(NULL, ARGS("--data-dir", "relative/not/there"));
    file = tmp_file(&t, "plain", "x", 0600);
    snprintf(want, sizeof(want), "--data-dir '%s' is not a directory", file);
    check_fail(NULL, ARGS("--data-dir", file), want);
    snprintf(sub, sizeof(sub), "%s/sub/dir", file);
    snprintf(want, sizeof(want),
             "--data-dir '%s' cannot be created: '%s' is not a directory", sub,
             file);
    check_fail(NULL, ARGS("--data-dir", sub), want);

    check_ok(NULL, ARGS("-f", file, "-f", t.dir));
    snprintf(want, sizeof(want),
             "cannot read -f '%s': No such file or directory",
             tmp_path(&t, "nope.yaml"));
    check_fail(NULL, ARGS("-f", file, "-f", tmp_path(&t, "nope.yaml")), want);
    check_fail(ENV("SLUICE_FILENAME=/nonexistent/x.yaml"), NOARGS,
               "cannot read SLUICE_FILENAME '/nonexistent/x.yaml': No such "
               "file or directory");
    snprintf(want, sizeof(want),
             "cannot read -f '/dev/null': not a file or a "
             "directory");
    check_fail(NULL, ARGS("-f", "/dev/null"), want);
    tmp_fini(&t);
}

/* ---- dump and help ---- */

TEST(dump)
{
    struct tmp t;
    struct sl_config cfg, again;
    struct json_object *docs = NULL, *doc;
    struct sl_diag d;
    const char *tok, *conf;
    char arg[600], tokarg[600], *text, *line;

    tmp_init(&t);
    tok = tmp_file(&t, "token", "very-secret-token\n", 0600);
    conf = tmp_file(&t, "c.yaml", "log-level: warn\nfilename: [a, b]\n", 0600);
    snprintf(arg, sizeof(arg), "--config=%s", conf);
    snprintf(tokarg, sizeof(tokarg), "--api-token-file=%s", tok);
    load_ok(&cfg, ENV("SLUICE_MAX_EVENT_SIZE=1000"),
            ARGS(arg, tokarg, "--redis-url", "redis://user:pa55@r:6379/2",
                 "--api-addr", "0.0.0.0:8001"));
    text = capture(sl_config_dump, &cfg, NULL);
    ASSERT(strstr(text, "very-secret-token") == NULL);
    ASSERT(strstr(text, "pa55") == NULL);
    ASSERT(
        strstr(text, "redis-url: redis://user:***@r:6379/2  # --redis-url\n"));
    ASSERT(strstr(text, "api-addr: \"0.0.0.0:8001\"  # --api-addr\n"));
    ASSERT(strstr(text, "max-event-size: 1000  # SLUICE_MAX_EVENT_SIZE\n"));
    ASSERT(strstr(text, "api-max-body: 3MiB  # default\n"));
    ASSERT(strstr(text, "shutdown-timeout: PT30S  # default\n"));
    ASSERT(strstr(text, "default-backend: embedded  # default\n"));
    ASSERT(strstr(text, "kafka-bootstrap: null  # default\n"));
    snprintf(arg, sizeof(arg), "log-level: warn  # %s\n", conf);
    ASSERT(strstr(text, arg) != NULL);
    snprintf(arg, sizeof(arg), "filename:  # %s\n- %s\n- %s\n", conf,
             tmp_path(&t, "a"), tmp_path(&t, "b"));
    ASSERT(strstr(text, arg) != NULL);
    ASSERT(strstr(text, "check-config") == NULL);
    ASSERT(strstr(text, "help") == NULL);

    /* The dump is YAML; without its "config" line it is a config file
     * that gives the same configuration back (the password aside). */
    sl_diag_clear(&d);
    ASSERT_OK(sl_yaml_to_json(text, strlen(text), &docs, &d));
    doc = json_object_array_get_idx(docs, 0);
    ASSERT(json_object_is_type(doc, json_type_object));
    json_object_object_del(doc, "config");
    json_object_object_del(doc, "redis-url");
    line = (char *)json_object_to_json_string(doc);
    conf = tmp_file(&t, "again.yaml", line, 0600);
    snprintf(arg, sizeof(arg), "--config=%s", conf);
    load_ok(&again, NULL, ARGS(arg));
    ASSERT_STR_EQ(again.api_addr, cfg.api_addr);
    ASSERT_STR_EQ(again.api_token_file, cfg.api_token_file);
    ASSERT_EQ(again.max_event_size, cfg.max_event_size);
    ASSERT_EQ(again.api_max_body, cfg.api_max_body);
    ASSERT_EQ(again.shutdown_timeout_ns, cfg.shutdown_timeout_ns);
    ASSERT_EQ(again.log_level, cfg.log_level);
    ASSERT_EQ(again.files.n, 2);
    ASSERT_STR_EQ(again.files.v[1], cfg.files.v[1]);
    sl_config_fini(&again);
    json_object_put(docs);
    sl_free(text);
    sl_config_fini(&cfg);
    tmp_fini(&t);
}

TEST(help)
{
    char *text = capture(NULL, NULL, sl_config_help), *p, *nl;
    static const char *const want[] = {
        "usage: sluice serve [flags]",
        "--config FILE",
        "[SLUICE_CONFIG, not in the file]",
        "--check-config",
        "-h, --help",
        "--data-dir DIR",
        "[SLUICE_DATA_DIR, default ./sluice-data]",
        "--api-addr HOST:PORT",
        "[SLUICE_API_ADDR, default 127.0.0.1:8001]",
        "--api-token-file FILE",
        "[SLUICE_API_TOKEN_FILE]",
        "[SLUICE_API_MAX_BODY, default 3MiB]",
        "--ingress-url URL",
        "[SLUICE_MAX_EVENT_SIZE, default 1MiB]",
        "[SLUICE_LOG_LEVEL, default info]",
        "[SLUICE_DEFAULT_BACKEND, default embedded]",
        "--redis-url URL",
        "--kafka-bootstrap HOST:PORT,...",
        "-f, --filename PATH",
        "[SLUICE_FILENAME]",
    };
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(text, want[i]) == NULL)
            CHECK_FAIL("help lacks '%s':\n%s", want[i], text);
    /* Fits a terminal. */
    for (p = text; *p != '\0'; p = nl + 1) {
        nl = strchr(p, '\n');
        ASSERT(nl != NULL);
        if (nl - p > 80)
            CHECK_FAIL("help line over 80 columns: %.*s", (int)(nl - p), p);
    }
    sl_free(text);
}

TEST_MAIN()
