#include "sandbox.h"

#include "interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace ilk {

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::string SandboxResult::failure() const {
    if (completed) return {};
    if (timed_out) return "timed out";
    if (signal) return fmt::format("killed by {}", signal_name(signal));
    return fmt::format("exit code {}", exit_code);
}

namespace {

void write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

}  // namespace

SandboxResult run_sandboxed(const std::function<std::string()>& fn, std::chrono::milliseconds timeout) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        // Die with the harness. The child holds the run journal's fd (plugin
        // hooks journal through it), so a hook hung here would otherwise keep the
        // journal locked after a SIGKILLed kit: `ilk clean` would take the dead
        // run for a live one and leave all it made.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(4);
        close(fds[0]);
        std::string out;
        try {
            out = fn();
        } catch (...) {
            _exit(3);
        }
        write_all(fds[1], out);
        _exit(0);
    }
    close(fds[1]);
    SandboxResult r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            r.timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        const int n = g_interrupted.load() ? -1 : poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && (g_interrupted.load() || errno != EINTR)) {
            r.timed_out = true;  // interrupted: stop waiting for the child
            break;
        }
        if (n <= 0) continue;
        const ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // EOF: the child is done or dead
        r.payload.append(buf, static_cast<size_t>(got));
    }
    close(fds[0]);
    if (r.timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!r.timed_out) {
        if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
        if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
        r.completed = WIFEXITED(status) && r.exit_code == 0;
    }
    return r;
}

}  // namespace ilk
