/*
 * test/fuzz/fuzz_kafka_map.c - libFuzzer target for the KafkaSource's
 * record -> CloudEvent mapping (sources/kafka/kafka.h).
 *
 * The input frames one Kafka record:
 *
 *   byte 0      flags: bits 0-1 key type (string, int, float,
 *               byte-array), bit 2 the Kafka metadata extensions, bit 3
 *               a null key, bit 4 a null value, bit 5 no timestamp,
 *               bit 6 an offset past 2^31, bit 7 a ceOverrides extension
 *   the key     up to the first '\n'
 *   headers     one per line up to an empty line: "name:value", or just
 *               "name" for a header without a value (at most 32)
 *   the value   the rest
 *
 * Oracles: the mapping succeeds or fails cleanly; an event it makes is
 * valid, carries what section 6.2 says for its kind, and survives the
 * Kafka binding both ways (binary and structured) with the same
 * attributes and data; nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "proto/kafka.h"
#include "sources/kafka/kafka.h"

#define FUZZ_MAX_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

/* Same attributes and data. */
static void fuzz_same(const struct sl_event *a, const struct sl_event *b)
{
    if (a->nattrs != b->nattrs || a->has_data != b->has_data ||
        a->data_len != b->data_len ||
        (a->data_len > 0 && memcmp(a->data, b->data, a->data_len) != 0))
        abort();
    for (size_t i = 0; i < a->nattrs; i++)
        if (strcmp(a->attrs[i].name, b->attrs[i].name) != 0 ||
            strcmp(a->attrs[i].value, b->attrs[i].value) != 0)
            abort();
}

/* Through the Kafka binding and back. */
static void fuzz_hop(const struct sl_event *ev, bool structured)
{
    struct sl_kafka_encode_opts o = { .structured = structured };
    struct sl_ce_opts big = { .max_event_size = 1 << 20 };
    struct sl_kafka_out out;
    struct sl_event *back = NULL;

    sl_kafka_out_init(&out);
    if (sl_ce_kafka_encode(ev, &o, &out) != 0)
        abort();
    if (sl_ce_kafka_decode(&out.rec, &big, &back, NULL, NULL) != 0)
        abort();
    /* JSON data is re-serialised in structured mode; compare the rest. */
    if (!structured ||
        !sl_ce_is_json_type(sl_event_value(ev, "datacontenttype")))
        fuzz_same(ev, back);
    sl_event_unref(back);
    sl_kafka_out_fini(&out);
}

static void fuzz_check(const struct sl_event *ev, const struct sl_ksrc_info *in,
                       const struct sl_kafka_origin *o, bool kafka_ext)
{
    const char *ct;

    if (sl_event_validate(ev, NULL) != 0)
        abort();
    if (in->kind == SL_KSRC_WRAPPED) {
        const char *type = sl_event_value(ev, "type");
        const char *src = sl_event_value(ev, "source");
        const char *hash;

        if (type == NULL || strcmp(type, SL_KSRC_EVENT_TYPE) != 0)
            abort();
        hash = src != NULL ? strchr(src, '#') : NULL;
        if (hash == NULL || strcmp(hash + 1, o->topic) != 0)
            abort();
        if (sl_event_get(ev, "key") == NULL) {
            if (sl_event_get(ev, "partitionkey") != NULL)
                abort();
        } else if (strcmp(sl_event_value(ev, "key"),
                          sl_event_value(ev, "partitionkey")) != 0) {
            abort();
        }
    }
    if (kafka_ext && sl_event_get(ev, "knativekafkapartition") == NULL)
        abort();
    /* An event whose data is typed application/cloudevents... reads as a
     * structured record once written in binary mode: no round trip. */
    ct = sl_event_value(ev, "datacontenttype");
    if (ct != NULL && sl_str_prefix_ci(ct, "application/cloudevents"))
        return;
    fuzz_hop(ev, false);
    fuzz_hop(ev, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct sl_kafka_header h[FUZZ_MAX_HEADERS];
    char *names[FUZZ_MAX_HEADERS];
    struct sl_kafka_record rec = { 0 };
    struct sl_ksrc_ext ext = { .name = "fuzzext", .value = "v" };
    struct sl_ce_opts limits = { .max_event_size = 64 * 1024 };
    struct sl_kafka_origin o = { .topic = "fuzz-topic",
                                 .partition = 7,
                                 .offset = 12345,
                                 .timestamp_ms = 1700000000123LL };
    struct sl_ksrc_map m = { .ns = "ns", .name = "src", .ce = &limits };
    struct sl_ksrc_info info;
    struct sl_event *ev = NULL;
    long live = sl_alloc_live();
    const uint8_t *q, *end = p + n, *nl;
    size_t nh = 0;
    uint8_t flags;

    if (n == 0)
        return 0;
    flags = p[0];
    m.key_type = (enum sl_ksrc_key_type)(flags & 3);
    m.kafka_ext = (flags & 4) != 0;
    if (flags & 32)
        o.timestamp_ms = -1;
    if (flags & 64)
        o.offset = 4294967296LL + 5;
    if (flags & 128) {
        m.ext = &ext;
        m.next = 1;
    }
    q = p + 1;
    nl = memchr(q, '\n', (size_t)(end - q));
    if (nl == NULL)
        nl = end;
    if (!(flags & 8)) {
        rec.key = q;
        rec.key_len = (size_t)(nl - q);
    }
    q = nl < end ? nl + 1 : end;
    while (q < end && nh < FUZZ_MAX_HEADERS) {
        const uint8_t *colon;

        nl = memchr(q, '\n', (size_t)(end - q));
        if (nl == NULL)
            nl = end;
        if (nl == q) { /* the empty line */
            q++;
            break;
        }
        colon = memchr(q, ':', (size_t)(nl - q));
        names[nh] =
            sl_xstrndup((const char *)q, (size_t)((colon ? colon : nl) - q));
        h[nh].name = names[nh];
        h[nh].value = colon ? colon + 1 : NULL;
        h[nh].len = colon ? (size_t)(nl - colon - 1) : 0;
        nh++;
        q = nl < end ? nl + 1 : end;
    }
    rec.headers = h;
    rec.nheaders = nh;
    if (!(flags & 16)) {
        rec.value = q;
        rec.value_len = (size_t)(end - q);
    }
    if (sl_ksrc_map_record(&m, &o, &rec, &ev, &info, NULL) == 0) {
        fuzz_check(ev, &info, &o, m.kafka_ext);
        sl_event_unref(ev);
    } else if (ev != NULL) {
        abort();
    }
    for (size_t i = 0; i < nh; i++)
        sl_free(names[i]);
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
