#include "pid_choice.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>

namespace ilk {

pid_t clone_with_pid(pid_t want) {
#if defined(SYS_clone3) && defined(CLONE_ARGS_SIZE_VER1)
    pid_t tid = want;
    clone_args args{};
    args.exit_signal = SIGCHLD;
    args.set_tid = reinterpret_cast<std::uint64_t>(&tid);
    args.set_tid_size = 1;
    return static_cast<pid_t>(syscall(SYS_clone3, &args, CLONE_ARGS_SIZE_VER1));
#else
    (void)want;
    errno = ENOSYS;
    return -1;
#endif
}

pid_t fork_via_ns_last_pid(pid_t want, int tries, int* attempts) {
    for (int attempt = 1; attempt <= tries; ++attempt) {
        if (attempts) *attempts = attempt;
        std::ofstream out("/proc/sys/kernel/ns_last_pid");
        if (!(out << (want - 1) << std::flush)) return -1;  // errno from the write
        out.close();
        const pid_t p = fork();
        if (p == 0 || p == want || p < 0) return p;
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
    }
    errno = EBUSY;
    return -1;
}

pid_t fork_as(pid_t want) {
    if (want <= 0) return fork();
    // The process that had the PID may be dead and reaped, yet its PID not
    // freed for a moment more (EEXIST): it is wanted again at once on purpose.
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (const pid_t p = clone_with_pid(want); p >= 0 || errno != EEXIST) {
            if (p >= 0) return p;
            break;
        }
        usleep(2000);
    }
    return fork_via_ns_last_pid(want);
}

}  // namespace ilk
