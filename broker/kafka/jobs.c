/*
 * broker/kafka/jobs.c - short-lived threads for the librdkafka calls of
 * the Kafka backend that block (a new group's initial offsets, closing a
 * consumer, forgetting a group), and the drain that waits for them.
 *
 * Each job is one detached thread: it runs its work, posts its
 * continuation to the loop, and only then counts itself out, so that once
 * sl_kafka_broker_drain() returns every continuation is on the loop's
 * queue (sl_loop_free runs those still there). Every blocking call a job
 * makes is bounded by a timeout, so a drain is bounded too.
 */
#include "broker/kafka/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/loop.h"

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;
static size_t jobs_running;
static bool jobs_inline; /* drained: the loop is going away */

struct job {
    struct sl_loop *loop;
    sl__kafka_work_fn *work;
    sl__kafka_after_fn *after;
    void *arg;
};

static void *job_main(void *p)
{
    struct job j = *(struct job *)p;

    sl_free(p);
    j.work(j.arg);
    sl_loop_post(j.loop, j.after, j.arg);
    pthread_mutex_lock(&jobs_mu);
    jobs_running--;
    pthread_cond_broadcast(&jobs_cv);
    pthread_mutex_unlock(&jobs_mu);
    return NULL;
}

void sl__kafka_job_start(struct sl_loop *loop, sl__kafka_work_fn *work,
                         sl__kafka_after_fn *after, void *arg)
{
    struct job *j = sl_xmalloc(sizeof(*j));
    pthread_attr_t attr;
    pthread_t t;
    int rc = -1;

    *j = (struct job){ loop, work, after, arg };
    pthread_mutex_lock(&jobs_mu);
    if (jobs_inline) {
        pthread_mutex_unlock(&jobs_mu);
        sl_free(j);
        work(arg);
        after(arg);
        return;
    }
    jobs_running++;
    pthread_mutex_unlock(&jobs_mu);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 5 && rc != 0; i++) {
        rc = pthread_create(&t, &attr, job_main, j);
        if (rc != 0)
            usleep(10000);
    }
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "sluice: cannot start a thread: %s\n", strerror(rc));
        abort();
    }
}

void sl_kafka_broker_drain(void)
{
    pthread_mutex_lock(&jobs_mu);
    while (jobs_running > 0)
        pthread_cond_wait(&jobs_cv, &jobs_mu);
    jobs_inline = true;
    pthread_mutex_unlock(&jobs_mu);
}

void sl__kafka_jobs_resume(void)
{
    pthread_mutex_lock(&jobs_mu);
    jobs_inline = false;
    pthread_mutex_unlock(&jobs_mu);
}
