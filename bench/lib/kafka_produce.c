/*
 * bench/lib/kafka_produce.c - the baseline of bench/run.py's "kafka"
 * ingress lines: a bare librdkafka producer writing the records sluice's
 * ingress writes, as fast as the same concurrency allows.
 *
 * Every record is what a Kafka broker's (or a KafkaSink's) ingress makes
 * of one bench/loadgen request: the CloudEvent (ce-id bench-<n>, ce-type
 * bench.t0, ce-source /bench, ce-sentat, datacontenttype
 * application/json, a JSON body of exactly S bytes), plus with -k the
 * knativearrivaltime and knativebrokerttl a broker stamps, encoded in
 * binary mode with the CloudEvents Kafka binding of libsluice
 * (proto/kafka.h), so both sides write byte-for-byte the same kind of
 * record. The producer is configured as sluice's (net/kafka.c):
 * idempotent, acks=all, message.timeout.ms 10000, librdkafka's defaults
 * otherwise.
 *
 * Closed loop like loadgen: at most W records in flight (W = loadgen's
 * connections, each with one request waiting for its 202); a delivery
 * report lets the next record go. For -d seconds, or -n records (then W
 * may be large, to fill a topic quickly; -P spreads them evenly over
 * that many partitions instead of librdkafka's sticky partitioner, which
 * matters to a cluster that keeps only so much per partition, as the
 * test cluster does). At the end it waits for the
 * records in flight and prints one line:
 *     ok=N err=N secs=F rate=F
 * (rate = ok / secs, from the first produce to the last report). It gives
 * up 30 s after the run's end (-n: 120 s after its start).
 *
 * Usage: kafka_produce -b BOOTSTRAP -t TOPIC [-d SECS | -n COUNT]
 *                      [-s 1024] [-w 50] [-k] [-P PARTITIONS]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "core/alloc.h"
#include "core/time.h"
#include "proto/event.h"
#include "proto/kafka.h"

static unsigned long long ok, errs, inflight, seq;
static int nparts; /* -P: round robin over this many partitions */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
    (void)rk;
    (void)op;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        ok++;
    else
        errs++;
    inflight--;
}

static void usage(void)
{
    fprintf(stderr, "usage: kafka_produce -b BOOTSTRAP -t TOPIC "
                    "[-d SECS | -n COUNT] [-s 1024] [-w 50] [-k] "
                    "[-P PARTITIONS]\n");
    exit(2);
}

/* Build and produce record number 'seq'. Returns 0 or -1. */
static int produce_one(rd_kafka_t *rk, const char *topic, const char *body,
                       size_t body_len, bool stamps, struct sl_kafka_out *out)
{
    struct sl_event *ev = sl_event_new(SL_CE_V10);
    rd_kafka_headers_t *hdrs;
    rd_kafka_resp_err_t err;
    char id[32], sent[32], at[SL_TIME_RFC3339_MAX];
    struct timespec ts;
    size_t i;

    snprintf(id, sizeof(id), "bench-%llu", seq);
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(sent, sizeof(sent), "%llu",
             (unsigned long long)ts.tv_sec * 1000000ull +
                 (unsigned long long)ts.tv_nsec / 1000ull);
    if (sl_event_set_str(ev, "id", id, NULL) != 0 ||
        sl_event_set_str(ev, "type", "bench.t0", NULL) != 0 ||
        sl_event_set_str(ev, "source", "/bench", NULL) != 0 ||
        sl_event_set_str(ev, "sentat", sent, NULL) != 0 ||
        sl_event_set_str(ev, "datacontenttype", "application/json", NULL) !=
            0) {
        fprintf(stderr, "kafka_produce: cannot build the event\n");
        exit(1);
    }
    if (stamps) {
        struct sl_timestamp now = sl_time_now();

        sl_time_format_rfc3339(&now, at, sizeof(at));
        if (sl_event_set(ev, "knativearrivaltime", SL_CE_TIME, at, strlen(at),
                         NULL) != 0 ||
            sl_event_set_int(ev, "knativebrokerttl", 255, NULL) != 0) {
            fprintf(stderr, "kafka_produce: cannot stamp the event\n");
            exit(1);
        }
    }
    sl_event_set_data(ev, body, body_len);
    if (sl_ce_kafka_encode(ev, NULL, out) != 0) {
        fprintf(stderr, "kafka_produce: cannot encode the event\n");
        exit(1);
    }
    sl_event_unref(ev);
    hdrs = rd_kafka_headers_new(out->rec.nheaders);
    for (i = 0; i < out->rec.nheaders; i++)
        rd_kafka_header_add(hdrs, out->rec.headers[i].name, -1,
                            out->rec.headers[i].value,
                            (ssize_t)out->rec.headers[i].len);
    err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(nparts > 0 ? (int32_t)(seq % (unsigned)nparts)
                                        : RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)out->rec.value, out->rec.value_len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(hdrs);
        return -1;
    }
    seq++;
    inflight++;
    return 0;
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL;
    double secs = 0, t0, t1, end;
    unsigned long long count = 0, window = 50;
    size_t body_len = 1024;
    bool stamps = false;
    char errstr[512], *body;
    rd_kafka_conf_t *conf;
    struct sl_kafka_out out;
    rd_kafka_t *rk;
    int opt;

    while ((opt = getopt(argc, argv, "b:t:d:n:s:w:kP:")) != -1) {
        switch (opt) {
        case 'b':
            bootstrap = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'd':
            secs = strtod(optarg, NULL);
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 's':
            body_len = strtoul(optarg, NULL, 10);
            break;
        case 'w':
            window = strtoull(optarg, NULL, 10);
            break;
        case 'k':
            stamps = true;
            break;
        case 'P':
            nparts = (int)strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (bootstrap == NULL || topic == NULL || (secs <= 0 && count == 0) ||
        body_len < 16 || body_len > (1u << 20) || window == 0)
        usage();
    /* {"d":"xxx...x"} of exactly body_len bytes, as loadgen's */
    body = sl_xmalloc(body_len);
    memset(body, 'x', body_len);
    memcpy(body, "{\"d\":\"", 6);
    memcpy(body + body_len - 2, "\"}", 2);

    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "message.timeout.ms", "10000", errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_produce: %s\n", errstr);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_report);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "kafka_produce: %s\n", errstr);
        return 1;
    }
    sl_kafka_out_init(&out);
    t0 = now_s();
    end = t0 + secs;
    for (;;) {
        bool more = count > 0 ? seq < count : now_s() < end;

        while (more && inflight < window) {
            if (produce_one(rk, topic, body, body_len, stamps, &out) != 0) {
                rd_kafka_poll(rk, 1); /* queue full: serve reports */
                break;
            }
            more = count > 0 ? seq < count : now_s() < end;
        }
        if (!more && inflight == 0)
            break;
        rd_kafka_poll(rk, 1);
        if (now_s() > (count > 0 ? t0 + 120 : end + 30))
            break; /* a cluster that does not answer */
    }
    t1 = now_s();
    sl_kafka_out_fini(&out);
    rd_kafka_flush(rk, 10000);
    rd_kafka_destroy(rk);
    sl_free(body);
    printf("ok=%llu err=%llu secs=%.3f rate=%.1f\n", ok, errs, t1 - t0,
           (double)ok / (t1 - t0));
    return errs > 0 && ok == 0 ? 1 : 0;
}
