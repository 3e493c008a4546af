/*
 * core/metrics_proc.c - the standard process metrics of client libraries
 * (process_*), read from /proc/self at scrape time.
 *
 * /proc/self/stat gives CPU ticks, start time (ticks after boot), virtual
 * size and resident pages; /proc/stat the boot time; /proc/self/fd the
 * open descriptors; getrlimit the descriptor limit. Whatever cannot be
 * read is left out rather than written as 0.
 */
#include "core/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/buf.h"

struct proc_stat {
    unsigned long long utime, stime, starttime, vsize;
    long long rss;
};

/* Fields 14, 15, 22, 23, 24 of /proc/self/stat (proc(5)). */
static int proc_read_stat(struct proc_stat *ps)
{
    char line[1024], *p;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n;
    int got;

    if (f == NULL)
        return -1;
    n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    /* comm may hold spaces and parentheses: fields follow the last ')'. */
    p = strrchr(line, ')');
    if (p == NULL)
        return -1;
    got = sscanf(p + 1,
                 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
                 "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
                 &ps->utime, &ps->stime, &ps->starttime, &ps->vsize, &ps->rss);
    return got == 5 ? 0 : -1;
}

/* "btime" of /proc/stat: boot time, seconds since the epoch. */
static int proc_boot_time(unsigned long long *out)
{
    char line[256];
    FILE *f = fopen("/proc/stat", "r");
    int rc = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "btime %llu", out) == 1) {
            rc = 0;
            break;
        }
    fclose(f);
    return rc;
}

static long proc_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the descriptor of the listing itself */
}

static int proc_metric(struct sl_buf *out, const char *name, const char *type,
                       const char *help, const char *value)
{
    return sl_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name,
                          help, name, type, name, value);
}

int sl_metrics_write_process(struct sl_buf *out)
{
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds;
    unsigned long long boot;
    struct proc_stat ps;
    struct rlimit rl;
    char v[64];
    int rc = 0;

    if (tck <= 0)
        tck = 100;
    if (proc_read_stat(&ps) == 0) {
        snprintf(v, sizeof(v), "%.2f",
                 (double)(ps.utime + ps.stime) / (double)tck);
        rc = proc_metric(out, "process_cpu_seconds_total", "counter",
                         "Total user and system CPU time spent in seconds.", v);
        if (rc == 0) {
            snprintf(v, sizeof(v), "%lld", ps.rss * (long long)page);
            rc = proc_metric(out, "process_resident_memory_bytes", "gauge",
                             "Resident memory size in bytes.", v);
        }
        if (rc == 0) {
            snprintf(v, sizeof(v), "%llu", ps.vsize);
            rc = proc_metric(out, "process_virtual_memory_bytes", "gauge",
                             "Virtual memory size in bytes.", v);
        }
        if (rc == 0 && proc_boot_time(&boot) == 0) {
            snprintf(v, sizeof(v), "%.2f",
                     (double)boot + (double)ps.starttime / (double)tck);
            rc = proc_metric(out, "process_start_time_seconds", "gauge",
                             "Start time of the process since the Unix "
                             "epoch in seconds.",
                             v);
        }
    }
    fds = proc_open_fds();
    if (rc == 0 && fds >= 0) {
        snprintf(v, sizeof(v), "%ld", fds);
        rc = proc_metric(out, "process_open_fds", "gauge",
                         "Number of open file descriptors.", v);
    }
    if (rc == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY) {
        snprintf(v, sizeof(v), "%llu", (unsigned long long)rl.rlim_cur);
        rc = proc_metric(out, "process_max_fds", "gauge",
                         "Maximum number of open file descriptors.", v);
    }
    return rc;
}
