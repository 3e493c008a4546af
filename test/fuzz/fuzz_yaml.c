/*
 * test/fuzz/fuzz_yaml.c - libFuzzer target for YAML resources.
 *
 * The input is one YAML stream. Whatever sl_yaml_to_json says, it must
 * not crash, must return a documented code, must leave '*out' NULL on
 * failure with a "line L column C" position in the diag, and must not
 * leak: the result is put and the live allocation count must be back where
 * it started (LeakSanitizer covers libyaml's and json-c's own blocks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct json_object *docs = NULL;
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
