/*
 * test/unit/event_test.c - the CloudEvent model and attribute rules.
 */
#include "test/unit/check.h"

#include "core/err.h"
#include "proto/event.h"

static struct sl_event *minimal(void)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);

    ASSERT_OK(sl_event_set_str(ev, "id", "1", NULL));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", NULL));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", NULL));
    return ev;
}

TEST(build_and_validate)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_OK(sl_event_validate(ev, &d));
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_value(ev, "specversion"), "1.0");
    ASSERT(sl_event_get(ev, "subject") == NULL);
    ASSERT_EQ(ev->nattrs, 4);
    /* Sorted by name. */
    ASSERT_STR_EQ(ev->attrs[0].name, "id");
    ASSERT_STR_EQ(ev->attrs[3].name, "type");
    sl_event_unref(ev);
}

TEST(missing_required_named)
{
    static const char *req[] = { "id", "source", "type" };
    size_t i;

    for (i = 0; i < 3; i++) {
        struct sl_event *ev = minimal();
        struct sl_diag d;
        ASSERT_OK(sl_event_del(ev, req[i]));
        ASSERT_EQ(sl_event_validate(ev, &d), SL_EINVAL);
        ASSERT_STR_EQ(d.field, req[i]);
        ASSERT(strstr(d.msg, req[i]) != NULL);
        sl_event_unref(ev);
    }
}

TEST(empty_values_rejected)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_EQ(sl_event_set_str(ev, "id", "", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "id");
    ASSERT_EQ(sl_event_set_str(ev, "subject", "", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "subject");
    ASSERT_STR_EQ(d.msg, "must not be empty");
    /* An empty extension string is legal. */
    ASSERT_OK(sl_event_set_str(ev, "myext", "", &d));
    sl_event_unref(ev);
}

TEST(names)
{
    ASSERT(sl_ce_name_valid("abc123", SL_CE_V10));
    ASSERT(sl_ce_name_valid("1abc", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("1abc", SL_CE_V03));
    ASSERT(!sl_ce_name_valid("aBc", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("a_b", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("a-b", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("", SL_CE_V10));
    ASSERT(!sl_ce_name_valid("data", SL_CE_V10));
    /* Longer than 20 is only a recommendation. */
    ASSERT(sl_ce_name_valid("averyveryverylongextensionname", SL_CE_V10));
}

TEST(bad_name_message)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_EQ(sl_event_set_str(ev, "a_invalid_name", "x", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "a_invalid_name");
    ASSERT(strstr(d.msg, "a-z and 0-9") != NULL);
    sl_event_unref(ev);
}

TEST(types)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    ASSERT_OK(sl_event_set(ev, "b", SL_CE_BOOL, "true", 4, &d));
    ASSERT_EQ(sl_event_set(ev, "b", SL_CE_BOOL, "True", 4, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "-2147483648", 11, &d));
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "2147483647", 10, &d));
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "2147483648", 10, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "+1", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "01", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "-0", 2, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "i", SL_CE_INT, "1.5", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "i", SL_CE_INT, "0", 1, &d));
    ASSERT_OK(sl_event_set(ev, "bin", SL_CE_BINARY, "AQID", 4, &d));
    ASSERT_EQ(sl_event_set(ev, "bin", SL_CE_BINARY, "AQI", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "u", SL_CE_URI, "https://x/y", 11, &d));
    ASSERT_EQ(sl_event_set(ev, "u", SL_CE_URI, "/relative", 9, &d), SL_EINVAL);
    ASSERT_OK(
        sl_event_set(ev, "t", SL_CE_TIME, "2018-04-05T17:31:00Z", 20, &d));
    ASSERT_EQ(sl_event_set(ev, "t", SL_CE_TIME, "2018-02-30T17:31:00Z", 20, &d),
              SL_EINVAL);
    ASSERT_STR_EQ(d.field, "t");
    /* Strings: no control characters, valid UTF-8. */
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\nb", 3, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\xc2\x85", 3, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "\xc0\xa0", 2, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "\xef\xbf\xbe", 3, &d),
              SL_EINVAL);
    ASSERT_EQ(sl_event_set(ev, "s", SL_CE_STRING, "a\0b", 3, &d), SL_EINVAL);
    ASSERT_OK(sl_event_set(ev, "s", SL_CE_STRING, "Euro \xe2\x82\xac", 8, &d));
    ASSERT_EQ(sl_event_get(ev, "b")->type, SL_CE_BOOL);
    sl_event_unref(ev);
}

TEST(core_types_enforced)
{
    struct sl_event *ev = minimal();
    struct sl_diag d;

    /* A core attribute given as a string takes its core type. */
    ASSERT_OK(sl_event_set_str(ev, "time", "2018-04-05T17:31:00.5+02:00", &d));
    ASSERT_EQ(sl_event_get(ev, "time")->type, SL_CE_TIME);
    ASSERT_EQ(sl_event_set_str(ev, "time", "yesterday", &d), SL_EINVAL);
    ASSERT_STR_EQ(d.field, "time");
    ASSERT_EQ(sl_event_set_str(ev, "dataschema", "schema.json", &d), SL_EINVAL);
    ASSERT_OK(sl_event_set_str(ev, "dataschema", "http://x/s.json", &d));
    ASSERT_EQ(sl_event_set_int(ev, "id", 5, &d), SL_EINVAL);
    ASSERT_EQ(sl_event_set_str(ev, "datacontenttype", "json", &d), SL_EINVAL);
    ASSERT_OK(sl_event_set_str(ev, "datacontenttype",
                               "text/plain; charset=utf-8", &d));
    ASSERT_EQ(sl_event_set_str(ev, "specversion", "1.0", &d), SL_EINVAL);
    /* Relative and odd sources are legal URI-references. */
    ASSERT_OK(sl_event_set_str(ev, "source", "1-555-123-4567", &d));
    sl_event_unref(ev);
}

TEST(v03_rules)
{
    struct sl_event *ev = sl_event_new(SL_CE_V03);
    struct sl_diag d;

    ASSERT_OK(sl_event_set_str(ev, "id", "1", &d));
    ASSERT_OK(sl_event_set_str(ev, "source", "/s", &d));
    ASSERT_OK(sl_event_set_str(ev, "type", "t", &d));
    ASSERT_OK(sl_event_set_str(ev, "schemaurl", "s.json", &d));
    ASSERT_EQ(sl_event_set_str(ev, "9ext", "x", &d), SL_EINVAL);
    ASSERT_OK(sl_event_validate(ev, &d));
    ASSERT_STR_EQ(sl_event_value(ev, "specversion"), "0.3");
    sl_event_unref(ev);
}

TEST(media_types)
{
    ASSERT(sl_ce_media_type_valid("application/json"));
    ASSERT(sl_ce_media_type_valid("application/json; charset=utf-8"));
    ASSERT(sl_ce_media_type_valid("text/plain;charset=\"us-ascii\""));
    ASSERT(sl_ce_media_type_valid("application/vnd.x+json;a=b; c=d"));
    ASSERT(!sl_ce_media_type_valid("application"));
    ASSERT(!sl_ce_media_type_valid("application/"));
    ASSERT(!sl_ce_media_type_valid("/json"));
    ASSERT(!sl_ce_media_type_valid("text/plain; charset"));
    ASSERT(!sl_ce_media_type_valid("text/plain; a=\"open"));
    ASSERT(sl_ce_is_json_type(NULL));
    ASSERT(sl_ce_is_json_type("application/json"));
    ASSERT(sl_ce_is_json_type("Application/JSON; charset=utf-8"));
    ASSERT(sl_ce_is_json_type("text/json"));
    ASSERT(sl_ce_is_json_type("application/cloudevents+json"));
    ASSERT(!sl_ce_is_json_type("application/xml"));
    ASSERT(!sl_ce_is_json_type("application/jsonx"));
    ASSERT(!sl_ce_is_json_type("text/plain"));
}

TEST(refcount_and_clone)
{
    struct sl_event *ev = minimal(), *c;

    sl_event_set_data(ev, "abc", 3);
    sl_event_ref(ev);
    c = sl_event_clone(ev);
    sl_event_unref(ev);
    ASSERT_OK(sl_event_set_str(c, "id", "2", NULL));
    ASSERT_STR_EQ(sl_event_id(ev), "1");
    ASSERT_STR_EQ(sl_event_id(c), "2");
    ASSERT_MEM_EQ(c->data, c->data_len, "abc", 3);
    ASSERT_EQ(sl_event_size(ev), 2 + 1 + 6 + 2 + 4 + 1 + 11 + 3 + 3);
    sl_event_unref(ev);
    sl_event_unref(c);
    sl_event_unref(NULL);
}

TEST(data_presence)
{
    struct sl_event *ev = minimal();

    ASSERT(!ev->has_data);
    sl_event_set_data(ev, "", 0);
    ASSERT(ev->has_data);
    ASSERT_EQ(ev->data_len, 0);
    sl_event_clear_data(ev);
    ASSERT(!ev->has_data);
    sl_event_unref(ev);
}

TEST(list)
{
    struct sl_event_list l;
    int i;

    sl_event_list_init(&l);
    for (i = 0; i < 10; i++)
        sl_event_list_push(&l, minimal());
    ASSERT_EQ(l.n, 10);
    sl_event_list_fini(&l);
    ASSERT_EQ(l.n, 0);
}

TEST_MAIN()
