/*
 * bench/sink.c - a latency-recording HTTP sink for the benchmarks.
 *
 * libmicrohttpd with one internal polling thread (epoll), so every
 * callback runs on that thread and the counters need no lock. Every POST
 * is answered 202 once its body is read; if it carries the header
 * ce-sentat (CLOCK_REALTIME microseconds, written by bench/loadgen when
 * the event was sent to the ingress) the sink stores now - sentat, read
 * from the same clock on the same machine, when the head arrives.
 *
 * GET /stats answers one line:
 *   count=N timed=N p50_us=N p90_us=N p99_us=N max_us=N span_s=F
 * (span_s: first to last arrival). Up to SINK_MAX_SAMPLES latencies are
 * kept; events past that are counted but not timed.
 *
 * Usage: sink PORT   (listens on 127.0.0.1:PORT until SIGTERM/SIGINT)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define SINK_MAX_SAMPLES (4u * 1024u * 1024u)

static volatile sig_atomic_t stop;
static uint32_t samples[SINK_MAX_SAMPLES];
static uint32_t sorted[SINK_MAX_SAMPLES];
static unsigned long long count, timed;
static uint64_t first_us, last_us;
static int marker;

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static uint32_t pct(size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    return n == 0 ? 0 : sorted[i];
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status,
                              const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **ctx)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
        char line[256];
        size_t n = timed < SINK_MAX_SAMPLES ? timed : SINK_MAX_SAMPLES;

        memcpy(sorted, samples, n * sizeof(sorted[0]));
        qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
        snprintf(line, sizeof(line),
                 "count=%llu timed=%llu p50_us=%u p90_us=%u p99_us=%u "
                 "max_us=%u span_s=%.3f\n",
                 count, timed, pct(n, 0.50), pct(n, 0.90), pct(n, 0.99),
                 n ? sorted[n - 1] : 0, (double)(last_us - first_us) / 1e6);
        return answer(conn, 200, line);
    }
    if (*ctx == NULL) {
        const char *sent =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "ce-sentat");
        uint64_t now = now_us();

        *ctx = &marker;
        if (count == 0)
            first_us = now;
        last_us = now;
        count++;
        if (sent != NULL) {
            uint64_t s = strtoull(sent, NULL, 10);
            uint64_t d = now > s ? now - s : 0;

            if (timed < SINK_MAX_SAMPLES)
                samples[timed] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
            timed++;
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(conn, 202, "");
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    int port;

    if (argc != 2 || (port = (int)strtol(argv[1], NULL, 10)) <= 0 ||
        port > 65535) {
        fprintf(stderr, "usage: sink PORT\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_access, NULL, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "sink: cannot start libmicrohttpd on port %d\n", port);
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    while (!stop) {
        struct timespec t = { 0, 100 * 1000 * 1000 };

        nanosleep(&t, NULL);
    }
    MHD_stop_daemon(d);
    printf("received %llu events\n", count);
    return 0;
}
