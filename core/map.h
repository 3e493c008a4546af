/*
 * core/map.h - a hash map from NUL-terminated string keys to pointers.
 *
 * Open addressing with linear probing and tombstone-free deletion
 * (backward shift), grown at 3/4 load. The map copies keys; values are
 * borrowed unless the map was given a value destructor, which then runs on
 * replace, delete and fini. Not thread-safe: one owner thread.
 *
 * Iteration order is unspecified; the map must not be modified while an
 * iteration is in progress (collect keys first, then delete).
 */
#ifndef SL_CORE_MAP_H
#define SL_CORE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void sl_map_free_fn(void *value);

struct sl_map_slot {
    char *key; /* NULL when empty */
    uint64_t hash;
    void *value;
};

struct sl_map {
    struct sl_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
    sl_map_free_fn *free_value; /* may be NULL */
};

/* Set up an empty map; 'free_value' (may be NULL) disposes of values. */
void sl_map_init(struct sl_map *m, sl_map_free_fn *free_value);
/* Free every key (and value, with a destructor) and the table. */
void sl_map_fini(struct sl_map *m);

/* Return the value for 'key', or NULL when absent. */
void *sl_map_get(const struct sl_map *m, const char *key);
bool sl_map_has(const struct sl_map *m, const char *key);

/*
 * Insert or replace. When replacing, the old value is destroyed (with a
 * destructor) or, without one, returned in '*pold' when 'pold' is not
 * NULL. Returns 1 when the key was new, 0 when replaced.
 */
int sl_map_put(struct sl_map *m, const char *key, void *value, void **pold);

/*
 * Remove 'key'. Returns 0 and hands the value to '*pvalue' (not destroyed)
 * when 'pvalue' is not NULL, destroys it otherwise; SL_ENOENT when absent.
 */
int sl_map_del(struct sl_map *m, const char *key, void **pvalue);

size_t sl_map_len(const struct sl_map *m);

/* Iteration: for (it = 0; sl_map_next(m, &it, &k, &v); ) ... */
bool sl_map_next(const struct sl_map *m, size_t *it, const char **pkey,
                 void **pvalue);

/* 64-bit FNV-1a of a NUL-terminated string, exposed for tests. */
uint64_t sl_map_hash(const char *key);

#endif
