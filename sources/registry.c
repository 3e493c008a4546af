/*
 * sources/registry.c - which adapter runs which source kind.
 *
 * Adding a source is one folder and one line in builtin[] (under an
 * #ifdef SL_WITH_... when it needs an optional library). Startup checks
 * the list once (sl_source_registry_check): an adapter built against
 * another SL_SOURCE_ABI, or a kind listed twice, stops the daemon.
 */
#include <string.h>

#include "core/err.h"
#include "sources/source.h"

static const struct sl_source_ops *const builtin[] = {
    &sl_source_ping,
    &sl_source_kafka,
    NULL,
};

const struct sl_source_ops *sl_source_find(const char *kind)
{
    for (size_t i = 0; kind != NULL && builtin[i] != NULL; i++)
        if (strcmp(builtin[i]->kind, kind) == 0)
            return builtin[i];
    return NULL;
}

const struct sl_source_ops *const *sl_source_list(void)
{
    return builtin;
}

int sl_source_registry_check(const struct sl_source_ops *const *list,
                             struct sl_diag *d)
{
    if (list == NULL)
        list = builtin;
    for (size_t i = 0; list[i] != NULL; i++) {
        const struct sl_source_ops *o = list[i];
        const char *k = o->kind != NULL ? o->kind : "";

        if (k[0] == '\0')
            return sl_diag_set(d, SL_EINVAL, "",
                               "source adapter %zu has no kind", i);
        if (o->abi != SL_SOURCE_ABI)
            return sl_diag_set(d, SL_EINVAL, "",
                               "source adapter '%s' was built for ABI %d, "
                               "this sluice has %d",
                               k, o->abi, SL_SOURCE_ABI);
        if (o->size < sizeof(struct sl_source) || o->init == NULL ||
            o->start == NULL || o->stop == NULL || o->fini == NULL)
            return sl_diag_set(d, SL_EINVAL, "",
                               "source adapter '%s' is incomplete", k);
        for (size_t j = 0; j < i; j++)
            if (strcmp(list[j]->kind, k) == 0)
                return sl_diag_set(d, SL_EINVAL, "",
                                   "source adapter '%s' registered twice", k);
    }
    return 0;
}
