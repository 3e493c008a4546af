/*
 * sources/kafka/map.c - a Kafka record as a CloudEvent, the way Knative's
 * KafkaSource dispatcher makes one (reference section 6.2; behaviour read
 * from eventing-kafka-broker's CloudEventDeserializer,
 * InvalidCloudEventInterceptor, KeyDeserializer and
 * CloudEventOverridesMutator; docs/kafka-source.md).
 *
 * Java decodes bytes with a replacing UTF-8 decoder (each maximal
 * malformed subsequence becomes one U+FFFD); sluice does the same and
 * also replaces the characters a CloudEvents String may not hold (control
 * characters, noncharacters), which Java passes on unchecked.
 */
#include "sources/kafka/kafka.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "core/time.h"
#include "core/utf8.h"

#define KMAP_CONTENT_TYPE "content-type"
#define KMAP_HDR_PREFIX   "kafkaheader"

/* ---- key types ---- */

int sl_ksrc_key_type_parse(const char *label, enum sl_ksrc_key_type *out)
{
    if (label == NULL || label[0] == '\0' || strcmp(label, "string") == 0)
        *out = SL_KSRC_KEY_STRING;
    else if (strcmp(label, "int") == 0)
        *out = SL_KSRC_KEY_INT;
    else if (strcmp(label, "float") == 0)
        *out = SL_KSRC_KEY_FLOAT;
    else if (strcmp(label, "byte-array") == 0)
        *out = SL_KSRC_KEY_BYTES;
    else
        return SL_EINVAL;
    return 0;
}

/* ---- Java's Double.toString / Float.toString ---- */

/* Does the decimal text 's' read back as 'v' (as a float when single)? */
static bool kmap_round_trips(const char *s, double v, bool single)
{
    if (single)
        return strtof(s, NULL) == (float)v;
    return strtod(s, NULL) == v;
}

size_t sl_ksrc_format_float(double v, bool single, char *out, size_t outlen)
{
    char sci[48], digits[24];
    int prec, exp10 = 0, nd = 0, maxp = single ? 9 : 17, n;
    struct sl_buf b;
    size_t len;
    char *e;

    if (single)
        v = (double)(float)v;
    if (isnan(v))
        return (size_t)snprintf(out, outlen, "NaN");
    if (isinf(v))
        return (size_t)snprintf(out, outlen, "%sInfinity", v < 0 ? "-" : "");
    if (v == 0)
        return (size_t)snprintf(out, outlen, "%s0.0", signbit(v) ? "-" : "");
    /* The shortest digits that read back as the same value: with %e,
     * each precision gives the correctly rounded (closest) candidate. */
    for (prec = 0; prec < maxp; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec, v);
        if (kmap_round_trips(sci, v, single))
            break;
    }
    /* Java picks among decimals of one or two digits when one digit is
     * enough, the closest to v: 4.9E-324, not 5.0E-324. */
    if (prec == 0) {
        char two[48];

        snprintf(two, sizeof(two), "%.1e", v);
        if (kmap_round_trips(two, v, single))
            memcpy(sci, two, sizeof(two));
    }
    e = strchr(sci, 'e');
    exp10 = (int)strtol(e + 1, NULL, 10);
    for (const char *p = sci; p < e; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    sl_buf_init(&b, 64);
    if (v < 0)
        sl_buf_appendc(&b, '-');
    if (fabs(v) >= 1e-3 && fabs(v) < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                sl_buf_appendc(&b, i < nd ? digits[i] : '0');
            sl_buf_appendc(&b, '.');
            if (nd > exp10 + 1)
                sl_buf_appends(&b, digits + exp10 + 1);
            else
                sl_buf_appendc(&b, '0');
        } else {
            sl_buf_appends(&b, "0.");
            for (int i = 0; i < -exp10 - 1; i++)
                sl_buf_appendc(&b, '0');
            sl_buf_appends(&b, digits);
        }
    } else {
        sl_buf_appendc(&b, digits[0]);
        sl_buf_appendc(&b, '.');
        sl_buf_appends(&b, nd > 1 ? digits + 1 : "0");
        sl_buf_appendf(&b, "E%d", exp10);
    }
    n = snprintf(out, outlen, "%s", sl_buf_str(&b));
    len = n < 0 ? 0 : (size_t)n;
    sl_buf_fini(&b);
    return len;
}

/* ---- text ---- */

/* Is 'cp' a character a CloudEvents String may hold? */
static bool kmap_string_char(uint32_t cp)
{
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f))
        return false;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
        return false;
    return true;
}

/*
 * Length of the maximal subpart of a UTF-8 sequence at p[0..n) that is
 * not a whole character: the bytes a replacing decoder turns into one
 * U+FFFD (Unicode's "best practice", as Java's decoder does). At least 1.
 */
static size_t kmap_bad_len(const unsigned char *p, size_t n)
{
    unsigned char b0 = p[0], lo = 0x80, hi = 0xbf;
    size_t need, i;

    if (b0 >= 0xc2 && b0 <= 0xdf)
        need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef)
        need = 2;
    else if (b0 >= 0xf0 && b0 <= 0xf4)
        need = 3;
    else
        return 1;
    if (b0 == 0xe0)
        lo = 0xa0;
    else if (b0 == 0xed)
        hi = 0x9f;
    else if (b0 == 0xf0)
        lo = 0x90;
    else if (b0 == 0xf4)
        hi = 0x8f;
    for (i = 1; i <= need && i < n; i++) {
        if (p[i] < lo || p[i] > hi)
            break;
        lo = 0x80;
        hi = 0xbf;
    }
    return i;
}

/* p[0..n) as a valid CloudEvents String in 'out' (replacements made). */
static void kmap_text(const void *p, size_t n, struct sl_buf *out)
{
    const unsigned char *s = p;
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = sl_utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            sl_buf_appends(out, "\xef\xbf\xbd");
            i += kmap_bad_len(s + i, n - i);
            continue;
        }
        if (kmap_string_char(cp))
            sl_buf_append(out, s + i, k);
        else
            sl_buf_appends(out, "\xef\xbf\xbd");
        i += k;
    }
}

/*
 * "kafkaheader" + the header name lower-cased with everything outside
 * [a-z0-9] removed. Java lower-cases each UTF-16 unit first, which turns
 * two non-ASCII letters into ASCII ones: U+0130 into 'i' and the Kelvin
 * sign U+212A into 'k'.
 */
static void kmap_header_name(const char *name, struct sl_buf *out)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name), i = 0, k;
    uint32_t cp;

    sl_buf_appends(out, KMAP_HDR_PREFIX);
    while (i < n) {
        k = sl_utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            i += kmap_bad_len(s + i, n - i);
            continue;
        }
        i += k;
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        else if (cp == 0x130)
            cp = 'i';
        else if (cp == 0x212a)
            cp = 'k';
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
            sl_buf_appendc(out, (char)cp);
    }
}

/* ---- the wrapped event ---- */

/* The key extensions ('key' and 'partitionkey') of a wrapped record. */
static int kmap_key(const struct sl_ksrc_map *m,
                    const struct sl_kafka_record *rec, struct sl_event *ev,
                    struct sl_diag *d)
{
    const unsigned char *k = rec->key;
    size_t n = rec->key_len;
    enum sl_ce_type type = SL_CE_STRING;
    char num[40];
    struct sl_buf b;
    int rc;

    /* Java's key deserializer reads a null or empty key as no key. */
    if (k == NULL || n == 0)
        return 0;
    sl_buf_init(&b, SL_BUF_UNLIMITED);
    if (m->key_type == SL_KSRC_KEY_INT && n == 4) {
        uint32_t u = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 |
                     (uint32_t)k[2] << 8 | (uint32_t)k[3];
        int32_t v = u <= INT32_MAX ? (int32_t)u
                                   : (int32_t)(u - 0x80000000u) + INT32_MIN;

        snprintf(num, sizeof(num), "%ld", (long)v);
        sl_buf_appends(&b, num);
        type = SL_CE_INT;
    } else if (m->key_type == SL_KSRC_KEY_FLOAT && (n == 4 || n == 8)) {
        uint64_t bits = 0;
        double v;

        for (size_t i = 0; i < n; i++)
            bits = bits << 8 | k[i];
        if (n == 4) {
            uint32_t b32 = (uint32_t)bits;
            float f;

            memcpy(&f, &b32, sizeof(f));
            v = f;
        } else {
            memcpy(&v, &bits, sizeof(v));
        }
        sl_ksrc_format_float(v, n == 4, num, sizeof(num));
        sl_buf_appends(&b, num);
    } else if (m->key_type == SL_KSRC_KEY_BYTES) {
        sl_base64_encode(k, n, &b);
        type = SL_CE_BINARY;
    } else {
        /* string, and int or float keys of another length (Java falls
         * back to its string deserializer). */
        kmap_text(k, n, &b);
    }
    rc = sl_event_set(ev, "partitionkey", type, b.data ? b.data : "", b.len, d);
    if (rc == 0)
        rc = sl_event_set(ev, "key", type, b.data ? b.data : "", b.len, d);
    sl_buf_fini(&b);
    return rc;
}

/* A media type lower-cased (ASCII), or NULL when it is not one. */
static char *kmap_content_type(const struct sl_kafka_header *h)
{
    struct sl_buf b;
    char *s;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    kmap_text(h->value, h->len, &b);
    s = sl_buf_steal(&b, NULL);
    sl_buf_fini(&b);
    sl_str_lower(s);
    if (sl_ce_check_value("datacontenttype", SL_CE_STRING, s, strlen(s),
                          NULL) != 0) {
        sl_free(s);
        return NULL;
    }
    return s;
}

static int kmap_wrap(const struct sl_ksrc_map *m,
                     const struct sl_kafka_origin *o,
                     const struct sl_kafka_record *rec, struct sl_event *ev,
                     struct sl_ksrc_info *info, struct sl_diag *d)
{
    const struct sl_kafka_header *ct = NULL;
    char ts[SL_TIME_RFC3339_MAX];
    struct sl_buf b, name;
    int rc = 0;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_buf_init(&name, SL_BUF_UNLIMITED);
    sl_buf_appendf(&b, "partition:%ld/offset:%lld", (long)o->partition,
                   (long long)o->offset);
    if ((rc = sl_event_set_str(ev, "id", sl_buf_str(&b), d)) != 0)
        goto out;
    sl_buf_reset(&b);
    sl_buf_appendf(&b, "/apis/v1/namespaces/%s/kafkasources/%s#%s", m->ns,
                   m->name, o->topic);
    if ((rc = sl_event_set(ev, "source", SL_CE_URIREF, b.data, b.len, d)) !=
            0 ||
        (rc = sl_event_set_str(ev, "type", SL_KSRC_EVENT_TYPE, d)) != 0)
        goto out;
    sl_buf_reset(&b);
    sl_buf_appendf(&b, "partition:%ld#%lld", (long)o->partition,
                   (long long)o->offset);
    if ((rc = sl_event_set_str(ev, "subject", sl_buf_str(&b), d)) != 0)
        goto out;
    if (o->timestamp_ms >= 0) {
        struct sl_timestamp t = { .sec = o->timestamp_ms / 1000,
                                  .nsec = (int32_t)(o->timestamp_ms % 1000) *
                                          1000000 };

        sl_time_format_rfc3339(&t, ts, sizeof(ts));
        if ((rc = sl_event_set(ev, "time", SL_CE_TIME, ts, strlen(ts), d)) != 0)
            goto out;
    }
    if ((rc = kmap_key(m, rec, ev, d)) != 0)
        goto out;
    for (size_t i = 0; i < rec->nheaders; i++) {
        const struct sl_kafka_header *h = &rec->headers[i];

        if (h->name == NULL || h->value == NULL)
            continue;
        if (sl_str_eq_ci(h->name, KMAP_CONTENT_TYPE)) {
            ct = h; /* the last one is the data's type */
            continue;
        }
        sl_buf_reset(&name);
        kmap_header_name(h->name, &name);
        sl_buf_reset(&b);
        kmap_text(h->value, h->len, &b);
        if ((rc = sl_event_set(ev, sl_buf_str(&name), SL_CE_STRING,
                               sl_buf_str(&b), b.len, d)) != 0)
            goto out;
    }
    if (ct != NULL) {
        char *type = kmap_content_type(ct);

        if (type != NULL)
            rc = sl_event_set_str(ev, "datacontenttype", type, d);
        else if (info != NULL)
            info->dropped_content_type = true;
        sl_free(type);
        if (rc != 0)
            goto out;
    }
    if (rec->value != NULL)
        sl_event_set_data(ev, rec->value, rec->value_len);
out:
    sl_buf_fini(&name);
    sl_buf_fini(&b);
    return rc;
}

/* ---- entry point ---- */

/* The extensions every event gets: Kafka metadata, then ceOverrides. */
static int kmap_extensions(const struct sl_ksrc_map *m,
                           const struct sl_kafka_origin *o, struct sl_event *ev,
                           struct sl_diag *d)
{
    char num[32];
    int rc;

    if (m->kafka_ext) {
        if ((rc = sl_event_set_int(ev, "knativekafkapartition", o->partition,
                                   d)) != 0)
            return rc;
        snprintf(num, sizeof(num), "%lld", (long long)o->offset);
        rc = sl_event_set(
            ev, "knativekafkaoffset",
            o->offset >= 0 && o->offset <= INT32_MAX ? SL_CE_INT : SL_CE_STRING,
            num, strlen(num), d);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < m->next; i++)
        if ((rc = sl_event_set_str(ev, m->ext[i].name, m->ext[i].value, d)) !=
            0)
            return rc;
    return 0;
}

int sl_ksrc_map_record(const struct sl_ksrc_map *m,
                       const struct sl_kafka_origin *o,
                       const struct sl_kafka_record *rec, struct sl_event **out,
                       struct sl_ksrc_info *info, struct sl_diag *d)
{
    struct sl_ksrc_info local;
    struct sl_event *ev = NULL;
    enum sl_kafka_mode mode = SL_KAFKA_BINARY;
    int rc;

    *out = NULL;
    if (info == NULL)
        info = &local;
    memset(info, 0, sizeof(*info));
    rc = sl_ce_kafka_decode(rec, m->ce, &ev, &mode, &info->why);
    if (rc == SL_ETOOBIG)
        return sl_diag_set(d, rc, "", "the record's event is over %zu bytes",
                           sl_ce_max_size(m->ce));
    if (rc == 0) {
        info->kind =
            mode == SL_KAFKA_STRUCTURED ? SL_KSRC_STRUCTURED : SL_KSRC_BINARY;
        /* The decoded event is ours alone: complete it in place. */
    } else {
        /* Not a CloudEvent, or one the binding rejects: Knative's
         * deserializer wraps every failure the same way. */
        info->kind = SL_KSRC_WRAPPED;
        info->decode_rc = rc;
        if (rc == SL_ENOENT)
            sl_diag_clear(&info->why);
        ev = sl_event_new(SL_CE_V10);
        if ((rc = kmap_wrap(m, o, rec, ev, info, d)) != 0)
            goto fail;
    }
    if ((rc = kmap_extensions(m, o, ev, d)) != 0 ||
        (rc = sl_event_validate(ev, d)) != 0)
        goto fail;
    if (sl_event_size(ev) > sl_ce_max_size(m->ce)) {
        rc = sl_diag_set(d, SL_ETOOBIG, "",
                         "the record's event is over %zu bytes",
                         sl_ce_max_size(m->ce));
        goto fail;
    }
    *out = ev;
    return 0;
fail:
    sl_event_unref(ev);
    return rc;
}
