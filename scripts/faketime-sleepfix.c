/* Preloaded before libfaketime by `make test-dated`.
 *
 * libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 rewrites deadlines on the monotonic
 * clock as if that clock were faked too: the wall-clock offset is applied to a deadline that is already
 * real. Faking the monotonic clock instead is worse: sem_clockwait() is not intercepted, so every
 * threading wait with a timeout hangs. So the monotonic clock stays real, and the two calls libfaketime
 * gets wrong with monotonic deadlines go straight to glibc/the kernel here; wall-clock waits still go
 * through libfaketime.
 *
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...): the kernel answered EINVAL, so Python's
 * time.sleep() and subprocess timeouts failed.
 *
 * pthread_cond_timedwait() on a condvar created with CLOCK_MONOTONIC: it timed out at once (37,886
 * returns in 50 ms for 5 ms waits, instead of 10). CPython's GIL is such a condvar with a 5 ms wait (the
 * switch interval): a thread waiting for the GIL spun and asked the holder to drop it at once, over and
 * over, so a process with busy threads crawled -- two busy threads did 18x less work, and a worker's
 * monitors sweep beside its consumer threads took 110-116 s instead of ~10 (docs/PERFORMANCE.md). Bit 1
 * of __wrefs is glibc's (>= 2.25) record of the condvar's clock (__PTHREAD_COND_CLOCK_MONOTONIC_MASK,
 * set by pthread_cond_init from the attribute); glibc's pthread_cond_clockwait (>= 2.30, not intercepted)
 * takes the real monotonic deadline as it is. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem) {
    if (clk != CLOCK_REALTIME && clk != CLOCK_TAI) {
        long r = syscall(SYS_clock_nanosleep, clk, flags, req, rem);
        return r == -1 ? errno : 0; /* clock_nanosleep returns the error number */
    }
    int (*next)(clockid_t, int, const struct timespec *, struct timespec *) =
        (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clk, flags, req, rem);
}

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *abstime) {
    if (__atomic_load_n(&cond->__data.__wrefs, __ATOMIC_RELAXED) & 2) /* a CLOCK_MONOTONIC condvar */
        return pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, abstime);
    static int (*next)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    if (!next) /* libfaketime's, for the current (2.3.2) condvar ABI */
        next = (int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))dlvsym(
            RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    return next(cond, mutex, abstime);
}
