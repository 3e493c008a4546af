/*
 * test/unit/kafka_cluster.c - the Kafka cluster helper as a child process
 * of a unit test (contract in kafka_cluster.h).
 */
#include "test/unit/kafka_cluster.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/unit/check.h"

#define TKC_MAX 8

static pid_t tkc_running[TKC_MAX];

static void tkc_at_exit(void)
{
    int i;

    for (i = 0; i < TKC_MAX; i++) {
        if (tkc_running[i] > 0) {
            kill(tkc_running[i], SIGKILL);
            waitpid(tkc_running[i], NULL, 0);
            tkc_running[i] = 0;
        }
    }
}

static void tkc_track(pid_t pid, pid_t replace)
{
    int i;

    for (i = 0; i < TKC_MAX; i++) {
        if (tkc_running[i] == replace) {
            tkc_running[i] = pid;
            return;
        }
    }
}

int tkc_start(struct tkc *c, int brokers, const char *const *topics)
{
    static bool registered;
    const char *bin = check_path("build/helpers/kafka-cluster");
    char nb[16], *argv[64];
    int fds[2], argc = 0, i;
    size_t len = 0;
    pid_t pid;

    memset(c, 0, sizeof(*c));
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "tkc: %s: %s (make all builds it)\n", bin,
                strerror(errno));
        return -1;
    }
    if (!registered) {
        atexit(tkc_at_exit);
        registered = true;
    }
    snprintf(nb, sizeof(nb), "%d", brokers);
    argv[argc++] = (char *)bin;
    argv[argc++] = "--brokers";
    argv[argc++] = nb;
    for (i = 0; topics != NULL && topics[i] != NULL && argc < 62; i++)
        argv[argc++] = (char *)topics[i];
    argv[argc] = NULL;
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Ends with the test even when the test dies by abort (a
         * sanitizer report), which skips the atexit cleanup. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[1]);
    c->pid = pid;
    tkc_track(pid, 0);
    while (len < sizeof(c->bootstrap) - 1) {
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, 10000) <= 0)
            break;
        n = read(fds[0], c->bootstrap + len, sizeof(c->bootstrap) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        c->bootstrap[len] = '\0';
        if (strchr(c->bootstrap, '\n') != NULL)
            break;
    }
    close(fds[0]);
    if (strchr(c->bootstrap, '\n') == NULL) {
        fprintf(stderr, "tkc: the cluster printed no bootstrap list\n");
        tkc_kill(c);
        return -1;
    }
    *strchr(c->bootstrap, '\n') = '\0';
    return 0;
}

static void tkc_end(struct tkc *c, int sig)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, sig);
    waitpid(c->pid, NULL, 0);
    tkc_track(0, c->pid);
    c->pid = 0;
}

void tkc_stop(struct tkc *c)
{
    tkc_end(c, SIGTERM);
}

void tkc_kill(struct tkc *c)
{
    tkc_end(c, SIGKILL);
}
