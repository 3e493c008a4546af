/*
 * test/fuzz/fuzz_resource.c - libFuzzer target for resource admission.
 *
 * The input is a YAML stream (core/yaml.h); every document goes through
 * sl_res_admit as a create. Whatever happens it must not crash or leak,
 * must return 0 or SL_EINVAL, and a failure must carry a message. An
 * accepted object must be a fixed point: admitting a copy again, as a
 * create and as an update of the first, succeeds and changes nothing.
 * The first document also serves as the stored object for an update by
 * each later one, which exercises the immutability checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/yaml.h"
#include "resource/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);

static void fz_check(int rc, const struct sl_diag *d)
{
    if (rc != 0 && (rc != SL_EINVAL || d->msg[0] == '\0'))
        abort();
}

/* A copy of 'o'; NULL for NULL (an empty YAML document is JSON null,
 * which json_object_deep_copy refuses). */
static struct json_object *fz_copy(struct json_object *o)
{
    struct json_object *c = NULL;

    if (o == NULL)
        return NULL;
    if (json_object_deep_copy(o, &c, NULL) != 0)
        abort();
    return c;
}

/* An admitted object must stay as it is when admitted again. */
static void fz_fixed_point(struct json_object *obj,
                           const struct sl_res_env *env)
{
    struct json_object *again = fz_copy(obj);
    struct sl_diag d;

    if (sl_res_admit(again, NULL, env, NULL, &d) != 0 ||
        !json_object_equal(again, obj))
        abort();
    json_object_put(again);
    again = fz_copy(obj);
    if (sl_res_admit(again, obj, env, NULL, &d) != 0 ||
        !json_object_equal(again, obj))
        abort();
    json_object_put(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct json_object *docs = NULL, *first = NULL;
    struct sl_res_env env;
    struct sl_diag d;
    long live = sl_alloc_live();
    size_t i;
    int rc;

    sl_res_env_init(&env);
    if (sl_yaml_to_json((const char *)p, n, &docs, NULL) != 0)
        goto out;
    for (i = 0; i < json_object_array_length(docs); i++) {
        struct json_object *doc = json_object_array_get_idx(docs, i);
        struct json_object *upd = i > 0 && first != NULL ? fz_copy(doc) : NULL;

        sl_diag_clear(&d);
        rc = sl_res_admit(doc, NULL, &env, NULL, &d);
        fz_check(rc, &d);
        if (rc == 0) {
            if (json_object_to_json_string(doc) == NULL)
                abort();
            fz_fixed_point(doc, &env);
            if (first == NULL)
                first = doc;
        }
        if (upd != NULL) {
            sl_diag_clear(&d);
            fz_check(sl_res_admit(upd, first, &env, NULL, &d), &d);
            json_object_put(upd);
        }
    }
out:
    json_object_put(docs);
    if (sl_alloc_live() != live)
        abort();
    return 0;
}
