/*
 * bench/lib/kafka_consume.c - the baseline of bench/run.py's "kafka"
 * KafkaSource line: a bare librdkafka consumer reading a topic.
 *
 * It joins consumer group G (a new one: the topic is read from the
 * beginning, auto.offset.reset earliest), polls records until it has N,
 * touching every byte of each value and header (as a consumer that looks
 * at what it reads), and prints one line:
 *     got=N secs=F rate=F join=F
 * where secs runs from the first record to the N-th (the group join is
 * 'join', seconds from start to the first record, not counted in the
 * rate). With -D each record is also decoded into a CloudEvent with
 * libsluice's Kafka binding (proto/kafka.h), the least a KafkaSource does
 * with a record before sending it. Gives up after 120 s.
 *
 * Usage: kafka_consume -b BOOTSTRAP -t TOPIC -n COUNT [-g GROUP] [-D]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "proto/event.h"
#include "proto/kafka.h"

#define MAX_HEADERS 64

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: kafka_consume -b BOOTSTRAP -t TOPIC -n COUNT "
                    "[-g GROUP] [-D]\n");
    exit(2);
}

/* Decode 'm' as a CloudEvent (binary or structured). 0 or SL_E*. */
static int decode(const rd_kafka_message_t *m)
{
    struct sl_kafka_header h[MAX_HEADERS];
    struct sl_kafka_record rec = { 0 };
    rd_kafka_headers_t *hdrs = NULL;
    struct sl_event *ev = NULL;
    const char *name;
    const void *val;
    size_t len, i;
    int rc;

    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (i = 0; i < MAX_HEADERS &&
                    rd_kafka_header_get_all(hdrs, i, &name, &val, &len) == 0;
             i++) {
            h[i] = (struct sl_kafka_header){ name, val, len };
            rec.nheaders = i + 1;
        }
    rec.headers = h;
    rec.key = m->key;
    rec.key_len = m->key_len;
    rec.value = m->payload;
    rec.value_len = m->len;
    rc = sl_ce_kafka_decode(&rec, NULL, &ev, NULL, NULL);
    sl_event_unref(ev);
    return rc;
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL, *group = NULL;
    unsigned long long want = 0, got = 0, sum = 0, bad = 0;
    double start, first = 0, last = 0;
    char errstr[512], gbuf[64];
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    bool dec = false;
    int opt;

    while ((opt = getopt(argc, argv, "b:t:n:g:D")) != -1) {
        switch (opt) {
        case 'b':
            bootstrap = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'n':
            want = strtoull(optarg, NULL, 10);
            break;
        case 'g':
            group = optarg;
            break;
        case 'D':
            dec = true;
            break;
        default:
            usage();
        }
    }
    if (bootstrap == NULL || topic == NULL || want == 0)
        usage();
    if (group == NULL) {
        snprintf(gbuf, sizeof(gbuf), "bench-raw-%ld", (long)getpid());
        group = gbuf;
    }
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_consume: %s\n", errstr);
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_consume: %s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_consume: cannot subscribe to %s\n", topic);
        return 1;
    }
    rd_kafka_topic_partition_list_destroy(topics);
    start = now_s();
    while (got < want && now_s() - start < 120) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        size_t i;

        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const unsigned char *p = m->payload;

            if (got == 0)
                first = now_s();
            for (i = 0; i < m->len; i++)
                sum += p[i];
            if (dec && decode(m) != 0)
                bad++;
            got++;
            last = now_s();
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < 2) {
        fprintf(stderr, "kafka_consume: got %llu of %llu records\n", got, want);
        return 1;
    }
    /* The rate of the records after the first, over the time they took. */
    printf("got=%llu secs=%.3f rate=%.1f join=%.3f bad=%llu sum=%llu\n", got,
           last - first, (double)(got - 1) / (last - first), first - start, bad,
           sum);
    return got < want ? 1 : 0;
}
