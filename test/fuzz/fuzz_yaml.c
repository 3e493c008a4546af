/*
 * test/fuzz/fuzz_yaml.c - libFuzzer target for YAML resources.
 *
 * The input is one YAML stream. Whatever sl_yaml_to_json says, it must
 * not crash, must return a documented code, must leave '*out' NULL on
 * failure with a "line L column C" position in the diag, and must not
 * leak: the result is put and the live allocation count must be back where
 * it started (LeakSanitizer covers libyaml's and json-c's own blocks).
 *
 * Every stream that parses is also written back with sl_yaml_emit
 * (core/yaml_emit.h), as a multi-document stream and its first document
 * alone, and parsed again: the result must equal what was parsed the first
 * time (json_object_equal, with NaN equal to NaN), which is the emitter's
 * contract. Any difference aborts, with both texts on stderr.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/yaml.h"
#include "core/yaml_emit.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

/* json_object_equal, except that NaN equals NaN. */
static int fz_equal(struct json_object *a, struct json_object *b)
{
    size_t i, len;

    if (json_object_equal(a, b))
        return 1;
    if (json_object_get_type(a) != json_object_get_type(b))
        return 0;
    switch (json_object_get_type(a)) {
    case json_type_double:
        return isnan(json_object_get_double(a)) &&
               isnan(json_object_get_double(b));
    case json_type_array:
        len = json_object_array_length(a);
        if (len != json_object_array_length(b))
            return 0;
        for (i = 0; i < len; i++)
            if (!fz_equal(json_object_array_get_idx(a, i),
                          json_object_array_get_idx(b, i)))
                return 0;
        return 1;
    case json_type_object: {
        struct json_object_iterator it = json_object_iter_begin(a);
        struct json_object_iterator end = json_object_iter_end(a);
        struct json_object *bv;
        if (json_object_object_length(a) != json_object_object_length(b))
            return 0;
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            if (!json_object_object_get_ex(b, json_object_iter_peek_name(&it),
                                           &bv) ||
                !fz_equal(json_object_iter_peek_value(&it), bv))
                return 0;
        }
        return 1;
    }
    default:
        return 0;
    }
}

/*
 * Emit 'v' with 'flags', parse the text again and abort unless the result
 * equals 'want' (the documents array the parser should return).
 */
static void fz_round_trip(struct json_object *v, unsigned flags,
                          struct json_object *want)
{
    struct json_object *back = NULL;
    struct sl_diag d;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b, SL_BUF_UNLIMITED);
    sl_diag_clear(&d);
    rc = sl_yaml_emit(v, flags, &b, &d);
    if (rc != 0) {
        fprintf(stderr, "emit failed: %s: %s: %s\n", sl_errname(rc), d.field,
                d.msg);
        abort();
    }
    rc = sl_yaml_to_json(sl_buf_str(&b), b.len, &back, &d);
    if (rc != 0) {
        fprintf(stderr, "emitted YAML does not parse: %s: %s\n---8<---\n%s",
                d.field, d.msg, sl_buf_str(&b));
        abort();
    }
    if (!fz_equal(want, back)) {
        fprintf(stderr, "round trip differs\nwant: %s\ngot:  %s\n---8<---\n%s",
                json_object_to_json_string(want),
                json_object_to_json_string(back), sl_buf_str(&b));
        abort();
    }
    json_object_put(back);
    sl_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct json_object *docs = NULL, *one;
    struct sl_diag d;
    long live = sl_alloc_live();
    int rc;

    sl_diag_clear(&d);
    rc = sl_yaml_to_json((const char *)p, n, &docs, &d);
    if (rc == 0) {
        if (!json_object_is_type(docs, json_type_array))
            abort();
        /* Serialising walks every node the parser built. */
        if (json_object_to_json_string(docs) == NULL)
            abort();
        fz_round_trip(docs, SL_YAML_EMIT_DOCS, docs);
        if (json_object_array_length(docs) > 0) {
            one = json_object_new_array();
            json_object_array_add(
                one, json_object_get(json_object_array_get_idx(docs, 0)));
            fz_round_trip(json_object_array_get_idx(docs, 0), 0, one);
            json_object_put(one);
        }
    } else {
        if (docs != NULL || (rc != SL_EINVAL && rc != SL_ETOOBIG))
            abort();
        if (strncmp(d.field, "line ", 5) != 0 || d.msg[0] == '\0')
            abort();
    }
    json_object_put(docs);
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
