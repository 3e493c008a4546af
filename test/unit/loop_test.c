/*
 * test/unit/loop_test.c - core/loop: timer order, repeat, stop, restart and
 * free from callbacks, the timer heap under load, fd readiness and watcher
 * free during dispatch, tasks posted from other threads, stop, signals.
 */
#include "test/unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/time.h"

static struct sl_loop *new_loop(void)
{
    struct sl_loop *loop = NULL;

    ASSERT_OK(sl_loop_new(&loop));
    ASSERT(loop != NULL);
    return loop;
}

/* ---- timers ---- */

struct order {
    struct sl_loop *loop;
    int seen[64];
    int n;
    int stop_after; /* stop the loop once this many were seen */
};

struct order_timer {
    struct order *o;
    int id;
    struct sl_timer *t;
};

static void order_fire(void *arg)
{
    struct order_timer *ot = arg;

    ASSERT(ot->o->n < 64);
    ot->o->seen[ot->o->n++] = ot->id;
    if (ot->o->n == ot->o->stop_after)
        sl_loop_stop(ot->o->loop);
}

TEST(timers_fire_in_due_then_start_order)
{
    static const struct {
        int id;
        uint64_t delay;
    } spec[] = { { 30, 30 }, { 10, 10 }, { 20, 20 }, { 1, 5 },
                 { 2, 5 },   { 3, 5 },   { 0, 0 } };
    struct order o = { .stop_after = 7 };
    struct order_timer ts[7];
    int64_t start;
    size_t i;

    o.loop = new_loop();
    for (i = 0; i < 7; i++) {
        ts[i].o = &o;
        ts[i].id = spec[i].id;
        ts[i].t = sl_timer_new(o.loop, order_fire, &ts[i]);
        sl_timer_start(ts[i].t, spec[i].delay, 0);
        ASSERT(sl_timer_active(ts[i].t));
    }
    start = sl_time_mono_ns();
    ASSERT_OK(sl_loop_run(o.loop));
    /* The 30 ms timer cannot have fired early. */
    ASSERT(sl_time_mono_ns() - start >= 30 * 1000000LL - 1000000LL);
    ASSERT_EQ(o.n, 7);
    ASSERT_EQ(o.seen[0], 0);
    ASSERT_EQ(o.seen[1], 1);
    ASSERT_EQ(o.seen[2], 2);
    ASSERT_EQ(o.seen[3], 3);
    ASSERT_EQ(o.seen[4], 10);
    ASSERT_EQ(o.seen[5], 20);
    ASSERT_EQ(o.seen[6], 30);
    for (i = 0; i < 7; i++) {
        ASSERT(!sl_timer_active(ts[i].t));
        sl_timer_free(ts[i].t);
    }
    sl_loop_free(o.loop);
}

struct rep {
    struct sl_loop *loop;
    struct sl_timer *t;
    int count;
    int64_t first, last;
};

static void rep_fire(void *arg)
{
    struct rep *r = arg;

    if (r->count++ == 0)
        r->first = sl_time_mono_ns();
    r->last = sl_time_mono_ns();
    if (r->count == 5) {
        /* Free the repeating timer from its own callback. */
        sl_timer_free(r->t);
        r->t = NULL;
        sl_loop_stop(r->loop);
    }
}

TEST(timer_repeats_and_frees_itself)
{
    struct rep r = { 0 };

    r.loop = new_loop();
    r.t = sl_timer_new(r.loop, rep_fire, &r);
    sl_timer_start(r.t, 1, 5);
    ASSERT_OK(sl_loop_run(r.loop));
    ASSERT_EQ(r.count, 5);
    ASSERT(r.t == NULL);
    /* Four repeat intervals of at least 5 ms each. */
    ASSERT(r.last - r.first >= 4 * 5 * 1000000LL);
    sl_loop_free(r.loop);
}

struct stopper {
    struct sl_loop *loop;
    struct sl_timer *victim; /* stopped or freed by the first timer */
    int fired_victim;
    int fired_stop;
    int mode; /* 0: stop victim, 1: free victim, 2: restart victim later */
    int64_t victim_at;
};

static void stopper_victim(void *arg)
{
    struct stopper *s = arg;

    s->fired_victim++;
    s->victim_at = sl_time_mono_ns();
}

static void stopper_first(void *arg)
{
    struct stopper *s = arg;

    if (s->mode == 0) {
        sl_timer_stop(s->victim);
        sl_timer_stop(s->victim); /* stopping twice is a no-op */
    } else if (s->mode == 1) {
        sl_timer_free(s->victim);
        s->victim = NULL;
    } else {
        sl_timer_start(s->victim, 40, 0);
    }
}

static void stopper_end(void *arg)
{
    struct stopper *s = arg;

    s->fired_stop++;
    sl_loop_stop(s->loop);
}

TEST(timer_stop_free_and_restart_from_another_callback)
{
    int mode;

    for (mode = 0; mode < 3; mode++) {
        struct stopper s = { .mode = mode };
        struct sl_timer *first, *end;
        int64_t start;

        s.loop = new_loop();
        first = sl_timer_new(s.loop, stopper_first, &s);
        s.victim = sl_timer_new(s.loop, stopper_victim, &s);
        end = sl_timer_new(s.loop, stopper_end, &s);
        /* Same due time: 'first' was started first, so it runs first. */
        sl_timer_start(first, 10, 0);
        sl_timer_start(s.victim, 10, 0);
        sl_timer_start(end, mode == 2 ? 80 : 30, 0);
        start = sl_time_mono_ns();
        ASSERT_OK(sl_loop_run(s.loop));
        ASSERT_EQ(s.fired_stop, 1);
        if (mode == 2) {
            ASSERT_EQ(s.fired_victim, 1);
            ASSERT(s.victim_at - start >= 40 * 1000000LL);
        } else {
            ASSERT_EQ(s.fired_victim, 0);
        }
        sl_timer_free(first);
        sl_timer_free(s.victim);
        sl_timer_free(end);
        sl_loop_free(s.loop);
    }
}

struct spin {
    struct sl_loop *loop;
    struct sl_timer *t;
    int rounds;
    int io_seen_at; /* round in which the pipe became readable */
    int fds[2];
    struct sl_io *io;
};

static void spin_timer(void *arg)
{
    struct spin *s = arg;

    s->rounds++;
    if (s->rounds == 3)
        ASSERT_EQ(write(s->fds[1], "x", 1), 1);
    if (s->rounds == 200) {
        sl_loop_stop(s->loop);
        return;
    }
    sl_timer_start(s->t, 0, 0); /* again, "soon" */
}

static void spin_io(void *arg, unsigned events)
{
    struct spin *s = arg;
    char c;

    ASSERT(events & SL_IO_READ);
    ASSERT_EQ(read(s->fds[0], &c, 1), 1);
    s->io_seen_at = s->rounds;
}

TEST(zero_delay_timer_restarting_itself_lets_io_run)
{
    struct spin s = { 0 };

    s.loop = new_loop();
    ASSERT_OK(pipe(s.fds));
    s.io = sl_io_new(s.loop, s.fds[0], SL_IO_READ, spin_io, &s);
    ASSERT(s.io != NULL);
    s.t = sl_timer_new(s.loop, spin_timer, &s);
    sl_timer_start(s.t, 0, 0);
    ASSERT_OK(sl_loop_run(s.loop));
    ASSERT_EQ(s.rounds, 200);
    /* The byte written in round 3 was read right after that round. */
    ASSERT_EQ(s.io_seen_at, 3);
    sl_io_free(s.io);
    sl_timer_free(s.t);
    close(s.fds[0]);
    close(s.fds[1]);
    sl_loop_free(s.loop);
}

/* A small deterministic generator (libc's is on the banned list). */
static uint32_t lcg_next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

struct heap_case {
    struct sl_loop *loop;
    int64_t due[500];
    bool stopped[500];
    int fired[500];
    int64_t last_due;
    int nfired, expect;
    bool order_ok;
};

struct heap_timer {
    struct heap_case *hc;
    int id;
};

static void heap_fire(void *arg)
{
    struct heap_timer *ht = arg;
    struct heap_case *hc = ht->hc;

    hc->fired[ht->id]++;
    if (hc->due[ht->id] < hc->last_due)
        hc->order_ok = false;
    hc->last_due = hc->due[ht->id];
    if (++hc->nfired == hc->expect)
        sl_loop_stop(hc->loop);
}

TEST(timer_heap_keeps_order_under_random_starts_and_stops)
{
    static struct heap_case hc;
    static struct heap_timer hts[500];
    struct sl_timer *ts[500];
    uint32_t seed = 12345;
    int i;

    memset(&hc, 0, sizeof(hc));
    hc.loop = new_loop();
    hc.order_ok = true;
    for (i = 0; i < 500; i++) {
        uint64_t d = lcg_next(&seed) % 40;
        hts[i].hc = &hc;
        hts[i].id = i;
        ts[i] = sl_timer_new(hc.loop, heap_fire, &hts[i]);
        sl_timer_start(ts[i], d, 0);
        hc.due[i] = sl_loop_now_ms(hc.loop) + (int64_t)d;
    }
    /* Restart a third with a new delay, stop a fifth. */
    for (i = 0; i < 500; i += 3) {
        uint64_t d = lcg_next(&seed) % 40;
        sl_timer_start(ts[i], d, 0);
        hc.due[i] = sl_loop_now_ms(hc.loop) + (int64_t)d;
    }
    for (i = 0; i < 500; i += 5) {
        sl_timer_stop(ts[i]);
        hc.stopped[i] = true;
    }
    for (i = 0; i < 500; i++)
        hc.expect += !hc.stopped[i];
    ASSERT_OK(sl_loop_run(hc.loop));
    ASSERT(hc.order_ok);
    for (i = 0; i < 500; i++) {
        ASSERT_EQ(hc.fired[i], hc.stopped[i] ? 0 : 1);
        sl_timer_free(ts[i]);
    }
    sl_loop_free(hc.loop);
}

/* ---- fd watchers ---- */

struct rw {
    struct sl_loop *loop;
    int p[2];
    struct sl_io *rio, *wio;
    struct sl_timer *t;
    char got[8];
    int ngot;
    int writable;
};

static void rw_read(void *arg, unsigned events)
{
    struct rw *s = arg;
    ssize_t n;

    ASSERT_EQ(events, SL_IO_READ);
    n = read(s->p[0], s->got + s->ngot, sizeof(s->got) - (size_t)s->ngot);
    ASSERT(n > 0);
    s->ngot += (int)n;
    if (s->ngot == 3)
        sl_loop_stop(s->loop);
}

static void rw_write(void *arg, unsigned events)
{
    struct rw *s = arg;

    ASSERT_EQ(events, SL_IO_WRITE);
    s->writable++;
    /* Stop asking: a level-triggered writable fd would fire forever. */
    ASSERT_OK(sl_io_set(s->wio, 0));
}

static void rw_tick(void *arg)
{
    struct rw *s = arg;

    ASSERT_EQ(write(s->p[1], "abc", 3), 3);
}

TEST(io_reports_read_and_write_readiness)
{
    struct rw s = { 0 };

    s.loop = new_loop();
    ASSERT_OK(pipe(s.p));
    s.rio = sl_io_new(s.loop, s.p[0], SL_IO_READ, rw_read, &s);
    s.wio = sl_io_new(s.loop, s.p[1], SL_IO_WRITE, rw_write, &s);
    ASSERT(s.rio != NULL && s.wio != NULL);
    ASSERT_EQ(sl_io_fd(s.rio), s.p[0]);
    s.t = sl_timer_new(s.loop, rw_tick, &s);
    sl_timer_start(s.t, 5, 0);
    ASSERT_OK(sl_loop_run(s.loop));
    ASSERT_EQ(s.ngot, 3);
    ASSERT_MEM_EQ(s.got, 3, "abc", 3);
    ASSERT_EQ(s.writable, 1);
    sl_io_free(s.rio);
    sl_io_free(s.wio);
    sl_timer_free(s.t);
    close(s.p[0]);
    close(s.p[1]);
    sl_loop_free(s.loop);
}

TEST(io_new_rejects_bad_fds)
{
    struct sl_loop *loop = new_loop();
    struct sl_io *a;
    int p[2];

    errno = 0;
    ASSERT(sl_io_new(loop, -1, SL_IO_READ, rw_read, NULL) == NULL);
    ASSERT_EQ(errno, EBADF);
    ASSERT_OK(pipe(p));
    a = sl_io_new(loop, p[0], SL_IO_READ, rw_read, NULL);
    ASSERT(a != NULL);
    /* The same fd twice on one loop is refused. */
    ASSERT(sl_io_new(loop, p[0], SL_IO_READ, rw_read, NULL) == NULL);
    ASSERT_EQ(errno, EEXIST);
    sl_io_free(a);
    close(p[0]);
    close(p[1]);
    sl_loop_free(loop);
}

struct hup {
    struct sl_loop *loop;
    int sv[2];
    struct sl_io *io;
    unsigned events;
    struct sl_timer *t;
};

static void hup_cb(void *arg, unsigned events)
{
    struct hup *h = arg;

    h->events = events;
    /* Free the watcher inside its own callback. */
    sl_io_free(h->io);
    h->io = NULL;
    sl_loop_stop(h->loop);
}

static void hup_close_peer(void *arg)
{
    struct hup *h = arg;

    /* Unread bytes first: HUP must fire without anyone reading them. */
    ASSERT_EQ(write(h->sv[1], "pending", 7), 7);
    close(h->sv[1]);
    h->sv[1] = -1;
}

TEST(io_hup_reports_peer_shutdown_without_reading)
{
    struct hup h = { 0 };

    h.loop = new_loop();
    ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, h.sv));
    h.io = sl_io_new(h.loop, h.sv[0], SL_IO_HUP, hup_cb, &h);
    ASSERT(h.io != NULL);
    h.t = sl_timer_new(h.loop, hup_close_peer, &h);
    sl_timer_start(h.t, 5, 0);
    ASSERT_OK(sl_loop_run(h.loop));
    ASSERT_EQ(h.events, SL_IO_HUP);
    ASSERT(h.io == NULL);
    sl_timer_free(h.t);
    close(h.sv[0]);
    sl_loop_free(h.loop);
}

struct pair {
    struct sl_loop *loop;
    int a[2], b[2];
    struct sl_io *ia, *ib;
    int calls;
};

static void pair_cb(void *arg, unsigned events)
{
    struct pair *p = arg;

    (void)events;
    p->calls++;
    /* Free both: whichever ran first, the other must not run. */
    sl_io_free(p->ia);
    sl_io_free(p->ib);
    p->ia = p->ib = NULL;
    sl_loop_stop(p->loop);
}

TEST(io_freed_during_dispatch_gets_no_pending_event)
{
    struct pair p = { 0 };

    p.loop = new_loop();
    ASSERT_OK(pipe(p.a));
    ASSERT_OK(pipe(p.b));
    ASSERT_EQ(write(p.a[1], "x", 1), 1);
    ASSERT_EQ(write(p.b[1], "y", 1), 1);
    p.ia = sl_io_new(p.loop, p.a[0], SL_IO_READ, pair_cb, &p);
    p.ib = sl_io_new(p.loop, p.b[0], SL_IO_READ, pair_cb, &p);
    ASSERT_OK(sl_loop_run(p.loop));
    ASSERT_EQ(p.calls, 1);
    close(p.a[0]);
    close(p.a[1]);
    close(p.b[0]);
    close(p.b[1]);
    sl_loop_free(p.loop);
}

/* ---- posted tasks and stop ---- */

#define POSTS_PER_THREAD 2000
#define POST_THREADS     4

struct posts {
    struct sl_loop *loop;
    int next[POST_THREADS]; /* loop thread only */
    int done;
    bool fifo_ok;
    pthread_t self;
    bool thread_ok;
};

struct post_item {
    struct posts *ps;
    int thread, seq;
};

static void post_task(void *arg)
{
    struct post_item *it = arg;
    struct posts *ps = it->ps;

    if (!pthread_equal(pthread_self(), ps->self))
        ps->thread_ok = false;
    if (ps->next[it->thread] != it->seq)
        ps->fifo_ok = false;
    ps->next[it->thread] = it->seq + 1;
    if (++ps->done == POSTS_PER_THREAD * POST_THREADS)
        sl_loop_stop(ps->loop);
    sl_free(it);
}

struct poster {
    struct posts *ps;
    int id;
};

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    int i;

    for (i = 0; i < POSTS_PER_THREAD; i++) {
        struct post_item *it = sl_xmalloc(sizeof(*it));
        it->ps = p->ps;
        it->thread = p->id;
        it->seq = i;
        if (sl_loop_post(p->ps->loop, post_task, it) != 0)
            abort();
    }
    return NULL;
}

TEST(post_from_threads_runs_fifo_on_the_loop_thread)
{
    struct posts ps = { 0 };
    struct poster pr[POST_THREADS];
    pthread_t th[POST_THREADS];
    int i;

    ps.loop = new_loop();
    ps.fifo_ok = ps.thread_ok = true;
    ps.self = pthread_self();
    for (i = 0; i < POST_THREADS; i++) {
        pr[i].ps = &ps;
        pr[i].id = i;
        ASSERT_EQ(pthread_create(&th[i], NULL, poster_main, &pr[i]), 0);
    }
    ASSERT_OK(sl_loop_run(ps.loop));
    for (i = 0; i < POST_THREADS; i++)
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    ASSERT_EQ(ps.done, POSTS_PER_THREAD * POST_THREADS);
    ASSERT(ps.fifo_ok);
    ASSERT(ps.thread_ok);
    sl_loop_free(ps.loop);
}

static void count_task(void *arg)
{
    (*(int *)arg)++;
}

TEST(tasks_still_queued_run_when_the_loop_is_freed)
{
    struct sl_loop *loop = new_loop();
    int n = 0;

    ASSERT_OK(sl_loop_post(loop, count_task, &n));
    ASSERT_OK(sl_loop_post(loop, count_task, &n));
    sl_loop_free(loop);
    ASSERT_EQ(n, 2);
}

static void *stopper_main(void *arg)
{
    struct timespec ts = { 0, 20 * 1000000L };

    nanosleep(&ts, NULL);
    sl_loop_stop(arg);
    return NULL;
}

static void reenter(void *arg)
{
    struct sl_loop *loop = arg;

    ASSERT_EQ(sl_loop_run(loop), SL_EBUSY);
}

TEST(stop_from_another_thread_wakes_an_idle_loop)
{
    struct sl_loop *loop = new_loop();
    pthread_t th;
    int64_t t0 = sl_time_mono_ns();

    /* Nothing registered: the loop sleeps in epoll_wait until woken. */
    ASSERT_OK(sl_loop_post(loop, reenter, loop));
    ASSERT_EQ(pthread_create(&th, NULL, stopper_main, loop), 0);
    ASSERT_OK(sl_loop_run(loop));
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT(sl_time_mono_ns() - t0 >= 15 * 1000000LL);
    /* A stop requested before run: run returns after one iteration. */
    sl_loop_stop(loop);
    ASSERT_OK(sl_loop_run(loop));
    sl_loop_free(loop);
}

TEST(now_ms_follows_the_monotonic_clock)
{
    struct sl_loop *loop = new_loop();
    struct sl_timer *t = sl_timer_new(loop, count_task, NULL);
    int64_t a, b;

    a = sl_loop_now_ms(loop);
    ASSERT(a >= 0);
    usleep(3000);
    sl_timer_start(t, 1000, 0); /* refreshes the cached time */
    b = sl_loop_now_ms(loop);
    ASSERT(b >= a + 3);
    ASSERT(b <= sl_time_mono_ns() / 1000000);
    sl_timer_free(t);
    sl_loop_free(loop);
}

/* ---- signals ---- */

struct sigs {
    struct sl_loop *loop;
    int got[3];
    int n;
};

static void on_signal(void *arg, int signo)
{
    struct sigs *s = arg;

    if (s->n < 3)
        s->got[s->n++] = signo;
    if (s->n == 2)
        sl_loop_stop(s->loop);
}

TEST(signals_arrive_on_the_loop_thread)
{
    struct sigs s = { 0 };

    /* No other thread runs in this test binary at this point. */
    s.loop = new_loop();
    ASSERT_EQ(sl_loop_signal(s.loop, SIGKILL, on_signal, &s), SL_EINVAL);
    ASSERT_EQ(sl_loop_signal(s.loop, 0, on_signal, &s), SL_EINVAL);
    ASSERT_EQ(sl_loop_signal(s.loop, 65, on_signal, &s), SL_EINVAL);
    ASSERT_OK(sl_loop_signal(s.loop, SIGUSR1, on_signal, &s));
    ASSERT_OK(sl_loop_signal(s.loop, SIGUSR2, on_signal, &s));
    /* Blocked now: raise() leaves it pending instead of killing us. */
    ASSERT_OK(raise(SIGUSR1));
    ASSERT_OK(kill(getpid(), SIGUSR2));
    ASSERT_OK(sl_loop_run(s.loop));
    ASSERT_EQ(s.n, 2);
    ASSERT((s.got[0] == SIGUSR1 && s.got[1] == SIGUSR2) ||
           (s.got[0] == SIGUSR2 && s.got[1] == SIGUSR1));
    /* Removing the handler drops later deliveries. */
    ASSERT_OK(sl_loop_signal(s.loop, SIGUSR1, NULL, NULL));
    ASSERT_OK(raise(SIGUSR1));
    sl_loop_stop(s.loop);
    ASSERT_OK(sl_loop_run(s.loop));
    ASSERT_EQ(s.n, 2);
    sl_loop_free(s.loop);
}

/* sl_loop_freeing: false while the loop runs, true for the tasks
 * sl_loop_free runs (what a Kafka call started then relies on). */
static int freeing_seen[2];

static void note_freeing(void *arg)
{
    struct sl_loop *loop = arg;

    freeing_seen[sl_loop_freeing(loop) ? 1 : 0]++;
    sl_loop_stop(loop);
}

TEST(freeing_is_true_only_inside_sl_loop_free)
{
    struct sl_loop *loop;

    ASSERT_OK(sl_loop_new(&loop));
    ASSERT(!sl_loop_freeing(loop));
    sl_loop_post(loop, note_freeing, loop);
    ASSERT_OK(sl_loop_run(loop));
    ASSERT_EQ(freeing_seen[0], 1);
    ASSERT_EQ(freeing_seen[1], 0);
    sl_loop_post(loop, note_freeing, loop);
    sl_loop_free(loop);
    ASSERT_EQ(freeing_seen[0], 1);
    ASSERT_EQ(freeing_seen[1], 1);
}

TEST_MAIN()
