/*
 * test/unit/tsan_thrd.c - under ThreadSanitizer only: C11 thrd_create
 * through pthread_create.
 *
 * librdkafka starts its threads with C11 thrd_create, which glibc 2.36
 * implements without going through the pthread_create symbol that
 * ThreadSanitizer intercepts; such a thread has no sanitizer state and
 * crashes at its first malloc. Defining thrd_create in the test binary
 * takes precedence over libc's for librdkafka's calls, so its threads
 * start through the intercepted pthread_create and are checked like
 * sluice's own; thrd_join and thrd_detach go through pthread_join and
 * pthread_detach for the same reason (a join the sanitizer does not see
 * leaves the thread registered, and a reused thread id then aborts it).
 * Other builds compile this file to nothing.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SL_TSAN_THRD 1
#endif
#endif
#if !defined(SL_TSAN_THRD) && defined(__SANITIZE_THREAD__)
#define SL_TSAN_THRD 1
#endif

#ifdef SL_TSAN_THRD
#include <pthread.h>
#include <stdint.h>
#include <threads.h>

#include "core/alloc.h"

struct tsan_thrd {
    thrd_start_t fn;
    void *arg;
};

static void *tsan_thrd_main(void *p)
{
    struct tsan_thrd t = *(struct tsan_thrd *)p;

    sl_free(p);
    return (void *)(intptr_t)t.fn(t.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
    struct tsan_thrd *t = sl_xmalloc(sizeof(*t));
    pthread_t th;

    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&th, NULL, tsan_thrd_main, t) != 0) {
        sl_free(t);
        return thrd_error;
    }
    *thr = (thrd_t)th;
    return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
    void *r;

    if (pthread_join((pthread_t)thr, &r) != 0)
        return thrd_error;
    if (res != NULL)
        *res = (int)(intptr_t)r;
    return thrd_success;
}

int thrd_detach(thrd_t thr)
{
    return pthread_detach((pthread_t)thr) == 0 ? thrd_success : thrd_error;
}
#else
typedef int sl_tsan_thrd_unused;
#endif
