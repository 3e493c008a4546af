/*
 * test/helpers/kafka-cluster.c - a Kafka cluster for tests and the demo:
 * librdkafka's mock cluster (rdkafka_mock.h) as a process of its own.
 *
 *     kafka-cluster [--brokers N] [TOPIC:PARTITIONS ...]
 *
 * Starts N brokers (default 3) on loopback ports, creates the named topics
 * (the mock cannot create topics through the admin API, see
 * ../shared/reference/kafka-test-cluster.md), prints the bootstrap list
 * ("127.0.0.1:p1,127.0.0.1:p2,...") as one line on stdout, and serves
 * until SIGTERM or SIGINT (exit 0). Bad arguments or a cluster that cannot
 * start: exit 1 with one line on stderr.
 *
 * SIGUSR1 takes every broker down (connections dropped, new ones
 * refused: the cluster is unreachable but keeps its data); SIGUSR2 brings
 * them up again on the same ports (rd_kafka_mock_broker_set_down/_up).
 *
 * It speaks the real Kafka protocol; sluice never links it. Only tests
 * and tools/ start it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_flag, down_flag, up_flag;

static void on_signal(int signo)
{
    if (signo == SIGUSR1)
        down_flag = 1;
    else if (signo == SIGUSR2)
        up_flag = 1;
    else
        stop_flag = 1;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "kafka-cluster: %s\n"
            "usage: kafka-cluster [--brokers N] [TOPIC:PARTITIONS ...]\n",
            why);
    return 1;
}

int main(int argc, char **argv)
{
    char err[512];
    int brokers = 3;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    struct sigaction sa;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0) {
            char *end;
            long n;

            if (i + 1 >= argc)
                return usage("--brokers needs a number");
            errno = 0;
            n = strtol(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > 16)
                return usage("--brokers must be 1..16");
            brokers = (int)n;
        } else if (argv[i][0] == '-') {
            return usage("unknown option");
        } else {
            break;
        }
    }

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka-cluster: %s\n", err);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka-cluster: %s\n", err);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka-cluster: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (; i < argc; i++) {
        char name[256];
        const char *colon = strrchr(argv[i], ':');
        char *end;
        long parts;
        rd_kafka_resp_err_t e;

        if (colon == NULL || colon == argv[i] ||
            (size_t)(colon - argv[i]) >= sizeof(name)) {
            fprintf(stderr, "kafka-cluster: %s: want TOPIC:PARTITIONS\n",
                    argv[i]);
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
        memcpy(name, argv[i], (size_t)(colon - argv[i]));
        name[colon - argv[i]] = '\0';
        errno = 0;
        parts = strtol(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0' || parts < 1 || parts > 1000) {
            fprintf(stderr, "kafka-cluster: %s: PARTITIONS must be 1..1000\n",
                    argv[i]);
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
        e = rd_kafka_mock_topic_create(mc, name, (int)parts,
                                       brokers < 3 ? brokers : 3);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "kafka-cluster: topic %s: %s\n", name,
                    rd_kafka_err2str(e));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (!stop_flag) {
        pause();
        if (down_flag) {
            down_flag = 0;
            rd_kafka_mock_broker_set_down(mc, -1);
        }
        if (up_flag) {
            up_flag = 0;
            rd_kafka_mock_broker_set_up(mc, -1);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
