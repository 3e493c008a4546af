/*
 * bench/bare202.c - the ingress baseline: libmicrohttpd answering 202.
 *
 * The same threading and polling model as sluice's net/server.c, so the
 * ingress comparison measures what sluice adds and not a different server
 * model: one thread; the daemon is started with MHD_USE_EPOLL and no
 * internal thread (external epoll mode); the program's own epoll set
 * watches MHD's epoll descriptor, waits with the timeout MHD_get_timeout()
 * gives, and calls MHD_run() when it is readable or the timeout passes.
 * The same limits as sluice's ingress are set (1024 connections, 60 s
 * connection timeout, 64 KiB memory per connection), and the access
 * handler reads the whole body (it does not look at it) before it queues
 * an empty 202, as the ingress answers a durable append.
 *
 * Usage: bare202 PORT   (listens on 127.0.0.1:PORT until SIGTERM/SIGINT)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

static volatile sig_atomic_t stop;
static unsigned long long answered;
static int marker; /* per-request context: "the head was seen" */

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **ctx)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*ctx == NULL) {
        *ctx = &marker; /* first call: head only */
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* body bytes read and dropped */
        return MHD_YES;
    }
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, 202, resp);
    MHD_destroy_response(resp);
    answered++;
    return ret;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    struct epoll_event ev;
    int ep, port;

    if (argc != 2 || (port = (int)strtol(argv[1], NULL, 10)) <= 0 ||
        port > 65535) {
        fprintf(stderr, "usage: bare202 PORT\n");
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
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        on_access, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT,
        1024u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare202: cannot start libmicrohttpd on port %d\n",
                port);
        return 1;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (info == NULL || ep < 0) {
        fprintf(stderr, "bare202: no epoll descriptor\n");
        return 1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0) {
        perror("bare202: epoll_ctl");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    while (!stop) {
        MHD_UNSIGNED_LONG_LONG to;
        int timeout = 1000, n;

        if (MHD_get_timeout(d, &to) == MHD_YES)
            timeout = to < 1000 ? (int)to : 1000;
        n = epoll_wait(ep, &ev, 1, timeout);
        if (n < 0 && errno != EINTR)
            break;
        MHD_run(d);
    }
    MHD_stop_daemon(d);
    close(ep);
    printf("answered %llu requests\n", answered);
    return 0;
}
