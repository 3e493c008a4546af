/*
 * bench/loadgen.c - a small HTTP/1.1 load generator for the benchmarks.
 *
 * One thread, non-blocking sockets on epoll, C keep-alive connections with
 * one request in flight on each (no pipelining). Every request is a
 * binary-mode CloudEvent: a unique ce-id, ce-type "bench.t<seq % T>",
 * ce-sentat = CLOCK_REALTIME in microseconds when the request is written,
 * and a JSON body of exactly S bytes.
 *
 * Two modes:
 *   closed loop (no -r): each connection sends its next request as soon as
 *     the answer to the last one is read, for -d seconds (or -n requests);
 *   paced (-r RATE): request i is due at start + i/RATE; it goes out on an
 *     idle connection when due (late if none is idle; ce-sentat is the
 *     real send time, so a late request does not hide queueing in sluice,
 *     only in this generator, which the "late" count reports).
 *
 * At the end it waits up to 10 s for answers still in flight and prints
 * one line: "ok=N err=N late=N secs=F rate=F" (rate = ok / secs, secs
 * from the first request to the last answer).
 *
 * Usage: loadgen -u http://HOST:PORT/PATH [-c 50] [-d SECS | -n COUNT]
 *                [-r RATE] [-s 1024] [-T 1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 512
#define MAX_BODY  (64 * 1024)
#define REQ_MAX   (MAX_BODY + 1024)
#define RESP_MAX  8192

struct conn {
    int fd;
    int busy; /* a request is written or being written */
    char req[REQ_MAX];
    size_t req_len, req_off;
    char resp[RESP_MAX];
    size_t resp_len;
};

static struct conn conns[MAX_CONNS];
static char body[MAX_BODY];
static size_t body_len = 1024;
static char host[64];
static char path[256];
static struct sockaddr_in addr;
static int epfd;
static unsigned long long seq, ok, errs, late;
static unsigned ntypes = 1;

static uint64_t now_us(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void conn_open(struct conn *c)
{
    struct epoll_event ev;
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
        errno != EINPROGRESS)
        die("connect");
    c->busy = 0;
    c->resp_len = 0;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl");
}

static void conn_reopen(struct conn *c)
{
    close(c->fd);
    conn_open(c);
}

/* Write as much of the current request as the socket takes. */
static int conn_flush(struct conn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t n =
            send(c->fd, c->req + c->req_off, c->req_len - c->req_off, 0);

        if (n < 0) {
            if (errno == EAGAIN || errno == ENOTCONN)
                return 0;
            return -1;
        }
        c->req_off += (size_t)n;
    }
    return 0;
}

static void conn_send(struct conn *c)
{
    int n = snprintf(c->req, sizeof(c->req),
                     "POST %s HTTP/1.1\r\nHost: %s\r\n"
                     "Content-Type: application/json\r\n"
                     "ce-specversion: 1.0\r\nce-id: bench-%llu\r\n"
                     "ce-type: bench.t%llu\r\nce-source: /bench\r\n"
                     "ce-sentat: %llu\r\nContent-Length: %zu\r\n\r\n",
                     path, host, seq, seq % ntypes,
                     (unsigned long long)now_us(CLOCK_REALTIME), body_len);

    memcpy(c->req + n, body, body_len);
    c->req_len = (size_t)n + body_len;
    c->req_off = 0;
    c->busy = 1;
    seq++;
    if (conn_flush(c) < 0) {
        errs++;
        conn_reopen(c);
    }
}

/*
 * Parse complete answers in c->resp. Returns 1 when one answer was
 * consumed (the connection is idle again), 0 when more bytes are needed,
 * -1 when the connection must be reopened.
 */
static int conn_parse(struct conn *c)
{
    char *end, *cl;
    size_t head, total, clen = 0;
    int status, closing;

    c->resp[c->resp_len < RESP_MAX ? c->resp_len : RESP_MAX - 1] = '\0';
    end = strstr(c->resp, "\r\n\r\n");
    if (end == NULL)
        return c->resp_len >= RESP_MAX - 1 ? -1 : 0;
    head = (size_t)(end - c->resp) + 4;
    if (sscanf(c->resp, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    cl = strcasestr(c->resp, "\r\nContent-Length:");
    if (cl != NULL && cl < end)
        clen = strtoull(cl + 17, NULL, 10);
    closing = strcasestr(c->resp, "\r\nConnection: close") != NULL;
    total = head + clen;
    if (c->resp_len < total)
        return total >= RESP_MAX ? -1 : 0;
    if (status >= 200 && status < 300)
        ok++;
    else
        errs++;
    memmove(c->resp, c->resp + total, c->resp_len - total);
    c->resp_len -= total;
    c->busy = 0;
    return closing ? -1 : 1;
}

/* Read what arrived; returns 1 if the connection became idle. */
static int conn_read(struct conn *c)
{
    int idle = 0;

    for (;;) {
        ssize_t n =
            recv(c->fd, c->resp + c->resp_len, RESP_MAX - 1 - c->resp_len, 0);

        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            if (c->busy)
                errs++;
            conn_reopen(c);
            return 1;
        }
        if (n < 0)
            break;
        c->resp_len += (size_t)n;
        for (;;) {
            int r = conn_parse(c);

            if (r < 0) {
                conn_reopen(c);
                return 1;
            }
            if (r == 0)
                break;
            idle = 1;
        }
    }
    return idle;
}

static int parse_url(const char *u)
{
    const char *p, *slash;
    char h[64];
    unsigned port;

    if (strncmp(u, "http://", 7) != 0)
        return -1;
    p = u + 7;
    slash = strchr(p, '/');
    if (slash == NULL || (size_t)(slash - p) >= sizeof(host))
        return -1;
    memcpy(host, p, (size_t)(slash - p));
    host[slash - p] = '\0';
    snprintf(path, sizeof(path), "%s", slash);
    if (sscanf(host, "%63[^:]:%u", h, &port) != 2)
        return -1;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, h, &addr.sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    unsigned nconn = 50;
    double secs = 10, rate = 0;
    unsigned long long count = 0;
    uint64_t t0, stop_at, drain_until, t_last = 0;
    struct epoll_event evs[MAX_CONNS];
    unsigned i, next_idle = 0;
    int opt;
    size_t j;

    while ((opt = getopt(argc, argv, "u:c:d:n:r:s:T:")) != -1) {
        switch (opt) {
        case 'u':
            url = optarg;
            break;
        case 'c':
            nconn = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            secs = strtod(optarg, NULL);
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        case 's':
            body_len = strtoul(optarg, NULL, 10);
            break;
        case 'T':
            ntypes = (unsigned)strtoul(optarg, NULL, 10);
            break;
        default:
            goto usage;
        }
    }
    if (url == NULL || parse_url(url) != 0 || nconn == 0 || nconn > MAX_CONNS ||
        body_len < 16 || body_len > MAX_BODY || ntypes == 0)
        goto usage;
    /* {"d":"xxx...x"} of exactly body_len bytes */
    memset(body, 'x', body_len);
    memcpy(body, "{\"d\":\"", 6);
    memcpy(body + body_len - 2, "\"}", 2);

    epfd = epoll_create1(0);
    if (epfd < 0)
        die("epoll_create1");
    for (i = 0; i < nconn; i++)
        conn_open(&conns[i]);
    t0 = now_us(CLOCK_MONOTONIC);
    stop_at = t0 + (uint64_t)(secs * 1e6);
    drain_until = 0;
    if (rate <= 0)
        for (i = 0; i < nconn && (count == 0 || seq < count); i++)
            conn_send(&conns[i]);

    for (;;) {
        uint64_t now = now_us(CLOCK_MONOTONIC);
        int timeout = 100, n, k;
        int sending = count ? seq < count : now < stop_at;

        if (!sending) {
            int inflight = 0;

            for (i = 0; i < nconn; i++)
                inflight |= conns[i].busy;
            if (!inflight)
                break;
            if (drain_until == 0)
                drain_until = now + 10000000u;
            if (now > drain_until)
                break;
        }
        if (sending && rate > 0) {
            /* paced: send every request that is due on an idle conn */
            for (;;) {
                uint64_t due = t0 + (uint64_t)((double)seq * 1e6 / rate);
                unsigned tried;

                if (due > now) {
                    timeout = (int)((due - now + 999) / 1000);
                    break;
                }
                for (tried = 0; tried < nconn; tried++) {
                    struct conn *c = &conns[(next_idle + tried) % nconn];

                    if (!c->busy) {
                        if (now - due > 5000)
                            late++;
                        conn_send(c);
                        break;
                    }
                }
                next_idle = (next_idle + tried + 1) % nconn;
                if (tried == nconn) {
                    timeout = 1;
                    break;
                }
            }
        }
        n = epoll_wait(epfd, evs, MAX_CONNS, timeout);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;

            if ((evs[k].events & EPOLLOUT) && c->busy &&
                c->req_off < c->req_len && conn_flush(c) < 0) {
                errs++;
                conn_reopen(c);
                continue;
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (conn_read(c)) {
                    t_last = now_us(CLOCK_MONOTONIC);
                    sending = count ? seq < count : t_last < stop_at;
                    if (sending && rate <= 0 && !c->busy)
                        conn_send(c);
                }
            }
        }
    }
    for (j = 0; j < nconn; j++)
        close(conns[j].fd);
    close(epfd);
    {
        double el =
            (double)((t_last > t0 ? t_last : now_us(CLOCK_MONOTONIC)) - t0) /
            1e6;
        printf("ok=%llu err=%llu late=%llu secs=%.3f rate=%.1f\n", ok, errs,
               late, el, el > 0 ? (double)ok / el : 0.0);
    }
    return 0;
usage:
    fprintf(stderr, "usage: loadgen -u http://HOST:PORT/PATH [-c CONNS] "
                    "[-d SECS | -n COUNT] [-r RATE] [-s BODY] [-T TYPES]\n");
    return 2;
}
