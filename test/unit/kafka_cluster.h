/*
 * test/unit/kafka_cluster.h - start the Kafka cluster test helper
 * (test/helpers/kafka-cluster, built into build/helpers/) as a child
 * process from a unit test, read its bootstrap list, stop or kill it.
 *
 *     struct tkc c;
 *     const char *topics[] = { "t1:4", NULL };
 *     ASSERT_OK(tkc_start(&c, 1, topics));
 *     ... c.bootstrap ...
 *     tkc_stop(&c);
 *
 * A test that starts one must stop it; at exit every cluster still
 * running is killed (atexit), so a failed assertion leaves none behind.
 * A missing helper binary fails the test, never skips it.
 */
#ifndef SL_TEST_KAFKA_CLUSTER_H
#define SL_TEST_KAFKA_CLUSTER_H

#include <sys/types.h>

struct tkc {
    pid_t pid;           /* 0 when not running */
    char bootstrap[512]; /* "127.0.0.1:p1,..." */
};

/*
 * Start a cluster of 'brokers' brokers with the NULL-terminated
 * "NAME:PARTITIONS" topics (NULL: none) and wait (10 s at most) for its
 * bootstrap line. Returns 0, or -1 (logged to stderr) when it cannot.
 */
int tkc_start(struct tkc *c, int brokers, const char *const *topics);

/* SIGTERM and wait. No-op when not running. */
void tkc_stop(struct tkc *c);

/* SIGKILL and wait: the brokers vanish at once. */
void tkc_kill(struct tkc *c);

#endif
