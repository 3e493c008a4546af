/*
 * core/map.c - string-keyed hash map: open addressing, linear probing.
 *
 * Slots live in one array whose size is a power of two; a key sits in the
 * first free slot at or after its home (hash & mask). Deletion shifts the
 * following entries of the cluster back instead of leaving tombstones
 * (Knuth's algorithm R), so lookups never wade through dead slots and the
 * load factor is the real one. The table doubles before it passes 3/4.
 */
#include "core/map.h"

#include <string.h>

#include "core/alloc.h"
#include "core/err.h"

#define MAP_MIN_CAP 8

void sl_map_init(struct sl_map *m, sl_map_free_fn *free_value)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
    m->free_value = free_value;
}

void sl_map_fini(struct sl_map *m)
{
    size_t i;

    for (i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        sl_free(m->slots[i].key);
        if (m->free_value != NULL)
            m->free_value(m->slots[i].value);
    }
    sl_free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

uint64_t sl_map_hash(const char *key)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = 14695981039346656037ULL;

    while (*p != '\0') {
        h ^= *p++;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Index of 'key' or of the free slot where it would go; cap must be > 0. */
static size_t map_find(const struct sl_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;

    while (m->slots[i].key != NULL &&
           (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

static void map_grow(struct sl_map *m)
{
    struct sl_map_slot *old = m->slots;
    size_t oldcap = m->cap, i;

    m->cap = oldcap ? oldcap * 2 : MAP_MIN_CAP;
    m->slots = sl_xcalloc(m->cap, sizeof(*m->slots));
    for (i = 0; i < oldcap; i++) {
        size_t j;
        if (old[i].key == NULL)
            continue;
        j = (size_t)old[i].hash & (m->cap - 1);
        while (m->slots[j].key != NULL)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    sl_free(old);
}

void *sl_map_get(const struct sl_map *m, const char *key)
{
    size_t i;

    if (m->len == 0)
        return NULL;
    i = map_find(m, key, sl_map_hash(key));
    return m->slots[i].key != NULL ? m->slots[i].value : NULL;
}

bool sl_map_has(const struct sl_map *m, const char *key)
{
    if (m->len == 0)
        return false;
    return m->slots[map_find(m, key, sl_map_hash(key))].key != NULL;
}

int sl_map_put(struct sl_map *m, const char *key, void *value, void **pold)
{
    uint64_t h = sl_map_hash(key);
    struct sl_map_slot *s;
    void *old;

    if (pold != NULL)
        *pold = NULL;
    if (m->cap > 0) {
        s = &m->slots[map_find(m, key, h)];
        if (s->key != NULL) {
            old = s->value;
            s->value = value;
            /* Storing the same pointer again must not destroy it. */
            if (m->free_value != NULL) {
                if (old != value)
                    m->free_value(old);
            } else if (pold != NULL) {
                *pold = old;
            }
            return 0;
        }
    }
    /* Grow first when the new entry would take the load past 3/4. */
    if ((m->len + 1) * 4 > m->cap * 3)
        map_grow(m);
    s = &m->slots[map_find(m, key, h)];
    s->key = sl_xstrdup(key);
    s->hash = h;
    s->value = value;
    m->len++;
    return 1;
}

/* Empty slot 'i' and pull later members of its cluster back over gaps. */
static void map_remove_at(struct sl_map *m, size_t i)
{
    size_t mask = m->cap - 1, j = i;

    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (m->slots[j].key == NULL)
            break;
        home = (size_t)m->slots[j].hash & mask;
        /*
         * Entry j may move to the gap i unless its home lies cyclically
         * in (i, j]: then the gap is before its home and moving it there
         * would hide it from lookups.
         */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].key = NULL;
    m->slots[i].hash = 0;
    m->slots[i].value = NULL;
    m->len--;
}

int sl_map_del(struct sl_map *m, const char *key, void **pvalue)
{
    struct sl_map_slot *s;
    void *value;
    size_t i;

    if (pvalue != NULL)
        *pvalue = NULL;
    if (m->len == 0)
        return SL_ENOENT;
    i = map_find(m, key, sl_map_hash(key));
    s = &m->slots[i];
    if (s->key == NULL)
        return SL_ENOENT;
    value = s->value;
    sl_free(s->key);
    map_remove_at(m, i);
    /* The entry is gone before the destructor runs, so it sees a sane map. */
    if (pvalue != NULL)
        *pvalue = value;
    else if (m->free_value != NULL)
        m->free_value(value);
    return 0;
}

size_t sl_map_len(const struct sl_map *m)
{
    return m->len;
}

bool sl_map_next(const struct sl_map *m, size_t *it, const char **pkey,
                 void **pvalue)
{
    size_t i;

    for (i = *it; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        if (pkey != NULL)
            *pkey = m->slots[i].key;
        if (pvalue != NULL)
            *pvalue = m->slots[i].value;
        *it = i + 1;
        return true;
    }
    *it = m->cap;
    return false;
}
