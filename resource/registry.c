/*
 * resource/registry.c - the list of built-in kinds and lookups over it.
 *
 * Adding a kind: write resource/<kind>.c defining
 * `const struct sl_res_kind sl_res_kind_<name> = { ... };` and add one
 * line X(<name>) to SL_RES_KINDS below (docs/resource.md has the recipe).
 * Registry order is lookup priority when a CLI name fits several kinds,
 * and the order of API discovery.
 */
#include "resource/resource.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"

#define SL_RES_KINDS(X)                                                  \
    X(namespace)       /* v1 Namespace */                                \
    X(configmap)       /* v1 ConfigMap */                                \
    X(secret)          /* v1 Secret */                                   \
    X(broker)          /* eventing.knative.dev/v1 Broker */              \
    X(trigger)         /* eventing.knative.dev/v1 Trigger */             \
    X(kafkasink)       /* eventing.knative.dev/v1alpha1 KafkaSink */     \
    X(pingsource)      /* sources.knative.dev/v1 PingSource */           \
    X(apiserversource) /* sources.knative.dev/v1 ApiServerSource */      \
    X(containersource) /* sources.knative.dev/v1 ContainerSource */      \
    X(sinkbinding)     /* sources.knative.dev/v1 SinkBinding */          \
    X(kafkasource)     /* sources.knative.dev/v1 KafkaSource */          \
    X(rabbitmqsource)  /* sources.knative.dev/v1alpha1 RabbitmqSource */ \
    X(service)         /* serving.knative.dev/v1 Service */              \
    X(configuration)   /* serving.knative.dev/v1 Configuration */        \
    X(revision)        /* serving.knative.dev/v1 Revision */             \
    X(route)           /* serving.knative.dev/v1 Route */

#define X(name) extern const struct sl_res_kind sl_res_kind_##name;
SL_RES_KINDS(X)
#undef X

static const struct sl_res_kind *const registry[] = {
#define X(name) &sl_res_kind_##name,
    SL_RES_KINDS(X)
#undef X
};

#define REGISTRY_LEN (sizeof(registry) / sizeof(registry[0]))

size_t sl_res_kind_count(void)
{
    return REGISTRY_LEN;
}

const struct sl_res_kind *sl_res_kind_at(size_t i)
{
    return i < REGISTRY_LEN ? registry[i] : NULL;
}

bool sl_res_kind_has_api_version(const struct sl_res_kind *k,
                                 const char *api_version)
{
    size_t gl = strlen(k->group);

    if (gl == 0)
        return strcmp(api_version, k->version) == 0;
    return strncmp(api_version, k->group, gl) == 0 && api_version[gl] == '/' &&
           strcmp(api_version + gl + 1, k->version) == 0;
}

const char *sl_res_kind_api_version(const struct sl_res_kind *k, char *out,
                                    size_t outlen)
{
    if (k->group[0] == '\0')
        snprintf(out, outlen, "%s", k->version);
    else
        snprintf(out, outlen, "%s/%s", k->group, k->version);
    return out;
}

const struct sl_res_kind *sl_res_kind_find(const char *api_version,
                                           const char *kind)
{
    size_t i;

    for (i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->kind, kind) == 0 &&
            sl_res_kind_has_api_version(registry[i], api_version))
            return registry[i];
    return NULL;
}

const struct sl_res_kind *sl_res_kind_by_resource(const char *group,
                                                  const char *version,
                                                  const char *plural)
{
    size_t i;

    for (i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->group, group) == 0 &&
            strcmp(registry[i]->version, version) == 0 &&
            strcmp(registry[i]->plural, plural) == 0)
            return registry[i];
    return NULL;
}

/* Does s[0..n) name the kind (plural, singular, short name, Kind)? */
static bool registry_name_is(const struct sl_res_kind *k, const char *s,
                             size_t n)
{
    const char *cand[3] = { k->plural, k->singular, k->kind };
    const char *const *sn;
    size_t i;

    /* s[0..n) equals a name when s starts with it and it is n long. */
    for (i = 0; i < 3; i++)
        if (strlen(cand[i]) == n && sl_str_prefix_ci(s, cand[i]))
            return true;
    for (sn = k->short_names; sn != NULL && *sn != NULL; sn++)
        if (strlen(*sn) == n && sl_str_prefix_ci(s, *sn))
            return true;
    return false;
}

/* Does 'rest' (after the first '.') say "group" or "version.group"? */
static bool registry_qualifier_is(const struct sl_res_kind *k, const char *rest)
{
    size_t vl = strlen(k->version);

    if (k->group[0] != '\0' && sl_str_eq_ci(rest, k->group))
        return true;
    if (k->group[0] == '\0')
        return sl_str_eq_ci(rest, k->version);
    return strncmp(rest, k->version, vl) == 0 && rest[vl] == '.' &&
           sl_str_eq_ci(rest + vl + 1, k->group);
}

const struct sl_res_kind *sl_res_kind_by_name(const char *name)
{
    const char *dot = strchr(name, '.');
    size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name), i;

    if (n == 0)
        return NULL;
    for (i = 0; i < REGISTRY_LEN; i++) {
        if (!registry_name_is(registry[i], name, n))
            continue;
        if (dot == NULL || registry_qualifier_is(registry[i], dot + 1))
            return registry[i];
    }
    return NULL;
}

/* Report the first name of 'a' that also names 'b', if any. */
static const char *registry_shared_name(const struct sl_res_kind *a,
                                        const struct sl_res_kind *b)
{
    const char *cand[3] = { a->plural, a->singular, a->kind };
    const char *const *sn;
    size_t i;

    for (i = 0; i < 3; i++)
        if (registry_name_is(b, cand[i], strlen(cand[i])))
            return cand[i];
    for (sn = a->short_names; sn != NULL && *sn != NULL; sn++)
        if (registry_name_is(b, *sn, strlen(*sn)))
            return *sn;
    return NULL;
}

int sl_res_registry_check(struct sl_diag *d)
{
    size_t i, j;

    for (i = 0; i < REGISTRY_LEN; i++) {
        const struct sl_res_kind *a = registry[i];
        if (a->group == NULL || a->version == NULL || a->kind == NULL ||
            a->plural == NULL || a->singular == NULL || a->version[0] == '\0')
            return sl_diag_set(d, SL_EINVAL, NULL,
                               "kind #%zu: incomplete descriptor", i);
        for (j = 0; j < i; j++) {
            const struct sl_res_kind *b = registry[j];
            const char *clash;
            if (strcmp(a->group, b->group) != 0)
                continue;
            if (strcmp(a->kind, b->kind) == 0) {
                /* Two versions of one kind may share its names. */
                if (strcmp(a->version, b->version) != 0)
                    continue;
                return sl_diag_set(d, SL_EEXIST, NULL,
                                   "kind '%s' registered twice in group '%s'",
                                   a->kind, a->group);
            }
            clash = registry_shared_name(a, b);
            if (clash != NULL)
                return sl_diag_set(d, SL_EEXIST, NULL,
                                   "name '%s' of kind '%s' also names kind "
                                   "'%s' in group '%s'",
                                   clash, a->kind, b->kind, a->group);
        }
    }
    return 0;
}
