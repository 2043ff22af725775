// A pool of worker threads that spin briefly between jobs: Parallel.forEachChunk's engine on Linux. Waking a sleeping
// thread through the kernel costs tens of microseconds (more in a virtual machine, where the wake-up is an
// inter-processor interrupt through the hypervisor), as long as a decode step's whole matrix-vector product; a worker
// that is still spinning picks the next job up in well under a microsecond. Workers spin for TK_POOL_SPIN_NS after
// their last job (yielding every few microseconds to any other thread that wants the core, such as a second MPI rank
// on it) and then sleep on a futex, so an idle process leaves the cores alone.
//
// Protocol. The caller publishes a job (function and context) and bumps `generation` to g; worker i claims chunk i
// (a job has exactly workers + 1 chunks) by moving `claimed[i]` from g - 1 to g, runs it and decrements `remaining`.
// The caller runs chunk 0, then claims every chunk no worker has claimed yet and runs it itself (a worker that the
// scheduler has not run yet, on a busy machine, costs at most its chunk done on the caller's core, not a wait), and
// returns once `remaining` is 0. Since every chunk is claimed and finished before the caller may publish the next
// job, the job's fields are stable while any worker that won its claim reads them; a late worker's claim fails.
// A worker that sleeps registers in `sleepers` before it re-checks the generation (both sequentially consistent), and
// the caller reads `sleepers` after bumping it, so a wake-up is never lost. Workers start inside the first job's
// call, before it bumps the generation from 0.
#include "CTailorKernels.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TK_RELAX() _mm_pause()
#else
#define TK_RELAX() ((void)0)
#endif

/// How long a worker spins after a job before it sleeps, and how long the caller spins for stragglers before it
/// starts yielding its core (so a worker that the scheduler parked on the caller's core can run).
#define TK_POOL_SPIN_NS 2000000
#define TK_POOL_CALLER_SPIN_NS 200000
#define TK_POOL_MAX_WORKERS 64

static struct {
    _Atomic uint32_t generation;
    _Atomic int32_t remaining;
    _Atomic int32_t sleepers;
    /// The generation whose chunk i was claimed last (index 0 unused).
    _Atomic uint32_t claimed[TK_POOL_MAX_WORKERS + 1];
    atomic_flag busy;
    tk_pool_task task;
    void *context;
    int32_t workers;
} pool = {.busy = ATOMIC_FLAG_INIT};

static _Thread_local int inside_pool_job;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int requested_workers;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/// Spins until `generation` differs from `seen`, then sleeps on it; returns the new generation.
static uint32_t await_generation(uint32_t seen) {
    int64_t deadline = now_ns() + TK_POOL_SPIN_NS;
    for (unsigned spins = 1;; spins++) {
        uint32_t current = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (current != seen) return current;
        TK_RELAX();
        if ((spins & 255) == 0) {
            if (now_ns() > deadline) break;
            sched_yield();   // every few microseconds: another runnable thread on this core (MPI ranks) goes first
        }
    }
    for (;;) {
        atomic_fetch_add(&pool.sleepers, 1);
        uint32_t current = atomic_load(&pool.generation);
        if (current == seen) futex_wait(&pool.generation, seen);
        atomic_fetch_sub(&pool.sleepers, 1);
        current = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (current != seen) return current;
    }
}

static void *worker_main(void *argument) {
    const int32_t index = (int32_t)(intptr_t)argument;  // chunk index: 1 ... workers
    inside_pool_job = 1;
    uint32_t seen = 0;  // workers start inside the first job's call, before it publishes generation 1
    for (;;) {
        seen = await_generation(seen);
        uint32_t previous = seen - 1;
        if (!atomic_compare_exchange_strong(&pool.claimed[index], &previous, seen)) continue;  // the caller took it
        pool.task(pool.context, (size_t)index);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
    }
    return NULL;
}

static void start_workers(void) {
    int wanted = requested_workers < TK_POOL_MAX_WORKERS ? requested_workers : TK_POOL_MAX_WORKERS;
    int started = 0;
    for (int i = 0; i < wanted; i++) {
        pthread_t thread;
        pthread_attr_t attributes;
        if (pthread_attr_init(&attributes) != 0) break;
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)(i + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    pool.workers = started;
}

int tk_pool_run(size_t chunks, tk_pool_task task, void *context) {
    if (chunks < 2 || inside_pool_job) return 0;
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return 0;
    requested_workers = (int)(chunks - 1);
    pthread_once(&pool_once, start_workers);
    if ((size_t)pool.workers + 1 != chunks) {
        atomic_flag_clear_explicit(&pool.busy, memory_order_release);
        return 0;
    }
    pool.task = task;
    pool.context = context;
    atomic_store_explicit(&pool.remaining, (int32_t)chunks - 1, memory_order_relaxed);
    const uint32_t generation = atomic_fetch_add(&pool.generation, 1) + 1;  // sequentially consistent: before `sleepers`
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.generation);

    inside_pool_job = 1;
    task(context, 0);
    for (size_t i = 1; i < chunks; i++) {
        uint32_t previous = generation - 1;
        if (atomic_compare_exchange_strong(&pool.claimed[i], &previous, generation)) {
            task(context, i);
            atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_relaxed);
        }
    }
    inside_pool_job = 0;

    int64_t yield_after = 0;
    for (unsigned spins = 1; atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0; spins++) {
        if (yield_after == 0) yield_after = now_ns() + TK_POOL_CALLER_SPIN_NS;
        if ((spins & 255) == 0 && now_ns() > yield_after) sched_yield();
        else TK_RELAX();
    }
    atomic_flag_clear_explicit(&pool.busy, memory_order_release);
    return 1;
}

#else

int tk_pool_run(size_t chunks, tk_pool_task task, void *context) {
    (void)chunks, (void)task, (void)context;
    return 0;
}

#endif
