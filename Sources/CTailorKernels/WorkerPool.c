// A pool of worker threads that spin briefly between jobs: Parallel.forEachChunk's engine on Linux. Waking a sleeping
// thread through the kernel costs tens of microseconds (more in a virtual machine, where the wake-up is an
// inter-processor interrupt through the hypervisor), as long as a decode step's whole matrix-vector product; a worker
// that is still spinning picks the next job up in well under a microsecond. Workers spin for TK_POOL_SPIN_NS after
// their last job (yielding every few microseconds to any other thread that wants the core, such as a second MPI rank
// on it) and then sleep on a futex, so an idle process leaves the cores alone.
//
// Protocol. The caller publishes a job (function, context) and its ticket — generation g, its part count and the
// next part to claim, 0 — and then bumps `generation` to g, which the workers wait on. Every thread, the caller
// included, claims parts by advancing the ticket's next part with a compare-and-swap that also checks the generation
// and the count, runs each part it claimed and decrements `remaining`; the caller returns once `remaining` is 0. The
// job's fields are stable while any part is unfinished, and a part can only be claimed from the ticket of its own
// job, so a worker that wakes up late for a finished job finds no part (or a newer ticket) and never runs a stale one.
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

#define TK_POOL_MAX_PARTS 65535

static struct {
    _Atomic uint32_t generation;
    /// generation << 32 | parts << 16 | next part to claim.
    _Atomic uint64_t ticket;
    _Atomic int32_t remaining;
    _Atomic int32_t sleepers;
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

/// Claims and runs parts of job `generation` until none is left (or a newer job has replaced it).
static void run_parts(uint32_t generation) {
    uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    for (;;) {
        const uint32_t next = (uint32_t)(ticket & 0xFFFF), parts = (uint32_t)((ticket >> 16) & 0xFFFF);
        if ((uint32_t)(ticket >> 32) != generation || next >= parts) return;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &ticket, ticket + 1, memory_order_acquire,
                                                   memory_order_acquire)) continue;   // `ticket` now holds the new value
        pool.task(pool.context, next);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
        ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
    }
}

static void *worker_main(void *argument) {
    (void)argument;
    inside_pool_job = 1;
    uint32_t seen = 0;  // workers start inside the first job's call, before it publishes generation 1
    for (;;) {
        seen = await_generation(seen);
        run_parts(seen);
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

int tk_pool_run(size_t threads, size_t parts, tk_pool_task task, void *context) {
    if (threads < 2 || parts < 2 || parts > TK_POOL_MAX_PARTS || inside_pool_job) return 0;
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return 0;
    requested_workers = (int)(threads - 1);
    pthread_once(&pool_once, start_workers);
    if ((size_t)pool.workers + 1 != threads) {
        atomic_flag_clear_explicit(&pool.busy, memory_order_release);
        return 0;
    }
    pool.task = task;
    pool.context = context;
    atomic_store_explicit(&pool.remaining, (int32_t)parts, memory_order_relaxed);
    const uint32_t generation = atomic_load_explicit(&pool.generation, memory_order_relaxed) + 1;
    atomic_store(&pool.ticket, (uint64_t)generation << 32 | (uint64_t)parts << 16);
    atomic_store(&pool.generation, generation);   // sequentially consistent: before `sleepers`
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.generation);

    inside_pool_job = 1;
    run_parts(generation);
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

int tk_pool_run(size_t threads, size_t parts, tk_pool_task task, void *context) {
    (void)threads, (void)parts, (void)task, (void)context;
    return 0;
}

#endif
