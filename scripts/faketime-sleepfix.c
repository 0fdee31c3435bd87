/* Preloaded before libfaketime by `make test-dated`.
 *
 * libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 rewrites the deadline of
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...) as if the monotonic clock were faked, and the
 * kernel answers EINVAL: Python's time.sleep() and subprocess timeouts fail. Faking the monotonic clock
 * instead is worse: sem_clockwait() is not intercepted, so every threading wait with a timeout hangs.
 * So the monotonic clock stays real and sleeps on it go straight to the kernel; sleeps on the
 * (faked) wall clock still go through libfaketime. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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
