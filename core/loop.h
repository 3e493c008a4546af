/*
 * core/loop.h - the event loop: fd watchers, timers, cross-thread tasks and
 * signals on one thread (Linux epoll, eventfd, signalfd).
 *
 * Threads. A loop and everything registered on it (watchers, timers, signal
 * handlers, and every object built on them) belong to one thread: the thread
 * running sl_loop_run(), or, while the loop is not running, the one thread
 * that set it up or tears it down. Only two functions may be called from any
 * thread at any time: sl_loop_post() and sl_loop_stop(). Everything else,
 * sl_loop_now_ms() included, runs on the owner thread; every callback runs
 * on the thread inside sl_loop_run().
 *
 * One iteration of sl_loop_run(): run the timers that are due, run the
 * posted tasks, wait for fd readiness (no longer than the next timer),
 * dispatch the ready watchers. Callbacks may start, stop and free any
 * watcher or timer, their own included; a freed watcher receives no further
 * callback, even one already reported ready in the same iteration.
 *
 *     struct sl_loop *loop;
 *     if (sl_loop_new(&loop) < 0) ...
 *     struct sl_timer *t = sl_timer_new(loop, on_tick, state);
 *     sl_timer_start(t, 100, 1000);   (first after 100 ms, then every 1 s)
 *     sl_loop_run(loop);              (until someone calls sl_loop_stop)
 *     sl_timer_free(t);
 *     sl_loop_free(loop);
 */
#ifndef SL_CORE_LOOP_H
#define SL_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct sl_loop;
struct sl_io;
struct sl_timer;

/* Readiness and interest bits of an fd watcher. */
enum {
    SL_IO_READ = 1u,  /* readable, or end of file / error (read to see) */
    SL_IO_WRITE = 2u, /* writable, or error (write to see) */
    SL_IO_HUP = 4u,   /* the peer shut down its side, or the fd has an error
                       * (EPOLLRDHUP/HUP/ERR); useful alone to notice a
                       * client going away without reading its bytes */
};

/*
 * A watcher's callback: 'events' holds the bits of its interest that are
 * ready (never 0). Loop thread.
 */
typedef void sl_io_fn(void *arg, unsigned events);

/* A timer's callback. Loop thread. */
typedef void sl_timer_fn(void *arg);

/* A posted task. Loop thread (see sl_loop_post and sl_loop_free). */
typedef void sl_task_fn(void *arg);

/* A signal handler: 'signo' is the signal received. Loop thread. */
typedef void sl_signal_fn(void *arg, int signo);

/* ---- the loop ---- */

/*
 * Create a loop; '*out' receives it, or NULL on failure. The calling thread
 * owns it. Returns 0, or SL_EIO (or another code mapped from errno) when
 * the kernel refuses an epoll or eventfd descriptor.
 */
int sl_loop_new(struct sl_loop **out);

/*
 * Free the loop: first runs, on the calling thread and in order, every task
 * still posted (so what they own is released), then closes the loop's
 * descriptors. Every watcher and timer must have been freed before; a loop
 * freed with any left aborts the process with a message (it is a bug that
 * would otherwise become a use after free). Must not be called while
 * sl_loop_run() is running, nor while another thread may still post.
 * Signals registered with sl_loop_signal() stay blocked. NULL is a no-op.
 */
void sl_loop_free(struct sl_loop *loop);

/*
 * Run the loop on the calling thread until sl_loop_stop() is called; a
 * stop requested before sl_loop_run() started makes it return after one
 * iteration. Returns 0 after a stop, SL_EBUSY when the loop is already
 * running (from a callback), or a code mapped from errno when epoll_wait()
 * fails (other than EINTR). The loop can be run again afterwards.
 */
int sl_loop_run(struct sl_loop *loop);

/*
 * Ask sl_loop_run() to return at the end of its current iteration. Any
 * thread, any time (including from a callback or a signal handler set with
 * sl_loop_signal). Never fails.
 */
void sl_loop_stop(struct sl_loop *loop);

/*
 * Whether sl_loop_free is running the tasks still queued: the loop will
 * not iterate again, so work that would hand its result back to the loop
 * later (a thread posting to it) must finish inline instead. Owner
 * thread.
 */
bool sl_loop_freeing(const struct sl_loop *loop);

/*
 * Queue fn(arg) to run on the loop thread, after tasks posted before it
 * (FIFO). Any thread. The task runs exactly once: in a later iteration of
 * sl_loop_run(), or from sl_loop_free() if the loop is freed first. A task
 * posted from a callback runs in the next iteration, not in the current
 * one. Returns 0 (the int is for future use; the call cannot fail now:
 * memory for the queue entry comes from sl_xmalloc).
 */
int sl_loop_post(struct sl_loop *loop, sl_task_fn *fn, void *arg);

/*
 * Milliseconds on the monotonic clock as of the start of the current loop
 * iteration (refreshed after each wait and by sl_timer_start), so that all
 * callbacks of one iteration see the same "now". Owner thread.
 */
int64_t sl_loop_now_ms(const struct sl_loop *loop);

/*
 * Deliver signal 'signo' to fn(arg, signo) on the loop thread, through a
 * signalfd. The signal is blocked for the calling thread with
 * pthread_sigmask(), which is the whole process only if this is called
 * before any other thread starts (threads inherit the mask when they are
 * created): call it from main() before starting threads, or a thread that
 * does not block the signal may receive it with its default action.
 * Registering the same signal again replaces the handler; fn == NULL
 * removes it (the signal stays blocked and deliveries are dropped).
 * Register a signal with one loop only. Returns 0, SL_EINVAL (a signal that
 * cannot be caught, like SIGKILL, or out of range) or a code mapped from
 * errno when signalfd() fails.
 */
int sl_loop_signal(struct sl_loop *loop, int signo, sl_signal_fn *fn,
                   void *arg);

/* ---- fd watchers ---- */

/*
 * Watch 'fd' (borrowed: the caller closes it, after sl_io_free) for the
 * SL_IO_* bits in 'events' (0 = registered but idle) and call cb(arg, ready)
 * while any is ready. Level-triggered: a callback that leaves data unread
 * is called again in the next iteration. Returns the watcher, or NULL when
 * epoll refuses the fd (errno is left set: EBADF, EPERM for regular files,
 * EEXIST when another watcher of this loop has the same fd); with 'events'
 * 0 nothing is registered yet, so that check waits for sl_io_set().
 */
struct sl_io *sl_io_new(struct sl_loop *loop, int fd, unsigned events,
                        sl_io_fn *cb, void *arg);

/*
 * Change the interest of 'io' to 'events'. Returns 0 or a code mapped from
 * errno (the fd was closed under the watcher).
 */
int sl_io_set(struct sl_io *io, unsigned events);

/* The fd 'io' watches. */
int sl_io_fd(const struct sl_io *io);

/*
 * Stop watching and free 'io'; safe from any callback, its own included.
 * Call it before closing the fd. NULL is a no-op.
 */
void sl_io_free(struct sl_io *io);

/* ---- timers ---- */

/*
 * Create a stopped timer that calls fn(arg) on the loop thread. Never fails
 * (memory from sl_xmalloc).
 */
struct sl_timer *sl_timer_new(struct sl_loop *loop, sl_timer_fn *fn, void *arg);

/*
 * (Re)start 't': first call after 'delay_ms', then every 'repeat_ms' (0 =
 * once) counted from when each call is made. A running timer is restarted.
 * Timers due at the same millisecond fire in the order they were started;
 * a timer started from a timer callback, even with delay 0, fires in a
 * later iteration, so a zero-delay timer is a way to run something soon.
 */
void sl_timer_start(struct sl_timer *t, uint64_t delay_ms, uint64_t repeat_ms);

/* Stop 't' (no-op when stopped). It may be started again. */
void sl_timer_stop(struct sl_timer *t);

/* True when 't' is started and has not fired (or repeats). */
bool sl_timer_active(const struct sl_timer *t);

/*
 * Stop and free 't'; safe from any callback, its own included. NULL is a
 * no-op.
 */
void sl_timer_free(struct sl_timer *t);

#endif
