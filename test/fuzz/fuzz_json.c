/*
 * test/fuzz/fuzz_json.c - libFuzzer target for the JSON event format.
 *
 * The input is decoded both as one event and as a batch. Every event that
 * decodes is encoded again and must decode to the same attributes and
 * data (a round-trip oracle); nothing may leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "proto/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static void fuzz_roundtrip(const struct sl_event *ev)
{
    struct sl_event *again = NULL;
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    if (sl_ce_json_encode(ev, &b) != 0)
        abort();
    if (sl_ce_json_decode(b.data, b.len, NULL, &again, NULL) != 0)
        abort();
    if (again->nattrs != ev->nattrs || again->has_data != ev->has_data)
        abort();
    for (i = 0; i < ev->nattrs; i++)
        if (strcmp(ev->attrs[i].name, again->attrs[i].name) != 0 ||
            strcmp(ev->attrs[i].value, again->attrs[i].value) != 0 ||
            ev->attrs[i].type != again->attrs[i].type)
            abort();
    /* JSON data may be re-serialised by json-c on decode; others are exact. */
    if (!sl_ce_is_json_type(sl_event_value(ev, "datacontenttype")) &&
        (again->data_len != ev->data_len ||
         (ev->data_len > 0 &&
          memcmp(again->data, ev->data, ev->data_len) != 0)))
        abort();
    sl_event_unref(again);
    sl_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct sl_ce_opts opts = { .max_event_size = 64 * 1024 };
    struct sl_event *ev = NULL;
    struct sl_event_list l;
    long live = sl_alloc_live();
    size_t i;

    if (sl_ce_json_decode((const char *)p, n, &opts, &ev, NULL) == 0) {
        fuzz_roundtrip(ev);
        sl_event_unref(ev);
    }
    sl_event_list_init(&l);
    if (sl_ce_json_decode_batch((const char *)p, n, &opts, &l, NULL) == 0)
        for (i = 0; i < l.n; i++)
            fuzz_roundtrip(l.v[i]);
    sl_event_list_fini(&l);
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
