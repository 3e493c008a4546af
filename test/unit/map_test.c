/*
 * test/unit/map_test.c - core/map: put, replace, delete, growth,
 * iteration and value destructors, checked against a plain array model.
 */
#include "test/unit/check.h"

#include "core/map.h"

static int destroyed;

static void count_free(void *v)
{
    destroyed++;
    sl_free(v);
}

static char *val(int i)
{
    char *p = sl_xmalloc(16);

    snprintf(p, 16, "v%d", i);
    return p;
}

TEST(empty_map)
{
    struct sl_map m;
    const char *k;
    void *v = (void *)&m;
    size_t it = 0;

    sl_map_init(&m, NULL);
    ASSERT(sl_map_get(&m, "x") == NULL);
    ASSERT(!sl_map_has(&m, "x"));
    ASSERT_EQ(sl_map_len(&m), 0);
    ASSERT_EQ(sl_map_del(&m, "x", &v), SL_ENOENT);
    ASSERT(v == NULL);
    ASSERT(!sl_map_next(&m, &it, &k, &v));
    sl_map_fini(&m);
    sl_map_fini(&m); /* twice is harmless */
}

TEST(fnv1a_vectors)
{
    /* Published FNV-1a 64 test vectors. */
    ASSERT(sl_map_hash("") == 0xcbf29ce484222325ULL);
    ASSERT(sl_map_hash("a") == 0xaf63dc4c8601ec8cULL);
    ASSERT(sl_map_hash("foobar") == 0x85944171f73967e8ULL);
}

TEST(put_get_replace_borrowed)
{
    struct sl_map m;
    int a = 1, b = 2;
    void *old = (void *)&m;
    char key[8] = "key";

    sl_map_init(&m, NULL);
    ASSERT_EQ(sl_map_put(&m, key, &a, &old), 1);
    ASSERT(old == NULL);
    /* The map copied the key. */
    key[0] = 'X';
    ASSERT(sl_map_get(&m, "key") == &a);
    ASSERT(sl_map_get(&m, "Xey") == NULL);
    ASSERT_EQ(sl_map_put(&m, "key", &b, &old), 0);
    ASSERT(old == &a);
    ASSERT(sl_map_get(&m, "key") == &b);
    ASSERT_EQ(sl_map_put(&m, "key", &a, NULL), 0);
    ASSERT_EQ(sl_map_len(&m), 1);
    /* NULL values are stored; has() tells them from absence. */
    ASSERT_EQ(sl_map_put(&m, "nil", NULL, NULL), 1);
    ASSERT(sl_map_has(&m, "nil"));
    ASSERT(sl_map_get(&m, "nil") == NULL);
    ASSERT(sl_map_has(&m, "key"));
    ASSERT(!sl_map_has(&m, "nope"));
    /* The empty string is a key like any other. */
    ASSERT_EQ(sl_map_put(&m, "", &b, NULL), 1);
    ASSERT(sl_map_get(&m, "") == &b);
    ASSERT_EQ(sl_map_len(&m), 3);
    sl_map_fini(&m);
}

TEST(destructor_runs_on_replace_delete_fini)
{
    struct sl_map m;
    void *v = NULL, *old = (void *)&m;
    char *same;

    destroyed = 0;
    sl_map_init(&m, count_free);
    ASSERT_EQ(sl_map_put(&m, "a", val(1), &old), 1);
    ASSERT(old == NULL);
    ASSERT_EQ(sl_map_put(&m, "a", val(2), &old), 0);
    ASSERT_EQ(destroyed, 1);
    ASSERT(old == NULL); /* destroyed, not handed back */
    ASSERT_STR_EQ(sl_map_get(&m, "a"), "v2");
    /* Putting the same pointer again must not free it. */
    same = sl_map_get(&m, "a");
    ASSERT_EQ(sl_map_put(&m, "a", same, NULL), 0);
    ASSERT_EQ(destroyed, 1);
    ASSERT_STR_EQ(sl_map_get(&m, "a"), "v2");
    /* del with pvalue hands the value over; without, destroys it. */
    sl_map_put(&m, "b", val(3), NULL);
    ASSERT_OK(sl_map_del(&m, "b", &v));
    ASSERT_EQ(destroyed, 1);
    ASSERT_STR_EQ(v, "v3");
    sl_free(v);
    ASSERT_OK(sl_map_del(&m, "a", NULL));
    ASSERT_EQ(destroyed, 2);
    ASSERT_EQ(sl_map_del(&m, "a", NULL), SL_ENOENT);
    sl_map_put(&m, "c", val(4), NULL);
    sl_map_put(&m, "d", val(5), NULL);
    sl_map_fini(&m);
    ASSERT_EQ(destroyed, 4);
    ASSERT_EQ(sl_map_len(&m), 0);
}

/* Check every key 0..n-1 against 'present' and the table invariants. */
static void check_model(const struct sl_map *m, const char *present, int n)
{
    char key[32];
    size_t live = 0, it = 0, seen = 0, i;
    const char *k;
    void *v;
    int j;

    for (j = 0; j < n; j++) {
        snprintf(key, sizeof(key), "key-%d", j);
        if (present[j]) {
            live++;
            ASSERT(sl_map_has(m, key));
            ASSERT_EQ((intptr_t)sl_map_get(m, key), j + 1);
        } else {
            ASSERT(!sl_map_has(m, key));
        }
    }
    ASSERT_EQ(sl_map_len(m), live);
    /* Load stays at or below 3/4; capacity is a power of two. */
    ASSERT(m->len * 4 <= m->cap * 3);
    ASSERT((m->cap & (m->cap - 1)) == 0);
    while (sl_map_next(m, &it, &k, &v)) {
        ASSERT_EQ(strncmp(k, "key-", 4), 0);
        ASSERT_EQ((intptr_t)sl_map_get(m, k), (intptr_t)v);
        seen++;
    }
    ASSERT_EQ(seen, live);
    /* Every entry is reachable from its home without crossing a gap. */
    for (i = 0; i < m->cap; i++) {
        size_t h, p;
        if (m->slots[i].key == NULL)
            continue;
        h = (size_t)m->slots[i].hash & (m->cap - 1);
        for (p = h; p != i; p = (p + 1) & (m->cap - 1))
            ASSERT(m->slots[p].key != NULL);
    }
}

TEST(many_keys_growth_and_deletion)
{
    enum { N = 5000 };
    static char present[N];
    struct sl_map m;
    char key[32];
    uint64_t x = 88172645463325252ULL;
    int i, round;

    memset(present, 0, sizeof(present));
    sl_map_init(&m, NULL);
    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        ASSERT_EQ(sl_map_put(&m, key, (void *)(intptr_t)(i + 1), NULL), 1);
        present[i] = 1;
    }
    ASSERT(m.cap >= 8192);
    check_model(&m, present, N);
    /* Delete every third, then a pseudo-random churn of puts and dels. */
    for (i = 0; i < N; i += 3) {
        snprintf(key, sizeof(key), "key-%d", i);
        ASSERT_OK(sl_map_del(&m, key, NULL));
        present[i] = 0;
    }
    check_model(&m, present, N);
    for (round = 0; round < 20000; round++) {
        int k;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k = (int)(x % N);
        snprintf(key, sizeof(key), "key-%d", k);
        if (present[k]) {
            ASSERT_OK(sl_map_del(&m, key, NULL));
            present[k] = 0;
        } else {
            ASSERT_EQ(sl_map_put(&m, key, (void *)(intptr_t)(k + 1), NULL), 1);
            present[k] = 1;
        }
        if (round % 2500 == 0)
            check_model(&m, present, N);
    }
    check_model(&m, present, N);
    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        ASSERT_EQ(sl_map_del(&m, key, NULL), present[i] ? 0 : SL_ENOENT);
    }
    ASSERT_EQ(sl_map_len(&m), 0);
    memset(present, 0, sizeof(present));
    check_model(&m, present, N);
    sl_map_fini(&m);
}

/* Keys whose homes collide, so deletion must shift clusters that wrap. */
TEST(colliding_clusters_wrap_around)
{
    struct sl_map m;
    char key[32], present[400];
    int i, n = 0;

    memset(present, 0, sizeof(present));
    sl_map_init(&m, NULL);
    /* Fill a small table so probes wrap past the end. */
    for (i = 0; i < 6; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        sl_map_put(&m, key, (void *)(intptr_t)(i + 1), NULL);
        present[i] = 1;
        n = i + 1;
    }
    ASSERT_EQ(m.cap, 8);
    check_model(&m, present, n);
    for (i = 0; i < 6; i += 2) {
        snprintf(key, sizeof(key), "key-%d", i);
        ASSERT_OK(sl_map_del(&m, key, NULL));
        present[i] = 0;
        check_model(&m, present, n);
    }
    /* Find keys that share a home in a 16-slot table and churn them. */
    for (i = 6; i < 400; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        if ((sl_map_hash(key) & 15) != 15 && (sl_map_hash(key) & 15) != 0)
            continue;
        if (sl_map_len(&m) >= 12)
            break;
        sl_map_put(&m, key, (void *)(intptr_t)(i + 1), NULL);
        present[i] = 1;
        n = i + 1;
    }
    check_model(&m, present, n);
    for (i = 0; i < n; i++) {
        if (!present[i])
            continue;
        snprintf(key, sizeof(key), "key-%d", i);
        ASSERT_OK(sl_map_del(&m, key, NULL));
        present[i] = 0;
        check_model(&m, present, n);
    }
    sl_map_fini(&m);
}

TEST(iteration_visits_each_once)
{
    struct sl_map m;
    int seen[100];
    size_t it = 0;
    const char *k;
    void *v;
    int i, count = 0;

    memset(seen, 0, sizeof(seen));
    sl_map_init(&m, NULL);
    for (i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof(key), "%d", i);
        sl_map_put(&m, key, (void *)(intptr_t)i, NULL);
    }
    while (sl_map_next(&m, &it, &k, &v)) {
        seen[(intptr_t)v]++;
        count++;
    }
    ASSERT_EQ(count, 100);
    for (i = 0; i < 100; i++)
        ASSERT_EQ(seen[i], 1);
    /* Finished iterators stay finished; NULL out-params are allowed. */
    ASSERT(!sl_map_next(&m, &it, NULL, NULL));
    it = 0;
    ASSERT(sl_map_next(&m, &it, NULL, NULL));
    sl_map_fini(&m);
}

TEST_MAIN()
