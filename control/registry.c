/*
 * control/registry.c - which reconciler runs for which kind.
 *
 * Adding a reconciler is one line here. Kinds without one (ConfigMap,
 * Secret) are stored and served but have no status.
 */
#include <string.h>

#include "control/internal.h"
#include "resource/resource.h"

extern const struct sl_reconciler sl__ctl_broker, sl__ctl_trigger,
    sl__ctl_kafkasink, sl__ctl_pingsource, sl__ctl_apiserversource,
    sl__ctl_containersource, sl__ctl_kafkasource, sl__ctl_rabbitmqsource,
    sl__ctl_sinkbinding, sl__ctl_ksvc, sl__ctl_configuration, sl__ctl_revision,
    sl__ctl_route, sl__ctl_namespace;

static const struct sl_reconciler *const builtin[] = {
    &sl__ctl_broker,      &sl__ctl_trigger,         &sl__ctl_kafkasink,
    &sl__ctl_pingsource,  &sl__ctl_apiserversource, &sl__ctl_containersource,
    &sl__ctl_kafkasource, &sl__ctl_rabbitmqsource,  &sl__ctl_sinkbinding,
    &sl__ctl_ksvc,        &sl__ctl_configuration,   &sl__ctl_revision,
    &sl__ctl_route,       &sl__ctl_namespace,
};

const struct sl_reconciler *sl__ctl_reconciler(const struct sl_res_kind *k)
{
    size_t i;

    for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (strcmp(builtin[i]->group, k->group) == 0 &&
            strcmp(builtin[i]->kind, k->kind) == 0)
            return builtin[i];
    return NULL;
}
