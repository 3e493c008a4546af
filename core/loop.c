/*
 * core/loop.c - the event loop over epoll, eventfd and signalfd.
 *
 * Watchers are level-triggered epoll registrations whose data pointer is
 * the watcher itself. A watcher freed while a batch of epoll events is being
 * dispatched is only marked dead and parked on a list that is emptied after
 * the batch, so later events of the same batch never touch freed memory.
 *
 * Timers live in a binary min-heap ordered by (due time, start sequence);
 * each timer knows its heap index, so stop and restart are O(log n). Times
 * are kept in nanoseconds internally so that a timer never fires before its
 * delay has passed; the API speaks milliseconds.
 *
 * Posted tasks are a mutex-protected singly linked FIFO. The eventfd is
 * written only when a post finds the queue empty; the loop reads the
 * eventfd before taking the queue, so no wake-up can be lost between them.
 */
#include "core/loop.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/time.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_NSIG       65 /* Linux signals are 1..64 */
#define LOOP_NO_IDX     ((size_t)-1)
#define NS_PER_MS       1000000

struct sl_io {
    struct sl_loop *loop;
    int fd;
    unsigned events; /* current interest, SL_IO_* */
    bool in_epoll;   /* registered (interest != 0) */
    bool dead;       /* freed during dispatch, awaiting release */
    bool internal;   /* the loop's own (eventfd, signalfd) */
    sl_io_fn *cb;
    void *arg;
    struct sl_io *next_dead;
};

struct sl_timer {
    struct sl_loop *loop;
    sl_timer_fn *cb;
    void *arg;
    int64_t due_ns;
    uint64_t seq;       /* start order, breaks ties between equal due times */
    uint64_t repeat_ms; /* 0 = one-shot */
    size_t idx;         /* heap position, LOOP_NO_IDX when stopped */
};

struct loop_task {
    sl_task_fn *fn;
    void *arg;
    struct loop_task *next;
};

struct sl_loop {
    bool freeing; /* sl_loop_free is running the last tasks */
    int epfd;
    int wakefd; /* eventfd: posts and stop */
    int sigfd;  /* signalfd, -1 until the first sl_loop_signal */
    struct sl_io *wake_io;
    struct sl_io *sig_io;
    sigset_t sigmask;
    struct {
        sl_signal_fn *fn;
        void *arg;
    } sigs[LOOP_NSIG];

    struct sl_timer **heap;
    size_t nheap, capheap;
    uint64_t seq;
    int64_t now_ns;

    pthread_mutex_t mu; /* guards thead/ttail */
    struct loop_task *thead, *ttail;
    int stop; /* atomic */

    bool running;
    bool dispatching;
    struct sl_io *dead;
    long nobj; /* user watchers and timers alive */
};

static void loop_panic(const char *msg, long n)
{
    fprintf(stderr, "sluice: %s (%ld)\n", msg, n);
    abort();
}

static void loop_update_time(struct sl_loop *loop)
{
    loop->now_ns = sl_time_mono_ns();
}

static void loop_wake(struct sl_loop *loop)
{
    uint64_t one = 1;
    ssize_t n;

    /* EAGAIN means the counter is saturated: the loop is woken anyway. */
    n = write(loop->wakefd, &one, sizeof(one));
    (void)n;
}

/* ---- timers: the heap ---- */

static bool timer_before(const struct sl_timer *a, const struct sl_timer *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_place(struct sl_loop *loop, size_t i, struct sl_timer *t)
{
    loop->heap[i] = t;
    t->idx = i;
}

static void heap_up(struct sl_loop *loop, size_t i)
{
    struct sl_timer *t = loop->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_before(t, loop->heap[p]))
            break;
        heap_place(loop, i, loop->heap[p]);
        i = p;
    }
    heap_place(loop, i, t);
}

static void heap_down(struct sl_loop *loop, size_t i)
{
    struct sl_timer *t = loop->heap[i];
    size_t n = loop->nheap;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_before(loop->heap[c + 1], loop->heap[c]))
            c++;
        if (!timer_before(loop->heap[c], t))
            break;
        heap_place(loop, i, loop->heap[c]);
        i = c;
    }
    heap_place(loop, i, t);
}

static void heap_push(struct sl_loop *loop, struct sl_timer *t)
{
    if (loop->nheap == loop->capheap) {
        loop->capheap = loop->capheap ? loop->capheap * 2 : 16;
        loop->heap =
            sl_xrealloc(loop->heap, loop->capheap * sizeof(*loop->heap));
    }
    loop->heap[loop->nheap] = t;
    t->idx = loop->nheap++;
    heap_up(loop, t->idx);
}

static void heap_remove(struct sl_loop *loop, struct sl_timer *t)
{
    size_t i = t->idx;
    struct sl_timer *last = loop->heap[--loop->nheap];

    t->idx = LOOP_NO_IDX;
    if (last == t)
        return;
    heap_place(loop, i, last);
    heap_down(loop, i);
    heap_up(loop, last->idx);
}

/*
 * Run every timer that is due, in (due, start) order. Timers (re)started
 * during this pass get a sequence number at or above 'limit' and wait for
 * the next pass, so a timer that restarts itself with delay 0 cannot keep
 * the loop here forever.
 */
static void loop_run_timers(struct sl_loop *loop)
{
    uint64_t limit = loop->seq;

    while (loop->nheap > 0) {
        struct sl_timer *t = loop->heap[0];
        if (t->due_ns > loop->now_ns || t->seq >= limit)
            break;
        heap_remove(loop, t);
        if (t->repeat_ms > 0) {
            t->due_ns = loop->now_ns + (int64_t)t->repeat_ms * NS_PER_MS;
            t->seq = loop->seq++;
            heap_push(loop, t);
        }
        /* Last use of 't' here: the callback may free it. */
        t->cb(t->arg);
    }
}

/* Milliseconds epoll_wait may sleep: -1 without timers, rounded up. */
static int loop_timeout(const struct sl_loop *loop)
{
    int64_t d;

    if (loop->nheap == 0)
        return -1;
    d = loop->heap[0]->due_ns - loop->now_ns;
    if (d <= 0)
        return 0;
    d = (d + NS_PER_MS - 1) / NS_PER_MS;
    return d > INT_MAX ? INT_MAX : (int)d;
}

struct sl_timer *sl_timer_new(struct sl_loop *loop, sl_timer_fn *fn, void *arg)
{
    struct sl_timer *t = sl_xcalloc(1, sizeof(*t));

    t->loop = loop;
    t->cb = fn;
    t->arg = arg;
    t->idx = LOOP_NO_IDX;
    loop->nobj++;
    return t;
}

void sl_timer_start(struct sl_timer *t, uint64_t delay_ms, uint64_t repeat_ms)
{
    struct sl_loop *loop = t->loop;

    /* Clamp so that due times cannot overflow (about 292 years). */
    if (delay_ms > (uint64_t)INT64_MAX / NS_PER_MS / 2)
        delay_ms = (uint64_t)INT64_MAX / NS_PER_MS / 2;
    if (repeat_ms > (uint64_t)INT64_MAX / NS_PER_MS / 2)
        repeat_ms = (uint64_t)INT64_MAX / NS_PER_MS / 2;
    if (t->idx != LOOP_NO_IDX)
        heap_remove(loop, t);
    /*
     * A fresh clock reading, not the iteration's cached one: a callback
     * that ran long must not shorten the delays it asks for.
     */
    loop_update_time(loop);
    t->due_ns = loop->now_ns + (int64_t)delay_ms * NS_PER_MS;
    t->repeat_ms = repeat_ms;
    t->seq = loop->seq++;
    heap_push(loop, t);
}

void sl_timer_stop(struct sl_timer *t)
{
    if (t->idx != LOOP_NO_IDX)
        heap_remove(t->loop, t);
}

bool sl_timer_active(const struct sl_timer *t)
{
    return t->idx != LOOP_NO_IDX;
}

void sl_timer_free(struct sl_timer *t)
{
    if (t == NULL)
        return;
    sl_timer_stop(t);
    t->loop->nobj--;
    sl_free(t);
}

/* ---- fd watchers ---- */

static uint32_t io_epoll_bits(unsigned events)
{
    uint32_t e = 0;

    if (events & SL_IO_READ)
        e |= EPOLLIN;
    if (events & SL_IO_WRITE)
        e |= EPOLLOUT;
    if (events & SL_IO_HUP)
        e |= EPOLLRDHUP;
    return e;
}

/* Map what epoll reported onto the watcher's current interest. */
static unsigned io_ready_bits(uint32_t e, unsigned interest)
{
    unsigned r = 0;

    if ((interest & SL_IO_READ) &&
        (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
        r |= SL_IO_READ;
    if ((interest & SL_IO_WRITE) && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
        r |= SL_IO_WRITE;
    if ((interest & SL_IO_HUP) && (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        r |= SL_IO_HUP;
    return r;
}

static struct sl_io *loop_io_new(struct sl_loop *loop, int fd, unsigned events,
                                 sl_io_fn *cb, void *arg, bool internal)
{
    struct sl_io *io = sl_xcalloc(1, sizeof(*io));

    io->loop = loop;
    io->fd = fd;
    io->cb = cb;
    io->arg = arg;
    io->internal = internal;
    if (sl_io_set(io, events) < 0) {
        int e = errno;
        sl_free(io);
        errno = e;
        return NULL;
    }
    if (!internal)
        loop->nobj++;
    return io;
}

struct sl_io *sl_io_new(struct sl_loop *loop, int fd, unsigned events,
                        sl_io_fn *cb, void *arg)
{
    return loop_io_new(loop, fd, events, cb, arg, false);
}

int sl_io_set(struct sl_io *io, unsigned events)
{
    struct epoll_event ev;
    int op;

    events &= SL_IO_READ | SL_IO_WRITE | SL_IO_HUP;
    if (events == 0) {
        /*
         * Idle watchers leave the epoll set: epoll reports hang-ups and
         * errors even with an empty interest, which would spin the loop.
         */
        if (io->in_epoll)
            (void)epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        io->in_epoll = false;
        io->events = 0;
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = io_epoll_bits(events);
    ev.data.ptr = io;
    op = io->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(io->loop->epfd, op, io->fd, &ev) < 0)
        return sl_err_from_errno(errno);
    io->in_epoll = true;
    io->events = events;
    return 0;
}

int sl_io_fd(const struct sl_io *io)
{
    return io->fd;
}

void sl_io_free(struct sl_io *io)
{
    struct sl_loop *loop;

    if (io == NULL)
        return;
    loop = io->loop;
    (void)sl_io_set(io, 0);
    if (!io->internal)
        loop->nobj--;
    if (loop->dispatching) {
        io->dead = true;
        io->next_dead = loop->dead;
        loop->dead = io;
        return;
    }
    sl_free(io);
}

static void loop_free_dead(struct sl_loop *loop)
{
    while (loop->dead != NULL) {
        struct sl_io *io = loop->dead;
        loop->dead = io->next_dead;
        sl_free(io);
    }
}

/* ---- posted tasks ---- */

/* Take the whole queue and run it in order; returns false when empty. */
static bool loop_run_tasks(struct sl_loop *loop)
{
    struct loop_task *t;

    pthread_mutex_lock(&loop->mu);
    t = loop->thead;
    loop->thead = loop->ttail = NULL;
    pthread_mutex_unlock(&loop->mu);
    if (t == NULL)
        return false;
    while (t != NULL) {
        struct loop_task *next = t->next;
        t->fn(t->arg);
        sl_free(t);
        t = next;
    }
    return true;
}

static void loop_on_wake(void *arg, unsigned events)
{
    struct sl_loop *loop = arg;
    uint64_t v;
    ssize_t n;

    (void)events;
    /* Read first, then take the queue (see the file comment). */
    n = read(loop->wakefd, &v, sizeof(v));
    (void)n;
    loop_run_tasks(loop);
}

int sl_loop_post(struct sl_loop *loop, sl_task_fn *fn, void *arg)
{
    struct loop_task *t = sl_xmalloc(sizeof(*t));
    bool was_empty;

    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&loop->mu);
    was_empty = loop->thead == NULL;
    if (loop->ttail != NULL)
        loop->ttail->next = t;
    else
        loop->thead = t;
    loop->ttail = t;
    pthread_mutex_unlock(&loop->mu);
    if (was_empty)
        loop_wake(loop);
    return 0;
}

/* ---- signals ---- */

static void loop_on_signal(void *arg, unsigned events)
{
    struct sl_loop *loop = arg;
    struct signalfd_siginfo si;

    (void)events;
    while (read(loop->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < LOOP_NSIG && loop->sigs[signo].fn != NULL)
            loop->sigs[signo].fn(loop->sigs[signo].arg, signo);
    }
}

int sl_loop_signal(struct sl_loop *loop, int signo, sl_signal_fn *fn, void *arg)
{
    sigset_t one;
    int fd, rc;

    if (signo <= 0 || signo >= LOOP_NSIG || signo == SIGKILL ||
        signo == SIGSTOP)
        return SL_EINVAL;
    sigemptyset(&one);
    if (sigaddset(&one, signo) < 0)
        return SL_EINVAL;
    rc = pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (rc != 0)
        return sl_err_from_errno(rc);
    sigaddset(&loop->sigmask, signo);
    fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return sl_err_from_errno(errno);
    if (loop->sigfd < 0) {
        loop->sigfd = fd;
        loop->sig_io =
            loop_io_new(loop, fd, SL_IO_READ, loop_on_signal, loop, true);
        if (loop->sig_io == NULL) {
            rc = sl_err_from_errno(errno);
            close(fd);
            loop->sigfd = -1;
            return rc;
        }
    }
    loop->sigs[signo].fn = fn;
    loop->sigs[signo].arg = arg;
    return 0;
}

/* ---- the loop ---- */

int sl_loop_new(struct sl_loop **out)
{
    struct sl_loop *loop = sl_xcalloc(1, sizeof(*loop));
    int rc = 0;

    *out = NULL;
    loop->epfd = -1;
    loop->wakefd = -1;
    loop->sigfd = -1;
    sigemptyset(&loop->sigmask);
    pthread_mutex_init(&loop->mu, NULL);
    loop_update_time(loop);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        rc = sl_err_from_errno(errno);
        goto out;
    }
    loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wakefd < 0) {
        rc = sl_err_from_errno(errno);
        goto out;
    }
    loop->wake_io =
        loop_io_new(loop, loop->wakefd, SL_IO_READ, loop_on_wake, loop, true);
    if (loop->wake_io == NULL) {
        rc = sl_err_from_errno(errno);
        goto out;
    }
    *out = loop;
    loop = NULL;
out:
    if (loop != NULL) {
        if (loop->wakefd >= 0)
            close(loop->wakefd);
        if (loop->epfd >= 0)
            close(loop->epfd);
        pthread_mutex_destroy(&loop->mu);
        sl_free(loop);
    }
    return rc;
}

void sl_loop_free(struct sl_loop *loop)
{
    if (loop == NULL)
        return;
    /* Tasks may post more tasks; run until the queue stays empty. */
    loop->freeing = true;
    while (loop_run_tasks(loop))
        ;
    sl_io_free(loop->wake_io);
    sl_io_free(loop->sig_io);
    loop_free_dead(loop);
    if (loop->nobj != 0)
        loop_panic("sl_loop_free: watchers or timers still open", loop->nobj);
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->wakefd);
    close(loop->epfd);
    pthread_mutex_destroy(&loop->mu);
    sl_free(loop->heap);
    sl_free(loop);
}

bool sl_loop_freeing(const struct sl_loop *loop)
{
    return loop->freeing;
}

void sl_loop_stop(struct sl_loop *loop)
{
    __atomic_store_n(&loop->stop, 1, __ATOMIC_SEQ_CST);
    loop_wake(loop);
}

int64_t sl_loop_now_ms(const struct sl_loop *loop)
{
    return loop->now_ns / NS_PER_MS;
}

static void loop_dispatch(struct sl_loop *loop, struct epoll_event *evs, int n)
{
    int i;

    loop->dispatching = true;
    for (i = 0; i < n; i++) {
        struct sl_io *io = evs[i].data.ptr;
        unsigned ready;
        if (io->dead)
            continue;
        ready = io_ready_bits(evs[i].events, io->events);
        if (ready != 0)
            io->cb(io->arg, ready);
    }
    loop->dispatching = false;
    loop_free_dead(loop);
}

int sl_loop_run(struct sl_loop *loop)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int rc = 0;

    if (loop->running)
        return SL_EBUSY;
    loop->running = true;
    for (;;) {
        int n, timeout;
        bool stopping;

        loop_update_time(loop);
        loop_run_timers(loop);
        stopping = __atomic_load_n(&loop->stop, __ATOMIC_SEQ_CST) != 0;
        /* When stopping, finish this iteration without sleeping. */
        timeout = stopping ? 0 : loop_timeout(loop);
        n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            rc = sl_err_from_errno(errno);
            break;
        }
        loop_update_time(loop);
        if (n > 0)
            loop_dispatch(loop, evs, n);
        if (__atomic_load_n(&loop->stop, __ATOMIC_SEQ_CST) != 0)
            break;
    }
    __atomic_store_n(&loop->stop, 0, __ATOMIC_SEQ_CST);
    loop->running = false;
    return rc;
}
