/*
 * test/unit/resource_sources_test.c - the source kinds: the cron parser
 * (valid and invalid expressions with their messages, compiled bitsets),
 * then PingSource, ApiServerSource, ContainerSource, SinkBinding,
 * KafkaSource and RabbitmqSource: documented examples admitted with their
 * defaults, one check per validation rule with its exact field path,
 * immutability, feature flags, docs conflicts and registry names.
 *
 * Time zones come from test/data/resources/zoneinfo (tiny TZif files), so
 * the tests do not depend on the machine's tzdata.
 */
#include "test/unit/check.h"

#include "resource/cron.h"
#include "resource/resource.h"
#include "resource/source.h"
#include "test/unit/resource_fixture.h"

/* ---- helpers ---- */

static char src_zdir[512];

/* Shipped defaults, time zones from the test's zoneinfo. */
static void src_env(struct sl_res_env *env)
{
    sl_res_env_init(env);
    if (src_zdir[0] == '\0')
        snprintf(src_zdir, sizeof(src_zdir), "%s",
                 check_path("test/data/resources/zoneinfo"));
    env->zoneinfo_dir = src_zdir;
}

static void src_fail(const char *yaml, const char *field, const char *msg)
{
    struct sl_res_env env;

    src_env(&env);
    fx_fail_env(yaml, NULL, &env, field, msg);
}

static void src_ok(const char *yaml)
{
    struct json_object *obj = fx_yaml(yaml);
    struct sl_res_env env;

    src_env(&env);
    fx_admit_ok(obj, NULL, &env);
    json_object_put(obj);
}

/* Admit the single document of 'yaml' and return it (put it). */
static struct json_object *src_admit(const char *yaml)
{
    struct json_object *obj = fx_yaml(yaml);
    struct sl_res_env env;

    src_env(&env);
    fx_admit_ok(obj, NULL, &env);
    return obj;
}

/* The first document of a fixture must fail at 'field' with 'msg'. */
static void src_fixture_fails(const char *name, const char *field,
                              const char *msg)
{
    struct json_object *docs = fx_load(name);
    struct sl_res_env env;
    struct sl_diag d;

    src_env(&env);
    ASSERT_EQ(
        sl_res_admit(json_object_array_get_idx(docs, 0), NULL, &env, NULL, &d),
        SL_EINVAL);
    ASSERT_STR_EQ(d.field, field);
    ASSERT_STR_EQ(d.msg, msg);
    json_object_put(docs);
}

static uint64_t bits(const unsigned *v, size_t n)
{
    uint64_t b = 0;
    size_t i;

    for (i = 0; i < n; i++)
        b |= (uint64_t)1 << v[i];
    return b;
}

#define BITS(...)                           \
    bits((const unsigned[]){ __VA_ARGS__ }, \
         sizeof((const unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned))
#define RANGE_BITS(lo, hi) \
    ((((uint64_t)1 << ((hi) + 1)) - 1) & ~(((uint64_t)1 << (lo)) - 1))

/* ---- cron ---- */

TEST(cron_valid_expressions)
{
    static const char *const ok[] = {
        "* * * * *",
        "*/2 * * * *",
        "0 9 * * MON-FRI",
        "0 0 1 JAN *",
        "0 0 1 jan,Jul *",
        "0 0 ? * SUN",
        "0 0 1 * ?",
        "0 0 * * 0",
        "59 23 31 12 6",
        "0-59/15 * * * *",
        "5/15 * * * *",
        "1,2,3-5,10-20/5 * * * *",
        "+5 * * * *",
        "*/1 * * * *",
        "0 */6 * * *",
        "30 0 0 * * *",
        "*/10 * * * * *",
        "0 0 0 1 1 *",
        "  0 9 * * 1\t",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "CRON_TZ=Asia/Tokyo 0 9 * * *",
        "TZ=Europe/Paris @daily",
        "0 0 * JAN-DEC/3 *",
        "0 0 * * SAT-SAT",
        "0 0 1-31/2 * *",
        NULL,
    };
    struct sl_cron c;
    struct sl_diag d;
    size_t i;

    for (i = 0; ok[i] != NULL; i++)
        if (sl_cron_parse(ok[i], &c, &d) != 0)
            CHECK_FAIL("'%s' refused: %s", ok[i], d.msg);
}

TEST(cron_compiled_bitsets)
{
    struct sl_cron c;
    struct sl_diag d;

    ASSERT_OK(sl_cron_parse("*/15 9-17 * * MON-FRI", &c, &d));
    ASSERT_EQ(c.second, BITS(0));
    ASSERT_EQ(c.minute, BITS(0, 15, 30, 45));
    ASSERT_EQ(c.hour, RANGE_BITS(9, 17));
    ASSERT_EQ(c.dom, RANGE_BITS(1, 31));
    ASSERT_EQ(c.month, RANGE_BITS(1, 12));
    ASSERT_EQ(c.dow, RANGE_BITS(1, 5));
    ASSERT(c.dom_any && !c.dow_any);
    ASSERT_STR_EQ(c.tz, "");

    ASSERT_OK(sl_cron_parse("30 5/20 * 1,15 jan,JUL ?", &c, &d));
    ASSERT_EQ(c.second, BITS(30));
    ASSERT_EQ(c.minute, BITS(5, 25, 45));
    ASSERT_EQ(c.hour, RANGE_BITS(0, 23));
    ASSERT_EQ(c.dom, BITS(1, 15));
    ASSERT_EQ(c.month, BITS(1, 7));
    ASSERT_EQ(c.dow, RANGE_BITS(0, 6));
    ASSERT(!c.dom_any && c.dow_any);

    /* A stepped '*' is no longer "any" (robfig's star bit). */
    ASSERT_OK(sl_cron_parse("0 0 */2 * */1", &c, &d));
    ASSERT(!c.dom_any && c.dow_any);
    ASSERT_EQ(c.dom,
              BITS(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));

    ASSERT_OK(sl_cron_parse("@weekly", &c, &d));
    ASSERT_EQ(c.second, BITS(0));
    ASSERT_EQ(c.minute, BITS(0));
    ASSERT_EQ(c.hour, BITS(0));
    ASSERT_EQ(c.dow, BITS(0));
    ASSERT(c.dom_any && !c.dow_any);
    ASSERT_OK(sl_cron_parse("@yearly", &c, &d));
    ASSERT_EQ(c.dom, BITS(1));
    ASSERT_EQ(c.month, BITS(1));
    ASSERT(!c.dom_any && c.dow_any);
    ASSERT_OK(sl_cron_parse("@monthly", &c, &d));
    ASSERT_EQ(c.dom, BITS(1));
    ASSERT_EQ(c.month, RANGE_BITS(1, 12));
    ASSERT_OK(sl_cron_parse("@hourly", &c, &d));
    ASSERT_EQ(c.hour, RANGE_BITS(0, 23));
    ASSERT_EQ(c.minute, BITS(0));
    ASSERT_OK(sl_cron_parse("@daily", &c, &d));
    ASSERT_EQ(c.hour, BITS(0));
    ASSERT(c.dom_any && c.dow_any);

    ASSERT_OK(sl_cron_parse("CRON_TZ=Asia/Tokyo  0 9 * * *", &c, &d));
    ASSERT_STR_EQ(c.tz, "Asia/Tokyo");
    ASSERT_EQ(c.hour, BITS(9));
    ASSERT_OK(sl_cron_parse("TZ=Etc/GMT+5 @hourly", &c, &d));
    ASSERT_STR_EQ(c.tz, "Etc/GMT+5");
}

TEST(cron_invalid_expressions)
{
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        { "", "empty spec string" },
        { "   ", "empty spec string" },
        { "2", "expected 5 to 6 fields, found 1: [2]" },
        { "* * * *", "expected 5 to 6 fields, found 4: [* * * *]" },
        { "0 0 0 * * * *", "expected 5 to 6 fields, found 7: [0 0 0 * * * *]" },
        { "1 2 3 4 5 6 7 8 9 10",
          "expected 5 to 6 fields, found 10: [1 2 3 4 5 6 7 8 ...]" },
        { "60 * * * *", "minute: end of range (60) above maximum (59): 60" },
        { "* 24 * * *", "hour: end of range (24) above maximum (23): 24" },
        { "* * 0 * *",
          "day-of-month: beginning of range (0) below minimum (1): 0" },
        { "* * 32 * *",
          "day-of-month: end of range (32) above maximum (31): 32" },
        { "* * * 13 *", "month: end of range (13) above maximum (12): 13" },
        { "* * * 0 *", "month: beginning of range (0) below minimum (1): 0" },
        { "* * * * 7", "day-of-week: end of range (7) above maximum (6): 7" },
        { "60 * * * * *", "second: end of range (60) above maximum (59): 60" },
        { "5-1 * * * *",
          "minute: beginning of range (5) beyond end of range (1): 5-1" },
        { "*/0 * * * *",
          "minute: step of range should be a positive number: */0" },
        { "*/-1 * * * *", "minute: negative number (-1) not allowed: */-1" },
        { "-1 * * * *", "minute: failed to parse int from : invalid syntax" },
        { "1-2-3 * * * *", "minute: too many hyphens: 1-2-3" },
        { "*/2/3 * * * *", "minute: too many slashes: */2/3" },
        { "a * * * *", "minute: failed to parse int from a: invalid syntax" },
        { "* * * * MONDAY",
          "day-of-week: failed to parse int from MONDAY: invalid syntax" },
        { "* * * JAN-FOO *",
          "month: failed to parse int from FOO: invalid syntax" },
        { "JAN * * * *",
          "minute: failed to parse int from JAN: invalid syntax" },
        { "* * * * */MON",
          "day-of-week: failed to parse int from MON: invalid syntax" },
        { "99999999999 * * * *",
          "minute: failed to parse int from 99999999999: value out of range" },
        { "1,,2 * * * *", "minute: empty element in list: 1,,2" },
        { ", * * * *", "minute: empty element in list: ," },
        { "*-5 * * * *", "minute: '*' cannot start a range: *-5" },
        { "? * * * *",
          "minute: '?' is only allowed in day-of-month and day-of-week: ?" },
        { "@every 1h", "unsupported descriptor @every" },
        { "@every", "unsupported descriptor @every" },
        { "@reboot", "unrecognized descriptor: @reboot" },
        { "@Daily", "unrecognized descriptor: @Daily" },
        { "@daily 0", "unrecognized descriptor: @daily 0" },
        { "CRON_TZ=Asia/Tokyo",
          "missing schedule after time zone: CRON_TZ=Asia/Tokyo" },
        { "CRON_TZ= * * * * *", "empty time zone: CRON_TZ= * * * * *" },
        { "TZ=../etc/passwd * * * * *",
          "provided bad location ../etc/passwd: invalid location name" },
        { "TZ=/etc/localtime * * * * *",
          "provided bad location /etc/localtime: invalid location name" },
        { "CRON_TZ=Asia/Tokyo 60 * * * *",
          "minute: end of range (60) above maximum (59): 60" },
        { NULL, NULL },
    };
    struct sl_cron c;
    struct sl_diag d;
    size_t i;

    for (i = 0; bad[i].spec != NULL; i++) {
        sl_diag_clear(&d);
        if (sl_cron_parse(bad[i].spec, &c, &d) != SL_EINVAL)
            CHECK_FAIL("'%s' accepted", bad[i].spec);
        if (strcmp(d.msg, bad[i].msg) != 0)
            CHECK_FAIL("'%s': got '%s', want '%s'", bad[i].spec, d.msg,
                       bad[i].msg);
        ASSERT_STR_EQ(d.field, "");
        ASSERT_EQ(c.minute, 0);
    }
}

TEST(cron_tz_names)
{
    static const char *const ok[] = { "UTC",
                                      "Europe/Paris",
                                      "Etc/GMT+5",
                                      "America/Port-au-Prince",
                                      "America/Argentina/Buenos_Aires",
                                      NULL };
    static const char *const bad[] = { "",         "/UTC",    "UTC/",
                                       "a//b",     "..",      "../x",
                                       "Europe/.", "Eu rope", "Europe\\x",
                                       "a\nb",     NULL };
    char longname[SL_CRON_TZ_MAX + 1];
    struct sl_diag d;
    size_t i;

    for (i = 0; ok[i] != NULL; i++)
        ASSERT_OK(sl_cron_tz_check(ok[i], &d));
    for (i = 0; bad[i] != NULL; i++) {
        ASSERT_EQ(sl_cron_tz_check(bad[i], &d), SL_EINVAL);
        ASSERT_STR_EQ(d.msg, "invalid location name");
    }
    memset(longname, 'a', SL_CRON_TZ_MAX);
    longname[SL_CRON_TZ_MAX] = '\0';
    ASSERT_EQ(sl_cron_tz_check(longname, &d), SL_EINVAL);
    longname[SL_CRON_TZ_MAX - 1] = '\0';
    ASSERT_OK(sl_cron_tz_check(longname, &d));
}

/* ---- PingSource ---- */

#define PING_HEAD                                            \
    "apiVersion: sources.knative.dev/v1\nkind: PingSource\n" \
    "metadata:\n  name: p\n  namespace: ns\n"
#define PING_SINK "  sink:\n    uri: http://sink.example.com/\n"

TEST(pingsource_documented_examples_round_trip)
{
    struct sl_res_env env;

    src_env(&env);
    fx_round_trip("pingsource", &env);
}

TEST(pingsource_docs_conflict_is_rejected)
{
    src_fixture_fails("pingsource-docs-conflict.yaml",
                      "spec.ceOverrides.extensions[additional]",
                      "expected string, got integer");
}

TEST(pingsource_defaults)
{
    struct json_object *o;

    o = src_admit(PING_HEAD "spec:\n  schedule: \"\"\n" PING_SINK);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "spec.schedule")), "* * * * *");
    json_object_put(o);
    o = src_admit(PING_HEAD "spec:\n  sink:\n    ref:\n      apiVersion: v1\n"
                            "      kind: Service\n      name: s\n");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "spec.sink.ref.namespace")), "ns");
    ASSERT(sl_res_dig(o, "spec.timezone") == NULL);
    json_object_put(o);
}

TEST(pingsource_schedule_rules)
{
    src_fail(PING_HEAD "spec:\n  schedule: \"@every 2h\"\n" PING_SINK,
             "spec.schedule",
             "invalid value \"@every 2h\": unsupported descriptor @every");
    src_fail(PING_HEAD "spec:\n  schedule: \"@every 2h\"\n"
                       "  timezone: Knative/Land\n" PING_SINK,
             "spec.schedule", "unsupported descriptor @every");
    src_fail(PING_HEAD "spec:\n  schedule: \"2\"\n" PING_SINK, "spec.schedule",
             "invalid value \"2\": expected 5 to 6 fields, found 1: [2]");
    src_fail(PING_HEAD "spec:\n  schedule: \"0 25 * * *\"\n" PING_SINK,
             "spec.schedule",
             "invalid value \"0 25 * * *\": hour: end of range (25) above "
             "maximum (23): 25");
    src_fail(PING_HEAD "spec:\n  schedule: 5\n" PING_SINK, "spec.schedule",
             "expected string, got integer");
    /* A CRON_TZ= prefix is a zone like spec.timezone, but not both. */
    src_ok(PING_HEAD
           "spec:\n  schedule: CRON_TZ=Asia/Tokyo 0 9 * * *\n" PING_SINK);
    src_fail(PING_HEAD
             "spec:\n  schedule: CRON_TZ=Asia/Osaka 0 9 * * *\n" PING_SINK,
             "spec.schedule",
             "invalid value \"CRON_TZ=Asia/Osaka 0 9 * * *\": provided bad "
             "location Asia/Osaka: unknown time zone Asia/Osaka");
    src_fail(PING_HEAD "spec:\n  schedule: CRON_TZ=Asia/Tokyo 0 9 * * *\n"
                       "  timezone: Europe/Paris\n" PING_SINK,
             "spec.schedule",
             "a CRON_TZ= prefix cannot be combined with spec.timezone");
}

TEST(pingsource_timezone_rules)
{
    src_ok(PING_HEAD "spec:\n  timezone: Europe/Paris\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  timezone: UTC\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  timezone: Local\n" PING_SINK);
    src_fail(PING_HEAD "spec:\n  timezone: Knative/Land\n" PING_SINK,
             "spec.timezone",
             "invalid value \"Knative/Land\": unknown time zone Knative/Land");
    src_fail(PING_HEAD "spec:\n  timezone: Europe\n" PING_SINK, "spec.timezone",
             "invalid value \"Europe\": unknown time zone Europe");
    src_fail(PING_HEAD "spec:\n  timezone: Bad/Text\n" PING_SINK,
             "spec.timezone",
             "invalid value \"Bad/Text\": malformed time zone information");
    src_fail(PING_HEAD
             "spec:\n  timezone: ../resources/zoneinfo/Asia/Tokyo\n" PING_SINK,
             "spec.timezone", "invalid location name");
    src_fail(PING_HEAD "spec:\n  timezone: /etc/localtime\n" PING_SINK,
             "spec.timezone",
             "invalid value \"/etc/localtime\": invalid location name");
    src_fail(PING_HEAD "spec:\n  timezone: \"\"\n" PING_SINK, "spec.timezone",
             "invalid value \"\": must not be empty");
    /* The timezone is checked before the schedule, as in Knative. */
    src_fail(PING_HEAD
             "spec:\n  schedule: \"2\"\n  timezone: Knative/Land\n" PING_SINK,
             "spec.timezone", "unknown time zone Knative/Land");
    /* Without a zoneinfo directory, only the syntax is checked. */
    {
        struct sl_res_env env;
        struct json_object *o =
            fx_yaml(PING_HEAD "spec:\n  timezone: Knative/Land\n" PING_SINK);
        sl_res_env_init(&env);
        env.zoneinfo_dir = NULL;
        fx_admit_ok(o, NULL, &env);
        json_object_put(o);
        fx_fail_env(PING_HEAD "spec:\n  timezone: a//b\n" PING_SINK, NULL, &env,
                    "spec.timezone", "invalid location name");
    }
}

TEST(pingsource_sink_rules)
{
    src_fail(PING_HEAD "spec:\n  schedule: \"* * * * *\"\n", "spec.sink",
             "expected at least one, got none");
    src_fail(PING_HEAD "spec:\n  sink: {}\n", "spec.sink",
             "expected at least one, got none");
    src_fail(PING_HEAD "spec:\n  sink:\n    uri: /relative\n", "spec.sink.uri",
             "relative URI is not allowed when ref is absent");
    src_fail(PING_HEAD "spec:\n  sink:\n    ref:\n      kind: Service\n"
                       "      name: s\n",
             "spec.sink.ref.apiVersion", "missing field(s)");
    src_fail(PING_HEAD "metadata2: {}\nspec:\n" PING_SINK, "metadata2",
             "unknown field \"metadata2\"");
    src_fail(PING_HEAD "spec:\n  jsonData: '{}'\n" PING_SINK, "spec.jsonData",
             "unknown field \"spec.jsonData\"");
}

TEST(pingsource_data_rules)
{
    src_fail(PING_HEAD
             "spec:\n  data: hello\n  dataBase64: aGVsbG8=\n" PING_SINK,
             "spec.dataBase64", "expected exactly one, got both");
    src_fail(PING_HEAD
             "spec:\n  dataBase64: \"$$$ invalid base64 $$$\"\n" PING_SINK,
             "spec.dataBase64", "invalid value: ");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: Invalid JSON\n" PING_SINK,
             "spec.data", "invalid value: not JSON: ");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: '[1, 2]'\n" PING_SINK,
             "spec.data",
             "invalid value: cannot unmarshal array into an object");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: '42'\n" PING_SINK,
             "spec.data",
             "invalid value: cannot unmarshal integer into an object");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: '\"text\"'\n" PING_SINK,
             "spec.data",
             "invalid value: cannot unmarshal string into an object");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: '{\"a\": 1} {}'\n" PING_SINK,
             "spec.data", "invalid value: not JSON: ");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  data: '{\"a\": 1'\n" PING_SINK,
             "spec.data", "invalid value: not JSON: ");
    /* The docs' binary example with the docs' JSON content type. */
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  dataBase64: ZGF0YQ==\n" PING_SINK,
             "spec.dataBase64", "invalid value: not JSON: ");
    src_fail(PING_HEAD "spec:\n  contentType: application/json\n"
                       "  dataBase64: WzFd\n" PING_SINK,
             "spec.dataBase64",
             "invalid value: cannot unmarshal array into an object");
    /* Accepted: objects, null (Go unmarshals it into a nil map), JSON in
     * Base64, non-JSON data when the type is not exactly
     * application/json, and line breaks in Base64. */
    src_ok(PING_HEAD "spec:\n  contentType: application/json\n"
                     "  data: ' {\"a\": [1, {\"b\": null}]} '\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  contentType: application/json\n"
                     "  data: 'null'\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  contentType: application/json\n"
                     "  dataBase64: eyJhIjogMX0=\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  contentType: application/json; charset=utf-8\n"
                     "  data: not json\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  contentType: text/plain\n"
                     "  dataBase64: \"aGVs\\nbG8=\"\n" PING_SINK);
    src_ok(PING_HEAD "spec:\n  data: \"\"\n  dataBase64: aGVsbG8=\n" PING_SINK);
}

TEST(pingsource_ce_overrides_rules)
{
    src_fail(PING_HEAD "spec:\n" PING_SINK "  ceOverrides:\n    extensions:\n"
                       "      Invalid_type: any value\n",
             "spec.ceOverrides.extensions[Invalid_type]",
             "invalid key name \"Invalid_type\": keys are expected to be "
             "alphanumeric");
    src_fail(PING_HEAD "spec:\n" PING_SINK
                       "  ceOverrides:\n    extensions:\n      \"\": v\n",
             "spec.ceOverrides.extensions[]",
             "invalid key name \"\": keys MUST NOT be empty");
    src_fail(PING_HEAD "spec:\n" PING_SINK
                       "  ceOverrides:\n    extensions:\n      a.b: v\n",
             "spec.ceOverrides.extensions[a.b]",
             "keys are expected to be alphanumeric");
    src_fail(PING_HEAD "spec:\n" PING_SINK
                       "  ceOverrides:\n    extension:\n      a: v\n",
             "spec.ceOverrides.extension",
             "unknown field \"spec.ceOverrides.extension\"");
    src_ok(PING_HEAD "spec:\n" PING_SINK
                     "  ceOverrides:\n    extensions:\n      Mixed9Case: v\n");
}

/* ---- ApiServerSource ---- */

#define APIS_HEAD                                                 \
    "apiVersion: sources.knative.dev/v1\nkind: ApiServerSource\n" \
    "metadata:\n  name: a\n  namespace: ns\n"
#define APIS_RES "  resources:\n  - apiVersion: v1\n    kind: Pod\n"
#define APIS_OK  APIS_HEAD "spec:\n" PING_SINK APIS_RES

TEST(apiserversource_documented_examples_round_trip)
{
    fx_round_trip("apiserversource", NULL);
}

TEST(apiserversource_defaults)
{
    struct json_object *o = src_admit(
        APIS_HEAD
        "spec:\n  mode: \"\"\n  serviceAccountName: \"\"\n" PING_SINK APIS_RES);

    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "spec.mode")), "Reference");
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "spec.serviceAccountName")),
                  "default");
    json_object_put(o);
}

TEST(apiserversource_rules)
{
    src_fail(APIS_OK "  mode: Ref\n", "spec.mode",
             "invalid value \"Ref\": expected one of \"Reference\", "
             "\"Resource\"");
    src_fail(APIS_OK "  serviceAccountName: Bad_SA\n",
             "spec.serviceAccountName", "invalid value \"Bad_SA\"");
    src_fail(APIS_HEAD "spec:\n" APIS_RES, "spec.sink",
             "expected at least one, got none");
    src_fail(APIS_HEAD "spec:\n" PING_SINK, "spec.resources",
             "missing field(s)");
    src_fail(APIS_HEAD "spec:\n" PING_SINK "  resources: []\n",
             "spec.resources", "missing field(s)");
    src_fail(APIS_HEAD "spec:\n" PING_SINK "  resources:\n  - kind: Pod\n",
             "spec.resources[0].apiVersion", "missing field(s)");
    src_fail(APIS_OK "  - apiVersion: a/b/c\n    kind: Pod\n",
             "spec.resources[1].apiVersion",
             "invalid value \"a/b/c\": unexpected GroupVersion string");
    src_fail(APIS_OK "  - apiVersion: apps/\n    kind: Deployment\n",
             "spec.resources[1].apiVersion",
             "invalid value \"apps/\": unexpected GroupVersion string");
    src_fail(APIS_OK "  - apiVersion: v1\n", "spec.resources[1].kind",
             "missing field(s)");
    src_fail(APIS_OK "  - apiVersion: v1\n    kind: \"  \"\n",
             "spec.resources[1].kind", "missing field(s)");
    src_fail(APIS_OK
             "  - apiVersion: v1\n    kind: Pod\n    labelSelector: {}\n",
             "spec.resources[1].labelSelector",
             "unknown field \"spec.resources[1].labelSelector\"");
    src_fail(APIS_OK "  owner:\n    apiVersion: apps/v1\n", "spec.owner.kind",
             "missing field(s)");
    src_fail(APIS_OK "  owner:\n    apiVersion: /v1\n    kind: Deployment\n",
             "spec.owner.apiVersion",
             "invalid value \"/v1\": unexpected GroupVersion string");
    /* An owner without apiVersion matches any (reference 5.1). */
    src_ok(APIS_OK "  owner:\n    kind: Deployment\n");
}

TEST(apiserversource_selector_rules)
{
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - key: env\n      operator: In\n",
             "spec.namespaceSelector.matchExpressions[0].values",
             "must be specified when `operator` is 'In' or 'NotIn'");
    src_fail(APIS_OK
             "  namespaceSelector:\n    matchExpressions:\n"
             "    - key: env\n      operator: NotIn\n      values: []\n",
             "spec.namespaceSelector.matchExpressions[0].values",
             "must be specified when `operator` is 'In' or 'NotIn'");
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - key: env\n      operator: Exists\n"
                     "    - key: env\n      operator: DoesNotExist\n"
                     "      values: [prod]\n",
             "spec.namespaceSelector.matchExpressions[1].values",
             "may not be specified when `operator` is 'Exists' or "
             "'DoesNotExist'");
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - key: env\n      operator: in\n      values: [a]\n",
             "spec.namespaceSelector.matchExpressions[0].operator",
             "invalid value \"in\": expected one of \"In\", \"NotIn\", "
             "\"Exists\", \"DoesNotExist\"");
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - operator: Exists\n",
             "spec.namespaceSelector.matchExpressions[0].key",
             "missing field(s)");
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - key: Not A Key\n      operator: Exists\n",
             "spec.namespaceSelector.matchExpressions[0].key",
             "invalid key \"Not A Key\"");
    src_fail(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                     "    - key: env\n      operator: In\n"
                     "      values: [\"bad value\"]\n",
             "spec.namespaceSelector.matchExpressions[0].values[0]",
             "invalid value \"bad value\"");
    src_fail(APIS_OK "  namespaceSelector:\n    matchLabels:\n"
                     "      env: \"-prod\"\n",
             "spec.namespaceSelector.matchLabels[env]",
             "invalid value \"-prod\"");
    src_fail(APIS_OK "  namespaceSelector:\n    matchLabels:\n"
                     "      /env: prod\n",
             "spec.namespaceSelector.matchLabels[/env]",
             "prefix part must be non-empty");
    src_fail(APIS_HEAD "spec:\n" PING_SINK
                       "  resources:\n  - apiVersion: v1\n    kind: Pod\n"
                       "    selector:\n      matchExpressions:\n"
                       "      - key: app\n        operator: In\n",
             "spec.resources[0].selector.matchExpressions[0].values",
             "must be specified when `operator` is 'In' or 'NotIn'");
    src_ok(APIS_OK "  namespaceSelector:\n    matchExpressions:\n"
                   "    - key: example.com/env\n      operator: NotIn\n"
                   "      values: [\"\", dev]\n"
                   "    matchLabels:\n      tier: \"\"\n");
}

TEST(apiserversource_filters_feature)
{
    static const char filters[] = APIS_OK "  filters:\n"
                                          "  - exact:\n      type: dev.foo\n";
    struct sl_res_env env;
    struct json_object *o;

    src_fail(filters, "spec.filters",
             "must not set the field(s): new-apiserversource-filters is "
             "disabled");
    src_ok(APIS_OK "  filters: []\n");
    src_env(&env);
    env.new_apiserversource_filters = true;
    o = fx_yaml(filters);
    fx_admit_ok(o, NULL, &env);
    json_object_put(o);
    fx_fail_env(APIS_OK "  filters:\n  - exact:\n      type: a\n"
                        "    prefix:\n      source: b\n",
                NULL, &env, "spec.filters[0]",
                "multiple dialects found, filters can have only one dialect "
                "set");
    fx_fail_env(APIS_OK "  filters:\n  - exact:\n      Type: a\n", NULL, &env,
                "spec.filters[0].exact[Type]", "invalid key name \"Type\"");
    fx_fail_env(APIS_OK "  filters:\n  - any:\n    - exact: {type: a}\n"
                        "      suffix: {type: b}\n",
                NULL, &env, "spec.filters[0].any[0]",
                "multiple dialects found");
}

/* ---- ContainerSource ---- */

#define CS_HEAD                                                   \
    "apiVersion: sources.knative.dev/v1\nkind: ContainerSource\n" \
    "metadata:\n  name: c\n  namespace: ns\n"
#define CS_TPL "  template:\n    spec:\n      containers:\n"
#define CS_OK  CS_HEAD "spec:\n" PING_SINK CS_TPL "      - image: busybox\n"

TEST(containersource_documented_examples_round_trip)
{
    fx_round_trip("containersource", NULL);
}

TEST(containersource_defaults)
{
    struct json_object *o;

    o = src_admit(CS_OK "      - image: a\n        name: named\n"
                        "      - image: b\n");
    ASSERT_STR_EQ(sl_res_str(sl_res_get(
                      json_object_array_get_idx(
                          sl_res_dig(o, "spec.template.spec.containers"), 0),
                      "name")),
                  "c-0");
    ASSERT_STR_EQ(sl_res_str(sl_res_get(
                      json_object_array_get_idx(
                          sl_res_dig(o, "spec.template.spec.containers"), 2),
                      "name")),
                  "c-2");
    json_object_put(o);
    /* With only a generateName, its prefix stands for the name. */
    o = src_admit("apiVersion: sources.knative.dev/v1\nkind: ContainerSource\n"
                  "metadata:\n  generateName: hb-\n"
                  "spec:\n" PING_SINK CS_TPL "      - image: busybox\n");
    ASSERT_STR_EQ(sl_res_str(sl_res_get(
                      json_object_array_get_idx(
                          sl_res_dig(o, "spec.template.spec.containers"), 0),
                      "name")),
                  "hb-0");
    json_object_put(o);
}

TEST(containersource_rules)
{
    src_fail(CS_HEAD "spec:\n" CS_TPL "      - image: busybox\n", "spec.sink",
             "expected at least one, got none");
    src_fail(CS_HEAD "spec:\n" PING_SINK, "spec.template.spec.containers",
             "missing field(s)");
    src_fail(CS_HEAD "spec:\n" PING_SINK CS_TPL,
             "spec.template.spec.containers", "missing field(s)");
    src_fail(CS_HEAD "spec:\n" PING_SINK "  template:\n    spec:\n"
                     "      containers: []\n",
             "spec.template.spec.containers", "missing field(s)");
    src_fail(CS_OK "      - name: x\n",
             "spec.template.spec.containers[1].image", "missing field(s)");
    src_fail(CS_OK "      - name: x\n        image: \"\"\n",
             "spec.template.spec.containers[1].image", "missing field(s)");
    src_fail(CS_OK "      - image: a\n        name: c-0\n",
             "spec.template.spec.containers[1].name",
             "duplicate value \"c-0\"");
    src_fail(CS_OK "      - image: a\n        name: Upper\n",
             "spec.template.spec.containers[1].name",
             "invalid value \"Upper\": a lowercase RFC 1123 label");
    src_fail(
        CS_OK "      initContainers:\n      - image: a\n        name: c-0\n",
        "spec.template.spec.initContainers[0].name", "duplicate value \"c-0\"");
    src_fail(CS_OK "        imagePullPolicy: always\n",
             "spec.template.spec.containers[0].imagePullPolicy",
             "invalid value \"always\": expected one of \"Always\", \"Never\", "
             "\"IfNotPresent\"");
    src_fail(CS_OK "        ports:\n        - containerPort: 0\n",
             "spec.template.spec.containers[0].ports[0].containerPort",
             "expected 1 <= 0 <= 65535");
    src_fail(CS_OK "        ports:\n        - name: http\n",
             "spec.template.spec.containers[0].ports[0].containerPort",
             "missing field(s)");
    src_fail(CS_OK "        ports:\n        - containerPort: 80\n"
                   "          protocol: tcp\n",
             "spec.template.spec.containers[0].ports[0].protocol",
             "invalid value \"tcp\"");
    src_fail(CS_OK "        ports:\n        - containerPort: 80\n"
                   "          name: HTTP\n",
             "spec.template.spec.containers[0].ports[0].name",
             "invalid value \"HTTP\": must be no more than 15 characters");
    src_fail(CS_OK "        env:\n        - value: x\n",
             "spec.template.spec.containers[0].env[0].name",
             "missing field(s)");
    src_fail(CS_OK "        env:\n        - name: 1ABC\n",
             "spec.template.spec.containers[0].env[0].name",
             "a valid environment variable name");
    src_fail(CS_OK "        env:\n        - name: A\n          value: x\n"
                   "          valueFrom:\n            fieldRef: {fieldPath: "
                   "metadata.name}\n",
             "spec.template.spec.containers[0].env[0].valueFrom",
             "may not be specified when `value` is not empty");
    src_fail(CS_OK "        args: --period=1\n",
             "spec.template.spec.containers[0].args",
             "expected array, got string");
    src_fail(CS_OK "        imagePolicy: Always\n",
             "spec.template.spec.containers[0].imagePolicy",
             "unknown field \"spec.template.spec.containers[0].imagePolicy\"");
    src_fail(CS_OK "      hostNetwork: true\n",
             "spec.template.spec.hostNetwork",
             "unknown field \"spec.template.spec.hostNetwork\"");
    src_fail(CS_HEAD "spec:\n" PING_SINK "  template:\n    metadata:\n"
                     "      labels:\n        app: \"bad value\"\n    spec:\n"
                     "      containers:\n      - image: busybox\n",
             "spec.template.metadata.labels[app]",
             "invalid value \"bad value\"");
    src_fail(CS_HEAD "spec:\n" PING_SINK "  template:\n    metadata:\n"
                     "      namespace: other\n    spec:\n"
                     "      containers:\n      - image: busybox\n",
             "spec.template.metadata.namespace",
             "unknown field \"spec.template.metadata.namespace\"");
    /* Opaque members take any JSON. */
    src_ok(CS_OK
           "        env:\n        - name: A\n          valueFrom:\n"
           "            secretKeyRef: {name: s, key: k}\n"
           "        readinessProbe:\n          httpGet: {path: /, port: 8080}\n"
           "        volumeMounts:\n        - {name: v, mountPath: /v}\n"
           "      volumes:\n      - name: v\n        emptyDir: {}\n");
}

/* ---- SinkBinding ---- */

#define SB_HEAD                                               \
    "apiVersion: sources.knative.dev/v1\nkind: SinkBinding\n" \
    "metadata:\n  name: b\n  namespace: ns\n"
#define SB_SUBJ "  subject:\n    apiVersion: apps/v1\n    kind: Deployment\n"
#define SB_OK   SB_HEAD "spec:\n" PING_SINK SB_SUBJ

TEST(sinkbinding_documented_examples_round_trip)
{
    fx_round_trip("sinkbinding", NULL);
}

TEST(sinkbinding_rules)
{
    src_fail(SB_HEAD "spec:\n" PING_SINK, "spec.subject.apiVersion",
             "missing field(s)");
    src_fail(SB_HEAD "spec:\n" PING_SINK "  subject:\n    kind: Job\n"
                     "    name: j\n",
             "spec.subject.apiVersion", "missing field(s)");
    src_fail(SB_HEAD "spec:\n" PING_SINK "  subject:\n    apiVersion: a/b/c\n"
                     "    kind: Job\n    name: j\n",
             "spec.subject.apiVersion", "invalid value \"a/b/c\": ");
    src_fail(SB_HEAD "spec:\n" PING_SINK "  subject:\n    apiVersion: v1\n"
                     "    name: j\n",
             "spec.subject.kind", "missing field(s)");
    src_fail(SB_HEAD "spec:\n" PING_SINK "  subject:\n    apiVersion: v1\n"
                     "    kind: Cron-Job\n    name: j\n",
             "spec.subject.kind",
             "invalid value \"Cron-Job\": a valid C identifier");
    src_fail(SB_OK, "spec.subject", "expected exactly one, got neither");
    src_fail(SB_OK "    name: d\n    selector:\n      matchLabels: {app: d}\n",
             "spec.subject.selector", "expected exactly one, got both");
    src_fail(SB_OK "    name: D\n", "spec.subject.name",
             "invalid value \"D\": a lowercase RFC 1123 label");
    src_fail(SB_OK "    selector:\n      matchExpressions:\n"
                   "      - key: app\n        operator: Exists\n"
                   "        values: [x]\n",
             "spec.subject.selector.matchExpressions[0].values",
             "may not be specified");
    src_fail(SB_OK "    name: d\n    namespace: other\n",
             "spec.subject.namespace",
             "invalid value \"other\": must be the SinkBinding's namespace "
             "\"ns\"");
    src_fail(SB_OK "    name: d\n    namespace: Bad_NS\n",
             "spec.subject.namespace", "invalid value \"Bad_NS\"");
    src_fail(SB_HEAD "spec:\n" SB_SUBJ "    name: d\n", "spec.sink",
             "expected at least one, got none");
    src_fail(SB_OK "    name: d\n    uid: x\n", "spec.subject.uid",
             "unknown field \"spec.subject.uid\"");
    src_ok(SB_OK "    name: d\n    namespace: ns\n");
}

/* ---- KafkaSource ---- */

#define KS_HEAD                                               \
    "apiVersion: sources.knative.dev/v1\nkind: KafkaSource\n" \
    "metadata:\n  name: k\n  namespace: ns\n"
#define KS_BASE                          \
    "  bootstrapServers: [kafka:9092]\n" \
    "  topics: [t]\n"
#define KS_OK KS_HEAD "spec:\n" PING_SINK KS_BASE

TEST(kafkasource_documented_examples_round_trip)
{
    fx_round_trip("kafkasource", NULL);
}

TEST(kafkasource_consumer_group)
{
    struct json_object *o;
    char group[128];

    /* No uid yet: no default written; the helper has nothing to go on. */
    o = src_admit(KS_OK);
    ASSERT(sl_res_dig(o, "spec.consumerGroup") == NULL);
    ASSERT_EQ(sl_res_kafka_source_group(o, group, sizeof(group)), SL_ENOENT);
    json_object_put(o);
    /* With a uid, the default is derived from it, and the helper agrees. */
    o = src_admit(KS_HEAD "  uid: 0f0e-uid\nspec:\n" PING_SINK KS_BASE);
    ASSERT_STR_EQ(sl_res_str(sl_res_dig(o, "spec.consumerGroup")),
                  "knative-kafka-source-0f0e-uid");
    ASSERT_OK(sl_res_kafka_source_group(o, group, sizeof(group)));
    ASSERT_STR_EQ(group, "knative-kafka-source-0f0e-uid");
    ASSERT_EQ(sl_res_kafka_source_group(o, group, 10), SL_ETOOBIG);
    json_object_put(o);
    /* An explicit group wins over the uid. */
    o = src_admit(KS_HEAD "  uid: u\nspec:\n" PING_SINK KS_BASE
                          "  consumerGroup: mine\n");
    ASSERT_OK(sl_res_kafka_source_group(o, group, sizeof(group)));
    ASSERT_STR_EQ(group, "mine");
    json_object_put(o);
}

TEST(kafkasource_rules)
{
    src_fail(KS_HEAD "spec:\n" KS_BASE, "spec.sink",
             "expected at least one, got none");
    src_fail(KS_HEAD "spec:\n" PING_SINK "  bootstrapServers: [k:9092]\n",
             "spec.topics", "missing field(s)");
    src_fail(KS_HEAD "spec:\n" PING_SINK "  bootstrapServers: [k:9092]\n"
                     "  topics: []\n",
             "spec.topics", "missing field(s)");
    src_fail(KS_HEAD "spec:\n" PING_SINK "  topics: [t]\n",
             "spec.bootstrapServers", "missing field(s)");
    src_fail(KS_HEAD "spec:\n" PING_SINK "  topics: [t, \"\"]\n",
             "spec.topics[1]", "must not be empty");
    src_fail(KS_HEAD "spec:\n" PING_SINK "  topics: t\n", "spec.topics",
             "expected array, got string");
    src_fail(KS_OK "  initialOffset: oldest\n", "spec.initialOffset",
             "invalid value \"oldest\": expected one of \"earliest\", "
             "\"latest\"");
    src_fail(KS_OK "  ordering: sorted\n", "spec.ordering",
             "invalid value \"sorted\": expected one of \"ordered\", "
             "\"unordered\"");
    src_fail(KS_OK "  ordering: \"\"\n", "spec.ordering",
             "invalid value \"\": expected one of");
    src_fail(KS_OK "  consumers: 0\n", "spec.consumers",
             "invalid value 0: must be >= 1");
    src_fail(KS_OK "  consumers: 3000000000\n", "spec.consumers",
             "out of range for int32");
    src_fail(KS_OK "  delivery:\n    retry: -1\n", "spec.delivery.retry",
             "invalid value -1: must be >= 0");
    src_fail(KS_OK "  delivery:\n    backoffDelay: 1s\n",
             "spec.delivery.backoffDelay", "invalid value \"1s\"");
    src_fail(KS_OK "  delivery:\n    deadLetterSink: {}\n",
             "spec.delivery.deadLetterSink", "expected at least one, got none");
    src_fail(KS_OK "  net:\n    tls:\n      cert:\n        secretKeyRef:\n"
                   "          name: s\n",
             "spec.net.tls.cert.secretKeyRef.key", "missing field(s)");
    src_fail(KS_OK "  net:\n    tls:\n      cert:\n        secret: s\n",
             "spec.net.tls.cert.secret",
             "unknown field \"spec.net.tls.cert.secret\"");
    src_fail(KS_OK "  net:\n    sasl:\n      enable: \"true\"\n",
             "spec.net.sasl.enable", "expected boolean, got string");
    src_fail(KS_OK "  net:\n    sasl:\n      mechanism: PLAIN\n",
             "spec.net.sasl.mechanism",
             "unknown field \"spec.net.sasl.mechanism\"");
    src_fail(KS_HEAD
             "  labels:\n    kafkasources.sources.knative.dev/key-type: "
             "long\nspec:\n" PING_SINK KS_BASE,
             "metadata.labels[kafkasources.sources.knative.dev/key-type]",
             "invalid value \"long\": expected one of \"string\", \"int\", "
             "\"float\", \"byte-array\"");
    src_fail(KS_OK "  ceOverrides:\n    extensions:\n      x-y: z\n",
             "spec.ceOverrides.extensions[x-y]",
             "keys are expected to be alphanumeric");
    src_ok(KS_HEAD "  labels:\n    kafkasources.sources.knative.dev/key-type: "
                   "byte-array\nspec:\n" PING_SINK KS_BASE);
}

TEST(kafkasource_consumer_group_immutable)
{
    static const char with_uid[] =
        KS_HEAD "  uid: u1\nspec:\n" PING_SINK KS_BASE;
    struct sl_res_env env;

    src_env(&env);
    /* An explicit group may not change, nor disappear. */
    fx_fail_env(KS_OK "  consumerGroup: b\n", KS_OK "  consumerGroup: a\n",
                &env, "spec.consumerGroup",
                "immutable field changed (-old +new): -\"a\" +\"b\"");
    fx_fail_env(KS_HEAD "  uid: u1\nspec:\n" PING_SINK KS_BASE,
                KS_HEAD "  uid: u1\nspec:\n" PING_SINK KS_BASE
                        "  consumerGroup: a\n",
                &env, "spec.consumerGroup",
                "immutable field changed (-old +new): -\"a\" "
                "+\"knative-kafka-source-u1\"");
    fx_fail_env(KS_OK,
                KS_HEAD "  uid: u1\nspec:\n" PING_SINK KS_BASE
                        "  consumerGroup: a\n",
                &env, "spec.consumerGroup",
                "immutable field changed (-old +new): -\"a\" "
                "+\"knative-kafka-source-u1\"");
    fx_fail_env(KS_OK "  consumerGroup: other\n", with_uid, &env,
                "spec.consumerGroup",
                "-\"knative-kafka-source-u1\" +\"other\"");
    /* The defaulted group stays when an update omits it, with or without
     * the uid; the rest of the spec may change. */
    {
        struct json_object *old = fx_yaml(with_uid), *n;
        fx_admit_ok(old, NULL, &env);
        n = fx_yaml(KS_HEAD "spec:\n" PING_SINK
                            "  bootstrapServers: [a:1, b:2]\n  topics: [t, u]\n"
                            "  consumers: 4\n");
        fx_admit_ok(n, old, &env);
        json_object_put(n);
        n = fx_yaml(KS_HEAD "  uid: u1\nspec:\n" PING_SINK KS_BASE
                            "  consumerGroup: knative-kafka-source-u1\n");
        fx_admit_ok(n, old, &env);
        json_object_put(n);
        json_object_put(old);
    }
}

/* ---- RabbitmqSource ---- */

#define RMQ_HEAD                                                       \
    "apiVersion: sources.knative.dev/v1alpha1\nkind: RabbitmqSource\n" \
    "metadata:\n  name: r\n  namespace: ns\n"
#define RMQ_CLUSTER "  rabbitmqClusterReference:\n    name: rabbitmq\n"
#define RMQ_RES                                         \
    "  rabbitmqResourcesConfig:\n    exchangeName: e\n" \
    "    queueName: q\n"
#define RMQ_OK RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER RMQ_RES

TEST(rabbitmqsource_documented_examples_round_trip)
{
    fx_round_trip("rabbitmqsource", NULL);
}

TEST(rabbitmqsource_docs_conflict_is_rejected)
{
    src_fixture_fails("rabbitmqsource-docs-conflict.yaml",
                      "spec.rabbitmqClusterReference.connectionSecret",
                      "rabbitmqClusterReference.name and "
                      "rabbitmqClusterReference.connectionSecret must not be "
                      "set simultaneously");
}

TEST(rabbitmqsource_rules)
{
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER,
             "spec.rabbitmqResourcesConfig", "missing field(s)");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER
                      "  rabbitmqResourcesConfig:\n    queueName: q\n",
             "spec.rabbitmqResourcesConfig.exchangeName",
             "name of exchange must be provided when spec.predeclared is "
             "false");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER
                      "  rabbitmqResourcesConfig:\n    queueName: q\n"
                      "    predeclared: false\n",
             "spec.rabbitmqResourcesConfig.exchangeName",
             "name of exchange must be provided");
    src_ok(RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER
                    "  rabbitmqResourcesConfig:\n    queueName: q\n"
                    "    predeclared: true\n");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_RES,
             "spec.rabbitmqClusterReference", "missing field(s)");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_RES
                      "  rabbitmqClusterReference:\n    namespace: x\n",
             "spec.rabbitmqClusterReference.name", "missing field(s)");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_RES
                      "  rabbitmqClusterReference:\n"
                      "    connectionSecret: {}\n",
             "spec.rabbitmqClusterReference.connectionSecret.name",
             "missing field(s)");
    src_fail(RMQ_HEAD "spec:\n" PING_SINK RMQ_CLUSTER
                      "  rabbitmqResourcesConfig:\n    exchangeName: e\n",
             "spec.rabbitmqResourcesConfig.queueName", "missing field(s)");
    src_fail(RMQ_OK "    parallelism: 0\n",
             "spec.rabbitmqResourcesConfig.parallelism",
             "expected 1 <= 0 <= 1000");
    src_fail(RMQ_OK "    parallelism: 1001\n",
             "spec.rabbitmqResourcesConfig.parallelism",
             "expected 1 <= 1001 <= 1000");
    src_fail(RMQ_OK "  delivery:\n    deadLetterSink:\n"
                    "      uri: http://dls.example.com/\n",
             "spec.delivery.deadLetterSink",
             "unknown field \"spec.delivery.deadLetterSink\"");
    src_fail(RMQ_OK "  delivery:\n    retry: -2\n", "spec.delivery.retry",
             "invalid value -2: must be >= 0");
    src_fail(RMQ_OK "  delivery:\n    backoffPolicy: constant\n",
             "spec.delivery.backoffPolicy", "invalid value \"constant\"");
    src_fail(RMQ_OK "  delivery:\n    backoffDelay: 5\n",
             "spec.delivery.backoffDelay", "expected string, got integer");
    src_fail(RMQ_HEAD "spec:\n" RMQ_CLUSTER RMQ_RES, "spec.sink",
             "missing field(s)");
    src_fail(RMQ_HEAD "spec:\n  sink: {}\n" RMQ_CLUSTER RMQ_RES, "spec.sink",
             "expected at least one, got none");
    src_fail(RMQ_OK "  ceOverrides: {}\n", "spec.ceOverrides",
             "unknown field \"spec.ceOverrides\"");
    src_ok(RMQ_OK "  adapterContainerName: adapter\n"
                  "  serviceAccountName: sa\n");
}

TEST(rabbitmqsource_spec_immutable)
{
    fx_fail_env(RMQ_OK "    parallelism: 2\n", RMQ_OK, NULL, "spec",
                "immutable fields changed (-old +new): ");
    fx_fail_env(
        RMQ_HEAD
        "spec:\n  sink:\n    uri: http://other.example.com/\n" RMQ_CLUSTER
            RMQ_RES,
        RMQ_OK, NULL, "spec", "immutable fields changed");
    /* Metadata may change. */
    {
        struct json_object *old = fx_yaml(RMQ_OK), *n;
        fx_admit_ok(old, NULL, NULL);
        n = fx_yaml(RMQ_HEAD
                    "  labels: {a: b}\nspec:\n" PING_SINK RMQ_CLUSTER RMQ_RES);
        fx_admit_ok(n, old, NULL);
        json_object_put(n);
        json_object_put(old);
    }
}

/* ---- registry ---- */

TEST(sources_registry_names)
{
    static const struct {
        const char *name, *kind;
    } names[] = {
        { "pingsource", "PingSource" },
        { "pingsources.sources.knative.dev", "PingSource" },
        { "PingSource.v1.sources.knative.dev", "PingSource" },
        { "apiserversources", "ApiServerSource" },
        { "containersource", "ContainerSource" },
        { "sinkbindings", "SinkBinding" },
        { "kafkasource", "KafkaSource" },
        { "rabbitmqsources", "RabbitmqSource" },
        { "rmqsource", "RabbitmqSource" },
        { "rmqsource.sources.knative.dev", "RabbitmqSource" },
        { NULL, NULL },
    };
    const struct sl_res_kind *k;
    size_t i;

    for (i = 0; names[i].name != NULL; i++) {
        k = sl_res_kind_by_name(names[i].name);
        if (k == NULL || strcmp(k->kind, names[i].kind) != 0)
            CHECK_FAIL("'%s' does not name %s", names[i].name, names[i].kind);
    }
    ASSERT(sl_res_kind_find("sources.knative.dev/v1alpha1", "RabbitmqSource"));
    ASSERT(sl_res_kind_find("sources.knative.dev/v1", "RabbitmqSource") ==
           NULL);
    ASSERT(sl_res_kind_by_resource("sources.knative.dev", "v1", "pingsources"));
    ASSERT(sl_res_kind_by_name("rmqsource.v1.sources.knative.dev") == NULL);
    ASSERT(sl_res_kind_by_name("ping") == NULL);
}

TEST_MAIN()
